#!/usr/bin/env python3
"""Summarise the results of scripts/bench.sh as Markdown, with each target.

    report.py RESULTS_DIR TARGET_DIR

RESULTS_DIR is the folder that scripts/bench.sh fills; TARGET_DIR is its
cargo target folder, where criterion keeps its estimates. Sections whose
results are missing are left out. MB means 10^6 bytes and MiB 2^20 bytes.
"""

import io
import json
import pathlib
import re
import sys
import zipfile

MB = 1_000_000


def read_json(path: pathlib.Path):
    try:
        return json.loads(path.read_text(encoding="utf-8").strip().splitlines()[-1])
    except (OSError, IndexError, ValueError):
        return None


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def criterion_median_ns(target_dir: pathlib.Path, bench_id: str):
    estimates = read_json_whole(target_dir / "criterion" / bench_id / "new" / "estimates.json")
    return estimates["median"]["point_estimate"] if estimates else None


def read_json_whole(path: pathlib.Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def parse_wrk(path: pathlib.Path):
    text = path.read_text(encoding="utf-8")
    figures = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    figures["p99_ms"] = float(p99.group(1)) * scale[p99.group(2)]
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if non_2xx:
        errors += int(non_2xx.group(1))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sockets:
        errors += sum(int(value) for value in sockets.groups())
    figures["errors"] = errors
    figures["requests"] = int(re.search(r"(\d+) requests in", text).group(1))
    return figures


def time_v(path: pathlib.Path):
    """Return the maximum RSS (KiB) and elapsed seconds of a `/usr/bin/time -v` report."""
    text = path.read_text(encoding="utf-8")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text).group(1)
    seconds = 0.0
    for part in elapsed.split(":"):
        seconds = seconds * 60 + float(part)
    return rss, seconds


def serving(results: pathlib.Path, lines: list):
    folder = results / "serving"
    if not (folder / "nginx-page.txt").exists():
        return
    lines += ["## Serving", "",
              "| resource | badges-local req/s | nginx req/s | ratio (target ≥ 0.5) | badges-local p99 (target < 5 ms) "
              "| nginx p99 | errors (target 0) | server CPU per request: badges-local / nginx |",
              "|---|---|---|---|---|---|---|---|"]
    for resource, name in (("assertion JSON", "assertion"), ("award page", "page")):
        ours = parse_wrk(folder / f"badges-{name}.txt")
        theirs = parse_wrk(folder / f"nginx-{name}.txt")
        ratio = ours["requests_per_second"] / theirs["requests_per_second"]
        cpu = [cpu_per_request_us(folder / f"{server}-{name}.cpu.json", run["requests"])
               for server, run in (("badges", ours), ("nginx", theirs))]
        cpu_text = " / ".join("n/a" if value is None else f"{value:.1f} µs" for value in cpu)
        lines.append(
            f"| {resource} | {ours['requests_per_second']:,.0f} | {theirs['requests_per_second']:,.0f} "
            f"| {ratio:.2f} ({verdict(ratio >= 0.5)}) | {ours['p99_ms']:.2f} ms ({verdict(ours['p99_ms'] < 5)}) "
            f"| {theirs['p99_ms']:.2f} ms | {ours['errors']} ({verdict(ours['errors'] == 0)}); nginx {theirs['errors']} "
            f"| {cpu_text} |")
    lines.append("")


def cpu_per_request_us(path: pathlib.Path, requests: int):
    """Return the server's CPU microseconds per request of one wrk run, or None."""
    run = read_json(path)
    if run is None or requests == 0:
        return None
    return run["server_cpu_seconds"] * 1e6 / requests


def zipped_size(path: str):
    """Return the size of a deployment zip holding only this file as `bootstrap`, or None."""
    buffer = io.BytesIO()
    try:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            archive.write(path, "bootstrap")
    except OSError:
        return None
    return len(buffer.getvalue())


