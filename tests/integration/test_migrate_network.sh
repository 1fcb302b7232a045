#!/bin/bash
# A container on silo's own network migrates between hosts and keeps its address,
# its MAC and an established TCP connection (silo-migrate(8), "The network").
#
# Three "hosts" on one machine: network namespaces mnet-h1/h2/h3-$$ joined by an
# underlay bridge (in mnet-ul-$$) with 10.251.X.1-3/24, each with its own --root.
# The containers' network spans them: org.silo.network.vxlan joins each host's
# bridge (mnetbr0, 10.252.X.0/24) to the others' by a VXLAN, and each host
# allocates from its own slice (org.silo.network.range).  A client (mnet-cl-$$,
# 10.252.X.254, on host 3's bridge) holds a connection to a server container
# that moves from host 1 to host 2 and back.  silo enters the hosts with
# `nsenter --net` only, as test_migrate.sh.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/criu.sh"

[ "$TEST_TIMEOUT" = 30 ] && TEST_TIMEOUT=240

criu_test_init

NET=$(($$ % 250 + 1))
NS_UL=mnet-ul-$$ NS_CL=mnet-cl-$$
HOST_IP1=10.251.$NET.1 HOST_IP2=10.251.$NET.2 HOST_IP3=10.251.$NET.3
SUBNET=10.252.$NET.0/24 CL_IP=10.252.$NET.254
BR=mnetbr0 VNI=4242
TOKEN=$WORK/token
HOSTS_SKIP=""

ns_of() { echo "mnet-h$1-$$"; }

hosts_up() {
	command -v ip >/dev/null && command -v nsenter >/dev/null || { HOSTS_SKIP="needs ip and nsenter"; return; }
	modprobe vxlan 2>/dev/null
	ip netns add "$NS_UL" 2>/dev/null || { HOSTS_SKIP="cannot create network namespaces"; return; }
	ip -n "$NS_UL" link add ul type bridge && ip -n "$NS_UL" link set ul up || { HOSTS_SKIP="no bridge"; return; }
	local h
	for h in 1 2 3; do
		ip netns add "$(ns_of $h)" &&
			ip link add "mn$$h$h" mtu 1600 type veth peer name "mn$$u$h" mtu 1600 &&
			ip link set "mn$$h$h" netns "$(ns_of $h)" && ip link set "mn$$u$h" netns "$NS_UL" &&
			ip -n "$NS_UL" link set "mn$$u$h" master ul up &&
			ip -n "$(ns_of $h)" addr add "10.251.$NET.$h/24" dev "mn$$h$h" &&
			ip -n "$(ns_of $h)" link set "mn$$h$h" up && ip -n "$(ns_of $h)" link set lo up ||
			{ HOSTS_SKIP="cannot build host $h"; return; }
	done
	ip netns add "$NS_CL" && ip -n "$NS_CL" link set lo up || { HOSTS_SKIP="no client namespace"; return; }
	ip -n "$(ns_of 1)" link add mnvx type vxlan id 1 dstport 4789 2>/dev/null || { HOSTS_SKIP="no VXLAN in this kernel"; return; }
	ip -n "$(ns_of 1)" link del mnvx
	head -c 32 /dev/urandom | base64 > "$TOKEN" && chmod 600 "$TOKEN"
}

