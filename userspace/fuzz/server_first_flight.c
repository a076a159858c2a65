// SPDX-License-Identifier: GPL-2.0-only
/*
 * The server receiving raw bytes from the network: record framing,
 * ClientHello reassembly across records, every ClientHello extension
 * (through ktls_for_each_extension and the server's callbacks), and
 * whatever the server does next. The first input byte picks how the
 * bytes arrive: whole, or in pieces of 1..128 bytes per call, as a slow
 * socket would deliver them. The server speaks TLS 1.3 and 1.2, with
 * RSA key transport enabled and an RSA certificate besides the Ed25519
 * one, so 1.2-only hellos reach server12.c and a recorded 1.2 handshake
 * (RSA key transport too) replays to its end.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fuzz_fixed_random())
		return -1;
	cfg = fuzz_config(KTLS_ROLE_SERVER, FUZZ_SERVER_FIRST_FLAGS);
	return cfg ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_conn *conn;
	struct ktls_buf out, rx;
	size_t chunk, n, used = 0;
	int ret = KTLS_ERROR_IN_PROGRESS;

	if (!size)
		return 0;
	chunk = data[0] & 0x80 ? (size_t)(data[0] & 0x7f) + 1 : size;
	data++;
	size--;
	conn = fuzz_conn(cfg, KTLS_ROLE_SERVER);
	if (!conn)
		return 0;
	ktls_buf_init(&out, NULL, 0);
	ktls_buf_init(&rx, NULL, 0);
	while (size && ret == KTLS_ERROR_IN_PROGRESS) {
		n = size < chunk ? size : chunk;
		ktls_buf_push(&rx, data, n);
		data += n;
		size -= n;
		used += n;
		n = rx.off;
		ret = ktls_handshake(conn, &out, rx.base, &n);
		ktls_buf_shift(&rx, n);
		out.off = 0;
	}
	fuzz_report(conn, used, ret);
	ktls_buf_dispose(&out);
	ktls_buf_dispose(&rx);
	ktls_conn_free(conn);
	return 0;
}
