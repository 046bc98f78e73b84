# SPDX-License-Identifier: MIT
"""Functional-test target: prints "ready" and sleeps until stdin closes. Runs on 3.9 to 3.15."""

import sys

if __name__ == "__main__":
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()
