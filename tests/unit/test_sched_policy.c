/*
 * Tests for sched/policy and sched/fgd through the engine: for each policy,
 * clusters of two to four hand-built nodes where the right node and GPUs are
 * worked out by hand in the comments, from the formulas of the FGD paper's
 * simulator (docs/placement-policies.md). Scores are truncated integers, so
 * each comment gives the exact value and its truncation.
 *
 * Conventions: node capacities are CPU in milli-cores, memory in MiB; "free
 * [a, b]" is the free milli of each GPU in index order. Pods placed before the
 * engine starts (with pre()) take CPU 0 and memory 0 unless stated, so they
 * change only the GPUs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sched/cluster.h"
#include "sched/engine.h"
#include "sched/policy.h"

struct nspec {
    int32_t cpu;
    int64_t mem;
    int gpus;
    const char *model;
};

static struct pod_req req(int32_t cpu, int64_t mem, int gpus, int milli)
{
    struct pod_req r = {
        .cpu_milli = cpu, .mem_mib = mem, .gpus = (uint8_t)gpus, .gpu_milli = (uint16_t)milli};
    return r;
}

static void build(struct cluster *c, const struct nspec *ns, size_t n)
{
    struct err e = {0};
    cluster_init(c);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "n%zu", i);
        if (cluster_add_node(c, name, ns[i].cpu, ns[i].mem, ns[i].gpus,
                             ns[i].model ? ns[i].model : "G2", &e) < 0)
            fail_msg("%s", e.msg);
    }
}

/* Puts a pod of `milli` per GPU (CPU 0, memory 0) on node's GPUs
 * gpu[0..ngpu-1], before the engine is created. */
static void pre(struct cluster *c, uint32_t node, int milli, int ngpu, const int *gpu)
{
    struct pod_req r = req(0, 0, ngpu, milli);
    struct placement p = {.node = node, .ngpu = (uint8_t)ngpu};
    for (int i = 0; i < ngpu; i++)
        p.gpu[i] = (uint8_t)gpu[i];
    assert_true(cluster_fits(c, node, &r));
    cluster_place(c, &r, &p);
}

static const struct policy_ops *policy(const char *name)
{
    struct err e = {0};
    const struct policy_ops *ops = policy_find(name, &e);
    if (!ops)
        fail_msg("%s", e.msg);
    return ops;
}

/* engine_place() must choose node and, in order, the GPUs gpu[0..ngpu-1]. */
static void expect_at(struct engine *en, struct pod_req r, uint32_t node, int ngpu, const int *gpu,
                      int line)
{
    struct placement p;
    memset(&p, 0xaa, sizeof p);
    if (!engine_place(en, &r, &p))
        fail_msg("line %d: %s placed nothing, want node %u", line, en->ops->name, node);
    if (p.node != node)
        fail_msg("line %d: %s chose node %u, want %u", line, en->ops->name, p.node, node);
    if (p.ngpu != ngpu)
        fail_msg("line %d: %s took %d GPUs, want %d", line, en->ops->name, p.ngpu, ngpu);
    for (int i = 0; i < ngpu; i++)
        if (p.gpu[i] != gpu[i])
            fail_msg("line %d: %s: GPU #%d is %d, want %d", line, en->ops->name, i, p.gpu[i],
                     gpu[i]);
}
#define EXPECT(en, r, node, ...)                                                                   \
    expect_at((en), (r), (node), (int)(sizeof((int[]){-1, __VA_ARGS__}) / sizeof(int)) - 1,        \
              (int[]){-1, __VA_ARGS__} + 1, __LINE__)

static void expect_none(struct engine *en, struct pod_req r)
{
    struct placement p;
    assert_false(engine_place(en, &r, &p));
}

/* A workload of the given request types and weights, normalised. */
static void workload(struct workload_dist *wd, const struct pod_req *types, const double *w,
                     size_t n)
{
    workload_dist_init(wd);
    for (size_t i = 0; i < n; i++)
        workload_dist_add(wd, &types[i], w[i]);
    workload_dist_normalize(wd);
}

/* ------------------------------------------------------------------ registry */

static void test_policy_find(void **state)
{
    static const char *const names[] = {"random",  "dotprod", "gpuclustering", "gpupacking",
                                        "bestfit", "fgd",     "fgdx"};
    struct err e = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct policy_ops *ops = policy_find(names[i], &e);
        assert_non_null(ops);
        assert_string_equal(ops->name, names[i]);
        assert_non_null(ops->summary);
    }
    assert_null(policy_find("nope", &e));
    assert_int_equal(e.code, ENOENT);
    assert_non_null(strstr(e.msg, "'nope'"));
    /* The message lists every policy there is. */
    for (size_t i = 0; i < policy_count; i++)
        if (!strstr(e.msg, policy_all[i]->name))
            fail_msg("'%s' not listed in: %s", policy_all[i]->name, e.msg);
    /* Exact names only. */
    assert_null(policy_find("FGD", &e));
    assert_null(policy_find("fg", &e));
    assert_null(policy_find("", &e));
}

/* ------------------------------------------------------------------- random */

static double chi_square(const int *count, int n, double expect)
{
    double x = 0;
    for (int i = 0; i < n; i++)
        x += (count[i] - expect) * (count[i] - expect) / expect;
    return x;
}

static void test_random_uniform_over_nodes(void **state)
{
    /* 8 identical nodes, 8000 tiny CPU-only pods (they never fill a node).
     * Each node should get about 1000. The nodes drift apart as they fill,
     * so the engine's classes split: uniformity must hold across classes. The
     * seed is fixed, so this is deterministic; the bound is the chi-square
     * critical value for 7 degrees of freedom at p = 0.001. */
    struct nspec ns[8];
    for (int i = 0; i < 8; i++)
        ns[i] = (struct nspec){1000000, 1000000, 2, "G2"};
    struct cluster c;
    struct engine en;
    build(&c, ns, 8);
    engine_init(&en, &c, policy("random"), NULL, 1);
    int count[8] = {0};
    for (int i = 0; i < 8000; i++) {
        struct placement p;
        struct pod_req r = req(1, 1, 0, 0);
        assert_true(engine_place(&en, &r, &p));
        count[p.node]++;
    }
    for (int i = 0; i < 8; i++)
        assert_true(count[i] > 0);
    double x = chi_square(count, 8, 1000);
    if (x > 24.32)
        fail_msg("chi-square %.1f over 8 nodes", x);
    engine_release(&en);
    cluster_release(&c);
}

