#!/bin/bash
# cgroup v2 (unified host): every resource observed working, the eBPF device
# filter, freezing, update, the cgroup namespace, placement and removal; and the
# systemd cgroup driver.  Skips on hybrid and legacy hosts: `make check` runs
# this file in the cgroup v2 test guest (tests/guest/run-guest-tests), the
# systemd_* tests in a guest booted with systemd as PID 1.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
CG=/sys/fs/cgroup

is_unified() { [ "$(stat -fc %T $CG 2>/dev/null)" = cgroup2fs ]; }
need_v2() { is_unified || skip "needs a cgroup v2 (unified) host"; }
need_systemd() {
	need_v2
	[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] || skip "needs systemd as PID 1"
	[ -S /run/dbus/system_bus_socket ] || skip "needs the system bus"
}
# note TEXT: a line for the test's log (shown with VERBOSE=1 or on failure).
note() { echo "# $*" >&2; }
# v2_dir PID: the directory of PID's cgroup.
v2_dir() { local l; l=$(grep '^0::' "/proc/$1/cgroup") && echo "$CG${l#0::}"; }
# cg_key DIR FILE KEY: one value of a flat keyed file (memory.events, cpu.stat).
cg_key() { awk -v k="$3" '$1 == k { print $2 }' "$1/$2"; }
# running ID BUNDLE: run -d, wait for "ready", set PID and DIR.
running() {
	run_detached "$1" "$2"
	wait_output "$1" ready
	PID=$(state_field "$1" pid)
	DIR=$(v2_dir "$PID")
	[ -d "$DIR" ] || fail "no cgroup directory for pid $PID ($DIR)"
}

