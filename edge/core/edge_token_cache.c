/* SPDX-License-Identifier: MIT
 * Verified-token cache: set-associative, SHOP_TOKEN_CACHE_WAYS entries per set,
 * least recently used out. Pure (malloc only). Only tokens whose signature and
 * claims were verified get in, so filling a set needs validly signed tokens;
 * the hash is seeded anyway.
 */
#include "edge/core/edge_token_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

void shop_token_cache_init(struct shop_token_cache *c, size_t entries, uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    c->seed = seed;
    if (entries == 0)
        return;
    size_t sets = 1;
    while (sets * SHOP_TOKEN_CACHE_WAYS < entries)
        sets *= 2;
    c->n_sets = sets;
    c->e = shop_xcalloc(sets * SHOP_TOKEN_CACHE_WAYS, sizeof(*c->e));
}

static void entry_clear(struct shop_token_cache *c, struct shop_token_cache_entry *e)
{
    if (e->last_use != 0)
        c->n--;
    free(e->tok);
    memset(e, 0, sizeof(*e));
}

static void clear_all(struct shop_token_cache *c)
{
    for (size_t i = 0; i < c->n_sets * SHOP_TOKEN_CACHE_WAYS; i++)
        entry_clear(c, &c->e[i]);
}

void shop_token_cache_fini(struct shop_token_cache *c)
{
    clear_all(c);
    free(c->e);
    memset(c, 0, sizeof(*c));
}

size_t shop_token_cache_capacity(const struct shop_token_cache *c)
{
    return c->n_sets * SHOP_TOKEN_CACHE_WAYS;
}

int64_t shop_token_cache_expiry(int64_t exp_s, int64_t leeway_s)
{
    /* shop_jwt_verify: expired when now - leeway >= exp, i.e. now >= exp + leeway. */
    if (leeway_s > 0 && exp_s > INT64_MAX - leeway_s)
        return INT64_MAX;
    if (leeway_s < 0 && exp_s < INT64_MIN - leeway_s)
        return INT64_MIN;
    return exp_s + leeway_s;
}

/* Eight bytes at a time, multiply and fold; collisions are settled by comparing bytes. */
static uint64_t token_hash(uint64_t seed, const char *tok, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = seed ^ (len * k);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, tok + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, tok + i, len - i);
    h = (h ^ w) * k;
    h ^= h >> 32;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* Whether the bytes are equal, in time that depends only on len: a lookup must not tell
 * a caller how much of another client's token it guessed. */
static bool same_bytes(const char *a, const char *b, size_t len)
{
    unsigned char d = 0;
    for (size_t i = 0; i < len; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static void adopt_generation(struct shop_token_cache *c, uint64_t generation)
{
    if (generation == c->generation)
        return;
    clear_all(c);
    c->generation = generation;
}

static struct shop_token_cache_entry *set_of(struct shop_token_cache *c, uint64_t hash)
{
    return &c->e[(hash & (c->n_sets - 1)) * SHOP_TOKEN_CACHE_WAYS];
}

static struct shop_token_cache_entry *find(struct shop_token_cache *c, uint64_t hash, const char *tok,
                                           size_t len)
{
    struct shop_token_cache_entry *set = set_of(c, hash);
    for (int w = 0; w < SHOP_TOKEN_CACHE_WAYS; w++) {
        struct shop_token_cache_entry *e = &set[w];
        if (e->last_use != 0 && e->hash == hash && e->len == len && same_bytes(e->tok, tok, len))
            return e;
    }
    return NULL;
}

bool shop_token_cache_get(struct shop_token_cache *c, const char *tok, size_t len, uint64_t generation,
                          int64_t now_s, struct shop_jwt_claims *out)
{
    if (c->n_sets == 0 || len == 0 || len > SHOP_TOKEN_CACHE_TOKEN_MAX)
        return false;
    adopt_generation(c, generation);
    struct shop_token_cache_entry *e = find(c, token_hash(c->seed, tok, len), tok, len);
    if (e == NULL)
        return false;
    if (now_s >= e->expires_s) {
        entry_clear(c, e);   /* it will never be valid again */
        return false;
    }
    if (now_s < e->verified_s)
        return false;        /* the clock went back: verify again (nbf) */
    e->last_use = ++c->uses;
    *out = e->claims;
    return true;
}

void shop_token_cache_put(struct shop_token_cache *c, const char *tok, size_t len, uint64_t generation,
                          int64_t now_s, int64_t expires_s, const struct shop_jwt_claims *claims)
{
    if (c->n_sets == 0 || len == 0 || len > SHOP_TOKEN_CACHE_TOKEN_MAX || now_s >= expires_s)
        return;
    adopt_generation(c, generation);
    uint64_t hash = token_hash(c->seed, tok, len);
    struct shop_token_cache_entry *e = find(c, hash, tok, len);
    if (e == NULL) {
        struct shop_token_cache_entry *set = set_of(c, hash);
        e = &set[0];
        for (int w = 1; w < SHOP_TOKEN_CACHE_WAYS && e->last_use != 0; w++) {
            if (set[w].last_use < e->last_use)
                e = &set[w];   /* an empty way (0) wins, else the least recently used */
        }
        entry_clear(c, e);
        e->tok = shop_xmalloc(len);
        memcpy(e->tok, tok, len);
        e->len = len;
        e->hash = hash;
        c->n++;
    }
    e->verified_s = now_s;
    e->expires_s = expires_s;
    e->claims = *claims;
    e->last_use = ++c->uses;
}
