/* SPDX-License-Identifier: MIT
 * shop_redact: every way libpq lets a DSN carry a password (keyword/value with
 * spaces, quotes, escapes, a nested dbname; URIs with user info, percent
 * encoding, query parameters), libpq messages that echo them, Kafka secrets. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "base/shop_redact.h"

static void expect_dsn(const char *dsn, const char *want)
{
    char out[512];
    size_t n = shop_redact_dsn(dsn, out, sizeof(out));
    cr_assert(eq(str, out, (char *)want), "redact(%s) = %s, want %s", dsn, out, want);
    cr_assert(eq(sz, n, strlen(want)));
}

Test(redact_dsn, keyword_form)
{
    expect_dsn("host=h password=s3cret user=u", "host=h password=*** user=u");
    expect_dsn("password=s3cret", "password=***");
    expect_dsn("host=h user=u dbname=d", "host=h user=u dbname=d");
    expect_dsn("", "");
}

Test(redact_dsn, spaces_around_the_equals_sign)
{
    expect_dsn("host=h password = s3cret user=u", "host=h password = *** user=u");
    expect_dsn("host=h\tpassword\t=\ts3cret", "host=h\tpassword\t=\t***");
    /* libpq takes the next word after "= " as the value, even "host=h". */
    expect_dsn("password= host=h", "password= ***");
}

Test(redact_dsn, quoted_values_and_backslash_escapes)
{
    expect_dsn("password='a b c' host=h", "password=*** host=h");
    expect_dsn("password='it\\'s a \\\\ secret' dbname=x", "password=*** dbname=x");
    expect_dsn("password=pa\\ ss host=h", "password=*** host=h");
    expect_dsn("password='' host=h", "password=*** host=h");
    /* an unterminated quote runs to the end in libpq: all of it is the value */
    expect_dsn("host=h password='abc def user=u", "host=h password=***");
}

Test(redact_dsn, passwords_with_at_signs_and_colons)
{
    expect_dsn("user=u password=p@ss:w0rd host=h", "user=u password=*** host=h");
    expect_dsn("password='p@ss w:rd'", "password=***");
}

Test(redact_dsn, sslpassword_and_any_case)
{
    expect_dsn("sslkey=k.pem sslpassword=keypass", "sslkey=k.pem sslpassword=***");
    expect_dsn("PASSWORD=s3cret", "PASSWORD=***");
}

Test(redact_dsn, a_password_without_equals_sign_is_masked_anyway)
{
    /* libpq refuses it ("missing =") but the word after it was meant as the value */
    expect_dsn("host=h password s3cret", "host=h password ***");
    expect_dsn("host=h password", "host=h password");
}

Test(redact_dsn, a_dbname_that_is_a_connection_string)
{
    expect_dsn("dbname='host=h password=s3cret' user=u", "dbname='host=h password=***' user=u");
    expect_dsn("dbname='host=h password=\\'a b\\'' user=u", "dbname='host=h password=***' user=u");
    expect_dsn("dbname=postgresql://u:s3cret@h/db", "dbname=postgresql://u:***@h/db");
    expect_dsn("dbname=shop", "dbname=shop");
}

Test(redact_dsn, uri_user_info)
{
    expect_dsn("postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db");
    expect_dsn("postgres://u:s3cret@h/db", "postgres://u:***@h/db");
    expect_dsn("POSTGRESQL://u:s3cret@h/db", "POSTGRESQL://u:***@h/db");
    expect_dsn("postgresql://u:s3cret@h1:5432,h2:5433/db", "postgresql://u:***@h1:5432,h2:5433/db");
    expect_dsn("postgresql://u@h:5432/db", "postgresql://u@h:5432/db");
    expect_dsn("postgresql://h/db", "postgresql://h/db");
    expect_dsn("postgresql://", "postgresql://");
}

