/* SPDX-License-Identifier: MIT
 * POST /v1/events: content type, size, token, decode, authorise, stamp,
 * validate (edge/core/edge_authz.c), check order ownership against the read
 * model when a batch needs it (owners.c), then produce every event and answer
 * only when the broker has acknowledged all of them. Loop thread. Invariant: 202 is sent only after a
 * successful delivery report for every event of the request; nothing is
 * produced for a request rejected before the produce step.
 */
#include "edge/edge.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "base/shop_arena.h"
#include "base/shop_json_alloc.h"
#include "base/shop_log.h"
#include "edge/core/edge_prescan.h"

enum body_kind { BODY_JSON, BODY_PB, BODY_OTHER };

/* What librdkafka holds per record beside its copy of the value: the message, its key
 * and the ce_* headers. An estimate on the high side; the values are counted exactly. */
#define EDGE_RECORD_OVERHEAD 512

struct ingest;

/* librdkafka's per-message opaque; lives in the ingest's arena. */
struct ingest_msg {
    struct ingest *ing;
    int stream;
    size_t index;                   /* position in the batch */
};

_Static_assert(SHOP_KAFKA_ERR_MESSAGE_TOO_LARGE == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE &&
                   SHOP_KAFKA_ERR_RECORD_LIST_TOO_LARGE == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
               "edge_batch.h's size error codes are librdkafka's");

struct ingest {
    struct edge_thread *t;
    h2o_req_t *req;                 /* NULL once the client went away */
    struct ingest **req_slot;       /* lives in req's pool; cleared before ing is freed */
    struct shop_arena arena;        /* decoded events, ids, packed values */
    Shopstream__V1__Event **events;
    struct shop_authz_grant *grants; /* what let events[i] in */
    size_t n;
    struct edge_owner_lookup owners; /* the read model's owners of the batch's orders */
    uint8_t **packed;               /* events[i] as a record value, packed_len[i] bytes */
    size_t *packed_len;
    int64_t reserved_bytes;         /* held in edge->inflight_bytes until ing is freed */
    struct shop_edge_batch batch;   /* produced / pending / failed; the one verdict */
    int64_t started_us;
    bool probe;                     /* produced although the brokers were known down */
    struct shop_position *position; /* where the acknowledged events landed (arena) */
    char sub[SHOP_JWT_SUB_MAX + 1]; /* the token's subject: the position token is theirs */
    h2o_timeout_entry_t timeout;
};

static enum body_kind body_kind(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return BODY_OTHER;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = 0;
    while (n < v.len && v.base[n] != ';' && v.base[n] != ' ')
        n++;
    if (n == strlen("application/json") && strncasecmp(v.base, "application/json", n) == 0)
        return BODY_JSON;
    if (n == strlen("application/x-protobuf") &&
        strncasecmp(v.base, "application/x-protobuf", n) == 0)
        return BODY_PB;
    return BODY_OTHER;
}

/* The request's pool is going away: the client is gone or the response is done. */
static void on_req_dispose(void *p)
{
    struct ingest **slot = p;
    if (*slot != NULL)
        (*slot)->req = NULL;
}

static void ingest_free(struct ingest *ing)
{
    if (ing->req_slot != NULL && ing->req != NULL)
        *ing->req_slot = NULL;
    if (h2o_timeout_is_linked(&ing->timeout))
        h2o_timeout_unlink(&ing->timeout);
    shop_edge_budget_release(&ing->t->edge->inflight_bytes, ing->reserved_bytes);
    edge_owners_fini(&ing->owners);
    shop_arena_fini(&ing->arena);
    free(ing);
}

static char *put(char *dst, const char *s, size_t n)
{
    memcpy(dst, s, n);
    return dst + n;
}

/* JSON array of the request's event ids, e.g. "ids":["...","..."]; validation made every id
 * a canonical UUID, so none needs escaping. memcpy, not a snprintf per id (in the profile). */
