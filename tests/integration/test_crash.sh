#!/bin/bash
# Crash safety: a `silo create` (start, run -d, delete) killed with SIGKILL at any
# of its system calls never leaves an invisible container.  After the kill,
# `silo list` shows whatever has a state directory, `silo delete --force` (and a
# plain `delete` for a create that died) removes it, and no process, cgroup, mount
# or state entry is left.  A killed exec, kill, update, pause or resume leaves its
# container running (not frozen; an exec'd process only inside its cgroup) and
# deletable; a killed sandbox is cleaned by its watchdog and `sandbox --prune`.
# The kill points come from tests/lib/faults.sh: a
# deterministic sample here; FAULTS_ALL=1 (make check-faults) tries every one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/faults.sh"

# kill_points SAMPLE SILO_ARGS_WITH_@ID@...: record the command once, then kill
# it at each point of fault_points SAMPLE; @ID@ stands for a fresh id per run.
kill_points() {
	local sample=$1 n
	shift
	fault_args "$@"
	fault_record "${FAULT_ARGS[@]}"
	for n in $(fault_points "$sample"); do
		fault_args "$@"
		kill_at "$n" "${FAULT_ARGS[@]}"
	done
	fault_enough_kills
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

# A hook whose child leaves the hook's process group and session (setsid, as a
# daemon does), and then a grandchild of that one, double-forked: neither is in
# the group hook.pid names.  Killed while silo waits for the hook, the delete
# must still find them; so must a hook that times out.
test_create_hook_setsid_killed() {
	local b=$T_DIR/b n id
	silo_only "crash safety is silo's promise"
	need_strace
	need_cmd setsid
	make_bundle "$b"
	setsid_hook_on "$b" 0.2
	id=$(fault_id)
	fault_record create --bundle "$b" "$id"
	# (what a hook that exited left running is its own business: not silo's to kill)
	kill -9 $(cat "$FAULT_PIDS/daemon" "$FAULT_PIDS/grandchild") 2>/dev/null
	# Killed while it waits in its second poll (the hook has said `started`): the
	# hook's sh, its setsid'd daemon and the double-forked grandchild all run.
	n=$(point_after poll 2)
	kill_at "$((n + 1))" create --bundle "$b" "$(fault_id)"
	[ -s "$FAULT_PIDS/daemon" ] || fail "the hook had not started its daemon at the kill point"
	hook_escapees_gone "after the create killed at $FAULT_WHERE and delete --force"
}

test_hook_setsid_timeout() {
	local b=$T_DIR/b id
	silo_only "what a timed-out hook started is killed with it"
	need_cmd setsid
	make_bundle "$b"
	setsid_hook_on "$b" 30 '{"timeout": 1}'
	id=$(new_id)
	assert_fail silo create --bundle "$b" "$id"
	assert_contains "$OUT" "timed out"
	[ -s "$FAULT_PIDS/daemon" ] || fail "the hook had not started its daemon"
	hook_escapees_gone "after a createRuntime hook timed out"
	assert_no_leftovers "$id"
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

# A state directory without state.json (a create killed between its mkdir and its
# first write): `state` shows it as `list` does (stopped, pid 0; creating while
# a silo command holds its lock), so that a client that asks `state` before it
# deletes sees a container to delete; `delete --force` removes it.
test_bare_state_dir() {
	local id
	silo_only "runc says such a container does not exist, and leaves the directory"
	id=$(fault_id)
	mkdir "$ROOT/$id"
	assert_ok silo state "$id"
	assert_eq stopped "$(jq -r .status <<< "$OUT")" "status of a bare state directory"
	assert_eq 0 "$(jq -r .pid <<< "$OUT")" "pid of a bare state directory"
	assert_eq "$id" "$(jq -r .id <<< "$OUT")" "id of a bare state directory"
	# while someone holds its lock (a create between mkdir and its first write)
	assert_eq creating "$(flock "$ROOT/$id" "$SILO" --root "$ROOT" state "$id" | jq -r .status)" \
		"status of a bare state directory under a lock"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	assert_fail silo state "$id"
	assert_contains "$OUT" "does not exist"
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

# ---------------------------------------------------------------- commands on a running container
# exec, kill, pause, resume and update work on a running container (FAULT_PREP),
# which must outlive the killed command: FAULT_CHECK looks at it before the
# recovery (`silo delete --force`, by kill_at).

# exec_in_cgroup ID: ID is running and every process that names ID on its command
# line (the exec'd `sh -c ... ID`, or a silo of the killed exec that survived it)
# is in the container's cgroup, the same as its init's in every hierarchy.  A
# child of the killed silo may still be on its way out: a few seconds to settle.
exec_in_cgroup() {
	local id=$1 init p want
	init=$(state_field "$id" pid)
	want=$(cat "/proc/$init/cgroup" 2>/dev/null) || return 1
	for p in $(pgrep -f -- "$id"); do
		[ "$p" != "$init" ] || continue
		pid_alive "$p" || continue
		[ "$(cat "/proc/$p/cgroup" 2>/dev/null)" = "$want" ] || { echo "$p"; return 1; }
	done
}
check_exec_survivor() {
	local id=$1 p
	assert_eq running "$(status_of "$id")" "the container after a killed exec"
	wait_for 5 exec_in_cgroup "$id" || {
		p=$(exec_in_cgroup "$id")
		fail "process ${p:-?} outside the container's cgroup: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	}
}

test_exec_detached_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_running FAULT_CHECK=check_exec_survivor
	kill_points 8 exec -d @ID@ sh -c 'sleep 30; true' @ID@
}

test_exec_foreground_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_running FAULT_CHECK=check_exec_survivor
	kill_points 8 exec @ID@ sh -c 'sleep 0.2; true' @ID@
}

# check_still_running ID: a killed kill or update leaves the container as it was.
check_still_running() { assert_eq running "$(status_of "$1")" "the container after the killed command"; }

test_kill_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	# (TERM: `sleep` as pid 1 has no handler, so the container survives it)
	FAULT_PREP=prep_running FAULT_CHECK=check_still_running
	kill_points 6 kill @ID@
}

test_update_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_running FAULT_CHECK=check_update_recovers
	kill_points 6 update --memory 64m --pids-limit 50 @ID@
}
# The recovery of a killed update is the same update, run again.
check_update_recovers() {
	check_still_running "$1"
	assert_ok silo update --memory 64m --pids-limit 50 "$1"
}

