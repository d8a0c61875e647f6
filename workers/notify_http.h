/* SPDX-License-Identifier: MIT
 * HTTPS POSTs with libcurl's multi interface driven from the worker's uv loop
 * (curl_multi_socket_action on uv_poll_t and uv_timer_t events), so no request ever
 * blocks the loop or another request. Shell. Loop thread.
 */
#ifndef SHOP_NOTIFY_HTTP_H
#define SHOP_NOTIFY_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/shop_err.h"

struct notify_http;
struct notify_xfer;

/** Called once per POST that was not cancelled: status the HTTP status (0 when no
 *  answer came), error curl's reason when status is 0 (else ""), seconds the attempt's
 *  duration. Loop thread. */
typedef void (*notify_http_done_fn)(void *opaque, long status, const char *error, double seconds);

struct notify_http_req {
    const char *url;
    const char *const *headers;   /* "Name: value", NULL-terminated; copied */
    const char *body;             /* borrowed until done or cancel */
    size_t body_len;
    int64_t timeout_ms, connect_timeout_ms;
    const char *ca_file;          /* NULL: the system's CAs */
};

/** A client on loop; NULL and err on failure. */
struct notify_http *notify_http_new(uv_loop_t *loop, struct shop_err *err);
/** Starts a POST; done runs later, never from inside this call. NULL when curl refused
 *  the request (err says why). */
struct notify_xfer *notify_http_post(struct notify_http *h, const struct notify_http_req *req,
                                     notify_http_done_fn done, void *opaque, struct shop_err *err);
/** Drops a POST in flight; its done never runs. */
void notify_http_cancel(struct notify_http *h, struct notify_xfer *x);
/** Cancels everything and closes the uv handles; the loop must run once more before
 *  notify_http_free. */
void notify_http_close(struct notify_http *h);
void notify_http_free(struct notify_http *h);

#endif
