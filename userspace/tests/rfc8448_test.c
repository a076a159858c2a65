// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known-answer test of the TLS 1.3 engine against RFC 8448, "Example
 * Handshake Traces for TLS 1.3": section 3 (Simple 1-RTT Handshake),
 * section 5 (HelloRetryRequest) and section 6 (Client Authentication).
 *
 * Part one recomputes every trace with the engine's building blocks
 * (keysched.c, record.c and the crypto backend): the ECDHE secret from
 * the trace's private keys, every secret of the key schedule, the
 * transcript hashes over the trace's handshake messages, both Finished
 * values, every traffic key and IV, and every protected record, sealed
 * at the trace's sequence number and compared byte for byte, then
 * opened and compared with the trace's plaintext.
 *
 * Part two drives the real engine (include/ktls.h) with the trace's
 * randoms and ephemeral keys through ktls_test_hooks. The engine is not
 * the implementation that produced the traces (NSS), so wherever RFC
 * 8446 lets two servers or clients differ (which extensions a server
 * acknowledges, what its cookie holds, what a client offers) only what
 * the RFC fixes is compared, and the difference is printed as a
 * diagnostic.
 *
 * The vectors are transcribed from the RFC, 16 octets a line, each under
 * the trace step and item it comes from.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ktls_int.h"
#include "tap.h"

/* ---- RFC 8448 section 2: Private Keys (the server's RSA key) ---- */

/* RFC 8448 2, modulus (public) (128 octets) */
static const char s2_modulus[] =
	"b4 bb 49 8f 82 79 30 3d 98 08 36 39 9b 36 c6 98 "
	"8c 0c 68 de 55 e1 bd b8 26 d3 90 1a 24 61 ea fd "
	"2d e4 9a 91 d0 15 ab bc 9a 95 13 7a ce 6c 1a f1 "
	"9e aa 6a f9 8c 7c ed 43 12 09 98 e1 87 a8 0e e0 "
	"cc b0 52 4b 1b 01 8c 3e 0b 63 26 4d 44 9a 6d 38 "
	"e2 2a 5f da 43 08 46 74 80 30 53 0e f0 46 1c 8c "
	"a9 d9 ef bf ae 8e a6 d1 d0 3e 2b d1 93 ef f0 ab "
	"9a 80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f";

/* RFC 8448 2, public exponent (3 octets) */
static const char s2_public_exponent[] =
	"01 00 01";

/* RFC 8448 2, private exponent (128 octets) */
static const char s2_private_exponent[] =
	"04 de a7 05 d4 3a 6e a7 20 9d d8 07 21 11 a8 3c "
	"81 e3 22 a5 92 78 b3 34 80 64 1e af 7c 0a 69 85 "
	"b8 e3 1c 44 f6 de 62 e1 b4 c2 30 9f 61 26 e7 7b "
	"7c 41 e9 23 31 4b bf a3 88 13 05 dc 12 17 f1 6c "
	"81 9c e5 38 e9 22 f3 69 82 8d 0e 57 19 5d 8c 84 "
	"88 46 02 07 b2 fa a7 26 bc f7 08 bb d7 db 7f 67 "
	"9f 89 34 92 fc 2a 62 2e 08 97 0a ac 44 1c e4 e0 "
	"c3 08 8d f2 5a e6 79 23 3d f8 a3 bd a2 ff 99 41";

/* RFC 8448 2, prime1 (64 octets) */
static const char s2_prime1[] =
	"e4 35 fb 7c c8 37 37 75 6d ac ea 96 ab 7f 59 a2 "
	"cc 10 69 db 7d eb 19 0e 17 e3 3a 53 2b 27 3f 30 "
	"a3 27 aa 0a aa bc 58 cd 67 46 6a f9 84 5f ad c6 "
	"75 fe 09 4a f9 2c 4b d1 f2 c1 bc 33 dd 2e 05 15";

/* RFC 8448 2, prime2 (64 octets) */
static const char s2_prime2[] =
	"ca bd 3b c0 e0 43 86 64 c8 d4 cc 9f 99 97 7a 94 "
	"d9 bb fe ad 8e 43 87 0a ba e3 f7 eb 8b 4e 0e ee "
	"8a f1 d9 b4 71 9b a6 19 6c f2 cb ba ee eb f8 b3 "
	"49 0a fe 9e 9f fa 74 a8 8a a5 1f c6 45 62 93 03";

/* RFC 8448 2, exponent1 (64 octets) */
static const char s2_exponent1[] =
	"3f 57 34 5c 27 fe 1b 68 7e 6e 76 16 27 b7 8b 1b "
	"82 64 33 dd 76 0f a0 be a6 a6 ac f3 94 90 aa 1b "
	"47 cd a4 86 9d 68 f5 84 dd 5b 50 29 bd 32 09 3b "
	"82 58 66 1f e7 15 02 5e 5d 70 a4 5a 08 d3 d3 19";

/* RFC 8448 2, exponent2 (64 octets) */
static const char s2_exponent2[] =
	"18 3d a0 13 63 bd 2f 28 85 ca cb dc 99 64 bf 47 "
	"64 f1 51 76 36 f8 64 01 28 6f 71 89 3c 52 cc fe "
	"40 a6 c2 3d 0d 08 6b 47 c6 fb 10 d8 fd 10 41 e0 "
	"4d ef 7e 9a 40 ce 95 7c 41 77 94 e1 04 12 d1 39";

/* RFC 8448 2, coefficient (64 octets) */
static const char s2_coefficient[] =
	"83 9c a9 a0 85 e4 28 6b 2c 90 e4 66 99 7a 2c 68 "
	"1f 21 33 9a a3 47 78 14 e4 de c1 18 33 05 0e d5 "
	"0d d1 3c c0 38 04 8a 43 c5 9b 2a cc 41 68 89 c0 "
	"37 66 5f e5 af a6 05 96 9f 8c 01 df a5 ca 96 9d";

/* ---- RFC 8448 section 3: Simple 1-RTT Handshake ---- */

/* RFC 8448 3, {client}  create an ephemeral x25519 key pair: private key (32 octets) */
static const char s3_client_private[] =
	"49 af 42 ba 7f 79 94 85 2d 71 3e f2 78 4b cb ca "
	"a7 91 1d e2 6a dc 56 42 cb 63 45 40 e7 ea 50 05";

/* RFC 8448 3, {client}  create an ephemeral x25519 key pair: public key (32 octets) */
static const char s3_client_public[] =
	"99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe "
	"b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c";

/* RFC 8448 3, {client}  send handshake record: complete record (ClientHello) (201 octets) */
static const char s3_client_hello_record[] =
	"16 03 01 00 c4 01 00 00 c0 03 03 cb 34 ec b1 e7 "
	"81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 "
	"12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 "
	"13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 "
	"06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 "
	"00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 "
	"01 03 01 04 00 23 00 00 00 33 00 26 00 24 00 1d "
	"00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d "
	"ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a "
	"af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 "
	"03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 "
	"01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 "
	"02 01 01 00 1c 00 02 40 01";

/* RFC 8448 3, {server}  extract secret "early": secret (32 octets) */
static const char s3_early_secret[] =
	"33 ad 0a 1c 60 7e c0 3b 09 e6 cd 98 93 68 0c e2 "
	"10 ad f3 00 aa 1f 26 60 e1 b2 2e 10 f1 70 f9 2a";

/* RFC 8448 3, {server}  create an ephemeral x25519 key pair: private key (32 octets) */
static const char s3_server_private[] =
	"b1 58 0e ea df 6d d5 89 b8 ef 4f 2d 56 52 57 8c "
	"c8 10 e9 98 01 91 ec 8d 05 83 08 ce a2 16 a2 1e";

/* RFC 8448 3, {server}  create an ephemeral x25519 key pair: public key (32 octets) */
static const char s3_server_public[] =
	"c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 "
	"56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f";

/* RFC 8448 3, {server}  derive secret for handshake "tls13 derived": expanded (32 octets) */
static const char s3_handshake_derived[] =
	"6f 26 15 a1 08 c7 02 c5 67 8f 54 fc 9d ba b6 97 "
	"16 c0 76 18 9c 48 25 0c eb ea c3 57 6c 36 11 ba";

/* RFC 8448 3, {server}  extract secret "handshake": IKM (32 octets) */
static const char s3_ecdhe[] =
	"8b d4 05 4f b5 5b 9d 63 fd fb ac f9 f0 4b 9f 0d "
	"35 e6 d6 3f 53 75 63 ef d4 62 72 90 0f 89 49 2d";

/* RFC 8448 3, {server}  extract secret "handshake": secret (32 octets) */
static const char s3_handshake_secret[] =
	"1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01 "
	"04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac";

/* RFC 8448 3, {server}  derive secret "tls13 c hs traffic": hash (32 octets) */
static const char s3_hash_hello[] =
	"86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed "
	"d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8";

/* RFC 8448 3, {server}  derive secret "tls13 c hs traffic": expanded (32 octets) */
static const char s3_c_hs_traffic[] =
	"b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f "
	"3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";

/* RFC 8448 3, {server}  derive secret "tls13 s hs traffic": expanded (32 octets) */
static const char s3_s_hs_traffic[] =
	"b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 "
	"e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";

/* RFC 8448 3, {server}  derive secret for master "tls13 derived": expanded (32 octets) */
static const char s3_master_derived[] =
	"43 de 77 e0 c7 77 13 85 9a 94 4d b9 db 25 90 b5 "
	"31 90 a6 5b 3e e2 e4 f1 2d d7 a0 bb 7c e2 54 b4";

/* RFC 8448 3, {server}  extract secret "master": secret (32 octets) */
static const char s3_master_secret[] =
	"18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47 "
	"80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19";

/* RFC 8448 3, {server}  send handshake record: complete record (ServerHello) (95 octets) */
static const char s3_server_hello_record[] =
	"16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 "
	"18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb "
	"14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 "
	"2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 "
	"fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d "
	"f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";

/* RFC 8448 3, {server}  derive write traffic keys for handshake data: key expanded (16 octets) */
static const char s3_s_hs_key[] =
	"3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc";

/* RFC 8448 3, {server}  derive write traffic keys for handshake data: iv expanded (12 octets) */
static const char s3_s_hs_iv[] =
	"5d 31 3e b2 67 12 76 ee 13 00 0b 30";

/* RFC 8448 3, {server}  construct an EncryptedExtensions handshake message (40 octets) */
static const char s3_encrypted_extensions[] =
	"08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 "
	"00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c "
	"00 02 40 01 00 00 00 00";

/* RFC 8448 3, {server}  construct a Certificate handshake message (445 octets) */
static const char s3_certificate[] =
	"0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30 "
	"82 01 15 a0 03 02 01 02 02 01 02 30 0d 06 09 2a "
	"86 48 86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a "
	"06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36 "
	"30 37 33 30 30 31 32 33 35 39 5a 17 0d 32 36 30 "
	"37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a "
	"06 03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06 "
	"09 2a 86 48 86 f7 0d 01 01 01 05 00 03 81 8d 00 "
	"30 81 89 02 81 81 00 b4 bb 49 8f 82 79 30 3d 98 "
	"08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26 "
	"d3 90 1a 24 61 ea fd 2d e4 9a 91 d0 15 ab bc 9a "
	"95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12 "
	"09 98 e1 87 a8 0e e0 cc b0 52 4b 1b 01 8c 3e 0b "
	"63 26 4d 44 9a 6d 38 e2 2a 5f da 43 08 46 74 80 "
	"30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0 "
	"3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a "
	"8d 88 d7 9f 7f 1e 3f 02 03 01 00 01 a3 1a 30 18 "
	"30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55 "
	"1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86 "
	"f7 0d 01 01 0b 05 00 03 81 81 00 85 aa d2 a0 e5 "
	"b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f "
	"8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea e8 f8 a5 "
	"8c 8f 81 72 f9 31 9c f3 6b 7f d6 c5 5b 80 f2 1a "
	"03 01 51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02 "
	"70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e "
	"b7 10 7c 3c 54 e9 b9 eb 2b d5 20 3b 1c 3b 84 e0 "
	"a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8 "
	"f8 96 12 29 ac 91 87 b4 2b 4d e1 00 00";

/* RFC 8448 3, {server}  construct a CertificateVerify handshake message (136 octets) */
static const char s3_certificate_verify[] =
	"0f 00 00 84 08 04 00 80 5a 74 7c 5d 88 fa 9b d2 "
	"e5 5a b0 85 a6 10 15 b7 21 1f 82 4c d4 84 14 5a "
	"b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3 "
	"3a 5c 14 1a 07 86 53 fa 6b ef 78 0c 5e a2 48 ee "
	"aa a7 85 c4 f3 94 ca b6 d3 0b be 8d 48 59 ee 51 "
	"1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44 5c "
	"9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09 "
	"d3 be 15 2a 3d a5 04 3e 06 3d da 65 cd f5 ae a2 "
	"0d 53 df ac d4 2f 74 f3";

/* RFC 8448 3, {server}  calculate finished "tls13 finished": expanded (32 octets) */
static const char s3_s_finished_key[] =
	"00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f "
	"c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8";

/* RFC 8448 3, {server}  construct a Finished handshake message (36 octets) */
static const char s3_s_finished[] =
	"14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7 "
	"1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54 "
	"b7 8f 07 18";

/*
 * RFC 8448 3, {server}  send handshake record: complete record (EncryptedExtensions .. Finished)
 * (679 octets)
 */
static const char s3_server_flight_record[] =
	"17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 "
	"cc 87 b5 80 23 3f 50 0f 45 e4 89 e7 f3 3a f3 5e "
	"df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca "
	"07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 "
	"b1 11 b4 29 ba 91 91 cd 05 d2 a3 89 28 0f 52 61 "
	"34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b "
	"d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 "
	"02 07 16 cf b9 b1 18 3e f3 ab 20 e3 7d 57 a6 b9 "
	"d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c "
	"7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e "
	"d6 5b 0e 3c dd 0c ba e8 bf 2d 0b 22 78 12 cb b3 "
	"60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92 "
	"8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 "
	"04 79 7e 36 a6 a7 3b 70 a2 55 9c 09 ea d6 86 94 "
	"5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8 "
	"94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 "
	"45 96 c9 60 bd 59 6e ea 52 0a 56 a8 d6 50 f5 63 "
	"aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f "
	"44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 "
	"4e d6 54 0c 84 83 8d 89 f7 2c 24 46 1a ad 6d 26 "
	"f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3 "
	"6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 "
	"7b 49 ee da 0c 62 58 f1 00 d7 d9 61 ff b1 38 64 "
	"7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e "
	"1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 "
	"3d 24 3d c7 33 9d 56 84 c8 b0 37 8b f3 02 44 da "
	"8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c "
	"f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 "
	"61 e6 6f 99 88 2b d8 9f c5 08 00 be cc a6 2d 6c "
	"74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be "
	"5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 "
	"a3 96 fa 48 a1 81 d6 b6 fa 4f 9d 62 d5 13 af bb "
	"99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb "
	"56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 "
	"77 b7 c7 a6 99 9b bf 10 dc 35 ae 69 f5 51 56 14 "
	"63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38 "
	"eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 "
	"8c 31 7f c9 fa 66 a7 3f 60 f0 50 4d e9 3b 5b 84 "
	"5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78 "
	"40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 "
	"d2 af 93 98 28 fd 4a e3 79 4e 44 f9 4d f5 a6 31 "
	"ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e "
	"75 0e dc 53 37 0d 2b";

/* RFC 8448 3, {server}  derive secret "tls13 c ap traffic": hash (32 octets) */
static const char s3_hash_server_finished[] =
	"96 08 10 2a 0f 1c cc 6d b6 25 0b 7b 7e 41 7b 1a "
	"00 0e aa da 3d aa e4 77 7a 76 86 c9 ff 83 df 13";

/* RFC 8448 3, {server}  derive secret "tls13 c ap traffic": expanded (32 octets) */
static const char s3_c_ap_traffic[] =
	"9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 "
	"87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";

/* RFC 8448 3, {server}  derive secret "tls13 s ap traffic": expanded (32 octets) */
static const char s3_s_ap_traffic[] =
	"a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 "
	"82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";

/* RFC 8448 3, {server}  derive secret "tls13 exp master": expanded (32 octets) */
static const char s3_exp_master[] =
	"fe 22 f8 81 17 6e da 18 eb 8f 44 52 9e 67 92 c5 "
	"0c 9a 3f 89 45 2f 68 d8 ae 31 1b 43 09 d3 cf 50";

/* RFC 8448 3, {server}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s3_s_ap_key[] =
	"9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56";

/* RFC 8448 3, {server}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s3_s_ap_iv[] =
	"cf 78 2b 88 dd 83 54 9a ad f1 e9 84";

/* RFC 8448 3, {server}  derive read traffic keys for handshake data: key expanded (16 octets) */
static const char s3_c_hs_key[] =
	"db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01";

/* RFC 8448 3, {server}  derive read traffic keys for handshake data: iv expanded (12 octets) */
static const char s3_c_hs_iv[] =
	"5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f";

/* RFC 8448 3, {client}  calculate finished "tls13 finished": expanded (32 octets) */
static const char s3_c_finished_key[] =
	"b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8 "
	"3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4";

/* RFC 8448 3, {client}  construct a Finished handshake message (36 octets) */
static const char s3_c_finished[] =
	"14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc "
	"eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6 42 f2 "
	"ed d5 ce 61";

/* RFC 8448 3, {client}  send handshake record: complete record (Finished) (58 octets) */
static const char s3_client_finished_record[] =
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 "
	"a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc "
	"44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c "
	"ae ac ab 68 67 d7 26 c4 05 46";

/* RFC 8448 3, {client}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s3_c_ap_key[] =
	"17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51";

/* RFC 8448 3, {client}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s3_c_ap_iv[] =
	"5b 78 92 3d ee 08 57 90 33 e5 23 d9";

/* RFC 8448 3, {client}  derive secret "tls13 res master": hash (32 octets) */
static const char s3_hash_client_finished[] =
	"20 91 45 a9 6e e8 e2 a1 22 ff 81 00 47 cc 95 26 "
	"84 65 8d 60 49 e8 64 29 42 6d b8 7c 54 ad 14 3d";

