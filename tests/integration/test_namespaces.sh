#!/bin/bash
# Namespaces: pid, uts, net, ipc, mount, cgroup, user, time; joining by path.
. "$(dirname "$0")/../lib/common.sh"

SLEEPER='trap "exit 0" TERM; echo ready; while :; do sleep 0.05; done'

# ns inode strings of the container's own process, printed from inside.
# add a cgroup namespace unless the spec already has one (silo's does, runc's not)
WITH_CGROUP_NS='if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type":"cgroup"}] end'
NS_SCRIPT='for n in pid net ipc uts mnt cgroup user; do echo "$n=$(readlink /proc/self/ns/$n)"; done'
ns_line() { sed -n "s/^$1=//p" <<< "$OUT"; }   # TYPE: from $OUT

# userns_bundle DIR [JQ_FILTER [jq args...]]: a bundle with a user namespace mapping
# container root to host uid/gid 100000, on a rootfs of its own owned by them.
userns_bundle() {
	local b=$1 f=${2:-.}
	shift; [ $# -gt 0 ] && shift
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	mkdir -p "$b"
	build_rootfs "$b/rootfs"
	chown -R 100000:100000 "$b/rootfs"
	make_bundle "$b" '.linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	jq_edit "$b" "$f" "$@"
}

test_pid_namespace() {
	local b=$T_DIR/b
	make_bundle "$b"
	run_ok "$b" 'echo "pid=$$"; echo "ppid=$PPID"; cat /proc/1/cmdline | tr "\0" " "; echo; ls /proc | grep -c "^[0-9]"'
	assert_contains "$OUT" "pid=1" "pid of the container process"
	assert_contains "$OUT" "ppid=0"
	assert_contains "$OUT" "sh -c echo" "/proc/1/cmdline"
	# sh, ls and grep at most (plus the subshell)
	local n; n=$(tail -n1 <<< "$OUT")
	[ "$n" -le 4 ] || fail "container sees $n processes, expected only its own"
}

test_namespaces_differ_from_host() {
	local b=$T_DIR/b n host
	make_bundle "$b" "$WITH_CGROUP_NS"
	run_ok "$b" "$NS_SCRIPT"
	for n in pid net ipc uts mnt cgroup; do
		host=$(host_ns "$n")
		assert_contains "$(ns_line "$n")" "$n:[" "$n namespace link"
		assert_ne "$host" "$(ns_line "$n")" "$n namespace (host's is $host)"
	done
	# No user namespace configured: the host's is shared.
	assert_eq "$(host_ns user)" "$(ns_line user)" "user namespace"
}

test_namespaces_from_outside() {
	local id b=$T_DIR/b pid n
	id=$(new_id)
	make_bundle "$b" "$WITH_CGROUP_NS"
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	for n in pid net ipc uts mnt cgroup; do
		assert_ne "$(host_ns "$n")" "$(ns_of "$pid" "$n")" "$n namespace of pid $pid"
	done
	assert_eq "$(host_ns user)" "$(ns_of "$pid" user)" "user namespace of pid $pid"
	# pid 1 inside is the state's pid outside
	assert_eq 1 "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" "NSpid innermost"
}

test_shared_namespace_when_not_configured() {
	local b=$T_DIR/b
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "uts" and .type != "ipc")) | del(.hostname)'
	run_ok "$b" "$NS_SCRIPT; echo host=\$(hostname)"
	assert_eq "$(host_ns uts)" "$(ns_line uts)" "uts namespace"
	assert_eq "$(host_ns ipc)" "$(ns_line ipc)" "ipc namespace"
	assert_contains "$OUT" "host=$(hostname)" "hostname"
}

test_hostname_domainname() {
	local b=$T_DIR/b
	make_bundle "$b" '.hostname="box-one" | .domainname="example.test"'
	run_ok "$b" 'echo "h=$(hostname)"; echo "d=$(cat /proc/sys/kernel/domainname)"'
	assert_contains "$OUT" "h=box-one"
	# runc 1.1 ignores "domainname" (added in runc 1.2)
	is_runc || assert_contains "$OUT" "d=example.test"
	assert_ne box-one "$(hostname)" "host's hostname must be untouched"
}

