#!/bin/bash
# silo under Kubernetes' CRI: pods driven the way the kubelet drives them,
# through containerd's CRI plugin -> the io.containerd.runc.v2 shim -> silo
# (runtime handler "silo", BinaryName) next to runc (handler "runc", the
# default).  The client is tests/clients/cri/cri.py (CRI v1 over gRPC), the
# containerd is private (own root, state, socket, config), CNI is Debian's
# bridge + host-local on a private bridge, subnet and IPAM store, and the
# pause and busybox images are built here and imported with ctr.  Every step
# is checked from the CRI side and from the host (silo's state root, cgroups,
# mounts, the IPAM store).
. "$(dirname "$0")/common.sh"
TEST_TIMEOUT=${CRI_TEST_TIMEOUT:-180}   # a pod test makes ~20 CRI calls; slow on a loaded 2-core box

PY=/usr/bin/python3   # Debian's python, with python3-grpcio (not a pyenv one)
need_clients containerd ctr gcc protoc jq
"$PY" -c 'import grpc, google.protobuf' 2>/dev/null ||
	skip_file "$PY cannot import grpc/protobuf (run tests/deps-clients.sh: python3-grpcio python3-protobuf)"

CRI_DIR=$WORK/cri
CRI_SOCK=$CRI_DIR/containerd.sock
SILO_ROOT=$CRI_DIR/silo-root   # the silo handler's --root
RUNC_ROOT=$CRI_DIR/runc-root   # the runc handler's --root
CNI_NET=silocri$$
CNI_BR=slc$$
CNI_SUBNET=${CRI_SUBNET:-10.244.77}
IPAM_DIR=$CRI_DIR/cni-ipam
CG_PARENT=/$TAG-cri
PAUSE_IMAGE=localhost/silo-pause:test
BUSYBOX_IMAGE=localhost/silo-busybox:test
export CRI_PROTO_OUT=$WORK/cri-proto
. "$TESTS_DIR/lib/image.sh"

cri() { "$PY" "$CLIENTS_DIR/cri/cri.py" -r "$CRI_SOCK" "$@"; }

# ---------------------------------------------------------------- setup
# The images: the pause program built static and alone in its image; busybox
# from the suite's busybox-static rootfs.
make_cri_images() {
	local d=$WORK/pause-root arch
	arch=$(image_arch)
	mkdir -p "$d"
	gcc -static -O2 -o "$d/pause" "$CLIENTS_DIR/cri/pause.c" > "$WORK/gcc.log" 2>&1 ||
		setup_fail "cannot build the pause program: $(tail -n 5 "$WORK/gcc.log")"
	make_docker_image "$WORK/pause.tar" "$WORK/img-tmp" "$arch" '{"Entrypoint": ["/pause"]}' "$PAUSE_IMAGE" "$d" ||
		setup_fail "cannot make the pause image"
	build_rootfs "$ROOTFS" >/dev/null 2>&1 || setup_fail "cannot build the busybox rootfs (install busybox-static)"
	make_docker_image "$WORK/busybox.tar" "$WORK/img-tmp" "$arch" \
		'{"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' \
		"$BUSYBOX_IMAGE" "$ROOTFS" || setup_fail "cannot make the busybox image"
}

