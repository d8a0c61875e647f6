/* SPDX-License-Identifier: MIT
 * What the worker does about a failed PostgreSQL statement, decided once, here, from
 * its SQLSTATE. Pure. Our statements are fixed texts with every value a parameter, so
 * a class says whether the data could be the cause:
 *   transient  the server or the connection: back off, retry the batch unchanged;
 *   race       40P01 deadlock, 40001 serialization failure: the server rolled back this
 *              transaction so another could go on; run it again at once, a few times,
 *              before treating it as transient;
 *   poison     the data (22 data exception, 23 integrity, ...): the same records fail
 *              again, so split the batch down to them and dead-letter them;
 *   fatal      the deployment (42 syntax/undefined object/privilege, 0A, 3F): no record
 *              is at fault and every one would fail; stop the worker (exit nonzero)
 *              rather than dead-letter the whole stream.
 * The table is in docs/projections.md ("Errors").
 */
#ifndef SHOP_PGERR_H
#define SHOP_PGERR_H

enum shop_pgerr_kind {
    SHOP_PGERR_TRANSIENT = 0,
    SHOP_PGERR_POISON,
    SHOP_PGERR_FATAL,
    SHOP_PGERR_RACE
};

/** Kind of a failure with SQLSTATE sqlstate (5 characters). NULL or "" (libpq found no
 *  server error: connection lost, protocol out of step) and unknown classes are
 *  transient: a stalled partition that logs is better than data dead-lettered on a guess. */
enum shop_pgerr_kind shop_pgerr_classify(const char *sqlstate);

/** "transient", "poison", "fatal" or "race". */
const char *shop_pgerr_kind_name(enum shop_pgerr_kind kind);

#endif
