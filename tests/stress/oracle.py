# SPDX-License-Identifier: MIT
"""Check every stack tachyon-c recorded from an oracle target against the target's own source.

The oracle is in the target files' comments (see tests/targets/oracle_common.py): `# -> ...`
on every call line names what a call there can put directly above the frame, `# tags: ...` on
a def line tags the function. This module reads them with `ast` and checks, for every distinct
stack (collapsed output of `attach`, or a thread of `dump --json`):

  - every frame is a function the target defined (in its files, or in a generation of
    oracle_codegen.py's generated code), the standard library, or the truncation marker;
  - every adjacent (caller, callee) pair of target frames is a call the source makes, on the
    line the caller shows (generated frames included: a generation only calls itself);
  - a target frame above a standard library frame is tagged `stdlib` (asyncio stepping a
    coroutine), or `thread` directly above threading's Thread.run; a standard library frame
    above a target frame needs `@stdlib` on the target's line;
  - the leaf's line is a line of its function's body;
  - a stack not marked truncated starts at a root: the script's `<module>`, or threading's
    Thread._bootstrap (a thread's base). A stack marked truncated (first frame
    `<truncated>:<truncated>:?`, or "truncated": true in dump) need only be a valid suffix;
    a stack ending in `<unconfirmed>` (its innermost frames returned before they were
    confirmed) is checked without that marker, and the marker may be nowhere else;
  - a long-lived thread (main and scenario threads: they always run Python code) never shows
    an empty stack unless marked truncated; a thread the target reports "parked" in a function
    (the 70,000-frame recursion's leaf) shows that function in every sample (a cut is only
    allowed at the base, under the marker);
  - over a whole profile, every long-lived thread shows frames, and once each has 200
    samples, every function tagged `expect` in the target's files shows up.

The interpreter's shim frame between a class call and its __init__ (3.13+, file and name
"__init__") is dropped before checking: it is real but no source line calls it.

Tolerance, on purpose: inside a run of standard library frames nothing is checked (threading,
asyncio and importlib are not under our control and differ between versions); the run must be
entered from a target line that calls into the standard library (or be a thread's base) and
may leave only into a function tagged for it. Frames whose file is `<frozen ...>` or
`<string>` (what the standard library compiles at run time, e.g. namedtuple's __new__) count
as standard library. On 3.9 and 3.10 frames carry co_name, not the qualname: functions are then
identified by their last name component (target files keep those unique; where they are not,
e.g. lambdas, the lines and callees of the namesakes are merged).

The target's own view (tests/stress/run.py --self: faulthandler's dump of every thread) is
checked with "self_view" set in INFO: faulthandler names frames by co_name and, on 3.14+, stops
at the first frame a C call entered (asyncio's loop __init__ under type.__call__), so there the
root is not checked.

Usage: oracle.py INFO.json [--collapsed FILE]... [--dump FILE]...
Exit 0 when every stack is possible, 1 otherwise (the report says which and how often).
"""

import argparse
import ast
import collections
import importlib.util
import json
import os
import re
import sys

GEN_FILE = re.compile(r"^<oracle-gen-(\d{6})>$")
CALL_NOTE = re.compile(r"#\s*->\s*(.*)$")
TAGS_NOTE = re.compile(r"#\s*tags:\s*(.*)$")
TRUNC = ("<truncated>", "<truncated>")
UNCONF = ("<unconfirmed>", "<unconfirmed>")
MANY = 200  # samples of every long-lived thread before `expect` functions must all show
# 3.13+: the interpreter's own frame between a class call and __init__ (_Py_InitCleanup)
SHIM = ("__init__", "__init__")


class Func:
    """One function (by the key its frames carry): the lines its code can show, its tags."""

    def __init__(self, key):
        self.key = key
        self.lines = set()
        self.tags = set()


