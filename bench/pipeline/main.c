/* SPDX-License-Identifier: MIT
 * shopstream-bench-pipeline: the whole pipeline on one machine. Against a running
 * edge and a running projector (shopstream-worker --role projector) on fresh topics
 * and a fresh database, it finds the highest ingest rate at which the projector's
 * lag stays flat, then the freshness (202 -> visible in the read model) at half
 * that rate, beside the raw producer's and the projector's own rates in the same run.
 *   shopstream-bench-pipeline --url URL --dsn DSN --brokers B --topic-prefix P --group G
 *       [--pid NAME=PID]... [--start R] [--max R] [--step-s S] [--warmup-s S] [--freshness-s S]
 *       [--batch-size N] [--connections C] [--probe-ms M] [--poll-ms M]
 *       [--raw-events N] [--pool N] [--data DIR] [--seed S] [--drain-timeout-s S]
 * --dsn is the projector's database, --group its consumer group (SHOPSTREAM_KAFKA_GROUP_ID);
 * the topics must be fresh (nothing else producing to them). --pid names the processes
 * whose CPU time each step prints (edge=..., projector=..., kafka=...); the database's
 * backends serving the edge and the projector are found in pg_stat_activity.
 * 1. raw limits: --raw-events events (the catalog, then shoppers) produced by the raw
 *    librdkafka producer (bench/ingest/bench_produce) into the same topics; the projector
 *    drains them, and its rate from the end of that production to zero lag is the
 *    projector's own rate with nothing else running.
 * 2. the search: after --warmup-s seconds at half the start rate (printed, not judged),
 *    steps of --step-s seconds at a constant offered rate, open loop (a request starts
 *    when the events offered so far fall behind rate x elapsed, whether earlier ones
 *    were answered or not) over --connections keep-alive connections with
 *    HS256 JWTs, requests of up to --batch-size events of one shopper (pipe_pool.h).
 *    Each step is judged by pipe_judge.h's rule (the edge kept up, no 503, lag flat over
 *    the second half); the rate grows x1.5 until a step is not flat, then bisects to 5 %.
 *    After each step the load stops until the lag is back to zero.
 * 3. freshness: --freshness-s seconds at half the highest flat rate. Every --probe-ms one
 *    request carries a product.viewed for a product of its own; a thread polls `products`
 *    every --poll-ms for those rows. Freshness is from the 202 to the poll that saw it.
 * The JWT secret comes from SHOPSTREAM_JWT_SECRET or _FILE (also _ISSUER, _AUDIENCE).
 * Exit 0 when the run completed (whatever the figures), 1 when it could not, 2 on usage.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_log.h"
#include "bench/ingest/bench_produce.h"
#include "bench/pipeline/pipe_judge.h"
#include "bench/common/bench_proc.h"
#include "bench/pipeline/pipe_pool.h"
#include "bench/pipeline/pipe_watch.h"
#include "tools/replay/replay_gen.h"
#include "tools/replay/replay_post.h"
#include "tools/retail/retail.h"

#define PIDS_MAX 8

struct opts {
    const char *url, *dsn, *brokers, *prefix, *group, *data_dir;
    const char *pid_name[PIDS_MAX];
    pid_t pid[PIDS_MAX];
    int n_pids, connections;
    double start, max, step_s, warmup_s, fresh_s, probe_s, poll_s, drain_timeout_s;
    size_t batch, raw_events, pool, per_user;
    uint64_t seed;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: shopstream-bench-pipeline --url URL --dsn DSN --brokers B --topic-prefix P --group G\n"
            "         [--pid NAME=PID]... [--start R] [--max R] [--step-s S] [--warmup-s S] [--freshness-s S]\n"
            "         [--batch-size N] [--connections C] [--probe-ms M] [--poll-ms M] [--raw-events N]\n"
            "         [--pool N] [--data DIR] [--seed S] [--drain-timeout-s S]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){
        .brokers = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS),
        .data_dir = SHOP_DATA_DIR, .connections = 64, .start = 20000, .max = 400000, .step_s = 10, .warmup_s = 5,
        .fresh_s = 15, .probe_s = 0.02, .poll_s = 0.005, .drain_timeout_s = 120, .batch = 100,
        .raw_events = 300000, .pool = 300000, .per_user = 400, .seed = 13,
    };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--url") == 0) o->url = v;
        else if (strcmp(a, "--dsn") == 0) o->dsn = v;
        else if (strcmp(a, "--brokers") == 0) o->brokers = v;
        else if (strcmp(a, "--topic-prefix") == 0) o->prefix = v;
        else if (strcmp(a, "--group") == 0) o->group = v;
        else if (strcmp(a, "--data") == 0) o->data_dir = v;
        else if (strcmp(a, "--start") == 0) o->start = atof(v);
        else if (strcmp(a, "--max") == 0) o->max = atof(v);
        else if (strcmp(a, "--step-s") == 0) o->step_s = atof(v);
        else if (strcmp(a, "--warmup-s") == 0) o->warmup_s = atof(v);
        else if (strcmp(a, "--freshness-s") == 0) o->fresh_s = atof(v);
        else if (strcmp(a, "--probe-ms") == 0) o->probe_s = atof(v) / 1000;
        else if (strcmp(a, "--poll-ms") == 0) o->poll_s = atof(v) / 1000;
        else if (strcmp(a, "--drain-timeout-s") == 0) o->drain_timeout_s = atof(v);
        else if (strcmp(a, "--batch-size") == 0) o->batch = strtoul(v, NULL, 10);
        else if (strcmp(a, "--connections") == 0) o->connections = atoi(v);
        else if (strcmp(a, "--raw-events") == 0) o->raw_events = strtoul(v, NULL, 10);
        else if (strcmp(a, "--pool") == 0) o->pool = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0) o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--pid") == 0) {
            const char *eq = strchr(v, '=');
            if (eq == NULL || o->n_pids == PIDS_MAX || atoi(eq + 1) <= 0)
                return -1;
            o->pid_name[o->n_pids] = strndup(v, (size_t)(eq - v));
            o->pid[o->n_pids++] = (pid_t)atoi(eq + 1);
        } else return -1;
    }
    if (o->url == NULL || o->dsn == NULL || o->prefix == NULL || o->group == NULL)
        return -1;
    if (o->batch < 1 || o->batch > 499 || o->connections < 1 || o->start < 1000 || o->max < o->start ||
        o->step_s < 2 || o->fresh_s <= 0 || o->probe_s <= 0 || o->poll_s <= 0 || o->pool < o->batch ||
        o->raw_events < 1)
        return -1;
    return 0;
}

/* ---- HTTP load --------------------------------------------------------------- */

