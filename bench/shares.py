#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the second read does to a busy thread's samples, per interpreter.

    bench/shares.py [--tachyon build/tachyon-c] [--interp NAME,...] [--workloads mixed,pipeline]
                    [--rate 1k] [--seconds 2] [--markdown FILE]

For each interpreter (manifest names; default one per minor) and workload (bench/workloads.py),
start the target, run `tachyon-c attach PID -r RATE -d SECONDS -f summary`, and report the
shares of its thread stacks that were recorded cut (`<truncated>`), recorded with an
`<unconfirmed>` leaf, recorded as walked although no second read agreed (unverified), and left
out (see README "Every stack is read twice"). Shares, not times: the machine's load changes
them a little, not their order of magnitude.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

NOTES = {
    "cut": r"note: (\d+) thread stacks were recorded cut",
    "unconfirmed": r"note: (\d+) thread stacks end in",
    "unverified": r"note: (\d+) thread stacks were recorded as read",
    "left out": r"note: (\d+) thread stacks were left out",
}
DEFAULT_INTERP = "debian-3.9,pyenv-3.10.13,debian-3.11,pyenv-3.12.1,debian-3.13,debian-3.14,debian-3.15"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tachyon", default=str(bench.ROOT / "build" / "tachyon-c"))
    ap.add_argument("--interp", default=DEFAULT_INTERP)
    ap.add_argument("--workloads", default="mixed,pipeline")
    ap.add_argument("--rate", default="1k")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--markdown")
    a = ap.parse_args(argv)
    rows = []
    for name in a.interp.split(","):
        python = bench.manifest_python(name)
        for w in a.workloads.split(","):
            p = subprocess.Popen([python, str(bench.BENCH / "workloads.py"), w],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            try:
                time.sleep(1.5)  # past start-up and specialisation
                out = subprocess.run([a.tachyon, "attach", str(p.pid), "-r", a.rate, "-d",
                                      str(a.seconds), "-f", "summary"], capture_output=True,
                                     text=True, timeout=a.seconds + 60).stdout
            finally:
                p.kill()
                p.wait()
            m = re.search(r"(\d+) thread-samples", out)
            recorded = int(m.group(1)) if m else 0
            got = {k: int(x.group(1)) if (x := re.search(v, out)) else 0
                   for k, v in NOTES.items()}
            total = recorded + got["left out"]  # left-out stacks are not thread-samples
            shares = {k: 100.0 * n / max(1, total) for k, n in got.items()}
            rows.append((name, w, total, shares))
            bench.log(f"{name} {w}: " + ", ".join(f"{k} {v:.1f}%" for k, v in shares.items()))
    lines = ["| interpreter | workload | thread stacks | cut | unconfirmed | unverified | "
             "left out |", "|---|---|---|---|---|---|---|"]
    for name, w, total, sh in rows:
        lines.append(f"| {name} | {w} | {total} | {sh['cut']:.1f}% | {sh['unconfirmed']:.1f}% "
                     f"| {sh['unverified']:.1f}% | {sh['left out']:.1f}% |")
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        Path(a.markdown).write_text(f"`attach -r {a.rate} -d {a.seconds:g}`, one run each.\n\n"
                                    + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
