// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TLS 1.2 server at the message level, with a client certificate
 * asked for: a ClientHello in plaintext, then the client's Certificate,
 * ClientKeyExchange (ECDHE, or RSA key transport, which the server
 * decrypts with its RSA key) and CertificateVerify, ChangeCipherSpec,
 * and Finished sealed under the 1.2 keys the server derived (see
 * fuzz_common.c), then what an established 1.2 server may be sent
 * (application data, a renegotiating ClientHello, alerts). The server
 * speaks TLS 1.2 only and holds an Ed25519 and an RSA certificate.
 * Input: one byte that picks the record size, then items of
 * fuzz_feed_items().
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* An RSA-PSS ServerKeyExchange must be the recorded one. */
	if (fuzz_fixed_random())
		return -1;
	cfg = fuzz_config(KTLS_ROLE_SERVER, FUZZ_SERVER12_FLAGS);
	return cfg ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_conn *conn;
	size_t used;

	if (!size)
		return 0;
	conn = fuzz_conn(cfg, KTLS_ROLE_SERVER);
	if (!conn)
		return 0;
	fuzz_feed_items(conn, data + 1, size - 1, fuzz_frag_size(data[0]), &used);
	ktls_conn_free(conn);
	return 0;
}
