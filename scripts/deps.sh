#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what building and testing tachyon-c needs, with apt-get, only when missing.
# Usage: scripts/deps.sh [build|check|fuzz|sanitize]   (check adds what the test suites need;
# fuzz and sanitize add clang and its sanitizer and libFuzzer runtimes)
set -euo pipefail
what=${1:-build}
pkgs=(gcc make meson ninja-build pkg-config libelf-dev libdw-dev libcjson-dev libbpf-dev libncurses-dev libseccomp-dev check python3)
if [ "$what" = fuzz ] || [ "$what" = sanitize ]; then
	# clang with its runtimes: libFuzzer (-fsanitize=fuzzer), ASan and UBSan
	pkgs+=(clang libclang-rt-14-dev)
fi
if [ "$what" = check ] || [ "$what" = sanitize ]; then
	pkgs+=(python3-pytest gdb patchelf curl xz-utils binutils tmux strace nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
	# nodejs may come from another repository with npm bundled: accept a working command.
	case $p in
	npm) command -v npm >/dev/null && continue ;;
	nodejs) command -v node >/dev/null && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