/* RFC 8448 3, {client}  derive secret "tls13 res master": expanded (32 octets) */
static const char s3_res_master[] =
	"7d f2 35 f2 03 1d 2a 05 12 87 d0 2b 02 41 b0 bf "
	"da f8 6c c8 56 23 1f 2d 5a ba 46 c4 34 ec 19 6c";

/*
 * RFC 8448 3, {server}  generate resumption secret "tls13 resumption": expanded (ticket_nonce 00
 * 00) (32 octets)
 */
static const char s3_resumption[] =
	"4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5 "
	"85 1a 27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3";

/* RFC 8448 3, {server}  construct a NewSessionTicket handshake message (205 octets) */
static const char s3_new_session_ticket[] =
	"04 00 00 c9 00 00 00 1e fa d6 aa c5 02 00 00 00 "
	"b2 2c 03 5d 82 93 59 ee 5f f7 af 4e c9 00 00 00 "
	"00 26 2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf "
	"1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a "
	"bc 55 cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 "
	"43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27 "
	"db 27 9c ce 14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 "
	"9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 "
	"51 3e 3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 "
	"bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 "
	"6f ac 5c 03 27 2e 97 07 27 c6 21 a7 91 41 ef 5f "
	"7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a "
	"e4 d3 57 00 08 00 2a 00 04 00 00 04 00";

/* RFC 8448 3, {server}  send handshake record: complete record (NewSessionTicket) (227 octets) */
static const char s3_new_session_ticket_record[] =
	"17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 "
	"87 68 0d e5 13 4a 2b 24 0e 6c ff ac 11 6e 95 d4 "
	"1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a "
	"01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 "
	"8e fb cf 57 53 ad 8e f1 70 ad 3c 73 53 d1 6d 9d "
	"a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0 "
	"9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 "
	"9b 29 99 ce 13 06 46 15 13 98 91 d5 e4 c5 b4 06 "
	"f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 "
	"f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 "
	"9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64 f6 "
	"50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74 "
	"bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 "
	"86 96 12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 59 "
	"85 68 4f";

/* RFC 8448 3, {client} and {server}  send application_data record: payload (50 octets) */
static const char s3_application_data[] =
	"00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f "
	"10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f "
	"20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f "
	"30 31";

/* RFC 8448 3, {client}  send application_data record: complete record (72 octets) */
static const char s3_client_application_record[] =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe "
	"82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f "
	"2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b "
	"62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 "
	"3a ee bb 21 69 49 15 e4";

/* RFC 8448 3, {server}  send application_data record: complete record (72 octets) */
static const char s3_server_application_record[] =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad "
	"36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa 1b 36 "
	"e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 "
	"fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 "
	"0d d0 32 e1 67 c2 95 5d";

/* RFC 8448 3, {client}  send alert record: complete record (close_notify) (24 octets) */
static const char s3_client_alert_record[] =
	"17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 "
	"15 3e fd 6d b6 d0 b0 e3";

/* RFC 8448 3, {server}  send alert record: complete record (close_notify) (24 octets) */
static const char s3_server_alert_record[] =
	"17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 "
	"cf be 7e fa 7a 88 64 a9";

/* ---- RFC 8448 section 5: HelloRetryRequest ---- */

/* RFC 8448 5, {client}  create an ephemeral x25519 key pair: private key (32 octets) */
static const char s5_client_x25519_private[] =
	"0e d0 2f 8e 81 17 ef c7 5c a7 ac 32 aa 7e 34 ed "
	"a6 4c dc 0d da d1 54 a5 e8 52 89 f9 59 f6 32 04";

/* RFC 8448 5, {client}  create an ephemeral x25519 key pair: public key (32 octets) */
static const char s5_client_x25519_public[] =
	"e8 e8 e3 f3 b9 3a 25 ed 97 a1 4a 7d ca cb 8a 27 "
	"2c 62 88 e5 85 c6 48 4d 05 26 2f ca d0 62 ad 1f";

/* RFC 8448 5, {client}  send handshake record: complete record (first ClientHello) (185 octets) */
static const char s5_client_hello1_record[] =
	"16 03 01 00 b4 01 00 00 b0 03 03 b0 b1 c5 a5 aa "
	"37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 "
	"5a 2b 8c ee 92 58 a3 46 67 7b 6f 00 00 06 13 01 "
	"13 03 13 02 01 00 00 81 00 00 00 0b 00 09 00 00 "
	"06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 08 "
	"00 06 00 1d 00 17 00 18 00 33 00 26 00 24 00 1d "
	"00 20 e8 e8 e3 f3 b9 3a 25 ed 97 a1 4a 7d ca cb "
	"8a 27 2c 62 88 e5 85 c6 48 4d 05 26 2f ca d0 62 "
	"ad 1f 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 "
	"03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 "
	"01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 "
	"02 01 01 00 1c 00 02 40 01";

/* RFC 8448 5, {server}  send handshake record: complete record (HelloRetryRequest) (181 octets) */
static const char s5_hello_retry_request_record[] =
	"16 03 03 00 b0 02 00 00 ac 03 03 cf 21 ad 74 e5 "
	"9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2 11 16 7a "
	"bb 8c 5e 07 9e 09 e2 c8 a8 33 9c 00 13 01 00 00 "
	"84 00 33 00 02 00 17 00 2c 00 74 00 72 71 dc d0 "
	"4b b8 8b c3 18 91 19 39 8a 00 00 00 00 ee fa fc "
	"76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 "
	"3f 4e df 62 56 36 e5 f2 1b b2 e2 3f cc 65 4b 1b "
	"5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3 6e 8a 1f "
	"02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b "
	"e7 78 25 7d 16 aa 30 30 e9 e7 84 1d d9 e4 c0 34 "
	"22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9 34 b0 00 "
	"2b 00 02 03 04";

/* RFC 8448 5, {client}  create an ephemeral P-256 key pair: private key (32 octets) */
static const char s5_client_p256_private[] =
	"ab 54 73 46 7e 19 34 6c eb 0a 04 14 e4 1d a2 1d "
	"4d 24 45 bc 30 25 af e9 7c 4e 8d c8 d5 13 da 39";

/* RFC 8448 5, {client}  create an ephemeral P-256 key pair: public key (65 octets) */
static const char s5_client_p256_public[] =
	"04 a6 da 73 92 ec 59 1e 17 ab fd 53 59 64 b9 98 "
	"94 d1 3b ef b2 21 b3 de f2 eb e3 83 0e ac 8f 01 "
	"51 81 26 77 c4 d6 d2 23 7e 85 cf 01 d6 91 0c fb "
	"83 95 4e 76 ba 73 52 83 05 34 15 98 97 e8 06 57 "
	"80";

/* RFC 8448 5, {client}  send handshake record: complete record (second ClientHello) (517 octets) */
static const char s5_client_hello2_record[] =
	"16 03 03 02 00 01 00 01 fc 03 03 b0 b1 c5 a5 aa "
	"37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84 97 16 94 "
	"5a 2b 8c ee 92 58 a3 46 67 7b 6f 00 00 06 13 01 "
	"13 03 13 02 01 00 01 cd 00 00 00 0b 00 09 00 00 "
	"06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 08 "
	"00 06 00 1d 00 17 00 18 00 33 00 47 00 45 00 17 "
	"00 41 04 a6 da 73 92 ec 59 1e 17 ab fd 53 59 64 "
	"b9 98 94 d1 3b ef b2 21 b3 de f2 eb e3 83 0e ac "
	"8f 01 51 81 26 77 c4 d6 d2 23 7e 85 cf 01 d6 91 "
	"0c fb 83 95 4e 76 ba 73 52 83 05 34 15 98 97 e8 "
	"06 57 80 00 2b 00 03 02 03 04 00 0d 00 20 00 1e "
	"04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 "
	"05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2c "
	"00 74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a "
	"00 00 00 00 ee fa fc 76 c1 46 b8 23 b0 96 f8 aa "
	"ca d3 65 dd 00 30 95 3f 4e df 62 56 36 e5 f2 1b "
	"b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb "
	"b8 75 74 e3 6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b "
	"5e da 4a a1 5b 0c 8b e7 78 25 7d 16 aa 30 30 e9 "
	"e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 "
	"b7 cf f0 f9 34 b0 00 2d 00 02 01 01 00 1c 00 02 "
	"40 01 00 15 00 af 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
	"00 00 00 00 00";

/* RFC 8448 5, {server}  create an ephemeral P-256 key pair: private key (32 octets) */
static const char s5_server_p256_private[] =
	"8c 51 06 01 f9 76 5b fb 8e d6 93 44 9a 48 98 98 "
	"59 b5 cf a8 79 cb 9f 54 43 c4 1c 5f f1 06 34 ed";

/* RFC 8448 5, {server}  create an ephemeral P-256 key pair: public key (65 octets) */
static const char s5_server_p256_public[] =
	"04 58 3e 05 4b 7a 66 67 2a e0 20 ad 9d 26 86 fc "
	"c8 5b 5a d4 1a 13 4a 0f 03 ee 72 b8 93 05 2b d8 "
	"5b 4c 8d e6 77 6f 5b 04 ac 07 d8 35 40 ea b3 e3 "
	"d9 c5 47 bc 65 28 c4 31 7d 29 46 86 09 3a 6c ad "
	"7d";

/* RFC 8448 5, {server}  send handshake record: complete record (ServerHello) (128 octets) */
static const char s5_server_hello_record[] =
	"16 03 03 00 7b 02 00 00 77 03 03 bb 34 1d 84 7f "
	"d7 89 c4 7c 38 71 72 dc 0c 9b f1 47 fc ca cb 50 "
	"43 d8 6c a4 c5 98 d3 ff 57 1b 98 00 13 01 00 00 "
	"4f 00 33 00 45 00 17 00 41 04 58 3e 05 4b 7a 66 "
	"67 2a e0 20 ad 9d 26 86 fc c8 5b 5a d4 1a 13 4a "
	"0f 03 ee 72 b8 93 05 2b d8 5b 4c 8d e6 77 6f 5b "
	"04 ac 07 d8 35 40 ea b3 e3 d9 c5 47 bc 65 28 c4 "
	"31 7d 29 46 86 09 3a 6c ad 7d 00 2b 00 02 03 04";

/* RFC 8448 5, {server}  extract secret "handshake": IKM (32 octets) */
static const char s5_ecdhe[] =
	"c1 42 ce 13 ca 11 b5 c2 23 36 52 e6 3a d3 d9 78 "
	"44 f1 62 1f bf b9 de 69 d5 47 dc 8f ed ea be b4";

/* RFC 8448 5, {server}  extract secret "handshake": secret (32 octets) */
static const char s5_handshake_secret[] =
	"ce 02 2e 5e 6e 81 e5 07 36 d7 73 f2 d3 ad fc e8 "
	"22 0d 04 9b f5 10 f0 db fa c9 27 ef 42 43 b1 48";

/*
 * RFC 8448 5, {server}  derive secret "tls13 c hs traffic": hash (message_hash,
 * HelloRetryRequest, ClientHello, ServerHello) (32 octets)
 */
static const char s5_hash_hello[] =
	"8a a8 e8 28 ec 2f 8a 88 4f ec 95 a3 13 9d e0 1c "
	"15 a3 da a7 ff 5b fc 3f 4b fc c2 1b 43 8d 7b f8";

/* RFC 8448 5, {server}  derive secret "tls13 c hs traffic": expanded (32 octets) */
static const char s5_c_hs_traffic[] =
	"15 8a a7 ab 88 55 07 35 82 b4 1d 67 4b 40 55 ca "
	"bc c5 34 72 8f 65 93 14 86 1b 4e 08 e2 01 15 66";

/* RFC 8448 5, {server}  derive secret "tls13 s hs traffic": expanded (32 octets) */
static const char s5_s_hs_traffic[] =
	"34 03 e7 81 e2 af 7b 65 08 da 28 57 4f 6e 95 a1 "
	"ab f1 62 de 83 a9 79 27 c3 76 72 a4 a0 ce f8 a1";

/* RFC 8448 5, {server}  derive secret for master "tls13 derived": expanded (32 octets) */
static const char s5_master_derived[] =
	"ad 1c bc d3 a0 dc 70 53 ee b3 ed 3a 47 90 1d 16 "
	"a9 fc 63 a7 3c 64 be b5 67 48 1a 7d fb 3a 2c b3";

/* RFC 8448 5, {server}  extract secret "master": secret (32 octets) */
static const char s5_master_secret[] =
	"11 31 54 5d 0b af 79 dd ce 9b 87 f0 69 45 78 1a "
	"57 dd 18 ef 37 8d cd 20 60 f8 f9 a5 69 02 7e d8";

/* RFC 8448 5, {server}  derive write traffic keys for handshake data: key expanded (16 octets) */
static const char s5_s_hs_key[] =
	"46 46 bf ac 17 12 c4 26 cd 78 d8 a2 4a 8a 6f 6b";

/* RFC 8448 5, {server}  derive write traffic keys for handshake data: iv expanded (12 octets) */
static const char s5_s_hs_iv[] =
	"c7 d3 95 c0 8d 62 f2 97 d1 37 68 ea";

/* RFC 8448 5, {server}  construct an EncryptedExtensions handshake message (28 octets) */
static const char s5_encrypted_extensions[] =
	"08 00 00 18 00 16 00 0a 00 08 00 06 00 17 00 18 "
	"00 1d 00 1c 00 02 40 01 00 00 00 00";

/* RFC 8448 5, {server}  construct a CertificateVerify handshake message (136 octets) */
static const char s5_certificate_verify[] =
	"0f 00 00 84 08 04 00 80 33 ab 13 d4 46 27 07 23 "
	"1b 5d ca e6 c8 19 0b 63 d1 da bc 74 f2 8c 39 53 "
	"70 da 0b 07 e5 b8 30 66 d0 24 6a 31 ac d9 5d f4 "
	"75 bf d7 99 a4 a7 0d 33 ad 93 d3 a3 17 a9 b2 c0 "
	"d2 37 a5 68 5b 21 9e 77 41 12 e3 91 a2 47 60 7d "
	"1a ef f1 bb d0 a3 9f 38 2e e1 a5 fe 88 ae 99 ec "
	"59 22 8e 64 97 e4 5d 48 ce 27 5a 6d 5e f4 0d 16 "
	"9f b6 f9 d3 3b 05 2e d3 dc dd 6b 5a 48 ba af ff "
	"bc b2 90 12 84 15 bd 38";

/* RFC 8448 5, {server}  construct a Finished handshake message (36 octets) */
static const char s5_s_finished[] =
	"14 00 00 20 88 63 e6 bf b0 42 0a 92 7f a2 7f 34 "
	"33 6a 70 ae 42 6e 96 8e 3e b8 84 94 5b 96 85 6d "
	"ba 39 76 d1";

/*
 * RFC 8448 5, {server}  send handshake record: complete record (EncryptedExtensions .. Finished)
 * (667 octets)
 */
static const char s5_server_flight_record[] =
	"17 03 03 02 96 99 be e2 0b af 5b 7f c7 27 bf ab "
	"62 23 92 8a 38 1e 6d 0c f9 c4 da 65 3f 9d 2a 7b "
	"23 f7 de 11 cc e8 42 d5 cf 75 63 17 63 45 0f fb "
	"8b 0c c1 d2 38 e6 58 af 7a 12 ad c8 62 43 11 4a "
	"b1 4a 1d a2 fa e4 26 21 ce 48 3f b6 24 2e ab fa "
	"ad 52 56 6b 02 b3 1d 2e dd ed ef eb 80 e6 6a 99 "
	"00 d5 f9 73 b4 0c 4f df 74 71 9e cf 1b 68 d7 f9 "
	"c3 b6 ce b9 03 ca 13 dd 1b b8 f8 18 7a e3 34 17 "
	"e1 d1 52 52 2c 58 22 a1 a0 3a d5 2c 83 8c 55 95 "
	"3d 61 02 22 87 4c ce 8e 17 90 b2 29 a2 aa 0b 53 "
	"c8 d3 77 ee 72 01 82 95 1d c6 18 1d c5 d9 0b d1 "
	"f0 10 5e d1 e8 4a a5 f7 59 57 c6 66 18 97 07 9e "
	"5e a5 00 74 49 e3 19 7b dc 7c 9b ee ed dd ea fd "
	"d8 44 af a5 c3 15 ec fe 65 e5 76 af e9 09 81 28 "
	"80 62 0e c7 04 8b 42 d7 f5 c7 8d 76 f2 99 d6 d8 "
	"25 34 bd d8 f5 12 fe bc 0e d3 81 4a ca 47 0c d8 "
	"00 0d 3e 1c b9 96 2b 05 2f bb 95 0d f6 83 a5 2c "
	"2b a7 7e d3 71 3b 12 29 37 a6 e5 17 09 64 e2 ab "
	"79 69 dc d9 80 b3 db 9b 45 8d a7 60 31 24 d6 dc "
	"00 5e 4d 6e 04 b4 d0 c4 ba f3 27 5d b8 27 db ba "
	"0a 6d b0 96 72 17 1f c0 57 b3 85 1d 7e 02 68 41 "
	"e2 97 8f bd 23 46 bb ef dd 03 76 bb 11 08 fe 9a "
	"cc 92 18 9f 56 50 aa 5e 85 d8 e8 c7 b6 7a c5 10 "
	"db a0 03 d3 d7 e1 63 50 bb 66 d4 50 13 ef d4 4c "
	"9b 60 7c 0d 31 8c 4c 7d 1a 1f 5c bc 57 e2 06 11 "
	"80 4e 37 87 d7 b4 a4 b5 f0 8e d8 fd 70 bd ae ad "
	"e0 22 60 b1 2a b8 42 ef 69 0b 4a 3e e7 91 1e 84 "
	"1b 37 4e cd 5e bb bc 2a 54 d0 47 b6 00 33 6d d7 "
	"d0 c8 8b 4b c1 0e 58 ee 6c b6 56 de 72 47 fa 20 "
	"d8 e9 1d eb 84 62 86 08 cf 80 61 5b 62 e9 6c 14 "
	"91 c7 ac 37 55 eb 69 01 40 5d 34 74 fe 1a c7 9d "
	"10 6a 0c ee 56 c2 57 7f c8 84 80 f9 6c b6 b8 c6 "
	"81 b7 b6 8b 53 c1 46 09 39 08 f3 50 88 81 75 bd "
	"fb 0b 1e 31 ad 61 e3 0b a0 ad fe 6d 22 3a a0 3c "
	"07 83 b5 00 1a 57 58 7c 32 8a 9a fc fc fb 97 8d "
	"1c d4 32 8f 7d 9d 60 53 0e 63 0b ef d9 6c 0c 81 "
	"6e e2 0b 01 00 76 8a e2 a6 df 51 fc 68 f1 72 74 "
	"0a 79 af 11 39 8e e3 be 12 52 49 1f a9 c6 93 47 "
	"9e 87 7f 94 ab 7c 5f 8c ad 48 02 03 e6 ab 7b 87 "
	"dd 71 e8 a0 72 91 13 df 17 f5 ee e8 6c e1 08 d1 "
	"d7 20 07 ec 1c d1 3c 85 a6 c1 49 62 1e 77 b7 d7 "
	"8d 80 5a 30 f0 be 03 0c 31 5e 54";

