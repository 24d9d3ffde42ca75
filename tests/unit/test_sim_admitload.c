/*
 * Tests for sim/admitload: the Kueue-shaped load has the sizes and totals its
 * header documents (classes 20:7:3 per queue, arrival times on each stream's
 * grid, queues in even cohorts), the same seed gives the same load and the
 * same world, bad options are refused with a message naming them, and the
 * world it builds in the admission engine has the documented quotas and nodes.
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

#include "base/mtime.h"
#include "sched/admit.h"
#include "sim/admitload.h"

static struct admload_opts opts(uint32_t cqs, uint32_t cohorts, uint32_t workloads, uint32_t nodes,
                                uint64_t seed)
{
    return (struct admload_opts){
        .cqs = cqs, .cohorts = cohorts, .workloads = workloads, .nodes = nodes, .seed = seed};
}

static void test_defaults_are_the_issue_size(void **state)
{
    struct admload_opts o;
    admload_opts_default(&o);
    assert_int_equal(o.cqs, 1000);
    assert_int_equal(o.workloads, 50000);
    assert_int_equal(o.nodes, 10000);
    assert_int_equal(o.cohorts, 0);

    struct admload l;
    struct err e = {0};
    assert_int_equal(admload_make(&l, &o, &e), 0);
    assert_int_equal(l.nwl, 50000);
    assert_int_equal(l.o.cohorts, 10); /* 100 queues a cohort */
    /* 50 a queue: 33 small, 12 medium, 5 large. */
    assert_int_equal(l.per_class[ADMLOAD_SMALL], 33000);
    assert_int_equal(l.per_class[ADMLOAD_MEDIUM], 12000);
    assert_int_equal(l.per_class[ADMLOAD_LARGE], 5000);
    assert_int_equal(l.gpus_requested, 33000 * 4 + 12000 * 20 + 5000 * 80);
    /* Total nominal quota = cluster GPUs. */
    assert_int_equal((int64_t)o.cqs * ADMLOAD_NOMINAL_UNITS * ADMLOAD_GPUS_PER_UNIT,
                     (int64_t)o.nodes * ADMLOAD_NODE_GPUS);
    admload_release(&l);
}

/* The classes keep Kueue's requests in units of 4 GPUs: 1, 5 and 20. */
static void test_classes_keep_kueue_ratios(void **state)
{
    static const struct {
        int64_t units, run_ms, interval_ms;
        int32_t priority;
        uint32_t weight;
    } want[ADMLOAD_NCLASSES] = {{1, 50, 20, 50, 20}, {5, 100, 50, 100, 7}, {20, 200, 200, 200, 3}};
    for (int c = 0; c < ADMLOAD_NCLASSES; c++) {
        const struct admload_class_spec *cs = &admload_classes[c];
        assert_int_equal(cs->pods * cs->gpus_per_pod, want[c].units * ADMLOAD_GPUS_PER_UNIT);
        assert_int_equal(cs->cpu_per_pod, cs->gpus_per_pod * ADMLOAD_CPU_PER_GPU);
        assert_int_equal(cs->mem_per_pod, cs->gpus_per_pod * ADMLOAD_MEM_PER_GPU);
        assert_int_equal(cs->run_ns, want[c].run_ms * MTIME_MS);
        assert_int_equal(cs->interval_ns, want[c].interval_ms * MTIME_MS);
        assert_int_equal(cs->priority, want[c].priority);
        assert_int_equal(cs->weight, want[c].weight);
        /* A pod fits on a node. */
        assert_true(cs->gpus_per_pod <= ADMLOAD_NODE_GPUS);
        assert_true(cs->cpu_per_pod <= ADMLOAD_NODE_CPU);
        assert_true(cs->mem_per_pod <= ADMLOAD_NODE_MEM);
    }
}

/* Table: queue and workload counts -> per-queue class split. */
static void test_split_per_queue(void **state)
{
    static const struct {
        uint32_t cqs, workloads;
        uint32_t per_queue[3][ADMLOAD_NCLASSES]; /* first queue, second queue, last queue */
    } cases[] = {
        {1000, 50000, {{33, 12, 5}, {33, 12, 5}, {33, 12, 5}}},
        {20, 500, {{17, 6, 2}, {17, 6, 2}, {17, 6, 2}}},     /* 25 a queue */
        {2000, 60000, {{20, 7, 3}, {20, 7, 3}, {20, 7, 3}}}, /* Kueue's large-scale */
        {3, 10, {{3, 1, 0}, {2, 1, 0}, {2, 1, 0}}},          /* 4, 3, 3 */
        {4, 2, {{1, 0, 0}, {1, 0, 0}, {0, 0, 0}}},           /* fewer workloads than queues */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct admload l;
        struct err e = {0};
        struct admload_opts o = opts(cases[k].cqs, 0, cases[k].workloads, 0, 7);
        assert_int_equal(admload_make(&l, &o, &e), 0);
        uint32_t *cnt = calloc((size_t)o.cqs * ADMLOAD_NCLASSES, sizeof *cnt);
        for (uint32_t i = 0; i < l.nwl; i++)
            cnt[l.wl[i].cq * ADMLOAD_NCLASSES + l.wl[i].cls]++;
        uint32_t qs[3] = {0, 1, o.cqs - 1};
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < ADMLOAD_NCLASSES; c++)
                assert_int_equal(cnt[qs[j] * ADMLOAD_NCLASSES + c], cases[k].per_queue[j][c]);
        uint32_t total = 0;
        for (uint32_t q = 0; q < o.cqs * ADMLOAD_NCLASSES; q++)
            total += cnt[q];
        assert_int_equal(total, cases[k].workloads);
        free(cnt);
        admload_release(&l);
    }
}

