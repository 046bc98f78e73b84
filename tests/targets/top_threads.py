# SPDX-License-Identifier: MIT
"""Functional-test target for `top`'s thread view: two threads doing different things.

Usage: python top_threads.py SECONDS

The main thread splits wall time 75/25 between hot() and cold() (as clock_split.py); a second
thread sleeps in idle_wait(). Prints one JSON line {"pid", "main_native_id",
"worker_native_id"} once both run, then runs for SECONDS; it also stops when its parent goes
away. Runs unchanged on CPython 3.9 to 3.15.
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


def idle_wait(stop):
    while not stop.is_set():
        time.sleep(0.05)


def worker(stop, ready, box):
    box["native_id"] = threading.get_native_id()
    ready.set()
    idle_wait(stop)


def main(seconds):
    parent = os.getppid()
    stop, ready, box = threading.Event(), threading.Event(), {}
    t = threading.Thread(target=worker, args=(stop, ready, box), daemon=True)
    t.start()
    ready.wait()
    info = {"pid": os.getpid(), "main_native_id": threading.get_native_id(),
            "worker_native_id": box["native_id"]}
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    end = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        if start >= end or os.getppid() != parent:
            break
        hot(start + HOT_SECONDS)
        cold(start + CYCLE_SECONDS)
    stop.set()
    t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]))
