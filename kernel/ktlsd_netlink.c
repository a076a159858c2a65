// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsd.ko: the generic netlink family "ktlsd", as specified in
 * Documentation/netlink/specs/ktlsd.yaml. Policies are written from the
 * spec by hand.
 *
 * Every message that describes a request carries the same attributes
 * (ktlsd_nl_put_request()); what differs is the state, whether the socket
 * travels (ACCEPT) and whether a result follows (DONE). Credentials are
 * mapped into the user namespace of whoever reads them: the caller for
 * ACCEPT and the dump, the namespace's owner for notifications.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "ktlsd_int.h"

const u16 ktlsd_text_attr[KTLSD_TEXT_COUNT] = {
	[KTLSD_TEXT_CIPHER]		= KTLSD_A_CIPHER,
	[KTLSD_TEXT_GROUP]		= KTLSD_A_GROUP,
	[KTLSD_TEXT_NEGOTIATED_ALPN]	= KTLSD_A_NEGOTIATED_ALPN,
	[KTLSD_TEXT_SERVER_NAME]	= KTLSD_A_SERVER_NAME,
	[KTLSD_TEXT_PEER_SUBJECT]	= KTLSD_A_PEER_SUBJECT,
	[KTLSD_TEXT_DETAIL]		= KTLSD_A_DETAIL,
};

/* Who reads a message, and so how much of a request it shows. */
struct ktlsd_view {
	struct user_namespace	*kv_user_ns;
	unsigned int		kv_groups_max;	/* supplementary groups shown */
};

/* Room for one request message besides its supplementary groups. */
#define KTLSD_NL_REQUEST_SIZE	NLMSG_GOODSIZE

static int ktlsd_nl_put_u64(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_u64_64bit(skb, type, value, KTLSD_A_PAD);
}

static int ktlsd_nl_put_text(struct sk_buff *skb, int type, const char *s)
{
	if (!s || !*s)
		return 0;
	return nla_put_string(skb, type, s);
}

static int ktlsd_nl_put_groups(struct sk_buff *skb, const struct cred *cred,
			       const struct ktlsd_view *view)
{
	const struct group_info *groups = cred->group_info;
	unsigned int i, count;
	struct nlattr *attr;
	u32 *gids;

	count = min_t(unsigned int, groups->ngroups, view->kv_groups_max);
	attr = nla_reserve(skb, KTLSD_A_GROUPS, count * sizeof(u32));
	if (!attr)
		return -EMSGSIZE;
	gids = nla_data(attr);
	for (i = 0; i < count; i++)
		gids[i] = from_kgid_munged(view->kv_user_ns, groups->gid[i]);
	return 0;
}

static int ktlsd_nl_put_info(struct sk_buff *skb, const struct ktlsd_info *info,
			     const struct ktlsd_view *view)
{
	const struct cred *cred = info->ki_cred;

	if (ktlsd_nl_put_u64(skb, KTLSD_A_REQUEST_ID, info->ki_id) ||
	    nla_put_u32(skb, KTLSD_A_ROLE, info->ki_role) ||
	    nla_put_u32(skb, KTLSD_A_VERIFY, info->ki_verify) ||
	    ktlsd_nl_put_text(skb, KTLSD_A_PEER_NAME, info->ki_peer_name) ||
	    ktlsd_nl_put_text(skb, KTLSD_A_ALPN, info->ki_alpn) ||
	    ktlsd_nl_put_text(skb, KTLSD_A_IDENTITY, info->ki_identity) ||
	    nla_put_u32(skb, KTLSD_A_UID,
			from_kuid_munged(view->kv_user_ns, cred->uid)) ||
	    nla_put_u32(skb, KTLSD_A_GID,
			from_kgid_munged(view->kv_user_ns, cred->gid)) ||
	    nla_put_u32(skb, KTLSD_A_PID, pid_vnr(info->ki_tgid)) ||
	    ktlsd_nl_put_groups(skb, cred, view) ||
	    ktlsd_nl_put_u64(skb, KTLSD_A_SOCK_COOKIE, info->ki_cookie) ||
	    nla_put_u32(skb, KTLSD_A_AGE_MS,
			jiffies_to_msecs(jiffies - info->ki_start)))
		return -EMSGSIZE;
	if (info->ki_local_len &&
	    nla_put(skb, KTLSD_A_LOCAL_ADDR, info->ki_local_len, &info->ki_local))
		return -EMSGSIZE;
	if (info->ki_peer_len &&
	    nla_put(skb, KTLSD_A_PEER_ADDR, info->ki_peer_len, &info->ki_peer))
		return -EMSGSIZE;
	return 0;
}

