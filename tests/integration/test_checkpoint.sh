#!/bin/bash
# checkpoint / restore with CRIU: counters that continue, page server, lazy pages,
# TCP connections, archives, the configs of real clients, and bad input.
#
# CRIU 4 comes from tests/lib/criu.sh (Debian trixie's packages, cached under
# /var/tmp/silo-criu-bundle; $CRIU overrides); every test skips when it cannot
# be set up.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/criu.sh"

criu_test_init

# A counter that writes /out/count (host: BUNDLE/out/count) 20 times a second.
COUNTER='i=0; while :; do i=$((i+1)); echo $i > /out/count.new && mv /out/count.new /out/count; sleep 0.05; done'

count_of() { cat "$1/out/count" 2>/dev/null || echo 0; }
count_above() { [ "$(count_of "$1")" -gt "$2" ]; }
# wait_count_above BUNDLE N: the counter passes N (it runs).
wait_count_above() {
	wait_for 10 count_above "$1" "$2" || fail "counter stuck at $(count_of "$1") (wanted > $2)"
}

counter_bundle() {  # BUNDLE [JQ_FILTER]
	make_bundle "$1" "${2:-.}"
	add_out_mount "$1"
	set_args "$1" "$COUNTER"
}

# start ID BUNDLE: run -d with stdio appended to $T_DIR/ID.out (CRIU checks the size
# of a restored file unless it was opened O_APPEND).
start() {
	silo run -d --bundle "$2" "$1" >> "$T_DIR/$1.out" 2>&1 < /dev/null ||
		fail "run -d $1: $(cat "$T_DIR/$1.out")"
	wait_count_above "$2" 2
}

# restore_d ID BUNDLE IMAGES [flags]: restore --detach, stdio appended as start's.
restore_d() {
	local id=$1 b=$2 img=$3; shift 3
	RESTORE_T0=${EPOCHREALTIME/./}
	capture_append "$id" silo restore -d --bundle "$b" --image-path "$img" "$@" "$id"
	[ "$RC" -eq 0 ] || fail "restore $id exited $RC: $(show "$OUT")"
}
capture_append() {   # ID CMD...: like capture, stdio appended to $T_DIR/ID.out
	local id=$1; shift
	local mark; mark=$(wc -c < "$T_DIR/$id.out" 2>/dev/null || echo 0)
	"$@" >> "$T_DIR/$id.out" 2>&1 < /dev/null && RC=0 || RC=$?
	OUT=$(tail -c +"$((mark + 1))" "$T_DIR/$id.out")
	printf '+ %s (rc=%s)\n%s\n' "$*" "$RC" "$OUT" >&2
}

# kill_and_delete ID: the container killed and deleted as an ordinary one (a restored
# container must be), each step checked.
kill_and_delete() {
	assert_ok silo kill "$1" KILL
	wait_status "$1" stopped
	assert_ok silo delete "$1"
}

# After a checkpoint without --leave-running: no process, no state, the counter stopped.
assert_stopped_by_checkpoint() {  # ID BUNDLE PID
	wait_for 5 sh -c "! kill -0 $3 2>/dev/null" || fail "process $3 survived the checkpoint"
	assert_no_leftovers "$1" "$3"
	local c1; c1=$(count_of "$2"); sleep 0.2
	assert_eq "$c1" "$(count_of "$2")" "counter after the checkpoint"
}

assert_restored() {  # ID BUNDLE COUNT_AT_CHECKPOINT
	assert_eq running "$(status_of "$1")" "status after restore"
	local c; c=$(count_of "$2")
	[ "$c" -ge "$3" ] || fail "counter went back: $c < $3"
	# It counts every 50 ms from the restore on: at most one step a 50 ms since
	# restore_d began (a slow restore under load or ASan is not a jump), + 20.
	local most=$(($3 + 20 + (${EPOCHREALTIME/./} - ${RESTORE_T0:-0}) / 50000))
	[ -n "${RESTORE_T0:-}" ] || most=$(($3 + 20))
	[ "$c" -lt "$most" ] || fail "counter $c restarted or jumped (checkpoint at $3, at most $most)"
	wait_count_above "$2" "$c"
	pid_alive "$(state_field "$1" pid)" || fail "restored pid is not alive"
}

# cycle ID BUNDLE IMAGES [CHECK]: start, checkpoint into IMAGES (CHECK IMAGES
# runs then, when given), restore; the counter continues.
cycle() {
	local c
	start "$1" "$2"
	assert_ok silo checkpoint --image-path "$3" "$1"
	c=$(count_of "$2")
	[ -z "${4:-}" ] || "$4" "$3"
	restore_d "$1" "$2" "$3"
	assert_restored "$1" "$2" "$c"
}

free_port() { echo $((20000 + RANDOM % 20000)); }
# listening PORT [NETNS]: a TCP socket listens on PORT.
listening() {
	local hex; hex=$(printf ':%04X ' "$1")
	if [ -n "${2:-}" ]; then ip netns exec "$2" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null
	else cat /proc/net/tcp /proc/net/tcp6; fi | awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f=1 } END { exit !f }'
}

# ------------------------------------------------------------------ the basics

test_checkpoint_help_and_probes() {
	assert_ok silo checkpoint --help
	assert_contains "$OUT" --image-path
	assert_fail silo restore --lsm-mount-context
	assert_contains "$OUT" "flag needs an argument"
	silo_only
	assert_fail silo restore --bogus-flag x
}

# A CRIU too old for this kernel (Debian 12's 3.17 on Linux >= 6.13) fails at
# once; silo's error says so and what to do, and the container keeps running.
test_old_criu_explained() {
	silo_only
	local old=/usr/sbin/criu id b=$T_DIR/b
	[ -x "$old" ] || skip "no system criu"
	"$old" check 2>&1 | grep -qi vdso || skip "the system's criu works on this kernel"
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	CRIU=$old assert_fail silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_contains "$OUT" "vDSO" "error"
	assert_contains "$OUT" "make criu" "hint"
	assert_eq running "$(status_of "$id")" "status after the failed checkpoint"
}

test_counter_continues() {
	need_criu
	local id b=$T_DIR/b pid c
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	pid=$(state_field "$id" pid)
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	assert_stopped_by_checkpoint "$id" "$b" "$pid"
	assert_file_exists "$T_DIR/img/inventory.img"
	restore_d "$id" "$b" "$T_DIR/img" --pid-file "$T_DIR/pid"
	assert_restored "$id" "$b" "$c"
	assert_eq "$(state_field "$id" pid)" "$(cat "$T_DIR/pid")" "pid file"
	# the restored container is an ordinary one
	kill_and_delete "$id"
	assert_no_leftovers "$id"
}

