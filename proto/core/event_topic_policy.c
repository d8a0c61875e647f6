/* SPDX-License-Identifier: MIT
 * The per-topic policy table and the AlterConfigs merge. Pure. Invariant: one row per
 * topic of event_topic.c, in its order (test_event_topic_policy checks none is missing).
 */
#include "proto/core/event_topic_policy.h"

#include <string.h>

#include "proto/core/event_topic.h"

#define FOREVER "-1"
#define DAYS_7 "604800000"     /* ms */
#define DAYS_30 "2592000000"

/* Streams are the event log that every projection, the inventory and the ML state are
 * folds of: replay and rebuild read them from offset 0, so nothing is deleted by age or
 * compacted (a compacted cart or stock stream would lose the deltas the folds add up). */
static const struct shop_topic_policy policies[SHOP_TOPIC_COUNT] = {
    [SHOP_STREAM_BROWSE] = {"browse", FOREVER, "delete", NULL, true,
                            "views and searches feed user_activity, product_daily, funnel_daily and the "
                            "ML models: a rebuild or a retrain from scratch needs all of them"},
    [SHOP_STREAM_CART] = {"cart", FOREVER, "delete", NULL, true,
                          "cart lines are deltas (added, removed, set): only the whole history folds "
                          "to the carts, the funnel and the ML interactions"},
    [SHOP_STREAM_ORDER] = {"order", FOREVER, "delete", NULL, true,
                           "the order life cycle (placed, paid, shipped, ...) is the source of orders, "
                           "revenue, spend and the inventory's reservations"},
    [SHOP_STREAM_CATALOG] = {"catalog", FOREVER, "delete", NULL, true,
                             "stock adjustments are deltas on the last upsert: the inventory's stock is "
                             "their sum from the first record"},
    [SHOP_STREAM_INVENTORY] = {"inventory", FOREVER, "delete", NULL, true,
                               "the inventory's decisions confirm or reject orders in the projector and "
                               "are the ML purchases; they cannot be re-derived without the inventory's "
                               "state at the time"},
    [SHOP_STREAM_ML] = {"ml", FOREVER, "compact", DAYS_7, false,
                        "a changelog of current state (each user's segment, each model's latest "
                        "version, keyed so): nobody rebuilds from it, compaction keeps the latest per "
                        "key for a new subscriber and every change for at least 7 days"},
    [SHOP_TOPIC_DLQ] = {"dlq", DAYS_30, "delete", NULL, false,
                        "dead letters are for investigation and re-drive; the original record stays "
                        "in its stream (full history), so 30 days is enough"},
};

const struct shop_topic_policy *shop_topic_policy(size_t i)
{
    return i < SHOP_TOPIC_COUNT ? &policies[i] : NULL;
}

int shop_topic_name_at(char *buf, size_t n, const char *prefix, size_t i)
{
    if (i == SHOP_TOPIC_DLQ)
        return shop_topic_dlq_name(buf, n, prefix);
    if (i > SHOP_TOPIC_DLQ) {
        if (n > 0)
            buf[0] = '\0';
        return -1;
    }
    return shop_topic_name(buf, n, prefix, (enum shop_stream)i);
}

const char *shop_topic_min_isr(int rf)
{
    return rf > 1 ? "2" : "1";
}

size_t shop_topic_policy_configs(const struct shop_topic_policy *p, int rf,
                                 struct shop_topic_kv out[SHOP_TOPIC_POLICY_CONFIGS])
{
    size_t n = 0;
    out[n++] = (struct shop_topic_kv){"cleanup.policy", p->cleanup_policy};
    out[n++] = (struct shop_topic_kv){"retention.ms", p->retention_ms};
    out[n++] = (struct shop_topic_kv){"min.insync.replicas", shop_topic_min_isr(rf)};
    if (p->min_compaction_lag_ms != NULL)
        out[n++] = (struct shop_topic_kv){"min.compaction.lag.ms", p->min_compaction_lag_ms};
    return n;
}

const char *shop_topic_config_get(const struct shop_topic_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name != NULL && strcmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

size_t shop_topic_config_merge(const struct shop_topic_kv *cur, size_t n_cur,
                               const struct shop_topic_kv *want, size_t n_want,
                               struct shop_topic_kv *out)
{
    size_t n = 0;
    for (size_t i = 0; i < n_cur; i++) {
        const char *v = shop_topic_config_get(want, n_want, cur[i].name);
        if (shop_topic_config_get(out, n, cur[i].name) == NULL)   /* a name once */
            out[n++] = (struct shop_topic_kv){cur[i].name, v != NULL ? v : cur[i].value};
    }
    for (size_t i = 0; i < n_want; i++)
        if (shop_topic_config_get(out, n, want[i].name) == NULL)
            out[n++] = want[i];
    return n;
}

bool shop_topic_config_holds(const struct shop_topic_kv *cur, size_t n_cur,
                             const struct shop_topic_kv *want, size_t n_want)
{
    for (size_t i = 0; i < n_want; i++) {
        const char *v = shop_topic_config_get(cur, n_cur, want[i].name);
        if (v == NULL || strcmp(v, want[i].value) != 0)
            return false;
    }
    return true;
}
