/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What ktls-client and ktls-server share: the command line, the
 * ktls_config it describes, and one TLS connection over a connected
 * socket from the first handshake byte to the last close.
 */
#ifndef KTLS_PEER_H
#define KTLS_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ktls.h"

/* Exit statuses of both tools, as their man pages list them. */
enum peer_exit {
	PEER_RUN = -1,		/* not an exit status: carry on */
	PEER_EXIT_OK = 0,
	PEER_EXIT_FAILURE = 1,	/* the connection or the handshake failed */
	PEER_EXIT_USAGE = 2,	/* the command line or the configuration was rejected */
};

struct peer_options {
	enum ktls_role po_role;
	const char *po_ca;
	/* --cert and --key pair up in the order given */
	const char **po_certs;
	size_t po_cert_count;
	const char **po_keys;
	size_t po_key_count;
	const char *po_servername;
	const char *po_alpn;
	const char *po_groups;
	const char *po_ciphers;
	uint16_t po_min_version;	/* 0: not given */
	uint16_t po_max_version;	/* 0: not given */
	enum ktls_verify_policy po_verify_client;
	bool po_insecure;
	bool po_no_ktls;
	bool po_require_ktls;
	bool po_once;
	bool po_echo;
	const char *po_ktlsd;		/* --ktlsd SOCKET: the daemon does the handshake */
	const char *po_identity;	/* --identity NAME: one of the daemon's */
	bool po_ktlsd_module;		/* --ktlsd-module: the daemon, through ktlsd.ko */
	/* operands: client HOST PORT, server PORT */
	const char *po_host;
	const char *po_port;
	uint16_t po_listen_port;	/* server: PORT checked and converted */
};

/* ---- peer.c: command line ---- */

/*
 * Fills @opts from the command line of the tool for @role. Returns
 * PEER_RUN to go on, otherwise the status to exit with (after --help, or
 * a usage error already printed with the usage text). Either way
 * peer_options_free() releases @opts.
 */
int peer_options_parse(struct peer_options *opts, enum ktls_role role,
		       int argc, char **argv);
void peer_options_free(struct peer_options *opts);

/*
 * Builds the configuration @opts asks for. Returns PEER_EXIT_OK with
 * *@cfg set, or prints "error: ..." and returns the exit status.
 */
int peer_config_build(const struct peer_options *opts, struct ktls_config **cfg);

/* ---- peer.c: one connection ---- */

/*
 * Runs @conn over the connected socket @sock: the handshake, its summary
 * line on stderr, then the data phase (--echo or stdin/stdout). Sets
 * @sock non-blocking. Returns the exit status of this connection after
 * printing any error. The caller still owns @conn and @sock.
 */
int peer_run(struct ktls_conn *conn, int sock, const struct peer_options *opts);

/* Prints "error: <what>: <strerror(errno)>". */
void peer_perror(const char *what);
/* Prints "error: <reason> (alert <name>)" for a libktls error of @conn (may be NULL). */
void peer_report_tls_error(const struct ktls_conn *conn, int err);

#endif /* KTLS_PEER_H */
