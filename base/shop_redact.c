/* SPDX-License-Identifier: MIT
 * Secrets out of log lines: a DSN is scanned the way libpq's conninfo parser
 * reads it, each secret's bytes are marked in a mask, and each masked run is
 * written as one SHOP_REDACTED. Pure.
 */
#define _POSIX_C_SOURCE 200809L
#include "base/shop_redact.h"
#include "base/shop_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct out {
    char *buf;
    size_t cap, len;
};

static void out_put(struct out *o, const char *s, size_t len)
{
    if (o->cap > 0 && o->len < o->cap - 1) {
        size_t room = o->cap - 1 - o->len;
        memcpy(o->buf + o->len, s, len < room ? len : room);
    }
    o->len += len;
}

static size_t out_end(struct out *o)
{
    if (o->cap > 0)
        o->buf[o->len < o->cap - 1 ? o->len : o->cap - 1] = '\0';
    return o->len;
}

/* text with each run of masked bytes written as one SHOP_REDACTED. */
static size_t emit_masked(const char *text, size_t len, const bool *mask, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    for (size_t i = 0; i < len;) {
        size_t j = i;
        bool masked = mask[i];
        while (j < len && mask[j] == masked)
            j++;
        if (masked)
            out_put(&o, SHOP_REDACTED, strlen(SHOP_REDACTED));
        else
            out_put(&o, text + i, j - i);
        i = j;
    }
    return out_end(&o);
}

/* When memory runs out the whole text is the secret. */
static size_t emit_all_redacted(char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    out_put(&o, SHOP_REDACTED, strlen(SHOP_REDACTED));
    return out_end(&o);
}

static void mark(bool *mask, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        mask[i] = true;
}

static bool is_secret_key(const char *k, size_t len)
{
    return (len == 8 && strncasecmp(k, "password", 8) == 0) ||
           (len == 11 && strncasecmp(k, "sslpassword", 11) == 0);
}

/* libpq's uri_prefix_length(); case-insensitive here, so that a spelling libpq
 * refuses (and then echoes) is masked as well. */
static bool is_uri(const char *s, size_t len)
{
    return (len >= 13 && strncasecmp(s, "postgresql://", 13) == 0) ||
           (len >= 11 && strncasecmp(s, "postgres://", 11) == 0);
}

/* Percent-decodes s[0..len) into out (room for len + 1); returns the decoded length. */
static size_t pct_decode(const char *s, size_t len, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = shop_hex_digit((unsigned char)s[i + 1])) >= 0 &&
            (lo = shop_hex_digit((unsigned char)s[i + 2])) >= 0) {
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return j;
}

/* End of a URI query value starting at i: the next '&' that begins another
 * "name=" parameter, so an unencoded '&' inside a password stays masked. */
static size_t query_value_end(const char *s, size_t len, size_t i)
{
    for (; i < len; i++) {
        if (s[i] != '&')
            continue;
        size_t k = i + 1;
        while (k < len && (isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '%'))
            k++;
        if (k > i + 1 && k < len && s[k] == '=')
            return i;
    }
    return len;
}

static void mask_uri(const char *s, size_t len, bool *mask)
{
    size_t b = (size_t)(strstr(s, "://") - s) + 3;
    /* libpq ends the user info at the first '@' or '/'; a password holding an
     * unencoded '@', '/' or '?' moves that point, so take the last '@' instead. */
    size_t at = SIZE_MAX;
    for (size_t i = b; i < len; i++) {
        if (s[i] == '@')
            at = i;
    }
    if (at != SIZE_MAX) {
        const char *colon = memchr(s + b, ':', at - b);
        if (colon != NULL)
            mark(mask, (size_t)(colon - s) + 1, at);
    }
    for (size_t i = b; i < len; i++) {
        if (s[i] != '?' && s[i] != '&')
            continue;
        size_t k = i + 1;
        while (k < len && s[k] != '=' && s[k] != '&')
            k++;
        char key[16];
        if (k < len && s[k] == '=' && k - i - 1 < sizeof(key)) {
            size_t klen = pct_decode(s + i + 1, k - i - 1, key);
            if (is_secret_key(key, klen))
                mark(mask, k + 1, query_value_end(s, len, k + 1));
        }
    }
}

static void mask_dsn(const char *s, size_t len, bool *mask, int depth);

/* A dbname value that is itself a connection string (libpq's expand_dbname):
 * decode it, mask the inner DSN, and map the mask back onto the raw bytes. */
static void mask_nested(const char *s, size_t vs, size_t ve, bool *mask, int depth)
{
    char *dec = malloc(ve - vs + 1);
    size_t *from = malloc((ve - vs + 1) * sizeof(*from));
    bool *inner = calloc(ve - vs + 1, sizeof(*inner));
    if (dec == NULL || from == NULL || inner == NULL) {
        mark(mask, vs, ve);
        goto out;
    }
    size_t i = vs, n = 0;
    bool quoted = i < ve && s[i] == '\'';
    if (quoted)
        i++;
    while (i < ve && !(quoted && s[i] == '\'')) {
        if (s[i] == '\\' && i + 1 < ve)
            i++;
        dec[n] = s[i];
        from[n++] = i++;
    }
    dec[n] = '\0';
    if (memchr(dec, '=', n) == NULL && !is_uri(dec, n))
        goto out;
    mask_dsn(dec, n, inner, depth + 1);
    for (size_t k = 0; k < n; k++) {
        if (!inner[k])
            continue;
        mask[from[k]] = true;
        if (from[k] > vs && s[from[k] - 1] == '\\')
            mask[from[k] - 1] = true;   /* the escape of a masked byte */
    }
out:
    free(dec);
    free(from);
    free(inner);
}

