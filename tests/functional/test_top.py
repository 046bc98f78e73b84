# SPDX-License-Identifier: MIT
"""`tachyon-c top`: the live view, driven for real in tmux (send-keys, capture-pane).

Each test runs tachyon-c in a detached tmux session on a private server socket (killed at the
end) at 120x40, presses keys and reads the screen back. Waits poll the screen until what is
expected shows up (or a generous deadline passes); nothing asserts on timing or on how many
samples a stretch of time gives. The session test writes a capture of that real session into
its temporary directory; docs/examples/top-session.txt is refreshed from it only on request
(TC_TOP_SESSION_OUT=docs/examples/top-session.txt), never as a side effect of a test run.

Targets: tests/targets/clock_split.py (one thread, 75% of wall time in hot(), 25% in cold()),
tests/targets/top_threads.py (the same on the main thread plus a thread asleep in
idle_wait()).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import TARGETS, run_tc, start_clock_split, tc_argv

SESSION_SUBSET = ("debian-3.11", "debian-3.15", "pyenv-3.12.1")
SESSION_OUT = os.environ.get("TC_TOP_SESSION_OUT")  # also write the capture there
WAIT = 20.0  # longest wait for the screen to show something (a loaded machine)


class Tmux:
    """One detached tmux session on a private server, running one command."""

    def __init__(self, tmp_path, argv, cols=120, rows=40):
        if shutil.which("tmux") is None:
            pytest.fail("the top tests drive a terminal through tmux: install tmux")
        self.sock = "tctest-top-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.rc_path = tmp_path / ("top-rc-%s" % self.sock)
        # the shell records tachyon-c's exit status, then keeps the pane open (surviving
        # the Ctrl-C meant for tachyon-c)
        script = 'trap : INT; "$@"; echo $? > %s; exec sleep 600' % shlex.quote(str(self.rc_path))
        cmd = "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen sh -c %s sh %s" % (
            shlex.quote(script), " ".join(shlex.quote(str(a)) for a in argv))
        self.tmux("new-session", "-d", "-s", "top", "-x", str(cols), "-y", str(rows), cmd)

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if check and r.returncode != 0:
            pytest.fail("tmux %s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout.decode("utf-8", errors="replace")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "top")

    def keys(self, *keys):
        for k in keys:
            self.tmux("send-keys", "-t", "top", k)

    def literal(self, text):
        self.tmux("send-keys", "-t", "top", "-l", text)

    def resize(self, cols, rows):
        self.tmux("resize-window", "-t", "top", "-x", str(cols), "-y", str(rows))

    def wait(self, pred, what, timeout=WAIT):
        """Poll the screen until PRED(screen) is true; returns that screen."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            last = self.screen()
            if pred(last):
                return last
            time.sleep(0.1)
        pytest.fail("screen never showed %s within %.0f s; last screen:\n%s" % (what, timeout, last))

    def exit_status(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.rc_path.exists():
                text = self.rc_path.read_text().strip()
                if text:
                    return int(text)
            time.sleep(0.05)
        pytest.fail("tachyon-c top did not exit within %.0f s; screen:\n%s"
                    % (timeout, self.screen()))

    def running(self):
        return not self.rc_path.exists()

    def kill(self):
        self.tmux("kill-server", check=False)
        # the server leaves its socket behind; it is ours alone
        path = "/tmp/tmux-%d/%s" % (os.getuid(), self.sock)
        if os.environ.get("TMUX_TMPDIR"):
            path = os.path.join(os.environ["TMUX_TMPDIR"], "tmux-%d" % os.getuid(), self.sock)
        try:
            os.unlink(path)
        except OSError:
            pass


@pytest.fixture
def tmux_sessions():
    sessions = []
    yield sessions
    for s in sessions:
        s.kill()


def start_top(tmux_sessions, tmp_path, pid, *args, cols=120, rows=40):
    t = Tmux(tmp_path, tc_argv("top", pid, *args), cols, rows)
    tmux_sessions.append(t)
    return t


# --- reading the screen -----------------------------------------------------------------------

def header_value(screen, label):
    m = re.search(r"(?:^|\s)%s ([\d,.]+)" % re.escape(label), screen, re.M)
    return m.group(1).replace(",", "") if m else None


def samples(screen):
    v = header_value(screen, "samples")
    return int(v) if v is not None else -1


def status_line(screen):
    for line in screen.splitlines():
        if line.startswith(("sort ", "filter: ", "thread: ")):
            return line
    return ""


def seconds(text):
    """OwnTime/TotalTime cell: 1.23s, 4m05s, 1h02m."""
    m = re.fullmatch(r"(\d+\.\d+)s", text)
    if m:
        return float(m.group(1))
    m = re.fullmatch(r"(\d+)m(\d+)s", text)
    if m:
        return 60 * int(m.group(1)) + int(m.group(2))
    m = re.fullmatch(r"(\d+)h(\d+)m", text)
    assert m, "bad time cell %r" % text
    return 3600 * int(m.group(1)) + 60 * int(m.group(2))


def table(screen):
    """(columns, rows) of the table: columns are the heading's names; each row is a dict with
    own, total (percent), own_time, total_time (seconds, when shown), func, loc."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if "%Own" in line and "Function" in line:
            break
    else:
        return [], []
    head = lines[i]
    cols = head.split()
    f0 = head.index("Function")
    l0 = head.index("file:line") if "file:line" in head else None
    rows = []
    for line in lines[i + 1:]:
        if not line.strip() or line.lstrip().startswith("("):
            break
        nums = line[:f0].split()
        if len(nums) < 2:
            break
        row = {"own": float(nums[0]), "total": float(nums[1]),
               "func": line[f0:l0].strip() if l0 else line[f0:].strip(),
               "loc": line[l0:].strip() if l0 else None}
        rest = nums[2:]
        if "OwnTime" in cols:
            row["own_time"] = seconds(rest.pop(0))
        if "TotalTime" in cols:
            row["total_time"] = seconds(rest.pop(0))
        rows.append(row)
    return cols, rows


def row(screen, func):
    for r in table(screen)[1]:
        if r["func"] == func:
            return r
    return None


def has_rows(*funcs):
    def pred(screen):
        names = {r["func"] for r in table(screen)[1]}
        return all(f in names for f in funcs)
    return pred


def clean(screen):
    return "\n".join(line.rstrip() for line in screen.rstrip("\n").splitlines()).rstrip() + "\n"


# --- tests ------------------------------------------------------------------------------------

def test_top_needs_a_terminal():
    # no tty: stdin is /dev/null, stdout a pipe (run_tc); no attach is even tried
    r = run_tc("top", os.getpid())
    assert r.returncode == 2, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    assert "terminal" in r.stderr and "tachyon-c attach %d" % os.getpid() in r.stderr, r.stderr
    assert r.stdout == ""


def test_top_usage():
    r = run_tc("top")
    assert r.returncode == 2 and "missing PID" in r.stderr, r.stderr
    r = run_tc("top", "1", "-r", "fast")
    assert r.returncode == 2 and "bad rate" in r.stderr, r.stderr
    r = run_tc("top", "1", "-i", "0")
    assert r.returncode == 2 and "bad interval" in r.stderr, r.stderr
    r = run_tc("top", "1", "--threads", "some")
    assert r.returncode == 2, r.stderr
    r = run_tc("help", "top")
    assert r.returncode == 0
    for word in ("--rate", "--interval", "keys:", "EXAMPLES", "attach"):
        assert word in r.stdout, "help top lacks %r:\n%s" % (word, r.stdout)


@pytest.mark.interpreters(*SESSION_SUBSET)
def test_top_session(interp, procs, tmp_path, tmux_sessions):
    target, info = start_clock_split(procs, interp)
    pid = target.pid
    t = start_top(tmux_sessions, tmp_path, pid)
    capture = []

    def keep(title, screen):
        capture.append((title, clean(screen)))

    # -- the hot function on top, with its share, after a couple of full windows
    s = t.wait(lambda s: has_rows("hot", "cold")(s) and samples(s) >= 200, "hot and cold rows")
    first = table(s)[1][0]
    assert first["func"] == "hot", "top row is %r, not hot:\n%s" % (first, s)
    assert 60 <= first["own"] <= 90, "hot has %.1f%% own:\n%s" % (first["own"], s)
    assert first["loc"].endswith("clock_split.py:%d" % info["hot"][0]), first
    cold = row(s, "cold")
    assert 10 <= cold["own"] <= 40, "cold has %.1f%% own:\n%s" % (cold["own"], s)
    assert row(s, "run")["total"] >= 90 and row(s, "run")["own"] <= 5
    assert "PID %d" % pid in s and "Python %s" % interp.version in s
    assert "clock_split.py" in s.splitlines()[0]
    for word in ("GIL ", "CPU ", "idle ", "threads 1/1", "RSS ", "rate ", "failed ",
                 "refresh 1s", "up 0:00:"):
        assert word in s, "header lacks %r:\n%s" % (word, s)
    # the allocator line is read from the target (daemon/alloc.h): figures, not n/a
    for pat in (r"GC \d+(\.\d+)?%", r"pymalloc \d", r"arenas \d+", r"GC/s \d"):
        assert re.search(pat, s), "header lacks %r:\n%s" % (pat, s)
    assert status_line(s).startswith("sort %Own  view functions  thread all"), status_line(s)
    keep("tachyon-c top %d  (tests/targets/clock_split.py: 75%% of the time in hot(), 25%% in cold())" % pid, s)

    # -- sort columns: 1-4, s and S
    def sorted_by(key, label, name):
        s = t.wait(lambda s: status_line(s).startswith("sort %s " % label), "sort %s" % label)
        cols, rows = table(s)
        vals = [r[key] for r in rows]
        assert vals == sorted(vals, reverse=True), "%s not sorted by %s:\n%s" % (name, key, s)
        return s

    t.keys("2")
    s = sorted_by("total", "%Total", "2")
    assert table(s)[1][0]["total"] >= 90
    t.keys("3")
    s = sorted_by("own_time", "OwnTime", "3")
    assert table(s)[1][0]["func"] == "hot"
    t.keys("4")
    s = sorted_by("total_time", "TotalTime", "4")
    assert table(s)[1][0]["func"] in ("<module>", "run")
    t.keys("s")  # wraps around to the first column
    sorted_by("own", "%Own", "s")
    t.keys("S")
    sorted_by("total_time", "TotalTime", "S")
    t.keys("S")
    sorted_by("own_time", "OwnTime", "S S")
    t.keys("1")
    sorted_by("own", "%Own", "1")

    # -- per line, and back per function
    t.keys("l")
    s = t.wait(lambda s: "view lines" in status_line(s) and has_rows("hot")(s), "per-line view")
    hot_lines = [r for r in table(s)[1] if r["func"] == "hot"]
    for r in hot_lines:
        file, line = r["loc"].rsplit(":", 1)
        assert file.endswith("clock_split.py")
        assert info["hot"][0] < int(line) <= info["hot"][1], "hot row at line %s:\n%s" % (line, s)
    keep("key l: one row per line", s)
    t.keys("l")
    s = t.wait(lambda s: "view functions" in status_line(s), "per-function view")
    assert len([r for r in table(s)[1] if r["func"] == "hot"]) == 1

    # -- help overlay; any key closes it
    t.keys("?")
    s = t.wait(lambda s: "tachyon-c top: keys" in s, "the help")
    for word in ("sort by", "per function / per line", "pause", "reset", "filter", "quit"):
        assert word in s, "help lacks %r:\n%s" % (word, s)
    keep("key ?: help", s)
    t.keys("x")
    t.wait(lambda s: "tachyon-c top: keys" not in s, "the help closed")

    # -- filter, typed live; Enter keeps it; c clears it; Esc cancels an edit
    t.keys("/")
    t.literal("COL")
    s = t.wait(lambda s: status_line(s).startswith("filter: COL_"), "the filter prompt")
    t.keys("Enter")
    s = t.wait(lambda s: 'filter "COL"' in status_line(s), "the filter kept")
    assert [r["func"] for r in table(s)[1]] == ["cold"], s
    keep("keys / C O L Enter: rows whose function or file contains \"col\"", s)
    t.keys("c")
    s = t.wait(lambda s: "filter" not in status_line(s) and has_rows("hot", "cold")(s), "no filter")
    t.keys("/")
    t.literal("zz")
    t.wait(lambda s: status_line(s).startswith("filter: zz_"), "the filter prompt")
    t.keys("Escape")
    s = t.wait(lambda s: status_line(s).startswith("sort "), "the prompt closed")
    assert "filter" not in status_line(s) and has_rows("hot")(s)

    # -- refresh faster / slower
    t.keys("+")
    t.wait(lambda s: "refresh 0.5s" in s, "refresh 0.5s")
    t.keys("-", "-")
    t.wait(lambda s: "refresh 2s" in s, "refresh 2s")
    t.keys("+")
    t.wait(lambda s: "refresh 1s" in s, "refresh 1s")

    # -- pause: the screen stays as it is while sampling goes on. Watched over two refresh
    # intervals (a slower machine only refreshes less often: it cannot make this fail), and
    # redrawn by keys: the per-line view and back shows the same frozen figures
    t.keys("p")
    paused = t.wait(lambda s: "PAUSED" in status_line(s), "PAUSED")
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        assert t.screen() == paused, "the screen changed while paused"
        time.sleep(0.1)
    t.keys("l")
    t.wait(lambda s: "view lines" in status_line(s) and "PAUSED" in status_line(s), "paused lines")
    t.keys("l")
    t.wait(lambda s: s == paused, "the same paused screen after l l")
    t.keys("p")
    s = t.wait(lambda s: "PAUSED" not in s and samples(s) > samples(paused),
               "the sample count moving on")

    # -- reset: counts start again (fewer samples and less time in hot than before it)
    s = t.wait(lambda s: row(s, "hot") and row(s, "hot")["own_time"] >= 3, "hot at 3 s")
    before, hot_before = samples(s), row(s, "hot")["own_time"]
    t.keys("r")
    s = t.wait(lambda s: has_rows("hot")(s) and samples(s) < before, "counts after reset")
    assert row(s, "hot")["own_time"] < hot_before, s

    # -- resizes: columns drop in order, then the minimum size message
    t.resize(70, 30)
    s = t.wait(lambda s: "OwnTime" in s and "TotalTime" not in s and has_rows("hot")(s), "70 columns")
    t.resize(60, 12)
    s = t.wait(lambda s: "OwnTime" not in s and "%Total" in s and "file:line" in s and has_rows("hot")(s),
               "60x12")
    assert all(len(line) <= 60 for line in s.splitlines()), s
    keep("resized to 60x12", s)
    t.resize(59, 12)
    s = t.wait(lambda s: "terminal too small: 59x12" in s, "too small (width)")
    assert "60x12" in s
    t.resize(120, 11)
    t.wait(lambda s: "terminal too small: 120x11" in s, "too small (height)")
    t.resize(120, 40)
    s = t.wait(lambda s: "TotalTime" in s and has_rows("hot")(s), "120x40 again")

    # -- q quits with status 0 and gives the terminal back
    t.keys("q")
    assert t.exit_status() == 0
    s = t.wait(lambda s: "%Own" not in s, "the terminal restored")

    out = ["# A real `tachyon-c top` session, captured from tmux (120x40) by",
           "# tests/functional/test_top.py::test_top_session on %s (Python %s)."
           % (interp.name, interp.version),
           "# Refreshed with TC_TOP_SESSION_OUT=docs/examples/top-session.txt python3 -m pytest",
           "# tests/functional/test_top.py -k 'session and %s'; do not edit by hand." % interp.name,
           ""]
    for title, screen in capture:
        out += ["=== %s ===" % title, screen]
    (tmp_path / "top-session.txt").write_text("\n".join(out))
    if SESSION_OUT and interp.name == SESSION_SUBSET[0]:
        with open(SESSION_OUT, "w") as f:
            f.write("\n".join(out))


@pytest.mark.interpreters("debian-3.13")
def test_top_threads(interp, procs, tmp_path, tmux_sessions):
    target = procs.start([interp.cmd, TARGETS / "top_threads.py", 120])
    info = json.loads(target.read_line())
    main, worker = info["main_native_id"], info["worker_native_id"]
    t = start_top(tmux_sessions, tmp_path, target.pid, "-i", "0.5")
    s = t.wait(lambda s: has_rows("hot", "idle_wait")(s) and "threads 2/2" in s, "both threads")
    assert status_line(s).startswith("sort %Own  view functions  thread all")

    t.keys("t")
    t.wait(lambda s: status_line(s).startswith("thread: < all >"), "thread choice")
    t.keys("Right")
    s = t.wait(lambda s: status_line(s).startswith("thread: < %d (main) >" % main)
               and has_rows("hot")(s) and not has_rows("idle_wait")(s), "the main thread alone")
    # a fresh window of the main thread alone: hot near 75% of it
    s = t.wait(lambda s: row(s, "hot") is not None and "threads 1/2" in s, "main thread window")
    assert 60 <= row(s, "hot")["own"] <= 90, s
    t.keys("Right")  # the main thread comes first, then the others
    t.wait(lambda s: status_line(s).startswith("thread: < %d >" % worker)
           and has_rows("idle_wait")(s) and not has_rows("hot")(s), "the worker alone")
    t.keys("Right")
    t.wait(lambda s: status_line(s).startswith("thread: < all >") and has_rows("hot", "idle_wait")(s),
           "all threads again")
    t.keys("Left")
    t.wait(lambda s: status_line(s).startswith("thread: < %d >" % worker), "Left: the worker")
    t.keys("Enter")
    s = t.wait(lambda s: status_line(s).startswith("sort %%Own  view functions  thread %d" % worker),
               "the choice kept")
    assert not has_rows("hot")(s)

    # Ctrl-C ends the view cleanly too
    t.keys("C-c")
    assert t.exit_status() == 0
    t.wait(lambda s: "%Own" not in s, "the terminal restored")


@pytest.mark.interpreters("pyenv-3.12.1")
def test_top_target_exit(interp, procs, tmp_path, tmux_sessions):
    target, info = start_clock_split(procs, interp, seconds=3)
    t = start_top(tmux_sessions, tmp_path, target.pid)
    s = t.wait(lambda s: "exited after" in s, "the exit banner")
    assert "process %d exited after" % target.pid in s and "Press q to quit" in s, s
    assert has_rows("hot", "cold")(s), "the last view is gone:\n%s" % s
    t.keys("l")  # keys still work on the last view
    t.wait(lambda s: "view lines" in status_line(s) and "exited after" in s and has_rows("hot")(s),
           "the per-line last view")
    t.keys("l")  # and back: the very same figures (nothing was added after the exit)
    t.wait(lambda x: x == s, "the same last view after l l")
    assert t.running(), "top ended on its own"
    t.keys("q")
    assert t.exit_status() == 0
    s = t.wait(lambda s: "%Own" not in s, "the terminal restored")
    assert "process %d exited after" % target.pid in s, s
