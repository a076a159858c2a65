// SPDX-License-Identifier: GPL-2.0-only
/*
 * gnutls_peer.c - a TLS peer on GnuTLS's own record layer, for selftests.
 *
 * ktls_peer_test.c moves bulk data between libktls with kTLS and this
 * program, which relays its stdin into the connection and what arrives
 * into its stdout, as openssl s_server -quiet and s_client -quiet do.
 * GnuTLS's own programs could not carry 16 MiB each way: gnutls-serv
 * drops a connection 30 s after accepting it, and gnutls-cli writes its
 * stdout one byte per write(2). Every record here is sealed and opened
 * by GnuTLS in userspace, so nothing of ours is on both ends.
 *
 *   gnutls_peer server --port PORT --priority STRING --cert FILE --key FILE
 *   gnutls_peer client --port PORT --priority STRING --ca FILE [--name NAME]
 *
 * The server accepts one connection on 127.0.0.1:PORT; the client
 * connects there and checks the certificate against the CA file and NAME
 * (default "localhost"), which it also sends as SNI. After the handshake
 * one line on stderr names what was negotiated:
 *
 *   gnutls_peer: TLS1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
 *
 * Closing (RFC 5246 7.2.1): the end of stdin sends close_notify and waits
 * for the other side's; a close_notify that comes first is answered with
 * ours at once, and unsent stdin is dropped. Either way the program exits
 * 0 once both have been seen. The whole run is bounded by --timeout.
 *
 * Exit status: 0 both close_notify exchanged; 1 usage; 2 setup (files,
 * priority string, socket); 3 handshake; 4 transfer (a record error, the
 * stream ending without close_notify, stdin or stdout failing);
 * 5 the timeout passed.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

enum peer_exit {
	PEER_EXIT_OK		= 0,
	PEER_EXIT_USAGE		= 1,
	PEER_EXIT_SETUP		= 2,
	PEER_EXIT_HANDSHAKE	= 3,
	PEER_EXIT_TRANSFER	= 4,
	PEER_EXIT_TIMEOUT	= 5,
};

#define DEFAULT_TIMEOUT_S	180
#define DEFAULT_NAME		"localhost"

/* One full TLS record of plaintext: GnuTLS never returns more at once. */
#define RELAY_CHUNK		16384

struct peer_options {
	int		po_server;
	int		po_port;
	unsigned int	po_timeout;
	const char	*po_priority;
	const char	*po_ca;
	const char	*po_cert;
	const char	*po_key;
	const char	*po_name;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: gnutls_peer server --port PORT --priority STRING --cert FILE --key FILE\n"
		"       gnutls_peer client --port PORT --priority STRING --ca FILE [--name NAME]\n"
		"       common: [--timeout SECONDS] (default %d)\n",
		DEFAULT_TIMEOUT_S);
}

/* 0 and the value in @out when @text is a whole number in [@min, @max]. */
static int parse_number(const char *text, long min, long max, long *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max)
		return -EINVAL;
	*out = value;
	return 0;
}

static int parse_options(int argc, char **argv, struct peer_options *opts)
{
	static const struct option table[] = {
		{ "port",	required_argument, NULL, 'p' },
		{ "priority",	required_argument, NULL, 'P' },
		{ "ca",		required_argument, NULL, 'a' },
		{ "cert",	required_argument, NULL, 'c' },
		{ "key",	required_argument, NULL, 'k' },
		{ "name",	required_argument, NULL, 'n' },
		{ "timeout",	required_argument, NULL, 't' },
		{ NULL,		0,		   NULL, 0 },
	};
	long number;
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->po_timeout = DEFAULT_TIMEOUT_S;
	opts->po_name = DEFAULT_NAME;
	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[1], "server"))
		opts->po_server = 1;
	else if (strcmp(argv[1], "client"))
		return -EINVAL;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", table, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_number(optarg, 1, 65535, &number))
				return -EINVAL;
			opts->po_port = (int)number;
			break;
		case 't':
			if (parse_number(optarg, 1, 3600, &number))
				return -EINVAL;
			opts->po_timeout = (unsigned int)number;
			break;
		case 'P':
			opts->po_priority = optarg;
			break;
		case 'a':
			opts->po_ca = optarg;
			break;
		case 'c':
			opts->po_cert = optarg;
			break;
		case 'k':
			opts->po_key = optarg;
			break;
		case 'n':
			opts->po_name = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !opts->po_port || !opts->po_priority)
		return -EINVAL;
	if (opts->po_server ? !opts->po_cert || !opts->po_key : !opts->po_ca)
		return -EINVAL;
	return 0;
}

/* A stuck peer must not outlive its test: the whole run has a deadline. */
static void on_alarm(int sig)
{
	static const char msg[] = "gnutls_peer: timed out\n";
	ssize_t ignored;

	(void)sig;
	ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)ignored;
	_exit(PEER_EXIT_TIMEOUT);
}

static int connect_to_server(const struct sockaddr_in *addr)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Serves exactly one client: the listener is gone once it is accepted. */
static int accept_one(const struct sockaddr_in *addr)
{
	int listener, fd, one = 1;

	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0)
		return -errno;
	if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listener, (const struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(listener, 1))
		fd = -1;
	else
		fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	close(listener);
	return fd;
}

/* The connected socket, on 127.0.0.1 only: this is a test peer. */
static int open_connection(const struct peer_options *opts)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)opts->po_port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	return opts->po_server ? accept_one(&addr) : connect_to_server(&addr);
}

