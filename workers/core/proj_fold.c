/* SPDX-License-Identifier: MIT
 * The fold: new events of one batch, in batch order, become net effects per
 * key (product, cart line, cart, order). Pure. Invariant: applying the net
 * effects once gives the same rows as applying the events one by one in the
 * same order (see docs/projections.md).
 */
#include <string.h>

#include "workers/core/proj_internal.h"
#include "workers/core/sql_array.h"

bool shop_order_transition_ok(enum shop_order_status from, enum shop_order_status to)
{
    if (from == SHOP_ORDER_NONE || from == SHOP_ORDER_CANCELLED || from == SHOP_ORDER_DELIVERED)
        return false;
    if (to == SHOP_ORDER_CANCELLED)
        return from == SHOP_ORDER_PLACED || from == SHOP_ORDER_PAID;
    return to > from && to <= SHOP_ORDER_DELIVERED;
}

struct shop_proj_fold *shop_proj_fold_new_seeded(struct shop_arena *arena, struct shop_hash_seed seed)
{
    struct shop_proj_fold *f = shop_arena_alloc(arena, sizeof(*f));
    f->arena = arena;
    shop_strmap_init_seeded(&f->products, arena, seed);
    shop_strmap_init_seeded(&f->lines, arena, seed);
    shop_strmap_init_seeded(&f->users, arena, seed);
    shop_strmap_init_seeded(&f->orders, arena, seed);
    shop_strmap_init_seeded(&f->offsets, arena, seed);
    return f;
}

struct shop_proj_fold *shop_proj_fold_new(struct shop_arena *arena)
{
    return shop_proj_fold_new_seeded(arena, (struct shop_hash_seed){0, 0});
}

const struct shop_proj_stats *shop_proj_fold_stats(const struct shop_proj_fold *f)
{
    return &f->stats;
}

static inline int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* A money field is absent when the message is missing or has no currency. */
static bool money_set(const Shopstream__V1__Money *m)
{
    return m != NULL && m->currency != NULL && m->currency[0] != '\0';
}

static const char *opt_str(const char *s)
{
    return (s == NULL || s[0] == '\0') ? NULL : s;
}

/* Keys of two strings are length-prefixed so that no pair of ids can collide. */
static const char *pair_key(struct shop_arena *arena, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *key = shop_arena_alloc(arena, la + lb + SHOP_I64_TEXT_MAX + 2);
    size_t n = shop_i64_text(key, (int64_t)la);
    key[n++] = ':';
    memcpy(key + n, a, la);
    memcpy(key + n + la, b, lb + 1);
    return key;
}

static struct proj_product *product_of(struct shop_proj_fold *f, const char *product_id, int64_t at_ms)
{
    struct proj_product *p = shop_strmap_get(&f->products, product_id);
    if (p == NULL) {
        p = shop_arena_alloc(f->arena, sizeof(*p));
        p->product_id = product_id;
        p->updated_at_ms = at_ms;
        shop_strmap_put(&f->products, product_id, p);
    }
    p->updated_at_ms = max64(p->updated_at_ms, at_ms);
    return p;
}

static struct proj_cart_user *cart_user_of(struct shop_proj_fold *f, const char *user_id, int64_t at_ms)
{
    struct proj_cart_user *u = shop_strmap_get(&f->users, user_id);
    if (u == NULL) {
        u = shop_arena_alloc(f->arena, sizeof(*u));
        u->user_id = user_id;
        u->updated_at_ms = at_ms;
        shop_strmap_put(&f->users, user_id, u);
    }
    u->updated_at_ms = max64(u->updated_at_ms, at_ms);
    return u;
}

/* A new line starts as "relative +0", the identity of the composition. */
static struct proj_cart_line *cart_line_of(struct shop_proj_fold *f, const char *user_id,
                                           const char *product_id, int64_t at_ms)
{
    struct proj_cart_user *u = cart_user_of(f, user_id, at_ms);
    const char *key = pair_key(f->arena, user_id, product_id);
    struct proj_cart_line *l = shop_strmap_get(&f->lines, key);
    if (l == NULL) {
        l = shop_arena_alloc(f->arena, sizeof(*l));
        l->user_id = user_id;
        l->product_id = product_id;
        l->mode = LINE_REL;
        l->updated_at_ms = at_ms;
        l->next_of_user = u->lines;
        u->lines = l;
        shop_strmap_put(&f->lines, key, l);
    }
    l->updated_at_ms = max64(l->updated_at_ms, at_ms);
    return l;
}