struct conn {
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    size_t cap, n_events;
    char resp[256];
    size_t resp_len;
    long probe;         /* probe index, or -1 */
    double t_due;
    int busy;
};

struct http {
    CURLM *multi;
    struct conn *c;
    int n;
    char url[512];
    const char *secret, *iss, *aud;
    const struct pipe_pool *pool;
    char **tok;         /* per shopper, minted for tok_pass */
    uint32_t *tok_pass;
    uint64_t next_req, next_ev;
    uint32_t next_probe;
    size_t logged;
};

struct load_stats {
    double t0, seconds;
    size_t sent, ok, ok_late_half, n503, failed, requests;
    double t_last;
    double *lat_ms;
    size_t n_lat, cap_lat;
    double max_backlog;     /* events due but not sent for want of a free connection */
};

static size_t keep_resp(char *p, size_t size, size_t n, void *ud)
{
    struct conn *c = ud;
    size_t room = sizeof(c->resp) - 1 - c->resp_len, take = size * n < room ? size * n : room;
    memcpy(c->resp + c->resp_len, p, take);
    c->resp_len += take;
    c->resp[c->resp_len] = '\0';
    return size * n;
}

static void http_init(struct http *h, const struct opts *o, const struct pipe_pool *pool, const char *secret)
{
    *h = (struct http){.n = o->connections, .secret = secret, .pool = pool};
    h->iss = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_ISSUER", NULL);
    h->aud = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_AUDIENCE", NULL);
    snprintf(h->url, sizeof(h->url), "%s/v1/events", o->url);
    h->multi = curl_multi_init();
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->n);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->n);
    h->c = shop_xcalloc((size_t)h->n, sizeof(*h->c));
    for (int i = 0; i < h->n; i++) {
        struct conn *c = &h->c[i];
        c->easy = curl_easy_init();
        curl_easy_setopt(c->easy, CURLOPT_URL, h->url);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, keep_resp);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    }
    h->tok = shop_xcalloc(pool->n_users + 1, sizeof(*h->tok));
    h->tok_pass = shop_xcalloc(pool->n_users + 1, sizeof(*h->tok_pass));
}

