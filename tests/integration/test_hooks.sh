#!/bin/bash
# OCI hooks: prestart, createRuntime, createContainer, startContainer,
# poststart, poststop; state on stdin, order, env, failure, timeout.
. "$(dirname "$0")/../lib/common.sh"

# hook KIND DIR_ON_HOST: a hook (JSON) that saves its stdin to KIND.json and
# appends KIND to "order", in DIR_ON_HOST, or in /out when that is not
# reachable (startContainer runs inside the container, after pivot_root).
hook() {
	local kind=$1 dir=$2
	jq -n --arg k "$kind" --arg d "$dir" '{path: "/bin/sh", args: ["sh", "-c",
		"s=$(cat); d=\($d); [ -d \"$d\" ] || d=/out; printf %s \"$s\" > \"$d/\($k).json\"; echo \($k) >> \"$d/order\"; echo \"$HOOKVAR\" > \"$d/\($k).env\""],
		env: ["HOOKVAR=hookvar-\($k)", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}'
}

# all_hooks_bundle B: a bundle whose six hook kinds record into B/out.
all_hooks_bundle() {
	local b=$1 k hooks='{}'
	make_bundle "$b"
	add_out_mount "$b"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		hooks=$(jq --arg k "$k" --argjson h "$(hook "$k" "$b/out")" '.[$k] = [$h]' <<< "$hooks")
	done
	jq_edit "$b" '.hooks = $h' --argjson h "$hooks"
}

# The order the OCI spec asks for.  runc 1.1 runs poststart hooks at the end
# of `create` instead of after the process starts (fixed in runc 1.2), so
# with runc the poststart position is not checked.
SPEC_ORDER="prestart createRuntime createContainer startContainer poststart poststop"
check_order() {   # DIR
	local got; got=$(tr '\n' ' ' < "$1/order" | sed 's/ $//')
	if is_runc; then got=$(sed 's/ poststart//' <<< "$got"); assert_eq "${SPEC_ORDER/ poststart/}" "$got" "hook order (poststart not checked with runc)"
	else assert_eq "$SPEC_ORDER" "$got" "hook order"; fi
}

test_all_hooks_order_and_state() {
	local id b=$T_DIR/b k pid
	id=$(new_id)
	all_hooks_bundle "$b"
	set_args "$b" 'echo ready; while [ ! -e /tmp/go ]; do sleep 0.05; done'
	create_ct "$id" "$b"
	pid=$(state_field "$id" pid)
	# create runs prestart, createRuntime and createContainer
	for k in prestart createRuntime createContainer; do assert_file_exists "$b/out/$k.json"; done
	for k in startContainer poststop; do assert_no_file "$b/out/$k.json"; done
	is_runc || assert_no_file "$b/out/poststart.json"
	assert_ok silo start "$id"
	wait_output "$id" ready
	for k in startContainer poststart; do assert_file_exists "$b/out/$k.json"; done
	assert_no_file "$b/out/poststop.json"
	touch "$b/rootfs/tmp/go"
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	assert_file_exists "$b/out/poststop.json"

	check_order "$b/out"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e . "$b/out/$k.json" >/dev/null 2>&1 || fail "$k hook stdin is not JSON: $(cat "$b/out/$k.json")"
		assert_eq "$id" "$(jq -r .id "$b/out/$k.json")" "id in $k state"
		assert_eq "$b" "$(jq -r .bundle "$b/out/$k.json")" "bundle in $k state"
		assert_eq "hookvar-$k" "$(cat "$b/out/$k.env")" "env of the $k hook"
		jq -e '.ociVersion | type == "string"' "$b/out/$k.json" >/dev/null || fail "$k state lacks ociVersion"
	done
	for k in prestart createRuntime poststart; do
		assert_eq "$pid" "$(jq -r .pid "$b/out/$k.json")" "pid in $k state"
	done
	# hooks run inside the container may see the pid from either side of the pid namespace
	for k in createContainer startContainer; do
		assert_match "$(jq -r .pid "$b/out/$k.json")" "^($pid|1)\$" "pid in $k state"
	done
	for k in prestart createRuntime createContainer; do
		assert_eq creating "$(jq -r .status "$b/out/$k.json")" "status in $k state"
	done
	assert_eq created "$(jq -r .status "$b/out/startContainer.json")" "status in startContainer state"
	is_runc || assert_eq running "$(jq -r .status "$b/out/poststart.json")" "status in poststart state"
	assert_eq stopped "$(jq -r .status "$b/out/poststop.json")" "status in poststop state"
}

test_hooks_with_run() {
	local id b=$T_DIR/b
	id=$(new_id)
	all_hooks_bundle "$b"
	set_args "$b" 'echo ran'
	assert_ok silo run --bundle "$b" "$id"
	assert_contains "$OUT" ran
	check_order "$b/out"
	assert_no_leftovers "$id"
}

