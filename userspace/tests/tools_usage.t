#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Command line checks of ktls-client, ktls-server, ktlsctl and ktlsd: usage
# errors exit 2 with the usage line, and names libktls does not know are
# refused before any socket is opened. Nothing here needs a peer: the few
# commands that would connect point at 127.0.0.1 port 1 and must fail
# earlier, and ktlsd is only ever asked to check its configuration, or, for
# ktlsctl, to answer with its counters. Each program's --help names the same
# options as the OPTIONS of its man page. ktlsctl's kTLS listings need a
# kernel with kTLS and are checked in the VM (selftests/ktlsd/ktlsctl_test.c);
# here they must work and be valid JSON, whatever the host has.

bin=${KTLS_BIN_DIR:-build/bin}
man=${KTLS_MAN_DIR:-Documentation/man}
client=$bin/ktls-client
server=$bin/ktls-server
daemon=$bin/ktlsd
ctl=$bin/ktlsctl

if [ ! -x "$client" ] || [ ! -x "$server" ]; then
	echo "1..0 # SKIP $client and $server are not built"
	exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..56"
n=0

# check DESCRIPTION STATUS STREAM PATTERN COMMAND...
# ok when COMMAND exits with STATUS and PATTERN is on STREAM (out or err).
check() {
	desc=$1
	want=$2
	stream=$3
	pattern=$4
	shift 4
	n=$((n + 1))
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ] && grep -q -e "$pattern" "$tmp/$stream"; then
		echo "ok $n - $desc"
		return
	fi
	echo "not ok $n - $desc"
	echo "# exit status $got, wanted $want and '$pattern' on std$stream; got:"
	sed 's/^/#   /' "$tmp/out" "$tmp/err"
}

# Option names, short and long, one a line and sorted, from the text on
# standard input: "-c, --config FILE" gives -c and --config.
option_names() {
	sed 's/\\-/-/g' | grep -oE '(^|[ ,])-[a-zA-Z]([ ,]|$)|--[a-z][a-z0-9-]*' |
		tr -d ' ,' | sort -u
}

# The options a --help lists: the leading column of its indented lines.
help_options() {
	grep -E '^ +-' | sed 's/^ *//; s/  .*//' | option_names
}

# The options a man page's OPTIONS section lists: its .TP and .TQ tags.
man_options() {
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" |
		awk 'tag { print; tag = 0 } /^\.(TP|TQ)/ { tag = 1 }' | option_names
}

# check_help_matches_man NAME PAGE COMMAND...: COMMAND prints the help.
check_help_matches_man() {
	name=$1
	page=$2
	shift 2
	n=$((n + 1))
	if [ ! -f "$page" ]; then
		echo "not ok $n - $name has a man page"
		echo "# $page is missing"
		return
	fi
	"$@" </dev/null 2>/dev/null | help_options >"$tmp/help"
	man_options "$page" >"$tmp/man"
	if [ -s "$tmp/help" ] && cmp -s "$tmp/help" "$tmp/man"; then
		echo "ok $n - $name: --help and $page name the same options"
		return
	fi
	echo "not ok $n - $name: --help and $page name the same options"
	echo "# --help (<) against OPTIONS of $page (>):"
	diff "$tmp/help" "$tmp/man" | sed 's/^/#   /'
}

# check_json DESCRIPTION PYTHON-CONDITION COMMAND...
# ok when COMMAND exits 0 and its output is JSON for which the condition,
# on the parsed document d, holds.
check_json() {
	desc=$1
	condition=$2
	shift 2
	n=$((n + 1))
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq 0 ] && python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if ($condition) else 1)" "$tmp/out" 2>>"$tmp/err"; then
		echo "ok $n - $desc"
		return
	fi
	echo "not ok $n - $desc"
	echo "# exit status $got, wanted 0 and JSON where $condition; got:"
	sed 's/^/#   /' "$tmp/out" "$tmp/err"
}

usage_client='^usage: ktls-client \[OPTIONS\] HOST PORT'
usage_server='^usage: ktls-server \[OPTIONS\] PORT'

check "client without operands" 2 err "$usage_client" "$client"
check "client with one operand" 2 err "$usage_client" "$client" localhost
check "client with an unknown option" 2 err "$usage_client" \
	"$client" --no-such-option localhost 443
check "client option missing its argument" 2 err "$usage_client" "$client" localhost 443 --ca
check "client --min-version 1.1" 2 err "^error: --min-version: unknown value '1.1'" \
	"$client" --min-version 1.1 localhost 443
