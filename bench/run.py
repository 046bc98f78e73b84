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
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")

WORKLOADS = [  # name, workloads.py arguments, description
    ("mixed", ["mixed"], "calls, arithmetic, string ops, objects; 5-10 frames"),
    ("deep_static", ["deep_static", "--depth", "900"],
     "900-frame stack that never changes (bottom frame spins)"),
    ("deep_active", ["deep_active", "--depth", "900"],
     "900-frame stack whose top 1-6 frames are called and returned continuously"),
    ("threads", ["threads", "--threads", "100"],
     "100 threads alternating a CPU slice and a 5 ms sleep (+ main thread)"),
    ("calls", ["calls"], "tiny functions called in tight loops"),
]
DEEP10K = ("deep_active_10k", ["deep_active", "--depth", "10000"],
           "10,000-frame stack, top frames changing")


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


# --- statistics and formatting ---------------------------------------------------------------

def vals(xs):
    return [x for x in xs if x is not None]


def med(xs):
    xs = vals(xs)
    return statistics.median(xs) if xs else None


def fmt(x, digits=None):
    if x is None:
        return "n/a"
    if digits is None:
        ax = abs(x)
        digits = 0 if ax >= 1000 else 1 if ax >= 10 else 2 if ax >= 0.1 else 3
    s = f"{x:,.{digits}f}"
    return s


def span(xs, digits=None, suffix=""):
    """median (min-max) of the non-missing XS."""
    xs = vals(xs)
    if not xs:
        return "n/a"
    m = fmt(statistics.median(xs), digits) + suffix
    if len(xs) == 1 or min(xs) == max(xs):
        return m
    return f"{m} ({fmt(min(xs), digits)}–{fmt(max(xs), digits)})"


def ratio(a, b):
    return a / b if a is not None and b else None


def pct(a, b):
    return 100.0 * a / b if a is not None and b else None


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


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


# --- report ----------------------------------------------------------------------------------

