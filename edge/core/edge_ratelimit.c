/* SPDX-License-Identifier: MIT
 * Token buckets (GCRA), their bounded table and the client address behind trusted
 * proxies. Pure. */
#define _POSIX_C_SOURCE 200809L
#include "edge/core/edge_ratelimit.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

static int64_t ceil_s(int64_t us)
{
    return (us + 999999) / 1000000;
}

void shop_rl_decide(const struct shop_rl_policy *p, int64_t *tat_us, int64_t now_us,
                    struct shop_rl_result *r)
{
    int64_t window_us = p->window_s * 1000000;
    int64_t interval = window_us / p->quota > 0 ? window_us / p->quota : 1;
    int64_t tat = *tat_us > now_us ? *tat_us : now_us;
    int64_t next = tat + interval;
    if (next - now_us > window_us) {
        r->allowed = false;
        r->remaining = 0;
        r->reset_s = ceil_s(tat - now_us);
        r->retry_after_s = ceil_s(next - now_us - window_us);
        if (r->retry_after_s < 1)
            r->retry_after_s = 1;
        return;
    }
    *tat_us = next;
    r->allowed = true;
    r->remaining = (window_us - (next - now_us)) / interval;
    r->reset_s = ceil_s(next - now_us);
    r->retry_after_s = 0;
}

void shop_rl_table_init(struct shop_rl_table *t, size_t capacity, uint64_t k0, uint64_t k1)
{
    t->k0 = k0;
    t->k1 = k1;
    t->n_sets = (capacity + SHOP_RL_WAYS - 1) / SHOP_RL_WAYS;
    if (t->n_sets == 0)
        t->n_sets = 1;
    t->entries = shop_xcalloc(t->n_sets * SHOP_RL_WAYS, sizeof(*t->entries));
}

void shop_rl_table_fini(struct shop_rl_table *t)
{
    free(t->entries);
    t->entries = NULL;
}

uint64_t shop_rl_hash(const struct shop_rl_table *t, const void *key, size_t len)
{
    uint64_t h = shop_siphash24(t->k0, t->k1, key, len);
    return h != 0 ? h : 1;
}

size_t shop_rl_set_of(const struct shop_rl_table *t, uint64_t hash)
{
    /* The high bits pick the set, so the set and the tag are not one and the same bits. */
    return (size_t)((hash >> 32) % t->n_sets);
}

void shop_rl_take(struct shop_rl_table *t, uint64_t hash, const struct shop_rl_policy *p,
                  int64_t now_us, struct shop_rl_result *r)
{
    struct shop_rl_entry *set = &t->entries[shop_rl_set_of(t, hash) * SHOP_RL_WAYS];
    struct shop_rl_entry *victim = &set[0];
    for (int i = 0; i < SHOP_RL_WAYS; i++) {
        if (set[i].tag == hash) {
            shop_rl_decide(p, &set[i].tat_us, now_us, r);
            return;
        }
        /* Empty first, then the bucket closest to full (smallest tat). */
        if (victim->tag != 0 && (set[i].tag == 0 || set[i].tat_us < victim->tat_us))
            victim = &set[i];
    }
    victim->tag = hash;
    victim->tat_us = 0;
    shop_rl_decide(p, &victim->tat_us, now_us, r);
}


static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

bool shop_rl_addr_parse(const char *s, size_t len, uint8_t out[16])
{
    trim(&s, &len);
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

static int parse_cidr(const char *s, size_t len, struct shop_rl_cidr *c)
{
    trim(&s, &len);
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    if (!shop_rl_addr_parse(s, alen, c->addr))
        return -1;
    bool v4 = memchr(s, ':', alen) == NULL;
    int max = v4 ? 32 : 128;
    int bits = max;
    if (slash != NULL) {
        size_t n = len - alen - 1;
        if (n == 0 || n > 3)
            return -1;
        bits = 0;
        for (size_t i = 0; i < n; i++) {
            char ch = slash[1 + i];
            if (ch < '0' || ch > '9')
                return -1;
            bits = bits * 10 + (ch - '0');
        }
        if (bits > max)
            return -1;
    }
    c->bits = v4 ? bits + 96 : bits;
    return 0;
}

int shop_rl_proxies_parse(struct shop_rl_proxies *p, const char *list, struct shop_err *err)
{
    p->n = 0;
    if (list == NULL)
        return 0;
    const char *s = list;
    while (*s != '\0') {
        size_t len = strcspn(s, ",");
        const char *item = s;
        size_t ilen = len;
        trim(&item, &ilen);
        if (ilen > 0) {
            if (p->n == SHOP_RL_PROXIES_MAX)
                return shop_err_set(err, SHOP_ECONFIG, "more than %d trusted proxies",
                                    SHOP_RL_PROXIES_MAX);
            if (parse_cidr(item, ilen, &p->cidr[p->n]) != 0)
                return shop_err_set(err, SHOP_ECONFIG, "not an address or CIDR: \"%.*s\"",
                                    (int)(ilen > 60 ? 60 : ilen), item);
            p->n++;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

static bool cidr_contains(const struct shop_rl_cidr *c, const uint8_t a[16])
{
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (a[full] & mask);
}

bool shop_rl_proxies_contain(const struct shop_rl_proxies *p, const uint8_t addr[16])
{
    for (int i = 0; i < p->n; i++) {
        if (cidr_contains(&p->cidr[i], addr))
            return true;
    }
    return false;
}

void shop_rl_client_addr(const struct shop_rl_proxies *p, const uint8_t peer[16],
                         const char *xff, size_t xff_len, uint8_t out[16])
{
    memcpy(out, peer, 16);
    if (xff == NULL || !shop_rl_proxies_contain(p, peer))
        return;
    size_t end = xff_len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        uint8_t a[16];
        if (!shop_rl_addr_parse(xff + start, end - start, a))
            return;            /* out stays the last address known good */
        memcpy(out, a, 16);
        if (!shop_rl_proxies_contain(p, a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}
