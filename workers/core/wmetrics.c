/* SPDX-License-Identifier: MIT
 * The worker's metrics registry, rendering and readiness (workers/core/wmetrics.h). Pure.
 */
#include "workers/core/wmetrics.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Events per committed batch: from one record to SHOPSTREAM_BATCH_MAX's ceiling. */
static const double batch_bounds[] = {1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000};
/* A batch's transaction, seconds: a millisecond for a few rows to seconds for a backfill. */
static const double commit_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const fail_names[SHOP_WM_FAIL_COUNT] = {"undecodable", "invalid", "postgres"};
static const char *const rebalance_names[SHOP_WM_REBALANCE_COUNT] = {"assign", "revoke"};

void shop_wm_init(struct shop_wm *m)
{
    memset(m, 0, sizeof(*m));
    shop_prom_hist_init(&m->batch_events, batch_bounds, COUNT(batch_bounds));
    shop_prom_hist_init(&m->commit_seconds, commit_bounds, COUNT(commit_bounds));
    snprintf(m->types[SHOP_WM_TYPES_MAX].name, SHOP_WM_TYPE_NAME_MAX, "unknown");
    snprintf(m->dead_letters[SHOP_WM_TOPICS_MAX].topic, SHOP_WM_TOPIC_NAME_MAX, "other");
}

const char *shop_wm_fail_name(enum shop_wm_fail why)
{
    return (unsigned)why < SHOP_WM_FAIL_COUNT ? fail_names[why] : "unknown";
}

/* The type's slot, added on first sight; the overflow slot past SHOP_WM_TYPES_MAX. */
static struct shop_wm_type *type_slot(struct shop_wm *m, const char *type)
{
    if (type == NULL || type[0] == '\0' || strlen(type) >= SHOP_WM_TYPE_NAME_MAX)
        type = "unknown";
    for (size_t i = 0; i < m->n_types; i++) {
        if (strcmp(m->types[i].name, type) == 0)
            return &m->types[i];
    }
    if (m->n_types == SHOP_WM_TYPES_MAX)
        return &m->types[SHOP_WM_TYPES_MAX];
    struct shop_wm_type *t = &m->types[m->n_types++];
    snprintf(t->name, sizeof(t->name), "%s", type);
    return t;
}

void shop_wm_processed(struct shop_wm *m, const char *type, uint64_t n)
{
    type_slot(m, type)->processed += n;
}

static struct shop_wm_topic_count *topic_slot(struct shop_wm *m, const char *topic)
{
    if (topic == NULL || strlen(topic) >= SHOP_WM_TOPIC_NAME_MAX)
        return &m->dead_letters[SHOP_WM_TOPICS_MAX];
    for (size_t i = 0; i < m->n_dead_letters; i++) {
        if (strcmp(m->dead_letters[i].topic, topic) == 0)
            return &m->dead_letters[i];
    }
    if (m->n_dead_letters == SHOP_WM_TOPICS_MAX)
        return &m->dead_letters[SHOP_WM_TOPICS_MAX];
    struct shop_wm_topic_count *t = &m->dead_letters[m->n_dead_letters++];
    snprintf(t->topic, sizeof(t->topic), "%s", topic);
    return t;
}

void shop_wm_failed(struct shop_wm *m, const char *type, enum shop_wm_fail why, const char *topic)
{
    if ((unsigned)why >= SHOP_WM_FAIL_COUNT)
        return;
    type_slot(m, type)->failed[why]++;
    topic_slot(m, topic)->n++;
}

void shop_wm_batch(struct shop_wm *m, uint64_t n, double seconds)
{
    shop_prom_hist_observe(&m->batch_events, (double)n);
    shop_prom_hist_observe(&m->commit_seconds, seconds < 0 ? 0 : seconds);
}

void shop_wm_rebalance(struct shop_wm *m, enum shop_wm_rebalance kind)
{
    if ((unsigned)kind < SHOP_WM_REBALANCE_COUNT)
        m->rebalances[kind]++;
}

void shop_wm_txn_retry(struct shop_wm *m)
{
    m->txn_retries++;
}

void shop_wm_base_labels(const struct shop_wm_view *v, struct shop_prom_label out[2])
{
    out[0] = (struct shop_prom_label){"role", v->role};
    out[1] = (struct shop_prom_label){"group", v->group};
}

/* Every type seen, then the overflow slot when anything landed there. */
static size_t types_to_render(const struct shop_wm *m, const struct shop_wm_type **out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_types; i++)
        out[n++] = &m->types[i];
    const struct shop_wm_type *u = &m->types[SHOP_WM_TYPES_MAX];
    uint64_t any = u->processed;
    for (int f = 0; f < SHOP_WM_FAIL_COUNT; f++)
        any |= u->failed[f];
    if (any != 0)
        out[n++] = u;
    return n;
}

static void render_events(const struct shop_wm *m, const struct shop_prom_label *base, struct shop_prom *out)
{
    const struct shop_wm_type *types[SHOP_WM_TYPES_MAX + 1];
    size_t n = types_to_render(m, types);
    struct shop_prom_label l[4] = {base[0], base[1]};
    shop_prom_family(out, "shopstream_worker_events_processed_total", "counter",
                     "Events consumed and committed with their effects (duplicates included), by type.");
    for (size_t i = 0; i < n; i++) {
        l[2] = (struct shop_prom_label){"type", types[i]->name};
        shop_prom_sample_u64(out, "shopstream_worker_events_processed_total", l, 3, types[i]->processed);
    }
    shop_prom_family(out, "shopstream_worker_events_failed_total", "counter",
                     "Events sent to the dead-letter topic, by type and reason.");
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < SHOP_WM_FAIL_COUNT; f++) {
            l[2] = (struct shop_prom_label){"type", types[i]->name};
            l[3] = (struct shop_prom_label){"reason", fail_names[f]};
            shop_prom_sample_u64(out, "shopstream_worker_events_failed_total", l, 4, types[i]->failed[f]);
        }
    }
}