test_net_namespace_only_lo() {
	local b=$T_DIR/b ifs
	make_bundle "$b"
	run_ok "$b" 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; echo ---; ls /sys/class/net'
	ifs=$(sed -n '1,/^---$/p' <<< "$OUT" | grep -v '^---$')
	assert_eq lo "$ifs" "interfaces in /proc/net/dev"
	assert_eq lo "$(sed -n '/^---$/,$p' <<< "$OUT" | grep -v '^---$' | tr -d ' \n')" "/sys/class/net"
}

test_join_netns_by_path() {
	need_cmd unshare
	local b=$T_DIR/b nsfile=$T_DIR/netns ino
	# A persistent network namespace bound on a file under $WORK (not `ip netns add`,
	# which leaves a shared bind mount on /run/netns behind).
	touch "$nsfile"
	unshare --net="$nsfile" true || skip "cannot create a persistent network namespace with unshare"
	defer umount "$nsfile"
	nsenter --net="$nsfile" ip link set lo up 2>/dev/null || true
	ino=$(stat -L -c %i "$nsfile")
	make_bundle "$b" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "$nsfile"
	run_ok "$b" 'readlink /proc/self/ns/net; cat /sys/class/net/lo/operstate'
	assert_contains "$OUT" "net:[$ino]" "container's net namespace"
	# lo was brought up in the joined namespace from the host
	assert_contains "$OUT" unknown "state of lo (set up from outside)"
}

test_join_uts_ns_of_other_container() {
	local id1 b1=$T_DIR/b1 b2=$T_DIR/b2 pid
	id1=$(new_id)
	make_bundle "$b1" '.hostname="first-box"'
	set_args "$b1" "$SLEEPER"
	run_detached "$id1" "$b1"
	wait_status "$id1" running
	pid=$(state_field "$id1" pid)
	make_bundle "$b2" '.linux.namespaces |= map(if .type == "uts" then .path = $p else . end) | del(.hostname)' \
		--arg p "/proc/$pid/ns/uts"
	run_ok "$b2" 'hostname; readlink /proc/self/ns/uts'
	assert_contains "$OUT" first-box "hostname seen through the joined uts namespace"
	assert_contains "$OUT" "$(ns_of "$pid" uts)" "uts namespace"
}

test_user_namespace() {
	local b=$T_DIR/b id pid
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	mkdir -p "$b"
	build_rootfs "$b/rootfs"   # a real copy: chown must not touch the shared rootfs
	chown -R 100000:100000 "$b/rootfs"
	make_bundle "$b" '.linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	add_out_mount "$b"
	run_ok "$b" 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /out/x; ls -ln /bin/busybox'
	assert_match "$OUT" '^ *0 +100000 +65536' "uid_map"
	assert_eq 2 "$(grep -Ec '^ *0 +100000 +65536' <<< "$OUT")" "uid_map and gid_map lines"
	assert_contains "$OUT" $'\n0\n0\n' "id inside"
	assert_match "$OUT" 'busybox' "rootfs readable"
	assert_match "$(ls -ln "$b/rootfs/bin/busybox")" ' 100000 +100000 ' "owner outside"
	# outside: the process runs as host uid 100000
	id=$(new_id)
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_eq 100000 "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "host uid of the container process"
	assert_ne "$(host_ns user)" "$(ns_of "$pid" user)" "user namespace"
	assert_match "$(cat "/proc/$pid/uid_map")" '^ *0 +100000 +65536' "uid_map seen from the host"
}

