# SPDX-License-Identifier: MIT
"""Oracle target: a deterministic call graph with one call line per edge, closures built per
request, and a 5,000-frame recursion entered and unwound over and over.

Usage: python oracle_calls.py  (handshake and oracle comments: see oracle_common.py)
"""

import oracle_common


def leaf_a(n):  # tags: expect
    s = 0
    for i in range(n):
        s += i
    return s


def leaf_b(n):
    s = 1
    for i in range(n):
        s ^= i
    return s


def mid_x(n):
    r = leaf_a(n)  # -> leaf_a
    r += leaf_b(n)  # -> leaf_b
    return r


def mid_y(n):
    r = leaf_b(n + 1)  # -> leaf_b
    r += mid_z(n)  # -> mid_z
    return r


def mid_z(n):
    return leaf_a(n + 2)  # -> leaf_a


def top_p(n):
    r = mid_x(n)  # -> mid_x
    r += mid_y(n)  # -> mid_y
    return r


def top_q(n):
    r = mid_z(n)  # -> mid_z
    r += leaf_b(n)  # -> leaf_b
    return r


class Handler:
    def __init__(self, k):
        self.k = k

    def handle(self, n):
        return self.inner(n + self.k)  # -> Handler.inner

    def inner(self, n):
        return leaf_a(n)  # -> leaf_a


def make_handler(k):
    def handler(n):
        return leaf_b(n + k)  # -> leaf_b
    return handler


def recurse(n):
    if n > 0:
        return recurse(n - 1) + 1  # -> recurse
    return leaf_a(2000)  # -> leaf_a


def calls(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    rounds = 0
    while not stop.is_set():  # -> @stdlib
        top_p(50)  # -> top_p
        top_q(50)  # -> top_q
        h = Handler(rounds)  # -> Handler.__init__
        h.handle(30)  # -> Handler.handle
        make_handler(rounds)(20)  # -> make_handler make_handler.<locals>.handler
        f = lambda n: leaf_b(n)  # -> leaf_b
        f(10)  # -> calls.<locals>.<lambda>
        rounds += 1
        if rounds % 50 == 0:
            recurse(5000)  # -> recurse


if __name__ == "__main__":
    oracle_common.serve([calls])  # -> @serve