test_poststop_on_delete_force() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	jq_edit "$b" '.hooks.poststop = [$h]' --argjson h "$(hook poststop "$b/out")"
	set_args "$b" 'trap "exit 0" TERM; while :; do sleep 0.05; done'
	run_detached "$id" "$b"
	wait_status "$id" running
	assert_ok silo delete --force "$id"
	assert_file_exists "$b/out/poststop.json"
	assert_eq "$id" "$(jq -r .id "$b/out/poststop.json")" "id in poststop state"
	assert_no_leftovers "$id"
}

test_failing_create_runtime_hook() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.createRuntime = [{"path":"/bin/sh","args":["sh","-c","echo hook-says-no >&2; exit 7"]}]'
	add_out_mount "$b"
	jq_edit "$b" '.hooks.poststop = [$h]' --argjson h "$(hook poststop "$b/out")"
	set_args "$b" 'echo should-not-run'
	capture silo create --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "create succeeded although the createRuntime hook failed"
	assert_not_contains "$OUT" should-not-run
	assert_no_leftovers "$id"
}

test_failing_prestart_hook_with_run() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.prestart = [{"path":"/bin/false"}]'
	set_args "$b" 'echo should-not-run'
	assert_fail silo run --bundle "$b" "$id"
	assert_not_contains "$OUT" should-not-run
	assert_no_leftovers "$id"
}

test_failing_create_container_hook() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.createContainer = [{"path":"/bin/sh","args":["sh","-c","exit 1"]}]'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

# procs_running_exe PATH: is any process running the executable PATH?
procs_running_exe() {
	local e
	for e in /proc/[0-9]*/exe; do
		[ "$(readlink "$e" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}

test_hook_timeout() {
	local id b=$T_DIR/b t0
	id=$(new_id)
	cp "$BUSYBOX" "$T_DIR/slow-hook"   # a private executable, to find the hook process by
	make_bundle "$b" '.hooks.createRuntime = [{"path":$p,"args":["sleep","30"],"timeout":1}]' --arg p "$T_DIR/slow-hook"
	t0=$SECONDS
	assert_fail silo create --bundle "$b" "$id"
	[ $((SECONDS - t0)) -lt 15 ] || fail "create took $((SECONDS - t0))s: hook timeout (1s) not honoured"
	assert_no_leftovers "$id"
	wait_for 5 eval '! procs_running_exe "$T_DIR/slow-hook"' || fail "the timed-out hook is still running"
}

test_hook_missing_binary() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.createRuntime = [{"path":"/nonexistent/hook"}]'
	assert_fail silo create --bundle "$b" "$id"
	assert_no_leftovers "$id"
}

test_failing_poststop_hook_does_not_block_delete() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.poststop = [{"path":"/bin/false"}]'
	create_ct "$id" "$b"
	capture silo delete --force "$id"
	assert_no_leftovers "$id"
}

# big_annotations BUNDLE: some 200 KiB of annotations, so the state given to
# hooks is bigger than a pipe buffer.
big_annotations() {
	local v
	v=$(head -c 2048 /dev/zero | tr '\0' x)
	jq_edit "$1" '.annotations = ([range(100)] | map({key: "a\(.)", value: $v}) | from_entries)' --arg v "$v"
}

# A hook that exits at once without reading its stdin (/bin/true) while silo is
# still writing a state larger than the pipe: silo must not die of SIGPIPE (exit
# 141, no message, state and cgroup left behind); the hook is judged by its exit
# status alone.  Hooks that do read get the whole state.
test_hook_exits_without_reading_big_state() {
	local id b=$T_DIR/b k hooks='{}' rd size
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	big_annotations "$b"
	rd='{"path":"/bin/sh","args":["sh","-c","cat > \"$0\"", "'"$b/out"'/read.json"]}'
	for k in prestart createRuntime poststart poststop; do
		hooks=$(jq --arg k "$k" --argjson r "$rd" '.[$k] = [{path: "/bin/true"}, {path: "/bin/true"}, $r]' <<< "$hooks")
	done
	jq_edit "$b" '.hooks = $h' --argjson h "$hooks"
	set_args "$b" 'echo ready; while :; do sleep 0.05; done'
	create_ct "$id" "$b"
	size=$(stat -c %s "$b/out/read.json")
	[ "$size" -gt 200000 ] || fail "the reading hook got $size bytes of state, not all of it"
	jq -e --arg id "$id" '.id == $id and (.annotations | length) == 100' "$b/out/read.json" >/dev/null ||
		fail "the reading hook got a broken state"
	assert_ok silo start "$id"
	wait_output "$id" ready
	assert_eq running "$(status_of "$id")" "status after start"
	rm -f "$b/out/read.json"
	assert_ok silo delete --force "$id"
	jq -e --arg id "$id" '.id == $id and .status == "stopped"' "$b/out/read.json" >/dev/null ||
		fail "the poststop hook got a broken state"
	assert_no_leftovers "$id"
}

# The same with a failing hook: create fails with the hook's status, not 141.
test_failing_hook_without_reading_big_state() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.hooks.createRuntime = [{"path":"/bin/sh","args":["sh","-c","exit 3"]}]'
	big_annotations "$b"
	capture silo create --bundle "$b" "$id"
	assert_eq 1 "$RC" "exit status of create"
	silo_only
	assert_contains "$OUT" "exited with status 3" "create's error"
	assert_no_leftovers "$id"
}

