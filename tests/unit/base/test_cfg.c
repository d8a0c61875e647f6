#include <criterion/criterion.h>
#include <string.h>

#include "base/shop_cfg.h"
#include "base/shop_err.h"

Test(cfg, reads_values_defaults_and_collects_every_error)
{
    static const char *const env[] = {"A_INT", "42", "B_INT", "9x", "C_BOOL", "yes", "D_BOOL", "maybe",
                                      "E_INT", "100", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_cfg_int(shop_cfg_table_get, "A_INT", 1, 0, 100, &errs), 42);
    cr_assert_eq(shop_cfg_int(shop_cfg_table_get, "B_INT", 5, 0, 100, &errs), 5);
    cr_assert_eq(shop_cfg_int(shop_cfg_table_get, "E_INT", 5, 0, 99, &errs), 5);
    cr_assert_eq(shop_cfg_int(shop_cfg_table_get, "UNSET", 7, 0, 100, &errs), 7);
    cr_assert(shop_cfg_bool(shop_cfg_table_get, "C_BOOL", false, &errs));
    cr_assert(shop_cfg_bool(shop_cfg_table_get, "D_BOOL", true, &errs));
    cr_assert_str_eq(shop_cfg_str(shop_cfg_table_get, "UNSET", "dflt"), "dflt");
    cr_assert_eq(errs.count, 3);
    cr_assert(strstr(errs.msg[0], "B_INT") != NULL);
    cr_assert(strstr(errs.msg[1], "E_INT") != NULL);
    cr_assert(strstr(errs.msg[2], "D_BOOL") != NULL);
}

Test(err, set_returns_code_and_formats)
{
    struct shop_err err = {0};
    cr_assert_eq(shop_err_set(&err, SHOP_EBADMSG, "bad %d", 3), SHOP_EBADMSG);
    cr_assert_str_eq(err.msg, "bad 3");
    cr_assert_eq(shop_err_set(NULL, SHOP_EPG, "x"), SHOP_EPG);
    cr_assert(shop_rc_is_retriable(SHOP_EKAFKA));
    cr_assert(!shop_rc_is_retriable(SHOP_EBADMSG));
    cr_assert_str_eq(shop_rc_name(SHOP_EAUTH), "EAUTH");
}

Test(cfg, doubles_in_range_or_an_error_naming_the_variable)
{
    static const char *const env[] = {"A", "0.25", "B", "1e400", "C", "nan", "D", "2", "E", "0.5x", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    double a = shop_cfg_double(shop_cfg_table_get, "A", 1, 0, 1, &errs);
    double b = shop_cfg_double(shop_cfg_table_get, "B", 1, 0, 1e6, &errs);   /* overflow */
    double c = shop_cfg_double(shop_cfg_table_get, "C", 1, 0, 1e6, &errs);   /* not a number */
    double d = shop_cfg_double(shop_cfg_table_get, "D", 1, 0, 1, &errs);     /* above max */
    double e = shop_cfg_double(shop_cfg_table_get, "E", 1, 0, 1, &errs);     /* trailing junk */
    double u = shop_cfg_double(shop_cfg_table_get, "UNSET", 0.5, 0, 1, &errs);
    const double got[] = {a, b, c, d, e, u}, want[] = {0.25, 1, 1, 1, 1, 0.5};
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(got[i], want[i], 1e-12, "value %d", i);
    cr_assert_eq(errs.count, 4);
    cr_assert(strstr(errs.msg[0], "B ") != NULL && strstr(errs.msg[3], "E ") != NULL);
}
