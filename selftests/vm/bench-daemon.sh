#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench-daemon.sh - ktlsd's upgrade rate against in-process upgrades, and
# its memory per parked handshake, in the VM.
#
# build/bench/daemon_bench starts build/bin/ktlsd and upgrades sockets to
# kTLS, which the build host may not have, so it runs as root inside the
# 6.12 VM of the test bed (run-vm.sh) and prints its table here. The same
# script is the command inside the guest (--in-vm).
#
# Environment:
#   BENCH_CONNS     connections per rate measurement (default 80)
#   BENCH_ROUNDS    rounds, each measuring both paths pinned and unpinned (9)
#   BENCH_INFLIGHT  connections upgrading at once (16)
#   BENCH_WARMUP    warm-up connections per path (16)
#   BENCH_PARKED    handshakes parked for the memory figure (10000)
#   BENCH_KERNEL    the kernel to boot (default 6.12)
#   VM_*            as run-vm.sh takes them; here VM_MEMORY defaults to
#                   2048 (ten thousand parked connections) and VM_TIMEOUT
#                   to 1200 (about 2.5 minutes on an idle host, 3x on a busy one)
#
# Exit status: daemon_bench's (0 whether or not the targets are met), or
# run-vm.sh's (124 timeout, 125 bed failure).

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench=build/bench/daemon_bench
kernel=${BENCH_KERNEL:-6.12}

# In the guest. The records checked after each measurement's first
# upgrade go through the kernel's gcm(aes); a real machine's udev would
# have loaded aesni_intel for it (see bench-ktls.sh).
in_vm()
{
	if grep -qw aes /proc/cpuinfo && ! grep -q '^aesni_intel ' /proc/modules; then
		modprobe aesni_intel 2>/dev/null || true
	fi
	modprobe tls
	exec "$bench"
}

cd "$repo"
for file in "$bench" build/bin/ktlsd; do
	if [ ! -x "$file" ]; then
		echo "bench-daemon: $file is missing; run make first" >&2
		exit 125
	fi
done
if [ "${1:-}" = --in-vm ]; then
	in_vm
fi

start=$SECONDS
status=0
VM_MEMORY=${VM_MEMORY:-2048} VM_TIMEOUT=${VM_TIMEOUT:-1200} \
VM_PASS_ENV="${VM_PASS_ENV:-} BENCH_CONNS BENCH_ROUNDS BENCH_INFLIGHT BENCH_WARMUP BENCH_PARKED" \
	selftests/vm/run-vm.sh "$kernel" -- selftests/vm/bench-daemon.sh --in-vm ||
	status=$?
echo "bench-daemon: kernel $kernel, $((SECONDS - start)) s in all with the VM boot, exit $status"
exit "$status"
