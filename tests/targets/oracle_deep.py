# SPDX-License-Identifier: MIT
"""Oracle target: one thread holds a legitimate 70,000-frame recursion (a profiler records it
as truncated, or whole) while other threads keep running shallow stacks that must still be
sampled.

Usage: python oracle_deep.py  (handshake and oracle comments: see oracle_common.py)
"""

import sys
import threading

import oracle_common

DEPTH = 70000


def deep_leaf(stop):  # tags: expect
    n = 0
    while not stop.is_set():  # -> @stdlib
        n += 1
    return n


def deep_recurse(n, stop):
    if n > 0:
        return deep_recurse(n - 1, stop)  # -> deep_recurse
    return deep_leaf(stop)  # -> deep_leaf


def deep_thread(stop):  # tags: thread
    deep_recurse(DEPTH, stop)  # -> deep_recurse


def deep(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    # Before 3.11 every Python call also takes C stack: give the recursion's thread room.
    if sys.version_info < (3, 11):
        threading.stack_size(1 << 30)
    t = threading.Thread(target=deep_thread, args=(stop,), daemon=True)  # -> @stdlib
    t.start()  # -> @stdlib
    threading.stack_size(0)
    sibling_loop(stop)  # -> sibling_loop
    t.join()  # -> @stdlib


def sibling_leaf(n):  # tags: expect
    s = 0
    for i in range(n):
        s += i
    return s


def sibling_loop(stop):
    while not stop.is_set():  # -> @stdlib
        sibling_leaf(100)  # -> sibling_leaf


if __name__ == "__main__":
    oracle_common.serve([deep])  # -> @serve
