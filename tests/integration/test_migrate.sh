#!/bin/bash
# silo migrate / migrate-receive between two "hosts" on one machine: two network
# namespaces (silo-mig-src-$$, silo-mig-dst-$$) joined by a veth pair with
# 10.250.X.1/30 and 10.250.X.2/30, each side with its own --root.  silo enters them
# with `nsenter --net` only (`ip netns exec` would remount /sys and hide the
# cgroups).  Received containers go to the cgroup parent /silo-mig-dst-$$ so that
# they never share a cgroup with the source's copy.
#
# What moves a container's address with it: the container joins a network
# namespace the test makes (silo-mig-ct-$$, 10.250.X.5/30, reached by a client in
# silo-mig-cl-$$ at 10.250.X.6/30); on a real destination that namespace is made
# beforehand with the same address, and the receiver checks it exists.  The TCP
# connection itself is dumped and restored by CRIU (migrate always passes
# --tcp-established).
#
# CRIU 4 comes from tests/lib/criu.sh; every test that needs it skips when it
# cannot be set up.  Precopy and hybrid need soft-dirty page tracking and skip
# (with a test that they are refused) on kernels without it.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/criu.sh"

[ "$TEST_TIMEOUT" = 30 ] && TEST_TIMEOUT=90

criu_test_init

NET=$(( $$ % 250 + 1 ))
NS_SRC=silo-mig-src-$$ NS_DST=silo-mig-dst-$$ NS_CT=silo-mig-ct-$$ NS_CL=silo-mig-cl-$$
SRC_IP=10.250.$NET.1 DST_IP=10.250.$NET.2 CT_IP=10.250.$NET.5 CL_IP=10.250.$NET.6
CG_PARENT=/silo-mig-dst-$$
TOKEN=$WORK/token
HOSTS_SKIP=""

# ------------------------------------------------------------------ the two hosts

hosts_up() {
	command -v ip >/dev/null && command -v nsenter >/dev/null || { HOSTS_SKIP="needs ip and nsenter"; return; }
	ip netns add "$NS_SRC" 2>/dev/null && ip netns add "$NS_DST" 2>/dev/null ||
		{ HOSTS_SKIP="cannot create network namespaces"; return; }
	ip link add "smg$$s" type veth peer name "smg$$d" || { HOSTS_SKIP="cannot create a veth pair"; return; }
	ip link set "smg$$s" netns "$NS_SRC" && ip link set "smg$$d" netns "$NS_DST" &&
		ip -n "$NS_SRC" addr add "$SRC_IP/30" dev "smg$$s" && ip -n "$NS_DST" addr add "$DST_IP/30" dev "smg$$d" &&
		ip -n "$NS_SRC" link set "smg$$s" up && ip -n "$NS_DST" link set "smg$$d" up &&
		ip -n "$NS_SRC" link set lo up && ip -n "$NS_DST" link set lo up ||
		{ HOSTS_SKIP="cannot configure the veth pair"; return; }
	# the container's network and a client's
	ip netns add "$NS_CT" && ip netns add "$NS_CL" &&
		ip link add "smg$$c" type veth peer name "smg$$l" &&
		ip link set "smg$$c" netns "$NS_CT" && ip link set "smg$$l" netns "$NS_CL" &&
		ip -n "$NS_CT" addr add "$CT_IP/30" dev "smg$$c" && ip -n "$NS_CL" addr add "$CL_IP/30" dev "smg$$l" &&
		ip -n "$NS_CT" link set "smg$$c" up && ip -n "$NS_CL" link set "smg$$l" up &&
		ip -n "$NS_CT" link set lo up && ip -n "$NS_CL" link set lo up ||
		{ HOSTS_SKIP="cannot configure the container's network"; return; }
	head -c 32 /dev/urandom | base64 > "$TOKEN" && chmod 600 "$TOKEN"
}

