#!/bin/bash
# silo under containerd: `ctr run --runc-binary $RT --runc-root R` through
# the io.containerd.runc.v2 shim, with a private containerd.  (ctr 1.6 has no
# `update` command: test_docker.sh covers the shim's `update --resources -`.)
. "$(dirname "$0")/common.sh"

need_clients containerd ctr podman script
make_image oci
start_containerd
ctrc images import "$WORK/busybox-oci.tar" > "$WORK/ctr-import.log" 2>&1 ||
	setup_fail "ctr images import failed: $(tail -n 5 "$WORK/ctr-import.log")"

# ctr_run [ctr run flags...] IMAGE ID [CMD...]: ctr run with the runtime.
# ctr_exec [ctr task exec flags...] ID CMD...: ctr task exec.  Both keep ctr's
# stdio FIFOs in a private dir (by default /run/containerd/fifo, where ctr
# leaves those of detached processes behind).
ctr_run() { ctrc run --fifo-dir "$CTD_DIR/fifo" --runc-binary "$RT_BIN" --runc-root "$CTD_RUNC_ROOT" "$@"; }
ctr_exec() { ctrc t exec --fifo-dir "$CTD_DIR/fifo" "$@"; }
# ctr_pty ARGS...: ctr ARGS with a terminal as stdin/stdout (ctr -t needs one).
ctr_pty() { script -qec "$(printf '%q ' ctr -a "$CTD_SOCK" -n "$CTD_NS" "$@")" /dev/null < /dev/null; }
task_status() { ctrc t ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }
task_status_is() { [ "$(task_status "$1")" = "$2" ]; }
task_pid() { ctrc t ls 2>/dev/null | awk -v id="$1" '$1 == id { print $2 }'; }
state_dir() { echo "$CTD_RUNC_ROOT/$CTD_NS/$1"; }

# ctr_detached ID [ctr run flags...]: a running SLEEPER task ID.
ctr_detached() {
	local id=$1; shift
	defer ctr_rm "$id"
	assert_ok ctr_run -d "$@" "$IMAGE" "$id" sh -c "$SLEEPER"
	wait_for 10 task_status_is "$id" RUNNING || fail "task $id: status $(task_status "$id"), expected RUNNING"
}

# ------------------------------------------------------------------ run
test_run_echo() {
	local id
	id=$(uniq_name echo)
	defer ctr_rm "$id"
	assert_ok ctr_run --rm "$IMAGE" "$id" echo hello-ctr
	assert_eq hello-ctr "$OUT" "output"
	assert_call create '--log-format json' "the shim did not pass --log-format json"
	assert_call create "--root $CTD_RUNC_ROOT/$CTD_NS" "the shim did not pass --root from --runc-root"
	assert_cgroup_gone "$id"
	[ ! -e "$(state_dir "$id")" ] || fail "runtime state $(state_dir "$id") left behind"
}

test_run_exit_code() {
	local id
	id=$(uniq_name exit)
	defer ctr_rm "$id"
	assert_status 3 ctr_run --rm "$IMAGE" "$id" sh -c 'exit 3'
}

test_run_missing_binary() {
	# ctr turns every create error into exit status 1 (only Docker and
	# Podman map "no such file or directory" to 127).
	local id
	id=$(uniq_name missing)
	defer ctr_rm "$id"
	assert_fail ctr_run --rm "$IMAGE" "$id" /no/such/binary
	assert_contains "$(tr '[:upper:]' '[:lower:]' <<< "$OUT")" "no such file or directory" "error text"
	assert_not_contains "$(ctrc t ls -q)" "$id" "tasks after a failed create"
}

test_run_rootfs() {
	local id
	id=$(uniq_name rootfs)
	defer ctr_rm "$id"
	cp -al "$ROOTFS" "$T_DIR/rootfs"
	assert_ok ctr_run --rm --rootfs "$T_DIR/rootfs" "$id" /bin/echo hi-rootfs
	assert_eq hi-rootfs "$OUT" "output"
}

test_run_tty() {
	local id
	id=$(uniq_name tty)
	defer ctr_rm "$id"
	assert_ok ctr_pty run --rm -t --fifo-dir "$CTD_DIR/fifo" --runc-binary "$RT_BIN" --runc-root "$CTD_RUNC_ROOT" "$IMAGE" "$id" tty
	assert_match "$OUT" '/dev/pts/[0-9]+' "tty of a -t container"
	assert_call create '--console-socket' "create -t did not pass --console-socket"
}

test_run_detached() {
	local id pid
	id=$(uniq_name det)
	ctr_detached "$id"
	pid=$(task_pid "$id")
	pid_alive "$pid" || fail "task pid $pid not alive"
	[ -d "$(state_dir "$id")" ] || fail "no runtime state in $(state_dir "$id")"
}

# ------------------------------------------------------------------ exec
test_exec() {
	local id
	id=$(uniq_name exec)
	ctr_detached "$id"
	assert_status 4 ctr_exec --exec-id e1 "$id" sh -c 'echo in-exec; exit 4'
	assert_eq in-exec "$OUT" "exec output"
	assert_ok ctr_exec --exec-id e2 --cwd /tmp "$id" pwd
	assert_eq /tmp "$OUT" "exec --cwd"
	assert_fail ctr_exec --exec-id e3 "$id" /no/such/binary
	assert_call exec '--process' "exec was not called with --process"
}

