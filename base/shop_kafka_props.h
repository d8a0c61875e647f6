/* SPDX-License-Identifier: MIT
 * Kafka client properties given by the operator (TLS, SASL, tuning), passed
 * through to librdkafka by every binary that talks to Kafka. Pure: parses
 * text, refuses names the product owns, describes the set with secrets
 * redacted. base/shop_kafka_conf.h reads the variables and the file and applies
 * the result to an rd_kafka_conf_t.
 *
 * SHOPSTREAM_KAFKA_PROPERTIES, one string: entries `name=value` separated by ';'
 * or newlines; the first '=' ends the name; a backslash makes the next byte
 * literal (`\;`, `\=`, `\\`, `\ `); unescaped spaces around names and values are
 * dropped; empty entries are skipped.
 * SHOPSTREAM_KAFKA_PROPERTIES_FILE: Java .properties (what Kafka clients take):
 * `#`/`!` comments, `=`, `:` or spaces between key and value, a trailing
 * backslash continues the line, escapes \t \n \r \f \uXXXX.
 * A name given twice (in either or across both) is refused as ambiguous.
 */
#ifndef SHOP_KAFKA_PROPS_H
#define SHOP_KAFKA_PROPS_H

#include <stddef.h>

#include "base/shop_cfg.h"

#define SHOP_KAFKA_PROPS_MAX 64
#define SHOP_KAFKA_PROPS_TEXT_MAX 65536   /* names and values; room for PEM keys */
#define SHOP_KAFKA_PROP_NAME_MAX 128
#define SHOP_KAFKA_PROP_DESCRIBE_MAX 200  /* longer values are described by their size */

struct shop_kafka_prop {
    const char *name;
    const char *value;
    const char *origin;   /* the variable or file it came from, for error messages */
};

struct shop_kafka_props {
    int n;
    struct shop_kafka_prop p[SHOP_KAFKA_PROPS_MAX];
    size_t used;
    char text[SHOP_KAFKA_PROPS_TEXT_MAX];
};

/** A property the product sets itself, and why it may not be overridden. */
struct shop_kafka_owned {
    const char *name;
    const char *why;
};

void shop_kafka_props_init(struct shop_kafka_props *props);

/** Adds the entries of a SHOPSTREAM_KAFKA_PROPERTIES string. origin names it in
 *  errors. Every problem goes to errs (names only, never values); returns 0 or
 *  SHOP_ECONFIG. */
int shop_kafka_props_parse_list(struct shop_kafka_props *props, const char *text, const char *origin,
                                struct shop_cfg_errs *errs);

/** Adds the entries of a Java .properties text of len bytes. Like parse_list. */
int shop_kafka_props_parse_file(struct shop_kafka_props *props, const char *text, size_t len,
                                const char *origin, struct shop_cfg_errs *errs);

/** The value given for name, or NULL. */
const char *shop_kafka_props_get(const struct shop_kafka_props *props, const char *name);

/** Records an error for every property named in owned (ended by a {NULL, NULL}
 *  entry). Returns 0 or SHOP_ECONFIG. */
int shop_kafka_props_refuse(const struct shop_kafka_props *props, const struct shop_kafka_owned *owned,
                            struct shop_cfg_errs *errs);

/** "name=value,name=***" with secret values (shop_redact_kafka_is_secret) redacted, values
 *  longer than SHOP_KAFKA_PROP_DESCRIBE_MAX or multi-line shown as "(N bytes)", and
 *  '"', '\\' and control bytes escaped for logfmt; "(none)" when empty. Returns the
 *  length written (truncated to n - 1). */
size_t shop_kafka_props_describe(const struct shop_kafka_props *props, char *buf, size_t n);

#endif
