#!/bin/bash
# silo's own networking (--network bridge, --publish, --ipv6, --subnet6,
# org.silo.network.* annotations, linux.netDevices): see man/silo-network.7.
# The IPv6 tests are named ipv6_* (TEST_FILTER=ipv6 runs only them).
#
# Traffic only on loopback and in namespaces the tests make: the "outside" is a
# network namespace (silo-t-outside-PID) joined to the host by a veth.  Every
# veth, namespace, nft table and bridge made here is removed even on failure
# (defer, and a sweep at exit of what did not exist before the file started).
. "$(dirname "$0")/../lib/common.sh"

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
test_bridge_ping() {
	need_net
	local a b=$T_DIR/b ipa out
	a=$(new_id)
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$a" "$b" --network bridge
	wait_output "$a" ready
	ipa=$(ct_ip "$a")
	assert_match "$ipa" '^10\.88\.0\.[0-9]+$' "address of $a"
	has_link silo0 || fail "no bridge silo0"
	assert_eq "$(echo "$ipa" | awk -F. '{ printf "%s.%s.0.1", $1, $2 }')" "$(bridge_ip)" "gateway on silo0"
	has_link "$(veth_of "$a")" || fail "no veth $(veth_of "$a") on the host"
	# inside: eth0 with a MAC derived from the address, MTU of the bridge, default route
	out=$(nsenter -t "$(state_field "$a" pid)" -n sh -c 'ip -o link show eth0; ip route; ip -o link show lo')
	assert_contains "$out" "mtu 1500"
	assert_contains "$out" "link/ether 02:51:0a:58:" "MAC of eth0"
	assert_contains "$out" "default via $(bridge_ip) dev eth0"
	assert_match "$out" 'lo: <LOOPBACK,UP' "lo up"

	run_net "$b" "ping -c 2 -W 3 $ipa; echo; cat /etc/hosts; cat /etc/resolv.conf; ip -4 -o addr show eth0"
	[ "$RC" -eq 0 ] || fail "ping from a second container failed: $(show "$OUT")"
	assert_contains "$OUT" "2 packets received"
	assert_contains "$OUT" "127.0.0.1	localhost" "/etc/hosts"
	assert_contains "$OUT" "# generated by silo from the host's resolv.conf"
	assert_not_contains "$OUT" "nameserver 127." "/etc/resolv.conf"
	assert_not_contains "$OUT" "$ipa/" "second container's address"
	# the generated files are read-only mounts, nothing was written into the image
	[ ! -s "$b/rootfs/etc/hosts" ] || fail "the image's /etc/hosts was written"
}

test_publish_from_host() {
	need_net
	local id b=$T_DIR/web bip out
	id=$(new_id)
	net_bundle "$b"
	set_args "$b" 'httpd -f -p 80 -h /www'
	run_detached "$id" "$b" --network bridge --publish "$PORT:80" -p "127.0.0.1:$((PORT + 1)):80/tcp"
	wait_for 10 hget "http://127.0.0.1:$PORT/" || fail "nothing on 127.0.0.1:$PORT: $(ct_output "$id")"
	assert_eq "hello from web" "$(hget "http://127.0.0.1:$PORT/")" "page via 127.0.0.1:$PORT"
	assert_eq "hello from web" "$(hget "http://127.0.0.1:$((PORT + 1))/")" "page via 127.0.0.1:$((PORT + 1))"
	bip=$(bridge_ip)
	assert_eq "hello from web" "$(hget "http://$bip:$PORT/")" "page via the bridge's $bip:$PORT"
	# and with busybox nc
	out=$(printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 busybox nc 127.0.0.1 "$PORT")
	assert_contains "$out" "hello from web" "nc 127.0.0.1:$PORT"
	# the rules are the container's, marked with its id
	if has_table; then
		out=$(nft list table ip silo)
		assert_contains "$out" "dport $PORT dnat to $(ct_ip "$id"):80 comment \"silo:$id\""
	fi
	# a second container cannot take the same host port
	local id2; id2=$(new_id)
	assert_fail silo create --bundle "$b" --network bridge -p "$PORT:81" "$id2"
	assert_contains "$OUT" "host port $PORT/tcp is already published by \`$id\`"
	assert_no_file "$ROOT/$id2"
	assert_ok silo delete --force "$id"
	assert_net_gone "$id"
	if hget "http://127.0.0.1:$PORT/" >/dev/null; then fail "port $PORT still answers after delete"; fi
}

test_publish_by_annotation() {
	need_net
	local id b=$T_DIR/ann
	id=$(new_id)
	net_bundle "$b" '.annotations["org.silo.network"]="bridge" | .annotations["org.silo.network.publish"]=$p' \
		--arg p "$((PORT + 2)):80/tcp,$((PORT + 3)):8080"
	set_args "$b" 'httpd -f -p 80 -h /www & httpd -f -p 8080 -h /www; wait'
	run_detached "$id" "$b"
	wait_for 10 hget "http://127.0.0.1:$((PORT + 2))/" || fail "annotation publish not reachable"
	assert_eq "hello from ann" "$(hget "http://127.0.0.1:$((PORT + 3))/")" "second published port"
	assert_ok silo delete --force "$id"
	# flags win over the annotations
	run_in "$b" 'ls /sys/class/net | tr "\n" " "'
	assert_contains "$OUT" "eth0" "annotation alone gives eth0"
	local nid; nid=$(new_id)
	set_args "$b" 'ls /sys/class/net | tr "\n" " "'
	capture silo run --bundle "$b" --network none "$nid"
	assert_eq 0 "$RC" "--network none over the annotation"
	assert_eq "lo " "$OUT" "interfaces with --network none"
}

