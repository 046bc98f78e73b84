# SPDX-License-Identifier: MIT
"""Handshake and thread set-up shared by the oracle targets (tests/targets/oracle_*.py).

An oracle target is a program whose every possible stack is known. The oracle is written in
the target's own source, and tests/stress/oracle.py reads it from there with `ast`:

  - every line that calls Python code carries a comment `# -> NAME ...` naming every function
    (qualname as in 3.11+, within the same file) a call on that line can put directly above
    it, or `@TAG` for every function tagged TAG, or `@stdlib` (the call enters the standard
    library), or `@module` (the `<module>` of generated code, see oracle_codegen.py);
  - a def line may carry `# tags: T1 T2`: `thread` (may run directly above threading's
    Thread.run), `stdlib` (may be called from inside the standard library, e.g. a coroutine
    stepped by asyncio), `expect` (the scenario spends its time there: every profile of a
    running scenario must contain it), and any tag a `@TAG` names;
  - a line without `# ->` is not a call line: a caller frame shown on it is an impossible stack.

Keep calls on one line, no decorators, no comprehensions or generator expressions (they are
frames of their own on some versions), no `with`, no `__del__`, and exhaust every generator
(a generator dropped unfinished runs its close() above whichever frame dropped it).

Handshake: the target prints one JSON line (pid, version, the files whose frames are the
target's, the standard library directories, long-lived thread ids) once every scenario runs,
then runs until stdin closes, and exits 0. Runs unchanged on CPython 3.9 to 3.15.
"""

import json
import os
import sys
import threading

LONG_LIVED = []  # native ids of threads that always have Python frames while the target runs
LONG_LIVED_LOCK = threading.Lock()


def register():  # tags: register
    """Called by each long-lived scenario thread as it starts."""
    LONG_LIVED_LOCK.acquire()
    LONG_LIVED.append(threading.get_native_id())
    LONG_LIVED_LOCK.release()


def wait_release(stop):  # tags: thread
    register()  # -> register
    while os.read(0, 4096):
        pass
    stop.set()  # -> @stdlib


def serve(scenarios):  # tags: serve
    """Run SCENARIOS (functions taking a threading.Event, each calling register() first): the
    first on the main thread, the others on threads of their own, until stdin closes."""
    sys.setrecursionlimit(100000)
    stop = threading.Event()  # -> @stdlib
    started = []
    for fn in scenarios[1:]:
        t = threading.Thread(target=fn, args=(stop,), daemon=True)  # -> @stdlib
        t.start()  # -> @stdlib
        started.append(t)
    waiter = threading.Thread(target=wait_release, args=(stop,), daemon=True)  # -> @stdlib
    waiter.start()  # -> @stdlib
    # the main thread registers in its scenario; every other one has by the handshake
    announce(len(scenarios))  # -> announce
    scenarios[0](stop)  # -> @entry
    for t in started:
        t.join()  # -> @stdlib


def announce(expected_threads):  # tags: announce
    """Print the handshake line once EXPECTED_THREADS threads (the waiter and every scenario
    thread but the main one) registered."""
    while len(LONG_LIVED) < expected_threads:
        os.sched_yield()
    LONG_LIVED.append(threading.get_native_id())
    files = sorted(set(m.__file__ for m in list(sys.modules.values())
                       if getattr(m, "__name__", "").startswith("oracle_")
                       or getattr(m, "__name__", "") == "__main__"))
    stdlib = sorted(set([os.path.dirname(threading.__file__),
                         os.path.dirname(os.path.realpath(threading.__file__))]))
    info = {
        "pid": os.getpid(),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "qualnames": sys.version_info >= (3, 11),
        "script": os.path.abspath(sys.argv[0]),
        "files": [os.path.abspath(f) for f in files],
        "stdlib": stdlib,
        "long_lived": sorted(LONG_LIVED),
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
