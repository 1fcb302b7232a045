#!/bin/bash
# Root filesystem and mounts: readonly root, pivot/no-pivot, masked and
# readonly paths, bind and tmpfs mounts, /dev, devices, sysctl, propagation,
# symlinked mount destinations.
. "$(dirname "$0")/../lib/common.sh"

# mnt_line PATH: the container's mountinfo line for mount point PATH (from $OUT).
mnt_line() { awk -v p="$1" '$5 == p' <<< "$OUT" | tail -n1; }

test_readonly_root() {
	local b=$T_DIR/b
	make_bundle "$b" '.root.readonly=true'
	run_in "$b" 'touch /newfile && echo wrote; touch /etc/x && echo wrote2; echo done'
	assert_eq 0 "$RC"
	assert_contains "$OUT" "Read-only file system" "error of touch /newfile"
	assert_not_contains "$OUT" wrote
	assert_no_file "$b/rootfs/newfile"
	run_ok "$b" 'cat /proc/self/mountinfo'
	assert_match "$(mnt_line /)" ' ro[, ]' "mount options of /"
}

test_writable_root() {
	local b=$T_DIR/b
	make_bundle "$b" '.root.readonly=false'
	run_ok "$b" 'echo inside > /newfile && cat /newfile'
	assert_contains "$OUT" inside
	assert_eq inside "$(cat "$b/rootfs/newfile")" "file written into the rootfs"
}

test_pivot_and_no_pivot() {
	local b=$T_DIR/b flag
	make_bundle "$b"
	set_args "$b" 'ls /; echo "host-visible=$(ls -d '"$WORK"' 2>/dev/null)"; cat /etc/hostname'
	for flag in "" --no-pivot; do
		local id; id=$(new_id)
		# shellcheck disable=SC2086
		capture silo run $flag --bundle "$b" "$id"
		assert_eq 0 "$RC" "exit code with '${flag:-pivot_root}' ($OUT)"
		assert_contains "$OUT" bin "ls / with '${flag:-pivot_root}'"
		assert_contains "$OUT" "host-visible=" ""
		assert_not_contains "$OUT" "host-visible=$WORK" "host dirs visible with '${flag:-pivot_root}'"
		assert_contains "$OUT" silo-test "/etc/hostname of the rootfs"
	done
}

test_default_mounts() {
	local b=$T_DIR/b
	make_bundle "$b"
	run_ok "$b" 'cat /proc/self/mountinfo'
	assert_match "$(mnt_line /proc)" ' - proc ' "/proc"
	assert_match "$(mnt_line /dev)" ' - tmpfs ' "/dev"
	assert_match "$(mnt_line /dev/pts)" ' - devpts ' "/dev/pts"
	assert_match "$(mnt_line /dev/shm)" ' - tmpfs ' "/dev/shm"
	assert_match "$(mnt_line /dev/mqueue)" ' - mqueue ' "/dev/mqueue"
	assert_match "$(mnt_line /sys)" ' - sysfs ' "/sys"
	assert_match "$(mnt_line /sys)" ' ro[, ]' "/sys read-only"
}

test_masked_paths() {
	local b=$T_DIR/b
	make_bundle "$b" '.linux.maskedPaths += ["/etc/secret", "/etc/secret-dir"]'
	mkdir -p "$b/rootfs/etc/secret-dir"
	echo top-secret > "$b/rootfs/etc/secret"
	echo top-secret > "$b/rootfs/etc/secret-dir/file"
	run_ok "$b" 'echo "kcore=$(wc -c < /proc/kcore 2>&1)"; echo "secret=$(cat /etc/secret)"; echo "dir=$(ls -A /etc/secret-dir)"; echo "fw=$(ls -A /sys/firmware | wc -l)"; echo "keys=$(cat /proc/keys | wc -c)"'
	# /proc/kcore only exists with CONFIG_PROC_KCORE
	[ ! -e /proc/kcore ] || assert_contains "$OUT" "kcore=0" "/proc/kcore"
	assert_contains "$OUT" "secret="$'\n' "masked file"
	assert_not_contains "$OUT" top-secret "masked content"
	assert_contains "$OUT" "dir="$'\n' "masked directory"
	assert_contains "$OUT" "fw=0" "/sys/firmware"
	assert_contains "$OUT" "keys=0" "/proc/keys"
}

