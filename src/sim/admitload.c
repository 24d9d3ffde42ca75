/* admitload: a Kueue-shaped synthetic admission load (admitload.h). */
#include "sim/admitload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "base/rng.h"

#define U ADMLOAD_GPUS_PER_UNIT

const struct admload_class_spec admload_classes[ADMLOAD_NCLASSES] = {
    [ADMLOAD_SMALL] = {"small", 1, U, U *ADMLOAD_CPU_PER_GPU, U *ADMLOAD_MEM_PER_GPU, 50,
                       50 * MTIME_MS, 20 * MTIME_MS, 20},
    [ADMLOAD_MEDIUM] = {"medium", 5, U, U *ADMLOAD_CPU_PER_GPU, U *ADMLOAD_MEM_PER_GPU, 100,
                        100 * MTIME_MS, 50 * MTIME_MS, 7},
    [ADMLOAD_LARGE] = {"large", 10, 2 * U, 2 * U *ADMLOAD_CPU_PER_GPU, 2 * U *ADMLOAD_MEM_PER_GPU,
                       200, 200 * MTIME_MS, 200 * MTIME_MS, 3},
};

/* Resource names in the order of every amount array below. */
static const char *const res_names[] = {"nvidia.com/gpu", "cpu", "memory"};
#define NRES (sizeof res_names / sizeof res_names[0])

/* Per-pod amounts of each class, in res_names order, for adm_podset_spec. */
static const int64_t class_amounts[ADMLOAD_NCLASSES][NRES] = {
    [ADMLOAD_SMALL] = {U, U *ADMLOAD_CPU_PER_GPU, U *ADMLOAD_MEM_PER_GPU},
    [ADMLOAD_MEDIUM] = {U, U *ADMLOAD_CPU_PER_GPU, U *ADMLOAD_MEM_PER_GPU},
    [ADMLOAD_LARGE] = {2 * U, 2 * U *ADMLOAD_CPU_PER_GPU, 2 * U *ADMLOAD_MEM_PER_GPU},
};

#define FLAVOR "gpu"

void admload_opts_default(struct admload_opts *o)
{
    *o = (struct admload_opts){
        .cqs = 1000,
        .cohorts = 0,
        .workloads = 50000,
        .nodes = 10000,
        .seed = 42,
    };
}

/* Splits n over the classes in proportion to their weights by largest
 * remainder; ties go to the smaller class index, so the split is fixed. */
static void split_by_weight(uint32_t n, uint32_t out[ADMLOAD_NCLASSES])
{
    uint32_t wsum = 0, given = 0;
    uint64_t rem[ADMLOAD_NCLASSES];
    for (int c = 0; c < ADMLOAD_NCLASSES; c++)
        wsum += admload_classes[c].weight;
    for (int c = 0; c < ADMLOAD_NCLASSES; c++) {
        uint64_t x = (uint64_t)n * admload_classes[c].weight;
        out[c] = (uint32_t)(x / wsum);
        rem[c] = x % wsum;
        given += out[c];
    }
    while (given < n) {
        int best = 0;
        for (int c = 1; c < ADMLOAD_NCLASSES; c++)
            if (rem[c] > rem[best])
                best = c;
        out[best]++;
        rem[best] = 0;
        given++;
    }
}