hosts_down() {
	local ns d
	for ns in "$NS_SRC" "$NS_DST" "$NS_CT" "$NS_CL"; do ip netns del "$ns" 2>/dev/null; done
	find /sys/fs/cgroup -maxdepth 2 -type d -name "silo-mig-dst-$$*" 2>/dev/null | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

hosts_up
trap 'hosts_down; finish' EXIT

need_hosts() {
	need_criu
	[ -z "$HOSTS_SKIP" ] || skip "$HOSTS_SKIP"
	DST_ROOT=$T_DIR/dst-state
	RECV_DIR=$T_DIR/recv
}

src() { nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" "$@"; }
dst() { nsenter --net="/run/netns/$NS_DST" "$SILO" --root "$DST_ROOT" "$@"; }

free_port() { echo $((20000 + RANDOM % 20000)); }
# listening NETNS PORT
listening() {
	local hex; hex=$(printf ':%04X ' "$2")
	nsenter --net="/run/netns/$1" cat /proc/net/tcp /proc/net/tcp6 | awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f=1 } END { exit !f }'
}

# start_receiver [receive flags...]: a receiver on DST_IP:$PORT, output in $T_DIR/recv.log
start_receiver() {
	PORT=$(free_port)
	# not through dst(): $! must be the receiver itself (nsenter execs it)
	nsenter --net="/run/netns/$NS_DST" "$SILO" --root "$DST_ROOT" migrate-receive --listen "$DST_IP:$PORT" \
		--token-file "$TOKEN" --bundle-dir "$RECV_DIR" --cgroup-parent "$CG_PARENT" "$@" \
		>> "$T_DIR/recv.log" 2>&1 < /dev/null &
	RECV_PID=$!
	defer kill -9 "$RECV_PID"
	wait_for 10 listening "$NS_DST" "$PORT" || fail "the receiver does not listen: $(cat "$T_DIR/recv.log")"
}

# lazy pages need 4 MiB pipes (without CAP_SYS_RESOURCE); set here, restored after
need_lazy_pipes() {
	local old; old=$(cat /proc/sys/fs/pipe-max-size)
	if [ "$old" -lt 4194304 ]; then
		echo 4194304 > /proc/sys/fs/pipe-max-size || skip "cannot raise fs.pipe-max-size"
		defer sh -c "echo $old > /proc/sys/fs/pipe-max-size"
	fi
}

soft_dirty() { "$CRIU" check --feature mem_dirty_track >/dev/null 2>&1; }

# A counter that writes /out/count (host: BUNDLE/out/count) 20 times a second.
COUNTER='i=0; while :; do i=$((i+1)); echo $i > /out/count.new && mv /out/count.new /out/count; sleep 0.05; done'
count_of() { cat "$1/out/count" 2>/dev/null || echo 0; }
count_above() { [ "$(count_of "$1")" -gt "$2" ]; }
wait_count_above() {
	wait_for 10 count_above "$1" "$2" || fail "counter stuck at $(count_of "$1") (wanted > $2)"
}

# counter ID BUNDLE [JQ]: a running counter container on the source
counter() {
	make_bundle "$2" "${3:-.}"
	add_out_mount "$2"
	set_args "$2" "$COUNTER"
	src run -d --bundle "$2" "$1" >> "$T_DIR/$1.out" 2>&1 < /dev/null || fail "run -d $1: $(cat "$T_DIR/$1.out")"
	defer "$SILO" --root "$T_DIR/dst-state" delete --force "$1"
	wait_count_above "$2" 2
}

# migrate ID [flags]: `silo migrate` to the receiver; output in $OUT, status in $RC
migrate() {
	local id=$1; shift
	capture src migrate --token-file "$TOKEN" "$@" "$id" "$DST_IP:$PORT"
}

on_dst() { [ "$(dst state "$1" 2>/dev/null | jq -r .status)" = running ]; }
on_src() { [ "$(src state "$1" 2>/dev/null | jq -r .status)" = running ]; }
gone_from_src() { ! src state "$1" >/dev/null 2>&1 && [ ! -e "$ROOT/$1" ]; }
gone_from_dst() { ! dst state "$1" >/dev/null 2>&1 && [ ! -e "$DST_ROOT/$1" ]; }

# no staging directory of the source left behind (a guardian may still be at it)
no_work_left() {
	wait_for 10 sh -c "! ls -d /var/tmp/silo-migrate-$1-* > /dev/null 2>&1" ||
		fail "work directory left behind: $(ls -d /var/tmp/silo-migrate-"$1"-*)"
}

# assert_moved ID BUNDLE COUNT_BEFORE: runs on the destination only, counting on
assert_moved() {
	on_dst "$1" || fail "not running on the destination: $(dst list 2>&1)"
	gone_from_src "$1" || fail "still on the source: $(src list 2>&1)"
	local c; c=$(count_of "$2")
	[ "$c" -ge "$3" ] || fail "counter went back: $c < $3 (restarted?)"
	wait_count_above "$2" "$c"
	pid_alive "$(dst state "$1" | jq -r .pid)" || fail "the restored pid is not alive"
	no_work_left "$1"
}

# assert_stayed ID BUNDLE: runs on the source (again), not on the destination
assert_stayed() {
	wait_for 10 gone_from_dst "$1" || fail "the destination still has it: $(dst list 2>&1)"
	# (a guardian may still be restoring it)
	wait_for 15 on_src "$1" || fail "not running on the source: $(src list 2>&1)"
	wait_count_above "$2" "$(count_of "$2")"
	no_work_left "$1"
}

# ------------------------------------------------------------------ the basics

test_migrate_usage() {
	assert_ok "$SILO" migrate --help
	assert_contains "$OUT" --strategy
	assert_ok "$SILO" migrate-receive --help
	assert_contains "$OUT" --keep-listening
	assert_fail "$SILO" migrate --strategy teleport x 127.0.0.1:1
	assert_contains "$OUT" "not cold, precopy, postcopy or hybrid"
	assert_fail "$SILO" migrate x 127.0.0.1:1
	assert_contains "$OUT" "--token-file is required"
	assert_fail "$SILO" migrate-receive --token-file /dev/null
	assert_contains "$OUT" "--listen"
	printf 'short' > "$T_DIR/short"
	assert_fail "$SILO" migrate-receive --listen 127.0.0.1:1 --token-file "$T_DIR/short"
	assert_contains "$OUT" "at least 16"
}

test_cold_keeps_count() {
	need_hosts
	local id b=$T_DIR/b c
	id=$(new_id)
	counter "$id" "$b"
	start_receiver
	c=$(count_of "$b")
	migrate "$id" --strategy cold --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	assert_eq migrated "$(jq -r .result <<< "$OUT")" "result"
	assert_eq cold "$(jq -r .strategy <<< "$OUT")" "strategy"
	jq -e '.downtime_s > 0 and .total_s >= .downtime_s and .bytes_sent > .rootfs_bytes and .iterations == 0' <<< "$OUT" >/dev/null ||
		fail "report: $OUT"
	assert_moved "$id" "$b" "$c"
	# the receiver was not --keep-listening: it is done
	wait_for 10 sh -c "! kill -0 $RECV_PID 2>/dev/null" || fail "the receiver still runs"
	assert_contains "$(cat "$T_DIR/recv.log")" "runs here"
	# an ordinary container there
	assert_ok dst exec "$id" cat /out/count
	assert_ok dst delete --force "$id"
}

# A container that could ptrace its runtime (CAP_SYS_PTRACE without a user
# namespace) is created from a sealed copy of silo (CVE-2019-5736): the receiver's
# restore helper must not re-execute the whole `silo migrate-receive` for that
# (it did: the copy then failed to listen on the receiver's port, and the offer
# was refused with no reason).  It migrates, cold and back.
test_cold_ptrace_capable() {
	need_hosts
	local id b=$T_DIR/b c
	id=$(new_id)
	counter "$id" "$b" '.process.capabilities |= (.bounding += ["CAP_SYS_PTRACE"] | .permitted += ["CAP_SYS_PTRACE"] | .effective += ["CAP_SYS_PTRACE"])'
	start_receiver
	c=$(count_of "$b")
	migrate "$id" --strategy cold
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	assert_moved "$id" "$b" "$c"
	assert_ok dst exec "$id" sh -c 'grep CapEff /proc/1/status'
	assert_ok dst delete --force "$id"
}

test_postcopy_keeps_count() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b c
	id=$(new_id)
	counter "$id" "$b"
	start_receiver
	c=$(count_of "$b")
	migrate "$id" --strategy postcopy --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	jq -e '.result == "migrated" and .strategy == "postcopy" and .page_bytes > 0' <<< "$OUT" >/dev/null ||
		fail "report: $OUT"
	assert_moved "$id" "$b" "$c"
	# every page arrived: the memory is whole (the shell keeps counting and answers)
	assert_ok dst exec "$id" sh -c 'echo alive'
	assert_eq alive "$OUT" "exec after postcopy"
}

