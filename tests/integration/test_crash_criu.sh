#!/bin/bash
# Crash safety of checkpoint and restore (docs/reliability.md): `silo restore` and
# `silo checkpoint` killed with SIGKILL at their system calls (tests/lib/faults.sh).
#
# A killed restore must be visible to `silo list` and removed by `silo delete
# --force` with everything it made: the restored processes, the cgroup in every
# hierarchy, the state directory (with its criu-root mount point).  A killed
# checkpoint must leave the container running, or paused (a freeze silo made at
# CRIU's "pre-dump" that it did not live to undo: `silo resume` recovers it), or
# stopped when CRIU had finished the dump; and neither a lock nor a half-written
# image directory may keep the next checkpoint into the same directory from
# working.  A deterministic sample here; FAULTS_ALL=1 (make check-faults) tries
# every point.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/faults.sh"
. "$TESTS_DIR/lib/criu.sh"

criu_test_init

# The container checkpointed: `sleep MARK`, a number of its own, so that a
# restored process that survived is found by its command line (a restored
# process keeps the checkpointed container's command line, not the new id).
MARK=$((900000 + RANDOM))
criu_bundle() { make_bundle "$1"; jq_edit "$1" '.process.args=["sleep",$m]' --arg m "$MARK"; }
mark_procs() { pgrep -fx -- "sleep $MARK" || true; }

# A checkpoint of a running `sleep MARK` in $T_DIR/img, made once per test.
make_image() {
	local id
	id=$(new_id)
	# (stdio to a file opened O_APPEND: CRIU checks the size of any other file)
	silo run -d --bundle "$T_DIR/b" "$id" >> "$T_DIR/ctr.out" 2>&1 < /dev/null || fail "run -d: $(cat "$T_DIR/ctr.out")"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_file_exists "$T_DIR/img/inventory.img"
	wait_for 10 test -z "$(mark_procs)" || fail "the checkpointed container still runs: $(mark_procs)"
	silo delete --force "$id" > /dev/null 2>&1
}

# After each recovery: no restored process of any run is left.
check_no_mark() {
	local p
	p=$(mark_procs)
	[ -z "$p" ] || fail "kill $FAULT_WHERE: restored process(es) left: $p"
}

# criu_kill_points SAMPLE SILO_ARGS_WITH_@ID@...: kill_points of test_crash.sh,
# plus the restored-process check after each recovery.
criu_kill_points() {
	local sample=$1 n
	shift
	fault_args "$@"
	fault_record "${FAULT_ARGS[@]}"
	check_no_mark
	# silo waits for its children (CRIU's probes) on a pidfd, not in a sleep loop
	# whose number of calls, and so of kill points, grows with the machine's load.
	local sleeps; sleeps=$(grep -cx clock_nanosleep "$FAULT_SEQ")
	[ "$sleeps" -le 5 ] || fail "silo slept $sleeps times: it polls its children"
	# Plus, whatever the sample, the points in silo's talk with CRIU: after each
	# message from CRIU (a notification: silo acts on it, e.g. freezes the
	# container at "pre-dump" or records the restored init at
	# "setup-namespaces", then answers) and two calls later (mid-action).
	for n in $({ fault_points "$sample"; grep -nx recvmsg "$FAULT_SEQ" | cut -d: -f1 |
		awk -v max="$FAULT_N" '{ for (i = 1; i <= 3; i += 2) if ($1 + i <= max) print $1 + i }'; } | sort -nu); do
		fault_args "$@"
		kill_at "$n" "${FAULT_ARGS[@]}"
		wait_for 5 test -z "$(mark_procs)"
		check_no_mark
	done
	fault_enough_kills
}

test_restore_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	need_criu
	criu_bundle "$T_DIR/b"
	make_image
	criu_kill_points 8 restore -d --bundle "$T_DIR/b" --image-path "$T_DIR/img" @ID@
}

# Killed while CRIU restores (after the cgroup exists, while silo waits for
# CRIU's answer): the restore is listed, as stopped, and `delete --force` removes
# the half-restored processes with their cgroup.
test_restore_killed_in_criu_is_listed() {
	local id n
	silo_only "crash safety is silo's promise"
	need_strace
	need_criu
	criu_bundle "$T_DIR/b"
	make_image
	id=$(fault_id)
	fault_record restore -d --bundle "$T_DIR/b" --image-path "$T_DIR/img" "$id"
	# The last recvmsg before the end is silo waiting for CRIU's final answer:
	# the restored tree exists then, in the container's cgroup.
	n=$(grep -nxE 'recvmsg|recvfrom|read' "$FAULT_SEQ" | tail -n 3 | head -n1 | cut -d: -f1)
	id=$(fault_id)
	fault_kill "$n" restore -d --bundle "$T_DIR/b" --image-path "$T_DIR/img" "$id"
	assert_eq 137 "$RC" "exit status of the restore killed at $FAULT_WHERE"
	[ -e "$ROOT/$id" ] || fail "no state directory after the restore killed at $FAULT_WHERE"
	assert_ok silo list
	assert_match "$OUT" "^$id +[0-9]+ +stopped " "list shows the killed restore as stopped ($FAULT_WHERE)"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	wait_for 5 test -z "$(mark_procs)"
	check_no_mark
}

