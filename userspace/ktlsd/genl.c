// SPDX-License-Identifier: GPL-2.0-only
/*
 * The channel both generic netlink frontends run on (genl.h). ACCEPT and
 * DONE are done in the kernel while we wait, without sleeping on
 * anything, so waiting for their answer blocks the loop no longer than a
 * system call.
 *
 * Accepting runs until the kernel has nothing queued or the daemon is at
 * its cap of handshakes in flight; then requests wait in the kernel
 * (which times them out by itself) until a job ends and frees a slot. A
 * READY lost to a full receive buffer is no loss: the drain is followed
 * by a pass all the same.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "genl.h"

/* An answer the kernel owes us at once; longer means something is wrong. */
#define GENL_REPLY_TIMEOUT_S	5

/* ---- one request, one answer ---- */

static int genl_on_valid(struct nl_msg *msg, void *arg)
{
	struct ktlsd_genl_transaction *tr = arg;

	/* libnl asks for an ACK on every request: a reply comes before it */
	if (tr->gt_parse)
		tr->gt_parse(nlmsg_hdr(msg), tr->gt_reply);
	return NL_OK;
}

static int genl_on_ack(struct nl_msg *msg, void *arg)
{
	struct ktlsd_genl_transaction *tr = arg;

	tr->gt_done = 1;
	return NL_STOP;
}

static int genl_on_error(struct sockaddr_nl *from, struct nlmsgerr *err, void *arg)
{
	struct ktlsd_genl_transaction *tr = arg;

	tr->gt_errno = err->error < 0 ? err->error : -EPROTO;
	tr->gt_done = 1;
	return NL_STOP;
}

int ktlsd_genl_transact(struct ktlsd_genl_channel *ch, struct nl_msg *msg,
			ktlsd_genl_parse_fn parse, void *reply)
{
	struct ktlsd_genl_transaction *tr = &ch->gc_tr;
	const char *log = ch->gc_def->gf_log;
	int ret;

	memset(tr, 0, sizeof(*tr));
	tr->gt_parse = parse;
	tr->gt_reply = reply;
	ret = nl_send_auto(ch->gc_req, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		ktlsd_log(LOG_ERR, "%s: send: %s", log, nl_geterror(ret));
		return -ECOMM;
	}
	while (!tr->gt_done) {
		ret = nl_recvmsgs_report(ch->gc_req, ch->gc_cb);
		if (tr->gt_done)
			break;
		if (ret < 0) {
			ktlsd_log(LOG_ERR, "%s: receive: %s", log, nl_geterror(ret));
			return -ECOMM;
		}
		if (!ret) {
			ktlsd_log(LOG_ERR, "%s: no answer from %s in %d s", log,
				  ch->gc_def->gf_peer, GENL_REPLY_TIMEOUT_S);
			return -ETIMEDOUT;
		}
	}
	return tr->gt_errno;
}

struct nl_msg *ktlsd_genl_message(struct ktlsd_genl_channel *ch, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	/*
	 * Acknowledged either way (libnl's auto-ACK would add the flag): the
	 * ACK is what ends ktlsd_genl_transact().
	 */
	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ch->gc_family, 0, NLM_F_ACK,
				cmd, ch->gc_def->gf_version)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* ---- accepting ---- */

/* ACCEPT's failures other than "none queued", each said once until it changes. */
static void genl_accept_failed(struct ktlsd_genl_channel *ch, int err)
{
	const struct ktlsd_genl_family *def = ch->gc_def;

	if (err == ch->gc_last_err)
		return;
	ch->gc_last_err = err;
	switch (err) {
	case -EMFILE:
	case -ENFILE:
		ktlsd_log(LOG_WARNING, "%s: ACCEPT: %s: %s until a request in flight ends",
			  def->gf_log, strerror(-err), def->gf_wait_note);
		return;
	case -EPERM:
		ktlsd_log(LOG_ERR, "%s: ACCEPT: %s: %s's requests need CAP_NET_ADMIN",
			  def->gf_log, strerror(-err), def->gf_peer);
		return;
	default:
		ktlsd_log(LOG_ERR, "%s: ACCEPT: %s", def->gf_log, strerror(-err));
		return;
	}
}

