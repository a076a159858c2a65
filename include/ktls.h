/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libktls: a sans-I/O TLS 1.3 handshake engine whose session keys are
 * exported in the form the Linux kernel TLS ULP (kTLS) takes.
 *
 * The engine never touches a socket. The caller feeds the bytes it
 * received and sends the bytes the engine appends to a buffer. Every call
 * returns at once, so one thread can drive many connections.
 *
 * Return values: 0 on success, KTLS_ERROR_IN_PROGRESS when the handshake
 * needs more input, otherwise a positive error code (see KTLS_ERROR_*):
 * below 0x100 an alert this side sent, 0x100 + alert an alert the peer
 * sent, 0x200 and up a local condition.  ktls_error_to_errno() maps any
 * of them to a negative errno for system-style callers.
 */
#ifndef KTLS_H
#define KTLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/tls.h>
#include <linux/ktlsd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growable byte buffer that may start on the caller's stack. */
struct ktls_buf {
	uint8_t *base;
	size_t capacity;
	size_t off;		/* bytes in use */
	int is_allocated;	/* base came from malloc */
};

void ktls_buf_init(struct ktls_buf *buf, void *smallbuf, size_t smallbuf_size);
/* Wipes the contents (they may be plaintext) and frees what was allocated. */
void ktls_buf_dispose(struct ktls_buf *buf);
int ktls_buf_reserve(struct ktls_buf *buf, size_t delta);
int ktls_buf_push(struct ktls_buf *buf, const void *src, size_t len);
/* Drops the first @len bytes, moving the rest to the front. */
void ktls_buf_shift(struct ktls_buf *buf, size_t len);

enum ktls_role {
	KTLS_ROLE_CLIENT,
	KTLS_ROLE_SERVER,
};

enum ktls_verify_policy {
	KTLS_VERIFY_REQUIRED,	/* failure aborts the handshake */
	KTLS_VERIFY_OPTIONAL,	/* failure is recorded, handshake goes on */
	KTLS_VERIFY_NONE,	/* no chain check (client: --insecure) */
};

enum ktls_direction {
	KTLS_DIR_TX,
	KTLS_DIR_RX,
};

#define KTLS_VERSION_TLS12 0x0303
#define KTLS_VERSION_TLS13 0x0304

/* Alert descriptions (RFC 8446 section 6). */
#define KTLS_ALERT_CLOSE_NOTIFY			0
#define KTLS_ALERT_UNEXPECTED_MESSAGE		10
#define KTLS_ALERT_BAD_RECORD_MAC		20
#define KTLS_ALERT_RECORD_OVERFLOW		22
#define KTLS_ALERT_HANDSHAKE_FAILURE		40
#define KTLS_ALERT_BAD_CERTIFICATE		42
#define KTLS_ALERT_UNSUPPORTED_CERTIFICATE	43
#define KTLS_ALERT_CERTIFICATE_REVOKED		44
#define KTLS_ALERT_CERTIFICATE_EXPIRED		45
#define KTLS_ALERT_CERTIFICATE_UNKNOWN		46
#define KTLS_ALERT_ILLEGAL_PARAMETER		47
#define KTLS_ALERT_UNKNOWN_CA			48
#define KTLS_ALERT_ACCESS_DENIED		49
#define KTLS_ALERT_DECODE_ERROR			50
#define KTLS_ALERT_DECRYPT_ERROR		51
#define KTLS_ALERT_PROTOCOL_VERSION		70
#define KTLS_ALERT_INSUFFICIENT_SECURITY	71
#define KTLS_ALERT_INTERNAL_ERROR		80
#define KTLS_ALERT_INAPPROPRIATE_FALLBACK	86
#define KTLS_ALERT_USER_CANCELED		90
#define KTLS_ALERT_NO_RENEGOTIATION		100
#define KTLS_ALERT_MISSING_EXTENSION		109
#define KTLS_ALERT_UNSUPPORTED_EXTENSION	110
#define KTLS_ALERT_UNRECOGNIZED_NAME		112
#define KTLS_ALERT_BAD_CERTIFICATE_STATUS	113
#define KTLS_ALERT_UNKNOWN_PSK_IDENTITY		115
#define KTLS_ALERT_CERTIFICATE_REQUIRED		116
#define KTLS_ALERT_NO_APPLICATION_PROTOCOL	120

