#!/bin/bash
# silo sandbox: commands in throw-away containers from an image (OCI layout or
# docker-save archive, made here with tar + sha256sum + jq, and with podman when it
# is installed) or from a directory; whiteouts, the layer cache, --timeout, bad
# archives, exit codes, options, and nothing left behind (also after kill -9).
. "$(dirname "$0")/../lib/common.sh"

. "$TESTS_DIR/lib/image.sh"

ARCH=$(image_arch)
IMAGES=$WORK/images

sandbox() { silo sandbox "$@"; }

# ---------------------------------------------------------------- image building
# (the generic parts are tests/lib/image.sh, shared with the bench)
sha() { image_sha "$1"; }
layer_tar() { image_layer_tar "$@"; }

# make_layers DIR: DIR/l1 (the busybox rootfs plus files to delete) and DIR/l2 (a
# whiteout of /etc/deleteme, an opaque /opq, new files, a hard link).
make_layers() {
	local d=$1
	ensure_rootfs
	mkdir -p "$d"
	cp -a "$ROOTFS" "$d/l1"
	echo doomed > "$d/l1/etc/deleteme"
	mkdir -p "$d/l1/opq" "$d/l1/keep"
	echo a > "$d/l1/opq/a"
	echo b > "$d/l1/opq/b"
	echo kept > "$d/l1/keep/file"
	mkdir -p "$d/l2/etc" "$d/l2/opq" "$d/l2/data"
	: > "$d/l2/etc/.wh.deleteme"
	: > "$d/l2/opq/.wh..wh..opq"
	echo c > "$d/l2/opq/c"
	echo layer2 > "$d/l2/etc/added"
	echo linked > "$d/l2/data/orig"
	ln "$d/l2/data/orig" "$d/l2/data/hardlink"
	chown 1234:2345 "$d/l2/data/orig"
	chmod 4755 "$d/l2/data/orig"   # after chown, which clears setuid
}

# The config of the test images: Cmd, Env and WorkingDir.
TEST_IMAGE_CONFIG='{"Cmd": ["sh", "-c", "echo from-image-cmd; pwd; echo $IMGVAR"],
	"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "IMGVAR=image-env"], "WorkingDir": "/work"}'
# image_config_test OUT DIFF_ID...: the test images' config.
image_config_test() { local out=$1; shift; image_config "$out" "${CFG_ARCH:-$ARCH}" "$TEST_IMAGE_CONFIG" "$@"; }

# make_oci OUT.tar: an OCI image layout (first layer gzip, second plain) as a tar.
make_oci() {
	local d; d=$(mktemp -d "$WORK/oci.XXXXXX")
	make_layers "$d/src"
	make_oci_image "$1" "$d/tmp" "${CFG_ARCH:-$ARCH}" "$TEST_IMAGE_CONFIG" "$d/src/l1" "$d/src/l2"
	local rc=$?
	rm -rf "$d"
	return $rc
}

# make_docker OUT.tar: a `docker save` archive (legacy layout: <id>/layer.tar).
make_docker() {
	local d; d=$(mktemp -d "$WORK/docker.XXXXXX")
	make_layers "$d/src"
	make_docker_image "$1" "$d/tmp" "${CFG_ARCH:-$ARCH}" "$TEST_IMAGE_CONFIG" silo-test:latest "$d/src/l1" "$d/src/l2"
	local rc=$?
	rm -rf "$d"
	return $rc
}

# one_layer_image OUT.tar LAYER.tar: a docker-save archive of that single layer.
one_layer_image() {
	local out=$1 layer=$2 d diff cfg; d=$(mktemp -d "$WORK/one.XXXXXX")
	diff=$(sha "$layer")
	mkdir -p "$d/$diff"
	cp "$layer" "$d/$diff/layer.tar"
	image_config_test "$d/c.json" "$diff"
	cfg=$(sha "$d/c.json")
	mv "$d/c.json" "$d/$cfg.json"
	jq -n --arg c "$cfg.json" --arg l "$diff/layer.tar" '[{Config: $c, Layers: [$l]}]' > "$d/manifest.json"
	tar -C "$d" -cf "$out" manifest.json "$cfg.json" "$diff"
	rm -rf "$d"
}

# Images are built once per file.
ensure_images() {
	mkdir -p "$IMAGES"
	[ -s "$IMAGES/oci.tar" ] || make_oci "$IMAGES/oci.tar" || fail "cannot build the OCI image"
	[ -s "$IMAGES/docker.tar" ] || make_docker "$IMAGES/docker.tar" || fail "cannot build the docker image"
}

