# SPDX-License-Identifier: MIT
"""The prefetched walk (one batched read learned from the previous walk, as when sampling)
must produce exactly the stacks of a cold walk, on every interpreter."""

import json

from conftest import run_tc, start_stacks


def test_cached_walk_equals_cold_walk(interp, procs, tmp_path):
    p, views = start_stacks(procs, interp, tmp_path)
    cold = run_tc("dump", p.pid, "--json")
    assert cold.returncode == 0, cold.stderr
    warm = run_tc("dump", p.pid, "--json", "--walks", "5")
    assert warm.returncode == 0, warm.stderr
    a, b = json.loads(cold.stdout), json.loads(warm.stdout)
    assert a["threads"] == b["threads"]
    assert sum(len(t["frames"]) for t in a["threads"]) >= 3000  # the deep thread is there
    assert p.finish() == 0
