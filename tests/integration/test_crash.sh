#!/bin/bash
# Crash safety: a `silo create` (start, run -d, delete) killed with SIGKILL at any
# of its system calls never leaves an invisible container.  After the kill,
# `silo list` shows whatever has a state directory, `silo delete --force` (and a
# plain `delete` for a create that died) removes it, and no process, cgroup, mount
# or state entry is left.  The kill points come from tests/lib/faults.sh: a
# deterministic sample here; FAULTS_ALL=1 (make check-faults) tries every one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/faults.sh"

# kill_points SAMPLE SILO_ARGS_WITH_@ID@...: record the command once, then kill
# it at each point of fault_points SAMPLE; @ID@ stands for a fresh id per run.
kill_points() {
	local sample=$1 n id a args
	shift
	id=$(fault_id)
	args=(); for a; do args+=("${a//@ID@/$id}"); done
	fault_record "${args[@]}"
	for n in $(fault_points "$sample"); do
		id=$(fault_id)
		args=(); for a; do args+=("${a//@ID@/$id}"); done
		kill_at "$n" "${args[@]}"
	done
	echo "kill points: $FAULT_RUNS tried, $FAULT_HITS killed, of $FAULT_N calls" >&2
	# A run that was not killed (the recorded call did not come) proves nothing:
	# most must be real kills.
	[ "$FAULT_HITS" -ge $((FAULT_RUNS * 3 / 4)) ] ||
		fail "only $FAULT_HITS of $FAULT_RUNS runs were killed: the injection does not work"
}

# The point just after the k-th (default: last) call named NAME of the recording.
point_after() {
	local name=$1 k=${2:-0} lines
	lines=$(grep -nx -- "$name" "$FAULT_SEQ" | cut -d: -f1)
	[ -n "$lines" ] || fail "the recorded run made no $name call"
	if [ "$k" -eq 0 ]; then tail -n1 <<< "$lines"; else sed -n "${k}p" <<< "$lines"; fi |
		awk '{ print $1 + 1 }'
}

test_create_kill_points() {
	local b=$T_DIR/b
	silo_only "crash safety is silo's promise"
	need_strace
	make_bundle "$b"
	kill_points 40 create --bundle "$b" @ID@
}

# A createRuntime hook that leaves a child of its own running while silo waits
# for it: sh (its pid in FAULT_PIDS/sh) starts `sleep 30` (FAULT_PIDS/sleep), says
# so on stdout (so silo's second poll returns there, deterministically), then
# kills the sleep itself and exits.  Killed during the hook, silo must not leave
# either behind.
hook_bundle() {
	local b=$1 h
	make_bundle "$b"
	h=$(jq -n --arg d "$FAULT_PIDS" '{path: "/bin/sh", args: ["sh", "-c",
		"echo $$ > \($d)/sh; sleep 30 & echo $! > \($d)/sleep; echo started; sleep 0.1; kill $!; wait"]}')
	jq_edit "$b" '.hooks.createRuntime = [$h]' --argjson h "$h"
}

test_create_hook_kill_points() {
	local b=$T_DIR/b n
	silo_only "crash safety is silo's promise"
	need_strace
	FAULT_PIDS=$T_DIR/pids
	mkdir -p "$FAULT_PIDS"
	hook_bundle "$b"
	kill_points 40 create --bundle "$b" @ID@
	# The point that matters most, whatever the sample: silo waits in its second
	# poll (the first finds the hook's stdin writable for the state) while the
	# hook's sh and sleep run.
	n=$(point_after poll 2)
	kill_at "$((n + 1))" create --bundle "$b" "$(fault_id)"
	[ -s "$FAULT_PIDS/sleep" ] || fail "the hook had not started its sleep at the kill point"
}

# Killed while it waits for the container process (READY not yet there): the
# container is listed as stopped, and a plain delete removes all of it.
test_create_killed_then_plain_delete() {
	local b=$T_DIR/b id n
	silo_only "crash safety is silo's promise"
	need_strace
	make_bundle "$b"
	id=$(fault_id)
	fault_record create --bundle "$b" "$id"
	for n in "$(grep -nx recvmsg "$FAULT_SEQ" | head -n1 | cut -d: -f1)" "$(point_after recvmsg)"; do
		id=$(fault_id)
		fault_kill "$n" create --bundle "$b" "$id"
		assert_eq 137 "$RC" "exit status of the create killed at $FAULT_WHERE"
		assert_ok silo list
		assert_match "$OUT" "^$id +[0-9]+ +stopped " "list shows the killed create as stopped ($FAULT_WHERE)"
		assert_eq stopped "$(status_of "$id")" "status of the killed create ($FAULT_WHERE)"
		assert_ok silo delete "$id"
		assert_no_leftovers "$id"
	done
}

# While a create is in progress (here: in its createRuntime hook), list and state
# show the container as creating.
test_create_in_progress_is_listed() {
	local b=$T_DIR/b id h pid list st
	silo_only "runc does not list a container before its state exists"
	make_bundle "$b"
	h=$(jq -n --arg d "$T_DIR" '{path: "/bin/sh", args: ["sh", "-c",
		"touch \($d)/in-hook; while [ ! -e \($d)/go ]; do sleep 0.05; done"]}')
	jq_edit "$b" '.hooks.createRuntime = [$h]' --argjson h "$h"
	id=$(new_id)
	silo create --bundle "$b" "$id" > "$T_DIR/create.out" 2>&1 < /dev/null &
	pid=$!
	wait_for 10 test -e "$T_DIR/in-hook" || { touch "$T_DIR/go"; fail "the createRuntime hook never ran"; }
	capture silo list
	list=$OUT
	st=$(status_of "$id")
	touch "$T_DIR/go"
	assert_match "$list" "^$id +[0-9]+ +creating " "list during create"
	assert_eq creating "$st" "status during create"
	wait "$pid" || fail "create failed: $(cat "$T_DIR/create.out")"
	assert_eq created "$(status_of "$id")" "status after create"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

sleeper_bundle() { make_bundle "$1"; set_args "$1" 'sleep 30'; }

# FAULT_PREP for start: a created container.
prep_created() {
	"$SILO" --root "$ROOT" create --bundle "$T_DIR/b" "$1" > "$T_DIR/$1.out" 2>&1 < /dev/null ||
		fail "create $1: $(cat "$T_DIR/$1.out")"
}
# FAULT_PREP for delete: a running container.
prep_running() {
	prep_created "$1"
	"$SILO" --root "$ROOT" start "$1" > /dev/null 2>&1 < /dev/null || fail "start $1"
}

test_start_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_created
	kill_points 15 start @ID@
}

test_run_detached_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	kill_points 20 run -d --bundle "$T_DIR/b" @ID@
}

test_delete_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_running
	kill_points 15 delete --force @ID@
}

# Every kill point (FAULTS_ALL=1) takes minutes, not seconds.
[ "${FAULTS_ALL:-0}" != 1 ] || TEST_TIMEOUT=${FAULTS_TIMEOUT:-1800}

run_test create_kill_points test_create_kill_points
run_test create_hook_kill_points test_create_hook_kill_points
run_test create_killed_then_plain_delete test_create_killed_then_plain_delete
run_test create_in_progress_is_listed test_create_in_progress_is_listed
run_test start_kill_points test_start_kill_points
run_test run_detached_kill_points test_run_detached_kill_points
run_test delete_kill_points test_delete_kill_points
