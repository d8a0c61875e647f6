/* SPDX-License-Identifier: MIT
 * How many CPUs this process may use: its affinity mask capped by a cgroup CPU
 * quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded up. Pure:
 * the shell reads /proc/self/cgroup and the cgroup files and passes their
 * contents as strings.
 */
#ifndef SHOP_EDGE_CPUS_H
#define SHOP_EDGE_CPUS_H

#include <stdbool.h>
#include <stddef.h>

/** CPUs a cgroup v2 cpu.max ("max 100000", "150000 100000") allows, rounded up; 0 when
 *  it sets no limit or cannot be read (NULL, malformed). */
int shop_edge_cpus_from_cpu_max(const char *cpu_max);

/** Same for cgroup v1: quota -1 (or NULL/malformed text) is no limit. */
int shop_edge_cpus_from_cfs(const char *quota_us, const char *period_us);

/** The cgroup v2 path of a /proc/self/cgroup text (its "0::/path" line) into out, e.g.
 *  "/system.slice/shop.service"; false when there is none (a v1-only host). */
bool shop_edge_cpus_v2_path(const char *proc_self_cgroup, char *out, size_t cap);

/** The tighter of two limits where 0 means none (a quota walk keeps the minimum). */
int shop_edge_cpus_min_limit(int a, int b);

/** The default thread count: affinity CPUs (at least 1) capped by a quota limit
 *  (0: none). */
int shop_edge_cpus_usable(int affinity, int quota_limit);

#endif
