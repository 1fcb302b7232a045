#!/bin/bash
# runc command-line parity: where options may go, exit codes, exec's runc flags, kill 0,
# ps of a stopped container, list under concurrent deletes, and the config keys runc's
# Go decoder accepts.  Each test checks what runc 1.1 does in the same case.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

# start_sleeper ID BUNDLE: a running container with a writable root.
start_sleeper() {
	make_bundle "$2" '.root.readonly = false'
	set_args "$2" "$SLEEPER"
	run_detached "$1" "$2"
	wait_status "$1" running
}

# The container's directory in the pids hierarchy (v1) or the unified one.
pids_dir() {
	local line
	line=$(awk -F: '$2 ~ /(^|,)pids(,|$)/' "/proc/$1/cgroup")
	if [ -n "$line" ]; then echo "/sys/fs/cgroup/pids${line#*:*:}"; return; fi
	line=$(grep '^0::' "/proc/$1/cgroup"); echo "/sys/fs/cgroup${line#0::}"
}

# stderr_lines CMD...: run CMD, $OUT its stderr, $RC its status, $LINES stderr's line count.
stderr_lines() {
	OUT=$("$@" 2>&1 >/dev/null) && RC=0 || RC=$?
	LINES=$(printf '%s\n' "$OUT" | grep -c .)
}

test_options_after_id() {
	local id b=$T_DIR/b pid out
	id=$(new_id)
	make_bundle "$b" '.root.readonly = false'
	set_args "$b" "$SLEEPER"
	# runc (urfave/cli) takes a command's options before or after its arguments.
	silo create "$id" --bundle "$b" > "$T_DIR/$id.out" 2>&1 < /dev/null || fail "create ID --bundle: $(ct_output "$id")"
	assert_ok silo start "$id"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_ok silo update "$id" --pids-limit 77
	assert_eq 77 "$(cat "$(pids_dir "$pid")/pids.max")" "pids.max after update ID --pids-limit 77"
	out=$(silo ps "$id" --format json) || fail "ps ID --format json failed: $out"
	jq -e --argjson p "$pid" 'index($p) != null' <<< "$out" >/dev/null || fail "init $pid not in $out"
	# ps: the arguments after ID and --, or from the first option that is not silo's, are ps's
	out=$(silo ps "$id" -- -o pid,ppid) || fail "ps ID -- -o pid,ppid failed: $out"
	assert_match "$(head -n1 <<< "$out")" '^ *PID +PPID *$' "ps -- -o pid,ppid header"
	grep -Eq "^ *$pid +[0-9]+ *\$" <<< "$out" || fail "ps -- -o pid,ppid does not list the init $pid: $(show "$out")"
	out=$(silo ps "$id" -o pid,comm) || fail "ps ID -o pid,comm failed: $out"
	assert_match "$(head -n1 <<< "$out")" '^ *PID +COMMAND' "ps -o pid,comm header"
	# exec: options between ID and COMMAND are silo's, everything from COMMAND on the command's
	out=$(silo exec "$id" --env FOO=bar sh -c 'echo "$FOO $0 $1"' --env x) || fail "exec failed: $out"
	assert_eq "bar --env x" "$out" "exec ID --env K=V CMD ARGS with an option-like ARG"
	out=$(silo exec "$id" -- sh -c 'echo ok') || fail "exec ID -- CMD failed: $out"
	assert_eq ok "$out" "exec ID -- CMD"
	assert_ok silo pause "$id" --help
	assert_ok silo kill "$id" KILL --all
	wait_status "$id" stopped
	assert_ok silo delete "$id" --force
	assert_no_leftovers "$id" "$pid"
}

