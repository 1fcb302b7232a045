#!/bin/bash
# Container lifecycle: create/start/state/kill/delete/run/list.
. "$(dirname "$0")/../lib/common.sh"

# A container that prints a line, then waits until the host creates
# rootfs/tmp/go (so the test decides when it stops).
WAIT_GO='echo hello-from-container; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo bye'
# A container that keeps running until it gets SIGTERM (pid 1 needs a handler).
SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

test_create_start_delete() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$WAIT_GO"
	create_ct "$id" "$b" --pid-file "$T_DIR/pidfile"

	assert_ok silo state "$id"
	local st=$OUT
	assert_eq created "$(jq -r .status <<< "$st")" "status after create"
	assert_eq "$id" "$(jq -r .id <<< "$st")" "state id"
	pid=$(jq -r .pid <<< "$st")
	pid_alive "$pid" || fail "state pid $pid is not alive after create"
	assert_file_exists "$T_DIR/pidfile"
	assert_eq "$pid" "$(tr -d '\n' < "$T_DIR/pidfile")" "pid file content"
	sleep 0.2
	assert_not_contains "$(ct_output "$id")" hello-from-container "output before start"

	assert_ok silo start "$id"
	wait_output "$id" hello-from-container
	wait_status "$id" running
	assert_eq "$pid" "$(state_field "$id" pid)" "pid after start"

	touch "$b/rootfs/tmp/go"
	wait_status "$id" stopped
	wait_output "$id" bye
	pid_alive "$pid" && fail "pid $pid still alive after the process exited"

	assert_ok silo delete "$id"
	assert_fail silo state "$id"
	assert_no_leftovers "$id" "$pid"
}

test_state_json_fields() {
	local id b=$T_DIR/b k
	id=$(new_id)
	make_bundle "$b" '.annotations={"org.silo.test":"yes"}'
	set_args "$b" "$SLEEPER"
	create_ct "$id" "$b"
	assert_ok silo state "$id"
	for k in ociVersion id pid status bundle created; do
		jq -e "has(\"$k\")" <<< "$OUT" >/dev/null || fail "state JSON lacks $k: $OUT"
	done
	assert_eq "$b" "$(jq -r .bundle <<< "$OUT")" "bundle"
	assert_eq "yes" "$(jq -r '.annotations["org.silo.test"]' <<< "$OUT")" "annotation"
	assert_match "$(jq -r .created <<< "$OUT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$' "created"
	if ! is_runc; then   # runc 1.1 omits rootfs/owner at times; silo always prints them
		assert_eq "$b/rootfs" "$(jq -r .rootfs <<< "$OUT")" "rootfs"
		jq -e 'has("owner") and has("annotations")' <<< "$OUT" >/dev/null || fail "state JSON lacks owner/annotations"
	fi
}

test_default_bundle_is_cwd() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	(cd "$b" && silo create "$id" > "$T_DIR/out" 2>&1 < /dev/null) || fail "create in the bundle dir failed: $(cat "$T_DIR/out")"
	assert_eq "$b" "$(state_field "$id" bundle)" "bundle"
	assert_ok silo delete --force "$id"
}

test_run_exit_codes() {
	local b=$T_DIR/b
	make_bundle "$b"
	run_in "$b" 'echo out-line; exit 0'
	assert_eq 0 "$RC" "exit code"
	assert_contains "$OUT" out-line
	run_in "$b" 'exit 3'
	assert_eq 3 "$RC" "exit code of 'exit 3'"
	run_in "$b" 'echo to-stderr >&2; exit 0'
	assert_contains "$OUT" to-stderr "stderr"
}

test_run_killed_by_signal() {
	local b=$T_DIR/b
	# Without a pid namespace: pid 1 of a namespace cannot SIGKILL itself.
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "pid"))'
	run_in "$b" 'kill -9 $$; echo survived'
	assert_eq 137 "$RC" "exit code of a container killed by SIGKILL"
	assert_not_contains "$OUT" survived
}

test_run_foreground_killed_from_outside() {
	local id b=$T_DIR/b pid rc
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'echo ready; sleep 1000'
	silo run --bundle "$b" --pid-file "$T_DIR/pidfile" "$id" > "$T_DIR/out" 2>&1 < /dev/null &
	pid=$!
	wait_for 10 grep -q ready "$T_DIR/out" || fail "container never started: $(cat "$T_DIR/out")"
	assert_ok silo kill "$id" KILL
	wait "$pid" && rc=0 || rc=$?
	assert_eq 137 "$rc" "exit code of run when the container is SIGKILLed"
	wait_for 5 sh -c "! $(printf '%q' "$SILO") --root $ROOT state $id" ||
		fail "foreground run did not delete the container after it exited"
}

