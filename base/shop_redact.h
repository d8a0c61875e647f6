/* SPDX-License-Identifier: MIT
 * Secrets out of log lines. Pure. Every place that prints a PostgreSQL DSN, a
 * message that may echo one (libpq's connection errors quote parts of the
 * conninfo), or Kafka client properties goes through these.
 *
 * DSN rules are libpq's: keyword/value form (`password = 'a \' b'`, spaces
 * around '=', single quotes, backslash escapes, quoted or not, a dbname that is
 * itself a connection string) and URI form (`postgres[ql]://user:pw@host/db?
 * password=...`, percent-encoded). Where the text is malformed the redaction
 * masks more, never less.
 */
#ifndef SHOP_REDACT_H
#define SHOP_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/** The text written in place of a secret. */
#define SHOP_REDACTED "***"

/** Copies dsn to out (size n, always NUL-terminated when n > 0) with the value of
 *  every password and sslpassword, in either form, replaced by SHOP_REDACTED.
 *  Returns the length of the whole redacted text (as snprintf does). */
size_t shop_redact_dsn(const char *dsn, char *out, size_t n);

/** Copies text (e.g. PQerrorMessage() of a connection to dsn) to out with every
 *  occurrence of a password of dsn replaced by SHOP_REDACTED: as written in the
 *  DSN, unquoted and unescaped, and percent-decoded. dsn may be NULL. */
size_t shop_redact_text(const char *text, const char *dsn, char *out, size_t n);

/** Copies text to out with every occurrence of secret (if not NULL or empty)
 *  replaced by SHOP_REDACTED; for error messages that may echo a value. */
size_t shop_redact_value(const char *text, const char *secret, char *out, size_t n);

/** True for Kafka client properties whose values are secrets: every name holding
 *  "password" or "secret", ssl.key.pem, sasl.oauthbearer.config, sasl.jaas.config. */
bool shop_redact_kafka_is_secret(const char *name);

#endif
