# SPDX-License-Identifier: GPL-2.0-only
#
# Shared helpers for the TAP shell tests (interop_*.t, negative.t).
# Sourced, not run.
#
# A script registers its cases with add_case, then calls run_cases. Each
# case runs in its own subshell and directory, so the processes it starts
# and the files it writes die with it; it is one TAP test point. Its
# checks print "# ..." lines only when they fail, and a failing case also
# gets the stderr of every program it ran, so a red CI log says why.
#
# Conventions inside a case directory:
#   srv.out srv.err  the server side (ours or the reference peer)
#   cli.out cli.err  the client side
#   evil.out evil.err the proxy or fake peer (evil-peer.py)

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$TESTS_DIR/../.." && pwd)
BIN=${KTLS_BIN:-$ROOT/build/bin}
KTLS_CLIENT=$BIN/ktls-client
KTLS_SERVER=$BIN/ktls-server
EVIL_PEER=$TESTS_DIR/evil-peer.py
# Every program gets this long; a case that hangs costs at most this.
T=${KTLS_TEST_TIMEOUT:-20}
# Data sent each way in the round-trip checks.
DATA_SIZE=65536

# The system interpreter: version-manager shims (pyenv) cost half a
# second per start, and a case starts up to three.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
export PYTHONDONTWRITEBYTECODE=1
export LC_ALL=C

# KTLS_KEEP=1 keeps every case's files (named in the output) for a look;
# KTLS_ONLY=REGEX runs only the cases whose description matches.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktls-tests.XXXXXX")
if [ -n "${KTLS_KEEP:-}" ]; then
	echo "# case files kept in $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi

# ---------------------------------------------------------------- TAP

CASE_DESC=()
CASE_CMD=()

# add_case DESCRIPTION FUNCTION [ARG]...
add_case() {
	CASE_DESC+=("$1")
	shift
	CASE_CMD+=("$(printf '%q ' "$@")")
}

diag() {
	printf '# %s\n' "$*"
}

# fail MESSAGE: records a failed check of the current case.
fail() {
	diag "$*"
	CASE_FAILED=1
}