hosts_down() {
	local h d
	for h in 1 2 3; do
		nsenter --net="/run/netns/$(ns_of $h)" "$SILO" --root "$T_ROOT/root$h" list -q 2>/dev/null |
			while read -r d; do nsenter --net="/run/netns/$(ns_of $h)" "$SILO" --root "$T_ROOT/root$h" delete --force "$d"; done
	done
	for h in 1 2 3; do ip netns del "$(ns_of $h)" 2>/dev/null; done
	ip netns del "$NS_CL" 2>/dev/null
	ip netns del "$NS_UL" 2>/dev/null
	find /sys/fs/cgroup -maxdepth 2 -type d -name "mnet-h*-$$" 2>/dev/null | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

T_ROOT=$WORK/mnet
mkdir -p "$T_ROOT"
hosts_up
trap 'hosts_down; finish' EXIT

need_hosts() {
	need_criu
	[ -z "$HOSTS_SKIP" ] || skip "$HOSTS_SKIP"
}

# on HOST silo-args...: silo on host N with its own state root
on() { local h=$1; shift; nsenter --net="/run/netns/$(ns_of "$h")" "$SILO" --root "$T_ROOT/root$h" "$@"; }
in_host() { local h=$1; shift; nsenter --net="/run/netns/$(ns_of "$h")" "$@"; }  # in_host N CMD...

listening() {
	local hex; hex=$(printf ':%04X ' "$2")
	nsenter --net="/run/netns/$1" cat /proc/net/tcp | awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f=1 } END { exit !f }'
}
listening_ct() {  # HOST ID PORT: in the container's namespace
	local pid; pid=$(on "$1" state "$2" | jq -r .pid)
	nsenter --net="/proc/$pid/ns/net" cat /proc/net/tcp /proc/net/tcp6 | awk -v p="$(printf ':%04X ' "$3")" 'index($2 " ", p) && $4 == "0A" { f=1 } END { exit !f }'
}

# overlay_bundle DIR HOST [JQ...]: a bundle on the spanning network, from host N's slice
overlay_bundle() {
	local b=$1 h=$2; shift 2
	make_bundle "$b" '.annotations["org.silo.network"] = "bridge" |
		.annotations["org.silo.network.bridge"] = $br |
		.annotations["org.silo.network.subnet"] = $sn |
		.annotations["org.silo.network.vxlan"] = $vni |
		.annotations["org.silo.network.vxlan.peers"] = $peers |
		.annotations["org.silo.network.range"] = $range' \
		--arg br "$BR" --arg sn "$SUBNET" --arg vni "$VNI" \
		--arg peers "$HOST_IP1,$HOST_IP2,$HOST_IP3" --arg range "10.252.$NET.$((h * 64))/26"
}

# delete_everywhere ID: at the end of the test, wherever it runs then
delete_everywhere() {
	local h
	for h in 1 2 3; do
		defer nsenter --net="/run/netns/$(ns_of $h)" "$SILO" --root "$T_ROOT/root$h" delete --force "$1"
	done
}

# host 3 carries the network (a container there makes its bridge and VXLAN), and
# the client's namespace hangs on that bridge
client_up() {
	local b=$T_DIR/anchor id
	id=$(new_id)
	overlay_bundle "$b" 3
	set_args "$b" 'sleep 100000'
	delete_everywhere "$id"
	on 3 run -d --bundle "$b" "$id" > "$T_DIR/anchor.out" 2>&1 < /dev/null || fail "run on host 3: $(cat "$T_DIR/anchor.out")"
	ip link add "mn$$c" type veth peer name "mn$$l" &&
		ip link set "mn$$c" netns "$(ns_of 3)" && ip link set "mn$$l" netns "$NS_CL" &&
		ip -n "$(ns_of 3)" link set "mn$$c" master "$BR" up &&
		ip -n "$NS_CL" addr add "$CL_IP/24" dev "mn$$l" && ip -n "$NS_CL" link set "mn$$l" up ||
		fail "cannot attach the client to host 3's bridge"
	defer ip -n "$(ns_of 3)" link del "mn$$c"
}

# server ID BUNDLE: on host 1, numbering the lines of its one connection on :7000
server() {
	overlay_bundle "$2" 1
	set_args "$2" 'nc -l -p 7000 -e sh -c '\''n=0; while read l; do n=$((n+1)); echo "$n $l"; done'\'
	delete_everywhere "$1"
	on 1 run -d --bundle "$2" "$1" > "$T_DIR/$1.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/$1.out")"
	wait_for 10 listening_ct 1 "$1" 7000 || fail "the server does not listen: $(cat "$T_DIR/$1.out"; on 1 list; on 1 state "$1")"
	CT_IP=$(on 1 exec "$1" ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)
	CT_MAC=$(on 1 exec "$1" cat /sys/class/net/eth0/address)
	case $CT_IP in 10.252.$NET.6[4-9] | 10.252.$NET.[7-9]? | 10.252.$NET.1[01]? | 10.252.$NET.12[0-7]) ;;
	*) fail "address $CT_IP is not from host 1's slice" ;;
	esac
}

