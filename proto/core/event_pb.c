/* SPDX-License-Identifier: MIT
 * Protobuf input: an arena-backed ProtobufCAllocator, the worker's per-record
 * decode, and the edge's application/x-protobuf batch body. Pure. Unpacked
 * messages live in the caller's arena, so nothing calls free_unpacked.
 */
#include "proto/core/event_internal.h"

#include <string.h>

static void *arena_alloc(void *data, size_t size)
{
    return shop_arena_alloc(data, size);
}

static void arena_free(void *data, void *ptr)
{
    /* Freed when the arena is reset. */
}

void shop_event_pb_allocator(struct shop_arena *arena, ProtobufCAllocator *out)
{
    out->alloc = arena_alloc;
    out->free = arena_free;
    out->allocator_data = arena;
}

int shop_event_decode(const uint8_t *buf, size_t len, const struct shop_event_limits *lim,
                      struct shop_arena *arena, Shopstream__V1__Event **out, struct shop_err *err)
{
    ProtobufCAllocator alloc;
    shop_event_pb_allocator(arena, &alloc);
    Shopstream__V1__Event *ev = shopstream__v1__event__unpack(&alloc, len, buf);
    if (ev == NULL)
        return shop_err_set(err, SHOP_EBADMSG, "could not unpack event: %zu bytes", len);

    struct shop_problem p = {.index = -1};
    if (shop_event_validate(ev, lim, &p) < 0)
        return shop_err_set(err, SHOP_EBADMSG, "invalid event: field %s: %s", p.field, p.detail);
    *out = ev;
    return 0;
}

/* Drops the unknown fields of m and of every message inside it. protobuf-c keeps them and
 * pack() writes them out again, so a client could smuggle bytes (a field a later contract
 * version gives the edge to fill) into the published record. Their storage is the arena's.
 * The schema has no recursive messages, so the depth is the schema's. */
static void drop_unknown(ProtobufCMessage *m)
{
    m->n_unknown_fields = 0;
    m->unknown_fields = NULL;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;   /* members read by memcpy: offsets, no casts */
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage **v;
            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            memcpy(&v, base + f->offset, sizeof(v));
            for (size_t k = 0; k < n; k++)
                if (v[k] != NULL)
                    drop_unknown(v[k]);
            continue;
        }
        /* A oneof's members share one slot: only the set case's pointer is valid. */
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t set;
            memcpy(&set, base + f->quantifier_offset, sizeof(set));
            if (set != f->id)
                continue;
        }
        ProtobufCMessage *sub;
        memcpy(&sub, base + f->offset, sizeof(sub));
        if (sub != NULL)
            drop_unknown(sub);
    }
}

int shop_event_batch_from_pb(const uint8_t *body, size_t len, const struct shop_event_limits *lim,
                             struct shop_arena *arena, Shopstream__V1__Event ***events,
                             size_t *n_events, struct shop_problem *p)
{
    struct shop_event_limits def = shop_event_limits_default();
    if (lim == NULL)
        lim = &def;
    p->index = -1;
    ProtobufCAllocator alloc;
    shop_event_pb_allocator(arena, &alloc);
    Shopstream__V1__EventBatch *b = shopstream__v1__event_batch__unpack(&alloc, len, body);
    if (b == NULL)
        return shop__problem(p, "", "could not unpack EventBatch: %zu bytes", len);
    if (b->n_events == 0)
        return shop__problem(p, "events", "must hold at least one event");
    if (b->n_events > lim->batch_max)
        return shop__problem(p, "events", "must hold at most %zu events", lim->batch_max);
    for (size_t i = 0; i < b->n_events; i++)
        drop_unknown(&b->events[i]->base);
    *events = b->events;
    *n_events = b->n_events;
    return 0;
}
