/* SPDX-License-Identifier: MIT
 * nb-receiver: the notify bench's webhook receiver. HTTPS (libh2o on its own evloop,
 * OpenSSL), keep-alive, one thread; answers 204 to every POST and counts them, so the
 * worker and the raw poster are timed by the same clock on the same side: from the
 * first POST it saw to the last.
 *   GET /count  -> "requests=N bytes=B first_ms=F last_ms=L cpu_s=C"
 *               (bytes: the POST bodies; cpu_s: the CPU seconds of the watched process
 *               between the first POST and this GET, -1 without --cpu-pid-file)
 *   GET /reset  -> zeroes the counters (between the worker's run and the poster's)
 * SIGTERM or SIGINT prints the last counters on stdout and exits.
 *   nb-receiver --port P --cert PEM --key PEM [--h2] [--cpu-pid-file FILE]
 * --h2 offers HTTP/2 by ALPN (libcurl then multiplexes on one connection); without it
 * the connections are HTTP/1.1 with keep-alive. --cpu-pid-file: a file holding the pid
 * of the process whose CPU is read from /proc at the first POST (the worker's: its
 * start-up and its Kafka join are not counted).
 */
#include <arpa/inet.h>
#include <h2o.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/common/bench_proc.h"

struct counters {
    unsigned long long requests, bytes;
    long long first_ms, last_ms;
    double cpu_at_first;           /* the watched process's CPU at the first POST */
};

static struct counters c;
static h2o_globalconf_t config;
static h2o_context_t ctx;
static h2o_accept_ctx_t accept_ctx;
static const char *cpu_pid_file;
static volatile sig_atomic_t stop;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long watched_pid(void)
{
    if (cpu_pid_file == NULL)
        return -1;
    FILE *f = fopen(cpu_pid_file, "r");
    long pid = -1;
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
    }
    return pid;
}

static void format_counters(char *buf, size_t n)
{
    long pid = watched_pid();
    double cpu = -1;
    if (pid > 0 && c.requests > 0 && c.cpu_at_first >= 0) {
        double now = bench_proc_cpu_s(pid);
        if (now >= 0)
            cpu = now - c.cpu_at_first;
    }
    snprintf(buf, n, "requests=%llu bytes=%llu first_ms=%lld last_ms=%lld cpu_s=%.3f\n", c.requests, c.bytes,
             c.first_ms, c.last_ms, cpu);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    static h2o_generator_t generator = {NULL, NULL};
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        long long t = now_ms();
        if (c.requests == 0) {
            c.first_ms = t;
            long pid = watched_pid();
            c.cpu_at_first = pid > 0 ? bench_proc_cpu_s(pid) : -1;
        }
        c.requests++;
        c.bytes += req->entity.len;
        c.last_ms = t;
        req->res.status = 204;
        req->res.reason = "No Content";
        h2o_start_response(req, &generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return 0;
    }
    char body[256];
    if (h2o_memis(req->path_normalized.base, req->path_normalized.len, H2O_STRLIT("/reset")))
        memset(&c, 0, sizeof(c));
    format_counters(body, sizeof(body));
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain"));
    h2o_send_inline(req, body, strlen(body));
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock != NULL)
        h2o_accept(&accept_ctx, sock);
}

static void on_signal(int sig)
{
    stop = 1;
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    if (def == NULL) {
        fprintf(stderr, "usage: nb-receiver --port P --cert PEM --key PEM [--h2] [--cpu-pid-file FILE]\n");
        exit(2);
    }
    return def;
}

static int has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int port = atoi(arg(argc, argv, "--port", NULL));
    const char *cert = arg(argc, argv, "--cert", NULL), *key = arg(argc, argv, "--key", NULL);
    cpu_pid_file = arg(argc, argv, "--cpu-pid-file", "");
    if (cpu_pid_file[0] == '\0')
        cpu_pid_file = NULL;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    h2o_config_init(&config);
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;
    h2o_context_init(&ctx, h2o_evloop_create(), &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;

    accept_ctx.ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (accept_ctx.ssl_ctx == NULL || SSL_CTX_use_certificate_chain_file(accept_ctx.ssl_ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(accept_ctx.ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "nb-receiver: could not load %s / %s\n", cert, key);
        ERR_print_errors_fp(stderr);
        return 1;
    }
    if (has_flag(argc, argv, "--h2"))
        h2o_ssl_register_alpn_protocols(accept_ctx.ssl_ctx, h2o_http2_alpn_protocols);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* the bench's traffic stays on this host */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0) {
        perror("nb-receiver: listen");
        return 1;
    }
    h2o_socket_t *listener = h2o_evloop_socket_create(ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);
    fprintf(stderr, "nb-receiver: listening on 127.0.0.1:%d (%s)\n", port,
            has_flag(argc, argv, "--h2") ? "h2, http/1.1" : "http/1.1");

    while (!stop)
        h2o_evloop_run(ctx.loop, 100);   /* wakes at least every 100 ms to see the signal */
    char line[256];
    format_counters(line, sizeof(line));
    fputs(line, stdout);
    return 0;
}
