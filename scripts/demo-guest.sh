#!/bin/bash
# The demonstration itself, on a kernel with kTLS: run by scripts/demo.sh
# inside the 6.12 VM (or natively on a host that has kTLS).
# Usage: demo-guest.sh CERT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."

certs=$1
work=$(mktemp -d /tmp/ktls-demo.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

tls_stat() {
	echo "-- /proc/net/tls_stat ($1)"
	grep -E 'TlsCurr|TlsTxSw|TlsRxSw|TlsDecryptError' /proc/net/tls_stat | sed 's/^/   /'
}

wait_listening() {
	for _ in $(seq 100); do
		grep -q 'listening on port' "$1" 2>/dev/null && break
		sleep 0.1
	done
	sed -n 's/^listening on port //p' "$1"
}

echo "kernel: $(uname -r)"
modprobe tls 2>/dev/null || true
tls_stat before
head -c $((16 * 1024 * 1024)) /dev/urandom > "$work/payload"

echo
echo "== ktls-client -> ktls-server --echo: 16 MiB through kTLS both ways"
build/bin/ktls-server --cert "$certs/server.pem" --key "$certs/server.key" --echo --once 0 \
	2> "$work/server.log" &
port=$(wait_listening "$work/server.log")
build/bin/ktls-client --ca "$certs/ca.pem" localhost "$port" \
	< "$work/payload" > "$work/echoed" 2> "$work/client.log"
wait
sed 's/^/   client: /' "$work/client.log"
sed -n 's/^handshake/   server: handshake/p' "$work/server.log"
if cmp -s "$work/payload" "$work/echoed"; then
	echo "   16 MiB echoed back intact (sha256 $(sha256sum < "$work/echoed" | cut -c1-16)...)"
else
	echo "   ERROR: echoed data differs" >&2
	exit 1
fi

echo
echo "== ktls-client (kTLS) -> openssl s_server (userspace OpenSSL)"
# s_server ends the connection at the EOF of its stdin, so that stays open
# until the client is done; the client's stdin closes after a pause long
# enough for s_server's line to arrive, and its close_notify ends it all.
mkfifo "$work/s_server.in"
openssl s_server -accept 0 -cert "$certs/server.pem" -key "$certs/server.key" \
	-tls1_3 -naccept 1 -quiet < "$work/s_server.in" > "$work/s_server.out" \
	2> "$work/s_server.err" &
s_server=$!
exec 3> "$work/s_server.in"
echo "hello from openssl s_server" >&3
# -quiet keeps s_server's stdout for data, so its port comes from ss.
port=
for _ in $(seq 100); do
	port=$(ss -ltnpH 2>/dev/null | sed -n 's/.*:\([0-9][0-9]*\) .*"openssl".*/\1/p' | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
(echo "hello from ktls-client"; sleep 5) |
	build/bin/ktls-client --ca "$certs/ca.pem" localhost "$port" 2> "$work/client2.log" |
	sed 's/^/   ktls-client received: /'
wait "$s_server" || true
exec 3>&-
sed 's/^/   client: /' "$work/client2.log"
echo "   s_server received: $(cat "$work/s_server.out")"

echo
echo "== through ktlsd: the daemon does both handshakes, the peers hold no key"
# ktlsd.ko first, when it is built for this kernel, so that the daemon
# serves its requests too (the last part below).
module=build/module/$(uname -r)/ktlsd.ko
have_module=0
if [ -f "$module" ] && { grep -q '^ktlsd ' /proc/modules || insmod "$module"; }; then
	have_module=1
fi
cat > "$work/ktlsd.conf" <<EOF
[daemon]
socket = $work/ktlsd.sock
[trust demo]
ca_file = $certs/ca.pem
system = no
[client]
trust = demo
[identity demo]
cert = $certs/server.pem
key = $certs/server.key
allow_users = root
EOF
build/bin/ktlsd -f -c "$work/ktlsd.conf" 2> "$work/ktlsd.log" &
for _ in $(seq 100); do
	[ -S "$work/ktlsd.sock" ] && break
	sleep 0.1
done
build/bin/ktls-server --ktlsd "$work/ktlsd.sock" --identity demo --echo --once 0 \
	2> "$work/server3.log" &
port=$(wait_listening "$work/server3.log")
build/bin/ktls-client --ktlsd "$work/ktlsd.sock" localhost "$port" \
	< "$work/payload" > "$work/echoed3" 2> "$work/client3.log"
sed 's/^/   client: /' "$work/client3.log"
sed -n 's/^handshake/   server: handshake/p' "$work/server3.log"
sed 's/^/   ktlsd: /' "$work/ktlsd.log"
cmp -s "$work/payload" "$work/echoed3" ||
	{ echo "   ERROR: data echoed through the daemon's sockets differs" >&2; exit 1; }
echo "   16 MiB echoed back intact over sockets ktlsd upgraded"

echo
echo "== through ktlsd.ko: each peer asks with setsockopt, the module hands the socket to ktlsd"
if [ "$have_module" = 1 ]; then
	cp "$work/ktlsd.log" "$work/ktlsd.log.before"
	build/bin/ktls-server --ktlsd-module --identity demo --echo --once 0 \
		2> "$work/server4.log" &
	server4=$!
	port=$(wait_listening "$work/server4.log")
	build/bin/ktls-client --ktlsd-module localhost "$port" \
		< "$work/payload" > "$work/echoed4" 2> "$work/client4.log"
	wait "$server4" || true
	sed 's/^/   client: /' "$work/client4.log"
	sed -n 's/^handshake/   server: handshake/p' "$work/server4.log"
	# Only the lines this part added.
	tail -n +"$(($(wc -l < "$work/ktlsd.log.before") + 1))" "$work/ktlsd.log" | sed 's/^/   ktlsd: /'
	cmp -s "$work/payload" "$work/echoed4" ||
		{ echo "   ERROR: data echoed through the module's sockets differs" >&2; exit 1; }
	echo "   16 MiB echoed back intact over sockets upgraded by setsockopt"
	echo "   ktlsctl request show (the module's recent completions):"
	build/bin/ktlsctl request show | sed 's/^/     /'
	grep -q 'via=ktlsd.ko' "$work/client4.log"
else
	echo "   skipped: no $module (make module builds it for the test-bed kernels)"
fi

echo
tls_stat after
grep -q 'ktls=tx+rx' "$work/client.log" "$work/client2.log" "$work/client3.log"
