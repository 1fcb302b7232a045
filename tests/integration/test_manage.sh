#!/bin/bash
# pause / resume / ps / update / features / exec on a running container.
. "$(dirname "$0")/../lib/common.sh"

# A counter the tests can watch from outside through /proc/PID/root.
COUNTER='trap "exit 0" TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.02; done'

start_counter() {  # ID BUNDLE
	make_bundle "$2" '.root.readonly = false'
	set_args "$2" "$COUNTER"
	run_detached "$1" "$2"
	wait_status "$1" running
	wait_for 10 test -s "/proc/$(state_field "$1" pid)/root/tmp/count" || fail "counter did not start"
}
count_of() { cat "/proc/$(state_field "$1" pid)/root/tmp/count"; }

test_pause_resume() {
	local id b=$T_DIR/b c1 c2 c3
	id=$(new_id)
	start_counter "$id" "$b"
	assert_ok silo pause "$id"
	assert_eq paused "$(status_of "$id")" "status after pause"
	c1=$(count_of "$id"); sleep 0.4; c2=$(count_of "$id")
	assert_eq "$c1" "$c2" "counter while paused"
	# every process is frozen: the kernel says so for the init
	assert_match "$(grep State: "/proc/$(state_field "$id" pid)/status")" 'State:.*(D|S|T)' "init state"
	assert_fail silo pause "$id"
	assert_ok silo resume "$id"
	assert_eq running "$(status_of "$id")" "status after resume"
	sleep 0.3; c3=$(count_of "$id")
	[ "$c3" -gt "$c2" ] || fail "counter did not continue after resume: $c2 -> $c3"
	assert_fail silo resume "$id"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

test_delete_force_paused() {
	local id b=$T_DIR/b
	id=$(new_id)
	start_counter "$id" "$b"
	assert_ok silo pause "$id"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

test_ps() {
	local id b=$T_DIR/b pid out
	id=$(new_id)
	start_counter "$id" "$b"
	pid=$(state_field "$id" pid)
	out=$(silo ps --format json "$id") || fail "ps --format json failed"
	jq -e --argjson p "$pid" 'index($p) != null' <<< "$out" >/dev/null || fail "init $pid not in $out"
	out=$(silo ps "$id") || fail "ps failed"
	assert_match "$(head -n1 <<< "$out")" 'PID' "ps header"
	assert_match "$out" "[[:space:]]$pid[[:space:]]" "ps table has the init"
	# nothing of the host: our own shell is not listed
	assert_not_contains "$(jq -c . <<< "$(silo ps --format json "$id")")" ",$$," "host pid in ps"
	assert_ok silo delete --force "$id"
}

# v1 memory controller directory of a pid, or the unified one.
mem_dir() {
	local line path
	line=$(awk -F: '$2 ~ /(^|,)memory(,|$)/' "/proc/$1/cgroup")
	if [ -n "$line" ]; then echo "/sys/fs/cgroup/memory${line#*:*:}"; return; fi
	line=$(grep '^0::' "/proc/$1/cgroup"); echo "/sys/fs/cgroup${line#0::}"
}

test_update_flags_and_resources() {
	local id b=$T_DIR/b pid dir
	id=$(new_id)
	start_counter "$id" "$b"
	pid=$(state_field "$id" pid)
	dir=$(mem_dir "$pid")
	assert_ok silo update --memory 64m --pids-limit 50 "$id"
	if [ -e "$dir/memory.limit_in_bytes" ]; then
		assert_eq 67108864 "$(cat "$dir/memory.limit_in_bytes")" "memory limit"
	else
		assert_eq 67108864 "$(cat "$dir/memory.max")" "memory.max"
	fi
	local pdir
	pdir=$(awk -F: '$2 ~ /(^|,)pids(,|$)/ {print "/sys/fs/cgroup/pids" $3}' "/proc/$pid/cgroup")
	[ -n "$pdir" ] || pdir=$dir
	assert_eq 50 "$(cat "$pdir/pids.max")" "pids.max"
	echo '{"pids":{"limit":77}}' | silo update --resources - "$id" || fail "update --resources - failed"
	assert_eq 77 "$(cat "$pdir/pids.max")" "pids.max from --resources"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	# The limit is enforced inside: forks beyond it fail.  In a container whose
	# pid 1 never forks (the counter's shell would die of a failed fork of its own,
	# and take the exec'd shell with its pid namespace): sleep, and the exec'd sh.
	local out b2=$T_DIR/b2
	id=$(new_id)
	make_bundle "$b2"
	jq_edit "$b2" '.process.args=["sleep","1000"]'
	run_detached "$id" "$b2"
	wait_status "$id" running
	echo '{"pids":{"limit":2}}' | silo update --resources - "$id" || fail "update pids 2"
	out=$(silo exec "$id" sh -c 'for i in 1 2 3 4 5; do sleep 1 & done; echo forked' 2>&1)
	assert_match "$out" 'fork|Resource temporarily unavailable|can.t fork' "forks beyond pids.max"
	assert_not_contains "$out" forked "the exec'd shell went on after a failed fork"
	assert_eq running "$(status_of "$id")" "the container after its exec hit pids.max"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

test_update_bad_input() {
	local id b=$T_DIR/b
	id=$(new_id)
	start_counter "$id" "$b"
	assert_fail silo update --memory lots "$id"
	echo '{"memory":{"limit":"x"}}' | assert_fail silo update --resources - "$id"
	if ! is_runc; then
		assert_match "$(cat "$T_DIR/last.err" 2>/dev/null; echo '{"memory":{"limit":"x"}}' | silo update --resources - "$id" 2>&1)" 'memory.limit' "error names the field"
	fi
	assert_fail silo update --memory 1m no-such-container
	assert_ok silo delete --force "$id"
}

test_exec_joins_everything() {
	local id b=$T_DIR/b pid out ns
	id=$(new_id)
	start_counter "$id" "$b"
	pid=$(state_field "$id" pid)
	out=$(silo exec "$id" sh -c 'for n in pid net ipc uts mnt cgroup; do echo "$n=$(readlink /proc/self/ns/$n)"; done; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; cat /proc/self/cgroup | head -3') || fail "exec failed: $out"
	for ns in pid net ipc uts mnt; do
		assert_contains "$out" "$ns=$(ns_of "$pid" "$ns")" "$ns namespace of the exec'd process"
	done
	assert_contains "$out" "CapEff:	$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")" "capabilities"
	assert_contains "$out" "NoNewPrivs:	1" "no_new_privs"
	assert_status 7 silo exec "$id" sh -c 'exit 7'
	assert_fail silo exec "$id" /no/such/binary
	assert_contains "$(silo exec "$id" /no/such/binary 2>&1)" "no such file or directory" "exec error text"
	assert_eq "x=1" "$(silo exec -e x=1 "$id" sh -c 'echo x=$x')" "exec --env"
	assert_eq "/tmp" "$(silo exec --cwd /tmp "$id" pwd)" "exec --cwd"
	assert_eq "1000" "$(silo exec --user 1000:1000 "$id" id -u)" "exec --user"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

test_exec_detach_pid_file() {
	local id b=$T_DIR/b p
	id=$(new_id)
	start_counter "$id" "$b"
	# the detached process keeps the stdio it is given: not a pipe we wait on
	silo exec --detach --pid-file "$T_DIR/exec.pid" "$id" sleep 5 </dev/null >/dev/null 2>&1 ||
		fail "exec --detach failed"
	p=$(cat "$T_DIR/exec.pid")
	pid_alive "$p" || fail "exec'd process $p not running"
	assert_eq "$(ns_of "$(state_field "$id" pid)" pid)" "$(ns_of "$p" pid)" "pid namespace of the detached process"
	assert_ok silo delete --force "$id"
	wait_for 10 sh -c "! kill -0 $p 2>/dev/null" || fail "exec.d process $p survived delete"
}

test_features() {
	silo_only "runc 1.1 has features but an older document"
	local out
	out=$(silo features) || fail "features failed"
	jq -e '.ociVersionMin and .ociVersionMax and (.hooks | index("createRuntime"))' <<< "$out" >/dev/null || fail "features: $out"
	jq -e '.linux.namespaces | index("user") and index("time")' <<< "$out" >/dev/null || fail "namespaces in $out"
	jq -e '.linux.seccomp.enabled and (.linux.seccomp.actions | index("SCMP_ACT_NOTIFY"))' <<< "$out" >/dev/null || fail "seccomp in $out"
	jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' <<< "$out" >/dev/null || fail "caps in $out"
	jq -e '(.linux.memoryPolicy.modes | index("MPOL_INTERLEAVE")) and (.linux.memoryPolicy.flags | index("MPOL_F_STATIC_NODES"))' \
		<<< "$out" >/dev/null || fail "memoryPolicy in $out"
}

run_test pause_resume test_pause_resume
run_test delete_force_paused test_delete_force_paused
run_test ps test_ps
run_test update_flags_and_resources test_update_flags_and_resources
run_test update_bad_input test_update_bad_input
run_test exec_joins_everything test_exec_joins_everything
run_test exec_detach_pid_file test_exec_detach_pid_file
run_test features test_features
finish
