// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's own handshake service: the "handshake" generic netlink
 * family of net/handshake (Linux 6.5 and later), which in-kernel TLS
 * consumers (NFS, NVMe over TLS) use through tls_client_hello_*() and
 * tls_server_hello_*(). We serve it as tlshd does, so ktlsd can take
 * tlshd's place:
 *
 *	kernel: READY to the "tlshd" group	-> we ACCEPT (handler class tlshd)
 *	kernel: the socket as our descriptor,	-> a job, as for any frontend:
 *		hello type, timeout, auth mode,	   handshake, kTLS on the socket
 *		peer name, key serials
 *						-> DONE: status (an errno), sockfd
 *
 * The requests come from the kernel, not from a user, so no uid policy
 * applies: what the kernel asks for picks the engine config, [handshake]
 * in ktlsd.conf names the certificates (ktlsd_handshake_config()). PSK is
 * not offered by the engine and is refused with EOPNOTSUPP.
 *
 * As in netlink.c, two sockets: one joined to the group, in the epoll set
 * and only drained, and one for ACCEPT and DONE, each answered by the
 * kernel before the system call returns. DONE names the socket by our
 * descriptor, so it is sent before the job closes that (job.c).
 *
 * The family's constants are written out here from its spec
 * (Documentation/netlink/specs/handshake.yaml): the build host's headers
 * may predate it, and the numbers are ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "daemon.h"

#define HS_FAMILY_NAME		"handshake"
#define HS_FAMILY_VERSION	1
#define HS_MCGRP_TLSHD		"tlshd"

enum { HS_HANDLER_CLASS_TLSHD = 1 };

enum {
	HS_MSG_TYPE_CLIENTHELLO = 1,
	HS_MSG_TYPE_SERVERHELLO = 2,
};

enum {
	HS_AUTH_UNAUTH = 1,
	HS_AUTH_PSK = 2,
	HS_AUTH_X509 = 3,
};

enum {
	HS_A_X509_CERT = 1,
	HS_A_X509_PRIVKEY = 2,
	HS_A_X509_MAX = HS_A_X509_PRIVKEY,
};

enum {
	HS_A_ACCEPT_SOCKFD = 1,
	HS_A_ACCEPT_HANDLER_CLASS = 2,
	HS_A_ACCEPT_MESSAGE_TYPE = 3,
	HS_A_ACCEPT_TIMEOUT = 4,
	HS_A_ACCEPT_AUTH_MODE = 5,
	HS_A_ACCEPT_PEER_IDENTITY = 6,
	HS_A_ACCEPT_CERTIFICATE = 7,
	HS_A_ACCEPT_PEERNAME = 8,
	HS_A_ACCEPT_MAX = HS_A_ACCEPT_PEERNAME,
};

enum {
	HS_A_DONE_STATUS = 1,
	HS_A_DONE_SOCKFD = 2,
	HS_A_DONE_REMOTE_AUTH = 3,
};

enum {
	HS_CMD_READY = 1,
	HS_CMD_ACCEPT = 2,
	HS_CMD_DONE = 3,
};

/* An answer the kernel owes at once; longer means something is wrong. */
#define HS_REPLY_TIMEOUT_S	5

/* What one ACCEPT handed over. */
struct hs_accepted {
	int ha_got;			/* a reply came */
	int ha_sock;			/* -1 until known */
	uint32_t ha_msg_type;		/* HS_MSG_TYPE_* */
	uint32_t ha_auth_mode;		/* HS_AUTH_* */
	uint32_t ha_timeout_ms;		/* 0: none given */
	uint32_t ha_cert;		/* key serials, 0: none */
	uint32_t ha_privkey;
	char ha_peername[KTLSD_PEER_NAME_MAX + 1];
	int ha_peername_too_long;
};

/* One request and its answer. */
struct hs_transaction {
	int tr_done;
	int tr_errno;			/* the kernel's, negative; 0: acknowledged */
	struct hs_accepted *tr_accepted;	/* ACCEPT's reply goes here */
};

struct ktlsd_handshake {
	struct nl_sock *hs_ready;	/* joined to "tlshd", in the epoll set */
	struct nl_sock *hs_req;		/* ACCEPT and DONE */
	struct nl_cb *hs_cb;		/* hs_req's callbacks, on hs_tr */
	struct hs_transaction hs_tr;
	int hs_family;
	struct ktlsd_watch hs_watch;
	int hs_paused;			/* a cap or an error stopped the last pass */
	int hs_in_pass;
	int hs_last_err;		/* ACCEPT's last failure, logged once */
};

