/* SPDX-License-Identifier: MIT
 * JWKS: parsing (kid, n, e, skipped keys, broken documents), base64url, RS256 tokens
 * verified by the key their kid names, and rotation through the keyring (generation).
 * Keys are the committed test fixture plus ones generated here with OpenSSL. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_jwks.h"
#include "edge/core/edge_jwt.h"

#define NOW 1700000000L

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SHOP_EDGE_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "fixture %s", path);
    char *buf = calloc(1, 16384);
    fread(buf, 1, 16383, f);
    fclose(f);
    return buf;
}

static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = abc[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

static void bn_b64(EVP_PKEY *k, const char *param, char *out)
{
    BIGNUM *bn = NULL;
    cr_assert(EVP_PKEY_get_bn_param(k, param, &bn));
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    b64url(buf, (size_t)n, out);
    BN_free(bn);
}

/* {"kty":"RSA","kid":kid,"n":...,"e":...} plus extra members. */
static char *jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
    char n[1500], e[16];
    bn_b64(k, OSSL_PKEY_PARAM_RSA_N, n);
    bn_b64(k, OSSL_PKEY_PARAM_RSA_E, e);
    char *out = malloc(2000);
    snprintf(out, 2000, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid, n, e,
             extra);
    return out;
}

static EVP_PKEY *fixture_key(void)
{
    char *pem = slurp("rs256_private.pem");
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    cr_assert_not_null(k);
    return k;
}

static char *private_pem(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL));
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)len);
    BIO_free(bio);
    return out;
}

/* An RS256 token for sub, signed by k, with kid in its header when not NULL. */
static char *mint_rs(EVP_PKEY *k, const char *kid)
{
    jwt_t *jwt;
    cr_assert_eq(jwt_new(&jwt), 0);
    jwt_add_grant(jwt, "sub", "u1");
    jwt_add_grant_int(jwt, "exp", NOW + 600);
    if (kid != NULL)
        cr_assert_eq(jwt_add_header(jwt, "kid", kid), 0);
    char *pem = private_pem(k);
    cr_assert_eq(jwt_set_alg(jwt, JWT_ALG_RS256, (unsigned char *)pem, (int)strlen(pem)), 0);
    char *tok = jwt_encode_str(jwt);
    cr_assert_not_null(tok);
    jwt_free(jwt);
    free(pem);
    return tok;
}

static int parse(const char *doc, struct shop_jwks **ks, struct shop_err *err)
{
    return shop_jwks_parse(doc, strlen(doc), ks, err);
}

Test(jwks, base64url)
{
    unsigned char out[16];
    cr_assert_eq(shop_b64url_decode("AQAB", 4, out, sizeof(out)), 3);
    cr_assert(out[0] == 1 && out[1] == 0 && out[2] == 1);
    cr_assert_eq(shop_b64url_decode("-_8", 3, out, sizeof(out)), 2);
    cr_assert(out[0] == 0xfb && out[1] == 0xff);
    cr_assert_eq(shop_b64url_decode("AQ==", 4, out, sizeof(out)), 1, "padding tolerated");
    cr_assert_eq(shop_b64url_decode("A", 1, out, sizeof(out)), -1);
    cr_assert_eq(shop_b64url_decode("AQ+B", 4, out, sizeof(out)), -1, "base64, not base64url");
    cr_assert_eq(shop_b64url_decode("AQAB", 4, out, 2), -1, "no room");
    cr_assert_eq(shop_b64url_decode("", 0, out, sizeof(out)), 0);
}

