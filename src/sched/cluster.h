/*
 * cluster: the engine's model of the nodes and what is free on them.
 *
 * Sized for 130,000 nodes: a struct-of-arrays table indexed by dense node ids
 * (0..n-1, in the order nodes were added). Each node has CPU (milli-cores),
 * memory (MiB), a GPU model (interned to a small id) and up to CLUSTER_MAX_GPUS
 * GPUs, each with its own free share in milli-GPUs (0..1000), so a pod may take
 * 300 milli of one GPU and another pod 700 of the same GPU.
 *
 * A request (struct pod_req) asks for CPU, memory and either `gpus` whole GPUs
 * (gpu_milli == 1000) or a share of one GPU (gpus == 1, gpu_milli < 1000), and
 * optionally a set of acceptable GPU models.
 *
 * cluster_place() and cluster_release() keep every per-node aggregate (whole free
 * GPUs, free GPU milli) and every cluster total exact; cluster_check() verifies
 * that from scratch (tests call it after long sequences of operations).
 *
 * The cluster owns its arrays and the interned model names. Nothing here
 * allocates on the placement path.
 */
#ifndef MUSTER_SCHED_CLUSTER_H
#define MUSTER_SCHED_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define CLUSTER_MAX_GPUS   16
#define CLUSTER_MAX_MODELS 63
/* A model_mask that matches no node: a request naming only unknown models. */
#define MODEL_MASK_NONE (1ULL << 63)
#define GPU_MILLI       1000
#define CLUSTER_NO_NODE UINT32_MAX

/* A resource request. gpu_milli is per GPU: 1000 for whole GPUs, less for a share
 * (then gpus must be 1); a request with gpu_milli 0 takes no GPU, whatever gpus says. model_mask
 * has bit m set for each acceptable GPU model id m; 0 means any model. */
struct pod_req {
    int32_t cpu_milli;
    int64_t mem_mib;
    uint8_t gpus;
    uint16_t gpu_milli;
    uint64_t model_mask;
};

/* The kind of GPU request, for policies that group pods by kind (GpuClustering):
 * a share of one GPU, or 1, 2, 4, 8 or another number of whole GPUs. CPU-only
 * requests have no kind. */
enum pod_kind {
    POD_KIND_SHARE,
    POD_KIND_GPU1,
    POD_KIND_GPU2,
    POD_KIND_GPU4,
    POD_KIND_GPU8,
    POD_KIND_GPUN,
    POD_KIND_COUNT,
    POD_KIND_NONE = POD_KIND_COUNT
};

static inline enum pod_kind pod_req_kind(const struct pod_req *r)
{
    if (r->gpus == 0 || r->gpu_milli == 0)
        return POD_KIND_NONE;
    if (r->gpu_milli < 1000)
        return POD_KIND_SHARE;
    switch (r->gpus) {
    case 1:
        return POD_KIND_GPU1;
    case 2:
        return POD_KIND_GPU2;
    case 4:
        return POD_KIND_GPU4;
    case 8:
        return POD_KIND_GPU8;
    default:
        return POD_KIND_GPUN;
    }
}

/* Where a pod went: the node and the GPU indices on it (gpu[0..ngpu-1]). */
struct placement {
    uint32_t node;
    uint8_t ngpu;
    uint8_t gpu[CLUSTER_MAX_GPUS];
};

struct cluster {
    uint32_t n, cap;

    /* Static per node. */
    char **name;
    int32_t *cpu_cap;
    int64_t *mem_cap;
    uint8_t *gpu_n;
    uint8_t *model; /* interned GPU model id; CLUSTER_NO_MODEL when no GPUs */

