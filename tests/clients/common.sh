# shellcheck shell=bash
# Shared harness for the client tests: silo driven by Podman (conmon),
# containerd (ctr + the io.containerd.runc.v2 shim) and Docker, each with
# PRIVATE storage, state, sockets, cgroup parents and bridges under $WORK, so
# nothing clashes with the host's own container engines.  Sourced by
# tests/clients/test_*.sh, on top of tests/lib/common.sh (run_test, the
# assertions, $WORK, the ok/FAIL/skip lines and the "# RESULT" line).
#
# The runtime is registered with every client under the name "silo", through a
# tiny wrapper ($RT_BIN) that logs each call's argv and exit status to $RT_LOG
# and runs $SILO (RUNTIME_TRACE=0 registers $SILO itself).  A failing test
# prints the runtime calls it made.  SILO=/usr/sbin/runc runs the same tests
# against runc, to validate them.
#
# Environment: SILO, TEST_FILTER, TEST_TIMEOUT (default 60 here), VERBOSE,
# RUNTIME_TRACE (default 1), KEEP_WORK=1 (leave $WORK for inspection; the
# daemons are stopped anyway).

CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
. "$CLIENTS_DIR/../lib/common.sh"

# Names that must be unique on the host: cgroup parents, containerd
# namespaces, bridges (at most 15 characters).
TAG=siloclients$$
BR_PODMAN=sl$$p
BR_DOCKER=sl$$d
# Private subnets for the bridges (the host end is .1).
PM_SUBNET=${PM_SUBNET:-10.233.77}
DK_SUBNET=${DK_SUBNET:-10.233.78}
IMAGE=localhost/busybox:test
RT_NAME=silo
RT_LOG=$WORK/runtime-calls.log
RT_BIN=$SILO
if is_runc; then RT_DEFAULT_ROOT=/run/runc; else RT_DEFAULT_ROOT=/run/silo; fi

# A container that runs until SIGTERM (pid 1 needs a handler to die of it).
SLEEPER='trap "exit 0" TERM; while :; do sleep 0.1; done'

# ---------------------------------------------------------------- runtime wrapper
: > "$RT_LOG"
if [ "${RUNTIME_TRACE:-1}" = 1 ]; then
	mkdir -p "$WORK/bin"
	RT_BIN=$WORK/bin/$RT_NAME
	cat > "$RT_BIN" <<-EOF
	#!/bin/sh
	# Log the call, run the runtime, log its exit status.
	line="[\$\$]"
	for a in "\$@"; do
		case \$a in *[[:space:]]* | '') line="\$line '\$a'" ;; *) line="\$line \$a" ;; esac
	done
	echo "\$line" >> '$RT_LOG'
	'$SILO' "\$@"
	rc=\$?
	echo "[\$\$] -> exit \$rc" >> '$RT_LOG'
	exit \$rc
	EOF
	chmod 755 "$RT_BIN"
fi

# Runtime calls since the current test started (see ctest).
runtime_calls() {
	local from=1
	[ -e "$T_DIR/trace-start" ] && from=$(($(cat "$T_DIR/trace-start") + 1))
	tail -n "+$from" "$RT_LOG" 2>/dev/null
}
# calls_of CMD: this test's runtime calls (argv lines) whose command is CMD.
calls_of() { runtime_calls | grep -E "^\[[0-9]+\]( --?[^ ]+( [^- ][^ ]*)?)* $1( |$)"; }
# assert_call CMD TEXT REASON: some call of CMD had TEXT in its argv (a no-op
# with RUNTIME_TRACE=0, when calls are not logged).
assert_call() {
	[ "${RUNTIME_TRACE:-1}" = 1 ] || return 0
	calls_of "$1" | grep -q -- "$2" || fail "$3"
}

