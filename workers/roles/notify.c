/* SPDX-License-Identifier: MIT
 * The notify role's hooks: order status changes (the inventory topic's outcomes) to
 * every configured webhook endpoint, signed, at least once (docs/webhooks.md). Each
 * consumed record is a note with one delivery per endpoint; the endpoints retry on
 * their own (full-jitter backoff, up to max_attempts, then the endpoint's parking
 * topic), so a slow endpoint delays only itself. The group's Kafka offset of a
 * partition commits up to the first record some endpoint still waits for; when one
 * endpoint has SHOPSTREAM_NOTIFY_WINDOW records pending, consumption pauses until it
 * drains. Writes nothing to PostgreSQL. Shell around workers/core/notify.h. Loop thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "workers/core/notify.h"
#include "workers/notify_http.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

#define PUMP_MS 50                 /* how often due retries start and parked acks are read */
#define PARK_TIMEOUT_MS 10000      /* message.timeout.ms of the parking producer */
#define PARK_RETRY_MS 1000         /* a parking record that failed is produced again after this */

enum delivery_state { D_QUEUED = 0, D_FLIGHT, D_PARKING, D_DONE };

struct note;

/* One record for one endpoint. */
struct delivery {
    struct note *note;
    int ep;
    enum delivery_state state;
    int64_t attempts;
    uint64_t due_ms;               /* uv_now: when it may go (again) */
    struct shop_backoff backoff;
    struct notify_xfer *xfer;      /* in flight */
    char reason[160];              /* the last failure, for the parking headers */
    struct delivery *prev, *next;  /* the endpoint's queue, in consumption order */
};

struct part {
    char topic[SHOP_TOPIC_NAME_MAX];
    int32_t partition;
    struct shop_notify_window win;
    int64_t seen_next;             /* one past the last offset taken: a record fetched again is skipped */
    int64_t committed;             /* the last offset committed to the group */
    uint64_t gen;                  /* bumped when a revoke empties the window */
};

/* One consumed status change; freed when every endpoint is done with it. */
struct note {
    struct notify *nt;
    struct part *part;
    uint64_t gen;                  /* the part's generation when taken */
    int64_t offset;
    char order_id[72];
    struct shop_notify_msg msg;
    uint32_t remaining;
    struct delivery d[];           /* one per endpoint */
};

struct endpoint {
    const struct shop_notify_endpoint *cfg;
    const char *secret;
    char secret_buf[SHOP_NOTIFY_SECRET_MAX + 2];
    char parking_topic[SHOP_TOPIC_NAME_MAX + SHOP_NOTIFY_NAME_MAX + 32];
    struct delivery *head, *tail;
    int64_t in_flight;
    bool failing;                  /* logged once per failing streak */
};

struct notify {
    const struct shop_notify_cfg *cfg;
    int n_ep;
    struct endpoint ep[SHOP_NOTIFY_ENDPOINTS_MAX];
    struct part *parts;
    size_t n_parts, cap_parts;
    struct notify_http *http;
    rd_kafka_t *park_rk;           /* acks=all, idempotent */
    uv_timer_t pump;
    struct shop_notify_metrics metrics;
    uint64_t rnd;
    bool paused, stopped;
    int64_t stats_at_ms;
};

static uint32_t next_rnd(struct notify *nt)
{
    nt->rnd ^= nt->rnd << 13;
    nt->rnd ^= nt->rnd >> 7;
    nt->rnd ^= nt->rnd << 17;
    return (uint32_t)(nt->rnd >> 32);
}

/* ---- endpoint queues -------------------------------------------------------------- */

static void queue_append(struct endpoint *ep, struct delivery *d)
{
    d->prev = ep->tail;
    d->next = NULL;
    if (ep->tail != NULL)
        ep->tail->next = d;
    else
        ep->head = d;
    ep->tail = d;
}

static void queue_remove(struct endpoint *ep, struct delivery *d)
{
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        ep->head = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
    else
        ep->tail = d->prev;
    d->prev = d->next = NULL;
}

static void note_release(struct note *n)
{
    if (--n->remaining > 0)
        return;
    free(n->msg.body);
    free(n);
}

