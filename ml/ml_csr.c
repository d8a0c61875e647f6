/* SPDX-License-Identifier: MIT
 * CSR construction by two stable counting sorts (column, then row), which leaves each
 * row's columns sorted without a comparison sort. Pure.
 */
#include "ml/ml_csr.h"

#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

static void csr_alloc(struct shop_ml_csr *m, uint32_t n_rows, uint32_t n_cols, size_t nnz)
{
    m->n_rows = n_rows;
    m->n_cols = n_cols;
    m->nnz = nnz;
    m->row_ptr = shop_xcalloc((size_t)n_rows + 1, sizeof(*m->row_ptr));
    m->col = shop_xmalloc((nnz ? nnz : 1) * sizeof(*m->col));
    m->val = shop_xmalloc((nnz ? nnz : 1) * sizeof(*m->val));
}

int shop_ml_csr_build(struct shop_ml_csr *m, uint32_t n_rows, uint32_t n_cols,
                      const struct shop_ml_triplet *t, size_t n, struct shop_err *err)
{
    for (size_t k = 0; k < n; k++)
        if (t[k].row >= n_rows || t[k].col >= n_cols)
            return shop_err_set(err, SHOP_EINVAL, "triplet %zu out of range: (%u, %u) in %ux%u",
                                k, t[k].row, t[k].col, n_rows, n_cols);
    /* Column-major staging first, then a stable pass by row sorts columns within rows. */
    struct shop_ml_csr by_col;
    csr_alloc(&by_col, n_cols, n_rows, n);
    for (size_t k = 0; k < n; k++)
        by_col.row_ptr[t[k].col + 1]++;
    for (uint32_t c = 0; c < n_cols; c++)
        by_col.row_ptr[c + 1] += by_col.row_ptr[c];
    size_t *fill = shop_xmalloc(((size_t)(n_rows > n_cols ? n_rows : n_cols) + 1) * sizeof(*fill));
    memcpy(fill, by_col.row_ptr, ((size_t)n_cols + 1) * sizeof(*fill));
    for (size_t k = 0; k < n; k++) {
        size_t at = fill[t[k].col]++;
        by_col.col[at] = t[k].row;
        by_col.val[at] = t[k].val;
    }
    struct shop_ml_csr full;
    shop_ml_csr_transpose(&by_col, &full);
    shop_ml_csr_fini(&by_col);
    free(fill);

    /* Sum duplicates in place; they are adjacent now. */
    csr_alloc(m, n_rows, n_cols, 0);
    size_t out = 0;
    for (uint32_t r = 0; r < n_rows; r++) {
        size_t row_start = out;
        for (size_t k = full.row_ptr[r]; k < full.row_ptr[r + 1]; k++) {
            if (out > row_start && full.col[out - 1] == full.col[k]) {
                full.val[out - 1] += full.val[k];
            } else {
                full.col[out] = full.col[k];
                full.val[out] = full.val[k];
                out++;
            }
        }
        m->row_ptr[r + 1] = out;
    }
    free(m->col);
    free(m->val);
    m->nnz = out;
    m->col = full.col;
    m->val = full.val;
    free(full.row_ptr);
    return 0;
}

void shop_ml_csr_transpose(const struct shop_ml_csr *m, struct shop_ml_csr *out)
{
    csr_alloc(out, m->n_cols, m->n_rows, m->nnz);
    for (size_t k = 0; k < m->nnz; k++)
        out->row_ptr[m->col[k] + 1]++;
    for (uint32_t c = 0; c < m->n_cols; c++)
        out->row_ptr[c + 1] += out->row_ptr[c];
    size_t *fill = shop_xmalloc(((size_t)m->n_cols + 1) * sizeof(*fill));
    memcpy(fill, out->row_ptr, ((size_t)m->n_cols + 1) * sizeof(*fill));
    for (uint32_t r = 0; r < m->n_rows; r++) {
        for (size_t k = m->row_ptr[r]; k < m->row_ptr[r + 1]; k++) {
            size_t at = fill[m->col[k]]++;
            out->col[at] = r;
            out->val[at] = m->val[k];
        }
    }
    free(fill);
}

void shop_ml_csr_fini(struct shop_ml_csr *m)
{
    free(m->row_ptr);
    free(m->col);
    free(m->val);
    memset(m, 0, sizeof(*m));
}
