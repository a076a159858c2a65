// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the crypto backend (crypto_openssl.c): known answers from the
 * RFCs, and round trips with keys and certificates that the openssl CLI
 * makes in a temporary directory at run time.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktls.h"
#include "crypto.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char workdir[] = "/tmp/crypto_test.XXXXXX";

/* ---- fixture: keys and certificates from the openssl CLI ---- */

/* One config for req, x509 and ca, so the host's openssl.cnf plays no part. */
static const char test_cnf[] =
	"[req]\n"
	"distinguished_name = dn\n"
	"[dn]\n"
	"[ca_ext]\n"
	"basicConstraints = critical,CA:TRUE\n"
	"keyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"[leaf_ext]\n"
	"basicConstraints = CA:FALSE\n"
	"keyUsage = critical,digitalSignature\n"
	"extendedKeyUsage = serverAuth\n"
	"subjectAltName = DNS:localhost,IP:127.0.0.1,DNS:w*.part.test\n"
	"[self_ext]\n"
	"subjectAltName = DNS:localhost,IP:127.0.0.1\n"
	"[ca]\n"
	"default_ca = test_ca\n"
	"[test_ca]\n"
	"database = index.txt\n"
	"new_certs_dir = .\n"
	"serial = serial\n"
	"default_md = sha256\n"
	"policy = test_policy\n"
	"unique_subject = no\n"
	"[test_policy]\n"
	"commonName = supplied\n";

static const struct key_case {
	const char *name;
	const char *genpkey;
	uint16_t schemes[7];	/* zero-terminated */
	uint16_t foreign;	/* a scheme the key must refuse */
	const char *req_md;	/* for keys that allow only one hash */
} key_cases[] = {
	{ .name = "p256", .genpkey = "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
	  .schemes = { KC_SIG_ECDSA_SECP256R1_SHA256 }, .foreign = KC_SIG_ECDSA_SECP384R1_SHA384 },
	{ .name = "p384", .genpkey = "-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
	  .schemes = { KC_SIG_ECDSA_SECP384R1_SHA384 }, .foreign = KC_SIG_ECDSA_SECP256R1_SHA256 },
	{ .name = "p521", .genpkey = "-algorithm EC -pkeyopt ec_paramgen_curve:P-521",
	  .schemes = { KC_SIG_ECDSA_SECP521R1_SHA512 }, .foreign = KC_SIG_ECDSA_SECP384R1_SHA384 },
	{ .name = "rsa", .genpkey = "-algorithm RSA -pkeyopt rsa_keygen_bits:2048",
	  .schemes = { KC_SIG_RSA_PSS_RSAE_SHA256, KC_SIG_RSA_PSS_RSAE_SHA384,
		       KC_SIG_RSA_PSS_RSAE_SHA512, KC_SIG_RSA_PKCS1_SHA256,
		       KC_SIG_RSA_PKCS1_SHA384, KC_SIG_RSA_PKCS1_SHA512 },
	  .foreign = KC_SIG_RSA_PSS_PSS_SHA256 },
	{ .name = "rsapss", .genpkey = "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048",
	  .schemes = { KC_SIG_RSA_PSS_PSS_SHA256, KC_SIG_RSA_PSS_PSS_SHA384,
		       KC_SIG_RSA_PSS_PSS_SHA512 },
	  .foreign = KC_SIG_RSA_PSS_RSAE_SHA256 },
	/* id-RSASSA-PSS parameters that allow SHA-384 only */
	{ .name = "rsapss384",
	  .genpkey = "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 "
		     "-pkeyopt rsa_pss_keygen_md:sha384 -pkeyopt rsa_pss_keygen_mgf1_md:sha384",
	  .schemes = { KC_SIG_RSA_PSS_PSS_SHA384 }, .foreign = KC_SIG_RSA_PSS_PSS_SHA256,
	  .req_md = "-sha384" },
	{ .name = "ed25519", .genpkey = "-algorithm ED25519",
	  .schemes = { KC_SIG_ED25519 }, .foreign = KC_SIG_ED448 },
	{ .name = "ed448", .genpkey = "-algorithm ED448",
	  .schemes = { KC_SIG_ED448 }, .foreign = KC_SIG_ED25519 },
};

