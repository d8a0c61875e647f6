/* SPDX-License-Identifier: MIT
 * Turns Online Retail invoices into shopper sessions: real orders, plus
 * synthetic views, searches, cart adds/removes and abandoned carts drawn from a
 * seeded generator (the dataset has no browse/cart events). Pure and
 * deterministic: the same rows and seed give the same bodies and event ids, so
 * replaying twice changes nothing downstream (projections dedupe by id). The dataset
 * is history, with its recorded prices and times: each shopper event names its
 * customer in "user_id" and is posted with the service role (an import), the
 * catalog with the admin role.
 */
#ifndef SHOP_REPLAY_GEN_H
#define SHOP_REPLAY_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "tools/retail/retail.h"

struct replay_opts {
    size_t customers;          /* how many customers (the first N by first purchase) */
    uint64_t seed;
    size_t order_lines_max;    /* invoices with more lines are skipped (split with orders_only) */
    /* The orders' window: invoices with from_ms <= time < until_ms (0: unbounded). The
     * catalog always covers every product of the chosen customers, with stock for all of
     * their orders, so a later window can follow an earlier one without a catalog. */
    int64_t from_ms, until_ms;
    /* A history import: the catalog (stamped a day before the first invoice), then each
     * invoice as one order.placed and nothing else (no synthetic browsing, carts or later
     * steps), in invoice time order across customers. An invoice over order_lines_max
     * lines becomes orders of at most that many lines (ids INVOICE, INVOICE-2, ...); a
     * line over quantity_max units (what the edge takes) is dropped. */
    int orders_only;
    int32_t quantity_max;      /* orders_only: 0 keeps every line */
};

/** One POST /v1/events: a batch of one user's events (or the admin's catalog). */
struct replay_request {
    char user_id[24];          /* the customer (every event's user_id), or "catalog-admin" */
    int admin;                 /* posted with role admin (catalog events); else role service */
    char *body;                /* JSON, owned */
    size_t n_events;
};

struct replay_plan {
    struct replay_request *reqs;  /* catalog first, then each user's sessions in time order */
    size_t n_reqs;
    size_t n_events;
    size_t n_orders, n_products, n_users, n_skipped_invoices;
    size_t n_split_invoices, n_dropped_lines;   /* orders_only */
    /* counts by kind, for the demo's summary */
    size_t n_views, n_cart_adds, n_abandoned;
};

/** Builds the plan from rows (any order). Returns 0 or SHOP_EINVAL when nothing qualifies. */
int replay_plan_build(const struct retail_row *rows, size_t n_rows, const struct replay_opts *opts,
                      struct replay_plan *plan);
void replay_plan_free(struct replay_plan *plan);

/** "YYYY-MM-DD" (midnight) or "YYYY-MM-DD HH:MM:SS", UTC as the dataset's times, to epoch
 *  ms. 0, or SHOP_EINVAL for anything else (trailing text, a month 13, a day 32). */
int replay_parse_time(const char *text, int64_t *out_ms);

/** Deterministic UUID (v5, SHA-1) for (seed, name, seq) in canonical text; out holds 37 bytes. */
void replay_event_id(uint64_t seed, const char *name, unsigned seq, char out[37]);

#endif
