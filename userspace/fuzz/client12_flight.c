// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client receiving a TLS 1.2 server flight: ServerHello,
 * Certificate, ServerKeyExchange, CertificateRequest and
 * ServerHelloDone in plaintext, then ChangeCipherSpec and Finished
 * sealed under the 1.2 keys the client derived from its own key block
 * (see fuzz_common.c), then what an established 1.2 client may be sent
 * (application data, HelloRequest, alerts). The client offers TLS 1.3
 * and 1.2 with every suite, RSA key transport included, and has a
 * certificate for client authentication. Input: one byte that picks the
 * record size, then items of fuzz_feed_items().
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The RSA premaster the client draws must be the recorded one. */
	if (fuzz_fixed_random())
		return -1;
	cfg = fuzz_config(KTLS_ROLE_CLIENT, FUZZ_CLIENT12_FLAGS);
	return cfg ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_conn *conn;
	struct ktls_buf out;
	size_t used, n = 0;
	int ret;

	if (!size)
		return 0;
	conn = fuzz_conn(cfg, KTLS_ROLE_CLIENT);
	if (!conn)
		return 0;
	ktls_buf_init(&out, NULL, 0);
	/* The ClientHello: deterministic, so the recorded flight still fits it. */
	ret = ktls_handshake(conn, &out, NULL, &n);
	if (ret == KTLS_ERROR_IN_PROGRESS)
		fuzz_feed_items(conn, data + 1, size - 1, fuzz_frag_size(data[0]), &used);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	return 0;
}
