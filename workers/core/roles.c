/* SPDX-License-Identifier: MIT
 * The role table and the model registry (workers/core/roles.h). Pure.
 */
#include "workers/core/roles.h"

#include <stdio.h>
#include <string.h>

#include "base/shop_err.h"

static const struct shop_role_desc roles[SHOP_WORKER_ROLE_COUNT] = {
    [SHOP_WORKER_PROJECTOR] = {
        .name = "projector",
        .group = "shopstream-projector",
        .n_streams = 5,   /* inventory: the inventory worker's decisions confirm or reject orders */
        .streams = {SHOP_STREAM_BROWSE, SHOP_STREAM_CART, SHOP_STREAM_ORDER, SHOP_STREAM_CATALOG,
                    SHOP_STREAM_INVENTORY},
    },
    [SHOP_WORKER_INVENTORY] = {
        .name = "inventory",
        .group = "shopstream-inventory",
        .n_streams = 2,
        .streams = {SHOP_STREAM_ORDER, SHOP_STREAM_CATALOG},
    },
    [SHOP_WORKER_ML] = {
        .name = "ml",
        .group = "shopstream-ml",
        /* Purchases are the inventory's decisions (reserved, then released on a
         * cancellation), with their spend: a rejected or cancelled order never counts,
         * and the order topic would add nothing the outcomes do not carry. */
        .n_streams = 3,
        .streams = {SHOP_STREAM_BROWSE, SHOP_STREAM_CART, SHOP_STREAM_INVENTORY},
    },
    [SHOP_WORKER_NOTIFY] = {
        .name = "notify",
        .group = "shopstream-notify",
        /* The inventory's outcomes are the life cycle's verdicts: confirmed (reserved),
         * rejected, shipped (committed) and cancelled (released) as they happened; the
         * order topic's requests may still be refused. */
        .n_streams = 1,
        .streams = {SHOP_STREAM_INVENTORY},
    },
};

