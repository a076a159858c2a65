// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ktls_upgrade() through ktlsd.ko: the socket is handed to the daemon by
 * the kernel instead of by SCM_RIGHTS.
 *
 *	setsockopt(fd, SOL_TCP, TCP_ULP, "ktlsd")
 *	setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, &struct ktlsd_upgrade)
 *
 * A blocking socket sleeps in the second call until the daemon is done.
 * An O_NONBLOCK one gets EINPROGRESS, and the outcome arrives later as a
 * struct sock_extended_err on the socket's error queue (EPOLLERR), which
 * is what ktls_module_collect() reads. The module answers with an errno
 * only; the negotiated version, suite, ALPN and peer are what the daemon
 * told it in DONE, kept in the module's short list of recent completions,
 * so ktls_module_result() finds this socket's by its cookie in a
 * KTLSD_CMD_REQUEST_GET dump. Nothing here needs privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ktls_int.h"

#ifndef SO_COOKIE
#define SO_COOKIE		57
#endif

#define MODULE_NL_BUF		16384
#define MODULE_NL_TIMEOUT_MS	1000

/* Is the ULP on @fd "ktlsd" already (a refused request left it there)? */
static int module_ulp_attached(int fd)
{
	char ulp[16] = "";
	socklen_t len = sizeof(ulp);

	if (getsockopt(fd, SOL_TCP, TCP_ULP, ulp, &len))
		return 0;
	return !strncmp(ulp, KTLSD_ULP_NAME, sizeof(ulp));
}

static int module_attach(int fd, const char **why)
{
	int ret = ktls_socket_check_tcp(fd);

	if (ret) {
		*why = ktls_socket_check_reason(ret);
		return ret;
	}
	if (module_ulp_attached(fd))
		return 0;
	if (!setsockopt(fd, SOL_TCP, TCP_ULP, KTLSD_ULP_NAME, sizeof(KTLSD_ULP_NAME)))
		return 0;
	switch (errno) {
	case ENOENT:
		*why = "ktlsd.ko is not loaded (and could not be)";
		return -ENOENT;
	case EEXIST:
		*why = "the socket already has a ULP";
		return -EALREADY;
	case ENOTCONN:
		*why = "the socket is not connected";
		return -ENOTCONN;
	default:
		*why = "the ktlsd ULP cannot be attached";
		return -errno;
	}
}

/* Why the module refused a request outright. */
static const char *module_refusal(int err)
{
	switch (err) {
	case -ESRCH:
		return "no ktlsd is listening to ktlsd.ko in this network namespace";
	case -EAGAIN:
		return "ktlsd.ko has as many requests pending as it takes; try again";
	case -EALREADY:
		return "an upgrade of this socket is already pending";
	case -EINVAL:
		return "ktlsd.ko refused the request as malformed";
	case -EINTR:
		return "interrupted by a signal; the socket was shut down";
	default:
		return NULL;
	}
}

int ktls_module_submit(int fd, const struct ktls_upgrade_opts *opts, int timeout_ms,
		       const char **why)
{
	struct ktlsd_upgrade ku = {
		.ku_role = opts->role == KTLS_ROLE_SERVER ? KTLSD_ROLE_SERVER : KTLSD_ROLE_CLIENT,
		.ku_verify = (uint32_t)opts->verify,
		.ku_timeout_ms = (uint32_t)timeout_ms,
	};
	int ret;

	*why = NULL;
	if ((opts->peer_name && strlen(opts->peer_name) >= sizeof(ku.ku_peer_name)) ||
	    (opts->alpn && strlen(opts->alpn) >= sizeof(ku.ku_alpn)) ||
	    (opts->identity && strlen(opts->identity) >= sizeof(ku.ku_identity))) {
		*why = "peer name, ALPN list or identity too long";
		return -EMSGSIZE;
	}
	snprintf(ku.ku_peer_name, sizeof(ku.ku_peer_name), "%s", opts->peer_name ? opts->peer_name : "");
	snprintf(ku.ku_alpn, sizeof(ku.ku_alpn), "%s", opts->alpn ? opts->alpn : "");
	snprintf(ku.ku_identity, sizeof(ku.ku_identity), "%s", opts->identity ? opts->identity : "");
	ret = module_attach(fd, why);
	if (ret)
		return ret;
	if (!setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, &ku, sizeof(ku)))
		return 0;
	ret = -errno;
	*why = module_refusal(ret);
	return ret;
}

