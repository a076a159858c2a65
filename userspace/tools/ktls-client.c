// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktls-client: connects to HOST PORT, runs a TLS handshake with libktls,
 * then copies stdin to the server and what the server sends to stdout.
 * See ktls-client(1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

/*
 * The name the certificate must match, and the SNI unless it is an IP
 * literal (libktls leaves SNI out for those, RFC 6066 section 3). A scoped
 * IPv6 literal ("fe80::1%eth0") is matched without its zone, which only
 * means something to this host.
 */
static const char *client_server_name(const struct peer_options *opts, char *buf,
				      size_t size)
{
	const char *host = opts->po_host;
	const char *zone = strchr(host, '%');
	struct in6_addr addr;
	size_t len;

	if (opts->po_servername)
		return opts->po_servername;
	if (!zone)
		return host;
	len = (size_t)(zone - host);
	if (len >= size)
		return host;
	memcpy(buf, host, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &addr) == 1 ? buf : host;
}

static int client_conn_new(struct ktls_config *cfg, const struct peer_options *opts,
			   struct ktls_conn **connp)
{
	char unscoped[INET6_ADDRSTRLEN];
	struct ktls_conn *conn;
	const char *name;
	int err;

	conn = ktls_conn_new(cfg, KTLS_ROLE_CLIENT);
	if (!conn) {
		fprintf(stderr, "error: out of memory\n");
		return PEER_EXIT_FAILURE;
	}
	name = client_server_name(opts, unscoped, sizeof(unscoped));
	err = ktls_conn_set_server_name(conn, name);
	if (err) {
		fprintf(stderr, "error: server name '%s': %s\n", name, ktls_error_string(err));
		ktls_conn_free(conn);
		return PEER_EXIT_USAGE;
	}
	*connp = conn;
	return PEER_EXIT_OK;
}

/* Tries each address HOST resolves to, IPv6 and IPv4, in the resolver's order. */
static int client_connect(const char *host, const char *port, int *sockp)
{
	const struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	struct addrinfo *list, *ai;
	int last_errno = 0;
	int sock = -1;
	int rc;

	rc = getaddrinfo(host, port, &hints, &list);
	if (rc) {
		fprintf(stderr, "error: %s port %s: %s\n", host, port,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return PEER_EXIT_FAILURE;
	}
	for (ai = list; ai; ai = ai->ai_next) {
		sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (sock < 0) {
			last_errno = errno;
			continue;
		}
		if (!connect(sock, ai->ai_addr, ai->ai_addrlen))
			break;
		last_errno = errno;
		close(sock);
		sock = -1;
	}
	freeaddrinfo(list);
	if (sock < 0) {
		fprintf(stderr, "error: connect to %s port %s: %s\n", host, port,
			strerror(last_errno));
		return PEER_EXIT_FAILURE;
	}
	*sockp = sock;
	return PEER_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct peer_options opts;
	struct ktls_config *cfg;
	struct ktls_conn *conn;
	int sock;
	int status;

	status = peer_options_parse(&opts, KTLS_ROLE_CLIENT, argc, argv);
	if (status != PEER_RUN)
		goto out_options;
	status = peer_config_build(&opts, &cfg);
	if (status != PEER_EXIT_OK)
		goto out_options;
	/* Everything the command line can get wrong fails before connecting. */
	status = client_conn_new(cfg, &opts, &conn);
	if (status != PEER_EXIT_OK)
		goto out_config;
	status = client_connect(opts.po_host, opts.po_port, &sock);
	if (status != PEER_EXIT_OK)
		goto out_conn;

	status = peer_run(conn, sock, &opts);

	close(sock);
out_conn:
	ktls_conn_free(conn);
out_config:
	ktls_config_free(cfg);
out_options:
	peer_options_free(&opts);
	return status;
}
