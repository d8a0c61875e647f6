/* SPDX-License-Identifier: MIT
 * Bearer-token verification via libjwt 1.10. Pure: no clock, no files.
 * libjwt verifies with whatever algorithm the token header names, so the
 * algorithm is checked explicitly afterwards (alg confusion, alg "none").
 */
#define _POSIX_C_SOURCE 200809L
#include "edge/core/edge_jwt.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edge/core/edge_jwks.h"

const char *shop_jwt_alg_name(enum shop_jwt_alg alg)
{
    return alg == SHOP_JWT_RS256 ? "RS256" : "HS256";
}

int shop_jwt_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len,
                    struct shop_err *err)
{
    if (hdr == NULL || len < 7 || strncasecmp(hdr, "Bearer ", 7) != 0)
        return shop_err_set(err, SHOP_EAUTH, "authorization header is not a bearer token");
    size_t i = 7;
    while (i < len && hdr[i] == ' ')
        i++;
    size_t end = len;
    while (end > i && hdr[end - 1] == ' ')
        end--;
    if (end == i)
        return shop_err_set(err, SHOP_EAUTH, "bearer token is empty");
    *tok = hdr + i;
    *tok_len = end - i;
    return 0;
}

enum claim { CLAIM_MISSING, CLAIM_OK, CLAIM_BAD };

/* An integer claim. Present but not an integer is CLAIM_BAD: a time claim that cannot be
 * read must refuse the token, never be ignored (that would fail open). */
static enum claim claim_int(jwt_t *jwt, const char *name, int64_t *out)
{
    char *js = jwt_get_grants_json(jwt, name);
    if (js == NULL)
        return CLAIM_MISSING;
    json_t *v = json_loads(js, JSON_DECODE_ANY, NULL);
    free(js);
    enum claim c = v != NULL && json_is_integer(v) ? CLAIM_OK : CLAIM_BAD;
    if (c == CLAIM_OK)
        *out = (int64_t)json_integer_value(v);
    json_decref(v);
    return c;
}

/* The same alphabet as an event's user_id (proto/core/event_validate.c), so that a
 * verified subject is always a valid user id, for reads as for writes. */
static bool sub_is_valid(const char *sub)
{
    size_t n = strlen(sub);
    if (n == 0 || n > SHOP_JWT_SUB_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)sub[i] < 0x21 || (unsigned char)sub[i] > 0x7e)
            return false;
    return true;
}

/* exp - from > max, without overflowing for any int64 exp and from. */
static bool longer_than(int64_t exp_s, int64_t from_s, int64_t max_s)
{
    int64_t d;
    if (__builtin_sub_overflow(exp_s, from_s, &d))
        return exp_s > from_s;
    return d > max_s;
}

static int check_lifetime(const struct shop_jwt_verifier *v, jwt_t *jwt, int64_t exp_s,
                          int64_t now_s, struct shop_err *err)
{
    int64_t iat_s;
    enum claim iat = claim_int(jwt, "iat", &iat_s);
    if (iat == CLAIM_BAD)
        return shop_err_set(err, SHOP_EAUTH, "token iat claim is not an integer");
    if (v->max_lifetime_s <= 0)
        return 0;
    if (iat == CLAIM_OK) {
        /* A future iat would let exp - iat look short while the token lives long. */
        if (now_s + v->leeway_s < iat_s)
            return shop_err_set(err, SHOP_EAUTH, "token issued in the future (iat)");
        if (longer_than(exp_s, iat_s, v->max_lifetime_s))
            return shop_err_set(err, SHOP_EAUTH, "token lifetime exp - iat is longer than %lld s",
                                (long long)v->max_lifetime_s);
    } else if (longer_than(exp_s, now_s, v->max_lifetime_s)) {
        return shop_err_set(err, SHOP_EAUTH, "token expires more than %lld s from now",
                            (long long)v->max_lifetime_s);
    }
    return 0;
}

