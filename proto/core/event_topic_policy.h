/* SPDX-License-Identifier: MIT
 * The per-topic policy, one owner for retention, compaction and min.insync.replicas of
 * every topic named in event_topic.c (docs/topics.md and the Strimzi KafkaTopic
 * manifests mirror this table). shopstream-admin topics applies it. Pure.
 */
#ifndef SHOP_EVENT_TOPIC_POLICY_H
#define SHOP_EVENT_TOPIC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/core/shop_event.h"

/** Every stream's topic, then the dead-letter topic: index i < SHOP_STREAM_COUNT is
 *  enum shop_stream i, SHOP_TOPIC_DLQ the dead letters. */
#define SHOP_TOPIC_DLQ ((size_t)SHOP_STREAM_COUNT)
#define SHOP_TOPIC_COUNT (SHOP_TOPIC_DLQ + 1)
/** Topic-level settings a policy sets (shop_topic_policy_configs). */
#define SHOP_TOPIC_POLICY_CONFIGS 4

/** One topic's policy. Values are Kafka topic config strings. */
struct shop_topic_policy {
    const char *stream;          /* "browse" .. "ml", "dlq" */
    const char *retention_ms;    /* "-1": never deleted by age */
    const char *cleanup_policy;  /* "delete" or "compact" */
    const char *min_compaction_lag_ms;  /* compacted topics: history kept at least this long */
    bool full_history;           /* replays and rebuilds read it from offset 0: never shorten */
    const char *why;
};

/** A topic config name and value. */
struct shop_topic_kv {
    const char *name;
    const char *value;
};

/** The policy of topic i (< SHOP_TOPIC_COUNT), or NULL. */
const struct shop_topic_policy *shop_topic_policy(size_t i);

/** Writes topic i's name ("<prefix><stream>.v1"); returns its length or -1 as shop_topic_name. */
int shop_topic_name_at(char *buf, size_t n, const char *prefix, size_t i);

/** min.insync.replicas for a topic of replication factor rf: 2 once there are two
 *  replicas (an acknowledged acks=all write then survives losing a broker), else 1. */
const char *shop_topic_min_isr(int rf);

/** The settings policy p wants on a topic of replication factor rf, into out
 *  (SHOP_TOPIC_POLICY_CONFIGS entries at most; strings are static). Returns how many. */
size_t shop_topic_policy_configs(const struct shop_topic_policy *p, int rf,
                                 struct shop_topic_kv out[SHOP_TOPIC_POLICY_CONFIGS]);

/** The full set to send with AlterConfigs (which resets whatever it is not sent): the
 *  topic's current overrides cur[0..n_cur) with the desired ones replacing theirs or
 *  added, in cur's order then want's. out needs n_cur + n_want entries; returns how many.
 *  Strings are borrowed from cur and want. */
size_t shop_topic_config_merge(const struct shop_topic_kv *cur, size_t n_cur,
                               const struct shop_topic_kv *want, size_t n_want,
                               struct shop_topic_kv *out);

/** True when every desired setting already holds in cur (all of the topic's effective
 *  values, defaults included): nothing to alter. */
bool shop_topic_config_holds(const struct shop_topic_kv *cur, size_t n_cur,
                             const struct shop_topic_kv *want, size_t n_want);

/** The value of name in kv[0..n), or NULL. */
const char *shop_topic_config_get(const struct shop_topic_kv *kv, size_t n, const char *name);

#endif
