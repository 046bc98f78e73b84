# SPDX-License-Identifier: MIT
"""Oracle stress runner: sample the oracle targets on the interpreter matrix, check every
stack against the target's own source (tests/stress/oracle.py), print a table.

For each interpreter and target: start tests/targets/oracle_TARGET.py, wait for its handshake,
run `tachyon-c attach PID -r RATE -d SECONDS -o FILE` (collapsed), then `tachyon-c dump PID
--json` DUMPS times back to back, release the target, and check both. A pair fails on any
impossible stack, an error of the checker (no samples, an `expect` function never sampled), a
tachyon-c exit by signal or with a non-zero status, or a target that died.

Usage: run.py [-i NAME]... [-t TARGET]... [-d SECONDS] [-r RATE] [-n DUMPS] [--out DIR] [--self]
Exit 0 when every pair passed, 1 otherwise.
"""

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(REPO, "tests", "targets")
sys.path.insert(0, HERE)

import oracle  # noqa: E402

ALL_TARGETS = ("calls", "gens", "codegen", "threads", "deep", "all")
LONG_TARGETS = ("calls", "gens", "codegen", "threads", "deep")
START_TIMEOUT = 120.0


def manifest(path=None):
    """[(name, cmd, version, kind)] of the interpreter matrix (scripts/provision.sh's)."""
    if path is None:
        r = subprocess.run([os.path.join(REPO, "scripts", "provision.sh")],
                           stdout=subprocess.PIPE, universal_newlines=True, check=True)
        path = r.stdout.strip().splitlines()[-1]
    out = []
    with open(path) as f:
        for line in f:
            if line.strip():
                out.append(tuple(line.rstrip("\n").split("\t")))
    return out


def describe_rc(rc):
    if rc is None:
        return "timeout"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


def read_line(popen, timeout):
    """The first stdout line of POPEN, or None on EOF/timeout."""
    fd = popen.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            buf += chunk
    return buf.split(b"\n", 1)[0].decode()