class Source:
    """The oracle of one file: functions by key, call notes by line."""

    def __init__(self, path, text, qualnames):
        self.path = path
        self.qualnames = qualnames
        self.funcs = {}
        self.notes = {}  # line -> list of raw names in its `# -> ...`
        lines = text.splitlines()
        tree = ast.parse(text, path)
        module = self._func("<module>")
        module.lines.add(0)  # 3.11+: a module's RESUME has line 0
        self._walk(tree, module, "", lines)
        for n, line in enumerate(lines, 1):
            m = CALL_NOTE.search(line)
            if m:
                self.notes[n] = m.group(1).replace(",", " ").split()

    def key(self, qualname):
        return qualname if self.qualnames else qualname.rsplit(".", 1)[-1]

    def _func(self, qualname):
        k = self.key(qualname)
        if k not in self.funcs:
            self.funcs[k] = Func(k)
        return self.funcs[k]

    def _walk(self, node, func, prefix, lines):
        """Give every node's lines to FUNC, nested scopes to functions of their own."""
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                  ast.ClassDef)):
                name = "<lambda>" if isinstance(child, ast.Lambda) else child.name
                qual = prefix + name
                inner = self._func(qual)
                # the def line runs in the enclosing scope (MAKE_FUNCTION) and in the new one
                func.lines.add(child.lineno)
                inner.lines.add(child.lineno)
                if not isinstance(child, ast.Lambda):
                    m = TAGS_NOTE.search(lines[child.lineno - 1])
                    if m:
                        inner.tags.update(m.group(1).split())
                if isinstance(child, ast.ClassDef):
                    sub = qual + "."
                    # a class body's frame is only seen at definition time; keep it anyway
                else:
                    sub = qual + ".<locals>."
                self._walk(child, inner, sub, lines)
                self._mark(child, inner)
                continue
            self._mark(child, func)
            self._walk(child, func, prefix, lines)

    @staticmethod
    def _mark(node, func):
        for attr in ("lineno", "end_lineno"):
            v = getattr(node, attr, None)
            if v is not None:
                func.lines.add(v)


