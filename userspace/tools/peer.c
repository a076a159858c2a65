// SPDX-License-Identifier: GPL-2.0-only
/*
 * The parts of ktls-client and ktls-server that do not depend on the role:
 * the option table (it drives getopt_long and the usage text alike), the
 * configuration built from it, and the life of one connection.
 *
 * A connection runs on a non-blocking socket in two phases. The handshake
 * phase feeds received bytes to ktls_handshake() and sends what it
 * produces. The data phase polls the socket, stdin and stdout together.
 * Three buffers carry the bytes between them:
 *
 *	socket --> net_in --ktls_receive--> plain_out --> stdout (or echo)
 *	stdin --ktls_send--> net_out --> socket
 *
 * Each side stops feeding a buffer that has grown large instead of
 * blocking on it, so two peers that both send a lot cannot end up both
 * waiting for the other to read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Plaintext per ktls_send() call: one full record. */
#define PEER_CHUNK		16384
/* Room made in net_in for each recv(). */
#define PEER_SOCKET_READ	65536
/* At most this much per write() to stdout. */
#define PEER_STDOUT_WRITE	65536
/* Stop producing records while this much still waits for the socket. */
#define PEER_NET_OUT_HIGH	(256 * 1024)
/* Stop reading the socket while this much still waits for stdout. */
#define PEER_PLAIN_OUT_HIGH	(256 * 1024)
/* How long a failing connection waits to get its alert out. */
#define PEER_ALERT_FLUSH_MS	2000
/* Longest peer subject or ALPN shown in the handshake line. */
#define PEER_FIELD_MAX		512

/* ---- command line ---- */

#define PEER_FOR_CLIENT		(1u << KTLS_ROLE_CLIENT)
#define PEER_FOR_SERVER		(1u << KTLS_ROLE_SERVER)
#define PEER_FOR_BOTH		(PEER_FOR_CLIENT | PEER_FOR_SERVER)

/* getopt_long returns this plus the option's index in peer_option_table. */
#define PEER_OPTION_BASE	0x100

struct peer_option_spec {
	const char *os_name;
	const char *os_metavar;		/* NULL: a flag */
	unsigned int os_roles;		/* PEER_FOR_* */
	/*
	 * Without a parser the option stores its argument (or true, for a
	 * flag) at this offset in struct peer_options.
	 */
	size_t os_field;
	int (*os_parse)(struct peer_options *opts, const char *arg);
	const char *os_help;
};

struct peer_keyword {
	const char *pk_name;
	int pk_value;
};

static const struct peer_keyword peer_versions[] = {
	{ "1.2", KTLS_VERSION_TLS12 },
	{ "1.3", KTLS_VERSION_TLS13 },
};

static const struct peer_keyword peer_verify_policies[] = {
	{ "none", KTLS_VERIFY_NONE },
	{ "optional", KTLS_VERIFY_OPTIONAL },
	{ "required", KTLS_VERIFY_REQUIRED },
};

static const char *peer_tool_name(enum ktls_role role)
{
	return role == KTLS_ROLE_SERVER ? "ktls-server" : "ktls-client";
}

/* Finds @arg in @table, or says which values @option takes. */
static int keyword_lookup(const struct peer_keyword *table, size_t count,
			  const char *option, const char *arg, int *value)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (!strcmp(table[i].pk_name, arg)) {
			*value = table[i].pk_value;
			return 0;
		}
	}
	fprintf(stderr, "error: --%s: unknown value '%s' (expected", option, arg);
	for (i = 0; i < count; i++)
		fprintf(stderr, "%s %s", i ? (i + 1 == count ? " or" : ",") : "",
			table[i].pk_name);
	fprintf(stderr, ")\n");
	return -1;
}

static int parse_version(const char *option, const char *arg, uint16_t *version)
{
	int value;

	if (keyword_lookup(peer_versions, ARRAY_SIZE(peer_versions), option, arg, &value))
		return -1;
	*version = (uint16_t)value;
	return 0;
}

static int parse_min_version(struct peer_options *opts, const char *arg)
{
	return parse_version("min-version", arg, &opts->po_min_version);
}

static int parse_max_version(struct peer_options *opts, const char *arg)
{
	return parse_version("max-version", arg, &opts->po_max_version);
}

static int parse_verify_client(struct peer_options *opts, const char *arg)
{
	int value;

	if (keyword_lookup(peer_verify_policies, ARRAY_SIZE(peer_verify_policies),
			   "verify-client", arg, &value))
		return -1;
	opts->po_verify_client = value;
	return 0;
}

static int append_string(const char ***list, size_t *count, const char *arg)
{
	const char **grown = realloc(*list, (*count + 1) * sizeof(**list));

	if (!grown) {
		fprintf(stderr, "error: out of memory\n");
		return -1;
	}
	grown[(*count)++] = arg;
	*list = grown;
	return 0;
}

static int parse_cert(struct peer_options *opts, const char *arg)
{
	return append_string(&opts->po_certs, &opts->po_cert_count, arg);
}

static int parse_key(struct peer_options *opts, const char *arg)
{
	return append_string(&opts->po_keys, &opts->po_key_count, arg);
}

#define PEER_FIELD(name)	offsetof(struct peer_options, name)

