// SPDX-License-Identifier: GPL-2.0-only
/*
 * ktlsctl request show and ktlsctl monitor: the module's handshake
 * requests, listed by a REQUEST_GET dump or seen as they happen on the
 * "monitor" group. Both carry the same attributes (a READY or DONE
 * notification is the request as the dump would show it), so one parser
 * and one printer serve both; the dump's lines only lack the event name.
 *
 * The request's identity and endpoints are columns; everything else the
 * module sent follows as name:value in the order of request_fields[], and
 * a field the module did not send is left out (a queued request has no
 * result yet). JSON uses the same names, the spec's attribute names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "ktlsctl.h"

/* "[" address "]:" port, for the longest IPv6 address. */
#define ENDPOINT_TEXT_MAX	(INET6_ADDRSTRLEN + 8)
/* Monitor events can come in bursts; a larger buffer loses fewer. */
#define MONITOR_RCVBUF		(1 << 20)
#define GENL_CTRL_NAME		"nlctrl"
#define GENL_CTRL_GROUP		"notify"

enum field_format {
	FIELD_U32,
	FIELD_U64,
	FIELD_STRING,
	FIELD_STATUS,	/* u32 errno: name in text, number and name in JSON */
	FIELD_VERSION,	/* u32 TLS version: "TLSv1.3" */
	FIELD_VERIFY,	/* u32 enum ktlsd_verify */
	FIELD_U32_LIST,	/* u32[]: "1,2,3" in text, an array in JSON */
};

struct request_field {
	int			rf_attr;
	const char		*rf_name;
	enum field_format	rf_format;
};

/* The columns (id, state, role, addresses) are not repeated here. */
static const struct request_field request_fields[] = {
	{ KTLSD_A_UID, "uid", FIELD_U32 },
	{ KTLSD_A_GID, "gid", FIELD_U32 },
	{ KTLSD_A_PID, "pid", FIELD_U32 },
	{ KTLSD_A_GROUPS, "groups", FIELD_U32_LIST },
	{ KTLSD_A_AGE_MS, "age_ms", FIELD_U32 },
	{ KTLSD_A_TIMEOUT_MS, "timeout_ms", FIELD_U32 },
	{ KTLSD_A_SOCK_COOKIE, "sock_cookie", FIELD_U64 },
	{ KTLSD_A_VERIFY, "verify", FIELD_VERIFY },
	{ KTLSD_A_PEER_NAME, "peer_name", FIELD_STRING },
	{ KTLSD_A_ALPN, "alpn", FIELD_STRING },
	{ KTLSD_A_IDENTITY, "identity", FIELD_STRING },
	{ KTLSD_A_STATUS, "status", FIELD_STATUS },
	{ KTLSD_A_ERROR, "error", FIELD_U32 },
	{ KTLSD_A_VERSION, "version", FIELD_VERSION },
	{ KTLSD_A_CIPHER, "cipher", FIELD_STRING },
	{ KTLSD_A_GROUP, "group", FIELD_STRING },
	{ KTLSD_A_NEGOTIATED_ALPN, "negotiated_alpn", FIELD_STRING },
	{ KTLSD_A_SERVER_NAME, "server_name", FIELD_STRING },
	{ KTLSD_A_PEER_SUBJECT, "peer_subject", FIELD_STRING },
	{ KTLSD_A_DETAIL, "detail", FIELD_STRING },
};

