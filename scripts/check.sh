#!/bin/bash
# make check: the host tests under prove, then the kselftests in VMs on
# each kernel (make vmcheck), and one closing line that counts both.
set -uo pipefail
cd "$(dirname "$0")/.."

host_log=$(mktemp)
vm_log=$(mktemp)
trap 'rm -f "$host_log" "$vm_log"' EXIT

make -s check-host 2>&1 | tee "$host_log"
host_status=${PIPESTATUS[0]}
make -s vmcheck 2>&1 | tee "$vm_log"
vm_status=${PIPESTATUS[0]}

# prove: "Files=8, Tests=524, ..." and, per failing file, "Failed 2/65 subtests".
host_total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$host_log" | tail -1)
host_failed=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$host_log" |
	awk '{ n += $1 } END { print n + 0 }')
host_total=${host_total:-0}
# vmcheck: "vmcheck: P passed, F failed, S skipped"
read -r vm_passed vm_failed vm_skipped < <(sed -n \
	's/^vmcheck: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
	"$vm_log" | tail -1)

passed=$((host_total - host_failed + ${vm_passed:-0}))
failed=$((host_failed + ${vm_failed:-0}))
# A runner that died without its summary is a failure, not zero tests.
[ "$host_status" -eq 0 ] || [ "$host_failed" -gt 0 ] || failed=$((failed + 1))
[ "$vm_status" -eq 0 ] || [ "${vm_failed:-0}" -gt 0 ] || failed=$((failed + 1))

echo
echo "check: host $((host_total - host_failed))/$host_total passed (exit $host_status)," \
	"VM ${vm_passed:-0} passed, ${vm_failed:-0} failed (exit $vm_status)"
echo "check: $passed passed, $failed failed, ${vm_skipped:-0} skipped"
[ "$host_status" -eq 0 ] && [ "$vm_status" -eq 0 ]
