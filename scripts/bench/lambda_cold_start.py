#!/usr/bin/env python3
"""Measure the cold start of a Lambda bootstrap against a local stand-in
for the Lambda Runtime API.

    lambda_cold_start.py --bootstrap PATH --event FILE [--runs N]
                         [--before-run COMMAND] [--time-output FILE]

The script serves the Runtime API endpoints that a custom runtime calls
(`GET /2018-06-01/runtime/invocation/next`, `POST .../{id}/response`,
`POST .../{id}/error` and `POST .../runtime/init/error`) on 127.0.0.1 and
starts the bootstrap with `AWS_LAMBDA_RUNTIME_API` pointing at it. The
other variables (function settings, AWS endpoint and credentials) come
from this script's environment. Each run measures, on one monotonic clock:

- init: from just before the process is spawned to its first `next`
  request, which the runtime sends once `main` has built its clients;
- handler: from sending the event to receiving the response;
- first response: from the spawn to the response;
- peak RSS: `VmHWM` of the process after the response.

The first `next` request gets the event. A later `next` is held open, as
Lambda does while no event waits, and the process is then stopped with
SIGTERM. With `--time-output`, one more run goes through
`/usr/bin/time -v`, whose maximum resident set size is reported as well.
The result is one JSON object on standard output.
"""

import argparse
import http.server
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

API_PREFIX = "/2018-06-01"
RUN_TIMEOUT_SECONDS = 30.0


class Invocation:
    """State of one run, shared between the HTTP handler and the driver."""

    def __init__(self, event: bytes):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.first_next_at = None
        self.event_sent_at = None
        self.response_at = None
        self.response_body = b""
        self.outcome = None  # "response", "error" or "init_error"
        self.done = threading.Event()
        self.stop = threading.Event()


class RuntimeApiHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lambda-runtime-stand-in"

    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        pass

    def _invocation(self) -> Invocation:
        return self.server.invocation

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        invocation = self._invocation()
        if self.path != f"{API_PREFIX}/runtime/invocation/next":
            self._send(404, b'{"errorMessage":"unknown path"}')
            return
        if invocation.first_next_at is None:
            invocation.first_next_at = time.perf_counter()
            deadline_ms = int(time.time() * 1000) + 30_000
            headers = {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0",
            }
            invocation.event_sent_at = time.perf_counter()
            self._send(200, invocation.event, headers)
            return
        # No second event: hold the request until the run ends.
        invocation.stop.wait(RUN_TIMEOUT_SECONDS)
        self.close_connection = True

    def do_POST(self):
        invocation = self._invocation()
        body = self._read_body()
        now = time.perf_counter()
        if self.path == f"{API_PREFIX}/runtime/invocation/{invocation.request_id}/response":
            invocation.outcome = "response"
        elif self.path == f"{API_PREFIX}/runtime/invocation/{invocation.request_id}/error":
            invocation.outcome = "error"
        elif self.path == f"{API_PREFIX}/runtime/init/error":
            invocation.outcome = "init_error"
        else:
            self._send(404, b'{"errorMessage":"unknown path"}')
            return
        invocation.response_at = now
        invocation.response_body = body
        self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        invocation.done.set()


class RuntimeApiServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.invocation = None

    def handle_error(self, request, client_address):
        # A stopped bootstrap resets its open connections, which is expected.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def peak_rss_kib(pid: int):
    """Return VmHWM of a process in KiB, or None when it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def child_pids(pid: int):
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            return [int(value) for value in children.read().split()]
    except OSError:
        return []


def time_max_rss_kib(path: str):
    with open(path, encoding="utf-8") as report:
        for line in report:
            if "Maximum resident set size" in line:
                return int(line.rsplit(":", 1)[1])
    return None


def response_summary(body: bytes) -> str:
    """Return the HTTP status of an API Gateway response, or the start of any other response."""
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and "statusCode" in document:
        return str(document["statusCode"])
    return body[:60].decode("utf-8", errors="replace")


def wait_for_response(invocation, process) -> bool:
    """Wait for the response of the run; return False when the process exits first or time runs out."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if invocation.done.wait(0.01):
            return True
        if process.poll() is not None:
            return invocation.done.is_set()
    return False


