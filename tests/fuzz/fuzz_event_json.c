/* SPDX-License-Identifier: MIT
 * libFuzzer target for shop_record_to_json (what shopstream-admin tail prints): the
 * input is split into a key, a header name and value, and the record value, all
 * untrusted bytes. Invariant checked: no crash, no leak, and every record gives one
 * JSON line (the dump never fails and never holds a newline).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_to_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    /* First byte: how many of the next bytes are the key, second: the header value. */
    size_t key_len = size > 0 ? data[0] % 16 : 0, hdr_len = size > 1 ? data[1] % 16 : 0, off = size > 1 ? 2 : size;
    key_len = key_len < size - off ? key_len : size - off;
    const uint8_t *key = data + off;
    off += key_len;
    hdr_len = hdr_len < size - off ? hdr_len : size - off;
    char *name = shop_arena_strndup(&arena, (const char *)data + off, hdr_len);   /* stops at a NUL */
    struct shop_record_header h[] = {{"x-shopstream-error", data + off, hdr_len}, {name, data + off, hdr_len},
                                     {name, NULL, 0}};
    off += hdr_len;
    struct shop_record r = {.topic = "fuzz.v1", .partition = 0, .offset = 0, .timestamp_ms = -1,
                            .key = key, .key_len = key_len, .value = data + off, .value_len = size - off,
                            .headers = h, .n_headers = 3};
    json_t *j = shop_record_to_json(&r, &arena);
    char *line = json_dumps(j, JSON_COMPACT);
    if (line == NULL || strchr(line, '\n') != NULL)
        abort();
    free(line);
    json_decref(j);
    shop_arena_fini(&arena);
    return 0;
}
