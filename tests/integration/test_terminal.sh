#!/bin/bash
# Foreground `run`/`exec` with process.terminal and no --console-socket: silo
# allocates the pty inside the container and relays it to its own terminal.
. "$(dirname "$0")/../lib/common.sh"

test_run_tty_relay() {
	need_cmd script
	local id b=$T_DIR/b out
	id=$(new_id)
	make_bundle "$b" '.process.terminal = true'
	set_args "$b" 'tty; read x; echo got=$x; exit 5'
	out=$(printf 'hello\n' | script -qec "$(printf '%q ' "$SILO" --root "$ROOT" run --bundle "$b" "$id"); echo rc=\$?" /dev/null | tr -d '\r')
	assert_match "$out" '/dev/pts/[0-9]+' "the process has a pty"
	assert_contains "$out" "got=hello" "input reached the process"
	assert_contains "$out" "rc=5" "exit code through the relay"
	assert_no_leftovers "$id"
}

test_exec_tty_relay() {
	need_cmd script
	local id b=$T_DIR/b out
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'trap "exit 0" TERM; while :; do sleep 0.05; done'
	run_detached "$id" "$b"
	wait_status "$id" running
	out=$(printf 'world\n' | script -qec "$(printf '%q ' "$SILO" --root "$ROOT" exec -t "$id" sh -c 'tty; read y; echo got=$y; exit 4'); echo rc=\$?" /dev/null | tr -d '\r')
	assert_match "$out" '/dev/pts/[0-9]+' "the exec'd process has a pty"
	assert_contains "$out" "got=world" "input reached the exec'd process"
	assert_contains "$out" "rc=4" "exit code of exec through the relay"
	assert_ok silo delete --force "$id"
}

# The pty slave belongs to the container's user, with devpts' group tty (5) and
# mode 0620 (the spec's gid=5,mode=620), as runc leaves it.
test_tty_owner() {
	need_cmd script
	local id b=$T_DIR/b out
	id=$(new_id)
	make_bundle "$b" '.process.terminal = true | .process.user = {"uid":1000,"gid":1000,"additionalGids":[1000]}'
	set_args "$b" 'stat -c "owner=%u:%g mode=%a" "$(tty)"'
	out=$(script -qec "$(printf '%q ' "$SILO" --root "$ROOT" run --bundle "$b" "$id"); echo rc=\$?" /dev/null < /dev/null | tr -d '\r')
	assert_contains "$out" "rc=0" "exit code ($out)"
	assert_contains "$out" "owner=1000:5 mode=620" "owner, group and mode of the pty"
	assert_no_leftovers "$id"
}

run_test run_tty_relay test_run_tty_relay
run_test exec_tty_relay test_exec_tty_relay
run_test tty_owner test_tty_owner
finish
