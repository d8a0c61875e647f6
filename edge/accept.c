/* SPDX-License-Identifier: MIT
 * The accept path of a loop thread: every connection takes a slot in the
 * process-wide connection budget (given back when h2o closes its socket); past
 * the cap a connection gets a 503 problem and is closed without being read as
 * HTTP. When the process is out of file descriptors (EMFILE/ENFILE) a reserved
 * descriptor is given up to accept and refuse one connection, and the listener
 * pauses briefly if even that fails, so a readable listener never spins the loop.
 * Loop thread.
 */
#include "edge/edge.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"

#define PAUSE_MS 100         /* listener rest when no descriptor can be had */

/* Every accept of every loop thread, and the reserve's give-up-and-take-back, happen under
 * this lock. Out of descriptors, a thread that closed its reserve to accept could have the
 * freed slot taken by another thread's plain accept; it then could not reopen its reserve,
 * and the connections in its own accept queue (SO_REUSEPORT) waited unanswered for as long
 * as the held connections stayed open (integration.edge.transport, once under load).
 * Uncontended, the lock costs far less than the accept4() it guards. */
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;
#define LINGER_MS 2000       /* a refused client's time to read the 503 */
#define LINGER_MAX 64        /* refused connections waiting for their client per thread */

struct edge_accept {
    struct edge_thread *t;
    int reserve_fd;          /* /dev/null, given up only to refuse under EMFILE */
    h2o_timeout_t pause_timeout;
    h2o_timeout_entry_t pause_entry;
    h2o_timeout_t linger_timeout;
    int lingering;
    char refusal[768];       /* the whole 503 response */
    size_t refusal_len;
    int64_t last_warn_us;
};

/* A refused connection read until its client closes (or LINGER_MS), so closing it does
 * not reset the connection before the client has read the 503. */
struct refused {
    struct edge_accept *a;
    h2o_socket_t *sock;
    h2o_timeout_entry_t timeout;
};

static void warn_rarely(struct edge_accept *a, const char *msg, const char *err)
{
    int64_t now = edge_mono_us();
    if (now - a->last_warn_us < 10000000)
        return;
    a->last_warn_us = now;
    SHOP_LOG(SHOP_LOG_WARN, "edge", msg, "thread=%d err=\"%s\" connections=%lld", a->t->index, err,
             (long long)shop_edge_budget_used(&a->t->edge->connections));
}

static void refused_end(struct refused *l)
{
    if (h2o_timeout_is_linked(&l->timeout))
        h2o_timeout_unlink(&l->timeout);
    h2o_socket_close(l->sock);
    l->a->lingering--;
    free(l);
}

