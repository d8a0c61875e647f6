/* SPDX-License-Identifier: MIT
 * Loader for the UCI Online Retail dataset (../shared/data/online-retail/
 * online_retail.csv.gz), shared by the demo replay, benchmarks and ml-eval.
 * retail_parse_line() is pure; retail_load() reads the gzip file (zlib).
 */
#ifndef SHOP_RETAIL_H
#define SHOP_RETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"

struct retail_row {
    char invoice[12];        /* "536365"; a leading 'C' marks a cancellation */
    char stock_code[16];     /* product id, e.g. "85123A" */
    char description[64];    /* truncated to fit; may be empty */
    char country[24];        /* truncated to fit */
    int32_t quantity;        /* negative for returns/adjustments */
    int32_t customer_id;     /* 0 when the source has none (guest) */
    int64_t invoice_ms;      /* UTC epoch ms */
    int64_t unit_price_minor;/* pence, rounded half up from the source's decimal text */
    bool cancelled;
};

/** Parses one data line (no trailing newline needed). Returns 0 or SHOP_EINVAL. Pure. */
int retail_parse_line(const char *line, size_t len, struct retail_row *out);

/** Reads every data row of the gzip CSV at path into a malloc'd array that the caller
 *  frees with free(). Rows that do not parse are counted in *n_skipped (may be NULL).
 *  Returns 0, or SHOP_EIO with err set when the file cannot be read. */
int retail_load(const char *path, struct retail_row **rows, size_t *n_rows, size_t *n_skipped,
                struct shop_err *err);

/** retail_load() of the dataset under data_dir (see retail_path()). */
int retail_load_dir(const char *data_dir, struct retail_row **rows, size_t *n_rows, size_t *n_skipped,
                    struct shop_err *err);

/** Path of the dataset under a data dir ("../shared/data" → ".../online-retail/online_retail.csv.gz"),
 *  written into buf. */
void retail_path(const char *data_dir, char *buf, size_t size);

/** "Clean purchase" filter used for RFM, recommendations and forecasting: a customer,
 *  not a cancellation, positive quantity and price. */
bool retail_row_is_purchase(const struct retail_row *r);

/** True for merchandise: stock codes start with five digits. Postage, fees and manual
 *  adjustments ("POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", ...) do not. */
bool retail_row_is_product(const struct retail_row *r);

#endif