test_exec_tty() {
	local id
	id=$(uniq_name exectty)
	ctr_detached "$id"
	assert_ok ctr_pty t exec -t --fifo-dir "$CTD_DIR/fifo" --exec-id t1 "$id" tty
	assert_match "$OUT" '/dev/pts/[0-9]+' "tty in exec -t"
	assert_call exec '--console-socket' "exec -t did not pass --console-socket"
}

# ------------------------------------------------------------------ pause, metrics, ps
test_pause_resume() {
	local id
	id=$(uniq_name pause)
	needs_runtime_cmd pause
	ctr_detached "$id"
	assert_ok ctrc t pause "$id"
	assert_eq PAUSED "$(task_status "$id")" "status after pause"
	assert_eq FROZEN "$(cgroup_file "$id" freezer freezer.state)" "freezer.state"
	assert_ok ctrc t resume "$id"
	assert_eq RUNNING "$(task_status "$id")" "status after resume"
	assert_ok ctr_exec --exec-id after "$id" true
}

test_metrics() {
	local id
	id=$(uniq_name metrics)
	ctr_detached "$id"
	assert_ok ctrc t metrics "$id"
	assert_match "$OUT" 'memory.usage_in_bytes +[1-9]' "metrics"
	assert_match "$OUT" 'pids.current +[1-9]' "metrics"
}

test_ps() {
	local id pid
	id=$(uniq_name ps)
	ctr_detached "$id"
	pid=$(task_pid "$id")
	assert_ok ctrc t ps "$id"
	assert_match "$OUT" "(^|[^0-9])$pid([^0-9]|$)" "ctr t ps lists the init pid"
	assert_call ps '--format json' "the shim did not call the runtime's ps --format json"
}

# ------------------------------------------------------------------ kill, delete
test_kill() {
	local id
	id=$(uniq_name kill)
	ctr_detached "$id"
	assert_ok ctrc t kill "$id"   # SIGTERM
	wait_for 10 task_status_is "$id" STOPPED || fail "status $(task_status "$id") after SIGTERM"
	assert_ok ctrc t rm "$id"
	assert_ok ctrc c rm "$id"
	id=$(uniq_name killall)
	ctr_detached "$id"
	assert_ok ctr_exec -d --exec-id bg "$id" sleep 1000
	assert_ok ctrc t kill -a -s SIGKILL "$id"
	wait_for 10 task_status_is "$id" STOPPED || fail "status $(task_status "$id") after kill --all SIGKILL"
	assert_cgroup_empty "$id"
}

test_delete_force() {
	local id pid
	id=$(uniq_name rmf)
	ctr_detached "$id"
	pid=$(task_pid "$id")
	assert_ok ctrc t rm -f "$id"
	assert_ok ctrc c rm "$id"
	if pid_alive "$pid"; then fail "task process $pid survived ctr t rm -f"; fi
	assert_cgroup_gone "$id"
	[ ! -e "$(state_dir "$id")" ] || fail "runtime state $(state_dir "$id") left behind"
	assert_no_procs "$id"
}

# Kubernetes: the CRI plugin with silo as its runtime (BinaryName), the
# configuration docs/kubernetes.md documents.  A second private containerd with
# the CRI plugin enabled must start it ("ok"), and its effective configuration
# must name silo.  (Pods run through the CRI in test_cri.sh.)
test_cri_plugin_binary_name() {
	local d=$CTD_DIR/cri sock out
	sock=$d/cri.sock
	mkdir -p "$d"/{root,state}
	cat > "$d/config.toml" <<-EOF
	version = 2
	root = "$d/root"
	state = "$d/state"
	[grpc]
	  address = "$sock"
	[ttrpc]
	  address = "$sock.ttrpc"
	[plugins."io.containerd.grpc.v1.cri"]
	  disable_apparmor = true
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "$d/cni-bin"
	    conf_dir = "$d/cni-conf"
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    default_runtime_name = "silo"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.silo]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.silo.options]
	        BinaryName = "$RT_BIN"
	        SystemdCgroup = false
	EOF
	out=$(containerd --config "$d/config.toml" config dump 2>&1) || fail "config dump: $out"
	assert_contains "$out" "BinaryName = \"$RT_BIN\"" "effective CRI runtime options"
	assert_contains "$out" 'default_runtime_name = "silo"' "default CRI runtime"
	containerd --config "$d/config.toml" > "$d/log" 2>&1 < /dev/null &
	local pid=$!
	defer kill "$pid"
	wait_for 20 ctr -a "$sock" version || fail "CRI containerd did not come up: $(tail -n 5 "$d/log")"
	out=$(ctr -a "$sock" plugins ls 2>&1)
	assert_match "$out" 'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*ok' "CRI plugin status"
	kill "$pid"; wait "$pid" 2>/dev/null
	unmount_under "$d"
}

ctest ctr_run_echo test_run_echo
ctest ctr_run_exit_code test_run_exit_code
ctest ctr_run_missing_binary test_run_missing_binary
ctest ctr_run_rootfs test_run_rootfs
ctest ctr_run_tty test_run_tty
ctest ctr_run_detached test_run_detached
ctest ctr_exec test_exec
ctest ctr_exec_tty test_exec_tty
ctest ctr_pause_resume test_pause_resume
ctest ctr_metrics test_metrics
ctest ctr_ps test_ps
ctest ctr_kill test_kill
ctest ctr_delete_force test_delete_force
ctest ctr_cri_plugin_binary_name test_cri_plugin_binary_name
