/* SPDX-License-Identifier: MIT
 * libFuzzer target for the client-controlled parts of a read: the query string
 * (shop_edge_route_match on GET /v1/me/orders), its limit and cursor
 * (shop_edge_read_init) and the cursor decoder itself. Invariants: no crash, no
 * undefined behaviour; a match is 0 or 400 with a field; a decoded query value is
 * NUL-terminated within its bound; a cursor that decodes encodes back to the same
 * text (one text per key) and a read that starts has a limit within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_cursor.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
