/*
 * Tests for sched/admit: the quota arithmetic of the cohort tree with hand-worked
 * answers (SubtreeQuota, lending and borrowing limits), all-or-nothing gangs on
 * nodes, and a long random run (arrivals, completions, preemption, backfill)
 * after which the books must balance: every queue's usage is the sum of its
 * admitted workloads', no root cohort is over its quota, every admitted workload
 * holds exactly its pods, every pool's node state is consistent, and two runs
 * with the same seed decide exactly the same.
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
#include "sched/admit.h"
#include "sched/admit_int.h"

#define GPU "nvidia.com/gpu"

static void ok(int rc, const struct err *e)
{
    if (rc < 0)
        fail_msg("%s", e->msg);
}

/* A cohort "pool" with queues a (nominal 4, lendingLimit 1), b (nominal 4,
 * borrowingLimit 2) and c (nominal 0), one flavor "f" of GPUs. */
static struct adm *tree(const struct adm_config *cfg, int nodes, int gpus_per_node)
{
    struct err e = {0};
    struct adm *a = adm_create(cfg);
    struct adm_flavor_spec f = {.name = "f"};
    ok(adm_add_flavor(a, &f, &e), &e);
    const char *cov[] = {GPU};
    struct {
        const char *name;
        int64_t nom, bl, ll;
    } q[] = {{"a", 4, ADM_UNLIMITED, 1}, {"b", 4, 2, ADM_UNLIMITED}, {"c", 0, ADM_UNLIMITED,
                                                                       ADM_UNLIMITED}};
    for (int i = 0; i < 3; i++) {
        struct adm_quota_spec qs = {GPU, q[i].nom, q[i].bl, q[i].ll};
        struct adm_flavor_quota_spec fq = {"f", &qs, 1};
        struct adm_group_spec g = {cov, 1, &fq, 1};
        struct adm_cq_spec s = {.name = q[i].name,
                                .cohort = "pool",
                                .groups = &g,
                                .ngroups = 1,
                                .within_cq = ADM_P_LOWER_PRIORITY,
                                .reclaim_within_cohort = ADM_P_ANY,
                                .when_can_preempt = ADM_TRY_NEXT_FLAVOR,
                                .weight_milli = 1000};
        ok(adm_add_cq(a, &s, &e), &e);
    }
    for (int n = 0; n < nodes; n++) {
        char name[32];
        snprintf(name, sizeof name, "node-%d", n);
        struct adm_node_spec ns = {.name = name, .cpu_milli = 64000,
                                   .memory = 256LL << 30, .gpus = gpus_per_node};
        ok(adm_add_node(a, &ns, &e), &e);
    }
    ok(adm_seal(a, &e), &e);
    return a;
}

static int64_t add(struct adm *a, const char *key, const char *cq, int32_t prio, int64_t t,
                   uint32_t pods, int64_t gpus_per_pod, int64_t max_exec)
{
    struct err e = {0};
    const char *res[] = {GPU};
    int64_t amt[] = {gpus_per_pod};
    struct adm_podset_spec ps = {.name = "main", .count = pods, .res = res, .amount = amt,
                                 .nres = 1};
    struct adm_wl_spec s = {.key = key, .cq = cq, .priority = prio, .created_ns = t,
                            .max_exec_ns = max_exec, .active = true, .podsets = &ps,
                            .npodsets = 1};
    int64_t id = adm_add_workload(a, &s, &e);
    ok((int)(id < 0 ? -1 : 0), &e);
    return id;
}

