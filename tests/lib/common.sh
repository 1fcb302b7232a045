# shellcheck shell=bash
# Shared harness for silo's integration tests.  Sourced by tests/integration/test_*.sh.
#
# Every test file gets:
#   $WORK    a private temp dir (removed at exit)
#   $ROOT    a private --root state dir inside $WORK
#   silo()   "$SILO" --root "$ROOT" "$@"
#   a busybox-static rootfs (built once per file), make_bundle, new_id,
#   assertions, and run_test NAME FN, which runs FN in a subshell with a
#   timeout, then force-deletes every container the test created.
#
# Output per test: "ok NAME", "FAIL NAME: reason" or "skip NAME: reason" (NAME then
# "NAME (N s)" when the test took 5 s or more).
# Last line: "# RESULT passed=N failed=N skipped=N" (parsed by tests/run-tests).
#
# Environment: SILO (runtime binary; default ./silo of the repo; /usr/sbin/runc
# works too), TEST_FILTER (run only the tests whose name contains it; several
# names separated by spaces or commas run the tests whose name contains any of
# them: TEST_FILTER="pre_dump precopy"),
# TEST_TIMEOUT (seconds per test, default 30; multiplied by TEST_TIME_SCALE, 1 by
# default and 3 under make check SANITIZE=1, where every silo runs slower), MAX_TIMEOUTS (default 3: after
# that many timeouts the rest of the file fails without running), VERBOSE=1
# (show every test's log).

set -u
umask 022   # bundles must stay readable for containers with a user namespace

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
SILO=${SILO:-$REPO_DIR/silo}
case "$SILO" in   # tests cd around: make the runtime path absolute
/*) ;;
*/*) SILO=$(cd "$(dirname "$SILO")" && pwd)/$(basename "$SILO") ;;
*) SILO=$(command -v "$SILO" || echo "$SILO") ;;
esac
TEST_FILTER=${TEST_FILTER:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-30}
MAX_TIMEOUTS=${MAX_TIMEOUTS:-3}   # after this many timeouts the rest of the file fails fast
export SILO
. "$TESTS_DIR/lib/rootfs.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/silo-test.XXXXXX") || exit 1
ROOT=$WORK/state
ROOTFS=$WORK/rootfs
mkdir -p "$ROOT"
chmod 755 "$WORK"   # containers with a user namespace must be able to reach the rootfs

N_PASS=0 N_FAIL=0 N_SKIP=0 N_TIMEOUTS=0

silo() { "$SILO" --root "$ROOT" "$@"; }

# start_seccomp_agent SOCK OUT: tests/lib/seccomp-agent.py listening on SOCK (it
# writes what it receives to OUT); its pid in SECCOMP_AGENT_PID; killed when the
# test ends.
start_seccomp_agent() {
	need_cmd python3
	python3 "$TESTS_DIR/lib/seccomp-agent.py" "$1" "$2" &
	SECCOMP_AGENT_PID=$!
	defer kill "$SECCOMP_AGENT_PID"
	wait_for 10 test -S "$1" || fail "agent did not start"
}

# ---------------------------------------------------------------- runtime info
RUNTIME_NAME=$("$SILO" --version 2>/dev/null | head -n1 | awk '{print $1}')
is_runc() { [ "$RUNTIME_NAME" = runc ] || [ "$(basename "$SILO")" = runc ]; }

# skip REASON: end the current test as skipped.
skip() { echo "$*" > "$T_DIR/skip"; exit 77; }
# silo_only: skip the current test when the runtime under test is runc.
silo_only() { if is_runc; then skip "silo-only (${*:-behaviour differs from runc})"; fi; }
need_cmd() { local c; for c; do command -v "$c" >/dev/null 2>&1 || skip "needs $c"; done; }
# For `env "$(traced_asan_env)" strace ... $SILO`: LeakSanitizer cannot run under
# ptrace (make check SANITIZE=1), so it is off for traced runs only; AddressSanitizer
# and UBSan still check them.
traced_asan_env() { echo "ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"; }

# ---------------------------------------------------------------- assertions
# fail REASON: end the current test as failed.
fail() { echo "$*" > "$T_DIR/reason"; echo "FAILED: $*" >&2; exit 1; }

