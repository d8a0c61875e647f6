/* SPDX-License-Identifier: MIT
 * JWKS parsing (jansson + OpenSSL 3) and the shared keyring. Pure: no files, no clock.
 */
#define _POSIX_C_SOURCE 200809L
#include "edge/core/edge_jwks.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "base/shop_b64url.h"

/* RSA moduli beyond this are refused: 16384 bits is the largest anyone publishes. */
#define MODULUS_BYTES_MAX 2048
#define EXPONENT_BYTES_MAX 8

static int b64_member(json_t *jwk, const char *name, unsigned char *out, size_t cap, size_t *n,
                      const char *kid, struct shop_err *err)
{
    json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return shop_err_set(err, SHOP_EINVAL, "key \"%s\": \"%s\" must be a base64url string",
                            kid, name);
    ptrdiff_t got = shop_b64url_decode(json_string_value(v), json_string_length(v), out, cap);
    if (got <= 0)
        return shop_err_set(err, SHOP_EINVAL, "key \"%s\": \"%s\" is not base64url of 1..%zu bytes",
                            kid, name, cap);
    *n = (size_t)got;
    return 0;
}

/* EVP_PKEY from the big-endian n and e, written out as PEM for libjwt. */
static int rsa_pem(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
                   struct shop_jwk *out, struct shop_err *err)
{
    int rc = SHOP_EINVAL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL), *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    if (bn_n == NULL || bn_e == NULL || bld == NULL || ctx == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        shop_err_set(err, SHOP_EINVAL, "key \"%s\": not a valid RSA public key", out->kid);
        goto done;
    }
    out->bits = EVP_PKEY_get_bits(pkey);
    /* An even or tiny exponent is no RSA key anyone should sign with. */
    if (!BN_is_odd(bn_e) || BN_num_bits(bn_e) < 2) {
        shop_err_set(err, SHOP_EINVAL, "key \"%s\": exponent e must be odd and at least 3", out->kid);
        goto done;
    }
    if (out->bits < SHOP_JWKS_RSA_BITS_MIN) {
        shop_err_set(err, SHOP_EINVAL, "key \"%s\": %d-bit RSA key, at least %d bits needed",
                     out->kid, out->bits, SHOP_JWKS_RSA_BITS_MIN);
        goto done;
    }
    char *data = NULL;
    long len;
    if ((bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PUBKEY(bio, pkey) ||
        (len = BIO_get_mem_data(bio, &data)) <= 0) {
        shop_err_set(err, SHOP_EINVAL, "key \"%s\": could not encode the public key", out->kid);
        goto done;
    }
    out->pem = shop_xmalloc((size_t)len + 1);
    memcpy(out->pem, data, (size_t)len);
    out->pem[len] = '\0';
    out->pem_len = (size_t)len;
    rc = 0;
done:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return rc;
}

/* An optional string member that, when present, must equal want. */
static bool member_absent_or(json_t *jwk, const char *name, const char *want)
{
    json_t *v = json_object_get(jwk, name);
    return v == NULL || (json_is_string(v) && strcmp(json_string_value(v), want) == 0);
}