static int ktlsd_nl_put_result(struct sk_buff *skb,
			       const struct ktlsd_result *result)
{
	int i;

	if (nla_put_u32(skb, KTLSD_A_STATUS, result->kr_status) ||
	    (result->kr_error && nla_put_u32(skb, KTLSD_A_ERROR, result->kr_error)) ||
	    (result->kr_version &&
	     nla_put_u32(skb, KTLSD_A_VERSION, result->kr_version)))
		return -EMSGSIZE;
	for (i = 0; i < KTLSD_TEXT_COUNT; i++)
		if (ktlsd_nl_put_text(skb, ktlsd_text_attr[i], result->kr_text[i]))
			return -EMSGSIZE;
	return 0;
}

/*
 * Milliseconds left before the module's timeout, as of now. The deadline
 * was rounded up to a whole jiffy, so what is left can round to more than
 * the timeout asked for: never say more than that.
 */
static u32 ktlsd_nl_time_left(const struct ktlsd_req *req)
{
	long left = (long)(req->kr_deadline - jiffies);

	if (left <= 0)
		return 0;
	return min_t(u32, jiffies_to_msecs(left), req->kr_info.ki_timeout_ms);
}

/*
 * One message about a request: a live one (@req), or a completed one
 * (@rec). The caller holds kn_lock for a live one, or a reference.
 */
static int ktlsd_nl_put_request(struct sk_buff *skb, u32 portid, u32 seq,
				int flags, u8 cmd, const struct ktlsd_req *req,
				const struct ktlsd_record *rec,
				const struct ktlsd_view *view)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &ktlsd_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (req) {
		if (ktlsd_nl_put_info(skb, &req->kr_info, view) ||
		    nla_put_u32(skb, KTLSD_A_STATE, READ_ONCE(req->kr_state)) ||
		    nla_put_u32(skb, KTLSD_A_TIMEOUT_MS, ktlsd_nl_time_left(req)))
			goto out_cancel;
	} else {
		if (ktlsd_nl_put_info(skb, &rec->kc_info, view) ||
		    nla_put_u32(skb, KTLSD_A_STATE, KTLSD_REQ_DONE) ||
		    nla_put_u32(skb, KTLSD_A_TIMEOUT_MS, rec->kc_info.ki_timeout_ms) ||
		    ktlsd_nl_put_result(skb, &rec->kc_result))
			goto out_cancel;
	}
	genlmsg_end(skb, hdr);
	return 0;

out_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static void ktlsd_nl_multicast(struct net *net, u8 cmd,
			       const struct ktlsd_req *req,
			       const struct ktlsd_record *rec,
			       enum ktlsd_mcgrp group)
{
	struct ktlsd_view view = {
		.kv_user_ns	= net->user_ns,
		.kv_groups_max	= KTLSD_GROUPS_BRIEF_MAX,
	};
	struct sk_buff *skb;

