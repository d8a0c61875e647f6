/* SPDX-License-Identifier: MIT
 * shop_authz: the whole authority matrix (every client event type x no role, shopper,
 * service, admin) through the ingest mapping, posting as self and for another user;
 * the ownership rule against read-model rows; the lookup's parameter. The expected
 * cells are written out here, independently of edge_authz.c's table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edge/core/edge_authz.h"

#define NOW_MS 1700000000000LL
#define SUB "u-self"
#define OTHER "u-other"

/* One valid event of each of the 13 client types, in payload order. */
static const char *const bodies[] = {
    "{\"type\":\"product.viewed\",\"product_id\":\"p1\"}",
    "{\"type\":\"search.performed\",\"query\":\"mug\",\"results\":3}",
    "{\"type\":\"cart.item_added\",\"product_id\":\"p1\",\"quantity\":2}",
    "{\"type\":\"cart.item_removed\",\"product_id\":\"p1\"}",
    "{\"type\":\"cart.quantity_set\",\"product_id\":\"p1\",\"quantity\":0}",
    "{\"type\":\"cart.cleared\"}",
    "{\"type\":\"order.placed\",\"order_id\":\"o1\",\"lines\":[{\"product_id\":\"p1\",\"quantity\":1,"
    "\"unit_price\":{\"amount_minor\":500,\"currency\":\"GBP\"}}]}",
    "{\"type\":\"order.paid\",\"order_id\":\"o1\",\"amount\":{\"amount_minor\":500,\"currency\":\"GBP\"}}",
    "{\"type\":\"order.shipped\",\"order_id\":\"o1\",\"carrier\":\"RM\"}",
    "{\"type\":\"order.delivered\",\"order_id\":\"o1\"}",
    "{\"type\":\"order.cancelled\",\"order_id\":\"o1\"}",
    "{\"type\":\"catalog.product_upserted\",\"product_id\":\"p1\",\"name\":\"Mug\","
    "\"price\":{\"amount_minor\":500,\"currency\":\"GBP\"},\"stock\":4}",
    "{\"type\":\"catalog.stock_adjusted\",\"product_id\":\"p1\",\"delta\":-2}",
};
#define N_TYPES (sizeof(bodies) / sizeof(bodies[0]))

/* The matrix of docs/api.md: per type, what shopper / service / admin may do.
 * s = own only, o = own order only, b = on behalf of a user, c = catalog, - = refused. */
static const char *const want_cells[N_TYPES] = {
    "sbb", "sbb", "sbb", "sbb", "sbb", "sbb", "sbb", /* browse, cart, order.placed */
    "-bb", "-bb", "-bb",                             /* paid, shipped, delivered */
    "obb",                                           /* cancelled */
    "--c", "--c",                                    /* catalog */
};

static enum shop_authz_cell cell_of(char c)
{
    switch (c) {
    case 's': return SHOP_AUTHZ_SELF;
    case 'o': return SHOP_AUTHZ_SELF_ORDER;
    case 'b': return SHOP_AUTHZ_ON_BEHALF;
    case 'c': return SHOP_AUTHZ_CATALOG;
    default: return SHOP_AUTHZ_DENY;
    }
}

/* Decodes one event of type t with user_id (NULL: none named) into arena. */
static Shopstream__V1__Event *event_of(size_t t, const char *user, struct shop_arena *arena)
{
    char member[64] = "", ev[512], body[600];
    if (user != NULL)
        snprintf(member, sizeof(member), ",\"user_id\":\"%s\"", user);
    snprintf(ev, sizeof(ev), "%.*s%s}", (int)strlen(bodies[t]) - 1, bodies[t], member);
    snprintf(body, sizeof(body), "{\"events\":[%s]}", ev);
    Shopstream__V1__Event **evs;
    size_t n;
    struct shop_problem p = {.index = -1};
    cr_assert_eq(shop_event_batch_from_json(body, strlen(body), NULL, arena, &evs, &n, &p), 0,
                 "%s: %s %s", body, p.field, p.detail);
    cr_assert_eq(n, 1);
    return evs[0];
}

