/* SPDX-License-Identifier: MIT
 * Records and protobuf messages to JSON, walking the protobuf-c descriptors. Pure.
 * Every jansson constructor that can refuse its input (a string that is not UTF-8, a
 * non-finite real) is given a fallback, so the walk always yields a value.
 */
#include "proto/core/event_to_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_internal.h"

#define DEPTH_MAX 32   /* the schema has no recursion; this only bounds a bad descriptor */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

json_t *shop_json_base64(const uint8_t *in, size_t n)
{
    size_t out_len = (n + 2) / 3 * 4;
    char *out = shop_xmalloc(out_len + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    json_t *s = json_stringn(out, o);
    free(out);
    return s;
}

/* Text as a JSON string, or {"base64": ...} when it is not UTF-8 (jansson refuses it). */
static json_t *text(const void *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;
    j = json_object();
    json_object_set_new(j, "base64", shop_json_base64(s, n));
    return j;
}

static json_t *real(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *message(const ProtobufCMessage *m, int depth);

/* One value of field f stored at p (an element of a repeated field, or the field itself). */
static json_t *scalar(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: {
        int32_t v;
        memcpy(&v, p, sizeof(v));
        return json_integer(v);
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return json_integer(v);
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        return json_integer(v);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        if (v <= (uint64_t)INT64_MAX)
            return json_integer((json_int_t)v);
        char buf[24];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
        return json_string(buf);
    }
    case PROTOBUF_C_TYPE_FLOAT: {
        float v;
        memcpy(&v, p, sizeof(v));
        return real(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof(v));
        return real(v);
    }
    case PROTOBUF_C_TYPE_BOOL: {
        protobuf_c_boolean v;
        memcpy(&v, p, sizeof(v));
        return json_boolean(v);
    }
    case PROTOBUF_C_TYPE_ENUM: {
        int v;
        memcpy(&v, p, sizeof(v));
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev != NULL ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s;
        memcpy(&s, p, sizeof(s));
        return s != NULL ? text(s, strlen(s)) : json_string("");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData b;
        memcpy(&b, p, sizeof(b));
        return shop_json_base64(b.data, b.len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub;
        memcpy(&sub, p, sizeof(sub));
        return sub != NULL ? message(sub, depth + 1) : json_null();
    }
    }
    return json_null();
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* proto3 leaves a field at its default value off the wire; so does the JSON. */
static bool is_default(const ProtobufCFieldDescriptor *f, const char *p)
{
    static const char zero[sizeof(ProtobufCBinaryData)];
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s;
        memcpy(&s, p, sizeof(s));
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData b;
        memcpy(&b, p, sizeof(b));
        return b.len == 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return memcmp(p, zero, sizeof(void *)) == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        float v;
        memcpy(&v, p, sizeof(v));
        return fpclassify(v) == FP_ZERO && !signbit(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v;
        memcpy(&v, p, sizeof(v));
        return fpclassify(v) == FP_ZERO && !signbit(v);
    }
    default:
        return memcmp(p, zero, elem_size(f->type)) == 0;
    }
}

/* Whether field f of the message at base is present (oneof case, has_ flag, or not default). */
static bool present(const ProtobufCFieldDescriptor *f, const char *base)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t set;
        memcpy(&set, base + f->quantifier_offset, sizeof(set));
        return set == f->id;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
        f->type != PROTOBUF_C_TYPE_STRING) {
        protobuf_c_boolean has;
        memcpy(&has, base + f->quantifier_offset, sizeof(has));
        return has;
    }
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    return !is_default(f, base + f->offset);
}

static json_t *repeated(const ProtobufCFieldDescriptor *f, const char *base, int depth)
{
    size_t n;
    const char *items;
    memcpy(&n, base + f->quantifier_offset, sizeof(n));
    memcpy(&items, base + f->offset, sizeof(items));
    json_t *arr = json_array();
    for (size_t i = 0; i < n && items != NULL; i++)
        json_array_append_new(arr, scalar(f, items + i * elem_size(f->type), depth));
    return arr;
}

static json_t *message(const ProtobufCMessage *m, int depth)
{
    json_t *obj = json_object();
    if (depth > DEPTH_MAX || m->descriptor == NULL)
        return obj;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;   /* members read by memcpy at descriptor offsets */
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            memcpy(&n, base + f->quantifier_offset, sizeof(n));
            if (n > 0)
                json_object_set_new(obj, f->name, repeated(f, base, depth));
        } else if (present(f, base)) {
            json_object_set_new(obj, f->name, scalar(f, base + f->offset, depth));
        }
    }
    if (m->n_unknown_fields > 0) {
        json_t *unknown = json_array();
        for (unsigned i = 0; i < m->n_unknown_fields; i++)
            json_array_append_new(unknown, json_integer(m->unknown_fields[i].tag));
        json_object_set_new(obj, "_unknown_fields", unknown);
    }
    return obj;
}