test_usage_errors() {
	local c
	# A missing value: one line that says so, nothing about an "unknown option".
	stderr_lines silo update --cpuset-cpus
	assert_eq 1 "$RC" "exit status of update --cpuset-cpus"
	assert_contains "$OUT" "flag needs an argument: --cpuset-cpus" "missing value message"
	assert_not_contains "$OUT" "unknown option" "missing value message"
	assert_eq 1 "$LINES" "lines of the missing value message: $(show "$OUT")"
	stderr_lines silo exec -u
	assert_contains "$OUT" "flag needs an argument: -u" "exec -u message"
	assert_eq 1 "$LINES" "lines of the exec -u message: $(show "$OUT")"
	stderr_lines silo update --bogus x
	assert_eq 1 "$RC" "exit status of update --bogus"
	assert_contains "$OUT" "unknown option \`--bogus\`" "unknown option message"
	assert_eq 1 "$LINES" "lines of the unknown option message: $(show "$OUT")"
	# Too many arguments: the message names the first unexpected one.
	for c in update state start pause resume delete events checkpoint; do
		stderr_lines silo "$c" cid extra-arg
		assert_eq 1 "$RC" "exit status of $c with two ids"
		assert_contains "$OUT" "unexpected argument \`extra-arg\`" "$c with two ids"
	done
	stderr_lines silo kill cid 9 extra-arg
	assert_contains "$OUT" "unexpected argument \`extra-arg\`" "kill with three arguments"
	stderr_lines silo list extra-arg
	assert_contains "$OUT" "unexpected argument \`extra-arg\`" "list with an argument"
	# Podman's probe for restore (clients.md): the error text it looks for.
	stderr_lines silo restore --lsm-mount-context
	assert_contains "$OUT" "flag needs an argument" "restore --lsm-mount-context"
}

test_help_aligned() {
	local cols
	# Every command's summary starts in the same column of `silo --help`.
	cols=$(silo --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on { match($0, /^  [a-z-]+ +/); print RLENGTH }' | sort -u)
	[ -n "$cols" ] || fail "no command lines in silo --help"
	assert_eq 1 "$(wc -l <<< "$cols")" "summary columns of silo --help: $(echo $cols)"
	silo --help | grep -q '^  migrate-receive  *receive' || fail "migrate-receive line: $(silo --help | grep migrate-receive)"
}

test_exec_exit_255() {
	silo_only "runc exits 255 too, but its messages differ"
	local id b=$T_DIR/b
	id=$(new_id)
	start_sleeper "$id" "$b"
	# The command's own status passes through, 1 included.
	assert_status 1 silo exec "$id" sh -c 'exit 1'
	assert_status 0 silo exec --help
	# silo's own failures: 255.
	assert_status 255 silo exec no-such-container true
	assert_contains "$OUT" "does not exist" "exec in a missing container"
	assert_status 255 silo exec --bogus "$id" true
	assert_status 255 silo exec "$id"
	assert_status 255 silo exec --pid-file "$T_DIR/no/such/dir/pid" -d "$id" sleep 5
	assert_status 255 silo exec "$id" /no/such/binary
	assert_ok silo pause "$id"
	assert_status 255 silo exec "$id" true
	assert_contains "$OUT" "paused" "exec in a paused container"
	assert_ok silo resume "$id"
	assert_eq running "$(status_of "$id")" "status after the failed execs"
}

test_exec_ignore_paused() {
	local id b=$T_DIR/b pid bg rc
	id=$(new_id)
	start_sleeper "$id" "$b"
	pid=$(state_field "$id" pid)
	assert_ok silo pause "$id"
	# runc refuses a paused container unless --ignore-paused ...
	assert_fail silo exec "$id" sh -c 'echo x > /tmp/refused'
	assert_contains "$OUT" "--ignore-paused" "the refusal says how to override"
	assert_no_file "/proc/$pid/root/tmp/refused"
	# ... with it, the process joins the frozen cgroup and runs once the container resumes.
	silo exec --ignore-paused "$id" sh -c 'echo x > /tmp/ran; echo done' > "$T_DIR/exec.out" 2>&1 &
	bg=$!
	sleep 1
	pid_alive "$bg" || { wait "$bg"; fail "exec --ignore-paused did not wait for resume: $(cat "$T_DIR/exec.out")"; }
	assert_no_file "/proc/$pid/root/tmp/ran"
	assert_eq paused "$(status_of "$id")" "status while the exec waits"
	assert_ok silo resume "$id"
	wait "$bg" && rc=0 || rc=$?
	assert_eq 0 "$rc" "exit status of exec --ignore-paused: $(cat "$T_DIR/exec.out")"
	assert_eq done "$(cat "$T_DIR/exec.out")" "output of exec --ignore-paused"
	assert_file_exists "/proc/$pid/root/tmp/ran"
}

test_exec_additional_gids() {
	local id b=$T_DIR/b out
	id=$(new_id)
	start_sleeper "$id" "$b"
	# runc: --additional-gids / -g, an int64 slice flag (repeatable, one number each)
	out=$(silo exec --additional-gids 1234 -g 5678 "$id" grep '^Groups:' /proc/self/status) || fail "exec -g failed: $out"
	assert_match "$out" '(^|[[:space:]])1234([[:space:]]|$)' "gid 1234 in $out"
	assert_match "$out" '(^|[[:space:]])5678([[:space:]]|$)' "gid 5678 in $out"
	out=$(silo exec -u 1000:1000 -g 42 "$id" id -G) || fail "exec -u -g failed: $out"
	assert_eq "1000 42" "$out" "groups of exec -u 1000:1000 -g 42"
	assert_status 255 silo exec -g 1,2 "$id" true
	assert_contains "$OUT" "--additional-gids: \`1,2\`" "comma-separated gids"
	assert_status 255 silo exec -g -5 "$id" true
	assert_contains "$OUT" "--additional-gids: \`-5\`" "negative gid"
}

test_exec_cgroup_missing() {
	local id b=$T_DIR/b
	id=$(new_id)
	start_sleeper "$id" "$b"
	assert_status 255 silo exec --cgroup no-such-sub "$id" sh -c 'echo ran'
	assert_contains "$OUT" "--cgroup \`no-such-sub\`: no such sub-cgroup" "message"
	assert_not_contains "$OUT" "ran" "the command ran"
	[ -z "$(cgroup_dirs_of no-such-sub)" ] || fail "a cgroup was created: $(cgroup_dirs_of no-such-sub)"
}

test_kill_signal_zero() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	start_sleeper "$id" "$b"
	pid=$(state_field "$id" pid)
	# runc parses "0" as a signal number: a probe that succeeds while the container runs.
	assert_ok silo kill "$id" 0
	assert_ok silo kill --all "$id" 0
	pid_alive "$pid" || fail "kill 0 hurt the init"
	assert_eq running "$(status_of "$id")" "status after kill 0"
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	assert_fail silo kill "$id" 0
	assert_contains "$OUT" "not running" "kill 0 of a stopped container"
}