start_cri_containerd() {
	mkdir -p "$CRI_DIR"/{root,state,cni-conf,logs} "$SILO_ROOT" "$RUNC_ROOT" "$IPAM_DIR"
	# Bridge + host-local on a private bridge, subnet and IPAM store; no
	# iptables (ipMasq off, no portmap).
	cat > "$CRI_DIR/cni-conf/10-silocri.conflist" <<-EOF
	{"cniVersion": "0.4.0", "name": "$CNI_NET", "plugins": [
	 {"type": "bridge", "bridge": "$CNI_BR", "isGateway": true, "ipMasq": false,
	  "ipam": {"type": "host-local", "dataDir": "$IPAM_DIR",
	   "routes": [{"dst": "0.0.0.0/0"}],
	   "ranges": [[{"subnet": "$CNI_SUBNET.0/24", "gateway": "$CNI_SUBNET.1"}]]}}]}
	EOF
	cat > "$CRI_DIR/config.toml" <<-EOF
	version = 2
	root = "$CRI_DIR/root"
	state = "$CRI_DIR/state"
	disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
	  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
	  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
	[grpc]
	  address = "$CRI_SOCK"
	[ttrpc]
	  address = "$CRI_SOCK.ttrpc"
	[debug]
	  address = "$CRI_DIR/debug.sock"
	  level = "info"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$CRI_DIR/opt"
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "$PAUSE_IMAGE"
	  disable_apparmor = true
	  # Keep the sandbox's oom_score_adj at or above containerd's own: lowering it
	  # needs CAP_SYS_RESOURCE, which a test host inside a container may lack.
	  restrict_oom_score_adj = true
	  stream_server_address = "127.0.0.1"
	  stream_server_port = "0"
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "$CRI_DIR/cni-conf"
	    max_conf_num = 1
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    default_runtime_name = "runc"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	        Root = "$RUNC_ROOT"
	        SystemdCgroup = false
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.silo]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.silo.options]
	        BinaryName = "$RT_BIN"
	        Root = "$SILO_ROOT"
	        SystemdCgroup = false
	EOF
	containerd --config "$CRI_DIR/config.toml" > "$CRI_DIR/containerd.log" 2>&1 < /dev/null &
	echo $! > "$CRI_DIR/pid"
	at_exit stop_cri_containerd
	wait_for 30 ctr -a "$CRI_SOCK" version >/dev/null 2>&1 ||
		setup_fail "containerd did not come up: $(tail -n 5 "$CRI_DIR/containerd.log")"
	ctr -a "$CRI_SOCK" plugins ls 2>/dev/null | grep -Eq 'io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*ok' ||
		skip_file "containerd's CRI plugin did not start: $(grep -i 'cri' "$CRI_DIR/containerd.log" | grep -iE 'error|fail' | tail -n 2)"
	wait_for 20 cri info >/dev/null 2>&1 || setup_fail "the CRI endpoint does not answer: $(cri info 2>&1 | tail -n 2)"
	local f
	for f in pause busybox; do
		ctr -a "$CRI_SOCK" -n k8s.io images import "$WORK/$f.tar" > "$WORK/import-$f.log" 2>&1 ||
			setup_fail "ctr images import $f failed: $(tail -n 5 "$WORK/import-$f.log")"
	done
}

# Remove every pod (and so every container) the CRI knows, then containerd.
stop_cri_containerd() {
	local p
	for p in $(cri pods 2>/dev/null | jq -r '.items[]?.id'); do
		timeout 60 "$PY" "$CLIENTS_DIR/cri/cri.py" -r "$CRI_SOCK" stopp "$p"
		timeout 60 "$PY" "$CLIENTS_DIR/cri/cri.py" -r "$CRI_SOCK" rmp "$p"
	done
	ctr_cleanup_ns k8s.io
	stop_daemon "$CRI_DIR/pid"
	kill_matching "$CRI_SOCK"   # shims outlive containerd by design
	unmount_under "$CRI_DIR"
	ip link del "$CNI_BR" 2>/dev/null
	# The pods' network namespaces containerd did not get to remove.
	local ns
	for ns in $(cat "$CRI_DIR/netns.list" 2>/dev/null); do
		[ -e "$ns" ] || continue
		umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null
		rm -f "$ns"
	done
	return 0
}
CTD_SOCK=$CRI_SOCK   # for ctr_cleanup_ns

make_cri_images
start_cri_containerd

