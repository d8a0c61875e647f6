/* SPDX-License-Identifier: MIT
 * Read-your-writes positions. Pure. The 202 of POST /v1/events carries a position
 * token: per (stream, partition) the offset of the request's last event there. A read
 * given it back (X-Shopstream-After) waits until every projection it depends on has
 * consumed past those offsets.
 *
 * The token is opaque to clients: base64url (no padding) of
 *   version (1 byte, 1) | mac (16 bytes) | entries
 * where each entry is stream (1 byte), partition and offset (unsigned LEB128 varints),
 * in ascending (stream, partition) order, one per pair. mac is HMAC-SHA256, truncated,
 * over the token's subject (the JWT sub of the request that wrote it) and the entries,
 * keyed by SHOPSTREAM_EDGE_POSITION_KEY: a token is only "mine" for the user it was
 * issued to, so another user's token grants nothing (no wait) and reveals nothing (the
 * answer says neither fresh nor stale).
 */
#ifndef SHOP_EDGE_POSITION_H
#define SHOP_EDGE_POSITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOP_POS_VERSION 1
#define SHOP_POS_ENTRIES_MAX 512     /* (stream, partition) pairs of one token */
#define SHOP_POS_MAC_LEN 16
#define SHOP_POS_KEY_LEN 32
#define SHOP_POS_TOKEN_MAX 8192      /* base64url characters; a full token fits */
#define SHOP_POS_WAIT_DEFAULT_S 2    /* Prefer: wait=N, seconds */
#define SHOP_POS_WAIT_MAX_S 10

struct shop_pos_entry {
    int stream;                      /* enum shop_stream */
    int32_t partition;
    int64_t offset;                  /* the event's own offset: consumed past it = next > it */
};

struct shop_position {
    size_t n;                        /* ascending (stream, partition), one entry each */
    struct shop_pos_entry e[SHOP_POS_ENTRIES_MAX];
};

/** Records that an event of stream landed at (partition, offset); keeps the largest
 *  offset per pair. Returns 0, or -1 when the token is full (a new pair past
 *  SHOP_POS_ENTRIES_MAX) or the values are out of range. */
int shop_position_add(struct shop_position *p, int stream, int32_t partition, int64_t offset);

/** The token of p for subject sub into out (NUL-terminated). Returns its length, or 0
 *  when cap is too small or p is empty. */
size_t shop_position_encode(const struct shop_position *p, const uint8_t key[SHOP_POS_KEY_LEN],
                            const char *sub, char *out, size_t cap);

enum shop_pos_result {
    SHOP_POS_MINE = 0,               /* well-formed, issued to sub: p holds it */
    SHOP_POS_FOREIGN,                /* well-formed, not issued to sub (or under another key) */
    SHOP_POS_MALFORMED               /* not a token: 400 naming the header; *why says what */
};

/** Decodes text (len bytes, not NUL-terminated) for subject sub. */
enum shop_pos_result shop_position_decode(const char *text, size_t len,
                                          const uint8_t key[SHOP_POS_KEY_LEN], const char *sub,
                                          struct shop_position *p, const char **why);

/** The wait a Prefer header asks for (RFC 7240 "wait=N", among other preferences):
 *  true with *wait_s clamped to 0..SHOP_POS_WAIT_MAX_S when it names one; false (and
 *  *wait_s untouched) when it does not or its value is not a number. */
bool shop_prefer_wait(const char *v, size_t len, int *wait_s);

#endif