# Last lines of a file as TAP diagnostics.
diag_file() {
	local file=$1 lines=${2:-25}

	[ -s "$file" ] || return 0
	diag "--- $(basename "$file") (last $lines lines):"
	tail -n "$lines" "$file" | cut -c1-300 | sed 's/^/#   /'
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# Stops the whole script: what every case needs is missing.
bail_out() {
	echo "Bail out! $*"
	exit 1
}

require_tools() {
	local tool

	for tool in "$KTLS_CLIENT" "$KTLS_SERVER"; do
		[ -x "$tool" ] || bail_out "$tool not built (run make)"
	done
	for tool in openssl "$PYTHON" timeout flock; do
		command -v "$tool" >/dev/null || bail_out "$tool not installed"
	done
}

# case_body DIR COMMAND: one case, in the subshell run_cases gives it.
case_body() {
	cd "$1" || exit 1
	BG_PIDS=()
	CASE_FAILED=0
	trap case_cleanup EXIT
	eval "$2" || CASE_FAILED=1
	exit "$CASE_FAILED"
}

run_cases() {
	local count=${#CASE_DESC[@]} i n failed=0 dir f

	echo "1..$count"
	for ((i = 0; i < count; i++)); do
		n=$((i + 1))
		dir=$WORK/case$n
		if [ -n "${KTLS_ONLY:-}" ] && ! grep -q -E -- "$KTLS_ONLY" <<< "${CASE_DESC[i]}"; then
			echo "ok $n - ${CASE_DESC[i]} # SKIP not selected by KTLS_ONLY"
			continue
		fi
		mkdir -p "$dir"
		if (case_body "$dir" "${CASE_CMD[i]}") > "$dir/diag" 2>&1 < /dev/null; then
			echo "ok $n - ${CASE_DESC[i]}"
		else
			failed=$((failed + 1))
			echo "not ok $n - ${CASE_DESC[i]}"
			# The case's own "# ..." lines, then what it ran.
			sed 's/^\([^#]\)/# \1/' "$dir/diag"
			diag "command: ${CASE_CMD[i]}"
			for f in "$dir"/*.err "$dir"/*.log "$dir"/evil.out; do
				[ -e "$f" ] && diag_file "$f"
			done
		fi
	done
	[ "$failed" -eq 0 ]
}

# ---------------------------------------------------------------- processes

# Kills what the case started, by pid, and reaps it.
case_cleanup() {
	local pid

	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
}

# spawn IN OUT ERR COMMAND [ARG]...: starts COMMAND in the background with
# its standard streams on the given files; its pid is in $SPAWNED.
spawn() {
	local in=$1 out=$2 err=$3

	shift 3
	"$@" < "$in" > "$out" 2> "$err" &
	SPAWNED=$!
	BG_PIDS+=("$SPAWNED")
}

# reap_within PID SECONDS: status of PID if it exits in time, else kills
# it and returns 124 (a peer left waiting once the other side is gone).
reap_within() {
	local deadline=$((SECONDS + $2))

	while kill -0 "$1" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			kill "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			return 124
		fi
		sleep 0.02
	done
	wait "$1"
}

file_size() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# wait_size FILE SIZE: until FILE holds SIZE bytes; fails after $T s.
wait_size() {
	local deadline=$((SECONDS + T))

	while [ "$(file_size "$1")" -lt "$2" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# wait_grep FILE REGEX: until a line of FILE matches; fails after $T s.
wait_grep() {
	local deadline=$((SECONDS + T))

	until grep -q -E -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# feed FILE WATCH SIZE: the stdin of a peer. Sends FILE, then keeps the
# stream open until WATCH (that peer's stdout) holds SIZE bytes, so the
# peer's EOF - and its close_notify - comes only once the other
# direction is complete. WATCH "-" keeps it open until killed or $T s.
feed() {
	local deadline=$((SECONDS + T))

	cat "$1"
	if [ "$2" = - ]; then
		while [ $SECONDS -lt $deadline ]; do
			sleep 0.1
		done
	else
		wait_size "$2" "$3"
	fi
}

# wait_line FILE PID: prints the N of "listening on port N" in FILE once
# the process PID has written it; fails if PID died first or after $T s.
wait_line() {
	local file=$1 pid=$2 deadline=$((SECONDS + T)) port

	while :; do
		port=$(sed -n 's/^listening on port \([0-9][0-9]*\)$/\1/p' "$file" 2>/dev/null)
		if [ -n "$port" ]; then
			echo "$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# A port nobody listens on right now (for peers that cannot take port 0
# and say which port they got).
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT PID: until something listens on TCP PORT (read from
# /proc, so no connection is spent on probing).
wait_port() {
	local hex deadline=$((SECONDS + T))

	hex=$(printf ':%04X ' "$1")
	while :; do
		if awk -v p="$hex" '$4 == "0A" && index($2 " ", p) { f = 1 } END { exit !f }' \
		       /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# ---------------------------------------------------------------- test data

# Random payloads, one per direction, made once per script.
make_data() {
	head -c "$DATA_SIZE" /dev/urandom > "$WORK/c2s.bin"
	head -c "$DATA_SIZE" /dev/urandom > "$WORK/s2c.bin"
	# Line-oriented echo servers (gnutls-serv --echo) need text.
	base64 "$WORK/c2s.bin" > "$WORK/c2s.txt"
	# Peers that take command letters from stdin (s_client without
	# -nocommands, gnutls-cli --inline-commands) need text no command
	# starts with: digits.
	od -An -tu1 -v "$WORK/s2c.bin" | tr -dc 0-9 | head -c "$DATA_SIZE" |
		fold -w 64 > "$WORK/digits.txt"
}

# ---------------------------------------------------------------- certificates

# Generates the test PKI once and reuses it across scripts while it is
# fresh (certificates are valid for 3 days; regenerated after 1, or when
# gencerts.sh changes). KTLS_CERTS overrides the location.
ensure_certs() {
	CERTS=${KTLS_CERTS:-$ROOT/build/tests/certs}
	mkdir -p "$(dirname "$CERTS")"
	(
		flock 9
		stamp=$CERTS/.stamp
		if [ -e "$stamp" ] && [ ! "$TESTS_DIR/gencerts.sh" -nt "$stamp" ] &&
		   [ -z "$(find "$stamp" -mmin +1440)" ]; then
			exit 0
		fi
		rm -rf "$CERTS.new"
		"$TESTS_DIR/gencerts.sh" "$CERTS.new" > "$WORK/gencerts.log" 2>&1 ||
			{ cat "$WORK/gencerts.log"; exit 1; }
		rm -rf "$CERTS"
		mv "$CERTS.new" "$CERTS"
		touch "$CERTS/.stamp"
	) 9> "$CERTS.lock" || bail_out "gencerts.sh failed"
	CA=$CERTS/root.pem
}

# ---------------------------------------------------------------- checks

# hs_field FILE KEY: a field of the first "handshake:" line in FILE.
hs_field() {
	local line

	line=$(grep -m1 '^handshake: ' "$1") || return 1
	if [ "$2" = peer ]; then
		case $line in
		*' peer="'*)
			line=${line#*' peer="'}
			echo "${line%%\"*}"
			return 0 ;;
		esac
	fi
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< "$line"
}

# check_hs FILE KEY=PATTERN...: the handshake line in FILE has these
# fields (PATTERN is a shell glob).
check_hs() {
	local file=$1 kv key want got

	shift
	if ! grep -q '^handshake: ' "$file"; then
		fail "no handshake line in $file"
		return 1
	fi
	for kv in "$@"; do
		key=${kv%%=*}
		want=${kv#*=}
		got=$(hs_field "$file" "$key")
		# shellcheck disable=SC2053 # want is a glob on purpose
		if [[ $got != $want ]]; then
			fail "$file: $key=$got, expected $key=$want"
		fi
	done
}

# check_status WHAT GOT WANT: WANT is 0 or "nonzero".
check_status() {
	if [ "$3" = nonzero ]; then
		[ "$2" -ne 0 ] || fail "$1 exited 0, expected failure"
		[ "$2" -ne 124 ] || fail "$1 timed out after ${T}s"
	elif [ "$2" -ne "$3" ]; then
		if [ "$2" -eq 124 ]; then
			fail "$1 timed out after ${T}s"
		else
			fail "$1 exited $2, expected $3"
		fi
	fi
}

# check_same WHAT WANT GOT: byte-exact comparison of two files.
check_same() {
	if ! cmp -s "$2" "$3"; then
		fail "$1: $(basename "$3") ($(file_size "$3") bytes) differs from $(basename "$2") ($(file_size "$2") bytes)"
	fi
}

# check_error FILE ALERT: FILE has "error: ... (alert ALERT)"; ALERT "-"
# asks only for an error line.
check_error() {
	if [ "$2" = - ]; then
		grep -q '^error: ' "$1" || fail "$1: no 'error:' line"
	elif ! grep -q "^error: .*(alert $2)\$" "$1"; then
		fail "$1: no 'error: ... (alert $2)' line (got: $(grep -m1 '^error: ' "$1"))"
	fi
}

# check_no_error FILE: nothing in FILE starts with "error:".
check_no_error() {
	if grep -q '^error: ' "$1"; then
		fail "$1: $(grep -m1 '^error: ' "$1")"
	fi
}

# check_grep FILE REGEX WHAT
check_grep() {
	grep -q -E -- "$2" "$1" || fail "$1: ${3:-no match for /$2/}"
}

ALERT_CODES="close_notify=0 unexpected_message=10 bad_record_mac=20
record_overflow=22 handshake_failure=40 bad_certificate=42
unsupported_certificate=43 certificate_revoked=44 certificate_expired=45
certificate_unknown=46 illegal_parameter=47 unknown_ca=48 access_denied=49
decode_error=50 decrypt_error=51 protocol_version=70
insufficient_security=71 internal_error=80 missing_extension=109
unsupported_extension=110 unrecognized_name=112 certificate_required=116
no_application_protocol=120"

alert_code() {
	local kv

	for kv in $ALERT_CODES; do
		if [ "${kv%%=*}" = "$1" ]; then
			echo "${kv#*=}"
			return 0
		fi
	done
	return 1
}

# check_peer_alert FILE ALERT: the log of an openssl or gnutls peer says
# it received ALERT (openssl: "SSL alert number N", gnutls-cli:
# "Received alert [N]").
check_peer_alert() {
	local code

	code=$(alert_code "$2") || { fail "unknown alert $2"; return; }
	grep -q -E "SSL alert number $code\$|Received alert \[$code\]" "$1" ||
		fail "$1: peer did not report receiving alert $2 ($code)"
}

# check_wire_alert FILE ALERT [DIR]: evil-peer.py saw a fatal ALERT in
# the clear (going DIR: c2s or s2c; default either way).
check_wire_alert() {
	local code dir=${3:-[cs]2[cs]}

	code=$(alert_code "$2") || { fail "unknown alert $2"; return; }
	grep -q "^record $dir alert level=2 desc=$code " "$1" ||
		fail "$1: no plaintext fatal alert $2 ($code) seen${3:+ going $3}"
}

# check_hrr FILE: evil-peer.py --observe saw one HelloRetryRequest.
check_hrr() {
	local n

	n=$(grep -c 'ServerHello(HRR)' "$1")
	[ "$n" -eq 1 ] || fail "$1: $n HelloRetryRequests seen, expected 1"
}

# ---------------------------------------------------------------- case options

# parse_opts OPTION...: what a case expects, as words:
#   FIELD=GLOB      a field of our tool's handshake line (version, cipher,
#                   group, sigalg, alpn, peer, ktls)
#   fail=ALERT      our tool must fail with "error: ... (alert ALERT)";
#                   fail=- accepts any error line
#   peer_alert=ALERT  the openssl or gnutls peer must log receiving ALERT
#   hrr             the connection goes through evil-peer.py --observe,
#                   which must see exactly one HelloRetryRequest
#   proxy=ARGS      the connection goes through evil-peer.py proxy ARGS
#   wire=ALERT      ... and the proxy must see ALERT in the clear
#   srvlog=REGEX, clilog=REGEX  a line of srv.err / cli.err matches
parse_opts() {
	local o

	HS_CHECKS=()
	SRV_GREP=()
	CLI_GREP=()
	WANT_FAIL=
	PEER_ALERT=
	WANT_HRR=0
	PROXY_ARGS=
	WIRE_ALERT=
	for o in "$@"; do
		case $o in
		fail=*)		WANT_FAIL=${o#fail=} ;;
		peer_alert=*)	PEER_ALERT=${o#peer_alert=} ;;
		hrr)		WANT_HRR=1; PROXY_ARGS=--observe ;;
		proxy=*)	PROXY_ARGS=${o#proxy=} ;;
		wire=*)		WIRE_ALERT=${o#wire=} ;;
		srvlog=*)	SRV_GREP+=("${o#srvlog=}") ;;
		clilog=*)	CLI_GREP+=("${o#clilog=}") ;;
		*=*)		HS_CHECKS+=("$o") ;;
		*)		fail "unknown case option $o"; return 1 ;;
		esac
	done
}

# Sets TARGET, the port to connect to: $1, or a proxy in front of it when
# the case asks for one.
maybe_proxy() {
	local -a pargs

	TARGET=$1
	[ -n "$PROXY_ARGS" ] || return 0
	read -r -a pargs <<< "$PROXY_ARGS"
	start_proxy "$1" "${pargs[@]}" || return 1
	TARGET=$PROXY_PORT
}

# The checks every case shares once both sides are done. $1 is the file
# with our tool's stderr, $2 our tool's exit status, $3 the other
# peer's log.
common_checks() {
	local ours=$1 rc=$2 peer_log=$3 re

	if [ -n "$WANT_FAIL" ]; then
		check_status "our tool" "$rc" nonzero
		check_error "$ours" "$WANT_FAIL"
	else
		check_status "our tool" "$rc" 0
		check_no_error "$ours"
		check_hs "$ours" version="${WANT_VERSION:-TLSv1.3}" ktls=off "${HS_CHECKS[@]}"
	fi
	[ -n "$PEER_ALERT" ] && check_peer_alert "$peer_log" "$PEER_ALERT"
	[ "$WANT_HRR" = 1 ] && check_hrr evil.out
	[ -n "$WIRE_ALERT" ] && check_wire_alert evil.out "$WIRE_ALERT"
	for re in "${SRV_GREP[@]}"; do
		check_grep srv.err "$re"
	done
	for re in "${CLI_GREP[@]}"; do
		check_grep cli.err "$re"
	done
	return 0
}

# ---------------------------------------------------------------- our tools

# start_ktls_server ARG...: our server on an ephemeral port, with
# --no-ktls --once --echo; sets SRV_PID and SRV_PORT.
start_ktls_server() {
	spawn /dev/null srv.out srv.err timeout "$T" "$KTLS_SERVER" \
		--no-ktls --once --echo "$@" 0
	SRV_PID=$SPAWNED
	if ! SRV_PORT=$(wait_line srv.err "$SRV_PID"); then
		fail "ktls-server did not start listening"
		return 1
	fi
}

# start_proxy UPSTREAM_PORT ARG...: evil-peer.py proxy; sets PROXY_PID and
# PROXY_PORT.
start_proxy() {
	spawn /dev/null evil.out evil.err timeout "$T" "$PYTHON" "$EVIL_PEER" proxy "$@"
	PROXY_PID=$SPAWNED
	if ! PROXY_PORT=$(wait_line evil.err "$PROXY_PID"); then
		fail "evil-peer.py proxy did not start"
		return 1
	fi
}

# run_ktls_client PORT SEND WATCH_SIZE ARG...: ktls-client to PORT with
# file SEND on stdin, which stays open until cli.out holds WATCH_SIZE
# bytes (WATCH_SIZE "-": until the client is done). Sets CLI_RC.
run_ktls_client() {
	local port=$1 send=$2 size=$3

	shift 3
	mkfifo cli.in
	if [ "$size" = - ]; then
		spawn /dev/null cli.in cli.feed.err feed "$send" -
	else
		spawn /dev/null cli.in cli.feed.err feed "$send" cli.out "$size"
	fi
	timeout "$T" "$KTLS_CLIENT" --no-ktls "$@" 127.0.0.1 "$port" \
		< cli.in > cli.out 2> cli.err
	CLI_RC=$?
}

# ---------------------------------------------------------------- openssl peers

# Options every s_server/s_client gets: TLS 1.3 unless the case says
# otherwise, application data without decoration or command letters.
S_SERVER=(openssl s_server -quiet -naccept 1)
S_CLIENT=(openssl s_client -quiet -no_ign_eof -nocommands
	  -verify_return_error -verify_ip 127.0.0.1)

# ossl_client_case "S_SERVER ARGS" "KTLS-CLIENT ARGS" OPTION...
#
# ktls-client against s_server -quiet. Each side's stdin is the data for
# the other. s_server's stdin stays open; ktls-client's closes once all
# of s_server's data has arrived, so the close (close_notify both ways)
# starts at our client and nothing is cut short. Both directions are
# compared byte for byte. With fail=, both stdins stay open and only the
# error is checked.
ossl_client_case() {
	local -a sargs cargs
	local port srv_rc

	read -r -a sargs <<< "$1"
	read -r -a cargs <<< "$2"
	shift 2
	parse_opts "$@" || return 1
	[[ " ${sargs[*]} " == *" -tls1_"[23]" "* ]] || sargs+=(-tls1_3)

	port=$(free_port)
	mkfifo srv.in
	if [ -n "$WANT_FAIL" ]; then
		spawn /dev/null srv.in srv.feed.err feed /dev/null -
	else
		spawn /dev/null srv.in srv.feed.err feed "$WORK/s2c.bin" -
	fi
	spawn srv.in srv.out srv.err timeout "$T" "${S_SERVER[@]}" \
		-accept "127.0.0.1:$port" "${sargs[@]}"
	SRV_PID=$SPAWNED
	wait_port "$port" "$SRV_PID" || { fail "s_server did not start"; return 1; }
	maybe_proxy "$port" || return 1

	if [ -n "$WANT_FAIL" ]; then
		run_ktls_client "$TARGET" /dev/null - --ca "$CA" "${cargs[@]}"
	else
		run_ktls_client "$TARGET" "$WORK/c2s.bin" "$DATA_SIZE" \
			--ca "$CA" "${cargs[@]}"
	fi
	reap_within "$SRV_PID" 5
	srv_rc=$?

	common_checks cli.err "$CLI_RC" srv.err
	[ -n "$WANT_FAIL" ] && return 0
	check_status s_server "$srv_rc" 0
	check_same "s_server -> ktls-client" "$WORK/s2c.bin" cli.out
	check_same "ktls-client -> s_server" "$WORK/c2s.bin" srv.out
}

# ossl_server_case "KTLS-SERVER ARGS" "S_CLIENT ARGS" OPTION...
#
# s_client against ktls-server --echo: s_client sends, our server
# echoes; s_client's stdin closes once the echo is complete, and
# -no_ign_eof makes that EOF a close_notify. With fail=, s_client's stdin
# stays open so it reads the alert.
ossl_server_case() {
	local -a kargs sargs
	local srv_rc cli_rc

	read -r -a kargs <<< "$1"
	read -r -a sargs <<< "$2"
	shift 2
	parse_opts "$@" || return 1
	[[ " ${sargs[*]} " == *" -tls1_"[23]" "* ]] || sargs+=(-tls1_3)

	start_ktls_server "${kargs[@]}" || return 1
	maybe_proxy "$SRV_PORT" || return 1

	mkfifo cli.in
	if [ -n "$WANT_FAIL" ]; then
		spawn /dev/null cli.in cli.feed.err feed /dev/null -
	else
		spawn /dev/null cli.in cli.feed.err feed "$WORK/c2s.bin" cli.out "$DATA_SIZE"
	fi
	timeout "$T" "${S_CLIENT[@]}" -connect "127.0.0.1:$TARGET" -CAfile "$CA" \
		"${sargs[@]}" < cli.in > cli.out 2> cli.err
	cli_rc=$?
	reap_within "$SRV_PID" 5
	srv_rc=$?

	common_checks srv.err "$srv_rc" cli.err
	[ -n "$WANT_FAIL" ] && return 0
	check_status s_client "$cli_rc" 0
	check_same "echo through ktls-server" "$WORK/c2s.bin" cli.out
}