static const char *in_workdir(const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned int next;
	char *p = paths[next++ % ARRAY_SIZE(paths)];

	snprintf(p, PATH_MAX, "%s/%s", workdir, name);
	return p;
}

/* Runs a shell command in the work directory; its output goes to a log there. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[1024], line[1024 + PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "cd '%s' && ( %s ) >>openssl.log 2>&1", workdir, cmd);
	if (system(line) != 0) {
		tap_diag("command failed (see %s/openssl.log): %s", workdir, cmd);
		return -1;
	}
	return 0;
}

static int write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(in_workdir(name), "w");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static uint8_t *read_file(const char *name, size_t *len)
{
	FILE *f = fopen(in_workdir(name), "r");
	uint8_t *data = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)size);
		if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
			free(data);
			data = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return data;
}

static void remove_workdir(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", workdir);
}

static const uint8_t message[] = "TLS 1.3, server CertificateVerify\0 and 64 spaces of context";

static int make_fixture(void)
{
	size_t i;

	if (write_file("test.cnf", test_cnf, strlen(test_cnf)) ||
	    write_file("msg.bin", message, sizeof(message)) ||
	    write_file("index.txt", "", 0) || write_file("serial", "1000\n", 5))
		return -1;
	for (i = 0; i < ARRAY_SIZE(key_cases); i++) {
		const struct key_case *k = &key_cases[i];

		if (run("openssl genpkey %s -out %s.key", k->genpkey, k->name) ||
		    run("openssl req -config test.cnf -x509 -new -key %s.key -days 30 %s "
			"-subj '/O=ktls test/CN=localhost' -extensions self_ext -out %s.crt",
			k->name, k->req_md ? k->req_md : "", k->name))
			return -1;
	}
	return run("openssl dgst -sha256 -sign rsa.key -sigopt rsa_padding_mode:pss "
		   "-sigopt rsa_pss_saltlen:digest -out rsa.sig msg.bin") ||
	       run("openssl dgst -sha256 -sign p256.key -out p256.sig msg.bin") ||
	       /* root -> intermediate -> leaf, and a stranger root */
	       run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key") ||
	       run("openssl req -config test.cnf -x509 -new -key ca.key -days 30 "
		   "-subj '/CN=ktls test root' -extensions ca_ext -out ca.crt") ||
	       run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key") ||
	       run("openssl req -config test.cnf -x509 -new -key other.key -days 30 "
		   "-subj '/CN=someone else' -extensions ca_ext -out other.crt") ||
	       run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out inter.key") ||
	       run("openssl req -config test.cnf -new -key inter.key "
		   "-subj '/CN=ktls test intermediate' -out inter.csr") ||
	       run("openssl x509 -req -in inter.csr -CA ca.crt -CAkey ca.key -set_serial 2 "
		   "-days 30 -extfile test.cnf -extensions ca_ext -out inter.crt") ||
	       run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out leaf.key") ||
	       run("openssl req -config test.cnf -new -key leaf.key "
		   "-subj '/O=ktls test/CN=localhost' -out leaf.csr") ||
	       run("openssl x509 -req -in leaf.csr -CA inter.crt -CAkey inter.key -set_serial 3 "
		   "-days 30 -extfile test.cnf -extensions leaf_ext -out leaf.crt") ||
	       run("cat leaf.crt inter.crt > chain.pem") ||
	       /* 3.0's x509 cannot backdate; ca can. */
	       run("openssl ca -config test.cnf -batch -notext -cert ca.crt -keyfile ca.key "
		   "-startdate 20200101000000Z -enddate 20200102000000Z "
		   "-extfile test.cnf -extensions leaf_ext -in leaf.csr -out expired.crt") ||
	       run("mkdir hashdir && cp ca.crt hashdir/ && openssl rehash hashdir");
}

/* ---- known answers ---- */

static int check_hex(const uint8_t *got, const char *want_hex, const char *what)
{
	size_t len;
	uint8_t *want = tap_unhex(want_hex, &len);
	int ok = tap_mem_eq(got, want, len, what);

	free(want);
	return ok;
}

