/*
 * Tests for sched/fgd's fragmentation measure F (frag_amount), on workloads
 * small enough to compute F by hand: whole-GPU, multi-GPU, share and CPU-only
 * typical pods, GPU models, the CPU and memory tests, the 95% coverage cut
 * (and the merging of types that differ only in memory before it), and the
 * memo against an independent reference over many random states.
 *
 * F is returned scaled by 2^20 (FRAG_SCALE); S below stands for that scale.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"
#include "sched/cluster.h"
#include "sched/fgd.h"
#include "sched/policy.h"

#define S ((int64_t)FRAG_SCALE)

static struct pod_req req(int32_t cpu, int64_t mem, int gpus, int milli)
{
    struct pod_req r = {
        .cpu_milli = cpu, .mem_mib = mem, .gpus = (uint8_t)gpus, .gpu_milli = (uint16_t)milli};
    return r;
}

/* A model of the given types and weights (normalised first, as the engine's
 * callers do). */
static struct frag_model *model(const struct pod_req *t, const double *w, size_t n, double coverage,
                                bool memory)
{
    struct workload_dist wd;
    workload_dist_init(&wd);
    for (size_t i = 0; i < n; i++)
        workload_dist_add(&wd, &t[i], w[i]);
    workload_dist_normalize(&wd);
    struct frag_opts o = {.coverage = coverage, .memory = memory};
    struct frag_model *fm = frag_model_create(&wd, &o);
    workload_dist_release(&wd);
    return fm;
}

/* F of a node of model 0 with the given GPUs (free milli), CPU and memory. */
static int64_t F(struct frag_model *fm, int32_t cpu, int64_t mem, int n, const int *free)
{
    uint16_t g[CLUSTER_MAX_GPUS];
    for (int i = 0; i < n; i++)
        g[i] = (uint16_t)free[i];
    return frag_amount(fm, 0, n, g, cpu, mem);
}
#define FG(fm, cpu, ...)                                                                           \
    F((fm), (cpu), 1 << 20, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]){__VA_ARGS__})

static void test_whole_gpu_workload(void **state)
{
    /* 100% pods of (CPU 1000, one whole GPU): the partly used GPUs are the
     * fragment when a whole GPU and the CPU are there, else all free milli. */
    struct pod_req t = req(1000, 0, 1, 1000);
    struct frag_model *fm = model(&t, (double[]){1}, 1, 0.95, false);
    assert_int_equal(FG(fm, 64000, 1000, 1000), 0);
    assert_int_equal(FG(fm, 64000, 500, 1000), 500 * S);
    assert_int_equal(FG(fm, 64000, 1000, 500), 500 * S); /* order does not matter */
    assert_int_equal(FG(fm, 64000, 300, 1000, 250, 1000), 550 * S);
    assert_int_equal(FG(fm, 64000, 500, 500), 1000 * S); /* no whole GPU: all */
    assert_int_equal(FG(fm, 64000, 0, 0), 0);
    assert_int_equal(FG(fm, 64000, 0, 1000), 0);
    assert_int_equal(FG(fm, 1000, 1000, 1000), 0);       /* exactly enough CPU */
    assert_int_equal(FG(fm, 999, 1000, 1000), 2000 * S); /* too little: all */
    assert_int_equal(FG(fm, 999, 400, 1000), 1400 * S);
    assert_int_equal(F(fm, 64000, 1000, 0, NULL), 0); /* no GPUs: nothing idle */
    /* Memory is ignored without the memory option. */
    assert_int_equal(F(fm, 64000, 0, 2, (int[]){500, 1000}), 500 * S);
    frag_model_destroy(fm);
}

static void test_multi_gpu_and_share_workloads(void **state)
{
    /* 2 whole GPUs per pod: needs two fully free GPUs. */
    struct pod_req t2 = req(1000, 0, 2, 1000);
    struct frag_model *fm = model(&t2, (double[]){1}, 1, 0.95, false);
    assert_int_equal(FG(fm, 64000, 1000, 1000, 500), 500 * S);
    assert_int_equal(FG(fm, 64000, 1000, 500, 500), 2000 * S);
    assert_int_equal(FG(fm, 64000, 1000, 1000), 0);
    assert_int_equal(FG(fm, 64000, 1000), 1000 * S);
    frag_model_destroy(fm);

    /* A 300 share: GPUs with less than 300 free are the fragment, if some GPU
     * has 300. */
    struct pod_req s = req(1000, 0, 1, 300);
    fm = model(&s, (double[]){1}, 1, 0.95, false);
    assert_int_equal(FG(fm, 64000, 200, 1000), 200 * S);
    assert_int_equal(FG(fm, 64000, 300, 299), 299 * S);
    assert_int_equal(FG(fm, 64000, 200, 250), 450 * S); /* nothing fits: all */
    assert_int_equal(FG(fm, 64000, 600, 1000), 0);
    frag_model_destroy(fm);
}

