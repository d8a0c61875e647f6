/* SPDX-License-Identifier: MIT
 * CPU count from affinity and cgroup quota texts. Pure. */
#include "edge/core/edge_cpus.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A decimal (strtoll, so leading white space and a sign are fine); *end after it. */
static bool parse_int(const char *s, const char **end, long long *out)
{
    char *e;
    errno = 0;
    long long v = strtoll(s, &e, 10);
    if (e == s || errno != 0)
        return false;
    *out = v;
    *end = e;
    return true;
}

static bool only_space(const char *s)
{
    while (*s != '\0' && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* ceil(quota / period), at least 1; 0 when either is not positive. */
static int ratio_up(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = quota / period + (quota % period != 0);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int shop_edge_cpus_from_cpu_max(const char *cpu_max)
{
    if (cpu_max == NULL)
        return 0;
    const char *s = cpu_max;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "max", 3) == 0)
        return 0;
    long long quota, period;
    const char *e;
    if (!parse_int(s, &e, &quota) || *e != ' ' || !parse_int(e, &e, &period) || !only_space(e))
        return 0;
    return ratio_up(quota, period);
}

int shop_edge_cpus_from_cfs(const char *quota_us, const char *period_us)
{
    long long quota, period;
    const char *e;
    if (quota_us == NULL || period_us == NULL || !parse_int(quota_us, &e, &quota) ||
        !only_space(e) || !parse_int(period_us, &e, &period) || !only_space(e))
        return 0;
    return ratio_up(quota, period);
}

bool shop_edge_cpus_v2_path(const char *text, char *out, size_t cap)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        if (len >= 3 && strncmp(line, "0::", 3) == 0 && len - 3 < cap && len > 3) {
            memcpy(out, line + 3, len - 3);
            out[len - 3] = '\0';
            return out[0] == '/';
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

int shop_edge_cpus_min_limit(int a, int b)
{
    if (a <= 0)
        return b > 0 ? b : 0;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

int shop_edge_cpus_usable(int affinity, int quota_limit)
{
    int n = affinity > 0 ? affinity : 1;
    return quota_limit > 0 && quota_limit < n ? quota_limit : n;
}
