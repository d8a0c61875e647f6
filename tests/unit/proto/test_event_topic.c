/* SPDX-License-Identifier: MIT
 * The stream list and topic names (proto/core/event_topic.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proto/core/event_topic.h"

Test(event_topic, every_stream_has_a_name_and_a_topic)
{
    char buf[SHOP_TOPIC_NAME_MAX];
    for (int s = 0; s < SHOP_STREAM_COUNT; s++) {
        const char *name = shop_stream_name((enum shop_stream)s);
        cr_assert_not_null(name, "stream %d has no name", s);
        char want[SHOP_TOPIC_NAME_MAX];
        snprintf(want, sizeof(want), "p.%s.v1", name);
        cr_assert_eq(shop_topic_name(buf, sizeof(buf), "p.", (enum shop_stream)s), (int)strlen(want));
        cr_assert_str_eq(buf, want);
    }
    cr_assert_null(shop_stream_name(SHOP_STREAM_COUNT));
    cr_assert_eq(shop_topic_name(buf, sizeof(buf), "p.", SHOP_STREAM_COUNT), -1);
    cr_assert_str_eq(buf, "");
}

Test(event_topic, names_and_dlq)
{
    char buf[SHOP_TOPIC_NAME_MAX];
    cr_assert_eq(shop_topic_name(buf, sizeof(buf), "shopstream.", SHOP_STREAM_ORDER), 19);
    cr_assert_str_eq(buf, "shopstream.order.v1");
    cr_assert_eq(shop_topic_dlq_name(buf, sizeof(buf), "it7."), 10);
    cr_assert_str_eq(buf, "it7.dlq.v1");
    cr_assert_eq(shop_topic_name(buf, sizeof(buf), "", SHOP_STREAM_BROWSE), 9);
    cr_assert_str_eq(buf, "browse.v1");
}

Test(event_topic, a_name_that_does_not_fit_is_refused_not_cut)
{
    char small[12];
    cr_assert_eq(shop_topic_name(small, sizeof(small), "shopstream.", SHOP_STREAM_CART), -1);
    cr_assert_str_eq(small, "");
    cr_assert_eq(shop_topic_dlq_name(small, sizeof(small), "abcdefgh"), -1);
}

Test(event_topic, prefix_alphabet_and_length)
{
    char longest[SHOP_TOPIC_PREFIX_MAX + 2];
    memset(longest, 'a', sizeof(longest));
    longest[SHOP_TOPIC_PREFIX_MAX] = '\0';
    cr_assert(shop_topic_prefix_ok(longest));
    cr_assert(shop_topic_prefix_ok(""));
    cr_assert(shop_topic_prefix_ok("A-z_0.9"));
    longest[SHOP_TOPIC_PREFIX_MAX] = 'a';
    longest[SHOP_TOPIC_PREFIX_MAX + 1] = '\0';
    cr_assert_not(shop_topic_prefix_ok(longest));
    cr_assert_not(shop_topic_prefix_ok("bad prefix/"));
    /* The longest prefix still names every topic. */
    char buf[SHOP_TOPIC_NAME_MAX];
    longest[SHOP_TOPIC_PREFIX_MAX] = '\0';
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        cr_assert_gt(shop_topic_name(buf, sizeof(buf), longest, (enum shop_stream)s), 0);
    cr_assert_gt(shop_topic_dlq_name(buf, sizeof(buf), longest), 0);
}
