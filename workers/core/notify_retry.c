/* SPDX-License-Identifier: MIT
 * What an attempt's answer means, and when the next attempt goes. Pure: the random
 * draw comes from the caller.
 */
#include "workers/core/notify.h"

enum shop_notify_outcome shop_notify_judge(long http_status, int64_t attempts, int64_t max_attempts)
{
    if (http_status >= 200 && http_status < 300)
        return SHOP_NOTIFY_DELIVERED;
    return attempts >= max_attempts ? SHOP_NOTIFY_PARK : SHOP_NOTIFY_RETRY;
}

int64_t shop_notify_retry_delay(struct shop_backoff *b, uint32_t rnd)
{
    return shop_backoff_next_full(b, rnd);
}
