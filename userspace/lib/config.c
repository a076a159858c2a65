// SPDX-License-Identifier: LGPL-2.1-or-later
/* Configuration shared read-only by many connections. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls_int.h"

static int config_fail(struct ktls_config *cfg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int config_fail(struct ktls_config *cfg, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->cf_error, sizeof(cfg->cf_error), fmt, ap);
	va_end(ap);
	return err;
}

struct ktls_config *ktls_config_new(void)
{
	struct ktls_config *cfg;
	size_t i;

	if (kc_init())
		return NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->cf_refcount = 1;
	cfg->cf_verify = KTLS_VERIFY_REQUIRED;
	cfg->cf_verify_client = KTLS_VERIFY_NONE;
	for (i = 0; ktls_groups[i].id; i++)
		cfg->cf_groups[cfg->cf_group_count++] = ktls_groups[i].id;
	for (i = 0; ktls_suites[i].id; i++)
		if (ktls_suites[i].kx != KTLS_KX_RSA)
			cfg->cf_suites[cfg->cf_suite_count++] = &ktls_suites[i];
	cfg->cf_min_version = KTLS_VERSION_TLS13;
	cfg->cf_max_version = KTLS_VERSION_TLS13;
	cfg->cf_middlebox_compat = 1;
	return cfg;
}

struct ktls_config *ktls_config_get(struct ktls_config *cfg)
{
	__atomic_add_fetch(&cfg->cf_refcount, 1, __ATOMIC_RELAXED);
	return cfg;
}

void ktls_config_put(struct ktls_config *cfg)
{
	size_t i;

	if (!cfg || __atomic_sub_fetch(&cfg->cf_refcount, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < cfg->cf_identity_count; i++) {
		kc_chain_free(cfg->cf_identities[i].chain);
		kc_pkey_free(cfg->cf_identities[i].key);
	}
	kc_store_free(cfg->cf_store);
	free(cfg);
}

void ktls_config_free(struct ktls_config *cfg)
{
	ktls_config_put(cfg);
}

/*
 * What a loader read (@chain_ret, @key_ret: its returns) as the next
 * identity, or both freed and the config's error set; the names are for it.
 */
static int config_add_loaded(struct ktls_config *cfg, int chain_ret, struct kc_chain *chain,
			     int key_ret, struct kc_pkey *key, const char *chain_name,
			     const char *key_name)
{
	int ret = 0;

	if (cfg->cf_identity_count == KTLS_MAX_IDENTITIES)
		ret = config_fail(cfg, KTLS_ERROR_CONFIG, "more than %d identities",
				  KTLS_MAX_IDENTITIES);
	else if (chain_ret || !kc_chain_count(chain))
		ret = config_fail(cfg, chain_ret == KTLS_ERROR_NO_MEMORY ? chain_ret :
				  KTLS_ERROR_CONFIG, "%s: no certificate could be read", chain_name);
	else if (key_ret)
		ret = config_fail(cfg, key_ret == KTLS_ERROR_NO_MEMORY ? key_ret :
				  KTLS_ERROR_CONFIG, "%s: no private key could be read", key_name);
	else if (!kc_chain_matches_key(chain, key))
		ret = config_fail(cfg, KTLS_ERROR_CONFIG, "%s does not match the certificate in %s",
				  key_name, chain_name);
	if (ret) {
		kc_chain_free(chain);
		kc_pkey_free(key);
		return ret;
	}
	cfg->cf_identities[cfg->cf_identity_count++] = (struct ktls_identity){
		.chain = chain,
		.key = key,
	};
	return 0;
}

int ktls_config_add_identity(struct ktls_config *cfg, const char *chain_file,
			     const char *key_file)
{
	struct kc_chain *chain = NULL;
	struct kc_pkey *key = NULL;
	int chain_ret, key_ret = 0;

	chain_ret = kc_chain_load(chain_file, &chain);
	if (!chain_ret)
		key_ret = kc_pkey_load(key_file, &key);
	return config_add_loaded(cfg, chain_ret, chain, key_ret, key, chain_file, key_file);
}

