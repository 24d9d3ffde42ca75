/* Tests for base/vec: growth across many elements, reserve, pop order, pushing
 * an element of the vector itself across a reallocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/vec.h"

struct pair {
    uint64_t key;
    uint32_t id;
};

/* A named vector type, as code that passes vectors between functions uses. */
struct pair_vec {
    struct pair *v;
    size_t len, cap;
};

static void push_pairs(struct pair_vec *pv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        vec_push(pv, ((struct pair){.key = i * 3, .id = (uint32_t)i}));
}

static void test_zero_initialised_is_empty(void **state)
{
    VEC(int) v = {0};
    assert_int_equal(v.len, 0);
    vec_clear(&v);
    vec_free(&v);
    assert_null(v.v);
}

static void test_push_many_and_doubling(void **state)
{
    VEC(uint32_t) v = {0};
    size_t reallocs = 0, last_cap = 0;
    for (uint32_t i = 0; i < 200000; i++) {
        vec_push(&v, i * 7u);
        if (v.cap != last_cap) {
            reallocs++;
            /* Capacity grows by doubling from VEC_MIN_CAP. */
            assert_true(last_cap == 0 ? v.cap == VEC_MIN_CAP : v.cap == 2 * last_cap);
            last_cap = v.cap;
        }
    }
    assert_int_equal(v.len, 200000);
    assert_true(reallocs <= 16);
    for (uint32_t i = 0; i < 200000; i++)
        assert_int_equal(v.v[i], i * 7u);
    vec_free(&v);
    assert_int_equal(v.len, 0);
    assert_int_equal(v.cap, 0);
}

static void test_struct_elements_through_function(void **state)
{
    struct pair_vec pv = {0};
    push_pairs(&pv, 1000);
    assert_int_equal(pv.len, 1000);
    assert_int_equal(pv.v[999].key, 2997);
    assert_int_equal(pv.v[999].id, 999);
    vec_free(&pv);
}

static void test_reserve_is_total_and_stable(void **state)
{
    VEC(double) v = {0};
    vec_reserve(&v, 1000);
    assert_true(v.cap >= 1000);
    double *before = v.v;
    for (int i = 0; i < 1000; i++)
        vec_push(&v, i / 2.0);
    /* No reallocation happened within the reserved capacity. */
    assert_ptr_equal(v.v, before);
    /* A smaller reserve never shrinks. */
    size_t cap = v.cap;
    vec_reserve(&v, 10);
    assert_int_equal(v.cap, cap);
    vec_free(&v);
}

static void test_pop_and_last(void **state)
{
    VEC(int) v = {0};
    for (int i = 0; i < 10; i++)
        vec_push(&v, i);
    assert_int_equal(vec_last(&v), 9);
    vec_last(&v) = 42;
    assert_int_equal(vec_pop(&v), 42);
    for (int i = 8; i >= 0; i--)
        assert_int_equal(vec_pop(&v), i);
    assert_int_equal(v.len, 0);
    vec_free(&v);
}

static void test_clear_keeps_memory(void **state)
{
    VEC(int) v = {0};
    for (int i = 0; i < 100; i++)
        vec_push(&v, i);
    int *mem = v.v;
    size_t cap = v.cap;
    vec_clear(&v);
    assert_int_equal(v.len, 0);
    assert_ptr_equal(v.v, mem);
    assert_int_equal(v.cap, cap);
    vec_push(&v, 5);
    assert_int_equal(v.v[0], 5);
    vec_free(&v);
}

static void test_push_own_element_across_growth(void **state)
{
    /* When len == cap the push reallocates; the pushed value reads the old
     * first element and must do so after the move (ASan would report the read
     * of freed memory otherwise). */
    VEC(uint64_t) v = {0};
    vec_push(&v, 77);
    while (v.len < 64)
        vec_push(&v, v.v[v.len - 1]);
    for (size_t i = 0; i < v.len; i++)
        assert_int_equal(v.v[i], 77);
    vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_initialised_is_empty),
        cmocka_unit_test(test_push_many_and_doubling),
        cmocka_unit_test(test_struct_elements_through_function),
        cmocka_unit_test(test_reserve_is_total_and_stable),
        cmocka_unit_test(test_pop_and_last),
        cmocka_unit_test(test_clear_keeps_memory),
        cmocka_unit_test(test_push_own_element_across_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
