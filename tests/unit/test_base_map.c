/* Tests for base/map: string and integer keys, deletion then reinsertion with
 * 100k keys, tombstone reuse under churn, iteration with deletion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/map.h"
#include "base/rng.h"

enum { NKEYS = 100000 };

/* Keys for the big tests, built once: "key-0", "key-1", ... */
static char keys[NKEYS][16];
static size_t key_lens[NKEYS];

static int make_keys(void **state)
{
    for (int i = 0; i < NKEYS; i++)
        key_lens[i] = (size_t)snprintf(keys[i], sizeof keys[i], "key-%d", i);
    return 0;
}

/* White-box: the counts the map keeps agree with its slots, and live entries
 * plus tombstones stay within the load limit (so a probe always ends). */
static void check_invariants(const struct map *m)
{
    size_t live = 0, tombs = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].hash == 1)
            tombs++;
        else if (m->slots[i].hash > 1)
            live++;
    }
    assert_int_equal(live, m->len);
    assert_int_equal(tombs, m->tombs);
    assert_true(m->cap == 0 || m->len + m->tombs <= m->cap / 4 * 3);
}

static void test_empty_map(void **state)
{
    struct map m;
    map_init(&m, MAP_KEY_STR);
    assert_int_equal(map_len(&m), 0);
    assert_null(map_get(&m, "a", 1));
    assert_false(map_del(&m, "a", 1));
    size_t it = 0;
    assert_null(map_next(&m, &it));
    map_release(&m);

    map_init(&m, MAP_KEY_U64);
    assert_null(map_get_u64(&m, 0));
    assert_false(map_del_u64(&m, 0));
    map_release(&m);
}

static void test_put_get_del_strings(void **state)
{
    /* Keys chosen to catch length and prefix confusion: "", a prefix of
     * another, and keys with NUL bytes inside. */
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"", 0},
        {"a", 1},
        {"ab", 2},
        {"abc", 3},
        {"a\0b", 3},
        {"a\0c", 3},
        {"\0", 1},
        {"\0\0", 2},
        {"A100", 4},
        {"a100", 4},
        {"nvidia.com/gpu.product", 22},
        {"12345678", 8},
        {"123456789", 9},
        {"1234567", 7},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    struct map m;
    map_init(&m, MAP_KEY_STR);
    for (size_t i = 0; i < n; i++) {
        bool found = true;
        union map_val *v = map_put(&m, cases[i].s, cases[i].len, &found);
        assert_false(found);
        assert_int_equal(v->u64, 0); /* new slots are zeroed */
        v->u64 = i + 100;
    }
    assert_int_equal(map_len(&m), n);
    for (size_t i = 0; i < n; i++) {
        union map_val *v = map_get(&m, cases[i].s, cases[i].len);
        assert_non_null(v);
        assert_int_equal(v->u64, i + 100);
        bool found = false;
        assert_ptr_equal(map_put(&m, cases[i].s, cases[i].len, &found), v);
        assert_true(found);
    }
    /* NULL with length 0 is the empty key. */
    assert_int_equal(map_get(&m, NULL, 0)->u64, 100);
    assert_null(map_get(&m, "abcd", 4));
    assert_null(map_get(&m, "a\0d", 3));

    for (size_t i = 0; i < n; i += 2)
        assert_true(map_del(&m, cases[i].s, cases[i].len));
    for (size_t i = 0; i < n; i++) {
        union map_val *v = map_get(&m, cases[i].s, cases[i].len);
        if (i % 2 == 0) {
            assert_null(v);
            assert_false(map_del(&m, cases[i].s, cases[i].len));
        } else {
            assert_int_equal(v->u64, i + 100);
        }
    }
    map_release(&m);
}

static void test_pointer_values(void **state)
{
    int objs[3];
    struct map m;
    map_init(&m, MAP_KEY_STR);
    map_put(&m, "x", 1, NULL)->ptr = &objs[0];
    map_put(&m, "y", 1, NULL)->ptr = &objs[1];
    assert_ptr_equal(map_get(&m, "x", 1)->ptr, &objs[0]);
    assert_ptr_equal(map_get(&m, "y", 1)->ptr, &objs[1]);
    assert_null(map_put(&m, "z", 1, NULL)->ptr);
    map_release(&m);
}

