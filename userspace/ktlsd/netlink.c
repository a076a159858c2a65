// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ktlsd.ko frontend: the module's generic netlink family "ktlsd"
 * (include/uapi/linux/ktlsd.h). An application that upgrades its socket
 * by setsockopt() waits in the kernel; the module queues the request and
 * multicasts READY. We ACCEPT it, which installs the socket here as a
 * descriptor and tells us the request (the same attributes the unix
 * frontend's message carries) and who made it, and answer with DONE.
 *
 * Two sockets: one joined to the "ready" group sits in the epoll set and
 * is only ever drained (a READY says no more than "look"), the other
 * carries ACCEPT and DONE, one request and its answer at a time. Those
 * are done in the kernel while we wait, without sleeping on anything, so
 * waiting for them blocks the loop no longer than a system call.
 *
 * Accepting runs until the module has nothing queued or the daemon is at
 * its cap of handshakes in flight; then requests wait in the kernel (which
 * times them out by itself) until a job ends and frees a slot. A READY
 * lost to a full receive buffer is no loss: the drain is followed by a
 * pass all the same.
 *
 * Who the requester is comes from the module, which took it from the
 * task and mapped it into our user namespace: policy may trust it as it
 * trusts SO_PEERCRED.
 */
#include <errno.h>
#include <fcntl.h>
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

/* An answer the kernel owes us at once; longer means something is wrong. */
#define NL_REPLY_TIMEOUT_S	5

/* What one ACCEPT handed over. */
struct nl_accepted {
	int ac_got;			/* a reply came */
	int ac_sock;			/* -1 until known */
	int ac_has_id;
	uint64_t ac_id;
	struct ktlsd_requester ac_who;
	struct ktlsd_request ac_rq;
	int ac_invalid;			/* ktlsd_request_decode()'s verdict */
};

/* One request and its answer on nl_req. */
struct nl_transaction {
	int tr_done;
	int tr_errno;			/* the kernel's, negative; 0: acknowledged */
	struct nl_accepted *tr_accepted;	/* ACCEPT's reply goes here */
};

struct ktlsd_netlink {
	struct nl_sock *nl_ready;	/* joined to "ready", in the epoll set */
	struct nl_sock *nl_req;		/* ACCEPT and DONE */
	struct nl_cb *nl_cb;		/* nl_req's callbacks, on nl_tr */
	struct nl_transaction nl_tr;
	int nl_family;
	struct ktlsd_watch nl_watch;
	int nl_paused;			/* a cap or an error stopped the last pass */
	int nl_in_pass;
	int nl_last_err;		/* ACCEPT's last failure, logged once */
};

/* ---- one request, one answer ---- */

static void nl_accept_parse(struct nlmsghdr *nlh, struct nl_accepted *ac)
{
	struct nlattr *tb[KTLSD_A_MAX + 1];
	struct ktlsd_attrs attrs;
	uint32_t value;
	size_t i, len;
	int type;

	if (genlmsg_parse(nlh, 0, tb, KTLSD_A_MAX, NULL))
		return;
	memset(&attrs, 0, sizeof(attrs));
	for (type = 1; type <= KTLSD_A_MAX; type++) {
		if (!tb[type])
			continue;
		attrs.at_value[type] = nla_data(tb[type]);
		attrs.at_len[type] = (uint16_t)nla_len(tb[type]);
	}
	ac->ac_got = 1;
	if (!ktlsd_attr_u32(&attrs, KTLSD_A_SOCKFD, &value))
		ac->ac_sock = (int)value;
	ac->ac_has_id = !ktlsd_attr_u64(&attrs, KTLSD_A_REQUEST_ID, &ac->ac_id);
	/* As the unix frontend: what is missing is nobody, and fails closed. */
	ac->ac_who.rq_uid = (uid_t)-1;
	ac->ac_who.rq_gid = (gid_t)-1;
	if (!ktlsd_attr_u32(&attrs, KTLSD_A_UID, &value))
		ac->ac_who.rq_uid = value;
	if (!ktlsd_attr_u32(&attrs, KTLSD_A_GID, &value))
		ac->ac_who.rq_gid = value;
	if (!ktlsd_attr_u32(&attrs, KTLSD_A_PID, &value))
		ac->ac_who.rq_pid = (pid_t)value;
	/* More groups than fit count as none, as SO_PEERGROUPS's ERANGE does. */
	len = attrs.at_len[KTLSD_A_GROUPS];
	if (attrs.at_value[KTLSD_A_GROUPS] && !(len % sizeof(uint32_t)) &&
	    len / sizeof(uint32_t) <= sizeof(ac->ac_who.rq_groups) / sizeof(gid_t)) {
		for (i = 0; i < len / sizeof(uint32_t); i++) {
			memcpy(&value, attrs.at_value[KTLSD_A_GROUPS] + i * sizeof(value),
			       sizeof(value));
			ac->ac_who.rq_groups[i] = value;
		}
		ac->ac_who.rq_group_count = len / sizeof(uint32_t);
	}
	ac->ac_invalid = ktlsd_request_decode(&attrs, &ac->ac_rq);
}

static int nl_on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_transaction *tr = arg;

	if (tr->tr_accepted && !tr->tr_accepted->ac_got)
		nl_accept_parse(nlmsg_hdr(msg), tr->tr_accepted);
	return NL_OK;
}

