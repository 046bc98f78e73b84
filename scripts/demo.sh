#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: start a small workload under the system python3, then show what tachyon-c
# sees: one stack dump, then a 5-second profile (summary on the terminal, speedscope and
# collapsed files in build/demo/).
set -euo pipefail
BIN=${1:-build/tachyon-c}
[ -x "$BIN" ] || BIN=build/cli/tachyon-c
PY=${PYTHON:-/usr/bin/python3}
OUT=$(dirname "$BIN")/demo
mkdir -p "$OUT"

"$PY" examples/demo_workload.py &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
sleep 1

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	echo "(reading another process needs root or CAP_SYS_PTRACE; using sudo)"
	SUDO=sudo
fi

echo "== tachyon-c dump $PID"
$SUDO "$BIN" dump "$PID"
echo
echo "== tachyon-c attach $PID -d 5      (1 kHz, all threads, wall clock)"
$SUDO "$BIN" attach "$PID" -d 5
$SUDO "$BIN" attach "$PID" -d 2 -o "$OUT/profile.json"
$SUDO "$BIN" attach "$PID" -d 2 -o "$OUT/profile.txt"
echo
echo "Wrote $OUT/profile.json (open it at https://www.speedscope.app) and"
echo "      $OUT/profile.txt (collapsed stacks for flamegraph.pl)."
