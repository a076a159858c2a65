#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmcheck.sh PROGRAM... - run kselftest programs on each kernel of VM_KERNELS.
#
# Boots each kernel (default "6.1 6.12") once with run-vm.sh and runs all
# the programs there with run-selftests.sh. Every line of output names its
# kernel; the last line sums up all kernels as
#   vmcheck: <n> passed, <n> failed, <n> skipped
# counting test cases. Exits non-zero when any case failed or a VM did not
# come back with a result.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
read -r -a kernels <<<"${VM_KERNELS:-6.1 6.12}"
# One boot runs every program, longer than run-vm.sh's default allows a
# boot: the kselftests of one kernel took 8 to 20 min under emulation on
# a 2-core machine shared with other jobs. The harness's own per-test
# timeouts catch a test that hangs; this one a guest that does.
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
[ $# -gt 0 ] || { echo "usage: [VM_KERNELS=...] vmcheck.sh PROGRAM..." >&2; exit 2; }
for program in "$@"; do
	[ -x "$program" ] || { echo "vmcheck: $program is not an executable; run make selftests" >&2; exit 2; }
done

passed=0
failed=0
skipped=0
bad_kernels=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for kernel in "${kernels[@]}"; do
	echo "vmcheck: kernel $kernel"
	start=$SECONDS
	"$here/run-vm.sh" "$kernel" -- "$here/run-selftests.sh" "$@" | tee "$log"
	status=${PIPESTATUS[0]}
	summaries=$(grep -E '^\[[^]]*\] selftest [^ ]*: exit ' "$log" || true)
	if [ -z "$summaries" ]; then
		echo "vmcheck: kernel $kernel: no results (run-vm.sh exit $status)"
		failed=$((failed + 1))
		bad_kernels+=("$kernel")
		continue
	fi
	while read -r _ _ _ _ _ _ pass _ fail _ skip; do
		passed=$((passed + pass))
		failed=$((failed + fail))
		skipped=$((skipped + skip))
	done <<<"$summaries"
	[ "$status" -eq 0 ] || bad_kernels+=("$kernel")
	echo "vmcheck: kernel $kernel: done in $((SECONDS - start)) s, exit $status"
done

[ ${#bad_kernels[@]} -eq 0 ] || echo "vmcheck: failures on: ${bad_kernels[*]}"
echo "vmcheck: $passed passed, $failed failed, $skipped skipped"
[ ${#bad_kernels[@]} -eq 0 ] && [ "$failed" -eq 0 ]
