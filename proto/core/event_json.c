/* SPDX-License-Identifier: MIT
 * The JSON body of POST /v1/events mapped onto v1 protobuf messages. Pure.
 * Payload fields are matched by their proto names through the protobuf-c
 * descriptors, so a field added to the .proto is accepted in JSON as well;
 * only presence ("required") is listed here. Strings are copied into the arena.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/core/event_internal.h"

#define PATH_BYTES 96

struct jctx {
    struct shop_arena *arena;
    struct shop_problem *p;
};

#define D(x) &shopstream__v1__##x##__descriptor

/* Paths longer than PATH_BYTES are cut, never overflowed; through vsnprintf so that
 * gcc does not flag the intended truncation. */
static void pathf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pathf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* Fields a JSON object must name; proto3 itself has no presence for scalars. */
static const struct required {
    const ProtobufCMessageDescriptor *desc;
    const char *names[5];
} required[] = {
    {D(money), {"amount_minor", "currency"}},
    {D(product_viewed), {"product_id"}},
    {D(search_performed), {"query"}},
    {D(cart_item_added), {"product_id", "quantity"}},
    {D(cart_item_removed), {"product_id"}},
    {D(cart_quantity_set), {"product_id", "quantity"}},
    {D(order_line), {"product_id", "quantity", "unit_price"}},
    {D(order_placed), {"order_id", "lines"}},
    {D(order_paid), {"order_id", "amount"}},
    {D(order_shipped), {"order_id"}},
    {D(order_delivered), {"order_id"}},
    {D(order_cancelled), {"order_id"}},
    {D(product_upserted), {"product_id", "name", "price", "stock"}},
    {D(stock_adjusted), {"product_id", "delta"}},
    {D(stock_line), {"product_id", "quantity"}},
    {D(stock_short_line), {"product_id", "requested", "available"}},
    {D(stock_reserved), {"order_id", "lines"}},
    {D(stock_rejected), {"order_id", "reason", "lines"}},
    {D(stock_released), {"order_id", "lines"}},
    {D(stock_committed), {"order_id", "lines"}},
    {D(low_stock), {"product_id", "available", "threshold"}},
};

static int check_required(struct jctx *c, const ProtobufCMessageDescriptor *desc, json_t *obj,
                          const char *prefix)
{
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (required[i].desc != desc)
            continue;
        for (size_t k = 0; k < 5 && required[i].names[k] != NULL; k++)
            if (json_object_get(obj, required[i].names[k]) == NULL)
                return shop__problem_at(c->p, prefix, required[i].names[k], "is required");
    }
    return 0;
}

static ProtobufCMessage *new_message(struct jctx *c, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = shop_arena_alloc(c->arena, desc->sizeof_message);
    desc->message_init(m);
    return m;
}

static int fill_message(struct jctx *c, ProtobufCMessage *msg, json_t *obj, const char *prefix,
                        bool envelope);

/* A field's path is prefix + name ("lines[2]." + "quantity"). It is only needed for an
 * error or a nested message, so it is put together only then: formatting it for every
 * field was a vsnprintf per JSON key. */
static int to_message(struct jctx *c, const ProtobufCFieldDescriptor *f, json_t *v,
                      const char *prefix, const char *name, ProtobufCMessage **out)
{
    if (!json_is_object(v))
        return shop__problem_at(c->p, prefix, name, "must be an object");
    char nested[PATH_BYTES];
    pathf(nested, sizeof(nested), "%s%s.", prefix, name);
    *out = new_message(c, f->descriptor);
    return fill_message(c, *out, v, nested, false);
}

static int set_repeated(struct jctx *c, void *msg, const ProtobufCFieldDescriptor *f, json_t *v,
                        const char *prefix, const char *name)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
        return shop__problem_at(c->p, prefix, name, "is not supported in JSON");
    if (!json_is_array(v))
        return shop__problem_at(c->p, prefix, name, "must be an array");
    size_t n = json_array_size(v);
    ProtobufCMessage **items = shop_arena_alloc(c->arena, (n ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        char item[PATH_BYTES];
        pathf(item, sizeof(item), "%s[%zu]", name, i);
        int rc = to_message(c, f, json_array_get(v, i), prefix, item, &items[i]);
        if (rc < 0)
            return rc;
    }
    /* memcpy: the descriptor's offsets are byte offsets into the message struct. */
    memcpy((char *)msg + f->quantifier_offset, &n, sizeof(n));
    memcpy((char *)msg + f->offset, &items, sizeof(items));
    return 0;
}