# The runtime's tmpfs mounts (/dev, /dev/shm, the tmpfs over masked directories,
# /sys/fs/cgroup on a v1 or hybrid host) are external to CRIU and made again by
# silo (lib/criu/tmpfs.c): no tar of them in the images, and the restored /dev
# has every device, link and mount point it had (names, types, modes, owners,
# device numbers), its devices working.
dev_listing() {  # ID: /dev and /dev/shm as the container sees them, times left out
	silo exec "$1" sh -c 'find /dev /dev/shm -xdev | sort | while read -r f; do stat -c "%N %f %u %g %t %T" "$f"; done'
}
test_runtime_tmpfs_made_again() {
	need_criu
	local id b=$T_DIR/b c before tars
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	before=$(dev_listing "$id")
	assert_contains "$before" "/dev/null"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	tars=$(cd "$T_DIR/img" && ls tmpfs-dev-*.img 2>/dev/null)
	[ -z "$tars" ] || fail "CRIU tarred the runtime's tmpfs mounts: $tars ($(jq -c '[.tmpfs[]?.key]' "$T_DIR/img/silo-checkpoint.json"))"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
	assert_eq "$before" "$(dev_listing "$id")" "/dev after the restore"
	assert_ok silo exec "$id" sh -c 'echo x > /dev/null && head -c 4 /dev/zero | wc -c && test -c /dev/urandom && ls /dev/fd/'
	assert_contains "$OUT" 4
	assert_ok silo exec "$id" sh -c 'grep -E " /(dev|dev/shm|proc/acpi|sys/firmware) " /proc/mounts'
	assert_contains "$OUT" "/dev tmpfs"
	assert_contains "$OUT" "/dev/shm tmpfs"
}

# What a container wrote into a tmpfs of the runtime (a file with data in
# /dev/shm and in /dev, a directory) is kept: such a tmpfs stays CRIU's to tar.
test_tmpfs_written_kept() {
	need_criu
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	set_args "$b" 'echo shm-data > /dev/shm/x; mkdir /dev/d; echo dev-data > /dev/d/f; '"$COUNTER"
	cycle "$id" "$b" "$T_DIR/img"
	assert_ok silo exec "$id" sh -c 'cat /dev/shm/x /dev/d/f; test -c /dev/null && echo devices'
	assert_contains "$OUT" shm-data
	assert_contains "$OUT" dev-data
	assert_contains "$OUT" devices
}

# tmpfs_keys IMAGES: the mount points of the tmpfs mounts silo made external.
tmpfs_keys() { jq -c '[.tmpfs[]?.key] | sort' "$1/silo-checkpoint.json"; }
ADMIN='.process.capabilities |= (.bounding += ["CAP_SYS_ADMIN"] | .effective += ["CAP_SYS_ADMIN"] | .permitted += ["CAP_SYS_ADMIN"])'

# What lies beneath a submount is part of the tmpfs below: a container with
# CAP_SYS_ADMIN unmounts /dev/shm, writes into the /dev tmpfs beneath it and
# mounts /dev/shm again.  An empty file there is made again by silo (/dev stays
# external); a file with data leaves /dev to CRIU's tar.  Either comes back.
test_tmpfs_beneath_submount_kept() {
	need_criu
	local id b=$T_DIR/b what
	for what in empty data; do
		id=$(new_id)
		counter_bundle "$b" "$ADMIN"
		set_args "$b" 'umount /dev/shm && : > /dev/shm/empty && { [ '"$what"' = empty ] || echo hidden > /dev/shm/data; } && mount -t tmpfs -o nosuid,nodev,noexec shm /dev/shm && '"$COUNTER"
		cycle "$id" "$b" "$T_DIR/img-$what" "dev_external_$what"
		assert_ok silo exec "$id" sh -c 'umount /dev/shm && ls /dev/shm && cat /dev/shm/data 2>/dev/null; echo end'
		assert_contains "$OUT" empty "beneath /dev/shm ($what)"
		[ "$what" = empty ] || assert_contains "$OUT" hidden "beneath /dev/shm"
		kill_and_delete "$id"
	done
}
dev_external_empty() { assert_contains "$(tmpfs_keys "$1")" '"/dev"' "external tmpfs"; }
dev_external_data() { assert_not_contains "$(tmpfs_keys "$1")" '"/dev"' "external tmpfs"; }

# Names and symlink targets that are not UTF-8 (jansson refuses them) and hard
# links (of a device node) leave /dev to CRIU's tar: they come back (the hard
# link as two nodes: CRIU's tar of /dev does not keep it, as before the change).
test_tmpfs_odd_entries_kept() {
	need_criu
	local id b=$T_DIR/b what
	local -A make=(
		[name]=': > "/dev/n$(printf "\377")"'
		[target]='ln -s "t$(printf "\376")" /dev/badlink'
		[hardlink]='ln /dev/null /dev/null2'
	) check=(
		[name]='test -f "/dev/n$(printf "\377")"'
		[target]='[ "$(readlink /dev/badlink)" = "t$(printf "\376")" ]'
		[hardlink]='test -c /dev/null2'
	)
	for what in name target hardlink; do
		id=$(new_id)
		counter_bundle "$b"
		set_args "$b" "${make[$what]} && $COUNTER"
		cycle "$id" "$b" "$T_DIR/img-$what"
		assert_ok silo exec "$id" sh -c "${check[$what]} && echo $what-ok"
		assert_contains "$OUT" "$what-ok" "the odd entry ($what)"
		dev_external_data "$T_DIR/img-$what"
		kill_and_delete "$id"
	done
}

# A mount stacked on an external tmpfs's mount point after silo's first look
# (the review's race): CRIU matches an external mount by its mount point, so the
# check under the freeze must find the recorded mount alone there, or the dump
# starts again with /dev/shm left to CRIU.  The over-mount is made (here from
# the host, as a container with CAP_SYS_ADMIN could) exactly between the first
# look and the freeze: silo is held at its "tmpfs-listed" phase mark.  Its file
# comes back; and the walk left /dev/shm's atime alone.
test_tmpfs_overmount_after_look() {
	need_criu
	need_cmd nsenter
	local id b=$T_DIR/b pid a0
	id=$(new_id)
	counter_bundle "$b"
	set_args "$b" ': > /dev/shm/t; '"$COUNTER"
	start "$id" "$b"
	pid=$(silo state "$id" | jq -r .pid)
	a0=$(stat -c %x "/proc/$pid/root/dev/shm")
	local hold="stat -c %x /proc/$pid/root/dev/shm > $T_DIR/atime; nsenter -t $pid -m sh -c 'mount -t tmpfs -o nosuid,nodev,noexec over /dev/shm && echo secret > /dev/shm/data'"
	assert_ok python3 "$TESTS_DIR/lib/phase_hold.py" "$hold" -- "$SILO" --root "$ROOT" --debug checkpoint --leave-running --image-path "$T_DIR/img" "$id"
	assert_eq "$a0" "$(cat "$T_DIR/atime")" "/dev/shm's atime after the first look"
	assert_not_contains "$(tmpfs_keys "$T_DIR/img")" '"/dev/shm"' "external tmpfs"
	kill_and_delete "$id"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_ok silo exec "$id" cat /dev/shm/data
	assert_contains "$OUT" secret "the over-mount's file after the restore"
}

