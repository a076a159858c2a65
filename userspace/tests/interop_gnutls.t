#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Interop with GnuTLS's gnutls-serv and gnutls-cli, both roles, on
# loopback, every peer limited to TLS 1.3 by its priority string.
#
#   ktls-client <-> gnutls-serv --echo: gnutls-serv echoes line by line
#     and reads its input as text, so this direction sends 64 KiB of
#     base64; our client closes once the whole echo is back.
#   gnutls-cli <-> ktls-server --echo: 64 KiB of random bytes, echoed;
#     gnutls-cli's stdin closes once the echo is complete.
# Received data is compared byte for byte, then the fields of our tool's
# handshake line are checked. HelloRetryRequest is proven on the wire by
# evil-peer.py --observe.

. "$(dirname "$0")/lib.sh"

if ! command -v gnutls-cli >/dev/null || ! command -v gnutls-serv >/dev/null; then
	skip_all "gnutls-cli/gnutls-serv not installed (apt-get install gnutls-bin)"
fi
require_tools
ensure_certs
make_data

TLS13=NORMAL:-VERS-ALL:+VERS-TLS1.3

# gnutls_client_case "GNUTLS-SERV ARGS" "KTLS-CLIENT ARGS" OPTION...
# (options as for ossl_client_case, see parse_opts in lib.sh)
gnutls_client_case() {
	local -a sargs cargs
	local port

	read -r -a sargs <<< "$1"
	read -r -a cargs <<< "$2"
	shift 2
	parse_opts "$@" || return 1

	port=$(free_port)
	spawn /dev/null srv.out srv.err timeout "$T" gnutls-serv --echo --port "$port" "${sargs[@]}"
	SRV_PID=$SPAWNED
	wait_port "$port" "$SRV_PID" || { fail "gnutls-serv did not start"; return 1; }
	maybe_proxy "$port" || return 1

	if [ -n "$WANT_FAIL" ]; then
		run_ktls_client "$TARGET" /dev/null - --ca "$CA" "${cargs[@]}"
	else
		run_ktls_client "$TARGET" "$WORK/c2s.txt" "$(file_size "$WORK/c2s.txt")" \
			--ca "$CA" "${cargs[@]}"
	fi
	# gnutls-serv serves forever.
	reap_within "$SRV_PID" 0

	common_checks cli.err "$CLI_RC" srv.err
	[ -n "$WANT_FAIL" ] && return 0
	check_same "echo through gnutls-serv" "$WORK/c2s.txt" cli.out
}

# gnutls_server_case "KTLS-SERVER ARGS" "GNUTLS-CLI ARGS" OPTION...
gnutls_server_case() {
	local -a kargs cargs
	local srv_rc cli_rc

	read -r -a kargs <<< "$1"
	read -r -a cargs <<< "$2"
	shift 2
	parse_opts "$@" || return 1

	start_ktls_server "${kargs[@]}" || return 1
	maybe_proxy "$SRV_PORT" || return 1

	mkfifo cli.in
	if [ -n "$WANT_FAIL" ]; then
		spawn /dev/null cli.in cli.feed.err feed /dev/null -
	else
		spawn /dev/null cli.in cli.feed.err feed "$WORK/c2s.bin" cli.out "$DATA_SIZE"
	fi
	timeout "$T" gnutls-cli --x509cafile "$CA" --logfile cli.log -p "$TARGET" \
		"${cargs[@]}" 127.0.0.1 < cli.in > cli.out 2> cli.err
	cli_rc=$?
	reap_within "$SRV_PID" 5
	srv_rc=$?

	common_checks srv.err "$srv_rc" cli.log
	[ -n "$WANT_FAIL" ] && return 0
	check_status gnutls-cli "$cli_rc" 0
	check_same "echo through ktls-server" "$WORK/c2s.bin" cli.out
}

# rekey_feed: gnutls-cli's stdin (--inline-commands): once the handshake
# is done, ^rekey^ (KeyUpdate, update_requested), then data to echo. The
# pause keeps the command in a read() of its own; gnutls-cli's log, which
# says when it is done, is only flushed at exit.
rekey_feed() {
	wait_grep srv.err '^handshake: ' || return
	printf '^rekey^\n'
	sleep 0.5
	feed "$WORK/digits.txt" cli.out "$(file_size "$WORK/digits.txt")"
}

