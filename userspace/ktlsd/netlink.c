// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ktlsd.ko frontend: the module's generic netlink family "ktlsd"
 * (include/uapi/linux/ktlsd.h). An application that upgrades its socket
 * by setsockopt() waits in the kernel; the module queues the request and
 * multicasts READY. We ACCEPT it, which installs the socket here as a
 * descriptor and tells us the request (the same attributes the unix
 * frontend's message carries) and who made it, and answer with DONE.
 *
 * The channel (genl.c) carries the requests and their answers, drains
 * READY and accepts up to the cap; this file reads ACCEPT's reply and
 * writes DONE.
 *
 * Who the requester is comes from the module, which took it from the
 * task and mapped it into our user namespace: policy may trust it as it
 * trusts SO_PEERCRED.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "daemon.h"
#include "genl.h"

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

struct ktlsd_netlink {
	struct ktlsd_genl_channel nl_ch;
};

/* ---- one request, one answer ---- */

static void nl_accept_parse(struct nlmsghdr *nlh, void *reply)
{
	struct nl_accepted *ac = reply;
	struct nlattr *tb[KTLSD_A_MAX + 1];
	struct ktlsd_attrs attrs;
	uint32_t value;
	size_t i, len;
	int type;

	if (ac->ac_got || genlmsg_parse(nlh, 0, tb, KTLSD_A_MAX, NULL))
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
	msg = ktlsd_genl_message(&nl->nl_ch, KTLSD_CMD_DONE);
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
	return ktlsd_genl_transact(&nl->nl_ch, msg, NULL, NULL);
}

/* ---- accepting ---- */

/* One ACCEPT: 0 and a job started (or refused), -ENOENT: none queued. */
static int nl_accept_one(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl = d->d_nl;
	struct nl_accepted ac = { .ac_sock = -1 };
	struct nl_msg *msg;
	int ret;

	msg = ktlsd_genl_message(&nl->nl_ch, KTLSD_CMD_ACCEPT);
	if (!msg)
		return -ENOMEM;
	ret = ktlsd_genl_transact(&nl->nl_ch, msg, nl_accept_parse, &ac);
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

static const struct ktlsd_genl_family nl_family = {
	.gf_log = "netlink",
	.gf_name = KTLSD_FAMILY_NAME,
	.gf_group = KTLSD_MCGRP_READY,
	.gf_version = KTLSD_FAMILY_VERSION,
	.gf_named = "family \"" KTLSD_FAMILY_NAME "\"",
	.gf_peer = "the module",
	.gf_wait_note = "requests wait in the module",
	.gf_log_resolve = 1,
	.gf_queue_empty = -ENOENT,
	.gf_accept_one = nl_accept_one,
};

void ktlsd_netlink_resume(struct ktlsd_daemon *d)
{
	if (d->d_nl)
		ktlsd_genl_resume(d, &d->d_nl->nl_ch);
}

/* ---- binding ---- */

void ktlsd_netlink_close(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl = d->d_nl;

	if (!nl)
		return;
	ktlsd_genl_close(d, &nl->nl_ch);
	free(nl);
	d->d_nl = NULL;
}

/*
 * Both sockets, the family and its group: 0, -ENOENT when there is no
 * family (no module), another negative errno when netlink itself fails.
 */
static int nl_bind(struct ktlsd_daemon *d)
{
	struct ktlsd_netlink *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	d->d_nl = nl;
	ret = ktlsd_genl_bind(d, &nl->nl_ch, &nl_family);
	if (ret)
		goto out_close;
	ktlsd_log(LOG_INFO, "netlink: serving ktlsd.ko (family \"%s\", id %d)",
		  KTLSD_FAMILY_NAME, nl->nl_ch.gc_family);
	/* Requests made before we came are queued already, with no READY to come. */
	ktlsd_genl_accept_pass(d, &nl->nl_ch);
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
