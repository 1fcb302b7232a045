#!/bin/bash
# Attributes of the container process that the kernel keeps across execve
# (lib/runtime/process/procattr.c): linux.personality, process.scheduler, process.ioPriority,
# linux.memoryPolicy (runtime-spec 1.3) and process.execCPUAffinity (exec only).
# Each is seen from inside the container and from the host, for the container's
# process and an exec'd one; bad values are refused and leave nothing.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
# stat_of PID N: field N of /proc/PID/stat (man 5 proc; the command name may hold spaces)
stat_of() { sed 's/^.*) //' "/proc/$1/stat" | awk -v n="$2" '{ print $(n - 2) }'; }
# The same, inside: for the shell itself.
STAT_IN='s=$(cat /proc/$$/stat); s=${s##*) }; set -- $s'

# refused JQ-EDIT MESSAGE: a run of a bundle so edited fails, naming MESSAGE, and
# leaves nothing behind.
refused() {
	local b=$T_DIR/bad id
	make_bundle "$b" "$1"
	set_args "$b" 'echo must-not-run'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "$2"
	assert_not_contains "$OUT" "must-not-run"
	assert_no_leftovers "$id"
}

# start BUNDLE: runs it detached with the sleeper; sets ID and PID.
start() {
	set_args "$1" "$SLEEPER"
	ID=$(new_id)
	run_detached "$ID" "$1"
	wait_output "$ID" ready
	PID=$(state_field "$ID" pid)
}

test_personality() {
	[ "$(uname -m)" = x86_64 ] || skip "LINUX32 shows as i686 on x86_64 only"
	local b=$T_DIR/b
	make_bundle "$b" '.linux.personality = {"domain": "LINUX32"}'
	run_ok "$b" 'uname -m'
	assert_eq i686 "$OUT" "uname -m in a LINUX32 container"
	start "$b"
	assert_eq 00000008 "$(cat "/proc/$PID/personality")" "the personality of the container process"
	assert_ok silo exec "$ID" uname -m
	assert_eq i686 "$OUT" "uname -m in an exec'd process"
	assert_ok silo delete --force "$ID"
	make_bundle "$b" '.linux.personality = {"domain": "LINUX"}'
	run_ok "$b" 'uname -m'
	assert_eq x86_64 "$OUT" "uname -m with domain LINUX"
	refused '.linux.personality = {"domain": "LINUX64"}' 'linux.personality.domain: unknown domain "LINUX64"'
	refused '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}' \
		'linux.personality.flags[0]: `ADDR_NO_RANDOMIZE`: no flag is supported'
}

test_scheduler() {
	local b=$T_DIR/b
	# nice (field 19) and policy (field 41; SCHED_BATCH is 3)
	make_bundle "$b" '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	run_ok "$b" "$STAT_IN; echo \"\${17} \${39}\""
	assert_eq "7 3" "$OUT" "nice and policy inside"
	start "$b"
	assert_eq "7 3" "$(stat_of "$PID" 19) $(stat_of "$PID" 41)" "nice and policy of the container process"
	assert_ok silo exec "$ID" sh -c "$STAT_IN; echo \"\${17} \${39}\""
	assert_eq "7 3" "$OUT" "nice and policy of an exec'd process"
	assert_ok silo delete --force "$ID"
	# A negative nice needs CAP_SYS_NICE, which the default spec does not keep: set
	# while silo still has it.  SCHED_IDLE is 5.
	make_bundle "$b" '.process.scheduler = {"policy": "SCHED_OTHER", "nice": -5}'
	jq -e '.process.capabilities.bounding | index("CAP_SYS_NICE") | not' "$b/config.json" > /dev/null ||
		fail "the default spec keeps CAP_SYS_NICE"
	run_ok "$b" "$STAT_IN; echo \"\${17} \${39}\""
	assert_eq "-5 0" "$OUT" "nice -5 without CAP_SYS_NICE"
	make_bundle "$b" '.process.scheduler = {"policy": "SCHED_IDLE"}'
	run_ok "$b" "$STAT_IN; echo \"\${39}\""
	assert_eq 5 "$OUT" "SCHED_IDLE"
	refused '.process.scheduler = {"policy": "SCHED_BATCH", "flags": ["SCHED_FLAG_FOO"]}' \
		'process.scheduler.flags[0]: unknown flag `SCHED_FLAG_FOO`'
	# the kernel's refusal (a deadline task needs its runtime), named by the field
	refused '.process.scheduler = {"policy": "SCHED_DEADLINE"}' \
		'process.scheduler: sched_setattr: Invalid argument'
}

