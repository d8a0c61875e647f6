/* SPDX-License-Identifier: MIT
 * The stream list and the topic-name format, one owner for both. Pure.
 */
#include "proto/core/event_topic.h"

#include <stdio.h>
#include <string.h>

/* Indexed by enum shop_stream: a stream added to the enum gets its name here, and
 * test_event_topic checks that none is missing. */
static const char *const stream_names[SHOP_STREAM_COUNT] = {
    [SHOP_STREAM_BROWSE] = "browse",
    [SHOP_STREAM_CART] = "cart",
    [SHOP_STREAM_ORDER] = "order",
    [SHOP_STREAM_CATALOG] = "catalog",
    [SHOP_STREAM_INVENTORY] = "inventory",
    [SHOP_STREAM_ML] = "ml",
};

#define TOPIC_VERSION ".v1"
#define DLQ_STREAM "dlq"

const char *shop_stream_name(enum shop_stream s)
{
    if ((int)s < 0 || s >= SHOP_STREAM_COUNT)
        return NULL;
    return stream_names[s];
}

static int build(char *buf, size_t n, const char *prefix, const char *stream)
{
    if (n > 0)
        buf[0] = '\0';
    if (stream == NULL || prefix == NULL)
        return -1;
    int len = snprintf(buf, n, "%s%s" TOPIC_VERSION, prefix, stream);
    if (len < 0 || (size_t)len >= n) {
        if (n > 0)
            buf[0] = '\0';
        return -1;
    }
    return len;
}

int shop_topic_name(char *buf, size_t n, const char *prefix, enum shop_stream s)
{
    return build(buf, n, prefix, shop_stream_name(s));
}

int shop_topic_dlq_name(char *buf, size_t n, const char *prefix)
{
    return build(buf, n, prefix, DLQ_STREAM);
}

bool shop_topic_prefix_ok(const char *prefix)
{
    size_t len = strlen(prefix);
    return len <= SHOP_TOPIC_PREFIX_MAX &&
           strspn(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}
