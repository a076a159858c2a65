// SPDX-License-Identifier: LGPL-2.1-or-later
/* Per-suite, per-group and per-signature-scheme facts, in preference order. */
#include <string.h>

#include "ktls_int.h"

#define T13	KTLS_VERSION_TLS13, KTLS_KX_TLS13
#define T12(kx)	KTLS_VERSION_TLS12, KTLS_KX_##kx

const struct ktls_suite ktls_suites[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", KC_AES_128_GCM, KC_SHA256, TLS_CIPHER_AES_GCM_128, T13 },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", KC_AES_256_GCM, KC_SHA384, TLS_CIPHER_AES_GCM_256, T13 },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", KC_CHACHA20_POLY1305, KC_SHA256,
	  TLS_CIPHER_CHACHA20_POLY1305, T13 },
	/* TLS 1.2 (RFC 5289, RFC 7905): forward secret AEAD suites only. */
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", KC_AES_128_GCM, KC_SHA256,
	  TLS_CIPHER_AES_GCM_128, T12(ECDHE_ECDSA) },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", KC_AES_256_GCM, KC_SHA384,
	  TLS_CIPHER_AES_GCM_256, T12(ECDHE_ECDSA) },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", KC_CHACHA20_POLY1305,
	  KC_SHA256, TLS_CIPHER_CHACHA20_POLY1305, T12(ECDHE_ECDSA) },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", KC_AES_128_GCM, KC_SHA256,
	  TLS_CIPHER_AES_GCM_128, T12(ECDHE_RSA) },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", KC_AES_256_GCM, KC_SHA384,
	  TLS_CIPHER_AES_GCM_256, T12(ECDHE_RSA) },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", KC_CHACHA20_POLY1305,
	  KC_SHA256, TLS_CIPHER_CHACHA20_POLY1305, T12(ECDHE_RSA) },
	/* RSA key transport (RFC 5288): no forward secrecy, never in the default list. */
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", KC_AES_128_GCM, KC_SHA256,
	  TLS_CIPHER_AES_GCM_128, T12(RSA) },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", KC_AES_256_GCM, KC_SHA384,
	  TLS_CIPHER_AES_GCM_256, T12(RSA) },
	{ 0 },
};

#undef T13
#undef T12

const struct ktls_group ktls_groups[] = {
	{ KC_GROUP_X25519, "x25519" },
	{ KC_GROUP_SECP256R1, "secp256r1" },
	{ KC_GROUP_SECP384R1, "secp384r1" },
	{ 0 },
};

/* What we offer in signature_algorithms, in preference order. */
const struct ktls_sigscheme ktls_sigschemes[] = {
	{ KC_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256", 1 },
	{ KC_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384", 1 },
	{ KC_SIG_ED25519, "ed25519", 1 },
	{ KC_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256", 1 },
	{ KC_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384", 1 },
	{ KC_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512", 1 },
	{ KC_SIG_RSA_PSS_PSS_SHA256, "rsa_pss_pss_sha256", 1 },
	{ KC_SIG_RSA_PSS_PSS_SHA384, "rsa_pss_pss_sha384", 1 },
	{ KC_SIG_RSA_PSS_PSS_SHA512, "rsa_pss_pss_sha512", 1 },
	/* Certificates only: a CA may still sign with PKCS#1 v1.5. */
	{ KC_SIG_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256", 0 },
	{ KC_SIG_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384", 0 },
	{ KC_SIG_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512", 0 },
	{ 0 },
};

const struct ktls_suite *ktls_suite_by_id(uint16_t id)
{
	const struct ktls_suite *s;

	for (s = ktls_suites; s->id; s++)
		if (s->id == id)
			return s;
	return NULL;
}

const struct ktls_suite *ktls_suite_by_name(const char *name)
{
	const struct ktls_suite *s;

	for (s = ktls_suites; s->id; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

const struct ktls_group *ktls_group_by_id(uint16_t id)
{
	const struct ktls_group *g;

	for (g = ktls_groups; g->id; g++)
		if (g->id == id)
			return g;
	return NULL;
}

const struct ktls_group *ktls_group_by_name(const char *name)
{
	const struct ktls_group *g;

	for (g = ktls_groups; g->id; g++)
		if (!strcmp(g->name, name))
			return g;
	return NULL;
}

const struct ktls_sigscheme *ktls_sigscheme_by_id(uint16_t id)
{
	const struct ktls_sigscheme *s;

	for (s = ktls_sigschemes; s->id; s++)
		if (s->id == id)
			return s;
	return NULL;
}
