/* SPDX-License-Identifier: MIT
 * Bearer-token verification for the edge through libjwt. Pure: the clock and
 * the key bytes are passed in; reading key files is the shell's job.
 * Invariant: a token is accepted only with the one configured algorithm.
 *
 * Key generation (for caches of verified tokens, edge/core/edge_token_cache.c):
 * shop_jwt_key_generation(v) is 0 for a fixed key (secret or PEM file) and, with a
 * JWKS keyring, an atomic counter bumped on every reload of the key set. A cache stores
 * the generation read BEFORE it verified a token and serves the entry only while
 * shop_jwt_key_generation(v) still returns that value; a rotation thus invalidates
 * every cached verification (a removed kid stops working at once).
 */
#ifndef SHOP_EDGE_JWT_H
#define SHOP_EDGE_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "edge/core/edge_role.h"

enum shop_jwt_alg { SHOP_JWT_HS256 = 0, SHOP_JWT_RS256 };

struct shop_jwt_keyring;   /* edge/core/edge_jwks.h */

/** What a token must satisfy. key is the HS256 secret or the RS256 public key PEM; with a
 *  keyring (RS256 only) the key is the keyring's key named by the token header's "kid"
 *  instead, and a token without a kid or with one not in the set is refused.
 *  issuer/audience are checked only when not NULL; max_lifetime_s only when > 0.
 *  Borrowed, never freed. */
struct shop_jwt_verifier {
    enum shop_jwt_alg alg;
    const unsigned char *key;
    size_t key_len;
    struct shop_jwt_keyring *keyring;
    const char *issuer;
    const char *audience;
    int64_t leeway_s;
    int64_t max_lifetime_s;   /* exp - iat (exp - now without iat) may be at most this */
};

#define SHOP_JWT_SUB_MAX 128          /* bytes of sub, 1..128 printable ASCII, no spaces */
#define SHOP_JWT_TOKEN_MAX 8192
#define SHOP_JWT_SECRET_MIN 32        /* RFC 7518 3.2: an HS256 key is at least the hash size */
#define SHOP_JWT_RSA_BITS_MIN 2048

struct shop_jwt_claims {
    char sub[SHOP_JWT_SUB_MAX + 1];
    bool admin;     /* roles holds SHOP_EDGE_ROLE_ADMIN */
    unsigned roles; /* SHOP_EDGE_ROLE_BIT set from "role" / "roles" (edge_role.h); never 0 */
    int64_t exp_s;
};

/** Extracts the token from an Authorization header value "Bearer <token>".
 *  Returns 0 or SHOP_EAUTH. *tok points into hdr. */
int shop_jwt_bearer(const char *hdr, size_t len, const char **tok, size_t *tok_len,
                    struct shop_err *err);

/** Verifies signature and algorithm, then exp (required), nbf and iat (when present:
 *  integers, else refused), the lifetime bound, iss, aud (string or array) and sub
 *  (required, 1..128 printable ASCII without spaces, as an event's user_id) against
 *  now_s, and reads the roles ("role" string or "roles" array; shopper by default). Returns 0 with out filled, or SHOP_EAUTH with err saying why. Any thread. */
int shop_jwt_verify(const struct shop_jwt_verifier *v, const char *token, size_t len,
                    int64_t now_s, struct shop_jwt_claims *out, struct shop_err *err);

/** Checks a configured key at start: an HS256 secret has at least SHOP_JWT_SECRET_MIN
 *  bytes; an RS256 key is a PEM public RSA key of at least SHOP_JWT_RSA_BITS_MIN bits.
 *  Returns 0 or SHOP_ECONFIG with err saying why. */
int shop_jwt_key_check(enum shop_jwt_alg alg, const unsigned char *key, size_t len,
                       struct shop_err *err);

/** The key generation of v (see the top of this file). Any thread; one atomic load. */
uint64_t shop_jwt_key_generation(const struct shop_jwt_verifier *v);

/** "HS256" or "RS256". */
const char *shop_jwt_alg_name(enum shop_jwt_alg alg);

#endif
