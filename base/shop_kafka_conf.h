/* SPDX-License-Identifier: MIT
 * The shell side of the Kafka properties pass-through (base/shop_kafka_props.h):
 * reads SHOPSTREAM_KAFKA_PROPERTIES_FILE and SHOPSTREAM_KAFKA_PROPERTIES, checks
 * every property with librdkafka at start, and applies them to a client's
 * rd_kafka_conf_t. Used by the edge, the workers and the tools alike.
 */
#ifndef SHOP_KAFKA_CONF_H
#define SHOP_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "base/shop_cfg.h"
#include "base/shop_err.h"
#include "base/shop_kafka_props.h"

/** Fills props from the file named by SHOPSTREAM_KAFKA_PROPERTIES_FILE (read here),
 *  then SHOPSTREAM_KAFKA_PROPERTIES, read through get; refuses the names in owned;
 *  then checks every property with rd_kafka_conf_set() and makes (and destroys) a
 *  client without brokers from them, so what librdkafka only checks when a client is
 *  made (certificate files, SASL mechanisms) fails at start as well. Every problem
 *  goes to errs, secrets' values redacted. Returns 0 or SHOP_ECONFIG. */
int shop_kafka_props_load(struct shop_kafka_props *props, shop_getenv_fn get,
                          const struct shop_kafka_owned *owned, struct shop_cfg_errs *errs);

/** Sets every property of props (may be NULL: nothing) on conf, after the client's own
 *  settings, so that the operator's win where the product allows them. Returns 0 or
 *  SHOP_ECONFIG with err naming the property. */
int shop_kafka_conf_apply(rd_kafka_conf_t *conf, const struct shop_kafka_props *props, struct shop_err *err);

#endif