/* libpq's conninfo_parse(): keyword, optional spaces, '=', optional spaces, a
 * value that is quoted ('...', backslash escapes) or runs to the next space
 * (backslash escapes too). */
static void mask_keywords(const char *s, size_t len, bool *mask, int depth)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i >= len)
            break;
        size_t ks = i;
        while (i < len && s[i] != '=' && !isspace((unsigned char)s[i]))
            i++;
        bool secret = is_secret_key(s + ks, i - ks);
        bool dbname = i - ks == 6 && strncasecmp(s + ks, "dbname", 6) == 0;
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i >= len || s[i] != '=') {
            if (secret)
                mark(mask, i, len);   /* libpq refuses it; what follows may be the value */
            continue;
        }
        i++;
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        size_t vs = i;
        if (i < len && s[i] == '\'') {
            for (i++; i < len && s[i] != '\''; i++) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
            }
            if (i < len)
                i++;
        } else {
            for (; i < len && !isspace((unsigned char)s[i]); i++) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
            }
        }
        if (secret)
            mark(mask, vs, i);
        else if (dbname && depth == 0)
            mask_nested(s, vs, i, mask, depth);
    }
}

static void mask_dsn(const char *s, size_t len, bool *mask, int depth)
{
    if (is_uri(s, len))
        mask_uri(s, len, mask);
    else
        mask_keywords(s, len, mask, depth);
}

size_t shop_redact_dsn(const char *dsn, char *out, size_t n)
{
    size_t len = strlen(dsn);
    bool *mask = calloc(len + 1, sizeof(*mask));
    if (mask == NULL)
        return emit_all_redacted(out, n);
    mask_dsn(dsn, len, mask, 0);
    size_t r = emit_masked(dsn, len, mask, out, n);
    free(mask);
    return r;
}

static void mask_occurrences(const char *text, bool *mask, const char *secret)
{
    size_t slen = strlen(secret);
    if (slen == 0)
        return;
    for (const char *p = text; (p = strstr(p, secret)) != NULL; p++)
        mark(mask, (size_t)(p - text), (size_t)(p - text) + slen);
}

/* s without one pair of surrounding single quotes, backslash escapes resolved. */
static void unquote(char *s)
{
    size_t len = strlen(s), j = 0;
    size_t from = 0, to = len;
    if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'') {
        from = 1;
        to = len - 1;
    }
    for (size_t i = from; i < to; i++) {
        if (s[i] == '\\' && i + 1 < to)
            i++;
        s[j++] = s[i];
    }
    s[j] = '\0';
}

/* Masks in text every spelling of one secret run of the DSN: as written, then
 * unquoted (twice, for a nested DSN), each also percent-decoded. */
static void mask_secret_forms(const char *text, bool *tmask, const char *raw, size_t rlen)
{
    char *v = malloc(rlen + 1), *d = malloc(rlen + 1);
    if (v != NULL && d != NULL) {
        memcpy(v, raw, rlen);
        v[rlen] = '\0';
        for (int round = 0; round < 3; round++) {
            mask_occurrences(text, tmask, v);
            pct_decode(v, strlen(v), d);
            mask_occurrences(text, tmask, d);
            unquote(v);
        }
    }
    free(v);
    free(d);
}

size_t shop_redact_text(const char *text, const char *dsn, char *out, size_t n)
{
    size_t tlen = strlen(text), dlen = dsn != NULL ? strlen(dsn) : 0;
    bool *tmask = calloc(tlen + 1, sizeof(*tmask));
    bool *dmask = calloc(dlen + 1, sizeof(*dmask));
    size_t r;
    if (tmask == NULL || dmask == NULL) {
        r = emit_all_redacted(out, n);
        goto out;
    }
    if (dsn != NULL) {
        mask_dsn(dsn, dlen, dmask, 0);
        for (size_t i = 0; i < dlen;) {
            if (!dmask[i]) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < dlen && dmask[j])
                j++;
            mask_secret_forms(text, tmask, dsn + i, j - i);
            i = j;
        }
    }
    r = emit_masked(text, tlen, tmask, out, n);
out:
    free(tmask);
    free(dmask);
    return r;
}

size_t shop_redact_value(const char *text, const char *secret, char *out, size_t n)
{
    size_t tlen = strlen(text);
    bool *mask = calloc(tlen + 1, sizeof(*mask));
    if (mask == NULL)
        return emit_all_redacted(out, n);
    if (secret != NULL)
        mask_occurrences(text, mask, secret);
    size_t r = emit_masked(text, tlen, mask, out, n);
    free(mask);
    return r;
}

bool shop_redact_kafka_is_secret(const char *name)
{
    char low[128];
    size_t len = strlen(name);
    if (len >= sizeof(low))
        return true;   /* no real property is this long; do not print what it holds */
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    return strstr(low, "password") != NULL || strstr(low, "secret") != NULL ||
           strcmp(low, "ssl.key.pem") == 0 || strcmp(low, "sasl.oauthbearer.config") == 0 ||
           strcmp(low, "sasl.jaas.config") == 0;
}