/* The endpoint has the record, or it is parked: the offset may move past it. */
static void delivery_finish(struct notify *nt, struct delivery *d)
{
    struct endpoint *ep = &nt->ep[d->ep];
    queue_remove(ep, d);
    d->state = D_DONE;
    nt->metrics.ep[d->ep].pending--;
    if (d->note->gen == d->note->part->gen)   /* else its window went with a revoke */
        shop_notify_window_done(&d->note->part->win, d->note->offset);
    note_release(d->note);
}

/* Drops a delivery without finishing it (its partition went away): the next owner
 * delivers the record again. */
static void delivery_drop(struct notify *nt, struct delivery *d)
{
    if (d->state == D_PARKING)
        return;    /* the producer still holds it (a flush timed out): its ack finishes it */
    if (d->state == D_FLIGHT && d->xfer != NULL)
        notify_http_cancel(nt->http, d->xfer);
    d->xfer = NULL;
    queue_remove(&nt->ep[d->ep], d);
    nt->metrics.ep[d->ep].pending--;
    note_release(d->note);
}

/* ---- parking ---------------------------------------------------------------------- */

static void park(struct notify *nt, struct delivery *d)
{
    struct endpoint *ep = &nt->ep[d->ep];
    struct note *n = d->note;
    char attempts[24], part[16], off[24];
    snprintf(attempts, sizeof(attempts), "%" PRId64, d->attempts);
    snprintf(part, sizeof(part), "%" PRId32, n->part->partition);
    snprintf(off, sizeof(off), "%" PRId64, n->offset);
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
    rd_kafka_header_add(hdrs, "x-shopstream-reason", -1, d->reason, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-attempts", -1, attempts, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-endpoint", -1, ep->cfg->name, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-event-id", -1, n->msg.id, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-event-type", -1, n->msg.type, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-topic", -1, n->part->topic, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-partition", -1, part, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-offset", -1, off, -1);
    d->state = D_PARKING;
    rd_kafka_resp_err_t kerr = rd_kafka_producev(
        nt->park_rk, RD_KAFKA_V_TOPIC(ep->parking_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(n->order_id, strlen(n->order_id)), RD_KAFKA_V_VALUE(n->msg.body, n->msg.body_len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(hdrs);   /* producev owns the headers only on success */
        SHOP_LOG(SHOP_LOG_WARN, "notify", "could not park a webhook; retrying", "endpoint=%s topic=%s err=%s",
                 ep->cfg->name, ep->parking_topic, rd_kafka_err2name(kerr));
        d->state = D_QUEUED;              /* attempts stay at max: the pump parks it again */
        d->due_ms = uv_now(nt->pump.loop) + PARK_RETRY_MS;
    }
}

/* Runs inside rd_kafka_poll()/rd_kafka_flush() on the parking producer: loop thread. */
static void on_parked(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct notify *nt = opaque;
    struct delivery *d = rkm->_private;
    struct endpoint *ep = &nt->ep[d->ep];
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        SHOP_LOG(SHOP_LOG_WARN, "notify", "could not park a webhook; retrying", "endpoint=%s topic=%s err=%s",
                 ep->cfg->name, ep->parking_topic, rd_kafka_err2name(rkm->err));
        d->state = D_QUEUED;
        d->due_ms = uv_now(nt->pump.loop) + PARK_RETRY_MS;
        return;
    }
    SHOP_LOG(SHOP_LOG_WARN, "notify", "webhook parked", "endpoint=%s topic=%s event_id=%s attempts=%" PRId64
             " reason=\"%s\"", ep->cfg->name, ep->parking_topic, d->note->msg.id, d->attempts, d->reason);
    nt->metrics.ep[d->ep].parked++;
    delivery_finish(nt, d);
}

/* ---- attempts --------------------------------------------------------------------- */

static void pump(struct notify *nt);

static void attempt_failed(struct notify *nt, struct delivery *d, long status, const char *error)
{
    struct endpoint *ep = &nt->ep[d->ep];
    if (status > 0)
        snprintf(d->reason, sizeof(d->reason), "http status %ld", status);
    else
        snprintf(d->reason, sizeof(d->reason), "%s", error[0] != '\0' ? error : "no answer");
    nt->metrics.ep[d->ep].failed++;
    if (!ep->failing)
        SHOP_LOG(SHOP_LOG_WARN, "notify", "endpoint failing; retrying with backoff", "endpoint=%s reason=\"%s\"",
                 ep->cfg->name, d->reason);
    ep->failing = true;
    if (shop_notify_judge(status, d->attempts, nt->cfg->max_attempts) == SHOP_NOTIFY_PARK) {
        park(nt, d);
        return;
    }
    int64_t delay = shop_notify_retry_delay(&d->backoff, next_rnd(nt));
    SHOP_LOG(SHOP_LOG_DEBUG, "notify", "webhook attempt failed", "endpoint=%s event_id=%s attempt=%" PRId64
             " in_ms=%" PRId64 " reason=\"%s\"", ep->cfg->name, d->note->msg.id, d->attempts, delay, d->reason);
    d->state = D_QUEUED;
    d->due_ms = uv_now(nt->pump.loop) + (uint64_t)delay;
}

static void on_done(void *opaque, long status, const char *error, double seconds)
{
    struct delivery *d = opaque;
    struct notify *nt = d->note->nt;
    struct endpoint *ep = &nt->ep[d->ep];
    d->xfer = NULL;
    ep->in_flight--;
    shop_notify_metrics_observe(&nt->metrics, d->ep, seconds);
    if (shop_notify_judge(status, d->attempts, nt->cfg->max_attempts) == SHOP_NOTIFY_DELIVERED) {
        if (ep->failing)
            SHOP_LOG(SHOP_LOG_INFO, "notify", "endpoint delivers again", "endpoint=%s status=%ld", ep->cfg->name,
                     status);
        ep->failing = false;
        nt->metrics.ep[d->ep].delivered++;
        delivery_finish(nt, d);
    } else {
        attempt_failed(nt, d, status, error);
    }
    pump(nt);
}

static void attempt(struct notify *nt, struct delivery *d)
{
    struct endpoint *ep = &nt->ep[d->ep];
    struct note *n = d->note;
    char sig[SHOP_NOTIFY_SIG_MAX], h_sig[SHOP_NOTIFY_SIG_MAX + 32], h_id[80], h_type[80], h_try[64];
    shop_notify_sign(ep->secret, worker_now_ms(), n->msg.body, n->msg.body_len, sig, sizeof(sig));
    snprintf(h_sig, sizeof(h_sig), "Shopstream-Signature: %s", sig);
    snprintf(h_id, sizeof(h_id), "Shopstream-Event-Id: %s", n->msg.id);
    snprintf(h_type, sizeof(h_type), "Shopstream-Event-Type: %s", n->msg.type);
    d->attempts++;
    snprintf(h_try, sizeof(h_try), "Shopstream-Delivery-Attempt: %" PRId64, d->attempts);
    const char *headers[] = {"Content-Type: application/json", h_sig, h_id, h_type, h_try, NULL};
    struct notify_http_req req = {.url = ep->cfg->url, .headers = headers, .body = n->msg.body,
                                  .body_len = n->msg.body_len, .timeout_ms = nt->cfg->timeout_ms,
                                  .connect_timeout_ms = nt->cfg->connect_timeout_ms, .ca_file = nt->cfg->ca_file};
    struct shop_err err = {0};
    d->state = D_FLIGHT;
    d->xfer = notify_http_post(nt->http, &req, on_done, d, &err);
    if (d->xfer == NULL) {
        attempt_failed(nt, d, 0, err.msg);
        return;
    }
    ep->in_flight++;
}

/* Starts what is due on every endpoint, up to its concurrency; retries already parked
 * (max attempts reached, the produce failed) are parked again. */
static void pump(struct notify *nt)
{
    if (nt->stopped)
        return;
    uint64_t now = uv_now(nt->pump.loop);
    for (int i = 0; i < nt->n_ep; i++) {
        struct endpoint *ep = &nt->ep[i];
        for (struct delivery *d = ep->head, *next; d != NULL && ep->in_flight < nt->cfg->concurrency; d = next) {
            next = d->next;
            if (d->state != D_QUEUED || d->due_ms > now)
                continue;
            if (d->attempts >= nt->cfg->max_attempts)
                park(nt, d);
            else
                attempt(nt, d);
        }
    }
}

/* ---- the window: pause while one endpoint holds too much ---------------------------- */

static void check_window(struct worker *w, struct notify *nt)
{
    int full = -1;
    for (int i = 0; i < nt->n_ep && full < 0; i++)
        if (nt->metrics.ep[i].pending >= nt->cfg->window)
            full = i;
    if (full >= 0) {
        if (!nt->paused)
            SHOP_LOG(SHOP_LOG_WARN, "notify", "pausing consumption: an endpoint holds a full window",
                     "endpoint=%s pending=%" PRId64 " window=%" PRId64, nt->ep[full].cfg->name,
                     nt->metrics.ep[full].pending, nt->cfg->window);
        nt->paused = true;
        worker_kafka_pause(w, true);   /* again: the loop resumes everything after a PG outage */
    } else if (full < 0 && nt->paused && !w->pg_down) {
        SHOP_LOG(SHOP_LOG_INFO, "notify", "resuming consumption: every endpoint is below its window", "window=%" PRId64,
                 nt->cfg->window);
        nt->paused = false;
        worker_kafka_pause(w, false);
    }
}

/* ---- offsets ---------------------------------------------------------------------- */

static struct part *part_of(struct notify *nt, const char *topic, int32_t partition, bool create)
{
    for (size_t i = 0; i < nt->n_parts; i++)
        if (nt->parts[i].partition == partition && strcmp(nt->parts[i].topic, topic) == 0)
            return &nt->parts[i];
    if (!create)
        return NULL;
    if (nt->n_parts == nt->cap_parts) {
        /* Notes point at their part: parts never move once made. */
        return NULL;
    }
    struct part *p = &nt->parts[nt->n_parts++];
    memset(p, 0, sizeof(*p));
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->seen_next = -1;
    p->committed = -1;
    shop_notify_window_init(&p->win);
    return p;
}

/* Commits every partition whose window moved (async from the cron, sync before a
 * revoke and at stop). */
static void commit_offsets(struct worker *w, struct notify *nt, bool sync)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)nt->n_parts + 1);
    for (size_t i = 0; i < nt->n_parts; i++) {
        struct part *p = &nt->parts[i];
        int64_t next = shop_notify_window_commit(&p->win);
        if (next >= 0 && next != p->committed)
            rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset = next;
    }
    if (list->cnt > 0) {
        rd_kafka_resp_err_t kerr = rd_kafka_commit(w->rk, list, sync ? 0 : 1);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            SHOP_LOG(SHOP_LOG_WARN, "notify", "could not commit offsets; records after them are delivered again",
                     "err=%s", rd_kafka_err2name(kerr));
        } else {
            for (int i = 0; i < list->cnt; i++)
                part_of(nt, list->elems[i].topic, list->elems[i].partition, false)->committed = list->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* ---- hooks ------------------------------------------------------------------------ */

/* Takes one record: a status change becomes a note with a delivery per endpoint;
 * anything else (low stock, a dead-lettered record) only advances the window. */
static void take_record(struct worker *w, struct notify *nt, const struct shop_proj_record *pr)
{
    struct part *p = part_of(nt, pr->topic, pr->partition, true);
    if (p == NULL) {
        SHOP_LOG(SHOP_LOG_FATAL, "notify", "more partitions than the role tracks", "max=%zu", nt->cap_parts);
        abort();
    }
    if (pr->offset < p->seen_next)
        return;                       /* fetched again (a reassignment): already taken */
    p->seen_next = pr->offset + 1;
    enum shop_notify_status s;
    if (pr->ev == NULL || !shop_notify_status_of(pr->ev, &s)) {
        shop_notify_window_push(&p->win, pr->offset, 0);
        return;
    }
    struct note *n = shop_xcalloc(1, sizeof(*n) + (size_t)nt->n_ep * sizeof(n->d[0]));
    struct shop_err err = {0};
    shop_notify_msg_build(pr->ev, &n->msg, &err);   /* cannot fail: the status was found */
    n->nt = nt;
    n->part = p;
    n->gen = p->gen;
    n->offset = pr->offset;
    snprintf(n->order_id, sizeof(n->order_id), "%s", shop_event_order_id(pr->ev));
    n->remaining = (uint32_t)nt->n_ep;
    shop_notify_window_push(&p->win, pr->offset, n->remaining);
    uint64_t now = uv_now(w->loop);
    for (int i = 0; i < nt->n_ep; i++) {
        struct delivery *d = &n->d[i];
        *d = (struct delivery){.note = n, .ep = i, .state = D_QUEUED, .due_ms = now};
        shop_backoff_init(&d->backoff, nt->cfg->backoff_base_ms, nt->cfg->backoff_max_ms);
        queue_append(&nt->ep[i], d);
        nt->metrics.ep[i].pending++;
    }
}

static int notify_apply(struct worker *w, struct worker_batch *b, struct shop_err *err)
{
    struct notify *nt = w->role_state;
    for (size_t i = 0; i < b->n; i++)
        take_record(w, nt, &b->prs[i]);
    pump(nt);
    check_window(w, nt);
    return 0;
}

static void on_pump(uv_timer_t *handle)
{
    struct notify *nt = handle->data;
    rd_kafka_poll(nt->park_rk, 0);   /* parking acknowledgements */
    pump(nt);
}

/* Drops every delivery of the partitions in parts (all of them for NULL). */
static void drop_notes(struct notify *nt, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < nt->n_ep; i++) {
        for (struct delivery *d = nt->ep[i].head, *next; d != NULL; d = next) {
            next = d->next;
            struct part *p = d->note->part;
            if (parts == NULL || rd_kafka_topic_partition_list_find(parts, p->topic, p->partition) != NULL)
                delivery_drop(nt, d);
        }
    }
    for (size_t i = 0; i < nt->n_parts; i++) {
        struct part *p = &nt->parts[i];
        if (parts == NULL || rd_kafka_topic_partition_list_find(parts, p->topic, p->partition) != NULL) {
            shop_notify_window_fini(&p->win);
            p->gen++;
            p->seen_next = -1;
            p->committed = -1;
        }
    }
}

