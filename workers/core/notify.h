/* SPDX-License-Identifier: MIT
 * The notify role's pure core (docs/webhooks.md): the endpoint configuration, which
 * events are order status changes, the webhook body and its stable id, the signature,
 * the retry schedule, the per-partition offset windows and the per-endpoint metrics.
 * Pure: no I/O, no clock (times are passed in), no logging.
 */
#ifndef SHOP_NOTIFY_H
#define SHOP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_cfg.h"
#include "base/shop_err.h"
#include "proto/core/shop_event.h"
#include "workers/core/backoff.h"

#define SHOP_NOTIFY_ENDPOINTS_MAX 16
#define SHOP_NOTIFY_NAME_MAX 32           /* endpoint names: [a-z0-9_-]{1,32} */
#define SHOP_NOTIFY_URL_MAX 1024
#define SHOP_NOTIFY_SECRET_MIN 16         /* bytes; shorter secrets are refused */
#define SHOP_NOTIFY_SECRET_MAX 256
#define SHOP_NOTIFY_SIG_MAX 128           /* "t=<ms>,v1=<64 hex>" */

/* ---- configuration (notify_cfg.c) ------------------------------------------------- */

struct shop_notify_endpoint {
    char name[SHOP_NOTIFY_NAME_MAX + 1];
    char url[SHOP_NOTIFY_URL_MAX];
    char secret[SHOP_NOTIFY_SECRET_MAX + 1];   /* from SHOPSTREAM_NOTIFY_SECRET_<NAME> */
    char secret_file[SHOP_NOTIFY_URL_MAX];     /* or from this file (read by the shell) */
};

struct shop_notify_cfg {
    int n_endpoints;
    struct shop_notify_endpoint endpoints[SHOP_NOTIFY_ENDPOINTS_MAX];
    int64_t timeout_ms;            /* SHOPSTREAM_NOTIFY_TIMEOUT_MS: one attempt, end to end */
    int64_t connect_timeout_ms;    /* SHOPSTREAM_NOTIFY_CONNECT_TIMEOUT_MS */
    int64_t max_attempts;          /* SHOPSTREAM_NOTIFY_MAX_ATTEMPTS: then parked */
    int64_t backoff_base_ms;       /* SHOPSTREAM_NOTIFY_BACKOFF_BASE_MS */
    int64_t backoff_max_ms;        /* SHOPSTREAM_NOTIFY_BACKOFF_MAX_MS */
    int64_t window;                /* SHOPSTREAM_NOTIFY_WINDOW: pending per endpoint before pausing */
    int64_t concurrency;           /* SHOPSTREAM_NOTIFY_CONCURRENCY: requests in flight per endpoint */
    const char *ca_file;           /* SHOPSTREAM_NOTIFY_CA_FILE: NULL for the system's CAs */
    bool allow_http;               /* SHOPSTREAM_NOTIFY_ALLOW_HTTP: plain http:// (tests only) */
};

/** Loads the notify settings from get; every problem goes to errs. 0 or SHOP_ECONFIG.
 *  SHOPSTREAM_NOTIFY_ENDPOINTS is "name=url;name=url"; each endpoint's secret comes from
 *  SHOPSTREAM_NOTIFY_SECRET_<NAME> or SHOPSTREAM_NOTIFY_SECRET_<NAME>_FILE (NAME upper
 *  case, '-' as '_'). */
int shop_notify_cfg_load(struct shop_notify_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs);

/** The effective settings as logfmt, secrets left out. Returns the length (truncated). */
size_t shop_notify_cfg_format(const struct shop_notify_cfg *cfg, char *buf, size_t n);

/** The parking topic of an endpoint: "<prefix>notify.<name>.parked.v1". 0 or SHOP_ENOMEM. */
int shop_notify_parking_topic(char *buf, size_t n, const char *prefix, const char *endpoint);

/* ---- order status changes (notify_event.c) ---------------------------------------- */

enum shop_notify_status {
    SHOP_NOTIFY_CONFIRMED = 0,     /* inventory.reserved */
    SHOP_NOTIFY_REJECTED,          /* inventory.rejected */
    SHOP_NOTIFY_SHIPPED,           /* inventory.committed: the shipped order's units left */
    SHOP_NOTIFY_CANCELLED,         /* inventory.released: the cancelled order's units came back */
    SHOP_NOTIFY_STATUS_COUNT
};

/** "confirmed", ... */
const char *shop_notify_status_name(enum shop_notify_status s);

/** The status change ev announces; false for any other event (low stock, ...). */
bool shop_notify_status_of(const Shopstream__V1__Event *ev, enum shop_notify_status *out);

/** One webhook: the same for every endpoint and every redelivery. */
struct shop_notify_msg {
    char id[37];                   /* UUID v5 of (order id, status, source event id) */
    enum shop_notify_status status;
    char type[32];                 /* "order.confirmed", ... (Shopstream-Event-Type) */
    char *body;                    /* JSON, heap: the caller frees it */
    size_t body_len;
};