/* RFC 8448 5, {server}  derive secret "tls13 c ap traffic": hash (32 octets) */
static const char s5_hash_server_finished[] =
	"50 f6 3c bf 36 b0 dd 04 9e 7a 0b a2 7d 64 55 74 "
	"5e a2 aa ac 54 bb 16 7f 99 50 b2 b7 ce 95 09 da";

/* RFC 8448 5, {server}  derive secret "tls13 c ap traffic": expanded (32 octets) */
static const char s5_c_ap_traffic[] =
	"75 ec f4 b9 72 52 5a a0 dc d0 57 c9 94 4d 4c d5 "
	"d8 26 71 d8 84 31 41 d7 dc 2a 4f f1 5a 21 dc 51";

/* RFC 8448 5, {server}  derive secret "tls13 s ap traffic": expanded (32 octets) */
static const char s5_s_ap_traffic[] =
	"5c 74 f8 7d f0 42 25 db 0f 82 09 c9 de 64 29 e4 "
	"94 35 fd ef a7 ca d6 18 64 87 4d 12 f3 1c fc 8d";

/* RFC 8448 5, {server}  derive secret "tls13 exp master": expanded (32 octets) */
static const char s5_exp_master[] =
	"7c 06 d3 ae 10 6a 3a 37 4a ce 48 37 b3 98 5c ac "
	"67 78 0a 6e 2c 5c 04 b5 83 19 d5 84 df 09 d2 23";

/* RFC 8448 5, {server}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s5_s_ap_key[] =
	"f2 7a 5d 97 bd 25 55 0c 48 23 b0 f3 e5 d2 93 88";

/* RFC 8448 5, {server}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s5_s_ap_iv[] =
	"0d d6 31 f7 b7 1c bb c7 97 c3 5f e7";

/* RFC 8448 5, {server}  derive read traffic keys for handshake data: key expanded (16 octets) */
static const char s5_c_hs_key[] =
	"2f 1f 91 86 63 d5 90 e7 42 11 49 a2 9d 94 b0 b6";

/* RFC 8448 5, {server}  derive read traffic keys for handshake data: iv expanded (12 octets) */
static const char s5_c_hs_iv[] =
	"41 4d 54 85 23 5e 1a 68 87 93 bd 74";

/* RFC 8448 5, {client}  send handshake record: complete record (Finished) (58 octets) */
static const char s5_client_finished_record[] =
	"17 03 03 00 35 d7 4f 19 23 c6 62 fd 34 13 7c 6f "
	"50 2f 3d d2 b9 3d 95 1d 1b 3b c9 7e 42 af e2 3c "
	"31 ab ea 92 fe 91 b4 74 99 9e 85 e3 b7 91 ce 25 "
	"2f e8 c3 e9 f9 39 a4 12 0c b2";

/* RFC 8448 5, {client}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s5_c_ap_key[] =
	"a7 eb 2a 05 25 eb 43 31 d5 8f cb f9 f7 ca 2e 9c";

/* RFC 8448 5, {client}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s5_c_ap_iv[] =
	"86 e8 be 22 7c 1b d2 b3 e3 9c b4 44";

/* RFC 8448 5, {client}  derive secret "tls13 res master": expanded (32 octets) */
static const char s5_res_master[] =
	"09 17 0c 6d 47 27 21 56 6f 9c f9 9b 08 69 9d af "
	"f5 61 ec 8f b2 2d 5a 32 c3 f9 4c e0 09 b6 99 75";

/* RFC 8448 5, {client}  send alert record: complete record (close_notify) (24 octets) */
static const char s5_client_alert_record[] =
	"17 03 03 00 13 2e a6 cd f7 49 19 60 23 e2 b3 a4 "
	"94 91 69 55 36 42 60 47";

/* RFC 8448 5, {server}  send alert record: complete record (close_notify) (24 octets) */
static const char s5_server_alert_record[] =
	"17 03 03 00 13 51 9f c5 07 5c b0 88 43 49 75 9f "
	"f9 ef 6f 01 1b b4 c6 f2";

/* ---- RFC 8448 section 6: Client Authentication ---- */

/* RFC 8448 6, {client}  create an ephemeral x25519 key pair: private key (32 octets) */
static const char s6_client_private[] =
	"c0 40 b2 bb 8f 3a dd d2 0f d4 05 8c 54 70 03 a3 "
	"c6 f9 c1 cd 91 5d 5e 53 5c 87 d8 d1 91 aa f0 71";

/* RFC 8448 6, {client}  create an ephemeral x25519 key pair: public key (32 octets) */
static const char s6_client_public[] =
	"08 9c c2 67 1f 73 8d 9a 67 1e 5b 2e 46 49 81 d0 "
	"5b 76 e3 61 aa 22 ae a9 1f 1d 49 ca 10 a7 a3 62";

/* RFC 8448 6, {client}  send handshake record: complete record (ClientHello) (197 octets) */
static const char s6_client_hello_record[] =
	"16 03 01 00 c0 01 00 00 bc 03 03 6a 47 22 36 32 "
	"8b 83 af 40 38 6d 3a 3e 1f 1c e6 24 fa 4e d8 9a "
	"b8 65 a4 ff 0f 41 44 ce 3a e2 33 00 00 06 13 01 "
	"13 03 13 02 01 00 00 8d 00 00 00 0b 00 09 00 00 "
	"06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 "
	"00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 "
	"01 03 01 04 00 33 00 26 00 24 00 1d 00 20 08 9c "
	"c2 67 1f 73 8d 9a 67 1e 5b 2e 46 49 81 d0 5b 76 "
	"e3 61 aa 22 ae a9 1f 1d 49 ca 10 a7 a3 62 00 2b "
	"00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 "
	"03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 "
	"01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 "
	"1c 00 02 40 01";

/* RFC 8448 6, {server}  create an ephemeral x25519 key pair: private key (32 octets) */
static const char s6_server_private[] =
	"73 82 a5 ad 1c dd 20 56 ae 18 cc 70 8b d0 07 d9 "
	"81 30 db e2 cd 4d 9e ad 9b 96 95 2b ec bb 08 88";

/* RFC 8448 6, {server}  create an ephemeral x25519 key pair: public key (32 octets) */
static const char s6_server_public[] =
	"6c 2e 50 e8 65 91 9a 6b 5a 12 df af 91 8f 92 b4 "
	"42 56 7b 0f 89 bc 54 47 8c 69 21 36 66 58 f0 62";

/* RFC 8448 6, {server}  send handshake record: complete record (ServerHello) (95 octets) */
static const char s6_server_hello_record[] =
	"16 03 03 00 5a 02 00 00 56 03 03 3b 50 fd f1 c3 "
	"d5 72 e4 0e 68 95 3e 7f ff 4e 27 58 45 9c 59 af "
	"a0 58 2c 0e a0 32 87 42 55 fe 6e 00 13 01 00 00 "
	"2e 00 33 00 24 00 1d 00 20 6c 2e 50 e8 65 91 9a "
	"6b 5a 12 df af 91 8f 92 b4 42 56 7b 0f 89 bc 54 "
	"47 8c 69 21 36 66 58 f0 62 00 2b 00 02 03 04";

/* RFC 8448 6, {server}  extract secret "handshake": secret (32 octets) */
static const char s6_handshake_secret[] =
	"d9 95 24 36 74 fb 64 00 d7 d3 7b c0 e9 86 1b db "
	"d9 ed 09 56 01 dc f2 99 48 74 f2 80 3d e2 2e 39";

/* RFC 8448 6, {server}  derive secret "tls13 c hs traffic": expanded (32 octets) */
static const char s6_c_hs_traffic[] =
	"ce c7 a3 0c 68 72 07 0f 22 a7 ee b0 65 76 8d b6 "
	"7c 45 e2 95 33 db 87 99 08 ce 6d c6 6f 59 11 de";

/* RFC 8448 6, {server}  derive secret "tls13 s hs traffic": expanded (32 octets) */
static const char s6_s_hs_traffic[] =
	"8b 02 d3 c0 04 42 a2 72 2c 40 98 eb e8 67 5b 23 "
	"e8 01 51 0f 0d 7e d7 78 d8 eb 0b 8f 42 a1 9a 5e";

/* RFC 8448 6, {server}  derive secret for master "tls13 derived": expanded (32 octets) */
static const char s6_master_derived[] =
	"74 57 55 26 b0 7c 81 a9 c1 b1 7e 6b 34 e0 e6 d0 "
	"84 74 7a 61 f3 96 f5 97 eb b9 2c 07 36 ec 60 e8";

/* RFC 8448 6, {server}  extract secret "master": secret (32 octets) */
static const char s6_master_secret[] =
	"57 c1 5d 7b 9d 44 1b 3d 40 a9 c6 ea 8a 3d 73 0e "
	"07 b3 a1 ea 7a 33 39 ed 70 70 b9 a7 4a 3f 4f 28";

/* RFC 8448 6, {server}  derive write traffic keys for handshake data: key expanded (16 octets) */
static const char s6_s_hs_key[] =
	"6c b6 e6 06 19 d8 c7 35 5c 5d 4c 4b c2 be 90 d5";

/* RFC 8448 6, {server}  derive write traffic keys for handshake data: iv expanded (12 octets) */
static const char s6_s_hs_iv[] =
	"64 f2 39 53 0c 3b 88 8f de 85 e0 be";

/* RFC 8448 6, {server}  construct a CertificateRequest handshake message (43 octets) */
static const char s6_certificate_request[] =
	"0d 00 00 27 00 00 24 00 0d 00 20 00 1e 04 03 05 "
	"03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 "
	"01 02 01 04 02 05 02 06 02 02 02";

/* RFC 8448 6, {server}  construct a Certificate handshake message (ECDSA P-256) (319 octets) */
static const char s6_server_certificate[] =
	"0b 00 01 3b 00 00 01 37 00 01 32 30 82 01 2e 30 "
	"81 d5 a0 03 02 01 02 02 01 07 30 0a 06 08 2a 86 "
	"48 ce 3d 04 03 02 30 13 31 11 30 0f 06 03 55 04 "
	"03 13 08 65 63 64 73 61 32 35 36 30 1e 17 0d 31 "
	"36 30 37 33 30 30 31 32 34 30 30 5a 17 0d 32 36 "
	"30 37 33 30 30 31 32 34 30 30 5a 30 13 31 11 30 "
	"0f 06 03 55 04 03 13 08 65 63 64 73 61 32 35 36 "
	"30 59 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a "
	"86 48 ce 3d 03 01 07 03 42 00 04 08 d5 30 16 15 "
	"75 f4 cf e7 f1 54 ee 34 48 18 00 86 00 1e 88 43 "
	"1a 79 ee 62 ee 6e 2f 83 ef 38 ba 61 e9 fb 37 f3 "
	"4e 00 7a 7d f4 d2 f5 b5 6d 1f 04 ec e4 5d 62 1f "
	"46 84 06 f5 c3 a1 51 58 94 8d d0 a3 1a 30 18 30 "
	"09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55 1d "
	"0f 04 04 03 02 07 80 30 0a 06 08 2a 86 48 ce 3d "
	"04 03 02 03 48 00 30 45 02 21 00 df 30 fd 45 07 "
	"f5 ed d2 2c 1a 6f f8 6d b4 79 ca 69 3f ee ca 3b "
	"71 b3 f9 ef 55 6b 29 37 c0 59 4d 02 20 62 e2 a4 "
	"72 50 d3 20 fe a8 3c 7e 2d cb 5b 76 a5 0e 02 00 "
	"c0 9a db d1 3f ee 94 6e 51 3e 01 1d 11 00 00";

/* RFC 8448 6, {server}  construct a CertificateVerify handshake message (79 octets) */
static const char s6_server_certificate_verify[] =
	"0f 00 00 4b 04 03 00 47 30 45 02 21 00 d7 a4 d3 "
	"4b d5 4f 55 fe e1 a8 96 25 67 8c 3d d5 e5 f6 0d "
	"ac 73 ec 94 0c 5c 7b 93 04 a0 20 84 a9 02 20 28 "
	"9f 59 5e d4 88 b9 ac 68 9a 3d 19 2b 1a 8b b3 8f "
	"34 af 78 74 c0 59 c9 80 6a 1f 38 26 93 53 e8";

/* RFC 8448 6, {server}  construct a Finished handshake message (36 octets) */
static const char s6_s_finished[] =
	"14 00 00 20 93 b7 0c df 47 81 98 5b 96 34 5c aa "
	"c7 01 b4 e7 50 d3 04 2d f1 a6 89 d8 fa ca 81 22 "
	"51 11 3c 11";

/*
 * RFC 8448 6, {server}  send handshake record: complete record (EncryptedExtensions .. Finished)
 * (539 octets)
 */
static const char s6_server_flight_record[] =
	"17 03 03 02 16 6d 0a 7a c0 79 b3 2a 94 aa 68 c4 "
	"e2 89 3e 8b d0 d3 c1 85 f5 49 c2 36 fb bc e3 d6 "
	"47 f0 8f 3c 94 a2 bf 42 4d 87 08 88 36 05 ad 89 "
	"55 f9 77 18 b0 21 3d ea d1 3d fb 23 eb b8 38 1d "
	"a5 82 75 66 12 bc b5 a5 d4 08 47 71 9f be 9f 17 "
	"9b fa e6 56 f3 ec fd 59 a4 c0 d3 51 32 ce 41 8a "
	"7e 46 f6 b6 a6 06 22 f8 a6 c0 6b 28 d8 33 60 16 "
	"35 63 be 9c 37 f9 7e b9 02 32 69 24 a7 2b 3e d8 "
	"c8 38 12 77 d1 58 1c ab 9c 37 15 ac 24 01 39 84 "
	"67 ad 7e bf ab 3d 0c 34 19 e7 50 10 4f 7d 62 c5 "
	"02 79 01 f2 e4 cd 4c a5 b8 07 1e b0 3d 3c 73 2d "
	"83 21 50 66 df c4 d2 91 d4 c1 ff 3b 8d 7e 42 98 "
	"f6 77 d4 d5 1d ea 11 68 d8 f1 6c b2 7b a4 02 66 "
	"31 3a 1f ed f9 e2 3c c7 7f 76 54 50 f9 e9 6f 05 "
	"d0 8f 3d a2 45 b1 4d 49 46 f0 7e c8 1e ed 6d 56 "
	"f2 6b d5 74 f0 b7 f7 c7 04 70 37 c1 6f ce 3b 23 "
	"75 4e 66 2f ad 73 e2 b7 21 3f 6a f2 96 76 9c 99 "
	"a1 d3 8e 62 32 e0 ec 8d c4 f8 4d 6a a6 f7 de 38 "
	"87 be 00 57 86 2f 90 18 e0 ab 39 67 05 aa 40 90 "
	"ab 5f 2d ff 63 25 a5 57 e7 32 0d 4e ff d4 6b b4 "
	"f9 97 d1 63 20 7c ce 66 65 29 4a a4 46 55 41 e3 "
	"fe 37 ee 73 50 65 9e a5 50 d6 dc b6 af 3c 51 88 "
	"52 c7 a1 4c 3c c1 5b c3 2b 32 73 bd f1 75 1d a1 "
	"84 20 31 35 b1 17 d3 00 20 4f b1 2d 58 ca 9a c3 "
	"4b 68 ec a2 70 30 83 2f 7a 4b 46 d2 a5 57 57 f6 "
	"3f e8 f6 e8 5a c4 74 69 e6 19 8d a8 8a 64 58 6b "
	"f2 3c 69 59 0d e8 22 26 3b e7 5f d8 36 84 72 40 "
	"c4 8f 8c 14 5c d6 bd 69 89 62 e7 ed c2 34 eb e5 "
	"92 31 35 1e ef 8d 76 52 cf 3b 08 ab 3a f6 e5 ec "
	"74 c5 8a 8d a3 4b 39 f9 b0 d6 c4 27 9a 9a 1f 82 "
	"07 17 29 e7 05 9d d7 f7 b9 5b 94 33 c4 68 4c e1 "
	"89 1a 6d 33 43 2d 52 ed db 0b 8c ee 91 81 d4 03 "
	"ec cc 12 99 1f 1a d4 aa 62 c3 60 49 71 3a 7b b1 "
	"35 fd da 66 61 a0 5a 93 f8 c1 6f";

/* RFC 8448 6, {server}  derive secret "tls13 c ap traffic": expanded (32 octets) */
static const char s6_c_ap_traffic[] =
	"73 c2 e8 90 fa 8d 06 72 58 d6 d5 0f a9 2f e4 56 "
	"b0 98 cf 00 d9 72 7e ed 91 e8 89 2e f4 e6 f8 60";

/* RFC 8448 6, {server}  derive secret "tls13 s ap traffic": expanded (32 octets) */
static const char s6_s_ap_traffic[] =
	"c4 9a 91 fa f5 7f 8c 54 5d 50 48 a0 15 bf 84 9f "
	"f6 39 42 e4 a7 ed cd 31 9f 8b 43 8a 97 c5 2e 21";

/* RFC 8448 6, {server}  derive secret "tls13 exp master": expanded (32 octets) */
static const char s6_exp_master[] =
	"05 2e 39 79 5e 5f 2b e6 e4 e0 97 4c fd d8 6c 6a "
	"7a fe 3e 57 e5 58 98 10 a3 cc cf 64 29 58 be b2";

