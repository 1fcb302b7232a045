#!/bin/bash
# shellcheck shell=bash disable=SC2034  # (variables for the files that source it)
# What test_network.sh and test_network_ipv6.sh share: one run at a time, the
# helpers, the sweep at exit of what did not exist before the file started, and
# test_zz_nothing_left (each file runs it last).  Sourced after lib/common.sh.

[ "${TEST_TIMEOUT:-30}" -ge 60 ] || TEST_TIMEOUT=60   # 20 concurrent creates

# The bridge silo0, the table ip silo and net.ipv4.ip_forward are the host's:
# two runs of this file at once (two checkouts, two `make check`) would see each
# other's containers.  One at a time.
NET_LOCK=/run/lock/silo-test-network.lock
[ -d /run/lock ] || NET_LOCK=/tmp/silo-test-network.lock
exec 9> "$NET_LOCK"
flock -w 900 9 || echo "note: another run of test_network.sh holds $NET_LOCK; going on" >&2

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
WITH_NET_RAW='.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
PORT=$((20000 + $$ % 20000))   # host port for published-port tests
X=$((20 + $$ % 200))          # third octet of the test-made networks
export -n http_proxy HTTP_PROXY no_proxy 2>/dev/null
unset http_proxy HTTP_PROXY

# ---------------------------------------------------------------- helpers
silo_veths() { ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep -E '^silo[0-9a-f]{8}$' | sort; }
has_table() { command -v nft >/dev/null && nft list table ip silo >/dev/null 2>&1; }
has_table6() { command -v nft >/dev/null && nft list table ip6 silo >/dev/null 2>&1; }
has_link() { ip link show "$1" >/dev/null 2>&1; }
# veth_of ID: the host end silo gives container ID ("silo" + FNV-1a of the id)
veth_of() {
	local s=$1 h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
	done
	printf 'silo%08x' "$h"
}
leases() { jq -r '.leases | length' "$ROOT/.network/leases.json" 2>/dev/null || echo 0; }
# ct_ip ID: the IPv4 address of eth0 inside the running container
ct_ip() { nsenter -t "$(state_field "$1" pid)" -n ip -4 -o addr show dev eth0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }'; }
bridge_ip() { ip -4 -o addr show dev silo0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }'; }
# ct_ip6 ID / bridge_ip6 [BRIDGE]: the global IPv6 address (with /LEN when $2 is "len")
ct_ip6() { nsenter -t "$(state_field "$1" pid)" -n ip -6 -o addr show dev eth0 scope global 2>/dev/null | awk -v l="${2:-}" '{ if (l != "len") sub(/\/.*/, "", $4); print $4 }'; }
bridge_ip6() { ip -6 -o addr show dev "${1:-silo0}" scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }'; }
leases6() { jq -r '[.leases[] | select(.ip6)] | length' "$ROOT/.network/leases.json" 2>/dev/null || echo 0; }
# hget URL: fetch from the host (no -T: busybox 1.35's wget crashes with it)
hget() { timeout 5 busybox wget -q -O - "$1" 2>/dev/null; }

