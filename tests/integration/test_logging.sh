#!/bin/bash
# Global --log / --log-format / --debug.
. "$(dirname "$0")/../lib/common.sh"

# A bundle whose create fails (missing rootfs).
failing_bundle() { make_bundle "$1" '.root.path = "no-such-rootfs"'; }

test_json_log_on_failure() {
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	failing_bundle "$b"
	assert_fail "$SILO" --root "$ROOT" --log "$log" --log-format json create --bundle "$b" "$id"
	assert_file_exists "$log"
	[ -s "$log" ] || fail "log file is empty"
	local n=0 line
	while IFS= read -r line; do
		n=$((n + 1))
		jq -e . <<< "$line" >/dev/null 2>&1 || fail "log line $n is not JSON: $(show "$line")"
		jq -e 'has("level") and has("msg") and has("time")' <<< "$line" >/dev/null ||
			fail "log line $n lacks level/msg/time: $line"
		assert_match "$(jq -r .level <<< "$line")" '^(debug|info|warning|warn|error|fatal)$' "level of line $n"
		assert_match "$(jq -r .time <<< "$line")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$' "time of line $n"
	done < "$log"
	jq -e 'select(.level == "error")' "$log" >/dev/null || fail "no error-level line: $(cat "$log")"
	assert_match "$(jq -r 'select(.level == "error") | .msg' "$log")" 'no-such-rootfs|no such file' "error message"
	assert_no_leftovers "$id"
}

test_json_log_keys_exact() {
	silo_only "exact key set of --log-format json lines"
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	failing_bundle "$b"
	assert_fail "$SILO" --root "$ROOT" --log "$log" --log-format json create --bundle "$b" "$id"
	assert_eq '["level","msg","time"]' "$(jq -c 'select(.level == "error") | keys' "$log" | head -n1)" "keys of the error line"
}

test_text_log_on_failure() {
	local id b=$T_DIR/b log=$T_DIR/log.txt
	id=$(new_id)
	failing_bundle "$b"
	assert_fail "$SILO" --root "$ROOT" --log "$log" create --bundle "$b" "$id"
	[ -s "$log" ] || fail "text log file is empty"
	# runc's (logrus) layout: time="..." level=error msg="..."; silo writes the same.
	assert_match "$(cat "$log")" '^time="[^"]+" level=error msg=".*"$' "text log"
	assert_match "$(cat "$log")" 'no-such-rootfs|no such file|No such file' "text log message"
	if jq -e . "$log" >/dev/null 2>&1; then fail "text log is JSON: $(cat "$log")"; fi
	assert_no_leftovers "$id"
}

test_error_still_on_stderr() {
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	failing_bundle "$b"
	local err
	err=$("$SILO" --root "$ROOT" --log "$log" --log-format json create --bundle "$b" "$id" 2>&1 >/dev/null < /dev/null)
	assert_match "$err" 'no-such-rootfs|no such file' "stderr of a failing create with --log"
}

test_log_appends() {
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	failing_bundle "$b"
	echo '{"level":"info","msg":"pre-existing","time":"2000-01-01T00:00:00Z"}' > "$log"
	capture "$SILO" --root "$ROOT" --log "$log" --log-format json create --bundle "$b" "$id"
	capture "$SILO" --root "$ROOT" --log "$log" --log-format json create --bundle "$b" "$id"
	assert_contains "$(head -n1 "$log")" pre-existing "first line kept"
	[ "$(jq -r 'select(.level == "error") | .msg' "$log" | grep -c .)" -ge 2 ] || fail "expected two error lines: $(cat "$log")"
}

test_debug_log() {
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	make_bundle "$b"
	assert_ok "$SILO" --root "$ROOT" --debug --log "$log" --log-format json run --bundle "$b" "$id"
	# every line must be a JSON log record, and --debug must log something at debug level
	[ -s "$log" ] || fail "--debug wrote nothing to the log"
	jq -s -e 'all(has("level") and has("msg") and has("time"))' "$log" >/dev/null || fail "bad debug log: $(head -c 500 "$log")"
	jq -s -e 'any(.level == "debug")' "$log" >/dev/null || fail "no debug line in: $(head -c 500 "$log")"
	if ! is_runc; then
		# silo logs the create steps: the clone and the ready report
		assert_match "$(jq -r .msg "$log")" 'cloned' "debug log of the clone"
	fi
	assert_no_leftovers "$id"
}

test_no_errors_logged_on_success() {
	local id b=$T_DIR/b log=$T_DIR/log.json
	id=$(new_id)
	make_bundle "$b"
	assert_ok "$SILO" --root "$ROOT" --log "$log" --log-format json run --bundle "$b" "$id"
	if [ -s "$log" ]; then
		jq -e 'select(.level == "error")' "$log" >/dev/null 2>&1 && fail "error logged for a successful run: $(cat "$log")"
	fi
	return 0
}

# --debug without --log: the debug lines go to stderr in runc's (logrus) form,
# text or, with --log-format json, one JSON object per line.
test_debug_stderr_runc_form() {
	silo_only "runc writes its own debug lines"
	local id b=$T_DIR/b err
	make_bundle "$b"
	id=$(new_id)
	err=$("$SILO" --root "$ROOT" --debug run --bundle "$b" "$id" 2>&1 >/dev/null < /dev/null)
	assert_match "$err" '^time="[^"]+" level=debug msg="[^"]*cloned[^"]*"$' "debug lines on stderr"
	! grep -q '^debug: ' <<< "$err" || fail "debug lines in silo's old form: $(show "$err")"
	id=$(new_id)
	err=$("$SILO" --root "$ROOT" --debug --log-format json run --bundle "$b" "$id" 2>&1 >/dev/null < /dev/null)
	grep '"level":"debug"' <<< "$err" | jq -e -s 'length > 0 and all(has("msg") and has("time"))' >/dev/null ||
		fail "no JSON debug lines on stderr: $(show "$err")"
}

# exec logs its steps at debug level too, in the log file.
test_debug_exec() {
	local id b=$T_DIR/b log=$T_DIR/exec.json
	make_bundle "$b"
	set_args "$b" 'sleep 30'
	id=$(new_id)
	run_detached "$id" "$b"
	wait_status "$id" running
	assert_ok "$SILO" --root "$ROOT" --debug --log "$log" --log-format json exec "$id" true
	jq -s -e 'any(.level == "debug")' "$log" >/dev/null || fail "exec logged nothing at debug level: $(cat "$log" 2>/dev/null)"
}

run_test json_log_on_failure test_json_log_on_failure
run_test json_log_keys_exact test_json_log_keys_exact
run_test text_log_on_failure test_text_log_on_failure
run_test error_still_on_stderr test_error_still_on_stderr
run_test log_appends test_log_appends
run_test debug_log test_debug_log
run_test no_errors_logged_on_success test_no_errors_logged_on_success
run_test debug_stderr_runc_form test_debug_stderr_runc_form
run_test debug_exec test_debug_exec
