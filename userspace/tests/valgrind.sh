#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check-valgrind: the C tests, then the openssl interop cases with
# our tools, under valgrind memcheck. Any invalid access or definite leak
# fails. The tools are reached through wrappers in a KTLS_BIN directory,
# each run writing its own log, so one summary covers every process.
set -uo pipefail
cd "$(dirname "$0")/../.."

VG="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
VG="$VG --show-leak-kinds=definite,indirect --track-origins=yes"
work=$(mktemp -d /tmp/ktls-valgrind-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0

for t in build/tests/*_test; do
	name=$(basename "$t")
	# It replaces free() itself, as valgrind does.
	[ "$name" = secrets_test ] && continue
	if $VG --log-file="$work/$name.vg" "$t" > "$work/$name.out" 2>&1; then
		echo "ok: $name under valgrind ($(grep -c '^ok' "$work/$name.out") TAP passes)"
	else
		echo "FAIL: $name under valgrind"
		grep -E 'ERROR SUMMARY|definitely|Invalid|uninitialised' "$work/$name.vg" | head -20
		tail -5 "$work/$name.out"
		status=1
	fi
done

# Tools: wrappers that log each process; the interop script runs its cases.
mkdir -p "$work/bin"
for tool in ktls-client ktls-server ktlsd; do
	cat > "$work/bin/$tool" <<EOS
#!/bin/sh
exec $VG --log-file=$work/$tool.%p.vg $PWD/build/bin/$tool "\$@"
EOS
	chmod +x "$work/bin/$tool"
done
# The daemon under memcheck, fed every malformed request ktlsd_proto_test has.
if KTLS_BIN="$work/bin" build/tests/ktlsd_proto_test > "$work/ktlsd_proto.out" 2>&1; then
	echo "ok: ktlsd_proto_test with ktlsd under valgrind"
else
	echo "FAIL: ktlsd_proto_test with ktlsd under valgrind"
	grep -v '^ok' "$work/ktlsd_proto.out" | head
	status=1
fi

scripts=${VALGRIND_SCRIPTS:-userspace/tests/interop_openssl.t}
if KTLS_BIN="$work/bin" prove --exec '' $scripts; then
	echo "ok: $scripts with the tools under valgrind"
else
	echo "FAIL: $scripts with the tools under valgrind"
	status=1
fi
runs=$(ls "$work"/ktls*.vg 2>/dev/null | wc -l)
bad=$(grep -lE 'ERROR SUMMARY: [1-9]' "$work"/ktls*.vg 2>/dev/null)
if [ -n "$bad" ]; then
	for f in $bad; do
		echo "valgrind errors in $(basename "$f"):"
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|.*definitely|.*indirectly|ERROR)' "$f" | head
	done
	status=1
fi
echo "check-valgrind: $runs tool processes checked, $(echo -n "$bad" | grep -c .) with errors"
exit $status
