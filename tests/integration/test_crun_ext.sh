#!/bin/bash
# crun's extensions that Podman uses: the run.oci.* annotations
# (keep_original_groups, hooks.stdout/stderr, seccomp_fail_unknown_syscall),
# `delete --regex`, and a user namespace without uidMappings/gidMappings.
. "$(dirname "$0")/../lib/common.sh"

# Groups of the container's process, as the kernel reports them.
GROUPS_SCRIPT='grep "^Groups:" /proc/self/status | cut -f2 | sed "s/ *$//"'

# run.oci.keep_original_groups: the process keeps silo's supplementary groups.
test_keep_original_groups() {
	silo_only "a crun extension"
	need_cmd setpriv
	local id b=$T_DIR/b
	make_bundle "$b" '.process.user.additionalGids = [7]
		| .annotations["run.oci.keep_original_groups"] = "1"'
	set_args "$b" "$GROUPS_SCRIPT"
	id=$(new_id)
	capture setpriv --groups 1234,5678 "$SILO" --root "$ROOT" run --bundle "$b" "$id"
	[ "$RC" -eq 0 ] || fail "run exited $RC: $(show "$OUT")"
	assert_eq "1234 5678" "$(tail -n1 <<< "$OUT")" "groups with keep_original_groups"
	# exec keeps the groups of the silo exec that starts the process
	set_args "$b" 'sleep 100'
	id=$(new_id)
	run_detached "$id" "$b"
	capture setpriv --groups 42 "$SILO" --root "$ROOT" exec "$id" sh -c "$GROUPS_SCRIPT"
	[ "$RC" -eq 0 ] || fail "exec exited $RC: $(show "$OUT")"
	assert_eq "42" "$(tail -n1 <<< "$OUT")" "groups of an exec'd process with keep_original_groups"
	assert_ok silo delete --force "$id"
	set_args "$b" "$GROUPS_SCRIPT"
	# Without the annotation the config's groups replace them.
	jq_edit "$b" 'del(.annotations["run.oci.keep_original_groups"])'
	id=$(new_id)
	capture setpriv --groups 1234,5678 "$SILO" --root "$ROOT" run --bundle "$b" "$id"
	[ "$RC" -eq 0 ] || fail "run exited $RC: $(show "$OUT")"
	assert_eq "7" "$(tail -n1 <<< "$OUT")" "groups without the annotation"
	assert_no_leftovers "$id"
}

# run.oci.hooks.stdout/stderr: every hook's output is appended to the files,
# the startContainer hook's too (it runs in the container, after pivot_root).
test_hooks_output_files() {
	silo_only "a crun extension"
	local id b=$T_DIR/b hooks k
	make_bundle "$b"
	echo "before" > "$T_DIR/hooks.out"
	hooks='{}'
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		hooks=$(jq --arg k "$k" '.[$k] = [{path: "/bin/sh", args: ["sh", "-c", "cat >/dev/null; echo out-\($k); echo err-\($k) >&2"]}]' <<< "$hooks")
	done
	jq_edit "$b" '.hooks = $h | .annotations["run.oci.hooks.stdout"] = $o | .annotations["run.oci.hooks.stderr"] = $e' \
		--argjson h "$hooks" --arg o "$T_DIR/hooks.out" --arg e "$T_DIR/hooks.err"
	set_args "$b" 'echo container-ran'
	id=$(new_id)
	assert_ok silo run --bundle "$b" "$id"
	assert_contains "$OUT" container-ran
	assert_not_contains "$OUT" out-prestart "hook output on silo's output"
	assert_eq "before" "$(head -n1 "$T_DIR/hooks.out")" "the stdout file is appended to"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		grep -qx "out-$k" "$T_DIR/hooks.out" || fail "no out-$k in the stdout file: $(show "$(cat "$T_DIR/hooks.out")")"
		grep -qx "err-$k" "$T_DIR/hooks.err" || fail "no err-$k in the stderr file: $(show "$(cat "$T_DIR/hooks.err" 2>/dev/null)")"
		! grep -qx "err-$k" "$T_DIR/hooks.out" || fail "err-$k in the stdout file"
	done
	assert_eq 644 "$(stat -c %a "$T_DIR/hooks.err")" "mode of the created stderr file"
	assert_no_leftovers "$id"
}

# Without hooks the annotation opens (creates) nothing: the annotations may come
# from whoever writes a pod's annotations, the hooks only from the engine.
test_hooks_output_file_without_hooks() {
	silo_only "a crun extension"
	local b=$T_DIR/b
	make_bundle "$b" 'del(.hooks) | .annotations["run.oci.hooks.stdout"] = $o' --arg o "$T_DIR/not-made"
	run_ok "$b" 'true'
	assert_no_file "$T_DIR/not-made"
}

# The features document lists the run.oci. prefix as potentially unsafe, so that
# containerd can keep such annotations away from untrusted pods.
test_features_unsafe_annotations() {
	silo_only "silo's features document"
	local out
	out=$(silo features) || fail "features failed"
	jq -e '.potentiallyUnsafeConfigAnnotations | index("run.oci.")' <<< "$out" >/dev/null ||
		fail "run.oci. not in potentiallyUnsafeConfigAnnotations: $(show "$out")"
}

