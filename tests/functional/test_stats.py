# SPDX-License-Identifier: MIT
"""`tachyon-c stats` (and `attach --alloc-log`) against every interpreter of the manifest.

tests/targets/alloc_mix.py allocates a known mix, collects some cyclic garbage, sets GC
thresholds, disables the GC, records its own sys.getallocatedblocks(), gc.get_stats(),
gc.get_threshold() and gc.get_count(), and writes sys._debugmallocstats() to a file, then blocks.
`stats --json` must agree: pools per size class exactly, blocks within a handful (the target's
own recording allocates a little after it measured), arenas exactly, GC thresholds and records
exactly. A figure the build does not expose must be null with a reason, never a guess.
"""

import json
import os
import re
import signal

import pytest

from conftest import TARGETS, run_tc, tc_argv

# Blocks the target may allocate between measuring and blocking (its recording itself).
BLOCK_SLACK = 64

CLASS_LINE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
ARENA_LINE = re.compile(r"^# arenas (allocated total|reclaimed|highwater mark|allocated current)"
                        r"\s*=\s*([\d,]+)\s*$")
BYTES_LINE = re.compile(r"^# bytes in (allocated|available) blocks\s*=\s*([\d,]+)\s*$")

ARENA_KEYS = {"allocated total": "allocated_total", "reclaimed": "reclaimed",
              "highwater mark": "highwater", "allocated current": "current"}

# Builds whose lifetime arena counters have no anchor (stripped, state in static globals).
STRIPPED_STATICS = {"debian-3.9", "debian-3.11"}


def parse_mallocstats(text):
    """sys._debugmallocstats() text -> (classes {index: (size, pools, blocks, avail)},
    arenas {key: n}, bytes {allocated, available})."""
    classes, arenas, nbytes = {}, {}, {}
    in_table = False
    for line in text.splitlines():
        if line.startswith("class "):
            in_table = True
            continue
        if in_table:
            m = CLASS_LINE.match(line)
            if m:
                i, size, pools, blocks, avail = map(int, m.groups())
                classes[i] = (size, pools, blocks, avail)
                continue
            if line.strip() and not line.startswith("-"):
                in_table = False
        m = ARENA_LINE.match(line)
        if m:
            arenas[ARENA_KEYS[m.group(1)]] = int(m.group(2).replace(",", ""))
        m = BYTES_LINE.match(line)
        if m:
            nbytes[m.group(1)] = int(m.group(2).replace(",", ""))
    assert classes, "no size-class table in sys._debugmallocstats() output:\n%s" % text[:2000]
    assert set(arenas) == set(ARENA_KEYS.values()), "arena lines missing: %r" % arenas
    return classes, arenas, nbytes


def start_snapshot(procs, interp, tmp_path):
    view_path, stats_path = tmp_path / "view.json", tmp_path / "mallocstats.txt"
    p = procs.start([interp.cmd, TARGETS / "alloc_mix.py", "snapshot", view_path, stats_path])
    line = p.read_line()
    assert line == "ready", "unexpected handshake line %r" % line
    view = json.loads(view_path.read_text())
    assert view["pid"] == p.pid, "the interpreter's PID is not the child's (wrapper must exec)"
    return p, view, stats_path.read_text()


def check_walk_invariants(doc, where):
    """Figures that must hold for any walk, even of a target that allocates meanwhile."""
    pm = doc["pymalloc"]
    assert pm is not None, "%s: pymalloc null: %r" % (where, doc.get("unavailable"))
    pool, nclass = pm["pool_size"], 32
    assert pool in (4096, 16384), "%s: pool_size %r" % (where, pool)
    for c in pm["size_classes"]:
        assert 0 <= c["index"] < nclass and c["size"] == 16 * (c["index"] + 1), (where, c)
        per_pool = (pool - 48) // c["size"]
        assert c["pools"] > 0, (where, c)
        assert 0 < c["blocks_in_use"] <= c["pools"] * per_pool, (where, c)
        assert c["free_blocks"] == c["pools"] * per_pool - c["blocks_in_use"], (where, c)
    ar = pm["arenas"]
    assert ar["current"] >= 1, (where, ar)
    for k in ("allocated_total", "reclaimed", "highwater"):
        assert ar[k] is None or ar[k] >= 0, (where, ar)
    if ar["allocated_total"] is not None:
        assert ar["allocated_total"] >= ar["highwater"] >= ar["current"], (where, ar)
        assert ar["reclaimed"] == ar["allocated_total"] - ar["current"], (where, ar)
    in_use = sum(c["blocks_in_use"] * c["size"] for c in pm["size_classes"])
    free = sum(c["free_blocks"] * c["size"] for c in pm["size_classes"])
    assert pm["bytes_in_use"] == in_use and pm["bytes_free"] == free, where
    assert pm["allocated_blocks"] >= sum(c["blocks_in_use"] for c in pm["size_classes"]), where
    assert pm["raw_allocated_blocks"] >= 0, where
    assert pm["pools_in_use"] >= 0 and pm["unused_pools"] >= 0, where
    assert 0 <= pm["fragmentation"] <= 1, where
    gc = doc["gc"]
    assert gc is not None, "%s: gc null: %r" % (where, doc.get("unavailable"))
    assert len(gc["generations"]) == 3
    for g in gc["generations"]:
        for k in ("count", "threshold", "collections", "collected", "uncollectable"):
            assert g[k] >= 0, (where, g)
    assert doc["process"]["rss_bytes"] >= doc["process"]["rss_anon_bytes"] > 0, where


