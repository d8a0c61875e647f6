/* SPDX-License-Identifier: MIT
 * it-workers-gen: the worker integration tests' event source. From a seed it
 * builds a deterministic shop workload (catalog, browse, cart, order events,
 * with client retries that resend the same event id, and the inventory worker's
 * decisions on the inventory topic), produces any slice of it straight to Kafka, and
 * computes the expected read models independently of workers/core (its own table of
 * the order life cycle) by applying the events one at a time, in production order.
 *
 *   it-workers-gen produce --brokers B --prefix P --seed S --n N --from I --to J
 *   it-workers-gen count   --seed S --n N          (records in the whole stream)
 *   it-workers-gen expect  --seed S --n N --out DIR (products.csv, carts.csv, ...)
 *   it-workers-gen poison  --brokers B --prefix P  (junk, an invalid event, 3 valid views)
 *   it-workers-gen poison-pg --brokers B --prefix P --round R
 *                          (views of pv-0..pv-29 with two views of pz-bad among them, which the
 *                           test's CHECK refuses; rounds 1 and 2 add orders of pz-stock whose
 *                           purchases the test stored near INT64_MAX; rounds give distinct ids)
 *   it-workers-gen life    --brokers B --prefix P --phase 1|2
 *                          (decisions before their orders, then the orders and refused events)
 *   it-workers-gen junk    --brokers B --prefix P --bytes N (one undecodable record of N bytes)
 *   it-workers-gen views   --brokers B --prefix P --product PRD --id I --n N --at MS --step MS
 *       (N views of PRD by user-window, ids I..I+N-1, received at MS, MS+step, ...:
 *        the same --id again is a client retry, with a new receipt time)
 *
 * Cross-topic effects are kept commutative on purpose (see docs/projections.md), so
 * the end state does not depend on the order the worker reads the topics in: an order
 * that gets an inventory decision only takes steps whose outcome does not depend on
 * whether the decision was read before them (confirmed orders: pay and cancel;
 * rejected orders: ship and deliver, refused either way). Orders without a decision
 * (as before the inventory worker existed) take every step.
 *
 * Actors are stamped as the edge would: placements and cancels by the shopper, pay,
 * ship and deliver by a service on the owner's behalf, decisions by the inventory; one
 * order in eight is a legacy record without actor fields. Refused on purpose: cross-user
 * cancels (not_owner), second placements of an id (order_exists), steps of an order
 * never placed (unknown_order), and illegal transitions.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_topic.h"
#include "proto/core/shop_event.h"

#define N_CAT 8
#define N_SKU 16
#define N_PROD (N_CAT + N_SKU)
#define N_USERS 40
#define T0 INT64_C(1700000000000)
/* Event times of the workload: 30 s apart from 6 days before T0, so the daily models
 * (0009) get several UTC days; never after the receipt time T0 + idx. */
#define DAY_MS INT64_C(86400000)
#define AT0 (T0 - 6 * DAY_MS)
#define N_DAYS 8
#define N_CATEGORIES 3
#define N_STAGES 4

struct rec {
    enum shop_stream stream;
    char key[64];
    uint8_t *buf;
    size_t len;
};

/* Statuses and steps, numbered like nothing in workers/core on purpose. */
enum { S_NONE, S_PLACED, S_CONFIRMED, S_REJECTED, S_PAID, S_SHIPPED, S_DELIVERED, S_CANCELLED };
enum { K_FREE, K_CONFIRM, K_REJECT };   /* what the inventory will decide: nothing, confirm, reject */

struct order {
    char id[32];
    int user;
    int status;
    int kind;
    int decided;    /* its decision was generated */
    int legacy;     /* records without actor fields */
    int n_lines;
    int prod[3], qty[3];
    int64_t total;
    char rejection[24];   /* the reason, once rejected */
    int paid_day;         /* day index (from AT0's day) of its payment, while it counts as paid */
};

/* The independent fold of 0009_analytics.sql: per user, per product and day, per
 * category and day, per funnel stage, day and user. Days count from AT0's UTC day. */
struct activity {
    int seen;
    int64_t views, searches, cart_adds, orders, first, last;
    int64_t spend, paid_orders;
};

static struct {
    char name[N_PROD][48];   /* "Product %d v%ld" at its longest */
    int64_t price[N_PROD], views[N_PROD], purchases[N_PROD];
    int has_catalog[N_PROD], touched[N_PROD];
    int64_t qty[N_USERS][N_PROD], unit[N_USERS][N_PROD];   /* unit < 0: NULL price */
    struct order *orders;
    int n_orders;
    char (*hist)[64];
    int n_hist;
    char (*refused)[160];
    int n_refused;
    struct activity act[N_USERS];
    int category[N_PROD];   /* -1: none ('' in category_daily), else an index of category_names */
    int64_t day_views[N_PROD][N_DAYS], day_units[N_PROD][N_DAYS], day_revenue[N_PROD][N_DAYS];
    int64_t funnel[N_STAGES][N_DAYS][N_USERS];
} sim;

static const char *const category_names[N_CATEGORIES] = {"hats", "shoes", "socks"};
static const char *const stage_names[N_STAGES] = {"viewed", "carted", "placed", "paid"};
enum { F_VIEWED, F_CARTED, F_PLACED, F_PAID };

/* Set by a generator when the event it built is to be refused; emit() records it. */
static const char *refuse_reason;
static const char *refuse_order;

static struct rec *recs;
static size_t n_recs, cap_recs;
static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *prod_id(int p)
{
    static char ids[N_PROD][16];
    if (ids[p][0] == '\0')
        snprintf(ids[p], sizeof(ids[p]), p < N_CAT ? "cat-%03d" : "sku-%03d", p < N_CAT ? p : p - N_CAT);
    return ids[p];
}

static const char *user_id(int u)
{
    static char ids[N_USERS][16];
    if (ids[u][0] == '\0')
        snprintf(ids[u], sizeof(ids[u]), "user-%03d", u);
    return ids[u];
}

