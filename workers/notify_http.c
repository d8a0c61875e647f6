/* SPDX-License-Identifier: MIT
 * libcurl's multi interface on the uv loop (workers/notify_http.h): curl names the
 * sockets it wants watched (CURLMOPT_SOCKETFUNCTION -> uv_poll_t) and the timeout it
 * wants (CURLMOPT_TIMERFUNCTION -> uv_timer_t); both call curl_multi_socket_action
 * and then read the finished transfers. Shell. Loop thread.
 */
#include "workers/notify_http.h"

#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"

struct notify_xfer {
    CURL *easy;
    struct curl_slist *headers;
    notify_http_done_fn done;
    void *opaque;
    uint64_t started_ms;
    char error[CURL_ERROR_SIZE];
    struct notify_xfer *prev, *next;     /* every transfer in flight */
};

struct notify_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct notify_xfer *xfers;
    bool closing;
};

/* One socket curl asked us to watch; freed when its uv_poll_t is closed. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct notify_http *h;
};

static void unlink_xfer(struct notify_http *h, struct notify_xfer *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        h->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
}

static void xfer_free(struct notify_http *h, struct notify_xfer *x)
{
    unlink_xfer(h, x);
    curl_multi_remove_handle(h->multi, x->easy);
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x);
}

/* Reads what finished; each transfer's callback runs after it left the multi. */
static void read_finished(struct notify_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct notify_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        long status = 0;
        CURLcode rc = msg->data.result;
        if (rc == CURLE_OK)
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        double secs = (double)(uv_now(h->loop) - x->started_ms) / 1000.0;
        char error[CURL_ERROR_SIZE + 64];
        snprintf(error, sizeof(error), "%s%s%s", rc == CURLE_OK ? "" : curl_easy_strerror(rc),
                 x->error[0] != '\0' ? ": " : "", x->error);
        notify_http_done_fn done = x->done;
        void *opaque = x->opaque;
        xfer_free(h, x);
        done(opaque, status, rc == CURLE_OK ? "" : error, secs);
    }
}

static void on_sock(uv_poll_t *handle, int status, int events)
{
    struct sock *s = handle->data;
    int flags = status < 0 ? CURL_CSELECT_ERR : 0, running;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    struct notify_http *h = s->h;   /* s may be freed inside socket_action */
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    read_finished(h);
}

static void on_timeout(uv_timer_t *handle)
{
    struct notify_http *h = handle->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    read_finished(h);
}

static void on_sock_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* CURLMOPT_SOCKETFUNCTION. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct notify_http *h = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = shop_xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? UV_READABLE : 0) |
                 (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, on_sock);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means now, which runs from the loop
 * (a timer of 0), never from inside this callback. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct notify_http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

struct notify_http *notify_http_new(uv_loop_t *loop, struct shop_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        shop_err_set(err, SHOP_EIO, "could not initialise libcurl");
        return NULL;
    }
    struct notify_http *h = shop_xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->multi = curl_multi_init();
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    return size * nmemb;    /* the receiver's answer body is not ours to keep */
}

static void set_options(struct notify_xfer *x, const struct notify_http_req *req)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)req->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);     /* a redirect is an answer, not a delivery */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "shopstream-notify/1");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
}

struct notify_xfer *notify_http_post(struct notify_http *h, const struct notify_http_req *req,
                                     notify_http_done_fn done, void *opaque, struct shop_err *err)
{
    struct notify_xfer *x = shop_xcalloc(1, sizeof(*x));
    x->easy = curl_easy_init();
    if (x->easy == NULL)
        abort();    /* OOM is fatal */
    for (size_t i = 0; req->headers[i] != NULL; i++)
        x->headers = curl_slist_append(x->headers, req->headers[i]);
    x->headers = curl_slist_append(x->headers, "Expect:");   /* no 100-continue round trip */
    x->done = done;
    x->opaque = opaque;
    x->started_ms = uv_now(h->loop);
    set_options(x, req);
    x->next = h->xfers;
    if (h->xfers != NULL)
        h->xfers->prev = x;
    h->xfers = x;
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK) {
        shop_err_set(err, SHOP_EIO, "could not start a request: %s", curl_multi_strerror(mc));
        xfer_free(h, x);
        return NULL;
    }
    return x;
}

void notify_http_cancel(struct notify_http *h, struct notify_xfer *x)
{
    xfer_free(h, x);
}

void notify_http_close(struct notify_http *h)
{
    if (h == NULL || h->closing)
        return;
    h->closing = true;
    while (h->xfers != NULL)
        xfer_free(h, h->xfers);
    /* Closes the cached connections too: CURL_POLL_REMOVE closes their uv handles while
     * the loop still runs. */
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, NULL);
}

void notify_http_free(struct notify_http *h)
{
    if (h == NULL)
        return;
    free(h);    /* after notify_http_close and the loop's last run */
}
