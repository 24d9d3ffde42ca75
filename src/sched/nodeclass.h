/*
 * nodeclass: nodes grouped by their exact scheduling state.
 *
 * Two nodes are in the same class when everything a placement policy can look
 * at is equal: capacities (CPU, memory, GPU count, GPU model), free state (CPU,
 * memory, and the multiset of per-GPU free milli, i.e. the GPU vector sorted) and
 * the set of pod kinds running there (cluster.h).
 * Every policy's score is a function of that state and the request, so the engine
 * scores a class once instead of each of its nodes, and memoises the score by
 * (class uid, request type). A cluster of 130,000 identical nodes fed whole-GPU
 * pods has a handful of classes, not 130,000 nodes to visit.
 *
 * Ties between nodes of equal score go to the lowest node id (the engine's one
 * tie-break rule; the simulator numbers nodes in a seeded random order so that
 * this is a random but fixed ranking, as in the FGD paper's simulator). So each
 * class keeps its members in a min-heap by node id: the class's best node is
 * members[0], and a node leaves or joins in O(log n).
 *
 * Invariants (checked by nodeclass_check):
 *  - every node is in exactly one live class, at position pos[node] of its
 *    members heap, and the heap property holds;
 *  - a live class has count >= 1; a class whose last node leaves is freed and
 *    its slot reused, but its uid never is (uids key the score memo);
 *  - the lookup table maps state -> slot for every live class.
 *
 * Owned by the engine; caller calls nodeclass_move() after it changes a node's
 * free state in the cluster.
 */
#ifndef MUSTER_SCHED_NODECLASS_H
#define MUSTER_SCHED_NODECLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sched/cluster.h"

/* Classes are filed in bins by GPU level and free CPU, so a request visits only
 * classes whose GPUs and CPU could take it. GPU level: 20 + w for a class with
 * w >= 1 fully free GPUs, else (largest free share) / 50, i.e. 0..19; CPU-only
 * requests visit every level. CPU bucket: free milli-cores / 4000, the last
 * bucket holding everything from 128 cores up. */
#define NODECLASS_SHARE_LEVELS 20
#define NODECLASS_LEVELS       (NODECLASS_SHARE_LEVELS + CLUSTER_MAX_GPUS + 1)
#define NODECLASS_CPU_STEP     4000
#define NODECLASS_CPU_BUCKETS  33
#define NODECLASS_BINS         (NODECLASS_LEVELS * NODECLASS_CPU_BUCKETS)
_Static_assert(NODECLASS_LEVELS <= 64 && NODECLASS_CPU_BUCKETS <= 64, "bin masks are 64-bit");

static inline int nodeclass_cpu_bucket(int32_t cpu)
{
    int b = cpu / NODECLASS_CPU_STEP;
    return b < NODECLASS_CPU_BUCKETS - 1 ? (b < 0 ? 0 : b) : NODECLASS_CPU_BUCKETS - 1;
}

struct nodeclass {
    uint32_t uid;      /* never reused; 0 marks a free slot */
    uint32_t count;    /* nodes in the class */
    uint32_t min_node; /* members[0], kept here so a scan need not follow members */
    uint32_t lpos;     /* position in its bin's slot list */
    uint16_t bin;      /* level * NODECLASS_CPU_BUCKETS + CPU bucket */
    uint32_t cap;      /* members capacity */
    uint32_t *members; /* node ids as a binary min-heap: members[0] is the lowest */
    uint64_t hash;
    /* What feasibility needs, copied from the state when the class is made (a
     * class's state never changes), so scanning classes touches only this array. */
    int64_t mem_free;
    int32_t cpu_free;
    uint16_t max_gpu_free; /* the most free milli on any one GPU */
    uint8_t gpu_whole, model;
};

/* The lowest GPU level whose classes may fit req. */
static inline int nodeclass_req_level(const struct pod_req *req)
{
    if (req->gpus == 0 || req->gpu_milli == 0)
        return 0;
    if (req->gpu_milli >= GPU_MILLI)
        return NODECLASS_SHARE_LEVELS +
               (req->gpus < CLUSTER_MAX_GPUS ? req->gpus : CLUSTER_MAX_GPUS);
    return req->gpu_milli / (GPU_MILLI / NODECLASS_SHARE_LEVELS);
}

/* True when req fits a node of class k (the same test as cluster_fits). */
static inline bool nodeclass_fits(const struct nodeclass *k, const struct pod_req *req)
{
    if (k->cpu_free < req->cpu_milli || k->mem_free < req->mem_mib)
        return false;
    if (req->gpus == 0 || req->gpu_milli == 0)
        return true;
    if (req->model_mask && (k->model == CLUSTER_NO_MODEL || !((req->model_mask >> k->model) & 1)))
        return false;
    if (req->gpu_milli >= GPU_MILLI)
        return k->gpu_whole >= req->gpus;
    return k->max_gpu_free >= req->gpu_milli;
}

struct nodeclass_index {
    const struct cluster *c;
    struct nodeclass *cls; /* slots; live ones have uid != 0 */
    uint32_t ncls, cap;    /* slots in use (live or free), allocated */
    uint32_t nlive;
    uint32_t *free_slots;
    uint32_t nfree;
    uint32_t next_uid;
    uint32_t *of;  /* node -> class slot */
    uint32_t *pos; /* node -> position in its class's members */
    /* live class slots by bin; a class is at bin_slots[bin][lpos] */
    uint32_t *bin_slots[NODECLASS_BINS];
    uint32_t bin_n[NODECLASS_BINS], bin_cap[NODECLASS_BINS];
    /* non-empty bins: bit b of cpu_mask[level] for CPU bucket b, bit l of
     * level_mask for a level with any non-empty bin; scans skip empty bins */
    uint64_t cpu_mask[NODECLASS_LEVELS];
    uint64_t level_mask;
    /* open-addressing table: hash -> slot+1 (0 empty); linear probing */
    uint32_t *table;
    uint32_t tcap, tused;
    uint32_t ntomb;
};

/* Builds classes for all nodes of c. c must outlive the index. */
void nodeclass_init(struct nodeclass_index *ix, const struct cluster *c);
void nodeclass_release(struct nodeclass_index *ix);

/* Re-files node after its free state changed in the cluster. */
void nodeclass_move(struct nodeclass_index *ix, uint32_t node);

/* The state hash of a node as stored in the cluster now. */
uint64_t nodeclass_hash(const struct cluster *c, uint32_t node);

int nodeclass_check(const struct nodeclass_index *ix, struct err *e);

#endif
