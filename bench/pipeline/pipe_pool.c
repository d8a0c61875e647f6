/* SPDX-License-Identifier: MIT
 * Request templates of shopstream-bench-pipeline. Pure. */
#include "bench/pipeline/pipe_pool.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

#define ID_HOLE "############"
#define PASS_HOLE "~~~~"
#define USER_HOLE "^^^^"

static void hex(char *out, uint64_t v, int digits)
{
    static const char d[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        out[i] = d[v & 15];
}

void pipe_event_id(uint32_t nonce, uint64_t seq, char out[37])
{
    memcpy(out, "00000000-0000-4000-8000-000000000000", 37);
    hex(out, nonce, 8);
    hex(out + 24, seq, 12);
}

void pipe_pool_subject(const struct pipe_pool *p, uint32_t u, uint32_t pass, char out[40])
{
    snprintf(out, 40, "%s-p%04x", p->users[u], pass & 0xffffu);
}

/* One event as a template: a hole for the id's last 12 digits, one for the order id's pass,
 * one for the user id's pass (pipe_pool_subject). */
static int template_of(json_t *ev, uint32_t nonce, const char *user, struct pipe_ev *out)
{
    char id[37], uid[40];
    pipe_event_id(nonce, 0, id);
    memcpy(id + 24, ID_HOLE, 12);
    json_object_set_new(ev, "id", json_string(id));
    snprintf(uid, sizeof(uid), "%.24s-p" USER_HOLE, user);
    json_object_set_new(ev, "user_id", json_string(uid));
    const char *oid = json_string_value(json_object_get(ev, "order_id"));
    if (oid != NULL) {
        char buf[96];
        snprintf(buf, sizeof(buf), "%.58s-" PASS_HOLE, oid);
        json_object_set_new(ev, "order_id", json_string(buf));
    }
    out->json = json_dumps(ev, JSON_COMPACT);
    if (out->json == NULL)
        return -1;
    out->len = strlen(out->json);
    char *h = strstr(out->json, ID_HOLE);
    out->id_at = h != NULL ? h - out->json : -1;
    h = oid != NULL ? strstr(out->json, "-" PASS_HOLE "\"") : NULL;
    out->pass_at = h != NULL ? h + 1 - out->json : -1;
    h = strstr(out->json, "-p" USER_HOLE "\"");
    out->user_at = h != NULL ? h + 2 - out->json : -1;
    return out->id_at >= 0 && out->user_at >= 0 && (oid == NULL || out->pass_at >= 0) ? 0 : -1;
}

struct rank {
    uint32_t rank, idx;
};

static int cmp_rank(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->rank != y->rank)
        return (x->rank > y->rank) - (x->rank < y->rank);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

size_t pipe_pool_build(struct pipe_pool *p, const struct replay_plan *plan, size_t want, size_t batch,
                       size_t max_per_user, uint32_t nonce, pipe_pool_keep_fn keep, void *keep_ud)
{
    *p = (struct pipe_pool){.nonce = nonce};
    p->evs = shop_xcalloc(want + 1, sizeof(*p->evs));
    p->users = shop_xcalloc(plan->n_reqs + 1, sizeof(*p->users));
    uint32_t *ev_user = shop_xcalloc(want + 1, sizeof(*ev_user));
    size_t user_events = 0;
    /* The plan holds each user's requests one after another, in time order. */
    for (size_t r = 0; r < plan->n_reqs && p->n_evs < want; r++) {
        const struct replay_request *req = &plan->reqs[r];
        if (req->admin)
            continue;
        if (p->n_users == 0 || strcmp(p->users[p->n_users - 1], req->user_id) != 0) {
            snprintf(p->users[p->n_users++], sizeof(p->users[0]), "%s", req->user_id);
            user_events = 0;
        }
        json_t *root = json_loads(req->body, 0, NULL), *ev;
        size_t i;
        json_array_foreach(json_object_get(root, "events"), i, ev) {
            if (p->n_evs == want || user_events == max_per_user)
                break;
            if (template_of(ev, nonce, req->user_id, &p->evs[p->n_evs]) != 0 ||
                (keep != NULL && !keep(p->evs[p->n_evs].json, req->user_id, keep_ud))) {
                free(p->evs[p->n_evs].json);
                continue;
            }
            ev_user[p->n_evs++] = (uint32_t)(p->n_users - 1);
            user_events++;
        }
        json_decref(root);
    }
    /* Requests: runs of one user's consecutive events, at most batch long. */
    p->reqs = shop_xcalloc(p->n_evs + 1, sizeof(*p->reqs));
    struct rank *rk = shop_xcalloc(p->n_evs + 1, sizeof(*rk));
    for (size_t e = 0; e < p->n_evs; e++) {
        struct pipe_req *last = p->n_reqs > 0 ? &p->reqs[p->n_reqs - 1] : NULL;
        if (last != NULL && last->user == ev_user[e] && last->n < batch) {
            last->n++;
            continue;
        }
        uint32_t nth = last != NULL && last->user == ev_user[e] ? rk[p->n_reqs - 1].rank + 1 : 0;
        rk[p->n_reqs] = (struct rank){.rank = nth, .idx = (uint32_t)p->n_reqs};
        p->reqs[p->n_reqs++] = (struct pipe_req){.user = ev_user[e], .first = (uint32_t)e, .n = 1};
    }
    free(ev_user);
    /* Interleave the users, so that one user's next request is far behind its last. */
    qsort(rk, p->n_reqs, sizeof(*rk), cmp_rank);
    struct pipe_req *sorted = shop_xcalloc(p->n_reqs + 1, sizeof(*sorted));
    for (size_t i = 0; i < p->n_reqs; i++)
        sorted[i] = p->reqs[rk[i].idx];
    free(p->reqs);
    free(rk);
    p->reqs = sorted;
    return p->n_evs;
}

void pipe_pool_free(struct pipe_pool *p)
{
    for (size_t i = 0; i < p->n_evs; i++)
        free(p->evs[i].json);
    free(p->evs);
    free(p->reqs);
    free(p->users);
    *p = (struct pipe_pool){0};
}

static void reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    *buf = shop_xrealloc(*buf, c);
    *cap = c;
}

