/* SPDX-License-Identifier: MIT
 * The inventory fold: new catalog and order events of one batch, in batch order,
 * move the stock of the products and the reservations of the orders they name.
 * Pure. Invariants: 0 <= reserved <= on_hand for every product after every event,
 * an order holds all its units or none, and each order gets one outcome of each kind
 * at most (docs/inventory.md).
 */
#include <string.h>

#include "workers/core/inv_internal.h"
#include "workers/core/sql_array.h"

static const char *const reason_names[] = {
    [SHOP_INV_REASON_NONE] = "", [SHOP_INV_UNKNOWN_PRODUCT] = "unknown_product",
    [SHOP_INV_PRICE_MISMATCH] = "price_mismatch", [SHOP_INV_OUT_OF_STOCK] = "out_of_stock",
};
static const char *const kind_types[] = {
    [SHOP_INV_RESERVED] = "inventory.reserved", [SHOP_INV_REJECTED] = "inventory.rejected",
    [SHOP_INV_RELEASED] = "inventory.released", [SHOP_INV_COMMITTED] = "inventory.committed",
    [SHOP_INV_LOW_STOCK] = "inventory.low_stock",
};
static const char *const hold_names[] = {
    [SHOP_INV_HOLD_NONE] = "none", [SHOP_INV_HOLD_HELD] = "held", [SHOP_INV_HOLD_RELEASED] = "released",
    [SHOP_INV_HOLD_COMMITTED] = "committed",
};

const char *shop_inv_reason_name(enum shop_inv_reason r)
{
    return (unsigned)r <= SHOP_INV_OUT_OF_STOCK ? reason_names[r] : "";
}

const char *shop_inv_kind_type(enum shop_inv_kind k)
{
    return (unsigned)k < SHOP_INV_KIND_COUNT ? kind_types[k] : "";
}

const char *shop_inv_hold_name(enum shop_inv_hold h)
{
    return (unsigned)h <= SHOP_INV_HOLD_COMMITTED ? hold_names[h] : "none";
}

enum shop_inv_hold shop_inv_hold_parse(const char *s)
{
    for (int i = SHOP_INV_HOLD_NONE; i <= SHOP_INV_HOLD_COMMITTED; i++) {
        if (strcmp(s, hold_names[i]) == 0)
            return (enum shop_inv_hold)i;
    }
    return SHOP_INV_HOLD_NONE;
}

void *inv_grow(struct shop_arena *arena, void *items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return items;
    size_t cap2 = *cap == 0 ? 8 : *cap * 2;
    void *p = shop_arena_alloc(arena, cap2 * elem);
    if (n > 0)
        memcpy(p, items, n * elem);
    *cap = cap2;
    return p;
}

struct shop_inv_fold *shop_inv_fold_new(struct shop_arena *arena, struct shop_hash_seed seed,
                                        int64_t default_threshold)
{
    struct shop_inv_fold *f = shop_arena_alloc(arena, sizeof(*f));
    f->arena = arena;
    f->seed = seed;
    f->default_threshold = default_threshold;
    shop_strmap_init_seeded(&f->products, arena, seed);
    shop_strmap_init_seeded(&f->orders, arena, seed);
    shop_strmap_init_seeded(&f->offsets, arena, seed);
    return f;
}

const struct shop_inv_stats *shop_inv_fold_stats(const struct shop_inv_fold *f)
{
    return &f->stats;
}

const struct shop_inv_outcome *shop_inv_fold_outcomes(const struct shop_inv_fold *f, size_t *n)
{
    *n = f->n_outcomes;
    return f->outcomes;
}

const struct shop_inv_refused *shop_inv_fold_refusals(const struct shop_inv_fold *f, size_t *n)
{
    *n = f->n_refusals;
    return f->refusals;
}

static inline int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t available(const struct inv_product *p)
{
    return p->on_hand - p->reserved;
}

static int64_t threshold_of(const struct shop_inv_fold *f, const struct inv_product *p)
{
    return p->has_threshold ? p->threshold : f->default_threshold;
}

