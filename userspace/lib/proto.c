// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The unix socket protocol between libktls and ktlsd: building and
 * parsing messages of <linux/ktlsd.h> attributes.
 *
 * Every byte parsed here comes from another process, possibly a hostile
 * one (the daemon serves any local user), so the parser is bounded by
 * KTLSD_MSG_MAX, refuses a duplicate attribute, and checks each value's
 * size before anyone reads it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ktls_int.h"

#define KTLSD_ATTR_ALIGN(len)	(((len) + 3u) & ~3u)

void ktlsd_msg_init(struct ktlsd_msg_builder *b, uint16_t type)
{
	struct ktlsd_msg hdr = { .km_type = type, .km_version = KTLSD_FAMILY_VERSION };

	memcpy(b->mb_buf, &hdr, sizeof(hdr));
	b->mb_len = sizeof(hdr);
	b->mb_overflow = 0;
}

void ktlsd_msg_put(struct ktlsd_msg_builder *b, uint16_t type, const void *value, size_t len)
{
	struct ktlsd_attr_hdr ah = { .ka_len = (uint16_t)(sizeof(ah) + len), .ka_type = type };
	size_t padded = KTLSD_ATTR_ALIGN(sizeof(ah) + len);

	if (b->mb_overflow || len > KTLSD_MSG_MAX || b->mb_len + padded > KTLSD_MSG_MAX) {
		b->mb_overflow = 1;
		return;
	}
	memcpy(b->mb_buf + b->mb_len, &ah, sizeof(ah));
	memcpy(b->mb_buf + b->mb_len + sizeof(ah), value, len);
	memset(b->mb_buf + b->mb_len + sizeof(ah) + len, 0, padded - sizeof(ah) - len);
	b->mb_len += padded;
}

void ktlsd_msg_put_u32(struct ktlsd_msg_builder *b, uint16_t type, uint32_t value)
{
	ktlsd_msg_put(b, type, &value, sizeof(value));
}

void ktlsd_msg_put_u64(struct ktlsd_msg_builder *b, uint16_t type, uint64_t value)
{
	ktlsd_msg_put(b, type, &value, sizeof(value));
}

/* An absent or empty string is left out: absence is how "none" is said. */
void ktlsd_msg_put_str(struct ktlsd_msg_builder *b, uint16_t type, const char *s)
{
	if (s && *s)
		ktlsd_msg_put(b, type, s, strlen(s) + 1);
}

int ktlsd_msg_finish(struct ktlsd_msg_builder *b)
{
	uint32_t len = (uint32_t)b->mb_len;

	if (b->mb_overflow)
		return -EMSGSIZE;
	memcpy(b->mb_buf + offsetof(struct ktlsd_msg, km_len), &len, sizeof(len));
	return (int)len;
}

/* How long the message whose first bytes are @hdr is, or -EBADMSG. */
int ktlsd_msg_length(const void *hdr, size_t len)
{
	struct ktlsd_msg m;

	if (len < sizeof(m))
		return -EBADMSG;
	memcpy(&m, hdr, sizeof(m));
	if (m.km_len < sizeof(m) || m.km_len > KTLSD_MSG_MAX)
		return -EMSGSIZE;
	return (int)m.km_len;
}

int ktlsd_attrs_parse(const void *buf, size_t len, struct ktlsd_attrs *attrs)
{
	const uint8_t *p = buf;
	struct ktlsd_attr_hdr ah;
	size_t off;

	memset(attrs, 0, sizeof(*attrs));
	for (off = 0; off < len; off += KTLSD_ATTR_ALIGN(ah.ka_len)) {
		if (len - off < sizeof(ah))
			return -EBADMSG;
		memcpy(&ah, p + off, sizeof(ah));
		if (ah.ka_len < sizeof(ah) || ah.ka_len > len - off)
			return -EBADMSG;
		/* Attributes this version does not know are skipped: newer peers may add some. */
		if (ah.ka_type == KTLSD_A_UNSPEC || ah.ka_type > KTLSD_A_MAX)
			continue;
		if (attrs->at_value[ah.ka_type])
			return -EBADMSG;
		attrs->at_value[ah.ka_type] = p + off + sizeof(ah);
		attrs->at_len[ah.ka_type] = (uint16_t)(ah.ka_len - sizeof(ah));
	}
	return 0;
}

int ktlsd_msg_parse(const void *buf, size_t len, uint16_t *type, struct ktlsd_attrs *attrs)
{
	const uint8_t *p = buf;
	struct ktlsd_msg m;
	int ret;

	memset(attrs, 0, sizeof(*attrs));
	if (len < sizeof(m) || len > KTLSD_MSG_MAX)
		return -EMSGSIZE;
	memcpy(&m, p, sizeof(m));
	if (m.km_len != len || m.km_version != KTLSD_FAMILY_VERSION)
		return -EBADMSG;
	ret = ktlsd_attrs_parse(p + sizeof(m), len - sizeof(m), attrs);
	if (ret)
		return ret;
	*type = m.km_type;
	return 0;
}

int ktlsd_attr_u32(const struct ktlsd_attrs *attrs, int type, uint32_t *value)
{
	if (!attrs->at_value[type])
		return -ENOENT;
	if (attrs->at_len[type] != sizeof(*value))
		return -EBADMSG;
	memcpy(value, attrs->at_value[type], sizeof(*value));
	return 0;
}

int ktlsd_attr_u64(const struct ktlsd_attrs *attrs, int type, uint64_t *value)
{
	if (!attrs->at_value[type])
		return -ENOENT;
	if (attrs->at_len[type] != sizeof(*value))
		return -EBADMSG;
	memcpy(value, attrs->at_value[type], sizeof(*value));
	return 0;
}

