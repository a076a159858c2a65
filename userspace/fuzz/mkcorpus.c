// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpora from real, deterministic in-memory handshakes
 * of the engine with itself: mkcorpus <corpus dir>. Run by
 * `make fuzz-corpus`; the output is committed under userspace/fuzz/corpus.
 * libcrypto's generator is fixed first (fuzz_random.c), so the RSA
 * handshakes and the HelloRetryRequest cookie come out the same on every
 * run too.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static const char *root;

static int write_seed(const char *target, const char *name, uint8_t prefix_byte, int prefix,
		      const uint8_t *data, size_t len)
{
	char path[1024];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	ok = (!prefix || fputc(prefix_byte, f) != EOF) && fwrite(data, 1, len, f) == len;
	return fclose(f) || !ok ? -1 : 0;
}

/* Length of the handshake message at @msgs (all @len bytes if shorter). */
static size_t msg_len(const uint8_t *msgs, size_t len)
{
	size_t n;

	if (len < 4)
		return len;
	n = 4 + ((size_t)msgs[1] << 16 | (size_t)msgs[2] << 8 | msgs[3]);
	return n < len ? n : len;
}

static size_t first_msg_len(const struct ktls_buf *msgs)
{
	return msg_len(msgs->base, msgs->off);
}

/* The plaintext first record of @wire, re-framed into @n records. */
static int reframe(const struct ktls_buf *wire, size_t n, struct ktls_buf *out)
{
	size_t len, piece, off;
	uint8_t hdr[5];

	if (wire->off < 5)
		return -1;
	len = (size_t)wire->base[3] << 8 | wire->base[4];
	if (5 + len > wire->off)
		return -1;
	piece = len / n + 1;
	for (off = 0; off < len; off += piece) {
		if (piece > len - off)
			piece = len - off;
		hdr[0] = wire->base[0];
		hdr[1] = wire->base[1];
		hdr[2] = wire->base[2];
		hdr[3] = (uint8_t)(piece >> 8);
		hdr[4] = (uint8_t)piece;
		if (ktls_buf_push(out, hdr, 5) || ktls_buf_push(out, wire->base + 5 + off, piece))
			return -1;
	}
	return 0;
}

/* Appends a post_handshake record: type, 16-bit length, plaintext. */
static void ph_record(struct ktls_buf *b, uint8_t type, const uint8_t *data, size_t len)
{
	uint8_t hdr[3] = { type, (uint8_t)(len >> 8), (uint8_t)len };

	ktls_buf_push(b, hdr, 3);
	ktls_buf_push(b, data, len);
}

static int post_handshake_seeds(void)
{
	static const uint8_t nst[] = {
		KTLS_HS_NEW_SESSION_TICKET, 0, 0, 21,
		0, 0, 0x1c, 0x20,		/* lifetime 7200 */
		1, 2, 3, 4,			/* age_add */
		2, 0, 1,			/* nonce */
		0, 4, 't', 'k', 't', '1',	/* ticket */
		0, 4, 0, 42, 0, 0,		/* early_data, empty */
	};
	static const uint8_t ku_req[] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, 1 };
	static const uint8_t ku[] = { KTLS_HS_KEY_UPDATE, 0, 0, 1, 0 };
	static const uint8_t close_notify[] = { 1, 0 };
	static const uint8_t hello[] = "hello, post-handshake\n";
	struct ktls_buf b;
	int ret = 0;

	ktls_buf_init(&b, NULL, 0);
	ph_record(&b, KTLS_CT_HANDSHAKE, nst, sizeof(nst));
	ph_record(&b, KTLS_CT_APPLICATION_DATA, hello, sizeof(hello) - 1);
	ret |= write_seed("post_handshake", "nst-data", 0, 0, b.base, b.off);
	b.off = 0;
	ph_record(&b, KTLS_CT_HANDSHAKE, ku_req, sizeof(ku_req));
	ph_record(&b, KTLS_CT_APPLICATION_DATA, hello, sizeof(hello) - 1);
	ph_record(&b, KTLS_CT_HANDSHAKE, ku, sizeof(ku));
	ph_record(&b, KTLS_CT_APPLICATION_DATA, hello, sizeof(hello) - 1);
	ph_record(&b, KTLS_CT_ALERT, close_notify, sizeof(close_notify));
	ret |= write_seed("post_handshake", "keyupdate-close", 0, 0, b.base, b.off);
	b.off = 0;
	/* A NewSessionTicket split across two records. */
	ph_record(&b, KTLS_CT_HANDSHAKE, nst, 10);
	ph_record(&b, KTLS_CT_HANDSHAKE, nst + 10, sizeof(nst) - 10);
	ret |= write_seed("post_handshake", "nst-split", 0, 0, b.base, b.off);
	ktls_buf_dispose(&b);
	return ret;
}

