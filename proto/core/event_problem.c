/* SPDX-License-Identifier: MIT
 * Problems: filling struct shop_problem, and writing it as an RFC 9457
 * application/problem+json body with jansson. Pure. Invariant: field and
 * detail always hold whole UTF-8 sequences, so they embed in JSON.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/core/event_internal.h"

/* snprintf may cut a multi-byte sequence in half; drop the partial tail. */
static void trim_utf8_tail(char *s)
{
    size_t n = strlen(s);
    size_t lead = n;
    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (n - (lead - 1) < want)
        s[lead - 1] = '\0';
}

__attribute__((format(printf, 4, 0)))
static int vproblem(struct shop_problem *p, const char *prefix, const char *name,
                    const char *fmt, va_list ap)
{
    if (p == NULL)
        return SHOP_EINVAL;
    snprintf(p->field, sizeof(p->field), "%s%s", prefix, name);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    trim_utf8_tail(p->field);
    trim_utf8_tail(p->detail);
    return SHOP_EINVAL;
}

int shop__problem(struct shop_problem *p, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vproblem(p, "", field, fmt, ap);
    va_end(ap);
    return rc;
}

int shop__problem_at(struct shop_problem *p, const char *prefix, const char *name,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vproblem(p, prefix, name, fmt, ap);
    va_end(ap);
    return rc;
}

/* json_string() refuses invalid UTF-8; a problem body must still be written. */
static json_t *text(const char *s)
{
    if (shop__utf8_is_valid(s, strlen(s)))
        return json_string(s);
    char buf[256];
    size_t i = 0;
    for (; s[i] != '\0' && i < sizeof(buf) - 1; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

static const char *default_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Bad Request";
    }
}

char *shop_problem_json(const struct shop_problem *p, int status, const char *title,
                        struct shop_arena *arena)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", text(title != NULL ? title : default_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    if (p != NULL && p->detail[0] != '\0')
        json_object_set_new(o, "detail", text(p->detail));
    if (p != NULL && p->index >= 0)
        json_object_set_new(o, "event_index", json_integer(p->index));
    if (p != NULL && p->field[0] != '\0')
        json_object_set_new(o, "field", text(p->field));

    size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    char *out = shop_arena_alloc(arena, n + 1);
    json_dumpb(o, out, n, JSON_COMPACT);
    out[n] = '\0';
    json_decref(o);
    return out;
}
