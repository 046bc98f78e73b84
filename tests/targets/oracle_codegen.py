# SPDX-License-Identifier: MIT
"""Oracle target: code objects created and freed at run time.

Generation K is the source gen_source(K) compiled under the file name "<oracle-gen-K>" (K as 6
digits) and executed into a fresh namespace: four functions named kK_a .. kK_d (plus a lambda
or a closure) whose call structure depends on K % 3, called a few times, then dropped (the
namespace is cleared, which breaks the function <-> globals cycle, so the code objects die at
once and the next generation's, of the same sizes, tend to land at their addresses). A
profiler that keys code by address alone shows generation K's caller above generation J's
callee, or names from one generation with lines from another: every such pairing is impossible
here, because each generation only calls its own functions. The generated source carries its
own oracle comments; tests/stress/oracle.py calls gen_source(K) to read them.

Usage: python oracle_codegen.py  (handshake and oracle comments: see oracle_common.py)
"""

import oracle_common

CALLS_PER_GENERATION = 8

# The three shapes, "K" standing for the generation's prefix. Each is a complete module.
SHAPES = (
    """def K_a(n):  # tags: genentry
    r = K_b(n)  # -> K_b
    return r + K_c(n)  # -> K_c


def K_b(n):
    return K_d(n) + 1  # -> K_d


def K_c(n):
    f = lambda m: K_d(m)  # -> K_d
    return f(n)  # -> K_c.<locals>.<lambda>


def K_d(n):
    s = 0
    for i in range(n):
        s += i
    return s
""",
    """def K_a(n):  # tags: genentry
    return K_c(n)  # -> K_c


def K_c(n):
    def inner(m):
        return K_b(m)  # -> K_b
    return inner(n) + K_d(n)  # -> K_c.<locals>.inner K_d


def K_b(n):
    s = 1
    for i in range(n):
        s ^= i
    return s


def K_d(n):
    return K_b(n + 1)  # -> K_b
""",
    """x = 1


def K_a(n):  # tags: genentry
    x = n + 1
    return K_d(x)  # -> K_d


def K_d(n):
    return K_c(n)  # -> K_c


def K_c(n):
    return K_b(n)  # -> K_b


def K_b(n):
    s = 2
    for i in range(n):
        s += i & 3
    return s
""",
)


def gen_name(k):
    return "<oracle-gen-%06d>" % k


def gen_source(k):
    return SHAPES[k % len(SHAPES)].replace("K_", "k%06d_" % k)


def codegen(stop):  # tags: entry thread
    oracle_common.register()  # -> @register
    k = 0
    while not stop.is_set():  # -> @stdlib
        src = gen_source(k)  # -> gen_source
        ns = {}
        exec(compile(src, gen_name(k), "exec"), ns)  # -> @module gen_name
        fn = ns["k%06d_a" % k]
        for i in range(CALLS_PER_GENERATION):
            fn(40)  # -> @genentry
        fn = None
        ns.clear()
        k = (k + 1) % 1000000


if __name__ == "__main__":
    oracle_common.serve([codegen])  # -> @serve
