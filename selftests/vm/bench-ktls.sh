#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-ktls.sh [BULK_BENCH_ARGS...] - the kTLS bulk benchmark, in the VM.
#
# build/bench/bulk_bench needs a kernel with kTLS, which the build host may
# not have, so it runs inside the 6.12 VM of the test bed (run-vm.sh) and
# prints its table here. Arguments go to bulk_bench (-m MODES, -c SUITES).
# The same script is the command inside the guest (--in-vm).
#
# Environment:
#   BENCH_MB      MiB per measurement (bulk_bench's default when unset)
#   BENCH_ROUNDS  measurements per suite and mode, the median shown
#   BENCH_KERNEL  the kernel to boot (default 6.12)
#   VM_*          as run-vm.sh takes them
#
# Exit status: bulk_bench's, or run-vm.sh's (124 timeout, 125 bed failure).

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=build/bench/bulk_bench
kernel=${BENCH_KERNEL:-6.12}

# In the guest. A real machine's udev loads aesni_intel from the CPU's
# features at boot; the VM's init does not, and the kernel's crypto API
# then builds gcm(aes) on the generic C AES, which would have kTLS compete
# with OpenSSL's AES-NI on unequal terms.
in_vm()
{
	if grep -qw aes /proc/cpuinfo && ! grep -q '^aesni_intel ' /proc/modules; then
		if modprobe aesni_intel; then
			echo "bench-ktls: loaded aesni_intel, as udev does on a real machine"
		else
			echo "bench-ktls: warning: aesni_intel did not load; kTLS AES-GCM runs on generic C code" >&2
		fi
	fi
	exec "$bench" "$@"
}

cd "$repo"
if [ ! -x "$bench" ]; then
	echo "bench-ktls: $bench is missing; run make first" >&2
	exit 125
fi
if [ "${1:-}" = --in-vm ]; then
	shift
	in_vm "$@"
fi

start=$SECONDS
status=0
# The guest's cwd is this tree; its /tmp, where the payload goes, is tmpfs.
VM_PASS_ENV="${VM_PASS_ENV:-} BENCH_MB BENCH_ROUNDS" \
	selftests/vm/run-vm.sh "$kernel" -- selftests/vm/bench-ktls.sh --in-vm "$@" ||
	status=$?
echo "bench-ktls: kernel $kernel, $((SECONDS - start)) s in all with the VM boot, exit $status"
exit "$status"
