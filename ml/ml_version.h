/* SPDX-License-Identifier: MIT
 * Version of the serialised model formats (see ml_codec.h). Pure. */
#ifndef SHOP_ML_VERSION_H
#define SHOP_ML_VERSION_H

#define SHOP_ML_FORMAT_VERSION 2u   /* 2: ALSM carries the weighted-lambda exponent */

unsigned shop_ml_format_version(void);

#endif
