# SPDX-License-Identifier: MIT
"""Functional-test target: one thread that splits wall time 75/25 between hot() and cold().

Usage: python clock_split.py SECONDS

Each 40 ms cycle spends its first 30 ms busy in hot() and the last 10 ms busy in cold(), both
driven by time.perf_counter(), so a wall-clock sampler must see hot in 75% of its samples
whatever the machine's speed. Prints one JSON line {"pid", "native_id", "hot": [first, last],
"cold": [first, last]} (the functions' line ranges) and then runs for SECONDS; it also stops
when its parent goes away. Runs unchanged on CPython 3.9 to 3.15.
"""

import json
import os
import sys
import threading
import time

HOT_SECONDS = 0.030
CYCLE_SECONDS = 0.040


def hot(until):
    while time.perf_counter() < until:
        pass


def cold(until):
    while time.perf_counter() < until:
        pass


def line_range(fn):
    code = fn.__code__
    if hasattr(code, "co_lines"):
        lines = [line for _, _, line in code.co_lines() if line is not None]
    else:
        import dis
        lines = [line for _, line in dis.findlinestarts(code)]
    return [code.co_firstlineno, max(lines)]


def run(seconds):
    parent = os.getppid()
    end = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        if start >= end or os.getppid() != parent:
            return
        hot(start + HOT_SECONDS)
        cold(start + CYCLE_SECONDS)


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    info = {"pid": os.getpid(), "native_id": threading.get_native_id(),
            "hot": line_range(hot), "cold": line_range(cold)}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    run(seconds)
