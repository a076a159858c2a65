#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Handshakes that must fail, each with the alert RFC 8446 names for it.
#
# Every case checks that our tool exits non-zero with
# "error: ... (alert NAME)". Where our tool is the one that detects the
# problem, the other side must also have received that alert: openssl
# says so in its log, and evil-peer.py prints the alert record when it
# travels in the clear (before the handshake keys are in use).
#
# Peers: openssl s_server/s_client for what a correct peer refuses;
# evil-peer.py as a proxy that corrupts one record between a real openssl
# peer and our tool; evil-peer.py as a fake server or client for messages
# no correct implementation sends.

. "$(dirname "$0")/lib.sh"

require_tools
ensure_certs
make_data

C=$CERTS
P256=(-cert "$C/server-p256.pem" -key "$C/server-p256.key")
OURS_P256="--cert $C/server-p256.pem --key $C/server-p256.key"

# fake_server_case SCENARIO "KTLS-CLIENT ARGS" ALERT [WIRE [REGEX]]: our
# client against evil-peer.py server SCENARIO. WIRE "wire" also wants the
# alert seen in the clear; REGEX must match a line of evil.out.
fake_server_case() {
	local -a cargs
	local epid port

	read -r -a cargs <<< "$2"
	spawn /dev/null evil.out evil.err timeout "$T" "$PYTHON" "$EVIL_PEER" server "$1"
	epid=$SPAWNED
	port=$(wait_line evil.err "$epid") || { fail "evil-peer.py did not start"; return 1; }
	run_ktls_client "$port" /dev/null - --ca "$C/root.pem" "${cargs[@]}"
	reap_within "$epid" 5
	check_status ktls-client "$CLI_RC" nonzero
	check_error cli.err "$3"
	[ "$4" = wire ] && check_wire_alert evil.out "$3" c2s
	[ -n "$5" ] && check_grep evil.out "$5"
	return 0
}

# fake_client_case SCENARIO "KTLS-SERVER ARGS" ALERT [WIRE]: evil-peer.py
# client SCENARIO against our server.
fake_client_case() {
	local -a kargs
	local srv_rc

	read -r -a kargs <<< "$2"
	start_ktls_server "${kargs[@]}" || return 1
	timeout "$T" "$PYTHON" "$EVIL_PEER" client "$SRV_PORT" "$1" > evil.out 2> evil.err
	reap_within "$SRV_PID" 5
	srv_rc=$?
	check_status ktls-server "$srv_rc" nonzero
	check_error srv.err "$3"
	[ "$4" = wire ] && check_wire_alert evil.out "$3" s2c
	return 0
}

# --- certificates

add_case "client: server chain from an untrusted CA -> unknown_ca" ossl_client_case \
	"-cert $C/server-untrusted.pem -key $C/server-untrusted.key" "" \
	fail=unknown_ca peer_alert=unknown_ca
add_case "server: client chain from an untrusted CA -> unknown_ca" ossl_server_case \
	"$OURS_P256 --ca $C/root.pem --verify-client required" \
	"-cert $C/client-untrusted.pem -key $C/client-untrusted.key" \
	fail=unknown_ca peer_alert=unknown_ca
add_case "client: certificate for another host name -> bad_certificate" ossl_client_case \
	"-cert $C/server-wrongname.pem -key $C/server-wrongname.key" "--servername localhost" \
	fail=bad_certificate peer_alert=bad_certificate
add_case "client: certificate without our IP address -> bad_certificate" ossl_client_case \
	"-cert $C/server-wrongname.pem -key $C/server-wrongname.key" "" \
	fail=bad_certificate peer_alert=bad_certificate
add_case "client: expired server certificate -> certificate_expired" ossl_client_case \
	"-cert $C/server-expired.pem -key $C/server-expired.key" "" \
	fail=certificate_expired peer_alert=certificate_expired
add_case "server: client certificate required, none sent -> certificate_required" ossl_server_case \
	"$OURS_P256 --ca $C/root.pem --verify-client required" "" \
	fail=certificate_required peer_alert=certificate_required
add_case "client: s_server -Verify 1 and no client certificate -> certificate_required" ossl_client_case \
	"${P256[*]} -Verify 1 -CAfile $C/root.pem" "" \
	fail=certificate_required

# --- negotiation

add_case "client: no common cipher suite -> handshake_failure" ossl_client_case \
	"${P256[*]} -ciphersuites TLS_AES_256_GCM_SHA384" "--ciphers TLS_AES_128_GCM_SHA256" \
	fail=handshake_failure
add_case "server: no common cipher suite -> handshake_failure" ossl_server_case \
	"$OURS_P256 --ciphers TLS_AES_128_GCM_SHA256" "-ciphersuites TLS_CHACHA20_POLY1305_SHA256" \
	fail=handshake_failure peer_alert=handshake_failure
add_case "client: no common group -> handshake_failure" ossl_client_case \
	"${P256[*]} -groups secp384r1" "--groups x25519" \
	fail=handshake_failure
add_case "server: no common group -> handshake_failure" ossl_server_case \
	"$OURS_P256 --groups secp384r1" "-groups x25519" \
	fail=handshake_failure peer_alert=handshake_failure
add_case "server: client offers only TLS 1.2 -> protocol_version" ossl_server_case \
	"$OURS_P256 --min-version 1.3" "-tls1_2" \
	fail=protocol_version peer_alert=protocol_version
add_case "client: server speaks only TLS 1.2 -> protocol_version" ossl_client_case \
	"${P256[*]} -tls1_2" "--min-version 1.3" \
	fail=protocol_version

# --- records corrupted in flight (evil-peer.py proxy)