check "client --cert without --key" 2 err "^error: each --cert needs its --key" \
	"$client" --cert cert.pem localhost 443
check "client server-only option" 2 err "$usage_client" "$client" --echo localhost 443
check "client --help" 0 out "$usage_client" "$client" --help

check "server without operands" 2 err "$usage_server" "$server"
check "server without --cert" 2 err "^error: the server needs --cert" "$server" 0
check "server PORT not a number" 2 err "^error: PORT must be a number" \
	"$server" --cert c.pem --key k.pem http
check "server --verify-client maybe" 2 err "^error: --verify-client: unknown value 'maybe'" \
	"$server" --verify-client maybe --cert c.pem --key k.pem 0

# The lists are set before any file is read, so no certificate is needed here.
check "client unknown cipher suite" 2 err "^error: --ciphers .*: .*TLS_NO_SUCH_SUITE" \
	"$client" --ciphers TLS_AES_128_GCM_SHA256,TLS_NO_SUCH_SUITE 127.0.0.1 1
check "client unknown group" 2 err "^error: --groups .*: .*no_such_group" \
	"$client" --groups x25519,no_such_group 127.0.0.1 1
check "server unknown cipher suite" 2 err "^error: --ciphers .*: .*TLS_NO_SUCH_SUITE" \
	"$server" --cert "$tmp/none.pem" --key "$tmp/none.key" --ciphers TLS_NO_SUCH_SUITE 0
check "server unknown group" 2 err "^error: --groups .*: .*no_such_group" \
	"$server" --cert "$tmp/none.pem" --key "$tmp/none.key" --groups no_such_group 0

check_help_matches_man ktls-client "$man/ktls-client.1" "$client" --help
check_help_matches_man ktls-server "$man/ktls-server.1" "$server" --help

# ktlsctl: built by make all and make tools, not by check-asan.
usage_ctl='^Usage: ktlsctl \[OPTIONS\] OBJECT { COMMAND | help }'
no_module='^Error: the ktlsd module is not loaded'
no_daemon=$tmp/no-such-dir/ktlsd.sock
if [ ! -x "$ctl" ]; then
	for i in $(seq 28); do
		n=$((n + 1))
		echo "ok $n # SKIP $ctl is not built"
	done
else
	check "ktlsctl help" 0 out "$usage_ctl" "$ctl" help
	check "ktlsctl -h" 0 out "$usage_ctl" "$ctl" -h
	check "ktlsctl without an object" 2 err '^Error: no object given' "$ctl"
	check "ktlsctl unknown object" 2 err '^Error: unknown object "sock"' "$ctl" sock show
	check "ktlsctl unknown object prints the usage" 2 err "$usage_ctl" "$ctl" sock show
	check "ktlsctl unknown command" 2 err '^Error: unknown command "list" for object "socket"' \
		"$ctl" socket list
	check "ktlsctl extra argument" 2 err '^Error: unexpected argument "extra"' \
		"$ctl" socket show extra
	check "ktlsctl unknown option" 2 err "$usage_ctl" "$ctl" --no-such-option stats
	check "ktlsctl -s missing its argument" 2 err "$usage_ctl" "$ctl" -s
	check "ktlsctl socket help" 0 out '^Usage: ktlsctl \[OPTIONS\] socket { show | help }' \
		"$ctl" socket help
	check "ktlsctl stats help" 0 out '^Usage: ktlsctl \[OPTIONS\] stats { show | help }' \
		"$ctl" stats help
	check "ktlsctl request help" 0 out '^Usage: ktlsctl \[OPTIONS\] request { show | help }' \
		"$ctl" request help
	check "ktlsctl set help" 0 out \
		'^Usage: ktlsctl \[OPTIONS\] set { timeout | max-pending | help }' "$ctl" set help
	# Values are checked before the module is looked for.
	check "ktlsctl set timeout not a number" 2 err '^Error: set timeout: "10s" is not a number' \
		"$ctl" set timeout 10s
	check "ktlsctl set max-pending without a value" 2 err '^Error: "set max-pending" needs N' \
		"$ctl" set max-pending
	check "ktlsctl monitor takes no argument" 2 err '^Error: unexpected argument "all"' \
		"$ctl" monitor all
	check "ktlsctl request show needs the module" 2 err "$no_module" "$ctl" request show
	check "ktlsctl monitor needs the module" 2 err "$no_module" "$ctl" monitor
	check "ktlsctl set needs the module" 2 err "$no_module" "$ctl" set timeout 10
	# The host may or may not have the tls module loaded: either is fine.
	if [ -e /proc/net/tls_stat ]; then
		check "ktlsctl stats, kernel counters" 0 out '^kernel (/proc/net/tls_stat):' \
			"$ctl" -s "$no_daemon" stats
		check_json "ktlsctl -j stats, kernel counters" \
			"isinstance(d['tls_stat'], dict) and 'TlsCurrTxSw' in d['tls_stat']" \
			"$ctl" -j -s "$no_daemon" stats
	else
		check "ktlsctl stats without the tls module" 0 out \
			'^kernel: no /proc/net/tls_stat (the tls module is not loaded)' \
			"$ctl" -s "$no_daemon" stats
		check_json "ktlsctl -j stats without the tls module" "d['tls_stat'] is None" \
			"$ctl" -j -s "$no_daemon" stats
	fi
	check "ktlsctl stats without a daemon" 0 out "^daemon: not running (nothing listens on $no_daemon)" \
		"$ctl" -s "$no_daemon" stats
	check "ktlsctl stats without the module" 0 out '^module: its counters need ktlsd.ko' \
		"$ctl" -s "$no_daemon" stats
	KTLSD_SOCKET=$no_daemon check_json "ktlsctl -p stats: \$KTLSD_SOCKET, nulls" \
		"d['daemon'] is None and d['module'] is None and set(d) == {'tls_stat', 'daemon', 'module'}" \
		"$ctl" -p stats
	# Lists what this host has (usually nothing): it must work and parse.
	# (An empty listing matches no pattern: the marker line follows a success.)
	check "ktlsctl socket show" 0 out '^listed$' \
		sh -c '"$1" socket show && echo listed' sh "$ctl"
	check_json "ktlsctl -j socket show is a JSON array" "isinstance(d, list)" \
		"$ctl" -j socket show
	# Without CAP_NET_ADMIN the kernel hides every socket's ULP.
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		check "ktlsctl socket show without CAP_NET_ADMIN" 1 err \
			'^Error: socket show needs CAP_NET_ADMIN' \
			setpriv --bounding-set -net_admin --inh-caps -net_admin "$ctl" socket show
	else
		n=$((n + 1))
		echo "ok $n # SKIP dropping CAP_NET_ADMIN needs root and setpriv"
	fi
	check_help_matches_man ktlsctl "$man/ktlsctl.8" "$ctl" help