# ---------------------------------------------------------------- helpers
# pod_config NAME [JQ_FILTER]: write $T_DIR/NAME.pod.json (a PodSandboxConfig
# as the kubelet sends it: metadata, hostname, log directory, cgroup parent,
# pod-level network/ipc, container-level pid namespaces), print its path.
pod_config() {
	local name=$1 filter=${2:-.} uid f=$T_DIR/$1.pod.json
	uid=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$T_DIR/logs/$name"
	jq -n --arg name "$name" --arg uid "$uid" --arg logs "$T_DIR/logs/$name" --arg cg "$CG_PARENT/pod$uid" \
		'{metadata: {name: $name, uid: $uid, namespace: "silo-test", attempt: 0},
		  hostname: ($name + "-host"), log_directory: $logs,
		  labels: {"silo-test": "cri"},
		  linux: {cgroup_parent: $cg,
		    security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}}' |
		jq "$filter" > "$f" || fail "bad pod filter $filter"
	echo "$f"
}
# The masked and read-only paths the kubelet sends for every unprivileged
# container (its default procMount).
KUBELET_MASKED='["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]'
KUBELET_READONLY='["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]'
# ctr_config NAME [JQ_FILTER] -- CMD...: write $T_DIR/NAME.ctr.json (a
# ContainerConfig on the busybox image running CMD, logging to NAME.log,
# with the kubelet's masked and read-only paths), print its path.
ctr_config() {
	local name=$1 filter=. f=$T_DIR/$1.ctr.json
	shift
	if [ "$1" != -- ]; then filter=$1; shift; fi
	shift
	jq -n --arg name "$name" --arg image "$BUSYBOX_IMAGE" --argjson cmd "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		'{metadata: {name: $name, attempt: 0}, image: {image: $image}, command: $cmd, log_path: ($name + ".log"),
		linux: {security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"},
		  masked_paths: $masked, readonly_paths: $ro}}}' --argjson masked "$KUBELET_MASKED" \
		--argjson ro "$KUBELET_READONLY" | jq "$filter" > "$f" || fail "bad container filter $filter"
	echo "$f"
}

# run_pod NAME [HANDLER] [JQ_FILTER]: RunPodSandbox; sets POD (its id) and POD_CFG.
# The pod is stopped and removed when the test ends.
run_pod() {
	POD_CFG=$(pod_config "$1" "${3:-.}") || exit 1
	POD=$(cri runp --runtime "${2-silo}" "$POD_CFG") || fail "RunPodSandbox $1: $POD"
	defer cri_rm_pod "$POD"
	POD_NETNS=$(pod_field "$POD" '.info.info | fromjson | .runtimeSpec.linux.namespaces[] | select(.type == "network") | .path')
	echo "$POD_NETNS" >> "$CRI_DIR/netns.list"
}
cri_rm_pod() { cri stopp "$1"; cri rmp "$1"; }

# run_ctr NAME [JQ_FILTER] -- CMD...: create and start a container in $POD;
# sets CID.
run_ctr() {
	local cfg
	cfg=$(ctr_config "$@") || exit 1
	CID=$(cri create "$POD" "$cfg" "$POD_CFG") || fail "CreateContainer $1: $CID"
	local out
	out=$(cri start "$CID" 2>&1) || fail "StartContainer $1: $out"
}

pod_field() { cri inspectp "$1" | jq -r "$2"; }              # POD JQ
ctr_field() { cri inspect "$1" | jq -r "$2"; }               # ID JQ
ctr_state() { ctr_field "$1" .status.state; }
ctr_state_is() { [ "$(ctr_state "$1")" = "$2" ]; }
ctr_pid() { ctr_field "$1" '.info.info | fromjson | .pid'; }
pod_pid() { pod_field "$1" '.info.info | fromjson | .pid'; }
# The pod's runtime handler, from the verbose info (containerd 1.6 leaves
# PodSandboxStatus.runtime_handler empty).
pod_handler() { pod_field "$1" '.info.info | fromjson | .runtimeHandler'; }
ns_ino() { readlink "/proc/$1/ns/$2"; }                       # PID TYPE

# The container runs on silo: its state is in silo's root (the shim's
# Root), under containerd's namespace, and not in runc's.
assert_on_silo() {
	[ -d "$SILO_ROOT/k8s.io/$1" ] || fail "$1 is not in silo's state root $SILO_ROOT/k8s.io (ls: $(ls "$SILO_ROOT/k8s.io" 2>&1))"
	[ ! -e "$RUNC_ROOT/k8s.io/$1" ] || fail "$1 is in runc's state root too"
	assert_call create "$1" "silo was not called to create $1"
}
ipam_files() { grep -rl -- "$1" "$IPAM_DIR" 2>/dev/null; }   # ID: host-local's records of ID