/* Parked records waiting for their acknowledgement finish first, then what is done
 * commits, then the rest is dropped: the partitions' next owner delivers it again. */
static void notify_on_revoke(struct worker *w, rd_kafka_topic_partition_list_t *parts)
{
    struct notify *nt = w->role_state;
    if (nt->stopped)
        return;
    rd_kafka_flush(nt->park_rk, PARK_TIMEOUT_MS);
    commit_offsets(w, nt, true);
    drop_notes(nt, parts);
    if (nt->paused) {
        nt->paused = false;   /* the new assignment starts resumed; the window is empty */
        SHOP_LOG(SHOP_LOG_INFO, "notify", "window cleared by a rebalance", "partitions=%d", parts->cnt);
    }
}

static void log_stats(struct notify *nt)
{
    char line[1024];
    size_t len = 0;
    for (int i = 0; i < nt->n_ep && len < sizeof(line); i++) {
        const struct shop_notify_ep_metrics *m = &nt->metrics.ep[i];
        len += (size_t)snprintf(line + len, sizeof(line) - len,
                                "%s%s_delivered=%" PRIu64 " %s_failed=%" PRIu64 " %s_parked=%" PRIu64
                                " %s_pending=%" PRId64, i > 0 ? " " : "", nt->ep[i].cfg->name, m->delivered,
                                nt->ep[i].cfg->name, m->failed, nt->ep[i].cfg->name, m->parked, nt->ep[i].cfg->name,
                                m->pending);
    }
    SHOP_LOG(SHOP_LOG_INFO, "notify", "stats", "%s paused=%d", line, (int)nt->paused);
}

