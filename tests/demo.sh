#!/bin/bash
# `make demo`: install what is missing, build silo, and run a busybox container.
# SILO=/path/to/runtime tests/demo.sh runs the same demo with another runtime
# (e.g. /usr/sbin/runc) and skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
SILO=${SILO:-./silo}
. tests/lib/rootfs.sh

step() { if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }

step "Checking dependencies (tests/deps.sh)"
tests/deps.sh

if [ "$SILO" = ./silo ]; then
	step "Building silo (make)"
	make --no-print-directory silo
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: containers need root; run 'sudo make demo'" >&2
	exit 1
fi

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/silo-demo.XXXXXX")
ID="demo-$$"
cleanup() {
	"$SILO" delete --force "$ID" >/dev/null 2>&1 || true
	rm -rf "$DEMO"
}
trap cleanup EXIT

step "Building a busybox-static root filesystem in $DEMO/rootfs"
build_rootfs "$DEMO/rootfs"
echo "$(find "$DEMO/rootfs" -type l | wc -l) applets, $(du -sh "$DEMO/rootfs" | cut -f1)"

step "$SILO spec --bundle $DEMO"
"$SILO" spec --bundle "$DEMO"
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo Hello from silo; hostname; id"]' \
	"$DEMO/config.json" > "$DEMO/config.json.new"
mv "$DEMO/config.json.new" "$DEMO/config.json"
jq -c '{args: .process.args, terminal: .process.terminal, hostname: .hostname, root: .root}' "$DEMO/config.json"

step "$SILO run --bundle $DEMO $ID"
"$SILO" run --bundle "$DEMO" "$ID" < /dev/null && rc=0 || rc=$?
echo "(exit status $rc)"
exit "$rc"
