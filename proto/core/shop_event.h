/* SPDX-License-Identifier: MIT
 * The v1 event model: the protobuf-c message Shopstream__V1__Event is the
 * in-memory event, and this module names, routes, validates and decodes it.
 * Pure: no I/O, no logging, no clock (times are passed in).
 */
#ifndef SHOP_EVENT_H
#define SHOP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "shopstream/v1/events.pb-c.h"

/** One Kafka topic per stream; browse/cart keyed by user id, order by order id, catalog
 *  by product id, inventory (the inventory worker's outcomes) by order id (low stock by
 *  product id). */
enum shop_stream {
    SHOP_STREAM_BROWSE = 0,
    SHOP_STREAM_CART,
    SHOP_STREAM_ORDER,
    SHOP_STREAM_CATALOG,
    SHOP_STREAM_INVENTORY,
    SHOP_STREAM_ML,          /* the ML worker's segment changes and model publications */
    SHOP_STREAM_COUNT
};

/** The first thing wrong with a request, for a JSON problem body (RFC 9457).
 *  index is the event's position in the batch, or -1 for the batch itself;
 *  field is a dotted path inside that event ("quantity", "lines[2].unit_price.currency"). */
struct shop_problem {
    int index;
    char field[96];
    char detail[192];
};

/** Limits that validation enforces; see shop_event_limits_default(). */
struct shop_event_limits {
    size_t batch_max;            /* events per request */
    int64_t max_future_skew_ms;  /* occurred_at may be at most this far after received_at */
    int64_t min_occurred_at_ms;  /* anything earlier is rejected */
    int32_t quantity_max;
    int64_t amount_minor_max;
    size_t order_lines_max;
    int64_t stock_max;           /* catalog stock: 0..stock_max units */
    int64_t stock_delta_max;     /* stock_adjusted delta: 1..stock_delta_max in magnitude */
};

struct shop_event_limits shop_event_limits_default(void);

/** "cart.item_added" for a payload case; NULL for NOT_SET or unknown. */
const char *shop_event_type_name(Shopstream__V1__Event__PayloadCase pc);
/** Inverse of shop_event_type_name; returns 0 or SHOP_EINVAL. */
int shop_event_type_parse(const char *name, Shopstream__V1__Event__PayloadCase *out);

/** Stream (topic) an event belongs to. The payload must be set.
 *  (SHOP_STREAM_COUNT when it is not.) */
enum shop_stream shop_event_stream(const Shopstream__V1__Event *ev);
/** "browse", "cart", "order", "catalog", "inventory". (NULL for anything else.) */
const char *shop_stream_name(enum shop_stream s);
/** Kafka message key: order_id for order and inventory outcome events, product_id for
 *  catalog and low-stock events, else user_id. Borrowed from ev. */
const char *shop_event_key(const Shopstream__V1__Event *ev);
/** The order an order or inventory event is about ("" for other events and low stock). */
const char *shop_event_order_id(const Shopstream__V1__Event *ev);

/** Checks every field's presence, range, length and format, including the envelope
 *  (id is a canonical UUID, user_id set, type matches payload, occurred_at within limits
 *  relative to received_at_ms). Returns 0, or SHOP_EINVAL with p filled. */
/*  lim may be NULL for shop_event_limits_default(). p->field and p->detail are filled;
 *  p->index is left as the caller set it (the event's batch position). Rules: docs/events.md. */
int shop_event_validate(const Shopstream__V1__Event *ev, const struct shop_event_limits *lim,
                        struct shop_problem *p);

/** A ProtobufCAllocator that allocates from arena and frees nothing, so unpacked
 *  messages live until the arena is reset and need no free_unpacked. */
void shop_event_pb_allocator(struct shop_arena *arena, ProtobufCAllocator *out);

/** Unpacks and validates one Kafka record value (worker side). On success *out lives
 *  in arena. SHOP_EBADMSG if undecodable or invalid; err says why (for the dead-letter
 *  topic). */
/*  lim may be NULL for the defaults. */
int shop_event_decode(const uint8_t *buf, size_t len, const struct shop_event_limits *lim,
                      struct shop_arena *arena, Shopstream__V1__Event **out, struct shop_err *err);

/** Parses the JSON body {"events":[...]} of POST /v1/events into events allocated in
 *  arena. Checks syntax, JSON types, unknown and missing fields, and the batch size;
 *  does NOT stamp or range-check (see shop_event_stamp + shop_event_validate).
 *  An event's "user_id" is kept only to be compared with the token subject later.
 *  Returns 0 or SHOP_EINVAL with p filled. */
int shop_event_batch_from_json(const char *body, size_t len, const struct shop_event_limits *lim,
                               struct shop_arena *arena, Shopstream__V1__Event ***events,
                               size_t *n_events, struct shop_problem *p);

/** Same for an application/x-protobuf EventBatch body. Fields this schema does not know
 *  are dropped from every event (and every message inside it), never republished. */
int shop_event_batch_from_pb(const uint8_t *body, size_t len, const struct shop_event_limits *lim,
                             struct shop_arena *arena, Shopstream__V1__Event ***events,
                             size_t *n_events, struct shop_problem *p);

/** Fills what the edge owns: user_id from the token subject (SHOP_EFORBIDDEN with p when
 *  the body named another user), a fresh id when absent (uuid_text is a caller-made
 *  UUID v4, copied into arena), type from the payload when absent, received_at_ms,
 *  occurred_at_ms = received_at_ms when absent, and source. */
int shop_event_stamp(Shopstream__V1__Event *ev, int index, const char *subject, const char *uuid_text,
                     int64_t received_at_ms, const char *source, struct shop_arena *arena,
                     struct shop_problem *p);

/** The position of the earliest event whose id an earlier event of the batch already
 *  has (the second occurrence), or -1 when all n ids differ. O(n log n); scratch space
 *  comes from arena. Run after stamping, when every event has its id. */
ptrdiff_t shop_event_batch_duplicate(Shopstream__V1__Event *const *events, size_t n,
                                     struct shop_arena *arena);

/** True when s is a canonical lower-case RFC 4122 UUID text (36 chars). */
bool shop_uuid_is_canonical(const char *s);

/** One Kafka record header. */
struct shop_header {
    const char *name;
    const char *value;
};

#define SHOP_CE_HEADERS_MAX 9

/** CloudEvents Kafka binding (binary mode) headers for ev: ce_specversion, ce_id,
 *  ce_type, ce_source, ce_time (RFC 3339 UTC from occurred_at_ms), ce_subject (the key),
 *  content-type application/x-protobuf, plus traceparent when it is a valid W3C value.
 *  Strings live in arena. Returns the number of headers written to out. */
size_t shop_event_ce_headers(const Shopstream__V1__Event *ev, const char *traceparent,
                             struct shop_arena *arena, struct shop_header out[SHOP_CE_HEADERS_MAX]);

/** True when s is a valid W3C traceparent (version 00, non-zero ids). */
bool shop_traceparent_is_valid(const char *s);

/** Writes the JSON problem body for p and status into arena; returns it NUL-terminated. */
char *shop_problem_json(const struct shop_problem *p, int status, const char *title,
                        struct shop_arena *arena);

#endif
