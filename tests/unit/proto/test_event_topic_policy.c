/* SPDX-License-Identifier: MIT
 * The per-topic policy table and the AlterConfigs merge (proto/core/event_topic_policy.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_topic.h"
#include "proto/core/event_topic_policy.h"

Test(event_topic_policy, every_topic_has_a_row_named_as_its_topic)
{
    char buf[SHOP_TOPIC_NAME_MAX], want[SHOP_TOPIC_NAME_MAX];
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++) {
        const struct shop_topic_policy *p = shop_topic_policy(i);
        cr_assert_not_null(p, "topic %zu has no policy", i);
        cr_assert_not_null(p->stream, "topic %zu has no row", i);
        cr_assert_not_null(p->why);
        cr_assert_gt(shop_topic_name_at(buf, sizeof(buf), "x.", i), 0);
        snprintf(want, sizeof(want), "x.%s.v1", p->stream);
        cr_assert_str_eq(buf, want);
        if (i < SHOP_TOPIC_DLQ)
            cr_assert_str_eq(p->stream, shop_stream_name((enum shop_stream)i));
    }
    cr_assert_null(shop_topic_policy(SHOP_TOPIC_COUNT));
    cr_assert_eq(shop_topic_name_at(buf, sizeof(buf), "x.", SHOP_TOPIC_COUNT), -1);
    cr_assert_str_eq(buf, "");
    shop_topic_name_at(buf, sizeof(buf), "x.", SHOP_TOPIC_DLQ);
    cr_assert_str_eq(buf, "x.dlq.v1");
}

/* What replays and rebuilds read must never be shortened: every stream a role consumes
 * keeps all of it, deleted by nothing and compacted by nothing. */
Test(event_topic_policy, full_history_topics_are_never_deleted_nor_compacted)
{
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++) {
        const struct shop_topic_policy *p = shop_topic_policy(i);
        if (!p->full_history)
            continue;
        cr_assert_str_eq(p->retention_ms, "-1", "%s", p->stream);
        cr_assert_str_eq(p->cleanup_policy, "delete", "%s", p->stream);
    }
    enum shop_stream consumed[] = {SHOP_STREAM_BROWSE, SHOP_STREAM_CART, SHOP_STREAM_ORDER,
                                   SHOP_STREAM_CATALOG, SHOP_STREAM_INVENTORY};
    for (size_t k = 0; k < sizeof(consumed) / sizeof(consumed[0]); k++)
        cr_assert(shop_topic_policy(consumed[k])->full_history, "%s", shop_stream_name(consumed[k]));
    cr_assert_not(shop_topic_policy(SHOP_TOPIC_DLQ)->full_history);
}

Test(event_topic_policy, values_are_what_kafka_accepts)
{
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++) {
        const struct shop_topic_policy *p = shop_topic_policy(i);
        char *end;
        long long ms = strtoll(p->retention_ms, &end, 10);
        cr_assert(*end == '\0' && (ms == -1 || ms > 0), "%s retention %s", p->stream, p->retention_ms);
        cr_assert(strcmp(p->cleanup_policy, "delete") == 0 || strcmp(p->cleanup_policy, "compact") == 0);
        cr_assert_eq(p->min_compaction_lag_ms != NULL, strcmp(p->cleanup_policy, "compact") == 0);
    }
    cr_assert_str_eq(shop_topic_policy(SHOP_STREAM_ML)->min_compaction_lag_ms, "604800000");
    cr_assert_str_eq(shop_topic_policy(SHOP_TOPIC_DLQ)->retention_ms, "2592000000");
}

Test(event_topic_policy, configs_carry_min_isr_from_the_replication_factor)
{
    struct shop_topic_kv kv[SHOP_TOPIC_POLICY_CONFIGS];
    size_t n = shop_topic_policy_configs(shop_topic_policy(SHOP_STREAM_ORDER), 3, kv);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(shop_topic_config_get(kv, n, "min.insync.replicas"), "2");
    cr_assert_str_eq(shop_topic_config_get(kv, n, "retention.ms"), "-1");
    cr_assert_str_eq(shop_topic_config_get(kv, n, "cleanup.policy"), "delete");
    n = shop_topic_policy_configs(shop_topic_policy(SHOP_STREAM_ML), 1, kv);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(shop_topic_config_get(kv, n, "min.insync.replicas"), "1");
    cr_assert_str_eq(shop_topic_config_get(kv, n, "cleanup.policy"), "compact");
    cr_assert_null(shop_topic_config_get(kv, n, "segment.ms"));
}

/* AlterConfigs resets what it is not sent: an operator's own override must survive. */
Test(event_topic_policy, merge_keeps_other_overrides_and_replaces_ours)
{
    const struct shop_topic_kv cur[] = {{"max.message.bytes", "2000000"}, {"retention.ms", "3600000"}};
    const struct shop_topic_kv want[] = {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}};
    struct shop_topic_kv out[4];
    size_t n = shop_topic_config_merge(cur, 2, want, 2, out);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(out[0].name, "max.message.bytes");
    cr_assert_str_eq(out[0].value, "2000000");
    cr_assert_str_eq(out[1].name, "retention.ms");
    cr_assert_str_eq(out[1].value, "-1");
    cr_assert_str_eq(out[2].name, "cleanup.policy");
    cr_assert_str_eq(out[2].value, "delete");
}

Test(event_topic_policy, holds_compares_values_not_presence)
{
    const struct shop_topic_kv cur[] = {{"cleanup.policy", "delete"}, {"retention.ms", "604800000"}};
    const struct shop_topic_kv want[] = {{"cleanup.policy", "delete"}, {"retention.ms", "-1"}};
    cr_assert_not(shop_topic_config_holds(cur, 2, want, 2));
    cr_assert(shop_topic_config_holds(cur, 2, want, 1));
    const struct shop_topic_kv more[] = {{"min.insync.replicas", "1"}};
    cr_assert_not(shop_topic_config_holds(cur, 2, more, 1));
}
