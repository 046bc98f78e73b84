# SPDX-License-Identifier: MIT
"""Check the compiled-in 3.9-3.12 layout tables (layouts/tables.c) against DWARF.

For every 3.9-3.12 interpreter in the provisioning manifest whose structs are described by
DWARF (pyenv source builds: lib/libpython3.X.so.1.0; Debian -dbg builds: the executable), gdb
evaluates the C expression for each field (``(long)&((PyThreadState*)0)->next``, ``sizeof``,
enum constants, bit positions of the unicode state bit-field) and the test compares it with what
``layouts/gen/dump_table.c``, linked against tables.c, prints for that version and variant.
Fields a version does not have must be -1 in the table and absent from the DWARF. Read sizes
must cover every field they are documented to cover.

Release distro builds are stripped: they are checked only when gdb finds their separate debug
info (Debian's python3.11-dbg installs it for the system 3.11); source and debug builds must
always carry DWARF, which a separate test asserts, so none can drop out silently.
"""
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINORS = (9, 10, 11, 12)


def manifest_path():
    cache = os.environ.get("TACHYON_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tachyon-c")
    path = Path(cache) / "interpreters.tsv"
    if not path.is_file():
        # provision.sh is idempotent and prints the manifest's path
        out = subprocess.run([str(ROOT / "scripts/provision.sh")], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
        path = Path(out[-1])
    return path


def load_interpreters():
    rows = []
    for line in manifest_path().read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, command, version, kind = line.split("\t")[:4]
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
        if m and int(m.group(1)) == 3 and int(m.group(2)) in MINORS:
            rows.append(dict(name=name, command=command, version=version, kind=kind,
                             minor=int(m.group(2))))
    return rows


INTERPRETERS = load_interpreters()


def version_hex(version):
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?", version)
    assert m, f"unparsable version {version!r}"
    level = {"a": 0xA, "b": 0xB, "rc": 0xC, None: 0xF}[m.group(4)]
    serial = int(m.group(5) or 0)
    return (int(m.group(1)) << 24 | int(m.group(2)) << 16 | int(m.group(3)) << 8
            | level << 4 | serial)


def real_binary(command):
    """The ELF behind COMMAND: follows a `exec /abs/path "$@"` wrapper script and symlinks."""
    path = Path(command)
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"#!":
        for line in path.read_text().splitlines():
            # e.g. `PYTHONHOME=/prefix exec /prefix/bin/python3.9d "$@"`
            words = line.split()
            if "exec" in words:
                target = words[words.index("exec") + 1]
                return Path(os.path.realpath(target))
        raise AssertionError(f"{command}: wrapper script without an exec line")
    return Path(os.path.realpath(path))


GDB_SCRIPT = textwrap.dedent("""\
    import gdb
    for key, expr in EXPRS.items():
        try:
            print("OK\\t%s\\t%d" % (key, int(gdb.parse_and_eval(expr))))
        except gdb.error as e:
            print("ERR\\t%s\\t%s" % (key, str(e).replace("\\n", " ")))
    # bit positions of the unicode state bit-field members
    t = gdb.lookup_type("PyASCIIObject")["state"].type.strip_typedefs()
    for fld in t.fields():
        print("BIT\\t%s\\t%d\\t%d" % (fld.name, fld.bitpos, fld.bitsize))
    # frame-owner enumerators (3.11+)
    try:
        for fld in gdb.lookup_type("enum _frameowner").fields():
            print("OWNER\\t%s\\t%d" % (fld.name, fld.enumval))
    except gdb.error:
        pass
    """)


def gdb_eval(elf, exprs):
    """Evaluate {key: C expression} against ELF's debug info with gdb. Returns (values, bits,
    owners): values maps each key to an int or to gdb's error message; bits maps a unicode
    state member to (bitpos, bitsize); owners maps FRAME_OWNED_BY_* to its value."""
    script = "EXPRS = %r\n" % (exprs,) + GDB_SCRIPT
    proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "python\n" + script + "end", str(elf)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    vals, bits, owners = {}, {}, {}
    for line in proc.stdout.splitlines():
        p = line.split("\t")
        if p[0] == "OK" and len(p) == 3:
            vals[p[1]] = int(p[2])
        elif p[0] == "ERR" and len(p) == 3:
            vals[p[1]] = p[2]
        elif p[0] == "BIT" and len(p) == 4:
            bits[p[1]] = (int(p[2]), int(p[3]))
        elif p[0] == "OWNER" and len(p) == 3:
            owners[p[1]] = int(p[2])
    missing = set(exprs) - set(vals)
    assert not missing, f"{elf}: gdb answered nothing for {missing}: {proc.stderr[-2000:]}"
    return vals, bits, owners


def dwarf_file(interp):
    """The ELF whose DWARF describes _PyRuntimeState for INTERP, or None."""
    binary = real_binary(interp["command"])
    abi = "d" if interp["kind"].endswith("debug") else ""
    libdir = binary.parent.parent / "lib"
    candidates = sorted({Path(os.path.realpath(p))
                         for p in libdir.glob(f"libpython3.{interp['minor']}{abi}.so*")})
    candidates.append(binary)
    for elf in candidates:
        if not elf.is_file():
            continue
        vals, _, _ = gdb_eval(elf, {"rt": "sizeof(_PyRuntimeState)"})
        if isinstance(vals["rt"], int):
            return elf
    return None


def off(ptr_type, member):
    return f"(long)&(({ptr_type}*)0)->{member}"


def end(ptr_type, member):
    return f"(long)&(({ptr_type}*)0)->{member} + (long)sizeof((({ptr_type}*)0)->{member})"


RT, IS, TS = "_PyRuntimeState", "PyInterpreterState", "PyThreadState"
GIL, CF, FO = "struct _gil_runtime_state", "struct _PyCFrame", "PyFrameObject"
IF, CO = "struct _PyInterpreterFrame", "PyCodeObject"


def spec(minor):
    """(fields, absent, sizes) for MINOR.

    fields: table field -> C expression whose value it must equal.
    absent: table field -> member expression that must not exist; the field must be -1.
    sizes:  size field -> (type, [members it covers]).
    """
    f = {
        "runtime.interpreters_head": off(RT, "interpreters.head"),
        "runtime.main_thread": off(RT, "main_thread"),
        "interp.next": off(IS, "next"),
        "gil.locked": off(GIL, "locked"),
        "gil.last_holder": off(GIL, "last_holder"),
        "tstate.next": off(TS, "next"),
        "tstate.interp": off(TS, "interp"),
        "tstate.thread_id": off(TS, "thread_id"),
        "code.filename": off(CO, "co_filename"),
        "code.name": off(CO, "co_name"),
        "code.firstlineno": off(CO, "co_firstlineno"),
        "object.ob_type": off("PyObject", "ob_type"),
        "bytes.ob_size": off("PyBytesObject", "ob_base.ob_size"),
        "bytes.ob_sval": off("PyBytesObject", "ob_sval"),
        "unicode.length": off("PyASCIIObject", "length"),
        "unicode.state": off("PyASCIIObject", "state"),
        "unicode.ascii_data": "(long)sizeof(PyASCIIObject)",
        "unicode.compact_data": "(long)sizeof(PyCompactUnicodeObject)",
    }
    a = {
        "interp.threads_main": (IS, "threads.main"),
        "tstate.current_frame": (TS, "current_frame"),
        "tstate.holds_gil": (TS, "holds_gil"),
    }
    s = {
        "interp.size": (IS, ["next"]),
        "tstate.size": (TS, ["next", "interp", "thread_id"]),
        "code.size": (CO, ["co_filename", "co_name", "co_firstlineno"]),
    }
    if minor <= 11:
        f["runtime.gil"] = off(RT, "ceval.gil")
        f["runtime.tstate_current"] = off(RT, "gilstate.tstate_current")
        a["interp.gil_ptr"] = (IS, "ceval.gil")
    else:
        f["interp.gil_ptr"] = off(IS, "ceval.gil")
        s["interp.size"][1].append("ceval.gil")
        a["runtime.gil"] = (RT, "ceval.gil")
        a["runtime.tstate_current"] = (RT, "gilstate.tstate_current")
    if minor <= 10:
        f["interp.threads_head"] = off(IS, "tstate_head")
        s["interp.size"][1].append("tstate_head")
        f["tstate.frame"] = off(TS, "frame")
        s["tstate.size"][1].append("frame")
        # 3.10 has a CFrame *cframe too, but its frames still hang off tstate->frame
        a["tstate.cframe"] = (TS, "cframe") if minor == 9 else None
        a["tstate.native_thread_id"] = (TS, "native_thread_id")
        for m in ("f_back", "f_code", "f_lasti", "f_lineno", "f_trace"):
            f["frameobj." + m] = off(FO, m)
        s["frameobj.size"] = (FO, ["f_back", "f_code", "f_lasti", "f_lineno", "f_trace"])
        a["code.qualname"] = (CO, "co_qualname")
        a["code.code_adaptive"] = (CO, "co_code_adaptive")
        a["code.firsttraceable"] = (CO, "_co_firsttraceable")
        # the 3.9 -> 3.10 line-table switch: each version has only its own field
        lt, other = ("co_lnotab", "co_linetable") if minor == 9 else ("co_linetable", "co_lnotab")
        f["code.linetable"] = off(CO, lt)
        a["code.linetable (other format)"] = (CO, other)
        s["code.size"][1].append(lt)
    else:
        f["interp.threads_head"] = off(IS, "threads.head")
        s["interp.size"][1].append("threads.head")
        a["tstate.frame"] = (TS, "frame")
        f["tstate.cframe"] = off(TS, "cframe")
        f["tstate.native_thread_id"] = off(TS, "native_thread_id")
        s["tstate.size"][1].extend(["cframe", "native_thread_id"])
        f["cframe.current_frame"] = off(CF, "current_frame")
        f["iframe.previous"] = off(IF, "previous")
        f["iframe.code"] = off(IF, "f_code")
        f["iframe.instr"] = off(IF, "prev_instr")
        f["iframe.owner"] = off(IF, "owner")
        a["iframe.tlbc_index"] = (IF, "tlbc_index")
        s["iframe.size"] = (IF, ["previous", "f_code", "prev_instr", "owner"])
        f["iframe.owner_generator"] = "(int)FRAME_OWNED_BY_GENERATOR"
        f["code.qualname"] = off(CO, "co_qualname")
        f["code.linetable"] = off(CO, "co_linetable")
        f["code.code_adaptive"] = off(CO, "co_code_adaptive")
        f["code.firsttraceable"] = off(CO, "_co_firsttraceable")
        a["code.linetable (other format)"] = (CO, "co_lnotab")
        s["code.size"][1].extend(["co_qualname", "co_linetable", "_co_firsttraceable"])
        if minor >= 12:
            f["iframe.owner_first_shim"] = "(int)FRAME_OWNED_BY_CSTACK"
    if minor <= 10:
        for m in ("size", "previous", "code", "instr", "owner", "tlbc_index"):
            a.setdefault("iframe." + m, None)
        a["cframe.current_frame"] = None
    else:
        for m in ("size", "f_back", "f_code", "f_lasti", "f_lineno", "f_trace"):
            a["frameobj." + m] = None
    return f, a, s


@pytest.fixture(scope="session")
def dump_tool(tmp_path_factory):
    assert shutil.which("gdb"), "gdb is required (scripts/deps.sh installs it)"
    cc = os.environ.get("CC", "cc")
    exe = tmp_path_factory.mktemp("dump_table") / "dump_table"
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-Iinclude", "-I.",
                    "layouts/gen/dump_table.c", "layouts/tables.c", "layouts/code_ident.c", "-o", str(exe)],
                   cwd=ROOT, check=True)
    return exe