test_nat_to_outside() {
	need_net
	local ns=silo-t-outside-$$ hv=sto$$ b=$T_DIR/b www=$T_DIR/www pid
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip link add "$hv" type veth peer name "${hv}p" netns "$ns" || fail "veth to $ns"
	defer ip link del "$hv"
	ip addr add "10.199.$X.1/24" dev "$hv" && ip link set "$hv" up || fail "host side of $hv"
	ip -n "$ns" addr add "10.199.$X.2/24" dev "${hv}p" && ip -n "$ns" link set "${hv}p" up &&
		ip -n "$ns" link set lo up || fail "outside side of $hv"
	# A server outside that tells who connected.
	mkdir -p "$www/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "remote=$REMOTE_ADDR"\n' > "$www/cgi-bin/who"
	chmod 755 "$www/cgi-bin/who"
	ip netns exec "$ns" busybox httpd -f -p "10.199.$X.2:8000" -h "$www" &
	pid=$!
	defer kill "$pid"
	wait_for 5 ip netns exec "$ns" busybox wget -q -O /dev/null "http://10.199.$X.2:8000/cgi-bin/who" ||
		fail "server in $ns did not start"
	net_bundle "$b"
	# (not the last command: sh would exec it as the namespace's pid 1, which
	# ignores timeout's SIGTERM)
	set_args "$b" "timeout 10 wget -q -O - http://10.199.$X.2:8000/cgi-bin/who; echo wget=\$?; $SLEEPER"
	local id; id=$(new_id)
	run_detached "$id" "$b" --network bridge
	wait_output "$id" ready 15
	OUT=$(ct_output "$id")
	[[ "$OUT" == *wget=0* ]] || fail "container could not reach the outside: $(show "$OUT")"
	# masquerade: the server saw the host's address on that link, not 10.88.x.y
	assert_contains "$OUT" "remote=10.199.$X.1" "source address seen outside"
	assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward while a container uses NAT"
	assert_ok silo delete --force "$id"
	if [ "$FORWARD_BEFORE" = 0 ]; then
		assert_eq 0 "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward after the last container"
	fi
}

test_concurrent_creates() {
	need_net
	local b=$T_DIR/b ids=() id i ips n bad=""
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	for i in $(seq 20); do ids+=("$(new_id)"); done
	for id in "${ids[@]}"; do
		( silo create --bundle "$b" --network bridge "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null
		  echo $? > "$T_DIR/$id.rc" ) &
	done
	wait
	for id in "${ids[@]}"; do
		[ "$(cat "$T_DIR/$id.rc")" = 0 ] || bad="$bad $id: $(cat "$T_DIR/$id.out")"
	done
	[ -z "$bad" ] || fail "concurrent creates failed:$bad"
	ips=$(for id in "${ids[@]}"; do ct_ip "$id"; done)
	n=$(sort -u <<< "$ips" | grep -c .)
	assert_eq 20 "$n" "distinct addresses among 20 containers ($(tr '\n' ' ' <<< "$ips"))"
	assert_eq 20 "$(leases)" "leases"
	assert_eq 20 "$(comm -13 "$WORK/veths.before" <(silo_veths) | grep -c .)" "veths"
	# and concurrent deletes
	for id in "${ids[@]}"; do silo delete --force "$id" > /dev/null 2>&1 & done
	wait
	for id in "${ids[@]}"; do assert_no_file "$ROOT/$id"; done
	assert_net_gone "${ids[@]}"
	assert_all_net_gone
}