# The downtime counts from the freeze (silo stops the tasks at CRIU's "pre-dump"),
# not from before CRIU's version and feature probes, and the report splits it into
# dump, transfer and restore on the same clock.  CRIU's kernel-probe cache is
# made before the freeze (CRIU only writes it on a tmpfs /run).
test_downtime_breakdown() {
	need_hosts; need_lazy_pipes
	local id b s
	start_receiver --keep-listening
	for s in cold postcopy; do
		id=$(new_id) b=$T_DIR/b-$s
		counter "$id" "$b"
		migrate "$id" --strategy "$s" --format json
		[ "$RC" -eq 0 ] || fail "migrate ($s): $OUT; receiver: $(cat "$T_DIR/recv.log")"
		jq -e '(.transfer_s | type) == "number" and .dump_s > 0 and .transfer_s >= 0 and .restore_s > 0 and
			((.dump_s + .transfer_s + .restore_s - .downtime_s) as $d | $d < 0.002 and $d > -0.002) and
			.downtime_s <= .total_s' <<< "$OUT" > /dev/null || fail "$s: breakdown: $OUT"
		on_dst "$id" || fail "$s: not on the destination"
		assert_ok dst delete --force "$id"
	done
	[ -s /run/criu.kdat ] || fail "no CRIU kernel-probe cache in /run after a migration"
	id=$(new_id) b=$T_DIR/b-text
	counter "$id" "$b"
	migrate "$id" --strategy postcopy
	[ "$RC" -eq 0 ] || fail "migrate (text): $OUT"
	assert_match "$OUT" 'downtime +[0-9.]+ s \(dump [0-9.]+ s, transfer [0-9.]+ s, restore [0-9.]+ s\)' "text report"
}

test_back_and_forth_text_report() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b c port1
	id=$(new_id)
	counter "$id" "$b"
	start_receiver --keep-listening
	port1=$PORT
	migrate "$id" --strategy postcopy
	[ "$RC" -eq 0 ] || fail "migrate: $OUT"
	assert_match "$OUT" 'result +migrated' "text report"
	assert_match "$OUT" 'downtime +[0-9.]+ s' "text report"
	# and back, to a receiver on the source host
	c=$(count_of "$b")
	nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate-receive --listen "$SRC_IP:$((port1 + 1))" \
		--token-file "$TOKEN" --bundle-dir "$T_DIR/back" --cgroup-parent "$CG_PARENT-back" \
		>> "$T_DIR/back.log" 2>&1 < /dev/null &
	local back=$!
	defer kill -9 "$back"
	wait_for 10 listening "$NS_SRC" "$((port1 + 1))" || fail "no receiver on the source host"
	capture dst migrate --token-file "$TOKEN" "$id" "$SRC_IP:$((port1 + 1))"
	[ "$RC" -eq 0 ] || fail "migrate back: $OUT; $(cat "$T_DIR/back.log")"
	on_src "$id" || fail "not back on the source"
	gone_from_dst "$id" || fail "still on the destination"
	wait_count_above "$b" "$c"
	# the first receiver still listens (--keep-listening)
	kill -0 "$RECV_PID" || fail "the --keep-listening receiver exited"
	assert_ok src delete --force "$id"
	return 0
}

# A container that writes into its own rootfs: the changes after the first
# rootfs pass travel in the second, after the freeze.
test_writable_rootfs() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b c s f n
	for s in cold postcopy; do
		id=$(new_id)
		ensure_rootfs
		rm -rf "$b" && mkdir -p "$b" && cp -a "$ROOTFS" "$b/rootfs"
		make_bundle "$b" '.root.readonly = false'
		set_args "$b" 'i=0; while :; do i=$((i+1)); echo $i > /tmp/c.new && mv /tmp/c.new /tmp/count; echo $i >> /var/log.txt; sleep 0.05; done'
		src run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/$id.out")"
		defer "$SILO" --root "$T_DIR/dst-state" delete --force "$id"
		wait_for 10 test -s "$b/rootfs/tmp/count" || fail "no counter"
		start_receiver
		migrate "$id" --strategy "$s" --format json
		[ "$RC" -eq 0 ] || fail "$s: migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
		c=$(cat "$b/rootfs/tmp/count")
		f=$RECV_DIR/$id/rootfs
		on_dst "$id" || fail "$s: not on the destination"
		# the destination's rootfs holds what the source's held at the freeze, and goes on
		[ "$(cat "$f/tmp/count")" -ge "$c" ] || fail "$s: count $(cat "$f/tmp/count") < $c"
		wait_for 10 sh -c "[ \$(cat $f/tmp/count) -gt $c ]" || fail "$s: the count does not go on there"
		# the log as frozen (it may be a line behind the count: frozen between the two
		# writes, the restored shell writes that line on the destination)
		n=$(wc -l < "$b/rootfs/var/log.txt")
		[ "$n" -ge $((c - 1)) ] || fail "$s: the source's log has $n lines, its count is $c"
		assert_eq "$(cat "$b/rootfs/var/log.txt")" "$(head -n "$n" "$f/var/log.txt")" "$s: log lines"
		assert_eq "$(cat "$b/rootfs/tmp/count")" "$c" "$s: the source's rootfs after the migration"
		assert_ok dst delete --force "$id"
	done
}

test_precopy_keeps_count() {
	need_hosts
	soft_dirty || skip "precopy needs soft-dirty page tracking, which this kernel lacks (criu check --feature mem_dirty_track)"
	local id b=$T_DIR/b c
	id=$(new_id)
	counter "$id" "$b"
	start_receiver
	c=$(count_of "$b")
	migrate "$id" --strategy precopy --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT"
	jq -e '.result == "migrated" and .iterations >= 1' <<< "$OUT" >/dev/null || fail "report: $OUT"
	assert_moved "$id" "$b" "$c"
}

test_hybrid_keeps_count() {
	need_hosts
	soft_dirty || skip "hybrid needs soft-dirty page tracking, which this kernel lacks (criu check --feature mem_dirty_track)"
	need_lazy_pipes
	local id b=$T_DIR/b c
	id=$(new_id)
	counter "$id" "$b"
	start_receiver
	c=$(count_of "$b")
	migrate "$id" --strategy hybrid --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT"
	jq -e '.result == "migrated" and .iterations == 1' <<< "$OUT" >/dev/null || fail "report: $OUT"
	assert_moved "$id" "$b" "$c"
}

