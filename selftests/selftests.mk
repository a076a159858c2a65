# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel selftests and the VM test bed; included by the top Makefile, which
# defines BUILD (and LIBKTLS, CRYPTO_CFLAGS, CRYPTO_LIBS and TOOL_BINS, used
# below when set). Every variable defined here starts with VM_.
#
#   make vm-setup    install qemu and friends, fetch and unpack the kernels
#                    (selftests/vm/setup.sh; root for the apt parts)
#   make selftests   build selftests/ktlsd/*_test.c, and the gnutls_peer
#                    they drive, into $(BUILD)/selftests
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

.PHONY: vm-setup selftests vmcheck

vm-setup:
	$(VM_ENV) selftests/vm/setup.sh

selftests: $(VM_SELFTEST_BINS) $(VM_GNUTLS_PEER)

$(VM_KSELFTEST_DIR)/kselftest_harness.h:
	@echo "selftests: $@ is missing: run 'make vm-setup' (selftests/vm/setup.sh) first" >&2
	@exit 1

$(BUILD)/selftests/%: selftests/ktlsd/%.c $(VM_KSELFTEST_DIR)/kselftest_harness.h $(LIBKTLS)
	@mkdir -p $(dir $@)
	$(CC) $(VM_SELFTEST_CPPFLAGS) $(VM_SELFTEST_WARNINGS) $(VM_SELFTEST_CFLAGS) \
		-o $@ $< $(VM_SELFTEST_LIBS)

$(VM_GNUTLS_PEER): selftests/ktlsd/gnutls_peer.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(VM_GNUTLS_CFLAGS) $(VM_SELFTEST_WARNINGS) -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes $(VM_SELFTEST_CFLAGS) \
		-o $@ $< $(VM_GNUTLS_LIBS)

# One boot per kernel runs every selftest; each output line names its
# kernel, and the last line sums up all kernels. Selftests may drive the
# example peers, so those are built first.
vmcheck: selftests $(TOOL_BINS) $(KTLSD_BIN) $(KTLSCTL_BIN)
	$(VM_ENV) VM_KERNELS="$(VM_KERNELS)" selftests/vm/vmcheck.sh $(VM_SELFTEST_BINS)
