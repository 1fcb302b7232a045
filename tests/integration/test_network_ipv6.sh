#!/bin/bash
# silo's own networking over IPv6 (--ipv6, --subnet6, [ADDR6]:HOST:CTR publishing,
# the org.silo.network.ipv6/subnet6 annotations): see man/silo-network.7.
#
# Traffic only on loopback and in namespaces the tests make: the "outside" is a
# network namespace (silo-t-outside-PID) joined to the host by a veth.  Every
# veth, namespace, nft table and bridge made here is removed even on failure
# (defer, and a sweep at exit of what did not exist before the file started).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/network.sh"

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
	local b=$T_DIR/b id
	# (the outside has no route to fd88::/64: without NAT66 it could not even answer)
	start_outside 6
	net_bundle "$b"
	set_args "$b" "ip -6 -o addr show dev eth0 scope global; timeout 10 wget -q -O - $OUTSIDE_URL/cgi-bin/who; echo wget=\$?"
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
	local b=$T_DIR/b id ips n
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	create_concurrently "$b" 12 --network bridge --ipv6
	ips=$(for id in "${IDS[@]}"; do ct_ip6 "$id"; done)
	n=$(sort -u <<< "$ips" | grep -c .)
	assert_eq 12 "$n" "distinct IPv6 addresses among 12 containers ($(tr '\n' ' ' <<< "$ips"))"
	assert_eq 12 "$(leases6)" "IPv6 leases"
	for id in "${IDS[@]}"; do   # the address in eth0 is the one leased
		jq -e --arg id "$id" --arg ip "$(ct_ip6 "$id")" '.leases[] | select(.id == $id and .ip6 == $ip)' \
			"$ROOT/.network/leases.json" > /dev/null || fail "the lease of $id does not hold its address"
	done
	delete_concurrently "${IDS[@]}"
	assert_v6_gone "${IDS[@]}"
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

# Two state roots on silo0 with IPv6.  One root's last delete leaves the IPv6
# gateway that the other root's container routes through.  A container of another
# root that vanished without a delete (its state directory lost) no longer holds
# its address and port: the next allocation of any root reclaims it there.
test_two_roots_ipv6() {
	need_net6
	local ra=$T_DIR/root-a b=$T_DIR/b ida idb idc pa ipa gw6 p=$((PORT + 11)) d
	net_bundle "$b"
	set_args "$b" "$SLEEPER"
	ida=a-$(new_id) idb=$(new_id) idc=$(new_id)
	defer "$SILO" --root "$ra" delete --force "$ida"
	"$SILO" --root "$ra" run -d --bundle "$b" --network bridge --ipv6 -p "$p:80" "$ida" \
		> "$T_DIR/a.out" 2>&1 < /dev/null || fail "root A: run: $(cat "$T_DIR/a.out")"
	pa=$("$SILO" --root "$ra" state "$ida" | jq -r .pid)
	ipa=$(nsenter -t "$pa" -n ip -4 -o addr show dev eth0 | awk '{ sub(/\/.*/, "", $4); print $4 }')
	gw6=$(bridge_ip6)
	[ -n "$ipa" ] && [ -n "$gw6" ] || fail "root A's container: address $(show "$ipa"), IPv6 gateway $(show "$gw6")"
	run_detached "$idb" "$b" --network bridge --ipv6
	wait_output "$idb" ready
	assert_eq "$gw6" "$(bridge_ip6)" "the IPv6 gateway with root B's container too"
	assert_ok silo delete --force "$idb"
	# root B has no IPv6 container left, root A has one: its gateway stays
	assert_eq "$gw6" "$(bridge_ip6)" "the IPv6 gateway on silo0 after root B's last container"
	nsenter -t "$pa" -n busybox ping -6 -c 1 -W 3 "$gw6" > /dev/null ||
		fail "root A's container cannot reach its IPv6 gateway $gw6"

	# root A's container vanishes without a delete (its state directory lost)
	kill -9 "$pa"
	wait_for 5 sh -c "! kill -0 $pa 2>/dev/null" || fail "process $pa survived kill -9"
	umount "$ra/$ida/netns" 2>/dev/null
	rm -rf "${ra:?}/$ida"
	for d in $(cgroup_dirs_of "$ida" | sort -r); do rmdir "$d" 2>/dev/null; done
	assert_eq "$ida" "$(jq -r '.leases[].id' "$ra/.network/leases.json")" "root A's dead lease"
	nft list table ip silo | grep -qF "\"silo:$ida\"" || fail "no rules of $ida before the reclaim"
	# root B's next create reclaims it in root A's store: the port, the address, the
	# rules, the IPv6 gateway it was the last user of, and root A's place in the list
	run_detached "$idc" "$b" --network bridge -p "$p:80"
	wait_output "$idc" ready
	assert_eq "$ipa" "$(ct_ip "$idc")" "the dead container's address, leased again in root B"
	assert_eq 0 "$(jq -r '.leases | length' "$ra/.network/leases.json")" "root A's leases after the reclaim"
	assert_not_contains "$(nft list table ip silo)" "silo:$ida" "table ip silo after the reclaim"
	[ -z "$(bridge_ip6)" ] || fail "IPv6 gateway $(bridge_ip6) left on silo0 after its last user was reclaimed"
	assert_not_contains "$(cat /run/silo-network-roots 2>/dev/null)" "$(realpath "$ra")" \
		"the host's list of state roots, after root A's last lease was reclaimed"
	assert_ok silo delete --force "$idc"
	assert_v6_gone "$ida" "$idb" "$idc"
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

run_test ipv6_ping test_ipv6_ping
run_test ipv6_from_host test_ipv6_from_host
run_test ipv6_nat_to_outside test_ipv6_nat_to_outside
run_test ipv6_concurrent_creates test_ipv6_concurrent_creates
run_test ipv6_teardown_and_reclaim test_ipv6_teardown_and_reclaim
run_test two_roots_ipv6 test_two_roots_ipv6
run_test ipv6_by_annotation test_ipv6_by_annotation
run_test ipv6_bad_input test_ipv6_bad_input
run_test zz_nothing_left test_zz_nothing_left