# A user namespace joined by path (made by someone else, mapping container root to
# host uid 100000, not to host root) with a new pid namespace: silo must fork the
# real init inside the pid namespace, keep it alive when the intermediate exits,
# and become root of the joined namespace.  Run several times: the failure was a
# race (about 9 in 10 on a loaded machine).
test_join_userns_new_pidns() {
	need_cmd unshare
	local b=$T_DIR/b holder i n=8 out
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	unshare --user sleep 600 &
	holder=$!
	defer kill -9 "$holder"
	wait_for 5 bash -c "[ \"\$(readlink /proc/$holder/ns/user)\" != '$(host_ns user)' ]" ||
		fail "the holder's user namespace did not appear"
	echo '0 100000 65536' > "/proc/$holder/uid_map"
	echo '0 100000 65536' > "/proc/$holder/gid_map"
	mkdir -p "$b"
	build_rootfs "$b/rootfs"
	chown -R 100000:100000 "$b/rootfs"
	make_bundle "$b" '.linux.namespaces += [{"type":"user","path":$p}] | del(.linux.uidMappings, .linux.gidMappings)' \
		--arg p "/proc/$holder/ns/user"
	for i in $(seq "$n"); do
		run_ok "$b" 'id -u; echo $$; readlink /proc/self/ns/user'
		out=$OUT
		assert_eq 0 "$(sed -n 1p <<< "$out")" "uid inside (run $i)"
		assert_eq 1 "$(sed -n 2p <<< "$out")" "pid inside (run $i)"
		assert_eq "$(readlink "/proc/$holder/ns/user")" "$(sed -n 3p <<< "$out")" "user namespace (run $i)"
	done
	assert_eq "" "$(ls "$ROOT")" "state left behind"
}

# No mount namespace in the config: the spec has the runtime's inherited.  runc then
# ignores root.path and the mounts; crun makes the mounts in the host's namespace and
# chroots.  silo builds the root in a namespace of its own and carries the finished
# tree over (rootfs_leave_mntns): the process is in silo's mount namespace, its root
# is the bundle's with every mount, masked path and the read-only root, and nothing
# of it is mounted in the host's namespace, during the run or after.
test_no_mount_namespace() {
	silo_only "runc runs the process in the host's root"
	local id b=$T_DIR/b out
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount"))'
	id=$(new_id)
	echo "$id" > "$b/rootfs/marker"
	set_args "$b" 'readlink /proc/self/ns/mnt; cat /marker; cat /proc/self/status | grep -c ^Pid;
		echo "firmware=$(ls /sys/firmware | wc -l)"; touch /x 2>/dev/null && echo rw || echo ro;
		cd /../../..; ls / | grep -c marker; mount -t tmpfs t /tmp 2>/dev/null && echo mounted || echo nomount;
		sleep 30'
	run_detached "$id" "$b"
	wait_output "$id" nomount
	out=$(ct_output "$id")
	assert_eq "$(host_ns mnt)" "$(sed -n 1p <<< "$out")" "the process is in silo's mount namespace"
	assert_eq "$id" "$(sed -n 2p <<< "$out")" "its root is the bundle's"
	assert_eq 1 "$(sed -n 3p <<< "$out")" "its /proc is a procfs"
	assert_eq "firmware=0" "$(sed -n 4p <<< "$out")" "masked paths are masked"
	assert_eq ro "$(sed -n 5p <<< "$out")" "the root is read-only"
	assert_eq 1 "$(sed -n 6p <<< "$out")" "/.. is still the container's root"
	assert_eq nomount "$(sed -n 7p <<< "$out")" "nothing can be mounted on the container's tree"
	# Outside: none of the container's mounts is in the host's namespace.
	assert_eq "" "$(awk -v r="$b/rootfs" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)" \
		"the container's mounts are not in the host's namespace"
	# exec lands in the same root, in silo's mount namespace too.
	capture silo exec "$id" sh -c 'cat /marker; readlink /proc/self/ns/mnt; ls /dev/null'
	assert_eq 0 "$RC" "exec: $(show "$OUT")"
	assert_eq "$id" "$(sed -n 1p <<< "$OUT")" "exec: the container's root"
	assert_eq "$(host_ns mnt)" "$(sed -n 2p <<< "$OUT")" "exec: silo's mount namespace"
	assert_eq /dev/null "$(sed -n 3p <<< "$OUT")" "exec: the container's /dev"
	# Nothing can be mounted onto a tree in no namespace: mounts add says so.
	mkdir -p "$T_DIR/src"
	jq -n --arg s "$T_DIR/src" '[{destination: "/added", type: "bind", source: $s, options: ["rbind"]}]' \
		> "$T_DIR/mounts.json"
	assert_fail silo mounts add "$id" "$T_DIR/mounts.json"
	assert_contains "$OUT" 'no mount namespace'
	assert_eq "" "$(awk -v r="$T_DIR" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)" \
		"mounts add left nothing in the host's namespace"
	# CRIU dumps mount namespaces; this root is in none: refused before CRIU runs.
	assert_fail silo checkpoint --image-path "$T_DIR/img" "$id"
	assert_contains "$OUT" 'without a mount namespace cannot be checkpointed'
	assert_eq running "$(status_of "$id")" "the refused checkpoint left the container running"
	local pid; pid=$(silo state "$id" | jq -r .pid)
	silo delete --force "$id" || fail "delete --force"
	assert_no_leftovers "$id" "$pid"
}