# Two state roots share the host's forwarding switch: containers of one coming
# and going must never leave a container of the other without forwarding, and
# the switch goes off with the last container of either (nn_host_net_lock).
test_two_roots_share_forwarding() {
	need_net
	local ra=$T_DIR/root-a ba=$T_DIR/ba bb=$T_DIR/bb i id bad="" loop
	echo 0 > /proc/sys/net/ipv4/ip_forward   # silo turns it on, and off again
	net_bundle "$ba"
	set_args "$ba" true
	net_bundle "$bb"
	set_args "$bb" "$SLEEPER"
	# root B on a bridge of its own: the two roots' address pools do not know each other
	jq_edit "$bb" '.annotations["org.silo.network.bridge"]=$br | .annotations["org.silo.network.subnet"]=$s' \
		--arg br "stb$$" --arg s "10.198.$X.0/24"
	defer ip link del "stb$$"
	( for i in $(seq 40); do
		"$SILO" --root "$ra" run --bundle "$ba" --network bridge "a$i-$$" > /dev/null 2>&1 < /dev/null
	  done ) &
	loop=$!
	defer kill "$loop"
	for i in $(seq 40); do
		id=$(new_id)
		run_detached "$id" "$bb" --network bridge
		[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || bad="$bad $i"
		silo delete --force "$id" > /dev/null 2>&1
	done
	wait "$loop"
	assert_eq "" "$bad" "runs of root B whose container found forwarding off"
	assert_eq "" "$(ls "$ra" 2>/dev/null | grep -v '^\.')" "containers left in root A"
	assert_eq 0 "$(cat /proc/sys/net/ipv4/ip_forward)" "forwarding after the last container of both roots"
	assert_no_file /run/silo-forwarding
}

test_delete_force_after_kill() {
	need_net
	local id b=$T_DIR/b pid
	id=$(new_id)
	net_bundle "$b"
	set_args "$b" "$SLEEPER & $SLEEPER"
	create_ct "$id" "$b" --network bridge -p "$((PORT + 4)):80"
	assert_ok silo start "$id"
	wait_output "$id" ready
	pid=$(state_field "$id" pid)
	# kill -9 everything of the container, then delete --force
	# shellcheck disable=SC2046 # one pid per word
	kill -9 $(cat "$(cgroup_dirs_of "$id" | head -n1)/cgroup.procs" 2>/dev/null) "$pid" 2>/dev/null
	wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "process $pid survived kill -9"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	assert_net_gone "$id"
	assert_all_net_gone
}

test_join_netns_by_path_untouched() {
	silo_only "silo's own networking"
	need_cmd unshare nsenter
	local b=$T_DIR/b nsfile=$T_DIR/netns before id
	touch "$nsfile"
	unshare --net="$nsfile" true || skip "cannot create a persistent network namespace with unshare"
	defer umount "$nsfile"
	make_bundle "$b" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "$nsfile"
	before=$(silo_veths | tr '\n' ' ')
	run_ok "$b" 'ls /sys/class/net | tr "\n" " "'
	assert_eq "lo " "$OUT" "interfaces in the joined namespace"
	assert_eq "$before" "$(silo_veths | tr '\n' ' ')" "silo veths on the host"
	# asking for silo's bridge with such a config is an error, and makes nothing
	id=$(new_id)
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "needs a new network namespace"
	assert_contains "$OUT" "$nsfile"
	assert_no_file "$ROOT/$id"
	# so is a config without a network namespace at all
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "network"))'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "needs a new network namespace"
	assert_no_file "$ROOT/$id"
	assert_eq "$before" "$(silo_veths | tr '\n' ' ')" "silo veths on the host"
}

test_bad_input() {
	need_net
	local b=$T_DIR/b id ns=silo-t-outside-$$ hv=sto$$ before
	before=$(silo_veths | tr '\n' ' ')
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	# bad port syntax
	for p in 80 80:abc 0:80 65536:80 80:80/sctp 1.2.3:80:80; do
		assert_fail silo create --bundle "$b" --network bridge -p "$p" "$id"
		assert_contains "$OUT" "--publish: \`$p\`"
		assert_no_file "$ROOT/$id"
	done
	assert_fail silo create --bundle "$b" -p 8080:80 "$id"
	assert_contains "$OUT" "--publish needs --network bridge"
	assert_fail silo create --bundle "$b" --network foo "$id"
	assert_contains "$OUT" "unknown mode \`foo\`"
	# bridge name too long (> 15 characters)
	jq_edit "$b" '.annotations["org.silo.network.bridge"]="abcdefghijklmnop"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "org.silo.network.bridge: \`abcdefghijklmnop\` is longer than 15 characters"
	has_link abcdefghijklmno && fail "a bridge was created"
	# a subnet overlapping a route of the host (made here: a veth to a namespace)
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip link add "$hv" type veth peer name "${hv}p" netns "$ns" || fail "veth"
	defer ip link del "$hv"
	ip addr add "10.197.$X.1/24" dev "$hv" && ip link set "$hv" up || fail "address on $hv"
	jq_edit "$b" 'del(.annotations["org.silo.network.bridge"]) | .annotations["org.silo.network.subnet"]="10.197.0.0/16"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "subnet 10.197.0.0/16 overlaps the host's"
	assert_contains "$OUT" "10.197.$X.0/24"
	assert_no_file "$ROOT/$id"
	has_link silo0 && fail "bridge silo0 created by a failed create"
	# malformed subnet
	jq_edit "$b" '.annotations["org.silo.network.subnet"]="10.197.0.1/16"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "host bits set"
	# an exhausted pool: a /30 has room for one container
	local one two
	one=$(new_id)
	two=$(new_id)
	jq_edit "$b" '.annotations["org.silo.network.subnet"]=$s | .annotations["org.silo.network.bridge"]=$br' \
		--arg s "10.196.$X.0/30" --arg br "sx$$"
	create_ct "$one" "$b" --network bridge
	assert_eq "10.196.$X.2" "$(ct_ip "$one")" "the one address of the /30"
	assert_fail silo create --bundle "$b" --network bridge "$two"
	assert_contains "$OUT" "no free address left in 10.196.$X.0/30"
	assert_no_file "$ROOT/$two"
	! has_link "$(veth_of "$two")" || fail "veth of the refused container exists"
	assert_ok silo delete --force "$one"
	has_link "sx$$" && fail "bridge sx$$ left after its last container"
	assert_net_gone "$one" "$two" "$id"
	assert_eq "$before" "$(silo_veths | tr '\n' ' ')" "silo veths on the host"
}

