/* Tests for base/mtime: duration parsing (valid and invalid inputs, with the
 * errors a person sees), formatting that round-trips, and the clocks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/mtime.h"
#include "base/rng.h"

static void test_parse_valid(void **state)
{
    static const struct {
        const char *in;
        int64_t want;
    } cases[] = {
        {"0", 0},
        {"0s", 0},
        {"30s", 30 * MTIME_S},
        {"1m30s", 90 * MTIME_S},
        {"500ms", 500 * MTIME_MS},
        {"2h", 2 * MTIME_HOUR},
        {"2h45m", 2 * MTIME_HOUR + 45 * MTIME_MIN},
        {"1.5h", 90 * MTIME_MIN},
        {"1.5s", 1500 * MTIME_MS},
        {".5s", 500 * MTIME_MS},
        {"1.s", MTIME_S},
        {"0.000000001s", 1},
        {"0.0000000019s", 1}, /* below a nanosecond: truncated */
        {"1h1m1s1ms1us1ns", MTIME_HOUR + MTIME_MIN + MTIME_S + MTIME_MS + MTIME_US + 1},
        {"100ns", 100},
        {"250us", 250 * MTIME_US},
        {"250\xc2\xb5s", 250 * MTIME_US},
        {"250\xce\xbcs", 250 * MTIME_US},
        {"1s1m", 61 * MTIME_S}, /* order is free, as in Go */
        {"007s", 7 * MTIME_S},
        {"0.1234567890123456789012345h", 444444440444}, /* many decimals, exact to the ns */
        {"9223372036854775807ns", INT64_MAX},
        {"2562047h", 2562047 * MTIME_HOUR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ns = -1;
        struct err e = {0};
        if (mtime_parse_duration(cases[i].in, &ns, &e) != 0)
            fail_msg("\"%s\": unexpected error: %s", cases[i].in, e.msg);
        if (ns != cases[i].want)
            fail_msg("\"%s\": got %lld, want %lld", cases[i].in, (long long)ns,
                     (long long)cases[i].want);
    }
}

static void test_parse_invalid(void **state)
{
    static const struct {
        const char *in;
        int code;
        const char *msg_has; /* the part of the message that says what is wrong */
    } cases[] = {
        {"", EINVAL, "empty duration"},
        {"30", EINVAL, "missing unit after \"30\""},
        {"1m30", EINVAL, "missing unit after \"30\""},
        {"1.5", EINVAL, "missing unit after \"1.5\""},
        {"5x", EINVAL, "unknown unit \"x\""},
        {"5sec", EINVAL, "unknown unit \"sec\""},
        {"5S", EINVAL, "unknown unit \"S\""},
        {"1d", EINVAL, "unknown unit \"d\""},
        {"5 s", EINVAL, "unknown unit \" s\""},
        {"-5s", EINVAL, "is negative"},
        {"+5s", EINVAL, "expected a number at \"+5s\""},
        {" 5s", EINVAL, "expected a number"},
        {"s", EINVAL, "expected a number at \"s\""},
        {".s", EINVAL, "expected a number"},
        {"1.2.3s", EINVAL, "missing unit after \"1.2\""},
        {"1e3s", EINVAL, "unknown unit \"e\""},
        {"9223372036854775808ns", ERANGE, "too long"},
        {"2562048h", ERANGE, "too long"},
        {"99999999999999999999999h", ERANGE, "too long"},
        {"2562047h2562047h", ERANGE, "too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ns = 12345;
        struct err e = {0};
        if (mtime_parse_duration(cases[i].in, &ns, &e) != -1)
            fail_msg("\"%s\": accepted as %lld", cases[i].in, (long long)ns);
        assert_int_equal(ns, 12345); /* unchanged on error */
        if (e.code != cases[i].code)
            fail_msg("\"%s\": code %d, want %d", cases[i].in, e.code, cases[i].code);
        if (!strstr(e.msg, cases[i].msg_has))
            fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, e.msg, cases[i].msg_has);
        /* Every message but the empty one quotes the input. */
        if (cases[i].in[0] && !strstr(e.msg, cases[i].in))
            fail_msg("\"%s\": message \"%s\" does not quote the input", cases[i].in, e.msg);
    }
}

static void test_parse_long_input_error_fits(void **state)
{
    char in[1001];
    memset(in, '9', 999);
    in[999] = 'q';
    in[1000] = '\0';
    int64_t ns;
    struct err e = {0};
    assert_int_equal(mtime_parse_duration(in, &ns, &e), -1);
    assert_true(strlen(e.msg) < ERR_MSG_MAX);
    /* The quoted input is shortened, so the reason is not cut off. */
    assert_non_null(strstr(e.msg, "...\""));
    assert_non_null(strstr(e.msg, "unknown unit \"q\""));
}

static void test_parse_n_stops_at_len(void **state)
{
    int64_t ns = 0;
    assert_int_equal(mtime_parse_duration_n("30s garbage", 3, &ns, NULL), 0);
    assert_int_equal(ns, 30 * MTIME_S);
    assert_int_equal(mtime_parse_duration_n("30s", 2, &ns, NULL), -1);
}

static void test_format_table(void **state)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {90 * MTIME_S, "1m30s"},
        {1500 * MTIME_MS, "1s500ms"},
        {2 * MTIME_HOUR, "2h"},
        {MTIME_HOUR + 1, "1h1ns"},
        {-30 * MTIME_S, "-30s"},
        {INT64_MAX, "2562047h47m16s854ms775us807ns"},
        {INT64_MIN, "-2562047h47m16s854ms775us808ns"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[MTIME_DURATION_BUFSZ];
        int n = mtime_format_duration(cases[i].ns, buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    /* Like snprintf: a short buffer is cut and the full length returned. */
    char small[4];
    assert_int_equal(mtime_format_duration(90 * MTIME_S, small, sizeof small), 5);
    assert_string_equal(small, "1m3");
}

static void test_format_parse_round_trip(void **state)
{
    struct rng r;
    rng_seed(&r, 6);
    for (int i = 0; i < 10000; i++) {
        /* Spread over every magnitude, from nanoseconds to centuries. */
        int64_t ns = (int64_t)(rng_next(&r) >> (1 + rng_below(&r, 63)));
        char buf[MTIME_DURATION_BUFSZ];
        mtime_format_duration(ns, buf, sizeof buf);
        int64_t back = -1;
        struct err e = {0};
        if (mtime_parse_duration(buf, &back, &e) != 0)
            fail_msg("%lld -> \"%s\": %s", (long long)ns, buf, e.msg);
        assert_int_equal(back, ns);
    }
}

static void test_clocks(void **state)
{
    int64_t prev = mtime_now_ns();
    for (int i = 0; i < 10000; i++) {
        int64_t now = mtime_now_ns();
        assert_true(now >= prev);
        prev = now;
    }
    /* After 2020-01-01 and before 2200-01-01. */
    int64_t wall = mtime_wall_ns();
    assert_true(wall > 1577836800LL * MTIME_S);
    assert_true(wall < 7258118400LL * MTIME_S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_long_input_error_fits),
        cmocka_unit_test(test_parse_n_stops_at_len),
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