static void cart_line_zero(struct proj_cart_line *l)
{
    l->mode = LINE_ABS;
    l->quantity = 0;
    l->fresh = true;
    l->has_price = false;
    l->currency = NULL;
}

static void fold_cart_add(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__CartItemAdded *a = ev->cart_item_added;
    struct proj_cart_line *l = cart_line_of(f, ev->user_id, a->product_id, ev->occurred_at_ms);
    l->quantity += a->quantity;     /* relative stays relative, absolute stays absolute */
    if (money_set(a->unit_price)) {
        l->has_price = true;
        l->price_minor = a->unit_price->amount_minor;
        l->currency = a->unit_price->currency;
    }
}

static void fold_cart_set(struct shop_proj_fold *f, const Shopstream__V1__Event *ev, const char *product_id,
                          int64_t quantity)
{
    struct proj_cart_line *l = cart_line_of(f, ev->user_id, product_id, ev->occurred_at_ms);
    if (quantity <= 0) {
        cart_line_zero(l);
        return;
    }
    l->mode = LINE_ABS;     /* keeps fresh and price: setting a quantity does not reprice */
    l->quantity = quantity;
}

/* Clearing deletes every row of the user (cart_clear runs before the line effects),
 * so lines folded so far reset to the identity. */
static void fold_cart_clear(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    struct proj_cart_user *u = cart_user_of(f, ev->user_id, ev->occurred_at_ms);
    u->cleared = true;
    for (struct proj_cart_line *l = u->lines; l != NULL; l = l->next_of_user) {
        l->mode = LINE_REL;
        l->quantity = 0;
        l->fresh = false;
        l->has_price = false;
        l->currency = NULL;
    }
}

static void fold_product_upserted(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__ProductUpserted *u = ev->product_upserted;
    struct proj_product *p = product_of(f, u->product_id, ev->occurred_at_ms);
    p->has_catalog = true;
    p->name = opt_str(u->name);
    p->category = opt_str(u->category);
    p->has_price = money_set(u->price);
    p->price_minor = p->has_price ? u->price->amount_minor : 0;
    p->currency = p->has_price ? u->price->currency : NULL;
    p->stock_abs = true;    /* earlier stock deltas of the batch are overwritten */
    p->stock = u->stock;
}

static void fold_stock(struct shop_proj_fold *f, const char *product_id, int64_t at_ms, int64_t stock_delta,
                       int64_t purchases_delta)
{
    struct proj_product *p = product_of(f, product_id, at_ms);
    p->stock += stock_delta;            /* checked by stock_fits before any change */
    p->purchases += purchases_delta;
}

/* Whether stock += sign * q and purchases -= sign * q for every line (a product may
 * appear on several lines) stay within int64, checked before the fold changes anything:
 * signed overflow is undefined in C, and PostgreSQL would refuse the sum anyway. */
static bool lines_fit(const struct shop_proj_fold *f, const char *const *products, const int64_t *qty, size_t n,
                      int64_t sign)
{
    for (size_t i = 0; i < n; i++) {
        const struct proj_product *p = shop_strmap_get(&f->products, products[i]);
        int64_t stock = p != NULL ? p->stock : 0, purchases = p != NULL ? p->purchases : 0;
        for (size_t j = 0; j <= i; j++) {
            if (strcmp(products[j], products[i]) != 0)
                continue;
            int64_t d;
            if (__builtin_mul_overflow(qty[j], sign, &d) || __builtin_add_overflow(stock, d, &stock) ||
                __builtin_sub_overflow(purchases, d, &purchases))
                return false;
        }
    }
    return true;
}

static bool stock_fits(const struct shop_proj_fold *f, const char *product_id, int64_t delta)
{
    const struct proj_product *p = shop_strmap_get(&f->products, product_id);
    int64_t sum;
    return !__builtin_add_overflow(p != NULL ? p->stock : 0, delta, &sum);
}