const struct shop_model shop_models[] = {
    {"products", SHOP_WORKER_PROJECTOR, 0,
     "catalog rows, views and purchases; products.stock is no longer written (migration 0006): stock is "
     "inventory_stock's, written by the inventory role"},
    {"carts", SHOP_WORKER_PROJECTOR, 0, "one row per user with a cart"},
    {"cart_items", SHOP_WORKER_PROJECTOR, 0, "cart lines"},
    {"orders", SHOP_WORKER_PROJECTOR, 0, "orders, their owner, status and rejection"},
    {"order_lines", SHOP_WORKER_PROJECTOR, 0, "order lines"},
    {"order_status_history", SHOP_WORKER_PROJECTOR, 0, "every applied status step"},
    {"refused_events", SHOP_WORKER_PROJECTOR, 1,
     "order events the life cycle or the ownership rule refused, with the reason (migration 0006)"},
    {"order_decisions_pending", SHOP_WORKER_PROJECTOR, 0,
     "inventory decisions read before their order's placement, applied when it arrives (migration 0006)"},
    {"order_gate", SHOP_WORKER_PROJECTOR, 0,
     "unlogged, empty between transactions: where a placement and its decision meet (migration 0006)"},
    {"user_activity", SHOP_WORKER_PROJECTOR, 0,
     "per user: views, searches, cart adds, placed orders, first and last seen (0009)"},
    {"user_spend", SHOP_WORKER_PROJECTOR, 0, "per user and currency: totals of the orders that reached paid (0009)"},
    {"product_daily", SHOP_WORKER_PROJECTOR, 0, "per product and UTC day: views and units sold (0009)"},
    {"product_daily_revenue", SHOP_WORKER_PROJECTOR, 0, "per product, UTC day and currency: revenue (0009)"},
    {"category_daily", SHOP_WORKER_PROJECTOR, 0,
     "revenue per current category, UTC day and currency; rows move with a category change (0009)"},
    {"funnel_daily", SHOP_WORKER_PROJECTOR, 0, "(stage, UTC day, user): viewed, carted, placed, paid (0009)"},
    {"inventory_stock", SHOP_WORKER_INVENTORY, 0,
     "on_hand, reserved, available and the catalog price per product: the only writer of stock"},
    {"inventory_orders", SHOP_WORKER_INVENTORY, 0, "each order's owner, status and one reservation outcome"},
    {"inventory_reservations", SHOP_WORKER_INVENTORY, 0, "the units a reserved order holds per product"},
    {"inventory_refused", SHOP_WORKER_INVENTORY, 1, "order events the inventory did not apply, with the reason"},
    {"inventory_outbox", SHOP_WORKER_INVENTORY, 0, "outcome events waiting for the relay to the inventory topic"},
    {"ml_lease", SHOP_WORKER_ML, 1, "which instance of the group owns the models, and its fencing epoch (0007)"},
    {"ml_checkpoints", SHOP_WORKER_ML, 1,
     "a consistent cut of the role's state with the offsets it covers (0007)"},
    {"ml_snapshots", SHOP_WORKER_ML, 0, "each model of a checkpoint in the library's serialised form (0007)"},
    {"ml_models", SHOP_WORKER_ML, 0, "the published model versions the reads name (0007)"},
    {"ml_user_recs", SHOP_WORKER_ML, 0, "each user's top list, refreshed on every fold-in (0007)"},
    {"ml_popular", SHOP_WORKER_ML, 0, "the popularity list for users the model does not know (0007)"},
    {"ml_similar", SHOP_WORKER_ML, 0, "items bought together with a product (0007)"},
    {"ml_user_segments", SHOP_WORKER_ML, 0, "each user's segment and features (0007)"},
    {"ml_segments", SHOP_WORKER_ML, 0, "the segments of the current model: size, centre, label (0007)"},
    {"ml_forecasts", SHOP_WORKER_ML, 0, "each product's daily demand forecast (0007)"},
    {"ml_outbox", SHOP_WORKER_ML, 0, "ml.* events waiting for the relay to the ml topic (0007)"},
    {"ml_outbox_mark", SHOP_WORKER_ML, 1, "the last outbox seq queued, so a replay queues nothing twice (0007)"},
    {"consumer_offsets", SHOP_WORKER_ROLE_NONE, 1, "each role's next offsets, committed with its effects"},
    {"applied_events", SHOP_WORKER_ROLE_NONE, 1, "dedup by event id, per role (applied_projectors id)"},
    {"applied_projectors", SHOP_WORKER_ROLE_NONE, 1, "a 4-byte id per consumer group, for applied_events"},
    {"applied_events_parts", SHOP_WORKER_ROLE_NONE, 0,
     "applied_events' partitions by receipt bucket, shared by every role; only the functions of migration 0004 "
     "write it, under its own lock"},
    {"applied_events_layout", SHOP_WORKER_ROLE_NONE, 0, "bucket_ms, written once by the migration"},
    {"schema_migrations", SHOP_WORKER_ROLE_NONE, 0, "applied migrations, written by shopstream-admin migrate"},
};

const size_t shop_models_count = sizeof(shop_models) / sizeof(shop_models[0]);

const struct shop_role_desc *shop_role_desc(enum shop_worker_role role)
{
    return (unsigned)role < SHOP_WORKER_ROLE_COUNT ? &roles[role] : NULL;
}

int shop_role_parse(const char *name, enum shop_worker_role *out)
{
    for (int i = 0; name != NULL && i < SHOP_WORKER_ROLE_COUNT; i++) {
        if (strcmp(name, roles[i].name) == 0) {
            *out = (enum shop_worker_role)i;
            return 0;
        }
    }
    return SHOP_EINVAL;
}

size_t shop_role_list(char *buf, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return 0;
    buf[0] = '\0';
    for (int i = 0; i < SHOP_WORKER_ROLE_COUNT; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i > 0 ? ", " : "", roles[i].name);
        if (w < 0 || (size_t)w >= n - len)
            return n - 1;
        len += (size_t)w;
    }
    return len;
}

const struct shop_model *shop_model_find(const char *table)
{
    for (size_t i = 0; i < shop_models_count; i++) {
        if (strcmp(shop_models[i].table, table) == 0)
            return &shop_models[i];
    }
    return NULL;
}