int ktls_config_add_identity_mem(struct ktls_config *cfg, const uint8_t *chain_data,
				 size_t chain_len, const uint8_t *key_data, size_t key_len)
{
	struct kc_chain *chain = NULL;
	struct kc_pkey *key = NULL;
	int chain_ret, key_ret = 0;

	chain_ret = kc_chain_load_mem(chain_data, chain_len, &chain);
	if (!chain_ret)
		key_ret = kc_pkey_load_mem(key_data, key_len, &key);
	return config_add_loaded(cfg, chain_ret, chain, key_ret, key, "the chain", "the key");
}

struct ktls_config *ktls_config_dup(struct ktls_config *base)
{
	struct ktls_config *cfg = ktls_config_new();

	if (!cfg)
		return NULL;
	memcpy(cfg->cf_alpn, base->cf_alpn, sizeof(cfg->cf_alpn));
	cfg->cf_alpn_len = base->cf_alpn_len;
	memcpy(cfg->cf_groups, base->cf_groups, sizeof(cfg->cf_groups));
	cfg->cf_group_count = base->cf_group_count;
	memcpy(cfg->cf_suites, base->cf_suites, sizeof(cfg->cf_suites));
	cfg->cf_suite_count = base->cf_suite_count;
	cfg->cf_min_version = base->cf_min_version;
	cfg->cf_max_version = base->cf_max_version;
	cfg->cf_middlebox_compat = base->cf_middlebox_compat;
	cfg->cf_verify = base->cf_verify;
	cfg->cf_verify_client = base->cf_verify_client;
	if (base->cf_store) {
		cfg->cf_store = kc_store_share(base->cf_store);
		if (!cfg->cf_store) {
			ktls_config_free(cfg);
			return NULL;
		}
	}
	return cfg;
}

static int config_store(struct ktls_config *cfg)
{
	if (!cfg->cf_store)
		cfg->cf_store = kc_store_new();
	return cfg->cf_store ? 0 : KTLS_ERROR_NO_MEMORY;
}

int ktls_config_set_ca_file(struct ktls_config *cfg, const char *path)
{
	int ret = config_store(cfg);

	if (!ret && kc_store_add_file(cfg->cf_store, path))
		ret = config_fail(cfg, KTLS_ERROR_CONFIG, "%s: no CA certificate could be read",
				  path);
	return ret;
}

int ktls_config_set_ca_dir(struct ktls_config *cfg, const char *path)
{
	int ret = config_store(cfg);

	if (!ret && kc_store_add_dir(cfg->cf_store, path))
		ret = config_fail(cfg, KTLS_ERROR_CONFIG, "%s: not a usable CA directory", path);
	return ret;
}

int ktls_config_set_ca_system(struct ktls_config *cfg)
{
	int ret = config_store(cfg);

	if (!ret && kc_store_add_system(cfg->cf_store))
		ret = config_fail(cfg, KTLS_ERROR_CONFIG, "the system trust store is not usable");
	return ret;
}

static int config_valid_policy(enum ktls_verify_policy policy)
{
	switch (policy) {
	case KTLS_VERIFY_REQUIRED:
	case KTLS_VERIFY_OPTIONAL:
	case KTLS_VERIFY_NONE:
		return 1;
	default:
		return 0;
	}
}

int ktls_config_set_verify(struct ktls_config *cfg, enum ktls_verify_policy policy)
{
	if (!config_valid_policy(policy))
		return KTLS_ERROR_INVALID_ARGUMENT;
	cfg->cf_verify = policy;
	return 0;
}

int ktls_config_set_verify_client(struct ktls_config *cfg, enum ktls_verify_policy policy)
{
	if (!config_valid_policy(policy))
		return KTLS_ERROR_INVALID_ARGUMENT;
	cfg->cf_verify_client = policy;
	return 0;
}