test_net_devices() {
	silo_only "linux.netDevices"
	need_cmd ip
	local b=$T_DIR/b id dev=stn$$ pid
	ip link add "$dev" type veth peer name "${dev}p" || skip "cannot create a veth"
	defer ip link del "$dev"
	ip addr add "10.195.$X.1/24" dev "$dev" && ip link set "$dev" up || fail "address on $dev"
	id=$(new_id)
	make_bundle "$b" '.linux.netDevices = {($d): {"name": "net1"}}' --arg d "$dev"
	set_args "$b" "ip -o addr show net1; $SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	assert_contains "$(ct_output "$id")" "inet 10.195.$X.1/24" "address of net1 inside"
	! has_link "$dev" || fail "$dev is still on the host"
	# renamed inside to a name the host uses too (the peer's): no clash
	ip link add "${dev}q" type veth peer name "${dev}r" || fail "second veth"
	defer ip link del "${dev}q"
	make_bundle "$b" '.linux.netDevices = {($d): {"name": $n}}' --arg d "${dev}q" --arg n "${dev}p"
	run_ok "$b" "ls /sys/class/net | tr '\n' ' '"
	assert_eq "lo ${dev}p " "$OUT" "interfaces of a container with ${dev}q as ${dev}p"
	has_link "${dev}q" || fail "${dev}q did not come back to the host"
	# back to the host with its address when the container goes (even after kill -9)
	pid=$(state_field "$id" pid)
	kill -9 "$pid"
	assert_ok silo delete --force "$id"
	has_link "$dev" || fail "$dev did not come back to the host"
	assert_contains "$(ip -o addr show dev "$dev")" "10.195.$X.1/24" "address of $dev after delete"
	assert_no_leftovers "$id"
	# a missing device is an error that makes nothing
	make_bundle "$b" '.linux.netDevices = {"nosuchdev0": {}}'
	id=$(new_id)
	assert_fail silo create --bundle "$b" "$id"
	assert_contains "$OUT" "no interface \`nosuchdev0\` on the host"
	assert_no_file "$ROOT/$id"
}

test_bridge_with_user_namespace() {
	need_net
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	local b=$T_DIR/b a id
	mkdir -p "$b"
	build_rootfs "$b/rootfs"
	chown -R 100000:100000 "$b/rootfs"
	net_bundle "$b" '.linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	a=$(new_id)
	set_args "$b" "$SLEEPER"
	run_detached "$a" "$b" --network bridge
	wait_output "$a" ready
	assert_match "$(ct_ip "$a")" '^10\.88\.' "address in a user namespace"
	# (a run of its own: the generated files are mounted by silo itself there, the
	# container's root cannot reach the state directory)
	run_net "$b" "ping -c 1 -W 3 $(ct_ip "$a") && cat /etc/hosts /etc/resolv.conf && grep -E ' /etc/(hosts|resolv.conf) ' /proc/self/mounts"
	assert_eq 0 "$RC" "ping, /etc/hosts, /etc/resolv.conf in a user namespace: $(show "$OUT")"
	assert_contains "$OUT" "1 packets received" "ping between user-namespaced containers"
	assert_match "$OUT" $'\n10\\.88\\.[0-9.]+\t' "the container's own line in /etc/hosts"
	assert_contains "$OUT" "# generated by silo from the host's resolv.conf"
	assert_match "$OUT" ' /etc/hosts [^ ]+ ro,' "/etc/hosts mounted read-only"
	assert_match "$OUT" ' /etc/resolv.conf [^ ]+ ro,' "/etc/resolv.conf mounted read-only"
	assert_not_contains "$OUT" "warning:" "silo's output"
}

# ---------------------------------------------------------------- IPv6
# Test-made networks: fd97:X::/64 (outside), fd96/fd95 (host address / route),
# fd94:X::/126 (a small pool), fd91-93 (requested subnets).

# assert_v6_gone ID...: nothing of silo's networking for these ids, no IPv6
# lease at all, no IPv6 gateway left on silo0, no table ip6 silo.
assert_v6_gone() {
	assert_net_gone "$@"
	assert_eq 0 "$(leases6)" "IPv6 leases left in $ROOT/.network/leases.json"
	[ -z "$(bridge_ip6)" ] || fail "IPv6 gateway $(bridge_ip6) left on silo0"
	[ -n "$TABLE6_BEFORE" ] || ! has_table6 || fail "nft table ip6 silo left behind: $(nft list table ip6 silo)"
}