static int get_integer(struct jctx *c, json_t *v, const char *prefix, const char *name,
                       json_int_t min, json_int_t max, json_int_t *out)
{
    /* JSON numbers with a fraction or exponent are reals in jansson: 1.5 and 1e3 are refused. */
    if (!json_is_integer(v))
        return shop__problem_at(c->p, prefix, name, "must be an integer");
    *out = json_integer_value(v);
    if (*out < min || *out > max)
        return shop__problem_at(c->p, prefix, name, "is out of range");
    return 0;
}

static int set_field(struct jctx *c, void *msg, const ProtobufCFieldDescriptor *f, json_t *v,
                     const char *prefix, const char *name)
{
    void *slot = (char *)msg + f->offset;
    json_int_t i;
    int rc = 0;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return set_repeated(c, msg, f, v, prefix, name);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(v))
            return shop__problem_at(c->p, prefix, name, "must be a string");
        *(char **)slot = shop_arena_strndup(c->arena, json_string_value(v), json_string_length(v));
        return 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if ((rc = get_integer(c, v, prefix, name, INT32_MIN, INT32_MAX, &i)) == 0)
            *(int32_t *)slot = (int32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((rc = get_integer(c, v, prefix, name, 0, UINT32_MAX, &i)) == 0)
            *(uint32_t *)slot = (uint32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((rc = get_integer(c, v, prefix, name, INT64_MIN, INT64_MAX, &i)) == 0)
            *(int64_t *)slot = (int64_t)i;
        return rc;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return shop__problem_at(c->p, prefix, name, "must be a boolean");
        *(protobuf_c_boolean *)slot = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return to_message(c, f, v, prefix, name, (ProtobufCMessage **)slot);
    default:
        return shop__problem_at(c->p, prefix, name, "is not supported in JSON");
    }
}

enum envelope_member { ENV_TYPE, ENV_ID, ENV_AT, ENV_SESSION_ID, ENV_USER_ID, ENV_COUNT, ENV_NONE };

/* Which envelope member key names: one strcmp at most, on the first letter. */
static enum envelope_member envelope_member(const char *key)
{
    switch (key[0]) {
    case 't':
        return strcmp(key, "type") == 0 ? ENV_TYPE : ENV_NONE;
    case 'i':
        return strcmp(key, "id") == 0 ? ENV_ID : ENV_NONE;
    case 'a':
        return strcmp(key, "at") == 0 ? ENV_AT : ENV_NONE;
    case 's':
        return strcmp(key, "session_id") == 0 ? ENV_SESSION_ID : ENV_NONE;
    case 'u':
        return strcmp(key, "user_id") == 0 ? ENV_USER_ID : ENV_NONE;
    default:
        return ENV_NONE;
    }
}

static bool is_envelope_key(const char *key)
{
    return envelope_member(key) != ENV_NONE;
}

/* The envelope's members of obj, in one pass over its keys: a json_object_get for each
 * would hash and look up every name again. Keys are unique (JSON_REJECT_DUPLICATES). */
static void find_envelope(json_t *obj, json_t *env[ENV_COUNT])
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        enum envelope_member m = envelope_member(key);
        if (m != ENV_NONE)
            env[m] = v;
    }
}

static int fill_message(struct jctx *c, ProtobufCMessage *msg, json_t *obj, const char *prefix,
                        bool envelope)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v) {
        if (envelope && is_envelope_key(key))
            continue;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, key);
        if (f == NULL)
            return shop__problem_at(c->p, prefix, key, "unknown field");
        int rc = set_field(c, msg, f, v, prefix, key);
        if (rc < 0)
            return rc;
    }
    return check_required(c, msg->descriptor, obj, prefix);
}