# The classic chroot escape (chroot into a subdirectory, walk "..", chroot there)
# reaches the host's root from a chroot in the host's tree, crun's way.  silo's root
# is a detached tree: ".." at its top stays there.
test_no_mount_namespace_chroot_escape() {
	silo_only "runc runs the process in the host's root"
	local id b=$T_DIR/b
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) | .root.readonly=false |
		.process.capabilities.bounding += ["CAP_SYS_CHROOT"] |
		.process.capabilities.effective += ["CAP_SYS_CHROOT"] |
		.process.capabilities.permitted += ["CAP_SYS_CHROOT"]'
	cat > "$T_DIR/escape.c" <<-'EOF'
	#include <stdio.h>
	#include <sys/stat.h>
	#include <unistd.h>
	int main(void) {
		mkdir("/jail", 0700);
		if (chroot("/jail") < 0) { perror("chroot jail"); return 1; }
		for (int i = 0; i < 64; i++) if (chdir("..") < 0) { perror("chdir"); return 1; }
		if (chroot(".") < 0) { perror("chroot ."); return 1; }
		execl("/bin/cat", "cat", "/marker", (char *)0);
		perror("execl");
		return 1;
	}
	EOF
	cc -static -O1 -o "$b/rootfs/escape" "$T_DIR/escape.c" || skip "no static libc to build the probe"
	id=$(new_id)
	echo "$id" > "$b/rootfs/marker"
	set_args "$b" '/escape'
	capture silo run --bundle "$b" "$id"
	assert_eq 0 "$RC" "escape probe: $(show "$OUT")"
	assert_eq "$id" "$(sed -n 1p <<< "$OUT")" "after the escape, / is still the container's root"
	assert_no_leftovers "$id"
}

# exec joins the init's namespaces in one setns() on its pidfd, less the pid one
# (joined before the clone): without a mount namespace that can leave nothing to
# join, and setns() refuses empty flags.  A pid namespace only, and none at all.
test_no_mount_namespace_exec_nothing_to_join() {
	silo_only "runc runs the process in the host's root"
	local id b=$T_DIR/b ns
	for ns in '[{"type":"pid"}]' '[]'; do
		make_bundle "$b" '.linux.namespaces=$ns | del(.hostname)' --argjson ns "$ns"
		echo marker > "$b/rootfs/marker"
		set_args "$b" 'sleep 30'
		id=$(new_id)
		run_detached "$id" "$b"
		capture silo exec "$id" cat /marker
		assert_eq 0 "$RC" "exec with namespaces $ns: $(show "$OUT")"
		assert_eq marker "$OUT" "exec with namespaces $ns: the container's root"
		silo delete --force "$id" || fail "delete --force"
		assert_no_leftovers "$id"
	done
}