# fail REASON: like tests/lib/common.sh, plus the runtime calls of this test.
fail() {
	echo "$*" > "$T_DIR/reason"
	{
		echo "FAILED: $*"
		echo "--- runtime calls of this test (argv, then exit status):"
		runtime_calls | tail -n 30
	} >&2
	exit 1
}

# ctest NAME FN: run_test, remembering where this test's runtime calls start.
_ct_fn=
_ct_run() { wc -l < "$RT_LOG" > "$T_DIR/trace-start"; "$_ct_fn"; }
ctest() { _ct_fn=$2; run_test "$1" _ct_run; }

# needs_runtime_cmd CMD: skip the test when the runtime has no CMD command.
needs_runtime_cmd() {
	"$SILO" "$1" --help >/dev/null 2>&1 ||
		skip "the runtime has no '$1' command (expected to fail until it does)"
}

# uniq_name PREFIX: a container name unique in this file.
uniq_name() { echo "$1-$RANDOM$RANDOM"; }

# ---------------------------------------------------------------- file-level setup & cleanup
# setup_fail REASON: a setup step failed: count it, skip nothing more, exit
# (the EXIT trap cleans up and prints the RESULT line).
setup_fail() {
	echo "FAIL setup: $*"
	N_FAIL=$((N_FAIL + 1))
	exit 1
}
# skip_file REASON: the whole file cannot run (a client is not installed).
skip_file() {
	echo "skip ${FILE_NAME:-clients}: $*"
	N_SKIP=$((N_SKIP + 1))
	exit 0
}
# need_clients CMD...: skip the file unless every CMD is installed.
need_clients() {
	local c
	for c; do
		command -v "$c" >/dev/null 2>&1 || skip_file "$c is not installed (run tests/deps-clients.sh)"
	done
}
FILE_NAME=$(basename "$0" .sh)
FILE_NAME=${FILE_NAME#test_}

# at_exit CMD...: run CMD when the file ends (LIFO), before the generic checks.
_AT_EXIT=()
at_exit() { _AT_EXIT+=("$(printf '%q ' "$@")"); }

# Host paths that the clients use whatever their private settings (the shims'
# socket dir, libcni's cache, c/image's blob-info cache, dockerd's plugin dir,
# the netns mount dir).  Those that did not exist before are removed at the end
# if empty.  (Podman's /dev/shm/libpod_lock, shared by every Podman on the
# host, is left alone.)
_HOST_SIDE_PATHS=(/run/containerd/fifo /run/containerd/s /run/containerd /var/run/docker/plugins /var/run/docker
	/var/lib/cni/results /var/lib/cni/networks /var/lib/cni /run/netns
	/var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache /var/lib/containers)
_HOST_NEW_PATHS=()
for _p in "${_HOST_SIDE_PATHS[@]}"; do [ -e "$_p" ] || _HOST_NEW_PATHS+=("$_p"); done
# Podman's bridge network (netavark or CNI) turns net.ipv4.ip_forward on and
# leaves it so: put back what the host had.
_FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)