/* Arrivals are sorted, on each stream's grid (phase + (seq + 1) * interval,
 * phase a whole ms below the interval), and each stream's seqs are 0..n-1. */
static void test_arrivals_on_grid(void **state)
{
    struct admload l;
    struct err e = {0};
    struct admload_opts o = opts(50, 0, 5000, 0, 11);
    assert_int_equal(admload_make(&l, &o, &e), 0);
    int64_t *phase = malloc((size_t)o.cqs * ADMLOAD_NCLASSES * sizeof *phase);
    uint32_t *seen = calloc((size_t)o.cqs * ADMLOAD_NCLASSES, sizeof *seen);
    for (uint32_t i = 0; i < o.cqs * ADMLOAD_NCLASSES; i++)
        phase[i] = -1;
    bool phases_differ = false;
    for (uint32_t i = 0; i < l.nwl; i++) {
        const struct admload_wl *w = &l.wl[i];
        if (i > 0) {
            const struct admload_wl *p = &l.wl[i - 1];
            assert_true(p->arrive_ns < w->arrive_ns ||
                        (p->arrive_ns == w->arrive_ns &&
                         (p->cq < w->cq || (p->cq == w->cq && p->cls < w->cls))));
        }
        int64_t iv = admload_classes[w->cls].interval_ns;
        int64_t ph = w->arrive_ns - (int64_t)(w->seq + 1) * iv;
        assert_true(ph >= 0 && ph < iv);
        assert_int_equal(ph % MTIME_MS, 0);
        uint32_t s = w->cq * ADMLOAD_NCLASSES + w->cls;
        if (phase[s] < 0)
            phase[s] = ph;
        assert_int_equal(phase[s], ph);
        if (s > 0 && phase[s - 1] >= 0 && phase[s - 1] != ph)
            phases_differ = true;
        assert_int_equal(admload_run_ns(&l, i), admload_classes[w->cls].run_ns);
    }
    assert_true(phases_differ);
    /* seq values of each stream are exactly 0..n-1. */
    for (uint32_t i = 0; i < l.nwl; i++)
        seen[l.wl[i].cq * ADMLOAD_NCLASSES + l.wl[i].cls]++;
    for (uint32_t i = 0; i < l.nwl; i++)
        assert_true(l.wl[i].seq < seen[l.wl[i].cq * ADMLOAD_NCLASSES + l.wl[i].cls]);
    free(phase);
    free(seen);
    admload_release(&l);
}

static void test_same_seed_same_load(void **state)
{
    struct admload a, b, c;
    struct err e = {0};
    struct admload_opts o = opts(100, 0, 5000, 100, 42);
    assert_int_equal(admload_make(&a, &o, &e), 0);
    assert_int_equal(admload_make(&b, &o, &e), 0);
    o.seed = 43;
    assert_int_equal(admload_make(&c, &o, &e), 0);
    assert_int_equal(a.nwl, b.nwl);
    assert_memory_equal(a.wl, b.wl, a.nwl * sizeof *a.wl);
    assert_memory_equal(a.per_class, c.per_class, sizeof a.per_class);
    assert_int_equal(a.gpus_requested, c.gpus_requested);
    /* Another seed moves the phases, not the counts. */
    assert_memory_not_equal(a.wl, c.wl, a.nwl * sizeof *a.wl);
    admload_release(&a);
    admload_release(&b);
    admload_release(&c);
}