static int nl_on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_transaction *tr = arg;

	tr->tr_done = 1;
	return NL_STOP;
}

static int nl_on_error(struct sockaddr_nl *from, struct nlmsgerr *err, void *arg)
{
	struct nl_transaction *tr = arg;

	tr->tr_errno = err->error < 0 ? err->error : -EPROTO;
	tr->tr_done = 1;
	return NL_STOP;
}

/* Sends @msg (and frees it); 0 once acknowledged, else a negative errno. */
static int nl_transact(struct ktlsd_netlink *nl, struct nl_msg *msg, struct nl_accepted *ac)
{
	struct nl_transaction *tr = &nl->nl_tr;
	int ret;

	memset(tr, 0, sizeof(*tr));
	tr->tr_accepted = ac;
	ret = nl_send_auto(nl->nl_req, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		ktlsd_log(LOG_ERR, "netlink: send: %s", nl_geterror(ret));
		return -ECOMM;
	}
	while (!tr->tr_done) {
		ret = nl_recvmsgs_report(nl->nl_req, nl->nl_cb);
		if (tr->tr_done)
			break;
		if (ret < 0) {
			ktlsd_log(LOG_ERR, "netlink: receive: %s", nl_geterror(ret));
			return -ECOMM;
		}
		if (!ret) {
			ktlsd_log(LOG_ERR, "netlink: no answer from the module in %d s",
				  NL_REPLY_TIMEOUT_S);
			return -ETIMEDOUT;
		}
	}
	return tr->tr_errno;
}

static struct nl_msg *nl_message(struct ktlsd_netlink *nl, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	/* Acknowledged either way: the ACK is what ends nl_transact(). */
	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->nl_family, 0, NLM_F_ACK,
				cmd, KTLSD_FAMILY_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* A result string goes only when there is something to say. */
static int nl_put_text(struct nl_msg *msg, int type, const char *text)
{
	return text[0] ? nla_put_string(msg, type, text) : 0;
}

int ktlsd_netlink_done(struct ktlsd_daemon *d, uint64_t id, const struct ktls_upgrade_info *info)
{
	struct ktlsd_netlink *nl = d->d_nl;
	struct nl_msg *msg;

	if (!nl)
		return -ENOTCONN;
	msg = nl_message(nl, KTLSD_CMD_DONE);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KTLSD_A_REQUEST_ID, id) ||
	    nla_put_u32(msg, KTLSD_A_STATUS, (uint32_t)-info->status) ||
	    (info->error && nla_put_u32(msg, KTLSD_A_ERROR, (uint32_t)info->error)) ||
	    (info->version && nla_put_u32(msg, KTLSD_A_VERSION, info->version)) ||
	    nl_put_text(msg, KTLSD_A_CIPHER, info->cipher) ||
	    nl_put_text(msg, KTLSD_A_GROUP, info->group) ||
	    nl_put_text(msg, KTLSD_A_NEGOTIATED_ALPN, info->alpn) ||
	    nl_put_text(msg, KTLSD_A_SERVER_NAME, info->server_name) ||
	    nl_put_text(msg, KTLSD_A_PEER_SUBJECT, info->peer_subject) ||
	    nl_put_text(msg, KTLSD_A_DETAIL, info->detail)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_transact(nl, msg, NULL);
}