static void test_quota_arithmetic(void **state)
{
    (void)state;
    struct adm_config cfg = {0};
    struct adm *a = tree(&cfg, 0, 0);
    int g = adm_resource_find(a, GPU);
    uint32_t fr = adm__fr(0, (uint32_t)g);
    /* a lends 1 of its 4 (guaranteed 3); b and c lend everything: the pool's
     * subtree quota is 1 + 4 + 0 = 5. */
    uint32_t qa = 0, qb = 1, qc = 2, pool = 3;
    assert_string_equal(a->qn[pool].name, "pool");
    assert_int_equal(a->subtree[(size_t)pool * a->nfr + fr], 5);
    assert_int_equal(adm__guaranteed(a, qa, fr), 3);
    /* Nothing used: a can take its 3 guaranteed plus the pool's 5 = 8; b is
     * capped by the pool (5), below its nominal + borrowingLimit (6); c can
     * take the whole pool. */
    assert_int_equal(adm__available(a, a->usage, qa, fr), 8);
    assert_int_equal(adm__available(a, a->usage, qb, fr), 5);
    assert_int_equal(adm__available(a, a->usage, qc, fr), 5);
    assert_int_equal(adm__potential(a, qb, fr), 5);
    /* b takes 5: it borrows 1 beyond its nominal 4; the pool is used up. */
    int64_t w = add(a, "ns/b1", "b", 0, 0, 5, 1, 0);
    assert_int_equal(adm_settle(a, 0), 1);
    assert_int_equal(adm_workload(a, (uint32_t)w)->state, ADM_ADMITTED);
    assert_int_equal(a->usage[(size_t)pool * a->nfr + fr], 5);
    /* a keeps only its guaranteed 3. */
    assert_int_equal(adm__available(a, a->usage, qa, fr), 3);
    /* c (nominal 0) cannot fit 1 GPU and is never within nominal: no reclaim. */
    int64_t c1 = add(a, "ns/c1", "c", 0, 1, 1, 1, 0);
    adm_settle(a, 1);
    assert_int_equal(adm_workload(a, (uint32_t)c1)->state, ADM_PENDING);
    assert_int_equal(adm_workload(a, (uint32_t)w)->evictions, 0);
    assert_non_null(strstr(adm_workload(a, (uint32_t)c1)->reason, GPU));
    /* a asks for 4, its nominal: 3 are free; within nominal it reclaims from
     * the borrower b (reclaimWithinCohort Any): b1 is preempted. */
    int64_t a1 = add(a, "ns/a1", "a", 0, 2, 4, 1, 0);
    adm_settle(a, 2);
    assert_int_equal(adm_workload(a, (uint32_t)a1)->state, ADM_ADMITTED);
    assert_int_equal(adm_workload(a, (uint32_t)w)->evictions, 1);
    assert_int_equal(adm_workload(a, (uint32_t)w)->state, ADM_PENDING);
    adm_destroy(a);
}

static void test_gang_all_or_nothing(void **state)
{
    (void)state;
    struct adm_config cfg = {0};
    /* 3 nodes of 4 GPUs; queue a can use 8 GPUs (guaranteed 3 + pool 5). */
    struct adm *a = tree(&cfg, 3, 4);
    int64_t small = add(a, "ns/s", "a", 0, 0, 3, 1, 0); /* 3 GPUs on one node */
    adm_settle(a, 0);
    assert_int_equal(adm_workload(a, (uint32_t)small)->state, ADM_ADMITTED);
    /* 3 pods x 3 GPUs = 9 GPUs: quota says 8 - 3 = 5 left: no. 2 pods x 3 GPUs = 6 > 5:
     * no. Check a gang whose quota fits (2 x 2 = 4 <= 5) but whose pods need two
     * nodes with 2 free each: nodes have 1, 4, 4 free -> fits on nodes 1 and 2. */
    int64_t g = add(a, "ns/g", "a", 0, 1, 2, 2, 0);
    adm_settle(a, 1);
    const struct adm_wl *gw = adm_workload(a, (uint32_t)g);
    assert_int_equal(gw->state, ADM_ADMITTED);
    assert_int_equal(gw->npods, 2);
    /* Now 1 + 0..4 free; a gang of 1 pod x 4 GPUs fits quota? used 3 + 4 = 7, 8 - 7 = 1: no. */
    int64_t big = add(a, "ns/big", "a", 0, 2, 1, 4, 0);
    adm_settle(a, 2);
    assert_int_equal(adm_workload(a, (uint32_t)big)->state, ADM_PENDING);
    adm_destroy(a);
}

