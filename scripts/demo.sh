#!/bin/bash
# The main job, shown: a TLS 1.3 handshake by libktls, the session keys
# installed into the kernel (kTLS), and data moved through the kernel's
# record layer, between the example peers and against OpenSSL's s_server.
# The build host usually has no kTLS, so this boots Debian's 6.12 kernel
# under qemu (selftests/vm/) and runs scripts/demo-guest.sh there; on a
# host whose own kernel has kTLS it runs natively (DEMO_NATIVE=1 forces).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh >/dev/null
make -s tools

certs=build/demo
mkdir -p "$certs"
if [ ! -s "$certs/server.pem" ] || ! openssl x509 -checkend 3600 -noout -in "$certs/server.pem" >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$certs/ca.key" -out "$certs/ca.pem" -subj /CN=ktlsd-demo-ca 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$certs/server.key" -out "$certs/server.csr" -subj /CN=localhost 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$certs/ext"
	openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
		-CAcreateserial -days 2 -extfile "$certs/ext" -out "$certs/server.pem" 2>/dev/null
fi

host_has_ktls() {
	[ -e /proc/net/tls_stat ] || modprobe -q tls 2>/dev/null && [ -e /proc/net/tls_stat ]
}

if [ "${DEMO_NATIVE:-0}" = 1 ] || host_has_ktls; then
	echo "demo: this kernel has kTLS; running natively"
	exec scripts/demo-guest.sh "$certs"
fi
echo "demo: this kernel has no kTLS; booting Debian's 6.12 kernel under qemu"
selftests/vm/setup.sh >/dev/null
make -s module VM_KERNELS=6.12
exec selftests/vm/run-vm.sh 6.12 -- scripts/demo-guest.sh "$certs"
