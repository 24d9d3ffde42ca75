/* Tests for base/jscan: members and paths found in the raw text, strings
 * unescaped, managedFields spans, and text that is not JSON refused; and, for
 * the API's watch filter built on it, that selectors read from the text agree
 * with selectors read from the parsed tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api_int.h"
#include "base/err.h"
#include "base/jscan.h"

static const char *path_str(const char *text, const char *const *keys, size_t n, char *buf,
                            size_t size)
{
    size_t vs, ve;
    if (!jscan_path(text, strlen(text), keys, n, &vs, &ve))
        return NULL;
    snprintf(buf, size, "%.*s", (int)(ve - vs), text + vs);
    return buf;
}

static void test_paths(void **state)
{
    (void)state;
    const char *t = "{\"a\":1,\"spec\":{\"x\":[1,{\"nodeName\":\"no\"}],\"nodeName\":\"n1\","
                    "\"b\":true},\"s\":\"a}b\\\"c\",\"z\":null}";
    char buf[64];
    const char *k1[] = {"spec", "nodeName"};
    assert_string_equal(path_str(t, k1, 2, buf, sizeof buf), "\"n1\"");
    const char *k2[] = {"a"};
    assert_string_equal(path_str(t, k2, 1, buf, sizeof buf), "1");
    const char *k3[] = {"spec", "b"};
    assert_string_equal(path_str(t, k3, 2, buf, sizeof buf), "true");
    const char *k4[] = {"s"};
    assert_string_equal(path_str(t, k4, 1, buf, sizeof buf), "\"a}b\\\"c\"");
    const char *k5[] = {"z"};
    assert_string_equal(path_str(t, k5, 1, buf, sizeof buf), "null");
    const char *k6[] = {"spec", "missing"};
    assert_null(path_str(t, k6, 2, buf, sizeof buf));
    const char *k7[] = {"a", "b"}; /* through a scalar */
    assert_null(path_str(t, k7, 2, buf, sizeof buf));
    const char *k8[] = {"nodeName"}; /* only at the top */
    assert_null(path_str(t, k8, 1, buf, sizeof buf));
    /* backslashes before quotes: even (the quote ends the string) and odd */
    const char *bs = "{\"a\":\"x\\\\\",\"b\":\"\\\\\\\"}\",\"c\":7}";
    const char *kc[] = {"c"};
    assert_string_equal(path_str(bs, kc, 1, buf, sizeof buf), "7");
    const char *kb[] = {"b"};
    assert_string_equal(path_str(bs, kb, 1, buf, sizeof buf), "\"\\\\\\\"}\"");
    /* spaces everywhere */
    const char *sp = " { \"spec\" : { \"nodeName\" : \"n2\" } } ";
    assert_string_equal(path_str(sp, k1, 2, buf, sizeof buf), "\"n2\"");
    /* truncated or not JSON: refused, nothing read past the end */
    assert_null(path_str("{\"spec\":{\"nodeName\":\"n", k1, 2, buf, sizeof buf));
    assert_null(path_str("{\"spec\"", k1, 2, buf, sizeof buf));
    assert_null(path_str("nope", k1, 2, buf, sizeof buf));
    assert_null(path_str("{}", k1, 2, buf, sizeof buf));
}

static void test_strings(void **state)
{
    (void)state;
    char buf[32];
    const char *s = "\"a\\n\\\"\\u00e9\\ud83d\\ude00\\/\"";
    assert_true(jscan_string(s, 0, strlen(s), buf, sizeof buf));
    assert_string_equal(buf, "a\n\"\xc3\xa9\xf0\x9f\x98\x80/");
    assert_false(jscan_string("12", 0, 2, buf, sizeof buf));
    assert_false(jscan_string("\"\\ud800\"", 0, 8, buf, sizeof buf)); /* lone surrogate */
    assert_false(jscan_string("\"\\q\"", 0, 4, buf, sizeof buf));
    assert_false(jscan_string("\"abcdef\"", 0, 8, buf, 4)); /* does not fit */
    assert_true(jscan_string("\"\"", 0, 2, buf, sizeof buf));
    assert_string_equal(buf, "");
}

static void test_managed(void **state)
{
    (void)state;
    const char *t = "{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"m\":\"]\"}],\"uid\":\"u\"}}";
    size_t from, to;
    assert_true(jscan_managed_fields(t, strlen(t), &from, &to));
    char out[128];
    snprintf(out, sizeof out, "%.*s%s", (int)from, t, t + to);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"}}");
    const char *f = "{\"metadata\":{\"managedFields\":[],\"name\":\"x\"}}";
    assert_true(jscan_managed_fields(f, strlen(f), &from, &to));
    snprintf(out, sizeof out, "%.*s%s", (int)from, f, f + to);
    assert_string_equal(out, "{\"metadata\":{\"name\":\"x\"}}");
    const char *none = "{\"metadata\":{\"name\":\"x\"},\"managedFields\":[]}";
    assert_false(jscan_managed_fields(none, strlen(none), &from, &to));
}

