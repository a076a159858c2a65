#!/bin/bash
# make check: every test, with one closing line that counts them all:
#   host       C unit tests and interop scripts under prove
#   asan       the same, built with AddressSanitizer + UBSan (build-asan/)
#   fuzz       every libFuzzer corpus replayed, then each target briefly
#   vm         the kselftests in VMs on Debian's 6.1 and 6.12 (make vmcheck)
# CHECK_PARTS selects some of them (for example CHECK_PARTS="host vm").
set -uo pipefail
cd "$(dirname "$0")/.."

parts=${CHECK_PARTS:-host asan fuzz vm}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

passed=0
failed=0
skipped=0
summary=()

# prove prints "Files=8, Tests=524, ..." and, per failing file, "Failed 2/65 subtests".
# Adds to the totals (so it must not run in a subshell) and sets part_result.
count_prove() {
	local log=$1 status=$2 total bad

	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log" | tail -1)
	bad=$(sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	total=${total:-0}
	# A runner that died without its own count is one failure, not zero tests.
	[ "$status" -eq 0 ] || [ "$bad" -gt 0 ] || bad=1
	passed=$((passed + total - bad))
	failed=$((failed + bad))
	part_result="$((total - bad)) passed, $bad failed"
}

for part in $parts; do
	log=$logs/$part.log
	case $part in
	host)	make -s check-host 2>&1 | tee "$log"; status=${PIPESTATUS[0]}
		count_prove "$log" "$status"
		summary+=("host: $part_result") ;;
	asan)	make -s check-asan 2>&1 | tee "$log"; status=${PIPESTATUS[0]}
		count_prove "$log" "$status"
		summary+=("asan: $part_result") ;;
	fuzz)	make -s fuzz-replay 2>&1 | tee "$log"; status=${PIPESTATUS[0]}
		targets=$(grep -c '^fuzz-replay: ' "$log")
		if [ "$status" -eq 0 ]; then
			passed=$((passed + targets))
			summary+=("fuzz: $targets targets replayed, no crash")
		else
			failed=$((failed + 1))
			summary+=("fuzz: FAILED (exit $status)")
		fi ;;
	vm)	make -s vmcheck 2>&1 | tee "$log"; status=${PIPESTATUS[0]}
		read -r p f s < <(sed -n \
			's/^vmcheck: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
			"$log" | tail -1)
		p=${p:-0} f=${f:-0} s=${s:-0}
		[ "$status" -eq 0 ] || [ "$f" -gt 0 ] || f=1
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		summary+=("vm: $p passed, $f failed, $s skipped") ;;
	*)	echo "check: unknown part '$part'" >&2; exit 2 ;;
	esac
done

echo
for line in "${summary[@]}"; do
	echo "check: $line"
done
echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
