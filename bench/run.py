#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tachyon-c benchmark driver: tachyon-c side by side with CPython 3.15's own sampler.

    /usr/bin/python3 bench/run.py            # full run, ~18 minutes on 2 cores
    /usr/bin/python3 bench/run.py --quick    # ~4 minutes, fewer and shorter rounds

Builds tachyon-c (`make`), provisions CPython 3.15 (scripts/provision.sh, manifest entry
`debian-3.15`), compiles bench/floor.c, then for each workload in bench/workloads.py starts
ONE target process and, on that process, alternates in every round:

  idle     nothing attached (target throughput baseline)
  cpython  bench/cpython_sampler.py: RemoteUnwinder.get_stack_trace() back to back
  tachyon  tachyon-c bench PID -d S --json
  replay   bench/floor.c --replay: right after tachyon, exactly the ranges tachyon-c's next
           sample would fetch (the "batch" in its JSON), one process_vm_readv back to back
  floor    bench/floor.c: one 8-byte process_vm_readv back to back

(the cpython/tachyon order flips every round; replay always follows tachyon). Then it
measures the profilers at fixed rates: CPU of `attach -r 100/1000/10000` on the mixed
workload, alternating with `floor --wake RATE` (a loop that only wakes up RATE times a
second, the sampler's slot policy, nothing sampled: the CPU floor at that rate), and the
target's throughput with and without `attach -r 1000`, each for tachyon-c and for CPython's
`python3.15 -m profiling.sampling attach -a`. Then a 10,000-frame active stack, and last a
memory soak: `attach -r 1000` for 10 minutes on 100 threads, the profiler's RSS every 5 s;
and bench/stats_bench.py (what `tachyon-c stats` costs).

Writes docs/PERFORMANCE.md (tables of medians and min-max across rounds; ratios are taken
per round, between measurements of the same round, then summarised). --raw FILE also keeps
every measurement as JSON. Every process the driver starts is killed when it ends, also on
Ctrl-C or SIGTERM (children also get PR_SET_PDEATHSIG, so they die with it).
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import DEEP10K, WORKLOADS, fmt, pct, report

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")



def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


class Procs:
    """Every child the driver starts, so that all of them can be ended on the way out."""

    def __init__(self):
        self.live = []

    def spawn(self, cmd, **kw):
        p = subprocess.Popen([str(c) for c in cmd], preexec_fn=_die_with_parent, **kw)
        self.live.append(p)
        return p

    def reap(self, p, timeout):
        """Wait for P (killing it past TIMEOUT seconds); returns (returncode, rusage)."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                self.live.remove(p)
                return p.returncode, ru
            if time.monotonic() > deadline:
                p.kill()
                deadline = time.monotonic() + 5
            time.sleep(0.02)

    def stop(self, p):
        if p.returncode is None:
            try:
                p.terminate()
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except ProcessLookupError:
                pass
        if p in self.live:
            self.live.remove(p)

    def cleanup(self):
        for p in list(self.live):
            self.stop(p)


def proc_cpu(pid):
    """utime+stime of PID in seconds (whole process), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def run_json(procs, cmd, timeout, tmp, window=None):
    """Run CMD to completion; parse its stdout as JSON. With WINDOW=(lead, length, fn), call
    fn() at lead and at lead+length seconds after the start and return both results too."""
    out = open(tmp / "out", "w+")
    err = open(tmp / "err", "w+")
    t0 = time.monotonic()
    p = procs.spawn(cmd, stdout=out, stderr=err)
    marks = None
    if window:
        lead, length, fn = window
        time.sleep(max(0.0, t0 + lead - time.monotonic()))
        a = fn()
        time.sleep(max(0.0, t0 + lead + length - time.monotonic()))
        marks = (a, fn())
    rc, ru = procs.reap(p, timeout)
    wall = time.monotonic() - t0
    out.seek(0)
    err.seek(0)
    text, etext = out.read(), err.read()
    out.close()
    err.close()
    res = None
    if rc == 0:
        try:
            res = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = None
    if res is None:
        res = {"error": f"exit {rc}: {etext.strip()[-300:] or text.strip()[-300:]}"}
        log(f"  ! {shlex.join(map(str, cmd))}: {res['error']}")
    res["_wall"] = wall
    res["_rusage_cpu"] = ru.ru_utime + ru.ru_stime
    return res, marks


# --- target ----------------------------------------------------------------------------------

class Target:
    """One workload process and the shared counter it publishes its iterations through."""

    def __init__(self, procs, python, args, tmp):
        self.procs, self.python, self.args, self.tmp = procs, python, args, tmp
        self.start()

    def start(self):
        procs, python, args, tmp = self.procs, self.python, self.args, self.tmp
        self.path = tmp / "counter"
        self.path.write_bytes(b"\0" * 4096)
        self.errf = open(tmp / "target.err", "w+")
        self.p = procs.spawn([python, BENCH / "workloads.py", *args, "--counter", self.path],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=self.errf)
        self.pid = self.p.pid
        self.fd = os.open(self.path, os.O_RDONLY)
        deadline = time.monotonic() + 60
        while struct.unpack_from("<Q", os.pread(self.fd, 16, 0), 8)[0] != 1:
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.errf.seek(0)
                raise RuntimeError(f"workload {args} did not start: {self.errf.read()[-500:]}")
            time.sleep(0.05)
        time.sleep(0.3)  # past the ramp (specialisation, thread start-up)

    def mark(self):
        """(time, iterations). Two reads that agree, so a store caught half-way is retried."""
        while True:
            t = time.monotonic()
            a = struct.unpack_from("<Q", os.pread(self.fd, 8, 0))[0]
            b = struct.unpack_from("<Q", os.pread(self.fd, 8, 0))[0]
            if 0 <= b - a < 1000:
                return t, a

    def alive(self):
        return self.p.poll() is None

    @staticmethod
    def rate(a, b):
        return (b[1] - a[1]) / (b[0] - a[0]) if a and b and b[0] > a[0] else None

    def close(self):
        os.close(self.fd)
        self.procs.stop(self.p)
        self.errf.close()

    def restart(self):
        self.close()
        self.start()


# --- measurements ----------------------------------------------------------------------------

class Bench:
    def __init__(self, a, tachyon, python, floor, tmp):
        self.a, self.tachyon, self.python, self.floor, self.tmp = a, tachyon, python, floor, tmp
        self.procs = Procs()
        self.restarts = []

    def guarded(self, t, what, fn):
        """fn(), redone on a fresh target if the target died meanwhile (on a shared machine
        something else may kill it); gives up after 3 attempts."""
        for attempt in range(3):
            res = fn()
            if t.alive():
                return res
            why = f"exit {t.p.returncode}"
            log(f"  ! target {' '.join(t.args)} died during {what} ({why}); restarting it, "
                f"redoing {what}")
            self.restarts.append(f"{' '.join(t.args)}: {why} during {what}")
            t.restart()
        raise RuntimeError(f"target {t.args} keeps dying")

    # one back-to-back measurement of a tool on the target; returns its JSON plus the
    # target's throughput during the middle of the run
    def measure(self, tool, t, secs, batch=None):
        if tool == "cpython":
            cmd = [self.python, BENCH / "cpython_sampler.py", t.pid, secs]
        elif tool == "tachyon":
            cmd = [self.tachyon, "bench", t.pid, "-d", secs, "--json"]
        elif tool == "replay":
            cmd = [self.floor, "--replay", t.pid, secs,
                   ",".join(f"{int(a)}:{int(n)}" for a, n in batch)]
        else:
            cmd = [self.floor, t.pid, secs]
        lead = 0.3
        res, marks = run_json(self.procs, cmd, secs + 60, self.tmp,
                              window=(lead, max(0.2, secs - 0.5), t.mark))
        res["target_rate"] = Target.rate(*marks)
        return res

    def replay(self, tachyon_res, t, secs):
        """The replay floor: the batch from tachyon-c's JSON (what its next sample would
        fetch in one process_vm_readv), read back to back; {"error": ...} when there is no
        batch or the replay fails (the report shows n/a)."""
        batch = (tachyon_res.get("prefetch") or {}).get("batch")
        try:
            batch = [(int(a), int(n)) for a, n in batch or ()]
        except (TypeError, ValueError):
            batch = None
        if not batch:
            log("  ! replay floor: no batch in tachyon-c's JSON")
            return {"error": "no batch in tachyon-c's JSON"}
        return self.measure("replay", t, secs, batch)

    def idle(self, t, secs):
        a = t.mark()
        time.sleep(secs)
        return {"target_rate": Target.rate(a, t.mark())}

    def speed(self, name, args, rounds, secs, idle_secs, floor_secs):
        log(f"{name}: {rounds} rounds of cpython/tachyon-c {secs:g} s, floor {floor_secs:g} s")
        t = Target(self.procs, self.python, args, self.tmp)
        out = []
        try:
            for r in range(rounds):
                order = ["cpython", "tachyon"] if r % 2 == 0 else ["tachyon", "cpython"]

                def one_round():
                    rd = {"idle": self.idle(t, idle_secs)}
                    for tool in order:
                        rd[tool] = self.measure(tool, t, secs)
                        if tool == "tachyon":
                            rd["replay"] = self.replay(rd["tachyon"], t, floor_secs)
                    rd["floor"] = self.measure("floor", t, floor_secs)
                    return rd

                rd = self.guarded(t, f"{name} round {r + 1}", one_round)
                out.append(rd)
                c, y, p, f = (rd["cpython"].get("us_per_sample"),
                              rd["tachyon"].get("us_per_sample"),
                              rd["replay"].get("us_per_read"), rd["floor"].get("us_per_read"))
                log(f"  round {r + 1}: cpython {fmt(c)} us, tachyon-c {fmt(y)} us, "
                    f"replay {fmt(p)} us, floor {fmt(f)} us")
            return out, t
        except BaseException:
            t.close()
            raise

    # a profiler recording at RATE for SECS; CPU and throughput over the steady middle
    def attach(self, tool, t, rate, secs):
        out_file = self.tmp / f"attach-{tool}.out"
        if tool == "tachyon":
            cmd = [self.tachyon, "attach", t.pid, "-r", rate, "-d", secs, "-f", "summary",
                   "-o", out_file]
        else:
            cmd = [self.python, "-m", "profiling.sampling", "attach", "-a", "-r", rate,
                   "-d", secs, "--collapsed", "-o", out_file, t.pid]
        secs = int(secs)  # profiling.sampling takes whole seconds
        lead, tail = 1.0, 0.5
        length = secs - lead - tail
        stdout = open(self.tmp / "attach.stdout", "w+")
        stderr = open(self.tmp / "attach.stderr", "w+")
        t0 = time.monotonic()
        p = self.procs.spawn(cmd, stdout=stdout, stderr=stderr)
        time.sleep(max(0.0, t0 + lead - time.monotonic()))
        c0, m0 = proc_cpu(p.pid), t.mark()
        time.sleep(max(0.0, t0 + lead + length - time.monotonic()))
        c1, m1 = proc_cpu(p.pid), t.mark()
        rc, ru = self.procs.reap(p, secs + 60)
        wall = time.monotonic() - t0
        stdout.seek(0)
        stderr.seek(0)
        text = stdout.read() + "\n" + stderr.read()
        stdout.close()
        stderr.close()
        res = {"tool": tool, "rate": rate, "rc": rc, "wall": wall,
               "total_cpu": ru.ru_utime + ru.ru_stime,
               "steady_cpu_frac": (c1 - c0) / (m1[0] - m0[0]) if None not in (c0, c1) else None,
               "target_rate": Target.rate(m0, m1)}
        if tool == "tachyon":
            summary = out_file.read_text() if out_file.exists() else ""
            m = re.search(r"duration ([\d.]+) s, (\d+) samples, (\d+) failed[^,]*, (\d+) missed",
                          summary)
            if m:
                res.update(duration=float(m[1]), samples=int(m[2]), failed=int(m[3]),
                           missed=int(m[4]))
            m = re.search(r"rate achieved ([\d.]+) Hz", summary)
            res["achieved_hz"] = float(m[1]) if m else None
            if rc != 0 or not m:
                res["error"] = (text.strip() or summary.strip())[-300:]
        else:
            m = re.search(r"Captured (\d+) samples in ([\d.]+) seconds", text)
            if m:
                res.update(samples=int(m[1]), duration=float(m[2]))
            m = re.search(r"Sample rate: ([\d.]+)", text)
            res["achieved_hz"] = float(m[1]) if m else None
            m = re.search(r"Error rate: ([\d.]+)", text)
            res["error_rate_pct"] = float(m[1]) if m else None
            if rc != 0 or res["achieved_hz"] is None:
                res["error"] = text.strip()[-300:]
        if "error" in res:
            res["target_rate"] = None
            log(f"  ! {tool} attach -r {rate}: {res['error']}")
        if out_file.exists():
            out_file.unlink()
        return res

    def wake(self, rate, secs):
        """The wake-up floor: `floor --wake RATE SECS`, a loop that only sleeps to absolute
        deadlines at RATE Hz with the sampler's slot policy. Its CPU is its own getrusage
        over its whole run (no start-up or output worth excluding)."""
        res, _ = run_json(self.procs, [self.floor, "--wake", rate, secs], secs + 60, self.tmp)
        cpu = res.get("cpu_percent")
        res.update(tool="wake", rate=rate, total_cpu=res["_rusage_cpu"],
                   steady_cpu_frac=cpu / 100 if cpu is not None else None)
        res.setdefault("achieved_hz", None)
        return res

    def slowdown(self, t, rounds, secs):
        """Target throughput unprofiled / tachyon-c -r 1000 / CPython -r 1000, alternating;
        a SECS recording is measured over its middle SECS - 1.5 s, as is the idle window."""
        out = []
        for r in range(rounds):
            order = ["none", "tachyon", "cpython"] if r % 2 == 0 else ["none", "cpython", "tachyon"]

            def one_round():
                rd = {}
                for tool in order:
                    if tool == "none":
                        rd["none"] = self.idle(t, secs - 1.5)
                    else:
                        rd[tool] = self.attach(tool, t, 1000, secs)
                return rd

            rd = self.guarded(t, f"slowdown round {r + 1}", one_round)
            out.append(rd)
            log(f"  slowdown round {r + 1}: unprofiled {fmt(rd['none']['target_rate'])} it/s, "
                f"tachyon-c {fmt(pct(rd['tachyon']['target_rate'], rd['none']['target_rate']))}%, "
                f"cpython {fmt(pct(rd['cpython']['target_rate'], rd['none']['target_rate']))}%")
        return out

    def rates(self, rounds, secs):
        log(f"profiler CPU at fixed rates: {rounds} round(s) x {secs:g} s per rate and tool")
        t = Target(self.procs, self.python, ["mixed"], self.tmp)
        out = []
        try:
            for r in range(rounds):
                for i, rate in enumerate((100, 1000, 10000)):
                    k = (r + i) % 3  # the three take turns at going first
                    order = (["tachyon", "cpython", "wake"] * 2)[k:k + 3]
                    for tool in order:
                        fn = ((lambda: self.wake(rate, secs)) if tool == "wake" else
                              (lambda: self.attach(tool, t, rate, secs)))
                        res = self.guarded(t, f"{tool} -r {rate}", fn)
                        res["round"] = r
                        out.append(res)
                        log(f"  {tool} -r {rate}: {fmt(res.get('achieved_hz'))} Hz, "
                            f"CPU {fmt(pct(res['steady_cpu_frac'], 1))}% of a core"
                            + (f", {res.get('missed')} missed" if tool == "wake" else ""))
        finally:
            t.close()
        return out


# --- environment -----------------------------------------------------------------------------

def soak(bench, python, secs, tmp):
    """`attach -r 1000` for SECS on the 100-thread workload, the profiler's RSS every 5 s."""
    t = Target(bench.procs, python, ["threads", "--threads", "100"], tmp)
    out = tmp / "soak.txt"
    p = bench.procs.spawn([bench.tachyon, "attach", t.pid, "-r", "1000", "-d", str(secs),
                           "-f", "summary", "-o", out], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    t0, points = time.monotonic(), []
    try:
        while time.monotonic() - t0 < secs + 30:  # reap() below collects the exit status
            time.sleep(5)
            try:
                status = Path(f"/proc/{p.pid}/status").read_text()
            except OSError:
                break
            if re.search(r"State:\s+Z", status):
                break
            m = re.search(r"VmRSS:\s+(\d+) kB", status)
            h = re.search(r"VmHWM:\s+(\d+) kB", status)
            if m:
                points.append((time.monotonic() - t0, int(m[1]), int(h[1]) if h else None))
        rc, ru = bench.procs.reap(p, secs + 60)
    finally:
        t.close()
    summary = out.read_text() if out.exists() else ""
    m = re.search(r"duration ([\d.]+) s, (\d+) samples, (\d+) failed[^,]*, (\d+) missed",
                  summary)
    return {"seconds": secs, "rc": rc, "points": points,
            "max_rss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime,
            "samples": int(m[2]) if m else None, "failed": int(m[3]) if m else None,
            "missed": int(m[4]) if m else None}


def manifest_python(name):
    cache = Path(os.environ.get("TACHYON_CACHE") or
                 Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tachyon-c")
    manifest = cache / "interpreters.tsv"

    def lookup(path):
        if path.exists():
            for line in path.read_text().splitlines():
                f = line.split("\t")
                if f[0] == name:
                    return f[1]
        return None

    cmd = lookup(manifest)
    if not cmd:
        log("provisioning interpreters (scripts/provision.sh)")
        out = subprocess.run([ROOT / "scripts" / "provision.sh"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
        cmd = lookup(Path(out[-1]) if out else manifest)
    if not cmd:
        sys.exit(f"bench: no {name} interpreter in {manifest}")
    return cmd


def git_commit():
    """HEAD's commit from .git's files (no git command)."""
    try:
        g = ROOT / ".git"
        if g.is_file():
            g = (ROOT / g.read_text().split(":", 1)[1].strip()).resolve()
        common = g
        if (g / "commondir").exists():
            common = (g / (g / "commondir").read_text().strip()).resolve()
        head = (g / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(None, 1)[1]
        for base in (g, common):
            if (base / ref).exists():
                return f"{(base / ref).read_text().strip()[:12]} ({ref.rsplit('/', 1)[-1]})"
        packed = common / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return f"{line.split()[0][:12]} ({ref.rsplit('/', 1)[-1]})"
    except (OSError, IndexError):
        pass
    return "unknown"


def cpu_accounting():
    """(machine busy CPU-seconds, steal CPU-seconds, this driver's and its reaped children's
    CPU-seconds). The difference in busy time not explained by our own processes is what
    something else on the machine used meanwhile."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    busy = (user + nice + system + irq + softirq) / CLK_TCK
    ours = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        ours += ru.ru_utime + ru.ru_stime
    return busy, steal / CLK_TCK, ours


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "memory": mem, "loadavg_before": open("/proc/loadavg").read().split()[:3]}


# --- report ------------------------------------------------------------------------------------

# --- report ----------------------------------------------------------------------------------

def stats_section(tachyon):
    """bench/stats_bench.py (allocator summary and full walk per interpreter): its table."""
    r = subprocess.run([sys.executable, BENCH / "stats_bench.py", "--tachyon", tachyon],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        return "stats_bench.py failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:])
    return r.stdout.strip()


# --- main ------------------------------------------------------------------------------------

def _sigterm(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the run like Ctrl-C: through main's cleanup


def main():
    ap = argparse.ArgumentParser(description="tachyon-c vs CPython 3.15's sampler, same target.")
    ap.add_argument("--quick", action="store_true", help="~2 minute run (fewer, shorter rounds)")
    ap.add_argument("--rounds", type=int, help="rounds per workload (default 5, quick 2)")
    ap.add_argument("--seconds", type=float, help="seconds per sampler per round (2; quick 1)")
    ap.add_argument("--workloads", help="comma-separated subset of: " +
                    ",".join(n for n, _, _ in WORKLOADS))
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: "
                    "speed,rates,slowdown,deep,soak,stats")
    ap.add_argument("--soak", type=int, help="seconds of the memory soak (default 600, "
                    "quick 60)")
    ap.add_argument("--tachyon", help="tachyon-c binary to measure (default: make, then "
                    "build/tachyon-c)")
    ap.add_argument("--python", help="CPython 3.15 to run targets and CPython's sampler "
                    "(default: manifest entry debian-3.15)")
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "PERFORMANCE.md"))
    ap.add_argument("--raw", help="also write every measurement to this JSON file")
    a = ap.parse_args()
    a.rounds = a.rounds or (2 if a.quick else 5)
    a.soak = a.soak or (60 if a.quick else 600)
    a.seconds = a.seconds or (1.0 if a.quick else 2.0)
    a.floor_seconds = 0.5 if a.quick else 1.0
    a.idle_seconds = 0.5 if a.quick else 1.0
    a.rate_seconds = 4 if a.quick else 10  # whole seconds: profiling.sampling's -d is an int
    a.rate_rounds = 1
    a.slow_rounds = 1 if a.quick else 3
    a.slow_seconds = 3 if a.quick else 4  # recording length; the window is its middle
    skip = set(filter(None, a.skip.split(",")))
    chosen = set(a.workloads.split(",")) if a.workloads else None

    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    started = time.monotonic()
    acct0 = cpu_accounting()
    tmp = Path(tempfile.mkdtemp(prefix="tachyon-bench-"))
    bench = None
    try:
        if a.tachyon:
            tachyon = str(Path(a.tachyon).resolve())
        else:
            log("building tachyon-c (make)")
            subprocess.run(["make", "-C", ROOT, "-s"], check=True, stdout=sys.stderr)
            tachyon = str(ROOT / "build" / "tachyon-c")
        python = a.python or manifest_python("debian-3.15")
        floor = tmp / "floor"
        subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-o", floor, BENCH / "floor.c"],
                       check=True)
        info = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "tachyon_version": subprocess.run([tachyon, "--version"], capture_output=True,
                                              text=True).stdout.strip(),
            "commit": git_commit(),
            "python": python,
            "python_version": subprocess.run([python, "-c", "import platform;"
                                              "print(platform.python_version())"],
                                             capture_output=True, text=True).stdout.strip(),
            "machine": machine(),
        }
        log(f"{info['tachyon_version']} ({info['commit']}); target CPython "
            f"{info['python_version']}; {info['machine']['nproc']} CPUs, load "
            f"{' '.join(info['machine']['loadavg_before'])}")
        bench = Bench(a, tachyon, python, floor, tmp)

        speed, slow, rates, deep, soaked = {}, {}, [], None, None
        for name, args, _ in WORKLOADS:
            if chosen and name not in chosen:
                continue
            if "speed" in skip and "slowdown" in skip:
                break
            if "speed" in skip:
                t = Target(bench.procs, python, args, tmp)
            else:
                speed[name], t = bench.speed(name, args, a.rounds, a.seconds, a.idle_seconds,
                                             a.floor_seconds)
            try:
                if "slowdown" not in skip:
                    slow[name] = bench.slowdown(t, a.slow_rounds, a.slow_seconds)
            finally:
                t.close()
        if "rates" not in skip:
            rates = bench.rates(a.rate_rounds, a.rate_seconds)
        if "deep" not in skip:
            deep, t = bench.speed(DEEP10K[0], DEEP10K[1], a.rounds, a.seconds, a.idle_seconds,
                                  a.floor_seconds)
            t.close()
        if "soak" not in skip:
            log(f"soak: attach -r 1000 for {a.soak} s on 100 threads")
            soaked = soak(bench, python, a.soak, tmp)
        stats_md = None
        if "stats" not in skip:
            log("allocator statistics: bench/stats_bench.py")
            stats_md = stats_section(tachyon)
        info["elapsed"] = time.monotonic() - started
        info["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
        bench.procs.cleanup()
        acct1 = cpu_accounting()
        info["foreign_cpu_pct"] = 100 * max(0.0, (acct1[0] - acct0[0]) - (acct1[2] - acct0[2])
                                            ) / info["elapsed"]
        info["steal_pct"] = 100 * (acct1[1] - acct0[1]) / info["elapsed"]
        info["restarts"] = bench.restarts
        text = report(a, info, speed, rates, slow, deep, soaked, stats_md)
        out = Path(a.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".tmp").write_text(text)
        out.with_suffix(".tmp").replace(out)
        log(f"wrote {out} ({info['elapsed'] / 60:.1f} min)")
        if a.raw:
            Path(a.raw).write_text(json.dumps({"info": info, "speed": speed, "rates": rates,
                                               "slowdown": slow, "deep10k": deep,
                                               "soak": soaked},
                                              indent=1, default=str))
    except KeyboardInterrupt:
        log("interrupted; stopping every process started")
        return 130
    finally:
        if bench:
            bench.procs.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