/* aud may be a string or an array of strings (RFC 7519 4.1.3). */
static bool audience_matches(jwt_t *jwt, const char *want)
{
    char *js = jwt_get_grants_json(jwt, "aud");
    if (js == NULL)
        return false;
    json_t *v = json_loads(js, JSON_DECODE_ANY, NULL);
    free(js);
    bool ok = false;
    if (json_is_string(v)) {
        ok = strcmp(json_string_value(v), want) == 0;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (json_is_string(e) && strcmp(json_string_value(e), want) == 0)
                ok = true;
        }
    }
    json_decref(v);
    return ok;
}

static int check_claims(const struct shop_jwt_verifier *v, jwt_t *jwt, int64_t now_s,
                        struct shop_jwt_claims *out, struct shop_err *err)
{
    int64_t exp_s, nbf_s;
    if (claim_int(jwt, "exp", &exp_s) != CLAIM_OK)
        return shop_err_set(err, SHOP_EAUTH, "token has no integer exp claim");
    /* exp and nbf are the token's, up to INT64_MAX/MIN: only now_s and the leeway (both
     * small) are added or subtracted, so nothing overflows (found by tests/fuzz/fuzz_jwt). */
    if (now_s - v->leeway_s >= exp_s)
        return shop_err_set(err, SHOP_EAUTH, "token expired");
    enum claim nbf = claim_int(jwt, "nbf", &nbf_s);
    if (nbf == CLAIM_BAD)
        return shop_err_set(err, SHOP_EAUTH, "token nbf claim is not an integer");
    if (nbf == CLAIM_OK && now_s + v->leeway_s < nbf_s)
        return shop_err_set(err, SHOP_EAUTH, "token not yet valid (nbf)");
    int rc = check_lifetime(v, jwt, exp_s, now_s, err);
    if (rc != 0)
        return rc;
    if (v->issuer != NULL) {
        const char *iss = jwt_get_grant(jwt, "iss");
        if (iss == NULL || strcmp(iss, v->issuer) != 0)
            return shop_err_set(err, SHOP_EAUTH, "token issuer does not match");
    }
    if (v->audience != NULL && !audience_matches(jwt, v->audience))
        return shop_err_set(err, SHOP_EAUTH, "token audience does not match");
    const char *sub = jwt_get_grant(jwt, "sub");
    if (sub == NULL || sub[0] == '\0')
        return shop_err_set(err, SHOP_EAUTH, "token has no sub claim");
    if (!sub_is_valid(sub))
        return shop_err_set(err, SHOP_EAUTH, "token sub claim must be 1..%d printable ASCII "
                                             "characters without spaces", SHOP_JWT_SUB_MAX);
    memcpy(out->sub, sub, strlen(sub) + 1);
    char *role = jwt_get_grants_json(jwt, "role"), *roles = jwt_get_grants_json(jwt, "roles");
    out->roles = shop_edge_role_set_from_claims(role, roles);
    out->admin = shop_edge_role_set_has(out->roles, SHOP_EDGE_ROLE_ADMIN);
    free(role);
    free(roles);
    out->exp_s = exp_s;
    return 0;
}

/* The "kid" of the token's header (its first, base64url part), read before verifying
 * because it chooses the key. */
static int header_kid(const char *tok, size_t len, char kid[SHOP_JWKS_KID_MAX + 1],
                      struct shop_err *err)
{
    const char *dot = memchr(tok, '.', len);
    size_t hlen = dot != NULL ? (size_t)(dot - tok) : 0;
    unsigned char json[SHOP_JWT_TOKEN_MAX];
    ptrdiff_t n = hlen > 0 ? shop_b64url_decode(tok, hlen, json, sizeof(json)) : -1;
    json_t *h = n > 0 ? json_loadb((const char *)json, (size_t)n, 0, NULL) : NULL;
    json_t *k = json_object_get(h, "kid");
    int rc = 0;
    if (!json_is_string(k) || json_string_length(k) == 0 ||
        json_string_length(k) > SHOP_JWKS_KID_MAX ||
        strlen(json_string_value(k)) != json_string_length(k))   /* "\u0000" inside */
        rc = shop_err_set(err, SHOP_EAUTH, "token header has no usable key id (kid)");
    else
        memcpy(kid, json_string_value(k), json_string_length(k) + 1);
    json_decref(h);
    return rc;
}

