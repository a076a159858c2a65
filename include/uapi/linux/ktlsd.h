/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * ktlsd: the ABI shared by the daemon, libktls and (later) the ktlsd.ko
 * module and ktlsctl.
 *
 * An upgrade request and its result are sets of attributes. The unix
 * socket frontend carries them in a small TLV framing (struct ktlsd_msg
 * below); the generic netlink family "ktlsd" will carry the same
 * attributes as netlink attributes, so a request means one thing on
 * either path.
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

/* Field limits; a longer field is refused with EMSGSIZE. */
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

	__KTLSD_A_MAX,
	KTLSD_A_MAX = __KTLSD_A_MAX - 1,
};

/*
 * Unix socket framing: one message is a header then attributes, each an
 * attribute header then its value padded to 4 bytes. Integers are in host
 * order (the socket never leaves the host); strings carry their NUL.
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

#endif /* _UAPI_LINUX_KTLSD_H */
