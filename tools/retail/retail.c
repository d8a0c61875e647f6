/* SPDX-License-Identifier: MIT
 * Online Retail CSV (RFC 4180, only Description is quoted) → struct retail_row.
 * Money is converted from decimal text to integer pence without floating point. */
#include "tools/retail/retail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/shop_arena.h"

enum { COL_INVOICE, COL_STOCK, COL_DESC, COL_QTY, COL_DATE, COL_PRICE, COL_CUSTOMER, COL_COUNTRY, NCOLS };

struct field {
    const char *p;
    size_t n;
    bool quoted;
};

/* Splits a line into NCOLS fields; quoted fields keep their "" escapes (unescaped on copy). */
static int split_line(const char *line, size_t len, struct field f[NCOLS])
{
    size_t i = 0;
    for (int c = 0; c < NCOLS; c++) {
        if (i > len)
            return SHOP_EINVAL;
        f[c].quoted = i < len && line[i] == '"';
        if (f[c].quoted) {
            size_t start = ++i;
            while (i < len && !(line[i] == '"' && (i + 1 >= len || line[i + 1] != '"')))
                i += line[i] == '"' ? 2 : 1;
            if (i >= len)
                return SHOP_EINVAL;
            f[c].p = line + start;
            f[c].n = i - start;
            i++; /* closing quote */
        } else {
            f[c].p = line + i;
            while (i < len && line[i] != ',')
                i++;
            f[c].n = (size_t)(line + i - f[c].p);
        }
        if (c < NCOLS - 1) {
            if (i >= len || line[i] != ',')
                return SHOP_EINVAL;
            i++;
        }
    }
    return 0;
}

static void copy_field(char *dst, size_t size, const struct field *f)
{
    size_t o = 0;
    for (size_t i = 0; i < f->n && o + 1 < size; i++) {
        if (f->quoted && f->p[i] == '"')
            i++; /* "" → " */
        dst[o++] = f->p[i];
    }
    dst[o] = '\0';
}

static int parse_int(const struct field *f, int64_t *out)
{
    char buf[24];
    if (f->n == 0 || f->n >= sizeof(buf))
        return SHOP_EINVAL;
    memcpy(buf, f->p, f->n);
    buf[f->n] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end != '\0')
        return SHOP_EINVAL;
    *out = v;
    return 0;
}

/* "2.55" → 255, "0.001" → 0, "-11062.06" → -1106206: rounds half up at the third decimal. */
static int parse_pence(const struct field *f, int64_t *out)
{
    int64_t whole = 0, frac_milli = 0;
    int digits = 0, sign = 1;
    size_t i = 0;
    if (f->n > 0 && f->p[0] == '-') {
        sign = -1;
        i++;
    }
    if (i >= f->n)
        return SHOP_EINVAL;
    for (; i < f->n && f->p[i] != '.'; i++) {
        if (f->p[i] < '0' || f->p[i] > '9')
            return SHOP_EINVAL;
        whole = whole * 10 + (f->p[i] - '0');
    }
    if (i < f->n)
        i++; /* '.' */
    for (; i < f->n; i++, digits++) {
        if (f->p[i] < '0' || f->p[i] > '9')
            return SHOP_EINVAL;
        if (digits < 3)
            frac_milli = frac_milli * 10 + (f->p[i] - '0');
    }
    for (; digits < 3; digits++)
        frac_milli *= 10;
    *out = sign * (whole * 100 + (frac_milli + 5) / 10);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_time(const struct field *f, int64_t *out_ms)
{
    int y, mo, d, h, mi, s;
    char buf[24];
    if (f->n >= sizeof(buf))
        return SHOP_EINVAL;
    memcpy(buf, f->p, f->n);
    buf[f->n] = '\0';
    if (sscanf(buf, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
        return SHOP_EINVAL;
    *out_ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL;
    return 0;
}

int retail_parse_line(const char *line, size_t len, struct retail_row *out)
{
    struct field f[NCOLS];
    int64_t qty, cust = 0;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (split_line(line, len, f) != 0 || f[COL_INVOICE].n == 0 || f[COL_STOCK].n == 0)
        return SHOP_EINVAL;
    memset(out, 0, sizeof(*out));
    if (parse_int(&f[COL_QTY], &qty) != 0 || qty < INT32_MIN || qty > INT32_MAX)
        return SHOP_EINVAL;
    if (parse_time(&f[COL_DATE], &out->invoice_ms) != 0 || parse_pence(&f[COL_PRICE], &out->unit_price_minor) != 0)
        return SHOP_EINVAL;
    if (f[COL_CUSTOMER].n > 0 && (parse_int(&f[COL_CUSTOMER], &cust) != 0 || cust <= 0 || cust > INT32_MAX))
        return SHOP_EINVAL;
    copy_field(out->invoice, sizeof(out->invoice), &f[COL_INVOICE]);
    copy_field(out->stock_code, sizeof(out->stock_code), &f[COL_STOCK]);
    copy_field(out->description, sizeof(out->description), &f[COL_DESC]);
    copy_field(out->country, sizeof(out->country), &f[COL_COUNTRY]);
    out->quantity = (int32_t)qty;
    out->customer_id = (int32_t)cust;
    out->cancelled = out->invoice[0] == 'C';
    return 0;
}

bool retail_row_is_purchase(const struct retail_row *r)
{
    return r->customer_id > 0 && !r->cancelled && r->quantity > 0 && r->unit_price_minor > 0;
}

bool retail_row_is_product(const struct retail_row *r)
{
    for (int i = 0; i < 5; i++)
        if (r->stock_code[i] < '0' || r->stock_code[i] > '9')
            return false;
    return true;
}

void retail_path(const char *data_dir, char *buf, size_t size)
{
    snprintf(buf, size, "%s/online-retail/online_retail.csv.gz", data_dir);
}

int retail_load(const char *path, struct retail_row **rows, size_t *n_rows, size_t *n_skipped,
                struct shop_err *err)
{
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL)
        return shop_err_set(err, SHOP_EIO, "could not open %s", path);
    gzbuffer(gz, 1 << 17);
    size_t cap = 1 << 16, n = 0, skipped = 0;
    struct retail_row *v = shop_xmalloc(cap * sizeof(*v));
    char line[4096];
    bool header = true;
    while (gzgets(gz, line, sizeof(line)) != NULL) {
        if (header) {
            header = false;
            continue;
        }
        if (n == cap)
            v = shop_xrealloc(v, (cap *= 2) * sizeof(*v));
        if (retail_parse_line(line, strlen(line), &v[n]) == 0)
            n++;
        else
            skipped++;
    }
    int zerr;
    const char *zmsg = gzerror(gz, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        int rc = shop_err_set(err, SHOP_EIO, "could not read %s: %s", path, zmsg);
        gzclose(gz);
        free(v);
        return rc;
    }
    gzclose(gz);
    *rows = v;
    *n_rows = n;
    if (n_skipped != NULL)
        *n_skipped = skipped;
    return 0;
}

int retail_load_dir(const char *data_dir, struct retail_row **rows, size_t *n_rows, size_t *n_skipped,
                    struct shop_err *err)
{
    char path[1024];
    retail_path(data_dir, path, sizeof(path));
    return retail_load(path, rows, n_rows, n_skipped, err);
}
