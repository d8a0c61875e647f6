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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Integer claim; missing, or not an integer, returns false. */
static bool claim_int(jwt_t *jwt, const char *name, int64_t *out)
{
    char *js = jwt_get_grants_json(jwt, name);
    if (js == NULL)
        return false;
    json_t *v = json_loads(js, JSON_DECODE_ANY, NULL);
    free(js);
    bool ok = v != NULL && json_is_integer(v);
    if (ok)
        *out = (int64_t)json_integer_value(v);
    json_decref(v);
    return ok;
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
    if (!claim_int(jwt, "exp", &exp_s))
        return shop_err_set(err, SHOP_EAUTH, "token has no integer exp claim");
    /* exp and nbf are the token's, up to INT64_MAX/MIN: only now_s and the leeway (both
     * small) are added or subtracted, so nothing overflows (found by tests/fuzz/fuzz_jwt). */
    if (now_s - v->leeway_s >= exp_s)
        return shop_err_set(err, SHOP_EAUTH, "token expired");
    if (claim_int(jwt, "nbf", &nbf_s) && now_s + v->leeway_s < nbf_s)
        return shop_err_set(err, SHOP_EAUTH, "token not yet valid (nbf)");
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
    if (strlen(sub) >= sizeof(out->sub))
        return shop_err_set(err, SHOP_EAUTH, "token sub claim is too long");
    strcpy(out->sub, sub);
    const char *role = jwt_get_grant(jwt, "role");
    out->admin = role != NULL && strcmp(role, "admin") == 0;
    out->exp_s = exp_s;
    return 0;
}

int shop_jwt_verify(const struct shop_jwt_verifier *v, const char *token, size_t len,
                    int64_t now_s, struct shop_jwt_claims *out, struct shop_err *err)
{
    if (len == 0 || len >= SHOP_JWT_TOKEN_MAX)
        return shop_err_set(err, SHOP_EAUTH, "token length %zu out of range", len);
    char buf[SHOP_JWT_TOKEN_MAX];
    memcpy(buf, token, len);
    buf[len] = '\0';

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, buf, v->key, (int)v->key_len) != 0 || jwt == NULL)
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
