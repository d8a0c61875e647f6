/* SPDX-License-Identifier: MIT
 * The edge's producer (its librdkafka configuration, the batch verdict driven by
 * delivery reports, the reachability signals) against librdkafka's in-process
 * mock cluster, for faults a real broker cannot easily produce. No network beyond
 * loopback, no external services. Each test polls until its verdict; the
 * deadlines only stop a broken build from hanging, nothing asserts on time.
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "edge/core/edge_batch.h"
#include "edge/core/edge_broker.h"
#include "edge/producer.h"

#define TOPIC "mock.browse.v1"
#define KAFKAP_PRODUCE 0          /* Produce API key (rdkafka_protocol.h is not installed) */
#define GIVE_UP_TIMEOUT_MS 1000  /* delivery timeout where retries must run out */
#define ABSORB_TIMEOUT_MS 10000   /* delivery timeout where a retry must get through */
#define GIVE_UP_MS 30000

/* What the edge's delivery callback does (ingest.c): feed the report to the batch and to
 * the reachability state, answer the verdict. Here "answer" counts verdicts by status. */
struct run {
    struct shop_edge_batch batch;
    struct shop_edge_broker broker;
    int answers_202, answers_503;
    int went_down, came_up;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void record(struct run *r, enum shop_batch_verdict v)
{
    if (shop_edge_batch_status(v) == 202)
        r->answers_202++;
    else if (shop_edge_batch_status(v) == 503)
        r->answers_503++;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct run *r = opaque;
    shop_edge_broker_delivered(&r->broker, rkm->err == 0);
    record(r, shop_edge_batch_report(&r->batch, 0, rkm->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct run *r = opaque;
    if (edge_producer_on_error(&r->broker, err, mono_us()))
        r->went_down++;
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct run *r = opaque;
    if (edge_producer_on_stats(&r->broker, json, len))
        r->came_up++;
    return 0;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;   /* the mock is chatty; keep output clean */
}

/* The edge's producer configuration, with bootstrap.servers replaced by a mock cluster. */
static rd_kafka_t *edge_producer_on_mock(struct run *r, int brokers, int delivery_timeout_ms)
{
    struct shop_edge_config cfg = {.kafka_brokers = "mock:9092",
                                   .delivery_timeout_ms = delivery_timeout_ms};
    struct shop_err err = {0};
    rd_kafka_conf_t *conf = edge_kafka_conf_new(&cfg, "shopstream-edge-mock", &err);
    cr_assert_not_null(conf, "%s", err.msg);
    char n[8], errstr[512];
    snprintf(n, sizeof(n), "%d", brokers);
    cr_assert_eq(rd_kafka_conf_set(conf, "test.mock.num.brokers", n, errstr, sizeof(errstr)),
                 RD_KAFKA_CONF_OK, "%s", errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, r);
    shop_edge_broker_init(&r->broker, 1000000);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    cr_assert_not_null(mc);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, TOPIC, 1, brokers), 0);
    return rk;
}

/* Produces one batch of n events as ingest.c does and polls until every report is in. */
static void produce_batch(rd_kafka_t *rk, struct run *r, int n)
{
    shop_edge_batch_init(&r->batch, (size_t)n);
    size_t produced = 0;
    rd_kafka_resp_err_t err = 0;
    for (int i = 0; i < n && err == 0; i++) {
        char value[32];
        int len = snprintf(value, sizeof(value), "event-%d", i);
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY("u1", 2),
                                RD_KAFKA_V_VALUE(value, (size_t)len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == 0)
            produced++;
    }
    record(r, shop_edge_batch_queued(&r->batch, produced, err));
    int64_t give_up = mono_us() + GIVE_UP_MS * 1000;
    while (!shop_edge_batch_done(&r->batch) && mono_us() < give_up)
        rd_kafka_poll(rk, 50);
    cr_assert(shop_edge_batch_done(&r->batch), "every delivery report arrived");
}

static int64_t records_in_topic(rd_kafka_t *rk)
{
    int64_t lo = -1, hi = -1;
    cr_assert_eq(rd_kafka_query_watermark_offsets(rk, TOPIC, 0, &lo, &hi, 5000), 0);
    return hi - lo;
}

static void push_produce_errors(rd_kafka_t *rk, rd_kafka_resp_err_t e, size_t count)
{
    rd_kafka_resp_err_t errs[64];
    cr_assert_leq(count, 64);
    for (size_t i = 0; i < count; i++)
        errs[i] = e;
    rd_kafka_mock_push_request_errors_array(rd_kafka_handle_mock_cluster(rk), KAFKAP_PRODUCE,
                                            count, errs);
}

/* Producer id, metadata and leader in place first; on a loaded machine that may take
 * longer than a short delivery timeout, so a few attempts. */
static void warm_up(rd_kafka_t *rk, struct run *r)
{
    for (int i = 0; i < 20 && r->answers_202 == 0; i++)
        produce_batch(rk, r, 1);
    cr_assert_eq(r->answers_202, 1, "the mock cluster accepts a first batch");
    *r = (struct run){.broker = r->broker};
}

/* Retriable errors past the delivery timeout: librdkafka gives up, the batch is a 503. */
static void assert_exhausted_retries_give_503(rd_kafka_resp_err_t e)
{
    struct run r = {0};
    rd_kafka_t *rk = edge_producer_on_mock(&r, 3, GIVE_UP_TIMEOUT_MS);
    warm_up(rk, &r);
    push_produce_errors(rk, e, 64);   /* more than retries fit in the delivery timeout */
    produce_batch(rk, &r, 3);
    cr_assert_eq(r.answers_503, 1, "one 503 for the batch");
    cr_assert_eq(r.answers_202, 0, "never 202 for an unacknowledged event");
    cr_assert_eq(r.batch.failed, 3);
    rd_kafka_destroy(rk);
}

Test(producer_mock, not_enough_replicas_until_timeout_is_503)
{
    assert_exhausted_retries_give_503(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
}

Test(producer_mock, request_timed_out_until_timeout_is_503)
{
    assert_exhausted_retries_give_503(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
}

Test(producer_mock, permanent_error_is_503_without_waiting_for_retries)
{
    struct run r = {0};
    rd_kafka_t *rk = edge_producer_on_mock(&r, 3, ABSORB_TIMEOUT_MS);
    warm_up(rk, &r);
    push_produce_errors(rk, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 1);
    produce_batch(rk, &r, 2);
    cr_assert_eq(r.answers_503, 1);
    cr_assert_eq(r.answers_202, 0);
    cr_assert_eq(r.batch.first_err, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_destroy(rk);
}

static void assert_retry_absorbs(rd_kafka_resp_err_t e)
{
    struct run r = {0};
    rd_kafka_t *rk = edge_producer_on_mock(&r, 3, ABSORB_TIMEOUT_MS);
    warm_up(rk, &r);
    int64_t before = records_in_topic(rk);
    push_produce_errors(rk, e, 2);
    produce_batch(rk, &r, 3);
    cr_assert_eq(r.answers_202, 1, "exactly one 202");
    cr_assert_eq(r.answers_503, 0);
    cr_assert_eq(r.batch.failed, 0);
    cr_assert_eq(records_in_topic(rk) - before, 3, "each event stored once, no duplicates");
    rd_kafka_destroy(rk);
}

Test(producer_mock, transient_not_enough_replicas_is_absorbed_by_a_retry)
{
    assert_retry_absorbs(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
}

Test(producer_mock, transient_leader_change_is_absorbed_by_a_retry)
{
    assert_retry_absorbs(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
}

/* Every mock broker down: librdkafka says ALL_BROKERS_DOWN and the edge's state rejects at
 * once; one broker back: a statistics snapshot shows it UP and requests are admitted. */
Test(producer_mock, all_brokers_down_then_back_drives_reachability)
{
    struct run r = {0};
    rd_kafka_t *rk = edge_producer_on_mock(&r, 2, ABSORB_TIMEOUT_MS);
    warm_up(rk, &r);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    for (int32_t id = 1; id <= 2; id++)
        cr_assert_eq(rd_kafka_mock_broker_set_down(mc, id), 0);
    int64_t give_up = mono_us() + GIVE_UP_MS * 1000;
    while (r.went_down == 0 && mono_us() < give_up)
        rd_kafka_poll(rk, 50);
    cr_assert_eq(r.went_down, 1, "ALL_BROKERS_DOWN marked the producer down");
    cr_assert_eq(shop_edge_broker_admit(&r.broker, mono_us()), SHOP_BROKER_REJECT);
    cr_assert_eq(rd_kafka_mock_broker_set_up(mc, 1), 0);
    cr_assert_eq(rd_kafka_mock_broker_set_up(mc, 2), 0);
    give_up = mono_us() + GIVE_UP_MS * 1000;
    while (r.came_up == 0 && mono_us() < give_up)
        rd_kafka_poll(rk, 50);
    cr_assert_eq(r.came_up, 1, "statistics showed a broker back UP");
    cr_assert_eq(shop_edge_broker_admit(&r.broker, mono_us()), SHOP_BROKER_ADMIT);
    produce_batch(rk, &r, 1);
    cr_assert_eq(r.answers_202, 1, "and the next batch is acknowledged");
    rd_kafka_destroy(rk);
}
