// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ktlsd unix socket protocol from arbitrary bytes: any local user can
 * send the daemon a request, and the daemon's answer is parsed by every
 * requester. Both directions: parse, then decode as a request and as a
 * result; what decodes is encoded again and must parse back the same.
 */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_request(const struct ktlsd_request *rq)
{
	struct ktlsd_msg_builder b;
	struct ktlsd_request again;
	struct ktlsd_attrs attrs;
	uint16_t type;
	int len;

	ktlsd_msg_init(&b, KTLSD_MSG_UPGRADE);
	ktlsd_request_encode(&b, rq);
	len = ktlsd_msg_finish(&b);
	if (len < 0 || ktlsd_msg_parse(b.mb_buf, (size_t)len, &type, &attrs) ||
	    ktlsd_request_decode(&attrs, &again) || memcmp(rq, &again, sizeof(again)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ktls_upgrade_info info;
	struct ktlsd_request rq;
	struct ktlsd_attrs attrs;
	uint16_t type;
	uint64_t u64;
	char text[64];
	int i;

	ktlsd_msg_length(data, size);
	if (ktlsd_msg_parse(data, size, &type, &attrs))
		return 0;
	for (i = 1; i <= KTLSD_A_MAX; i++) {
		ktlsd_attr_u64(&attrs, i, &u64);
		ktlsd_attr_str(&attrs, i, text, sizeof(text));
	}
	if (!ktlsd_request_decode(&attrs, &rq))
		roundtrip_request(&rq);
	memset(&info, 0, sizeof(info));
	ktlsd_result_decode(&attrs, &info);
	return 0;
}