clients_cleanup() {
	local i p
	trap '' INT TERM
	for ((i = ${#_AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${_AT_EXIT[i]}" >/dev/null 2>&1 < /dev/null || true
	done
	cleanup_tag_cgroups
	[ -z "$_FORWARD_BEFORE" ] || [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$_FORWARD_BEFORE" ] ||
		echo "$_FORWARD_BEFORE" > /proc/sys/net/ipv4/ip_forward
	for p in "${_HOST_NEW_PATHS[@]}"; do
		case "$p" in
		*.boltdb) [ -f "$p" ] && rm -f "$p" ;;
		*) [ -d "$p" ] && rmdir "$p" 2>/dev/null ;;
		esac
	done
	if [ "${KEEP_WORK:-0}" = 1 ]; then
		local keep=${WORK}.kept
		cp -a "$WORK" "$keep" 2>/dev/null && echo "# kept a copy of the work dir in $keep"
	fi
	return 0
}
trap 'clients_cleanup; finish' EXIT
trap 'exit 130' INT TERM

# cleanup_tag_cgroups: kill what is left in cgroups named after $TAG (the
# private cgroup parents and containerd namespaces), then remove them.
# Returns 1 when there were any.
cleanup_tag_cgroups() {
	local d p found=0
	for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$TAG*" 2>/dev/null); do
		found=1
		for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	[ "$found" = 1 ] || return 0
	sleep 0.2
	find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d -name "$TAG*" 2>/dev/null | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 1
}

# kill_matching PATTERN: SIGKILL processes whose command line contains PATTERN
# (only ever our private paths under $WORK).
kill_matching() {
	local p
	for p in $(pgrep -f -- "$1"); do
		[ "$p" != $$ ] && [ "$p" != "$BASHPID" ] && kill -9 "$p" 2>/dev/null
	done
	return 0
}

# stop_daemon PIDFILE|PID NAME: SIGTERM, wait up to 15 s, then SIGKILL.
stop_daemon() {
	local pid=$1 i
	[ -f "$pid" ] && pid=$(cat "$pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# unmount_under DIR: unmount everything mounted at or below DIR (deepest first).
unmount_under() {
	local m
	for m in $(awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	return 0
}

# ---------------------------------------------------------------- the image
# make_image: a busybox-static rootfs tarball, imported into a private Podman
# as $IMAGE; with "oci" / "docker", also saved to $WORK/busybox-oci.tar /
# $WORK/busybox-docker.tar for ctr and docker.
make_image() {
	local fmt
	build_rootfs "$ROOTFS" >/dev/null 2>&1 || setup_fail "cannot build the busybox rootfs (install busybox-static)"
	tar -C "$ROOTFS" -cf "$WORK/rootfs.tar" . || setup_fail "tar of the rootfs failed"
	podman_setup
	pm import "$WORK/rootfs.tar" "$IMAGE" > "$WORK/import.log" 2>&1 ||
		setup_fail "podman import failed: $(tail -n 5 "$WORK/import.log")"
	for fmt; do
		pm save --format "$fmt-archive" -o "$WORK/busybox-$fmt.tar" "$IMAGE" > "$WORK/save.log" 2>&1 ||
			setup_fail "podman save --format $fmt-archive failed: $(tail -n 5 "$WORK/save.log")"
	done
}

# ---------------------------------------------------------------- Podman
PM_DIR=$WORK/podman
PM_CGPARENT=/$TAG-podman
# pm ARGS...: podman with private storage, state and configuration.  Podman
# passes no --root to the runtime (its exit-command cleanup path drops
# --runtime-flag anyway), so the runtime keeps its state in its default root,
# $RT_DEFAULT_ROOT, under the 64-hex container ids.
pm() {
	CONTAINERS_CONF=$PM_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$PM_DIR/registries.conf \
		podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
		--network-config-dir "$PM_DIR/net" --cgroup-manager cgroupfs --events-backend file "$@"
}
# pm_run ARGS...: podman run in the private cgroup parent.
pm_run() { pm run --cgroup-parent "$PM_CGPARENT" "$@"; }

podman_setup() {
	[ -e "$PM_DIR/containers.conf" ] && return 0
	mkdir -p "$PM_DIR"/{root,runroot,tmp,net,cni}
	cat > "$PM_DIR/containers.conf" <<-EOF
	[containers]
	default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	image_copy_tmp_dir = "$PM_DIR/tmp"
	runtime = "$RT_NAME"
	runtime_supports_json = ["crun", "runc", "$RT_NAME"]
	[engine.runtimes]
	$RT_NAME = ["$RT_BIN"]
	[network]
	network_backend = "cni"
	network_config_dir = "$PM_DIR/net"
	EOF
	cat > "$PM_DIR/storage.conf" <<-EOF
	[storage]
	driver = "overlay"
	runroot = "$PM_DIR/runroot"
	graphroot = "$PM_DIR/root"
	EOF
	echo 'unqualified-search-registries = []' > "$PM_DIR/registries.conf"
	# A private CNI bridge network: its own bridge name, subnet and IPAM
	# directory, no iptables rules (no masquerading, no port mapping).
	cat > "$PM_DIR/net/silotest.conflist" <<-EOF
	{"cniVersion": "0.4.0", "name": "silotest", "plugins": [
	 {"type": "bridge", "bridge": "$BR_PODMAN", "isGateway": true, "ipMasq": false, "hairpinMode": true,
	  "ipam": {"type": "host-local", "dataDir": "$PM_DIR/cni",
	   "routes": [{"dst": "0.0.0.0/0"}],
	   "ranges": [[{"subnet": "$PM_SUBNET.0/24", "gateway": "$PM_SUBNET.1"}]]}}]}
	EOF
	at_exit podman_cleanup
}

podman_cleanup() {
	timeout 60 pm rm -a -f -t 0 >/dev/null 2>&1 < /dev/null
	kill_matching "$PM_DIR/"   # conmon of a container podman lost track of
	ip link del "$BR_PODMAN" 2>/dev/null
	unmount_under "$PM_DIR"
}

# pm_userdata NAME: the container's bundle (config.json; its oci-log is in the runroot twin).
pm_userdata() { echo "$PM_DIR/root/overlay-containers/$(pm inspect -f '{{.Id}}' "$1")/userdata"; }

# ---------------------------------------------------------------- containerd
CTD_DIR=$WORK/containerd
CTD_SOCK=$CTD_DIR/containerd.sock
CTD_NS=$TAG-ctr
CTD_RUNC_ROOT=$CTD_DIR/runc-root
ctrc() { ctr -a "$CTD_SOCK" -n "$CTD_NS" "$@"; }

# start_containerd: a private containerd (own root, state, sockets; no CRI).
start_containerd() {
	mkdir -p "$CTD_DIR"/{root,state,opt} "$CTD_RUNC_ROOT"
	cat > "$CTD_DIR/config.toml" <<-EOF
	version = 2
	root = "$CTD_DIR/root"
	state = "$CTD_DIR/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
	  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
	  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
	  "io.containerd.internal.v1.tracing"]
	[grpc]
	  address = "$CTD_SOCK"
	[ttrpc]
	  address = "$CTD_SOCK.ttrpc"
	[debug]
	  address = "$CTD_DIR/debug.sock"
	  level = "info"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$CTD_DIR/opt"
	EOF
	containerd --config "$CTD_DIR/config.toml" > "$CTD_DIR/containerd.log" 2>&1 < /dev/null &
	echo $! > "$CTD_DIR/pid"
	at_exit stop_containerd
	wait_for 20 ctr -a "$CTD_SOCK" version ||
		setup_fail "containerd did not come up: $(tail -n 5 "$CTD_DIR/containerd.log")"
}

# ctr_cleanup_ns NS: remove every task and container of containerd namespace NS.
ctr_cleanup_ns() {
	local id
	for id in $(ctr -a "$CTD_SOCK" -n "$1" c ls -q 2>/dev/null); do
		timeout 20 ctr -a "$CTD_SOCK" -n "$1" t kill -s SIGKILL "$id" >/dev/null 2>&1
		timeout 20 ctr -a "$CTD_SOCK" -n "$1" t rm -f "$id" >/dev/null 2>&1
		timeout 20 ctr -a "$CTD_SOCK" -n "$1" c rm "$id" >/dev/null 2>&1
	done
}

stop_containerd() {
	ctr_cleanup_ns "$CTD_NS"
	stop_daemon "$CTD_DIR/pid"
	kill_matching "$CTD_SOCK"   # shims outlive containerd by design
	unmount_under "$CTD_DIR"
}

# ctr_rm ID: kill and delete task and container ID (test cleanup).
ctr_rm() {
	timeout 20 ctrc t kill -s SIGKILL "$1"
	timeout 20 ctrc t rm -f "$1"
	timeout 20 ctrc c rm "$1"
}

# ---------------------------------------------------------------- Docker
DK_DIR=$WORK/docker
DK_SOCK=$DK_DIR/docker.sock
DK_NS=$TAG-moby
DOCKER_CLI=/usr/bin/docker   # the CLI of the docker.io package (matches its dockerd)
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker || echo docker)
dk() { DOCKER_HOST=unix://$DK_SOCK DOCKER_CONFIG=$DK_DIR/cli "$DOCKER_CLI" "$@"; }

# start_dockerd: a private dockerd (data root, exec root, pidfile, socket,
# key, cgroup parent) on the private containerd, with the runtime added as
# "silo" and no iptables / ip_forward changes.
start_dockerd() {
	mkdir -p "$DK_DIR"/{data,exec,cli}
	printf '{"deprecated-key-path": "%s"}\n' "$DK_DIR/key.json" > "$DK_DIR/daemon.json"
	dockerd --config-file "$DK_DIR/daemon.json" --data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/dockerd.pid" -H "unix://$DK_SOCK" \
		--containerd "$CTD_SOCK" --containerd-namespace "$DK_NS" --containerd-plugins-namespace "$TAG-plugins" \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false --userland-proxy=false \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$TAG-docker" \
		--add-runtime "$RT_NAME=$RT_BIN" > "$DK_DIR/dockerd.log" 2>&1 < /dev/null &
	echo $! > "$DK_DIR/pid"
	at_exit stop_dockerd
	wait_for 30 dk version ||
		setup_fail "dockerd did not come up: $(tail -n 5 "$DK_DIR/dockerd.log")"
}

stop_dockerd() {
	local ids
	ids=$(timeout 20 dk ps -aq 2>/dev/null)
	[ -z "$ids" ] || timeout 60 dk rm -f $ids >/dev/null 2>&1
	timeout 20 dk network rm silonet >/dev/null 2>&1
	stop_daemon "$DK_DIR/pid"
	ctr_cleanup_ns "$DK_NS"
	kill_matching "$DK_DIR/"
	ip link del "$BR_DOCKER" 2>/dev/null
	unmount_under "$DK_DIR"   # dockerd bind-mounts its data root onto itself
}

# dk_bundle NAME: the bundle (config.json) containerd made for docker container NAME.
dk_bundle() { echo "$CTD_DIR/state/io.containerd.runtime.v2.task/$DK_NS/$(dk inspect -f '{{.Id}}' "$1")"; }

# ---------------------------------------------------------------- checks
# assert_cgroup_gone ID: no cgroup directory of any hierarchy is named after ID.
assert_cgroup_gone() {
	local left
	left=$(cgroup_dirs_of "$1")
	[ -z "$left" ] || fail "cgroup left behind for $1: $left"
}
# assert_no_procs PATTERN: no live process has PATTERN in its command line.
assert_no_procs() {
	local p
	for p in $(pgrep -f -- "$1"); do
		pid_alive "$p" && fail "process $p left behind: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	done
	return 0
}
# assert_cgroup_empty ID: no process left in the container's (pids) cgroup.
assert_cgroup_empty() {
	local d
	for d in $(find /sys/fs/cgroup/pids -maxdepth 4 -type d -name "*$1*" 2>/dev/null); do
		wait_for 5 test ! -s "$d/cgroup.procs" ||
			fail "processes left in $d: $(tr '\n' ' ' < "$d/cgroup.procs")"
	done
	return 0
}
# cgroup_file ID CONTROLLER FILE: a cgroup v1 file of the container's cgroup.
cgroup_file() {
	local d
	d=$(find "/sys/fs/cgroup/$2" -maxdepth 4 -type d -name "*$1*" 2>/dev/null | head -n1)
	[ -n "$d" ] && cat "$d/$3"
}