static int admit(Shopstream__V1__Event *ev, unsigned roles, struct shop_arena *arena,
                 struct shop_authz_grant *g, struct shop_problem *p)
{
    struct shop_authz_ctx c = {.roles = roles, .sub = SUB, .now_ms = NOW_MS, .source = "it",
                               .uuid_text = "6f1c0a52-0000-4000-8000-000000000001"};
    *p = (struct shop_problem){.index = -1};
    return shop_authz_admit(ev, 3, &c, arena, g, p);
}

Test(authz, the_table_holds_the_documented_cells)
{
    for (size_t t = 0; t < N_TYPES; t++) {
        Shopstream__V1__Event__PayloadCase pc = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED + (int)t;
        for (int r = 0; r < SHOP_EDGE_ROLE_COUNT; r++)
            cr_assert_eq(shop_authz_cell((enum shop_edge_role)r, pc), cell_of(want_cells[t][r]),
                         "%s as %s", shop_event_type_name(pc), shop_edge_role_name((enum shop_edge_role)r));
    }
}

Test(authz, payload_cases_outside_the_table_are_denied_to_everyone)
{
    for (int r = 0; r < SHOP_EDGE_ROLE_COUNT; r++) {
        cr_assert_eq(shop_authz_cell((enum shop_edge_role)r, SHOPSTREAM__V1__EVENT__PAYLOAD__NOT_SET),
                     SHOP_AUTHZ_DENY);
        for (int pc = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED + 1; pc < 64; pc++)
            cr_assert_eq(shop_authz_cell((enum shop_edge_role)r, (Shopstream__V1__Event__PayloadCase)pc),
                         SHOP_AUTHZ_DENY, "payload case %d as %s", pc,
                         shop_edge_role_name((enum shop_edge_role)r));
    }
    cr_assert_eq(shop_authz_cell(SHOP_EDGE_ROLE_COUNT, SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED),
                 SHOP_AUTHZ_DENY);
}

/* One cell through the ingest mapping: posted as self (no user_id), and for OTHER. */
static void walk_cell(size_t t, unsigned roles, enum shop_edge_role role, char cell)
{
    const char *what = shop_edge_role_name(role);
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant g;
    struct shop_problem p;
    Shopstream__V1__Event *self = event_of(t, NULL, &arena);
    Shopstream__V1__Event *other = event_of(t, OTHER, &arena);
    int st_self = admit(self, roles, &arena, &g, &p);
    const char *type = bodies[t] + 9;
    switch (cell) {
    case 's':
    case 'o':
        cr_assert_eq(st_self, 0, "%.20s as %s: %s %s", type, what, p.field, p.detail);
        cr_assert_eq(g.role, role);
        cr_assert_str_eq(self->user_id, SUB);
        cr_assert_eq(admit(other, roles, &arena, &g, &p), 403, "%.20s as %s for another user", type, what);
        cr_assert_str_eq(p.field, "user_id");
        break;
    case 'b':
        cr_assert_eq(st_self, 400, "%.20s as %s without user_id", type, what);
        cr_assert_str_eq(p.field, "user_id");
        cr_assert_eq(admit(other, roles, &arena, &g, &p), 0, "%.20s as %s: %s", type, what, p.detail);
        cr_assert_eq(g.role, role);
        self = other;   /* the admitted one, for the actor checks below */
        cr_assert_str_eq(other->user_id, OTHER, "taken from the body");
        cr_assert_str_eq(g.user_id, OTHER);
        break;
    case 'c':
        cr_assert_eq(st_self, 0, "%.20s as %s: %s", type, what, p.detail);
        cr_assert_eq(g.role, role);
        cr_assert_str_eq(self->user_id, SUB);
        break;
    default:
        cr_assert_eq(st_self, 403, "%.20s as %s must be refused", type, what);
        cr_assert_str_eq(p.field, "type");
        cr_assert_eq(p.index, 3, "names the event's index");
        cr_assert(strstr(p.detail, shop_event_type_name(self->payload_case)) != NULL, "%s", p.detail);
        cr_assert_eq(admit(other, roles, &arena, &g, &p), 403);
        cr_assert_str_eq(p.field, "type");
        shop_arena_fini(&arena);
        return;
    }
    cr_assert_str_eq(self->actor_id, SUB, "actor_id is the token subject");
    cr_assert_str_eq(self->actor_role, what, "actor_role is the role that authorized it");
    shop_arena_fini(&arena);
}

