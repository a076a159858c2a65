#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# TLS 1.2 interop: OpenSSL's s_server/s_client with -tls1_2 and GnuTLS
# with a 1.2-only priority string, both roles, every ECDHE suite, group
# and key type, RSA key transport, client certificates, and version
# negotiation between a 1.2+1.3 peer of ours and 1.2-only peers. Same
# conventions as interop_openssl.t: 64 KiB each way compared byte for byte
# (base64 through gnutls-serv's line echo), then the fields of our
# handshake line.

. "$(dirname "$0")/lib.sh"

require_tools
ensure_certs
make_data

WANT_VERSION=TLSv1.2
C=$CERTS
OURS12="--min-version 1.2"
HAVE_GNUTLS=1
command -v gnutls-cli >/dev/null && command -v gnutls-serv >/dev/null || HAVE_GNUTLS=0
TLS12=NORMAL:-VERS-ALL:+VERS-TLS1.2

# gnutls12_client_case "GNUTLS-SERV ARGS" "KTLS-CLIENT ARGS" OPTION...
gnutls12_client_case() {
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
	run_ktls_client "$port" "$WORK/c2s.txt" "$(file_size "$WORK/c2s.txt")" \
		--ca "$CA" "${cargs[@]}"
	reap_within "$SRV_PID" 0
	common_checks cli.err "$CLI_RC" srv.err
	check_same "echo through gnutls-serv" "$WORK/c2s.txt" cli.out
}

# gnutls12_server_case "KTLS-SERVER ARGS" "GNUTLS-CLI ARGS" OPTION...
gnutls12_server_case() {
	local -a kargs cargs
	local srv_rc cli_rc

	read -r -a kargs <<< "$1"
	read -r -a cargs <<< "$2"
	shift 2
	parse_opts "$@" || return 1
	start_ktls_server "${kargs[@]}" || return 1
	mkfifo cli.in
	spawn /dev/null cli.in cli.feed.err feed "$WORK/c2s.bin" cli.out "$DATA_SIZE"
	timeout "$T" gnutls-cli --x509cafile "$CA" --logfile cli.log -p "$SRV_PORT" \
		"${cargs[@]}" 127.0.0.1 < cli.in > cli.out 2> cli.err
	cli_rc=$?
	reap_within "$SRV_PID" 5
	srv_rc=$?
	common_checks srv.err "$srv_rc" cli.log
	check_status gnutls-cli "$cli_rc" 0
	check_same "echo through ktls-server" "$WORK/c2s.bin" cli.out
}

# A case where TLS 1.3 is expected instead.
tls13_case() {
	local WANT_VERSION=TLSv1.3

	"$@"
}

# IANA name : OpenSSL name : GnuTLS priority additions : our key type
SUITES12="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:AES-128-GCM:p256
	TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:AES-256-GCM:p256
	TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:CHACHA20-POLY1305:p256
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES-128-GCM:rsa
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:ECDHE-RSA-AES256-GCM-SHA384:AES-256-GCM:rsa
	TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:ECDHE-RSA-CHACHA20-POLY1305:CHACHA20-POLY1305:rsa"
GROUPS_ALL="x25519:X25519 secp256r1:SECP256R1 secp384r1:SECP384R1"
# key type : OpenSSL -sigalgs : IANA scheme we report : GnuTLS SIGN name
KEY_SIGS="p256:ECDSA+SHA256:ecdsa_secp256r1_sha256:ECDSA-SHA256
	p384:ECDSA+SHA384:ecdsa_secp384r1_sha384:ECDSA-SHA384
	p384:ECDSA+SHA256:ecdsa_secp256r1_sha256:ECDSA-SHA256
	rsa:rsa_pss_rsae_sha256:rsa_pss_rsae_sha256:RSA-PSS-RSAE-SHA256
	rsa:rsa_pss_rsae_sha384:rsa_pss_rsae_sha384:RSA-PSS-RSAE-SHA384
	rsa:RSA+SHA256:rsa_pkcs1_sha256:RSA-SHA256
	rsa:RSA+SHA384:rsa_pkcs1_sha384:RSA-SHA384"
CLIENT_TYPES="p256 p384 rsa"

# --- ktls-client against s_server -tls1_2

for q in $SUITES12; do
	IFS=: read -r iana ossl _ key <<< "$q"
	add_case "client: $iana vs s_server" ossl_client_case \
		"-tls1_2 -cert $C/server-$key.pem -key $C/server-$key.key -cipher $ossl" "$OURS12" \
		"cipher=$iana" "peer=CN=server-$key"