	if (!genl_has_listeners(&ktlsd_genl_family, net, group))
		return;
	skb = genlmsg_new(KTLSD_NL_REQUEST_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (ktlsd_nl_put_request(skb, 0, 0, 0, cmd, req, rec, &view)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast_netns(&ktlsd_genl_family, net, skb, 0, group,
				GFP_KERNEL);
}

/**
 * ktlsd_nl_notify_ready - tell daemons and monitors a request is queued
 * @net: the request's namespace
 * @req: the request; the caller holds a reference
 */
void ktlsd_nl_notify_ready(struct net *net, struct ktlsd_req *req)
{
	ktlsd_nl_multicast(net, KTLSD_CMD_READY, req, NULL, KTLSD_NLGRP_READY);
	ktlsd_nl_multicast(net, KTLSD_CMD_READY, req, NULL, KTLSD_NLGRP_MONITOR);
}

/**
 * ktlsd_nl_notify_done - tell monitors a request ended, and how
 * @net: the request's namespace
 * @rec: the completed request's record; the caller holds a reference
 */
void ktlsd_nl_notify_done(struct net *net, struct ktlsd_record *rec)
{
	ktlsd_nl_multicast(net, KTLSD_CMD_DONE, NULL, rec, KTLSD_NLGRP_MONITOR);
}

/**
 * ktlsd_nl_has_daemon - whether a daemon listens for requests
 * @net: the namespace
 *
 * Return: true when some socket in @net joined the "ready" group.
 */
bool ktlsd_nl_has_daemon(struct net *net)
{
	return genl_has_listeners(&ktlsd_genl_family, net, KTLSD_NLGRP_READY) > 0;
}

static int ktlsd_nl_accept_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktlsd_net *kn = ktlsd_net(genl_info_net(info));
	struct ktlsd_view view = {
		.kv_user_ns	= current_user_ns(),
		.kv_groups_max	= NGROUPS_MAX,
	};
	struct ktlsd_req *req;
	struct sk_buff *msg;
	struct file *file;
	size_t size;
	int fd, err;

	/*
	 * The descriptor first: a daemon out of descriptors gets EMFILE with
	 * every request still queued, to ACCEPT again once it closed some.
	 */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		NL_SET_ERR_MSG(info->extack, "no descriptor free for the socket");
		return fd;
	}
	req = ktlsd_req_accept_next(kn, info->snd_portid, &file);
	if (!req) {
		put_unused_fd(fd);
		NL_SET_ERR_MSG(info->extack, "no request is queued");
		return -ENOENT;
	}
	size = KTLSD_NL_REQUEST_SIZE +
	       nla_total_size(req->kr_info.ki_cred->group_info->ngroups *
			      sizeof(u32));
	err = -ENOMEM;
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		goto out_complete;
	err = ktlsd_nl_put_request(msg, info->snd_portid, info->snd_seq, 0,
				   KTLSD_CMD_ACCEPT, req, NULL, &view);
	if (err)
		goto out_free_msg;
	/* The message is in place: the socket goes to the caller now. */
	err = -EMSGSIZE;
	if (nla_put_s32(msg, KTLSD_A_SOCKFD, fd))
		goto out_free_msg;
	nlmsg_end(msg, nlmsg_hdr(msg));
	fd_install(fd, file);
	ktlsd_req_put(req);
	return genlmsg_reply(msg, info);

out_free_msg:
	nlmsg_free(msg);
out_complete:
	put_unused_fd(fd);
	fput(file);
	/* Accepted but never handed over: end it rather than lose it. */
	ktlsd_req_complete(req, -EIO, KTLSD_END_DAEMON, NULL);
	ktlsd_req_put(req);
	return err;
}

/*
 * A generic netlink socket was released: a daemon that closed its socket
 * or died. Whatever it accepted will never be answered, so it ends now
 * rather than at its timeout. The chain is a blocking one, called from
 * the socket's release in process context, so completing (which sleeps
 * for the socket lock) is done right here rather than from a work item:
 * that keeps short the time in which the port, already unhashed, could
 * be bound again by a new socket whose accepts would be taken for the
 * old one's (autobind picks the binder's pid or a fresh negative port,
 * so only an explicit bind to that very port could).
 */
static int ktlsd_nl_release_event(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	const struct netlink_notify *notify = ptr;

	if (event != NETLINK_URELEASE || notify->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	ktlsd_req_abort_port(ktlsd_net(notify->net), notify->portid);
	return NOTIFY_DONE;
}

struct notifier_block ktlsd_nl_release_notifier = {
	.notifier_call	= ktlsd_nl_release_event,
};

static int ktlsd_nl_done_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktlsd_net *kn = ktlsd_net(genl_info_net(info));
	struct ktlsd_result result = {};
	struct nlattr **attrs = info->attrs;
	struct ktlsd_req *req;
	bool completed;
	int i, err;

	if (GENL_REQ_ATTR_CHECK(info, KTLSD_A_REQUEST_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KTLSD_A_STATUS))
		return -EINVAL;
	req = ktlsd_req_find_pending(kn, nla_get_u64(attrs[KTLSD_A_REQUEST_ID]));
	if (!req) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KTLSD_A_REQUEST_ID],
				    "no such request pending");
		return -ENOENT;
	}
	result.kr_status = nla_get_u32(attrs[KTLSD_A_STATUS]);
	if (attrs[KTLSD_A_ERROR])
		result.kr_error = nla_get_u32(attrs[KTLSD_A_ERROR]);
	if (attrs[KTLSD_A_VERSION])
		result.kr_version = nla_get_u32(attrs[KTLSD_A_VERSION]);
	err = -ENOMEM;
	for (i = 0; i < KTLSD_TEXT_COUNT; i++) {
		const struct nlattr *attr = attrs[ktlsd_text_attr[i]];

		if (!attr)
			continue;
		result.kr_text[i] = kstrdup(nla_data(attr), GFP_KERNEL);
		if (!result.kr_text[i])
			goto out_free;
	}
	completed = ktlsd_req_complete(req, -(int)result.kr_status,
				       KTLSD_END_DAEMON, &result);
	err = completed ? 0 : -ENOENT;
	if (!completed)
		NL_SET_ERR_MSG(info->extack, "the request ended already");