size_t pipe_pool_render(const struct pipe_pool *p, const struct pipe_req *r, uint32_t pass, uint64_t *seq,
                        const char *probe_product, char **buf, size_t *cap)
{
    size_t need = 16 + r->n;
    for (uint32_t i = 0; i < r->n; i++)
        need += p->evs[r->first + i].len;
    if (probe_product != NULL)
        need += 200 + strlen(probe_product);
    reserve(buf, cap, need);
    char *b = *buf;
    size_t n = 0;
    memcpy(b, "{\"events\":[", 11);
    n = 11;
    for (uint32_t i = 0; i < r->n; i++) {
        const struct pipe_ev *ev = &p->evs[r->first + i];
        if (i > 0)
            b[n++] = ',';
        memcpy(b + n, ev->json, ev->len);
        hex(b + n + ev->id_at, (*seq)++, 12);
        if (ev->pass_at >= 0)
            hex(b + n + ev->pass_at, pass, 4);
        hex(b + n + ev->user_at, pass, 4);
        n += ev->len;
    }
    if (probe_product != NULL) {
        char id[37], user[40];
        pipe_event_id(p->nonce, (*seq)++, id);
        pipe_pool_subject(p, r->user, pass, user);
        n += (size_t)snprintf(b + n, *cap - n,
                              "%s{\"type\":\"product.viewed\",\"id\":\"%s\",\"product_id\":\"%s\","
                              "\"user_id\":\"%s\"}",
                              r->n > 0 ? "," : "", id, probe_product, user);
    }
    memcpy(b + n, "]}", 3);
    return n + 2;
}