static void http_fini(struct http *h)
{
    for (int i = 0; i < h->n; i++) {
        if (h->c[i].busy)
            curl_multi_remove_handle(h->multi, h->c[i].easy);
        curl_easy_cleanup(h->c[i].easy);
        curl_slist_free_all(h->c[i].hdrs);
        free(h->c[i].body);
    }
    curl_multi_cleanup(h->multi);
    for (size_t u = 0; u < h->pool->n_users; u++)
        free(h->tok[u]);
    free(h->tok);
    free(h->tok_pass);
    free(h->c);
}

/* One token per shopper and pass, as a browser keeps one for its session. */
static const char *token_for(struct http *h, uint32_t u, uint32_t pass)
{
    if (h->tok[u] == NULL || h->tok_pass[u] != pass) {
        char sub[40];
        pipe_pool_subject(h->pool, u, pass, sub);
        free(h->tok[u]);
        h->tok[u] = replay_mint_token(h->secret, sub, "service", h->iss, h->aud, (int64_t)time(NULL), 3600);
        h->tok_pass[u] = pass;
    }
    return h->tok[u];
}

static void start_request(struct http *h, struct conn *c, struct pipe_watch *w, int probe, double t_due)
{
    const struct pipe_pool *p = h->pool;
    const struct pipe_req *r = &p->reqs[h->next_req % p->n_reqs];
    uint32_t pass = (uint32_t)(h->next_req / p->n_reqs);
    h->next_req++;
    char product[48];
    if (probe)
        snprintf(product, sizeof(product), "probe-%08x-%u", p->nonce, h->next_probe++);
    size_t len = pipe_pool_render(p, r, pass, &h->next_ev, probe ? product : NULL, &c->body, &c->cap);
    char auth[1024];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token_for(h, r->user, pass));
    curl_slist_free_all(c->hdrs);
    c->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    c->hdrs = curl_slist_append(c->hdrs, "Expect:");
    c->hdrs = curl_slist_append(c->hdrs, auth);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
    c->resp_len = 0;
    c->resp[0] = '\0';
    c->n_events = r->n + (probe ? 1 : 0);
    c->t_due = t_due;
    c->probe = probe ? (long)pipe_watch_probe_add(w, product, pipe_now_s()) : -1;
    c->busy = 1;
    curl_multi_add_handle(h->multi, c->easy);
}

static void on_done(struct http *h, struct conn *c, CURLcode res, struct pipe_watch *w, struct load_stats *st)
{
    long code = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(h->multi, c->easy);
    double now = pipe_now_s();
    c->busy = 0;
    st->requests++;
    int ok = res == CURLE_OK && code == 202;
    if (ok) {
        st->ok += c->n_events;
        if (now >= st->t0 + st->seconds / 2 && now <= st->t0 + st->seconds)
            st->ok_late_half += c->n_events;
        st->t_last = now;
        if (st->n_lat == st->cap_lat) {
            st->cap_lat = st->cap_lat ? st->cap_lat * 2 : 4096;
            st->lat_ms = shop_xrealloc(st->lat_ms, st->cap_lat * sizeof(*st->lat_ms));
        }
        st->lat_ms[st->n_lat++] = (now - c->t_due) * 1000;
    } else if (res == CURLE_OK && code == 503) {
        st->n503++;
    } else {
        st->failed++;
    }
    if (!ok && h->logged++ < 5)
        SHOP_LOG(SHOP_LOG_WARN, "bench", "request not accepted", "status=%ld curl=\"%s\" body=%s", code,
                 curl_easy_strerror(res), c->resp);
    if (c->probe >= 0)
        pipe_watch_probe_done(w, (size_t)c->probe, now, ok);
}

/* Offers rate events/s for seconds, open loop: a request starts as soon as the events sent
 * so far fall behind rate x elapsed and a connection is free. Returns when every offered
 * event was answered (or 30 s after the end, leaving the rest unsent). */
