#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan) and run each for SECONDS.
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]      (default 60 s each, every harness)
# Env: FUZZ_BUILD (build dir, default build-fuzz), FUZZ_NICE (default 15), FUZZ_KEEP_GOING=1
# (go on after a crash, collecting every distinct one: libFuzzer's fork mode).
# New inputs go to $FUZZ_BUILD/corpus/HARNESS (the committed corpus in tests/fuzz/corpus is
# only read); a crash, sanitizer report or timeout leaves its input in
# $FUZZ_BUILD/crashes/HARNESS/ and makes the script exit 1. One line per run is appended to
# $FUZZ_BUILD/campaign.tsv (date, harness, seconds, executions, new coverage, result).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
all=(linetable unicode layouts x86 maps elf alloc walker)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
build=${FUZZ_BUILD:-build-fuzz}
nicety=${FUZZ_NICE:-15}

scripts/deps.sh fuzz
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dtests=disabled >/dev/null
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h"); done
nice -n "$nicety" ninja -C "$build" "${targets[@]}" >/dev/null

status=0
for h in "${harnesses[@]}"; do
	work="$build/corpus/$h"
	crashes="$build/crashes/$h"
	mkdir -p "$work" "$crashes"
	log="$build/fuzz-$h.log"
	echo "fuzz: $h for ${secs}s (log $log)" >&2
	rc=0
	before=$(ls "$crashes" | wc -l)
	extra=()
	[ "${FUZZ_KEEP_GOING:-0}" = 1 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
	# halt_on_error: the first ASan/UBSan report is a crash (the build also has
	# -fno-sanitize-recover); detect_leaks: a leak is a finding too
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	nice -n "$nicety" "$build/tests/fuzz/fuzz_$h" -max_total_time="$secs" -timeout=20 \
		-rss_limit_mb=2560 -max_len=70000 -use_value_profile=1 -print_final_stats=1 \
		-artifact_prefix="$crashes/" "${extra[@]}" "$work" "tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
	# fork mode exits 0 after crashes it ignored: a new file in the crash directory counts
	[ "$(ls "$crashes" | wc -l)" -gt "$before" ] && [ "$rc" -eq 0 ] && rc=1
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# fork mode prints no final stats: its last status line "#N: cov: ..." counts
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\):* .*cov: .*/\1/p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAIL (exit $rc)"
		status=1
		echo "fuzz: $h FAILED; input in $crashes/, report:" >&2
		grep -m1 -E 'ERROR: |runtime error|property broken|timeout|out-of-memory' "$log" >&2 || tail -5 "$log" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$h" "$secs" "${execs:-?}" \
		"${cov:-?}" "$result" >>"$build/campaign.tsv"
	echo "fuzz: $h: ${execs:-?} executions, coverage ${cov:-?}, $result" >&2
done
exit $status
