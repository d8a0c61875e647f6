/* SPDX-License-Identifier: MIT
 * What a read waits for (edge/core/edge_fresh.h). Pure. */
#include "edge/core/edge_fresh.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

unsigned shop_edge_read_roles(enum shop_edge_read kind)
{
    switch (kind) {
    case SHOP_READ_READY:
        return 0;
    case SHOP_READ_PRODUCT:   /* the catalog row and views (projector), the stock (inventory) */
        return 1u << SHOP_WORKER_PROJECTOR | 1u << SHOP_WORKER_INVENTORY;
    case SHOP_READ_RECS:      /* the lists, filtered by the inventory's stock */
    case SHOP_READ_SIMILAR:
    case SHOP_READ_FORECAST:
        return 1u << SHOP_WORKER_ML | 1u << SHOP_WORKER_INVENTORY;
    case SHOP_READ_SEGMENT:
    case SHOP_READ_SEGMENTS:
        return 1u << SHOP_WORKER_ML;
    default:                  /* carts, orders and every other projector read model */
        return 1u << SHOP_WORKER_PROJECTOR;
    }
}

static int consumes(const struct shop_role_desc *d, int stream)
{
    for (int i = 0; i < d->n_streams; i++)
        if ((int)d->streams[i] == stream)
            return 1;
    return 0;
}

size_t shop_fresh_needs(const struct shop_position *p, unsigned roles, struct shop_fresh_need *out,
                        size_t cap)
{
    size_t n = 0;
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        if ((roles & 1u << r) == 0)
            continue;
        const struct shop_role_desc *d = shop_role_desc((enum shop_worker_role)r);
        for (size_t i = 0; i < p->n; i++) {
            if (!consumes(d, p->e[i].stream))
                continue;
            if (n < cap)
                out[n] = (struct shop_fresh_need){r, p->e[i].stream, p->e[i].partition, p->e[i].offset};
            n++;
        }
    }
    return n;
}

size_t shop_fresh_behind(const struct shop_fresh_need *needs, size_t n, shop_fresh_next_fn *next,
                         void *ctx)
{
    size_t behind = 0;
    for (size_t i = 0; i < n; i++)
        if (next(ctx, needs[i].role, needs[i].stream, needs[i].partition) <= needs[i].offset)
            behind++;
    return behind;
}

/* One snapshot (the caller's transaction): a need without a row, or whose row has not
 * passed it, is behind. */
const char shop_fresh_sql[] =
    "select w.g, w.t, w.p::text from unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) "
    "as w(g, t, p, o) where not exists (select 1 from consumer_offsets c where "
    "c.consumer_group = w.g and c.topic = w.t and c.partition = w.p and c.next_offset > w.o) "
    "order by w.g, w.t, w.p";

/* "{"a","b"}": the names hold no quote nor backslash (the configuration checks them). */
static const char *text_array(struct shop_arena *a, size_t n, const char *(*name)(const void *, size_t),
                              const void *ctx)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += strlen(name(ctx, i)) + 3;
    char *buf = shop_arena_alloc(a, cap), *o = buf;
    *o++ = '{';
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s\"%s\"", i > 0 ? "," : "", name(ctx, i));
    *o++ = '}';
    *o = '\0';
    return buf;
}

struct names {
    const struct shop_fresh_need *needs;
    const char *const *groups;
    const char (*topics)[SHOP_TOPIC_NAME_MAX];
};

static const char *group_of(const void *ctx, size_t i)
{
    const struct names *c = ctx;
    return c->groups[c->needs[i].role];
}

static const char *topic_of(const void *ctx, size_t i)
{
    const struct names *c = ctx;
    return c->topics[c->needs[i].stream];
}

void shop_fresh_params(const struct shop_fresh_need *needs, size_t n, const char *const *groups,
                       const char (*topics)[SHOP_TOPIC_NAME_MAX], struct shop_arena *arena,
                       const char *params[4])
{
    struct names c = {needs, groups, topics};
    params[0] = text_array(arena, n, group_of, &c);
    params[1] = text_array(arena, n, topic_of, &c);
    char *parts = shop_arena_alloc(arena, n * 12 + 3), *po = parts;
    char *offs = shop_arena_alloc(arena, n * 21 + 3), *oo = offs;
    *po++ = '{';
    *oo++ = '{';
    for (size_t i = 0; i < n; i++) {
        po += sprintf(po, "%s%" PRId32, i > 0 ? "," : "", needs[i].partition);
        oo += sprintf(oo, "%s%" PRId64, i > 0 ? "," : "", needs[i].offset);
    }
    strcpy(po, "}");
    strcpy(oo, "}");
    params[2] = parts;
    params[3] = offs;
}