/* ---- which engine config a request runs with ---- */

int ktlsd_handshake_config(const struct ktlsd_conf *conf, const struct ktlsd_request *rq,
			   struct ktls_config **cfg, char *why, size_t whylen)
{
	const struct ktlsd_identity *id;
	enum ktlsd_role role = (enum ktlsd_role)rq->rq_role;

	*cfg = NULL;
	if (!rq->rq_identity[0]) {
		if (role != KTLSD_ROLE_CLIENT) {
			snprintf(why, whylen, "no [handshake] server_identity for a server hello");
			return -ENOKEY;
		}
		*cfg = conf->kc_client_cfg;
		snprintf(why, whylen, "kernel request: client without a certificate");
		return 0;
	}
	/* conf.c checked the names and roles; a reload may have changed them since */
	id = ktlsd_conf_find_identity(conf, rq->rq_identity);
	if (id)
		*cfg = role == KTLSD_ROLE_SERVER ? id->id_server_cfg : id->id_client_cfg;
	if (!*cfg) {
		snprintf(why, whylen, "no identity %s for the %s role", rq->rq_identity,
			 role == KTLSD_ROLE_SERVER ? "server" : "client");
		return -ENOKEY;
	}
	snprintf(why, whylen, "kernel request: identity %s", id->id_name);
	return 0;
}

/*
 * The request as a job takes it. The certificate comes from [handshake]:
 * the kernel's key serials name keys in the consumer's keyrings, which
 * ktlsd does not read. An x509 client without client_identity goes
 * without a certificate, as a server that asks for none expects.
 */
static int hs_request(const struct ktlsd_conf *conf, const struct hs_accepted *ha,
		      struct ktlsd_request *rq, const char **why)
{
	const char *identity = "";

	memset(rq, 0, sizeof(*rq));
	switch (ha->ha_msg_type) {
	case HS_MSG_TYPE_CLIENTHELLO:
		rq->rq_role = KTLSD_ROLE_CLIENT;
		if (ha->ha_auth_mode == HS_AUTH_X509)
			identity = conf->kc_hs_client_identity;
		break;
	case HS_MSG_TYPE_SERVERHELLO:
		rq->rq_role = KTLSD_ROLE_SERVER;
		identity = conf->kc_hs_server_identity;
		break;
	default:
		*why = "unknown handshake message type";
		return -EINVAL;
	}
	switch (ha->ha_auth_mode) {
	case HS_AUTH_UNAUTH:
	case HS_AUTH_X509:
		break;
	case HS_AUTH_PSK:
		*why = "PSK authentication is not supported";
		return -EOPNOTSUPP;
	default:
		*why = "unknown authentication mode";
		return -EINVAL;
	}
	if (ha->ha_peername_too_long) {
		*why = "peer name too long";
		return -EMSGSIZE;
	}
	rq->rq_verify = KTLSD_VERIFY_DEFAULT;
	rq->rq_timeout_ms = ha->ha_timeout_ms;
	snprintf(rq->rq_peer_name, sizeof(rq->rq_peer_name), "%s", ha->ha_peername);
	snprintf(rq->rq_identity, sizeof(rq->rq_identity), "%s", identity);
	return 0;
}

/* ---- one request, one answer ---- */

static void hs_accept_parse(struct nlmsghdr *nlh, struct hs_accepted *ha)
{
	struct nlattr *tb[HS_A_ACCEPT_MAX + 1], *x509[HS_A_X509_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, HS_A_ACCEPT_MAX, NULL))
		return;
	ha->ha_got = 1;
	if (tb[HS_A_ACCEPT_SOCKFD])
		ha->ha_sock = (int)nla_get_u32(tb[HS_A_ACCEPT_SOCKFD]);
	if (tb[HS_A_ACCEPT_MESSAGE_TYPE])
		ha->ha_msg_type = nla_get_u32(tb[HS_A_ACCEPT_MESSAGE_TYPE]);
	if (tb[HS_A_ACCEPT_AUTH_MODE])
		ha->ha_auth_mode = nla_get_u32(tb[HS_A_ACCEPT_AUTH_MODE]);
	if (tb[HS_A_ACCEPT_TIMEOUT])
		ha->ha_timeout_ms = nla_get_u32(tb[HS_A_ACCEPT_TIMEOUT]);
	if (tb[HS_A_ACCEPT_CERTIFICATE] &&
	    !nla_parse_nested(x509, HS_A_X509_MAX, tb[HS_A_ACCEPT_CERTIFICATE], NULL)) {
		if (x509[HS_A_X509_CERT])
			ha->ha_cert = nla_get_u32(x509[HS_A_X509_CERT]);
		if (x509[HS_A_X509_PRIVKEY])
			ha->ha_privkey = nla_get_u32(x509[HS_A_X509_PRIVKEY]);
	}
	if (tb[HS_A_ACCEPT_PEERNAME] &&
	    nla_strlcpy(ha->ha_peername, tb[HS_A_ACCEPT_PEERNAME], sizeof(ha->ha_peername)) >=
	    sizeof(ha->ha_peername))
		ha->ha_peername_too_long = 1;
}

