#!/bin/bash
# The container process: env, cwd, user, umask, rlimits, capabilities,
# noNewPrivileges, oomScoreAdj, terminal + console socket, preserve-fds.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
# Print the container process's own /proc status with shell builtins only (no
# further exec, which would recompute the capability sets).
SELF_STATUS='while IFS= read -r l; do echo "$l"; done < /proc/$$/status'

status_line() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' <<< "$OUT"; }

test_env() {
	local b=$T_DIR/b
	export SILO_HOST_ONLY=leak
	make_bundle "$b" '.process.env = ["PATH=/bin:/sbin", "FOO=bar baz", "EMPTY="]'
	run_ok "$b" 'echo "foo=[$FOO]"; echo "empty=[${EMPTY-unset}]"; echo "host=[${SILO_HOST_ONLY-unset}]"; env'
	assert_contains "$OUT" "foo=[bar baz]"
	assert_contains "$OUT" "empty=[]"
	assert_contains "$OUT" "host=[unset]" "host environment must not leak"
	assert_contains "$OUT" "PATH=/bin:/sbin"
}

test_args_path_lookup() {
	local b=$T_DIR/b id
	id=$(new_id)
	make_bundle "$b" '.process.args = ["echo", "arg one", "two"]'
	assert_ok silo run --bundle "$b" "$id"
	assert_eq "arg one two" "$OUT" "echo found via PATH"
}

test_cwd() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.cwd = "/etc"'
	run_ok "$b" 'pwd; echo "PWD=$PWD"'
	assert_contains "$OUT" $'/etc\n' "pwd"
	# A missing cwd is created (runc and crun do), even under a read-only root,
	# inside the root: a symlink on the way cannot lead out.
	make_bundle "$b" '.process.cwd = "/does/not/exist/yet" | .root.readonly = true'
	run_ok "$b" 'pwd; ls -ldn /does/not/exist/yet'
	assert_contains "$OUT" $'/does/not/exist/yet\n' "pwd of a created cwd"
	assert_match "$OUT" 'drwxr-xr-x +[0-9]+ +0 +0 ' "the created cwd: 0755, root's"
	assert_file_exists "$b/rootfs/does/not/exist/yet"
	ln -s /../../../tmp-outside "$b/rootfs/escape"
	make_bundle "$b" '.process.cwd = "/escape/sub"'
	run_ok "$b" 'pwd'
	assert_no_file /tmp-outside
	assert_file_exists "$b/rootfs/tmp-outside/sub"
}

# runc and crun set HOME from the container's /etc/passwd entry of the process's
# uid when process.env has none, "/" without an entry; `exec` too.
test_home_from_passwd() {
	local b=$T_DIR/b id
	make_bundle "$b" '.process.env = ["PATH=/bin:/sbin"]'
	run_ok "$b" 'echo "home=[$HOME]"'
	assert_eq "home=[/root]" "$OUT" "HOME of uid 0"
	jq_edit "$b" '.process.user = {"uid":65534,"gid":65534}'
	run_ok "$b" 'echo "home=[$HOME]"'
	assert_eq "home=[/nonexistent]" "$OUT" "HOME of uid 65534"
	jq_edit "$b" '.process.user = {"uid":1234,"gid":1234}'
	run_ok "$b" 'echo "home=[$HOME]"'
	assert_eq "home=[/]" "$OUT" "HOME of a uid without an entry"
	jq_edit "$b" '.process.user = {"uid":0,"gid":0} | .process.env += ["HOME=/given"]'
	run_ok "$b" 'echo "home=[$HOME]"'
	assert_eq "home=[/given]" "$OUT" "HOME of the config kept"
	jq_edit "$b" '.process.env = ["PATH=/bin:/sbin"]'
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	capture silo exec "$id" sh -c 'echo "home=[$HOME]"'
	assert_eq "home=[/root]" "$OUT" "exec: HOME of uid 0"
	capture silo exec --user 65534:65534 "$id" sh -c 'echo "home=[$HOME]"'
	assert_eq "home=[/nonexistent]" "$OUT" "exec --user 65534: HOME"
	capture silo exec --env HOME=/mine "$id" sh -c 'echo "home=[$HOME]"'
	assert_eq "home=[/mine]" "$OUT" "exec --env HOME kept"
}