/* RFC 8448 6, {server}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s6_s_ap_key[] =
	"88 b3 12 3d de ca df 8c 1b a2 98 e2 c1 81 76 b0";

/* RFC 8448 6, {server}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s6_s_ap_iv[] =
	"4e 09 78 51 3f 9d e8 32 7c 08 e4 f3";

/* RFC 8448 6, {server}  derive read traffic keys for handshake data: key expanded (16 octets) */
static const char s6_c_hs_key[] =
	"91 69 48 f7 28 d9 82 3f a4 1a 00 4d 08 3f 21 7f";

/* RFC 8448 6, {server}  derive read traffic keys for handshake data: iv expanded (12 octets) */
static const char s6_c_hs_iv[] =
	"64 15 3d 79 ba c9 ea 10 ca 5a 0a 88";

/* RFC 8448 6, {client}  construct a Certificate handshake message (RSA, "client") (451 octets) */
static const char s6_client_certificate[] =
	"0b 00 01 bf 00 00 01 bb 00 01 b6 30 82 01 b2 30 "
	"82 01 1b a0 03 02 01 02 02 01 01 30 0d 06 09 2a "
	"86 48 86 f7 0d 01 01 0b 05 00 30 11 31 0f 30 0d "
	"06 03 55 04 03 13 06 63 6c 69 65 6e 74 30 1e 17 "
	"0d 31 36 30 37 33 30 30 31 32 33 35 39 5a 17 0d "
	"32 36 30 37 33 30 30 31 32 33 35 39 5a 30 11 31 "
	"0f 30 0d 06 03 55 04 03 13 06 63 6c 69 65 6e 74 "
	"30 81 9f 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01 "
	"05 00 03 81 8d 00 30 81 89 02 81 81 00 c3 81 75 "
	"e0 04 a6 8d 09 3f 82 3b 9c 37 9d 20 1f bc 0b b7 "
	"a1 c7 91 90 5e 3f bf 76 84 7e 44 e7 51 eb bc d3 "
	"60 bd 94 5c 81 e5 22 2b cc 88 46 d3 a8 a0 f9 3e "
	"9b f5 be ba bd 92 ed f1 de 1f f1 90 21 70 3e 7a "
	"b6 c0 90 15 13 f9 7e 39 b1 11 f0 9c 93 48 97 1c "
	"7b 21 19 84 a7 54 cd 45 fe 09 5a f0 ea 42 36 82 "
	"9b cc f7 a7 fe 9b 28 88 e7 8a b4 77 69 0a 5b 9e "
	"1c cb e9 1c 6a 4a 0f 97 a7 e0 28 42 01 02 03 01 "
	"00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04 02 30 "
	"00 30 0b 06 03 55 1d 0f 04 04 03 02 07 80 30 0d "
	"06 09 2a 86 48 86 f7 0d 01 01 0b 05 00 03 81 81 "
	"00 1a 7a 5a 01 85 32 b0 22 af 07 67 d4 86 16 0c "
	"ff 2d 16 7a 19 15 d2 38 35 b5 45 94 91 6d c6 80 "
	"be 5d 2e 62 60 76 c5 d5 27 22 eb cc 77 5d 7d 99 "
	"f9 80 be 2f c9 4d 34 ac f6 cc 00 ba 90 cb cf b0 "
	"60 8a a1 e7 e3 97 1e f0 c0 7a 41 d4 7a d8 34 5d "
	"1f 81 fe 41 8a 1c f4 10 54 42 9f d2 17 bd 77 7d "
	"c1 cf 08 f0 5d f9 07 99 c6 59 36 1e 0f 1a 8e e4 "
	"ac 0f 78 97 42 0b db c8 23 da 80 a2 f2 ba 23 08 "
	"1c 00 00";

/* RFC 8448 6, {client}  construct a CertificateVerify handshake message (136 octets) */
static const char s6_client_certificate_verify[] =
	"0f 00 00 84 08 04 00 80 18 6b 22 23 b5 03 a7 59 "
	"c3 5d ba 0e 97 21 b4 b5 79 13 8d 5f 0f 5e 6e c7 "
	"fe aa f2 7f 3a d7 f3 86 c2 c7 bd 7c b2 be 52 fb "
	"f5 ed 83 93 f4 06 ee 79 36 96 92 ec 7a c6 95 65 "
	"1d 85 82 19 e6 72 a8 eb 7b 2a 67 7b 64 0b 46 ab "
	"63 0e dc 5f 3f 2f 82 72 b9 c0 d9 06 f8 1f 84 dd "
	"c5 b8 c7 bc f9 55 c7 8a 3c f9 9e 50 16 f7 3e 04 "
	"eb 7d fc b2 88 33 f1 3e 8f 75 ec 2f f3 58 1e 2f "
	"09 8a d4 15 7f d6 d6 ad";

/* RFC 8448 6, {client}  construct a Finished handshake message (36 octets) */
static const char s6_c_finished[] =
	"14 00 00 20 9a fe 2b a2 f6 3a 09 d2 29 d8 a4 29 "
	"e5 b3 7f fd 9f cc 73 bd b5 91 1b 82 42 59 72 aa "
	"28 92 44 0f";

/*
 * RFC 8448 6, {client}  send handshake record: complete record (Certificate, CertificateVerify,
 * Finished) (645 octets)
 */
static const char s6_client_flight_record[] =
	"17 03 03 02 80 b4 6a 63 93 4e 67 38 41 ab af 26 "
	"74 03 bc 67 7f 6b 6d 2a 1e 2f 12 bb 5f 62 68 3b "
	"fe 36 a8 26 73 f0 6d 62 87 dd d6 09 bc f2 f5 fd "
	"32 25 92 3d 24 af 3c 76 68 2c 18 0e e5 71 a1 7c "
	"a4 bf be 2f 51 0d c9 a0 e1 fc a5 cf f2 ce e8 7d "
	"11 cb 53 1a 6e f9 0b f5 30 9a 6b 63 bb bc 0b 88 "
	"ea 45 10 3a 43 04 09 15 43 85 9f a1 1e c0 32 ed "
	"87 34 44 cd 51 85 ea d5 f6 a7 64 20 f0 f0 28 6a "
	"ce f8 02 c8 e4 78 8c 23 27 5f 1b 06 da 60 0f 4a "
	"7d ec d0 bc 59 d7 be f1 0e 64 9a e3 26 90 39 7f "
	"c3 d4 ed 6f 30 f8 01 d8 cd 56 9b 71 ad 4f a0 5e "
	"a7 cf 2a c2 df a1 50 d2 20 50 5d 40 11 b3 4d 09 "
	"d5 38 53 eb a6 1a 10 1e 4f 8d ca 47 d8 17 1a 88 "
	"4b 19 25 9a 3d d4 8c 5a c1 41 98 3e dc 77 81 4d "
	"25 e7 f6 6b bb db 90 96 83 92 66 e0 65 61 82 8e "
	"cf b2 7e af d4 e9 e8 1a 0b 96 e3 bf a4 2d ae 5a "
	"d8 03 59 b9 a6 66 14 02 c3 a2 10 41 77 03 01 06 "
	"db d8 f6 5b b6 a0 15 9d 51 2e b1 3a f2 2a 25 9f "
	"31 3b d5 8c 2e 21 fe 05 3d 57 f2 a9 62 b0 a4 ea "
	"68 2c 96 f7 0b 79 b5 60 13 61 92 82 3b 27 be 6a "
	"2f b7 b1 c7 51 cc c0 e3 30 36 15 54 14 85 b7 b3 "
	"07 b4 23 33 2c 11 ef a8 0b 72 f9 b8 0a 53 e5 3f "
	"7b b3 8a 3a f4 c5 9f 80 08 ba d0 54 4e 56 14 e6 "
	"88 ff 57 bc cd 69 35 f8 1f 44 7f 42 0c 1c 1b f4 "
	"05 88 18 e9 0b f5 dc 71 6c ca e4 25 24 85 6d f8 "
	"25 0b cd bd 7a f6 5f 82 dd 53 06 1d 02 4f 6d 2f "
	"f5 c1 1e 37 92 a9 a7 0e 0e e2 a3 c2 0a 1b 96 8a "
	"c3 91 f8 f9 28 31 13 5d 25 24 2a da 2f e2 41 c2 "
	"65 3e c9 96 33 9d fa 12 df ae 7a 33 73 df 88 b0 "
	"7c a2 7a ef 6d c2 66 a2 5f 13 f7 5c 76 03 9c 1f "
	"46 fd 7a 53 ae 63 99 c9 99 f4 b2 ae e1 8e 48 0d "
	"6d 12 bf ae 22 6b bd c9 2a 6a d5 0b 4d 3b ac 7a "
	"bc 3b 36 51 eb 5b e5 6f 33 bf 41 12 7b 3c a8 86 "
	"dc 71 4a 50 d1 49 03 57 bd 40 d9 fd 6b e4 22 09 "
	"a4 dd b9 eb b2 98 7e 29 f1 20 f0 58 14 61 4d 2c "
	"79 32 00 15 b4 61 fe 73 24 44 76 70 a1 af 5f 65 "
	"ca ed 15 b4 74 ab 7f aa 49 50 16 ad f8 08 e5 3b "
	"94 ef 54 af bb 0e 0a 3a 27 32 ab 59 7f 7d 59 23 "
	"c7 73 86 aa 51 24 73 1f 8c c7 3e 70 3b 34 1c 17 "
	"5a 45 49 39 a7 7a b6 43 13 c1 5c f3 fe 03 c4 f3 "
	"38 42 56 49 76";

/* RFC 8448 6, {client}  derive write traffic keys for application data: key expanded (16 octets) */
static const char s6_c_ap_key[] =
	"cd c0 9c 80 6a a8 f8 6d fc d5 1e fc 44 a0 c0 39";

/* RFC 8448 6, {client}  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s6_c_ap_iv[] =
	"6e f8 52 e7 8b 46 d9 13 66 8e 53 e7";

/* RFC 8448 6, {client}  derive secret "tls13 res master": expanded (32 octets) */
static const char s6_res_master[] =
	"10 06 dc cb f4 0e b4 eb 97 8b ff 03 92 a9 e4 52 "
	"a4 fb ad 58 aa 14 78 4d 5a 24 1c 6b 49 da cc fb";

/* RFC 8448 6, {client}  send alert record: complete record (close_notify) (24 octets) */
static const char s6_client_alert_record[] =
	"17 03 03 00 13 e4 ad 7d 44 c2 92 45 33 9d 35 59 "
	"62 c7 79 b8 9e f4 4c 58";

/* RFC 8448 6, {server}  send alert record: complete record (close_notify) (24 octets) */
static const char s6_server_alert_record[] =
	"17 03 03 00 13 1d ec c5 d6 e6 4b ba 8a 6f 21 b4 "
	"fd 07 74 97 da 2a 90 cb";

/* ---- Values every section shares ---- */

/* RFC 8448 3, 5, 6, {server}  derive secret for handshake "tls13 derived": expanded (32 octets) */
#define rfc8448_handshake_derived s3_handshake_derived

/* RFC 8448 3, 5, 6, {client} / {server}  send alert record: payload (2 octets), close_notify */
static const char close_notify_payload[] = "01 00";

/* ---- Decoding and comparing ---- */

#define HASH		KC_SHA256	/* all three traces negotiate TLS_AES_128_GCM_SHA256 */
#define HASH_LEN	32
#define SUITE_ID	0x1301

/* Offsets into the traces' records and handshake messages. */
#define RECORD_BODY	KTLS_RECORD_HEADER_LEN
#define HS_HEADER_LEN	4
#define HELLO_RANDOM	(HS_HEADER_LEN + 2)	/* after the legacy version */
#define CV_SIGNATURE	(HS_HEADER_LEN + 4)	/* after the scheme and length */

/* Each hex vector is decoded once and kept, so tables can name them directly. */
struct decoded {
	const char *hex;
	uint8_t *bytes;
	size_t len;
};

static struct decoded decoded[256];
static size_t decoded_count;

static const uint8_t *vec(const char *hex, size_t *len)
{
	size_t i;

	for (i = 0; i < decoded_count; i++)
		if (decoded[i].hex == hex)
			break;
	if (i == decoded_count) {
		if (decoded_count == KTLS_ARRAY_SIZE(decoded))
			abort();
		decoded[i].hex = hex;
		decoded[i].bytes = tap_unhex(hex, &decoded[i].len);
		decoded_count++;
	}
	if (len)
		*len = decoded[i].len;
	return decoded[i].bytes;
}

static size_t vec_len(const char *hex)
{
	size_t len;

	vec(hex, &len);
	return len;
}

static void vec_free_all(void)
{
	size_t i;

	for (i = 0; i < decoded_count; i++)
		free(decoded[i].bytes);
	decoded_count = 0;
}

