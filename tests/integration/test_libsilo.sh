#!/bin/bash
# libsilo, the library: `make install` into a temp DESTDIR (shared and static
# library, headers, silo.pc), what the shared library exports, and
# docs/examples/libsilo-run.c built against the installed copy with pkg-config
# and run on a busybox bundle (docs/libsilo.md).
. "$(dirname "$0")/../lib/common.sh"

# Installed once for the file, with the build variant of the tree (make check
# SANITIZE=1 must not relink ./silo as the release variant under the tests).
DEST=$WORK/dest
PREFIX=/usr
LIBDIR=$PREFIX/lib
SAN_FLAGS=""
MAKE_VARIANT=""
if [ "$(cat "$REPO_DIR/build/.variant" 2>/dev/null)" = build/asan ]; then
	MAKE_VARIANT=SANITIZE=1
	SAN_FLAGS="-fsanitize=address,undefined"
fi
VERSION=$(sed -n 's/^VERSION *:\{0,1\}= *//p' "$REPO_DIR/Makefile")
SOMAJOR=${VERSION%%.*}
INSTALL_LOG=$WORK/install.log

# make_install DESTDIR: `make install` of the repository into DESTDIR.
make_install() {
	make -C "$REPO_DIR" --no-print-directory $MAKE_VARIANT install \
		DESTDIR="$1" PREFIX="$PREFIX" LIBDIR="$LIBDIR" > "$INSTALL_LOG" 2>&1
}
# need_install: the test needs the library installed in $DEST (done once).
need_install() {
	silo_only "libsilo is silo's library"
	need_cmd make cc pkg-config nm readelf
	if [ ! -e "$WORK/installed" ]; then
		make_install "$DEST" || fail "make install failed: $(tail -n 20 "$INSTALL_LOG")"
		touch "$WORK/installed"
	fi
}
# pc ARGS...: pkg-config on the installed copy.  silo.pc says prefix=/usr: the temp
# copy is found through the sysroot.  Not exported: make must not see them (the
# flags it builds with would change, and ./silo with them).
pc() { PKG_CONFIG_PATH=$DEST$LIBDIR/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config "$@"; }

# build_example OUT [extra cc args...]: docs/examples/libsilo-run.c against $DEST.
build_example() {
	local out=$1; shift
	assert_ok cc -std=gnu11 -Wall -Wextra -Werror $SAN_FLAGS -o "$out" \
		"$REPO_DIR/docs/examples/libsilo-run.c" "$@"
}

# run_example BIN ID BUNDLE ROOT: run it (shared library from $DEST); $OUT, $RC.
run_example() {
	capture env LD_LIBRARY_PATH="$DEST$LIBDIR" "$1" -r "$4" "$2" "$3"
}

