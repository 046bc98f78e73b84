# SPDX-License-Identifier: MIT
"""The prefetched walk (one batched read learned from the previous walk, as when sampling)
must produce exactly the stacks of a cold walk, on every interpreter."""

import json

from conftest import parse_collapsed, run_tc, start_stacks


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


def test_sampled_stacks_equal_cold_walk(interp, procs, tmp_path):
    """Sampling reuses, per thread, the bottom of the last sample's stack when its frames are
    unchanged (the frame cache). On parked threads every sample after the first goes through
    that path: each recorded stack must still be exactly the cold walk's stack."""
    p, views = start_stacks(procs, interp, tmp_path)
    cold = run_tc("dump", p.pid, "--json")
    assert cold.returncode == 0, cold.stderr
    want = set()
    for t in json.loads(cold.stdout)["threads"]:
        want.add(tuple((f["file"], f["qualname"], f["line"]) for f in reversed(t["frames"])))
    r = run_tc("attach", p.pid, "-r", "2khz", "-d", "1", "-f", "collapsed", "-o", "-")
    assert r.returncode == 0, r.stderr
    got = {}
    for _tid, frames, count in parse_collapsed(r.stdout):
        got[tuple(frames)] = got.get(tuple(frames), 0) + count
    assert set(got) == want
    # every thread was sampled many times: most samples went through the cached path
    assert min(got.values()) >= 200, got.values()
    assert p.finish() == 0
