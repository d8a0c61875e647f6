/* SPDX-License-Identifier: MIT
 * Broker reachability state machine and the statistics reader. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_broker.h"

#define PROBE_US 1000000

static struct shop_edge_broker down_at(int64_t now_us)
{
    struct shop_edge_broker b;
    shop_edge_broker_init(&b, PROBE_US);
    cr_assert(shop_edge_broker_all_down(&b, now_us));
    return b;
}

Test(broker, starts_up_and_admits)
{
    struct shop_edge_broker b;
    shop_edge_broker_init(&b, PROBE_US);
    cr_assert_not(shop_edge_broker_is_down(&b));
    cr_assert_eq(shop_edge_broker_admit(&b, 0), SHOP_BROKER_ADMIT);
}

Test(broker, all_down_rejects_at_once_until_the_probe_interval)
{
    struct shop_edge_broker b = down_at(5000);
    cr_assert(shop_edge_broker_is_down(&b));
    cr_assert_eq(shop_edge_broker_admit(&b, 5000), SHOP_BROKER_REJECT);
    cr_assert_eq(shop_edge_broker_admit(&b, 5000 + PROBE_US - 1), SHOP_BROKER_REJECT);
    cr_assert_not(shop_edge_broker_all_down(&b, 6000), "a second report changes nothing");
}

Test(broker, one_probe_at_a_time_then_wait_again)
{
    struct shop_edge_broker b = down_at(0);
    cr_assert_eq(shop_edge_broker_admit(&b, PROBE_US), SHOP_BROKER_PROBE);
    cr_assert_eq(shop_edge_broker_admit(&b, PROBE_US + 1), SHOP_BROKER_REJECT, "probe in flight");
    cr_assert_eq(shop_edge_broker_admit(&b, 10 * PROBE_US), SHOP_BROKER_REJECT, "still in flight");
    shop_edge_broker_delivered(&b, false);
    shop_edge_broker_probe_done(&b, 10 * PROBE_US);
    cr_assert(shop_edge_broker_is_down(&b), "a failed probe proves nothing");
    cr_assert_eq(shop_edge_broker_admit(&b, 10 * PROBE_US + 1), SHOP_BROKER_REJECT);
    cr_assert_eq(shop_edge_broker_admit(&b, 11 * PROBE_US), SHOP_BROKER_PROBE);
}

Test(broker, successful_delivery_brings_it_back)
{
    struct shop_edge_broker b = down_at(0);
    cr_assert_eq(shop_edge_broker_admit(&b, PROBE_US), SHOP_BROKER_PROBE);
    cr_assert(shop_edge_broker_delivered(&b, true));
    shop_edge_broker_probe_done(&b, PROBE_US + 5);
    cr_assert_not(shop_edge_broker_is_down(&b));
    cr_assert_eq(shop_edge_broker_admit(&b, PROBE_US + 6), SHOP_BROKER_ADMIT);
    cr_assert_not(shop_edge_broker_delivered(&b, true), "already up: no transition");
}

Test(broker, failed_delivery_while_up_does_not_mark_down)
{
    struct shop_edge_broker b;
    shop_edge_broker_init(&b, PROBE_US);
    cr_assert_not(shop_edge_broker_delivered(&b, false));
    cr_assert_eq(shop_edge_broker_admit(&b, 0), SHOP_BROKER_ADMIT);
}

Test(broker, fresh_statistics_with_a_broker_up_bring_it_back)
{
    struct shop_edge_broker b = down_at(1000);
    cr_assert_not(shop_edge_broker_stats(&b, 2000, 0), "no broker up");
    cr_assert(shop_edge_broker_is_down(&b));
    cr_assert(shop_edge_broker_stats(&b, 2000, 1));
    cr_assert_eq(shop_edge_broker_admit(&b, 2001), SHOP_BROKER_ADMIT);
}

Test(broker, a_peer_reaching_a_broker_after_the_outage_brings_it_back)
{
    struct shop_edge_broker b = down_at(1000);
    cr_assert_not(shop_edge_broker_peer_up(&b, 0), "no peer has reached a broker yet");
    cr_assert_not(shop_edge_broker_peer_up(&b, 900), "before this producer went down");
    cr_assert(shop_edge_broker_is_down(&b));
    cr_assert(shop_edge_broker_peer_up(&b, 1500));
    cr_assert_eq(shop_edge_broker_admit(&b, 1501), SHOP_BROKER_ADMIT);
}

Test(broker, statistics_older_than_the_outage_are_ignored)
{
    struct shop_edge_broker b = down_at(1000);
    cr_assert_not(shop_edge_broker_stats(&b, 999, 3), "snapshot taken before the outage");
    cr_assert_not(shop_edge_broker_stats(&b, 1000, 3));
    cr_assert(shop_edge_broker_is_down(&b));
}

Test(broker, statistics_while_up_change_nothing)
{
    struct shop_edge_broker b;
    shop_edge_broker_init(&b, PROBE_US);
    cr_assert_not(shop_edge_broker_stats(&b, 5, 0), "statistics never mark a producer down");
    cr_assert_not(shop_edge_broker_is_down(&b));
}

Test(broker, down_again_after_recovery_restarts_the_clock)
{
    struct shop_edge_broker b = down_at(0);
    cr_assert(shop_edge_broker_stats(&b, 10, 1));
    cr_assert(shop_edge_broker_all_down(&b, 50));
    cr_assert_not(shop_edge_broker_stats(&b, 40, 1), "older than the second outage");
    cr_assert_eq(shop_edge_broker_admit(&b, 60), SHOP_BROKER_REJECT);
}

/* Trimmed from a librdkafka 2.0.2 producer's statistics while its broker was down. */
static const char stats_down[] =
    "{\"name\":\"shopstream-edge-0#producer-1\",\"type\":\"producer\",\"ts\":5015122562,"
    "\"time\":1700000000,\"brokers\":{"
    "\"127.0.0.1:9092/bootstrap\":{\"name\":\"127.0.0.1:9092/bootstrap\",\"nodeid\":-1,"
    "\"source\":\"configured\",\"state\":\"DOWN\",\"stateage\":1200},"
    "\"127.0.0.1:9092/1\":{\"name\":\"127.0.0.1:9092/1\",\"nodeid\":1,\"source\":\"learned\","
    "\"state\":\"CONNECT\",\"stateage\":300},"
    "\":0/internal\":{\"name\":\":0/internal\",\"nodeid\":-1,\"source\":\"internal\","
    "\"state\":\"UP\"}},\"topics\":{}}";