static struct inv_product *product_new(struct shop_inv_fold *f, const char *product_id, bool stored)
{
    struct inv_product *p = shop_arena_alloc(f->arena, sizeof(*p));
    p->product_id = product_id;
    p->stored = stored;
    shop_strmap_put(&f->products, product_id, p);
    return p;
}

void shop_inv_fold_known_product(struct shop_inv_fold *f, const char *product_id, int64_t on_hand,
                                 int64_t reserved, bool has_threshold, int64_t threshold, bool has_price,
                                 int64_t price_minor, const char *currency, int64_t at_ms)
{
    if (shop_strmap_get(&f->products, product_id) != NULL)
        return;
    struct inv_product *p = product_new(f, shop_arena_strdup(f->arena, product_id), true);
    p->on_hand = on_hand;
    p->reserved = reserved;
    p->has_threshold = has_threshold;
    p->threshold = threshold;
    p->has_price = has_price;
    p->price_minor = price_minor;
    p->currency = has_price ? shop_arena_strdup(f->arena, currency) : NULL;
    p->at_ms = at_ms;
}

bool shop_inv_fold_stock(const struct shop_inv_fold *f, const char *product_id, struct shop_inv_stock *out)
{
    const struct inv_product *p = shop_strmap_get(&f->products, product_id);
    if (p == NULL)
        return false;
    *out = (struct shop_inv_stock){p->on_hand, p->reserved, p->has_price, p->price_minor};
    return true;
}

bool shop_inv_fold_order(const struct shop_inv_fold *f, const char *order_id, enum shop_order_status *status,
                         enum shop_inv_hold *hold)
{
    const struct inv_order *o = shop_strmap_get(&f->orders, order_id);
    if (o == NULL)
        return false;
    *status = o->status;
    *hold = o->hold;
    return true;
}

static void order_add_line(struct shop_inv_fold *f, struct inv_order *o, const char *product_id, int64_t qty)
{
    o->lines = inv_grow(f->arena, o->lines, o->n_lines, &o->cap_lines, sizeof(*o->lines));
    o->lines[o->n_lines++] = (struct inv_hold_line){product_id, qty};
}

int shop_inv_fold_known_order(struct shop_inv_fold *f, const char *order_id, const char *user_id,
                              const char *status, const char *hold, const char *product_id, int64_t quantity)
{
    struct inv_order *o = shop_strmap_get(&f->orders, order_id);
    if (o == NULL) {
        enum shop_order_status st = shop_order_status_parse(status);
        if (st == SHOP_ORDER_NONE)
            return shop_err_set(NULL, SHOP_EINVAL, "unknown status");
        o = shop_arena_alloc(f->arena, sizeof(*o));
        o->order_id = shop_arena_strdup(f->arena, order_id);
        o->user_id = shop_arena_strdup(f->arena, user_id);
        o->stored = true;
        o->status = st;
        o->hold = shop_inv_hold_parse(hold);
        shop_strmap_put(&f->orders, o->order_id, o);
    }
    if (product_id != NULL)
        order_add_line(f, o, shop_arena_strdup(f->arena, product_id), quantity);
    return 0;
}

static struct shop_inv_outcome *outcome_add(struct shop_inv_fold *f, enum shop_inv_kind kind,
                                            const Shopstream__V1__Event *cause, const char *key)
{
    f->outcomes = inv_grow(f->arena, f->outcomes, f->n_outcomes, &f->cap_outcomes, sizeof(*f->outcomes));
    struct shop_inv_outcome *oc = &f->outcomes[f->n_outcomes++];
    *oc = (struct shop_inv_outcome){.kind = kind, .cause = cause, .key = key};
    return oc;
}

/* Low stock is the moment available falls below the threshold: a product that was at or
 * above it before the event (or had no row: a new product counts as not low) and is
 * below it after. */
