# SPDX-License-Identifier: MIT
"""Functional-test target whose innermost function is named to attack a terminal: its name,
qualified name (3.11+) and file name hold ESC sequences, BEL, DEL and the C1 control CSI
(U+009B). Prints one JSON line with those names (ASCII-escaped), then blocks in that function
until stdin closes. Runs on 3.9 to 3.15."""

import json
import os
import sys

NAME = "evil\x1b[31mred\x07bel\x7fdel\u009bcsi"
QUALNAME = "Outer\x1b]0;title\x07." + NAME
FILE = "/hostile/\x1b[2Jclear\x07.py"

SOURCE = '''
def parked(write, read):
    write()
    while read(0, 1):
        pass
'''


def build():
    """parked() compiled from FILE, renamed to NAME (and QUALNAME where code objects have one)."""
    ns = {}
    exec(compile(SOURCE, FILE, "exec"), ns)
    f = ns["parked"]
    fields = {"co_name": NAME}
    if hasattr(f.__code__, "co_qualname"):  # 3.11+
        fields["co_qualname"] = QUALNAME
    f.__code__ = f.__code__.replace(**fields)
    return f


def main():
    f = build()
    view = {"pid": os.getpid(), "name": f.__code__.co_name,
            "qualname": getattr(f.__code__, "co_qualname", None),
            "file": f.__code__.co_filename}

    def ready():
        sys.stdout.write(json.dumps(view) + "\n")
        sys.stdout.flush()

    f(ready, os.read)


if __name__ == "__main__":
    main()
