// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the seed corpora from real, deterministic in-memory handshakes
 * of the engine with itself: mkcorpus <corpus dir>. Run by
 * `make fuzz-corpus`; the output is committed under userspace/fuzz/corpus.
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

/* Length of the first handshake message in @msgs (whole stream if shorter). */
static size_t first_msg_len(const struct ktls_buf *msgs)
{
	size_t len;

	if (msgs->off < 4)
		return msgs->off;
	len = 4 + ((size_t)msgs->base[1] << 16 | (size_t)msgs->base[2] << 8 | msgs->base[3]);
	return len < msgs->off ? len : msgs->off;
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

int main(int argc, char **argv)
{
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus <corpus dir>\n");
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	ret |= handshake_seeds("basic", 0, 0);
	ret |= handshake_seeds("client-auth", FUZZ_CLIENT_AUTH, FUZZ_IDENTITY);
	ret |= handshake_seeds("hrr", FUZZ_P256_ONLY, 0);
	ret |= post_handshake_seeds();
	return ret ? 1 : 0;
}