out_free:
	ktlsd_result_free(&result);
	ktlsd_req_put(req);
	return err;
}

/*
 * The dump walks queued, then accepted requests, then the ring of recent
 * results, oldest first; cb->args[0] counts the messages already sent. A
 * request that moves between two rounds may be missed or seen twice.
 */
static int ktlsd_nl_request_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct ktlsd_net *kn = ktlsd_net(sock_net(skb->sk));
	struct ktlsd_view view = {
		.kv_user_ns	= current_user_ns(),
		.kv_groups_max	= KTLSD_GROUPS_BRIEF_MAX,
	};
	struct list_head *lists[] = { &kn->kn_queued, &kn->kn_accepted };
	u32 portid = NETLINK_CB(cb->skb).portid;
	u32 seq = cb->nlh->nlmsg_seq;
	unsigned long start = cb->args[0], idx = 0;
	const struct ktlsd_record *rec;
	const struct ktlsd_req *req;
	unsigned int i, slot;

	spin_lock(&kn->kn_lock);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry(req, lists[i], kr_list) {
			if (idx >= start &&
			    ktlsd_nl_put_request(skb, portid, seq, NLM_F_MULTI,
						 KTLSD_CMD_REQUEST_GET, req, NULL,
						 &view))
				goto out;
			idx++;
		}
	}
	for (i = 0; i < KTLSD_RING_SIZE; i++) {
		slot = (kn->kn_ring_next + i) % KTLSD_RING_SIZE;
		rec = kn->kn_ring[slot];
		if (!rec)
			continue;
		if (idx >= start &&
		    ktlsd_nl_put_request(skb, portid, seq, NLM_F_MULTI,
					 KTLSD_CMD_REQUEST_GET, NULL, rec, &view))
			goto out;
		idx++;
	}
out:
	spin_unlock(&kn->kn_lock);
	cb->args[0] = idx;
	return skb->len;
}

static int ktlsd_nl_put_stats(struct sk_buff *msg, struct ktlsd_net *kn)
{
	const struct ktlsd_stats *stats = &kn->kn_stats;
	const struct {
		int		type;
		u64		value;
	} counters[] = {
		{ KTLSD_A_STATS_SUBMITTED,	stats->ks_submitted },
		{ KTLSD_A_STATS_OK,		stats->ks_ok },
		{ KTLSD_A_STATS_FAILED,		stats->ks_failed },
		{ KTLSD_A_STATS_TIMED_OUT,	stats->ks_timed_out },
		{ KTLSD_A_STATS_CANCELLED,	stats->ks_cancelled },
		{ KTLSD_A_STATS_IN_FLIGHT,	kn->kn_pending },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(counters); i++)
		if (ktlsd_nl_put_u64(msg, counters[i].type, counters[i].value))
			return -EMSGSIZE;
	if (stats->ks_errno_used &&
	    nla_put(msg, KTLSD_A_STATS_BY_ERRNO,
		    stats->ks_errno_used * sizeof(stats->ks_by_errno[0]),
		    stats->ks_by_errno))
		return -EMSGSIZE;
	if (nla_put_u32(msg, KTLSD_A_TIMEOUT_MS, kn->kn_timeout_ms) ||
	    nla_put_u32(msg, KTLSD_A_MAX_PENDING, kn->kn_max_pending))
		return -EMSGSIZE;
	return 0;
}