# SLEEPER (common.sh) runs until SIGTERM.
TERM_SLEEPER='trap "echo got-term; exit 0" TERM; while :; do sleep 0.1; done'

# ---------------------------------------------------------------- tests
test_runp() {
	local ip pid
	run_pod runp
	assert_eq SANDBOX_READY "$(pod_field "$POD" .status.state)" "pod state"
	assert_eq silo "$(pod_handler "$POD")" "runtime handler"
	ip=$(pod_field "$POD" .status.network.ip)
	assert_match "$ip" "^$CNI_SUBNET\.[0-9]+$" "pod IP from CNI"
	assert_on_silo "$POD"
	pid=$(pod_pid "$POD")
	pid_alive "$pid" || fail "pause process $pid not alive"
	assert_eq /pause "$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed 's/ $//')" "sandbox process"
	assert_eq "runp-host" "$(nsenter -t "$pid" -u hostname)" "hostname in the pod's UTS namespace"
	assert_contains "$(nsenter -t "$pid" -n ip -4 addr show eth0)" "$ip/24" "eth0 in the pod's netns"
	[ -n "$(ipam_files "$POD")" ] || fail "no host-local record for the pod in $IPAM_DIR"
	grep -q "$CG_PARENT/pod" "/proc/$pid/cgroup" || fail "pause not under the pod's cgroup parent: $(cat "/proc/$pid/cgroup")"
}

test_two_containers() {
	local ppid a b pa pb t
	run_pod two
	run_ctr a -- sh -c "$SLEEPER"
	a=$CID
	run_ctr b -- sh -c "$SLEEPER"
	b=$CID
	assert_on_silo "$a"
	assert_on_silo "$b"
	ppid=$(pod_pid "$POD")
	pa=$(ctr_pid "$a")
	pb=$(ctr_pid "$b")
	for t in net ipc uts; do
		assert_eq "$(ns_ino "$ppid" $t)" "$(ns_ino "$pa" $t)" "$t namespace of a vs the sandbox"
		assert_eq "$(ns_ino "$ppid" $t)" "$(ns_ino "$pb" $t)" "$t namespace of b vs the sandbox"
	done
	for t in mnt pid; do
		assert_ne "$(ns_ino "$pa" $t)" "$(ns_ino "$pb" $t)" "$t namespace of a vs b"
		assert_ne "$(ns_ino "$ppid" $t)" "$(ns_ino "$pa" $t)" "$t namespace of a vs the sandbox"
	done
	assert_ok cri exec-sync "$a" hostname
	assert_eq two-host "$OUT" "hostname in a container"
	assert_ok cri exec-sync "$b" ip -4 -o addr show eth0
	assert_contains "$OUT" "$(pod_field "$POD" .status.network.ip)/" "b sees the pod's address"
	# The pod's /dev/shm is shared too: what a writes there, b reads.
	assert_ok cri exec-sync "$a" sh -c 'echo shm-from-a > /dev/shm/x'
	assert_ok cri exec-sync "$b" cat /dev/shm/x
	assert_eq shm-from-a "$OUT" "b reads a's /dev/shm"
	assert_ok cri exec-sync "$a" ps -o pid,args
	assert_not_contains "$OUT" /pause "a's own pid namespace shows the pause process"
	assert_ok cri ps --pod "$POD"
	assert_eq 2 "$(jq '[.containers[] | select(.state == "CONTAINER_RUNNING")] | length' <<< "$OUT")" "running containers in ListContainers"
}

test_shared_pid() {
	local ppid
	run_pod sharedpid silo '.linux.security_context.namespace_options.pid = "POD"'
	run_ctr a '.linux.security_context.namespace_options.pid = "POD"' -- sh -c "$SLEEPER"
	ppid=$(pod_pid "$POD")
	assert_eq "$(ns_ino "$ppid" pid)" "$(ns_ino "$(ctr_pid "$CID")" pid)" "pid namespace of the container vs the sandbox"
	assert_ok cri exec-sync "$CID" ps -o pid,args
	assert_match "$OUT" '(^|[[:space:]])1 +/pause' "pid 1 of the pod is the pause process"
}

