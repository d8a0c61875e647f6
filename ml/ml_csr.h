/* SPDX-License-Identifier: MIT
 * Compressed sparse rows for interaction matrices (users x items). Pure.
 * Invariant: within a row, columns are strictly increasing (duplicates summed).
 */
#ifndef SHOP_ML_CSR_H
#define SHOP_ML_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"

struct shop_ml_triplet {
    uint32_t row;
    uint32_t col;
    double val;
};

struct shop_ml_csr {
    uint32_t n_rows;
    uint32_t n_cols;
    size_t nnz;
    size_t *row_ptr;  /* n_rows + 1 offsets into col/val */
    uint32_t *col;
    double *val;
};

/** Builds m from n triplets; duplicates of one (row, col) are summed. m owns its arrays
 *  until shop_ml_csr_fini(). Returns 0 or SHOP_EINVAL for an index out of range. */
int shop_ml_csr_build(struct shop_ml_csr *m, uint32_t n_rows, uint32_t n_cols,
                      const struct shop_ml_triplet *t, size_t n, struct shop_err *err);

/** Fills out with the transpose of m (items x users from users x items). */
void shop_ml_csr_transpose(const struct shop_ml_csr *m, struct shop_ml_csr *out);

void shop_ml_csr_fini(struct shop_ml_csr *m);

#endif