test_run_detach_kill_delete() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b" --pid-file "$T_DIR/pidfile"
	wait_status "$id" running
	pid=$(cat "$T_DIR/pidfile")
	assert_eq "$pid" "$(state_field "$id" pid)" "pid file vs state"
	wait_output "$id" ready
	assert_ok silo kill "$id"             # default signal: TERM
	wait_status "$id" stopped
	pid_alive "$pid" && fail "process $pid survived SIGTERM"
	assert_ok silo delete "$id"
	assert_no_leftovers "$id" "$pid"
}

test_run_keep() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'exit 5'
	capture silo run --keep --bundle "$b" "$id"
	assert_eq 5 "$RC" "exit code"
	assert_eq stopped "$(status_of "$id")" "status after run --keep"
	assert_ok silo delete "$id"
	assert_no_leftovers "$id"
}

test_kill_signal_forms() {
	local id b=$T_DIR/b sig n=0
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	set_args "$b" 'trap "echo usr1 >> /out/sigs" USR1; trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
	run_detached "$id" "$b"
	wait_output "$id" ready
	for sig in USR1 SIGUSR1 10; do
		n=$((n + 1))
		assert_ok silo kill "$id" "$sig"
		wait_for 5 sh -c "[ \$(grep -c usr1 $b/out/sigs 2>/dev/null) -ge $n ]" ||
			fail "signal '$sig' not delivered"
	done
	assert_ok silo kill "$id" SIGTERM
	wait_status "$id" stopped
}

test_kill_by_number_and_name() {
	local id b=$T_DIR/b sig
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	for sig in KILL 9 SIGKILL TERM 15; do
		id=$(new_id)
		run_detached "$id" "$b"
		wait_output "$id" ready
		assert_ok silo kill "$id" "$sig"
		wait_status "$id" stopped
		assert_ok silo delete "$id"
	done
}

test_kill_all() {
	local id b=$T_DIR/b p pids
	id=$(new_id)
	# No pid namespace, so killing init alone would leave the children running.
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "pid"))'
	add_out_mount "$b"
	set_args "$b" 'sleep 1000 & echo $! >> /out/pids; sleep 1000 & echo $! >> /out/pids; echo ready; wait'
	run_detached "$id" "$b"
	wait_output "$id" ready
	pids="$(cat "$b/out/pids") $(state_field "$id" pid)"
	for p in $pids; do pid_alive "$p" || fail "process $p not running before kill --all"; done
	assert_ok silo kill --all "$id" KILL
	for p in $pids; do
		wait_for 5 sh -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status" ||
			fail "process $p survived kill --all"
	done
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	assert_no_leftovers "$id"
}

test_delete_running_needs_force() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_fail silo delete "$id"
	assert_eq running "$(status_of "$id")" "status after a refused delete"
	assert_ok silo delete --force "$id"
	assert_fail silo state "$id"
	wait_for 5 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status" || fail "pid $pid survived delete --force"
	assert_no_leftovers "$id" "$pid"
}

test_delete_force_created() {
	local id b=$T_DIR/b pid
	id=$(new_id)
	make_bundle "$b"
	create_ct "$id" "$b"
	pid=$(state_field "$id" pid)
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$pid"
}

test_list() {
	local id1 id2 b=$T_DIR/b
	id1=$(new_id); id2=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	create_ct "$id1" "$b"
	run_detached "$id2" "$b"
	assert_ok silo list -q
	assert_contains "$OUT" "$id1"
	assert_contains "$OUT" "$id2"
	assert_eq 2 "$(grep -c . <<< "$OUT")" "lines of list -q"
	assert_ok silo list --format json
	assert_eq created "$(jq -r ".[] | select(.id == \"$id1\") | .status" <<< "$OUT")" "json status of $id1"
	assert_eq running "$(jq -r ".[] | select(.id == \"$id2\") | .status" <<< "$OUT")" "json status of $id2"
	assert_ok silo list
	assert_contains "$OUT" ID "table header"
	assert_contains "$OUT" "$id1"
}

