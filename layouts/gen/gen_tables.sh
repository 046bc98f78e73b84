#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate the compiled-in layout tables (layouts/tables.c) from CPython's installed headers.
#
# For each include directory, gen_layout.c is compiled twice against it with -DPy_BUILD_CORE
# (release, then -DPy_DEBUG) and run; each run prints one `static const struct tc_layout`
# initializer. Py_DEBUG on release headers gives the debug layout because the structs we read
# depend only on the macro (pyconfig.h never sets it for a release build; Py_TRACE_REFS, which
# would change PyObject, is not implied by Py_DEBUG since 3.8).
#
# Usage:
#   gen_tables.sh                  print the tables for the pyenv builds 3.9-3.12
#   gen_tables.sh --write FILE     replace the generated block of FILE (layouts/tables.c)
#   gen_tables.sh --headers DIR [NAME] [EXTRA_INCLUDE]
#                                  print the release and debug tables for one include
#                                  directory (e.g. a distro's, to compare with the pyenv ones)
#
# Environment: CC (default cc), PYENV_ROOT (default $(pyenv root) or ~/.pyenv).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# gen_one INCLUDE_DIR NAME SOURCE_TEXT DEBUG(0|1) [EXTRA_INCLUDE]
gen_one() {
	inc=$1 name=$2 src=$3 dbg=$4 extra=${5:-}
	flags=""
	if [ "$dbg" = 1 ]; then
		flags="-DPy_DEBUG"
	fi
	set -- -std=gnu11 -w -DPy_BUILD_CORE $flags -I"$inc" -I"$inc/internal"
	if [ -n "$extra" ]; then
		set -- "$@" -I"$extra"
	fi
	"$CC" "$@" -DTC_GEN_NAME="$name" -DTC_GEN_SOURCE="\"$src\"" \
		-o "$tmp/gen" "$here/gen_layout.c"
	"$tmp/gen"
	echo
}

# gen_pair INCLUDE_DIR NAME SOURCE_TEXT [EXTRA_INCLUDE]
gen_pair() {
	gen_one "$1" "$2" "$3" 0 "${4:-}"
	gen_one "$1" "$2" "$3 with -DPy_DEBUG" 1 "${4:-}"
}

gen_pyenv() {
	root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
	for minor in 9 10 11 12; do
		# newest installed micro release of 3.MINOR
		dir=$(ls -d "$root"/versions/3.$minor.* 2>/dev/null | sort -t. -k3 -n | tail -n 1)
		if [ -z "$dir" ]; then
			echo "gen_tables.sh: no pyenv build of 3.$minor under $root" >&2
			exit 1
		fi
		ver=${dir##*/}
		gen_pair "$dir/include/python3.$minor" "v3_$minor" \
			"pyenv $ver headers (include/python3.$minor, internal/)"
	done
}

begin='/* BEGIN GENERATED TABLES (layouts/gen/gen_tables.sh --write) */'
end='/* END GENERATED TABLES */'

case "${1:-}" in
--write)
	file=$2
	gen_pyenv >"$tmp/tables"
	awk -v begin="$begin" -v end="$end" -v gen="$tmp/tables" '
		$0 == begin { print; while ((getline l < gen) > 0) print l; skip = 1; next }
		$0 == end { skip = 0 }
		!skip { print }' "$file" >"$tmp/out"
	grep -qxF "$begin" "$tmp/out" || { echo "gen_tables.sh: no marker in $file" >&2; exit 1; }
	cp "$tmp/out" "$file"
	;;
--headers)
	gen_pair "$2" "${3:-layout}" "headers in $2" "${4:-}"
	;;
"")
	gen_pyenv
	;;
*)
	sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
