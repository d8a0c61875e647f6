/* SPDX-License-Identifier: MIT
 * The processes a bench measures: their CPU time, and starting them. Shell (Linux /proc).
 */
#ifndef SHOP_BENCH_PROC_H
#define SHOP_BENCH_PROC_H

#include <sys/types.h>

/** User + system CPU seconds of every thread of process pid (clock-tick resolution),
 *  from /proc/PID/stat; -1 when it cannot be read. */
double bench_proc_cpu_s(long pid);

/** Starts argv[0] with argv and env, its stdout and stderr appended to log_path. The
 *  child's pid; -1 when fork failed. A child that cannot exec says why and exits 127. */
pid_t bench_spawn(const char *log_path, char *const *argv, char **env);

#endif
