#!/bin/bash
# Security: each test tries an attack that broke runc or crun and shows it failing,
# plus seccomp, capabilities, idmapped mounts and rootless containers.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; while :; do sleep 0.05; done'
SILO_BIN=$(readlink -f "$SILO")

# CVE-2019-5736: a process in the container keeps an fd to /proc/PID/exe of a silo
# process and, once no silo runs, reopens it for writing to replace the host binary.
# The attack is run with every capability the host allows (CAP_SYS_PTRACE too),
# against a copy of the binary so that a failure cannot clobber the real one.
attack_proc_exe() {  # BUNDLE_CAPS_JSON -> sets OUT to the attacker's verdict
	local caps=$1 id b=$T_DIR/b-$RANDOM bin=$T_DIR/silo-copy before after pid
	cp "$SILO_BIN" "$bin"
	before=$(sha256sum "$bin" | cut -d' ' -f1)
	id=$(new_id)
	make_bundle "$b" '.process.capabilities = {"bounding":$c,"effective":$c,"permitted":$c}' --argjson c "$caps"
	set_args "$b" "$SLEEPER"
	"$bin" --root "$ROOT" create --bundle "$b" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null || fail "create: $(cat "$T_DIR/$id.out")"
	# the init is still silo's code, waiting for start: grab its exe
	# (sh exits if an `exec` redirection fails: test the open with cat first)
	"$bin" --root "$ROOT" exec -d "$id" sh -c 'cat /proc/1/exe > /dev/null 2>&1 || { echo NO-OPEN > /dev/shm/verdict; exit 0; }
		exec 3</proc/1/exe; echo OPENED-$(readlink /proc/1/exe) > /dev/shm/verdict; sleep 1.5
		if echo pwned > /proc/self/fd/3; then echo WROTE >> /dev/shm/verdict; else echo WRITE-FAILED >> /dev/shm/verdict; fi' \
		</dev/null >/dev/null 2>&1 || fail "exec -d failed"
	sleep 0.3
	"$bin" --root "$ROOT" start "$id" || fail "start failed"
	pid=$("$bin" --root "$ROOT" state "$id" | jq .pid)
	# now no silo process runs from the copy: the attacker gets its chance
	wait_for 10 grep -qE 'WROTE|WRITE-FAILED|NO-OPEN' "/proc/$pid/root/dev/shm/verdict" || fail "attacker gave no verdict"
	OUT=$(cat "/proc/$pid/root/dev/shm/verdict")
	after=$(sha256sum "$bin" | cut -d' ' -f1)
	"$bin" --root "$ROOT" delete --force "$id"
	assert_eq "$before" "$after" "the silo binary on the host (attacker said: $OUT)"
}

test_cve_2019_5736_proc_exe() {
	local names=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE) bnd i all nopt
	bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
	all=$(for i in "${!names[@]}"; do (( (bnd >> i) & 1 )) && echo "CAP_${names[$i]}"; done | jq -R . | jq -sc .)
	nopt=$(jq -c 'map(select(. != "CAP_SYS_PTRACE"))' <<< "$all")
	# every capability but CAP_SYS_PTRACE: the waiting init is not dumpable
	attack_proc_exe "$nopt"
	is_runc || assert_contains "$OUT" "NO-OPEN" "opening /proc/1/exe without CAP_SYS_PTRACE"
	assert_not_contains "$OUT" "WROTE" "writing through /proc/1/exe without CAP_SYS_PTRACE"
	# CAP_SYS_PTRACE too: the exe it opens is silo's sealed copy, which cannot be written
	attack_proc_exe "$all"
	assert_not_contains "$OUT" "WROTE" "writing through the kept /proc/1/exe fd"
	is_runc || assert_contains "$OUT" "memfd" "the exe of a container that could ptrace silo"
}

