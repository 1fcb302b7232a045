#!/bin/bash
# silo migrate-receive against a hostile peer (tests/lib/migrate_peer.py, python3
# with the standard library, and gnutls-cli as its TLS-PSK transport): a peer that
# holds the token and names paths outside the receiving directory or stdio it must
# not have, or sends a huge frame before the HMAC handshake, and peers without it
# that trickle bytes or hold many connections open.  No CRIU is needed beyond
# `criu --version` (the OFFER check): nothing here is restored.
#
# The receiver listens on 127.0.0.1 of the test's host, on a random port, with a
# private --root and --bundle-dir under the test's directory.
. "$(dirname "$0")/../lib/common.sh"

PEER=$TESTS_DIR/lib/migrate_peer.py

need_receiver() {
	need_cmd python3 jq gnutls-cli
	command -v "${CRIU:-criu}" >/dev/null 2>&1 || skip "no criu binary (the receiver checks its version)"
	TOKEN=$T_DIR/token
	head -c 32 /dev/urandom | base64 > "$TOKEN" && chmod 600 "$TOKEN"
	RECV_DIR=$T_DIR/recv/bundles
	mkdir -p "$RECV_DIR"
}

listening() {
	local hex; hex=$(printf ':%04X ' "$1")
	awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f=1 } END { exit !f }' /proc/net/tcp
}

# start_receiver [flags...]: a receiver on 127.0.0.1:$PORT, its output in $T_DIR/recv.log
start_receiver() {
	local try
	for try in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		listening "$PORT" && continue
		"$SILO" --root "$T_DIR/state" migrate-receive --listen "127.0.0.1:$PORT" --token-file "$TOKEN" \
			--bundle-dir "$RECV_DIR" "$@" >> "$T_DIR/recv.log" 2>&1 < /dev/null &
		RECV_PID=$!
		defer kill -9 "$RECV_PID"
		wait_for 5 listening "$PORT" && return 0
		kill -9 "$RECV_PID" 2>/dev/null
	done
	fail "the receiver does not listen: $(cat "$T_DIR/recv.log")"
}

peer() { python3 "$PEER" "127.0.0.1:$PORT" "$@"; }
recv_log() { cat "$T_DIR/recv.log"; }

# a config.json the OFFER carries; JQ filter applied
offer_config() {
	make_bundle "$T_DIR/b" "$@"
	CONFIG=$T_DIR/b/config.json
}

# (a) A peer with the token names a rootfs outside its bundle: the receiver
# refuses the offer and the victim directory keeps its file and its mode.
test_root_path_traversal() {
	need_receiver
	local victim=$T_DIR/recv/victim p id
	mkdir -p "$victim" && echo precious > "$victim/file" && chmod 700 "$victim"
	start_receiver --keep-listening
	for p in ../../victim sub/../../../victim . .. "" /; do
		offer_config '.root.path = $p' --arg p "$p"
		id=$(new_id)
		capture peer auth --token "$TOKEN" --config "$CONFIG" --id "$id" --manifest
		assert_contains "$OUT" "auth_ok"
		if [ "$p" = / ]; then
			# an absolute root.path becomes `rootfs` (documented): accepted, inside the bundle
			assert_contains "$OUT" "reply ACCEPT" "root.path /"
			continue
		fi
		assert_eq precious "$(cat "$victim/file" 2>/dev/null)" "the victim's file after root.path '$p'"
		assert_eq 700 "$(stat -c %a "$victim")" "the victim's mode after root.path '$p'"
		assert_contains "$OUT" "reply ERROR" "root.path '$p'"
		assert_contains "$OUT" "root.path" "root.path '$p'"
		assert_not_contains "$OUT" "reply ACCEPT" "root.path '$p'"
		[ ! -e "$RECV_DIR/$id" ] || fail "a bundle was left for the refused offer ('$p')"
	done
	# every refusal is logged with the peer's address
	wait_for 5 grep -q "127.0.0.1:.*root.path" "$T_DIR/recv.log" || fail "no refusal in the log: $(recv_log)"
	kill -0 "$RECV_PID" || fail "the receiver died: $(recv_log)"
}

