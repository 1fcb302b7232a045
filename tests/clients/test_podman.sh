#!/bin/bash
# silo under Podman (conmon): run, exit codes, exec, tty, pause, stats,
# update, kill, stop, rm, a CNI bridge network joined by netns path.
. "$(dirname "$0")/common.sh"

need_clients podman conmon
make_image

# pm_detached NAME [podman run args...]: a running SLEEPER container NAME.
pm_detached() {
	local name=$1; shift
	defer pm rm -f -t 0 "$name"
	assert_ok pm_run -d --name "$name" --network none "$@" "$IMAGE" sh -c "$SLEEPER"
	wait_for 10 cli_status_is "$name" running || fail "container $name: status $(pm_status "$name"), expected running"
}
pm_status() { pm inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
pm_id() { pm inspect -f '{{.Id}}' "$1"; }
pm_pid() { pm inspect -f '{{.State.Pid}}' "$1"; }
pm_logs_has() { pm logs "$1" 2>&1 | grep -q -- "$2"; }

# the names tests/clients/cli_tests.sh runs its shared tests with
CLI_NAME=podman
cli() { pm "$@"; }
cli_run() { pm_run "$@"; }
cli_detached() { pm_detached "$@"; }
cli_status() { pm_status "$@"; }
cli_id() { pm_id "$@"; }
. "$CLIENTS_DIR/cli_tests.sh"

# ------------------------------------------------------------------ run
test_run_echo() {
	local id
	assert_ok pm_run --rm --cidfile "$T_DIR/cid" --network none "$IMAGE" echo hello-podman
	assert_eq hello-podman "$OUT" "output"
	id=$(cat "$T_DIR/cid")
	# Podman registers the runtime by name in runtime_supports_json: JSON log
	assert_call create '--log-format=json' "create was not called with --log-format=json"
	assert_cgroup_gone "$id"
	[ ! -e "$RT_DEFAULT_ROOT/$id" ] || fail "runtime state $RT_DEFAULT_ROOT/$id left behind"
	assert_no_procs "$id"
}

test_run_short_lived_repeated() {
	# Short-lived containers back to back: `start` must not fail when the
	# program has already exited (and been reaped by conmon) by the time it
	# returns.
	local i
	for i in $(seq 15); do
		assert_ok pm_run --rm --network none "$IMAGE" true
	done
}

test_run_user_env_workdir() {
	mkdir -p "$T_DIR/vol"
	assert_ok pm_run --rm --network none -u 65534:65534 -w /tmp -e FOO=bar -v "$T_DIR/vol:/vol" \
		"$IMAGE" sh -c 'echo "$(id -u):$(id -g) $(pwd) $FOO $(hostname)"; ls /vol >/dev/null'
	assert_eq "65534:65534 /tmp bar" "$(cut -d' ' -f1-3 <<< "$OUT")" "uid:gid cwd env"
	assert_ok pm_run --rm --network none -v "$T_DIR/vol:/vol" "$IMAGE" sh -c 'echo from-ct > /vol/f'
	assert_eq from-ct "$(cat "$T_DIR/vol/f")" "file written to the bind mount"
}

test_run_read_only() {
	assert_fail pm_run --rm --network none --read-only "$IMAGE" touch /rootfile
	assert_ok pm_run --rm --network none --read-only "$IMAGE" touch /tmp/ok
}

test_run_detached() {
	local n pid
	n=$(uniq_name det)
	defer pm rm -f -t 0 "$n"
	assert_ok pm_run -d --name "$n" --network none "$IMAGE" sh -c "echo started; $SLEEPER"
	wait_for 10 cli_status_is "$n" running || fail "status $(pm_status "$n"), expected running"
	pid=$(pm_pid "$n")
	pid_alive "$pid" || fail "container pid $pid not alive"
	wait_for 5 pm_logs_has "$n" started || { assert_ok pm logs "$n"; fail "podman logs: no 'started' in $(show "$OUT")"; }
	assert_ok pm ps --format '{{.Names}}'
	assert_contains "$OUT" "$n" "podman ps"
}

# ------------------------------------------------------------------ exec
test_exec() {
	local n
	n=$(uniq_name exec)
	pm_detached "$n"
	cli_exec_common "$n"
	assert_status 127 pm exec "$n" /no/such/binary
}

# ------------------------------------------------------------------ pause, stats, update
test_stats() {
	local n mem pids
	n=$(uniq_name stats)
	pm_detached "$n"
	assert_ok pm stats --no-stream --format json "$n"
	mem=$(jq -r '.[0].mem_usage // empty' <<< "$OUT" 2>/dev/null)
	pids=$(jq -r '.[0].pids // empty' <<< "$OUT" 2>/dev/null)
	[ -n "$mem" ] && [ "${mem%%[!0-9.]*}" != 0 ] || fail "no memory usage in podman stats: $(show "$OUT")"
	[ -n "$pids" ] && [ "$pids" != 0 ] || fail "no pids in podman stats: $(show "$OUT")"
}

test_update() {
	local n
	n=$(uniq_name update)
	needs_runtime_cmd update
	pm_detached "$n"
	cli_update_check "$n"
}

# ------------------------------------------------------------------ kill, stop, rm
test_stop_pid_host() {
	# With --pid host podman stops with `kill --all ID 15`.
	local n
	n=$(uniq_name stophost)
	pm_detached "$n" --pid host
	assert_ok pm stop -t 20 "$n"
	assert_eq exited "$(pm_status "$n")" "status after stop"
}

test_rm_force() {
	local n id pid
	n=$(uniq_name rmf)
	pm_detached "$n"
	id=$(pm_id "$n") pid=$(pm_pid "$n")
	[ -d "$RT_DEFAULT_ROOT/$id" ] || fail "no runtime state in $RT_DEFAULT_ROOT/$id"
	assert_ok pm rm -f -t 0 "$n"
	assert_fail pm inspect "$n"
	if pid_alive "$pid"; then fail "container process $pid survived podman rm -f"; fi
	assert_cgroup_gone "$id"
	[ ! -e "$RT_DEFAULT_ROOT/$id" ] || fail "runtime state $RT_DEFAULT_ROOT/$id left behind"
	assert_no_procs "$id"
}

# ------------------------------------------------------------------ network
test_bridge_network() {
	local n cfg nspath
	n=$(uniq_name net)
	need_cmd ip
	if ip -4 route | grep -q "^$PM_SUBNET\.0/24"; then skip "subnet $PM_SUBNET.0/24 is in use on this host"; fi
	defer pm rm -f -t 0 "$n"
	assert_ok pm_run -d --name "$n" --network silotest "$IMAGE" sh -c "$SLEEPER"
	wait_for 10 cli_status_is "$n" running || fail "status $(pm_status "$n"), expected running"
	cfg=$(pm_userdata "$n")/config.json
	nspath=$(jq -r '.linux.namespaces[] | select(.type == "network") | .path // empty' "$cfg")
	assert_match "$nspath" '^/(var/)?run/netns/' "network namespace path in config.json"
	assert_eq "$(stat -L -c %i "$nspath")" "$(stat -L -c %i "/proc/$(pm_pid "$n")/ns/net")" \
		"inode of the container's net ns vs the one podman made"
	assert_ok pm exec "$n" ip -4 addr show eth0
	assert_contains "$OUT" "inet $PM_SUBNET." "eth0 address"
	assert_ok pm exec "$n" ping -c 1 -W 5 "$PM_SUBNET.1"
	assert_contains "$OUT" "1 packets received" "ping of the host bridge"
}

test_network_none() {
	assert_ok pm_run --rm --network none "$IMAGE" sh -c 'ls /sys/class/net'
	assert_eq lo "$(echo $OUT)" "interfaces with --network none"
}

# Checkpoint and restore through Podman (runtime checkpoint / restore with CRIU).
test_checkpoint_restore() {
	local n c1 c2 criu
	. "$TESTS_DIR/lib/criu.sh"
	criu=$(criu_setup 2>/dev/null) || skip "CRIU cannot be set up here"
	export CRIU=$criu
	n=$(uniq_name ckpt)
	assert_ok pm_run -d --name "$n" --network none "$IMAGE" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/c; sleep 0.1; done'
	sleep 1
	# Podman does not pass its environment to the runtime: --criu it is.
	assert_ok pm --runtime-flag "criu=$criu" container checkpoint "$n"
	assert_eq exited "$(pm inspect -f '{{.State.Status}}' "$n")" "status after checkpoint"
	assert_ok pm --runtime-flag "criu=$criu" container restore "$n"
	assert_eq running "$(pm inspect -f '{{.State.Status}}' "$n")" "status after restore"
	c1=$(pm exec "$n" cat /tmp/c); sleep 0.5; c2=$(pm exec "$n" cat /tmp/c)
	[ "${c1:-0}" -ge 5 ] || fail "the counter restarted instead of continuing: $c1"
	[ "${c2:-0}" -gt "${c1:-0}" ] || fail "the counter did not continue after restore: $c1 -> $c2"
	assert_call checkpoint --image-path "podman called silo checkpoint"
	assert_call restore --image-path "podman called silo restore"
	assert_ok pm rm -f "$n"
}

ctest podman_run_echo test_run_echo
ctest podman_run_exit_code test_run_exit_code
ctest podman_run_missing_binary test_run_missing_binary
ctest podman_run_not_executable test_run_not_executable
ctest podman_run_short_lived_repeated test_run_short_lived_repeated
ctest podman_run_user_env_workdir test_run_user_env_workdir
ctest podman_run_read_only test_run_read_only
ctest podman_run_tty test_run_tty
ctest podman_run_detached test_run_detached
ctest podman_exec test_exec
ctest podman_exec_tty test_exec_tty
ctest podman_exec_detached test_exec_detached
ctest podman_pause_unpause test_pause_unpause
ctest podman_stats test_stats
ctest podman_update test_update
ctest podman_kill test_kill
ctest podman_stop_start_restart test_stop
ctest podman_stop_pid_host test_stop_pid_host
ctest podman_rm_force test_rm_force
ctest podman_network_none test_network_none
ctest podman_bridge_network test_bridge_network
ctest podman_checkpoint_restore test_checkpoint_restore