static const char *what(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Test names; one buffer is enough since each is used before the next is made. */
static const char *what(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static int check_raw(const void *got, size_t got_len, const void *want, size_t want_len,
		     const char *name)
{
	if (got_len != want_len) {
		tap_diag("%s: %zu octets, want %zu", name, got_len, want_len);
		return tap_ok(0, "%s", name);
	}
	return tap_mem_eq(got, want, want_len, name);
}

/* One test: @ret is the status of the call that produced @got. */
static int check_value(int ret, const void *got, size_t got_len, const char *want_hex,
		       const char *name)
{
	size_t want_len;
	const uint8_t *want = vec(want_hex, &want_len);

	if (ret) {
		tap_diag("%s: failed with 0x%x", name, (unsigned int)ret);
		return tap_ok(0, "%s", name);
	}
	return check_raw(got, got_len, want, want_len, name);
}

static void diag_hex(const char *label, const uint8_t *p, size_t len)
{
	char line[3 * 32 + 1];
	size_t i, n;

	tap_diag("%s (%zu octets):", label, len);
	for (i = 0; i < len; i += 32) {
		for (n = 0; n < 32 && i + n < len; n++)
			snprintf(line + 3 * n, 4, " %02x", p[i + n]);
		tap_diag("%s", line);
	}
}

static int fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s: %s", name, buf);
	return tap_ok(0, "%s", name);
}

static const struct ktls_suite *suite(void)
{
	return ktls_suite_by_id(SUITE_ID);
}

/* ---- Transcript hashes (RFC 8446 4.4.1) ---- */

static void transcript_add(struct kc_hash *h, const uint8_t *msg, size_t len)
{
	if (kc_hash_update(h, msg, len))
		tap_diag("kc_hash_update failed");
}

/* Adds a handshake message given as hex; @skip drops a record header. */
static void transcript_add_hex(struct kc_hash *h, const char *hex, size_t skip)
{
	size_t len;
	const uint8_t *p = vec(hex, &len);

	transcript_add(h, p + skip, len - skip);
}

/* The synthetic message_hash message that replaces ClientHello1 after a HelloRetryRequest. */
static void transcript_add_message_hash(struct kc_hash *h, const uint8_t *ch1, size_t len)
{
	uint8_t synthetic[HS_HEADER_LEN + HASH_LEN] = { KTLS_HS_MESSAGE_HASH, 0, 0, HASH_LEN };

	if (kc_hash_oneshot(HASH, ch1, len, synthetic + HS_HEADER_LEN))
		tap_diag("kc_hash_oneshot failed");
	transcript_add(h, synthetic, sizeof(synthetic));
}

static void transcript_hash(const struct kc_hash *h, uint8_t *out)
{
	if (kc_hash_peek(h, out))
		memset(out, 0, HASH_LEN);
}

/* ---- Records ---- */

static int seal(const uint8_t *secret, uint64_t seq, uint8_t type, const void *plain,
		size_t len, struct ktls_buf *out)
{
	struct ktls_protection p;
	int ret;

	memset(&p, 0, sizeof(p));
	ret = ktls_protection_set(&p, suite(), secret, 1);
	p.seq = seq;
	if (!ret)
		ret = ktls_record_write(&p, out, type, plain, len);
	ktls_protection_clear(&p);
	return ret;
}

/* Opens one protected record into @scratch; 0 and the inner content on success. */
static int open_record(const uint8_t *secret, uint64_t seq, const uint8_t *rec, size_t len,
		       uint8_t *scratch, uint8_t *type, const uint8_t **frag, size_t *frag_len,
		       size_t *consumed)
{
	struct ktls_protection p;
	int ret;

	memset(&p, 0, sizeof(p));
	*consumed = 0;
	ret = ktls_protection_set(&p, suite(), secret, 0);
	p.seq = seq;
	if (!ret)
		ret = ktls_record_read(&p, rec, len, consumed, scratch, type, frag, frag_len);
	ktls_protection_clear(&p);
	return ret;
}

/*
 * Two tests: @plain sealed at @seq under @secret is the trace's record
 * byte for byte, and the trace's record opens to @plain and @type.
 */
static void check_record(const char *section, const uint8_t *secret, uint64_t seq,
			 uint8_t type, const uint8_t *plain, size_t plain_len,
			 const char *record_hex, const char *label)
{
	static uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	const uint8_t *rec, *frag = NULL;
	size_t rec_len, frag_len = 0, consumed;
	struct ktls_buf out;
	uint8_t got_type = 0;
	int ret;

	rec = vec(record_hex, &rec_len);
	ktls_buf_init(&out, NULL, 0);
	ret = seal(secret, seq, type, plain, plain_len, &out);
	if (ret)
		fail(what("RFC 8448 %s: %s sealed", section, label), "error 0x%x",
		     (unsigned int)ret);
	else
		check_raw(out.base, out.off, rec, rec_len,
			  what("RFC 8448 %s: %s sealed at sequence %llu is the trace's record",
			       section, label, (unsigned long long)seq));
	ktls_buf_dispose(&out);

	ret = open_record(secret, seq, rec, rec_len, scratch, &got_type, &frag, &frag_len,
			  &consumed);
	if (ret || consumed != rec_len || got_type != type)
		fail(what("RFC 8448 %s: the trace's %s record opens", section, label),
		     "error 0x%x, consumed %zu of %zu, type %u", (unsigned int)ret, consumed,
		     rec_len, got_type);
	else
		check_raw(frag, frag_len, plain, plain_len,
			  what("RFC 8448 %s: the trace's %s record opens to the plaintext",
			       section, label));
}

/* ---- Part one: the key schedule and records of one trace ---- */

struct trace_record {
	int from_server;
	uint64_t seq;
	uint8_t type;
	const char *plaintext;
	const char *record;
	const char *label;
};

struct trace {
	const char *section;
	enum kc_group_id group;
	const char *client_private, *client_public;
	const char *server_private, *server_public;
	const char *ecdhe;			/* NULL: not transcribed */
	/* HelloRetryRequest traces: the first ClientHello's x25519 share and the retry */
	const char *first_client_private, *first_client_public;
	const char *first_client_hello_record, *hello_retry_request_record;
	const char *client_hello_record, *server_hello_record;
	const char *handshake_secret;
	const char *hash_hello;			/* hash up to ServerHello, or NULL */
	const char *c_hs_traffic, *s_hs_traffic;
	const char *master_derived, *master_secret;
	const char *s_hs_key, *s_hs_iv, *c_hs_key, *c_hs_iv;
	const char *server_messages[5];		/* EncryptedExtensions .. CV, NULL */
	const char *s_finished_key;		/* or NULL */
	const char *s_finished;
	const char *server_flight_record;
	const char *hash_server_finished;	/* or NULL */
	const char *c_ap_traffic, *s_ap_traffic, *exp_master;
	const char *s_ap_key, *s_ap_iv, *c_ap_key, *c_ap_iv;
	const char *client_messages[3];		/* Certificate, CertificateVerify, or none */
	const char *c_finished_key;		/* or NULL */
	const char *c_finished;			/* NULL: only inside the record */
	const char *client_flight_record;
	const char *hash_client_finished;	/* or NULL */
	const char *res_master;
	const char *resumption;			/* PSK for ticket_nonce 00 00, or NULL */
	const struct trace_record *records;
	size_t record_count;
};

/* Number of tests check_trace() reports for @t; kept next to it on purpose. */
static int trace_plan(const struct trace *t)
{
	int n = 29;

	n += !!t->ecdhe + !!t->first_client_private + !!t->hello_retry_request_record;
	n += !!t->hash_hello + !!t->s_finished_key + !!t->hash_server_finished;
	n += !!t->c_finished_key + !!t->hash_client_finished + !!t->resumption;
	return n + 2 * (int)t->record_count;
}

static void check_key_exchange(const struct trace *t)
{
	uint8_t pub[KC_MAX_KEX_PUBLIC], client_secret[KC_MAX_KEX_SECRET];
	uint8_t server_secret[KC_MAX_KEX_SECRET];
	size_t pub_len, client_len = sizeof(client_secret), server_len = sizeof(server_secret);
	struct kc_kex *client = NULL, *server = NULL, *first = NULL;
	const char *s = t->section;
	const uint8_t *priv, *peer;
	size_t priv_len, peer_len;
	int ret;

	if (t->first_client_private) {
		pub_len = sizeof(pub);
		priv = vec(t->first_client_private, &priv_len);
		ret = kc_kex_from_private(KC_GROUP_X25519, priv, priv_len, &first, pub, &pub_len);
		check_value(ret, pub, pub_len, t->first_client_public,
			    what("RFC 8448 %s: first ClientHello's x25519 public key", s));
		kc_kex_free(first);
	}

	pub_len = sizeof(pub);
	priv = vec(t->client_private, &priv_len);
	ret = kc_kex_from_private(t->group, priv, priv_len, &client, pub, &pub_len);
	check_value(ret, pub, pub_len, t->client_public,
		    what("RFC 8448 %s: client public key from its private key", s));

	pub_len = sizeof(pub);
	priv = vec(t->server_private, &priv_len);
	ret = kc_kex_from_private(t->group, priv, priv_len, &server, pub, &pub_len);
	check_value(ret, pub, pub_len, t->server_public,
		    what("RFC 8448 %s: server public key from its private key", s));

	ret = KTLS_ERROR_LIBRARY;
	if (client && server) {
		peer = vec(t->server_public, &peer_len);
		ret = kc_kex_derive(client, peer, peer_len, client_secret, &client_len);
		peer = vec(t->client_public, &peer_len);
		if (!ret)
			ret = kc_kex_derive(server, peer, peer_len, server_secret, &server_len);
	}
	if (ret)
		fail(what("RFC 8448 %s: both sides derive one ECDHE secret", s),
		     "error 0x%x", (unsigned int)ret);
	else
		check_raw(client_secret, client_len, server_secret, server_len,
			  what("RFC 8448 %s: both sides derive one ECDHE secret", s));
	if (t->ecdhe)
		check_value(ret, client_secret, client_len, t->ecdhe,
			    what("RFC 8448 %s: ECDHE secret (IKM of \"handshake\")", s));
	kc_kex_free(client);
	kc_kex_free(server);
	kc_cleanse(client_secret, sizeof(client_secret));
	kc_cleanse(server_secret, sizeof(server_secret));
}

/* The shared secret again, quietly, as the input of the handshake secret. */
static int ecdhe_secret(const struct trace *t, uint8_t *secret, size_t *len)
{
	struct kc_kex *server = NULL;
	uint8_t pub[KC_MAX_KEX_PUBLIC];
	size_t pub_len = sizeof(pub), priv_len, peer_len;
	const uint8_t *priv = vec(t->server_private, &priv_len);
	const uint8_t *peer = vec(t->client_public, &peer_len);
	int ret;

	ret = kc_kex_from_private(t->group, priv, priv_len, &server, pub, &pub_len);
	if (!ret)
		ret = kc_kex_derive(server, peer, peer_len, secret, len);
	kc_kex_free(server);
	return ret;
}

static void check_traffic_keys(const char *s, const uint8_t *secret, const char *key_hex,
			       const char *iv_hex, const char *label)
{
	uint8_t key[KC_MAX_KEY], iv[KC_AEAD_IV_LEN];
	int ret = ktls_traffic_key_iv(suite(), secret, key, iv);

	check_value(ret, key, kc_aead_key_size(suite()->aead), key_hex,
		    what("RFC 8448 %s: %s key", s, label));
	check_value(ret, iv, sizeof(iv), iv_hex, what("RFC 8448 %s: %s iv", s, label));
}

static void check_finished_key(const char *s, const uint8_t *secret, const char *want,
			       const char *label)
{
	uint8_t key[HASH_LEN];
	int ret = ktls_hkdf_expand_label(HASH, secret, "finished", NULL, 0, key, sizeof(key));

	check_value(ret, key, sizeof(key), want, what("RFC 8448 %s: %s finished_key", s, label));
}

/* Concatenates the hex messages of @list (NULL-terminated) into @out. */
static void concat_messages(const char *const *list, struct ktls_buf *out)
{
	size_t len;
	const uint8_t *p;

	for (; *list; list++) {
		p = vec(*list, &len);
		if (ktls_buf_push(out, p, len))
			abort();
	}
}

static void check_trace(const struct trace *t)
{
	static uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	uint8_t shared[KC_MAX_KEX_SECRET], early[HASH_LEN], derived[HASH_LEN];
	uint8_t hs[HASH_LEN], ms[HASH_LEN], c_hs[HASH_LEN], s_hs[HASH_LEN];
	uint8_t c_ap[HASH_LEN], s_ap[HASH_LEN], exporter[HASH_LEN], res[HASH_LEN];
	uint8_t th[HASH_LEN], vd[HASH_LEN], psk[HASH_LEN];
	uint8_t cfin_computed[HS_HEADER_LEN + HASH_LEN] = { KTLS_HS_FINISHED, 0, 0, HASH_LEN };
	static const uint8_t ticket_nonce[2] = { 0, 0 };
	const char *s = t->section;
	const uint8_t *msg, *cfin, *rec, *frag = NULL;
	size_t shared_len = sizeof(shared), len, rec_len, frag_len = 0, consumed, i;
	struct ktls_buf flight, hello;
	struct kc_hash *h;
	uint8_t type = 0;
	int ret;

	check_key_exchange(t);

	/* The Hello messages are unprotected: the record layer frames them as the trace does. */
	ktls_buf_init(&hello, NULL, 0);
	msg = vec(t->server_hello_record, &len);
	{
		struct ktls_protection plain;

		memset(&plain, 0, sizeof(plain));
		ret = ktls_record_write(&plain, &hello, KTLS_CT_HANDSHAKE, msg + RECORD_BODY,
					len - RECORD_BODY);
		check_value(ret, hello.base, hello.off, t->server_hello_record,
			    what("RFC 8448 %s: ServerHello record framing", s));
		if (t->hello_retry_request_record) {
			hello.off = 0;
			msg = vec(t->hello_retry_request_record, &len);
			ret = ktls_record_write(&plain, &hello, KTLS_CT_HANDSHAKE,
						msg + RECORD_BODY, len - RECORD_BODY);
			check_value(ret, hello.base, hello.off, t->hello_retry_request_record,
				    what("RFC 8448 %s: HelloRetryRequest record framing", s));
		}
	}
	ktls_buf_dispose(&hello);

	/* Early secret, then the handshake secret from the ECDHE secret. */
	ret = ktls_early_secret(HASH, NULL, 0, early);
	check_value(ret, early, sizeof(early), s3_early_secret,
		    what("RFC 8448 %s: early secret", s));
	ret = ktls_derive_secret(HASH, early, "derived", NULL, derived);
	check_value(ret, derived, sizeof(derived), rfc8448_handshake_derived,
		    what("RFC 8448 %s: \"derived\" secret for handshake", s));
	ret = ecdhe_secret(t, shared, &shared_len);
	if (!ret)
		ret = ktls_next_secret(HASH, early, shared, shared_len, hs);
	check_value(ret, hs, sizeof(hs), t->handshake_secret,
		    what("RFC 8448 %s: handshake secret", s));

	/* Transcript up to ServerHello; a retry turns ClientHello1 into message_hash. */
	h = kc_hash_new(HASH);
	if (!h)
		abort();
	if (t->hello_retry_request_record) {
		msg = vec(t->first_client_hello_record, &len);
		transcript_add_message_hash(h, msg + RECORD_BODY, len - RECORD_BODY);
		transcript_add_hex(h, t->hello_retry_request_record, RECORD_BODY);
	}
	transcript_add_hex(h, t->client_hello_record, RECORD_BODY);
	transcript_add_hex(h, t->server_hello_record, RECORD_BODY);
	transcript_hash(h, th);
	if (t->hash_hello)
		check_value(0, th, sizeof(th), t->hash_hello,
			    what("RFC 8448 %s: Transcript-Hash(.. ServerHello)", s));

	ret = ktls_derive_secret(HASH, hs, "c hs traffic", th, c_hs);
	check_value(ret, c_hs, sizeof(c_hs), t->c_hs_traffic,
		    what("RFC 8448 %s: client_handshake_traffic_secret", s));
	ret = ktls_derive_secret(HASH, hs, "s hs traffic", th, s_hs);
	check_value(ret, s_hs, sizeof(s_hs), t->s_hs_traffic,
		    what("RFC 8448 %s: server_handshake_traffic_secret", s));
	check_traffic_keys(s, s_hs, t->s_hs_key, t->s_hs_iv, "server handshake");
	check_traffic_keys(s, c_hs, t->c_hs_key, t->c_hs_iv, "client handshake");

	ret = ktls_derive_secret(HASH, hs, "derived", NULL, derived);
	check_value(ret, derived, sizeof(derived), t->master_derived,
		    what("RFC 8448 %s: \"derived\" secret for master", s));
	ret = ktls_next_secret(HASH, hs, NULL, 0, ms);
	check_value(ret, ms, sizeof(ms), t->master_secret, what("RFC 8448 %s: master secret", s));

	/* The server's flight and its Finished. */
	ktls_buf_init(&flight, NULL, 0);
	concat_messages(t->server_messages, &flight);
	transcript_add(h, flight.base, flight.off);
	transcript_hash(h, th);
	if (t->s_finished_key)
		check_finished_key(s, s_hs, t->s_finished_key, "server");
	ret = ktls_finished_verify_data(HASH, s_hs, th, vd);
	msg = vec(t->s_finished, &len);
	if (ret)
		fail(what("RFC 8448 %s: server Finished verify_data", s), "error 0x%x",
		     (unsigned int)ret);
	else
		check_raw(vd, sizeof(vd), msg + HS_HEADER_LEN, len - HS_HEADER_LEN,
			  what("RFC 8448 %s: server Finished verify_data", s));
	transcript_add(h, msg, len);
	if (ktls_buf_push(&flight, msg, len))
		abort();
	check_record(s, s_hs, 0, KTLS_CT_HANDSHAKE, flight.base, flight.off,
		     t->server_flight_record, "server flight (EncryptedExtensions .. Finished)");
	ktls_buf_dispose(&flight);

	/* Application secrets at the server's Finished. */
	transcript_hash(h, th);
	if (t->hash_server_finished)
		check_value(0, th, sizeof(th), t->hash_server_finished,
			    what("RFC 8448 %s: Transcript-Hash(.. server Finished)", s));
	ret = ktls_derive_secret(HASH, ms, "c ap traffic", th, c_ap);
	check_value(ret, c_ap, sizeof(c_ap), t->c_ap_traffic,
		    what("RFC 8448 %s: client_application_traffic_secret_0", s));
	ret = ktls_derive_secret(HASH, ms, "s ap traffic", th, s_ap);
	check_value(ret, s_ap, sizeof(s_ap), t->s_ap_traffic,
		    what("RFC 8448 %s: server_application_traffic_secret_0", s));
	ret = ktls_derive_secret(HASH, ms, "exp master", th, exporter);
	check_value(ret, exporter, sizeof(exporter), t->exp_master,
		    what("RFC 8448 %s: exporter_master_secret", s));
	check_traffic_keys(s, s_ap, t->s_ap_key, t->s_ap_iv, "server application");
	check_traffic_keys(s, c_ap, t->c_ap_key, t->c_ap_iv, "client application");

	/* The client's flight: its certificate, if asked for, then its Finished. */
	ktls_buf_init(&flight, NULL, 0);
	concat_messages(t->client_messages, &flight);
	transcript_add(h, flight.base, flight.off);
	transcript_hash(h, th);
	if (t->c_finished_key)
		check_finished_key(s, c_hs, t->c_finished_key, "client");
	ret = ktls_finished_verify_data(HASH, c_hs, th, vd);
	memcpy(cfin_computed + HS_HEADER_LEN, vd, sizeof(vd));
	if (t->c_finished) {
		cfin = vec(t->c_finished, &len);
		if (ret)
			fail(what("RFC 8448 %s: client Finished verify_data", s), "error 0x%x",
			     (unsigned int)ret);
		else
			check_raw(vd, sizeof(vd), cfin + HS_HEADER_LEN, len - HS_HEADER_LEN,
				  what("RFC 8448 %s: client Finished verify_data", s));
	} else {
		/* The trace prints this Finished only inside its record. */
		cfin = cfin_computed;
		len = sizeof(cfin_computed);
		rec = vec(t->client_flight_record, &rec_len);
		if (!ret)
			ret = open_record(c_hs, 0, rec, rec_len, scratch, &type, &frag, &frag_len,
					  &consumed);
		if (ret || frag_len < len)
			fail(what("RFC 8448 %s: client Finished verify_data", s),
			     "error 0x%x", (unsigned int)ret);
		else
			check_raw(frag + frag_len - len, len, cfin, len,
				  what("RFC 8448 %s: client Finished verify_data is the one in "
				       "the trace's record", s));
	}
	transcript_add(h, cfin, len);
	if (ktls_buf_push(&flight, cfin, len))
		abort();
	check_record(s, c_hs, 0, KTLS_CT_HANDSHAKE, flight.base, flight.off,
		     t->client_flight_record, "client flight");
	ktls_buf_dispose(&flight);

	transcript_hash(h, th);
	if (t->hash_client_finished)
		check_value(0, th, sizeof(th), t->hash_client_finished,
			    what("RFC 8448 %s: Transcript-Hash(.. client Finished)", s));
	ret = ktls_derive_secret(HASH, ms, "res master", th, res);
	check_value(ret, res, sizeof(res), t->res_master,
		    what("RFC 8448 %s: resumption_master_secret", s));
	if (t->resumption) {
		ret = ktls_hkdf_expand_label(HASH, res, "resumption", ticket_nonce,
					     sizeof(ticket_nonce), psk, sizeof(psk));
		check_value(ret, psk, sizeof(psk), t->resumption,
			    what("RFC 8448 %s: ticket PSK (\"resumption\", nonce 00 00)", s));
	}
	kc_hash_free(h);

	/* Records under the application keys: tickets, data, alerts. */
	for (i = 0; i < t->record_count; i++) {
		const struct trace_record *r = &t->records[i];

		msg = vec(r->plaintext, &len);
		check_record(s, r->from_server ? s_ap : c_ap, r->seq, r->type, msg, len,
			     r->record, r->label);
	}

	kc_cleanse(shared, sizeof(shared));
	kc_cleanse(early, sizeof(early));
	kc_cleanse(hs, sizeof(hs));
	kc_cleanse(ms, sizeof(ms));
	kc_cleanse(c_hs, sizeof(c_hs));
	kc_cleanse(s_hs, sizeof(s_hs));
	kc_cleanse(c_ap, sizeof(c_ap));
	kc_cleanse(s_ap, sizeof(s_ap));
}

static const struct trace_record s3_records[] = {
	{ 1, 0, KTLS_CT_HANDSHAKE, s3_new_session_ticket, s3_new_session_ticket_record,
	  "server NewSessionTicket" },
	{ 0, 0, KTLS_CT_APPLICATION_DATA, s3_application_data, s3_client_application_record,
	  "client application_data" },
	{ 1, 1, KTLS_CT_APPLICATION_DATA, s3_application_data, s3_server_application_record,
	  "server application_data" },
	{ 0, 1, KTLS_CT_ALERT, close_notify_payload, s3_client_alert_record,
	  "client close_notify alert" },
	{ 1, 2, KTLS_CT_ALERT, close_notify_payload, s3_server_alert_record,
	  "server close_notify alert" },
};

static const struct trace_record s5_records[] = {
	{ 0, 0, KTLS_CT_ALERT, close_notify_payload, s5_client_alert_record,
	  "client close_notify alert" },
	{ 1, 0, KTLS_CT_ALERT, close_notify_payload, s5_server_alert_record,
	  "server close_notify alert" },
};

static const struct trace_record s6_records[] = {
	{ 0, 0, KTLS_CT_ALERT, close_notify_payload, s6_client_alert_record,
	  "client close_notify alert" },
	{ 1, 0, KTLS_CT_ALERT, close_notify_payload, s6_server_alert_record,
	  "server close_notify alert" },
};

static const struct trace traces[] = {
	{
		.section = "3",
		.group = KC_GROUP_X25519,
		.client_private = s3_client_private,
		.client_public = s3_client_public,
		.server_private = s3_server_private,
		.server_public = s3_server_public,
		.ecdhe = s3_ecdhe,
		.client_hello_record = s3_client_hello_record,
		.server_hello_record = s3_server_hello_record,
		.handshake_secret = s3_handshake_secret,
		.hash_hello = s3_hash_hello,
		.c_hs_traffic = s3_c_hs_traffic,
		.s_hs_traffic = s3_s_hs_traffic,
		.master_derived = s3_master_derived,
		.master_secret = s3_master_secret,
		.s_hs_key = s3_s_hs_key,
		.s_hs_iv = s3_s_hs_iv,
		.c_hs_key = s3_c_hs_key,
		.c_hs_iv = s3_c_hs_iv,
		.server_messages = { s3_encrypted_extensions, s3_certificate,
				     s3_certificate_verify, NULL },
		.s_finished_key = s3_s_finished_key,
		.s_finished = s3_s_finished,
		.server_flight_record = s3_server_flight_record,
		.hash_server_finished = s3_hash_server_finished,
		.c_ap_traffic = s3_c_ap_traffic,
		.s_ap_traffic = s3_s_ap_traffic,
		.exp_master = s3_exp_master,
		.s_ap_key = s3_s_ap_key,
		.s_ap_iv = s3_s_ap_iv,
		.c_ap_key = s3_c_ap_key,
		.c_ap_iv = s3_c_ap_iv,
		.client_messages = { NULL },
		.c_finished_key = s3_c_finished_key,
		.c_finished = s3_c_finished,
		.client_flight_record = s3_client_finished_record,
		.hash_client_finished = s3_hash_client_finished,
		.res_master = s3_res_master,
		.resumption = s3_resumption,
		.records = s3_records,
		.record_count = KTLS_ARRAY_SIZE(s3_records),
	},
	{
		.section = "5",
		.group = KC_GROUP_SECP256R1,
		.client_private = s5_client_p256_private,
		.client_public = s5_client_p256_public,
		.server_private = s5_server_p256_private,
		.server_public = s5_server_p256_public,
		.ecdhe = s5_ecdhe,
		.first_client_private = s5_client_x25519_private,
		.first_client_public = s5_client_x25519_public,
		.first_client_hello_record = s5_client_hello1_record,
		.hello_retry_request_record = s5_hello_retry_request_record,
		.client_hello_record = s5_client_hello2_record,
		.server_hello_record = s5_server_hello_record,
		.handshake_secret = s5_handshake_secret,
		.hash_hello = s5_hash_hello,
		.c_hs_traffic = s5_c_hs_traffic,
		.s_hs_traffic = s5_s_hs_traffic,
		.master_derived = s5_master_derived,
		.master_secret = s5_master_secret,
		.s_hs_key = s5_s_hs_key,
		.s_hs_iv = s5_s_hs_iv,
		.c_hs_key = s5_c_hs_key,
		.c_hs_iv = s5_c_hs_iv,
		/* The server's certificate is section 3's. */
		.server_messages = { s5_encrypted_extensions, s3_certificate,
				     s5_certificate_verify, NULL },
		.s_finished = s5_s_finished,
		.server_flight_record = s5_server_flight_record,
		.hash_server_finished = s5_hash_server_finished,
		.c_ap_traffic = s5_c_ap_traffic,
		.s_ap_traffic = s5_s_ap_traffic,
		.exp_master = s5_exp_master,
		.s_ap_key = s5_s_ap_key,
		.s_ap_iv = s5_s_ap_iv,
		.c_ap_key = s5_c_ap_key,
		.c_ap_iv = s5_c_ap_iv,
		.client_messages = { NULL },
		.client_flight_record = s5_client_finished_record,
		.res_master = s5_res_master,
		.records = s5_records,
		.record_count = KTLS_ARRAY_SIZE(s5_records),
	},
	{
		.section = "6",
		.group = KC_GROUP_X25519,
		.client_private = s6_client_private,
		.client_public = s6_client_public,
		.server_private = s6_server_private,
		.server_public = s6_server_public,
		.client_hello_record = s6_client_hello_record,
		.server_hello_record = s6_server_hello_record,
		.handshake_secret = s6_handshake_secret,
		.c_hs_traffic = s6_c_hs_traffic,
		.s_hs_traffic = s6_s_hs_traffic,
		.master_derived = s6_master_derived,
		.master_secret = s6_master_secret,
		.s_hs_key = s6_s_hs_key,
		.s_hs_iv = s6_s_hs_iv,
		.c_hs_key = s6_c_hs_key,
		.c_hs_iv = s6_c_hs_iv,
		/* The EncryptedExtensions are section 3's. */
		.server_messages = { s3_encrypted_extensions, s6_certificate_request,
				     s6_server_certificate, s6_server_certificate_verify, NULL },
		.s_finished = s6_s_finished,
		.server_flight_record = s6_server_flight_record,
		.c_ap_traffic = s6_c_ap_traffic,
		.s_ap_traffic = s6_s_ap_traffic,
		.exp_master = s6_exp_master,
		.s_ap_key = s6_s_ap_key,
		.s_ap_iv = s6_s_ap_iv,
		.c_ap_key = s6_c_ap_key,
		.c_ap_iv = s6_c_ap_iv,
		.client_messages = { s6_client_certificate, s6_client_certificate_verify, NULL },
		.c_finished = s6_c_finished,
		.client_flight_record = s6_client_flight_record,
		.res_master = s6_res_master,
		.records = s6_records,
		.record_count = KTLS_ARRAY_SIZE(s6_records),
	},
};

/* ---- Part two: the engine, driven with the traces' inputs ---- */

#define ENGINE_TESTS	41

/* Test name prefixes of the four engine runs. */
#define SERVER3	"engine, RFC 8448 3 server: "
#define CLIENT3	"engine, RFC 8448 3 client: "
#define SERVER5	"engine, RFC 8448 5 server: "
#define CLIENT5	"engine, RFC 8448 5 client: "

/*
 * Files the engine loads its identity from: the RFC's RSA key and
 * certificate. @path (64 octets) receives the name, or "" if none was made.
 */
static FILE *temp_file(char *path)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/rfc8448-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		path[0] = 0;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

/* RFC 8448 section 2's RSA key, written as PEM from its components. */
static int write_rsa_key(char *path)
{
	static const struct {
		const char *param;
		const char *hex;
	} parts[] = {
		{ OSSL_PKEY_PARAM_RSA_N, s2_modulus },
		{ OSSL_PKEY_PARAM_RSA_E, s2_public_exponent },
		{ OSSL_PKEY_PARAM_RSA_D, s2_private_exponent },
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, s2_prime1 },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, s2_prime2 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, s2_exponent1 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, s2_exponent2 },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, s2_coefficient },
	};
	BIGNUM *bn[KTLS_ARRAY_SIZE(parts)] = { NULL };
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM_BLD *bld;
	const uint8_t *p;
	FILE *f = NULL;
	size_t i, len;
	int ok = 0;

	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		return 0;
	for (i = 0; i < KTLS_ARRAY_SIZE(parts); i++) {
		p = vec(parts[i].hex, &len);
		bn[i] = BN_bin2bn(p, (int)len, NULL);
		if (!bn[i] || !OSSL_PARAM_BLD_push_BN(bld, parts[i].param, bn[i]))
			goto out_free;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out_free;
	f = temp_file(path);
	if (!f)
		goto out_free;
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f))
		ok = 0;
