/* SPDX-License-Identifier: MIT
 * The projector benchmark's reference: the same events as flat rows (event id,
 * type, user, product, quantity, amount, currency, occurred_at, topic,
 * partition, offset) loaded with one COPY. Shell.
 */
#ifndef SHOP_BENCH_COPY_ROWS_H
#define SHOP_BENCH_COPY_ROWS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "base/shop_err.h"
#include "bench/ingest/bench_produce.h"

/** DDL of the target table bench_copy_events (primary key on the event id, as
 *  applied_events has). */
extern const char bench_copy_table_sql[];

/** COPY text-format rows of every record of m (partition and offset as delivered);
 *  malloc'd, *len bytes, not NUL-terminated. */
char *bench_copy_rows_build(const struct bench_msgs *m, const char *topic_prefix, size_t *len);

/** One COPY bench_copy_events FROM STDIN of rows through PQputCopyData. 0 or SHOP_EPG. */
int bench_copy_rows_run(PGconn *conn, const char *rows, size_t len, struct shop_err *err);

#endif
