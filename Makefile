# silo — an OCI container runtime.
#   make                  build ./silo
#   make check            install test dependencies (Debian), build, run every test
#   make check SANITIZE=1 the same with AddressSanitizer + UBSan
#   make fuzz             run every libFuzzer target FUZZ_SECONDS (60) each (tests/fuzz/)
#   make check-guest      only the cgroup v2 and soft-dirty CRIU tests, in a QEMU guest (tests/guest/)
#   make check-faults     kill create (also --network bridge), start, run -d, delete, exec, kill,
#                         update, pause, resume, checkpoint, restore
#                         and sandbox at every system call (as root;
#                         docs/reliability.md); make check runs a sample of those points
#   make soak             8 workers race random commands for SOAK_SECONDS (1800) on one state
#                         root; checks errors, leftovers, memory and fds (tests/soak/run, as root)
#   make bench            silo vs crun vs runc, side by side (docs/performance.md)
#   make bench-migrate    silo migrate: downtime per strategy and size (docs/migration.md)
#   make demo             set up and run a busybox container
#   make install PREFIX=/usr/local   (also LIBDIR, INCLUDEDIR, DESTDIR)
#   make format           clang-format every source file

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
VERSION := 0.1.0
# libsilo.so.0 -> libsilo.so.0.1.0: the soname changes with the major version only.
SONAME  := libsilo.so.$(firstword $(subst ., ,$(VERSION)))

CC      ?= cc
# libsystemd and libnftables are dlopen'ed by the code that needs them (only their
# headers are used at build time): see cgroup/systemd.c and netns/.
PKGS    := libseccomp libcap-ng jansson libmnl
DLOPEN_PKGS := libsystemd libnftables gnutls
# pkg-config is only asked when something is built, so `make clean` works on a bare machine.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS) 2>/dev/null)
# The three small libraries every command uses are linked statically (their .a
# files come with the -dev packages): each silo invocation then skips loading
# them, 0.25 ms of CPU per command (see docs/performance.md).  STATIC_DEPS=0 to
# link them dynamically.  Everything else stays dynamic.
STATIC_PKGS := libseccomp libcap-ng jansson
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS),1)
PKG_LIBS   = -Wl,-Bstatic $(shell pkg-config --libs $(filter $(STATIC_PKGS),$(PKGS)) 2>/dev/null) \
             -Wl,-Bdynamic $(shell pkg-config --libs $(filter-out $(STATIC_PKGS),$(PKGS)) 2>/dev/null)
else
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -DSILO_VERSION=\"$(VERSION)\" -I. $(PKG_CFLAGS)
CFLAGS  += -fno-plt -fstack-protector-strong -D_FORTIFY_SOURCE=2
LDFLAGS += -Wl,--as-needed -Wl,-O1 -Wl,-z,relro
LDLIBS  += $(PKG_LIBS) -ldl

# FUZZ=1: the library built with clang for the libFuzzer harnesses of tests/fuzz/
# (coverage instrumentation, ASan + UBSan; every UBSan report is fatal).
ifeq ($(FUZZ),1)
CC      := clang
CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
CFLAGS  += -fno-omit-frame-pointer -U_FORTIFY_SOURCE -O1
# clang's -Wformat=2 also flags vsnprintf(fmt) in functions taking a va_list (gcc does not).
CFLAGS  += -Wno-format-nonliteral
LDFLAGS += -fsanitize=fuzzer,address,undefined
BUILD   := build/fuzz
else ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -U_FORTIFY_SOURCE -O1
LDFLAGS += -fsanitize=address,undefined
BUILD   := build/asan
else
BUILD   := build/release
endif