# The manifest's tmpfs list comes from an image (or a migration's peer): a
# restore checks it against the config before it makes anything, names what is
# wrong, and leaves nothing behind.  The untouched images restore.
test_tmpfs_manifest_checked() {
	need_criu
	local id b=$T_DIR/b c i
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	assert_eq '["/dev","/dev/shm"]' "$(tmpfs_keys "$T_DIR/img" | jq -c 'map(select(startswith("/dev")))')" "external tmpfs"
	local dev='(.tmpfs[] | select(.key == "/dev"))' shm='(.tmpfs[] | select(.key == "/dev/shm"))'
	local -a bad=(
		"$shm.key = \"/etc\"@@the config has no tmpfs there"
		"$dev.entries += [{\"p\":\"mem\",\"t\":\"c\",\"m\":438,\"u\":0,\"g\":0,\"r\":257}]@@device c 1:1 mode 0666 owner 0:0, not one of linux.devices"
		"$dev.entries[1].m = 65535@@mode not within 07777"
		"$dev.entries |= map(if .p == \"null\" then .m = 511 else . end)@@device c 1:3 mode 0777 owner 0:0, not one of"
		"$dev.entries |= map(if .p == \"zero\" then .u = 1000 else . end)@@device c 1:5 mode 0666 owner 1000:0, not one of"
		"$shm.flags = \"rw,relatime\"@@drop one of the config's"
		"$shm.options = \"rw,size=1k,foo=bar\"@@option \`foo=bar\` not allowed"
		"$dev.entries += [range(5000) | {\"p\": \"f\\(.)\", \"t\": \"f\", \"m\": 420, \"u\": 0, \"g\": 0}]@@more than 4096 entries"
		"$dev.entries += [{\"p\":\"a/../../x\",\"t\":\"d\",\"m\":493,\"u\":0,\"g\":0}]@@not a relative path"
		"$dev.entries += [{\"p\":\"lnk\",\"t\":\"l\",\"m\":511,\"u\":0,\"g\":0}]@@a symlink without a target"
		".tmpfs += .tmpfs@@twice"
	)
	for i in "${bad[@]}"; do
		rm -rf "$T_DIR/img2"; cp -a "$T_DIR/img" "$T_DIR/img2"
		jq "${i%%@@*}" "$T_DIR/img/silo-checkpoint.json" > "$T_DIR/img2/silo-checkpoint.json" || fail "jq: ${i%%@@*}"
		capture_append "$id" silo restore -d --bundle "$b" --image-path "$T_DIR/img2" "$id"
		[ "$RC" -ne 0 ] || fail "restore accepted: ${i%%@@*}"
		assert_contains "$OUT" "${i#*@@}" "the error for ${i%%@@*}"
		assert_no_leftovers "$id"
	done
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
}

# ------------------------------------------------------------------ the container's own network namespace

# A network namespace of the container's own that holds what a new one holds
# (`lo` up, nothing else) is external to CRIU and made new by the restore
# (lib/criu/netns.c): CRIU runs no `ip`/`iptables-save` and writes no network
# image.  After the restore `lo` is up, a listener on 127.0.0.1 still answers,
# and a TCP connection between two of the container's processes over `lo`
# carries on (CRIU restores the sockets with their tasks, into the new namespace).
NET_IMAGES='ifaddr-*.img route-*.img route6-*.img rule-*.img iptables-*.img ip6tables-*.img nftables-*.img'
net_images() { (cd "$1" && ls $NET_IMAGES 2>/dev/null) | tr '\n' ' '; }
netns_of() { readlink "/proc/$(state_field "$1" pid)/ns/net"; }
in_netns() { local id=$1; shift; nsenter -t "$(state_field "$id" pid)" -n "$@"; }
lo_answers() { silo exec "$1" sh -c 'echo ping | nc 127.0.0.1 7000' 2>/dev/null | grep -q pong; }
test_netns_new_not_dumped() {
	need_criu; need_cmd nsenter; need_cmd ip
	local id b=$T_DIR/b c n0 l
	id=$(new_id)
	counter_bundle "$b"
	set_args "$b" "$LO_APP$COUNTER"
	start "$id" "$b"
	wait_for 10 lo_answers "$id" || fail "nothing answers on 127.0.0.1:7000"
	wait_for 10 lo_count_above "$b" 2 || fail "no line over the connection on lo"
	n0=$(netns_of "$id")
	assert_ok silo checkpoint --tcp-established --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	assert_eq "" "$(net_images "$T_DIR/img")" "CRIU's images of the network namespace"
	assert_eq new "$(jq -r '.netns // ""' "$T_DIR/img/silo-checkpoint.json")" "manifest's netns"
	grep -qE 'Running (ip|iptables|ip6tables|iptables-legacy|ip6tables-legacy)-(save|restore)|Running ip (addr|route|rule)' "$T_DIR/img/dump.log" &&
		fail "CRIU ran ip/iptables: $(grep -E 'Running (ip|iptables)' "$T_DIR/img/dump.log" | head -3)"
	restore_d "$id" "$b" "$T_DIR/img" --tcp-established
	assert_restored "$id" "$b" "$c"
	grep -qE 'Running (ip|iptables)' "$T_DIR/img/restore.log" &&
		fail "CRIU ran ip/iptables at the restore: $(grep -E 'Running (ip|iptables)' "$T_DIR/img/restore.log" | head -3)"
	[ "$(netns_of "$id")" != "$n0" ] || fail "restored into the old namespace"
	[ "$(netns_of "$id")" != "$(readlink /proc/self/ns/net)" ] || fail "restored into the host's namespace"
	assert_ok in_netns "$id" ip -o link show
	assert_contains "$OUT" "lo:" "links"
	assert_contains "$OUT" ",UP," "lo's flags"
	assert_eq 1 "$(printf '%s\n' "$OUT" | grep -c .)" "links after the restore: $OUT"
	assert_ok in_netns "$id" ip -o addr show dev lo
	assert_contains "$OUT" "127.0.0.1/8" "lo's addresses"
	wait_for 10 lo_answers "$id" || fail "the listener on 127.0.0.1 does not answer after the restore"
	l=$(lo_count "$b")
	wait_for 10 lo_count_above "$b" "$((l + 5))" || fail "the connection over lo stopped at $l after the restore"
	# what the restore made is a new namespace again: no table of CRIU's left in it
	assert_ok silo checkpoint --leave-running --tcp-established --image-path "$T_DIR/img2" "$id"
	assert_eq new "$(jq -r '.netns // ""' "$T_DIR/img2/silo-checkpoint.json")" "manifest's netns, second checkpoint"
}