# start_receiver HOST [flags]: on 10.251.X.HOST:$PORT, output in $T_DIR/recvHOST.log
start_receiver() {
	local h=$1; shift
	PORT=$((20000 + RANDOM % 20000))
	nsenter --net="/run/netns/$(ns_of "$h")" "$SILO" --root "$T_ROOT/root$h" migrate-receive \
		--listen "10.251.$NET.$h:$PORT" --token-file "$TOKEN" --bundle-dir "$T_ROOT/recv$h" \
		--cgroup-parent "/$(ns_of "$h")" "$@" >> "$T_DIR/recv$h.log" 2>&1 < /dev/null &
	RECV_PID=$!
	defer kill -9 "$RECV_PID"
	wait_for 10 listening "$(ns_of "$h")" "$PORT" || fail "the receiver does not listen: $(cat "$T_DIR/recv$h.log")"
}

# migrate FROM TO ID [flags]
migrate() {
	local from=$1 to=$2 id=$3; shift 3
	capture on "$from" migrate --token-file "$TOKEN" "$@" "$id" "10.251.$NET.$to:$PORT"
}

running_on() { [ "$(on "$1" state "$2" 2>/dev/null | jq -r .status)" = running ]; }
silo_links() { in_host "$1" ip -o link show | awk -F': ' '{print $2}' | grep -E '^silo[0-9a-f]{8}(@|$)'; }
lease_of() { jq -r --arg id "$2" '.leases[] | select(.id == $id) | .ip' "$T_ROOT/root$1/.network/leases.json" 2>/dev/null; }

# assert_network_on HOST ID: same address and MAC there, announced; nothing left on OTHER
assert_network_moved() {
	local to=$1 from=$2 id=$3
	running_on "$to" "$id" || fail "not running on host $to: $(on "$to" list 2>&1)"
	assert_eq "$CT_IP" "$(on "$to" exec "$id" ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)" "address on host $to"
	assert_eq "$CT_MAC" "$(on "$to" exec "$id" cat /sys/class/net/eth0/address)" "MAC on host $to"
	assert_eq "$CT_IP" "$(lease_of "$to" "$id")" "lease on host $to"
	[ -z "$(lease_of "$from" "$id")" ] || fail "host $from kept the lease"
	wait_for 10 sh -c "! nsenter --net=/run/netns/$(ns_of "$from") ip -o link show | grep -q 'silo[0-9a-f]\{8\}'" ||
		fail "host $from kept a veth: $(silo_links "$from")"
	[ -n "$(silo_links "$to")" ] || fail "no veth on host $to"
	# the client reaches the address, now on host $to (its neighbour entry: the same MAC)
	nsenter --net="/run/netns/$NS_CL" "$ROOTFS/bin/busybox" ping -c 1 -W 2 "$CT_IP" > /dev/null || fail "$CT_IP does not answer after the move"
}

# ticking: a line every 0.1 s to the server while a migration runs
# (through a copy of the fd: bash closes a coprocess's fds in subshells)
start_ticking() {
	local fd
	exec {fd}>&"${CLIENT[1]}"
	(while :; do echo tick >&"$fd" || exit; sleep 0.1; done) &
	TICKER=$!
	exec {fd}>&-
}
# stop_ticking WORD N: stop, send WORD; every reply up to WORD's must come, numbered
# on from N (nothing lost, nothing reset); $NEXT: the number after WORD's
stop_ticking() {
	local line prev=$2
	kill "$TICKER"; wait "$TICKER" 2>/dev/null
	echo "$1" >&"${CLIENT[1]}"
	while read -t 15 -r line <&"${CLIENT[0]}"; do
		[ "${line%% *}" = $((prev + 1)) ] || fail "reply out of order after $prev: $line"
		prev=${line%% *}
		[ "${line#* }" = "$1" ] && break
	done
	[ "${line#* }" = "$1" ] || fail "the connection did not survive (last reply: $prev)"
	[ "$prev" -gt $(($2 + 1)) ] || fail "no data flowed during the migration"
	NEXT=$((prev + 1))
}

