/* Tests for base/log: level parsing, filtering (disabled messages do not even
 * evaluate their arguments), line format and truncation. Output is captured
 * with open_memstream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"

static char *captured;
static size_t captured_len;
static FILE *capture;

static int start_capture(void **state)
{
    capture = open_memstream(&captured, &captured_len);
    log_set_stream(capture);
    log_set_level(LOG_LEVEL_INFO);
    log_set_timestamps(false);
    return capture ? 0 : -1;
}

static int stop_capture(void **state)
{
    log_set_stream(NULL);
    fclose(capture);
    free(captured);
    captured = NULL;
    return 0;
}

static const char *output(void)
{
    fflush(capture);
    return captured;
}

static void test_parse_level_table(void **state)
{
    static const struct {
        const char *in;
        int rc;
        enum log_level want;
    } cases[] = {
        {"error", 0, LOG_LEVEL_ERROR},
        {"warn", 0, LOG_LEVEL_WARN},
        {"info", 0, LOG_LEVEL_INFO},
        {"debug", 0, LOG_LEVEL_DEBUG},
        {"DEBUG", 0, LOG_LEVEL_DEBUG},
        {"Warn", 0, LOG_LEVEL_WARN},
        {"warning", -1, 0},
        {"", -1, 0},
        {"trace", -1, 0},
        {" info", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum log_level got = LOG_LEVEL_INFO;
        struct err e = {0};
        int rc = log_parse_level(cases[i].in, &got, &e);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(got, cases[i].want);
        } else {
            assert_int_equal(e.code, EINVAL);
            /* The message quotes the bad value and lists the choices. */
            assert_non_null(strstr(e.msg, cases[i].in));
            assert_non_null(strstr(e.msg, "error, warn, info, debug"));
        }
    }
    assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
}

static int evaluated;

static int side_effect(void)
{
    return ++evaluated;
}

static void test_filtering_by_level(void **state)
{
    log_set_level(LOG_LEVEL_WARN);
    assert_int_equal(log_get_level(), LOG_LEVEL_WARN);
    evaluated = 0;
    log_debug("debug %d", side_effect());
    log_info("info %d", side_effect());
    /* Disabled levels do not evaluate their arguments. */
    assert_int_equal(evaluated, 0);
    log_warn("warn %d", side_effect());
    log_error("error %d", side_effect());
    assert_int_equal(evaluated, 2);
    assert_string_equal(output(), "warn: warn 1\nerror: error 2\n");
    assert_false(log_enabled(LOG_LEVEL_INFO));
    assert_true(log_enabled(LOG_LEVEL_ERROR));
}

static void test_trailing_newline_not_doubled(void **state)
{
    log_info("one\n");
    log_info("two");
    log_info("%s", "");
    assert_string_equal(output(), "info: one\ninfo: two\ninfo: \n");
}

static void test_long_message_is_cut(void **state)
{
    char *big = malloc(3 * LOG_LINE_MAX);
    memset(big, 'x', 3 * LOG_LINE_MAX - 1);
    big[3 * LOG_LINE_MAX - 1] = '\0';
    log_error("%s", big);
    const char *out = output();
    size_t n = strlen(out);
    assert_true(n <= LOG_LINE_MAX);
    assert_true(n > LOG_LINE_MAX - 8);
    assert_memory_equal(out + n - 4, "...\n", 4);
    assert_memory_equal(out, "error: xxx", 10);
    free(big);
}

static void test_timestamp_prefix(void **state)
{
    log_set_timestamps(true);
    log_info("hi");
    log_set_timestamps(false);
    /* "2024-05-01T12:34:56.789Z info: hi\n" */
    const char *out = output();
    assert_int_equal(strlen(out), 24 + 1 + 8 + 1);
    assert_int_equal(out[4], '-');
    assert_int_equal(out[10], 'T');
    assert_int_equal(out[19], '.');
    assert_int_equal(out[23], 'Z');
    assert_string_equal(out + 25, "info: hi\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_level_table),
        cmocka_unit_test_setup_teardown(test_filtering_by_level, start_capture, stop_capture),
        cmocka_unit_test_setup_teardown(test_trailing_newline_not_doubled, start_capture,
                                        stop_capture),
        cmocka_unit_test_setup_teardown(test_long_message_is_cut, start_capture, stop_capture),
        cmocka_unit_test_setup_teardown(test_timestamp_prefix, start_capture, stop_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