show() { local s=$1; [ ${#s} -gt 300 ] && s="${s:0:300}..."; printf '%q' "$s"; }
assert_eq() {        # EXPECTED ACTUAL [WHAT]
	[ "$1" = "$2" ] || fail "${3:-value}: expected $(show "$1"), got $(show "$2")"
}
assert_ne() {        # UNEXPECTED ACTUAL [WHAT]
	[ "$1" != "$2" ] || fail "${3:-value}: expected something other than $(show "$1")"
}
assert_contains() {  # HAYSTACK NEEDLE [WHAT]
	case "$1" in *"$2"*) ;; *) fail "${3:-output}: expected to contain $(show "$2"), got $(show "$1")" ;; esac
}
assert_not_contains() {
	case "$1" in *"$2"*) fail "${3:-output}: expected not to contain $(show "$2"), got $(show "$1")" ;; esac
}
assert_match() {     # STRING ERE [WHAT]
	printf '%s' "$1" | grep -Eq -- "$2" || fail "${3:-output}: expected to match /$2/, got $(show "$1")"
}
assert_file_exists() { [ -e "$1" ] || fail "expected file $1 to exist"; }
assert_no_file() { [ ! -e "$1" ] || fail "expected $1 not to exist"; }

# capture CMD...: run CMD, keep stdout+stderr in $OUT and the exit status in $RC.
capture() {
	OUT=$("$@" 2>&1 </dev/null) && RC=0 || RC=$?
	printf '+ %s (rc=%s)\n%s\n' "$*" "$RC" "$OUT" >&2
}
# assert_ok CMD...: CMD must succeed.  Output in $OUT.
assert_ok() {
	capture "$@"
	[ "$RC" -eq 0 ] || fail "'$*' exited $RC: $(show "$OUT")"
}
# assert_fail CMD...: CMD must exit non-zero.  Output in $OUT, status in $RC.
assert_fail() {
	capture "$@"
	[ "$RC" -ne 0 ] || fail "'$*' succeeded but should have failed; output: $(show "$OUT")"
}
# assert_status N CMD...: CMD must exit with status N.
assert_status() {
	local want=$1; shift
	capture "$@"
	[ "$RC" -eq "$want" ] || fail "'$*' exited $RC, expected $want; output: $(show "$OUT")"
}

# wait_for TIMEOUT_SECONDS CMD...: poll (every 0.05 s) until CMD succeeds.
wait_for() {   # wait_for SECONDS CMD...: (scaled by TEST_TIME_SCALE, as the test's timeout)
	local end=$((SECONDS + $1 * ${TEST_TIME_SCALE:-1})); shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$end" ] || return 1
		sleep 0.05
	done
}
# pid_alive PID: the process exists and is neither a zombie nor dead.  One read of
# its status: a zombie reaped between two looks must not count as alive.
pid_alive() {
	local st
	case "${1:-0}" in 0 | *[!0-9]*) return 1 ;; esac
	st=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
state_field() { silo state "$1" 2>/dev/null | jq -r ".$2"; }     # ID FIELD
status_of() { state_field "$1" status; }
status_is() { [ "$(status_of "$1")" = "$2" ]; }
# wait_status ID STATUS [TIMEOUT]
wait_status() {
	wait_for "${3:-10}" status_is "$1" "$2" || fail "container $1: status $(status_of "$1"), expected $2"
}

# ---------------------------------------------------------------- containers
# new_id: print a unique container id and remember it for cleanup.
new_id() {
	local id="c$$-$RANDOM$RANDOM"
	while grep -qx -- "$id" "$T_DIR/ids" 2>/dev/null; do id="c$$-$RANDOM$RANDOM"; done
	echo "$id" >> "$T_DIR/ids"
	echo "$id"
}
# track_id ID: remember an id created some other way.
track_id() { echo "$1" >> "$T_DIR/ids"; }
# defer CMD [ARGS...]: run CMD after the test (LIFO), even if it failed.
defer() { printf '%q ' "$@" >> "$T_DIR/defer"; echo >> "$T_DIR/defer"; }

ensure_rootfs() { [ -x "$ROOTFS/bin/busybox" ] || build_rootfs "$ROOTFS" || fail "cannot build the busybox rootfs"; }