test_readonly_paths() {
	local b=$T_DIR/b
	make_bundle "$b" '.linux.readonlyPaths += ["/etc"]'
	run_in "$b" 'echo 1 > /proc/sys/kernel/ns_last_pid && echo wrote-sys; cat /proc/self/mountinfo'
	assert_not_contains "$OUT" wrote-sys "write to /proc/sys"
	assert_match "$(mnt_line /proc/sys)" ' ro[, ]' "/proc/sys mount"
	assert_match "$(mnt_line /etc)" ' ro[, ]' "/etc mount"
	[ ! -e /proc/sysrq-trigger ] || assert_match "$(mnt_line /proc/sysrq-trigger)" ' ro[, ]' "/proc/sysrq-trigger mount"
	assert_match "$(mnt_line /proc/bus)" ' ro[, ]' "/proc/bus mount"
}

test_bind_mounts() {
	local b=$T_DIR/b
	mkdir -p "$T_DIR/ro-src" "$T_DIR/rw-src"
	echo from-host > "$T_DIR/ro-src/file"
	echo single > "$T_DIR/one-file"
	make_bundle "$b" '.mounts += [
		{"destination":"/data/ro","type":"bind","source":$ro,"options":["rbind","ro"]},
		{"destination":"/data/rw","type":"bind","source":$rw,"options":["rbind","rw"]},
		{"destination":"/data/file","type":"none","source":$f,"options":["bind","ro"]}]' \
		--arg ro "$T_DIR/ro-src" --arg rw "$T_DIR/rw-src" --arg f "$T_DIR/one-file"
	run_in "$b" 'cat /data/ro/file; touch /data/ro/new && echo ro-writable; echo written > /data/rw/out; cat /data/file; echo x > /data/file && echo file-writable; cat /proc/self/mountinfo'
	assert_contains "$OUT" from-host "content of the ro bind mount"
	assert_contains "$OUT" single "content of the file bind mount"
	assert_not_contains "$OUT" ro-writable
	assert_not_contains "$OUT" file-writable
	assert_no_file "$T_DIR/ro-src/new"
	assert_eq written "$(cat "$T_DIR/rw-src/out" 2>/dev/null)" "file written through the rw bind mount"
	assert_eq single "$(cat "$T_DIR/one-file")" "host file behind the ro file mount"
	assert_match "$(mnt_line /data/ro)" ' ro[, ]' "/data/ro mount"
	assert_match "$(mnt_line /data/rw)" ' rw[, ]' "/data/rw mount"
}

test_tmpfs_size_mode() {
	local b=$T_DIR/b
	make_bundle "$b" '.mounts += [{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=1m","mode=0710"]}]'
	run_in "$b" 'stat -c "mode=%a" /scratch; dd if=/dev/zero of=/scratch/big bs=64k count=32 2>&1; echo "size=$(wc -c < /scratch/big)"; cat /proc/self/mountinfo'
	assert_contains "$OUT" "mode=710" "mode of /scratch"
	assert_contains "$OUT" "No space left on device" "writing 2 MiB into a 1 MiB tmpfs"
	assert_contains "$OUT" "size=1048576" "bytes that fit"
	assert_match "$(mnt_line /scratch)" ' - tmpfs ' "/scratch"
	assert_match "$(mnt_line /scratch)" 'size=1024k' "/scratch size option"
	assert_match "$(mnt_line /scratch)" 'nosuid' "/scratch nosuid"
}

test_dev_contents() {
	local b=$T_DIR/b d
	make_bundle "$b"
	run_ok "$b" 'for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo "chr:$d"; done
		for l in fd stdin stdout stderr ptmx; do echo "lnk:$l=$(readlink /dev/$l)"; done
		[ -d /dev/pts ] && echo dir:pts; [ -d /dev/shm ] && echo dir:shm
		echo discard > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1
		echo x 2>&1 > /dev/full || echo full-fails; stat -c "%t:%T %a" /dev/null; ls /dev'
	for d in null zero full random urandom tty; do assert_contains "$OUT" "chr:$d" "/dev/$d"; done
	assert_contains "$OUT" "lnk:fd=/proc/self/fd"
	assert_contains "$OUT" "lnk:stdin=/proc/self/fd/0"
	assert_contains "$OUT" "lnk:stdout=/proc/self/fd/1"
	assert_contains "$OUT" "lnk:stderr=/proc/self/fd/2"
	assert_contains "$OUT" "lnk:ptmx=pts/ptmx"
	assert_contains "$OUT" "dir:pts"
	assert_contains "$OUT" "dir:shm"
	assert_contains "$OUT" null-ok
	assert_contains "$OUT" " 00 00 00 00" "/dev/zero"
	assert_contains "$OUT" full-fails "/dev/full"
	assert_contains "$OUT" "1:3 666" "/dev/null numbers and mode"
	# no host devices leak in
	assert_not_contains "$OUT" vda "host block devices in /dev"
}