static const struct peer_option_spec peer_option_table[] = {
	{ "ca", "FILE", PEER_FOR_BOTH, PEER_FIELD(po_ca), NULL,
	  "CA certificates the peer's chain must lead to (PEM file or directory)" },
	{ "cert", "FILE", PEER_FOR_BOTH, 0, parse_cert,
	  "certificate chain, PEM, leaf first (server: repeat for more identities)" },
	{ "key", "FILE", PEER_FOR_BOTH, 0, parse_key,
	  "private key of the --cert given in the same position" },
	{ "servername", "NAME", PEER_FOR_CLIENT, PEER_FIELD(po_servername), NULL,
	  "name to send as SNI and to verify (default: HOST)" },
	{ "verify-client", "POLICY", PEER_FOR_SERVER, 0, parse_verify_client,
	  "ask for a client certificate: none, optional or required" },
	{ "alpn", "LIST", PEER_FOR_BOTH, PEER_FIELD(po_alpn), NULL,
	  "application protocols in preference order (h2,http/1.1)" },
	{ "groups", "LIST", PEER_FOR_BOTH, PEER_FIELD(po_groups), NULL,
	  "key exchange groups (x25519,secp256r1,secp384r1)" },
	{ "ciphers", "LIST", PEER_FOR_BOTH, PEER_FIELD(po_ciphers), NULL,
	  "cipher suites (TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,...)" },
	{ "min-version", "VERSION", PEER_FOR_BOTH, 0, parse_min_version,
	  "lowest TLS version: 1.2 or 1.3" },
	{ "max-version", "VERSION", PEER_FOR_BOTH, 0, parse_max_version,
	  "highest TLS version: 1.2 or 1.3" },
	{ "insecure", NULL, PEER_FOR_CLIENT, PEER_FIELD(po_insecure), NULL,
	  "do not verify the server certificate" },
	{ "no-ktls", NULL, PEER_FOR_BOTH, PEER_FIELD(po_no_ktls), NULL,
	  "keep record protection in userspace" },
	{ "require-ktls", NULL, PEER_FOR_BOTH, PEER_FIELD(po_require_ktls), NULL,
	  "fail (and close) unless the kernel takes both directions" },
	{ "ktlsd", "SOCKET", PEER_FOR_BOTH, PEER_FIELD(po_ktlsd), NULL,
	  "let ktlsd listening on SOCKET do the handshake (ktls_upgrade(3))" },
	{ "ktlsd-module", NULL, PEER_FOR_BOTH, PEER_FIELD(po_ktlsd_module), NULL,
	  "let ktlsd do the handshake, handing it the socket through ktlsd.ko" },
	{ "identity", "NAME", PEER_FOR_BOTH, PEER_FIELD(po_identity), NULL,
	  "with --ktlsd or --ktlsd-module: the daemon's identity (server: required)" },
	{ "once", NULL, PEER_FOR_SERVER, PEER_FIELD(po_once), NULL,
	  "exit after one connection, with its status" },
	{ "echo", NULL, PEER_FOR_SERVER, PEER_FIELD(po_echo), NULL,
	  "send back what the client sends instead of using stdin/stdout" },
};

static const char *peer_operands(enum ktls_role role)
{
	return role == KTLS_ROLE_SERVER ? "PORT" : "HOST PORT";
}

static void peer_synopsis(FILE *out, enum ktls_role role)
{
	fprintf(out, "usage: %s [OPTIONS] %s\n", peer_tool_name(role), peer_operands(role));
}

static void peer_help(FILE *out, enum ktls_role role)
{
	char left[64];
	size_t i;

	peer_synopsis(out, role);
	fprintf(out, "\nOptions:\n");
	for (i = 0; i < ARRAY_SIZE(peer_option_table); i++) {
		const struct peer_option_spec *opt = &peer_option_table[i];

		if (!(opt->os_roles & (1u << role)))
			continue;
		snprintf(left, sizeof(left), "--%s%s%s", opt->os_name,
			 opt->os_metavar ? " " : "", opt->os_metavar ? opt->os_metavar : "");
		fprintf(out, "  %-24s %s\n", left, opt->os_help);
	}
	fprintf(out, "  %-24s %s\n", "-h, --help", "show this help and exit");
}

static int usage_error(enum ktls_role role)
{
	peer_synopsis(stderr, role);
	fprintf(stderr, "Run '%s --help' for the options.\n", peer_tool_name(role));
	return PEER_EXIT_USAGE;
}

static void apply_plain_option(struct peer_options *opts, const struct peer_option_spec *opt,
			       const char *arg)
{
	char *field = (char *)opts + opt->os_field;

	if (opt->os_metavar)
		*(const char **)field = arg;
	else
		*(bool *)field = true;
}

/* The PORT a server listens on: a number, 0 for any free port. */
static int parse_listen_port(struct peer_options *opts)
{
	char *end;
	unsigned long port;

	errno = 0;
	port = strtoul(opts->po_port, &end, 10);
	if (errno || end == opts->po_port || *end || port > 65535 || opts->po_port[0] == '-') {
		fprintf(stderr, "error: PORT must be a number from 0 to 65535, not '%s'\n",
			opts->po_port);
		return -1;
	}
	opts->po_listen_port = (uint16_t)port;
	return 0;
}

static int take_operands(struct peer_options *opts, int argc, char **argv)
{
	int wanted = opts->po_role == KTLS_ROLE_SERVER ? 1 : 2;

	if (argc != wanted) {
		fprintf(stderr, "error: expected %s\n", peer_operands(opts->po_role));
		return -1;
	}
	if (opts->po_role == KTLS_ROLE_SERVER) {
		opts->po_port = argv[0];
		return parse_listen_port(opts);
	}
	opts->po_host = argv[0];
	opts->po_port = argv[1];
	return 0;
}

