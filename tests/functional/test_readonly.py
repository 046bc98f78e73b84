# SPDX-License-Identifier: MIT
"""Read-only, checked from the outside: every command runs under strace against a live
target, and the trace must show

- the seccomp filter (reader/sandbox.c) installed before anything of the target is opened;
- no process_vm_writev and no ptrace call at all (not even a refused one);
- nothing of the target opened for writing: not /proc/PID/... (mem, maps, task/...), not
  /proc/TID/... of its threads, not a file it maps (its binary, libpython, libc...);
- nothing opened for writing anywhere except the command's own outputs (in the test's
  temporary directory) and the terminal;
- and, so the check cannot pass on an empty trace, the target's maps opened read-only.

The binary itself must not import process_vm_writev or ptrace (nm -D), and must be linked
with libseccomp. Targets: tests/targets/clock_split.py (one busy thread).
"""

import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import termios
import fcntl
import time

import pytest

from conftest import BINARY, TC_TIMEOUT, start_clock_split, tc_argv

SUBSET = ("debian-3.11", "debian-3.15", "pyenv-3.12.1")
TRACED = "openat,open,openat2,creat,process_vm_writev,ptrace,seccomp"
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"}

# id -> arguments after the PID; output files are relative to the run's directory
COMMANDS = {
    "dump": ["dump", "{pid}"],
    "dump-json": ["dump", "{pid}", "--json"],
    "attach-collapsed": ["attach", "{pid}", "-d", "1", "-o", "out.txt"],
    "attach-speedscope": ["attach", "{pid}", "-d", "1", "-o", "out.json"],
    "attach-summary": ["attach", "{pid}", "-d", "1", "-f", "summary", "-o", "out.sum"],
    "attach-stdout": ["attach", "{pid}", "-d", "1", "-o", "-"],
    "attach-top-functions": ["attach", "{pid}", "-d", "1"],
    "attach-alloc-log": ["attach", "{pid}", "-d", "1.5", "-o", "out2.txt", "--alloc-log",
                         "alloc.jsonl"],
    "stats": ["stats", "{pid}"],
    "stats-json": ["stats", "{pid}", "--json"],
    "stats-verbose": ["stats", "{pid}", "--verbose"],
    "bench": ["bench", "{pid}", "-d", "1"],
    "bench-json": ["bench", "{pid}", "-d", "1", "--json"],
}
OUTPUTS = {"attach-collapsed": "out.txt", "attach-speedscope": "out.json",
           "attach-summary": "out.sum", "attach-alloc-log": "alloc.jsonl"}


def strace_argv(log):
    if shutil.which("strace") is None:
        pytest.fail("strace is missing (scripts/deps.sh check installs it)")
    # -y: file descriptors with their paths (openat relative to a /proc directory fd)
    return ["strace", "-f", "-qq", "-y", "-s", "4096", "-e", "trace=" + TRACED, "-o", str(log)]


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)(.*)$")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def parse_trace(text):
    """strace -f lines -> list of (syscall, args text); resumed halves are dropped (the
    arguments that matter are in the first half)."""
    calls = []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or "resumed>" in line.split("(", 1)[0]:
            continue
        calls.append((m.group(2), m.group(3)))
    return calls


def open_of(name, args, cwd):
    """(path, set of flags) of an open-family call, or None when it is not one."""
    if name not in ("open", "openat", "openat2", "creat"):
        return None
    strings = STRING.findall(args)
    if not strings:
        return None
    path = strings[0]
    base = cwd
    if name in ("openat", "openat2"):
        fd = re.match(r"\s*(AT_FDCWD|\d+<([^>]*)>|\d+)", args)
        if fd and fd.group(2):
            base = fd.group(2)
    if not path.startswith("/"):
        path = os.path.join(base, path)
    if name == "creat":
        flags = {"O_CREAT", "O_WRONLY", "O_TRUNC"}
    else:
        rest = args.split('"' + strings[0] + '"', 1)[1]
        m = re.search(r"(O_[A-Z_|0-9]+)", rest)
        flags = set(m.group(1).split("|")) if m else {"O_RDONLY"}
    return os.path.normpath(path), flags