Test(broker_stats, counts_no_broker_up_ignoring_the_internal_one)
{
    int64_t ts = 0;
    cr_assert_eq(shop_edge_stats_brokers_up(stats_down, strlen(stats_down), &ts), 0);
    cr_assert_eq(ts, INT64_C(5015122562));
}

Test(broker_stats, counts_brokers_up)
{
    static const char up[] = "{\"ts\":7,\"brokers\":{\"a/1\":{\"source\":\"learned\",\"state\":\"UP\"},"
                             "\"a/bootstrap\":{\"source\":\"configured\",\"state\":\"UP\"},"
                             "\"b/2\":{\"source\":\"learned\",\"state\":\"TRY_CONNECT\"}}}";
    int64_t ts = 0;
    cr_assert_eq(shop_edge_stats_brokers_up(up, strlen(up), &ts), 2);
    cr_assert_eq(ts, 7);
}

Test(broker_stats, rejects_what_is_not_statistics)
{
    int64_t ts = 0;
    cr_assert_eq(shop_edge_stats_brokers_up("{\"ts\":1}", 8, &ts), SHOP_EBADMSG);
    cr_assert_eq(shop_edge_stats_brokers_up("not json", 8, &ts), SHOP_EBADMSG);
    cr_assert_eq(shop_edge_stats_brokers_up("", 0, &ts), SHOP_EBADMSG);
}
