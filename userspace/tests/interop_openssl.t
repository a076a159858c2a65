#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Interop with OpenSSL's s_server and s_client, both roles, on loopback.
#
# Every case moves 64 KiB of random bytes each way and compares them byte
# for byte (see ossl_client_case and ossl_server_case in lib.sh), then
# checks the fields of our tool's handshake line. HelloRetryRequest is
# proven on the wire: those connections go through evil-peer.py
# --observe, which must see exactly one HRR.

. "$(dirname "$0")/lib.sh"

require_tools
ensure_certs
make_data

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
add_case "client: ALPN no overlap, s_server refuses" ossl_client_case \
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

run_cases