# (b) A peer that trickles one byte a second is cut off 10 s after it connected,
# and an honest handshake started meanwhile goes through at once.
test_slow_peer_cut_off() {
	need_receiver
	start_receiver --keep-listening
	peer slow --max 25 > "$T_DIR/slow.out" 2>&1 &
	local slow=$! t
	defer kill -9 "$slow"
	sleep 1
	capture peer auth --token "$TOKEN" --timeout 5
	assert_contains "$OUT" "auth_ok" "an honest handshake while a slow peer is connected"
	t=$(awk '{print $2}' <<< "$OUT")
	awk -v t="$t" 'BEGIN { exit !(t < 3) }' || fail "the honest handshake took $t s"
	wait "$slow"
	OUT=$(cat "$T_DIR/slow.out")
	assert_contains "$OUT" "closed" "the slow peer"
	t=$(awk '/closed/ {print $2}' <<< "$OUT")
	# 10 s from accept; a deadline that the peer's trickle re-armed would hold it for
	# its whole 25 s, so up to 18 s still proves the point on a loaded machine.
	awk -v t="$t" 'BEGIN { exit !(t >= 9 && t <= 18) }' || fail "the slow peer was cut off after $t s, not 10"
	assert_match "$(recv_log)" "refused 127\.0\.0\.1:[0-9]+: .*10 s" "the refusal in the log"
}

# Many idle connections at once do not keep an honest peer out.
test_many_idle_peers() {
	need_receiver
	start_receiver --keep-listening
	python3 -c '
import socket, sys, time
s = []
for _ in range(80):
    try:
        s.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2))
    except OSError:
        pass
print("open %d" % len(s), flush=True)
time.sleep(8)
' "$PORT" > "$T_DIR/idle.out" 2>&1 &
	local idle=$! t
	defer kill -9 "$idle"
	wait_for 20 grep -q open "$T_DIR/idle.out" || fail "could not open the idle connections: $(cat "$T_DIR/idle.out")"
	capture peer auth --token "$TOKEN" --timeout 5
	assert_contains "$OUT" "auth_ok" "an honest handshake behind 80 idle connections"
	t=$(awk '{print $2}' <<< "$OUT")
	awk -v t="$t" 'BEGIN { exit !(t < 3) }' || fail "the honest handshake took $t s"
	kill -9 "$idle" 2>/dev/null
}

# (c) A frame over 64 KiB before authentication (inside TLS, before the HMAC
# handshake) is refused on its header.
test_big_frame_before_auth() {
	need_receiver
	start_receiver --keep-listening
	capture peer big --token "$TOKEN" --size $((1 << 20))
	assert_not_contains "$OUT" "reply CHALLENGE" "a 1 MiB HELLO"
	local t; t=$(awk '/elapsed/ {print $2}' <<< "$OUT")
	awk -v t="$t" 'BEGIN { exit !(t < 2) }' || fail "refused only after $t s"
	wait_for 5 grep -Eq "refused 127\.0\.0\.1:[0-9]+: .*(limit|too large)" "$T_DIR/recv.log" ||
		fail "no refusal in the log: $(recv_log)"
	# a HELLO under the limit is still fine, and so is an honest peer after it
	capture peer big --token "$TOKEN" --size 60000
	assert_contains "$OUT" "reply CHALLENGE" "a 60000-byte HELLO"
	capture peer auth --token "$TOKEN" --timeout 5
	assert_contains "$OUT" "auth_ok"
}