static int ktlsd_nl_stats_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktlsd_net *kn = ktlsd_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &ktlsd_genl_family, 0,
				KTLSD_CMD_STATS_GET);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	spin_lock(&kn->kn_lock);
	err = ktlsd_nl_put_stats(msg, kn);
	spin_unlock(&kn->kn_lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int ktlsd_nl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct ktlsd_net *kn = ktlsd_net(genl_info_net(info));
	struct nlattr **attrs = info->attrs;

	spin_lock(&kn->kn_lock);
	if (attrs[KTLSD_A_TIMEOUT_MS])
		kn->kn_timeout_ms = nla_get_u32(attrs[KTLSD_A_TIMEOUT_MS]);
	if (attrs[KTLSD_A_MAX_PENDING])
		kn->kn_max_pending = nla_get_u32(attrs[KTLSD_A_MAX_PENDING]);
	spin_unlock(&kn->kn_lock);
	return 0;
}

/* KTLSD_CMD_DONE - do */
static const struct nla_policy ktlsd_done_policy[KTLSD_A_MAX + 1] = {
	[KTLSD_A_REQUEST_ID]	= { .type = NLA_U64 },
	[KTLSD_A_STATUS]	= NLA_POLICY_MAX(NLA_U32, MAX_ERRNO),
	[KTLSD_A_ERROR]		= { .type = NLA_U32 },
	[KTLSD_A_VERSION]	= { .type = NLA_U32 },
	[KTLSD_A_CIPHER]	= { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
	[KTLSD_A_GROUP]		= { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
	[KTLSD_A_NEGOTIATED_ALPN] = { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
	[KTLSD_A_SERVER_NAME]	= { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
	[KTLSD_A_PEER_SUBJECT]	= { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
	[KTLSD_A_DETAIL]	= { .type = NLA_NUL_STRING, .len = KTLSD_TEXT_MAX },
};

/* KTLSD_CMD_SET - do; the bounds do not fit NLA_POLICY_RANGE's s16. */
static struct netlink_range_validation ktlsd_timeout_range = {
	.min	= KTLSD_TIMEOUT_MIN_MS,
	.max	= KTLSD_TIMEOUT_MAX_MS,
};

static struct netlink_range_validation ktlsd_max_pending_range = {
	.min	= 1,
	.max	= KTLSD_MAX_PENDING_MAX,
};

static const struct nla_policy ktlsd_set_policy[KTLSD_A_MAX + 1] = {
	[KTLSD_A_TIMEOUT_MS]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ktlsd_timeout_range),
	[KTLSD_A_MAX_PENDING]	= NLA_POLICY_FULL_RANGE(NLA_U32, &ktlsd_max_pending_range),
};

/*
 * Commands without attributes have no policy: the core then refuses any
 * attribute sent with them (resv_start_op is 0, the strict default).
 */
static const struct genl_ops ktlsd_nl_ops[] = {
	{
		.cmd		= KTLSD_CMD_ACCEPT,
		.doit		= ktlsd_nl_accept_doit,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KTLSD_CMD_DONE,
		.doit		= ktlsd_nl_done_doit,
		.policy		= ktlsd_done_policy,
		.maxattr	= KTLSD_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KTLSD_CMD_REQUEST_GET,
		.dumpit		= ktlsd_nl_request_dumpit,
	},
	{
		.cmd		= KTLSD_CMD_STATS_GET,
		.doit		= ktlsd_nl_stats_get_doit,
	},
	{
		.cmd		= KTLSD_CMD_SET,
		.doit		= ktlsd_nl_set_doit,
		.policy		= ktlsd_set_policy,
		.maxattr	= KTLSD_A_MAX,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group ktlsd_nl_mcgrps[] = {
	[KTLSD_NLGRP_READY]	= { .name = KTLSD_MCGRP_READY, KTLSD_MCGRP_ADMIN },
	[KTLSD_NLGRP_MONITOR]	= { .name = KTLSD_MCGRP_MONITOR, KTLSD_MCGRP_ADMIN },
};

struct genl_family ktlsd_genl_family __ro_after_init = {
	.name		= KTLSD_FAMILY_NAME,
	.version	= KTLSD_FAMILY_VERSION,
	.maxattr	= KTLSD_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= ktlsd_nl_ops,
	.n_ops		= ARRAY_SIZE(ktlsd_nl_ops),
	.mcgrps		= ktlsd_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(ktlsd_nl_mcgrps),
};
