/* SPDX-License-Identifier: MIT
 * Validation of a v1 event: envelope, then the payload of its type. Pure.
 * Every rule is listed in docs/events.md; the first broken rule wins and is
 * reported with the dotted path of its field ("lines[2].unit_price.currency").
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto/core/event_internal.h"

#define ID_MAX 64          /* product_id, order_id */
#define USER_ID_MAX 128
#define SESSION_ID_MAX 128
#define SOURCE_MAX 128
#define QUERY_MAX 256
#define NAME_MAX_BYTES 256
#define CATEGORY_MAX 128
#define FREE_TEXT_MAX 256
#define PATH_MAX_BYTES 48

typedef Shopstream__V1__Money Money;

struct vctx {
    const struct shop_event_limits *lim;
    struct shop_problem *p;
};

struct shop_event_limits shop_event_limits_default(void)
{
    return (struct shop_event_limits){
        .batch_max = 500,
        .max_future_skew_ms = 5 * 60 * 1000,
        .min_occurred_at_ms = INT64_C(946684800000), /* 2000-01-01T00:00:00Z */
        .quantity_max = 10000,
        .amount_minor_max = INT64_C(1000000000000), /* 10^12 minor units */
        .order_lines_max = 100,
        /* Far below INT64_MAX: a fold adding 10^6 deltas to a full stock stays in range,
         * so neither the C fold nor PostgreSQL's bigint can overflow. */
        .stock_max = INT64_C(1000000000000),       /* 10^12 units */
        .stock_delta_max = INT64_C(1000000000),    /* 10^9 units per adjustment */
    };
}

/* C0, DEL and C1 controls; C1 is U+0080..U+009F, encoded 0xc2 0x80..0x9f. */
static bool has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return true;
        if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            return true;
    }
    return false;
}

