/* SPDX-License-Identifier: MIT
 * Which events are order status changes, and the webhook each becomes. The statuses
 * come from the inventory topic: its outcomes are the life cycle's verdicts (an
 * order.cancelled a shopper had no right to, or one after shipping, never becomes an
 * inventory.released), so a notification names a change that happened. The id is a
 * UUID v5 of (order id, status, source event id) in a fixed namespace: the same on
 * every redelivery and replay. Pure.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <uuid/uuid.h>

#include "workers/core/notify.h"

/* Shopstream's notification namespace; fixed forever (it is part of every webhook id). */
static const char notify_namespace[] = "5b9e2c41-7d3f-4a86-b0e1-2f6c8d4a9e73";

static const char *const status_names[SHOP_NOTIFY_STATUS_COUNT] = {
    [SHOP_NOTIFY_CONFIRMED] = "confirmed",
    [SHOP_NOTIFY_REJECTED] = "rejected",
    [SHOP_NOTIFY_SHIPPED] = "shipped",
    [SHOP_NOTIFY_CANCELLED] = "cancelled",
};

const char *shop_notify_status_name(enum shop_notify_status s)
{
    return (unsigned)s < SHOP_NOTIFY_STATUS_COUNT ? status_names[s] : "unknown";
}

bool shop_notify_status_of(const Shopstream__V1__Event *ev, enum shop_notify_status *out)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED:
        *out = SHOP_NOTIFY_CONFIRMED;
        return ev->stock_reserved != NULL;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED:
        *out = SHOP_NOTIFY_REJECTED;
        return ev->stock_rejected != NULL;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED:
        *out = SHOP_NOTIFY_SHIPPED;
        return ev->stock_committed != NULL;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED:
        *out = SHOP_NOTIFY_CANCELLED;
        return ev->stock_released != NULL;
    default:
        return false;
    }
}

void shop_notify_event_id(const char *order_id, enum shop_notify_status s, const char *source_id, char out[37])
{
    uuid_t ns, id;
    char name[256];
    /* The status has no '/' and the source id is a fixed-length UUID, so no two inputs
     * share a name; order ids are at most 64 characters (the validator's bound). */
    int len = snprintf(name, sizeof(name), "%s/%s/%s", shop_notify_status_name(s), source_id, order_id);
    if (len < 0 || (size_t)len >= sizeof(name))
        len = (int)sizeof(name) - 1;
    uuid_parse(notify_namespace, ns);
    uuid_generate_sha1(id, ns, name, (size_t)len);
    uuid_unparse_lower(id, out);
}

static json_t *money_json(const Shopstream__V1__Money *m)
{
    return json_pack("{s:I,s:s}", "amount_minor", (json_int_t)m->amount_minor, "currency",
                     m->currency != NULL ? m->currency : "");
}

static json_t *stock_lines_json(Shopstream__V1__StockLine **lines, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *l = json_pack("{s:s,s:I}", "product_id", lines[i]->product_id, "quantity",
                              (json_int_t)lines[i]->quantity);
        if (lines[i]->amount != NULL)
            json_object_set_new(l, "amount", money_json(lines[i]->amount));
        json_array_append_new(arr, l);
    }
    return arr;
}

static json_t *short_lines_json(Shopstream__V1__StockShortLine **lines, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *l = json_pack("{s:s,s:I,s:I}", "product_id", lines[i]->product_id, "requested",
                              (json_int_t)lines[i]->requested, "available", (json_int_t)lines[i]->available);
        if (lines[i]->catalog_price != NULL)
            json_object_set_new(l, "catalog_price", money_json(lines[i]->catalog_price));
        json_array_append_new(arr, l);
    }
    return arr;
}

/* The status's own fields: the lines, and the reason of a rejection. */
static void add_details(json_t *data, const Shopstream__V1__Event *ev, enum shop_notify_status s)
{
    switch (s) {
    case SHOP_NOTIFY_CONFIRMED:
        json_object_set_new(data, "lines", stock_lines_json(ev->stock_reserved->lines, ev->stock_reserved->n_lines));
        break;
    case SHOP_NOTIFY_REJECTED:
        json_object_set_new(data, "reason", json_string(ev->stock_rejected->reason));
        json_object_set_new(data, "lines", short_lines_json(ev->stock_rejected->lines, ev->stock_rejected->n_lines));
        break;
    case SHOP_NOTIFY_SHIPPED:
        json_object_set_new(data, "lines",
                            stock_lines_json(ev->stock_committed->lines, ev->stock_committed->n_lines));
        break;
    default:
        json_object_set_new(data, "lines", stock_lines_json(ev->stock_released->lines, ev->stock_released->n_lines));
        break;
    }
}

int shop_notify_msg_build(const Shopstream__V1__Event *ev, struct shop_notify_msg *out, struct shop_err *err)
{
    enum shop_notify_status s;
    if (!shop_notify_status_of(ev, &s))
        return shop_err_set(err, SHOP_EINVAL, "event type %s is no order status change", ev->type);
    const char *order_id = shop_event_order_id(ev);
    out->status = s;
    snprintf(out->type, sizeof(out->type), "order.%s", shop_notify_status_name(s));
    shop_notify_event_id(order_id, s, ev->id, out->id);
    json_t *data = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "order_id", order_id, "user_id", ev->user_id, "status",
                             shop_notify_status_name(s), "occurred_at_ms", (json_int_t)ev->occurred_at_ms,
                             "source_event_id", ev->id, "source_event_type", ev->type);
    add_details(data, ev, s);
    json_t *root = json_pack("{s:s,s:s,s:I,s:o}", "id", out->id, "type", out->type, "created_at_ms",
                             (json_int_t)ev->occurred_at_ms, "data", data);
    out->body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (out->body == NULL)
        abort();    /* OOM is fatal (house rule); jansson returns NULL for nothing else here */
    out->body_len = strlen(out->body);
    return 0;
}
