# SPDX-License-Identifier: MIT
"""`tachyon-c dump` against every interpreter of the manifest.

tests/targets/stacks.py parks four threads (nested class method, closure, lambda, generator;
3,000-frame recursion; coroutine under asyncio.run; plain thread) in read() and records each
thread's own sys._getframe() view; the dump must match it exactly, frame for frame.
"""

import json
import re

from conftest import run_tc, start_stacks
from gil_target import start_gil

FIELDS = ("name", "qualname", "file", "line", "first_line")


def fmt(frame):
    return "%s (%s) %s:%s first_line=%s" % tuple(frame.get(k) for k in FIELDS)


def compare_frames(role, expected, got):
    """Exact comparison with a readable message for stacks of thousands of frames."""
    got = [{k: f.get(k) for k in FIELDS} for f in got]
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            lo = max(0, i - 2)
            return ("thread %s: frame %d (innermost = 0) differs\n  expected: %s\n  got:      %s\n"
                    "context expected: %s\ncontext got:      %s"
                    % (role, i, fmt(e), fmt(g), [fmt(f) for f in expected[lo:i + 3]],
                       [fmt(f) for f in got[lo:i + 3]]))
    if len(expected) != len(got):
        n = min(len(expected), len(got))
        return ("thread %s: %d frames expected, %d dumped; first unmatched: expected %s, got %s"
                % (role, len(expected), len(got),
                   fmt(expected[n]) if n < len(expected) else "-",
                   fmt(got[n]) if n < len(got) else "-"))
    return None


def test_dump_json_matches_target_view(interp, procs, tmp_path):
    target, views = start_stacks(procs, interp, tmp_path)
    r = run_tc("dump", target.pid, "--json")
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    doc = json.loads(r.stdout)

    assert doc["pid"] == target.pid
    py = doc["python"]
    assert py["version"] == interp.version
    assert py["debug"] is interp.debug
    assert py["free_threaded"] is False

    threads = doc["threads"]
    by_tid = {t["thread_id"]: t for t in threads}
    assert len(by_tid) == len(threads), "duplicate thread_id in %r" % [t["thread_id"] for t in threads]
    expected_tids = {v["thread_id"]: v["role"] for v in views["threads"]}
    assert set(by_tid) == set(expected_tids), \
        "threads dumped %r, target has %r" % (sorted(by_tid), expected_tids)

    problems = []
    for v in views["threads"]:
        t = by_tid[v["thread_id"]]
        role = v["role"]
        if t["native_id"] != v["native_id"]:
            problems.append("thread %s: native_id %r, expected %r" % (role, t["native_id"], v["native_id"]))
        if t["main"] is not v["main"]:
            problems.append("thread %s: main %r, expected %r" % (role, t["main"], v["main"]))
        # every thread is blocked in read() with the GIL released
        if t["holds_gil"] is not False:
            problems.append("thread %s: holds_gil %r, expected false" % (role, t["holds_gil"]))
        if t["truncated"] is not False:
            problems.append("thread %s: truncated %r, expected false" % (role, t["truncated"]))
        diff = compare_frames(role, v["frames"], t["frames"])
        if diff:
            problems.append(diff)
    assert not problems, "\n".join(problems)
    assert sum(t["main"] for t in threads) == 1

    # a dump must not disturb the target: it still releases and exits cleanly
    assert target.finish() == 0, target.stderr()


def thread_sections(text, views):
    """Split the text dump into one section per thread, located by any spelling of its ids."""
    starts = []
    for v in views["threads"]:
        found = []
        # prefer the thread identifier: the main thread's native id is also the PID
        for spellings in ([str(v["thread_id"]), "%#x" % v["thread_id"]], [str(v["native_id"])]):
            for s in spellings:
                for m in re.finditer(r"(?<![0-9a-fA-Fx])%s(?![0-9a-fA-F])" % re.escape(s), text):
                    if not re.search(r"(?i)pid\W{0,3}$", text[max(0, m.start() - 8):m.start()]):
                        found.append(m.start())
            if found:
                break
        assert found, "thread %s (native %d, ident %d) not named in the text dump:\n%s" \
            % (v["role"], v["native_id"], v["thread_id"], text[:2000])
        starts.append((min(found), v["role"]))
    starts.sort()
    sections = {}
    for i, (pos, role) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        sections[role] = text[pos:end]
    return sections


def find_in_order(lines, names):
    """Index of the line holding each name, each after the previous one; None where missing."""
    at = 0
    positions = []
    for name in names:
        pat = re.compile(r"(?<![\w])%s(?![\w])" % re.escape(name))
        for i in range(at, len(lines)):
            if pat.search(lines[i]):
                positions.append(i)
                at = i + 1
                break
        else:
            return name
    return None


def test_dump_text_is_traceback_ordered(interp, procs, tmp_path):
    target, views = start_stacks(procs, interp, tmp_path)
    r = run_tc("dump", target.pid)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    text = r.stdout
    sections = thread_sections(text, views)
    for v in views["threads"]:
        lines = sections[v["role"]].splitlines()
        # our own functions, outermost first: innermost must come last, like a traceback
        ours = [f["name"] for f in reversed(v["frames"]) if f["file"].endswith("stacks.py")]
        if v["role"] == "deep":
            ours = [n for i, n in enumerate(ours) if n != "recurse" or ours[i - 1] != "recurse"]
        missing = find_in_order(lines, ours)
        assert missing is None, ("thread %s: %r not found in order (outermost first) %r in:\n%s"
                                 % (v["role"], missing, ours, "\n".join(lines[:40])))
        innermost = v["frames"][0]["name"]
        last_named = [i for i, l in enumerate(lines)
                      if any(re.search(r"(?<![\w])%s(?![\w])" % re.escape(n), l) for n in set(ours))]
        assert re.search(r"(?<![\w])%s(?![\w])" % re.escape(innermost), lines[last_named[-1]]), \
            "thread %s: innermost %s is not the last frame listed" % (v["role"], innermost)
    assert target.finish() == 0, target.stderr()


def test_dump_json_holds_gil(interp, procs, tmp_path):
    """tests/targets/h5_gil.py: the main thread spins in pure Python and nothing else wants the
    GIL, so it holds it at every instant; the other threads are blocked with it released.
    Every interpreter of the matrix has a GIL-state layout (3.9-3.12 compiled-in tables,
    3.13+ _Py_DebugOffsets), so holds_gil is known on each: true for exactly the spinner."""
    g = start_gil(procs, interp, tmp_path, "main")
    for walk in range(3):  # three dumps, each its own snapshot
        r = run_tc("dump", g.proc.pid, "--json")
        assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
        threads = json.loads(r.stdout)["threads"]
        held = {g.role_of(t["native_id"]): t["holds_gil"] for t in threads}
        assert held == {"spinner": True, "sleeper": False, "waiter": False, "reader": False}, held
        for t in threads:
            role = g.role_of(t["native_id"])
            frames = [(f["file"], f["qualname"], f["line"]) for f in reversed(t["frames"])]
            problem = g.stack_problem(role, frames)
            assert problem is None, problem
            assert t["main"] is (role == "spinner")
    # the text dump says which thread holds it, on that thread's heading alone
    r = run_tc("dump", g.proc.pid)
    assert r.returncode == 0, r.stderr
    marked = [l for l in r.stdout.splitlines() if "holds the GIL" in l]
    assert len(marked) == 1 and marked[0].startswith("Thread %d " % g.native_id("spinner")), \
        r.stdout
    assert g.proc.finish() == 0