/* The watch filter (text) and the list filter (tree) agree. */
static void test_selectors_agree(void **state)
{
    (void)state;
    const char *objs[] = {
        "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\",\"labels\":{\"app\":\"a\",\"n\":\"1\"},"
        "\"managedFields\":[{\"f\":{\"spec\":1}}]},\"spec\":{\"nodeName\":\"n1\",\"hostNetwork\":true,"
        "\"priority\":5},\"status\":{\"phase\":\"Running\"}}",
        "{\"metadata\":{\"name\":\"p2\",\"labels\":{\"app\":\"b\",\"num\":3}},\"spec\":{},"
        "\"status\":{\"phase\":\"Pending\"}}",
        "{\"metadata\":{\"name\":\"e\\u0301\"},\"spec\":{\"nodeName\":\"\"}}",
    };
    const char *sels[][2] = {
        {"", "spec.nodeName=n1"},     {"", "spec.nodeName!="},       {"", "spec.nodeName="},
        {"app=a", ""},                {"app!=a", "status.phase!=Pending"}, {"app in (a,b)", ""},
        {"app notin (a)", ""},        {"num", ""},                   {"!num", ""},
        {"app", "spec.hostNetwork=true"}, {"", "spec.priority=5"},   {"", "metadata.name=e\xcc\x81"},
        {"", "metadata.namespace=ns,status.phase=Running"},
    };
    for (size_t s = 0; s < sizeof sels / sizeof sels[0]; s++) {
        struct api_selector ls, fs;
        struct err e;
        err_clear(&e);
        assert_int_equal(api__selector_parse(sels[s][0], false, &ls, &e), 0);
        assert_int_equal(api__selector_parse(sels[s][1], true, &fs, &e), 0);
        for (size_t o = 0; o < sizeof objs / sizeof objs[0]; o++) {
            json_t *tree = json_loads(objs[o], 0, NULL);
            assert_non_null(tree);
            bool want = api__selector_matches(&ls, false, tree) &&
                        api__selector_matches(&fs, true, tree);
            struct store_kv kv;
            memset(&kv, 0, sizeof kv);
            kv.value = objs[o];
            kv.value_len = strlen(objs[o]);
            if (api__selects(&ls, &fs, &kv) != want)
                fail_msg("selector '%s' / '%s' on object %zu: text says %d, tree says %d",
                         sels[s][0], sels[s][1], o, !want, want);
            json_decref(tree);
        }
        api__selector_release(&ls);
        api__selector_release(&fs);
    }
}

/* The scan as first written (one memchr per string), the reference for the
 * faster one on random texts. */
static size_t ref_value_end(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    int depth = 0;
    bool str = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (str) {
            const char *q = memchr(s + i, '"', n - i);
            if (!q)
                return n;
            size_t at = (size_t)(q - s), bs = 0;
            while (at - bs > i && s[at - bs - 1] == '\\')
                bs++;
            i = at;
            if (bs % 2)
                continue;
            str = false;
            if (depth == 0)
                return i + 1;
        } else if (ch == '"') {
            str = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return i;
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' ||
                                  ch == '\r' || ch == ':')) {
            return i;
        }
    }
    return n;
}

static void test_value_end_random(void **state)
{
    (void)state;
    static const char alpha[] = "\"\\{}[],: a1\"\"\\";
    char text[256];
    uint64_t x = 42;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + round % 200;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned r = (unsigned)(x >> 33);
            /* runs of plain bytes make long strings, which take the memchr path */
            text[i] = r % 4 == 0 ? alpha[(r >> 2) % (sizeof alpha - 1)] : 'x';
        }
        for (size_t i = 0; i < n; i++)
            if (jscan_value_end(text, n, i) != ref_value_end(text, n, i))
                fail_msg("round %d: at %zu of \"%.*s\": %zu, reference %zu", round, i, (int)n, text,
                         jscan_value_end(text, n, i), ref_value_end(text, n, i));
    }
}

/* Long values: texts of up to 700 bytes, mostly brackets and quotes with no
 * backslash (or one, somewhere), from starts near the beginning and at random,
 * against the reference; and a backslash just before a 64-byte boundary. */
