#!/bin/bash
# silo sandbox: commands in throw-away containers from an image (OCI layout or
# docker-save archive, made here with tar + sha256sum + jq, and with podman when it
# is installed) or from a directory; whiteouts, the layer cache, --timeout, bad
# archives, exit codes, options, and nothing left behind (also after kill -9).
. "$(dirname "$0")/../lib/common.sh"

. "$TESTS_DIR/lib/sandbox.sh"

test_oci_image() {
	ensure_images
	run_sandbox --image "$IMAGES/oci.tar"
	check_image_run
	check_layers "$IMAGES/oci.tar"
	assert_sandbox_clean
}

test_docker_image() {
	ensure_images
	run_sandbox --image "$IMAGES/docker.tar"
	check_image_run
	check_layers "$IMAGES/docker.tar"
	assert_sandbox_clean
}

test_image_directory_and_compression() {
	ensure_images
	mkdir -p "$T_DIR/ocidir"
	tar -C "$T_DIR/ocidir" -xf "$IMAGES/oci.tar"
	run_sandbox --image "$T_DIR/ocidir"
	check_image_run
	gzip -c "$IMAGES/docker.tar" > "$T_DIR/docker.tar.gz"
	run_sandbox --image "$T_DIR/docker.tar.gz"
	check_image_run
	if command -v zstd >/dev/null; then
		zstd -q -c "$IMAGES/oci.tar" > "$T_DIR/oci.tar.zst"
		run_sandbox --image "$T_DIR/oci.tar.zst"
		check_image_run
	fi
	assert_sandbox_clean
}

test_podman_images() {
	need_cmd podman
	ensure_rootfs
	local tag="localhost/silo-sandbox-test:$$"
	tar -C "$ROOTFS" -cf "$T_DIR/rootfs.tar" .
	podman import --change 'CMD ["sh","-c","echo podman-image"]' "$T_DIR/rootfs.tar" "$tag" >/dev/null 2>&1 ||
		skip "podman import does not work here"
	defer podman rmi -f "$tag"
	podman save --format oci-archive -o "$T_DIR/p-oci.tar" "$tag" >/dev/null 2>&1 || fail "podman save oci-archive"
	podman save --format docker-archive -o "$T_DIR/p-docker.tar" "$tag" >/dev/null 2>&1 || fail "podman save docker-archive"
	run_sandbox --image "$T_DIR/p-oci.tar"
	assert_eq 0 "$RC" "oci-archive ($OUT)"
	assert_contains "$OUT" podman-image
	run_sandbox --image "$T_DIR/p-docker.tar" -- cat /etc/hostname
	assert_eq 0 "$RC" "docker-archive ($OUT)"
	assert_contains "$OUT" silo-test
	assert_sandbox_clean
}