# ---------------------------------------------------------------- leftovers
# sandbox_ids: the sandboxes the state root knows (containers and bundles).
sandbox_ids() {
	{ ls "$ROOT" 2>/dev/null; ls "$ROOT/.sandbox/run" 2>/dev/null; } | grep '^sandbox-' | sort -u
}
# assert_sandbox_clean: no sandbox container, bundle, cgroup, process or mount remains.
assert_sandbox_clean() {
	local left p
	left=$(sandbox_ids)
	[ -z "$left" ] || fail "sandbox state left behind: $left"
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name 'sandbox-*' 2>/dev/null)
	[ -z "$left" ] || fail "sandbox cgroup left behind: $left"
	left=$(ls "$ROOT/.sandbox/layers" 2>/dev/null | grep '^tmp-' || true)
	[ -z "$left" ] || fail "half-unpacked layer left behind: $left"
	left=$(grep -l -s "sandbox-" /proc/[0-9]*/cgroup || true)
	for p in $left; do
		p=${p#/proc/}; p=${p%/cgroup}
		pid_alive "$p" && fail "process $p left in a sandbox cgroup: $(tr '\0' ' ' < "/proc/$p/cmdline")"
	done
	# (an orphaned watchdog that exited is a zombie until pid 1 reaps it)
	for p in $(pgrep -x silo-watchdog || true); do
		pid_alive "$p" && fail "watchdog $p left running"
	done
	left=$(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo)
	[ -z "$left" ] || fail "mount left behind: $left"
}

# run_sandbox ARGS...: `silo sandbox ARGS` with output in $OUT and status in $RC.
run_sandbox() { capture silo sandbox "$@"; }

# ---------------------------------------------------------------- images
check_image_run() {   # the default command of the test images, and their layers
	assert_eq 0 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" from-image-cmd "the image's Cmd"
	assert_contains "$OUT" /work "the image's WorkingDir"
	assert_contains "$OUT" image-env "the image's Env"
}
check_layers() {     # IMAGE: whiteout, opaque dir, hard link, owner and mode
	run_sandbox --image "$1" -- sh -c '
		test -e /etc/deleteme && echo deleteme-present
		echo "opq=$(ls /opq | tr "\n" " ")"; cat /keep/file /etc/added
		stat -c "links=%h owner=%u:%g mode=%a" /data/orig
		[ /data/orig -ef /data/hardlink ] && echo same-inode'
	assert_eq 0 "$RC" "exit code ($OUT)"
	assert_not_contains "$OUT" deleteme-present "the whiteout in layer 2"
	assert_contains "$OUT" "opq=c " "the opaque directory of layer 2"
	assert_contains "$OUT" kept "a file of layer 1"
	assert_contains "$OUT" layer2 "a file of layer 2"
	assert_contains "$OUT" "links=2 owner=1234:2345 mode=4755" "hard link, owner and setuid bit"
	assert_contains "$OUT" same-inode "hard link"
}

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
	kill -9 "$wd" "$SB_PID"
	wait "$SB_PID" 2>/dev/null
	# `silo delete --force` removes the container; the next sandbox the bundle
	assert_ok silo delete --force "$SB_ID"
	assert_no_file "$ROOT/$SB_ID"
	assert_ok silo sandbox --prune
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
	run_sandbox --rootfs "$ROOTFS" --bind "$T_DIR/share:/mnt/ro:ro" --bind "$T_DIR/share:/mnt/rw" --tmpfs /scratch \
		-- sh -c 'cat /mnt/ro/f; touch /mnt/ro/x 2>/dev/null && echo ro-writable; echo w > /mnt/rw/from-sandbox;
			echo t > /scratch/t && cat /scratch/t; grep -c " /scratch .* - tmpfs " /proc/self/mountinfo'
	assert_eq 0 "$RC" "$OUT"
	assert_contains "$OUT" host-data
	assert_not_contains "$OUT" ro-writable
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
run_test rootless_image test_rootless_image
run_test rootless_rootfs test_rootless_rootfs
run_test rootless_cache test_rootless_cache
run_test rootless_refusals test_rootless_refusals
run_test rootless_own_ids_only test_rootless_own_ids_only
run_test rootless_kill9 test_rootless_kill9
run_test rootless_delegated_limits test_rootless_delegated_limits