test_exec() {
	local c
	run_pod exec
	run_ctr c -- sh -c "$SLEEPER"
	c=$CID
	assert_eq CONTAINER_RUNNING "$(ctr_state "$c")" "ContainerStatus state"
	assert_eq c "$(ctr_field "$c" .status.metadata.name)" "ContainerStatus name"
	assert_status 3 cri exec-sync "$c" sh -c 'echo out-sync; echo err-sync >&2; exit 3'
	assert_contains "$OUT" out-sync "ExecSync stdout"
	assert_contains "$OUT" err-sync "ExecSync stderr"
	assert_ok cri exec-sync "$c" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	assert_contains "$OUT" "trap" "ExecSync runs in the container"
	assert_status 5 cri exec "$c" sh -c 'echo out-stream; echo err-stream >&2; exit 5'
	assert_contains "$OUT" out-stream "streaming Exec stdout"
	assert_contains "$OUT" err-stream "streaming Exec stderr"
	assert_fail cri exec-sync "$c" /no/such/binary
	assert_call exec '--process' "the shim did not call silo exec --process"
}

# Streaming Exec with a tty, as `kubectl exec -it` asks it (tty and stdin;
# cri.py sends nothing on stdin).  (A tty without stdin, which kubectl does
# not send, loses output under containerd 1.6 with runc and silo alike.)
test_exec_tty() {
	run_pod exectty
	run_ctr c -- sh -c "$SLEEPER"
	# (a moment before the exit: a tty exec that exits at once may lose its
	# last output in the CRI's copy)
	assert_ok cri exec -t "$CID" sh -c "tty; sleep 1"
	assert_match "$OUT" '/dev/pts/[0-9]+' "streaming Exec with a tty"
	assert_call exec '--console-socket' "a tty exec without --console-socket"
}

test_logs() {
	local f
	run_pod logs
	run_ctr l -- sh -c 'echo to-stdout; echo to-stderr >&2; printf no-newline; sleep 0.2; exit 0'
	wait_for 20 ctr_state_is "$CID" CONTAINER_EXITED || fail "container did not exit: $(ctr_state "$CID")"
	f=$(ctr_field "$CID" .status.log_path)
	assert_eq "$T_DIR/logs/logs/l.log" "$f" "log path"
	[ -s "$f" ] || fail "no log file $f"
	# TIMESTAMP STREAM TAG MESSAGE, TIMESTAMP in RFC 3339 with nanoseconds.
	local re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) (stdout|stderr) (F|P) '
	while IFS= read -r line; do
		assert_match "$line" "$re" "log line in the CRI format"
	done < "$f"
	assert_match "$(cat "$f")" "stdout F to-stdout" "stdout line"
	assert_match "$(cat "$f")" "stderr F to-stderr" "stderr line"
	assert_match "$(cat "$f")" "stdout P no-newline" "a partial line"
	assert_ok cri logs "$CID"
	assert_contains "$OUT" to-stdout "cri logs"
	assert_eq 0 "$(ctr_field "$CID" .status.exit_code)" "exit code"
	assert_eq Completed "$(ctr_field "$CID" .status.reason)" "reason"
}

test_update_stats() {
	local c res
	run_pod update
	run_ctr u '.linux.resources = {memory_limit_in_bytes: 134217728, cpu_period: 100000, cpu_quota: 50000}' \
		-- sh -c "$SLEEPER"
	c=$CID
	assert_ok cri exec-sync "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	assert_eq 134217728 "$OUT" "memory limit inside at create"
	assert_eq 134217728 "$(cgroup_file "$c" memory memory.limit_in_bytes)" "memory limit on the host at create"
	res=$T_DIR/res.json
	echo '{"memory_limit_in_bytes": 67108864, "cpu_period": 100000, "cpu_quota": 20000, "cpu_shares": 512}' > "$res"
	assert_ok cri update "$c" "$res"
	assert_call update '--resources' "the shim did not call silo update --resources"
	assert_ok cri exec-sync "$c" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	assert_eq 67108864 "$OUT" "memory limit inside after UpdateContainerResources"
	assert_ok cri exec-sync "$c" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us
	assert_eq 20000 "$OUT" "cpu quota inside after UpdateContainerResources"
	assert_eq 512 "$(cgroup_file "$c" cpu cpu.shares)" "cpu shares on the host"
	assert_eq 67108864 "$(ctr_field "$c" .status.resources.linux.memory_limit_in_bytes)" "ContainerStatus resources"
	assert_ok cri exec-sync "$c" sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
	assert_ok cri stats "$c"
	local ws cpu
	ws=$(jq -r '.stats.memory.working_set_bytes.value // 0' <<< "$OUT")
	cpu=$(jq -r '.stats.cpu.usage_core_nano_seconds.value // 0' <<< "$OUT")
	[ "$ws" -gt 0 ] || fail "ContainerStats: no working set: $OUT"
	[ "$cpu" -gt 0 ] || fail "ContainerStats: no cpu usage: $OUT"
	assert_eq "$c" "$(jq -r .stats.attributes.id <<< "$OUT")" "ContainerStats id"
}

