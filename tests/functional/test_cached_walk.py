# SPDX-License-Identifier: MIT
"""The prefetched walk (one batched read learned from the previous walk, as when sampling) and
the sampled stacks (frame cache, chain memo) must be exactly what each thread of
tests/targets/stacks.py recorded of itself with sys._getframe(), on every interpreter.

The expectation is the target's own view, never another tachyon-c command: a bug shared by
the cold and the cached paths must fail here too."""

import json

from conftest import parse_collapsed, run_tc, start_stacks

FIELDS = ("file", "qualname", "line")


def own_view(v):
    """A thread's recorded frames as collapsed stacks hold them: root first."""
    return tuple(tuple(f[k] for k in FIELDS) for f in reversed(v["frames"]))


def first_difference(want, got):
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return "frame %d from the root: want %r, got %r" % (i, w, g)
    return "%d frames wanted, %d got (first extra: %r)" % (
        len(want), len(got), (want[len(got):] or got[len(want):])[:1])


def test_cached_walk_equals_target_view(interp, procs, tmp_path):
    p, views = start_stacks(procs, interp, tmp_path)
    want = {v["native_id"]: own_view(v) for v in views["threads"]}
    for walks in ("1", "5"):  # a cold walk, then the fifth of five (reads from the batch)
        r = run_tc("dump", p.pid, "--json", "--walks", walks)
        assert r.returncode == 0, r.stderr
        got = {t["native_id"]: tuple(tuple(f[k] for k in FIELDS) for f in reversed(t["frames"]))
               for t in json.loads(r.stdout)["threads"]}
        assert set(got) == set(want), "walks %s: threads %r, target has %r" % (
            walks, sorted(got), sorted(want))
        for tid in want:
            assert got[tid] == want[tid], "walks %s, thread %d: %s" % (
                walks, tid, first_difference(want[tid], got[tid]))
    assert max(len(s) for s in want.values()) >= 3000  # the deep thread is there
    assert p.finish() == 0


def test_sampled_stacks_equal_target_view(interp, procs, tmp_path):
    """Sampling reuses, per thread, the bottom of the last sample's stack when its frames are
    unchanged (the frame cache). On parked threads every sample after the first goes through
    that path: each recorded stack must still be exactly the thread's own view."""
    p, views = start_stacks(procs, interp, tmp_path)
    want = {v["native_id"]: own_view(v) for v in views["threads"]}
    r = run_tc("attach", p.pid, "-r", "2khz", "-d", "1", "-f", "collapsed", "-o", "-")
    assert r.returncode == 0, r.stderr
    got = {}
    for tid, frames, count in parse_collapsed(r.stdout):
        got.setdefault(tid, {})
        got[tid][tuple(frames)] = got[tid].get(tuple(frames), 0) + count
    assert set(got) == set(want), "sampled threads %r, target has %r" % (sorted(got), sorted(want))
    for tid, stacks in got.items():
        wrong = [s for s in stacks if s != want[tid]]
        assert not wrong, "thread %d: %d stacks that are not its own view, e.g. %s" % (
            tid, len(wrong), first_difference(want[tid], wrong[0]))
    # wall mode records every thread in every successful sample: the same count for each
    counts = {tid: sum(stacks.values()) for tid, stacks in got.items()}
    assert len(set(counts.values())) == 1, counts
    # a second sample at least, so that the cached path was taken
    assert min(counts.values()) >= 2, counts
    assert p.finish() == 0