# s_server sends EncryptedExtensions, Certificate, CertificateVerify and
# Finished in one record each: the 4th protected record is its Finished.
add_case "client: bit flipped in the server's Finished record -> bad_record_mac" ossl_client_case \
	"${P256[*]}" "" \
	"proxy=--tamper flip --dir s2c --index 4" fail=bad_record_mac peer_alert=bad_record_mac
add_case "server: bit flipped in the client's Finished record -> bad_record_mac" ossl_server_case \
	"$OURS_P256" "" \
	"proxy=--tamper flip --dir c2s --index 1" fail=bad_record_mac peer_alert=bad_record_mac
add_case "client: protected record cut short, then EOF -> error" ossl_client_case \
	"${P256[*]}" "" \
	"proxy=--tamper truncate --dir s2c --index 2" fail=-
add_case "server: protected record cut short, then EOF -> error" ossl_server_case \
	"$OURS_P256" "" \
	"proxy=--tamper truncate --dir c2s --index 1" fail=-
add_case "client: protected record longer than 2^14+256 -> record_overflow" ossl_client_case \
	"${P256[*]}" "" \
	"proxy=--tamper oversize --dir s2c --index 1" fail=record_overflow peer_alert=record_overflow
add_case "server: protected record longer than 2^14+256 -> record_overflow" ossl_server_case \
	"$OURS_P256" "" \
	"proxy=--tamper oversize --dir c2s --index 1" fail=record_overflow peer_alert=record_overflow

# --- a fake server

add_case "client: Certificate before ServerHello -> unexpected_message" fake_server_case \
	cert-first "" unexpected_message wire
add_case "client: plaintext record longer than 2^14 -> record_overflow" fake_server_case \
	oversize-plain "" record_overflow wire
add_case "client: protected record longer than 2^14+256 after ServerHello -> record_overflow" \
	fake_server_case oversize-cipher "" record_overflow
add_case "client: ServerHello cut short, then EOF -> error" fake_server_case \
	truncate "" -
add_case "client: HelloRetryRequest for a group already shared -> illegal_parameter" \
	fake_server_case hrr-offered-group "" illegal_parameter wire
add_case "client: second HelloRetryRequest -> unexpected_message" fake_server_case \
	hrr-twice "--groups x25519,secp384r1" unexpected_message wire
# Not an error case: the second ClientHello must echo the HRR's cookie;
# the fake server then hangs up.
add_case "client: HelloRetryRequest cookie echoed in the second ClientHello" fake_server_case \
	hrr-cookie "--groups x25519,secp384r1" - - "^cookie echoed\$"
# (OpenSSL answers this one with illegal_parameter; RFC 8446 5 says
# unexpected_message.)
add_case "client: change_cipher_spec with a value other than 1 -> unexpected_message" \
	fake_server_case bad-ccs "" unexpected_message
add_case "client: ServerHello picks a cipher suite not offered -> illegal_parameter" \
	fake_server_case sh-suite-not-offered "--ciphers TLS_AES_128_GCM_SHA256" illegal_parameter wire
add_case "client: ServerHello does not echo the session id -> illegal_parameter" \
	fake_server_case sh-session-id-mismatch "" illegal_parameter wire
add_case "client: ServerHello key share for a group not shared -> illegal_parameter" \
	fake_server_case sh-group-not-shared "" illegal_parameter wire
add_case "client: ServerHello selects TLS 1.2 in supported_versions -> illegal_parameter" \
	fake_server_case sh-tls12-version "" illegal_parameter wire
add_case "client: all-zero X25519 share from the server -> illegal_parameter" \
	fake_server_case sh-zero-x25519 "--groups x25519" illegal_parameter wire
add_case "client: P-256 share from the server not on the curve -> illegal_parameter" \
	fake_server_case sh-bad-point "--groups secp256r1" illegal_parameter wire

# --- a fake client

add_case "server: malformed ClientHello -> decode_error" fake_client_case \
	garbage-hello "$OURS_P256" decode_error wire
add_case "server: compression methods other than null -> illegal_parameter" fake_client_case \
	compression "$OURS_P256" illegal_parameter wire
add_case "server: ClientHello without supported_versions -> protocol_version" fake_client_case \
	no-supported-versions "$OURS_P256" protocol_version wire
add_case "server: Finished before ClientHello -> unexpected_message" fake_client_case \
	finished-first "$OURS_P256" unexpected_message wire
add_case "server: plaintext record longer than 2^14 -> record_overflow" fake_client_case \
	oversize-plain "$OURS_P256" record_overflow wire
add_case "server: protected record longer than 2^14+256 after ClientHello -> record_overflow" \
	fake_client_case oversize-cipher "$OURS_P256" record_overflow
add_case "server: ClientHello cut short, then EOF -> error" fake_client_case \
	truncate "$OURS_P256" -
add_case "server: change_cipher_spec before ClientHello -> unexpected_message" fake_client_case \
	ccs-first "$OURS_P256" unexpected_message wire
add_case "server: supported_groups without key_share -> missing_extension" fake_client_case \
	no-key-share "$OURS_P256" missing_extension wire
add_case "server: no signature_algorithms -> missing_extension" fake_client_case \
	no-sigalgs "$OURS_P256" missing_extension wire
add_case "server: all-zero X25519 share -> illegal_parameter" fake_client_case \
	zero-x25519 "$OURS_P256" illegal_parameter wire
add_case "server: P-256 share not on the curve -> illegal_parameter" fake_client_case \
	bad-p256-share "$OURS_P256" illegal_parameter wire
add_case "server: second ClientHello shares another group than the HRR asked -> illegal_parameter" \
	fake_client_case hrr-wrong-share "$OURS_P256" illegal_parameter wire

run_cases