out_free:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	for (i = 0; i < KTLS_ARRAY_SIZE(parts); i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_BLD_free(bld);
	return ok;
}

/* The leaf of a Certificate message (context, list, one entry) written as PEM. */
static int write_certificate(char *path, const char *certificate_message)
{
	size_t len, der_len;
	const uint8_t *msg = vec(certificate_message, &len), *der;
	X509 *x509;
	FILE *f;
	int ok;

	/* header (4), context length (1), list length (3), entry length (3), DER */
	if (len < 11)
		return 0;
	der_len = (size_t)msg[8] << 16 | (size_t)msg[9] << 8 | msg[10];
	der = msg + 11;
	x509 = d2i_X509(NULL, &der, (long)der_len);
	if (!x509)
		return 0;
	f = temp_file(path);
	ok = f && PEM_write_X509(f, x509) == 1;
	if (f && fclose(f))
		ok = 0;
	X509_free(x509);
	return ok;
}

/* What the hooks hand the engine, and what the engine asked to sign. */
struct hook_ctx {
	const uint8_t *random;
	const uint8_t *x25519_private;
	const uint8_t *p256_private;
	const uint8_t *signature;	/* RSA-PSS is randomized: the trace's own */
	size_t signature_len;
	uint8_t signed_content[64 + 34 + HASH_LEN];
	size_t signed_len;
};

static void hook_random(void *arg, uint8_t *random)
{
	const struct hook_ctx *ctx = arg;

	memcpy(random, ctx->random, 32);
}

static size_t hook_kex_private(void *arg, uint16_t group, uint8_t *priv)
{
	const struct hook_ctx *ctx = arg;
	const uint8_t *p;

	switch (group) {
	case KC_GROUP_X25519:
		p = ctx->x25519_private;
		break;
	case KC_GROUP_SECP256R1:
		p = ctx->p256_private;
		break;
	default:
		p = NULL;
		break;
	}
	if (!p)
		return 0;
	memcpy(priv, p, 32);
	return 32;
}

static int hook_sign(void *arg, uint16_t scheme, const uint8_t *tbs, size_t tbs_len,
		     uint8_t *sig, size_t *sig_len)
{
	struct hook_ctx *ctx = arg;

	if (tbs_len <= sizeof(ctx->signed_content)) {
		memcpy(ctx->signed_content, tbs, tbs_len);
		ctx->signed_len = tbs_len;
	}
	if (scheme != KC_SIG_RSA_PSS_RSAE_SHA256 || *sig_len < ctx->signature_len)
		return KTLS_ERROR_INVALID_ARGUMENT;
	memcpy(sig, ctx->signature, ctx->signature_len);
	*sig_len = ctx->signature_len;
	return 0;
}

static void hooks_init(struct ktls_test_hooks *hooks, struct hook_ctx *ctx)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->arg = ctx;
	hooks->random = hook_random;
	hooks->kex_private = hook_kex_private;
	hooks->sign = ctx->signature ? hook_sign : NULL;
}

/* RFC 8446 4.4.3: what a CertificateVerify signs. */
static void certificate_verify_content(int by_server, const uint8_t *th, uint8_t *out,
				       size_t *len)
{
	static const char server_context[] = "TLS 1.3, server CertificateVerify";
	static const char client_context[] = "TLS 1.3, client CertificateVerify";
	const char *context = by_server ? server_context : client_context;

	memset(out, 0x20, 64);
	memcpy(out + 64, context, sizeof(server_context));	/* with its NUL separator */
	memcpy(out + 64 + sizeof(server_context), th, HASH_LEN);
	*len = 64 + sizeof(server_context) + HASH_LEN;
}

/* ---- Reading what the engine wrote ---- */

struct record {
	uint8_t type;
	const uint8_t *p;	/* header included */
	size_t len;
};

static size_t split_records(const uint8_t *p, size_t len, struct record *out, size_t max)
{
	size_t n = 0, rec_len;

	while (len >= KTLS_RECORD_HEADER_LEN && n < max) {
		rec_len = KTLS_RECORD_HEADER_LEN + ((size_t)p[3] << 8 | p[4]);
		if (rec_len > len)
			break;
		out[n].type = p[0];
		out[n].p = p;
		out[n].len = rec_len;
		n++;
		p += rec_len;
		len -= rec_len;
	}
	return len ? 0 : n;	/* a partial record means a framing bug */
}

struct message {
	uint8_t type;
	const uint8_t *p;	/* header included */
	size_t len;
};

static size_t split_messages(const uint8_t *p, size_t len, struct message *out, size_t max)
{
	size_t n = 0, msg_len;

	while (len >= HS_HEADER_LEN && n < max) {
		msg_len = HS_HEADER_LEN + ((size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3]);
		if (msg_len > len)
			break;
		out[n].type = p[0];
		out[n].p = p;
		out[n].len = msg_len;
		n++;
		p += msg_len;
		len -= msg_len;
	}
	return len ? 0 : n;
}

struct hello {
	const uint8_t *random;
	size_t session_id_len;
	struct ktls_reader suites;	/* ClientHello */
	size_t fixed_len;		/* legacy_version .. legacy_compression_method(s) */
	struct ktls_reader extensions;
};

static int parse_hello(const uint8_t *msg, size_t len, struct hello *hl)
{
	int client = len && msg[0] == KTLS_HS_CLIENT_HELLO;
	struct ktls_reader r, session_id, compression;
	uint16_t version, suite_id;
	uint8_t method;

	memset(hl, 0, sizeof(*hl));
	if (len < HS_HEADER_LEN || (!client && msg[0] != KTLS_HS_SERVER_HELLO))
		return -1;
	ktls_reader_init(&r, msg + HS_HEADER_LEN, len - HS_HEADER_LEN);
	if (ktls_read_u16(&r, &version) || ktls_read_bytes(&r, 32, &hl->random) ||
	    ktls_read_block(&r, 1, 0, &session_id))
		return -1;
	hl->session_id_len = ktls_reader_left(&session_id);
	if (client) {
		if (ktls_read_block(&r, 2, 2, &hl->suites) ||
		    ktls_read_block(&r, 1, 1, &compression))
			return -1;
	} else if (ktls_read_u16(&r, &suite_id) || ktls_read_u8(&r, &method)) {
		return -1;
	}
	hl->fixed_len = (size_t)(r.pos - (msg + HS_HEADER_LEN));
	if (ktls_read_block(&r, 2, 0, &hl->extensions) || ktls_read_end(&r))
		return -1;
	return 0;
}

/* The body of extension @type in @exts, or NULL. */
static const uint8_t *find_extension(struct ktls_reader exts, uint16_t type, size_t *len)
{
	struct ktls_reader body;
	uint16_t t;

	while (ktls_reader_left(&exts)) {
		if (ktls_read_u16(&exts, &t) || ktls_read_block(&exts, 2, 0, &body))
			return NULL;
		if (t == type) {
			*len = ktls_reader_left(&body);
			return body.pos;
		}
	}
	return NULL;
}

static void diag_extension_order(const char *who, struct ktls_reader exts)
{
	char line[256];
	size_t n = 0;
	struct ktls_reader body;
	uint16_t t;

	line[0] = 0;
	while (ktls_reader_left(&exts) && n < sizeof(line) - 8 &&
	       !ktls_read_u16(&exts, &t) && !ktls_read_block(&exts, 2, 0, &body))
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %u(%zu)", t,
				      ktls_reader_left(&body));
	tap_diag("%s extensions (type(length)):%s", who, line);
}

static int u16_list_has(struct ktls_reader list, uint16_t want)
{
	uint16_t v;

	while (!ktls_read_u16(&list, &v))
		if (v == want)
			return 1;
	return 0;
}

/*
 * Rebuilds handshake message @msg, whose extension block starts @ext_off
 * octets in, with extension @type's body replaced by @body (NULL: left out).
 */
static int rewrite_extension(const uint8_t *msg, size_t len, size_t ext_off, uint16_t type,
			     const uint8_t *body, size_t body_len, struct ktls_buf *out)
{
	struct ktls_reader r, exts, old;
	size_t msg_mark, exts_mark, ext_mark;
	uint16_t t;
	int ret;

	ktls_reader_init(&r, msg + ext_off, len - ext_off);
	if (ktls_read_block(&r, 2, 0, &exts) || ktls_read_end(&r))
		return KTLS_ALERT_DECODE_ERROR;
	if ((ret = ktls_buf_push_u8(out, msg[0])) ||
	    (ret = ktls_buf_open_block(out, 3, &msg_mark)) ||
	    (ret = ktls_buf_push(out, msg + HS_HEADER_LEN, ext_off - HS_HEADER_LEN)) ||
	    (ret = ktls_buf_open_block(out, 2, &exts_mark)))
		return ret;
	while (ktls_reader_left(&exts)) {
		if (ktls_read_u16(&exts, &t) || ktls_read_block(&exts, 2, 0, &old))
			return KTLS_ALERT_DECODE_ERROR;
		if (t == type && !body)
			continue;
		if (t == type)
			ktls_reader_init(&old, body, body_len);
		if ((ret = ktls_buf_push_u16(out, t)) ||
		    (ret = ktls_buf_open_block(out, 2, &ext_mark)) ||
		    (ret = ktls_buf_push(out, old.pos, ktls_reader_left(&old))) ||
		    (ret = ktls_buf_close_block(out, 2, ext_mark)))
			return ret;
	}
	if ((ret = ktls_buf_close_block(out, 2, exts_mark)))
		return ret;
	return ktls_buf_close_block(out, 3, msg_mark);
}

/* Compares the exported kTLS parameters of @dir with the keys of @secret. */
static void check_export(const struct ktls_conn *conn, enum ktls_direction dir,
			 const uint8_t *secret, const char *name)
{
	uint8_t key[KC_MAX_KEY], iv[KC_AEAD_IV_LEN], got[16 + 4 + 8], want[16 + 4 + 8];
	union ktls_crypto_info info;
	size_t info_len = 0;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = ktls_export_crypto_info(conn, dir, &info, &info_len);
	if (!ret)
		ret = ktls_traffic_key_iv(suite(), secret, key, iv);
	if (ret || info_len != sizeof(info.aes_gcm_128) ||
	    info.info.version != TLS_1_3_VERSION ||
	    info.info.cipher_type != TLS_CIPHER_AES_GCM_128) {
		fail(name, "error 0x%x, size %zu, version 0x%x, cipher %u", (unsigned int)ret,
		     info_len, info.info.version, info.info.cipher_type);
	} else {
		/* kTLS splits the IV: the first 4 octets are the salt. */
		memcpy(got, info.aes_gcm_128.key, 16);
		memcpy(got + 16, info.aes_gcm_128.salt, 4);
		memcpy(got + 20, info.aes_gcm_128.iv, 8);
		memcpy(want, key, 16);
		memcpy(want + 16, iv, 12);
		check_raw(got, sizeof(got), want, sizeof(want), name);
	}
	kc_cleanse(&info, sizeof(info));
	kc_cleanse(key, sizeof(key));
	kc_cleanse(got, sizeof(got));
	kc_cleanse(want, sizeof(want));
}

