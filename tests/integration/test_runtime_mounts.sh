#!/bin/bash
# crun's `mounts add` / `mounts remove`: bind mounts attached to a running
# container (seen from inside, never on the host), taken away again, and refused
# with the mount's JSON path for hostile or broken input.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/faults.sh"

# A running container ($ID, $PID) with a writable root and, in its image, the
# symlinks a hostile image could hold; $SRC a host directory holding "hello".
start_ct() {
	local b=$T_DIR/b
	make_bundle "$b" '.root.readonly = false'
	mkdir -p "$b/rootfs/srvdir"
	ln -s /proc "$b/rootfs/lnkproc"
	ln -s ../../../../../../../../etc "$b/rootfs/lnkout"
	ln -s /srvdir "$b/rootfs/lnkin"
	# a directory the container's root cannot write (another uid's, 0700), a
	# dangling symlink into it, and links to the container's /sys and /
	mkdir -p "$b/rootfs/locked"
	chown 1234:1234 "$b/rootfs/locked"
	chmod 700 "$b/rootfs/locked"
	ln -s /locked/evil/deeper "$b/rootfs/data"
	ln -s /locked "$b/rootfs/lnklocked"
	ln -s /sys "$b/rootfs/lnksys"
	ln -s /nowhere/deeper "$b/rootfs/dangling"
	RFS=$b/rootfs
	set_args "$b" 'sleep 1000'
	ID=$(new_id)
	run_detached "$ID" "$b"
	PID=$(state_field "$ID" pid)
	SRC=$T_DIR/src
	mkdir -p "$SRC"
	echo hello > "$SRC/hello"
}

# mounts_json FILE DEST [OPTIONS_JSON [SOURCE]]: FILE holds one bind mount (crun's form).
mounts_json() {
	jq -n --arg d "$2" --arg s "${4:-$SRC}" --argjson o "${3:-[\"rbind\"]}" \
		'[{destination: $d, type: "bind", source: $s, options: $o}]' > "$1"
}

# Mount points of the container ($PID) and of the host, one a line.
ct_mounts() { awk '{ print $5 }' "/proc/$PID/mountinfo"; }
# Host mounts whose root is $SRC (a bind of it would show its path there).
# (Other tests may mount things meanwhile: only what names $SRC or our destinations.)
host_src_mounts() {
	awk -v s="$SRC" 'index($4, s) || index($5, s) || $5 ~ /\/(added|ro|one|two|first|killed|x)$/' /proc/self/mountinfo
}

assert_ct_has() { ct_mounts | grep -qxF -- "$1" || fail "the container has no mount at $1: $(ct_mounts | tr '\n' ' ')"; }
assert_ct_lacks() { ! ct_mounts | grep -qxF -- "$1" || fail "the container still has a mount at $1"; }
assert_host_clean() { [ -z "$(host_src_mounts)" ] || fail "a mount of $SRC on the host: $(host_src_mounts)"; }

test_add_remove() {
	start_ct
	mounts_json "$T_DIR/m.json" /added
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	assert_ok silo exec "$ID" cat /added/hello
	assert_eq hello "$OUT" "the file seen through the added mount"
	assert_ct_has /added
	assert_host_clean
	# read-write by default, as at create
	assert_ok silo exec "$ID" sh -c 'echo from-ct > /added/new'
	assert_eq from-ct "$(cat "$SRC/new")" "a write through the mount"
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /added
	assert_fail silo exec "$ID" cat /added/hello
	assert_no_file "$ROOT/$ID/mounts.json"
	# removed once: a second remove is refused
	assert_status 1 silo mounts remove "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/added` is not a mount `silo mounts add` made'
	assert_host_clean
	assert_ok silo delete --force "$ID"
	assert_no_leftovers "$ID"
}

# ro and a file bind, in config.json's form (an object with `mounts`).
test_add_ro_and_file() {
	start_ct
	jq -n --arg s "$SRC" '{mounts: [
		{destination: "/ro", type: "bind", source: $s, options: ["rbind", "ro", "rprivate", "nosuid"]},
		{destination: "/etc/added.conf", source: ($s + "/hello"), options: ["bind"]}]}' > "$T_DIR/m.json"
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	assert_fail silo exec "$ID" touch /ro/x
	assert_contains "$OUT" "Read-only file system"
	assert_ok silo exec "$ID" cat /etc/added.conf
	assert_eq hello "$OUT" "the file bind mount"
	assert_ct_has /etc/added.conf
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /ro
	assert_ct_lacks /etc/added.conf
	assert_host_clean
}

