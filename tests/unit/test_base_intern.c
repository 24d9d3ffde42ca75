/* Tests for base/intern: dense ids in order of first appearance, byte-exact
 * comparison, copies that outlive the caller's buffer, lookup without insert. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/intern.h"

static void test_ids_are_dense_and_stable(void **state)
{
    struct intern in;
    intern_init(&in);
    static const char *names[] = {"A100", "H100", "V100", "A100", "T4", "H100", ""};
    static const uint32_t want[] = {0, 1, 2, 0, 3, 1, 4};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(intern_id(&in, names[i], strlen(names[i])), want[i]);
    assert_int_equal(intern_count(&in), 5);
    assert_string_equal(intern_str(&in, 0), "A100");
    assert_string_equal(intern_str(&in, 3), "T4");
    assert_string_equal(intern_str(&in, 4), "");
    assert_int_equal(intern_len(&in, 1), 4);
    intern_release(&in);
}

static void test_bytes_not_c_strings(void **state)
{
    struct intern in;
    intern_init(&in);
    /* Case, length and embedded NULs all distinguish strings. */
    uint32_t a = intern_id(&in, "a100", 4);
    uint32_t b = intern_id(&in, "A100", 4);
    uint32_t c = intern_id(&in, "A100-80G", 4); /* same bytes as b */
    uint32_t d = intern_id(&in, "x\0y", 3);
    uint32_t e = intern_id(&in, "x\0z", 3);
    uint32_t f = intern_id(&in, NULL, 0);
    uint32_t g = intern_id(&in, "", 0);
    assert_true(a != b);
    assert_int_equal(b, c);
    assert_true(d != e);
    assert_int_equal(f, g);
    assert_int_equal(intern_len(&in, d), 3);
    assert_memory_equal(intern_str(&in, d), "x\0y", 4);
    intern_release(&in);
}

static void test_copies_outlive_caller_buffer(void **state)
{
    struct intern in;
    intern_init(&in);
    char buf[16];
    strcpy(buf, "gpu-model");
    uint32_t id = intern_id(&in, buf, strlen(buf));
    memset(buf, 'X', sizeof buf - 1);
    assert_string_equal(intern_str(&in, id), "gpu-model");
    strcpy(buf, "gpu-model");
    assert_int_equal(intern_id(&in, buf, strlen(buf)), id);
    intern_release(&in);
}

static void test_lookup_does_not_insert(void **state)
{
    struct intern in;
    intern_init(&in);
    assert_int_equal(intern_lookup(&in, "A100", 4), INTERN_NONE);
    assert_int_equal(intern_count(&in), 0);
    uint32_t id = intern_id(&in, "A100", 4);
    assert_int_equal(intern_lookup(&in, "A100", 4), id);
    assert_int_equal(intern_lookup(&in, "H100", 4), INTERN_NONE);
    assert_int_equal(intern_count(&in), 1);
    intern_release(&in);
}

static void test_100k_strings_pointers_stay_valid(void **state)
{
    struct intern in;
    intern_init(&in);
    enum { N = 100000 };
    static const char *ptrs[N];
    char tmp[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(tmp, sizeof tmp, "label-%d", i);
        assert_int_equal(intern_id(&in, tmp, (size_t)n), i);
        ptrs[i] = intern_str(&in, (uint32_t)i);
    }
    /* Growth of the table never moves a string. */
    for (int i = 0; i < N; i++) {
        int n = snprintf(tmp, sizeof tmp, "label-%d", i);
        assert_ptr_equal(intern_str(&in, (uint32_t)i), ptrs[i]);
        assert_string_equal(ptrs[i], tmp);
        assert_int_equal(intern_lookup(&in, tmp, (size_t)n), i);
    }
    intern_release(&in);
    /* Reusable after release; ids start again at 0. */
    intern_init(&in);
    assert_int_equal(intern_id(&in, "again", 5), 0);
    intern_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_are_dense_and_stable),
        cmocka_unit_test(test_bytes_not_c_strings),
        cmocka_unit_test(test_copies_outlive_caller_buffer),
        cmocka_unit_test(test_lookup_does_not_insert),
        cmocka_unit_test(test_100k_strings_pointers_stay_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
