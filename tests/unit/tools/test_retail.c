#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/retail/retail.h"

static int parse(const char *s, struct retail_row *r)
{
    return retail_parse_line(s, strlen(s), r);
}

Test(retail, parses_a_plain_row)
{
    struct retail_row r;
    cr_assert_eq(parse("536365,85123A,\"WHITE HANGING HEART T-LIGHT HOLDER\",6,2010-12-01 08:26:00,2.55,17850,United Kingdom\n", &r), 0);
    cr_assert_str_eq(r.invoice, "536365");
    cr_assert_str_eq(r.stock_code, "85123A");
    cr_assert_str_eq(r.description, "WHITE HANGING HEART T-LIGHT HOLDER");
    cr_assert_eq(r.quantity, 6);
    cr_assert_eq(r.unit_price_minor, 255);
    cr_assert_eq(r.customer_id, 17850);
    cr_assert_str_eq(r.country, "United Kingdom");
    cr_assert_eq(r.invoice_ms, 1291191960000LL); /* 2010-12-01T08:26:00Z */
    cr_assert(!r.cancelled);
    cr_assert(retail_row_is_purchase(&r));
}

Test(retail, handles_quotes_commas_cancellations_and_guests)
{
    struct retail_row r;
    cr_assert_eq(parse("C536379,D,\"A \"\"QUOTED\"\", NAME\",-1,2011-12-09 12:50:00,27.5,,France", &r), 0);
    cr_assert_str_eq(r.description, "A \"QUOTED\", NAME");
    cr_assert(r.cancelled);
    cr_assert_eq(r.quantity, -1);
    cr_assert_eq(r.unit_price_minor, 2750);
    cr_assert_eq(r.customer_id, 0);
    cr_assert(!retail_row_is_purchase(&r));
    cr_assert_eq(parse("1,X,,1,2011-01-01 00:00:00,0.001,12345,UK", &r), 0);
    cr_assert_eq(r.unit_price_minor, 0);
    cr_assert_eq(parse("1,X,,1,2011-01-01 00:00:00,-11062.06,12345,UK", &r), 0);
    cr_assert_eq(r.unit_price_minor, -1106206);
}

Test(retail, tells_merchandise_from_postage_and_fees)
{
    struct retail_row r;
    cr_assert_eq(parse("1,85123A,,1,2011-01-01 00:00:00,1,1,UK", &r), 0);
    cr_assert(retail_row_is_product(&r));
    cr_assert_eq(parse("1,POST,,1,2011-01-01 00:00:00,1,1,UK", &r), 0);
    cr_assert(!retail_row_is_product(&r));
    cr_assert_eq(parse("1,BANK CHARGES,,1,2011-01-01 00:00:00,1,1,UK", &r), 0);
    cr_assert(!retail_row_is_product(&r));
    cr_assert_eq(parse("1,1234,,1,2011-01-01 00:00:00,1,1,UK", &r), 0);
    cr_assert(!retail_row_is_product(&r));
}

Test(retail, rejects_malformed_lines)
{
    struct retail_row r;
    cr_assert_eq(parse("", &r), SHOP_EINVAL);
    cr_assert_eq(parse("1,X,\"unterminated,1,2011-01-01 00:00:00,1,1,UK", &r), SHOP_EINVAL);
    cr_assert_eq(parse("1,X,,one,2011-01-01 00:00:00,1,1,UK", &r), SHOP_EINVAL);
    cr_assert_eq(parse("1,X,,1,2011-01-01,1,1,UK", &r), SHOP_EINVAL);
    cr_assert_eq(parse("1,X,,1,2011-01-01 00:00:00,1.x,1,UK", &r), SHOP_EINVAL);
    cr_assert_eq(parse("1,X,,1,2011-01-01 00:00:00,1,1", &r), SHOP_EINVAL);
}

Test(retail, loads_the_shared_dataset_when_present)
{
    const char *dir = getenv("SHOPSTREAM_DATA_DIR");
    char path[512];
    retail_path(dir ? dir : "../shared/data", path, sizeof(path));
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        cr_skip_test("dataset not found at %s", path);
    fclose(f);
    struct retail_row *rows;
    size_t n, skipped;
    struct shop_err err = {0};
    cr_assert_eq(retail_load(path, &rows, &n, &skipped, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 541909);   /* the README's row count */
    cr_assert_eq(skipped, 0);
    size_t cancelled = 0, guests = 0;
    for (size_t i = 0; i < n; i++) {
        cancelled += rows[i].cancelled;
        guests += rows[i].customer_id == 0;
    }
    cr_assert_eq(cancelled, 9288);
    cr_assert_eq(guests, 135080);
    free(rows);
}