# A restore killed while its createRuntime hook runs, the hook having started a
# setsid'd daemon and a double-forked grandchild: `delete --force` kills those
# (the hook is recorded in hook.pid with its tracker, as create's), the restored
# init and its cgroup.
test_restore_hook_killed() {
	local id rpid
	silo_only "crash safety is silo's promise"
	need_criu
	need_cmd setsid
	criu_bundle "$T_DIR/b"
	make_image
	setsid_hook_on "$T_DIR/b" 60
	id=$(new_id)
	"$SILO" --root "$ROOT" restore -d --bundle "$T_DIR/b" --image-path "$T_DIR/img" "$id" \
		>> "$T_DIR/restore.out" 2>&1 < /dev/null &
	rpid=$!
	wait_for 60 test -s "$FAULT_PIDS/grandchild" || { kill -9 "$rpid"; fail "the restore's hook never ran: $(cat "$T_DIR/restore.out")"; }
	kill -9 "$rpid"
	wait "$rpid" 2>/dev/null
	assert_ok silo list
	assert_match "$OUT" "^$id +[0-9]+ +stopped " "list shows the killed restore as stopped"
	assert_ok silo delete --force "$id"
	hook_escapees_gone "after the restore killed in its hook and delete --force"
	assert_no_leftovers "$id"
	wait_for 5 test -z "$(mark_procs)"
	check_no_mark
}

# FAULT_PREP for checkpoint: a running `sleep MARK`.
prep_running() {
	"$SILO" --root "$ROOT" run -d --bundle "$T_DIR/b" "$1" >> "$T_DIR/$1.out" 2>&1 < /dev/null ||
		fail "run -d $1: $(cat "$T_DIR/$1.out")"
}
# FAULT_CHECK for checkpoint: the container is running (paused: resumed first)
# or stopped by a dump that CRIU finished (or gone: the checkpoint completed);
# a running one can be checkpointed
# again into the same directory (no stale lock, no half image in the way), and
# that image restores.
check_checkpoint_recovers() {
	local id=$1 st img=$T_DIR/img-$1
	st=$(status_of "$id")
	case $st in
	paused) assert_ok silo resume "$id"; st=running ;;
	running | stopped) ;;
	# the checkpoint was complete (it deletes the container it dumped, as runc)
	'') st=gone ;;
	*) fail "status '$st' after a killed checkpoint" ;;
	esac
	if [ "$st" = running ]; then
		capture timeout 60 "$SILO" --root "$ROOT" checkpoint --image-path "$img" "$id"
		[ "$RC" -eq 0 ] || fail "checkpoint again into $img exited $RC: $OUT"
	fi
	# Stopped or checkpointed now: the image must restore (under the same id, once
	# the stopped container is deleted).
	assert_ok silo delete --force "$id"
	# (not through capture: the restored process would hold its pipe)
	timeout 60 "$SILO" --root "$ROOT" restore -d --bundle "$T_DIR/b" --image-path "$img" "$id" \
		>> "$T_DIR/$id.out" 2>&1 < /dev/null ||
		fail "restore of $img (status was $st) failed: $(tail -n 5 "$T_DIR/$id.out")"
	assert_eq running "$(status_of "$id")" "the restored container"
	rm -rf "$img"
}

test_checkpoint_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	need_criu
	criu_bundle "$T_DIR/b"
	FAULT_PREP=prep_running FAULT_CHECK=check_checkpoint_recovers
	criu_kill_points 6 checkpoint --image-path "$T_DIR/img-@ID@" @ID@
}

# Every kill point (FAULTS_ALL=1) takes minutes, not seconds.
# CRIU is slow here (a restore takes seconds on this shared machine).
TEST_TIMEOUT=${TEST_TIMEOUT_CRIU:-240}
[ "${FAULTS_ALL:-0}" != 1 ] || TEST_TIMEOUT=${FAULTS_TIMEOUT:-3600}

run_test restore_kill_points test_restore_kill_points
run_test restore_killed_in_criu_is_listed test_restore_killed_in_criu_is_listed
run_test restore_hook_killed test_restore_hook_killed
run_test checkpoint_kill_points test_checkpoint_kill_points
