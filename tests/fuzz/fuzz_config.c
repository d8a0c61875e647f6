/* SPDX-License-Identifier: MIT
 * libFuzzer target for the configuration text parsers in base/: DSN redaction
 * (shop_redact_dsn, shop_redact_text) and the Kafka properties parsers (the ';'
 * list and Java .properties), and the edge's SHOPSTREAM_PG_READ_DSN split. Mode by the
 * first byte. Invariants: no crash, no leak, no undefined behaviour; redaction output is
 * terminated and as long as it says; every parsed property has a valid name and the set
 * stays bounded; split entries are non-empty, trimmed, in order and inside the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_kafka_props.h"
#include "base/shop_redact.h"
#include "edge/core/edge_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct shop_kafka_props props;

static void check_props(void)
{
    if (props.n < 0 || props.n > SHOP_KAFKA_PROPS_MAX || props.used > sizeof(props.text))
        abort();
    for (int i = 0; i < props.n; i++) {
        size_t len = strlen(props.p[i].name);
        if (len == 0 || len != strspn(props.p[i].name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789._-"))
            abort();
    }
    char out[4096];
    size_t n = shop_kafka_props_describe(&props, out, sizeof(out));
    if (n >= sizeof(out) || strlen(out) != n)
        abort();
}

static void check_split(const char *text)
{
    struct shop_edge_dsn_span s[SHOP_EDGE_READ_DSN_MAX];
    struct shop_err err = {0};
    int n = shop_edge_dsn_split(text, s, SHOP_EDGE_READ_DSN_MAX, &err);
    if (n == 0 || n > SHOP_EDGE_READ_DSN_MAX || (n < 0 && err.msg[0] == '\0'))
        abort();
    size_t len = strlen(text), end = 0;
    for (int i = 0; i < n; i++) {
        if (s[i].len == 0 || s[i].off < end || s[i].off + s[i].len > len ||
            strchr(" \t\n\v\f\r", text[s[i].off]) != NULL ||
            strchr(" \t\n\v\f\r", text[s[i].off + s[i].len - 1]) != NULL)
            abort();
        end = s[i].off + s[i].len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';   /* up to the first NUL, as from the environment */
    char out[1024];
    struct shop_cfg_errs errs = {0};
    switch (data[0] % 5) {
    case 0: {
        size_t n = shop_redact_dsn(text, out, sizeof(out));
        if (n < sizeof(out) && strlen(out) != n)
            abort();
        break;
    }
    case 1: {
        char *nl = strchr(text, '\n');   /* text\ndsn */
        if (nl != NULL)
            *nl = '\0';
        size_t n = shop_redact_text(text, nl != NULL ? nl + 1 : NULL, out, sizeof(out));
        if (n < sizeof(out) && strlen(out) != n)
            abort();
        break;
    }
    case 2:
        shop_kafka_props_init(&props);
        shop_kafka_props_parse_list(&props, text, "V", &errs);
        check_props();
        break;
    case 3:
        shop_kafka_props_init(&props);
        shop_kafka_props_parse_file(&props, (const char *)data + 1, size - 1, "F", &errs);
        check_props();
        break;
    default:
        check_split(text);
        break;
    }
    free(text);
    return 0;
}
