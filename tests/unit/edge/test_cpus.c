/* SPDX-License-Identifier: MIT
 * shop_edge_cpus: cgroup v2 / v1 quota texts, the cgroup path, affinity capped by quota. */
#include <criterion/criterion.h>

#include "edge/core/edge_cpus.h"

Test(cpus, cgroup_v2_cpu_max)
{
    cr_assert_eq(shop_edge_cpus_from_cpu_max("max 100000\n"), 0, "no limit");
    cr_assert_eq(shop_edge_cpus_from_cpu_max("200000 100000\n"), 2);
    cr_assert_eq(shop_edge_cpus_from_cpu_max("150000 100000\n"), 2, "rounded up");
    cr_assert_eq(shop_edge_cpus_from_cpu_max("50000 100000"), 1, "at least one");
    cr_assert_eq(shop_edge_cpus_from_cpu_max("400000 100000\n"), 4);
    cr_assert_eq(shop_edge_cpus_from_cpu_max(NULL), 0, "no file");
    cr_assert_eq(shop_edge_cpus_from_cpu_max(""), 0);
    cr_assert_eq(shop_edge_cpus_from_cpu_max("200000"), 0, "no period: malformed");
    cr_assert_eq(shop_edge_cpus_from_cpu_max("200000 0"), 0);
    cr_assert_eq(shop_edge_cpus_from_cpu_max("2x 100000"), 0);
}

Test(cpus, cgroup_v1_cfs)
{
    cr_assert_eq(shop_edge_cpus_from_cfs("-1\n", "100000\n"), 0, "no limit");
    cr_assert_eq(shop_edge_cpus_from_cfs("300000\n", "100000\n"), 3);
    cr_assert_eq(shop_edge_cpus_from_cfs("250000\n", "100000\n"), 3);
    cr_assert_eq(shop_edge_cpus_from_cfs("10000\n", "100000\n"), 1);
    cr_assert_eq(shop_edge_cpus_from_cfs(NULL, "100000"), 0);
    cr_assert_eq(shop_edge_cpus_from_cfs("100000 7", "100000"), 0);
}

Test(cpus, v2_path_from_proc_self_cgroup)
{
    char path[256];
    cr_assert(shop_edge_cpus_v2_path("0::/system.slice/shop.service\n", path, sizeof(path)));
    cr_assert_str_eq(path, "/system.slice/shop.service");
    cr_assert(shop_edge_cpus_v2_path("12:cpu,cpuacct:/docker/abc\n0::/\n", path, sizeof(path)));
    cr_assert_str_eq(path, "/");
    cr_assert_not(shop_edge_cpus_v2_path("4:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n", path,
                                         sizeof(path)), "v1 only");
    cr_assert_not(shop_edge_cpus_v2_path("0::/a/very/long/path\n", path, 8), "does not fit");
}

Test(cpus, affinity_capped_by_quota)
{
    cr_assert_eq(shop_edge_cpus_usable(8, 0), 8, "no quota: the affinity");
    cr_assert_eq(shop_edge_cpus_usable(8, 2), 2, "quota below the affinity");
    cr_assert_eq(shop_edge_cpus_usable(2, 6), 2, "quota above the affinity");
    cr_assert_eq(shop_edge_cpus_usable(0, 0), 1, "never zero");
    cr_assert_eq(shop_edge_cpus_min_limit(0, 3), 3);
    cr_assert_eq(shop_edge_cpus_min_limit(4, 0), 4);
    cr_assert_eq(shop_edge_cpus_min_limit(4, 3), 3, "a parent's tighter quota wins");
    cr_assert_eq(shop_edge_cpus_min_limit(0, 0), 0);
}
