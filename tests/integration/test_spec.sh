#!/bin/bash
# `spec` and config-related flags (--config, --no-new-keyring).
. "$(dirname "$0")/../lib/common.sh"

test_spec_defaults() {
	local d=$T_DIR/b cfg
	mkdir -p "$d"
	assert_ok "$SILO" spec --bundle "$d"
	cfg=$d/config.json
	jq -e . "$cfg" >/dev/null || fail "spec wrote invalid JSON"
	assert_match "$(jq -r .ociVersion "$cfg")" '^1\.[0-9]+\.[0-9]+' "ociVersion"
	assert_eq '["sh"]' "$(jq -c .process.args "$cfg")" "process.args"
	assert_eq rootfs "$(jq -r .root.path "$cfg")" "root.path"
	assert_eq true "$(jq -r .root.readonly "$cfg")" "root.readonly"
	assert_eq true "$(jq -r .process.terminal "$cfg")" "process.terminal"
	local ns
	for ns in ipc mount network pid uts; do   # silo adds cgroup; runc does not
		jq -e --arg n "$ns" '[.linux.namespaces[].type] | index($n)' "$cfg" >/dev/null || fail "spec lacks the $ns namespace"
	done
	jq -e '[.linux.namespaces[].type] | index("user") | not' "$cfg" >/dev/null || fail "default spec has a user namespace"
	assert_eq "/proc" "$(jq -r '.mounts[] | select(.type == "proc") | .destination' "$cfg")" "proc mount"
	jq -e '.linux.maskedPaths | index("/proc/kcore")' "$cfg" >/dev/null || fail "maskedPaths lacks /proc/kcore"
	jq -e '.linux.readonlyPaths | index("/proc/sys")' "$cfg" >/dev/null || fail "readonlyPaths lacks /proc/sys"
	if is_runc; then
		assert_eq runc "$(jq -r .hostname "$cfg")" "hostname"
	else
		assert_eq silo "$(jq -r .hostname "$cfg")" "hostname"
	fi
}

test_spec_in_cwd() {
	local d=$T_DIR/b
	mkdir -p "$d"
	(cd "$d" && "$SILO" spec) || fail "spec in the current directory failed"
	assert_file_exists "$d/config.json"
}

test_spec_refuses_overwrite() {
	local d=$T_DIR/b
	mkdir -p "$d"
	echo '{"mine":true}' > "$d/config.json"
	assert_fail "$SILO" spec --bundle "$d"
	assert_eq '{"mine":true}' "$(cat "$d/config.json")" "existing config.json"
}

test_spec_rootless() {
	local d=$T_DIR/b cfg
	mkdir -p "$d"
	assert_ok "$SILO" spec --rootless --bundle "$d"
	cfg=$d/config.json
	jq -e '[.linux.namespaces[].type] | index("user")' "$cfg" >/dev/null || fail "no user namespace in --rootless spec"
	assert_eq "$(id -u)" "$(jq -r '.linux.uidMappings[0].hostID' "$cfg")" "uidMappings hostID"
	assert_eq "$(id -g)" "$(jq -r '.linux.gidMappings[0].hostID' "$cfg")" "gidMappings hostID"
	assert_eq 0 "$(jq -r '.linux.uidMappings[0].containerID' "$cfg")" "uidMappings containerID"
}

test_spec_config_runs_unchanged() {
	local id b=$T_DIR/b
	id=$(new_id)
	# make_bundle only turns the terminal off and sets args
	make_bundle "$b" '.process.args = ["sh"]'
	assert_ok silo run --bundle "$b" "$id"   # sh reads EOF from /dev/null and exits 0
	assert_no_leftovers "$id"
}

test_config_flag() {
	silo_only "--config"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'echo from-alt-config'
	mv "$b/config.json" "$T_DIR/alt.json"
	create_ct "$id" "$b" --config "$T_DIR/alt.json"
	assert_ok silo start "$id"
	wait_output "$id" from-alt-config
	wait_status "$id" stopped
	assert_ok silo delete "$id"
	assert_no_leftovers "$id"
}

test_no_new_keyring() {
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b"
	set_args "$b" 'echo keyring-ok'
	create_ct "$id" "$b" --no-new-keyring
	assert_ok silo start "$id"
	wait_output "$id" keyring-ok
}

# --no-terminal and a command after `--`.
test_spec_no_terminal_args() {
	silo_only "--no-terminal is silo's"
	local d=$T_DIR/b
	mkdir -p "$d"
	assert_ok "$SILO" spec --bundle "$d" --no-terminal -- echo hello world
	assert_eq false "$(jq -r .process.terminal "$d/config.json")" "process.terminal"
	assert_eq '["echo","hello","world"]' "$(jq -c .process.args "$d/config.json")" "process.args"
}

# The README's Usage block, as pasted: every line runs (in a temp dir instead of
# /containers and /run) and succeeds; the lines that need a terminal get one from
# script(1), and the shell in it is told to exit.
test_readme_usage_as_pasted() {
	silo_only "the README is silo's"
	need_cmd script
	local block line n=0 top=$T_DIR/c
	block=$(awk '/^## Usage$/ { u = 1 } u && /^```$/ { if (c++) exit; next } u && c' "$REPO_DIR/README.md")
	[ -n "$block" ] || fail "no Usage block in README.md"
	cd "$REPO_DIR" || fail "cd $REPO_DIR"   # the README's lines run from the source tree
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		line=${line%%  #*}
		line=${line//\/containers/$top}
		line=${line//\/run\/svc.pid/$T_DIR/svc.pid}
		case "$line" in
		*"delete svc"*) eval "$line --force" ;;
		*" run --bundle "* | *"exec -t "*)
			printf 'exit\n' | script -qec "$SILO --root $ROOT ${line#silo }" /dev/null > "$T_DIR/tty.out" 2>&1 ||
				fail "README line failed: $line: $(show "$(cat "$T_DIR/tty.out")")" ;;
		*) eval "$line" > "$T_DIR/line.out" 2>&1 || fail "README line failed: $line: $(show "$(cat "$T_DIR/line.out")")" ;;
		esac
		n=$((n + 1))
		case "$line" in *"start svc"*) wait_status svc running ;; esac
	done <<< "$block"
	[ "$n" -ge 10 ] || fail "only $n lines of the Usage block ran"
	assert_eq "" "$(silo list -q)" "containers left by the README's lines"
}

run_test spec_defaults test_spec_defaults
run_test spec_in_cwd test_spec_in_cwd
run_test spec_refuses_overwrite test_spec_refuses_overwrite
run_test spec_rootless test_spec_rootless
run_test spec_config_runs_unchanged test_spec_config_runs_unchanged
run_test config_flag test_config_flag
run_test no_new_keyring test_no_new_keyring
run_test spec_no_terminal_args test_spec_no_terminal_args
run_test readme_usage_as_pasted test_readme_usage_as_pasted
