/* SPDX-License-Identifier: MIT
 * THE stream list and topic names: every Kafka topic of the backbone is named
 * here, and nowhere else (edge, workers, tools/admin, bench, tests). A stream's
 * topic is "<prefix><stream>.v1"; dead letters go to "<prefix>dlq.v1". Pure.
 */
#ifndef SHOP_EVENT_TOPIC_H
#define SHOP_EVENT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/core/shop_event.h"

/** Room for any topic name built here (Kafka allows 249 characters). */
#define SHOP_TOPIC_NAME_MAX 256
/** The longest SHOPSTREAM_TOPIC_PREFIX: every name built from it fits SHOP_TOPIC_NAME_MAX. */
#define SHOP_TOPIC_PREFIX_MAX 200

/** Writes the topic of stream s, "<prefix><stream>.v1". Returns its length, or -1 (buf
 *  then "") when s is no stream or the name does not fit in n bytes. */
int shop_topic_name(char *buf, size_t n, const char *prefix, enum shop_stream s);

/** Writes the dead-letter topic, "<prefix>dlq.v1"; returns as shop_topic_name. */
int shop_topic_dlq_name(char *buf, size_t n, const char *prefix);

/** A usable SHOPSTREAM_TOPIC_PREFIX: at most SHOP_TOPIC_PREFIX_MAX bytes of
 *  [A-Za-z0-9._-] (the empty prefix is fine). */
bool shop_topic_prefix_ok(const char *prefix);

#endif
