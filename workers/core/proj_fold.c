/* SPDX-License-Identifier: MIT
 * The fold: new events of one batch, in batch order, become net effects per
 * key (product, cart line, cart, order). Pure. Invariant: applying the net
 * effects once gives the same rows as applying the events one by one in the
 * same order (see docs/projections.md).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "workers/core/proj_internal.h"
#include "workers/core/sql_array.h"

static const char *const refusal_names[SHOP_PROJ_REFUSE_COUNT] = {
    [SHOP_PROJ_REFUSE_ORDER_EXISTS] = SHOP_REFUSE_ORDER_EXISTS,
    [SHOP_PROJ_REFUSE_UNKNOWN_ORDER] = SHOP_REFUSE_UNKNOWN_ORDER,
    [SHOP_PROJ_REFUSE_ILLEGAL] = SHOP_REFUSE_ILLEGAL,
    [SHOP_PROJ_REFUSE_NOT_OWNER] = SHOP_REFUSE_NOT_OWNER,
    [SHOP_PROJ_REFUSE_NOT_ALLOWED] = SHOP_REFUSE_NOT_ALLOWED,
};

const char *shop_proj_refusal_name(enum shop_proj_refusal r)
{
    return (unsigned)r < SHOP_PROJ_REFUSE_COUNT ? refusal_names[r] : NULL;
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
    shop_strmap_init_seeded(&f->parked, arena, seed);
    shop_strmap_init_seeded(&f->activity, arena, seed);
    shop_strmap_init_seeded(&f->product_days, arena, seed);
    shop_strmap_init_seeded(&f->funnel, arena, seed);
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
}

/* Whether purchases += sign * q for every line (a product may appear on several lines)
 * stays within int64, checked before the fold changes anything: signed overflow is
 * undefined in C, and PostgreSQL would refuse the sum anyway. */
static bool lines_fit(const struct shop_proj_fold *f, const char *const *products, const int64_t *qty, size_t n,
                      int64_t sign)
{
    for (size_t i = 0; i < n; i++) {
        const struct proj_product *p = shop_strmap_get(&f->products, products[i]);
        int64_t purchases = p != NULL ? p->purchases : 0;
        for (size_t j = 0; j <= i; j++) {
            if (strcmp(products[j], products[i]) != 0)
                continue;
            int64_t d;
            if (__builtin_mul_overflow(qty[j], sign, &d) || __builtin_add_overflow(purchases, d, &purchases))
                return false;
        }
    }
    return true;
}

/* Grows an arena array of elem-sized items to hold one more. */
static void *grow(struct shop_arena *arena, void *items, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return items;
    size_t c = *cap ? 2 * *cap : 32;
    void *p = shop_arena_alloc(arena, c * elem);
    if (n > 0)
        memcpy(p, items, n * elem);
    *cap = c;
    return p;
}

