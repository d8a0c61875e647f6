/* SPDX-License-Identifier: MIT
 * The pipeline benchmark's events: Online Retail shoppers (tools/replay/replay_gen)
 * cut into requests of up to `batch` consecutive events of one shopper, kept as
 * JSON text with holes for what must differ every time a request is posted again:
 * the event id, the order id and the user id (one "pass" over the pool renames the
 * shoppers and their orders, so the projector applies every event instead of
 * deduplicating it). As the replay is, requests are posted with the service role for
 * the user each event names.
 * Rendering a request is a copy and a few hex digits: the client stays cheap
 * beside the processes it measures. Pure (no I/O).
 */
#ifndef SHOP_PIPE_POOL_H
#define SHOP_PIPE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "tools/replay/replay_gen.h"

struct pipe_ev {
    char *json;         /* compact JSON object, owned */
    size_t len;
    long id_at;         /* offset of the 12 hex digits ending the id */
    long pass_at;       /* offset of the 4 hex digits ending order_id, or -1 */
    long user_at;       /* offset of the 4 hex digits ending user_id */
};

struct pipe_req {
    uint32_t user, first, n;    /* shopper index, events [first, first + n) */
};

struct pipe_pool {
    struct pipe_ev *evs;
    size_t n_evs;
    struct pipe_req *reqs;      /* interleaved: every shopper's first request, then every second... */
    size_t n_reqs;
    char (*users)[24];          /* the replay's user ids */
    size_t n_users;
    uint32_t nonce;             /* first 8 hex digits of every event id of the run */
};

/** Whether the edge would take this event (JSON text) from user: the replay keeps some
 *  real orders the edge refuses (quantities above its bound), which would fail a whole batch. */
typedef int (*pipe_pool_keep_fn)(const char *event_json, const char *user, void *ud);

/** Takes the shoppers' events of plan (the catalog is left out) that keep accepts (all when
 *  NULL), at most max_per_user of each shopper, until want events are in; cuts them into
 *  requests of at most batch events. Returns the number of events taken. */
size_t pipe_pool_build(struct pipe_pool *p, const struct replay_plan *plan, size_t want, size_t batch,
                       size_t max_per_user, uint32_t nonce, pipe_pool_keep_fn keep, void *keep_ud);
void pipe_pool_free(struct pipe_pool *p);

/** The user id (and JWT subject) of shopper u in pass `pass`: "<user>-p<pass, 4 hex>". */
void pipe_pool_subject(const struct pipe_pool *p, uint32_t u, uint32_t pass, char out[40]);

/** Canonical UUID for the run's event number seq: "<nonce>-0000-4000-8000-<seq, 12 hex>". */
void pipe_event_id(uint32_t nonce, uint64_t seq, char out[37]);

/** Renders {"events":[...]} for request r in pass `pass`, numbering its events from *seq on
 *  (advanced). With probe_product non-NULL, appends {"type":"product.viewed",...} for that
 *  product: its row in `products` shows when the request has been projected. The buffer
 *  grows as needed. Returns the body length. */
size_t pipe_pool_render(const struct pipe_pool *p, const struct pipe_req *r, uint32_t pass, uint64_t *seq,
                        const char *probe_product, char **buf, size_t *cap);

#endif
