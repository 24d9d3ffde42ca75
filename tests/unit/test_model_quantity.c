/* Tests for model/quantity: every suffix, exponents, signs, rounding to milli,
 * the int64 limit, JSON numbers, the canonical scheduler value, and the errors
 * a person sees for bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/quantity.h"

#define KI ((int64_t)1024)

static void test_parse_valid(void **state)
{
    static const struct {
        const char *in;
        int64_t milli;
    } cases[] = {
        {"0", 0},
        {"1", 1000},
        {"2", 2000},
        {"+3", 3000},
        {"-3", -3000},
        {"500m", 500},
        {"1500m", 1500},
        {"0.5", 500},
        {".5", 500},
        {"5.", 5000},
        {"1.5", 1500},
        {"0.001", 1},
        {"0.0001", 1},      /* below a milli: rounded up, as MilliValue() does */
        {"0.1m", 1},        /* the same */
        {"-0.1m", -1},      /* away from zero */
        {"100u", 1},        /* micro */
        {"1000000u", 1000}, /* 1 */
        {"5n", 1},          /* nano */
        {"1000000000n", 1000},
        {"100k", 100000000},
        {"1k", 1000000},
        {"1M", (int64_t)1000000000},
        {"1G", (int64_t)1000000000000},
        {"1T", (int64_t)1000000000000000},
        {"1P", (int64_t)1000000000000000000},
        {"9P", (int64_t)9000000000000000000},
        {"1Ki", 1024 * 1000},
        {"1Mi", KI * KI * 1000},
        {"40Gi", 40 * KI * KI * KI * 1000},
        {"1Ti", KI * KI * KI * KI * 1000},
        {"1Pi", KI * KI * KI * KI * KI * 1000},
        {"1.5Gi", 3 * KI * KI * KI * 500},
        {"0.5Ki", 512000},
        {"0.001Ki", 1024}, /* 1.024 -> 1024 milli exactly */
        {"0.0001Ki", 103}, /* 0.1024 -> 102.4 milli -> 103 */
        {"1e3", 1000000},
        {"1E3", 1000000},
        {"1e+3", 1000000},
        {"1e-3", 1},
        {"1e-4", 1},
        {"12e-1", 1200},
        {"1.5e2", 150000},
        {"1e0", 1000},
        {"0e99999", 0},
        {"0.000", 0},
        {"007", 7000},
        {"1e-99999", 1}, /* tiny but positive: one milli */
        {"9223372036854775807m", INT64_MAX},
        {"9223372036854775.807", INT64_MAX},
        {"-9223372036854775807m", -INT64_MAX},
        {"8191Ti", (int64_t)8191 * KI * KI * KI * KI * 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t m = -42;
        struct err e = {0};
        if (quantity_parse_str(cases[i].in, &m, &e) != 0)
            fail_msg("\"%s\": unexpected error: %s", cases[i].in, e.msg);
        if (m != cases[i].milli)
            fail_msg("\"%s\": got %lld, want %lld", cases[i].in, (long long)m,
                     (long long)cases[i].milli);
    }
}