# connected_server ID BUNDLE: the server container ID, and the client's connection
# to it (coproc CLIENT) with its first reply in FIRST_REPLY.
connected_server() {
	local line
	client_up
	server "$1" "$2"
	coproc CLIENT { exec nsenter --net="/run/netns/$NS_CL" "$ROOTFS/bin/busybox" nc "$CT_IP" 7000; }
	defer kill -9 "$CLIENT_PID"
	echo first >&"${CLIENT[1]}"
	read -t 5 -r line <&"${CLIENT[0]}" || fail "no reply before the migration"
	FIRST_REPLY=$line
}

roundtrip() {  # STRATEGY
	need_hosts
	[ "$1" = postcopy ] && need_lazy_pipes
	local id b=$T_DIR/b line
	id=$(new_id)
	connected_server "$id" "$b"
	assert_eq "1 first" "$FIRST_REPLY" "reply"
	# data keeps flowing while it moves: a line every 50 ms, answered from wherever it runs
	start_receiver 2
	start_ticking
	migrate 1 2 "$id" --strategy "$1" --format json
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv2.log")"
	stop_ticking second 1
	assert_contains "$(jq -r .network <<< "$OUT")" "$CT_IP" "the report's network line"
	assert_network_moved 2 1 "$id"
	# and back
	start_receiver 1
	start_ticking
	migrate 2 1 "$id" --strategy "$1"
	[ "$RC" -eq 0 ] || fail "migrate back: $OUT; receiver: $(cat "$T_DIR/recv1.log")"
	stop_ticking third "$((NEXT - 1))"
	assert_network_moved 1 2 "$id"
	local i
	for i in 1 2 3; do
		echo "line$i" >&"${CLIENT[1]}"
		read -t 10 -r line <&"${CLIENT[0]}" || fail "the connection did not survive the move back"
		assert_eq "$((NEXT + i - 1)) line$i" "$line" "reply $i from host 1"
	done
	kill -0 "$CLIENT_PID" 2>/dev/null || fail "the client's connection ended (reset)"
	assert_ok on 1 delete --force "$id"
	[ -z "$(lease_of 1 "$id")" ] || fail "the lease outlived the delete"
}

need_lazy_pipes() {
	local old; old=$(cat /proc/sys/fs/pipe-max-size)
	if [ "$old" -lt 4194304 ]; then
		echo 4194304 > /proc/sys/fs/pipe-max-size || skip "cannot raise fs.pipe-max-size"
		defer sh -c "echo $old > /proc/sys/fs/pipe-max-size"
	fi
}

test_overlay_cold() { roundtrip cold; }
test_overlay_postcopy() { roundtrip postcopy; }

# ------------------------------------------------------------------ hostile leases

PEER=$TESTS_DIR/lib/migrate_peer.py
peer2() { nsenter --net="/run/netns/$(ns_of 2)" python3 "$PEER" "$HOST_IP2:$PORT" "$@"; }

# is_clean_on_2 ID: the same checks, quiet, for wait_for (a check that calls fail
# exits the test at the first look instead of waiting)
is_clean_on_2() {
	[ -z "$(silo_links 2)" ] && [ -z "$(lease_of 2 "$1")" ] && [ ! -e "$T_ROOT/recv2/$1" ] &&
		! grep -q "recv2/$1" /proc/self/mountinfo
}

# nothing of a refused (or abandoned) offer is left on host 2
nothing_left_on_2() {
	local id=$1
	[ -z "$(silo_links 2)" ] || fail "a veth was left on host 2: $(silo_links 2)"
	[ -z "$(lease_of 2 "$id")" ] || fail "a lease was left on host 2"
	[ ! -e "$T_ROOT/recv2/$id" ] || fail "a bundle was left: $(ls -la "$T_ROOT/recv2/$id" "$T_ROOT/recv2/$id/.migrate" 2>&1)"
	! grep -q "recv2/$id" /proc/self/mountinfo || fail "a mount was left: $(grep "recv2/$id" /proc/self/mountinfo)"
}

