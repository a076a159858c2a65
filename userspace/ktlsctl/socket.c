// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl socket show: the kTLS sockets of this network namespace.
 *
 * One NETLINK_SOCK_DIAG dump per address family asks for every TCP socket
 * in every state. The kernel adds INET_DIAG_ULP_INFO to a socket that has
 * a ULP, only when INET_DIAG_INFO is requested as well, and only when the
 * requester holds CAP_NET_ADMIN; without the capability every socket would
 * look like plain TCP, so it is checked first and its absence is an error
 * rather than an empty list. TLS_INFO_* comes
 * from the tls module's tls_get_info(): version and cipher only once keys
 * are installed, the two directions' configuration always.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktlsctl.h"

/* Older uapi headers lack the request-socket state. */
#define TCP_STATE_NEW_SYN_RECV	12
/* "[" address "]:" port, for the longest IPv6 address. */
#define ENDPOINT_TEXT_MAX	(INET6_ADDRSTRLEN + 8)

/* Names as ss(8) prints them, indexed by the kernel's TCP state. */
static const char *const tcp_state_names[] = {
	[TCP_ESTABLISHED] = "ESTAB",
	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECV",
	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2",
	[TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "UNCONN",
	[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK",
	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
	[TCP_STATE_NEW_SYN_RECV] = "NEW-SYN-RECV",
};

struct code_name {
	unsigned int	cn_code;
	const char	*cn_name;
};

static const struct code_name tls_versions[] = {
	{ TLS_1_2_VERSION, "TLSv1.2" },
	{ TLS_1_3_VERSION, "TLSv1.3" },
};

/* The kernel's cipher names, lower case as in ss(8). */
static const struct code_name tls_ciphers[] = {
	{ TLS_CIPHER_AES_GCM_128, "aes-gcm-128" },
	{ TLS_CIPHER_AES_GCM_256, "aes-gcm-256" },
	{ TLS_CIPHER_AES_CCM_128, "aes-ccm-128" },
	{ TLS_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305" },
	{ TLS_CIPHER_SM4_GCM, "sm4-gcm" },
	{ TLS_CIPHER_SM4_CCM, "sm4-ccm" },
	{ TLS_CIPHER_ARIA_GCM_128, "aria-gcm-128" },
	{ TLS_CIPHER_ARIA_GCM_256, "aria-gcm-256" },
};

/* Where a direction's records are protected; BASE means no key yet. */
static const struct code_name tls_confs[] = {
	{ TLS_CONF_BASE, "none" },
	{ TLS_CONF_SW, "sw" },
	{ TLS_CONF_HW, "hw" },
	{ TLS_CONF_HW_RECORD, "hw-record" },
};

/* The ULPs whose sockets are kTLS sockets (ktlsd.ko's "ktlsd": mid-handshake). */
static const char *const ktls_ulp_names[] = { "tls", "ktlsd" };

/* One socket as the dump describes it; names are NULL when not reported. */
struct ktls_socket {
	const struct inet_diag_msg	*ks_msg;
	const char			*ks_ulp;
	const char			*ks_version;
	const char			*ks_cipher;
	const char			*ks_tx;
	const char			*ks_rx;
	bool				ks_zc_ro_tx;
	bool				ks_rx_no_pad;
	/* for a code the tables do not know */
	char				ks_version_buf[8];
	char				ks_cipher_buf[8];
};

struct socket_dump {
	const struct ktlsctl	*sd_ctl;
	struct json_writer	sd_json;
	unsigned int		sd_count;
};

static const char *code_name(const struct code_name *table, size_t n, unsigned int code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].cn_code == code)
			return table[i].cn_name;
	return NULL;
}

/* A code the tables do not know (a newer kernel's) is shown as a number. */
static const char *code_name_or_number(const struct code_name *table, size_t n,
				       unsigned int code, char *buf, size_t size)
{
	const char *name = code_name(table, n, code);

	if (name)
		return name;
	snprintf(buf, size, "0x%04x", code);
	return buf;
}

static bool is_ktls_ulp(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ktls_ulp_names); i++)
		if (!strcmp(name, ktls_ulp_names[i]))
			return true;
	return false;
}

static const char *tcp_state_name(unsigned int state)
{
	if (state < ARRAY_SIZE(tcp_state_names) && tcp_state_names[state])
		return tcp_state_names[state];
	return "UNKNOWN";
}

/*
 * Capability check against the effective set: that is what the kernel's
 * netlink_net_capable() tests for the ULP info. When capget itself fails
 * the dump goes ahead; the kernel has the last word anyway.
 */