/* ---- accepting ---- */

/* ACCEPT's failures other than "none queued", each said once until it changes. */
static void nl_accept_failed(struct ktlsd_netlink *nl, int err)
{
	if (err == nl->nl_last_err)
		return;
	nl->nl_last_err = err;
	switch (err) {
	case -EMFILE:
	case -ENFILE:
		ktlsd_log(LOG_WARNING, "netlink: ACCEPT: %s: requests wait in the module "
			  "until a request in flight ends", strerror(-err));
		return;
	case -EPERM:
		ktlsd_log(LOG_ERR, "netlink: ACCEPT: %s: the module's requests need "
			  "CAP_NET_ADMIN", strerror(-err));
		return;
	default:
		ktlsd_log(LOG_ERR, "netlink: ACCEPT: %s", strerror(-err));
		return;
	}
}

/* One ACCEPT: 0 and a job started (or refused), or a negative errno. */
static int nl_accept_one(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl = d->d_nl;
	struct nl_accepted ac = { .ac_sock = -1 };
	struct nl_msg *msg;
	int ret;

	msg = nl_message(nl, KTLSD_CMD_ACCEPT);
	if (!msg)
		return -ENOMEM;
	ret = nl_transact(nl, msg, &ac);
	if (!ret && (!ac.ac_got || ac.ac_sock < 0 || !ac.ac_has_id)) {
		ktlsd_log(LOG_ERR, "netlink: ACCEPT's reply lacks %s",
			  !ac.ac_got ? "everything" : ac.ac_sock < 0 ? "the socket" :
			  "the request id");
		ret = -EPROTO;
	}
	if (ret) {
		if (ac.ac_sock >= 0)
			close(ac.ac_sock);
		return ret;
	}
	/* Only the descriptor's flag: the open file is the requester's too. */
	fcntl(ac.ac_sock, F_SETFD, FD_CLOEXEC);
	ktlsd_job_start_netlink(d, ac.ac_sock, ac.ac_id, &ac.ac_who, &ac.ac_rq, ac.ac_invalid);
	return 0;
}

/* Takes what the module has queued, up to the cap. */
static void nl_accept_pass(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl = d->d_nl;
	int ret;

	/* Jobs refused or failed during the pass call back through resume. */
	if (!nl || nl->nl_in_pass)
		return;
	nl->nl_in_pass = 1;
	nl->nl_paused = 0;
	while (!d->d_stop) {
		if (d->d_in_flight >= d->d_conf->kc_max_handshakes) {
			nl->nl_paused = 1;
			break;
		}
		ret = nl_accept_one(d);
		if (ret == -ENOENT) {
			nl->nl_last_err = 0;
			break;
		}
		if (ret) {
			nl_accept_failed(nl, ret);
			nl->nl_paused = 1;
			break;
		}
		nl->nl_last_err = 0;
	}
	nl->nl_in_pass = 0;
}

void ktlsd_netlink_resume(struct ktlsd_daemon *d)
{
	if (d->d_nl && d->d_nl->nl_paused)
		nl_accept_pass(d);
}

/* READY (or several, or an overrun): all they say is "look". */
static void nl_ready_event(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	int fd = nl_socket_get_fd(d->d_nl->nl_ready);
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)))
			continue;
		break;
	}
	nl_accept_pass(d);
}

/* ---- binding ---- */

void ktlsd_netlink_close(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl = d->d_nl;

	if (!nl)
		return;
	if (nl->nl_ready) {
		if (nl_socket_get_fd(nl->nl_ready) >= 0)
			epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, nl_socket_get_fd(nl->nl_ready), NULL);
		nl_socket_free(nl->nl_ready);
	}
	if (nl->nl_req)
		nl_socket_free(nl->nl_req);
	if (nl->nl_cb)
		nl_cb_put(nl->nl_cb);
	free(nl);
	d->d_nl = NULL;
}

/*
 * Both sockets, the family and its group: 0, -ENOENT when there is no
 * family (no module), another negative errno when netlink itself fails.
 */
