/* SPDX-License-Identifier: MIT
 * libFuzzer target for the client-controlled parts of a read: the query string
 * (shop_edge_route_match on GET /v1/me/orders, /v1/me/recommendations,
 * /v1/products/{id}/forecast and /v1/analytics/top-products), its limit, days, cursor,
 * from, to and by (shop_edge_read_init), the
 * cursor decoder itself, and the input as a path. Invariants: no crash, no undefined
 * behaviour; a match is 0 or 400 with a field; a decoded query value is NUL-terminated
 * within its bound; a cursor that decodes encodes back to the same text (one text per
 * key); a read that starts has a limit and days within their bounds, and a range of
 * 1..SHOP_READ_RANGE_DAYS_MAX days; a path's {id} is
 * 1..SHOP_ROUTE_ID_MAX bytes inside the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_cursor.h"
#include "edge/core/edge_forecast.h"
#include "edge/core/edge_reads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cursor(const char *text)
{
    struct shop_edge_cursor c;
    char back[SHOP_EDGE_CURSOR_MAX];
    if (shop_edge_cursor_decode(text, &c) != 0)
        return;
    if (shop_edge_cursor_encode(&c, back, sizeof(back)) < 0 || strcmp(back, text) != 0)
        abort();
}

/* The query on an ML read: what starts has its count within bounds. */
static void check_ml_query(const char *path, enum shop_edge_read kind, const uint8_t *data,
                           size_t size)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, path, strlen(path), (const char *)data, size, &m);
    if (m.status != 0 && (m.status != 400 || m.field[0] == '\0'))
        abort();
    struct shop_edge_read_req r;
    struct shop_err err = {0};
    const char *field;
    if (m.status != 0 || shop_edge_read_init(&r, kind, "u1", true, &m, &field, &err) != 0)
        return;
    if (kind == SHOP_READ_RECS && (r.limit < 1 || r.limit > SHOP_READ_LIMIT_MAX))
        abort();
    if (kind == SHOP_READ_FORECAST && (r.days < 1 || r.days > SHOP_FORECAST_DAYS_MAX))
        abort();
    if (kind == SHOP_READ_TOP_PRODUCTS &&
        (r.limit < 1 || r.limit > SHOP_READ_LIMIT_MAX || r.from_day < 0 || r.to_day < r.from_day ||
         r.to_day - r.from_day + 1 > SHOP_READ_RANGE_DAYS_MAX ||
         (r.by != SHOP_READ_BY_UNITS && r.by != SHOP_READ_BY_REVENUE)))
        abort();
}

static void check_path(const uint8_t *data, size_t size)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, (const char *)data, size, NULL, 0, &m);
    if (m.param == NULL)
        return;
    if (m.param_len < 1 || m.param_len > SHOP_ROUTE_ID_MAX || m.param < (const char *)data ||
        m.param + m.param_len > (const char *)data + size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_ml_query("/v1/me/recommendations", SHOP_READ_RECS, data, size);
    check_ml_query("/v1/products/p1/forecast", SHOP_READ_FORECAST, data, size);
    check_ml_query("/v1/analytics/top-products", SHOP_READ_TOP_PRODUCTS, data, size);
    check_path(data, size);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    check_cursor(text);
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, "/v1/me/orders", strlen("/v1/me/orders"), (const char *)data,
                          size, &m);
    if (m.status != 0 && (m.status != 400 || m.field[0] == '\0'))
        abort();
    if (m.status == 0) {
        for (int a = 0; a < SHOP_ARG_COUNT; a++) {
            const char *v = shop_edge_match_arg(&m, (enum shop_edge_arg)a);
            if (v != NULL && memchr(v, '\0', SHOP_ROUTE_ARG_MAX + 1) == NULL)
                abort();
        }
        struct shop_edge_read_req r;
        struct shop_err err = {0};
        const char *field;
        if (shop_edge_read_init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field, &err) == 0 &&
            (r.limit < 1 || r.limit > SHOP_READ_LIMIT_MAX))
            abort();
        const char *cursor = shop_edge_match_arg(&m, SHOP_ARG_CURSOR);
        if (cursor != NULL)
            check_cursor(cursor);
    }
    free(text);
    return 0;
}
