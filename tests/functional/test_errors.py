# SPDX-License-Identifier: MIT
"""Exit codes and messages: 2 usage, 3 no such process, 4 permission denied, 5 not Python or an
unsupported version; --version and help exit 0."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BINARY, TARGETS, listed, run_tc, tc_argv, unsupported

SYSTEM_PYTHON = "/usr/bin/python3.11"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    assert not os.path.exists("/proc/%d" % p.pid)
    return p.pid


@pytest.mark.parametrize("cmd", ["dump", "attach"])
def test_no_such_process(cmd):
    pid = dead_pid()
    args = [cmd, pid] + (["-d", "1"] if cmd == "attach" else [])
    r = run_tc(*args)
    assert r.returncode == 3, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    assert str(pid) in r.stderr or re.search(r"(?i)no such process", r.stderr), r.stderr


@pytest.fixture
def nobody_binary():
    """A copy of tachyon-c that user nobody can execute."""
    tc_argv()  # fails the test when the binary is missing
    d = tempfile.mkdtemp(prefix="tachyon-perm-")
    try:
        os.chmod(d, 0o755)
        b = os.path.join(d, "tachyon-c")
        shutil.copy(str(BINARY), b)
        os.chmod(b, 0o755)
        yield b
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("cmd", ["dump", "attach"])
def test_permission_denied(procs, nobody_binary, cmd):
    assert os.geteuid() == 0, "the permission test needs a root-owned target (run as root)"
    target = procs.start([SYSTEM_PYTHON, TARGETS / "idle.py"])
    assert target.read_line() == "ready"
    check = subprocess.run(NOBODY + ["id", "-u"], stdout=subprocess.PIPE, universal_newlines=True)
    assert check.stdout.strip() == "65534", "setpriv cannot drop to nobody"
    args = [cmd, target.pid] + (["-d", "1"] if cmd == "attach" else [])
    r = run_tc(*args, prefix=NOBODY, binary=nobody_binary)
    assert r.returncode == 4, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    assert "cap_sys_ptrace" in r.stderr.lower(), r.stderr
    assert "--cap-add SYS_PTRACE" in r.stderr, "no container advice:\n%s" % r.stderr
    assert target.popen.poll() is None
    assert target.finish() == 0


def supported_range_named(text):
    return "3.9" in text and "3.15" in text


@pytest.mark.parametrize("cmd", ["dump", "attach"])
def test_not_python(procs, cmd):
    target = procs.start(["sleep", "100"], stdout=subprocess.DEVNULL)
    # wait until the child is sleep, not the forked Python about to exec it
    for _ in range(500):
        try:
            if os.readlink("/proc/%d/exe" % target.pid).endswith("/sleep"):
                break
        except OSError:
            pass
        time.sleep(0.01)
    args = [cmd, target.pid] + (["-d", "1"] if cmd == "attach" else [])
    r = run_tc(*args)
    assert r.returncode == 5, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    assert supported_range_named(r.stderr), "message does not name 3.9 and 3.15:\n%s" % r.stderr


@pytest.mark.parametrize("name", listed("unsupported"))
def test_unsupported_version(procs, name):
    """Interpreters too old to read (tests/interpreters.txt, provisioned like the matrix: a
    missing one fails provisioning, so this never skips) are refused by version."""
    old = [e for e in unsupported() if e.name == name]
    assert old, "%s is not in the unsupported manifest" % name
    interp = old[0]
    minor = ".".join(interp.version.split(".")[:2])
    target = procs.start([interp.cmd, TARGETS / "idle.py"])
    assert target.read_line() == "ready"
    for cmd in (["dump", target.pid], ["attach", target.pid, "-d", "1"]):
        r = run_tc(*cmd)
        assert r.returncode == 5, "%s: exit %d, stderr:\n%s" % (cmd[0], r.returncode, r.stderr)
        # the version found, as a version (the command line also says "python2.7")
        assert re.search(r"(?i)unsupported version: found Python %s\b" % re.escape(interp.version),
                         r.stderr), "message does not name %s:\n%s" % (interp.version, r.stderr)
        assert minor in r.stderr
        assert supported_range_named(r.stderr), "message does not name 3.9 and 3.15:\n%s" % r.stderr
    assert target.finish() == 0


LIVE = str(os.getpid())  # a live Python process: argument errors must win before any attach

USAGE_ERRORS = {
    "no command": [],
    "unknown command": ["frobnicate", LIVE],
    "bad rate": ["attach", LIVE, "-r", "abc", "-d", "1"],
    "zero rate": ["attach", LIVE, "-r", "0", "-d", "1"],
    "bad duration": ["attach", LIVE, "-d", "soon"],
    "missing pid (dump)": ["dump"],
    "missing pid (attach)": ["attach"],
    "non-numeric pid": ["dump", "abc"],
    "pid with garbage": ["dump", LIVE + "x"],
    "unknown option (dump)": ["dump", LIVE, "--bogus"],
    "unknown option (attach)": ["attach", LIVE, "-d", "1", "--nope"],
    "bad mode": ["attach", LIVE, "-d", "1", "--mode", "sideways"],
    "bad threads": ["attach", LIVE, "-d", "1", "--threads", "some"],
    "bad format": ["attach", LIVE, "-d", "1", "-f", "bogus", "-o", "-"],
    "missing option value": ["attach", LIVE, "-r"],
}


@pytest.mark.parametrize("args", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_usage_errors(args):
    r = run_tc(*args, timeout=30)
    assert r.returncode == 2, "exit %d for %r; stdout:\n%s\nstderr:\n%s" % (r.returncode, args, r.stdout, r.stderr)
    assert re.search(r"(?i)usage", r.stderr), "no usage text on stderr:\n%s" % r.stderr


def test_version():
    r = run_tc("--version")
    assert r.returncode == 0, r.stderr
    assert re.search(r"\d+\.\d+", r.stdout), r.stdout


def test_help():
    r = run_tc("--help")
    assert r.returncode == 0, r.stderr
    for cmd in ("attach", "dump"):  # stats, top and bench arrive with their issues
        assert cmd in r.stdout, "--help does not mention %s" % cmd


@pytest.mark.parametrize("cmd,option", [("dump", "--json"), ("attach", "-r")])
def test_help_command(cmd, option):
    r = run_tc("help", cmd)
    assert r.returncode == 0, r.stderr
    assert cmd in r.stdout and option in r.stdout, r.stdout
