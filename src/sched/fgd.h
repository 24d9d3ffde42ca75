/*
 * fgd: fragmentation of a node's free GPUs against an expected workload, and
 * the policies built on it.
 *
 * The measure is that of the FGD paper (Weng et al., USENIX ATC 2023): for each
 * request type p of the expected workload, with frequency f_p, the GPU milli on
 * the node that p could not use counts as fragment, weighted by f_p:
 *  - all free GPU milli, when p needs no GPU, or cannot run on this node (GPU
 *    model, too few GPUs with enough free, or too little CPU);
 *  - otherwise the free milli of the GPUs with less free than p needs per GPU.
 * A node's fragmentation F is the sum over p. Memory is not part of it (as in
 * the paper's simulator).
 *
 * `fgd` places a pod where F grows least (the "fragmentation gradient"), scoring
 * 100 * sigmoid(-dF / 1000 milli) truncated to an integer, exactly like the
 * paper's simulator; `fgdx` is muster's own refinement: the same, but a CPU-only
 * pod goes, among FGD's equals, to the node with the least idle GPU
 * (docs/placement-policies.md).
 *
 * Frequencies are held as integers (f_p scaled by 2^20) so F is computed in exact
 * integer arithmetic: equal states give equal F, and ties are real ties.
 */
#ifndef MUSTER_SCHED_FGD_H
#define MUSTER_SCHED_FGD_H

#include "sched/policy.h"

extern const struct policy_ops fgd_ops;
extern const struct policy_ops fgdx_ops;

struct frag_model;

struct frag_opts {
    /* Keep the most frequent types that together cover at least this share
     * (0..1] of the weight, and renormalise: FGD's "typical pods" use 0.95. */
    double coverage;
    /* Also count a type as unable to run where the node's free memory is below
     * its request. Without it, types differing only in memory are merged. */
    bool memory;
};

/* Builds the measure from wd. Caller frees with frag_model_destroy(). */
struct frag_model *frag_model_create(const struct workload_dist *wd, const struct frag_opts *o);
void frag_model_destroy(struct frag_model *fm);

/* F, scaled by 2^20, of a node with GPU model `model`, `gpu_n` GPUs with free
 * milli gpus[0..gpu_n-1] (any order), cpu_free milli-cores and mem_free MiB free
 * (memory is ignored unless the model is memory-aware). Memoised. */
int64_t frag_amount(struct frag_model *fm, uint8_t model, int gpu_n, const uint16_t *gpus,
                    int32_t cpu_free, int64_t mem_free);

#define FRAG_SCALE 1048576.0

#endif