def test_stats_json_matches_debugmallocstats(interp, procs, tmp_path):
    target, view, text = start_snapshot(procs, interp, tmp_path)
    classes, arenas, nbytes = parse_mallocstats(text)

    r = run_tc("stats", target.pid, "--json")
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["pid"] == target.pid
    assert doc["python"]["version"] == interp.version
    check_walk_invariants(doc, interp.name)
    pm, unavailable = doc["pymalloc"], doc["unavailable"]

    # per size class: pools exactly, blocks within a handful
    got = {c["index"]: c for c in pm["size_classes"]}
    problems = []
    if sorted(got) != sorted(classes):
        problems.append("classes in use: target %r, stats %r" % (sorted(classes), sorted(got)))
    for i, (size, pools, blocks, avail) in sorted(classes.items()):
        c = got.get(i)
        if c is None:
            continue
        if c["size"] != size or c["pools"] != pools:
            problems.append("class %d: size/pools %d/%d, target %d/%d"
                            % (i, c["size"], c["pools"], size, pools))
        if abs(c["blocks_in_use"] - blocks) > BLOCK_SLACK:
            problems.append("class %d: %d blocks in use, target %d" % (i, c["blocks_in_use"], blocks))
        if abs(c["free_blocks"] - avail) > BLOCK_SLACK:
            problems.append("class %d: %d free blocks, target %d" % (i, c["free_blocks"], avail))
    assert not problems, "\n".join(problems)
    assert abs(pm["bytes_in_use"] - nbytes["allocated"]) <= BLOCK_SLACK * 512
    assert abs(pm["bytes_free"] - nbytes["available"]) <= BLOCK_SLACK * 512
    assert abs(pm["allocated_blocks"] - view["allocated_blocks"]) <= BLOCK_SLACK, \
        "allocated_blocks %d, sys.getallocatedblocks() %d" % (pm["allocated_blocks"],
                                                                view["allocated_blocks"])

    # arenas: exact where the build exposes them, null with a reason where it does not
    assert pm["arenas"]["current"] == arenas["current"]
    for k in ("allocated_total", "reclaimed", "highwater"):
        if interp.name in STRIPPED_STATICS:
            assert pm["arenas"][k] is None, "%s: %s should be unavailable" % (interp.name, k)
            assert unavailable.get("pymalloc.arenas." + k), unavailable
        else:
            assert pm["arenas"][k] == arenas[k], "arenas.%s: %r, target %r" % (
                k, pm["arenas"][k], arenas[k])
    if interp.name not in STRIPPED_STATICS:
        assert unavailable == {}, unavailable

    # GC: thresholds and records exactly; the collector was disabled before recording
    gc = doc["gc"]
    assert gc["enabled"] is view["enabled"] is False
    assert gc["collecting"] is False
    assert [g["threshold"] for g in gc["generations"]] == view["threshold"] == [900, 12, 11]
    for i, (g, s) in enumerate(zip(gc["generations"], view["stats"])):
        for k in ("collections", "collected", "uncollectable"):
            assert g[k] == s[k], "generation %d %s: %r, gc.get_stats() %r" % (i, k, g[k], s[k])
    assert gc["generations"][0]["collections"] >= 2 and gc["generations"][2]["collected"] > 0
    # older generations' counts only change at a collection; the youngest moves with every
    # container the recording allocates
    assert [g["count"] for g in gc["generations"][1:]] == view["count"][1:]
    assert abs(gc["generations"][0]["count"] - view["count"][0]) <= 200

    # reading must not disturb the target: it still releases and exits cleanly
    assert target.finish() == 0, target.stderr()