static int envelope_string(struct jctx *c, json_t *v, const char *key, char **out)
{
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return shop__problem(c->p, key, "must be a string");
    *out = shop_arena_strndup(c->arena, json_string_value(v), json_string_length(v));
    return 0;
}

static int parse_envelope(struct jctx *c, json_t *env[ENV_COUNT], Shopstream__V1__Event *ev)
{
    json_int_t at;
    json_t *v = env[ENV_AT];
    if (v != NULL && get_integer(c, v, "", "at", INT64_MIN, INT64_MAX, &at) < 0)
        return SHOP_EINVAL;
    if (v != NULL)
        ev->occurred_at_ms = at;
    if (envelope_string(c, env[ENV_ID], "id", &ev->id) < 0 ||
        envelope_string(c, env[ENV_SESSION_ID], "session_id", &ev->session_id) < 0 ||
        envelope_string(c, env[ENV_USER_ID], "user_id", &ev->user_id) < 0)
        return SHOP_EINVAL;
    return 0;
}

static int parse_event(struct jctx *c, json_t *obj, Shopstream__V1__Event **out)
{
    if (!json_is_object(obj))
        return shop__problem(c->p, "", "event must be a JSON object");
    json_t *env[ENV_COUNT] = {NULL};
    find_envelope(obj, env);
    json_t *t = env[ENV_TYPE];
    if (t == NULL)
        return shop__problem(c->p, "type", "is required");
    if (!json_is_string(t))
        return shop__problem(c->p, "type", "must be a string");
    Shopstream__V1__Event__PayloadCase pc;
    if (shop_event_type_parse(json_string_value(t), &pc) < 0)
        return shop__problem(c->p, "type", "unknown event type \"%.64s\"", json_string_value(t));

    Shopstream__V1__Event *ev = (Shopstream__V1__Event *)new_message(c, D(event));
    ev->type = shop_arena_strdup(c->arena, json_string_value(t));
    const struct shop__type_info *ti = shop__type_info(pc);
    ProtobufCMessage *payload = new_message(c, ti->desc);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(D(event), (unsigned)pc);
    memcpy((char *)ev + f->offset, &payload, sizeof(payload));
    ev->payload_case = pc;

    int rc = parse_envelope(c, env, ev);
    if (rc == 0)
        rc = fill_message(c, payload, obj, "", true);
    if (rc == 0)
        *out = ev;
    return rc;
}

static int parse_batch(struct jctx *c, json_t *root, const struct shop_event_limits *lim,
                       Shopstream__V1__Event ***events, size_t *n_events)
{
    if (!json_is_object(root))
        return shop__problem(c->p, "", "body must be a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach (root, key, v)
        if (strcmp(key, "events") != 0)
            return shop__problem(c->p, key, "unknown field");
    json_t *arr = json_object_get(root, "events");
    if (arr == NULL)
        return shop__problem(c->p, "events", "is required");
    if (!json_is_array(arr))
        return shop__problem(c->p, "events", "must be an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return shop__problem(c->p, "events", "must hold at least one event");
    if (n > lim->batch_max)
        return shop__problem(c->p, "events", "must hold at most %zu events", lim->batch_max);

    Shopstream__V1__Event **evs = shop_arena_alloc(c->arena, n * sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        c->p->index = (int)i;
        int rc = parse_event(c, json_array_get(arr, i), &evs[i]);
        if (rc < 0)
            return rc;
    }
    c->p->index = -1;
    *events = evs;
    *n_events = n;
    return 0;
}

int shop_event_batch_from_json(const char *body, size_t len, const struct shop_event_limits *lim,
                               struct shop_arena *arena, Shopstream__V1__Event ***events,
                               size_t *n_events, struct shop_problem *p)
{
    struct shop_event_limits def = shop_event_limits_default();
    struct jctx c = {arena, p};
    json_error_t jerr;
    p->index = -1;
    /* Duplicate keys are refused: which one wins differs between JSON parsers. */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return shop__problem(p, "", "invalid JSON at line %d, column %d: %.120s", jerr.line,
                             jerr.column, jerr.text);
    int rc = parse_batch(&c, root, lim != NULL ? lim : &def, events, n_events);
    json_decref(root);
    return rc;
}