/* Error classes. */
#define KTLS_ERROR_CLASS_SELF_ALERT	0x000
#define KTLS_ERROR_CLASS_PEER_ALERT	0x100
#define KTLS_ERROR_CLASS_INTERNAL	0x200
#define KTLS_ERROR_PEER_ALERT(desc)	(KTLS_ERROR_CLASS_PEER_ALERT + (desc))
#define KTLS_ERROR_IS_SELF_ALERT(e)	((e) > 0 && (e) < 0x100)
#define KTLS_ERROR_IS_PEER_ALERT(e)	((e) >= 0x100 && (e) < 0x200)

#define KTLS_ERROR_NO_MEMORY		0x201
#define KTLS_ERROR_IN_PROGRESS		0x202
#define KTLS_ERROR_LIBRARY		0x203	/* libcrypto failed */
#define KTLS_ERROR_INVALID_ARGUMENT	0x204
#define KTLS_ERROR_CLOSED		0x205	/* peer sent close_notify */
#define KTLS_ERROR_CONFIG		0x206	/* unusable configuration */
#define KTLS_ERROR_STATE		0x207	/* call not valid in this state */
#define KTLS_ERROR_FAILED		0x208	/* connection already failed */

const char *ktls_error_string(int err);
const char *ktls_alert_name(int alert);
/* Negative errno for @err: -EPROTO, -EACCES, -EKEYREJECTED, -ENOMEM, ... */
int ktls_error_to_errno(int err);

/*
 * Configuration: identities, trust, and policy. Built once, then shared
 * read-only by any number of connections (it is reference counted, so it
 * may be freed while connections still use it).
 */
struct ktls_config;

struct ktls_config *ktls_config_new(void);
void ktls_config_free(struct ktls_config *cfg);
/*
 * Adds a certificate chain (PEM, leaf first) and its private key. A server
 * may hold several (say ECDSA and RSA) and picks by the client's
 * signature_algorithms; a client uses the first for client authentication.
 */
int ktls_config_add_identity(struct ktls_config *cfg, const char *chain_file,
			     const char *key_file);
int ktls_config_set_ca_file(struct ktls_config *cfg, const char *path);
int ktls_config_set_ca_dir(struct ktls_config *cfg, const char *path);
int ktls_config_set_ca_system(struct ktls_config *cfg);
/* Client: verification of the server. Server: whether to ask for and check a client certificate. */
int ktls_config_set_verify(struct ktls_config *cfg, enum ktls_verify_policy policy);
/* Server: KTLS_VERIFY_NONE means no CertificateRequest. Default NONE. */
int ktls_config_set_verify_client(struct ktls_config *cfg, enum ktls_verify_policy policy);
/* Comma separated lists in preference order, names as in ktls-client(1). */
int ktls_config_set_alpn(struct ktls_config *cfg, const char *list);
int ktls_config_set_groups(struct ktls_config *cfg, const char *list);
int ktls_config_set_ciphers(struct ktls_config *cfg, const char *list);
int ktls_config_set_versions(struct ktls_config *cfg, uint16_t min, uint16_t max);
/* Client: send a legacy session id and ChangeCipherSpec (RFC 8446 D.4). Default on. */
int ktls_config_set_middlebox_compat(struct ktls_config *cfg, int enable);
/* Detail of the last failing ktls_config_* call. */
const char *ktls_config_error(const struct ktls_config *cfg);

struct ktls_conn;

struct ktls_conn *ktls_conn_new(struct ktls_config *cfg, enum ktls_role role);
void ktls_conn_free(struct ktls_conn *conn);
/* Client: SNI and the name (DNS or IP literal) the server certificate must match. */
int ktls_conn_set_server_name(struct ktls_conn *conn, const char *name);
/*
 * Before the handshake: this connection's own ALPN list (comma separated;
 * NULL or "" for none) and policy for the peer's certificate, in place of
 * the shared configuration's.
 */
int ktls_conn_set_alpn(struct ktls_conn *conn, const char *list);
int ktls_conn_set_verify(struct ktls_conn *conn, enum ktls_verify_policy policy);

