#!/bin/bash
# silo sandbox's index records (lib/image/cache.c): an image archive seen before
# starts from its record, without the archive being read; an archive changed at
# the same path (renamed over, rewritten in place with the same size and mtime) is
# read again; a corrupt, forged, planted or group-writable record is ignored; two
# sandboxes filling the cache at once leave one whole record; --prune removes them.
. "$(dirname "$0")/../lib/common.sh"
# Each test builds an image archive and starts several sandboxes (with 1.2 s waits
# for the ctime rule): more than the default 30 s on a loaded machine.
[ "$TEST_TIMEOUT" -ge 120 ] || TEST_TIMEOUT=120

. "$TESTS_DIR/lib/sandbox.sh"

INDEX_DIR=$ROOT/.sandbox/images

# variant OUT WORD: a one-layer OCI image of the busybox rootfs whose Cmd prints WORD
# (the layer is the same for every WORD, only the config differs).
variant() {
	ensure_rootfs
	make_oci_image "$1" "$T_DIR/v.$2" "$ARCH" \
		"{\"Cmd\": [\"sh\", \"-c\", \"echo image-$2\"], \"Env\": [\"PATH=/bin\"]}" "$ROOTFS" ||
		fail "cannot build image $2"
}
# settle FILE: a record is only written once the archive's ctime is a second old.
settle() { sleep 1.2; }
# dsandbox ARGS...: silo --debug sandbox, output and status in $OUT and $RC.
dsandbox() { capture silo --debug sandbox "$@"; }
used() { [[ "$OUT" == *"its index record is used"* ]]; }
the_record() { ls "$INDEX_DIR"/*.json 2>/dev/null; }
# fresh: no record of the tests before (they share the state root).
fresh() { rm -rf "$INDEX_DIR"; }

test_record_used() {
	fresh
	ensure_images
	cp "$IMAGES/oci.tar" "$T_DIR/a.tar"
	settle
	dsandbox --image "$T_DIR/a.tar"
	check_image_run
	assert_contains "$OUT" "image index: recorded" "the first run records the image"
	used && fail "the first run used a record"
	dsandbox --image "$T_DIR/a.tar"
	check_image_run
	used || fail "the second run did not use the record: $OUT"
	assert_eq 2 "$(grep -c 'layer .*: cached' <<< "$OUT")" "cached layers of the second run"
	# the layers of layer 2 (whiteout, opaque dir) come through the record too
	check_layers "$T_DIR/a.tar"
	# the record is the cache's: a directory 0700 and a file 0600 of root
	assert_eq 700 "$(stat -c %a "$INDEX_DIR")" "mode of $INDEX_DIR"
	assert_eq 600 "$(stat -c %a "$(the_record)")" "mode of the record"
	assert_sandbox_clean
}

test_fresh_archive_not_recorded() {
	fresh
	ensure_images
	cp "$IMAGES/oci.tar" "$T_DIR/a.tar"
	dsandbox --image "$T_DIR/a.tar"   # ctime < 1 s old: a change in the same tick could hide
	check_image_run
	assert_eq "" "$(the_record)" "a record of an archive changed less than a second ago"
	assert_sandbox_clean
}

test_swapped_archive_read_again() {
	fresh
	variant "$T_DIR/A.tar" A
	variant "$T_DIR/B.tar" B
	cp "$T_DIR/A.tar" "$T_DIR/p.tar"
	settle
	dsandbox --image "$T_DIR/p.tar"
	assert_contains "$OUT" image-A
	dsandbox --image "$T_DIR/p.tar"
	assert_contains "$OUT" image-A
	used || fail "A's record was not used: $OUT"
	# another file renamed over the path
	cp "$T_DIR/B.tar" "$T_DIR/p.new" && mv "$T_DIR/p.new" "$T_DIR/p.tar"
	dsandbox --image "$T_DIR/p.tar"
	assert_eq 0 "$RC" "after the rename ($OUT)"
	assert_contains "$OUT" image-B "the renamed-over archive"
	used && fail "a record was used for the renamed-over archive"
	settle
	dsandbox --image "$T_DIR/p.tar"
	assert_contains "$OUT" image-B
	assert_contains "$OUT" "image index: recorded" "B recorded"
	dsandbox --image "$T_DIR/p.tar"
	assert_contains "$OUT" image-B
	used || fail "B's record was not used: $OUT"
	# the same inode rewritten in place, same size, its mtime put back: only ctime tells
	local mtime size_a size_b
	mtime=$(stat -c %.9Y "$T_DIR/p.tar") size_a=$(stat -c %s "$T_DIR/A.tar") size_b=$(stat -c %s "$T_DIR/B.tar")
	cat "$T_DIR/A.tar" > "$T_DIR/p.tar"
	touch -m -d "@$mtime" "$T_DIR/p.tar"
	assert_eq "$mtime" "$(stat -c %.9Y "$T_DIR/p.tar")" "mtime put back"
	[ "$size_a" = "$size_b" ] || echo "note: A and B differ in size ($size_a, $size_b)" >&2
	dsandbox --image "$T_DIR/p.tar"
	assert_eq 0 "$RC" "after the rewrite ($OUT)"
	assert_contains "$OUT" image-A "the archive rewritten in place"
	assert_not_contains "$OUT" image-B "the archive rewritten in place"
	used && fail "a record was used for the rewritten archive"
	assert_sandbox_clean
}

# forge PYTHON: the record changed by a python statement on `r` (a dict; python keeps
# the 64-bit numbers exact, jq would round them), config_sha256 recomputed unless
# the second argument is "keep-digest".
forge() {
	need_cmd python3
	python3 - "$(the_record)" "$1" "${2:-}" <<-'PY' || fail "forge $1"
	import hashlib, json, sys
	path, stmt, keep = sys.argv[1:4]
	r = json.load(open(path))
	exec(stmt)
	if keep != "keep-digest":
	    r["config_sha256"] = hashlib.sha256(r["config"].encode()).hexdigest()
	open(path, "w").write(json.dumps(r))
	PY
}
# ignored WHAT: a run that must work as without a record, and not use it.
ignored() {
	dsandbox --image "$T_DIR/a.tar"
	check_image_run
	assert_not_contains "$OUT" forged "$1"
	used && fail "$1: the record was used"
	the_record > /dev/null || fail "$1: no record written anew"
	jq -e '.layers | length == 2' "$(the_record)" > /dev/null || fail "$1: the record was not written anew"
}

test_bad_records_ignored() {
	fresh
	ensure_images
	cp "$IMAGES/oci.tar" "$T_DIR/a.tar"
	settle
	dsandbox --image "$T_DIR/a.tar"
	local r; r=$(the_record)
	[ -n "$r" ] || fail "no record: $OUT"
	echo garbage > "$r"
	ignored "a corrupt record"
	forge 'r["config"] = r["config"].replace("from-image-cmd", "forged")' keep-digest
	ignored "a config that does not match its digest"
	forge 'r["config"] = r["config"].replace("from-image-cmd", "forged")'
	chmod 0666 "$r"
	ignored "a record writable by others"
	forge 'r["layers"][0] = "../../../../etc"'
	ignored "a layer that is not a digest"
	forge 'r["layers"][1] = "0" * 64'
	ignored "a layer not in the cache"
	forge 'r["v"] = 2'
	ignored "another version"
	forge 'r["ctime"] -= 1'
	ignored "another ctime"
	# the control: a forged config with the right digest, in a record of ours, is
	# used (the record is the cache's, as trusted as its layers): so the refusals
	# above are for the reasons given, not for any change
	forge 'r["config"] = r["config"].replace("from-image-cmd", "forged")'
	dsandbox --image "$T_DIR/a.tar"
	assert_contains "$OUT" forged "the control record"
	used || fail "the control record was not used: $OUT"
	rm -f "$r" && ln -s /etc/hostname "$r"
	local before; before=$(sha256sum < /etc/hostname)
	ignored "a symlink"
	[ -L "$r" ] && fail "the symlink is still there"
	assert_eq "$before" "$(sha256sum < /etc/hostname)" "the symlink's target"
	rm -f "$r" && mkfifo "$r"
	ignored "a FIFO"
	assert_sandbox_clean
}

test_concurrent_fill() {
	ensure_images
	cp "$IMAGES/oci.tar" "$T_DIR/a.tar"
	assert_ok silo sandbox --prune
	settle
	local i pids=()
	for i in 1 2 3; do
		"$SILO" --root "$ROOT" --debug sandbox --image "$T_DIR/a.tar" > "$T_DIR/c$i.out" 2>&1 < /dev/null &
		pids+=($!)
	done
	for i in 1 2 3; do
		wait "${pids[$((i - 1))]}" || fail "sandbox $i exited $?: $(cat "$T_DIR/c$i.out")"
		assert_contains "$(cat "$T_DIR/c$i.out")" from-image-cmd "sandbox $i"
	done
	assert_eq 1 "$(ls -A "$INDEX_DIR" | wc -l)" "entries of $INDEX_DIR: $(ls -A "$INDEX_DIR")"
	jq -e '.layers | length == 2' "$(the_record)" > /dev/null || fail "the record: $(cat "$(the_record)")"
	dsandbox --image "$T_DIR/a.tar"
	check_image_run
	used || fail "the record was not used after the concurrent runs: $OUT"
	assert_ok silo sandbox --prune
	[ -e "$INDEX_DIR" ] && [ -n "$(ls -A "$INDEX_DIR")" ] && fail "records left after --prune: $(ls -A "$INDEX_DIR")"
	dsandbox --image "$T_DIR/a.tar"
	check_image_run
	used && fail "a record was used after --prune"
	assert_sandbox_clean
}

run_test record_used test_record_used
run_test fresh_archive_not_recorded test_fresh_archive_not_recorded
run_test swapped_archive_read_again test_swapped_archive_read_again
run_test bad_records_ignored test_bad_records_ignored
run_test concurrent_fill test_concurrent_fill
finish
