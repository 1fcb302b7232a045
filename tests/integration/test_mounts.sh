#!/bin/bash
# runc's mount behaviours: tmpfs tmpcopyup, a tmpfs keeping its mount point's
# mode, recursive mount attributes (rro, rnosuid, ...) against plain rbind,ro
# (top mount only), and the standard /dev mounts under a read-only bind of /dev.
. "$(dirname "$0")/../lib/common.sh"

# mnt_line PATH [MOUNTINFO]: the mountinfo line for mount point PATH (default $OUT).
mnt_line() { awk -v p="$1" '$5 == p' <<< "${2-$OUT}" | tail -n1; }
# mnt_opts LINE: its per-mount options (field 6), e.g. "ro,nosuid,relatime".
mnt_opts() { awk '{print $6}' <<< "$1"; }

# tmpcopyup: the tmpfs starts with a copy of the mount point's files, dirs,
# symlinks (as symlinks), modes and owners; writes go to the tmpfs, not the
# rootfs.  A destination that is a symlink to a host path is resolved inside the
# rootfs, and nothing of the host directory is copied.
test_tmpcopyup() {
	local b=$T_DIR/b hostdir=$T_DIR/hostdir
	make_bundle "$b" '.mounts += [
		{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","size=1m"]},
		{"destination":"/escape","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","size=1m"]}]'
	mkdir -p "$b/rootfs/data/sub/deeper" "$hostdir"
	echo host-secret > "$hostdir/secret"
	echo content > "$b/rootfs/data/file"
	chown 1234:5678 "$b/rootfs/data/file"; chmod 0604 "$b/rootfs/data/file"
	chown 42:43 "$b/rootfs/data/sub"; chmod 2755 "$b/rootfs/data/sub"
	echo deep > "$b/rootfs/data/sub/deeper/f"
	chmod 1777 "$b/rootfs/data"
	ln -s / "$b/rootfs/data/root-link"
	ln -s ../../../../../.. "$b/rootfs/data/up-link"
	ln -s "$hostdir" "$b/rootfs/escape"
	run_in "$b" 'cd /data && stat -c "%n %a %u:%g %F" . file sub sub/deeper/f root-link up-link
		cat file sub/deeper/f; echo "link=$(readlink root-link) up=$(readlink up-link)"
		echo new > /data/new && echo wrote-new
		echo "escape=$(ls -A /escape)"; cat /proc/self/mountinfo'
	assert_eq 0 "$RC" "exit code ($OUT)"
	assert_match "$(mnt_line /data)" ' - tmpfs ' "/data is a tmpfs"
	assert_contains "$OUT" ". 1777 0:0 directory" "mode of the tmpfs root"
	assert_contains "$OUT" "file 604 1234:5678 regular file" "copied file"
	assert_contains "$OUT" "sub 2755 42:43 directory" "copied directory"
	assert_contains "$OUT" "sub/deeper/f 644 0:0 regular file" "nested file"
	assert_contains "$OUT" "root-link 777 0:0 symbolic link" "symlink copied as a link"
	assert_contains "$OUT" "content"$'\n'"deep" "file contents"
	assert_contains "$OUT" "link=/ up=../../../../../.." "symlink targets"
	assert_contains "$OUT" wrote-new
	assert_no_file "$b/rootfs/data/new"
	assert_eq content "$(cat "$b/rootfs/data/file")" "rootfs file behind the tmpfs"
	assert_contains "$OUT" "escape="$'\n' "the tmpfs reached through a symlink to the host is empty"
	assert_not_contains "$OUT" secret "host directory copied"
	assert_eq host-secret "$(cat "$hostdir/secret")"
	[ -d "$b/rootfs$hostdir" ] || fail "destination not created inside the rootfs"
}

# A tmpfs root takes the mode of the directory it covers (sticky and set-id bits
# included) unless mode= is given; a read-only tmpfs is still made read-only.
test_tmpfs_keeps_mode() {
	local b=$T_DIR/b
	make_bundle "$b" '.mounts += [
		{"destination":"/sticky","type":"tmpfs","source":"tmpfs","options":["size=16k"]},
		{"destination":"/setgid","type":"tmpfs","source":"tmpfs","options":["size=16k","ro"]},
		{"destination":"/given","type":"tmpfs","source":"tmpfs","options":["size=16k","mode=700"]},
		{"destination":"/fresh","type":"tmpfs","source":"tmpfs","options":["size=16k"]}]'
	mkdir -p "$b/rootfs/sticky" "$b/rootfs/setgid" "$b/rootfs/given"
	chmod 1777 "$b/rootfs/sticky"; chmod 2750 "$b/rootfs/setgid"; chmod 1777 "$b/rootfs/given"
	run_in "$b" 'stat -c "%n=%a" /sticky /setgid /given /fresh; touch /setgid/x && echo ro-writable; cat /proc/self/mountinfo'
	assert_eq 0 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" "/sticky=1777"
	assert_contains "$OUT" "/setgid=2750"
	assert_contains "$OUT" "/given=700" "mode= wins over the mount point's mode"
	assert_contains "$OUT" "/fresh=1777" "a tmpfs on a directory silo created: the kernel's default"
	assert_not_contains "$OUT" ro-writable
	assert_match "$(mnt_line /setgid)" ' ro[, ]' "/setgid read-only"
}

