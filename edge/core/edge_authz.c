/* SPDX-License-Identifier: MIT
 * The authority matrix and the ingest mapping of one event. Pure. Invariant: a payload
 * case without a row is denied to every role, so a new event type (inventory.*, the
 * inventory worker's output) is never postable until a row says who may post it.
 */
#include "edge/core/edge_authz.h"

#include <stdio.h>
#include <string.h>

#include "base/shop_err.h"

#define P(x) SHOPSTREAM__V1__EVENT__PAYLOAD_##x
#define SELF SHOP_AUTHZ_SELF
#define OWN_ORDER SHOP_AUTHZ_SELF_ORDER
#define BEHALF SHOP_AUTHZ_ON_BEHALF
#define CATALOG SHOP_AUTHZ_CATALOG
#define DENY SHOP_AUTHZ_DENY

struct row {
    Shopstream__V1__Event__PayloadCase pc;
    enum shop_authz_cell cell[SHOP_EDGE_ROLE_COUNT];   /* shopper, service, admin */
};

/* docs/api.md "Who may post what" is this table. A shopper cancels only their own order;
 * "before it ships" is the order life cycle's rule, applied by the worker to everyone. */
static const struct row matrix[] = {
    {P(PRODUCT_VIEWED),    {SELF, BEHALF, BEHALF}},
    {P(SEARCH_PERFORMED),  {SELF, BEHALF, BEHALF}},
    {P(CART_ITEM_ADDED),   {SELF, BEHALF, BEHALF}},
    {P(CART_ITEM_REMOVED), {SELF, BEHALF, BEHALF}},
    {P(CART_QUANTITY_SET), {SELF, BEHALF, BEHALF}},
    {P(CART_CLEARED),      {SELF, BEHALF, BEHALF}},
    {P(ORDER_PLACED),      {SELF, BEHALF, BEHALF}},
    {P(ORDER_PAID),        {DENY, BEHALF, BEHALF}},
    {P(ORDER_SHIPPED),     {DENY, BEHALF, BEHALF}},
    {P(ORDER_DELIVERED),   {DENY, BEHALF, BEHALF}},
    {P(ORDER_CANCELLED),   {OWN_ORDER, BEHALF, BEHALF}},
    {P(PRODUCT_UPSERTED),  {DENY, DENY, CATALOG}},
    {P(STOCK_ADJUSTED),    {DENY, DENY, CATALOG}},
};

enum shop_authz_cell shop_authz_cell(enum shop_edge_role role, Shopstream__V1__Event__PayloadCase pc)
{
    if ((int)role < 0 || role >= SHOP_EDGE_ROLE_COUNT)
        return DENY;
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
        if (matrix[i].pc == pc)
            return matrix[i].cell[role];
    return DENY;
}

static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* Why a cell does not admit the event as posted; 0 when it does. */
static int cell_refusal(enum shop_authz_cell cell, const char *named, const char *sub)
{
    switch (cell) {
    case SHOP_AUTHZ_SELF:
    case SHOP_AUTHZ_SELF_ORDER:
        return named[0] == '\0' || strcmp(named, sub) == 0 ? 0 : SHOP_EFORBIDDEN;
    case SHOP_AUTHZ_ON_BEHALF:
        return named[0] != '\0' ? 0 : SHOP_EINVAL;
    case SHOP_AUTHZ_CATALOG:
        return 0;
    default:
        return SHOP_EAUTH;   /* the role may not post the type at all */
    }
}