static int hs_on_valid(struct nl_msg *msg, void *arg)
{
	struct hs_transaction *tr = arg;

	/* libnl asks for an ACK on every request: the reply comes before it */
	if (tr->tr_accepted && !tr->tr_accepted->ha_got)
		hs_accept_parse(nlmsg_hdr(msg), tr->tr_accepted);
	return NL_OK;
}

static int hs_on_ack(struct nl_msg *msg, void *arg)
{
	struct hs_transaction *tr = arg;

	tr->tr_done = 1;
	return NL_STOP;
}

static int hs_on_error(struct sockaddr_nl *from, struct nlmsgerr *err, void *arg)
{
	struct hs_transaction *tr = arg;

	tr->tr_errno = err->error < 0 ? err->error : -EPROTO;
	tr->tr_done = 1;
	return NL_STOP;
}

/* Sends @msg (and frees it); 0 once acknowledged, else a negative errno. */
static int hs_transact(struct ktlsd_handshake *hs, struct nl_msg *msg, struct hs_accepted *ha)
{
	struct hs_transaction *tr = &hs->hs_tr;
	int ret;

	memset(tr, 0, sizeof(*tr));
	tr->tr_accepted = ha;
	ret = nl_send_auto(hs->hs_req, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		ktlsd_log(LOG_ERR, "handshake: send: %s", nl_geterror(ret));
		return -ECOMM;
	}
	while (!tr->tr_done) {
		ret = nl_recvmsgs_report(hs->hs_req, hs->hs_cb);
		if (tr->tr_done)
			break;
		if (ret < 0) {
			ktlsd_log(LOG_ERR, "handshake: receive: %s", nl_geterror(ret));
			return -ECOMM;
		}
		if (!ret) {
			ktlsd_log(LOG_ERR, "handshake: no answer from the kernel in %d s",
				  HS_REPLY_TIMEOUT_S);
			return -ETIMEDOUT;
		}
	}
	return tr->tr_errno;
}