Test(jwks, parses_rsa_keys_and_skips_other_types_and_uses)
{
    EVP_PKEY *k = fixture_key();
    char *a = jwk(k, "a", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    char *enc = jwk(k, "enc", ",\"use\":\"enc\"");
    char *ps = jwk(k, "ps", ",\"alg\":\"PS256\"");
    char doc[8192];
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\"},%s,%s]}",
             a, enc, ps);
    struct shop_jwks *ks = NULL;
    struct shop_err err = {0};
    cr_assert_eq(parse(doc, &ks, &err), 0, "%s", err.msg);
    cr_assert_eq(ks->n, 1);
    cr_assert_eq(ks->skipped, 3);
    const struct shop_jwk *key = shop_jwks_find(ks, "a");
    cr_assert_not_null(key);
    cr_assert_eq(key->bits, 2048);
    cr_assert(strncmp(key->pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
    cr_assert_eq(shop_jwt_key_check(SHOP_JWT_RS256, (unsigned char *)key->pem, key->pem_len, &err), 0);
    cr_assert_null(shop_jwks_find(ks, "enc"));
    shop_jwks_unref(ks);
    free(a), free(enc), free(ps);
    EVP_PKEY_free(k);
}

Test(jwks, refuses_broken_documents)
{
    EVP_PKEY *k = fixture_key();
    char *a = jwk(k, "a", "");
    char *nokid = jwk(k, "", "");
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *weak = jwk(small, "weak", "");
    char doc[8192];
    struct shop_jwks *ks = NULL;
    struct shop_err err = {0};
    const char *plain[] = {"", "[]", "{\"keys\":{}}", "{\"keys\":[]}", "{\"keys\":[1]}",
                           "{\"keys\":[{\"kty\":\"EC\"}]}", "{\"keys\":[{\"n\":\"AQAB\"}]}",
                           "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\",\"n\":\"!!\",\"e\":\"AQAB\"}]}",
                           "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
                           "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\",\"e\":\"AQAB\"}]}"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        cr_assert_eq(parse(plain[i], &ks, &err), SHOP_EINVAL, "accepted %s", plain[i]);
        cr_assert_neq(err.msg[0], '\0');
    }
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", a, a);
    cr_assert_eq(parse(doc, &ks, &err), SHOP_EINVAL);
    cr_assert(strstr(err.msg, "twice") != NULL, "%s", err.msg);
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", a, nokid);
    cr_assert_eq(parse(doc, &ks, &err), SHOP_EINVAL, "a usable key without kid");
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", a, weak);
    cr_assert_eq(parse(doc, &ks, &err), SHOP_EINVAL);
    cr_assert(strstr(err.msg, "1024") != NULL, "%s", err.msg);
    free(a), free(nokid), free(weak);
    EVP_PKEY_free(small);
    EVP_PKEY_free(k);
}

Test(jwks, token_verified_by_the_key_its_kid_names)
{
    EVP_PKEY *k1 = fixture_key(), *k2 = EVP_RSA_gen(2048);
    char *j1 = jwk(k1, "k1", ""), *j2 = jwk(k2, "k2", "");
    char doc[8192];
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", j1, j2);
    struct shop_jwks *ks = NULL;
    struct shop_err err = {0};
    cr_assert_eq(parse(doc, &ks, &err), 0, "%s", err.msg);
    struct shop_jwt_keyring kr;
    shop_jwt_keyring_init(&kr);
    struct shop_jwt_verifier v = {.alg = SHOP_JWT_RS256, .keyring = &kr};
    cr_assert_eq(shop_jwt_key_generation(&v), 0);
    shop_jwt_keyring_set(&kr, ks);
    cr_assert_eq(shop_jwt_key_generation(&v), 1);
    struct shop_jwt_claims c;
    char *t1 = mint_rs(k1, "k1"), *t2 = mint_rs(k2, "k2");
    char *wrong = mint_rs(k1, "k2"), *unknown = mint_rs(k1, "k3"), *nokid = mint_rs(k1, NULL);
    cr_assert_eq(shop_jwt_verify(&v, t1, strlen(t1), NOW, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(shop_jwt_verify(&v, t2, strlen(t2), NOW, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(shop_jwt_verify(&v, wrong, strlen(wrong), NOW, &c, &err), SHOP_EAUTH,
                 "signed by k1 but names k2");
    cr_assert_eq(shop_jwt_verify(&v, unknown, strlen(unknown), NOW, &c, &err), SHOP_EAUTH);
    cr_assert(strstr(err.msg, "kid") != NULL, "%s", err.msg);
    cr_assert_eq(shop_jwt_verify(&v, nokid, strlen(nokid), NOW, &c, &err), SHOP_EAUTH);

    /* Rotation: k1 leaves, k3 arrives; the generation moves on. */
    EVP_PKEY *k3 = EVP_RSA_gen(2048);
    char *j3 = jwk(k3, "k3", "");
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", j2, j3);
    struct shop_jwks *next = NULL;
    cr_assert_eq(parse(doc, &next, &err), 0, "%s", err.msg);
    struct shop_jwks *held = shop_jwt_keyring_acquire(&kr);   /* a verification in flight */
    shop_jwt_keyring_set(&kr, next);
    cr_assert_eq(shop_jwt_key_generation(&v), 2);
    cr_assert_not_null(shop_jwks_find(held, "k1"), "the old set lives while it is held");
    shop_jwks_unref(held);
    char *t3 = mint_rs(k3, "k3");
    cr_assert_eq(shop_jwt_verify(&v, t1, strlen(t1), NOW, &c, &err), SHOP_EAUTH, "k1 was removed");
    cr_assert_eq(shop_jwt_verify(&v, t2, strlen(t2), NOW, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(shop_jwt_verify(&v, t3, strlen(t3), NOW, &c, &err), 0, "%s", err.msg);
    shop_jwt_keyring_fini(&kr);
    free(t1), free(t2), free(t3), free(wrong), free(unknown), free(nokid);
    free(j1), free(j2), free(j3);
    EVP_PKEY_free(k1), EVP_PKEY_free(k2), EVP_PKEY_free(k3);
}

Test(jwks, hs256_signed_with_a_jwks_pem_is_refused)
{
    EVP_PKEY *k = fixture_key();
    char *j = jwk(k, "k1", "");
    char doc[4096];
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", j);
    struct shop_jwks *ks = NULL;
    cr_assert_eq(parse(doc, &ks, NULL), 0);
    struct shop_jwt_keyring kr;
    shop_jwt_keyring_init(&kr);
    shop_jwt_keyring_set(&kr, ks);
    const struct shop_jwk *key = shop_jwks_find(ks, "k1");
    jwt_t *jwt;
    jwt_new(&jwt);
    jwt_add_grant(jwt, "sub", "attacker");
    jwt_add_grant_int(jwt, "exp", NOW + 600);
    jwt_add_header(jwt, "kid", "k1");
    jwt_set_alg(jwt, JWT_ALG_HS256, (unsigned char *)key->pem, (int)key->pem_len);
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    struct shop_jwt_verifier v = {.alg = SHOP_JWT_RS256, .keyring = &kr};
    struct shop_jwt_claims c;
    cr_assert_eq(shop_jwt_verify(&v, tok, strlen(tok), NOW, &c, NULL), SHOP_EAUTH);
    shop_jwt_keyring_fini(&kr);
    free(tok);
    free(j);
    EVP_PKEY_free(k);
}
