#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Misbehaving TLS 1.3 peers for the negative tests (stdlib only).

Three roles, each taking one connection and exiting:

  proxy  UPSTREAM_PORT  relay between a real peer and the tool under test,
                        optionally corrupting one protected record (--tamper
                        flip|truncate|oversize --dir c2s|s2c), reshaping the
                        stream without changing its meaning (--fragment,
                        --dribble) or only logging what it saw (--observe)
  server SCENARIO       a fake server that answers a real ClientHello badly
  client PORT SCENARIO  a fake client that opens with a bad first flight

Listening roles bind 127.0.0.1 port 0 and print "listening on port N" on
stderr, the same line ktls-server prints, so the test scripts find the port
the same way for both.

What the victim sends back is printed on stdout, one line per record:
  record <dir> alert level=2 desc=47 (illegal_parameter)
  record <dir> handshake ServerHello(HRR) ...
  record <dir> application_data len=19
followed by "eof <dir>" when that side closes. The scripts grep these. The
fake peers cannot decrypt, so an alert sent after the handshake keys are in
use shows up as an application_data record; the scripts only check the
description where it travels in the clear.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23

CONTENT_TYPE_NAMES = {
    CT_CHANGE_CIPHER_SPEC: "change_cipher_spec",
    CT_ALERT: "alert",
    CT_HANDSHAKE: "handshake",
    CT_APPLICATION_DATA: "application_data",
}

HANDSHAKE_NAMES = {
    1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket",
    5: "EndOfEarlyData", 8: "EncryptedExtensions", 11: "Certificate",
    13: "CertificateRequest", 15: "CertificateVerify", 20: "Finished",
    24: "KeyUpdate", 254: "MessageHash",
}

ALERT_NAMES = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
    43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
    50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error",
    86: "inappropriate_fallback", 90: "user_canceled",
    109: "missing_extension", 110: "unsupported_extension",
    112: "unrecognized_name", 113: "bad_certificate_status_response",
    115: "unknown_psk_identity", 116: "certificate_required",
    120: "no_application_protocol",
}

# RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest.
HRR_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_SUPPORTED_VERSIONS = 43
EXT_COOKIE = 44
EXT_KEY_SHARE = 51

GROUP_X25519 = 0x001d
GROUP_SECP256R1 = 0x0017
GROUP_SECP384R1 = 0x0018
GROUP_SECP521R1 = 0x0019
# Public value sizes, for shares that must look right apart from one flaw.
SHARE_SIZES = {GROUP_X25519: 32, GROUP_SECP256R1: 65, GROUP_SECP384R1: 97,
               GROUP_SECP521R1: 133}
GROUP_NAMES = {"x25519": GROUP_X25519, "secp256r1": GROUP_SECP256R1,
               "secp384r1": GROUP_SECP384R1}

# Plaintext records carry at most 2^14 bytes, protected ones 2^14 + 256
# (RFC 8446 5.1, 5.2); one byte more than each must be refused.
MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT = MAX_PLAINTEXT + 256

TIMEOUT = 15.0


def log(msg):
    print(msg, flush=True)


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def vec24(b):
    return u24(len(b)) + b


def record(content_type, body, length=None):
    """One TLS record; length overrides the header for lying records."""
    if length is None:
        length = len(body)
    return u8(content_type) + b"\x03\x03" + u16(length) + body


def handshake(msg_type, body):
    return u8(msg_type) + vec24(body)


def extension(ext_type, body):
    return u16(ext_type) + vec16(body)