test_security() {
	local c
	run_pod sec
	run_ctr s '.linux.security_context += {run_as_user: {value: 65534}, readonly_rootfs: true,
		capabilities: {drop_capabilities: ["ALL"]}, seccomp: {profile_type: "RuntimeDefault"}}' -- sh -c "$SLEEPER"
	c=$CID
	assert_ok cri exec-sync "$c" id -u
	assert_eq 65534 "$OUT" "runAsUser"
	assert_fail cri exec-sync "$c" touch /rootfs-write
	assert_contains "$OUT" "Read-only file system" "read-only root"
	assert_ok cri exec-sync "$c" cat /proc/1/status
	assert_match "$OUT" 'CapEff:[[:space:]]+0000000000000000' "all capabilities dropped"
	assert_match "$OUT" 'Seccomp:[[:space:]]+2' "runtime default seccomp profile"
	assert_match "$OUT" 'NoNewPrivs:[[:space:]]+0' "no_new_privs as asked (off)"
	# Masked paths (the kubelet's, those that exist on this kernel): /dev/null
	# bound over them; read-only paths.
	assert_ok cri exec-sync "$c" stat -c '%n %F %t:%T' /proc/keys /proc/timer_list
	assert_eq "$(printf '/proc/keys character special file 1:3\n/proc/timer_list character special file 1:3')" \
		"$OUT" "masked /proc/keys and /proc/timer_list"
	assert_fail cri exec-sync "$c" sh -c 'echo 1 > /proc/sys/vm/overcommit_memory'
	assert_contains "$OUT" "Read-only file system" "read-only /proc/sys"
	# privileged: false by default: a root container keeps only the default set.
	run_ctr d -- sh -c "$SLEEPER"
	assert_ok cri exec-sync "$CID" cat /proc/1/status
	assert_match "$OUT" 'CapEff:[[:space:]]+00000000a80425fb' "default capabilities of an unprivileged container"
	assert_fail cri exec-sync "$CID" sh -c 'echo 1 > /proc/sys/kernel/domainname'
	assert_fail cri exec-sync "$CID" mount -t tmpfs none /mnt
}