static char *ids_json(struct ingest *ing, const char *member)
{
    size_t cap = strlen(member) + 8;
    for (size_t i = 0; i < ing->n; i++)
        cap += strlen(ing->events[i]->id) + 3;
    char *buf = shop_arena_alloc_uninit(&ing->arena, cap);
    char *o = put(buf, "\"", 1);
    o = put(o, member, strlen(member));
    o = put(o, "\":[", 3);
    for (size_t i = 0; i < ing->n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        o = put(o, ing->events[i]->id, strlen(ing->events[i]->id));
        *o++ = '"';
    }
    o = put(o, "]", 2);   /* with the NUL */
    return buf;
}

static void answer_unavailable(struct ingest *ing, const char *detail)
{
    if (ing->req == NULL)
        return;
    edge_problem(ing->t, ing->req, SHOP_ROUTE_EVENTS, 503, -1, "", detail, ids_json(ing, "ids"));
}

static void answer_accepted(struct ingest *ing)
{
    if (ing->req == NULL)
        return;
    char *ids = ids_json(ing, "ids");
    /* Read-your-writes: where the events landed, for X-Shopstream-After (edge_position.h). */
    char *token = shop_arena_alloc_uninit(&ing->arena, SHOP_POS_TOKEN_MAX + 1);
    size_t tlen = ing->position == NULL ? 0
                  : shop_position_encode(ing->position, ing->t->edge->position_key, ing->sub, token,
                                         SHOP_POS_TOKEN_MAX + 1);
    size_t cap = strlen(ids) + tlen + 64;
    char *body = shop_arena_alloc(&ing->arena, cap);
    int n = tlen > 0 ? snprintf(body, cap, "{\"accepted\":%zu,%s,\"position\":\"%s\"}", ing->n, ids, token)
                     : snprintf(body, cap, "{\"accepted\":%zu,%s}", ing->n, ids);
    if (tlen > 0)
        h2o_add_header_by_str(&ing->req->pool, &ing->req->res.headers, H2O_STRLIT("x-shopstream-position"),
                              0, NULL, h2o_strdup(&ing->req->pool, token, tlen).base, tlen);
    edge_respond(ing->t, ing->req, SHOP_ROUTE_EVENTS, 202, "application/json", body, (size_t)n);
}

/* The producer or the broker refused an event for its size: the client's to fix (413), not a
 * retriable 503. The ids are listed as for a 503: other events may have been stored. */
static void answer_too_large(struct ingest *ing)
{
    if (ing->req == NULL)
        return;
    edge_problem(ing->t, ing->req, SHOP_ROUTE_EVENTS, 413, (int)ing->batch.too_large_index, "",
                 "the broker refused this event as too large", ids_json(ing, "ids"));
}

/* Answers what the batch's verdict says; WAIT answers nothing. */
static void answer(struct ingest *ing, enum shop_batch_verdict v, const char *detail)
{
    switch (v) {
    case SHOP_BATCH_ACCEPTED:
        answer_accepted(ing);
        return;
    case SHOP_BATCH_UNAVAILABLE:
        answer_unavailable(ing, detail);
        return;
    case SHOP_BATCH_TOO_LARGE:
        answer_too_large(ing);
        return;
    case SHOP_BATCH_WAIT:
        return;
    }
}

/* Every report is in: the ingest is done with. */
static void ingest_finish(struct ingest *ing)
{
    if (ing->batch.failed > 0)
        SHOP_LOG(SHOP_LOG_WARN, "edge", "events not acknowledged", "failed=%zu of=%zu err=\"%s\"",
                 ing->batch.failed, ing->n, rd_kafka_err2str(ing->batch.first_err));
    if (ing->probe)
        edge_kafka_probe_done(ing->t);
    ingest_free(ing);
}

