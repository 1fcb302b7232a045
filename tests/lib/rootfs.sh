# shellcheck shell=bash
# build_rootfs DIR: a small root filesystem made of busybox-static (one ~2 MB
# binary plus one symlink per applet), /etc/passwd with root and nobody
# (65534), /etc/group, and the usual empty mount points.
# Sourced by tests/lib/common.sh and tests/demo.sh.
BUSYBOX=${BUSYBOX:-/bin/busybox}

build_rootfs() {
	local d=$1 a
	if ! file_is_static "$BUSYBOX"; then
		echo "build_rootfs: $BUSYBOX is missing or not static (install busybox-static)" >&2
		return 1
	fi
	mkdir -p "$d"/{bin,sbin,etc,proc,sys,dev,tmp,root,home,run,var,mnt}
	chmod 1777 "$d/tmp"
	cp "$BUSYBOX" "$d/bin/busybox"
	for a in $("$d/bin/busybox" --list); do
		[ "$a" = busybox ] || [ -e "$d/bin/$a" ] || ln -s busybox "$d/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$d/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
	echo 'silo-test' > "$d/etc/hostname"
}

# file_is_static FILE: an executable without a program interpreter.  The
# PT_INTERP string (/lib64/ld-linux-...) of a dynamic ELF sits right after the
# program headers, within the first few hundred bytes.
file_is_static() {
	[ -x "$1" ] && ! head -c 4096 "$1" | grep -aq '/ld-'
}