static void add_history(struct shop_proj_fold *f, const char *order_id, enum shop_order_status status,
                        const Shopstream__V1__Event *ev)
{
    if (f->n_history == f->cap_history) {
        size_t cap = f->cap_history ? 2 * f->cap_history : 32;
        struct proj_history *h = shop_arena_alloc(f->arena, cap * sizeof(*h));
        if (f->n_history > 0)
            memcpy(h, f->history, f->n_history * sizeof(*h));
        f->history = h;
        f->cap_history = cap;
    }
    f->history[f->n_history++] =
        (struct proj_history){order_id, status, ev->occurred_at_ms, ev->id};
}

static struct proj_order *order_new(struct shop_proj_fold *f, const char *order_id, size_t cap_lines)
{
    struct proj_order *o = shop_arena_alloc(f->arena, sizeof(*o));
    o->order_id = order_id;
    o->cap_lines = cap_lines;
    o->lines = shop_arena_alloc(f->arena, (cap_lines ? cap_lines : 1) * sizeof(*o->lines));
    shop_strmap_put(&f->orders, order_id, o);
    return o;
}

void shop_proj_fold_known_order(struct shop_proj_fold *f, const char *order_id, const char *status,
                                const char *product_id, int64_t quantity)
{
    struct proj_order *o = shop_strmap_get(&f->orders, order_id);
    if (o == NULL) {
        o = order_new(f, shop_arena_strdup(f->arena, order_id), 4);
        o->status_before = o->status = shop_order_status_parse(status);
    }
    if (product_id == NULL)
        return;
    if (o->n_lines == o->cap_lines) {
        struct proj_order_line *lines = shop_arena_alloc(f->arena, 2 * o->cap_lines * sizeof(*lines));
        memcpy(lines, o->lines, o->n_lines * sizeof(*lines));
        o->lines = lines;
        o->cap_lines *= 2;
    }
    o->lines[o->n_lines++] =
        (struct proj_order_line){shop_arena_strdup(f->arena, product_id), quantity, 0, NULL};
}

/* Placing reserves stock and counts purchases: both are returned on cancel. */
static enum shop_proj_outcome fold_order_placed(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    const Shopstream__V1__OrderPlaced *op = ev->order_placed;
    if (shop_strmap_get(&f->orders, op->order_id) != NULL)
        return SHOP_PROJ_DUPLICATE_ORDER;
    const char **products = shop_arena_alloc(f->arena, (op->n_lines + 1) * sizeof(*products));
    int64_t *qty = shop_arena_alloc(f->arena, (op->n_lines + 1) * sizeof(*qty));
    for (size_t i = 0; i < op->n_lines; i++) {
        products[i] = op->lines[i]->product_id;
        qty[i] = op->lines[i]->quantity;
    }
    if (!lines_fit(f, products, qty, op->n_lines, -1))
        return SHOP_PROJ_OVERFLOW;
    struct proj_order *o = order_new(f, op->order_id, op->n_lines);
    o->user_id = ev->user_id;
    o->placed_here = true;
    o->status = SHOP_ORDER_PLACED;
    o->total_minor = op->total != NULL ? op->total->amount_minor : 0;
    o->currency = op->total != NULL ? op->total->currency : "";
    o->placed_at_ms = o->updated_at_ms = ev->occurred_at_ms;
    for (size_t i = 0; i < op->n_lines; i++) {
        const Shopstream__V1__OrderLine *ol = op->lines[i];
        bool priced = ol->unit_price != NULL;
        o->lines[o->n_lines++] = (struct proj_order_line){
            ol->product_id, ol->quantity, priced ? ol->unit_price->amount_minor : 0,
            priced ? ol->unit_price->currency : o->currency};
        fold_stock(f, ol->product_id, ev->occurred_at_ms, -(int64_t)ol->quantity, ol->quantity);
    }
    add_history(f, o->order_id, SHOP_ORDER_PLACED, ev);
    return SHOP_PROJ_APPLIED;
}