bool shop_uuid_is_canonical(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* product_id, order_id: 1..64 of [A-Za-z0-9._:-], safe in keys, URLs and logs. */
static int check_ident(struct vctx *v, const char *pre, const char *name, const char *s)
{
    size_t n = strlen(shop__str(s));
    if (n == 0)
        return shop__problem_at(v->p, pre, name, "is required");
    if (n > ID_MAX)
        return shop__problem_at(v->p, pre, name, "must be at most %d characters", ID_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return shop__problem_at(v->p, pre, name, "may only hold A-Z a-z 0-9 . _ : -");
    }
    return 0;
}

/* Human text: min..max bytes of UTF-8 without control characters. */
static int check_text(struct vctx *v, const char *pre, const char *name, const char *s,
                      size_t min, size_t max)
{
    s = shop__str(s);
    size_t n = strlen(s);
    if (n < min)
        return shop__problem_at(v->p, pre, name, "is required");
    if (n > max)
        return shop__problem_at(v->p, pre, name, "must be at most %zu bytes", max);
    if (!shop__utf8_is_valid(s, n))
        return shop__problem_at(v->p, pre, name, "must be valid UTF-8");
    if (has_control(s, n))
        return shop__problem_at(v->p, pre, name, "must not contain control characters");
    return 0;
}

static int check_quantity(struct vctx *v, const char *pre, const char *name, int32_t q,
                          int32_t min)
{
    if (q < min)
        return shop__problem_at(v->p, pre, name, "must be at least %" PRId32, min);
    if (q > v->lim->quantity_max)
        return shop__problem_at(v->p, pre, name, "must be at most %" PRId32,
                                v->lim->quantity_max);
    return 0;
}

static int check_money(struct vctx *v, const char *pre, const char *name, const Money *m,
                       bool required)
{
    if (m == NULL)
        return required ? shop__problem_at(v->p, pre, name, "is required") : 0;
    char sub[PATH_MAX_BYTES];
    snprintf(sub, sizeof(sub), "%s%s.", pre, name);
    if (m->amount_minor < 0)
        return shop__problem_at(v->p, sub, "amount_minor", "must be at least 0");
    if (m->amount_minor > v->lim->amount_minor_max)
        return shop__problem_at(v->p, sub, "amount_minor", "must be at most %" PRId64,
                                v->lim->amount_minor_max);
    const char *c = shop__str(m->currency);
    bool ok = strlen(c) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = c[i] >= 'A' && c[i] <= 'Z';
    if (!ok)
        return shop__problem_at(v->p, sub, "currency", "must be three upper-case letters (ISO 4217)");
    return 0;
}

int shop__order_sum(const Shopstream__V1__OrderPlaced *op, int64_t *sum)
{
    int64_t total = 0;
    for (size_t i = 0; i < op->n_lines; i++) {
        const Shopstream__V1__OrderLine *l = op->lines[i];
        if (l == NULL || l->unit_price == NULL || l->quantity < 0 || l->unit_price->amount_minor < 0)
            return SHOP_EINVAL;
        if (strcmp(shop__str(l->unit_price->currency),
                   shop__str(op->lines[0]->unit_price->currency)) != 0)
            return SHOP_EINVAL;
        int64_t amount = l->unit_price->amount_minor;
        if (l->quantity != 0 && amount > (INT64_MAX - total) / l->quantity)
            return SHOP_EINVAL;
        total += amount * l->quantity;
    }
    *sum = total;
    return 0;
}

static int check_line(struct vctx *v, size_t i, const Shopstream__V1__OrderLine *l,
                      const char *currency)
{
    char pre[PATH_MAX_BYTES];
    snprintf(pre, sizeof(pre), "lines[%zu].", i);
    if (l == NULL)
        return shop__problem(v->p, "lines", "line %zu is empty", i);
    int rc;
    if ((rc = check_ident(v, pre, "product_id", l->product_id)) < 0 ||
        (rc = check_quantity(v, pre, "quantity", l->quantity, 1)) < 0 ||
        (rc = check_money(v, pre, "unit_price", l->unit_price, true)) < 0)
        return rc;
    if (currency != NULL && strcmp(l->unit_price->currency, currency) != 0)
        return shop__problem_at(v->p, pre, "unit_price.currency",
                                "must match the order's currency %s", currency);
    return 0;
}

static int check_order_placed(struct vctx *v, const Shopstream__V1__OrderPlaced *op)
{
    int rc = check_ident(v, "", "order_id", op->order_id);
    if (rc < 0)
        return rc;
    if (op->n_lines == 0)
        return shop__problem(v->p, "lines", "must hold at least one line");
    if (op->n_lines > v->lim->order_lines_max)
        return shop__problem(v->p, "lines", "must hold at most %zu lines", v->lim->order_lines_max);
    for (size_t i = 0; i < op->n_lines; i++) {
        const char *cur = i == 0 ? NULL : op->lines[0]->unit_price->currency;
        if ((rc = check_line(v, i, op->lines[i], cur)) < 0)
            return rc;
    }
    if ((rc = check_money(v, "", "total", op->total, true)) < 0)
        return rc;
    if (strcmp(op->total->currency, op->lines[0]->unit_price->currency) != 0)
        return shop__problem(v->p, "total.currency", "must match the lines' currency %s",
                             op->lines[0]->unit_price->currency);
    int64_t sum;
    if (shop__order_sum(op, &sum) < 0)
        return shop__problem(v->p, "total.amount_minor", "sum of the lines is out of range");
    if (sum != op->total->amount_minor)
        return shop__problem(v->p, "total.amount_minor",
                             "must equal the sum of quantity * unit_price over lines (%" PRId64 ")",
                             sum);
    return 0;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

static int check_browse_cart(struct vctx *v, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        TRY(check_ident(v, "", "product_id", ev->product_viewed->product_id));
        TRY(check_text(v, "", "category", ev->product_viewed->category, 0, CATEGORY_MAX));
        return check_text(v, "", "referrer", ev->product_viewed->referrer, 0, FREE_TEXT_MAX);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED:
        return check_text(v, "", "query", ev->search_performed->query, 1, QUERY_MAX);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        TRY(check_ident(v, "", "product_id", ev->cart_item_added->product_id));
        TRY(check_quantity(v, "", "quantity", ev->cart_item_added->quantity, 1));
        return check_money(v, "", "unit_price", ev->cart_item_added->unit_price, false);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED:
        return check_ident(v, "", "product_id", ev->cart_item_removed->product_id);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET:
        TRY(check_ident(v, "", "product_id", ev->cart_quantity_set->product_id));
        return check_quantity(v, "", "quantity", ev->cart_quantity_set->quantity, 0);
    default: /* cart.cleared has no fields */
        return 0;
    }
}

static int check_order(struct vctx *v, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        return check_order_placed(v, ev->order_placed);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID:
        TRY(check_ident(v, "", "order_id", ev->order_paid->order_id));
        TRY(check_money(v, "", "amount", ev->order_paid->amount, true));
        return check_text(v, "", "payment_ref", ev->order_paid->payment_ref, 0, FREE_TEXT_MAX);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED:
        TRY(check_ident(v, "", "order_id", ev->order_shipped->order_id));
        TRY(check_text(v, "", "carrier", ev->order_shipped->carrier, 0, FREE_TEXT_MAX));
        return check_text(v, "", "tracking_id", ev->order_shipped->tracking_id, 0, FREE_TEXT_MAX);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED:
        return check_ident(v, "", "order_id", ev->order_delivered->order_id);
    default: /* order.cancelled */
        TRY(check_ident(v, "", "order_id", ev->order_cancelled->order_id));
        return check_text(v, "", "reason", ev->order_cancelled->reason, 0, FREE_TEXT_MAX);
    }
}