/*
 * Drives the handshake. @input holds *@inlen received bytes; on return
 * *@inlen is how many were consumed. The engine never consumes bytes
 * past the record that completes the handshake, so application data that
 * arrived with it stays with the caller (for ktls_receive() or kTLS).
 * Bytes to send, including a fatal alert on failure, are appended to
 * @sendbuf. Returns 0 once complete, KTLS_ERROR_IN_PROGRESS, or an error.
 */
int ktls_handshake(struct ktls_conn *conn, struct ktls_buf *sendbuf,
		   const void *input, size_t *inlen);
int ktls_handshake_is_complete(const struct ktls_conn *conn);

/* Application data through the engine's own record layer (no kTLS). */
int ktls_send(struct ktls_conn *conn, struct ktls_buf *sendbuf,
	      const void *data, size_t len);
/*
 * Decrypts whole records from @input into @plaintext. Post-handshake
 * messages are handled here: NewSessionTicket is kept, KeyUpdate updates
 * the keys (a reply, when requested, goes to @sendbuf). Returns 0,
 * KTLS_ERROR_CLOSED after close_notify, or an error.
 */
int ktls_receive(struct ktls_conn *conn, struct ktls_buf *plaintext,
		 struct ktls_buf *sendbuf, const void *input, size_t *inlen);
int ktls_send_close_notify(struct ktls_conn *conn, struct ktls_buf *sendbuf);
int ktls_send_key_update(struct ktls_conn *conn, struct ktls_buf *sendbuf,
			 int request_update);

/* What was negotiated (valid once the handshake is complete). */
uint16_t ktls_get_version(const struct ktls_conn *conn);
const char *ktls_get_version_name(const struct ktls_conn *conn);
const char *ktls_get_cipher_name(const struct ktls_conn *conn);
const char *ktls_get_group_name(const struct ktls_conn *conn);
/* The signature scheme of the server's CertificateVerify. */
const char *ktls_get_sigalg_name(const struct ktls_conn *conn);
const char *ktls_get_alpn(const struct ktls_conn *conn);	/* NULL if none */
const char *ktls_get_server_name(const struct ktls_conn *conn); /* NULL if none */
int ktls_get_hrr(const struct ktls_conn *conn);		/* 1 if HelloRetryRequest happened */
/* Peer's leaf certificate subject, one line ("CN=..."), or NULL. */
const char *ktls_get_peer_subject(const struct ktls_conn *conn);
size_t ktls_get_peer_cert_count(const struct ktls_conn *conn);
int ktls_get_peer_cert(const struct ktls_conn *conn, size_t index,
		       const uint8_t **der, size_t *der_len);
/* 0 if the peer chain verified, else a libcrypto X509_V_ERR_* code. */
long ktls_get_verify_result(const struct ktls_conn *conn);
/* NewSessionTickets received; the newest is kept (no resumption yet). */
size_t ktls_get_ticket_count(const struct ktls_conn *conn);
int ktls_get_ticket(const struct ktls_conn *conn, uint32_t *lifetime,
		    const uint8_t **ticket, size_t *ticket_len);
/* The error that failed the connection (0 if none): its alert survives here. */
int ktls_get_error(const struct ktls_conn *conn);
/* 1 once the peer's close_notify was read. */
int ktls_peer_closed(const struct ktls_conn *conn);
/* Human readable reason of the last failure, "" if none. */
const char *ktls_get_error_detail(const struct ktls_conn *conn);

/*
 * Key export for kTLS. Fills the kernel's struct tls12_crypto_info_* for
 * @dir (version, cipher_type, key, salt, iv, rec_seq as kTLS expects) and
 * its size. The caller's copy is the caller's to wipe.
 */
union ktls_crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes_gcm_128;
	struct tls12_crypto_info_aes_gcm_256 aes_gcm_256;
	struct tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
};

int ktls_export_crypto_info(const struct ktls_conn *conn, enum ktls_direction dir,
			    union ktls_crypto_info *info, size_t *info_len);
uint64_t ktls_get_record_seq(const struct ktls_conn *conn, enum ktls_direction dir);

/*
 * kTLS: handing the record layer to the kernel.
 *
 * After ktls_handshake() returned 0 on a connected TCP socket @fd,
 * ktls_install() attaches the "tls" ULP and installs TLS_TX then TLS_RX.
 * Bytes the caller already read from @fd that the handshake did not
 * consume are passed as @pending: they are decrypted here, in userspace,
 * reading from @fd what is missing of a partial record, so the kernel
 * takes over RX exactly at a record boundary; their application data is
 * appended to @plaintext, which the caller must deliver before anything it
 * reads from the socket. Post-handshake messages among them are handled.
 *
 * Each direction succeeds or fails on its own; a failed direction leaves
 * that direction of the socket as it was (plain TCP under the ULP), so the
 * caller can carry on with ktls_send()/ktls_receive() for it. Nothing is
 * sent or lost before the caller learns the outcome.
 */