static int wl_cmp(const void *pa, const void *pb)
{
    const struct admload_wl *a = pa, *b = pb;
    if (a->arrive_ns != b->arrive_ns)
        return a->arrive_ns < b->arrive_ns ? -1 : 1;
    if (a->cq != b->cq)
        return a->cq < b->cq ? -1 : 1;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static char **make_names(const char *prefix, uint32_t n)
{
    char **v = xcalloc(n, sizeof *v);
    char buf[32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%s-%u", prefix, i);
        v[i] = xstrdup(buf);
    }
    return v;
}

static void free_names(char **v, uint32_t n)
{
    if (!v)
        return;
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int admload_make(struct admload *l, const struct admload_opts *o, struct err *e)
{
    memset(l, 0, sizeof *l);
    struct admload_opts r = *o;
    if (r.cqs == 0 || r.cqs > ADMLOAD_MAX_CQS)
        return errf(e, EINVAL, "cqs %u: want 1..%u", r.cqs, ADMLOAD_MAX_CQS);
    if (r.workloads == 0 || r.workloads > ADMLOAD_MAX_WORKLOADS)
        return errf(e, EINVAL, "workloads %u: want 1..%u", r.workloads, ADMLOAD_MAX_WORKLOADS);
    if (r.nodes > ADMLOAD_MAX_NODES)
        return errf(e, EINVAL, "nodes %u: want at most %u", r.nodes, ADMLOAD_MAX_NODES);
    if (r.cohorts == 0)
        r.cohorts = (r.cqs + ADMLOAD_QUEUES_PER_COHORT - 1) / ADMLOAD_QUEUES_PER_COHORT;
    if (r.cohorts > r.cqs)
        return errf(e, EINVAL, "cohorts %u: more cohorts than queues (%u)", r.cohorts, r.cqs);
    /* A large gang puts one pod on each of `pods` whole nodes. */
    const struct admload_class_spec *lg = &admload_classes[ADMLOAD_LARGE];
    if (r.nodes > 0 && r.nodes * (ADMLOAD_NODE_GPUS / lg->gpus_per_pod) < lg->pods)
        return errf(e, EINVAL, "nodes %u: a large workload needs %u nodes of %d GPUs", r.nodes,
                    lg->pods, ADMLOAD_NODE_GPUS);

    l->o = r;
    l->nwl = r.workloads;
    l->wl = xcalloc(l->nwl, sizeof *l->wl);
    struct rng rng;
    rng_seed(&rng, r.seed);
    uint32_t base = r.workloads / r.cqs, extra = r.workloads % r.cqs, k = 0;
    for (uint32_t q = 0; q < r.cqs; q++) {
        uint32_t per[ADMLOAD_NCLASSES];
        split_by_weight(base + (q < extra), per);
        for (int c = 0; c < ADMLOAD_NCLASSES; c++) {
            const struct admload_class_spec *cs = &admload_classes[c];
            /* The phase is drawn even for an empty stream, so that a queue's
             * phases do not depend on how many workloads it has. */
            int64_t phase =
                (int64_t)rng_below(&rng, (uint64_t)(cs->interval_ns / MTIME_MS)) * MTIME_MS;
            for (uint32_t s = 0; s < per[c]; s++) {
                l->wl[k++] = (struct admload_wl){
                    .arrive_ns = phase + (int64_t)(s + 1) * cs->interval_ns,
                    .cq = q,
                    .seq = s,
                    .cls = (uint8_t)c,
                };
            }
            l->per_class[c] += per[c];
            l->gpus_requested += (int64_t)per[c] * cs->pods * cs->gpus_per_pod;
        }
    }
    if (k != l->nwl)
        abort(); /* the split always sums to the queue's share */
    qsort(l->wl, l->nwl, sizeof *l->wl, wl_cmp);
    l->cq_names = make_names("cq", r.cqs);
    l->cohort_names = make_names("cohort", r.cohorts);
    return 0;
}

void admload_release(struct admload *l)
{
    free(l->wl);
    free_names(l->cq_names, l->o.cqs);
    free_names(l->cohort_names, l->o.cohorts);
    memset(l, 0, sizeof *l);
}

uint32_t admload_cohort_of(const struct admload *l, uint32_t cq)
{
    return (uint32_t)((uint64_t)cq * l->o.cohorts / l->o.cqs);
}

int admload_build(const struct admload *l, struct adm *a, struct err *e)
{
    const struct adm_flavor_spec flavor = {.name = FLAVOR};
    if (adm_add_flavor(a, &flavor, e) < 0)
        return -1;
    for (uint32_t c = 0; c < l->o.cohorts; c++) {
        const struct adm_cohort_spec cs = {.name = l->cohort_names[c], .weight_milli = 1000};
        if (adm_add_cohort(a, &cs, e) < 0)
            return -1;
    }

    const int64_t nominal_gpus = (int64_t)ADMLOAD_NOMINAL_UNITS * U;
    const int64_t borrow_gpus = (int64_t)ADMLOAD_BORROW_UNITS * U;
    const struct adm_quota_spec quota[NRES] = {
        {"nvidia.com/gpu", nominal_gpus, borrow_gpus, ADM_UNLIMITED},
        {"cpu", nominal_gpus * ADMLOAD_CPU_PER_GPU, borrow_gpus * ADMLOAD_CPU_PER_GPU,
         ADM_UNLIMITED},
        {"memory", nominal_gpus * ADMLOAD_MEM_PER_GPU, borrow_gpus * ADMLOAD_MEM_PER_GPU,
         ADM_UNLIMITED},
    };
    const struct adm_flavor_quota_spec fq = {.flavor = FLAVOR, .res = quota, .nres = NRES};
    const struct adm_group_spec group = {
        .covered = res_names, .ncovered = NRES, .flavors = &fq, .nflavors = 1};
    for (uint32_t q = 0; q < l->o.cqs; q++) {
        const struct adm_cq_spec cq = {
            .name = l->cq_names[q],
            .cohort = l->cohort_names[admload_cohort_of(l, q)],
            .groups = &group,
            .ngroups = 1,
            .strategy = ADM_BEST_EFFORT_FIFO,
            .stop = ADM_STOP_NONE,
            .within_cq = ADM_P_LOWER_PRIORITY,
            .reclaim_within_cohort = ADM_P_ANY,
            .borrow_within_cohort = ADM_P_NEVER,
            .when_can_borrow = ADM_MAY_STOP_SEARCH,
            .when_can_preempt = ADM_TRY_NEXT_FLAVOR,
            .weight_milli = 1000,
        };
        if (adm_add_cq(a, &cq, e) < 0)
            return -1;
    }

    char name[32];
    for (uint32_t n = 0; n < l->o.nodes; n++) {
        snprintf(name, sizeof name, "node-%u", n);
        const struct adm_node_spec ns = {
            .name = name,
            .cpu_milli = ADMLOAD_NODE_CPU,
            .memory = ADMLOAD_NODE_MEM,
            .gpus = ADMLOAD_NODE_GPUS,
        };
        if (adm_add_node(a, &ns, e) < 0)
            return -1;
    }
    return adm_seal(a, e);
}

int64_t admload_run_ns(const struct admload *l, uint32_t i)
{
    return admload_classes[l->wl[i].cls].run_ns;
}

void admload_wl_spec(const struct admload *l, uint32_t i, struct adm_wl_spec *s,
                     struct adm_podset_spec *ps, char key[ADMLOAD_KEY_MAX])
{
    const struct admload_wl *w = &l->wl[i];
    const struct admload_class_spec *cs = &admload_classes[w->cls];
    snprintf(key, ADMLOAD_KEY_MAX, "%s/%s-%u", l->cq_names[w->cq], cs->name, w->seq);
    *ps = (struct adm_podset_spec){
        .name = "main",
        .count = cs->pods,
        .res = res_names,
        .amount = class_amounts[w->cls],
        .nres = NRES,
    };
    *s = (struct adm_wl_spec){
        .key = key,
        .cq = l->cq_names[w->cq],
        .priority = cs->priority,
        .created_ns = w->arrive_ns,
        .max_exec_ns = cs->run_ns * ADMLOAD_MAX_EXEC_X,
        .active = true,
        .podsets = ps,
        .npodsets = 1,
    };
}
