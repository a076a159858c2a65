// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd_hs_test: an in-kernel TLS consumer for selftests, the way NFS and
 * NVMe over TLS are one. It asks net/handshake for a handshake on a kernel
 * TCP socket, so whatever serves the "handshake" genl family (here ktlsd)
 * does it, then checks that kTLS is on both directions and moves a line
 * through it.
 *
 * Driven through debugfs, one blocking write per step:
 *
 *	echo "client PORT PEERNAME" >run	connect to 127.0.0.1:PORT, anonymous
 *						client hello, send "ping", read a line
 *	echo "client-x509 PORT PEERNAME" >run	the same with tls_client_hello_x509
 *						(the handler's own certificate, unless
 *						"keys" named some)
 *	echo "keys CERT KEY [KEYRING]" >run	key serials for the x509 hellos after
 *						it, and the keyring the kernel links
 *						into the handler's process keyring at
 *						ACCEPT; "keys 0 0": none again
 *	echo "listen PORT" >run			listen on 127.0.0.1:PORT and return
 *	echo "server" >run			accept one, server hello (x509), read a
 *						line (the result's), send it back reversed
 *	cat result				"status=N ulp=NAME tx=N rx=N line=TEXT"
 *
 * status is the handshake's (0 or a negative errno), or the errno of the
 * step that failed before it; tx/rx are the tls_context's tx_conf/rx_conf
 * (1: TLS_SW, 2: TLS_HW). A write fails only for a malformed command; the
 * outcome is in result. Writes are serialized by one mutex.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/in.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/handshake.h>
#include <net/inet_connection_sock.h>
#include <net/sock.h>
#include <net/tls.h>
#include <net/tls_prot.h>

#define HST_TIMEOUT_MS		10000	/* the daemon's deadline, in the request */
#define HST_WAIT_MS		20000	/* ours, past the daemon's */
#define HST_LINE_MAX		128
#define HST_RESULT_MAX		(HST_LINE_MAX + 96)
#define HST_PEERNAME_MAX	255

struct hst_wait {
	struct completion hw_done;
	int hw_status;
};

static struct dentry *hst_dir;
static DEFINE_MUTEX(hst_lock);		/* serializes writes; protects next 2 */
static struct socket *hst_listener;
static char hst_result[HST_RESULT_MAX] = "status=-61 (nothing run yet)\n";
static key_serial_t hst_cert = TLS_NO_CERT, hst_privkey = TLS_NO_PRIVKEY;
static key_serial_t hst_keyring = TLS_NO_KEYRING;

static void hst_done(void *data, int status, key_serial_t peerid)
{
	struct hst_wait *wait = data;

	wait->hw_status = status;
	complete(&wait->hw_done);
}

/*
 * Submits @sock and waits for the done callback. Past our deadline the
 * request is cancelled; when cancelling loses the race the callback has
 * run or is about to, so it is waited for: @wait lives on our stack.
 */
static int hst_handshake(struct socket *sock, bool server, bool x509, const char *peername)
{
	struct tls_handshake_args args = {
		.ta_sock = sock,
		.ta_done = hst_done,
		.ta_peername = peername,
		.ta_timeout_ms = HST_TIMEOUT_MS,
		.ta_keyring = hst_keyring,
		.ta_my_cert = hst_cert,
		.ta_my_privkey = hst_privkey,
	};
	struct hst_wait wait = { .hw_status = -EINPROGRESS };
	int ret;

	init_completion(&wait.hw_done);
	args.ta_data = &wait;
	if (server)
		ret = tls_server_hello_x509(&args, GFP_KERNEL);
	else if (x509)
		ret = tls_client_hello_x509(&args, GFP_KERNEL);
	else
		ret = tls_client_hello_anon(&args, GFP_KERNEL);
	if (ret)
		return ret;	/* no callback will come */
	if (!wait_for_completion_timeout(&wait.hw_done, msecs_to_jiffies(HST_WAIT_MS))) {
		if (tls_handshake_cancel(sock->sk))
			return -ETIMEDOUT;
		wait_for_completion(&wait.hw_done);
	}
	return wait.hw_status;
}

/*
 * One line of application data. kTLS hands other record types (a late
 * NewSessionTicket) up with their type in a control message; those are
 * skipped, as an in-kernel consumer does.
 */
static int hst_recv_line(struct socket *sock, char *line, size_t size)
{
	char control[CMSG_SPACE(sizeof(u8))];
	size_t used = 0;
	int ret, tries;

	for (tries = 0; tries < 8 && used < size - 1; tries++) {
		struct msghdr msg = {
			.msg_control = control,
			.msg_controllen = sizeof(control),
		};
		struct kvec iov = { .iov_base = line + used, .iov_len = size - 1 - used };

		ret = kernel_recvmsg(sock, &msg, &iov, 1, iov.iov_len, 0);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		if (msg.msg_controllen < sizeof(control) &&
		    tls_get_record_type(sock->sk, (struct cmsghdr *)control) !=
		    TLS_RECORD_TYPE_DATA)
			continue;
		used += ret;
		if (memchr(line, '\n', used))
			break;
	}
	line[used] = 0;
	return used ? 0 : -ENODATA;
}

static int hst_send(struct socket *sock, const char *text)
{
	struct kvec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { };
	int ret;

	ret = kernel_sendmsg(sock, &msg, &iov, 1, iov.iov_len);
	return ret < 0 ? ret : 0;
}

/*
 * What kTLS looks like on the socket now, the ULP and each direction's
 * mode, with the line read (or the errno that reading or sending it got).
 */
static void hst_record(struct socket *sock, int status, const char *line, int io)
{
	const struct inet_connection_sock *icsk = inet_csk(sock->sk);
	const char *ulp = "none";
	int tx = 0, rx = 0;

	lock_sock(sock->sk);
	if (icsk->icsk_ulp_ops) {
		ulp = icsk->icsk_ulp_ops->name;
		if (!strcmp(ulp, "tls")) {
			const struct tls_context *ctx = tls_get_ctx(sock->sk);

			tx = ctx->tx_conf;
			rx = ctx->rx_conf;
		}
	}
	release_sock(sock->sk);
	snprintf(hst_result, sizeof(hst_result), "status=%d ulp=%s tx=%d rx=%d io=%d line=%.*s\n",
		 status, ulp, tx, rx, io, (int)strcspn(line, "\n"), line);
}

static void hst_fail(int status, const char *step)
{
	snprintf(hst_result, sizeof(hst_result),
		 "status=%d ulp=none tx=0 rx=0 io=0 line= step=%s\n", status, step);
}

static void hst_exchange(struct socket *sock, int status, bool server)
{
	char line[HST_LINE_MAX], answer[HST_LINE_MAX + 1];
	int ret, i, n;

	line[0] = 0;
	if (status) {
		hst_record(sock, status, "", 0);
		return;
	}
	/* a peer that sends nothing must not hang the writer */
	WRITE_ONCE(sock->sk->sk_rcvtimeo, msecs_to_jiffies(HST_WAIT_MS));
	if (server) {
		ret = hst_recv_line(sock, line, sizeof(line));
		if (!ret) {
			/* back reversed, newline kept last, so an echo cannot pass */
			n = strcspn(line, "\n");
			for (i = 0; i < n; i++)
				answer[i] = line[n - 1 - i];
			answer[n] = '\n';
			answer[n + 1] = 0;
			ret = hst_send(sock, answer);
		}
	} else {
		ret = hst_send(sock, "ping\n");
		if (!ret)
			ret = hst_recv_line(sock, line, sizeof(line));
	}
	hst_record(sock, 0, ret ? "" : line, ret);
}

static int hst_run_client(u16 port, const char *peername, bool x509)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct socket *sock;
	struct file *file;
	int ret;

	ret = sock_create_kern(current->nsproxy->net_ns, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (ret) {
		hst_fail(ret, "socket");
		return 0;
	}
	ret = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin), 0);
	if (ret) {
		hst_fail(ret, "connect");
		sock_release(sock);
		return 0;
	}
	/*
	 * net/handshake gives the daemon the socket as a descriptor, so it
	 * needs a file; the file owns the socket now, fput() releases both.
	 */
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file)) {
		hst_fail(PTR_ERR(file), "file");	/* sock_alloc_file released it */
		return 0;
	}
	hst_exchange(sock, hst_handshake(sock, false, x509, peername), false);
	fput(file);
	return 0;
}