static Shopstream__V1__Money *money(int64_t amount)
{
    static Shopstream__V1__Money m[8];
    static int i;
    Shopstream__V1__Money *p = &m[i++ % 8];
    shopstream__v1__money__init(p);
    p->amount_minor = amount;
    p->currency = "GBP";
    return p;
}

/* The occurred_at of event idx, and its day index. */
static int64_t at_of(long idx)
{
    int64_t at = AT0 + (int64_t)idx * 30000;
    return at < T0 + idx ? at : T0 + idx;
}

static int day_of(long idx)
{
    return (int)(at_of(idx) / DAY_MS - AT0 / DAY_MS);
}

/* A browse, cart or placement event of user u: counted and seen (docs/projections.md). */
static struct activity *sim_seen(int u, long idx)
{
    struct activity *a = &sim.act[u];
    int64_t at = at_of(idx);
    if (!a->seen || at < a->first)
        a->first = at;
    if (!a->seen || at > a->last)
        a->last = at;
    a->seen = 1;
    return a;
}

/* An order reaching paid (sign +1, on the payment's day) or leaving it (-1, on that same day). */
static void sim_sale(struct order *o, int sign, long idx)
{
    if (sign > 0)
        o->paid_day = day_of(idx);
    for (int l = 0; l < o->n_lines; l++) {
        int p = o->prod[l];
        sim.day_units[p][o->paid_day] += sign * o->qty[l];
        sim.day_revenue[p][o->paid_day] += sign * o->qty[l] * 100 * (p - N_CAT + 1);
    }
    sim.act[o->user].spend += sign * o->total;
    sim.act[o->user].paid_orders += sign;
    sim.funnel[F_PAID][o->paid_day][o->user] += sign;
}

static void push(struct rec r)
{
    if (n_recs == cap_recs) {
        cap_recs = cap_recs ? 2 * cap_recs : 1024;
        recs = realloc(recs, cap_recs * sizeof(*recs));
    }
    recs[n_recs++] = r;
}

static void emit(Shopstream__V1__Event *ev, long idx)
{
    static char id[48];
    snprintf(id, sizeof(id), "%08lx-0000-4000-8000-%012" PRIx64, (unsigned long)idx & 0xffffffffUL,
             (uint64_t)(rng_state & 0xffffffffffffULL));
    ev->id = id;
    ev->type = (char *)shop_event_type_name(ev->payload_case);
    ev->received_at_ms = T0 + idx;
    ev->occurred_at_ms = at_of(idx);
    ev->source = "it-workers-gen";
    if (refuse_reason != NULL) {
        sim.refused = realloc(sim.refused, (size_t)(sim.n_refused + 1) * sizeof(*sim.refused));
        snprintf(sim.refused[sim.n_refused++], sizeof(sim.refused[0]), "%s,%s,%s,%s,%s,%s", refuse_order, id,
                 ev->type, ev->user_id, ev->actor_role != NULL ? ev->actor_role : "", refuse_reason);
        refuse_reason = NULL;
    }
    struct rec r;
    r.len = shopstream__v1__event__get_packed_size(ev);
    r.buf = malloc(r.len);
    shopstream__v1__event__pack(ev, r.buf);
    r.stream = shop_event_stream(ev);
    snprintf(r.key, sizeof(r.key), "%s", shop_event_key(ev));
    push(r);
}

static void sim_touch(int p)
{
    sim.touched[p] = 1;
}

static void gen_catalog(Shopstream__V1__Event *ev, long i, int upsert)
{
    static Shopstream__V1__ProductUpserted pu;
    static Shopstream__V1__StockAdjusted sa;
    /* Upserts also name sold products (skus) and set a category now and then changed:
     * category_daily moves their revenue (0009), in any interleaving with the orders. */
    int p = upsert ? (rnd(2) ? (int)rnd(N_CAT) : N_CAT + (int)rnd(N_SKU)) : (int)rnd(N_PROD);
    ev->user_id = "admin";
    ev->actor_id = "admin";
    ev->actor_role = "admin";
    if (upsert) {
        sim_touch(p);
        shopstream__v1__product_upserted__init(&pu);
        snprintf(sim.name[p], sizeof(sim.name[p]), "Product %d v%ld", p, i);
        pu.product_id = (char *)prod_id(p);
        pu.name = sim.name[p];
        pu.price = money(sim.price[p] = 100 + rnd(900));
        pu.stock = rnd(100);   /* the inventory's: not in products */
        sim.category[p] = (int)rnd(N_CATEGORIES + 1) - 1;
        pu.category = sim.category[p] >= 0 ? (char *)category_names[sim.category[p]] : NULL;
        sim.has_catalog[p] = 1;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED;
        ev->product_upserted = &pu;
        return;
    }
    shopstream__v1__stock_adjusted__init(&sa);
    sa.product_id = (char *)prod_id(p);
    sa.delta = (int64_t)rnd(21) - 10;
    if (sa.delta == 0)
        sa.delta = 5;            /* the inventory's: the projector writes nothing */
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED;
    ev->stock_adjusted = &sa;
}

static void gen_browse(Shopstream__V1__Event *ev, int u, long i)
{
    struct activity *a = sim_seen(u, i);
    static Shopstream__V1__ProductViewed pv;
    static Shopstream__V1__SearchPerformed sp;
    if (rnd(10) == 0) {
        shopstream__v1__search_performed__init(&sp);
        sp.query = "socks";
        a->searches++;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED;
        ev->search_performed = &sp;
        return;
    }
    int p = (int)rnd(N_PROD);
    shopstream__v1__product_viewed__init(&pv);
    pv.product_id = (char *)prod_id(p);
    sim.views[p]++;
    sim_touch(p);
    a->views++;
    sim.day_views[p][day_of(i)]++;
    sim.funnel[F_VIEWED][day_of(i)][u]++;
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
    ev->product_viewed = &pv;
}