# The configuration `runc spec` writes, used when `$SILO spec` is not usable.
fallback_config() {
	cat <<-'EOF'
	{"ociVersion":"1.0.2","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],
	 "env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/",
	 "capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
	  "effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
	  "permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
	  "ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},
	 "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},
	 "root":{"path":"rootfs","readonly":true},"hostname":"silo",
	 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
	  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
	  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
	  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
	  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
	  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
	  {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],
	 "linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},
	  "namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],
	  "maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list",
	   "/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],
	  "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}
	EOF
}

# make_bundle DIR [JQ_FILTER [jq args...]]: DIR/config.json from `$SILO spec`
# (or the fallback), with terminal off and args ["sh","-c","true"], then
# JQ_FILTER applied (jq args such as --arg p VALUE follow it); DIR/rootfs is a
# hard-link copy of the shared busybox rootfs unless DIR/rootfs exists.
make_bundle() {
	local b=$1 filter=${2:-.}
	shift; [ $# -gt 0 ] && shift
	ensure_rootfs
	mkdir -p "$b"
	rm -f "$b/config.json"
	if ! "$SILO" spec --bundle "$b" >/dev/null 2>&1 || ! jq -e .process "$b/config.json" >/dev/null 2>&1; then
		echo "note: '$SILO spec' unusable, using the fallback config" >&2
		fallback_config > "$b/config.json"
	fi
	[ -e "$b/rootfs" ] || cp -al "$ROOTFS" "$b/rootfs"
	jq_edit "$b" '.process.terminal=false | .process.args=["sh","-c","true"] | .root.path="rootfs"'
	jq_edit "$b" "$filter" "$@"
}
# jq_edit BUNDLE FILTER [jq args...]: edit BUNDLE/config.json in place.
jq_edit() {
	local b=$1 f=$2; shift 2
	jq "$@" "$f" "$b/config.json" > "$b/config.json.new" || fail "jq filter failed: $f"
	mv "$b/config.json.new" "$b/config.json"
}
# add_out_mount BUNDLE: bind-mount BUNDLE/out (host) at /out (container, rw),
# so a container with the spec's read-only root can leave files for the test.
add_out_mount() {
	mkdir -p "$1/out"
	chmod 777 "$1/out"
	jq_edit "$1" '.mounts += [{"destination":"/out","type":"bind","source":$s,"options":["rbind","rw"]}]' --arg s "$1/out"
}
# set_args BUNDLE SHELL_SCRIPT: make the container run sh -c SCRIPT.
set_args() { jq_edit "$1" '.process.args=["sh","-c",$s]' --arg s "$2"; }

# run_in BUNDLE SCRIPT: run `sh -c SCRIPT` in a fresh foreground container;
# output in $OUT, exit status in $RC (not asserted).
run_in() {
	local id; id=$(new_id)
	set_args "$1" "$2"
	capture silo run --bundle "$1" "$id"
}
# run_ok BUNDLE SCRIPT: like run_in, but the container must exit 0.
run_ok() {
	run_in "$@"
	[ "$RC" -eq 0 ] || fail "container '$2' exited $RC: $(show "$OUT")"
}

# create_ct ID BUNDLE [create flags...]: `silo create` that must succeed; the
# container's stdio goes to $T_DIR/ID.out (never to a pipe we wait on).
create_ct() {
	local id=$1 b=$2; shift 2
	silo create --bundle "$b" "$@" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null && RC=0 || RC=$?
	OUT=$(cat "$T_DIR/$id.out")
	[ "$RC" -eq 0 ] || fail "create $id exited $RC: $(show "$OUT")"
}
# run_detached ID BUNDLE [run flags...]: `silo run -d` that must succeed.
run_detached() {
	local id=$1 b=$2; shift 2
	silo run -d --bundle "$b" "$@" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null && RC=0 || RC=$?
	OUT=$(cat "$T_DIR/$id.out")
	[ "$RC" -eq 0 ] || fail "run -d $id exited $RC: $(show "$OUT")"
}
ct_output() { cat "$T_DIR/$1.out" 2>/dev/null; }   # ID: what the container wrote so far
# wait_output ID TEXT [TIMEOUT]: until the container's output contains TEXT.
wait_output() {
	wait_for "${3:-10}" grep -qF -- "$2" "$T_DIR/$1.out" ||
		fail "container $1 never printed $(show "$2"); output: $(show "$(ct_output "$1")")"
}

# host_ns TYPE / ns_of PID TYPE: namespace inode strings like "net:[4026531840]".
host_ns() { readlink "/proc/self/ns/$1"; }
ns_of() { readlink "/proc/$1/ns/$2"; }

# cgroup_dirs_of ID: cgroup directories whose name contains ID.
cgroup_dirs_of() { find /sys/fs/cgroup -maxdepth 6 -type d -name "*$1*" 2>/dev/null; }

# assert_no_leftovers ID [PID]: no state, process, cgroup or mount remains for ID.
# Processes: PID (if given), any process whose command line names ID, any
# process in a cgroup whose path names ID.
assert_no_leftovers() {
	local id=$1 pid=${2:-} left p
	[ ! -e "$ROOT/$id" ] || fail "state dir $ROOT/$id left behind"
	if silo state "$id" >/dev/null 2>&1; then fail "container $id still exists"; fi
	if [ -n "$pid" ] && pid_alive "$pid"; then fail "process $pid left behind"; fi
	left=$(pgrep -f -- "$id" || true)
	for p in $left; do
		pid_alive "$p" && fail "process $p left behind: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	done
	left=$(grep -l -s -F -- "$id" /proc/[0-9]*/cgroup || true)
	for p in $left; do
		p=${p#/proc/}; p=${p%/cgroup}
		pid_alive "$p" && fail "process $p left in a cgroup of $id: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	done
	left=$(cgroup_dirs_of "$id")
	[ -z "$left" ] || fail "cgroup left behind: $left"
	left=$(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo)
	[ -z "$left" ] || fail "mount left behind: $left"
}

# ---------------------------------------------------------------- runner
# Kill PID and all its descendants (by pid, leaves first).
kill_tree() {
	local p=$1 c
	for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do kill_tree "$c"; done
	kill -9 "$p" 2>/dev/null || true
}

# reap_container ID: after a failed delete, kill what is left of container ID
# (its init pid from the state, processes in its cgroups) and remove its
# cgroup dirs, so a broken runtime does not leave junk on the machine.
reap_container() {
	local id=$1 pid d p
	pid=$(timeout 10 "$SILO" --root "$ROOT" state "$id" 2>/dev/null | jq -r '.pid // 0' 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != 0 ] && kill -9 "$pid" 2>/dev/null
	for d in $(cgroup_dirs_of "$id" | sort -r); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		sleep 0.1
		rmdir "$d" 2>/dev/null || true
	done
	rm -rf "${ROOT:?}/$id"
}

cleanup_test() {
	local id line
	if [ -s "$T_DIR/ids" ]; then
		while read -r id; do
			timeout 30 "$SILO" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 < /dev/null
			if [ -e "$ROOT/$id" ] || timeout 10 "$SILO" --root "$ROOT" state "$id" >/dev/null 2>&1 < /dev/null; then
				echo "container $id survived 'delete --force'" >> "$T_DIR/leak"
				reap_container "$id"
			fi
		done < "$T_DIR/ids"
	fi
	if [ -s "$T_DIR/defer" ]; then
		tac "$T_DIR/defer" | while IFS= read -r line; do eval "$line" >/dev/null 2>&1 < /dev/null || true; done
	fi
}

# test_selected NAME: TEST_FILTER is empty or NAME contains one of its words
# (separated by spaces or commas).
test_selected() {
	local f fs
	[ -n "$TEST_FILTER" ] || return 0
	IFS=' ,' read -ra fs <<< "$TEST_FILTER"
	[ ${#fs[@]} -gt 0 ] || return 0   # only separators: no filter
	for f in "${fs[@]}"; do
		[[ "$1" != *"$f"* ]] || return 0
	done
	return 1
}

# run_test NAME FN: run FN in a subshell with a per-test directory $T_DIR and a timeout.
run_test() {
	local name=$1 fn=$2 rc reason pid watchdog t0=$SECONDS took=""
	test_selected "$name" || return 0
	if [ "$N_TIMEOUTS" -ge "$MAX_TIMEOUTS" ]; then
		N_FAIL=$((N_FAIL + 1)); echo "FAIL $name: not run, $N_TIMEOUTS tests of this file timed out"
		return 0
	fi
	T_DIR=$WORK/t.$name
	mkdir -p "$T_DIR"
	: > "$T_DIR/ids"
	(
		set -u
		cd "$T_DIR" || exit 1
		"$fn"
	) > "$T_DIR/log" 2>&1 < /dev/null &
	pid=$!
	local limit=$((TEST_TIMEOUT * ${TEST_TIME_SCALE:-1}))
	( sleep "$limit" && echo "timed out after ${limit}s" > "$T_DIR/timeout" && kill_tree "$pid" ) \
		> /dev/null 2>&1 < /dev/null &
	watchdog=$!
	{ wait "$pid"; } 2>/dev/null && rc=0 || rc=$?
	kill_tree "$watchdog"
	wait "$watchdog" 2>/dev/null
	cleanup_test
	if [ -e "$T_DIR/timeout" ]; then
		rc=1; cp "$T_DIR/timeout" "$T_DIR/reason"
		N_TIMEOUTS=$((N_TIMEOUTS + 1))
	fi
	# a fail() in a nested subshell (pipeline, $(...)) still fails the test
	if [ "$rc" -eq 0 ] && [ -e "$T_DIR/reason" ]; then rc=1; fi
	if [ "$rc" -eq 0 ] && [ -s "$T_DIR/leak" ]; then rc=1; cp "$T_DIR/leak" "$T_DIR/reason"; fi
	# a slow test says how slow: the first sign of one drifting towards its timeout
	[ $((SECONDS - t0)) -lt 5 ] || took=" ($((SECONDS - t0)) s)"
	# a test may leave one line for its ok line (e.g. how many kill points it tried)
	if [ "$rc" -eq 0 ] && [ -s "$T_DIR/note" ]; then took="$took: $(head -n 1 "$T_DIR/note")"; fi
	if [ "$rc" -eq 0 ]; then
		N_PASS=$((N_PASS + 1)); echo "ok $name$took"
	elif [ "$rc" -eq 77 ]; then
		N_SKIP=$((N_SKIP + 1)); echo "skip $name: $(cat "$T_DIR/skip" 2>/dev/null)"
	else
		reason=$(head -c 2000 "$T_DIR/reason" 2>/dev/null | tr '\n' ' ')
		N_FAIL=$((N_FAIL + 1)); echo "FAIL $name$took: ${reason:-exit status $rc}"
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ "${VERBOSE:-0}" = 1 ]; then
		tail -n 40 "$T_DIR/log" | sed 's/^/    | /'
	fi
	return 0
}

finish() {
	local m
	trap - EXIT   # once: files that call it at their end exit through the trap too
	# Unmount anything still mounted under $WORK (a leak: counted as a failure).
	for m in $(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
		echo "FAIL leftover-mount: $m"
		N_FAIL=$((N_FAIL + 1))
		umount -l "$m" 2>/dev/null || true
	done
	# Containers still known to the runtime, or state dirs of ids the tests used.
	local left id
	left=$(timeout 10 "$SILO" --root "$ROOT" list -q 2>/dev/null < /dev/null | tr '\n' ' ')
	for id in $(cat "$WORK"/t.*/ids 2>/dev/null); do
		[ -e "$ROOT/$id" ] && [[ " $left " != *" $id "* ]] && left="$left$id "
	done
	if [ -n "${left// /}" ]; then
		echo "FAIL leftover-state: $left"
		N_FAIL=$((N_FAIL + 1))
		for id in $left; do reap_container "$id"; done
	fi
	rm -rf "$WORK"
	echo "# RESULT passed=$N_PASS failed=$N_FAIL skipped=$N_SKIP"
}

if [ ! -x "$SILO" ]; then
	echo "FAIL setup: runtime $SILO is not executable (build it with make, or set SILO)"
	rm -rf "$WORK"
	echo "# RESULT passed=0 failed=1 skipped=0"
	exit 1
fi
trap finish EXIT
trap 'exit 130' INT TERM
