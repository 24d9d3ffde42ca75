/* Tests for base/bitset: every operation checked against a plain bool array,
 * for sizes on and around word boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bitset.h"
#include "base/rng.h"

/* Sizes that put the end of the set at, just before and just after a word
 * boundary. */
static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 191, 192, 193, 1000, 4096};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* The obvious answers, computed from a bool array. */
static size_t ref_next(const bool *bits, size_t n, size_t from, bool value)
{
    for (size_t i = from; i < n; i++)
        if (bits[i] == value)
            return i;
    return BITSET_NONE;
}

static void check_against(const struct bitset *b, const bool *ref, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(bitset_test(b, i), ref[i]);
        count += ref[i];
    }
    assert_int_equal(bitset_count(b), count);
    for (size_t from = 0; from <= n + 1; from++) {
        assert_int_equal(bitset_next_set(b, from), ref_next(ref, n, from, true));
        assert_int_equal(bitset_next_clear(b, from), ref_next(ref, n, from, false));
    }
    assert_int_equal(bitset_first_clear(b), ref_next(ref, n, 0, false));
}

static void fill_random(struct bitset *b, bool *ref, size_t n, struct rng *r, int density_pct)
{
    bitset_clear_all(b);
    for (size_t i = 0; i < n; i++) {
        ref[i] = rng_below(r, 100) < (uint64_t)density_pct;
        if (ref[i])
            bitset_set(b, i);
    }
}

static void test_new_set_is_clear(void **state)
{
    for (size_t s = 0; s < NSIZES; s++) {
        struct bitset *b = bitset_create(sizes[s]);
        assert_int_equal(bitset_size(b), sizes[s]);
        assert_int_equal(bitset_count(b), 0);
        assert_int_equal(bitset_next_set(b, 0), BITSET_NONE);
        assert_int_equal(bitset_first_clear(b), sizes[s] ? 0 : BITSET_NONE);
        bitset_destroy(b);
    }
    bitset_destroy(NULL);
}

static void test_set_all_stays_within_size(void **state)
{
    /* Padding bits past the end must stay clear: count is exact and no clear
     * bit is found past the end. */
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = sizes[s];
        struct bitset *b = bitset_create(n);
        bitset_set_all(b);
        assert_int_equal(bitset_count(b), n);
        assert_int_equal(bitset_first_clear(b), BITSET_NONE);
        if (n) {
            bitset_clear(b, n - 1);
            assert_int_equal(bitset_first_clear(b), n - 1);
            assert_int_equal(bitset_next_set(b, n - 1), BITSET_NONE);
        }
        bitset_destroy(b);
    }
}

static void test_find_across_word_boundaries(void **state)
{
    struct bitset *b = bitset_create(300);
    static const size_t set[] = {0, 63, 64, 127, 128, 191, 255, 256, 299};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        bitset_set(b, set[i]);
    /* Walking with next_set visits exactly the set bits, in order. */
    size_t k = 0;
    for (size_t i = bitset_next_set(b, 0); i != BITSET_NONE; i = bitset_next_set(b, i + 1))
        assert_int_equal(i, set[k++]);
    assert_int_equal(k, sizeof set / sizeof set[0]);
    assert_int_equal(bitset_next_set(b, 1), 63);
    assert_int_equal(bitset_next_set(b, 65), 127);
    assert_int_equal(bitset_next_set(b, 192), 255);
    assert_int_equal(bitset_next_set(b, 300), BITSET_NONE);
    assert_int_equal(bitset_next_set(b, SIZE_MAX), BITSET_NONE);
    /* A run of set bits across a boundary: the first clear is after it. */
    for (size_t i = 60; i < 70; i++)
        bitset_set(b, i);
    assert_int_equal(bitset_next_clear(b, 60), 70);
    bitset_destroy(b);
}

static void test_random_against_reference(void **state)
{
    struct rng r;
    rng_seed(&r, 1);
    static const int densities[] = {0, 3, 50, 97, 100};
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = sizes[s];
        bool *ref = calloc(n + 1, sizeof *ref);
        struct bitset *b = bitset_create(n);
        for (size_t d = 0; d < sizeof densities / sizeof densities[0]; d++) {
            fill_random(b, ref, n, &r, densities[d]);
            check_against(b, ref, n);
            /* Clear a few bits and check again. */
            for (size_t i = 0; i < n; i += 7) {
                bitset_clear(b, i);
                ref[i] = false;
            }
            check_against(b, ref, n);
        }
        bitset_destroy(b);
        free(ref);
    }
}

static void test_and_or_andnot(void **state)
{
    struct rng r;
    rng_seed(&r, 2);
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = sizes[s];
        bool *ra = calloc(n + 1, 1), *rb = calloc(n + 1, 1), *want = calloc(n + 1, 1);
        struct bitset *a = bitset_create(n), *b = bitset_create(n);
        for (int op = 0; op < 3; op++) {
            fill_random(a, ra, n, &r, 50);
            fill_random(b, rb, n, &r, 50);
            for (size_t i = 0; i < n; i++)
                want[i] = op == 0   ? (ra[i] && rb[i])
                          : op == 1 ? (ra[i] || rb[i])
                                    : (ra[i] && !rb[i]);
            if (op == 0)
                bitset_and(a, b);
            else if (op == 1)
                bitset_or(a, b);
            else
                bitset_andnot(a, b);
            check_against(a, want, n);
        }
        /* With itself: and/or change nothing, andnot empties. */
        struct bitset *c = bitset_clone(a);
        assert_true(bitset_equal(a, c));
        bitset_and(c, c);
        bitset_or(c, c);
        assert_true(bitset_equal(a, c));
        bitset_andnot(c, c);
        assert_int_equal(bitset_count(c), 0);
        bitset_destroy(c);
        bitset_destroy(a);
        bitset_destroy(b);
        free(ra);
        free(rb);
        free(want);
    }
}

static void test_or_with_full_keeps_padding_clear(void **state)
{
    struct bitset *a = bitset_create(70), *full = bitset_create(70);
    bitset_set_all(full);
    bitset_or(a, full);
    assert_int_equal(bitset_count(a), 70);
    assert_int_equal(bitset_first_clear(a), BITSET_NONE);
    bitset_destroy(a);
    bitset_destroy(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_set_is_clear),
        cmocka_unit_test(test_set_all_stays_within_size),
        cmocka_unit_test(test_find_across_word_boundaries),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_and_or_andnot),
        cmocka_unit_test(test_or_with_full_keeps_padding_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