done
for g in $GROUPS_ALL; do
	add_case "client: group ${g%%:*} vs s_server" ossl_client_case \
		"-tls1_2 -cert $C/server-p256.pem -key $C/server-p256.key -groups ${g%%:*}" \
		"$OURS12" "group=${g%%:*}"
done
for q in $KEY_SIGS; do
	IFS=: read -r key osig iana _ <<< "$q"
	add_case "client: server key $key, $osig vs s_server" ossl_client_case \
		"-tls1_2 -cert $C/server-$key.pem -key $C/server-$key.key -sigalgs $osig" "$OURS12" \
		"sigalg=$iana"
done
for k in $CLIENT_TYPES; do
	add_case "client: mTLS with client key $k vs s_server" ossl_client_case \
		"-tls1_2 -cert $C/server-p256.pem -key $C/server-p256.key -Verify 1 -CAfile $C/root.pem -verify_return_error" \
		"$OURS12 --cert $C/client-$k.pem --key $C/client-$k.key" \
		"srvlog=^depth=0 CN = client-$k\$"
done
add_case "client: default (TLS 1.3 only) refuses a 1.2 s_server" ossl_client_case \
	"-tls1_2 -cert $C/server-p256.pem -key $C/server-p256.key" "" fail=protocol_version
add_case "client: 1.2+1.3 against a 1.2+1.3 s_server speaks 1.3" tls13_case ossl_client_case \
	"-cert $C/server-p256.pem -key $C/server-p256.key" "$OURS12" \
	"cipher=TLS_AES_128_GCM_SHA256"
add_case "client: ALPN agreed vs s_server" ossl_client_case \
	"-tls1_2 -cert $C/server-p256.pem -key $C/server-p256.key -alpn http/1.1" \
	"$OURS12 --alpn h2,http/1.1" "alpn=http/1.1"

# --- s_client -tls1_2 against ktls-server

for q in $SUITES12; do
	IFS=: read -r iana ossl _ key <<< "$q"
	add_case "server: $iana vs s_client" ossl_server_case \
		"$OURS12 --cert $C/server-$key.pem --key $C/server-$key.key" "-tls1_2 -cipher $ossl" \
		"cipher=$iana"
done
for g in $GROUPS_ALL; do
	# RFC 8422 5.1: the curve of an ECDSA certificate must be one the client offers.
	offer=${g%%:*}:P-256
	[ "${g%%:*}" = secp256r1 ] && offer=P-256
	add_case "server: group ${g%%:*} vs s_client" ossl_server_case \
		"$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key --groups ${g%%:*}" \
		"-tls1_2 -groups $offer" "group=${g%%:*}"
done
for q in $KEY_SIGS; do
	IFS=: read -r key osig iana _ <<< "$q"
	[ "$key:$osig" = p384:ECDSA+SHA256 ] && continue	# we sign P-384 with SHA-384 only
	add_case "server: key $key, $osig vs s_client" ossl_server_case \
		"$OURS12 --cert $C/server-$key.pem --key $C/server-$key.key" "-tls1_2 -sigalgs $osig" \
		"sigalg=$iana"
done
for k in $CLIENT_TYPES; do
	add_case "server: mTLS required, client key $k vs s_client" ossl_server_case \
		"$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key --ca $C/root.pem --verify-client required" \
		"-tls1_2 -cert $C/client-$k.pem -key $C/client-$k.key" \
		"peer=CN=client-$k"
done
add_case "server: 1.2+1.3 against a 1.2+1.3 s_client speaks 1.3" tls13_case ossl_server_case \
	"$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key" "" \
	"cipher=TLS_AES_128_GCM_SHA256"
add_case "server: no ECDSA certificate on a curve the client offers: handshake_failure" \
	ossl_server_case "$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key" \
	"-tls1_2 -groups x25519" fail=handshake_failure peer_alert=handshake_failure
add_case "server: default (TLS 1.3 only) refuses s_client -tls1_2" ossl_server_case \
	"--cert $C/server-p256.pem --key $C/server-p256.key" "-tls1_2" \
	fail=protocol_version peer_alert=protocol_version

# --- RSA key transport, only when named