test_precopy_refused_without_soft_dirty() {
	need_hosts
	soft_dirty && skip "this kernel has soft-dirty page tracking"
	local id b=$T_DIR/b s
	id=$(new_id)
	counter "$id" "$b"
	start_receiver --keep-listening
	for s in precopy hybrid; do
		migrate "$id" --strategy "$s"
		[ "$RC" -ne 0 ] || fail "$s was not refused"
		assert_contains "$OUT" "soft-dirty"
		on_src "$id" || fail "the container stopped after the refused $s"
	done
	gone_from_dst "$id" || fail "the destination got something"
	wait_count_above "$b" "$(count_of "$b")"
}

# ------------------------------------------------------------------ the network

# tcp_server ID BUNDLE: a server on CT_IP:7000 in the container's namespace that
# numbers the lines of its one connection; a client in NS_CL connected to it.
tcp_server() {
	make_bundle "$2" '(.linux.namespaces[] | select(.type == "network")) .path = $p' --arg p "/run/netns/$NS_CT"
	set_args "$2" 'nc -l -p 7000 -e sh -c '\''n=0; while read l; do n=$((n+1)); echo "$n $l"; done'\'
	src run -d --bundle "$2" "$1" >> "$T_DIR/$1.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/$1.out")"
	defer "$SILO" --root "$T_DIR/dst-state" delete --force "$1"
	wait_for 10 listening "$NS_CT" 7000 || fail "the server does not listen"
}

tcp_roundtrip() {  # STRATEGY
	need_hosts
	local id b=$T_DIR/b line
	id=$(new_id)
	tcp_server "$id" "$b"
	start_receiver
	coproc CLIENT { exec nsenter --net="/run/netns/$NS_CL" "$ROOTFS/bin/busybox" nc "$CT_IP" 7000; }
	defer kill -9 "$CLIENT_PID"
	echo first >&"${CLIENT[1]}"
	read -t 5 -r line <&"${CLIENT[0]}" || fail "no reply before the migration"
	assert_eq "1 first" "$line" "reply"
	migrate "$id" --strategy "$1"
	if [ "$RC" -ne 0 ] && [ "$1" != cold ] && [[ "$OUT" == *"Cannot assign requested address"* ]]; then
		# One machine, one container namespace: postcopy keeps the source's frozen
		# tasks (and their socket, which holds the connection's addresses) until the
		# last page has moved, so the destination cannot restore the same connection
		# into the same namespace.  Two hosts do not share it.  The failed switch must
		# still leave the container on the source only.
		wait_for 10 gone_from_dst "$id" || fail "the destination kept a copy"
		on_src "$id" || fail "after the failed switch the container is not on the source"
		skip "postcopy cannot restore a connection into the namespace its frozen source still holds (one machine); the failure left the container on the source"
	fi
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	on_dst "$id" || fail "not on the destination"
	echo second >&"${CLIENT[1]}"
	read -t 10 -r line <&"${CLIENT[0]}" || fail "the connection did not survive"
	assert_eq "2 second" "$line" "reply after the migration (same process, same connection)"
}
test_tcp_connection_cold() { tcp_roundtrip cold; }
test_tcp_connection_postcopy() { need_lazy_pipes; tcp_roundtrip postcopy; }

# ------------------------------------------------------------------ failures

# kill_receiver_when ID BUNDLE STRATEGY PATH: migrate, and kill -9 the receiver as
# soon as PATH (under its bundle dir) exists
kill_receiver_when() {
	local id=$1 b=$2 strategy=$3 path=$4 mpid
	start_receiver
	nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate --token-file "$TOKEN" \
		--strategy "$strategy" "$id" "$DST_IP:$PORT" > "$T_DIR/mig.out" 2>&1 < /dev/null &
	mpid=$!
	wait_for 20 test -e "$RECV_DIR/$id/$path" || fail "the transfer never reached $path: $(cat "$T_DIR/mig.out")"
	kill -9 "$RECV_PID"
	wait "$mpid" && RC=0 || RC=$?
	OUT=$(cat "$T_DIR/mig.out")
	echo "$OUT" >&2
	[ "$RC" -ne 0 ] || fail "migrate succeeded although the receiver died: $OUT"
	assert_stayed "$id" "$b"
	# nothing the receiver started outlives it (its lazy-pages daemon, its guardian)
	wait_for 10 nothing_runs_in "$RECV_DIR/" || fail "left running: $(pgrep -af -- "$RECV_DIR/")"
}
nothing_runs_in() { ! pgrep -f -- "$1" > /dev/null; }

test_receiver_killed_during_rootfs() {
	need_hosts
	local id b=$T_DIR/b
	id=$(new_id)
	counter "$id" "$b"
	kill_receiver_when "$id" "$b" cold rootfs
}

test_receiver_killed_after_freeze_cold() {
	need_hosts
	local id b=$T_DIR/b
	id=$(new_id)
	counter "$id" "$b"
	kill_receiver_when "$id" "$b" cold .migrate/final
	assert_contains "$OUT" "restored on the source"
}

test_receiver_killed_after_freeze_postcopy() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b
	id=$(new_id)
	counter "$id" "$b"
	# (postcopy's images are on a tmpfs of its own: .migrate/work is made for the restore)
	kill_receiver_when "$id" "$b" postcopy .migrate/work
	assert_contains "$OUT" "runs on the source again"
}

# signal_source_when ID BUNDLE SIGNAL PATH: migrate, and send SIGNAL to `silo migrate`
# itself as soon as PATH exists on the destination (the images are arriving: the
# container has been dumped on the source)
signal_source_when() {
	local id=$1 b=$2 sig=$3 path=$4 mpid
	start_receiver
	nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate --token-file "$TOKEN" \
		"$id" "$DST_IP:$PORT" > "$T_DIR/mig.out" 2>&1 < /dev/null &
	mpid=$!
	wait_for 20 test -e "$RECV_DIR/$id/$path" || fail "the transfer never reached $path: $(cat "$T_DIR/mig.out")"
	kill "-$sig" "$mpid"
	wait "$mpid" && RC=0 || RC=$?
	echo "migrate: $RC $(cat "$T_DIR/mig.out")" >&2
	[ "$RC" -ne 0 ] || fail "migrate succeeded although it was killed"
	assert_stayed "$id" "$b"
}