test_ipv6_ping() {
	need_net6
	local a b=$T_DIR/b ipa6 ipb6 gw6 out
	a=$(new_id)
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$a" "$b" --network bridge --ipv6
	wait_output "$a" ready
	ipa6=$(ct_ip6 "$a")
	assert_match "$ipa6" '^fd88:[0-9a-f:]*:2$' "IPv6 address of $a (first of the default subnet)"
	assert_match "$(ct_ip6 "$a" len)" '/64$' "prefix length of $a's IPv6 address"
	gw6=${ipa6%::*}::1
	assert_eq "$gw6" "$(bridge_ip6)" "IPv6 gateway on silo0"
	# inside: default route via the gateway, no tentative (DAD) address, accept_dad=0
	out=$(nsenter -t "$(state_field "$a" pid)" -n sh -c 'ip -6 route; ip -6 addr show dev eth0; cat /proc/sys/net/ipv6/conf/eth0/accept_dad')
	assert_contains "$out" "default via $gw6 dev eth0"
	assert_not_contains "$out" "tentative" "eth0's IPv6 addresses (DAD skipped)"
	assert_eq 0 "${out##*$'\n'}" "accept_dad of the container's eth0"
	assert_eq 1 "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" "net.ipv6.conf.all.forwarding with an IPv6 container"
	# the host reaches the container's address
	timeout 5 busybox ping -6 -c 1 -W 3 "$ipa6" > /dev/null || fail "the host cannot ping $ipa6"
	# a second container pings it at once (no DAD wait), and has its own line in /etc/hosts
	run_net "$b" "ping -6 -c 2 -W 3 $ipa6; echo; cat /etc/hosts; ip -6 -o addr show dev eth0 scope global" --ipv6
	[ "$RC" -eq 0 ] || fail "ping -6 from a second container failed: $(show "$OUT")"
	assert_contains "$OUT" "2 packets received"
	ipb6=$(printf '%s\n' "$OUT" | awk '/inet6/ { sub(/\/.*/, "", $4); print $4 }')
	assert_match "$ipb6" '^fd88:' "second container's IPv6 address"
	assert_ne "$ipa6" "$ipb6" "second container's IPv6 address"
	assert_contains "$OUT" $'\n'"$ipb6"$'\t' "the container's IPv6 line in /etc/hosts"
	# a container without --ipv6 on the same bridge gets none
	run_net "$b" "ip -6 -o addr show dev eth0 scope global; cat /etc/hosts"
	assert_eq 0 "$RC" "container without --ipv6: $(show "$OUT")"
	assert_not_contains "$OUT" "fd88:" "a container without --ipv6"
	assert_ok silo delete --force "$a"
	assert_v6_gone "$a"
}

test_ipv6_from_host() {
	need_net6
	local id b=$T_DIR/web ip6 gw6=fd90:$X::1 p=$((PORT + 10)) out
	id=$(new_id)
	net_bundle "$b"
	set_args "$b" 'httpd -f -p 80 -h /www'
	run_detached "$id" "$b" --network bridge --subnet6 "fd90:$X::/64" \
		-p "$p:80" -p "127.0.0.1:$((p + 1)):80" -p "[$gw6]:$((p + 2)):80"
	ip6=$(ct_ip6 "$id")
	assert_eq "fd90:$X::2" "$ip6" "the container's IPv6 address"
	assert_eq "$gw6" "$(bridge_ip6)" "IPv6 gateway on silo0"
	wait_for 10 hget "http://[$ip6]/" || fail "nothing on [$ip6]:80: $(ct_output "$id")"
	assert_eq "hello from web" "$(hget "http://[$ip6]/")" "page via the container's [$ip6]:80"
	assert_eq "hello from web" "$(hget "http://[$gw6]:$p/")" "page via the bridge's [$gw6]:$p"
	assert_eq "hello from web" "$(hget "http://127.0.0.1:$p/")" "page via 127.0.0.1:$p"
	out=$(nft list table ip6 silo)
	assert_contains "$out" "dport $p dnat to [$ip6]:80 comment \"silo:$id\""
	assert_contains "$out" "ip6 saddr $ip6 ip6 daddr != ${gw6%::*}::/64 masquerade comment \"silo:$id\""
	# a port bound to an IPv4 address is IPv4 only
	assert_not_contains "$out" "dport $((p + 1))" "table ip6 silo"
	if hget "http://[$gw6]:$((p + 1))/" > /dev/null; then fail "port $((p + 1)), bound to 127.0.0.1, answers on [$gw6]"; fi
	# and one bound to an IPv6 address is IPv6 only
	assert_eq "hello from web" "$(hget "http://[$gw6]:$((p + 2))/")" "page via [$gw6]:$((p + 2))"
	assert_contains "$out" "ip6 daddr $gw6 tcp dport $((p + 2)) dnat to [$ip6]:80"
	assert_not_contains "$(nft list table ip silo)" "dport $((p + 2))" "table ip silo"
	if hget "http://127.0.0.1:$((p + 2))/" > /dev/null; then fail "port $((p + 2)), bound to [$gw6], answers on 127.0.0.1"; fi
	assert_ok silo delete --force "$id"
	assert_v6_gone "$id"
	if hget "http://[$ip6]/" > /dev/null; then fail "[$ip6] still answers after delete"; fi
}

