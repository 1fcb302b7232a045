#!/bin/bash
# silo sandbox against hostile images: what reading an image may cost is bounded
# (memory of the archive scan, index nesting and breadth), files of the image that
# are not regular files are never opened for reading, and --timeout also covers
# reading the image.  The limits are documented in silo-sandbox(8).
. "$(dirname "$0")/../lib/common.sh"

. "$TESTS_DIR/lib/sandbox.sh"

# junk_image OUT.tar.gz ORDER IMAGE.tar N [PAD]: IMAGE's members plus N members of
# 4 MiB that look like JSON ("{" and spaces), before (ORDER=first) or after them,
# gzip'ed (a few KiB each once compressed); index.json padded with spaces to PAD
# bytes when given.
junk_image() {
	need_cmd python3
	python3 - "$@" <<-'PY' || fail "python3 tarfile"
	import io, sys, tarfile
	out, order, src, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
	pad = int(sys.argv[5]) if len(sys.argv) > 5 else 0
	blob = b"{" + b" " * (4 * 1024 * 1024 - 1)
	def junk(t):
	    for i in range(n):
	        ti = tarfile.TarInfo("junk/%04d.json" % i)
	        ti.size = len(blob)
	        t.addfile(ti, io.BytesIO(blob))
	with tarfile.open(out, "w:gz", compresslevel=1) as t, tarfile.open(src) as s:
	    if order == "first":
	        junk(t)
	    for m in s.getmembers():
	        data = s.extractfile(m).read() if m.isfile() else None
	        if data is not None and m.name.lstrip("./") == "index.json" and pad:
	            data = data.ljust(pad)
	            m.size = len(data)
	        t.addfile(m, io.BytesIO(data) if data is not None else None)
	    if order != "first":
	        junk(t)
	PY
}

# peak_rss_kb CMD...: runs CMD like capture, and sets RSS to its peak RSS in KiB.
peak_rss_kb() {
	OUT=$(/usr/bin/time -o "$T_DIR/rss" -f %M "$@" 2>&1 </dev/null) && RC=0 || RC=$?
	RSS=$(tail -n1 "$T_DIR/rss")
	printf '+ %s (rc=%s, peak RSS %s KiB)\n%s\n' "$*" "$RC" "$RSS" "$OUT" >&2
}

# A 4 MiB member that looks like JSON used to be kept in memory whole, with no
# limit on their sum: a 600 KiB .tar.gz drove `silo sandbox` to 620 MB.  The scan
# keeps at most 16 MiB: the image's own small members still fit around the junk
# (before or after it) and it runs; an index.json that no longer fits is refused
# with a message naming the budget; and memory stays low.
test_archive_memory_budget() {
	[ -x /usr/bin/time ] || skip "needs /usr/bin/time"
	ensure_images
	local order
	for order in first after; do
		junk_image "$T_DIR/$order.tar.gz" "$order" "$IMAGES/oci.tar" 100
		[ "$(stat -c %s "$T_DIR/$order.tar.gz")" -lt $((8 << 20)) ] || fail "the hostile image is not small"
		peak_rss_kb "$SILO" --root "$ROOT" sandbox --image "$T_DIR/$order.tar.gz"
		[ "$RSS" -lt 102400 ] || fail "peak RSS $RSS KiB reading 100 JSON-like members of 4 MiB ($order)"
		check_image_run
	done
	junk_image "$T_DIR/padded.tar.gz" first "$IMAGES/oci.tar" 4 $((4 << 20))
	peak_rss_kb "$SILO" --root "$ROOT" sandbox --image "$T_DIR/padded.tar.gz" -- true
	[ "$RSS" -lt 102400 ] || fail "peak RSS $RSS KiB (index.json past the budget)"
	assert_eq 125 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" "index.json" "the error names the member"
	assert_contains "$OUT" "16 MiB" "the error names the budget"
	assert_sandbox_clean
}

# oci_index_chain DIR DEPTH WIDTH: an OCI layout whose index.json lists WIDTH times
# a nested index for this host, which lists WIDTH times the next, DEPTH deep; the
# last lists only a manifest for another architecture.
oci_index_chain() {
	need_cmd python3
	python3 - "$@" "$ARCH" <<-'PY' || fail "python3 index chain"
	import hashlib, json, os, sys
	d, depth, width, arch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
	os.makedirs(d + "/blobs/sha256", exist_ok=True)
	def blob(b):
	    h = hashlib.sha256(b).hexdigest()
	    open("%s/blobs/sha256/%s" % (d, h), "wb").write(b)
	    return h
	IDX = "application/vnd.oci.image.index.v1+json"
	man = blob(b'{"schemaVersion":2,"config":{"digest":"sha256:' + b"0" * 64 + b'"},"layers":[]}')
	cur = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
	       "digest": "sha256:" + man, "platform": {"architecture": "s390x" if arch != "s390x" else "arm64", "os": "linux"}}]}
	for _ in range(depth):
	    h = blob(json.dumps(cur).encode())
	    cur = {"schemaVersion": 2, "manifests": [{"mediaType": IDX, "digest": "sha256:" + h,
	           "platform": {"architecture": arch, "os": "linux"}}] * width}
	open(d + "/index.json", "w").write(json.dumps(cur))
	open(d + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
	PY
}

