/* SPDX-License-Identifier: MIT
 * shop_jwt_verify: algorithms, signatures, time claims, issuer, audience, subject, roles. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <jwt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_jwt.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1700000000L

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SHOP_EDGE_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s", path);
    char *buf = calloc(1, 16384);
    *len = fread(buf, 1, 16383, f);
    fclose(f);
    return buf;
}

struct mint {
    jwt_alg_t alg;
    const char *sub, *role, *iss, *aud;
    const char *extra;      /* more claims as a JSON object, e.g. {"roles":[...]} */
    long exp, nbf;
    bool no_exp, aud_array;
};

static char *mint(const struct mint *m)
{
    jwt_t *jwt;
    cr_assert_eq(jwt_new(&jwt), 0);
    if (m->sub != NULL)
        jwt_add_grant(jwt, "sub", m->sub);
    if (!m->no_exp)
        jwt_add_grant_int(jwt, "exp", m->exp != 0 ? m->exp : NOW + 600);
    if (m->nbf != 0)
        jwt_add_grant_int(jwt, "nbf", m->nbf);
    if (m->role != NULL)
        jwt_add_grant(jwt, "role", m->role);
    if (m->iss != NULL)
        jwt_add_grant(jwt, "iss", m->iss);
    if (m->extra != NULL)
        cr_assert_eq(jwt_add_grants_json(jwt, m->extra), 0);
    if (m->aud != NULL && !m->aud_array)
        jwt_add_grant(jwt, "aud", m->aud);
    if (m->aud != NULL && m->aud_array) {
        char js[128];
        snprintf(js, sizeof(js), "{\"aud\":[\"other\",\"%s\"]}", m->aud);
        jwt_add_grants_json(jwt, js);
    }
    size_t len = 0;
    char *key = NULL;
    if (m->alg == JWT_ALG_RS256)
        key = slurp("rs256_private.pem", &len);
    else if (m->alg == JWT_ALG_HS256)
        key = strdup(SECRET), len = strlen(SECRET);
    cr_assert_eq(jwt_set_alg(jwt, m->alg, (unsigned char *)key, (int)len), 0);
    char *tok = jwt_encode_str(jwt);
    cr_assert_not_null(tok);
    jwt_free(jwt);
    free(key);
    return tok;
}

static struct shop_jwt_verifier hs256(void)
{
    return (struct shop_jwt_verifier){.alg = SHOP_JWT_HS256, .key = (const unsigned char *)SECRET,
                                      .key_len = strlen(SECRET)};
}

static int verify(const struct shop_jwt_verifier *v, const char *tok, struct shop_jwt_claims *c,
                  struct shop_err *err)
{
    return shop_jwt_verify(v, tok, strlen(tok), NOW, c, err);
}

Test(jwt, accepts_valid_hs256)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1"});
    cr_assert_eq(verify(&v, tok, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.sub, "u1");
    cr_assert_not(c.admin);
    free(tok);
}

Test(jwt, accepts_valid_rs256_and_reads_admin_role)
{
    size_t len;
    char *pub = slurp("rs256_public.pem", &len);
    struct shop_jwt_verifier v = {.alg = SHOP_JWT_RS256, .key = (unsigned char *)pub, .key_len = len};
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char *tok = mint(&(struct mint){.alg = JWT_ALG_RS256, .sub = "ops", .role = "admin"});
    cr_assert_eq(verify(&v, tok, &c, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c.sub, "ops");
    cr_assert(c.admin);
    free(tok);
    free(pub);
}

Test(jwt, rejects_alg_none)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_NONE, .sub = "u1"});
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH);
    free(tok);
}

Test(jwt, rejects_hs256_signed_with_the_rs256_public_key)
{
    /* The classic confusion: the attacker HMACs with the public key bytes. */
    size_t len;
    char *pub = slurp("rs256_public.pem", &len);
    jwt_t *jwt;
    jwt_new(&jwt);
    jwt_add_grant(jwt, "sub", "attacker");
    jwt_add_grant_int(jwt, "exp", NOW + 600);
    jwt_set_alg(jwt, JWT_ALG_HS256, (unsigned char *)pub, (int)len);
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    struct shop_jwt_verifier v = {.alg = SHOP_JWT_RS256, .key = (unsigned char *)pub, .key_len = len};
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH);
    free(tok);
    free(pub);
}

Test(jwt, rejects_rs256_when_hs256_is_configured)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_RS256, .sub = "u1"});
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH);
    free(tok);
}

Test(jwt, rejects_bad_signature)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1"});
    char *last = tok + strlen(tok) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH);
    v.key = (const unsigned char *)"another-secret-another-secret-xx";
    free(tok);
    tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1"});
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH);
    free(tok);
}

Test(jwt, rejects_garbage)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    cr_assert_eq(verify(&v, "not.a.token", &c, NULL), SHOP_EAUTH);
    cr_assert_eq(verify(&v, "", &c, NULL), SHOP_EAUTH);
}

Test(jwt, rejects_expired_and_missing_exp)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .exp = NOW - 1});
    cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "expired") != NULL, "%s", err.msg);
    free(tok);
    tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .no_exp = true});
    cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "exp") != NULL);
    free(tok);
}