def test_stats_text_report(interp, procs, tmp_path):
    target, view, text = start_snapshot(procs, interp, tmp_path)
    classes, arenas, _ = parse_mallocstats(text)
    r = run_tc("stats", target.pid)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    out = r.stdout
    assert out.startswith("Process %d: Python %s" % (target.pid, interp.version)), out[:200]
    rows = {}
    table = out.split("\nclass ", 1)[1].split("\n\n", 1)[0]
    for line in table.splitlines()[1:]:
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$", line)
        assert m, "malformed size-class row %r" % line
        i, size = int(m.group(1)), int(m.group(2))
        rows[i] = (size, int(m.group(3).replace(",", "")))
    assert {i: (c[0], c[1]) for i, c in classes.items()} == rows
    assert "current %d" % arenas["current"] in out
    assert "GC: disabled, not collecting" in out
    assert re.search(r"^\s*0\s+\S+\s+900\s", out, re.M), out
    assert "Process memory: RSS" in out
    if interp.name in STRIPPED_STATICS:
        assert "pymalloc.arenas.allocated_total:" in out
    assert target.finish() == 0, target.stderr()


# offsetof(PyInterpreterState, obmalloc) and offsetof(PyInterpreterState, gc) in release builds,
# from CPython's headers (the figures in the project's shared reference files off_3.12.txt ..
# off_3.15.txt, computed with offsetof against 3.12.1, 3.13.0, 3.14.10 and 3.15.2; 3.13.18 keeps
# both where 3.13.0 has them).
INTERP_OFFSETS = {"pyenv-3.12.1": (0xf78, 0x70), "debian-3.13": (0x2a30, 0x1ce8),
                  "debian-3.14": (0x2a98, 0x1cf0), "debian-3.15": (0x2a80, 0x1ce8)}


@pytest.mark.interpreters("debian-3.9", "debian-3.11d", *INTERP_OFFSETS)
def test_stats_verbose_says_where(interp, procs, tmp_path):
    """--verbose adds, after the header, where the allocator and the GC state were found;
    everything else is the plain report. Where the headers give the offsets in the
    interpreter state (3.12+ release builds), the places named are those."""
    target, view, text = start_snapshot(procs, interp, tmp_path)
    plain = run_tc("stats", target.pid)
    verbose = run_tc("stats", target.pid, "--verbose")
    assert plain.returncode == 0 and verbose.returncode == 0, verbose.stderr
    lines = verbose.stdout.splitlines()
    assert lines[0] == plain.stdout.splitlines()[0], lines[:3]
    m_om = re.fullmatch(r"  pymalloc: (.+)", lines[1])
    m_gc = re.fullmatch(r"  gc:       (.+)", lines[2])
    assert m_om and m_gc, "no pymalloc/gc lines after the header:\n%s" % "\n".join(lines[:4])
    # the target is parked: the rest of the report is the plain one, line for line
    assert [lines[0]] + lines[3:] == plain.stdout.splitlines(), verbose.stdout
    for how in (m_om.group(1), m_gc.group(1)):
        assert "not located" not in how and "unavailable" not in how, how
    gc_at = re.match(r"interp\+0x([0-9a-f]+), generations at \+\d+ ", m_gc.group(1))
    assert gc_at, m_gc.group(1)
    if interp.name in INTERP_OFFSETS:
        om_off, gc_off = INTERP_OFFSETS[interp.name]
        om_at = re.match(r"\*?\(?interp\+0x([0-9a-f]+)\)?", m_om.group(1))
        assert om_at and int(om_at.group(1), 16) == om_off, \
            "pymalloc state at %r, the headers put interp->obmalloc at %#x" % (m_om.group(1), om_off)
        assert int(gc_at.group(1), 16) == gc_off, \
            "GC state at %r, the headers put interp->gc at %#x" % (m_gc.group(1), gc_off)
    # with --json the same two lines go to stderr; stdout stays one JSON document
    j = run_tc("stats", target.pid, "--json", "--verbose")
    assert j.returncode == 0, j.stderr
    json.loads(j.stdout)
    assert j.stderr.splitlines() == ["tachyon-c: pymalloc: " + m_om.group(1),
                                     "tachyon-c: gc: " + m_gc.group(1)], j.stderr
    assert target.finish() == 0, target.stderr()