static void test_100k_string_keys_delete_and_reinsert(void **state)
{
    struct map m;
    map_init(&m, MAP_KEY_STR);
    for (int i = 0; i < NKEYS; i++)
        map_put(&m, keys[i], key_lens[i], NULL)->u64 = (uint64_t)i;
    assert_int_equal(map_len(&m), NKEYS);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(map_get(&m, keys[i], key_lens[i])->u64, i);

    /* Delete the odd keys. */
    for (int i = 1; i < NKEYS; i += 2)
        assert_true(map_del(&m, keys[i], key_lens[i]));
    assert_int_equal(map_len(&m), NKEYS / 2);
    for (int i = 0; i < NKEYS; i++) {
        union map_val *v = map_get(&m, keys[i], key_lens[i]);
        if (i % 2)
            assert_null(v);
        else
            assert_int_equal(v->u64, i);
    }

    /* Reinsert them with new values; the even ones are untouched. */
    for (int i = 1; i < NKEYS; i += 2) {
        bool found = true;
        map_put(&m, keys[i], key_lens[i], &found)->u64 = (uint64_t)i + NKEYS;
        assert_false(found);
    }
    assert_int_equal(map_len(&m), NKEYS);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(map_get(&m, keys[i], key_lens[i])->u64,
                         i % 2 ? (uint64_t)i + NKEYS : (uint64_t)i);

    /* Everything out, then the map is empty but still works. */
    for (int i = 0; i < NKEYS; i++)
        assert_true(map_del(&m, keys[i], key_lens[i]));
    assert_int_equal(map_len(&m), 0);
    assert_null(map_get(&m, keys[7], key_lens[7]));
    map_put(&m, keys[7], key_lens[7], NULL)->u64 = 7;
    assert_int_equal(map_get(&m, keys[7], key_lens[7])->u64, 7);
    map_release(&m);
}

static void test_100k_u64_keys_delete_and_reinsert(void **state)
{
    struct rng r;
    rng_seed(&r, 7);
    static uint64_t ks[NKEYS];
    /* Edge values first, then sequential ones (a weak hash would cluster
     * them), then random ones. Duplicates among the random ones are
     * astronomically unlikely with a fixed seed, and checked below. */
    ks[0] = 0;
    ks[1] = UINT64_MAX;
    ks[2] = 1;
    for (int i = 3; i < NKEYS / 2; i++)
        ks[i] = (uint64_t)i << 32;
    for (int i = NKEYS / 2; i < NKEYS; i++)
        ks[i] = rng_next(&r);

    struct map m;
    map_init(&m, MAP_KEY_U64);
    for (int i = 0; i < NKEYS; i++) {
        bool found;
        map_put_u64(&m, ks[i], &found)->u64 = (uint64_t)i;
        assert_false(found);
    }
    assert_int_equal(map_len(&m), NKEYS);
    for (int i = 0; i < NKEYS; i += 3)
        assert_true(map_del_u64(&m, ks[i]));
    for (int i = 0; i < NKEYS; i++) {
        union map_val *v = map_get_u64(&m, ks[i]);
        if (i % 3 == 0)
            assert_null(v);
        else
            assert_int_equal(v->u64, i);
    }
    for (int i = 0; i < NKEYS; i += 3)
        map_put_u64(&m, ks[i], NULL)->u64 = (uint64_t)i * 2;
    assert_int_equal(map_len(&m), NKEYS);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(map_get_u64(&m, ks[i])->u64, i % 3 == 0 ? (uint64_t)i * 2 : (uint64_t)i);
    map_release(&m);
}

static void test_churn_does_not_grow_table(void **state)
{
    /* A queue-like map: a window of 1000 live keys slides over 1M distinct
     * keys. Tombstones must be recycled or cleared by rehashing, not allowed
     * to push the table to ever larger sizes. */
    struct map m;
    map_init(&m, MAP_KEY_U64);
    for (uint64_t i = 0; i < 1000000; i++) {
        map_put_u64(&m, i, NULL)->u64 = i;
        if (i >= 1000)
            assert_true(map_del_u64(&m, i - 1000));
    }
    assert_int_equal(map_len(&m), 1000);
    assert_true(m.cap <= 4096);
    check_invariants(&m);
    for (uint64_t i = 1000000 - 1000; i < 1000000; i++)
        assert_int_equal(map_get_u64(&m, i)->u64, i);
    map_release(&m);
}

static void test_random_ops_against_model(void **state)
{
    /* 300k random puts and deletes over 5000 keys, checked against a plain
     * array. Random deletes leave tombstones in the middle of probe runs,
     * which the sliding-window test above rarely does. */
    enum { NK = 5000, OPS = 300000 };
    static uint64_t model[NK]; /* 0: absent, else value */
    memset(model, 0, sizeof model);
    struct rng r;
    rng_seed(&r, 17);
    struct map m;
    map_init(&m, MAP_KEY_U64);
    size_t live = 0;
    for (int op = 0; op < OPS; op++) {
        uint64_t k = rng_below(&r, NK);
        uint64_t key = k * 0x9e3779b97f4a7c15ULL; /* scattered keys */
        if (rng_below(&r, 2)) {
            bool found;
            map_put_u64(&m, key, &found)->u64 = (uint64_t)op + 1;
            assert_int_equal(found, model[k] != 0);
            live += !found;
            model[k] = (uint64_t)op + 1;
        } else {
            assert_int_equal(map_del_u64(&m, key), model[k] != 0);
            live -= model[k] != 0;
            model[k] = 0;
        }
        assert_int_equal(map_len(&m), live);
        if (op % 10000 == 0) {
            check_invariants(&m);
            for (uint64_t j = 0; j < NK; j++) {
                union map_val *v = map_get_u64(&m, j * 0x9e3779b97f4a7c15ULL);
                if (model[j])
                    assert_int_equal(v->u64, model[j]);
                else
                    assert_null(v);
            }
        }
    }
    check_invariants(&m);
    assert_true(m.cap <= 16384);
    map_release(&m);
}