# net_bundle DIR [JQ_FILTER [jq args...]]: a bundle with CAP_NET_RAW (busybox
# ping) and a page in /www
net_bundle() {
	local b=$1 f=${2:-.}
	shift; [ $# -gt 0 ] && shift
	make_bundle "$b" "$WITH_NET_RAW | $f" "$@"
	mkdir -p "$b/rootfs/www"
	echo "hello from $(basename "$b")" > "$b/rootfs/www/index.html"
}
# run_net BUNDLE SCRIPT [run flags...]: a foreground container on silo's bridge;
# output in $OUT, status in $RC.
run_net() {
	local b=$1 id; id=$(new_id)
	set_args "$b" "$2"
	shift 2
	capture silo run --bundle "$b" --network bridge "$@" "$id"
}

# Nothing of silo's networking may remain for these ids (and none at all when the
# last container is gone): no veth, lease, nft rule, bridge.
assert_net_gone() {
	local id
	for id; do
		! has_link "$(veth_of "$id")" || fail "veth $(veth_of "$id") of $id left behind"
		! has_table || ! nft list table ip silo | grep -qF "\"silo:$id\"" || fail "nft rules of $id left behind"
		! grep -qF "\"$id\"" "$ROOT/.network/leases.json" 2>/dev/null || fail "lease of $id left behind"
		! has_table6 || ! nft list table ip6 silo | grep -qF "\"silo:$id\"" || fail "ip6 nft rules of $id left behind"
	done
}
assert_all_net_gone() {
	local v; v=$(comm -13 "$WORK/veths.before" <(silo_veths) | tr '\n' ' ')
	[ -z "$v" ] || fail "veths left behind: $v"
	assert_eq 0 "$(leases)" "leases left in $ROOT/.network/leases.json"
	[ -n "$TABLE_BEFORE" ] || ! has_table || fail "nft table ip silo left behind: $(nft list table ip silo)"
	[ -n "$TABLE6_BEFORE" ] || ! has_table6 || fail "nft table ip6 silo left behind: $(nft list table ip6 silo)"
	[ -n "$BRIDGE_BEFORE" ] || ! has_link silo0 || fail "bridge silo0 left behind"
}

# What existed before: never touched by the sweep at exit.
silo_veths > "$WORK/veths.before"
TABLE_BEFORE=$(has_table && echo yes)
TABLE6_BEFORE=$(has_table6 && echo yes)
BRIDGE_BEFORE=$(has_link silo0 && echo yes)
FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
FORWARD6_BEFORE=$(cat /proc/sys/net/ipv6/conf/all/forwarding 2>/dev/null)
net_sweep() {
	local v
	for v in $(comm -13 "$WORK/veths.before" <(silo_veths)); do ip link del "$v" 2>/dev/null; done
	[ -n "$TABLE_BEFORE" ] || nft delete table ip silo 2>/dev/null
	[ -n "$TABLE6_BEFORE" ] || nft delete table ip6 silo 2>/dev/null
	[ -n "$BRIDGE_BEFORE" ] || ip link del silo0 2>/dev/null
	ip netns del "silo-t-outside-$$" 2>/dev/null
	ip link del "sto$$" 2>/dev/null
	ip link del "stn$$" 2>/dev/null
	ip link del "sx$$" 2>/dev/null
	ip link del "sy$$" 2>/dev/null
	echo "$FORWARD_BEFORE" > /proc/sys/net/ipv4/ip_forward
	# (only when it differs: writing "all" sets every interface's value)
	[ -z "$FORWARD6_BEFORE" ] || [ "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" = "$FORWARD6_BEFORE" ] ||
		echo "$FORWARD6_BEFORE" > /proc/sys/net/ipv6/conf/all/forwarding
	return 0
}
trap 'net_sweep; finish' EXIT

need_net() {
	silo_only "silo's own networking"
	need_cmd ip nsenter busybox
	[ -z "$BRIDGE_BEFORE" ] || skip "the host already has a silo0 bridge: not disturbing it"
}
need_net6() {
	need_net
	[ -n "$FORWARD6_BEFORE" ] || skip "the host has no IPv6"
	[ "$(cat /proc/sys/net/ipv6/conf/default/disable_ipv6)" = 0 ] || skip "IPv6 is disabled for new interfaces"
}

# ---------------------------------------------------------------- tests
# create_concurrently BUNDLE N [create flags...]: N containers of BUNDLE created
# at once; their ids in IDS.  Any create that fails fails the test.
create_concurrently() {
	local b=$1 n=$2 id bad=""
	shift 2
	IDS=()
	for _ in $(seq "$n"); do IDS+=("$(new_id)"); done
	for id in "${IDS[@]}"; do
		( silo create --bundle "$b" "$@" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null
		  echo $? > "$T_DIR/$id.rc" ) &
	done
	wait
	for id in "${IDS[@]}"; do
		[ "$(cat "$T_DIR/$id.rc")" = 0 ] || bad="$bad $id: $(cat "$T_DIR/$id.out")"
	done
	[ -z "$bad" ] || fail "concurrent creates failed:$bad"
}
# delete_concurrently ID...: `delete --force` of them all at once; none may remain.
delete_concurrently() {
	local id
	for id; do silo delete --force "$id" > /dev/null 2>&1 & done
	wait
	for id; do assert_no_file "$ROOT/$id"; done
}

# start_outside 4|6: the "outside", a network namespace (silo-t-outside-PID)
# joined to the host by the veth sto<PID> (host .1 / ::1, outside .2 / ::2 of
# 10.199.X.0/24 or fd97:X::/64), with a web server at $OUTSIDE_URL whose
# cgi-bin/who answers "remote=ADDRESS" with the address that connected.
# Everything goes with the test (defer).
start_outside() {
	local ns=silo-t-outside-$$ hv=sto$$ www=$T_DIR/www fam host peer listen pid dad=()
	if [ "$1" = 6 ]; then
		# (nodad: usable at once, without duplicate address detection)
		fam=-6 host="fd97:$X::1/64" peer="fd97:$X::2/64" listen="[fd97:$X::2]:8000" dad=(nodad)
	else
		fam=-4 host="10.199.$X.1/24" peer="10.199.$X.2/24" listen="10.199.$X.2:8000"
	fi
	OUTSIDE_URL="http://$listen"
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip link add "$hv" type veth peer name "${hv}p" netns "$ns" || fail "veth to $ns"
	defer ip link del "$hv"
	ip "$fam" addr add "$host" dev "$hv" "${dad[@]}" && ip link set "$hv" up || fail "host side of $hv"
	ip -n "$ns" "$fam" addr add "$peer" dev "${hv}p" "${dad[@]}" && ip -n "$ns" link set "${hv}p" up &&
		ip -n "$ns" link set lo up || fail "outside side of $hv"
	mkdir -p "$www/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "remote=$REMOTE_ADDR"\n' > "$www/cgi-bin/who"
	chmod 755 "$www/cgi-bin/who"
	ip netns exec "$ns" busybox httpd -f -p "$listen" -h "$www" &
	pid=$!
	defer kill "$pid"
	wait_for 5 ip netns exec "$ns" busybox wget -q -O /dev/null "$OUTSIDE_URL/cgi-bin/who" ||
		fail "server in $ns did not start"
}

test_zz_nothing_left() {
	need_net
	assert_all_net_gone
	assert_eq "$FORWARD_BEFORE" "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward restored"
	[ -z "$FORWARD6_BEFORE" ] || assert_eq "$FORWARD6_BEFORE" "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" \
		"net.ipv6.conf.all.forwarding restored"
	[ ! -e /run/netns/silo-t-outside-$$ ] || fail "namespace silo-t-outside-$$ left behind"
	! grep -qF "$WORK" /run/silo-network-roots 2>/dev/null ||
		fail "a state root of these tests is still in /run/silo-network-roots: $(show "$(cat /run/silo-network-roots)")"
}
