#!/bin/bash
# shellcheck shell=bash
# A CRIU that works on this kernel, for the checkpoint/restore tests.
#
# Debian bookworm's criu 3.17.1 fails on kernels >= 6.13 ("vdso: Unexpected rt
# vDSO area bounds").  This unpacks CRIU 4.1.1 and its libraries (glibc
# included) from Debian trixie's packages into a folder, without touching the
# host's apt configuration or its libc, and writes a `criu` wrapper there that
# runs it with trixie's own ld.so (so the host tools CRIU spawns, such as ip,
# iptables-save and tar, keep their own libraries).  libcriu's swrk mode works
# through the wrapper.
#
#   tests/lib/criu.sh [DIR]        set up (cached) and print the wrapper's path
#   . tests/lib/criu.sh; criu_setup [DIR]   the same from a test
#
# DIR defaults to $SILO_CRIU_BUNDLE or /var/tmp/silo-criu-bundle (~16 MB).  The
# first run needs the Debian mirrors (apt-get, ~5 s); later runs reuse the
# folder.  If $CRIU is set, that binary is used as it is and nothing is set up.

# criu_setup [DIR]: prints the criu binary to use; non-zero (with a message on
# stderr) when no working CRIU can be had.
criu_setup() {
	if [ -n "${CRIU:-}" ]; then
		"$CRIU" --version >/dev/null 2>&1 || { echo "criu_setup: \$CRIU=$CRIU does not run" >&2; return 1; }
		echo "$CRIU"
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
		_criu_bundle "$b"
	) 9>"$b.lock" >&2 || { echo "criu_setup: cannot set up CRIU 4 in $b" >&2; return 1; }
	echo "$b/criu"
}

_criu_bundle() {
	local b=$1 a=$1.apt r=$1/root triplet ld o d
	case "$(uname -m)" in
	x86_64) triplet=x86_64-linux-gnu ld=ld-linux-x86-64.so.2 ;;
	aarch64) triplet=aarch64-linux-gnu ld=ld-linux-aarch64.so.1 ;;
	*) echo "criu.sh: no recipe for $(uname -m)" >&2; return 1 ;;
	esac
	command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "criu.sh: needs apt-get and dpkg" >&2; return 1; }
	[ -r /etc/apt/sources.list.d/debian.sources ] || { echo "criu.sh: no /etc/apt/sources.list.d/debian.sources" >&2; return 1; }
	mkdir -p "$a/sources.d" "$a/lists/partial" "$a/cache/archives/partial" "$a/debs" || return 1
	# The host's mirrors, trixie suites.
	sed -e 's/^Suites:.*-security.*/Suites: trixie-security/' \
		-e 's/^Suites: bookworm .*/Suites: trixie trixie-updates/' \
		/etc/apt/sources.list.d/debian.sources > "$a/sources.d/trixie.sources"
	o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$a/sources.d"
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
	apt-get "${o[@]}" -qq update >/dev/null || return 1
	(cd "$a/debs" && rm -f ./*.deb && apt-get "${o[@]}" -qq download criu libcompel1 libbsd0 libc6 \
		libffi8 libgmp10 libgnutls30t64 libhogweed6t64 libidn2-0 libjansson4 libmd0 libmnl0 libnet1 \
		libnettle8t64 libnftables1 libnftnl11 libnl-3-200 libp11-kit0 libprotobuf-c1 libtasn1-6 \
		libunistring5 libuuid1 libxtables12 >/dev/null) || return 1
	rm -rf "$r" && mkdir -p "$r" || return 1
	for d in "$a"/debs/*.deb; do dpkg -x "$d" "$r" || return 1; done
	rm -rf "$r/usr/share" "$r/usr/lib/$triplet/gconv" "$r/etc" "$a/cache"
	cat > "$b/criu.new" <<-W
	#!/bin/sh
	exec "$r/usr/lib/$triplet/$ld" --library-path "$r/usr/lib/$triplet" "$r/usr/sbin/criu" "\$@"
	W
	chmod +x "$b/criu.new" && mv "$b/criu.new" "$b/criu" || return 1
	"$b/criu" --version | head -n1
}

# Run as a script: set up and print the path.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	criu_setup "$@"
fi
