# SPDX-License-Identifier: MIT
"""Write tests/unit/fixtures/linetable_3.N.txt: real line tables and the interpreter's own
answer for every instruction offset, for tests/unit/test_linetable.c.

Run under each interpreter to cover (one fixture per minor version):
    python3.N tests/unit/gen_linetable_fixtures.py [OUTDIR]
or with no interpreter in mind, for every interpreter of scripts/provision.sh's manifest:
    python3 tests/unit/gen_linetable_fixtures.py --all [OUTDIR]

The script only compiles source text (never runs it) and walks every code object it produced.
Where each expected value comes from, so the fixtures are the interpreter's word, not ours:
  3.9   PyCode_Addr2Line() of the running interpreter, called through ctypes for every
        instruction offset (and negative ones); cross-checked against dis.findlinestarts().
  3.10  code.co_lines() for every offset, cross-checked against PyCode_Addr2Line() (ctypes),
        which also gives the answer for negative offsets.
  3.11+ code.co_positions() for every code unit (line, end line, column, end column), cross-
        checked against code.co_lines() and PyCode_Addr2Location() (ctypes), which also gives
        the answer for negative offsets.
Any disagreement between two sources aborts the script.

Fixture format (text, one record per line, '#' lines are comments):
    version 3.12.1            interpreter that produced the file
    format N                  enum tc_linetable_format (1 lnotab, 2 linetable, 3 locations)
    code NAME FIRSTLINENO NBYTES
    table HEX                 co_lnotab (3.9) or co_linetable (3.10+), exact bytes
    ADDR LINE END_LINE COLUMN END_COLUMN      one per offset; -1 = None
    end
"""
import ctypes
import os
import subprocess
import sys

VI = sys.version_info[:2]