# The config's own mounts and the masked paths are not `mounts remove`'s.
test_remove_refuses_config_mounts() {
	start_ct
	local d
	for d in /dev /proc /proc/kcore /sys/firmware; do
		mounts_json "$T_DIR/m.json" "$d"
		assert_status 1 silo mounts remove "$ID" "$T_DIR/m.json"
		assert_contains "$OUT" "mounts[0].destination: \`$d\` is not a mount \`silo mounts add\` made"
	done
	assert_ct_has /dev
	assert_ct_has /proc
}

# Symlinks of the container cannot lead a mount into procfs nor above its root;
# one that stays inside is resolved inside.
test_hostile_destinations() {
	start_ct
	local before; before=$(ct_mounts | sort | md5sum)
	mounts_json "$T_DIR/m.json" /lnkproc
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/lnkproc` leads into procfs through a symlink'
	mounts_json "$T_DIR/m.json" /lnkproc/sys/kernel
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/lnkproc/sys/kernel` leads into procfs'
	mounts_json "$T_DIR/m.json" /lnkout/x
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/lnkout/x` leads above the container'"'"'s root'
	mounts_json "$T_DIR/m.json" /proc/sys/kernel
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/proc/sys/kernel` is inside /proc'
	mounts_json "$T_DIR/m.json" added
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `added` is not an absolute path'
	mounts_json "$T_DIR/m.json" /a/../../etc
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].destination: `/a/../../etc`: `..` is not allowed'
	mounts_json "$T_DIR/m.json" /
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" "mounts[0].destination: cannot be the container's root"
	assert_eq "$before" "$(ct_mounts | sort | md5sum)" "the container's mounts after the refusals"
	assert_no_file "$ROOT/$ID/mounts.json"
	[ ! -e /etc/x ] || fail "/etc/x made on the host"
	# An absolute symlink of the image is the container's path, not the host's.
	mounts_json "$T_DIR/m.json" /lnkin/x
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	assert_ct_has /srvdir/x
	assert_no_file /srvdir
	assert_ok silo exec "$ID" cat /srvdir/x/hello
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /srvdir/x
	assert_host_clean
}

# A batch whose second mount is refused in the container leaves nothing of the first.
test_batch_all_or_nothing() {
	start_ct
	jq -n --arg s "$SRC" '[{destination: "/first", type: "bind", source: $s, options: ["rbind"]},
		{destination: "/lnkproc", type: "bind", source: $s, options: ["rbind"]}]' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[1].destination'
	assert_ct_lacks /first
	assert_no_file "$ROOT/$ID/mounts.json"
	assert_host_clean
}

test_bad_input() {
	start_ct
	echo 'not json' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" "invalid JSON at line 1"
	echo '[{"destination": "/a", "source": "/tmp"}, {"type": "bind"}]' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" "mounts[1].destination: missing"
	jq -n '[{destination: "/t", type: "tmpfs", source: "tmpfs"}]' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].type: `tmpfs`: only bind mounts'
	mounts_json "$T_DIR/m.json" /a '["rbind","frobnicate"]'
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'mounts[0].options: `frobnicate`: not an option of a bind mount'
	mounts_json "$T_DIR/m.json" /a '["rbind"]' "$T_DIR/missing"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" "mounts[0]: bind source"
	assert_status 1 silo mounts add "$ID" "$T_DIR/no-such-file"
	assert_status 1 silo mounts frob "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" "unknown subcommand"
	assert_status 1 silo mounts add "$ID"
	assert_contains "$OUT" "missing"
	assert_ct_lacks /a
	assert_ct_lacks /t
	assert_no_file "$ROOT/$ID/mounts.json"
	assert_host_clean
}

# Unknown and stopped containers: the wording of silo's other commands.
test_not_running() {
	local b=$T_DIR/b id
	SRC=$T_DIR/src; mkdir -p "$SRC"
	mounts_json "$T_DIR/m.json" /added
	assert_status 1 silo mounts add nosuch-ct "$T_DIR/m.json"
	assert_contains "$OUT" 'container `nosuch-ct` does not exist'
	make_bundle "$b"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_status "$id" stopped
	assert_status 1 silo mounts add "$id" "$T_DIR/m.json"
	assert_contains "$OUT" "container is not running"
	assert_status 1 silo mounts remove "$id" "$T_DIR/m.json"
	assert_contains "$OUT" "container is not running"
	assert_ok silo delete "$id"
	assert_no_leftovers "$id"
}