test_linux_devices() {
	local b=$T_DIR/b
	make_bundle "$b" '.linux.devices = [{"path":"/dev/silo-null","type":"c","major":1,"minor":3,"fileMode":432,"uid":0,"gid":0},
		{"path":"/dev/sub/silo-zero","type":"c","major":1,"minor":5,"fileMode":438}]
		| .linux.resources.devices += [{"allow":true,"type":"c","major":1,"minor":5,"access":"rwm"}]'
	run_ok "$b" 'stat -c "%F %t:%T %a %u:%g" /dev/silo-null /dev/sub/silo-zero; echo hi > /dev/silo-null && echo write-ok; head -c 2 /dev/sub/silo-zero | od -An -tx1'
	assert_contains "$OUT" "character special file 1:3 660 0:0" "/dev/silo-null"
	assert_contains "$OUT" "character special file 1:5 666" "/dev/sub/silo-zero"
	assert_contains "$OUT" write-ok
	assert_contains "$OUT" " 00 00" "read from /dev/sub/silo-zero"
}

test_sysctl() {
	local b=$T_DIR/b host
	host=$(cat /proc/sys/net/ipv4/ip_forward)
	make_bundle "$b" '.linux.sysctl = {"net.ipv4.ip_forward":"1", "kernel.shmmax":"123456789"}'
	run_ok "$b" 'echo "fwd=$(cat /proc/sys/net/ipv4/ip_forward)"; echo "shmmax=$(cat /proc/sys/kernel/shmmax)"'
	assert_contains "$OUT" "fwd=1" "net.ipv4.ip_forward inside"
	assert_contains "$OUT" "shmmax=123456789" "kernel.shmmax inside"
	assert_eq "$host" "$(cat /proc/sys/net/ipv4/ip_forward)" "host's ip_forward"
}

# rootfsPropagation: with "rslave", a mount made on the host under the (shared)
# rootfs after start shows up inside; with "rprivate" it does not.  (Plain
# "slave" applies to / only, and the rootfs mount is then made private.)
propagation_case() {
	local prop=$1 want=$2 b=$T_DIR/b-$1 id
	id=$(new_id)
	make_bundle "$b" '.linux.rootfsPropagation = $p' --arg p "$prop"
	mount --bind "$b/rootfs" "$b/rootfs" || fail "bind mount of the rootfs failed"
	defer umount -R "$b/rootfs"
	mount --make-rshared "$b/rootfs"
	set_args "$b" 'echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo "seen=$(grep -c " /mnt " /proc/self/mountinfo)"'
	run_detached "$id" "$b"
	wait_output "$id" ready
	mount -t tmpfs -o size=16k tmpfs "$b/rootfs/mnt" || fail "mount on the host failed"
	touch "$b/rootfs/tmp/go"
	wait_output "$id" "seen="
	assert_contains "$(ct_output "$id")" "seen=$want" "host mount visible inside with rootfsPropagation=$prop"
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	umount "$b/rootfs/mnt"
}
test_rootfs_propagation() {
	propagation_case rslave 1
	propagation_case rprivate 0
}

# Symlinks in the rootfs that point at host paths: whether the runtime then
# succeeds (runc: resolves them inside the rootfs) or refuses, nothing on the
# host may be created, mounted on or written.
test_symlink_mount_destination_stays_inside() {
	local b=$T_DIR/b victim=$T_DIR/victim
	mkdir -p "$T_DIR/src"
	echo from-src > "$T_DIR/src/marker"
	echo from-src-file > "$T_DIR/src-file"
	echo precious > "$T_DIR/host-file"
	make_bundle "$b" '.mounts += [
		{"destination":"/evil-abs","type":"bind","source":$s,"options":["rbind","ro"]},
		{"destination":"/evil-rel/sub","type":"tmpfs","source":"tmpfs","options":["size=16k"]},
		{"destination":"/evil-file","type":"bind","source":$f,"options":["bind","rw"]}]' \
		--arg s "$T_DIR/src" --arg f "$T_DIR/src-file"
	ln -s "$victim/abs" "$b/rootfs/evil-abs"
	ln -s "../../../../../../../../../..$victim/rel" "$b/rootfs/evil-rel"
	ln -s "$T_DIR/host-file" "$b/rootfs/evil-file"
	run_in "$b" 'cat /evil-abs/marker; ls -d /evil-rel/sub && echo rel-ok; cat /evil-file; echo overwritten > /evil-file'
	assert_no_file "$victim"
	assert_eq precious "$(cat "$T_DIR/host-file")" "host file behind the symlink"
	local m; m=$(awk -v v="$T_DIR" 'index($5, v) == 1' /proc/self/mountinfo)
	[ -z "$m" ] || fail "mount on a host path: $m"
	if [ "$RC" -eq 0 ]; then   # it ran: the mounts must be where the symlinks lead inside the rootfs
		assert_contains "$OUT" from-src "bind mount reached through the symlink"
		assert_contains "$OUT" rel-ok
		assert_contains "$OUT" from-src-file "file bind mount reached through the symlink"
		[ -d "$b/rootfs$victim/abs" ] || fail "destination was not created inside the rootfs ($b/rootfs$victim/abs)"
	fi
}