/* Loop thread, inside rd_kafka_poll(): one event's delivery report. */
static void ingest_delivered(struct ingest_msg *msg, rd_kafka_resp_err_t err, int32_t partition,
                             int64_t offset)
{
    struct ingest *ing = msg->ing;
    /* A full token (more pairs than it holds) is left out of the answer: never a token that
     * names fewer events than were written. */
    if (err == 0 && ing->position != NULL &&
        shop_position_add(ing->position, msg->stream, partition, offset) != 0)
        ing->position = NULL;
    struct edge_thread *t = ing->t;
    if (atomic_load(&t->edge->stopping) > 1)
        ing->req = NULL;   /* main thread's final flush: the loops are gone */
    shop_edge_metrics_delivery(&t->edge->metrics, msg->stream, err == 0,
                               edge_mono_us() - ing->started_us);
    atomic_fetch_sub(&t->edge->inflight, 1);
    t->inflight--;
    edge_kafka_delivered(t, err == 0);
    enum shop_batch_verdict v = shop_edge_batch_report(&ing->batch, msg->index, err);
    answer(ing, v, rd_kafka_err2str(ing->batch.first_err));
    if (shop_edge_batch_done(&ing->batch))
        ingest_finish(ing);
}

/* kafka.c's dr_msg_cb calls it: main passes it to edge_kafka_open. */
void edge_ingest_on_delivery(const rd_kafka_message_t *rkm)
{
    ingest_delivered(rkm->_private, rkm->err, rkm->partition, rkm->offset);
}

/* Loop thread: the request waited longer than any delivery should take. */
static void on_answer_timeout(h2o_timeout_entry_t *entry)
{
    struct ingest *ing = H2O_STRUCT_FROM_MEMBER(struct ingest, timeout, entry);
    answer(ing, shop_edge_batch_timeout(&ing->batch), "broker did not acknowledge in time");
}

/* A refusal of one event by the matrix or the ownership rule also names its type. */
static const char *event_type_json(struct ingest *ing, int status, const struct shop_problem *p)
{
    if ((status != 403 && status != 409) || p->index < 0 || (size_t)p->index >= ing->n)
        return NULL;
    const char *type = shop_event_type_name(ing->events[p->index]->payload_case);
    if (type == NULL)
        return NULL;
    size_t cap = strlen(type) + 20;
    char *buf = shop_arena_alloc(&ing->arena, cap);
    snprintf(buf, cap, "\"event_type\":\"%s\"", type);   /* type names need no escaping */
    return buf;
}

static void reject(struct ingest *ing, int status, const struct shop_problem *p)
{
    if (ing->req != NULL)
        edge_problem(ing->t, ing->req, SHOP_ROUTE_EVENTS, status, p->index, p->field, p->detail,
                     event_type_json(ing, status, p));
    ingest_free(ing);
}

static int decode(struct ingest *ing, enum body_kind kind, struct shop_problem *p)
{
    h2o_iovec_t body = ing->req->entity;
    if (body.base == NULL)
        body = h2o_iovec_init("", 0);
    const struct shop_event_limits *lim = &ing->t->edge->limits;
    /* Count first: an over-long batch is refused before any tree or event is built. */
    long n = kind == BODY_JSON ? shop_edge_prescan_json(body.base, body.len, lim->batch_max)
                               : shop_edge_prescan_pb((const uint8_t *)body.base, body.len,
                                                      lim->batch_max);
    if (n > (long)lim->batch_max) {
        *p = (struct shop_problem){.index = -1, .field = "events"};
        snprintf(p->detail, sizeof(p->detail), "must hold at most %zu events", lim->batch_max);
        return SHOP_EBADMSG;
    }
    if (kind == BODY_JSON) {
        /* The JSON tree lives only inside the call; its nodes go to the ingest's arena
         * instead of a malloc/free each (the decoded events live there already). */
        shop_json_alloc_begin(&ing->arena);
        int rc = shop_event_batch_from_json(body.base, body.len, lim, &ing->arena,
                                            &ing->events, &ing->n, p);
        shop_json_alloc_end();
        return rc;
    }
    return shop_event_batch_from_pb((const uint8_t *)body.base, body.len, lim, &ing->arena,
                                    &ing->events, &ing->n, p);
}