# What a namespace holds beyond a new one's stays CRIU's to dump and restore:
# an address, a route, an nftables table, a sysctl, `lo` down, each made from
# the host (as a container with CAP_NET_ADMIN could).  Each is there after the
# restore.
test_netns_changed_kept() {
	need_criu; need_cmd nsenter; need_cmd ip
	local id b=$T_DIR/b c v change check want
	local -a variants=(
		"ip addr add 10.99.0.1/32 dev lo@@ip -o addr show dev lo@@10.99.0.1/32"
		"ip route add 10.98.0.0/16 dev lo@@ip route show table all@@10.98.0.0/16"
		"sh -c 'echo 1 > /proc/sys/net/ipv4/conf/lo/accept_local'@@cat /proc/sys/net/ipv4/conf/lo/accept_local@@1"
		"ip link set lo down@@ip -o link show lo@@state DOWN"
	)
	command -v nft >/dev/null && variants+=("nft add table inet silo_ck_test@@nft list tables@@silo_ck_test")
	counter_bundle "$b"
	for v in "${variants[@]}"; do
		change=${v%%@@*}; v=${v#*@@}; check=${v%%@@*}; want=${v#*@@}
		id=$(new_id)
		rm -rf "$T_DIR/img" "$b/out/count"
		start "$id" "$b"
		eval "in_netns $id $change" || fail "$change"
		assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
		c=$(count_of "$b")
		assert_eq "" "$(jq -r '.netns // ""' "$T_DIR/img/silo-checkpoint.json")" "manifest's netns after $change"
		[ -n "$(net_images "$T_DIR/img")" ] || fail "no network image after $change"
		restore_d "$id" "$b" "$T_DIR/img"
		assert_restored "$id" "$b" "$c"
		assert_ok in_netns "$id" $check
		assert_contains "$OUT" "$want" "after $change and the restore"
		kill_and_delete "$id"
	done
}

# A change made between silo's first look at the namespace and the freeze (silo
# held at its "tmpfs-listed" phase mark, after both first looks) is found under
# the freeze: the dump starts again with the namespace (and only it) left to
# CRIU, and the change is there after the restore (an address, a sysctl).
# A process outside the container's cgroup in its network namespace (another
# container that joined it by path, a host shell's `nsenter --net`) is not frozen
# with the container and could change the namespace while CRIU dumps it: the
# namespace is then CRIU's, whether the process was there at the first look or
# came between it and the freeze (silo held at its "tmpfs-listed" mark).
test_netns_outside_holder_declined() {
	need_criu; need_cmd nsenter
	local id b=$T_DIR/b pid when holder
	counter_bundle "$b"
	for when in before between; do
		id=$(new_id)
		rm -rf "$T_DIR/img" "$b/out/count"
		start "$id" "$b"
		pid=$(state_field "$id" pid)
		holder="setsid nsenter --net=/proc/$pid/ns/net sleep 600 < /dev/null > /dev/null 2>&1 & echo \$! > $T_DIR/holder"
		if [ "$when" = before ]; then
			eval "$holder"
			assert_ok "$SILO" --root "$ROOT" --debug checkpoint --image-path "$T_DIR/img" "$id"
		else
			assert_ok python3 "$TESTS_DIR/lib/phase_hold.py" "$holder" -- "$SILO" --root "$ROOT" --debug checkpoint --image-path "$T_DIR/img" "$id"
		fi
		kill "$(cat "$T_DIR/holder")" 2>/dev/null
		assert_contains "$OUT" "not in the container's cgroup, is in its network namespace" "silo's log ($when)"
		assert_eq "" "$(jq -r '.netns // ""' "$T_DIR/img/silo-checkpoint.json")" "manifest's netns (holder $when)"
		restore_d "$id" "$b" "$T_DIR/img"
		kill_and_delete "$id"
	done
}

# The sysctl files stay open from the first look to the end of the dump: under
# a soft RLIMIT_NOFILE of 1024 (systemd's default) the fast path still holds,
# and no restored process holds a namespace fd.
test_netns_low_nofile() {
	need_criu
	local id b=$T_DIR/b c p
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	capture sh -c "ulimit -n 1024 && $SILO --root $ROOT --debug checkpoint --image-path $T_DIR/img $id"
	[ "$RC" -eq 0 ] || fail "checkpoint under ulimit -n 1024: $(printf '%s\n' "$OUT" | grep -v '^\[' | tail -5)"
	assert_eq new "$(jq -r '.netns // ""' "$T_DIR/img/silo-checkpoint.json")" "manifest's netns under ulimit -n 1024"
	c=$(count_of "$b")
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
	for p in $(cat "/sys/fs/cgroup$(state_field "$id" cgroupPath 2>/dev/null)/cgroup.procs" 2>/dev/null) $(state_field "$id" pid); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q 'net:\[' && fail "process $p of the restored container holds a netns fd: $(ls -l /proc/$p/fd)"
	done
	return 0
}

test_netns_change_after_look() {
	need_criu; need_cmd nsenter; need_cmd ip
	local id b=$T_DIR/b pid v change check want
	# what changes between the looks: an address (rtnetlink, read again by
	# path), a sysctl (read again through the fd of the first look)
	local -a variants=(
		"ip addr add 10.97.0.1/32 dev lo@@ip -o addr show dev lo@@10.97.0.1/32"
		"sh -c 'echo 1 > /proc/sys/net/ipv4/conf/lo/accept_local'@@cat /proc/sys/net/ipv4/conf/lo/accept_local@@1"
	)
	counter_bundle "$b"
	for v in "${variants[@]}"; do
		change=${v%%@@*}; v=${v#*@@}; check=${v%%@@*}; want=${v#*@@}
		id=$(new_id)
		rm -rf "$T_DIR/img" "$b/out/count"
		start "$id" "$b"
		pid=$(state_field "$id" pid)
		assert_ok python3 "$TESTS_DIR/lib/phase_hold.py" "nsenter -t $pid -n $change" -- "$SILO" --root "$ROOT" --debug checkpoint --image-path "$T_DIR/img" "$id"
		assert_contains "$OUT" "network namespace changed before the freeze" "silo's log after $change"
		assert_eq "" "$(jq -r '.netns // ""' "$T_DIR/img/silo-checkpoint.json")" "manifest's netns after $change"
		# only what changed is left to CRIU: the tmpfs mounts stay silo's
		assert_contains "$(tmpfs_keys "$T_DIR/img")" '"/dev"' "external tmpfs"
		[ -n "$(net_images "$T_DIR/img")" ] || fail "no network image after $change"
		restore_d "$id" "$b" "$T_DIR/img"
		assert_ok in_netns "$id" $check
		assert_contains "$OUT" "$want" "after $change between the looks and the restore"
		kill_and_delete "$id"
	done
}

# The manifest's "netns" comes from an image (or a peer): anything but "new",
# or "new" with a config that joins a namespace by path, is refused.
test_netns_manifest_checked() {
	need_criu
	local id b=$T_DIR/b c
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	cp -a "$T_DIR/img" "$T_DIR/img2"
	jq '.netns = "host"' "$T_DIR/img/silo-checkpoint.json" > "$T_DIR/img2/silo-checkpoint.json"
	capture_append "$id" silo restore -d --bundle "$b" --image-path "$T_DIR/img2" "$id"
	[ "$RC" -ne 0 ] || fail "restore accepted netns \"host\""
	assert_contains "$OUT" '"netns" is not "new"'
	assert_no_leftovers "$id"
	local ns=silo-ck-$$-$RANDOM
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	cp "$b/config.json" "$T_DIR/config.json"
	jq_edit "$b" '(.linux.namespaces[] | select(.type == "network")) .path = $p' --arg p "/run/netns/$ns"
	capture_append "$id" silo restore -d --bundle "$b" --image-path "$T_DIR/img" "$id"
	[ "$RC" -ne 0 ] || fail "restore accepted a config joining a namespace by path"
	assert_contains "$OUT" "must give it one of its own"
	assert_no_leftovers "$id"
	cp "$T_DIR/config.json" "$b/config.json"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
}

# A tmpfs is made again with the config's size limits (size=, nr_inodes=), never
# the image's or a peer's: a manifest asking for more gets the config's.  A tmpfs
# the container remounted with other limits stays CRIU's (and keeps them).
shm_limits() { silo exec "$1" sh -c 'grep " /dev/shm " /proc/mounts'; }
test_tmpfs_limits_are_the_configs() {
	need_criu
	local id b=$T_DIR/b shm='(.tmpfs[] | select(.key == "/dev/shm"))'
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_contains "$(shm_limits "$id")" "size=65536k" "/dev/shm as created"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_contains "$(tmpfs_keys "$T_DIR/img")" '"/dev/shm"' "external tmpfs"
	jq "$shm.options = \"rw,size=1048576k,nr_inodes=100000\"" "$T_DIR/img/silo-checkpoint.json" > "$T_DIR/m.json" &&
		mv "$T_DIR/m.json" "$T_DIR/img/silo-checkpoint.json" || fail "jq"
	restore_d "$id" "$b" "$T_DIR/img"
	local now; now=$(shm_limits "$id")
	assert_contains "$now" "size=65536k" "/dev/shm after a restore whose manifest asked for 1 GiB"
	assert_not_contains "$now" "nr_inodes=100000" "/dev/shm after the restore"
	kill_and_delete "$id"
	# remounted by the container itself: CRIU's tar, its limits kept
	id=$(new_id)
	counter_bundle "$b" "$ADMIN"
	set_args "$b" 'mount -o remount,size=128m /dev/shm && '"$COUNTER"
	cycle "$id" "$b" "$T_DIR/img-remount"
	assert_not_contains "$(tmpfs_keys "$T_DIR/img-remount")" '"/dev/shm"' "external tmpfs (remounted)"
	assert_contains "$(shm_limits "$id")" "size=131072k" "the remounted /dev/shm after the restore"
}

# A tmpfs key that this host already gives CRIU another source for (here a bind
# mount at the same destination as a tmpfs of the config; on a unified host, a
# cgroup mount's /sys/fs/cgroup from an image made on a v1 one) is refused: CRIU
# would be handed the other source, with no tmpfs content in the images for it.
test_tmpfs_key_taken_refused() {
	need_criu
	local id b=$T_DIR/b
	mkdir -p "$T_DIR/src"
	id=$(new_id)
	counter_bundle "$b"
	jq_edit "$b" '.mounts += [{"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
		{"destination": "/mnt/t", "type": "bind", "source": $src, "options": ["rbind"]}]' --arg src "$T_DIR/src"
	start "$id" "$b"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_not_contains "$(tmpfs_keys "$T_DIR/img")" '"/mnt/t"' "external tmpfs (a bind's key)"
	jq '.tmpfs += [{"key": "/mnt/t", "id": 1, "source": "tmpfs", "flags": "rw,nosuid,nodev,relatime", "options": "rw",
		"entries": [{"p": ".", "t": "d", "m": 493, "u": 0, "g": 0}]}]' "$T_DIR/img/silo-checkpoint.json" > "$T_DIR/m.json" &&
		mv "$T_DIR/m.json" "$T_DIR/img/silo-checkpoint.json" || fail "jq"
	capture_append "$id" silo restore -d --bundle "$b" --image-path "$T_DIR/img" "$id"
	[ "$RC" -ne 0 ] || fail "restore accepted a tmpfs at a bind mount's key"
	assert_contains "$OUT" "tmpfs \`/mnt/t\`: also an external mount"
	assert_no_leftovers "$id"
}