def client_hello(compression=b"\x00", versions=True, groups=None,
                 suites=(0x1301, 0x1302, 0x1303), server_name="localhost",
                 shares=None, key_share=True, sigalgs=True, random=None,
                 session_id=None, cookie=None):
    """A ClientHello body the way a TLS 1.3 client would send it, with
    knobs to leave things out or get them wrong.

    shares is a list of (group, public value); by default one X25519
    share of 32 random bytes: the peer either fails before it gets to the
    share or derives a key nobody will use, both fine here.
    """
    if groups is None:
        groups = [GROUP_X25519, GROUP_SECP256R1, GROUP_SECP384R1]
    if shares is None:
        shares = [(GROUP_X25519, os.urandom(32))]
    exts = b""
    if server_name:
        name = server_name.encode()
        exts += extension(EXT_SERVER_NAME,
                          vec16(u8(0) + vec16(name)))
    exts += extension(EXT_SUPPORTED_GROUPS,
                      vec16(b"".join(u16(g) for g in groups)))
    if sigalgs:
        schemes = [0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a,
                   0x080b, 0x0807, 0x0401, 0x0501, 0x0601]
        exts += extension(EXT_SIGNATURE_ALGORITHMS,
                          vec16(b"".join(u16(x) for x in schemes)))
    if versions:
        exts += extension(EXT_SUPPORTED_VERSIONS, vec8(u16(0x0304)))
        if key_share:
            exts += extension(EXT_KEY_SHARE, vec16(b"".join(
                u16(g) + vec16(pub) for g, pub in shares)))
        if cookie is not None:
            exts += extension(EXT_COOKIE, cookie)
    else:
        # What a TLS 1.2-only client sends instead.
        exts += extension(EXT_EC_POINT_FORMATS, vec8(b"\x00"))
    body = b"\x03\x03" + (random or os.urandom(32))
    body += vec8(os.urandom(32) if session_id is None else session_id)
    body += vec16(b"".join(u16(x) for x in suites))
    body += vec8(compression)
    body += vec16(exts)
    return body


def parse_extensions(body, pos):
    exts = {}
    end = pos + 2 + struct.unpack("!H", body[pos:pos + 2])[0]
    pos += 2
    while pos < end:
        ext_type, ext_len = struct.unpack("!HH", body[pos:pos + 4])
        exts[ext_type] = body[pos + 4:pos + 4 + ext_len]
        pos += 4 + ext_len
    return exts


def parse_client_hello(body):
    """Returns (session_id, suites, {ext_type: ext_body}); raises on junk."""
    pos = 2 + 32
    sid_len = body[pos]
    session_id = body[pos + 1:pos + 1 + sid_len]
    pos += 1 + sid_len
    suites_len = struct.unpack("!H", body[pos:pos + 2])[0]
    suites = [struct.unpack("!H", body[i:i + 2])[0]
              for i in range(pos + 2, pos + 2 + suites_len, 2)]
    pos += 2 + suites_len
    pos += 1 + body[pos]
    return session_id, suites, parse_extensions(body, pos)


def parse_server_hello(body):
    """Returns (random, {ext_type: ext_body}) of a ServerHello/HRR body."""
    random = body[2:34]
    pos = 34 + 1 + body[34]
    pos += 2 + 1
    return random, parse_extensions(body, pos)


def supported_groups(ext):
    return [struct.unpack("!H", ext[i:i + 2])[0]
            for i in range(2, len(ext) - 1, 2)]


def key_share_groups(ext):
    """Groups of the shares in a ClientHello key_share extension."""
    groups = []
    pos = 2
    while pos + 4 <= len(ext):
        group, length = struct.unpack("!HH", ext[pos:pos + 4])
        groups.append(group)
        pos += 4 + length
    return groups


def share_value(group):
    """Random bytes the size of a public value of group (an uncompressed
    point for the NIST curves, almost surely not on the curve)."""
    size = SHARE_SIZES.get(group, 32)
    if group == GROUP_X25519:
        return os.urandom(size)
    return b"\x04" + os.urandom(size - 1)


def server_hello(session_id, exts, random=None, suite=0x1301):
    if random is None:
        random = os.urandom(32)
    body = b"\x03\x03" + random + vec8(session_id) + u16(suite) + b"\x00"
    body += vec16(exts)
    return handshake(2, body)