static void test_random_weights_classes_by_size(void **state)
{
    /* Classes of 1, 3 and 4 nodes: a node must be as likely as any other,
     * whatever the size of its class (choosing a class uniformly would give
     * node 0 a third of the picks). engine_select does not change the state,
     * so the classes stay as they are. */
    struct nspec ns[8] = {
        {64000, 1000, 1, "T4"},                                                 /* 0 */
        {64000, 1000, 2, "G2"}, {64000, 1000, 2, "G2"}, {64000, 1000, 2, "G2"}, /* 1-3 */
        {32000, 1000, 2, "G2"}, {32000, 1000, 2, "G2"}, {32000, 1000, 2, "G2"}, /* 4-7 */
        {32000, 1000, 2, "G2"},
    };
    struct cluster c;
    struct engine en;
    build(&c, ns, 8);
    engine_init(&en, &c, policy("random"), NULL, 2);
    assert_int_equal(en.ix.nlive, 3);
    int count[8] = {0};
    for (int i = 0; i < 8000; i++) {
        struct placement p;
        struct pod_req r = req(1000, 10, 1, 1000);
        assert_true(engine_select(&en, &r, &p));
        count[p.node]++;
    }
    double x = chi_square(count, 8, 1000);
    if (x > 24.32)
        fail_msg("chi-square %.1f; node 0 got %d", x, count[0]);
    engine_release(&en);
    cluster_release(&c);
}