test_ipv6_nat_to_outside() {
	need_net6
	local ns=silo-t-outside-$$ hv=sto$$ b=$T_DIR/b www=$T_DIR/www pid id
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip link add "$hv" type veth peer name "${hv}p" netns "$ns" || fail "veth to $ns"
	defer ip link del "$hv"
	ip -6 addr add "fd97:$X::1/64" dev "$hv" nodad && ip link set "$hv" up || fail "host side of $hv"
	ip -n "$ns" -6 addr add "fd97:$X::2/64" dev "${hv}p" nodad && ip -n "$ns" link set "${hv}p" up &&
		ip -n "$ns" link set lo up || fail "outside side of $hv"
	# A server outside that tells who connected (it has no route to fd88::/64:
	# without NAT66 it could not even answer).
	mkdir -p "$www/cgi-bin"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "remote=$REMOTE_ADDR"\n' > "$www/cgi-bin/who"
	chmod 755 "$www/cgi-bin/who"
	ip netns exec "$ns" busybox httpd -f -p "[fd97:$X::2]:8000" -h "$www" &
	pid=$!
	defer kill "$pid"
	wait_for 5 ip netns exec "$ns" busybox wget -q -O /dev/null "http://[fd97:$X::2]:8000/cgi-bin/who" ||
		fail "server in $ns did not start"
	net_bundle "$b"
	set_args "$b" "ip -6 -o addr show dev eth0 scope global; timeout 10 wget -q -O - http://[fd97:$X::2]:8000/cgi-bin/who; echo wget=\$?"
	id=$(new_id)
	capture silo run --bundle "$b" --network bridge --ipv6 "$id"
	[ "$RC" -eq 0 ] && [[ "$OUT" == *wget=0* ]] || fail "container could not reach the outside over IPv6: $(show "$OUT")"
	assert_contains "$OUT" "inet6 fd88:" "the container's own address"
	# NAT66: the server saw the host's address on that link, not the container's ULA
	# (busybox httpd writes an IPv6 REMOTE_ADDR in brackets)
	assert_contains "$OUT" "remote=[fd97:$X::1]" "source address seen outside"
	assert_not_contains "$OUT" "fd88::2]" "source address seen outside"
	assert_v6_gone "$id"
}

test_ipv6_concurrent_creates() {
	need_net6
	local b=$T_DIR/b ids=() id i ips n bad=""
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	for i in $(seq 12); do ids+=("$(new_id)"); done
	for id in "${ids[@]}"; do
		( silo create --bundle "$b" --network bridge --ipv6 "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null
		  echo $? > "$T_DIR/$id.rc" ) &
	done
	wait
	for id in "${ids[@]}"; do
		[ "$(cat "$T_DIR/$id.rc")" = 0 ] || bad="$bad $id: $(cat "$T_DIR/$id.out")"
	done
	[ -z "$bad" ] || fail "concurrent creates failed:$bad"
	ips=$(for id in "${ids[@]}"; do ct_ip6 "$id"; done)
	n=$(sort -u <<< "$ips" | grep -c .)
	assert_eq 12 "$n" "distinct IPv6 addresses among 12 containers ($(tr '\n' ' ' <<< "$ips"))"
	assert_eq 12 "$(leases6)" "IPv6 leases"
	for id in "${ids[@]}"; do   # the address in eth0 is the one leased
		jq -e --arg id "$id" --arg ip "$(ct_ip6 "$id")" '.leases[] | select(.id == $id and .ip6 == $ip)' \
			"$ROOT/.network/leases.json" > /dev/null || fail "the lease of $id does not hold its address"
	done
	for id in "${ids[@]}"; do silo delete --force "$id" > /dev/null 2>&1 & done
	wait
	for id in "${ids[@]}"; do assert_no_file "$ROOT/$id"; done
	assert_v6_gone "${ids[@]}"
	assert_all_net_gone
}

test_ipv6_teardown_and_reclaim() {
	need_net6
	local b=$T_DIR/b v4 a s c ips6 pid d
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	v4=$(new_id) a=$(new_id) s=$(new_id) c=$(new_id)
	run_detached "$v4" "$b" --network bridge
	wait_output "$v4" ready
	run_detached "$a" "$b" --network bridge --ipv6
	wait_output "$a" ready
	[ -n "$(bridge_ip6)" ] && has_table6 || fail "no IPv6 gateway on silo0 or no table ip6 silo"
	# the IPv6 side goes with its last container; the IPv4 container keeps the rest
	assert_ok silo delete --force "$a"
	assert_v6_gone "$a"
	has_link silo0 || fail "silo0 removed while $v4 uses it"
	has_table || fail "table ip silo removed while $v4 uses it"
	assert_ne 0 "$(leases)" "IPv4 lease of $v4"

	# a stale lease (its state directory lost, as when silo is killed mid-create) is
	# reclaimed by the next create, with its rules
	run_detached "$s" "$b" --network bridge --ipv6
	wait_output "$s" ready
	ips6=$(ct_ip6 "$s")
	pid=$(state_field "$s" pid)
	kill -9 "$pid"
	wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "process $pid survived kill -9"
	umount "$ROOT/$s/netns" 2>/dev/null
	rm -rf "${ROOT:?}/$s"
	for d in $(cgroup_dirs_of "$s" | sort -r); do rmdir "$d" 2>/dev/null; done
	assert_eq 1 "$(leases6)" "the stale IPv6 lease before the next create"
	nft list table ip6 silo | grep -qF "\"silo:$s\"" || fail "no ip6 rules of $s before the reclaim"
	# the next create, even without IPv6, reclaims it: lease, rules, and the IPv6
	# gateway it was the last user of
	run_detached "$c" "$b" --network bridge
	wait_output "$c" ready
	assert_v6_gone "$s"
	has_link silo0 || fail "silo0 removed while $v4 and $c use it"
	# the reclaimed address is free again
	d=$(new_id)
	run_detached "$d" "$b" --network bridge --ipv6
	wait_output "$d" ready
	assert_eq "$ips6" "$(ct_ip6 "$d")" "the reclaimed IPv6 address, handed out again"
	assert_eq 1 "$(leases6)" "IPv6 leases after the reclaim"
	assert_ok silo delete --force "$d"
	assert_ok silo delete --force "$c"
	assert_ok silo delete --force "$v4"
	assert_v6_gone "$v4" "$c" "$d"
	assert_all_net_gone
}

