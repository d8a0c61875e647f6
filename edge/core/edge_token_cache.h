/* SPDX-License-Identifier: MIT
 * A bounded cache of verified bearer tokens, one per loop thread (no locks).
 * A browser sends the same token for a whole session, and verifying it
 * (base64, HMAC or RSA, two JSON parses, claim lookups) is a large share of a
 * single-event request. Pure: the clock and the key generation are passed in.
 * Invariants: only a token that shop_jwt_verify() accepted is put; a lookup
 * matches only the exact token bytes of an entry of the current key
 * generation, at a time not before the entry was verified (so nbf, which only
 * ever becomes true, still holds) and before its expiry (exp plus leeway).
 */
#ifndef SHOP_EDGE_TOKEN_CACHE_H
#define SHOP_EDGE_TOKEN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge/core/edge_jwt.h"

/* Entries per set: a put evicts the least recently used entry of its set. */
#define SHOP_TOKEN_CACHE_WAYS 4
/* Longer tokens are verified every time (bounds the memory to entries x this). */
#define SHOP_TOKEN_CACHE_TOKEN_MAX 2048

struct shop_token_cache_entry {
    uint64_t hash;
    uint64_t last_use;                 /* 0: empty */
    char *tok;                         /* owned copy of the token bytes */
    size_t len;
    int64_t verified_s;                /* now_s of the verification */
    int64_t expires_s;                 /* first now_s at which the token is expired */
    struct shop_jwt_claims claims;
};

struct shop_token_cache {
    struct shop_token_cache_entry *e;  /* n_sets * SHOP_TOKEN_CACHE_WAYS */
    size_t n_sets;                     /* a power of two; 0: the cache is off */
    uint64_t seed;
    uint64_t generation;               /* the verifier's key generation of every entry */
    uint64_t uses;                     /* LRU clock */
    size_t n;                          /* entries held */
};

/** A cache of at least `entries` entries (rounded up to whole sets; 0 turns it off: every
 *  get misses, every put is dropped). seed keys the hash of the token bytes. */
void shop_token_cache_init(struct shop_token_cache *c, size_t entries, uint64_t seed);
void shop_token_cache_fini(struct shop_token_cache *c);

/** Entries the cache holds at most. */
size_t shop_token_cache_capacity(const struct shop_token_cache *c);

/** True with *out filled when tok[0..len) was put under key generation `generation`, at a
 *  verification time <= now_s, and now_s is before its expiry. A generation other than
 *  the cache's drops every entry first (the keys changed: every token is verified again). */
bool shop_token_cache_get(struct shop_token_cache *c, const char *tok, size_t len, uint64_t generation,
                          int64_t now_s, struct shop_jwt_claims *out);

/** Remembers that tok was verified at now_s with claims, valid until expires_s (exclusive:
 *  the first second at which shop_jwt_verify would say "expired"). A token longer than
 *  SHOP_TOKEN_CACHE_TOKEN_MAX, or already expired, is not kept. */
void shop_token_cache_put(struct shop_token_cache *c, const char *tok, size_t len, uint64_t generation,
                          int64_t now_s, int64_t expires_s, const struct shop_jwt_claims *claims);

/** The expiry to put for claims verified with leeway_s: exp + leeway, saturated. */
int64_t shop_token_cache_expiry(int64_t exp_s, int64_t leeway_s);

#endif
