/* Tests for base/arena: alignment, distinct non-overlapping allocations,
 * dedicated chunks for big requests, and reset reusing the first chunk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"

#define ALIGN _Alignof(max_align_t)

static void test_empty_arena_release_and_reset(void **state)
{
    struct arena a;
    arena_init(&a, 0);
    assert_int_equal(a.chunk_size, ARENA_DEFAULT_CHUNK);
    arena_reset(&a);
    arena_release(&a);
    arena_release(&a);
    assert_null(a.head);
}

static void test_alignment_and_no_overlap(void **state)
{
    /* Every size from 0 to 300, each filled with its own byte pattern, then all
     * checked: an overlap would overwrite an earlier pattern. */
    struct arena a;
    arena_init(&a, 1024);
    unsigned char *ptrs[301];
    for (size_t n = 0; n <= 300; n++) {
        ptrs[n] = arena_alloc(&a, n);
        assert_non_null(ptrs[n]);
        assert_int_equal((uintptr_t)ptrs[n] % ALIGN, 0);
        memset(ptrs[n], (int)(n & 0xff), n);
    }
    for (size_t n = 0; n <= 300; n++)
        for (size_t i = 0; i < n; i++)
            assert_int_equal(ptrs[n][i], n & 0xff);
    arena_release(&a);
}

static void test_zero_size_allocations_are_distinct(void **state)
{
    struct arena a;
    arena_init(&a, 0);
    void *p = arena_alloc(&a, 0), *q = arena_alloc(&a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    arena_release(&a);
}

static void test_zalloc_zeroes(void **state)
{
    struct arena a;
    arena_init(&a, 256);
    /* Dirty the memory, reset, then ask for zeroed memory in the same place. */
    memset(arena_alloc(&a, 200), 0xab, 200);
    arena_reset(&a);
    unsigned char *z = arena_zalloc(&a, 200);
    for (size_t i = 0; i < 200; i++)
        assert_int_equal(z[i], 0);
    arena_release(&a);
}

static void test_big_request_gets_own_chunk_and_keeps_current(void **state)
{
    struct arena a;
    arena_init(&a, 1024);
    char *small1 = arena_alloc(&a, 16);
    char *big = arena_alloc(&a, 100000);
    memset(big, 'x', 100000);
    char *small2 = arena_alloc(&a, 16);
    /* The big request did not end the current chunk: the next small
     * allocation follows the first one directly. */
    assert_ptr_equal(small2, small1 + 16);
    assert_int_equal(big[99999], 'x');
    arena_release(&a);
}

static void test_reset_reuses_first_chunk(void **state)
{
    struct arena a;
    arena_init(&a, 4096);
    void *first = arena_alloc(&a, 64);
    for (int i = 0; i < 1000; i++)
        arena_alloc(&a, 100); /* spills into more chunks */
    arena_alloc(&a, 1 << 20); /* and a dedicated one */
    arena_reset(&a);
    assert_int_equal(a.allocated, 0);
    assert_ptr_equal(arena_alloc(&a, 64), first);
    arena_release(&a);
}

static void test_many_strings_survive_growth(void **state)
{
    struct arena a;
    arena_init(&a, 0);
    enum { N = 100000 };
    static char *strs[N];
    char tmp[32];
    for (int i = 0; i < N; i++) {
        snprintf(tmp, sizeof tmp, "gpu-%d", i);
        strs[i] = arena_strdup(&a, tmp);
    }
    for (int i = 0; i < N; i++) {
        snprintf(tmp, sizeof tmp, "gpu-%d", i);
        assert_string_equal(strs[i], tmp);
    }
    arena_release(&a);
}

static void test_memdupz_copies_exact_bytes(void **state)
{
    struct arena a;
    arena_init(&a, 0);
    char *s = arena_memdupz(&a, "ab\0cd", 5);
    assert_memory_equal(s, "ab\0cd", 6); /* five bytes and the added NUL */
    char *e = arena_memdupz(&a, NULL, 0);
    assert_string_equal(e, "");
    /* Only the first 3 bytes of a longer string. */
    assert_string_equal(arena_memdupz(&a, "A100-80G", 4), "A100");
    arena_release(&a);
}

static void test_usable_after_release(void **state)
{
    struct arena a;
    arena_init(&a, 128);
    arena_strdup(&a, "one");
    arena_release(&a);
    assert_string_equal(arena_strdup(&a, "two"), "two");
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_arena_release_and_reset),
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_zero_size_allocations_are_distinct),
        cmocka_unit_test(test_zalloc_zeroes),
        cmocka_unit_test(test_big_request_gets_own_chunk_and_keeps_current),
        cmocka_unit_test(test_reset_reuses_first_chunk),
        cmocka_unit_test(test_many_strings_survive_growth),
        cmocka_unit_test(test_memdupz_copies_exact_bytes),
        cmocka_unit_test(test_usable_after_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
