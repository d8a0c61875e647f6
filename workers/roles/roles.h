/* SPDX-License-Identifier: MIT
 * The roles' shells, one file each in workers/roles/; main.c picks one by the role
 * table's enum (workers/core/roles.h). Shell.
 */
#ifndef SHOP_WORKER_ROLES_SHELL_H
#define SHOP_WORKER_ROLES_SHELL_H

#include "workers/worker.h"

/* workers/roles/projector.c */
extern const struct worker_role worker_projector_role;
/* workers/roles/inventory.c */
extern const struct worker_role worker_inventory_role;
/* workers/roles/ml.c */
extern const struct worker_role worker_ml_role;
/* workers/roles/notify.c */
extern const struct worker_role worker_notify_role;
/** The notify role's Prometheus lines (workers/core/notify.h's render) for the worker's
 *  /metrics; 0 for any other role. Returns the length needed, like snprintf. */
size_t worker_notify_metrics(const struct worker *w, char *buf, size_t n);

#endif
