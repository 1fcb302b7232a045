#!/bin/bash
# silo under Docker (dockerd -> private containerd -> io.containerd.runc.v2
# shim -> the runtime, added as `--add-runtime silo=...`): run, exit codes,
# exec, tty, the libnetwork prestart hook (--network none and a bridge),
# pause, stats, update, top, kill, stop, rm.
. "$(dirname "$0")/common.sh"

need_clients dockerd containerd podman
[ -x "$DOCKER_CLI" ] || skip_file "the docker CLI is not installed (run tests/deps-clients.sh)"
make_image docker
start_containerd
start_dockerd
dk load -i "$WORK/busybox-docker.tar" > "$WORK/docker-load.log" 2>&1 ||
	setup_fail "docker load failed: $(tail -n 5 "$WORK/docker-load.log")"

dk_run() { dk run --runtime "$RT_NAME" "$@"; }
dk_status() { dk inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
dk_id() { dk inspect -f '{{.Id}}' "$1"; }
dk_pid() { dk inspect -f '{{.State.Pid}}' "$1"; }
dk_logs_have() { dk logs "$1" 2>&1 | grep -q -- "$2"; }
# The runtime's state dir of container ID (dockerd 20.10 passes --root
# EXEC_ROOT/runtime-runc/NAMESPACE whatever the runtime's name).
state_dir() {
	local d
	for d in "$DK_DIR"/exec/runtime-*/"$DK_NS/$1"; do echo "$d"; return; done
}

# dk_detached NAME [docker run args...]: a running SLEEPER container NAME
# (on network $DK_NET, default none).
dk_detached() {
	local name=$1; shift
	defer dk rm -f "$name"
	assert_ok dk_run -d --name "$name" --network "${DK_NET:-none}" "$@" "$IMAGE" sh -c "$SLEEPER"
	wait_for 10 cli_status_is "$name" running || fail "container $name: status $(dk_status "$name"), expected running"
}

# the names tests/clients/cli_tests.sh runs its shared tests with
CLI_NAME=docker
cli() { dk "$@"; }
cli_run() { dk_run "$@"; }
cli_detached() { dk_detached "$@"; }
cli_status() { dk_status "$@"; }
cli_id() { dk_id "$@"; }
. "$CLIENTS_DIR/cli_tests.sh"

# ------------------------------------------------------------------ run
test_run_echo() {
	local n id
	n=$(uniq_name echo)
	defer dk rm -f "$n"
	assert_ok dk_run --name "$n" --network none "$IMAGE" echo hello-docker
	assert_eq hello-docker "$OUT" "output"
	id=$(dk_id "$n")
	assert_call create '--log-format json' "the shim did not pass --log-format json"
	assert_ok dk rm "$n"
	assert_cgroup_gone "$id"
	[ ! -e "$(state_dir "$id")" ] || fail "runtime state $(state_dir "$id") left behind"
}

test_run_user_env_workdir() {
	mkdir -p "$T_DIR/vol"
	assert_ok dk_run --rm --network none -u 65534:65534 -w /tmp -e FOO=bar -v "$T_DIR/vol:/vol" \
		"$IMAGE" sh -c 'echo "$(id -u):$(id -g) $(pwd) $FOO"'
	assert_eq "65534:65534 /tmp bar" "$OUT" "uid:gid cwd env"
	assert_ok dk_run --rm --network none -v "$T_DIR/vol:/vol" "$IMAGE" sh -c 'echo from-ct > /vol/f'
	assert_eq from-ct "$(cat "$T_DIR/vol/f")" "file written to the bind mount"
}

test_run_tty_console_socket() {
	test_run_tty
	assert_call create '--console-socket' "create -t did not pass --console-socket"
}

test_run_detached() {
	local n pid
	n=$(uniq_name det)
	defer dk rm -f "$n"
	assert_ok dk_run -d --name "$n" --network none "$IMAGE" sh -c "echo started; $SLEEPER"
	wait_for 10 cli_status_is "$n" running || fail "status $(dk_status "$n"), expected running"
	pid=$(dk_pid "$n")
	pid_alive "$pid" || fail "container pid $pid not alive"
	wait_for 5 dk_logs_have "$n" started || fail "docker logs: no 'started' in $(dk logs "$n" 2>&1)"
}

# ------------------------------------------------------------------ networking (prestart hook)
test_prestart_hook_network_none() {
	local n cfg key
	n=$(uniq_name hook)
	dk_detached "$n"
	cfg=$(dk_bundle "$n")/config.json
	[ -f "$cfg" ] || fail "no bundle config.json at $cfg"
	assert_contains "$(jq -c '.hooks.prestart // []' "$cfg")" libnetwork-setkey "prestart hooks in config.json"
	key=$(dk inspect -f '{{.NetworkSettings.SandboxKey}}' "$n")
	[ -n "$key" ] && [ -e "$key" ] || fail "no network sandbox ($(show "$key")): the libnetwork-setkey prestart hook did not run"
	assert_eq "$(stat -L -c %i "$key")" "$(stat -L -c %i "/proc/$(dk_pid "$n")/ns/net")" \
		"inode of the sandbox key vs the container's net ns"
	assert_ok dk exec "$n" ls /sys/class/net
	assert_eq lo "$(echo $OUT)" "interfaces with --network none"
}

test_bridge_network() {
	local n
	n=$(uniq_name net)
	need_cmd ip
	if ip -4 route | grep -q "^$DK_SUBNET\.0/24"; then skip "subnet $DK_SUBNET.0/24 is in use on this host"; fi
	defer dk network rm silonet
	assert_ok dk network create --driver bridge -o "com.docker.network.bridge.name=$BR_DOCKER" \
		--subnet "$DK_SUBNET.0/24" --gateway "$DK_SUBNET.1" silonet
	DK_NET=silonet dk_detached "$n"
	assert_ok dk exec "$n" ip -4 addr show eth0
	assert_contains "$OUT" "inet $DK_SUBNET." "eth0 address (moved in by the prestart hook)"
	assert_ok dk exec "$n" ping -c 1 -W 5 "$DK_SUBNET.1"
	assert_contains "$OUT" "1 packets received" "ping of the host bridge"
	assert_ok dk rm -f "$n"
}

# ------------------------------------------------------------------ exec
test_exec() {
	local n
	n=$(uniq_name exec)
	dk_detached "$n"
	cli_exec_common "$n"
	assert_status 126 dk exec "$n" /etc/passwd
	assert_fail dk exec "$n" /no/such/binary
	assert_contains "$OUT" /no/such/binary "error message"
}

# ------------------------------------------------------------------ pause, stats, update, top
test_stats() {
	local n
	n=$(uniq_name stats)
	dk_detached "$n"
	assert_ok dk stats --no-stream --format '{{.MemUsage}} pids={{.PIDs}}' "$n"
	assert_match "$OUT" '^[0-9.]+[KMG]i?B / ' "memory usage"
	assert_match "$OUT" 'pids=[1-9]' "pids"
}

test_update() {
	local n
	n=$(uniq_name update)
	needs_runtime_cmd update
	dk_detached "$n"
	cli_update_check "$n" --memory-swap 200m --pids-limit 77
	assert_call update '--resources -' "the shim did not call the runtime's update --resources -"
	assert_eq 77 "$(cgroup_file "$(dk_id "$n")" pids pids.max)" "pids.max"
}

test_top() {
	local n pid
	n=$(uniq_name top)
	dk_detached "$n"
	pid=$(dk_pid "$n")
	assert_ok dk top "$n"
	assert_match "$OUT" "(^|[^0-9])$pid([^0-9]|$)" "docker top lists the init pid"
}

# ------------------------------------------------------------------ kill, stop, rm
test_rm_force() {
	local n id pid
	n=$(uniq_name rmf)
	dk_detached "$n"
	id=$(dk_id "$n") pid=$(dk_pid "$n")
	[ -d "$(state_dir "$id")" ] || fail "no runtime state for $id under $DK_DIR/exec/runtime-*/$DK_NS"
	assert_ok dk rm -f "$n"
	assert_fail dk inspect "$n"
	if pid_alive "$pid"; then fail "container process $pid survived docker rm -f"; fi
	assert_cgroup_gone "$id"
	[ ! -e "$(state_dir "$id")" ] || fail "runtime state $(state_dir "$id") left behind"
	assert_no_procs "$id"
}

ctest docker_run_echo test_run_echo
ctest docker_run_exit_code test_run_exit_code
ctest docker_run_missing_binary test_run_missing_binary
ctest docker_run_not_executable test_run_not_executable
ctest docker_run_user_env_workdir test_run_user_env_workdir
ctest docker_run_tty test_run_tty_console_socket
ctest docker_run_detached test_run_detached
ctest docker_prestart_hook_network_none test_prestart_hook_network_none
ctest docker_bridge_network test_bridge_network
ctest docker_exec test_exec
ctest docker_exec_tty test_exec_tty
ctest docker_exec_detached test_exec_detached
ctest docker_pause_unpause test_pause_unpause
ctest docker_stats test_stats
ctest docker_update test_update
ctest docker_top test_top
ctest docker_kill test_kill
ctest docker_stop_start_restart test_stop
ctest docker_rm_force test_rm_force