# The image's /etc/passwd is untrusted: a FIFO there must not hang the create.
test_home_passwd_fifo() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.env = ["PATH=/bin:/sbin"]'
	rm "$b/rootfs/etc/passwd"   # a hard link of the shared rootfs: only this bundle's
	mkfifo "$b/rootfs/etc/passwd"
	run_ok "$b" 'echo "home=[$HOME]"'
	assert_eq "home=[/]" "$OUT" "HOME without a usable /etc/passwd"
}

test_user_ids() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.user = {"uid":65534, "gid":65534, "additionalGids":[5, 100]}'
	run_ok "$b" "id; $SELF_STATUS"
	assert_eq "65534	65534	65534	65534" "$(status_line Uid | tr ' ' '\t')" "Uid line"
	assert_eq "65534	65534	65534	65534" "$(status_line Gid | tr ' ' '\t')" "Gid line"
	assert_match "$(status_line Groups)" '(^| )5( |$)' "Groups has 5"
	assert_match "$(status_line Groups)" '(^| )100( |$)' "Groups has 100"
	assert_contains "$OUT" "uid=65534(nobody) gid=65534(nogroup)" "id output"
}

test_user_without_passwd_entry() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.user = {"uid":1234, "gid":4321}'
	run_ok "$b" 'id -u; id -g; touch /tmp/x 2>&1; echo done'
	assert_contains "$OUT" $'1234\n4321\n' "id -u / id -g"
}

test_umask() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.user.umask = 23'   # 0027
	run_ok "$b" 'umask'
	assert_eq 0027 "$OUT" "umask"
}

test_rlimits() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":512,"hard":1000},
		{"type":"RLIMIT_NPROC","soft":333,"hard":444}, {"type":"RLIMIT_CORE","soft":0,"hard":0}]'
	run_ok "$b" 'echo "n=$(ulimit -n)"; echo "hn=$(ulimit -Hn)"; cat /proc/self/limits'
	assert_contains "$OUT" "n=512"
	assert_contains "$OUT" "hn=1000"
	assert_match "$OUT" 'Max open files +512 +1000 ' "/proc/self/limits NOFILE"
	assert_match "$OUT" 'Max processes +333 +444 ' "/proc/self/limits NPROC"
	assert_match "$OUT" 'Max core file size +0 +0 ' "/proc/self/limits CORE"
}

# ---- capabilities
declare -A CAPNUM=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2 [CAP_FOWNER]=3
	[CAP_FSETID]=4 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7 [CAP_SETPCAP]=8
	[CAP_NET_BIND_SERVICE]=10 [CAP_NET_ADMIN]=12 [CAP_NET_RAW]=13 [CAP_SYS_CHROOT]=18
	[CAP_SYS_PTRACE]=19 [CAP_SYS_ADMIN]=21 [CAP_MKNOD]=27 [CAP_AUDIT_WRITE]=29 [CAP_SETFCAP]=31)
# capmask CAP...: the 16-hex-digit mask /proc/<pid>/status shows for these caps.
capmask() {
	local m=0 c
	for c; do m=$((m | (1 << ${CAPNUM[$c]}))); done
	printf '%016x' "$m"
}
# check_caps: compare Cap* lines in $OUT with the sets in config $1.
check_caps() {
	local cfg=$1 set line
	for set in bounding:CapBnd effective:CapEff permitted:CapPrm inheritable:CapInh ambient:CapAmb; do
		line=${set#*:}
		# shellcheck disable=SC2046
		assert_eq "$(capmask $(jq -r ".process.capabilities.${set%%:*} // [] | .[]" "$cfg"))" \
			"$(status_line "$line")" "$line (config ${set%%:*})"
	done
}

test_capabilities_root() {
	local b=$T_DIR/b
	# For uid 0 the kernel makes permitted = effective = bounding at exec, so the
	# config keeps them equal; inheritable and ambient are smaller.
	make_bundle "$b" '.process.capabilities = {
		"bounding":   ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"],
		"effective":  ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"],
		"permitted":  ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"],
		"inheritable":["CAP_KILL","CAP_NET_BIND_SERVICE"],
		"ambient":    ["CAP_NET_BIND_SERVICE"]}'
	run_ok "$b" "$SELF_STATUS"
	check_caps "$b/config.json"
}

