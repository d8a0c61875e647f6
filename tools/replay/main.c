/* SPDX-License-Identifier: MIT
 * shopstream-replay: plays Online Retail shoppers through the edge over HTTP.
 *   shopstream-replay [--url URL] [--data DIR] [--customers N] [--seed S]
 *                     [--concurrency C] [--dry-run] [--catalog-only] [--no-catalog]
 *                     [--from DATE] [--until DATE] [--orders-only]
 * --catalog-only posts only the catalog (the plan's first requests): the demo waits
 * for the inventory to take it before the orders, which ride another topic; --no-catalog
 * posts everything else. --from/--until (YYYY-MM-DD or "YYYY-MM-DD HH:MM:SS", UTC) keep
 * the invoices with from <= time < until (the catalog stays whole). --orders-only is a
 * history import: each invoice one order.placed, nothing synthetic, in time order across
 * customers (replay_gen.h); bench/ml_system replays up to its cutoffs with it.
 * The JWT secret comes from SHOPSTREAM_JWT_SECRET or SHOPSTREAM_JWT_SECRET_FILE.
 * Orders are real; views, searches and cart events are synthetic (seeded). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_cfg.h"
#include "base/shop_log.h"
#include "proto/core/shop_event.h"
#include "tools/replay/replay_gen.h"
#include "tools/replay/replay_post.h"
#include "tools/retail/retail.h"

int main(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *data = "../shared/data";
    struct replay_opts ro = {.customers = 200, .seed = 42, .order_lines_max = 100};
    struct replay_post_opts po = {.concurrency = 8, .max_retries = 8};
    int dry = 0, catalog_only = 0, no_catalog = 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines interleave with stderr logs in order */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--dry-run") == 0) { dry = 1; continue; }
        if (strcmp(a, "--catalog-only") == 0) { catalog_only = 1; continue; }
        if (strcmp(a, "--no-catalog") == 0) { no_catalog = 1; continue; }
        if (strcmp(a, "--orders-only") == 0) { ro.orders_only = 1; continue; }
        if (v == NULL) { fprintf(stderr, "usage: see the header of tools/replay/main.c\n"); return 2; }
        if (strcmp(a, "--url") == 0) url = v;
        else if (strcmp(a, "--data") == 0) data = v;
        else if (strcmp(a, "--customers") == 0) ro.customers = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0) ro.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--concurrency") == 0) po.concurrency = atoi(v);
        else if (strcmp(a, "--from") == 0 || strcmp(a, "--until") == 0) {
            if (replay_parse_time(v, a[2] == 'f' ? &ro.from_ms : &ro.until_ms) != 0) {
                fprintf(stderr, "%s: expected YYYY-MM-DD or \"YYYY-MM-DD HH:MM:SS\", got %s\n", a, v);
                return 2;
            }
        }
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (catalog_only && no_catalog) {
        fprintf(stderr, "--catalog-only and --no-catalog exclude each other\n");
        return 2;
    }
    ro.quantity_max = shop_event_limits_default().quantity_max;   /* what the edge takes */
    char path[1024];
    retail_path(data, path, sizeof(path));
    struct retail_row *rows;
    size_t n_rows, skipped;
    struct shop_err err = {0};
    if (retail_load(path, &rows, &n_rows, &skipped, &err) != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "replay", "could not load dataset", "err=\"%s\"", err.msg);
        return 1;
    }
    struct replay_plan plan;
    if (replay_plan_build(rows, n_rows, &ro, &plan) != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "replay", "no rows to replay", "path=%s", path);
        return 1;
    }
    free(rows);
    printf("replay plan: %zu customers, %zu products, %zu orders (%zu large invoices skipped, %zu split, "
           "%zu lines over %d units dropped), %zu abandoned carts, %zu events in %zu requests (seed %llu)\n",
           plan.n_users, plan.n_products, plan.n_orders, plan.n_skipped_invoices, plan.n_split_invoices,
           plan.n_dropped_lines, ro.quantity_max, plan.n_abandoned, plan.n_events, plan.n_reqs,
           (unsigned long long)ro.seed);
    if (dry) {
        replay_plan_free(&plan);
        return 0;
    }
    char *secret = replay_jwt_secret_load();
    if (secret == NULL) {
        SHOP_LOG(SHOP_LOG_ERROR, "replay", "no jwt secret", "hint=\"set SHOPSTREAM_JWT_SECRET or _FILE\"");
        return 2;
    }
    po.url = url;
    po.jwt_secret = secret;
    po.jwt_issuer = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_ISSUER", NULL);
    po.jwt_audience = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_AUDIENCE", NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct replay_post_stats st = {0};
    /* The catalog's requests lead the plan. Alone, they let a caller wait until the
     * inventory knows every product before the orders arrive on their own topic. */
    size_t n_cat = 0, n_post;
    while (n_cat < plan.n_reqs && plan.reqs[n_cat].admin)
        n_cat++;
    const struct replay_request *post = no_catalog ? plan.reqs + n_cat : plan.reqs;
    n_post = catalog_only ? n_cat : no_catalog ? plan.n_reqs - n_cat : plan.n_reqs;
    int rc = replay_post_all(post, n_post, &po, &st);
    printf("replay done: %zu/%zu requests accepted (202), %zu events, %zu retries, %zu rejected, %zu failed, "
           "%.1f s, %.0f events/s, p50 %.1f ms, p99 %.1f ms\n",
           st.requests_ok, n_post, st.events_ok, st.retries, st.rejected, st.failed, st.seconds,
           st.seconds > 0 ? (double)st.events_ok / st.seconds : 0.0, replay_latency_pct(&st, 50) / 1000,
           replay_latency_pct(&st, 99) / 1000);
    free(st.lat_us);
    free(secret);
    replay_plan_free(&plan);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
