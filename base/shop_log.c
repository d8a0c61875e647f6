/* SPDX-License-Identifier: MIT
 * logfmt writer: one line per call, written with a single fputs so lines from
 * several threads do not interleave. Shell-side utility. */
#define _POSIX_C_SOURCE 200809L
#include "base/shop_log.h"
#include "base/shop_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum shop_log_level shop_log_level = SHOP_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

int shop_log_level_parse(const char *s, enum shop_log_level *out)
{
    for (int i = 0; i <= SHOP_LOG_FATAL; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum shop_log_level)i;
            return 0;
        }
    }
    return SHOP_EINVAL;
}

void shop_log_write(enum shop_log_level level, const char *comp, const char *msg, const char *kv_fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s msg=\"%s\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], comp, msg);
    if (n < 0)
        return;
    if (kv_fmt != NULL && kv_fmt[0] != '\0' && (size_t)n < sizeof(line) - 2) {
        va_list ap;
        va_start(ap, kv_fmt);
        line[n++] = ' ';
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, kv_fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';
    fputs(line, stderr);
}