# CVE-2024-21626: process.cwd (or args[0]) through /proc/self/fd/N of a runtime fd
# that leads to the host.  Every N must be refused or stay inside the container.
test_cve_2024_21626_cwd() {
	silo_only "runc 1.1.5 predates the fix"
	local b=$T_DIR/b n id
	make_bundle "$b"
	echo host-secret > "$T_DIR/host-marker"
	for n in 3 4 5 6 7 8 9 10 11 12; do
		id=$(new_id)
		jq_edit "$b" '.process.cwd = $c | .process.args = ["sh","-c","ls ../../../../ 2>&1; cat ../../../../host-marker 2>&1; pwd"]' --arg c "/proc/self/fd/$n"
		capture silo run --bundle "$b" "$id"
		assert_not_contains "$OUT" "host-secret" "cwd /proc/self/fd/$n"
		if [ "$RC" -eq 0 ]; then fail "cwd /proc/self/fd/$n was accepted: $(show "$OUT")"; fi
		silo delete --force "$id" >/dev/null 2>&1
	done
	for n in 3 4 5 6 7 8 9 10; do
		id=$(new_id)
		jq_edit "$b" '.process.cwd = "/" | .process.args = [$a]' --arg a "/proc/self/fd/$n/../../../../bin/sh"
		capture silo run --bundle "$b" "$id"
		[ "$RC" -ne 0 ] || fail "args[0] through /proc/self/fd/$n ran: $(show "$OUT")"
		silo delete --force "$id" >/dev/null 2>&1
	done
	assert_no_leftovers "$id"
}

# CVE-2021-30465 and masked paths: a masked path that is a symlink must not make
# silo mount over what it points to; a /proc that is not procfs is refused.
test_masked_symlink_and_fake_proc() {
	silo_only "the fake-/proc refusal is silo's check"
	local id b=$T_DIR/b
	id=$(new_id)
	make_bundle "$b" '.root.readonly = false | .linux.maskedPaths += ["/masked-link"]'
	ln -s /bin/busybox "$b/rootfs/masked-link"
	run_ok "$b" 'busybox true && echo busybox-ok; test -L /masked-link && echo link-intact'
	assert_contains "$OUT" "busybox-ok" "busybox not masked through the symlink"
	assert_contains "$OUT" "link-intact" "the symlink itself"
	rm -f "$b/rootfs/masked-link"
	# a config that puts a plain directory over /proc: masking it would be theatre
	mkdir -p "$T_DIR/fakeproc"
	id=$(new_id)
	jq_edit "$b" '.mounts |= map(if .destination == "/proc" then {"destination":"/proc","type":"bind","source":$s,"options":["rbind"]} else . end)' --arg s "$T_DIR/fakeproc"
	set_args "$b" true
	capture silo run --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "a bind-mounted /proc was accepted"
	assert_contains "$OUT" "not a procfs" "error for a fake /proc"
	assert_no_leftovers "$id"
}

# CVE-2022-29162: inheritable capabilities are exactly the config's, none unasked.
test_inheritable_caps_exact() {
	local b=$T_DIR/b
	make_bundle "$b" '.process.capabilities.inheritable = []'
	run_ok "$b" 'grep CapInh /proc/self/status'
	assert_contains "$OUT" "CapInh:	0000000000000000" "inheritable set with none configured"
	jq_edit "$b" '.process.capabilities.inheritable = ["CAP_KILL"]'
	run_ok "$b" 'grep CapInh /proc/self/status'
	assert_contains "$OUT" "CapInh:	0000000000000020" "inheritable set = CAP_KILL only"
}

# A process joining with exec is confined like the container: seccomp, caps, nnp.
test_exec_same_confinement() {
	local id b=$T_DIR/b out
	id=$(new_id)
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	out=$(silo exec "$id" mkdir /tmp/x 2>&1) && fail "mkdir allowed in exec: $out"
	assert_match "$out" "Operation not permitted" "seccomp in the exec'd process"
	out=$(silo exec "$id" grep -E "^(CapBnd|Seccomp|NoNewPrivs):" /proc/self/status)
	assert_contains "$out" "Seccomp:	2" "filter mode"
	assert_contains "$out" "NoNewPrivs:	1" "no_new_privs"
	assert_contains "$out" "CapBnd:	$(awk '/^CapBnd/ {print $2}' "/proc/$(state_field "$id" pid)/status")" "bounding set"
	assert_ok silo delete --force "$id"
}

# Bad seccomp profiles are refused before anything is created.
test_bad_seccomp_profiles() {
	local b=$T_DIR/b id prof
	make_bundle "$b"
	for prof in '{"defaultAction":"SCMP_ACT_BOGUS"}' \
		'{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_NOPE"]}' \
		'{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}' \
		'{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_WHAT"}]}]}'; do
		id=$(new_id)
		jq_edit "$b" '.linux.seccomp = ($p | fromjson)' --arg p "$prof"
		capture silo create --bundle "$b" "$id"
		[ "$RC" -ne 0 ] || fail "profile accepted: $prof"
		is_runc || assert_contains "$OUT" "linux.seccomp" "error names the JSON path for $prof"
		assert_no_leftovers "$id"
	done
}

