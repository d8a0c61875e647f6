/* SPDX-License-Identifier: MIT
 * The edge producer's librdkafka configuration and signal handling. Shell
 * (librdkafka only, no h2o).
 */
#include "edge/producer.h"

#include <stdio.h>

#include "base/shop_kafka_conf.h"

const struct shop_kafka_owned edge_kafka_owned[] = {
    {"bootstrap.servers", "set SHOPSTREAM_KAFKA_BROKERS"},
    {"metadata.broker.list", "set SHOPSTREAM_KAFKA_BROKERS"},
    {"acks", "202 means every replica in sync has the event (acks=all)"},
    {"request.required.acks", "202 means every replica in sync has the event (acks=all)"},
    {"enable.idempotence", "a retried produce must not duplicate events"},
    {"message.timeout.ms", "set SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS"},
    {"delivery.timeout.ms", "set SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS"},
    {"statistics.interval.ms", "broker statistics tell a producer that was down that a broker is back"},
    {NULL, NULL},
};

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, struct shop_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return shop_err_set(err, SHOP_ECONFIG, "kafka config %s=%s: %s", k, v, errstr);
    return 0;
}

rd_kafka_conf_t *edge_kafka_conf_new(const struct shop_edge_config *cfg, const char *client_id,
                                     struct shop_err *err)
{
    char timeout[16], stats[16];
    snprintf(timeout, sizeof(timeout), "%d", cfg->delivery_timeout_ms);
    snprintf(stats, sizeof(stats), "%d", EDGE_KAFKA_STATS_INTERVAL_MS);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* A request must not outlive the delivery timeout, even when a broker stalls with
     * requests in flight, so request and socket timeouts are bounded by it as well. */
    const char *kv[][2] = {
        {"bootstrap.servers", cfg->kafka_brokers},
        {"client.id", client_id},
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"message.timeout.ms", timeout},
        {"request.timeout.ms", timeout},
        {"socket.timeout.ms", timeout},
        {"linger.ms", "2"},
        {"reconnect.backoff.max.ms", "1000"},
        {"topic.metadata.refresh.interval.ms", "10000"},
        {"statistics.interval.ms", stats},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (conf_set(conf, kv[i][0], kv[i][1], err) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (shop_kafka_conf_apply(conf, cfg->kafka_props, err) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

bool edge_producer_on_error(struct shop_edge_broker *b, int err, int64_t now_us)
{
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        return false;
    return shop_edge_broker_all_down(b, now_us);
}

bool edge_producer_on_stats(struct shop_edge_broker *b, const char *json, size_t len)
{
    if (!shop_edge_broker_is_down(b))
        return false;   /* parsing costs; only a producer that is down needs it */
    int64_t ts_us = 0;
    int up = shop_edge_stats_brokers_up(json, len, &ts_us);
    return up > 0 && shop_edge_broker_stats(b, ts_us, up);
}
