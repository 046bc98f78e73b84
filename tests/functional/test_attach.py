# SPDX-License-Identifier: MIT
"""`tachyon-c attach`: sample shares, output formats, early end by signal or target exit.

tests/targets/clock_split.py spends 75% of wall time in hot() and 25% in cold() by the clock,
so a wall-clock sampler must find hot in 75% +/- 5 points of its samples on any machine.

No assertion depends on how fast the machine is: how many samples a recording gets is only
bounded from below by one and from above by what the rate allows (a sampler never takes more
than it was asked for); how fast sampling is belongs to bench/.
"""

import json
import os
import re
import signal
import threading
import time

import pytest

from conftest import TARGETS, parse_collapsed, run_tc, start_clock_split, tc_argv
from gil_target import start_gil

# the formats, signals and early-end behaviour are checked on one build of each family
SUBSET = ("debian-3.11", "debian-3.15", "pyenv-3.12.1")
TARGET_FILE = str(TARGETS / "clock_split.py")


def share(stacks, qualname):
    total = sum(c for _, _, c in stacks)
    hit = sum(c for _, frames, c in stacks if any(q == qualname for _, q, _ in frames))
    return hit / total if total else 0.0


def check_count(total, rate_hz, seconds):
    """At least one sample, and never more than the rate allows over the duration (plus the
    first sample at time 0). Fewer is not a failure: a loaded machine misses ticks."""
    assert total >= 1, "no samples"
    assert total <= rate_hz * seconds + 1, \
        "%d samples in %.1f s at %d Hz: more than were asked for" % (total, seconds, rate_hz)


def summary_counts(text):
    """(samples, failed, missed, requested Hz) from the summary's header lines."""
    m = re.search(r"^duration [\d.]+ s, (\d+) samples, (\d+) failed \([\d.]+%\), (\d+) missed$",
                  text, re.M)
    assert m, "no duration line in the summary:\n%s" % text
    hz = re.search(r"^rate achieved [\d.]+ Hz \(requested ([\d.]+) Hz\)$", text, re.M)
    assert hz, "no rate line in the summary:\n%s" % text
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), float(hz.group(1))


def check_hot_frames(stacks, info):
    """Every hot/cold frame names the target's file and a line inside the function."""
    for fn in ("hot", "cold"):
        first, last = info[fn]
        for _, frames, _ in stacks:
            for file, qualname, line in frames:
                if qualname == fn:
                    assert file == TARGET_FILE, "frame %s has file %r" % (fn, file)
                    assert first <= line <= last, "frame %s line %d not in %d-%d" % (fn, line, first, last)


def test_hot_share_collapsed(interp, procs, tmp_path):
    target, info = start_clock_split(procs, interp)
    out = tmp_path / "out.txt"
    r = run_tc("attach", target.pid, "-r", "1000", "-d", "3", "-o", out, timeout=60)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    stacks = parse_collapsed(out.read_text())
    check_count(sum(c for _, _, c in stacks), 1000, 3)
    assert {tid for tid, _, _ in stacks} == {info["native_id"]}
    hot, cold = share(stacks, "hot"), share(stacks, "cold")
    assert 0.70 <= hot <= 0.80, "hot in %.1f%% of samples (cold %.1f%%)" % (100 * hot, 100 * cold)
    assert 0.20 <= cold <= 0.30, "cold in %.1f%% of samples" % (100 * cold)
    check_hot_frames(stacks, info)
    # root first: the hot frame is the innermost (last) frame of its stacks
    for _, frames, _ in stacks:
        names = [q for _, q, _ in frames]
        if "hot" in names:
            assert names[-1] == "hot" and names[0] == "<module>", names


@pytest.mark.interpreters(*SUBSET)
def test_speedscope_output(interp, procs, tmp_path):
    target, info = start_clock_split(procs, interp)
    out = tmp_path / "out.json"
    r = run_tc("attach", target.pid, "-d", "2", "-o", out, timeout=60)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    doc = json.loads(out.read_text())
    assert doc.get("$schema") == "https://www.speedscope.app/file-format-schema.json"
    frames = doc["shared"]["frames"]
    assert frames and all("name" in f for f in frames)
    profiles = doc["profiles"]
    assert profiles, "no profiles"
    hot_ids = {i for i, f in enumerate(frames) if f["name"] == "hot" or f["name"].endswith(":hot")
               or f["name"].startswith("hot ")}
    assert hot_ids, "no frame named hot in %r" % [f["name"] for f in frames]
    hot_w = total_w = 0
    for p in profiles:
        assert p["type"] == "sampled"
        assert len(p["samples"]) == len(p["weights"])
        for stack, w in zip(p["samples"], p["weights"]):
            assert all(0 <= i < len(frames) for i in stack)
            total_w += w
            if hot_ids & set(stack):
                hot_w += w
    assert total_w > 0
    assert 0.65 <= hot_w / total_w <= 0.85, "hot weight share %.2f" % (hot_w / total_w)