# rro makes every mount of an rbind read-only (mount_setattr AT_RECURSIVE); plain
# rbind,ro makes only the top mount read-only, as in runc.  rnosuid/rnodev/rnoexec
# likewise reach the submounts.  Seen from inside (writes, mountinfo) and from the
# host (/proc/PID/mountinfo of the container process).
test_recursive_attrs() {
	local b=$T_DIR/b src=$T_DIR/src id pid host
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=64k tmpfs "$src/sub" || fail "host tmpfs mount failed"
	defer umount -l "$src/sub"
	make_bundle "$b" '.mounts += [
		{"destination":"/rro","type":"bind","source":$s,"options":["rbind","rro","rnosuid","rnodev","rnoexec"]},
		{"destination":"/ro","type":"bind","source":$s,"options":["rbind","ro"]},
		{"destination":"/rrw","type":"bind","source":$s,"options":["rbind","ro","rrw"]}]' --arg s "$src"
	set_args "$b" 'touch /rro/sub/a 2>&1 || echo rro-sub-refused; touch /rro/a 2>&1 || echo rro-top-refused
		touch /ro/sub/b && echo ro-sub-written; touch /ro/b 2>&1 || echo ro-top-refused
		touch /rrw/c && echo rrw-top-written; cat /proc/self/mountinfo'
	id=$(new_id)
	create_ct "$id" "$b"
	pid=$(state_field "$id" pid)
	host=$(cat "/proc/$pid/mountinfo")
	assert_ok silo start "$id"
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	OUT=$(ct_output "$id")
	assert_contains "$OUT" "/rro/sub/a: Read-only file system" "write into a submount of rro"
	assert_contains "$OUT" rro-sub-refused
	assert_contains "$OUT" rro-top-refused
	assert_contains "$OUT" ro-sub-written "a submount of rbind,ro stays writable"
	assert_contains "$OUT" ro-top-refused
	assert_contains "$OUT" rrw-top-written "rrw after ro"
	assert_no_file "$src/a"
	assert_file_exists "$src/sub/b"
	local m
	for m in "$OUT" "$host"; do
		assert_match "$(mnt_opts "$(mnt_line /rro/sub "$m")")" '^ro,nosuid,nodev,noexec' "/rro/sub"
		assert_match "$(mnt_opts "$(mnt_line /rro "$m")")" '^ro,nosuid,nodev,noexec' "/rro"
		assert_match "$(mnt_opts "$(mnt_line /ro "$m")")" '^ro' "/ro"
		assert_match "$(mnt_opts "$(mnt_line /ro/sub "$m")")" '^rw' "/ro/sub"
		assert_match "$(mnt_opts "$(mnt_line /rrw "$m")")" '^rw' "/rrw"
	done
}

# /dev as a read-only bind of a host directory, then devpts, shm and mqueue under
# it: they mount (the bind is made read-only once they are in place, as in runc),
# and silo makes no device nodes in the host's directory.
test_dev_readonly_bind() {
	local b=$T_DIR/b dev=$T_DIR/dev
	mkdir -p "$dev"
	touch "$dev/marker"
	make_bundle "$b" '(.mounts[] | select(.destination == "/dev")) |=
		{"destination":"/dev","type":"bind","source":$d,"options":["rbind","ro","nosuid"]}
		| .linux.maskedPaths = ["/proc/acpi", "/sys/firmware"]' \
		--arg d "$dev"
	run_in "$b" 'ls /dev; touch /dev/x 2>&1 || echo dev-refused; cat /proc/self/mountinfo'
	assert_eq 0 "$RC" "exit code ($OUT)"
	assert_match "$(mnt_line /dev)" ' ro[, ]' "/dev read-only"
	assert_match "$(mnt_line /dev/pts)" ' - devpts ' "/dev/pts"
	assert_match "$(mnt_line /dev/shm)" ' - tmpfs ' "/dev/shm"
	assert_match "$(mnt_line /dev/mqueue)" ' - mqueue ' "/dev/mqueue"
	assert_contains "$OUT" marker "the host directory's content"
	assert_contains "$OUT" dev-refused
	assert_no_file "$dev/x"
	assert_no_file "$dev/null"
	assert_eq "" "$(find "$dev" -mindepth 1 ! -type d ! -name marker)" "nodes or links left in the host directory"
}

run_test tmpcopyup test_tmpcopyup
run_test tmpfs_keeps_mode test_tmpfs_keeps_mode
run_test recursive_attrs test_recursive_attrs
run_test dev_readonly_bind test_dev_readonly_bind
finish