static void gen_cart(Shopstream__V1__Event *ev, int u, long i)
{
    struct activity *a = sim_seen(u, i);
    static Shopstream__V1__CartItemAdded ca;
    static Shopstream__V1__CartItemRemoved cr;
    static Shopstream__V1__CartQuantitySet cs;
    static Shopstream__V1__CartCleared cc;
    int p = (int)rnd(N_PROD), k = (int)rnd(20);
    if (k < 10) {
        shopstream__v1__cart_item_added__init(&ca);
        ca.product_id = (char *)prod_id(p);
        ca.quantity = 1 + (int)rnd(3);
        a->cart_adds++;
        sim.funnel[F_CARTED][day_of(i)][u]++;
        int priced = rnd(3) != 0;
        if (priced)
            ca.unit_price = money(50 + rnd(50));
        if (sim.qty[u][p] == 0)
            sim.unit[u][p] = -1;
        sim.qty[u][p] += ca.quantity;
        if (priced)
            sim.unit[u][p] = ca.unit_price->amount_minor;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED;
        ev->cart_item_added = &ca;
    } else if (k < 15) {
        shopstream__v1__cart_quantity_set__init(&cs);
        cs.product_id = (char *)prod_id(p);
        cs.quantity = (int)rnd(4);
        if (sim.qty[u][p] == 0)
            sim.unit[u][p] = -1;
        sim.qty[u][p] = cs.quantity;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET;
        ev->cart_quantity_set = &cs;
    } else if (k < 18) {
        shopstream__v1__cart_item_removed__init(&cr);
        cr.product_id = (char *)prod_id(p);
        sim.qty[u][p] = 0;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED;
        ev->cart_item_removed = &cr;
    } else {
        shopstream__v1__cart_cleared__init(&cc);
        memset(sim.qty[u], 0, sizeof(sim.qty[u]));
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_CLEARED;
        ev->cart_cleared = &cc;
    }
}

static const char *const status_names[] = {"none", "placed", "confirmed", "rejected", "paid",
                                           "shipped", "delivered", "cancelled"};

/* The order life cycle, written out for the test: 'M' moves to the status of the step,
 * 'N' notes it, 'X' refuses it. Rows: status; columns: confirm, reject, pay, ship,
 * deliver, cancel (placement and unknown orders are handled before). */
enum { T_CONFIRM, T_REJECT, T_PAY, T_SHIP, T_DELIVER, T_CANCEL };
static const int step_status[] = {S_CONFIRMED, S_REJECTED, S_PAID, S_SHIPPED, S_DELIVERED, S_CANCELLED};
static const char *const life[] = {
    [S_PLACED] = "MMMXXM", [S_CONFIRMED] = "XXMXXM", [S_REJECTED] = "XXXXXX", [S_PAID] = "NMXMXM",
    [S_SHIPPED] = "NMXXMX", [S_DELIVERED] = "NMXXXX", [S_CANCELLED] = "NMXXXX",
};

static void add_hist(const struct order *o, int status, long i)
{
    sim.hist = realloc(sim.hist, (size_t)(sim.n_hist + 1) * sizeof(*sim.hist));
    snprintf(sim.hist[sim.n_hist++], sizeof(sim.hist[0]), "%s,%s,%" PRId64, o->id, status_names[status], at_of(i));
}

static void refuse(const char *order_id, const char *reason)
{
    static char id[32];
    snprintf(id, sizeof(id), "%s", order_id);
    refuse_order = id;
    refuse_reason = reason;
}

static void set_actor(Shopstream__V1__Event *ev, const struct order *o, const char *role, const char *actor)
{
    if (o != NULL && o->legacy)
        return;
    ev->actor_role = (char *)role;
    ev->actor_id = (char *)actor;
}

static void fill_placed(Shopstream__V1__OrderPlaced *op, Shopstream__V1__OrderLine *lines,
                        Shopstream__V1__OrderLine **plines, const struct order *o)
{
    shopstream__v1__order_placed__init(op);
    op->order_id = (char *)o->id;
    op->n_lines = (size_t)o->n_lines;
    op->lines = plines;
    for (int l = 0; l < o->n_lines; l++) {
        shopstream__v1__order_line__init(&lines[l]);
        lines[l].product_id = (char *)prod_id(o->prod[l]);
        lines[l].quantity = o->qty[l];
        lines[l].unit_price = money(100 * (o->prod[l] - N_CAT + 1));
        plines[l] = &lines[l];
    }
    op->total = money(o->total);
}

static void gen_place(Shopstream__V1__Event *ev, int u, long i)
{
    static Shopstream__V1__OrderPlaced op;
    static Shopstream__V1__OrderLine lines[3], *plines[3];
    sim.orders = realloc(sim.orders, (size_t)(sim.n_orders + 1) * sizeof(*sim.orders));
    struct order *o = &sim.orders[sim.n_orders++];
    memset(o, 0, sizeof(*o));
    snprintf(o->id, sizeof(o->id), "ord-%06ld", i);
    o->user = u;
    o->status = S_PLACED;
    o->kind = (int)rnd(3);
    o->legacy = rnd(8) == 0;
    o->n_lines = 1 + (int)rnd(3);
    for (int l = 0; l < o->n_lines; l++) {
        o->prod[l] = N_CAT + (int)rnd(N_SKU);
        o->qty[l] = 1 + (int)rnd(3);
        o->total += 100 * (o->prod[l] - N_CAT + 1) * o->qty[l];
        sim.purchases[o->prod[l]] += o->qty[l];
        sim_touch(o->prod[l]);
    }
    fill_placed(&op, lines, plines, o);
    set_actor(ev, o, "shopper", user_id(u));
    add_hist(o, S_PLACED, i);
    sim_seen(u, i)->orders++;
    sim.funnel[F_PLACED][day_of(i)][u]++;
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED;
    ev->order_placed = &op;
}

