"""A small workload for `make demo`: a few threads doing different kinds of work."""
import hashlib
import json
import threading
import time


def parse_records(n):
    text = json.dumps([{"id": i, "name": "item%d" % i, "tags": ["a", "b"]} for i in range(n)])
    return json.loads(text)


def checksum(records):
    h = hashlib.sha256()
    for r in records:
        h.update(r["name"].encode())
    return h.hexdigest()


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Worker:
    def crunch(self):
        while True:
            fib(18)

    def io_wait(self):
        while True:
            time.sleep(0.05)


def main():
    w = Worker()
    threading.Thread(target=w.crunch, name="crunch", daemon=True).start()
    threading.Thread(target=w.io_wait, name="io", daemon=True).start()
    while True:
        checksum(parse_records(2000))


if __name__ == "__main__":
    main()