static int refuse(struct shop_problem *p, int index, int why, const char *type, unsigned roles,
                  enum shop_stream stream)
{
    *p = (struct shop_problem){.index = index};
    if (why == SHOP_EINVAL) {
        snprintf(p->field, sizeof(p->field), "user_id");
        snprintf(p->detail, sizeof(p->detail),
                 "is required: a service or admin posts %s on behalf of a user", type);
        return SHOP_EINVAL;
    }
    if (why == SHOP_EFORBIDDEN) {
        snprintf(p->field, sizeof(p->field), "user_id");
        snprintf(p->detail, sizeof(p->detail), "does not match the authenticated user");
        return SHOP_EFORBIDDEN;
    }
    char held[40] = "";
    for (int r = 0; r < SHOP_EDGE_ROLE_COUNT; r++)
        if (shop_edge_role_set_has(roles, (enum shop_edge_role)r))
            snprintf(held + strlen(held), sizeof(held) - strlen(held), "%s%s",
                     held[0] != '\0' ? "," : "", shop_edge_role_name((enum shop_edge_role)r));
    snprintf(p->field, sizeof(p->field), "type");
    if (stream == SHOP_STREAM_INVENTORY)
        snprintf(p->detail, sizeof(p->detail),
                 "%s: inventory events are written by the inventory worker only", type);
    else if (stream == SHOP_STREAM_ML)
        snprintf(p->detail, sizeof(p->detail), "%s: ml events are written by the ML worker only", type);
    else
        snprintf(p->detail, sizeof(p->detail), "%s may not be posted with the role(s) %s", type,
                 held);
    return SHOP_EFORBIDDEN;
}

int shop_authz_event(const Shopstream__V1__Event *ev, int index, unsigned roles, const char *sub,
                     struct shop_authz_grant *g, struct shop_problem *p)
{
    const char *named = str(ev->user_id);
    if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD__NOT_SET) {
        *g = (struct shop_authz_grant){SHOP_EDGE_ROLE_SHOPPER, SHOP_AUTHZ_SELF, sub};
        return 0;
    }
    /* Most privileged first: the strongest power the token holds is what it used. A
     * weaker role's refusal is reported only when no role admits the event. */
    int why = SHOP_EAUTH;
    for (int r = SHOP_EDGE_ROLE_COUNT - 1; r >= 0; r--) {
        if (!shop_edge_role_set_has(roles, (enum shop_edge_role)r))
            continue;
        enum shop_authz_cell cell = shop_authz_cell((enum shop_edge_role)r, ev->payload_case);
        int rc = cell_refusal(cell, named, sub);
        if (rc == 0) {
            bool theirs = cell == SHOP_AUTHZ_ON_BEHALF ||
                          (cell == SHOP_AUTHZ_CATALOG && named[0] != '\0');
            *g = (struct shop_authz_grant){(enum shop_edge_role)r, cell, theirs ? named : sub};
            return 0;
        }
        if (rc != SHOP_EAUTH && why == SHOP_EAUTH)
            why = rc;
    }
    const char *type = shop_event_type_name(ev->payload_case);
    return refuse(p, index, why, type != NULL ? type : str(ev->type), roles, shop_event_stream(ev));
}

int shop_authz_admit(Shopstream__V1__Event *ev, int index, const struct shop_authz_ctx *c,
                     struct shop_arena *arena, struct shop_authz_grant *g, struct shop_problem *p)
{
    int rc = shop_authz_event(ev, index, c->roles, c->sub, g, p);
    if (rc != 0)
        return rc == SHOP_EINVAL ? 400 : 403;
    rc = shop_event_stamp(ev, index, g->user_id, c->uuid_text, c->now_ms, c->source, arena, p);
    if (rc != 0)
        return rc == SHOP_EFORBIDDEN ? 403 : 400;
    g->user_id = ev->user_id;   /* the stamped copy, in arena */
    /* Who posted it and with which power: the edge's to say, never the body's. */
    ev->actor_id = shop_arena_strdup(arena, str(c->sub));
    ev->actor_role = shop_arena_strdup(arena, shop_edge_role_name(g->role));
    if (shop_event_validate(ev, c->lim, p) != 0) {
        p->index = index;   /* validate sees one event, not its place in the batch */
        return 400;
    }
    return 0;
}

/* The order id of an order.* event ("" for the rest, the inventory outcomes included). */
static const char *order_id(const Shopstream__V1__Event *ev)
{
    return shop_event_stream(ev) == SHOP_STREAM_ORDER ? shop_event_order_id(ev) : "";
}

