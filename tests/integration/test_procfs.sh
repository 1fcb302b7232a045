#!/bin/bash
# /proc and /sys: every attack on the writes silo makes into a container's /proc
# (LSM labels, oom_score_adj, sysctls) and on the procfs and sysfs mounts
# themselves, shown refused; and what must keep working (sysctls, masked paths,
# lxcfs-style binds onto /proc/cpuinfo).  docs/security.md, "/proc and /sys".
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; while :; do sleep 0.05; done'
aa_enabled() { [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; }

# run_d ID BUNDLE: `silo run -d` whose output (and the container's, if it starts)
# goes to a file, not to a pipe we would wait on; $OUT and $RC as capture sets them.
run_d() {
	silo run -d --bundle "$2" "$1" > "$T_DIR/$1.out" 2>&1 < /dev/null && RC=0 || RC=$?
	OUT=$(cat "$T_DIR/$1.out")
}

# refused_mount DEST SOURCE [JQ_EXTRA]: a config bind mount of SOURCE onto DEST
# (after the spec's mounts, so the container's /proc is there) must fail the run
# with an error naming mounts[N].destination, and leave nothing behind.
refused_mount() {
	local dest=$1 src=$2 extra=${3:-.} b=$T_DIR/b-$RANDOM id n
	make_bundle "$b" '.mounts += [{"destination":$d,"type":"bind","source":$s,"options":["rbind"]}]' --arg d "$dest" --arg s "$src"
	jq_edit "$b" "$extra"
	n=$(jq '.mounts | length - 1' "$b/config.json")
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_d "$id" "$b"
	[ "$RC" -ne 0 ] || fail "a bind mount onto $dest was accepted"
	assert_contains "$OUT" "mounts[$n].destination" "the error for $dest names the JSON path"
	assert_no_leftovers "$id"
}

# CVE-2019-16884: a mount over the process's attr directory turns the AppArmor
# / SELinux write into a write to a plain file, and the process runs unconfined.
test_lsm_attr_mount_refused() {
	silo_only "runc's messages differ"
	local d=$T_DIR/attr extra=.
	mkdir -p "$d/apparmor"
	: > "$d/exec"; : > "$d/apparmor/exec"
	aa_enabled && extra='.process.apparmorProfile = "unconfined"'
	for dest in /proc/self/attr /proc/1/attr /proc/1/task/1/attr /proc/thread-self/attr \
		/proc//1/./attr /proc/sys/../1/attr; do
		refused_mount "$dest" "$d" "$extra"
	done
	# CVE-2025-52881: a bind of another procfs file passes a PROC_SUPER_MAGIC check
	refused_mount /proc/self/attr/apparmor/exec /proc/self/sched "$extra"
	refused_mount /proc/self/attr/exec /proc/self/sched "$extra"
	assert_eq "" "$(cat "$d/exec" "$d/apparmor/exec")" "the decoy attr files on the host"
}

# process.oomScoreAdj through a mount onto /proc/self/oom_score_adj: refused by
# destination; through a symlink of the image that leads into /proc: refused once
# the destination is resolved.  Without an attack the value reaches the process.
test_oom_score_adj_not_redirected() {
	silo_only "runc's messages differ"
	local f=$T_DIR/oom b=$T_DIR/b id pid
	: > "$f"
	refused_mount /proc/self/oom_score_adj "$f" '.process.oomScoreAdj = 500'
	refused_mount /proc/1/oom_score_adj "$f" '.process.oomScoreAdj = 500'
	assert_eq "" "$(cat "$f")" "the decoy file on the host"
	# /lnk -> /proc in the image: the destination /lnk/self/oom_score_adj is not
	# "inside /proc" as written, but resolves there
	make_bundle "$b" '.process.oomScoreAdj = 500 | .mounts += [{"destination":"/lnk/self/oom_score_adj","type":"bind","source":$s,"options":["bind"]}]' --arg s "$f"
	rm -rf "$b/rootfs/lnk"; ln -s /proc "$b/rootfs/lnk"
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_d "$id" "$b"
	[ "$RC" -ne 0 ] || fail "a bind through /lnk -> /proc onto oom_score_adj was accepted"
	assert_contains "$OUT" "mounts[$(jq '.mounts | length - 1' "$b/config.json")].destination" "the error names the JSON path"
	assert_contains "$OUT" "procfs" "the error says where the destination leads"
	assert_no_leftovers "$id"
	assert_eq "" "$(cat "$f")" "the decoy file on the host"
	# the honest case: the value is set, seen from inside and from the host
	rm -f "$b/rootfs/lnk"
	jq_edit "$b" '.mounts |= map(select(.destination != "/lnk/self/oom_score_adj"))'
	set_args "$b" "cat /proc/self/oom_score_adj; $SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" 500
	pid=$(state_field "$id" pid)
	assert_eq 500 "$(cat "/proc/$pid/oom_score_adj")" "the process's oom_score_adj, from the host"
	assert_ok silo exec "$id" cat /proc/self/oom_score_adj
	assert_eq 500 "$OUT" "an exec'd process's oom_score_adj"
	assert_ok silo delete --force "$id"
}

# The writes go through silo's private procfs, not the container's /proc: with
# the container's /proc mounted read-only, oom_score_adj and the sysctls are set
# all the same (seen from the host and inside), and an exec'd process's too.
test_private_procfs() {
	silo_only "runc writes through the container's /proc"
	local b=$T_DIR/b id pid child= p
	make_bundle "$b" '.process.oomScoreAdj = 421 | .linux.sysctl = {"kernel.shm_rmid_forced":"1"} | .mounts |= map(if .destination == "/proc" then .options = ["ro","nosuid","nodev","noexec"] else . end)'
	set_args "$b" "echo 0 > /proc/sys/kernel/shm_rmid_forced 2>/dev/null || echo ro-proc; echo shm=\$(cat /proc/sys/kernel/shm_rmid_forced); $SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" shm=
	assert_contains "$(ct_output "$id")" ro-proc "the container's /proc is read-only"
	assert_contains "$(ct_output "$id")" shm=1 "the sysctl inside"
	pid=$(state_field "$id" pid)
	assert_eq 421 "$(cat "/proc/$pid/oom_score_adj")" "the process's oom_score_adj, from the host"
	silo exec -d "$id" sh -c "$SLEEPER" > /dev/null 2>&1 < /dev/null || fail "exec -d failed"
	sleep 0.2
	# the exec'd process: the other one in the container's pid namespace
	for p in $(pgrep -f "$SLEEPER"); do
		[ "$p" != "$pid" ] && [ "$(ns_of "$p" pid)" = "$(ns_of "$pid" pid)" ] && child=$p
	done
	[ -n "$child" ] || fail "the exec'd process was not found"
	assert_eq 421 "$(cat "/proc/$child/oom_score_adj")" "the exec'd process's oom_score_adj, from the host"
	assert_ok silo delete --force "$id"
	assert_no_leftovers "$id"
}

# CVE-2019-19921: /proc (or /sys) of the rootfs is a symlink; the mount would land
# where the link points, which a shared volume can change under silo's feet.
test_proc_sys_symlink_refused() {
	silo_only "runc's messages differ"
	local b=$T_DIR/b id what
	for what in proc sys; do
		rm -rf "$b"
		make_bundle "$b" '.root.readonly = false'
		rm -rf "$b/rootfs/$what" "$b/rootfs/var/p"
		mkdir -p "$b/rootfs/var/p"
		ln -s /var/p "$b/rootfs/$what"
		id=$(new_id)
		capture silo run --bundle "$b" "$id"
		[ "$RC" -ne 0 ] || fail "a rootfs whose /$what is a symlink was accepted: $(show "$OUT")"
		assert_contains "$OUT" "mounts[$(jq --arg d "/$what" '[.mounts[].destination] | index($d)' "$b/config.json")].destination" "the error names the JSON path"
		assert_contains "$OUT" "symlink" "the error for /$what says why"
		assert_no_leftovers "$id"
		assert_eq "" "$(ls -A "$b/rootfs/var/p")" "the symlink's target (nothing mounted or made there)"
		[ -L "$b/rootfs/$what" ] || fail "the /$what symlink of the rootfs was changed"
	done
	# a regular file at /proc is no better
	rm -rf "$b"
	make_bundle "$b" '.root.readonly = false'
	rm -rf "$b/rootfs/proc"; : > "$b/rootfs/proc"
	id=$(new_id)
	capture silo run --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "a rootfs whose /proc is a file was accepted"
	assert_contains "$OUT" "mounts[0].destination" "the error names the JSON path"
	assert_no_leftovers "$id"
}

# Other destinations inside /proc are refused; runc's list (lxcfs' files) and a
# proc mount on /proc itself are allowed.
test_proc_destinations() {
	silo_only "runc's messages differ"
	local d=$T_DIR/dir f=$T_DIR/fake b=$T_DIR/b id
	mkdir -p "$d"; echo "fake cpuinfo from lxcfs" > "$f"
	refused_mount /proc/sys/kernel "$d"
	refused_mount /proc/sysrq-trigger "$f"
	refused_mount /proc/kcore "$f"
	refused_mount /proc "$d"
	# allowed: a file of runc's list (lxcfs binds these), seen inside
	make_bundle "$b" '.mounts += [{"destination":"/proc/cpuinfo","type":"bind","source":$f,"options":["bind","ro"]},{"destination":"/proc/uptime","type":"bind","source":$f,"options":["bind","ro"]}]' --arg f "$f"
	run_ok "$b" 'cat /proc/cpuinfo; cat /proc/uptime'
	assert_eq "fake cpuinfo from lxcfs
fake cpuinfo from lxcfs" "$OUT" "/proc/cpuinfo and /proc/uptime inside"
	# allowed: a second proc mount on /proc
	make_bundle "$b" '.mounts += [{"destination":"/proc","type":"proc","source":"proc"}]'
	run_ok "$b" 'test -r /proc/self/status && echo proc-ok'
	assert_contains "$OUT" proc-ok
}

# linux.sysctl through the private procfs: applied, seen inside, and the host's
# value untouched.
test_sysctl_applied() {
	local b=$T_DIR/b host
	host=$(cat /proc/sys/kernel/shm_rmid_forced)
	make_bundle "$b" '.linux.sysctl = {"kernel.shm_rmid_forced":"1","net.ipv4.ip_forward":"1","net.ipv4.conf.all.forwarding":"1"}'
	run_ok "$b" 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding'
	assert_eq "1
1
1" "$OUT" "the sysctls inside"
	assert_eq "$host" "$(cat /proc/sys/kernel/shm_rmid_forced)" "the host's kernel.shm_rmid_forced"
	# /proc/sys stays read-only afterwards
	run_in "$b" 'echo 0 > /proc/sys/kernel/shm_rmid_forced && echo WROTE'
	assert_not_contains "$OUT" WROTE "a write to the read-only /proc/sys"
}

# Masked paths stay masked: files read empty, directories are empty.
test_masked_paths_masked() {
	local b=$T_DIR/b
	make_bundle "$b"
	jq_edit "$b" '.linux.maskedPaths |= (. + ["/proc/kcore","/proc/timer_list","/proc/keys","/proc/acpi"] | unique)'
	run_ok "$b" 'for f in /proc/kcore /proc/timer_list /proc/keys; do [ -e $f ] || continue; echo "$f:$(head -c 64 $f | wc -c)"; done; [ -d /proc/acpi ] && echo "acpi:$(ls -A /proc/acpi | wc -l)"; true'
	[ -e /proc/kcore ] && assert_contains "$OUT" "/proc/kcore:0" "masked /proc/kcore"
	assert_contains "$OUT" "/proc/timer_list:0" "masked /proc/timer_list"
	assert_contains "$OUT" "/proc/keys:0" "masked /proc/keys"
	[ -d /proc/acpi ] && assert_contains "$OUT" "acpi:0" "masked /proc/acpi"
	true
}

# CVE-2025-31133: /dev/null replaced (here by a createContainer hook, as a racing
# process with a shared /dev could) with a symlink to a procfs file; masking would
# bind that file over the masked path, writable.  The bind source must be the null
# device.
test_masked_dev_null_swapped() {
	silo_only "the check and its message are silo's"
	local b=$T_DIR/b id
	make_bundle "$b"
	jq_edit "$b" '.linux.maskedPaths |= (. + ["/proc/timer_list"] | unique)'
	jq_edit "$b" '.hooks.createContainer = [{"path":"/bin/sh","args":["sh","-c",("rm -f " + $r + "/dev/null && ln -s /proc/sys/kernel/core_pattern " + $r + "/dev/null")]}]' --arg r "$b/rootfs"
	set_args "$b" 'echo "masked=$(cat /proc/timer_list)"'
	id=$(new_id)
	capture silo run --bundle "$b" "$id"
	assert_not_contains "$OUT" "masked=$(cat /proc/sys/kernel/core_pattern)" "what the masked /proc/timer_list shows"
	[ "$RC" -ne 0 ] || fail "masking with a /dev/null that is not the null device was accepted: $(show "$OUT")"
	assert_contains "$OUT" "/dev/null" "the error names /dev/null"
	assert_no_leftovers "$id"
	# a /dev/null of another device (configured): refused too
	jq_edit "$b" 'del(.hooks) | .linux.devices = [{"path":"/dev/null","type":"c","major":1,"minor":5}]'
	id=$(new_id)
	capture silo run --bundle "$b" "$id"
	[ "$RC" -ne 0 ] || fail "masking with /dev/zero as /dev/null was accepted: $(show "$OUT")"
	assert_contains "$OUT" "/dev/null" "the error names /dev/null"
	assert_no_leftovers "$id"
}

# process.terminal: /dev/console is the container's pty, as with runc and crun.
# CVE-2025-52565: the bind target is made by silo in the container's /dev, never
# followed: a symlink planted there (here by a createContainer hook) towards a
# procfs file must not get the pty bound over that file.
test_dev_console() {
	need_cmd script
	local b=$T_DIR/b id out core
	core=$(cat /proc/sys/kernel/core_pattern)
	make_bundle "$b" '.process.terminal = true'
	jq_edit "$b" '.hooks.createContainer = [{"path":"/bin/sh","args":["sh","-c",("ln -sf /proc/sys/kernel/core_pattern " + $r + "/dev/console")]}]' --arg r "$b/rootfs"
	set_args "$b" 'tty; stat -c "console=%F %t" /dev/console; test -L /dev/console && echo LINK; echo "core=$(cat /proc/sys/kernel/core_pattern)"; echo "mounts=$(grep -c " /proc/sys/kernel/core_pattern " /proc/self/mountinfo)"'
	id=$(new_id)
	out=$(script -qec "$(printf '%q ' "$SILO" --root "$ROOT" run --bundle "$b" "$id"); echo rc=\$?" /dev/null < /dev/null | tr -d '\r')
	assert_contains "$out" "rc=0" "the run ($out)"
	assert_contains "$out" "console=character special file 88" "/dev/console is a pty (major 136)"
	assert_not_contains "$out" LINK "/dev/console inside"
	assert_contains "$out" "core=$core" "core_pattern inside"
	assert_contains "$out" "mounts=0" "mounts over core_pattern inside"
	assert_eq "$core" "$(cat /proc/sys/kernel/core_pattern)" "the host's core_pattern"
	assert_no_leftovers "$id"
}

run_test lsm_attr_mount_refused test_lsm_attr_mount_refused
run_test oom_score_adj_not_redirected test_oom_score_adj_not_redirected
run_test private_procfs test_private_procfs
run_test proc_sys_symlink_refused test_proc_sys_symlink_refused
run_test proc_destinations test_proc_destinations
run_test sysctl_applied test_sysctl_applied
run_test masked_paths_masked test_masked_paths_masked
run_test masked_dev_null_swapped test_masked_dev_null_swapped
run_test dev_console test_dev_console
finish
