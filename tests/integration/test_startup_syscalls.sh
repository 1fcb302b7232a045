#!/bin/bash
# The create path does no work it does not need (issue #19: every system call of
# `run` justified): checked on an strace of one `run` of the default config.
. "$(dirname "$0")/../lib/common.sh"
SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

# strace_run CALLS BUNDLE ID: strace -f -e trace=CALLS of `silo run`, the trace in
# $T_DIR/trace (only the calls looked at: strace slows every traced call down).
strace_run() {
	env "$(traced_asan_env)" strace -f -e trace="$1" -o "$T_DIR/trace" "$SILO" --root "$ROOT" run --bundle "$2" "$3" > "$T_DIR/out" 2>&1 < /dev/null ||
		fail "run under strace failed: $(show "$(cat "$T_DIR/out")")"
}

test_no_time_zone() {
	need_cmd strace
	local id b=$T_DIR/b created now
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'true'
	strace_run open,openat,openat2 "$b" "$id"
	# state.json's `created` is UTC: no time zone file is read for it.
	assert_not_contains "$(grep -E 'open.*(localtime|zoneinfo)' "$T_DIR/trace")" localtime "time zone files opened"
	# ... and the timestamp is still right (RFC 3339, UTC, now).
	id=$(new_id)
	silo run --keep --bundle "$b" "$id" > /dev/null 2>&1 < /dev/null
	created=$(state_field "$id" created)
	assert_match "$created" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$' "created"
	now=$(date -u +%s)
	local t
	t=$(date -u -d "${created%.*}Z" +%s) || fail "date cannot read created=$created"
	[ $((now - t)) -ge 0 ] && [ $((now - t)) -le 30 ] || fail "created=$created is not now ($(date -u +%FT%TZ))"
	assert_ok silo delete "$id"
}

test_device_nodes_made_once() {
	need_cmd strace
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty'
	strace_run unlinkat,mknodat "$b" "$id"
	# /dev is the config's fresh tmpfs: nothing to replace, no failing unlink first.
	assert_eq 0 "$(grep -cE 'unlinkat\(.*"(null|zero|full|random|urandom|tty)".*ENOENT' "$T_DIR/trace")" \
		"unlinks of device nodes that do not exist"
	assert_eq 6 "$(grep -c '^c' "$T_DIR/out")" "device nodes in the container: $(cat "$T_DIR/out")"
	assert_contains "$(cat "$T_DIR/out")" "crw-rw-rw-" "mode of the nodes"
}

test_device_node_replaced() {
	# A node's name that exists in the rootfs's own /dev (no tmpfs on /dev) is replaced.
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.mounts |= map(select(.destination != "/dev" and (.destination | startswith("/dev/") | not)))'
	mkdir -p "$b/rootfs/dev"
	echo stale > "$b/rootfs/dev/null"
	set_args "$b" 'ls -l /dev/null; echo x > /dev/null && echo written'
	jq_edit "$b" '.root.readonly = false'
	capture silo run --bundle "$b" "$id"
	[ "$RC" -eq 0 ] || fail "run exited $RC: $(show "$OUT")"
	assert_match "$OUT" '^c' "/dev/null replaced by a device node"
	assert_contains "$OUT" written "/dev/null writable"
}

test_signals_reset_without_failures() {
	need_cmd strace
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	# No shell in between: busybox sh ignores SIGQUIT for what it starts.
	jq_edit "$b" '.process.args = ["grep", "-E", "^Sig(Ign|Cgt)", "/proc/self/status"]'
	# silo started with SIGUSR1 and SIGHUP ignored: the program still gets defaults.
	(trap '' USR1 HUP QUIT; strace_run rt_sigaction "$b" "$id")
	assert_contains "$(cat "$T_DIR/out")" "SigIgn:	0000000000000000" "the container's ignored signals"
	# ... and no call that can only fail (SIGKILL, SIGSTOP cannot be changed).
	assert_eq 0 "$(grep -c 'rt_sigaction(SIG\(KILL\|STOP\),.*EINVAL' "$T_DIR/trace")" "failing rt_sigaction calls"
}

# glibc keeps signals 32 and 33 for itself (sigaction refuses them), but a caller
# can leave them ignored (CI harnesses do): the container must still start with
# every disposition at its default.  The raw system call sets them up here.
test_reserved_signals_reset() {
	need_cmd python3
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	jq_edit "$b" '.process.args = ["grep", "-E", "^SigIgn", "/proc/self/status"]'
	python3 - "$SILO" --root "$ROOT" run --bundle "$b" "$id" > "$T_DIR/out" 2>&1 < /dev/null <<-'PY' ||
		import ctypes, os, sys
		libc = ctypes.CDLL(None, use_errno=True)
		ksa = (ctypes.c_ulong * 4)(1, 0, 0, 0)  # SIG_IGN, no flags, no restorer, empty mask
		for s in (32, 33):
		    if libc.syscall(13 if os.uname().machine == "x86_64" else 134, s, ksa, None, 8) != 0:
		        sys.exit("rt_sigaction %d: errno %d" % (s, ctypes.get_errno()))
		os.execv(sys.argv[1], sys.argv[1:])
	PY
		fail "run with signals 32 and 33 ignored failed: $(show "$(cat "$T_DIR/out")")"
	assert_contains "$(cat "$T_DIR/out")" "SigIgn:	0000000000000000" "the container's ignored signals"
}

# exec's child shares silo's memory (clone3 CLONE_VM|CLONE_VFORK, spawn.c) instead of
# a forked copy, whose page faults were a quarter of exec's CPU time; the child still
# enters the cgroups itself, and silo does not write cgroup.procs after it.  Not in
# sanitizer builds, which keep the forked child.
test_exec_child_shares_memory() {
	need_cmd strace
	ldd "$SILO" 2>/dev/null | grep -q -e libasan -e libubsan && skip "sanitizer build: forked child"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" ready
	env "$(traced_asan_env)" strace -f -e trace=clone3,clone,fork,vfork,openat -o "$T_DIR/trace" \
		"$SILO" --root "$ROOT" exec "$id" sh -c 'echo exec-ran; exit 5' > "$T_DIR/out" 2>&1 < /dev/null
	local rc=$?
	assert_eq 5 "$rc" "exec's exit status ($(show "$(cat "$T_DIR/out")"))"
	assert_contains "$(cat "$T_DIR/out")" exec-ran
	local clones
	clones=$(grep -E 'clone3?\(|fork\(' "$T_DIR/trace")
	assert_eq 1 "$(grep -c . <<< "$clones")" "processes cloned by silo: $(show "$clones")"
	assert_contains "$clones" CLONE_VM "exec's clone"
	assert_contains "$clones" CLONE_VFORK "exec's clone"
	assert_eq 0 "$(grep -c 'cgroup.procs' "$T_DIR/trace")" "cgroup.procs opened: $(show "$(grep cgroup.procs "$T_DIR/trace")")"
}

run_test no_time_zone test_no_time_zone
run_test reserved_signals_reset test_reserved_signals_reset
run_test signals_reset_without_failures test_signals_reset_without_failures
run_test device_nodes_made_once test_device_nodes_made_once
run_test device_node_replaced test_device_node_replaced
run_test exec_child_shares_memory test_exec_child_shares_memory
finish
