// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Byte buffers and the bounded reader. Every decoder in libktls goes
 * through ktls_read_*, so a length that overruns its enclosing block is
 * a decode_error and never an out-of-bounds read.
 */
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

void ktls_buf_init(struct ktls_buf *buf, void *smallbuf, size_t smallbuf_size)
{
	buf->base = smallbuf;
	buf->capacity = smallbuf ? smallbuf_size : 0;
	buf->off = 0;
	buf->is_allocated = 0;
}

void ktls_buf_dispose(struct ktls_buf *buf)
{
	if (buf->base) {
		kc_cleanse(buf->base, buf->off);
		if (buf->is_allocated)
			free(buf->base);
	}
	buf->base = NULL;
	buf->capacity = 0;
	buf->off = 0;
	buf->is_allocated = 0;
}

int ktls_buf_reserve(struct ktls_buf *buf, size_t delta)
{
	size_t want, cap;
	uint8_t *p;

	if (delta > SIZE_MAX - buf->off)
		return KTLS_ERROR_NO_MEMORY;
	want = buf->off + delta;
	if (want <= buf->capacity)
		return 0;
	cap = buf->capacity < 512 ? 512 : buf->capacity;
	while (cap < want)
		cap *= 2;
	p = malloc(cap);
	if (!p)
		return KTLS_ERROR_NO_MEMORY;
	/* realloc() could leave a copy of the old contents behind; move by hand. */
	if (buf->off)
		memcpy(p, buf->base, buf->off);
	if (buf->base) {
		kc_cleanse(buf->base, buf->off);
		if (buf->is_allocated)
			free(buf->base);
	}
	buf->base = p;
	buf->capacity = cap;
	buf->is_allocated = 1;
	return 0;
}

int ktls_buf_push(struct ktls_buf *buf, const void *src, size_t len)
{
	int ret = ktls_buf_reserve(buf, len);

	if (ret)
		return ret;
	if (len)
		memcpy(buf->base + buf->off, src, len);
	buf->off += len;
	return 0;
}

void ktls_buf_shift(struct ktls_buf *buf, size_t len)
{
	if (len >= buf->off) {
		kc_cleanse(buf->base, buf->off);
		buf->off = 0;
		return;
	}
	memmove(buf->base, buf->base + len, buf->off - len);
	kc_cleanse(buf->base + buf->off - len, len);
	buf->off -= len;
}

static int ktls_buf_push_be(struct ktls_buf *buf, uint64_t v, size_t size)
{
	uint8_t tmp[8];
	size_t i;

	for (i = 0; i < size; i++)
		tmp[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
	return ktls_buf_push(buf, tmp, size);
}

int ktls_buf_push_u8(struct ktls_buf *buf, uint8_t v)
{
	return ktls_buf_push(buf, &v, 1);
}

int ktls_buf_push_u16(struct ktls_buf *buf, uint16_t v)
{
	return ktls_buf_push_be(buf, v, 2);
}

int ktls_buf_push_u24(struct ktls_buf *buf, uint32_t v)
{
	return ktls_buf_push_be(buf, v, 3);
}

int ktls_buf_push_u32(struct ktls_buf *buf, uint32_t v)
{
	return ktls_buf_push_be(buf, v, 4);
}

int ktls_buf_push_u64(struct ktls_buf *buf, uint64_t v)
{
	return ktls_buf_push_be(buf, v, 8);
}

int ktls_buf_open_block(struct ktls_buf *buf, size_t len_size, size_t *mark)
{
	static const uint8_t zeros[4];

	*mark = buf->off;
	return ktls_buf_push(buf, zeros, len_size);
}

int ktls_buf_close_block(struct ktls_buf *buf, size_t len_size, size_t mark)
{
	size_t body = buf->off - mark - len_size;
	size_t i;

	if (len_size < 4 && body >> (8 * len_size))
		return KTLS_ERROR_INVALID_ARGUMENT;
	for (i = 0; i < len_size; i++)
		buf->base[mark + i] = (uint8_t)(body >> (8 * (len_size - 1 - i)));
	return 0;
}

static int ktls_read_be(struct ktls_reader *r, size_t size, uint32_t *v)
{
	size_t i;

	if (ktls_reader_left(r) < size)
		return KTLS_ALERT_DECODE_ERROR;
	*v = 0;
	for (i = 0; i < size; i++)
		*v = *v << 8 | *r->pos++;
	return 0;
}

int ktls_read_u8(struct ktls_reader *r, uint8_t *v)
{
	uint32_t t = 0;
	int ret = ktls_read_be(r, 1, &t);

	*v = (uint8_t)t;
	return ret;
}

int ktls_read_u16(struct ktls_reader *r, uint16_t *v)
{
	uint32_t t = 0;
	int ret = ktls_read_be(r, 2, &t);

	*v = (uint16_t)t;
	return ret;
}

int ktls_read_u24(struct ktls_reader *r, uint32_t *v)
{
	return ktls_read_be(r, 3, v);
}

int ktls_read_u32(struct ktls_reader *r, uint32_t *v)
{
	return ktls_read_be(r, 4, v);
}

int ktls_read_bytes(struct ktls_reader *r, size_t len, const uint8_t **p)
{
	if (ktls_reader_left(r) < len)
		return KTLS_ALERT_DECODE_ERROR;
	*p = r->pos;
	r->pos += len;
	return 0;
}

int ktls_read_block(struct ktls_reader *r, size_t len_size, size_t min_len,
		    struct ktls_reader *sub)
{
	const uint8_t *p;
	uint32_t len;
	int ret;

	ret = ktls_read_be(r, len_size, &len);
	if (ret)
		return ret;
	if (len < min_len)
		return KTLS_ALERT_DECODE_ERROR;
	ret = ktls_read_bytes(r, len, &p);
	if (ret)
		return ret;
	ktls_reader_init(sub, p, len);
	return 0;
}

int ktls_read_end(const struct ktls_reader *r)
{
	return r->pos == r->end ? 0 : KTLS_ALERT_DECODE_ERROR;
}