static void check_low(struct shop_inv_fold *f, const struct inv_product *p, bool was_low,
                      const Shopstream__V1__Event *cause)
{
    int64_t thr = threshold_of(f, p);
    if (was_low || available(p) >= thr)
        return;
    struct shop_inv_outcome *oc = outcome_add(f, SHOP_INV_LOW_STOCK, cause, p->product_id);
    oc->on_hand = p->on_hand;
    oc->reserved = p->reserved;
    oc->available = available(p);
    oc->threshold = thr;
    oc->lines = shop_arena_alloc(f->arena, sizeof(*oc->lines));
    oc->lines[0] = (struct shop_inv_line){p->product_id, 0, available(p), p->has_price, p->price_minor,
                                          p->currency};
    oc->n_lines = 1;
    shop_inv_outcome_id(SHOP_INV_LOW_STOCK, NULL, cause->id, p->product_id, oc->event_id);
    f->stats.low_stock++;
}

static bool is_low(const struct shop_inv_fold *f, const struct inv_product *p)
{
    return (p->stored || p->dirty) && available(p) < threshold_of(f, p);
}

static void touch(struct inv_product *p, const Shopstream__V1__Event *ev)
{
    p->dirty = true;
    p->at_ms = max64(p->at_ms, ev->occurred_at_ms);
}

/* A count or a delta below the reserved units keeps the reservations: on_hand stops at
 * reserved (available 0) and the difference is the shortfall (docs/inventory.md). */
static void set_on_hand(struct shop_inv_fold *f, struct inv_product *p, int64_t v)
{
    if (v < p->reserved) {
        f->stats.shortfall += p->reserved - v;
        v = p->reserved;
    }
    p->on_hand = v;
}

static enum shop_inv_result fold_upsert(struct shop_inv_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__ProductUpserted *u = ev->product_upserted;
    struct inv_product *p = shop_strmap_get(&f->products, u->product_id);
    if (p == NULL)
        p = product_new(f, u->product_id, false);
    bool was_low = is_low(f, p);
    set_on_hand(f, p, u->stock);
    if (u->price != NULL) {
        p->has_price = true;
        p->price_minor = u->price->amount_minor;
        p->currency = u->price->currency;
    }
    touch(p, ev);
    check_low(f, p, was_low, ev);
    return SHOP_INV_APPLIED;
}

static enum shop_inv_result fold_adjust(struct shop_inv_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__StockAdjusted *s = ev->stock_adjusted;
    struct inv_product *p = shop_strmap_get(&f->products, s->product_id);
    int64_t v;
    if (p != NULL && __builtin_add_overflow(p->on_hand, s->delta, &v))
        return SHOP_INV_OVERFLOW;
    if (p == NULL) {
        p = product_new(f, s->product_id, false);
        v = s->delta;
    }
    bool was_low = is_low(f, p);
    set_on_hand(f, p, v);
    touch(p, ev);
    check_low(f, p, was_low, ev);
    return SHOP_INV_APPLIED;
}

static enum shop_inv_result refuse(struct shop_inv_fold *f, const Shopstream__V1__Event *ev, const char *order_id,
                                   const char *why)
{
    f->refusals = inv_grow(f->arena, f->refusals, f->n_refusals, &f->cap_refusals, sizeof(*f->refusals));
    f->refusals[f->n_refusals++] = (struct shop_inv_refused){ev, order_id, why};
    return SHOP_INV_REFUSED;
}

/* Only a shopper's prices are checked: service and admin orders (imports, backfills)
 * are taken at the prices they record, and so are records from before the edge stamped
 * the role, as they were accepted then. */
static bool prices_checked(const Shopstream__V1__Event *ev)
{
    enum shop_actor actor;
    return !shop_actor_of(ev, &actor) || actor == SHOP_ACTOR_SHOPPER;
}

/* What an order.placed asks of one product: its lines summed. */
struct inv_want {
    const char *product_id;
    int64_t qty;
    struct inv_product *p;      /* NULL: no stock row */
    enum shop_inv_reason why;   /* the first problem this product has, or NONE */
};

