#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Interop with OpenSSL's s_server and s_client, both roles, on loopback.
#
# Every case moves 64 KiB of random bytes each way and compares them byte
# for byte (see ossl_client_case and ossl_server_case in lib.sh), then
# checks the fields of our tool's handshake line. HelloRetryRequest is
# proven on the wire: those connections go through evil-peer.py
# --observe, which must see exactly one HRR. The same proxy also splits
# plaintext handshake records and trickles bytes one at a time, which a
# correct peer must not notice. KeyUpdate is driven by s_client's and
# s_server's K/k command letters; their -msg logs show whether ours
# answered.

. "$(dirname "$0")/lib.sh"

require_tools
ensure_certs
make_data

# ku_client_feed LETTER: s_client's stdin for a KeyUpdate case: once the
# handshake is done, the command letter alone (K: update and request the
# peer's, k: update only ours), then, once s_client has acted on it, data
# that no command starts with; EOF after its echo is back.
ku_client_feed() {
	wait_grep srv.err '^handshake: ' || return
	printf '%s\n' "$1"
	wait_grep cli.err '^KEYUPDATE$' || return
	feed "$WORK/digits.txt" cli.out "$(file_size "$WORK/digits.txt")"
}

# ossl_keyupdate_server_case LETTER ANSWERS: s_client sends a KeyUpdate
# to ktls-server, then data to echo. s_client -msg lists the handshake
# messages it decrypted: ANSWERS KeyUpdates must come back (1 when
# update_requested, 0 otherwise, RFC 8446 4.6.3).
ossl_keyupdate_server_case() {
	local srv_rc cli_rc n

	start_ktls_server --cert "$C/server-p256.pem" --key "$C/server-p256.key" || return 1
	mkfifo cli.in
	spawn /dev/null cli.in cli.feed.err ku_client_feed "$1"
	timeout "$T" openssl s_client -tls1_3 -quiet -no_ign_eof -msg -msgfile msg.log \
		-connect "127.0.0.1:$SRV_PORT" -CAfile "$CA" < cli.in > cli.out 2> cli.err
	cli_rc=$?
	reap_within "$SRV_PID" 5
	srv_rc=$?
	check_status s_client "$cli_rc" 0
	check_status ktls-server "$srv_rc" 0
	check_no_error srv.err
	check_same "echo after KeyUpdate" "$WORK/digits.txt" cli.out
	n=$(grep -c '^<<< .*, KeyUpdate$' msg.log)
	[ "$n" -eq "$2" ] || fail "msg.log: $n KeyUpdates from ktls-server, expected $2"
}

# ku_server_feed: s_server's stdin (without -quiet, so it takes command
# letters): "K" once our client is up, data once the KeyUpdate is out.
ku_server_feed() {
	wait_grep cli.err '^handshake: ' || return
	printf 'K\n'
	wait_grep msg.log '^>>> .*, KeyUpdate$' || return
	feed "$WORK/digits.txt" -
}

# ku_ktls_client_feed MARK: our client's stdin: MARK once the data sent
# after the KeyUpdate has arrived (so it goes out under the updated keys),
# EOF once s_server has printed it.
ku_ktls_client_feed() {
	wait_size cli.out "$(file_size "$WORK/digits.txt")" || return
	echo "$1"
	wait_grep srv.out "^$1\$"
}

# ossl_keyupdate_client_case: s_server sends KeyUpdate(update_requested)
# to ktls-client, then data; our client must answer with its own
# KeyUpdate and keep both directions working.
ossl_keyupdate_client_case() {
	local port mark n

	port=$(free_port)
	mark="after-keyupdate-$RANDOM$RANDOM"
	mkfifo srv.in cli.in
	spawn /dev/null srv.in srv.feed.err ku_server_feed
	spawn srv.in srv.out srv.err timeout "$T" openssl s_server -tls1_3 -naccept 1 \
		-msg -msgfile msg.log -accept "127.0.0.1:$port" \
		-cert "$C/server-p256.pem" -key "$C/server-p256.key"
	SRV_PID=$SPAWNED
	wait_port "$port" "$SRV_PID" || { fail "s_server did not start"; return 1; }
	spawn /dev/null cli.in cli.feed.err ku_ktls_client_feed "$mark"
	timeout "$T" "$KTLS_CLIENT" --no-ktls --ca "$CA" 127.0.0.1 "$port" \
		< cli.in > cli.out 2> cli.err
	CLI_RC=$?
	reap_within "$SRV_PID" 5
	check_status ktls-client "$CLI_RC" 0
	check_no_error cli.err
	check_same "s_server -> ktls-client after KeyUpdate" "$WORK/digits.txt" cli.out
	check_grep srv.out "^$mark\$" "ktls-client's data after the KeyUpdate did not arrive"
	n=$(grep -c '^<<< .*, KeyUpdate$' msg.log)
	[ "$n" -eq 1 ] || fail "msg.log: $n KeyUpdates from ktls-client, expected 1"
}

