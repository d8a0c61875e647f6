/* SPDX-License-Identifier: MIT
 * shop_token_cache: exact bytes, expiry and verification time (clock passed in), key
 * generations, the bound and least-recently-used eviction. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edge/core/edge_token_cache.h"

#define NOW 1700000000L
#define TOK "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEiLCJleHAiOjE3MDAwMDA2MDB9.c2lnbmF0dXJl"

static struct shop_jwt_claims claims_of(const char *sub, bool admin)
{
    struct shop_jwt_claims c = {.admin = admin, .exp_s = NOW + 600};
    snprintf(c.sub, sizeof(c.sub), "%s", sub);
    return c;
}

static void put(struct shop_token_cache *c, const char *tok, int64_t now_s, int64_t expires_s, const char *sub)
{
    struct shop_jwt_claims cl = claims_of(sub, false);
    shop_token_cache_put(c, tok, strlen(tok), 0, now_s, expires_s, &cl);
}

static bool get(struct shop_token_cache *c, const char *tok, int64_t now_s, struct shop_jwt_claims *out)
{
    return shop_token_cache_get(c, tok, strlen(tok), 0, now_s, out);
}

Test(token_cache, hit_returns_the_claims_of_the_verification)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 42);
    struct shop_jwt_claims in = claims_of("u-1", true), out = {0};
    cr_assert_not(get(&c, TOK, NOW, &out), "empty cache hit");
    shop_token_cache_put(&c, TOK, strlen(TOK), 0, NOW, NOW + 630, &in);
    cr_assert(get(&c, TOK, NOW + 1, &out));
    cr_assert_str_eq(out.sub, "u-1");
    cr_assert(out.admin);
    cr_assert_eq(out.exp_s, NOW + 600);
    shop_token_cache_fini(&c);
}

Test(token_cache, a_different_byte_never_matches)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 42);
    put(&c, TOK, NOW, NOW + 600, "u-1");
    char other[sizeof(TOK)];
    struct shop_jwt_claims out;
    /* Every position, every other byte value: a token one byte off is a different token. */
    for (size_t i = 0; i < strlen(TOK); i++) {
        for (int b = 1; b < 256; b++) {
            memcpy(other, TOK, sizeof(TOK));
            if ((unsigned char)other[i] == (unsigned char)b)
                continue;
            other[i] = (char)b;
            cr_assert_not(shop_token_cache_get(&c, other, strlen(TOK), 0, NOW, &out), "byte %zu = %d matched", i, b);
        }
    }
    /* A prefix or an extension of it neither. */
    cr_assert_not(shop_token_cache_get(&c, TOK, strlen(TOK) - 1, 0, NOW, &out));
    char longer[sizeof(TOK) + 1];
    memcpy(longer, TOK, strlen(TOK));
    longer[strlen(TOK)] = 'x';
    cr_assert_not(shop_token_cache_get(&c, longer, strlen(TOK) + 1, 0, NOW, &out));
    cr_assert(get(&c, TOK, NOW, &out), "the token itself still hits");
    shop_token_cache_fini(&c);
}

Test(token_cache, expiry_is_honoured_with_the_time_passed_in)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 1);
    int64_t expires = shop_token_cache_expiry(NOW + 600, 30);
    cr_assert_eq(expires, NOW + 630);
    put(&c, TOK, NOW, expires, "u-1");
    struct shop_jwt_claims out;
    cr_assert(get(&c, TOK, NOW + 629, &out), "valid in the last second of the leeway");
    cr_assert_not(get(&c, TOK, NOW + 630, &out), "expired at exp + leeway, as shop_jwt_verify says");
    cr_assert_eq(c.n, 0, "an expired entry is dropped");
    cr_assert_not(get(&c, TOK, NOW, &out), "and stays gone");
    /* An already expired token is never kept. */
    put(&c, TOK, NOW, NOW, "u-1");
    cr_assert_eq(c.n, 0);
    shop_token_cache_fini(&c);
}

Test(token_cache, never_before_the_verification_time)
{
    /* The token passed nbf at NOW; if the clock goes back, nbf might not hold: verify again. */
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 1);
    put(&c, TOK, NOW, NOW + 600, "u-1");
    struct shop_jwt_claims out;
    cr_assert_not(get(&c, TOK, NOW - 1, &out));
    cr_assert(get(&c, TOK, NOW, &out));
    shop_token_cache_fini(&c);
}

Test(token_cache, expiry_saturates)
{
    cr_assert_eq(shop_token_cache_expiry(INT64_MAX - 5, 30), INT64_MAX);
    cr_assert_eq(shop_token_cache_expiry(INT64_MIN, 30), INT64_MIN + 30);
    cr_assert_eq(shop_token_cache_expiry(NOW, 0), NOW);
}

