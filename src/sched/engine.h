/*
 * engine: places pods on the cluster with a named policy.
 *
 * The engine owns the node classes (nodeclass.h), a memo of scores by (class,
 * request type), and a seeded generator for the policies that choose at random,
 * so placements are reproducible given the cluster, the sequence of requests, the
 * policy and the seed.
 *
 * engine_place() scans classes, not nodes, and only those filed at a GPU level
 * that could take the request: each feasible class is scored once
 * (from the memo when the class and request type were seen before) and the best
 * score wins. Ties go to the lowest node id: callers that want a random ranking
 * (the simulator) number their nodes in a seeded random order. A policy without a
 * score (random) draws uniformly over all feasible nodes.
 */
#ifndef MUSTER_SCHED_ENGINE_H
#define MUSTER_SCHED_ENGINE_H

#include <stdint.h>

#include "base/rng.h"
#include "sched/cluster.h"
#include "sched/nodeclass.h"
#include "sched/policy.h"

/* Memoised scores of one request type, indexed by class slot. */
struct memo_row {
    uint32_t *uid; /* uid of the class the score was computed for; 0 = none */
    double *score;
    uint32_t cap;
};

struct req_types {
    struct pod_req *req;
    uint32_t *table; /* hash -> type id + 1 */
    uint32_t n, cap, tcap;
};

struct engine {
    struct cluster *c;
    struct nodeclass_index ix;
    const struct policy_ops *ops;
    void *pst;
    struct rng rng;
    struct memo_row *rows; /* by request type id */
    uint32_t nrows;
    size_t memo_bytes;
    struct req_types types;
    uint64_t placed, failed, scored, memo_hits;
};

/* Binds an engine to cluster c (which it modifies through engine_place) with the
 * policy ops, expected workload wd (may be NULL) and seed. */
void engine_init(struct engine *en, struct cluster *c, const struct policy_ops *ops,
                 const struct workload_dist *wd, uint64_t seed);
void engine_release(struct engine *en);

/* Chooses a node and GPUs for req and applies it to the cluster. Returns true and
 * fills *out, or false when no node fits (the cluster is unchanged). */
bool engine_place(struct engine *en, const struct pod_req *req, struct placement *out);

/* Chooses without applying. */
bool engine_select(struct engine *en, const struct pod_req *req, struct placement *out);

/* Applies / removes a placement made earlier (or chosen elsewhere), keeping the
 * engine's indexes in step with the cluster. */
void engine_apply(struct engine *en, const struct pod_req *req, const struct placement *p);
void engine_remove(struct engine *en, const struct pod_req *req, const struct placement *p);

#endif