static bool has_net_admin(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &header, data))
		return true;
	return data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

/* "address:port", with the IPv6 address in brackets as ss(8) writes it. */
static void endpoint_text(unsigned int family, const __be32 *addr, __be16 port,
			  char *text, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	if (family == AF_INET6)
		snprintf(text, size, "[%s]:%u", host, ntohs(port));
	else
		snprintf(text, size, "%s:%u", host, ntohs(port));
}

static void json_endpoint(struct json_writer *jw, const char *key, unsigned int family,
			  const __be32 *addr, __be16 port)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	json_object_begin(jw, key);
	json_string(jw, "address", host);
	json_u64(jw, "port", ntohs(port));
	json_object_end(jw);
}

static void json_string_or_null(struct json_writer *jw, const char *key, const char *value)
{
	if (value)
		json_string(jw, key, value);
	else
		json_null(jw, key);
}

static void print_socket_json(struct socket_dump *dump, const struct ktls_socket *ks)
{
	const struct inet_diag_msg *msg = ks->ks_msg;
	struct json_writer *jw = &dump->sd_json;

	json_object_begin(jw, NULL);
	json_endpoint(jw, "local", msg->idiag_family, msg->id.idiag_src, msg->id.idiag_sport);
	json_endpoint(jw, "peer", msg->idiag_family, msg->id.idiag_dst, msg->id.idiag_dport);
	json_string(jw, "state", tcp_state_name(msg->idiag_state));
	json_u64(jw, "uid", msg->idiag_uid);
	json_u64(jw, "inode", msg->idiag_inode);
	json_string(jw, "ulp", ks->ks_ulp);
	json_string_or_null(jw, "version", ks->ks_version);
	json_string_or_null(jw, "cipher", ks->ks_cipher);
	json_string_or_null(jw, "tx", ks->ks_tx);
	json_string_or_null(jw, "rx", ks->ks_rx);
	json_bool(jw, "zc_ro_tx", ks->ks_zc_ro_tx);
	json_bool(jw, "rx_no_pad", ks->ks_rx_no_pad);
	json_object_end(jw);
}

static void print_socket_text(struct socket_dump *dump, const struct ktls_socket *ks)
{
	const struct inet_diag_msg *msg = ks->ks_msg;
	char local[ENDPOINT_TEXT_MAX], peer[ENDPOINT_TEXT_MAX];

	endpoint_text(msg->idiag_family, msg->id.idiag_src, msg->id.idiag_sport,
		      local, sizeof(local));
	endpoint_text(msg->idiag_family, msg->id.idiag_dst, msg->id.idiag_dport,
		      peer, sizeof(peer));
	if (!dump->sd_count)
		printf("%-12s %-22s %-22s %s\n", "State", "Local Address:Port",
		       "Peer Address:Port", "TLS");
	printf("%-12s %-22s %-22s uid:%u ino:%u ulp:%s version:%s cipher:%s tx:%s rx:%s%s%s\n",
	       tcp_state_name(msg->idiag_state), local, peer, msg->idiag_uid,
	       msg->idiag_inode, ks->ks_ulp,
	       ks->ks_version ? ks->ks_version : "-", ks->ks_cipher ? ks->ks_cipher : "-",
	       ks->ks_tx ? ks->ks_tx : "-", ks->ks_rx ? ks->ks_rx : "-",
	       ks->ks_zc_ro_tx ? " zc_ro_tx" : "", ks->ks_rx_no_pad ? " rx_no_pad" : "");
}

/* The nested TLS_INFO_* attributes of INET_ULP_INFO_TLS. */
static void parse_tls_info(struct nlattr *nested, struct ktls_socket *ks)
{
	struct nlattr *tb[TLS_INFO_MAX + 1];

	if (nla_parse_nested(tb, TLS_INFO_MAX, nested, NULL) < 0)
		return;
	if (tb[TLS_INFO_VERSION])
		ks->ks_version = code_name_or_number(tls_versions, ARRAY_SIZE(tls_versions),
						     nla_get_u16(tb[TLS_INFO_VERSION]),
						     ks->ks_version_buf,
						     sizeof(ks->ks_version_buf));
	if (tb[TLS_INFO_CIPHER])
		ks->ks_cipher = code_name_or_number(tls_ciphers, ARRAY_SIZE(tls_ciphers),
						    nla_get_u16(tb[TLS_INFO_CIPHER]),
						    ks->ks_cipher_buf,
						    sizeof(ks->ks_cipher_buf));
	if (tb[TLS_INFO_TXCONF])
		ks->ks_tx = code_name(tls_confs, ARRAY_SIZE(tls_confs),
				      nla_get_u16(tb[TLS_INFO_TXCONF]));
	if (tb[TLS_INFO_RXCONF])
		ks->ks_rx = code_name(tls_confs, ARRAY_SIZE(tls_confs),
				      nla_get_u16(tb[TLS_INFO_RXCONF]));
	ks->ks_zc_ro_tx = tb[TLS_INFO_ZC_RO_TX] != NULL;
	ks->ks_rx_no_pad = tb[TLS_INFO_RX_NO_PAD] != NULL;
}