/* The attribute types libnl checks before anything is read. */
static const struct nla_policy request_policy[KTLSD_A_MAX + 1] = {
	[KTLSD_A_ROLE] = { .type = NLA_U32 },
	[KTLSD_A_PEER_NAME] = { .type = NLA_STRING, .maxlen = KTLSD_PEER_NAME_MAX + 1 },
	[KTLSD_A_ALPN] = { .type = NLA_STRING, .maxlen = KTLSD_ALPN_MAX + 1 },
	[KTLSD_A_IDENTITY] = { .type = NLA_STRING, .maxlen = KTLSD_IDENTITY_MAX + 1 },
	[KTLSD_A_VERIFY] = { .type = NLA_U32 },
	[KTLSD_A_TIMEOUT_MS] = { .type = NLA_U32 },
	[KTLSD_A_STATUS] = { .type = NLA_U32 },
	[KTLSD_A_ERROR] = { .type = NLA_U32 },
	[KTLSD_A_VERSION] = { .type = NLA_U32 },
	[KTLSD_A_CIPHER] = { .type = NLA_STRING, .maxlen = KTLSD_TEXT_MAX + 1 },
	[KTLSD_A_GROUP] = { .type = NLA_STRING, .maxlen = KTLSD_TEXT_MAX + 1 },
	[KTLSD_A_NEGOTIATED_ALPN] = { .type = NLA_STRING, .maxlen = KTLSD_ALPN_MAX + 1 },
	[KTLSD_A_SERVER_NAME] = { .type = NLA_STRING, .maxlen = KTLSD_PEER_NAME_MAX + 1 },
	[KTLSD_A_PEER_SUBJECT] = { .type = NLA_STRING, .maxlen = KTLSD_TEXT_MAX + 1 },
	[KTLSD_A_DETAIL] = { .type = NLA_STRING, .maxlen = KTLSD_TEXT_MAX + 1 },
	[KTLSD_A_REQUEST_ID] = { .type = NLA_U64 },
	[KTLSD_A_UID] = { .type = NLA_U32 },
	[KTLSD_A_GID] = { .type = NLA_U32 },
	[KTLSD_A_PID] = { .type = NLA_U32 },
	/* KTLSD_A_GROUPS: any length; a partial u32 at the end is ignored */
	[KTLSD_A_STATE] = { .type = NLA_U32 },
	[KTLSD_A_AGE_MS] = { .type = NLA_U32 },
	[KTLSD_A_SOCK_COOKIE] = { .type = NLA_U64 },
	[KTLSD_A_LOCAL_ADDR] = { .minlen = sizeof(struct sockaddr_in) },
	[KTLSD_A_PEER_ADDR] = { .minlen = sizeof(struct sockaddr_in) },
};

static const char *const state_names[] = {
	[KTLSD_REQ_QUEUED] = "queued",
	[KTLSD_REQ_ACCEPTED] = "accepted",
	[KTLSD_REQ_DONE] = "done",
};

static const char *const role_names[] = {
	[KTLSD_ROLE_CLIENT] = "client",
	[KTLSD_ROLE_SERVER] = "server",
};

static const char *const verify_names[] = {
	[KTLSD_VERIFY_DEFAULT] = "default",
	[KTLSD_VERIFY_REQUIRED] = "required",
	[KTLSD_VERIFY_OPTIONAL] = "optional",
	[KTLSD_VERIFY_NONE] = "none",
};

static const struct {
	uint32_t	tv_version;
	const char	*tv_name;
} tls_versions[] = {
	{ 0x0303, "TLSv1.2" },
	{ 0x0304, "TLSv1.3" },
};

/* Monitor events by generic netlink command; the rest are not events. */
static const char *const event_names[] = {
	[KTLSD_CMD_READY] = "ready",
	[KTLSD_CMD_DONE] = "done",
};

/* A value's name, or its number for one a newer module added. */
struct value_text {
	char	vt_buf[16];
};

struct request_printer {
	const struct ktlsctl	*rp_ctl;
	struct json_writer	rp_json;	/* request show: the array's writer */
	unsigned int		rp_count;
};

static const char *table_name(const char *const *table, size_t n, uint32_t value,
			      struct value_text *vt)
{
	if (value < n && table[value])
		return table[value];
	snprintf(vt->vt_buf, sizeof(vt->vt_buf), "%u", value);
	return vt->vt_buf;
}

static const char *version_name(uint32_t version, struct value_text *vt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tls_versions); i++)
		if (tls_versions[i].tv_version == version)
			return tls_versions[i].tv_name;
	snprintf(vt->vt_buf, sizeof(vt->vt_buf), "0x%04x", version);
	return vt->vt_buf;
}

