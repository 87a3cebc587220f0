/*
 * crypto.c - SHA-256 and HMAC-SHA-256 over OpenSSL's libcrypto; ECDSA P-256
 * keys, signatures, randomness (CTR-DRBG), PBKDF2, AES-256-GCM and base64
 * over mbedtls 2.28.
 */
#include "platform/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "platform/file.h"

/* SHA-256 comes from OpenSSL's libcrypto: it uses the CPU's SHA extensions
 * where present (~6x mbedtls 2.28's software hash on this project's
 * machines, and hashing dominates publish, import and verify). */
struct cs_sha256 {
    EVP_MD_CTX *ctx;
};

int cs_sha256_new(cs_sha256 **out)
{
    cs_sha256 *h = malloc(sizeof *h);
    if (!h)
        return CS_ENOMEM;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return CS_ENOMEM;
    }
    *out = h;
    return 0;
}

void cs_sha256_update(cs_sha256 *h, const void *data, size_t len)
{
    EVP_DigestUpdate(h->ctx, data, len);
}

void cs_sha256_final(cs_sha256 *h, uint8_t out[CS_SHA256_LEN])
{
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, out, &n);
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void cs_sha256_free(cs_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void cs_sha256_buf(const void *data, size_t len, uint8_t out[CS_SHA256_LEN])
{
    unsigned int n = 0;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void cs_hex_encode(const uint8_t *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cs_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    if (!hex || strlen(hex) != 2 * len)
        return CS_EFORMAT;
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return CS_EFORMAT;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void cs_wipe(void *p, size_t len)
{
    mbedtls_platform_zeroize(p, len);
}

/* A freshly seeded DRBG for one operation; no global state. */
typedef struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} rng;

static int rng_init(rng *r, cs_err *err)
{
    static const char pers[] = "cistern";
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) != 0) {
        mbedtls_ctr_drbg_free(&r->drbg);
        mbedtls_entropy_free(&r->entropy);
        return cs_err_set(err, CS_ECRYPTO, "cannot seed the random generator");
    }
    return 0;
}

static void rng_free(rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

int cs_random(void *buf, size_t len, cs_err *err)
{
    rng r;
    int rc = rng_init(&r, err);
    if (rc)
        return rc;
    uint8_t *p = buf;
    while (len > 0 && rc == 0) {
        size_t n = len > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : len;
        if (mbedtls_ctr_drbg_random(&r.drbg, p, n) != 0)
            rc = cs_err_set(err, CS_ECRYPTO, "random generator failed");
        p += n;
        len -= n;
    }
    rng_free(&r);
    return rc;
}

struct cs_key {
    mbedtls_pk_context pk;
    int priv;
};

static int key_alloc(cs_key **out)
{
    cs_key *k = calloc(1, sizeof *k);
    if (!k)
        return CS_ENOMEM;
    mbedtls_pk_init(&k->pk);
    *out = k;
    return 0;
}

static int key_check_p256(cs_key *k, cs_err *err)
{
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(k->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return cs_err_set(err, CS_ECRYPTO, "key is not an ECDSA P-256 key");
    return 0;
}

int cs_key_generate(cs_key **out, cs_err *err)
{
    cs_key *k = NULL;
    rng r;
    int rc;
    if (key_alloc(&k))
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if ((rc = rng_init(&r, err)) != 0) {
        cs_key_free(k);
        return rc;
    }
    if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk),
                            mbedtls_ctr_drbg_random, &r.drbg) != 0) {
        rc = cs_err_set(err, CS_ECRYPTO, "cannot generate an ECDSA P-256 key");
        cs_key_free(k);
        k = NULL;
    }
    rng_free(&r);
    if (rc == 0) {
        k->priv = 1;
        *out = k;
    }
    return rc;
}

/* mbedtls wants PEM input NUL-terminated with the NUL counted. */
static int pem_dup(const char *pem, size_t len, unsigned char **out)
{
    unsigned char *p = malloc(len + 1);
    if (!p)
        return CS_ENOMEM;
    memcpy(p, pem, len);
    p[len] = 0;
    *out = p;
    return 0;
}