def start_churn(procs, interp):
    p = procs.start([interp.cmd, TARGETS / "alloc_mix.py", "churn"])
    line = p.read_line()
    assert line == "ready", "unexpected handshake line %r" % line
    return p


def test_stats_1000_walks_of_allocating_target(interp, procs):
    target = start_churn(procs, interp)
    r = run_tc("stats", target.pid, "--walks", "1000", timeout=600)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr[-2000:])
    lines = r.stdout.splitlines()
    assert len(lines) == 1000
    seen_current, seen_blocks = set(), set()
    invalid_share = []
    last_time = -1
    for n, line in enumerate(lines):
        doc = json.loads(line)
        check_walk_invariants(doc, "%s walk %d" % (interp.name, n))
        assert doc["time"] >= last_time
        last_time = doc["time"]
        seen_current.add(doc["pymalloc"]["arenas"]["current"])
        seen_blocks.add(sum(c["blocks_in_use"] for c in doc["pymalloc"]["size_classes"]))
        walk = doc["pymalloc"]["walk"]
        invalid_share.append(walk["pools_invalid"] / max(1, walk["pools_read"]))
        assert invalid_share[-1] <= 0.25, (n, walk)
    # skipped headers are torn reads (how many depends on how the two processes happen to be
    # scheduled), never a systematic misreading, which would skip most headers of most walks
    invalid_share.sort()
    assert invalid_share[len(invalid_share) // 2] <= 0.01, invalid_share[-10:]
    # the heap changed under the walks (the churn never pauses; which figures moved, and by
    # how much, depends on how the two processes were scheduled)
    assert len(seen_current) > 1 or len(seen_blocks) > 1, (seen_current, seen_blocks)
    assert target.finish() == 0, target.stderr()


def test_stats_watch_json_lines(interp, procs):
    target = start_churn(procs, interp)
    p = procs.start(tc_argv("stats", target.pid, "--watch", "0.5"))
    docs = [json.loads(p.read_line(timeout=60)) for _ in range(3)]
    for d in docs:
        check_walk_invariants(d, interp.name)
    assert docs[0]["time"] < docs[1]["time"] < docs[2]["time"]
    # Ctrl-C (SIGINT) ends the watch cleanly, exit 0, every line written whole
    os.kill(p.pid, signal.SIGINT)
    assert p.finish(timeout=30) == 0, p.stderr()
    rest = (p._buf + p.popen.stdout.read()).decode()
    assert rest == "" or rest.endswith("\n"), rest[-200:]
    for line in rest.splitlines():
        check_walk_invariants(json.loads(line), interp.name)
    assert target.finish() == 0, target.stderr()


def test_attach_alloc_log_side_file(interp, procs, tmp_path):
    target = start_churn(procs, interp)
    side, prof = tmp_path / "alloc.jsonl", tmp_path / "profile.txt"
    r = run_tc("attach", target.pid, "-d", "2.5", "-r", "200", "-o", prof, "--alloc-log", side)
    assert r.returncode == 0, "exit %d, stderr:\n%s" % (r.returncode, r.stderr)
    text = side.read_text()
    assert text.endswith("\n")
    docs = [json.loads(l) for l in text.splitlines()]
    # the first line at the start, at most one a second after it, and the closing one (how
    # many seconds' lines a loaded machine manages to write is not the point here)
    times = [d["time"] for d in docs]
    assert len(docs) >= 2, times
    assert times == sorted(times), times
    assert len(docs) <= int(times[-1] - times[0]) + 2, times
    for d in docs:
        assert d["pid"] == target.pid and d["python"]["version"] == interp.version
        pm = d["pymalloc"]
        assert pm is not None, d["unavailable"]
        assert "size_classes" not in pm  # the summary: no walk of the pools
        assert pm["arenas"]["current"] >= 1 and pm["pools_in_use"] > 0
        assert pm["arena_bytes"] == pm["arenas"]["current"] * pm["arena_size"]
        if interp.name in STRIPPED_STATICS:
            assert pm["arenas"]["allocated_total"] is None
            assert "pymalloc.arenas.allocated_total" in d["unavailable"]
        else:
            assert pm["arenas"]["allocated_total"] >= pm["arenas"]["current"]
        assert d["gc"]["enabled"] is True and len(d["gc"]["generations"]) == 3
        assert d["process"]["rss_bytes"] > 0
    # the profile itself is intact
    assert prof.read_text().strip(), "empty profile"
    assert target.finish() == 0, target.stderr()