test_capabilities_non_root() {
	local b=$T_DIR/b
	# A non-root process without file capabilities keeps exactly the ambient set.
	make_bundle "$b" '.process.user = {"uid":1000,"gid":1000} | .process.capabilities = {
		"bounding":   ["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_NET_RAW"],
		"effective":  ["CAP_KILL","CAP_NET_BIND_SERVICE"],
		"permitted":  ["CAP_KILL","CAP_NET_BIND_SERVICE"],
		"inheritable":["CAP_KILL","CAP_NET_BIND_SERVICE"],
		"ambient":    ["CAP_KILL","CAP_NET_BIND_SERVICE"]}'
	run_ok "$b" "$SELF_STATUS"
	check_caps "$b/config.json"
}

test_capabilities_enforced() {
	local b=$T_DIR/b
	make_bundle "$b" '.root.readonly = false | .process.capabilities = {
		"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}'
	run_in "$b" 'touch /tmp/f; chown 1:1 /tmp/f && echo chown-ok; mknod /tmp/n c 1 3 && echo mknod-ok; echo done'
	assert_contains "$OUT" "done"
	assert_not_contains "$OUT" chown-ok "chown without CAP_CHOWN"
	assert_not_contains "$OUT" mknod-ok "mknod without CAP_MKNOD"
}

test_no_new_privileges() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.noNewPrivileges = true'
	run_ok "$b" "$SELF_STATUS"
	assert_eq 1 "$(status_line NoNewPrivs)" "NoNewPrivs with noNewPrivileges=true"
	make_bundle "$b" '.process.noNewPrivileges = false'
	run_ok "$b" "$SELF_STATUS"
	assert_eq 0 "$(status_line NoNewPrivs)" "NoNewPrivs with noNewPrivileges=false"
}

test_oom_score_adj() {
	local b=$T_DIR/b id pid
	id=$(new_id)
	make_bundle "$b" '.process.oomScoreAdj = 567'
	run_ok "$b" 'cat /proc/self/oom_score_adj'
	assert_eq 567 "$OUT" "oom_score_adj inside"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_eq 567 "$(cat "/proc/$pid/oom_score_adj")" "oom_score_adj of pid $pid"
	# exec's process gets it too, and silo exec itself keeps its own, although exec's
	# child shares silo's memory until its execve (exec.c: the kernel passes a score
	# on to the other users of a memory, but not from a vfork child).
	"$SILO" --root "$ROOT" exec "$id" sh -c 'cat /proc/self/oom_score_adj; sleep 3' > "$T_DIR/exec.out" 2>&1 < /dev/null &
	local epid=$! own
	wait_for 10 test -s "$T_DIR/exec.out" || fail "exec did not run"
	own=$(cat "/proc/$epid/oom_score_adj")
	wait "$epid"
	assert_eq 567 "$(cat "$T_DIR/exec.out")" "oom_score_adj of exec's process"
	assert_eq "$(cat /proc/self/oom_score_adj)" "$own" "oom_score_adj of silo exec itself"
}