static void render_batches(const struct shop_wm *m, const struct shop_prom_label *base, struct shop_prom *out)
{
    shop_prom_family(out, "shopstream_worker_batch_events", "histogram", "Records per committed batch.");
    shop_prom_histogram(out, "shopstream_worker_batch_events", base, 2, &m->batch_events);
    shop_prom_family(out, "shopstream_worker_commit_duration_seconds", "histogram",
                     "Time to apply and commit a batch in PostgreSQL (its transaction, offsets included).");
    shop_prom_histogram(out, "shopstream_worker_commit_duration_seconds", base, 2, &m->commit_seconds);
    shop_prom_family(out, "shopstream_worker_transaction_retries_total", "counter",
                     "Batch transactions PostgreSQL rolled back for a lost race (deadlock, serialization "
                     "failure) and that ran again at once.");
    shop_prom_sample_u64(out, "shopstream_worker_transaction_retries_total", base, 2, m->txn_retries);
}

static void render_group(const struct shop_wm *m, const struct shop_prom_label *base, struct shop_prom *out)
{
    struct shop_prom_label l[3] = {base[0], base[1]};
    shop_prom_family(out, "shopstream_worker_rebalances_total", "counter",
                     "Consumer group rebalances seen by this worker: partitions assigned or revoked.");
    for (int k = 0; k < SHOP_WM_REBALANCE_COUNT; k++) {
        l[2] = (struct shop_prom_label){"kind", rebalance_names[k]};
        shop_prom_sample_u64(out, "shopstream_worker_rebalances_total", l, 3, m->rebalances[k]);
    }
    shop_prom_family(out, "shopstream_worker_dead_letters_total", "counter",
                     "Records sent to the dead-letter topic, by the topic they were consumed from.");
    for (size_t i = 0; i <= SHOP_WM_TOPICS_MAX; i++) {
        const struct shop_wm_topic_count *t = &m->dead_letters[i];
        if (i >= m->n_dead_letters && (i < SHOP_WM_TOPICS_MAX || t->n == 0))
            continue;
        l[2] = (struct shop_prom_label){"topic", t->topic};
        shop_prom_sample_u64(out, "shopstream_worker_dead_letters_total", l, 3, t->n);
    }
}

static void render_view(const struct shop_wm_view *v, const struct shop_prom_label *base, struct shop_prom *out)
{
    struct shop_prom_label l[4] = {base[0], base[1]};
    shop_prom_family(out, "shopstream_worker_consumer_lag", "gauge",
                     "Messages behind the partition's high watermark (as last fetched), per assigned partition.");
    for (size_t i = 0; i < v->n_lags; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%d", (int)v->lags[i].partition);
        l[2] = (struct shop_prom_label){"topic", v->lags[i].topic};
        l[3] = (struct shop_prom_label){"partition", part};
        shop_prom_sample_i64(out, "shopstream_worker_consumer_lag", l, 4, v->lags[i].lag);
    }
    shop_prom_family(out, "shopstream_worker_partitions_paused", "gauge",
                     "Assigned partitions whose consumption is paused (a PostgreSQL outage, a full buffer).");
    shop_prom_sample_i64(out, "shopstream_worker_partitions_paused", base, 2, v->partitions_paused);
    if (v->outbox_depth < 0)
        return;
    shop_prom_family(out, "shopstream_worker_outbox_depth", "gauge",
                     "Outbox rows committed and not yet relayed to their topic (as last counted).");
    shop_prom_sample_i64(out, "shopstream_worker_outbox_depth", base, 2, v->outbox_depth);
}

void shop_wm_render(const struct shop_wm *m, const struct shop_wm_view *v, struct shop_prom *out)
{
    struct shop_prom_label base[2];
    shop_wm_base_labels(v, base);
    render_events(m, base, out);
    render_batches(m, base, out);
    render_group(m, base, out);
    render_view(v, base, out);
}

int shop_wm_ready(const struct shop_wm_ready_in *in, char *buf, size_t n)
{
    json_t *failed = json_array();
    if (in->unready != NULL) {
        /* The role has not started (a standby before the lease): no other check applies yet. */
        json_array_append_new(failed, json_string(in->unready));
    } else {
        if (in->assigned <= 0)
            json_array_append_new(failed, json_string("partitions"));
        if (!in->pg_up)
            json_array_append_new(failed, json_string("database"));
        if (in->lag > in->max_lag)
            json_array_append_new(failed, json_string("lag"));
    }
    bool ready = json_array_size(failed) == 0;
    json_t *body = json_pack("{s:s, s:i, s:b, s:I, s:I}", "status", ready ? "ready" : "not ready", "partitions",
                             in->assigned, "database", in->pg_up, "lag", (json_int_t)in->lag, "max_lag",
                             (json_int_t)in->max_lag);
    if (!ready)
        json_object_set(body, "failed", failed);
    json_decref(failed);
    size_t len = n > 0 ? json_dumpb(body, buf, n - 1, JSON_COMPACT) : 0;
    json_decref(body);
    if (n > 0 && (len == 0 || len > n - 1))   /* json_dumpb wrote nothing usable */
        snprintf(buf, n, "{\"status\":\"%s\"}", ready ? "ready" : "not ready");
    else if (n > 0)
        buf[len] = '\0';
    return ready ? 200 : 503;
}