test_io_priority() {
	need_cmd ionice
	local b=$T_DIR/b
	make_bundle "$b" '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
	run_ok "$b" 'ionice -p $$'
	assert_eq "best-effort: prio 6" "$OUT" "the I/O priority inside"
	make_bundle "$b" '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
	start "$b"
	assert_eq idle "$(ionice -p "$PID")" "the I/O priority of the container process"
	assert_ok silo exec "$ID" sh -c 'ionice -p $$'
	assert_eq "idle" "$OUT" "the I/O priority of an exec'd process"
	assert_ok silo delete --force "$ID"
	refused '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}' \
		'process.ioPriority.priority: 8 is out of range (0-7)'
}

test_memory_policy() {
	[ -e /proc/self/numa_maps ] || skip "no NUMA support in this kernel (/proc/self/numa_maps)"
	local b=$T_DIR/b nodes
	# the policy of the first mapping (the program's), which has none of its own
	make_bundle "$b" '.linux.memoryPolicy = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}'
	run_ok "$b" 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	assert_eq interleave:0 "$OUT" "the memory policy inside"
	start "$b"
	assert_eq interleave:0 "$(awk '{ print $2; exit }' "/proc/$PID/numa_maps")" \
		"the memory policy of the container process"
	assert_ok silo exec "$ID" sh -c 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	assert_eq interleave:0 "$OUT" "the memory policy of an exec'd process"
	assert_ok silo delete --force "$ID"
	make_bundle "$b" '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}'
	run_ok "$b" 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	assert_eq bind=static:0 "$OUT" "MPOL_BIND with MPOL_F_STATIC_NODES"
	make_bundle "$b" '.linux.memoryPolicy = {"mode": "MPOL_LOCAL"}'
	run_ok "$b" 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	assert_eq local "$OUT" "MPOL_LOCAL"
	refused '.linux.memoryPolicy = {"mode": "MPOL_FOO"}' 'linux.memoryPolicy.mode: unknown mode "MPOL_FOO"'
	refused '.linux.memoryPolicy = {"mode": "MPOL_BIND"}' 'linux.memoryPolicy.nodes: MPOL_BIND needs nodes'
	refused '.linux.memoryPolicy = {"mode": "MPOL_LOCAL", "nodes": "0"}' \
		'linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes'
	refused '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0-x"}' \
		'linux.memoryPolicy.nodes: `0-x` is not a list of nodes'
	refused '.linux.memoryPolicy = {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_X"]}' \
		'linux.memoryPolicy.flags[0]: unknown flag "MPOL_F_X"'
	# a node this host does not have: the kernel's refusal, named by the field
	nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
	refused ".linux.memoryPolicy = {\"mode\": \"MPOL_BIND\", \"nodes\": \"$((nodes + 7))\"}" \
		'linux.memoryPolicy: set_mempolicy: Invalid argument'
}

test_exec_cpu_affinity() {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	local b=$T_DIR/b all
	all=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	make_bundle "$b" '.process.execCPUAffinity = {"final": "1"}'
	start "$b"
	# not for the container's own process (the spec leaves it out)
	assert_eq "$all" "$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$PID/status")" \
		"the CPUs of the container process"
	assert_ok silo exec "$ID" sh -c 'grep Cpus_allowed_list: /proc/self/status'
	assert_contains "$OUT" $'\t1' "the CPUs of an exec'd process (final: 1)"
	# --process: its own, initial and final
	jq '.process | .args = ["sh", "-c", "grep Cpus_allowed_list: /proc/self/status"]
		| .execCPUAffinity = {"initial": "1", "final": "0"}' "$b/config.json" > "$T_DIR/p.json"
	assert_ok silo exec --process "$T_DIR/p.json" "$ID"
	assert_contains "$OUT" $'\t0' "the CPUs of an exec'd process (final: 0)"
	jq '.execCPUAffinity = {"final": "0-x"}' "$T_DIR/p.json" > "$T_DIR/bad.json"
	assert_fail silo exec --process "$T_DIR/bad.json" "$ID"
	assert_contains "$OUT" 'process.execCPUAffinity.final: `0-x` is not a list of CPUs'
	jq --arg c "$(($(nproc) + 3))" '.execCPUAffinity = {"final": $c}' "$T_DIR/p.json" > "$T_DIR/bad.json"
	assert_fail silo exec --process "$T_DIR/bad.json" "$ID"
	assert_contains "$OUT" 'process.execCPUAffinity.final: sched_setaffinity: Invalid argument'
	assert_ok silo delete --force "$ID"
}

run_test personality test_personality
run_test scheduler test_scheduler
run_test io_priority test_io_priority
run_test memory_policy test_memory_policy
run_test exec_cpu_affinity test_exec_cpu_affinity
finish