static int check_catalog(struct vctx *v, const Shopstream__V1__Event *ev)
{
    if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED) {
        const Shopstream__V1__ProductUpserted *pu = ev->product_upserted;
        TRY(check_ident(v, "", "product_id", pu->product_id));
        TRY(check_text(v, "", "name", pu->name, 1, NAME_MAX_BYTES));
        TRY(check_text(v, "", "category", pu->category, 0, CATEGORY_MAX));
        TRY(check_money(v, "", "price", pu->price, true));
        if (pu->stock < 0)
            return shop__problem(v->p, "stock", "must be at least 0");
        if (pu->stock > v->lim->stock_max)
            return shop__problem(v->p, "stock", "must be at most %" PRId64, v->lim->stock_max);
        return 0;
    }
    const Shopstream__V1__StockAdjusted *sa = ev->stock_adjusted;
    TRY(check_ident(v, "", "product_id", sa->product_id));
    if (sa->delta == 0)
        return shop__problem(v->p, "delta", "must not be 0");
    /* Compared without negating: -INT64_MIN overflows. */
    if (sa->delta > v->lim->stock_delta_max || sa->delta < -v->lim->stock_delta_max)
        return shop__problem(v->p, "delta", "must be between -%" PRId64 " and %" PRId64,
                             v->lim->stock_delta_max, v->lim->stock_delta_max);
    return check_text(v, "", "reason", sa->reason, 0, FREE_TEXT_MAX);
}

static int check_units(struct vctx *v, const char *pre, const char *name, int64_t n, int64_t min)
{
    if (n < min || n > v->lim->stock_max)
        return shop__problem_at(v->p, pre, name, "must be between %" PRId64 " and %" PRId64, min,
                                v->lim->stock_max);
    return 0;
}

static int check_stock_lines(struct vctx *v, Shopstream__V1__StockLine *const *lines, size_t n)
{
    if (n == 0 || n > v->lim->order_lines_max)
        return shop__problem(v->p, "lines", "must hold 1 to %zu lines", v->lim->order_lines_max);
    for (size_t i = 0; i < n; i++) {
        char pre[PATH_MAX_BYTES];
        snprintf(pre, sizeof(pre), "lines[%zu].", i);
        if (lines[i] == NULL)
            return shop__problem(v->p, "lines", "line %zu is empty", i);
        TRY(check_ident(v, pre, "product_id", lines[i]->product_id));
        TRY(check_units(v, pre, "quantity", lines[i]->quantity, 1));
        TRY(check_money(v, pre, "amount", lines[i]->amount, false));
    }
    return 0;
}