# A failing poststart or poststop hook is a warning: the hooks after it still
# run, start and delete succeed, and the container keeps running after start.
test_failing_poststart_hook_continues() {
	local id b=$T_DIR/b pid
	silo_only "runc 1.1 kills the container and fails when a poststart hook fails"
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	jq_edit "$b" '.hooks.poststart = [{"path":"/bin/sh","args":["sh","-c","echo poststart-says-no >&2; exit 5"]}, $h]' \
		--argjson h "$(hook poststart "$b/out")"
	set_args "$b" 'echo ready; while :; do sleep 0.05; done'
	create_ct "$id" "$b"
	pid=$(state_field "$id" pid)
	assert_ok silo start "$id"
	assert_contains "$OUT" "poststart-says-no" "start's warning"
	assert_contains "$OUT" "hooks.poststart[0]" "start's warning"
	assert_file_exists "$b/out/poststart.json"
	wait_output "$id" ready
	assert_eq running "$(status_of "$id")" "status after a failing poststart hook"
	pid_alive "$pid" || fail "the container process died after a failing poststart hook"
}

test_failing_poststart_hook_with_run() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	jq_edit "$b" '.hooks.poststart = [{"path":"/bin/false"}, $h]' --argjson h "$(hook poststart "$b/out")"
	set_args "$b" 'echo ran'
	capture silo run --bundle "$b" "$id"
	silo_only "runc 1.1 fails run when a poststart hook fails"
	assert_eq 0 "$RC" "exit status of run with a failing poststart hook ($OUT)"
	assert_contains "$OUT" ran
	assert_file_exists "$b/out/poststart.json"
	assert_no_leftovers "$id"
}

test_failing_poststop_hook_continues() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	jq_edit "$b" '.hooks.poststop = [{"path":"/bin/false"}, $h]' --argjson h "$(hook poststop "$b/out")"
	create_ct "$id" "$b"
	capture silo delete --force "$id"
	silo_only "runc 1.1 stops at the first failing poststop hook"
	assert_eq 0 "$RC" "exit status of delete with a failing poststop hook ($OUT)"
	assert_contains "$OUT" "hooks.poststop[0]" "delete's warning"
	assert_file_exists "$b/out/poststop.json"
	assert_no_leftovers "$id"
}

# Hooks without `env` inherit the runtime's environment (runc, crun); with
# `env` they get exactly that.
test_hook_env_inherited() {
	local id b=$T_DIR/b k hooks='{}' noenv withenv
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		noenv=$(jq -n --arg k "$k" --arg d "$b/out" '{path: "/bin/sh", args: ["sh", "-c",
			"d=\($d); [ -d \"$d\" ] || d=/out; echo \"${SILO_HOOK_TEST:-unset}\" > \"$d/\($k).noenv\""]}')
		withenv=$(jq -n --arg k "$k" --arg d "$b/out" '{path: "/bin/sh", env: ["ONLY=1"], args: ["sh", "-c",
			"d=\($d); [ -d \"$d\" ] || d=/out; echo \"${SILO_HOOK_TEST:-unset} $ONLY\" > \"$d/\($k).withenv\""]}')
		hooks=$(jq --arg k "$k" --argjson a "$noenv" --argjson w "$withenv" '.[$k] = [$a, $w]' <<< "$hooks")
	done
	jq_edit "$b" '.hooks = $h' --argjson h "$hooks"
	set_args "$b" 'echo ran'
	SILO_HOOK_TEST=from-runtime assert_ok silo run --bundle "$b" "$id"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		assert_eq from-runtime "$(cat "$b/out/$k.noenv" 2>/dev/null)" "environment of a $k hook without env"
		assert_eq "unset 1" "$(cat "$b/out/$k.withenv" 2>/dev/null)" "environment of a $k hook with env"
	done
	assert_no_leftovers "$id"
}

run_test all_hooks_order_and_state test_all_hooks_order_and_state
run_test hooks_with_run test_hooks_with_run
run_test poststop_on_delete_force test_poststop_on_delete_force
run_test failing_create_runtime_hook test_failing_create_runtime_hook
run_test failing_prestart_hook_with_run test_failing_prestart_hook_with_run
run_test failing_create_container_hook test_failing_create_container_hook
run_test hook_timeout test_hook_timeout
run_test hook_missing_binary test_hook_missing_binary
run_test failing_poststop_hook_does_not_block_delete test_failing_poststop_hook_does_not_block_delete
run_test hook_exits_without_reading_big_state test_hook_exits_without_reading_big_state
run_test failing_hook_without_reading_big_state test_failing_hook_without_reading_big_state
run_test failing_poststart_hook_continues test_failing_poststart_hook_continues
run_test failing_poststart_hook_with_run test_failing_poststart_hook_with_run
run_test failing_poststop_hook_continues test_failing_poststop_hook_continues
run_test hook_env_inherited test_hook_env_inherited
