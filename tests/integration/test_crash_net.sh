#!/bin/bash
# Crash safety of `silo create --network bridge` (docs/reliability.md): a create
# killed with SIGKILL at its system calls (tests/lib/faults.sh), then `silo
# delete --force`, must leave no veth, address lease or nft rule of the
# container (besides what test_crash.sh checks: process, cgroup, mount, state).
# On a bridge and subnet of this file's own (org.silo.network.bridge/subnet),
# with a published port (the nft rules); the host's table and ip_forward are
# guarded by lib/network.sh (its lock, its sweep at exit).  A deterministic
# sample here; FAULTS_ALL=1 (make check-faults) tries every point.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/network.sh"
. "$(dirname "$0")/../lib/faults.sh"

BR=relb$$

# kill_at, then what the network leaves: nothing of the id.
net_kill_points() {
	local sample=$1 n id
	shift
	id=$(fault_id)
	fault_record "$@" "$id"
	assert_net_gone "$id"
	for n in $(fault_points "$sample"); do
		id=$(fault_id)
		kill_at "$n" "$@" "$id"
		( assert_net_gone "$id" ) || fail "kill $FAULT_WHERE: $(cat "$T_DIR/reason")"
	done
	fault_enough_kills
}

net_crash_bundle() {
	make_bundle "$1" '.annotations["org.silo.network.bridge"]=$br | .annotations["org.silo.network.subnet"]=$s' \
		--arg br "$BR" --arg s "10.197.$X.0/24"
	set_args "$1" 'sleep 30'
	defer ip link del "$BR"
}

test_create_network_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	need_cmd ip nft
	net_crash_bundle "$T_DIR/b"
	net_kill_points 30 create --bundle "$T_DIR/b" --network bridge -p "$PORT:80"
}

# FAULT_PREP for delete: a running container on the bridge.
prep_net_running() {
	"$SILO" --root "$ROOT" run -d --bundle "$T_DIR/b" --network bridge -p "$PORT:80" "$1" \
		>> "$T_DIR/$1.out" 2>&1 < /dev/null || fail "run -d $1: $(cat "$T_DIR/$1.out")"
}

test_delete_network_kill_points() {
	silo_only "crash safety is silo's promise"
	need_strace
	need_cmd ip nft
	net_crash_bundle "$T_DIR/b"
	FAULT_PREP=prep_net_running
	net_kill_points 12 delete --force
}

[ "${TEST_TIMEOUT:-30}" -ge 300 ] || TEST_TIMEOUT=300
[ "${FAULTS_ALL:-0}" != 1 ] || TEST_TIMEOUT=${FAULTS_TIMEOUT:-3600}

run_test create_network_kill_points test_create_network_kill_points
run_test delete_network_kill_points test_delete_network_kill_points
run_test zz_nothing_left test_zz_nothing_left
