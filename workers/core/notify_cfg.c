/* SPDX-License-Identifier: MIT
 * The notify role's settings: the endpoint list, each endpoint's secret, the retry
 * and window knobs. Pure: variables come through shop_getenv_fn; every problem is
 * collected, nothing is printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "workers/core/notify.h"

static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > SHOP_NOTIFY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool url_ok(const char *url, bool allow_http)
{
    for (const char *c = url; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
            return false;      /* no spaces, controls or raw UTF-8: libcurl would guess */
    if (strncmp(url, "https://", 8) == 0)
        return url[8] != '\0';
    return allow_http && strncmp(url, "http://", 7) == 0 && url[7] != '\0';
}

/* "SHOPSTREAM_NOTIFY_SECRET_" + NAME upper case, '-' as '_'. */
static void secret_var(char *buf, size_t n, const char *name, const char *suffix)
{
    size_t len = (size_t)snprintf(buf, n, "SHOPSTREAM_NOTIFY_SECRET_");
    for (const char *c = name; *c != '\0' && len + 1 < n; c++)
        buf[len++] = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
    buf[len] = '\0';
    snprintf(buf + len, n - len, "%s", suffix);
}

static void load_secret(struct shop_notify_endpoint *ep, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    char var[96], file_var[104];
    secret_var(var, sizeof(var), ep->name, "");
    secret_var(file_var, sizeof(file_var), ep->name, "_FILE");
    const char *secret = shop_cfg_str(get, var, NULL);
    const char *file = shop_cfg_str(get, file_var, NULL);
    if (secret != NULL && file != NULL) {
        shop_cfg_errorf(errs, "set only one of %s and %s", var, file_var);
    } else if (file != NULL) {
        if (strlen(file) >= sizeof(ep->secret_file))
            shop_cfg_errorf(errs, "%s is too long", file_var);
        else
            snprintf(ep->secret_file, sizeof(ep->secret_file), "%s", file);
    } else if (secret == NULL) {
        shop_cfg_errorf(errs, "endpoint %s needs a secret: set %s or %s", ep->name, var, file_var);
    } else if (strlen(secret) < SHOP_NOTIFY_SECRET_MIN || strlen(secret) > SHOP_NOTIFY_SECRET_MAX) {
        shop_cfg_errorf(errs, "%s must be %d to %d bytes, got %zu", var, SHOP_NOTIFY_SECRET_MIN,
                        SHOP_NOTIFY_SECRET_MAX, strlen(secret));
    } else {
        snprintf(ep->secret, sizeof(ep->secret), "%s", secret);
    }
}

/* One "name=url" item; a problem is recorded and the item skipped. */
static void add_endpoint(struct shop_notify_cfg *cfg, const char *item, size_t len, shop_getenv_fn get,
                         struct shop_cfg_errs *errs)
{
    const char *eq = memchr(item, '=', len);
    size_t name_len = eq != NULL ? (size_t)(eq - item) : len;
    if (eq == NULL || !name_ok(item, name_len)) {
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS: \"%.*s\" is not name=url with a name of "
                        "1 to %d of [a-z0-9_-]", (int)(len > 40 ? 40 : len), item, SHOP_NOTIFY_NAME_MAX);
        return;
    }
    if (cfg->n_endpoints == SHOP_NOTIFY_ENDPOINTS_MAX) {
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS: more than %d endpoints", SHOP_NOTIFY_ENDPOINTS_MAX);
        return;
    }
    struct shop_notify_endpoint *ep = &cfg->endpoints[cfg->n_endpoints];
    size_t url_len = len - name_len - 1;
    memset(ep, 0, sizeof(*ep));
    memcpy(ep->name, item, name_len);
    for (int i = 0; i < cfg->n_endpoints; i++) {
        if (strcmp(cfg->endpoints[i].name, ep->name) == 0) {
            shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS: endpoint %s is named twice", ep->name);
            return;
        }
    }
    if (url_len >= sizeof(ep->url)) {
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS: the url of %s is too long", ep->name);
        return;
    }
    memcpy(ep->url, eq + 1, url_len);
    if (!url_ok(ep->url, cfg->allow_http)) {
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS: the url of %s must be https://host/... %s", ep->name,
                        cfg->allow_http ? "or http://host/..." : "(http:// needs SHOPSTREAM_NOTIFY_ALLOW_HTTP=true)");
        return;
    }
    load_secret(ep, get, errs);
    cfg->n_endpoints++;
}