# An open but unlinked file on an external tmpfs (shm_open + unlink, as
# programs do with /dev/shm): the walk cannot see it, so /dev/shm stays
# external; CRIU dumps it as a ghost file and must make it again on silo's new
# tmpfs.  Its data comes back through the process's fd, and nothing of it is
# visible in /dev/shm.
test_tmpfs_unlinked_file_kept() {
	need_criu
	local id b=$T_DIR/b pid
	id=$(new_id)
	counter_bundle "$b"
	set_args "$b" 'exec 3<>/dev/shm/ghost; echo ghost-data >&3; rm /dev/shm/ghost; '"$COUNTER"
	cycle "$id" "$b" "$T_DIR/img" dev_shm_external
	pid=$(state_field "$id" pid)
	assert_eq "ghost-data" "$(cat "/proc/$pid/fd/3")" "the unlinked file's data after the restore"
	assert_ok silo exec "$id" ls -A /dev/shm
	assert_eq "" "$OUT" "/dev/shm after the restore"
}
dev_shm_external() { assert_contains "$(tmpfs_keys "$1")" '"/dev/shm"' "external tmpfs"; }

# A file written into an external tmpfs between silo's first look and the
# freeze (held at the "tmpfs-listed" phase mark): the check under the freeze sees
# it, the dump starts again with /dev/shm left to CRIU, and the file comes back.
test_tmpfs_written_after_look() {
	need_criu
	local id b=$T_DIR/b pid
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	pid=$(silo state "$id" | jq -r .pid)
	assert_ok python3 "$TESTS_DIR/lib/phase_hold.py" "echo late > /proc/$pid/root/dev/shm/late" -- \
		"$SILO" --root "$ROOT" --debug checkpoint --image-path "$T_DIR/img" "$id"
	assert_contains "$OUT" "changed before the freeze" "silo's debug log"
	assert_not_contains "$(tmpfs_keys "$T_DIR/img")" '"/dev/shm"' "external tmpfs"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_ok silo exec "$id" cat /dev/shm/late
	assert_eq late "$OUT" "the late file after the restore"
}

test_leave_running() {
	need_criu
	local id b=$T_DIR/b c
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	c=$(count_of "$b")
	assert_ok silo checkpoint --leave-running --image-path "$T_DIR/img" "$id"
	assert_eq running "$(status_of "$id")" "status after --leave-running"
	wait_count_above "$b" "$(count_of "$b")"
	assert_ok silo delete --force "$id"
	restore_d "$id" "$b" "$T_DIR/img"
	# the image was taken after c was read: the counter resumes from there on
	local now; now=$(count_of "$b")
	[ "$now" -ge "$c" ] || fail "counter $now < $c: it restarted"
	wait_count_above "$b" "$now"
}

test_restore_foreground_and_new_id() {
	need_criu
	local id id2 b=$T_DIR/b c rpid
	id=$(new_id); id2=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	# foreground, under another id: silo waits and passes the exit code on
	silo restore --bundle "$b" --image-path "$T_DIR/img" "$id2" >> "$T_DIR/$id.out" 2>&1 < /dev/null &
	rpid=$!
	wait_status "$id2" running
	assert_restored "$id2" "$b" "$c"
	assert_ok silo kill "$id2" KILL
	wait "$rpid" && RC=0 || RC=$?
	assert_eq 137 "$RC" "exit code of the foreground restore"
	assert_no_leftovers "$id2"
}

