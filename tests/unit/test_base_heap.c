/* Tests for base/heap: order against a sort, tie-break by id, and the indexed
 * operations against a brute-force model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/heap.h"
#include "base/rng.h"

static int cmp_item(const void *a, const void *b)
{
    const struct heap_item *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void test_empty(void **state)
{
    struct heap h;
    heap_init(&h, 0);
    struct heap_item it = {.key = 5, .id = 5};
    assert_int_equal(heap_len(&h), 0);
    assert_false(heap_peek(&h, &it));
    assert_false(heap_pop(&h, &it));
    /* *out is left alone when empty. */
    assert_int_equal(it.key, 5);
    heap_release(&h);
}

static void test_10k_random_keys_match_sort(void **state)
{
    /* Small key range so that there are many ties, which must come out by id. */
    static const uint64_t ranges[] = {10, 1000, UINT64_MAX};
    enum { N = 10000 };
    static struct heap_item want[N];
    struct rng r;
    rng_seed(&r, 3);
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
        struct heap h;
        heap_init(&h, 0);
        for (uint32_t i = 0; i < N; i++) {
            want[i].key = ranges[k] == UINT64_MAX ? rng_next(&r) : rng_below(&r, ranges[k]);
            want[i].id = (uint32_t)rng_next(&r);
            heap_push(&h, want[i].key, want[i].id);
        }
        assert_int_equal(heap_len(&h), N);
        qsort(want, N, sizeof want[0], cmp_item);
        for (size_t i = 0; i < N; i++) {
            struct heap_item peek, got;
            assert_true(heap_peek(&h, &peek));
            assert_true(heap_pop(&h, &got));
            assert_int_equal(peek.key, got.key);
            assert_int_equal(got.key, want[i].key);
            assert_int_equal(got.id, want[i].id);
        }
        assert_false(heap_pop(&h, NULL));
        heap_release(&h);
    }
}

static void test_equal_keys_pop_by_id_whatever_push_order(void **state)
{
    uint32_t ids[100];
    for (uint32_t i = 0; i < 100; i++)
        ids[i] = i;
    struct rng r;
    rng_seed(&r, 4);
    rng_shuffle(&r, ids, 100, sizeof ids[0]);
    struct heap h;
    heap_init(&h, 0);
    for (int i = 0; i < 100; i++)
        heap_push(&h, 7, ids[i]);
    struct heap_item it;
    for (uint32_t i = 0; i < 100; i++) {
        assert_true(heap_pop(&h, &it));
        assert_int_equal(it.id, i);
    }
    heap_release(&h);
}

static void test_duplicates_in_plain_heap(void **state)
{
    struct heap h;
    heap_init(&h, 0);
    heap_push(&h, 1, 9);
    heap_push(&h, 1, 9);
    heap_push(&h, 0, 9);
    assert_int_equal(heap_len(&h), 3);
    struct heap_item it;
    heap_pop(&h, &it);
    assert_int_equal(it.key, 0);
    heap_clear(&h);
    assert_int_equal(heap_len(&h), 0);
    heap_release(&h);
}

static void test_indexed_update_remove_contains(void **state)
{
    struct heap h;
    heap_init(&h, 10);
    for (uint32_t id = 0; id < 10; id++)
        heap_push(&h, 100 + id, id);
    assert_true(heap_contains(&h, 9));
    heap_update(&h, 9, 1); /* decrease: now the minimum */
    struct heap_item it;
    heap_peek(&h, &it);
    assert_int_equal(it.id, 9);
    heap_update(&h, 9, 1000); /* increase: now the maximum */
    heap_peek(&h, &it);
    assert_int_equal(it.id, 0);
    assert_true(heap_remove(&h, 0));
    assert_false(heap_remove(&h, 0));
    assert_false(heap_contains(&h, 0));
    heap_update(&h, 0, 50); /* absent: inserted */
    assert_true(heap_contains(&h, 0));
    heap_pop(&h, &it);
    assert_int_equal(it.id, 0);
    assert_int_equal(it.key, 50);
    assert_false(heap_contains(&h, 0));
    heap_clear(&h);
    for (uint32_t id = 0; id < 10; id++)
        assert_false(heap_contains(&h, id));
    heap_push(&h, 3, 3); /* ids are free again after clear */
    assert_int_equal(heap_len(&h), 1);
    heap_release(&h);
}

static void test_indexed_random_ops_against_model(void **state)
{
    /* The model: key per id, or absent. Its minimum is found by a scan. */
    enum { NIDS = 200, OPS = 20000 };
    static const uint64_t ABSENT = UINT64_MAX;
    uint64_t model[NIDS];
    for (int i = 0; i < NIDS; i++)
        model[i] = ABSENT;
    struct heap h;
    heap_init(&h, NIDS);
    struct rng r;
    rng_seed(&r, 5);
    size_t live = 0;
    for (int op = 0; op < OPS; op++) {
        uint32_t id = (uint32_t)rng_below(&r, NIDS);
        uint64_t key = rng_below(&r, 50); /* many ties */
        switch (rng_below(&r, 4)) {
        case 0:
            live += model[id] == ABSENT;
            heap_update(&h, id, key);
            model[id] = key;
            break;
        case 1:
            assert_int_equal(heap_remove(&h, id), model[id] != ABSENT);
            live -= model[id] != ABSENT;
            model[id] = ABSENT;
            break;
        case 2: {
            struct heap_item got;
            bool any = heap_pop(&h, &got);
            assert_int_equal(any, live > 0);
            if (!any)
                break;
            uint32_t best = 0;
            for (uint32_t i = 1; i < NIDS; i++)
                if (model[i] < model[best])
                    best = i;
            assert_int_equal(got.id, best);
            assert_int_equal(got.key, model[best]);
            model[best] = ABSENT;
            live--;
            break;
        }
        default:
            if (model[id] == ABSENT) {
                heap_push(&h, key, id);
                model[id] = key;
                live++;
            }
            break;
        }
        assert_int_equal(heap_len(&h), live);
        assert_int_equal(heap_contains(&h, id), model[id] != ABSENT);
    }
    heap_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_10k_random_keys_match_sort),
        cmocka_unit_test(test_equal_keys_pop_by_id_whatever_push_order),
        cmocka_unit_test(test_duplicates_in_plain_heap),
        cmocka_unit_test(test_indexed_update_remove_contains),
        cmocka_unit_test(test_indexed_random_ops_against_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