static void test_random_only_feasible(void **state)
{
    /* Nodes 0 and 2 lack the CPU; 1 and 3 both get chosen, about evenly. */
    struct nspec ns[4] = {
        {500, 1000, 1, "G2"}, {8000, 1000, 1, "G2"}, {999, 1000, 1, "G2"}, {4000, 1000, 2, "T4"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 4);
    engine_init(&en, &c, policy("random"), NULL, 3);
    int count[4] = {0};
    for (int i = 0; i < 2000; i++) {
        struct placement p;
        struct pod_req r = req(1000, 10, 1, 500);
        assert_true(engine_select(&en, &r, &p));
        count[p.node]++;
    }
    assert_int_equal(count[0], 0);
    assert_int_equal(count[2], 0);
    assert_in_range(count[1], 850, 1150);
    assert_in_range(count[3], 850, 1150);
    /* Nothing fits: no node, and the cluster is untouched. */
    struct pod_req big = req(9000, 10, 0, 0);
    expect_none(&en, big);
    assert_int_equal(en.failed, 1);
    assert_int_equal(c.cpu_free_total, c.cpu_cap_total);
    engine_release(&en);
    cluster_release(&c);
}

static void test_random_share_gpu_uniform(void **state)
{
    /* One node, free [1000, 1000, 100, 1000]: a 500 share may go on GPUs 0, 1
     * or 3 (uniformly), never on GPU 2. */
    struct nspec ns[1] = {{64000, 1000, 4, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 1);
    pre(&c, 0, 900, 1, (int[]){2});
    engine_init(&en, &c, policy("random"), NULL, 4);
    int count[4] = {0};
    for (int i = 0; i < 3000; i++) {
        struct placement p;
        struct pod_req r = req(10, 10, 1, 500);
        assert_true(engine_select(&en, &r, &p));
        assert_int_equal(p.ngpu, 1);
        count[p.gpu[0]]++;
    }
    assert_int_equal(count[2], 0);
    assert_in_range(count[0], 850, 1150);
    assert_in_range(count[1], 850, 1150);
    assert_in_range(count[3], 850, 1150);
    /* Whole GPUs are not drawn: the lowest fully free ones. */
    EXPECT(&en, req(10, 10, 2, 1000), 0, 0, 1);
    engine_release(&en);
    cluster_release(&c);
}

/* Places the same 60 mixed pods with a seed (29 GPUs' worth on 64 GPUs: they
 * fit however randomly they are spread); writes the node and GPU of each. */
static void random_sequence(uint64_t seed, uint32_t *out)
{
    struct nspec ns[4] = {{64000, 262144, 16, "G2"},
                          {64000, 262144, 16, "G2"},
                          {32000, 131072, 16, "T4"},
                          {96000, 262144, 16, "G2"}};
    static const int milli[] = {200, 500, 1000, 250};
    struct cluster c;
    struct engine en;
    build(&c, ns, 4);
    engine_init(&en, &c, policy("random"), NULL, seed);
    for (int i = 0; i < 60; i++) {
        struct placement p;
        struct pod_req r = req(100, 100, 1, milli[i % 4]);
        assert_true(engine_place(&en, &r, &p));
        out[i] = p.node * 100 + p.gpu[0];
    }
    engine_release(&en);
    cluster_release(&c);
}

static void test_random_seeded(void **state)
{
    uint32_t a[60], b[60], d[60];
    random_sequence(99, a);
    random_sequence(99, b);
    random_sequence(100, d);
    assert_memory_equal(a, b, sizeof a);
    /* Another seed: node and GPU agree by chance for a small fraction only. */
    int differ = 0;
    for (int i = 0; i < 60; i++)
        differ += a[i] != d[i];
    assert_true(differ > 30);
}

/* ------------------------------------------------------------------ dotprod */

static void test_dotprod_smallest_dot_product(void **state)
{
    /* Pod: CPU 16000, one whole GPU. With MAX_CPU = 128000, MAX_GPU = 8000:
     * p = [16000/128000, 1000/8000] = [0.125, 0.125].
     * score = trunc(100 * (1 - (n . p) / 2)), n = [cpu free/128000, GPU free/8000].
     *  node 0: 64000, 8 GPUs free:    n = [0.5, 1]
     *          n.p = 0.0625 + 0.125 = 0.1875;   100 * (1 - 0.09375)   = 90.625  -> 90
     *  node 1: 32000, 2 GPUs, GPU 0 has 500 free: n = [0.25, 1500/8000 = 0.1875]
     *          n.p = 0.03125 + 0.0234375 = 0.0546875;
     *                                           100 * (1 - 0.02734375) = 97.27  -> 97
     *  node 2: 96000, 4 GPUs free:    n = [0.75, 0.5]
     *          n.p = 0.09375 + 0.0625 = 0.15625; 100 * (1 - 0.078125) = 92.19  -> 92
     * Node 1 wins; a whole GPU takes the lowest fully free one, GPU 1. */
    struct nspec ns[3] = {
        {64000, 262144, 8, "G2"}, {32000, 262144, 2, "G2"}, {96000, 262144, 4, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 3);
    pre(&c, 1, 500, 1, (int[]){0});
    engine_init(&en, &c, policy("dotprod"), NULL, 1);
    EXPECT(&en, req(16000, 1024, 1, 1000), 1, 1);
    /* Again: node 1 has 16000 CPU and 500 GPU milli left, no whole GPU, so it
     * no longer fits. node 0 (90) against node 2 (92): node 2, GPU 0. */
    EXPECT(&en, req(16000, 1024, 1, 1000), 2, 0);
    /* Now node 2: n = [80000/128000 = 0.625, 3000/8000 = 0.375];
     * n.p = 0.078125 + 0.046875 = 0.125; 100 * (1 - 0.0625) = 93.75 -> 93 > 90. */
    EXPECT(&en, req(16000, 1024, 1, 1000), 2, 1);
    engine_release(&en);
    cluster_release(&c);
}

static void test_dotprod_short_cpu_scores_zero(void **state)
{
    /* A pod asking CPU 0 counts as 100 milli-cores in scores (filtering uses
     * 0). Node 0 has 50 free: it passes the filter but 50 < 100 scores 0.
     * Node 1: n.p = (128000/128000) * (100/128000) = 0.00078125;
     *         100 * (1 - 0.000390625) = 99.96 -> 99.
     * (Without the rule node 0 would score 100 * (1 - tiny) -> 99 and win the
     * tie as the lower id.) */
    struct nspec ns[2] = {{50, 1000, 1, "G2"}, {128000, 1000, 1, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 2);
    engine_init(&en, &c, policy("dotprod"), NULL, 1);
    EXPECT(&en, req(0, 10, 0, 0), 1);
    engine_release(&en);
    cluster_release(&c);
}

static void test_dotprod_multi_gpu_total(void **state)
{
    /* A multi-GPU pod counts its total GPU: CPU 16000, 4 whole GPUs,
     * p = [0.125, 4000/8000 = 0.5].
     *  node 0: 16000, 8 GPUs:  n = [0.125, 1]; n.p = 0.015625 + 0.5 = 0.515625;
     *          100 * (1 - 0.2578125) = 74.2 -> 74
     *  node 1: 128000, 4 GPUs: n = [1, 0.5];   n.p = 0.125 + 0.25 = 0.375;
     *          100 * (1 - 0.1875) = 81.25 -> 81
     * Node 1, GPUs 0-3. (Counting one GPU's 1000 instead, node 0 would win,
     * 92 to 90.) */
    struct nspec ns[2] = {{16000, 262144, 8, "G2"}, {128000, 262144, 4, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 2);
    engine_init(&en, &c, policy("dotprod"), NULL, 1);
    EXPECT(&en, req(16000, 1024, 4, 1000), 1, 0, 1, 2, 3);
    engine_release(&en);
    cluster_release(&c);
}

/* ------------------------------------------------------------------ bestfit */

static void test_bestfit_tightest_node(void **state)
{
    /* Pod: CPU 8000, one whole GPU.
     * left = 0.5 * (cpu free - 8000) / 128000 + 0.5 * (GPU free - 1000) / 8000,
     * score = trunc(100 * (1 - left)).
     *  node 0: 64000, 8 GPUs free:        left = 0.21875 + 0.4375  = 0.65625  -> 34
     *  node 1: 32000, 4 GPUs, 0-1 taken:  left = 0.09375 + 0.0625  = 0.15625  -> 84
     *  node 2: 16000, 2 GPUs free:        left = 0.03125 + 0.0625  = 0.09375  -> 90
     * 1st: node 2 (90), GPU 0.
     * 2nd: node 2 now 8000 CPU, 1000 GPU: left = 0 -> 100: node 2, GPU 1.
     * 3rd: node 2 is full; node 1 (84) over node 0 (34): node 1, GPU 2.
     * 4th: node 1 now 24000, 1000: left = 0.0625 + 0 -> 93.75 -> 93: node 1, GPU 3.
     * 5th: node 1 is full: node 0, GPU 0. */
    struct nspec ns[3] = {
        {64000, 262144, 8, "G2"}, {32000, 262144, 4, "G2"}, {16000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 3);
    pre(&c, 1, 1000, 2, (int[]){0, 1});
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    struct pod_req r = req(8000, 1024, 1, 1000);
    EXPECT(&en, r, 2, 0);
    EXPECT(&en, r, 2, 1);
    EXPECT(&en, r, 1, 2);
    EXPECT(&en, r, 1, 3);
    EXPECT(&en, r, 0, 0);
    engine_release(&en);
    cluster_release(&c);
}

static void test_bestfit_truncation_ties(void **state)
{
    /* CPU-only pod of 1000 on nodes without GPUs: left = 0.5 * (free - 1000) / 128000.
     *  node 0: 2280 free: left = 0.005  -> 99.5  -> 99
     *  node 1: 1640 free: left = 0.0025 -> 99.75 -> 99
     *  node 2: 1000 free: left = 0      -> 100
     * 1st: node 2. 2nd: node 2 is full; 0 and 1 tie at 99 after truncation,
     * so the lower id, node 0, wins although node 1 is tighter. */
    struct nspec ns[3] = {{2280, 1000, 0, ""}, {1640, 1000, 0, ""}, {1000, 1000, 0, ""}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 3);
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    EXPECT(&en, req(1000, 10, 0, 0), 2);
    EXPECT(&en, req(1000, 10, 0, 0), 0);
    engine_release(&en);
    cluster_release(&c);
}

static void test_bestfit_cpu_pod_prefers_no_idle_gpu(void **state)
{
    /* CPU-only pod of 1000:
     *  node 0: 64000, 8 GPUs free: left = 0.5 * 63000/128000 + 0.5 * 8000/8000
     *                                   = 0.24609375 + 0.5 = 0.74609375 -> 25
     *  node 1: 64000, no GPU:      left = 0.24609375          -> 75.39 -> 75 */
    struct nspec ns[2] = {{64000, 1000, 8, "G2"}, {64000, 1000, 0, ""}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 2);
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    EXPECT(&en, req(1000, 10, 0, 0), 1);
    engine_release(&en);
    cluster_release(&c);
}

static void test_bestfit_share_gpu_best_fit(void **state)
{
    /* One node, free [1000, 700, 400, 700]: a 300 share takes the GPU with the
     * least free that fits, GPU 2 (400); a 600 share GPU 1 (700, the lower of
     * two). */
    struct nspec ns[1] = {{64000, 1000, 4, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 1);
    pre(&c, 0, 300, 1, (int[]){1});
    pre(&c, 0, 600, 1, (int[]){2});
    pre(&c, 0, 300, 1, (int[]){3});
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    EXPECT(&en, req(10, 10, 1, 300), 0, 2);
    EXPECT(&en, req(10, 10, 1, 600), 0, 1);
    engine_release(&en);
    cluster_release(&c);
}

/* --------------------------------------------------------------- gpupacking */

static void test_gpupacking_shared_gpu_first(void **state)
{
    /* Pod: a 500 share. Four nodes of 4 GPUs. GPUs are walked in ascending
     * order of free milli; the first one with >= 500 free is taken.
     *  node 0: untouched, F = 4 fully free:                 max(33 - 4, 4)  = 29
     *  node 1: free [1000, 1000, 400, 1000]: takes a fresh GPU, k = 1:
     *                                                       max(50 - 1, 33) = 49
     *  node 2: free [1000, 600, 1000, 1000]: takes GPU 1 (600), k = 0:
     *          r = 600*100/1000 = 60;                       100 - 60/10     = 94
     *  node 3: free [800, 1000, 1000, 500]: ascending 500 (GPU 3), 800, ...;
     *          takes GPU 3, r = 50;                         100 - 50/10     = 95
     * 1st: node 3 (95), GPU 3 (500 is the tightest fit).
     * 2nd: node 3 now [800, 1000, 1000, 0]: takes GPU 0 (800), r = 80 -> 92;
     *      node 2 still 94: node 2, GPU 1.
     * 3rd: node 2 now [1000, 100, 1000, 1000]: 100 < 500, so a fresh GPU: 49;
     *      node 3 92: node 3, GPU 0.
     * 4th: node 3 now [300, 1000, 1000, 0]: fresh GPU: 49. Nodes 1, 2, 3 tie
     *      at 49 (a used node) over node 0's 29 (untouched): node 1, and the
     *      best-fit GPU among free 1000s is the lowest index, GPU 0. */
    struct nspec ns[4];
    for (int i = 0; i < 4; i++)
        ns[i] = (struct nspec){64000, 262144, 4, "G2"};
    struct cluster c;
    struct engine en;
    build(&c, ns, 4);
    pre(&c, 1, 600, 1, (int[]){2});
    pre(&c, 2, 400, 1, (int[]){1});
    pre(&c, 3, 200, 1, (int[]){0});
    pre(&c, 3, 500, 1, (int[]){3});
    engine_init(&en, &c, policy("gpupacking"), NULL, 1);
    struct pod_req r = req(1000, 1024, 1, 500);
    EXPECT(&en, r, 3, 3);
    EXPECT(&en, r, 2, 1);
    EXPECT(&en, r, 3, 0);
    EXPECT(&en, r, 1, 0);
    engine_release(&en);
    cluster_release(&c);
}

static void test_gpupacking_used_node_first(void **state)
{
    /* Pod: one whole GPU.
     *  node 0: 4 GPUs untouched:  max(33 - 4, 4) = 29
     *  node 1: 2 GPUs untouched:  max(33 - 2, 2) = 31
     *  node 2: 8 GPUs untouched:  max(33 - 8, 8) = 25
     *  node 3: 4 GPUs, GPU 0 taken whole: a fresh GPU, k = 1: max(49, 33) = 49
     * 1st-3rd: node 3 (still 49 while it has a free GPU): GPUs 1, 2, 3.
     * 4th: node 3 full; untouched nodes: node 1 (31), GPU 0.
     * 5th: node 1 is now used: 49: GPU 1.
     * 6th: node 0 (29) over node 2 (25), GPU 0. */
    struct nspec ns[4] = {{64000, 262144, 4, "G2"},
                          {64000, 262144, 2, "G2"},
                          {64000, 262144, 8, "G2"},
                          {64000, 262144, 4, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 4);
    pre(&c, 3, 1000, 1, (int[]){0});
    engine_init(&en, &c, policy("gpupacking"), NULL, 1);
    struct pod_req r = req(1000, 1024, 1, 1000);
    EXPECT(&en, r, 3, 1);
    EXPECT(&en, r, 3, 2);
    EXPECT(&en, r, 3, 3);
    EXPECT(&en, r, 1, 0);
    EXPECT(&en, r, 1, 1);
    EXPECT(&en, r, 0, 0);
    /* Multi-GPU: node 0 now [0, 1000, 1000, 1000], a 2-GPU pod takes two
     * fresh GPUs, k = 2: max(48, 33) = 48; node 2 untouched 25: node 0. */
    EXPECT(&en, req(1000, 1024, 2, 1000), 0, 1, 2);
    engine_release(&en);
    cluster_release(&c);
}

static void test_gpupacking_cpu_pod_lowest_id(void **state)
{
    /* A CPU-only pod scores 0 everywhere: the lowest feasible id (node 0 lacks
     * the CPU). */
    struct nspec ns[3] = {{500, 1000, 1, "G2"}, {64000, 1000, 8, "G2"}, {2000, 1000, 0, ""}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 3);
    engine_init(&en, &c, policy("gpupacking"), NULL, 1);
    EXPECT(&en, req(1000, 10, 0, 0), 1);
    engine_release(&en);
    cluster_release(&c);
}

/* ------------------------------------------------------------ gpuclustering */

static void test_gpuclustering_same_kind(void **state)
{
    /* Four nodes of 8 GPUs. base = 25 * (8000 - GPU free) / 8000 in integers,
     * plus 75 if the node runs only the pod's kind, 50 if that kind and
     * others, 25 if no GPU pod at all, 0 if only other kinds.
     *  node 0: untouched, free 8000:              base 0;                 0 + 25 = 25
     *  node 1: a 1-GPU pod (GPU 0), free 7000:    base 25000/8000 = 3
     *  node 2: a 500 share (GPU 0), free 7500:    base 12500/8000 = 1
     *  node 3: a 1-GPU pod (GPU 0) and a 500 share (GPU 1), free 6500:
     *                                             base 37500/8000 = 4
     * 1-GPU pod: node 1 3 + 75 = 78, node 2 1 + 0 = 1, node 3 4 + 50 = 54:
     *   node 1, GPU 1.
     * 300 share: node 1 now free 6000, base 6, other kinds only: 6;
     *   node 2 1 + 75 = 76; node 3 4 + 50 = 54; node 0 25: node 2, and the
     *   best-fit GPU, GPU 0 (500 free).
     * CPU-only pod: 0 everywhere: node 0.
     * 2-GPU pod: node 0 25 (no GPU pods; the CPU pod does not count); node 1
     *   6 + 0; node 2 free 7200, base 2 + 0; node 3 4 + 0: node 0, GPUs 0, 1.
     * 2-GPU pod again: node 0 free 6000, base 6, only its kind: 81: GPUs 2, 3. */
    struct nspec ns[4];
    for (int i = 0; i < 4; i++)
        ns[i] = (struct nspec){64000, 262144, 8, "G2"};
    struct cluster c;
    struct engine en;
    build(&c, ns, 4);
    pre(&c, 1, 1000, 1, (int[]){0});
    pre(&c, 2, 500, 1, (int[]){0});
    pre(&c, 3, 1000, 1, (int[]){0});
    pre(&c, 3, 500, 1, (int[]){1});
    engine_init(&en, &c, policy("gpuclustering"), NULL, 1);
    EXPECT(&en, req(1000, 1024, 1, 1000), 1, 1);
    EXPECT(&en, req(1000, 1024, 1, 300), 2, 0);
    EXPECT(&en, req(1000, 1024, 0, 0), 0);
    EXPECT(&en, req(1000, 1024, 2, 1000), 0, 0, 1);
    EXPECT(&en, req(1000, 1024, 2, 1000), 0, 2, 3);
    engine_release(&en);
    cluster_release(&c);
}

static void test_gpuclustering_cpu_pods_are_no_kind(void **state)
{
    /* node 0: 8 GPUs with only a CPU-only pod on it: no GPU pod, 0 + 25 = 25.
     * node 1: 8 GPUs with a 2-GPU pod: free 6000, base 50000/8000 = 6, and for
     *         a 1-GPU pod only another kind: 6.
     * If CPU-only pods counted as a kind, node 0 would score 0 and lose. */
    struct nspec ns[2] = {{64000, 262144, 8, "G2"}, {64000, 262144, 8, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 2);
    pre(&c, 1, 1000, 2, (int[]){0, 1});
    engine_init(&en, &c, policy("gpuclustering"), NULL, 1);
    EXPECT(&en, req(1000, 1024, 0, 0), 0);
    EXPECT(&en, req(1000, 1024, 1, 1000), 0, 0);
    engine_release(&en);
    cluster_release(&c);
}

/* ---------------------------------------------------------------------- fgd */

/* The FGD tests use small workloads so F is easy to compute by hand:
 *   W1 = 100% pods of (CPU 1000, one whole GPU).
 * For W1, F(node) = the free milli of the partly used GPUs when the node has
 * a fully free GPU and CPU >= 1000 free, else all its free GPU milli.
 * score = trunc(100 * sigmoid((F before - F after) / 1000)):
 *   dF = +500 -> 100 / (1 + e^-0.5) = 62.25 -> 62
 *   dF =    0 ->                      50
 *   dF = -500 -> 100 / (1 + e^0.5)  = 37.75 -> 37
 *   dF = -1500 -> 100 / (1 + e^1.5) = 18.24 -> 18 */
static void w1(struct workload_dist *wd)
{
    struct pod_req t = req(1000, 0, 1, 1000);
    workload(wd, &t, (double[]){1}, 1);
}

static void test_fgd_node_choice(void **state)
{
    /* Pod: a 500 share with CPU 1000.
     *  node 0: free [1000, 1000], CPU 1500. After: CPU 500 < 1000, so W1 cannot
     *          run: F = all free = 1500, dF = -1500: 18.
     *  node 1: free [1000, 1000], CPU 64000. F = 0. Either GPU: [500, 1000],
     *          F = 500, dF = -500: 37.
     *  node 2: free [700, 1000]. F = 700. On GPU 0: [200, 1000], F = 200,
     *          dF = +500: 62. On GPU 1: [700, 500], no free GPU, F = 1200,
     *          dF = -500: 37. Score 62 on GPU 0.
     *  node 3: free [1000, 700]: the mirror image: 62 on GPU 1.
     * 1st: nodes 2 and 3 tie at 62: node 2, GPU 0.
     * 2nd: node 2 now [200, 1000], F = 200: GPU 1 -> [200, 500], F = 700,
     *      dF = -500: 37. node 3 62: node 3, GPU 1 (not the lowest index).
     * 3rd: nodes 1, 2, 3 at 37, node 0 at 18 (the CPU it would strand): node
     *      1, GPU 0.
     * 4th: node 1 now [500, 1000], F = 500: GPU 0 -> [0, 1000], F = 0, dF = +500:
     *      62: node 1, GPU 0 again. */
    struct nspec ns[4] = {{1500, 262144, 2, "G2"},
                          {64000, 262144, 2, "G2"},
                          {64000, 262144, 2, "G2"},
                          {64000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    w1(&wd);
    build(&c, ns, 4);
    pre(&c, 2, 300, 1, (int[]){0});
    pre(&c, 3, 300, 1, (int[]){1});
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    struct pod_req r = req(1000, 1024, 1, 500);
    EXPECT(&en, r, 2, 0);
    EXPECT(&en, r, 3, 1);
    EXPECT(&en, r, 1, 0);
    EXPECT(&en, r, 1, 0);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_truncation_ties(void **state)
{
    /* The integer truncation of FGD's score is part of the algorithm: it
     * turns close gradients into ties, which go to the lowest id.
     * Workload: 1 : 1 of W1 pods and 300 shares (CPU 1000 each), weights 1/2.
     * Pod: a 500 share.
     *  node 0: free [620, 1000]. On GPU 0 -> [120, 1000]:
     *          W1: 620 -> 120, +500; share: 0 -> 120 (120 < 300), -120;
     *          dF = (500 - 120) / 2 = 190: 100 * sigmoid(0.19) = 54.74 -> 54.
     *          On GPU 1 -> [620, 500]: W1: 620 -> 1120 (no free GPU), -500;
     *          share: 0 -> 0; dF = -250: 43. Score 54.
     *  node 1: free [600, 1000]. On GPU 0 -> [100, 1000]: dF = (500 - 100) / 2
     *          = 200: 54.98 -> 54. On GPU 1: -250: 43. Score 54.
     * Node 1's gradient is better, but both truncate to 54: node 0. */
    struct nspec ns[2] = {{64000, 262144, 2, "G2"}, {64000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    struct pod_req t[2] = {req(1000, 0, 1, 1000), req(1000, 0, 1, 300)};
    workload(&wd, t, (double[]){1, 1}, 2);
    build(&c, ns, 2);
    pre(&c, 0, 380, 1, (int[]){0});
    pre(&c, 1, 400, 1, (int[]){0});
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 1, 500), 0, 0);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_share_gpu_avoids_sliver(void **state)
{
    /* Workload: 100% pods of a 300 share (CPU 1000). F = the free milli of GPUs
     * with less than 300 free, when some GPU has >= 300 (else all free milli).
     * One node, free [600, 1000]; pod a 500 share. F = 0.
     *  GPU 0 -> [100, 1000]: F = 100, dF = -100: 100 * sigmoid(-0.1) = 47.5 -> 47
     *  GPU 1 -> [600, 500]:  F = 0,   dF = 0:                             50
     * FGD takes GPU 1, the fully free one; best fit would take GPU 0. */
    struct nspec ns[1] = {{64000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    struct pod_req t = req(1000, 0, 1, 300);
    workload(&wd, &t, (double[]){1}, 1);
    build(&c, ns, 1);
    pre(&c, 0, 400, 1, (int[]){0});
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 1, 500), 0, 1);
    engine_release(&en);
    /* The same state under bestfit: GPU 0. */
    cluster_release(&c);
    build(&c, ns, 1);
    pre(&c, 0, 400, 1, (int[]){0});
    engine_init(&en, &c, policy("bestfit"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 1, 500), 0, 0);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_share_gpu_lowest_of_equals(void **state)
{
    /* W1; one node, free [1000, 700, 1000, 600], F = 700 + 600 = 1300.
     * Pod a 500 share:
     *  GPU 0 -> [500, 700, 1000, 600]:  F = 1800, dF = -500: 37
     *  GPU 1 -> [1000, 200, 1000, 600]: F = 800,  dF = +500: 62
     *  GPU 2 -> like GPU 0:                                  37
     *  GPU 3 -> [1000, 700, 1000, 100]: F = 800,  dF = +500: 62
     * GPUs 1 and 3 tie: the lower index, GPU 1 (best fit would take GPU 3). */
    struct nspec ns[1] = {{64000, 262144, 4, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    w1(&wd);
    build(&c, ns, 1);
    pre(&c, 0, 300, 1, (int[]){1});
    pre(&c, 0, 400, 1, (int[]){3});
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 1, 500), 0, 1);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_whole_gpu_pods(void **state)
{
    /* Workload: 50% CPU-only pods (CPU 1000), 50% W1 pods: each weight 1/2.
     * A CPU-only type counts all free GPU milli as fragment.
     * Pod: one whole GPU, CPU 1000.
     *  node 0: free [1000, 1000], CPU 1500.
     *          F = 1/2 * 2000 + 1/2 * 0 = 1000.
     *          After: [0, 1000], CPU 500 < 1000, so W1 cannot run:
     *          F = 1/2 * 1000 + 1/2 * 1000 = 1000. dF = 0: 50.
     *  node 1: free [1000, 1000], CPU 64000. F = 1000.
     *          After: [0, 1000]: F = 1/2 * 1000 + 0 = 500. dF = +500: 62.
     *  node 2: free [500, 1000], CPU 64000. F = 1/2 * 1500 + 1/2 * 500 = 1000.
     *          After: [500, 0], no free GPU: F = 1/2 * 500 + 1/2 * 500 = 500: 62.
     * Nodes 1 and 2 tie at 62: node 1, GPU 0.
     * Then node 1 [0, 1000]: F = 500 -> [0, 0]: F = 0, dF = +500: 62: node 1, GPU 1. */
    struct nspec ns[3] = {
        {1500, 262144, 2, "G2"}, {64000, 262144, 2, "G2"}, {64000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    struct pod_req t[2] = {req(1000, 0, 0, 0), req(1000, 0, 1, 1000)};
    workload(&wd, t, (double[]){1, 1}, 2);
    build(&c, ns, 3);
    pre(&c, 2, 500, 1, (int[]){0});
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    struct pod_req r = req(1000, 1024, 1, 1000);
    EXPECT(&en, r, 1, 0);
    EXPECT(&en, r, 1, 1);
    /* Node 2: F = 1000 -> 500 (62) against node 0 (50): node 2, GPU 1. */
    EXPECT(&en, r, 2, 1);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_multi_gpu_pod(void **state)
{
    /* Workload: 100% pods of (CPU 1000, two whole GPUs): F = the free milli
     * of partly used GPUs when two GPUs are fully free, else all free milli.
     * Pod: two whole GPUs.
     *  node 0: 3 GPUs free. F = 0. After [0, 0, 1000]: one whole GPU left,
     *          F = 1000, dF = -1000: 100 / (1 + e) = 26.9 -> 26.
     *  node 1: 4 GPUs free. F = 0. After [0, 0, 1000, 1000]: F = 0: 50.
     * FGD keeps node 0's odd GPU from being stranded: node 1, GPUs 0, 1. */
    struct nspec ns[2] = {{64000, 262144, 3, "G2"}, {64000, 262144, 4, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    struct pod_req t = req(1000, 0, 2, 1000);
    workload(&wd, &t, (double[]){1}, 1);
    build(&c, ns, 2);
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 2, 1000), 1, 0, 1);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_fgd_model_constraint(void **state)
{
    /* Workload: 100% W1 pods that accept only T4. On a G2 node they can never
     * run, so all its free milli is fragment whatever happens: a share there
     * changes F by exactly its size.
     *  node 0 (G2): free [1000, 1000], F = 2000. A 500 share: F = 1500,
     *               dF = +500: 62.
     *  node 1 (T4): free [1000, 1000], F = 0. A 500 share: F = 500, dF = -500: 37.
     * FGD keeps the T4 node whole for the pods that need it: node 0. */
    struct nspec ns[2] = {{64000, 262144, 2, "G2"}, {64000, 262144, 2, "T4"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    build(&c, ns, 2);
    struct pod_req t = req(1000, 0, 1, 1000);
    t.model_mask = 1ULL << cluster_model_find(&c, "T4");
    workload(&wd, &t, (double[]){1}, 1);
    engine_init(&en, &c, policy("fgd"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 1, 500), 0, 0);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

/* --------------------------------------------------------------------- fgdx */

static void test_fgdx_cpu_pod_least_idle_gpu(void **state)
{
    /* W1. A CPU-only pod (CPU 1000) leaves F unchanged on nodes with plenty of
     * CPU: 50 on each (FGD then takes the lowest id, node 0). fgdx adds
     * 0.999 * (idle GPU fraction taken from 1), below 1 so it only orders
     * FGD's equals:
     *  node 0: free [1000, 1000]:         50 + 0.999 * (1 - 1)    = 50
     *  node 1: free [0, 1000]:            50 + 0.999 * (1 - 1/2)  = 50.4995
     *  node 2: free [0, 0, 0, 1000]:      50 + 0.999 * (1 - 1/4)  = 50.749
     *  node 3: free [0, 0, 0, 1000] but CPU 1500: after, CPU 500 < 1000 and
     *          W1 cannot run: F 0 -> 1000, dF = -1000: 26.9 -> 26, + 0.749:
     *          an FGD loser stays a loser.
     * fgdx: node 2. */
    struct nspec ns[4] = {{64000, 262144, 2, "G2"},
                          {64000, 262144, 2, "G2"},
                          {64000, 262144, 4, "G2"},
                          {1500, 262144, 4, "G2"}};
    struct workload_dist wd;
    w1(&wd);
    for (int x = 0; x < 2; x++) {
        struct cluster c;
        struct engine en;
        build(&c, ns, 4);
        pre(&c, 1, 1000, 1, (int[]){0});
        pre(&c, 2, 1000, 3, (int[]){0, 1, 2});
        pre(&c, 3, 1000, 3, (int[]){0, 1, 2});
        engine_init(&en, &c, policy(x ? "fgdx" : "fgd"), &wd, 1);
        EXPECT(&en, req(1000, 1024, 0, 0), x ? 2 : 0);
        engine_release(&en);
        cluster_release(&c);
    }
    workload_dist_release(&wd);
}

static void test_fgdx_memory_aware(void **state)
{
    /* Workload: 100% pods of (CPU 1000, memory 4096, one whole GPU).
     * Pod: a 500 share, CPU 1000, memory 2048.
     *  node 0: free [1000, 1000], memory 262144. F = 0 -> 500: dF = -500: 37
     *          (fgd and fgdx alike).
     *  node 1: free [700, 1000], memory 5000. F = 700.
     *    fgd ignores memory: GPU 0 -> [200, 1000], F = 200, dF = +500: 62.
     *    fgdx: after, memory 2952 < 4096, so the type cannot run: F = all free
     *          = 1200 (GPU 0) or 1200 (GPU 1), dF = -500: 37.
     * fgd: node 1. fgdx: node 0 and node 1 tie at 37: node 0. */
    struct nspec ns[2] = {{64000, 262144, 2, "G2"}, {64000, 5000, 2, "G2"}};
    struct workload_dist wd;
    struct pod_req t = req(1000, 4096, 1, 1000);
    workload(&wd, &t, (double[]){1}, 1);
    for (int x = 0; x < 2; x++) {
        struct cluster c;
        struct engine en;
        build(&c, ns, 2);
        pre(&c, 1, 300, 1, (int[]){0});
        engine_init(&en, &c, policy(x ? "fgdx" : "fgd"), &wd, 1);
        EXPECT(&en, req(1000, 2048, 1, 500), x ? 0 : 1, 0);
        engine_release(&en);
        cluster_release(&c);
    }
    workload_dist_release(&wd);
}

static void test_fgdx_memory_cpu_pod(void **state)
{
    /* Workload: 100% pods of (CPU 1000, memory 4096, one whole GPU). A
     * CPU-only pod of CPU 1000 and memory 2048:
     *  node 0: free [1000, 1000], memory 5000. After: 2952 < 4096, so the
     *          type cannot run: F 0 -> 2000, dF = -2000: 100 / (1 + e^2) =
     *          11.9 -> 11 (+ 0 for stranding: all GPU idle).
     *  node 1: free [1000, 1000], memory 262144: F stays 0: 50.
     * fgdx: node 1. (fgd, blind to memory, scores both 50: node 0.) */
    struct nspec ns[2] = {{64000, 5000, 2, "G2"}, {64000, 262144, 2, "G2"}};
    struct workload_dist wd;
    struct pod_req t = req(1000, 4096, 1, 1000);
    workload(&wd, &t, (double[]){1}, 1);
    for (int x = 0; x < 2; x++) {
        struct cluster c;
        struct engine en;
        build(&c, ns, 2);
        engine_init(&en, &c, policy(x ? "fgdx" : "fgd"), &wd, 1);
        EXPECT(&en, req(1000, 2048, 0, 0), x ? 1 : 0);
        engine_release(&en);
        cluster_release(&c);
    }
    workload_dist_release(&wd);
}

/* ------------------------------------------------------------- tie-breaking */

static void test_ties_lowest_id_across_classes(void **state)
{
    /* Nodes 0 and 1 start in one class, node 2 in another. A CPU-only pod of
     * 100 on node 0 moves it to a new class, created after the other two, so
     * the engine meets node 1 before node 0. bestfit for a CPU pod of 1000:
     *  node 0: left = 0.5 * 62900/128000 + 0.5 * 8000/8000 = 0.7457 -> 25.43 -> 25
     *  node 1: left = 0.5 * 63000/128000 + 0.5             = 0.7461 -> 25.39 -> 25
     *  node 2: 8 GPUs of which 4 taken: left = 0.2461 + 0.25 = 0.4961 -> 50
     * 1st (with node 2): node 2. Then node 2 out of the picture (its CPU
     * gone), 0 and 1 tie at 25 in different classes: node 0. */
    struct nspec ns[3] = {
        {64000, 262144, 8, "G2"}, {64000, 262144, 8, "G2"}, {64000, 262144, 8, "G2"}};
    struct cluster c;
    struct engine en;
    build(&c, ns, 3);
    pre(&c, 2, 1000, 4, (int[]){0, 1, 2, 3});
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    struct pod_req small = req(100, 0, 0, 0);
    struct placement p = {.node = 0, .ngpu = 0};
    engine_apply(&en, &small, &p);
    assert_true(en.ix.of[0] > en.ix.of[1]); /* node 0's class comes later */
    EXPECT(&en, req(1000, 0, 0, 0), 2);
    struct pod_req rest = req(63000, 0, 0, 0);
    EXPECT(&en, rest, 2);
    EXPECT(&en, req(1000, 0, 0, 0), 0);
    engine_release(&en);
    cluster_release(&c);
}

static void test_ties_every_scored_policy(void **state)
{
    /* Four identical nodes: every scored policy gives them equal scores, so
     * each one places the first pod on node 0. Then the same with node 0
     * unable to take the pod: node 1. */
    static const char *const names[] = {"dotprod", "gpuclustering", "gpupacking",
                                        "bestfit", "fgd",           "fgdx"};
    struct nspec ns[4];
    for (int i = 0; i < 4; i++)
        ns[i] = (struct nspec){32000, 65536, 4, "G2"};
    struct workload_dist wd;
    w1(&wd);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        struct cluster c;
        struct engine en;
        build(&c, ns, 4);
        engine_init(&en, &c, policy(names[k]), &wd, 1);
        EXPECT(&en, req(1000, 1024, 1, 1000), 0, 0);
        engine_release(&en);
        cluster_release(&c);

        ns[0].model = "T4";
        build(&c, ns, 4);
        struct pod_req r = req(1000, 1024, 2, 1000);
        r.model_mask = 1ULL << cluster_model_find(&c, "G2");
        engine_init(&en, &c, policy(names[k]), &wd, 1);
        EXPECT(&en, r, 1, 0, 1);
        engine_release(&en);
        cluster_release(&c);
        ns[0].model = "G2";
    }
    workload_dist_release(&wd);
}

/* fgdx once gave a node without GPUs no stranding term, so a CPU-only pod went
 * to a GPU node with some GPU allocated instead of the node that strands nothing.
 * W1 workload; CPU-only pod (CPU 1000): F unchanged on both, FGD 50 each.
 *  node 0: no GPUs, strands nothing: 50 + 0.999 = 50.999
 *  node 1: free [0, 1000]: 50 + 0.999 * (1 - 1/2) = 50.4995  -> node 0. */
static void test_fgdx_cpu_pod_prefers_gpu_less_node(void **state)
{
    (void)state;
    struct nspec ns[2] = {{64000, 262144, 0, ""}, {64000, 262144, 2, "G2"}};
    struct cluster c;
    struct engine en;
    struct workload_dist wd;
    w1(&wd);
    build(&c, ns, 2);
    pre(&c, 1, 1000, 1, (int[]){0});
    engine_init(&en, &c, policy("fgdx"), &wd, 1);
    EXPECT(&en, req(1000, 1024, 0, 0), 0);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_find),
        cmocka_unit_test(test_random_uniform_over_nodes),
        cmocka_unit_test(test_random_weights_classes_by_size),
        cmocka_unit_test(test_random_only_feasible),
        cmocka_unit_test(test_random_share_gpu_uniform),
        cmocka_unit_test(test_random_seeded),
        cmocka_unit_test(test_dotprod_smallest_dot_product),
        cmocka_unit_test(test_dotprod_short_cpu_scores_zero),
        cmocka_unit_test(test_dotprod_multi_gpu_total),
        cmocka_unit_test(test_bestfit_tightest_node),
        cmocka_unit_test(test_bestfit_truncation_ties),
        cmocka_unit_test(test_bestfit_cpu_pod_prefers_no_idle_gpu),
        cmocka_unit_test(test_bestfit_share_gpu_best_fit),
        cmocka_unit_test(test_gpupacking_shared_gpu_first),
        cmocka_unit_test(test_gpupacking_used_node_first),
        cmocka_unit_test(test_gpupacking_cpu_pod_lowest_id),
        cmocka_unit_test(test_gpuclustering_same_kind),
        cmocka_unit_test(test_gpuclustering_cpu_pods_are_no_kind),
        cmocka_unit_test(test_fgd_node_choice),
        cmocka_unit_test(test_fgd_truncation_ties),
        cmocka_unit_test(test_fgd_share_gpu_avoids_sliver),
        cmocka_unit_test(test_fgd_share_gpu_lowest_of_equals),
        cmocka_unit_test(test_fgd_whole_gpu_pods),
        cmocka_unit_test(test_fgd_multi_gpu_pod),
        cmocka_unit_test(test_fgd_model_constraint),
        cmocka_unit_test(test_fgdx_cpu_pod_least_idle_gpu),
        cmocka_unit_test(test_fgdx_memory_aware),
        cmocka_unit_test(test_fgdx_memory_cpu_pod),
        cmocka_unit_test(test_ties_lowest_id_across_classes),
        cmocka_unit_test(test_ties_every_scored_policy),
        cmocka_unit_test(test_fgdx_cpu_pod_prefers_gpu_less_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