/* A second order.placed for an existing id, by its owner or by someone else. */
static void gen_replace(Shopstream__V1__Event *ev, long i)
{
    static Shopstream__V1__OrderPlaced op;
    static Shopstream__V1__OrderLine lines[3], *plines[3];
    const struct order *o = &sim.orders[rnd((uint32_t)sim.n_orders)];
    int u = rnd(2) ? o->user : (int)rnd(N_USERS);
    ev->user_id = (char *)user_id(u);
    fill_placed(&op, lines, plines, o);
    ev->actor_role = "shopper";
    ev->actor_id = (char *)user_id(u);
    refuse(o->id, "order_exists");
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED;
    ev->order_placed = &op;
}

/* Applies step t of the independent life cycle; returns whether it was applied. */
static int sim_step(struct order *o, int t, long i)
{
    char cell = life[o->status][t];
    if (cell == 'X') {
        refuse(o->id, "illegal_transition");
        return 0;
    }
    add_hist(o, step_status[t], i);
    if (cell == 'N')
        return 1;
    int next = step_status[t];
    int gone = o->status == S_CANCELLED || o->status == S_REJECTED;   /* units returned once */
    int was_paid = o->status == S_PAID || o->status == S_SHIPPED || o->status == S_DELIVERED;
    int now_paid = next == S_PAID || next == S_SHIPPED || next == S_DELIVERED;
    if (was_paid != now_paid)
        sim_sale(o, now_paid ? 1 : -1, i);
    if (!gone && (next == S_CANCELLED || next == S_REJECTED))
        for (int l = 0; l < o->n_lines; l++)
            sim.purchases[o->prod[l]] -= o->qty[l];
    o->status = next;
    return 1;
}

static void set_step(Shopstream__V1__Event *ev, int t, const char *order_id, int64_t amount)
{
    static Shopstream__V1__OrderPaid pd;
    static Shopstream__V1__OrderShipped sh;
    static Shopstream__V1__OrderDelivered dl;
    static Shopstream__V1__OrderCancelled cn;
    switch (t) {
    case T_PAY:
        shopstream__v1__order_paid__init(&pd);
        pd.order_id = (char *)order_id;
        pd.amount = money(amount);
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID;
        ev->order_paid = &pd;
        break;
    case T_SHIP:
        shopstream__v1__order_shipped__init(&sh);
        sh.order_id = (char *)order_id;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED;
        ev->order_shipped = &sh;
        break;
    case T_DELIVER:
        shopstream__v1__order_delivered__init(&dl);
        dl.order_id = (char *)order_id;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED;
        ev->order_delivered = &dl;
        break;
    default:
        shopstream__v1__order_cancelled__init(&cn);
        cn.order_id = (char *)order_id;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED;
        ev->order_cancelled = &cn;
        break;
    }
}

/* A step of a random order, of a kind that keeps the end state independent of when the
 * decision is read; now and then a cross-user cancel or a step of an unknown order. */
static void gen_transition(Shopstream__V1__Event *ev, long i)
{
    static char ghost[32];
    struct order *o = &sim.orders[rnd((uint32_t)sim.n_orders)];
    int k = (int)rnd(20);
    if (k == 0) {   /* another shopper cancels o: the edge could not know the order yet */
        int u = (o->user + 1 + (int)rnd(N_USERS - 1)) % N_USERS;
        ev->user_id = (char *)user_id(u);
        set_step(ev, T_CANCEL, o->id, 0);
        if (!o->legacy || rnd(2)) {
            ev->actor_role = "shopper";
            ev->actor_id = (char *)user_id(u);
        }
        refuse(o->id, "not_owner");
        return;
    }
    if (k == 1) {   /* payments reports an order nobody placed */
        snprintf(ghost, sizeof(ghost), "ghost-%06ld", i);
        ev->user_id = (char *)user_id(o->user);
        set_step(ev, T_PAY, ghost, 100);
        ev->actor_role = "service";
        ev->actor_id = "svc-payments";
        refuse(ghost, "unknown_order");
        return;
    }
    static const int free_steps[] = {T_PAY, T_SHIP, T_DELIVER, T_CANCEL};
    static const int confirm_steps[] = {T_PAY, T_CANCEL};
    static const int reject_steps[] = {T_SHIP, T_DELIVER};
    int t = o->kind == K_FREE ? free_steps[rnd(4)] : o->kind == K_CONFIRM ? confirm_steps[rnd(2)] : reject_steps[rnd(2)];
    ev->user_id = (char *)user_id(o->user);
    set_step(ev, t, o->id, o->total);
    if (t == T_CANCEL && rnd(4) != 0)
        set_actor(ev, o, "shopper", user_id(o->user));
    else
        set_actor(ev, o, "service", t == T_PAY ? "svc-payments" : "svc-fulfil");
    sim_step(o, t, i);
}

/* The inventory worker's decision for an order still waiting for one, if any. */
static int gen_decision(Shopstream__V1__Event *ev, long i)
{
    static Shopstream__V1__StockReserved rs;
    static Shopstream__V1__StockRejected rj;
    static Shopstream__V1__StockLine sl;
    static Shopstream__V1__StockShortLine ss;
    static Shopstream__V1__StockLine *psl[1];
    static Shopstream__V1__StockShortLine *pss[1];
    struct order *o = NULL;
    for (int tries = 0; tries < 8 && o == NULL; tries++) {
        struct order *c = &sim.orders[rnd((uint32_t)sim.n_orders)];
        if (c->kind != K_FREE && !c->decided)
            o = c;
    }
    if (o == NULL)
        return 0;
    o->decided = 1;
    ev->user_id = (char *)user_id(o->user);
    ev->actor_role = "service";
    ev->actor_id = "shopstream-inventory";
    if (o->kind == K_CONFIRM) {
        shopstream__v1__stock_reserved__init(&rs);
        shopstream__v1__stock_line__init(&sl);
        sl.product_id = (char *)prod_id(o->prod[0]);
        sl.quantity = o->qty[0];
        psl[0] = &sl;
        rs.order_id = o->id;
        rs.n_lines = 1;
        rs.lines = psl;
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev->stock_reserved = &rs;
        sim_step(o, T_CONFIRM, i);
        return 1;
    }
    shopstream__v1__stock_rejected__init(&rj);
    shopstream__v1__stock_short_line__init(&ss);
    ss.product_id = (char *)prod_id(o->prod[0]);
    ss.requested = o->qty[0];
    ss.available = o->qty[0] - 1;
    ss.catalog_price = money(100 * (o->prod[0] - N_CAT + 1));
    pss[0] = &ss;
    rj.order_id = o->id;
    rj.reason = "out_of_stock";
    rj.n_lines = 1;
    rj.lines = pss;
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
    ev->stock_rejected = &rj;
    if (sim_step(o, T_REJECT, i) && o->status == S_REJECTED)
        snprintf(o->rejection, sizeof(o->rejection), "out_of_stock");
    return 1;
}

