# shellcheck shell=bash
# The sandbox section of `make bench`, sourced by tests/bench/run-bench:
#
#   (s) start of /bin/true from an image that is already cached / loaded:
#       sandbox      silo sandbox --image ARCHIVE -- /bin/true
#       run          silo run of the b-true bundle (the same busybox rootfs)
#       podman       podman run --rm --network none IMAGE /bin/true (its default runtime)
#       podman-silo  the same with --runtime silo
#
# ARCHIVE is an OCI image layout made from the bench's rootfs exactly as the
# sandbox tests make theirs (tests/lib/image.sh); Podman loads the same archive
# into a private store.  Same method as (a)-(c): one warm-up run per column,
# then N iterations with the order rotating every iteration; every run is
# measured by `bench time --tree`, which also adopts and counts what a command
# leaves behind (Podman's conmon and cleanup process).
#
# Podman is optional: when it is missing the outer part installs it as
# tests/deps-clients.sh does (apt-get); when that fails, or Podman does not work
# here, its columns are left out with a note, and the bench goes on.
#
#   sb_setup          outer, before the run: the image, Podman and its config
#   sb_env            outer: the variables the inner part needs (for `env`)
#   sb_measure        inner: checks and measurements -> $RES/s.*
#   sb_inner_cleanup  inner, at exit: Podman's containers and cgroups
#   sb_report         outer, after the run: $T/table-s, the plot, $T/sb-doc.md

SB_COLS_ALL=(sandbox run podman podman-silo)
SB_IMAGE_CONFIG='{"Cmd": ["/bin/true"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}'
PODMAN_DEPS=(podman conmon containernetworking-plugins uidmap)

# sb_short COL: the plot's label.
sb_short() {
	case $1 in
	sandbox) echo "silo sandbox" ;;
	run) echo "silo run" ;;
	podman) echo "podman/${PODMAN_RT:-default}" ;;
	podman-silo) echo "podman/silo" ;;
	esac
}
sb_label() {
	case $1 in
	sandbox) echo "silo sandbox --image" ;;
	run) echo "silo run (bundle)" ;;
	podman) echo "podman run --rm${PODMAN_RT:+ ($PODMAN_RT)}" ;;
	podman-silo) echo "podman run --rm --runtime silo" ;;
	esac
}

