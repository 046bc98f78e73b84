# SPDX-License-Identifier: MIT
"""Validate tachyon-c's speedscope output against speedscope's own file-format schema.

The unit test tests/unit/test_sinks.c writes a non-trivial profile (several threads, deep
stacks, unicode, quotes and backslashes in file names, bytes that are not UTF-8) to
BUILD/tests/unit/speedscope_sample.json; this test runs tests/viewers/validate_speedscope.js
(ajv + the schema shipped in the `speedscope` npm package) on it, and on a deliberately broken
copy to prove the validator can fail. BUILD is $TC_BUILD_DIR when set; otherwise `build` (the
Makefile's), or failing that the newest sample under any build*/ directory.
`npm ci` runs first when tests/viewers/node_modules is missing.
"""
import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VIEWERS = ROOT / "tests" / "viewers"
VALIDATOR = VIEWERS / "validate_speedscope.js"
SAMPLE = Path("tests") / "unit" / "speedscope_sample.json"


def _sample_path():
    """Where test_sinks left the sample (see the module docstring)."""
    env = os.environ.get("TC_BUILD_DIR")
    d = Path(env or "build")
    d = d if d.is_absolute() else ROOT / d
    if env or (d / SAMPLE).is_file():
        return d / SAMPLE
    found = sorted(ROOT.glob(f"build*/{SAMPLE}"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else d / SAMPLE


@pytest.fixture(scope="module")
def node_ready():
    """Node and the pinned packages (npm ci from package-lock.json when missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required (scripts/deps.sh check installs them)")
    if not (VIEWERS / "node_modules" / "speedscope").is_dir() or \
            not (VIEWERS / "node_modules" / "ajv").is_dir():
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=VIEWERS,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"npm ci failed:\n{r.stdout}\n{r.stderr}"
    return node


@pytest.fixture(scope="module")
def sample():
    """The file test_sinks wrote. Its absence is a failure: `make check` runs the unit
    tests first, and a validator with nothing to validate proves nothing."""
    path = _sample_path()
    if not path.is_file():
        pytest.fail(f"{path} missing: run the unit tests first "
                    f"(meson test -C {path.parents[2]} sinks)")
    return path


def _validate(node, path):
    return subprocess.run([node, str(VALIDATOR), str(path)], cwd=VIEWERS,
                          capture_output=True, text=True, timeout=120)


def test_sample_is_strict_utf8_json(sample):
    """Python's decoder is strict (no surrogates, no overlongs), unlike Node's."""
    doc = json.loads(sample.read_bytes().decode("utf-8", errors="strict"))
    assert doc["exporter"] == "tachyon-c"
    assert len(doc["profiles"]) >= 2
    names = {f["name"] for f in doc["shared"]["frames"]}
    files = {f.get("file") for f in doc["shared"]["frames"]}
    assert "Ünïcödé.函数" in names
    assert 'C:\\Users\\"me"\\app.py' in files
    assert max(len(s) for p in doc["profiles"] for s in p["samples"]) >= 100


def test_sample_valid_against_speedscope_schema(node_ready, sample):
    r = _validate(node_ready, sample)
    assert r.returncode == 0, f"validator rejected {sample}:\n{r.stdout}\n{r.stderr}"
    assert "valid" in r.stdout


# Each breaks one rule: a schema rule, or one only the validator's own checks catch.
def _no_schema(d):
    del d["$schema"]


def _bad_unit(d):
    d["profiles"][0]["unit"] = "samples"


def _string_weight(d):
    d["profiles"][0]["weights"][0] = "1"


def _frame_out_of_range(d):
    d["profiles"][0]["samples"][0].append(len(d["shared"]["frames"]))


def _missing_weight(d):
    d["profiles"][0]["weights"].pop()


@pytest.mark.parametrize("breaker", [_no_schema, _bad_unit, _string_weight,
                                     _frame_out_of_range, _missing_weight])
def test_broken_file_is_rejected(node_ready, sample, tmp_path, breaker):
    doc = json.loads(sample.read_text(encoding="utf-8"))
    broken = copy.deepcopy(doc)
    breaker(broken)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    r = _validate(node_ready, path)
    assert r.returncode == 1, f"validator accepted a broken file ({breaker.__name__}):\n" \
                              f"{r.stdout}\n{r.stderr}"
    assert r.stderr.strip(), "a rejection must say why"


def test_truncated_file_is_rejected(node_ready, sample, tmp_path):
    path = tmp_path / "truncated.json"
    path.write_bytes(sample.read_bytes()[:-10])
    r = _validate(node_ready, path)
    assert r.returncode == 1
    assert "not JSON" in r.stderr