void ktlsd_genl_accept_pass(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch)
{
	int ret;

	/* Jobs refused or failed during the pass call back through resume. */
	if (ch->gc_in_pass)
		return;
	ch->gc_in_pass = 1;
	ch->gc_paused = 0;
	while (!d->d_stop) {
		if (d->d_in_flight >= d->d_conf->kc_max_handshakes) {
			ch->gc_paused = 1;
			break;
		}
		ret = ch->gc_def->gf_accept_one(d);
		if (ret == ch->gc_def->gf_queue_empty) {
			ch->gc_last_err = 0;
			break;
		}
		if (ret) {
			genl_accept_failed(ch, ret);
			ch->gc_paused = 1;
			break;
		}
		ch->gc_last_err = 0;
	}
	ch->gc_in_pass = 0;
}

void ktlsd_genl_resume(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch)
{
	if (ch->gc_paused)
		ktlsd_genl_accept_pass(d, ch);
}

/* READY (or several, or an overrun): all they say is "look". */
static void genl_ready_event(struct ktlsd_daemon *d, struct ktlsd_watch *w, uint32_t events)
{
	struct ktlsd_genl_channel *ch = ktlsd_container_of(w, struct ktlsd_genl_channel,
							   gc_watch);
	int fd = nl_socket_get_fd(ch->gc_ready);
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == ENOBUFS || errno == EINTR)))
			continue;
		break;
	}
	ktlsd_genl_accept_pass(d, ch);
}

/* ---- binding ---- */

void ktlsd_genl_close(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch)
{
	if (ch->gc_ready) {
		if (nl_socket_get_fd(ch->gc_ready) >= 0)
			epoll_ctl(d->d_epoll, EPOLL_CTL_DEL, nl_socket_get_fd(ch->gc_ready), NULL);
		nl_socket_free(ch->gc_ready);
		ch->gc_ready = NULL;
	}
	if (ch->gc_req) {
		nl_socket_free(ch->gc_req);
		ch->gc_req = NULL;
	}
	if (ch->gc_cb) {
		nl_cb_put(ch->gc_cb);
		ch->gc_cb = NULL;
	}
}

int ktlsd_genl_bind(struct ktlsd_daemon *d, struct ktlsd_genl_channel *ch,
		    const struct ktlsd_genl_family *def)
{
	struct timeval tv = { .tv_sec = GENL_REPLY_TIMEOUT_S };
	int ret, group;

	ch->gc_def = def;
	ch->gc_ready = nl_socket_alloc();
	ch->gc_req = nl_socket_alloc();
	ch->gc_cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!ch->gc_ready || !ch->gc_req || !ch->gc_cb)
		return -ENOMEM;
	ret = genl_connect(ch->gc_req);
	if (!ret)
		ret = genl_connect(ch->gc_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "%s: %s", def->gf_log, nl_geterror(ret));
		return -ECOMM;
	}
	ch->gc_family = genl_ctrl_resolve(ch->gc_req, def->gf_name);
	if (ch->gc_family < 0) {
		ret = ch->gc_family == -NLE_OBJ_NOTFOUND ? -ENOENT : -ECOMM;
		if (ret != -ENOENT && def->gf_log_resolve)
			ktlsd_log(LOG_ERR, "%s: resolving \"%s\": %s", def->gf_log, def->gf_name,
				  nl_geterror(ch->gc_family));
		return ret;
	}
	group = genl_ctrl_resolve_grp(ch->gc_ready, def->gf_name, def->gf_group);
	if (group < 0) {
		ktlsd_log(LOG_ERR, "%s: %s has no group \"%s\": %s", def->gf_log, def->gf_named,
			  def->gf_group, nl_geterror(group));
		return -EPROTO;
	}
	/* Notifications carry no sequence number of ours. */
	nl_socket_disable_seq_check(ch->gc_ready);
	ret = nl_socket_add_membership(ch->gc_ready, group);
	if (!ret)
		ret = nl_socket_set_nonblocking(ch->gc_ready);
	if (ret) {
		ktlsd_log(LOG_ERR, "%s: joining \"%s\": %s", def->gf_log, def->gf_group,
			  nl_geterror(ret));
		return -ECOMM;
	}
	setsockopt(nl_socket_get_fd(ch->gc_req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl_cb_set(ch->gc_cb, NL_CB_VALID, NL_CB_CUSTOM, genl_on_valid, &ch->gc_tr);
	nl_cb_set(ch->gc_cb, NL_CB_ACK, NL_CB_CUSTOM, genl_on_ack, &ch->gc_tr);
	nl_cb_err(ch->gc_cb, NL_CB_CUSTOM, genl_on_error, &ch->gc_tr);
	ch->gc_watch.w_handle = genl_ready_event;
	return ktlsd_watch_fd(d, nl_socket_get_fd(ch->gc_ready), EPOLLIN, &ch->gc_watch,
			      EPOLL_CTL_ADD);
}