@pytest.mark.interpreters(*SUBSET)
def test_summary_without_output(interp, procs):
    target, info = start_clock_split(procs, interp)
    r = run_tc("attach", target.pid, "-d", "1", timeout=60)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    hot = re.search(r"(?<![\w])hot(?![\w])", r.stdout)
    cold = re.search(r"(?<![\w])cold(?![\w])", r.stdout)
    assert hot, "summary does not mention hot:\n%s" % r.stdout
    assert not cold or hot.start() < cold.start(), "cold ranked above hot:\n%s" % r.stdout


@pytest.mark.interpreters(*SUBSET)
def test_collapsed_to_stdout(interp, procs):
    target, info = start_clock_split(procs, interp)
    r = run_tc("attach", target.pid, "-d", "1", "-o", "-", timeout=60)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    stacks = parse_collapsed(r.stdout)
    check_count(sum(c for _, _, c in stacks), 1000, 1)
    assert 0.65 <= share(stacks, "hot") <= 0.85


@pytest.mark.interpreters("debian-3.11")
@pytest.mark.parametrize("rate,hz", [("1khz", 1000), ("2000us", 500), ("2k", 2000), ("250", 250)])
def test_rate_spellings(interp, procs, tmp_path, rate, hz):
    """The rate each spelling asks for, as the summary reports it; the samples taken agree with
    the summary's own counts, and none beyond what that rate allows."""
    target, info = start_clock_split(procs, interp)
    r = run_tc("attach", target.pid, "-r", rate, "-d", "1", "-f", "summary", "-o", "-")
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    samples, failed, missed, requested = summary_counts(r.stdout)
    assert requested == hz, "-r %s asked for %.1f Hz, not %d:\n%s" % (rate, requested, hz, r.stdout)
    assert 1 <= samples <= hz * 1 + 1 and failed <= samples, r.stdout
    # one thread: one thread-sample per sample (failed ones record nothing)
    m = re.search(r"^1 threads, (\d+) thread-samples", r.stdout, re.M)
    assert m and int(m.group(1)) == samples - failed, r.stdout


def valid_collapsed(path):
    """Parsed stacks when PATH holds a complete collapsed file, else an explanation."""
    text = path.read_text()
    try:
        return parse_collapsed(text)
    except AssertionError as e:
        return "incomplete file (%s): %r" % (e, text[-300:])


@pytest.mark.interpreters(*SUBSET)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_ends_recording_with_complete_file(interp, procs, tmp_path, signum):
    target, info = start_clock_split(procs, interp)
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "f.txt"
    tc = procs.start(tc_argv("attach", target.pid, "-d", "60", "-o", out))
    # while recording, the final path must not exist: the file is written to a temporary name
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert not out.exists(), "final path exists while still recording"
        assert tc.popen.poll() is None, "attach exited early (%s): %s" % (tc.popen.returncode, tc.stderr())
        time.sleep(0.01)
    os.kill(tc.pid, signum)
    # from the moment it appears, the final path only ever holds a complete file
    deadline = time.monotonic() + 20
    seen = None
    while True:
        done = tc.popen.poll() is not None
        if out.exists():
            seen = valid_collapsed(out)
            assert not isinstance(seen, str), seen
        if done:
            break
        assert time.monotonic() < deadline, "attach did not end within 20 s of the signal"
        time.sleep(0.001)
    rc = tc.popen.returncode
    assert rc in (0, 128 + signum), "exit %s after signal %d; stderr:\n%s" % (rc, signum, tc.stderr())
    assert out.exists(), "no output file after the signal; stderr:\n%s" % tc.stderr()
    stacks = valid_collapsed(out)
    assert not isinstance(stacks, str), stacks
    assert sum(c for _, _, c in stacks) >= 1, "no samples before the signal"
    assert 0.6 <= share(stacks, "hot") <= 0.9
    assert sorted(os.listdir(str(outdir))) == ["f.txt"], "leftover files: %r" % os.listdir(str(outdir))
    assert target.popen.poll() is None, "the target died"