static void notify_cron(struct worker *w, int64_t now_ms)
{
    struct notify *nt = w->role_state;
    commit_offsets(w, nt, false);
    check_window(w, nt);
    if (now_ms - nt->stats_at_ms >= w->cfg->stats_interval_ms) {
        nt->stats_at_ms = now_ms;
        log_stats(nt);
    }
}

static void notify_stop(struct worker *w)
{
    struct notify *nt = w->role_state;
    rd_kafka_flush(nt->park_rk, PARK_TIMEOUT_MS);
    commit_offsets(w, nt, true);
    log_stats(nt);
    nt->stopped = true;
    drop_notes(nt, NULL);            /* in flight: delivered again after the restart */
    notify_http_close(nt->http);
    uv_timer_stop(&nt->pump);
    uv_close((uv_handle_t *)&nt->pump, NULL);
}

/* ---- start ------------------------------------------------------------------------ */

/* A secret from a file (Kubernetes mounts them): one line, the newline dropped. */
static int read_secret(struct endpoint *ep, struct shop_err *err)
{
    FILE *f = fopen(ep->cfg->secret_file, "r");
    if (f == NULL)
        return shop_err_set(err, SHOP_ECONFIG, "could not open the secret of endpoint %s (%s): %s", ep->cfg->name,
                            ep->cfg->secret_file, strerror(errno));
    size_t len = fread(ep->secret_buf, 1, sizeof(ep->secret_buf) - 1, f);
    fclose(f);
    ep->secret_buf[len] = '\0';
    while (len > 0 && (ep->secret_buf[len - 1] == '\n' || ep->secret_buf[len - 1] == '\r'))
        ep->secret_buf[--len] = '\0';
    if (len < SHOP_NOTIFY_SECRET_MIN || len > SHOP_NOTIFY_SECRET_MAX)
        return shop_err_set(err, SHOP_ECONFIG, "the secret of endpoint %s (%s) must be %d to %d bytes, got %zu",
                            ep->cfg->name, ep->cfg->secret_file, SHOP_NOTIFY_SECRET_MIN, SHOP_NOTIFY_SECRET_MAX, len);
    ep->secret = ep->secret_buf;
    return 0;
}

