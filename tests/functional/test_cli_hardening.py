# SPDX-License-Identifier: MIT
"""The command line against hostile input and a hostile environment (issue 10, items 8-10):

- `-o` through symlinks, onto /dev/stdout, next to a planted temporary name, keeping the mode;
- names from target memory holding terminal escapes never reach any output raw, and survive
  every format exactly (JSON round trip, collapsed percent-decoding);
- write errors on stdout (/dev/full) are reported with their reason, exit 1;
- PID operands are digits only; a kernel thread is "not a Python process", not "no such
  process"."""

import json
import os
import resource
import signal
import stat
import subprocess
import urllib.parse

import pytest

from conftest import TARGETS, parse_collapsed, run_tc, tc_argv

# Bytes that drive a terminal: ESC, BEL, DEL, and CSI (U+009B) as UTF-8.
RAW_CONTROLS = (b"\x1b", b"\x07", b"\x7f", b"\xc2\x9b")
SYSTEM_PYTHON = "/usr/bin/python3.11"
ESCAPING_INTERPS = ("debian-3.9", "pyenv-3.10.13", "debian-3.11", "debian-3.15")


def run_bytes(*args, stdout=subprocess.PIPE, preexec_fn=None):
    """tachyon-c ARGS with binary output; returns CompletedProcess (stdout bytes, stderr text)."""
    r = subprocess.run(tc_argv(*args), stdin=subprocess.DEVNULL, stdout=stdout,
                       stderr=subprocess.PIPE, timeout=60, preexec_fn=preexec_fn)
    r.stderr = r.stderr.decode("utf-8", "replace")
    return r


def assert_no_raw_controls(data, what):
    for b in RAW_CONTROLS:
        assert b not in data, "%s holds raw %r: %r" % (what, b, data[:2000])


def start_parked(procs, cmd=SYSTEM_PYTHON):
    p = procs.start([cmd, TARGETS / "park.py"])
    assert p.read_line() == "ready"
    return p


# --- item 9: names that attack the terminal -----------------------------------------------

def start_hostile(procs, interp):
    p = procs.start([interp.cmd, TARGETS / "hostile_names.py"])
    view = json.loads(p.read_line())
    assert view["pid"] == p.pid, "the interpreter's PID is not the child's (wrapper must exec)"
    assert "\x1b" in view["name"] and "\x07" in view["name"] and "\x9b" in view["name"]
    return p, view


def hostile_frame(frames, view):
    """The frame of FRAMES that is the target's renamed function."""
    hits = [f for f in frames if f["name"] == view["name"]]
    assert len(hits) == 1, "renamed frame not found exactly once in %r" % frames
    return hits[0]


@pytest.mark.interpreters(*ESCAPING_INTERPS)
def test_hostile_names_dump(interp, procs):
    p, view = start_hostile(procs, interp)
    qualname = view["qualname"] or view["name"]

    r = run_bytes("dump", p.pid)
    assert r.returncode == 0, r.stderr
    assert_no_raw_controls(r.stdout, "dump")
    text = r.stdout.decode("utf-8")
    # escaped, not dropped: the name stays recognisable
    assert "evil\\x1b[31mred\\x07bel\\x7fdel\\u009bcsi" in text, text
    assert 'File "/hostile/\\x1b[2Jclear\\x07.py"' in text, text

    r = run_bytes("dump", "--json", p.pid)
    assert r.returncode == 0, r.stderr
    assert_no_raw_controls(r.stdout, "dump --json")
    doc = json.loads(r.stdout.decode("utf-8"))
    main = [t for t in doc["threads"] if t["main"]]
    assert len(main) == 1
    f = hostile_frame(main[0]["frames"], view)
    assert f["qualname"] == qualname
    assert f["file"] == view["file"]


