#!/bin/bash
# shellcheck shell=bash
# A CRIU that works on this kernel, for the checkpoint/restore tests.
#
# Debian bookworm's criu 3.17.1 fails on kernels >= 6.13 ("vdso: Unexpected rt
# vDSO area bounds"), and trixie's 4.1.1 cannot dump a TCP socket on kernels
# >= 6.16 ("Can't get 1:16 opt", CRIU issue #2718, fixed in 4.2).  This unpacks
# CRIU and its libraries (glibc included) from Debian sid's packages (trixie's
# when sid's cannot be had; $SILO_CRIU_SUITE chooses) into a folder, without touching the
# host's apt configuration or its libc, and writes a `criu` wrapper there that
# runs it with the bundle's own ld.so (so the host tools CRIU spawns, such as ip,
# iptables-save and tar, keep their own libraries).  libcriu's swrk mode works
# through the wrapper.
#
#   tests/lib/criu.sh [DIR]        set up (cached) and print the wrapper's path
#   . tests/lib/criu.sh; criu_setup [DIR]   the same from a test
#
# DIR defaults to $SILO_CRIU_BUNDLE or /var/tmp/silo-criu-bundle (~20 MB).  The
# first run needs the Debian mirrors (apt-get, ~5 s); later runs reuse the
# folder.  If $CRIU is set, that binary is used as it is; else the system's
# `criu` when `criu check` passes and it can dump TCP sockets on this kernel.

# criu_setup [DIR]: prints the criu binary to use; non-zero (with a message on
# stderr) when no working CRIU can be had.
criu_setup() {
	if [ -n "${CRIU:-}" ]; then
		"$CRIU" --version >/dev/null 2>&1 || { echo "criu_setup: \$CRIU=$CRIU does not run" >&2; return 1; }
		echo "$CRIU"
		return 0
	fi
	# The system's own CRIU when it works on this kernel (e.g. Debian 12's 3.17
	# on its own 6.1 kernel); setting SILO_CRIU_BUNDLE skips it.
	local sys
	if [ -z "${SILO_CRIU_BUNDLE:-}" ] && sys=$(command -v criu) && "$sys" check >/dev/null 2>&1 &&
		_criu_tcp_ok "$sys"; then
		echo "$sys"
		return 0
	fi
	local b=${1:-${SILO_CRIU_BUNDLE:-/var/tmp/silo-criu-bundle}}
	if [ -x "$b/criu" ] && "$b/criu" --version >/dev/null 2>&1; then
		echo "$b/criu"
		return 0
	fi
	mkdir -p "$(dirname "$b")" || return 1
	# One set-up at a time (parallel test runs share the folder).
	(
		flock 9 || exit 1
		if [ -x "$b/criu" ] && "$b/criu" --version >/dev/null 2>&1; then exit 0; fi
		for suite in ${SILO_CRIU_SUITE:-sid trixie}; do
			_criu_bundle "$b" "$suite" && exit 0
			echo "criu.sh: no CRIU from $suite" >&2
		done
		exit 1
	) 9>"$b.lock" >&2 || { echo "criu_setup: cannot set up CRIU 4 in $b" >&2; return 1; }
	echo "$b/criu"
}

# criu_test_init: for a test file (after tests/lib/common.sh): sets CRIU up once
# and exports it as $CRIU, or keeps why it cannot in $CRIU_SKIP.
criu_test_init() {
	CRIU_SKIP=""
	if ! CRIU=$(criu_setup 2>"$WORK/criu-setup.log"); then
		CRIU_SKIP="no working CRIU: $(tail -n1 "$WORK/criu-setup.log")"
	fi
	export CRIU
}

# need_criu: skips the test when criu_test_init found no working CRIU or when
# libcriu.so.2, which silo loads for checkpoint and restore, is missing.
need_criu() {
	[ -z "$CRIU_SKIP" ] || skip "$CRIU_SKIP"
	[ -e /usr/lib/x86_64-linux-gnu/libcriu.so.2 ] || ldconfig -p 2>/dev/null | grep -q libcriu.so.2 ||
		skip "no libcriu.so.2 (Debian package criu)"
}