/* A status is an errno; 0 is success and reads "0" in text. */
static const char *status_name(uint32_t status, struct value_text *vt)
{
	if (status == 0 || !strerrorname_np((int)status)) {
		snprintf(vt->vt_buf, sizeof(vt->vt_buf), "%u", status);
		return vt->vt_buf;
	}
	return errno_name((int)status);
}

/* A u32 attribute as a name from table, or "-" when the module left it out. */
static const char *attr_name(struct nlattr *attr, const char *const *table, size_t n,
			     struct value_text *vt)
{
	return attr ? table_name(table, n, nla_get_u32(attr), vt) : "-";
}

/* The address and port of a sockaddr attribute; false when it is neither family. */
static bool endpoint_parts(struct nlattr *attr, char *host, size_t size, unsigned int *port)
{
	struct sockaddr_storage ss = { 0 };
	const void *addr;
	int len;

	if (!attr)
		return false;
	len = nla_len(attr) < (int)sizeof(ss) ? nla_len(attr) : (int)sizeof(ss);
	memcpy(&ss, nla_data(attr), len);
	if (ss.ss_family == AF_INET && len >= (int)sizeof(struct sockaddr_in)) {
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else if (ss.ss_family == AF_INET6 && len >= (int)sizeof(struct sockaddr_in6)) {
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		return false;
	}
	return inet_ntop(ss.ss_family, addr, host, size) != NULL;
}

/* "address:port" as socket show writes it; "-" when not reported. */
static void endpoint_text(struct nlattr *attr, char *text, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	unsigned int port;

	if (!endpoint_parts(attr, host, sizeof(host), &port))
		snprintf(text, size, "-");
	else if (strchr(host, ':'))
		snprintf(text, size, "[%s]:%u", host, port);
	else
		snprintf(text, size, "%s:%u", host, port);
}

static void json_endpoint(struct json_writer *jw, const char *key, struct nlattr *attr)
{
	char host[INET6_ADDRSTRLEN];
	unsigned int port;

	if (!endpoint_parts(attr, host, sizeof(host), &port)) {
		json_null(jw, key);
		return;
	}
	json_object_begin(jw, key);
	json_string(jw, "address", host);
	json_u64(jw, "port", port);
	json_object_end(jw);
}

/* Names, subjects and details may hold spaces: those are quoted. */
static void print_text_string(const char *s)
{
	const unsigned char *p;
	bool plain = *s != '\0';

	for (p = (const unsigned char *)s; *p && plain; p++)
		plain = *p > ' ' && *p != '"' && *p != '\\' && *p != 0x7f;
	if (plain) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < ' ' || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* The i-th u32 of a u32[] attribute; the caller keeps i below u32_count(). */
static uint32_t u32_at(struct nlattr *attr, size_t i)
{
	uint32_t value;

	memcpy(&value, (const char *)nla_data(attr) + i * sizeof(value), sizeof(value));
	return value;
}

static size_t u32_count(struct nlattr *attr)
{
	return nla_len(attr) / sizeof(uint32_t);
}

static void print_field_text(const struct request_field *f, struct nlattr *attr)
{
	struct value_text vt;
	size_t i;

	printf(" %s:", f->rf_name);
	switch (f->rf_format) {
	case FIELD_U32:
		printf("%u", nla_get_u32(attr));
		break;
	case FIELD_U64:
		printf("%llu", (unsigned long long)nla_get_u64(attr));
		break;
	case FIELD_STRING:
		print_text_string(nla_get_string(attr));
		break;
	case FIELD_STATUS:
		fputs(status_name(nla_get_u32(attr), &vt), stdout);
		break;
	case FIELD_VERSION:
		fputs(version_name(nla_get_u32(attr), &vt), stdout);
		break;
	case FIELD_VERIFY:
		fputs(table_name(verify_names, ARRAY_SIZE(verify_names), nla_get_u32(attr), &vt),
		      stdout);
		break;
	case FIELD_U32_LIST:
		for (i = 0; i < u32_count(attr); i++)
			printf("%s%u", i ? "," : "", u32_at(attr, i));
		if (!u32_count(attr))
			putchar('-');
		break;
	default:
		fputs("?", stdout);
		break;
	}
}

static void print_field_json(struct json_writer *jw, const struct request_field *f,
			     struct nlattr *attr)
{
	struct value_text vt;
	uint32_t status;
	size_t i;

	switch (f->rf_format) {
	case FIELD_U32:
		json_u64(jw, f->rf_name, nla_get_u32(attr));
		break;
	case FIELD_U64:
		json_u64(jw, f->rf_name, nla_get_u64(attr));
		break;
	case FIELD_STRING:
		json_string(jw, f->rf_name, nla_get_string(attr));
		break;
	case FIELD_STATUS:
		/* The number for scripts, its name for people. */
		status = nla_get_u32(attr);
		json_u64(jw, f->rf_name, status);
		json_string(jw, "status_name", status ? status_name(status, &vt) : "ok");
		break;
	case FIELD_VERSION:
		json_string(jw, f->rf_name, version_name(nla_get_u32(attr), &vt));
		break;
	case FIELD_VERIFY:
		json_string(jw, f->rf_name, table_name(verify_names, ARRAY_SIZE(verify_names),
						       nla_get_u32(attr), &vt));
		break;
	case FIELD_U32_LIST:
		json_array_begin(jw, f->rf_name);
		for (i = 0; i < u32_count(attr); i++)
			json_u64(jw, NULL, u32_at(attr, i));
		json_array_end(jw);
		break;
	default:
		json_null(jw, f->rf_name);
		break;
	}
}

static void print_request_header(void)
{
	printf("%-8s %-9s %-6s %-22s %-22s %s\n", "ID", "State", "Role",
	       "Local Address:Port", "Peer Address:Port", "Request");
}

/* One line; event is the monitor's event name, NULL for request show. */
static void print_request_text(struct nlattr **tb, const char *event)
{
	char local[ENDPOINT_TEXT_MAX], peer[ENDPOINT_TEXT_MAX], id[24];
	struct value_text state, role;
	size_t i;

	if (tb[KTLSD_A_REQUEST_ID])
		snprintf(id, sizeof(id), "%llu",
			 (unsigned long long)nla_get_u64(tb[KTLSD_A_REQUEST_ID]));
	else
		snprintf(id, sizeof(id), "-");
	endpoint_text(tb[KTLSD_A_LOCAL_ADDR], local, sizeof(local));
	endpoint_text(tb[KTLSD_A_PEER_ADDR], peer, sizeof(peer));
	if (event)
		printf("%-5s ", event);
	printf("%-8s %-9s %-6s %-22s %-22s", id,
	       attr_name(tb[KTLSD_A_STATE], state_names, ARRAY_SIZE(state_names), &state),
	       attr_name(tb[KTLSD_A_ROLE], role_names, ARRAY_SIZE(role_names), &role),
	       local, peer);
	for (i = 0; i < ARRAY_SIZE(request_fields); i++)
		if (tb[request_fields[i].rf_attr])
			print_field_text(&request_fields[i], tb[request_fields[i].rf_attr]);
	putchar('\n');
}

/* One object; event is the monitor's event name, NULL for request show. */
static void print_request_json(struct json_writer *jw, struct nlattr **tb, const char *event)
{
	struct value_text vt;
	size_t i;

	json_object_begin(jw, NULL);
	if (event)
		json_string(jw, "event", event);
	if (tb[KTLSD_A_REQUEST_ID])
		json_u64(jw, "request_id", nla_get_u64(tb[KTLSD_A_REQUEST_ID]));
	else
		json_null(jw, "request_id");
	if (tb[KTLSD_A_STATE])
		json_string(jw, "state", attr_name(tb[KTLSD_A_STATE], state_names,
						   ARRAY_SIZE(state_names), &vt));
	else
		json_null(jw, "state");
	if (tb[KTLSD_A_ROLE])
		json_string(jw, "role", attr_name(tb[KTLSD_A_ROLE], role_names,
						  ARRAY_SIZE(role_names), &vt));
	else
		json_null(jw, "role");
	json_endpoint(jw, "local_addr", tb[KTLSD_A_LOCAL_ADDR]);
	json_endpoint(jw, "peer_addr", tb[KTLSD_A_PEER_ADDR]);
	for (i = 0; i < ARRAY_SIZE(request_fields); i++)
		if (tb[request_fields[i].rf_attr])
			print_field_json(jw, &request_fields[i], tb[request_fields[i].rf_attr]);
	json_object_end(jw);
}

static int parse_request(struct nl_msg *msg, struct nlattr **tb)
{
	int err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, KTLSD_A_MAX, request_policy);

	return err < 0 ? -EBADMSG : 0;
}

/* One message of the REQUEST_GET dump. */
static int request_parse(struct nl_msg *msg, void *arg)
{
	struct request_printer *rp = arg;
	struct nlattr *tb[KTLSD_A_MAX + 1];
	int err = parse_request(msg, tb);

	if (err)
		return err;
	if (rp->rp_ctl->kc_json) {
		print_request_json(&rp->rp_json, tb, NULL);
	} else {
		if (!rp->rp_count)
			print_request_header();
		print_request_text(tb, NULL);
	}
	rp->rp_count++;
	return 0;
}

int request_show(const struct ktlsctl *ctl, const char *arg)
{
	struct request_printer rp = { .rp_ctl = ctl };
	struct module_conn mc;
	struct nl_msg *msg;
	int status, err;

	status = module_open(&mc, "request");
	if (status)
		return status;
	msg = module_message(&mc, KTLSD_CMD_REQUEST_GET, true);
	if (!msg) {
		err = -ENOMEM;
		goto out_disconnect;
	}
	if (ctl->kc_json) {
		json_init(&rp.rp_json, stdout, ctl->kc_pretty);
		json_array_begin(&rp.rp_json, NULL);
	}
	err = module_exchange(&mc, msg, request_parse, &rp);
	/* Close the array even after a failure, so that the output still parses. */
	if (ctl->kc_json) {
		json_array_end(&rp.rp_json);
		json_finish(&rp.rp_json);
	}

out_disconnect:
	if (err)
		module_print_error(&mc, "request dump", err);
	module_disconnect(&mc);
	return err ? KTLSCTL_EXIT_FAILURE : KTLSCTL_EXIT_OK;
}

/*
 * monitor: runs until SIGINT or SIGTERM. The signals are blocked except
 * inside ppoll(), so one that arrives between the check of the flag and
 * the wait still ends the wait.
 */
static volatile sig_atomic_t monitor_stop;

struct monitor {
	const struct ktlsctl	*mo_ctl;
	int			mo_family;
	bool			mo_family_gone;	/* the module was unloaded */
};

static void on_stop_signal(int sig)
{
	monitor_stop = 1;
}

/* nlctrl's notification that the family went away: the module was unloaded. */
static bool is_family_removal(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct genlmsghdr *gnlh;

	if (nlh->nlmsg_type != GENL_ID_CTRL || !genlmsg_valid_hdr(nlh, 0))
		return false;
	gnlh = nlmsg_data(nlh);
	if (gnlh->cmd != CTRL_CMD_DELFAMILY ||
	    genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 || !tb[CTRL_ATTR_FAMILY_NAME])
		return false;
	return !strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), KTLSD_FAMILY_NAME);
}

