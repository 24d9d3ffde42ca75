/*
 * Tests for sched/engine: the class scan and the score memo must choose
 * exactly what scoring every node would (the best score, the lowest node id
 * among equals), for every scored policy, through long random sequences of
 * placements and removals; engine_apply / engine_remove keep the classes in
 * step with the cluster; a pod that fits nowhere changes nothing.
 */
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
#include "sched/engine.h"
#include "sched/policy.h"

static struct pod_req req(int32_t cpu, int64_t mem, int gpus, int milli)
{
    struct pod_req r = {
        .cpu_milli = cpu, .mem_mib = mem, .gpus = (uint8_t)gpus, .gpu_milli = (uint16_t)milli};
    return r;
}

static const struct policy_ops *policy(const char *name)
{
    struct err e = {0};
    const struct policy_ops *ops = policy_find(name, &e);
    if (!ops)
        fail_msg("%s", e.msg);
    return ops;
}

static void checks(const struct engine *en)
{
    struct err e = {0};
    if (cluster_check(en->c, &e) < 0)
        fail_msg("cluster_check: %s", e.msg);
    if (nodeclass_check(&en->ix, &e) < 0)
        fail_msg("nodeclass_check: %s", e.msg);
}

/* 40 nodes of six shapes (three GPU models, one shape without GPUs), the
 * shapes taking turns. */
static void build(struct cluster *c)
{
    static const struct {
        int32_t cpu;
        int64_t mem;
        int gpus;
        const char *model;
    } shapes[] = {{64000, 262144, 8, "G2"}, {32000, 131072, 2, "T4"}, {96000, 393216, 8, "V100"},
                  {64000, 262144, 4, "G2"}, {16000, 65536, 1, "T4"},  {32000, 65536, 0, ""}};
    struct err e = {0};
    cluster_init(c);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        int s = i % 6;
        if (cluster_add_node(c, name, shapes[s].cpu, shapes[s].mem, shapes[s].gpus, shapes[s].model,
                             &e) < 0)
            fail_msg("%s", e.msg);
    }
}

static struct pod_req random_req(struct rng *g, const struct cluster *c)
{
    static const int whole[] = {1, 1, 1, 2, 4, 8};
    static const int shares[] = {100, 250, 300, 500, 500, 700, 810};
    /* CPU 0 now and then: scores count it as 100. */
    struct pod_req r = req(rng_below(g, 8) == 0 ? 0 : 1000 * (int32_t)(1 + rng_below(g, 12)),
                           1024 * (int64_t)rng_below(g, 24), 0, 0);
    switch (rng_below(g, 5)) {
    case 0:
        break;
    case 1:
    case 2:
        r.gpus = 1;
        r.gpu_milli = (uint16_t)shares[rng_below(g, 7)];
        break;
    default:
        r.gpus = (uint8_t)whole[rng_below(g, 6)];
        r.gpu_milli = 1000;
        break;
    }
    if (r.gpus && rng_below(g, 6) == 0)
        r.model_mask = 1ULL << cluster_model_find(c, rng_below(g, 2) ? "T4" : "G2");
    return r;
}

/* The node a policy must choose, by scoring every node. */
static uint32_t brute_force(const struct engine *en, const struct pod_req *r)
{
    double best = 0;
    uint32_t node = CLUSTER_NO_NODE;
    for (uint32_t n = 0; n < en->c->n; n++) {
        if (!cluster_fits(en->c, n, r))
            continue;
        double s = en->ops->score(en->pst, en->c, n, r);
        if (node == CLUSTER_NO_NODE || s > best) {
            best = s;
            node = n;
        }
    }
    return node;
}

struct live {
    struct pod_req r;
    struct placement p;
};

static void oracle(const char *name, uint64_t seed)
{
    struct cluster c;
    struct engine en;
    struct rng g;
    struct workload_dist wd;
    build(&c);
    rng_seed(&g, seed);
    /* An expected workload of a few of the request types drawn below. */
    workload_dist_init(&wd);
    for (int i = 0; i < 12; i++) {
        struct pod_req t = random_req(&g, &c);
        workload_dist_add(&wd, &t, (double)(1 + rng_below(&g, 10)));
    }
    workload_dist_normalize(&wd);
    engine_init(&en, &c, policy(name), &wd, seed);

    enum { STEPS = 3000, MAXLIVE = 1024 };
    struct live *lv = calloc(MAXLIVE, sizeof *lv);
    int nlive = 0, placed = 0, failed = 0;
    for (int step = 0; step < STEPS; step++) {
        if (nlive == 0 || (nlive < MAXLIVE && rng_below(&g, 100) < 65)) {
            struct pod_req r = random_req(&g, &c);
            uint32_t want = brute_force(&en, &r);
            struct placement p;
            bool ok = engine_select(&en, &r, &p);
            if (want == CLUSTER_NO_NODE) {
                assert_false(ok);
                failed++;
                continue;
            }
            assert_true(ok);
            if (p.node != want)
                fail_msg("%s step %d: engine chose node %u, scoring every node gives %u", name,
                         step, p.node, want);
            /* The GPUs are the policy's choice on that node (none of these
             * policies draws GPUs at random). */
            struct placement q;
            assert_true(en.ops->pick_gpus ? en.ops->pick_gpus(en.pst, &c, want, &r, &q, &en.rng)
                                          : cluster_pick_gpus(&c, want, &r, &q));
            assert_int_equal(p.ngpu, r.gpus);
            assert_int_equal(p.ngpu, q.ngpu);
            assert_memory_equal(p.gpu, q.gpu, p.ngpu);
            engine_apply(&en, &r, &p);
            lv[nlive].r = r;
            lv[nlive].p = p;
            nlive++;
            placed++;
        } else {
            int k = (int)rng_below(&g, (uint64_t)nlive);
            engine_remove(&en, &lv[k].r, &lv[k].p);
            lv[k] = lv[--nlive];
        }
        if (step % 100 == 0)
            checks(&en);
    }
    checks(&en);
    assert_true(placed > 1000);
    assert_true(failed > 50);
    assert_true(en.memo_hits > 0);
    while (nlive > 0) {
        nlive--;
        engine_remove(&en, &lv[nlive].r, &lv[nlive].p);
    }
    checks(&en);
    assert_int_equal(c.gpu_milli_free, c.gpu_milli_cap);
    assert_int_equal(c.cpu_free_total, c.cpu_cap_total);
    assert_int_equal(en.ix.nlive, 6);
    free(lv);
    engine_release(&en);
    cluster_release(&c);
    workload_dist_release(&wd);
}