# ... but not with a user namespace (the way back into silo's namespace needs its
# CAP_SYS_ADMIN), nor with unbindable mounts (a detached copy would drop them).
test_no_mount_namespace_refusals() {
	silo_only "runc runs the process in the host's root"
	local id b=$T_DIR/b
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) |
		.linux.namespaces += [{"type":"user"}] |
		.linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] |
		.linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'linux.namespaces: a user namespace without a mount namespace'
	assert_contains "$OUT" '{"type": "mount"}'
	assert_no_leftovers "$id"
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) | .linux.rootfsPropagation="unbindable"'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'linux.rootfsPropagation: `unbindable` needs a mount namespace'
	assert_no_leftovers "$id"
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) |
		.mounts += [{"destination":"/mnt","type":"tmpfs","source":"t","options":["unbindable"]}]'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'mounts[' 
	assert_contains "$OUT" '].options: unbindable propagation needs a mount namespace'
	assert_no_leftovers "$id"
	# A copy is private: slave (and shared) propagation would silently stop.
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) |
		.mounts += [{"destination":"/mnt","type":"bind","source":"/tmp","options":["rbind","rslave"]}]'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" '].options: slave propagation needs a mount namespace'
	assert_no_leftovers "$id"
	# CAP_SYS_ADMIN (and CAP_SYS_CHROOT) would let setns() into silo's own mount
	# namespace reset the root to the host's: refused at create, for every capability
	# (no process.capabilities) too, and at exec (--cap).
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) |
		.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN","CAP_SYS_CHROOT"])'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'process.capabilities: CAP_SYS_ADMIN without a mount namespace'
	assert_no_leftovers "$id"
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount")) | del(.process.capabilities)'
	id=$(new_id)
	assert_fail silo run --bundle "$b" "$id"
	assert_contains "$OUT" 'every capability (none listed) without a mount namespace'
	assert_no_leftovers "$id"
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "mount"))'
	set_args "$b" 'sleep 30'
	id=$(new_id)
	run_detached "$id" "$b"
	assert_fail silo exec --cap CAP_SYS_ADMIN --cap CAP_SYS_CHROOT "$id" true
	assert_contains "$OUT" 'process.capabilities: CAP_SYS_ADMIN without a mount namespace'
	silo delete --force "$id" || fail "delete --force"
	assert_no_leftovers "$id"
	# Restore refuses it as checkpoint does, before CRIU runs.
	mkdir -p "$T_DIR/img" && : > "$T_DIR/img/inventory.img"
	id=$(new_id)
	assert_fail silo restore --image-path "$T_DIR/img" --bundle "$b" "$id"
	assert_contains "$OUT" 'without a mount namespace cannot be restored'
	assert_no_leftovers "$id"
}

# A foreground run adopts the container's orphans (silo is a child subreaper, as
# runc is); --no-subreaper turns that off.  Without a pid namespace the orphan of a
# subshell is reparented to silo itself, the shell's parent ($PPID).
test_subreaper_adopts_orphans() {
	local b=$T_DIR/b script
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "pid"))'
	script='p=$( (sleep 30 >/dev/null 2>&1 & echo $!) ); sleep 0.5
		echo "parent=$PPID orphan_parent=$(cut -d" " -f4 /proc/$p/stat)"; kill $p'
	run_ok "$b" "$script"
	assert_match "$OUT" '^parent=([0-9]+) orphan_parent=\1$' "the orphan's parent is silo"
	is_runc && return 0
	set_args "$b" "$script"
	capture silo run --no-subreaper --bundle "$b" "$(new_id)"
	[ "$RC" -eq 0 ] || fail "run --no-subreaper exited $RC: $(show "$OUT")"
	assert_match "$OUT" '^parent=[0-9]+ orphan_parent=[0-9]+$' "output with --no-subreaper"
	! grep -Eq '^parent=([0-9]+) orphan_parent=\1$' <<< "$OUT" || fail "--no-subreaper: silo still adopted the orphan"
}

# create + start with a new user namespace: the container's root (host uid 100000)
# must be able to open exec.fifo, and the program must really run.
test_user_namespace_create_start() {
	local b=$T_DIR/b id
	userns_bundle "$b"
	add_out_mount "$b"
	set_args "$b" 'id -u > /out/ran; sleep 30'
	id=$(new_id)
	create_ct "$id" "$b"
	assert_eq created "$(status_of "$id")" "status after create"
	silo start "$id" || fail "start failed"
	wait_for 5 test -s "$b/out/ran" || fail "the container never ran (status $(status_of "$id"))"
	assert_eq 0 "$(cat "$b/out/ran")" "uid inside"
	assert_eq running "$(status_of "$id")" "status after start"
}