/* The whole stream: upserts first, then a mix, then client retries of earlier events. */
static void generate(uint64_t seed, long n)
{
    rng_state = seed * 2654435761ULL + 1;
    for (int p = 0; p < N_PROD; p++)
        sim.category[p] = -1;
    for (long i = 0; i < n; i++) {
        Shopstream__V1__Event ev;
        shopstream__v1__event__init(&ev);
        int u = (int)rnd(N_USERS), k = (int)rnd(100);
        ev.user_id = (char *)user_id(u);
        if (i < N_CAT * 2)
            gen_catalog(&ev, i, 1);
        else if (k < 5)
            gen_catalog(&ev, i, k < 2);
        else if (k < 35)
            gen_browse(&ev, u, i);
        else if (k < 70)
            gen_cart(&ev, u, i);
        else if (k < 80 || sim.n_orders == 0)
            gen_place(&ev, u, i);
        else if (k == 80)
            gen_replace(&ev, i);
        else if (k > 84 || !gen_decision(&ev, i))
            gen_transition(&ev, i);
        emit(&ev, i);
        if (i % 25 == 7)                     /* an immediate client retry: same id, same bytes */
            push(recs[n_recs - 1]);
    }
    size_t base = n_recs;
    for (long r = 0; r < n / 20; r++)        /* late retries of random earlier events */
        push(recs[rnd((uint32_t)base)]);
}

static rd_kafka_t *producer(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "it-workers-gen: %s\n", errstr);
        exit(1);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "it-workers-gen: %s\n", errstr);
        exit(1);
    }
    return rk;
}

static void produce(rd_kafka_t *rk, const char *topic, const char *key, const void *val, size_t len)
{
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 100);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "it-workers-gen: produce: %s\n", rd_kafka_err2str(err));
        exit(1);
    }
}

static void finish(rd_kafka_t *rk)
{
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "it-workers-gen: flush timed out\n");
        exit(1);
    }
    rd_kafka_destroy(rk);
}

static void cmd_produce(const char *brokers, const char *prefix, size_t from, size_t to)
{
    rd_kafka_t *rk = producer(brokers);
    char topic[SHOP_TOPIC_NAME_MAX];
    for (size_t i = from; i < to && i < n_recs; i++) {
        shop_topic_name(topic, sizeof(topic), prefix, recs[i].stream);
        produce(rk, topic, recs[i].key, recs[i].buf, recs[i].len);
    }
    finish(rk);
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    return f;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 0009's models, rows that net to zero left out (whether such a row exists depends on
 * batch boundaries); days as days since 1970-01-01. Same columns as lib.sh's dump. */
static void expect_analytics(const char *dir)
{
    int64_t day0 = AT0 / DAY_MS;
    FILE *f = open_out(dir, "user_activity.csv"), *g = open_out(dir, "user_spend.csv");
    for (int u = 0; u < N_USERS; u++) {
        const struct activity *a = &sim.act[u];
        if (a->seen)
            fprintf(f, "%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "\n", user_id(u),
                    a->views, a->searches, a->cart_adds, a->orders, a->first, a->last);
        if (a->spend != 0 || a->paid_orders != 0)
            fprintf(g, "%s,GBP,%" PRId64 ",%" PRId64 "\n", user_id(u), a->spend, a->paid_orders);
    }
    fclose(f);
    fclose(g);
    int64_t cat[N_CATEGORIES + 1][N_DAYS] = {{0}};
    f = open_out(dir, "product_daily.csv");
    g = open_out(dir, "product_daily_revenue.csv");
    for (int p = 0; p < N_PROD; p++)
        for (int d = 0; d < N_DAYS; d++) {
            if (sim.day_views[p][d] != 0 || sim.day_units[p][d] != 0)
                fprintf(f, "%s,%" PRId64 ",%" PRId64 ",%" PRId64 "\n", prod_id(p), day0 + d, sim.day_views[p][d],
                        sim.day_units[p][d]);
            if (sim.day_revenue[p][d] != 0)
                fprintf(g, "%s,%" PRId64 ",GBP,%" PRId64 "\n", prod_id(p), day0 + d, sim.day_revenue[p][d]);
            cat[sim.category[p] + 1][d] += sim.day_revenue[p][d];   /* the product's final category */
        }
    fclose(f);
    fclose(g);
    f = open_out(dir, "category_daily.csv");
    for (int c = 0; c <= N_CATEGORIES; c++)
        for (int d = 0; d < N_DAYS; d++)
            if (cat[c][d] != 0)
                fprintf(f, "%s,%" PRId64 ",GBP,%" PRId64 "\n", c > 0 ? category_names[c - 1] : "", day0 + d, cat[c][d]);
    fclose(f);
    f = open_out(dir, "funnel_daily.csv");
    for (int s = 0; s < N_STAGES; s++)
        for (int d = 0; d < N_DAYS; d++)
            for (int u = 0; u < N_USERS; u++)
                if (sim.funnel[s][d][u] != 0)
                    fprintf(f, "%s,%" PRId64 ",%s,%" PRId64 "\n", stage_names[s], day0 + d, user_id(u), sim.funnel[s][d][u]);
    fclose(f);
}

