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

import faulthandler
import json
import os
import re
import sys
import threading

SELF_SAMPLE = os.environ.get("ORACLE_SELF_SAMPLE")
FAULT_DEPTH = 100  # faulthandler's MAX_FRAME_DEPTH
FAULT_LINE = re.compile(r'File "(.*)", line (\S+) in (.*)$')
LONG_LIVED = []  # native ids of threads that always have Python frames while the target runs
LONG_LIVED_LOCK = threading.Lock()
PARKED = []  # [native id, file, qualname]: a thread that stays inside that function


def register(also=None, parked_in=None):  # tags: register
    """Called by each long-lived scenario thread as it starts; ALSO: the native id of one more
    thread it started (counted with it, so the handshake lists both), which from now on never
    leaves the function PARKED_IN: every sample of it must show that function."""
    LONG_LIVED_LOCK.acquire()
    if also is not None:
        LONG_LIVED.append(also)
    if parked_in is not None:
        code = parked_in.__code__
        PARKED.append([also, code.co_filename, getattr(code, "co_qualname", code.co_name)])
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
    if SELF_SAMPLE:
        sampler = threading.Thread(target=self_sample, args=(stop,), daemon=True)  # -> @stdlib
        sampler.start()  # -> @stdlib
        started.append(sampler)
    # the main thread registers in its scenario; every other one has by the handshake
    announce(len(scenarios))  # -> announce
    scenarios[0](stop)  # -> @entry
    for t in started:
        t.join()  # -> @stdlib


def announce(expected_threads):  # tags: announce
    """Print the handshake line once EXPECTED_THREADS threads (the waiter and every scenario
    thread but the main one) registered."""
    while len(set(LONG_LIVED)) < expected_threads:
        os.sched_yield()
    LONG_LIVED.append(threading.get_native_id())
    files = set()
    for m in list(sys.modules.values()):
        name = getattr(m, "__name__", "")
        if name.startswith("oracle_") or name == "__main__":
            files.add(os.path.abspath(m.__file__))  # -> @stdlib
    here = os.path.dirname(threading.__file__)  # -> @stdlib
    real = os.path.dirname(os.path.realpath(threading.__file__))  # -> @stdlib
    info = {
        "pid": os.getpid(),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "qualnames": sys.version_info >= (3, 11),
        "script": os.path.abspath(sys.argv[0]),  # -> @stdlib
        "files": sorted(files),
        "stdlib": sorted(set([here, real])),
        "long_lived": sorted(set(LONG_LIVED)),
        "parked": PARKED,
    }
    sys.stdout.write(json.dumps(info) + "\n")  # -> @stdlib
    sys.stdout.flush()


def self_sample(stop):  # tags: thread
    """The target's own view, for checking the oracle itself: every millisecond, every other
    thread's stack as faulthandler prints it (all threads walked in C under the GIL, so never
    torn; frames carry co_name, at most 100 a thread), written in tachyon-c's collapsed
    format to $ORACLE_SELF_SAMPLE when released. The checker must find nothing wrong in it."""
    counts = {}
    # binary: a text file would run codecs.py's decoder in Python above these lines
    scratch = open(SELF_SAMPLE + ".scratch", "w+b")
    while not stop.is_set():  # -> @stdlib
        scratch.seek(0)
        scratch.truncate()
        faulthandler.dump_traceback(scratch, all_threads=True)
        scratch.seek(0)
        text = scratch.read().decode("utf-8", "replace")
        for block in text.split("\n\n"):
            lines = block.strip("\n").split("\n")
            if not lines[0].startswith("Thread 0x"):
                continue  # the sampler itself ("Current thread ...")
            parts = []
            for line in lines[1:]:
                line = line.strip()
                if line.startswith("File "):
                    m = FAULT_LINE.match(line)
                    parts.append("%s:%s:%s" % (m.group(1), m.group(3).replace(":", "%3A"),
                                               m.group(2) if m.group(2).isdigit() else "?"))
                elif line.startswith("...") or line.startswith("<truncated"):
                    parts.append("<truncated>:<truncated>:?")
            if len(parts) >= FAULT_DEPTH and not parts[-1].startswith("<truncated>"):
                parts.append("<truncated>:<truncated>:?")  # 3.13+ stop without a word
            parts.append("tid:" + lines[0].split()[1])
            parts.reverse()
            key = ";".join(parts)
            counts[key] = counts.get(key, 0) + 1
        stop.wait(0.001)  # -> @stdlib
    scratch.close()
    os.unlink(SELF_SAMPLE + ".scratch")
    tmp = SELF_SAMPLE + ".tmp"
    f = open(tmp, "w")  # -> @stdlib
    for key in counts:
        f.write("%s %d\n" % (key, counts[key]))  # -> @stdlib
    f.close()  # -> @stdlib
    os.rename(tmp, SELF_SAMPLE)