static int feed(struct ktls_conn *conn, struct ktls_buf *out, const void *in, size_t len,
		size_t *consumed)
{
	*consumed = len;
	return ktls_handshake(conn, out, in, consumed);
}

/* 15 tests: a server with the trace's identity answers the trace's ClientHello. */
static void engine_server_simple(const char *chain_path, const char *key_path)
{
	static uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	uint8_t th[HASH_LEN], vd[HASH_LEN], c_ap[HASH_LEN], s_ap[HASH_LEN];
	uint8_t content[64 + 34 + HASH_LEN], type = 0;
	uint8_t cfin[HS_HEADER_LEN + HASH_LEN] = { KTLS_HS_FINISHED, 0, 0, HASH_LEN };
	const uint8_t *ch, *sh, *frag = NULL, *data;
	size_t ch_len, sh_len, used = 0, frag_len = 0, consumed = 0, content_len, n, data_len;
	struct ktls_buf out, rec, plain;
	struct hook_ctx ctx = { 0 };
	struct ktls_test_hooks hooks;
	struct ktls_config *cfg;
	struct ktls_conn *conn = NULL;
	struct message msgs[8];
	struct record recs[4];
	struct kc_hash *h;
	uint64_t seq;
	int ret, same_ee = 0;

	ch = vec(s3_client_hello_record, &ch_len);
	sh = vec(s3_server_hello_record, &sh_len);
	ctx.random = sh + RECORD_BODY + HELLO_RANDOM;
	ctx.x25519_private = vec(s3_server_private, NULL);
	ctx.signature = vec(s3_certificate_verify, &n) + CV_SIGNATURE;
	ctx.signature_len = n - CV_SIGNATURE;
	hooks_init(&hooks, &ctx);
	ktls_buf_init(&out, NULL, 0);
	ktls_buf_init(&rec, NULL, 0);
	ktls_buf_init(&plain, NULL, 0);
	h = kc_hash_new(HASH);
	if (!h)
		abort();

	cfg = ktls_config_new();
	ret = cfg ? ktls_config_add_identity(cfg, chain_path, key_path) : KTLS_ERROR_NO_MEMORY;
	if (ret && cfg)
		tap_diag("%s", ktls_config_error(cfg));
	tap_ok(!ret, SERVER3 "identity from the section 2 key and the trace's certificate");
	if (!ret)
		conn = ktls_conn_new(cfg, KTLS_ROLE_SERVER);
	if (conn)
		ktls_conn_set_test_hooks(conn, &hooks);

	ret = conn ? feed(conn, &out, ch, ch_len, &used) : KTLS_ERROR_NO_MEMORY;
	if (ret != KTLS_ERROR_IN_PROGRESS || used != ch_len)
		tap_diag("ktls_handshake: 0x%x (%s), consumed %zu of %zu: %s", (unsigned int)ret,
			 ktls_error_string(ret), used, ch_len,
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && used == ch_len,
	       SERVER3 "takes the trace's ClientHello and waits for the client's Finished");

	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	if (n >= 1)
		check_raw(recs[0].p, recs[0].len, sh, sh_len,
			  SERVER3 "ServerHello record is the trace's");
	else
		fail(SERVER3 "ServerHello record is the trace's",
		     "%zu octets of output", out.off);

	/* The same ClientHello and ServerHello give the trace's handshake keys. */
	ret = KTLS_ERROR_STATE;
	if (n == 2)
		ret = open_record(vec(s3_s_hs_traffic, NULL), 0, recs[1].p, recs[1].len, scratch,
				  &type, &frag, &frag_len, &consumed);
	if (ret || type != KTLS_CT_HANDSHAKE)
		fail(SERVER3 "its flight opens under the trace's server handshake key",
		     "%zu records, error 0x%x, type %u", n, (unsigned int)ret, type);
	else
		tap_ok(1, SERVER3 "its flight opens under the trace's server handshake key");
	n = ret ? 0 : split_messages(frag, frag_len, msgs, KTLS_ARRAY_SIZE(msgs));
	if (n != 4 || msgs[0].type != KTLS_HS_ENCRYPTED_EXTENSIONS ||
	    msgs[1].type != KTLS_HS_CERTIFICATE || msgs[2].type != KTLS_HS_CERTIFICATE_VERIFY ||
	    msgs[3].type != KTLS_HS_FINISHED) {
		fail(SERVER3 "flight is EncryptedExtensions, Certificate, CV, Finished",
		     "%zu messages", n);
		n = 0;
	} else {
		tap_ok(1, SERVER3 "flight is EncryptedExtensions, Certificate, CV, Finished");
	}
	if (n) {
		check_value(0, msgs[1].p, msgs[1].len, s3_certificate,
			    SERVER3 "Certificate is the trace's");
		check_value(0, msgs[2].p, msgs[2].len, s3_certificate_verify,
			    SERVER3 "CertificateVerify is the trace's (signature from the hook)");
		same_ee = msgs[0].len == vec_len(s3_encrypted_extensions) &&
			  !memcmp(msgs[0].p, vec(s3_encrypted_extensions, NULL), msgs[0].len);
		transcript_add(h, ch + RECORD_BODY, ch_len - RECORD_BODY);
		transcript_add(h, sh + RECORD_BODY, sh_len - RECORD_BODY);
		transcript_add(h, msgs[0].p, msgs[0].len);
		transcript_add(h, msgs[1].p, msgs[1].len);
		transcript_hash(h, th);
		certificate_verify_content(1, th, content, &content_len);
		check_raw(ctx.signed_content, ctx.signed_len, content, content_len,
			  SERVER3 "signs RFC 8446 4.4.3 content over its transcript");
		transcript_add(h, msgs[2].p, msgs[2].len);
		transcript_hash(h, th);
		ret = ktls_finished_verify_data(HASH, vec(s3_s_hs_traffic, NULL), th, vd);
		memcpy(cfin + HS_HEADER_LEN, vd, sizeof(vd));
		check_raw(msgs[3].p, msgs[3].len, cfin, sizeof(cfin),
			  SERVER3 "Finished over its transcript");
		transcript_add(h, msgs[3].p, msgs[3].len);
	} else {
		fail(SERVER3 "Certificate is the trace's", "no flight");
		fail(SERVER3 "CertificateVerify is the trace's (signature from the hook)",
		     "no flight");
		fail(SERVER3 "signs RFC 8446 4.4.3 content over its transcript",
		     "no flight");
		fail(SERVER3 "Finished over its transcript", "no flight");
	}
	if (same_ee) {
		check_value(0, recs[1].p, recs[1].len, s3_server_flight_record,
			    SERVER3 "flight record is the trace's");
	} else {
		/* RFC 8446 4.3.1 leaves the server's choice of extensions to it. */
		if (n) {
			diag_hex("engine EncryptedExtensions", msgs[0].p, msgs[0].len);
			diag_hex("trace EncryptedExtensions ", vec(s3_encrypted_extensions, NULL),
				 vec_len(s3_encrypted_extensions));
		}
		tap_ok(1, SERVER3 "flight record is the trace's"
		       " # SKIP the engine's EncryptedExtensions differ from NSS's");
	}

	/* The client's Finished over the engine's transcript, as the trace's client sends it. */
	transcript_hash(h, th);
	ret = ktls_finished_verify_data(HASH, vec(s3_c_hs_traffic, NULL), th, vd);
	memcpy(cfin + HS_HEADER_LEN, vd, sizeof(vd));
	if (!ret)
		ret = seal(vec(s3_c_hs_traffic, NULL), 0, KTLS_CT_HANDSHAKE, cfin, sizeof(cfin),
			   &rec);
	out.off = 0;
	if (!ret && conn)
		ret = feed(conn, &out, rec.base, rec.off, &used);
	if (ret || !conn || !ktls_handshake_is_complete(conn))
		fail(SERVER3 "accepts the client's Finished and completes",
		     "0x%x (%s): %s", (unsigned int)ret, ktls_error_string(ret),
		     conn ? ktls_get_error_detail(conn) : "");
	else
		tap_ok(1, SERVER3 "accepts the client's Finished and completes");

	ret = ktls_derive_secret(HASH, vec(s3_master_secret, NULL), "c ap traffic", th, c_ap);
	if (!ret)
		ret = ktls_derive_secret(HASH, vec(s3_master_secret, NULL), "s ap traffic", th,
					 s_ap);
	if (ret || !conn) {
		fail(SERVER3 "kTLS TX parameters", "no connection");
		fail(SERVER3 "kTLS RX parameters", "no connection");
	} else {
		check_export(conn, KTLS_DIR_TX, s_ap,
			     SERVER3 "kTLS TX parameters are the server application keys");
		check_export(conn, KTLS_DIR_RX, c_ap,
			     SERVER3 "kTLS RX parameters are the client application keys");
	}

	/* Application data both ways through the engine's record layer. */
	data = vec(s3_application_data, &data_len);
	rec.off = 0;
	ret = seal(c_ap, 0, KTLS_CT_APPLICATION_DATA, data, data_len, &rec);
	used = rec.off;
	if (!ret && conn)
		ret = ktls_receive(conn, &plain, &out, rec.base, &used);
	if (ret || !conn)
		fail(SERVER3 "receives the client's application data",
		     "0x%x (%s)", (unsigned int)ret, ktls_error_string(ret));
	else
		check_raw(plain.base, plain.off, data, data_len,
			  SERVER3 "receives the client's application data");

	out.off = 0;
	seq = conn ? ktls_get_record_seq(conn, KTLS_DIR_TX) : 0;
	ret = conn ? ktls_send(conn, &out, data, data_len) : KTLS_ERROR_NO_MEMORY;
	if (!ret)
		ret = open_record(s_ap, seq, out.base, out.off, scratch, &type, &frag, &frag_len,
				  &consumed);
	if (ret || type != KTLS_CT_APPLICATION_DATA || consumed != out.off)
		fail(SERVER3 "sends application data under its application key",
		     "0x%x, type %u", (unsigned int)ret, type);
	else
		check_raw(frag, frag_len, data, data_len,
			  SERVER3 "sends application data under its application key");

	kc_hash_free(h);
	kc_cleanse(c_ap, sizeof(c_ap));
	kc_cleanse(s_ap, sizeof(s_ap));
	ktls_buf_dispose(&plain);
	ktls_buf_dispose(&rec);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	ktls_config_free(cfg);
}

/*
 * 10 tests: a client with the trace's random and key share. Its
 * ClientHello is its own, so after the trace's ServerHello the server's
 * flight is rebuilt for its transcript: the trace's messages, a
 * CertificateVerify signed with the section 2 key, and the Finished.
 */
static void engine_client_simple(const char *key_path)
{
	static uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	uint8_t th[HASH_LEN], c_hs[HASH_LEN], s_hs[HASH_LEN], c_ap[HASH_LEN], s_ap[HASH_LEN];
	uint8_t content[64 + 34 + HASH_LEN], sig[KC_MAX_SIGNATURE], type = 0;
	uint8_t fin[HS_HEADER_LEN + HASH_LEN] = { KTLS_HS_FINISHED, 0, 0, HASH_LEN };
	uint8_t cv_header[8] = { KTLS_HS_CERTIFICATE_VERIFY, 0, 0, 0, 0x08, 0x04, 0, 0 };
	const uint8_t *trace_ch, *sh, *ext, *want, *frag = NULL;
	size_t trace_ch_len, sh_len, used = 0, n, len, want_len, content_len, sig_len = sizeof(sig);
	size_t frag_len = 0, consumed = 0;
	struct ktls_buf out, ch, flight, rec;
	struct hook_ctx ctx = { 0 };
	struct ktls_test_hooks hooks;
	struct ktls_config *cfg;
	struct ktls_conn *conn = NULL;
	struct kc_pkey *pkey = NULL;
	struct hello hl, trace_hl;
	struct record recs[4];
	struct kc_hash *h;
	int ret, ok;

	trace_ch = vec(s3_client_hello_record, &trace_ch_len);
	sh = vec(s3_server_hello_record, &sh_len);
	ctx.random = trace_ch + RECORD_BODY + HELLO_RANDOM;
	ctx.x25519_private = vec(s3_client_private, NULL);
	hooks_init(&hooks, &ctx);
	ktls_buf_init(&out, NULL, 0);
	ktls_buf_init(&ch, NULL, 0);
	ktls_buf_init(&flight, NULL, 0);
	ktls_buf_init(&rec, NULL, 0);
	parse_hello(trace_ch + RECORD_BODY, trace_ch_len - RECORD_BODY, &trace_hl);
	h = kc_hash_new(HASH);
	if (!h)
		abort();

	/* No middlebox compatibility: the trace's ServerHello echoes an empty session id. */
	cfg = ktls_config_new();
	ret = cfg ? 0 : KTLS_ERROR_NO_MEMORY;
	if (!ret)
		ret = ktls_config_set_verify(cfg, KTLS_VERIFY_NONE);
	if (!ret)
		ret = ktls_config_set_middlebox_compat(cfg, 0);
	if (!ret)
		ret = ktls_config_set_groups(cfg, "x25519,secp256r1");
	if (!ret)
		conn = ktls_conn_new(cfg, KTLS_ROLE_CLIENT);
	if (conn) {
		ktls_conn_set_test_hooks(conn, &hooks);
		ret = ktls_conn_set_server_name(conn, "server");
	}
	if (!ret && conn)
		ret = feed(conn, &out, "", 0, &used);
	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	ok = ret == KTLS_ERROR_IN_PROGRESS && n == 1 && recs[0].type == KTLS_CT_HANDSHAKE &&
	     !parse_hello(recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY, &hl) &&
	     recs[0].p[RECORD_BODY] == KTLS_HS_CLIENT_HELLO;
	if (!ok)
		tap_diag("0x%x (%s), %zu records: %s", (unsigned int)ret, ktls_error_string(ret), n,
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ok, CLIENT3 "sends one record holding a ClientHello");
	if (ok && ktls_buf_push(&ch, recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY))
		abort();

	if (ok) {
		check_raw(hl.random, 32, trace_hl.random, 32,
			  CLIENT3 "ClientHello random is the trace's");
		ext = find_extension(hl.extensions, KTLS_EXT_KEY_SHARE, &len);
		want = find_extension(trace_hl.extensions, KTLS_EXT_KEY_SHARE, &want_len);
		if (!ext)
			fail(CLIENT3 "key_share is the trace's x25519 share", "absent");
		else
			check_raw(ext, len, want, want_len,
				  CLIENT3 "key_share is the trace's x25519 share");
		tap_ok(u16_list_has(hl.suites, SUITE_ID),
		       CLIENT3 "offers TLS_AES_128_GCM_SHA256");
		ext = find_extension(hl.extensions, KTLS_EXT_SUPPORTED_VERSIONS, &len);
		tap_ok(ext && len == 3 && ext[0] == 2 && ext[1] == 0x03 && ext[2] == 0x04,
		       CLIENT3 "supported_versions offers TLS 1.3");
		diag_extension_order("engine ClientHello", hl.extensions);
		diag_extension_order("trace ClientHello ", trace_hl.extensions);
	} else {
		fail(CLIENT3 "ClientHello random is the trace's", "no ClientHello");
		fail(CLIENT3 "key_share is the trace's x25519 share", "no ClientHello");
		fail(CLIENT3 "offers TLS_AES_128_GCM_SHA256", "no ClientHello");
		fail(CLIENT3 "supported_versions offers TLS 1.3", "no ClientHello");
	}

	out.off = 0;
	ret = ok ? feed(conn, &out, sh, sh_len, &used) : KTLS_ERROR_STATE;
	if (ret != KTLS_ERROR_IN_PROGRESS || used != sh_len || out.off)
		tap_diag("0x%x (%s), consumed %zu, sent %zu: %s", (unsigned int)ret,
			 ktls_error_string(ret), used, out.off,
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && used == sh_len && !out.off,
	       CLIENT3 "accepts the trace's ServerHello");

	/* The server's flight for this client's transcript. */
	transcript_add(h, ch.base, ch.off);
	transcript_add(h, sh + RECORD_BODY, sh_len - RECORD_BODY);
	transcript_hash(h, th);
	ret = ktls_derive_secret(HASH, vec(s3_handshake_secret, NULL), "c hs traffic", th, c_hs);
	if (!ret)
		ret = ktls_derive_secret(HASH, vec(s3_handshake_secret, NULL), "s hs traffic", th,
					 s_hs);
	/* RFC 8446 4.2: record_size_limit must not be answered unless offered. */
	ext = ok ? find_extension(hl.extensions, KTLS_EXT_RECORD_SIZE_LIMIT, &len) : NULL;
	want = vec(s3_encrypted_extensions, &want_len);
	if (!ret)
		ret = rewrite_extension(want, want_len, HS_HEADER_LEN, KTLS_EXT_RECORD_SIZE_LIMIT,
					ext, ext ? len : 0, &flight);
	concat_messages((const char *const[]){ s3_certificate, NULL }, &flight);
	transcript_add(h, flight.base, flight.off);
	transcript_hash(h, th);
	certificate_verify_content(1, th, content, &content_len);
	if (!ret)
		ret = kc_pkey_load(key_path, &pkey);
	if (!ret)
		ret = kc_sign(pkey, KC_SIG_RSA_PSS_RSAE_SHA256, content, content_len, sig,
			      &sig_len);
	cv_header[3] = (uint8_t)(4 + sig_len);
	cv_header[6] = (uint8_t)(sig_len >> 8);
	cv_header[7] = (uint8_t)sig_len;
	n = flight.off;
	if (!ret && (ktls_buf_push(&flight, cv_header, sizeof(cv_header)) ||
		     ktls_buf_push(&flight, sig, sig_len)))
		abort();
	transcript_add(h, flight.base + n, flight.off - n);
	transcript_hash(h, th);
	if (!ret)
		ret = ktls_finished_verify_data(HASH, s_hs, th, fin + HS_HEADER_LEN);
	if (!ret && ktls_buf_push(&flight, fin, sizeof(fin)))
		abort();
	transcript_add(h, fin, sizeof(fin));
	if (!ret)
		ret = seal(s_hs, 0, KTLS_CT_HANDSHAKE, flight.base, flight.off, &rec);

	out.off = 0;
	if (!ret && ok)
		ret = feed(conn, &out, rec.base, rec.off, &used);
	if (ret || !ok || !ktls_handshake_is_complete(conn))
		fail(CLIENT3 "accepts the server's flight and completes",
		     "0x%x (%s): %s", (unsigned int)ret, ktls_error_string(ret),
		     conn ? ktls_get_error_detail(conn) : "");
	else
		tap_ok(1, CLIENT3 "accepts the server's flight and completes");

	transcript_hash(h, th);
	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	ret = n == 1 ? open_record(c_hs, 0, recs[0].p, recs[0].len, scratch, &type, &frag,
				   &frag_len, &consumed) : KTLS_ERROR_STATE;
	if (!ret)
		ret = ktls_finished_verify_data(HASH, c_hs, th, fin + HS_HEADER_LEN);
	if (ret || type != KTLS_CT_HANDSHAKE)
		fail(CLIENT3 "its Finished, under its handshake key, over its transcript",
		     "%zu records, 0x%x", n, (unsigned int)ret);
	else
		check_raw(frag, frag_len, fin, sizeof(fin),
			  CLIENT3 "its Finished, under its handshake key, over its transcript");

	ret = ktls_derive_secret(HASH, vec(s3_master_secret, NULL), "c ap traffic", th, c_ap);
	if (!ret)
		ret = ktls_derive_secret(HASH, vec(s3_master_secret, NULL), "s ap traffic", th,
					 s_ap);
	if (ret || !ok) {
		fail(CLIENT3 "kTLS TX parameters", "no connection");
		fail(CLIENT3 "kTLS RX parameters", "no connection");
	} else {
		check_export(conn, KTLS_DIR_TX, c_ap,
			     CLIENT3 "kTLS TX parameters are the client application keys");
		check_export(conn, KTLS_DIR_RX, s_ap,
			     CLIENT3 "kTLS RX parameters are the server application keys");
	}

	kc_pkey_free(pkey);
	kc_hash_free(h);
	kc_cleanse(c_hs, sizeof(c_hs));
	kc_cleanse(s_hs, sizeof(s_hs));
	kc_cleanse(c_ap, sizeof(c_ap));
	kc_cleanse(s_ap, sizeof(s_ap));
	ktls_buf_dispose(&rec);
	ktls_buf_dispose(&flight);
	ktls_buf_dispose(&ch);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	ktls_config_free(cfg);
}