# SCMP_ACT_NOTIFY: the listener reaches listenerPath, also for create + start.
test_seccomp_notify_listener() {
	silo_only "runc 1.1 sends the listener differently in create mode"
	need_cmd python3
	local id b=$T_DIR/b sock=$T_DIR/agent.sock out=$T_DIR/agent.json
	id=$(new_id)
	start_seccomp_agent "$sock" "$out"
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","listenerPath":$s,"listenerMetadata":"meta-1","syscalls":[{"names":["getpgid"],"action":"SCMP_ACT_NOTIFY"}]}' --arg s "$sock"
	set_args "$b" "echo started; $SLEEPER"
	create_ct "$id" "$b"
	assert_ok silo start "$id"
	wait_for 10 test -s "$out.fd" || fail "the agent got nothing"
	assert_match "$(cat "$out.fd")" '^fd=[0-9]+$' "listener fd received"
	jq -e --arg id "$id" '.fds == ["seccompFd"] and .metadata == "meta-1" and .state.id == $id and .pid > 0' "$out" >/dev/null ||
		fail "agent message: $(cat "$out")"
	assert_ok silo delete --force "$id"
	kill "$SECCOMP_AGENT_PID" 2>/dev/null; wait "$SECCOMP_AGENT_PID" 2>/dev/null
	assert_no_leftovers "$id"
}

# idmapped mounts (runtime-spec 1.2): host files owned by 0 show up as 1000.
test_idmapped_mount() {
	silo_only "runc 1.1 has no idmapped mounts"
	local b=$T_DIR/b
	mkdir -p "$T_DIR/idm" && echo x > "$T_DIR/idm/f" && chown 0:0 "$T_DIR/idm/f"
	make_bundle "$b" '.mounts += [{"destination":"/idm","type":"bind","source":$s,"options":["rbind","idmap"],"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}]},{"destination":"/plain","type":"bind","source":$s,"options":["rbind"]}]' --arg s "$T_DIR/idm"
	run_ok "$b" 'stat -c "idm=%u:%g" /idm/f; stat -c "plain=%u:%g" /plain/f'
	assert_contains "$OUT" "idm=1000:1000" "owner through the idmapped mount"
	assert_contains "$OUT" "plain=0:0" "owner through a plain bind"
	assert_eq "0" "$(stat -c %u "$T_DIR/idm/f")" "the host file's owner is unchanged"
}

