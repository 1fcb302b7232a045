# shellcheck shell=bash
# Crash injection for the integration tests (sourced after common.sh): a silo
# command is killed with SIGKILL just before its Nth system call, then recovered
# from the way a client would, and nothing of the container may be left.
#
#   fault_record SILO_ARGS...  run `silo SILO_ARGS...` once under strace, keeping
#                              its system calls in order ($FAULT_SEQ); sets FAULT_N
#   kill_at N SILO_ARGS...     run `silo SILO_ARGS...` (the last argument is the
#                              container id) killed on entry to its Nth system
#                              call, then `silo list` must show the container if
#                              its state directory exists, `silo delete --force`
#                              must succeed, and assert_no_leftovers must hold
#   fault_points [SAMPLE]      the kill points to try: all of 1..FAULT_N with
#                              FAULTS_ALL=1 (make check-faults), else about
#                              SAMPLE (default 40): half evenly spread, half at
#                              and after the calls that commit something
#                              (fault_milestones)
#   fault_kill N SILO_ARGS...  only the killed run (exit status in RC)
#   fault_id                   a fresh container id, always of the same length (a
#                              length change could change the number of calls)
#
# Why two runs: strace counts `inject=...:when=N` per system call and per tracee,
# never over all calls ("Accounting of syscalls that are subject to injection is
# done per syscall and per tracee", strace(1)): `-e inject=all:signal=SIGKILL:when=N`
# kills at the first call *name* that reaches its Nth use.  So a complete run is
# recorded first, and kill point N becomes "the k-th call of S": S is the Nth call
# of the recorded run, k the number of calls of S up to it.  Only the silo process
# itself is traced (no -f): the processes it makes are what is tested, untraced.
# A SIGKILL injected on entry stops the process before the call runs, so point N
# means "the first N-1 calls happened, the Nth did not".
#
# Hooks: FAULT_PREP, when set, is a command run with the id before each run (a
# container that `start` or `delete` needs); FAULT_PIDS, when set, is a directory
# whose files hold pids (one a line) that must not be alive after the recovery
# (e.g. written by hooks); it is emptied before each run.  FAULT_CHECK, when set,
# is a command run with the id right after the killed run and before the recovery
# (what must hold of a container that outlives the killed command: it survives,
# is not left frozen, an exec'd process is in its cgroup...).
# Counters: FAULT_HITS (runs that were really killed), FAULT_RUNS.

FAULT_SEQ=
FAULT_N=0
FAULT_HITS=0
FAULT_RUNS=0
FAULT_PREP=${FAULT_PREP:-}
FAULT_PIDS=${FAULT_PIDS:-}
FAULT_CHECK=${FAULT_CHECK:-}
FAULT_TRACE_ARGS=(-qq -o /dev/null)

need_strace() { command -v strace >/dev/null 2>&1 || skip "needs strace (apt-get install strace)"; }

fault_id() { printf 'k%05d-%05d%05d\n' "$$" "$RANDOM" "$RANDOM" | tee -a "$T_DIR/ids"; }

# fault_args ARGS_WITH_@ID@...: FAULT_ARGS, the arguments with @ID@ a fresh fault_id.
fault_args() {
	local id a
	id=$(fault_id)
	FAULT_ARGS=()
	for a; do FAULT_ARGS+=("${a//@ID@/$id}"); done
}

# fault_enough_kills: after a series of kill_at, their count.  A run that was not
# killed (the recorded call did not come) proves nothing: most must be real kills.
fault_enough_kills() {
	echo "kill points: $FAULT_RUNS tried, $FAULT_HITS killed, of $FAULT_N calls" | tee "$T_DIR/note" >&2
	[ "$FAULT_HITS" -ge $((FAULT_RUNS * 3 / 4)) ] ||
		fail "only $FAULT_HITS of $FAULT_RUNS runs were killed: the injection does not work"
}

fault_record() {
	local id=${*: -1} log=$T_DIR/fault.trace
	FAULT_SEQ=$T_DIR/fault.seq
	[ -z "$FAULT_PREP" ] || $FAULT_PREP "$id"
	env "$(traced_asan_env)" strace -qq -o "$log" "$SILO" --root "$ROOT" "$@" > "$T_DIR/fault.out" 2>&1 < /dev/null ||
		fail "fault_record: '$*' failed: $(cat "$T_DIR/fault.out")"
	grep -oE '^[a-z_0-9]+\(' "$log" | tr -d '(' > "$FAULT_SEQ"
	FAULT_N=$(wc -l < "$FAULT_SEQ")
	[ "$FAULT_N" -gt 10 ] || fail "fault_record: only $FAULT_N system calls recorded"
	timeout 30 "$SILO" --root "$ROOT" delete --force "$id" > /dev/null 2>&1 < /dev/null
	echo "fault_record: '$*': $FAULT_N system calls" >&2
}

# The calls where silo hands over or commits something (the state directory, a
# state file's rename, the clone, a message to or from the child, a hook's fork
# and wait), and the one after each: where a crash is most likely to fall into a
# gap.  With a sample, at most SAMPLE/2 of them, evenly spread.
fault_milestones() {
	grep -nxE 'mkdirat|renameat|renameat2|clone3|clone|fork|sendmsg|recvmsg|wait4|mount|umount2|rmdir|pidfd_send_signal|exit_group' \
		"$FAULT_SEQ" | cut -d: -f1 | while read -r n; do echo "$n"; echo $((n + 1)); done
}

