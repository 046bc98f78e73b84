# SPDX-License-Identifier: MIT
"""`tachyon-c bench`, text and --json, against tests/targets/h5_gil.py (four threads whose
stacks are known: the spinner's and three blocked ones).

Nothing here asserts how fast anything is (bench/ does that): the figures must be present,
agree with each other (rates with counts and seconds, cache hits with the frames walked) and
with the target (frames per sample is the sum of its threads' depths)."""

import json
import math
import re

import pytest

from conftest import run_tc
from gil_target import start_gil

SUBSET = ("debian-3.9", "debian-3.11", "pyenv-3.12.1", "debian-3.15")


def close(a, b, rel=1e-6, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def target_frames(g):
    return sum(len(t["frames"]) for t in g.doc["threads"])


@pytest.mark.interpreters(*SUBSET)
def test_bench_json_fields_consistent(interp, procs, tmp_path):
    g = start_gil(procs, interp, tmp_path, "main")
    r = run_tc("bench", g.proc.pid, "-d", "0.5", "--json")
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    d = json.loads(r.stdout)
    assert d["pid"] == g.proc.pid and d["python"] == interp.version
    assert d["target_exited"] is False
    n, failed = d["samples"], d["failed"]
    assert n >= 1 and 0 <= failed <= n and d["retries"] >= 0, d
    assert d["seconds"] >= 0.5, d["seconds"]  # -d is a lower bound: it stops after 0.5 s
    assert close(d["us_per_sample"], d["seconds"] * 1e6 / n), d
    assert close(d["samples_per_sec"], n / d["seconds"]), d
    assert close(d["cpu_seconds"], d["cpu_user"] + d["cpu_sys"], abs_=2e-6), d
    assert close(d["cpu_us_per_sample"], d["cpu_seconds"] * 1e6 / n), d
    assert d["syscalls_per_sample"] >= 1 and d["reads_per_sample"] >= 1, d
    assert d["bytes_per_sample"] > 0, d
    # the target holds still: every walk sees all four threads at their known depths
    frames = target_frames(g)
    if failed == 0:
        assert d["frames_per_sample"] == frames, (d["frames_per_sample"], frames)
    walked = d["frames_per_sample"] * n
    cc, fc, cm, fm, pf = (d[k] for k in ("code_cache", "frame_cache", "chain_memo",
                                           "frame_memo", "prefetch"))
    assert 0 < cc["entries"] <= cc["capacity"] and cc["entries"] <= cc["misses"], cc
    assert close(cc["hit_rate"], cc["hits"] / (cc["hits"] + cc["misses"])), cc
    assert cc["failures"] == 0, cc
    # every frame of every sample is either reused from the thread's last sample or resolved
    assert fc["reused"] + fc["resolved"] == round(walked), (fc, walked)
    assert close(fc["hit_rate"], fc["reused"] / (fc["reused"] + fc["resolved"])), fc
    assert fc["threads"] == 4 and fc["frames_held"] <= fc["capacity_frames"], fc
    assert fm["hits"] + fm["misses"] == fc["resolved"], (fm, fc)
    minor = int(interp.version.split(".")[1])
    if minor >= 11:  # the chain memo follows _PyInterpreterFrame chains
        chain = cm["taken"] + cm["chased"]
        # 3.12+ chains also hold the shim frames a walk skips: at least the Python frames
        if minor == 11:
            assert chain == round(walked), (cm, walked)
        else:
            assert chain >= round(walked), (cm, walked)
        assert close(cm["taken_rate"], cm["taken"] / chain), cm
        assert cm["threads"] == 4, cm
    else:
        assert cm["taken"] == cm["chased"] == cm["threads"] == 0, cm
    assert pf["walks"] == n + d["retries"], (pf, n)
    assert close(pf["hit_rate"], pf["hits"] / (pf["hits"] + pf["misses"])), pf
    assert pf["batch_failures"] == 0, pf
    assert g.proc.finish() == 0


TEXT = re.compile(
    r"^tachyon-c bench: pid (\d+), Python (\S+), ([\d.]+) s back to back\n"
    r"  samples +(\d+) \((\d+) failed, (\d+) retried\)\n"
    r"  thread stacks +(?:\d+) recorded cut, (?:\d+) with an unconfirmed top, (?:\d+) "
    r"unverified, (?:\d+) left out \(torn on every try\)\n"
    r"  cost +([\d.]+) us/sample, (\d+) samples/s, ([\d.]+) us CPU/sample\n"
    r"  reads +([\d.]+) syscalls, ([\d.]+) ranges, (\d+) bytes per sample\n"
    r"  frames +([\d.]+) per sample\n"
    r"  code cache +([\d.]+)% hits \((\d+) of (\d+) entries\)\n"
    r"  chain memo +([\d.]+)% of frames taken from the thread's last chain\n"
    r"  frame cache +([\d.]+)% of frames reused from the thread's last sample\n"
    r"  frame memo +([\d.]+)% hits\n\Z")


@pytest.mark.interpreters(*SUBSET)
def test_bench_text_report(interp, procs, tmp_path):
    g = start_gil(procs, interp, tmp_path, "main")
    r = run_tc("bench", g.proc.pid, "-d", "0.5")
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    m = TEXT.match(r.stdout)
    assert m, "bench report not in the documented shape:\n%s" % r.stdout
    pid, version, secs = int(m.group(1)), m.group(2), float(m.group(3))
    n, failed = int(m.group(4)), int(m.group(5))
    us, rate = float(m.group(7)), int(m.group(8))
    assert pid == g.proc.pid and version == interp.version
    assert n >= 1 and failed <= n and secs >= 0.5, r.stdout
    # the printed figures agree with each other, to their printed precision
    assert abs(us * n / 1e6 - secs) <= 0.005 + 0.005 * n / 1e6 + 1e-3 * secs, r.stdout
    assert abs(rate * secs - n) <= 0.5 * secs + 0.005 * rate + 1, r.stdout
    if failed == 0:
        assert float(m.group(13)) == target_frames(g), r.stdout
    for pct in (m.group(14), m.group(17), m.group(18), m.group(19)):
        assert 0 <= float(pct) <= 100, r.stdout
    assert int(m.group(15)) <= int(m.group(16)), r.stdout
    assert g.proc.finish() == 0