    /* Free state per node. gpu_free[node * CLUSTER_MAX_GPUS + g] for g < gpu_n[node]. */
    int32_t *cpu_free;
    int64_t *mem_free;
    uint16_t *gpu_free;
    uint8_t *gpu_whole; /* GPUs with all 1000 milli free */
    int32_t *gpu_milli; /* sum of gpu_free over the node's GPUs */
    /* Pods of each kind on the node, and the bitmask of kinds with a nonzero count. */
    uint16_t *kind_count; /* [node * POD_KIND_COUNT + kind] */
    uint8_t *kinds;

    /* Cluster totals. */
    int64_t gpu_milli_cap, gpu_milli_free;
    int64_t cpu_cap_total, cpu_free_total;
    uint32_t gpus_total;

    /* GPU model names, id -> name. */
    uint32_t nmodels;
    char *model_name[CLUSTER_MAX_MODELS];
};

#define CLUSTER_NO_MODEL 0xff

void cluster_init(struct cluster *c);
void cluster_release(struct cluster *c);

/* Interns a GPU model name; returns its id, or -1 (with e filled) past
 * CLUSTER_MAX_MODELS. Lookup only (no insert) with cluster_model_find(), which
 * returns -1 for an unknown name. */
int cluster_model_id(struct cluster *c, const char *name, struct err *e);
int cluster_model_find(const struct cluster *c, const char *name);

/* Adds a node with everything free; returns its id or -1 on invalid input
 * (negative capacities, more than CLUSTER_MAX_GPUS GPUs). The name is copied. */
int64_t cluster_add_node(struct cluster *c, const char *name, int32_t cpu_milli, int64_t mem_mib,
                         int gpus, const char *model, struct err *e);

/* True when req can go on node considering CPU, memory, GPU model and GPUs. */
bool cluster_fits(const struct cluster *c, uint32_t node, const struct pod_req *req);
/* The model part of cluster_fits alone. */
static inline bool cluster_model_ok(const struct cluster *c, uint32_t node,
                                    const struct pod_req *req)
{
    if (req->gpus == 0 || req->model_mask == 0)
        return true;
    return c->model[node] != CLUSTER_NO_MODEL && (req->model_mask >> c->model[node]) & 1;
}

static inline const uint16_t *cluster_gpus(const struct cluster *c, uint32_t node)
{
    return &c->gpu_free[(uint64_t)node * CLUSTER_MAX_GPUS];
}

/* True when two requests ask for exactly the same thing. */
static inline bool pod_req_eq(const struct pod_req *a, const struct pod_req *b)
{
    return a->cpu_milli == b->cpu_milli && a->mem_mib == b->mem_mib && a->gpus == b->gpus &&
           a->gpu_milli == b->gpu_milli && a->model_mask == b->model_mask;
}

/* GPU milli-units a request takes in all: gpus * gpu_milli. */
static inline int64_t pod_req_gpu_milli(const struct pod_req *r)
{
    return (int64_t)r->gpus * r->gpu_milli;
}

/* Applies a placement chosen by a policy: takes req's CPU and memory from p->node,
 * and gpu_milli from each GPU p->gpu[i]. The caller must have checked that it fits
 * (asserted). */
void cluster_place(struct cluster *c, const struct pod_req *req, const struct placement *p);
/* Undoes cluster_place() of the same req and placement. */
void cluster_unplace(struct cluster *c, const struct pod_req *req, const struct placement *p);

/* Default GPU choice on a node, shared by the policies that have no opinion:
 * whole-GPU requests take the lowest-indexed fully free GPUs; a share takes the
 * GPU with the least free milli that still fits (best fit), lowest index on ties.
 * Fills p->gpu and p->ngpu; returns false when req does not fit node's GPUs. */
bool cluster_pick_gpus(const struct cluster *c, uint32_t node, const struct pod_req *req,
                       struct placement *p);

/* Recomputes every aggregate from the per-GPU state and compares; returns 0 or -1
 * with a description of the first mismatch. For tests and debug builds. */
int cluster_check(const struct cluster *c, struct err *e);

/* Resets every node to all-free. */
void cluster_reset(struct cluster *c);

#endif
