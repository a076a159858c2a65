// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client receiving the server's flight: ServerHello (or a
 * HelloRetryRequest and a second ServerHello) in plaintext, then
 * EncryptedExtensions, CertificateRequest, Certificate,
 * CertificateVerify and Finished sealed under the handshake keys the
 * client derived (see fuzz_common.c). Input: one byte that picks the
 * record size, then plaintext handshake messages back to back.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cfg = fuzz_config(KTLS_ROLE_CLIENT, FUZZ_IDENTITY);
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
		fuzz_feed_messages(conn, data + 1, size - 1, fuzz_frag_size(data[0]), &used);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	return 0;
}
