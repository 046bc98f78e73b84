# SPDX-License-Identifier: MIT
"""Functional-test target for `tachyon-c stats`. Runs on 3.9 to 3.15.

    alloc_mix.py snapshot VIEW.json MALLOCSTATS.txt
        Allocates a known mix of objects across the size classes, makes some cyclic garbage
        and collects it, sets non-default GC thresholds, disables the GC (so no collection
        runs between recording and reading), records its own view (sys.getallocatedblocks(),
        gc.get_stats(), gc.get_threshold(), gc.get_count(), gc.isenabled()) into VIEW.json and
        sys._debugmallocstats() into MALLOCSTATS.txt (the C-level stderr, redirected), then
        prints "ready" and blocks in os.read() until stdin closes. Everything printed after the
        statistics is prepared beforehand, so the heap stays as it was recorded.

    alloc_mix.py churn
        Prints "ready", then allocates and frees objects of every size class without pause,
        growing and shrinking the heap so arenas come and go, until stdin closes (checked
        between rounds) or the process is killed.
"""

import gc
import json
import os
import random
import select
import sys


class Node:
    def __init__(self, i):
        self.i = i
        self.other = None


def make_mix():
    keep = []
    keep.append([str(i) * 3 for i in range(40000)])            # small str objects
    keep.append([(i, -i) for i in range(20000)])                # 2-tuples
    keep.append([{"k": i} for i in range(4000)])                # dicts
    keep.append([bytes(n % 497) for n in range(24000)])         # bytes of every class
    keep.append([[0] * (i % 64) for i in range(6000)])          # lists, item arrays
    keep.append([float(i) for i in range(10000)])               # floats
    keep.append([Node(i) for i in range(3000)])                 # instances and their dicts
    return keep


def make_garbage(n):
    """Cycles the collector has to find."""
    for i in range(n):
        a, b = Node(i), Node(-i)
        a.other, b.other = b, a


def snapshot(view_path, stats_path):
    keep = make_mix()
    make_garbage(2000)
    gc.collect()
    make_garbage(500)
    gc.collect(0)
    gc.set_threshold(900, 12, 11)
    gc.disable()
    vfd = os.open(view_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sfd = os.open(stats_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = os.dup(2)
    ready = b"ready\n"
    doc = b""
    # Twice: the first pass creates whatever the recording itself allocates lazily, so the
    # second one records a heap that nothing below changes any more.
    for _ in range(2):
        view = {
            "pid": os.getpid(),
            "version": "%d.%d.%d" % sys.version_info[:3],
            "threshold": list(gc.get_threshold()),
            "count": list(gc.get_count()),
            "stats": [dict(s) for s in gc.get_stats()],
            "enabled": gc.isenabled(),
            "allocated_blocks": sys.getallocatedblocks(),
            "objects": sum(len(k) for k in keep),
        }
        doc = json.dumps(view).encode()
    os.write(vfd, doc)
    os.close(vfd)
    os.dup2(sfd, 2)
    sys._debugmallocstats()
    os.dup2(saved, 2)
    os.write(1, ready)
    while os.read(0, 1):
        pass
    return keep


def churn():
    rnd = random.Random(1234)
    live = []
    os.write(1, b"ready\n")
    rounds = 0
    while True:
        for _ in range(2000):
            n = rnd.randrange(1, 500)
            live.append(bytes(n) if n % 3 else [None] * (n // 8))
        if len(live) > 250000:
            # drop a large slice: whole arenas become free and are returned
            del live[: rnd.randrange(100000, 240000)]
        rounds += 1
        if rounds % 16 == 0:
            r, _, _ = select.select([0], [], [], 0)
            if r and not os.read(0, 1):
                return


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "churn":
        churn()
    else:
        sys.exit("usage: alloc_mix.py snapshot VIEW MALLOCSTATS | churn")