test_install_files() {
	need_install
	local f
	for f in "$LIBDIR/libsilo.so.$VERSION" "$LIBDIR/libsilo.a" "$LIBDIR/pkgconfig/silo.pc" \
		"$PREFIX/include/silo/silo.h" "$PREFIX/include/silo/error.h" "$PREFIX/sbin/silo" \
		"$PREFIX/share/man/man8/silo.8"; do
		[ -f "$DEST$f" ] || fail "make install did not install $f: $(find "$DEST" ! -type d | head -50)"
	done
	# libsilo.so.0 -> libsilo.so.0.1.0 (the soname), libsilo.so -> it (for -lsilo)
	assert_eq "libsilo.so.$VERSION" "$(readlink "$DEST$LIBDIR/libsilo.so.$SOMAJOR")" "libsilo.so.$SOMAJOR link"
	assert_eq "libsilo.so.$SOMAJOR" "$(readlink "$DEST$LIBDIR/libsilo.so")" "libsilo.so link"
	assert_match "$(readelf -d "$DEST$LIBDIR/libsilo.so.$VERSION")" "SONAME.*\[libsilo\.so\.$SOMAJOR\]" "soname"
	# The headers are the public API only: silo.h finds error.h where it is installed,
	# and silo's internal helpers (xmalloc, the cleanup macros) stay out.
	assert_contains "$(cat "$DEST$PREFIX/include/silo/silo.h")" '#include <silo/error.h>' "installed silo.h"
	assert_not_contains "$(cat "$DEST$PREFIX/include/silo/silo.h")" 'lib/base' "installed silo.h"
	assert_contains "$(cat "$DEST$PREFIX/include/silo/error.h")" 'struct silo_error' "installed error.h"
	assert_not_contains "$(cat "$DEST$PREFIX/include/silo/error.h")" 'xmalloc' "installed error.h"
	assert_not_contains "$(cat "$DEST$PREFIX/include/silo/error.h")" '_cleanup_free_' "installed error.h"
	assert_ok pc --modversion silo
	assert_eq "$VERSION" "$OUT" "pkg-config --modversion silo"
	assert_ok pc --cflags --libs silo
	assert_contains "$OUT" "-lsilo" "pkg-config --libs silo"
	assert_ok pc --static --libs silo
	assert_contains "$OUT" "-lseccomp" "pkg-config --static --libs silo"
	assert_contains "$OUT" "-ljansson" "pkg-config --static --libs silo"
	assert_contains "$OUT" "-lcap-ng" "pkg-config --static --libs silo"
	assert_contains "$OUT" "-ldl" "pkg-config --static --libs silo"
}

test_uninstall() {
	need_install
	local d=$T_DIR/dest left before
	# Built and installed once already: a second install rebuilds nothing.
	before=$(stat -c %Y.%s "$REPO_DIR/silo" "$REPO_DIR"/build/*/libsilo.so.*.*.*)
	make_install "$d" || fail "make install failed: $(tail -n 20 "$INSTALL_LOG")"
	assert_eq "$before" "$(stat -c %Y.%s "$REPO_DIR/silo" "$REPO_DIR"/build/*/libsilo.so.*.*.*)" \
		"./silo and libsilo.so after a second make install"
	[ -e "$d$LIBDIR/libsilo.so.$VERSION" ] || fail "make install did not install libsilo.so.$VERSION"
	make -C "$REPO_DIR" --no-print-directory $MAKE_VARIANT uninstall \
		DESTDIR="$d" PREFIX="$PREFIX" LIBDIR="$LIBDIR" > "$T_DIR/uninstall.log" 2>&1 ||
		fail "make uninstall failed: $(tail -n 20 "$T_DIR/uninstall.log")"
	left=$(find "$d" ! -type d)
	[ -z "$left" ] || fail "make uninstall left files behind: $left"
	left=$(find "$d" -type d -name silo)
	[ -z "$left" ] || fail "make uninstall left directories behind: $left"
}

test_exports_only_public_api() {
	need_install
	local so=$DEST$LIBDIR/libsilo.so.$VERSION exported declared
	exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort -u)
	[ -n "$exported" ] || fail "libsilo.so exports nothing"
	# Every exported name is silo_*, and none of the internal functions leaks.
	assert_eq "" "$(grep -v '^silo_' <<< "$exported")" "exported names that are not silo_*"
	for f in fs_read_file fs_write_file_atomic plan_init xmalloc container_prepare oci_config_parse; do
		grep -qx "$f" <<< "$exported" && fail "libsilo.so exports the internal $f"
	done
	# Exactly the functions the installed headers declare.
	declared=$(cat "$DEST$PREFIX/include/silo/silo.h" "$DEST$PREFIX/include/silo/error.h" |
		grep -oE '\bsilo_[a-z0-9_]+\(' | tr -d '(' | sort -u)
	assert_eq "$declared" "$exported" "exported symbols vs the headers' functions"
	# ./silo itself keeps libsilo linked in statically.
	assert_not_contains "$(readelf -d "$REPO_DIR/silo")" libsilo "./silo's dynamic section"
}