fi

# ktlsd: built by make all, not by every build (check-asan makes the tools only).
usage_daemon='^Usage: ktlsd \[OPTIONS\]'
if [ ! -x "$daemon" ]; then
	for i in 1 2 3 4 5 6 7 8 9 10; do
		n=$((n + 1))
		echo "ok $n # SKIP $daemon is not built"
	done
	exit 0
fi
# An empty file is a whole configuration: every key has a default.
: >"$tmp/empty.conf"
long_path=/$(printf '%0120d' 0)

check "ktlsd -h" 0 out "$usage_daemon" "$daemon" -h
check "ktlsd --help" 0 out "$usage_daemon" "$daemon" --help
check "ktlsd with an unknown option" 2 err "$usage_daemon" "$daemon" --no-such-option
check "ktlsd with an operand" 2 err "$usage_daemon" "$daemon" -c "$tmp/empty.conf" extra
check "ktlsd -c missing its argument" 2 err "$usage_daemon" "$daemon" -t -c
check "ktlsd -t with a file that does not exist" 1 err "^ktlsd: $tmp/none.conf: " \
	"$daemon" -t -c "$tmp/none.conf"
check "ktlsd -t with a good file" 0 out "^ktlsd: $tmp/empty.conf: configuration ok (0 identities)" \
	"$daemon" -t -c "$tmp/empty.conf"
check "ktlsd -s with a path too long" 2 err "^ktlsd: socket path too long" \
	"$daemon" -c "$tmp/empty.conf" -s "$long_path"
check_help_matches_man ktlsd "$man/ktlsd.8" "$daemon" -h

# ktlsctl reads a running daemon's counters.
if [ ! -x "$ctl" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP $ctl is not built"
	exit 0
fi
"$daemon" -f -c "$tmp/empty.conf" -s "$tmp/ktlsd.sock" 2>"$tmp/daemon.log" &
daemon_pid=$!
for i in $(seq 50); do
	[ -S "$tmp/ktlsd.sock" ] && break
	sleep 0.1
done
check_json "ktlsctl -j stats with a daemon" \
	"d['daemon']['ok'] == 0 and d['daemon']['in_flight'] == 0 and d['daemon']['by_errno'] == []" \
	"$ctl" -j -s "$tmp/ktlsd.sock" stats
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