static int nl_bind(struct ktlsd_daemon *d)
{
	struct timeval tv = { .tv_sec = NL_REPLY_TIMEOUT_S };
	struct ktlsd_netlink *nl;
	int ret, group;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	d->d_nl = nl;
	nl->nl_ready = nl_socket_alloc();
	nl->nl_req = nl_socket_alloc();
	nl->nl_cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->nl_ready || !nl->nl_req || !nl->nl_cb) {
		ret = -ENOMEM;
		goto out_close;
	}
	ret = genl_connect(nl->nl_req);
	if (!ret)
		ret = genl_connect(nl->nl_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "netlink: %s", nl_geterror(ret));
		ret = -ECOMM;
		goto out_close;
	}
	nl->nl_family = genl_ctrl_resolve(nl->nl_req, KTLSD_FAMILY_NAME);
	if (nl->nl_family < 0) {
		ret = nl->nl_family == -NLE_OBJ_NOTFOUND ? -ENOENT : -ECOMM;
		if (ret != -ENOENT)
			ktlsd_log(LOG_ERR, "netlink: resolving \"%s\": %s", KTLSD_FAMILY_NAME,
				  nl_geterror(nl->nl_family));
		goto out_close;
	}
	group = genl_ctrl_resolve_grp(nl->nl_ready, KTLSD_FAMILY_NAME, KTLSD_MCGRP_READY);
	if (group < 0) {
		ktlsd_log(LOG_ERR, "netlink: family \"%s\" has no group \"%s\": %s",
			  KTLSD_FAMILY_NAME, KTLSD_MCGRP_READY, nl_geterror(group));
		ret = -EPROTO;
		goto out_close;
	}
	/* Notifications carry no sequence number of ours. */
	nl_socket_disable_seq_check(nl->nl_ready);
	ret = nl_socket_add_membership(nl->nl_ready, group);
	if (!ret)
		ret = nl_socket_set_nonblocking(nl->nl_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "netlink: joining \"%s\": %s", KTLSD_MCGRP_READY,
			  nl_geterror(ret));
		ret = -ECOMM;
		goto out_close;
	}
	setsockopt(nl_socket_get_fd(nl->nl_req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl_cb_set(nl->nl_cb, NL_CB_VALID, NL_CB_CUSTOM, nl_on_valid, &nl->nl_tr);
	nl_cb_set(nl->nl_cb, NL_CB_ACK, NL_CB_CUSTOM, nl_on_ack, &nl->nl_tr);
	nl_cb_err(nl->nl_cb, NL_CB_CUSTOM, nl_on_error, &nl->nl_tr);
	nl->nl_watch.w_handle = nl_ready_event;
	ret = ktlsd_watch_fd(d, nl_socket_get_fd(nl->nl_ready), EPOLLIN, &nl->nl_watch,
			     EPOLL_CTL_ADD);
	if (ret)
		goto out_close;
	ktlsd_log(LOG_INFO, "netlink: serving ktlsd.ko (family \"%s\", id %d)",
		  KTLSD_FAMILY_NAME, nl->nl_family);
	/* Requests made before we came are queued already, with no READY to come. */
	nl_accept_pass(d);
	return 0;

out_close:
	ktlsd_netlink_close(d);
	return ret;
}

int ktlsd_netlink_open(struct ktlsd_daemon *d)
{
	int mode = d->d_conf->kc_netlink, ret;

	if (d->d_nl || mode == KTLSD_NETLINK_NO)
		return 0;
	ret = nl_bind(d);
	if (ret == -ENOENT && mode == KTLSD_NETLINK_AUTO) {
		ktlsd_log(LOG_INFO, "netlink: no \"%s\" family (ktlsd.ko not loaded): "
			  "serving the unix socket only", KTLSD_FAMILY_NAME);
		return 0;
	}
	if (ret == -ENOENT)
		ktlsd_log(LOG_ERR, "netlink: no \"%s\" family (ktlsd.ko not loaded) and "
			  "netlink = yes", KTLSD_FAMILY_NAME);
	return mode == KTLSD_NETLINK_AUTO ? 0 : ret;
}

void ktlsd_netlink_reopen(struct ktlsd_daemon *d)
{
	if (d->d_nl && d->d_conf->kc_netlink == KTLSD_NETLINK_NO) {
		ktlsd_log(LOG_WARNING, "reload: netlink = no takes a restart; still serving "
			  "ktlsd.ko");
		return;
	}
	ktlsd_netlink_open(d);
}
