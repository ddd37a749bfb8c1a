#!/usr/bin/env python3
"""Time openbadges-bakery on the inputs of the Rust baking benchmark.

    bakery_timing.py DIR

DIR holds the files that `bench-fixtures` writes: badge.png, badge.svg,
assertion.json and verify-url.txt. For each format the script times
`openbadges_bakery.bake`, `openbadges_bakery.unbake` of the baked image,
and one bake followed by one unbake (a round trip), all in memory with
io.BytesIO, and prints one JSON object with the median time per operation
in seconds and the operations per second derived from it.
"""

import io
import json
import pathlib
import statistics
import sys
import time

import openbadges_bakery

REPEATS = 7
MIN_REPEAT_SECONDS = 0.3


def per_operation_seconds(operation):
    """Return the median seconds of one call, over REPEATS timed loops."""
    loops = 1
    while True:
        started = time.perf_counter()
        for _ in range(loops):
            operation()
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_REPEAT_SECONDS:
            break
        loops *= 2
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(loops):
            operation()
        samples.append((time.perf_counter() - started) / loops)
    return statistics.median(samples)


def main():
    folder = pathlib.Path(sys.argv[1])
    assertion = (folder / "assertion.json").read_text(encoding="utf-8")
    verify_url = (folder / "verify-url.txt").read_text(encoding="utf-8")
    images = {"png": (folder / "badge.png").read_bytes(), "svg": (folder / "badge.svg").read_bytes()}
    # The SVG baker writes the Assertion's id to the verify attribute, and
    # its unbake returns that attribute when present.
    expected = {"png": assertion, "svg": verify_url}

    results = {"openbadges_bakery_version": "2.0.0", "python": sys.version.split()[0]}
    for name, image in images.items():
        def bake(image=image):
            return openbadges_bakery.bake(io.BytesIO(image), assertion, io.BytesIO()).getvalue()

        baked = bake()
        read_back = openbadges_bakery.unbake(io.BytesIO(baked))
        if read_back != expected[name]:
            raise SystemExit(f"openbadges-bakery read back {read_back[:80]!r} from the baked {name}")

        def unbake(baked=baked):
            return openbadges_bakery.unbake(io.BytesIO(baked))

        def round_trip(bake=bake):
            return openbadges_bakery.unbake(io.BytesIO(bake()))

        figures = {}
        for operation_name, operation in (("bake", bake), ("unbake", unbake), ("round_trip", round_trip)):
            seconds = per_operation_seconds(operation)
            figures[operation_name] = {"seconds": seconds, "per_second": 1.0 / seconds}
        results[name] = {"input_bytes": len(image), "baked_bytes": len(baked), **figures}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