# tree_sum DIR: owners, modes, sizes, mtimes and contents of a tree, as one checksum.
tree_sum() {
	(cd "$1" && find . -printf '%p %U:%G %m %s %T@ %y %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1
}

test_image_unchanged() {
	ensure_images
	run_sandbox --image "$IMAGES/oci.tar" -- true   # cache it
	local cache=$ROOT/.sandbox/layers before img_before
	before=$(tree_sum "$cache") img_before=$(sha "$IMAGES/oci.tar")
	run_sandbox --image "$IMAGES/oci.tar" -- sh -c '
		echo x > /etc/added; rm -f /keep/file; chmod 600 /etc/passwd; chown 5:5 /opq/c
		touch /bin/busybox; echo new > /newfile; mkdir -p /usr/new; rm -rf /opq /data
		ln -sf /x /bin/ls; busybox rm -f /bin/cat; echo done'
	assert_eq 0 "$RC" "writing everywhere ($OUT)"
	assert_contains "$OUT" done
	assert_eq "$before" "$(tree_sum "$cache")" "the layer cache after a run that writes everywhere"
	assert_eq "$img_before" "$(sha "$IMAGES/oci.tar")" "the image file"
	check_layers "$IMAGES/oci.tar"   # a fresh sandbox sees the image again
	run_sandbox --image "$IMAGES/oci.tar" -- sh -c 'test -e /newfile && echo leaked; cat /bin/cat >/dev/null && echo cat-ok'
	assert_not_contains "$OUT" leaked "changes of an earlier sandbox"
	assert_contains "$OUT" cat-ok
	assert_sandbox_clean
}

test_rootfs_unchanged() {
	ensure_rootfs
	local before; before=$(tree_sum "$ROOTFS")
	run_sandbox --rootfs "$ROOTFS" -- sh -c 'echo x > /etc/passwd; rm -rf /bin/ls /etc/group; echo n > /new; echo ok'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" ok
	assert_eq "$before" "$(tree_sum "$ROOTFS")" "the --rootfs directory"
	assert_sandbox_clean
}

test_cached_start() {
	ensure_images
	silo sandbox --prune >/dev/null 2>&1
	capture silo --debug sandbox --image "$IMAGES/docker.tar" -- true
	assert_eq 0 "$RC" "first run ($OUT)"
	assert_match "$OUT" 'layer [0-9a-f]{12}: unpacked' "first run unpacks"
	local cache=$ROOT/.sandbox/layers stamp
	stamp=$(ls -l --time-style=+%s.%N "$cache" | sha256sum)
	capture silo --debug sandbox --image "$IMAGES/docker.tar" -- true
	assert_eq 0 "$RC" "second run ($OUT)"
	assert_not_contains "$OUT" unpacked "the second run"
	assert_eq 2 "$(grep -c 'layer .*: cached' <<< "$OUT")" "cached layers of the second run"
	assert_eq "$stamp" "$(ls -l --time-style=+%s.%N "$cache" | sha256sum)" "the cache directory"
	assert_sandbox_clean
}

test_prune() {
	ensure_images
	run_sandbox --image "$IMAGES/oci.tar" -- true
	[ -n "$(ls "$ROOT/.sandbox/layers")" ] || fail "nothing cached"
	# refused while a sandbox uses the cache
	"$SILO" --root "$ROOT" sandbox --image "$IMAGES/oci.tar" -- sleep 30 > "$T_DIR/bg.out" 2>&1 < /dev/null &
	local pid=$!
	defer kill -9 "$pid"
	wait_for 10 sh -c "ls '$ROOT' | grep -q sandbox-$pid-" || fail "the background sandbox did not start"
	assert_fail silo sandbox --prune
	assert_contains "$OUT" "in use by a running sandbox"
	kill -TERM "$pid"   # forwarded; sleep as pid 1 ignores it: SIGKILL via the watchdog path
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	wait_for 10 sh -c "! ls '$ROOT' | grep -q sandbox-$pid-" || fail "the killed sandbox was not cleaned up"
	assert_ok silo sandbox --prune
	assert_match "$OUT" 'removed [1-9][0-9]* cached layer'
	assert_eq "" "$(ls "$ROOT/.sandbox/layers")" "the cache after --prune"
	assert_sandbox_clean
}

# ---------------------------------------------------------------- the command
test_exit_codes() {
	ensure_rootfs
	assert_status 42 silo sandbox --rootfs "$ROOTFS" -- sh -c 'exit 42'
	assert_status 0 silo sandbox --rootfs "$ROOTFS" -- true
	# (not the last command: sh would exec it as pid 1, which SIGKILL from inside spares)
	assert_status 137 silo sandbox --rootfs "$ROOTFS" -- sh -c 'sh -c "kill -9 \$\$"; exit $?'
	assert_status 127 silo sandbox --rootfs "$ROOTFS" -- no-such-command
	assert_contains "$OUT" "command not found"
	assert_status 127 silo sandbox --rootfs "$ROOTFS" -- /no/such/path
	assert_status 126 silo sandbox --rootfs "$ROOTFS" -- /etc/passwd
	assert_contains "$OUT" "not an executable"
	assert_status 125 silo sandbox --rootfs "$ROOTFS"
	assert_contains "$OUT" "no command"
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --memory lots -- true
	assert_contains "$OUT" "--memory"
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --image "$ROOTFS" -- true
	assert_status 125 silo sandbox --rootfs "$T_DIR/missing" -- true
	# stdin and stdout pass through
	OUT=$(printf 'one\ntwo\n' | silo sandbox --rootfs "$ROOTFS" -- sh -c 'wc -l; echo err >&2' 2>/dev/null)
	assert_eq 2 "$(echo $OUT)" "stdin piped through"
	assert_sandbox_clean
}

test_timeout() {
	ensure_rootfs
	local start=$SECONDS
	assert_status 124 silo sandbox --rootfs "$ROOTFS" --timeout 1s -- sleep 100
	assert_contains "$OUT" "timed out after 1s"
	[ $((SECONDS - start)) -lt 10 ] || fail "--timeout 1s took $((SECONDS - start)) s"
	assert_status 0 silo sandbox --rootfs "$ROOTFS" --timeout 30 -- true
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --timeout 1y -- true
	assert_sandbox_clean
}

test_tty() {
	need_cmd script
	ensure_rootfs
	capture script -qec "$SILO --root $ROOT sandbox --rootfs $ROOTFS -- sh -c 'tty; exit 3'" /dev/null
	assert_eq 3 "$RC" "exit code through the tty ($OUT)"
	assert_contains "$OUT" /dev/pts/ "the command's stdin is a terminal"
	assert_sandbox_clean
}

# ---------------------------------------------------------------- bad input
# bad_layer NAME PY_ENTRIES: a docker-save archive whose one layer has these
# entries ([name, kind, data] in Python), in $T_DIR/NAME.tar.
bad_layer() {
	need_cmd python3
	python3 - "$T_DIR/$1.layer" "$2" <<-'PY' || fail "python3 tarfile"
	import io, sys, tarfile, json
	with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
	    for name, kind, data in json.loads(sys.argv[2]):
	        ti = tarfile.TarInfo(name)
	        if kind == "file":
	            b = data.encode(); ti.size = len(b); t.addfile(ti, io.BytesIO(b)); continue
	        ti.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
	        ti.linkname = data
	        t.addfile(ti)
	PY
	one_layer_image "$T_DIR/$1.tar" "$T_DIR/$1.layer"
}

test_path_traversal_refused() {
	local out=$T_DIR/outside
	mkdir -p "$out"
	bad_layer dotdot '[["ok","file","x"],["../../../../../../../'"$out"'/dotdot","file","pwned"]]'
	bad_layer abslink '[["evil","sym","'"$out"'"],["evil/abslink","file","pwned"]]'
	bad_layer rellink '[["evil","sym","../../../../../../../../'"$out"'"],["evil/rellink","file","pwned"]]'
	bad_layer hardlink '[["h","hard","../../../../../../../etc/shadow"]]'
	bad_layer hardsym '[["e","sym","/etc"],["h","hard","e/shadow"]]'
	local t
	for t in dotdot abslink rellink hardlink hardsym; do
		assert_status 125 silo sandbox --image "$T_DIR/$t.tar" -- true
		assert_contains "$OUT" "refused" "$t"
	done
	assert_eq "" "$(ls -A "$out")" "files written outside the layer"
	# an absolute member name stays inside the layer
	bad_layer absname '[["'"$out"'/absname","file","inside"]]'
	assert_status 127 silo sandbox --image "$T_DIR/absname.tar" -- true
	assert_no_file "$out/absname"
	assert_sandbox_clean
}

test_corrupt_archive_refused() {
	ensure_images
	silo sandbox --prune >/dev/null 2>&1
	head -c $(($(stat -c %s "$IMAGES/oci.tar") / 2)) "$IMAGES/oci.tar" > "$T_DIR/trunc.tar"
	assert_status 125 silo sandbox --image "$T_DIR/trunc.tar" -- true
	assert_contains "$OUT" "image"
	cp "$IMAGES/docker.tar" "$T_DIR/flip.tar"
	printf 'CORRUPTION' | dd of="$T_DIR/flip.tar" bs=1 seek=$(($(stat -c %s "$T_DIR/flip.tar") / 2)) conv=notrunc 2>/dev/null
	assert_status 125 silo sandbox --image "$T_DIR/flip.tar" -- true
	assert_contains "$OUT" "corrupt"
	cp "$IMAGES/oci.tar" "$T_DIR/flip2.tar"
	printf 'CORRUPTION' | dd of="$T_DIR/flip2.tar" bs=1 seek=200000 conv=notrunc 2>/dev/null
	assert_status 125 silo sandbox --image "$T_DIR/flip2.tar" -- true
	echo 'not an image' > "$T_DIR/garbage.tar"
	assert_status 125 silo sandbox --image "$T_DIR/garbage.tar" -- true
	tar -C "$ROOTFS" -cf "$T_DIR/plain.tar" etc
	assert_status 125 silo sandbox --image "$T_DIR/plain.tar" -- true
	assert_contains "$OUT" "not an image"
	# Intact layers of a damaged archive may be cached (each one was verified), but
	# nothing partial, and each exactly as the pristine image unpacks it.
	local cache=$ROOT/.sandbox/layers l
	assert_eq "" "$(ls "$cache" | grep -v '^[0-9a-f]\{64\}$')" "partial layers in the cache"
	for l in $(ls "$cache"); do tree_sum "$cache/$l" > "$T_DIR/sum.$l"; done
	silo sandbox --prune >/dev/null
	run_sandbox --image "$IMAGES/docker.tar"
	check_image_run
	check_layers "$IMAGES/oci.tar"
	for l in $(ls "$T_DIR" | sed -n 's/^sum\.//p'); do
		assert_eq "$(cat "$T_DIR/sum.$l")" "$(tree_sum "$cache/$l")" "layer $l cached from a damaged archive"
	done
	assert_sandbox_clean
}

test_other_architecture_refused() {
	local other=arm64
	[ "$ARCH" = arm64 ] && other=amd64
	CFG_ARCH=$other make_oci "$T_DIR/other.tar"
	assert_status 125 silo sandbox --image "$T_DIR/other.tar" -- true
	assert_contains "$OUT" "linux/$other"
	assert_sandbox_clean
}

test_image_without_command() {
	ensure_rootfs
	layer_tar "$ROOTFS" "$T_DIR/l.tar"
	local d=$T_DIR/img diff cfg
	diff=$(sha "$T_DIR/l.tar")
	mkdir -p "$d/$diff"
	mv "$T_DIR/l.tar" "$d/$diff/layer.tar"
	jq -n --arg a "$ARCH" --arg d "sha256:$diff" '{architecture: $a, os: "linux", config: {}, rootfs: {diff_ids: [$d]}}' > "$d/c.json"
	cfg=$(sha "$d/c.json")
	mv "$d/c.json" "$d/$cfg.json"
	jq -n --arg c "$cfg.json" --arg l "$diff/layer.tar" '[{Config: $c, Layers: [$l]}]' > "$d/manifest.json"
	assert_status 125 silo sandbox --image "$d"
	assert_contains "$OUT" "no command"
	assert_status 0 silo sandbox --image "$d" -- true
	assert_sandbox_clean
}

# ---------------------------------------------------------------- nothing left
# start_bg_sandbox: a sandbox running `sleep 100` in the background; sets SB_PID
# (the silo process), SB_ID and CT_PID (the command, on the host).
start_bg_sandbox() {
	ensure_rootfs
	"$SILO" --root "$ROOT" sandbox --rootfs "$ROOTFS" -- sleep 100 > "$T_DIR/bg.out" 2>&1 < /dev/null &
	SB_PID=$!
	defer kill -9 "$SB_PID"
	wait_for 10 sh -c "ls '$ROOT' | grep -q '^sandbox-$SB_PID-'" || fail "the sandbox did not start: $(cat "$T_DIR/bg.out")"
	SB_ID=$(ls "$ROOT" | grep "^sandbox-$SB_PID-")
	wait_status "$SB_ID" running
	CT_PID=$(state_field "$SB_ID" pid)
	pid_alive "$CT_PID" || fail "no container process"
	[ -e "$ROOT/.sandbox/run/$SB_ID/owner" ] || fail "no bundle for $SB_ID"
}

test_kill9_watchdog_cleans() {
	start_bg_sandbox
	kill -9 "$SB_PID"
	wait "$SB_PID" 2>/dev/null
	# the watchdog deletes the container at once
	wait_for 10 sh -c "! ls -A '$ROOT' '$ROOT/.sandbox/run' | grep -q '$SB_ID'" ||
		fail "sandbox $SB_ID not cleaned up after kill -9: $(ls "$ROOT" "$ROOT/.sandbox/run")"
	wait_for 10 sh -c "! kill -0 $CT_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$CT_PID/status" ||
		fail "the command survived the sandbox"
	assert_status 0 silo sandbox --rootfs "$ROOTFS" -- true
	assert_sandbox_clean
}

test_kill9_stale_cleanup() {
	start_bg_sandbox
	# silo and its watchdog both die: the next sandbox cleans up
	local wd; wd=$(pgrep -P "$SB_PID" -x silo-watchdog)
	[ -n "$wd" ] || fail "no watchdog"
	kill -9 "$wd" "$SB_PID"
	wait "$SB_PID" 2>/dev/null
	pid_alive "$CT_PID" || fail "expected the command to outlive silo and its watchdog"
	[ -d "$ROOT/$SB_ID" ] || fail "expected the stale state of $SB_ID"
	assert_status 0 silo sandbox --rootfs "$ROOTFS" -- true
	wait_for 10 sh -c "! kill -0 $CT_PID 2>/dev/null || grep -q '^State:.*Z' /proc/$CT_PID/status" ||
		fail "the stale sandbox's command is still running"
	assert_sandbox_clean
}

test_kill9_stale_delete_force() {
	start_bg_sandbox
	local wd; wd=$(pgrep -P "$SB_PID" -x silo-watchdog)
	[ -n "$wd" ] || fail "no watchdog"
	kill -9 "$wd" "$SB_PID"
	wait "$SB_PID" 2>/dev/null
	# `silo delete --force` removes the container; the next sandbox the bundle
	assert_ok silo delete --force "$SB_ID"
	assert_no_file "$ROOT/$SB_ID"
	assert_ok silo sandbox --prune
	assert_sandbox_clean
}

# silo started with stdin and stdout closed (a daemon's child, `<&- >&-`): the
# watchdog's pipe gets fd 0 or 1, which the watchdog then points at /dev/null with
# its stdio.  It must still watch (and not take /dev/null's end-of-file for the
# sandbox's death), and silo must not die of SIGPIPE at the end and leave its bundle.
test_watchdog_closed_stdio() {
	ensure_rootfs
	"$SILO" --root "$ROOT" sandbox --rootfs "$ROOTFS" -- sh -c 'sleep 2; exit 3' <&- >&- 2> "$T_DIR/err"
	local rc=$?
	assert_eq 3 "$rc" "exit code with stdin and stdout closed: $(cat "$T_DIR/err")"
	assert_sandbox_clean
}

test_nothing_left() {
	ensure_images
	run_sandbox --image "$IMAGES/oci.tar" -- true
	run_sandbox --image "$IMAGES/docker.tar" -- sh -c 'exit 3'
	run_sandbox --rootfs "$ROOTFS" --memory 64m --pids 50 --tmpfs /t -- true
	run_sandbox --rootfs "$ROOTFS" --timeout 200ms -- sleep 10
	run_sandbox --rootfs "$ROOTFS" -- no-such-command
	assert_sandbox_clean
	assert_eq "" "$(silo list -q)" "containers"
	assert_eq "" "$(ls -A "$ROOT/.sandbox/run")" "bundles"
	assert_eq "" "$(grep -F .sandbox/run /proc/self/mountinfo)" "mounts on the host"
}

# ---------------------------------------------------------------- options
test_process_options() {
	ensure_rootfs
	run_sandbox --rootfs "$ROOTFS" --hostname box -e FOO=bar -e HOME=/h -w /wd -u 65534:65534 \
		-- sh -c 'echo "host=$(hostname) foo=$FOO home=$HOME cwd=$(pwd) id=$(id -u):$(id -g)"'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" "host=box foo=bar home=/h cwd=/wd id=65534:65534"
	run_sandbox --rootfs "$ROOTFS" -u nobody -- sh -c 'echo "id=$(id -u):$(id -g) home=$HOME"'
	assert_contains "$OUT" "id=65534:65534 home=/nonexistent" "a user name from the image's /etc/passwd"
	assert_status 125 silo sandbox --rootfs "$ROOTFS" -u nosuchuser -- true
	assert_contains "$OUT" "no such user"
	ensure_images
	run_sandbox --image "$IMAGES/oci.tar" -e IMGVAR=override -w / -- sh -c 'echo "$IMGVAR $(pwd)"'
	assert_contains "$OUT" "override /" "--env and --workdir over the image's"
	assert_sandbox_clean
}

test_mount_options() {
	ensure_rootfs
	mkdir -p "$T_DIR/share"
	echo host-data > "$T_DIR/share/f"
	chmod -R a+rwX "$T_DIR/share"
	# a mount below a :ro bind is read-only too (the bind gets rro, not only ro)
	mkdir -p "$T_DIR/share/sub"
	mount -t tmpfs -o size=16k,mode=1777 tmpfs "$T_DIR/share/sub" || fail "host tmpfs mount failed"
	run_sandbox --rootfs "$ROOTFS" --bind "$T_DIR/share:/mnt/ro:ro" --bind "$T_DIR/share:/mnt/rw" --tmpfs /scratch \
		-- sh -c 'cat /mnt/ro/f; touch /mnt/ro/x 2>/dev/null && echo ro-writable; touch /mnt/ro/sub/y 2>/dev/null && echo ro-sub-writable; echo w > /mnt/rw/from-sandbox;
			echo t > /scratch/t && cat /scratch/t; grep -c " /scratch .* - tmpfs " /proc/self/mountinfo'
	umount "$T_DIR/share/sub"
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" host-data
	assert_not_contains "$OUT" ro-writable
	assert_not_contains "$OUT" ro-sub-writable "a submount of a read-only --bind"
	assert_no_file "$T_DIR/share/sub/y"
	assert_file_exists "$T_DIR/share/from-sandbox"
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --bind "$T_DIR/nope:/x" -- true
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --bind "relative-dst-missing" -- true
	assert_sandbox_clean
}

test_resource_options() {
	ensure_rootfs
	run_sandbox --rootfs "$ROOTFS" --memory 64m --cpus 0.5 --pids 32 -- sh -c '
		cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null
		cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null
		cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null; true'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" 67108864 "memory limit"
	assert_contains "$OUT" 32 "pids limit"
	assert_contains "$OUT" 50000 "cpu quota"
	assert_sandbox_clean
}

test_hardening() {
	ensure_rootfs
	run_sandbox --rootfs "$ROOTFS" -- sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status;
		cat /proc/self/uid_map; unshare -m true 2>/dev/null && echo unshare-ok;
		for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done'
	assert_eq 0 "$RC" "$OUT"
	assert_match "$OUT" 'CapEff:[[:space:]]+00000000a80425fb' "Docker's default capabilities"
	assert_match "$OUT" 'CapBnd:[[:space:]]+00000000a80425fb' "bounding set"
	assert_match "$OUT" 'NoNewPrivs:[[:space:]]+1'
	assert_match "$OUT" 'Seccomp:[[:space:]]+2' "seccomp filter"
	assert_not_contains "$OUT" unshare-ok "the seccomp profile and capabilities forbid namespaces"
	local n
	for n in pid net ipc uts mnt cgroup; do
		assert_not_contains "$OUT" "$(readlink /proc/self/ns/$n)" "the host's $n namespace"
	done
	# a user namespace: root in the sandbox is not root on the host
	if ! grep -Eq '^ +0 +0 ' <<< "$OUT"; then
		assert_match "$OUT" ' +0 +[1-9][0-9]* +65536' "uid map"
	fi
	run_sandbox --rootfs "$ROOTFS" --cap-add SYS_ADMIN -- sh -c 'unshare -m true && echo unshare-ok'
	assert_contains "$OUT" unshare-ok "--cap-add SYS_ADMIN widens capabilities and the profile"
	run_sandbox --rootfs "$ROOTFS" --cap-drop ALL --seccomp unconfined -- sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
	assert_match "$OUT" 'CapEff:[[:space:]]+0000000000000000'
	assert_match "$OUT" 'Seccomp:[[:space:]]+0'
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --cap-add NOT_A_CAP -- true
	assert_sandbox_clean
}

test_seccomp_file() {
	ensure_rootfs
	jq -n '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO",
		errnoRet: 1}, {names: ["sethostname"], action: "SCMP_ACT_ERRNO", includes: {caps: ["CAP_SYS_ADMIN"]}}]}' \
		> "$T_DIR/profile.json"
	run_sandbox --rootfs "$ROOTFS" --seccomp "$T_DIR/profile.json" -- sh -c 'mkdir /d && echo made; echo end'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" end
	assert_not_contains "$OUT" made "mkdir under a profile that denies it"
	echo '{' > "$T_DIR/bad.json"
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --seccomp "$T_DIR/bad.json" -- true
	assert_sandbox_clean
}