test_ipv6_by_annotation() {
	need_net6
	local b=$T_DIR/b id
	net_bundle "$b" '.annotations["org.silo.network"]="bridge" | .annotations["org.silo.network.subnet6"]=$s' \
		--arg s "fd92:$X::/64"
	run_in "$b" 'ip -6 -o addr show dev eth0 scope global; ip -6 route'
	assert_eq 0 "$RC" "a run with org.silo.network.subnet6: $(show "$OUT")"
	assert_contains "$OUT" "inet6 fd92:$X::2/64"
	assert_contains "$OUT" "default via fd92:$X::1 dev eth0"
	# --subnet6 wins over the annotation
	id=$(new_id)
	set_args "$b" 'ip -6 -o addr show dev eth0 scope global'
	capture silo run --bundle "$b" --subnet6 "fd91:$X::/64" "$id"
	assert_contains "$OUT" "inet6 fd91:$X::2/64" "--subnet6 over the annotation"
	# org.silo.network.ipv6=false: none; --ipv6 wins over that too
	jq_edit "$b" 'del(.annotations["org.silo.network.subnet6"]) | .annotations["org.silo.network.ipv6"]="false"'
	run_in "$b" 'echo "v6=[$(ip -6 -o addr show dev eth0 scope global)]"'
	assert_eq "v6=[]" "$OUT" "IPv6 addresses with org.silo.network.ipv6=false"
	id=$(new_id)
	capture silo run --bundle "$b" --ipv6 "$id"
	assert_contains "$OUT" "inet6 fd88:" "--ipv6 over org.silo.network.ipv6=false"
	assert_v6_gone
}