static int hst_run_listen(u16 port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct socket *sock;
	int ret;

	if (hst_listener) {
		sock_release(hst_listener);
		hst_listener = NULL;
	}
	ret = sock_create_kern(current->nsproxy->net_ns, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (ret)
		return ret;
	sock_set_reuseaddr(sock->sk);
	ret = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (!ret)
		ret = kernel_listen(sock, 4);
	if (ret) {
		sock_release(sock);
		return ret;
	}
	hst_listener = sock;
	snprintf(hst_result, sizeof(hst_result),
		 "status=0 ulp=none tx=0 rx=0 io=0 line= listening=%u\n", port);
	return 0;
}

static int hst_run_server(void)
{
	struct socket *sock;
	struct file *file;
	long timeo;
	int ret;

	if (!hst_listener)
		return -ENOTCONN;
	/* a client that never comes must not hang the writer forever */
	timeo = msecs_to_jiffies(HST_WAIT_MS);
	WRITE_ONCE(hst_listener->sk->sk_rcvtimeo, timeo);
	ret = kernel_accept(hst_listener, &sock, 0);
	sock_release(hst_listener);
	hst_listener = NULL;
	if (ret) {
		hst_fail(ret, "accept");
		return 0;
	}
	file = sock_alloc_file(sock, 0, NULL);
	if (IS_ERR(file)) {
		hst_fail(PTR_ERR(file), "file");
		return 0;
	}
	hst_exchange(sock, hst_handshake(sock, true, true, NULL), true);
	fput(file);
	return 0;
}

/* "keys CERT KEY [KEYRING]": the serials the x509 hellos name from now on. */
static int hst_keys(char *text)
{
	char *cert = strsep(&text, " \n"), *key = text ? strsep(&text, " \n") : NULL;
	char *ring = text ? strsep(&text, " \n") : NULL;
	s32 c, k, r = TLS_NO_KEYRING;

	if (!cert || !key || kstrtos32(cert, 10, &c) || kstrtos32(key, 10, &k) ||
	    (ring && *ring && kstrtos32(ring, 10, &r)))
		return -EINVAL;
	hst_cert = c;
	hst_privkey = k;
	hst_keyring = r;
	snprintf(hst_result, sizeof(hst_result),
		 "status=0 ulp=none tx=0 rx=0 io=0 line= keys=%d/%d/%d\n", c, k, r);
	return 0;
}

/*
 * One command: "client PORT NAME", "client-x509 PORT NAME", "listen PORT",
 * "server", "keys CERT KEY".
 */
static int hst_command(char *text)
{
	char *verb, *arg;
	u16 port = 0;

	verb = strsep(&text, " \n");
	if (!strcmp(verb, "keys"))
		return text ? hst_keys(text) : -EINVAL;
	arg = text ? strsep(&text, " \n") : NULL;
	if (arg && *arg && kstrtou16(arg, 10, &port))
		return -EINVAL;
	arg = text ? strsep(&text, " \n") : NULL;
	if (!strcmp(verb, "server"))
		return hst_run_server();
	if (!port)
		return -EINVAL;
	if (!strcmp(verb, "listen"))
		return hst_run_listen(port);
	if (!arg || !*arg || strlen(arg) > HST_PEERNAME_MAX)
		return -EINVAL;
	if (!strcmp(verb, "client"))
		return hst_run_client(port, arg, false);
	if (!strcmp(verb, "client-x509"))
		return hst_run_client(port, arg, true);
	return -EINVAL;
}

static ssize_t hst_run_write(struct file *file, const char __user *ubuf, size_t len,
			     loff_t *ppos)
{
	char *text;
	int ret;

	if (len > HST_PEERNAME_MAX + 32)
		return -EINVAL;
	text = memdup_user_nul(ubuf, len);
	if (IS_ERR(text))
		return PTR_ERR(text);
	mutex_lock(&hst_lock);
	ret = hst_command(text);
	mutex_unlock(&hst_lock);
	kfree(text);
	return ret ? ret : len;
}

static ssize_t hst_result_read(struct file *file, char __user *ubuf, size_t len, loff_t *ppos)
{
	char copy[HST_RESULT_MAX];

	mutex_lock(&hst_lock);
	strscpy(copy, hst_result, sizeof(copy));
	mutex_unlock(&hst_lock);
	return simple_read_from_buffer(ubuf, len, ppos, copy, strlen(copy));
}

static const struct file_operations hst_run_fops = {
	.owner = THIS_MODULE,
	.write = hst_run_write,
};

static const struct file_operations hst_result_fops = {
	.owner = THIS_MODULE,
	.read = hst_result_read,
};

static int __init hst_init(void)
{
	hst_dir = debugfs_create_dir("ktlsd_hs_test", NULL);
	if (IS_ERR(hst_dir))
		return PTR_ERR(hst_dir);
	debugfs_create_file("run", 0200, hst_dir, NULL, &hst_run_fops);
	debugfs_create_file("result", 0400, hst_dir, NULL, &hst_result_fops);
	return 0;
}

static void __exit hst_exit(void)
{
	debugfs_remove(hst_dir);
	if (hst_listener)
		sock_release(hst_listener);
}

module_init(hst_init);
module_exit(hst_exit);
MODULE_DESCRIPTION("ktlsd selftest: a kernel TLS consumer of net/handshake");
MODULE_LICENSE("GPL");