fault_points() {
	local sample=${1:-40} step ms nm
	if [ "${FAULTS_ALL:-0}" = 1 ]; then
		seq 1 "$FAULT_N"
		return
	fi
	ms=$(fault_milestones | awk -v max="$FAULT_N" '$1 <= max' | sort -nu)
	nm=$(wc -w <<< "$ms")
	step=$(((nm + sample / 2 - 1) / (sample / 2)))
	ms=$(awk -v s="$step" '(NR - 1) % s == 0' <<< "$ms")
	step=$(((FAULT_N + sample / 2 - 1) / (sample / 2)))
	{ seq 1 "$step" "$FAULT_N"; echo "$ms"; } | awk 'NF' | sort -nu
}

# fault_kill N SILO_ARGS...: only the killed run; its exit status in RC (137 when
# it was killed), FAULT_WHERE says "point N (S #k)".
fault_kill() {
	local n=$1 s k
	shift
	s=$(sed -n "${n}p" "$FAULT_SEQ")
	[ -n "$s" ] || fail "fault_kill: no system call number $n (of $FAULT_N)"
	k=$(head -n "$n" "$FAULT_SEQ" | grep -cx -- "$s")
	FAULT_WHERE="point $n ($s #$k)"
	echo "kill at $FAULT_WHERE: $*" >&2
	# (in braces with stderr closed: bash's "Killed" report would only be noise)
	{ env "$(traced_asan_env)" strace "${FAULT_TRACE_ARGS[@]}" -e trace="$s" -e inject="$s:signal=SIGKILL:when=$k" \
		"$SILO" --root "$ROOT" "$@" > "$T_DIR/fault.out" 2>&1 < /dev/null; } 2> /dev/null && RC=0 || RC=$?
	FAULT_RUNS=$((FAULT_RUNS + 1))
	[ "$RC" -ne 137 ] || FAULT_HITS=$((FAULT_HITS + 1))
}

kill_at() {
	local n=$1 id=${*: -1} rc p pids
	shift
	if [ -n "$FAULT_PIDS" ]; then rm -rf "$FAULT_PIDS"; mkdir -p "$FAULT_PIDS"; fi
	[ -z "$FAULT_PREP" ] || $FAULT_PREP "$id"
	fault_kill "$n" "$@"
	rc=$RC
	[ -z "$FAULT_CHECK" ] || ( $FAULT_CHECK "$id" ) || fail "kill $FAULT_WHERE, rc $rc: $(cat "$T_DIR/reason" 2>/dev/null)"
	# What a client does after its runtime died: look, then delete.
	if [ -e "$ROOT/$id" ]; then
		"$SILO" --root "$ROOT" list -q 2>&1 | grep -qx -- "$id" ||
			fail "kill $FAULT_WHERE, rc $rc: $id has a state directory but 'silo list' does not show it"
	fi
	capture "$SILO" --root "$ROOT" delete --force "$id"
	[ "$RC" -eq 0 ] || fail "kill $FAULT_WHERE, rc $rc: delete --force exited $RC: $(show "$OUT")"
	# assert_no_leftovers fails with its own reason: say which kill point it was.
	( assert_no_leftovers "$id" ) || fail "kill $FAULT_WHERE, rc $rc: $(cat "$T_DIR/reason")"
	if [ -n "$FAULT_PIDS" ]; then
		pids=$(cat "$FAULT_PIDS"/* 2>/dev/null)
		for p in $pids; do
			pid_alive "$p" && fail "kill $FAULT_WHERE, rc $rc: process $p left behind: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
		done
	fi
	return 0
}

# setsid_hook DIR WAIT: a hook (JSON) whose child leaves the hook's process group
# and session (setsid -f, as a daemon does; its pid in DIR/daemon) and whose other
# child double-forks (DIR/grandchild): neither is in the group hook.pid names.  It
# prints `started` once both run, then sleeps WAIT seconds.
# hook_escapees_gone WHAT: the two (of $FAULT_PIDS) are gone within 5 s.
setsid_hook() {
	local d=$1 wait=$2
	jq -n --arg d "$d" --arg w "$wait" '{path: "/bin/sh", args: ["sh", "-c",
		"setsid -f sh -c \"echo \\$\\$ > \($d)/daemon; exec sleep 31\"
		 setsid -f sh -c \"(sleep 32 & echo \\$! > \($d)/grandchild) &\"
		 while [ ! -s \($d)/daemon ] || [ ! -s \($d)/grandchild ]; do sleep 0.02; done
		 echo started; sleep \($w)"]}'
}
# setsid_hook_on BUNDLE WAIT [JSON]: BUNDLE's createRuntime hook is a setsid_hook
# (in FAULT_PIDS=$T_DIR/pids) with the fields of JSON added (e.g. a timeout).
setsid_hook_on() {
	local extra='{}'
	[ $# -lt 3 ] || extra=$3
	FAULT_PIDS=$T_DIR/pids
	mkdir -p "$FAULT_PIDS"
	jq_edit "$1" '.hooks.createRuntime = [$h + $x]' --argjson h "$(setsid_hook "$FAULT_PIDS" "$2")" --argjson x "$extra"
}
hook_escapees_gone() {
	local p
	for p in $(cat "$FAULT_PIDS/daemon" "$FAULT_PIDS/grandchild" 2>/dev/null); do
		wait_for 5 eval "! pid_alive $p" ||
			fail "$1: the hook's escaped process $p is left: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	done
}