static int check_rejected(struct vctx *v, const Shopstream__V1__StockRejected *r)
{
    TRY(check_ident(v, "", "order_id", r->order_id));
    static const char *const reasons[] = {"out_of_stock", "price_mismatch", "unknown_product"};
    bool known = false;
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        known |= strcmp(shop__str(r->reason), reasons[i]) == 0;
    if (!known)
        return shop__problem(v->p, "reason", "must be out_of_stock, price_mismatch or unknown_product");
    if (r->n_lines == 0 || r->n_lines > v->lim->order_lines_max)
        return shop__problem(v->p, "lines", "must hold 1 to %zu lines", v->lim->order_lines_max);
    for (size_t i = 0; i < r->n_lines; i++) {
        char pre[PATH_MAX_BYTES];
        snprintf(pre, sizeof(pre), "lines[%zu].", i);
        const Shopstream__V1__StockShortLine *l = r->lines[i];
        if (l == NULL)
            return shop__problem(v->p, "lines", "line %zu is empty", i);
        TRY(check_ident(v, pre, "product_id", l->product_id));
        TRY(check_units(v, pre, "requested", l->requested, 1));
        TRY(check_units(v, pre, "available", l->available, 0));
        if (l->catalog_price != NULL)
            TRY(check_money(v, pre, "catalog_price", l->catalog_price, true));
    }
    return 0;
}

/* The inventory worker's outcomes: checked on the way in like any record, so a
 * subscriber (the projector) can rely on them. */
static int check_inventory(struct vctx *v, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED:
        TRY(check_ident(v, "", "order_id", ev->stock_reserved->order_id));
        return check_stock_lines(v, ev->stock_reserved->lines, ev->stock_reserved->n_lines);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED:
        return check_rejected(v, ev->stock_rejected);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED:
        TRY(check_ident(v, "", "order_id", ev->stock_released->order_id));
        return check_stock_lines(v, ev->stock_released->lines, ev->stock_released->n_lines);
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED:
        TRY(check_ident(v, "", "order_id", ev->stock_committed->order_id));
        return check_stock_lines(v, ev->stock_committed->lines, ev->stock_committed->n_lines);
    default: /* inventory.low_stock */
        TRY(check_ident(v, "", "product_id", ev->low_stock->product_id));
        TRY(check_units(v, "", "threshold", ev->low_stock->threshold, 1));
        if (ev->low_stock->available < 0 || ev->low_stock->available >= ev->low_stock->threshold)
            return shop__problem(v->p, "available", "must be between 0 and threshold - 1");
        return 0;
    }
}

static int check_subject(struct vctx *v, const char *field, const char *s);

/* The ML worker's output, checked like any record so a subscriber can rely on it. */
static int check_ml(struct vctx *v, const Shopstream__V1__Event *ev)
{
    if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_ML_SEGMENT_CHANGED) {
        const Shopstream__V1__MlSegmentChanged *c = ev->ml_segment_changed;
        TRY(check_subject(v, "user_id", c->user_id));
        if (c->old_segment < -1 || c->old_segment > INT32_MAX)
            return shop__problem(v->p, "old_segment", "must be -1 (none) or a segment id");
        if (c->new_segment < 0 || c->new_segment > INT32_MAX || c->new_segment == c->old_segment)
            return shop__problem(v->p, "new_segment", "must be a segment id other than old_segment");
        if (c->model_version == 0)
            return shop__problem(v->p, "model_version", "must be set");
        return 0;
    }
    const Shopstream__V1__MlModelPublished *m = ev->ml_model_published;
    static const char *const models[] = {"recommend", "segment", "forecast"};
    bool known = false;
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        known |= strcmp(shop__str(m->model), models[i]) == 0;
    if (!known)
        return shop__problem(v->p, "model", "must be recommend, segment or forecast");
    if (m->version == 0)
        return shop__problem(v->p, "version", "must be set");
    if (m->n_metrics > 64)
        return shop__problem(v->p, "metrics", "must hold at most 64 metrics");
    for (size_t i = 0; i < m->n_metrics; i++) {
        char pre[PATH_MAX_BYTES];
        snprintf(pre, sizeof(pre), "metrics[%zu].", i);
        if (m->metrics[i] == NULL)
            return shop__problem(v->p, "metrics", "metric %zu is empty", i);
        TRY(check_text(v, pre, "name", m->metrics[i]->name, 1, 64));
        if (!isfinite(m->metrics[i]->value))
            return shop__problem_at(v->p, pre, "value", "must be finite");
    }
    if (m->watermark_ms < v->lim->min_occurred_at_ms)
        return shop__problem(v->p, "watermark_ms", "must not be before %" PRId64, v->lim->min_occurred_at_ms);
    return 0;
}