static void test_oracle_dotprod(void **state)
{
    oracle("dotprod", 1);
}
static void test_oracle_gpuclustering(void **state)
{
    oracle("gpuclustering", 2);
}
static void test_oracle_gpupacking(void **state)
{
    oracle("gpupacking", 3);
}
static void test_oracle_bestfit(void **state)
{
    oracle("bestfit", 4);
}
static void test_oracle_fgd(void **state)
{
    oracle("fgd", 5);
}
static void test_oracle_fgdx(void **state)
{
    oracle("fgdx", 6);
}

static void test_place_counts_and_failure(void **state)
{
    struct cluster c;
    struct engine en;
    struct err e = {0};
    cluster_init(&c);
    assert_true(cluster_add_node(&c, "a", 4000, 4096, 2, "T4", &e) >= 0);
    assert_true(cluster_add_node(&c, "b", 4000, 4096, 2, "T4", &e) >= 0);
    engine_init(&en, &c, policy("bestfit"), NULL, 1);
    struct placement p;
    struct pod_req ok = req(1000, 1024, 1, 1000);
    struct pod_req too_big = req(1000, 1024, 3, 1000);
    struct pod_req too_much_mem = req(1000, 5000, 0, 0);
    assert_true(engine_place(&en, &ok, &p));
    assert_false(engine_place(&en, &too_big, &p));
    assert_false(engine_place(&en, &too_much_mem, &p));
    assert_int_equal(en.placed, 1);
    assert_int_equal(en.failed, 2);
    /* The failures changed nothing. */
    assert_int_equal(c.gpu_milli_free, 3000);
    assert_int_equal(c.cpu_free_total, 7000);
    /* engine_select chooses without applying, and scores come from the memo
     * where they can. The first placement scored the one class of both
     * nodes; node a then moved to a class of its own. Now only a's new class
     * needs scoring (b's class and this request type are memoised); asking
     * again needs none. */
    assert_int_equal(en.scored, 1);
    uint64_t hits = en.memo_hits;
    assert_true(engine_select(&en, &ok, &p));
    assert_int_equal(p.node, 0);
    assert_int_equal(en.scored, 2);
    assert_int_equal(en.memo_hits, hits + 1);
    assert_true(engine_select(&en, &ok, &p));
    assert_int_equal(p.node, 0);
    assert_int_equal(en.scored, 2);
    assert_int_equal(en.memo_hits, hits + 3);
    assert_int_equal(c.gpu_milli_free, 3000);
    assert_int_equal(en.placed, 1);
    checks(&en);
    engine_release(&en);
    cluster_release(&c);
}

static void test_remove_restores(void **state)
{
    /* Place until full, remove everything in another order: the cluster is
     * all free, the nodes are one class again, and placing the same pods a
     * second time gives the same placements (nothing stale in the memo). */
    struct cluster c;
    struct engine en;
    struct err e = {0};
    cluster_init(&c);
    for (int i = 0; i < 6; i++)
        assert_true(cluster_add_node(&c, "n", 32000, 65536, 4, "G2", &e) >= 0);
    engine_init(&en, &c, policy("gpupacking"), NULL, 1);
    struct pod_req pods[3] = {req(1000, 1024, 1, 300), req(1000, 1024, 1, 1000),
                              req(1000, 1024, 2, 1000)};
    struct live first[64], second[64];
    int n1 = 0, n2 = 0;
    for (int i = 0; i < 64; i++) {
        first[n1].r = pods[i % 3];
        if (engine_place(&en, &first[n1].r, &first[n1].p))
            n1++;
    }
    assert_true(n1 > 10);
    for (int i = 0; i < n1; i += 2)
        engine_remove(&en, &first[i].r, &first[i].p);
    for (int i = 1; i < n1; i += 2)
        engine_remove(&en, &first[i].r, &first[i].p);
    checks(&en);
    assert_int_equal(en.ix.nlive, 1);
    assert_int_equal(c.gpu_milli_free, c.gpu_milli_cap);
    for (int i = 0; i < 64; i++) {
        second[n2].r = pods[i % 3];
        if (engine_place(&en, &second[n2].r, &second[n2].p))
            n2++;
    }
    assert_int_equal(n1, n2);
    for (int i = 0; i < n1; i++) {
        assert_int_equal(first[i].p.node, second[i].p.node);
        assert_int_equal(first[i].p.ngpu, second[i].p.ngpu);
        assert_memory_equal(first[i].p.gpu, second[i].p.gpu, first[i].p.ngpu);
    }
    engine_release(&en);
    cluster_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_dotprod),
        cmocka_unit_test(test_oracle_gpuclustering),
        cmocka_unit_test(test_oracle_gpupacking),
        cmocka_unit_test(test_oracle_bestfit),
        cmocka_unit_test(test_oracle_fgd),
        cmocka_unit_test(test_oracle_fgdx),
        cmocka_unit_test(test_place_counts_and_failure),
        cmocka_unit_test(test_remove_restores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