bool shop_authz_needs_owner(const Shopstream__V1__Event *ev, const struct shop_authz_grant *g)
{
    if (order_id(ev)[0] == '\0')
        return false;
    return ev->payload_case == P(ORDER_PLACED) || g->cell == SHOP_AUTHZ_SELF_ORDER;
}

const char shop_authz_owner_sql[] =
    "select o.order_id, o.user_id, h.event_id::text from orders o "
    "left join order_status_history h on h.order_id = o.order_id and h.status = 'placed' "
    "where o.order_id = any($1::text[])";

/* Whether events[i]'s order id already appears among the events before it that need it. */
static bool seen_before(Shopstream__V1__Event *const *events, const struct shop_authz_grant *g,
                        size_t i, bool placed_only)
{
    const char *id = order_id(events[i]);
    for (size_t k = 0; k < i; k++) {
        if (!shop_authz_needs_owner(events[k], &g[k]))
            continue;
        if (placed_only && events[k]->payload_case != P(ORDER_PLACED))
            continue;
        if (strcmp(order_id(events[k]), id) == 0)
            return true;
    }
    return false;
}

char *shop_authz_owner_param(Shopstream__V1__Event *const *events,
                             const struct shop_authz_grant *grants, size_t n,
                             struct shop_arena *arena)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        if (shop_authz_needs_owner(events[i], &grants[i]))
            cap += 2 * strlen(order_id(events[i])) + 3;
    if (cap == 3)
        return NULL;
    char *buf = shop_arena_alloc(arena, cap), *o = buf;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (!shop_authz_needs_owner(events[i], &grants[i]) || seen_before(events, grants, i, false))
            continue;
        if (o > buf + 1)
            *o++ = ',';
        *o++ = '"';
        for (const char *s = order_id(events[i]); *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                *o++ = '\\';
            *o++ = *s;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return buf;
}

static const struct shop_authz_owner *find_owner(const struct shop_authz_owner *rows,
                                                 size_t n_rows, const char *id)
{
    for (size_t i = 0; i < n_rows; i++)
        if (strcmp(str(rows[i].order_id), id) == 0)
            return &rows[i];
    return NULL;
}

/* Whether the read model says event_id of user placed order id (a retry of that event). */
static bool placed_by(const struct shop_authz_owner *rows, size_t n_rows, const char *id,
                      const char *event_id, const char *user)
{
    for (size_t i = 0; i < n_rows; i++)
        if (strcmp(str(rows[i].order_id), id) == 0 && strcmp(str(rows[i].user_id), str(user)) == 0 &&
            event_id[0] != '\0' && strcmp(str(rows[i].placed_event_id), event_id) == 0)
            return true;
    return false;
}

static int owner_problem(struct shop_problem *p, size_t index, int status, const char *type,
                         const char *order_id)
{
    *p = (struct shop_problem){.index = (int)index, .field = "order_id"};
    if (status == 409)
        snprintf(p->detail, sizeof(p->detail), "%s: order %s already exists", type, order_id);
    else
        snprintf(p->detail, sizeof(p->detail), "%s: order %s is another user's", type, order_id);
    return status;
}

int shop_authz_check_owners(Shopstream__V1__Event *const *events,
                            const struct shop_authz_grant *grants, size_t n,
                            const struct shop_authz_owner *rows, size_t n_rows,
                            struct shop_problem *p)
{
    for (size_t i = 0; i < n; i++) {
        const Shopstream__V1__Event *ev = events[i];
        if (!shop_authz_needs_owner(ev, &grants[i]))
            continue;
        const char *id = order_id(ev);
        const char *type = shop_event_type_name(ev->payload_case);
        const struct shop_authz_owner *o = find_owner(rows, n_rows, id);
        if (ev->payload_case == P(ORDER_PLACED)) {
            bool retry = o != NULL && placed_by(rows, n_rows, id, str(ev->id), grants[i].user_id);
            if ((o != NULL && !retry) || seen_before(events, grants, i, true))
                return owner_problem(p, i, 409, type, id);
        } else if (o != NULL && strcmp(str(o->user_id), str(grants[i].user_id)) != 0) {
            return owner_problem(p, i, 403, type, id);
        }
    }
    return 0;
}
