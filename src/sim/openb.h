/*
 * openb: the fragmentation benchmark of the FGD paper on the Alibaba GPU trace
 * v2023 ("openb"), with the paper's protocol (../shared/traces/README.md):
 *
 *  1. the GPU nodes, numbered in a seeded random order (ties between equal scores
 *     go to the lowest number, so this is the random-but-fixed node ranking of the
 *     paper's simulator);
 *  2. the trace's pods in a seeded random order, then pods drawn uniformly with
 *     replacement until their GPU request reaches `tune` x the cluster's GPU
 *     capacity (or, if the trace already asks for more, pods removed at random
 *     until it does not);
 *  3. each pod placed once, in order, never removed; a pod that fits nowhere fails;
 *  4. after each pod, arrived load (GPU requested so far, failed pods included, as
 *     % of capacity) and allocated GPU (% of capacity) are recorded.
 *
 * The curve at arrived load a% is the mean allocation over the samples whose
 * arrived load rounds to a (the published figures are read this way), and the
 * unallocated GPU % is 100 minus it.
 */
#ifndef MUSTER_SIM_OPENB_H
#define MUSTER_SIM_OPENB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sched/cluster.h"
#include "sched/policy.h"

#define OPENB_MAX_PCT 130

struct openb_node {
    char *name;
    int32_t cpu_milli;
    int64_t mem_mib;
    int gpus;
    char *model;
};

struct openb_pod {
    struct pod_req req;
    char *spec; /* accepted GPU models, '|'-separated; "" = any */
};

struct openb_trace {
    struct openb_node *nodes;
    size_t nnodes;
    struct openb_pod *pods;
    size_t npods;
    char *model_names[CLUSTER_MAX_MODELS]; /* model id -> name, ids in order of first use */
    unsigned nmodels;
};

/* Loads the nodes file (sn,cpu_milli,memory_mib,gpu,model) and the pods file
 * (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,...]). Errors name the
 * file, line and column. Nodes without GPUs are skipped (the benchmark's cluster
 * is the GPU nodes). */
int openb_load(struct openb_trace *t, const char *nodes_path, const char *pods_path, struct err *e);
void openb_release(struct openb_trace *t);

/* The pod-type distribution of the whole trace (CPU-only pods included). */
void openb_workload(const struct openb_trace *t, struct workload_dist *wd);

/* One run's curve: unalloc[a] for a = 0..OPENB_MAX_PCT (NaN where no sample). */
struct openb_result {
    double unalloc[OPENB_MAX_PCT + 1];
    uint64_t pods, placed, failed;
    double seconds;
};

/* Runs one (policy, seed). progress_cb, if set, is called every 1024 pods. */
int openb_run(const struct openb_trace *t, const struct policy_ops *ops,
              const struct workload_dist *wd, uint64_t seed, double tune, struct openb_result *out,
              struct err *e);

/* Builds a cluster of the trace's nodes in the given order (perm[i] = trace node
 * index of cluster node i; NULL for file order). Model ids match the trace's. */
int openb_cluster(const struct openb_trace *t, const uint32_t *perm, struct cluster *c,
                  struct err *e);

#endif
