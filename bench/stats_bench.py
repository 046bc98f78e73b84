#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What `tachyon-c stats` costs: the allocator summary and the full per-class walk.

    /usr/bin/python3 bench/stats_bench.py                      # ~1 minute on 2 CPUs
    /usr/bin/python3 bench/stats_bench.py --interpreters debian-3.15,pyenv-3.12.1 --heap-mb 100

For each interpreter (names from the manifest of scripts/provision.sh), starts ONE target that
fills pymalloc with about --heap-mb MiB of small objects of every size class (bytes, tuples,
lists, dicts, str), then blocks in read() so the heap holds still; then runs, --rounds times,
`tachyon-c stats PID --bench N` (a hidden option: N summaries back to back, then N full walks,
each timed with CLOCK_MONOTONIC; syscalls from tachyon-c's own read counters). Prints a Markdown
table of medians across rounds (and min-max of the per-round medians); --json FILE keeps every
round. Nothing is written elsewhere; every process started is killed at the end, on Ctrl-C and
on SIGTERM.

  summary   counters + arena array + GC state (2 process_vm_readv) + /proc/PID/statm (pread)
  walk      the summary plus one 40-byte read of every carved pool header, 1,024 per syscall
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = "debian-3.9,debian-3.11,pyenv-3.12.1,debian-3.13,debian-3.15"

# The target: ~HEAP MiB of small objects, then parked.
TARGET = r"""
import os, sys, random
mib = int(sys.argv[1])
rnd = random.Random(7)
keep, total = [], 0
while total < mib << 20:
    n = rnd.randrange(1, 480)
    k = rnd.randrange(5)
    if k == 0:
        o = bytes(n)
    elif k == 1:
        o = tuple(range(n // 16))
    elif k == 2:
        o = [None] * (n // 16)
    elif k == 3:
        o = {i: None for i in range(n // 64)}
    else:
        o = "x" * n
    keep.append(o)
    total += sys.getsizeof(o)
os.write(1, b"ready\n")
while os.read(0, 1):
    pass
"""


def manifest():
    r = subprocess.run([os.path.join(REPO, "scripts", "provision.sh")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, check=True)
    path = r.stdout.strip().splitlines()[-1]
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                name, cmd, version, kind = line.rstrip("\n").split("\t")
                out[name] = (cmd, version, kind)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interpreters", default=DEFAULT, help="manifest names (default %(default)s)")
    ap.add_argument("--heap-mb", type=int, default=100)
    ap.add_argument("--calls", type=int, default=200, help="summaries and walks per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tachyon", default=os.path.join(REPO, "build", "tachyon-c"))
    ap.add_argument("--json", metavar="FILE", help="write every round as JSON")
    args = ap.parse_args()

    interps = manifest()
    children = []

    def cleanup(*_):
        for p in children:
            if p.poll() is None:
                p.kill()
                p.wait()
        sys.exit(1)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)
    results = {}
    try:
        for name in args.interpreters.split(","):
            if name not in interps:
                sys.exit("unknown interpreter %s (manifest: %s)" % (name, ", ".join(interps)))
            cmd, version, kind = interps[name]
            p = subprocess.Popen([cmd, "-c", TARGET, str(args.heap_mb)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            children.append(p)
            if p.stdout.readline() != b"ready\n":
                sys.exit("%s: target did not start" % name)
            rounds = []
            for _ in range(args.rounds):
                r = subprocess.run([args.tachyon, "stats", str(p.pid), "--bench", str(args.calls)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   universal_newlines=True)
                if r.returncode != 0:
                    sys.exit("%s: tachyon-c failed (%d): %s" % (name, r.returncode, r.stderr))
                rounds.append(json.loads(r.stdout))
            results[name] = {"version": version, "kind": kind, "rounds": rounds}
            p.stdin.close()
            p.wait(30)
    finally:
        for p in children:
            if p.poll() is None:
                p.kill()
                p.wait()

    def med(rounds, sec, key):
        vals = [r[sec][key] for r in rounds]
        return statistics.median(vals), min(vals), max(vals)

    print("| interpreter | heap (arenas, MiB in use) | pools | summary us median (min-max) "
          "| syscalls | walk ms median (min-max) | walk p90 ms | syscalls |")
    print("|---|---|---|---|---|---|---|---|")
    for name, res in results.items():
        rs = res["rounds"]
        h = rs[-1]["heap"]
        s, smin, smax = med(rs, "summary_us", "median")
        w, wmin, wmax = med(rs, "walk_ms", "median")
        wp90 = statistics.median(r["walk_ms"]["p90"] for r in rs)
        print("| %s (%s) | %d, %.0f | %d | %.1f (%.1f-%.1f) | %.0f | %.2f (%.2f-%.2f) | %.2f | %.0f |"
              % (name, res["version"], h["arenas"], h["bytes_in_use"] / 2**20, h["pools_read"],
                 s, smin, smax, rs[-1]["summary_us"]["syscalls"], w, wmin, wmax, wp90,
                 rs[-1]["walk_ms"]["syscalls"]))
    print("\n%d rounds x %d calls each; target parked in read(); %s; %d CPUs; %s"
          % (args.rounds, args.calls, os.uname().release, os.cpu_count(),
             time.strftime("%Y-%m-%d")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