def target_paths(pid):
    """Paths that are the target's: its /proc entries (and its threads'), and every file
    it maps, under the name it maps and the name it resolves to."""
    prefixes = ["/proc/%d" % pid]
    try:
        prefixes += ["/proc/%s" % t for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        pass
    files = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith("/"):
                p = parts[5].strip()
                files.add(p)
                files.add(os.path.realpath(p))
    exe = os.readlink("/proc/%d/exe" % pid)
    files.update({exe, os.path.realpath(exe)})
    return prefixes, files


def is_target(path, prefixes, files):
    return path in files or any(path == p or path.startswith(p + "/") for p in prefixes)


def own_output(path, tmp_path):
    tmp = os.path.realpath(str(tmp_path))
    return (path.startswith(tmp + "/") or path in ("/dev/tty", "/dev/null")
            or path.startswith("/dev/pts/"))


def check_trace(text, pid, cwd, tmp_path, prefixes, files):
    calls = parse_trace(text)
    assert calls, "empty trace"
    forbidden = [(n, a) for n, a in calls if n in ("process_vm_writev", "ptrace")]
    assert not forbidden, "tachyon-c called %s" % forbidden
    sandbox = [i for i, (n, a) in enumerate(calls)
               if n == "seccomp" and "SECCOMP_SET_MODE_FILTER" in a and re.search(r"\)\s*=\s*0$", a)]
    assert sandbox, "no seccomp filter installed (reader/sandbox.c); seccomp calls: %s" % [
        a for n, a in calls if n == "seccomp"]
    first_target = None
    read_maps = False
    bad, elsewhere = [], []
    for i, (n, a) in enumerate(calls):
        o = open_of(n, a, cwd)
        if o is None:
            continue
        path, flags = o
        writes = bool(flags & WRITE_FLAGS)
        if is_target(path, prefixes, files):
            if first_target is None:
                first_target = i
            if writes:
                bad.append("%s(%s" % (n, a))
            if path == "/proc/%d/maps" % pid and not writes:
                read_maps = True
        elif writes and not own_output(path, tmp_path):
            elsewhere.append("%s(%s" % (n, a))
    assert not bad, "the target was opened for writing:\n" + "\n".join(bad)
    assert not elsewhere, "opened for writing outside the outputs:\n" + "\n".join(elsewhere)
    assert read_maps, "the trace never shows /proc/%d/maps opened read-only (nothing checked)" % pid
    assert first_target is not None and sandbox[0] < first_target, \
        "the sandbox was installed after the target was first opened"


@pytest.mark.interpreters(*SUBSET)
@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_command_under_strace(interp, procs, tmp_path, command):
    target, info = start_clock_split(procs, interp)
    pid = target.pid
    prefixes, files = target_paths(pid)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    log = tmp_path / "strace.log"
    args = [a.format(pid=pid) for a in COMMANDS[command]]
    argv = strace_argv(log) + tc_argv(*args)
    try:
        r = subprocess.run(argv, cwd=str(run_dir), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=TC_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("%s did not finish" % " ".join(argv))
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    if command in OUTPUTS:
        out = run_dir / OUTPUTS[command]
        assert out.is_file() and out.stat().st_size > 0, "%s was not written" % out
    else:
        assert r.stdout.strip(), "no output on stdout"
    assert target.popen.poll() is None, "the target died"
    check_trace(log.read_text(errors="replace"), pid, str(run_dir), tmp_path, prefixes, files)


def read_until(fd, pred, timeout, what):
    """Read the pty until PRED(all bytes so far) holds; fails after TIMEOUT seconds."""
    buf = b""
    deadline = time.monotonic() + timeout
    while not pred(buf):
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("top: no %s within %.0f s; screen bytes:\n%r" % (what, timeout, buf[-2000:]))
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                break
            buf += chunk
    return buf


@pytest.mark.interpreters(*SUBSET)
def test_top_under_strace(interp, procs, tmp_path):
    target, info = start_clock_split(procs, interp)
    pid = target.pid
    prefixes, files = target_paths(pid)
    log = tmp_path / "strace.log"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, TERM="xterm")
    p = subprocess.Popen(strace_argv(log) + tc_argv("top", pid, "-i", "0.2"), cwd=str(tmp_path),
                         stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        # the table lists hot() once the first refresh has samples of it
        read_until(master, lambda b: b"hot" in b, 60, "row for hot()")
        os.write(master, b"q")
        try:
            rc = p.wait(TC_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("top did not quit on q")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        os.close(master)
    assert rc == 0, "top exited %d" % rc
    assert target.popen.poll() is None, "the target died"
    check_trace(log.read_text(errors="replace"), pid, str(tmp_path), tmp_path, prefixes, files)


def test_binary_imports_no_writer():
    tc_argv()  # fails when the binary is missing
    r = subprocess.run(["nm", "-D", "--undefined-only", str(BINARY)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    imported = {line.split()[-1].split("@")[0] for line in r.stdout.splitlines() if line.strip()}
    assert "process_vm_readv" in imported, "nm output unexpected:\n%s" % r.stdout
    for name in ("process_vm_writev", "ptrace"):
        assert name not in imported, "tachyon-c imports %s" % name
    assert "seccomp_load" in imported, "tachyon-c is not linked with libseccomp"