Test(jwt, leeway_covers_small_clock_skew)
{
    struct shop_jwt_verifier v = hs256();
    v.leeway_s = 30;
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .exp = NOW - 10});
    cr_assert_eq(verify(&v, tok, &c, NULL), 0);
    free(tok);
}

Test(jwt, extreme_time_claims_do_not_overflow)
{
    struct shop_jwt_verifier v = hs256();
    v.leeway_s = 30;
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .exp = INT64_MAX,
                                    .nbf = INT64_MIN});
    cr_assert_eq(verify(&v, tok, &c, NULL), 0, "far future exp, far past nbf");
    free(tok);
    tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .exp = INT64_MIN});
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH, "exp in the far past");
    free(tok);
}

Test(jwt, rejects_not_yet_valid)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .nbf = NOW + 100});
    cr_assert_eq(verify(&v, tok, &c, NULL), SHOP_EAUTH);
    free(tok);
    tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .nbf = NOW - 100});
    cr_assert_eq(verify(&v, tok, &c, NULL), 0);
    free(tok);
}

Test(jwt, checks_issuer_when_configured)
{
    struct shop_jwt_verifier v = hs256();
    v.issuer = "https://auth.shop";
    struct shop_jwt_claims c;
    char *ok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .iss = "https://auth.shop"});
    char *bad = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .iss = "https://evil"});
    char *none = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1"});
    cr_assert_eq(verify(&v, ok, &c, NULL), 0);
    cr_assert_eq(verify(&v, bad, &c, NULL), SHOP_EAUTH);
    cr_assert_eq(verify(&v, none, &c, NULL), SHOP_EAUTH);
    free(ok);
    free(bad);
    free(none);
}

Test(jwt, checks_audience_string_or_array)
{
    struct shop_jwt_verifier v = hs256();
    v.audience = "shopstream";
    struct shop_jwt_claims c;
    char *s = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .aud = "shopstream"});
    char *a = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .aud = "shopstream",
                                  .aud_array = true});
    char *bad = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .aud = "billing"});
    cr_assert_eq(verify(&v, s, &c, NULL), 0);
    cr_assert_eq(verify(&v, a, &c, NULL), 0);
    cr_assert_eq(verify(&v, bad, &c, NULL), SHOP_EAUTH);
    free(s);
    free(a);
    free(bad);
}

Test(jwt, requires_sub)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256});
    cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "sub") != NULL);
    free(tok);
}

Test(jwt, non_admin_role_is_not_admin)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .role = "administrator"});
    cr_assert_eq(verify(&v, tok, &c, NULL), 0);
    cr_assert_not(c.admin);
    free(tok);
}

Test(jwt, bearer_header_parsing)
{
    const char *tok;
    size_t len;
    const char *h = "Bearer abc.def.ghi";
    cr_assert_eq(shop_jwt_bearer(h, strlen(h), &tok, &len, NULL), 0);
    cr_assert_eq(len, 11);
    cr_assert_eq(strncmp(tok, "abc.def.ghi", len), 0);
    cr_assert_eq(shop_jwt_bearer("Basic Zm9v", 10, &tok, &len, NULL), SHOP_EAUTH);
    cr_assert_eq(shop_jwt_bearer("Bearer ", 7, &tok, &len, NULL), SHOP_EAUTH);
}

/* An HS256 token with exactly these claims (a JSON object). */
static char *mint_json(const char *claims)
{
    jwt_t *jwt;
    cr_assert_eq(jwt_new(&jwt), 0);
    cr_assert_eq(jwt_add_grants_json(jwt, claims), 0, "%s", claims);
    cr_assert_eq(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET)), 0);
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    cr_assert_not_null(tok);
    return tok;
}

static int verify_json(const struct shop_jwt_verifier *v, const char *claims, struct shop_err *err)
{
    char *tok = mint_json(claims);
    struct shop_jwt_claims c;
    int rc = verify(v, tok, &c, err);
    free(tok);
    return rc;
}

Test(jwt, non_integer_nbf_and_iat_are_refused_not_ignored)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_err err = {0};
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":1700000600,\"nbf\":\"later\"}", &err),
                 SHOP_EAUTH, "a string nbf fails open if ignored");
    cr_assert(strstr(err.msg, "nbf") != NULL, "%s", err.msg);
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":1700000600,\"nbf\":1700000900.5}", &err),
                 SHOP_EAUTH);
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":1700000600,\"nbf\":null}", &err), SHOP_EAUTH);
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":1700000600,\"iat\":\"x\"}", &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "iat") != NULL, "%s", err.msg);
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":\"1700000600\"}", &err), SHOP_EAUTH);
    cr_assert_eq(verify_json(&v, "{\"sub\":\"u1\",\"exp\":1700000600,\"nbf\":1699999000,"
                                 "\"iat\":1699999000}", &err), 0, "%s", err.msg);
}

