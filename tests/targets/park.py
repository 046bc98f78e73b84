# SPDX-License-Identifier: MIT
"""Functional-test target: optionally loads extra shared libraries with ctypes (argv[1:]), prints
"ready", then blocks in parked_here() until stdin closes. Runs on 3.9 to 3.15."""

import ctypes
import os
import sys


def parked_here():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while os.read(0, 1):
        pass


if __name__ == "__main__":
    keep = [ctypes.CDLL(path, mode=os.RTLD_LOCAL) for path in sys.argv[1:]]
    parked_here()
