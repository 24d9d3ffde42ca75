/*
 * policy: placement policies, each selectable by name.
 *
 * A policy scores a (node, request) pair; the engine (engine.h) places the
 * request on a node of the highest score, the lowest node id among equals.
 * Scores must depend only on the node's class state (see
 * nodeclass.h) and the request, so the engine can memoise them. Higher is better.
 *
 * The policies of the FGD paper (Weng et al., USENIX ATC 2023) follow the
 * semantics of its public simulator so numbers are comparable; see
 * docs/placement-policies.md for each formula, and for muster's own policy.
 */
#ifndef MUSTER_SCHED_POLICY_H
#define MUSTER_SCHED_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/rng.h"
#include "sched/cluster.h"

/* The workload a policy may plan for: request types and their relative
 * frequencies (summing to 1). FGD calls these "typical pods". */
struct workload_dist {
    size_t n;
    struct pod_req *req;
    double *freq;
};

void workload_dist_init(struct workload_dist *wd);
void workload_dist_release(struct workload_dist *wd);
/* Adds weight w to the type req (merging equal requests). */
void workload_dist_add(struct workload_dist *wd, const struct pod_req *req, double w);
/* Sorts types by decreasing weight (ties: larger CPU, GPU share, GPU count,
 * model set, memory first, so the order is fully determined) and scales weights
 * to sum to 1. */
void workload_dist_normalize(struct workload_dist *wd);

struct policy_ops {
    const char *name;
    const char *summary;
    /* Creates the policy's state for cluster c (may be NULL when stateless).
     * wd is the expected workload (may be empty); the policy copies what it keeps. */
    void *(*create)(const struct cluster *c, const struct workload_dist *wd);
    void (*destroy)(void *st);
    /* Score of placing req on node, which fits. Higher is better. NULL: every
     * feasible node scores the same (random). */
    double (*score)(void *st, const struct cluster *c, uint32_t node, const struct pod_req *req);
    /* Chooses GPUs on the chosen node; NULL uses cluster_pick_gpus(). rng is the
     * engine's seeded generator, for policies that choose at random. */
    bool (*pick_gpus)(void *st, const struct cluster *c, uint32_t node, const struct pod_req *req,
                      struct placement *p, struct rng *rng);
};

/* The CPU a request counts for in scores: as kube-scheduler does, a request of
 * 0 counts as 100 milli-cores (filtering uses the real request). */
static inline int32_t policy_cpu(const struct pod_req *r)
{
    return r->cpu_milli ? r->cpu_milli : 100;
}

/* The registry, in a fixed order. */
extern const struct policy_ops *const policy_all[];
extern const size_t policy_count;

/* Finds a policy by name; NULL with e filled (listing the valid names) if none. */
const struct policy_ops *policy_find(const char *name, struct err *e);

#endif