# The example, linked against libsilo.so, runs a container: its output is from
# inside (pid 1 of its own pid namespace, the bundle's hostname), its exit code
# comes back, and it leaves nothing behind.
test_example_shared() {
	need_install
	local id b=$T_DIR/b r=$T_DIR/root bin=$T_DIR/libsilo-run
	# shellcheck disable=SC2046
	build_example "$bin" $(pc --cflags --libs silo)
	assert_match "$(readelf -d "$bin")" "NEEDED.*\[libsilo\.so\.$SOMAJOR\]" "the example's libsilo"
	id=$(new_id)
	mkdir -p "$r"
	defer "$SILO" --root "$r" delete --force "$id"
	make_bundle "$b" '.hostname="libsilo-host"'
	# shellcheck disable=SC2016 # expanded in the container
	set_args "$b" 'echo "hello from $(hostname) as pid $$"; exit 7'
	run_example "$bin" "$id" "$b" "$r"
	assert_eq 7 "$RC" "the example's exit code (the container's)"
	assert_contains "$OUT" "hello from libsilo-host as pid 1" "the container's output"
	assert_eq "" "$(ls -A "$r")" "state root after the example"
	ROOT=$r assert_no_leftovers "$id"
}

test_example_static() {
	need_install
	local id b=$T_DIR/b r=$T_DIR/root bin=$T_DIR/libsilo-run-static
	# The static library has the same API as the shared one: silo's internal
	# names (fs_read_file, xmalloc, ...) cannot clash with a program's own.
	assert_eq "" "$(nm -g --defined-only "$DEST$LIBDIR/libsilo.a" | awk 'NF == 3 && $3 !~ /^silo_/ {print $3}')" \
		"libsilo.a's global names that are not silo_*"
	nm -g --defined-only "$DEST$LIBDIR/libsilo.a" | grep -q ' T silo_create$' || fail "libsilo.a lacks silo_create"
	# libsilo.a first, then what it needs (Libs.private, Requires.private).
	# shellcheck disable=SC2046
	build_example "$bin" $(pc --cflags silo) "$DEST$LIBDIR/libsilo.a" \
		$(pc --static --libs silo | sed 's/-lsilo\b//')
	assert_not_contains "$(readelf -d "$bin")" libsilo "the static example's dynamic section"
	id=$(new_id)
	mkdir -p "$r"
	defer "$SILO" --root "$r" delete --force "$id"
	make_bundle "$b"
	set_args "$b" 'echo "static hello as pid $$"'
	capture "$bin" -r "$r" "$id" "$b"
	assert_eq 0 "$RC" "the static example's exit code"
	assert_contains "$OUT" "static hello as pid 1" "the container's output"
	assert_eq "" "$(ls -A "$r")" "state root after the example"
	ROOT=$r assert_no_leftovers "$id"
}

# A failing call returns -1 with the error in struct silo_error, context first.
test_example_error() {
	need_install
	local id r=$T_DIR/root bin=$T_DIR/libsilo-run
	# shellcheck disable=SC2046
	build_example "$bin" $(pc --cflags --libs silo)
	id=$(new_id)
	mkdir -p "$r"
	defer "$SILO" --root "$r" delete --force "$id"
	run_example "$bin" "$id" "$T_DIR/no-such-bundle" "$r"
	assert_eq 125 "$RC" "the example's exit code when create fails"
	assert_match "$OUT" "libsilo-run: create: create \`$id\`: .*no-such-bundle" "the error"
	assert_eq "" "$(ls -A "$r")" "state root after a failed create"
}

# The headers work from C++ too (extern "C": the names are not mangled).
test_cxx_program() {
	need_install
	need_cmd c++
	cat > "$T_DIR/prog.cc" <<-'EOF'
	#include <silo/silo.h>
	#include <cstdio>
	int main() {
	  struct silo_error err = {};
	  int sig = 0;
	  if (silo_parse_signal("SIGTERM", &sig, &err) < 0) return 1;
	  char buf[SILO_ERROR_MSG_MAX + 64];
	  silo_parse_signal("NOPE", &sig, &err);
	  std::printf("%d|%s\n", sig, silo_err_str(&err, buf, sizeof buf));
	  return 0;
	}
	EOF
	# shellcheck disable=SC2046
	assert_ok c++ -std=c++17 -Wall -Wextra -Werror $SAN_FLAGS -o "$T_DIR/prog" "$T_DIR/prog.cc" \
		$(pc --cflags --libs silo)
	capture env LD_LIBRARY_PATH="$DEST$LIBDIR" "$T_DIR/prog"
	assert_eq 0 "$RC" "the C++ program's exit code"
	assert_eq "15|unknown signal \`NOPE\`: Invalid argument" "$OUT" "the C++ program's output"
}