int cs_key_parse_private(cs_key **out, const char *pem, size_t len, cs_err *err)
{
    cs_key *k = NULL;
    unsigned char *p = NULL;
    int rc = 0;
    if (key_alloc(&k) || pem_dup(pem, len, &p)) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if (mbedtls_pk_parse_key(&k->pk, p, len + 1, NULL, 0) != 0) {
        rc = cs_err_set(err, CS_ECRYPTO, "not a valid PEM private key");
        goto out;
    }
    if ((rc = key_check_p256(k, err)) != 0)
        goto out;
    k->priv = 1;
    *out = k;
    k = NULL;
out:
    if (p) {
        cs_wipe(p, len + 1);
        free(p);
    }
    cs_key_free(k);
    return rc;
}

int cs_key_parse_public(cs_key **out, const char *pem, size_t len, cs_err *err)
{
    cs_key *k = NULL;
    unsigned char *p = NULL;
    int rc = 0;
    if (key_alloc(&k) || pem_dup(pem, len, &p)) {
        rc = cs_err_set(err, CS_ENOMEM, "out of memory");
        goto out;
    }
    if (mbedtls_pk_parse_public_key(&k->pk, p, len + 1) != 0) {
        rc = cs_err_set(err, CS_ECRYPTO, "not a valid PEM public key");
        goto out;
    }
    if ((rc = key_check_p256(k, err)) != 0)
        goto out;
    *out = k;
    k = NULL;
out:
    free(p);
    cs_key_free(k);
    return rc;
}

int cs_key_load_private(cs_key **out, const char *path, cs_err *err)
{
    char *pem = NULL;
    size_t len = 0;
    int rc = cs_file_read_all(path, 16384, &pem, &len, err);
    if (rc)
        return rc;
    rc = cs_key_parse_private(out, pem, len, err);
    if (rc)
        cs_err_wrap(err, "%s", path);
    cs_wipe(pem, len);
    free(pem);
    return rc;
}

int cs_key_write_private_pem(const cs_key *k, char *buf, size_t cap, cs_err *err)
{
    if (!k->priv)
        return cs_err_set(err, CS_EINVAL, "not a private key");
    if (mbedtls_pk_write_key_pem((mbedtls_pk_context *)&k->pk, (unsigned char *)buf, cap) != 0)
        return cs_err_set(err, CS_ECRYPTO, "cannot encode the private key");
    return 0;
}

int cs_key_write_public_pem(const cs_key *k, char *buf, size_t cap, cs_err *err)
{
    if (mbedtls_pk_write_pubkey_pem((mbedtls_pk_context *)&k->pk, (unsigned char *)buf, cap) != 0)
        return cs_err_set(err, CS_ECRYPTO, "cannot encode the public key");
    return 0;
}

int cs_key_id(const cs_key *k, char out[CS_KEYID_HEX], cs_err *err)
{
    unsigned char der[256];
    /* mbedtls writes DER at the end of the buffer and returns its length. */
    int n = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&k->pk, der, sizeof der);
    if (n <= 0)
        return cs_err_set(err, CS_ECRYPTO, "cannot encode the public key");
    uint8_t h[CS_SHA256_LEN];
    cs_sha256_buf(der + sizeof der - n, (size_t)n, h);
    cs_hex_encode(h, sizeof h, out);
    return 0;
}

int cs_key_is_private(const cs_key *k)
{
    return k && k->priv;
}

int cs_key_sign(const cs_key *k, const void *msg, size_t len, uint8_t *sig, size_t *sig_len,
                cs_err *err)
{
    if (!k->priv)
        return cs_err_set(err, CS_EINVAL, "signing needs a private key");
    uint8_t h[CS_SHA256_LEN];
    cs_sha256_buf(msg, len, h);
    rng r;
    int rc = rng_init(&r, err);
    if (rc)
        return rc;
    uint8_t tmp[MBEDTLS_ECDSA_MAX_LEN];
    size_t n = 0;
    if (mbedtls_pk_sign((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, h, sizeof h, tmp, &n,
                        mbedtls_ctr_drbg_random, &r.drbg) != 0 ||
        n > CS_SIG_MAX)
        rc = cs_err_set(err, CS_ECRYPTO, "signing failed");
    rng_free(&r);
    if (rc == 0) {
        memcpy(sig, tmp, n);
        *sig_len = n;
    }
    return rc;
}

int cs_key_verify(const cs_key *k, const void *msg, size_t len, const uint8_t *sig, size_t sig_len,
                  cs_err *err)
{
    uint8_t h[CS_SHA256_LEN];
    cs_sha256_buf(msg, len, h);
    if (sig_len == 0 || sig_len > CS_SIG_MAX ||
        mbedtls_pk_verify((mbedtls_pk_context *)&k->pk, MBEDTLS_MD_SHA256, h, sizeof h, sig,
                          sig_len) != 0)
        return cs_err_set(err, CS_ESIG, "signature does not verify");
    return 0;
}

void cs_key_free(cs_key *k)
{
    if (!k)
        return;
    mbedtls_pk_free(&k->pk); /* mbedtls zeroizes the private scalar */
    cs_wipe(k, sizeof *k);
    free(k);
}

void cs_hmac_sha256(const void *key, size_t klen, const void *msg, size_t len, uint8_t out[CS_SHA256_LEN])
{
    unsigned int n = CS_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)klen, msg, len, out, &n);
}