# (d) Stdio the peer names must be a harmless device: not a file, not a FIFO.
test_stdio_refused() {
	need_receiver
	local fifo=$T_DIR/fifo id path
	mkfifo "$fifo"
	start_receiver --keep-listening
	offer_config .
	# S_IFCHR|0620: the peer claims a character device
	for path in /etc/shadow "$fifo" "$T_DIR/link-to-null"; do
		ln -sf /dev/null "$T_DIR/link-to-null"
		id=$(new_id)
		capture peer auth --token "$TOKEN" --config "$CONFIG" --id "$id" --timeout 10 \
			--restore-stdio "[{\"fd\": 0, \"type\": \"file\", \"path\": \"$path\", \"mode\": 8592, \"size\": 0, \"key\": \"file[1:2]\"}]"
		assert_contains "$OUT" "reply ACCEPT"
		assert_contains "$OUT" "reply ERROR" "stdio $path"
		assert_contains "$OUT" "$path" "stdio $path"
		assert_contains "$OUT" "not allowed" "stdio $path"
		[ ! -e "$RECV_DIR/$id" ] || fail "a bundle was left for the refused restore ($path)"
	done
	assert_match "$(recv_log)" "127\.0\.0\.1:[0-9]+: .*/etc/shadow" "the refusal in the log"
	kill -0 "$RECV_PID" || fail "the receiver died: $(recv_log)"
}

# (e) The tmpfs list of the images' manifest is the peer's word: a device node
# the config does not give (/dev/mem), one it gives with another mode (/dev/null
# 0777), or a /dev/shm without the config's nodev, is refused before anything of it is made (lib/criu/tmpfs_restore.c).
test_tmpfs_list_refused() {
	need_receiver
	local id img=$T_DIR/img bad
	start_receiver --keep-listening
	offer_config .
	mkdir -p "$img"
	: > "$img/inventory.img"
	for bad in mem nullmode nodev; do
		id=$(new_id)
		jq -n --arg bad "$bad" '{format: 1, id: "x", stdio: [], tmpfs: [
			{key: "/dev", id: 1, source: "tmpfs", flags: "rw,nosuid", options: "rw,mode=755",
			 entries: ([{p: ".", t: "d", m: 493, u: 0, g: 0}] +
				(if $bad == "mem" then [{p: "mem", t: "c", m: 438, u: 0, g: 0, r: 257}]
				 elif $bad == "nullmode" then [{p: "null", t: "c", m: 511, u: 0, g: 0, r: 259}] else [] end))},
			{key: "/dev/shm", id: 2, source: "shm", flags: (if $bad == "nodev" then "rw,nosuid,noexec" else "rw,nosuid,nodev,noexec" end),
			 options: "rw,mode=1777", entries: [{p: ".", t: "d", m: 1023, u: 0, g: 0}]}]}' > "$img/silo-checkpoint.json"
		capture peer auth --token "$TOKEN" --config "$CONFIG" --id "$id" --timeout 20 --manifest \
			--images "$img" --restore-stdio '[]'
		assert_contains "$OUT" "reply ACCEPT"
		assert_contains "$OUT" "reply ERROR" "tmpfs list ($bad)"
		case $bad in
		mem) assert_contains "$OUT" "device c 1:1 mode 0666 owner 0:0, not one of linux.devices" ;;
		nullmode) assert_contains "$OUT" "device c 1:3 mode 0777 owner 0:0, not one of linux.devices" ;;
		nodev) assert_contains "$OUT" "drop one of the config's" ;;
		esac
		[ ! -e "$RECV_DIR/$id" ] || fail "a bundle was left for the refused restore ($bad)"
		[ ! -e "$T_DIR/state/$id" ] || fail "a container state was left for the refused restore ($bad)"
	done
	kill -0 "$RECV_PID" || fail "the receiver died: $(recv_log)"
}

run_test root_path_traversal test_root_path_traversal
run_test slow_peer_cut_off test_slow_peer_cut_off
run_test many_idle_peers test_many_idle_peers
run_test big_frame_before_auth test_big_frame_before_auth
run_test stdio_refused test_stdio_refused
run_test tmpfs_list_refused test_tmpfs_list_refused
