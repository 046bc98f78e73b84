#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fail `make check` when the unit tests checked less than they claim.

meson counts a test program that exits 77 as SKIP and still exits 0, and a unit test that is
not built (a file missing from tests/unit/meson.build, or -Dtests=disabled) is simply not
there. This reads BUILD/meson-logs/testlog.json of the `meson test` run just made and exits 1
when any test was skipped or when a tests/unit/test_NAME.c did not run as test NAME.

Usage: scripts/check_results.py BUILD_DIR
"""

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    log = Path(argv[1]) / "meson-logs" / "testlog.json"
    try:
        lines = log.read_text().splitlines()
    except OSError as e:
        print("check_results: cannot read %s: %s" % (log, e), file=sys.stderr)
        return 1
    results = {}
    for line in lines:
        if line.strip():
            t = json.loads(line)
            results[t["name"].rsplit(":", 1)[-1].strip()] = t
    problems = []
    for name, t in sorted(results.items()):
        if t["result"] == "SKIP":
            reason = [l for l in (t.get("stderr") or t.get("stdout") or "").splitlines()
                      if l.startswith("  ")]
            problems.append("%s was skipped (exit 77)%s" % (name, (":\n" + "\n".join(reason)) if reason else ""))
    for src in sorted((REPO / "tests" / "unit").glob("test_*.c")):
        name = src.stem[len("test_"):]
        if name not in results:
            problems.append("tests/unit/%s did not run (not in tests/unit/meson.build, or "
                            "unit tests disabled)" % src.name)
    if problems:
        print("check_results: %d problem(s) in %s:" % (len(problems), log), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print("check_results: %d meson tests, none skipped, every tests/unit/test_*.c ran" % len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
