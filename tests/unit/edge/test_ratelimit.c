/* SPDX-License-Identifier: MIT
 * Token-bucket arithmetic, the bounded seeded table, trusted proxies and X-Forwarded-For. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edge/core/edge_ratelimit.h"

#define S 1000000LL

Test(ratelimit, a_full_bucket_allows_quota_requests_then_refuses)
{
    struct shop_rl_policy p = {.quota = 3, .window_s = 1};
    int64_t tat = 0, now = 100 * S;
    struct shop_rl_result r;
    for (int i = 0; i < 3; i++) {
        shop_rl_decide(&p, &tat, now, &r);
        cr_assert(r.allowed, "request %d", i);
        cr_assert_eq(r.remaining, 2 - i);
    }
    int64_t kept = tat;
    shop_rl_decide(&p, &tat, now, &r);
    cr_assert_not(r.allowed);
    cr_assert_eq(r.remaining, 0);
    cr_assert_eq(r.retry_after_s, 1);
    cr_assert_eq(r.reset_s, 1);
    cr_assert_eq(tat, kept, "a refused request takes no token");
}

Test(ratelimit, tokens_come_back_at_quota_per_window)
{
    struct shop_rl_policy p = {.quota = 10, .window_s = 10};   /* one per second */
    int64_t tat = 0, now = 5 * S;
    struct shop_rl_result r;
    for (int i = 0; i < 10; i++)
        shop_rl_decide(&p, &tat, now, &r);
    shop_rl_decide(&p, &tat, now, &r);
    cr_assert_not(r.allowed);
    cr_assert_eq(r.retry_after_s, 1);
    cr_assert_eq(r.reset_s, 10);
    shop_rl_decide(&p, &tat, now + S - 1, &r);
    cr_assert_not(r.allowed, "one microsecond early");
    shop_rl_decide(&p, &tat, now + S, &r);
    cr_assert(r.allowed, "one token back after one interval");
    cr_assert_eq(r.remaining, 0);
    shop_rl_decide(&p, &tat, now + 100 * S, &r);
    cr_assert(r.allowed);
    cr_assert_eq(r.remaining, 9, "an idle bucket refills to its quota, no further");
}

Test(ratelimit, retry_after_is_the_wait_for_one_token)
{
    struct shop_rl_policy p = {.quota = 2, .window_s = 60};   /* one per 30 s */
    int64_t tat = 0, now = S;
    struct shop_rl_result r;
    shop_rl_decide(&p, &tat, now, &r);
    shop_rl_decide(&p, &tat, now, &r);
    shop_rl_decide(&p, &tat, now + 10 * S, &r);
    cr_assert_not(r.allowed);
    cr_assert_eq(r.retry_after_s, 20);
}

Test(ratelimit, siphash24_reference_vectors)
{
    /* From the SipHash paper's test vectors: key 00..0f, messages 00..(n-1). */
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    cr_assert_eq(shop_siphash24(k0, k1, msg, 0), 0x726fdb47dd0e0e31ULL);
    cr_assert_eq(shop_siphash24(k0, k1, msg, 15), 0xa129ca6149be45e5ULL);
}

Test(ratelimit, the_seed_moves_keys_between_sets)
{
    struct shop_rl_table a, b;
    shop_rl_table_init(&a, 1 << 12, 1, 2);
    shop_rl_table_init(&b, 1 << 12, 3, 4);
    int same = 0;
    for (int i = 0; i < 256; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "s:user-%d", i);
        same += shop_rl_set_of(&a, shop_rl_hash(&a, key, (size_t)n)) ==
                shop_rl_set_of(&b, shop_rl_hash(&b, key, (size_t)n));
    }
    cr_assert_lt(same, 16, "two seeds put %d of 256 keys in the same set", same);
    shop_rl_table_fini(&a);
    shop_rl_table_fini(&b);
}

Test(ratelimit, table_keeps_each_clients_bucket)
{
    struct shop_rl_table t;
    shop_rl_table_init(&t, 1024, 11, 22);
    struct shop_rl_policy p = {.quota = 2, .window_s = 1};
    struct shop_rl_result r;
    uint64_t u1 = shop_rl_hash(&t, "s:u1", 4), u2 = shop_rl_hash(&t, "s:u2", 4);
    shop_rl_take(&t, u1, &p, S, &r);
    shop_rl_take(&t, u1, &p, S, &r);
    cr_assert(r.allowed);
    shop_rl_take(&t, u1, &p, S, &r);
    cr_assert_not(r.allowed, "u1 is past its quota");
    shop_rl_take(&t, u2, &p, S, &r);
    cr_assert(r.allowed, "u2 has its own bucket");
    cr_assert_eq(r.remaining, 1);
    shop_rl_table_fini(&t);
}

/* The table never grows: a flood of new keys into one set evicts, and it evicts the bucket
 * closest to full, so clients that are being limited keep their empty buckets. */