# Choosing the host's manifest follows nested indexes: their depth, their breadth
# and how many are read in all are bounded (1000 x 1000 x 1000 reads before).
test_nested_index_bounded() {
	local start
	oci_index_chain "$T_DIR/wide" 3 1000
	tar -C "$T_DIR/wide" -cf "$T_DIR/wide.tar" .
	for img in "$T_DIR/wide" "$T_DIR/wide.tar"; do
		start=$SECONDS
		capture timeout -s KILL 20 "$SILO" --root "$ROOT" sandbox --image "$img" -- true
		[ $((SECONDS - start)) -lt 10 ] || fail "$img: took $((SECONDS - start)) s"
		assert_eq 125 "$RC" "exit code ($OUT)"
		assert_contains "$OUT" "more than 64" "$img: the error names the limit"
	done
	oci_index_chain "$T_DIR/broad" 1 1025
	capture "$SILO" --root "$ROOT" sandbox --image "$T_DIR/broad" -- true
	assert_eq 125 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" "more than the 1024"
	oci_index_chain "$T_DIR/deep" 6 1
	capture "$SILO" --root "$ROOT" sandbox --image "$T_DIR/deep" -- true
	assert_eq 125 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" "nested too deep"
	assert_sandbox_clean
}

# fifo_image OUT.tar FILE: the test rootfs with FILE (/etc/passwd...) a FIFO.
fifo_image() {
	local d; d=$(mktemp -d "$T_DIR/fifo.XXXXXX")
	ensure_rootfs
	cp -a "$ROOTFS" "$d/l"
	rm -f "$d/l/$2"
	mkfifo "$d/l/$2"
	layer_tar "$d/l" "$d/layer.tar"
	one_layer_image "$1" "$d/layer.tar"
	rm -rf "$d"
}

# A FIFO in the image where the sandbox reads a file (/etc/passwd, /etc/group to
# resolve the user) hung it for good, before the --timeout watchdog was armed: it is
# now ignored (with a warning) as not a regular file, without opening it for reading.
# (The command does not read it: `id` in the container would block on it until the
# --timeout, which is the container's business.)
test_fifo_in_image() {
	local start f
	for f in etc/passwd etc/group; do
		fifo_image "$T_DIR/fifo.tar" "$f"
		start=$SECONDS
		capture timeout -s KILL 20 "$SILO" --root "$ROOT" sandbox --timeout 5 --image "$T_DIR/fifo.tar" -- sh -c 'echo ran-as-$(cat /proc/self/status | grep ^Uid | cut -f2)'
		[ $((SECONDS - start)) -lt 5 ] || fail "/$f a FIFO: took $((SECONDS - start)) s"
		assert_eq 0 "$RC" "/$f a FIFO, numeric user: exit code ($OUT)"
		assert_contains "$OUT" "ran-as-0" "the command ran, as root"
		assert_contains "$OUT" "not a regular file" "/$f: the warning"
		capture timeout -s KILL 20 "$SILO" --root "$ROOT" sandbox --timeout 5 --user nobody:nogroup --image "$T_DIR/fifo.tar" -- true
		[ $((SECONDS - start)) -lt 10 ] || fail "/$f a FIFO, --user nobody: took $((SECONDS - start)) s"
		assert_eq 125 "$RC" "/$f a FIFO, --user nobody:nogroup: exit code ($OUT)"
		assert_contains "$OUT" "no such"
	done
	# the image itself a FIFO
	mkfifo "$T_DIR/img.fifo"
	capture timeout -s KILL 20 "$SILO" --root "$ROOT" sandbox --timeout 2 --image "$T_DIR/img.fifo" -- true
	assert_eq 125 "$RC" "--image a FIFO: exit code ($OUT)"
	assert_contains "$OUT" "not a regular file"
	assert_sandbox_clean
}

# slow_image OUT.tar: a docker-save image of one layer of 100000 empty files,
# which takes seconds to unpack (and little disk).
slow_image() {
	need_cmd python3
	python3 - "$T_DIR/many.layer" <<-'PY' || fail "python3 slow image"
	import sys, tarfile
	with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
	    for d in range(100):
	        ti = tarfile.TarInfo("d%03d" % d)
	        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
	        t.addfile(ti)
	        for i in range(1000):
	            t.addfile(tarfile.TarInfo("d%03d/f%04d" % (d, i)))
	PY
	one_layer_image "$1" "$T_DIR/many.layer"
}

# --timeout covers reading the image: one slow to unpack is given up with 124, and
# its half-unpacked layer removed.
test_timeout_covers_image() {
	local start
	slow_image "$T_DIR/slow.tar"
	start=$SECONDS
	capture timeout -s KILL 60 "$SILO" --root "$ROOT" sandbox --timeout 1 --image "$T_DIR/slow.tar" -- true
	[ $((SECONDS - start)) -lt 5 ] || fail "--timeout 1 took $((SECONDS - start)) s reading the image"
	assert_eq 124 "$RC" "exit code ($OUT)"
	assert_contains "$OUT" "timed out after 1s"
	assert_sandbox_clean
}

run_test archive_memory_budget test_archive_memory_budget
run_test nested_index_bounded test_nested_index_bounded
run_test fifo_in_image test_fifo_in_image
run_test timeout_covers_image test_timeout_covers_image
finish