# A shared host source: the host's mounts under it still reach the container, and
# a mount made in the container inside the added one never reaches the host.
test_no_propagation_to_host() {
	start_ct
	mount --bind "$SRC" "$SRC" || skip "cannot bind $SRC"
	defer umount -R -l "$SRC"
	mount --make-shared "$SRC"
	mkdir -p "$SRC/from-host" "$SRC/from-ct"
	mounts_json "$T_DIR/m.json" /added
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	mount -t tmpfs host-tmp "$SRC/from-host"
	assert_ct_has /added/from-host
	nsenter -t "$PID" -m mount -t tmpfs ct-tmp /added/from-ct || fail "mount in the container"
	assert_ct_has /added/from-ct
	! awk '{ print $5 }' /proc/self/mountinfo | grep -qxF "$SRC/from-ct" ||
		fail "a mount made in the container inside the added mount reached the host"
	umount "$SRC/from-host"
	nsenter -t "$PID" -m umount /added/from-ct
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /added
}

# A container with a user namespace: the helper still attaches and takes away.
test_userns_container() {
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	local b=$T_DIR/b
	mkdir -p "$b"
	build_rootfs "$b/rootfs"
	chown -R 100000:100000 "$b/rootfs"
	make_bundle "$b" '.root.readonly = false | .linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	set_args "$b" 'sleep 1000'
	ID=$(new_id)
	run_detached "$ID" "$b"
	PID=$(state_field "$ID" pid)
	SRC=$T_DIR/src; mkdir -p "$SRC"; echo hello > "$SRC/hello"; chmod 755 "$SRC"
	mounts_json "$T_DIR/m.json" /added '["rbind","ro"]'
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	assert_ok silo exec "$ID" cat /added/hello
	assert_eq hello "$OUT" "the file through the mount, in a user namespace"
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /added
	assert_host_clean
}

# Two adds at once: both land and both are recorded (the container's lock).
test_concurrent_adds() {
	start_ct
	mounts_json "$T_DIR/a.json" /one
	mounts_json "$T_DIR/b.json" /two
	silo mounts add "$ID" "$T_DIR/a.json" > "$T_DIR/a.out" 2>&1 &
	local p=$!
	silo mounts add "$ID" "$T_DIR/b.json" > "$T_DIR/b.out" 2>&1 || fail "second add: $(cat "$T_DIR/b.out")"
	wait "$p" || fail "first add: $(cat "$T_DIR/a.out")"
	assert_ct_has /one
	assert_ct_has /two
	assert_eq 2 "$(jq length "$ROOT/$ID/mounts.json")" "recorded mounts"
	assert_ok silo mounts remove "$ID" "$T_DIR/a.json"
	assert_ok silo mounts remove "$ID" "$T_DIR/b.json"
	assert_ct_lacks /one
	assert_ct_lacks /two
}

# No silo (nor its helper, a fork of it) still running `mounts add` on $ID.
no_add_left() { ! pgrep -f -- "--root $ROOT mounts add $ID" > /dev/null; }

# `mounts add` killed at a sample of its system calls (and its helper at the
# attach): nothing on the host, no process left, and whatever reached the
# container is a recorded mount that `mounts remove` takes away.
test_killed_add() {
	need_strace
	start_ct
	mounts_json "$T_DIR/m.json" /killed
	local args=(mounts add "$ID" "$T_DIR/m.json") n
	env "$(traced_asan_env)" strace -qq -o "$T_DIR/fault.trace" "$SILO" --root "$ROOT" "${args[@]}" \
		> "$T_DIR/fault.out" 2>&1 < /dev/null || fail "recorded run: $(cat "$T_DIR/fault.out")"
	FAULT_SEQ=$T_DIR/fault.seq
	grep -oE '^[a-z_0-9]+\(' "$T_DIR/fault.trace" | tr -d '(' > "$FAULT_SEQ"
	FAULT_N=$(wc -l < "$FAULT_SEQ")
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	for n in $(fault_points 16); do
		fault_kill "$n" "${args[@]}"
		wait_for 5 no_add_left || fail "$FAULT_WHERE: a process is left: $(pgrep -af -- "mounts add $ID")"
		assert_host_clean
		if ct_mounts | grep -qxF /killed; then
			silo mounts remove "$ID" "$T_DIR/m.json" > "$T_DIR/rm.out" 2>&1 ||
				fail "$FAULT_WHERE: the mount left is not removable: $(cat "$T_DIR/rm.out")"
		fi
		assert_ct_lacks /killed
	done
	fault_enough_kills
	# The helper killed at the attach itself: the command fails, nothing is left.
	capture env "$(traced_asan_env)" strace -f -qq -o /dev/null -e trace=move_mount -e inject=move_mount:signal=SIGKILL \
		"$SILO" --root "$ROOT" "${args[@]}"
	[ "$RC" -ne 0 ] || fail "add succeeded with its helper killed"
	assert_contains "$OUT" "the helper in the container died"
	assert_ct_lacks /killed
	assert_host_clean
	assert_ok silo delete --force "$ID"
	assert_no_leftovers "$ID"
}