test_list_empty() {
	assert_ok silo list -q
	assert_eq "" "$OUT" "list -q with no containers"
	assert_ok silo list --format json
	assert_eq 0 "$(jq 'length' <<< "${OUT:-null}")" "json list length"
}

test_concurrent_creates() {
	local b=$T_DIR/b i ids=() pids=() id rc
	make_bundle "$b"
	for i in 1 2 3 4 5; do
		id=$(new_id); ids+=("$id")
		silo create --bundle "$b" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null &
		pids+=($!)
	done
	for i in 0 1 2 3 4; do
		wait "${pids[$i]}" && rc=0 || rc=$?
		assert_eq 0 "$rc" "exit status of concurrent create ${ids[$i]} ($(cat "$T_DIR/${ids[$i]}.out"))"
	done
	assert_ok silo list -q
	for id in "${ids[@]}"; do
		assert_contains "$OUT" "$id" "list -q"
		assert_eq created "$(status_of "$id")" "status of $id"
	done
	for id in "${ids[@]}"; do assert_ok silo delete "$id"; done
	for id in "${ids[@]}"; do assert_no_leftovers "$id"; done
}

test_concurrent_delete_force_same_id() {
	local id b=$T_DIR/b p1 p2 r1 r2 pid
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	silo delete --force "$id" > "$T_DIR/d1" 2>&1 < /dev/null & p1=$!
	silo delete --force "$id" > "$T_DIR/d2" 2>&1 < /dev/null & p2=$!
	wait "$p1" && r1=0 || r1=$?
	wait "$p2" && r2=0 || r2=$?
	[ "$r1" -eq 0 ] || [ "$r2" -eq 0 ] || fail "both deletes failed: $(cat "$T_DIR/d1") / $(cat "$T_DIR/d2")"
	# The loser, if any, must say something sensible (the container is gone), in one line or two.
	if [ "$r1" -ne 0 ]; then assert_match "$(cat "$T_DIR/d1")" 'not exist|no such|not found' "losing delete's error"; fi
	if [ "$r2" -ne 0 ]; then assert_match "$(cat "$T_DIR/d2")" 'not exist|no such|not found' "losing delete's error"; fi
	[ "$(wc -l < "$T_DIR/d1")" -le 2 ] && [ "$(wc -l < "$T_DIR/d2")" -le 2 ] || fail "noisy delete output"
	assert_no_leftovers "$id" "$pid"
}

test_concurrent_start_same_id() {
	local id b=$T_DIR/b p1 p2 r1 r2
	id=$(new_id)
	make_bundle "$b"
	add_out_mount "$b"
	set_args "$b" 'echo started >> /out/starts; echo ready; while :; do sleep 0.05; done'
	create_ct "$id" "$b"
	silo start "$id" > "$T_DIR/s1" 2>&1 < /dev/null & p1=$!
	silo start "$id" > "$T_DIR/s2" 2>&1 < /dev/null & p2=$!
	wait "$p1" && r1=0 || r1=$?
	wait "$p2" && r2=0 || r2=$?
	[ $((r1 == 0)) -ne $((r2 == 0)) ] || fail "exactly one start must succeed: rc $r1 ($(cat "$T_DIR/s1")) and $r2 ($(cat "$T_DIR/s2"))"
	wait_output "$id" ready
	sleep 0.2
	assert_eq 1 "$(grep -c started "$b/out/starts")" "times the process started"
	assert_eq running "$(status_of "$id")" "status"
}

