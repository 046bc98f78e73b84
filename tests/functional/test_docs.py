# SPDX-License-Identifier: MIT
"""docs/ARCHITECTURE.md's map names every source file of the tree, and only those."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ["base", "reader", "layouts", "daemon", "cli", "include/tc"]


def _expand(name):
    m = re.fullmatch(r"(.*)\.\{(.*)\}", name)
    if not m:
        return [name]
    return [f"{m.group(1)}.{ext}" for ext in m.group(2).split(",")]


def map_files():
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    table = text.split("## The map", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        for name in re.findall(r"`([^`]+)`", cell):
            names.update(_expand(name))
    return names


def tree_files():
    out = set()
    for folder in FOLDERS:
        for p in (REPO / folder).rglob("*"):
            if p.suffix in (".c", ".h") and "gen" not in p.relative_to(REPO).parts:
                out.add(str(p.relative_to(REPO)))
    return out


def test_map_matches_tree():
    named, present = map_files(), tree_files()
    assert named, "no map table found"
    assert not (present - named), f"files missing from the map: {sorted(present - named)}"
    assert not (named - present), f"map names files that do not exist: {sorted(named - present)}"