@pytest.mark.interpreters(*SUBSET)
def test_target_exit_keeps_samples(interp, procs, tmp_path):
    target, info = start_clock_split(procs, interp, seconds=1.5)
    # reap the target as soon as it exits (a zombie still has a /proc entry)
    reaper = threading.Thread(target=target.popen.wait, daemon=True)
    reaper.start()
    out = tmp_path / "f.txt"
    # an hour's recording: only the target's exit can end it before run_tc gives up on a hang
    r = run_tc("attach", target.pid, "-d", "3600", "-o", out, timeout=120)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    assert target.popen.wait(5) == 0
    assert r.stderr.strip(), "no note on stderr that the target exited"
    stacks = parse_collapsed(out.read_text())
    assert sum(c for _, _, c in stacks) >= 1, "no samples from a target that ran ~1.5 s"
    assert {tid for tid, _, _ in stacks} == {info["native_id"]}
    assert share(stacks, "hot") > 0.5


# --- modes and --threads: tests/targets/h5_gil.py, one thread spinning with the GIL, the
# others blocked (time.sleep, a lock, os.read) with it released. Each mode must record exactly
# the threads it names, each in a stack it can really be in (see gil_target.py).

PER_MINOR = ("debian-3.9", "pyenv-3.10.13", "debian-3.11", "pyenv-3.12.1", "debian-3.13",
             "debian-3.14", "debian-3.15")


def sampled(g, *args):
    """Attach to G for a second with ARGS; returns {native id: {stack: count}} after checking
    every stack is one its thread can be in."""
    r = run_tc("attach", g.proc.pid, "-d", "1", "-f", "collapsed", "-o", "-", *args)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    got = {}
    for tid, frames, count in parse_collapsed(r.stdout):
        role = g.role_of(tid)
        assert role is not None, "a stack for thread %d, which is none of the target's %r" % (
            tid, sorted(g.by_role))
        problem = g.stack_problem(role, frames)
        assert problem is None, "%s: %s" % (" ".join(args) or "wall", problem)
        got.setdefault(tid, {})
        got[tid][tuple(frames)] = got[tid].get(tuple(frames), 0) + count
    return got


@pytest.mark.interpreters(*PER_MINOR)
def test_mode_gil_records_only_the_gil_holder(interp, procs, tmp_path):
    g = start_gil(procs, interp, tmp_path, "main")
    # wall mode sees all four threads, each in its own stack: the target is what it says
    wall = sampled(g)
    assert set(wall) == {g.native_id(r) for r in g.by_role}, wall.keys()
    gil = sampled(g, "--mode", "gil")
    assert set(gil) == {g.native_id("spinner")}, \
        "--mode gil recorded threads %r; only the spinner (%d) holds the GIL" % (
            sorted(gil), g.native_id("spinner"))
    assert sum(gil[g.native_id("spinner")].values()) >= 1
    assert g.proc.finish() == 0


@pytest.mark.interpreters(*SUBSET)
def test_mode_cpu_records_only_running_threads(interp, procs, tmp_path):
    g = start_gil(procs, interp, tmp_path, "worker")
    cpu = sampled(g, "--mode", "cpu")
    assert set(cpu) == {g.native_id("spinner")}, \
        "--mode cpu recorded threads %r; only the spinner (%d) runs" % (
            sorted(cpu), g.native_id("spinner"))
    assert g.proc.finish() == 0


@pytest.mark.interpreters(*PER_MINOR)
def test_threads_main_records_only_the_main_thread(interp, procs, tmp_path):
    # the main thread blocked, a worker spinning: --threads main is the blocked one alone
    g = start_gil(procs, interp, tmp_path, "worker")
    main = sampled(g, "--threads", "main")
    assert set(main) == {g.native_id("reader")}, \
        "--threads main recorded threads %r; the main thread is %d" % (
            sorted(main), g.native_id("reader"))
    assert list(main[g.native_id("reader")]) == [tuple(g.view("reader"))]
    # and with --mode gil: the main thread never holds the GIL, the spinner is no main thread
    r = run_tc("attach", g.proc.pid, "-d", "1", "--threads", "main", "--mode", "gil",
               "-f", "collapsed", "-o", "-")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", "--threads main --mode gil recorded:\n%s" % r.stdout[:2000]
    assert g.proc.finish() == 0