struct ktls_install_opts {
	int no_rx_expect_no_pad;	/* do not ask for TLS_RX_EXPECT_NO_PAD (TLS 1.3) */
	int tx_zerocopy_ro;		/* TLS_TX_ZEROCOPY_RO (sendfile only) */
	int timeout_ms;			/* for completing a partial record; 0: 5000 */
	int ulp_attached;		/* ktls_attach_ulp() was done */
};

#define KTLS_INSTALLED_TX	0x1
#define KTLS_INSTALLED_RX	0x2

struct ktls_install_status {
	int installed;		/* KTLS_INSTALLED_* */
	int ulp_attached;	/* "tls" is on the socket */
	int pending_consumed;	/* @pending was decrypted (into @plaintext) */
	int pending_errno;	/* ... and that failed: the connection is over */
	int tx_errno;		/* errno of the failed TX step, 0 if none */
	int rx_errno;
	int rx_expect_no_pad;	/* the kernel accepted TLS_RX_EXPECT_NO_PAD */
	int tx_zerocopy_ro;
	char detail[160];	/* e.g. "rx: setsockopt(TLS_RX): Invalid argument" */
};

/*
 * Returns 0 when both directions are in the kernel, else the negative
 * errno of the first failure (-ENOENT: the kernel has no "tls" module;
 * -ENOPROTOOPT, -EINVAL: this kernel cannot do the negotiated cipher);
 * @status says which directions made it. When the ULP could not be
 * attached nothing changed and @pending is untouched; when it was but
 * @pending could not be decrypted the connection is dead (its alert was
 * sent). Records the engine sealed (the last flight) must have left
 * before this call: the kernel seals everything written after it.
 */
int ktls_install(struct ktls_conn *conn, int fd, const void *pending, size_t pending_len,
		 struct ktls_buf *plaintext, const struct ktls_install_opts *opts,
		 struct ktls_install_status *status);
/* "tx+rx", "tx", "rx" or "off". */
const char *ktls_install_name(int installed);

/*
 * Reads application data from a socket whose RX is in the kernel, taking
 * care of the records read() cannot return: NewSessionTicket is kept,
 * KeyUpdate is followed (on kernels with TLS 1.3 rekey, 6.14 and later;
 * elsewhere -EKEYEXPIRED, before any undecryptable data), close_notify is
 * the end of the stream (0), a TCP end without close_notify (a possibly
 * truncated stream) is -ECONNRESET, a fatal alert is ktls_error_to_errno() of it
 * (-EPROTO, -EACCES, -EKEYREJECTED) with the alert named in
 * ktls_get_error_detail(). Other errors are -errno of recvmsg. @len must
 * be at least 2 (an alert).
 */
ssize_t ktls_read(struct ktls_conn *conn, int fd, void *buf, size_t len);
/*
 * @conn is NULL for a socket ktls_upgrade() upgraded (through the daemon,
 * which keeps the keys, or in process, which keeps none after): tickets
 * are dropped, a KeyUpdate is -EKEYEXPIRED, and a post-handshake message
 * split across records is -EBADMSG.
 */
/* Sends close_notify through the kernel's TX (TLS_SET_RECORD_TYPE). */
int ktls_close_notify_fd(struct ktls_conn *conn, int fd);

/*
 * Attaches the "tls" ULP with no keys yet: the socket carries on as plain
 * TCP. Doing it before a handshake learns whether this kernel has kTLS
 * before the peer is involved. -ENOPROTOOPT: no kTLS here; -EALREADY: the
 * socket has a ULP already. Set ktls_install_opts.ulp_attached after it.
 */
int ktls_attach_ulp(int fd);

/*
 * Upgrading a connected TCP socket to kTLS in one call, done by the ktlsd
 * daemon (which holds the identities) or, when @config is set, in this
 * process. See ktls_upgrade(3).
 */