static void test_weighted_mix(void **state)
{
    /* 7 : 1 of whole-GPU pods and 300 shares: weights 7/8 and 1/8, exact in
     * binary. Free [400, 1000]: whole 400, share 0 -> 7/8 * 400 = 350.
     * Free [200, 1000]: whole 200, share 200 -> 200. Free [200, 250]: neither
     * fits: all 450 for both -> 450. */
    struct pod_req t[2] = {req(1000, 0, 1, 1000), req(1000, 0, 1, 300)};
    struct frag_model *fm = model(t, (double[]){7, 1}, 2, 1.0, false);
    assert_int_equal(FG(fm, 64000, 400, 1000), 350 * S);
    assert_int_equal(FG(fm, 64000, 200, 1000), 200 * S);
    assert_int_equal(FG(fm, 64000, 200, 250), 450 * S);
    frag_model_destroy(fm);
}

static void test_cpu_only_types(void **state)
{
    /* CPU-only typical pods count every free GPU milli as fragment.
     * 1 : 1 of CPU-only and whole-GPU pods:
     *  [1000, 1000]: 1/2 * 2000 + 1/2 * 0   = 1000
     *  [500, 1000]:  1/2 * 1500 + 1/2 * 500 = 1000
     *  [500, 500]:   1/2 * 1000 + 1/2 * 1000 = 1000 */
    struct pod_req t[2] = {req(1000, 0, 0, 0), req(1000, 0, 1, 1000)};
    struct frag_model *fm = model(t, (double[]){1, 1}, 2, 1.0, false);
    assert_int_equal(FG(fm, 64000, 1000, 1000), 1000 * S);
    assert_int_equal(FG(fm, 64000, 500, 1000), 1000 * S);
    assert_int_equal(FG(fm, 64000, 500, 500), 1000 * S);
    assert_int_equal(FG(fm, 64000, 0, 1000), 500 * S);
    frag_model_destroy(fm);
}

static void test_models(void **state)
{
    /* Pods that accept only model 1: on a node of model 0 all free milli is
     * fragment; on model 1 the usual rule. A type naming no model present
     * (MODEL_MASK_NONE) can run nowhere. */
    struct pod_req t = req(1000, 0, 1, 1000);
    t.model_mask = 1ULL << 1;
    struct frag_model *fm = model(&t, (double[]){1}, 1, 1.0, false);
    uint16_t g[2] = {500, 1000};
    assert_int_equal(frag_amount(fm, 0, 2, g, 64000, 0), 1500 * S);
    assert_int_equal(frag_amount(fm, 1, 2, g, 64000, 0), 500 * S);
    assert_int_equal(frag_amount(fm, 2, 2, g, 64000, 0), 1500 * S);
    frag_model_destroy(fm);

    t.model_mask = (1ULL << 0) | (1ULL << 2);
    fm = model(&t, (double[]){1}, 1, 1.0, false);
    assert_int_equal(frag_amount(fm, 0, 2, g, 64000, 0), 500 * S);
    assert_int_equal(frag_amount(fm, 1, 2, g, 64000, 0), 1500 * S);
    assert_int_equal(frag_amount(fm, 2, 2, g, 64000, 0), 500 * S);
    frag_model_destroy(fm);

    t.model_mask = MODEL_MASK_NONE;
    fm = model(&t, (double[]){1}, 1, 1.0, false);
    assert_int_equal(frag_amount(fm, 0, 2, g, 64000, 0), 1500 * S);
    frag_model_destroy(fm);
}