/** Builds the webhook of ev (which must announce a status change). The body is
 *  {"id","type","created_at_ms","data":{order_id,user_id,status,occurred_at_ms,
 *  source_event_id,source_event_type,lines,reason}}: docs/webhooks.md. 0, or
 *  SHOP_EINVAL when ev is no status change. */
int shop_notify_msg_build(const Shopstream__V1__Event *ev, struct shop_notify_msg *out, struct shop_err *err);

/** The notification id alone (UUID v5 in the notify namespace). */
void shop_notify_event_id(const char *order_id, enum shop_notify_status s, const char *source_id, char out[37]);

/* ---- signature (notify_sign.c) ---------------------------------------------------- */

/** The Shopstream-Signature value: "t=<t_ms>,v1=<hex HMAC-SHA256(secret, "<t_ms>." body)>".
 *  0, or SHOP_ENOMEM when buf is too small (SHOP_NOTIFY_SIG_MAX always fits). */
int shop_notify_sign(const char *secret, int64_t t_ms, const char *body, size_t body_len, char *buf, size_t n);

/** Checks a header made by shop_notify_sign (what a receiver does), tolerance_ms around
 *  now_ms. True when a v1 signature matches. */
bool shop_notify_verify(const char *secret, const char *header, const char *body, size_t body_len,
                        int64_t now_ms, int64_t tolerance_ms);

/* ---- retries (notify_retry.c) ----------------------------------------------------- */

/** What one attempt's answer means. */
enum shop_notify_outcome {
    SHOP_NOTIFY_DELIVERED = 0,     /* 2xx */
    SHOP_NOTIFY_RETRY,             /* failed; another attempt later */
    SHOP_NOTIFY_PARK               /* failed max_attempts times: to the parking topic */
};

/** Judges an attempt: http_status (0 when no answer came: transport error or timeout),
 *  attempts made so far including this one. Every non-2xx answer and every transport
 *  failure is retried, as receivers that are down answer anything. */
enum shop_notify_outcome shop_notify_judge(long http_status, int64_t attempts, int64_t max_attempts);

/** Delay before the next attempt after a failure: full jitter, uniform in [0, step],
 *  step doubling from the base up to the max (b from shop_backoff_init). */
int64_t shop_notify_retry_delay(struct shop_backoff *b, uint32_t rnd);

/* ---- offsets (notify_track.c) ----------------------------------------------------- */

/** One partition's records in offset order with the endpoints each still waits for.
 *  The commit position is the first record not done, or one past the last seen. */
struct shop_notify_window {
    int64_t next_commit;           /* -1 until a record was seen */
    size_t head, n, cap;           /* ring of offsets */
    int64_t *offsets;
    uint32_t *remaining;           /* endpoints not yet delivered or parked, per slot */
};

void shop_notify_window_init(struct shop_notify_window *win);
void shop_notify_window_fini(struct shop_notify_window *win);
/** Appends a record (offsets increase); remaining 0 is done at once. Heap grows. */
void shop_notify_window_push(struct shop_notify_window *win, int64_t offset, uint32_t remaining);
/** One endpoint finished offset (delivered or parked); pops what is done from the front.
 *  0, or SHOP_ENOTFOUND for an offset not in the window. */
int shop_notify_window_done(struct shop_notify_window *win, int64_t offset);
/** Where the group may commit: the next offset to read after everything done; -1 if none. */
int64_t shop_notify_window_commit(const struct shop_notify_window *win);

/* ---- metrics (notify_metrics.c) --------------------------------------------------- */

#define SHOP_NOTIFY_BUCKETS 10

struct shop_notify_ep_metrics {
    uint64_t delivered, failed, parked;                /* deliveries_total by result */
    uint64_t buckets[SHOP_NOTIFY_BUCKETS];             /* duration histogram, not cumulative */
    uint64_t count;
    double sum_s;
    int64_t pending;                                   /* gauge */
};

struct shop_notify_metrics {
    int n;
    const char *names[SHOP_NOTIFY_ENDPOINTS_MAX];
    struct shop_notify_ep_metrics ep[SHOP_NOTIFY_ENDPOINTS_MAX];
};

/** The histogram's upper bounds in seconds (the last finite one; +Inf follows). */
extern const double shop_notify_bucket_le[SHOP_NOTIFY_BUCKETS];

/** Adds one attempt's duration to endpoint i's histogram. */
void shop_notify_metrics_observe(struct shop_notify_metrics *m, int i, double seconds);

/** Prometheus text (HELP, TYPE and samples) of every notify series, labelled role and
 *  group. Returns the length it needs (like snprintf): a result >= n was truncated. */
size_t shop_notify_metrics_render(const struct shop_notify_metrics *m, const char *role, const char *group,
                                  char *buf, size_t n);

#endif
