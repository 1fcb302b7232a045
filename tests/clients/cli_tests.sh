# shellcheck shell=bash
# Tests shared by the two Docker-compatible command lines (test_docker.sh,
# test_podman.sh): the clients take the same flags and report the same
# states, so each check is written once against these names, which the
# sourcing file defines for its client:
#   cli ARGS...              the client (dk, pm)
#   cli_run ARGS...          `run` with the runtime under test
#   cli_detached NAME ARGS   a running SLEEPER container NAME, removed by defer
#   cli_status NAME / cli_status_is NAME STATUS / cli_id NAME
# and CLI_NAME (docker, podman) for messages.

cli_status_is() { [ "$(cli_status "$1")" = "$2" ]; }

test_run_exit_code() {
	assert_status 3 cli_run --rm --network none "$IMAGE" sh -c 'exit 3'
	assert_status 0 cli_run --rm --network none "$IMAGE" true
}

test_run_missing_binary() {
	assert_status 127 cli_run --rm --network none "$IMAGE" /no/such/binary
	assert_contains "$OUT" /no/such/binary "error message"
}

test_run_not_executable() {
	# The client maps the runtime's "permission denied" (Go's EACCES text) to 126.
	assert_status 126 cli_run --rm --network none "$IMAGE" /etc/passwd
}

test_run_tty() {
	assert_ok cli_run --rm -t --network none "$IMAGE" tty
	assert_match "$OUT" '^/dev/pts/[0-9]+' "tty of a -t container"
}

# The part of `exec` both clients report alike; each file adds its own.
cli_exec_common() {
	local n=$1
	assert_status 4 cli exec "$n" sh -c 'echo in-exec; exit 4'
	assert_eq in-exec "$OUT" "exec output"
	assert_ok cli exec -u 65534 -w /tmp -e X=y "$n" sh -c 'echo "$(id -u) $(pwd) $X"'
	assert_eq "65534 /tmp y" "$OUT" "exec uid/cwd/env"
	assert_call exec '--process' "exec was not called with --process"
}

test_exec_tty() {
	local n
	n=$(uniq_name exectty)
	cli_detached "$n"
	assert_ok cli exec -t "$n" tty
	assert_match "$OUT" '^/dev/pts/[0-9]+' "tty in exec -t"
	assert_call exec '--console-socket' "exec -t did not pass --console-socket"
}

test_exec_detached() {
	local n
	n=$(uniq_name execd)
	cli_detached "$n"
	assert_ok cli exec -d "$n" sh -c 'echo mark > /tmp/mark'
	wait_for 5 cli exec "$n" cat /tmp/mark || fail "exec -d did not run"
}

test_pause_unpause() {
	local n id
	n=$(uniq_name pause)
	needs_runtime_cmd pause
	cli_detached "$n"
	id=$(cli_id "$n")
	assert_ok cli pause "$n"
	assert_eq paused "$(cli_status "$n")" "status after pause"
	assert_eq FROZEN "$(cgroup_file "$id" freezer freezer.state)" "freezer.state"
	assert_ok cli unpause "$n"
	assert_eq running "$(cli_status "$n")" "status after unpause"
	assert_eq THAWED "$(cgroup_file "$id" freezer freezer.state)" "freezer.state"
	assert_ok cli exec "$n" true
}

# cli_update_check NAME UPDATE-ARGS...: the client's update, then the limits
# the runtime wrote into the container's v1 cgroup (memory 100m, shares 512).
cli_update_check() {
	local n=$1 id; shift
	id=$(cli_id "$n")
	assert_ok cli update --memory 100m --cpu-shares 512 "$@" "$n"
	assert_call update '--resources' "$CLI_NAME did not call the runtime's update --resources"
	assert_eq 104857600 "$(cgroup_file "$id" memory memory.limit_in_bytes)" "memory.limit_in_bytes"
	assert_eq 512 "$(cgroup_file "$id" cpu cpu.shares)" "cpu.shares"
}

test_kill() {
	local n
	n=$(uniq_name kill)
	cli_detached "$n"
	assert_ok cli kill "$n"   # SIGKILL
	wait_for 10 cli_status_is "$n" exited || fail "status $(cli_status "$n") after kill"
	assert_eq 137 "$(cli inspect -f '{{.State.ExitCode}}' "$n")" "exit code after SIGKILL"
	n=$(uniq_name killterm)
	cli_detached "$n"
	assert_ok cli kill -s TERM "$n"
	wait_for 10 cli_status_is "$n" exited || fail "status $(cli_status "$n") after kill -s TERM"
	assert_eq 0 "$(cli inspect -f '{{.State.ExitCode}}' "$n")" "exit code after SIGTERM (handled)"
}

test_stop() {
	local n start
	n=$(uniq_name stop)
	cli_detached "$n"
	start=$SECONDS
	assert_ok cli stop -t 20 "$n"
	[ $((SECONDS - start)) -lt 10 ] || fail "stop took $((SECONDS - start)) s: SIGTERM did not stop the container"
	assert_eq exited "$(cli_status "$n")" "status after stop"
	assert_eq 0 "$(cli inspect -f '{{.State.ExitCode}}' "$n")" "exit code after stop"
	assert_ok cli start "$n"
	wait_for 10 cli_status_is "$n" running || fail "status $(cli_status "$n") after start of a stopped container"
	assert_ok cli restart -t 20 "$n"
	wait_for 10 cli_status_is "$n" running || fail "status $(cli_status "$n") after restart"
}