C=$CERTS
SUITES="TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256"
GROUPS_ALL="x25519 secp256r1 secp384r1"
CLIENT_TYPES="p256 p384 rsa rsapss ed25519"

# --- ktls-client against s_server

for s in $SUITES; do
	add_case "client: suite $s" ossl_client_case \
		"-cert $C/server-p256.pem -key $C/server-p256.key -ciphersuites $s" "" \
		"cipher=$s" "peer=CN=server-p256" "alpn=-"
done
for g in $GROUPS_ALL; do
	add_case "client: group $g" ossl_client_case \
		"-cert $C/server-p256.pem -key $C/server-p256.key -groups $g" "--groups $g" \
		"group=$g"
done

# server key type : signature scheme s_server is limited to
for ks in p256:ecdsa_secp256r1_sha256 p384:ecdsa_secp384r1_sha384 \
	  rsa:rsa_pss_rsae_sha256 rsa:rsa_pss_rsae_sha384 rsa:rsa_pss_rsae_sha512 \
	  rsapss:rsa_pss_pss_sha256 rsapss:rsa_pss_pss_sha384 rsapss:rsa_pss_pss_sha512 \
	  ed25519:ed25519; do
	k=${ks%%:*}
	sig=${ks#*:}
	add_case "client: server key $k, $sig" ossl_client_case \
		"-cert $C/server-$k.pem -key $C/server-$k.key -sigalgs $sig" "" \
		"sigalg=$sig" "peer=CN=server-$k"
done
add_case "client: server sends leaf + intermediate" ossl_client_case \
	"-cert $C/server-chain.pem -key $C/server-chain.key -cert_chain $C/inter.pem" "" \
	"peer=CN=server-chain"
for k in $CLIENT_TYPES; do
	add_case "client: mTLS with client key $k" ossl_client_case \
		"-cert $C/server-p256.pem -key $C/server-p256.key -Verify 1 -CAfile $C/root.pem -verify_return_error" \
		"--cert $C/client-$k.pem --key $C/client-$k.key" \
		"peer=CN=server-p256" "srvlog=^depth=0 CN = client-$k\$"
done
add_case "client: HelloRetryRequest (x25519 share, server wants secp384r1)" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -groups secp384r1" \
	"--groups x25519,secp384r1" \
	"group=secp384r1" hrr
add_case "client: ALPN agreed" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -alpn http/1.1" \
	"--alpn h2,http/1.1" \
	"alpn=http/1.1"
add_case "client: ALPN no overlap, s_server refuses -> no_application_protocol" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -alpn h2" \
	"--alpn foo" \
	fail=no_application_protocol
# s_server picks -cert2 only when the client's SNI is -servername.
add_case "client: SNI sent (s_server answers with its -cert2)" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -servername localhost -cert2 $C/server-p384.pem -key2 $C/server-p384.key" \
	"--servername localhost" \
	"peer=CN=server-p384"
# RFC 6066 3: a literal IP address is not a server name.
add_case "client: no SNI for an IP address" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -servername localhost -cert2 $C/server-p384.pem -key2 $C/server-p384.key" \
	"" \
	"peer=CN=server-p256"

# A 22 KB certificate: the Certificate message spans two protected
# records, which the receiver must join and the sender must split.
add_case "client: server Certificate message larger than a record" ossl_client_case \
	"-cert $C/server-big.pem -key $C/server-big.key" "" \
	"peer=CN=server-big"
add_case "client: mTLS, own Certificate message larger than a record" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key -Verify 1 -CAfile $C/root.pem -verify_return_error" \
	"--cert $C/server-big.pem --key $C/server-big.key" \
	"srvlog=^depth=0 CN = server-big\$"
add_case "client: ServerHello split into 16-byte records" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key" "" \
	"proxy=--fragment 16" "peer=CN=server-p256"
add_case "client: first 4000 bytes each way arrive one byte at a time" ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key" "" \
	"proxy=--dribble 4000" "peer=CN=server-p256"
add_case "client: KeyUpdate(update_requested) from s_server, answered" \
	ossl_keyupdate_client_case

# --- s_client against ktls-server

for s in $SUITES; do
	add_case "server: suite $s" ossl_server_case \
		"--cert $C/server-p256.pem --key $C/server-p256.key" "-ciphersuites $s" \
		"cipher=$s" "peer=-" "alpn=-" "sigalg=ecdsa_secp256r1_sha256"
done
for g in $GROUPS_ALL; do
	add_case "server: group $g" ossl_server_case \
		"--cert $C/server-p256.pem --key $C/server-p256.key" "-groups $g" \
		"group=$g"
done
for ks in p256:ecdsa_secp256r1_sha256 p384:ecdsa_secp384r1_sha384 \
	  rsa:rsa_pss_rsae_sha256 rsa:rsa_pss_rsae_sha384 rsa:rsa_pss_rsae_sha512 \
	  rsapss:rsa_pss_pss_sha256 rsapss:rsa_pss_pss_sha384 rsapss:rsa_pss_pss_sha512 \
	  ed25519:ed25519; do
	k=${ks%%:*}
	sig=${ks#*:}
	add_case "server: key $k, $sig" ossl_server_case \
		"--cert $C/server-$k.pem --key $C/server-$k.key" "-sigalgs $sig" \
		"sigalg=$sig"
done
add_case "server: sends leaf + intermediate" ossl_server_case \
	"--cert $C/server-chain.chain.pem --key $C/server-chain.key" "" \
	"clilog=^depth=1 CN = ktls test intermediate\$"
for k in $CLIENT_TYPES; do
	add_case "server: mTLS required, client key $k" ossl_server_case \
		"--cert $C/server-p256.pem --key $C/server-p256.key --ca $C/root.pem --verify-client required" \
		"-cert $C/client-$k.pem -key $C/client-$k.key" \
		"peer=CN=client-$k"
done
add_case "server: mTLS optional, no client certificate" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --ca $C/root.pem --verify-client optional" "" \
	"peer=-"
add_case "server: HelloRetryRequest (x25519 share, server wants secp384r1)" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --groups secp384r1" \
	"-groups x25519:secp384r1" \
	"group=secp384r1" hrr
add_case "server: ALPN agreed" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --alpn h2,http/1.1" \
	"-alpn foo,http/1.1" \
	"alpn=http/1.1"
add_case "server: ALPN no overlap -> no_application_protocol" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --alpn h2" \
	"-alpn foo" fail=no_application_protocol peer_alert=no_application_protocol
add_case "server: SNI localhost accepted" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key" \
	"-servername localhost -verify_hostname localhost" \
	"peer=-"
# Two identities: the client's signature_algorithms decide.
add_case "server: picks the Ed25519 identity for an Ed25519-only client" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --cert $C/server-ed25519.pem --key $C/server-ed25519.key" \
	"-sigalgs ed25519" \
	"sigalg=ed25519"
add_case "server: picks the P-256 identity for an ECDSA-only client" ossl_server_case \
	"--cert $C/server-ed25519.pem --key $C/server-ed25519.key --cert $C/server-p256.pem --key $C/server-p256.key" \
	"-sigalgs ecdsa_secp256r1_sha256" \
	"sigalg=ecdsa_secp256r1_sha256"
add_case "server: own Certificate message larger than a record" ossl_server_case \
	"--cert $C/server-big.pem --key $C/server-big.key" "" \
	"clilog=^depth=0 CN = server-big\$"
add_case "server: mTLS, client Certificate message larger than a record" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key --ca $C/root.pem --verify-client required" \
	"-cert $C/server-big.pem -key $C/server-big.key" \
	"peer=CN=server-big"
add_case "server: ClientHello split into 16-byte records" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key" "" \
	"proxy=--fragment 16"
add_case "server: first 4000 bytes each way arrive one byte at a time" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key" "" \
	"proxy=--dribble 4000"
add_case "server: KeyUpdate(update_requested) from s_client, answered" \
	ossl_keyupdate_server_case K 1
add_case "server: KeyUpdate(update_not_requested) from s_client, not answered" \
	ossl_keyupdate_server_case k 0

run_cases
