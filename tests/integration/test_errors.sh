#!/bin/bash
# Failure cases: every one must exit non-zero with a useful message and leave
# nothing behind (state, processes, cgroups, mounts).
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
NOT_EXIST='does not exist|not exist|not found|no such'

test_missing_config() {
	local id b=$T_DIR/b
	id=$(new_id)
	mkdir -p "$b"
	assert_fail silo create --bundle "$b" "$id"
	assert_match "$OUT" 'config.json' "error names config.json"
	assert_no_leftovers "$id"
	assert_fail silo run --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_missing_bundle_dir() {
	local id
	id=$(new_id)
	assert_fail silo create --bundle "$T_DIR/no-such-bundle" "$id"
	assert_no_leftovers "$id"
}

test_invalid_json() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	echo '{"ociVersion": "1.0.2", "process": {bad' > "$b/config.json"
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
	: > "$b/config.json"
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_wrong_type() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.args = "sh -c true"'
	assert_fail silo create --bundle "$b" "$id"
	# runc: "cannot unmarshal string into Go struct field Process.process.args"
	assert_contains "$OUT" process.args "error names the JSON path"
	assert_no_leftovers "$id"
}

test_wrong_type_exact_path() {
	silo_only "exact JSON path in the message"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.rlimits[0].soft = "lots"'
	assert_fail silo create --bundle "$b" "$id"
	assert_contains "$OUT" "process.rlimits[0].soft" "error names the JSON path"
	make_bundle "$b" '.linux.namespaces = {"type":"pid"}'
	assert_fail silo create --bundle "$b" "$id"
	assert_contains "$OUT" "linux.namespaces" "error names the JSON path"
	assert_no_leftovers "$id"
}

test_missing_rootfs() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.root.path = "no-such-rootfs"'
	assert_fail silo create --bundle "$b" "$id"
	assert_match "$OUT" "no-such-rootfs|$NOT_EXIST" "error about the rootfs"
	assert_no_leftovers "$id"
	assert_no_file "$b/no-such-rootfs"
}

test_missing_process_args() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.args = []'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_duplicate_id() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_fail silo create --bundle "$b" "$id"
	assert_match "$OUT" 'exist' "error about the existing id"
	assert_fail silo run --bundle "$b" "$id"
	# the first container is untouched
	assert_eq running "$(status_of "$id")" "status of the original"
	assert_eq "$pid" "$(state_field "$id" pid)" "pid of the original"
	assert_eq 1 "$(silo list -q | grep -cx "$id")" "entries in list -q"
}

test_invalid_id() {
	local b=$T_DIR/b bad
	make_bundle "$b"
	for bad in "a/b" ".." "../escape" ""; do
		assert_fail silo create --bundle "$b" "$bad"
	done
	assert_no_file "$ROOT/../escape"
	assert_no_file "$WORK/escape"
	assert_eq "" "$(silo list -q)" "containers after invalid ids"
}

test_unknown_id() {
	local id
	id=$(new_id)
	assert_fail silo start "$id"
	assert_match "$OUT" "$NOT_EXIST" "start"
	assert_fail silo state "$id"
	assert_match "$OUT" "$NOT_EXIST" "state"
	assert_fail silo kill "$id"
	assert_match "$OUT" "$NOT_EXIST" "kill"
	assert_fail silo kill "$id" KILL
	assert_fail silo delete "$id"
	assert_match "$OUT" "$NOT_EXIST" "delete"
	capture silo delete --force "$id"   # runc exits 0 here; either way nothing may appear
	assert_no_leftovers "$id"
}

test_bad_signal() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	assert_fail silo kill "$id" NOSUCHSIG
	assert_match "$OUT" 'signal|NOSUCHSIG' "error about the signal"
	assert_fail silo kill "$id" SIGFOO
	assert_fail silo kill "$id" 99
	assert_fail silo kill "$id" -5
	assert_eq running "$(status_of "$id")" "status after bad kills"
}

test_start_twice() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	create_ct "$id" "$b"
	assert_ok silo start "$id"
	wait_status "$id" running
	assert_fail silo start "$id"
	assert_match "$OUT" 'running|created|state' "error about the state"
	assert_eq running "$(status_of "$id")" "status"
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	assert_fail silo start "$id"
	assert_match "$OUT" 'stopped|created|state' "error about starting a stopped container"
}