test_keep_changes() {
	ensure_images
	local keep=$T_DIR/keep
	run_sandbox --image "$IMAGES/oci.tar" --keep-changes "$keep" -- sh -c 'echo persisted > /kept; rm /keep/file'
	assert_eq 0 "$RC" "$OUT"
	assert_eq persisted "$(cat "$keep/upper/kept")" "the change in DIR/upper"
	run_sandbox --image "$IMAGES/oci.tar" --keep-changes "$keep" -- sh -c 'cat /kept; test -e /keep/file || echo gone'
	assert_contains "$OUT" persisted "a kept change seen by the next sandbox"
	assert_contains "$OUT" gone "a kept deletion"
	run_sandbox --image "$IMAGES/oci.tar" -- sh -c 'test -e /kept && echo leaked; cat /keep/file'
	assert_not_contains "$OUT" leaked
	assert_contains "$OUT" kept
	assert_sandbox_clean
}

test_network_option() {
	ensure_rootfs
	assert_status 125 silo sandbox --rootfs "$ROOTFS" --network host -- true
	run_sandbox --rootfs "$ROOTFS" -- sh -c 'ls /sys/class/net'
	assert_eq 0 "$RC" "$OUT"
	assert_eq lo "$(echo $OUT)" "interfaces with --network none"
	assert_sandbox_clean
}

run_test oci_image test_oci_image
run_test docker_image test_docker_image
run_test image_directory_and_compression test_image_directory_and_compression
run_test podman_images test_podman_images
run_test image_unchanged test_image_unchanged
run_test rootfs_unchanged test_rootfs_unchanged
run_test cached_start test_cached_start
run_test prune test_prune
run_test exit_codes test_exit_codes
run_test timeout test_timeout
run_test tty test_tty
run_test path_traversal_refused test_path_traversal_refused
run_test corrupt_archive_refused test_corrupt_archive_refused
run_test other_architecture_refused test_other_architecture_refused
run_test image_without_command test_image_without_command
run_test kill9_watchdog_cleans test_kill9_watchdog_cleans
run_test kill9_stale_cleanup test_kill9_stale_cleanup
run_test kill9_stale_delete_force test_kill9_stale_delete_force
run_test nothing_left test_nothing_left
run_test process_options test_process_options
run_test mount_options test_mount_options
run_test resource_options test_resource_options
run_test hardening test_hardening
run_test seccomp_file test_seccomp_file
run_test keep_changes test_keep_changes
run_test network_option test_network_option
run_test watchdog_closed_stdio test_watchdog_closed_stdio