static void add_history(struct shop_proj_fold *f, const char *order_id, enum shop_order_status status,
                        const struct proj_src *src)
{
    f->history = grow(f->arena, f->history, f->n_history, &f->cap_history, sizeof(*f->history));
    f->history[f->n_history++] = (struct proj_history){order_id, status, src->at_ms, src->event_id};
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
                                const char *user_id, const char *product_id, int64_t quantity)
{
    struct proj_order *o = shop_strmap_get(&f->orders, order_id);
    if (o == NULL) {
        o = order_new(f, shop_arena_strdup(f->arena, order_id), 4);
        o->status_before = o->status = shop_order_status_parse(status);
        o->user_id = shop_arena_strdup(f->arena, user_id != NULL ? user_id : "");
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

static struct proj_parked *park(struct shop_proj_fold *f, const char *order_id, enum shop_order_step step,
                                const char *rejection, const struct proj_src *src, bool stored)
{
    struct proj_parked *p = shop_arena_alloc(f->arena, sizeof(*p));
    *p = (struct proj_parked){.src = *src, .order_id = order_id, .step = step, .rejection = rejection,
                              .stored = stored};
    struct proj_parked *head = shop_strmap_get(&f->parked, order_id);
    if (head == NULL) {
        shop_strmap_put(&f->parked, order_id, p);
    } else {
        while (head->next_of_order != NULL)
            head = head->next_of_order;
        head->next_of_order = p;
    }
    f->parked_all = grow(f->arena, f->parked_all, f->n_parked, &f->cap_parked, sizeof(*f->parked_all));
    f->parked_all[f->n_parked++] = p;
    return p;
}

static const char *dup_or_null(struct shop_arena *arena, const char *s)
{
    return s != NULL ? shop_arena_strdup(arena, s) : NULL;
}

void shop_proj_fold_gated(struct shop_proj_fold *f, const char *order_ids)
{
    f->gated = order_ids != NULL && strcmp(order_ids, "{}") != 0 ? shop_arena_strdup(f->arena, order_ids) : NULL;
}

void shop_proj_fold_parked(struct shop_proj_fold *f, const struct shop_proj_parked *in)
{
    struct shop_arena *a = f->arena;
    struct proj_src src = {shop_arena_strdup(a, in->event_id), shop_arena_strdup(a, in->type),
                           shop_arena_strdup(a, in->user_id), shop_arena_strdup(a, in->actor_role),
                           shop_arena_strdup(a, in->topic), in->partition, in->offset, in->at_ms};
    enum shop_order_step step =
        shop_order_status_parse(in->status) == SHOP_ORDER_REJECTED ? SHOP_STEP_REJECT : SHOP_STEP_CONFIRM;
    park(f, shop_arena_strdup(a, in->order_id), step, dup_or_null(a, in->rejection), &src, true);
}

static enum shop_proj_refusal refusal_index(const char *reason)
{
    for (int i = 0; i < SHOP_PROJ_REFUSE_COUNT; i++)
        if (strcmp(reason, refusal_names[i]) == 0)
            return (enum shop_proj_refusal)i;
    return SHOP_PROJ_REFUSE_ILLEGAL;
}

static enum shop_proj_outcome refuse(struct shop_proj_fold *f, const struct proj_src *src, const char *order_id,
                                     const char *reason, enum shop_order_status status)
{
    f->refusals = grow(f->arena, f->refusals, f->n_refusals, &f->cap_refusals, sizeof(*f->refusals));
    f->refusals[f->n_refusals++] = (struct proj_refusal){*src, order_id, reason, status};
    f->stats.refused++;
    f->stats.refused_by[refusal_index(reason)]++;
    return SHOP_PROJ_REFUSED;
}

/* The status a step names in the history (and moves to, when it moves). */
static enum shop_order_status step_status(enum shop_order_step step)
{
    static const enum shop_order_status st[SHOP_STEP_COUNT] = {
        [SHOP_STEP_PLACE] = SHOP_ORDER_PLACED,     [SHOP_STEP_CONFIRM] = SHOP_ORDER_CONFIRMED,
        [SHOP_STEP_REJECT] = SHOP_ORDER_REJECTED,  [SHOP_STEP_PAY] = SHOP_ORDER_PAID,
        [SHOP_STEP_SHIP] = SHOP_ORDER_SHIPPED,     [SHOP_STEP_DELIVER] = SHOP_ORDER_DELIVERED,
        [SHOP_STEP_CANCEL] = SHOP_ORDER_CANCELLED,
    };
    return st[step];
}

/* Moving into cancelled or rejected gives the order's units back to purchases (units in
 * orders that are neither), once: a rejection that overrides a cancel returns nothing
 * more. Checked first. */
static bool returns_purchases(enum shop_order_status cur, enum shop_order_status next)
{
    bool gone = cur == SHOP_ORDER_CANCELLED || cur == SHOP_ORDER_REJECTED;
    return !gone && (next == SHOP_ORDER_CANCELLED || next == SHOP_ORDER_REJECTED);
}

static bool order_lines_fit(const struct shop_proj_fold *f, const struct proj_order *o, int64_t sign)
{
    const char **products = shop_arena_alloc(f->arena, (o->n_lines + 1) * sizeof(*products));
    int64_t *qty = shop_arena_alloc(f->arena, (o->n_lines + 1) * sizeof(*qty));
    for (size_t i = 0; i < o->n_lines; i++) {
        products[i] = o->lines[i].product_id;
        qty[i] = o->lines[i].quantity;
    }
    return lines_fit(f, products, qty, o->n_lines, sign);
}

static void order_purchases(struct shop_proj_fold *f, const struct proj_order *o, int64_t sign, int64_t at_ms)
{
    for (size_t i = 0; i < o->n_lines; i++)
        product_of(f, o->lines[i].product_id, at_ms)->purchases += sign * o->lines[i].quantity;
}

/* A step past the refusals of the placement: judged by the life cycle (order_life.h).
 * ev is NULL for a parked decision (decisions need no authority). */
static enum shop_proj_outcome order_step(struct shop_proj_fold *f, struct proj_order *o, enum shop_order_step step,
                                         const Shopstream__V1__Event *ev, const char *rejection,
                                         const struct proj_src *src)
{
    enum shop_order_status next = SHOP_ORDER_NONE;
    const char *reason = NULL;
    enum shop_order_verdict v = shop_order_judge(o->status, step, &next, &reason);
    if (v == SHOP_ORDER_REFUSE && strcmp(reason, SHOP_REFUSE_ILLEGAL) != 0)
        return refuse(f, src, o->order_id, reason, o->status);   /* order_exists */
    const char *denied = ev != NULL ? shop_order_authority(ev, step, o->user_id) : NULL;
    if (denied != NULL)
        return refuse(f, src, o->order_id, denied, o->status);
    if (v == SHOP_ORDER_REFUSE)
        return refuse(f, src, o->order_id, reason, o->status);
    if (v == SHOP_ORDER_MOVE && returns_purchases(o->status, next) && !order_lines_fit(f, o, -1))
        return SHOP_PROJ_OVERFLOW;
    o->changed = true;
    o->updated_at_ms = max64(o->updated_at_ms, src->at_ms);
    add_history(f, o->order_id, step_status(step), src);
    if (v == SHOP_ORDER_NOTE) {
        f->stats.noted++;
        return SHOP_PROJ_APPLIED;
    }
    bool returns = returns_purchases(o->status, next);
    proj_sale_note(o, next, src->at_ms);
    o->status = next;
    if (next == SHOP_ORDER_REJECTED)
        o->rejection = rejection;
    if (returns)
        order_purchases(f, o, -1, src->at_ms);
    return SHOP_PROJ_APPLIED;
}

/* Applies the decisions parked for a just placed order, in arrival order. */
static void unpark(struct shop_proj_fold *f, struct proj_order *o)
{
    for (struct proj_parked *p = shop_strmap_get(&f->parked, o->order_id); p != NULL; p = p->next_of_order) {
        if (p->resolved)
            continue;
        p->resolved = true;
        if (order_step(f, o, p->step, NULL, p->rejection, &p->src) == SHOP_PROJ_APPLIED)
            f->stats.applied++;
    }
}

/* Placing counts purchases; cancel and rejection take them back. */
static enum shop_proj_outcome fold_order_placed(struct shop_proj_fold *f, const Shopstream__V1__Event *ev,
                                                const struct proj_src *src)
{
    const Shopstream__V1__OrderPlaced *op = ev->order_placed;
    struct proj_order *known = shop_strmap_get(&f->orders, op->order_id);
    if (known != NULL && known->status != SHOP_ORDER_NONE)
        return refuse(f, src, op->order_id, SHOP_REFUSE_ORDER_EXISTS, known->status);
    const char *denied = shop_order_authority(ev, SHOP_STEP_PLACE, "");
    if (denied != NULL)
        return refuse(f, src, op->order_id, denied, SHOP_ORDER_NONE);
    const char **products = shop_arena_alloc(f->arena, (op->n_lines + 1) * sizeof(*products));
    int64_t *qty = shop_arena_alloc(f->arena, (op->n_lines + 1) * sizeof(*qty));
    for (size_t i = 0; i < op->n_lines; i++) {
        products[i] = op->lines[i]->product_id;
        qty[i] = op->lines[i]->quantity;
    }
    if (!lines_fit(f, products, qty, op->n_lines, 1))
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
    }
    order_purchases(f, o, 1, ev->occurred_at_ms);
    add_history(f, o->order_id, SHOP_ORDER_PLACED, src);
    proj_activity_note(f, ev);
    unpark(f, o);
    return SHOP_PROJ_APPLIED;
}

/* orders.rejection: the inventory's StockRejected as JSON (docs/projections.md). */
static const char *rejection_json(struct shop_arena *arena, const Shopstream__V1__StockRejected *r)
{
    json_t *lines = json_array();
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shopstream__V1__StockShortLine *l = r->lines[i];
        json_t *price = money_set(l->catalog_price)
                            ? json_pack("{s:I,s:s}", "amount_minor", (json_int_t)l->catalog_price->amount_minor,
                                        "currency", l->catalog_price->currency)
                            : json_null();
        json_array_append_new(lines, json_pack("{s:s,s:I,s:I,s:o}", "product_id", l->product_id, "requested",
                                               (json_int_t)l->requested, "available", (json_int_t)l->available,
                                               "catalog_price", price));
    }
    json_t *root = json_pack("{s:s,s:o}", "reason", r->reason, "lines", lines);
    char *text = root != NULL ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    if (text == NULL)
        abort();   /* out of memory, as the arena */
    const char *copy = shop_arena_strdup(arena, text);
    free(text);
    return copy;
}

