/* SPDX-License-Identifier: MIT
 * An outbox relay: rows a role committed with its effects (an event id, a key, the
 * protobuf Event) produced to a topic with an idempotent producer (acks=all) and the
 * event's CloudEvents headers, then deleted once every delivery was acknowledged. One
 * relay at a time across the group's instances (a transaction-scoped try-lock), so
 * the rows go out in their order. At least once: rows delivered but not deleted (a
 * crash in between) go out again with the same event ids. Used by the inventory and
 * ml roles. Shell. Loop thread.
 */
#ifndef SHOP_WORKER_RELAY_H
#define SHOP_WORKER_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "workers/worker.h"

/* The role's statements. */
struct worker_relay_sql {
    const char *lock;   /* one row, one bool: this instance holds the relay for the transaction */
    const char *read;   /* $1 the row limit (, $2 the topic when set): rows (id, topic, key, payload) in order */
    const char *del;    /* $1 the ids relayed, bigint[] */
    const char *count;  /* $1 a cap: the rows waiting, up to the cap (the outbox depth metric) */
};

struct worker_relay {
    const char *comp;                   /* log component: the role's name */
    const struct worker_relay_sql *sql;
    const char *topic;                  /* $2 of read when the rows name no topic of their own, else NULL */
    rd_kafka_t *rk;                     /* idempotent producer, acks=all */
    int failed;                         /* failed deliveries of the current turn */
    bool due;                           /* rows may wait */
    bool failing;                       /* the last turn failed (logged once until it works) */
    uint64_t relayed, failures;         /* for the role's stats line */
    uint64_t counted_ms;                /* uv_now of the last depth count */
};

/** Creates the producer (client.id client_id) with the operator's Kafka properties. */
int worker_relay_open(struct worker *w, struct worker_relay *r, const char *client_id, struct shop_err *err);
/** While r->due: relays until the outbox is empty; a failure is logged once and left
 *  for the next call (the role's cron). */
void worker_relay_run(struct worker *w, struct worker_relay *r);
/** The cron's part: every few seconds, counts the rows waiting (up to a cap) into
 *  w->outbox_depth, the gauge /metrics shows (a scrape never queries). */
void worker_relay_count(struct worker *w, struct worker_relay *r);
/** Flushes what is in flight and destroys the producer. */
void worker_relay_close(struct worker_relay *r);

#endif