/* Calls @each for every comma separated item of @list. */
static int config_split(struct ktls_config *cfg, const char *list, const char *what,
			int (*each)(struct ktls_config *cfg, const char *item))
{
	char item[256];
	const char *p = list, *comma;
	size_t len;
	int ret;

	if (!list || !*list)
		return config_fail(cfg, KTLS_ERROR_CONFIG, "empty %s list", what);
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!len || len >= sizeof(item))
			return config_fail(cfg, KTLS_ERROR_CONFIG, "bad %s list '%s'", what, list);
		memcpy(item, p, len);
		item[len] = 0;
		ret = each(cfg, item);
		if (ret)
			return ret;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * "h2,http/1.1" as a ProtocolNameList body. An empty or NULL list is no
 * ALPN; an empty name or a list that does not fit is invalid.
 */
int ktls_alpn_encode(const char *list, uint8_t *wire, size_t size, size_t *wire_len)
{
	const char *p = list, *comma;
	size_t len, off = 0;

	*wire_len = 0;
	if (!list || !*list)
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!len || len > 255 || off + 1 + len > size)
			return KTLS_ERROR_INVALID_ARGUMENT;
		wire[off++] = (uint8_t)len;
		memcpy(wire + off, p, len);
		off += len;
		if (!comma)
			break;
		p = comma + 1;
	}
	*wire_len = off;
	return 0;
}

int ktls_config_set_alpn(struct ktls_config *cfg, const char *list)
{
	int ret = ktls_alpn_encode(list, cfg->cf_alpn, sizeof(cfg->cf_alpn), &cfg->cf_alpn_len);

	if (ret)
		return config_fail(cfg, KTLS_ERROR_CONFIG, "bad ALPN list '%s'", list);
	return 0;
}

static int config_add_group(struct ktls_config *cfg, const char *name)
{
	const struct ktls_group *g = ktls_group_by_name(name);
	size_t i;

	if (!g)
		return config_fail(cfg, KTLS_ERROR_CONFIG, "unknown group '%s'", name);
	for (i = 0; i < cfg->cf_group_count; i++)
		if (cfg->cf_groups[i] == g->id)
			return 0;
	if (cfg->cf_group_count == KTLS_ARRAY_SIZE(cfg->cf_groups))
		return config_fail(cfg, KTLS_ERROR_CONFIG, "too many groups");
	cfg->cf_groups[cfg->cf_group_count++] = g->id;
	return 0;
}

int ktls_config_set_groups(struct ktls_config *cfg, const char *list)
{
	cfg->cf_group_count = 0;
	return config_split(cfg, list, "group", config_add_group);
}

static int config_add_cipher(struct ktls_config *cfg, const char *name)
{
	const struct ktls_suite *s = ktls_suite_by_name(name);
	size_t i;

	if (!s)
		return config_fail(cfg, KTLS_ERROR_CONFIG, "unknown cipher suite '%s'", name);
	for (i = 0; i < cfg->cf_suite_count; i++)
		if (cfg->cf_suites[i] == s)
			return 0;
	if (cfg->cf_suite_count == KTLS_ARRAY_SIZE(cfg->cf_suites))
		return config_fail(cfg, KTLS_ERROR_CONFIG, "too many cipher suites");
	cfg->cf_suites[cfg->cf_suite_count++] = s;
	return 0;
}

int ktls_config_set_ciphers(struct ktls_config *cfg, const char *list)
{
	cfg->cf_suite_count = 0;
	return config_split(cfg, list, "cipher suite", config_add_cipher);
}

int ktls_config_set_versions(struct ktls_config *cfg, uint16_t min, uint16_t max)
{
	if (min < KTLS_VERSION_TLS12 || max > KTLS_VERSION_TLS13 || min > max)
		return config_fail(cfg, KTLS_ERROR_CONFIG, "unsupported version range");
	cfg->cf_min_version = min;
	cfg->cf_max_version = max;
	return 0;
}

int ktls_config_set_middlebox_compat(struct ktls_config *cfg, int enable)
{
	cfg->cf_middlebox_compat = !!enable;
	return 0;
}

const char *ktls_config_error(const struct ktls_config *cfg)
{
	return cfg->cf_error;
}