# check_not_frozen ID: after a killed pause or resume the container is running or
# paused; a paused one resumes; then it must really run: an exec completes (a
# frozen cgroup would hold it forever).
check_not_frozen() {
	local id=$1 st
	st=$(status_of "$id")
	case $st in
	paused) assert_ok silo resume "$id" ;;
	running) ;;
	*) fail "status '$st' after a killed pause/resume" ;;
	esac
	assert_eq running "$(status_of "$id")" "status after the recovery"
	capture timeout 10 "$SILO" --root "$ROOT" exec "$id" true
	[ "$RC" -eq 0 ] || fail "the container does not run after the recovery (status $st, exec exited $RC: $OUT)"
}
prep_paused() {
	prep_running "$1"
	"$SILO" --root "$ROOT" pause "$1" > /dev/null 2>&1 < /dev/null || fail "pause $1"
}

test_pause_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_running FAULT_CHECK=check_not_frozen
	kill_points 8 pause @ID@
}

test_resume_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sleeper_bundle "$T_DIR/b"
	FAULT_PREP=prep_paused FAULT_CHECK=check_not_frozen
	kill_points 8 resume @ID@
}

# ---------------------------------------------------------------- sandbox
# A killed `silo sandbox` has no id the client knows: its watchdog cleans up, and
# what a user runs afterwards is `silo sandbox --prune`.  With WATCHDOG=kill the
# watchdog is killed too, right after silo (prune alone must then do all of it).
# silo_of MARK: the silo processes (the killed silo's watchdog: a fork, with its
# command line) of the sandbox whose command names MARK.
silo_of() {
	local p
	for p in $(pgrep -f -- "$1"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in silo | silo-watchdog) pid_alive "$p" && echo "$p" ;; esac
	done
}
no_silo_of() { [ -z "$(silo_of "$1")" ]; }
sandbox_kill_points() {
	local sample=$1 wd=$2 n mark p
	. "$TESTS_DIR/lib/sandbox.sh"
	ensure_rootfs
	mark=$(fault_id)
	fault_record sandbox --rootfs "$ROOTFS" -- sh -c 'sleep 1; true' "$mark"
	# Plus the first writes: a file written atomically (the bundle's owner, its
	# config.json) is a temporary file until its rename.
	for n in $({ fault_points "$sample"; grep -nx write "$FAULT_SEQ" | head -n 4 | cut -d: -f1; } | sort -nu); do
		fault_kill "$n" sandbox --rootfs "$ROOTFS" -- sh -c 'sleep 1; true' "$mark"
		if [ "$wd" = kill ]; then
			for p in $(silo_of "$mark"); do kill -9 "$p"; done
		fi
		wait_for 20 no_silo_of "$mark" ||
			fail "kill $FAULT_WHERE: silo processes still running: $(silo_of "$mark")"
		capture silo sandbox --prune
		[ "$RC" -eq 0 ] || fail "kill $FAULT_WHERE: sandbox --prune exited $RC: $OUT"
		( assert_sandbox_clean ) || fail "kill $FAULT_WHERE: $(cat "$T_DIR/reason")"
		for p in $(pgrep -f -- "$mark"); do
			pid_alive "$p" && fail "kill $FAULT_WHERE: process $p left: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
		done
	done
	fault_enough_kills
}
test_sandbox_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sandbox_kill_points 8 keep
}
test_sandbox_and_watchdog_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	sandbox_kill_points 8 kill
}

# Even a sample is dozens of runs: on a loaded machine more than the default 30 s.
[ "${TEST_TIMEOUT:-30}" -ge 180 ] || TEST_TIMEOUT=180
# Every kill point (FAULTS_ALL=1) takes minutes, not seconds.
[ "${FAULTS_ALL:-0}" != 1 ] || TEST_TIMEOUT=${FAULTS_TIMEOUT:-1800}

run_test create_kill_points test_create_kill_points
run_test create_hook_kill_points test_create_hook_kill_points
run_test create_hook_setsid_killed test_create_hook_setsid_killed
run_test hook_setsid_timeout test_hook_setsid_timeout
run_test create_killed_then_plain_delete test_create_killed_then_plain_delete
run_test create_in_progress_is_listed test_create_in_progress_is_listed
run_test bare_state_dir test_bare_state_dir
run_test start_kill_points test_start_kill_points
run_test run_detached_kill_points test_run_detached_kill_points
run_test delete_kill_points test_delete_kill_points
run_test exec_detached_kill_points test_exec_detached_kill_points
run_test exec_foreground_kill_points test_exec_foreground_kill_points
run_test kill_kill_points test_kill_kill_points
run_test update_kill_points test_update_kill_points
run_test pause_kill_points test_pause_kill_points
run_test resume_kill_points test_resume_kill_points
run_test sandbox_kill_points test_sandbox_kill_points
run_test sandbox_and_watchdog_kill_points test_sandbox_and_watchdog_kill_points