class Oracle:
    def __init__(self, info):
        self.info = info
        self.qualnames = info["qualnames"]
        self.script = info["script"]
        self.stdlib = [d.rstrip("/") + "/" for d in info["stdlib"]]
        self.sources = {}
        self.gen_source = None
        for path in info["files"]:
            with open(path) as f:
                self.sources[path] = Source(path, f.read(), self.qualnames)
            if os.path.basename(path) == "oracle_codegen.py":
                self.gen_source = self._load_gen(path)
        self.gens = {}
        self.tagged = collections.defaultdict(set)  # tag -> {(file, key)}
        for path, src in self.sources.items():
            self._index_tags(path, src)
        self.long_lived = set(info["long_lived"])
        # thread -> (file, key) of the function it never leaves while sampled
        self.parked = {}
        for tid, file, qual in info.get("parked", ()):
            self.parked[tid] = (file, self.sources[file].key(qual))
        self._kinds = {}
        self._funcs = {}
        self._pairs = {}

    @staticmethod
    def _load_gen(path):
        spec = importlib.util.spec_from_file_location("oracle_codegen_checker", path)
        mod = importlib.util.module_from_spec(spec)
        sys.path.insert(0, os.path.dirname(path))
        try:
            spec.loader.exec_module(mod)
        finally:
            sys.path.pop(0)
        return mod.gen_source

    def _index_tags(self, path, src):
        for key, fn in src.funcs.items():
            for t in fn.tags:
                self.tagged[t].add((path, key))

    def source(self, file):
        """The Source of FILE (a generation is parsed on first sight), or None."""
        src = self.sources.get(file)
        if src is not None:
            return src
        m = GEN_FILE.match(file)
        if m is None or self.gen_source is None:
            return None
        src = self.gens.get(file)
        if src is None:
            src = Source(file, self.gen_source(int(m.group(1))), self.qualnames)
            self.gens[file] = src
        return src

    def kind(self, file, qual):
        if (file, qual) == TRUNC:
            return "trunc"
        if file in self.sources:
            return "target"
        if GEN_FILE.match(file):
            return "gen"
        # "<string>": code the standard library builds with eval (namedtuple's __new__)
        if (file.startswith("<frozen ") or file == "<string>"
                or any(file.startswith(d) for d in self.stdlib)):
            return "stdlib"
        return "foreign"

    def allowed(self, caller_file, line, callee_file, callee_key):
        """Whether the note on CALLER_FILE:LINE lets CALLEE be directly above it."""
        src = self.source(caller_file)
        for name in src.notes.get(line, ()):
            if name.startswith("@"):
                tag = name[1:]
                if tag == "module":
                    if GEN_FILE.match(callee_file) and callee_key == "<module>":
                        return True
                    continue
                if tag == "stdlib":
                    continue
                if (callee_file, callee_key) in self.tagged[tag]:
                    return True
                if GEN_FILE.match(callee_file):
                    gen = self.source(callee_file)
                    fn = gen.funcs.get(callee_key)
                    if fn is not None and tag in fn.tags:
                        return True
                continue
            if callee_file == caller_file and src.key(name) == callee_key:
                return True
        return False

    def calls_stdlib(self, file, line):
        return "@stdlib" in self.source(file).notes.get(line, ())

    def check(self, frames, truncated, tid):
        """Violations (list of strings) of one stack, FRAMES root first as (file, qual, line),
        line None when unknown."""
        out = []
        frames = [f for f in frames if (f[0], f[1]) != SHIM]
        if frames and (frames[0][0], frames[0][1]) == TRUNC:
            truncated = True
            frames = frames[1:]
        if frames and (frames[-1][0], frames[-1][1]) == UNCONF:
            frames = frames[:-1]  # the innermost frame's callees were not confirmed
            if not frames:
                out.append("unconfirmed marker alone")
                return out
        for f in frames:
            if (f[0], f[1]) == TRUNC:
                out.append("truncation marker inside a stack")
                return out
            if (f[0], f[1]) == UNCONF:
                out.append("unconfirmed marker inside a stack")
                return out
        if not frames:
            if not truncated and tid in self.long_lived:
                out.append("empty stack of a long-lived thread not marked truncated")
            return out
        if tid in self.parked and not any((f[0], f[1]) == self.parked[tid] for f in frames):
            out.append("thread parked in %s sampled without it (innermost frames lost)"
                       % self.parked[tid][1])
        kinds = [self.kind_of(f) for f in frames]
        funcs = []
        for f, k in zip(frames, kinds):
            if k == "foreign":
                out.append("frame from a file the target never ran: %s" % fmt(f))
                return out
            if k in ("target", "gen"):
                fn = self.func_of(f)
                if fn is None:
                    out.append("function the target never defined: %s" % fmt(f))
                    return out
                funcs.append(fn)
            else:
                funcs.append(None)
        if not truncated and not self.info.get("self_view"):
            f0 = frames[0]
            base = os.path.basename(f0[0])
            if not ((f0[0] == self.script and f0[1] == "<module>")
                    or (kinds[0] == "stdlib" and base == "threading.py"
                        and f0[1].rsplit(".", 1)[-1] == "_bootstrap")):
                out.append("stack not reaching a root presented as complete: starts at %s"
                           % fmt(f0))
        memo = self._pairs
        for i in range(len(frames) - 1):
            key = (frames[i], frames[i + 1])
            v = memo.get(key, 0)
            if v == 0:
                v = self._pair(frames[i], frames[i + 1], kinds[i], kinds[i + 1], funcs[i],
                               funcs[i + 1])
                memo[key] = v
            if v is not None:
                out.append(v)
        leaf, lk = frames[-1], kinds[-1]
        if lk in ("target", "gen") and leaf[2] is not None and leaf[2] not in funcs[-1].lines:
            out.append("leaf line outside its function: %s" % fmt(leaf))
        return out

    def kind_of(self, f):
        k = self._kinds.get((f[0], f[1]))
        if k is None:
            k = self._kinds[(f[0], f[1])] = self.kind(f[0], f[1])
        return k

    def func_of(self, f):
        key = (f[0], f[1])
        if key not in self._funcs:
            self._funcs[key] = self.source(f[0]).funcs.get(f[1])
        return self._funcs[key]

    def _pair(self, c, e, ck, ek, cfn, efn):
        """The violation of caller frame C directly below callee frame E, or None."""
        if ck == "stdlib":
            if ek == "stdlib":
                return None
            thread_base = (os.path.basename(c[0]) == "threading.py"
                           and c[1].rsplit(".", 1)[-1] == "run")
            if "stdlib" in efn.tags or ("thread" in efn.tags and thread_base):
                return None
            return "%s above standard library frame %s, which never calls it" % (fmt(e), fmt(c))
        # the caller is the target's (or generated)
        if c[2] is None:
            return "caller frame with an unknown line: %s -> %s" % (fmt(c), fmt(e))
        if c[2] not in cfn.lines:
            return "caller line outside its function: %s -> %s" % (fmt(c), fmt(e))
        if c[2] not in self.source(c[0]).notes:
            return "caller line that calls nothing: %s -> %s" % (fmt(c), fmt(e))
        if ek == "stdlib":
            if not self.calls_stdlib(c[0], c[2]):
                return ("standard library frame above a line that does not call it: %s -> %s"
                        % (fmt(c), fmt(e)))
            return None
        if not self.allowed(c[0], c[2], e[0], e[1]):
            return "impossible call: %s -> %s" % (fmt(c), fmt(e))
        return None

    def expected(self):
        return set(self.tagged["expect"])


