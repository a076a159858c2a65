/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the libFuzzer targets and the corpus recorder: configs made
 * from the committed test certificates, deterministic test hooks, and
 * the delivery of plaintext handshake messages re-encrypted under the
 * keys the receiving connection currently expects.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "ktls_int.h"

/* FUZZ_CERT_DIR is set by fuzz.mk to userspace/fuzz/certs. */
#ifndef FUZZ_CERT_DIR
#define FUZZ_CERT_DIR "userspace/fuzz/certs"
#endif

enum fuzz_flags {
	FUZZ_IDENTITY		= 0x1,	/* load this side's certificate and key */
	FUZZ_CLIENT_AUTH	= 0x2,	/* server: ask for a client certificate */
	FUZZ_P256_ONLY		= 0x4,	/* only secp256r1: forces a HelloRetryRequest */
};

struct ktls_config *fuzz_config(enum ktls_role role, unsigned int flags);
/* A connection whose randoms and x25519 scalars are fixed: same input, same output. */
struct ktls_conn *fuzz_conn(struct ktls_config *cfg, enum ktls_role role);

/*
 * Delivers @data as a stream of handshake messages (4-byte header each,
 * lengths clamped to what is left) to @conn through ktls_handshake(),
 * @frag bytes per record at most. Each message goes in plaintext while
 * @conn has no read keys, else it is sealed with a protection set from
 * @conn's own current read secret, so the fuzzer reaches the encrypted
 * messages without knowing keys. Stops at the first result other than
 * KTLS_ERROR_IN_PROGRESS and returns it; *@used is how much of @data
 * was delivered.
 */
int fuzz_feed_messages(struct ktls_conn *conn, const uint8_t *data, size_t len,
		       size_t frag, size_t *used);

/* Seals @len bytes of @type for @conn's current read keys (plaintext without). */
struct fuzz_sealer {
	struct ktls_protection p;
	uint8_t secret[KC_MAX_DIGEST];
	int active;
};
int fuzz_seal(struct fuzz_sealer *s, struct ktls_conn *conn, struct ktls_buf *wire,
	      uint8_t type, const uint8_t *data, size_t len, size_t frag);
void fuzz_sealer_clear(struct fuzz_sealer *s);

/* First byte of a message-level input: the record size to use. */
size_t fuzz_frag_size(uint8_t selector);

/*
 * A whole in-memory handshake between two fuzz_conn()s. Captures, if not
 * NULL, the plaintext handshake messages each side wrote and the raw
 * bytes the server sent. Returns 0 when both sides completed.
 */
struct fuzz_capture {
	struct ktls_buf client_msgs;
	struct ktls_buf server_msgs;
	struct ktls_buf server_wire;
	struct ktls_buf client_wire;
};
int fuzz_handshake(unsigned int server_flags, unsigned int client_flags,
		   struct fuzz_capture *cap, struct ktls_conn **client_out,
		   struct ktls_conn **server_out);
void fuzz_capture_dispose(struct fuzz_capture *cap);

#endif /* FUZZ_COMMON_H */