/* adm_admit_placed: an admitted workload comes back exactly where it was (a
 * restarted scheduler reading the store), later workloads go around it, and a
 * pod whose GPUs are taken already is dropped rather than doubly placed. */
static void test_admit_placed(void **state)
{
    (void)state;
    struct adm_config cfg = {0};
    struct err e = {0};
    /* 2 nodes of 4 GPUs; queue c can use the pool's 5. */
    struct adm *a = tree(&cfg, 2, 4);
    int64_t w = add(a, "ns/w", "b", 0, 0, 2, 2, 0);
    /* Both pods on node-1: GPUs 2,3 and 0,1 (an order the engine would not pick). */
    struct adm_fixed_pod fp[2] = {{.podset = 0, .node = "node-1", .ngpu = 2, .gpu = {2, 3}},
                                  {.podset = 0, .node = "node-1", .ngpu = 2, .gpu = {0, 1}}};
    uint32_t dropped = 9;
    ok(adm_admit_placed(a, (uint32_t)w, NULL, fp, 2, 0, &dropped, &e), &e);
    assert_int_equal(dropped, 0);
    const struct adm_wl *ww = adm_workload(a, (uint32_t)w);
    assert_int_equal(ww->state, ADM_ADMITTED);
    assert_int_equal(ww->npods, 2);
    assert_string_equal(adm_node_name(a, ww->pods[0].node), "node-1");
    assert_int_equal(ww->pods[0].p.gpu[0], 2);
    assert_int_equal(ww->pods[1].p.gpu[0], 0);
    /* node-1 is full: the next pod goes to node-0. */
    int64_t x = add(a, "ns/x", "b", 0, 1, 1, 1, 0);
    adm_settle(a, 1);
    const struct adm_wl *xw = adm_workload(a, (uint32_t)x);
    assert_int_equal(xw->state, ADM_ADMITTED);
    assert_string_equal(adm_node_name(a, xw->pods[0].node), "node-0");
    /* A second workload claiming node-1's GPU 3 again: that pod is dropped; one on
     * a node that does not exist is dropped too. */
    int64_t y = add(a, "ns/y", "a", 0, 2, 2, 1, 0);
    struct adm_fixed_pod fy[2] = {{.podset = 0, .node = "node-1", .ngpu = 1, .gpu = {3}},
                                  {.podset = 0, .node = "gone", .ngpu = 1, .gpu = {0}}};
    ok(adm_admit_placed(a, (uint32_t)y, NULL, fy, 2, 2, &dropped, &e), &e);
    assert_int_equal(dropped, 2);
    assert_int_equal(adm_workload(a, (uint32_t)y)->npods, 0);
    adm_destroy(a);
}

static void test_bad_and_oversized_workloads(void **state)
{
    (void)state;
    struct adm_config cfg = {0};
    struct adm *a = tree(&cfg, 2, 4);
    /* A pod asking for more GPUs than any node has is pending, not an error. */
    int64_t big = add(a, "ns/big", "a", 0, 0, 1, 20, 0);
    adm_settle(a, 0);
    assert_int_equal(adm_workload(a, (uint32_t)big)->state, ADM_PENDING);
    /* Too many distinct resources in one workload: an error naming the workload, and
     * nothing added. */
    const char *names[17];
    int64_t amt[17];
    char buf[17][32];
    for (int i = 0; i < 17; i++) {
        snprintf(buf[i], sizeof buf[i], "example.com/r%d", i);
        names[i] = buf[i];
        amt[i] = 1;
    }
    struct adm_podset_spec ps = {.name = "main", .count = 1, .res = names, .amount = amt,
                                 .nres = 17};
    struct adm_wl_spec s = {.key = "ns/many", .cq = "a", .active = true, .podsets = &ps,
                            .npodsets = 1};
    struct err e = {0};
    uint32_t before = adm_nworkloads(a);
    assert_true(adm_add_workload(a, &s, &e) < 0);
    assert_non_null(strstr(e.msg, "ns/many"));
    assert_non_null(strstr(e.msg, "resources"));
    assert_int_equal(adm_nworkloads(a), before);
    /* A count of zero names the field. */
    ps.nres = 1;
    ps.count = 0;
    assert_true(adm_add_workload(a, &s, &e) < 0);
    assert_non_null(strstr(e.msg, "spec.podSets[0].count"));
    adm_destroy(a);
}