/* Authorises, stamps and validates every event; returns the HTTP status to reject with, or 0. */
static int check_events(struct ingest *ing, const struct shop_jwt_claims *claims,
                        struct shop_problem *p)
{
    struct shop_authz_ctx c = {.roles = claims->roles, .sub = claims->sub, .now_ms = edge_now_ms(),
                               .source = EDGE_SOURCE, .lim = &ing->t->edge->limits};
    ing->grants = shop_arena_alloc(&ing->arena, ing->n * sizeof(*ing->grants));
    for (size_t i = 0; i < ing->n; i++) {
        Shopstream__V1__Event *ev = ing->events[i];
        char uuid_text[37] = "";
        if (ev->id == NULL || ev->id[0] == '\0') { /* a client's own id needs no fresh one */
            uuid_t u;
            uuid_generate_random(u);
            uuid_unparse_lower(u, uuid_text);
        }
        c.uuid_text = uuid_text;
        int status = shop_authz_admit(ev, (int)i, &c, &ing->arena, &ing->grants[i], p);
        if (status != 0)
            return status;
        size_t packed = shopstream__v1__event__get_packed_size(ev);
        if (packed > ing->t->edge->cfg->event_max) {
            *p = (struct shop_problem){.index = (int)i};
            snprintf(p->detail, sizeof(p->detail), "event is %zu bytes encoded, more than %zu",
                     packed, ing->t->edge->cfg->event_max);
            return 413;
        }
    }
    /* Both copies would get 202 while the workers apply one: refuse the batch instead. */
    ptrdiff_t dup = shop_event_batch_duplicate(ing->events, ing->n, &ing->arena);
    if (dup >= 0) {
        *p = (struct shop_problem){.index = (int)dup, .field = "id",
                                   .detail = "repeats the id of an earlier event in this batch"};
        return 400;
    }
    return 0;
}

/* Packs every event into its record value; returns the bytes librdkafka will hold for
 * them (its copies of the values plus EDGE_RECORD_OVERHEAD each). */
static int64_t pack_all(struct ingest *ing)
{
    int64_t bytes = 0;
    ing->packed = shop_arena_alloc(&ing->arena, ing->n * sizeof(*ing->packed));
    ing->packed_len = shop_arena_alloc(&ing->arena, ing->n * sizeof(*ing->packed_len));
    for (size_t i = 0; i < ing->n; i++) {
        size_t len = shopstream__v1__event__get_packed_size(ing->events[i]);
        ing->packed[i] = shop_arena_alloc_uninit(&ing->arena, len + 1);
        ing->packed_len[i] = shopstream__v1__event__pack(ing->events[i], ing->packed[i]);
        bytes += (int64_t)ing->packed_len[i] + EDGE_RECORD_OVERHEAD;
    }
    return bytes;
}

/* Hands one event to librdkafka; the value and headers are copied or owned by it. */
static rd_kafka_resp_err_t produce_one(struct ingest *ing, size_t idx, const char *traceparent)
{
    struct edge_thread *t = ing->t;
    Shopstream__V1__Event *ev = ing->events[idx];
    uint8_t *buf = ing->packed[idx];
    size_t len = ing->packed_len[idx];
    struct shop_header hdrs[SHOP_CE_HEADERS_MAX];
    size_t nh = shop_event_ce_headers(ev, traceparent, &ing->arena, hdrs);
    rd_kafka_headers_t *rkh = rd_kafka_headers_new(nh);
    for (size_t i = 0; i < nh; i++)
        rd_kafka_header_add(rkh, hdrs[i].name, -1, hdrs[i].value, -1);
    struct ingest_msg *msg = shop_arena_alloc(&ing->arena, sizeof(*msg));
    msg->ing = ing;
    msg->stream = (int)shop_event_stream(ev);
    msg->index = idx;
    const char *key = shop_event_key(ev);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        t->rk, RD_KAFKA_V_TOPIC(t->topics[msg->stream]), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(rkh), RD_KAFKA_V_OPAQUE(msg), RD_KAFKA_V_END);
    if (err != 0)
        rd_kafka_headers_destroy(rkh);   /* ownership passes only on success */
    return err;
}