static void run_load(struct http *h, struct pipe_watch *w, double rate, double seconds, double probe_s,
                     struct load_stats *st, double *t0_out)
{
    double t0 = pipe_now_s(), end = t0 + seconds, total = rate * seconds, next_probe = t0;
    *st = (struct load_stats){.t0 = t0, .seconds = seconds};
    *t0_out = t0;
    int inflight = 0;
    for (;;) {
        double now = pipe_now_s(), allowed = now < end ? rate * (now - t0) : total;
        int free_i = 0;
        while ((double)st->sent < allowed) {
            while (free_i < h->n && h->c[free_i].busy)
                free_i++;
            if (free_i == h->n)
                break;
            int probe = probe_s > 0 && now >= next_probe;
            if (probe)
                next_probe = next_probe + probe_s < now ? now + probe_s : next_probe + probe_s;
            start_request(h, &h->c[free_i], w, probe, t0 + (double)st->sent / rate);
            st->sent += h->c[free_i].n_events;
            inflight++;
        }
        if (allowed - (double)st->sent > st->max_backlog)
            st->max_backlog = allowed - (double)st->sent;
        if (now >= end && (double)st->sent >= total && inflight == 0)
            break;
        if (now >= end + 30 && inflight == 0)
            break;
        int running;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct conn *c;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            on_done(h, c, m->data.result, w, st);
            inflight--;
        }
        curl_multi_poll(h->multi, NULL, 0, 1, NULL);
    }
}

/* ---- CPU of the processes under test ----------------------------------------- */

struct cpu_snap {
    double proc[PIDS_MAX], pg, self, busy, total, t;
};

/* The database's backends other than the benchmark's own: the projector's and the edge's. */
static double pg_backends_cpu(PGconn *conn, const char *own_app)
{
    const char *params[1] = {own_app};
    PGresult *res = PQexecParams(conn, "select pid from pg_stat_activity where datname = current_database() "
                                       "and application_name <> $1", 1, NULL, params, NULL, NULL, 0);
    double sum = 0;
    for (int r = 0; PQresultStatus(res) == PGRES_TUPLES_OK && r < PQntuples(res); r++) {
        double c = bench_proc_cpu_s(atol(PQgetvalue(res, r, 0)));
        sum += c > 0 ? c : 0;
    }
    PQclear(res);
    return sum;
}

static void cpu_take(const struct opts *o, PGconn *conn, struct cpu_snap *s)
{
    for (int i = 0; i < o->n_pids; i++)
        s->proc[i] = bench_proc_cpu_s(o->pid[i]);
    s->pg = pg_backends_cpu(conn, "shopstream-bench-pipeline");
    s->self = bench_proc_cpu_s(getpid());
    pipe_cpu_machine(&s->busy, &s->total);
    s->t = pipe_now_s();
}

/* Percent of one core per process over [a, b]; the machine as a share of all its cores. */
static void cpu_print(const struct opts *o, const struct cpu_snap *a, const struct cpu_snap *b)
{
    double wall = b->t - a->t;
    if (wall <= 0)
        return;
    printf("   cpu %% of a core:");
    for (int i = 0; i < o->n_pids; i++)
        printf(" %s %.0f", o->pid_name[i], (b->proc[i] - a->proc[i]) / wall * 100);
    printf(" postgres-backends %.0f bench %.0f | machine busy %.0f %% of %ld cores\n", (b->pg - a->pg) / wall * 100,
           (b->self - a->self) / wall * 100,
           b->total > a->total ? (b->busy - a->busy) / (b->total - a->total) * 100 : 0, sysconf(_SC_NPROCESSORS_ONLN));
}

/* ---- phases ------------------------------------------------------------------ */

struct bench {
    const struct opts *o;
    struct pipe_pool pool;
    struct replay_plan plan;
    struct http http;
    struct pipe_watch watch;
    struct pipe_lag lag;    /* the main thread's own, for draining */
    struct pipe_flat_rule rule;
};

static int procs_alive(const struct opts *o, struct shop_err *err)
{
    for (int i = 0; i < o->n_pids; i++)
        if (kill(o->pid[i], 0) != 0)
            return shop_err_set(err, SHOP_EIO, "%s (pid %d) is gone", o->pid_name[i], (int)o->pid[i]);
    return 0;
}

/* Polls the lag until it is zero; *lag0 gets the first reading. */
static int drain(struct bench *b, double *seconds, int64_t *lag0, struct shop_err *err)
{
    double t0 = pipe_now_s();
    for (int first = 1;; first = 0) {
        int64_t lag, end;
        if (pipe_lag_read(&b->lag, &lag, &end, err) != 0)
            return err->code;
        if (first && lag0 != NULL)
            *lag0 = lag;
        if (lag == 0) {
            *seconds = pipe_now_s() - t0;
            return 0;
        }
        if (pipe_now_s() - t0 > b->o->drain_timeout_s)
            return shop_err_set(err, SHOP_EIO, "the projector's lag is still %" PRId64 " after %.0f s", lag,
                                b->o->drain_timeout_s);
        if (procs_alive(b->o, err) != 0)
            return err->code;
        usleep(10000);
    }
}

