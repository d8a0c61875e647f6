/* SPDX-License-Identifier: MIT
 * The stop offsets of a bounded run (workers/core/stop_at.h). Pure.
 */
#include "workers/core/stop_at.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

/* One "topic:partition:offset" item of len bytes at s. */
static int parse_item(const char *s, size_t len, struct shop_stop_at_entry *e, struct shop_err *err)
{
    char item[SHOP_TOPIC_NAME_MAX + 48];
    if (len == 0 || len >= sizeof(item))
        return shop_err_set(err, SHOP_EINVAL, "SHOPSTREAM_STOP_AT_OFFSETS: bad item of %zu bytes", len);
    memcpy(item, s, len);
    item[len] = '\0';
    char *off = strrchr(item, ':');
    char *part = NULL;
    if (off != NULL) {
        *off++ = '\0';
        part = strrchr(item, ':');
    }
    if (part == NULL || part == item)
        return shop_err_set(err, SHOP_EINVAL, "SHOPSTREAM_STOP_AT_OFFSETS: \"%.*s\" is not topic:partition:offset",
                            (int)len, s);
    *part++ = '\0';
    char *end1, *end2;
    errno = 0;
    long p = strtol(part, &end1, 10);
    long long o = strtoll(off, &end2, 10);
    if (errno != 0 || *part == '\0' || *end1 != '\0' || *off == '\0' || *end2 != '\0' || p < 0 ||
        p > INT32_MAX || o < 0 || strlen(item) >= SHOP_TOPIC_NAME_MAX)
        return shop_err_set(err, SHOP_EINVAL, "SHOPSTREAM_STOP_AT_OFFSETS: \"%.*s\" is not topic:partition:offset",
                            (int)len, s);
    strcpy(e->topic, item);
    e->partition = (int32_t)p;
    e->stop = o;
    e->reached = 0;
    return 0;
}

int shop_stop_at_parse(const char *text, struct shop_stop_at *out, struct shop_err *err)
{
    size_t n = 1;
    for (const char *c = text; *c != '\0'; c++)
        n += *c == ',';
    *out = (struct shop_stop_at){.on = true};
    if (*text == '\0')
        return 0;
    out->entries = shop_xcalloc(n, sizeof(*out->entries));
    for (const char *s = text; *s != '\0';) {
        size_t len = strcspn(s, ",");
        int rc = parse_item(s, len, &out->entries[out->n], err);
        if (rc < 0)
            return rc;
        out->n++;
        s += len;
        if (*s == ',' && *++s == '\0')
            return shop_err_set(err, SHOP_EINVAL, "SHOPSTREAM_STOP_AT_OFFSETS: ends with a comma");
    }
    return 0;
}

static struct shop_stop_at_entry *find(const struct shop_stop_at *sa, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < sa->n; i++) {
        if (sa->entries[i].partition == partition && strcmp(sa->entries[i].topic, topic) == 0)
            return &sa->entries[i];
    }
    return NULL;
}

int64_t shop_stop_at_offset(const struct shop_stop_at *sa, const char *topic, int32_t partition)
{
    if (!sa->on)
        return INT64_MAX;
    const struct shop_stop_at_entry *e = find(sa, topic, partition);
    return e != NULL ? e->stop : 0;
}

void shop_stop_at_note(struct shop_stop_at *sa, const char *topic, int32_t partition, int64_t next)
{
    struct shop_stop_at_entry *e = sa->on ? find(sa, topic, partition) : NULL;
    if (e != NULL && next > e->reached)
        e->reached = next;
}

bool shop_stop_at_done(const struct shop_stop_at *sa)
{
    if (!sa->on)
        return false;
    for (size_t i = 0; i < sa->n; i++) {
        if (sa->entries[i].reached < sa->entries[i].stop)
            return false;
    }
    return true;
}