test_page_server() {
	need_criu
	local id b=$T_DIR/b c port ps
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	port=$(free_port)
	mkdir -p "$T_DIR/ps-img"
	"$CRIU" page-server -D "$T_DIR/ps-img" --address 127.0.0.1 --port "$port" -o ps.log > "$T_DIR/ps.out" 2>&1 &
	ps=$!
	defer kill -9 "$ps"
	wait_for 10 listening "$port" || fail "criu page-server did not listen: $(cat "$T_DIR/ps.out")"
	assert_ok silo checkpoint --page-server "127.0.0.1:$port" --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	wait "$ps" || fail "criu page-server failed: $(grep Error "$T_DIR/ps-img/ps.log" | head -3)"
	compgen -G "$T_DIR/ps-img/pages-*" >/dev/null || fail "no pages reached the page server"
	compgen -G "$T_DIR/img/pages-*" >/dev/null && fail "pages were written locally, not sent"
	cp "$T_DIR"/ps-img/*.img "$T_DIR/img/"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
}

test_lazy_pages() {
	need_criu
	local id id2 b=$T_DIR/b c port ck lazy old
	id=$(new_id)
	old=$(cat /proc/sys/fs/pipe-max-size)
	# CRIU's lazy pages need 4 MiB pipes (without CAP_SYS_RESOURCE); set here, restored after.
	if [ "$old" -lt 4194304 ]; then
		echo 4194304 > /proc/sys/fs/pipe-max-size || skip "cannot raise fs.pipe-max-size"
		defer sh -c "echo $old > /proc/sys/fs/pipe-max-size"
	fi
	counter_bundle "$b"
	start "$id" "$b"
	port=$(free_port)
	mkdir -p "$T_DIR/img" "$T_DIR/work"
	silo checkpoint --lazy-pages --page-server "127.0.0.1:$port" --status-fd 3 \
		--image-path "$T_DIR/img" "$id" > "$T_DIR/ck.out" 2>&1 3> "$T_DIR/status" < /dev/null &
	ck=$!
	defer kill -9 "$ck"
	wait_for 10 test -s "$T_DIR/status" || fail "no \\0 on --status-fd: $(cat "$T_DIR/ck.out")"
	c=$(count_of "$b")
	"$CRIU" lazy-pages --page-server --address 127.0.0.1 --port "$port" -D "$T_DIR/img" \
		-W "$T_DIR/work" -o lazy.log -v4 > "$T_DIR/lazy.out" 2>&1 < /dev/null &
	lazy=$!
	defer kill -9 "$lazy"
	wait_for 10 test -S "$T_DIR/work/lazy-pages.socket" || fail "lazy-pages daemon did not start"
	# another id: the dump still serves pages, so the original still exists
	id2=$(new_id)
	cp "$T_DIR/$id.out" "$T_DIR/$id2.out"
	restore_d "$id2" "$b" "$T_DIR/img" --lazy-pages --work-path "$T_DIR/work"
	assert_restored "$id2" "$b" "$c"
	wait "$ck" || fail "checkpoint --lazy-pages failed: $(cat "$T_DIR/ck.out")"
	wait_for 10 sh -c "! kill -0 $lazy 2>/dev/null" || fail "lazy-pages daemon did not finish"
	assert_no_leftovers "$id"
	wait_count_above "$b" "$(count_of "$b")"
}

test_tcp_established() {
	need_criu; need_cmd ip
	local id b=$T_DIR/b ns line
	id=$(new_id)
	ns=silo-ck-$$-$RANDOM
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	ip -n "$ns" link set lo up
	make_bundle "$b" '(.linux.namespaces[] | select(.type == "network")) .path = $p' --arg p "/run/netns/$ns"
	# One connection; the server numbers the lines it gets (state the restore must keep).
	set_args "$b" 'nc -l -p 7000 -e sh -c '\''n=0; while read l; do n=$((n+1)); echo "$n $l"; done'\'
	silo run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run: $(cat "$T_DIR/$id.out")"
	wait_for 10 listening 7000 "$ns" || fail "server does not listen"
	coproc CLIENT { exec ip netns exec "$ns" "$ROOTFS/bin/busybox" nc 127.0.0.1 7000; }
	defer kill -9 "$CLIENT_PID"
	echo first >&"${CLIENT[1]}"
	read -t 5 -r line <&"${CLIENT[0]}" || fail "no reply before the checkpoint"
	assert_eq "1 first" "$line" "reply"
	assert_ok silo checkpoint --tcp-established --image-path "$T_DIR/img" "$id"
	restore_d "$id" "$b" "$T_DIR/img" --tcp-established
	echo second >&"${CLIENT[1]}"
	read -t 10 -r line <&"${CLIENT[0]}" || fail "the connection did not survive"
	assert_eq "2 second" "$line" "reply after restore (same process, same connection)"
}

test_terminal_console_socket() {
	need_criu; silo_only; need_cmd python3
	local id b=$T_DIR/b rcv n pid
	id=$(new_id)
	make_bundle "$b" '.process.terminal = true'
	set_args "$b" 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done'
	python3 "$TESTS_DIR/lib/console-receiver.py" "$T_DIR/sock1" "$T_DIR/con1.out" &
	rcv=$!
	defer kill -9 "$rcv"
	wait_for 20 test -S "$T_DIR/sock1" || fail "console receiver did not start"
	create_ct "$id" "$b" --console-socket "$T_DIR/sock1"
	assert_ok silo start "$id"
	wait_for 10 grep -q "tick 3" "$T_DIR/con1.out" || fail "no output on the terminal"
	# /dev/console is the container's pty (a bind, external to the image)
	pid=$(state_field "$id" pid)
	assert_eq "$(stat -L -c %t:%T "/proc/$pid/fd/1")" "$(stat -c %t:%T "/proc/$pid/root/dev/console")" "/dev/console before the checkpoint"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	n=$(grep -o 'tick [0-9]*' "$T_DIR/con1.out" | tail -n1 | cut -d' ' -f2)
	# without a console socket a detached restore has nowhere to put the terminal
	assert_fail silo restore -d --bundle "$b" --image-path "$T_DIR/img" "$id"
	assert_contains "$OUT" "--console-socket"
	assert_no_leftovers "$id"
	python3 "$TESTS_DIR/lib/console-receiver.py" "$T_DIR/sock2" "$T_DIR/con2.out" &
	rcv=$!
	defer kill -9 "$rcv"
	wait_for 20 test -S "$T_DIR/sock2" || fail "console receiver did not start"
	restore_d "$id" "$b" "$T_DIR/img" --console-socket "$T_DIR/sock2"
	wait_for 10 grep -q "tick $((n + 3))" "$T_DIR/con2.out" ||
		fail "the restored process does not write to the new terminal: $(tail -c 200 "$T_DIR/con2.out")"
	grep -q "tick 1\b" "$T_DIR/con2.out" && fail "the counter restarted"
	pid=$(state_field "$id" pid)
	assert_eq "$(stat -L -c %t:%T "/proc/$pid/fd/1")" "$(stat -c %t:%T "/proc/$pid/root/dev/console")" "/dev/console after the restore: the new pty"
	return 0
}

# ------------------------------------------------------------------ archives

test_export_import_fresh_root() {
	need_criu; silo_only
	local id b=$T_DIR/b b2=$T_DIR/b2 root2=$T_DIR/state2 c
	id=$(new_id)
	# a writable root: its rootfs travels in the archive
	make_bundle "$b" '.root.readonly = false'
	rm -rf "$b/rootfs" && cp -a "$ROOTFS" "$b/rootfs"
	set_args "$b" 'i=0; while :; do i=$((i+1)); echo $i > /tmp/c.new && mv /tmp/c.new /tmp/count; sleep 0.05; done'
	silo run -d --bundle "$b" "$id" >> "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run"
	wait_for 10 test -s "$b/rootfs/tmp/count" || fail "no counter"
	assert_ok silo checkpoint --export "$T_DIR/ck.tar.zst" "$id"
	c=$(cat "$b/rootfs/tmp/count")
	assert_no_leftovers "$id"
	assert_match "$(head -c 4 "$T_DIR/ck.tar.zst" | od -An -tx1 | tr -d ' ')" '^28b52ffd$' "zstd magic"
	mkdir -p "$b2"
	defer "$SILO" --root "$root2" delete --force "$id"
	capture_append "$id" "$SILO" --root "$root2" restore -d --import "$T_DIR/ck.tar.zst" --bundle "$b2" "$id"
	[ "$RC" -eq 0 ] || fail "restore --import: $(show "$OUT")"
	assert_file_exists "$b2/config.json"
	assert_eq running "$("$SILO" --root "$root2" state "$id" | jq -r .status)" "status"
	local now; now=$(cat "$b2/rootfs/tmp/count")
	[ "$now" -ge "$c" ] && [ "$now" -lt $((c + 20)) ] || fail "counter $now (checkpoint at $c)"
	wait_for 10 sh -c "[ \$(cat $b2/rootfs/tmp/count) -gt $now ]" || fail "imported counter does not run"
	compgen -G "$b2/.silo-import-*" >/dev/null && fail "import temp dir left in the bundle"
	assert_ok "$SILO" --root "$root2" delete --force "$id"
}

# --export FILE goes through a temporary file next to FILE: a symlink or a FIFO
# planted at FILE.tmp (the name silo used) is neither written through nor waited
# on, and a failed export removes only its own temporary file.
test_export_planted_tmp() {
	need_criu; silo_only
	local id b=$T_DIR/b rc
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	echo precious > "$T_DIR/victim"
	ln -s "$T_DIR/victim" "$T_DIR/ck.tar.tmp"
	assert_ok silo checkpoint --leave-running --export "$T_DIR/ck.tar" "$id"
	assert_eq precious "$(cat "$T_DIR/victim")" "the symlink's target"
	[ -L "$T_DIR/ck.tar" ] && fail "the archive is a symlink"
	[ -f "$T_DIR/ck.tar" ] && [ -s "$T_DIR/ck.tar" ] || fail "no archive"
	assert_eq 600 "$(stat -c %a "$T_DIR/ck.tar")" "mode of the archive"
	mkfifo "$T_DIR/ck2.tar.tmp"
	timeout 20 "$SILO" --root "$ROOT" checkpoint --leave-running --export "$T_DIR/ck2.tar" "$id" \
		> "$T_DIR/ck2.out" 2>&1 < /dev/null && rc=0 || rc=$?
	[ "$rc" -ne 124 ] || fail "checkpoint hung on a FIFO at FILE.tmp"
	assert_eq 0 "$rc" "exit status of checkpoint --export ($(cat "$T_DIR/ck2.out"))"
	[ -p "$T_DIR/ck2.tar.tmp" ] || fail "the planted FIFO was removed"
	assert_ok silo delete --force "$id"
}

test_import_refuses_bad_archives() {
	need_criu; silo_only; need_cmd python3
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --leave-running --export "$T_DIR/good.tar" "$id"
	assert_ok silo delete --force "$id"
	# corrupt: bytes flipped in the middle; truncated
	cp "$T_DIR/good.tar" "$T_DIR/flip.tar"
	local size; size=$(stat -c %s "$T_DIR/good.tar")
	printf 'XXXXXXXXXXXXXXXX' | dd of="$T_DIR/flip.tar" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	head -c $((size / 2)) "$T_DIR/good.tar" > "$T_DIR/short.tar"
	# crafted: another architecture; a path that climbs out; an unknown entry
	python3 - "$T_DIR" "$(uname -m)" <<-'PY'
	import io, json, sys, tarfile
	d, here = sys.argv[1], sys.argv[2]
	def make(name, entries):
	    with tarfile.open(f"{d}/{name}", "w") as t:
	        for n, data in entries:
	            i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))
	man = lambda arch: json.dumps({"format": 1, "arch": arch, "id": "x"}).encode()
	make("arch.tar", [("manifest.json", man("s390x")), ("checksums.json", b"{}")])
	make("climb.tar", [("manifest.json", man(here)), ("rootfs/../../escaped", b"x"), ("checksums.json", b"{}")])
	make("abs.tar", [("manifest.json", man(here)), ("/tmp/escaped-abs", b"x"), ("checksums.json", b"{}")])
	make("other.tar", [("manifest.json", man(here)), ("evil.sh", b"x"), ("checksums.json", b"{}")])
	PY
	local f want
	for f in flip:corrupt short:trunc arch:s390x climb:refused abs:refused other:refused; do
		want=${f#*:}; f=${f%%:*}
		rm -rf "$T_DIR/bx" && mkdir -p "$T_DIR/bx"
		capture silo restore -d --import "$T_DIR/$f.tar" --bundle "$T_DIR/bx" "$id"
		[ "$RC" -ne 0 ] || fail "$f.tar was restored"
		case $want in
		corrupt) assert_match "$OUT" 'corrupt|checksum|Damaged|truncat|Truncat|rror' "$f.tar error" ;;
		trunc) assert_match "$OUT" '[Tt]runcat|[Pp]remature|EOF|corrupt|rror' "$f.tar error" ;;
		s390x) assert_contains "$OUT" "taken on s390x" "$f.tar error" ;;
		refused) assert_contains "$OUT" "refused" "$f.tar error" ;;
		esac
		assert_no_leftovers "$id"
		[ -e "$T_DIR/escaped" ] || [ -e /tmp/escaped-abs ] && fail "$f.tar wrote outside its target"
		compgen -G "$T_DIR/bx/.silo-import-*" >/dev/null && fail "$f.tar: import temp dir left behind"
	done
	return 0
}

# ------------------------------------------------------------------ real clients' configs

# client_config BUNDLE FIXTURE NETNS: a fixture made runnable here: our rootfs and
# counter, bind sources under the bundle, the netns the test made, no hooks.
client_config() {
	local b=$1 fx=$REPO_DIR/tests/fixtures/specs/$2 ns=$3 s dst
	ensure_rootfs
	mkdir -p "$b/src" "$b/out"
	[ -e "$b/rootfs" ] || cp -al "$ROOTFS" "$b/rootfs"
	jq --arg b "$b" --arg ns "/run/netns/$ns" --arg cg "/silo-ck-$$-$RANDOM" --arg c "$COUNTER" '
		.root = {path: "rootfs", readonly: false} | del(.hooks) |
		.process.terminal = false | .process.args = ["sh", "-c", $c] | .process.user = {uid: 0, gid: 0} |
		.linux.cgroupsPath = $cg | del(.linux.seccomp) | del(.process.apparmorProfile) |
		del(.process.selinuxLabel) | del(.linux.mountLabel) |
		.linux.namespaces |= map(if .type == "network" and .path then .path = $ns else . end) |
		.mounts |= map(if .type == "bind" then .source = ($b + "/src" + .destination) else . end) |
		.mounts += [{destination: "/out", type: "bind", source: ($b + "/out"), options: ["rbind", "rw"]}]
	' "$fx" > "$b/config.json" || fail "jq on $fx"
	for dst in $(jq -r '.mounts[] | select(.type == "bind") | .destination' "$b/config.json"); do
		s=$b/src$dst
		[ "$dst" = /out ] && continue
		mkdir -p "$(dirname "$s")"
		case $dst in /dev/shm|/out) mkdir -p "$s" ;; *) echo "from $2: $dst" > "$s" ;; esac
	done
}

client_roundtrip() {   # FIXTURE
	need_criu; need_cmd ip
	local id b=$T_DIR/b c ns
	id=$(new_id)
	ns=silo-ck-$$-$RANDOM
	ip netns add "$ns" || skip "cannot create a network namespace"
	defer ip netns del "$ns"
	client_config "$b" "$1" "$ns"
	start "$id" "$b"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	c=$(count_of "$b")
	assert_no_leftovers "$id"
	restore_d "$id" "$b" "$T_DIR/img"
	assert_restored "$id" "$b" "$c"
	# the file binds (/etc/hosts, /etc/hostname...) are the host's files again
	for dst in $(jq -r '.mounts[] | select(.type == "bind" and .destination != "/out" and .destination != "/dev/shm") | .destination' "$b/config.json"); do
		assert_ok silo exec "$id" cat "$dst"
		assert_eq "from $1: $dst" "$OUT" "$dst after restore"
	done
	assert_ok silo exec "$id" cat /proc/keys
	assert_eq "" "$OUT" "masked /proc/keys after restore"
}
test_podman_config() { client_roundtrip podman-bridge.json; }
test_docker_config() { client_roundtrip docker.json; }
test_ctr_config() { client_roundtrip ctr.json; }

# ------------------------------------------------------------------ bad input

test_missing_images() {
	need_criu
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	assert_fail silo restore -d --bundle "$b" --image-path "$T_DIR/nothing-here" "$id"
	assert_contains "$OUT" "nothing-here"
	assert_match "$OUT" "[Nn]o such file" "error"
	assert_no_leftovers "$id"
	mkdir -p "$T_DIR/empty"
	assert_fail silo restore -d --bundle "$b" --image-path "$T_DIR/empty" "$id"
	silo_only
	assert_contains "$OUT" "no CRIU checkpoint"
	assert_no_leftovers "$id"
}

test_image_of_another_container() {
	need_criu; silo_only
	local id id2 b=$T_DIR/b b2=$T_DIR/b2
	id=$(new_id); id2=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --leave-running --image-path "$T_DIR/img" "$id"
	make_bundle "$b2"
	set_args "$b2" 'sleep 1000'
	assert_fail silo restore -d --bundle "$b2" --image-path "$T_DIR/img" "$id2"
	assert_contains "$OUT" "of container \`$id\`"
	assert_contains "$OUT" "process.args"
	assert_no_leftovers "$id2"
	assert_eq running "$(status_of "$id")" "the original"
	# the same id again while it runs: refused before CRIU is asked
	assert_fail silo restore -d --bundle "$b" --image-path "$T_DIR/img" "$id"
	assert_contains "$OUT" "already exists"
}

test_criu_failure_is_explained() {
	need_criu; silo_only
	local id b=$T_DIR/b pid
	id=$(new_id)
	counter_bundle "$b"
	# stdout truncated, not appended: CRIU refuses another file of another size
	silo run -d --bundle "$b" "$id" > "$T_DIR/trunc.out" 2>&1 < /dev/null || fail "run"
	wait_count_above "$b" 2
	echo padding >> "$T_DIR/trunc.out"
	assert_ok silo checkpoint --image-path "$T_DIR/img" "$id"
	capture silo restore -d --bundle "$b" --image-path "$T_DIR/img" --pid-file "$T_DIR/pid" "$id"
	[ "$RC" -ne 0 ] || fail "restore succeeded"
	assert_contains "$OUT" "criu restore failed"
	assert_contains "$OUT" "$T_DIR/img/restore.log"
	assert_contains "$OUT" "Error ("
	assert_no_leftovers "$id"
	assert_no_file "$T_DIR/pid"
}

test_criu_timeout() {
	need_criu; silo_only
	local id b=$T_DIR/b start_s
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	printf '#!/bin/sh\nexec sleep 60\n' > "$T_DIR/hang-criu" && chmod +x "$T_DIR/hang-criu"
	start_s=$SECONDS
	assert_fail "$SILO" --root "$ROOT" --criu "$T_DIR/hang-criu" checkpoint --criu-timeout 1 \
		--leave-running --image-path "$T_DIR/img" "$id"
	[ $((SECONDS - start_s)) -lt 10 ] || fail "checkpoint took $((SECONDS - start_s)) s"
	assert_contains "$OUT" "did not finish within 1 s"
	pgrep -f "$T_DIR/hang-criu" >/dev/null && fail "the hung criu was left running"
	assert_eq running "$(status_of "$id")" "the container"
	wait_count_above "$b" "$(count_of "$b")"
}

test_no_criu_binary() {
	silo_only
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_fail "$SILO" --root "$ROOT" --criu /nonexistent/criu checkpoint --leave-running \
		--image-path "$T_DIR/img" "$id"
	assert_match "$OUT" "criu|libcriu" "error"
	assert_eq running "$(status_of "$id")" "the container"
}

test_checkpoint_not_running() {
	need_criu
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	create_ct "$id" "$b"
	assert_fail silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_eq created "$(status_of "$id")" "status"
	assert_fail silo checkpoint --image-path "$T_DIR/img" "nonexistent-$id"
	assert_contains "$OUT" "does not exist"
}

# ------------------------------------------------------------------ pre-dump

test_pre_dump() {
	need_criu
	"$CRIU" check --feature mem_dirty_track >/dev/null 2>&1 ||
		skip "no soft-dirty page tracking here (criu check --feature mem_dirty_track)"
	local id b=$T_DIR/b c
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_ok silo checkpoint --pre-dump --image-path "$T_DIR/ck/pre" "$id"
	assert_eq running "$(status_of "$id")" "status after pre-dump"
	assert_ok silo checkpoint --parent-path ../pre --image-path "$T_DIR/ck/final" "$id"
	c=$(count_of "$b")
	restore_d "$id" "$b" "$T_DIR/ck/final"
	assert_restored "$id" "$b" "$c"
}

test_pre_dump_without_soft_dirty() {
	need_criu; silo_only
	"$CRIU" check --feature mem_dirty_track >/dev/null 2>&1 && skip "this kernel has soft-dirty"
	local id b=$T_DIR/b
	id=$(new_id)
	counter_bundle "$b"
	start "$id" "$b"
	assert_fail silo checkpoint --pre-dump --image-path "$T_DIR/pre" "$id"
	assert_contains "$OUT" "soft-dirty"
	assert_eq running "$(status_of "$id")" "the container after a failed pre-dump"
	wait_count_above "$b" "$(count_of "$b")"
}

run_test checkpoint_help_and_probes test_checkpoint_help_and_probes
run_test old_criu_explained test_old_criu_explained
run_test counter_continues test_counter_continues
run_test runtime_tmpfs_made_again test_runtime_tmpfs_made_again
run_test tmpfs_written_kept test_tmpfs_written_kept
run_test tmpfs_beneath_submount_kept test_tmpfs_beneath_submount_kept
run_test tmpfs_odd_entries_kept test_tmpfs_odd_entries_kept
run_test tmpfs_overmount_after_look test_tmpfs_overmount_after_look
run_test tmpfs_manifest_checked test_tmpfs_manifest_checked
run_test netns_new_not_dumped test_netns_new_not_dumped
run_test netns_changed_kept test_netns_changed_kept
run_test netns_change_after_look test_netns_change_after_look
run_test netns_outside_holder_declined test_netns_outside_holder_declined
run_test netns_low_nofile test_netns_low_nofile
run_test netns_manifest_checked test_netns_manifest_checked
run_test tmpfs_limits_are_the_configs test_tmpfs_limits_are_the_configs
run_test tmpfs_key_taken_refused test_tmpfs_key_taken_refused
run_test tmpfs_unlinked_file_kept test_tmpfs_unlinked_file_kept
run_test tmpfs_written_after_look test_tmpfs_written_after_look
run_test leave_running test_leave_running
run_test restore_foreground_and_new_id test_restore_foreground_and_new_id
run_test page_server test_page_server
run_test lazy_pages test_lazy_pages
run_test tcp_established test_tcp_established
run_test terminal_console_socket test_terminal_console_socket
run_test export_import_fresh_root test_export_import_fresh_root
run_test export_planted_tmp test_export_planted_tmp
run_test import_refuses_bad_archives test_import_refuses_bad_archives
run_test podman_config test_podman_config
run_test docker_config test_docker_config
run_test ctr_config test_ctr_config
run_test missing_images test_missing_images
run_test image_of_another_container test_image_of_another_container
run_test criu_failure_is_explained test_criu_failure_is_explained
run_test criu_timeout test_criu_timeout
run_test no_criu_binary test_no_criu_binary
run_test checkpoint_not_running test_checkpoint_not_running
run_test pre_dump test_pre_dump
run_test pre_dump_without_soft_dirty test_pre_dump_without_soft_dirty
