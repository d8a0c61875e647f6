/* SPDX-License-Identifier: MIT
 * Broker reachability state machine and the statistics reader. Pure.
 */
#include "edge/core/edge_broker.h"

#include <jansson.h>
#include <string.h>

#include "base/shop_err.h"

void shop_edge_broker_init(struct shop_edge_broker *b, int64_t probe_interval_us)
{
    *b = (struct shop_edge_broker){.state = SHOP_BROKER_UP, .probe_interval_us = probe_interval_us};
}

static bool set_up(struct shop_edge_broker *b)
{
    if (b->state == SHOP_BROKER_UP)
        return false;
    b->state = SHOP_BROKER_UP;
    return true;
}

bool shop_edge_broker_all_down(struct shop_edge_broker *b, int64_t now_us)
{
    if (b->state == SHOP_BROKER_DOWN)
        return false;
    b->state = SHOP_BROKER_DOWN;
    b->down_since_us = now_us;
    b->next_probe_us = now_us + b->probe_interval_us;
    return true;
}

bool shop_edge_broker_stats(struct shop_edge_broker *b, int64_t snapshot_us, int brokers_up)
{
    if (b->state != SHOP_BROKER_DOWN || brokers_up <= 0 || snapshot_us <= b->down_since_us)
        return false;
    return set_up(b);
}

bool shop_edge_broker_peer_up(struct shop_edge_broker *b, int64_t at_us)
{
    return shop_edge_broker_stats(b, at_us, 1);
}

bool shop_edge_broker_delivered(struct shop_edge_broker *b, bool ok)
{
    return ok ? set_up(b) : false;
}

void shop_edge_broker_probe_done(struct shop_edge_broker *b, int64_t now_us)
{
    b->probing = false;
    b->next_probe_us = now_us + b->probe_interval_us;
}

bool shop_edge_broker_is_down(const struct shop_edge_broker *b)
{
    return b->state == SHOP_BROKER_DOWN;
}

enum shop_broker_admit shop_edge_broker_admit(struct shop_edge_broker *b, int64_t now_us)
{
    if (b->state == SHOP_BROKER_UP)
        return SHOP_BROKER_ADMIT;
    if (b->probing || now_us < b->next_probe_us)
        return SHOP_BROKER_REJECT;
    b->probing = true;
    return SHOP_BROKER_PROBE;
}

static bool broker_is_up(json_t *broker)
{
    const char *source = json_string_value(json_object_get(broker, "source"));
    const char *state = json_string_value(json_object_get(broker, "state"));
    if (state == NULL || (source != NULL && strcmp(source, "internal") == 0))
        return false;
    return strcmp(state, "UP") == 0;
}

int shop_edge_stats_brokers_up(const char *json, size_t len, int64_t *ts_us)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *ts = json_object_get(root, "ts");
    json_t *brokers = json_object_get(root, "brokers");
    if (!json_is_integer(ts) || !json_is_object(brokers)) {
        json_decref(root);
        return SHOP_EBADMSG;
    }
    *ts_us = (int64_t)json_integer_value(ts);
    int up = 0;
    const char *name;
    json_t *broker;
    json_object_foreach(brokers, name, broker) {
        if (broker_is_up(broker))
            up++;
    }
    json_decref(root);
    return up;
}
