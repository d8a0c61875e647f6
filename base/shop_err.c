/* SPDX-License-Identifier: MIT
 * Error codes and detail text. Pure. */
#include "base/shop_err.h"

#include <stdarg.h>
#include <stdio.h>

int shop_err_set(struct shop_err *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *shop_rc_name(int code)
{
    switch (code) {
    case SHOP_OK: return "OK";
    case SHOP_EINVAL: return "EINVAL";
    case SHOP_EBADMSG: return "EBADMSG";
    case SHOP_ECONFIG: return "ECONFIG";
    case SHOP_ENOMEM: return "ENOMEM";
    case SHOP_EKAFKA: return "EKAFKA";
    case SHOP_EPG: return "EPG";
    case SHOP_EAUTH: return "EAUTH";
    case SHOP_EFORBIDDEN: return "EFORBIDDEN";
    case SHOP_ENOTFOUND: return "ENOTFOUND";
    case SHOP_EBUSY: return "EBUSY";
    case SHOP_EIO: return "EIO";
    case SHOP_MORE: return "MORE";
    default: return "UNKNOWN";
    }
}

bool shop_rc_is_retriable(int code)
{
    return code == SHOP_EKAFKA || code == SHOP_EPG || code == SHOP_EBUSY;
}