def cold_start(results: pathlib.Path, lines: list):
    folder = results / "cold-start"
    files = sorted(folder.glob("*.json")) if folder.exists() else []
    if not files:
        return
    lines += ["## Cold start", "",
              "| function | init median (target < 10 ms) | init p90 / max | handler median | first response median "
              "| peak RSS max (target < 40 MB) | share of 128 MiB | `time -v` max RSS | bootstrap (target < 8 MB) "
              "| deployment zip | response |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for path in files:
        run = read_json(path)
        if run is None:
            continue
        init = run["init_ms"]
        rss_bytes = run["peak_rss_kib"]["max"] * 1024
        extra = run.get("time_v_run") or {}
        time_rss = extra.get("time_max_rss_kib")
        time_rss_text = f"{time_rss * 1024 / MB:.1f} MB" if time_rss else "n/a"
        size = run["bootstrap_bytes"]
        zipped = zipped_size(run["bootstrap"])
        zipped_text = f"{zipped / MB:.2f} MB" if zipped else "n/a"
        lines.append(
            f"| {path.stem} | {init['median']:.1f} ms ({verdict(init['median'] < 10)}) "
            f"| {init['p90']:.1f} / {init['max']:.1f} ms "
            f"| {run['handler_ms']['median']:.1f} ms | {run['first_response_ms']['median']:.1f} ms "
            f"| {rss_bytes / MB:.1f} MB ({verdict(rss_bytes < 40 * MB)}) | {rss_bytes / (128 * 2**20):.0%} "
            f"| {time_rss_text} | {size / MB:.2f} MB ({verdict(size < 8 * MB)}) | {zipped_text} "
            f"| {', '.join(run['outcomes'])} |")
    lines.append("")


def import_section(results: pathlib.Path, target_dir: pathlib.Path, lines: list):
    folder = results / "import"
    if not folder.exists():
        return
    lines += ["## Import into the embedded store", "",
              "| rows | awards created | parse | import (parse, write, queue) | per 1,000 rows | process peak RSS | targets |",
              "|---|---|---|---|---|---|---|"]
    per_row = {}
    for rows in (5000, 50000, 500000):
        run = read_json(folder / f"rows-{rows}.json")
        if run is None:
            continue
        rss_kib, _ = time_v(folder / f"rows-{rows}.time.txt")
        per_row[rows] = run["import_seconds"] / rows
        target = ""
        if rows == 50000:
            target = (f"< 5 s: {verdict(run['import_seconds'] < 5)}; "
                      f"< 200 MB: {verdict(rss_kib * 1024 < 200 * MB)}")
        lines.append(
            f"| {rows:,} | {run['created']:,} | {run['parse_seconds']:.3f} s | {run['import_seconds']:.3f} s "
            f"| {per_row[rows] * 1000 * 1000:.1f} ms | {rss_kib * 1024 / MB:.1f} MB | {target} |")
    if 5000 in per_row and 500000 in per_row:
        growth = per_row[500000] / per_row[5000]
        lines += ["", f"Time per row at 500,000 rows is {growth:.2f} times the time per row at 5,000 rows "
                      f"(1.00 would be exactly linear)."]
    lines.append("")

    bench_rows = []
    for group in ("parse_roster", "import_roster"):
        for rows in (5000, 50000):
            median = criterion_median_ns(target_dir, f"{group}/{rows}")
            if median is not None:
                bench_rows.append(f"| {group} | {rows:,} | {median / 1e9:.3f} s | {median / rows / 1000:.2f} µs |")
    if bench_rows:
        lines += ["Criterion (in-process, median of 10 samples):", "",
                  "| benchmark | rows | median | per row |", "|---|---|---|---|"] + bench_rows + [""]

    for name, label in (("hyperfine-small.json", "5,000 and 50,000"), ("hyperfine-500k.json", "500,000")):
        data = read_json_whole(folder / name)
        if data:
            lines.append(f"hyperfine, whole process (generate, parse, import) for {label} rows:")
            lines.append("")
            for result in data["results"]:
                lines.append(f"- `{result['command'].rsplit('/', 1)[-1]}`: mean {result['mean']:.3f} s "
                             f"± {result['stddev'] or 0:.3f} s over {len(result['times'])} runs")
            lines.append("")

    dynamo = read_json(folder / "dynamodb-requests.json")
    if dynamo:
        first, again = dynamo["first_import"], dynamo["re_import"]
        lines += [f"DynamoDB requests for {dynamo['rows']:,} rows, counted against moto:", "",
                  "| import | awards | write requests | per award | write items per award | read requests | per row | operations |",
                  "|---|---|---|---|---|---|---|---|"]
        for label, run in (("first", first), ("re-import", again)):
            operations = ", ".join(f"{name} {count['requests']}" for name, count in sorted(run["operations"].items()))
            lines.append(f"| {label} | {run['awards']:,} | {run['write_requests']} | {run['write_requests_per_award']:.3f} "
                         f"| {run['write_items_per_award']:.2f} | {run['read_requests']} "
                         f"| {run['read_requests_per_row']:.3f} | {operations} |")
        lines += ["", f"First import: at most 1.1 write requests per award: "
                      f"{verdict(first['write_requests_per_award'] <= 1.1)}. "
                      f"Re-import: no write requests: {verdict(again['write_requests'] == 0)}.", ""]


def baking(results: pathlib.Path, target_dir: pathlib.Path, lines: list):
    bakery = read_json(results / "baking" / "openbadges-bakery.json")
    if bakery is None:
        return
    lines += ["## Baking", "",
              "| image | operation | badges (per second) | openbadges-bakery 2.0 (per second) | ratio (target ≥ 10 for the round trip) |",
              "|---|---|---|---|---|"]
    for image in ("png", "svg"):
        for operation in ("bake", "unbake", "round_trip"):
            median = criterion_median_ns(target_dir, f"baking/{operation}/{image}")
            if median is None:
                continue
            ours = 1e9 / median
            theirs = bakery[image][operation]["per_second"]
            ratio = ours / theirs
            mark = f" ({verdict(ratio >= 10)})" if operation == "round_trip" else ""
            lines.append(f"| {image.upper()} {bakery[image]['input_bytes']:,} bytes | {operation} | {ours:,.0f} "
                         f"| {theirs:,.1f} | {ratio:,.0f}{mark} |")
    lines.append("")


def mail(results: pathlib.Path, lines: list):
    run = read_json(results / "mail" / "ses-pacing.json")
    if run is None:
        return
    lines += ["## Mail", "",
              f"{run['messages']:,} messages at a configured {run['configured_rate']:g} messages per second: "
              f"{run['send_email_requests']:,} SendEmail requests, {run['failed']} failed, achieved "
              f"{run['achieved_rate']:.2f} messages per second over {run['first_to_last_request_seconds']:.1f} s, "
              f"at most {run['max_requests_in_any_1s_window']} requests in any 1-second window "
              f"(target ≤ {run['configured_rate']:g}: "
              f"{verdict(run['max_requests_in_any_1s_window'] <= run['configured_rate'])}).", ""]


def main():
    results = pathlib.Path(sys.argv[1])
    target_dir = pathlib.Path(sys.argv[2])
    lines = ["# Benchmark results", ""]
    machine = results / "machine.txt"
    if machine.exists():
        lines += ["```", machine.read_text(encoding="utf-8").strip(), "```", ""]
    load = results / "load.tsv"
    if load.exists():
        lines += ["Load average (1, 5, 15 min) at the start of each section:", ""]
        lines += [f"- {line.split(chr(9))[0]}: {line.split(chr(9))[1]}" for line in load.read_text().splitlines() if line]
        lines.append("")
    serving(results, lines)
    cold_start(results, lines)
    import_section(results, target_dir, lines)
    baking(results, target_dir, lines)
    mail(results, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
