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
	FUZZ_TLS12		= 0x8,	/* TLS 1.2 as well as 1.3 */
	FUZZ_TLS12_ONLY		= 0x10,	/* TLS 1.2 and nothing else */
	/*
	 * Every suite, RSA key transport too, and trust in the RSA test CA;
	 * a server with FUZZ_IDENTITY also gets the RSA certificate, after
	 * the Ed25519 one.
	 */
	FUZZ_RSA		= 0x20,
};

/*
 * The configurations of the targets that reach TLS 1.2. The recorder
 * uses the same ones for the side a target runs, so the seeds replay.
 */
#define FUZZ_SERVER_FIRST_FLAGS	(FUZZ_IDENTITY | FUZZ_TLS12 | FUZZ_RSA)
#define FUZZ_CLIENT12_FLAGS	(FUZZ_IDENTITY | FUZZ_TLS12 | FUZZ_RSA)
#define FUZZ_SERVER12_FLAGS	(FUZZ_IDENTITY | FUZZ_CLIENT_AUTH | FUZZ_TLS12_ONLY | FUZZ_RSA)

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

/*
 * The same for TLS 1.2, where ChangeCipherSpec is a record of its own
 * between handshake messages: @data is a stream of items, each a content
 * type byte and then
 *   KTLS_CT_HANDSHAKE: one handshake message as above (4-byte header,
 *     length clamped), in records of @frag bytes at most;
 *   FUZZ_RAW_HANDSHAKE: a 16-bit length and that many bytes of handshake
 *     data in one record (part of a message, or several);
 *   anything else: a 16-bit length and the body of one record of that
 *     type.
 * Records are sealed under @conn's current read keys as above, but
 * change_cipher_spec, which TLS 1.2 never protects. Once the handshake
 * is complete the remaining items go through ktls_receive() (application
 * data, renegotiation attempts, alerts). Stops at the first error.
 */
#define FUZZ_RAW_HANDSHAKE	(0x80 | KTLS_CT_HANDSHAKE)
int fuzz_feed_items(struct ktls_conn *conn, const uint8_t *data, size_t len, size_t frag,
		    size_t *used);

/*
 * Makes libcrypto's random generator return a constant, for good: RSA
 * key transport (the premaster and its PKCS#1 padding), RSA-PSS salts
 * and ECDSA nonces then repeat exactly, whatever order the calls come
 * in, so handshakes with them replay as the Ed25519 ones do. Only for
 * the harness (fuzz_random.c).
 */
int fuzz_fixed_random(void);

/* Seals @len bytes of @type for @conn's current read keys (plaintext without). */
struct fuzz_sealer {
	struct ktls_protection p;
	uint8_t secret[KC_MAX_DIGEST];
	int active;
};
int fuzz_seal(struct fuzz_sealer *s, struct ktls_conn *conn, struct ktls_buf *wire,
	      uint8_t type, const uint8_t *data, size_t len, size_t frag);
void fuzz_sealer_clear(struct fuzz_sealer *s);

/* FUZZ_VERBOSE=1 shows how far each input got (checking the seeds). */
void fuzz_report(const struct ktls_conn *conn, size_t used, int ret);

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
/* The same with configurations of the caller's (not freed). */
int fuzz_handshake_configs(struct ktls_config *scfg, struct ktls_config *ccfg,
			   struct fuzz_capture *cap, struct ktls_conn **client_out,
			   struct ktls_conn **server_out);
void fuzz_capture_dispose(struct fuzz_capture *cap);

#endif /* FUZZ_COMMON_H */