/* Same columns, order and NULL rendering as the test's psql queries. */
static void cmd_expect(const char *dir)
{
    FILE *f = open_out(dir, "products.csv");
    for (int p = 0; p < N_PROD; p++) {
        if (!sim.touched[p])
            continue;
        if (sim.has_catalog[p])
            fprintf(f, "%s,%s,%" PRId64 ",GBP,", prod_id(p), sim.name[p], sim.price[p]);
        else
            fprintf(f, "%s,,,,", prod_id(p));
        fprintf(f, "%" PRId64 ",%" PRId64 "\n", sim.views[p], sim.purchases[p]);
    }
    fclose(f);
    f = open_out(dir, "cart_items.csv");
    for (int u = 0; u < N_USERS; u++)
        for (int p = 0; p < N_PROD; p++) {
            if (sim.qty[u][p] == 0)
                continue;
            fprintf(f, "%s,%s,%" PRId64 ",", user_id(u), prod_id(p), sim.qty[u][p]);
            if (sim.unit[u][p] >= 0)
                fprintf(f, "%" PRId64, sim.unit[u][p]);
            fputc('\n', f);
        }
    fclose(f);
    f = open_out(dir, "orders.csv");
    for (int i = 0; i < sim.n_orders; i++) {
        const struct order *o = &sim.orders[i];
        fprintf(f, "%s,%s,%s,%" PRId64 ",%s\n", o->id, user_id(o->user), status_names[o->status], o->total,
                o->rejection);
    }
    fclose(f);
    const char **rows = malloc((size_t)(sim.n_hist + 1) * sizeof(*rows));
    for (int i = 0; i < sim.n_hist; i++)
        rows[i] = sim.hist[i];
    qsort(rows, (size_t)sim.n_hist, sizeof(*rows), cmp_str);
    f = open_out(dir, "history.csv");
    for (int i = 0; i < sim.n_hist; i++)
        fprintf(f, "%s\n", rows[i]);
    fclose(f);
    free(rows);
    f = open_out(dir, "refused.csv");
    for (int i = 0; i < sim.n_refused; i++)
        fprintf(f, "%s\n", sim.refused[i]);
    fclose(f);
    fclose(open_out(dir, "pending.csv"));   /* every decision found its order */
    expect_analytics(dir);
}

/* Junk, an event that decodes but is invalid, then three valid views: all keyed alike,
 * so they share a partition and the views come after the poison. */
static void cmd_poison(const char *brokers, const char *prefix)
{
    rd_kafka_t *rk = producer(brokers);
    char topic[SHOP_TOPIC_NAME_MAX];
    shop_topic_name(topic, sizeof(topic), prefix, SHOP_STREAM_BROWSE);
    static const char junk[] = "\xff\xff\xff junk";
    produce(rk, topic, "user-dlq", junk, sizeof(junk) - 1);
    Shopstream__V1__Event ev;
    Shopstream__V1__ProductViewed pv;
    shopstream__v1__event__init(&ev);
    shopstream__v1__product_viewed__init(&pv);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
    ev.product_viewed = &pv;
    ev.user_id = "user-dlq";
    ev.type = (char *)shop_event_type_name(SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED);
    ev.occurred_at_ms = ev.received_at_ms = T0;
    pv.product_id = "dlq-probe";
    ev.id = "NOT-A-UUID";
    uint8_t buf[512];
    size_t len = shopstream__v1__event__pack(&ev, buf);
    produce(rk, topic, "user-dlq", buf, len);
    for (int i = 0; i < 3; i++) {
        char id[40];
        snprintf(id, sizeof(id), "d1d00000-0000-4000-8000-%012d", i);
        ev.id = id;
        len = shopstream__v1__event__pack(&ev, buf);
        produce(rk, topic, "user-dlq", buf, len);
    }
    finish(rk);
}

static void pack_produce(rd_kafka_t *rk, const char *topic, const char *key, Shopstream__V1__Event *ev)
{
    uint8_t buf[1024];
    size_t len = shopstream__v1__event__pack(ev, buf);
    produce(rk, topic, key, buf, len);
}

/* An order of qty units of pz-stock at unit price 1, keyed by its id. */
static void produce_pz_order(rd_kafka_t *rk, const char *topic, int n, int qty)
{
    Shopstream__V1__Event ev;
    Shopstream__V1__OrderPlaced op;
    Shopstream__V1__OrderLine line, *plines[1] = {&line};
    char id[40], order[32];
    shopstream__v1__event__init(&ev);
    shopstream__v1__order_placed__init(&op);
    shopstream__v1__order_line__init(&line);
    snprintf(order, sizeof(order), "pz-order-%d", n);
    snprintf(id, sizeof(id), "570c0000-0000-4000-8000-%012d", n);
    line.product_id = "pz-stock";
    line.quantity = qty;
    line.unit_price = money(1);
    op.order_id = order;
    op.n_lines = 1;
    op.lines = plines;
    op.total = money(qty);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED;
    ev.order_placed = &op;
    ev.type = (char *)shop_event_type_name(ev.payload_case);
    ev.occurred_at_ms = ev.received_at_ms = T0 + n;
    ev.user_id = ev.actor_id = "user-pz";
    ev.actor_role = "shopper";
    ev.id = id;
    pack_produce(rk, topic, order, &ev);
}

/* Views keyed by 40 users (so spread over the partitions), two of product pz-bad that the
 * test's CHECK constraint refuses in the middle; in round 1, an upsert of pz-stock and
 * orders of 3, 10000 and 2 units of it, whose purchases the test stored at INT64_MAX - 7:
 * 10000 leaves bigint in any order (PostgreSQL's 22003), 3 + 2 fit. Round 2 orders 1 and 5
 * units: 5 never fits. Rounds give distinct event ids. */