/* With --ktlsd the daemon's configuration decides what these would. */
static int check_ktlsd_combinations(const struct peer_options *opts)
{
	if (opts->po_ktlsd && opts->po_ktlsd_module) {
		fprintf(stderr, "error: --ktlsd and --ktlsd-module are two ways to one daemon; "
			"choose one\n");
		return -1;
	}
	if (opts->po_cert_count || opts->po_ca || opts->po_groups || opts->po_ciphers ||
	    opts->po_min_version || opts->po_max_version || opts->po_no_ktls ||
	    opts->po_verify_client != KTLS_VERIFY_NONE) {
		fprintf(stderr, "error: with --ktlsd, certificates, trust, versions, suites and "
			"groups are ktlsd.conf(5)'s to set\n");
		return -1;
	}
	if (opts->po_role == KTLS_ROLE_SERVER && !opts->po_identity) {
		fprintf(stderr, "error: the server needs --identity NAME with --ktlsd or "
			"--ktlsd-module\n");
		return -1;
	}
	return 0;
}

/* What getopt cannot check: options that only make sense together. */
static int check_combinations(const struct peer_options *opts)
{
	if (opts->po_ktlsd || opts->po_ktlsd_module)
		return check_ktlsd_combinations(opts);
	if (opts->po_identity) {
		fprintf(stderr, "error: --identity names one of ktlsd's; it needs --ktlsd or "
			"--ktlsd-module\n");
		return -1;
	}
	if (opts->po_cert_count != opts->po_key_count) {
		fprintf(stderr, "error: each --cert needs its --key (%zu --cert, %zu --key)\n",
			opts->po_cert_count, opts->po_key_count);
		return -1;
	}
	if (opts->po_role == KTLS_ROLE_CLIENT && opts->po_cert_count > 1) {
		fprintf(stderr, "error: the client takes one --cert/--key pair\n");
		return -1;
	}
	if (opts->po_role == KTLS_ROLE_SERVER && !opts->po_cert_count) {
		fprintf(stderr, "error: the server needs --cert FILE --key FILE\n");
		return -1;
	}
	if (opts->po_min_version && opts->po_max_version &&
	    opts->po_min_version > opts->po_max_version) {
		fprintf(stderr, "error: --min-version is above --max-version\n");
		return -1;
	}
	return 0;
}

int peer_options_parse(struct peer_options *opts, enum ktls_role role,
		       int argc, char **argv)
{
	struct option longopts[ARRAY_SIZE(peer_option_table) + 2];
	size_t count = 0;
	size_t i;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->po_role = role;
	opts->po_verify_client = KTLS_VERIFY_NONE;

	for (i = 0; i < ARRAY_SIZE(peer_option_table); i++) {
		const struct peer_option_spec *opt = &peer_option_table[i];

		if (!(opt->os_roles & (1u << role)))
			continue;
		longopts[count++] = (struct option){
			.name = opt->os_name,
			.has_arg = opt->os_metavar ? required_argument : no_argument,
			.val = PEER_OPTION_BASE + (int)i,
		};
	}
	longopts[count++] = (struct option){ .name = "help", .val = 'h' };
	longopts[count] = (struct option){ 0 };

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const struct peer_option_spec *opt;

		if (c == 'h') {
			peer_help(stdout, role);
			return PEER_EXIT_OK;
		}
		if (c < PEER_OPTION_BASE)	/* getopt has said what was wrong */
			return usage_error(role);
		opt = &peer_option_table[c - PEER_OPTION_BASE];
		if (!opt->os_parse)
			apply_plain_option(opts, opt, optarg);
		else if (opt->os_parse(opts, optarg))
			return usage_error(role);
	}
	if (take_operands(opts, argc - optind, argv + optind) || check_combinations(opts))
		return usage_error(role);
	return PEER_RUN;
}

void peer_options_free(struct peer_options *opts)
{
	free(opts->po_certs);
	free(opts->po_keys);
	opts->po_certs = NULL;
	opts->po_keys = NULL;
	opts->po_cert_count = 0;
	opts->po_key_count = 0;
}

/* ---- configuration ---- */

/*
 * Prints "error: <what>: <why>" for a setting @cfg refused; @err is what
 * the refusing call returned.
 */
static int config_refused(const struct ktls_config *cfg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int config_refused(const struct ktls_config *cfg, int err, const char *fmt, ...)
{
	const char *detail = ktls_config_error(cfg);
	va_list ap;

	if (!detail || !*detail)
		detail = ktls_error_string(err);
	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", detail ? detail : "rejected");
	return -1;
}

/* Settings that are a comma separated list of names, checked by libktls. */
static const struct {
	const char *cl_option;
	size_t cl_field;
	int (*cl_set)(struct ktls_config *cfg, const char *list);
} config_lists[] = {
	{ "--ciphers", PEER_FIELD(po_ciphers), ktls_config_set_ciphers },
	{ "--groups", PEER_FIELD(po_groups), ktls_config_set_groups },
	{ "--alpn", PEER_FIELD(po_alpn), ktls_config_set_alpn },
};

static int config_set_lists(struct ktls_config *cfg, const struct peer_options *opts)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(config_lists); i++) {
		const char *list = *(const char *const *)((const char *)opts +
							    config_lists[i].cl_field);

		if (!list)
			continue;
		err = config_lists[i].cl_set(cfg, list);
		if (err)
			return config_refused(cfg, err, "%s %s", config_lists[i].cl_option,
					      list);
	}
	return 0;
}

