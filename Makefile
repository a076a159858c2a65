# SPDX-License-Identifier: GPL-2.0-only
#
# Userspace build. Everything lands in build/: build/bin, build/lib,
# build/tests; objects under build/obj. The kernel module has its own
# Kbuild and is built against a kernel tree by the VM test bed.

BUILD		:= build
CC		?= gcc
PKG_CONFIG	?= pkg-config

CRYPTO_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libcrypto)
CRYPTO_LIBS	:= $(shell $(PKG_CONFIG) --libs libcrypto)
SSL_LIBS	:= $(shell $(PKG_CONFIG) --libs libssl)

CFLAGS		?= -O2 -g
WARNINGS	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS	+= -D_GNU_SOURCE -Iinclude -Iinclude/uapi -Iuserspace/lib
ALL_CFLAGS	= $(CPPFLAGS) $(WARNINGS) $(CRYPTO_CFLAGS) $(INIH_CFLAGS) $(CFLAGS) -MMD -MP

LIB_SRCS	:= $(wildcard userspace/lib/*.c)
LIB_OBJS	:= $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBKTLS		:= $(BUILD)/lib/libktls.a

TOOLS		:= ktls-client ktls-server
TOOL_COMMON	:= $(filter-out $(TOOLS:%=userspace/tools/%.c),$(wildcard userspace/tools/*.c))
TOOL_COMMON_OBJS := $(TOOL_COMMON:%.c=$(BUILD)/obj/%.o)
TOOL_BINS	:= $(TOOLS:%=$(BUILD)/bin/%)

TEST_SRCS	:= $(wildcard userspace/tests/*_test.c)
TEST_BINS	:= $(TEST_SRCS:userspace/tests/%.c=$(BUILD)/tests/%)
TEST_SCRIPTS	:= $(sort $(wildcard userspace/tests/*.t))

# The daemon: main.c plus the rest, which its host tests link too.
INIH_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags inih)
INIH_LIBS	:= $(shell $(PKG_CONFIG) --libs inih)
KTLSD_SRCS	:= $(filter-out userspace/ktlsd/main.c,$(wildcard userspace/ktlsd/*.c))
KTLSD_OBJS	:= $(KTLSD_SRCS:%.c=$(BUILD)/obj/%.o)
KTLSD_BIN	:= $(BUILD)/bin/ktlsd
# netlink.c, the ktlsd.ko frontend, speaks generic netlink through libnl
# (genl.c, the channel it shares with handshake_nl.c).
KTLSD_NL_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libnl-genl-3.0)
KTLSD_NL_LIBS	:= $(shell $(PKG_CONFIG) --libs libnl-genl-3.0)

# The control tool: sock_diag and the module's family through libnl, the
# daemon's counters through libktls.
LIBNL_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libnl-genl-3.0)
LIBNL_LIBS	:= $(shell $(PKG_CONFIG) --libs libnl-genl-3.0)
KTLSCTL_SRCS	:= $(wildcard userspace/ktlsctl/*.c)
KTLSCTL_OBJS	:= $(KTLSCTL_SRCS:%.c=$(BUILD)/obj/%.o)
KTLSCTL_BIN	:= $(BUILD)/bin/ktlsctl

BENCH_SRCS	:= $(wildcard userspace/bench/*.c)
BENCH_BINS	:= $(BENCH_SRCS:userspace/bench/%.c=$(BUILD)/bench/%)

.PHONY: all tools check check-host bench clean
all: $(LIBKTLS) $(TOOL_BINS) $(KTLSD_BIN) $(KTLSCTL_BIN) $(TEST_BINS) $(BENCH_BINS)

tools: $(TOOL_BINS) $(KTLSD_BIN) $(KTLSCTL_BIN)

# V=1 shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBKTLS): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/userspace/tools/%.o $(TOOL_COMMON_OBJS) $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CRYPTO_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/userspace/tests/%.o $(BUILD)/obj/userspace/tests/tap.o $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CRYPTO_LIBS)

$(BUILD)/obj/userspace/ktlsd/netlink.o: CPPFLAGS += $(KTLSD_NL_CFLAGS)
$(BUILD)/obj/userspace/ktlsd/genl.o: CPPFLAGS += $(KTLSD_NL_CFLAGS)
# handshake_nl.c, the kernel's own handshake family, too.
$(BUILD)/obj/userspace/ktlsd/handshake_nl.o: CPPFLAGS += $(KTLSD_NL_CFLAGS)

$(KTLSD_BIN): $(BUILD)/obj/userspace/ktlsd/main.o $(KTLSD_OBJS) $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(INIH_LIBS) $(KTLSD_NL_LIBS) $(CRYPTO_LIBS)

$(KTLSCTL_OBJS): CPPFLAGS += $(LIBNL_CFLAGS)

$(KTLSCTL_BIN): $(KTLSCTL_OBJS) $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBNL_LIBS) $(CRYPTO_LIBS)

$(BUILD)/tests/ktlsd_%_test: $(BUILD)/obj/userspace/tests/ktlsd_%_test.o \
			     $(BUILD)/obj/userspace/tests/tap.o $(KTLSD_OBJS) $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(INIH_LIBS) $(KTLSD_NL_LIBS) $(CRYPTO_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/userspace/bench/%.o $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(SSL_LIBS) $(CRYPTO_LIBS)

include selftests/selftests.mk

# Host tests: C unit tests and interop scripts, all TAP, run by prove.
check-host: all
	prove --exec '' $(TEST_BINS) $(TEST_SCRIPTS)

# Everything: the host tests, then the kselftests in VMs on each kernel,
# with one closing line that counts both.
check:
	./scripts/check.sh

# Benchmarks that need kTLS run inside the VM (make bench-ktls), never on the host.
VM_BENCH_BINS	:= $(BUILD)/bench/bulk_bench $(BUILD)/bench/daemon_bench
HOST_BENCH_BINS	:= $(filter-out $(VM_BENCH_BINS),$(BENCH_BINS))

bench: $(HOST_BENCH_BINS)
	@for b in $(HOST_BENCH_BINS); do $$b || exit 1; done

# BENCH_MB, BENCH_ROUNDS and BENCH_KERNEL reach the guest; see the script.
.PHONY: bench-ktls
bench-ktls: $(VM_BENCH_BINS)
	./selftests/vm/bench-ktls.sh

# ktlsd against in-process upgrades, and memory per parked handshake, in the VM.
# BENCH_CONNS, BENCH_ROUNDS, BENCH_INFLIGHT, BENCH_WARMUP, BENCH_PARKED reach the guest.
.PHONY: bench-daemon
bench-daemon: $(BUILD)/bench/daemon_bench $(KTLSD_BIN)
	./selftests/vm/bench-daemon.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-fuzz-cov

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

.PHONY: demo
demo:
	./scripts/demo.sh

# ---- Hardening: sanitizers, valgrind, libFuzzer (Documentation/hardening.rst) ----

ASAN_BUILD	:= build-asan
ASAN_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=undefined
# secrets_test replaces free() itself, which a sanitizer or valgrind also does.
ASAN_TESTS	:= $(filter-out $(BUILD)/tests/secrets_test,$(TEST_BINS))
ASAN_ENV	:= ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: check-asan check-valgrind fuzz fuzz-replay fuzz-build fuzz-coverage
# The whole host suite with AddressSanitizer and UBSan: a second build tree,
# the .t scripts pointed at its tools through KTLS_BIN.
check-asan:
	$(MAKE) BUILD=$(ASAN_BUILD) CC=clang CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_BUILD)/lib/libktls.a $(addprefix $(ASAN_BUILD)/bin/,$(TOOLS) ktlsd ktlsctl) \
		$(ASAN_TESTS:$(BUILD)/%=$(ASAN_BUILD)/%)
	$(ASAN_ENV) KTLS_BIN=$(CURDIR)/$(ASAN_BUILD)/bin KTLS_BIN_DIR=$(ASAN_BUILD)/bin \
		prove --exec '' $(ASAN_TESTS:$(BUILD)/%=$(ASAN_BUILD)/%) $(TEST_SCRIPTS)

# The C tests and a few interop cases under memcheck; slow, outside make check.
check-valgrind: all
	./userspace/tests/valgrind.sh

include userspace/fuzz/fuzz.mk

# ---- Installing: make install [PREFIX=/usr] [DESTDIR=/tmp/stage] ----

# The unit's ExecStart follows SBINDIR, so PREFIX=/usr/local works too.
# Configuration stays the administrator's: the example goes to the docs,
# /etc/ktlsd/ktlsd.conf is never written (Documentation/ktlsd.rst).
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/ktlsd
UNITDIR		?= $(PREFIX)/lib/systemd/system
MODULESLOADDIR	?= $(PREFIX)/lib/modules-load.d
INSTALL		?= install
MAN_PAGES	:= $(wildcard Documentation/man/*.[1358])

.PHONY: install
install: $(LIBKTLS) $(TOOL_BINS) $(KTLSD_BIN) $(KTLSCTL_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MODULESLOADDIR) $(foreach s,1 3 5 8,$(DESTDIR)$(MANDIR)/man$(s))
	$(INSTALL) -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(KTLSD_BIN) $(KTLSCTL_BIN) $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0644 $(LIBKTLS) $(DESTDIR)$(LIBDIR)
	$(INSTALL) -m 0644 include/ktls.h $(DESTDIR)$(INCLUDEDIR)
	$(INSTALL) -m 0644 include/uapi/linux/ktlsd.h $(DESTDIR)$(INCLUDEDIR)/linux
	for page in $(MAN_PAGES); do \
		$(INSTALL) -m 0644 $$page $(DESTDIR)$(MANDIR)/man$${page##*.} || exit 1; \
	done
	sed 's|/usr/sbin/ktlsd|$(SBINDIR)/ktlsd|g' userspace/ktlsd/ktlsd.service \
		>$(DESTDIR)$(UNITDIR)/ktlsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ktlsd.service
	$(INSTALL) -m 0644 userspace/ktlsd/ktlsd-modules.conf \
		$(DESTDIR)$(MODULESLOADDIR)/ktlsd.conf
	$(INSTALL) -m 0644 userspace/ktlsd/ktlsd.conf.example Documentation/ktlsd.rst \
		$(DESTDIR)$(DOCDIR)
