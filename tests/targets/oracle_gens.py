# SPDX-License-Identifier: MIT
"""Oracle target: generator and `yield from` chains 10 to 50 deep entered and unwound without
pause, coroutines driven by hand (coro.send) and by asyncio.

Usage: python oracle_gens.py  (handshake and oracle comments: see oracle_common.py)
"""

import asyncio

import oracle_common


def spin(n):
    s = 0
    for i in range(n):
        s += i
    return s


def chain(depth):  # tags: expect
    if depth > 0:
        r = yield from chain(depth - 1)  # -> chain
        return r + 1
    for i in range(3):
        spin(20)  # -> spin
        yield i
    return 0


def gen_a(n):
    yield from gen_b(n)  # -> gen_b
    yield from gen_c(n)  # -> gen_c


def gen_b(n):
    for i in range(n):
        spin(10)  # -> spin
        yield i


def gen_c(n):
    g = gen_b(n)  # -> gen_b
    while True:
        try:
            v = next(g)  # -> gen_b
        except StopIteration:
            return
        yield v + 1


def drive_chains():
    total = 0
    for depth in range(10, 51, 4):
        for v in chain(depth):  # -> chain
            total += v
    for v in gen_a(5):  # -> gen_a
        total += v
    return total


class Suspend:
    def __await__(self):
        spin(5)  # -> spin
        yield
        spin(5)  # -> spin


async def co_leaf(n):
    spin(n)  # -> spin
    await Suspend()  # -> Suspend.__await__
    return spin(n)  # -> spin


async def co_mid(n):
    r = await co_leaf(n)  # -> co_leaf
    r += await co_leaf(n + 1)  # -> co_leaf
    return r


async def co_top(n):  # tags: stdlib
    r = 0
    for i in range(3):
        r += await co_mid(n)  # -> co_mid
    return r


def drive_by_hand():
    coro = co_top(30)  # -> co_top
    while True:
        try:
            coro.send(None)  # -> co_top
        except StopIteration:
            return


async def co_async_main():  # tags: stdlib
    r = await co_top(20)  # -> co_top
    rs = await asyncio.gather(co_top(10), co_top(15))  # -> @stdlib co_top
    r += rs[0] + rs[1]
    await asyncio.sleep(0)  # -> @stdlib
    return r


def gens(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    rounds = 0
    while not stop.is_set():  # -> @stdlib
        drive_chains()  # -> drive_chains
        drive_by_hand()  # -> drive_by_hand
        rounds += 1
        if rounds % 200 == 0:
            asyncio.run(co_async_main())  # -> @stdlib co_async_main


if __name__ == "__main__":
    oracle_common.serve([gens])  # -> @serve
