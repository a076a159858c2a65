// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktls-server: listens on PORT and serves TLS connections one at a time
 * with libktls, either echoing what each client sends (--echo) or joining
 * it to stdin and stdout. See ktls-server(1).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

static int listen_on(int family, uint16_t port)
{
	struct sockaddr_storage addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
	socklen_t addr_len;
	int one = 1;
	int zero = 0;
	int saved_errno;
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	if (family == AF_INET6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_any;
		addr_len = sizeof(*in6);
		/* One socket for both families, whatever the sysctl default is. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
			goto out_close;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
		addr_len = sizeof(*in4);
	}
	/* Tests restart the server on the same port while old ones linger in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&addr, addr_len) || listen(fd, SOMAXCONN))
		goto out_close;
	return fd;

out_close:
	saved_errno = errno;
	close(fd);
	errno = saved_errno;
	return -1;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage addr;
	socklen_t addr_len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &addr_len))
		return 0;
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

static int server_listen(uint16_t port, int *fdp)
{
	int fd;

	fd = listen_on(AF_INET6, port);
	/* Hosts with IPv6 disabled have no "::"; serve IPv4 alone there. */
	if (fd < 0 && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL))
		fd = listen_on(AF_INET, port);
	if (fd < 0) {
		fprintf(stderr, "error: listen on port %u: %s\n", port, strerror(errno));
		return PEER_EXIT_FAILURE;
	}
	/* Scripts wait for this line, and read the port from it when PORT was 0. */
	fprintf(stderr, "listening on port %u\n", bound_port(fd));
	fflush(stderr);
	*fdp = fd;
	return PEER_EXIT_OK;
}

static int server_accept(int listen_fd, int *sockp)
{
	int sock;

	for (;;) {
		sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (sock >= 0) {
			*sockp = sock;
			return PEER_EXIT_OK;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:	/* the client gave up while queued */
		case EPROTO:
			continue;
		default:
			peer_perror("accept");
			return PEER_EXIT_FAILURE;
		}
	}
}

/* Serves one accepted connection and closes it. */
static int server_serve_one(struct ktls_config *cfg, const struct peer_options *opts,
			    int sock)
{
	struct ktls_conn *conn;
	int status;

	conn = ktls_conn_new(cfg, KTLS_ROLE_SERVER);
	if (!conn) {
		fprintf(stderr, "error: out of memory\n");
		status = PEER_EXIT_FAILURE;
		goto out_close;
	}
	status = peer_run(conn, sock, opts);
	ktls_conn_free(conn);
out_close:
	close(sock);
	return status;
}

/*
 * One connection at a time; a failed one is reported and the next is
 * served. Returns only with --once, or when accept() itself breaks.
 */
static int server_loop(int listen_fd, struct ktls_config *cfg,
		       const struct peer_options *opts)
{
	int status;
	int sock;

	for (;;) {
		status = server_accept(listen_fd, &sock);
		if (status != PEER_EXIT_OK)
			return status;
		status = server_serve_one(cfg, opts, sock);
		if (opts->po_once)
			return status;
	}
}

int main(int argc, char **argv)
{
	struct peer_options opts;
	struct ktls_config *cfg;
	int listen_fd;
	int status;

	status = peer_options_parse(&opts, KTLS_ROLE_SERVER, argc, argv);
	if (status != PEER_RUN)
		goto out_options;
	status = peer_config_build(&opts, &cfg);
	if (status != PEER_EXIT_OK)
		goto out_options;
	status = server_listen(opts.po_listen_port, &listen_fd);
	if (status != PEER_EXIT_OK)
		goto out_config;

	status = server_loop(listen_fd, cfg, &opts);

	close(listen_fd);
out_config:
	ktls_config_free(cfg);
out_options:
	peer_options_free(&opts);
	return status;
}