/* Every order step but the placement; decisions (inventory.*) for an order not placed
 * yet are parked: the two topics are not ordered against each other. */
static enum shop_proj_outcome fold_order_step(struct shop_proj_fold *f, const Shopstream__V1__Event *ev,
                                              enum shop_order_step step, const struct proj_src *src)
{
    const char *order_id = proj_order_id_of(ev);
    struct proj_order *o = shop_strmap_get(&f->orders, order_id);
    bool decision = step == SHOP_STEP_CONFIRM || step == SHOP_STEP_REJECT;
    const char *rejection = step == SHOP_STEP_REJECT ? rejection_json(f->arena, ev->stock_rejected) : NULL;
    if (o == NULL || o->status == SHOP_ORDER_NONE) {
        if (!decision)
            return refuse(f, src, order_id, SHOP_REFUSE_UNKNOWN_ORDER, SHOP_ORDER_NONE);
        park(f, order_id, step, rejection, src, false);
        return SHOP_PROJ_PARKED;
    }
    return order_step(f, o, step, ev, rejection, src);
}

static enum shop_proj_outcome fold_dispatch(struct shop_proj_fold *f, const Shopstream__V1__Event *ev,
                                            const struct proj_src *src)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        product_of(f, ev->product_viewed->product_id, ev->occurred_at_ms)->views++;
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED:   /* user_activity only */
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        fold_cart_add(f, ev);
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED:
        fold_cart_set(f, ev, ev->cart_item_removed->product_id, 0);
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET:
        fold_cart_set(f, ev, ev->cart_quantity_set->product_id, ev->cart_quantity_set->quantity);
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_CLEARED:
        fold_cart_clear(f, ev);
        proj_activity_note(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED:
        fold_product_upserted(f, ev);
        return SHOP_PROJ_APPLIED;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        return fold_order_placed(f, ev, src);
    default: {   /* stock_adjusted: the inventory's; released, committed, low stock: no step */
        enum shop_order_step step;
        if (shop_order_step_of(ev, &step))
            return fold_order_step(f, ev, step, src);
        return SHOP_PROJ_NO_PROJECTION;
    }
    }
}

static const char *str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

enum shop_proj_outcome shop_proj_fold_record(struct shop_proj_fold *f, const struct shop_proj_record *rec)
{
    const Shopstream__V1__Event *ev = rec->ev;
    struct proj_src src = {ev->id, str_or_empty(ev->type), str_or_empty(ev->user_id), str_or_empty(ev->actor_role),
                           str_or_empty(rec->topic), rec->partition, rec->offset, ev->occurred_at_ms};
    enum shop_proj_outcome oc = fold_dispatch(f, ev, &src);
    switch (oc) {
    case SHOP_PROJ_APPLIED:
        f->stats.applied++;
        break;
    case SHOP_PROJ_NO_PROJECTION:
        f->stats.no_projection++;
        break;
    case SHOP_PROJ_REFUSED:   /* counted by refuse(), as are refused parked decisions */
        break;
    case SHOP_PROJ_PARKED:
        f->stats.parked++;
        break;
    case SHOP_PROJ_OVERFLOW:
        f->stats.overflow++;
        break;
    }
    return oc;
}

enum shop_proj_outcome shop_proj_fold_event(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    const struct shop_proj_record rec = {ev, "", -1, -1};
    return shop_proj_fold_record(f, &rec);
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