static void test_parse_invalid(void **state)
{
    static const struct {
        const char *in;
        int code;
        const char *msg;
    } cases[] = {
        {"", EINVAL, "invalid quantity \"\": empty"},
        {"12x", EINVAL, "invalid quantity \"12x\": unknown suffix \"x\""},
        {"1K", EINVAL, "invalid quantity \"1K\": unknown suffix \"K\""},
        {"1mi", EINVAL, "invalid quantity \"1mi\": unknown suffix \"mi\""},
        {"1KiB", EINVAL, "invalid quantity \"1KiB\": unknown suffix \"KiB\""},
        {"1e", EINVAL, "invalid quantity \"1e\": unknown suffix \"e\""},
        {"1e+", EINVAL, "invalid quantity \"1e+\": unknown suffix \"e+\""},
        {"1e3.5", EINVAL, "invalid quantity \"1e3.5\": unknown suffix \"e3.5\""},
        {"1.2.3", EINVAL, "invalid quantity \"1.2.3\": unknown suffix \".3\""},
        {" 1", EINVAL, "invalid quantity \" 1\": expected a number"},
        {"1 ", EINVAL, "invalid quantity \"1 \": unknown suffix \" \""},
        {"m", EINVAL, "invalid quantity \"m\": expected a number"},
        {".", EINVAL, "invalid quantity \".\": expected a number"},
        {"-", EINVAL, "invalid quantity \"-\": expected a number"},
        {"--1", EINVAL, "invalid quantity \"--1\": expected a number"},
        {"0x10", EINVAL, "invalid quantity \"0x10\": unknown suffix \"x10\""},
        {"2Ei", ERANGE, "invalid quantity \"2Ei\": out of range"},
        {"8Ei", ERANGE, "invalid quantity \"8Ei\": out of range"},
        {"10E", ERANGE, "invalid quantity \"10E\": out of range"},
        {"1e19", ERANGE, "invalid quantity \"1e19\": out of range"},
        {"9223372036854775808m", ERANGE, "invalid quantity \"9223372036854775808m\": out of range"},
        {"99999999999999999999999", ERANGE,
         "invalid quantity \"99999999999999999999999\": out of range"},
        {"1e99999", ERANGE, "invalid quantity \"1e99999\": out of range"},
        {"12345678901234567890123456789012345678901234567890123456789012345", EINVAL,
         "invalid quantity \"12345678901234567890...\": longer than 64 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t m = -42;
        struct err e = {0};
        if (quantity_parse_str(cases[i].in, &m, &e) != -1)
            fail_msg("\"%s\": accepted as %lld", cases[i].in, (long long)m);
        if (m != -42)
            fail_msg("\"%s\": output changed on error", cases[i].in);
        if (e.code != cases[i].code || strcmp(e.msg, cases[i].msg) != 0)
            fail_msg("\"%s\": got (%d) \"%s\", want (%d) \"%s\"", cases[i].in, e.code, e.msg,
                     cases[i].code, cases[i].msg);
    }
}

/* Input need not be NUL-terminated: the length is respected exactly. */
static void test_parse_length(void **state)
{
    int64_t m;
    struct err e;
    assert_int_equal(quantity_parse("500mXYZ", 4, &m, &e), 0);
    assert_int_equal(m, 500);
    assert_int_equal(quantity_parse("40Gi", 3, &m, &e), 0); /* "40G" */
    assert_int_equal(m, (int64_t)40000000000000);
}

static void test_json_numbers(void **state)
{
    int64_t m;
    struct err e;
    assert_int_equal(quantity_from_int(9, &m, &e), 0);
    assert_int_equal(m, 9000);
    assert_int_equal(quantity_from_int(-2, &m, &e), 0);
    assert_int_equal(m, -2000);
    assert_int_equal(quantity_from_int(INT64_MAX / 10, &m, &e), -1);
    assert_string_equal(e.msg, "invalid quantity \"922337203685477580\": out of range");
    assert_int_equal(quantity_from_real(0.1, &m, &e), 0);
    assert_int_equal(m, 100); /* not 101: the shortest form of 0.1 is used */
    assert_int_equal(quantity_from_real(1.5, &m, &e), 0);
    assert_int_equal(m, 1500);
    assert_int_equal(quantity_from_real(0.0005, &m, &e), 0);
    assert_int_equal(m, 1);
    assert_int_equal(quantity_from_real(1e3, &m, &e), 0);
    assert_int_equal(m, 1000000);
    assert_int_equal(quantity_from_real(1e30, &m, &e), -1);
    assert_int_equal(e.code, ERANGE);
}

static void test_canonical(void **state)
{
    assert_int_equal(quantity_canonical("cpu", 1500), 1500);
    assert_int_equal(quantity_canonical("memory", 1500), 2);
    assert_int_equal(quantity_canonical("nvidia.com/gpu", 8000), 8);
    assert_int_equal(quantity_canonical("nvidia.com/gpu", 1), 1);
    assert_int_equal(quantity_canonical("pods", 0), 0);
    assert_int_equal(quantity_units_ceil(-1500), -2);
    assert_int_equal(quantity_units_ceil(-1000), -1);
    assert_int_equal(quantity_units_ceil(INT64_MAX), INT64_MAX / 1000 + 1);
}

static void test_format_round_trip(void **state)
{
    static const int64_t vals[] = {
        0, 1, 999, 1000, 1500, -1500, 40 * KI * KI * KI * 1000, INT64_MAX, -INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char buf[QUANTITY_BUFSZ];
        int n = quantity_format(vals[i], buf, sizeof buf);
        assert_true(n > 0 && (size_t)n < sizeof buf);
        int64_t back;
        struct err e;
        assert_int_equal(quantity_parse_str(buf, &back, &e), 0);
        assert_int_equal(back, vals[i]);
    }
    char buf[QUANTITY_BUFSZ];
    quantity_format(2000, buf, sizeof buf);
    assert_string_equal(buf, "2");
    quantity_format(500, buf, sizeof buf);
    assert_string_equal(buf, "500m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),  cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_length), cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_canonical),    cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
