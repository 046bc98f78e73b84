# SPDX-License-Identifier: MIT
"""Oracle target: threads started and ended thousands of times a second, each running a known
shallow call chain, next to one long-lived thread with a steady stack.

Usage: python oracle_threads.py  (handshake and oracle comments: see oracle_common.py)
"""

import threading

import oracle_common

BATCH = 8


def churn_leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s


def churn_mid(n):
    return churn_leaf(n)  # -> churn_leaf


def churn_worker(n):  # tags: thread
    churn_mid(n)  # -> churn_mid


def churn(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    while not stop.is_set():  # -> @stdlib
        # dropping the last batch frees its Thread objects: threading's WeakSet callbacks
        # (_weakrefset.py _remove) run above this line
        batch = []  # -> @stdlib
        for i in range(BATCH):
            t = threading.Thread(target=churn_worker, args=(50,), daemon=True)  # -> @stdlib
            t.start()  # -> @stdlib
            batch.append(t)
        for t in batch:
            t.join()  # -> @stdlib


def steady_leaf(n):  # tags: expect
    s = 0
    for i in range(n):
        s += i
    return s


def steady(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    while not stop.is_set():  # -> @stdlib
        steady_leaf(200)  # -> steady_leaf


if __name__ == "__main__":
    oracle_common.serve([steady, churn])  # -> @serve
