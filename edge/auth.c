/* SPDX-License-Identifier: MIT
 * Bearer authentication for the handlers that need a subject: the token cache,
 * the verifier, and the subject's rate-limit bucket. Answers 401 itself. Loop
 * threads.
 */
#include "edge/edge.h"

#include "base/shop_log.h"

/* The verifier's key generation: a token verified under other keys is verified again.
 * 0 for a fixed key; with SHOPSTREAM_JWT_JWKS_FILE, bumped by every reload (edge_jwt.h),
 * so a rotation drops every cached verification, a removed kid's tokens included. */
static uint64_t jwt_key_generation(const struct edge *e)
{
    return shop_jwt_key_generation(&e->jwt);
}

/* Loop thread. Answers 401 itself and returns SHOP_EAUTH on failure. A token this thread
 * verified before is taken from its cache while unexpired (edge/core/edge_token_cache.h):
 * the same bytes, the same keys, so the same verdict. */
int edge_authenticate(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
                      struct shop_jwt_claims *claims)
{
    struct shop_err err = {0};
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const char *tok = NULL;
    size_t tok_len = 0;
    int rc;
    if (i < 0)
        rc = shop_err_set(&err, SHOP_EAUTH, "missing bearer token");
    else
        rc = shop_jwt_bearer(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
                             &tok, &tok_len, &err);
    if (rc == 0) {
        int64_t now_s = edge_now_ms() / 1000;
        uint64_t gen = jwt_key_generation(t->edge);
        if (!shop_token_cache_get(&t->tokens, tok, tok_len, gen, now_s, claims)) {
            rc = shop_jwt_verify(&t->edge->jwt, tok, tok_len, now_s, claims, &err);
            if (rc == 0)
                shop_token_cache_put(&t->tokens, tok, tok_len, gen, now_s,
                                     shop_token_cache_expiry(claims->exp_s, t->edge->jwt.leeway_s),
                                     claims);
        }
    }
    if (rc != 0) {
        SHOP_LOG(SHOP_LOG_DEBUG, "edge", "rejected token", "err=\"%s\"", err.msg);
        edge_problem(t, req, route, 401, -1, "authorization", err.msg, NULL);
        return rc;
    }
    /* The subject's bucket, once the token (verified now or cached) proves who it is. */
    return edge_limit_subject(t, req, route, claims->sub) != 0 ? SHOP_EAUTH : 0;
}
