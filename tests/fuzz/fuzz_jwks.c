/* SPDX-License-Identifier: MIT
 * libFuzzer target for SHOPSTREAM_JWT_JWKS_FILE's parser, whose input is a file an
 * operator (or a sync job from an identity provider) writes. Mode by the first byte:
 * (even) the rest is a JWKS document for shop_jwks_parse; (odd) the rest is a token
 * verified against a keyring holding the fixture key under kid "k1", which reaches the
 * header's base64url and kid parsing. Invariants: no crash, no leak, no undefined
 * behaviour; a parsed set has 1..SHOP_JWKS_KEYS_MAX keys, each with a kid, found by it,
 * whose PEM passes the start-time key check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_jwks.h"
#include "edge/core/edge_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public half of tests/fixtures/edge as a JWK (n, e). */
static const char fixture_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"e\":\"AQAB\",\"n\":"
    "\"ruIzoBjq6qJxJ5p8LwGkglSziVtI_xiA-sdocSQnOE0vPMzRxyy1_49tgYuAA1mrduka_fiS5BzdfYdrtbBT"
    "jGVDWtabA4Xjf18vi7wAi8bJ1aC_qUrPxdtY5jqGynXtZ2Lk7ge4k5xXIAMGSsDFFo74tjGxGQOFMBeqTcZt"
    "JHNHnvMJe8vniOyrby5YflgEk5JOz6n1mvUnHY1qynwnNZG5gtnm5VH7ipmiGk6z28O96Vnn9k1K3ufuRwjs"
    "adKdvthmwwcC-GTsgDas9AWsKDmdNN4zcT4uiIQNA4EKLAugjpSWxbNs8kq2zQxRq_jfv2SKxZYoP_BUUuoX"
    "fdtBSw\"}]}";

static void fuzz_parse(const uint8_t *data, size_t size)
{
    struct shop_jwks *ks = NULL;
    struct shop_err err = {0};
    if (shop_jwks_parse((const char *)data, size, &ks, &err) != 0)
        return;
    if (ks->n == 0 || ks->n > SHOP_JWKS_KEYS_MAX)
        abort();
    for (size_t i = 0; i < ks->n; i++) {
        const struct shop_jwk *k = &ks->keys[i];
        if (k->kid[0] == '\0' || shop_jwks_find(ks, k->kid) != k ||
            shop_jwt_key_check(SHOP_JWT_RS256, (const unsigned char *)k->pem, k->pem_len, &err) != 0)
            abort();
    }
    shop_jwks_unref(ks);
}

static void fuzz_token(const uint8_t *data, size_t size)
{
    static struct shop_jwt_keyring kr;
    static int ready;
    if (!ready) {
        struct shop_jwks *ks = NULL;
        if (shop_jwks_parse(fixture_jwks, sizeof(fixture_jwks) - 1, &ks, NULL) != 0)
            abort();   /* the fixture must parse */
        shop_jwt_keyring_init(&kr);
        shop_jwt_keyring_set(&kr, ks);
        ready = 1;
    }
    struct shop_jwt_verifier v = {.alg = SHOP_JWT_RS256, .keyring = &kr, .leeway_s = 30,
                                  .max_lifetime_s = 3600};
    struct shop_jwt_claims c;
    if (shop_jwt_verify(&v, (const char *)data, size, INT64_C(1700000000), &c, NULL) == 0 &&
        (c.sub[0] == '\0' || memchr(c.sub, '\0', sizeof(c.sub)) == NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0)
        fuzz_parse(data + 1, size - 1);
    else
        fuzz_token(data + 1, size - 1);
    return 0;
}
