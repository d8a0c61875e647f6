/* SPDX-License-Identifier: MIT
 * libFuzzer target for the edge's JWT parsing, its untrusted Authorization
 * header. Mode by the first byte: (even) the rest is a header value for
 * shop_jwt_bearer + shop_jwt_verify under HS256 and RS256 verifiers; (odd) the
 * rest is a claims JSON object, signed with the HS256 key so that fuzzing
 * reaches the claim checks (exp, nbf, iss, aud string/array, sub, role / roles)
 * past the signature. Invariant checked: no crash, no leak, no undefined behaviour;
 * an accepted token has a non-empty, terminated sub and a non-empty set of known roles.
 */
#include <jwt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_S INT64_C(1700000000)

static const unsigned char hs_key[] = "fuzz-secret-0123456789abcdef-0123456789";

/* Test-only key pair of tests/fixtures/edge (public half). */
static const char rs_public[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAruIzoBjq6qJxJ5p8LwGk\n"
    "glSziVtI/xiA+sdocSQnOE0vPMzRxyy1/49tgYuAA1mrduka/fiS5BzdfYdrtbBT\n"
    "jGVDWtabA4Xjf18vi7wAi8bJ1aC/qUrPxdtY5jqGynXtZ2Lk7ge4k5xXIAMGSsDF\n"
    "Fo74tjGxGQOFMBeqTcZtJHNHnvMJe8vniOyrby5YflgEk5JOz6n1mvUnHY1qynwn\n"
    "NZG5gtnm5VH7ipmiGk6z28O96Vnn9k1K3ufuRwjsadKdvthmwwcC+GTsgDas9AWs\n"
    "KDmdNN4zcT4uiIQNA4EKLAugjpSWxbNs8kq2zQxRq/jfv2SKxZYoP/BUUuoXfdtB\n"
    "SwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static void verify_all(const char *tok, size_t len, bool with_iss_aud)
{
    struct shop_jwt_verifier hs = {.alg = SHOP_JWT_HS256, .key = hs_key,
                                   .key_len = sizeof(hs_key) - 1, .leeway_s = 30};
    struct shop_jwt_verifier rs = {.alg = SHOP_JWT_RS256, .key = (const unsigned char *)rs_public,
                                   .key_len = sizeof(rs_public) - 1, .leeway_s = 30};
    if (with_iss_aud) {
        hs.issuer = rs.issuer = "fuzz-iss";
        hs.audience = rs.audience = "fuzz-aud";
    }
    const struct shop_jwt_verifier *vs[] = {&hs, &rs};
    for (size_t i = 0; i < 2; i++) {
        struct shop_jwt_claims c;
        struct shop_err err = {0};
        if (shop_jwt_verify(vs[i], tok, len, NOW_S, &c, &err) != 0)
            continue;
        if (c.sub[0] == '\0' || memchr(c.sub, '\0', sizeof(c.sub)) == NULL)
            abort();
        /* Roles ("role" / "roles"): never empty (shopper by default), only known bits. */
        if (c.roles == 0 || (c.roles & ~SHOP_EDGE_ROLES_ALL) != 0 ||
            c.admin != ((c.roles & SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_ADMIN)) != 0))
            abort();
    }
}

static void fuzz_header(const uint8_t *data, size_t size, bool with_iss_aud)
{
    const char *tok = NULL;
    size_t len = 0;
    struct shop_err err = {0};
    if (shop_jwt_bearer((const char *)data, size, &tok, &len, &err) == 0)
        verify_all(tok, len, with_iss_aud);
    verify_all((const char *)data, size, with_iss_aud);   /* the token alone, no "Bearer " */
}

static void fuzz_claims(const uint8_t *data, size_t size, bool with_iss_aud)
{
    char *json = malloc(size + 1);
    memcpy(json, data, size);
    json[size] = '\0';
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, json) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, hs_key, (int)sizeof(hs_key) - 1) == 0) {
        char *tok = jwt_encode_str(jwt);
        if (tok != NULL)
            verify_all(tok, strlen(tok), with_iss_aud);
        free(tok);
    }
    jwt_free(jwt);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool with_iss_aud = (data[0] & 2) != 0;
    if ((data[0] & 1) == 0)
        fuzz_header(data + 1, size - 1, with_iss_aud);
    else
        fuzz_claims(data + 1, size - 1, with_iss_aud);
    return 0;
}
