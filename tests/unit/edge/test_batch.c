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
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_not(shop_edge_batch_done(&b));
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_ACCEPTED);
    cr_assert(shop_edge_batch_done(&b));
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_ACCEPTED), 202);
}

Test(batch, one_failed_report_makes_it_unavailable)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 3);
    shop_edge_batch_queued(&b, 3, 0);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0, ERR_TIMED_OUT), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_UNAVAILABLE);
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
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT, "answered once already");
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
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT, "never 202 after a 503");
    cr_assert(shop_edge_batch_done(&b));
}

Test(batch, a_stray_report_is_never_a_verdict)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 1);
    shop_edge_batch_queued(&b, 1, 0);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_ACCEPTED);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_WAIT), 0);
}

Test(batch, broker_size_refusal_is_413_naming_the_lowest_index)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 4);
    shop_edge_batch_queued(&b, 4, 0);
    cr_assert_eq(shop_edge_batch_report(&b, 3, SHOP_KAFKA_ERR_MESSAGE_TOO_LARGE), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 2, SHOP_KAFKA_ERR_RECORD_LIST_TOO_LARGE), SHOP_BATCH_WAIT);
    cr_assert_eq(shop_edge_batch_report(&b, 1, ERR_TIMED_OUT), SHOP_BATCH_TOO_LARGE,
                 "not a retriable 503: the same batch would be refused again");
    cr_assert_eq(b.too_large_index, 2);
    cr_assert_eq(shop_edge_batch_status(SHOP_BATCH_TOO_LARGE), 413);
}

Test(batch, producer_size_refusal_is_413_at_once)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 3);
    cr_assert_eq(shop_edge_batch_queued(&b, 1, SHOP_KAFKA_ERR_MESSAGE_TOO_LARGE), SHOP_BATCH_TOO_LARGE);
    cr_assert_eq(b.too_large_index, 1, "the event the produce call refused");
    cr_assert_eq(shop_edge_batch_report(&b, 0, 0), SHOP_BATCH_WAIT, "answered once already");
    cr_assert(shop_edge_batch_done(&b));
}

Test(batch, other_failures_stay_503)
{
    struct shop_edge_batch b;
    shop_edge_batch_init(&b, 2);
    shop_edge_batch_queued(&b, 2, 0);
    shop_edge_batch_report(&b, 0, ERR_TIMED_OUT);
    cr_assert_eq(shop_edge_batch_report(&b, 1, 0), SHOP_BATCH_UNAVAILABLE);
    cr_assert_eq(b.too_large_index, 2, "none");
    cr_assert_not(shop_edge_batch_err_too_large(ERR_TIMED_OUT));
}
