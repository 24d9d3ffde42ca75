/*
 * Tests for sched/nodeclass: identical nodes share a class, a node whose state
 * changes splits off and rejoins when its state comes back, members[0] is
 * always the lowest node id, and after thousands of random moves the classes
 * match a brute-force grouping of the nodes by state (and nodeclass_check
 * agrees).
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
#include "sched/nodeclass.h"

static struct pod_req req(int32_t cpu, int64_t mem, int gpus, int milli)
{
    struct pod_req r = {
        .cpu_milli = cpu, .mem_mib = mem, .gpus = (uint8_t)gpus, .gpu_milli = (uint16_t)milli};
    return r;
}

static void add(struct cluster *c, int32_t cpu, int64_t mem, int gpus, const char *model)
{
    struct err e = {0};
    char name[16];
    snprintf(name, sizeof name, "n%u", c->n);
    if (cluster_add_node(c, name, cpu, mem, gpus, model, &e) < 0)
        fail_msg("%s", e.msg);
}

static void assert_ok(const struct nodeclass_index *ix)
{
    struct err e = {0};
    if (nodeclass_check(ix, &e) < 0)
        fail_msg("nodeclass_check: %s", e.msg);
}

static const struct nodeclass *class_of(const struct nodeclass_index *ix, uint32_t node)
{
    return &ix->cls[ix->of[node]];
}

/* Places r on node's GPUs gpu[0..n-1] and re-files the node. */
static struct placement move(struct nodeclass_index *ix, struct cluster *c, uint32_t node,
                             const struct pod_req *r, int n, const int *gpu)
{
    struct placement p = {.node = node, .ngpu = (uint8_t)n};
    for (int i = 0; i < n; i++)
        p.gpu[i] = (uint8_t)gpu[i];
    cluster_place(c, r, &p);
    nodeclass_move(ix, node);
    return p;
}

static void unmove(struct nodeclass_index *ix, struct cluster *c, const struct pod_req *r,
                   const struct placement *p)
{
    cluster_unplace(c, r, p);
    nodeclass_move(ix, p->node);
}

