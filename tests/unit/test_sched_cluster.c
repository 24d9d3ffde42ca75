/*
 * Tests for sched/cluster: adding nodes (and rejecting bad ones), the fit test
 * on hand-built nodes (CPU, memory, whole GPUs, shares of one GPU, model
 * masks), place / unplace arithmetic, the default GPU choice, pod kinds, and a
 * long seeded random sequence of place / unplace checked step by step against
 * an independent shadow model and, from scratch, with cluster_check().
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

#include "base/rng.h"
#include "sched/cluster.h"

static struct pod_req req(int32_t cpu, int64_t mem, int gpus, int milli, uint64_t mask)
{
    struct pod_req r = {.cpu_milli = cpu,
                        .mem_mib = mem,
                        .gpus = (uint8_t)gpus,
                        .gpu_milli = (uint16_t)milli,
                        .model_mask = mask};
    return r;
}

static uint32_t add(struct cluster *c, const char *name, int32_t cpu, int64_t mem, int gpus,
                    const char *model)
{
    struct err e = {0};
    int64_t id = cluster_add_node(c, name, cpu, mem, gpus, model, &e);
    if (id < 0)
        fail_msg("cluster_add_node(%s): %s", name, e.msg);
    return (uint32_t)id;
}

/* Places req on node's GPUs gpu[0..n-1] (no choice made by the cluster). */
static void place_on(struct cluster *c, uint32_t node, const struct pod_req *r, int n,
                     const int *gpu)
{
    struct placement p = {.node = node, .ngpu = (uint8_t)n};
    for (int i = 0; i < n; i++)
        p.gpu[i] = (uint8_t)gpu[i];
    assert_true(cluster_fits(c, node, r));
    cluster_place(c, r, &p);
}

static void assert_ok(const struct cluster *c)
{
    struct err e = {0};
    if (cluster_check(c, &e) < 0)
        fail_msg("cluster_check: %s", e.msg);
}

static void test_add_nodes(void **state)
{
    struct cluster c;
    cluster_init(&c);
    assert_int_equal(add(&c, "a", 64000, 262144, 8, "G2"), 0);
    assert_int_equal(add(&c, "b", 32000, 131072, 2, "T4"), 1);
    assert_int_equal(add(&c, "c", 16000, 65536, 0, ""), 2);
    assert_int_equal(add(&c, "d", 96000, 393216, 4, "G2"), 3);
    assert_int_equal(add(&c, "e", 8000, 1024, 1, NULL), 4);
    assert_int_equal(c.n, 5);

    assert_string_equal(c.name[2], "c");
    assert_int_equal(c.cpu_cap[1], 32000);
    assert_int_equal(c.mem_cap[3], 393216);
    assert_int_equal(c.gpu_n[0], 8);
    /* Models are interned: the same name gives the same id. */
    assert_int_equal(c.model[0], c.model[3]);
    assert_int_not_equal(c.model[0], c.model[1]);
    assert_string_equal(c.model_name[c.model[0]], "G2");
    assert_string_equal(c.model_name[c.model[1]], "T4");
    assert_int_equal(cluster_model_find(&c, "T4"), c.model[1]);
    assert_int_equal(cluster_model_find(&c, "A100"), -1);
    /* A node without GPUs has no model; one with GPUs and no name gets one. */
    assert_int_equal(c.model[2], CLUSTER_NO_MODEL);
    assert_string_equal(c.model_name[c.model[4]], "unknown");
    assert_int_equal(c.nmodels, 3);

    /* Everything starts free, and GPUs past gpu_n read as 0. */
    for (uint32_t i = 0; i < c.n; i++) {
        assert_int_equal(c.cpu_free[i], c.cpu_cap[i]);
        assert_int_equal(c.mem_free[i], c.mem_cap[i]);
        assert_int_equal(c.gpu_whole[i], c.gpu_n[i]);
        assert_int_equal(c.gpu_milli[i], c.gpu_n[i] * 1000);
        assert_int_equal(c.kinds[i], 0);
        const uint16_t *g = cluster_gpus(&c, i);
        for (int k = 0; k < CLUSTER_MAX_GPUS; k++)
            assert_int_equal(g[k], k < c.gpu_n[i] ? 1000 : 0);
    }
    assert_int_equal(c.gpus_total, 15);
    assert_int_equal(c.gpu_milli_cap, 15000);
    assert_int_equal(c.gpu_milli_free, 15000);
    assert_int_equal(c.cpu_cap_total, 64000 + 32000 + 16000 + 96000 + 8000);
    assert_int_equal(c.cpu_free_total, c.cpu_cap_total);
    assert_ok(&c);
    cluster_release(&c);
}

