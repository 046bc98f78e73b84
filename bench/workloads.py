# SPDX-License-Identifier: MIT
"""Target programs for bench/run.py: the processes being profiled.

    python3.15 bench/workloads.py KIND [--depth N] [--threads N] [--counter FILE] [--report SEC]

KIND is one of:
  mixed        calls, arithmetic and string operations, a few levels deep
  deep_static  recursion to --depth (default 900), then spins in the bottom frame: the frame
               chain never changes, only the bottom frame's instruction pointer
  deep_active  recursion to --depth (default 900), then at the bottom keeps calling and
               returning 1-5 extra levels, so the top of the stack changes all the time
  threads      --threads (default 100) threads, each alternating a CPU slice with a 5 ms sleep
  calls        tiny functions called in tight loops (the call/return path of the interpreter)
  pipeline     generator pipelines driven by sum() (source -> square -> evens, and a generator
               expression): the top frame changes every few hundred nanoseconds

Throughput: every workload counts its iterations (one iteration is a few tens of
microseconds of work, fixed per KIND). With --counter FILE it stores the count as a
little-endian u64 at offset 0 of FILE (shared mmap, so a reader sees it without any help from
this process) and sets the u64 at offset 8 to 1 once it has reached its steady state (stack at
full depth, threads started). With --report SEC it also prints "iterations/s: X" every SEC
seconds on stdout, for a person watching it.

Only the standard library; runs on 3.9+ (the benchmark uses 3.15).
"""

import argparse
import mmap
import os
import struct
import sys
import threading
import time

_U64 = struct.Struct("<Q")


class Counter:
    """Iteration count published through a shared mapping (or nowhere)."""

    def __init__(self, path):
        self.n = 0
        self.mm = None
        if path:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size < 4096:
                    os.ftruncate(fd, 4096)
                self.mm = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            finally:
                os.close(fd)

    # One slice assignment is one 8-byte memcpy (struct.pack_into would store byte by byte,
    # and a reader could see a half-written count).
    def publish(self, n):
        if self.mm is not None:
            self.mm[0:8] = _U64.pack(n)

    def ready(self):
        if self.mm is not None:
            self.mm[8:16] = _U64.pack(1)


# --- mixed ---------------------------------------------------------------------------------

def _arith(n):
    s = 0
    for i in range(n):
        s += (i * i) % 7
    return s


def _strings(k):
    words = [str(i * k) for i in range(40)]
    text = "-".join(words)
    return len(text.upper().replace("1", "one").split("-"))


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


class _Shape:
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


def _objects(n):
    return sum(_Shape(i, i + 1).area() for i in range(n))


def _nested(level, k):
    if level == 0:
        return _arith(50) + _strings(k)
    return _nested(level - 1, k) + 1


def run_mixed(counter):
    counter.ready()
    n = 0
    while True:
        k = n & 7
        _arith(100)
        _strings(k)
        _fib(10)
        _objects(20)
        _nested(k % 4, k)
        n += 1
        counter.publish(n)


# --- deep stacks ---------------------------------------------------------------------------

def _spin_forever(counter):
    counter.ready()
    n = 0
    x = 1
    while True:
        for _ in range(200):
            x = (x * 3 + 1) % 1000003
        n += 1
        counter.publish(n)


def _static_descend(depth, counter):
    if depth <= 1:
        _spin_forever(counter)
    return _static_descend(depth - 1, counter) + 1


def run_deep_static(counter, depth):
    # deep_static: the caller frames sit at the same line forever; the bottom frame spins.
    _static_descend(depth - 2, counter)  # + <module> + run_deep_static ~= depth frames


def _churn(k):
    if k == 0:
        return 1
    return _churn(k - 1) + k


def _churn_forever(counter):
    counter.ready()
    n = 0
    while True:
        for k in (1, 3, 5, 2, 4):
            _churn(k)
            _churn(k + 1)
        n += 1
        counter.publish(n)


def _active_descend(depth, counter):
    if depth <= 1:
        _churn_forever(counter)
    return _active_descend(depth - 1, counter) + 1


def run_deep_active(counter, depth):
    _active_descend(depth - 2, counter)


# --- threads -------------------------------------------------------------------------------

def _slice(n):
    x = 0
    for i in range(n):
        x += i ^ (x & 255)
    return x


def _worker(counts, idx, stop):
    while not stop.is_set():
        _slice(300)
        counts[idx] += 1
        if counts[idx] % 2 == 0:
            time.sleep(0.005)


def run_threads(counter, nthreads):
    counts = [0] * nthreads
    stop = threading.Event()
    threads = [threading.Thread(target=_worker, args=(counts, i, stop), daemon=True,
                                name=f"worker-{i}") for i in range(nthreads)]
    for t in threads:
        t.start()
    counter.ready()
    while True:
        time.sleep(0.02)
        counter.publish(sum(counts))


# --- calls ---------------------------------------------------------------------------------

def _add(a, b):
    return a + b


def _inc(x):
    return _add(x, 1)


def _ident(x):
    return x


def _noop():
    pass


def run_calls(counter):
    counter.ready()
    n = 0
    x = 0
    while True:
        for _ in range(100):
            x = _inc(x)
            x = _ident(x)
            _noop()
            x = _add(x, -1)
        n += 1
        counter.publish(n)


# --- pipeline ------------------------------------------------------------------------------

def _source(n):
    for i in range(n):
        yield i


def _square(it):
    for x in it:
        yield x * x


def _evens(it):
    for x in it:
        if x % 2 == 0:
            yield x


def run_pipeline(counter):
    counter.ready()
    n = 0
    while True:
        sum(_evens(_square(_source(2000))))
        sum(x for x in range(2000))
        n += 1
        counter.publish(n)


def _reporter(counter_box, every):
    last_n, last_t = 0, time.monotonic()
    while True:
        time.sleep(every)
        n, t = counter_box.n, time.monotonic()
        print(f"iterations/s: {(n - last_n) / (t - last_t):.1f}", flush=True)
        last_n, last_t = n, t


class _ReportingCounter(Counter):
    def publish(self, n):
        self.n = n
        super().publish(n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["mixed", "deep_static", "deep_active", "threads", "calls",
                                         "pipeline"])
    ap.add_argument("--depth", type=int, default=900)
    ap.add_argument("--threads", type=int, default=100)
    ap.add_argument("--counter", help="publish the iteration count in this file")
    ap.add_argument("--report", type=float, metavar="SEC",
                    help="also print iterations/s every SEC seconds (adds a thread)")
    a = ap.parse_args(argv)

    counter = (_ReportingCounter if a.report else Counter)(a.counter)
    if a.report:
        threading.Thread(target=_reporter, args=(counter, a.report), daemon=True).start()
    if a.kind.startswith("deep"):
        sys.setrecursionlimit(a.depth + 1000)
    try:
        if a.kind == "mixed":
            run_mixed(counter)
        elif a.kind == "deep_static":
            run_deep_static(counter, a.depth)
        elif a.kind == "deep_active":
            run_deep_active(counter, a.depth)
        elif a.kind == "threads":
            run_threads(counter, a.threads)
        elif a.kind == "pipeline":
            run_pipeline(counter)
        else:
            run_calls(counter)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