static void test_cpu_thresholds(void **state)
{
    /* 1 : 1 of whole-GPU pods asking CPU 1000 and 4000. Free [500, 1000]:
     *  CPU >= 4000: both run:        1/2 * 500 + 1/2 * 500  = 500
     *  1000 <= CPU < 4000: one runs: 1/2 * 500 + 1/2 * 1500 = 1000
     *  CPU < 1000: none:                                      1500 */
    struct pod_req t[2] = {req(1000, 0, 1, 1000), req(4000, 0, 1, 1000)};
    struct frag_model *fm = model(t, (double[]){1, 1}, 2, 1.0, false);
    static const struct {
        int32_t cpu;
        int64_t f;
    } cases[] = {{100000, 500}, {4000, 500}, {3999, 1000}, {3000, 1000}, {2000, 1000},
                 {1000, 1000},  {999, 1500}, {0, 1500},    {-100, 1500}, {4000, 500}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t f = FG(fm, cases[i].cpu, 500, 1000);
        if (f != cases[i].f * S)
            fail_msg("CPU %d: F %.3f, want %lld", cases[i].cpu, (double)f / S,
                     (long long)cases[i].f);
    }
    frag_model_destroy(fm);

    /* A type asking CPU 0 counts as 100 (as in the scheduler's scores). */
    struct pod_req z = req(0, 0, 1, 1000);
    fm = model(&z, (double[]){1}, 1, 1.0, false);
    assert_int_equal(FG(fm, 100, 500, 1000), 500 * S);
    assert_int_equal(FG(fm, 99, 500, 1000), 1500 * S);
    frag_model_destroy(fm);
}

static void test_memory(void **state)
{
    /* Whole-GPU pods asking 4096 MiB. Memory-aware: a node with less free
     * memory cannot run them, so all its free GPU is fragment. */
    struct pod_req t = req(1000, 4096, 1, 1000);
    struct frag_model *fm = model(&t, (double[]){1}, 1, 1.0, true);
    assert_int_equal(F(fm, 64000, 4096, 2, (int[]){500, 1000}), 500 * S);
    assert_int_equal(F(fm, 64000, 4095, 2, (int[]){500, 1000}), 1500 * S);
    assert_int_equal(F(fm, 64000, 0, 2, (int[]){500, 1000}), 1500 * S);
    assert_int_equal(F(fm, 999, 1 << 20, 2, (int[]){500, 1000}), 1500 * S);
    frag_model_destroy(fm);
    /* Not memory-aware: memory plays no part. */
    fm = model(&t, (double[]){1}, 1, 1.0, false);
    assert_int_equal(F(fm, 64000, 4095, 2, (int[]){500, 1000}), 500 * S);
    assert_int_equal(F(fm, 64000, 0, 2, (int[]){500, 1000}), 500 * S);
    frag_model_destroy(fm);
}

static void test_coverage_cut(void **state)
{
    /* 7 : 1 of whole-GPU pods and 300 shares (7/8 = 0.875). Free [400, 1000]:
     * whole-GPU pods alone give 400; both, 7/8 * 400 + 1/8 * 0 = 350.
     *  coverage 0.8:   0.875 >= 0.8 after the first type: the share is cut,
     *                  the whole-GPU type renormalised to 1: 400.
     *  coverage 0.875: reached exactly by the first type: 400.
     *  coverage 0.9 and 1: both types: 350. */
    struct pod_req t[2] = {req(1000, 0, 1, 1000), req(1000, 0, 1, 300)};
    static const struct {
        double coverage;
        int64_t f;
    } cases[] = {{0.5, 400}, {0.8, 400}, {0.875, 400}, {0.9, 350}, {1.0, 350}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct frag_model *fm = model(t, (double[]){7, 1}, 2, cases[i].coverage, false);
        int64_t f = FG(fm, 64000, 400, 1000);
        if (f != cases[i].f * S)
            fail_msg("coverage %g: F %.3f, want %lld", cases[i].coverage, (double)f / S,
                     (long long)cases[i].f);
        frag_model_destroy(fm);
    }
}

