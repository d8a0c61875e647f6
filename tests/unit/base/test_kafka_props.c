/* SPDX-License-Identifier: MIT
 * shop_kafka_props: the SHOPSTREAM_KAFKA_PROPERTIES list (separators, escapes,
 * trimming), Java .properties files, every error listed without values, the
 * refusal of product-owned names, the redacted description. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "base/shop_err.h"
#include "base/shop_kafka_props.h"

static struct shop_kafka_props props;

static void expect(const char *name, const char *value)
{
    const char *got = shop_kafka_props_get(&props, name);
    cr_assert(not(eq(ptr, (void *)got, NULL)), "%s missing", name);
    cr_assert(eq(str, (char *)got, (char *)value), "%s = [%s], want [%s]", name, got, value);
}

static bool any_error_has(const struct shop_cfg_errs *errs, const char *s)
{
    for (int i = 0; i < errs->count; i++) {
        if (strstr(errs->msg[i], s) != NULL)
            return true;
    }
    return false;
}

Test(kafka_props, list_entries_with_spaces_and_escapes)
{
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    int rc = shop_kafka_props_parse_list(
        &props,
        "security.protocol=SASL_SSL;sasl.mechanism=SCRAM-SHA-512; sasl.username = u ;"
        "sasl.password=p\\;w\\=x\\\\y;ssl.ca.location=/etc/ca=1.pem;client.id=\\ padded\\ ;;\n"
        "linger.ms=5\n;",
        "SHOPSTREAM_KAFKA_PROPERTIES", &errs);
    cr_assert(eq(int, rc, 0), "%s", errs.msg[0]);
    cr_assert(eq(int, errs.count, 0));
    cr_assert(eq(int, props.n, 7));
    expect("security.protocol", "SASL_SSL");
    expect("sasl.mechanism", "SCRAM-SHA-512");
    expect("sasl.username", "u");
    expect("sasl.password", "p;w=x\\y");
    expect("ssl.ca.location", "/etc/ca=1.pem");
    expect("client.id", " padded ");
    expect("linger.ms", "5");
    cr_assert(eq(str, (char *)props.p[0].origin, "SHOPSTREAM_KAFKA_PROPERTIES"));
}

Test(kafka_props, empty_list_and_empty_value)
{
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_parse_list(&props, "", "V", &errs), 0));
    cr_assert(eq(int, shop_kafka_props_parse_list(&props, " ; ;", "V", &errs), 0));
    cr_assert(eq(int, props.n, 0));
    cr_assert(eq(int, shop_kafka_props_parse_list(&props, "sasl.username=", "V", &errs), 0));
    expect("sasl.username", "");
}

Test(kafka_props, every_list_error_is_listed_without_values)
{
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    int rc = shop_kafka_props_parse_list(&props,
                                         "novalue;bad name!=x;=nameless;sasl.password=s3cret;"
                                         "sasl.password=s3cret;ok.one=1;tail=x\\",
                                         "SHOPSTREAM_KAFKA_PROPERTIES", &errs);
    cr_assert(eq(int, rc, SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 5));
    cr_assert(any_error_has(&errs, "entry 1: no '='"));
    cr_assert(any_error_has(&errs, "\"bad name!\" is not a property name"));
    cr_assert(any_error_has(&errs, "entry 3"));
    cr_assert(any_error_has(&errs, "sasl.password is given twice"));
    cr_assert(any_error_has(&errs, "entry 7: a backslash ends"));
    for (int i = 0; i < errs.count; i++)
        cr_assert(eq(ptr, strstr(errs.msg[i], "s3cret"), NULL), "%s", errs.msg[i]);
    expect("ok.one", "1");
}

Test(kafka_props, java_properties_file)
{
    static const char file[] =
        "# a comment\n"
        "! another\n"
        "   \n"
        "security.protocol = SASL_SSL\r\n"
        "sasl.mechanism:SCRAM-SHA-256\n"
        "sasl.username u\n"
        "sasl.password=multi\\\n"
        "    line\\\\\n"
        "ssl.ca.location=/etc/ca\\u0041\\t.pem\n"
        "# comment \\\n"
        "client.id=kept trailing  \n"
        "empty.value=\n";
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    int rc = shop_kafka_props_parse_file(&props, file, sizeof(file) - 1, "F", &errs);
    cr_assert(eq(int, rc, 0), "%s", errs.msg[0]);
    cr_assert(eq(int, props.n, 7));
    expect("security.protocol", "SASL_SSL");
    expect("sasl.mechanism", "SCRAM-SHA-256");
    expect("sasl.username", "u");
    expect("sasl.password", "multiline\\");
    expect("ssl.ca.location", "/etc/caA\t.pem");
    expect("client.id", "kept trailing  ");
    expect("empty.value", "");
}

Test(kafka_props, file_errors_and_duplicates_across_file_and_list)
{
    static const char file[] = "ok=1\nbad\\uZZ=1\nsasl.username=u\n";
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_parse_file(&props, file, sizeof(file) - 1, "F", &errs), SHOP_ECONFIG));
    cr_assert(any_error_has(&errs, "entry 2: malformed"));
    cr_assert(eq(int, shop_kafka_props_parse_list(&props, "sasl.username=v", "V", &errs), SHOP_ECONFIG));
    cr_assert(any_error_has(&errs, "V: kafka property sasl.username is given twice (also in F)"));
}

Test(kafka_props, refuses_owned_names_in_any_case)
{
    static const struct shop_kafka_owned owned[] = {
        {"acks", "acks=all"}, {"enable.idempotence", "idempotent"}, {NULL, NULL}};
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    shop_kafka_props_parse_list(&props, "ACKS=0;enable.idempotence=false;linger.ms=1", "V", &errs);
    cr_assert(eq(int, errs.count, 0));
    cr_assert(eq(int, shop_kafka_props_refuse(&props, owned, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 2));
    cr_assert(any_error_has(&errs, "ACKS is set by shopstream and cannot be overridden: acks=all"));
    cr_assert(any_error_has(&errs, "enable.idempotence is set by shopstream"));
}

Test(kafka_props, describe_redacts_secrets_and_escapes)
{
    shop_kafka_props_init(&props);
    char buf[256];
    shop_kafka_props_describe(&props, buf, sizeof(buf));
    cr_assert(eq(str, buf, "(none)"));
    struct shop_cfg_errs errs = {0};
    shop_kafka_props_parse_list(&props,
                                "security.protocol=SASL_SSL;sasl.password=s3cret;"
                                "sasl.oauthbearer.client.secret=c1;client.id=a\"b",
                                "V", &errs);
    shop_kafka_props_describe(&props, buf, sizeof(buf));
    cr_assert(eq(str, buf,
                 "security.protocol=SASL_SSL,sasl.password=***,sasl.oauthbearer.client.secret=***,"
                 "client.id=a\\\"b"));
    char small[10];
    cr_assert(eq(sz, shop_kafka_props_describe(&props, small, sizeof(small)), 9));
    cr_assert(eq(str, small, "security."));
    /* an inline PEM (newlines escaped in the list form) is described by its size */
    shop_kafka_props_init(&props);
    shop_kafka_props_parse_list(&props, "ssl.ca.pem=-----BEGIN CERTIFICATE-----\\\nMIIB\\\n-----END CERTIFICATE-----",
                                "V", &errs);
    cr_assert(eq(int, errs.count, 0));
    shop_kafka_props_describe(&props, buf, sizeof(buf));
    cr_assert(eq(str, buf, "ssl.ca.pem=(58 bytes)"));
}

Test(kafka_props, bounded_count)
{
    shop_kafka_props_init(&props);
    struct shop_cfg_errs errs = {0};
    char list[SHOP_KAFKA_PROPS_MAX * 16 + 64] = "";
    for (int i = 0; i <= SHOP_KAFKA_PROPS_MAX; i++) {
        char e[16];
        snprintf(e, sizeof(e), "p%d=1;", i);
        strcat(list, e);
    }
    cr_assert(eq(int, shop_kafka_props_parse_list(&props, list, "V", &errs), SHOP_ECONFIG));
    cr_assert(eq(int, props.n, SHOP_KAFKA_PROPS_MAX));
    cr_assert(any_error_has(&errs, "more than 64"));
}
