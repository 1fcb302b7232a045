#!/bin/bash
# Install what the cgroup v2 test guest needs on the host (Debian; idempotent):
# QEMU to boot it, debootstrap/cpio/e2fsprogs to build it.  Only calls apt-get
# when something is missing.
set -euo pipefail

PKGS=(qemu-system-x86 debootstrap cpio e2fsprogs)
missing=()
for pkg in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "guest deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
	echo "guest deps: need root and apt-get to install: ${missing[*]}" >&2
	exit 1
fi
SUDO=()
. "$(dirname "$0")/../lib/apt.sh"
apt_install "guest deps" "${missing[@]}"