static int cert_chain_seeds(struct ktls_conn *client)
{
	struct ktls_buf b;
	const uint8_t *der;
	size_t i, len;
	int ret;

	ktls_buf_init(&b, NULL, 0);
	for (i = 0; !ktls_get_peer_cert(client, i, &der, &len); i++) {
		ktls_buf_push_u16(&b, (uint16_t)len);
		ktls_buf_push(&b, der, len);
	}
	ret = write_seed("cert_chain", "server-chain", 0, 0, b.base, b.off);
	ktls_buf_dispose(&b);
	return ret;
}

static int handshake_seeds(const char *name, unsigned int sflags, unsigned int cflags)
{
	struct fuzz_capture cap;
	struct ktls_conn *client = NULL;
	struct ktls_buf b;
	char seed[128];
	size_t ch_len;
	int ret;

	memset(&cap, 0, sizeof(cap));
	ktls_buf_init(&b, NULL, 0);
	ret = fuzz_handshake(sflags, cflags, &cap, &client, NULL);
	if (ret)
		goto out;
	snprintf(seed, sizeof(seed), "%s", name);
	ret |= write_seed("client_flight", seed, 0, 1, cap.server_msgs.base, cap.server_msgs.off);
	snprintf(seed, sizeof(seed), "%s-frag", name);
	ret |= write_seed("client_flight", seed, 0x9f, 1, cap.server_msgs.base,
			  cap.server_msgs.off);
	ret |= write_seed("server_flight", name, 0, 1, cap.client_msgs.base, cap.client_msgs.off);
	snprintf(seed, sizeof(seed), "%s-frag", name);
	ret |= write_seed("server_flight", seed, 0xbf, 1, cap.client_msgs.base,
			  cap.client_msgs.off);
	ch_len = first_msg_len(&cap.client_msgs);
	snprintf(seed, sizeof(seed), "%s-ch", name);
	ret |= write_seed("server_flight", seed, 0, 1, cap.client_msgs.base, ch_len);
	ret |= write_seed("server_first_flight", name, 0, 1, cap.client_wire.base,
			  cap.client_wire.off);
	snprintf(seed, sizeof(seed), "%s-trickle", name);
	ret |= write_seed("server_first_flight", seed, 0x86, 1, cap.client_wire.base,
			  cap.client_wire.off);
	if (!reframe(&cap.client_wire, 4, &b)) {
		snprintf(seed, sizeof(seed), "%s-4records", name);
		ret |= write_seed("server_first_flight", seed, 0, 1, b.base, b.off);
	}
	if (!sflags && !cflags)
		ret |= cert_chain_seeds(client);
out:
	ktls_conn_free(client);
	fuzz_capture_dispose(&cap);
	ktls_buf_dispose(&b);
	if (ret)
		fprintf(stderr, "mkcorpus: %s failed\n", name);
	return ret;
}

/* ---- TLS 1.2: items of fuzz_feed_items() ---- */

static const uint8_t ccs_item[] = { KTLS_CT_CHANGE_CIPHER_SPEC, 0, 1, 1 };

static int push_item(struct ktls_buf *b, uint8_t type, const uint8_t *data, size_t len)
{
	if (ktls_buf_push_u8(b, type))
		return -1;
	if (type != KTLS_CT_HANDSHAKE && ktls_buf_push_u16(b, (uint16_t)len))
		return -1;
	return ktls_buf_push(b, data, len) ? -1 : 0;
}

