#!/bin/bash
# SILO_PHASE_FD: the phase marks of `run` and `exec` (lib/runtime/phase.c) that
# `make bench` turns into the per-phase breakdown of docs/performance.md.
. "$(dirname "$0")/../lib/common.sh"

# phase_names FILE: the mark names in the order of their timestamps.
phase_names() { sort -n -k3 "$1" | awk '{ print $1 }' | tr '\n' ' '; }

test_run_phases() {
	silo_only "SILO_PHASE_FD is silo's"
	local id b=$T_DIR/b f=$T_DIR/phases names
	id=$(new_id)
	make_bundle "$b"
	# The container lists its open fds: the phase fd (9) must not be among them.
	set_args "$b" 'ls /proc/self/fd | tr "\n" " "'
	SILO_PHASE_FD=9 "$SILO" --root "$ROOT" run --bundle "$b" "$id" > "$T_DIR/out" 2>&1 9> "$f" < /dev/null ||
		fail "run with SILO_PHASE_FD failed: $(show "$(cat "$T_DIR/out")")"
	assert_not_contains " $(cat "$T_DIR/out")" " 9 " "the container's open fds"
	# Every line is NAME PID NANOSECONDS.
	grep -Evq '^[a-z-]+ [0-9]+ [0-9]+$' "$f" && fail "malformed phase line: $(show "$(cat "$f")")"
	names=$(phase_names "$f")
	# The parent's phases, in order, and the child's (its own pid) in order between.
	assert_match "$names" '^start parsed planned state-dir cgroup .*cloned .*cgroup-enter .*state .*exited deleted $' "run phases"
	assert_match "$names" 'child .*child-ns .*child-mounts .*child-rootfs .*child-started .*child-exec ' "child phases"
	# Two processes wrote marks: silo and the container process.
	assert_eq 2 "$(awk '{ print $2 }' "$f" | sort -u | wc -l)" "processes that wrote marks"
	# Timestamps are CLOCK_MONOTONIC, the same clock as ours (bash's EPOCHREALTIME is
	# not: compare with /proc/uptime's order of magnitude instead, in seconds).
	local first up
	first=$(sort -n -k3 "$f" | awk 'NR == 1 { printf "%d", $3 / 1e9 }')
	up=$(awk '{ printf "%d", $1 }' /proc/uptime)
	[ $((up - first)) -ge 0 ] && [ $((up - first)) -le 60 ] || fail "first mark at ${first}s, uptime ${up}s"
	assert_no_leftovers "$id"
}

test_exec_phases() {
	silo_only "SILO_PHASE_FD is silo's"
	local id b=$T_DIR/b f=$T_DIR/phases
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'echo ready; while :; do sleep 0.05; done'
	run_detached "$id" "$b"
	wait_output "$id" ready
	SILO_PHASE_FD=9 "$SILO" --root "$ROOT" exec "$id" /bin/true 9> "$f" < /dev/null > /dev/null 2>&1 ||
		fail "exec with SILO_PHASE_FD failed"
	assert_match "$(phase_names "$f")" '^start planned .*cloned .*exited $' "exec phases"
	assert_match "$(phase_names "$f")" 'child .*child-exec ' "exec child phases"
	assert_ok silo delete --force "$id"
}

test_phases_off() {
	silo_only "SILO_PHASE_FD is silo's"
	local id b=$T_DIR/b f=$T_DIR/phases
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'true'
	# Unset, empty or not a number: no mark anywhere, and run works as always.
	for v in unset "" x9 -1; do
		: > "$f"
		if [ "$v" = unset ]; then
			"$SILO" --root "$ROOT" run --bundle "$b" "$id" 9> "$f" < /dev/null > /dev/null 2>&1
		else
			SILO_PHASE_FD=$v "$SILO" --root "$ROOT" run --bundle "$b" "$id" 9> "$f" < /dev/null > /dev/null 2>&1
		fi || fail "run with SILO_PHASE_FD=$v failed"
		assert_eq 0 "$(wc -c < "$f")" "bytes written with SILO_PHASE_FD=$v"
	done
	# A closed fd: marks are lost, run is not.
	SILO_PHASE_FD=9 "$SILO" --root "$ROOT" run --bundle "$b" "$id" 9>&- < /dev/null > /dev/null 2>&1 ||
		fail "run with SILO_PHASE_FD naming a closed fd failed"
	assert_no_leftovers "$id"
}

run_test run_phases test_run_phases
run_test exec_phases test_exec_phases
run_test phases_off test_phases_off
finish
