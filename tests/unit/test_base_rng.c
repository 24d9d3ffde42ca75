/* Tests for base/rng: reproducibility (against values computed independently
 * from the published xoshiro256** and splitmix64 definitions), bounds and
 * rough uniformity of rng_below, and rng_shuffle being a permutation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"

static void test_known_sequence(void **state)
{
    /* If these change, every simulation result changes: the seed-to-sequence
     * mapping is part of muster's reproducibility promise. */
    static const struct {
        uint64_t seed;
        uint64_t first[4];
    } cases[] = {
        {0,
         {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL,
          0x6aa594f1262d2d2cULL}},
        {42,
         {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL,
          0xecb8ad4703b360a1ULL}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct rng r;
        rng_seed(&r, cases[c].seed);
        for (int i = 0; i < 4; i++)
            assert_int_equal(rng_next(&r), cases[c].first[i]);
    }
}

static void test_same_seed_same_sequence(void **state)
{
    struct rng a, b, c;
    rng_seed(&a, 12345);
    rng_seed(&b, 12345);
    rng_seed(&c, 12346);
    int differ = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = rng_next(&a);
        assert_int_equal(x, rng_next(&b));
        differ += x != rng_next(&c);
    }
    assert_true(differ > 9990);
    /* Re-seeding restarts the sequence. */
    rng_seed(&a, 12345);
    rng_seed(&b, 12345);
    assert_int_equal(rng_below(&a, 1000), rng_below(&b, 1000));
    assert_true(rng_double(&a) == rng_double(&b));
}

static void test_below_stays_below(void **state)
{
    static const uint64_t ns[] = {
        1, 2, 3, 7, 10, 1000, (1ULL << 32) + 1, (1ULL << 63) + 1, UINT64_MAX - 1, UINT64_MAX,
    };
    struct rng r;
    rng_seed(&r, 8);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        uint64_t max_seen = 0;
        for (int i = 0; i < 10000; i++) {
            uint64_t x = rng_below(&r, ns[k]);
            assert_true(x < ns[k]);
            if (x > max_seen)
                max_seen = x;
        }
        /* For n >= 2 the top of the range is reached, roughly. */
        if (ns[k] >= 2)
            assert_true(max_seen >= ns[k] / 2);
    }
}

/* Pearson's chi-square statistic of `draws` draws of rng_below(n) against the
 * uniform distribution. */
static double chi_square_below(struct rng *r, uint64_t n, int draws)
{
    unsigned *counts = calloc(n, sizeof *counts);
    for (int i = 0; i < draws; i++)
        counts[rng_below(r, n)]++;
    double expected = (double)draws / (double)n, chi = 0;
    for (uint64_t b = 0; b < n; b++) {
        double d = counts[b] - expected;
        chi += d * d / expected;
    }
    free(counts);
    return chi;
}

static void test_below_roughly_uniform(void **state)
{
    /* With k buckets the statistic has mean k-1 and standard deviation
     * sqrt(2(k-1)); the bound is 6 standard deviations above the mean, which a
     * correct generator exceeds with probability far below 1e-6, while a
     * biased one (such as x % n with n near 2^64 / 1.5, or a generator stuck
     * in a subset) lands orders of magnitude above it. */
    static const uint64_t ns[] = {2, 3, 7, 10, 100};
    struct rng r;
    rng_seed(&r, 9);
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        double dof = (double)(ns[k] - 1);
        double bound = dof + 6 * __builtin_sqrt(2 * dof);
        double chi = chi_square_below(&r, ns[k], 100000);
        if (chi > bound)
            fail_msg("n=%llu: chi-square %.1f above %.1f", (unsigned long long)ns[k], chi, bound);
    }
}

static void test_below_unbiased_for_huge_n(void **state)
{
    /* n = 2^64 * 2/3: a naive x % n would give the lower half of the range
     * twice the weight of the upper half. */
    uint64_t n = UINT64_MAX / 3 * 2;
    struct rng r;
    rng_seed(&r, 10);
    int low = 0;
    for (int i = 0; i < 100000; i++)
        low += rng_below(&r, n) < n / 2;
    /* Expected 50000, sd about 158. */
    assert_in_range(low, 49000, 51000);
}

static void test_double_in_unit_interval(void **state)
{
    struct rng r;
    rng_seed(&r, 11);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double d = rng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
        sum += d;
    }
    assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_shuffle_is_permutation(void **state)
{
    enum { N = 1000 };
    uint32_t v[N];
    for (uint32_t i = 0; i < N; i++)
        v[i] = i;
    struct rng r;
    rng_seed(&r, 12);
    rng_shuffle(&r, v, N, sizeof v[0]);
    int moved = 0;
    for (uint32_t i = 0; i < N; i++)
        moved += v[i] != i;
    assert_true(moved > N * 9 / 10);
    qsort(v, N, sizeof v[0], cmp_u32);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(v[i], i);

    /* Empty and single-element arrays are left alone. */
    rng_shuffle(&r, NULL, 0, sizeof v[0]);
    v[0] = 5;
    rng_shuffle(&r, v, 1, sizeof v[0]);
    assert_int_equal(v[0], 5);
}

static void test_shuffle_large_elements(void **state)
{
    /* Elements larger than the shuffle's 256-byte swap buffer are swapped in
     * pieces; every byte must travel with its element. */
    enum { N = 50, SIZE = 600 };
    unsigned char *v = malloc(N * SIZE);
    for (int i = 0; i < N; i++)
        memset(v + i * SIZE, i, SIZE);
    struct rng r;
    rng_seed(&r, 13);
    rng_shuffle(&r, v, N, SIZE);
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        unsigned char tag = v[i * SIZE];
        for (int b = 1; b < SIZE; b++)
            assert_int_equal(v[i * SIZE + b], tag);
        seen[tag]++;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    free(v);
}

static void test_shuffle_uniform_over_permutations(void **state)
{
    /* All 6 orders of 3 elements, 60000 shuffles: each about 10000. */
    struct rng r;
    rng_seed(&r, 14);
    int counts[6] = {0};
    for (int t = 0; t < 60000; t++) {
        uint8_t v[3] = {0, 1, 2};
        rng_shuffle(&r, v, 3, 1);
        counts[v[0] * 2 + (v[1] > v[2])]++;
    }
    double chi = 0;
    for (int i = 0; i < 6; i++)
        chi += (counts[i] - 10000.0) * (counts[i] - 10000.0) / 10000.0;
    assert_true(chi < 5 + 6 * __builtin_sqrt(10.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_sequence),
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_below_stays_below),
        cmocka_unit_test(test_below_roughly_uniform),
        cmocka_unit_test(test_below_unbiased_for_huge_n),
        cmocka_unit_test(test_double_in_unit_interval),
        cmocka_unit_test(test_shuffle_is_permutation),
        cmocka_unit_test(test_shuffle_large_elements),
        cmocka_unit_test(test_shuffle_uniform_over_permutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
