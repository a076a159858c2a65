// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLS 1.2 building blocks against known answers: the PRF (the SHA-256
 * vector published on the IETF TLS list, and SHA-384), the master secret
 * with and without RFC 7627, the key block, Finished, and one protected
 * record for AES-GCM and for ChaCha20-Poly1305. Expected values were made
 * with `openssl kdf ... TLS1-PRF` and Python's cryptography AEADs.
 */
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"
#include "tap.h"

static void fill(uint8_t *p, size_t len, uint8_t first)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

static void test_prf(enum kc_hash_id hash, const char *secret_hex, const char *seed_hex,
		     const char *want_hex, const char *what)
{
	size_t secret_len, seed_len, want_len;
	uint8_t *secret = tap_unhex(secret_hex, &secret_len);
	uint8_t *seed = tap_unhex(seed_hex, &seed_len);
	uint8_t *want = tap_unhex(want_hex, &want_len);
	uint8_t out[256];

	tap_ok(!ktls_prf(hash, secret, secret_len, "test label", seed, seed_len, NULL, 0,
			 out, want_len), "%s: PRF runs", what);
	tap_mem_eq(out, want, want_len, what);
	free(secret);
	free(seed);
	free(want);
}

static const struct ktls_suite *suite(uint16_t id)
{
	return ktls_suite_by_id(id);
}

/* Seals one record with @key/@iv at sequence 1, compares, then opens it. */
static void test_record(uint16_t suite_id, const uint8_t *key, const uint8_t *iv,
			const char *want_hex, const char *what)
{
	static const char msg[] = "hello, tls 1.2";
	struct ktls_protection tx = { 0 }, rx = { 0 };
	struct ktls_buf out = { 0 };
	uint8_t scratch[KTLS_MAX_CIPHERTEXT_13], type = 0;
	const uint8_t *frag;
	size_t want_len, consumed, frag_len;
	uint8_t *want = tap_unhex(want_hex, &want_len);

	tap_ok(!ktls_protection_set12(&tx, suite(suite_id), key, iv, 1) &&
	       !ktls_protection_set12(&rx, suite(suite_id), key, iv, 0), "%s: keys set", what);
	tx.seq = rx.seq = 1;
	tap_ok(!ktls_record_write(&tx, &out, KTLS_CT_APPLICATION_DATA, msg, strlen(msg)) &&
	       out.off == want_len, "%s: sealed", what);
	tap_mem_eq(out.base, want, want_len, what);
	tap_ok(!ktls_record_read(&rx, out.base, out.off, &consumed, scratch, &type, &frag,
				 &frag_len) && consumed == out.off && type == KTLS_CT_APPLICATION_DATA &&
	       frag_len == strlen(msg) && !memcmp(frag, msg, frag_len) && rx.seq == 2,
	       "%s: opens", what);
	out.base[out.off - 1] ^= 1;
	rx.seq = 1;
	tap_ok(ktls_record_read(&rx, out.base, out.off, &consumed, scratch, &type, &frag,
				&frag_len) == KTLS_ALERT_BAD_RECORD_MAC, "%s: tampered tag", what);
	ktls_protection_clear(&tx);
	ktls_protection_clear(&rx);
	ktls_buf_dispose(&out);
	free(want);
}

int main(void)
{
	uint8_t premaster[48], session_hash[32], cr[32], sr[32], master[48], fin[12];
	struct ktls12_keys keys;
	size_t len;
	uint8_t *want;

	tap_plan(24);
	kc_init();
	test_prf(KC_SHA256, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
		 "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
		 "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
		 "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
		 "87347b66", "PRF SHA-256 (IETF TLS list vector)");
	test_prf(KC_SHA384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
		 "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
		 "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
		 "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
		 "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
		 "91c8f3a26854308d5eaa3be85e0990703d73e56f", "PRF SHA-384");

	fill(premaster, sizeof(premaster), 0x01);
	fill(session_hash, sizeof(session_hash), 0x40);
	fill(cr, sizeof(cr), 0x80);
	fill(sr, sizeof(sr), 0xa0);
	tap_ok(!ktls12_master_secret(KC_SHA256, premaster, 48, NULL, cr, sr, master),
	       "master secret");
	want = tap_unhex("f378c3c65c172238b93baa784eaf68282d635ee14eb9c3dba27cac2e8ad5bc68"
			 "0db99448b52860e03d2907a588510d75", &len);
	tap_mem_eq(master, want, len, "master secret (RFC 5246 8.1)");
	free(want);
	tap_ok(!ktls12_master_secret(KC_SHA256, premaster, 48, session_hash, cr, sr, master),
	       "extended master secret");
	want = tap_unhex("ed2c0d6d370e2b2322b5506ec56782a2b53461f132778283f65deec7b96890b8"
			 "9f6be4edd3e88ee4bba28f8457990c9f", &len);
	tap_mem_eq(master, want, len, "extended master secret (RFC 7627 4)");
	free(want);

	tap_ok(!ktls12_key_block(suite(0xc02b), master, cr, sr, &keys), "key block, AES-128-GCM");
	want = tap_unhex("b1f3f6a7c63eac0b385c0fff813e9b1429dffee117d560c5dbbf80db37a67c26"
			 "7293dc8c86fa45b7", &len);
	tap_ok(!memcmp(keys.client_key, want, 16) && !memcmp(keys.server_key, want + 16, 16) &&
	       !memcmp(keys.client_iv, want + 32, 4) && !memcmp(keys.server_iv, want + 36, 4),
	       "key block cut into keys and 4-byte salts");
	test_record(0xc02b, keys.client_key, keys.client_iv,
		    "1703030026000000000000000170f83bcdda318da010d18693e9e865b2f90d90"
		    "e863aaf2dbb2e79dc2352d", "AES-128-GCM record");
	free(want);

	tap_ok(!ktls12_key_block(suite(0xcca9), master, cr, sr, &keys), "key block, ChaCha20");
	want = tap_unhex("b1f3f6a7c63eac0b385c0fff813e9b1429dffee117d560c5dbbf80db37a67c26"
			 "7293dc8c86fa45b705212d36f8bc2e8f2d53c1958f3c1278c6310b9d0fa65668"
			 "e7ecaaf3c46fa740f630ec8068b4b2eb052959b25a0677c2", &len);
	tap_ok(!memcmp(keys.client_key, want, 32) && !memcmp(keys.server_key, want + 32, 32) &&
	       !memcmp(keys.client_iv, want + 64, 12) && !memcmp(keys.server_iv, want + 76, 12),
	       "key block cut into keys and 12-byte IVs");
	test_record(0xcca9, keys.client_key, keys.client_iv,
		    "170303001e85e3f2ee023f5d283162c21d8e8f92c7b184e4748831ab6b5d1ccc"
		    "994b17", "ChaCha20-Poly1305 record");
	free(want);

	tap_ok(!ktls12_verify_data(KC_SHA256, master, 1, session_hash, fin), "verify_data");
	want = tap_unhex("53ef15adc0af62231ade826c", &len);
	tap_mem_eq(fin, want, len, "server Finished verify_data");
	free(want);
	kc_cleanse(&keys, sizeof(keys));
	return tap_done();
}