Test(jwt, sub_of_1_to_128_printable_characters)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char sub[200];
    memset(sub, 'a', sizeof(sub));
    sub[128] = '\0';
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = sub});
    cr_assert_eq(verify(&v, tok, &c, &err), 0, "128 characters are documented as valid: %s", err.msg);
    cr_assert_eq(strlen(c.sub), 128);
    free(tok);
    sub[128] = 'a';
    sub[129] = '\0';
    tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = sub});
    cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH, "129 characters");
    free(tok);
    const char *bad[] = {"u 1", "u\t1", "u\x7f", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = bad[i]});
        cr_assert_eq(verify(&v, tok, &c, &err), SHOP_EAUTH, "sub %zu is no valid user id", i);
        cr_assert(strstr(err.msg, "sub") != NULL, "%s", err.msg);
        free(tok);
    }
}

Test(jwt, max_lifetime_from_iat_or_from_now)
{
    struct shop_jwt_verifier v = hs256();
    v.leeway_s = 30;
    struct shop_err err = {0};
    char js[256];
    /* Off by default: a ten-year token passes. */
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}", NOW, NOW + 315360000L);
    cr_assert_eq(verify_json(&v, js, &err), 0, "%s", err.msg);
    v.max_lifetime_s = 3600;
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "lifetime") != NULL, "%s", err.msg);
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}", NOW - 100, NOW - 100 + 3600);
    cr_assert_eq(verify_json(&v, js, &err), 0, "exactly the bound: %s", err.msg);
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}", NOW - 100, NOW - 100 + 3601);
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH, "one second past the bound");
    /* Without iat: measured from now. */
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"exp\":%ld}", NOW + 3600);
    cr_assert_eq(verify_json(&v, js, &err), 0, "%s", err.msg);
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"exp\":%ld}", NOW + 3601);
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH);
    /* A future iat cannot make a long-lived token look short. */
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"iat\":%ld,\"exp\":%ld}", NOW + 86400, NOW + 86400 + 60);
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "iat") != NULL, "%s", err.msg);
    /* Extremes do not overflow exp - iat. */
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"iat\":%lld,\"exp\":%lld}", (long long)INT64_MIN,
             (long long)INT64_MAX);
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH);
    snprintf(js, sizeof(js), "{\"sub\":\"u1\",\"exp\":%lld}", (long long)INT64_MAX);
    cr_assert_eq(verify_json(&v, js, &err), SHOP_EAUTH);
}

Test(jwt, key_check_at_start)
{
    struct shop_err err = {0};
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_HS256, (const unsigned char *)SECRET, 32, &err), 0);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_HS256, (const unsigned char *)SECRET, 31, &err),
                 SHOP_ECONFIG);
    cr_assert(strstr(err.msg, "32") != NULL, "%s", err.msg);
    size_t len;
    char *pub = slurp("rs256_public.pem", &len);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_RS256, (unsigned char *)pub, len, &err), 0, "%s", err.msg);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_RS256, (unsigned char *)pub, len / 2, &err),
                 SHOP_ECONFIG, "truncated");
    free(pub);
    char *priv = slurp("rs256_private.pem", &len);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_RS256, (unsigned char *)priv, len, &err),
                 SHOP_ECONFIG, "a private key is not the public key file");
    free(priv);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_RS256, (const unsigned char *)"garbage", 7, &err),
                 SHOP_ECONFIG);
}

/* The roles of a verified token, from "role" and "roles" (edge_role.c). */
static unsigned roles_of(const char *role, const char *extra)
{
    struct shop_jwt_verifier v = hs256();
    struct shop_jwt_claims c;
    struct shop_err err = {0};
    char *tok = mint(&(struct mint){.alg = JWT_ALG_HS256, .sub = "u1", .role = role, .extra = extra});
    cr_assert_eq(verify(&v, tok, &c, &err), 0, "%s", err.msg);
    free(tok);
    cr_assert_eq(c.admin, (c.roles & SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_ADMIN)) != 0);
    return c.roles;
}

Test(jwt, roles_from_role_string_or_roles_array)
{
    const unsigned shopper = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), service = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE),
                   admin = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_ADMIN);
    cr_assert_eq(roles_of(NULL, NULL), shopper, "no role claim: the shopper default");
    cr_assert_eq(roles_of("service", NULL), service);
    cr_assert_eq(roles_of("admin", NULL), admin);
    cr_assert_eq(roles_of(NULL, "{\"roles\":[\"service\",\"admin\"]}"), service | admin);
    cr_assert_eq(roles_of("shopper", "{\"roles\":[\"service\"]}"), shopper | service, "both claims count");
    cr_assert_eq(roles_of(NULL, "{\"roles\":[\"root\",\"service\",7]}"), service, "unknown entries ignored");
    cr_assert_eq(roles_of("administrator", NULL), shopper, "only unknown names: shopper");
    cr_assert_eq(roles_of(NULL, "{\"roles\":[]}"), shopper);
    cr_assert_eq(roles_of(NULL, "{\"role\":true}"), shopper, "a non-string role grants nothing");
    cr_assert_eq(roles_of(NULL, "{\"roles\":\"admin\"}"), admin, "roles may be one string");
    cr_assert_eq(roles_of("Admin", NULL), shopper, "names are exact and lower case");
}
