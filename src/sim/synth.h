/*
 * synth: synthetic clusters and pod streams for the placement benchmark
 * (`muster bench place`).
 *
 * A benchmark needs a cluster far larger than any trace (130,000 nodes) and a
 * stream of a million pods whose shape is known, so that placements per second
 * can be compared across policies and across commits. This module builds both,
 * deterministically from a seed (base/rng.h): the same spec gives the same
 * cluster and the same pods on every machine.
 *
 * Pods are not stored as a million struct pod_req: the generator draws from a
 * small table of request types and the stream is an array of type indices, so
 * the benchmark's memory is the engine's, not the pod list's. The types and
 * their weights are also the workload distribution handed to the engine
 * (FGD's "typical pods"), so fgd and fgdx plan for exactly what arrives.
 *
 * Mixes:
 *  - whole: 1, 2, 4 or 8 whole GPUs (weights 70/20/7/3; 1.62 GPUs a pod on
 *    average), SYNTH_CPU_PER_GPU milli-CPU and SYNTH_MEM_PER_GPU MiB per GPU;
 *  - share: 100, 250, 500 or 750 milli of one GPU (equal weights; 0.4 GPU a
 *    pod), 1,000 milli-CPU and 4,096 MiB;
 *  - mixed: each of the above with probability 1/2 (about 1.01 GPUs a pod, so
 *    1,000,000 pods nearly fill 1,040,000 GPUs);
 *  - openb: drawn uniformly with replacement from the pods of an openb trace
 *    (sim/openb.h): the trace's own mix, CPU-only pods and many distinct CPU
 *    sizes included.
 *
 * Nodes are either identical (SYNTH_SHAPE_UNIFORM: G GPUs of model "H100",
 * 12,000 milli-CPU and 98,304 MiB per GPU, or 96,000 / 786,432 without GPUs)
 * or cycle through the GPU node shapes of an openb trace (SYNTH_SHAPE_OPENB).
 */
#ifndef MUSTER_SIM_SYNTH_H
#define MUSTER_SIM_SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sched/cluster.h"
#include "sched/policy.h"
#include "sim/openb.h"

#define SYNTH_CPU_PER_GPU      8000  /* milli-CPU a whole-GPU pod asks per GPU */
#define SYNTH_MEM_PER_GPU      65536 /* MiB a whole-GPU pod asks per GPU */
#define SYNTH_NODE_CPU_PER_GPU 12000
#define SYNTH_NODE_MEM_PER_GPU 98304
#define SYNTH_NODE_CPU_NOGPU   96000
#define SYNTH_NODE_MEM_NOGPU   786432
#define SYNTH_MAX_NODES        2000000
#define SYNTH_MAX_PODS         100000000 /* 400 MB of type indices */

enum synth_mix { SYNTH_MIX_WHOLE, SYNTH_MIX_SHARE, SYNTH_MIX_MIXED, SYNTH_MIX_OPENB };
enum synth_shape { SYNTH_SHAPE_UNIFORM, SYNTH_SHAPE_OPENB };

/* Name of a mix ("whole", ...) and the reverse; synth_mix_parse returns -1
 * for an unknown name. Same for shapes ("uniform", "openb"). */
const char *synth_mix_name(enum synth_mix m);
int synth_mix_parse(const char *s);
const char *synth_shape_name(enum synth_shape s);
int synth_shape_parse(const char *s);

/* A pod stream: types[stream[i]] is the i-th pod. Types are distinct. */
struct synth_pods {
    struct pod_req *types;
    double *weight; /* the probability of each type in the stream, summing to 1 */
    uint32_t ntypes;
    uint32_t *stream;
    uint64_t n;
};

/* Draws n pods of mix m with rng seeded from seed. For SYNTH_MIX_OPENB, trace
 * gives the pods (required); when keep_models is false, their GPU-model masks
 * are cleared (the uniform cluster has one model that most masks do not name).
 * Fills out (caller releases with synth_pods_release); returns 0, or -1 with e
 * filled. */
int synth_pods_make(struct synth_pods *out, enum synth_mix m, uint64_t n, uint64_t seed,
                    const struct openb_trace *trace, bool keep_models, struct err *e);
void synth_pods_release(struct synth_pods *sp);

/* The stream's type distribution as the engine's expected workload: wd is
 * initialised here, every type added with its weight, then normalised. Caller
 * releases wd with workload_dist_release(). */
void synth_pods_workload(const struct synth_pods *sp, struct workload_dist *wd);

/* Builds a cluster of `nodes` nodes: identical ones with gpus_per_node GPUs
 * (SYNTH_SHAPE_UNIFORM) or the trace's GPU node shapes in file order, cycled
 * (SYNTH_SHAPE_OPENB; trace required, gpus_per_node ignored; model ids match
 * the trace's so pod model masks hold). cluster_init is done here; on failure
 * the cluster is released and -1 returned with e filled. */
int synth_cluster(struct cluster *c, enum synth_shape shape, uint32_t nodes, int gpus_per_node,
                  const struct openb_trace *trace, struct err *e);

#endif
