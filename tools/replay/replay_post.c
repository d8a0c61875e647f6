/* SPDX-License-Identifier: MIT
 * HTTP poster for the demo replay and the ingest benchmark (libcurl multi). Shell. */
#define _GNU_SOURCE
#include "tools/replay/replay_post.h"

#include <curl/curl.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/shop_arena.h"
#include "base/shop_cfg.h"
#include "base/shop_log.h"

struct lane {
    size_t first, count, pos;
};

struct slot {
    char resp[512];         /* start of the response body, for logging rejections */
    size_t resp_len;
    CURL *easy;
    struct curl_slist *hdrs;
    struct lane *lane;
    int attempts;
    double start_s, retry_at_s;
    int busy;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *replay_jwt_secret_load(void)
{
    const char *v = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_SECRET", NULL);
    if (v != NULL)
        return shop_xstrdup(v);
    const char *path = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_JWT_SECRET_FILE", NULL);
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL)
        return NULL;
    char buf[512] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return shop_xstrdup(buf);
}

char *replay_mint_token(const char *secret, const char *sub, const char *role, const char *iss, const char *aud,
                        int64_t now, int64_t ttl_s)
{
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    jwt_add_grant(jwt, "sub", sub);
    jwt_add_grant_int(jwt, "iat", now);
    jwt_add_grant_int(jwt, "exp", now + ttl_s);
    if (role != NULL)
        jwt_add_grant(jwt, "role", role);
    if (iss != NULL && iss[0] != '\0')
        jwt_add_grant(jwt, "iss", iss);
    if (aud != NULL && aud[0] != '\0')
        jwt_add_grant(jwt, "aud", aud);
    jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    return tok;
}

/* One token per user for a whole call, as a browser keeps the one it got at login for its
 * session (minting one per request would also change it every second, through iat/exp).
 * Open addressing over the users' ids; the tokens are valid for TOKEN_TTL_S. */
#define TOKEN_TTL_S 3600

struct token_memo {
    const char **user;      /* borrowed from the requests */
    int *admin;
    char **tok;             /* owned */
    size_t cap;             /* a power of two, more than twice the users */
};

static void memo_init(struct token_memo *m, size_t users)
{
    m->cap = 16;
    while (m->cap < 2 * users + 1)
        m->cap *= 2;
    m->user = shop_xcalloc(m->cap, sizeof(*m->user));
    m->admin = shop_xcalloc(m->cap, sizeof(*m->admin));
    m->tok = shop_xcalloc(m->cap, sizeof(*m->tok));
}

static void memo_fini(struct token_memo *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->tok[i]);
    free(m->user);
    free(m->admin);
    free(m->tok);
}

/* The user's token, minted on first use; NULL when minting failed. */
static const char *memo_token(struct token_memo *m, const struct replay_request *req, const struct replay_post_opts *o)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = req->user_id; *c != '\0'; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ull;
    size_t i = (size_t)(h ^ (uint64_t)req->admin) & (m->cap - 1);
    while (m->user[i] != NULL && (m->admin[i] != req->admin || strcmp(m->user[i], req->user_id) != 0))
        i = (i + 1) & (m->cap - 1);
    if (m->user[i] == NULL) {
        /* The catalog as admin; a customer's events as the importing service, for them. */
        m->tok[i] = req->admin ? replay_mint_token(o->jwt_secret, req->user_id, "admin", o->jwt_issuer,
                                                   o->jwt_audience, (int64_t)time(NULL), TOKEN_TTL_S)
                               : replay_mint_token(o->jwt_secret, REPLAY_SERVICE_SUBJECT, "service",
                                                   o->jwt_issuer, o->jwt_audience, (int64_t)time(NULL),
                                                   TOKEN_TTL_S);
        if (m->tok[i] == NULL)
            return NULL;
        m->user[i] = req->user_id;
        m->admin[i] = req->admin;
    }
    return m->tok[i];
}

static size_t keep_body_start(char *p, size_t size, size_t n, void *ud)
{
    struct slot *s = ud;
    size_t room = sizeof(s->resp) - 1 - s->resp_len, take = size * n < room ? size * n : room;
    memcpy(s->resp + s->resp_len, p, take);
    s->resp_len += take;
    s->resp[s->resp_len] = '\0';
    return size * n;
}

static void slot_start(CURLM *multi, struct slot *s, const struct replay_request *req, struct token_memo *tokens,
                       const struct replay_post_opts *o, char *url)
{
    char auth[2048];
    const char *tok = memo_token(tokens, req, o);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok ? tok : "");
    curl_slist_free_all(s->hdrs);
    s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    s->hdrs = curl_slist_append(s->hdrs, auth);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, keep_body_start);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    s->resp_len = 0;
    s->resp[0] = '\0';
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    s->start_s = now_s();
    s->busy = 1;
    curl_multi_add_handle(multi, s->easy);
}

