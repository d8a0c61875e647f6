/* SPDX-License-Identifier: MIT
 * One Kafka record of any Shopstream topic as one JSON object, for shopstream-admin
 * tail and anyone reading the topics by hand: topic, partition, offset, timestamp, key,
 * headers, and the value decoded as a shopstream.v1.Event through the protobuf-c
 * descriptors (so a field added to the .proto shows up with no change here). Pure.
 * Invariant: every record gives an object; what cannot be decoded is an "error" field
 * with the raw bytes in base64, never a crash and never a silent drop.
 */
#ifndef SHOP_EVENT_TO_JSON_H
#define SHOP_EVENT_TO_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "proto/core/shop_event.h"

/** One record header; value NULL is a header without a value. */
struct shop_record_header {
    const char *name;
    const uint8_t *value;
    size_t len;
};

/** A record as the consumer handed it over; everything is borrowed. key or value NULL:
 *  absent (a tombstone has no value). timestamp_ms < 0: none. */
struct shop_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    const struct shop_record_header *headers;
    size_t n_headers;
};

/** m as a JSON object in the protobuf JSON mapping with the .proto field names: fields at
 *  their default value are left out (as protoc --decode and MessageToDict do), 64-bit
 *  integers are JSON integers (a uint64 above INT64_MAX a string), bytes and text that is
 *  not UTF-8 {"base64": ...}, non-finite doubles "NaN"/"Infinity"/"-Infinity", unknown
 *  fields listed by number under "_unknown_fields". Returns a new reference. */
json_t *shop_message_to_json(const ProtobufCMessage *m);

/** The record as {"topic","partition","offset","timestamp","key","headers":{...},
 *  "event":{...}}: headers by name (a repeated name an array of its values); a value that
 *  does not unpack gives "error" and "value_base64" instead of "event"; one that unpacks
 *  but fails shop_event_validate also gives "invalid"; a dead letter (x-shopstream-error
 *  header) also gives "dead_letter" with its reason and origin. The unpacked event lives
 *  in arena. Returns a new reference (the caller json_decref()s it). */
json_t *shop_record_to_json(const struct shop_record *r, struct shop_arena *arena);

/** Standard base64 (RFC 4648 section 4, padded) of in[0..n) as a JSON string. */
json_t *shop_json_base64(const uint8_t *in, size_t n);

#endif
