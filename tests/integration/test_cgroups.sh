#!/bin/bash
# cgroups: placement by cgroupsPath, limits, removal on delete (v1, hybrid or v2).
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

# cgroup_mount CONTROLLER: where a v1 controller ("memory") or the unified
# hierarchy ("") is mounted.
cgroup_mount() {
	if [ -z "$1" ]; then
		awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
	else
		awk -v c="$1" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo
	fi
}
# cgroup_dir PID CONTROLLER: the directory of PID's cgroup for CONTROLLER
# ("" = unified).  Empty when PID has no such hierarchy.
cgroup_dir() {
	local line path mnt
	if [ -z "$2" ]; then
		line=$(grep '^0::' "/proc/$1/cgroup")
	else
		line=$(awk -F: -v c="$2" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print }' "/proc/$1/cgroup")
	fi
	[ -n "$line" ] || return 0
	path=${line#*:*:}
	mnt=$(cgroup_mount "$2")
	[ -n "$mnt" ] && echo "$mnt$path"
}
# main controller for the memory tests
is_v2_only() { [ -z "$(cgroup_mount memory)" ]; }

test_cgroups_path_placement() {
	local id b=$T_DIR/b pid name ctl dir dirs=()
	id=$(new_id)
	name="silotest-$id"
	make_bundle "$b" '.linux.cgroupsPath = $p' --arg p "/$name"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	for ctl in memory pids ""; do
		[ -n "$(cgroup_mount "$ctl")" ] || continue
		dir=$(cgroup_dir "$pid" "$ctl")
		[ -n "$dir" ] || fail "pid $pid has no ${ctl:-unified} cgroup"
		assert_eq "$name" "$(basename "$dir")" "${ctl:-unified} cgroup of pid $pid ($dir)"
		[ -d "$dir" ] || fail "cgroup dir $dir missing"
		grep -qx "$pid" "$dir/cgroup.procs" || fail "pid $pid not in $dir/cgroup.procs"
		dirs+=("$dir")
	done
	[ ${#dirs[@]} -gt 0 ] || skip "no cgroup hierarchy found"
	# seen from inside too (cgroup namespace off: full path)
	assert_match "$(cat "/proc/$pid/cgroup")" "/$name\$" "/proc/$pid/cgroup"
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	for dir in "${dirs[@]}"; do assert_no_file "$dir"; done
	assert_no_leftovers "$id"
}

test_default_cgroup_named_after_id() {
	local id b=$T_DIR/b pid dir
	id=$(new_id)
	make_bundle "$b" 'del(.linux.cgroupsPath)'
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_contains "$(cat "/proc/$pid/cgroup")" "$id" "cgroup of a container without cgroupsPath"
	[ -n "$(cgroup_dirs_of "$id")" ] || fail "no cgroup directory named after $id"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$pid"
}

test_memory_and_pids_limits() {
	local id b=$T_DIR/b pid dir
	id=$(new_id)
	make_bundle "$b" '.linux.cgroupsPath = $p | .linux.resources.memory = {"limit": 67108864}
		| .linux.resources.pids = {"limit": 17}' --arg p "/silotest-$id"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	if is_v2_only; then
		dir=$(cgroup_dir "$pid" "")
		assert_eq 67108864 "$(cat "$dir/memory.max")" "memory.max"
		assert_eq 17 "$(cat "$dir/pids.max")" "pids.max"
	else
		dir=$(cgroup_dir "$pid" memory)
		assert_eq 67108864 "$(cat "$dir/memory.limit_in_bytes")" "memory.limit_in_bytes"
		dir=$(cgroup_dir "$pid" pids)
		[ -z "$dir" ] || assert_eq 17 "$(cat "$dir/pids.max")" "pids.max"
	fi
}

test_pids_limit_enforced() {
	local b=$T_DIR/b
	[ -n "$(cgroup_mount pids)" ] || [ -n "$(cgroup_mount "")" ] || skip "no pids controller"
	make_bundle "$b" '.linux.resources.pids = {"limit": 5}'
	# the shell gives up at the first failed fork; pid 1 exiting ends the sleeps
	run_in "$b" 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all-spawned'
	assert_not_contains "$OUT" all-spawned
	assert_match "$OUT" 'fork|Resource temporarily unavailable|can.t fork' "fork failure past pids.max"
}

test_children_share_cgroup() {
	local id b=$T_DIR/b pid child
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	jq_edit "$b" '.linux.namespaces |= map(select(.type != "pid"))'
	set_args "$b" 'sleep 1000 & echo $! > /out/child; echo ready; wait'
	run_detached "$id" "$b"
	wait_output "$id" ready
	pid=$(state_field "$id" pid)
	child=$(cat "$b/out/child")
	assert_eq "$(cat "/proc/$pid/cgroup")" "$(cat "/proc/$child/cgroup")" "cgroups of init and its child"
	assert_ok silo delete --force "$id"
	wait_for 5 eval '! pid_alive "$child"' || fail "child $child survived delete --force"
	assert_no_leftovers "$id" "$pid"
}

test_cgroup_manager_disabled() {
	silo_only "--cgroup-manager"
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	"$SILO" --root "$ROOT" --cgroup-manager disabled run -d --bundle "$b" "$id" > "$T_DIR/out" 2>&1 < /dev/null ||
		fail "run with --cgroup-manager disabled failed: $(cat "$T_DIR/out")"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_not_contains "$(cat "/proc/$pid/cgroup")" "$id" "cgroup with --cgroup-manager disabled"
	[ -z "$(cgroup_dirs_of "$id")" ] || fail "cgroup created with --cgroup-manager disabled: $(cgroup_dirs_of "$id")"
}

run_test cgroups_path_placement test_cgroups_path_placement
run_test default_cgroup_named_after_id test_default_cgroup_named_after_id
run_test memory_and_pids_limits test_memory_and_pids_limits
run_test pids_limit_enforced test_pids_limit_enforced
run_test children_share_cgroup test_children_share_cgroup
run_test cgroup_manager_disabled test_cgroup_manager_disabled
