/* Tests for base/alloc. The out-of-memory path aborts by design and is not
 * exercised here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"

static void test_zero_sizes_give_freeable_pointers(void **state)
{
    void *a = xmalloc(0), *b = xcalloc(0, 0), *c = xcalloc(0, 8), *d = xrealloc(NULL, 0);
    void *e = xreallocarray(NULL, 0, 16);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_non_null(e);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

static void test_calloc_zeroes(void **state)
{
    unsigned char *p = xcalloc(1000, 3);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(p[i], 0);
    free(p);
}

static void test_realloc_keeps_content(void **state)
{
    char *p = xmalloc(4);
    memcpy(p, "abc", 4);
    p = xrealloc(p, 1 << 20);
    assert_string_equal(p, "abc");
    p = xreallocarray(p, 10, 1000);
    assert_string_equal(p, "abc");
    free(p);
}

static void test_strdup_and_strndup(void **state)
{
    static const struct {
        const char *s;
        size_t n;
        const char *want;
    } cases[] = {
        {"hello", 10, "hello"}, /* n past the end: stops at the NUL */
        {"hello", 5, "hello"},  {"hello", 3, "hel"}, {"hello", 0, ""}, {"", 4, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = xstrndup(cases[i].s, cases[i].n);
        assert_string_equal(p, cases[i].want);
        free(p);
    }
    char *d = xstrdup("nvidia.com/gpu");
    assert_string_equal(d, "nvidia.com/gpu");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_sizes_give_freeable_pointers),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_realloc_keeps_content),
        cmocka_unit_test(test_strdup_and_strndup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
