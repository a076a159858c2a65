/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * ktlsd: the ABI shared by the daemon, libktls, the ktlsd.ko module and
 * ktlsctl.
 *
 * An upgrade request and its result are sets of attributes. The unix
 * socket frontend carries them in a small TLV framing (struct ktlsd_msg
 * below); the generic netlink family "ktlsd" carries the same attributes
 * as netlink attributes, so a request means one thing on either path.
 * The family is specified in Documentation/netlink/specs/ktlsd.yaml.
 */
#ifndef _UAPI_LINUX_KTLSD_H
#define _UAPI_LINUX_KTLSD_H

#include <linux/types.h>

#define KTLSD_FAMILY_NAME	"ktlsd"
#define KTLSD_FAMILY_VERSION	1

/* The unix socket the daemon listens on unless configured otherwise. */
#define KTLSD_DEFAULT_SOCKET	"/run/ktlsd/ktlsd.sock"

enum ktlsd_role {
	KTLSD_ROLE_CLIENT = 1,
	KTLSD_ROLE_SERVER = 2,
};

enum ktlsd_verify {
	KTLSD_VERIFY_DEFAULT = 0,	/* the identity's or daemon's policy */
	KTLSD_VERIFY_REQUIRED = 1,
	KTLSD_VERIFY_OPTIONAL = 2,
	KTLSD_VERIFY_NONE = 3,
};

/*
 * Field limits. A field without its NUL within the limit is refused:
 * EMSGSIZE by ktlsd's unix protocol, EINVAL by KTLSD_OPT_UPGRADE.
 */
#define KTLSD_PEER_NAME_MAX	255	/* a DNS name or an IP literal */
#define KTLSD_ALPN_MAX		255	/* comma-separated protocol list */
#define KTLSD_IDENTITY_MAX	63
#define KTLSD_TEXT_MAX		255	/* names and details in a result */

enum ktlsd_attr {
	KTLSD_A_UNSPEC,
	/* request */
	KTLSD_A_ROLE,		/* u32, enum ktlsd_role */
	KTLSD_A_PEER_NAME,	/* string: SNI and the name to verify */
	KTLSD_A_ALPN,		/* string: "h2,http/1.1" */
	KTLSD_A_IDENTITY,	/* string: a configured identity */
	KTLSD_A_VERIFY,		/* u32, enum ktlsd_verify */
	KTLSD_A_TIMEOUT_MS,	/* u32, 0: the daemon's default */
	/* result */
	KTLSD_A_STATUS,		/* u32: 0 or a positive errno */
	KTLSD_A_ERROR,		/* u32: libktls error code (alert classes) */
	KTLSD_A_VERSION,	/* u32: 0x0303, 0x0304 */
	KTLSD_A_CIPHER,		/* string: IANA suite name */
	KTLSD_A_GROUP,		/* string */
	KTLSD_A_NEGOTIATED_ALPN, /* string */
	KTLSD_A_SERVER_NAME,	/* string: the SNI a server received */
	KTLSD_A_PEER_SUBJECT,	/* string: the peer certificate's subject */
	KTLSD_A_DETAIL,		/* string: why it failed, for humans */
	/* counters */
	KTLSD_A_STATS_OK,		/* u64 */
	KTLSD_A_STATS_FAILED,		/* u64 */
	KTLSD_A_STATS_TIMED_OUT,	/* u64 */
	KTLSD_A_STATS_DENIED,		/* u64 */
	KTLSD_A_STATS_REFUSED,		/* u64: over a cap (EAGAIN) */
	KTLSD_A_STATS_IN_FLIGHT,	/* u64 */
	KTLSD_A_STATS_DURATION_US,	/* u64: sum over successful handshakes */
	KTLSD_A_STATS_RELOADS,		/* u64 */
	KTLSD_A_STATS_BY_ERRNO,		/* struct ktlsd_errno_count[]: every failed outcome */
	KTLSD_A_STATS_DURATION_MAX_US,	/* u64: the slowest successful handshake */
	/* the module's generic netlink family */
	KTLSD_A_PAD,			/* alignment for u64 attributes */
	KTLSD_A_REQUEST_ID,		/* u64: unique in a network namespace */
	KTLSD_A_SOCKFD,			/* s32: the socket, installed in ACCEPT's caller */
	KTLSD_A_UID,			/* u32: the requester's, in the caller's user ns */
	KTLSD_A_GID,			/* u32 */
	KTLSD_A_PID,			/* u32: tgid, in the caller's pid ns */
	KTLSD_A_GROUPS,			/* u32[]: supplementary groups */
	KTLSD_A_STATE,			/* u32, enum ktlsd_req_state */
	KTLSD_A_AGE_MS,			/* u32: since the request was made */
	KTLSD_A_SOCK_COOKIE,		/* u64: SO_COOKIE of the socket */
	KTLSD_A_LOCAL_ADDR,		/* binary: struct sockaddr_in or _in6 */
	KTLSD_A_PEER_ADDR,		/* binary: struct sockaddr_in or _in6 */
	KTLSD_A_MAX_PENDING,		/* u32: requests queued or accepted per netns */
	KTLSD_A_STATS_SUBMITTED,	/* u64 */
	KTLSD_A_STATS_CANCELLED,	/* u64: signal, close or netns exit */
	/* the unix socket frontend */
	KTLSD_A_KEEP_MS,		/* u32, in a RESULT: the connection takes another
					 * UPGRADE if it comes within this many ms;
					 * absent: the daemon closes it after the answer */