/* libnl calls this for every socket of the dump; non-kTLS ones are skipped. */
static int socket_parse(struct nl_msg *nlmsg, void *arg)
{
	struct socket_dump *dump = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(nlmsg);
	struct nlattr *tb[INET_DIAG_MAX + 1], *ulp[INET_ULP_INFO_MAX + 1];
	struct ktls_socket ks = { 0 };

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    nlmsg_parse(nlh, sizeof(struct inet_diag_msg), tb, INET_DIAG_MAX, NULL) < 0)
		return NL_SKIP;
	if (!tb[INET_DIAG_ULP_INFO] ||
	    nla_parse_nested(ulp, INET_ULP_INFO_MAX, tb[INET_DIAG_ULP_INFO], NULL) < 0 ||
	    !ulp[INET_ULP_INFO_NAME])
		return NL_SKIP;
	ks.ks_ulp = nla_get_string(ulp[INET_ULP_INFO_NAME]);
	if (!is_ktls_ulp(ks.ks_ulp))
		return NL_SKIP;
	ks.ks_msg = nlmsg_data(nlh);
	if (ulp[INET_ULP_INFO_TLS])
		parse_tls_info(ulp[INET_ULP_INFO_TLS], &ks);

	if (dump->sd_ctl->kc_json)
		print_socket_json(dump, &ks);
	else
		print_socket_text(dump, &ks);
	dump->sd_count++;
	return NL_OK;
}

static int dump_family(struct nl_sock *sk, unsigned char family)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_states = ~0U,	/* every state: a closing socket keeps its ULP */
		/*
		 * inet_sk_diag_fill() adds the ULP info only together with
		 * INET_DIAG_INFO (tcp_info), so that is asked for and ignored.
		 */
		.idiag_ext = 1 << (INET_DIAG_INFO - 1),
	};
	int err;

	err = nl_send_simple(sk, SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &req, sizeof(req));
	if (err < 0)
		return err;
	return nl_recvmsgs_default(sk);
}

int socket_show(const struct ktlsctl *ctl, const char *arg)
{
	static const unsigned char families[] = { AF_INET, AF_INET6 };
	struct socket_dump dump = { .sd_ctl = ctl };
	struct nl_sock *sk;
	int err = 0;
	size_t i;

	if (!has_net_admin()) {
		fprintf(stderr, "Error: socket show needs CAP_NET_ADMIN: "
			"the kernel reports a socket's ULP to no one else.\n");
		return KTLSCTL_EXIT_FAILURE;
	}
	sk = nl_socket_alloc();
	if (!sk) {
		fprintf(stderr, "Error: out of memory.\n");
		return KTLSCTL_EXIT_FAILURE;
	}
	err = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (err < 0)
		goto out_free_socket;
	/* A dump ends with NLMSG_DONE; a large one needs its true message size. */
	nl_socket_disable_auto_ack(sk);
	nl_socket_enable_msg_peek(sk);
	err = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, socket_parse, &dump);
	if (err < 0)
		goto out_free_socket;

	if (ctl->kc_json) {
		json_init(&dump.sd_json, stdout, ctl->kc_pretty);
		json_array_begin(&dump.sd_json, NULL);
	}
	for (i = 0; i < ARRAY_SIZE(families) && err >= 0; i++)
		err = dump_family(sk, families[i]);
	/* Close the array even after a failure, so that the output still parses. */
	if (ctl->kc_json) {
		json_array_end(&dump.sd_json);
		json_finish(&dump.sd_json);
	}

out_free_socket:
	nl_socket_free(sk);
	if (err < 0) {
		fprintf(stderr, "Error: sock_diag dump: %s.\n", nl_geterror(err));
		return KTLSCTL_EXIT_FAILURE;
	}
	return KTLSCTL_EXIT_OK;
}
