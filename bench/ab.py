#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A/B: two builds of tachyon-c on the same targets, in the same run, rounds interleaved.

    bench/ab.py --a OLD/tachyon-c --b build/tachyon-c [--python NAME] [--rounds N]
                [--seconds S] [--workloads mixed,deep_active,calls,pipeline] [--markdown FILE]

For each workload (bench/workloads.py, on the manifest's interpreter NAME, default
debian-3.15) one target process is started and `tachyon-c bench PID -d S --json` is run
alternately with A and B, ROUNDS times each (A B A B ...: drift of the noisy machine hits both
alike). Reported per workload: the median microseconds per sample of each and B/A (below 1: B is
cheaper), and B's share of thread stacks left out (torn on every try) and recorded cut. Made to
measure what a change to the walker costs (issue 10's second read: A = the build before it).
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="baseline tachyon-c binary")
    ap.add_argument("--b", required=True, help="tachyon-c binary under test")
    ap.add_argument("--python", default="debian-3.15", help="manifest name of the target's "
                    "interpreter (default debian-3.15)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--workloads", default="mixed,deep_active,calls,pipeline")
    ap.add_argument("--markdown", help="also write the table to this file")
    a = ap.parse_args(argv)

    python = bench.manifest_python(a.python)
    procs = bench.Procs()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="tachyon-ab-") as tmp:
            tmp = Path(tmp)
            for w in a.workloads.split(","):
                t = bench.Target(procs, python, [w], tmp)
                got = {"a": [], "b": []}
                left = trunc = samples = 0
                for r in range(a.rounds):
                    for side in ("a", "b"):
                        binary = getattr(a, side)
                        res, _ = bench.run_json(procs, [binary, "bench", t.pid, "-d",
                                                        a.seconds, "--json"],
                                                a.seconds + 60, tmp)
                        if "us_per_sample" not in res:
                            sys.exit(f"ab: {side} failed on {w}: {res.get('error')}")
                        got[side].append(res["us_per_sample"])
                        if side == "b":
                            samples += res.get("samples", 0)
                            left += res.get("left_out", 0)
                            trunc += res.get("truncated", 0)
                t.close()
                ma, mb = statistics.median(got["a"]), statistics.median(got["b"])
                rows.append((w, ma, mb, mb / ma, left / max(1, samples), trunc / max(1, samples)))
                bench.log(f"{w}: A {ma:.2f} us, B {mb:.2f} us, B/A {mb / ma:.2f}")
    finally:
        procs.cleanup()
    lines = ["| workload | A us/sample | B us/sample | B/A | B left out | B cut |",
             "|---|---|---|---|---|---|"]
    for w, ma, mb, q, lo, tr in rows:
        lines.append(f"| {w} | {ma:.2f} | {mb:.2f} | {q:.2f} | {100 * lo:.2f}% | "
                     f"{100 * tr:.2f}% |")
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(
            f"A = `{a.a}`, B = `{a.b}`, target interpreter {a.python}, {a.rounds} rounds of "
            f"{a.seconds:g} s each, interleaved; medians. Left out / cut: share of B's "
            "samples (one thread per target except pipeline's sum loop, also one).\n\n"
            + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
