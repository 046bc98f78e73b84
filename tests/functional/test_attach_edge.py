# SPDX-License-Identifier: MIT
"""Attach in the awkward cases: a libpython deleted on disk after the process started (the
3.13+ cookie scan when the file cannot be reopened), and a second copy of libpython loaded with
ctypes (two _PyRuntime symbols mapped; only one initialized)."""

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import TARGETS, BINARY, run_tc

PYENV = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"))


def pyenv_build(version):
    root = PYENV / "versions" / version
    minor = version.rsplit(".", 1)[0]
    exe, lib = root / "bin" / ("python" + minor), root / "lib" / ("libpython%s.so.1.0" % minor)
    if not (exe.is_file() and lib.is_file()):
        pytest.fail("pyenv build %s is missing (%s); the matrix expects it on this image" % (version, root))
    return root, exe, lib, minor


def main_frames(out):
    doc = json.loads(out)
    mains = [t for t in doc["threads"] if t["main"]]
    assert len(mains) == 1, doc
    return doc, [f["name"] for f in mains[0]["frames"]]


def relocated(tmp_path, version):
    """A copy of a pyenv interpreter whose libpython lives in TMP/lib (so it can be deleted)."""
    root, exe, lib, minor = pyenv_build(version)
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    exe2, lib2 = tmp_path / "bin" / exe.name, tmp_path / "lib" / lib.name
    shutil.copy2(exe, exe2)
    shutil.copy2(lib, lib2)
    subprocess.run(["patchelf", "--set-rpath", str(tmp_path / "lib"), str(exe2)], check=True)
    for p in (tmp_path, tmp_path / "bin", tmp_path / "lib"):
        p.chmod(0o755)
    return root, exe2, lib2


def start_parked(procs, argv, env=None):
    p = procs.start(argv, env=env)
    assert p.read_line() == "ready"
    return p


def test_deleted_libpython_root(procs, tmp_path):
    """As root the deleted file is reopened through /proc/PID/map_files."""
    root, exe, lib = relocated(tmp_path, "3.13.0")
    env = dict(os.environ, PYTHONHOME=str(root))
    p = start_parked(procs, [exe, TARGETS / "park.py"], env=env)
    lib.unlink()
    r = run_tc("dump", p.pid, "--json")
    assert r.returncode == 0, r.stderr
    doc, names = main_frames(r.stdout)
    assert names == ["parked_here", "<module>"]
    assert doc["python"]["version"] == "3.13.0"


def test_deleted_libpython_cookie_scan(procs, tmp_path):
    """Without CAP_SYS_ADMIN, map_files is closed: the runtime is found by its cookie."""
    if os.geteuid() != 0:
        pytest.fail("this test must run as root (it drops to nobody with CAP_SYS_PTRACE)")
    root, exe, lib = relocated(tmp_path, "3.13.0")
    env = dict(os.environ, PYTHONHOME=str(root))
    p = start_parked(procs, [exe, TARGETS / "park.py"], env=env)
    lib.unlink()
    tc = tmp_path / "tachyon-c"
    shutil.copy2(BINARY, tc)
    tc.chmod(0o755)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              "--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace"]
    r = run_tc("dump", p.pid, "--json", prefix=prefix, binary=tc)
    assert r.returncode == 0, r.stderr
    doc, names = main_frames(r.stdout)
    assert names == ["parked_here", "<module>"]
    assert doc["python"]["version"] == "3.13.0"
    # and it really had no access to the file: the same command on map_files fails
    maps = Path("/proc/%d/maps" % p.pid).read_text()
    line = next(l for l in maps.splitlines() if "(deleted)" in l and "libpython" in l)
    rng = line.split()[0]
    probe = subprocess.run(prefix + ["cat", "/proc/%d/map_files/%s" % (p.pid, rng)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert probe.returncode != 0, "map_files was readable: the fallback was not exercised"


def test_second_libpython_copy(procs, tmp_path):
    """ctypes loads a copy of libpython: its _PyRuntime is never initialized."""
    root, exe, lib, minor = pyenv_build("3.12.1")
    copy = tmp_path / "copy" / lib.name
    copy.parent.mkdir()
    shutil.copy2(lib, copy)
    p = start_parked(procs, [exe, TARGETS / "park.py", copy])
    maps = Path("/proc/%d/maps" % p.pid).read_text()
    assert str(copy) in maps and str(lib) in maps, "both copies must be mapped"
    r = run_tc("dump", p.pid, "--json")
    assert r.returncode == 0, r.stderr
    doc, names = main_frames(r.stdout)
    assert names == ["parked_here", "<module>"]
    assert doc["python"]["version"] == "3.12.1"