int cs_pbkdf2_sha256(const void *pw, size_t pwlen, const uint8_t *salt, size_t saltlen, unsigned iterations,
                     uint8_t *out, size_t out_len, cs_err *err)
{
    mbedtls_md_context_t md;
    int rc;
    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, pw, pwlen, salt, saltlen, iterations, (uint32_t)out_len, out);
    mbedtls_md_free(&md);
    return rc ? cs_err_set(err, CS_ECRYPTO, "PBKDF2 failed (mbedtls -0x%04x)", (unsigned)-rc) : 0;
}

int cs_aead_seal(const uint8_t key[CS_AEAD_KEY], const void *aad, size_t aad_len, const void *in, size_t len,
                 uint8_t *out, cs_err *err)
{
    mbedtls_gcm_context g;
    int rc;
    if ((rc = cs_random(out, 12, err)) != 0)
        return rc;
    mbedtls_gcm_init(&g);
    rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (rc == 0)
        rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, out, 12, aad, aad_len, in, out + 12, 16,
                                       out + 12 + len);
    mbedtls_gcm_free(&g);
    return rc ? cs_err_set(err, CS_ECRYPTO, "AES-GCM sealing failed (mbedtls -0x%04x)", (unsigned)-rc) : 0;
}

int cs_aead_open(const uint8_t key[CS_AEAD_KEY], const void *aad, size_t aad_len, const uint8_t *in, size_t len,
                 uint8_t *out, cs_err *err)
{
    mbedtls_gcm_context g;
    int rc;
    if (len < CS_AEAD_OVERHEAD)
        return cs_err_set(err, CS_ECRYPTO, "sealed box too short");
    mbedtls_gcm_init(&g);
    rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (rc == 0)
        rc = mbedtls_gcm_auth_decrypt(&g, len - CS_AEAD_OVERHEAD, in, 12, aad, aad_len, in + len - 16, 16, in + 12,
                                      out);
    mbedtls_gcm_free(&g);
    return rc ? cs_err_set(err, CS_ECRYPTO, "sealed data altered or wrong key") : 0;
}

int cs_base64_encode(const void *in, size_t len, char **out, cs_err *err)
{
    size_t need = 4 * ((len + 2) / 3) + 1, olen = 0;
    char *b = malloc(need);
    if (!b)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if (mbedtls_base64_encode((unsigned char *)b, need, &olen, in, len) != 0) {
        free(b);
        return cs_err_set(err, CS_EINVAL, "base64 encoding failed");
    }
    b[olen] = 0;
    *out = b;
    return 0;
}

int cs_base64_decode(const char *in, size_t len, size_t max, uint8_t **out, size_t *out_len, cs_err *err)
{
    size_t need = 0;
    int rc = mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)in, len);
    if (rc == MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
        return cs_err_set(err, CS_EFORMAT, "not base64");
    if (need > max)
        return cs_err_set(err, CS_ETOOBIG, "decoded data over %zu bytes", max);
    uint8_t *b = malloc(need ? need : 1);
    if (!b)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    if (mbedtls_base64_decode(b, need, out_len, (const unsigned char *)in, len) != 0) {
        free(b);
        return cs_err_set(err, CS_EFORMAT, "not base64");
    }
    *out = b;
    return 0;
}
