# SPDX-License-Identifier: MIT
"""The recording keeps its promises while the target does unusual things: a thread deeper than
the walker follows (the others are still sampled, the deep one is marked cut), a target that
replaces its program mid-recording (sampling stops, what was recorded is kept and said), and a
duration shorter than one sampling interval (the recording ends at its duration)."""

import re
import subprocess
import time

import pytest

from conftest import TARGETS, run_tc, tc_argv


def collapsed(path):
    """[(frames root first as (file, qualname, line), count, thread root)]"""
    out = []
    for line in open(path):
        stack, count = line.rstrip("\n").rsplit(" ", 1)
        parts = stack.split(";")
        out.append(([tuple(p.rsplit(":", 2)) for p in parts[1:]], int(count), parts[0]))
    return out


@pytest.mark.interpreters("pyenv-3.9.18", "debian-3.11", "debian-3.13", "debian-3.15")
def test_deep_thread_keeps_the_others(procs, interp, tmp_path):
    """70,000 frames in one thread: that thread's stacks are recorded cut under <truncated>
    with the innermost frames kept; the main thread's stacks are recorded whole."""
    p = procs.start([interp.cmd, TARGETS / "trust_deep.py", "70000"])
    assert p.read_line(timeout=300) == "ready"
    out = tmp_path / "deep.txt"
    r = run_tc("attach", p.pid, "-r", "50", "-d", "2", "-o", out, timeout=300)
    assert r.returncode == 0, r.stderr
    stacks = collapsed(out)
    main = [s for s in stacks if s[2] == "tid:%d" % p.pid]
    deep = [s for s in stacks if any(f[1] == "down" for f in s[0])]
    assert main and all(f[0][1] == "<module>" and f[-1][1] == "main_spin" for f, _, _ in main), main
    assert deep
    for frames, _, _ in deep:
        assert frames[0][1] == "<truncated>", frames[:3]
        # the innermost frames: down() parked in Event.wait (threading.py)
        assert all(f[1] == "down" or f[0].endswith("threading.py") for f in frames[1:])
        assert len(frames) == 65536 + 1
    assert all(any(f[1] == "down" for f in s[0]) for s in stacks if s[0] and s[0][0][1] == "<truncated>")
    p.finish()


@pytest.mark.interpreters("debian-3.11", "pyenv-3.12.1", "debian-3.15")
def test_exec_mid_recording(procs, interp, tmp_path):
    """The target execs into another interpreter: sampling stops with a note, the file holds
    the first program's stacks and nothing else, exit 0."""
    other = "/usr/bin/python3.11" if "3.11" not in interp.name else "/root/.pyenv/versions/3.12.1/bin/python3.12"
    p = procs.start([interp.cmd, TARGETS / "trust_exec.py", other])
    assert p.read_line() == "ready"
    out = tmp_path / "exec.txt"
    tc = subprocess.Popen(tc_argv("attach", p.pid, "-r", "200", "-d", "60", "-o", out),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    try:
        time.sleep(1.0)  # the first program is recorded for a while (no assertion on it)
        p.popen.stdin.write(b"go\n")
        p.popen.stdin.flush()
        assert p.read_line() == "exec"
        o, e = tc.communicate(timeout=60)
    finally:
        if tc.poll() is None:
            tc.kill()
    assert tc.returncode == 0, e
    assert "replaced its program (exec)" in e, e
    stacks = collapsed(out)
    names = {f[1] for frames, _, _ in stacks for f in frames}
    assert "before_exec" in names
    assert "after_exec" not in names


@pytest.mark.interpreters("debian-3.11")
def test_duration_shorter_than_interval(procs, interp):
    """-d 0.5 at 0.2 Hz: one sample (at the start), not a second one 5 s later."""
    p = procs.start([interp.cmd, TARGETS / "park.py"])
    assert p.read_line() == "ready"
    r = run_tc("attach", p.pid, "-d", "0.5", "-r", "0.2")
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) samples", r.stdout)
    assert m and int(m.group(1)) == 1, r.stdout