static int endpoints_init(struct worker *w, struct notify *nt, struct shop_err *err)
{
    nt->n_ep = nt->cfg->n_endpoints;
    nt->metrics.n = nt->n_ep;
    for (int i = 0; i < nt->n_ep; i++) {
        struct endpoint *ep = &nt->ep[i];
        ep->cfg = &nt->cfg->endpoints[i];
        nt->metrics.names[i] = ep->cfg->name;
        ep->secret = ep->cfg->secret;
        if (ep->cfg->secret_file[0] != '\0' && read_secret(ep, err) < 0)
            return err->code;
        if (shop_notify_parking_topic(ep->parking_topic, sizeof(ep->parking_topic), w->cfg->topic_prefix,
                                      ep->cfg->name) < 0)
            return shop_err_set(err, SHOP_ECONFIG, "the parking topic of endpoint %s does not fit", ep->cfg->name);
    }
    return 0;
}

static int park_open(struct worker *w, struct notify *nt, struct shop_err *err)
{
    char errstr[512], timeout[24];
    snprintf(timeout, sizeof(timeout), "%d", PARK_TIMEOUT_MS);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (worker_kafka_conf_set(conf, "bootstrap.servers", w->cfg->kafka_brokers, err) < 0 ||
        worker_kafka_conf_set(conf, "client.id", "shopstream-worker-notify-park", err) < 0 ||
        worker_kafka_conf_set(conf, "acks", "all", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.idempotence", "true", err) < 0 ||
        worker_kafka_conf_set(conf, "linger.ms", "5", err) < 0 ||
        worker_kafka_conf_set(conf, "message.timeout.ms", timeout, err) < 0 ||
        shop_kafka_conf_apply(conf, w->cfg->kafka_props, err) < 0) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_conf_set_opaque(conf, nt);
    worker_kafka_set_log(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_parked);
    nt->park_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (nt->park_rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create the parking producer: %s", errstr);
    }
    return 0;
}

/* The parking topics are the role's own: created at start (one partition, kept
 * forever) when missing. A failure is logged: the operator may create them instead. */
static void park_topics_create(struct notify *nt)
{
    rd_kafka_NewTopic_t *topics[SHOP_NOTIFY_ENDPOINTS_MAX];
    char errstr[256];
    for (int i = 0; i < nt->n_ep; i++) {
        topics[i] = rd_kafka_NewTopic_new(nt->ep[i].parking_topic, 1, -1, errstr, sizeof(errstr));
        rd_kafka_NewTopic_set_config(topics[i], "retention.ms", "-1");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(nt->park_rk);
    rd_kafka_CreateTopics(nt->park_rk, topics, (size_t)nt->n_ep, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (ev == NULL) {
        SHOP_LOG(SHOP_LOG_WARN, "notify", "timed out creating the parking topics", "endpoints=%d", nt->n_ep);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                SHOP_LOG(SHOP_LOG_WARN, "notify", "could not create a parking topic", "topic=%s err=\"%s\"",
                         rd_kafka_topic_result_name(res[i]), rd_kafka_topic_result_error_string(res[i]));
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy_array(topics, (size_t)nt->n_ep);
}

static void notify_fini(struct worker *w, void *role_state);

static int notify_init(struct worker *w, void **role_state, struct shop_err *err)
{
    struct notify *nt = shop_xcalloc(1, sizeof(*nt));
    nt->cfg = &w->cfg->notify;
    nt->cap_parts = 4096;
    nt->parts = shop_xcalloc(nt->cap_parts, sizeof(*nt->parts));
    if (getrandom(&nt->rnd, sizeof(nt->rnd), 0) != (ssize_t)sizeof(nt->rnd))
        nt->rnd = (uint64_t)worker_now_ms() * 0x9e3779b97f4a7c15ULL;
    nt->rnd |= 1;
    *role_state = nt;
    if (endpoints_init(w, nt, err) < 0 || park_open(w, nt, err) < 0)
        goto out_fini;
    nt->http = notify_http_new(w->loop, err);
    if (nt->http == NULL)
        goto out_fini;
    char line[4096];
    shop_notify_cfg_format(nt->cfg, line, sizeof(line));
    SHOP_LOG(SHOP_LOG_INFO, "notify", "effective configuration", "%s", line);
    park_topics_create(nt);
    uv_timer_init(w->loop, &nt->pump);
    nt->pump.data = nt;
    uv_timer_start(&nt->pump, on_pump, PUMP_MS, PUMP_MS);
    return 0;
out_fini:
    w->exit_code = err->code == SHOP_ECONFIG ? 2 : 1;
    notify_fini(w, nt);
    *role_state = NULL;
    return err->code;
}

static void notify_fini(struct worker *w, void *role_state)
{
    struct notify *nt = role_state;
    if (nt->park_rk != NULL) {
        rd_kafka_flush(nt->park_rk, PARK_TIMEOUT_MS);
        rd_kafka_destroy(nt->park_rk);
    }
    notify_http_free(nt->http);
    for (size_t i = 0; i < nt->n_parts; i++)
        shop_notify_window_fini(&nt->parts[i].win);
    free(nt->parts);
    free(nt);
}

size_t worker_notify_metrics(const struct worker *w, char *buf, size_t n)
{
    const struct notify *nt = w->role_state;
    if (w->role != &worker_notify_role || nt == NULL)
        return 0;
    return shop_notify_metrics_render(&nt->metrics, "notify", w->cfg->group_id, buf, n);
}

/* The per-endpoint families at every scrape of /metrics (rendered with their own role and
 * group labels, so base is not needed). */
static void notify_metrics(struct worker *w, struct shop_prom *out, const struct shop_prom_label *base,
                           size_t n_base)
{
    (void)base, (void)n_base;
    size_t need = worker_notify_metrics(w, NULL, 0);
    if (need == 0)
        return;
    char *buf = malloc(need + 1);
    if (buf == NULL)
        return;
    size_t got = worker_notify_metrics(w, buf, need + 1);
    shop_prom_text(out, buf, got < need ? got : need);
    free(buf);
}

/* Offsets are the group's Kafka offsets, committed by the role: partitions start
 * there (no on_assign). */
const struct worker_role worker_notify_role = {
    .name = "notify",
    .init = notify_init,
    .apply = notify_apply,
    .cron = notify_cron,
    .on_revoke = notify_on_revoke,
    .stop = notify_stop,
    .fini = notify_fini,
    .metrics = notify_metrics,
    .own_offsets = true,
};