# Rootless: an unprivileged user runs a `spec --rootless` bundle.
test_rootless_run() {
	silo_only "exercises silo's rootless path"
	local user=silotest-rl uid b=$T_DIR/rl xdg out
	if ! id "$user" >/dev/null 2>&1; then
		useradd -M -s /bin/sh "$user" 2>/dev/null || skip "cannot create a test user"
		defer userdel "$user"
	fi
	uid=$(id -u "$user")
	xdg=$T_DIR/xdg-$uid
	mkdir -p "$b/rootfs" "$xdg"
	cp -a "$ROOTFS/." "$b/rootfs/"
	chown -R "$user" "$b" "$xdg"; chmod 700 "$xdg"; chmod 755 "$T_DIR"
	out=$(su "$user" -s /bin/sh -c "cd '$b' && export XDG_RUNTIME_DIR='$xdg' && '$SILO_BIN' spec --rootless &&
		jq '.process.terminal=false | .process.args=[\"sh\",\"-c\",\"id -u; cat /proc/self/uid_map; sleep 0.3\"]' config.json > c.json && mv c.json config.json &&
		'$SILO_BIN' run rl1 && ls '$xdg/silo'" 2>&1) || fail "rootless run failed: $out"
	assert_match "$out" '^0$' "uid inside"
	assert_match "$out" "0 +$uid +1" "uid_map inside"
	[ -d "$xdg/silo" ] || fail "state root not under XDG_RUNTIME_DIR"
	[ -z "$(ls "$xdg/silo")" ] || fail "state left behind: $(ls "$xdg/silo")"
	# The unprivileged parent writes the child's id maps while the child runs on
	# the other CPU: repeated, under load, so an ordering race shows (one did).
	local i burn
	(while :; do :; done) & burn=$!
	defer kill "$burn"
	out=$(su "$user" -s /bin/sh -c "cd '$b' && export XDG_RUNTIME_DIR='$xdg' &&
		jq '.process.args=[\"true\"]' config.json > c.json && mv c.json config.json &&
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do '$SILO_BIN' run rl\$i || exit 1; done" 2>&1) ||
		fail "repeated rootless runs: $out"
}

# The compiled filter is cached under <root>/.seccomp: the cached one must be as
# enforced as a fresh one, and a damaged cache entry must be ignored.
test_seccomp_cache() {
	silo_only "the cache is silo's"
	local b=$T_DIR/b f
	make_bundle "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
	rm -rf "$ROOT/.seccomp"
	run_in "$b" 'mkdir /tmp/x 2>&1; echo rc=$?'
	assert_contains "$OUT" "Operation not permitted" "first run (compiled)"
	f=$(ls "$ROOT/.seccomp/"*.bpf 2>/dev/null | head -1)
	[ -n "$f" ] || fail "no cache entry was written"
	run_in "$b" 'mkdir /tmp/x 2>&1; echo rc=$?'
	assert_contains "$OUT" "Operation not permitted" "second run (cached)"
	printf 'garbage' > "$f"
	run_in "$b" 'mkdir /tmp/x 2>&1; echo rc=$?'
	assert_contains "$OUT" "Operation not permitted" "run with a damaged cache entry"
	# another profile, another entry
	jq_edit "$b" '.linux.seccomp.syscalls[0].errnoRet = 13'
	run_in "$b" 'mkdir /tmp/x 2>&1; echo rc=$?'
	assert_contains "$OUT" "Permission denied" "a changed profile is compiled anew"
}

# LSM labels asked for on a host that does not run the LSM: an error naming the
# JSON path, nothing left behind; AppArmor's "unconfined" asks for nothing.
aa_enabled() { [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; }
# linux.mountLabel: the context of the tmpfs, devpts and masked directories silo
# mounts, where SELinux runs; ignored elsewhere, as by runc (a context= option on a
# kernel without SELinux would fail the mount, and so the run).  The default spec
# has all three, and /dev/mqueue, which is labelled instead.
test_mount_label() {
	local b=$T_DIR/b id label='system_u:object_r:tmpfs_t:s0:c1,c2' out pid
	# a policy without MLS/MCS has contexts without a level
	[ -e /sys/fs/selinux/mls ] && [ "$(cat /sys/fs/selinux/mls)" = 0 ] && label=system_u:object_r:tmpfs_t
	make_bundle "$b"
	jq_edit "$b" '.linux.mountLabel = $l' --arg l "$label"
	jq_edit "$b" '.linux.maskedPaths |= (. + ["/proc/acpi"] | unique)'
	set_args "$b" 'cat /proc/self/mountinfo; echo ready; while :; do sleep 1; done'
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	out=$(ct_output "$id")
	assert_eq tmpfs "$(printf '%s\n' "$out" | awk '$5 == "/dev" { print $9 }')" "the container's /dev"
	assert_eq mqueue "$(printf '%s\n' "$out" | awk '$5 == "/dev/mqueue" { print $9 }')" "the container's /dev/mqueue"
	if [ -d /proc/acpi ]; then # a masked directory: an empty tmpfs
		assert_eq tmpfs "$(printf '%s\n' "$out" | awk '$5 == "/proc/acpi" { print $9 }')" "masked /proc/acpi"
	fi
	if [ -e /sys/fs/selinux/enforce ]; then
		assert_contains "$(printf '%s\n' "$out" | awk '$5 == "/dev"')" "context=\"$label\"" "/dev's mount options"
		assert_contains "$(printf '%s\n' "$out" | awk '$5 == "/dev/pts"')" "context=\"$label\"" "/dev/pts's mount options"
		if [ -d /proc/acpi ]; then
			assert_contains "$(printf '%s\n' "$out" | awk '$5 == "/proc/acpi"')" "context=\"$label\"" \
				"masked /proc/acpi's mount options"
		fi
		# mqueue has no context option: its root is labelled (seen from the host)
		pid=$(state_field "$id" pid)
		assert_eq "$label" "$(stat -c %C "/proc/$pid/root/dev/mqueue")" "the label of the container's /dev/mqueue"
	else
		assert_not_contains "$out" "context=" "the container's mounts (no SELinux here)"
	fi
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# process.selinuxLabel where SELinux runs (the QEMU guest's SELinux boot, which is
# permissive): the container's process runs under the label, seen from inside and
# from the host; an exec'd process gets it too, or exec --process-label's; a
# label the policy does not know fails the run and leaves nothing.
test_selinux_process_label() {
	[ -e /sys/fs/selinux/enforce ] || skip "SELinux is not enabled here (tested in the QEMU guest)"
	local b=$T_DIR/b id lv= l1 l2 bad pid out
	[ "$(cat /sys/fs/selinux/mls)" = 1 ] && lv=:s0
	l1=system_u:system_r:initrc_t$lv l2=system_u:system_r:init_t$lv bad=system_u:system_r:silo_no_such_t$lv
	# (the kernel checks a context written to selinuxfs's context file)
	printf '%s' "$l1" > /sys/fs/selinux/context && printf '%s' "$l2" > /sys/fs/selinux/context ||
		fail "the policy here has no $l1 or $l2"
	make_bundle "$b"
	jq_edit "$b" '.process.selinuxLabel = $l' --arg l "$l1"
	set_args "$b" 'tr -d "\0" < /proc/self/attr/current; echo; echo ready; while :; do sleep 1; done'
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	assert_eq "$l1" "$(ct_output "$id" | head -n 1)" "the container process's label, inside"
	pid=$(state_field "$id" pid)
	assert_eq "$l1" "$(tr -d '\0' < "/proc/$pid/attr/current")" "the container process's label, from the host"
	assert_ne "$(tr -d '\0' < /proc/self/attr/current)" "$l1" "the test's own label (else nothing is shown)"
	assert_ok silo exec "$id" cat /proc/self/attr/current
	assert_eq "$l1" "$(printf '%s' "$OUT" | tr -d '\0')" "an exec'd process's label"
	assert_ok silo exec --process-label "$l2" "$id" cat /proc/self/attr/current
	assert_eq "$l2" "$(printf '%s' "$OUT" | tr -d '\0')" "exec --process-label's label"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	jq_edit "$b" '.process.selinuxLabel = $l' --arg l "$bad"
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" "process.selinuxLabel: \`$bad\`"
	assert_no_leftovers "$id"
}

test_lsm_label_without_lsm() {
	silo_only "runc's messages differ"
	local b=$T_DIR/b id did=0
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	if ! aa_enabled; then
		did=1
		jq_edit "$b" '.process.apparmorProfile = "silo-test-profile"'
		id=$(new_id)
		assert_fail silo run --bundle "$b" "$id"
		assert_contains "$OUT" 'process.apparmorProfile: `silo-test-profile`: AppArmor is not enabled on this host'
		assert_no_leftovers "$id"
		jq_edit "$b" '.process.apparmorProfile = "unconfined"'
		id=$(new_id)
		run_detached "$id" "$b"
		assert_ok silo exec "$id" true
		assert_fail silo exec --apparmor silo-test-profile "$id" true
		assert_contains "$OUT" 'AppArmor is not enabled on this host'
		jq_edit "$b" 'del(.process.apparmorProfile)'
	fi
	if [ ! -e /sys/fs/selinux/enforce ]; then
		did=1
		jq_edit "$b" '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
		id=$(new_id)
		assert_fail silo run --bundle "$b" "$id"
		assert_contains "$OUT" 'process.selinuxLabel: `system_u:system_r:container_t:s0`: SELinux is not enabled on this host'
		assert_no_leftovers "$id"
	fi
	[ "$did" = 1 ] || skip "AppArmor and SELinux both run here"
}

# With AppArmor (the QEMU guest: Debian's kernel runs it; this host's does not):
# a profile loaded for the test confines the container's processes and exec's.
test_apparmor_profile() {
	silo_only
	aa_enabled || skip "AppArmor is not enabled in this kernel (the QEMU guest runs this test)"
	need_cmd apparmor_parser
	local b=$T_DIR/b id pid prof=silo-test-$$ f=$T_DIR/profile
	if ! mountpoint -q /sys/kernel/security; then
		mount -t securityfs securityfs /sys/kernel/security || fail "mount securityfs"
		defer umount /sys/kernel/security
	fi
	cat > "$f" <<-EOF
	profile $prof flags=(attach_disconnected,mediate_deleted) {
	  file,
	  capability,
	  network,
	  signal,
	  unix,
	  deny /secret r,
	}
	EOF
	apparmor_parser -r -W "$f" || fail "apparmor_parser could not load the test profile"
	defer apparmor_parser -R "$f"
	make_bundle "$b" '.process.apparmorProfile = $p' --arg p "$prof"
	echo "not for you" > "$b/rootfs/secret"
	set_args "$b" "cat /proc/self/attr/current; cat /secret || echo DENIED; $SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" DENIED
	assert_contains "$(ct_output "$id")" "$prof (enforce)" "the label inside"
	assert_not_contains "$(ct_output "$id")" "not for you" "the denied file's content"
	pid=$(state_field "$id" pid)
	assert_contains "$(cat "/proc/$pid/attr/current")" "$prof (enforce)" "the label of the container's pid 1 seen from the host"
	capture silo exec "$id" cat /proc/self/attr/current
	assert_contains "$OUT" "$prof (enforce)" "exec's label"
	capture silo exec --apparmor unconfined "$id" cat /proc/self/attr/current
	assert_eq unconfined "$OUT" "exec --apparmor unconfined"
	# a profile the kernel does not know: the create fails and leaves nothing
	jq_edit "$b" '.process.apparmorProfile = "silo-no-such-profile"'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'process.apparmorProfile: `silo-no-such-profile`'
	assert_no_leftovers "$id"
}

# uid/gid 4294967295 is (uid_t)-1, "unchanged" to setresuid(2): a process given it
# kept root's ids.  Refused in config.json (with the JSON path) and in exec --user.
test_minus_one_ids() {
	silo_only "error messages"
	local b=$T_DIR/b id f
	make_bundle "$b"
	for f in '.process.user.uid = 4294967295' '.process.user.gid = 4294967295' \
		'.process.user.additionalGids = [4294967295]'; do
		id=$(new_id)
		jq_edit "$b" '.process.user = {"uid":1000,"gid":1000}'
		jq_edit "$b" "$f"
		set_args "$b" 'echo ids=$(id -u):$(id -g):$(id -G)'
		capture silo run --bundle "$b" "$id"
		assert_not_contains "$OUT" "ids=" "$f: the container ran"
		[ "$RC" -ne 0 ] || fail "$f was accepted: $(show "$OUT")"
		assert_contains "$OUT" "4294967295 is not a valid id" "$f"
		assert_contains "$OUT" "process.user." "$f: the JSON path"
		assert_no_leftovers "$id"
	done
	# an id map whose range reaches 4294967295
	id=$(new_id)
	make_bundle "$b" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings = [{"containerID":4294967295,"hostID":100000,"size":1}] | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	capture silo run --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "a uid map reaching 4294967295 was accepted: $(show "$OUT")"
	assert_contains "$OUT" "linux.uidMappings[0]: containerID 4294967295 + size 1"
	assert_no_leftovers "$id"
	# exec --user: the same ids, spelled every way sscanf("%u") took them
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	for f in 4294967295 -1 0:4294967295 0:-1 1000:+5 99999999999; do
		capture silo exec --user "$f" "$id" sh -c 'echo ids=$(id -u):$(id -g)'
		assert_not_contains "$OUT" "ids=" "exec --user $f ran"
		[ "$RC" -ne 0 ] || fail "exec --user $f was accepted: $(show "$OUT")"
		assert_contains "$OUT" "--user" "exec --user $f: the error names the option"
	done
	assert_eq "ids=1000:0" "$(silo exec --user 1000 "$id" sh -c 'echo ids=$(id -u):$(id -g)')" "exec --user 1000"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# CVE-2019-5736 again: whether silo already runs from its sealed copy used to be
# read from the environment (_SILO_SEALED_EXE=1), so anyone setting it in silo's
# environment turned the defence off.  The container's init, waiting for `start`,
# must still run from a sealed memfd (seen from the host).
test_sealed_copy_ignores_env() {
	silo_only "the sealed copy"
	local b=$T_DIR/b id pid exe
	make_bundle "$b" 'del(.process.capabilities)'   # root's caps: CAP_SYS_PTRACE too
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	_SILO_SEALED_EXE=1 "$SILO" --root "$ROOT" create --bundle "$b" "$id" > "$T_DIR/$id.out" 2>&1 < /dev/null ||
		fail "create: $(cat "$T_DIR/$id.out")"
	pid=$(state_field "$id" pid)
	exe=$(readlink "/proc/$pid/exe")
	assert_contains "$exe" "memfd:" "the exe of the created init with _SILO_SEALED_EXE=1"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# --cgroup-manager disabled leaves no device allow-list: with CAP_MKNOD and no user
# namespace a container could make and open any device (here /dev/loop-control).
# Refused unless the annotation org.silo.devices.unrestricted=true opts in.
test_cgroup_disabled_devices() {
	silo_only "--cgroup-manager disabled"
	local b=$T_DIR/b id
	local caps='["CAP_MKNOD","CAP_SETUID","CAP_SETGID","CAP_CHOWN","CAP_DAC_OVERRIDE"]'
	local try='mknod /dev/lc c 10 237 && { exec 3<>/dev/lc && echo OPENED || echo OPEN-FAILED; } || echo MKNOD-FAILED'
	make_bundle "$b" '.process.capabilities = {"bounding":$c,"effective":$c,"permitted":$c}' --argjson c "$caps"
	set_args "$b" "$try"
	id=$(new_id)
	capture "$SILO" --root "$ROOT" --cgroup-manager disabled run --bundle "$b" "$id"
	assert_not_contains "$OUT" "OPENED" "a device opened without a device cgroup"
	[ "$RC" -ne 0 ] || fail "CAP_MKNOD with --cgroup-manager disabled was accepted: $(show "$OUT")"
	assert_contains "$OUT" "CAP_MKNOD" "the error says why"
	assert_no_leftovers "$id"
	# no capabilities in the config at all: root's, CAP_MKNOD included
	jq_edit "$b" 'del(.process.capabilities)'
	id=$(new_id)
	capture "$SILO" --root "$ROOT" --cgroup-manager disabled run --bundle "$b" "$id"
	assert_not_contains "$OUT" "OPENED" "a device opened without a device cgroup (root's caps)"
	[ "$RC" -ne 0 ] || fail "root's caps with --cgroup-manager disabled were accepted: $(show "$OUT")"
	assert_no_leftovers "$id"
	# exec --cap CAP_MKNOD into such a container: the same rule
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	"$SILO" --root "$ROOT" --cgroup-manager disabled run -d --bundle "$b" "$id" > "$T_DIR/out" 2>&1 < /dev/null ||
		fail "run without CAP_MKNOD, --cgroup-manager disabled: $(cat "$T_DIR/out")"
	capture silo exec --cap CAP_MKNOD "$id" sh -c "$try"
	assert_not_contains "$OUT" "OPENED" "exec --cap CAP_MKNOD opened a device"
	[ "$RC" -ne 0 ] || fail "exec --cap CAP_MKNOD was accepted: $(show "$OUT")"
	# inside the container without CAP_MKNOD: mknod is refused by the kernel
	capture silo exec "$id" sh -c "$try"
	assert_contains "$OUT" "MKNOD-FAILED" "mknod without CAP_MKNOD"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
	# the explicit opt-in
	make_bundle "$b" '.process.capabilities = {"bounding":$c,"effective":$c,"permitted":$c} | .annotations["org.silo.devices.unrestricted"] = "true"' --argjson c "$caps"
	set_args "$b" 'mknod /dev/null2 c 1 3 && echo hi > /dev/null2 && echo MADE'
	id=$(new_id)
	capture "$SILO" --root "$ROOT" --cgroup-manager disabled run --bundle "$b" "$id"
	assert_contains "$OUT" "MADE" "mknod with org.silo.devices.unrestricted=true"
	silo delete --force "$id" >/dev/null 2>&1
	assert_no_leftovers "$id"
}


# The container kills what `silo exec` starts in it before that runs the program: the
# child is a new pid in the container's pid namespace, owned by root, so the
# container's root may SIGKILL it at any instruction (no capability needed).  That
# may fail the exec, but silo exec itself (root, on the host) must not crash or hang:
# a child sharing silo's memory (CLONE_VM) killed inside malloc, libcap-ng or stdio
# leaves silo's heap half-updated ("corrupted size vs. prev_size", SIGABRT).  The
# init hunts each new pid (ns_last_pid) and kills it after 0..400 us: most kills
# land in the child's set-up.  Random, so it runs for a while (~1% of the execs of
# the shared-memory child crashed silo).
test_exec_child_killed_by_container() {
	need_cmd cc
	local id b=$T_DIR/b i=0 rc crashed=0 n=0 killed=0 end
	make_bundle "$b" '.root.readonly=false'
	cat > "$T_DIR/hunter.c" <<-'EOF'
	#include <fcntl.h>
	#include <signal.h>
	#include <stdio.h>
	#include <stdlib.h>
	#include <time.h>
	#include <unistd.h>
	static long us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000L + t.tv_nsec / 1000; }
	int main(void) {
		int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY), last = -1;
		if (fd < 0) return 1;
		signal(SIGCHLD, SIG_IGN);
		srand(getpid());
		printf("ready\n"); fflush(stdout);
		for (;;) {
			char buf[32]; ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
			if (n <= 0) continue;
			buf[n] = 0; int p = atoi(buf);
			if (p == last || p <= 1) continue;
			last = p;
			long d = rand() % 400, t0 = us(); while (us() - t0 < d) ;
			kill(p, SIGKILL);
		}
	}
	EOF
	cc -static -O1 -o "$b/rootfs/hunter" "$T_DIR/hunter.c" || skip "no static libc to build the hunter"
	# a PATH of many entries, as in the reproducer that crashed silo 22 times in 2500 execs
	jq_edit "$b" '.process.args=["/hunter"] | .process.env=["PATH=/a:/b:/c:/d:/e:/f:/g:/h:/i:/j:/k:/l:/m:/bin"]'
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	end=$((SECONDS + 15 * ${TEST_TIME_SCALE:-1}))
	while [ "$SECONDS" -lt "$end" ]; do
		timeout -k 2 8 "$SILO" --root "$ROOT" exec "$id" /bin/true > "$T_DIR/exec.out" 2>&1 < /dev/null && rc=0 || rc=$?
		n=$((n + 1))
		grep -qE "during (its )?set-up" "$T_DIR/exec.out" && killed=$((killed + 1))
		# 255: the exec failed (its process was killed); 0 or 137: the program ran
		# (and was killed); anything else (134 SIGABRT, 139 SIGSEGV, 124 a hang that
		# timeout ended) is silo exec itself dying or hanging.
		if { [ "$rc" != 0 ] && [ "$rc" != 255 ] && [ "$rc" != 137 ]; } ||
			grep -qiE "corrupt|malloc|free\(\)|double" "$T_DIR/exec.out"; then
			crashed=$((crashed + 1))
			echo "exec $n: exit $rc: $(head -c 200 "$T_DIR/exec.out")" >> "$T_DIR/crashes"
		fi
	done
	echo "$n execs, $killed killed in set-up" > "$T_DIR/note"
	[ "$killed" -gt 0 ] || skip "no exec's child was killed in its set-up ($n execs)"
	[ "$crashed" -eq 0 ] || fail "silo exec died or hung $crashed times in $n execs: $(show "$(head -n 3 "$T_DIR/crashes")")"
}

# The same kill, made certain: exec's child is held at its first phase mark (the
# start of its set-up, phase_kill_child.py) and killed there.  silo exec sees a child
# that died in its own code, while sharing its memory: it must say so and exit 255 at
# once, without touching its heap again (exec_child_killed), with nothing written
# (no --pid-file), and the container must go on as before.
test_exec_child_killed_in_setup() {
	silo_only "silo's phase marks"
	need_cmd python3
	local b=$T_DIR/b id mode
	make_bundle "$b"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	for mode in "" -d; do
		rm -f "$T_DIR/pid"
		capture timeout -k 2 20 python3 "$TESTS_DIR/lib/phase_kill_child.py" -- \
			"$SILO" --root "$ROOT" --log "$T_DIR/silo.log" --log-format json exec $mode \
			--pid-file "$T_DIR/pid" "$id" true
		assert_eq 255 "$RC" "exit status of exec $mode whose child was killed in its set-up"
		assert_contains "$OUT" "silo: exec in \`$id\`: the process was killed during its set-up"
		assert_not_contains "$OUT" "corrupt"
		[ ! -e "$T_DIR/pid" ] || fail "exec $mode wrote its --pid-file for a killed process"
		jq -e 'select(.level == "error") | .msg | test("killed during its set-up")' "$T_DIR/silo.log" \
			> /dev/null || fail "no such error in the JSON log: $(show "$(cat "$T_DIR/silo.log")")"
	done
	assert_eq running "$(status_of "$id")" "the container after the killed execs"
	assert_ok silo exec "$id" sh -c 'echo after'
	assert_contains "$OUT" after
	silo delete --force "$id"
}

run_test cve_2019_5736_proc_exe test_cve_2019_5736_proc_exe
run_test cve_2024_21626_cwd test_cve_2024_21626_cwd
run_test masked_symlink_and_fake_proc test_masked_symlink_and_fake_proc
run_test inheritable_caps_exact test_inheritable_caps_exact
run_test exec_same_confinement test_exec_same_confinement
run_test bad_seccomp_profiles test_bad_seccomp_profiles
run_test seccomp_notify_listener test_seccomp_notify_listener
run_test seccomp_cache test_seccomp_cache
run_test idmapped_mount test_idmapped_mount
run_test rootless_run test_rootless_run
run_test lsm_label_without_lsm test_lsm_label_without_lsm
run_test apparmor_profile test_apparmor_profile
run_test mount_label test_mount_label
run_test selinux_process_label test_selinux_process_label
run_test minus_one_ids test_minus_one_ids
run_test sealed_copy_ignores_env test_sealed_copy_ignores_env
run_test cgroup_disabled_devices test_cgroup_disabled_devices
run_test exec_child_killed_by_container test_exec_child_killed_by_container
run_test exec_child_killed_in_setup test_exec_child_killed_in_setup
finish
