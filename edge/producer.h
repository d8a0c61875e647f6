/* SPDX-License-Identifier: MIT
 * The edge producer's librdkafka configuration and how its signals feed the
 * broker reachability state, apart from the h2o shell so that tests run the
 * same producer against librdkafka's mock cluster. Shell (librdkafka, no h2o).
 */
#ifndef EDGE_PRODUCER_H
#define EDGE_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "edge/core/edge_broker.h"
#include "edge/core/edge_config.h"

/* Statistics (broker states) every second: how a producer that knows every broker is
 * down learns that one is back without producing. */
#define EDGE_KAFKA_STATS_INTERVAL_MS 1000

/** Kafka properties the edge sets itself; SHOPSTREAM_KAFKA_PROPERTIES may not name them. */
extern const struct shop_kafka_owned edge_kafka_owned[];

/** A new producer configuration as the edge runs it: idempotent, acks=all, delivery,
 *  request and socket timeouts all cfg->delivery_timeout_ms, statistics every
 *  EDGE_KAFKA_STATS_INTERVAL_MS, then the operator's cfg->kafka_props. No callbacks are set. Returns NULL with err set on a
 *  bad value; on success the caller owns the result. Any thread. */
rd_kafka_conf_t *edge_kafka_conf_new(const struct shop_edge_config *cfg, const char *client_id,
                                     struct shop_err *err);

/** Feeds one error_cb error into b at now_us (CLOCK_MONOTONIC, as librdkafka's clock).
 *  Returns true when it just made every broker known unreachable. Loop thread. */
bool edge_producer_on_error(struct shop_edge_broker *b, int err, int64_t now_us);

/** Feeds one statistics document into b (parsed only while b is down). Returns true when
 *  it just showed a broker back UP. Loop thread. */
bool edge_producer_on_stats(struct shop_edge_broker *b, const char *json, size_t len);

#endif