test_hostile_leases() {
	need_hosts
	need_cmd python3 gnutls-cli
	local b=$T_DIR/b id taken n
	overlay_bundle "$b" 1
	# a container on host 2 holds an address
	local b2=$T_DIR/b2 id2; id2=$(new_id)
	overlay_bundle "$b2" 2
	set_args "$b2" 'sleep 100000'
	delete_everywhere "$id2"
	on 2 run -d --bundle "$b2" "$id2" > "$T_DIR/b2.out" 2>&1 < /dev/null || fail "run on host 2: $(cat "$T_DIR/b2.out")"
	taken=$(lease_of 2 "$id2")
	local veths; veths=$(silo_links 2)
	start_receiver 2 --keep-listening
	n=0
	while IFS='|' read -r why net; do
		n=$((n + 1))
		id=$(new_id)
		capture peer2 auth --token "$TOKEN" --config "$b/config.json" --id "$id" --network "$net"
		assert_contains "$OUT" "auth_ok"
		assert_contains "$OUT" "reply ERROR" "$why"
		assert_contains "$OUT" "$why" "the refusal names the problem"
		assert_eq "$veths" "$(silo_links 2)" "host 2's veths after the refused lease ($why)"
		[ -z "$(lease_of 2 "$id")" ] || fail "a lease was left ($why)"
		[ ! -e "$T_ROOT/recv2/$id" ] || fail "a bundle was left ($why)"
	done <<-EOF
		not a host address|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.99.0.5","ports":[]}
		not a host address|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.1","ports":[]}
		not a host address|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.255","ports":[]}
		is taken here|{"bridge":"$BR","subnet":"$SUBNET","ip":"$taken","ports":[]}
		serves subnet|{"bridge":"$BR","subnet":"10.253.$NET.0/24","ip":"10.253.$NET.9","ports":[]}
		malformed|{"bridge":"$BR","ip":"10.252.$NET.9"}
		network: ip|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.x","ports":[]}
		network: bridge|{"bridge":"../../x","subnet":"$SUBNET","ip":"10.252.$NET.9","ports":[]}
		ports[0]|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.9","ports":[7]}
		ports[0]|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.9","ports":["99999:80"]}
		subnet6 and ip6|{"bridge":"$BR","subnet":"$SUBNET","ip":"10.252.$NET.9","ip6":"fd00::5","ports":[]}
	EOF
	kill -0 "$RECV_PID" || fail "the receiver died: $(cat "$T_DIR/recv2.log")"
	[ "$n" -ge 11 ] || fail "only $n cases ran"
	assert_eq "$taken" "$(lease_of 2 "$id2")" "the holder's lease"
}

# A migration abandoned after the receiver made the veth (the peer goes away after
# ACCEPT; then a receiver killed outright): nothing is left on host 2.
test_abandoned_after_veth() {
	need_hosts
	need_cmd python3 gnutls-cli
	local b=$T_DIR/b id
	overlay_bundle "$b" 1
	start_receiver 2 --keep-listening
	id=$(new_id)
	capture peer2 auth --token "$TOKEN" --config "$b/config.json" --id "$id" \
		--network "{\"bridge\":\"$BR\",\"subnet\":\"$SUBNET\",\"ip\":\"10.252.$NET.77\",\"ports\":[\"127.0.0.1:18080:80/tcp\"]}"
	assert_contains "$OUT" "reply ACCEPT"
	wait_for 30 is_clean_on_2 "$id" || nothing_left_on_2 "$id"
	# the receiver itself killed with the veth made: its guardian undoes it
	id=$(new_id)
	peer2 auth --token "$TOKEN" --config "$b/config.json" --id "$id" --manifest --hold 30 \
		--network "{\"bridge\":\"$BR\",\"subnet\":\"$SUBNET\",\"ip\":\"10.252.$NET.78\",\"ports\":[]}" > "$T_DIR/peer.out" 2>&1 &
	local p=$!
	defer kill -9 "$p"
	wait_for 10 grep -q holding "$T_DIR/peer.out" || fail "the peer did not get through: $(cat "$T_DIR/peer.out")"
	[ -n "$(silo_links 2)" ] || fail "no veth was made"
	[ -n "$(lease_of 2 "$id")" ] || fail "no lease was taken"
	kill -9 "$RECV_PID"
	kill -9 "$p"
	wait_for 30 is_clean_on_2 "$id" || nothing_left_on_2 "$id"
}