# --pid-file is written through a temporary file next to it: a symlink or a
# FIFO planted at the name silo used to use (.NAME.tmp) must neither make
# root write through the symlink nor hang create; the same for exec.
test_pid_file_planted_tmp() {
	local id b=$T_DIR/b pid d=$T_DIR/pids rc
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	mkdir -p "$d"
	echo precious > "$T_DIR/victim"
	ln -s "$T_DIR/victim" "$d/.create.pid.tmp"
	mkfifo "$d/.run.pid.tmp"
	ln -s "$T_DIR/victim" "$d/.exec.pid.tmp"
	create_ct "$id" "$b" --pid-file "$d/create.pid"
	pid=$(state_field "$id" pid)
	assert_eq "$pid" "$(cat "$d/create.pid")" "pid file of create"
	assert_eq precious "$(cat "$T_DIR/victim")" "the symlink's target after create"
	[ -L "$d/create.pid" ] && fail "the pid file is a symlink"
	assert_ok silo start "$id"
	wait_output "$id" ready
	silo exec --detach --pid-file "$d/exec.pid" "$id" sleep 5 </dev/null >/dev/null 2>&1 ||
		fail "exec --detach --pid-file failed"
	pid_alive "$(cat "$d/exec.pid")" || fail "exec pid file: $(cat "$d/exec.pid")"
	assert_eq precious "$(cat "$T_DIR/victim")" "the symlink's target after exec"

	local id2; id2=$(new_id)
	timeout 20 "$SILO" --root "$ROOT" run -d --bundle "$b" --pid-file "$d/run.pid" "$id2" \
		> "$T_DIR/$id2.out" 2>&1 < /dev/null && rc=0 || rc=$?
	[ "$rc" -ne 124 ] || fail "run -d hung on a FIFO at the pid file's old temporary name"
	assert_eq 0 "$rc" "exit status of run -d ($(ct_output "$id2"))"
	assert_eq "$(state_field "$id2" pid)" "$(cat "$d/run.pid")" "pid file of run -d"
	assert_ok silo delete --force "$id"
	assert_ok silo delete --force "$id2"
	assert_no_leftovers "$id" "$pid"
	assert_no_leftovers "$id2"
	assert_eq precious "$(cat "$T_DIR/victim")" "the symlink's target at the end"
}

# A failing create removes only the state directory it made.  Deterministic
# stand-in for a concurrent delete: A's createRuntime hook removes A's state
# directory (as a delete racing A's mkdir and flock could) and creates B under
# the same id; then the hook fails and A aborts.  B must survive A's abort.
test_failed_create_removes_only_its_own_dir() {
	local id b=$T_DIR/b b2=$T_DIR/b2 pid
	id=$(new_id)
	defer reap_container "$id"   # an orphaned B has no state for delete to find
	make_bundle "$b2" '.linux.cgroupsPath = $p' --arg p "/silo-test-$id-b"
	set_args "$b2" "$SLEEPER"
	cat > "$T_DIR/hook" <<-EOF
	#!/bin/sh
	rm -rf "$ROOT/$id"
	"$SILO" --root "$ROOT" create --bundle "$b2" "$id" > "$T_DIR/b.out" 2>&1 < /dev/null || echo "create B failed" >&2
	exit 1
	EOF
	chmod +x "$T_DIR/hook"
	make_bundle "$b" '.hooks.createRuntime = [{"path": $h}] | .linux.cgroupsPath = $p' \
		--arg h "$T_DIR/hook" --arg p "/silo-test-$id-a"
	assert_fail silo create --bundle "$b" "$id"
	assert_not_contains "$OUT" "create B failed" "create A's error"
	assert_ok silo state "$id"
	assert_eq created "$(jq -r .status <<< "$OUT")" "status of B after A's failed create"
	pid=$(jq -r .pid <<< "$OUT")
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id" "$pid"
}

# Many creates and deletes of one id at once: each create either succeeds or
# finds the id taken, each delete either deletes or finds nothing, and in the
# end list, the state root and the host agree: nothing is left.
test_concurrent_create_delete_same_id() {
	local id b=$T_DIR/b w pids=() end f
	id=$(new_id)
	defer reap_container "$id"   # a container whose state was lost has none for delete to find
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	: > "$T_DIR/created"
	end=$((SECONDS + 12))
	for w in 1 2 3 4; do
		(
			for _ in $(seq 50); do
				[ $SECONDS -lt $end ] || break
				if "$SILO" --root "$ROOT" create --bundle "$b" "$id" > "$T_DIR/w$w.c" 2>&1 < /dev/null; then
					echo "$w" >> "$T_DIR/created"
				else
					grep -q "already exists" "$T_DIR/w$w.c" || cat "$T_DIR/w$w.c" >> "$T_DIR/bad"
				fi
				"$SILO" --root "$ROOT" delete --force "$id" > "$T_DIR/w$w.d" 2>&1 < /dev/null ||
					cat "$T_DIR/w$w.d" >> "$T_DIR/bad"   # --force: a missing id is no error
			done
		) &
		pids+=($!)
	done
	for w in "${pids[@]}"; do wait "$w"; done
	[ ! -s "$T_DIR/bad" ] || fail "unexpected errors: $(head -c 600 "$T_DIR/bad")"
	# A few successful creates among the deletes are a race (a loaded machine or
	# make check SANITIZE=1 manages only a handful in 12 s); none would test nothing.
	[ "$(wc -l < "$T_DIR/created")" -ge 4 ] || fail "only $(wc -l < "$T_DIR/created") creates succeeded: no race tried"
	echo "$(wc -l < "$T_DIR/created") creates succeeded" >&2
	assert_ok silo list -q
	local listed=$OUT
	for f in "$ROOT"/*; do
		[ -e "$f" ] || continue
		f=${f##*/}
		[[ $'\n'"$listed"$'\n' == *$'\n'"$f"$'\n'* ]] || fail "state root holds $f, list does not show it"
	done
	for f in "$ROOT"/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f##*/} in .seccomp | .network) ;; *) fail "state root holds ${f##*/}" ;; esac
	done
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