# containerd's runc shim (and so Kubernetes' CRI) sends `kill --all ID KILL`
# after a container's init has exited, to reap what is left in its cgroup, and
# takes only runc's words "container not running" for "already gone".  runc
# signals the stopped container's cgroup and succeeds; so must we, or the CRI
# never sees the container exit.
test_kill_all_stopped() {
	local id b=$T_DIR/b child
	id=$(new_id)
	# No pid namespace of its own (as a container in a pod sharing the pause's):
	# init's background child outlives it, in the container's cgroup.
	make_bundle "$b" '.root.readonly = false | .linux.namespaces |= map(select(.type != "pid"))'
	set_args "$b" 'sleep 300 & echo $! > /tmp/child; exit 0'
	run_detached "$id" "$b"
	wait_status "$id" stopped
	wait_for 5 test -s "$b/rootfs/tmp/child" || fail "no child pid"
	child=$(cat "$b/rootfs/tmp/child")   # a host pid: no pid namespace
	defer kill -9 "$child"
	pid_alive "$child" || fail "the child left in the cgroup is not running"
	assert_ok silo kill --all "$id" KILL
	wait_for 5 eval '! pid_alive "$child"' || fail "kill --all of a stopped container left $child alive"
	assert_ok silo kill --all "$id" KILL
	assert_fail silo kill "$id" KILL
	assert_contains "$OUT" "container not running" "kill of a stopped container, in runc's words"
	assert_ok silo delete "$id"
	assert_fail silo kill --all "$id" KILL
}

test_ps_stopped() {
	local id b=$T_DIR/b out
	id=$(new_id)
	make_bundle "$b"
	create_ct "$id" "$b"
	assert_ok silo start "$id"
	wait_status "$id" stopped
	# runc lists what is left in a stopped container's cgroup: nothing, and no error.
	out=$(silo ps --format json "$id") || fail "ps --format json of a stopped container failed: $out"
	assert_eq "[]" "$(jq -c . <<< "$out")" "ps --format json of a stopped container"
	out=$(silo ps "$id") || fail "ps of a stopped container failed: $out"
	assert_match "$out" 'PID' "ps header"
	assert_eq 1 "$(wc -l <<< "$out")" "ps lines of a stopped container: $(show "$out")"
	assert_ok silo delete "$id"
	assert_fail silo ps "$id"
}

