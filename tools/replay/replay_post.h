/* SPDX-License-Identifier: MIT
 * Posts replay requests to the edge over HTTP (libcurl multi): one user's
 * requests strictly in order, up to `concurrency` users at once, retrying 503s
 * and connection errors with the same body (same event ids). Shell. */
#ifndef SHOP_REPLAY_POST_H
#define SHOP_REPLAY_POST_H

#include <stddef.h>
#include <stdint.h>

#include "tools/replay/replay_gen.h"

struct replay_post_opts {
    const char *url;            /* e.g. http://127.0.0.1:8080 */
    const char *jwt_secret;
    const char *jwt_issuer;     /* optional */
    const char *jwt_audience;   /* optional */
    int concurrency;
    int max_retries;
};

struct replay_post_stats {
    size_t requests_ok, events_ok, rejected, retries, failed;
    double seconds;
    /* latencies of successful requests in microseconds, for percentiles (owned) */
    uint32_t *lat_us;
    size_t n_lat;
};

/** The HS256 secret from SHOPSTREAM_JWT_SECRET, else the file named by
 *  SHOPSTREAM_JWT_SECRET_FILE (trailing newline dropped); malloc'd, or NULL when neither
 *  is set or the file cannot be read. */
char *replay_jwt_secret_load(void);

/** The subject of the replay's service tokens (an importer, posting for the customers). */
#define REPLAY_SERVICE_SUBJECT "shopstream-replay"

/** Mints an HS256 token for sub with claim "role": role (none when NULL); caller frees
 *  with free(). */
char *replay_mint_token(const char *secret, const char *sub, const char *role, const char *iss, const char *aud,
                        int64_t now_s, int64_t ttl_s);

/** Runs reqs[0..n) with lanes by user id (consecutive requests of one user). Requests whose
 *  user is "catalog-admin" run first, before any other lane starts. Each user's token is
 *  minted once per call (valid for an hour) and sent with every request of that user. */
int replay_post_all(const struct replay_request *reqs, size_t n, const struct replay_post_opts *o,
                    struct replay_post_stats *st);

/** p-th percentile (0..100) of st's latencies in microseconds; sorts in place. */
double replay_latency_pct(struct replay_post_stats *st, double p);

#endif
