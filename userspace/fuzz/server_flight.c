// SPDX-License-Identifier: GPL-2.0-only
/*
 * The server at the message level with client authentication asked:
 * a ClientHello in plaintext, then the client's Certificate,
 * CertificateVerify and Finished sealed under the client handshake keys
 * the server derived (see fuzz_common.c). Input: one byte that picks the
 * record size, then plaintext handshake messages back to back.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cfg = fuzz_config(KTLS_ROLE_SERVER, FUZZ_IDENTITY | FUZZ_CLIENT_AUTH);
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
	fuzz_feed_messages(conn, data + 1, size - 1, fuzz_frag_size(data[0]), &used);
	ktls_conn_free(conn);
	return 0;
}