Test(redact_dsn, uri_percent_encoded_and_raw_specials)
{
    expect_dsn("postgresql://u:p%40ss%3Aw@h/db", "postgresql://u:***@h/db");
    /* unencoded '@', ':', '/' or '?' in the password: masked up to the last '@' */
    expect_dsn("postgresql://u:p@ss:w@h/db", "postgresql://u:***@h/db");
    expect_dsn("postgresql://u:p/s?s@h/db", "postgresql://u:***@h/db");
}

Test(redact_dsn, uri_query_parameters)
{
    expect_dsn("postgresql://u@h/db?sslmode=require&password=s3cret&application_name=x",
               "postgresql://u@h/db?sslmode=require&password=***&application_name=x");
    expect_dsn("postgresql://h/db?password=s3cret", "postgresql://h/db?password=***");
    expect_dsn("postgresql:///db?host=/run/pg&pass%77ord=s3cret", "postgresql:///db?host=/run/pg&pass%77ord=***");
    expect_dsn("postgresql://h/db?sslpassword=k", "postgresql://h/db?sslpassword=***");
    /* an unencoded '&' inside the value does not end it unless a parameter follows */
    expect_dsn("postgresql://h/db?password=a&b&sslmode=require", "postgresql://h/db?password=***&sslmode=require");
    expect_dsn("postgresql://u:pw@h/db?password=x", "postgresql://u:***@h/db?password=***");
}

Test(redact_dsn, truncates_and_reports_the_full_length)
{
    char out[8];
    size_t n = shop_redact_dsn("host=h password=s3cret", out, sizeof(out));
    cr_assert(eq(str, out, "host=h "));
    cr_assert(eq(sz, n, strlen("host=h password=***")));
}

static void expect_text(const char *text, const char *dsn, const char *want)
{
    char out[512];
    shop_redact_text(text, dsn, out, sizeof(out));
    cr_assert(eq(str, out, (char *)want), "redact_text(%s, %s) = %s", text, dsn, out);
}

Test(redact_text, libpq_messages_that_echo_the_conninfo)
{
    expect_text("missing \"=\" after \"s3cret\" in connection info string", "host=h password s3cret",
                "missing \"=\" after \"***\" in connection info string");
    expect_text("invalid percent-encoded token: \"p%zzw\"", "postgresql://u:p%zzw@h/db",
                "invalid percent-encoded token: \"***\"");
    expect_text("got p@ss:w here", "postgresql://u:p%40ss%3Aw@h/db", "got *** here");
    expect_text("value 'a b' and a b", "password='a b'", "value *** and ***");
    expect_text("x it's y", "password='it\\'s'", "x *** y");
    expect_text("in: a b", "dbname='host=h password=\\'a b\\''", "in: ***");
}

Test(redact_text, leaves_other_text_alone)
{
    expect_text("FATAL: password authentication failed for user \"u\"", "host=h password=s3cret user=u",
                "FATAL: password authentication failed for user \"u\"");
    expect_text("no dsn", NULL, "no dsn");
    expect_text("s3cret", "host=h", "s3cret");
}

Test(redact_value, masks_every_occurrence)
{
    char out[64];
    shop_redact_value("bad pw: pw!", "pw", out, sizeof(out));
    cr_assert(eq(str, out, "bad ***: ***!"));
    shop_redact_value("as is", NULL, out, sizeof(out));
    cr_assert(eq(str, out, "as is"));
}

Test(redact_kafka, secret_property_names)
{
    const char *secret[] = {"sasl.password", "ssl.key.password", "ssl.keystore.password",
                            "sasl.oauthbearer.client.secret", "ssl.key.pem", "sasl.oauthbearer.config",
                            "sasl.jaas.config", "SASL.PASSWORD"};
    const char *plain[] = {"security.protocol", "sasl.mechanism", "sasl.username", "ssl.ca.location",
                           "client.id", "ssl.certificate.location"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        cr_assert(shop_redact_kafka_is_secret(secret[i]), "%s", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        cr_assert(not(shop_redact_kafka_is_secret(plain[i])), "%s", plain[i]);
}
