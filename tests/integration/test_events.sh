#!/bin/bash
# events: `events --stats` of a running container, the stats/oom stream of
# `events`, and clean failures (stopped, unknown, no cgroup, bad flags).
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

# A container that has used some CPU and memory, then sleeps.
BUSY='i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; x=$(head -c 2000000 /dev/zero | tr "\0" a); echo ready; while :; do sleep 0.05; done'

# events_stats ID: `silo events --stats ID`, one line of JSON, into $OUT.
events_stats() {
	assert_ok silo events --stats "$1"
	[ "$(printf '%s\n' "$OUT" | wc -l)" -eq 1 ] || fail "events --stats printed more than one line: $(show "$OUT")"
	printf '%s' "$OUT" | jq -e . >/dev/null || fail "events --stats: not JSON: $(show "$OUT")"
}
# jqv FILTER: FILTER applied to $OUT.
jqv() { printf '%s' "$OUT" | jq -r "$1"; }

test_stats_running() {
	local id b=$T_DIR/b
	need_cmd jq
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$BUSY"
	run_detached "$id" "$b"
	wait_output "$id" ready
	events_stats "$id"
	assert_eq stats "$(jqv .type)" "type"
	assert_eq "$id" "$(jqv .id)" "id"
	jqv '.data.cpu.usage.total > 0' | grep -qx true || fail "cpu.usage.total not > 0: $(show "$OUT")"
	jqv '.data.memory.usage.usage > 0' | grep -qx true || fail "memory.usage.usage not > 0: $(show "$OUT")"
	jqv '.data.pids.current >= 1' | grep -qx true || fail "pids.current not >= 1: $(show "$OUT")"
	# runc's field names (types/events.go)
	jqv '.data.cpu.usage | has("kernel") and has("user")' | grep -qx true || fail "cpu.usage fields: $(show "$OUT")"
	jqv '.data.memory | has("usage") and has("swap") and has("kernel") and has("kernelTCP") and has("raw")' |
		grep -qx true || fail "memory fields: $(show "$OUT")"
	jqv '.data.memory.usage | has("limit") and has("failcnt")' | grep -qx true || fail "memory.usage fields"
	jqv '.data | has("blkio") and has("hugetlb") and has("pids")' | grep -qx true || fail "data fields"
}

test_stats_limits() {
	silo_only "field values beyond runc's omitempty"
	local id b=$T_DIR/b
	need_cmd jq
	id=$(new_id)
	make_bundle "$b" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 42}'
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	events_stats "$id"
	assert_eq 67108864 "$(jqv .data.memory.usage.limit)" "memory.usage.limit"
	assert_eq 42 "$(jqv .data.pids.limit)" "pids.limit"
	assert_eq 0 "$(jqv .data.cpu.throttling.periods)" "cpu.throttling.periods"
}

test_stream_stats_until_exit() {
	silo_only "runc 1.1's events keeps running after the container stops"
	local id b=$T_DIR/b lines
	need_cmd jq
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'echo ready; sleep 2'
	run_detached "$id" "$b"
	wait_output "$id" ready
	# a stats line every 300 ms; events ends by itself when the container exits
	timeout 15 "$SILO" --root "$ROOT" events --interval 300ms "$id" > "$T_DIR/events" 2> "$T_DIR/events.err" < /dev/null &&
		RC=0 || RC=$?
	[ "$RC" -eq 0 ] || fail "events exited $RC (124 = still running): $(cat "$T_DIR/events.err")"
	lines=$(grep -c '"type":"stats"' "$T_DIR/events")
	[ "$lines" -ge 2 ] || fail "expected several stats lines, got $lines: $(show "$(cat "$T_DIR/events")")"
	jq -e -s 'all(.[]; .id == $id and (.type == "stats" or .type == "oom"))' --arg id "$id" \
		"$T_DIR/events" > /dev/null || fail "bad event lines: $(show "$(cat "$T_DIR/events")")"
	wait_status "$id" stopped
}