static struct nl_msg *hs_message(struct ktlsd_handshake *hs, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, hs->hs_family, 0, 0, cmd,
				HS_FAMILY_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/*
 * DONE for the socket we hold as @sock. The status is a positive errno on
 * the wire; no remote-auth goes with it, as no peer identity is kept in a
 * keyring for the consumer.
 */
void ktlsd_handshake_done(struct ktlsd_daemon *d, int sock, const struct ktls_upgrade_info *info)
{
	struct ktlsd_handshake *hs = d->d_hs;
	struct nl_msg *msg;
	int ret;

	if (!hs || sock < 0)
		return;
	msg = hs_message(hs, HS_CMD_DONE);
	if (!msg) {
		ktlsd_log(LOG_ERR, "handshake: DONE: %s", strerror(ENOMEM));
		return;
	}
	if (nla_put_u32(msg, HS_A_DONE_STATUS, (uint32_t)-info->status) ||
	    nla_put_u32(msg, HS_A_DONE_SOCKFD, (uint32_t)sock)) {
		nlmsg_free(msg);
		ktlsd_log(LOG_ERR, "handshake: DONE: %s", strerror(EMSGSIZE));
		return;
	}
	ret = hs_transact(hs, msg, NULL);
	/* EBUSY: the consumer cancelled the request (its own timeout) meanwhile */
	if (ret)
		ktlsd_log(ret == -EBUSY ? LOG_INFO : LOG_WARNING, "handshake: DONE: %s%s",
			  strerror(-ret), ret == -EBUSY ? ": the kernel dropped the request" : "");
}

/* A request refused before it became a job (nothing to run it with). */
static void hs_refuse(struct ktlsd_daemon *d, const struct hs_accepted *ha, int status,
		      const char *why)
{
	struct ktls_upgrade_info info = { .status = status };
	int slot = -status;

	ktlsd_handshake_done(d, ha->ha_sock, &info);
	d->d_stats.st_failed++;
	d->d_stats.st_by_errno[slot > 0 && slot < KTLSD_ERRNO_SLOTS ? slot : 0]++;
	ktlsd_log(LOG_NOTICE, "handshake failed via=handshake role=%s errno=%s reason=\"%s\"",
		  ha->ha_msg_type == HS_MSG_TYPE_SERVERHELLO ? "server" : "client",
		  strerrorname_np(-status), why);
}

/* ---- accepting ---- */

static void hs_accept_failed(struct ktlsd_handshake *hs, int err)
{
	if (err == hs->hs_last_err)
		return;
	hs->hs_last_err = err;
	switch (err) {
	case -EMFILE:
	case -ENFILE:
		ktlsd_log(LOG_WARNING, "handshake: ACCEPT: %s: kernel requests wait until a "
			  "request in flight ends", strerror(-err));
		return;
	case -EPERM:
		ktlsd_log(LOG_ERR, "handshake: ACCEPT: %s: the kernel's requests need "
			  "CAP_NET_ADMIN", strerror(-err));
		return;
	default:
		ktlsd_log(LOG_ERR, "handshake: ACCEPT: %s", strerror(-err));
		return;
	}
}

/* One ACCEPT: 0 and a job started (or refused), -EAGAIN: none queued. */
static int hs_accept_one(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs = d->d_hs;
	struct hs_accepted ha = { .ha_sock = -1 };
	struct ktlsd_request rq;
	struct nl_msg *msg;
	const char *why;
	int ret;

	msg = hs_message(hs, HS_CMD_ACCEPT);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, HS_A_ACCEPT_HANDLER_CLASS, HS_HANDLER_CLASS_TLSHD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = hs_transact(hs, msg, &ha);
	if (!ret && (!ha.ha_got || ha.ha_sock < 0)) {
		/* a descriptor we cannot name leaks until exit; nothing else can be done */
		ktlsd_log(LOG_ERR, "handshake: ACCEPT's reply lacks the socket");
		ret = -EPROTO;
	}
	if (ret)
		return ret;
	fcntl(ha.ha_sock, F_SETFD, FD_CLOEXEC);
	ret = hs_request(d->d_conf, &ha, &rq, &why);
	if (ret) {
		hs_refuse(d, &ha, ret, why);
		close(ha.ha_sock);
		return 0;
	}
	ktlsd_log(LOG_DEBUG, "handshake: accepted fd %d: %s hello, auth %u, peer \"%.64s\", "
		  "key serials %u/%u, timeout %u ms", ha.ha_sock,
		  rq.rq_role == KTLSD_ROLE_SERVER ? "server" : "client", ha.ha_auth_mode,
		  ha.ha_peername, ha.ha_cert, ha.ha_privkey, ha.ha_timeout_ms);
	ktlsd_job_start_handshake(d, ha.ha_sock, &rq);
	return 0;
}

/* Takes what the kernel has queued, up to the cap. */
static void hs_accept_pass(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs = d->d_hs;
	int ret;

	/* Jobs refused or failed during the pass call back through resume. */
	if (!hs || hs->hs_in_pass)
		return;
	hs->hs_in_pass = 1;
	hs->hs_paused = 0;
	while (!d->d_stop) {
		if (d->d_in_flight >= d->d_conf->kc_max_handshakes) {
			hs->hs_paused = 1;
			break;
		}
		ret = hs_accept_one(d);
		if (ret == -EAGAIN) {
			hs->hs_last_err = 0;
			break;
		}
		if (ret) {
			hs_accept_failed(hs, ret);
			hs->hs_paused = 1;
			break;
		}
		hs->hs_last_err = 0;
	}
	hs->hs_in_pass = 0;
}

void ktlsd_handshake_resume(struct ktlsd_daemon *d)
{
	if (d->d_hs && d->d_hs->hs_paused)
		hs_accept_pass(d);
}

/* READY (or several, or an overrun): all they say is "look". */
static void hs_ready_event(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	int fd = nl_socket_get_fd(d->d_hs->hs_ready);
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)))
			continue;
		break;
	}
	hs_accept_pass(d);
}

/* ---- binding ---- */

