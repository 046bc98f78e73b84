# SPDX-License-Identifier: MIT
"""Runs Python code under a known function, then replaces itself (execve, same PID) with
another interpreter running other code: argv[1] is that interpreter. Prints "ready" first,
then "exec" just before it replaces itself (after the caller wrote "go" on stdin)."""
import os
import sys


def before_exec():
    x = 0
    while True:
        for i in range(10000):
            x += i
        if ready.is_set():
            return


import threading

ready = threading.Event()


def wait_go():
    sys.stdin.readline()
    ready.set()


threading.Thread(target=wait_go, daemon=True).start()
print("ready", flush=True)
before_exec()
print("exec", flush=True)
os.execv(sys.argv[1], [sys.argv[1], "-c",
                       "def after_exec():\n    while True: sum(range(1000))\nafter_exec()\n"])