/* How flight_items() lays one side's messages out. */
enum flight_shape {
	FLIGHT_MESSAGES,	/* an item each, ChangeCipherSpec before Finished */
	FLIGHT_COALESCED,	/* what precedes Finished in one record, as peers send it */
	FLIGHT_NO_CCS,		/* Finished where ChangeCipherSpec belongs */
	FLIGHT_SPLIT_AT_CCS,	/* Finished's header before ChangeCipherSpec, the rest after */
};

static int finished_items(const uint8_t *fin, size_t len, enum flight_shape shape,
			  struct ktls_buf *out)
{
	switch (shape) {
	case FLIGHT_NO_CCS:
		return push_item(out, KTLS_CT_HANDSHAKE, fin, len);
	case FLIGHT_SPLIT_AT_CCS:
		/* A message may not span the key change: unexpected_message. */
		if (len < 4 || push_item(out, FUZZ_RAW_HANDSHAKE, fin, 4) ||
		    ktls_buf_push(out, ccs_item, sizeof(ccs_item)))
			return -1;
		return push_item(out, FUZZ_RAW_HANDSHAKE, fin + 4, len - 4);
	default:
		if (ktls_buf_push(out, ccs_item, sizeof(ccs_item)))
			return -1;
		return push_item(out, KTLS_CT_HANDSHAKE, fin, len);
	}
}

/* One side's handshake messages as items of fuzz_feed_items(). */
static int flight_items(const struct ktls_buf *msgs, enum flight_shape shape,
			struct ktls_buf *out)
{
	const uint8_t *p = msgs->base, *raw = NULL;
	size_t left = msgs->off, n;
	int ret = 0;

	while (left && !ret) {
		n = msg_len(p, left);
		if (p[0] == KTLS_HS_FINISHED) {
			if (raw)
				ret = push_item(out, FUZZ_RAW_HANDSHAKE, raw, (size_t)(p - raw));
			raw = NULL;
			if (!ret)
				ret = finished_items(p, n, shape, out);
		} else if (shape == FLIGHT_COALESCED) {
			if (!raw)
				raw = p;
		} else {
			ret = push_item(out, KTLS_CT_HANDSHAKE, p, n);
		}
		p += n;
		left -= n;
	}
	if (!ret && raw)
		ret = push_item(out, FUZZ_RAW_HANDSHAKE, raw, (size_t)(p - raw));
	return ret;
}

/* @name-no-ccs and @name-split-ccs for @target: ChangeCipherSpec misplaced. */
static int ccs_seeds(const char *target, const char *name, const struct ktls_buf *msgs)
{
	char seed[128];
	struct ktls_buf b;
	int ret = 0;

	ktls_buf_init(&b, NULL, 0);
	ret |= flight_items(msgs, FLIGHT_NO_CCS, &b);
	snprintf(seed, sizeof(seed), "%s-no-ccs", name);
	ret |= write_seed(target, seed, 0, 1, b.base, b.off);
	b.off = 0;
	ret |= flight_items(msgs, FLIGHT_SPLIT_AT_CCS, &b);
	snprintf(seed, sizeof(seed), "%s-split-ccs", name);
	ret |= write_seed(target, seed, 0, 1, b.base, b.off);
	ktls_buf_dispose(&b);
	return ret;
}

/*
 * What an established peer may be sent next: data, then an attempt to
 * renegotiate (@hello: a HelloRequest or a ClientHello), which TLS 1.2
 * refuses.
 */
static int post_items(struct ktls_buf *b, const uint8_t *hello, size_t hello_len)
{
	static const uint8_t data[] = "hello, TLS 1.2\n";

	if (push_item(b, KTLS_CT_APPLICATION_DATA, data, sizeof(data) - 1))
		return -1;
	return push_item(b, KTLS_CT_HANDSHAKE, hello, hello_len);
}

