# shellcheck shell=bash
# The sandbox tests' helpers (test_sandbox.sh, test_sandbox_rootless.sh): the test
# images (OCI layout and docker-save archives, made with tests/lib/image.sh) and
# the checks of what a sandbox leaves behind.  Sourced after tests/lib/common.sh.
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