def fmt_stack(frames, limit=24):
    """FRAMES as text, runs of one repeated frame shortened."""
    out = []
    for f in frames:
        t = fmt(f)
        if out and out[-1][0] == t:
            out[-1][1] += 1
        else:
            out.append([t, 1])
    items = [t if n == 1 else "%s (x%d)" % (t, n) for t, n in out]
    if len(items) > limit:
        items = items[:4] + ["... %d more ..." % (len(items) - limit)] + items[-(limit - 4):]
    return ";".join(items)


def fmt(f):
    return "%s:%s:%s" % (os.path.basename(f[0]) if not f[0].startswith("<") else f[0],
                         f[1], "?" if f[2] is None else f[2])


def unescape(s):
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), s)


def parse_collapsed(text):
    """Collapsed lines -> [(tid, frames root first, count)]; raises ValueError when malformed."""
    stacks = []
    for n, line in enumerate(text.splitlines(), 1):
        stack, sep, count = line.rpartition(" ")
        if not sep or not count.isdigit():
            raise ValueError("line %d malformed: %r" % (n, line[:200]))
        parts = stack.split(";")
        root = parts[0]
        if not root.startswith("tid:"):
            raise ValueError("line %d: root %r is not tid:ID" % (n, root[:100]))
        tid = int(root[6:], 16) if root.startswith("tid:0x") else int(root[4:])
        frames = []
        for part in parts[1:]:
            bits = part.rsplit(":", 2)
            if len(bits) != 3 or not (bits[2].isdigit() or bits[2] == "?"):
                raise ValueError("line %d: frame %r is not FILE:QUALNAME:LINE" % (n, part))
            frames.append((unescape(bits[0]), unescape(bits[1]),
                           None if bits[2] == "?" else int(bits[2])))
        stacks.append((tid, frames, int(count)))
    return stacks


def parse_dump(text):
    """One `dump --json` snapshot -> [(tid, frames root first, 1, truncated)]."""
    doc = json.loads(text)
    out = []
    for t in doc["threads"]:
        frames = [(f["file"], f["qualname"], f["line"] if isinstance(f["line"], int) and
                   f["line"] > 0 else None) for f in reversed(t["frames"])]
        out.append((t.get("native_id") or t.get("thread_id"), frames, 1,
                    bool(t.get("truncated"))))
    return out


