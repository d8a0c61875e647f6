/* SPDX-License-Identifier: MIT
 * Stamping: the edge fills what it owns (user, id, type, times, source, the
 * order total) before validation. Pure: the clock and the UUID come in as
 * arguments. Invariant: the user_id of a stamped event is the token subject.
 */
#include <string.h>

#include "proto/core/event_internal.h"

/* An absent total is the sum of the lines; a broken sum is left for validation to name. */
static void fill_order_total(Shopstream__V1__OrderPlaced *op, struct shop_arena *arena)
{
    int64_t sum;
    if (op->total != NULL || op->n_lines == 0 || shop__order_sum(op, &sum) < 0)
        return;
    Shopstream__V1__Money *m = shop_arena_alloc(arena, sizeof(*m));
    shopstream__v1__money__init(m);
    m->amount_minor = sum;
    m->currency = shop_arena_strdup(arena, shop__str(op->lines[0]->unit_price->currency));
    op->total = m;
}

int shop_event_stamp(Shopstream__V1__Event *ev, int index, const char *subject, const char *uuid_text,
                     int64_t received_at_ms, const char *source, struct shop_arena *arena,
                     struct shop_problem *p)
{
    const char *named = shop__str(ev->user_id);
    if (named[0] != '\0' && strcmp(named, shop__str(subject)) != 0) {
        p->index = index;
        shop__problem(p, "user_id", "does not match the authenticated user");
        return SHOP_EFORBIDDEN;
    }
    ev->user_id = shop_arena_strdup(arena, shop__str(subject));
    /* The edge's to fill once it has authorized the event; never the body's. */
    ev->actor_id = NULL;
    ev->actor_role = NULL;
    if (shop__str(ev->id)[0] == '\0')
        ev->id = shop_arena_strdup(arena, shop__str(uuid_text));
    const char *name = shop_event_type_name(ev->payload_case);
    if (shop__str(ev->type)[0] == '\0' && name != NULL)
        ev->type = shop_arena_strdup(arena, name);
    ev->received_at_ms = received_at_ms;
    if (ev->occurred_at_ms == 0)
        ev->occurred_at_ms = received_at_ms;
    if (source != NULL && source[0] != '\0')
        ev->source = shop_arena_strdup(arena, source);
    if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED && ev->order_placed != NULL)
        fill_order_total(ev->order_placed, arena);
    return 0;
}