# gnutls_rekey_server_case: gnutls-cli updates its keys and asks ours to
# follow; the echo afterwards must still decrypt both ways.
gnutls_rekey_server_case() {
	local srv_rc cli_rc

	start_ktls_server --cert "$C/server-p256.pem" --key "$C/server-p256.key" || return 1
	mkfifo cli.in
	spawn /dev/null cli.in cli.feed.err rekey_feed
	timeout "$T" gnutls-cli --x509cafile "$CA" --logfile cli.log --inline-commands \
		--priority "$TLS13" -p "$SRV_PORT" 127.0.0.1 < cli.in > cli.out 2> cli.err
	cli_rc=$?
	reap_within "$SRV_PID" 5
	srv_rc=$?
	check_status gnutls-cli "$cli_rc" 0
	check_status ktls-server "$srv_rc" 0
	check_no_error srv.err
	check_same "echo after KeyUpdate" "$WORK/digits.txt" cli.out
	check_grep cli.log 'Rekey was completed' "gnutls-cli did not update its keys"
}

C=$CERTS
GS_P256="--x509certfile $C/server-p256.pem --x509keyfile $C/server-p256.key"
OURS_P256="--cert $C/server-p256.pem --key $C/server-p256.key"
CLIENT_TYPES="p256 p384 rsa rsapss ed25519"
# IANA name : GnuTLS priority name
SUITES="TLS_AES_128_GCM_SHA256:AES-128-GCM TLS_AES_256_GCM_SHA384:AES-256-GCM
	TLS_CHACHA20_POLY1305_SHA256:CHACHA20-POLY1305"
GROUPS_ALL="x25519:X25519 secp256r1:SECP256R1 secp384r1:SECP384R1"
# key type : IANA signature scheme : GnuTLS priority name
KEY_SIGS="p256:ecdsa_secp256r1_sha256:ECDSA-SECP256R1-SHA256
	p384:ecdsa_secp384r1_sha384:ECDSA-SECP384R1-SHA384
	rsa:rsa_pss_rsae_sha256:RSA-PSS-RSAE-SHA256
	rsa:rsa_pss_rsae_sha384:RSA-PSS-RSAE-SHA384
	rsa:rsa_pss_rsae_sha512:RSA-PSS-RSAE-SHA512
	rsapss:rsa_pss_pss_sha256:RSA-PSS-SHA256
	rsapss:rsa_pss_pss_sha384:RSA-PSS-SHA384
	rsapss:rsa_pss_pss_sha512:RSA-PSS-SHA512
	ed25519:ed25519:EDDSA-ED25519"

# --- ktls-client against gnutls-serv

for pair in $SUITES; do
	add_case "client: suite ${pair%%:*}" gnutls_client_case \
		"$GS_P256 --priority $TLS13:-CIPHER-ALL:+${pair#*:}" "" \
		"cipher=${pair%%:*}" "peer=CN=server-p256" "alpn=-"
done
for pair in $GROUPS_ALL; do
	add_case "client: group ${pair%%:*}" gnutls_client_case \
		"$GS_P256 --priority $TLS13:-GROUP-ALL:+GROUP-${pair#*:}" "--groups ${pair%%:*}" \
		"group=${pair%%:*}"
done
for ks in $KEY_SIGS; do
	IFS=: read -r k sig gsig <<< "$ks"
	add_case "client: server key $k, $sig" gnutls_client_case \
		"--x509certfile $C/server-$k.pem --x509keyfile $C/server-$k.key --priority $TLS13:-SIGN-ALL:+SIGN-$gsig" "" \
		"sigalg=$sig" "peer=CN=server-$k"
done
add_case "client: server sends leaf + intermediate" gnutls_client_case \
	"--x509certfile $C/server-chain.chain.pem --x509keyfile $C/server-chain.key --priority $TLS13" "" \
	"peer=CN=server-chain"