class Report:
    """Violations with counts over one profile (or a set of snapshots)."""

    def __init__(self, oracle):
        self.oracle = oracle
        self.samples = 0
        self.bad = 0
        self.truncated = 0
        self.violations = collections.Counter()
        self.examples = {}  # violation -> one whole stack showing it
        self.seen = set()
        self.per_thread = collections.Counter()  # samples with frames, by thread id
        self.errors = []

    def add(self, tid, frames, count, truncated=False):
        self.samples += count
        if frames and (frames[0][0], frames[0][1]) == TRUNC:
            truncated = True
        if truncated:
            self.truncated += count
        v = self.oracle.check(frames, truncated, tid)
        if v:
            self.bad += count
            for s in sorted(set(v)):
                self.violations[s] += count
                if s not in self.examples:
                    self.examples[s] = "tid:%s;%s" % (tid, fmt_stack(frames))
        for f in frames:
            self.seen.add((f[0], f[1]))
        if frames:
            self.per_thread[tid] += count

    def finish(self, expect=True):
        """Call once all stacks are in. For a profile (EXPECT): every long-lived thread shows
        frames at least once, and once each has MANY samples, every function tagged `expect`
        shows up (a scenario spends most of its time there: missing from hundreds of samples
        means its stacks were lost, not unlucky)."""
        if self.samples == 0:
            self.errors.append("no samples at all")
        if not expect:
            return
        for tid in sorted(self.oracle.long_lived):
            if self.per_thread[tid] == 0:
                self.errors.append("long-lived thread %d never sampled with frames" % tid)
        if min([self.per_thread[t] for t in self.oracle.long_lived] or [0]) < MANY:
            return
        for file, key in sorted(self.oracle.expected()):
            if (file, key) not in self.seen:
                self.errors.append("never sampled (tagged expect): %s:%s"
                                   % (os.path.basename(file), key))

    @property
    def ok(self):
        return not self.violations and not self.errors

    def ok_within(self, share):
        """No errors, and at most SHARE of the samples violating, or one sample (the short
        runs of `make check`: a handful of dumps; `make stress` holds every interpreter to
        none)."""
        return not self.errors and self.bad <= max(1.0, share * self.samples)

    def text(self, limit=40, examples=3):
        lines = ["%d samples, %d violating (%.2f%%), %d marked truncated (%.2f%%)"
                 % (self.samples, self.bad, 100.0 * self.bad / max(1, self.samples),
                    self.truncated, 100.0 * self.truncated / max(1, self.samples))]
        for e in self.errors:
            lines.append("  ERROR " + e)
        for i, (s, n) in enumerate(self.violations.most_common(limit)):
            lines.append("  %7d  %s" % (n, s))
            if i < examples:
                lines.append("           in " + self.examples[s])
        if len(self.violations) > limit:
            lines.append("  ... %d more kinds" % (len(self.violations) - limit))
        return "\n".join(lines)


def check_files(info, collapsed=(), dumps=(), expect=True):
    """Reports (attach, dump) for the given output files; either may be None."""
    oracle = Oracle(info)
    ra = rd = None
    if collapsed:
        ra = Report(oracle)
        for path in collapsed:
            with open(path, errors="surrogateescape") as f:
                for tid, frames, count in parse_collapsed(f.read()):
                    ra.add(tid, frames, count)
        ra.finish(expect)
    if dumps:
        rd = Report(oracle)
        for path in dumps:
            with open(path, errors="surrogateescape") as f:
                for tid, frames, count, trunc in parse_dump(f.read()):
                    rd.add(tid, frames, count, trunc)
        rd.finish(expect=False)
    return ra, rd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("info", help="the target's handshake line, saved as JSON")
    ap.add_argument("--collapsed", action="append", default=[])
    ap.add_argument("--dump", action="append", default=[])
    a = ap.parse_args(argv)
    with open(a.info) as f:
        info = json.load(f)
    ra, rd = check_files(info, a.collapsed, a.dump)
    ok = True
    for name, r in (("attach", ra), ("dump", rd)):
        if r is not None:
            print("%s: %s" % (name, r.text()))
            ok = ok and r.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