Test(token_cache, another_key_generation_drops_every_entry)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 1);
    struct shop_jwt_claims cl = claims_of("u-1", false), out;
    shop_token_cache_put(&c, TOK, strlen(TOK), 7, NOW, NOW + 600, &cl);
    shop_token_cache_put(&c, "a.b.c", 5, 7, NOW, NOW + 600, &cl);
    cr_assert(shop_token_cache_get(&c, TOK, strlen(TOK), 7, NOW, &out));
    cr_assert_not(shop_token_cache_get(&c, TOK, strlen(TOK), 8, NOW, &out), "entry of generation 7 hit under 8");
    cr_assert_eq(c.n, 0, "older generation's entries dropped");
    cr_assert_not(shop_token_cache_get(&c, "a.b.c", 5, 7, NOW, &out), "gone for good, even for generation 7");
    shop_token_cache_fini(&c);
}

Test(token_cache, bounded_size_and_least_recently_used_out)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 64, 3);
    size_t cap = shop_token_cache_capacity(&c);
    cr_assert_geq(cap, 64);
    cr_assert_lt(cap, 128 + SHOP_TOKEN_CACHE_WAYS);
    char tok[32];
    struct shop_jwt_claims out;
    /* Far more tokens than entries: never more entries than the capacity. */
    for (int i = 0; i < 10000; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        put(&c, tok, NOW, NOW + 600, tok);
        cr_assert_leq(c.n, cap);
        if (i == 0) {
            /* tok-0 is used all along: it is never the least recently used one of its set */
            continue;
        }
        cr_assert(get(&c, "tok-0", NOW, &out), "the token in use was evicted at %d", i);
        cr_assert_str_eq(out.sub, "tok-0");
    }
    /* Every set is full and a recent token is there, with its own claims. */
    cr_assert_eq(c.n, cap);
    cr_assert(get(&c, "tok-9999", NOW, &out));
    cr_assert_str_eq(out.sub, "tok-9999");
    size_t hits = 0;
    for (int i = 1; i < 10000; i++) {
        snprintf(tok, sizeof(tok), "tok-%d", i);
        hits += get(&c, tok, NOW, &out);
    }
    cr_assert_leq(hits, cap);
    shop_token_cache_fini(&c);
}

Test(token_cache, eviction_within_a_set_is_least_recently_used)
{
    /* One set only: SHOP_TOKEN_CACHE_WAYS entries. */
    struct shop_token_cache c;
    shop_token_cache_init(&c, 1, 9);
    cr_assert_eq(shop_token_cache_capacity(&c), SHOP_TOKEN_CACHE_WAYS);
    char tok[16];
    struct shop_jwt_claims out;
    for (int i = 0; i < SHOP_TOKEN_CACHE_WAYS; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        put(&c, tok, NOW, NOW + 600, tok);
    }
    cr_assert(get(&c, "t0", NOW, &out));   /* t1 is now the least recently used */
    put(&c, "new", NOW, NOW + 600, "new");
    cr_assert_not(get(&c, "t1", NOW, &out), "t1 should have been evicted");
    cr_assert(get(&c, "t0", NOW, &out));
    cr_assert(get(&c, "new", NOW, &out));
    for (int i = 2; i < SHOP_TOKEN_CACHE_WAYS; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        cr_assert(get(&c, tok, NOW, &out), "%s evicted", tok);
    }
    shop_token_cache_fini(&c);
}

Test(token_cache, put_again_refreshes_the_entry)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 16, 1);
    put(&c, TOK, NOW, NOW + 10, "old");
    put(&c, TOK, NOW + 5, NOW + 600, "new");
    cr_assert_eq(c.n, 1);
    struct shop_jwt_claims out;
    cr_assert(get(&c, TOK, NOW + 100, &out));
    cr_assert_str_eq(out.sub, "new");
    shop_token_cache_fini(&c);
}

Test(token_cache, off_and_oversized_tokens_are_never_kept)
{
    struct shop_token_cache c;
    shop_token_cache_init(&c, 0, 1);
    struct shop_jwt_claims out;
    put(&c, TOK, NOW, NOW + 600, "u-1");
    cr_assert_not(get(&c, TOK, NOW, &out));
    shop_token_cache_fini(&c);

    shop_token_cache_init(&c, 16, 1);
    static char big[SHOP_TOKEN_CACHE_TOKEN_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    put(&c, big, NOW, NOW + 600, "u-1");
    cr_assert_eq(c.n, 0);
    cr_assert_not(get(&c, big, NOW, &out));
    shop_token_cache_fini(&c);
}