/* Checks that the books balance. */
static void books(const struct adm *a)
{
    size_t n = (size_t)a->nqn * a->nfr;
    int64_t *sum = calloc(n, sizeof *sum);
    for (uint32_t i = 0; i < a->nwl; i++) {
        const struct adm_wl *w = &a->wl[i];
        if (w->state != ADM_ADMITTED)
            continue;
        uint32_t q = a->cqs[w->cq].node;
        uint32_t pods = 0;
        for (uint32_t p = 0; p < w->nps; p++)
            pods += w->psa[p].count;
        if (a->nnodes)
            assert_int_equal(w->npods, pods);
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            sum[(size_t)q * a->nfr + fr] += w->usage[fr];
    }
    for (uint32_t c = 0; c < a->ncq; c++) {
        uint32_t q = a->cqs[c].node;
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            assert_int_equal(a->usage[(size_t)q * a->nfr + fr], sum[(size_t)q * a->nfr + fr]);
    }
    for (uint32_t q = 0; q < a->nqn; q++) {
        if (a->qn[q].parent != ADM_NONE)
            continue;
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            assert_true(a->usage[(size_t)q * a->nfr + fr] <= a->subtree[(size_t)q * a->nfr + fr]);
    }
    for (uint32_t p = 0; p < a->npools; p++) {
        struct err e = {0};
        if (cluster_check(&a->pools[p].c, &e))
            fail_msg("%s", e.msg);
    }
    free(sum);
}

static uint64_t random_run(uint64_t seed, bool fair, bool backfill, uint64_t *admissions)
{
    struct adm_config cfg = {.fair_sharing = fair, .backfill = backfill, .seed = seed};
    struct adm *a = tree(&cfg, 4, 4);
    struct rng r;
    rng_seed(&r, seed);
    const char *cqs[] = {"a", "b", "c"};
    uint64_t hash = 1469598103934665603ULL;
    int64_t now = 0;
    for (int step = 0; step < 400; step++) {
        now += (int64_t)rng_below(&r, 5) * 1000000000;
        if (rng_below(&r, 3) == 0) {
            char key[32];
            snprintf(key, sizeof key, "ns/w%d", step);
            add(a, key, cqs[rng_below(&r, 3)], (int32_t)rng_below(&r, 3), now,
                1 + (uint32_t)rng_below(&r, 3), 1 + (int64_t)rng_below(&r, 2),
                rng_below(&r, 2) ? (int64_t)(1 + rng_below(&r, 60)) * 1000000000 : 0);
        } else if (adm_nworkloads(a) > 0) {
            uint32_t id = (uint32_t)rng_below(&r, adm_nworkloads(a));
            if (adm_workload(a, id)->state == ADM_ADMITTED)
                adm_finish(a, id, now);
        }
        adm_settle(a, now);
        books(a);
        for (uint32_t i = 0; i < adm_nworkloads(a); i++)
            hash = (hash ^ (uint64_t)(adm_workload(a, i)->state + 7 * i)) * 1099511628211ULL;
    }
    *admissions = adm_stats(a)->admissions;
    adm_destroy(a);
    return hash;
}

static void test_random_books_and_determinism(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        bool fair = seed % 2 == 0, backfill = seed % 3 == 0;
        uint64_t n1, n2;
        uint64_t h1 = random_run(seed, fair, backfill, &n1);
        uint64_t h2 = random_run(seed, fair, backfill, &n2);
        assert_true(h1 == h2);
        assert_int_equal(n1, n2);
        assert_true(n1 > 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quota_arithmetic),
        cmocka_unit_test(test_gang_all_or_nothing),
        cmocka_unit_test(test_admit_placed),
        cmocka_unit_test(test_bad_and_oversized_workloads),
        cmocka_unit_test(test_random_books_and_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
