/* SPDX-License-Identifier: MIT
 * Parsers of operator-given Kafka client properties (a ';' list and Java
 * .properties), the refusal of product-owned names, and their redacted
 * description. Pure. Errors name the property and where it came from, never
 * its value: the value may be a password.
 */
#include "base/shop_kafka_props.h"
#include "base/shop_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/shop_err.h"
#include "base/shop_redact.h"

void shop_kafka_props_init(struct shop_kafka_props *props)
{
    props->n = 0;
    props->used = 0;
}

static bool name_ok(const char *name, size_t len)
{
    if (len == 0 || len >= SHOP_KAFKA_PROP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Copies s[0..len) into the props' text; NULL when it is full. */
static const char *store(struct shop_kafka_props *props, const char *s, size_t len)
{
    if (len + 1 > sizeof(props->text) - props->used)
        return NULL;
    char *dst = props->text + props->used;
    memcpy(dst, s, len);
    dst[len] = '\0';
    props->used += len + 1;
    return dst;
}

/* Prints at most 40 bytes of an invalid name, so a value typed where a name was
 * expected does not land whole in the log. */
static int add(struct shop_kafka_props *props, const char *name, size_t nlen, const char *value, size_t vlen,
               const char *origin, int line, struct shop_cfg_errs *errs)
{
    if (!name_ok(name, nlen)) {
        shop_cfg_errorf(errs, "%s entry %d: \"%.*s%s\" is not a property name ([A-Za-z0-9._-])", origin, line,
                        nlen > 40 ? 40 : (int)nlen, name, nlen > 40 ? "..." : "");
        return SHOP_ECONFIG;
    }
    char key[SHOP_KAFKA_PROP_NAME_MAX];
    memcpy(key, name, nlen);
    key[nlen] = '\0';
    for (int i = 0; i < props->n; i++) {
        if (strcmp(props->p[i].name, key) == 0) {
            shop_cfg_errorf(errs, "%s: kafka property %s is given twice (also in %s)", origin, key,
                            props->p[i].origin);
            return SHOP_ECONFIG;
        }
    }
    if (props->n >= SHOP_KAFKA_PROPS_MAX) {
        shop_cfg_errorf(errs, "%s: more than %d kafka properties", origin, SHOP_KAFKA_PROPS_MAX);
        return SHOP_ECONFIG;
    }
    const char *n = store(props, key, nlen), *v = n != NULL ? store(props, value, vlen) : NULL;
    if (v == NULL) {
        shop_cfg_errorf(errs, "%s: kafka properties longer than %d bytes in all", origin,
                        SHOP_KAFKA_PROPS_TEXT_MAX);
        return SHOP_ECONFIG;
    }
    props->p[props->n++] = (struct shop_kafka_prop){.name = n, .value = v, .origin = origin};
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* One unescaped field being collected: escaped bytes count as content, so
 * trimming stops at them. */
struct field {
    char *buf;
    size_t len, keep;   /* keep: length up to the last escaped or non-blank byte */
};

static void field_put(struct field *f, char c, bool escaped)
{
    if (f->len == 0 && !escaped && is_blank(c))
        return;   /* leading blanks */
    f->buf[f->len++] = c;
    if (escaped || !is_blank(c))
        f->keep = f->len;
}

int shop_kafka_props_parse_list(struct shop_kafka_props *props, const char *text, const char *origin,
                                struct shop_cfg_errs *errs)
{
    size_t len = strlen(text);
    char *name = malloc(len + 1), *value = malloc(len + 1);
    int rc = 0, entry = 0;
    if (name == NULL || value == NULL) {
        shop_cfg_errorf(errs, "%s: out of memory", origin);
        rc = SHOP_ECONFIG;
        goto out;
    }
    size_t i = 0;
    while (i <= len) {
        struct field f[2] = {{name, 0, 0}, {value, 0, 0}};
        int part = 0;
        bool bad_escape = false;
        entry++;
        for (; i < len && text[i] != ';' && text[i] != '\n'; i++) {
            if (text[i] == '\\') {
                if (++i == len) {
                    bad_escape = true;
                    break;
                }
                field_put(&f[part], text[i], true);
            } else if (text[i] == '=' && part == 0) {
                part = 1;
            } else {
                field_put(&f[part], text[i], false);
            }
        }
        i++;   /* the separator, or past the end */
        if (bad_escape) {
            shop_cfg_errorf(errs, "%s entry %d: a backslash ends the text", origin, entry);
            rc = SHOP_ECONFIG;
        } else if (part == 0 && f[0].keep == 0) {
            entry--;   /* an empty entry: "a=1;;b=2", a trailing ';' */
        } else if (part == 0) {
            shop_cfg_errorf(errs, "%s entry %d: no '=' after the property name", origin, entry);
            rc = SHOP_ECONFIG;
        } else if (add(props, name, f[0].keep, value, f[1].keep, origin, entry, errs) != 0) {
            rc = SHOP_ECONFIG;
        }
    }
out:
    free(name);
    free(value);
    return rc;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* java.util.Properties escapes of raw[0..len) into out; returns the length, or
 * SIZE_MAX on a malformed \uXXXX. */
static size_t java_unescape(const char *raw, size_t len, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] != '\\' || i + 1 == len) {
            out[j++] = raw[i];
            continue;
        }
        char c = raw[++i];
        switch (c) {
        case 't': out[j++] = '\t'; break;
        case 'n': out[j++] = '\n'; break;
        case 'r': out[j++] = '\r'; break;
        case 'f': out[j++] = '\f'; break;
        case 'u': {
            unsigned cp = 0;
            for (int k = 1; k <= 4; k++) {
                int h = i + (size_t)k < len ? shop_hex_digit((unsigned char)raw[i + (size_t)k]) : -1;
                if (h < 0)
                    return SIZE_MAX;
                cp = cp * 16 + (unsigned)h;
            }
            i += 4;
            j += utf8_put(out + j, cp);
            break;
        }
        default: out[j++] = c; break;
        }
    }
    return j;
}

/* Joins natural lines ending in an odd number of backslashes into one logical line
 * (leading blanks of the continuation dropped). *pos moves past it. Returns its
 * length in line. */
static size_t logical_line(const char *text, size_t len, size_t *pos, char *line)
{
    size_t i = *pos, n = 0;
    while (i < len && is_blank(text[i]))
        i++;
    while (i < len) {
        char c = text[i];
        if (c == '\n' || c == '\r') {
            size_t bs = 0;
            while (bs < n && line[n - 1 - bs] == '\\')
                bs++;
            i += (c == '\r' && i + 1 < len && text[i + 1] == '\n') ? 2 : 1;
            if (bs % 2 == 0)
                break;
            n--;   /* the continuation backslash */
            while (i < len && is_blank(text[i]))
                i++;
            continue;
        }
        line[n++] = c;
        i++;
    }
    *pos = i;
    return n;
}

int shop_kafka_props_parse_file(struct shop_kafka_props *props, const char *text, size_t len,
                                const char *origin, struct shop_cfg_errs *errs)
{
    char *line = malloc(len + 1), *key = malloc(len * 3 + 1), *value = malloc(len * 3 + 1);
    int rc = 0, entry = 0;
    if (line == NULL || key == NULL || value == NULL) {
        shop_cfg_errorf(errs, "%s: out of memory", origin);
        rc = SHOP_ECONFIG;
        goto out;
    }
    for (size_t pos = 0; pos < len;) {
        size_t start = pos;
        while (start < len && is_blank(text[start]))
            start++;
        if (start < len && (text[start] == '#' || text[start] == '!')) {
            /* a comment never continues (java.util.Properties) */
            while (start < len && text[start] != '\n' && text[start] != '\r')
                start++;
            pos = start + 1;
            continue;
        }
        size_t n = logical_line(text, len, &pos, line);
        if (n == 0)
            continue;
        entry++;
        size_t k = 0;
        while (k < n && line[k] != '=' && line[k] != ':' && !is_blank(line[k])) {
            if (line[k] == '\\' && k + 1 < n)
                k++;
            k++;
        }
        size_t v = k;
        while (v < n && is_blank(line[v]))
            v++;
        if (v < n && (line[v] == '=' || line[v] == ':'))
            v++;
        while (v < n && is_blank(line[v]))
            v++;
        size_t klen = java_unescape(line, k, key), vlen = java_unescape(line + v, n - v, value);
        if (klen == SIZE_MAX || vlen == SIZE_MAX) {
            shop_cfg_errorf(errs, "%s entry %d: malformed \\uXXXX escape", origin, entry);
            rc = SHOP_ECONFIG;
        } else if (add(props, key, klen, value, vlen, origin, entry, errs) != 0) {
            rc = SHOP_ECONFIG;
        }
    }
out:
    free(line);
    free(key);
    free(value);
    return rc;
}

const char *shop_kafka_props_get(const struct shop_kafka_props *props, const char *name)
{
    for (int i = 0; i < props->n; i++) {
        if (strcmp(props->p[i].name, name) == 0)
            return props->p[i].value;
    }
    return NULL;
}

int shop_kafka_props_refuse(const struct shop_kafka_props *props, const struct shop_kafka_owned *owned,
                            struct shop_cfg_errs *errs)
{
    int rc = 0;
    for (int i = 0; i < props->n; i++) {
        for (const struct shop_kafka_owned *o = owned; o->name != NULL; o++) {
            if (strcasecmp(props->p[i].name, o->name) == 0) {
                shop_cfg_errorf(errs, "%s: kafka property %s is set by shopstream and cannot be overridden: %s",
                                props->p[i].origin, props->p[i].name, o->why);
                rc = SHOP_ECONFIG;
            }
        }
    }
    return rc;
}

struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (o->len + 1 < o->cap)
            o->buf[o->len++] = s[i];
    }
}