json_t *shop_message_to_json(const ProtobufCMessage *m)
{
    return message(m, 0);
}

static json_t *header_value(const struct shop_record_header *h)
{
    return h->value != NULL ? text(h->value, h->len) : json_null();
}

/* Headers by name; a name seen again turns its entry into an array, in record order. */
static json_t *headers(const struct shop_record *r)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < r->n_headers; i++) {
        const struct shop_record_header *h = &r->headers[i];
        const char *name = h->name != NULL ? h->name : "";
        json_t *probe = json_string(name), *v = header_value(h);
        char *key = NULL;
        if (probe == NULL) {   /* a name that is not UTF-8: keyed by its base64 */
            json_t *b = shop_json_base64((const uint8_t *)name, strlen(name));
            key = shop_xstrdup(json_string_value(b));
            json_decref(b);
        }
        json_decref(probe);
        const char *k = key != NULL ? key : name;
        json_t *prev = json_object_get(obj, k);
        if (prev == NULL) {
            json_object_set_new(obj, k, v);
        } else if (json_is_array(prev)) {   /* a single value is never an array */
            json_array_append_new(prev, v);
        } else {
            json_t *arr = json_array();
            json_array_append(arr, prev);
            json_array_append_new(arr, v);
            json_object_set_new(obj, k, arr);
        }
        free(key);
    }
    return obj;
}

/* The value of the first header called name as a NUL-terminated copy in arena, or NULL. */
static const char *header_text(const struct shop_record *r, const char *name, struct shop_arena *arena)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (r->headers[i].name != NULL && strcmp(r->headers[i].name, name) == 0 && r->headers[i].value != NULL)
            return shop_arena_strndup(arena, (const char *)r->headers[i].value, r->headers[i].len);
    return NULL;
}

/* The worker's dead-letter headers (workers/dlq.c): why, and where the record came from. */
static json_t *dead_letter(const struct shop_record *r, struct shop_arena *arena)
{
    static const char *const names[][2] = {
        {"error", "x-shopstream-error"},       {"sqlstate", "x-shopstream-sqlstate"},
        {"topic", "x-shopstream-topic"},       {"partition", "x-shopstream-partition"},
        {"offset", "x-shopstream-offset"},     {"consumer_group", "x-shopstream-consumer-group"},
    };
    if (header_text(r, "x-shopstream-error", arena) == NULL)
        return NULL;
    json_t *dl = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = header_text(r, names[i][1], arena);
        if (v != NULL)
            json_object_set_new(dl, names[i][0], text(v, strlen(v)));
    }
    return dl;
}

/* "event", or "error" + "value_base64"; "invalid" when it unpacks but breaks a rule. */
static void value(json_t *obj, const struct shop_record *r, struct shop_arena *arena)
{
    if (r->value == NULL) {
        json_object_set_new(obj, "event", json_null());   /* a tombstone */
        return;
    }
    ProtobufCAllocator alloc;
    shop_event_pb_allocator(arena, &alloc);
    Shopstream__V1__Event *ev = shopstream__v1__event__unpack(&alloc, r->value_len, r->value);
    if (ev == NULL) {
        char msg[64];
        snprintf(msg, sizeof(msg), "could not unpack shopstream.v1.Event: %zu bytes", r->value_len);
        json_object_set_new(obj, "error", json_string(msg));
        json_object_set_new(obj, "value_base64", shop_json_base64(r->value, r->value_len));
        return;
    }
    json_object_set_new(obj, "event", shop_message_to_json(&ev->base));
    struct shop_problem p = {.index = -1};
    if (shop_event_validate(ev, NULL, &p) < 0) {
        char msg[sizeof(p.field) + sizeof(p.detail) + 16];
        snprintf(msg, sizeof(msg), "field %s: %s", p.field, p.detail);
        json_object_set_new(obj, "invalid", text(msg, strlen(msg)));
    }
}

json_t *shop_record_to_json(const struct shop_record *r, struct shop_arena *arena)
{
    json_t *obj = json_object();
    const char *topic = r->topic != NULL ? r->topic : "";
    json_object_set_new(obj, "topic", text(topic, strlen(topic)));
    json_object_set_new(obj, "partition", json_integer(r->partition));
    json_object_set_new(obj, "offset", json_integer(r->offset));
    json_object_set_new(obj, "timestamp", r->timestamp_ms >= 0 ? json_integer(r->timestamp_ms) : json_null());
    json_object_set_new(obj, "key", r->key != NULL ? text(r->key, r->key_len) : json_null());
    json_object_set_new(obj, "headers", headers(r));
    json_t *dl = dead_letter(r, arena);
    if (dl != NULL)
        json_object_set_new(obj, "dead_letter", dl);
    value(obj, r, arena);
    return obj;
}