# The common image layout /var/run -> /run (absolute) and /lock -> run/lock
# (relative), with mounts below them: resolved inside the rootfs.
test_symlink_mount_destination_in_rootfs() {
	local b=$T_DIR/b
	make_bundle "$b" '.mounts += [
		{"destination":"/var/run/sub","type":"tmpfs","source":"tmpfs","options":["size=16k"]},
		{"destination":"/lock/inner","type":"tmpfs","source":"tmpfs","options":["size=16k"]}]'
	mkdir -p "$b/rootfs/run/lock"
	rmdir "$b/rootfs/var/run" 2>/dev/null || true
	ln -s /run "$b/rootfs/var/run"
	ln -s run/lock "$b/rootfs/lock"
	run_ok "$b" 'cat /proc/self/mountinfo'
	assert_match "$(mnt_line /run/sub)" ' - tmpfs ' "mount through /var/run -> /run"
	assert_match "$(mnt_line /run/lock/inner)" ' - tmpfs ' "mount through /lock -> run/lock"
	[ -d "$b/rootfs/run/sub" ] || fail "/run/sub not created in the rootfs"
	[ -L "$b/rootfs/var/run" ] || fail "the /var/run symlink was replaced"
}

test_mount_destination_created() {
	local b=$T_DIR/b
	make_bundle "$b" '.mounts += [{"destination":"/new/deep/dir","type":"tmpfs","source":"tmpfs","options":["size=16k"]}]'
	run_ok "$b" 'grep " /new/deep/dir " /proc/self/mountinfo'
	assert_contains "$OUT" tmpfs
	[ -d "$b/rootfs/new/deep/dir" ] || fail "destination not created in the rootfs"
}

# A read-only root without a /proc mount (runc and crun run it).
test_readonly_root_without_proc() {
	local b=$T_DIR/b
	make_bundle "$b" '.root.readonly = true | .mounts |= map(select(.destination != "/proc"))'
	add_out_mount "$b"
	run_ok "$b" 'touch /x 2>/dev/null && echo root-writable; echo ok > /out/f; echo done'
	assert_contains "$OUT" done
	assert_not_contains "$OUT" root-writable "the root must be read-only"
	assert_eq ok "$(cat "$b/out/f")" "the rw mount under a read-only root"
}

# A device path with a trailing slash is the device (runc cleans the path).
test_device_path_trailing_slash() {
	local b=$T_DIR/b
	make_bundle "$b" '.linux.devices = [{"path":"/dev/silo-slash/","type":"c","major":1,"minor":3,"fileMode":438}]'
	run_ok "$b" 'stat -c "%F %t:%T" /dev/silo-slash; echo hi > /dev/silo-slash && echo write-ok'
	assert_contains "$OUT" "character special file 1:3" "/dev/silo-slash"
	assert_contains "$OUT" write-ok
}

run_test readonly_root test_readonly_root
run_test writable_root test_writable_root
run_test pivot_and_no_pivot test_pivot_and_no_pivot
run_test default_mounts test_default_mounts
run_test masked_paths test_masked_paths
run_test readonly_paths test_readonly_paths
run_test bind_mounts test_bind_mounts
run_test tmpfs_size_mode test_tmpfs_size_mode
run_test dev_contents test_dev_contents
run_test linux_devices test_linux_devices
run_test sysctl test_sysctl
run_test rootfs_propagation test_rootfs_propagation
run_test symlink_mount_destination_stays_inside test_symlink_mount_destination_stays_inside
run_test symlink_mount_destination_in_rootfs test_symlink_mount_destination_in_rootfs
run_test mount_destination_created test_mount_destination_created
run_test readonly_root_without_proc test_readonly_root_without_proc
run_test device_path_trailing_slash test_device_path_trailing_slash
