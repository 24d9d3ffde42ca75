/* Tests for model/jsonin: on every text it gives what json_loadb gives (the same
 * tree, keys in the same order, or NULL with jansson's own error), checked on
 * hand-picked texts and on random documents written with random spacing and
 * escapes, then mutated (bytes changed, inserted, cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"
#include "model/jsonin.h"

static void same(const char *s, size_t n, size_t flags)
{
    json_error_t a, b;
    json_t *want = json_loadb(s, n, flags, &a);
    json_t *got = jsonin_loadb(s, n, flags, &b);
    if (!want || !got) {
        if (want || got)
            fail_msg("text %.*s: jansson %s, jsonin %s", (int)(n > 200 ? 200 : n), s,
                     want ? "parses" : "refuses", got ? "parses" : "refuses");
        assert_string_equal(a.text, b.text);
        assert_int_equal(a.line, b.line);
        assert_int_equal(a.column, b.column);
        return;
    }
    char *dw = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
    char *dg = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    if (strcmp(dw, dg))
        fail_msg("text %.*s: jansson %s, jsonin %s", (int)(n > 200 ? 200 : n), s, dw, dg);
    assert_true(json_equal(want, got));
    free(dw);
    free(dg);
    json_decref(want);
    json_decref(got);
}

static void same_str(const char *s)
{
    same(s, strlen(s), 0);
    same(s, strlen(s), JSON_REJECT_DUPLICATES);
}

static void test_texts(void **state)
{
    (void)state;
    const char *t[] = {
        "{}", "[]", " { } ", "{\"a\":1}", "[1,2,3]", "{\"a\":{\"b\":[true,false,null]}}",
        "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\"}",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\r\\t\"}", "[-0, 0, 12, -12, 9223372036854775807]",
        "[9223372036854775808]", "[-9223372036854775809]", "[1.5, -0.0, 1e10, 1E-3, 2.5e+3]",
        "[1e999]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[+1]", "[tru]", "[nul]",
        "{\"a\":}", "{\"a\" 1}", "{a:1}", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\":1} x",
        "{\"a\":1}\n", "\"top\"", "12", "null", "", "   ", "{", "[", "{\"a\":\"\\u0000\"}",
        "{\"\\u0000\":1}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\xc3\x28\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf0\x9f\x98\x80\"}", "[\"\\\\\"]",
        "[\"a\\\\\\\"b\"]", "{\"k\\\"q\":\"v\"}", "[[[[[[[[[[]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        same_str(t[i]);
    /* a NUL byte in the text */
    same("{\"a\":\"x\0y\"}", 11, 0);
    same("{\"a\":1}\0", 8, 0);
    /* depth around the limits */
    char deep[6000];
    for (int d = 1990; d <= 2060; d += 10) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        same(deep, 2 * (size_t)d, 0);
    }
}

/* A random document, written with random spacing and escapes. */
static void gen(struct rng *r, char *buf, size_t *o, size_t cap, int depth)
{
#define PUT(c) \
    do { \
        if (*o < cap) \
            buf[(*o)++] = (c); \
    } while (0)
    static const char *const ws[] = {"", "", "", " ", "\n", "\t ", "\r\n"};
    for (const char *w = ws[rng_below(r, 7)]; *w; w++)
        PUT(*w);
    unsigned kind = depth > 4 ? 2 + (unsigned)rng_below(r, 4) : (unsigned)rng_below(r, 6);
    switch (kind) {
    case 0: {
        PUT('{');
        int n = (int)rng_below(r, 5);
        for (int i = 0; i < n; i++) {
            if (i)
                PUT(',');
            char key[8];
            snprintf(key, sizeof key, "\"k%d\"", (int)rng_below(r, 4)); /* duplicates happen */
            for (char *k = key; *k; k++)
                PUT(*k);
            PUT(':');
            gen(r, buf, o, cap, depth + 1);
        }
        PUT('}');
        break;
    }
    case 1: {
        PUT('[');
        int n = (int)rng_below(r, 5);
        for (int i = 0; i < n; i++) {
            if (i)
                PUT(',');
            gen(r, buf, o, cap, depth + 1);
        }
        PUT(']');
        break;
    }
    case 2: {
        static const char *const pieces[] = {"a", "Z", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9",
                                             "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", " ",
                                             "\\t", "\\u0041", "}", "]", ",", ":"};
        PUT('"');
        int n = (int)rng_below(r, 6);
        for (int i = 0; i < n; i++)
            for (const char *c = pieces[rng_below(r, 17)]; *c; c++)
                PUT(*c);
        PUT('"');
        break;
    }
    case 3: {
        static const char *const nums[] = {"0", "-1", "42", "123456789012", "-0", "3.25",
                                           "1e3", "-2.5E-2", "7"};
        for (const char *c = nums[rng_below(r, 9)]; *c; c++)
            PUT(*c);
        break;
    }
    default: {
        static const char *const lits[] = {"true", "false", "null"};
        for (const char *c = lits[rng_below(r, 3)]; *c; c++)
            PUT(*c);
    }
    }
    for (const char *w = ws[rng_below(r, 7)]; *w; w++)
        PUT(*w);
#undef PUT
}

static void test_random(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 42);
    char buf[8192], mut[8192];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        buf[n++] = rng_below(&r, 2) ? '{' : '[';
        bool obj = buf[0] == '{';
        int members = (int)rng_below(&r, 4);
        for (int i = 0; i < members; i++) {
            if (i)
                buf[n++] = ',';
            if (obj) {
                n += (size_t)snprintf(buf + n, sizeof buf - n, "\"m%d\":", (int)rng_below(&r, 3));
            }
            gen(&r, buf, &n, sizeof buf - 2, 1);
        }
        buf[n++] = obj ? '}' : ']';
        size_t flags = rng_below(&r, 2) ? JSON_REJECT_DUPLICATES : 0;
        same(buf, n, flags);
        /* mutations: a byte changed, one inserted, the text cut */
        memcpy(mut, buf, n);
        size_t at = rng_below(&r, n);
        static const char bytes[] = "\"\\{}[],:0e-.u \x01\xc3\x80tfn";
        mut[at] = bytes[rng_below(&r, sizeof bytes - 1)];
        same(mut, n, flags);
        memmove(mut + at + 1, buf + at, n - at);
        mut[at] = bytes[rng_below(&r, sizeof bytes - 1)];
        same(mut, n + 1, flags);
        same(buf, at, flags);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