static void cmd_poison_pg(const char *brokers, const char *prefix, int round)
{
    rd_kafka_t *rk = producer(brokers);
    char browse[SHOP_TOPIC_NAME_MAX], catalog[SHOP_TOPIC_NAME_MAX], order[SHOP_TOPIC_NAME_MAX], id[40], user[16],
        prod[16];
    shop_topic_name(browse, sizeof(browse), prefix, SHOP_STREAM_BROWSE);
    shop_topic_name(catalog, sizeof(catalog), prefix, SHOP_STREAM_CATALOG);
    shop_topic_name(order, sizeof(order), prefix, SHOP_STREAM_ORDER);
    Shopstream__V1__Event ev;
    Shopstream__V1__ProductViewed pv;
    int n = round == 1 ? 300 : 50;
    for (int i = 0; i < n; i++) {
        shopstream__v1__event__init(&ev);
        shopstream__v1__product_viewed__init(&pv);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
        ev.product_viewed = &pv;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        ev.occurred_at_ms = ev.received_at_ms = T0 + i;
        snprintf(user, sizeof(user), "user-%03d", i % 40);
        snprintf(prod, sizeof(prod), "pv-%d", i % 30);
        snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012d", 0xb0000000u + (unsigned)round, i);
        ev.id = id;
        ev.user_id = user;
        pv.product_id = prod;
        pack_produce(rk, browse, user, &ev);
        if (round == 1 && (i == 100 || i == 200)) {
            snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012d", 0xbad00000u, i);
            pv.product_id = "pz-bad";
            pack_produce(rk, browse, user, &ev);
        }
    }
    if (round == 2) {   /* pz-stock's purchases are stored by now */
        produce_pz_order(rk, order, 10, 1);
        produce_pz_order(rk, order, 11, 5);
    }
    if (round == 1) {
        Shopstream__V1__ProductUpserted pu;
        shopstream__v1__event__init(&ev);
        shopstream__v1__product_upserted__init(&pu);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED;
        ev.product_upserted = &pu;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        ev.occurred_at_ms = ev.received_at_ms = T0;
        ev.user_id = "admin";
        ev.id = "570c0000-0000-4000-8000-000000000000";
        pu.product_id = "pz-stock";
        pu.name = "Stock probe";
        pu.price = money(1);
        pu.stock = 10;
        pack_produce(rk, catalog, "pz-stock", &ev);
        static const int qty[] = {3, 10000, 2};
        for (int i = 0; i < 3; i++)
            produce_pz_order(rk, order, i + 1, qty[i]);
    }
    finish(rk);
}

/* The life-cycle probe, in two phases (the test waits between them):
 * 1: the inventory's decisions for life-a (reserved) and life-b (rejected), before
 *    anything was placed; 2: their placements by user-a, then refused events: user-b
 *    cancels life-a (not_owner), user-b places life-b again (order_exists), payments
 *    pays life-ghost (unknown_order), user-a pays life-a (a shopper: not_allowed), and
 *    life-b, rejected, is shipped by fulfilment (illegal_transition). */
static void cmd_life(const char *brokers, const char *prefix, int phase)
{
    rd_kafka_t *rk = producer(brokers);
    char order_t[SHOP_TOPIC_NAME_MAX], inv_t[SHOP_TOPIC_NAME_MAX];
    shop_topic_name(order_t, sizeof(order_t), prefix, SHOP_STREAM_ORDER);
    shop_topic_name(inv_t, sizeof(inv_t), prefix, SHOP_STREAM_INVENTORY);
    Shopstream__V1__Event ev;
    int n = phase * 100;
    char id[40];
#define LIFE_EV(user, role, actor)                                                         \
    do {                                                                                   \
        shopstream__v1__event__init(&ev);                                                  \
        snprintf(id, sizeof(id), "11fe0000-0000-4000-8000-%012d", n);                     \
        ev.id = id;                                                                        \
        ev.occurred_at_ms = ev.received_at_ms = T0 + n++;                                  \
        ev.user_id = (user);                                                               \
        ev.actor_role = (role);                                                            \
        ev.actor_id = (actor);                                                             \
    } while (0)
    Shopstream__V1__StockLine sl, *psl[1] = {&sl};
    Shopstream__V1__StockShortLine ss, *pss[1] = {&ss};
    Shopstream__V1__OrderLine line, *plines[1] = {&line};
    shopstream__v1__stock_line__init(&sl);
    sl.product_id = "life-p";
    sl.quantity = 2;
    shopstream__v1__stock_short_line__init(&ss);
    ss.product_id = "life-p";
    ss.requested = 2;
    ss.available = 1;
    ss.catalog_price = money(150);
    shopstream__v1__order_line__init(&line);
    line.product_id = "life-p";
    line.quantity = 2;
    line.unit_price = money(150);
    if (phase == 1) {
        Shopstream__V1__StockReserved rs;
        Shopstream__V1__StockRejected rj;
        shopstream__v1__stock_reserved__init(&rs);
        rs.order_id = "life-a";
        rs.n_lines = 1;
        rs.lines = psl;
        LIFE_EV("user-a", "service", "shopstream-inventory");
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev.stock_reserved = &rs;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        pack_produce(rk, inv_t, "life-a", &ev);
        shopstream__v1__stock_rejected__init(&rj);
        rj.order_id = "life-b";
        rj.reason = "out_of_stock";
        rj.n_lines = 1;
        rj.lines = pss;
        LIFE_EV("user-a", "service", "shopstream-inventory");
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
        ev.stock_rejected = &rj;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        pack_produce(rk, inv_t, "life-b", &ev);
        finish(rk);
        return;
    }
    Shopstream__V1__OrderPlaced op;
    shopstream__v1__order_placed__init(&op);
    op.n_lines = 1;
    op.lines = plines;
    op.total = money(300);
    static const struct { const char *order, *user; } places[] = {
        {"life-a", "user-a"}, {"life-b", "user-a"}, {"life-b", "user-b"}};
    for (int i = 0; i < 3; i++) {
        op.order_id = (char *)places[i].order;
        LIFE_EV((char *)places[i].user, "shopper", (char *)places[i].user);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED;
        ev.order_placed = &op;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        pack_produce(rk, order_t, op.order_id, &ev);
    }
    Shopstream__V1__OrderCancelled cn;
    shopstream__v1__order_cancelled__init(&cn);
    cn.order_id = "life-a";
    LIFE_EV("user-b", "shopper", "user-b");
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED;
    ev.order_cancelled = &cn;
    ev.type = (char *)shop_event_type_name(ev.payload_case);
    pack_produce(rk, order_t, "life-a", &ev);
    Shopstream__V1__OrderPaid pd;
    static const struct { const char *order, *user, *role, *actor; } pays[] = {
        {"life-ghost", "user-a", "service", "svc-payments"}, {"life-a", "user-a", "shopper", "user-a"}};
    for (int i = 0; i < 2; i++) {
        shopstream__v1__order_paid__init(&pd);
        pd.order_id = (char *)pays[i].order;
        pd.amount = money(300);
        LIFE_EV((char *)pays[i].user, (char *)pays[i].role, (char *)pays[i].actor);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID;
        ev.order_paid = &pd;
        ev.type = (char *)shop_event_type_name(ev.payload_case);
        pack_produce(rk, order_t, pd.order_id, &ev);
    }
    Shopstream__V1__OrderShipped sh;
    shopstream__v1__order_shipped__init(&sh);
    sh.order_id = "life-b";
    LIFE_EV("user-a", "service", "svc-fulfil");
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED;
    ev.order_shipped = &sh;
    ev.type = (char *)shop_event_type_name(ev.payload_case);
    pack_produce(rk, order_t, "life-b", &ev);
#undef LIFE_EV
    finish(rk);
}

