/* SPDX-License-Identifier: MIT
 * shopstream-bench-ingest: how fast the edge takes events, beside how fast the
 * same broker takes the same records from librdkafka alone, in one run.
 *   shopstream-bench-ingest [--url URL] [--brokers B] [--topic-prefix P]
 *       [--single N] [--batches N] [--batch-size N] [--concurrency C]
 *       [--data DIR] [--seed S] [--edge-pid PID]
 * (a) N single-event POSTs, (b) N batch POSTs of --batch-size events, both at
 * --concurrency requests in flight (libcurl multi, tools/replay/replay_post);
 * (c) the events of (b) decoded, stamped and packed by proto/core and produced
 * to the same topics with the edge's producer settings, every delivery report
 * awaited. Prints one row per mode and the ratio (b)/(c).
 * With --edge-pid, also the CPU time the edge process spent (utime+stime of
 * /proc/PID/stat, all its threads, librdkafka's included) per request and per
 * event in (a) and (b), beside this process's CPU (getrusage) per record in (c),
 * and their ratios: CPU time moves far less than throughput on a shared machine.
 * The edge's idle CPU over one second before the runs is printed as well (not
 * subtracted).
 * Events are Online Retail shoppers from tools/replay/replay_gen with "<invoice>-b<run>" order
 * ids (the run's start time: the edge refuses an order id already in the read model, 409),
 * for "bench-<customer>-s<session>" users (single events, ten per session, in order) and
 * "bench-<customer>-w<window>" users (batches), so requests can run at the full concurrency
 * and never mix with the demo's shoppers. As the replay does, they are posted with the
 * service role for the user each event names (the dataset's orders include payments and
 * shipping, which only a service may post).
 * The JWT secret comes from SHOPSTREAM_JWT_SECRET or _FILE.
 * Exit 0 when every request and record was accepted, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_log.h"
#include "bench/common/bench_proc.h"
#include "bench/ingest/bench_produce.h"
#include "tools/replay/replay_gen.h"
#include "tools/replay/replay_post.h"
#include "tools/retail/retail.h"

struct opts {
    const char *url, *brokers, *topic_prefix, *data_dir;
    size_t n_single, n_batches, batch_size;
    int concurrency;
    uint64_t seed;
    long edge_pid;                      /* 0: the edge's CPU is not measured */
};

/* One shopper event of the replay: its customer and its place in the customer's stream. */
struct flat_ev {
    char customer[16];
    size_t seq;
    json_t *ev;
};

/* Events of one customer posted one at a time form sessions of this many; a session's
 * requests run one after another, different sessions concurrently. */
#define SESSION_EVENTS 10

struct row {
    const char *mode;
    size_t events, requests;
    double seconds, p50_ms, p99_ms;
    double cpu_s;                       /* the edge's (http rows) or this process's (raw); <0: unknown */
};

static void usage(void)
{
    fprintf(stderr, "usage: shopstream-bench-ingest [--url URL] [--brokers B] [--topic-prefix P] [--single N]\n"
                    "         [--batches N] [--batch-size N] [--concurrency C] [--data DIR] [--seed S]\n"
                    "         [--edge-pid PID]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){
        .url = "http://127.0.0.1:8080",
        .brokers = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS),
        .topic_prefix = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX),
        .data_dir = SHOP_DATA_DIR,
        .n_single = 20000, .n_batches = 2000, .batch_size = 100, .concurrency = 32, .seed = 7,
    };
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--url") == 0) o->url = v;
        else if (strcmp(a, "--brokers") == 0) o->brokers = v;
        else if (strcmp(a, "--topic-prefix") == 0) o->topic_prefix = v;
        else if (strcmp(a, "--data") == 0) o->data_dir = v;
        else if (strcmp(a, "--single") == 0) o->n_single = strtoul(v, NULL, 10);
        else if (strcmp(a, "--batches") == 0) o->n_batches = strtoul(v, NULL, 10);
        else if (strcmp(a, "--batch-size") == 0) o->batch_size = strtoul(v, NULL, 10);
        else if (strcmp(a, "--concurrency") == 0) o->concurrency = atoi(v);
        else if (strcmp(a, "--seed") == 0) o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--edge-pid") == 0) o->edge_pid = strtol(v, NULL, 10);
        else return -1;
    }
    if (o->batch_size < 1 || o->batch_size > 1000 || o->concurrency < 1 || o->n_batches < 1 || o->edge_pid < 0)
        return -1;
    return 0;
}

