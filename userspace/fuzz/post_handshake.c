// SPDX-License-Identifier: GPL-2.0-only
/*
 * An established client receiving records through ktls_receive():
 * NewSessionTicket, KeyUpdate, stray handshake messages, alerts,
 * application data, and anything else. Each iteration replays the
 * recorded deterministic server flight to a fresh client, then seals the
 * fuzzer's records under the client's current read keys (following
 * KeyUpdate). Input: records as a content type byte, a 16-bit length and
 * the plaintext.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ktls_config *cfg;
static struct fuzz_capture cap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cfg = fuzz_config(KTLS_ROLE_CLIENT, 0);
	if (!cfg || fuzz_handshake(0, 0, &cap, NULL, NULL))
		return -1;
	return 0;
}

static struct ktls_conn *established_client(void)
{
	struct ktls_conn *conn = fuzz_conn(cfg, KTLS_ROLE_CLIENT);
	struct ktls_buf out;
	size_t n = 0;
	int ret;

	if (!conn)
		return NULL;
	ktls_buf_init(&out, NULL, 0);
	ret = ktls_handshake(conn, &out, NULL, &n);
	n = cap.server_wire.off;
	if (ret == KTLS_ERROR_IN_PROGRESS)
		ret = ktls_handshake(conn, &out, cap.server_wire.base, &n);
	ktls_buf_dispose(&out);
	if (ret) {
		ktls_conn_free(conn);
		return NULL;
	}
	return conn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_conn *conn = established_client();
	struct fuzz_sealer sealer = { 0 };
	struct ktls_buf wire, plain, out;
	size_t len, n;
	uint8_t type;
	int ret = 0;

	if (!conn)
		__builtin_trap();	/* the recorded flight must always replay */
	ktls_buf_init(&wire, NULL, 0);
	ktls_buf_init(&plain, NULL, 0);
	ktls_buf_init(&out, NULL, 0);
	while (size >= 3 && !ret) {
		type = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		wire.off = 0;
		if (fuzz_seal(&sealer, conn, &wire, type, data, len, KTLS_MAX_PLAINTEXT))
			break;
		data += len;
		size -= len;
		n = wire.off;
		ret = ktls_receive(conn, &plain, &out, wire.base, &n);
		plain.off = 0;
		out.off = 0;
	}
	fuzz_sealer_clear(&sealer);
	ktls_buf_dispose(&wire);
	ktls_buf_dispose(&plain);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	return 0;
}