def source():
	"""The program whose code objects are dumped: every shape of line table we know of."""
	s = []
	add = s.append
	add('"""module docstring"""')
	add('import os')
	add('def simple(): pass')
	add('def one_liner(a): return a + 1')
	add('')
	add('@deco')
	add('@deco2(')
	add('    arg,')
	add('    other)')
	add('def decorated(a, b=(1,')
	add('                    2)):')
	add('    """doc"""')
	add('    return (a +')
	add('            b)')
	add('')
	add('def loops(n):')
	add('    total = 0')
	add('    for i in range(n):')
	add('        if i % 2:')
	add('            continue')
	add('        for j in range(i):')
	add('            total += j')
	add('            if total > 100:')
	add('                break')
	add('        else:')
	add('            total -= 1')
	add('    while n > 0:')
	add('        n -= 1')
	add('        if n == 7: break')
	add('    else:')
	add('        total = 0')
	add('    return total')
	add('')
	add('def multiline(x, y):')
	add('    r = call(')
	add('        x,')
	add('        y,')
	add('        key=[')
	add('            x,')
	add('            y],')
	add('    )')
	add('    z = (x')
	add('         .attr')
	add('         .method(y)')
	add('         .other())')
	add('    d = {')
	add('        "a": x,')
	add('        "b": y if x else')
	add('             z,')
	add('    }')
	add('    return r, z, d')
	add('')
	add('def exceptions(f):')
	add('    try:')
	add('        f()')
	add('    except ValueError as e:')
	add('        print(e)')
	add('    except (TypeError, KeyError):')
	add('        pass')
	add('    else:')
	add('        return 1')
	add('    finally:')
	add('        print("done")')
	add('    with open(f) as g, open(g) as h:')
	add('        return g.read() + h.read()')
	add('')
	add('def finally_return(x):')
	add('    for i in x:')
	add('        try:')
	add('            if i:')
	add('                return i')
	add('        finally:')
	add('            x.close()')
	add('    with x:')
	add('        pass')
	add('')
	add('def gen(n):')
	add('    for i in range(n):')
	add('        yield i')
	add('    yield from other(n)')
	add('    return n')
	add('')
	add('async def coro(s):')
	add('    await s.start()')
	add('    async with s as t:')
	add('        async for x in t:')
	add('            await x')
	add('    return [y async for y in s]')
	add('')
	add('async def agen(s):')
	add('    async for x in s:')
	add('        yield x')
	add('')
	add('def comprehensions(xs):')
	add('    a = [x * 2 for x in xs if x]')
	add('    b = {x: [y for y in range(x)]')
	add('         for x in xs}')
	add('    c = {x for x in xs}')
	add('    d = sum(x for x in xs)')
	add('    f = lambda q: q + 1')
	add('    g = (lambda q,')
	add('              r:')
	add('         q * r)')
	add('    return a, b, c, d, f, g')
	add('')
	add('class Outer:')
	add('    attr = 1')
	add('    def method(self):')
	add('        def inner():')
	add('            return self.attr')
	add('        return inner')
	add('    class Inner:')
	add('        @staticmethod')
	add('        def beta(a: int, *args, k: str = "x", **kw) -> None:')
	add('            nonlocal_ = a')
	add('            return nonlocal_')
	add('    @property')
	add('    def prop(self):')
	add('        return self.attr')
	add('')
	add('def misc(a, b):')
	add('    assert a, "message"')
	add('    if (n := len(a)) > 10:')
	add('        a = f"{a!r:>{n}} and {b}"')
	add('    x = a if b else (b if a else')
	add('                     None)')
	add('    del x')
	add('    global G')
	add('    G = a[1:2, ::3]')
	add('    return not a or b and a')
	add('')
	# 3.11+: column >= 80 needs one-line/long forms, >= 128 long form with 2-chunk varints,
	# >= 4096 three-chunk varints; UTF-8 bytes, not characters.
	add('def wide(a):')
	add('    x = "' + 'w' * 150 + '" + a')
	add('    y = "' + 'v' * 5000 + '" + a.b(a)')
	add('    z = "' + '\u00e9' * 100 + '\u20ac' * 20 + '" + a')
	add('    q = ' + ' + '.join(['a'] * 40))
	add('    return x, y, z, q')
	add('')
	# 3.9 lnotab: address deltas > 255 need (255, 0) pairs.
	add('def big_line(a, b):')
	add('    x = [' + ', '.join(['a', 'b'] * 200) + ']')
	add('    return x')
	add('')
	# Line deltas > 127 (3.9/3.10 pairs) and > 31 / > 2047 (3.11+ varints), both signs.
	add('def gaps(a):')
	add('    a += 1')
	s.extend(['    # filler'] * 300)
	add('    a += 2')
	s.extend([''] * 3000)
	add('    a += 3')
	add('    r = call(a,')
	s.extend([''] * 200)
	add('             a)')
	add('    t = call(a,')
	s.extend(['             # filler'] * 2500)
	add('             a)')
	add('    return (a,')
	s.extend([''] * 70)
	add('            a)')
	add('')
	# A long function: many entries, line numbers well past the function start.
	add('def long_function(a):')
	for i in range(150):
		if i % 10 == 0:
			add('    if a > %d:' % i)
			add('        a = a - %d' % i)
		elif i % 10 == 5:
			add('    for k in range(%d):' % i)
			add('        a += k')
		else:
			add('    a = a * %d + (a // %d)' % (i, i + 1))
	add('    return a')
	add('')
	add('x = [simple,')
	add('     decorated]')
	add('if x:')
	add('    y = 1')
	add('else:')
	add('    y = 2')
	if VI >= (3, 10):
		add('def matcher(p):')
		add('    match p:')
		add('        case [1, 2, *rest]:')
		add('            return rest')
		add('        case {"k": v, **kw} if v:')
		add('            return v')
		add('        case Point(x=0, y=yy) | Point(x=yy, y=0):')
		add('            return yy')
		add('        case str() as s:')
		add('            return s')
		add('        case _:')
		add('            return None')
		add('')
	if VI >= (3, 11):
		add('def groups(f):')
		add('    try:')
		add('        f()')
		add('    except* ValueError as eg:')
		add('        print(eg)')
		add('    except* TypeError:')
		add('        pass')
		add('')
	if VI >= (3, 12):
		add('def generic[T: int, *Ts, **P](x: T) -> T:')
		add('    return x')
		add('type Alias[K] = dict[K, list[K]]')
		add('class Box[T]:')
		add('    def get(self) -> T:')
		add('        return f"{self!r:{"x" if self else "y"}}"')
		add('')
	return '\n'.join(s) + '\n'


def walk(co, path):
	"""Every code object under CO, depth first, with a readable dotted path."""
	name = getattr(co, 'co_qualname', co.co_name)
	here = path + [name.replace(' ', '_')]
	yield '/'.join(here), co
	for c in co.co_consts:
		if hasattr(c, 'co_code'):
			yield from walk(c, here)


def api():
	f = ctypes.pythonapi.PyCode_Addr2Line
	f.restype = ctypes.c_int
	f.argtypes = [ctypes.py_object, ctypes.c_int]
	g = None
	if VI >= (3, 11):
		g = ctypes.pythonapi.PyCode_Addr2Location
		g.restype = ctypes.c_int
		p = ctypes.POINTER(ctypes.c_int)
		g.argtypes = [ctypes.py_object, ctypes.c_int, p, p, p, p]
	return f, g


def addr2location(g, co, addr):
	sl, sc, el, ec = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
	g(co, addr, ctypes.byref(sl), ctypes.byref(sc), ctypes.byref(el), ctypes.byref(ec))
	return (sl.value, el.value, sc.value, ec.value)


def nn(v):
	return -1 if v is None else v