static void test_memory_variants_merged_before_cut(void **state)
{
    /* 20 pods: 10 whole-GPU pods, each with a different memory request, 9
     * shares of 300 and one 2-GPU pod. The published simulator keys typical
     * pods without memory: whole-GPU 10, share 9, 2-GPU 1; 95% of 20 = 19 is
     * reached by the first two, so the 2-GPU type is cut. Weights 10/19, 9/19.
     * Free [1000, 400]: whole 400, share 0 -> F = 4000/19 = 210.53.
     * Keyed with memory, the ten whole-GPU variants would each weigh 1, tie
     * with the 2-GPU type, and the cut would drop a whole-GPU variant
     * instead: (9 * 400 + 1 * 1400) / 19 = 263.16. */
    struct pod_req t[12];
    double w[12];
    for (int i = 0; i < 10; i++) {
        t[i] = req(1000, 1000 + i, 1, 1000);
        w[i] = 1;
    }
    t[10] = req(1000, 0, 1, 300);
    w[10] = 9;
    t[11] = req(1000, 0, 2, 1000);
    w[11] = 1;
    struct frag_model *fm = model(t, w, 12, 0.95, false);
    double f = (double)FG(fm, 64000, 1000, 400) / S;
    if (fabs(f - 4000.0 / 19) > 0.01)
        fail_msg("F %.3f, want %.3f", f, 4000.0 / 19);
    frag_model_destroy(fm);

    /* Memory-aware (fgdx's measure) keeps the variants apart; with coverage
     * 0.95 the tie at weight 1 goes to the larger GPU request, so the 2-GPU
     * type is kept and one whole-GPU variant cut: 263.16 (plenty of memory). */
    fm = model(t, w, 12, 0.95, true);
    f = (double)FG(fm, 64000, 1000, 400) / S;
    if (fabs(f - 5000.0 / 19) > 0.01)
        fail_msg("memory-aware F %.3f, want %.3f", f, 5000.0 / 19);
    frag_model_destroy(fm);
}

static void test_empty_workload(void **state)
{
    struct workload_dist wd;
    workload_dist_init(&wd);
    struct frag_opts o = {.coverage = 0.95, .memory = false};
    struct frag_model *fm = frag_model_create(&wd, &o);
    assert_int_equal(FG(fm, 64000, 500, 1000), 0);
    frag_model_destroy(fm);
    frag_model_destroy(NULL);
}

/* ---- the memo against a reference, over many random states ---- */

struct ref {
    struct pod_req t[4];
    double f[4];
    int n;
};

static double ref_F(const struct ref *r, int n, const int *g, int32_t cpu)
{
    int idle = 0;
    for (int i = 0; i < n; i++)
        idle += g[i];
    double f = 0;
    for (int p = 0; p < r->n; p++) {
        const struct pod_req *t = &r->t[p];
        int amount = idle;
        int need_cpu = t->cpu_milli ? t->cpu_milli : 100;
        if (t->gpus > 0 && cpu >= need_cpu) {
            int fit = 0, small = 0;
            for (int i = 0; i < n; i++) {
                if (g[i] >= t->gpu_milli)
                    fit++;
                else
                    small += g[i];
            }
            if (fit >= t->gpus)
                amount = small;
        }
        f += r->f[p] * amount;
    }
    return f;
}

static void test_memo_matches_reference(void **state)
{
    /* More distinct states than the memo holds (it is cleared when 3/4 full,
     * 196608 entries), so answers must survive the clearing too. Queries
     * repeat often (a small set of CPU values, GPU vectors from a coarse
     * grid), so the memo is also hit. Weights 1/2, 1/4, 1/8, 1/8 are exact. */
    struct ref r = {
        .t = {req(1000, 0, 1, 1000), req(4000, 0, 1, 500), req(2000, 0, 2, 1000), req(0, 0, 0, 0)},
        .f = {0.5, 0.25, 0.125, 0.125},
        .n = 4};
    struct frag_model *fm = model(r.t, (double[]){4, 2, 1, 1}, 4, 1.0, false);
    static const int32_t cpus[] = {0, 999, 1000, 1999, 2000, 3999, 4000, 64000};
    struct rng g;
    rng_seed(&g, 11);
    for (int q = 0; q < 240000; q++) {
        int n = 1 + (int)rng_below(&g, 16), fv[CLUSTER_MAX_GPUS];
        uint16_t gv[CLUSTER_MAX_GPUS];
        for (int i = 0; i < n; i++) {
            fv[i] = (int)rng_below(&g, 21) * 50;
            gv[i] = (uint16_t)fv[i];
        }
        int32_t cpu = cpus[rng_below(&g, 8)];
        double want = ref_F(&r, n, fv, cpu);
        int64_t got = frag_amount(fm, 0, n, gv, cpu, 0);
        if (got != (int64_t)(want * FRAG_SCALE))
            fail_msg("query %d: F %.4f, want %.4f", q, (double)got / FRAG_SCALE, want);
    }
    frag_model_destroy(fm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_gpu_workload),
        cmocka_unit_test(test_multi_gpu_and_share_workloads),
        cmocka_unit_test(test_weighted_mix),
        cmocka_unit_test(test_cpu_only_types),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_cpu_thresholds),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_coverage_cut),
        cmocka_unit_test(test_memory_variants_merged_before_cut),
        cmocka_unit_test(test_empty_workload),
        cmocka_unit_test(test_memo_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
