#!/bin/bash
# The main job, shown: a TLS 1.3 handshake by libktls between the example
# peers, and against OpenSSL's s_server, with data moved and checked.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh >/dev/null
make -s tools

dir=$(mktemp -d /tmp/ktls-demo.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-keyout "$dir/ca.key" -out "$dir/ca.pem" -subj /CN=ktlsd-demo-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/server.key" -out "$dir/server.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
	-CAcreateserial -days 1 -extfile "$dir/ext" -out "$dir/server.pem" 2>/dev/null
head -c 1048576 /dev/urandom > "$dir/payload"

echo "== ktls-client -> ktls-server --echo (1 MiB echoed, compared)"
build/bin/ktls-server --cert "$dir/server.pem" --key "$dir/server.key" --echo --once 0 \
	2> "$dir/server.log" &
for _ in $(seq 50); do grep -q 'listening on port' "$dir/server.log" && break; sleep 0.1; done
port=$(sed -n 's/^listening on port //p' "$dir/server.log")
build/bin/ktls-client --ca "$dir/ca.pem" localhost "$port" < "$dir/payload" > "$dir/echoed"
wait
sed 's/^/server: /' "$dir/server.log"
cmp "$dir/payload" "$dir/echoed" && echo "echoed data matches ($(stat -c %s "$dir/echoed") bytes)"

echo "== ktls-client -> openssl s_server"
(sleep 1; echo "hello from openssl s_server") |
	openssl s_server -accept 0 -cert "$dir/server.pem" -key "$dir/server.key" -tls1_3 \
		-naccept 1 -quiet > "$dir/s_server.out" 2> "$dir/s_server.err" &
for _ in $(seq 50); do grep -q ACCEPT "$dir/s_server.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*ACCEPT.*:\([0-9]*\)$/\1/p' "$dir/s_server.out" | head -1)
if [ -z "$port" ]; then
	port=$(ss -ltnp | sed -n 's/.*:\([0-9]*\) .*openssl.*/\1/p' | head -1)
fi
(echo "hello from ktls-client"; sleep 2) |
	build/bin/ktls-client --ca "$dir/ca.pem" localhost "$port"
wait || true
echo "s_server received: $(grep -v ACCEPT "$dir/s_server.out")"
