# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel selftests and the VM test bed; included by the top Makefile, which
# defines BUILD. Every variable here starts with VM_.
#
#   make vm-setup    install qemu and friends, fetch and unpack the kernels
#                    (selftests/vm/setup.sh; root for the apt parts)
#   make selftests   build selftests/ktlsd/*_test.c into $(BUILD)/selftests
#   make vmcheck     run every selftest once in a VM per kernel
#
# See Documentation/vm-testbed.rst.

VM_DIR			:= $(BUILD)/vm
VM_KERNELS		?= 6.1 6.12
VM_KSELFTEST_DIR	:= $(VM_DIR)/kselftest
VM_SELFTEST_SRCS	:= $(wildcard selftests/ktlsd/*_test.c)
VM_SELFTEST_BINS	:= $(VM_SELFTEST_SRCS:selftests/ktlsd/%.c=$(BUILD)/selftests/%)
VM_SELFTEST_CFLAGS	?= -O2 -g
VM_SELFTEST_WARNINGS	:= -Wall -Wextra -Werror
# The harness comes from the kernel source (setup.sh extracts it). It is
# included as a system header: its own code is not -Wextra clean (unused
# parameters), ours must be.
VM_SELFTEST_CPPFLAGS	:= -D_GNU_SOURCE -isystem $(VM_KSELFTEST_DIR)

.PHONY: vm-setup selftests vmcheck

vm-setup:
	selftests/vm/setup.sh

selftests: $(VM_SELFTEST_BINS)

$(VM_KSELFTEST_DIR)/kselftest_harness.h:
	@echo "selftests: $@ is missing: run 'make vm-setup' (selftests/vm/setup.sh) first" >&2
	@exit 1

$(BUILD)/selftests/%: selftests/ktlsd/%.c $(VM_KSELFTEST_DIR)/kselftest_harness.h
	@mkdir -p $(dir $@)
	$(CC) $(VM_SELFTEST_CPPFLAGS) $(VM_SELFTEST_WARNINGS) $(VM_SELFTEST_CFLAGS) \
		-o $@ $<

# One boot per kernel runs every selftest; each output line names its
# kernel, and the last line sums up all kernels.
vmcheck: selftests
	selftests/vm/vmcheck.sh $(BUILD)/selftests $(VM_KERNELS)