# _criu_tcp_ok CRIU: false for a CRIU older than 4.2 on a kernel >= 6.16 (it
# cannot dump TCP sockets there: CRIU issue #2718).
_criu_tcp_ok() {
	local v k
	v=$("$1" --version 2>/dev/null | awk '/^Version:/ { print $2 }')
	k=$(uname -r)
	_ver_ge "$v" 4.2 || ! _ver_ge "${k%%-*}" 6.16
}
_ver_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

_criu_bundle() {
	local b=$1 suite=$2 a=$1.apt r=$1/root triplet ld o d
	case "$(uname -m)" in
	x86_64) triplet=x86_64-linux-gnu ld=ld-linux-x86-64.so.2 ;;
	aarch64) triplet=aarch64-linux-gnu ld=ld-linux-aarch64.so.1 ;;
	*) echo "criu.sh: no recipe for $(uname -m)" >&2; return 1 ;;
	esac
	command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "criu.sh: needs apt-get and dpkg" >&2; return 1; }
	[ -r /etc/apt/sources.list.d/debian.sources ] || { echo "criu.sh: no /etc/apt/sources.list.d/debian.sources" >&2; return 1; }
	mkdir -p "$a/sources.d" "$a/lists/partial" "$a/cache/archives/partial" "$a/debs" || return 1
	# The host's mirror, another suite (only the main archive: no -security suite for sid).
	local uri
	uri=$(awk '/^URIs:/ && !/security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"${uri:-http://deb.debian.org/debian}" "$suite" > "$a/sources.d/criu.sources"
	o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$a/sources.d"
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Dir::State::status=/dev/null
		-o APT::Sandbox::User=root)
	apt-get "${o[@]}" -qq update >/dev/null || return 1
	# criu and everything it needs at run time (its own glibc included).
	local pkgs
	pkgs=$(apt-cache "${o[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances criu | grep -v '^ ' | grep -v '<' | sort -u)
	[ -n "$pkgs" ] || return 1
	# shellcheck disable=SC2086
	(cd "$a/debs" && rm -f ./*.deb && apt-get "${o[@]}" -qq download $pkgs >/dev/null) || return 1
	rm -rf "$r" && mkdir -p "$r" || return 1
	for d in "$a"/debs/*.deb; do dpkg -x "$d" "$r" || return 1; done
	rm -rf "${r:?}/usr/share" "${r:?}/usr/lib/$triplet/gconv" "${r:?}/etc" "${a:?}"
	cat > "$b/criu.new" <<-W
	#!/bin/sh
	exec "$r/usr/lib/$triplet/$ld" --library-path "$r/usr/lib/$triplet" "$r/usr/sbin/criu" "\$@"
	W
	chmod +x "$b/criu.new" && mv "$b/criu.new" "$b/criu" || return 1
	"$b/criu" --version | head -n1
}

# A container's own network namespace carrying work over `lo` (test_checkpoint's
# and test_migrate's own-namespace tests): LO_APP (prepended to the container's
# command) answers "pong" on 127.0.0.1:7000 and keeps a TCP connection between two
# of its processes over `lo`, the receiving end writing the last line it got to
# /out/lo; lo_count BUNDLE is that line, lo_count_above BUNDLE N whether it is past N.
lo_count() { cat "$1/out/lo" 2>/dev/null || echo 0; }
lo_count_above() { [ "$(lo_count "$1")" -gt "$2" ]; }
LO_APP='nc -ll -p 7000 -e echo pong &
nc -l -p 7001 -e sh -c '\''while read l; do echo $l > /out/lo.new && mv /out/lo.new /out/lo; done'\'' &
sleep 0.3; i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done | nc 127.0.0.1 7001 &
'

# Run as a script: set up and print the path.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	criu_setup "$@"
fi