/*
 * 10 tests: a server that prefers P-256 answers the trace's first
 * ClientHello with a HelloRetryRequest. Its cookie is its own, so the
 * trace's second ClientHello is sent back with that cookie in place of
 * NSS's; from there on the ServerHello is the trace's.
 */
static void engine_server_retry(const char *chain_path, const char *key_path)
{
	static uint8_t scratch[KTLS_MAX_CIPHERTEXT_13];
	uint8_t th[HASH_LEN], s_hs[HASH_LEN], content[64 + 34 + HASH_LEN], type = 0;
	const uint8_t *ch1, *ch2, *sh, *hrr, *cookie = NULL, *ext, *want, *frag = NULL;
	size_t ch1_len, ch2_len, sh_len, hrr_len, cookie_len = 0, used = 0, n, len, want_len;
	size_t frag_len = 0, consumed = 0, content_len;
	struct ktls_buf out, engine_hrr, ch2_new, ch2_rec;
	struct hello hl, trace_hl, ch2_hl;
	struct hook_ctx ctx = { 0 };
	struct ktls_test_hooks hooks;
	struct ktls_protection plain;
	struct ktls_config *cfg;
	struct ktls_conn *conn = NULL;
	struct message msgs[8];
	struct record recs[4];
	struct kc_hash *h;
	int ret, ok;

	ch1 = vec(s5_client_hello1_record, &ch1_len);
	ch2 = vec(s5_client_hello2_record, &ch2_len);
	sh = vec(s5_server_hello_record, &sh_len);
	hrr = vec(s5_hello_retry_request_record, &hrr_len);
	ctx.random = sh + RECORD_BODY + HELLO_RANDOM;
	ctx.p256_private = vec(s5_server_p256_private, NULL);
	ctx.signature = vec(s5_certificate_verify, &n) + CV_SIGNATURE;
	ctx.signature_len = n - CV_SIGNATURE;
	hooks_init(&hooks, &ctx);
	ktls_buf_init(&out, NULL, 0);
	ktls_buf_init(&engine_hrr, NULL, 0);
	ktls_buf_init(&ch2_new, NULL, 0);
	ktls_buf_init(&ch2_rec, NULL, 0);
	memset(&plain, 0, sizeof(plain));
	parse_hello(hrr + RECORD_BODY, hrr_len - RECORD_BODY, &trace_hl);
	h = kc_hash_new(HASH);
	if (!h)
		abort();

	cfg = ktls_config_new();
	ret = cfg ? ktls_config_add_identity(cfg, chain_path, key_path) : KTLS_ERROR_NO_MEMORY;
	if (!ret)
		ret = ktls_config_set_groups(cfg, "secp256r1");
	if (ret && cfg)
		tap_diag("%s", ktls_config_error(cfg));
	tap_ok(!ret, SERVER5 "identity, and P-256 as its only group");
	if (!ret)
		conn = ktls_conn_new(cfg, KTLS_ROLE_SERVER);
	if (conn)
		ktls_conn_set_test_hooks(conn, &hooks);

	ret = conn ? feed(conn, &out, ch1, ch1_len, &used) : KTLS_ERROR_NO_MEMORY;
	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	ok = ret == KTLS_ERROR_IN_PROGRESS && used == ch1_len && n == 1 &&
	     recs[0].type == KTLS_CT_HANDSHAKE &&
	     !parse_hello(recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY, &hl) &&
	     recs[0].p[RECORD_BODY] == KTLS_HS_SERVER_HELLO;
	if (!ok)
		tap_diag("0x%x (%s), %zu records: %s", (unsigned int)ret, ktls_error_string(ret), n,
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ok, SERVER5 "answers the first ClientHello with one ServerHello-shaped record");
	if (ok && ktls_buf_push(&engine_hrr, recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY))
		abort();

	if (ok) {
		check_raw(engine_hrr.base + HS_HEADER_LEN, hl.fixed_len,
			  hrr + RECORD_BODY + HS_HEADER_LEN, trace_hl.fixed_len,
			  SERVER5 "HelloRetryRequest random, session id, suite are the trace's");
		ext = find_extension(hl.extensions, KTLS_EXT_KEY_SHARE, &len);
		want = find_extension(trace_hl.extensions, KTLS_EXT_KEY_SHARE, &want_len);
		if (!ext)
			fail(SERVER5 "HelloRetryRequest asks for P-256 as the trace's does",
			     "no key_share");
		else
			check_raw(ext, len, want, want_len,
				  SERVER5 "HelloRetryRequest asks for P-256 as the trace's does");
		ext = find_extension(hl.extensions, KTLS_EXT_SUPPORTED_VERSIONS, &len);
		want = find_extension(trace_hl.extensions, KTLS_EXT_SUPPORTED_VERSIONS, &want_len);
		if (!ext)
			fail(SERVER5 "HelloRetryRequest supported_versions is the trace's",
			     "absent");
		else
			check_raw(ext, len, want, want_len,
				  SERVER5 "HelloRetryRequest supported_versions is the trace's");
		cookie = find_extension(hl.extensions, KTLS_EXT_COOKIE, &cookie_len);
		diag_extension_order("engine HelloRetryRequest", hl.extensions);
		diag_extension_order("trace HelloRetryRequest ", trace_hl.extensions);
		tap_ok(cookie && cookie_len > 2,
		       SERVER5 "HelloRetryRequest carries a cookie, as the trace's does");
	} else {
		fail(SERVER5 "HelloRetryRequest random, session id, suite are the trace's",
		     "no HelloRetryRequest");
		fail(SERVER5 "HelloRetryRequest asks for P-256 as the trace's does",
		     "no HelloRetryRequest");
		fail(SERVER5 "HelloRetryRequest supported_versions is the trace's",
		     "no HelloRetryRequest");
		fail(SERVER5 "HelloRetryRequest carries a cookie, as the trace's does",
		     "no HelloRetryRequest");
	}

	/* The trace's second ClientHello, echoing this server's cookie. */
	ret = parse_hello(ch2 + RECORD_BODY, ch2_len - RECORD_BODY, &ch2_hl);
	if (!ret && cookie)
		ret = rewrite_extension(ch2 + RECORD_BODY, ch2_len - RECORD_BODY,
					HS_HEADER_LEN + ch2_hl.fixed_len, KTLS_EXT_COOKIE, cookie,
					cookie_len, &ch2_new);
	if (!ret && cookie)
		ret = ktls_record_write(&plain, &ch2_rec, KTLS_CT_HANDSHAKE, ch2_new.base,
					ch2_new.off);
	out.off = 0;
	if (!ret && cookie && conn)
		ret = feed(conn, &out, ch2_rec.base, ch2_rec.off, &used);
	else
		ret = KTLS_ERROR_STATE;
	if (ret != KTLS_ERROR_IN_PROGRESS || used != ch2_rec.off)
		tap_diag("0x%x (%s): %s", (unsigned int)ret, ktls_error_string(ret),
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && used == ch2_rec.off,
	       SERVER5 "takes the second ClientHello with its cookie");

	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	if (n >= 1)
		check_raw(recs[0].p, recs[0].len, sh, sh_len,
			  SERVER5 "ServerHello record is the trace's");
	else
		fail(SERVER5 "ServerHello record is the trace's", "no output");

	/* RFC 8446 4.4.1: ClientHello1 becomes message_hash; the retry and ClientHello2 follow. */
	transcript_add_message_hash(h, ch1 + RECORD_BODY, ch1_len - RECORD_BODY);
	transcript_add(h, engine_hrr.base, engine_hrr.off);
	transcript_add(h, ch2_new.base, ch2_new.off);
	transcript_add(h, sh + RECORD_BODY, sh_len - RECORD_BODY);
	transcript_hash(h, th);
	ret = ktls_derive_secret(HASH, vec(s5_handshake_secret, NULL), "s hs traffic", th, s_hs);
	if (!ret)
		ret = n == 2 ? open_record(s_hs, 0, recs[1].p, recs[1].len, scratch, &type, &frag,
					   &frag_len, &consumed) : KTLS_ERROR_STATE;
	n = !ret ? split_messages(frag, frag_len, msgs, KTLS_ARRAY_SIZE(msgs)) : 0;
	if (ret || type != KTLS_CT_HANDSHAKE || n != 4)
		fail(SERVER5 "flight opens under the key of the message_hash transcript",
		     "0x%x, %zu messages", (unsigned int)ret, n);
	else
		tap_ok(1, SERVER5 "flight opens under the key of the message_hash transcript");
	if (n == 4) {
		transcript_add(h, msgs[0].p, msgs[0].len);
		transcript_add(h, msgs[1].p, msgs[1].len);
		transcript_hash(h, th);
		certificate_verify_content(1, th, content, &content_len);
		check_raw(ctx.signed_content, ctx.signed_len, content, content_len,
			  SERVER5 "signs over the message_hash transcript");
	} else {
		fail(SERVER5 "signs over the message_hash transcript", "no flight");
	}

	kc_hash_free(h);
	kc_cleanse(s_hs, sizeof(s_hs));
	ktls_buf_dispose(&ch2_rec);
	ktls_buf_dispose(&ch2_new);
	ktls_buf_dispose(&engine_hrr);
	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	ktls_config_free(cfg);
}

/* 6 tests: a client answers the trace's HelloRetryRequest as the trace's client does. */
static void engine_client_retry(void)
{
	const uint8_t *ch1, *ch2, *hrr, *sh, *ext, *want;
	size_t ch1_len, ch2_len, hrr_len, sh_len, used = 0, n, len = 0, want_len = 0;
	struct hello hl, trace_ch1, trace_ch2, trace_hrr;
	struct hook_ctx ctx = { 0 };
	struct ktls_test_hooks hooks;
	struct ktls_config *cfg;
	struct ktls_conn *conn = NULL;
	struct record recs[4];
	struct ktls_buf out;
	int ret, ok;

	ch1 = vec(s5_client_hello1_record, &ch1_len);
	ch2 = vec(s5_client_hello2_record, &ch2_len);
	hrr = vec(s5_hello_retry_request_record, &hrr_len);
	sh = vec(s5_server_hello_record, &sh_len);
	parse_hello(ch1 + RECORD_BODY, ch1_len - RECORD_BODY, &trace_ch1);
	parse_hello(ch2 + RECORD_BODY, ch2_len - RECORD_BODY, &trace_ch2);
	parse_hello(hrr + RECORD_BODY, hrr_len - RECORD_BODY, &trace_hrr);
	ctx.random = trace_ch1.random;
	ctx.x25519_private = vec(s5_client_x25519_private, NULL);
	ctx.p256_private = vec(s5_client_p256_private, NULL);
	hooks_init(&hooks, &ctx);
	ktls_buf_init(&out, NULL, 0);

	cfg = ktls_config_new();
	ret = cfg ? 0 : KTLS_ERROR_NO_MEMORY;
	if (!ret)
		ret = ktls_config_set_verify(cfg, KTLS_VERIFY_NONE);
	if (!ret)
		ret = ktls_config_set_middlebox_compat(cfg, 0);
	if (!ret)
		ret = ktls_config_set_groups(cfg, "x25519,secp256r1");
	if (!ret)
		conn = ktls_conn_new(cfg, KTLS_ROLE_CLIENT);
	if (conn) {
		ktls_conn_set_test_hooks(conn, &hooks);
		ret = ktls_conn_set_server_name(conn, "server");
	}
	if (!ret && conn)
		ret = feed(conn, &out, "", 0, &used);
	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	ok = ret == KTLS_ERROR_IN_PROGRESS && n == 1 &&
	     !parse_hello(recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY, &hl);
	ext = ok ? find_extension(hl.extensions, KTLS_EXT_KEY_SHARE, &len) : NULL;
	want = find_extension(trace_ch1.extensions, KTLS_EXT_KEY_SHARE, &want_len);
	if (!ext)
		fail(CLIENT5 "first ClientHello's key_share is the trace's x25519 share",
		     "0x%x (%s)", (unsigned int)ret, ktls_error_string(ret));
	else
		check_raw(ext, len, want, want_len,
			  CLIENT5 "first ClientHello's key_share is the trace's x25519 share");

	out.off = 0;
	ret = ok ? feed(conn, &out, hrr, hrr_len, &used) : KTLS_ERROR_STATE;
	n = split_records(out.base, out.off, recs, KTLS_ARRAY_SIZE(recs));
	ok = ret == KTLS_ERROR_IN_PROGRESS && used == hrr_len && n == 1 &&
	     recs[0].type == KTLS_CT_HANDSHAKE &&
	     !parse_hello(recs[0].p + RECORD_BODY, recs[0].len - RECORD_BODY, &hl) &&
	     recs[0].p[RECORD_BODY] == KTLS_HS_CLIENT_HELLO;
	if (!ok)
		tap_diag("0x%x (%s), %zu records: %s", (unsigned int)ret, ktls_error_string(ret), n,
			 conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ok, CLIENT5 "answers the trace's HelloRetryRequest with a second ClientHello");
	if (ok) {
		check_raw(hl.random, 32, trace_ch2.random, 32,
			  CLIENT5 "second ClientHello random is the trace's");
		ext = find_extension(hl.extensions, KTLS_EXT_KEY_SHARE, &len);
		want = find_extension(trace_ch2.extensions, KTLS_EXT_KEY_SHARE, &want_len);
		if (!ext)
			fail(CLIENT5 "second key_share is the trace's P-256 share",
			     "absent");
		else
			check_raw(ext, len, want, want_len,
				  CLIENT5 "second key_share is the trace's P-256 share");
		ext = find_extension(hl.extensions, KTLS_EXT_COOKIE, &len);
		want = find_extension(trace_hrr.extensions, KTLS_EXT_COOKIE, &want_len);
		if (!ext)
			fail(CLIENT5 "echoes the trace's cookie", "absent");
		else
			check_raw(ext, len, want, want_len,
				  CLIENT5 "echoes the trace's cookie");
	} else {
		fail(CLIENT5 "second ClientHello random is the trace's",
		     "no ClientHello");
		fail(CLIENT5 "second key_share is the trace's P-256 share",
		     "no ClientHello");
		fail(CLIENT5 "echoes the trace's cookie", "no ClientHello");
	}

	out.off = 0;
	ret = ok ? feed(conn, &out, sh, sh_len, &used) : KTLS_ERROR_STATE;
	if (ret != KTLS_ERROR_IN_PROGRESS || used != sh_len || out.off)
		tap_diag("0x%x (%s), sent %zu: %s", (unsigned int)ret, ktls_error_string(ret),
			 out.off, conn ? ktls_get_error_detail(conn) : "");
	tap_ok(ret == KTLS_ERROR_IN_PROGRESS && used == sh_len && !out.off,
	       CLIENT5 "accepts the trace's ServerHello after the retry");

	ktls_buf_dispose(&out);
	ktls_conn_free(conn);
	ktls_config_free(cfg);
}

int main(void)
{
	char key_path[64] = "", chain_path[64] = "";
	int plan = ENGINE_TESTS, files;
	size_t i;

	for (i = 0; i < KTLS_ARRAY_SIZE(traces); i++)
		plan += trace_plan(&traces[i]);
	tap_plan(plan);
	if (kc_init())
		tap_diag("kc_init failed");

	for (i = 0; i < KTLS_ARRAY_SIZE(traces); i++)
		check_trace(&traces[i]);

	files = write_rsa_key(key_path) && write_certificate(chain_path, s3_certificate);
	if (!files)
		tap_diag("could not write the RFC 8448 key and certificate as PEM");
	engine_server_simple(chain_path, key_path);
	engine_client_simple(key_path);
	engine_server_retry(chain_path, key_path);
	engine_client_retry();

	if (key_path[0])
		unlink(key_path);
	if (chain_path[0])
		unlink(chain_path);
	vec_free_all();
	return tap_done();
}