static int monitor_event(struct nl_msg *msg, void *arg)
{
	struct monitor *mo = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[KTLSD_A_MAX + 1];
	struct json_writer jw;
	const char *event;
	uint8_t cmd;

	if (is_family_removal(msg)) {
		mo->mo_family_gone = true;
		return NL_STOP;
	}
	if (nlh->nlmsg_type != mo->mo_family || !genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (cmd >= ARRAY_SIZE(event_names) || !event_names[cmd])
		return NL_SKIP;
	event = event_names[cmd];
	if (parse_request(msg, tb)) {
		fprintf(stderr, "Warning: a malformed %s event was skipped.\n", event);
		return NL_SKIP;
	}
	if (mo->mo_ctl->kc_json) {
		/* JSON lines: one document per event. */
		json_init(&jw, stdout, mo->mo_ctl->kc_pretty);
		print_request_json(&jw, tb, event);
		json_finish(&jw);
	} else {
		print_request_text(tb, event);
	}
	fflush(stdout);
	return NL_OK;
}

static int join_group(struct nl_sock *sk, const char *family, const char *group)
{
	int id = genl_ctrl_resolve_grp(sk, family, group);

	if (id < 0)
		return id;
	return nl_socket_add_membership(sk, id);
}

/* Blocks SIGINT and SIGTERM, whose handler ends the monitor; old gets the mask. */
static int catch_stop_signals(sigset_t *old)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, old) ||
	    sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