/* @ch without extension @type, lengths fixed up: a hello the engine never sends. */
static int drop_extension(const uint8_t *ch, size_t len, uint16_t type, struct ktls_buf *out)
{
	struct ktls_reader r, block, exts;
	const uint8_t *fixed, *ext;
	size_t msg, list, prefix;
	uint16_t ext_type;

	ktls_reader_init(&r, ch + 4, len - 4);
	if (ktls_read_bytes(&r, 2 + 32, &fixed) || ktls_read_block(&r, 1, 0, &block) ||
	    ktls_read_block(&r, 2, 0, &block) || ktls_read_block(&r, 1, 0, &block) ||
	    ktls_read_block(&r, 2, 0, &exts))
		return -1;
	prefix = (size_t)(exts.pos - 2 - fixed);
	if (ktls_buf_push_u8(out, ch[0]) || ktls_buf_open_block(out, 3, &msg) ||
	    ktls_buf_push(out, fixed, prefix) || ktls_buf_open_block(out, 2, &list))
		return -1;
	while (ktls_reader_left(&exts)) {
		ext = exts.pos;
		if (ktls_read_u16(&exts, &ext_type) || ktls_read_block(&exts, 2, 0, &block))
			return -1;
		if (ext_type != type && ktls_buf_push(out, ext, (size_t)(exts.pos - ext)))
			return -1;
	}
	if (ktls_buf_close_block(out, 2, list) || ktls_buf_close_block(out, 3, msg))
		return -1;
	return 0;
}

/*
 * A TLS 1.2 (or 1.2-capable) handshake, recorded for each target whose
 * configuration is the one the scenario gives that side: the recorded
 * peer's messages then fit what the target's connection sends.
 */
struct scenario12 {
	const char *name;
	unsigned int server_flags;
	const char *server_ciphers;	/* NULL: what the flags give */
	const char *server_groups;
	unsigned int client_flags;
	const char *client_ciphers;
	const char *client_groups;
	int ccs_misplaced;	/* also the ChangeCipherSpec seeds (ccs_seeds()) */
};

#define RSA_KX	"TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256"