Test(ratelimit, a_full_set_evicts_the_fullest_bucket_and_never_grows)
{
    struct shop_rl_table t;
    shop_rl_table_init(&t, SHOP_RL_WAYS, 5, 6);   /* one set */
    cr_assert_eq(t.n_sets, 1);
    struct shop_rl_policy p = {.quota = 1, .window_s = 3600};
    struct shop_rl_result r;
    for (int i = 0; i < 1000; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "a:%d", i);
        shop_rl_take(&t, shop_rl_hash(&t, key, (size_t)n), &p, 10 * S + i, &r);
        cr_assert(r.allowed, "a new key gets a full bucket");
    }
    int used = 0;
    for (int i = 0; i < SHOP_RL_WAYS; i++)
        used += t.entries[i].tag != 0;
    cr_assert_eq(used, SHOP_RL_WAYS);

    /* An idle (refilled) bucket goes before one still limiting. */
    struct shop_rl_table u;
    shop_rl_table_init(&u, SHOP_RL_WAYS, 7, 8);
    uint64_t keys[SHOP_RL_WAYS];
    for (int i = 0; i < SHOP_RL_WAYS; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "a:k%d", i);
        keys[i] = shop_rl_hash(&u, key, (size_t)n);
        /* k0 at t=0 (refilled by 2 h), the rest at 2 h */
        shop_rl_take(&u, keys[i], &p, i == 0 ? S : 7200 * S, &r);
    }
    shop_rl_take(&u, shop_rl_hash(&u, "a:new", 5), &p, 7200 * S, &r);
    for (int i = 1; i < SHOP_RL_WAYS; i++) {
        shop_rl_take(&u, keys[i], &p, 7200 * S, &r);
        cr_assert_not(r.allowed, "k%d kept its empty bucket", i);
    }
    shop_rl_table_fini(&t);
    shop_rl_table_fini(&u);
}

static void addr(const char *s, uint8_t out[16])
{
    cr_assert(shop_rl_addr_parse(s, strlen(s), out), "%s", s);
}

Test(ratelimit, proxies_parse_and_match)
{
    struct shop_rl_proxies p;
    struct shop_err err = {0};
    cr_assert_eq(shop_rl_proxies_parse(&p, " 10.0.0.0/8, 192.168.1.7 ,fd00::/8", &err), 0, "%s",
                 err.msg);
    cr_assert_eq(p.n, 3);
    uint8_t a[16];
    addr("10.200.3.4", a);
    cr_assert(shop_rl_proxies_contain(&p, a));
    addr("11.0.0.1", a);
    cr_assert_not(shop_rl_proxies_contain(&p, a));
    addr("192.168.1.7", a);
    cr_assert(shop_rl_proxies_contain(&p, a));
    addr("192.168.1.8", a);
    cr_assert_not(shop_rl_proxies_contain(&p, a));
    addr("fd12::1", a);
    cr_assert(shop_rl_proxies_contain(&p, a));
    cr_assert_eq(shop_rl_proxies_parse(&p, "", &err), 0);
    cr_assert_eq(p.n, 0);
    cr_assert_eq(shop_rl_proxies_parse(&p, NULL, &err), 0);
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/", "nope", "10.0.0.1/8x", "::/129", NULL};
    for (int i = 0; bad[i] != NULL; i++)
        cr_assert_eq(shop_rl_proxies_parse(&p, bad[i], &err), SHOP_ECONFIG, "%s", bad[i]);
}

static void client(const struct shop_rl_proxies *p, const char *peer, const char *xff,
                   const char *want)
{
    uint8_t pa[16], out[16], w[16];
    addr(peer, pa);
    addr(want, w);
    shop_rl_client_addr(p, pa, xff, xff != NULL ? strlen(xff) : 0, out);
    cr_assert(memcmp(out, w, 16) == 0, "peer %s xff %s: want %s", peer, xff ? xff : "-", want);
}

Test(ratelimit, x_forwarded_for_counts_only_behind_a_trusted_proxy)
{
    struct shop_rl_proxies p;
    struct shop_err err = {0};
    cr_assert_eq(shop_rl_proxies_parse(&p, "10.0.0.0/8", &err), 0);
    client(&p, "203.0.113.9", "1.2.3.4", "203.0.113.9");         /* untrusted peer: ignored */
    client(&p, "10.0.0.2", NULL, "10.0.0.2");
    client(&p, "10.0.0.2", "1.2.3.4", "1.2.3.4");
    /* A client's own forged entries sit to the left of what the proxies appended. */
    client(&p, "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4");
    client(&p, "10.0.0.2", "10.9.9.9,10.1.1.1", "10.9.9.9");
    client(&p, "10.0.0.2", "1.2.3.4, garbage", "10.0.0.2");
    client(&p, "10.0.0.2", "2001:db8::1", "2001:db8::1");
}
