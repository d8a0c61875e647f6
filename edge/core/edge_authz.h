/* SPDX-License-Identifier: MIT
 * Who may post which event: the authority matrix (role x event type), the edge's
 * ingest mapping of one event (authorise, stamp for the granted user, validate), and
 * the ownership rule checked against the orders read model. Pure: the clock, the
 * fresh id and the rows read from PostgreSQL come in as arguments.
 * Invariants: a payload case the matrix does not list (inventory.*, anything added
 * later) is denied to every role; a batch is all or nothing, so the first event refused
 * refuses the batch; an event is produced for the user its grant names, never for
 * another one.
 */
#ifndef SHOP_EDGE_AUTHZ_H
#define SHOP_EDGE_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "edge/core/edge_role.h"
#include "proto/core/shop_event.h"

/** One cell of the matrix: on what terms a role may post an event type. */
enum shop_authz_cell {
    SHOP_AUTHZ_DENY = 0,
    SHOP_AUTHZ_SELF,         /* the poster's own: user_id absent or the token subject */
    SHOP_AUTHZ_SELF_ORDER,   /* SELF, and the order is the poster's (read model, then worker) */
    SHOP_AUTHZ_ON_BEHALF,    /* for the user named by the body's user_id (required) */
    SHOP_AUTHZ_CATALOG,      /* about a product, not a user: user_id is the poster's */
};

/** The matrix (docs/api.md "Who may post what"). DENY for any pc it does not list. */
enum shop_authz_cell shop_authz_cell(enum shop_edge_role role, Shopstream__V1__Event__PayloadCase pc);

/** What let one event in. user_id is the user it is stamped for (borrowed from ev). */
struct shop_authz_grant {
    enum shop_edge_role role;
    enum shop_authz_cell cell;
    const char *user_id;
};

/** Grants ev to the most privileged of the token's roles (bit set) whose cell admits it
 *  as posted. Returns 0 with g filled (g->user_id: the body's for ON_BEHALF, else sub;
 *  CATALOG keeps a named user_id), or with p filled (index set): SHOP_EFORBIDDEN when no
 *  role may post the type (field "type") or a shopper names another user ("user_id"),
 *  SHOP_EINVAL when only an ON_BEHALF cell fits and user_id is absent ("user_id").
 *  An event without a payload is granted to no one in particular (SELF): validation
 *  refuses it. */
int shop_authz_event(const Shopstream__V1__Event *ev, int index, unsigned roles, const char *sub,
                     struct shop_authz_grant *g, struct shop_problem *p);

/** What the edge knows at ingest. uuid_text is a fresh UUID v4 for an event without an
 *  id; now_ms the edge's clock; lim the validation limits (NULL: the defaults). */
struct shop_authz_ctx {
    unsigned roles;
    const char *sub;
    const char *uuid_text;
    int64_t now_ms;
    const char *source;
    const struct shop_event_limits *lim;
};

/** The ingest mapping of one event, shared by the edge and bench/ingest: authorise
 *  (shop_authz_event), stamp for the granted user (shop_event_stamp), validate. Returns
 *  0 with g filled and actor_id (sub) and actor_role (g->role) stamped, or the HTTP
 *  status to refuse the batch with (400 or 403), p filled with index. Strings the event gains live in arena. */
int shop_authz_admit(Shopstream__V1__Event *ev, int index, const struct shop_authz_ctx *c,
                     struct shop_arena *arena, struct shop_authz_grant *g, struct shop_problem *p);

/** True when ev, granted g, must be checked against the orders read model before it is
 *  produced: every order.placed (its id must be new) and every SELF_ORDER event (the
 *  order, when known, must be the poster's). */
bool shop_authz_needs_owner(const Shopstream__V1__Event *ev, const struct shop_authz_grant *g);

/** The one lookup per batch; $1 is shop_authz_owner_param()'s text[] literal. Columns:
 *  order_id, user_id, and the id of the event that placed it (order_status_history's
 *  "placed" step; NULL when the history has none), one row per such step. */
extern const char shop_authz_owner_sql[];

/** $1 of shop_authz_owner_sql: the distinct order ids of the events that need the check,
 *  as a PostgreSQL text[] literal in arena ({"o-1","o-2"}); NULL when none needs it.
 *  Order ids are validated (A-Z a-z 0-9 . _ : -); quotes and backslashes would be
 *  escaped all the same. */
char *shop_authz_owner_param(Shopstream__V1__Event *const *events,
                             const struct shop_authz_grant *grants, size_t n,
                             struct shop_arena *arena);

/** One row of the lookup: an order in the read model, the user who placed it and the id of
 *  the order.placed event that did ("" when unknown). */
struct shop_authz_owner {
    const char *order_id;
    const char *user_id;
    const char *placed_event_id;
};

/** Checks every event that needed it (shop_authz_needs_owner) in batch order against the
 *  rows found. Returns 0, 409 for an order.placed whose order_id is in the read model or
 *  placed earlier in the batch, or 403 for a SELF_ORDER event of an order in the read
 *  model that another user placed; p names the index and field order_id. The very event
 *  that placed the order, posted again by its user (a client's retry with the same id),
 *  is no reuse: it passes, and the workers apply it once. */
int shop_authz_check_owners(Shopstream__V1__Event *const *events,
                            const struct shop_authz_grant *grants, size_t n,
                            const struct shop_authz_owner *rows, size_t n_rows,
                            struct shop_problem *p);

#endif
