/* SPDX-License-Identifier: MIT
 * What keeps a worker alive on poison: the SQLSTATE classification, the backoff, the
 * checked sums of the fold, the seeded hash of its maps, the batch and poll bounds.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <string.h>

#include "base/shop_err.h"
#include "tests/unit/workers/ev_fixture.h"
#include "workers/core/backoff.h"
#include "workers/core/pgerr.h"
#include "workers/core/proj.h"
#include "workers/core/strmap.h"
#include "workers/core/worker_cfg.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(poison, .fini = teardown);

/* ---- SQLSTATE classes ------------------------------------------------------- */

Test(poison, sqlstate_classes)
{
    static const struct {
        const char *state;
        enum shop_pgerr_kind kind;
    } cases[] = {
        {"08006", SHOP_PGERR_TRANSIENT}, /* connection failure */
        {"40001", SHOP_PGERR_RACE},      /* serialization failure: run it again */
        {"40P01", SHOP_PGERR_RACE},      /* deadlock: run it again */
        {"40003", SHOP_PGERR_TRANSIENT}, /* statement completion unknown: not a lost race */
        {"53100", SHOP_PGERR_TRANSIENT}, /* disk full */
        {"57014", SHOP_PGERR_TRANSIENT}, /* statement timeout */
        {"57P01", SHOP_PGERR_TRANSIENT}, /* admin shutdown */
        {"58030", SHOP_PGERR_TRANSIENT}, /* io error */
        {"55P03", SHOP_PGERR_TRANSIENT}, /* lock not available */
        {"XX000", SHOP_PGERR_TRANSIENT}, /* internal error */
        {"ZZ999", SHOP_PGERR_TRANSIENT}, /* unknown class */
        {"22003", SHOP_PGERR_POISON},    /* numeric value out of range (bigint) */
        {"22P02", SHOP_PGERR_POISON},    /* invalid text representation */
        {"23514", SHOP_PGERR_POISON},    /* check violation */
        {"23505", SHOP_PGERR_POISON},    /* unique violation */
        {"21000", SHOP_PGERR_POISON},    /* on conflict touching a row twice */
        {"54000", SHOP_PGERR_POISON},    /* program limit: shrinks with the batch */
        {"P0001", SHOP_PGERR_POISON},    /* a trigger raising */
        {"42P01", SHOP_PGERR_FATAL},     /* undefined table: a missing migration */
        {"42501", SHOP_PGERR_FATAL},     /* insufficient privilege */
        {"0A000", SHOP_PGERR_FATAL},     /* feature not supported */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert(eq(int, shop_pgerr_classify(cases[i].state), cases[i].kind), "%s", cases[i].state);
    cr_assert(eq(str, (char *)shop_pgerr_kind_name(SHOP_PGERR_RACE), "race"));
}

Test(poison, no_sqlstate_is_transient)
{
    cr_assert(eq(int, shop_pgerr_classify(NULL), SHOP_PGERR_TRANSIENT));
    cr_assert(eq(int, shop_pgerr_classify(""), SHOP_PGERR_TRANSIENT));
    cr_assert(eq(int, shop_pgerr_classify("22"), SHOP_PGERR_TRANSIENT));   /* not a SQLSTATE */
    cr_assert(eq(str, (char *)shop_pgerr_kind_name(SHOP_PGERR_POISON), "poison"));
}

/* ---- backoff ----------------------------------------------------------------- */

Test(poison, backoff_doubles_up_to_the_cap_and_only_reset_restarts_it)
{
    struct shop_backoff b;
    shop_backoff_init(&b, 100, 5000);
    int64_t want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)   /* rnd 0: the lowest jitter */
        cr_assert(eq(i64, shop_backoff_next(&b, 0), want[i] - want[i] / 2), "failure %zu", i + 1);
    /* Without a reset the delay stays at the cap: a batch that fails at once after each
     * reconnect no longer retries every 100 ms. */
    shop_backoff_init(&b, 100, 5000);
    for (int i = 0; i < 20; i++)
        shop_backoff_next(&b, 0);
    cr_assert(eq(i64, b.step_ms, 5000));
    cr_assert(eq(i64, shop_backoff_next(&b, 0), 2500));      /* lowest jitter: half the step */
    cr_assert(eq(i64, shop_backoff_next(&b, 2500), 5000));   /* highest: the whole step */
    shop_backoff_reset(&b);
    cr_assert(eq(i64, shop_backoff_next(&b, 50), 100));
}