int ktls_module_collect(int fd, int *status)
{
	char control[512];
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
	struct sock_extended_err ee;
	struct cmsghdr *cmsg;

	for (;;) {
		msg.msg_controllen = sizeof(control);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			if (!((cmsg->cmsg_level == SOL_IP && cmsg->cmsg_type == IP_RECVERR) ||
			      (cmsg->cmsg_level == SOL_IPV6 && cmsg->cmsg_type == IPV6_RECVERR)) ||
			    cmsg->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(cmsg), sizeof(ee));
			/* Anything else on the queue (zerocopy notices) is not ours to keep. */
			if (ee.ee_origin != SO_EE_ORIGIN_LOCAL || ee.ee_code != KTLSD_EE_CODE_UPGRADE)
				continue;
			*status = ee.ee_errno > 4095 ? -EPROTO : -(int)ee.ee_errno;
			if (*status) {
				int err;
				socklen_t len = sizeof(err);

				/* The failure is also in SO_ERROR; it has been reported here. */
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			}
			return 1;
		}
	}
}

/* ---- the result's details, from the module's recent completions ---- */

struct module_nl {
	int mn_fd;
	uint32_t mn_seq;
	uint8_t mn_buf[MODULE_NL_BUF];
};

static int module_nl_send(struct module_nl *nl, uint16_t type, uint16_t flags, uint8_t cmd,
			  const void *attrs, size_t attrs_len)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		uint8_t attrs[64];
	} req;
	size_t len = NLMSG_LENGTH(sizeof(req.gh)) + attrs_len;

	if (attrs_len > sizeof(req.attrs))
		return -EMSGSIZE;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = (uint32_t)len;
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req.nh.nlmsg_seq = ++nl->mn_seq;
	req.gh.cmd = cmd;
	req.gh.version = KTLSD_FAMILY_VERSION;
	memcpy(req.attrs, attrs, attrs_len);
	return send(nl->mn_fd, &req, len, 0) == (ssize_t)len ? 0 : -errno;
}

/*
 * Reads until the answer to the last request ends, handing each payload
 * (after the genetlink header) to @fn; @fn returns 1 to stop early.
 */