test_stop_remove() {
	local t0 t1 pid ppid g k
	run_pod stop
	[ -e "$POD_NETNS" ] || fail "no netns $POD_NETNS for the pod"
	ppid=$(pod_pid "$POD")
	run_ctr g -- sh -c "$TERM_SLEEPER"
	g=$CID
	run_ctr k -- sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	k=$CID
	pid=$(ctr_pid "$k")
	# Graceful: SIGTERM, the container exits 0 by itself.
	assert_ok cri stop -t 30 "$g"
	assert_eq CONTAINER_EXITED "$(ctr_state "$g")" "state after a graceful stop"
	assert_eq 0 "$(ctr_field "$g" .status.exit_code)" "exit code after a graceful stop"
	assert_contains "$(cat "$T_DIR/logs/stop/g.log")" got-term "the container saw SIGTERM"
	# Ignores SIGTERM: killed when the grace period ends.
	t0=$(date +%s)
	assert_ok cri stop -t 2 "$k"
	t1=$(date +%s)
	[ $((t1 - t0)) -ge 2 ] || fail "StopContainer -t 2 returned after $((t1 - t0)) s, before the grace period"
	assert_eq 137 "$(ctr_field "$k" .status.exit_code)" "exit code after the grace period (SIGKILL)"
	if pid_alive "$pid"; then fail "container process $pid survived StopContainer"; fi
	assert_ok cri rm "$g"
	assert_ok cri rm "$k"
	assert_fail cri inspect "$g"
	[ ! -e "$SILO_ROOT/k8s.io/$g" ] || fail "silo state of $g left after RemoveContainer"
	assert_cgroup_gone "$g"
	assert_ok cri stopp "$POD"
	assert_eq SANDBOX_NOTREADY "$(pod_field "$POD" .status.state)" "pod state after StopPodSandbox"
	if pid_alive "$ppid"; then fail "pause $ppid survived StopPodSandbox"; fi
	[ -z "$(ipam_files "$POD")" ] || fail "host-local still holds an address for the pod: $(ipam_files "$POD")"
	[ -n "$POD_NETNS" ] && [ ! -e "$POD_NETNS" ] || fail "the pod's netns $POD_NETNS left after StopPodSandbox"
	assert_ok cri rmp "$POD"
	assert_fail cri inspectp "$POD"
	local id
	for id in "$POD" "$g" "$k"; do
		[ ! -e "$SILO_ROOT/k8s.io/$id" ] || fail "silo state of $id left behind"
		assert_cgroup_gone "$id"
		! grep -q "$id" /proc/self/mountinfo || fail "mount of $id left: $(grep "$id" /proc/self/mountinfo | head -n 2)"
	done
	[ -z "$(cri pods | jq -r ".items[]? | select(.id == \"$POD\") | .id")" ] || fail "pod still listed"
}

test_oom() {
	run_pod oom
	run_ctr o '.linux.resources = {memory_limit_in_bytes: 33554432, memory_swap_limit_in_bytes: 33554432}' \
		-- sh -c 'tail /dev/zero'
	wait_for 60 ctr_state_is "$CID" CONTAINER_EXITED || fail "container not killed: $(ctr_state "$CID")"
	assert_eq OOMKilled "$(ctr_field "$CID" .status.reason)" "ContainerStatus reason"
	assert_eq 137 "$(ctr_field "$CID" .status.exit_code)" "exit code"
}

test_runtime_class() {
	local rpod spod rc sc
	run_pod on-runc ''          # no handler: the default, runc
	rpod=$POD
	run_ctr r -- sh -c "$SLEEPER"
	rc=$CID
	run_pod on-silo silo
	spod=$POD
	run_ctr s -- sh -c "$SLEEPER"
	sc=$CID
	assert_ne silo "$(pod_handler "$rpod")" "handler of the pod without one (the default)"
	assert_eq silo "$(pod_handler "$spod")" "handler of the silo pod"
	assert_on_silo "$spod"
	assert_on_silo "$sc"
	local id
	for id in "$rpod" "$rc"; do
		[ -d "$RUNC_ROOT/k8s.io/$id" ] || fail "$id is not in runc's state root"
		[ ! -e "$SILO_ROOT/k8s.io/$id" ] || fail "$id of the runc pod is in silo's root"
		if runtime_calls | grep -q -- "$id"; then fail "silo was called for $id of the runc pod"; fi
	done
	assert_ok cri exec-sync "$rc" echo from-runc
	assert_eq from-runc "$OUT" "exec in the runc pod"
	assert_ok cri exec-sync "$sc" echo from-silo
	assert_eq from-silo "$OUT" "exec in the silo pod"
	assert_ne "$(pod_field "$rpod" .status.network.ip)" "$(pod_field "$spod" .status.network.ip)" "pod IPs"
}

ctest cri_runp test_runp
ctest cri_two_containers test_two_containers
ctest cri_shared_pid test_shared_pid
ctest cri_exec test_exec
ctest cri_exec_tty test_exec_tty
ctest cri_logs test_logs
ctest cri_update_stats test_update_stats
ctest cri_security test_security
ctest cri_stop_remove test_stop_remove
ctest cri_oom test_oom
ctest cri_runtime_class test_runtime_class