test_missing_binary() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.args = ["nosuchbinary", "arg"]'
	assert_fail silo create --bundle "$b" "$id"
	assert_match "$OUT" 'no such file or directory|not found' "error for a binary not in PATH"
	assert_contains "$OUT" nosuchbinary "error names the binary"
	assert_no_leftovers "$id"

	id=$(new_id)
	make_bundle "$b" '.process.args = ["/bin/nope"]'
	assert_fail silo run --bundle "$b" "$id"
	assert_match "$OUT" 'no such file or directory|not found' "error for a missing absolute path"
	assert_no_leftovers "$id"
}

test_non_executable_binary() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.args = ["/bin/not-executable"]'
	printf '#!/bin/sh\necho ran\n' > "$b/rootfs/bin/not-executable"   # a new file, not a hard link
	chmod 644 "$b/rootfs/bin/not-executable"
	assert_fail silo run --bundle "$b" "$id"
	assert_match "$OUT" 'permission denied|Permission denied|not executable' "error for a non-executable file"
	assert_not_contains "$OUT" ran
	assert_no_leftovers "$id"
}

test_missing_cwd_is_not_a_dir() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.process.cwd = "/etc/passwd"'
	assert_fail silo run --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_bad_mount() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.mounts += [{"destination":"/data","type":"bind","source":"/no/such/source/dir","options":["rbind"]}]'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
	id=$(new_id)
	make_bundle "$b" '.mounts += [{"destination":"/data","type":"nosuchfs","source":"x"}]'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_bad_namespace_path() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.namespaces |= map(if .type == "network" then .path = "/proc/999999999/ns/net" else . end)'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

# An allocation silo cannot make is refused, not dropped; an empty intelRdt is fine.
test_intel_rdt_refused() {
	silo_only "runc supports Intel RDT"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.intelRdt = {"closID": "silo-test", "l3CacheSchema": "L3:0=f"}'
	assert_fail silo create --bundle "$b" "$id"
	assert_contains "$OUT" "linux.intelRdt: Intel RDT is not supported by silo"
	assert_no_leftovers "$id"
	id=$(new_id)
	jq_edit "$b" '.linux.intelRdt = {} | .process.args = ["true"]'
	assert_ok silo run --bundle "$b" "$id"
	assert_fail silo update --l3-cache-schema "L3:0=f" "$id"
	assert_contains "$OUT" "Intel RDT is not supported by silo"
}

test_unknown_command_and_flag() {
	assert_fail silo no-such-command
	assert_fail silo create --no-such-flag x
	assert_fail silo kill
	assert_fail silo start
}

# An ociVersion of a major version silo does not know is refused, naming the field
# (crun does the same); any 1.x is accepted.
test_unknown_oci_major_version() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.ociVersion = "2.0.0"'
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "ociVersion" "error names the field"
	assert_contains "$OUT" "2.0.0" "error names the version"
	assert_no_leftovers "$id"
	make_bundle "$b" '.ociVersion = "1.9.7-dev"'
	assert_ok silo run --bundle "$b" "$(new_id)"
}

run_test missing_config test_missing_config
run_test missing_bundle_dir test_missing_bundle_dir
run_test invalid_json test_invalid_json
run_test wrong_type test_wrong_type
run_test wrong_type_exact_path test_wrong_type_exact_path
run_test missing_rootfs test_missing_rootfs
run_test missing_process_args test_missing_process_args
run_test duplicate_id test_duplicate_id
run_test invalid_id test_invalid_id
run_test unknown_id test_unknown_id
run_test bad_signal test_bad_signal
run_test start_twice test_start_twice
run_test missing_binary test_missing_binary
run_test non_executable_binary test_non_executable_binary
run_test missing_cwd_is_not_a_dir test_missing_cwd_is_not_a_dir
run_test bad_mount test_bad_mount
run_test bad_namespace_path test_bad_namespace_path
run_test intel_rdt_refused test_intel_rdt_refused
run_test unknown_command_and_flag test_unknown_command_and_flag
run_test unknown_oci_major_version test_unknown_oci_major_version
