#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch the test interpreters (Debian binary packages) into a cache outside the clone and
# write a manifest of every interpreter the functional suite must cover.
#
# Idempotent: a second run with a warm cache takes a few seconds. Nothing is installed into
# the system except bookworm's python3.11 / python3.11-dbg (apt), which is the "system" build.
#
# Manifest: $CACHE/interpreters.tsv, one line per interpreter:
#   name <TAB> command (absolute path) <TAB> expected version <TAB> kind
# and $CACHE/unsupported.tsv, the same for interpreters tachyon-c must refuse (too old).
# The set of names is tests/interpreters.txt: a listed interpreter that cannot be provisioned
# (or an unlisted one in the manifest) is an error (exit 1), never a skip.
set -euo pipefail

CACHE=${TACHYON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tachyon-c}
MIRROR=${TACHYON_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBS="$CACHE/debs"
mkdir -p "$CACHE" "$DEBS" "$CACHE/bin"

log() { printf 'provision: %s\n' "$*" >&2; }

# --- package indexes (refreshed when older than 7 days) ---------------------------------
index() { # suite -> path of the decompressed Packages file
	local suite=$1 f="$CACHE/Packages.$1"
	if [ ! -s "$f" ] || [ -n "$(find "$f" -mtime +7 2>/dev/null)" ]; then
		log "fetching $suite package index"
		curl -fsSL --retry 3 "$MIRROR/dists/$suite/main/binary-amd64/Packages.xz" | xz -dc >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# filename of PACKAGE in index FILE
deb_path() {
	awk -v p="$2" 'BEGIN { RS = "" } $0 ~ ("(^|\n)Package: " p "\n") {
		n = split($0, l, "\n"); for (i = 1; i <= n; i++) if (l[i] ~ /^Filename: /) { sub(/^Filename: /, "", l[i]); print l[i]; exit } }' "$1"
}

# fetch + unpack packages of SUITE into ROOT
unpack() {
	local suite=$1 root=$2; shift 2
	local idx; idx=$(index "$suite")
	mkdir -p "$root"
	for pkg in "$@"; do
		local path; path=$(deb_path "$idx" "$pkg")
		if [ -z "$path" ]; then log "package $pkg not found in $suite"; return 1; fi
		local deb="$DEBS/$(basename "$path")"
		if [ ! -s "$deb" ]; then
			log "downloading $pkg"
			curl -fsSL --retry 3 -o "$deb.tmp" "$MIRROR/$path"
			mv "$deb.tmp" "$deb"
		fi
		local mark="$root/.unpacked.$(basename "$path")"
		if [ ! -e "$mark" ]; then
			dpkg -x "$deb" "$root"
			touch "$mark"
		fi
	done
}

# patched copy of a binary that runs against the private libc in ROOT
patched() { # root src dst
	local root=$1 src=$2 dst=$3
	if [ ! -x "$dst" ] || [ "$src" -nt "$dst" ]; then
		cp "$src" "$dst.tmp"
		patchelf --set-interpreter "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
			--force-rpath --set-rpath "$root/usr/lib/x86_64-linux-gnu" "$dst.tmp"
		mv "$dst.tmp" "$dst"
	fi
}

# wrapper: PYTHONHOME points at the private prefix; exec keeps the PID
wrapper() { # name binary home
	local w="$CACHE/bin/$1"
	printf '#!/bin/sh\nPYTHONHOME=%s exec %s "$@"\n' "$3" "$2" >"$w.tmp"
	chmod +x "$w.tmp"
	mv "$w.tmp" "$w"
}

need_tools() {
	local missing=()
	command -v curl >/dev/null || missing+=(curl)
	command -v xz >/dev/null || missing+=(xz-utils)
	command -v patchelf >/dev/null || missing+=(patchelf)
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

need_tools
MANIFEST="$CACHE/interpreters.tsv"
UNSUPPORTED="$CACHE/unsupported.tsv"
LIST="$(cd "$(dirname "$0")/.." && pwd)/tests/interpreters.txt"
# Built under a name of this run's own and renamed at the end: two runs at once (two test
# sessions) must not interleave their lines.
TMP_MANIFEST="$MANIFEST.tmp.$$"
TMP_UNSUPPORTED="$UNSUPPORTED.tmp.$$"
trap 'rm -f "$TMP_MANIFEST" "$TMP_UNSUPPORTED"' EXIT
: >"$TMP_MANIFEST"
: >"$TMP_UNSUPPORTED"
# role of NAME in tests/interpreters.txt (matrix / unsupported), empty when not listed
role() { awk -v n="$1" '!/^#/ && $1 == n { print $2 }' "$LIST"; }
add() {
	case $(role "$1") in
	unsupported) printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$TMP_UNSUPPORTED" ;;
	*) printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$TMP_MANIFEST" ;;
	esac
}

