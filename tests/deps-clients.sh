#!/bin/bash
# Install what tests/clients/ needs on Debian: Podman (with conmon, netavark /
# CNI plugins), containerd (ctr) and Docker.  Idempotent: apt-get runs only
# when a package is missing (then `apt-get update` first), so it takes a
# fraction of a second on a ready machine.
set -euo pipefail

CLIENT_DEPS=(podman conmon containernetworking-plugins uidmap slirp4netns fuse-overlayfs
	containerd iptables docker.io busybox-static jq util-linux procps iproute2
	python3-grpcio python3-protobuf protobuf-compiler gcc libc6-dev)

# One dpkg-query for all: the installed ones print "NAME install ok installed".
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${CLIENT_DEPS[@]}" 2>/dev/null | awk '$2 == "install" && $4 == "installed" { print $1 }' || true)
missing=()
for pkg in "${CLIENT_DEPS[@]}"; do
	grep -qxF -- "$pkg" <<< "$installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps-clients: all ${#CLIENT_DEPS[@]} client test dependencies present"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps-clients: apt-get not found; install these by hand: ${missing[*]}" >&2
	exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "deps-clients: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	SUDO=(sudo)
fi
# Installing docker.io / containerd must not start their system services
# (no systemd here anyway; under sysvinit policy-rc.d says no): the tests
# start private daemons of their own.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 755 "$policy"
	added_policy=1
fi
rc=0
. "$(dirname "$0")/lib/apt.sh"
apt_install deps-clients "${missing[@]}" || rc=$?
[ "$added_policy" = 0 ] || "${SUDO[@]}" rm -f "$policy"
[ "$rc" -eq 0 ] || exit "$rc"
echo "deps-clients: done"