static enum shop_proj_outcome fold_order_status(struct shop_proj_fold *f, const Shopstream__V1__Event *ev,
                                                const char *order_id, enum shop_order_status to)
{
    struct proj_order *o = shop_strmap_get(&f->orders, order_id);
    if (o == NULL)
        return SHOP_PROJ_ORPHAN;
    if (!shop_order_transition_ok(o->status, to))
        return SHOP_PROJ_REJECTED;
    if (to == SHOP_ORDER_CANCELLED) {
        const char **products = shop_arena_alloc(f->arena, (o->n_lines + 1) * sizeof(*products));
        int64_t *qty = shop_arena_alloc(f->arena, (o->n_lines + 1) * sizeof(*qty));
        for (size_t i = 0; i < o->n_lines; i++) {
            products[i] = o->lines[i].product_id;
            qty[i] = o->lines[i].quantity;
        }
        if (!lines_fit(f, products, qty, o->n_lines, 1))
            return SHOP_PROJ_OVERFLOW;
    }
    o->status = to;
    o->updated_at_ms = max64(o->updated_at_ms, ev->occurred_at_ms);
    if (to == SHOP_ORDER_CANCELLED) {
        for (size_t i = 0; i < o->n_lines; i++)
            fold_stock(f, o->lines[i].product_id, ev->occurred_at_ms, o->lines[i].quantity,
                       -o->lines[i].quantity);
    }
    add_history(f, o->order_id, to, ev);
    return SHOP_PROJ_APPLIED;
}

static enum shop_proj_outcome fold_dispatch(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        product_of(f, ev->product_viewed->product_id, ev->occurred_at_ms)->views++;
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        fold_cart_add(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED:
        fold_cart_set(f, ev, ev->cart_item_removed->product_id, 0);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET:
        fold_cart_set(f, ev, ev->cart_quantity_set->product_id, ev->cart_quantity_set->quantity);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_CLEARED:
        fold_cart_clear(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        return fold_order_placed(f, ev);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID:
        return fold_order_status(f, ev, ev->order_paid->order_id, SHOP_ORDER_PAID);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED:
        return fold_order_status(f, ev, ev->order_shipped->order_id, SHOP_ORDER_SHIPPED);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED:
        return fold_order_status(f, ev, ev->order_delivered->order_id, SHOP_ORDER_DELIVERED);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED:
        return fold_order_status(f, ev, ev->order_cancelled->order_id, SHOP_ORDER_CANCELLED);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED:
        fold_product_upserted(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED:
        if (!stock_fits(f, ev->stock_adjusted->product_id, ev->stock_adjusted->delta))
            return SHOP_PROJ_OVERFLOW;
        fold_stock(f, ev->stock_adjusted->product_id, ev->occurred_at_ms, ev->stock_adjusted->delta, 0);
        return SHOP_PROJ_APPLIED;
    default:   /* search_performed, and payloads added after this projector was written */
        return SHOP_PROJ_NO_PROJECTION;
    }
}

enum shop_proj_outcome shop_proj_fold_event(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    enum shop_proj_outcome oc = fold_dispatch(f, ev);
    switch (oc) {
    case SHOP_PROJ_APPLIED:
        f->stats.applied++;
        break;
    case SHOP_PROJ_NO_PROJECTION:
        f->stats.no_projection++;
        break;
    case SHOP_PROJ_REJECTED:
        f->stats.rejected++;
        break;
    case SHOP_PROJ_ORPHAN:
        f->stats.orphan++;
        break;
    case SHOP_PROJ_DUPLICATE_ORDER:
        f->stats.duplicate_order++;
        break;
    case SHOP_PROJ_OVERFLOW:
        f->stats.overflow++;
        break;
    }
    return oc;
}

void shop_proj_fold_offset(struct shop_proj_fold *f, const char *topic, int32_t partition,
                           int64_t next_offset)
{
    char part[SHOP_I64_TEXT_MAX];
    shop_i64_text(part, partition);
    const char *key = pair_key(f->arena, topic, part);
    struct proj_offset *o = shop_strmap_get(&f->offsets, key);
    if (o == NULL) {
        o = shop_arena_alloc(f->arena, sizeof(*o));
        *o = (struct proj_offset){topic, partition, next_offset};
        shop_strmap_put(&f->offsets, key, o);
    }
    o->next_offset = max64(o->next_offset, next_offset);
}