static int raw_phase(struct bench *b, double *raw_rate, double *proj_rate, struct shop_err *err)
{
    const struct opts *o = b->o;
    struct bench_msgs m;
    bench_msgs_init(&m);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    int rc = 0;
    for (size_t i = 0; i < b->plan.n_reqs && rc == 0; i++)
        if (b->plan.reqs[i].admin)
            rc = bench_msgs_add_json(&m, b->plan.reqs[i].body, b->plan.reqs[i].user_id,
                                     SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_ADMIN), now_ms, err);
    size_t n_catalog = m.n;
    char *body = NULL, sub[40];
    size_t cap = 0;
    /* Passes counted down from 0xffff, so that they never meet the HTTP passes' names. */
    uint64_t ev_seq = (uint64_t)1 << 44;
    for (size_t i = 0; rc == 0 && m.n < n_catalog + o->raw_events; i++) {
        const struct pipe_req *r = &b->pool.reqs[i % b->pool.n_reqs];
        uint32_t pass = 0xffffu - (uint32_t)(i / b->pool.n_reqs);
        pipe_pool_render(&b->pool, r, pass, &ev_seq, NULL, &body, &cap);
        pipe_pool_subject(&b->pool, r->user, pass, sub);
        rc = bench_msgs_add_json(&m, body, sub, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), now_ms, err);
    }
    free(body);
    struct bench_produce_result pr = {0};
    struct bench_produce_opts po = {.brokers = o->brokers, .topic_prefix = o->prefix, .warmup = 1};
    double t_start = pipe_now_s();
    if (rc == 0)
        rc = bench_produce_all(&m, &po, &pr, err);
    double t_prod = pipe_now_s(), drain_s = 0;
    int64_t backlog = 0;
    struct cpu_snap c0, c1;
    cpu_take(o, b->lag.conn, &c0);
    if (rc == 0)
        rc = drain(b, &drain_s, &backlog, err);
    cpu_take(o, b->lag.conn, &c1);
    if (rc != 0) {
        free(pr.lat_us);
        bench_msgs_fini(&m);
        return rc;
    }
    size_t n = pr.delivered > po.warmup ? pr.delivered - po.warmup : 0;
    *raw_rate = pr.seconds > 0 ? (double)n / pr.seconds : 0;
    printf("%-40s %9s %9s %11s\n", "raw limits", "events", "seconds", "events/s");
    printf("%-40s %9zu %9.2f %11.0f\n", "raw librdkafka producer (same topics)", n, pr.seconds, *raw_rate);
    /* The projector ran while the producer did; its own rate is over what was left. */
    if (backlog >= 10000) {
        *proj_rate = (double)backlog / drain_s;
        printf("%-40s %9" PRId64 " %9.2f %11.0f\n", "projector alone (backlog after that)", backlog, drain_s,
               *proj_rate);
        /* The same figures as after the freshness step, for a projector facing a backlog
         * (full batches) instead of a live trickle. */
        printf("   cpu per event draining it:");
        for (int i = 0; i < o->n_pids; i++)
            printf(" %s %.1f us", o->pid_name[i], (c1.proc[i] - c0.proc[i]) * 1e6 / (double)backlog);
        printf(" postgres-backends %.1f us\n", (c1.pg - c0.pg) * 1e6 / (double)backlog);
    } else {
        *proj_rate = (double)m.n / (t_prod - t_start + drain_s);
        printf("%-40s %9zu %9.2f %11.0f   (kept up with the producer)\n", "projector alone (backlog after that)", m.n,
               t_prod - t_start + drain_s, *proj_rate);
    }
    fflush(stdout);
    free(pr.lat_us);
    bench_msgs_fini(&m);
    return rc;
}

struct step_result {
    struct cpu_snap c0, c1;
    size_t events;
    struct pipe_verdict v;
    double achieved, p50_ms, p99_ms, fresh_p50, fresh_p99, drain_s;
    size_t n_fresh, unseen;
};