def log_tail(path, lines=20):
    if not path:
        return "(no --log file was given)"
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})"


def run_once(args, time_output=None):
    """Start the bootstrap once against a new stand-in and measure it.

    Each run gets its own server on a new port, so that a request that a
    stopped process left in the listen queue cannot take the next run's event.
    """
    server = RuntimeApiServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return measure(server, args, time_output)
    finally:
        server.shutdown()
        server.server_close()


def measure(server, args, time_output):
    invocation = Invocation(args.event_bytes)
    server.invocation = invocation
    env = dict(os.environ)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    command = [args.bootstrap]
    if time_output:
        command = ["/usr/bin/time", "-v", "-o", time_output] + command

    log = open(args.log, "ab") if args.log else subprocess.DEVNULL
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        finished = wait_for_response(invocation, process)
        target = process.pid
        if time_output:
            children = child_pids(process.pid)
            target = children[0] if children else None
        rss = peak_rss_kib(target) if target else None
    finally:
        invocation.stop.set()
        if process.poll() is None:
            if time_output:
                for child in child_pids(process.pid):
                    os.kill(child, signal.SIGTERM)
            else:
                process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not subprocess.DEVNULL:
            log.close()

    if not finished:
        raise SystemExit(f"{args.bootstrap}: exited or sent no response within {RUN_TIMEOUT_SECONDS:.0f} s; "
                         f"its output:\n{log_tail(args.log)}")
    if invocation.first_next_at is None:
        raise SystemExit(f"{args.bootstrap}: reported an init error before asking for an event: "
                         f"{invocation.response_body[:500]!r}")
    result = {
        "init_ms": (invocation.first_next_at - started) * 1000,
        "handler_ms": (invocation.response_at - invocation.event_sent_at) * 1000,
        "first_response_ms": (invocation.response_at - started) * 1000,
        "peak_rss_kib": rss,
        "outcome": invocation.outcome,
        "status": response_summary(invocation.response_body),
    }
    if time_output:
        result["time_max_rss_kib"] = time_max_rss_kib(time_output)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="path of the bootstrap executable")
    parser.add_argument("--event", required=True, help="JSON file sent as the first event")
    parser.add_argument("--runs", type=int, default=10, help="number of timed cold starts (default 10)")
    parser.add_argument("--before-run", help="shell command run before every start, outside the timing")
    parser.add_argument("--time-output", help="file for /usr/bin/time -v of one extra run")
    parser.add_argument("--log", help="file that receives the bootstrap's standard output and error")
    args = parser.parse_args()
    with open(args.event, "rb") as event:
        args.event_bytes = event.read()

    runs = []
    for _ in range(args.runs):
        if args.before_run:
            subprocess.run(args.before_run, shell=True, check=True)
        runs.append(run_once(args))
    extra = None
    if args.time_output:
        if args.before_run:
            subprocess.run(args.before_run, shell=True, check=True)
        extra = run_once(args, time_output=args.time_output)

    def summary(key):
        values = [run[key] for run in runs if run[key] is not None]
        if not values:
            return None
        ordered = sorted(values)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]  # nearest-rank percentile
        return {"median": statistics.median(values), "p90": p90, "min": ordered[0], "max": ordered[-1]}

    print(json.dumps({
        "bootstrap": args.bootstrap,
        "bootstrap_bytes": os.path.getsize(args.bootstrap),
        "event": args.event,
        "runs": len(runs),
        "init_ms": summary("init_ms"),
        "handler_ms": summary("handler_ms"),
        "first_response_ms": summary("first_response_ms"),
        "peak_rss_kib": summary("peak_rss_kib"),
        "outcomes": sorted({f"{run['outcome']} {run['status']}" for run in runs}),
        "time_v_run": extra,
    }))


if __name__ == "__main__":
    sys.exit(main())
