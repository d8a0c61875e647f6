/* SPDX-License-Identifier: MIT
 * Bearer-token verification for the edge through libjwt. Pure: the clock and
 * the key bytes are passed in; reading key files is the shell's job.
 * Invariant: a token is accepted only with the one configured algorithm.
 */
#ifndef SHOP_EDGE_JWT_H
#define SHOP_EDGE_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"

enum shop_jwt_alg { SHOP_JWT_HS256 = 0, SHOP_JWT_RS256 };

/** What a token must satisfy. key is the HS256 secret or the RS256 public key PEM;
 *  issuer/audience are checked only when not NULL. Borrowed, never freed. */
struct shop_jwt_verifier {
    enum shop_jwt_alg alg;
    const unsigned char *key;
    size_t key_len;
    const char *issuer;
    const char *audience;
    int64_t leeway_s;
};

#define SHOP_JWT_SUB_MAX 128
#define SHOP_JWT_TOKEN_MAX 8192

struct shop_jwt_claims {
    char sub[SHOP_JWT_SUB_MAX];
    bool admin;     /* "role":"admin" */
    int64_t exp_s;
};

/** Extracts the token from an Authorization header value "Bearer <token>".
 *  Returns 0 or SHOP_EAUTH. *tok points into hdr. */
int shop_jwt_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len,
                    struct shop_err *err);

/** Verifies signature and algorithm, then exp (required), nbf, iss, aud (string or
 *  array) and sub (required) against now_s. Returns 0 with out filled, or SHOP_EAUTH
 *  with err saying why. Any thread. */
int shop_jwt_verify(const struct shop_jwt_verifier *v, const char *token, size_t len,
                    int64_t now_s, struct shop_jwt_claims *out, struct shop_err *err);

/** "HS256" or "RS256". */
const char *shop_jwt_alg_name(enum shop_jwt_alg alg);

#endif
