# SPDX-License-Identifier: MIT
"""Shared machinery of the functional suite: the interpreter matrix, target processes, running
tachyon-c, and parsers for its output formats.

The interpreter matrix comes from scripts/provision.sh (run once per session): every manifest
line becomes a parameter of each test that takes the `interp` fixture, or of the subset named
by `@pytest.mark.interpreters(...)`. An interpreter that fails to start is a failure, never a
skip. Every process a test starts goes through the `procs` fixture, which kills what is left.
"""

import json
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGETS = REPO / "tests" / "targets"
BINARY = Path(os.environ.get("TACHYON_C", str(REPO / "build" / "tachyon-c")))

START_TIMEOUT = 90.0  # a target's handshake (debug builds are slow to import asyncio)
TC_TIMEOUT = 60.0  # one tachyon-c command that should finish on its own


@dataclass(frozen=True)
class Interp:
    name: str
    cmd: str
    version: str
    kind: str

    @property
    def debug(self):
        return self.kind == "distro-debug"


_MANIFEST = None
_UNSUPPORTED = None
INTERPRETER_LIST = REPO / "tests" / "interpreters.txt"


def listed(role):
    """Names tests/interpreters.txt gives ROLE ("matrix" or "unsupported"), in file order."""
    names = []
    for line in INTERPRETER_LIST.read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#") and fields[1] == role:
            names.append(fields[0])
    return names


def _read_tsv(path):
    entries = []
    with open(path) as f:
        for line in f:
            if line.strip():
                name, cmd, version, kind = line.rstrip("\n").split("\t")
                entries.append(Interp(name, cmd, version, kind))
    return entries


def _check_names(entries, role, path):
    got, want = sorted(e.name for e in entries), sorted(listed(role))
    if got != want:
        raise pytest.UsageError("%s does not hold the %s interpreters of %s: missing %s, "
                                "unlisted %s" % (path, role, INTERPRETER_LIST,
                                                  sorted(set(want) - set(got)),
                                                  sorted(set(got) - set(want))))


def unsupported():
    """The interpreters tachyon-c must refuse (too old), provisioned with the manifest."""
    global _UNSUPPORTED
    if _UNSUPPORTED is None:
        manifest()
    return _UNSUPPORTED


def manifest():
    """Run scripts/provision.sh once and return the interpreters of its manifest (exactly the
    matrix of tests/interpreters.txt; anything else is a usage error, never a smaller run)."""
    global _MANIFEST, _UNSUPPORTED
    if _MANIFEST is None:
        try:
            r = subprocess.run([str(REPO / "scripts" / "provision.sh")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=1800)
        except subprocess.TimeoutExpired:
            raise pytest.UsageError("scripts/provision.sh did not finish in 30 minutes")
        if r.returncode != 0:
            raise pytest.UsageError("scripts/provision.sh failed (%d):\n%s"
                                    % (r.returncode, r.stderr))
        path = r.stdout.strip().splitlines()[-1]
        entries = _read_tsv(path)
        if not entries:
            raise pytest.UsageError("empty interpreter manifest %s" % path)
        _check_names(entries, "matrix", path)
        old_path = Path(path).parent / "unsupported.tsv"
        old = _read_tsv(old_path)
        _check_names(old, "unsupported", old_path)
        _MANIFEST, _UNSUPPORTED = entries, old
    return _MANIFEST


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "interpreters(*names): run only on these manifest entries (each must exist)")


# A skipped test checks nothing and used to leave the run green (the unsupported-version test
# on a machine without an old interpreter). This suite never skips: a skip, wherever it is
# raised (test, fixture, skipif mark, module), is reported as a failure with its reason.
NO_SKIPS = "skipped, and this suite does not skip (provision what the test needs): "