/* 1: a usable key was added; 0: skipped (another type or use); SHOP_EINVAL: broken. */
static int parse_key(json_t *jwk, size_t i, struct shop_jwks *ks, struct shop_err *err)
{
    if (!json_is_object(jwk))
        return shop_err_set(err, SHOP_EINVAL, "keys[%zu] is not an object", i);
    json_t *kty = json_object_get(jwk, "kty");
    if (!json_is_string(kty))
        return shop_err_set(err, SHOP_EINVAL, "keys[%zu] has no \"kty\"", i);
    if (strcmp(json_string_value(kty), "RSA") != 0 || !member_absent_or(jwk, "use", "sig") ||
        !member_absent_or(jwk, "alg", "RS256"))
        return 0;
    json_t *kid = json_object_get(jwk, "kid");
    size_t kid_len = json_is_string(kid) ? json_string_length(kid) : 0;
    if (kid_len == 0 || kid_len > SHOP_JWKS_KID_MAX || strlen(json_string_value(kid)) != kid_len)
        return shop_err_set(err, SHOP_EINVAL, "keys[%zu] needs a \"kid\" of 1..%d bytes", i,
                            SHOP_JWKS_KID_MAX);
    if (shop_jwks_find(ks, json_string_value(kid)) != NULL)
        return shop_err_set(err, SHOP_EINVAL, "keys[%zu]: kid \"%s\" appears twice", i,
                            json_string_value(kid));
    if (ks->n == SHOP_JWKS_KEYS_MAX)
        return shop_err_set(err, SHOP_EINVAL, "more than %d usable keys", SHOP_JWKS_KEYS_MAX);
    struct shop_jwk *k = &ks->keys[ks->n];
    memset(k, 0, sizeof(*k));
    memcpy(k->kid, json_string_value(kid), kid_len + 1);
    unsigned char n[MODULUS_BYTES_MAX], e[EXPONENT_BYTES_MAX];
    size_t n_len, e_len;
    int rc;
    if ((rc = b64_member(jwk, "n", n, sizeof(n), &n_len, k->kid, err)) != 0 ||
        (rc = b64_member(jwk, "e", e, sizeof(e), &e_len, k->kid, err)) != 0 ||
        (rc = rsa_pem(n, n_len, e, e_len, k, err)) != 0)
        return rc;
    ks->n++;
    return 1;
}

int shop_jwks_parse(const char *json, size_t len, struct shop_jwks **out, struct shop_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return shop_err_set(err, SHOP_EINVAL, "not JSON: %s (line %d)", jerr.text, jerr.line);
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        json_decref(doc);
        return shop_err_set(err, SHOP_EINVAL, "no \"keys\" array");
    }
    struct shop_jwks *ks =
        shop_xcalloc(1, sizeof(*ks) + SHOP_JWKS_KEYS_MAX * sizeof(struct shop_jwk));
    atomic_init(&ks->refs, 1);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(keys) && rc >= 0; i++) {
        rc = parse_key(json_array_get(keys, i), i, ks, err);
        if (rc == 0)
            ks->skipped++;
    }
    json_decref(doc);
    if (rc >= 0 && ks->n == 0)
        rc = shop_err_set(err, SHOP_EINVAL, "no RSA signing key (RS256) in the set");
    if (rc < 0) {
        shop_jwks_unref(ks);
        return rc;
    }
    *out = ks;
    return 0;
}

const struct shop_jwk *shop_jwks_find(const struct shop_jwks *ks, const char *kid)
{
    for (size_t i = 0; ks != NULL && kid != NULL && i < ks->n; i++)
        if (strcmp(ks->keys[i].kid, kid) == 0)
            return &ks->keys[i];
    return NULL;
}

void shop_jwks_unref(struct shop_jwks *ks)
{
    if (ks == NULL || atomic_fetch_sub(&ks->refs, 1) != 1)
        return;
    for (size_t i = 0; i < ks->n; i++)
        free(ks->keys[i].pem);
    free(ks);
}

void shop_jwt_keyring_init(struct shop_jwt_keyring *kr)
{
    pthread_mutex_init(&kr->mu, NULL);
    kr->current = NULL;
    atomic_init(&kr->generation, 0);
}

void shop_jwt_keyring_set(struct shop_jwt_keyring *kr, struct shop_jwks *ks)
{
    pthread_mutex_lock(&kr->mu);
    struct shop_jwks *old = kr->current;
    kr->current = ks;
    /* Bumped after the swap: whoever sees the new generation finds the new keys. */
    atomic_fetch_add(&kr->generation, 1);
    pthread_mutex_unlock(&kr->mu);
    shop_jwks_unref(old);   /* freed here or by the last verification still using it */
}

struct shop_jwks *shop_jwt_keyring_acquire(struct shop_jwt_keyring *kr)
{
    pthread_mutex_lock(&kr->mu);
    struct shop_jwks *ks = kr->current;
    if (ks != NULL)
        atomic_fetch_add(&ks->refs, 1);
    pthread_mutex_unlock(&kr->mu);
    return ks;
}

void shop_jwt_keyring_fini(struct shop_jwt_keyring *kr)
{
    shop_jwks_unref(kr->current);
    kr->current = NULL;
    pthread_mutex_destroy(&kr->mu);
}