static size_t collect_wants(struct shop_inv_fold *f, const Shopstream__V1__OrderPlaced *op,
                            struct inv_want *wants)
{
    struct shop_strmap seen;
    size_t n = 0;
    shop_strmap_init_seeded(&seen, f->arena, f->seed);
    for (size_t i = 0; i < op->n_lines; i++) {
        const Shopstream__V1__OrderLine *l = op->lines[i];
        struct inv_want *w = shop_strmap_get(&seen, l->product_id);
        if (w == NULL) {
            w = &wants[n++];
            *w = (struct inv_want){.product_id = l->product_id, .p = shop_strmap_get(&f->products, l->product_id)};
            shop_strmap_put(&seen, l->product_id, w);
        }
        w->qty += l->quantity;
    }
    return n;
}

static bool price_differs(const Shopstream__V1__OrderLine *l, const struct inv_product *p)
{
    const Shopstream__V1__Money *m = l->unit_price;
    return m == NULL || m->amount_minor != p->price_minor || p->currency == NULL || m->currency == NULL ||
           strcmp(m->currency, p->currency) != 0;
}

/* Marks each product with its first problem and returns the order's reason: unknown
 * product first, then a price mismatch (shoppers only), then out of stock. */
static enum shop_inv_reason judge(const Shopstream__V1__Event *ev, struct inv_want *wants, size_t n)
{
    const Shopstream__V1__OrderPlaced *op = ev->order_placed;
    enum shop_inv_reason reason = SHOP_INV_REASON_NONE;
    bool check_prices = prices_checked(ev);
    for (size_t i = 0; i < n; i++) {
        struct inv_want *w = &wants[i];
        if (w->p == NULL || !w->p->has_price)
            w->why = SHOP_INV_UNKNOWN_PRODUCT;
        else if (w->qty > available(w->p))
            w->why = SHOP_INV_OUT_OF_STOCK;
    }
    for (size_t i = 0; check_prices && i < op->n_lines; i++) {
        const Shopstream__V1__OrderLine *l = op->lines[i];
        for (size_t j = 0; j < n; j++) {
            struct inv_want *w = &wants[j];
            if (strcmp(w->product_id, l->product_id) == 0 && w->why != SHOP_INV_UNKNOWN_PRODUCT &&
                price_differs(l, w->p))
                w->why = SHOP_INV_PRICE_MISMATCH;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (wants[i].why != SHOP_INV_REASON_NONE && (reason == SHOP_INV_REASON_NONE || wants[i].why < reason))
            reason = wants[i].why;
    }
    return reason;
}

/* The outcome's lines: every product of a reserved order, the products that have the
 * order's reason for a rejected one. */
static void outcome_lines(struct shop_inv_fold *f, struct shop_inv_outcome *oc, const struct inv_want *wants,
                          size_t n, enum shop_inv_reason reason)
{
    oc->lines = shop_arena_alloc(f->arena, n * sizeof(*oc->lines));
    for (size_t i = 0; i < n; i++) {
        const struct inv_want *w = &wants[i];
        if (reason != SHOP_INV_REASON_NONE && w->why != reason)
            continue;
        struct shop_inv_line *l = &oc->lines[oc->n_lines++];
        *l = (struct shop_inv_line){.product_id = w->product_id, .requested = w->qty};
        if (w->p != NULL) {
            l->available = available(w->p);
            l->has_price = w->p->has_price;
            l->price_minor = w->p->price_minor;
            l->currency = w->p->currency;
        }
    }
}

static struct inv_order *order_placed_new(struct shop_inv_fold *f, const Shopstream__V1__Event *ev,
                                          enum shop_inv_reason reason)
{
    struct inv_order *o = shop_arena_alloc(f->arena, sizeof(*o));
    o->order_id = ev->order_placed->order_id;
    o->user_id = ev->user_id;
    o->dirty = true;
    o->reason = reason;
    o->status = reason == SHOP_INV_REASON_NONE ? SHOP_ORDER_CONFIRMED : SHOP_ORDER_REJECTED;
    o->hold = reason == SHOP_INV_REASON_NONE ? SHOP_INV_HOLD_HELD : SHOP_INV_HOLD_NONE;
    o->placed_event_id = ev->id;
    o->placed_at_ms = o->updated_at_ms = ev->occurred_at_ms;
    shop_strmap_put(&f->orders, o->order_id, o);
    return o;
}

static enum shop_inv_result fold_placed(struct shop_inv_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__OrderPlaced *op = ev->order_placed;
    const char *why = shop_order_authority(ev, SHOP_STEP_PLACE, "");
    if (why == NULL && shop_strmap_get(&f->orders, op->order_id) != NULL)
        why = SHOP_REFUSE_ORDER_EXISTS;   /* order_life's verdict on placing a known id */
    if (why != NULL)
        return refuse(f, ev, op->order_id, why);
    struct inv_want *wants = shop_arena_alloc(f->arena, (op->n_lines + 1) * sizeof(*wants));
    size_t n = collect_wants(f, op, wants);
    enum shop_inv_reason reason = judge(ev, wants, n);
    struct inv_order *o = order_placed_new(f, ev, reason);
    enum shop_inv_kind kind = reason == SHOP_INV_REASON_NONE ? SHOP_INV_RESERVED : SHOP_INV_REJECTED;
    struct shop_inv_outcome *oc = outcome_add(f, kind, ev, o->order_id);
    oc->order_id = o->order_id;
    oc->user_id = o->user_id;
    oc->reason = reason;
    shop_inv_outcome_id(kind, o->order_id, NULL, NULL, oc->event_id);
    if (reason != SHOP_INV_REASON_NONE) {
        outcome_lines(f, oc, wants, n, reason);   /* what the products have now */
        f->stats.rejected++;
        return SHOP_INV_APPLIED;
    }
    f->stats.reserved++;
    size_t first_low = f->n_outcomes;
    bool *was_low = shop_arena_alloc(f->arena, (n + 1) * sizeof(*was_low));
    for (size_t i = 0; i < n; i++) {
        struct inv_product *p = wants[i].p;
        was_low[i] = is_low(f, p);
        p->reserved += wants[i].qty;   /* <= on_hand: judge checked it */
        touch(p, ev);
        order_add_line(f, o, p->product_id, wants[i].qty);
    }
    outcome_lines(f, &f->outcomes[first_low - 1], wants, n, reason);   /* available after the reservation */
    for (size_t i = 0; i < n; i++)
        check_low(f, wants[i].p, was_low[i], ev);
    return SHOP_INV_APPLIED;
}

/* Releases (cancelled) or commits (shipped) what the order holds. */
static void settle(struct shop_inv_fold *f, struct inv_order *o, enum shop_inv_hold to,
                   const Shopstream__V1__Event *ev)
{
    enum shop_inv_kind kind = to == SHOP_INV_HOLD_RELEASED ? SHOP_INV_RELEASED : SHOP_INV_COMMITTED;
    struct shop_inv_outcome *oc = outcome_add(f, kind, ev, o->order_id);
    oc->order_id = o->order_id;
    oc->user_id = o->user_id;
    oc->lines = shop_arena_alloc(f->arena, (o->n_lines + 1) * sizeof(*oc->lines));
    for (size_t i = 0; i < o->n_lines; i++) {
        struct inv_product *p = shop_strmap_get(&f->products, o->lines[i].product_id);
        int64_t q = o->lines[i].quantity;
        oc->lines[oc->n_lines++] = (struct shop_inv_line){.product_id = o->lines[i].product_id, .requested = q};
        if (p == NULL)
            continue;   /* a held line without a stock row: the schema's CHECKs rule it out */
        p->reserved -= q;
        if (to == SHOP_INV_HOLD_COMMITTED)
            p->on_hand -= q;
        touch(p, ev);
        oc->lines[oc->n_lines - 1].available = available(p);
    }
    shop_inv_outcome_id(kind, o->order_id, NULL, NULL, oc->event_id);
    o->hold = to;
    o->hold_changed = o->stored;
    if (to == SHOP_INV_HOLD_RELEASED)
        f->stats.released++;
    else
        f->stats.committed++;
}

/* A step of an order's life (order_life.c decides who may take it and whether it is
 * legal); a cancel releases what the order holds, a ship commits it. */
static enum shop_inv_result fold_step(struct shop_inv_fold *f, const Shopstream__V1__Event *ev,
                                      const char *order_id, enum shop_order_step step)
{
    struct inv_order *o = shop_strmap_get(&f->orders, order_id);
    enum shop_order_status next = SHOP_ORDER_NONE;
    const char *why = NULL;
    if (o == NULL)
        return refuse(f, ev, order_id, SHOP_REFUSE_UNKNOWN_ORDER);
    why = shop_order_authority(ev, step, o->user_id);
    if (why == NULL && shop_order_judge(o->status, step, &next, &why) != SHOP_ORDER_MOVE)
        why = why != NULL ? why : SHOP_REFUSE_ILLEGAL;   /* a note is for decisions only */
    if (why != NULL)
        return refuse(f, ev, order_id, why);
    o->status = next;
    o->dirty = true;
    o->updated_at_ms = max64(o->updated_at_ms, ev->occurred_at_ms);
    if (o->hold == SHOP_INV_HOLD_HELD && step == SHOP_STEP_CANCEL)
        settle(f, o, SHOP_INV_HOLD_RELEASED, ev);
    else if (o->hold == SHOP_INV_HOLD_HELD && step == SHOP_STEP_SHIP)
        settle(f, o, SHOP_INV_HOLD_COMMITTED, ev);
    return SHOP_INV_APPLIED;
}

static enum shop_inv_result fold_one(struct shop_inv_fold *f, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED:
        return fold_upsert(f, ev);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED:
        return fold_adjust(f, ev);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        return fold_placed(f, ev);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID:
        return fold_step(f, ev, ev->order_paid->order_id, SHOP_STEP_PAY);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED:
        return fold_step(f, ev, ev->order_shipped->order_id, SHOP_STEP_SHIP);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED:
        return fold_step(f, ev, ev->order_delivered->order_id, SHOP_STEP_DELIVER);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED:
        return fold_step(f, ev, ev->order_cancelled->order_id, SHOP_STEP_CANCEL);
    default:
        return SHOP_INV_IGNORED;
    }
}

