# SPDX-License-Identifier: MIT
"""Functional-test target: threads parked at known points, each recording its own view.

Usage: python stacks.py VIEWS.json

Threads started, each parked in os.read() on a pipe (a C call that releases the GIL and adds no
Python frame):
  main     <module> -> main -> Outer.Inner.method -> closure -> <lambda> -> consume -> (generator) -> park_main
  deep     a 3,000-frame recursion
  async    asyncio.run -> coroutine -> awaited coroutine -> plain blocking function
  plain    a plain thread (through a list comprehension: a frame on 3.9-3.11, inlined on 3.12+)

Each parking function evaluates the recording call as an argument of the blocking call
(`os.read(fd, record(...))`), so the line the frame reports while recording is the very line it
blocks on. Handshake: when every worker is verified blocked in read() on its own pipe (from
/proc/self/task/TID/syscall), the main thread records its own view, writes all views to
VIEWS.json (temporary name, then rename), prints "ready" on stdout and blocks in read() on stdin.
Closing stdin (or writing to it) releases every thread; the process then exits 0.

Runs unchanged on CPython 3.9 to 3.15 (no 3.10+ syntax).
"""

import asyncio
import json
import os
import platform
import sys
import threading
import time

DEPTH = 3000
PARK_TIMEOUT = 60.0

VIEWS = {}
VIEWS_LOCK = threading.Lock()
HAS_QUALNAME = sys.version_info >= (3, 11)
# read(2) syscall number, to recognise a thread blocked in os.read() from /proc
READ_SYSCALL = {"x86_64": 0, "aarch64": 63}.get(platform.machine())


def frame_view(frame):
    """Frames from FRAME outwards, innermost first, as the interpreter itself sees them."""
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


def record(role, fd):
    """Record the caller's stack under ROLE; returns 1 (the byte count for os.read)."""
    view = {
        "role": role,
        "thread_id": threading.get_ident(),
        "native_id": threading.get_native_id(),
        "main": threading.current_thread() is threading.main_thread(),
        "fd": fd,
        "frames": frame_view(sys._getframe(1)),
    }
    with VIEWS_LOCK:
        VIEWS[role] = view
    return 1


def park(role, fd):
    os.read(fd, record(role, fd))


# --- (b) deep recursion -------------------------------------------------------------------
def recurse(n, fd):
    if n <= 1:
        park("deep", fd)
        return
    recurse(n - 1, fd)


def deep_worker(fd):
    recurse(DEPTH, fd)


# --- (c) a coroutine under asyncio.run, blocked inside a plain function -------------------
def blocking_in_coroutine(fd):
    os.read(fd, record("async", fd))


async def awaited_coroutine(fd):
    await asyncio.sleep(0)
    blocking_in_coroutine(fd)
    return 1


async def top_coroutine(fd):
    result = await awaited_coroutine(fd)
    return result


def async_worker(fd):
    asyncio.run(top_coroutine(fd))


# --- (d) a plain thread -------------------------------------------------------------------
def plain_leaf(fd):
    os.read(fd, record("plain", fd))


def plain_worker(fd):
    [plain_leaf(fd) for _ in range(1)]


# --- (a) the main thread's chain ----------------------------------------------------------
class Outer:
    class Inner:
        def method(self, fd):
            return make_closure(fd)()


def make_closure(fd):
    def closure():
        lam = lambda: consume(generator(fd))
        return lam()
    return closure


def consume(gen):
    for _ in gen:
        pass


def generator(fd):
    yield park_main(fd)


def publish(fd):
    """Record the main thread's view, publish all views, signal readiness. Returns 1."""
    record("main", fd)
    caller = VIEWS["main"]["frames"]
    del caller[0]  # publish() itself is no part of the parked stack
    doc = {
        "pid": os.getpid(),
        "version": platform.python_version(),
        "debug": hasattr(sys, "gettotalrefcount"),
        "threads": [VIEWS[r] for r in sorted(VIEWS)],
    }
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.rename(tmp, OUT)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    return 1


def park_main(fd):
    return os.read(fd, publish(fd))


def main():
    return Outer.Inner().method(0)


# --- harness ------------------------------------------------------------------------------
def blocked_in_read(native_id, fd):
    try:
        with open("/proc/self/task/%d/syscall" % native_id) as f:
            fields = f.read().split()
    except OSError:
        return False
    return (len(fields) > 1 and fields[0] == str(READ_SYSCALL) and int(fields[1], 16) == fd)


def start_workers():
    threading.stack_size(256 * 1024 * 1024)  # room for DEPTH C-level frames on 3.9/3.10 debug
    sys.setrecursionlimit(DEPTH * 4)
    workers = []
    for role, fn in (("deep", deep_worker), ("async", async_worker), ("plain", plain_worker)):
        r, w = os.pipe()
        t = threading.Thread(target=fn, args=(r,), name=role, daemon=True)
        t.start()
        workers.append((role, t, r, w))
    deadline = time.monotonic() + PARK_TIMEOUT
    for role, t, r, w in workers:
        while True:
            with VIEWS_LOCK:
                view = VIEWS.get(role)
            if view is not None and (READ_SYSCALL is None or blocked_in_read(view["native_id"], r)):
                break
            if not t.is_alive() or time.monotonic() > deadline:
                sys.stderr.write("stacks.py: thread %s did not park\n" % role)
                sys.exit(1)
            time.sleep(0.005)
    if READ_SYSCALL is None:
        time.sleep(0.5)  # no way to see the syscall: give the workers time to block
    # The view each worker recorded before blocking must be the view of it parked.
    current = sys._current_frames()
    for role, t, r, w in workers:
        parked = frame_view(current[t.ident])
        if parked != VIEWS[role]["frames"]:
            sys.stderr.write("stacks.py: %s recorded %r but is parked at %r\n"
                             % (role, VIEWS[role]["frames"][:3], parked[:3]))
            sys.exit(1)
    return workers


if __name__ == "__main__":
    OUT = sys.argv[1]
    workers = start_workers()
    main()
    for role, t, r, w in workers:
        os.write(w, b"x")
    for role, t, r, w in workers:
        t.join(30)
