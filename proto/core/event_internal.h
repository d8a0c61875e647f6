/* SPDX-License-Identifier: MIT
 * Helpers shared by the event core's modules; not part of the public API.
 * Pure. Symbols use the shop__ prefix (libuv's uv__) to mark them internal.
 */
#ifndef SHOP_EVENT_INTERNAL_H
#define SHOP_EVENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/core/shop_event.h"

/** One row of the type table: wire name, payload case, stream and payload descriptor. */
struct shop__type_info {
    Shopstream__V1__Event__PayloadCase pc;
    const char *name;
    enum shop_stream stream;
    const ProtobufCMessageDescriptor *desc;
};

/** Row for pc, or NULL for NOT_SET and unknown cases. */
const struct shop__type_info *shop__type_info(Shopstream__V1__Event__PayloadCase pc);

/** The payload message of ev, or NULL when unset. */
const ProtobufCMessage *shop__event_payload(const Shopstream__V1__Event *ev);

/** Fills p->field and p->detail (leaving p->index alone) and returns SHOP_EINVAL.
 *  The detail is trimmed to whole UTF-8 sequences so it always embeds in JSON. */
int shop__problem(struct shop_problem *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Like shop__problem with field = prefix + name ("lines[2]." + "quantity"). */
int shop__problem_at(struct shop_problem *p, const char *prefix, const char *name,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** True when s[0..len) is well-formed UTF-8 (event_text.c) (no overlongs, surrogates or > U+10FFFF). */
bool shop__utf8_is_valid(const char *s, size_t len);

/** Sum of quantity * unit_price.amount_minor over the lines of op. Returns 0, or
 *  SHOP_EINVAL when a line has no price, currencies differ or the sum overflows. */
int shop__order_sum(const Shopstream__V1__OrderPlaced *op, int64_t *sum);

/** s, or "" when NULL (hand-built messages may leave strings NULL). */
static inline const char *shop__str(const char *s)
{
    return s != NULL ? s : "";
}

#endif
