# SPDX-License-Identifier: MIT
"""Cost of one sample taken by CPython's own sampler (the C core of `profiling.sampling`).

    python3.15 bench/cpython_sampler.py PID SECONDS

Constructs `_remote_debugging.RemoteUnwinder(pid, all_threads=True, cache_frames=True)` once
(what `profiling.sampling attach -a` does) and calls `get_stack_trace()` back to back for
SECONDS. Each call is timed on its own with perf_counter, as CPython's
Tools/inspection/benchmark_external_inspection.py does; `us_per_sample` is the summed call
time over the number of calls. A call that raises, or returns no thread with a frame, counts
as a failed sample (exception types are tallied, and messages with numbers masked). Every 32nd successful result is
walked outside the timed region to count threads, frames, and thread stacks that came back
empty.

Prints one JSON object on stdout.
"""

import json
import re
import sys
import time

import _remote_debugging


def count(trace):
    threads = frames = empty = 0
    for interp in trace:
        for t in interp.threads:
            threads += 1
            frames += len(t.frame_info)
            empty += not t.frame_info
    return threads, frames, empty


def main():
    pid, seconds = int(sys.argv[1]), float(sys.argv[2])
    unwinder = _remote_debugging.RemoteUnwinder(pid, all_threads=True, cache_frames=True)
    get = unwinder.get_stack_trace
    clock = time.perf_counter
    attempts = failed = counted = threads = frames = empty = 0
    errors, messages = {}, {}
    work = 0.0
    cpu0 = time.process_time()
    start = clock()
    end = start + seconds
    while True:
        t0 = clock()
        if t0 >= end:
            break
        try:
            trace = get()
            t1 = clock()
        except Exception as e:  # every failure mode costs one sample, as in the real sampler
            t1 = clock()
            trace = None
            name = type(e).__name__
            errors[name] = errors.get(name, 0) + 1
            key = f"{name}: " + re.sub(r"0x[0-9a-fA-F]+|\d+", "N", str(e))[:160]
            if key in messages or len(messages) < 20:
                messages[key] = messages.get(key, 0) + 1
        work += t1 - t0
        attempts += 1
        if not trace:
            failed += 1
            continue
        if attempts % 32 == 0:
            nt, nf, ne = count(trace)
            threads += nt
            frames += nf
            empty += ne
            counted += 1
    wall = clock() - start
    cpu = time.process_time() - cpu0
    ok = attempts - failed
    print(json.dumps({
        "sampler": "cpython", "python": sys.version.split()[0],
        "samples": attempts, "failed": failed, "errors": errors, "messages": messages,
        "seconds": wall, "work_seconds": work,
        "us_per_sample": work / attempts * 1e6 if attempts else None,
        "wall_us_per_sample": wall / attempts * 1e6 if attempts else None,
        "samples_per_sec": ok / wall if wall else None,
        "cpu_seconds": cpu,
        "cpu_us_per_sample": cpu / attempts * 1e6 if attempts else None,
        "threads_per_sample": threads / counted if counted else None,
        "frames_per_sample": frames / counted if counted else None,
        "empty_thread_stacks": empty / threads if threads else None,
    }))


if __name__ == "__main__":
    main()
