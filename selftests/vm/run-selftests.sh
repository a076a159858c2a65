#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-selftests.sh PROGRAM... - run kselftest programs (inside the VM).
#
# Each output line is prefixed with the running kernel's release, so that a
# result read anywhere names its kernel. After each program one line
#   [<release>] selftest <name>: exit <status> pass <n> fail <n> skip <n>
# sums it up from the harness's "# Totals:" line; vmcheck.sh adds these up.
# Exits non-zero when any program failed.

set -uo pipefail

[ $# -gt 0 ] || { echo "usage: run-selftests.sh PROGRAM..." >&2; exit 2; }
release=$(uname -r)
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for test in "$@"; do
	name=$(basename "$test")
	echo "[$release] ==== $name"
	"$test" 2>&1 | tee "$log" | sed -u "s/^/[$release] /"
	status=${PIPESTATUS[0]}
	# kselftest.h prints pass, fail, xfail, xpass, skip and error.
	totals=$(sed -n \
		's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:[0-9]* xpass:[0-9]* skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2+\4 \3/p' \
		"$log" | tail -n 1)
	read -r pass fail skip <<<"$totals"
	if [ -z "${pass:-}" ]; then
		# No totals: the program died before it could count.
		pass=0 fail=1 skip=0
	fi
	fail=$((fail))
	[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
	[ "$fail" -eq 0 ] || failed=1
	echo "[$release] selftest $name: exit $status pass $pass fail $fail skip $skip"
done
exit "$failed"