void ktlsd_handshake_close(struct ktlsd_daemon *d)
{
	struct ktlsd_handshake *hs = d->d_hs;

	if (!hs)
		return;
	if (hs->hs_ready) {
		if (nl_socket_get_fd(hs->hs_ready) >= 0)
			epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, nl_socket_get_fd(hs->hs_ready), NULL);
		nl_socket_free(hs->hs_ready);
	}
	if (hs->hs_req)
		nl_socket_free(hs->hs_req);
	if (hs->hs_cb)
		nl_cb_put(hs->hs_cb);
	free(hs);
	d->d_hs = NULL;
}

/* 0, -ENOENT when the kernel has no such family, another negative errno on failure. */
static int hs_bind(struct ktlsd_daemon *d)
{
	struct timeval tv = { .tv_sec = HS_REPLY_TIMEOUT_S };
	struct ktlsd_handshake *hs;
	int ret, group;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	d->d_hs = hs;
	hs->hs_ready = nl_socket_alloc();
	hs->hs_req = nl_socket_alloc();
	hs->hs_cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!hs->hs_ready || !hs->hs_req || !hs->hs_cb) {
		ret = -ENOMEM;
		goto out_close;
	}
	ret = genl_connect(hs->hs_req);
	if (!ret)
		ret = genl_connect(hs->hs_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "handshake: %s", nl_geterror(ret));
		ret = -ECOMM;
		goto out_close;
	}
	hs->hs_family = genl_ctrl_resolve(hs->hs_req, HS_FAMILY_NAME);
	if (hs->hs_family < 0) {
		ret = hs->hs_family == -NLE_OBJ_NOTFOUND ? -ENOENT : -ECOMM;
		goto out_close;
	}
	group = genl_ctrl_resolve_grp(hs->hs_ready, HS_FAMILY_NAME, HS_MCGRP_TLSHD);
	if (group < 0) {
		ktlsd_log(LOG_ERR, "handshake: the family has no group \"%s\": %s",
			  HS_MCGRP_TLSHD, nl_geterror(group));
		ret = -EPROTO;
		goto out_close;
	}
	nl_socket_disable_seq_check(hs->hs_ready);
	ret = nl_socket_add_membership(hs->hs_ready, group);
	if (!ret)
		ret = nl_socket_set_nonblocking(hs->hs_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "handshake: joining \"%s\": %s", HS_MCGRP_TLSHD,
			  nl_geterror(ret));
		ret = -ECOMM;
		goto out_close;
	}
	setsockopt(nl_socket_get_fd(hs->hs_req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl_cb_set(hs->hs_cb, NL_CB_VALID, NL_CB_CUSTOM, hs_on_valid, &hs->hs_tr);
	nl_cb_set(hs->hs_cb, NL_CB_ACK, NL_CB_CUSTOM, hs_on_ack, &hs->hs_tr);
	nl_cb_err(hs->hs_cb, NL_CB_CUSTOM, hs_on_error, &hs->hs_tr);
	hs->hs_watch.w_handle = hs_ready_event;
	ret = ktlsd_watch_fd(d, nl_socket_get_fd(hs->hs_ready), EPOLLIN, &hs->hs_watch,
			     EPOLL_CTL_ADD);
	if (ret)
		goto out_close;
	return 0;

out_close:
	ktlsd_handshake_close(d);
	return ret;
}

void ktlsd_handshake_open(struct ktlsd_daemon *d)
{
	const struct ktlsd_conf *conf = d->d_conf;
	int ret;

	if (d->d_hs)
		return;
	if (!conf->kc_hs_serve) {
		ktlsd_log(LOG_INFO, "handshake: off ([handshake] serve = no)");
		return;
	}
	ret = hs_bind(d);
	if (ret == -ENOENT) {
		ktlsd_log(LOG_INFO, "handshake: no \"%s\" family in this kernel (net/handshake, "
			  "6.5 and later): in-kernel TLS consumers are not served", HS_FAMILY_NAME);
		return;
	}
	if (ret) {
		ktlsd_log(LOG_WARNING, "handshake: not serving in-kernel TLS consumers: %s",
			  strerror(-ret));
		return;
	}
	ktlsd_log(LOG_INFO, "handshake: serving in-kernel TLS consumers (family \"%s\" id %d, "
		  "server identity \"%s\", client identity \"%s\")", HS_FAMILY_NAME,
		  d->d_hs->hs_family, conf->kc_hs_server_identity, conf->kc_hs_client_identity);
	/* Requests queued before we joined have no READY to come. */
	hs_accept_pass(d);
}