Test(authz, walks_the_whole_matrix_through_the_ingest_mapping)
{
    for (size_t t = 0; t < N_TYPES; t++) {
        /* A token without any known role is a shopper. */
        unsigned none = shop_edge_role_set_from_claims(NULL, NULL);
        walk_cell(t, none, SHOP_EDGE_ROLE_SHOPPER, want_cells[t][SHOP_EDGE_ROLE_SHOPPER]);
        for (int r = 0; r < SHOP_EDGE_ROLE_COUNT; r++)
            walk_cell(t, SHOP_EDGE_ROLE_BIT(r), (enum shop_edge_role)r, want_cells[t][r]);
    }
}

Test(authz, nobody_posts_inventory_outcomes)
{
    const char *body = "{\"events\":[{\"type\":\"inventory.reserved\",\"order_id\":\"o1\","
                       "\"lines\":[{\"product_id\":\"p1\",\"quantity\":1}],\"user_id\":\"u2\"}]}";
    for (unsigned roles = 1; roles <= SHOP_EDGE_ROLES_ALL; roles++) {
        struct shop_arena arena = SHOP_ARENA_INIT;
        Shopstream__V1__Event **evs;
        size_t n;
        struct shop_problem p = {.index = -1};
        cr_assert_eq(shop_event_batch_from_json(body, strlen(body), NULL, &arena, &evs, &n, &p), 0,
                     "%s %s", p.field, p.detail);
        struct shop_authz_grant g;
        cr_assert_eq(admit(evs[0], roles, &arena, &g, &p), 403, "roles %u", roles);
        cr_assert_str_eq(p.field, "type");
        cr_assert(strstr(p.detail, "inventory worker") != NULL, "%s", p.detail);
        shop_arena_fini(&arena);
    }
}

Test(authz, body_actor_fields_are_replaced)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant g;
    struct shop_problem p;
    Shopstream__V1__Event *ev = event_of(2, NULL, &arena);
    ev->actor_id = "someone-else";
    ev->actor_role = "admin";
    cr_assert_eq(admit(ev, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), &arena, &g, &p), 0, "%s", p.detail);
    cr_assert_str_eq(ev->actor_id, SUB);
    cr_assert_str_eq(ev->actor_role, "shopper");
    shop_arena_fini(&arena);
}

Test(authz, several_roles_use_the_strongest_that_admits_the_event)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant g;
    struct shop_problem p;
    unsigned both = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER) | SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE);
    cr_assert_eq(admit(event_of(2, NULL, &arena), both, &arena, &g, &p), 0, "own cart event");
    cr_assert_eq(g.role, SHOP_EDGE_ROLE_SHOPPER, "service needs a user_id: the shopper role admits it");
    cr_assert_eq(admit(event_of(2, OTHER, &arena), both, &arena, &g, &p), 0);
    cr_assert_eq(g.role, SHOP_EDGE_ROLE_SERVICE);
    cr_assert_eq(admit(event_of(10, SUB, &arena), both, &arena, &g, &p), 0);
    cr_assert_eq(g.role, SHOP_EDGE_ROLE_SERVICE, "a cancel as service needs no ownership check");
    cr_assert_eq(admit(event_of(11, NULL, &arena), both, &arena, &g, &p), 403, "no catalog");
    shop_arena_fini(&arena);
}