static void on_refused_read(h2o_socket_t *sock, const char *err)
{
    struct refused *l = sock->data;
    if (err != NULL) {
        refused_end(l);   /* the client closed: done */
        return;
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
}

static void on_refused_timeout(h2o_timeout_entry_t *entry)
{
    refused_end(H2O_STRUCT_FROM_MEMBER(struct refused, timeout, entry));
}

/* Discards whatever the client already sent, so close() sends FIN, not RST. */
static void drain_input(int fd)
{
    char buf[4096];
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}

/* Answers 503 on a connection that will not be served. The response fits any socket
 * buffer, so one send() writes it. linger: keep reading until the client closes. */
static void refuse(struct edge_accept *a, int fd, bool linger)
{
    shop_edge_metrics_request(&a->t->edge->metrics, SHOP_ROUTE_OTHER, 503);
    (void)send(fd, a->refusal, a->refusal_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    drain_input(fd);
    if (!linger || a->lingering >= LINGER_MAX) {
        close(fd);
        return;
    }
    struct refused *l = shop_xcalloc(1, sizeof(*l));
    l->a = a;
    l->sock = h2o_evloop_socket_create(a->t->loop, fd, 0);
    l->sock->data = l;
    l->timeout.cb = on_refused_timeout;
    a->lingering++;
    h2o_timeout_link(a->t->loop, &a->linger_timeout, &l->timeout);
    h2o_socket_read_start(l->sock, on_refused_read);
}

static void on_pause_end(h2o_timeout_entry_t *entry)
{
    struct edge_accept *a = H2O_STRUCT_FROM_MEMBER(struct edge_accept, pause_entry, entry);
    if (a->t->listener != NULL)   /* NULL: the thread stopped listening meanwhile */
        h2o_socket_read_start(a->t->listener, edge_accept_on_ready);
}

static void pause_listener(struct edge_accept *a)
{
    if (h2o_timeout_is_linked(&a->pause_entry))
        return;
    h2o_socket_read_stop(a->t->listener);
    h2o_timeout_link(a->t->loop, &a->pause_timeout, &a->pause_entry);
}

/* Out of descriptors: give up the reserve to take the waiting connection off the queue
 * and refuse it, then take the reserve back. */
static void refuse_with_reserve(struct edge_accept *a, int accept_errno)
{
    warn_rarely(a, "out of file descriptors", strerror(accept_errno));
    if (a->reserve_fd < 0)   /* lost earlier (another opener took the slot): try again */
        a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (a->reserve_fd >= 0) {
        close(a->reserve_fd);
        a->reserve_fd = -1;
        int fd = accept4(a->t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            refuse(a, fd, false);
        a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && a->reserve_fd >= 0)
            return;
    }
    pause_listener(a);   /* another thread took the descriptor, or none was left */
}

static void on_conn_close(void *data)
{
    struct edge *e = data;
    shop_edge_budget_release(&e->connections, 1);
}

void edge_accept_on_ready(h2o_socket_t *listener, const char *err)
{
    struct edge_thread *t = listener->data;
    struct edge_accept *a = t->accept;
    if (err != NULL)
        return;
    pthread_mutex_lock(&accept_mu);
    int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        if (saved == EMFILE || saved == ENFILE)
            refuse_with_reserve(a, saved);
        pthread_mutex_unlock(&accept_mu);
        if (saved == ENOBUFS || saved == ENOMEM)
            pause_listener(a);
        return;   /* EAGAIN, ECONNABORTED, ...: nothing waits, or the next one will do */
    }
    pthread_mutex_unlock(&accept_mu);
    struct edge *e = t->edge;
    if (!shop_edge_budget_reserve(&e->connections, 1)) {
        warn_rarely(a, "connection limit reached", "refused with 503");
        refuse(a, fd, true);
        return;
    }
    int on = 1;   /* what h2o_evloop_socket_accept() does */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    h2o_socket_t *sock = h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
    sock->on_close.cb = on_conn_close;
    sock->on_close.data = e;
    h2o_accept(&t->accept_ctx, sock);
}

static void build_refusal(struct edge_accept *a, const struct edge *e)
{
    struct shop_problem p = {.index = -1, .field = "connection"};
    snprintf(p.detail, sizeof(p.detail), "the edge holds its maximum of %d connections",
             e->cfg->max_connections);
    struct shop_arena arena = SHOP_ARENA_INIT;
    const char *json = shop_problem_json(&p, 503, "Service Unavailable", &arena);
    int n = snprintf(a->refusal, sizeof(a->refusal),
                     "HTTP/1.1 503 Service Unavailable\r\n"
                     "Content-Type: application/problem+json\r\n"
                     "Cache-Control: no-store\r\n"
                     "Retry-After: %d\r\n"
                     "Connection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     e->cfg->retry_after_s, strlen(json), json);
    a->refusal_len = n > 0 && (size_t)n < sizeof(a->refusal) ? (size_t)n : 0;
    shop_arena_fini(&arena);
}

void edge_accept_start(struct edge_thread *t)
{
    struct edge_accept *a = shop_xcalloc(1, sizeof(*a));
    a->t = t;
    a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    a->last_warn_us = -10000000;
    h2o_timeout_init(t->loop, &a->pause_timeout, PAUSE_MS);
    a->pause_entry.cb = on_pause_end;
    h2o_timeout_init(t->loop, &a->linger_timeout, LINGER_MS);
    build_refusal(a, t->edge);
    t->accept = a;
    t->listener->data = t;
    h2o_socket_read_start(t->listener, edge_accept_on_ready);
}