/* ---- events ------------------------------------------------------------------ */

/* The shoppers' events of a plan in order (the catalog is left out), re-attributed. */
static size_t flatten_plan(const struct replay_plan *plan, struct flat_ev *out, size_t want, unsigned long run)
{
    size_t n = 0;
    for (size_t r = 0; r < plan->n_reqs && n < want; r++) {
        if (plan->reqs[r].admin)
            continue;
        json_t *root = json_loads(plan->reqs[r].body, 0, NULL), *ev;
        size_t i;
        json_array_foreach(json_object_get(root, "events"), i, ev) {
            if (n == want)
                break;
            const char *oid = json_string_value(json_object_get(ev, "order_id"));
            if (oid != NULL) {
                char buf[80];
                snprintf(buf, sizeof(buf), "%.40s-b%lx", oid, run);
                json_object_set_new(ev, "order_id", json_string(buf));
            }
            snprintf(out[n].customer, sizeof(out[n].customer), "%.15s", plan->reqs[r].user_id);
            out[n].seq = n > 0 && strcmp(out[n - 1].customer, out[n].customer) == 0 ? out[n - 1].seq + 1 : 0;
            out[n++].ev = json_incref(ev);
        }
        json_decref(root);
    }
    return n;
}

/* Loads the dataset and replays enough customers for want shopper events. */
static int load_events(const struct opts *o, size_t want, struct flat_ev **out, size_t *n_out)
{
    struct retail_row *rows;
    size_t n_rows, skipped;
    struct shop_err err = {0};
    if (retail_load_dir(o->data_dir, &rows, &n_rows, &skipped, &err) != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "could not load dataset", "err=\"%s\"", err.msg);
        return SHOP_EIO;
    }
    struct flat_ev *evs = shop_xcalloc(want, sizeof(*evs));
    size_t n = 0;
    unsigned long run = (unsigned long)time(NULL);
    /* About 500 events per customer; grow until there are enough (or every customer is in). */
    for (size_t customers = want / 400 + 20; n < want; customers *= 2) {
        struct replay_opts ro = {.customers = customers, .seed = o->seed, .order_lines_max = 100};
        struct replay_plan plan;
        if (replay_plan_build(rows, n_rows, &ro, &plan) != 0)
            break;
        for (size_t i = 0; i < n; i++)
            json_decref(evs[i].ev);
        n = flatten_plan(&plan, evs, want, run);
        size_t users = plan.n_users;
        replay_plan_free(&plan);
        if (users < customers)
            break;
    }
    free(rows);
    *out = evs;
    *n_out = n;
    return n == want ? 0 : SHOP_EINVAL;
}

/* ---- requests ---------------------------------------------------------------- */

static void request_set(struct replay_request *req, const char *user, const struct flat_ev *evs, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(evs[i].ev, "user_id", json_string(user));   /* each event is in one request */
        json_array_append(arr, evs[i].ev);
    }
    json_t *body = json_pack("{s:o}", "events", arr);
    snprintf(req->user_id, sizeof(req->user_id), "%s", user);
    req->admin = 0;
    req->body = json_dumps(body, JSON_COMPACT);
    req->n_events = n;
    json_decref(body);
}

struct rank_key {
    const char *user;
    size_t idx, rank;
};