def expected(co, a2l, a2loc):
	"""[(addr, line, end_line, column, end_column)] for negative offsets and every code unit."""
	n = len(co.co_code)
	rows = []
	negs = (-2, -1)
	if VI <= (3, 9):
		import dis
		starts = list(dis.findlinestarts(co))
		for addr in list(negs) + list(range(0, n, 2)):
			line = a2l(co, addr)
			if addr >= 0:
				ref = co.co_firstlineno
				for s, l in starts:
					if s <= addr:
						ref = l
				if ref != line:
					sys.exit('3.9 %s @%d: Addr2Line %d, findlinestarts %d' % (co.co_name, addr, line, ref))
			rows.append((addr, line, -1, -1, -1))
		return rows
	lines = {}
	for start, end, line in co.co_lines():
		for a in range(start, end, 2):
			lines[a] = nn(line)
	if VI == (3, 10):
		for addr in negs:
			rows.append((addr, a2l(co, addr), -1, -1, -1))
		for addr in range(0, n, 2):
			if addr not in lines:
				sys.exit('3.10 %s @%d: not covered by co_lines' % (co.co_name, addr))
			if a2l(co, addr) != lines[addr]:
				sys.exit('3.10 %s @%d: Addr2Line %d, co_lines %d' % (co.co_name, addr, a2l(co, addr), lines[addr]))
			rows.append((addr, lines[addr], -1, -1, -1))
		return rows
	for addr in negs:
		rows.append((addr,) + addr2location(a2loc, co, addr))
	pos = list(co.co_positions())
	if len(pos) != n // 2:
		sys.exit('%s: %d positions for %d code units' % (co.co_name, len(pos), n // 2))
	for i, p in enumerate(pos):
		addr = 2 * i
		row = (addr,) + tuple(nn(v) for v in p)
		if lines.get(addr) != row[1]:
			sys.exit('%s @%d: co_positions line %d, co_lines %s' % (co.co_name, addr, row[1], lines.get(addr)))
		if addr2location(a2loc, co, addr) != row[1:]:
			sys.exit('%s @%d: co_positions %s, Addr2Location %s' % (co.co_name, addr, row[1:], addr2location(a2loc, co, addr)))
		if a2l(co, addr) != row[1]:
			sys.exit('%s @%d: co_positions line %d, Addr2Line %d' % (co.co_name, addr, row[1], a2l(co, addr)))
		rows.append(row)
	return rows


def generate(outdir):
	a2l, a2loc = api()
	if VI <= (3, 9):
		fmt, table = 1, (lambda co: co.co_lnotab)
	elif VI == (3, 10):
		fmt, table = 2, (lambda co: co.co_linetable)
	else:
		fmt, table = 3, (lambda co: co.co_linetable)
	src = source()
	top = compile(src, '/fixture/linetable_source.py', 'exec')
	ver = '%d.%d.%d' % sys.version_info[:3]
	if sys.version_info.releaselevel != 'final':
		ver += {'alpha': 'a', 'beta': 'b', 'candidate': 'rc'}[sys.version_info.releaselevel]
		ver += str(sys.version_info.serial)
	path = os.path.join(outdir, 'linetable_%d.%d.txt' % VI)
	out = ['# Generated by tests/unit/gen_linetable_fixtures.py under Python %s; do not edit.' % ver,
	       '# Source: %s' % ' '.join(sys.version.split()),
	       'version %s' % ver, 'format %d' % fmt]
	ncode = nrow = 0
	for name, co in walk(top, []):
		out.append('code %s %d %d' % (name, co.co_firstlineno, len(co.co_code)))
		out.append('table %s' % table(co).hex())
		for r in expected(co, a2l, a2loc):
			out.append('%d %d %d %d %d' % r)
			nrow += 1
		out.append('end')
		ncode += 1
	with open(path, 'w') as f:
		f.write('\n'.join(out) + '\n')
	print('%s: %d code objects, %d offsets, %d bytes' % (path, ncode, nrow, os.path.getsize(path)))


def generate_all(outdir):
	"""Run this script under the newest provisioned interpreter of each minor version."""
	root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
	manifest = subprocess.run([os.path.join(root, 'scripts', 'provision.sh')], check=True,
				  stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
	best = {}
	with open(manifest) as f:
		for row in f:
			name, cmd, ver, kind = row.rstrip('\n').split('\t')
			if 'debug' in kind:
				continue
			key = tuple(int(x) for x in ver.split('.')[:2])
			micro = int(''.join(c for c in ver.split('.')[2] if c.isdigit()) or 0)
			if key not in best or micro > best[key][0]:
				best[key] = (micro, cmd)
	for key in sorted(best):
		subprocess.run([best[key][1], os.path.abspath(__file__), outdir], check=True)


def main():
	args = sys.argv[1:]
	here = os.path.dirname(os.path.abspath(__file__))
	if args and args[0] == '--all':
		generate_all(args[1] if len(args) > 1 else os.path.join(here, 'fixtures'))
	else:
		generate(args[0] if args else os.path.join(here, 'fixtures'))


if __name__ == '__main__':
	main()
