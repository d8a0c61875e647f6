/* SPDX-License-Identifier: MIT
 * A bounded run's stop offsets (workers/core/stop_at.c) and the rebuildable read models
 * (workers/core/read_models.c).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "base/shop_err.h"
#include "workers/core/read_models.h"
#include "workers/core/stop_at.h"

Test(stop_at, parses_topics_with_colons_and_stops_unlisted_partitions_at_zero)
{
    struct shop_stop_at sa;
    struct shop_err err = {0};
    cr_assert_eq(shop_stop_at_parse("a.cart.v1:0:12,x:y.order.v1:3:0", &sa, &err), 0, "%s", err.msg);
    cr_assert_eq(sa.n, 2);
    cr_assert_eq(shop_stop_at_offset(&sa, "a.cart.v1", 0), 12);
    cr_assert_eq(shop_stop_at_offset(&sa, "x:y.order.v1", 3), 0);
    cr_assert_eq(shop_stop_at_offset(&sa, "a.cart.v1", 1), 0, "an unlisted partition applies nothing");
    cr_assert_not(shop_stop_at_done(&sa));
    shop_stop_at_note(&sa, "a.cart.v1", 0, 11);
    cr_assert_not(shop_stop_at_done(&sa));
    shop_stop_at_note(&sa, "a.cart.v1", 0, 12);
    cr_assert(shop_stop_at_done(&sa));
}

Test(stop_at, off_means_unbounded_and_empty_means_nothing)
{
    struct shop_stop_at off = {0}, empty;
    struct shop_err err = {0};
    cr_assert_eq(shop_stop_at_offset(&off, "t", 0), INT64_MAX);
    cr_assert_not(shop_stop_at_done(&off));
    cr_assert_eq(shop_stop_at_parse("", &empty, &err), 0);
    cr_assert(empty.on);
    cr_assert(shop_stop_at_done(&empty));
    cr_assert_eq(shop_stop_at_offset(&empty, "t", 0), 0);
}

Test(stop_at, refuses_bad_items)
{
    const char *bad[] = {"t:0", "t:x:1", "t:0:-1", ":0:1", "t:0:1,", "t:0:1,,u:0:1", "t::1", "t:0:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shop_stop_at sa;
        struct shop_err err = {0};
        cr_assert_eq(shop_stop_at_parse(bad[i], &sa, &err), SHOP_EINVAL, "accepted \"%s\"", bad[i]);
        cr_assert(strstr(err.msg, "SHOPSTREAM_STOP_AT_OFFSETS") != NULL);
    }
}

Test(read_models, every_model_names_tables_its_role_writes)
{
    cr_assert_not_null(shop_read_model_find("orders"));
    cr_assert_null(shop_read_model_find("nonesuch"));
    for (size_t i = 0; i < shop_read_models_count; i++) {
        const struct shop_read_model *m = &shop_read_models[i];
        cr_assert_not_null(m->tables[0], "%s swaps nothing", m->name);
        for (int t = 0; t < SHOP_READ_MODEL_TABLES_MAX && m->tables[t] != NULL; t++) {
            const struct shop_model *row = shop_model_find(m->tables[t]);
            cr_assert_not_null(row, "%s: %s is no table", m->name, m->tables[t]);
            cr_assert_eq(row->owner, m->role, "%s: %s is not its role's", m->name, m->tables[t]);
        }
    }
    char list[256];
    shop_read_model_list(list, sizeof(list));
    cr_assert(strstr(list, "analytics") != NULL);
}