static void put_escaped(struct out *o, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put(o, "\\", 1);
            put(o, s, 1);
        } else if (c < 0x20 || c == 0x7f) {
            put(o, "?", 1);
        } else {
            put(o, s, 1);
        }
    }
}

size_t shop_kafka_props_describe(const struct shop_kafka_props *props, char *buf, size_t n)
{
    struct out o = {buf, n, 0};
    if (props->n == 0)
        put(&o, "(none)", 6);
    for (int i = 0; i < props->n; i++) {
        if (i > 0)
            put(&o, ",", 1);
        put_escaped(&o, props->p[i].name);
        put(&o, "=", 1);
        size_t vlen = strlen(props->p[i].value);
        if (shop_redact_kafka_is_secret(props->p[i].name)) {
            put(&o, SHOP_REDACTED, strlen(SHOP_REDACTED));
        } else if (vlen > SHOP_KAFKA_PROP_DESCRIBE_MAX || strchr(props->p[i].value, '\n') != NULL) {
            char len[32];   /* an inline PEM certificate: its size says enough */
            put(&o, len, (size_t)snprintf(len, sizeof(len), "(%zu bytes)", vlen));
        } else {
            put_escaped(&o, props->p[i].value);
        }
    }
    if (n > 0)
        buf[o.len] = '\0';
    return o.len;
}
