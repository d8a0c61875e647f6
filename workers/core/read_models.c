/* SPDX-License-Identifier: MIT
 * The rebuildable read models (workers/core/read_models.h). Only the projector's:
 * the inventory's fold publishes outcomes through its outbox (a rebuild would publish
 * them again) and the ML role restores from its checkpoints (docs/ml.md). Pure.
 */
#include "workers/core/read_models.h"

#include <stdio.h>
#include <string.h>

const struct shop_read_model shop_read_models[] = {
    {"products", SHOP_WORKER_PROJECTOR, {"products"}, "catalog fields, views and purchases"},
    {"carts", SHOP_WORKER_PROJECTOR, {"carts", "cart_items"}, "carts and their lines"},
    {"orders", SHOP_WORKER_PROJECTOR,
     {"orders", "order_lines", "order_status_history", "refused_events", "order_decisions_pending"},
     "orders, lines, history, refusals and parked decisions"},
    {"analytics", SHOP_WORKER_PROJECTOR,
     {"user_activity", "user_spend", "product_daily", "product_daily_revenue", "category_daily", "funnel_daily"},
     "the activity and analytics models of migration 0009"},
    {"projector", SHOP_WORKER_PROJECTOR,
     {"products", "carts", "cart_items", "orders", "order_lines", "order_status_history", "refused_events",
      "order_decisions_pending", "user_activity", "user_spend", "product_daily", "product_daily_revenue",
      "category_daily", "funnel_daily"},
     "every table of the projector"},
};

const size_t shop_read_models_count = sizeof(shop_read_models) / sizeof(shop_read_models[0]);

const struct shop_read_model *shop_read_model_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < shop_read_models_count; i++) {
        if (strcmp(shop_read_models[i].name, name) == 0)
            return &shop_read_models[i];
    }
    return NULL;
}

size_t shop_read_model_list(char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return 0;
    buf[0] = '\0';
    for (size_t i = 0; i < shop_read_models_count; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i > 0 ? ", " : "", shop_read_models[i].name);
        if (w < 0 || (size_t)w >= n - len)
            return n - 1;
        len += (size_t)w;
    }
    return len;
}

int shop_read_model_role_tables(enum shop_worker_role role, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < shop_models_count && n < max; i++) {
        if (shop_models[i].owner == role)
            out[n++] = shop_models[i].table;
    }
    return (int)n;
}