static void test_cohorts_even_blocks(void **state)
{
    static const struct {
        uint32_t cqs, cohorts, want_cohorts, min_size, max_size;
    } cases[] = {
        {1000, 0, 10, 100, 100}, {250, 0, 3, 83, 84}, {20, 0, 1, 20, 20},
        {7, 7, 7, 1, 1},         {10, 4, 4, 2, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct admload l;
        struct err e = {0};
        struct admload_opts o = opts(cases[k].cqs, cases[k].cohorts, cases[k].cqs, 0, 1);
        assert_int_equal(admload_make(&l, &o, &e), 0);
        assert_int_equal(l.o.cohorts, cases[k].want_cohorts);
        uint32_t *size = calloc(l.o.cohorts, sizeof *size);
        uint32_t prev = 0;
        for (uint32_t q = 0; q < l.o.cqs; q++) {
            uint32_t co = admload_cohort_of(&l, q);
            assert_true(co < l.o.cohorts);
            assert_true(co >= prev); /* contiguous */
            prev = co;
            size[co]++;
        }
        for (uint32_t c = 0; c < l.o.cohorts; c++) {
            assert_true(size[c] >= cases[k].min_size);
            assert_true(size[c] <= cases[k].max_size);
        }
        char want[32];
        snprintf(want, sizeof want, "cq-%u", l.o.cqs - 1);
        assert_string_equal(l.cq_names[l.o.cqs - 1], want);
        snprintf(want, sizeof want, "cohort-%u", l.o.cohorts - 1);
        assert_string_equal(l.cohort_names[l.o.cohorts - 1], want);
        free(size);
        admload_release(&l);
    }
}

static void test_wl_spec(void **state)
{
    struct admload l;
    struct err e = {0};
    struct admload_opts o = opts(3, 0, 300, 0, 5);
    assert_int_equal(admload_make(&l, &o, &e), 0);
    for (uint32_t i = 0; i < l.nwl; i++) {
        struct adm_wl_spec s;
        struct adm_podset_spec ps;
        char key[ADMLOAD_KEY_MAX], want[ADMLOAD_KEY_MAX];
        const struct admload_wl *w = &l.wl[i];
        const struct admload_class_spec *cs = &admload_classes[w->cls];
        admload_wl_spec(&l, i, &s, &ps, key);
        snprintf(want, sizeof want, "cq-%u/%s-%u", w->cq, cs->name, w->seq);
        assert_string_equal(s.key, want);
        snprintf(want, sizeof want, "cq-%u", w->cq);
        assert_string_equal(s.cq, want);
        assert_int_equal(s.priority, cs->priority);
        assert_int_equal(s.created_ns, w->arrive_ns);
        assert_int_equal(s.max_exec_ns, cs->run_ns * ADMLOAD_MAX_EXEC_X);
        assert_true(s.active);
        assert_int_equal(s.npodsets, 1);
        assert_ptr_equal(s.podsets, &ps);
        assert_int_equal(ps.count, cs->pods);
        assert_int_equal(ps.min_count, 0);
        assert_int_equal(ps.nres, 3);
        for (uint32_t r = 0; r < ps.nres; r++) {
            int64_t want_amount = !strcmp(ps.res[r], "nvidia.com/gpu") ? cs->gpus_per_pod
                                  : !strcmp(ps.res[r], "cpu")          ? cs->cpu_per_pod
                                  : !strcmp(ps.res[r], "memory")       ? cs->mem_per_pod
                                                                       : -1;
            assert_int_equal(ps.amount[r], want_amount);
        }
    }
    /* The longest key fits. */
    char key[ADMLOAD_KEY_MAX];
    int n = snprintf(key, sizeof key, "cq-%u/%s-%u", ADMLOAD_MAX_CQS - 1, "medium",
                     ADMLOAD_MAX_WORKLOADS - 1);
    assert_true(n < ADMLOAD_KEY_MAX);
    admload_release(&l);
}

static void test_bad_options(void **state)
{
    static const struct {
        struct admload_opts o;
        const char *msg;
    } cases[] = {
        {{.cqs = 0, .workloads = 10}, "cqs 0"},
        {{.cqs = ADMLOAD_MAX_CQS + 1, .workloads = 10}, "cqs 100001"},
        {{.cqs = 10, .workloads = 0}, "workloads 0"},
        {{.cqs = 10, .workloads = ADMLOAD_MAX_WORKLOADS + 1}, "workloads 10000001"},
        {{.cqs = 10, .cohorts = 11, .workloads = 10}, "cohorts 11"},
        {{.cqs = 10, .workloads = 10, .nodes = 9}, "nodes 9: a large workload needs 10 nodes"},
        {{.cqs = 10, .workloads = 10, .nodes = ADMLOAD_MAX_NODES + 1}, "nodes 1000001"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct admload l;
        struct err e = {0};
        assert_int_equal(admload_make(&l, &cases[k].o, &e), -1);
        if (!strstr(e.msg, cases[k].msg))
            fail_msg("case %zu: '%s' lacks '%s'", k, e.msg, cases[k].msg);
        assert_null(l.wl);
        admload_release(&l); /* safe on a failed make */
    }
    /* Ten nodes are enough. */
    struct admload l;
    struct err e = {0};
    struct admload_opts o = opts(10, 0, 10, 10, 1);
    assert_int_equal(admload_make(&l, &o, &e), 0);
    admload_release(&l);
}

/* The world in the engine: queues, nodes and the documented quotas. */
static void build(const struct admload *l, struct adm **out)
{
    struct err e = {0};
    struct adm_config cfg = {.seed = 1};
    struct adm *a = adm_create(&cfg);
    if (admload_build(l, a, &e) < 0)
        fail_msg("admload_build: %s", e.msg);
    *out = a;
}

static void test_world(void **state)
{
    struct admload l;
    struct err e = {0};
    struct admload_opts o = opts(30, 0, 300, 20, 3);
    assert_int_equal(admload_make(&l, &o, &e), 0);
    struct adm *a;
    build(&l, &a);
    assert_int_equal(adm_ncqs(a), 30);
    assert_int_equal(adm_nnodes(a), 20);
    int gpu = adm_resource_find(a, "nvidia.com/gpu");
    int cpu = adm_resource_find(a, "cpu");
    int mem = adm_resource_find(a, "memory");
    assert_true(gpu >= 0 && cpu >= 0 && mem >= 0);
    for (uint32_t q = 0; q < adm_ncqs(a); q++) {
        int64_t g = ADMLOAD_NOMINAL_UNITS * ADMLOAD_GPUS_PER_UNIT;
        assert_int_equal(adm_cq_nominal(a, q, (uint32_t)gpu), g);
        assert_int_equal(adm_cq_nominal(a, q, (uint32_t)cpu), g * ADMLOAD_CPU_PER_GPU);
        assert_int_equal(adm_cq_nominal(a, q, (uint32_t)mem), g * ADMLOAD_MEM_PER_GPU);
        assert_int_equal(adm_cq_usage(a, q, (uint32_t)gpu), 0);
    }
    /* Every workload goes in, with dense ids in list order, pending. */
    for (uint32_t i = 0; i < l.nwl; i++) {
        struct adm_wl_spec s;
        struct adm_podset_spec ps;
        char key[ADMLOAD_KEY_MAX];
        admload_wl_spec(&l, i, &s, &ps, key);
        assert_int_equal(adm_add_workload(a, &s, &e), (int64_t)i);
        assert_int_equal(adm_workload(a, i)->state, ADM_PENDING);
        char want[32];
        snprintf(want, sizeof want, "cq-%u", l.wl[i].cq);
        assert_string_equal(adm_cq_name(a, adm_workload(a, i)->cq), want);
    }
    adm_destroy(a);

    /* Quota only: no nodes. */
    admload_release(&l);
    o.nodes = 0;
    assert_int_equal(admload_make(&l, &o, &e), 0);
    build(&l, &a);
    assert_int_equal(adm_nnodes(a), 0);
    assert_int_equal(adm_ncqs(a), 30);
    adm_destroy(a);
    admload_release(&l);
}

/* Same seed, same decisions: two engines fed the same load admit the same
 * workloads in the same first cycle. */
static void test_same_seed_same_world(void **state)
{
    struct admload l;
    struct err e = {0};
    struct admload_opts o = opts(10, 0, 200, 10, 9);
    assert_int_equal(admload_make(&l, &o, &e), 0);
    struct adm *w[2];
    uint32_t changes[2];
    for (int k = 0; k < 2; k++) {
        build(&l, &w[k]);
        for (uint32_t i = 0; i < l.nwl && l.wl[i].arrive_ns <= 100 * MTIME_MS; i++) {
            struct adm_wl_spec s;
            struct adm_podset_spec ps;
            char key[ADMLOAD_KEY_MAX];
            admload_wl_spec(&l, i, &s, &ps, key);
            assert_true(adm_add_workload(w[k], &s, &e) >= 0);
        }
        changes[k] = adm_cycle(w[k], 100 * MTIME_MS);
    }
    assert_int_equal(changes[0], changes[1]);
    assert_true(changes[0] > 0);
    assert_int_equal(adm_nworkloads(w[0]), adm_nworkloads(w[1]));
    for (uint32_t i = 0; i < adm_nworkloads(w[0]); i++)
        assert_int_equal(adm_workload(w[0], i)->state, adm_workload(w[1], i)->state);
    adm_destroy(w[0]);
    adm_destroy(w[1]);
    admload_release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_the_issue_size),
        cmocka_unit_test(test_classes_keep_kueue_ratios),
        cmocka_unit_test(test_split_per_queue),
        cmocka_unit_test(test_arrivals_on_grid),
        cmocka_unit_test(test_same_seed_same_load),
        cmocka_unit_test(test_cohorts_even_blocks),
        cmocka_unit_test(test_wl_spec),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_world),
        cmocka_unit_test(test_same_seed_same_world),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
