/* SPDX-License-Identifier: MIT
 * Error codes and the optional error-detail out-parameter shared by every
 * module. Pure. Functions return 0 or a negative enum shop_rc; detail text goes
 * into a caller's struct shop_err (librdkafka's errstr, PostgreSQL's ereturn).
 */
#ifndef SHOP_ERR_H
#define SHOP_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum shop_rc {
    SHOP_OK = 0,
    SHOP_EINVAL = -1,    /* invalid input: permanent */
    SHOP_EBADMSG = -2,   /* undecodable message: permanent, dead-letter it */
    SHOP_ECONFIG = -3,   /* bad configuration: fatal, exit 2 */
    SHOP_ENOMEM = -4,    /* a bounded buffer is full */
    SHOP_EKAFKA = -5,    /* broker unreachable or refusing: transient */
    SHOP_EPG = -6,       /* database unreachable or failing: transient */
    SHOP_EAUTH = -7,     /* missing or invalid credentials */
    SHOP_EFORBIDDEN = -8,/* valid credentials, not allowed */
    SHOP_ENOTFOUND = -9,
    SHOP_EBUSY = -10,    /* overloaded: retry later */
    SHOP_EIO = -11,      /* file or socket error */
    SHOP_MORE = 1        /* not an error: work remains (e.g. queue not drained) */
};

#define SHOP_ERR_MSG_MAX 256

struct shop_err {
    int code;
    char msg[SHOP_ERR_MSG_MAX];
};

/** Records code and a formatted message in err (if err is not NULL) and
 *  returns code, so a failure is one line: return shop_err_set(err, ...). */
int shop_err_set(struct shop_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Static name of a code, e.g. "EBADMSG". */
const char *shop_rc_name(int code);

/** True for failures worth retrying with backoff (broker, database, overload). */
bool shop_rc_is_retriable(int code);

#endif
