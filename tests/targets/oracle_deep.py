# SPDX-License-Identifier: MIT
"""Oracle target: one thread holds a legitimate 70,000-frame recursion (a profiler records it
as truncated, or whole: either way it must show up) while the main thread keeps running a
shallow loop that must still be sampled.

Usage: python oracle_deep.py  (handshake and oracle comments: see oracle_common.py)
"""

import sys
import threading

import oracle_common

DEPTH = 70000


def deep_leaf(stop, reached):  # tags: expect
    reached.set()  # -> @stdlib
    n = 0
    while not stop.is_set():  # -> @stdlib
        n += 1
    return n


def deep_recurse(n, stop, reached):
    if n > 0:
        return deep_recurse(n - 1, stop, reached)  # -> deep_recurse
    return deep_leaf(stop, reached)  # -> deep_leaf


def deep_thread(stop, reached):  # tags: thread
    deep_recurse(DEPTH, stop, reached)  # -> deep_recurse


def deep(stop):  # tags: entry thread
    # Before 3.11 every Python call also takes C stack: give the recursion's thread room.
    if sys.version_info < (3, 11):
        threading.stack_size(1 << 30)
    reached = threading.Event()  # -> @stdlib
    t = threading.Thread(target=deep_thread, args=(stop, reached), daemon=True)  # -> @stdlib
    t.start()  # -> @stdlib
    threading.stack_size(0)
    reached.wait()  # -> @stdlib
    # from here the deep thread stays in deep_leaf: every sample of it must show deep_leaf
    # (the cut, if any, is at the base) and it must show up
    oracle_common.register(t.native_id, deep_leaf)  # -> @register @stdlib
    t.join()  # -> @stdlib


def sibling_leaf(n):  # tags: expect
    s = 0
    for i in range(n):
        s += i
    return s


def sibling_loop(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    while not stop.is_set():  # -> @stdlib
        sibling_leaf(100)  # -> sibling_leaf


if __name__ == "__main__":
    oracle_common.serve([sibling_loop, deep])  # -> @serve