# ------------------------------------------------------------------ outer
sb_setup() {
	SB_N=${BENCH_SB_N:-$N}
	[[ "$SB_N" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_SB_N must be a positive integer" >&2; exit 1; }
	SB_IMAGE=$T/sandbox-image.tar
	. "$REPO/tests/lib/image.sh"
	make_oci_image "$SB_IMAGE" "$T/sandbox-image.tmp" "$(image_arch)" "$SB_IMAGE_CONFIG" "$T/rootfs" ||
		{ echo "bench: cannot build the sandbox image" >&2; exit 1; }
	PODMAN= PODMAN_NOTE=
	if [ "${BENCH_PODMAN:-1}" = 0 ]; then
		PODMAN_NOTE="left out (BENCH_PODMAN=0)"
		return 0
	fi
	if ! command -v podman > /dev/null; then
		echo "bench: installing ${PODMAN_DEPS[*]} (as tests/deps-clients.sh does)"
		apt-get update -qq > /dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PODMAN_DEPS[@]}" \
			> "$T/podman-install.log" 2>&1 || true
	fi
	PODMAN=$(command -v podman) || {
		PODMAN_NOTE="left out: podman is not installed and could not be installed ($(tail -n 1 "$T/podman-install.log" 2>/dev/null))"
		echo "bench: $PODMAN_NOTE" >&2
		PODMAN=
		return 0
	}
	# A private Podman: its own storage, state, configuration and cgroup parent;
	# the cgroupfs manager; silo registered as a runtime named "silo".
	PM_DIR=$T/podman
	mkdir -p "$PM_DIR"/{root,runroot,tmp,net}
	cat > "$PM_DIR/containers.conf" <<-EOF
	[containers]
	default_ulimits = ["nofile=1024:1024", "nproc=32768:32768"]
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	image_copy_tmp_dir = "$PM_DIR/tmp"
	runtime_supports_json = ["crun", "runc", "silo"]
	[engine.runtimes]
	silo = ["$SILO_BIN"]
	[network]
	network_backend = "cni"
	network_config_dir = "$PM_DIR/net"
	EOF
	cat > "$PM_DIR/storage.conf" <<-EOF
	[storage]
	driver = "overlay"
	runroot = "$PM_DIR/runroot"
	graphroot = "$PM_DIR/root"
	EOF
	echo 'unqualified-search-registries = []' > "$PM_DIR/registries.conf"
}

sb_env() {
	printf '%s\n' "SB_IMAGE=$SB_IMAGE" "SB_N=$SB_N" "PODMAN=$PODMAN" "PM_DIR=${PM_DIR:-}" \
		"PODMAN_NOTE=$PODMAN_NOTE"
}

# ------------------------------------------------------------------ inner
pm() {
	CONTAINERS_CONF=$PM_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$PM_DIR/registries.conf \
		"$PODMAN" --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
		--cgroup-manager cgroupfs --events-backend file "$@"
}
# sb_cmd COL I [CMD...]: SB_ARGV, one run of column COL (iteration I) running CMD
# (default /bin/true; the b-true bundle of `run` has its own).
sb_cmd() {
	local c=$1 i=$2; shift 2
	[ $# -gt 0 ] || set -- /bin/true
	case $c in
	sandbox) SB_ARGV=("$(bin_of silo)" --root "$(root_of silo)" sandbox --image "$SB_IMAGE" -- "$@") ;;
	run) SB_ARGV=("$(bin_of silo)" --root "$(root_of silo)" run --bundle "$T/b-true" "$PREFIX-silo-s-$i") ;;
	podman) pm_argv_of run "$@" ;;
	podman-silo) pm_argv_of --runtime silo run "$@" ;;
	esac
}
# pm_argv_of ARGS... CMD...: the podman command line as one argv for `bench time`
# (env sets its configuration); ARGS end with run, CMD follows the image.
pm_argv_of() {
	local pre=()
	while [ "$1" != run ]; do pre+=("$1"); shift; done
	shift
	SB_ARGV=(env CONTAINERS_CONF="$PM_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf"
		CONTAINERS_REGISTRIES_CONF="$PM_DIR/registries.conf" "$PODMAN" --root "$PM_DIR/root"
		--runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" --cgroup-manager cgroupfs
		--events-backend file "${pre[@]}" run --rm --network none --cgroup-parent "/$PREFIX-podman"
		"$PM_IMAGE" "$@")
}

# sb_one COL I: one measurement, appended to $RES/s.COL ("warmup" is not kept).
sb_one() {
	local c=$1 i=$2 line log=$T/log/s-$1.log
	sb_cmd "$c" "$i"
	line=$("$BENCH" time --tree --log "$log" -- "${SB_ARGV[@]}")
	[ -n "$line" ] || line="0 0 0 255 0"
	[ "$i" = warmup ] || echo "$line" >> "$RES/s.$c"
	read -r _ _ _ st _ <<< "$line"
	if [ "$st" != 0 ]; then
		echo "bench: $c: (s) run $i exited $st" >&2
		log_tail "$log"
		[ "$c" != run ] || rt silo delete --force "$PREFIX-silo-s-$i" > /dev/null 2>&1 < /dev/null
	fi
}

# sb_check COL: the column really runs a container: output and exit status come back.
sb_check() {
	local c=$1 out rc
	[ "$c" = run ] && return 0   # b-true: the b-check bundle was checked above
	sb_cmd "$c" check sh -c 'echo sandbox-ok-$((6 * 7)); cat /proc/self/uid_map; exit 3'
	out=$("${SB_ARGV[@]}" 2>&1 < /dev/null)
	rc=$?
	if [ "$rc" -ne 3 ] || [[ "$out" != *sandbox-ok-42* ]]; then
		SB_WHY="'sh -c echo ...; exit 3' gave status $rc, output: $(echo "${out:0:300}" | tr '\n' ' ')"
		return 1
	fi
	if [ "$c" = sandbox ]; then
		# with its default user namespace (idmapped layers), or not
		if grep -Eq '^ *0 +0 +4294967295' <<< "$out"; then echo "sandbox_userns=no" >> "$RES/env"
		else echo "sandbox_userns=yes" >> "$RES/env"; fi
	fi
	return 0
}