test_oom_event() {
	local id b=$T_DIR/b pid
	need_cmd jq
	id=$(new_id)
	make_bundle "$b" '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	add_out_mount "$b"
	# init waits for the go file, then a child shell outgrows the limit and is
	# OOM-killed; init itself stays small and keeps running.
	set_args "$b" 'echo ready; while [ ! -e /out/go ]; do sleep 0.05; done;
		( x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived );
		echo after-oom; while :; do sleep 0.05; done'
	run_detached "$id" "$b"
	wait_output "$id" ready
	"$SILO" --root "$ROOT" events --interval 1h "$id" > "$T_DIR/events" 2> "$T_DIR/events.err" < /dev/null &
	pid=$!
	defer kill -9 "$pid"
	sleep 0.3   # let events register its OOM watch
	touch "$b/out/go"
	wait_output "$id" after-oom 20
	wait_for 10 grep -q '"type":"oom"' "$T_DIR/events" ||
		fail "no oom event; events printed $(show "$(cat "$T_DIR/events")"), stderr $(show "$(cat "$T_DIR/events.err")"), container: $(show "$(ct_output "$id")")"
	assert_not_contains "$(ct_output "$id")" survived "container output"
	assert_eq "{\"type\":\"oom\",\"id\":\"$id\"}" "$(grep '"type":"oom"' "$T_DIR/events" | head -n1)" "oom line"
	# events ends, with status 0, when the container stops (runc 1.1's does not)
	is_runc && return 0
	assert_ok silo kill "$id" KILL
	wait_for 10 eval '! kill -0 "$pid" 2>/dev/null' || fail "events still running after the container stopped"
	wait "$pid" && RC=0 || RC=$?
	assert_eq 0 "$RC" "exit status of events"
}

test_events_stopped_container() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	assert_status 1 silo events --stats "$id"
	assert_contains "$OUT" "not running"
	assert_status 1 timeout 10 "$SILO" --root "$ROOT" events "$id"
	assert_contains "$OUT" "not running"
}

test_events_unknown_container() {
	assert_status 1 silo events --stats "nosuch-$$"
	silo_only "error text"
	assert_contains "$OUT" "does not exist"
	assert_status 1 timeout 10 "$SILO" --root "$ROOT" events "nosuch-$$"
	assert_contains "$OUT" "does not exist"
}

test_events_no_cgroup() {
	silo_only "--cgroup-manager disabled"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	"$SILO" --root "$ROOT" --cgroup-manager disabled run -d --bundle "$b" "$id" > "$T_DIR/out" 2>&1 < /dev/null ||
		fail "run with --cgroup-manager disabled failed: $(cat "$T_DIR/out")"
	wait_status "$id" running
	assert_status 1 silo events --stats "$id"
	assert_contains "$OUT" "no cgroup"
}

test_events_usage_errors() {
	silo_only "flag parsing messages"
	local id b=$T_DIR/b
	assert_status 1 silo events
	assert_contains "$OUT" "missing container ID"
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	for bad in 5 0 0s -1s 1x s 1.s5; do
		assert_status 1 silo events --interval "$bad" "$id"
		assert_contains "$OUT" "--interval"
	done
	# Go-style durations are accepted (--stats returns at once)
	for good in 5s 500ms 1m 1h30m 1.5s 250us; do
		assert_ok silo events --interval "$good" --stats "$id"
	done
	assert_ok silo events --help
	assert_contains "$OUT" "--interval"
}

run_test stats_running test_stats_running
run_test stats_limits test_stats_limits
run_test stream_stats_until_exit test_stream_stats_until_exit
run_test oom_event test_oom_event
run_test events_stopped_container test_events_stopped_container
run_test events_unknown_container test_events_unknown_container
run_test events_no_cgroup test_events_no_cgroup
run_test events_usage_errors test_events_usage_errors