static void cmd_junk(const char *brokers, const char *prefix, size_t bytes)
{
    rd_kafka_t *rk = producer(brokers);
    char topic[SHOP_TOPIC_NAME_MAX];
    shop_topic_name(topic, sizeof(topic), prefix, SHOP_STREAM_BROWSE);
    char *junk = malloc(bytes + 1);
    memset(junk, 0xff, bytes);
    produce(rk, topic, "user-junk", junk, bytes);
    free(junk);
    finish(rk);
}

/* Views with chosen ids and receipt times, all keyed alike (one partition, in order). */
static void cmd_views(const char *brokers, const char *prefix, const char *product, long id, long n, int64_t at_ms,
                      int64_t step_ms)
{
    rd_kafka_t *rk = producer(brokers);
    char topic[SHOP_TOPIC_NAME_MAX], uuid[40];
    shop_topic_name(topic, sizeof(topic), prefix, SHOP_STREAM_BROWSE);
    Shopstream__V1__Event ev;
    Shopstream__V1__ProductViewed pv;
    shopstream__v1__event__init(&ev);
    shopstream__v1__product_viewed__init(&pv);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
    ev.product_viewed = &pv;
    ev.user_id = "user-window";
    ev.type = (char *)shop_event_type_name(SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED);
    ev.source = "it-workers-gen";
    pv.product_id = (char *)product;
    uint8_t buf[512];
    for (long i = 0; i < n; i++) {
        snprintf(uuid, sizeof(uuid), "%08lx-0000-4000-8000-00000000beef", (unsigned long)(id + i) & 0xffffffffUL);
        ev.id = uuid;
        ev.occurred_at_ms = ev.received_at_ms = at_ms + i * step_ms;
        size_t len = shopstream__v1__event__pack(&ev, buf);
        produce(rk, topic, ev.user_id, buf, len);
    }
    finish(rk);
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    if (def == NULL) {
        fprintf(stderr, "it-workers-gen: %s is required\n", name);
        exit(2);
    }
    return def;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: it-workers-gen produce|count|expect|poison|views ...\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "poison-pg") == 0) {
        cmd_poison_pg(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL),
                      atoi(arg(argc, argv, "--round", "1")));
        return 0;
    }
    if (strcmp(cmd, "life") == 0) {
        cmd_life(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL),
                 atoi(arg(argc, argv, "--phase", "1")));
        return 0;
    }
    if (strcmp(cmd, "junk") == 0) {
        cmd_junk(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL),
                 strtoul(arg(argc, argv, "--bytes", "500"), NULL, 10));
        return 0;
    }
    if (strcmp(cmd, "poison") == 0) {
        cmd_poison(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL));
        return 0;
    }
    if (strcmp(cmd, "views") == 0) {
        cmd_views(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL),
                  arg(argc, argv, "--product", NULL), strtol(arg(argc, argv, "--id", NULL), NULL, 10),
                  strtol(arg(argc, argv, "--n", "1"), NULL, 10), strtoll(arg(argc, argv, "--at", NULL), NULL, 10),
                  strtoll(arg(argc, argv, "--step", "0"), NULL, 10));
        return 0;
    }
    generate(strtoull(arg(argc, argv, "--seed", "1"), NULL, 10), strtol(arg(argc, argv, "--n", "1000"), NULL, 10));
    if (strcmp(cmd, "count") == 0) {
        printf("%zu\n", n_recs);
    } else if (strcmp(cmd, "expect") == 0) {
        cmd_expect(arg(argc, argv, "--out", NULL));
    } else if (strcmp(cmd, "produce") == 0) {
        cmd_produce(arg(argc, argv, "--brokers", NULL), arg(argc, argv, "--prefix", NULL),
                    strtoul(arg(argc, argv, "--from", "0"), NULL, 10),
                    strtoul(arg(argc, argv, "--to", "18446744073709551615"), NULL, 10));
    } else {
        fprintf(stderr, "it-workers-gen: unknown command %s\n", cmd);
        return 2;
    }
    return 0;
}
