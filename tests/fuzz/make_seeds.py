#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of tests/fuzz/corpus/ (small valid inputs the fuzzers mutate).

Usage: tests/fuzz/make_seeds.py BUILD_DIR   (BUILD_DIR: a -Dfuzz=true build; its seeds_walker
and seeds_alloc programs write the walker's and the allocator's images). The ELF seeds are
compiled with gcc. Run it again after a harness's input format changes."""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, 'corpus')


def out(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def linetable():
    # the first code objects of each version's fixture (real tables CPython produced)
    fixtures = os.path.join(ROOT, 'tests', 'unit', 'fixtures')
    for fn in sorted(os.listdir(fixtures)):
        ver = fn[len('linetable_'):-len('.txt')]
        fmt, n, first = None, 0, 1
        for line in open(os.path.join(fixtures, fn)):
            w = line.split()
            if not w or w[0] == '#':
                continue
            if w[0] == 'format':
                fmt = int(w[1])
            elif w[0] == 'code':
                first = int(w[-2])
            elif w[0] == 'table' and fmt:
                table = bytes.fromhex(w[1]) if len(w) > 1 else b''
                if len(table) > 400:
                    continue
                out('linetable', f'{ver}-{n}', struct.pack('<BiQ', fmt, first, 6) + table)
                n += 1
                if n == 4:
                    break


def unicode():
    # compact str objects with the 3.12 header: state at 32, length at 16, ASCII data at 40,
    # other compact data at 56; kind bits from bit 2, compact bit 5, ascii bit 6
    def obj(chars, kind, ascii, cap=200):
        data = 40 if ascii else 56
        hdr = bytearray(data)
        struct.pack_into('<q', hdr, 16, len(chars))
        struct.pack_into('<I', hdr, 32, 1 | kind << 2 | 1 << 5 | int(ascii) << 6)
        fmt = {1: '<B', 2: '<H', 4: '<I'}[kind]
        body = b''.join(struct.pack(fmt, c) for c in chars)
        return struct.pack('<BH', 3, cap) + bytes(hdr) + body
    out('unicode', 'ascii', obj([ord(c) for c in 'main'], 1, True))
    out('unicode', 'latin1', obj([0x63, 0x61, 0x66, 0xe9], 1, False))
    out('unicode', 'ucs2', obj([0x3a9, 0x3bc, 0xd800, 0x41], 2, False, 5))
    out('unicode', 'ucs4', obj([0x1d523, 0x110000, 0x1f600], 4, False))


def x86():
    # Debian bookworm 3.11.2 _Py_GetAllocatedBlocks (also in tests/unit/test_alloc.c) and
    # a few common instruction shapes (REX, SIB, RIP-relative, jcc, call, ret)
    deb311 = bytes.fromhex(
        '488b1599153b00448b0d0a183f004531c0488b3d10183f004539c17434488b07'
        '4885c07422480 5ff3f0000488b7708482500c0ffffeb0b8b08480500400000'
        '4801ca4839f072f04183c0014883c730ebc74889d0c3'.replace(' ', ''))
    out('x86', 'getallocatedblocks', struct.pack('<Q', 0x6cd8e0) + deb311)
    misc = bytes.fromhex('f30f1efa554889e54883ec10488b05000100008b4c8810'
                         '0f1f4400004c8d0d10000000e8f0ffffff7405ebfec3')
    out('x86', 'misc', struct.pack('<Q', 0x401000) + misc)


def maps():
    text = (
        '555555554000-555555556000 r--p 00000000 08:01 1234   /usr/bin/python3.12\n'
        '555555556000-55555555a000 r-xp 00002000 08:01 1234   /usr/bin/python3.12\n'
        '55555555a000-55555557b000 rw-p 00000000 00:00 0      [heap]\n'
        '7f0000000000-7f0000100000 rw-s 00000000 00:05 99     /dev/shm/a b (deleted)\n'
        '7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0      [vvar]\n'
        'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n')
    out('maps', 'python', text.encode())
    out('maps', 'unsorted', ('7f0000000000-7f0000001000 r--p 00000000 fd:01 7 /lib/x.so\n'
                             '1000-2000 rwxp 00000000 00:00 0\n').encode())


def elf():
    src = (
        'char _PyRuntime[4096] __attribute__((section(".PyRuntime"))) = "xdebugpy";\n'
        'const char ver[] = "3.12.1 (main, Jan 1 2026)";\n'
        'long PyCode_Type[8];\n'
        'long _Py_GetAllocatedBlocks(void) { return PyCode_Type[1] + _PyRuntime[3]; }\n'
        'void _start(void) { for (;;) ; }\n')
    with tempfile.TemporaryDirectory() as d:
        c = os.path.join(d, 'a.c')
        open(c, 'w').write(src)
        for name, flags in (('pie', ['-fPIE', '-pie']), ('exec', ['-no-pie', '-static']),
                            ('stripped', ['-fPIE', '-pie', '-s']), ('so', ['-fPIC', '-shared'])):
            o = os.path.join(d, name)
            subprocess.run(['gcc', '-Os', '-nostdlib', '-Wl,--build-id=none', *flags, c, '-o', o],
                           check=True)
            out('elf', name, open(o, 'rb').read())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    linetable()
    unicode()
    x86()
    maps()
    elf()
    for h in ('walker', 'alloc'):
        d = os.path.join(CORPUS, h)
        os.makedirs(d, exist_ok=True)
        subprocess.run([os.path.join(build, 'tests', 'fuzz', 'seeds_' + h), d], check=True)
    layouts()


def layouts():
    # _Py_DebugOffsets of every 3.13+ walker seed (the first 1 KiB of its image, after the
    # 4-byte header), and the GC state of each allocator seed (offset 52 + 1024 of a heap)
    walker = os.path.join(CORPUS, 'walker')
    for vi in range(4, 10):
        data = open(os.path.join(walker, 'basic-%d-58' % vi), 'rb').read()
        out('layouts', 'dbgoff-%d' % vi, bytes([vi % 2 and 0x80 or 0]) + data[4:4 + 1024])
    for minor in range(9, 16):
        heap = open(os.path.join(CORPUS, 'alloc', 'heap-3.%d' % minor), 'rb').read()
        out('layouts', 'gc-3.%d' % minor, bytes([minor - 9]) + heap[52 + 1024:52 + 1024 + 512])


if __name__ == '__main__':
    main()