for k in $CLIENT_TYPES; do
	add_case "client: mTLS with client key $k" gnutls_client_case \
		"$GS_P256 --priority $TLS13 --require-client-cert --verify-client-cert --x509cafile $C/root.pem" \
		"--cert $C/client-$k.pem --key $C/client-$k.key" \
		"peer=CN=server-p256"
done
add_case "client: HelloRetryRequest (x25519 share, server wants secp384r1)" gnutls_client_case \
	"$GS_P256 --priority $TLS13:-GROUP-ALL:+GROUP-SECP384R1" "--groups x25519,secp384r1" \
	"group=secp384r1" hrr
add_case "client: ALPN agreed" gnutls_client_case \
	"$GS_P256 --priority $TLS13 --alpn h2 --alpn http/1.1" "--alpn foo,http/1.1" \
	"alpn=http/1.1"
add_case "client: ALPN no overlap, gnutls-serv --alpn-fatal -> no_application_protocol" \
	gnutls_client_case \
	"$GS_P256 --priority $TLS13 --alpn h2 --alpn-fatal" "--alpn foo" \
	fail=no_application_protocol
add_case "client: SNI localhost accepted by --sni-hostname-fatal" gnutls_client_case \
	"$GS_P256 --priority $TLS13 --sni-hostname localhost --sni-hostname-fatal" \
	"--servername localhost" \
	"peer=CN=server-p256"
# Proves the name travels: gnutls-serv refuses any other.
add_case "client: SNI other.example refused -> unrecognized_name" gnutls_client_case \
	"$GS_P256 --priority $TLS13 --sni-hostname localhost --sni-hostname-fatal" \
	"--servername other.example --insecure" \
	fail=unrecognized_name

# --- gnutls-cli against ktls-server

for pair in $SUITES; do
	add_case "server: suite ${pair%%:*}" gnutls_server_case \
		"$OURS_P256" "--priority $TLS13:-CIPHER-ALL:+${pair#*:}" \
		"cipher=${pair%%:*}" "peer=-" "alpn=-" "sigalg=ecdsa_secp256r1_sha256"
done
for pair in $GROUPS_ALL; do
	add_case "server: group ${pair%%:*}" gnutls_server_case \
		"$OURS_P256" "--priority $TLS13:-GROUP-ALL:+GROUP-${pair#*:}" \
		"group=${pair%%:*}"
done
for ks in $KEY_SIGS; do
	IFS=: read -r k sig gsig <<< "$ks"
	add_case "server: key $k, $sig" gnutls_server_case \
		"--cert $C/server-$k.pem --key $C/server-$k.key" \
		"--priority $TLS13:-SIGN-ALL:+SIGN-$gsig" \
		"sigalg=$sig"
done
add_case "server: sends leaf + intermediate" gnutls_server_case \
	"--cert $C/server-chain.chain.pem --key $C/server-chain.key" "--priority $TLS13" \
	"peer=-"
for k in $CLIENT_TYPES; do
	add_case "server: mTLS required, client key $k" gnutls_server_case \
		"$OURS_P256 --ca $C/root.pem --verify-client required" \
		"--priority $TLS13 --x509certfile $C/client-$k.pem --x509keyfile $C/client-$k.key" \
		"peer=CN=client-$k"
done
add_case "server: HelloRetryRequest (x25519 share, server wants secp384r1)" gnutls_server_case \
	"$OURS_P256 --groups secp384r1" \
	"--priority $TLS13:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP384R1 --single-key-share" \
	"group=secp384r1" hrr
add_case "server: ALPN agreed" gnutls_server_case \
	"$OURS_P256 --alpn h2,http/1.1" "--priority $TLS13 --alpn foo --alpn http/1.1" \
	"alpn=http/1.1"
add_case "server: ALPN no overlap -> no_application_protocol" gnutls_server_case \
	"$OURS_P256 --alpn h2" "--priority $TLS13 --alpn foo" \
	fail=no_application_protocol peer_alert=no_application_protocol
add_case "server: SNI localhost, host name verified" gnutls_server_case \
	"$OURS_P256" "--priority $TLS13 --sni-hostname localhost --verify-hostname localhost" \
	"peer=-"
add_case "server: KeyUpdate(update_requested) from gnutls-cli" gnutls_rekey_server_case

run_cases
