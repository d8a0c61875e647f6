#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "tools/replay/replay_gen.h"

static struct retail_row row(const char *inv, const char *code, int qty, int64_t pence, int cust, int64_t ms)
{
    struct retail_row r;
    memset(&r, 0, sizeof(r));
    snprintf(r.invoice, sizeof(r.invoice), "%s", inv);
    snprintf(r.stock_code, sizeof(r.stock_code), "%s", code);
    snprintf(r.description, sizeof(r.description), "RED %s MUG", code);
    r.quantity = qty;
    r.unit_price_minor = pence;
    r.customer_id = cust;
    r.invoice_ms = ms;
    r.cancelled = inv[0] == 'C';
    return r;
}


static struct retail_row data[7];

static void setup(void)
{
    data[0] = row("100", "10001", 2, 150, 11, 1300000000000LL);
    data[1] = row("100", "20002", 1, 999, 11, 1300000000000LL);
    data[2] = row("101", "10001", 3, 150, 12, 1300000100000LL);
    data[3] = row("C102", "10001", -1, 150, 12, 1300000200000LL);  /* cancellation: ignored */
    data[4] = row("103", "30003", 1, 500, 0, 1300000300000LL);     /* guest: ignored */
    data[5] = row("104", "20002", 4, 999, 13, 1300000400000LL);    /* beyond --customers 2 */
    data[6] = row("100", "POST", 1, 1800, 11, 1300000000000LL);    /* postage: not merchandise */
}

/* Sums quantity over every order.placed line in the plan, and checks totals. */
static long placed_units(const struct replay_plan *p, size_t *orders)
{
    long units = 0;
    *orders = 0;
    for (size_t i = 0; i < p->n_reqs; i++) {
        json_t *body = json_loads(p->reqs[i].body, 0, NULL);
        cr_assert_not_null(body);
        json_t *evs = json_object_get(body, "events");
        cr_assert_eq(json_array_size(evs), p->reqs[i].n_events);
        size_t k;
        json_t *ev;
        json_array_foreach(evs, k, ev) {
            cr_assert_eq(strlen(json_string_value(json_object_get(ev, "id"))), 36);
            /* An import: each shopper event names its customer; the catalog names no one. */
            const char *user = json_string_value(json_object_get(ev, "user_id"));
            if (p->reqs[i].admin)
                cr_assert_null(user);
            else
                cr_assert_str_eq(user, p->reqs[i].user_id);
            if (strcmp(json_string_value(json_object_get(ev, "type")), "order.placed") != 0)
                continue;
            (*orders)++;
            json_int_t total = 0;
            size_t j;
            json_t *l;
            json_array_foreach(json_object_get(ev, "lines"), j, l) {
                json_int_t q = json_integer_value(json_object_get(l, "quantity"));
                units += (long)q;
                total += q * json_integer_value(json_object_get(json_object_get(l, "unit_price"), "amount_minor"));
            }
            cr_assert_eq(json_integer_value(json_object_get(json_object_get(ev, "total"), "amount_minor")), total);
        }
        json_decref(body);
    }
    return units;
}

Test(replay_gen, replays_real_orders_of_the_first_customers, .init = setup)
{
    struct replay_opts o = {.customers = 2, .seed = 7, .order_lines_max = 100};
    struct replay_plan p;
    cr_assert_eq(replay_plan_build(data, 7, &o, &p), 0);
    cr_assert_eq(p.n_users, 2);
    cr_assert_eq(p.n_orders, 2);
    cr_assert_eq(p.n_products, 2);      /* 10001, 20002 of customers 11 and 12 */
    cr_assert(p.reqs[0].admin);         /* catalog comes first */
    cr_assert_str_eq(p.reqs[0].user_id, "catalog-admin");
    size_t orders;
    cr_assert_eq(placed_units(&p, &orders), 2 + 1 + 3);
    cr_assert_eq(orders, 2);
    replay_plan_free(&p);
}

Test(replay_gen, is_deterministic_for_a_seed_and_differs_across_seeds, .init = setup)
{
    struct replay_opts o = {.customers = 3, .seed = 1, .order_lines_max = 100};
    struct replay_plan a, b, c;
    cr_assert_eq(replay_plan_build(data, 7, &o, &a), 0);
    cr_assert_eq(replay_plan_build(data, 7, &o, &b), 0);
    o.seed = 2;
    cr_assert_eq(replay_plan_build(data, 7, &o, &c), 0);
    cr_assert_eq(a.n_reqs, b.n_reqs);
    for (size_t i = 0; i < a.n_reqs; i++)
        cr_assert_str_eq(a.reqs[i].body, b.reqs[i].body);
    cr_assert_str_neq(a.reqs[0].body, c.reqs[0].body);  /* ids depend on the seed */
    replay_plan_free(&a);
    replay_plan_free(&b);
    replay_plan_free(&c);
}

Test(replay_gen, skips_invoices_over_the_line_limit, .init = setup)
{
    struct replay_opts o = {.customers = 3, .seed = 1, .order_lines_max = 1};
    struct replay_plan p;
    cr_assert_eq(replay_plan_build(data, 7, &o, &p), 0);
    cr_assert_eq(p.n_skipped_invoices, 1);   /* invoice 100 has two lines */
    cr_assert_eq(p.n_orders, 2);
    replay_plan_free(&p);
}

Test(replay_gen, event_ids_are_v5_uuids)
{
    char a[37], b[37];
    replay_event_id(1, "x", 0, a);
    replay_event_id(1, "x", 1, b);
    cr_assert_str_neq(a, b);
    cr_assert_eq(a[14], '5');
    replay_event_id(1, "x", 0, b);
    cr_assert_str_eq(a, b);
}

