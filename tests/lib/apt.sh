# shellcheck shell=bash
# apt_install LABEL PACKAGE...: apt-get update + install, as the project's dependency
# scripts use it.  Waits up to 10 minutes for another apt or dpkg run to finish
# (DPkg::Lock::Timeout for dpkg's lock; a retry loop for the lists lock of `update`,
# which that option does not cover), and keeps apt's output out of the log of
# `make check`: one progress line, the whole output in a file, its tail on failure.
# Sets nothing else; needs root (or sudo, set in SUDO as an array).
apt_install() {
	local label=$1 log rc=0 tries
	shift
	log=$(mktemp "${TMPDIR:-/tmp}/silo-apt.XXXXXX")
	echo "$label: installing $* (apt's output: $log)"
	local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
	for tries in $(seq 120); do
		"${apt[@]}" update -qq >> "$log" 2>&1 && rc=0 && break
		rc=$?
		grep -q 'Could not get lock\|Unable to lock' "$log" || break
		[ "$tries" = 1 ] && echo "$label: waiting for another apt run to finish"
		sleep 5
	done
	[ "$rc" -eq 0 ] && { "${apt[@]}" install -y -qq --no-install-recommends "$@" >> "$log" 2>&1 || rc=$?; }
	if [ "$rc" -ne 0 ]; then
		echo "$label: apt-get failed ($rc); the end of its output:" >&2
		tail -n 40 "$log" >&2
		return "$rc"
	fi
	rm -f "$log"
}
