# SPDX-License-Identifier: MIT
"""Starting tests/targets/h5_gil.py (one thread spinning with the GIL, three blocked) and the
exact stacks its threads can be sampled in, from the views the threads recorded of
themselves. Shared by test_attach.py (--mode gil/cpu, --threads main) and test_dump.py
(holds_gil)."""

import json
import time

import pytest

from conftest import TARGETS

FIELDS = ("file", "qualname", "line")


class GilTarget:
    def __init__(self, proc, doc):
        self.proc = proc
        self.doc = doc
        self.by_role = {t["role"]: t for t in doc["threads"]}
        self.spin_first, self.spin_last = doc["spin_lines"]

    def native_id(self, role):
        return self.by_role[role]["native_id"]

    def role_of(self, native_id):
        for role, t in self.by_role.items():
            if t["native_id"] == native_id:
                return role
        return None

    def view(self, role):
        """ROLE's recorded frames, root first, as (file, qualname, line)."""
        return [tuple(f[k] for k in FIELDS) for f in reversed(self.by_role[role]["frames"])]

    def stack_problem(self, role, frames):
        """None when FRAMES (root first) is a stack ROLE can be in, else what is wrong.

        A blocked thread is exactly as it recorded itself. The spinner is as it recorded
        itself except for the innermost frame's line, which is any line of spin() after the
        recording one (the loop)."""
        want = self.view(role)
        frames = [tuple(f) for f in frames]
        if role != "spinner":
            return None if frames == want else "%s: %r, want %r" % (role, frames, want)
        rec_line = want[-1][2]
        if frames[:-1] != want[:-1] or not frames or frames[-1][:2] != want[-1][:2]:
            return "spinner: %r, want %r with spin() at a loop line" % (frames, want)
        if not rec_line < frames[-1][2] <= self.spin_last:
            return "spinner: spin() at line %d, not a line of its loop (%d-%d]" % (
                frames[-1][2], rec_line, self.spin_last)
        return None


def start_gil(procs, interp, tmp_path, spinner):
    """Start h5_gil.py with SPINNER ("main" or "worker") and return a GilTarget once every
    thread is where it recorded itself."""
    out = tmp_path / ("gil-%s.json" % spinner)
    p = procs.start([interp.cmd, TARGETS / "h5_gil.py", spinner, out])
    line = p.read_line()
    assert line == "ready", "unexpected handshake line %r" % line
    doc = json.loads(out.read_text())
    assert doc["pid"] == p.pid, "the interpreter's PID is not the child's (wrapper must exec)"
    roles = sorted(t["role"] for t in doc["threads"])
    assert roles == ["reader", "sleeper", "spinner", "waiter"], roles
    g = GilTarget(p, doc)
    main = [t["role"] for t in doc["threads"] if t["main"]]
    assert main == ["spinner" if spinner == "main" else "reader"], main
    # "ready" came from a write that let go of the GIL: wait until the spinner has run on
    # (user CPU time moving on), which it can only do with the GIL back
    tid = g.native_id("spinner")
    start = user_ticks(p.pid, tid)
    deadline = time.monotonic() + 60
    while user_ticks(p.pid, tid) < start + 2:
        if time.monotonic() > deadline:
            pytest.fail("the spinner of pid %d never ran after ready" % p.pid)
        time.sleep(0.01)
    return g


def user_ticks(pid, tid):
    """utime (clock ticks) of thread TID of PID, from /proc/PID/task/TID/stat."""
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        return int(f.read().rsplit(")", 1)[1].split()[11])
