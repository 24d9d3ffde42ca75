/* Tests for model/jsonout: the text is byte for byte what json_dumps(v,
 * JSON_COMPACT) writes, for objects of every shape (escapes, UTF-8, numbers,
 * nesting, key order), and invalid UTF-8 is refused as jansson refuses it;
 * text put together with the writer (jsonout_raw/key/value) likewise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"
#include "base/strbuf.h"
#include "model/jsonout.h"

static void same(json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = 0;
    char *got = jsonout_dumps(v, &len);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(want);
    free(got);
}

static void test_shapes(void **state)
{
    (void)state;
    const char *texts[] = {
        "{}", "[]", "{\"a\":{},\"b\":[],\"c\":null,\"d\":true,\"e\":false}",
        "{\"z\":1,\"a\":2,\"m\":[1,-2,9223372036854775807,-9223372036854775808]}",
        "[1.5,0.1,1e300,-2.5e-7,123456789.0,0.0]",
        "{\"s\":\"a\\u0001\\u001f\\u007f/\\\"\\\\\\b\\f\\n\\r\\t\\u00e9\\u2028\\ud83d\\ude00\"}",
        "{\"k\\\"ey\\n\":\"v\",\"\\u00fc\":[{\"x\":[[]]}]}", "\"just a string\"", "42", "null",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *v = json_loads(texts[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        same(v);
        json_decref(v);
    }
    /* a string with a NUL inside */
    json_t *n = json_stringn("a\0b", 3);
    same(n);
    json_decref(n);
}

static void test_random(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 7);
    for (int round = 0; round < 2000; round++) {
        json_t *o = json_object();
        int n = (int)rng_below(&r, 8);
        for (int i = 0; i < n; i++) {
            char k[16], s[24];
            snprintf(k, sizeof k, "k%d", (int)rng_below(&r, 1000));
            size_t sl = rng_below(&r, sizeof s - 1);
            for (size_t j = 0; j < sl; j++)
                s[j] = (char)(1 + rng_below(&r, 127)); /* ASCII, control bytes included */
            s[sl] = '\0';
            switch (rng_below(&r, 4)) {
            case 0: json_object_set_new(o, k, json_string(s)); break;
            case 1: json_object_set_new(o, k, json_integer((json_int_t)rng_next(&r))); break;
            case 2: json_object_set_new(o, k, json_pack("[s,b,n]", s, (int)rng_below(&r, 2))); break;
            default: json_object_set_new(o, k, json_pack("{s:{s:i}}", s, k, round)); break;
            }
        }
        same(o);
        json_decref(o);
    }
}

/* Strings of random bytes (valid and invalid UTF-8, long runs, escapes at
 * every position): jsonout and json_dumps agree on refusing or on the text, and
 * jsonout_add_string appends that text (or fails and leaves the buffer). */
static void test_random_bytes(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 9);
    static const char *const pieces[] = {"a",  "bcdefghij", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "\"", "\\", "\n", "\x01", "\x7f",
                                         "\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82"};
    for (int round = 0; round < 20000; round++) {
        char buf[600];
        size_t n = 0;
        for (int k = (int)rng_below(&r, round % 7 ? 24 : 400); k > 0; k--) {
            const char *p = pieces[rng_below(&r, round % 3 ? 10 : 14)];
            size_t l = strlen(p);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        json_t *v = json_stringn_nocheck(buf, n);
        char *a = jsonout_dumps(v, NULL), *b = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            fail_msg("round %d: jsonout %s, json_dumps %s", round, a ? a : "(refused)",
                     b ? b : "(refused)");
        struct strbuf sb;
        strbuf_init(&sb, 1 << 20);
        strbuf_addstr(&sb, "x:");
        int rc = jsonout_add_string(&sb, buf, n);
        if (b ? rc != 0 || strncmp(sb.buf, "x:", 2) || strcmp(sb.buf + 2, b)
              : rc != -1 || strcmp(sb.buf, "x:"))
            fail_msg("round %d: jsonout_add_string %d %s", round, rc, sb.buf);
        strbuf_release(&sb);
        free(a);
        free(b);
        json_decref(v);
    }
}

static void test_bad_utf8(void **state)
{
    (void)state;
    const char *bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_stringn_nocheck(bad[i], strlen(bad[i]));
        assert_null(jsonout_dumps(s, NULL));
        assert_null(json_dumps(s, JSON_ENCODE_ANY));
        json_decref(s);
    }
}

/* The writer: pieces of trees and raw text in an order of the caller's make
 * the same text as the tree they describe; a bad value or key fails it. */
static void test_writer(void **state)
{
    (void)state;
    json_t *meta = json_loads("{\"name\":\"p\u00e9\",\"labels\":{\"a\":\"1\"},\"n\":[1,2]}",
                              0, NULL);
    json_t *spec = json_loads("{\"x\":\"q\\\"uote\"}", 0, NULL);
    struct jsonout o = {0};
    jsonout_raw(&o, "{", 1);
    jsonout_key(&o, "spec");
    jsonout_value(&o, spec);
    jsonout_raw(&o, ",", 1);
    jsonout_key(&o, "meta\n\"data");
    jsonout_value(&o, meta);
    jsonout_raw(&o, "}", 1);
    size_t len;
    char *got = jsonout_finish(&o, &len);
    json_t *whole = json_pack("{s:O,s:O}", "spec", spec, "meta\n\"data", meta);
    char *want = json_dumps(whole, JSON_COMPACT);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
    free(want);
    json_decref(whole);
    /* Long enough to grow the buffer many times. */
    struct jsonout big = {0};
    json_t *arr = json_array();
    jsonout_raw(&big, "[", 1);
    for (int i = 0; i < 5000; i++) {
        if (i)
            jsonout_raw(&big, ",", 1);
        jsonout_value(&big, meta);
        json_array_append(arr, meta);
    }
    jsonout_raw(&big, "]", 1);
    got = jsonout_finish(&big, NULL);
    want = json_dumps(arr, JSON_COMPACT);
    assert_string_equal(got, want);
    free(got);
    free(want);
    json_decref(arr);
    /* A value that is not UTF-8, or a key that is not: no text. */
    for (int bad_key = 0; bad_key < 2; bad_key++) {
        struct jsonout f = {0};
        jsonout_raw(&f, "{", 1);
        json_t *s = json_stringn_nocheck("\xff", 1);
        jsonout_key(&f, bad_key ? "\xc0\x80" : "k");
        jsonout_value(&f, bad_key ? spec : s);
        jsonout_raw(&f, "}", 1);
        assert_null(jsonout_finish(&f, NULL));
        json_decref(s);
    }
    json_decref(meta);
    json_decref(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