def stats_section(tachyon):
    """bench/stats_bench.py (allocator summary and full walk per interpreter): its table."""
    r = subprocess.run([sys.executable, BENCH / "stats_bench.py", "--tachyon", tachyon],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        return "stats_bench.py failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:])
    return r.stdout.strip()


def report(a, info, speed, rates, slow, deep, soaked=None, stats_md=None):
    W = []
    w = W.append
    w("<!-- GENERATED by bench/run.py; edit bench/run.py, not this file. -->")
    w("# tachyon-c performance\n")
    w("What it costs tachyon-c to take one sample of a live CPython process, side by side with "
      "CPython's own sampler (`_remote_debugging.RemoteUnwinder`, the C core of "
      "`python3.15 -m profiling.sampling`) **on the same target process in the same run**, "
      "and against two floors: one 8-byte `process_vm_readv` (the floor of any out-of-process "
      "sampler) and a replay of exactly the ranges tachyon-c reads per sample. "
      "The machine is a small, noisy VM, so the measurements are interleaved (for each "
      "workload one target process; in every round: idle window, then CPython's sampler and "
      "tachyon-c in alternating order, the replay floor right after tachyon-c, then the floor "
      "loop) and the ratios are taken within a round and then summarised. Cells read "
      "`median (min–max)` across rounds.\n")
    w("Reproduce (as root, from the repository root; builds, provisions CPython 3.15, "
      f"takes about {'4' if a.quick else '18'} minutes):\n")
    w("```sh\n/usr/bin/python3 bench/run.py" + (" --quick" if a.quick else "") + "\n```\n")
    w("`--quick` is a ~4 minute smoke version; `--raw FILE` keeps every measurement as JSON; "
      "see `bench/README.md` for what each workload does and how each figure is taken.\n")
    w("## Run\n")
    w(table(["", ""], [
        ["date", info["date"]],
        ["tachyon-c", f"`{info['tachyon_version']}`, commit {info['commit']}"],
        ["target and CPython sampler", f"CPython {info['python_version']} (Debian build, "
                                       f"`{info['python']}`)"],
        ["machine", f"{info['machine']['nproc']} CPUs, {info['machine']['cpu']}, "
                    f"{info['machine']['memory']} RAM"],
        ["kernel", info["machine"]["kernel"]],
        ["load average (1/5/15 min) at start / end",
         " ".join(info["machine"]["loadavg_before"]) + " / " + " ".join(info["loadavg_after"])],
        ["rounds", f"{a.rounds} x {a.seconds:g} s per sampler and workload "
                   f"(replay floor and floor {a.floor_seconds:g} s each, idle "
                   f"{a.idle_seconds:g} s)"],
        ["run time", f"{info['elapsed'] / 60:.1f} min"],
        ["CPU used by other processes during the run",
         f"{info['foreign_cpu_pct']:.0f}% of one CPU on average (machine busy time minus "
         f"this benchmark's processes; VM steal {info['steal_pct']:.1f}%)"],
        ["targets restarted (killed by something else)",
         "; ".join(info["restarts"]) if info["restarts"] else "none"],
    ]))
    w("")
    if info["foreign_cpu_pct"] > 20:
        w(f"**Warning:** other processes used {info['foreign_cpu_pct']:.0f}% of a CPU on "
          "average during this run, on a 2-CPU machine: the samplers and the target were "
          "competing with them, so absolute times are inflated and failure rates (torn reads "
          "grow with the time a sample takes) are higher than on a quiet machine. The "
          "within-round ratios are the robust figures.\n")

    def col(rounds, tool, key):
        return [r[tool].get(key) for r in rounds]

    def rcol(rounds, f):
        return [f(r) for r in rounds]

    all_speed = list(speed.items()) + ([(DEEP10K[0], deep)] if deep else [])
    descr = {n: d for n, _, d in WORKLOADS + [DEEP10K]}

    w("## 1. Cost of one sample, back to back\n")
    w("`CPython` = `get_stack_trace()` on a `RemoteUnwinder(pid, all_threads=True, "
      "cache_frames=True)` built once per round, each call timed (as CPython's "
      "`Tools/inspection/benchmark_external_inspection.py` does); `tachyon-c` = "
      f"`tachyon-c bench PID -d {a.seconds:g} --json` (`us_per_sample`: wall time over samples); "
      "`floor` = one 8-byte `process_vm_readv` of the target (bench/floor.c). `replay` = the "
      "replay floor, `floor --replay`: right after tachyon-c's measurement, on the same "
      "target, exactly the ranges tachyon-c's next sample would fetch (the `batch` its JSON "
      "reports: one remote range per prefetched object) read with one `process_vm_readv` per "
      f"iteration, back to back for {a.floor_seconds:g} s. It is the kernel's cost of the "
      "bytes tachyon-c copies per sample, with nothing else, so `tachyon-c / replay` is how "
      "much tachyon-c adds on top of its one batched read: walking and decoding what it read, "
      "aggregating into the profile, retries of torn reads and any extra syscalls (see "
      "syscalls/sample below; 1.00 means only the batch). n/a: no batch reported or the "
      "replay failed. Lower is better; `CPython / tachyon-c` above 1 means tachyon-c is "
      "faster.\n")
    rows, notes = [], []
    for name, rs in all_speed:
        cp_failed = med([pct(r["cpython"].get("failed"), r["cpython"].get("samples"))
                         for r in rs])
        mark = ""
        if cp_failed is not None and cp_failed > 50:
            mark = f" [{len(notes) + 1}]"
            msgs = {}
            for r in rs:
                for k, v in (r["cpython"].get("messages") or {}).items():
                    msgs[k] = msgs.get(k, 0) + v
            top = sorted(msgs.items(), key=lambda kv: -kv[1])[:3]
            total = sum(msgs.values()) or 1
            notes.append(f"[{len(notes) + 1}] `{name}`: CPython's sampler failed "
                         f"{fmt(cp_failed, 1)}% of its calls; most common errors: "
                         + "; ".join(f"`{k}` ({100 * v / total:.0f}%)" for k, v in top)
                         + ". A failed call can end early, so part of this time is the time "
                         "to fail; see the cost per successful sample below.")
        rows.append([f"`{name}`",
                     span(col(rs, "cpython", "us_per_sample")) + mark,
                     span(col(rs, "tachyon", "us_per_sample")),
                     span([(r.get("replay") or {}).get("us_per_read") for r in rs]),
                     span(col(rs, "floor", "us_per_read")),
                     "n/a (CPython failed)" if cp_failed is not None and cp_failed >= 99 else
                     span(rcol(rs, lambda r: ratio(r["cpython"].get("us_per_sample"),
                                                   r["tachyon"].get("us_per_sample"))), 2),
                     span(rcol(rs, lambda r: ratio(r["tachyon"].get("us_per_sample"),
                                                   (r.get("replay") or {}).get("us_per_read"))),
                          2),
                     span(rcol(rs, lambda r: ratio(r["tachyon"].get("us_per_sample"),
                                                   r["floor"].get("us_per_read"))), 1)])
    w(table(["workload", "CPython us/sample", "tachyon-c us/sample", "replay us/read",
             "floor us/read", "CPython / tachyon-c", "tachyon-c / replay",
             "tachyon-c / floor"], rows))
    w("")
    for n in notes:
        w(n + "\n")
    w("Workloads: " + "; ".join(f"`{n}`: {descr[n]}" for n, _ in all_speed) + ".\n")

    w("### Cost per successful sample\n")
    w("Time spent over samples that produced a stack (failed samples are paid for but give "
      "nothing): `us/sample / (1 - failed fraction)`, per round.\n")
    rows = []

    def good(r, tool):
        x = r[tool]
        if x.get("us_per_sample") is None or not x.get("samples"):
            return None
        ok = 1 - x.get("failed", 0) / x["samples"]
        return x["us_per_sample"] / ok if ok > 0 else None

    for name, rs in all_speed:
        rows.append([f"`{name}`", span([good(r, "cpython") for r in rs]),
                     span([good(r, "tachyon") for r in rs]),
                     span([ratio(good(r, "cpython"), good(r, "tachyon")) for r in rs], 2)])
    w(table(["workload", "CPython us/successful sample", "tachyon-c us/successful sample",
             "CPython / tachyon-c"], rows))
    w("")

    w("### CPU per sample and completeness\n")
    w("CPU time of the sampling process per sample (user + system), frames per sample (all "
      "threads together; tachyon-c: mean over all samples, a failed one counting 0; CPython: "
      "mean over every 32nd successful call), and failed samples (tachyon-c: dropped after "
      "its retry; CPython: the call raised). The floor's CPU per read is the same figure "
      "for one bare read.\n")
    rows = []
    for name, rs in all_speed:
        def failpct(tool, rs=rs):
            return [pct(r[tool].get("failed"), r[tool].get("samples")) for r in rs]
        errs = {}
        for r in rs:
            for k, v in (r["cpython"].get("errors") or {}).items():
                errs[k] = errs.get(k, 0) + v
        rows.append([f"`{name}`",
                     span(col(rs, "cpython", "cpu_us_per_sample")),
                     span(col(rs, "tachyon", "cpu_us_per_sample")),
                     span(col(rs, "floor", "cpu_us_per_read")),
                     span(col(rs, "cpython", "frames_per_sample"), 0),
                     span(col(rs, "tachyon", "frames_per_sample"), 0),
                     span(failpct("cpython"), 2, "%") +
                     (" " + ", ".join(f"{k} {v}" for k, v in errs.items()) if errs else ""),
                     span(failpct("tachyon"), 2, "%")])
    w(table(["workload", "CPython CPU us/sample", "tachyon-c CPU us/sample",
             "floor CPU us/read", "CPython frames", "tachyon-c frames", "CPython failed",
             "tachyon-c failed"], rows))
    w("")

    w("### tachyon-c: where a sample's time goes\n")
    w("From `tachyon-c bench --json`: `process_vm_readv` calls, remote ranges read and bytes "
      "copied per sample, retries (a torn read re-taken) per sample, the hit rate of the "
      "code-object cache, the share of frames whose frame id and stack node came from the "
      "thread's previous sample (frame cache: the bottom of the stack unchanged), and the hit "
      "rate of the (code, offset) -> frame memo for the rest.\n")
    rows = []
    for name, rs in all_speed:
        def cache(key, sub, rs=rs):
            return [(r["tachyon"].get(key) or {}).get(sub) for r in rs]
        rows.append([f"`{name}`",
                     span(col(rs, "tachyon", "syscalls_per_sample"), 2),
                     span(col(rs, "tachyon", "reads_per_sample"), 1),
                     span(col(rs, "tachyon", "bytes_per_sample"), 0),
                     span(rcol(rs, lambda r: ratio(r["tachyon"].get("retries"),
                                                   r["tachyon"].get("samples"))), 3),
                     span([pct(x, 1) for x in cache("code_cache", "hit_rate")], 2, "%"),
                     span([pct(x, 1) for x in cache("frame_cache", "hit_rate")], 2, "%"),
                     span([pct(x, 1) for x in cache("frame_memo", "hit_rate")], 2, "%")])
    w(table(["workload", "syscalls/sample", "reads/sample", "bytes/sample", "retries/sample",
             "code cache hits", "frames reused (frame cache)", "frame memo hits"], rows))
    w("")

    w("### Target throughput while being sampled back to back\n")
    w("The workload's own iterations/s during the middle of each measurement, as a percentage "
      "of the idle window of the same round (100% = no slowdown). Back-to-back sampling is the "
      "worst case; see section 3 for a real sampling rate. On 2 CPUs the target and the "
      "sampler each get one.\n")
    rows = []
    for name, rs in all_speed:
        def rel(tool, rs=rs):
            return [pct(r[tool].get("target_rate"), r["idle"]["target_rate"]) for r in rs]
        rows.append([f"`{name}`", span(col(rs, "idle", "target_rate"), 0),
                     span(rel("cpython"), 1, "%"), span(rel("tachyon"), 1, "%"),
                     span(rel("floor"), 1, "%")])
    w(table(["workload", "idle iterations/s", "under CPython", "under tachyon-c",
             "under floor loop"], rows))
    w("")

    if rates:
        w("## 2. Profiler CPU at a fixed sampling rate (`mixed` workload)\n")
        w(f"`tachyon-c attach PID -r RATE -d {a.rate_seconds:g} -f summary -o FILE` versus "
          f"`python3.15 -m profiling.sampling attach -a -r RATE -d {a.rate_seconds:g} "
          "--collapsed -o FILE PID`, alternating. `CPU % of a core` is the profiler process's "
          "utime+stime (from /proc/PID/stat) over the steady middle of the recording (after "
          "1 s, before the last 0.5 s), so start-up and writing the file are excluded; "
          "`total CPU` is the whole child from exec to exit (wait4 rusage), start-up included. "
          "`CPU us/sample` = steady CPU over achieved samples. Achieved rate is the profiler's "
          "own figure (tachyon-c's summary; CPython's `Sample rate:` line). "
          "`bare wake-up loop (floor)` is `floor --wake RATE "
          f"{a.rate_seconds:g}` (bench/floor.c), run in the same round for the same seconds, "
          "taking turns with the two profilers: a loop that does nothing but sleep to absolute "
          "deadlines at RATE Hz (`clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`, timer slack "
          "1 ns) with tachyon-c's slot policy (slots that passed whole while it was late are "
          "skipped and counted as missed). It is what waking up RATE times a second costs on "
          "this machine before any sampling, so a profiler's CPU at that rate cannot be below "
          "it, and its missed slots are those lost to late wake-ups alone. Its CPU % and CPU "
          "us per wake-up are its own getrusage over its whole loop (it has no start-up or file "
          "to write worth excluding, so this is comparable with the profilers' steady middle); "
          "its `total CPU` is the whole process (wait4 rusage).\n")
        rows = []
        for rate in (100, 1000, 10000):
            for tool, label in (("tachyon", "tachyon-c"), ("cpython", "CPython"),
                                ("wake", "bare wake-up loop (floor)")):
                rs = [x for x in rates if x["rate"] == rate and x["tool"] == tool]
                cpu_per = [ratio(x["steady_cpu_frac"], x.get("achieved_hz")) for x in rs]
                lost = []
                for x in rs:
                    if tool == "tachyon" and x.get("samples") is not None:
                        lost.append(f"{x.get('failed', 0)} failed, {x.get('missed', 0)} missed")
                    elif tool == "cpython" and x.get("error_rate_pct") is not None:
                        lost.append(f"error rate {x['error_rate_pct']:g}%")
                    elif tool == "wake" and x.get("missed") is not None:
                        slots = x["missed"] + (x.get("wakeups") or 0)
                        lost.append(f"{x['missed']} missed slots "
                                    f"({fmt(pct(x['missed'], slots), 2)}%)")
                rows.append([fmt(rate, 0), label,
                             span([x.get("achieved_hz") for x in rs], 0),
                             span([pct(x["steady_cpu_frac"], 1) for x in rs], 1, "%"),
                             span([c * 1e6 if c is not None else None for c in cpu_per], 1),
                             span([x["total_cpu"] for x in rs], 2, " s"),
                             "; ".join(lost) or "n/a"])
        w(table(["requested Hz", "profiler", "achieved Hz", "CPU % of a core",
                 "CPU us/sample (floor: per wake-up)", "total CPU", "lost samples"], rows))
        w("")

    if slow:
        w("## 3. Target slowdown at 1 kHz\n")
        w("Each workload's iterations/s while `tachyon-c attach -r 1000` or "
          "`profiling.sampling attach -a -r 1000` records it, as a percentage of an unprofiled "
          f"window of the same round ({a.slow_seconds - 1.5:g} s windows: the steady middle of "
          f"a {a.slow_seconds} s recording; order alternating). 100% = no slowdown.\n")
        rows = []
        for name, rs in slow.items():
            def rel(tool, rs=rs):
                return [pct(r[tool].get("target_rate"), r["none"]["target_rate"]) for r in rs]
            rows.append([f"`{name}`", span([r["none"]["target_rate"] for r in rs], 0),
                         span(rel("tachyon"), 1, "%"), span(rel("cpython"), 1, "%"),
                         span([r["tachyon"].get("achieved_hz") for r in rs], 0),
                         span([r["cpython"].get("achieved_hz") for r in rs], 0)])
        w(table(["workload", "unprofiled iterations/s", "with tachyon-c", "with CPython",
                 "tachyon-c achieved Hz", "CPython achieved Hz"], rows))
        w("")

    if deep:
        w("## 4. 10,000-frame active stack\n")
        w("`deep_active --depth 10000` (also in the tables of section 1). The stack holds "
          "10,001-10,007 frames; frames/sample is the mean over all samples taken, so samples "
          "that failed or came back short pull it down.\n")
        rs = deep
        fr_t = med(col(rs, "tachyon", "frames_per_sample"))
        fr_c = med(col(rs, "cpython", "frames_per_sample"))
        w(table(["", "CPython", "tachyon-c", "floor"], [
            ["us/sample", span(col(rs, "cpython", "us_per_sample")),
             span(col(rs, "tachyon", "us_per_sample")), span(col(rs, "floor", "us_per_read"))],
            ["frames/sample", span(col(rs, "cpython", "frames_per_sample"), 0),
             span(col(rs, "tachyon", "frames_per_sample"), 0), ""],
            ["complete (mean frames/sample >= 9,900)",
             "yes" if fr_c and fr_c >= 9900 else "no", "yes" if fr_t and fr_t >= 9900 else "no",
             ""],
            ["failed", span([pct(r["cpython"].get("failed"), r["cpython"].get("samples"))
                             for r in rs], 2, "%"),
             span([pct(r["tachyon"].get("failed"), r["tachyon"].get("samples"))
                   for r in rs], 2, "%"), ""],
            ["syscalls/sample", "", span(col(rs, "tachyon", "syscalls_per_sample"), 2), ""],
            ["bytes/sample", "", span(col(rs, "tachyon", "bytes_per_sample"), 0), ""],
            ["CPython / tachyon-c", "n/a (CPython failed)" if fr_c is None else
             span(rcol(rs, lambda r: ratio(r["cpython"].get("us_per_sample"),
                                           r["tachyon"].get("us_per_sample"))), 2), "", ""],
            ["tachyon-c / floor", "", span(rcol(rs, lambda r: ratio(
                r["tachyon"].get("us_per_sample"), r["floor"].get("us_per_read"))), 1), ""],
        ]))
        w("")

    if soaked:
        sk = soaked
        w("## 5. Memory over a long recording\n")
        w(f"`tachyon-c attach -r 1000 -d {sk['seconds']}` on the `threads` workload (101 "
          "threads), the profiler's resident set read from `/proc/PID/status` every 5 s. "
          "Every cache is bounded (code objects 4,096, frame cache 262,144 frames / 4,096 "
          "threads, prefetch 4 MiB, page cache 64 pages); the profile grows only with "
          "distinct stacks.\n")
        pts = sk["points"]
        def at(tsec):
            c = [p for p in pts if p[0] >= tsec]
            return f"{c[0][1] / 1024:.1f} MiB" if c else "n/a"
        w(table(["", ""], [
            ["exit status", str(sk["rc"])],
            ["samples / failed / missed slots",
             f"{sk['samples']} / {sk['failed']} / {sk['missed']}"],
            ["RSS after 1 min", at(60)],
            ["RSS after 5 min", at(300) if sk["seconds"] >= 300 else "n/a"],
            ["RSS at the end", f"{pts[-1][1] / 1024:.1f} MiB" if pts else "n/a"],
            ["peak RSS (getrusage)", f"{sk['max_rss_kb'] / 1024:.1f} MiB"],
            ["profiler CPU", f"{100 * sk['cpu'] / sk['seconds']:.2f}% of one CPU"],
        ]))
        w("")

    if stats_md:
        w("## 6. Allocator statistics (`tachyon-c stats`)\n")
        w("From `bench/stats_bench.py` (run by this script; alone: `/usr/bin/python3 "
          "bench/stats_bench.py`): per interpreter one target holding about 100 MiB of small "
          "objects of every size class, parked; `stats --bench 200` per round: 200 summaries "
          "(counters, arena array, GC state, `/proc/PID/statm`) back to back, then 200 full "
          "walks (every pool header, 1,024 per `process_vm_readv`). No CPython tool reports "
          "this from outside, so there is nothing to compare with; the goals are a summary "
          "under 50 us and a full walk of a 100 MB heap under 10 ms. 3.9's pools are 4 KiB "
          "(16 KiB from 3.10), so the same heap has four times as many pool headers to read.\n")
        w(stats_md + "\n")

    w("## Caveats\n")
    w("- Two vCPUs shared with whatever else runs on the host: absolute microseconds move "
      "between runs by tens of percent; the within-round ratios move much less. Compare "
      "ratios, not absolute figures, across runs.\n"
      "- The two samplers do not do identical work: CPython's call builds Python objects "
      "(FrameInfo with file, function, location) for every frame of every thread, and its "
      "profiler aggregates them in Python afterwards (not timed here); tachyon-c `bench` runs "
      "the sampling loop of `attach` with no sleep, aggregation into the profile included. "
      "Section 2 compares the two complete profilers.\n"
      "- `bench` samples as fast as it can, so the target competes for memory bandwidth and, "
      "on 2 CPUs, for CPU with the sampler; section 3 shows the realistic 1 kHz case.\n")
    # the measurements behind design choices (not regenerated: bench/decisions.md)
    w((BENCH / "decisions.md").read_text().rstrip("\n"))
    return "\n".join(W) + "\n"


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