	__KTLSD_A_MAX,
	KTLSD_A_MAX = __KTLSD_A_MAX - 1,
};

/*
 * Unix socket framing: one message is a header then attributes, each an
 * attribute header then its value padded to 4 bytes. Integers are in host
 * order (the socket never leaves the host); strings carry their NUL.
 *
 * One request at a time per connection: UPGRADE, then its RESULT. A RESULT
 * carrying KTLSD_A_KEEP_MS says the connection stays open for another
 * UPGRADE, judged by the credentials the connection was made with
 * (SO_PEERCRED). A daemon that closes a waiting connection sends nothing
 * first; one that closes it with a request unread makes the requester's
 * read fail with ECONNRESET, so a requester can tell "never taken" (EPIPE
 * on sending, ECONNRESET before any byte of the answer) from "taken and
 * then lost" (end of stream before a whole RESULT).
 */
struct ktlsd_msg {
	__u32	km_len;		/* whole message, header included */
	__u16	km_type;	/* enum ktlsd_msg_type */
	__u16	km_version;	/* KTLSD_FAMILY_VERSION */
};

struct ktlsd_attr_hdr {
	__u16	ka_len;		/* header and value, without padding */
	__u16	ka_type;	/* enum ktlsd_attr */
};

#define KTLSD_MSG_MAX		4096

/* How many requests ended with one errno (refusals, failures, timeouts). */
struct ktlsd_errno_count {
	__u32	kec_errno;
	__u32	kec_pad;
	__u64	kec_count;
};

#define KTLSD_ERRNO_COUNTS_MAX	64	/* entries in one KTLSD_A_STATS_BY_ERRNO */

enum ktlsd_msg_type {
	KTLSD_MSG_UPGRADE = 1,	/* request; the socket travels as SCM_RIGHTS */
	KTLSD_MSG_RESULT = 2,	/* the daemon's answer to UPGRADE */
	KTLSD_MSG_STATS_GET = 3,
	KTLSD_MSG_STATS = 4,
};

/*
 * The module: socket options.
 *
 * setsockopt(fd, SOL_TCP, TCP_ULP, KTLSD_ULP_NAME) on a connected or
 * accepted TCP socket, then
 * setsockopt(fd, KTLSD_SOL, KTLSD_OPT_UPGRADE, &struct ktlsd_upgrade, sizeof)
 * hands the socket to the daemon. The level is SOL_TLS's number and the
 * option numbers sit far above the kernel's TLS_* options, so the request
 * cannot be mistaken for one of them (on a "tls" socket it is ENOPROTOOPT).
 *
 * A blocking socket sleeps until the daemon is done and gets 0 (the socket
 * is now kTLS) or a negative errno. An O_NONBLOCK socket gets EINPROGRESS;
 * completion then shows as EPOLLERR with a struct sock_extended_err on the
 * socket's error queue (recvmsg MSG_ERRQUEUE): ee_origin
 * SO_EE_ORIGIN_LOCAL, ee_code KTLSD_EE_CODE_UPGRADE, ee_errno the status
 * (0: success), ee_info the low 32 bits of the request id. A failure also
 * sets SO_ERROR.
 */
#define KTLSD_ULP_NAME		"ktlsd"
#define KTLSD_SOL		282	/* SOL_TLS */
#define KTLSD_OPT_UPGRADE	0x4b01

#define KTLSD_EE_CODE_UPGRADE	0x4b

struct ktlsd_upgrade {
	__u32	ku_role;		/* enum ktlsd_role */
	__u32	ku_verify;		/* enum ktlsd_verify */
	__u32	ku_timeout_ms;		/* 0: the module's default */
	__u32	ku_flags;		/* none defined; must be 0 */
	char	ku_peer_name[KTLSD_PEER_NAME_MAX + 1];	/* NUL-terminated, may be empty */
	char	ku_alpn[KTLSD_ALPN_MAX + 1];
	char	ku_identity[KTLSD_IDENTITY_MAX + 1];
};

enum ktlsd_req_state {
	KTLSD_REQ_QUEUED = 1,	/* waiting for a daemon's ACCEPT */
	KTLSD_REQ_ACCEPTED = 2,	/* a daemon holds the socket */
	KTLSD_REQ_DONE = 3,	/* kept for queries after completion */
};

/*
 * The module: generic netlink family KTLSD_FAMILY_NAME, per network
 * namespace. Multicast groups: KTLSD_MCGRP_READY tells daemons there is
 * work; KTLSD_MCGRP_MONITOR sees READY and DONE for every request.
 */
#define KTLSD_MCGRP_READY	"ready"
#define KTLSD_MCGRP_MONITOR	"monitor"

enum ktlsd_cmd {
	KTLSD_CMD_UNSPEC,
	KTLSD_CMD_READY,	/* notification: a request is queued */
	KTLSD_CMD_ACCEPT,	/* do, CAP_NET_ADMIN: take the oldest request */
	KTLSD_CMD_DONE,		/* do, CAP_NET_ADMIN: the outcome; also a notification */
	KTLSD_CMD_REQUEST_GET,	/* dump: pending and recently completed requests */
	KTLSD_CMD_STATS_GET,	/* do: counters and settings */
	KTLSD_CMD_SET,		/* do, CAP_NET_ADMIN: settings */

	__KTLSD_CMD_MAX,
	KTLSD_CMD_MAX = __KTLSD_CMD_MAX - 1,
};

#endif /* _UAPI_LINUX_KTLSD_H */
