// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module's generic netlink family "ktlsd": finding it, one exchange
 * with it, and what the kernel says when it refuses.
 *
 * libnl turns a kernel errno into its own NLE_* codes, and EPERM from a
 * missing capability would reach the user as "Operation not permitted"
 * only by luck of the mapping. Errors are therefore taken from the
 * NLMSG_ERROR itself, with the extended ack's message, and every function
 * here returns a negative errno.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/socket.h>

#include "ktlsctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* One exchange: what the callbacks saw. */
struct exchange {
	struct module_conn	*ex_conn;
	module_parse_fn		ex_parse;
	void			*ex_arg;
	bool			ex_done;	/* the ACK, NLMSG_DONE or an error came */
	int			ex_err;		/* negative errno from the kernel or a parser */
};

/* libnl's own codes, for failures that happen before the kernel answers. */
static const struct {
	int	ne_nl;
	int	ne_errno;
} nl_errnos[] = {
	{ NLE_NOMEM, ENOMEM },
	{ NLE_PERM, EPERM },
	{ NLE_OBJ_NOTFOUND, ENOENT },
	{ NLE_AGAIN, EAGAIN },
	{ NLE_INTR, EINTR },
	{ NLE_MSGSIZE, EMSGSIZE },
};

static int errno_from_nl(int nl_err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(nl_errnos); i++)
		if (nl_errnos[i].ne_nl == -nl_err)
			return -nl_errnos[i].ne_errno;
	return -EIO;
}

/* The extended ack's message, when the kernel sent one. */
static void save_extack(struct module_conn *mc, const struct nlmsgerr *e)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t offset;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* The request is echoed back unless the ack was capped. */
	offset = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (offset >= nlh->nlmsg_len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + NLMSG_ALIGN(offset)),
		      nlh->nlmsg_len - NLMSG_ALIGN(offset), NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	nla_strlcpy(mc->mc_extack, tb[NLMSGERR_ATTR_MSG], sizeof(mc->mc_extack));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct exchange *ex = arg;

	ex->ex_err = e->error;
	ex->ex_done = true;
	save_extack(ex->ex_conn, e);
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct exchange *ex = arg;

	ex->ex_done = true;
	return NL_STOP;
}

/* NLMSG_DONE carries the error a dump stopped on, if any. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct exchange *ex = arg;
	int err;

	ex->ex_done = true;
	if (nlmsg_datalen(nlh) >= (int)sizeof(err)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0 && !ex->ex_err)
			ex->ex_err = err;
	}
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct exchange *ex = arg;
	int err;

	if (!ex->ex_parse)
		return NL_OK;
	err = ex->ex_parse(msg, ex->ex_arg);
	/* The first failure is the one reported; the rest of a dump is drained. */
	if (err < 0 && !ex->ex_err)
		ex->ex_err = err;
	return NL_OK;
}

int module_connect(struct module_conn *mc)
{
	int one = 1, err;

	memset(mc, 0, sizeof(*mc));
	mc->mc_sock = nl_socket_alloc();
	if (!mc->mc_sock)
		return -ENOMEM;
	err = genl_connect(mc->mc_sock);
	if (err < 0)
		goto out_free_socket;
	err = genl_ctrl_resolve(mc->mc_sock, KTLSD_FAMILY_NAME);
	if (err < 0)
		goto out_free_socket;
	mc->mc_family = err;
	/* Best effort: without it errors come without their message. */
	setsockopt(nl_socket_get_fd(mc->mc_sock), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(mc->mc_sock), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	/* Each message says itself whether it wants an ACK: a dump does not. */
	nl_socket_disable_auto_ack(mc->mc_sock);
	/* A dump of many requests arrives in datagrams larger than a page. */
	nl_socket_enable_msg_peek(mc->mc_sock);
	return 0;

out_free_socket:
	nl_socket_free(mc->mc_sock);
	mc->mc_sock = NULL;
	return errno_from_nl(err);
}

void module_disconnect(struct module_conn *mc)
{
	nl_socket_free(mc->mc_sock);
	mc->mc_sock = NULL;
}

struct nl_msg *module_message(const struct module_conn *mc, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, mc->mc_family, 0,
			 dump ? NLM_F_DUMP : NLM_F_ACK, cmd, KTLSD_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int module_exchange(struct module_conn *mc, struct nl_msg *msg, module_parse_fn parse,
		    void *arg)
{
	struct exchange ex = { .ex_conn = mc, .ex_parse = parse, .ex_arg = arg };
	struct nl_cb *cb;
	int err;

	mc->mc_extack[0] = '\0';
	err = nl_send_auto(mc->mc_sock, msg);
	nlmsg_free(msg);
	if (err < 0)
		return errno_from_nl(err);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &ex);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &ex);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &ex);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &ex);
	while (!ex.ex_done) {
		err = nl_recvmsgs(mc->mc_sock, cb);
		if (err < 0 && !ex.ex_err)
			ex.ex_err = errno_from_nl(err);
		if (err < 0)
			break;
	}
	nl_cb_put(cb);
	return ex.ex_err;
}

void module_print_error(const struct module_conn *mc, const char *what, int err)
{
	if (mc->mc_extack[0])
		fprintf(stderr, "Error: %s: %s (%s).\n", what, mc->mc_extack, strerror(-err));
	else
		fprintf(stderr, "Error: %s: %s.\n", what, strerror(-err));
}

int module_not_loaded(const char *object)
{
	fprintf(stderr, "Error: the ktlsd module is not loaded; \"%s\" needs ktlsd.ko.\n",
		object);
	return KTLSCTL_EXIT_USAGE;
}

int module_open(struct module_conn *mc, const char *object)
{
	int err = module_connect(mc);

	if (err == -ENOENT)
		return module_not_loaded(object);
	if (err) {
		fprintf(stderr, "Error: generic netlink: %s.\n", strerror(-err));
		return KTLSCTL_EXIT_FAILURE;
	}
	return KTLSCTL_EXIT_OK;
}
