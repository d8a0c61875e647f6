#include <criterion/criterion.h>

#include "ml/ml_version.h"

Test(version, format_version_matches_header)
{
    cr_assert_eq(shop_ml_format_version(), SHOP_ML_FORMAT_VERSION);
    cr_assert_geq(shop_ml_format_version(), 1u);
}