class RecordReader:
    """Splits a byte stream into records; keeps partial ones for later."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            length = struct.unpack("!H", self.buf[3:5])[0]
            if len(self.buf) < 5 + length:
                break
            out.append(self.buf[:5 + length])
            self.buf = self.buf[5 + length:]
        return out


def describe(rec, hs_state):
    """One line about a record; hs_state reassembles plaintext handshakes."""
    ctype = rec[0]
    body = rec[5:]
    name = CONTENT_TYPE_NAMES.get(ctype, "type%d" % ctype)
    if ctype == CT_ALERT and len(body) == 2:
        return "alert level=%d desc=%d (%s)" % (
            body[0], body[1], ALERT_NAMES.get(body[1], "?"))
    if ctype == CT_HANDSHAKE:
        hs_state["buf"] += body
        msgs = []
        buf = hs_state["buf"]
        while len(buf) >= 4:
            length = struct.unpack("!I", b"\x00" + buf[1:4])[0]
            if len(buf) < 4 + length:
                break
            msg_name = HANDSHAKE_NAMES.get(buf[0], "type%d" % buf[0])
            if buf[0] == 1 and parse_client_hello(buf[4:4 + length])[2].get(
                    EXT_COOKIE) is not None:
                msg_name += "+cookie"
            if buf[0] == 2 and buf[6:38] == HRR_RANDOM:
                msg_name += "(HRR)"
                _, hrr_exts = parse_server_hello(buf[4:4 + length])
                if EXT_COOKIE in hrr_exts:
                    msg_name += "+cookie"
            msgs.append(msg_name)
            buf = buf[4 + length:]
        hs_state["buf"] = buf
        return "handshake " + " ".join(msgs) if msgs else "handshake (partial)"
    return "%s len=%d" % (name, len(body))


def recv_exact(sock, n, deadline):
    data = b""
    while len(data) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_record(sock, deadline):
    head = recv_exact(sock, 5, deadline)
    if len(head) < 5:
        return None
    length = struct.unpack("!H", head[3:5])[0]
    return head + recv_exact(sock, length, deadline)


def read_handshake_message(sock, deadline):
    """First handshake message, possibly spread over several records."""
    buf = b""
    while True:
        rec = read_record(sock, deadline)
        if rec is None:
            return None
        if rec[0] != CT_HANDSHAKE:
            continue
        buf += rec[5:]
        if len(buf) >= 4:
            length = struct.unpack("!I", b"\x00" + buf[1:4])[0]
            if len(buf) >= 4 + length:
                return buf[:4 + length]


def report_until_eof(sock, direction, deadline):
    """Logs every record the victim sends until it closes or time runs out."""
    reader = RecordReader()
    hs_state = {"buf": b""}
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            log("timeout %s" % direction)
            return
        except ConnectionResetError:
            log("reset %s" % direction)
            return
        if not data:
            if reader.buf:
                log("partial %s %d bytes" % (direction, len(reader.buf)))
            log("eof %s" % direction)
            return
        for rec in reader.feed(data):
            log("record %s %s" % (direction, describe(rec, hs_state)))


def listen():
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("listening on port %d" % lsock.getsockname()[1], file=sys.stderr,
          flush=True)
    lsock.settimeout(TIMEOUT)
    conn, _ = lsock.accept()
    lsock.close()
    return conn


# ---------------------------------------------------------------- proxy

class Tamper:
    """Decides what happens to each record in one direction."""

    def __init__(self, action, index):
        self.action = action
        self.index = index
        self.seen = 0
        self.done = False

    def apply(self, rec):
        """Returns (bytes to forward, stop forwarding this direction)."""
        if self.action is None or self.done or rec[0] != CT_APPLICATION_DATA:
            return rec, False
        self.seen += 1
        if self.seen != self.index:
            return rec, False
        self.done = True
        if self.action == "flip":
            return rec[:-1] + u8(rec[-1] ^ 0x01), False
        if self.action == "truncate":
            return rec[:5 + (len(rec) - 5) // 2], True
        if self.action == "oversize":
            return record(CT_APPLICATION_DATA,
                          os.urandom(MAX_CIPHERTEXT + 1)), True
        raise ValueError(self.action)


def fragment(rec, size):
    """The handshake bytes of one plaintext record spread over records of
    at most size bytes each (RFC 8446 5.1 allows any split)."""
    body = rec[5:]
    return b"".join(record(rec[0], body[i:i + size])
                    for i in range(0, len(body), size))


def send_reshaped(flow, data):
    """Forwards data, the first bytes of a direction one per send() when
    --dribble asks, so the receiver sees every partial-record state."""
    while data and flow["dribble"] > 0:
        flow["to"].sendall(data[:1])
        data = data[1:]
        flow["dribble"] -= 1
    if data:
        flow["to"].sendall(data)


def run_proxy(args):
    down = listen()
    up = socket.create_connection(("127.0.0.1", args.upstream), TIMEOUT)
    if args.dribble:
        for sock in (down, up):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # c2s: from whoever connected to us (the client) to the upstream server.
    flows = {
        down: {"dir": "c2s", "to": up, "reader": RecordReader(),
               "hs": {"buf": b""}, "open": True,
               "dribble": args.dribble,
               "tamper": Tamper(args.action if args.dir == "c2s" else None,
                                args.index)},
        up: {"dir": "s2c", "to": down, "reader": RecordReader(),
             "hs": {"buf": b""}, "open": True,
             "dribble": args.dribble,
             "tamper": Tamper(args.action if args.dir == "s2c" else None,
                              args.index)},
    }
    deadline = time.monotonic() + TIMEOUT
    while any(f["open"] for f in flows.values()):
        left = deadline - time.monotonic()
        if left <= 0:
            log("timeout proxy")
            break
        readable, _, _ = select.select(
            [s for s, f in flows.items() if f["open"]], [], [], left)
        for sock in readable:
            flow = flows[sock]
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                log("eof %s" % flow["dir"])
                flow["open"] = False
                try:
                    flow["to"].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            for rec in flow["reader"].feed(data):
                # Log everything once tampered: what follows is the
                # victim's reaction.
                if args.observe or any(f["tamper"].done
                                       for f in flows.values()):
                    log("record %s %s" % (flow["dir"],
                                          describe(rec, flow["hs"])))
                out, stop = flow["tamper"].apply(rec)
                if out is not rec:
                    log("tampered %s %s" % (flow["dir"], args.action))
                elif args.fragment and rec[0] == CT_HANDSHAKE:
                    out = fragment(rec, args.fragment)
                try:
                    send_reshaped(flow, out)
                except OSError:
                    pass
                if stop:
                    # Nothing more goes this way: the victim sees the bad
                    # record, then EOF (truncate) or just the bad record.
                    flow["open"] = False
                    if args.action == "truncate":
                        flow["to"].shutdown(socket.SHUT_WR)
                    break
    down.close()
    up.close()
    return 0


# ---------------------------------------------------------------- fake server

def run_server(args):
    conn = listen()
    deadline = time.monotonic() + TIMEOUT
    msg = read_handshake_message(conn, deadline)
    if msg is None or msg[0] != 1:
        log("error no ClientHello")
        return 1
    session_id, suites, exts = parse_client_hello(msg[4:])
    shared = key_share_groups(exts.get(EXT_KEY_SHARE, b"\x00\x00"))
    log("clienthello shares=%s" % ",".join("%04x" % g for g in shared))
    versions = extension(EXT_SUPPORTED_VERSIONS, u16(0x0304))
    if args.scenario.startswith("sh-"):
        return bad_server_hello(args, conn, deadline, session_id, suites,
                                exts, shared)

    if args.scenario == "cert-first":
        # A Certificate where the ServerHello must be.
        out = record(CT_HANDSHAKE, handshake(11, b"\x00" + vec24(b"")))
    elif args.scenario == "oversize-plain":
        out = record(CT_HANDSHAKE, os.urandom(MAX_PLAINTEXT + 1))
    elif args.scenario == "oversize-cipher":
        share = extension(EXT_KEY_SHARE,
                          u16(GROUP_X25519) + vec16(os.urandom(32)))
        out = record(CT_HANDSHAKE,
                     server_hello(session_id, versions + share))
        out += record(CT_CHANGE_CIPHER_SPEC, b"\x01")
        out += record(CT_APPLICATION_DATA, os.urandom(MAX_CIPHERTEXT + 1))
    elif args.scenario == "bad-ccs":
        # The only change_cipher_spec a TLS 1.3 peer may drop is the single
        # byte 0x01 (RFC 8446 5); 0x02 is unexpected_message.
        share = extension(EXT_KEY_SHARE,
                          u16(GROUP_X25519) + vec16(os.urandom(32)))
        out = record(CT_HANDSHAKE,
                     server_hello(session_id, versions + share))
        out += record(CT_CHANGE_CIPHER_SPEC, b"\x02")
    elif args.scenario == "truncate":
        # The header promises more than ever comes.
        out = record(CT_HANDSHAKE, b"\x02\x00\x00\x50" + os.urandom(20),
                     length=0x54)
    elif args.scenario in ("hrr-twice", "hrr-offered-group", "hrr-cookie"):
        return hrr_scenario(args, conn, deadline, session_id, shared,
                            versions)
    else:
        log("error unknown scenario %s" % args.scenario)
        return 2
    conn.sendall(out)
    if args.scenario == "truncate":
        conn.shutdown(socket.SHUT_WR)
    report_until_eof(conn, "c2s", deadline)
    conn.close()
    return 0


def bad_server_hello(args, conn, deadline, session_id, suites, exts,
                     shared):
    """A ServerHello wrong in exactly one way the client must catch
    (RFC 8446 4.1.3, 4.2.1, 4.2.8, 7.4.2). All in the clear.

    sh-suite-not-offered   a cipher suite the client did not offer
    sh-session-id-mismatch legacy_session_id_echo is not the client's
    sh-group-not-shared    a key share for a group the client sent no
                           share for (and no HRR came first)
    sh-tls12-version       supported_versions selects TLS 1.2
    sh-zero-x25519         an all-zero X25519 share (shared secret zero)
    sh-bad-point           a P-256/P-384 share that is not on the curve
    """
    scenario = args.scenario
    suite = suites[0]
    echo = session_id
    version = 0x0304
    group = shared[0] if shared else GROUP_X25519
    pub = share_value(group)
    if scenario == "sh-suite-not-offered":
        suite = next((c for c in range(0x1301, 0x1306) if c not in suites),
                     0x00ff)
    elif scenario == "sh-session-id-mismatch":
        echo = os.urandom(32)
    elif scenario == "sh-group-not-shared":
        offered = supported_groups(exts.get(EXT_SUPPORTED_GROUPS, b"\x00\x00"))
        group = next((g for g in offered if g not in shared), GROUP_SECP521R1)
        pub = share_value(group)
    elif scenario == "sh-tls12-version":
        version = 0x0303
    elif scenario == "sh-zero-x25519":
        if GROUP_X25519 not in shared:
            log("error client sent no X25519 share")
            return 1
        group, pub = GROUP_X25519, bytes(32)
    elif scenario == "sh-bad-point":
        # share_value() gave a random, off-curve point for a NIST group.
        if group not in (GROUP_SECP256R1, GROUP_SECP384R1):
            log("error client's first share is not on a NIST curve")
            return 1
    else:
        log("error unknown scenario %s" % scenario)
        return 2
    ext = extension(EXT_SUPPORTED_VERSIONS, u16(version))
    ext += extension(EXT_KEY_SHARE, u16(group) + vec16(pub))
    conn.sendall(record(CT_HANDSHAKE, server_hello(echo, ext, suite=suite)))
    report_until_eof(conn, "c2s", deadline)
    conn.close()
    return 0


def hrr_scenario(args, conn, deadline, session_id, shared, versions):
    """HelloRetryRequest misuse, all in the clear so the alert is readable.

    hrr-offered-group asks for a group the client already sent a share for
    (RFC 8446 4.2.8: illegal_parameter); hrr-twice answers the second
    ClientHello with another HRR (4.1.4: unexpected_message); hrr-cookie
    sends a cookie and reports whether the second ClientHello echoes it
    (4.2.2), then hangs up.
    """
    if args.scenario == "hrr-offered-group":
        if not shared:
            log("error client sent no key share")
            return 1
        group = shared[0]
    else:
        group = GROUP_NAMES[args.group]
        if group in shared:
            log("error client already shares the HRR group; use --group")
            return 1
    hrr_exts = versions + extension(EXT_KEY_SHARE, u16(group))
    cookie = os.urandom(40)
    if args.scenario == "hrr-cookie":
        hrr_exts += extension(EXT_COOKIE, vec16(cookie))
    hrr = server_hello(session_id, hrr_exts, random=HRR_RANDOM)
    conn.sendall(record(CT_HANDSHAKE, hrr))
    if args.scenario == "hrr-cookie":
        msg = read_handshake_message(conn, deadline)
        if msg is None or msg[0] != 1:
            log("error no second ClientHello")
            return 1
        echoed = parse_client_hello(msg[4:])[2].get(EXT_COOKIE)
        log("cookie %s" % ("echoed" if echoed == vec16(cookie) else
                           "missing" if echoed is None else "altered"))
        conn.close()
        return 0
    if args.scenario == "hrr-twice":
        msg = read_handshake_message(conn, deadline)
        if msg is None or msg[0] != 1:
            log("error no second ClientHello")
            report_until_eof(conn, "c2s", deadline)
            return 1
        log("clienthello2")
        conn.sendall(record(CT_HANDSHAKE, hrr))
    report_until_eof(conn, "c2s", deadline)
    conn.close()
    return 0


# ---------------------------------------------------------------- fake client

def run_client(args):
    deadline = time.monotonic() + TIMEOUT
    conn = socket.create_connection(("127.0.0.1", args.port), TIMEOUT)
    scenario = args.scenario
    if scenario == "garbage-hello":
        # session_id claims 255 bytes of a 40-byte body.
        body = b"\x03\x03" + os.urandom(32) + b"\xff" + os.urandom(5)
        out = record(CT_HANDSHAKE, handshake(1, body))
    elif scenario == "compression":
        out = record(CT_HANDSHAKE,
                     handshake(1, client_hello(compression=b"\x01\x00")))
    elif scenario == "no-supported-versions":
        out = record(CT_HANDSHAKE, handshake(1, client_hello(
            versions=False, suites=(0xc02b, 0xc02f, 0x009c))))
    elif scenario == "finished-first":
        out = record(CT_HANDSHAKE, handshake(20, os.urandom(32)))
    elif scenario == "oversize-plain":
        out = record(CT_HANDSHAKE, os.urandom(MAX_PLAINTEXT + 1))
    elif scenario == "truncate":
        full = record(CT_HANDSHAKE, handshake(1, client_hello()))
        out = full[:len(full) // 2]
    elif scenario == "no-key-share":
        out = record(CT_HANDSHAKE, handshake(1, client_hello(key_share=False)))
    elif scenario == "no-sigalgs":
        out = record(CT_HANDSHAKE, handshake(1, client_hello(sigalgs=False)))
    elif scenario == "zero-x25519":
        out = record(CT_HANDSHAKE, handshake(1, client_hello(
            shares=[(GROUP_X25519, bytes(32))])))
    elif scenario == "bad-p256-share":
        # 0x04 || X || Y with random X, Y: not a point on the curve.
        out = record(CT_HANDSHAKE, handshake(1, client_hello(
            groups=[GROUP_SECP256R1],
            shares=[(GROUP_SECP256R1, share_value(GROUP_SECP256R1))])))
    elif scenario == "ccs-first":
        # RFC 8446 5: a change_cipher_spec before the first ClientHello is
        # an unexpected record, not one to drop.
        out = record(CT_CHANGE_CIPHER_SPEC, b"\x01")
        out += record(CT_HANDSHAKE, handshake(1, client_hello()))
    elif scenario == "oversize-cipher":
        return oversize_after_hello(conn, deadline)
    elif scenario == "hrr-wrong-share":
        return hrr_wrong_share(conn, deadline)
    else:
        log("error unknown scenario %s" % scenario)
        return 2
    conn.sendall(out)
    if scenario == "truncate":
        conn.shutdown(socket.SHUT_WR)
    report_until_eof(conn, "s2c", deadline)
    conn.close()
    return 0


def hrr_wrong_share(conn, deadline):
    """No key share at first, so the server must send HelloRetryRequest;
    the second ClientHello then shares a group other than the one the HRR
    asked for (RFC 8446 4.2.8: illegal_parameter). A cookie in the HRR is
    echoed, so that is not what the server trips over."""
    groups = [GROUP_X25519, GROUP_SECP256R1, GROUP_SECP384R1]
    random = os.urandom(32)
    session_id = os.urandom(32)
    conn.sendall(record(CT_HANDSHAKE, handshake(1, client_hello(
        groups=groups, shares=[], random=random, session_id=session_id))))
    msg = read_handshake_message(conn, deadline)
    if msg is None or msg[0] != 2:
        log("error no HelloRetryRequest")
        report_until_eof(conn, "s2c", deadline)
        return 1
    hrr_random, exts = parse_server_hello(msg[4:])
    if hrr_random != HRR_RANDOM or EXT_KEY_SHARE not in exts:
        log("error ServerHello is not a HelloRetryRequest with a group")
        report_until_eof(conn, "s2c", deadline)
        return 1
    asked = struct.unpack("!H", exts[EXT_KEY_SHARE][:2])[0]
    other = next(g for g in groups if g != asked)
    log("hrr group=%04x, answering with a %04x share" % (asked, other))
    pub = share_value(other)
    conn.sendall(record(CT_CHANGE_CIPHER_SPEC, b"\x01") +
                 record(CT_HANDSHAKE, handshake(1, client_hello(
                     groups=groups, shares=[(other, pub)], random=random,
                     session_id=session_id, cookie=exts.get(EXT_COOKIE)))))
    report_until_eof(conn, "s2c", deadline)
    conn.close()
    return 0


def oversize_after_hello(conn, deadline):
    """Valid ClientHello, then a protected record one byte too long."""
    conn.sendall(record(CT_HANDSHAKE, handshake(1, client_hello())))
    # Wait for the server's ServerHello so it has switched to handshake
    # keys and will judge the next record as protected.
    rec = read_record(conn, deadline)
    if rec is None:
        log("eof s2c")
        return 1
    log("record s2c %s" % describe(rec, {"buf": b""}))
    conn.sendall(record(CT_CHANGE_CIPHER_SPEC, b"\x01") +
                 record(CT_APPLICATION_DATA, os.urandom(MAX_CIPHERTEXT + 1)))
    report_until_eof(conn, "s2c", deadline)
    conn.close()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="role", required=True)

    proxy = sub.add_parser("proxy")
    proxy.add_argument("upstream", type=int)
    proxy.add_argument("--observe", action="store_true",
                       help="log every record in both directions")
    proxy.add_argument("--tamper", dest="action",
                       choices=("flip", "truncate", "oversize"),
                       help="what to do to the Nth protected record")
    proxy.add_argument("--dir", choices=("c2s", "s2c"), default="s2c",
                       help="direction of the record to tamper with")
    proxy.add_argument("--index", type=int, default=1,
                       help="which protected record (1 = first)")
    proxy.add_argument("--fragment", type=int, default=0, metavar="N",
                       help="split plaintext handshake records into "
                       "records of at most N bytes, both ways")
    proxy.add_argument("--dribble", type=int, default=0, metavar="N",
                       help="forward the first N bytes of each direction "
                       "one byte per send")

    server = sub.add_parser("server")
    server.add_argument("scenario", choices=(
        "cert-first", "oversize-plain", "oversize-cipher", "truncate",
        "bad-ccs", "hrr-twice", "hrr-offered-group", "hrr-cookie",
        "sh-suite-not-offered",
        "sh-session-id-mismatch", "sh-group-not-shared", "sh-tls12-version",
        "sh-zero-x25519", "sh-bad-point"))
    server.add_argument("--group", default="secp384r1",
                        choices=sorted(GROUP_NAMES))

    client = sub.add_parser("client")
    client.add_argument("port", type=int)
    client.add_argument("scenario", choices=(
        "garbage-hello", "compression", "no-supported-versions",
        "finished-first", "oversize-plain", "oversize-cipher", "truncate",
        "no-key-share", "no-sigalgs", "zero-x25519", "bad-p256-share",
        "hrr-wrong-share", "ccs-first"))

    args = parser.parse_args()
    try:
        if args.role == "proxy":
            return run_proxy(args)
        if args.role == "server":
            return run_server(args)
        return run_client(args)
    except (socket.timeout, ConnectionError) as err:
        log("error %s" % err)
        return 1


if __name__ == "__main__":
    sys.exit(main())