static void test_identical_nodes_merge(void **state)
{
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    for (int i = 0; i < 5; i++)
        add(&c, 64000, 262144, 8, "G2");
    add(&c, 64000, 262144, 8, "T4"); /* 5: another model */
    add(&c, 64000, 262144, 4, "G2"); /* 6: fewer GPUs */
    add(&c, 32000, 262144, 8, "G2"); /* 7: less CPU */
    add(&c, 64000, 131072, 8, "G2"); /* 8: less memory */
    add(&c, 64000, 262144, 8, "G2"); /* 9: like 0..4 */
    add(&c, 64000, 262144, 0, "");   /* 10: no GPUs */
    add(&c, 64000, 262144, 0, "");   /* 11: like 10 */
    nodeclass_init(&ix, &c);
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 6); /* {0-4, 9}, {5}, {6}, {7}, {8}, {10, 11} */

    const struct nodeclass *k = class_of(&ix, 0);
    assert_int_equal(k->count, 6);
    assert_int_equal(k->members[0], 0);
    for (uint32_t i = 1; i < 5; i++)
        assert_int_equal(ix.of[i], ix.of[0]);
    assert_int_equal(ix.of[9], ix.of[0]);
    for (uint32_t i = 5; i <= 8; i++) {
        assert_int_not_equal(ix.of[i], ix.of[0]);
        assert_int_equal(class_of(&ix, i)->count, 1);
        assert_int_equal(class_of(&ix, i)->members[0], i);
    }
    assert_int_equal(ix.of[10], ix.of[11]);
    assert_int_equal(class_of(&ix, 11)->members[0], 10);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_split_and_reunite(void **state)
{
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    for (int i = 0; i < 5; i++)
        add(&c, 64000, 262144, 4, "G2");
    nodeclass_init(&ix, &c);
    assert_int_equal(ix.nlive, 1);
    uint32_t uid0 = class_of(&ix, 0)->uid;

    /* Node 2 takes a share: it leaves; the others stay together. */
    struct pod_req s = req(4000, 1024, 1, 300);
    struct placement p2 = move(&ix, &c, 2, &s, 1, (int[]){1});
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 2);
    assert_int_equal(class_of(&ix, 0)->count, 4);
    assert_int_equal(class_of(&ix, 0)->uid, uid0);
    assert_int_equal(class_of(&ix, 2)->count, 1);
    assert_int_equal(class_of(&ix, 2)->members[0], 2);
    assert_int_not_equal(class_of(&ix, 2)->uid, uid0);

    /* Node 0 takes the same share on another GPU: the sorted GPU vectors are
     * equal, so it joins node 2 and becomes that class's first member. The
     * untouched class is now led by node 1. */
    struct placement p0 = move(&ix, &c, 0, &s, 1, (int[]){3});
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 2);
    assert_int_equal(ix.of[0], ix.of[2]);
    assert_int_equal(class_of(&ix, 0)->count, 2);
    assert_int_equal(class_of(&ix, 0)->members[0], 0);
    assert_int_equal(class_of(&ix, 1)->members[0], 1);
    assert_int_equal(class_of(&ix, 1)->count, 3);

    /* Node 0 takes a CPU-only pod too: it splits from node 2. */
    struct pod_req cpu = req(1000, 0, 0, 0);
    struct placement pc = move(&ix, &c, 0, &cpu, 0, NULL);
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 3);
    assert_int_not_equal(ix.of[0], ix.of[2]);
    assert_int_equal(class_of(&ix, 2)->members[0], 2);

    /* Undo everything: one class again, led by node 0. */
    unmove(&ix, &c, &cpu, &pc);
    assert_int_equal(ix.of[0], ix.of[2]);
    unmove(&ix, &c, &s, &p0);
    assert_int_equal(ix.of[0], ix.of[1]);
    assert_int_equal(class_of(&ix, 1)->members[0], 0);
    unmove(&ix, &c, &s, &p2);
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 1);
    assert_int_equal(class_of(&ix, 3)->count, 5);
    assert_int_equal(class_of(&ix, 3)->members[0], 0);
    /* The class that never emptied kept its uid. */
    assert_int_equal(class_of(&ix, 3)->uid, uid0);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_kinds_are_part_of_state(void **state)
{
    /* Same free resources, different pod kinds: a whole 1-GPU pod versus two
     * half shares on the same GPU leave GPU vectors [0, 1000] both, but
     * GpuClustering scores them differently, so they must not share a class. */
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    add(&c, 64000, 262144, 2, "G2");
    add(&c, 64000, 262144, 2, "G2");
    nodeclass_init(&ix, &c);
    struct pod_req w = req(0, 0, 1, 1000), half = req(0, 0, 1, 500);
    move(&ix, &c, 0, &w, 1, (int[]){0});
    move(&ix, &c, 1, &half, 1, (int[]){0});
    move(&ix, &c, 1, &half, 1, (int[]){0});
    assert_int_equal(c.gpu_milli[0], c.gpu_milli[1]);
    assert_int_not_equal(ix.of[0], ix.of[1]);
    assert_int_equal(ix.nlive, 2);
    assert_ok(&ix);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_move_alone_gets_new_uid(void **state)
{
    /* Scores are memoised by uid, so a node alone in its class must still get
     * a fresh uid when its state changes, and uids are never reused. */
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    add(&c, 64000, 262144, 2, "G2");
    nodeclass_init(&ix, &c);
    uint32_t seen[64];
    int nseen = 0;
    seen[nseen++] = class_of(&ix, 0)->uid;
    struct pod_req s = req(100, 0, 1, 100);
    struct placement p[20];
    for (int i = 0; i < 20; i++) {
        p[i] = move(&ix, &c, 0, &s, 1, (int[]){i % 2});
        seen[nseen++] = class_of(&ix, 0)->uid;
    }
    for (int i = 19; i >= 0; i--) {
        unmove(&ix, &c, &s, &p[i]);
        seen[nseen++] = class_of(&ix, 0)->uid;
    }
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 1);
    for (int i = 0; i < nseen; i++)
        for (int j = 0; j < i; j++)
            if (seen[i] == seen[j])
                fail_msg("uid %u used twice (moves %d and %d)", seen[i], j, i);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_check_detects_corruption(void **state)
{
    struct cluster c;
    struct nodeclass_index ix;
    struct err e = {0};
    cluster_init(&c);
    for (int i = 0; i < 4; i++)
        add(&c, 1000, 1000, 1, "T4");
    nodeclass_init(&ix, &c);
    /* Change a node's state behind the index's back. */
    struct placement p = {.node = 3, .ngpu = 1, .gpu = {0}};
    struct pod_req s = req(0, 0, 1, 10);
    cluster_place(&c, &s, &p);
    assert_int_equal(nodeclass_check(&ix, &e), -1);
    nodeclass_move(&ix, 3);
    assert_ok(&ix);
    /* Break the heap order. */
    struct nodeclass *k = &ix.cls[ix.of[0]];
    uint32_t t = k->members[0];
    k->members[0] = k->members[1];
    k->members[1] = t;
    assert_int_equal(nodeclass_check(&ix, &e), -1);
    nodeclass_release(&ix);
    cluster_release(&c);
}

/* ---- thousands of random moves against a brute-force grouping ---- */

/* The state a class stands for, built independently of nodeclass.c. */
struct key {
    int32_t cpu_cap, cpu_free;
    int64_t mem_cap, mem_free;
    int gpu_n, model, kinds;
    int gpus[CLUSTER_MAX_GPUS]; /* sorted */
};

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void key_of(const struct cluster *c, uint32_t n, struct key *k)
{
    memset(k, 0, sizeof *k);
    k->cpu_cap = c->cpu_cap[n];
    k->cpu_free = c->cpu_free[n];
    k->mem_cap = c->mem_cap[n];
    k->mem_free = c->mem_free[n];
    k->gpu_n = c->gpu_n[n];
    k->model = c->model[n];
    k->kinds = c->kinds[n];
    for (int i = 0; i < k->gpu_n; i++)
        k->gpus[i] = cluster_gpus(c, n)[i];
    qsort(k->gpus, (size_t)k->gpu_n, sizeof k->gpus[0], cmp_int);
}

static void check_against_brute_force(const struct nodeclass_index *ix, const struct cluster *c)
{
    uint32_t n = c->n, distinct = 0;
    struct key *keys = calloc(n, sizeof *keys);
    for (uint32_t i = 0; i < n; i++)
        key_of(c, i, &keys[i]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lowest = i;
        for (uint32_t j = 0; j < n; j++) {
            bool same = !memcmp(&keys[i], &keys[j], sizeof keys[i]);
            if (same != (ix->of[i] == ix->of[j]))
                fail_msg("nodes %u and %u: same state %d, same class %d", i, j, same,
                         ix->of[i] == ix->of[j]);
            if (same && j < lowest)
                lowest = j;
        }
        if (lowest == i)
            distinct++;
        assert_int_equal(class_of(ix, i)->members[0], lowest);
    }
    assert_int_equal(ix->nlive, distinct);
    free(keys);
}

struct live {
    struct pod_req r;
    struct placement p;
};

static void test_random_moves(void **state)
{
    /* 120 nodes of three shapes, and small request sizes from short lists, so
     * that nodes often land in the same state again and classes keep merging
     * and splitting rather than every node becoming a class of its own. */
    struct cluster c;
    struct nodeclass_index ix;
    struct rng g;
    cluster_init(&c);
    rng_seed(&g, 7);
    for (int i = 0; i < 120; i++) {
        if (i % 3 == 0)
            add(&c, 32000, 65536, 4, "G2");
        else if (i % 3 == 1)
            add(&c, 64000, 131072, 8, "G2");
        else
            add(&c, 32000, 65536, 2, "T4");
    }
    nodeclass_init(&ix, &c);
    assert_int_equal(ix.nlive, 3);

    static const int shares[] = {250, 500, 500, 1000};
    enum { STEPS = 6000, MAXLIVE = 2048 };
    struct live *lv = calloc(MAXLIVE, sizeof *lv);
    int nlive = 0, moves = 0;
    uint32_t max_live_classes = 0;
    for (int step = 0; step < STEPS; step++) {
        if (nlive == 0 || (nlive < MAXLIVE && rng_below(&g, 2))) {
            uint32_t n = (uint32_t)rng_below(&g, c.n);
            int milli = shares[rng_below(&g, 4)];
            struct pod_req r = req(1000 * (int32_t)rng_below(&g, 3), 0, 1, milli);
            if (rng_below(&g, 5) == 0)
                r = req(2000, 1024, 0, 0);
            struct placement p;
            if (!cluster_fits(&c, n, &r) || !cluster_pick_gpus(&c, n, &r, &p))
                continue;
            cluster_place(&c, &r, &p);
            nodeclass_move(&ix, n);
            lv[nlive].r = r;
            lv[nlive].p = p;
            nlive++;
        } else {
            int k = (int)rng_below(&g, (uint64_t)nlive);
            cluster_unplace(&c, &lv[k].r, &lv[k].p);
            nodeclass_move(&ix, lv[k].p.node);
            lv[k] = lv[--nlive];
        }
        moves++;
        if (ix.nlive > max_live_classes)
            max_live_classes = ix.nlive;
        if (step % 50 == 0) {
            assert_ok(&ix);
            check_against_brute_force(&ix, &c);
        }
    }
    assert_true(moves > 4000);
    /* Classes did merge (far fewer than nodes) and did split (more than 3). */
    assert_true(max_live_classes > 10);
    assert_true(max_live_classes < 110);
    assert_ok(&ix);
    check_against_brute_force(&ix, &c);

    /* Drain: back to the three shapes, each led by its lowest node. */
    while (nlive > 0) {
        nlive--;
        cluster_unplace(&c, &lv[nlive].r, &lv[nlive].p);
        nodeclass_move(&ix, lv[nlive].p.node);
    }
    assert_ok(&ix);
    assert_int_equal(ix.nlive, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(class_of(&ix, i)->members[0], i);
        assert_int_equal(class_of(&ix, i)->count, 40);
    }
    free(lv);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_many_classes(void **state)
{
    /* More distinct states than the lookup table's first size (64 slots), so
     * it must grow and rehash; then every node goes back, so all those classes
     * die and leave tombstones that later inserts must step over. */
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    for (int i = 0; i < 600; i++)
        add(&c, 64000, 262144, 8, "G2");
    nodeclass_init(&ix, &c);
    struct placement *p = calloc(600, sizeof *p);
    struct pod_req *r = calloc(600, sizeof *r);
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 600; i++) {
            r[i] = req((int32_t)(i % 300) * 10 + round, 0, 0, 0); /* 300 distinct states */
            p[i] = move(&ix, &c, i, &r[i], 0, NULL);
        }
        assert_ok(&ix);
        assert_int_equal(ix.nlive, 300);
        for (uint32_t i = 0; i < 300; i++) {
            assert_int_equal(ix.of[i], ix.of[i + 300]);
            assert_int_equal(class_of(&ix, i + 300)->members[0], i);
        }
        for (uint32_t i = 0; i < 600; i++)
            unmove(&ix, &c, &r[i], &p[i]);
        assert_ok(&ix);
        assert_int_equal(ix.nlive, 1);
        assert_int_equal(class_of(&ix, 599)->members[0], 0);
    }
    free(p);
    free(r);
    nodeclass_release(&ix);
    cluster_release(&c);
}

static void test_empty_cluster(void **state)
{
    struct cluster c;
    struct nodeclass_index ix;
    cluster_init(&c);
    nodeclass_init(&ix, &c);
    assert_int_equal(ix.nlive, 0);
    assert_ok(&ix);
    nodeclass_release(&ix);
    cluster_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_nodes_merge),
        cmocka_unit_test(test_split_and_reunite),
        cmocka_unit_test(test_kinds_are_part_of_state),
        cmocka_unit_test(test_move_alone_gets_new_uid),
        cmocka_unit_test(test_check_detects_corruption),
        cmocka_unit_test(test_random_moves),
        cmocka_unit_test(test_many_classes),
        cmocka_unit_test(test_empty_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