static const char *traceparent_of(h2o_req_t *req)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("traceparent"), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return h2o_strdup(&req->pool, v.base, v.len).base;
}

/* Produces every event; answers 503 at once if one cannot even be queued. */
static void produce_all(struct ingest *ing)
{
    struct edge_thread *t = ing->t;
    const char *tp = traceparent_of(ing->req);
    rd_kafka_resp_err_t err = 0;
    size_t produced = 0;
    ing->started_us = edge_mono_us();
    shop_edge_batch_init(&ing->batch, ing->n);
    for (size_t i = 0; i < ing->n && err == 0; i++) {
        err = produce_one(ing, i, tp);
        if (err == 0)
            produced++;
    }
    atomic_fetch_sub(&t->edge->inflight, (int_fast64_t)(ing->n - produced));
    t->inflight += (int64_t)produced;
    enum shop_batch_verdict v = shop_edge_batch_queued(&ing->batch, produced, err);
    if (v != SHOP_BATCH_WAIT) {
        SHOP_LOG(SHOP_LOG_WARN, "edge", "could not produce", "err=\"%s\" queued=%zu of=%zu",
                 rd_kafka_err2str(err), produced, ing->n);
        answer(ing, v, rd_kafka_err2str(err));
        if (shop_edge_batch_done(&ing->batch)) {
            ingest_finish(ing);
            return;
        }
    }
    ing->timeout.cb = on_answer_timeout;
    h2o_timeout_link(t->loop, &t->answer_timeout, &ing->timeout);
    edge_kafka_drain(t);
}

/* Gives back what refusal() reserved, for a batch that will not be produced after all. */
static void unreserve(struct ingest *ing)
{
    atomic_fetch_sub(&ing->t->edge->inflight, (int_fast64_t)ing->n);
    if (ing->probe)
        edge_kafka_probe_done(ing->t);
    ing->probe = false;
}

/* Loop thread: the ownership lookup is back (or did not start in time). */
static void on_owners(struct edge_pg_task *task, bool ran)
{
    struct ingest *ing = H2O_STRUCT_FROM_MEMBER(struct ingest, owners.task, task);
    struct shop_problem p = {.index = -1};
    int status = ran && ing->owners.ok ? 0 : 503;
    if (status == 0)
        status = shop_authz_check_owners(ing->events, ing->grants, ing->n, ing->owners.rows,
                                         ing->owners.n_rows, &p);
    if (status == 0 && ing->req != NULL) {
        produce_all(ing);
        return;
    }
    unreserve(ing);
    if (ing->req == NULL) {   /* the client went away meanwhile: nothing is produced */
        ingest_free(ing);
        return;
    }
    if (status == 503) {
        answer_unavailable(ing, "database unavailable for the order ownership check");
        ingest_free(ing);
        return;
    }
    reject(ing, status, &p);
}

/* Produces the batch, after the ownership lookup when one of its events needs it. */
static void produce_checked(struct ingest *ing)
{
    ing->owners.param = shop_authz_owner_param(ing->events, ing->grants, ing->n, &ing->arena);
    if (ing->owners.param == NULL) {
        produce_all(ing);
        return;
    }
    if (edge_owners_start(ing->t, &ing->owners, on_owners) != 0) {
        unreserve(ing);
        answer_unavailable(ing, "too many database lookups queued");
        ingest_free(ing);
    }
}

/* Reserves room for n events in the process-wide in-flight budget. */
static bool reserve_inflight(struct edge *e, size_t n)
{
    int_fast64_t before = atomic_fetch_add(&e->inflight, (int_fast64_t)n);
    if (before + (int_fast64_t)n <= e->cfg->max_inflight)
        return true;
    atomic_fetch_sub(&e->inflight, (int_fast64_t)n);
    return false;
}