test_terminal_console_socket() {
	need_cmd python3
	local b=$T_DIR/b id sock=$T_DIR/console.sock rpid
	id=$(new_id)
	make_bundle "$b" '.process.terminal = true | .process.consoleSize = {"height":33,"width":111}'
	set_args "$b" '[ -t 0 ] && [ -t 1 ] && echo "is-a-tty"; tty; stty size; echo term-done'
	python3 "$TESTS_DIR/lib/console-receiver.py" "$sock" "$T_DIR/console.out" &
	rpid=$!
	defer kill "$rpid"
	wait_for 10 test -S "$sock" || fail "console receiver did not start"
	create_ct "$id" "$b" --console-socket "$sock"
	assert_file_exists "$T_DIR/console.out.fd"
	assert_ok silo start "$id"
	wait_for 15 grep -q term-done "$T_DIR/console.out" ||
		fail "no output on the console: $(show "$(cat "$T_DIR/console.out" 2>/dev/null)")"
	OUT=$(tr -d '\r' < "$T_DIR/console.out")
	assert_contains "$OUT" is-a-tty
	assert_match "$OUT" '/dev/pts/[0-9]+' "tty"
	assert_contains "$OUT" "33 111" "stty size (consoleSize)"
	wait_status "$id" stopped
	wait "$rpid" 2>/dev/null || true
}

test_terminal_input() {
	need_cmd python3
	local b=$T_DIR/b id sock=$T_DIR/console.sock rpid
	id=$(new_id)
	make_bundle "$b" '.process.terminal = true'
	set_args "$b" 'read -r line; echo "got:$line"'
	python3 "$TESTS_DIR/lib/console-receiver.py" "$sock" "$T_DIR/console.out" $'typed-text\n' &
	rpid=$!
	defer kill "$rpid"
	wait_for 10 test -S "$sock" || fail "console receiver did not start"
	run_detached "$id" "$b" --console-socket "$sock"
	wait_for 15 grep -q got:typed-text "$T_DIR/console.out" ||
		fail "input not echoed back: $(show "$(cat "$T_DIR/console.out" 2>/dev/null)")"
	wait_status "$id" stopped
}

test_preserve_fds() {
	local b=$T_DIR/b id
	id=$(new_id)
	echo fd-three-content > "$T_DIR/fd3"
	echo fd-four-content > "$T_DIR/fd4"
	make_bundle "$b"
	set_args "$b" 'cat <&3; ls /proc/self/fd/ | tr "\n" " "; [ -e /proc/$$/fd/4 ] && echo fd4-leaked; echo end'
	OUT=$(silo run --preserve-fds 1 --bundle "$b" "$id" 3< "$T_DIR/fd3" 4< "$T_DIR/fd4" 2>&1 < /dev/null) && RC=0 || RC=$?
	echo "$OUT"
	assert_eq 0 "$RC" "exit code"
	assert_contains "$OUT" fd-three-content "fd 3 in the container"
	assert_not_contains "$OUT" fd4-leaked "fd 4 must not be passed"
	assert_not_contains "$OUT" fd-four-content
}

test_no_fd_leaks() {
	local b=$T_DIR/b id pid fds
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	# fd 7 open in the caller must not reach the container
	silo run -d --bundle "$b" "$id" 7< /dev/null > "$T_DIR/$id.out" 2>&1 < /dev/null || fail "run -d failed: $(ct_output "$id")"
	wait_output "$id" ready
	pid=$(state_field "$id" pid)
	# observed from outside: the shell itself has no extra fds open
	fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
	assert_eq "0 1 2 " "$fds" "open fds of container pid $pid"
}