test_ipv6_bad_input() {
	need_net6
	local b=$T_DIR/b id ns=silo-t-outside-$$ hv=sto$$ before sn one two three
	before=$(silo_veths | tr '\n' ' ')
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	# malformed prefixes, and prefixes too short or too long
	local -A bad=(
		["fd88::zz/64"]="\`fd88::zz\` is not an IPv6 address"
		["10.88.0.0/16"]="\`10.88.0.0\` is not an IPv6 address"
		["fd88::"]="expected PREFIX/LENGTH"
		["fd88::/"]="bad prefix length"
		["fd88::/6x"]="bad prefix length"
		["fd88::/129"]="bad prefix length"
		["fd88::1/64"]="host bits set (did you mean fd88::/64?)"
		["fd88::/48"]="prefix too short"
		["fd88::/127"]="prefix too long"
		["fe80::/64"]="not a global unicast (2000::/3) or unique local (fc00::/7) prefix"
		["ff02::/64"]="not a global unicast (2000::/3) or unique local (fc00::/7) prefix"
	)
	for sn in "${!bad[@]}"; do
		assert_fail silo create --bundle "$b" --network bridge --subnet6 "$sn" "$id"
		assert_contains "$OUT" "--subnet6: subnet6 \`$sn\`: ${bad[$sn]}"
		assert_no_file "$ROOT/$id"
	done
	# the flags need the bridge; bad annotations
	assert_fail silo create --bundle "$b" --ipv6 "$id"
	assert_contains "$OUT" "--ipv6 needs --network bridge"
	assert_fail silo create --bundle "$b" --subnet6 fd88::/64 "$id"
	assert_contains "$OUT" "--subnet6 needs --network bridge"
	assert_fail silo create --bundle "$b" --network bridge -p "[fd88::1]:8080:80" "$id"
	assert_contains "$OUT" "--publish: \`[fd88::1]:8080:80/tcp\`: an IPv6 host address needs --ipv6"
	assert_fail silo create --bundle "$b" --network bridge --ipv6 -p "[fd88::zz]:8080:80" "$id"
	assert_contains "$OUT" "--publish: \`[fd88::zz]:8080:80\`: \`fd88::zz\` is not an IPv6 address"
	jq_edit "$b" '.annotations["org.silo.network.ipv6"]="yes"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "annotation org.silo.network.ipv6: \`yes\` is neither true nor false"
	jq_edit "$b" '.annotations["org.silo.network.ipv6"]="true" | .annotations["org.silo.network.subnet6"]="fd88::/130"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "annotation org.silo.network.subnet6: subnet6 \`fd88::/130\`: bad prefix length"
	jq_edit "$b" '.annotations["org.silo.network.ipv6"]="false" | .annotations["org.silo.network.subnet6"]="fd88::/64"'
	assert_fail silo create --bundle "$b" --network bridge "$id"
	assert_contains "$OUT" "org.silo.network.subnet6 is set but annotation org.silo.network.ipv6 is false"
	jq_edit "$b" 'del(.annotations["org.silo.network.ipv6"], .annotations["org.silo.network.subnet6"])'
	assert_no_file "$ROOT/$id"
	has_link silo0 && fail "bridge silo0 created by a refused create"

	# prefixes overlapping an address and a route of the host (made here)
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip link add "$hv" type veth peer name "${hv}p" netns "$ns" || fail "veth"
	defer ip link del "$hv"
	ip -6 addr add "fd96:$X::1/64" dev "$hv" nodad && ip link set "$hv" up || fail "address on $hv"
	ip -6 route add "fd95:$X::/56" dev "$hv" || fail "route on $hv"
	assert_fail silo create --bundle "$b" --network bridge --subnet6 "fd96:$X::/64" "$id"
	assert_contains "$OUT" "--subnet6: subnet6 fd96:$X::/64 overlaps the host's address fd96:$X::/64 on $hv"
	assert_no_file "$ROOT/$id"
	assert_fail silo create --bundle "$b" --network bridge --subnet6 "fd95:$X:0:10::/64" "$id"
	assert_contains "$OUT" "--subnet6: subnet6 fd95:$X:0:10::/64 overlaps the host's route fd95:$X::/56 on $hv"
	assert_no_file "$ROOT/$id"
	has_link silo0 && fail "bridge silo0 created by a refused create"
	assert_eq 0 "$(leases)" "leases after refused creates"

	# an exhausted pool: a /126 has room for two containers
	one=$(new_id) two=$(new_id) three=$(new_id)
	jq_edit "$b" '.annotations["org.silo.network.bridge"]=$br | .annotations["org.silo.network.subnet"]=$s' \
		--arg br "sx$$" --arg s "10.196.$X.0/24"
	create_ct "$one" "$b" --network bridge --subnet6 "fd94:$X::/126"
	create_ct "$two" "$b" --network bridge --subnet6 "fd94:$X::/126"
	assert_eq "fd94:$X::2 fd94:$X::3" "$(ct_ip6 "$one") $(ct_ip6 "$two")" "the two addresses of the /126"
	assert_eq "fd94:$X::1" "$(bridge_ip6 "sx$$")" "IPv6 gateway on sx$$"
	assert_fail silo create --bundle "$b" --network bridge --subnet6 "fd94:$X::/126" "$three"
	assert_contains "$OUT" "no free IPv6 address left in fd94:$X::/126 on bridge \`sx$$\` (2 in use)"
	assert_no_file "$ROOT/$three"
	assert_net_gone "$three"
	assert_eq 2 "$(leases)" "leases (the refused container's IPv4 address is not kept)"
	# another IPv6 subnet for a bridge that serves one
	assert_fail silo create --bundle "$b" --network bridge --subnet6 "fd93:$X::/64" "$three"
	assert_contains "$OUT" "bridge \`sx$$\` serves IPv6 subnet fd94:$X::/126, not fd93:$X::/64"
	assert_no_file "$ROOT/$three"
	assert_ok silo delete --force "$one"
	assert_ok silo delete --force "$two"
	has_link "sx$$" && fail "bridge sx$$ left after its last container"

	# IPv6 disabled on an existing bridge: refused before anything is made on it
	ip link add "sy$$" type bridge || fail "bridge sy$$"
	defer ip link del "sy$$"
	echo 1 > "/proc/sys/net/ipv6/conf/sy$$/disable_ipv6"
	jq_edit "$b" '.annotations["org.silo.network.bridge"]=$br | del(.annotations["org.silo.network.subnet"])' --arg br "sy$$"
	assert_fail silo create --bundle "$b" --network bridge --ipv6 "$id"
	assert_contains "$OUT" "IPv6 is disabled on bridge \`sy$$\` (net/ipv6/conf/sy$$/disable_ipv6 = 1)"
	assert_no_file "$ROOT/$id"
	assert_eq "" "$(ip -o addr show dev "sy$$")" "addresses on sy$$"

	assert_net_gone "$one" "$two" "$three" "$id"
	assert_eq 0 "$(leases)" "leases"
	assert_eq "$before" "$(silo_veths | tr '\n' ' ')" "silo veths on the host"
}

test_zz_nothing_left() {
	need_net
	assert_all_net_gone
	assert_eq "$FORWARD_BEFORE" "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward restored"
	[ -z "$FORWARD6_BEFORE" ] || assert_eq "$FORWARD6_BEFORE" "$(cat /proc/sys/net/ipv6/conf/all/forwarding)" \
		"net.ipv6.conf.all.forwarding restored"
	[ ! -e /run/netns/silo-t-outside-$$ ] || fail "namespace silo-t-outside-$$ left behind"
}

run_test bridge_ping test_bridge_ping
run_test publish_from_host test_publish_from_host
run_test publish_by_annotation test_publish_by_annotation
run_test nat_to_outside test_nat_to_outside
run_test concurrent_creates test_concurrent_creates
run_test two_roots_share_forwarding test_two_roots_share_forwarding
run_test delete_force_after_kill test_delete_force_after_kill
run_test join_netns_by_path_untouched test_join_netns_by_path_untouched
run_test bad_input test_bad_input
run_test net_devices test_net_devices
run_test bridge_with_user_namespace test_bridge_with_user_namespace
run_test ipv6_ping test_ipv6_ping
run_test ipv6_from_host test_ipv6_from_host
run_test ipv6_nat_to_outside test_ipv6_nat_to_outside
run_test ipv6_concurrent_creates test_ipv6_concurrent_creates
run_test ipv6_teardown_and_reclaim test_ipv6_teardown_and_reclaim
run_test ipv6_by_annotation test_ipv6_by_annotation
run_test ipv6_bad_input test_ipv6_bad_input
run_test zz_nothing_left test_zz_nothing_left
