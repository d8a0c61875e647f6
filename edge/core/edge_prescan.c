/* SPDX-License-Identifier: MIT
 * Event counts of undecoded batch bodies. Pure. */
#include "edge/core/edge_prescan.h"

#include <stdbool.h>
#include <string.h>

struct scan {
    const char *s;
    size_t len;
    size_t i;
};

static void skip_ws(struct scan *c)
{
    while (c->i < c->len &&
           (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

/* At an opening quote: moves past the closing one; false if the string never ends. */
static bool skip_string(struct scan *c)
{
    for (c->i++; c->i < c->len; c->i++) {
        if (c->s[c->i] == '\\')
            c->i++;
        else if (c->s[c->i] == '"') {
            c->i++;
            return true;
        }
    }
    return false;
}

/* Moves to the ',' or closing bracket that ends the value starting here (depth 0). */
static bool skip_value(struct scan *c)
{
    int depth = 0;
    while (c->i < c->len) {
        char ch = c->s[c->i];
        if (ch == '"') {
            if (!skip_string(c))
                return false;
            continue;
        }
        if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (depth == 0)
                return true;
            depth--;
        } else if (ch == ',' && depth == 0) {
            return true;
        }
        c->i++;
    }
    return false;
}

/* At '[': the number of elements, stopping once past max. */
static long count_array(struct scan *c, size_t max)
{
    c->i++;
    skip_ws(c);
    if (c->i < c->len && c->s[c->i] == ']')
        return 0;
    long n = 1;
    while (c->i < c->len && (size_t)n <= max) {
        if (!skip_value(c))
            return -1;
        if (c->s[c->i] == ']')
            return n;
        if (c->s[c->i] != ',')
            return -1;   /* a '}' closing nothing: broken */
        c->i++;
        n++;
    }
    return (size_t)n > max ? n : -1;
}

long shop_edge_prescan_json(const char *body, size_t len, size_t max)
{
    struct scan c = {body, len, 0};
    skip_ws(&c);
    if (c.i >= len || body[c.i] != '{')
        return -1;
    c.i++;
    for (;;) {
        skip_ws(&c);
        if (c.i >= len || body[c.i] != '"')
            return -1;
        size_t key = c.i + 1;
        if (!skip_string(&c))
            return -1;
        /* An escaped spelling of "events" is not recognised: the decoder counts it. */
        bool is_events = c.i - 1 - key == 6 && memcmp(body + key, "events", 6) == 0;
        skip_ws(&c);
        if (c.i >= len || body[c.i] != ':')
            return -1;
        c.i++;
        skip_ws(&c);
        if (is_events)
            return c.i < len && body[c.i] == '[' ? count_array(&c, max) : -1;
        if (!skip_value(&c) || body[c.i] != ',')
            return -1;
        c.i++;
    }
}

/* A base-128 varint at *i; false when it runs past the end or past 10 bytes. */
static bool varint(const uint8_t *b, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t byte = b[(*i)++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

long shop_edge_prescan_pb(const uint8_t *body, size_t len, size_t max)
{
    long n = 0;
    size_t i = 0;
    while (i < len && (size_t)n <= max) {
        uint64_t tag, v;
        if (!varint(body, len, &i, &tag) || tag >> 3 == 0)
            return -1;
        switch (tag & 7) {
        case 0:
            if (!varint(body, len, &i, &v))
                return -1;
            break;
        case 1:
            if (len - i < 8)
                return -1;
            i += 8;
            break;
        case 2:
            if (!varint(body, len, &i, &v) || v > len - i)
                return -1;
            i += (size_t)v;
            if (tag >> 3 == 1)
                n++;
            break;
        case 5:
            if (len - i < 4)
                return -1;
            i += 4;
            break;
        default:
            return -1;
        }
    }
    return n;
}
