#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build tachyon-c with AddressSanitizer + UndefinedBehaviorSanitizer and run the unit tests
# and a functional subset with it. Fails on any test failure and on any sanitizer report,
# including one from a process whose failure a test expected (reports go to files under
# $SAN_BUILD/reports, which must stay empty).
# Usage: scripts/sanitize.sh    Env: SAN_BUILD (default build-sanitize), SAN_INTERPS
# (manifest names for the functional subset; default one per minor version 3.9-3.15).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SAN_BUILD:-build-sanitize}
interps=${SAN_INTERPS:-"debian-3.9 pyenv-3.10.13 debian-3.11 pyenv-3.12.1 debian-3.13 debian-3.14 debian-3.15"}
python=${PYTHON:-/usr/bin/python3}

scripts/deps.sh sanitize
if [ ! -f "$build/build.ninja" ]; then
	# clang: its UBSan honours log_path (GCC 12's prints to stderr only, where a test that
	# expects a failing child would hide it) and checks nonnull arguments such as memcpy's.
	# -fno-sanitize-recover: an undefined-behaviour finding stops the program (and fails
	# the test) instead of printing and going on
	CC=clang meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all >/dev/null
fi
if ! nice -n "${SAN_NICE:-10}" ninja -C "$build" >"$build/ninja.log" 2>&1; then
	grep -E -A5 'error:|FAILED' "$build/ninja.log" >&2 || tail -20 "$build/ninja.log" >&2
	exit 1
fi

reports="$(pwd)/$build/reports"
rm -rf "$reports"
mkdir -p "$reports"
# log_path: reports go to files named after the process (PID appended), where a test that
# expects its child to fail cannot hide them; exitcode 86 tells a sanitizer abort apart
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$reports/asan:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$reports/ubsan"
export LSAN_OPTIONS="exitcode=86"

status=0
echo "sanitize: unit tests" >&2
meson test -C "$build" --print-errorlogs --timeout-multiplier 4 >"$build/unit.log" 2>&1 || {
	status=1
	grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT|ERROR)' "$build/unit.log" >&2 || tail -20 "$build/unit.log" >&2
}

echo "sanitize: functional subset (test_dump, test_errors, test_cached_walk on: $interps)" >&2
k=""
for i in $interps; do k="${k:+$k or }[$i]"; done
export TACHYON_C="$(pwd)/$build/tachyon-c"
{
	"$python" -m pytest -q -p no:cacheprovider tests/functional/test_errors.py &&
	"$python" -m pytest -q -p no:cacheprovider tests/functional/test_dump.py \
		tests/functional/test_cached_walk.py -k "$k"
} >"$build/functional.log" 2>&1 || {
	status=1
	tail -30 "$build/functional.log" >&2
}
tail -1 "$build/functional.log" >&2

if [ -n "$(ls -A "$reports")" ]; then
	status=1
	echo "sanitize: sanitizer reports:" >&2
	for f in "$reports"/*; do
		echo "--- $f" >&2
		head -40 "$f" >&2
	done
fi
[ $status -eq 0 ] && echo "sanitize: clean" >&2
exit $status