Test(authz, service_posts_historical_times_but_not_future_ones)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant g;
    struct shop_problem p;
    Shopstream__V1__Event *ev = event_of(6, OTHER, &arena);
    ev->occurred_at_ms = 1291161600000LL;   /* 2010-12-01: an Online Retail invoice */
    cr_assert_eq(admit(ev, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), &arena, &g, &p), 0, "%s", p.detail);
    cr_assert_eq(ev->occurred_at_ms, 1291161600000LL, "the recorded time is kept");
    ev = event_of(6, OTHER, &arena);
    ev->occurred_at_ms = NOW_MS + 3600 * 1000;
    cr_assert_eq(admit(ev, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), &arena, &g, &p), 400);
    cr_assert_str_eq(p.field, "occurred_at_ms");
    cr_assert_eq(p.index, 3);
    shop_arena_fini(&arena);
}

/* A batch of events (JSON array members) admitted for roles; grants in arena. */
static Shopstream__V1__Event **batch(const char *members, unsigned roles, struct shop_arena *arena,
                                     struct shop_authz_grant **g, size_t *n)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"events\":[%s]}", members);
    Shopstream__V1__Event **evs;
    struct shop_problem p = {.index = -1};
    cr_assert_eq(shop_event_batch_from_json(body, strlen(body), NULL, arena, &evs, n, &p), 0,
                 "%s %s", p.field, p.detail);
    *g = shop_arena_alloc(arena, *n * sizeof(**g));
    for (size_t i = 0; i < *n; i++) {
        char uuid[37];
        snprintf(uuid, sizeof(uuid), "6f1c0a52-0000-4000-8000-%012u", (unsigned)i);
        struct shop_authz_ctx c = {.roles = roles, .sub = SUB, .now_ms = NOW_MS, .uuid_text = uuid};
        cr_assert_eq(shop_authz_admit(evs[i], (int)i, &c, arena, &(*g)[i], &p), 0, "%s", p.detail);
    }
    return evs;
}

#define PLACED(id) "{\"type\":\"order.placed\",\"order_id\":\"" id "\",\"lines\":[{\"product_id\":" \
                   "\"p1\",\"quantity\":1,\"unit_price\":{\"amount_minor\":5,\"currency\":\"GBP\"}}]}"
#define CANCEL(id) "{\"type\":\"order.cancelled\",\"order_id\":\"" id "\"}"
#define VIEW "{\"type\":\"product.viewed\",\"product_id\":\"p1\"}"

Test(authz, owner_param_lists_each_order_to_check_once)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant *g;
    size_t n;
    Shopstream__V1__Event **evs = batch(VIEW "," PLACED("o-1") "," CANCEL("o-2") "," CANCEL("o-1"),
                                        SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), &arena, &g, &n);
    cr_assert_str_eq(shop_authz_owner_param(evs, g, n, &arena), "{\"o-1\",\"o-2\"}");
    evs = batch(VIEW, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), &arena, &g, &n);
    cr_assert_null(shop_authz_owner_param(evs, g, n, &arena), "no order event: no lookup");
    /* A service's cancel needs no ownership check; its order.placed still needs a new id. */
    evs = batch("{\"type\":\"order.cancelled\",\"order_id\":\"o-9\",\"user_id\":\"u2\"}",
                SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), &arena, &g, &n);
    cr_assert_null(shop_authz_owner_param(evs, g, n, &arena));
    cr_assert_not(shop_authz_needs_owner(evs[0], &g[0]));
    shop_arena_fini(&arena);
}

Test(authz, owner_param_escapes_quotes_and_backslashes)
{
    /* Validation only lets A-Z a-z 0-9 . _ : - through; the literal is quoted regardless. */
    struct shop_arena arena = SHOP_ARENA_INIT;
    Shopstream__V1__OrderCancelled oc;
    shopstream__v1__order_cancelled__init(&oc);
    oc.order_id = "a\"b\\c";
    Shopstream__V1__Event ev;
    shopstream__v1__event__init(&ev);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED;
    ev.order_cancelled = &oc;
    Shopstream__V1__Event *evs[1] = {&ev};
    struct shop_authz_grant g;
    struct shop_problem p;
    cr_assert_eq(shop_authz_event(&ev, 0, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), SUB, &g, &p), 0);
    cr_assert_str_eq(shop_authz_owner_param(evs, &g, 1, &arena), "{\"a\\\"b\\\\c\"}");
    shop_arena_fini(&arena);
}