static int cmp_user_idx(const void *a, const void *b)
{
    const struct rank_key *x = a, *y = b;
    int c = strcmp(x->user, y->user);
    return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_rank_idx(const void *a, const void *b)
{
    const struct rank_key *x = a, *y = b;
    if (x->rank != y->rank)
        return (x->rank > y->rank) - (x->rank < y->rank);
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The poster runs one user's consecutive requests one after another; interleaving the
 * users (every user's first request, then every second one, ...) lets all requests run
 * at the full concurrency, as independent shoppers would. */
static void interleave_users(struct replay_request *reqs, size_t n)
{
    struct rank_key *k = shop_xcalloc(n + 1, sizeof(*k));
    for (size_t i = 0; i < n; i++)
        k[i] = (struct rank_key){.user = reqs[i].user_id, .idx = i};
    qsort(k, n, sizeof(*k), cmp_user_idx);
    for (size_t i = 0; i < n; i++)
        k[i].rank = i > 0 && strcmp(k[i].user, k[i - 1].user) == 0 ? k[i - 1].rank + 1 : 0;
    qsort(k, n, sizeof(*k), cmp_rank_idx);
    struct replay_request *tmp = shop_xcalloc(n + 1, sizeof(*tmp));
    for (size_t i = 0; i < n; i++)
        tmp[i] = reqs[k[i].idx];
    memcpy(reqs, tmp, n * sizeof(*reqs));
    free(tmp);
    free(k);
}

static void requests_free(struct replay_request *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(reqs[i].body);
    free(reqs);
}

/* ---- modes ------------------------------------------------------------------- */

/* The poster retries connection errors with backoff, so a missing edge would look like
 * a very slow one: check it answers first. */
static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static int edge_is_up(const char *url)
{
    char u[512];
    snprintf(u, sizeof(u), "%s/healthz", url);
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, u);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    long code = 0;
    CURLcode res = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(easy);
    if (res != CURLE_OK || code != 200) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "edge does not answer", "url=%s status=%ld curl=\"%s\"", u, code,
                 curl_easy_strerror(res));
        return 0;
    }
    return 1;
}

/* ---- the edge's CPU ------------------------------------------------------------- */


/* The edge's CPU over a window; the window is unknown (-1) when either reading failed. */
static double cpu_delta(double before, double after)
{
    return before < 0 || after < 0 ? -1 : after - before;
}

static int run_http(const char *mode, const struct replay_request *reqs, size_t n, const struct replay_post_opts *po,
                    long edge_pid, struct row *row)
{
    struct replay_post_stats st = {0};
    double cpu0 = edge_pid > 0 ? bench_proc_cpu_s(edge_pid) : -1;
    int rc = replay_post_all(reqs, n, po, &st);
    double cpu = edge_pid > 0 ? cpu_delta(cpu0, bench_proc_cpu_s(edge_pid)) : -1;
    *row = (struct row){.mode = mode, .events = st.events_ok, .requests = st.requests_ok, .seconds = st.seconds,
                        .p50_ms = replay_latency_pct(&st, 50) / 1000, .p99_ms = replay_latency_pct(&st, 99) / 1000,
                        .cpu_s = cpu};
    if (rc != 0)
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "requests not accepted", "mode=%s ok=%zu of=%zu rejected=%zu failed=%zu",
                 mode, st.requests_ok, n, st.rejected, st.failed);
    free(st.lat_us);
    return rc;
}

static int run_raw(const struct opts *o, const struct replay_request *reqs, size_t n, struct row *row)
{
    struct bench_msgs m;
    struct shop_err err = {0};
    bench_msgs_init(&m);
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = bench_msgs_add_json(&m, reqs[i].body, REPLAY_SERVICE_SUBJECT, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE),
                                 now_ms, &err);
    struct bench_produce_result r = {0};
    struct bench_produce_opts bo = {.brokers = o->brokers, .topic_prefix = o->topic_prefix, .warmup = 1};
    if (rc == 0)
        rc = bench_produce_all(&m, &bo, &r, &err);
    if (rc != 0)
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "raw producer failed", "err=\"%s\"", err.msg);
    struct replay_post_stats st = {.lat_us = r.lat_us, .n_lat = r.n_lat};
    *row = (struct row){.mode = "raw librdkafka producer", .events = r.delivered > 0 ? r.delivered - bo.warmup : 0,
                        .seconds = r.seconds, .p50_ms = replay_latency_pct(&st, 50) / 1000,
                        .p99_ms = replay_latency_pct(&st, 99) / 1000, .cpu_s = rc == 0 ? r.cpu_s : -1};
    free(r.lat_us);
    bench_msgs_fini(&m);
    return rc;
}