# A failing hook whose output went to the file still fails create, with the
# exit status in the error.
test_hooks_output_file_failing_hook() {
	silo_only "a crun extension"
	local id b=$T_DIR/b
	make_bundle "$b" '.hooks.createRuntime = [{path: "/bin/sh", args: ["sh", "-c", "echo boom; exit 3"]}]
		| .annotations["run.oci.hooks.stdout"] = $o' --arg o "$T_DIR/hooks.out"
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "status 3"
	assert_eq boom "$(cat "$T_DIR/hooks.out")" "the failing hook's output"
	assert_no_leftovers "$id"
}

# A file that cannot be opened fails create, naming the annotation.
test_hooks_output_file_unopenable() {
	silo_only "a crun extension"
	local id b=$T_DIR/b
	make_bundle "$b" '.hooks.prestart = [{path: "/bin/true"}]
		| .annotations["run.oci.hooks.stderr"] = $o' --arg o "$T_DIR/no/such/dir/f"
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "run.oci.hooks.stderr"
	assert_no_leftovers "$id"
}

# run.oci.seccomp_fail_unknown_syscall: an unknown name is an error, not skipped.
test_seccomp_fail_unknown_syscall() {
	silo_only "a crun extension"
	local id b=$T_DIR/b
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
		"syscalls":[{"names":["mkdir","mkdirat","silo_no_such_syscall"],"action":"SCMP_ACT_ERRNO"}]}'
	set_args "$b" 'mkdir /dev/shm/x 2>&1; echo done'
	# skipped by default (runc's behaviour)
	run_ok "$b" 'mkdir /dev/shm/x 2>&1; echo done'
	assert_contains "$OUT" "Operation not permitted"
	jq_edit "$b" '.annotations["run.oci.seccomp_fail_unknown_syscall"] = "1"'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'linux.seccomp.syscalls[0].names[2]: unknown syscall `silo_no_such_syscall`'
	assert_no_leftovers "$id"
	# the cache of compiled filters must not hide the error: run it twice
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "silo_no_such_syscall"
	assert_no_leftovers "$id"
}

# delete --regex: every matching container, running ones only with --force.
test_delete_regex() {
	silo_only "a crun extension"
	local b=$T_DIR/b p="rx$$-$RANDOM" i
	make_bundle "$b"
	set_args "$b" 'sleep 100'
	for i in a1 a2 b1; do track_id "$p-$i"; create_ct "$p-$i" "$b"; done
	# created (not running) containers are deleted without --force, as one
	# id would be; the ones that do not match stay
	assert_ok silo delete --regex "^$p-a[0-9]\$"
	assert_fail silo state "$p-a1"
	assert_fail silo state "$p-a2"
	assert_ok silo state "$p-b1"
	# a running container needs --force, and the error names it
	assert_ok silo start "$p-b1"
	wait_status "$p-b1" running
	assert_fail silo delete --regex "^$p-"
	assert_contains "$OUT" "$p-b1"
	assert_ok silo state "$p-b1"
	assert_ok silo delete --force --regex "^$p-"
	assert_fail silo state "$p-b1"
	# no match is no error; a bad regex is
	assert_ok silo delete --regex "^$p-nothing"
	assert_fail silo delete --regex "("
	assert_contains "$OUT" "--regex"
	# an ID and --regex together are refused
	assert_fail silo delete --regex "^$p" "$p-a1"
	assert_no_leftovers "$p-a1"
	assert_no_leftovers "$p-b1"
}

# A new user namespace without uidMappings/gidMappings: crun maps the user silo
# runs as (here root) to root in the container, one id ("0 0 1") when
# /etc/subuid grants it no range.
test_userns_without_mappings() {
	silo_only "crun's default mapping"
	local b=$T_DIR/b
	[ "$(id -u)" = 0 ] || skip "needs root"
	if grep -q "^root:" /etc/subuid 2>/dev/null; then skip "root has a range in /etc/subuid"; fi
	# devpts' gid=5 is not mapped by "0 0 1": dropped, as in a rootless spec
	make_bundle "$b" '.linux.namespaces += [{"type":"user"}] | del(.linux.uidMappings, .linux.gidMappings)
		| (.mounts[] | select(.type == "devpts") | .options) |= map(select(. != "gid=5"))'
	run_ok "$b" 'cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user'
	assert_eq "0 0 1 0 0 1" "$(head -n2 <<< "$OUT" | tr -s ' \n' ' ' | sed 's/^ //;s/ $//')" "maps"
	assert_ne "$(host_ns user)" "$(tail -n1 <<< "$OUT")" "user namespace"
}

run_test keep_original_groups test_keep_original_groups
run_test hooks_output_files test_hooks_output_files
run_test hooks_output_file_without_hooks test_hooks_output_file_without_hooks
run_test features_unsafe_annotations test_features_unsafe_annotations
run_test hooks_output_file_failing_hook test_hooks_output_file_failing_hook
run_test hooks_output_file_unopenable test_hooks_output_file_unopenable
run_test seccomp_fail_unknown_syscall test_seccomp_fail_unknown_syscall
run_test delete_regex test_delete_regex
run_test userns_without_mappings test_userns_without_mappings
