#!/bin/bash
# Install silo's build and test dependencies on Debian (idempotent).  Only
# calls apt-get when a package is missing, so it is fast on a ready machine.
set -euo pipefail

# criu + libprotobuf-c-dev: criu.h and libcriu.so.2 for checkpoint/restore (lib/criu/criu.c
# dlopens libcriu; the criu binary it drives is the user's choice: --criu / $CRIU).
BUILD_DEPS=(gcc make pkg-config libseccomp-dev libcap-ng-dev libjansson-dev libarchive-dev
	libcmocka-dev libmnl-dev libnftables-dev libsystemd-dev criu libprotobuf-c-dev
	libgnutls28-dev)
# strace: tests/lib/faults.sh kills silo at chosen system calls (test_crash.sh).
# clang + libclang-rt-14-dev: the libFuzzer harnesses of tests/fuzz/ (replayed by make check).
# gnutls-bin: gnutls-cli, the TLS-PSK transport of the hostile migration peer.
TEST_DEPS=(busybox-static jq iproute2 util-linux procps nftables python3 e2fsprogs strace
	clang libclang-rt-14-dev gnutls-bin)

missing=()
for pkg in "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#BUILD_DEPS[@]} build and ${#TEST_DEPS[@]} test dependencies present"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: apt-get not found; install these by hand: ${missing[*]}" >&2
	exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi
. "$(dirname "$0")/lib/apt.sh"
apt_install deps "${missing[@]}"
echo "deps: done"