static void test_hashes(void)
{
	uint8_t out[KC_MAX_DIGEST], want[KC_MAX_DIGEST];
	struct kc_hash *h = kc_hash_new(KC_SHA256);

	kc_hash_oneshot(KC_SHA384, "abc", 3, out);
	check_hex(out, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
		       "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", "SHA-384(\"abc\")");
	kc_hash_update(h, "a", 1);
	kc_hash_peek(h, out);
	kc_hash_oneshot(KC_SHA256, "a", 1, want);
	tap_mem_eq(out, want, 32, "peek gives the digest so far");
	kc_hash_update(h, "bc", 2);
	kc_hash_peek(h, out);
	check_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "hashing goes on after a peek");
	kc_hash_free(h);
}

static void test_hmac_hkdf(void)
{
	static const char jefe_data[] = "what do ya want for nothing?";
	static const char long_key_data[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t out[KC_MAX_DIGEST], okm[42], long_key[131], *ikm, *salt, *info;
	size_t ikm_len, salt_len, info_len;

	kc_hmac(KC_SHA256, "Jefe", 4, jefe_data, strlen(jefe_data), out);
	check_hex(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		  "HMAC-SHA-256 RFC 4231 case 2");
	kc_hmac(KC_SHA384, "Jefe", 4, jefe_data, strlen(jefe_data), out);
	check_hex(out, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
		       "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
		  "HMAC-SHA-384 RFC 4231 case 2");
	kc_hmac(KC_SHA512, "Jefe", 4, jefe_data, strlen(jefe_data), out);
	check_hex(out, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		  "HMAC-SHA-512 RFC 4231 case 2");
	memset(long_key, 0xaa, sizeof(long_key));
	kc_hmac(KC_SHA256, long_key, sizeof(long_key), long_key_data, strlen(long_key_data), out);
	check_hex(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		  "HMAC-SHA-256 RFC 4231 case 6 (key longer than a block)");

	ikm = tap_unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", &ikm_len);
	salt = tap_unhex("000102030405060708090a0b0c", &salt_len);
	info = tap_unhex("f0f1f2f3f4f5f6f7f8f9", &info_len);
	kc_hkdf_extract(KC_SHA256, salt, salt_len, ikm, ikm_len, out);
	check_hex(out, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "HKDF-Extract RFC 5869 case 1");
	kc_hkdf_expand(KC_SHA256, out, 32, info, info_len, okm, sizeof(okm));
	check_hex(okm, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		       "34007208d5b887185865", "HKDF-Expand RFC 5869 case 1 (two blocks)");
	tap_ok(kc_hkdf_expand(KC_SHA256, out, 32, info, info_len, okm, 255 * 32 + 1) ==
	       KTLS_ERROR_INVALID_ARGUMENT, "HKDF-Expand refuses more than 255 blocks");
	free(ikm);
	free(salt);
	free(info);
}

/* ---- AEAD ---- */

struct aead_vector {
	enum kc_aead_id id;
	const char *name, *key, *nonce, *aad, *plain, *sealed;
};

static const struct aead_vector aead_vectors[] = {
	{ KC_AES_128_GCM, "AES-128-GCM (McGrew-Viega case 4)",
	  "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ KC_CHACHA20_POLY1305, "ChaCha20-Poly1305 (RFC 8439 2.8.2)",
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	  "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
	  /* "Ladies and Gentlemen of the class of '99: ..." */
	  "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	  "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	  "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	  "637265656e20776f756c642062652069742e",
	  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	  "3ff4def08e4b7a9de576d26586cec64b6116"
	  "1ae10b594f09e26a7e902ecbd0600691" },
};

static int is_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* Seal, open in place, then three ways of failing authentication. */
static void test_aead_vector(const struct aead_vector *v)
{
	size_t key_len, nonce_len, aad_len, plain_len, sealed_len;
	uint8_t *key = tap_unhex(v->key, &key_len);
	uint8_t *nonce = tap_unhex(v->nonce, &nonce_len);
	uint8_t *aad = tap_unhex(v->aad, &aad_len);
	uint8_t *plain = tap_unhex(v->plain, &plain_len);
	uint8_t *sealed = tap_unhex(v->sealed, &sealed_len);
	struct kc_aead *enc = kc_aead_new(v->id, key, 1);
	struct kc_aead *dec = kc_aead_new(v->id, key, 0);
	uint8_t buf[256], out[256];

	kc_aead_seal(enc, nonce, aad, aad_len, plain, plain_len, buf);
	tap_mem_eq(buf, sealed, sealed_len, v->name);
	tap_ok(kc_aead_open(dec, nonce, aad, aad_len, buf, sealed_len, buf) == 0 &&
	       memcmp(buf, plain, plain_len) == 0, "%s: opens in place", v->name);

	memcpy(buf, sealed, sealed_len);
	buf[sealed_len - 1] ^= 1;
	memset(out, 0xee, sizeof(out));
	tap_ok(kc_aead_open(dec, nonce, aad, aad_len, buf, sealed_len, out) ==
	       KTLS_ALERT_BAD_RECORD_MAC && is_zero(out, plain_len),
	       "%s: bad tag is bad_record_mac, output wiped", v->name);
	buf[sealed_len - 1] ^= 1;
	buf[0] ^= 1;
	tap_ok(kc_aead_open(dec, nonce, aad, aad_len, buf, sealed_len, out) ==
	       KTLS_ALERT_BAD_RECORD_MAC, "%s: altered ciphertext is bad_record_mac", v->name);
	buf[0] ^= 1;
	aad[0] ^= 1;
	tap_ok(kc_aead_open(dec, nonce, aad, aad_len, buf, sealed_len, out) ==
	       KTLS_ALERT_BAD_RECORD_MAC, "%s: altered AAD is bad_record_mac", v->name);

	kc_aead_free(enc);
	kc_aead_free(dec);
	free(key);
	free(nonce);
	free(aad);
	free(plain);
	free(sealed);
}

static void test_aead(void)
{
	static const uint8_t key[32] = { 1, 2, 3 }, nonce[KC_AEAD_IV_LEN] = { 4 };
	struct kc_aead *enc = kc_aead_new(KC_AES_256_GCM, key, 1);
	struct kc_aead *dec = kc_aead_new(KC_AES_256_GCM, key, 0);
	uint8_t buf[100 + KC_AEAD_TAG_LEN], plain[100];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aead_vectors); i++)
		test_aead_vector(&aead_vectors[i]);

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	memcpy(buf, plain, sizeof(plain));
	tap_ok(kc_aead_seal(enc, nonce, "hdr", 3, buf, sizeof(plain), buf) == 0 &&
	       kc_aead_open(dec, nonce, "hdr", 3, buf, sizeof(buf), buf) == 0 &&
	       memcmp(buf, plain, sizeof(plain)) == 0, "AES-256-GCM round trip in place");
	tap_ok(kc_aead_open(dec, nonce, NULL, 0, buf, KC_AEAD_TAG_LEN - 1, buf) ==
	       KTLS_ALERT_BAD_RECORD_MAC, "input shorter than a tag is bad_record_mac");
	kc_aead_free(enc);
	kc_aead_free(dec);
}

