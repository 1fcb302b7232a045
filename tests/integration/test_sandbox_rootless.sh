#!/bin/bash
# silo sandbox run by an unprivileged user: a user namespace of its own (its ids,
# and a subordinate range through newuidmap/newgidmap), the layer cache under
# XDG_CACHE_HOME, refusals of what needs root, and nothing left behind.
. "$(dirname "$0")/../lib/common.sh"

. "$TESTS_DIR/lib/sandbox.sh"

# ---------------------------------------------------------------- rootless
# An unprivileged user (made for the test, as test_security.sh's rootless test
# does, and deleted after it) with a private XDG_RUNTIME_DIR and XDG_CACHE_HOME
# in $T_DIR/rl.
RL_USER=silotest-sb

# rootless_setup: the user, its directories, and the cleanup of both.
rootless_setup() {
	silo_only "rootless sandboxes are silo's"
	need_cmd su useradd userdel
	if ! id "$RL_USER" >/dev/null 2>&1; then
		useradd -M -s /bin/sh "$RL_USER" >/dev/null 2>&1 || skip "cannot create a test user"
		defer userdel "$RL_USER"
	fi
	RL_UID=$(id -u "$RL_USER")
	RL=$T_DIR/rl
	RL_STATE=$RL/xdg/silo
	mkdir -p "$RL/xdg" "$RL/cache"
	chown -R "$RL_USER": "$RL"
	chmod 700 "$RL/xdg"
	defer kill_user_processes
	# Subordinate ids: a range in /etc/subuid and /etc/subgid and the helpers.
	RL_SUBIDS=0
	if grep -q "^$RL_USER:" /etc/subuid 2>/dev/null && grep -q "^$RL_USER:" /etc/subgid 2>/dev/null &&
		command -v newuidmap >/dev/null && command -v newgidmap >/dev/null; then
		RL_SUBIDS=1
	fi
}
# kill_user_processes: whatever of the test user still runs (by pid), so that
# userdel can work.
kill_user_processes() {
	local p
	for p in $(ps -o pid= -u "$RL_USER" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
}
# as_user SCRIPT: bash -c SCRIPT as the test user, in $RL, with its XDG dirs;
# output in $OUT, status in $RC.
as_user() {
	capture su "$RL_USER" -s /bin/bash -c "cd '$RL' && export XDG_RUNTIME_DIR='$RL/xdg' XDG_CACHE_HOME='$RL/cache' && $1"
}
# rl_silo ARGS...: silo ARGS as the test user (its default state root).
rl_silo() { as_user "$(printf '%q ' "$SILO" "$@")"; }
# user_procs: the test user's live processes ("pid command").
user_procs() {
	local p
	for p in $(ps -o pid= -u "$RL_USER" 2>/dev/null); do
		pid_alive "$p" && echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	done
}
# assert_rootless_clean: nothing left of the user's sandboxes: no container or
# bundle in its state root, no half-unpacked layer, no process, no mount.
assert_rootless_clean() {
	local left
	left=$({ ls -A "$RL_STATE"; ls -A "$RL_STATE/.sandbox/run"; } 2>/dev/null | grep '^sandbox-')
	[ -z "$left" ] || fail "rootless sandbox state left behind: $left"
	left=$(ls -A "$RL_STATE/.sandbox/run" 2>/dev/null)
	[ -z "$left" ] || fail "bundles left behind: $left"
	left=$(ls -d "$RL/cache/silo/sandbox"/layers*/tmp-* 2>/dev/null)
	[ -z "$left" ] || fail "half-unpacked layer left behind: $left"
	left=$(user_procs)
	[ -z "$left" ] || fail "processes of $RL_USER left behind: $left"
	left=$(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo)
	[ -z "$left" ] || fail "mount left behind: $left"
}

test_rootless_image() {
	rootless_setup
	ensure_images
	rl_silo sandbox --image "$IMAGES/oci.tar"
	check_image_run
	rl_silo sandbox --image "$IMAGES/docker.tar" -- sh -c 'echo "uid=$(id -u) gid=$(id -g)"; cat /proc/self/uid_map'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" "uid=0 gid=0" "ids inside"
	assert_match "$OUT" "^ +0 +$RL_UID +1\$" "uid_map: root inside is the user"
	if [ "$RL_SUBIDS" = 1 ]; then
		local start; start=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
		assert_match "$OUT" "^ +1 +$start +[0-9]+\$" "uid_map: the subordinate ids"
	fi
	run_in_layers() {
		rl_silo sandbox --image "$1" -- sh -c '
			test -e /etc/deleteme && echo deleteme-present
			echo "opq=$(ls /opq | tr "\n" " ")"; cat /keep/file /etc/added
			stat -c "links=%h owner=%u:%g mode=%a" /data/orig
			[ /data/orig -ef /data/hardlink ] && echo same-inode'
	}
	run_in_layers "$IMAGES/docker.tar"
	assert_eq 0 "$RC" "$OUT"
	assert_not_contains "$OUT" deleteme-present "the whiteout in layer 2"
	assert_contains "$OUT" "opq=c " "the opaque directory of layer 2 (user.overlay.opaque)"
	assert_contains "$OUT" kept "a file of layer 1"
	assert_contains "$OUT" layer2 "a file of layer 2"
	assert_contains "$OUT" same-inode "hard link"
	if [ "$RL_SUBIDS" = 1 ]; then
		assert_contains "$OUT" "links=2 owner=1234:2345 mode=4755" "a mapped owner and its setuid bit"
		# on the host, the file belongs to the subordinate ids
		assert_eq "$((start + 1233))" "$(stat -c %u "$(ls -d "$RL"/cache/silo/sandbox/layers-*/*/data/orig | head -n 1)")" \
			"the owner of /data/orig in the cache"
	fi
	assert_rootless_clean
	assert_eq "" "$(ls -A "$ROOT/.sandbox/run" 2>/dev/null)" "root's bundles"
}

test_rootless_rootfs() {
	rootless_setup
	ensure_rootfs
	cp -a "$ROOTFS" "$RL/rootfs"
	chown -R "$RL_USER": "$RL/rootfs"
	local before; before=$(tree_sum "$RL/rootfs")
	rl_silo sandbox --rootfs "$RL/rootfs" -- sh -c 'id -u; cat /proc/self/uid_map; echo x > /etc/passwd; rm -f /bin/ls; echo n > /new; echo written'
	assert_eq 0 "$RC" "$OUT"
	assert_match "$OUT" '^0$' "uid inside"
	assert_match "$OUT" "^ +0 +$RL_UID +1\$" "uid_map inside"
	assert_contains "$OUT" written
	assert_eq "$before" "$(tree_sum "$RL/rootfs")" "the --rootfs directory after writes inside"
	# the sandbox's own hardening, inside its user namespace
	rl_silo sandbox --rootfs "$RL/rootfs" -- sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status;
		for n in pid net ipc uts mnt cgroup user; do readlink /proc/self/ns/$n; done; ls /sys/class/net'
	assert_eq 0 "$RC" "$OUT"
	assert_match "$OUT" 'CapEff:[[:space:]]+00000000a80425fb' "Docker's default capabilities"
	assert_match "$OUT" 'NoNewPrivs:[[:space:]]+1'
	assert_match "$OUT" 'Seccomp:[[:space:]]+2' "seccomp filter"
	local n
	for n in pid net ipc uts mnt cgroup user; do
		assert_not_contains "$OUT" "$(readlink /proc/self/ns/$n)" "the host's $n namespace"
	done
	assert_rootless_clean
}

test_rootless_cache() {
	rootless_setup
	ensure_images
	rl_silo --debug sandbox --image "$IMAGES/docker.tar" -- true
	assert_eq 0 "$RC" "first run ($OUT)"
	assert_match "$OUT" 'layer [0-9a-f]{12}: unpacked' "first run unpacks"
	local cache before stamp
	cache=$(ls -d "$RL"/cache/silo/sandbox/layers-* 2>/dev/null)
	[ -n "$cache" ] && [ -d "$cache" ] || fail "no layer cache under \$XDG_CACHE_HOME/silo/sandbox: $(ls -R "$RL/cache" | head)"
	assert_eq "" "$(ls -A "$RL_STATE/.sandbox" | grep layers)" "layers in the state root"
	before=$(tree_sum "$cache")
	stamp=$(ls -l --time-style=+%s.%N "$cache" | sha256sum)
	rl_silo --debug sandbox --image "$IMAGES/docker.tar" -- sh -c '
		echo x > /etc/added; rm -f /keep/file; chmod 600 /etc/passwd; chown 5:5 /opq/c
		touch /bin/busybox; echo new > /newfile; rm -rf /opq /data; busybox rm -f /bin/cat; echo done'
	assert_eq 0 "$RC" "second run, writing everywhere ($OUT)"
	assert_contains "$OUT" done
	assert_not_contains "$OUT" unpacked "the second run"
	assert_eq 2 "$(grep -c 'layer .*: cached' <<< "$OUT")" "cached layers of the second run"
	assert_eq "$before" "$(tree_sum "$cache")" "the layer cache after a run that writes everywhere"
	assert_eq "$stamp" "$(ls -l --time-style=+%s.%N "$cache" | sha256sum)" "the cache directory"
	rl_silo sandbox --image "$IMAGES/docker.tar" -- sh -c 'test -e /newfile && echo leaked; cat /keep/file'
	assert_not_contains "$OUT" leaked "changes of an earlier sandbox"
	assert_contains "$OUT" kept
	# --prune, rootless: in the same user namespace, so it can remove the layers
	rl_silo sandbox --prune
	assert_eq 0 "$RC" "--prune ($OUT)"
	assert_match "$OUT" 'removed 2 cached layers'
	assert_eq "" "$(ls -A "$cache")" "the cache after --prune"
	assert_rootless_clean
}

test_rootless_refusals() {
	rootless_setup
	ensure_rootfs
	local o
	for o in "--memory 64m" "--cpus 0.5" "--pids 20"; do
		# shellcheck disable=SC2086
		rl_silo sandbox --rootfs "$ROOTFS" $o -- true
		assert_eq 125 "$RC" "$o without a delegated cgroup ($OUT)"
		assert_contains "$OUT" "${o%% *}: a rootless sandbox sets limits only in a cgroup delegated to its user"
	done
	rl_silo sandbox --rootfs "$ROOTFS" --network bridge -- true
	assert_eq 125 "$RC" "--network bridge ($OUT)"
	assert_contains "$OUT" "--network bridge: a rootless sandbox cannot"
	rl_silo sandbox --rootfs "$ROOTFS" --no-userns -- true
	assert_eq 125 "$RC" "--no-userns ($OUT)"
	# no state root: a clear error, nothing made
	capture su "$RL_USER" -s /bin/bash -c "cd '$RL' && unset XDG_RUNTIME_DIR && '$SILO' sandbox --rootfs '$ROOTFS' -- true"
	assert_eq 125 "$RC" "without XDG_RUNTIME_DIR ($OUT)"
	assert_contains "$OUT" "set XDG_RUNTIME_DIR"
	assert_eq "" "$(ls -A "$RL/cache")" "the cache after refused sandboxes"
	assert_rootless_clean
}

test_rootless_own_ids_only() {
	rootless_setup
	ensure_images
	# No newuidmap/newgidmap in $PATH: only the user's own ids are mapped.
	as_user "PATH=/nonexistent $(printf '%q ' "$SILO") sandbox --image $IMAGES/docker.tar -- cat /proc/self/uid_map"
	assert_eq 0 "$RC" "$OUT"
	assert_match "$OUT" "^ +0 +$RL_UID +1\$" "uid_map"
	assert_eq 1 "$(wc -l <<< "$OUT")" "uid_map lines: no subordinate ids"
	as_user "PATH=/nonexistent $(printf '%q ' "$SILO") sandbox --image $IMAGES/docker.tar -- stat -c owner=%u:%g,mode=%a /data/orig"
	assert_eq 0 "$RC" "$OUT"
	assert_eq "owner=0:0,mode=755" "$OUT" "an unmapped owner becomes the user, without setuid"
	as_user "PATH=/nonexistent $(printf '%q ' "$SILO") sandbox --image $IMAGES/docker.tar -u nobody -- true"
	assert_eq 125 "$RC" "$OUT"
	assert_contains "$OUT" "not mapped in the sandbox"
	assert_rootless_clean
}

# rm_cgroup DIR: kill what runs in a cgroup tree and remove it, leaves first.
rm_cgroup() {
	local d p
	for d in $(find "$1" -depth -type d 2>/dev/null); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d"; }
	done
}

# Limits in a cgroup delegated to the user, made by hand as systemd's Delegate=yes
# does (the directory and its files chowned to the user): on a cgroup v2 host only
# (tests/guest/run-in-guest).  silo runs in <deleg>/self; its sandbox's cgroup is
# made next to it.
test_rootless_delegated_limits() {
	[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "needs a cgroup v2 host (see tests/guest)"
	rootless_setup
	ensure_rootfs
	local c d=/sys/fs/cgroup/silotest-deleg-$$
	for c in memory pids cpu; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || skip "no $c controller"
		grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control ||
			skip "cannot enable $c"
	done
	mkdir "$d" || fail "mkdir $d"
	defer rm_cgroup "$d"
	mkdir "$d/self"
	echo "+memory +pids +cpu" > "$d/cgroup.subtree_control" || fail "enable controllers in $d"
	chown -R "$RL_USER" "$d"
	cp -a "$ROOTFS" "$RL/rootfs"
	chown -R "$RL_USER": "$RL/rootfs"
	# (--keep-changes: a tmpfs upper layer needs user xattrs, from Linux 6.6)
	capture sh -c "echo \$\$ > '$d/self/cgroup.procs' && exec su '$RL_USER' -s /bin/bash -c \"cd '$RL' &&
		export XDG_RUNTIME_DIR='$RL/xdg' XDG_CACHE_HOME='$RL/cache' && '$SILO' sandbox --rootfs '$RL/rootfs' \
		--keep-changes '$RL/keep' --memory 64m --pids 32 --cpus 0.5 -- sh -c 'cat /sys/fs/cgroup/memory.max \
		/sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; cat /proc/self/cgroup; id -u'\""
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" 67108864 "memory.max inside"
	assert_match "$OUT" '^32$' "pids.max inside"
	assert_contains "$OUT" "50000 100000" "cpu.max inside"
	assert_eq "" "$(cd "$d" && ls -d sandbox-* 2>/dev/null)" "the sandbox's cgroup after it"
	assert_rootless_clean
}

# rl_bg_sandbox: a rootless sandbox running `sleep 100` in the background; sets
# SB_ID, SB_PID (its silo) and CT_PID (the command).
rl_bg_sandbox() {
	su "$RL_USER" -s /bin/bash -c "cd '$RL' && export XDG_RUNTIME_DIR='$RL/xdg' XDG_CACHE_HOME='$RL/cache' &&
		exec '$SILO' sandbox --image '$IMAGES/oci.tar' -- sleep 100" > "$T_DIR/bg.out" 2>&1 < /dev/null &
	local su_pid=$!
	defer kill -9 "$su_pid"
	wait_for 10 sh -c "ls '$RL_STATE' 2>/dev/null | grep -q '^sandbox-'" || fail "the sandbox did not start: $(cat "$T_DIR/bg.out")"
	SB_ID=$(ls "$RL_STATE" | grep '^sandbox-')
	SB_PID=$(echo "$SB_ID" | cut -d- -f2)
	wait_for 10 sh -c "'$SILO' --root '$RL_STATE' state '$SB_ID' 2>/dev/null | grep -q '\"running\"'" ||
		fail "sandbox $SB_ID not running: $(cat "$T_DIR/bg.out")"
	CT_PID=$("$SILO" --root "$RL_STATE" state "$SB_ID" | jq -r .pid)
	pid_alive "$CT_PID" || fail "no command process"
	assert_eq "$RL_UID" "$(stat -c %u "/proc/$CT_PID")" "the command's owner on the host"
}

test_rootless_kill9() {
	rootless_setup
	ensure_images
	# silo killed: its watchdog (in the sandbox's user namespace) cleans up
	rl_bg_sandbox
	kill -9 "$SB_PID"
	wait_for 10 sh -c "! ls -A '$RL_STATE' '$RL_STATE/.sandbox/run' | grep -q '$SB_ID'" ||
		fail "sandbox $SB_ID not cleaned up after kill -9: $(ls -A "$RL_STATE" "$RL_STATE/.sandbox/run")"
	wait_for 10 sh -c "! kill -0 $CT_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$CT_PID/status" ||
		fail "the command survived the sandbox"
	# silo and its watchdog killed: the next sandbox of the user cleans up
	rl_bg_sandbox
	local wd; wd=$(pgrep -P "$SB_PID" -x silo-watchdog)
	[ -n "$wd" ] || fail "no watchdog"
	kill -9 "$wd" "$SB_PID"
	wait_for 10 sh -c "! kill -0 $SB_PID 2>/dev/null" || fail "silo $SB_PID survived kill -9"
	pid_alive "$CT_PID" || fail "expected the command to outlive silo and its watchdog"
	rl_silo sandbox --image "$IMAGES/oci.tar" -- true
	assert_eq 0 "$RC" "the next sandbox ($OUT)"
	wait_for 10 sh -c "! kill -0 $CT_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$CT_PID/status" ||
		fail "the stale sandbox's command is still running"
	assert_rootless_clean
}

run_test rootless_image test_rootless_image
run_test rootless_rootfs test_rootless_rootfs
run_test rootless_cache test_rootless_cache
run_test rootless_refusals test_rootless_refusals
run_test rootless_own_ids_only test_rootless_own_ids_only
run_test rootless_kill9 test_rootless_kill9
run_test rootless_delegated_limits test_rootless_delegated_limits