# churn N: create and delete throw-away containers N times (ids in $T_DIR/churn.ids).
churn() {
	local i cid
	for ((i = 0; i < $1; i++)); do
		cid="churn$BASHPID-$i"
		echo "$cid" >> "$T_DIR/ids"
		silo create --bundle "$T_DIR/cb" "$cid" > /dev/null 2>&1 < /dev/null
		silo delete --force "$cid" > /dev/null 2>&1 < /dev/null
	done
}

test_list_concurrent_deletes() {
	local b=$T_DIR/b live=() id i out p1 p2 n=0 missing=""
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	make_bundle "$T_DIR/cb"
	set_args "$T_DIR/cb" "$SLEEPER"
	# A state root that has seen many containers: a directory of several blocks, which
	# ext4 reads in hash order while entries come and go.
	for i in $(seq 300); do mkdir "$ROOT/.pad-$i-with-a-longish-name"; done
	defer sh -c "rmdir '$ROOT'/.pad-*"
	for i in 1 2 3; do
		id=$(new_id)
		create_ct "$id" "$b"
		live+=("$id")
	done
	churn 40 & p1=$!
	churn 40 & p2=$!
	while pid_alive "$p1" || pid_alive "$p2"; do
		out=$(silo list -q) || fail "list failed while containers come and go"
		for id in "${live[@]}"; do
			grep -qx -- "$id" <<< "$out" || missing="$missing $id(round $n)"
		done
		silo list --format json | jq -e 'type == "array"' > /dev/null || fail "list --format json is not an array"
		n=$((n + 1))
	done
	wait "$p1" "$p2"
	[ -z "$missing" ] || fail "list omitted live containers:$missing"
	[ "$n" -gt 0 ] || fail "no list ran during the churn"
	for id in "${live[@]}"; do assert_ok silo delete --force "$id"; done
}

test_config_key_case() {
	local id b=$T_DIR/b
	id=$(new_id)
	# Go's encoding/json matches keys case-insensitively: runc reads "pagesize" as pageSize.
	make_bundle "$b" '.linux.resources.hugepageLimits = [{"pagesize": "2MB", "limit": 2097152}]'
	capture silo run --bundle "$b" "$id"
	assert_not_contains "$OUT" "pageSize: missing" "hugepageLimits[].pagesize"
	if [ -d /sys/fs/cgroup/hugetlb ] || grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
		assert_eq 0 "$RC" "run with hugepageLimits[].pagesize: $(show "$OUT")"
	fi
	assert_no_leftovers "$id"
	# two keys that differ only in case: the last one wins, as with Go
	make_bundle "$b" '.process.args = ["sh", "-c", "echo first"] | .process.ARGS = ["sh", "-c", "echo last"]'
	capture silo run --bundle "$b" "$id"
	assert_eq "last" "$OUT" "output with args, then ARGS"
	make_bundle "$b" '.process = ({"ARGS": ["sh", "-c", "echo first"]} + .process | .args = ["sh", "-c", "echo last"])'
	jq -e '.process | keys_unsorted | index("ARGS") < index("args")' "$b/config.json" > /dev/null || fail "jq did not put ARGS first"
	capture silo run --bundle "$b" "$id"
	assert_eq "last" "$OUT" "output with ARGS, then args"
	make_bundle "$b" '.process.Args = ["sh", "-c", "echo folded"] | del(.process.args)'
	capture silo run --bundle "$b" "$id"
	assert_eq "folded" "$OUT" "output with process.Args"
}

test_namespace_empty_path() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	# runc reads "path": "" as no path: a new namespace.
	make_bundle "$b" '.linux.namespaces |= map(if .type == "uts" or .type == "ipc" then .path = "" else . end)'
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_ne "$(host_ns uts)" "$(ns_of "$pid" uts)" "uts namespace with an empty path"
	assert_ne "$(host_ns ipc)" "$(ns_of "$pid" ipc)" "ipc namespace with an empty path"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$pid"
}

run_test options_after_id test_options_after_id
run_test usage_errors test_usage_errors
run_test help_aligned test_help_aligned
run_test exec_exit_255 test_exec_exit_255
run_test exec_ignore_paused test_exec_ignore_paused
run_test exec_additional_gids test_exec_additional_gids
run_test exec_cgroup_missing test_exec_cgroup_missing
run_test kill_signal_zero test_kill_signal_zero
run_test kill_all_stopped test_kill_all_stopped
run_test ps_stopped test_ps_stopped
run_test list_concurrent_deletes test_list_concurrent_deletes
run_test config_key_case test_config_key_case
run_test namespace_empty_path test_namespace_empty_path
finish
