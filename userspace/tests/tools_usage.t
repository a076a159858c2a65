#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Command line checks of ktls-client and ktls-server: usage errors exit 2
# with the usage line, and names libktls does not know are refused before
# any socket is opened. Nothing here needs a peer: the few commands that
# would connect point at 127.0.0.1 port 1 and must fail earlier.

bin=${KTLS_BIN_DIR:-build/bin}
client=$bin/ktls-client
server=$bin/ktls-server

if [ ! -x "$client" ] || [ ! -x "$server" ]; then
	echo "1..0 # SKIP $client and $server are not built"
	exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "1..16"
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
