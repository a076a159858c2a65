# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel selftests and the VM test bed; included by the top Makefile, which
# defines BUILD (and LIBKTLS, CRYPTO_CFLAGS, CRYPTO_LIBS and TOOL_BINS, used
# below when set). Every variable defined here starts with VM_.
#
#   make vm-setup    install qemu and friends, fetch and unpack the kernels
#                    (selftests/vm/setup.sh; root for the apt parts)
#   make selftests   build selftests/ktlsd/*_test.c (each linked with
#                    test_util.c), and the gnutls_peer they drive, into
#                    $(BUILD)/selftests
#   make module      build ktlsd.ko for each kernel of VM_KERNELS into
#                    $(BUILD)/module/<version>/ktlsd.ko (W=1, and sparse
#                    when installed; a warning fails the build)
#   make vmcheck     run the selftests once in a VM per kernel of VM_KERNELS
#
# make vmcheck VM_KERNELS=6.12 VM_SELFTEST_SRCS=selftests/ktlsd/ktls_raw_test.c
# narrows a run down. See Documentation/vm-testbed.rst.

VM_DIR			:= $(BUILD)/vm
VM_KERNELS		?= 6.1 6.12
VM_KSELFTEST_DIR	:= $(VM_DIR)/kselftest
VM_SELFTEST_SRCS	:= $(wildcard selftests/ktlsd/*_test.c)
VM_SELFTEST_BINS	= $(VM_SELFTEST_SRCS:selftests/ktlsd/%.c=$(BUILD)/selftests/%)
VM_SELFTEST_CFLAGS	?= -O2 -g
VM_SELFTEST_WARNINGS	:= -Wall -Wextra -Werror
# The harness comes from the kernel source (setup.sh extracts it). It is
# included as a system header: its own code is not -Wextra clean (unused
# parameters), ours must be. Selftests may use libktls's public API.
VM_SELFTEST_CPPFLAGS	= -D_GNU_SOURCE -Iinclude -Iinclude/uapi -isystem $(VM_KSELFTEST_DIR) \
			  $(CRYPTO_CFLAGS)
VM_SELFTEST_LIBS	= $(LIBKTLS) $(CRYPTO_LIBS)

# The GnuTLS peer the selftests drive, built next to them; it does not
# link libktls, so that nothing of ours is on both ends of its connections.
VM_GNUTLS_PEER		:= $(BUILD)/selftests/gnutls_peer
VM_GNUTLS_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags gnutls)
VM_GNUTLS_LIBS		:= $(shell $(PKG_CONFIG) --libs gnutls)

# The scripts find the cache through VM_DIR (their default is build/vm).
VM_ENV			= VM_DIR=$(abspath $(VM_DIR))

.PHONY: vm-setup selftests vmcheck module module-install

vm-setup:
	$(VM_ENV) selftests/vm/setup.sh

selftests: $(VM_SELFTEST_BINS) $(VM_GNUTLS_PEER)

$(VM_KSELFTEST_DIR)/kselftest_harness.h:
	@echo "selftests: $@ is missing: run 'make vm-setup' (selftests/vm/setup.sh) first" >&2
	@exit 1

# ktlsd.ko, once per kernel, from a tree of symlinks to the sources under
# $(BUILD)/module/<version>/: kbuild writes its objects next to the
# sources it is given, and these must not land in kernel/. The kernel's
# make gets none of our command-line variables (CC=clang, BUILD=...).
VM_MODULE_DIR		:= $(abspath $(BUILD)/module)
VM_MODULE_SRCS		= Kbuild $(wildcard kernel/*.c kernel/*.h) include/uapi/linux/ktlsd.h
# sparse checks each file kbuild compiles, when it is installed.
VM_MODULE_SPARSE	:= $(if $(shell command -v sparse),C=1)

# The release a KDIR is for: <release> of /lib/modules/<release>/build
# (what uname -r says; Debian's headers may record another string), or
# what the tree itself records.
module_release = case "$(KDIR)" in */lib/modules/*/build|*/lib/modules/*/build/) \
	basename "$$(dirname "$(KDIR)")";; *) cat "$(KDIR)/include/config/kernel.release";; esac

# KDIR=<a kernel build tree> builds for that kernel alone instead of the
# test-bed ones: KDIR=/lib/modules/$(uname -r)/build for the running kernel
# (Debian: linux-headers-$(uname -r)). module-install installs that build
# under /lib/modules/<release>/updates and runs depmod (root).
module:
	@set -e; \
	build_one() { \
		kdir=$$1; v=$$2; \
		out=$(VM_MODULE_DIR)/$$v; \
		mkdir -p $$out/kernel $$out/include/uapi/linux; \
		for f in $(VM_MODULE_SRCS); do ln -sfn $(CURDIR)/$$f $$out/$$f; done; \
		echo "  MODULE  $$out/ktlsd.ko"; \
		MAKEFLAGS= $(MAKE) --no-print-directory -C $$kdir M=$$out W=1 $(VM_MODULE_SPARSE) modules >$$out/build.log 2>&1 || \
			{ cat $$out/build.log >&2; exit 1; }; \
		if grep -E 'warning:|error:' $$out/build.log >&2; then exit 1; fi; \
	}; \
	if [ -n "$(KDIR)" ]; then build_one "$(KDIR)" "$$($(module_release))"; exit 0; fi; \
	for k in $(VM_KERNELS); do \
		v=$$(basename "$$(readlink -f $(VM_DIR)/kernels/$$k)"); \
		kdir=$(VM_DIR)/kernels/$$v/lib/modules/$$v/build; \
		if [ ! -d "$$kdir" ]; then \
			echo "module: no headers for kernel $$k; run 'make vm-setup'" >&2; exit 1; \
		fi; \
		build_one "$$kdir" "$$v"; \
	done

module-install: module
	@test -n "$(KDIR)" || { echo "module-install: name the kernel with KDIR=/lib/modules/<release>/build" >&2; exit 1; }
	v=$$($(module_release)); \
	MAKEFLAGS= $(MAKE) --no-print-directory -C $(KDIR) M=$(VM_MODULE_DIR)/$$v INSTALL_MOD_DIR=updates modules_install && \
	depmod "$$v"

# ktlsd_module_test is its own daemon: it speaks the module's family
# through libnl-genl-3.
VM_GENL_CFLAGS		:= $(shell $(or $(PKG_CONFIG),pkg-config) --cflags libnl-genl-3.0)
VM_GENL_LIBS		:= $(shell $(or $(PKG_CONFIG),pkg-config) --libs libnl-genl-3.0)
$(BUILD)/selftests/ktlsd_module_test: VM_SELFTEST_CPPFLAGS += $(VM_GENL_CFLAGS)
$(BUILD)/selftests/ktlsd_module_test: VM_SELFTEST_LIBS += $(VM_GENL_LIBS)

# What the selftest programs share (selftests/ktlsd/test_util.h), linked
# into each of them. It does not use the harness, so it gets our full
# warnings.
VM_SELFTEST_UTIL	:= $(BUILD)/selftests/test_util.o

$(VM_SELFTEST_UTIL): selftests/ktlsd/test_util.c selftests/ktlsd/test_util.h
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(VM_SELFTEST_WARNINGS) -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes $(VM_SELFTEST_CFLAGS) -c -o $@ $<

$(BUILD)/selftests/%: selftests/ktlsd/%.c selftests/ktlsd/test_util.h $(VM_SELFTEST_UTIL) \
		$(VM_KSELFTEST_DIR)/kselftest_harness.h $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(VM_SELFTEST_CPPFLAGS) $(VM_SELFTEST_WARNINGS) $(VM_SELFTEST_CFLAGS) \
		-o $@ $< $(VM_SELFTEST_UTIL) $(VM_SELFTEST_LIBS)

$(VM_GNUTLS_PEER): selftests/ktlsd/gnutls_peer.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(VM_GNUTLS_CFLAGS) $(VM_SELFTEST_WARNINGS) -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes $(VM_SELFTEST_CFLAGS) \
		-o $@ $< $(VM_GNUTLS_LIBS)

# One boot per kernel runs every selftest; each output line names its
# kernel, and the last line sums up all kernels. Selftests may drive the
# example peers, so those are built first.
vmcheck: module selftests $(TOOL_BINS) $(KTLSD_BIN) $(KTLSCTL_BIN)
	$(VM_ENV) VM_KERNELS="$(VM_KERNELS)" selftests/vm/vmcheck.sh $(VM_SELFTEST_BINS)

# The handshake selftest's consumer module (selftests/kmod/ktlsd_hs_test.c),
# built for each kernel of VM_KERNELS that has net/handshake (6.5 and
# later) into $(BUILD)/kmod/<release>/, where handshake_test finds it.
# Kbuild before 6.13 writes objects beside the sources (M=), so the
# sources are copied there; the parent's make flags stay out of Kbuild.
VM_KMOD_SRCS		:= selftests/kmod/Kbuild selftests/kmod/ktlsd_hs_test.c

.PHONY: selftests-kmod
selftests-kmod: $(VM_KMOD_SRCS)
	@for kernel in $(VM_KERNELS); do \
		tree=$$(readlink -f $(VM_DIR)/kernels/$$kernel) || exit 1; \
		release=$$(basename "$$tree"); \
		kdir=$$tree/lib/modules/$$release/build; \
		if ! grep -qw tls_client_hello_anon "$$kdir/Module.symvers" 2>/dev/null; then \
			echo "selftests-kmod: $$release has no net/handshake: not built"; \
			continue; \
		fi; \
		out=$(abspath $(BUILD))/kmod/$$release; \
		mkdir -p "$$out" && cp -p $(VM_KMOD_SRCS) "$$out/" || exit 1; \
		env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS $(MAKE) -s -C "$$kdir" M="$$out" W=1 \
			modules || exit 1; \
	done

vmcheck: selftests-kmod
