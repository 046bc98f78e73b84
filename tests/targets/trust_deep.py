# SPDX-License-Identifier: MIT
"""One thread recursing DEPTH frames deep (argv[1]) and parked there; the main thread spins
in main_spin(). Prints "ready" once the deep thread sits at the bottom of its recursion."""
import sys
import threading

DEPTH = int(sys.argv[1])
sys.setrecursionlimit(DEPTH + 1000)
threading.stack_size(1 << 29)  # 3.9/3.10 recurse on the C stack too
at_bottom = threading.Event()
release = threading.Event()


def down(n):
    if n == 0:
        at_bottom.set()
        release.wait()
        return 0
    return down(n - 1) + 1


def main_spin():
    x = 0
    while not release.is_set():
        for i in range(1000):
            x += i
    return x


t = threading.Thread(target=down, args=(DEPTH - 3,), daemon=True)
t.start()
at_bottom.wait()
print("ready", flush=True)
threading.Thread(target=lambda: (sys.stdin.readline(), release.set()), daemon=True).start()
main_spin()