static int monitor_loop(struct module_conn *mc, struct monitor *mo, const sigset_t *wait_mask)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(mc->mc_sock), .events = POLLIN };
	int err;

	while (!monitor_stop && !mo->mo_family_gone) {
		if (ppoll(&pfd, 1, NULL, wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		err = nl_recvmsgs_default(mc->mc_sock);
		switch (-err) {
		case 0:
		case NLE_AGAIN:
			break;
		case NLE_NOMEM:
			/* ENOBUFS: the socket overran; say so and go on. */
			fprintf(stderr, "Warning: events were lost (receive buffer overrun).\n");
			break;
		default:
			fprintf(stderr, "Error: monitor: %s.\n", nl_geterror(err));
			return -EIO;
		}
	}
	return 0;
}

int monitor_run(const struct ktlsctl *ctl, const char *arg)
{
	struct monitor mo = { .mo_ctl = ctl };
	struct module_conn mc;
	sigset_t wait_mask;
	int status, err;

	status = module_open(&mc, "monitor");
	if (status)
		return status;
	mo.mo_family = mc.mc_family;
	err = join_group(mc.mc_sock, KTLSD_FAMILY_NAME, KTLSD_MCGRP_MONITOR);
	if (err < 0) {
		fprintf(stderr, "Error: joining the \"%s\" group: %s.\n", KTLSD_MCGRP_MONITOR,
			nl_geterror(err));
		status = KTLSCTL_EXIT_FAILURE;
		goto out_disconnect;
	}
	/* Without it the monitor would outlive the module silently. */
	if (join_group(mc.mc_sock, GENL_CTRL_NAME, GENL_CTRL_GROUP) < 0)
		fprintf(stderr, "Warning: the module's unloading will go unnoticed.\n");
	nl_socket_disable_seq_check(mc.mc_sock);
	nl_socket_set_buffer_size(mc.mc_sock, MONITOR_RCVBUF, 0);
	err = nl_socket_set_nonblocking(mc.mc_sock);
	if (!err)
		err = nl_socket_modify_cb(mc.mc_sock, NL_CB_VALID, NL_CB_CUSTOM, monitor_event,
					  &mo);
	if (err < 0) {
		fprintf(stderr, "Error: monitor: %s.\n", nl_geterror(err));
		status = KTLSCTL_EXIT_FAILURE;
		goto out_disconnect;
	}
	err = catch_stop_signals(&wait_mask);
	if (err) {
		fprintf(stderr, "Error: signals: %s.\n", strerror(-err));
		status = KTLSCTL_EXIT_FAILURE;
		goto out_disconnect;
	}

	err = monitor_loop(&mc, &mo, &wait_mask);
	if (err) {
		status = KTLSCTL_EXIT_FAILURE;
	} else if (mo.mo_family_gone) {
		fprintf(stderr, "Error: the ktlsd module was unloaded.\n");
		status = KTLSCTL_EXIT_FAILURE;
	}

out_disconnect:
	module_disconnect(&mc);
	return status;
}