# A container that could ptrace its runtime (here: no pid namespace of its own)
# needs silo's re-execution from a sealed copy (CVE-2019-5736), which a host
# program gets only by handing its argv over (silo_save_argv): without it, the
# create is refused before anything exists, and the error says why.
test_example_needs_sealed_copy() {
	need_install
	local id b=$T_DIR/b r=$T_DIR/root bin=$T_DIR/libsilo-run
	# shellcheck disable=SC2046
	build_example "$bin" $(pc --cflags --libs silo)
	id=$(new_id)
	mkdir -p "$r"
	defer "$SILO" --root "$r" delete --force "$id"
	make_bundle "$b" '.linux.namespaces |= map(select(.type != "pid"))'
	set_args "$b" 'echo must-not-run'
	run_example "$bin" "$id" "$b" "$r"
	assert_eq 125 "$RC" "the example's exit code"
	assert_not_contains "$OUT" must-not-run "the output"
	assert_match "$OUT" "create .$id.: .*sealed copy.*silo_save_argv" "the error"
	assert_eq "" "$(ls -A "$r")" "state root after the refused create"
	ROOT=$r assert_no_leftovers "$id"
}

# silo_exec from a program is a copy of it (clone3 without CLONE_VM): only the silo
# command lends its memory to exec's child (shared_memory_child), as a child killed
# in the program's code would leave its heap, or another thread's lock, half-done.
test_exec_child_is_a_copy() {
	need_install
	need_cmd strace
	local id b=$T_DIR/b bin=$T_DIR/libsilo-exec
	cat > "$T_DIR/exec.c" <<-'EOF'
	#include <silo/silo.h>
	#include <stdio.h>
	int main(int argc, char **argv) {
		struct silo_context ctx = {.root = argv[1]};
		struct silo_error err = {0};
		const char *args[] = {"true"};
		struct silo_exec_opts o = {.id = argv[2], .args = args, .n_args = 1};
		int code = -1;
		(void)argc;
		silo_save_argv(argv);
		if (silo_exec(&ctx, &o, &code, &err) < 0) return fprintf(stderr, "%s\n", err.msg), 255;
		return code;
	}
	EOF
	# shellcheck disable=SC2046
	assert_ok cc -std=gnu11 -Wall -Wextra -Werror $SAN_FLAGS -o "$bin" "$T_DIR/exec.c" $(pc --cflags --libs silo)
	make_bundle "$b"
	set_args "$b" 'while :; do sleep 1; done'
	id=$(new_id)
	run_detached "$id" "$b"
	capture env LD_LIBRARY_PATH="$DEST$LIBDIR" strace -f -e trace=clone3 -o "$T_DIR/strace" "$bin" "$ROOT" "$id"
	assert_eq 0 "$RC" "silo_exec of true"
	grep -q "clone3(" "$T_DIR/strace" || fail "no clone3: $(show "$(cat "$T_DIR/strace")")"
	! grep -q "CLONE_VM" "$T_DIR/strace" || fail "silo_exec's child shares the program's memory: $(show "$(grep clone3 "$T_DIR/strace")")"
	silo delete --force "$id"
}

run_test install_files test_install_files
run_test uninstall test_uninstall
run_test exports_only_public_api test_exports_only_public_api
run_test example_shared test_example_shared
run_test exec_child_is_a_copy test_exec_child_is_a_copy
run_test example_static test_example_static
run_test example_error test_example_error
run_test cxx_program test_cxx_program
run_test example_needs_sealed_copy test_example_needs_sealed_copy
