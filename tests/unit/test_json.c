/* The launcher's JSON writer (amp_json_*): nesting and commas, both
 * layouts, string escaping (control characters, quotes, UTF-8 kept,
 * invalid bytes replaced), hiding a secret, and every misuse or failed
 * write reported by amp_json_finish(). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* ---- helpers ---------------------------------------------------------- */

struct doc {
    struct amp_json j;
    FILE *f;
    char *text;
    size_t len;
};

static void doc_open(struct doc *d, int indent)
{
    d->text = NULL;
    d->len = 0;
    d->f = open_memstream(&d->text, &d->len);
    assert_non_null(d->f);
    amp_json_init(&d->j, d->f, indent);
}

/* Finishes d: its amp_json_finish() must say want_rc, and the text be want
 * (when not NULL). */
static void doc_close(struct doc *d, int want_rc, const char *want)
{
    int rc = amp_json_finish(&d->j);

    fclose(d->f);
    if (want)
        assert_string_equal(d->text, want);
    assert_int_equal(rc, want_rc);
    free(d->text);
}

/* One string value at the top: the document must read want + "\n". */
static void string_reads(const char *in, size_t len, const char *want)
{
    struct doc d;
    char *line = NULL;

    doc_open(&d, 0);
    amp_json_strn(&d.j, NULL, in, len);
    assert_true(asprintf(&line, "%s\n", want) > 0);
    doc_close(&d, 0, line);
    free(line);
}

#define EXPECT(lit, want) string_reads(lit, sizeof(lit) - 1, want)

/* ---- tests ------------------------------------------------------------- */

static void compact_nesting_and_commas(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 0);
    amp_json_object(&d.j, NULL);
    amp_json_int(&d.j, "version", 1);
    amp_json_int(&d.j, "neg", -9223372036854775807LL - 1);
    amp_json_array(&d.j, "list");
    amp_json_bool(&d.j, NULL, 1);
    amp_json_bool(&d.j, NULL, 0);
    amp_json_null(&d.j, NULL);
    amp_json_str(&d.j, NULL, NULL);
    amp_json_str(&d.j, NULL, "x");
    amp_json_object(&d.j, NULL);
    amp_json_end(&d.j);
    amp_json_array(&d.j, NULL);
    amp_json_end(&d.j);
    amp_json_end(&d.j);
    amp_json_object(&d.j, "empty");
    amp_json_end(&d.j);
    amp_json_end(&d.j);
    doc_close(&d, 0,
              "{\"version\":1,\"neg\":-9223372036854775808,\"list\":[true,false,null,null,\"x\",{},[]],"
              "\"empty\":{}}\n");
}

static void indented_layout(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 2);
    amp_json_object(&d.j, NULL);
    amp_json_int(&d.j, "version", 1);
    amp_json_array(&d.j, "routes");
    amp_json_object(&d.j, NULL);
    amp_json_str(&d.j, "base_url", "https://slack.com/api");
    amp_json_end(&d.j);
    amp_json_end(&d.j);
    amp_json_array(&d.j, "notes");
    amp_json_end(&d.j);
    amp_json_end(&d.j);
    doc_close(&d, 0,
              "{\n"
              "  \"version\": 1,\n"
              "  \"routes\": [\n"
              "    {\n"
              "      \"base_url\": \"https://slack.com/api\"\n"
              "    }\n"
              "  ],\n"
              "  \"notes\": []\n"
              "}\n");
}

static void scalar_at_the_top(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 2);
    amp_json_int(&d.j, NULL, 42);
    doc_close(&d, 0, "42\n");
}