test_time_namespace() {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	is_runc && skip "runc 1.1 has no time namespace support"
	local b=$T_DIR/b host up
	make_bundle "$b" '.linux.namespaces += [{"type":"time"}]
		| .linux.timeOffsets = {"boottime":{"secs":864000,"nanosecs":0},"monotonic":{"secs":86400,"nanosecs":0}}'
	run_ok "$b" 'cat /proc/uptime; readlink /proc/self/ns/time'
	host=$(cut -d. -f1 /proc/uptime)
	up=$(head -n1 <<< "$OUT" | cut -d. -f1)
	[ "$up" -ge $((host + 864000 - 5)) ] || fail "uptime inside $up, host $host: boottime offset not applied"
	assert_ne "$(host_ns time)" "$(sed -n 2p <<< "$OUT")" "time namespace"
}

# exec joins a time namespace too: setns(CLONE_NEWTIME) refuses a process that
# shares its memory, so exec's child is then a copy of silo (exec.c).
test_exec_time_namespace() {
	[ -e /proc/self/ns/time ] || skip "kernel without time namespaces"
	is_runc && skip "runc 1.1 has no time namespace support"
	local b=$T_DIR/b id host up
	make_bundle "$b" '.linux.namespaces += [{"type":"time"}]
		| .linux.timeOffsets = {"boottime":{"secs":864000,"nanosecs":0}}'
	set_args "$b" "$SLEEPER"
	id=$(new_id)
	run_detached "$id" "$b"
	wait_output "$id" ready
	capture silo exec "$id" sh -c 'cat /proc/uptime; readlink /proc/self/ns/time'
	[ "$RC" = 0 ] || fail "exec into a time namespace: $(show "$OUT")"
	host=$(cut -d. -f1 /proc/uptime)
	up=$(head -n1 <<< "$OUT" | cut -d. -f1)
	[ "$up" -ge $((host + 864000 - 5)) ] || fail "uptime in exec $up, host $host: not in the time namespace"
	assert_eq "$(readlink "/proc/$(state_field "$id" pid)/ns/time")" "$(sed -n 2p <<< "$OUT")" "exec's time namespace"
}

# A new network namespace has `lo` up (runc and crun bring it up): seen inside and
# from the host.
test_net_namespace_lo_up() {
	local b=$T_DIR/b id pid flags
	make_bundle "$b"
	run_ok "$b" 'cat /sys/class/net/lo/flags'
	flags=$OUT
	[ $((flags & 1)) = 1 ] || fail "lo is down inside: flags $flags"
	need_cmd nsenter ip
	id=$(new_id)
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_match "$(nsenter -t "$pid" -n ip -o link show lo)" '<[^>]*[<,]UP[,>]' "lo from the host"
}

# oomScoreAdj with a user namespace: the container process is not dumpable, so its
# /proc files belong to the host's root and it cannot write its own.
test_user_namespace_oom_score_adj() {
	local b=$T_DIR/b id pid
	[ -e /proc/self/ns/user ] || skip "kernel without user namespaces"
	mkdir -p "$b"
	build_rootfs "$b/rootfs"
	chown -R 100000:100000 "$b/rootfs"
	make_bundle "$b" '.linux.namespaces += [{"type":"user"}] | .process.oomScoreAdj = 345
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
	run_ok "$b" 'cat /proc/self/oom_score_adj'
	assert_eq 345 "$OUT" "oom_score_adj inside"
	id=$(new_id)
	set_args "$b" "$SLEEPER"
	run_detached "$id" "$b"
	wait_status "$id" running
	pid=$(state_field "$id" pid)
	assert_eq 345 "$(cat "/proc/$pid/oom_score_adj")" "oom_score_adj from the host"
}


# Bind sources are opened by silo on the host's side, as runc and crun do: with a
# user namespace the container's root may not reach them (a directory only the
# host's root can search), and it must still get the mount.
test_user_namespace_bind_unreachable_source() {
	local b=$T_DIR/b
	mkdir -m 700 "$T_DIR/locked"
	mkdir "$T_DIR/locked/data"
	echo secret-but-shared > "$T_DIR/locked/data/f"
	chmod 644 "$T_DIR/locked/data/f"
	userns_bundle "$b" '.mounts += [{"destination":"/data","type":"bind","source":$s,
		"options":["rbind","ro","nosuid"]}]' --arg s "$T_DIR/locked/data"
	run_ok "$b" 'cat /data/f; touch /data/g 2>/dev/null && echo writable; grep " /data " /proc/self/mountinfo'
	assert_contains "$OUT" secret-but-shared "the file through the bind"
	assert_not_contains "$OUT" writable "ro bind"
	assert_match "$OUT" ' /data ro,nosuid' "mount flags inside"
	assert_no_file "$T_DIR/locked/data/g"
}

