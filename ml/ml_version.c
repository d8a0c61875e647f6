/* SPDX-License-Identifier: MIT
 * Version of the ml/ library's serialised model formats. Pure. */
#include "ml/ml_version.h"

unsigned shop_ml_format_version(void)
{
    return SHOP_ML_FORMAT_VERSION;
}