static void test_iteration_visits_each_once_and_allows_delete(void **state)
{
    struct map m;
    map_init(&m, MAP_KEY_STR);
    enum { N = 5000 };
    for (int i = 0; i < N; i++)
        map_put(&m, keys[i], key_lens[i], NULL)->u64 = (uint64_t)i;
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    size_t it = 0, visits = 0;
    for (struct map_entry *e; (e = map_next(&m, &it));) {
        uint64_t i = e->val.u64;
        assert_true(i < N);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        assert_int_equal(e->key.len, key_lens[i]);
        assert_memory_equal(e->key.str, keys[i], key_lens[i]);
        visits++;
        /* Deleting the entry just returned is allowed mid-iteration. */
        if (i % 2 == 0)
            assert_true(map_del(&m, e->key.str, e->key.len));
    }
    assert_int_equal(visits, N);
    assert_int_equal(map_len(&m), N / 2);
    it = 0;
    visits = 0;
    for (struct map_entry *e; (e = map_next(&m, &it));) {
        assert_int_equal(e->val.u64 % 2, 1);
        visits++;
    }
    assert_int_equal(visits, N / 2);
    map_release(&m);
}

static void test_clear_and_reserve(void **state)
{
    struct map m;
    map_init(&m, MAP_KEY_U64);
    map_reserve(&m, 10000);
    struct map_entry *slots = m.slots;
    for (uint64_t i = 0; i < 10000; i++)
        map_put_u64(&m, i * 977, NULL)->u64 = i;
    /* Reserved room means no rehash while filling. */
    assert_ptr_equal(m.slots, slots);
    map_clear(&m);
    assert_int_equal(map_len(&m), 0);
    assert_null(map_get_u64(&m, 977));
    assert_ptr_equal(m.slots, slots);
    map_put_u64(&m, 977, NULL)->u64 = 1;
    assert_int_equal(map_get_u64(&m, 977)->u64, 1);
    map_release(&m);
    assert_null(m.slots);
    /* Released maps are reusable. */
    map_put_u64(&m, 5, NULL)->u64 = 5;
    assert_int_equal(map_get_u64(&m, 5)->u64, 5);
    map_release(&m);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_hashes_distinct_and_stable(void **state)
{
    /* 100k similar keys get 100k distinct 64-bit hashes. */
    static uint64_t h[NKEYS];
    for (int i = 0; i < NKEYS; i++)
        h[i] = map_hash_str(keys[i], key_lens[i]);
    qsort(h, NKEYS, sizeof h[0], cmp_u64);
    for (int i = 1; i < NKEYS; i++)
        assert_true(h[i] != h[i - 1]);

    /* Trailing NULs and length are part of the key. */
    assert_true(map_hash_str("a", 1) != map_hash_str("a\0", 2));
    assert_true(map_hash_str("", 0) != map_hash_str("\0", 1));
    assert_true(map_hash_str("12345678", 8) != map_hash_str("12345678\0", 9));

    /* The low bits index the table; for sequential keys they must spread over
     * the buckets rather than cluster. 100k keys over 256 buckets: every bucket
     * gets between half and twice its share. */
    unsigned buckets[256] = {0};
    for (uint64_t i = 0; i < NKEYS; i++)
        buckets[map_hash_u64(i) & 255]++;
    for (int b = 0; b < 256; b++)
        assert_in_range(buckets[b], NKEYS / 256 / 2, NKEYS / 256 * 2);

    /* Pinned values: iteration order, and so anything the engine derives from
     * it, follows from these. Changing the hash must be a deliberate act. */
    assert_int_equal(map_hash_str("", 0), 0x71285e898ec4f180ULL);
    assert_int_equal(map_hash_str("A100", 4), 0x11f1d36f37425877ULL);
    assert_int_equal(map_hash_u64(42), 0xbdd732262feb6e95ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_map),
        cmocka_unit_test(test_put_get_del_strings),
        cmocka_unit_test(test_pointer_values),
        cmocka_unit_test(test_100k_string_keys_delete_and_reinsert),
        cmocka_unit_test(test_100k_u64_keys_delete_and_reinsert),
        cmocka_unit_test(test_churn_does_not_grow_table),
        cmocka_unit_test(test_random_ops_against_model),
        cmocka_unit_test(test_iteration_visits_each_once_and_allows_delete),
        cmocka_unit_test(test_clear_and_reserve),
        cmocka_unit_test(test_hashes_distinct_and_stable),
    };
    return cmocka_run_group_tests(tests, make_keys, NULL);
}