# An idmapped mount in a container with a user namespace: host files owned by 0
# show up as the container's root through the container's mapping, and it can
# write them; outside they stay root's.
test_user_namespace_idmapped_mount() {
	local b=$T_DIR/b
	mkdir -p "$T_DIR/idm"
	echo x > "$T_DIR/idm/f"
	chown 0:0 "$T_DIR/idm" "$T_DIR/idm/f"
	userns_bundle "$b" '.mounts += [{"destination":"/idm","type":"bind","source":$s,
		"options":["rbind","idmap"]}]' --arg s "$T_DIR/idm"
	run_ok "$b" 'stat -c "idm=%u:%g" /idm/f; echo y >> /idm/f && echo wrote; touch /idm/new'
	assert_contains "$OUT" "idm=0:0" "owner through the idmapped mount"
	assert_contains "$OUT" wrote "container root writes through the idmapped mount"
	assert_eq "0:0" "$(stat -c %u:%g "$T_DIR/idm/f")" "the host file's owner"
	assert_eq "0:0" "$(stat -c %u:%g "$T_DIR/idm/new")" "a new file's owner on the host"
}

# With a user namespace the devices are binds of the host's nodes (mknod is not
# allowed there): nosuid and noexec, as runc's, and they work.
test_user_namespace_device_binds() {
	local b=$T_DIR/b
	# the host's node of a configured device is bound: /dev/full, with a trailing slash
	userns_bundle "$b" '.linux.devices = [{"path":"/dev/full/","type":"c","major":1,"minor":7}]'
	run_ok "$b" 'echo hi > /dev/null && echo null-ok; head -c 2 /dev/full | od -An -tx1
		grep -E " /dev/(null|full) " /proc/self/mountinfo'
	assert_contains "$OUT" null-ok
	assert_contains "$OUT" " 00 00" "read from /dev/full"
	assert_match "$OUT" ' /dev/null [^ ]*nosuid' "/dev/null nosuid"
	assert_match "$OUT" ' /dev/null [^ ]*noexec' "/dev/null noexec"
	assert_match "$OUT" ' /dev/full [^ ]*nosuid' "/dev/full nosuid"
	assert_match "$OUT" ' /dev/full [^ ]*noexec' "/dev/full noexec"
}

run_test pid_namespace test_pid_namespace
run_test namespaces_differ_from_host test_namespaces_differ_from_host
run_test namespaces_from_outside test_namespaces_from_outside
run_test shared_namespace_when_not_configured test_shared_namespace_when_not_configured
run_test hostname_domainname test_hostname_domainname
run_test net_namespace_only_lo test_net_namespace_only_lo
run_test join_netns_by_path test_join_netns_by_path
run_test join_uts_ns_of_other_container test_join_uts_ns_of_other_container
run_test user_namespace test_user_namespace
run_test join_userns_new_pidns test_join_userns_new_pidns
run_test subreaper_adopts_orphans test_subreaper_adopts_orphans
run_test user_namespace_create_start test_user_namespace_create_start
run_test time_namespace test_time_namespace
run_test exec_time_namespace test_exec_time_namespace
run_test no_mount_namespace test_no_mount_namespace
run_test no_mount_namespace_chroot_escape test_no_mount_namespace_chroot_escape
run_test no_mount_namespace_refusals test_no_mount_namespace_refusals
run_test no_mount_namespace_exec_nothing_to_join test_no_mount_namespace_exec_nothing_to_join
run_test net_namespace_lo_up test_net_namespace_lo_up
run_test user_namespace_oom_score_adj test_user_namespace_oom_score_adj
run_test user_namespace_bind_unreachable_source test_user_namespace_bind_unreachable_source
run_test user_namespace_idmapped_mount test_user_namespace_idmapped_mount
run_test user_namespace_device_binds test_user_namespace_device_binds