def _skip_reason(longrepr):
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return longrepr[2]
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = NO_SKIPS + _skip_reason(rep.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped:
        rep.outcome = "failed"
        rep.longrepr = NO_SKIPS + _skip_reason(rep.longrepr)


def pytest_generate_tests(metafunc):
    if "interp" not in metafunc.fixturenames:
        return
    entries = manifest()
    marker = metafunc.definition.get_closest_marker("interpreters")
    if marker is None:
        names = [e.name for e in entries]
    else:
        names = list(marker.args)
    metafunc.parametrize("interp", names, indirect=True, ids=names)


@pytest.fixture
def interp(request):
    for e in manifest():
        if e.name == request.param:
            return e
    pytest.fail("interpreter %s is not in the manifest" % request.param)


# --- processes ------------------------------------------------------------------------------

class Proc:
    """A child process with line-oriented, timeout-bounded reads of its stdout."""

    def __init__(self, popen, stderr_path):
        self.popen = popen
        self.pid = popen.pid
        self.stderr_path = stderr_path
        self._buf = b""

    def stderr(self):
        try:
            return Path(self.stderr_path).read_text(errors="replace")
        except OSError:
            return ""

    def read_line(self, timeout=START_TIMEOUT):
        """The next stdout line (without newline); fails the test on EOF or timeout."""
        deadline = time.monotonic() + timeout
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail("pid %d: no line on stdout within %.0f s; stderr:\n%s"
                            % (self.pid, timeout, self.stderr()))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.popen.wait(10)
                    pytest.fail("pid %d exited (%s) before writing a line; stderr:\n%s"
                                % (self.pid, self.popen.returncode, self.stderr()))
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def finish(self, timeout=30.0):
        """Close stdin (the release signal of the targets) and return the exit status."""
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            try:
                self.popen.stdin.close()
            except OSError:
                pass
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail("pid %d did not exit within %.0f s of release" % (self.pid, timeout))

    def kill(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.popen.stdin, self.popen.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass


class Procs:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.all = []

    def start(self, argv, stdout=subprocess.PIPE, **kw):
        """Start ARGV in its own process group, stdin a pipe, stderr to a file."""
        stderr_path = self.tmp_path / ("stderr.%d" % len(self.all))
        with open(stderr_path, "wb") as err:
            popen = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                     stdout=stdout, stderr=err, start_new_session=True, **kw)
        p = Proc(popen, stderr_path)
        self.all.append(p)
        return p

    def kill_all(self):
        for p in reversed(self.all):
            p.kill()


@pytest.fixture
def procs(tmp_path):
    ps = Procs(tmp_path)
    yield ps
    ps.kill_all()


# --- tachyon-c --------------------------------------------------------------------------------

def tc_argv(*args, binary=None):
    b = Path(binary) if binary else BINARY
    if not (b.is_file() and os.access(str(b), os.X_OK)):
        pytest.fail("tachyon-c binary %s is missing or not executable (run make)" % b)
    return [str(b)] + [str(a) for a in args]


def run_tc(*args, timeout=TC_TIMEOUT, prefix=(), binary=None):
    """Run tachyon-c to completion; returns CompletedProcess (text). Fails on timeout."""
    argv = list(prefix) + tc_argv(*args, binary=binary)
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s did not finish within %.0f s (stderr: %s)"
                    % (" ".join(argv), timeout, e.stderr))


# --- targets ----------------------------------------------------------------------------------

def syscall_of(pid, tid):
    """(syscall number, first argument) a thread is blocked in, or None."""
    try:
        with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
            fields = f.read().split()
    except OSError:
        return None
    if len(fields) < 2 or not fields[0].isdigit():
        return None
    return int(fields[0]), int(fields[1], 16)


READ_SYSCALL = {"x86_64": 0, "aarch64": 63}.get(os.uname().machine)


def start_stacks(procs, interp, tmp_path):
    """Start tests/targets/stacks.py and wait until every thread is parked in read().

    Returns (proc, views): views is the target's own JSON view of itself."""
    out = tmp_path / "views.json"
    p = procs.start([interp.cmd, TARGETS / "stacks.py", out])
    line = p.read_line()
    assert line == "ready", "unexpected handshake line %r" % line
    views = json.loads(out.read_text())
    assert views["pid"] == p.pid, "the interpreter's PID is not the child's (wrapper must exec)"
    assert views["version"] == interp.version
    # The main thread signals before it blocks; wait until it (and all others) sit in read().
    deadline = time.monotonic() + 30
    for t in views["threads"]:
        while READ_SYSCALL is not None:
            if syscall_of(p.pid, t["native_id"]) == (READ_SYSCALL, t["fd"]):
                break
            if time.monotonic() > deadline:
                pytest.fail("thread %s of pid %d never blocked in read(%d): %r"
                            % (t["role"], p.pid, t["fd"], syscall_of(p.pid, t["native_id"])))
            time.sleep(0.005)
    return p, views


def start_clock_split(procs, interp, seconds=120):
    """Start tests/targets/clock_split.py; returns (proc, info)."""
    p = procs.start([interp.cmd, TARGETS / "clock_split.py", seconds])
    info = json.loads(p.read_line())
    assert info["pid"] == p.pid, "the interpreter's PID is not the child's (wrapper must exec)"
    return p, info


# --- output formats ---------------------------------------------------------------------------

def parse_collapsed(text):
    """Collapsed stacks -> list of (root tid field, [(file, qualname, line)], count).

    Fails the test on any malformed line (so a truncated file fails)."""
    assert text.endswith("\n"), "collapsed output does not end with a newline: %r" % text[-200:]
    stacks = []
    for n, line in enumerate(text.splitlines(), 1):
        stack, sep, count = line.rpartition(" ")
        assert sep and count.isdigit() and int(count) > 0, "line %d malformed: %r" % (n, line)
        parts = stack.split(";")
        root = parts[0]
        assert root.startswith("tid:") and root[4:].isdigit(), \
            "line %d: root %r is not tid:NATIVE_ID" % (n, root)
        frames = []
        for part in parts[1:]:
            file, qualname, lineno = part.rsplit(":", 2) if part.count(":") >= 2 else ("", part, "")
            assert file and qualname and lineno.isdigit(), \
                "line %d: frame %r is not FILE:QUALNAME:LINE" % (n, part)
            frames.append((file, qualname, int(lineno)))
        stacks.append((int(root[4:]), frames, int(count)))
    return stacks