test_source_killed_after_freeze() {
	need_hosts
	local id b=$T_DIR/b
	id=$(new_id)
	counter "$id" "$b"
	# SIGKILL: the source's guardian restores it
	signal_source_when "$id" "$b" KILL .migrate/final
	# SIGTERM: silo migrate gives up and restores it itself
	signal_source_when "$id" "$b" TERM .migrate/final
	assert_contains "$(cat "$T_DIR/mig.out")" "restored on the source"
}

# silo migrate killed while the pages flow (postcopy, after the switch): the
# receiver deletes its copy (its memory is incomplete) unless every page had
# already arrived, and the source's guardian resumes the frozen tasks; whichever
# it is, exactly one host runs the container.
# big_postcopy_bg ID BUNDLE [migrate flags]: a counter holding ~100 MB of memory
# in its shell (the pages take a while), a receiver, and a postcopy migration of
# it in the background ($! its pid, output in $T_DIR/mig.out).
big_postcopy_bg() {
	local id=$1 b=$2; shift 2
	make_bundle "$b"
	add_out_mount "$b"
	set_args "$b" 'x=$(head -c 100000000 /dev/zero | tr "\0" a); '"$COUNTER"
	src run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/$id.out")"
	defer "$SILO" --root "$T_DIR/dst-state" delete --force "$id"
	wait_count_above "$b" 2
	start_receiver
	nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate --token-file "$TOKEN" \
		--strategy postcopy "$@" "$id" "$DST_IP:$PORT" > "$T_DIR/mig.out" 2>&1 < /dev/null &
}

test_source_killed_during_postcopy() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b mpid n=0
	id=$(new_id)
	# ~100 MB of memory in the shell, so that the pages take a while
	big_postcopy_bg "$id" "$b"
	mpid=$!
	wait_for 30 on_dst "$id" || fail "never switched: $(cat "$T_DIR/mig.out")"
	kill -9 "$mpid"
	wait "$mpid" 2>/dev/null
	sleep 3
	on_src "$id" && n=$((n + 1))
	on_dst "$id" && n=$((n + 1))
	assert_eq 1 "$n" "hosts running the container"
	wait_count_above "$b" "$(count_of "$b")"
	if on_src "$id"; then echo "the source resumed it" >&2; else echo "every page had moved" >&2; fi
	no_work_left "$id"
}

# Postcopy's images are staged on a private tmpfs on both ends (docs/migration.md,
# "Where the time goes"): while the pages flow (the images are in use on both
# ends then: CRIU's lazy dump on the source, its lazy-pages daemon on the
# destination) and after it, no image file is on disk in the source's work
# directory or the receiver's bundle (the tmpfs is mounted nowhere: nothing to
# look for in the mount table).
images_on_disk() {  # ID: the *.img files of the migration on disk, if any
	find /var/tmp/silo-migrate-"$1"-* "$RECV_DIR/$1" -name '*.img' 2>/dev/null | head -3
}
test_postcopy_images_not_on_disk() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b mpid seen="" found=""
	id=$(new_id)
	big_postcopy_bg "$id" "$b" --format json
	mpid=$!
	while kill -0 "$mpid" 2>/dev/null; do
		# sampled while the container runs on the destination and its pages flow
		if [ -z "$seen" ] && on_dst "$id"; then seen=1; fi
		[ -n "$found" ] || found=$(images_on_disk "$id")
		sleep 0.02
	done
	wait "$mpid" && RC=0 || RC=$?
	[ "$RC" = 0 ] || fail "migrate failed: $(cat "$T_DIR/mig.out")"
	[ -n "$seen" ] || echo "(the switch went by between two samples)" >&2
	[ -z "$found" ] || fail "images on disk during the migration: $found"
	found=$(images_on_disk "$id")
	[ -z "$found" ] || fail "images on disk after the migration: $found"
	on_dst "$id" || fail "not running on the destination"
	wait_count_above "$b" "$(count_of "$b")"
	no_work_left "$id"
}

# The runtime's tmpfs mounts move as silo makes them again (lib/criu/tmpfs.c),
# and what the container wrote there moves too (CRIU's tar): /dev/shm's file
# and /dev's devices are there on the destination, postcopy and back cold.
test_tmpfs_moves() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b port1 back
	id=$(new_id)
	counter "$id" "$b"
	src exec "$id" sh -c 'echo shm-data > /dev/shm/x' || fail "cannot write /dev/shm"
	start_receiver
	port1=$PORT
	migrate "$id" --strategy postcopy
	[ "$RC" = 0 ] || fail "postcopy: $OUT"
	OUT=$(dst exec "$id" sh -c 'cat /dev/shm/x; test -c /dev/null && test -c /dev/urandom && echo devices')
	assert_contains "$OUT" shm-data "postcopy: /dev/shm"
	assert_contains "$OUT" devices "postcopy: /dev"
	# and back, cold, to a receiver on the source host
	nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate-receive --listen "$SRC_IP:$((port1 + 1))" \
		--token-file "$TOKEN" --bundle-dir "$T_DIR/back" --cgroup-parent "$CG_PARENT-back" \
		>> "$T_DIR/back.log" 2>&1 < /dev/null &
	back=$!
	defer kill -9 "$back"
	wait_for 10 listening "$NS_SRC" "$((port1 + 1))" || fail "no receiver on the source host"
	capture dst migrate --token-file "$TOKEN" --strategy cold "$id" "$SRC_IP:$((port1 + 1))"
	[ "$RC" -eq 0 ] || fail "migrate back: $OUT; $(cat "$T_DIR/back.log")"
	OUT=$(src exec "$id" sh -c 'cat /dev/shm/x; test -c /dev/null && echo devices')
	assert_contains "$OUT" shm-data "cold: /dev/shm"
	assert_contains "$OUT" devices "cold: /dev"
	assert_ok src delete --force "$id"
	return 0
}

