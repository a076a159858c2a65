#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# gencerts.sh DIR: make every certificate the interop and negative tests
# need, at test time, so nothing with an expiry date is ever committed.
#
# Layout of DIR (NAME.key, NAME.pem; NAME.chain.pem = leaf then CAs):
#   root             trusted root CA (ECDSA P-256)
#   inter            intermediate CA under root
#   server-TYPE      leaf for localhost / 127.0.0.1 / ::1, signed by root,
#                    TYPE in p256 p384 rsa (rsaEncryption) rsapss (RSA-PSS key)
#                    ed25519
#   client-TYPE      client leaf, CN=client-TYPE, same key types
#   server-rsakx     RSA leaf whose keyUsage also has keyEncipherment, as
#                    GnuTLS wants for TLS 1.2 RSA key transport
#   server-chain     P-256 leaf signed by inter (chain file has inter)
#   server-expired   P-256 leaf valid only in 2020
#   server-wrongname P-256 leaf for DNS:wrong.example only
#   server-big       P-256 leaf for both roles whose certificate is
#                    larger than one record (1000 subjectAltNames)
#   rogue            a second, untrusted root CA
#   server-untrusted, client-untrusted   leaves signed by rogue

set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"

# One config for everything, so the host's openssl.cnf cannot add or
# change extensions under us.
cat > openssl.cnf <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# RSA key transport (TLS 1.2 TLS_RSA_*) encrypts the premaster to the
# server's key: GnuTLS refuses a leaf without keyEncipherment for it.
[v3_server_rsakx]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_wrongname]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# For both roles, with a subjectAltName long enough that the Certificate
# message outgrows one record (2^14 bytes); the names follow below.
[v3_big]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = @big_names
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# "openssl ca" is the only CLI signer that takes an explicit start date,
# which the expired certificate needs.
[ca]
default_ca = past_ca
[past_ca]
database = past-index.txt
serial = past-serial
new_certs_dir = .
certificate = root.pem
private_key = root.key
default_md = sha256
policy = past_policy
unique_subject = no
email_in_dn = no
[past_policy]
commonName = supplied
EOF

{
	echo
	echo "[big_names]"
	echo "DNS.1 = localhost"
	echo "IP.1 = 127.0.0.1"
	for ((i = 2; i <= 1000; i++)); do
		echo "DNS.$i = name-$i.big.example"
	done
} >> openssl.cnf

export OPENSSL_CONF="$PWD/openssl.cnf"

# newkey TYPE FILE
newkey() {
	case $1 in
	p256)	 openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			 -pkeyopt ec_param_enc:named_curve -out "$2" ;;
	p384)	 openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
			 -pkeyopt ec_param_enc:named_curve -out "$2" ;;
	rsa)	 openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
			 -out "$2" ;;
	rsapss)	 openssl genpkey -quiet -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 \
			 -out "$2" ;;
	ed25519) openssl genpkey -quiet -algorithm ED25519 -out "$2" ;;
	*)	 echo "gencerts: unknown key type $1" >&2; return 1 ;;
	esac
}

# selfsign NAME CN: a root CA
selfsign() {
	newkey p256 "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -signkey "$1.key" -days 3 -sha256 \
		-extfile openssl.cnf -extensions v3_root -out "$1.pem" 2>/dev/null
}

# issue NAME TYPE CN SIGNER EXTENSIONS
issue() {
	newkey "$2" "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3 -sha256 \
		-extfile openssl.cnf -extensions "$5" -out "$1.pem" 2>/dev/null
	cat "$1.pem" > "$1.chain.pem"
}

selfsign root "ktls test root"
selfsign rogue "ktls test rogue root"
issue inter p256 "ktls test intermediate" root v3_inter

for type in p256 p384 rsa rsapss ed25519; do
	issue "server-$type" "$type" "server-$type" root v3_server
	issue "client-$type" "$type" "client-$type" root v3_client
done

issue server-rsakx rsa server-rsakx root v3_server_rsakx
issue server-chain p256 server-chain inter v3_server
cat inter.pem >> server-chain.chain.pem

issue server-big p256 server-big root v3_big
issue server-wrongname p256 server-wrongname root v3_wrongname
issue server-untrusted p256 server-untrusted rogue v3_server
issue client-untrusted p256 client-untrusted rogue v3_client

newkey p256 server-expired.key
openssl req -new -key server-expired.key -subj /CN=server-expired \
	-out server-expired.csr
: > past-index.txt
echo 01 > past-serial
openssl ca -batch -config openssl.cnf -notext \
	-startdate 20200101000000Z -enddate 20200102000000Z \
	-extfile openssl.cnf -extensions v3_server \
	-in server-expired.csr -out server-expired.pem 2>/dev/null
cp server-expired.pem server-expired.chain.pem

rm -f ./*.csr ./*.old ./*.attr 01.pem 02.pem
