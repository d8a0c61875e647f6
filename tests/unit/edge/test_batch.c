/* SPDX-License-Identifier: MIT
 * Batch completion from delivery reports: 202 only when every event was queued and
 * acknowledged, exactly one verdict per batch. */
#include <criterion/criterion.h>

#include "edge/core/edge_batch.h"

#define ERR_TIMED_OUT (-192)   /* any non-zero report error */
#define ERR_QUEUE_FULL (-184)

Test(batch, accepted_after_the_last_successful_report)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 3);
    cr_assert_eq(shop_edge_batch_queued(&b, 3, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT);
    cr_assert_not(shop_edge_batch_done(&b));
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_ACCEPTED);
    cr_assert(shop_edge_batch_done(&b));
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_ACCEPTED), 202);
}

Test(batch, one_failed_report_makes_it_unavailable)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 3);
    shop_edge_batch_queued(&b, 3, 0);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, ERR_TIMED_OUT), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_UNAVAILABLE);
    cr_assert_eq(b.failed, 1);
    cr_assert_eq(b.first_err, ERR_TIMED_OUT);
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_UNAVAILABLE), 503);
}

Test(batch, a_produce_error_answers_at_once_and_never_202)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 3);
    cr_assert_eq(shop_edge_batch_queued(&b, 2, ERR_QUEUE_FULL), SHOP_BATCH_UNAVAILABLE);
    cr_assert_not(shop_edge_batch_done(&b), "the two queued ones still report");
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT, "answered once already");
    cr_assert(shop_edge_batch_done(&b));
    cr_assert_eq(b.first_err, ERR_QUEUE_FULL);
}

Test(batch, nothing_queued_is_done_at_once)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 1);
    cr_assert_eq(shop_edge_batch_queued(&b, 0, ERR_QUEUE_FULL), SHOP_BATCH_UNAVAILABLE);
    cr_assert(shop_edge_batch_done(&b));
}

Test(batch, timeout_answers_503_and_late_success_stays_silent)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 1);
    shop_edge_batch_queued(&b, 1, 0);
    cr_assert_eq(shop_edge_batch_timeout(&b), SHOP_BATCH_UNAVAILABLE);
    cr_assert_eq(shop_edge_batch_timeout(&b), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT, "never 202 after a 503");
    cr_assert(shop_edge_batch_done(&b));
}

Test(batch, a_stray_report_is_never_a_verdict)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 1);
    shop_edge_batch_queued(&b, 1, 0);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_ACCEPTED);
    cr_assert_eq(shop_edge_batch_report(&b, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_WAIT), 0);
}