static const struct scenario12 scenarios12[] = {
	/* client12_flight: the server varies */
	{ .name = "tls12", .server_flags = FUZZ_IDENTITY | FUZZ_TLS12_ONLY,
	  .client_flags = FUZZ_CLIENT12_FLAGS },
	{ .name = "tls12-client-auth", .server_flags = FUZZ_SERVER12_FLAGS,
	  .client_flags = FUZZ_CLIENT12_FLAGS, .ccs_misplaced = 1 },
	{ .name = "tls12-rsa-kx", .server_flags = FUZZ_IDENTITY | FUZZ_TLS12_ONLY | FUZZ_RSA,
	  .server_ciphers = RSA_KX, .client_flags = FUZZ_CLIENT12_FLAGS },
	{ .name = "tls12-ecdhe-rsa", .server_flags = FUZZ_IDENTITY | FUZZ_TLS12_ONLY | FUZZ_RSA,
	  .server_ciphers = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	  .server_groups = "secp256r1", .client_flags = FUZZ_CLIENT12_FLAGS },
	{ .name = "tls12-chacha", .server_flags = FUZZ_IDENTITY | FUZZ_TLS12_ONLY,
	  .server_ciphers = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	  .server_groups = "secp384r1", .client_flags = FUZZ_CLIENT12_FLAGS },
	/* server12_flight: the client varies */
	{ .name = "tls12-no-cert", .server_flags = FUZZ_SERVER12_FLAGS,
	  .client_flags = FUZZ_TLS12 },
	{ .name = "tls12-rsa-kx-client-auth", .server_flags = FUZZ_SERVER12_FLAGS,
	  .client_flags = FUZZ_IDENTITY | FUZZ_TLS12 | FUZZ_RSA, .client_ciphers = RSA_KX },
	{ .name = "tls12-ecdhe-rsa-sha384", .server_flags = FUZZ_SERVER12_FLAGS,
	  .client_flags = FUZZ_TLS12 | FUZZ_RSA,
	  .client_ciphers = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
	{ .name = "tls12-chacha-p256", .server_flags = FUZZ_SERVER12_FLAGS,
	  .client_flags = FUZZ_TLS12,
	  .client_ciphers = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	  .client_groups = "secp256r1" },
	/* server_first_flight: 1.2-only hellos, RSA key transport, both versions */
	{ .name = "tls12-only", .server_flags = FUZZ_SERVER_FIRST_FLAGS,
	  .client_flags = FUZZ_TLS12_ONLY },
	{ .name = "tls12-only-rsa-kx", .server_flags = FUZZ_SERVER_FIRST_FLAGS,
	  .client_flags = FUZZ_TLS12_ONLY | FUZZ_RSA, .client_ciphers = RSA_KX },
	{ .name = "tls12-and-13", .server_flags = FUZZ_SERVER_FIRST_FLAGS,
	  .client_flags = FUZZ_TLS12 },
};

static struct ktls_config *scenario_config(enum ktls_role role, unsigned int flags,
					   const char *ciphers, const char *groups)
{
	struct ktls_config *cfg = fuzz_config(role, flags);

	if (cfg && ((ciphers && ktls_config_set_ciphers(cfg, ciphers)) ||
		    (groups && ktls_config_set_groups(cfg, groups)))) {
		fprintf(stderr, "mkcorpus: %s\n", ktls_config_error(cfg));
		ktls_config_free(cfg);
		cfg = NULL;
	}
	return cfg;
}

static int client12_seeds(const struct scenario12 *sc, const struct fuzz_capture *cap)
{
	static const uint8_t hello_request[] = { KTLS_HS_HELLO_REQUEST, 0, 0, 0 };
	char seed[128];
	struct ktls_buf b;
	int ret = 0;

	ktls_buf_init(&b, NULL, 0);
	ret |= flight_items(&cap->server_msgs, FLIGHT_MESSAGES, &b);
	ret |= write_seed("client12_flight", sc->name, 0, 1, b.base, b.off);
	snprintf(seed, sizeof(seed), "%s-frag", sc->name);
	ret |= write_seed("client12_flight", seed, 0x9f, 1, b.base, b.off);
	ret |= post_items(&b, hello_request, sizeof(hello_request));
	snprintf(seed, sizeof(seed), "%s-post", sc->name);
	ret |= write_seed("client12_flight", seed, 0, 1, b.base, b.off);
	b.off = 0;
	ret |= flight_items(&cap->server_msgs, FLIGHT_COALESCED, &b);
	snprintf(seed, sizeof(seed), "%s-coalesced", sc->name);
	ret |= write_seed("client12_flight", seed, 0, 1, b.base, b.off);
	if (sc->ccs_misplaced)
		ret |= ccs_seeds("client12_flight", sc->name, &cap->server_msgs);
	ktls_buf_dispose(&b);
	return ret;
}

static int server12_seeds(const struct scenario12 *sc, const struct fuzz_capture *cap)
{
	size_t ch_len = first_msg_len(&cap->client_msgs);
	char seed[128];
	struct ktls_buf b;
	int ret = 0;

	ktls_buf_init(&b, NULL, 0);
	ret |= flight_items(&cap->client_msgs, FLIGHT_MESSAGES, &b);
	ret |= write_seed("server12_flight", sc->name, 0, 1, b.base, b.off);
	snprintf(seed, sizeof(seed), "%s-frag", sc->name);
	ret |= write_seed("server12_flight", seed, 0xbf, 1, b.base, b.off);
	/* A second ClientHello after the handshake: renegotiation. */
	ret |= post_items(&b, cap->client_msgs.base, ch_len);
	snprintf(seed, sizeof(seed), "%s-post", sc->name);
	ret |= write_seed("server12_flight", seed, 0, 1, b.base, b.off);
	b.off = 0;
	ret |= flight_items(&cap->client_msgs, FLIGHT_COALESCED, &b);
	snprintf(seed, sizeof(seed), "%s-coalesced", sc->name);
	ret |= write_seed("server12_flight", seed, 0, 1, b.base, b.off);
	b.off = 0;
	ret |= push_item(&b, KTLS_CT_HANDSHAKE, cap->client_msgs.base, ch_len);
	snprintf(seed, sizeof(seed), "%s-ch", sc->name);
	ret |= write_seed("server12_flight", seed, 0, 1, b.base, b.off);
	if (sc->ccs_misplaced)
		ret |= ccs_seeds("server12_flight", sc->name, &cap->client_msgs);
	ktls_buf_dispose(&b);
	return ret;
}

/* RFC 7627 5.3: a 1.2-only hello without extended_master_secret is refused. */
static int no_ems_seed(const struct scenario12 *sc, const struct fuzz_capture *cap)
{
	struct ktls_protection cleartext = { 0 };
	char seed[128];
	struct ktls_buf b, ch;
	int ret = -1;

	ktls_buf_init(&b, NULL, 0);
	ktls_buf_init(&ch, NULL, 0);
	if (!drop_extension(cap->client_msgs.base, first_msg_len(&cap->client_msgs),
			    KTLS_EXT_EXTENDED_MASTER_SECRET, &ch) &&
	    !ktls_record_write(&cleartext, &b, KTLS_CT_HANDSHAKE, ch.base, ch.off)) {
		snprintf(seed, sizeof(seed), "%s-no-ems", sc->name);
		ret = write_seed("server_first_flight", seed, 0, 1, b.base, b.off);
	}
	ktls_buf_dispose(&b);
	ktls_buf_dispose(&ch);
	return ret;
}

static int server_first12_seeds(const struct scenario12 *sc, const struct fuzz_capture *cap)
{
	char seed[128];
	struct ktls_buf b;
	int ret = 0;

	ktls_buf_init(&b, NULL, 0);
	ret |= write_seed("server_first_flight", sc->name, 0, 1, cap->client_wire.base,
			  cap->client_wire.off);
	snprintf(seed, sizeof(seed), "%s-trickle", sc->name);
	ret |= write_seed("server_first_flight", seed, 0x86, 1, cap->client_wire.base,
			  cap->client_wire.off);
	if (!reframe(&cap->client_wire, 4, &b)) {
		snprintf(seed, sizeof(seed), "%s-4records", sc->name);
		ret |= write_seed("server_first_flight", seed, 0, 1, b.base, b.off);
	}
	/* With TLS 1.3 offered too the server takes 1.3, where EMS does not matter. */
	if (sc->client_flags & FUZZ_TLS12_ONLY)
		ret |= no_ems_seed(sc, cap);
	ktls_buf_dispose(&b);
	return ret;
}

static int handshake12_seeds(const struct scenario12 *sc)
{
	struct ktls_config *scfg, *ccfg;
	struct fuzz_capture cap;
	int ret = -1;

	memset(&cap, 0, sizeof(cap));
	scfg = scenario_config(KTLS_ROLE_SERVER, sc->server_flags, sc->server_ciphers,
			       sc->server_groups);
	ccfg = scenario_config(KTLS_ROLE_CLIENT, sc->client_flags, sc->client_ciphers,
			       sc->client_groups);
	if (scfg && ccfg)
		ret = fuzz_handshake_configs(scfg, ccfg, &cap, NULL, NULL);
	if (ret)
		goto out;
	if (sc->client_flags == FUZZ_CLIENT12_FLAGS && !sc->client_ciphers && !sc->client_groups)
		ret |= client12_seeds(sc, &cap);
	if (sc->server_flags == FUZZ_SERVER12_FLAGS && !sc->server_ciphers && !sc->server_groups)
		ret |= server12_seeds(sc, &cap);
	if (sc->server_flags == FUZZ_SERVER_FIRST_FLAGS && !sc->server_ciphers &&
	    !sc->server_groups)
		ret |= server_first12_seeds(sc, &cap);
out:
	ktls_config_free(scfg);
	ktls_config_free(ccfg);
	fuzz_capture_dispose(&cap);
	if (ret)
		fprintf(stderr, "mkcorpus: %s failed\n", sc->name);
	return ret;
}

int main(int argc, char **argv)
{
	size_t i;
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus <corpus dir>\n");
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	if (fuzz_fixed_random()) {
		fprintf(stderr, "mkcorpus: cannot fix libcrypto's random generator\n");
		return 1;
	}
	ret |= handshake_seeds("basic", 0, 0);
	ret |= handshake_seeds("client-auth", FUZZ_CLIENT_AUTH, FUZZ_IDENTITY);
	ret |= handshake_seeds("hrr", FUZZ_P256_ONLY, 0);
	ret |= post_handshake_seeds();
	for (i = 0; i < KTLS_ARRAY_SIZE(scenarios12); i++)
		ret |= handshake12_seeds(&scenarios12[i]);
	return ret ? 1 : 0;
}