Test(poison, backoff_jitter_stays_within_half_and_whole_step)
{
    struct shop_backoff b;
    shop_backoff_init(&b, 100, 6400);
    int64_t step = 100;
    for (uint32_t r = 1; r < 40; r++) {
        int64_t d = shop_backoff_next(&b, r * 2654435761u);
        cr_assert(ge(i64, d, step / 2));
        cr_assert(le(i64, d, step));
        step = step * 2 > 6400 ? 6400 : step * 2;
    }
}

/* ---- checked sums in the fold --------------------------------------------------
 * Stock is the inventory worker's now (issue 7); the projector's checked sum is
 * purchases: tests/unit/workers/test_proj_life.c, cancel_returning_purchases_past_... */

/* ---- seeded hash ------------------------------------------------------------------ */

Test(poison, siphash24_reference_vectors)
{
    /* The SipHash paper's key 00..0f; messages 00..(len-1). */
    struct shop_hash_seed k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    unsigned char msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    cr_assert(eq(u64, shop_siphash(2, 4, k, msg, 0), 0x726fdb47dd0e0e31ULL));
    cr_assert(eq(u64, shop_siphash(2, 4, k, msg, 15), 0xa129ca6149be45e5ULL));
}

Test(poison, the_seed_decides_where_keys_land)
{
    struct shop_hash_seed a = {1, 2}, b = {3, 4};
    int differ = 0;
    char key[32];
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof(key), "sku-%d", i);
        differ += (shop_siphash(1, 3, a, key, strlen(key)) & 63) != (shop_siphash(1, 3, b, key, strlen(key)) & 63);
    }
    cr_assert(gt(int, differ, 32), "only %d of 64 keys moved with the seed", differ);
}

Test(poison, seeded_map_keeps_every_key_and_the_insertion_order)
{
    struct shop_strmap m;
    shop_strmap_init_seeded(&m, &arena, (struct shop_hash_seed){0x1234, 0x5678});
    static char keys[3000][16];
    for (int i = 0; i < 3000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "user-%d", i);
        shop_strmap_put(&m, keys[i], keys[i]);
    }
    for (int i = 0; i < 3000; i++)
        cr_assert(eq(ptr, shop_strmap_get(&m, keys[i]), keys[i]));
    cr_assert(eq(ptr, shop_strmap_get(&m, "user-3000"), NULL));
    cr_assert(eq(sz, m.n, 3000));
    cr_assert(eq(ptr, m.order[0], keys[0]));
    cr_assert(eq(ptr, m.order[2999], keys[2999]));
}

/* ---- batch and poll bounds ----------------------------------------------------------- */

Test(poison, batch_bytes_default_and_bounds)
{
    static const char *const def[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    static const char *const low[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_BATCH_MAX_BYTES", "1023", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(def);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.batch_max_bytes, 16 * 1024 * 1024));
    cr_assert(eq(i64, cfg.max_poll_interval_ms, 300000));
    cr_assert(eq(i64, cfg.pg_connect_timeout_s, 5));
    shop_cfg_table_use(low);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), SHOP_ECONFIG));
}

Test(poison, no_blocking_wait_may_outlast_the_poll_interval)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS", "7000",
                                      "SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS", "6000", NULL};
    static const char *const ok[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS", "7000",
                                     "SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS", "6000",
                                     "SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS", "3000", "SHOPSTREAM_DLQ_TIMEOUT_MS", "3000",
                                     NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 2));   /* the statement timeout and the dead-letter wait */
    cr_assert(not(eq(ptr, strstr(errs.msg[0], "SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS"), NULL)));
    struct shop_cfg_errs errs2 = {0};
    shop_cfg_table_use(ok);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs2), 0));
}

Test(poison, maps_built_without_a_seed_take_the_process_default)
{
    struct shop_strmap m;
    shop_strmap_seed_default((struct shop_hash_seed){7, 9});   /* Criterion runs each test in its own process */
    shop_strmap_init(&m, &arena);
    cr_assert(eq(u64, m.seed.k0, 7));
    cr_assert(eq(u64, m.seed.k1, 9));
    shop_strmap_put(&m, "a", "x");
    cr_assert(eq(str, (char *)shop_strmap_get(&m, "a"), "x"));
}