CMD_SRC := $(wildcard cmd/*.c)
# lib/ is one folder per subsystem (docs/design.md), two levels deep under lib/runtime/.
LIB_SRC := $(wildcard lib/*/*.c lib/*/*/*.c oci/*.c cgroup/*.c netns/*.c)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
# The installed libsilo.so and libsilo.a get their own objects: PIC, and only the
# SILO_API functions (lib/silo.h, lib/base/error.h) visible.  ./silo, the unit tests
# (which call internal functions) and their $(BUILD)/libsilo.a keep the objects
# above, built exactly as before.
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
DEPS    := $(CMD_OBJ:.o=.d) $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d)
SO_FILE := $(BUILD)/libsilo.so.$(VERSION)
# The public headers as installed: silo.h includes <silo/error.h>, and error.h
# leaves out silo's internal helpers (its SILO_INTERNAL_BEGIN..._END part).
PUB_HDR := $(BUILD)/include/silo/silo.h $(BUILD)/include/silo/error.h

# tests/unit/ mirrors the tree (tests/unit/lib/migrate/test_migrate.c...); the
# binaries all land in $(BUILD)/tests/, so their names are unique.
UNIT_SRC := $(shell find tests/unit -name 'test_*.c')
UNIT_BIN := $(addprefix $(BUILD)/tests/,$(basename $(notdir $(UNIT_SRC))))
vpath test_%.c $(sort $(dir $(UNIT_SRC)))

.PHONY: criu all lib check check-guest check-faults unit integration bench bench-migrate demo install uninstall clean format deps \
        fuzz fuzz-bins fuzz-replay soak FORCE
all: silo lib
lib: $(SO_FILE) $(BUILD)/dist/libsilo.a $(PUB_HDR)

# Rebuild when the flags change (e.g. SANITIZE=1 after a plain build).
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS) $(LDLIBS)' > $@

# ./silo and the unit tests are shared by both variants: relink when the variant changes.
build/.variant: FORCE
	@mkdir -p build
	@echo '$(BUILD)' | cmp -s - $@ || echo '$(BUILD)' > $@

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@echo "  CC    $< (pic)"
	@$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<

$(BUILD)/libsilo.a: $(LIB_OBJ)
	@rm -f $@
	@ar qcs $@ $^

# The shared library links its dependencies dynamically (their .a files are not
# PIC); -z defs: every symbol it needs is resolved here, not by the program.
$(SO_FILE): $(PIC_OBJ)
	@echo "  LD    $@"
	@$(CC) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs $(LDFLAGS) -o $@ $(PIC_OBJ) \
	    $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl
	@ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	@ln -sf $(SONAME) $(BUILD)/libsilo.so

# The installed libsilo.a: the same PIC objects as one relocatable object whose
# hidden (internal) symbols are made local, so that a static link sees only the
# SILO_API functions too and silo's internal names cannot clash with a program's.
# ($(BUILD)/libsilo.a keeps every symbol: ./silo and the unit tests link it.)
$(BUILD)/dist/libsilo.a: $(PIC_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR    $@"
	@$(LD) -r -o $(BUILD)/dist/libsilo.o $(PIC_OBJ)
	@objcopy --localize-hidden $(BUILD)/dist/libsilo.o
	@rm -f $@
	@ar qcs $@ $(BUILD)/dist/libsilo.o

$(BUILD)/include/silo/silo.h: lib/silo.h
	@mkdir -p $(dir $@)
	@sed 's|^#include "lib/base/error.h"$$|#include <silo/error.h>|' $< > $@.tmp
	@if grep -q '^#include "' $@.tmp; then echo "$@: an in-tree include is left" >&2; exit 1; fi
	@mv $@.tmp $@

$(BUILD)/include/silo/error.h: lib/base/error.h
	@mkdir -p $(dir $@)
	@sed '\|^/\* SILO_INTERNAL_BEGIN|,\|^/\* SILO_INTERNAL_END \*/$$|d' $< > $@.tmp
	@if grep -q 'SILO_INTERNAL\|^#include "' $@.tmp; then echo "$@: internal part left" >&2; exit 1; fi
	@mv $@.tmp $@

silo: $(CMD_OBJ) $(BUILD)/libsilo.a build/.variant
	@echo "  LD    $@"
	@$(CC) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libsilo.a $(LDLIBS)

$(BUILD)/tests/%: %.c $(BUILD)/libsilo.a
	@mkdir -p $(dir $@)
	@echo "  LD    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsilo.a $(LDLIBS) $$(pkg-config --libs cmocka)

# libFuzzer harnesses, one per untrusted parser (tests/fuzz/README.md): built by
# `make fuzz-bins` into build/fuzz/bin/ (sets FUZZ=1 itself).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/bin/%)

build/fuzz/bin/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(BUILD)/libsilo.a
	@mkdir -p $(dir $@)
	@echo "  LD    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsilo.a $(LDLIBS)

ifeq ($(FUZZ),1)
fuzz-bins: $(FUZZ_BIN)
else
fuzz-bins:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins
endif

# Every target for FUZZ_SECONDS; new inputs go to build/fuzz/corpus-new/, not the
# committed corpora.
FUZZ_SECONDS ?= 60
fuzz: fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

# The committed corpora and crash reproducers, each input once (part of `make check`).
fuzz-replay:
	@tests/fuzz/replay

# Test dependencies come from Debian packages; tests/deps.sh installs what is missing,
# tests/deps-clients.sh Podman, containerd and Docker for tests/clients/ (as root:
# the client tests run only as root; SILO_CLIENT_TESTS=0 leaves them out).
deps:
	@tests/deps.sh
	@if [ "$$(id -u)" = 0 ] && [ "$${SILO_CLIENT_TESTS:-1}" != 0 ]; then tests/deps-clients.sh; fi

unit: silo $(UNIT_BIN)

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@SILO=$(CURDIR)/silo UNIT_DIR=$(BUILD)/tests $(if $(filter 1,$(SANITIZE)),TEST_TIME_SCALE=3) tests/run-tests

integration: all
	@SILO=$(CURDIR)/silo tests/run-tests --integration-only

# Only the cgroup v2 tests, in the QEMU guest (built once into /var/tmp/silo-test-guest).
check-guest: silo
	@SILO=$(CURDIR)/silo tests/guest/run-guest-tests

# A CRIU that works on this kernel (Debian 12's 3.17 does not on Linux >= 6.13):
# unpacked from Debian's packages into /var/tmp/silo-criu-bundle; prints its path.
criu:
	@tests/lib/criu.sh

# Every kill point of tests/integration/test_crash*.sh (needs strace, CRIU for
# checkpoint/restore; a few minutes each).
check-faults: silo
	@SILO=$(CURDIR)/silo FAULTS_ALL=1 bash tests/integration/test_crash.sh
	@SILO=$(CURDIR)/silo FAULTS_ALL=1 bash tests/integration/test_crash_net.sh
	@SILO=$(CURDIR)/silo FAULTS_ALL=1 bash tests/integration/test_crash_criu.sh

# A long random mix of commands by SOAK_WORKERS workers on one state root
# (docs/reliability.md, "Soak"); make check runs 60 s of it (tests/integration/test_soak.sh).
SOAK_SECONDS ?= 1800
SOAK_WORKERS ?= 8
soak: silo
	@SILO=$(CURDIR)/silo SOAK_SECONDS=$(SOAK_SECONDS) SOAK_WORKERS=$(SOAK_WORKERS) nice tests/soak/run

bench: silo
	@tests/bench/run-bench

bench-migrate: silo
	@SILO=$(CURDIR)/silo tests/bench/run-bench-migrate

demo:
	@tests/demo.sh

install: silo lib
	install -D -m 755 silo $(DESTDIR)$(BINDIR)/silo
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(MANDIR)/man7
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	@if [ -f contrib/silo.bash ]; then install -D -m 644 contrib/silo.bash $(DESTDIR)$(BASHCOMPDIR)/silo; fi
	install -D -m 755 $(SO_FILE) $(DESTDIR)$(LIBDIR)/$(notdir $(SO_FILE))
	ln -sf $(notdir $(SO_FILE)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsilo.so
	install -m 644 $(BUILD)/dist/libsilo.a $(DESTDIR)$(LIBDIR)/libsilo.a
	install -d $(DESTDIR)$(INCLUDEDIR)/silo
	install -m 644 $(PUB_HDR) $(DESTDIR)$(INCLUDEDIR)/silo/
	install -d $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@PKGS@|$(PKGS)|' lib/silo.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/silo.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/silo.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/silo $(DESTDIR)$(BASHCOMPDIR)/silo
	cd man && for m in *.8; do rm -f $(DESTDIR)$(MANDIR)/man8/$$m; done
	cd man && for m in *.7; do rm -f $(DESTDIR)$(MANDIR)/man7/$$m; done
	rm -f $(DESTDIR)$(LIBDIR)/libsilo.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libsilo.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsilo.a
	rm -f $(DESTDIR)$(INCLUDEDIR)/silo/silo.h $(DESTDIR)$(INCLUDEDIR)/silo/error.h
	rmdir $(DESTDIR)$(INCLUDEDIR)/silo 2>/dev/null || true
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/silo.pc

format:
	clang-format -i $(CMD_SRC) $(LIB_SRC) $(wildcard */*.h lib/*/*.h lib/*/*/*.h) $(UNIT_SRC) $(FUZZ_SRC)

clean:
	rm -rf build silo

-include $(DEPS)