static void load_endpoints(struct shop_notify_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    const char *list = shop_cfg_str(get, "SHOPSTREAM_NOTIFY_ENDPOINTS", "");
    while (*list != '\0') {
        const char *end = strchr(list, ';');
        size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
        while (len > 0 && (*list == ' ' || *list == '\n'))
            list++, len--;
        while (len > 0 && (list[len - 1] == ' ' || list[len - 1] == '\n'))
            len--;
        if (len > 0)
            add_endpoint(cfg, list, len, get, errs);
        list = end != NULL ? end + 1 : list + len;
        if (end == NULL)
            break;
    }
    if (cfg->n_endpoints == 0 && errs->count == 0)
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_ENDPOINTS must name at least one endpoint (name=url;...) "
                        "for the notify role");
}

int shop_notify_cfg_load(struct shop_notify_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    int before = errs->count;
    memset(cfg, 0, sizeof(*cfg));
    cfg->allow_http = shop_cfg_bool(get, "SHOPSTREAM_NOTIFY_ALLOW_HTTP", false, errs);
    cfg->timeout_ms = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_TIMEOUT_MS", 10000, 100, 600000, errs);
    cfg->connect_timeout_ms = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_CONNECT_TIMEOUT_MS", 3000, 100, 600000, errs);
    cfg->max_attempts = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_MAX_ATTEMPTS", 8, 1, 1000, errs);
    cfg->backoff_base_ms = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_BACKOFF_BASE_MS", 1000, 1, 3600000, errs);
    cfg->backoff_max_ms = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_BACKOFF_MAX_MS", 300000, 1, 86400000, errs);
    cfg->window = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_WINDOW", 1000, 1, 1000000, errs);
    cfg->concurrency = shop_cfg_int(get, "SHOPSTREAM_NOTIFY_CONCURRENCY", 4, 1, 256, errs);
    cfg->ca_file = shop_cfg_str(get, "SHOPSTREAM_NOTIFY_CA_FILE", NULL);
    if (cfg->backoff_max_ms < cfg->backoff_base_ms)
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_BACKOFF_MAX_MS (%" PRId64 ") must not be below "
                        "SHOPSTREAM_NOTIFY_BACKOFF_BASE_MS (%" PRId64 ")", cfg->backoff_max_ms, cfg->backoff_base_ms);
    if (cfg->connect_timeout_ms > cfg->timeout_ms)
        shop_cfg_errorf(errs, "SHOPSTREAM_NOTIFY_CONNECT_TIMEOUT_MS (%" PRId64 ") must not exceed "
                        "SHOPSTREAM_NOTIFY_TIMEOUT_MS (%" PRId64 ")", cfg->connect_timeout_ms, cfg->timeout_ms);
    load_endpoints(cfg, get, errs);
    return errs->count > before ? SHOP_ECONFIG : 0;
}

size_t shop_notify_cfg_format(const struct shop_notify_cfg *cfg, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "notify_endpoints=\"");
    for (int i = 0; i < cfg->n_endpoints && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", i > 0 ? ";" : "", cfg->endpoints[i].name,
                                cfg->endpoints[i].url);
    if (len < n)
        len += (size_t)snprintf(buf + len, n - len,
                                "\" notify_timeout_ms=%" PRId64 " notify_connect_timeout_ms=%" PRId64
                                " notify_max_attempts=%" PRId64 " notify_backoff_base_ms=%" PRId64
                                " notify_backoff_max_ms=%" PRId64 " notify_window=%" PRId64
                                " notify_concurrency=%" PRId64 " notify_ca_file=%s notify_allow_http=%s",
                                cfg->timeout_ms, cfg->connect_timeout_ms, cfg->max_attempts, cfg->backoff_base_ms,
                                cfg->backoff_max_ms, cfg->window, cfg->concurrency,
                                cfg->ca_file != NULL ? cfg->ca_file : "(system)", cfg->allow_http ? "on" : "off");
    return len < n ? len : (n > 0 ? n - 1 : 0);
}

int shop_notify_parking_topic(char *buf, size_t n, const char *prefix, const char *endpoint)
{
    int len = snprintf(buf, n, "%snotify.%s.parked.v1", prefix, endpoint);
    return len < 0 || (size_t)len >= n ? SHOP_ENOMEM : 0;
}
