/* SPDX-License-Identifier: MIT
 * Broker reachability of one producer, as a small state machine. Pure: the
 * shell feeds it librdkafka's signals (all brokers down, a statistics snapshot,
 * a delivery report) with the monotonic time in microseconds, and asks it
 * whether a request may be produced. Invariant: it only decides whether to try;
 * 202 still needs a successful delivery report for every event.
 */
#ifndef SHOP_EDGE_BROKER_H
#define SHOP_EDGE_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum shop_broker_state { SHOP_BROKER_UP = 0, SHOP_BROKER_DOWN };

enum shop_broker_admit {
    SHOP_BROKER_ADMIT = 0,  /* produce as usual */
    SHOP_BROKER_PROBE,      /* known down, but produce this one to find out whether it is back */
    SHOP_BROKER_REJECT      /* known down: answer 503 now, produce nothing */
};

struct shop_edge_broker {
    enum shop_broker_state state;
    int64_t down_since_us;   /* when the state last became DOWN */
    int64_t next_probe_us;   /* no probe before this */
    int64_t probe_interval_us;
    bool probing;            /* a probe request is waiting for its delivery reports */
};

/** Starts UP (a producer that cannot connect says so within its first attempt). */
void shop_edge_broker_init(struct shop_edge_broker *b, int64_t probe_interval_us);

/** librdkafka reported RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN. Returns true if the state changed. */
bool shop_edge_broker_all_down(struct shop_edge_broker *b, int64_t now_us);

/** A statistics snapshot taken at snapshot_us (librdkafka's monotonic clock) saw
 *  brokers_up brokers in state UP. Only a snapshot taken after the state became DOWN
 *  can bring it back UP: an older one may predate the outage. Returns true if the
 *  state changed. */
bool shop_edge_broker_stats(struct shop_edge_broker *b, int64_t snapshot_us, int brokers_up);

/** Evidence that a broker was reachable at at_us from elsewhere (another producer of the
 *  process acknowledged a message then). Like statistics, it counts only if it is newer
 *  than the outage. Returns true if the state changed. */
bool shop_edge_broker_peer_up(struct shop_edge_broker *b, int64_t at_us);

/** One delivery report: ok means the broker acknowledged it. Returns true if the state
 *  changed. */
bool shop_edge_broker_delivered(struct shop_edge_broker *b, bool ok);

/** A probe admitted by shop_edge_broker_admit() has all its reports (or could not be
 *  queued at all); the next probe may go after the probe interval. */
void shop_edge_broker_probe_done(struct shop_edge_broker *b, int64_t now_us);

/** True while every broker is known to be unreachable. */
bool shop_edge_broker_is_down(const struct shop_edge_broker *b);

/** Decides for one request at now_us. SHOP_BROKER_PROBE marks a probe as in flight. */
enum shop_broker_admit shop_edge_broker_admit(struct shop_edge_broker *b, int64_t now_us);

/** Reads a librdkafka statistics JSON document: *ts_us gets its "ts" (monotonic
 *  microseconds) and the return value is the number of non-internal brokers whose
 *  "state" is "UP", or SHOP_EBADMSG if the document is not statistics JSON. */
int shop_edge_stats_brokers_up(const char *json, size_t len, int64_t *ts_us);

#endif