/* ---- key exchange ---- */

static void test_x25519(void)
{
	static const char alice_priv[] =
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
	static const char bob_priv[] =
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
	static const char shared[] =
		"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
	static const uint8_t zero_point[32];
	uint8_t alice_pub[KC_MAX_KEX_PUBLIC], bob_pub[KC_MAX_KEX_PUBLIC];
	uint8_t secret[KC_MAX_KEX_SECRET];
	size_t priv_len, alice_pub_len = 0, bob_pub_len = 0, secret_len = 0;
	struct kc_kex *alice = NULL, *bob = NULL;
	uint8_t *priv;

	priv = tap_unhex(alice_priv, &priv_len);
	kc_kex_from_private(KC_GROUP_X25519, priv, priv_len, &alice, alice_pub, &alice_pub_len);
	free(priv);
	priv = tap_unhex(bob_priv, &priv_len);
	kc_kex_from_private(KC_GROUP_X25519, priv, priv_len, &bob, bob_pub, &bob_pub_len);
	free(priv);
	tap_ok(alice && alice_pub_len == 32, "X25519: key from a private value");
	check_hex(alice_pub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		  "X25519 RFC 7748 6.1: Alice's public key");
	check_hex(bob_pub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		  "X25519 RFC 7748 6.1: Bob's public key");
	kc_kex_derive(alice, bob_pub, bob_pub_len, secret, &secret_len);
	check_hex(secret, shared, "X25519 RFC 7748 6.1: Alice's shared secret");
	memset(secret, 0, sizeof(secret));
	kc_kex_derive(bob, alice_pub, alice_pub_len, secret, &secret_len);
	tap_ok(secret_len == 32, "X25519: secret is 32 bytes");
	check_hex(secret, shared, "X25519 RFC 7748 6.1: Bob's shared secret");
	tap_ok(kc_kex_derive(alice, zero_point, sizeof(zero_point), secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "X25519: all-zero shared secret is illegal_parameter");
	tap_ok(kc_kex_derive(alice, bob_pub, 31, secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "X25519: 31-byte public value is illegal_parameter");
	kc_kex_free(alice);
	kc_kex_free(bob);
}

static void test_nist_round_trip(enum kc_group_id group, const char *name, size_t field)
{
	uint8_t pub_a[KC_MAX_KEX_PUBLIC], pub_b[KC_MAX_KEX_PUBLIC];
	uint8_t secret_a[KC_MAX_KEX_SECRET], secret_b[KC_MAX_KEX_SECRET];
	size_t pub_a_len = 0, pub_b_len = 0, secret_a_len = 0, secret_b_len = 0;
	struct kc_kex *a = NULL, *b = NULL;

	kc_kex_generate(group, &a, pub_a, &pub_a_len);
	kc_kex_generate(group, &b, pub_b, &pub_b_len);
	tap_ok(a && b && pub_a_len == 1 + 2 * field && pub_a[0] == 0x04,
	       "%s: generated key has an uncompressed point", name);
	tap_ok(kc_kex_derive(a, pub_b, pub_b_len, secret_a, &secret_a_len) == 0 &&
	       kc_kex_derive(b, pub_a, pub_a_len, secret_b, &secret_b_len) == 0 &&
	       secret_a_len == field && secret_b_len == field &&
	       memcmp(secret_a, secret_b, field) == 0, "%s: both sides derive the same secret", name);
	kc_kex_free(a);
	kc_kex_free(b);
}

/* Private value 1 makes the public value the generator and the secret the peer's X. */
static void test_nist_known_answers(void)
{
	static const char p256_g[] =
		"04 6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
	static const char p384_g[] =
		"04 aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
		"5502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29"
		"f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f";
	uint8_t one[48] = { 0 }, pub[KC_MAX_KEX_PUBLIC], peer[KC_MAX_KEX_PUBLIC];
	uint8_t secret[KC_MAX_KEX_SECRET];
	size_t pub_len = 0, peer_len = 0, secret_len = 0;
	struct kc_kex *unit = NULL, *other = NULL;

	one[31] = 1;
	kc_kex_from_private(KC_GROUP_SECP256R1, one, 32, &unit, pub, &pub_len);
	tap_ok(pub_len == 65, "P-256: key from a private value");
	check_hex(pub, p256_g, "P-256: private value 1 gives the generator");
	kc_kex_generate(KC_GROUP_SECP256R1, &other, peer, &peer_len);
	kc_kex_derive(unit, peer, peer_len, secret, &secret_len);
	tap_ok(secret_len == 32 && memcmp(secret, peer + 1, 32) == 0,
	       "P-256: shared secret is the X coordinate");
	kc_kex_free(unit);
	kc_kex_free(other);

	unit = NULL;
	one[31] = 0;
	one[47] = 1;
	kc_kex_from_private(KC_GROUP_SECP384R1, one, 48, &unit, pub, &pub_len);
	check_hex(pub, p384_g, "P-384: private value 1 gives the generator");
	kc_kex_free(unit);
}

static void test_nist_rejects(void)
{
	uint8_t pub[KC_MAX_KEX_PUBLIC], peer[KC_MAX_KEX_PUBLIC], secret[KC_MAX_KEX_SECRET];
	size_t pub_len = 0, peer_len = 0, secret_len;
	struct kc_kex *kex = NULL, *other = NULL;

	kc_kex_generate(KC_GROUP_SECP256R1, &kex, pub, &pub_len);
	kc_kex_generate(KC_GROUP_SECP256R1, &other, peer, &peer_len);
	peer[64] ^= 1;
	tap_ok(kc_kex_derive(kex, peer, peer_len, secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "P-256: point off the curve is illegal_parameter");
	peer[64] ^= 1;
	tap_ok(kc_kex_derive(kex, peer, 64, secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "P-256: 64-byte point is illegal_parameter");
	tap_ok(kc_kex_derive(kex, peer, 97, secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "P-256: P-384-sized point is illegal_parameter");
	/* The hybrid form (0x06/0x07) is a valid X9.62 encoding that TLS forbids. */
	peer[0] = 0x06 | (peer[64] & 1);
	tap_ok(kc_kex_derive(kex, peer, peer_len, secret, &secret_len) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "P-256: hybrid point encoding is illegal_parameter");
	kc_kex_free(kex);
	kc_kex_free(other);
}

/* ---- keys and signatures ---- */

static void test_scheme(const struct key_case *k, const struct kc_pkey *key,
			const struct kc_chain *chain, uint16_t scheme)
{
	uint8_t sig[KC_MAX_SIGNATURE], tbs[sizeof(message)];
	size_t sig_len = 0;

	tap_ok(kc_pkey_can_sign(key, scheme) && kc_chain_can_verify(chain, scheme),
	       "%s: can sign and verify 0x%04x", k->name, scheme);
	tap_ok(kc_sign(key, scheme, message, sizeof(message), sig, &sig_len) == 0 &&
	       kc_verify(chain, scheme, message, sizeof(message), sig, sig_len) == 0,
	       "%s: 0x%04x signature verifies", k->name, scheme);
	memcpy(tbs, message, sizeof(message));
	tbs[0] ^= 1;
	tap_ok(kc_verify(chain, scheme, tbs, sizeof(tbs), sig, sig_len) ==
	       KTLS_ALERT_DECRYPT_ERROR, "%s: 0x%04x over other bytes is decrypt_error",
	       k->name, scheme);
}

static void test_key_case(const struct key_case *k)
{
	struct kc_pkey *key = NULL;
	struct kc_chain *chain = NULL;
	char file[64];
	size_t i;

	snprintf(file, sizeof(file), "%s.key", k->name);
	kc_pkey_load(in_workdir(file), &key);
	snprintf(file, sizeof(file), "%s.crt", k->name);
	kc_chain_load(in_workdir(file), &chain);
	if (!tap_ok(key && chain && kc_chain_count(chain) == 1 &&
		    kc_chain_matches_key(chain, key), "%s: key and certificate load and match",
		    k->name))
		goto out;
	for (i = 0; k->schemes[i]; i++)
		test_scheme(k, key, chain, k->schemes[i]);
	tap_ok(!kc_pkey_can_sign(key, k->foreign) && !kc_chain_can_verify(chain, k->foreign) &&
	       kc_verify(chain, k->foreign, message, sizeof(message), message, 64) ==
	       KTLS_ALERT_ILLEGAL_PARAMETER, "%s: refuses 0x%04x (illegal_parameter)",
	       k->name, k->foreign);
out:
	kc_pkey_free(key);
	kc_chain_free(chain);
}

/* Signatures the openssl CLI made, so not only our signer is checked. */
static void test_foreign_signatures(void)
{
	static const struct {
		const char *cert, *sig;
		uint16_t scheme;
	} cases[] = {
		{ "rsa.crt", "rsa.sig", KC_SIG_RSA_PSS_RSAE_SHA256 },
		{ "p256.crt", "p256.sig", KC_SIG_ECDSA_SECP256R1_SHA256 },
	};
	struct kc_chain *chain;
	uint8_t *sig;
	size_t i, len = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		chain = NULL;
		kc_chain_load(in_workdir(cases[i].cert), &chain);
		sig = read_file(cases[i].sig, &len);
		tap_ok(chain && sig && kc_verify(chain, cases[i].scheme, message, sizeof(message),
						 sig, len) == 0,
		       "%s made by openssl dgst verifies", cases[i].sig);
		free(sig);
		kc_chain_free(chain);
	}
}

static void test_signatures(void)
{
	struct kc_chain *chain = NULL;
	struct kc_pkey *key = NULL;
	char subject[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key_cases); i++)
		test_key_case(&key_cases[i]);
	test_foreign_signatures();

	kc_chain_load(in_workdir("p256.crt"), &chain);
	tap_ok(chain && kc_chain_subject(chain, subject, sizeof(subject)) == 0 &&
	       strcmp(subject, "CN=localhost,O=ktls test") == 0, "subject is one RFC 2253 line");
	tap_diag("subject: %s", subject);
	tap_ok(chain && kc_chain_subject(chain, subject, 5) == 0 && strcmp(subject, "CN=l") == 0,
	       "subject is cut to the buffer and terminated");
	kc_chain_free(chain);
	tap_ok(kc_pkey_load(in_workdir("missing.key"), &key) == KTLS_ERROR_CONFIG,
	       "missing key file is a configuration error");
	tap_ok(kc_chain_load(in_workdir("p256.key"), &chain) == KTLS_ERROR_CONFIG,
	       "file without certificates is a configuration error");
	tap_ok(kc_pkey_load(in_workdir("p256.crt"), &key) == KTLS_ERROR_CONFIG,
	       "file without a key is a configuration error");
}

/* ---- chains and trust ---- */

static struct kc_store *store_with(const char *file)
{
	struct kc_store *store = kc_store_new();

	if (store && kc_store_add_file(store, in_workdir(file))) {
		kc_store_free(store);
		return NULL;
	}
	return store;
}

static void test_chain_der(const struct kc_chain *chain)
{
	struct kc_chain *copy = kc_chain_new();
	const uint8_t *der = NULL, *again = NULL;
	size_t len = 0, again_len = 0;
	uint8_t *junk;

	kc_chain_der(chain, 0, &der, &len);
	tap_ok(copy && kc_chain_add_der(copy, der, len) == 0 &&
	       kc_chain_der(copy, 0, &again, &again_len) == 0 &&
	       again_len == len && memcmp(again, der, len) == 0,
	       "DER certificate round trips through kc_chain_add_der");
	junk = malloc(len + 1);
	memcpy(junk, der, len);
	junk[len] = 0;
	tap_ok(kc_chain_add_der(copy, junk, len + 1) == KTLS_ALERT_BAD_CERTIFICATE,
	       "DER with a trailing byte is bad_certificate");
	tap_ok(kc_chain_add_der(copy, junk + 1, len - 1) == KTLS_ALERT_BAD_CERTIFICATE,
	       "garbage is bad_certificate");
	tap_ok(kc_chain_count(copy) == 1 && kc_chain_der(copy, 1, &again, &again_len) ==
	       KTLS_ERROR_INVALID_ARGUMENT, "rejected input leaves the chain as it was");
	free(junk);
	kc_chain_free(copy);
}

static void expect_verify(const struct kc_store *store, const struct kc_chain *chain,
			  int server, const char *name, int want, const char *what)
{
	char errbuf[160] = "unset";
	long x509_error = -1;
	int ret;

	ret = kc_chain_verify(store, chain, server, name, &x509_error, errbuf, sizeof(errbuf));
	if (!tap_ok(ret == want && (want ? x509_error != 0 : x509_error == 0), "%s", what))
		tap_diag("returned %d (x509 error %ld: %s)", ret, x509_error, errbuf);
}

static void test_chains(void)
{
	struct kc_store *root = store_with("ca.crt"), *other = store_with("other.crt");
	struct kc_store *dir = kc_store_new(), *system_store = kc_store_new();
	struct kc_chain *chain = NULL, *leaf_only = kc_chain_new(), *expired = NULL;
	const uint8_t *der = NULL;
	char errbuf[160];
	size_t len = 0;
	long x509_error;

	kc_chain_load(in_workdir("chain.pem"), &chain);
	kc_chain_load(in_workdir("expired.crt"), &expired);
	if (!tap_ok(root && other && chain && kc_chain_count(chain) == 2 && expired,
		    "trust stores and chains load"))
		goto out;
	test_chain_der(chain);
	kc_chain_der(chain, 0, &der, &len);
	kc_chain_add_der(leaf_only, der, len);

	expect_verify(root, chain, 1, "localhost", 0, "trusted chain for its DNS name");
	expect_verify(root, chain, 1, "127.0.0.1", 0, "trusted chain for its IP address");
	expect_verify(root, chain, 1, NULL, 0, "trusted chain without a name check");
	x509_error = 0;
	tap_ok(kc_chain_verify(root, chain, 1, "example.com", &x509_error, errbuf,
			       sizeof(errbuf)) == KTLS_ALERT_BAD_CERTIFICATE &&
	       strcmp(errbuf, "certificate verify failed: hostname mismatch") == 0,
	       "wrong name is bad_certificate with a readable reason");
	expect_verify(root, chain, 1, "127.0.0.2", KTLS_ALERT_BAD_CERTIFICATE,
		      "wrong IP address is bad_certificate");
	expect_verify(root, chain, 1, "www.part.test", KTLS_ALERT_BAD_CERTIFICATE,
		      "partial wildcard w*.part.test does not match");
	expect_verify(root, chain, 0, "localhost", KTLS_ALERT_UNSUPPORTED_CERTIFICATE,
		      "serverAuth-only certificate as a client's is unsupported_certificate");
	expect_verify(other, chain, 1, "localhost", KTLS_ALERT_UNKNOWN_CA,
		      "chain to another root is unknown_ca");
	expect_verify(root, leaf_only, 1, "localhost", KTLS_ALERT_UNKNOWN_CA,
		      "missing intermediate is unknown_ca");
	expect_verify(root, expired, 1, "localhost", KTLS_ALERT_CERTIFICATE_EXPIRED,
		      "expired certificate is certificate_expired");
	tap_ok(kc_chain_verify(root, chain, 1, "", &x509_error, errbuf, sizeof(errbuf)) ==
	       KTLS_ERROR_INVALID_ARGUMENT, "empty name is refused, not ignored");

	tap_ok(kc_store_add_dir(dir, in_workdir("hashdir")) == 0, "hashed directory loads");
	expect_verify(dir, chain, 1, "localhost", 0, "trusted chain through a hashed directory");
	tap_ok(kc_store_add_dir(dir, in_workdir("ca.crt")) == KTLS_ERROR_CONFIG &&
	       kc_store_add_file(dir, in_workdir("missing.crt")) == KTLS_ERROR_CONFIG,
	       "missing trust file or directory is a configuration error");
	tap_ok(kc_store_add_system(system_store) == 0, "system trust store loads");
out:
	kc_chain_free(chain);
	kc_chain_free(leaf_only);
	kc_chain_free(expired);
	kc_store_free(root);
	kc_store_free(other);
	kc_store_free(dir);
	kc_store_free(system_store);
}

static void test_misc(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	tap_ok(kc_init() == 0 && kc_init() == 0, "kc_init succeeds and is idempotent");
	kc_random(a, sizeof(a));
	kc_random(b, sizeof(b));
	tap_ok(memcmp(a, b, sizeof(a)) != 0, "two random draws differ");
	tap_ok(kc_memcmp(a, a, sizeof(a)) == 0 && kc_memcmp(a, b, sizeof(a)) != 0,
	       "kc_memcmp tells equal from different");
	kc_cleanse(a, sizeof(a));
	tap_ok(is_zero(a, sizeof(a)), "kc_cleanse zeroes");
}

int main(void)
{
	int status;

	if (!mkdtemp(workdir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	if (make_fixture()) {
		printf("Bail out! openssl CLI could not make the test keys (kept in %s)\n",
		       workdir);
		return 1;
	}
	tap_plan(134);
	test_misc();
	test_hashes();
	test_hmac_hkdf();
	test_aead();
	test_x25519();
	test_nist_round_trip(KC_GROUP_SECP256R1, "P-256", 32);
	test_nist_round_trip(KC_GROUP_SECP384R1, "P-384", 48);
	test_nist_known_answers();
	test_nist_rejects();
	test_signatures();
	test_chains();
	status = tap_done();
	if (status == 0)
		remove_workdir();
	else
		tap_diag("files kept in %s", workdir);
	return status;
}
