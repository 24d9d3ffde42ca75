/* Tests for base/err: errf and err_wrap return -1, keep the code, and truncate
 * long messages rather than overflow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"

static void test_errf_fills_and_returns_minus_one(void **state)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.msg, "");
    assert_int_equal(errf(&e, EINVAL, "node %s: field %s: %d is negative", "n1", "gpus", -2), -1);
    assert_int_equal(e.code, EINVAL);
    assert_string_equal(e.msg, "node n1: field gpus: -2 is negative");
}

static void test_null_err_is_allowed(void **state)
{
    assert_int_equal(errf(NULL, EIO, "ignored %d", 1), -1);
    assert_int_equal(err_wrap(NULL, "ignored"), -1);
    err_clear(NULL);
}

static void test_errf_truncates_long_message(void **state)
{
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct err e;
    /* e lives on the stack, where ASan would report any write past msg. */
    assert_int_equal(errf(&e, E2BIG, "start:%s", big), -1);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_memory_equal(e.msg, "start:yyy", 9);
    assert_int_equal(e.code, E2BIG);
}

static void test_wrap_prefixes_and_keeps_code(void **state)
{
    struct err e;
    errf(&e, ENOENT, "no such node");
    assert_int_equal(err_wrap(&e, "pod %s/%s", "ns", "p"), -1);
    assert_string_equal(e.msg, "pod ns/p: no such node");
    assert_int_equal(e.code, ENOENT);
    err_wrap(&e, "cycle %d", 3);
    assert_string_equal(e.msg, "cycle 3: pod ns/p: no such node");
}

static void test_wrap_truncates(void **state)
{
    /* Table: prefix length and old message length around the limit. */
    static const struct {
        size_t prefix, old;
    } cases[] = {
        {10, ERR_MSG_MAX - 1},
        {ERR_MSG_MAX - 1, 10},
        {ERR_MSG_MAX - 3, 5},
        {ERR_MSG_MAX - 2, 5},
        {100, 97},
        {100, 96},
        {0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX], want[3 * ERR_MSG_MAX];
        memset(prefix, 'p', cases[i].prefix);
        prefix[cases[i].prefix] = '\0';
        memset(old, 'o', cases[i].old);
        old[cases[i].old] = '\0';
        struct err e;
        errf(&e, 7, "%s", old);
        err_wrap(&e, "%s", prefix);
        /* What the message would be with room enough, cut to the limit. */
        size_t n = (size_t)snprintf(want, sizeof want, "%s: %s", prefix, old);
        if (n > ERR_MSG_MAX - 1)
            want[ERR_MSG_MAX - 1] = '\0';
        assert_string_equal(e.msg, want);
        assert_int_equal(e.code, 7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errf_fills_and_returns_minus_one),
        cmocka_unit_test(test_null_err_is_allowed),
        cmocka_unit_test(test_errf_truncates_long_message),
        cmocka_unit_test(test_wrap_prefixes_and_keeps_code),
        cmocka_unit_test(test_wrap_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