enum ktls_upgrade_via {
	KTLS_VIA_DEFAULT = 0,	/* in process when config is set, else the unix socket */
	KTLS_VIA_UNIX = 1,	/* ktlsd's unix socket, the fd by SCM_RIGHTS */
	KTLS_VIA_MODULE = 2,	/* ktlsd.ko: TCP_ULP "ktlsd" and KTLSD_OPT_UPGRADE */
};

struct ktls_upgrade_opts {
	enum ktls_role role;
	const char *peer_name;		/* client: SNI and the name to verify */
	const char *alpn;		/* "h2,http/1.1"; NULL: the identity's default */
	const char *identity;		/* daemon: a configured identity; NULL: none */
	int verify;			/* enum ktlsd_verify; 0: the configured policy */
	int timeout_ms;			/* whole upgrade; 0: 10000 */
	struct ktls_config *config;	/* in process: identity and trust */
	const char *socket_path;	/* daemon: NULL for $KTLSD_SOCKET or the default */
	enum ktls_upgrade_via via;
};

/* What happened, success or not. Strings are "" when there is nothing to say. */
struct ktls_upgrade_info {
	int status;			/* what ktls_upgrade() returned */
	int error;			/* libktls error code: the alert sent or received */
	uint16_t version;
	char cipher[64];
	char group[32];
	char alpn[256];
	char server_name[256];		/* server: the SNI the client sent */
	char peer_subject[256];
	char detail[256];		/* why it failed */
};

/*
 * Returns 0 with @fd's TX and RX in the kernel, or a negative errno:
 * -ECONNREFUSED no daemon, -ETIMEDOUT, -EACCES policy denied or the peer
 * refused us, -EKEYREJECTED the peer's certificate, -EPROTO a protocol
 * failure, -ENOKEY no such identity, -ENOPROTOOPT no kTLS in this kernel,
 * -ENOTCONN, -ENOTSOCK, -ESOCKTNOSUPPORT (not TCP), -EALREADY (socket has
 * a ULP), -EAGAIN (daemon at its limit), -ECONNABORTED (daemon went away),
 * -ECONNRESET (peer closed). After a failure that reached the peer the
 * connection is shut down, never left half-upgraded. @info may be NULL.
 * Through the daemon, the unix connection is kept for the next call from
 * the same process with the same credentials (a pool of at most 32; see
 * "Connections to the daemon" in ktls_upgrade(3)).
 */
int ktls_upgrade(int fd, const struct ktls_upgrade_opts *opts, struct ktls_upgrade_info *info);

/*
 * The same for an event loop: ktls_upgrade_start() returns 0 and a handle,
 * then poll ktls_upgrade_poll_fd() for *events and call
 * ktls_upgrade_continue() until it stops returning -EINPROGRESS. When
 * ktls_upgrade_start() fails *@up may still be set, holding the info:
 * ktls_upgrade_free() it either way.
 */
struct ktls_upgrade;

int ktls_upgrade_start(int fd, const struct ktls_upgrade_opts *opts, struct ktls_upgrade **up);
int ktls_upgrade_poll_fd(const struct ktls_upgrade *up, short *events);
/* Milliseconds left before the upgrade times out (for poll's timeout). */
int ktls_upgrade_timeout(const struct ktls_upgrade *up);
int ktls_upgrade_continue(struct ktls_upgrade *up);
const struct ktls_upgrade_info *ktls_upgrade_get_info(const struct ktls_upgrade *up);
void ktls_upgrade_free(struct ktls_upgrade *up);

/* The daemon's counters (ktlsd(8)), read over its socket (NULL: the default). */
struct ktlsd_counters {
	uint64_t ok;
	uint64_t failed;
	uint64_t timed_out;
	uint64_t denied;		/* policy said no */
	uint64_t refused;		/* over a cap: EAGAIN */
	uint64_t in_flight;
	uint64_t duration_us;		/* sum over the successful ones */
	uint64_t reloads;
	uint64_t duration_max_us;
	/* every request that ended with an errno, by errno, most frequent first */
	struct {
		int err;
		uint64_t count;
	} by_errno[KTLSD_ERRNO_COUNTS_MAX];
	size_t by_errno_count;
};

int ktlsd_get_counters(const char *socket_path, struct ktlsd_counters *counters);

#ifdef __cplusplus
}
#endif

#endif /* KTLS_H */