@pytest.mark.interpreters(*ESCAPING_INTERPS)
def test_hostile_names_attach(interp, procs, tmp_path):
    p, view = start_hostile(procs, interp)
    qualname = view["qualname"] or view["name"]

    r = run_bytes("attach", "-d", "0.3", "-r", "200", p.pid)
    assert r.returncode == 0, r.stderr
    assert_no_raw_controls(r.stdout, "attach summary")
    assert "evil\\x1b[31mred\\x07bel\\x7fdel\\u009bcsi" in r.stdout.decode("utf-8")

    collapsed = tmp_path / "out.txt"
    r = run_bytes("attach", "-d", "0.3", "-r", "200", "-o", collapsed, p.pid)
    assert r.returncode == 0, r.stderr
    data = collapsed.read_bytes()
    assert_no_raw_controls(data, "collapsed file")
    stacks = parse_collapsed(data.decode("utf-8"))
    # percent-decoding gives the names back exactly
    frames = {(urllib.parse.unquote(f), urllib.parse.unquote(q))
              for _, fr, _ in stacks for f, q, _ in fr}
    assert (view["file"], qualname) in frames, frames

    speedscope = tmp_path / "out.json"
    r = run_bytes("attach", "-d", "0.3", "-r", "200", "-o", speedscope, p.pid)
    assert r.returncode == 0, r.stderr
    data = speedscope.read_bytes()
    assert_no_raw_controls(data, "speedscope file")
    doc = json.loads(data.decode("utf-8"))
    names = {(f["name"], f["file"]) for f in doc["shared"]["frames"]}
    assert (qualname, view["file"]) in names, names


# --- item 8: -o ---------------------------------------------------------------------------

def test_output_through_symlink(procs, tmp_path):
    p = start_parked(procs)
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    os.chmod(str(real), 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")  # relative, as users make them
    link2 = tmp_path / "link2.txt"
    link2.symlink_to(link)  # a chain
    before = set(os.listdir(str(tmp_path)))

    r = run_tc("attach", "-d", "0.2", "-o", link2, p.pid)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(str(link)) == "real.txt"
    assert link2.is_symlink() and os.readlink(str(link2)) == str(link)
    st = os.lstat(str(real))
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o640, oct(st.st_mode)
    assert parse_collapsed(real.read_text())
    assert set(os.listdir(str(tmp_path))) == before, "files left behind"


def dev_stdout_state():
    st = os.lstat("/dev/stdout")
    assert stat.S_ISLNK(st.st_mode) or stat.S_ISCHR(st.st_mode), \
        "/dev/stdout is not a symlink or a device on this machine: %o" % st.st_mode
    return (st.st_mode, st.st_ino, st.st_dev,
            os.readlink("/dev/stdout") if stat.S_ISLNK(st.st_mode) else None)


def test_output_dev_stdout(procs, tmp_path):
    """`-o LINK > file` with LINK -> /dev/stdout writes into the file and leaves both LINK
    and /dev/stdout what they were. Only a private link is handed to tachyon-c: a broken
    build given /dev/stdout itself would replace the machine's /dev/stdout."""
    before = dev_stdout_state()
    p = start_parked(procs)
    link = tmp_path / "to-stdout"
    link.symlink_to("/dev/stdout")
    out = tmp_path / "captured.txt"
    with open(str(out), "wb") as f:
        r = run_bytes("attach", "-d", "0.2", "-o", link, p.pid, stdout=f)
    assert r.returncode == 0, r.stderr
    assert dev_stdout_state() == before, "/dev/stdout was replaced"
    assert link.is_symlink() and os.readlink(str(link)) == "/dev/stdout"
    assert parse_collapsed(out.read_text())


def test_output_not_regular_written_in_place(procs, tmp_path):
    p = start_parked(procs)
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        r = run_tc("attach", "-d", "0.2", "-o", fifo, p.pid)
        data = reader.communicate(timeout=60)[0]
    finally:
        if reader.poll() is None:
            reader.kill()
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)
    assert parse_collapsed(data.decode())
    r = run_tc("attach", "-d", "0.2", "-o", "/dev/null", p.pid)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_output_planted_temporary_name(procs, tmp_path):
    """The old temporary name PATH.tmp.PID was predictable and followed: links planted at
    every PID the next run may get must neither be written through nor become the output."""
    p = start_parked(procs)
    victim = tmp_path / "victim"
    victim.write_text("secret\n")
    out = tmp_path / "out.txt"
    with open("/proc/sys/kernel/ns_last_pid") as f:
        last = int(f.read())
    planted = []
    for pid in range(last + 1, last + 400):
        t = tmp_path / ("out.txt.tmp.%d" % pid)
        t.symlink_to(victim)
        planted.append(t)
    r = run_tc("attach", "-d", "0.2", "-o", out, p.pid)
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "secret\n", "a planted symlink was written through"
    assert not out.is_symlink(), "a planted symlink became the output"
    assert parse_collapsed(out.read_text())
    assert all(t.is_symlink() for t in planted)