static void test_value_end_blocks(void **state)
{
    (void)state;
    /* balanced, and tilted to opening (values that run deep, or to the end) */
    static const char *const alphas[] = {"\"{}[],: a1\"{}{}", "\"{}[],: a1\"{{[[{}"};
    char text[720];
    /* a backslash at byte 63 escapes the quote at byte 64 */
    memset(text, 'a', 200);
    memcpy(text, "{\"", 2);
    text[63] = '\\';
    memcpy(text + 64, "\"a\"}", 4);
    assert_int_equal(jscan_value_end(text, 200, 0), 68);
    assert_int_equal(ref_value_end(text, 200, 0), 68);
    uint64_t x = 7;
    for (int round = 0; round < 4000; round++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = 64 + (size_t)(x >> 33) % 640;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned r = (unsigned)(x >> 33);
            const char *a = alphas[round % 2];
            text[i] = r % 3 ? a[(r >> 2) % strlen(a)] : 'f';
        }
        text[0] = round % 4 < 2 ? '{' : '[';
        if (round % 5 == 0)
            text[(x >> 20) % n] = '\\';
        for (size_t k = 0; k < 40; k++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t i = k < 20 ? k : (size_t)(x >> 33) % n;
            if (jscan_value_end(text, n, i) != ref_value_end(text, n, i))
                fail_msg("round %d: at %zu of \"%.*s\": %zu, reference %zu", round, i, (int)n,
                         text, jscan_value_end(text, n, i), ref_value_end(text, n, i));
        }
    }
}

/* Random valid JSON (objects, arrays, strings with escaped quotes and
 * backslashes, as managed fields' k:{\"name\":...} keys have, brackets inside
 * strings), scanned from every byte, against the reference. */
static uint64_t gen_x = 99;
static unsigned gen_r(unsigned m)
{
    gen_x = gen_x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(gen_x >> 33) % m;
}

static void gen_str(char *t, size_t *n, size_t cap)
{
    static const char *const parts[] = {"f:", "\\\"", "\\\\", "name", "{", "]", "\\n", "x"};
    t[(*n)++] = '"';
    for (unsigned k = gen_r(8); k-- && *n + 8 < cap;) {
        const char *p = parts[gen_r(8)];
        memcpy(t + *n, p, strlen(p));
        *n += strlen(p);
    }
    t[(*n)++] = '"';
}

static void gen_value(char *t, size_t *n, size_t cap, int depth)
{
    unsigned kind = depth == 0 ? gen_r(2) : depth > 6 || *n + 64 > cap ? 2 + gen_r(2) : gen_r(4);
    if (kind < 2) {
        t[(*n)++] = kind ? '[' : '{';
        for (unsigned k = depth < 2 ? 4 + gen_r(12) : gen_r(6); k--;) {
            if (kind == 0) {
                gen_str(t, n, cap);
                t[(*n)++] = ':';
            }
            gen_value(t, n, cap, depth + 1);
            if (k && *n + 64 < cap)
                t[(*n)++] = ',';
            else
                break;
        }
        t[(*n)++] = kind ? ']' : '}';
    } else if (kind == 2) {
        gen_str(t, n, cap);
    } else {
        t[(*n)++] = '1';
    }
}

static void test_value_end_json(void **state)
{
    (void)state;
    static char text[8192];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        gen_value(text, &n, sizeof text - 256, 0);
        for (size_t i = 0; i < n; i++)
            if (jscan_value_end(text, n, i) != ref_value_end(text, n, i))
                fail_msg("round %d: at %zu of \"%.*s\": %zu, reference %zu", round, i, (int)n,
                         text, jscan_value_end(text, n, i), ref_value_end(text, n, i));
    }
}

/* jscan_string_special (eight bytes at a time) against a byte-by-byte search, on
 * random bytes with every kind of byte it must stop at, from every start. */
static void test_string_special_random(void **state)
{
    (void)state;
    char text[96];
    uint64_t x = 7;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 90);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned r = (unsigned)(x >> 33);
            static const char pick[] = {'"', '\\', '\n', 0x1f, 0x20, 0x7f, '!', '#', '[', 'a'};
            text[i] = r % 5 ? 'a' + (char)(r % 26)
                            : r % 7 == 0 ? (char)(0x80 + r % 128) : pick[(r >> 3) % sizeof pick];
        }
        for (size_t i = 0; i <= n; i++) {
            size_t want = i;
            while (want < n) {
                unsigned char c = (unsigned char)text[want];
                if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                    break;
                want++;
            }
            size_t got = jscan_string_special(text, n, i);
            if (got != want)
                fail_msg("round %d from %zu: %zu, byte by byte %zu", round, i, got, want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_managed),
        cmocka_unit_test(test_selectors_agree),
        cmocka_unit_test(test_value_end_random),
        cmocka_unit_test(test_value_end_blocks),
        cmocka_unit_test(test_value_end_json),
        cmocka_unit_test(test_string_special_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