sb_measure() {
	local c i k bad cols=(sandbox run)
	: > "$RES/s.notes"
	echo "== (s) sandbox start of /bin/true: $SB_N iterations, alternating"
	if ! sb_check sandbox; then mark_fail silo "(s) sanity check of silo sandbox: $SB_WHY"; return; fi
	if [ -n "$PODMAN" ]; then
		if ! pm load -i "$SB_IMAGE" > "$T/log/podman-load.log" 2>&1; then
			echo "podman: left out: podman load failed: $(tail -n 1 "$T/log/podman-load.log")" >> "$RES/s.notes"
		else
			PM_IMAGE=$(sed -n 's/^Loaded image[^:]*: *//p' "$T/log/podman-load.log" | head -n 1)
			PODMAN_RT=$(pm info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null)
			{ echo "podman_version=$("$PODMAN" --version 2>/dev/null)"
			  echo "podman_runtime=$PODMAN_RT"
			  echo "podman_runtime_version=$(pm info --format '{{.Host.OCIRuntime.Version}}' 2>/dev/null | head -n 1)"
			} >> "$RES/env"
			if sb_check podman; then
				cols+=(podman)
				if sb_check podman-silo; then cols+=(podman-silo)
				else mark_fail silo "(s) podman --runtime silo: $SB_WHY"; fi
			else
				echo "podman: left out: podman run does not work here: $SB_WHY" >> "$RES/s.notes"
			fi
		fi
	else
		echo "podman: $PODMAN_NOTE" >> "$RES/s.notes"
	fi
	echo "${cols[*]}" > "$RES/s.cols"
	for c in "${cols[@]}"; do sb_one "$c" warmup; done   # the warm-up also caches the layers
	# ... and the parsed image (recorded once the archive is a second old: it is).
	local dbg
	sb_cmd sandbox record /bin/true
	dbg=$("${SB_ARGV[0]}" --debug "${SB_ARGV[@]:1}" 2>&1 < /dev/null)
	if [[ "$dbg" == *"its index record is used"* ]]; then
		echo "sandbox_record=yes" >> "$RES/env"
	else
		echo "sandbox_record=no" >> "$RES/env"
		echo "silo sandbox: the image's index record is not used: each run reads the archive" >> "$RES/s.notes"
	fi
	for ((i = 1; i <= SB_N; i++)); do
		for ((k = 0; k < ${#cols[@]}; k++)); do
			sb_one "${cols[$(((i + k) % ${#cols[@]}))]}" "$i"
		done
	done
	for c in "${cols[@]}"; do
		bad=$(awk '$4 != 0' "$RES/s.$c" | wc -l)
		[ "$bad" -eq 0 ] && continue
		if [ "$c" = podman ]; then echo "podman: $bad of $SB_N runs failed" >> "$RES/s.notes"
		else mark_fail silo "(s) $c: $bad of $SB_N runs failed"; fi
	done
	printf '   (s) done: %s\n' "${cols[*]}"
}

# rm_cgroup_tree DIR: kill what is in a cgroup directory tree and remove it.
rm_cgroup_tree() {
	local d p
	for d in $(find "$1" -depth -type d 2>/dev/null); do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		rmdir "$d" 2>/dev/null || { sleep 0.1; rmdir "$d" 2>/dev/null; }
	done
}

sb_inner_cleanup() {
	local d
	if [ -n "${PODMAN:-}" ] && [ -d "${PM_DIR:-}" ]; then
		timeout 60 pm rm -a -f -t 0 > /dev/null 2>&1 < /dev/null
		timeout 60 pm rmi -a -f > /dev/null 2>&1 < /dev/null
	fi
	for d in /sys/fs/cgroup/*/"$PREFIX-podman"; do [ -d "$d" ] && rm_cgroup_tree "$d"; done
}

# ------------------------------------------------------------------ report
sb_report() {
	local c f ok fail wm wp cm cp rm rx ad cols
	: > "$T/summary-s"
	read -r -a cols < "$RES/s.cols" 2> /dev/null || cols=()
	PODMAN_RT=$(sed -n 's/^podman_runtime=//p' "$RES/env" 2>/dev/null | tail -n 1)
	for c in "${cols[@]}"; do
		f=$RES/s.$c
		[ -s "$f" ] || continue
		ok=$(awk '$4 == 0' "$f" | wc -l)
		fail=$(awk '$4 != 0' "$f" | wc -l)
		read -r wm wp _ <<< "$(awk '$4 == 0' "$f" | "$BENCH" stats 1)"
		read -r cm cp _ <<< "$(awk '$4 == 0' "$f" | "$BENCH" stats 2)"
		read -r rm _ _ rx _ <<< "$(awk '$4 == 0' "$f" | "$BENCH" stats 3)"
		read -r ad _ <<< "$(awk '$4 == 0' "$f" | "$BENCH" stats 5)"
		echo "$c $ok $fail $wm $wp $cm $cp $rm $rx $ad" >> "$T/summary-s"
	done
	sget() { awk -v c="$1" -v k="$2" '$1 == c { print $k; f = 1 } END { if (!f) print "nan" }' "$T/summary-s"; }
	{
		echo "| command | ok runs | wall median ms | wall p90 ms | CPU median ms | CPU p90 ms | peak RSS median (max) MiB | processes adopted per run (median) |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		while read -r c ok fail wm wp cm cp rm rx ad; do
			okcol=$ok; [ "$fail" = 0 ] || okcol="$ok (**$fail failed**)"
			echo "| $(sb_label "$c") | $okcol | $(ms "$wm") | $(ms "$wp") | $(ms "$cm") | $(ms "$cp") | $(mib "$rm") ($(mib "$rx")) | ${ad%.*} |"
		done < "$T/summary-s"
	} > "$T/table-s"
	{
		echo "| ratio (medians) | wall | CPU | peak RSS |"
		echo "|---|---:|---:|---:|"
		for c in run podman podman-silo; do
			[ "$(sget "$c" 4)" = nan ] && continue
			echo "| silo sandbox / $(sb_label "$c") | $(ratio "$(sget sandbox 4)" "$(sget "$c" 4)") | $(ratio "$(sget sandbox 6)" "$(sget "$c" 6)") | $(ratio "$(sget sandbox 8)" "$(sget "$c" 8)") |"
		done
	} > "$T/table-s-ratio"
	sb_plot
}

# docs/bench-sandbox.png: wall, CPU and peak RSS medians per column.
sb_plot() {
	local c v metric col unit
	[ "$DOCS" != - ] && command -v gnuplot > /dev/null && [ -s "$T/summary-s" ] || return 0
	for metric in wall:4:ms cpu:6:ms rss:8:mib; do
		IFS=: read -r v col unit <<< "$metric"
		while read -r c _; do
			printf '"%s" %s\n' "$(sb_short "$c")" "$($unit "$(sget "$c" "$col")")"
		done < "$T/summary-s" > "$T/s-$v.dat"
	done
	local term="pngcairo noenhanced size 1400,520 font 'DejaVu Sans,10'"
	gnuplot -e 'set terminal pngcairo' > /dev/null 2>&1 || term="png noenhanced size 1400,520"
	if gnuplot > "$T/gnuplot-s.log" 2>&1 <<-EOF
		set terminal $term
		set output "$DOCS/bench-sandbox.png"
		set style fill solid 0.85 border -1
		set boxwidth 0.6
		set grid ytics
		set yrange [0:*]
		set offsets 0, 0, graph 0.12, 0
		set xtics nomirror scale 0
		set xrange [-0.6:$(($(wc -l < "$T/summary-s") - 1)).6]
		unset key
		set multiplot layout 1,3 title "(s) start of /bin/true from a cached image, N=$SB_N, $(nproc) CPUs, kernel $(uname -r), $PLOT_DATE" font ",12"
		set title "median wall time (ms)"
		plot "$T/s-wall.dat" using 0:2:xtic(1) with boxes lc rgb "#2a9d8f", "" using 0:2:(sprintf("%.1f", \$2)) with labels offset 0,0.7 font ",8"
		set title "median CPU time, user+sys, all processes (ms)"
		plot "$T/s-cpu.dat" using 0:2:xtic(1) with boxes lc rgb "#e9c46a", "" using 0:2:(sprintf("%.1f", \$2)) with labels offset 0,0.7 font ",8"
		set title "median peak RSS, largest process (MiB)"
		plot "$T/s-rss.dat" using 0:2:xtic(1) with boxes lc rgb "#e76f51", "" using 0:2:(sprintf("%.1f", \$2)) with labels offset 0,0.7 font ",8"
		unset multiplot
	EOF
	then SB_PLOT=1
	else echo "bench: gnuplot (sandbox plot) failed:" >&2; cat "$T/gnuplot-s.log" >&2
	fi
}

# sb_doc: the section of docs/performance.md (markdown on stdout).
sb_doc() {
	local userns notes
	userns=$(sed -n 's/^sandbox_userns=//p' "$RES/env" 2>/dev/null | tail -n 1)
	notes=$(sed 's/^/- /' "$RES/s.notes" 2>/dev/null)
	cat <<-EOF

	## Sandbox start: \`silo sandbox\` vs \`silo run\` vs \`podman run --rm\`

	(s): N = $SB_N iterations per command, start of \`/bin/true\` from an image that
	is already there (silo's layer cache, Podman's store).
	EOF
	[ "${SB_PLOT:-0}" = 1 ] && printf '\n![sandbox start: median wall time, CPU time and peak RSS per command](bench-sandbox.png)\n'
	cat <<-EOF

	$(cat "$T/table-s")

	$(cat "$T/table-s-ratio")
	EOF
	[ -z "$notes" ] || printf '\nNotes:\n\n%s\n' "$notes"
	cat <<-EOF

	Method of (s):

	- **The image**: an OCI image layout (tar) with one layer, the busybox rootfs of the
	  other cases, built by tests/lib/image.sh exactly as the sandbox integration tests
	  build theirs; config \`Cmd ["/bin/true"]\`. Podman loads the same archive
	  (\`podman load\`) into a private store (its own \`--root\`, \`--runroot\`,
	  containers.conf and storage.conf under the bench's temp dir, overlay driver,
	  cgroupfs manager, \`--cgroup-parent /bench...-podman\`).
	- **Commands**, each ending in \`/bin/true\`:
	  \`silo --root STATE sandbox --image ARCHIVE --\` (the layers and the parsed image
	  are cached by the warm-up run: each measured run $([ "$(sed -n 's/^sandbox_record=//p' "$RES/env" 2>/dev/null | tail -n 1)" = yes ] && echo "reads nothing of the archive (its index record, lib/image/cache.c, is used while the file is unchanged)" || echo "**reads the archive's index and manifests** (its index record was not used: see the notes)"), then
	  mounts the overlay of the cached layer and a tmpfs; default hardening: Docker's
	  capabilities and seccomp profile, all namespaces$([ "$userns" = yes ] && echo ", a user namespace with idmapped layers" || true)$([ "$userns" = no ] && echo ", **no** user namespace (its state path was not traversable)" || true), a watchdog process);
	  \`silo --root STATE run --bundle b-true ID\` (the same rootfs as a plain read-only
	  bundle with \`silo spec\`'s config: no overlay, no image, no seccomp, no user
	  namespace);
	  \`podman run --rm --network none IMAGE\` with Podman's default runtime
	  ($(sed -n 's/^podman_runtime_version=//p' "$RES/env" 2>/dev/null | tail -n 1)), and the same with
	  \`--runtime silo\` (this silo binary). \`--network none\` because a sandbox has
	  no network either by default.
	- **Measured** by \`bench time --tree\`: wall time from fork to the exit of the
	  command (what a caller waits for); CPU time (user + sys) and peak RSS from the
	  rusage of the command and of every process it forked and reaped (silo's
	  container process and watchdog, the runtime processes of \`silo run\`) **plus**
	  every orphan it left behind, which the measuring tool adopts as a child
	  subreaper and waits for: for Podman that is conmon (which runs the OCI
	  runtime's create, start and delete) and the \`podman container cleanup\` process
	  conmon starts when the container exits, so Podman's CPU includes all its
	  helpers. The last column counts those adopted processes. Peak RSS is the
	  largest single process (\`ru_maxrss\`), not a sum.
	- **Same method** as (a)–(c): one warm-up run per command, then the commands
	  alternate, the order rotating every iteration; every run's exit status must be
	  0; before timing, each command must run \`sh -c 'echo …; exit 3'\` and return its
	  output and status.
	- Podman: $(sed -n 's/^podman_version=//p' "$RES/env" 2>/dev/null | tail -n 1); when it is not installed the
	  bench installs it (\`apt-get install ${PODMAN_DEPS[*]}\`, as
	  tests/deps-clients.sh does) or leaves its columns out with a note;
	  \`BENCH_PODMAN=0\` leaves them out, \`BENCH_SB_N\` sets N for (s) alone.

	Where the time of a sandbox start goes (not measured by this bench: a profile of
	30 starts of each, \`perf record -F 2000 --call-graph dwarf\`, each CPU sample
	put in the first sandbox step on its stack; 2026-12-07, kernel 6.18, 2 shared
	CPUs).  A sandbox took 1.49x the samples of \`silo run\` of the bundle; of the
	sandbox's samples:

	| step | share |
	|---|---:|
	| \`silo_run\`: create, start, wait, delete (as for any container, plus the user namespace, the cgroup namespace and the seccomp filter the plain bundle does not have) | 44 % |
	| process start and exit (ld.so, libc), as for \`silo run\` | 10 % |
	| the watchdog: its fork (page tables, copy-on-write), life and exit | 5.6 % |
	| the user namespace that idmaps the layers (a short-lived child: clone, maps, exit) | 5.2 % |
	| Docker's seccomp profile rendered for the capabilities, the process resolved, config.json written | 4.9 % |
	| unmount, bundle removal, frees | 2.6 % |
	| the private mount namespace, the idmapped layer, tmpfs and overlay mounts | 2.0 % |
	| the image: its index record, the layers checked in the cache | 1.9 % |
	| the bundle directory, the stale-sandbox scan | 1.4 % |
	| unattributed (kernel entry and exit, page faults, truncated stacks) | 22 % |

	Before the image index records (lib/image/cache.c), every start loaded
	libarchive and its libraries (libxml2, ICU, nettle, lzma, zstd, bz2, lz4, acl:
	more symbol lookups than all of silo's own) and scanned the archive for its
	index, manifest and config: measured in one run, alternating, N = 40 (load
	average above 20), the start went from 1.97x to 1.48x \`silo run\`'s CPU time
	(2.74x to 1.53x wall) and its peak RSS from 6.2 to 2.6 MiB.

	The profile above is from before one more change (issue #19): the child that
	holds the idmapping user namespace while its maps are written is no longer a
	fork but a clone that shares silo's memory (\`CLONE_VM\`, a stack of its own,
	raw system calls only): no page tables copied, no copy-on-write fault for
	every page silo writes afterwards.  Measured in one run alternating the two
	builds (N = 40, loaded machine, CPU time from wait4): the sandbox start went
	from 36.6 to 32.6 ms of CPU time (median).  The watchdog stays a fork: a clone
	sharing silo's memory would die with silo in an OOM kill (the kernel kills
	every process sharing the memory of the one it picks), the one death it must
	outlive.  What remains above \`silo run\` is the hardening itself: the
	watchdog process, the idmapping user namespace, the seccomp filter (rendered,
	then loaded by the kernel: its JIT and the TLB flushes that come with it;
	about 2 ms of CPU, measured against \`--seccomp unconfined\`), the overlay.
	Handing the generated config over in memory instead of config.json would save
	little: silo run's parse of it took about 0.06 ms a start (perf, 40 starts).
	EOF
}
