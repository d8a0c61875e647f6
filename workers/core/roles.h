/* SPDX-License-Identifier: MIT
 * The worker's roles and the model registry. A role is a row: its name (--role),
 * the streams it consumes (its subscription), its default consumer group and the
 * tables it writes. Every table of the schema has exactly one writer, recorded in
 * shop_models; a role that needs another role's facts reads them or consumes that
 * role's output topic. The shell side of a role (its hooks) lives in
 * workers/roles/<role>.c. Pure.
 */
#ifndef SHOP_WORKER_ROLES_H
#define SHOP_WORKER_ROLES_H

#include <stddef.h>

#include "proto/core/shop_event.h"

/** What a worker process does with the events it consumes. */
enum shop_worker_role {
    SHOP_WORKER_PROJECTOR = 0,
    SHOP_WORKER_INVENTORY,   /* the only writer of stock (docs/inventory.md) */
    SHOP_WORKER_ML,          /* segmentation, recommendations, forecasts (docs/ml.md) */
    SHOP_WORKER_NOTIFY,      /* order status webhooks (docs/webhooks.md); writes no table */
    SHOP_WORKER_ROLE_COUNT
};

/** A table's writer that is no worker role (tools/admin migrate owns schema_migrations). */
#define SHOP_WORKER_ROLE_NONE SHOP_WORKER_ROLE_COUNT

struct shop_role_desc {
    const char *name;                          /* --role */
    const char *group;                         /* default SHOPSTREAM_KAFKA_GROUP_ID */
    int n_streams;
    enum shop_stream streams[SHOP_STREAM_COUNT];   /* consumed, in subscription order */
};

/** One table of the schema and its one writer. */
struct shop_model {
    const char *table;
    enum shop_worker_role owner;               /* SHOP_WORKER_ROLE_NONE: no worker role */
    /* Rows are keyed by consumer group: every role writes only its own group's rows. */
    int per_group;
    const char *note;                          /* what it holds; who takes it over next */
};

/** The role's row; NULL for anything but a role. */
const struct shop_role_desc *shop_role_desc(enum shop_worker_role role);

/** The role named name (from --role); 0, or SHOP_EINVAL for an unknown name. */
int shop_role_parse(const char *name, enum shop_worker_role *out);

/** "projector, inventory": every role's name, for error messages. Returns the length
 *  written (truncated to n - 1). */
size_t shop_role_list(char *buf, size_t n);

/** Every table of the schema, and the number of rows. */
extern const struct shop_model shop_models[];
extern const size_t shop_models_count;

/** The registry row of table; NULL for a table that is not registered. */
const struct shop_model *shop_model_find(const char *table);

#endif