static int step(struct bench *b, double rate, double seconds, struct step_result *out, struct shop_err *err)
{
    const struct opts *o = b->o;
    struct cpu_snap c0, c1;
    struct load_stats st;
    double t0;
    size_t probe0 = pipe_watch_n_probes(&b->watch);
    cpu_take(o, b->lag.conn, &c0);
    run_load(&b->http, &b->watch, rate, seconds, o->probe_s, &st, &t0);
    cpu_take(o, b->lag.conn, &c1);
    struct pipe_lag_sample *samples;
    size_t n_samples = pipe_watch_samples(&b->watch, t0, t0 + seconds, &samples);
    *out = (struct step_result){.c0 = c0, .c1 = c1, .events = st.ok};
    /* Answered over the second half, the window the lag is judged on: the edge's
     * throughput once it is warm, without the last requests' latency. */
    out->achieved = (double)st.ok_late_half / (seconds / 2);
    struct pipe_step s = {.offered_rate = rate, .seconds = seconds, .achieved_rate = out->achieved,
                          .rejected_503 = st.n503, .failed = st.failed,
                          .lag = samples, .n_lag = n_samples};
    pipe_judge_step(&s, &b->rule, &out->v);
    free(samples);
    out->p50_ms = pipe_percentile(st.lat_ms, st.n_lat, 50);
    out->p99_ms = pipe_percentile(st.lat_ms, st.n_lat, 99);
    free(st.lat_ms);
    int rc = drain(b, &out->drain_s, NULL, err);
    /* Every projected probe is visible once the lag is zero; give the poll a moment. */
    size_t probe1 = pipe_watch_n_probes(&b->watch);
    for (int i = 0; i < 200 && pipe_watch_unseen(&b->watch, probe0, probe1) > 0; i++)
        usleep(10000);
    double *fresh;
    out->n_fresh = pipe_watch_freshness(&b->watch, probe0, probe1, &fresh, &out->unseen);
    out->fresh_p50 = pipe_percentile(fresh, out->n_fresh, 50);
    out->fresh_p99 = pipe_percentile(fresh, out->n_fresh, 99);
    free(fresh);
    printf("%9.0f %10.0f %6zu %6zu %8.0f %9" PRId64 " %9" PRId64 " %11.0f %7.0f %7.0f %8.1f %8.1f %7.1f  %s\n", rate,
           out->achieved, st.n503, st.failed, st.max_backlog, out->v.lag_end, out->v.lag_max, out->v.slope,
           out->p50_ms, out->p99_ms, out->fresh_p50, out->fresh_p99, out->drain_s,
           out->v.flat ? "flat" : out->v.why);
    cpu_print(o, &c0, &c1);
    fflush(stdout);
    if (rc == 0 && out->unseen > 0)
        SHOP_LOG(SHOP_LOG_WARN, "bench", "probes never became visible", "unseen=%zu", out->unseen);
    pthread_mutex_lock(&b->watch.mu);
    if (rc == 0 && b->watch.err[0] != '\0')
        rc = shop_err_set(err, SHOP_EIO, "%s", b->watch.err);
    pthread_mutex_unlock(&b->watch.mu);
    return rc;
}

/* CPU time per answered event of each process over a step: less noisy than rates on a
 * shared machine, and their sum bounds what the cores could carry. */
static void print_cpu_per_event(const struct opts *o, const struct step_result *r, double rate)
{
    if (r->events == 0)
        return;
    double per = 1e6 / (double)r->events, sum = 0;
    printf("cpu per event at %.0f events/s:", rate);
    for (int i = 0; i < o->n_pids; i++) {
        double us = (r->c1.proc[i] - r->c0.proc[i]) * per;
        sum += us;
        printf(" %s %.1f us,", o->pid_name[i], us);
    }
    double pg = (r->c1.pg - r->c0.pg) * per;
    sum += pg;
    printf(" postgres-backends %.1f us, bench %.1f us; together without the bench %.1f us per event = at most %.0f "
           "events/s on %ld cores\n",
           pg, (r->c1.self - r->c0.self) * per, sum, sum > 0 ? 1e6 * (double)sysconf(_SC_NPROCESSORS_ONLN) / sum : 0.0,
           sysconf(_SC_NPROCESSORS_ONLN));
}