static void test_add_many_nodes_grows(void **state)
{
    /* Past the first allocation (64 nodes) and several doublings. */
    struct cluster c;
    cluster_init(&c);
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        assert_int_equal(add(&c, name, 1000 + i, 2000 + i, i % 17, i % 2 ? "A" : "B"), i);
    }
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        assert_string_equal(c.name[i], name);
        assert_int_equal(c.cpu_cap[i], 1000 + i);
        assert_int_equal(c.mem_free[i], 2000 + i);
        assert_int_equal(c.gpu_n[i], i % 17);
    }
    assert_ok(&c);
    cluster_release(&c);
}

static void test_add_node_invalid(void **state)
{
    struct cluster c;
    struct err e = {0};
    cluster_init(&c);
    add(&c, "ok", 1000, 1000, 1, "T4");

    assert_int_equal(cluster_add_node(&c, "big", 64000, 1024, 17, "T4", &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_non_null(strstr(e.msg, "node big"));
    assert_non_null(strstr(e.msg, "17 GPUs"));

    assert_int_equal(cluster_add_node(&c, "neg-gpus", 64000, 1024, -1, "T4", &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_non_null(strstr(e.msg, "node neg-gpus"));

    assert_int_equal(cluster_add_node(&c, "neg-cpu", -1, 1024, 1, "T4", &e), -1);
    assert_int_equal(e.code, EINVAL);
    assert_non_null(strstr(e.msg, "node neg-cpu"));
    assert_non_null(strstr(e.msg, "negative capacity"));

    assert_int_equal(cluster_add_node(&c, "neg-mem", 1000, -5, 1, "T4", &e), -1);
    assert_non_null(strstr(e.msg, "node neg-mem"));
    assert_non_null(strstr(e.msg, "negative capacity"));

    /* 16 GPUs is the limit, not past it. */
    assert_int_equal(cluster_add_node(&c, "sixteen", 1000, 1000, 16, "T4", &e), 1);

    /* Failed adds leave nothing behind. */
    assert_int_equal(c.n, 2);
    assert_int_equal(c.gpus_total, 17);
    assert_int_equal(c.cpu_cap_total, 2000);
    assert_ok(&c);
    cluster_release(&c);
}

static void test_too_many_models(void **state)
{
    struct cluster c;
    struct err e = {0};
    cluster_init(&c);
    char model[16];
    for (int m = 0; m < CLUSTER_MAX_MODELS; m++) {
        snprintf(model, sizeof model, "M%d", m);
        add(&c, model, 1000, 1000, 1, model);
    }
    assert_int_equal(c.nmodels, CLUSTER_MAX_MODELS);
    /* A known model is still fine... */
    assert_int_equal(cluster_add_node(&c, "again", 1000, 1000, 1, "M7", &e), CLUSTER_MAX_MODELS);
    /* ...a new one is not, and the message names the node and the model. */
    assert_int_equal(cluster_add_node(&c, "extra", 1000, 1000, 1, "M63", &e), -1);
    assert_int_equal(e.code, E2BIG);
    assert_non_null(strstr(e.msg, "extra"));
    assert_non_null(strstr(e.msg, "M63"));
    /* A node without GPUs needs no model. */
    assert_int_equal(cluster_add_node(&c, "cpu", 1000, 1000, 0, "M64", &e), CLUSTER_MAX_MODELS + 1);
    assert_int_equal(c.n, CLUSTER_MAX_MODELS + 2);
    cluster_release(&c);
}

static void test_fits_cpu_memory(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t n = add(&c, "n", 8000, 4096, 2, "T4");
    struct pod_req r;

    r = req(8000, 4096, 0, 0, 0); /* exactly everything */
    assert_true(cluster_fits(&c, n, &r));
    r = req(8001, 0, 0, 0, 0);
    assert_false(cluster_fits(&c, n, &r));
    r = req(0, 4097, 0, 0, 0);
    assert_false(cluster_fits(&c, n, &r));
    /* CPU and memory bind GPU requests too. */
    r = req(8001, 0, 1, 1000, 0);
    assert_false(cluster_fits(&c, n, &r));
    r = req(0, 4097, 1, 500, 0);
    assert_false(cluster_fits(&c, n, &r));

    /* After a CPU-only pod, only what is left fits. */
    r = req(5000, 3000, 0, 0, 0);
    place_on(&c, n, &r, 0, NULL);
    assert_int_equal(c.cpu_free[n], 3000);
    assert_int_equal(c.mem_free[n], 1096);
    r = req(3000, 1096, 2, 1000, 0);
    assert_true(cluster_fits(&c, n, &r));
    r = req(3001, 1096, 2, 1000, 0);
    assert_false(cluster_fits(&c, n, &r));
    r = req(3000, 1097, 0, 0, 0);
    assert_false(cluster_fits(&c, n, &r));
    assert_ok(&c);
    cluster_release(&c);
}

static void test_fits_gpus(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t n = add(&c, "n", 64000, 65536, 4, "T4");
    uint32_t cpu = add(&c, "cpu-only", 64000, 65536, 0, "");
    struct pod_req r;

    /* Whole GPUs: up to the count. */
    r = req(0, 0, 4, 1000, 0);
    assert_true(cluster_fits(&c, n, &r));
    r = req(0, 0, 5, 1000, 0);
    assert_false(cluster_fits(&c, n, &r));
    /* A node without GPUs takes no GPU request, whole or share. */
    r = req(0, 0, 1, 1000, 0);
    assert_false(cluster_fits(&c, cpu, &r));
    r = req(0, 0, 1, 1, 0);
    assert_false(cluster_fits(&c, cpu, &r));
    r = req(0, 0, 0, 0, 0);
    assert_true(cluster_fits(&c, cpu, &r));

    /* Shares: GPU 0 700 taken, GPU 1 300 taken -> free [300, 700, 1000, 1000]. */
    struct pod_req s700 = req(0, 0, 1, 700, 0), s300 = req(0, 0, 1, 300, 0);
    place_on(&c, n, &s700, 1, (int[]){0});
    place_on(&c, n, &s300, 1, (int[]){1});
    r = req(0, 0, 3, 1000, 0); /* only 2 whole GPUs are left */
    assert_false(cluster_fits(&c, n, &r));
    r = req(0, 0, 2, 1000, 0);
    assert_true(cluster_fits(&c, n, &r));

    /* Take GPUs 2 and 3 whole: only the shares' leftovers remain. */
    struct pod_req w2 = req(0, 0, 2, 1000, 0);
    place_on(&c, n, &w2, 2, (int[]){2, 3});
    assert_int_equal(c.gpu_whole[n], 0);
    r = req(0, 0, 1, 1000, 0);
    assert_false(cluster_fits(&c, n, &r));
    r = req(0, 0, 1, 700, 0); /* GPU 1 has exactly 700 */
    assert_true(cluster_fits(&c, n, &r));
    r = req(0, 0, 1, 701, 0); /* no GPU has 701, though 1000 are free in all */
    assert_false(cluster_fits(&c, n, &r));
    assert_int_equal(c.gpu_milli[n], 1000);
    assert_ok(&c);
    cluster_release(&c);
}

static void test_fits_model_mask(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t t4 = add(&c, "t4", 64000, 65536, 2, "T4");
    uint32_t g2 = add(&c, "g2", 64000, 65536, 2, "G2");
    uint32_t cpu = add(&c, "cpu", 64000, 65536, 0, "");
    uint64_t bt4 = 1ULL << c.model[t4], bg2 = 1ULL << c.model[g2];
    struct pod_req r;

    /* 0: any model. */
    r = req(0, 0, 1, 1000, 0);
    assert_true(cluster_fits(&c, t4, &r));
    assert_true(cluster_fits(&c, g2, &r));
    /* One model. */
    r = req(0, 0, 1, 1000, bt4);
    assert_true(cluster_fits(&c, t4, &r));
    assert_false(cluster_fits(&c, g2, &r));
    assert_true(cluster_model_ok(&c, t4, &r));
    assert_false(cluster_model_ok(&c, g2, &r));
    /* Either model, for a share too. */
    r = req(0, 0, 1, 250, bt4 | bg2);
    assert_true(cluster_fits(&c, t4, &r));
    assert_true(cluster_fits(&c, g2, &r));
    /* A model id no node has. */
    r = req(0, 0, 1, 250, 1ULL << 40);
    assert_false(cluster_fits(&c, t4, &r));
    assert_false(cluster_fits(&c, g2, &r));
    /* MODEL_MASK_NONE matches no node at all... */
    r = req(0, 0, 1, 1000, MODEL_MASK_NONE);
    assert_false(cluster_fits(&c, t4, &r));
    assert_false(cluster_fits(&c, g2, &r));
    assert_false(cluster_fits(&c, cpu, &r));
    r = req(0, 0, 1, 100, MODEL_MASK_NONE);
    assert_false(cluster_fits(&c, t4, &r));
    /* ...but a mask says nothing about a CPU-only request. */
    r = req(1000, 0, 0, 0, MODEL_MASK_NONE);
    assert_true(cluster_fits(&c, t4, &r));
    assert_true(cluster_fits(&c, cpu, &r));
    assert_true(cluster_model_ok(&c, cpu, &r));
    r = req(1000, 0, 0, 0, bg2);
    assert_true(cluster_fits(&c, t4, &r));
    cluster_release(&c);
}

static void test_place_unplace_arithmetic(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t a = add(&c, "a", 32000, 65536, 4, "T4");
    uint32_t b = add(&c, "b", 16000, 32768, 2, "T4");
    struct pod_req s300 = req(2000, 1000, 1, 300, 0), s700 = req(3000, 2000, 1, 700, 0);
    struct pod_req w2 = req(8000, 4000, 2, 1000, 0), cpu = req(1000, 500, 0, 0, 0);
    struct placement p300 = {.node = a, .ngpu = 1, .gpu = {1}};
    struct placement p700 = {.node = a, .ngpu = 1, .gpu = {1}};
    struct placement pw2 = {.node = a, .ngpu = 2, .gpu = {0, 3}};
    struct placement pcpu = {.node = b, .ngpu = 0};

    cluster_place(&c, &s300, &p300);
    assert_int_equal(cluster_gpus(&c, a)[1], 700);
    assert_int_equal(c.gpu_whole[a], 3);
    assert_int_equal(c.gpu_milli[a], 3700);
    assert_int_equal(c.cpu_free[a], 30000);
    assert_int_equal(c.mem_free[a], 64536);
    assert_int_equal(c.gpu_milli_free, 5700);
    assert_int_equal(c.kinds[a], 1u << POD_KIND_SHARE);
    assert_int_equal(c.kind_count[a * POD_KIND_COUNT + POD_KIND_SHARE], 1);

    /* A second share fills the same GPU exactly. */
    cluster_place(&c, &s700, &p700);
    assert_int_equal(cluster_gpus(&c, a)[1], 0);
    assert_int_equal(c.gpu_whole[a], 3);
    assert_int_equal(c.gpu_milli[a], 3000);
    assert_int_equal(c.kind_count[a * POD_KIND_COUNT + POD_KIND_SHARE], 2);

    cluster_place(&c, &w2, &pw2);
    assert_int_equal(cluster_gpus(&c, a)[0], 0);
    assert_int_equal(cluster_gpus(&c, a)[2], 1000);
    assert_int_equal(cluster_gpus(&c, a)[3], 0);
    assert_int_equal(c.gpu_whole[a], 1);
    assert_int_equal(c.gpu_milli[a], 1000);
    assert_int_equal(c.cpu_free[a], 32000 - 2000 - 3000 - 8000);
    assert_int_equal(c.kinds[a], (1u << POD_KIND_SHARE) | (1u << POD_KIND_GPU2));

    /* CPU-only pods take CPU and memory, no GPU, and have no kind. */
    cluster_place(&c, &cpu, &pcpu);
    assert_int_equal(c.cpu_free[b], 15000);
    assert_int_equal(c.mem_free[b], 32268);
    assert_int_equal(c.gpu_milli[b], 2000);
    assert_int_equal(c.kinds[b], 0);
    assert_int_equal(c.cpu_free_total, 48000 - 13000 - 1000);
    assert_int_equal(c.gpu_milli_free, 3000);
    assert_ok(&c);

    /* Unplace in another order. */
    cluster_unplace(&c, &s300, &p300);
    assert_int_equal(cluster_gpus(&c, a)[1], 300);
    assert_int_equal(c.kind_count[a * POD_KIND_COUNT + POD_KIND_SHARE], 1);
    assert_int_equal(c.kinds[a], (1u << POD_KIND_SHARE) | (1u << POD_KIND_GPU2));
    cluster_unplace(&c, &w2, &pw2);
    assert_int_equal(c.kinds[a], 1u << POD_KIND_SHARE);
    assert_int_equal(c.gpu_whole[a], 3);
    cluster_unplace(&c, &s700, &p700);
    assert_int_equal(cluster_gpus(&c, a)[1], 1000);
    assert_int_equal(c.gpu_whole[a], 4);
    assert_int_equal(c.kinds[a], 0);
    cluster_unplace(&c, &cpu, &pcpu);
    assert_int_equal(c.cpu_free[a], 32000);
    assert_int_equal(c.mem_free[a], 65536);
    assert_int_equal(c.cpu_free[b], 16000);
    assert_int_equal(c.mem_free[b], 32768);
    assert_int_equal(c.gpu_milli_free, 6000);
    assert_int_equal(c.cpu_free_total, 48000);
    assert_ok(&c);
    cluster_release(&c);
}

static void test_reset(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t a = add(&c, "a", 32000, 65536, 4, "T4");
    struct pod_req s = req(1000, 10, 1, 400, 0), w = req(1000, 10, 2, 1000, 0);
    place_on(&c, a, &s, 1, (int[]){2});
    place_on(&c, a, &w, 2, (int[]){0, 1});
    cluster_reset(&c);
    assert_int_equal(c.cpu_free[a], 32000);
    assert_int_equal(c.mem_free[a], 65536);
    assert_int_equal(c.gpu_whole[a], 4);
    assert_int_equal(c.gpu_milli[a], 4000);
    assert_int_equal(c.kinds[a], 0);
    assert_int_equal(c.gpu_milli_free, 4000);
    assert_int_equal(c.cpu_free_total, 32000);
    assert_ok(&c);
    cluster_release(&c);
}

static void test_pick_gpus_whole(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t n = add(&c, "n", 64000, 65536, 6, "G2");
    struct placement p;
    struct pod_req r;

    /* Untouched: the lowest indices. */
    r = req(0, 0, 2, 1000, 0);
    assert_true(cluster_pick_gpus(&c, n, &r, &p));
    assert_int_equal(p.node, n);
    assert_int_equal(p.ngpu, 2);
    assert_int_equal(p.gpu[0], 0);
    assert_int_equal(p.gpu[1], 1);

    /* GPU 0 shared (500 free), GPU 2 taken whole: free [500, 1000, 0, 1000, 1000, 1000].
     * A partly used GPU is never taken for a whole-GPU request. */
    struct pod_req s = req(0, 0, 1, 500, 0), w = req(0, 0, 1, 1000, 0);
    place_on(&c, n, &s, 1, (int[]){0});
    place_on(&c, n, &w, 1, (int[]){2});
    r = req(0, 0, 3, 1000, 0);
    assert_true(cluster_pick_gpus(&c, n, &r, &p));
    assert_int_equal(p.ngpu, 3);
    assert_int_equal(p.gpu[0], 1);
    assert_int_equal(p.gpu[1], 3);
    assert_int_equal(p.gpu[2], 4);
    r = req(0, 0, 4, 1000, 0);
    assert_true(cluster_pick_gpus(&c, n, &r, &p));
    assert_int_equal(p.gpu[3], 5);
    r = req(0, 0, 5, 1000, 0);
    assert_false(cluster_pick_gpus(&c, n, &r, &p));

    /* CPU-only: no GPUs. */
    r = req(1000, 0, 0, 0, 0);
    assert_true(cluster_pick_gpus(&c, n, &r, &p));
    assert_int_equal(p.ngpu, 0);
    assert_int_equal(p.node, n);
    cluster_release(&c);
}

static void test_pick_gpus_share_best_fit(void **state)
{
    struct cluster c;
    cluster_init(&c);
    uint32_t n = add(&c, "n", 64000, 65536, 5, "G2");
    /* free: [1000, 600, 400, 600, 150] */
    struct pod_req s400 = req(0, 0, 1, 400, 0), s600 = req(0, 0, 1, 600, 0),
                   s850 = req(0, 0, 1, 850, 0);
    place_on(&c, n, &s400, 1, (int[]){1});
    place_on(&c, n, &s600, 1, (int[]){2});
    place_on(&c, n, &s400, 1, (int[]){3});
    place_on(&c, n, &s850, 1, (int[]){4});
    static const struct {
        int milli, gpu; /* gpu -1: does not fit */
    } cases[] = {
        {100, 4}, /* 150 is the least free that fits */
        {150, 4}, /* exactly */
        {151, 2}, /* 400 */
        {400, 2}, /* exactly */
        {401, 1}, /* 600 on GPUs 1 and 3: the lower index */
        {600, 1}, /* exactly, tie again */
        {601, 0}, /* only the whole GPU */
        {999, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct placement p;
        struct pod_req r = req(0, 0, 1, cases[i].milli, 0);
        assert_true(cluster_pick_gpus(&c, n, &r, &p));
        assert_int_equal(p.ngpu, 1);
        if (p.gpu[0] != cases[i].gpu)
            fail_msg("share %d: GPU %d, want %d", cases[i].milli, p.gpu[0], cases[i].gpu);
    }
    /* Take the whole GPU: nothing above 600 fits any more. */
    struct pod_req w = req(0, 0, 1, 1000, 0);
    place_on(&c, n, &w, 1, (int[]){0});
    struct placement p;
    struct pod_req r = req(0, 0, 1, 601, 0);
    assert_false(cluster_pick_gpus(&c, n, &r, &p));
    cluster_release(&c);
}

static void test_pod_req_kind(void **state)
{
    static const struct {
        int gpus, milli;
        enum pod_kind kind;
    } cases[] = {
        {0, 0, POD_KIND_NONE},    {0, 500, POD_KIND_NONE},  {1, 0, POD_KIND_NONE},
        {1, 1, POD_KIND_SHARE},   {1, 999, POD_KIND_SHARE}, {1, 1000, POD_KIND_GPU1},
        {2, 1000, POD_KIND_GPU2}, {3, 1000, POD_KIND_GPUN}, {4, 1000, POD_KIND_GPU4},
        {5, 1000, POD_KIND_GPUN}, {8, 1000, POD_KIND_GPU8}, {16, 1000, POD_KIND_GPUN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pod_req r = req(1000, 1000, cases[i].gpus, cases[i].milli, 0);
        if (pod_req_kind(&r) != cases[i].kind)
            fail_msg("gpus %d milli %d: kind %d, want %d", cases[i].gpus, cases[i].milli,
                     pod_req_kind(&r), cases[i].kind);
    }
    struct pod_req r = req(0, 0, 4, 1000, 0);
    assert_int_equal(pod_req_gpu_milli(&r), 4000);
    r = req(0, 0, 1, 250, 0);
    assert_int_equal(pod_req_gpu_milli(&r), 250);
}

static void test_check_detects_corruption(void **state)
{
    /* cluster_check is what the random test below relies on: make sure it
     * notices a wrong aggregate or total. */
    struct cluster c;
    struct err e = {0};
    cluster_init(&c);
    uint32_t n = add(&c, "n", 1000, 1000, 2, "T4");
    c.gpu_whole[n]--;
    assert_int_equal(cluster_check(&c, &e), -1);
    assert_non_null(strstr(e.msg, "node n"));
    c.gpu_whole[n]++;
    c.gpu_milli_free -= 1;
    assert_int_equal(cluster_check(&c, &e), -1);
    c.gpu_milli_free += 1;
    c.gpu_free[n * CLUSTER_MAX_GPUS + 3] = 5; /* past gpu_n */
    assert_int_equal(cluster_check(&c, &e), -1);
    c.gpu_free[n * CLUSTER_MAX_GPUS + 3] = 0;
    assert_int_equal(cluster_check(&c, &e), 0);
    cluster_release(&c);
}

/* ---- a long random sequence against a shadow model ---- */

#define RN_NODES 24

struct shadow {
    int32_t cpu[RN_NODES];
    int64_t mem[RN_NODES];
    int gpu_n[RN_NODES];
    int model[RN_NODES];
    int gpu[RN_NODES][CLUSTER_MAX_GPUS];
    int kinds[RN_NODES][POD_KIND_COUNT];
};

static bool shadow_fits(const struct shadow *s, int n, const struct pod_req *r)
{
    if (s->cpu[n] < r->cpu_milli || s->mem[n] < r->mem_mib)
        return false;
    if (r->gpus == 0)
        return true;
    if (r->model_mask && (s->gpu_n[n] == 0 || !((r->model_mask >> s->model[n]) & 1)))
        return false;
    int ok = 0;
    for (int k = 0; k < s->gpu_n[n]; k++)
        ok += s->gpu[n][k] >= r->gpu_milli;
    return ok >= (r->gpu_milli == 1000 ? r->gpus : 1);
}

/* The GPUs the default choice must make, from the shadow state. */
static void shadow_pick(const struct shadow *s, int n, const struct pod_req *r, int *out, int *nout)
{
    *nout = 0;
    if (r->gpus == 0)
        return;
    if (r->gpu_milli == 1000) {
        for (int k = 0; k < s->gpu_n[n] && *nout < r->gpus; k++)
            if (s->gpu[n][k] == 1000)
                out[(*nout)++] = k;
        return;
    }
    int best = -1;
    for (int k = 0; k < s->gpu_n[n]; k++)
        if (s->gpu[n][k] >= r->gpu_milli && (best < 0 || s->gpu[n][k] < s->gpu[n][best]))
            best = k;
    out[0] = best;
    *nout = 1;
}

static void shadow_compare(const struct shadow *s, const struct cluster *c, int n)
{
    assert_int_equal(c->cpu_free[n], s->cpu[n]);
    assert_int_equal(c->mem_free[n], s->mem[n]);
    int whole = 0, milli = 0;
    unsigned kinds = 0;
    for (int k = 0; k < s->gpu_n[n]; k++) {
        assert_int_equal(cluster_gpus(c, n)[k], s->gpu[n][k]);
        whole += s->gpu[n][k] == 1000;
        milli += s->gpu[n][k];
    }
    assert_int_equal(c->gpu_whole[n], whole);
    assert_int_equal(c->gpu_milli[n], milli);
    for (int k = 0; k < POD_KIND_COUNT; k++) {
        assert_int_equal(c->kind_count[n * POD_KIND_COUNT + k], s->kinds[n][k]);
        if (s->kinds[n][k])
            kinds |= 1u << k;
    }
    assert_int_equal(c->kinds[n], kinds);
}

static void shadow_apply(struct shadow *s, const struct pod_req *r, const struct placement *p,
                         int sign)
{
    int n = (int)p->node;
    s->cpu[n] -= sign * r->cpu_milli;
    s->mem[n] -= sign * r->mem_mib;
    for (int i = 0; i < p->ngpu; i++)
        s->gpu[n][p->gpu[i]] -= sign * r->gpu_milli;
    if (pod_req_kind(r) != POD_KIND_NONE)
        s->kinds[n][pod_req_kind(r)] += sign;
}

static struct pod_req random_req(struct rng *g)
{
    static const int whole[] = {1, 1, 1, 2, 3, 4, 8};
    struct pod_req r = req((int32_t)rng_below(g, 8001), (int64_t)rng_below(g, 16385), 0, 0, 0);
    switch (rng_below(g, 4)) {
    case 0: /* CPU only */
        break;
    case 1:
    case 2: /* a share */
        r.gpus = 1;
        r.gpu_milli = (uint16_t)(1 + rng_below(g, 999));
        break;
    default:
        r.gpus = (uint8_t)whole[rng_below(g, sizeof whole / sizeof whole[0])];
        r.gpu_milli = 1000;
        break;
    }
    uint64_t m = rng_below(g, 10);
    r.model_mask = m < 6 ? 0 : m < 9 ? 1ULL << (m - 6) : MODEL_MASK_NONE;
    return r;
}

struct live {
    struct pod_req r;
    struct placement p;
};

static void test_random_place_unplace(void **state)
{
    static const int gpus[] = {0, 1, 2, 4, 8, 16};
    static const char *const models[] = {"A", "B", "C"};
    struct cluster c;
    struct shadow s;
    struct rng g;
    memset(&s, 0, sizeof s);
    cluster_init(&c);
    rng_seed(&g, 20240601);
    for (int i = 0; i < RN_NODES; i++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        s.gpu_n[i] = gpus[i % 6];
        s.cpu[i] = 32000 + 16000 * (i % 3);
        s.mem[i] = 65536;
        add(&c, name, s.cpu[i], s.mem[i], s.gpu_n[i], models[i % 3]);
        s.model[i] = c.model[i];
        for (int k = 0; k < s.gpu_n[i]; k++)
            s.gpu[i][k] = 1000;
    }
    /* Model ids follow first use. Node 0 has no GPUs, so B (node 1) is 0, C is
     * 1 and A is 2: random_req()'s masks 1<<0 .. 1<<2 name each model once. */
    assert_int_equal(cluster_model_find(&c, "B"), 0);
    assert_int_equal(cluster_model_find(&c, "A"), 2);

    enum { STEPS = 20000, MAXLIVE = 4096 };
    struct live *lv = calloc(MAXLIVE, sizeof *lv);
    int nlive = 0, placed = 0, refused = 0, removed = 0;
    for (int step = 0; step < STEPS; step++) {
        /* Lean towards placing, so the cluster fills up and stays busy. */
        if (nlive == 0 || (nlive < MAXLIVE && rng_below(&g, 100) < 55)) {
            struct pod_req r = random_req(&g);
            int n = (int)rng_below(&g, RN_NODES);
            bool fits = cluster_fits(&c, (uint32_t)n, &r);
            assert_int_equal(fits, shadow_fits(&s, n, &r));
            struct placement p;
            bool picked = cluster_pick_gpus(&c, (uint32_t)n, &r, &p);
            if (!fits) {
                /* The GPU choice alone may still succeed (it ignores CPU,
                 * memory and model); it must never claim a fit the GPUs lack. */
                refused++;
                continue;
            }
            assert_true(picked);
            int want[CLUSTER_MAX_GPUS], nwant;
            shadow_pick(&s, n, &r, want, &nwant);
            assert_int_equal(p.node, n);
            assert_int_equal(p.ngpu, nwant);
            for (int i = 0; i < nwant; i++)
                assert_int_equal(p.gpu[i], want[i]);
            cluster_place(&c, &r, &p);
            shadow_apply(&s, &r, &p, +1);
            shadow_compare(&s, &c, n);
            lv[nlive].r = r;
            lv[nlive].p = p;
            nlive++;
            placed++;
        } else {
            int k = (int)rng_below(&g, (uint64_t)nlive);
            cluster_unplace(&c, &lv[k].r, &lv[k].p);
            shadow_apply(&s, &lv[k].r, &lv[k].p, -1);
            shadow_compare(&s, &c, (int)lv[k].p.node);
            lv[k] = lv[--nlive];
            removed++;
        }
        if (step % 97 == 0)
            assert_ok(&c);
    }
    assert_ok(&c);
    /* The sequence must have exercised all three paths a lot. */
    assert_true(placed > 3000);
    assert_true(refused > 1000);
    assert_true(removed > 3000);

    int64_t used = 0;
    for (int i = 0; i < nlive; i++)
        used += pod_req_gpu_milli(&lv[i].r);
    assert_int_equal(c.gpu_milli_cap - c.gpu_milli_free, used);

    /* Drain: everything returns to free. */
    while (nlive > 0) {
        nlive--;
        cluster_unplace(&c, &lv[nlive].r, &lv[nlive].p);
    }
    for (int i = 0; i < RN_NODES; i++) {
        assert_int_equal(c.cpu_free[i], c.cpu_cap[i]);
        assert_int_equal(c.mem_free[i], c.mem_cap[i]);
        assert_int_equal(c.gpu_whole[i], c.gpu_n[i]);
        assert_int_equal(c.kinds[i], 0);
    }
    assert_int_equal(c.gpu_milli_free, c.gpu_milli_cap);
    assert_int_equal(c.cpu_free_total, c.cpu_cap_total);
    assert_ok(&c);
    free(lv);
    cluster_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_nodes),
        cmocka_unit_test(test_add_many_nodes_grows),
        cmocka_unit_test(test_add_node_invalid),
        cmocka_unit_test(test_too_many_models),
        cmocka_unit_test(test_fits_cpu_memory),
        cmocka_unit_test(test_fits_gpus),
        cmocka_unit_test(test_fits_model_mask),
        cmocka_unit_test(test_place_unplace_arithmetic),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_pick_gpus_whole),
        cmocka_unit_test(test_pick_gpus_share_best_fit),
        cmocka_unit_test(test_pod_req_kind),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_place_unplace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