/* The type and order_id of every event in the plan, in posting order (requests after the catalog). */
static size_t placed_orders(const struct replay_plan *p, char ids[][40], int64_t *at, size_t max, size_t *others)
{
    size_t n = 0;
    *others = 0;
    for (size_t i = 0; i < p->n_reqs; i++) {
        if (p->reqs[i].admin)
            continue;
        json_t *body = json_loads(p->reqs[i].body, 0, NULL);
        size_t k;
        json_t *ev;
        json_array_foreach(json_object_get(body, "events"), k, ev) {
            if (strcmp(json_string_value(json_object_get(ev, "type")), "order.placed") != 0) {
                (*others)++;
                continue;
            }
            cr_assert_lt(n, max);
            snprintf(ids[n], 40, "%s", json_string_value(json_object_get(ev, "order_id")));
            at[n++] = json_integer_value(json_object_get(ev, "at"));
        }
        json_decref(body);
    }
    return n;
}

Test(replay_gen, until_keeps_the_invoices_before_the_cutoff_and_the_whole_catalog, .init = setup)
{
    struct replay_opts o = {.customers = 3, .seed = 1, .order_lines_max = 100, .orders_only = 1,
                            .until_ms = 1300000100000LL};
    struct replay_plan p;
    cr_assert_eq(replay_plan_build(data, 7, &o, &p), 0);
    cr_assert_eq(p.n_products, 2);          /* 20002 is bought after the cutoff too: still catalogued */
    char ids[8][40];
    int64_t at[8];
    size_t others;
    cr_assert_eq(placed_orders(&p, ids, at, 8, &others), 1);
    cr_assert_str_eq(ids[0], "100");        /* 101 is at the cutoff: after it */
    cr_assert_eq(p.n_users, 1);
    replay_plan_free(&p);
    /* The window's other half: the orders the first one left out, nothing twice. */
    o.from_ms = o.until_ms;
    o.until_ms = 0;
    cr_assert_eq(replay_plan_build(data, 7, &o, &p), 0);
    cr_assert_eq(placed_orders(&p, ids, at, 8, &others), 2);
    cr_assert_str_eq(ids[0], "101");
    cr_assert_str_eq(ids[1], "104");
    replay_plan_free(&p);
}

Test(replay_gen, orders_only_posts_each_invoice_once_in_time_order_across_customers)
{
    struct retail_row d[] = {
        row("300", "10001", 1, 100, 21, 1300000500000LL),
        row("200", "10001", 2, 100, 22, 1300000000000LL),
        row("200", "20002", 1, 250, 22, 1300000060000LL),   /* the same invoice a minute later */
        row("250", "10001", 20000, 100, 21, 1300000200000LL),  /* over the edge's quantity limit */
        row("250", "30003", 1, 100, 21, 1300000200000LL),
        row("400", "10001", 1, 100, 22, 1300000900000LL),
        row("400", "20002", 1, 250, 22, 1300000900000LL),
        row("400", "30003", 1, 100, 22, 1300000900000LL),
    };
    struct replay_opts o = {.customers = 10, .seed = 1, .order_lines_max = 2, .orders_only = 1,
                            .quantity_max = 10000};
    struct replay_plan p;
    cr_assert_eq(replay_plan_build(d, 8, &o, &p), 0);
    char ids[8][40];
    int64_t at[8];
    size_t others;
    size_t n = placed_orders(&p, ids, at, 8, &others);
    cr_assert_eq(others, 0);                /* no views, carts or later steps */
    cr_assert_eq(n, 5);
    const char *want[] = {"200", "250", "300", "400", "400-2"};
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(ids[i], want[i]);
        if (i > 0)
            cr_assert_geq(at[i], at[i - 1]);
    }
    cr_assert_eq(at[0], 1300000000000LL);   /* the invoice's first line's time */
    cr_assert_eq(p.n_split_invoices, 1);
    cr_assert_eq(p.n_dropped_lines, 1);
    cr_assert_eq(p.n_orders, 5);
    cr_assert_eq(p.n_users, 2);
    /* Every product catalogued a day before the first invoice, before any order. */
    json_t *cat = json_loads(p.reqs[0].body, 0, NULL);
    cr_assert(p.reqs[0].admin);
    size_t k;
    json_t *ev;
    json_array_foreach(json_object_get(cat, "events"), k, ev)
        cr_assert_eq(json_integer_value(json_object_get(ev, "at")), 1300000000000LL - 86400000LL);
    cr_assert_eq(json_array_size(json_object_get(cat, "events")), 3);
    json_decref(cat);
    /* One order per request: its lines hold at most order_lines_max products. */
    for (size_t i = 1; i < p.n_reqs; i++)
        cr_assert_eq(p.reqs[i].n_events, 1);
    replay_plan_free(&p);
}

Test(replay_gen, parses_a_cutoff_date_or_time)
{
    int64_t ms;
    cr_assert_eq(replay_parse_time("2011-09-01", &ms), 0);
    cr_assert_eq(ms, 1314835200000LL);
    cr_assert_eq(replay_parse_time("2010-12-01 08:26:00", &ms), 0);
    cr_assert_eq(ms, 1291191960000LL);
    cr_assert_eq(replay_parse_time("2011-13-01", &ms), SHOP_EINVAL);
    cr_assert_eq(replay_parse_time("2011-09-01x", &ms), SHOP_EINVAL);
    cr_assert_eq(replay_parse_time("2011-9-1", &ms), SHOP_EINVAL);
    cr_assert_eq(replay_parse_time("", &ms), SHOP_EINVAL);
}