static void print_step_header(void)
{
    printf("%9s %10s %6s %6s %8s %9s %9s %11s %7s %7s %8s %8s %7s  %s\n", "offered/s", "achieved/s", "503s",
           "failed", "backlog", "lag end", "lag max", "lag slope/s", "p50 ms", "p99 ms", "fresh50", "fresh99",
           "drain s", "verdict");
}

/* The edge's own decoding, stamping and validation (proto/core through bench_produce);
 * the rest of a refused order's lifecycle goes with it (paid/shipped for an order never
 * placed would only exercise the projector's rejection path). */
struct keep_state {
    struct bench_msgs m;
    char (*refused)[80];
    size_t n_refused, n_dropped;
};

static int order_id_of(const char *event_json, char out[80])
{
    const char *p = strstr(event_json, "\"order_id\":\"");
    if (p == NULL)
        return 0;
    p += 12;
    size_t n = strcspn(p, "\"");
    snprintf(out, 80, "%.*s", (int)(n < 79 ? n : 79), p);
    return 1;
}

static int edge_would_take(const char *event_json, const char *user, void *ud)
{
    struct keep_state *k = ud;
    char oid[80];
    int has_order = order_id_of(event_json, oid);
    for (size_t i = 0; has_order && i < k->n_refused; i++)
        if (strcmp(k->refused[i], oid) == 0)
            return 0;
    size_t len = strlen(event_json);
    char *body = shop_xcalloc(len + 16, 1);
    memcpy(body, "{\"events\":[", 11);
    memcpy(body + 11, event_json, len);
    memcpy(body + 11 + len, "]}", 3);
    /* The template's holes for the id and the pass take digits when it is posted. */
    for (char *c = body; *c != '\0'; c++)
        if (*c == '#' || *c == '~' || *c == '^')
            *c = '0';
    struct shop_err err = {0};
    int ok = bench_msgs_add_json(&k->m, body, user, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE), (int64_t)time(NULL) * 1000,
                                 &err) == 0;
    if (!ok)
        k->n_dropped++;
    free(body);
    if (!ok && has_order) {
        k->refused = shop_xrealloc(k->refused, (k->n_refused + 1) * sizeof(*k->refused));
        memcpy(k->refused[k->n_refused++], oid, sizeof(oid));
    }
    if (k->m.n >= 10000) {
        bench_msgs_fini(&k->m);
        bench_msgs_init(&k->m);
    }
    return ok;
}