def sample(binary, pid, workdir, rate, seconds, dumps, dump_budget=None):
    """Run attach then DUMPS dumps against PID (no new dump once DUMP_BUDGET seconds of them
    passed, at least one). Returns a dict: collapsed path, dump paths, problems (tachyon-c
    exits that are failures: signals, non-zero status, a hang past 120 s)."""
    res = {"collapsed": None, "dumps": [], "problems": [], "attach_stderr": ""}
    out = os.path.join(workdir, "attach.txt")
    argv = [binary, "attach", str(pid), "-r", str(rate), "-d", str(seconds), "-o", out]
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=seconds + 120)
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = None, str(e.stderr)
    res["attach_stderr"] = err
    if rc != 0:
        res["problems"].append("attach %s: %s" % (describe_rc(rc), err.strip()[-300:]))
    if os.path.exists(out):
        res["collapsed"] = out
    elif rc == 0:
        res["problems"].append("attach exited 0 without writing %s" % out)
    start = time.monotonic()
    for i in range(dumps):
        if i and dump_budget is not None and time.monotonic() - start > dump_budget:
            break
        path = os.path.join(workdir, "dump.%03d.json" % i)
        try:
            r = subprocess.run([binary, "dump", str(pid), "--json"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=120)
            rc, text, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, text, err = None, "", str(e.stderr)
        if rc != 0:
            res["problems"].append("dump #%d %s: %s" % (i, describe_rc(rc), err.strip()[-300:]))
            continue
        with open(path, "w") as f:
            f.write(text)
        res["dumps"].append(path)
    return res


def check(info, res, expect=True):
    """(attach report, dump report) of a sample() result; either may be None. EXPECT: check
    that every function tagged `expect` was sampled (needs a profile of many samples)."""
    return oracle.check_files(info, [res["collapsed"]] if res["collapsed"] else [],
                              res["dumps"], expect)


def run_pair(binary, interp, target, workdir, rate, seconds, dumps, self_sample=False,
             dump_budget=None):
    """Start TARGET on INTERP (a manifest row), sample it, check. Returns a result dict.
    SELF_SAMPLE: check the target's own view (sys._current_frames()) instead of tachyon-c's,
    which tests the oracle: it must pass."""
    os.makedirs(workdir, exist_ok=True)
    script = os.path.join(TARGETS, "oracle_%s.py" % target)
    row = {"interp": interp[0], "target": target, "problems": [], "attach": None, "dump": None}
    env = dict(os.environ)
    own = os.path.join(workdir, "self.txt")
    env.pop("ORACLE_SELF_SAMPLE", None)
    if self_sample:
        env["ORACLE_SELF_SAMPLE"] = own
    with open(os.path.join(workdir, "target.stderr"), "wb") as err:
        p = subprocess.Popen([interp[1], script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=err, start_new_session=True, env=env)
    try:
        line = read_line(p, START_TIMEOUT)
        if line is None:
            row["problems"].append("target gave no handshake (%s)"
                                   % describe_rc(p.poll()))
            return row
        info = json.loads(line)
        with open(os.path.join(workdir, "info.json"), "w") as f:
            json.dump(info, f)
        if self_sample:
            time.sleep(seconds)
            res = {"collapsed": own, "dumps": [], "problems": []}
        else:
            res = sample(binary, info["pid"], workdir, rate, seconds, dumps, dump_budget)
        row["problems"] += res["problems"]
        if p.poll() is not None:
            row["problems"].append("target died while sampled (%s)" % describe_rc(p.returncode))
        p.stdin.close()
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 0 and not any(s.startswith("target died") for s in row["problems"]):
            row["problems"].append("target %s after release" % describe_rc(rc))
        if self_sample:
            if not os.path.exists(own):
                row["problems"].append("the target wrote no view of its own")
                return row
            # faulthandler names frames by co_name: check by the last name component
            info = dict(info, qualnames=False, self_view=True)
        row["attach"], row["dump"] = check(info, res, expect=not self_sample)
        return row
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
        for f in (p.stdin, p.stdout):
            if f is not None and not f.closed:
                f.close()


def passed(row):
    return (not row["problems"] and (row["attach"] is None or row["attach"].ok)
            and (row["dump"] is None or row["dump"].ok))


def cell(r):
    if r is None:
        return "-"
    s = "%d/%d" % (r.bad, r.samples)
    if r.errors:
        s += " +%derr" % len(r.errors)
    return s


def table(rows):
    head = ("interpreter", "target", "attach bad/samples", "trunc%", "dump bad/stacks",
            "tachyon-c / target problems", "result")
    lines = [head]
    for row in rows:
        a = row["attach"]
        lines.append((row["interp"], row["target"], cell(a),
                      "%.1f" % (100.0 * a.truncated / a.samples) if a and a.samples else "-",
                      cell(row["dump"]),
                      "; ".join(p.splitlines()[0][:60] for p in row["problems"]) or "none",
                      "ok" if passed(row) else "FAIL"))
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    out = []
    for n, l in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(l, widths)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def details(row, limit=12):
    out = ["== %s / %s: %s" % (row["interp"], row["target"], "ok" if passed(row) else "FAIL")]
    for p in row["problems"]:
        out.append("  problem: " + p)
    for name in ("attach", "dump"):
        r = row[name]
        if r is not None:
            out.append("  %s: %s" % (name, r.text(limit).replace("\n", "\n  ")))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-i", "--interp", action="append", default=[],
                    help="manifest name (default: every interpreter)")
    ap.add_argument("-t", "--target", action="append", default=[], choices=ALL_TARGETS,
                    help="target (default: %s)" % " ".join(LONG_TARGETS))
    ap.add_argument("-d", "--seconds", type=float, default=20.0)
    ap.add_argument("-r", "--rate", default="10k")
    ap.add_argument("-n", "--dumps", type=int, default=50)
    ap.add_argument("--dump-budget", type=float, default=30.0,
                    help="start no new dump after this many seconds of them (default 30)")
    ap.add_argument("--manifest", help="interpreters.tsv (default: run scripts/provision.sh)")
    ap.add_argument("--binary", default=os.environ.get("TACHYON_C",
                                                       os.path.join(REPO, "build", "tachyon-c")))
    ap.add_argument("--self", dest="self_sample", action="store_true",
                    help="check the targets' own views instead of tachyon-c (tests the oracle)")
    ap.add_argument("--markdown", help="also write the table (with what was run) to this file, "
                    "a section for docs/PERFORMANCE.md")
    ap.add_argument("--out", help="keep outputs here (default: a temporary directory)")
    a = ap.parse_args(argv)
    interps = manifest(a.manifest)
    if a.interp:
        names = [i[0] for i in interps]
        for n in a.interp:
            if n not in names:
                ap.error("%s is not in the manifest (%s)" % (n, " ".join(names)))
        interps = [i for i in interps if i[0] in a.interp]
    targets = a.target or list(LONG_TARGETS)
    out = a.out or tempfile.mkdtemp(prefix="tachyon-stress.")
    rows = []
    for interp in interps:
        for target in targets:
            row = run_pair(a.binary, interp, target, os.path.join(out, interp[0], target),
                           a.rate, a.seconds, a.dumps, a.self_sample, a.dump_budget)
            rows.append(row)
            print(details(row), flush=True)
    print()
    print("binary %s, rate %s, %g s attach, %d dumps per pair; outputs in %s"
          % (a.binary, a.rate, a.seconds, a.dumps, out))
    print(table(rows))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("## Oracle stress (tests/stress/run.py)\n\n"
                    "Every distinct stack checked against the target's source; `bad` counts "
                    "samples (attach) or thread stacks (dump) with an impossible stack, "
                    "`trunc%%` the share of attach samples marked truncated. %s, `attach -r %s "
                    "-d %g`, up to %d dumps per pair.\n\n%s\n"
                    % (os.path.basename(a.binary), a.rate, a.seconds, a.dumps, table(rows)))
    return 0 if all(passed(r) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
