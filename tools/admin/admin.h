/* SPDX-License-Identifier: MIT
 * shopstream-admin subcommands. Shell. */
#ifndef SHOP_ADMIN_H
#define SHOP_ADMIN_H

#include <stdint.h>

#include "base/shop_err.h"
#include "workers/core/roles.h"

#define SHOP_XSTR(x) #x
#define SHOP_STR(x) SHOP_XSTR(x)

struct rd_kafka_s;
struct shop_kafka_props;

/** SHOPSTREAM_KAFKA_PROPERTIES[_FILE] as main loaded them, applied to every client; NULL: none. */
extern const struct shop_kafka_props *admin_kafka_props;

/** A plain client for admin requests and metadata; NULL with err set on failure. */
struct rd_kafka_s *admin_kafka_client(const char *brokers, struct shop_err *err);

/** Applies pending migrations from dir to the database at dsn. */
int admin_migrate(const char *dsn, const char *dir, struct shop_err *err);

/** Creates every stream's topic and the dead-letter topic (proto/core/event_topic.c); existing ones are
 *  left as they are (reported). */
int admin_create_topics(const char *brokers, const char *prefix, int partitions, int replication,
                        struct shop_err *err);

/** Prints, per stream partition, the broker's end offset, the group's offset committed in
 *  PostgreSQL, and the lag; *total is the sum. quiet prints only the total. */
int admin_lag(const char *brokers, const char *prefix, const char *dsn, const char *group,
              const struct shop_role_desc *role, int quiet, int64_t *total, struct shop_err *err);

#endif