static int load_credentials(const struct peer_options *opts,
			    gnutls_certificate_credentials_t cred)
{
	int ret;

	if (opts->po_server) {
		ret = gnutls_certificate_set_x509_key_file(cred, opts->po_cert, opts->po_key,
							   GNUTLS_X509_FMT_PEM);
		if (ret < 0)
			fprintf(stderr, "gnutls_peer: %s, %s: %s\n", opts->po_cert,
				opts->po_key, gnutls_strerror(ret));
		return ret;
	}
	ret = gnutls_certificate_set_x509_trust_file(cred, opts->po_ca, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		fprintf(stderr, "gnutls_peer: %s: %s\n", opts->po_ca,
			ret ? gnutls_strerror(ret) : "no certificate");
		return ret ? ret : GNUTLS_E_FILE_ERROR;
	}
	return 0;
}

/* The session's settings for its role; the socket comes later. */
static int configure_session(const struct peer_options *opts, gnutls_session_t session,
			     gnutls_certificate_credentials_t cred)
{
	const char *where = NULL;
	int ret;

	ret = gnutls_priority_set_direct(session, opts->po_priority, &where);
	if (ret < 0) {
		fprintf(stderr, "gnutls_peer: priority string at \"%s\": %s\n",
			where ? where : "", gnutls_strerror(ret));
		return ret;
	}
	ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
	if (ret < 0 || opts->po_server)
		return ret;
	gnutls_session_set_verify_cert(session, opts->po_name, 0);
	return gnutls_server_name_set(session, GNUTLS_NAME_DNS, opts->po_name,
				      strlen(opts->po_name));
}

static int handshake(gnutls_session_t session)
{
	const char *version, *suite;
	int ret;

	gnutls_handshake_set_timeout(session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
	do {
		ret = gnutls_handshake(session);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		fprintf(stderr, "gnutls_peer: handshake: %s\n", gnutls_strerror(ret));
		return ret;
	}
	version = gnutls_protocol_get_name(gnutls_protocol_get_version(session));
	suite = gnutls_ciphersuite_get(session);
	fprintf(stderr, "gnutls_peer: %s %s\n", version ? version : "?", suite ? suite : "?");
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_all(gnutls_session_t session, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = gnutls_record_send(session, buf, len);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0) {
			fprintf(stderr, "gnutls_peer: send: %s\n", gnutls_strerror((int)n));
			return (int)n;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_close_notify(gnutls_session_t session)
{
	int ret;

	do {
		ret = gnutls_bye(session, GNUTLS_SHUT_WR);
	} while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
	if (ret < 0)
		fprintf(stderr, "gnutls_peer: close_notify: %s\n", gnutls_strerror(ret));
	return ret;
}

/*
 * Blocking I/O in one loop is enough: the test reads our stdout and the
 * socket whenever there is something for it, so a blocked write here
 * always moves on. Records GnuTLS has already read are not seen by poll,
 * hence the check for pending data first.
 */
static int relay(gnutls_session_t session, int sock)
{
	static char buf[RELAY_CHUNK];
	int stdin_open = 1;
	struct pollfd pfd[2];
	ssize_t n;

	for (;;) {
		pfd[0] = (struct pollfd){ .fd = sock, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = stdin_open ? STDIN_FILENO : -1,
					  .events = POLLIN };
		if (gnutls_record_check_pending(session)) {
			pfd[0].revents = POLLIN;
			pfd[1].revents = 0;
		} else if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("gnutls_peer: poll");
			return -EIO;
		}

		if (pfd[0].revents) {
			n = gnutls_record_recv(session, buf, sizeof(buf));
			if (n == 0)
				return stdin_open && send_close_notify(session) ? -EIO : 0;
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n < 0) {
				fprintf(stderr, "gnutls_peer: receive: %s\n",
					gnutls_strerror((int)n));
				return -EIO;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n)) {
				perror("gnutls_peer: stdout");
				return -EIO;
			}
		}
		if (pfd[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				perror("gnutls_peer: stdin");
				return -EIO;
			}
			if (n == 0) {
				stdin_open = 0;
				if (send_close_notify(session))
					return -EIO;
			} else if (send_all(session, buf, (size_t)n)) {
				return -EIO;
			}
		}
	}
}

int main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	struct peer_options opts;
	gnutls_session_t session;
	int sock, status;

	if (parse_options(argc, argv, &opts)) {
		usage();
		return PEER_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm(opts.po_timeout);

	status = PEER_EXIT_SETUP;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return status;
	if (load_credentials(&opts, cred) < 0)
		goto out_free_credentials;
	if (gnutls_init(&session, opts.po_server ? GNUTLS_SERVER : GNUTLS_CLIENT) < 0)
		goto out_free_credentials;
	if (configure_session(&opts, session, cred) < 0)
		goto out_deinit_session;
	sock = open_connection(&opts);
	if (sock < 0) {
		fprintf(stderr, "gnutls_peer: %s 127.0.0.1:%d: %s\n",
			opts.po_server ? "accept on" : "connect to", opts.po_port,
			strerror(-sock));
		goto out_deinit_session;
	}
	gnutls_transport_set_int(session, sock);

	status = PEER_EXIT_HANDSHAKE;
	if (handshake(session))
		goto out_close_socket;
	status = relay(session, sock) ? PEER_EXIT_TRANSFER : PEER_EXIT_OK;

out_close_socket:
	close(sock);
out_deinit_session:
	gnutls_deinit(session);
out_free_credentials:
	gnutls_certificate_free_credentials(cred);
	return status;
}