# A network namespace of the container's own that holds what a new one holds is
# external to CRIU and made new by the receiver (lib/criu/netns.c): the phase
# marks of both ends say so (netns-external, netns-made); on the
# destination `lo` is up, a listener on 127.0.0.1 answers, and a TCP connection
# between two of the container's processes over `lo` carries on, postcopy and
# back cold.
test_own_netns_moves() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b port1 back l
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	set_args "$b" "$LO_APP$COUNTER"
	src run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run -d $id: $(cat "$T_DIR/$id.out")"
	defer "$SILO" --root "$T_DIR/dst-state" delete --force "$id"
	wait_count_above "$b" 2
	wait_for 10 lo_count_above "$b" 2 || fail "no line over the connection on lo"
	# the receiver's and the source's phase marks say where the namespace went
	PORT=$(free_port)
	SILO_PHASE_FD=9 nsenter --net="/run/netns/$NS_DST" "$SILO" --root "$DST_ROOT" migrate-receive --listen "$DST_IP:$PORT" \
		--token-file "$TOKEN" --bundle-dir "$RECV_DIR" --cgroup-parent "$CG_PARENT" \
		>> "$T_DIR/recv.log" 2>&1 < /dev/null 9> "$T_DIR/recv.marks" &
	RECV_PID=$!
	defer kill -9 "$RECV_PID"
	wait_for 10 listening "$NS_DST" "$PORT" || fail "the receiver does not listen: $(cat "$T_DIR/recv.log")"
	port1=$PORT
	SILO_PHASE_FD=9 migrate "$id" --strategy postcopy 9> "$T_DIR/src.marks"
	[ "$RC" = 0 ] || fail "postcopy: $OUT"
	grep -q '^netns-external ' "$T_DIR/src.marks" || fail "the source's dump left the namespace to CRIU: $(cut -d' ' -f1 "$T_DIR/src.marks" | tr '\n' ' ')"
	grep -q '^netns-made ' "$T_DIR/recv.marks" || fail "the receiver made no namespace: $(cut -d' ' -f1 "$T_DIR/recv.marks" | tr '\n' ' ')"
	on_dst "$id" || fail "not on the destination"
	OUT=$(dst exec "$id" sh -c 'echo ping | nc 127.0.0.1 7000')
	assert_contains "$OUT" pong "postcopy: the listener on 127.0.0.1"
	l=$(lo_count "$b")
	wait_for 10 lo_count_above "$b" "$((l + 5))" || fail "postcopy: the connection over lo stopped at $l"
	# and back, cold, to a receiver on the source host
	SILO_PHASE_FD=9 nsenter --net="/run/netns/$NS_SRC" "$SILO" --root "$ROOT" migrate-receive --listen "$SRC_IP:$((port1 + 1))" \
		--token-file "$TOKEN" --bundle-dir "$T_DIR/back" --cgroup-parent "$CG_PARENT-back" \
		>> "$T_DIR/back.log" 2>&1 < /dev/null 9> "$T_DIR/back.marks" &
	back=$!
	defer kill -9 "$back"
	wait_for 10 listening "$NS_SRC" "$((port1 + 1))" || fail "no receiver on the source host"
	SILO_PHASE_FD=9 capture dst migrate --token-file "$TOKEN" --strategy cold "$id" "$SRC_IP:$((port1 + 1))" 9> "$T_DIR/dst.marks"
	[ "$RC" -eq 0 ] || fail "migrate back: $OUT; $(cat "$T_DIR/back.log")"
	grep -q '^netns-external ' "$T_DIR/dst.marks" || fail "cold: the dump left the namespace to CRIU"
	grep -q '^netns-made ' "$T_DIR/back.marks" || fail "cold: the receiver made no namespace"
	OUT=$(src exec "$id" sh -c 'echo ping | nc 127.0.0.1 7000')
	assert_contains "$OUT" pong "cold: the listener on 127.0.0.1"
	l=$(lo_count "$b")
	wait_for 10 lo_count_above "$b" "$((l + 5))" || fail "cold: the connection over lo stopped at $l"
	assert_ok src delete --force "$id"
	return 0
}

# Postcopy's staging tmpfs is capped (SILO_MIGRATE_STAGE_MAX, 1 MiB here): images
# that do not fit (a 3 MB file in /dev/shm, which CRIU tars into them) go to disk
# on both ends, the source dumping again and the receiver moving the tree so far;
# the migration succeeds and the file arrives whole.
test_postcopy_stage_full() {
	need_hosts; need_lazy_pipes
	local id b=$T_DIR/b sum
	id=$(new_id)
	counter "$id" "$b"
	src exec "$id" sh -c 'head -c 3000000 /dev/urandom > /dev/shm/blob' || fail "cannot write /dev/shm"
	sum=$(src exec "$id" md5sum /dev/shm/blob)
	SILO_MIGRATE_STAGE_MAX=1048576 start_receiver
	SILO_MIGRATE_STAGE_MAX=1048576 migrate "$id" --strategy postcopy
	[ "$RC" = 0 ] || fail "postcopy: $OUT; $(cat "$T_DIR/recv.log")"
	assert_contains "$OUT" "dumped again on disk" "the source's fallback"
	assert_contains "$(cat "$T_DIR/recv.log")" "on disk" "the receiver's fallback"
	assert_eq "$sum" "$(dst exec "$id" md5sum /dev/shm/blob)" "/dev/shm/blob on the destination"
	wait_count_above "$b" "$(count_of "$b")"
	no_work_left "$id"
}