static int load_pool(struct bench *b, struct shop_err *err)
{
    const struct opts *o = b->o;
    struct retail_row *rows;
    size_t n_rows, skipped;
    if (retail_load_dir(o->data_dir, &rows, &n_rows, &skipped, err) != 0)
        return SHOP_EIO;
    uint32_t nonce = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
    int rc = 0;
    for (size_t customers = o->pool / o->per_user + 20;; customers *= 2) {
        struct replay_opts ro = {.customers = customers, .seed = o->seed, .order_lines_max = 100};
        pipe_pool_free(&b->pool);
        if (b->plan.reqs != NULL)
            replay_plan_free(&b->plan);
        b->plan = (struct replay_plan){0};
        if (replay_plan_build(rows, n_rows, &ro, &b->plan) != 0) {
            rc = shop_err_set(err, SHOP_EINVAL, "no rows to replay in %s", o->data_dir);
            break;
        }
        struct keep_state keep = {0};
        bench_msgs_init(&keep.m);
        size_t n = pipe_pool_build(&b->pool, &b->plan, o->pool, o->batch, o->per_user, nonce, edge_would_take,
                                   &keep);
        bench_msgs_fini(&keep.m);
        free(keep.refused);
        if (keep.n_dropped > 0)
            SHOP_LOG(SHOP_LOG_INFO, "bench", "left out events the edge would refuse", "events=%zu orders=%zu",
                     keep.n_dropped, keep.n_refused);
        if (n >= o->pool)
            break;
        if (b->plan.n_users < customers) {
            rc = shop_err_set(err, SHOP_EINVAL, "the dataset gives only %zu events", n);
            break;
        }
    }
    free(rows);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    char *secret = replay_jwt_secret_load();
    if (secret == NULL) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "no jwt secret", "hint=\"set SHOPSTREAM_JWT_SECRET or _FILE\"");
        return 2;
    }
    /* The benchmark's own connections are left out of the database's CPU. */
    setenv("PGAPPNAME", "shopstream-bench-pipeline", 1);
    struct bench b = {.o = &o, .rule = pipe_flat_rule_default()};
    struct shop_err err = {0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = load_pool(&b, &err);
    if (rc == 0)
        rc = pipe_lag_open(&b.lag, o.dsn, o.brokers, o.prefix, o.group, &err);
    if (rc == 0)
        rc = pipe_watch_start(&b.watch, o.dsn, o.brokers, o.prefix, o.group, o.poll_s, &err);
    if (rc != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "pipeline benchmark could not start", "err=\"%s\"", err.msg);
        return 1;
    }
    http_init(&b.http, &o, &b.pool, secret);
    printf("pipeline benchmark: edge %s, brokers %s, topics %s*.v1, projector group %s\n", o.url, o.brokers, o.prefix,
           o.group);
    printf("load: %zu Online Retail shopper events (seed %llu) in %zu requests of up to %zu events, open loop over "
           "%d connections, steps of %.0f s; a probe every %.0f ms, polled every %.0f ms\n",
           b.pool.n_evs, (unsigned long long)o.seed, b.pool.n_reqs, o.batch, o.connections, o.step_s, o.probe_s * 1000,
           o.poll_s * 1000);
    printf("flat: achieved >= %.0f %% of offered, no 503 or failed request, and over the step's second half a lag "
           "slope <= max(%.0f %% of the offered rate, %" PRId64 " records over the half) and a lag <= max(%.1f s of "
           "events, %" PRId64 ")\n",
           b.rule.keep_up_min * 100, b.rule.slope_max * 100, b.rule.growth_floor, b.rule.lag_max_s, b.rule.lag_floor);
    fflush(stdout);
    double raw_rate = 0, proj_rate = 0, flat = 0;
    rc = raw_phase(&b, &raw_rate, &proj_rate, &err);
    struct pipe_search s;
    pipe_search_init(&s, o.start, 1000, o.max);
    if (rc == 0) {
        printf("\nsearch (latency: request due -> 202; freshness: 202 -> visible in products, ms)\n");
        print_step_header();
    }
    /* Fresh topics, a fresh JIT and cold caches make the first seconds slower than the rest:
     * one step at half the start rate that is printed but not judged. */
    if (rc == 0 && o.warmup_s > 0) {
        struct step_result r;
        printf("(warm-up, not judged)\n");
        rc = step(&b, pipe_search_first(&s) / 2, o.warmup_s, &r, &err);
    }
    struct step_result best = {0};
    for (double rate = pipe_search_first(&s); rc == 0 && rate > 0;) {
        struct step_result r;
        rc = step(&b, rate, o.step_s, &r, &err);
        if (rc == 0 && r.v.flat && rate > s.best_flat)
            best = r;
        if (rc == 0)
            rate = pipe_search_next(&s, rate, r.v.flat);
    }
    flat = s.best_flat;
    struct step_result fr = {0};
    if (rc == 0) {
        printf("highest rate with flat lag: %.0f events/s (aim >= 80000; %d steps)\n", flat, s.steps);
        if (flat > 0)
            print_cpu_per_event(&o, &best, flat);
        if (flat > 0) {
            printf("\nfreshness at half that rate, %.0f s\n", o.fresh_s);
            print_step_header();
            rc = step(&b, flat / 2, o.fresh_s, &fr, &err);
        }
    }
    if (rc == 0) {
        if (flat > 0)
            printf("freshness at %.0f events/s (%zu probes, %zu not visible): p50 %.1f ms, p99 %.1f ms (aim p99 < 100 "
                   "ms)\n",
                   flat / 2, fr.n_fresh, fr.unseen, fr.fresh_p50, fr.fresh_p99);
        if (flat > 0)
            print_cpu_per_event(&o, &fr, flat / 2);
        printf("ratio flat-lag-pipeline / projector-alone = %.2f\n", proj_rate > 0 ? flat / proj_rate : 0.0);
        printf("ratio flat-lag-pipeline / raw-producer = %.2f\n", raw_rate > 0 ? flat / raw_rate : 0.0);
    } else {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "pipeline benchmark failed", "err=\"%s\"", err.msg);
    }
    http_fini(&b.http);
    pipe_watch_stop(&b.watch);
    pipe_lag_close(&b.lag);
    pipe_pool_free(&b.pool);
    replay_plan_free(&b.plan);
    curl_global_cleanup();
    free(secret);
    return rc == 0 ? 0 : 1;
}
