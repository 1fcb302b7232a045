#!/bin/bash
# runc's security and resource behaviours ("Drop-in for runc"): device rules for
# exec'd processes, seccomp's ENOSYS for syscalls newer than the profile,
# startContainer hooks under the filter, the seccomp listener's message, and
# pre-existing (frozen, busy) cgroups.  Each test passes with runc 1.1 as well.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; while :; do sleep 0.05; done'

# A v1 hierarchy of this host, or skip (these tests make cgroups there by hand).
v1_dir() {
	[ -d "/sys/fs/cgroup/$1" ] && [ -e "/sys/fs/cgroup/$1/tasks" ] || skip "no v1 $1 hierarchy"
	echo "/sys/fs/cgroup/$1"
}

# remove_cgroup NAME: thaw /NAME, kill what is in it and remove it, in every
# hierarchy (the tests' own, uniquely named cgroups; a runtime that failed may
# have left a process there), retrying while killed processes leave.
remove_cgroup() {
	local d i p
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -e "$d/freezer.state" ] && echo THAWED > "$d/freezer.state"
	done
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] || continue
		for i in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
}

# /dev/kmsg is a node in the container (linux.devices) but linux.resources.devices
# denies it: no process of the container may open it, the init nor an exec'd one.
# runc 1.1 adds no cgroup rule for linux.devices entries; silo allowed them after
# the config's own rules, so the deny was overridden.
test_devices_deny_applies_to_exec() {
	local id b=$T_DIR/b pid list
	id=$(new_id)
	make_bundle "$b" '.linux.devices += [{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":438}]
		| .linux.resources.devices += [{"allow":false,"type":"c","major":1,"minor":11,"access":"rwm"}]'
	set_args "$b" 'if echo x > /dev/kmsg; then echo init-wrote; else echo init-denied; fi; '"$SLEEPER"
	run_detached "$id" "$b"
	wait_output "$id" init-
	assert_contains "$(ct_output "$id")" init-denied "the container's init writing /dev/kmsg"
	assert_fail silo exec "$id" sh -c 'ls -l /dev/kmsg && echo x > /dev/kmsg'
	assert_contains "$OUT" "1,  11" "the node exists in the container"
	assert_contains "$OUT" "Operation not permitted" "an exec'd write to /dev/kmsg"
	# from the host: the exec'd process was in the container's devices cgroup, and
	# its list does not allow c 1:11
	pid=$(state_field "$id" pid)
	if [ -e /sys/fs/cgroup/devices/tasks ]; then
		list=$(cat "/sys/fs/cgroup/devices$(awk -F: '$2 == "devices" {print $3}' "/proc/$pid/cgroup")/devices.list")
		assert_not_contains "$list" "c 1:11" "devices.list of the container"
		assert_ok silo exec "$id" sh -c 'grep devices /proc/self/cgroup; grep devices /proc/1/cgroup'
		assert_eq 1 "$(sort -u <<< "$OUT" | wc -l)" "exec'd process and init in the same devices cgroup"
	fi
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# sys_probe DIR: a static program in DIR/rootfs/probe that makes syscall(2) with
# each number given and prints "NR:errno-name" (OK on success).
sys_probe() {
	need_cmd cc
	cat > "$T_DIR/probe.c" <<-'EOF'
	#include <errno.h>
	#include <stdio.h>
	#include <stdlib.h>
	#include <string.h>
	#include <unistd.h>
	#include <sys/syscall.h>
	int main(int argc, char **argv) {
		for (int i = 1; i < argc; i++) {
			errno = 0;
			long r = syscall(atol(argv[i]), -1L, 0L, 0L, 0L, 0L, 0L);
			printf("%s:%s\n", argv[i], r >= 0 ? "OK" : errno == ENOSYS ? "ENOSYS" : errno == EPERM ? "EPERM" : strerror(errno));
		}
		return 0;
	}
	EOF
	cc -static -O1 -o "$1/rootfs/probe" "$T_DIR/probe.c" || skip "no static libc to build the probe"
}

# A profile that denies by default (EPERM) and does not know syscalls newer than its
# newest name: those get ENOSYS, so that libc falls back to an older call (runc's
# patchbpf stub).  A syscall the profile knows (or that is older than its newest
# name) and does not allow still gets EPERM.
test_seccomp_enosys_for_unknown_syscalls() {
	[ "$(uname -m)" = x86_64 ] || skip "syscall numbers below are x86_64's"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	sys_probe "$b"
	# the basics a static program (and runc's Go runtime) needs; the newest name is
	# rseq (334)
	jq_edit "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
		"syscalls":[{"names":["execve","brk","arch_prctl","set_tid_address","set_robust_list","rseq",
		  "prlimit64","mprotect","readlink","uname","getrandom","write","fstat","newfstatat","exit_group",
		  "mmap","munmap","rt_sigprocmask","rt_sigaction","exit","getpid","close","read","ioctl",
		  "openat","fcntl","futex","epoll_create1","epoll_ctl","epoll_pwait","nanosleep","sched_yield",
		  "tgkill","gettid","rt_sigreturn","sigaltstack","clone","madvise","capget","capset","prctl",
		  "setgroups","setresuid","setresgid","getdents64","lseek","pipe2","dup3","fstatfs","statfs",
		  "readlinkat","sched_getaffinity","getuid","getgid","geteuid","getegid","pread64","write"],"action":"SCMP_ACT_ALLOW"},
		 {"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}'
	# 39 getpid: allowed; 110 getppid: the rule's own errno (EACCES); 95 umask: known
	# to the kernel, older than the newest name, not allowed: EPERM; 435 clone3,
	# 439 faccessat2, 437 openat2: newer than the profile: ENOSYS
	set_args "$b" '/probe 39 110 95 435 437 439 1000'
	capture silo run --bundle "$b" "$id"
	assert_eq 0 "$RC" "probe exit status ($OUT)"
	assert_contains "$OUT" "39:OK"
	assert_contains "$OUT" "110:Permission denied" "a rule's own errno"
	assert_contains "$OUT" "95:EPERM" "a known but denied syscall"
	assert_contains "$OUT" "435:ENOSYS" "clone3"
	assert_contains "$OUT" "437:ENOSYS" "openat2"
	assert_contains "$OUT" "439:ENOSYS" "faccessat2"
	assert_contains "$OUT" "1000:ENOSYS" "a number no kernel has yet"
	assert_no_leftovers "$id"
}

# A startContainer hook runs in the container after the seccomp filter is loaded
# (runc runs it just before execve): a syscall the profile denies fails in the hook,
# and the start fails with it.
test_start_container_hook_under_seccomp() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
	add_out_mount "$b"
	jq_edit "$b" '.hooks.startContainer = [{"path":"/bin/mkdir","args":["mkdir","/out/by-hook"]}]'
	set_args "$b" 'echo program-ran > /out/program'
	capture silo run --bundle "$b" "$id"
	assert_ne 0 "$RC" "run with a failing startContainer hook"
	assert_contains "$OUT" "Operation not permitted" "the hook's mkdir under the filter"
	assert_no_file "$b/out/by-hook"
	assert_no_file "$b/out/program"
	silo delete --force "$id" >/dev/null 2>&1
	assert_no_leftovers "$id"
}

# SCMP_ACT_NOTIFY: the agent gets the container process state (runtime-spec
# "Container Process State": the spec's keys, and in "state" the spec's state, not
# runc's `state` output) and exactly the fds that its "fds" array names, in that
# order: one, the seccomp listener.
test_seccomp_notify_message() {
	need_cmd python3
	local id b=$T_DIR/b sock=$T_DIR/agent.sock out=$T_DIR/agent.json
	id=$(new_id)
	start_seccomp_agent "$sock" "$out"
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","listenerPath":$s,"listenerMetadata":"m","syscalls":[{"names":["getpgid"],"action":"SCMP_ACT_NOTIFY"}]}' --arg s "$sock"
	set_args "$b" "echo started; $SLEEPER"
	run_detached "$id" "$b"
	wait_for 10 test -s "$out.fd" || fail "the agent got nothing"
	jq -e --arg id "$id" --arg b "$b" '(keys - ["metadata"]) == ["fds","ociVersion","pid","state"]
		and .fds == ["seccompFd"] and (.pid | type) == "number" and .pid > 0
		and (.state | keys - ["annotations"]) == ["bundle","id","ociVersion","pid","status"]
		and .state.id == $id and .state.bundle == $b and (.state.status | IN("creating","created","running"))
		and .state.pid == .pid' "$out" >/dev/null || fail "agent message: $(cat "$out")"
	assert_eq 1 "$(cat "$out.nfds")" "number of fds received"
	# the pid is the container's process, as the host sees it
	assert_eq "$(state_field "$id" pid)" "$(jq .pid "$out")" "pid in the message"
	assert_ok silo delete --force "$id"
	kill "$SECCOMP_AGENT_PID" 2>/dev/null; wait "$SECCOMP_AGENT_PID" 2>/dev/null
	assert_no_leftovers "$id"
}

# No agent at listenerPath: create fails at once, saying so, with nothing left
# behind (no state, process, cgroup); no hook of the container ran.
test_seccomp_notify_no_listener() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","listenerPath":$s,"syscalls":[{"names":["getpgid"],"action":"SCMP_ACT_NOTIFY"}]}' --arg s "$T_DIR/none.sock"
	add_out_mount "$b"
	jq_edit "$b" '.hooks.prestart = [{"path":"/bin/sh","args":["sh","-c",("touch " + $o + "/prestart-ran")]}]' --arg o "$b/out"
	capture timeout 20 "$SILO" --root "$ROOT" create --bundle "$b" "$id"
	assert_ne 0 "$RC" "create without a listener"
	assert_ne 124 "$RC" "create without a listener must not hang"
	is_runc || assert_contains "$OUT" "listenerPath" "the error names the field"
	assert_contains "$OUT" "$T_DIR/none.sock" "the error names the path"
	is_runc || assert_no_file "$b/out/prestart-ran"
	assert_no_leftovers "$id"
}

# A frozen cgroup given as cgroupsPath: refused at once (runc 1.1: "container's
# cgroup unexpectedly frozen"); silo used to hang until killed.  What silo made in
# the other hierarchies is removed again; the frozen one is left as it was.
test_frozen_cgroup_refused() {
	local id b=$T_DIR/b fz name=silo-test-frozen-$$-$RANDOM
	fz=$(v1_dir freezer)
	id=$(new_id)
	mkdir "$fz/$name" || fail "mkdir $fz/$name"
	defer remove_cgroup "$name"
	echo FROZEN > "$fz/$name/freezer.state"
	assert_eq FROZEN "$(cat "$fz/$name/freezer.state")" "freezer.state"
	make_bundle "$b" '.linux.cgroupsPath = $p' --arg p "/$name"
	set_args "$b" "$SLEEPER"
	capture timeout 20 "$SILO" --root "$ROOT" run -d --bundle "$b" "$id"
	assert_ne 0 "$RC" "run -d in a frozen cgroup"
	assert_ne 124 "$RC" "run -d in a frozen cgroup must not hang"
	assert_contains "$OUT" "frozen"
	assert_eq "" "$(cat "$fz/$name/tasks")" "tasks of the frozen cgroup"
	assert_eq FROZEN "$(cat "$fz/$name/freezer.state")" "the cgroup is left as it was"
	assert_eq "$fz/$name" "$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$name" | sort | tr '\n' ' ' | sed 's/ $//')" "only the pre-existing cgroup remains"
	assert_no_leftovers "$id"
}