static int config_set_versions(struct ktls_config *cfg, const struct peer_options *opts)
{
	uint16_t min = opts->po_min_version ? opts->po_min_version : KTLS_VERSION_TLS12;
	uint16_t max = opts->po_max_version ? opts->po_max_version : KTLS_VERSION_TLS13;
	int err;

	if (!opts->po_min_version && !opts->po_max_version)
		return 0;
	err = ktls_config_set_versions(cfg, min, max);
	if (err)
		return config_refused(cfg, err, "--min-version/--max-version");
	return 0;
}

static int config_load_ca(struct ktls_config *cfg, const char *path)
{
	struct stat st;
	int err;

	/* A missing path goes to set_ca_file, which says it is missing. */
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		err = ktls_config_set_ca_dir(cfg, path);
	else
		err = ktls_config_set_ca_file(cfg, path);
	if (err)
		return config_refused(cfg, err, "--ca %s", path);
	return 0;
}

/*
 * Trust anchors are needed when this side checks the peer: a client
 * always unless --insecure, a server when it asks for client certificates.
 */
static int config_set_trust(struct ktls_config *cfg, const struct peer_options *opts)
{
	bool checks_peer;
	int err;

	if (opts->po_role == KTLS_ROLE_CLIENT) {
		checks_peer = !opts->po_insecure;
		err = ktls_config_set_verify(cfg, checks_peer ? KTLS_VERIFY_REQUIRED :
								KTLS_VERIFY_NONE);
		if (err)
			return config_refused(cfg, err, "server verification policy");
	} else {
		checks_peer = opts->po_verify_client != KTLS_VERIFY_NONE;
		err = ktls_config_set_verify_client(cfg, opts->po_verify_client);
		if (err)
			return config_refused(cfg, err, "--verify-client");
	}
	if (opts->po_ca)
		return config_load_ca(cfg, opts->po_ca);
	if (!checks_peer)
		return 0;
	err = ktls_config_set_ca_system(cfg);
	if (err)
		return config_refused(cfg, err, "system trust store (no --ca given)");
	return 0;
}

static int config_add_identities(struct ktls_config *cfg, const struct peer_options *opts)
{
	size_t i;
	int err;

	for (i = 0; i < opts->po_cert_count; i++) {
		err = ktls_config_add_identity(cfg, opts->po_certs[i], opts->po_keys[i]);
		if (err)
			return config_refused(cfg, err, "--cert %s --key %s",
					      opts->po_certs[i], opts->po_keys[i]);
	}
	return 0;
}

int peer_config_build(const struct peer_options *opts, struct ktls_config **cfgp)
{
	struct ktls_config *cfg = ktls_config_new();

	if (!cfg) {
		fprintf(stderr, "error: out of memory\n");
		return PEER_EXIT_FAILURE;
	}
	/* Names first: a typo in a list fails before any file is read. */
	if (config_set_lists(cfg, opts) || config_set_versions(cfg, opts) ||
	    config_set_trust(cfg, opts) || config_add_identities(cfg, opts)) {
		ktls_config_free(cfg);
		return PEER_EXIT_USAGE;
	}
	*cfgp = cfg;
	return PEER_EXIT_OK;
}

/* ---- error lines ---- */

void peer_perror(const char *what)
{
	fprintf(stderr, "error: %s: %s\n", what, strerror(errno));
}

void peer_report_tls_error(const struct ktls_conn *conn, int err)
{
	const char *reason = conn ? ktls_get_error_detail(conn) : NULL;
	const char *alert_name;
	int alert = -1;

	if (!reason || !*reason)
		reason = ktls_error_string(err);
	if (!reason)
		reason = "unknown error";
	if (KTLS_ERROR_IS_SELF_ALERT(err))
		alert = err;
	else if (KTLS_ERROR_IS_PEER_ALERT(err))
		alert = err - KTLS_ERROR_CLASS_PEER_ALERT;
	if (alert < 0) {
		fprintf(stderr, "error: %s\n", reason);
		return;
	}
	alert_name = ktls_alert_name(alert);
	fprintf(stderr, "error: %s (alert %s)\n", reason, alert_name ? alert_name : "unknown");
}

/* ---- one connection ---- */

struct peer_session {
	struct ktls_conn *ps_conn;
	const struct peer_options *ps_opts;
	int ps_sock;
	struct ktls_buf ps_net_in;	/* received, not yet taken by the engine */
	struct ktls_buf ps_net_out;	/* records waiting for the socket */
	struct ktls_buf ps_plain_out;	/* decrypted, waiting for stdout */
	bool ps_sock_eof;		/* the peer shut down its half of TCP */
	bool ps_peer_closed;		/* close_notify or TCP EOF: no more input */
	bool ps_stdin_eof;
	bool ps_close_queued;		/* our close_notify is in ps_net_out */
	bool ps_write_shut;		/* ... and has been sent, then SHUT_WR */
	/*
	 * Directions the kernel seals or opens (kTLS). For those ps_net_out
	 * holds plaintext for send(), and reading goes through ktls_read().
	 */
	bool ps_kernel_tx;
	bool ps_kernel_rx;
	char ps_ktls[PEER_FIELD_MAX];	/* the handshake line's ktls= field */
};

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		peer_perror("fcntl");
		return -1;
	}
	return 0;
}

static int session_init(struct peer_session *s, struct ktls_conn *conn, int sock,
			const struct peer_options *opts)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->ps_conn = conn;
	s->ps_opts = opts;
	s->ps_sock = sock;
	ktls_buf_init(&s->ps_net_in, NULL, 0);
	ktls_buf_init(&s->ps_net_out, NULL, 0);
	ktls_buf_init(&s->ps_plain_out, NULL, 0);
	/* The engine is always handed a real pointer, even with no input yet. */
	err = ktls_buf_reserve(&s->ps_net_in, PEER_SOCKET_READ);
	if (err) {
		peer_report_tls_error(NULL, err);
		return PEER_EXIT_FAILURE;
	}
	return PEER_EXIT_OK;
}

