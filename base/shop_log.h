/* SPDX-License-Identifier: MIT
 * logfmt lines on stderr, for shells only (the pure core returns errors and
 * never logs). SHOP_LOG checks the level before formatting (Redis serverLog).
 *   SHOP_LOG(SHOP_LOG_WARN, "worker", "could not commit offsets", "err=%s", e);
 * prints: ts=... level=warn comp=worker msg="could not commit offsets" err=...
 */
#ifndef SHOP_LOG_H
#define SHOP_LOG_H

enum shop_log_level { SHOP_LOG_DEBUG = 0, SHOP_LOG_INFO, SHOP_LOG_WARN, SHOP_LOG_ERROR, SHOP_LOG_FATAL };

extern enum shop_log_level shop_log_level;

/** Parses "debug|info|warn|error"; returns 0 or SHOP_EINVAL. */
int shop_log_level_parse(const char *s, enum shop_log_level *out);

void shop_log_write(enum shop_log_level level, const char *comp, const char *msg, const char *kv_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define SHOP_LOG(level, comp, msg, ...)                                                            \
    do {                                                                                           \
        if ((level) >= shop_log_level)                                                             \
            shop_log_write((level), (comp), (msg), __VA_ARGS__);                                   \
    } while (0)

#endif