static double row_rate(const struct row *r)
{
    return r->seconds > 0 ? (double)r->events / r->seconds : 0;
}

static void print_row(const struct row *r)
{
    printf("%-28s %9zu %9.2f %11.0f %9.1f %9.1f\n", r->mode, r->events, r->seconds, row_rate(r), r->p50_ms,
           r->p99_ms);
    fflush(stdout);
}

static double per(double cpu_s, size_t n)
{
    return cpu_s >= 0 && n > 0 ? cpu_s * 1e6 / (double)n : -1;
}

/* One row of the CPU table: CPU seconds, requests, and microseconds per request and per event. */
static void print_cpu_row(const char *mode, const struct row *r, bool http)
{
    if (r->cpu_s < 0) {
        printf("%-28s %9s\n", mode, "unknown");
        return;
    }
    if (http)
        printf("%-28s %9.3f %9zu %11.1f %9.2f\n", mode, r->cpu_s, r->requests, per(r->cpu_s, r->requests),
               per(r->cpu_s, r->events));
    else
        printf("%-28s %9.3f %9s %11s %9.2f\n", mode, r->cpu_s, "-", "-", per(r->cpu_s, r->events));
}

/* The CPU figures of the run: the edge's per request and per event beside the raw producer's. */
static void print_cpu(const struct opts *o, double idle_cpu_s, double idle_s, const struct row *rs,
                      const struct row *rb, const struct row *rr)
{
    printf("\ncpu: edge pid %ld (utime+stime from /proc/%ld/stat, %ld ticks/s, every thread); raw producer: "
           "getrusage of this process\n",
           o->edge_pid, o->edge_pid, sysconf(_SC_CLK_TCK));
    printf("%-28s %9s %9s %11s %9s\n", "cpu", "cpu s", "requests", "us/request", "us/event");
    if (o->n_single > 0)
        print_cpu_row("edge, single-event", rs, true);
    char mode[48];
    snprintf(mode, sizeof(mode), "edge, %zu-event batches", o->batch_size);
    print_cpu_row(mode, rb, true);
    print_cpu_row("raw librdkafka producer", rr, false);
    if (idle_cpu_s >= 0)
        printf("edge idle: %.3f cpu s over %.2f s before the runs (included above, not subtracted)\n", idle_cpu_s,
               idle_s);
    double raw = per(rr->cpu_s, rr->events), b = per(rb->cpu_s, rb->events);
    if (raw > 0 && b >= 0)
        printf("ratio edge-cpu / raw-producer-cpu per event, batched = %.1f (aim: edge <= 4 us per event)\n",
               b / raw);
    double s = per(rs->cpu_s, rs->events);
    if (o->n_single > 0 && raw > 0 && s >= 0)
        printf("ratio edge-cpu / raw-producer-cpu per event, single-event = %.1f (aim: edge <= 30 us per "
               "request)\n",
               s / raw);
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    if (o.edge_pid > 0 && bench_proc_cpu_s(o.edge_pid) < 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "cannot read the edge's cpu time", "pid=%ld path=/proc/%ld/stat",
                 o.edge_pid, o.edge_pid);
        return 2;
    }
    char *secret = replay_jwt_secret_load();
    if (secret == NULL) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "no jwt secret", "hint=\"set SHOPSTREAM_JWT_SECRET or _FILE\"");
        return 2;
    }
    size_t n_batch_ev = o.n_batches * o.batch_size, n_ev = 0;
    struct flat_ev *evs;
    if (load_events(&o, o.n_single + n_batch_ev, &evs, &n_ev) != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "not enough events in the dataset", "want=%zu have=%zu",
                 o.n_single + n_batch_ev, n_ev);
        return 1;
    }
    struct replay_request *single = shop_xcalloc(o.n_single + 1, sizeof(*single));
    struct replay_request *batch = shop_xcalloc(o.n_batches, sizeof(*batch));
    char user[24];
    for (size_t i = 0; i < o.n_single; i++) {
        snprintf(user, sizeof(user), "bench-%.10s-s%zu", evs[i].customer, evs[i].seq / SESSION_EVENTS % 100000);
        request_set(&single[i], user, &evs[i], 1);
    }
    /* A batch is a window of the time-ordered stream, posted by a user of its own. */
    for (size_t i = 0; i < o.n_batches; i++) {
        const struct flat_ev *first = &evs[o.n_single + i * o.batch_size];
        snprintf(user, sizeof(user), "bench-%.10s-w%zu", first->customer, i % 100000);
        request_set(&batch[i], user, first, o.batch_size);
    }
    for (size_t i = 0; i < n_ev; i++)
        json_decref(evs[i].ev);
    free(evs);
    interleave_users(single, o.n_single);
    interleave_users(batch, o.n_batches);

    struct replay_post_opts po = {
        .url = o.url, .jwt_secret = secret, .concurrency = o.concurrency, .max_retries = 8,
        .jwt_issuer = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_ISSUER", NULL),
        .jwt_audience = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_AUDIENCE", NULL),
    };
    printf("ingest benchmark: edge %s, brokers %s, topics %s*.v1, concurrency %d, Online Retail shoppers "
           "(seed %llu)\n",
           o.url, o.brokers, o.topic_prefix, o.concurrency, (unsigned long long)o.seed);
    printf("%-28s %9s %9s %11s %9s %9s\n", "mode", "events", "seconds", "events/s", "p50 ms", "p99 ms");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!edge_is_up(o.url))
        return 1;
    /* The edge's own background CPU (statistics, timers, librdkafka's threads), for scale. */
    double idle_cpu_s = -1, idle_s = 0;
    if (o.edge_pid > 0) {
        double c0 = bench_proc_cpu_s(o.edge_pid), t0 = bench_now_s();
        struct timespec one_s = {.tv_sec = 1};
        nanosleep(&one_s, NULL);
        idle_cpu_s = cpu_delta(c0, bench_proc_cpu_s(o.edge_pid));
        idle_s = bench_now_s() - t0;
    }
    struct row rs = {.mode = "http single-event", .cpu_s = -1}, rb, rr;
    char batch_mode[40];
    snprintf(batch_mode, sizeof(batch_mode), "http %zu-event batches", o.batch_size);
    int failed = 0;
    if (o.n_single > 0) {
        failed |= run_http("http single-event", single, o.n_single, &po, o.edge_pid, &rs) != 0;
        print_row(&rs);
    }
    failed |= run_http(batch_mode, batch, o.n_batches, &po, o.edge_pid, &rb) != 0;
    print_row(&rb);
    failed |= run_raw(&o, batch, o.n_batches, &rr) != 0;
    print_row(&rr);
    double raw = row_rate(&rr);
    printf("(latency: per HTTP request until its 202; per record from produce to delivery report)\n");
    printf("ratio batched-ingest / raw-producer = %.2f (aim >= 0.50)\n", raw > 0 ? row_rate(&rb) / raw : 0.0);
    if (o.n_single > 0 && raw > 0)
        printf("ratio single-event-ingest / raw-producer = %.2f\n", row_rate(&rs) / raw);
    if (o.edge_pid > 0)
        print_cpu(&o, idle_cpu_s, idle_s, &rs, &rb, &rr);
    curl_global_cleanup();
    requests_free(single, o.n_single);
    requests_free(batch, o.n_batches);
    free(secret);
    return failed ? 1 : 0;
}