static int check(const char *members, unsigned roles, const struct shop_authz_owner *rows,
                 size_t n_rows, struct shop_problem *p)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_authz_grant *g;
    size_t n;
    Shopstream__V1__Event **evs = batch(members, roles, &arena, &g, &n);
    *p = (struct shop_problem){.index = -1};
    int st = shop_authz_check_owners(evs, g, n, rows, n_rows, p);
    shop_arena_fini(&arena);
    return st;
}

Test(authz, ownership_against_the_read_model)
{
    const unsigned shopper = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), service = SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE);
#define PLACED_BY_MINE "6f1c0a52-0000-4000-8000-00000000aaaa"
    const struct shop_authz_owner rows[] = {{"o-mine", SUB, PLACED_BY_MINE},
                                            {"o-theirs", OTHER, "6f1c0a52-0000-4000-8000-00000000bbbb"}};
    struct shop_problem p;
    cr_assert_eq(check(CANCEL("o-mine"), shopper, rows, 2, &p), 0, "own order");
    cr_assert_eq(check(VIEW "," CANCEL("o-theirs"), shopper, rows, 2, &p), 403, "another user's order");
    cr_assert_eq(p.index, 1);
    cr_assert_str_eq(p.field, "order_id");
    cr_assert(strstr(p.detail, "order.cancelled") != NULL && strstr(p.detail, "o-theirs") != NULL,
              "%s", p.detail);
    cr_assert_eq(check(CANCEL("o-new"), shopper, rows, 2, &p), 0, "unknown yet: the worker decides");
    cr_assert_eq(check(PLACED("o-theirs"), shopper, rows, 2, &p), 409, "reused id");
    cr_assert_str_eq(p.field, "order_id");
    cr_assert_eq(p.index, 0);
    cr_assert_eq(check(PLACED("o-mine"), shopper, rows, 2, &p), 409, "reusing one's own id too");
    /* The event that placed o-mine, posted again with its id by its user: a retry, no reuse. */
    const char *again = "{\"id\":\"" PLACED_BY_MINE "\",\"type\":\"order.placed\",\"order_id\":\"o-mine\","
                        "\"lines\":[{\"product_id\":\"p1\",\"quantity\":1,\"unit_price\":"
                        "{\"amount_minor\":5,\"currency\":\"GBP\"}}]}";
    cr_assert_eq(check(again, shopper, rows, 2, &p), 0, "a retry of the placing event");
    const struct shop_authz_owner no_history[] = {{"o-mine", SUB, ""}};
    cr_assert_eq(check(again, shopper, no_history, 1, &p), 409, "no placing event known: a reuse");
    char theirs[512];
    snprintf(theirs, sizeof(theirs), "%.*s,\"user_id\":\"%s\"}", (int)strlen(again) - 1, again, OTHER);
    cr_assert_eq(check(theirs, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), rows, 2, &p), 409,
                 "the placing event's id for another user is a reuse");
    cr_assert_eq(check(PLACED("o-new") "," CANCEL("o-new"), shopper, rows, 2, &p), 0,
                 "placed and cancelled in one batch");
    cr_assert_eq(check(PLACED("o-new") "," VIEW "," PLACED("o-new"), shopper, NULL, 0, &p), 409,
                 "the same id placed twice in one batch");
    cr_assert_eq(p.index, 2);
    cr_assert_eq(check("{\"type\":\"order.cancelled\",\"order_id\":\"o-theirs\",\"user_id\":\"u-x\"}",
                       service, rows, 2, &p), 0, "a service cancels any order");
    cr_assert_eq(check("{\"type\":\"order.placed\",\"order_id\":\"o-mine\",\"user_id\":\"u-x\","
                       "\"lines\":[{\"product_id\":\"p1\",\"quantity\":1,\"unit_price\":"
                       "{\"amount_minor\":5,\"currency\":\"GBP\"}}]}", service, rows, 2, &p), 409,
                 "an existing id is refused whoever places it");
}