/*
 * Copies a string attribute into @out (@size bytes, NUL included); an
 * absent one is "". It must end in its only NUL; -EMSGSIZE if too long.
 */
int ktlsd_attr_str(const struct ktlsd_attrs *attrs, int type, char *out, size_t size)
{
	const char *s = (const char *)attrs->at_value[type];
	size_t len = attrs->at_len[type];

	out[0] = 0;
	if (!s)
		return 0;
	if (!len || s[len - 1] || memchr(s, 0, len - 1))
		return -EBADMSG;
	if (len > size)
		return -EMSGSIZE;
	memcpy(out, s, len);
	return 0;
}

int ktlsd_request_decode(const struct ktlsd_attrs *attrs, struct ktlsd_request *rq)
{
	int ret;

	memset(rq, 0, sizeof(*rq));
	ret = ktlsd_attr_u32(attrs, KTLSD_A_ROLE, &rq->rq_role);
	if (ret)
		return ret == -ENOENT ? -EINVAL : ret;
	if (rq->rq_role != KTLSD_ROLE_CLIENT && rq->rq_role != KTLSD_ROLE_SERVER)
		return -EINVAL;
	ret = ktlsd_attr_u32(attrs, KTLSD_A_VERIFY, &rq->rq_verify);
	if (ret && ret != -ENOENT)
		return ret;
	if (rq->rq_verify > KTLSD_VERIFY_NONE)
		return -EINVAL;
	ret = ktlsd_attr_u32(attrs, KTLSD_A_TIMEOUT_MS, &rq->rq_timeout_ms);
	if (ret && ret != -ENOENT)
		return ret;
	if ((ret = ktlsd_attr_str(attrs, KTLSD_A_PEER_NAME, rq->rq_peer_name,
				  sizeof(rq->rq_peer_name))) ||
	    (ret = ktlsd_attr_str(attrs, KTLSD_A_ALPN, rq->rq_alpn, sizeof(rq->rq_alpn))) ||
	    (ret = ktlsd_attr_str(attrs, KTLSD_A_IDENTITY, rq->rq_identity,
				  sizeof(rq->rq_identity))))
		return ret;
	return 0;
}

void ktlsd_request_encode(struct ktlsd_msg_builder *b, const struct ktlsd_request *rq)
{
	ktlsd_msg_put_u32(b, KTLSD_A_ROLE, rq->rq_role);
	if (rq->rq_verify)
		ktlsd_msg_put_u32(b, KTLSD_A_VERIFY, rq->rq_verify);
	if (rq->rq_timeout_ms)
		ktlsd_msg_put_u32(b, KTLSD_A_TIMEOUT_MS, rq->rq_timeout_ms);
	ktlsd_msg_put_str(b, KTLSD_A_PEER_NAME, rq->rq_peer_name);
	ktlsd_msg_put_str(b, KTLSD_A_ALPN, rq->rq_alpn);
	ktlsd_msg_put_str(b, KTLSD_A_IDENTITY, rq->rq_identity);
}

void ktlsd_result_encode(struct ktlsd_msg_builder *b, const struct ktls_upgrade_info *info)
{
	ktlsd_msg_put_u32(b, KTLSD_A_STATUS, (uint32_t)-info->status);
	if (info->error)
		ktlsd_msg_put_u32(b, KTLSD_A_ERROR, (uint32_t)info->error);
	if (info->version)
		ktlsd_msg_put_u32(b, KTLSD_A_VERSION, info->version);
	ktlsd_msg_put_str(b, KTLSD_A_CIPHER, info->cipher);
	ktlsd_msg_put_str(b, KTLSD_A_GROUP, info->group);
	ktlsd_msg_put_str(b, KTLSD_A_NEGOTIATED_ALPN, info->alpn);
	ktlsd_msg_put_str(b, KTLSD_A_SERVER_NAME, info->server_name);
	ktlsd_msg_put_str(b, KTLSD_A_PEER_SUBJECT, info->peer_subject);
	ktlsd_msg_put_str(b, KTLSD_A_DETAIL, info->detail);
}

/* Strings too long for @info are cut, not refused: they are for reading. */
static void result_copy_str(const struct ktlsd_attrs *attrs, int type, char *out, size_t size)
{
	const char *s = (const char *)attrs->at_value[type];
	size_t len = attrs->at_len[type];

	out[0] = 0;
	if (!s || !len || s[len - 1])
		return;
	snprintf(out, size, "%s", s);
}

int ktlsd_result_decode(const struct ktlsd_attrs *attrs, struct ktls_upgrade_info *info)
{
	uint32_t status, value;

	if (ktlsd_attr_u32(attrs, KTLSD_A_STATUS, &status) || status > 4095)
		return -EBADMSG;
	info->status = -(int)status;
	info->error = ktlsd_attr_u32(attrs, KTLSD_A_ERROR, &value) ? 0 : (int)value;
	info->version = ktlsd_attr_u32(attrs, KTLSD_A_VERSION, &value) ? 0 : (uint16_t)value;
	result_copy_str(attrs, KTLSD_A_CIPHER, info->cipher, sizeof(info->cipher));
	result_copy_str(attrs, KTLSD_A_GROUP, info->group, sizeof(info->group));
	result_copy_str(attrs, KTLSD_A_NEGOTIATED_ALPN, info->alpn, sizeof(info->alpn));
	result_copy_str(attrs, KTLSD_A_SERVER_NAME, info->server_name, sizeof(info->server_name));
	result_copy_str(attrs, KTLSD_A_PEER_SUBJECT, info->peer_subject, sizeof(info->peer_subject));
	result_copy_str(attrs, KTLSD_A_DETAIL, info->detail, sizeof(info->detail));
	return 0;
}
