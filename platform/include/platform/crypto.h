/*
 * crypto.h - SHA-256 (OpenSSL libcrypto, hardware-accelerated), ECDSA P-256 and
 * secure randomness (mbedtls 2.28).
 *
 * Key files are PEM (private: SEC1/PKCS#8 "EC PRIVATE KEY"; public: SPKI).
 * A key id is the lowercase hex SHA-256 of the public key's DER encoding.
 * Signatures are DER-encoded ECDSA over SHA-256 of the message
 * (deterministic, RFC 6979).  Private key material is wiped on free.
 */
#ifndef PLATFORM_CRYPTO_H
#define PLATFORM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "platform/error.h"

#define CS_SHA256_LEN 32
#define CS_SHA256_HEX 65 /* 64 hex digits + NUL */
#define CS_SIG_MAX 80    /* DER ECDSA P-256 signature upper bound (72) */
#define CS_KEYID_HEX 65

typedef struct cs_sha256 cs_sha256; /* opaque streaming hash */

int cs_sha256_new(cs_sha256 **out);
void cs_sha256_update(cs_sha256 *h, const void *data, size_t len);
void cs_sha256_final(cs_sha256 *h, uint8_t out[CS_SHA256_LEN]); /* then reset, reusable */
void cs_sha256_free(cs_sha256 *h);
void cs_sha256_buf(const void *data, size_t len, uint8_t out[CS_SHA256_LEN]);

/* Hex helpers. cs_hex_encode writes 2*len+1 bytes.  cs_hex_decode returns 0
 * only if hex is exactly 2*len lowercase-or-uppercase hex digits. */
void cs_hex_encode(const uint8_t *bin, size_t len, char *out);
int cs_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Secure random bytes (CTR_DRBG seeded from the system entropy source). */
int cs_random(void *buf, size_t len, cs_err *err);

typedef struct cs_key cs_key; /* opaque; a private or a public key */

int cs_key_generate(cs_key **out, cs_err *err);
/* Load a PEM private key or public key (from a buffer or a file). */
int cs_key_parse_private(cs_key **out, const char *pem, size_t len, cs_err *err);
int cs_key_parse_public(cs_key **out, const char *pem, size_t len, cs_err *err);
int cs_key_load_private(cs_key **out, const char *path, cs_err *err);
/* PEM text (NUL-terminated) into buf of capacity cap. */
int cs_key_write_private_pem(const cs_key *k, char *buf, size_t cap, cs_err *err);
int cs_key_write_public_pem(const cs_key *k, char *buf, size_t cap, cs_err *err);
/* Key id: hex SHA-256 of the SubjectPublicKeyInfo DER. */
int cs_key_id(const cs_key *k, char out[CS_KEYID_HEX], cs_err *err);
int cs_key_is_private(const cs_key *k);
int cs_key_sign(const cs_key *k, const void *msg, size_t len, uint8_t *sig, size_t *sig_len,
                cs_err *err);
/* 0 if sig is a valid signature of msg by k, CS_ESIG otherwise. */
int cs_key_verify(const cs_key *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len,
                  cs_err *err);
void cs_key_free(cs_key *k);

/* HMAC-SHA256 (one shot). */
void cs_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len, uint8_t out[CS_SHA256_LEN]);

/* PBKDF2-HMAC-SHA256 (mbedtls): out_len bytes derived from a password. */
int cs_pbkdf2_sha256(const void *pw, size_t pwlen, const uint8_t *salt, size_t saltlen, unsigned iterations,
                     uint8_t *out, size_t out_len, cs_err *err);

/* AES-256-GCM sealing (mbedtls).  A sealed box is nonce (12, random) |
 * ciphertext (len) | tag (16): CS_AEAD_OVERHEAD bytes more than the
 * plaintext.  aad is authenticated, not stored.  cs_aead_open fails with
 * CS_ECRYPTO when the box was altered or the key is wrong. */
#define CS_AEAD_KEY 32
#define CS_AEAD_OVERHEAD 28
int cs_aead_seal(const uint8_t key[CS_AEAD_KEY], const void *aad, size_t aad_len, const void *in, size_t len,
                 uint8_t *out, cs_err *err);
int cs_aead_open(const uint8_t key[CS_AEAD_KEY], const void *aad, size_t aad_len, const uint8_t *in, size_t len,
                 uint8_t *out, cs_err *err); /* out has len - CS_AEAD_OVERHEAD bytes */

/* Base64 (RFC 4648, with padding; mbedtls).  encode: malloc'd NUL-terminated
 * text.  decode: malloc'd bytes; CS_EFORMAT on bad input, CS_ETOOBIG past max. */
int cs_base64_encode(const void *in, size_t len, char **out, cs_err *err);
int cs_base64_decode(const char *in, size_t len, size_t max, uint8_t **out, size_t *out_len, cs_err *err);

/* Wipe memory in a way the compiler will not remove. */
void cs_wipe(void *p, size_t len);

#endif
