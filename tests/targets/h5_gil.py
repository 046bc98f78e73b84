# SPDX-License-Identifier: MIT
"""Functional-test target: one thread spinning in pure Python (holding the GIL), the others
blocked with the GIL released, each having recorded its own view.

Usage: python h5_gil.py SPINNER VIEWS.json
  SPINNER  main: the main thread spins and a worker blocks in os.read() on stdin;
           worker: a worker spins and the main thread blocks in os.read() on stdin.

Threads, by role:
  spinner  spin(): `while` loop of pure Python; nothing else wants the GIL, so it never lets
           go of it (the forced switch only happens when another thread asks)
  sleeper  time.sleep(3600)
  waiter   threading.Lock().acquire() on a lock the process never releases
  reader   os.read(0, 1): closing stdin ends the process (exit 0)

Each blocked role evaluates its recording call as an argument of the blocking call, so the
line it records is the line it blocks on (as tests/targets/stacks.py does). Handshake: the
spinner waits until every blocked thread has been seen asleep (state S, no voluntary context
switch) over several polls, records its own view, writes all views to VIEWS.json (temporary
name, then rename), and spins, printing "ready" from its first lap. While it runs, its
innermost frame is spin() at a line after the recording one (up to spin_lines[1], spin()'s last
line); the frames below are as recorded. The write of "ready" lets go of the GIL for a moment:
a harness that needs the GIL held waits until the spinner has used some CPU time after it.

Runs unchanged on CPython 3.9 to 3.15 (no 3.10+ syntax).
"""

import json
import os
import sys
import threading
import time

HAS_QUALNAME = sys.version_info >= (3, 11)
VIEWS = {}
VIEWS_LOCK = threading.Lock()
NEVER = threading.Lock()
NEVER.acquire()


def frame_view(frame):
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append({
            "name": code.co_name,
            "qualname": code.co_qualname if HAS_QUALNAME else code.co_name,
            "file": code.co_filename,
            "line": frame.f_lineno,
            "first_line": code.co_firstlineno,
        })
        frame = frame.f_back
    return frames


def record(role, result):
    """Record the caller's stack under ROLE; returns RESULT (the blocking call's argument)."""
    view = {
        "role": role,
        "thread_id": threading.get_ident(),
        "native_id": threading.get_native_id(),
        "main": threading.current_thread() is threading.main_thread(),
        "frames": frame_view(sys._getframe(1)),
    }
    with VIEWS_LOCK:
        VIEWS[role] = view
    return result


def spin(out, spinner, blocked):
    wait_blocked(blocked)
    record("spinner", None)
    publish(out, spinner)
    # "ready" is written from inside the loop (os.write adds no Python frame), so from the
    # moment it can be read the spinner is at a line of its loop
    ready = b"ready\n"
    n = 0
    while n >= 0:
        if ready:
            os.write(1, ready)
            ready = b""
        n += 1
        n &= 0xffff


def line_range(fn):
    code = fn.__code__
    if hasattr(code, "co_lines"):
        lines = [line for _, _, line in code.co_lines() if line is not None]
    else:
        import dis
        lines = [line for _, line in dis.findlinestarts(code)]
    return [code.co_firstlineno, max(lines)]


def sleeper():
    time.sleep(record("sleeper", 3600))


def waiter():
    NEVER.acquire(record("waiter", True))


def reader():
    os.read(0, record("reader", 1))
    os._exit(0)


def thread_state(native_id):
    """(state letter, voluntary context switches) of one of our threads, or None."""
    try:
        with open("/proc/self/task/%d/status" % native_id) as f:
            text = f.read()
    except OSError:
        return None
    state = switches = None
    for line in text.splitlines():
        if line.startswith("State:"):
            state = line.split()[1]
        elif line.startswith("voluntary_ctxt_switches:"):
            switches = int(line.split()[1])
    return state, switches


def wait_blocked(roles, timeout=60.0):
    """Until every thread of ROLES has recorded and then stayed asleep over five polls."""
    deadline = time.monotonic() + timeout
    last, quiet = None, 0
    while quiet < 5:
        if time.monotonic() > deadline:
            sys.stderr.write("h5_gil.py: threads never settled: %r\n" % last)
            sys.exit(1)
        time.sleep(0.02)
        with VIEWS_LOCK:
            views = [VIEWS.get(r) for r in roles]
        if None in views:
            continue
        now = [thread_state(v["native_id"]) for v in views]
        if all(s is not None and s[0] == "S" for s in now) and now == last:
            quiet += 1
        else:
            quiet = 0
        last = now


def publish(out, spinner):
    doc = {
        "pid": os.getpid(),
        "spinner": spinner,
        "spin_lines": line_range(spin),
        "threads": [VIEWS[r] for r in sorted(VIEWS)],
    }
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.rename(out + ".tmp", out)


def main_spins(out):
    blocked = [("sleeper", sleeper), ("waiter", waiter), ("reader", reader)]
    for role, fn in blocked:
        threading.Thread(target=fn, name=role, daemon=True).start()
    spin(out, "main", [r for r, _ in blocked])


def worker_spins(out):
    blocked = [("sleeper", sleeper), ("waiter", waiter)]
    for role, fn in blocked:
        threading.Thread(target=fn, name=role, daemon=True).start()
    threading.Thread(target=spin, args=(out, "worker", [r for r, _ in blocked] + ["reader"]),
                     name="spinner", daemon=True).start()
    reader()


if __name__ == "__main__":
    if sys.argv[1] == "main":
        main_spins(sys.argv[2])
    else:
        worker_spins(sys.argv[2])