/* Returns why the batch cannot be produced now, or NULL when it may be: then room for it is
 * reserved in the in-flight budget, and a probe (brokers known down) is marked on ing. */
static const char *refusal(struct ingest *ing)
{
    struct edge_thread *t = ing->t;
    struct edge *e = t->edge;
    if (atomic_load(&e->stopping))
        return "shutting down";
    if (atomic_load(&t->kafka_fatal))
        return "kafka producer failed";
    enum shop_broker_admit a = edge_kafka_admit(t);
    if (a == SHOP_BROKER_REJECT) {
        shop_edge_metrics_unreachable_reject(&e->metrics);
        return "kafka brokers are unreachable";
    }
    if (!reserve_inflight(e, ing->n)) {
        if (a == SHOP_BROKER_PROBE)
            edge_kafka_probe_done(t);
        return "overloaded";
    }
    /* Bytes, not only events: the body, the arena (decoded tree, events, packed values)
     * and librdkafka's copies stay until the last delivery report. */
    int64_t records = pack_all(ing);
    int64_t bytes = (int64_t)ing->req->entity.len + (int64_t)ing->arena.total + records;
    if (!shop_edge_budget_reserve(&e->inflight_bytes, bytes)) {
        atomic_fetch_sub(&e->inflight, (int_fast64_t)ing->n);
        if (a == SHOP_BROKER_PROBE)
            edge_kafka_probe_done(t);
        return "overloaded: too many bytes in flight";
    }
    ing->reserved_bytes = bytes;
    ing->probe = a == SHOP_BROKER_PROBE;
    return NULL;
}

static struct ingest *ingest_new(struct edge_thread *t, h2o_req_t *req)
{
    struct ingest *ing = shop_xcalloc(1, sizeof(*ing));
    ing->t = t;
    ing->req = req;
    ing->req_slot = h2o_mem_alloc_shared(&req->pool, sizeof(*ing->req_slot), on_req_dispose);
    *ing->req_slot = ing;
    return ing;
}

/* Loop thread. */
void edge_ingest(struct edge_thread *t, h2o_req_t *req)
{
    struct edge *e = t->edge;
    enum body_kind kind = body_kind(req);
    if (kind == BODY_OTHER) {
        edge_problem(t, req, SHOP_ROUTE_EVENTS, 415, -1, "content-type",
                     "use application/json or application/x-protobuf", NULL);
        return;
    }
    if (req->entity.len > e->cfg->body_max) {
        char detail[96];   /* h2o refuses larger bodies first; this is a second guard */
        edge_problem(t, req, SHOP_ROUTE_EVENTS, 413, -1, "body",
                     edge_too_large_detail(e, detail, sizeof(detail)), NULL);
        return;
    }
    struct shop_jwt_claims claims;
    if (edge_authenticate(t, req, SHOP_ROUTE_EVENTS, &claims) != 0)
        return;
    struct ingest *ing = ingest_new(t, req);
    struct shop_problem p = {.index = -1};
    if (decode(ing, kind, &p) != 0) {
        reject(ing, 400, &p);
        return;
    }
    if (ing->n == 0) {
        p = (struct shop_problem){.index = -1, .field = "events", .detail = "batch is empty"};
        reject(ing, 400, &p);
        return;
    }
    int status = check_events(ing, &claims, &p);
    if (status != 0) {
        reject(ing, status, &p);
        return;
    }
    snprintf(ing->sub, sizeof(ing->sub), "%s", claims.sub);
    ing->position = shop_arena_alloc_uninit(&ing->arena, sizeof(*ing->position));
    ing->position->n = 0;
    const char *why = refusal(ing);
    if (why != NULL) {
        answer_unavailable(ing, why);
        ingest_free(ing);
        return;
    }
    produce_checked(ing);
}