def test_output_new_file_mode(procs, tmp_path):
    p = start_parked(procs)
    out = tmp_path / "new.txt"
    r = run_bytes("attach", "-d", "0.2", "-o", out, p.pid, preexec_fn=lambda: os.umask(0o027))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.lstat(str(out)).st_mode) == 0o640


def test_output_failure_keeps_destination(procs, tmp_path):
    """A destination that cannot be replaced (a directory) is left alone, with a message and
    no temporary file behind."""
    p = start_parked(procs)
    work = tmp_path / "work"
    d = work / "adir"
    d.mkdir(parents=True)
    (d / "keep").write_text("x")
    r = run_tc("attach", "-d", "0.2", "-o", d, p.pid)
    assert r.returncode == 1, r.stderr
    assert str(d) in r.stderr
    assert os.listdir(str(work)) == ["adir"]
    assert os.listdir(str(d)) == ["keep"]


def limit_file_size():
    """In the child: files may not grow past 64 bytes; a write past it fails with EFBIG
    instead of raising SIGXFSZ (an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))


def test_output_write_failure_keeps_destination(procs, tmp_path):
    """The write itself fails half way: the old file keeps its content, the temporary file is
    gone, and the message gives the reason."""
    p = start_parked(procs)
    work = tmp_path / "work"
    work.mkdir()
    out = work / "profile.json"
    out.write_text("old profile\n")
    r = run_bytes("attach", "-d", "0.2", "-o", out, p.pid, preexec_fn=limit_file_size)
    assert r.returncode == 1, r.stderr
    assert "File too large" in r.stderr and str(out) in r.stderr, r.stderr
    assert out.read_text() == "old profile\n"
    assert os.listdir(str(work)) == ["profile.json"], "temporary file left behind"


@pytest.mark.parametrize("option", ["-o", "--output", "--alloc-log"])
def test_output_empty_name(option):
    r = run_tc("attach", "-d", "0.2", option, "", "1")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "file name" in r.stderr and "usage:" in r.stderr


# --- item 10: write errors ----------------------------------------------------------------

WRITERS = [
    ["dump"], ["dump", "--json"], ["stats"], ["stats", "--json"], ["stats", "--watch", "0.2"],
    ["bench", "-d", "0.2"], ["bench", "-d", "0.2", "--json"], ["attach", "-d", "0.2"],
    ["attach", "-d", "0.2", "-o", "-"], ["attach", "-d", "0.2", "-o", "/dev/full"],
    ["attach", "-d", "0.2", "--alloc-log", "/dev/full", "-o", "/dev/null"],
]


@pytest.mark.parametrize("args", WRITERS, ids=[" ".join(a) for a in WRITERS])
def test_write_error(procs, args):
    assert os.path.exists("/dev/full"), "/dev/full is missing: this test cannot check anything"
    p = start_parked(procs)
    with open("/dev/full", "wb") as full:
        r = run_bytes(*(args + [p.pid]), stdout=full)
    assert r.returncode == 1, "exit %d, stderr: %s" % (r.returncode, r.stderr)
    assert "No space left on device" in r.stderr, r.stderr
    assert "stdout" in r.stderr or "/dev/full" in r.stderr, r.stderr


# --- item 10: PID operands ----------------------------------------------------------------

BAD_PIDS = [" 1", "+1", "", "0x10", "1e3", "-1", "0", "2147483648", "99999999999", "1 "]


@pytest.mark.parametrize("cmd", ["dump", "attach", "stats", "bench"])
@pytest.mark.parametrize("pid", BAD_PIDS, ids=[repr(p) for p in BAD_PIDS])
def test_bad_pid(cmd, pid):
    r = run_tc(cmd, pid)
    assert r.returncode == 2, "%s %r: exit %d, stderr: %s" % (cmd, pid, r.returncode, r.stderr)
    assert "usage:" in r.stderr


def kernel_thread():
    """PID 2 (kthreadd) when it is a kernel thread here, else another one; fails if none."""
    pids = [2] + sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[6]) & 0x00200000:  # PF_KTHREAD
            return pid
    pytest.fail("no kernel thread visible in /proc")


@pytest.mark.parametrize("cmd", ["dump", "attach", "stats"])
def test_kernel_thread(cmd):
    pid = kernel_thread()
    r = run_tc(cmd, pid, *(["-d", "0.2"] if cmd == "attach" else []))
    assert r.returncode == 5, "exit %d, stderr: %s" % (r.returncode, r.stderr)
    assert "kernel thread" in r.stderr and "no such process" not in r.stderr, r.stderr