test_v2_memory_oom_kill() {
	need_v2
	local id b=$T_DIR/b ev=
	id=$(new_id)
	make_bundle "$b" '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	add_out_mount "$b"
	# dd's 64 MiB buffer cannot fit under memory.max = 32 MiB
	set_args "$b" 'echo ready; while [ ! -e /out/go ]; do sleep 0.05; done
		dd if=/dev/zero of=/dev/null bs=64M count=1; echo "dd=$?"; '"$SLEEPER"
	running "$id" "$b"
	assert_eq 33554432 "$(cat "$DIR/memory.max")" "memory.max"
	assert_eq 0 "$(cat "$DIR/memory.swap.max")" "memory.swap.max"
	if silo events --help >/dev/null 2>&1; then
		# a first stats line: events is watching (it counts OOM kills from its start)
		silo events --interval 200ms "$id" > "$T_DIR/events" 2>&1 &
		ev=$!
		defer kill "$ev"
		wait_for 20 grep -q stats "$T_DIR/events" || fail "silo events printed no stats: $(cat "$T_DIR/events")"
	fi
	touch "$b/out/go"
	wait_output "$id" "dd=" 20
	assert_match "$(ct_output "$id")" 'dd=137' "dd's exit status"
	wait_for 5 test "$(cg_key "$DIR" memory.events oom_kill)" -gt 0 ||
		fail "memory.events: $(cat "$DIR/memory.events")"
	note "$(grep dd= "$T_DIR/$id.out"); memory.events: $(tr '\n' ' ' < "$DIR/memory.events")"
	if [ -n "$ev" ]; then
		wait_for 10 grep -q '"type": *"oom"' "$T_DIR/events" ||
			fail "silo events reported no oom: $(show "$(cat "$T_DIR/events")")"
		note "events: $(grep '"type": *"oom"' "$T_DIR/events")"
	fi
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

test_v2_pids_max() {
	need_v2
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.resources.pids = {"limit": 4}'
	# a subshell forks until it fails (a failed fork ends it), the init stays
	set_args "$b" '(for i in 1 2 3 4 5 6; do sleep 30 & done; echo spawned-all) 2>&1; echo ready; '"$SLEEPER"
	running "$id" "$b"
	assert_eq 4 "$(cat "$DIR/pids.max")" "pids.max"
	assert_not_contains "$(ct_output "$id")" spawned-all
	assert_match "$(ct_output "$id")" 'fork|Resource temporarily unavailable' "fork failure past pids.max"
	[ "$(cg_key "$DIR" pids.events max)" -gt 0 ] || fail "pids.events: $(cat "$DIR/pids.events")"
	[ "$(cat "$DIR/pids.current")" -le 4 ] || fail "pids.current $(cat "$DIR/pids.current") > 4"
	note "output: $(ct_output "$id" | tr '\n' ' '); pids.events: $(cat "$DIR/pids.events")"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

test_v2_cpu_max_throttles() {
	need_v2
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.resources.cpu = {"quota": 10000, "period": 100000}'
	set_args "$b" 'echo ready; while :; do :; done'
	running "$id" "$b"
	assert_eq "10000 100000" "$(cat "$DIR/cpu.max")" "cpu.max"
	wait_for 10 test "$(cg_key "$DIR" cpu.stat nr_throttled)" -gt 0 ||
		fail "never throttled: $(tr '\n' ' ' < "$DIR/cpu.stat")"
	note "cpu.stat: $(grep throttled "$DIR/cpu.stat" | tr '\n' ' ')"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

# Device nodes the default allow-list (runc's) does not cover: created in the
# rootfs, since /dev is the container's own tmpfs.  c 1:11 is /dev/kmsg (a
# write-only open needs no capability), c 1:3 a second /dev/null.
device_bundle() {
	make_bundle "$1" "${2:-.}"
	mkdir -p "$1/rootfs/devtest"
	mknod "$1/rootfs/devtest/kmsg" c 1 11
	mknod "$1/rootfs/devtest/null" c 1 3
}

test_v2_devices_ebpf() {
	need_v2
	local id b=$T_DIR/b
	id=$(new_id)
	device_bundle "$b"
	set_args "$b" "$SLEEPER"
	running "$id" "$b"
	# allowed by default: /dev/null, /dev/urandom, and 1:3 under any name
	assert_ok silo exec "$id" sh -c 'echo x > /dev/null && head -c1 /dev/urandom | wc -c && echo y > /devtest/null'
	# not on the list: the eBPF filter refuses the open
	assert_fail silo exec "$id" sh -c ': > /devtest/kmsg'
	assert_contains "$OUT" "Operation not permitted" "open of c 1:11"
	# update with a new list: the old program is replaced, not stacked (an added
	# program could only deny more)
	printf '%s' '{"devices":[{"allow":false,"access":"rwm"},
		{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},
		{"allow":true,"type":"c","major":1,"minor":11,"access":"w"},
		{"allow":false,"type":"c","major":1,"minor":3,"access":"w"}]}' > "$T_DIR/res.json"
	assert_ok silo update --resources "$T_DIR/res.json" "$id"
	assert_ok silo exec "$id" sh -c ': > /devtest/kmsg && head -c1 /devtest/null | wc -c'
	# last match wins: 1:3 is readable, no longer writable
	assert_fail silo exec "$id" sh -c 'echo x > /devtest/null'
	assert_contains "$OUT" "Operation not permitted" "write to c 1:3 after update"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

test_v2_pause_resume() {
	need_v2
	local id b=$T_DIR/b c1 c2 c3
	id=$(new_id)
	make_bundle "$b" '.root.readonly = false'
	set_args "$b" 'trap "exit 0" TERM; echo ready; i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.02; done'
	running "$id" "$b"
	wait_for 10 test -s "/proc/$PID/root/tmp/count" || fail "counter did not start"
	assert_ok silo pause "$id"
	assert_eq paused "$(status_of "$id")" "status after pause"
	assert_eq 1 "$(cat "$DIR/cgroup.freeze")" "cgroup.freeze"
	assert_eq 1 "$(cg_key "$DIR" cgroup.events frozen)" "cgroup.events frozen"
	c1=$(cat "/proc/$PID/root/tmp/count"); sleep 0.5; c2=$(cat "/proc/$PID/root/tmp/count")
	assert_eq "$c1" "$c2" "counter while paused"
	assert_ok silo resume "$id"
	assert_eq 0 "$(cg_key "$DIR" cgroup.events frozen)" "cgroup.events frozen after resume"
	wait_for 5 test "$(cat "/proc/$PID/root/tmp/count")" -gt "$c2" || fail "counter did not continue after resume"
	c3=$(cat "/proc/$PID/root/tmp/count")
	[ "$c3" -gt "$c2" ] || fail "counter $c2 -> $c3"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

test_v2_update() {
	need_v2
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 20}'
	set_args "$b" "$SLEEPER"
	running "$id" "$b"
	assert_eq 67108864 "$(cat "$DIR/memory.max")" "memory.max before"
	assert_ok silo update --memory 128m --pids-limit 50 --cpu-quota 20000 --cpu-period 100000 "$id"
	assert_eq 134217728 "$(cat "$DIR/memory.max")" "memory.max after update"
	assert_eq 50 "$(cat "$DIR/pids.max")" "pids.max after update"
	assert_eq "20000 100000" "$(cat "$DIR/cpu.max")" "cpu.max after update"
	# and the container sees it in its own cgroup namespace
	assert_ok silo exec "$id" cat /sys/fs/cgroup/memory.max
	assert_eq 134217728 "$OUT" "memory.max seen inside"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$PID"
}

test_v2_cgroupns_placement_delete() {
	need_v2
	local id b=$T_DIR/b log
	id=$(new_id)
	make_bundle "$b" '.linux.cgroupsPath = $p' --arg p "/silotest-v2/$id"
	add_out_mount "$b"
	set_args "$b" 'cat /proc/self/cgroup > /out/cgroup; ls /sys/fs/cgroup > /out/files; echo ready; '"$SLEEPER"
	log=$T_DIR/create.log
	# --debug says whether clone3 put the process straight into its cgroup
	"$SILO" --root "$ROOT" --debug create --bundle "$b" "$id" > "$T_DIR/$id.out" 2> "$log" < /dev/null ||
		fail "create failed: $(cat "$log")"
	PID=$(state_field "$id" pid)
	DIR=$CG/silotest-v2/$id
	assert_eq "$DIR" "$(v2_dir "$PID")" "cgroup of the created init"
	grep -qx "$PID" "$DIR/cgroup.procs" || fail "pid $PID not in $DIR/cgroup.procs"
	if ! is_runc; then
		grep -q "cloned into its cgroup" "$log" || fail "not cloned into its cgroup: $(cat "$log")"
	fi
	assert_ok silo start "$id"
	wait_output "$id" ready
	assert_eq "0::/" "$(cat "$b/out/cgroup")" "/proc/self/cgroup inside"
	assert_contains "$(cat "$b/out/files")" memory.max "the container's /sys/fs/cgroup"
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	assert_no_file "$DIR"
	rmdir "$CG/silotest-v2" 2>/dev/null
	assert_no_leftovers "$id" "$PID"
}

test_systemd_no_bus() {
	silo_only "--systemd-cgroup"
	[ ! -S /run/dbus/system_bus_socket ] || skip "this host has a system bus"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	capture silo --systemd-cgroup run --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "--systemd-cgroup without a system bus succeeded"
	assert_contains "$OUT" "systemd cgroup manager: no system bus"
	assert_no_leftovers "$id"
}

test_systemd_scope() {
	need_systemd
	local id b=$T_DIR/b unit
	id=$(new_id)
	unit=silotest-$id.scope
	make_bundle "$b" '.linux.cgroupsPath = $p | .linux.resources.memory = {"limit": 67108864}
		| .linux.resources.pids = {"limit": 30}' --arg p "system.slice:silotest:$id"
	add_out_mount "$b"
	set_args "$b" 'cat /proc/self/cgroup > /out/cgroup; echo ready; '"$SLEEPER"
	silo --systemd-cgroup run -d --bundle "$b" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null ||
		fail "run --systemd-cgroup: $(ct_output "$id")"
	wait_output "$id" ready
	PID=$(state_field "$id" pid)
	DIR=$CG/system.slice/$unit
	assert_eq "$DIR" "$(v2_dir "$PID")" "cgroup of the init"
	assert_eq active "$(systemctl is-active "$unit")" "systemctl is-active $unit"
	assert_match "$(systemctl show -p Delegate "$unit")" 'Delegate=yes'
	assert_eq 67108864 "$(cat "$DIR/memory.max")" "memory.max"
	assert_eq 30 "$(cat "$DIR/pids.max")" "pids.max"
	assert_eq "0::/" "$(cat "$b/out/cgroup")" "/proc/self/cgroup inside"
	# exec lands in the scope too
	assert_ok silo --systemd-cgroup exec "$id" cat /proc/self/cgroup
	assert_eq "0::/" "$OUT" "cgroup of an exec'ed process"
	assert_ok silo --systemd-cgroup update --memory 96m "$id"
	assert_eq 100663296 "$(cat "$DIR/memory.max")" "memory.max after update"
	assert_ok silo --systemd-cgroup delete --force "$id"
	wait_for 5 test ! -e "$DIR" || fail "$DIR left behind"
	capture systemctl is-active "$unit"
	assert_ne active "$OUT" "unit state after delete"
	assert_no_leftovers "$id" "$PID"
	# no cgroupsPath: "system.slice:silo:<id>"; the scope goes when its process
	# exits, and run's own delete then finds it gone
	id=$(new_id)
	jq_edit "$b" 'del(.linux.cgroupsPath)'
	set_args "$b" 'echo done'
	capture silo --debug --systemd-cgroup run --bundle "$b" "$id"
	[ "$RC" -eq 0 ] || fail "run without cgroupsPath: $(show "$OUT")"
	assert_contains "$OUT" "cgroup /system.slice/silo-$id.scope"
	assert_no_file "$CG/system.slice/silo-$id.scope"
	assert_no_leftovers "$id"
}

run_test v2_memory_oom_kill test_v2_memory_oom_kill
run_test v2_pids_max test_v2_pids_max
run_test v2_cpu_max_throttles test_v2_cpu_max_throttles
run_test v2_devices_ebpf test_v2_devices_ebpf
run_test v2_pause_resume test_v2_pause_resume
run_test v2_update test_v2_update
run_test v2_cgroupns_placement_delete test_v2_cgroupns_placement_delete
run_test systemd_no_bus test_systemd_no_bus
run_test systemd_scope test_systemd_scope