# A capability silo itself cannot grant (not in its bounding set: CAP_SYS_RESOURCE
# on a host, or in an outer container, that withholds it) fails `create`, with the
# capability named, not the container after `start` (which returned 0).
test_unavailable_capability_fails_create() {
	local b=$T_DIR/b id cap= bnd c
	bnd=$((16#$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)))
	for c in SYS_RESOURCE:24 SYS_MODULE:16 SYS_RAWIO:17 SYS_TIME:25 AUDIT_CONTROL:30; do
		if [ $(((bnd >> ${c#*:}) & 1)) = 0 ]; then
			cap=CAP_${c%:*}
			break
		fi
	done
	[ -n "$cap" ] || skip "silo's bounding set has every capability tried"
	make_bundle "$b" '.process.capabilities |= with_entries(.value += [$c])' --arg c "$cap"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	# stdio to a file: a container that did start would hold a pipe open
	silo create --bundle "$b" "$id" > "$T_DIR/create.out" 2>&1 < /dev/null && fail "create succeeded"
	OUT=$(cat "$T_DIR/create.out")
	assert_contains "$OUT" "$cap" "error"
	assert_contains "$OUT" "process.capabilities" "error"
	assert_eq "" "$(ls "$ROOT")" "state left behind"
}

# `exec --cap` adds to the bounding, effective and permitted sets only: never to
# the inheritable and ambient ones (CVE-2022-29162, as runc >= 1.1.2).
test_exec_cap_not_inheritable() {
	local b=$T_DIR/b id
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	capture silo exec --cap CAP_CHOWN "$id" sh -c "$SELF_STATUS"
	[ "$RC" = 0 ] || fail "exec --cap: $(show "$OUT")"
	assert_eq 0000000000000000 "$(status_line CapInh)" "CapInh after exec --cap"
	assert_eq 0000000000000000 "$(status_line CapAmb)" "CapAmb after exec --cap"
	[ $((16#$(status_line CapEff) & 1)) = 1 ] || fail "CAP_CHOWN not effective: $(status_line CapEff)"
	[ $((16#$(status_line CapBnd) & 1)) = 1 ] || fail "CAP_CHOWN not in bounding: $(status_line CapBnd)"
}

# setgroups(2) refused with EPERM is an error (runc's), unless the user namespace
# denies setgroups: the process must not run with the caller's groups.  A seccomp
# rule makes it fail here.
test_setgroups_eperm_fails() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.user.additionalGids = [5] | .process.noNewPrivileges = false
		| .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
		   "syscalls":[{"names":["setgroups"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
	run_in "$b" 'echo ran; id -G'
	assert_ne 0 "$RC" "exit status with setgroups refused"
	assert_not_contains "$OUT" ran
	assert_contains "$OUT" setgroups "error"
}

# A non-root process can reopen its stdio pipes (/proc/self/fd/1, /dev/stdout): an
# anonymous pipe is chowned to it (runc's fixStdioPermissions); a file given as
# stdio is a host file and keeps its owner.
test_stdio_pipe_owner() {
	local b=$T_DIR/b id
	make_bundle "$b" '.process.user = {"uid":1000,"gid":1000}'
	set_args "$b" 'echo via-proc > /proc/self/fd/1 && echo reopen-ok; echo to-file > /dev/stderr'
	id=$(new_id)
	OUT=$(silo run --bundle "$b" "$id" 2> "$T_DIR/err.txt" < /dev/null | cat) && RC=0 || RC=$?
	assert_contains "$OUT" via-proc "reopened stdout pipe"
	assert_contains "$OUT" reopen-ok
	assert_eq "0:0" "$(stat -c %u:%g "$T_DIR/err.txt")" "a stdio file keeps its owner"
}

run_test env test_env
run_test args_path_lookup test_args_path_lookup
run_test cwd test_cwd
run_test home_from_passwd test_home_from_passwd
run_test home_passwd_fifo test_home_passwd_fifo
run_test exec_cap_not_inheritable test_exec_cap_not_inheritable
run_test setgroups_eperm_fails test_setgroups_eperm_fails
run_test stdio_pipe_owner test_stdio_pipe_owner
run_test user_ids test_user_ids
run_test user_without_passwd_entry test_user_without_passwd_entry
run_test umask test_umask
run_test rlimits test_rlimits
run_test capabilities_root test_capabilities_root
run_test capabilities_non_root test_capabilities_non_root
run_test capabilities_enforced test_capabilities_enforced
run_test no_new_privileges test_no_new_privileges
run_test oom_score_adj test_oom_score_adj
run_test terminal_console_socket test_terminal_console_socket
run_test terminal_input test_terminal_input
run_test preserve_fds test_preserve_fds
run_test no_fd_leaks test_no_fd_leaks
run_test unavailable_capability_fails_create test_unavailable_capability_fails_create