# A cgroupsPath with a process in it: runc 1.1 warns and goes on.  (runc looks only
# at the devices hierarchy on v1; silo at every one.)
test_nonempty_cgroup_warns() {
	local id b=$T_DIR/b pd name=silo-test-busy-$$-$RANDOM sleeper
	pd=$(v1_dir devices)
	id=$(new_id)
	mkdir "$pd/$name" || fail "mkdir $pd/$name"
	defer remove_cgroup "$name"
	sleep 60 & sleeper=$!
	defer kill "$sleeper"
	echo "$sleeper" > "$pd/$name/cgroup.procs"
	make_bundle "$b" '.linux.cgroupsPath = $p' --arg p "/$name"
	set_args "$b" "echo inside; $SLEEPER"
	run_detached "$id" "$b"
	assert_match "$OUT" "cgroup.*not empty" "the warning"
	wait_output "$id" inside
	# from the host: the container and the earlier process share the cgroup
	assert_contains "$(cat "$pd/$name/cgroup.procs")" "$(state_field "$id" pid)" "container in the cgroup"
	assert_contains "$(cat "$pd/$name/cgroup.procs")" "$sleeper" "the earlier process still there"
	# from inside: an exec'd process joins it too
	assert_ok silo exec "$id" cat /proc/self/cgroup
	assert_ok silo kill "$id" KILL
	wait_status "$id" stopped
	pid_alive "$sleeper" || fail "kill reached a process that is not the container's"
	kill "$sleeper"; wait "$sleeper" 2>/dev/null
	assert_ok silo delete "$id"
	assert_no_leftovers "$id"
}

run_test devices_deny_applies_to_exec test_devices_deny_applies_to_exec
run_test seccomp_enosys_for_unknown_syscalls test_seccomp_enosys_for_unknown_syscalls
run_test start_container_hook_under_seccomp test_start_container_hook_under_seccomp
run_test seccomp_notify_message test_seccomp_notify_message
run_test seccomp_notify_no_listener test_seccomp_notify_no_listener
run_test frozen_cgroup_refused test_frozen_cgroup_refused
run_test nonempty_cgroup_warns test_nonempty_cgroup_warns
finish