# What travels between the hosts is unreadable: a random marker the container
# keeps only in its memory (a shell variable, read from a file that is then
# removed) and a unique string of its config.json never appear on the veth,
# captured with AF_PACKET (tests/lib/capture.py) on the destination's side.
test_wire_is_encrypted() {
	need_hosts
	need_cmd python3
	local id b=$T_DIR/b c marker cfg cap=$T_DIR/wire.cap capid bytes
	id=$(new_id)
	marker=$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 64)
	cfg=$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
	[ ${#marker} -eq 64 ] && [ ${#cfg} -eq 40 ] || fail "could not make the markers"
	make_bundle "$b" '.process.env += [$e]' --arg e "SILO_WIRE_CFG=$cfg"
	add_out_mount "$b"
	echo "$marker" > "$b/out/marker"
	set_args "$b" 'm=$(cat /out/marker); rm -f /out/marker; i=0; while :; do i=$((i+1)); echo $i > /out/count.new && mv /out/count.new /out/count; [ ${#m} -eq 64 ] || exit 1; sleep 0.05; done'
	src run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run -d: $(cat "$T_DIR/$id.out")"
	defer "$SILO" --root "$T_DIR/dst-state" delete --force "$id"
	wait_count_above "$b" 2
	[ ! -e "$b/out/marker" ] || fail "the container did not read its marker"
	start_receiver
	nsenter --net="/run/netns/$NS_DST" python3 "$TESTS_DIR/lib/capture.py" "smg$$d" "$cap" --max 60 \
		> "$T_DIR/capture.out" 2>&1 < /dev/null &
	capid=$!
	defer kill -9 "$capid"
	wait_for 10 grep -q ready "$T_DIR/capture.out" || fail "no capture: $(cat "$T_DIR/capture.out")"
	c=$(count_of "$b")
	migrate "$id" --strategy cold
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	kill -TERM "$capid"
	wait "$capid"
	assert_moved "$id" "$b" "$c"
	# the capture saw the migration: at least the container's memory went by
	bytes=$(stat -c %s "$cap")
	[ "$bytes" -gt 1000000 ] || fail "the capture holds only $bytes bytes"
	! grep -aqF "$marker" "$cap" || fail "the container's memory marker is readable on the wire"
	! grep -aqF "$cfg" "$cap" || fail "the config's marker is readable on the wire"
	! grep -aqF '"ociVersion"' "$cap" || fail "config.json is readable on the wire"
	# the restored container still has its marker (it would exit without it)
	assert_ok dst exec "$id" cat /out/count
}

# certs DIR: two CAs (ca1, ca2, certtool from gnutls-bin); src and dst signed by
# ca1, rogue by ca2.
make_certs() {
	need_cmd certtool
	local d=$1 n
	mkdir -p "$d"
	for n in ca1 ca2; do
		certtool --generate-privkey --key-type=ecdsa --outfile "$d/$n.key" 2>/dev/null &&
			printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 2\n' "$n" > "$d/$n.tmpl" &&
			certtool --generate-self-signed --load-privkey "$d/$n.key" --template "$d/$n.tmpl" \
				--outfile "$d/$n.pem" 2>/dev/null || fail "certtool: CA $n"
	done
	for n in src:ca1 dst:ca1 rogue:ca2; do
		certtool --generate-privkey --key-type=ecdsa --outfile "$d/${n%:*}.key" 2>/dev/null &&
			printf 'cn = "%s"\ntls_www_server\ntls_www_client\nsigning_key\nexpiration_days = 2\n' "${n%:*}" > "$d/${n%:*}.tmpl" &&
			certtool --generate-certificate --load-privkey "$d/${n%:*}.key" --load-ca-certificate "$d/${n#*:}.pem" \
				--load-ca-privkey "$d/${n#*:}.key" --template "$d/${n%:*}.tmpl" --outfile "$d/${n%:*}.pem" 2>/dev/null ||
			fail "certtool: ${n%:*}"
	done
	chmod 600 "$d"/*.key
}

# With --tls-cert/--tls-key/--tls-ca on both ends, each verifies the other's
# certificate against its CA: a source with a certificate of another CA, a
# source that does not trust the receiver's CA, and a source without
# certificates (PSK) are refused before the OFFER, each saying why, and nothing is
# made on the receiver; the right certificates migrate.
test_tls_certificates() {
	need_hosts
	local id b=$T_DIR/b c k=$T_DIR/certs
	make_certs "$k"
	id=$(new_id)
	counter "$id" "$b"
	start_receiver --keep-listening --tls-cert "$k/dst.pem" --tls-key "$k/dst.key" --tls-ca "$k/ca1.pem"
	# a certificate the receiver's CA did not sign
	migrate "$id" --tls-cert "$k/rogue.pem" --tls-key "$k/rogue.key" --tls-ca "$k/ca1.pem"
	[ "$RC" -ne 0 ] || fail "migrated with a certificate of another CA"
	assert_contains "$OUT" "authentication failed"
	assert_contains "$OUT" "refused the TLS handshake"
	wait_for 10 grep -q "certificate" "$T_DIR/recv.log" || fail "the receiver does not say why: $(cat "$T_DIR/recv.log")"
	# a source that does not trust the receiver's certificate sends nothing
	migrate "$id" --tls-cert "$k/src.pem" --tls-key "$k/src.key" --tls-ca "$k/ca2.pem"
	[ "$RC" -ne 0 ] || fail "migrated to a receiver whose certificate is not trusted"
	assert_contains "$OUT" "authentication failed"
	assert_contains "$OUT" "certificate issuer is unknown"
	# a source without certificates (the token's PSK)
	migrate "$id"
	[ "$RC" -ne 0 ] || fail "migrated with the PSK to a receiver that wants certificates"
	assert_contains "$OUT" "on both ends or on neither"
	# only two of the three files
	migrate "$id" --tls-cert "$k/src.pem" --tls-key "$k/src.key"
	[ "$RC" -ne 0 ] || fail "accepted --tls-cert and --tls-key without --tls-ca"
	assert_contains "$OUT" "--tls-ca is missing"
	on_src "$id" || fail "the container stopped"
	gone_from_dst "$id" || fail "the destination has it"
	[ -z "$(ls -A "$RECV_DIR" 2>/dev/null)" ] || fail "the receiver wrote a bundle for a refused peer"
	kill -0 "$RECV_PID" || fail "the receiver exited after refusing peers"
	# the right certificates
	c=$(count_of "$b")
	migrate "$id" --tls-cert "$k/src.pem" --tls-key "$k/src.key" --tls-ca "$k/ca1.pem"
	[ "$RC" -eq 0 ] || fail "migrate with certificates: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	assert_moved "$id" "$b" "$c"
}

test_wrong_token_refused() {
	need_hosts
	local id b=$T_DIR/b
	id=$(new_id)
	counter "$id" "$b"
	start_receiver
	head -c 32 /dev/urandom | base64 > "$T_DIR/other-token"
	capture src migrate --token-file "$T_DIR/other-token" "$id" "$DST_IP:$PORT"
	[ "$RC" -ne 0 ] || fail "migrated with the wrong token"
	assert_contains "$OUT" "authentication failed"
	on_src "$id" || fail "the container stopped"
	# a peer that does not speak the protocol, and one that sends a wrong MAC
	printf 'GET / HTTP/1.0\r\n\r\n' | nsenter --net="/run/netns/$NS_SRC" timeout 5 "$ROOTFS/bin/busybox" nc "$DST_IP" "$PORT" > /dev/null 2>&1
	wait_for 10 grep -q "does not speak" "$T_DIR/recv.log" || fail "garbage not refused: $(cat "$T_DIR/recv.log")"
	gone_from_dst "$id" || fail "the destination has it"
	[ -z "$(ls -A "$RECV_DIR" 2>/dev/null)" ] || fail "the receiver wrote a bundle for a refused peer"
	# refused peers do not end the receiver: the right token still works
	kill -0 "$RECV_PID" || fail "the receiver exited after refusing peers"
	migrate "$id"
	[ "$RC" -eq 0 ] || fail "migrate with the right token: $OUT"
	on_dst "$id" || fail "not on the destination"
}

# A peer without the token that trickles one byte a second (tests/lib/migrate_peer.py)
# neither holds the receiver beyond 10 s nor delays a migration started meanwhile.
# (More hostile peers, without CRIU: test_migrate_hostile.sh.)
test_slow_peer_does_not_block() {
	need_hosts
	need_cmd python3 gnutls-cli
	local id b=$T_DIR/b c slow t
	id=$(new_id)
	counter "$id" "$b"
	start_receiver --keep-listening
	nsenter --net="/run/netns/$NS_SRC" python3 "$TESTS_DIR/lib/migrate_peer.py" "$DST_IP:$PORT" slow --max 40 \
		> "$T_DIR/slow.out" 2>&1 < /dev/null &
	slow=$!
	defer kill -9 "$slow"
	local t0=${EPOCHREALTIME/./} served
	sleep 1
	c=$(count_of "$b")
	migrate "$id" --strategy cold
	[ "$RC" -eq 0 ] || fail "migrate while a slow peer is connected: $OUT; receiver: $(cat "$T_DIR/recv.log")"
	# The receiver serves one migration at a time: a pending peer's deadline is
	# enforced when it is back in its loop, so at 10 s or just after the migration.
	served=$(((${EPOCHREALTIME/./} - t0) / 1000000))
	assert_moved "$id" "$b" "$c"
	wait "$slow"
	assert_contains "$(cat "$T_DIR/slow.out")" closed "the slow peer"
	t=$(awk '/closed/ {print $2}' "$T_DIR/slow.out")
	awk -v t="$t" -v s="$served" -v k="${TEST_TIME_SCALE:-1}" \
		'BEGIN { m = s > 10 ? s : 10; exit !(t >= 9 && t <= m + 4 * k) }' ||
		fail "the slow peer was cut off after $t s, not 10 (the migration took $served s)"
	assert_match "$(cat "$T_DIR/recv.log")" "refused $SRC_IP:[0-9]+: not authenticated within 10 s" "the refusal in the log"
}

test_refused_before_freeze() {
	need_hosts
	local id b=$T_DIR/b b2=$T_DIR/b2
	id=$(new_id)
	counter "$id" "$b"
	start_receiver --keep-listening
	# the id is taken on the destination
	make_bundle "$b2" '.linux.cgroupsPath = $p' --arg p "$CG_PARENT/other-$id"
	set_args "$b2" 'sleep 1000'
	dst run -d --bundle "$b2" "$id" > /dev/null 2>&1 < /dev/null || fail "run on the destination"
	migrate "$id"
	[ "$RC" -ne 0 ] || fail "migrated over an existing container"
	assert_contains "$OUT" "already exists"
	on_src "$id" || fail "the source's container stopped"
	assert_ok dst delete --force "$id"
	# a terminal container, a container that is not running
	local id2; id2=$(new_id)
	make_bundle "$T_DIR/b3"
	create_ct "$id2" "$T_DIR/b3"
	migrate "$id2"
	[ "$RC" -ne 0 ] || fail "migrated a created container"
	assert_contains "$OUT" "only a running container"
	wait_count_above "$b" "$(count_of "$b")"
}

test_rootfs_already_there() {
	need_hosts
	local id b=$T_DIR/b
	id=$(new_id)
	# a rootfs of its own (not hard links of the shared one), so that it can differ
	ensure_rootfs
	mkdir -p "$b" && cp -a "$ROOTFS" "$b/rootfs"
	counter "$id" "$b"
	mkdir -p "$RECV_DIR/$id"
	cp -a "$b/rootfs" "$RECV_DIR/$id/rootfs"
	echo changed > "$RECV_DIR/$id/rootfs/etc/hostname"
	echo extra > "$RECV_DIR/$id/rootfs/extra-file"
	start_receiver
	migrate "$id" --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT"
	# only the one differing file travelled
	assert_eq "$(stat -c %s "$b/rootfs/etc/hostname")" "$(jq -r .rootfs_bytes <<< "$OUT")" "rootfs bytes sent"
	cmp -s "$b/rootfs/etc/hostname" "$RECV_DIR/$id/rootfs/etc/hostname" || fail "etc/hostname not replaced"
	assert_no_file "$RECV_DIR/$id/rootfs/extra-file"
	on_dst "$id" || fail "not on the destination"
}

run_test migrate_usage test_migrate_usage
run_test writable_rootfs test_writable_rootfs
run_test cold_keeps_count test_cold_keeps_count
run_test cold_ptrace_capable test_cold_ptrace_capable
run_test postcopy_keeps_count test_postcopy_keeps_count
run_test back_and_forth_text_report test_back_and_forth_text_report
run_test downtime_breakdown test_downtime_breakdown
run_test precopy_keeps_count test_precopy_keeps_count
run_test hybrid_keeps_count test_hybrid_keeps_count
run_test precopy_refused_without_soft_dirty test_precopy_refused_without_soft_dirty
run_test tcp_connection_cold test_tcp_connection_cold
run_test tcp_connection_postcopy test_tcp_connection_postcopy
run_test receiver_killed_during_rootfs test_receiver_killed_during_rootfs
run_test receiver_killed_after_freeze_cold test_receiver_killed_after_freeze_cold
run_test receiver_killed_after_freeze_postcopy test_receiver_killed_after_freeze_postcopy
run_test source_killed_after_freeze test_source_killed_after_freeze
run_test source_killed_during_postcopy test_source_killed_during_postcopy
run_test tmpfs_moves test_tmpfs_moves
run_test own_netns_moves test_own_netns_moves
run_test postcopy_stage_full test_postcopy_stage_full
run_test postcopy_images_not_on_disk test_postcopy_images_not_on_disk
run_test wire_is_encrypted test_wire_is_encrypted
run_test tls_certificates test_tls_certificates
run_test wrong_token_refused test_wrong_token_refused
run_test slow_peer_does_not_block test_slow_peer_does_not_block
run_test refused_before_freeze test_refused_before_freeze
run_test rootfs_already_there test_rootfs_already_there