# Missing components are made as the container's process could make them: never
# where it cannot write (another uid's 0700 directory), never through a dangling
# symlink; ordinary ones still are.
test_create_as_container() {
	start_ct
	local d
	for d in /data /locked/evil/deeper /lnklocked/evil; do
		mounts_json "$T_DIR/m.json" "$d"
		assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
		assert_contains "$OUT" 'mounts[0].destination'
		[ ! -e "$RFS/locked/evil" ] || fail "$d: $(ls -ld "$RFS/locked/evil") made in the locked directory"
	done
	for d in /dangling /dangling/x; do
		mounts_json "$T_DIR/m.json" "$d"
		assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
		assert_contains "$OUT" '`/dangling` is a dangling symlink in the container'
		assert_no_file "$RFS/nowhere"
	done
	jq -n --arg s "$SRC/hello" '[{destination: "/lnklocked/f", source: $s, options: ["bind"]}]' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_no_file "$RFS/locked/f"
	assert_no_file "$ROOT/$ID/mounts.json"
	mounts_json "$T_DIR/m.json" /made/deep
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	assert_ct_has /made/deep
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
}

# The container swaps /d between a symlink to / and a directory while mounts are
# added there: never is the container's root covered.
test_dest_swap_race() {
	start_ct
	mounts_json "$T_DIR/m.json" /d
	nsenter -t "$PID" -m -- sh -c 'while :; do rm -f /d; mkdir /d; rmdir /d; ln -s / /d; done' 2>/dev/null &
	local swapper=$! i
	defer kill "$swapper"
	for i in $(seq 80); do
		if silo mounts add "$ID" "$T_DIR/m.json" > /dev/null 2>&1; then
			silo mounts remove "$ID" "$T_DIR/m.json" > "$T_DIR/rm.out" 2>&1 ||
				fail "try $i: the added mount is not removable: $(cat "$T_DIR/rm.out")"
		fi
		[ "$(ct_mounts | grep -cxF /)" = 1 ] || fail "try $i: a mount over the container's root"
	done
	kill "$swapper"
	wait "$swapper" 2>/dev/null
	assert_host_clean
}

# A destination written with a trailing slash is taken away like any other when a
# later one of the batch is refused.
test_batch_rollback_trailing_slash() {
	start_ct
	jq -n --arg s "$SRC" '[{destination: "/first/", type: "bind", source: $s, options: ["rbind"]},
		{destination: "/lnkproc", type: "bind", source: $s, options: ["rbind"]}]' > "$T_DIR/m.json"
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_ct_lacks /first
	assert_no_file "$ROOT/$ID/mounts.json"
	assert_host_clean
}

# The helper killed after the attach, before its report: the attached mount is
# still taken away (or, failing that, recorded).
test_lost_ack() {
	need_strace
	start_ct
	mounts_json "$T_DIR/m.json" /killed
	capture env "$(traced_asan_env)" strace -f -qq -o /dev/null -e trace=sendmsg -e inject=sendmsg:signal=SIGKILL:when=1 \
		"$SILO" --root "$ROOT" mounts add "$ID" "$T_DIR/m.json"
	[ "$RC" -ne 0 ] || fail "add succeeded with its helper killed: $OUT"
	assert_ct_lacks /killed
	assert_host_clean
}

# The host's procfs or sysfs, /proc and /sys themselves, and what would cover a
# masked or read-only path are refused.
test_refuse_masks() {
	start_ct
	local before; before=$(ct_mounts | sort | md5sum)
	mounts_json "$T_DIR/m.json" /hostproc '["rbind"]' /proc
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'procfs'
	mounts_json "$T_DIR/m.json" /hostsys '["rbind"]' /sys
	assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'sysfs'
	local d
	for d in /proc /sys /sys/firmware /sys/ /lnksys /lnksys/firmware; do
		mounts_json "$T_DIR/m.json" "$d"
		assert_status 1 silo mounts add "$ID" "$T_DIR/m.json"
		assert_contains "$OUT" 'mounts[0].destination'
	done
	assert_eq "$before" "$(ct_mounts | sort | md5sum)" "the container's mounts after the refusals"
	assert_no_file "$ROOT/$ID/mounts.json"
	assert_host_clean
}