test_version() {
	assert_ok "$SILO" --version
	assert_match "$OUT" '[0-9]+\.[0-9]+\.[0-9]+' "--version output"
	is_runc || assert_contains "$OUT" silo "--version output"
}

# A paused (frozen) container is killed and deleted by `delete --force` promptly:
# a frozen task does not die of SIGKILL until it is thawed.
test_delete_force_paused() {
	local b=$T_DIR/b id pid t0 t1
	make_bundle "$b"
	set_args "$b" 'trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	pid=$(state_field "$id" pid)
	if [ "${FREEZE_BY_HAND:-1}" = 1 ] && [ -d /sys/fs/cgroup/freezer ]; then
		# frozen behind silo's back, in the v1 freezer (its state still says running)
		local fz
		fz=/sys/fs/cgroup/freezer$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")
		echo FROZEN > "$fz/freezer.state"
		wait_for 5 grep -qx FROZEN "$fz/freezer.state" || fail "cannot freeze $fz"
	else
		assert_ok silo pause "$id"
		wait_status "$id" paused
	fi
	t0=$(date +%s%N)
	assert_ok timeout 20 "$SILO" --root "$ROOT" delete --force "$id"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "delete --force took $(((t1 - t0) / 1000000)) ms"
	wait_for 5 sh -c "! kill -0 $pid 2>/dev/null" || fail "pid $pid still alive"
	assert_no_leftovers "$id"
}

# ---- sd-notify (NOTIFY_SOCKET), as runc and crun pass it through
# build_sdnotify DEST: a static sd_notify(3) of one message (busybox has none).
build_sdnotify() {
	need_cmd cc python3
	cat > "$T_DIR/sdnotify.c" <<-'EOF'
	#include <stdlib.h>
	#include <string.h>
	#include <sys/socket.h>
	#include <sys/un.h>
	int main(int argc, char **argv) {
		const char *p = getenv("NOTIFY_SOCKET");
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		if (!p || argc < 2) return 2;
		strncpy(a.sun_path, p, sizeof a.sun_path - 1);
		int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		return sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0;
	}
	EOF
	cc -static -O -o "$1" "$T_DIR/sdnotify.c" 2>/dev/null || skip "cannot build a static helper (cc -static)"
}
# notify_listener SOCK FILE: a datagram socket on the host (systemd's side) that
# appends each message it gets to FILE.
notify_listener() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".up", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m + "\n--\n")
' "$1" "$2" &
	defer kill $!
	wait_for 10 test -e "$2.up" || fail "notify listener did not start"
}

