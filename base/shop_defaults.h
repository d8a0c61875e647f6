/* SPDX-License-Identifier: MIT
 * Connection defaults shared by every program (edge, worker, tools/admin, bench): one
 * place, so a program run without settings talks to the same local stack as the
 * others (deploy/local: Kafka on 19092). docs/configuration.md lists them. Pure.
 */
#ifndef SHOP_DEFAULTS_H
#define SHOP_DEFAULTS_H

/** SHOPSTREAM_KAFKA_BROKERS when unset (the edge requires it set). */
#define SHOP_DEFAULT_KAFKA_BROKERS "127.0.0.1:19092"
/** SHOPSTREAM_TOPIC_PREFIX when unset. */
#define SHOP_DEFAULT_TOPIC_PREFIX "shopstream."

#endif