# remove's umount2 takes the topmost mount at the name: one the container stacks
# on the added mount meanwhile (here while umount2 is held back by strace) goes
# instead; the recorded one is seen still there, stays recorded, and a second
# remove takes it away.
test_remove_stacked_meanwhile() {
	need_strace
	start_ct
	mounts_json "$T_DIR/m.json" /added
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	(sleep 1; nsenter -t "$PID" -m mount -t tmpfs stacked /added) &
	local p=$!
	capture env "$(traced_asan_env)" strace -f -qq -o /dev/null -e trace=umount2 -e inject=umount2:delay_enter=2500000 \
		"$SILO" --root "$ROOT" mounts remove "$ID" "$T_DIR/m.json"
	wait "$p"
	[ "$RC" -ne 0 ] || fail "remove succeeded though the recorded mount is still there: $(ct_mounts | tr '\n' ' ')"
	assert_ct_has /added
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /added
	assert_host_clean
}

# FILE: a FIFO is refused without waiting for a writer, a huge file unread.
test_file_checks() {
	start_ct
	mkfifo "$T_DIR/fifo"
	capture timeout 10 "$SILO" --root "$ROOT" mounts add "$ID" "$T_DIR/fifo"
	assert_eq 1 "$RC" "mounts add of a FIFO (124: it blocked): $OUT"
	assert_contains "$OUT" "not a regular file"
	head -c $((5 << 20)) /dev/zero > "$T_DIR/big"
	assert_status 1 silo mounts add "$ID" "$T_DIR/big"
	assert_contains "$OUT" "bigger than"
}

# An entry whose mount the container took away itself leaves the record at the
# next add; the record is synced (file and directory).
test_stale_entries_dropped() {
	need_strace
	start_ct
	mounts_json "$T_DIR/a.json" /one
	mounts_json "$T_DIR/b.json" /two
	assert_ok silo mounts add "$ID" "$T_DIR/a.json"
	nsenter -t "$PID" -m umount /one || fail "umount in the container"
	capture env "$(traced_asan_env)" strace -f -qq -o "$T_DIR/sync.trace" -e trace=fsync \
		"$SILO" --root "$ROOT" mounts add "$ID" "$T_DIR/b.json"
	assert_eq 0 "$RC" "add: $OUT"
	assert_eq '["/two"]' "$(jq -c 'map(.destination)' "$ROOT/$ID/mounts.json")" "the record"
	[ "$(grep -c 'fsync(' "$T_DIR/sync.trace")" -ge 2 ] || fail "the record is not synced: $(cat "$T_DIR/sync.trace")"
	assert_ok silo mounts remove "$ID" "$T_DIR/b.json"
	assert_no_file "$ROOT/$ID/mounts.json"
}

# A mount the container stacked on an added one: remove refuses, saying so.
test_remove_covered() {
	start_ct
	mounts_json "$T_DIR/m.json" /added
	assert_ok silo mounts add "$ID" "$T_DIR/m.json"
	nsenter -t "$PID" -m mount -t tmpfs stacked /added || fail "mount in the container"
	assert_status 1 silo mounts remove "$ID" "$T_DIR/m.json"
	assert_contains "$OUT" 'the mount at `/added` is not one `mounts add` made'
	nsenter -t "$PID" -m umount /added
	assert_ok silo mounts remove "$ID" "$T_DIR/m.json"
	assert_ct_lacks /added
}

run_test add_remove test_add_remove
run_test add_ro_and_file test_add_ro_and_file
run_test remove_refuses_config_mounts test_remove_refuses_config_mounts
run_test hostile_destinations test_hostile_destinations
run_test batch_all_or_nothing test_batch_all_or_nothing
run_test bad_input test_bad_input
run_test not_running test_not_running
run_test no_propagation_to_host test_no_propagation_to_host
run_test userns_container test_userns_container
run_test concurrent_adds test_concurrent_adds
run_test killed_add test_killed_add
run_test create_as_container test_create_as_container
run_test dest_swap_race test_dest_swap_race
run_test batch_rollback_trailing_slash test_batch_rollback_trailing_slash
run_test lost_ack test_lost_ack
run_test refuse_masks test_refuse_masks
run_test remove_stacked_meanwhile test_remove_stacked_meanwhile
run_test file_checks test_file_checks
run_test stale_entries_dropped test_stale_entries_dropped
run_test remove_covered test_remove_covered
finish
