/*
 * The registry and the baseline policies of the FGD paper: random, dotprod,
 * bestfit, gpupacking, gpuclustering. Each follows the public simulator of the
 * paper (hkust-adsl/kubernetes-scheduler-simulator), integer truncation
 * included, because truncation decides which nodes tie. docs/placement-policies.md
 * gives the formulas.
 */
#include "sched/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sched/fgd.h"

/* The simulator normalises by fixed "largest node" constants, not by the node's
 * own capacity. */
#define MAX_SPEC_CPU 128000.0
#define MAX_SPEC_GPU 8000.0

/* Lowest-indexed fully free GPUs for whole-GPU requests; for shares, a GPU
 * drawn uniformly among those that fit. */
static bool random_pick_gpus(void *st, const struct cluster *c, uint32_t node,
                             const struct pod_req *req, struct placement *p, struct rng *rng)
{
    (void)st;
    if (req->gpus != 1 || req->gpu_milli >= GPU_MILLI)
        return cluster_pick_gpus(c, node, req, p);
    const uint16_t *g = cluster_gpus(c, node);
    int fit[CLUSTER_MAX_GPUS], n = 0;
    for (int k = 0; k < c->gpu_n[node]; k++)
        if (g[k] >= req->gpu_milli)
            fit[n++] = k;
    if (!n)
        return false;
    p->node = node;
    p->ngpu = 1;
    p->gpu[0] = (uint8_t)fit[n == 1 ? 0 : rng_below(rng, (uint64_t)n)];
    return true;
}

static const struct policy_ops random_ops = {
    .name = "random",
    .summary = "uniformly random feasible node",
    .pick_gpus = random_pick_gpus,
};

static double dotprod_score(void *st, const struct cluster *c, uint32_t node,
                            const struct pod_req *req)
{
    (void)st;
    double cpu_r = policy_cpu(req), cpu_l = c->cpu_free[node];
    if (cpu_l < cpu_r)
        return 0;
    double gpu_r = (double)pod_req_gpu_milli(req), gpu_l = c->gpu_milli[node];
    double dot = (cpu_l / MAX_SPEC_CPU) * (cpu_r / MAX_SPEC_CPU) +
                 (gpu_l / MAX_SPEC_GPU) * (gpu_r / MAX_SPEC_GPU);
    return (double)(int64_t)(100.0 * (1.0 - dot / 2.0));
}

static const struct policy_ops dotprod_ops = {
    .name = "dotprod",
    .summary = "smallest dot product of free resources and request",
    .score = dotprod_score,
};

static double bestfit_score(void *st, const struct cluster *c, uint32_t node,
                            const struct pod_req *req)
{
    (void)st;
    double left = 0.5 * (c->cpu_free[node] - policy_cpu(req)) / MAX_SPEC_CPU +
                  0.5 * (double)(c->gpu_milli[node] - pod_req_gpu_milli(req)) / MAX_SPEC_GPU;
    /* The simulator then min-max normalises over feasible nodes, which keeps
     * the order and the ties of these integers (their range is at most 100). */
    return (double)(int64_t)((1.0 - left) * 100.0);
}

static const struct policy_ops bestfit_ops = {
    .name = "bestfit",
    .summary = "least CPU and GPU left after placement",
    .score = bestfit_score,
};

static double gpupacking_score(void *st, const struct cluster *c, uint32_t node,
                               const struct pod_req *req)
{
    (void)st;
    if (req->gpus == 0 || req->gpu_milli == 0)
        return 0;
    int n = c->gpu_n[node], whole = c->gpu_whole[node];
    if (whole == n) /* an untouched node: the more GPUs, the worse */
        return 33 - whole > whole ? 33 - whole : whole;
    /* Take GPUs in ascending order of free milli (index order among equals),
     * the first `gpus` that fit. */
    const uint16_t *g = cluster_gpus(c, node);
    uint8_t order[CLUSTER_MAX_GPUS];
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && g[order[j - 1]] > g[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint8_t)i;
    }
    int need = req->gpus, fresh = 0, ratio = 0;
    for (int i = 0; i < n && need > 0; i++) {
        int free = g[order[i]];
        if (free < req->gpu_milli)
            continue;
        need--;
        fresh += free == GPU_MILLI;
        ratio += free * 100 / GPU_MILLI;
    }
    if (fresh > 0)
        return 50 - fresh > 33 ? 50 - fresh : 33;
    return 100 - ratio / 10 > 50 ? 100 - ratio / 10 : 50;
}

static const struct policy_ops gpupacking_ops = {
    .name = "gpupacking",
    .summary = "shared GPUs first, then used nodes, then untouched ones",
    .score = gpupacking_score,
};

static double gpuclustering_score(void *st, const struct cluster *c, uint32_t node,
                                  const struct pod_req *req)
{
    (void)st;
    enum pod_kind kind = pod_req_kind(req);
    if (kind == POD_KIND_NONE)
        return 0;
    int64_t base = 25 * ((int64_t)MAX_SPEC_GPU - c->gpu_milli[node]) / (int64_t)MAX_SPEC_GPU;
    unsigned kinds = c->kinds[node], mine = 1u << kind;
    if (kinds == mine)
        return (double)(base + 75);
    if (kinds & mine)
        return (double)(base + 50);
    if (!kinds)
        return (double)(base + 25);
    return (double)base;
}

static const struct policy_ops gpuclustering_ops = {
    .name = "gpuclustering",
    .summary = "nodes already running the same kind of GPU pod first",
    .score = gpuclustering_score,
};

const struct policy_ops *const policy_all[] = {
    &random_ops,  &dotprod_ops, &gpuclustering_ops, &gpupacking_ops,
    &bestfit_ops, &fgd_ops,     &fgdx_ops,
};
const size_t policy_count = sizeof policy_all / sizeof policy_all[0];

const struct policy_ops *policy_find(const char *name, struct err *e)
{
    for (size_t i = 0; i < policy_count; i++)
        if (!strcmp(policy_all[i]->name, name))
            return policy_all[i];
    char names[160] = "";
    for (size_t i = 0; i < policy_count; i++) {
        strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, policy_all[i]->name, sizeof names - strlen(names) - 1);
    }
    errf(e, ENOENT, "unknown policy '%s' (known: %s)", name, names);
    return NULL;
}