int shop_jwt_key_check(enum shop_jwt_alg alg, const unsigned char *key, size_t len,
                       struct shop_err *err)
{
    if (alg == SHOP_JWT_HS256) {
        if (len < SHOP_JWT_SECRET_MIN)
            return shop_err_set(err, SHOP_ECONFIG, "HS256 secret is %zu bytes, at least %d needed",
                                len, SHOP_JWT_SECRET_MIN);
        return 0;
    }
    BIO *bio = BIO_new_mem_buf(key, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    int rc = 0;
    if (pkey == NULL)
        rc = shop_err_set(err, SHOP_ECONFIG, "RS256 key is not a PEM public key "
                                             "(-----BEGIN PUBLIC KEY-----)");
    else if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
        rc = shop_err_set(err, SHOP_ECONFIG, "RS256 key is not an RSA key");
    else if (EVP_PKEY_get_bits(pkey) < SHOP_JWT_RSA_BITS_MIN)
        rc = shop_err_set(err, SHOP_ECONFIG, "RS256 key has %d bits, at least %d needed",
                          EVP_PKEY_get_bits(pkey), SHOP_JWT_RSA_BITS_MIN);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return rc;
}

uint64_t shop_jwt_key_generation(const struct shop_jwt_verifier *v)
{
    return v->keyring != NULL ? (uint64_t)atomic_load(&v->keyring->generation) : 0;
}

int shop_jwt_verify(const struct shop_jwt_verifier *v, const char *token, size_t len,
                    int64_t now_s, struct shop_jwt_claims *out, struct shop_err *err)
{
    if (len == 0 || len >= SHOP_JWT_TOKEN_MAX)
        return shop_err_set(err, SHOP_EAUTH, "token length %zu out of range", len);
    char buf[SHOP_JWT_TOKEN_MAX];
    memcpy(buf, token, len);
    buf[len] = '\0';

    const unsigned char *key = v->key;
    size_t key_len = v->key_len;
    struct shop_jwks *ks = NULL;
    if (v->keyring != NULL) {
        char kid[SHOP_JWKS_KID_MAX + 1];
        int rc = header_kid(buf, len, kid, err);
        if (rc != 0)
            return rc;
        ks = shop_jwt_keyring_acquire(v->keyring);
        const struct shop_jwk *k = shop_jwks_find(ks, kid);
        if (k == NULL) {
            shop_jwks_unref(ks);
            return shop_err_set(err, SHOP_EAUTH, "token key id (kid) is not in the key set");
        }
        key = (const unsigned char *)k->pem;
        key_len = k->pem_len;
    }
    jwt_t *jwt = NULL;
    int dec = jwt_decode(&jwt, buf, key, (int)key_len);
    shop_jwks_unref(ks);   /* libjwt is done with the key */
    if (dec != 0 || jwt == NULL)
        return shop_err_set(err, SHOP_EAUTH, "token signature or format invalid");
    jwt_alg_t want = v->alg == SHOP_JWT_RS256 ? JWT_ALG_RS256 : JWT_ALG_HS256;
    int rc;
    if (jwt_get_alg(jwt) != want)
        rc = shop_err_set(err, SHOP_EAUTH, "token algorithm is not %s", shop_jwt_alg_name(v->alg));
    else
        rc = check_claims(v, jwt, now_s, out, err);
    jwt_free(jwt);
    return rc;
}