# run --detach returns once the program said READY=1; every message reaches the
# host's socket, then MAINPID=<the container's pid>; the container sees only its
# own socket.
test_sdnotify_run_detached() {
	local b=$T_DIR/b id pid t0 t1
	make_bundle "$b"
	build_sdnotify "$b/rootfs/bin/sdnotify"
	notify_listener "$T_DIR/host.sock" "$T_DIR/msgs"
	set_args "$b" 'echo "env=[$NOTIFY_SOCKET]"; [ -S /run/notify/notify.sock ] && echo sock-ok
		[ -e '"$T_DIR"'/host.sock ] && echo host-socket-visible
		sleep 1; sdnotify STATUS=starting; sdnotify READY=1 && echo notified
		trap "exit 0" TERM; while :; do sleep 0.05; done'
	id=$(new_id)
	t0=$(date +%s%N)
	NOTIFY_SOCKET=$T_DIR/host.sock run_detached "$id" "$b"
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -ge 900 ] || fail "run -d returned before READY=1 ($(((t1 - t0) / 1000000)) ms)"
	pid=$(state_field "$id" pid)
	wait_for 5 grep -q MAINPID "$T_DIR/msgs" || fail "no MAINPID: $(show "$(cat "$T_DIR/msgs" 2>/dev/null)")"
	OUT=$(cat "$T_DIR/msgs")
	assert_contains "$OUT" "STATUS=starting" "message relayed"
	assert_contains "$OUT" "READY=1" "READY=1 relayed"
	assert_contains "$OUT" "MAINPID=$pid" "MAINPID is the container's"
	wait_output "$id" notified
	assert_contains "$(ct_output "$id")" "env=[/run/notify/notify.sock]" "NOTIFY_SOCKET inside"
	assert_contains "$(ct_output "$id")" sock-ok "the socket inside"
	assert_not_contains "$(ct_output "$id")" host-socket-visible
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# create, then start: `start` relays and returns at READY=1, without holding the
# container's lock meanwhile (state answers); a foreground run relays too.
test_sdnotify_create_start() {
	local b=$T_DIR/b id spid
	make_bundle "$b"
	build_sdnotify "$b/rootfs/bin/sdnotify"
	add_out_mount "$b"
	notify_listener "$T_DIR/host.sock" "$T_DIR/msgs"
	set_args "$b" 'sdnotify STATUS=waiting; while [ ! -e /out/go ]; do sleep 0.05; done
		sdnotify READY=1; trap "exit 0" TERM; while :; do sleep 0.05; done'
	id=$(new_id)
	NOTIFY_SOCKET=$T_DIR/host.sock create_ct "$id" "$b"
	NOTIFY_SOCKET=$T_DIR/host.sock "$SILO" --root "$ROOT" start "$id" > "$T_DIR/start.out" 2>&1 &
	spid=$!
	wait_for 10 grep -q STATUS=waiting "$T_DIR/msgs" || fail "no STATUS relayed by start"
	kill -0 "$spid" 2>/dev/null || fail "start returned before READY=1: $(cat "$T_DIR/start.out")"
	assert_eq running "$(timeout 5 "$SILO" --root "$ROOT" state "$id" | jq -r .status)" "state while start waits"
	touch "$b/out/go"
	wait "$spid" || fail "start failed: $(cat "$T_DIR/start.out")"
	assert_contains "$(cat "$T_DIR/msgs")" "MAINPID=$(state_field "$id" pid)"
	# foreground run
	: > "$T_DIR/msgs"
	set_args "$b" 'sdnotify READY=1; echo done'
	NOTIFY_SOCKET=$T_DIR/host.sock capture silo run --bundle "$b" "$(new_id)"
	assert_eq 0 "$RC" "foreground run: $(show "$OUT")"
	wait_for 5 grep -q MAINPID "$T_DIR/msgs" || fail "foreground run: no MAINPID: $(show "$(cat "$T_DIR/msgs")")"
	assert_contains "$(cat "$T_DIR/msgs")" "READY=1"
}

run_test create_start_delete test_create_start_delete
run_test state_json_fields test_state_json_fields
run_test default_bundle_is_cwd test_default_bundle_is_cwd
run_test run_exit_codes test_run_exit_codes
run_test run_killed_by_signal test_run_killed_by_signal
run_test run_foreground_killed_from_outside test_run_foreground_killed_from_outside
run_test run_detach_kill_delete test_run_detach_kill_delete
run_test run_keep test_run_keep
run_test kill_signal_forms test_kill_signal_forms
run_test kill_by_number_and_name test_kill_by_number_and_name
run_test kill_all test_kill_all
run_test delete_running_needs_force test_delete_running_needs_force
run_test delete_force_created test_delete_force_created
run_test list test_list
run_test list_empty test_list_empty
run_test concurrent_creates test_concurrent_creates
run_test concurrent_delete_force_same_id test_concurrent_delete_force_same_id
run_test concurrent_start_same_id test_concurrent_start_same_id
run_test pid_file_planted_tmp test_pid_file_planted_tmp
run_test failed_create_removes_only_its_own_dir test_failed_create_removes_only_its_own_dir
run_test concurrent_create_delete_same_id test_concurrent_create_delete_same_id
run_test version test_version
run_test delete_force_paused test_delete_force_paused
run_test sdnotify_run_detached test_sdnotify_run_detached
run_test sdnotify_create_start test_sdnotify_create_start
