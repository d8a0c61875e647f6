/* SPDX-License-Identifier: MIT
 * Per-client rate limits. Pure: time is passed in, the seed is passed in.
 *
 * A policy lets a client make `quota` requests per `window_s` seconds: a token bucket that
 * holds at most `quota` tokens and refills `quota` per window. Each bucket is stored as one
 * timestamp, its "theoretical arrival time" (GCRA, the cell-rate form of the same bucket):
 * the bucket is full once now >= tat, and every request pushes tat one emission interval
 * (window / quota) later.
 *
 * Buckets live in a table of fixed size: set-associative, SHOP_RL_WAYS entries per set,
 * chosen by SipHash-2-4 of the key under a secret seed, so a client cannot aim many keys at
 * one set (hash flooding). A full set gives up the entry whose bucket is closest to full;
 * an entry whose tat has passed is a full bucket anyway, so nothing is lost until more
 * clients are limiting at once than the table holds. The table is not thread-safe: the
 * caller serialises access per set (shop_rl_set_of). Also here: trusted-proxy CIDR lists
 * and the client address behind them (X-Forwarded-For).
 */
#ifndef SHOP_EDGE_RATELIMIT_H
#define SHOP_EDGE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "base/shop_siphash.h"

#define SHOP_RL_WAYS 8
#define SHOP_RL_PROXIES_MAX 32

enum shop_rl_class { SHOP_RL_INGEST, SHOP_RL_READS, SHOP_RL_CLASSES };
enum shop_rl_keykind { SHOP_RL_BY_SUBJECT, SHOP_RL_BY_ADDRESS, SHOP_RL_KINDS };

struct shop_rl_policy {
    int64_t quota;       /* requests per window; 0: no limit */
    int64_t window_s;
};

struct shop_rl_result {
    bool allowed;
    int64_t remaining;   /* requests still allowed right now, after this one */
    int64_t reset_s;     /* seconds until the bucket is full again (RateLimit t=) */
    int64_t retry_after_s; /* when refused: seconds until one request is allowed, >= 1 */
};

/** One bucket decision. *tat is the bucket's state (0: a new, full bucket); it moves only
 *  when the request is allowed. */
void shop_rl_decide(const struct shop_rl_policy *p, int64_t *tat_us, int64_t now_us,
                    struct shop_rl_result *r);

struct shop_rl_entry {
    uint64_t tag;        /* keyed hash of the key; 0: empty */
    int64_t tat_us;
};

struct shop_rl_table {
    uint64_t k0, k1;     /* SipHash key */
    size_t n_sets;
    struct shop_rl_entry *entries;   /* n_sets * SHOP_RL_WAYS */
};

/** capacity is rounded up to whole sets. */
void shop_rl_table_init(struct shop_rl_table *t, size_t capacity, uint64_t k0, uint64_t k1);
void shop_rl_table_fini(struct shop_rl_table *t);
/** The keyed hash of key, never 0. */
uint64_t shop_rl_hash(const struct shop_rl_table *t, const void *key, size_t len);
size_t shop_rl_set_of(const struct shop_rl_table *t, uint64_t hash);
/** Finds or makes the bucket of hash and decides one request against it. */
void shop_rl_take(struct shop_rl_table *t, uint64_t hash, const struct shop_rl_policy *p,
                  int64_t now_us, struct shop_rl_result *r);

/* Addresses are 16 bytes: IPv6, with IPv4 as ::ffff:a.b.c.d. */
struct shop_rl_cidr {
    uint8_t addr[16];
    int bits;
};

struct shop_rl_proxies {
    int n;
    struct shop_rl_cidr cidr[SHOP_RL_PROXIES_MAX];
};

/** Parses len bytes of an IPv4 or IPv6 address (surrounding blanks allowed). */
bool shop_rl_addr_parse(const char *s, size_t len, uint8_t out[16]);
/** "10.0.0.0/8, 192.168.1.7, fd00::/8": comma-separated; a bare address is one host. NULL or
 *  empty: no trusted proxy. */
int shop_rl_proxies_parse(struct shop_rl_proxies *p, const char *list, struct shop_err *err);
bool shop_rl_proxies_contain(const struct shop_rl_proxies *p, const uint8_t addr[16]);
/** The client's address. The peer, unless the peer is a trusted proxy: then X-Forwarded-For
 *  (all its fields joined by commas, oldest hop first) is read from the right, skipping
 *  trusted proxies, and the first address that is not one is the client. A malformed entry
 *  ends the walk at the last address known good, so a forged entry can never pick another
 *  client's bucket; a chain of trusted proxies only yields the leftmost entry. */
void shop_rl_client_addr(const struct shop_rl_proxies *p, const uint8_t peer[16],
                         const char *xff, size_t xff_len, uint8_t out[16]);

#endif