static void record_latency(struct replay_post_stats *st, double us)
{
    if ((st->n_lat & (st->n_lat + 1)) == 0 || st->lat_us == NULL)
        st->lat_us = shop_xrealloc(st->lat_us, (st->n_lat * 2 + 2) * sizeof(*st->lat_us));
    st->lat_us[st->n_lat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

/* Loop thread. A request finished: advance its lane, or schedule a retry. */
static void on_done(struct slot *s, CURLcode res, const struct replay_request *reqs, const struct replay_post_opts *o,
                    struct replay_post_stats *st)
{
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    const struct replay_request *req = &reqs[s->lane->first + s->lane->pos];
    s->busy = 0;
    if (res == CURLE_OK && code == 202) {
        record_latency(st, (now_s() - s->start_s) * 1e6);
        st->requests_ok++;
        st->events_ok += req->n_events;
    } else if ((res != CURLE_OK || code == 503 || code == 429) && s->attempts < o->max_retries) {
        s->attempts++;
        st->retries++;
        s->retry_at_s = now_s() + 0.05 * (1 << (s->attempts < 6 ? s->attempts : 6));
        return;
    } else {
        if (res == CURLE_OK && code >= 400 && code < 500)
            st->rejected++;
        else
            st->failed++;
        SHOP_LOG(SHOP_LOG_WARN, "replay", "request not accepted", "user=%s status=%ld curl=\"%s\" body=%s", req->user_id,
                 code, curl_easy_strerror(res), s->resp);
    }
    s->attempts = 0;
    s->lane->pos++;
}

static size_t make_lanes(const struct replay_request *reqs, size_t n, struct lane *lanes)
{
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        if (nl == 0 || strcmp(reqs[i].user_id, reqs[lanes[nl - 1].first].user_id) != 0)
            lanes[nl++] = (struct lane){.first = i};
        lanes[nl - 1].count++;
    }
    return nl;
}

int replay_post_all(const struct replay_request *reqs, size_t n, const struct replay_post_opts *o,
                    struct replay_post_stats *st)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/v1/events", o->url);
    struct lane *lanes = shop_xcalloc(n ? n : 1, sizeof(*lanes));
    size_t n_lanes = make_lanes(reqs, n, lanes), next_lane = 0;
    struct token_memo tokens;
    memo_init(&tokens, n_lanes);
    int conc = o->concurrency > 0 ? o->concurrency : 1;
    struct slot *slots = shop_xcalloc((size_t)conc, sizeof(*slots));
    CURLM *multi = curl_multi_init();
    for (int i = 0; i < conc; i++)
        slots[i].easy = curl_easy_init();
    double t0 = now_s();
    int running = 1;
    while (running) {
        running = 0;
        /* The catalog lane (admin) must finish before shoppers' lanes start. */
        int barrier = next_lane > 0 && lanes[0].pos < lanes[0].count && reqs[lanes[0].first].admin;
        for (int i = 0; i < conc; i++) {
            struct slot *s = &slots[i];
            if (!s->busy && (s->lane == NULL || s->lane->pos == s->lane->count)) {
                s->lane = (!barrier && next_lane < n_lanes) ? &lanes[next_lane++] : NULL;
                barrier = s->lane != NULL && reqs[s->lane->first].admin;
            }
            if (s->lane == NULL)
                continue;
            running = 1;
            if (!s->busy && now_s() >= s->retry_at_s)
                slot_start(multi, s, &reqs[s->lane->first + s->lane->pos], &tokens, o, url);
        }
        int still, msgs;
        curl_multi_perform(multi, &still);
        curl_multi_poll(multi, NULL, 0, 10, NULL);
        curl_multi_perform(multi, &still);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &msgs)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *s;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_multi_remove_handle(multi, m->easy_handle);
            on_done(s, m->data.result, reqs, o, st);
        }
    }
    st->seconds = now_s() - t0;
    for (int i = 0; i < conc; i++) {
        curl_slist_free_all(slots[i].hdrs);
        curl_easy_cleanup(slots[i].easy);
    }
    curl_multi_cleanup(multi);
    memo_fini(&tokens);
    free(slots);
    free(lanes);
    return st->failed == 0 && st->rejected == 0 ? 0 : SHOP_EIO;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

double replay_latency_pct(struct replay_post_stats *st, double p)
{
    if (st->n_lat == 0)
        return 0;
    qsort(st->lat_us, st->n_lat, sizeof(*st->lat_us), cmp_u32);
    size_t i = (size_t)(p / 100.0 * (double)(st->n_lat - 1) + 0.5);
    return st->lat_us[i];
}
