// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small streaming JSON writer: members go out as they are produced, so a
 * socket dump is printed from inside the netlink callback without keeping
 * the sockets in memory. Compact by default, indented with -p.
 */
#include <inttypes.h>

#include "ktlsctl.h"

#define JSON_INDENT	"    "

void json_init(struct json_writer *jw, FILE *out, bool pretty)
{
	jw->jw_out = out;
	jw->jw_pretty = pretty;
	jw->jw_depth = 0;
	jw->jw_has_member[0] = false;
}

static void json_newline_indent(struct json_writer *jw)
{
	int i;

	if (!jw->jw_pretty)
		return;
	fputc('\n', jw->jw_out);
	for (i = 0; i < jw->jw_depth; i++)
		fputs(JSON_INDENT, jw->jw_out);
}

static void json_quoted(struct json_writer *jw, const char *s)
{
	const unsigned char *p;

	fputc('"', jw->jw_out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(jw->jw_out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(jw->jw_out, "\\u%04x", *p);
		else
			fputc(*p, jw->jw_out);
	}
	fputc('"', jw->jw_out);
}

/* The comma, the line break and the key every member starts with. */
static void json_member(struct json_writer *jw, const char *key)
{
	if (jw->jw_has_member[jw->jw_depth])
		fputc(',', jw->jw_out);
	jw->jw_has_member[jw->jw_depth] = true;
	if (jw->jw_depth > 0)
		json_newline_indent(jw);
	if (key) {
		json_quoted(jw, key);
		fputs(jw->jw_pretty ? ": " : ":", jw->jw_out);
	}
}

static void json_open(struct json_writer *jw, const char *key, char bracket)
{
	json_member(jw, key);
	fputc(bracket, jw->jw_out);
	/* Deeper than ktlsctl ever goes would be a bug here, not bad input. */
	if (jw->jw_depth + 1 < JSON_DEPTH_MAX)
		jw->jw_depth++;
	jw->jw_has_member[jw->jw_depth] = false;
}

static void json_close(struct json_writer *jw, char bracket)
{
	bool had_members = jw->jw_has_member[jw->jw_depth];

	if (jw->jw_depth > 0)
		jw->jw_depth--;
	if (had_members)
		json_newline_indent(jw);
	fputc(bracket, jw->jw_out);
}

void json_object_begin(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '{');
}

void json_object_end(struct json_writer *jw)
{
	json_close(jw, '}');
}

void json_array_begin(struct json_writer *jw, const char *key)
{
	json_open(jw, key, '[');
}

void json_array_end(struct json_writer *jw)
{
	json_close(jw, ']');
}

void json_string(struct json_writer *jw, const char *key, const char *value)
{
	json_member(jw, key);
	json_quoted(jw, value);
}

void json_u64(struct json_writer *jw, const char *key, uint64_t value)
{
	json_member(jw, key);
	fprintf(jw->jw_out, "%" PRIu64, value);
}

void json_bool(struct json_writer *jw, const char *key, bool value)
{
	json_member(jw, key);
	fputs(value ? "true" : "false", jw->jw_out);
}

void json_null(struct json_writer *jw, const char *key)
{
	json_member(jw, key);
	fputs("null", jw->jw_out);
}

void json_finish(struct json_writer *jw)
{
	fputc('\n', jw->jw_out);
}