static void session_dispose(struct peer_session *s)
{
	ktls_buf_dispose(&s->ps_net_in);
	ktls_buf_dispose(&s->ps_net_out);
	ktls_buf_dispose(&s->ps_plain_out);
}

static int session_read_socket(struct peer_session *s)
{
	struct ktls_buf *in = &s->ps_net_in;
	ssize_t n;
	int err;

	err = ktls_buf_reserve(in, PEER_SOCKET_READ);
	if (err) {
		peer_report_tls_error(NULL, err);
		return -1;
	}
	do {
		n = recv(s->ps_sock, in->base + in->off, in->capacity - in->off, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		in->off += (size_t)n;
		return 0;
	}
	if (!n) {
		s->ps_sock_eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	peer_perror("recv");
	return -1;
}

/* Sends what the socket takes now; the rest waits for POLLOUT. */
static int session_write_socket(struct peer_session *s)
{
	struct ktls_buf *out = &s->ps_net_out;
	ssize_t n;

	while (out->off) {
		n = send(s->ps_sock, out->base, out->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			peer_perror("send");
			return -1;
		}
		ktls_buf_shift(out, (size_t)n);
	}
	return 0;
}

/*
 * A failed engine has put its alert at the end of ps_net_out: give it a
 * bounded chance to leave, since the connection is over either way.
 */
static void session_flush_alert(struct peer_session *s)
{
	struct pollfd pfd = { .fd = s->ps_sock, .events = POLLOUT };
	struct ktls_buf *out = &s->ps_net_out;
	ssize_t n;

	while (out->off) {
		n = send(s->ps_sock, out->base, out->off, MSG_NOSIGNAL);
		if (n > 0) {
			ktls_buf_shift(out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    poll(&pfd, 1, PEER_ALERT_FLUSH_MS) > 0)
			continue;
		break;
	}
}

static int session_fail(struct peer_session *s, int err)
{
	session_flush_alert(s);
	peer_report_tls_error(s->ps_conn, err);
	return -1;
}

/* Waits until the socket can take ps_net_out or has more input. */
static int session_wait_handshake(struct peer_session *s)
{
	struct pollfd pfd = { .fd = s->ps_sock, .events = POLLIN };

	if (s->ps_net_out.off)
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, -1) < 0) {
		if (errno == EINTR)
			return 0;
		peer_perror("poll");
		return -1;
	}
	if ((pfd.revents & (POLLOUT | POLLERR | POLLHUP)) && s->ps_net_out.off &&
	    session_write_socket(s))
		return -1;
	if (!(pfd.revents & (POLLIN | POLLERR | POLLHUP)))
		return 0;
	if (session_read_socket(s))
		return -1;
	if (s->ps_sock_eof) {
		fprintf(stderr, "error: the peer closed the connection during the handshake\n");
		return -1;
	}
	return 0;
}

static int session_handshake(struct peer_session *s)
{
	size_t inlen;
	int err;

	for (;;) {
		inlen = s->ps_net_in.off;
		err = ktls_handshake(s->ps_conn, &s->ps_net_out, s->ps_net_in.base, &inlen);
		/*
		 * What the engine left is either a partial record or, once the
		 * handshake is complete, application data for ktls_receive().
		 */
		ktls_buf_shift(&s->ps_net_in, inlen);
		if (!err)
			return PEER_EXIT_OK;	/* the last flight goes out in the data phase */
		if (err != KTLS_ERROR_IN_PROGRESS) {
			session_fail(s, err);
			return PEER_EXIT_FAILURE;
		}
		/* It may take one record per call: offer the rest before waiting. */
		if (inlen && s->ps_net_in.off)
			continue;
		if (session_wait_handshake(s))
			return PEER_EXIT_FAILURE;
	}
}

/*
 * Copies @value into @out for the handshake line, "-" when there is none.
 * Peer-chosen bytes must not break the line apart, so anything outside
 * printable ASCII (and, unquoted, the space) becomes \xNN; quoting also
 * escapes '"' and '\'.
 */
static void format_field(char *out, size_t size, const char *value, bool quote)
{
	size_t used = 0;
	const unsigned char *p;

	if (!value || !*value) {
		snprintf(out, size, "-");
		return;
	}
	if (quote)
		out[used++] = '"';
	for (p = (const unsigned char *)value; *p && used + 6 < size; p++) {
		if (*p < 0x20 || *p > 0x7e || (!quote && *p == ' '))
			used += (size_t)snprintf(out + used, size - used, "\\x%02x", *p);
		else if (quote && (*p == '"' || *p == '\\'))
			used += (size_t)snprintf(out + used, size - used, "\\%c", *p);
		else
			out[used++] = (char)*p;
	}
	if (quote)
		out[used++] = '"';
	out[used] = '\0';
}

static const char *or_dash(const char *value)
{
	return value && *value ? value : "-";
}

static void session_report_handshake(const struct peer_session *s, const char *ktls)
{
	const struct ktls_conn *conn = s->ps_conn;
	char alpn[PEER_FIELD_MAX];
	char peer[PEER_FIELD_MAX];

	format_field(alpn, sizeof(alpn), ktls_get_alpn(conn), false);
	format_field(peer, sizeof(peer), ktls_get_peer_subject(conn), true);
	fprintf(stderr, "handshake: version=%s cipher=%s group=%s sigalg=%s alpn=%s peer=%s ktls=%s\n",
		or_dash(ktls_get_version_name(conn)), or_dash(ktls_get_cipher_name(conn)),
		or_dash(ktls_get_group_name(conn)), or_dash(ktls_get_sigalg_name(conn)),
		alpn, peer, ktls);
	fflush(stderr);
}

/*
 * --ktlsd and --ktlsd-module: the daemon does the handshake and installs
 * kTLS; this process never holds a key, so there is no engine state here
 * from now on.
 */
static int session_upgrade_through_ktlsd(struct peer_session *s)
{
	const struct peer_options *opts = s->ps_opts;
	struct ktls_upgrade_opts uo = {
		.role = opts->po_role,
		.peer_name = opts->po_role == KTLS_ROLE_CLIENT ?
			     ktls_get_server_name(s->ps_conn) : NULL,
		.alpn = opts->po_alpn,
		.identity = opts->po_identity,
		.verify = opts->po_insecure ? KTLSD_VERIFY_NONE : KTLSD_VERIFY_DEFAULT,
		.socket_path = opts->po_ktlsd,
		.via = opts->po_ktlsd_module ? KTLS_VIA_MODULE : KTLS_VIA_DEFAULT,
	};
	struct ktls_upgrade_info info;
	char alpn[PEER_FIELD_MAX], peer[PEER_FIELD_MAX];
	int ret;

	ret = ktls_upgrade(s->ps_sock, &uo, &info);
	if (ret) {
		format_field(peer, sizeof(peer), info.detail, true);
		fprintf(stderr, "error: ktlsd: %s%s%s\n", strerror(-ret), info.detail[0] ? ": " : "",
			info.detail[0] ? peer : "");
		return -1;
	}
	s->ps_conn = NULL;
	s->ps_kernel_tx = s->ps_kernel_rx = true;
	format_field(alpn, sizeof(alpn), info.alpn, false);
	format_field(peer, sizeof(peer), info.peer_subject, true);
	fprintf(stderr, "handshake: version=%s cipher=%s group=%s sigalg=- alpn=%s peer=%s "
		"ktls=tx+rx via=%s\n",
		info.version == KTLS_VERSION_TLS13 ? "TLSv1.3" :
		info.version == KTLS_VERSION_TLS12 ? "TLSv1.2" : "-", or_dash(info.cipher),
		or_dash(info.group), alpn, peer, opts->po_ktlsd_module ? "ktlsd.ko" : "ktlsd");
	fflush(stderr);
	return 0;
}

static int session_echo(struct peer_session *s);

/* Sends all of ps_net_out, waiting for the socket as long as it takes (bounded). */
static int session_flush(struct peer_session *s)
{
	struct pollfd pfd = { .fd = s->ps_sock, .events = POLLOUT };

	while (s->ps_net_out.off) {
		if (session_write_socket(s))
			return -1;
		if (s->ps_net_out.off && poll(&pfd, 1, PEER_ALERT_FLUSH_MS * 5) == 0) {
			fprintf(stderr, "error: the peer does not take our last flight\n");
			return -1;
		}
	}
	return 0;
}

/*
 * Moves record protection to the kernel. The engine sealed our last
 * flight, so it leaves first; bytes the handshake did not consume go to
 * ktls_install(), which decrypts them so the kernel starts on a record
 * boundary. A direction the kernel refuses stays with the engine, and the
 * handshake line says which and why.
 */
static int session_install_kernel_tls(struct peer_session *s)
{
	struct ktls_install_status st;
	char reason[sizeof(st.detail) * 2];
	int ret;

	if (session_flush(s))
		return -1;
	ret = ktls_install(s->ps_conn, s->ps_sock, s->ps_net_in.base, s->ps_net_in.off,
			   &s->ps_plain_out, NULL, &st);
	if (st.pending_consumed)
		ktls_buf_shift(&s->ps_net_in, s->ps_net_in.off);
	if (st.pending_errno) {
		/* The records read past the handshake were bad: the connection is over. */
		if (ktls_get_error(s->ps_conn))
			return session_fail(s, ktls_get_error(s->ps_conn));
		fprintf(stderr, "error: %s\n", st.detail);
		return -1;
	}
	s->ps_kernel_tx = st.installed & KTLS_INSTALLED_TX;
	s->ps_kernel_rx = st.installed & KTLS_INSTALLED_RX;
	if (!ret) {
		snprintf(s->ps_ktls, sizeof(s->ps_ktls), "%s", ktls_install_name(st.installed));
		return 0;
	}
	if (s->ps_opts->po_require_ktls) {
		/* Nothing was sent after the handshake: closing loses no data. */
		fprintf(stderr, "error: kTLS not installed (%s): %s\n",
			ktls_install_name(st.installed), st.detail);
		return -1;
	}
	format_field(reason, sizeof(reason), st.detail, true);
	snprintf(s->ps_ktls, sizeof(s->ps_ktls), "%s ktls_error=%s",
		 ktls_install_name(st.installed), reason);
	return 0;
}

static int session_offload(struct peer_session *s)
{
	int ret = 0;

	if (s->ps_opts->po_no_ktls)
		snprintf(s->ps_ktls, sizeof(s->ps_ktls), "off");
	else
		ret = session_install_kernel_tls(s);
	if (ret)
		return ret;
	if (ktls_peer_closed(s->ps_conn))
		s->ps_peer_closed = true;
	/* Data that came with the handshake's end, decrypted by the installer. */
	if (s->ps_opts->po_echo && s->ps_plain_out.off)
		return session_echo(s);
	return 0;
}

/* Seals @len bytes of plaintext into records in ps_net_out. */
static int session_send_plaintext(struct peer_session *s, const uint8_t *data, size_t len)
{
	size_t chunk;
	int err;

	/* The kernel seals what send() takes. */
	if (s->ps_kernel_tx) {
		err = ktls_buf_push(&s->ps_net_out, data, len);
		return err ? session_fail(s, err) : 0;
	}
	while (len) {
		chunk = len < PEER_CHUNK ? len : PEER_CHUNK;
		err = ktls_send(s->ps_conn, &s->ps_net_out, data, chunk);
		if (err)
			return session_fail(s, err);
		data += chunk;
		len -= chunk;
	}
	return 0;
}

static int session_queue_close(struct peer_session *s)
{
	int err;

	if (s->ps_close_queued)
		return 0;
	/* Through the kernel it goes out once the data before it has. */
	if (s->ps_kernel_tx) {
		s->ps_close_queued = true;
		return 0;
	}
	err = ktls_send_close_notify(s->ps_conn, &s->ps_net_out);
	if (err)
		return session_fail(s, err);
	s->ps_close_queued = true;
	return 0;
}

/*
 * Whether decrypting more would only pile up output nobody is taking.
 * Only the echo server holds back on its own ps_net_out: if the stdio
 * peers did that too, two of them sending at once could each wait for
 * the other to read first.
 */
static bool session_input_blocked(const struct peer_session *s)
{
	if (s->ps_opts->po_echo)
		return s->ps_net_out.off >= PEER_NET_OUT_HIGH;
	return s->ps_plain_out.off >= PEER_PLAIN_OUT_HIGH;
}

static int session_echo(struct peer_session *s)
{
	struct ktls_buf *plain = &s->ps_plain_out;
	int ret = session_send_plaintext(s, plain->base, plain->off);

	ktls_buf_shift(plain, plain->off);
	return ret;
}

/* Decrypts what ps_net_in holds, and decides when the input has ended. */
static int session_take_input(struct peer_session *s)
{
	bool stalled = false;
	size_t inlen;
	int err;

	if (s->ps_kernel_rx)
		return 0;	/* session_read_kernel() did the work */
	while (!s->ps_peer_closed && s->ps_net_in.off && !session_input_blocked(s)) {
		inlen = s->ps_net_in.off;
		err = ktls_receive(s->ps_conn, &s->ps_plain_out, &s->ps_net_out,
				   s->ps_net_in.base, &inlen);
		ktls_buf_shift(&s->ps_net_in, inlen);
		if (err && err != KTLS_ERROR_CLOSED)
			return session_fail(s, err);
		/* Data that came before a close_notify is still data. */
		if (s->ps_opts->po_echo && session_echo(s))
			return -1;
		if (err == KTLS_ERROR_CLOSED) {
			s->ps_peer_closed = true;
			break;
		}
		if (!inlen) {
			stalled = true;	/* a partial record: wait for the rest */
			break;
		}
	}
	if (!s->ps_sock_eof || s->ps_peer_closed)
		return 0;
	/* A TCP EOF between records ends the input as close_notify does. */
	if (!s->ps_net_in.off) {
		s->ps_peer_closed = true;
		return 0;
	}
	if (stalled) {
		fprintf(stderr, "error: the peer closed the connection in the middle of a record\n");
		return -1;
	}
	return 0;
}

/* close_notify through kTLS, as an alert record (TLS_SET_RECORD_TYPE). */
static int session_kernel_close_notify(struct peer_session *s)
{
	struct pollfd pfd = { .fd = s->ps_sock, .events = POLLOUT };
	int ret, tries;

	for (tries = 0; tries < 10; tries++) {
		ret = ktls_close_notify_fd(s->ps_conn, s->ps_sock);
		if (ret != -EAGAIN)
			break;
		poll(&pfd, 1, PEER_ALERT_FLUSH_MS);
	}
	/* A peer that already went away cannot be told; that is not our failure. */
	if (ret && ret != -EPIPE && ret != -ECONNRESET) {
		errno = -ret;
		peer_perror("close_notify");
		return -1;
	}
	return 0;
}

/* Answers close_notify (echo) and shuts TCP down once ours has left. */
static int session_close_when_due(struct peer_session *s)
{
	if (s->ps_opts->po_echo && s->ps_peer_closed && session_queue_close(s))
		return -1;
	if (s->ps_close_queued && !s->ps_write_shut && !s->ps_net_out.off) {
		if (s->ps_kernel_tx && session_kernel_close_notify(s))
			return -1;
		/* A peer that already reset makes this fail; nothing is lost then. */
		shutdown(s->ps_sock, SHUT_WR);
		s->ps_write_shut = true;
	}
	return 0;
}

static bool session_is_finished(const struct peer_session *s)
{
	return s->ps_write_shut && s->ps_peer_closed && !s->ps_plain_out.off;
}

enum {
	PEER_POLL_SOCKET,
	PEER_POLL_STDIN,
	PEER_POLL_STDOUT,
	PEER_POLL_COUNT,
};

/* Fills @pfd with what the session waits for; false if it waits for nothing. */
static bool session_poll_setup(const struct peer_session *s, struct pollfd *pfd)
{
	bool read_socket = !s->ps_peer_closed && !s->ps_sock_eof && !session_input_blocked(s);
	bool read_stdin = !s->ps_opts->po_echo && !s->ps_stdin_eof && !s->ps_close_queued &&
			  s->ps_net_out.off < PEER_NET_OUT_HIGH;
	short sock_events = (read_socket ? POLLIN : 0) | (s->ps_net_out.off ? POLLOUT : 0);

	pfd[PEER_POLL_SOCKET] = (struct pollfd){
		.fd = sock_events ? s->ps_sock : -1,
		.events = sock_events,
	};
	pfd[PEER_POLL_STDIN] = (struct pollfd){
		.fd = read_stdin ? STDIN_FILENO : -1,
		.events = POLLIN,
	};
	pfd[PEER_POLL_STDOUT] = (struct pollfd){
		.fd = s->ps_plain_out.off ? STDOUT_FILENO : -1,
		.events = POLLOUT,
	};
	return sock_events || read_stdin || s->ps_plain_out.off;
}

static int session_read_stdin(struct peer_session *s)
{
	uint8_t chunk[PEER_CHUNK];
	ssize_t n;
	int ret;

	n = read(STDIN_FILENO, chunk, sizeof(chunk));
	if (n > 0) {
		ret = session_send_plaintext(s, chunk, (size_t)n);
		explicit_bzero(chunk, (size_t)n);
		return ret;
	}
	if (!n) {
		s->ps_stdin_eof = true;
		return session_queue_close(s);
	}
	if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	peer_perror("read from stdin");
	return -1;
}

static int session_write_stdout(struct peer_session *s)
{
	struct ktls_buf *plain = &s->ps_plain_out;
	size_t len = plain->off < PEER_STDOUT_WRITE ? plain->off : PEER_STDOUT_WRITE;
	ssize_t n;

	n = write(STDOUT_FILENO, plain->base, len);
	if (n > 0) {
		ktls_buf_shift(plain, (size_t)n);
		return 0;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (!n)
		errno = EIO;
	peer_perror("write to stdout");
	return -1;
}

/* Reads plaintext from the kernel, which handles records read() cannot. */
static int session_read_kernel(struct peer_session *s)
{
	struct ktls_buf *plain = &s->ps_plain_out;
	ssize_t n;
	int err;

	err = ktls_buf_reserve(plain, PEER_SOCKET_READ);
	if (err) {
		peer_report_tls_error(NULL, err);
		return -1;
	}
	n = ktls_read(s->ps_conn, s->ps_sock, plain->base + plain->off,
		      plain->capacity - plain->off);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	/* TCP ended without close_notify: as on the userspace path, the end of input. */
	if (n == -ECONNRESET && !ktls_get_error(s->ps_conn))
		n = 0;
	if (n < 0) {
		if (ktls_get_error(s->ps_conn)) {
			peer_report_tls_error(s->ps_conn, ktls_get_error(s->ps_conn));
		} else {
			errno = (int)-n;
			peer_perror("read from the kTLS socket");
		}
		return -1;
	}
	if (!n) {
		s->ps_peer_closed = true;
		s->ps_sock_eof = true;
	}
	plain->off += (size_t)n;
	if (s->ps_opts->po_echo && session_echo(s))
		return -1;
	return 0;
}

static int session_handle_events(struct peer_session *s, const struct pollfd *pfd)
{
	short sock_ready = pfd[PEER_POLL_SOCKET].revents;

	if (pfd[PEER_POLL_STDOUT].revents && session_write_stdout(s))
		return -1;
	if ((sock_ready & (POLLOUT | POLLERR | POLLHUP)) &&
	    (pfd[PEER_POLL_SOCKET].events & POLLOUT) && session_write_socket(s))
		return -1;
	if ((sock_ready & (POLLIN | POLLERR | POLLHUP)) &&
	    (pfd[PEER_POLL_SOCKET].events & POLLIN) &&
	    (s->ps_kernel_rx ? session_read_kernel(s) : session_read_socket(s)))
		return -1;
	if (pfd[PEER_POLL_STDIN].revents && session_read_stdin(s))
		return -1;
	return 0;
}

static int session_transfer(struct peer_session *s)
{
	struct pollfd pfd[PEER_POLL_COUNT];

	for (;;) {
		if (session_take_input(s) || session_close_when_due(s))
			return PEER_EXIT_FAILURE;
		if (session_is_finished(s))
			return PEER_EXIT_OK;
		if (!session_poll_setup(s, pfd)) {
			fprintf(stderr, "error: internal: the session waits for nothing\n");
			return PEER_EXIT_FAILURE;
		}
		if (poll(pfd, PEER_POLL_COUNT, -1) < 0) {
			if (errno == EINTR)
				continue;
			peer_perror("poll");
			return PEER_EXIT_FAILURE;
		}
		if (session_handle_events(s, pfd))
			return PEER_EXIT_FAILURE;
	}
}

int peer_run(struct ktls_conn *conn, int sock, const struct peer_options *opts)
{
	struct peer_session s;
	int one = 1;
	int status;

	/* A reader leaving stdout early is reported as an error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (set_nonblocking(sock))
		return PEER_EXIT_FAILURE;
	/* Flights and records are written whole; Nagle would only delay them. */
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	status = session_init(&s, conn, sock, opts);
	if (status == PEER_EXIT_OK && (opts->po_ktlsd || opts->po_ktlsd_module)) {
		if (session_upgrade_through_ktlsd(&s))
			status = PEER_EXIT_FAILURE;
		else
			status = session_transfer(&s);
		session_dispose(&s);
		return status;
	}
	if (status == PEER_EXIT_OK)
		status = session_handshake(&s);
	if (status == PEER_EXIT_OK && session_offload(&s))
		status = PEER_EXIT_FAILURE;
	if (status == PEER_EXIT_OK) {
		session_report_handshake(&s, s.ps_ktls);
		status = session_transfer(&s);
	}
	session_dispose(&s);
	return status;
}