for q in TLS_RSA_WITH_AES_128_GCM_SHA256:AES128-GCM-SHA256 \
	 TLS_RSA_WITH_AES_256_GCM_SHA384:AES256-GCM-SHA384; do
	add_case "client: ${q%%:*} vs s_server" ossl_client_case \
		"-tls1_2 -cert $C/server-rsa.pem -key $C/server-rsa.key -cipher ${q#*:}" \
		"$OURS12 --ciphers ${q%%:*}" "cipher=${q%%:*}" "group=-" "sigalg=-"
	add_case "server: ${q%%:*} vs s_client" ossl_server_case \
		"$OURS12 --cert $C/server-rsa.pem --key $C/server-rsa.key --ciphers ${q%%:*}" \
		"-tls1_2 -cipher ${q#*:}" "cipher=${q%%:*}"
done
add_case "server: RSA key transport not offered unless named" ossl_server_case \
	"$OURS12 --cert $C/server-rsa.pem --key $C/server-rsa.key" \
	"-tls1_2 -cipher AES128-GCM-SHA256" fail=handshake_failure peer_alert=handshake_failure

# --- GnuTLS, 1.2 only

if [ "$HAVE_GNUTLS" = 1 ]; then
	for q in $SUITES12; do
		IFS=: read -r iana _ gc key <<< "$q"
		add_case "client: $iana vs gnutls-serv" gnutls12_client_case \
			"--x509certfile $C/server-$key.pem --x509keyfile $C/server-$key.key --priority $TLS12:-CIPHER-ALL:+$gc" \
			"$OURS12 --ciphers $iana" "cipher=$iana"
		add_case "server: $iana vs gnutls-cli" gnutls12_server_case \
			"$OURS12 --cert $C/server-$key.pem --key $C/server-$key.key --ciphers $iana" \
			"--priority $TLS12:-CIPHER-ALL:+$gc" "cipher=$iana"
	done
	for g in $GROUPS_ALL; do
		add_case "client: group ${g%%:*} vs gnutls-serv" gnutls12_client_case \
			"--x509certfile $C/server-p256.pem --x509keyfile $C/server-p256.key --priority $TLS12:-GROUP-ALL:+GROUP-${g#*:}" \
			"$OURS12" "group=${g%%:*}"
		add_case "server: group ${g%%:*} vs gnutls-cli" gnutls12_server_case \
			"$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key --groups ${g%%:*}" \
			"--priority $TLS12:-GROUP-ALL:+GROUP-${g#*:}:+GROUP-SECP256R1" "group=${g%%:*}"
	done
	for q in $KEY_SIGS; do
		IFS=: read -r key _ iana gsig <<< "$q"
		add_case "client: server key $key, $gsig vs gnutls-serv" gnutls12_client_case \
			"--x509certfile $C/server-$key.pem --x509keyfile $C/server-$key.key --priority $TLS12:-SIGN-ALL:+SIGN-$gsig" \
			"$OURS12" "sigalg=$iana"
	done
	# RSA key transport, named on our side. GnuTLS wants keyEncipherment
	# in the leaf for it, which server-rsakx has and server-rsa has not.
	for q in TLS_RSA_WITH_AES_128_GCM_SHA256:AES-128-GCM \
		 TLS_RSA_WITH_AES_256_GCM_SHA384:AES-256-GCM; do
		prio=$TLS12:-KX-ALL:+RSA:-CIPHER-ALL:+${q#*:}
		add_case "client: ${q%%:*} vs gnutls-serv" gnutls12_client_case \
			"--x509certfile $C/server-rsakx.pem --x509keyfile $C/server-rsakx.key --priority $prio" \
			"$OURS12 --ciphers ${q%%:*}" "cipher=${q%%:*}" "group=-" "sigalg=-" \
			"peer=CN=server-rsakx"
		add_case "server: ${q%%:*} vs gnutls-cli" gnutls12_server_case \
			"$OURS12 --cert $C/server-rsakx.pem --key $C/server-rsakx.key --ciphers ${q%%:*}" \
			"--priority $prio" "cipher=${q%%:*}" "group=-" "sigalg=-"
	done
	for k in $CLIENT_TYPES; do
		add_case "client: mTLS with client key $k vs gnutls-serv" gnutls12_client_case \
			"--x509certfile $C/server-p256.pem --x509keyfile $C/server-p256.key --priority $TLS12 --require-client-cert --verify-client-cert --x509cafile $C/root.pem" \
			"$OURS12 --cert $C/client-$k.pem --key $C/client-$k.key"
		add_case "server: mTLS required, client key $k vs gnutls-cli" gnutls12_server_case \
			"$OURS12 --cert $C/server-p256.pem --key $C/server-p256.key --ca $C/root.pem --verify-client required" \
			"--priority $TLS12 --x509certfile $C/client-$k.pem --x509keyfile $C/client-$k.key" \
			"peer=CN=client-$k"
	done
fi

run_cases