# The receiver dies after the freeze (cold): the source restores the container
# with its network made again (same address, connection kept).
test_fallback_keeps_network() {
	need_hosts
	local id b=$T_DIR/b line mpid
	id=$(new_id)
	connected_server "$id" "$b"
	start_receiver 2
	on 1 migrate --token-file "$TOKEN" --strategy cold "$id" "$HOST_IP2:$PORT" > "$T_DIR/mig.out" 2>&1 < /dev/null &
	mpid=$!
	wait_for 20 test -e "$T_ROOT/recv2/$id/.migrate/final" || fail "the images never came: $(cat "$T_DIR/mig.out")"
	kill -9 "$RECV_PID"
	wait "$mpid" && RC=0 || RC=$?
	OUT=$(cat "$T_DIR/mig.out")
	[ "$RC" -ne 0 ] || fail "migrate succeeded although the receiver died: $OUT"
	assert_contains "$OUT" "restored on the source"
	wait_for 15 running_on 1 "$id" || fail "not running on host 1: $OUT"
	assert_eq "$CT_IP" "$(lease_of 1 "$id")" "lease on host 1"
	assert_eq "$CT_MAC" "$(on 1 exec "$id" cat /sys/class/net/eth0/address)" "MAC on host 1"
	wait_for 30 is_clean_on_2 "$id" || nothing_left_on_2 "$id"
	echo second >&"${CLIENT[1]}"
	read -t 10 -r line <&"${CLIENT[0]}" || fail "the connection did not survive the fallback"
	assert_eq "2 second" "$line" "reply after the fallback"
}

# IPv6 moves too: the same IPv6 address on the destination, in its lease, and
# reachable from a neighbour there (the unsolicited NA updated its cache).
test_ipv6_moves() {
	need_hosts
	local id b=$T_DIR/b ip6 ip6b
	id=$(new_id)
	overlay_bundle "$b" 1
	jq_edit "$b" '.annotations["org.silo.network.ipv6"] = "true" | .annotations["org.silo.network.subnet6"] = $p' --arg p "fd52:0:$NET::/64"
	set_args "$b" 'sleep 100000'
	delete_everywhere "$id"
	on 1 run -d --bundle "$b" "$id" > "$T_DIR/run.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/run.out")"
	ip6=$(on 1 exec "$id" ip -o -6 addr show eth0 scope global | awk '{print $4}')
	[ -n "$ip6" ] || fail "no IPv6 address on host 1"
	start_receiver 2
	migrate 1 2 "$id" --strategy cold
	[ "$RC" -eq 0 ] || fail "migrate: $OUT; receiver: $(cat "$T_DIR/recv2.log")"
	ip6b=$(on 2 exec "$id" ip -o -6 addr show eth0 scope global | awk '{print $4}')
	assert_eq "$ip6" "$ip6b" "IPv6 address on host 2"
	assert_eq "${ip6%/*}" "$(jq -r --arg id "$id" '.leases[] | select(.id == $id) | .ip6' "$T_ROOT/root2/.network/leases.json")" "IPv6 lease on host 2"
	in_host 2 "$ROOTFS/bin/busybox" ping -6 -c 1 -W 2 "${ip6%/*}" > /dev/null || fail "${ip6%/*} does not answer on host 2"
}

run_test overlay_cold test_overlay_cold
run_test ipv6_moves test_ipv6_moves
run_test overlay_postcopy test_overlay_postcopy
run_test hostile_leases test_hostile_leases
run_test abandoned_after_veth test_abandoned_after_veth
run_test fallback_keeps_network test_fallback_keeps_network