static int module_nl_read(struct module_nl *nl,
			  int (*fn)(const void *payload, size_t len, void *arg), void *arg)
{
	const struct nlmsghdr *nh;
	struct nlmsgerr err;
	ssize_t n;
	size_t left;
	int stop = 0;

	for (;;) {
		n = recv(nl->mn_fd, nl->mn_buf, sizeof(nl->mn_buf), 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		left = (size_t)n;
		for (nh = (const struct nlmsghdr *)nl->mn_buf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != nl->mn_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(err)))
					return -EBADMSG;
				memcpy(&err, NLMSG_DATA(nh), sizeof(err));
				return err.error;	/* 0: an ack */
			}
			if (!stop && nh->nlmsg_len >= NLMSG_LENGTH(GENL_HDRLEN))
				stop = fn((const uint8_t *)NLMSG_DATA(nh) + GENL_HDRLEN,
					  nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), arg);
			if (!(nh->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

/* CTRL_CMD_GETFAMILY's answer: the family id. */
static int module_family_id(const void *payload, size_t len, void *arg)
{
	const uint8_t *p = payload;
	struct nlattr na;
	uint16_t id;
	size_t off;

	for (off = 0; off + NLA_HDRLEN <= len; off += NLA_ALIGN(na.nla_len)) {
		memcpy(&na, p + off, sizeof(na));
		if (na.nla_len < NLA_HDRLEN || na.nla_len > len - off)
			return 1;
		if ((na.nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID &&
		    na.nla_len >= NLA_HDRLEN + sizeof(id)) {
			memcpy(&id, p + off + NLA_HDRLEN, sizeof(id));
			*(uint16_t *)arg = id;
			return 1;
		}
	}
	return 0;
}

struct module_match {
	uint64_t mm_cookie;
	uint64_t mm_id;			/* of the newest completion found */
	struct ktls_upgrade_info *mm_info;
	int mm_found;
};

/* One request of the dump: is it this socket's, completed? */
static int module_match_request(const void *payload, size_t len, void *arg)
{
	struct module_match *mm = arg;
	struct ktls_upgrade_info found;
	struct ktlsd_attrs attrs;
	uint64_t cookie, id;
	uint32_t state;

	if (ktlsd_attrs_parse(payload, len, &attrs) ||
	    ktlsd_attr_u64(&attrs, KTLSD_A_SOCK_COOKIE, &cookie) || cookie != mm->mm_cookie ||
	    ktlsd_attr_u32(&attrs, KTLSD_A_STATE, &state) || state != KTLSD_REQ_DONE ||
	    ktlsd_attr_u64(&attrs, KTLSD_A_REQUEST_ID, &id))
		return 0;
	/* An earlier request of the same socket (refused, retried) may be listed too. */
	if (mm->mm_found && id < mm->mm_id)
		return 0;
	memset(&found, 0, sizeof(found));
	if (ktlsd_result_decode(&attrs, &found))
		return 0;
	*mm->mm_info = found;
	mm->mm_id = id;
	mm->mm_found = 1;
	return 0;
}

/*
 * The family's id, resolved once per process: a module reload gives the
 * family a new one, so a lookup that finds nothing under the remembered id
 * resolves it again and asks once more. Asking a family that took over
 * the old id is harmless: a dump is a read, and no answer of another
 * family matches the socket's cookie.
 */
static uint16_t module_family_cached;

static uint16_t module_family_resolve(struct module_nl *nl)
{
	struct {
		struct nlattr na;
		char name[sizeof(KTLSD_FAMILY_NAME)];
	} __attribute__((packed)) family = {
		.na = { .nla_len = NLA_HDRLEN + sizeof(KTLSD_FAMILY_NAME),
			.nla_type = CTRL_ATTR_FAMILY_NAME },
		.name = KTLSD_FAMILY_NAME,
	};
	uint16_t id = 0;

	if (module_nl_send(nl, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, &family,
			   NLA_ALIGN(sizeof(family))) ||
	    module_nl_read(nl, module_family_id, &id))
		return 0;
	__atomic_store_n(&module_family_cached, id, __ATOMIC_RELAXED);
	return id;
}

/* The module's recent completions, searched for @mm's socket: 0 when found. */
static int module_find(struct module_nl *nl, uint16_t id, struct module_match *mm)
{
	mm->mm_found = 0;
	mm->mm_id = 0;
	return !id || module_nl_send(nl, id, NLM_F_DUMP, KTLSD_CMD_REQUEST_GET, NULL, 0) ||
	       module_nl_read(nl, module_match_request, mm) || !mm->mm_found;
}

void ktls_module_result(int fd, struct ktls_upgrade_info *info)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = MODULE_NL_TIMEOUT_MS / 1000,
			      .tv_usec = MODULE_NL_TIMEOUT_MS % 1000 * 1000 };
	struct ktls_upgrade_info found = { 0 };
	struct module_match mm = { .mm_info = &found };
	socklen_t len = sizeof(mm.mm_cookie);
	int status = info->status;
	struct module_nl *nl;
	uint16_t id;

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &mm.mm_cookie, &len))
		return;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return;
	nl->mn_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->mn_fd < 0)
		goto out_free;
	if (setsockopt(nl->mn_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(nl->mn_fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out_close;
	id = __atomic_load_n(&module_family_cached, __ATOMIC_RELAXED);
	if (module_find(nl, id, &mm) &&
	    module_find(nl, module_family_resolve(nl), &mm))
		goto out_close;
	/* The status is the one the socket itself reported; the rest is the daemon's word. */
	*info = found;
	info->status = status;
out_close:
	close(nl->mn_fd);
out_free:
	free(nl);
}