static void quotes_backslashes_and_controls_escaped(void **state)
{
    (void)state;
    EXPECT("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    EXPECT("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    EXPECT("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    EXPECT("nul\0byte", "\"nul\\u0000byte\"");
    EXPECT("", "\"\"");
    EXPECT("https://acme.my.salesforce.com/q?a=\"1\"&b=\\", "\"https://acme.my.salesforce.com/q?a=\\\"1\\\"&b=\\\\\"");
}

static void valid_utf8_passes_through(void **state)
{
    (void)state;
    EXPECT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf",
           "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf\"");
    /* Line and paragraph separators: valid JSON, not valid JavaScript. */
    EXPECT("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
}

static void invalid_utf8_replaced_byte_by_byte(void **state)
{
    (void)state;
    EXPECT("\xff", "\"\\ufffd\"");
    EXPECT("a\x80z", "\"a\\ufffdz\"");                     /* a lone continuation byte */
    EXPECT("\xc0\xaf", "\"\\ufffd\\ufffd\"");              /* overlong '/' */
    EXPECT("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");   /* overlong, 3 bytes */
    EXPECT("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");   /* a UTF-16 surrogate */
    EXPECT("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
    EXPECT("\xe2\x82", "\"\\ufffd\\ufffd\"");              /* cut short at the end */
    EXPECT("\xe2\x82x", "\"\\ufffd\\ufffdx\"");            /* cut short by ASCII */
    EXPECT("\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\"");
}

static void keys_escaped_too(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 0);
    amp_json_object(&d.j, NULL);
    amp_json_int(&d.j, "a\"b\n", 1);
    amp_json_end(&d.j);
    doc_close(&d, 0, "{\"a\\\"b\\n\":1}\n");
}

static void secret_hidden_everywhere(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 0);
    amp_json_hide(&d.j, "s3cr3t-key-abcd", "****abcd");
    amp_json_object(&d.j, NULL);
    amp_json_str(&d.j, "url", "https://x/?k=s3cr3t-key-abcd&k2=s3cr3t-key-abcds3cr3t-key-abcd");
    amp_json_str(&d.j, "s3cr3t-key-abcd", "\"s3cr3t-key-abcd\"");
    amp_json_strn(&d.j, "cut", "s3cr3t-key-abcd", 6); /* a part of it is not it */
    amp_json_end(&d.j);
    doc_close(&d, 0,
              "{\"url\":\"https://x/?k=****abcd&k2=****abcd****abcd\",\"****abcd\":\"\\\"****abcd\\\"\","
              "\"cut\":\"s3cr3t\"}\n");
    /* No secret: nothing hidden. */
    doc_open(&d, 0);
    amp_json_hide(&d.j, "", "****");
    amp_json_str(&d.j, NULL, "plain");
    doc_close(&d, 0, "\"plain\"\n");
}

static void misuse_reported(void **state)
{
    struct doc d;
    (void)state;

    doc_open(&d, 0); /* a key inside an array */
    amp_json_array(&d.j, NULL);
    amp_json_int(&d.j, "k", 1);
    amp_json_end(&d.j);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* no key inside an object */
    amp_json_object(&d.j, NULL);
    amp_json_int(&d.j, NULL, 1);
    amp_json_end(&d.j);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* a key at the top */
    amp_json_int(&d.j, "k", 1);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* two documents */
    amp_json_int(&d.j, NULL, 1);
    amp_json_int(&d.j, NULL, 2);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* left open */
    amp_json_object(&d.j, NULL);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* nothing written */
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* closed once too often */
    amp_json_array(&d.j, NULL);
    amp_json_end(&d.j);
    amp_json_end(&d.j);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* too deep */
    for (int i = 0; i <= AMP_JSON_MAX_DEPTH; i++)
        amp_json_array(&d.j, NULL);
    for (int i = 0; i <= AMP_JSON_MAX_DEPTH; i++)
        amp_json_end(&d.j);
    doc_close(&d, -1, NULL);
    doc_open(&d, 0); /* as deep as it goes is fine */
    for (int i = 0; i < AMP_JSON_MAX_DEPTH; i++)
        amp_json_array(&d.j, NULL);
    for (int i = 0; i < AMP_JSON_MAX_DEPTH; i++)
        amp_json_end(&d.j);
    doc_close(&d, 0, NULL);
}

static void failed_write_reported(void **state)
{
    struct amp_json j;
    FILE *f = fopen("/dev/full", "w");
    (void)state;

    if (!f)
        skip();
    amp_json_init(&j, f, 2);
    amp_json_object(&j, NULL);
    amp_json_int(&j, "version", 1);
    amp_json_end(&j);
    assert_int_equal(amp_json_finish(&j), -1);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compact_nesting_and_commas),
        cmocka_unit_test(indented_layout),
        cmocka_unit_test(scalar_at_the_top),
        cmocka_unit_test(quotes_backslashes_and_controls_escaped),
        cmocka_unit_test(valid_utf8_passes_through),
        cmocka_unit_test(invalid_utf8_replaced_byte_by_byte),
        cmocka_unit_test(keys_escaped_too),
        cmocka_unit_test(secret_hidden_everywhere),
        cmocka_unit_test(misuse_reported),
        cmocka_unit_test(failed_write_reported),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