def table(exe, hexv, debug):
    args = [str(exe), "0x%08x" % hexv] + (["debug"] if debug else [])
    out = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


WITH_DWARF = [(i, dwarf_file(i)) for i in INTERPRETERS]
WITH_DWARF = [(i, elf) for i, elf in WITH_DWARF if elf is not None]


MUST_HAVE_DWARF = [i for i in INTERPRETERS if i["kind"] != "distro"]


@pytest.mark.parametrize("entry", MUST_HAVE_DWARF, ids=[i["name"] for i in MUST_HAVE_DWARF])
def test_dwarf_present_where_expected(entry):
    """Source builds and debug builds carry DWARF; only stripped release builds may lack it."""
    has = any(i is entry for i, _ in WITH_DWARF)
    assert has, f"{entry['name']} ({entry['command']}) should carry DWARF but gdb found none"


@pytest.mark.parametrize("entry,elf", WITH_DWARF, ids=[i["name"] for i, _ in WITH_DWARF])
def test_table_matches_dwarf(entry, elf, dump_tool):
    minor = entry["minor"]
    fields, absent, sizes = spec(minor)

    exprs = dict(fields)
    for key, where in absent.items():
        if where:
            exprs["absent:" + key] = off(*where)
    for key, (typ, members) in sizes.items():
        exprs["sizeof:" + key] = f"(long)sizeof({typ})"
        for m in members:
            exprs[f"end:{key}:{m}"] = end(typ, m)
    # Py_DEBUG implies Py_REF_DEBUG, which defines _Py_NegativeRefcount
    exprs["is_debug"] = "(long)&_Py_NegativeRefcount != 0"
    vals, bits, owners = gdb_eval(elf, exprs)

    debug = isinstance(vals["is_debug"], int) and vals["is_debug"] == 1
    assert debug == entry["kind"].endswith("debug"), \
        f"{elf}: DWARF says Py_DEBUG={debug}, manifest kind is {entry['kind']}"
    got = table(dump_tool, version_hex(entry["version"]), debug)
    where = f"{entry['name']} ({elf})"

    errors = []
    for key, expr in fields.items():
        want = vals[key]
        if not isinstance(want, int):
            errors.append(f"{key}: gdb could not evaluate {expr}: {want}")
        elif got[key] != want:
            errors.append(f"{key}: table {got[key]}, DWARF {want} ({expr})")
    for key, place in absent.items():
        if place is not None:
            ans = vals["absent:" + key]
            if isinstance(ans, int) or "no member" not in ans:
                errors.append(f"{key}: {place[0]}.{place[1]} exists in DWARF ({ans})")
        if key in got and got[key] != -1:
            errors.append(f"{key}: must be -1 on 3.{minor}, table has {got[key]}")
    for key, (typ, members) in sizes.items():
        size = got[key]
        need = max(vals[f"end:{key}:{m}"] for m in members)
        if size % 8 or size < need or size > vals["sizeof:" + key]:
            errors.append(f"{key}: {size} does not cover {typ} up to {need} within "
                          f"sizeof {vals['sizeof:' + key]}")

    # unicode state: the table's bit indexes must be the DWARF bit positions
    for name, field, width in (("kind", "unicode.kind_shift", 3),
                               ("compact", "unicode.compact_bit", 1),
                               ("ascii", "unicode.ascii_bit", 1)):
        if bits.get(name) != (got[field], width):
            errors.append(f"{field}: table {got[field]}, DWARF state.{name} = "
                          f"(bitpos, bitsize) {bits.get(name)}")

    # frame owners: generator value, and the first owner that is not a Python frame
    if minor >= 11:
        if owners.get("FRAME_OWNED_BY_GENERATOR") != got["iframe.owner_generator"]:
            errors.append(f"owner_generator: table {got['iframe.owner_generator']}, "
                          f"DWARF {owners}")
        shim = owners.get("FRAME_OWNED_BY_CSTACK", 255)
        if got["iframe.owner_first_shim"] != shim or (
                shim == 255 and max(owners.values(), default=0) >= 255):
            errors.append(f"owner_first_shim: table {got['iframe.owner_first_shim']}, "
                          f"DWARF enumerators {owners}")
    else:
        if got["iframe.owner_generator"] or got["iframe.owner_first_shim"]:
            errors.append("iframe owner values must be 0 before 3.11")

    expect_model = 1 if minor <= 10 else 2
    expect_lt = {9: 1, 10: 2}.get(minor, 3)
    if got["frame_model"] != expect_model or got["linetable"] != expect_lt:
        errors.append(f"frame_model/linetable {got['frame_model']}/{got['linetable']}")
    if got["debug"] != int(debug) or got["free_threaded"] != 0 or \
            got["version_hex"] != version_hex(entry["version"]) or got["iframe.code_tag_mask"]:
        errors.append(f"header fields wrong: {got}")

    assert not errors, f"{where}:\n  " + "\n  ".join(errors)


def test_every_minor_checked_against_dwarf():
    """Guard: the comparison above must actually run for each minor version and for at least
    one Py_DEBUG build, or it proves nothing."""
    checked = {}
    for interp in INTERPRETERS:
        if dwarf_file(interp) is not None:
            checked.setdefault(interp["minor"], set()).add(interp["kind"].endswith("debug"))
    pyenv = {i["minor"] for i in INTERPRETERS if i["kind"].startswith("source")}
    assert pyenv <= set(checked), f"no DWARF found for 3.{sorted(pyenv - set(checked))}"
    assert any(True in kinds for kinds in checked.values()), "no Py_DEBUG build with DWARF"