/* user_id (and actor_id): 1..128 printable ASCII without spaces (a JWT subject). */
static int check_subject(struct vctx *v, const char *field, const char *s)
{
    size_t n = strlen(shop__str(s));
    if (n == 0)
        return shop__problem(v->p, field, "is required");
    if (n > USER_ID_MAX)
        return shop__problem(v->p, field, "must be at most %d characters", USER_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7e)
            return shop__problem(v->p, field, "must be printable ASCII without spaces");
    return 0;
}

/* actor_id and actor_role are optional (records from before they existed have
 * neither); when set, both are, and the role is one the edge knows. */
static int check_actor(struct vctx *v, const Shopstream__V1__Event *ev)
{
    const char *role = shop__str(ev->actor_role);
    if (role[0] == '\0' && shop__str(ev->actor_id)[0] == '\0')
        return 0;
    TRY(check_subject(v, "actor_id", ev->actor_id));
    if (strcmp(role, "shopper") != 0 && strcmp(role, "service") != 0 && strcmp(role, "admin") != 0)
        return shop__problem(v->p, "actor_role", "must be shopper, service or admin");
    return 0;
}

static int check_times(struct vctx *v, const Shopstream__V1__Event *ev)
{
    if (ev->received_at_ms <= 0)
        return shop__problem(v->p, "received_at_ms", "must be set");
    if (ev->occurred_at_ms < v->lim->min_occurred_at_ms)
        return shop__problem(v->p, "occurred_at_ms", "must not be before %" PRId64,
                             v->lim->min_occurred_at_ms);
    /* Written as a difference so a huge received_at_ms cannot overflow. */
    if (ev->occurred_at_ms > ev->received_at_ms &&
        ev->occurred_at_ms - ev->received_at_ms > v->lim->max_future_skew_ms)
        return shop__problem(v->p, "occurred_at_ms",
                             "must be at most %" PRId64 " ms after the time received",
                             v->lim->max_future_skew_ms);
    return 0;
}

static int check_envelope(struct vctx *v, const Shopstream__V1__Event *ev)
{
    if (!shop_uuid_is_canonical(ev->id))
        return shop__problem(v->p, "id", "must be a lower-case canonical UUID");
    const struct shop__type_info *t = shop__type_info(ev->payload_case);
    if (t == NULL || shop__event_payload(ev) == NULL)
        return shop__problem(v->p, "payload", "is required");
    if (strcmp(shop__str(ev->type), t->name) != 0)
        return shop__problem(v->p, "type", "must be \"%s\" for this payload", t->name);
    TRY(check_subject(v, "user_id", ev->user_id));
    TRY(check_actor(v, ev));
    TRY(check_text(v, "", "session_id", ev->session_id, 0, SESSION_ID_MAX));
    TRY(check_text(v, "", "source", ev->source, 0, SOURCE_MAX));
    return check_times(v, ev);
}

int shop_event_validate(const Shopstream__V1__Event *ev, const struct shop_event_limits *lim,
                        struct shop_problem *p)
{
    struct shop_event_limits def = shop_event_limits_default();
    struct vctx v = {lim != NULL ? lim : &def, p};
    TRY(check_envelope(&v, ev));
    switch (shop_event_stream(ev)) {
    case SHOP_STREAM_BROWSE:
    case SHOP_STREAM_CART:
        return check_browse_cart(&v, ev);
    case SHOP_STREAM_ORDER:
        return check_order(&v, ev);
    case SHOP_STREAM_INVENTORY:
        return check_inventory(&v, ev);
    case SHOP_STREAM_ML:
        return check_ml(&v, ev);
    default:
        return check_catalog(&v, ev);
    }
}