enum shop_inv_result shop_inv_fold_event(struct shop_inv_fold *f, const Shopstream__V1__Event *ev)
{
    enum shop_inv_result r = fold_one(f, ev);
    switch (r) {
    case SHOP_INV_APPLIED:
        f->stats.applied++;
        break;
    case SHOP_INV_IGNORED:
        f->stats.ignored++;
        break;
    case SHOP_INV_REFUSED:
        f->stats.refused++;
        break;
    case SHOP_INV_OVERFLOW:
        f->stats.overflow++;
        break;
    }
    return r;
}

void shop_inv_fold_offset(struct shop_inv_fold *f, const char *topic, int32_t partition, int64_t next_offset)
{
    size_t lt = strlen(topic);
    char *key = shop_arena_alloc(f->arena, lt + SHOP_I64_TEXT_MAX + 2);
    memcpy(key, topic, lt);
    key[lt] = '\n';   /* no topic name holds a newline */
    shop_i64_text(key + lt + 1, partition);
    struct inv_offset *o = shop_strmap_get(&f->offsets, key);
    if (o == NULL) {
        o = shop_arena_alloc(f->arena, sizeof(*o));
        *o = (struct inv_offset){topic, partition, next_offset};
        shop_strmap_put(&f->offsets, key, o);
    }
    o->next_offset = max64(o->next_offset, next_offset);
}