# --- system 3.11 (bookworm) and its debug build -----------------------------------------
if ! command -v python3.11-dbg >/dev/null || [ ! -x /usr/bin/python3.11 ]; then
	log "installing python3.11 python3.11-dbg"
	apt-get update -qq && apt-get install -y -qq python3.11 python3.11-dbg >/dev/null
fi
add debian-3.11 /usr/bin/python3.11 3.11.2 distro
add debian-3.11d /usr/bin/python3.11-dbg 3.11.2 distro-debug

# --- bullseye 3.9.2 (runs on this libc) --------------------------------------------------
B="$CACHE/bullseye"
unpack bullseye "$B" python3.9-minimal libpython3.9-minimal libpython3.9-stdlib python3.9-dbg libpython3.9-dbg
wrapper debian-3.9 "$B/usr/bin/python3.9" "$B/usr"
wrapper debian-3.9d "$B/usr/bin/python3.9d" "$B/usr"
add debian-3.9 "$CACHE/bin/debian-3.9" 3.9.2 distro
add debian-3.9d "$CACHE/bin/debian-3.9d" 3.9.2 distro-debug

# --- sid 3.13 / 3.14 / 3.15 on a private libc --------------------------------------------
S="$CACHE/sid"
unpack sid "$S" libc6 libgcc-s1 libzstd1 libexpat1 zlib1g libffi8 libssl3t64
for v in 3.13 3.14 3.15; do
	unpack sid "$S" "python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib" \
		"python$v-dbg" "libpython$v-dbg"
	patched "$S" "$S/usr/bin/python$v" "$CACHE/bin/.python$v"
	patched "$S" "$S/usr/bin/python${v}d" "$CACHE/bin/.python${v}d"
	wrapper "debian-$v" "$CACHE/bin/.python$v" "$S/usr"
	wrapper "debian-${v}d" "$CACHE/bin/.python${v}d" "$S/usr"
	ver=$(sed -n 's/^Version: \([0-9.]*\)-.*/\1/p' <(awk -v p="python$v-minimal" 'BEGIN{RS=""} $0 ~ ("^Package: " p "\n")' "$(index sid)") | head -1)
	add "debian-$v" "$CACHE/bin/debian-$v" "$ver" distro
	add "debian-${v}d" "$CACHE/bin/debian-${v}d" "$ver" distro-debug
done

# --- bullseye 2.7.18: an interpreter too old to read (exit 5 is tested against it) --------
unpack bullseye "$B" python2.7-minimal libpython2.7-minimal
wrapper debian-2.7 "$B/usr/bin/python2.7" "$B/usr"
add debian-2.7 "$CACHE/bin/debian-2.7" 2.7.18 distro

# --- pyenv source builds (shared libpython, DWARF): part of this machine's image ----------
# Only the builds tests/interpreters.txt names; one that is missing fails the run below
# with how to build it, instead of quietly shrinking the matrix.
PYENV_ROOT=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
fail=0
for name in $(awk '!/^#/ && $1 ~ /^pyenv-/ { print $1 }' "$LIST"); do
	full=${name#pyenv-}
	minor=${full%.*}
	exe="$PYENV_ROOT/versions/$full/bin/python$minor"
	if [ ! -x "$exe" ]; then
		log "$name: $exe is missing; the image is expected to have it (build it with:" \
			"PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install $full)"
		fail=1
		continue
	fi
	add "$name" "$exe" "$full" source-shared
done

# --- the manifests hold exactly the listed names -------------------------------------------
listed=$(awk '!/^#/ && NF { print $1 }' "$LIST" | sort)
got=$(cut -f1 "$TMP_MANIFEST" "$TMP_UNSUPPORTED" | sort)
for name in $(comm -23 <(printf '%s\n' "$listed") <(printf '%s\n' "$got")); do
	log "$name is listed in tests/interpreters.txt but was not provisioned"
	fail=1
done
for name in $(comm -13 <(printf '%s\n' "$listed") <(printf '%s\n' "$got")); do
	log "$name was provisioned but is not listed in tests/interpreters.txt"
	fail=1
done

# --- every interpreter must actually start ------------------------------------------------
while IFS=$'\t' read -r name cmd ver kind; do
	got=$("$cmd" -S -c 'import platform; print(platform.python_version())' 2>&1) || got="(failed: $got)"
	if [ "$got" != "$ver" ]; then
		log "$name: expected $ver, got $got"
		fail=1
	fi
done < <(cat "$TMP_MANIFEST" "$TMP_UNSUPPORTED")
[ $fail -eq 0 ] || exit 1
mv "$TMP_UNSUPPORTED" "$UNSUPPORTED"
mv "$TMP_MANIFEST" "$MANIFEST"
log "$(wc -l <"$MANIFEST") interpreters ready ($MANIFEST)"
printf '%s\n' "$MANIFEST"
