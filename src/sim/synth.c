/* synth: synthetic clusters and pod streams (synth.h). */
#include "sim/synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/rng.h"

static const char *const mix_names[] = {"whole", "share", "mixed", "openb"};
static const char *const shape_names[] = {"uniform", "openb"};

const char *synth_mix_name(enum synth_mix m)
{
    return mix_names[m];
}

int synth_mix_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof mix_names / sizeof mix_names[0]); i++)
        if (!strcmp(s, mix_names[i]))
            return i;
    return -1;
}

const char *synth_shape_name(enum synth_shape s)
{
    return shape_names[s];
}

int synth_shape_parse(const char *s)
{
    for (int i = 0; i < (int)(sizeof shape_names / sizeof shape_names[0]); i++)
        if (!strcmp(s, shape_names[i]))
            return i;
    return -1;
}

/* The fixed synthetic types. Weights are relative within a mix. */
static const struct {
    uint8_t gpus;
    double w;
} whole_types[] = {{1, 70}, {2, 20}, {4, 7}, {8, 3}};
static const uint16_t share_milli[] = {100, 250, 500, 750};
#define SHARE_CPU 1000
#define SHARE_MEM 4096
#define NWHOLE    (sizeof whole_types / sizeof whole_types[0])
#define NSHARE    (sizeof share_milli / sizeof share_milli[0])

static bool req_same(const struct pod_req *a, const struct pod_req *b)
{
    return a->cpu_milli == b->cpu_milli && a->mem_mib == b->mem_mib && a->gpus == b->gpus &&
           a->gpu_milli == b->gpu_milli && a->model_mask == b->model_mask;
}

/* Appends a type (the caller guarantees room and distinctness). */
static void add_type(struct synth_pods *sp, struct pod_req r, double w)
{
    sp->types[sp->ntypes] = r;
    sp->weight[sp->ntypes] = w;
    sp->ntypes++;
}

static void fixed_types(struct synth_pods *sp, enum synth_mix m)
{
    sp->types = xcalloc(NWHOLE + NSHARE, sizeof *sp->types);
    sp->weight = xcalloc(NWHOLE + NSHARE, sizeof *sp->weight);
    double wsum = 0;
    for (size_t i = 0; i < NWHOLE; i++)
        wsum += whole_types[i].w;
    /* Each family's weights sum to 1, then to 1/2 each when mixed. */
    double fw = m == SYNTH_MIX_MIXED ? 0.5 : 1.0;
    if (m != SYNTH_MIX_SHARE)
        for (size_t i = 0; i < NWHOLE; i++)
            add_type(sp,
                     (struct pod_req){.cpu_milli = SYNTH_CPU_PER_GPU * whole_types[i].gpus,
                                      .mem_mib = (int64_t)SYNTH_MEM_PER_GPU * whole_types[i].gpus,
                                      .gpus = whole_types[i].gpus,
                                      .gpu_milli = GPU_MILLI},
                     fw * whole_types[i].w / wsum);
    if (m != SYNTH_MIX_WHOLE)
        for (size_t i = 0; i < NSHARE; i++)
            add_type(sp,
                     (struct pod_req){.cpu_milli = SHARE_CPU,
                                      .mem_mib = SHARE_MEM,
                                      .gpus = 1,
                                      .gpu_milli = share_milli[i]},
                     fw / (double)NSHARE);
}

/* Types of a trace: its distinct requests, weighted by how many pods ask for
 * each. map[i] gets the type of trace pod i. */
static void trace_types(struct synth_pods *sp, const struct openb_trace *t, bool keep_models,
                        uint32_t *map)
{
    sp->types = xcalloc(t->npods, sizeof *sp->types);
    sp->weight = xcalloc(t->npods, sizeof *sp->weight);
    /* Quadratic in the worst case, but a trace has a few thousand pods and a
     * few hundred distinct requests, and this runs before timing starts. */
    for (size_t i = 0; i < t->npods; i++) {
        struct pod_req r = t->pods[i].req;
        if (!keep_models)
            r.model_mask = 0;
        uint32_t k = 0;
        while (k < sp->ntypes && !req_same(&sp->types[k], &r))
            k++;
        if (k == sp->ntypes)
            add_type(sp, r, 0);
        sp->weight[k] += 1.0 / (double)t->npods;
        map[i] = k;
    }
}

int synth_pods_make(struct synth_pods *out, enum synth_mix m, uint64_t n, uint64_t seed,
                    const struct openb_trace *trace, bool keep_models, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (n > SYNTH_MAX_PODS)
        return errf(e, E2BIG, "%llu pods: at most %d", (unsigned long long)n, SYNTH_MAX_PODS);
    if (m == SYNTH_MIX_OPENB && (!trace || !trace->npods))
        return errf(e, EINVAL, "mix openb needs a trace with pods");
    struct rng rng;
    rng_seed(&rng, seed);
    out->n = n;
    out->stream = xcalloc(n ? n : 1, sizeof *out->stream);
    if (m == SYNTH_MIX_OPENB) {
        uint32_t *map = xcalloc(trace->npods, sizeof *map);
        trace_types(out, trace, keep_models, map);
        for (uint64_t i = 0; i < n; i++)
            out->stream[i] = map[rng_below(&rng, trace->npods)];
        free(map);
        return 0;
    }
    fixed_types(out, m);
    /* Inverse-CDF sampling over a handful of types. */
    double cum[NWHOLE + NSHARE];
    double acc = 0;
    for (uint32_t k = 0; k < out->ntypes; k++)
        cum[k] = acc += out->weight[k];
    for (uint64_t i = 0; i < n; i++) {
        double u = rng_double(&rng) * acc;
        uint32_t k = 0;
        while (k + 1 < out->ntypes && u >= cum[k])
            k++;
        out->stream[i] = k;
    }
    return 0;
}

void synth_pods_release(struct synth_pods *sp)
{
    free(sp->types);
    free(sp->weight);
    free(sp->stream);
    memset(sp, 0, sizeof *sp);
}

void synth_pods_workload(const struct synth_pods *sp, struct workload_dist *wd)
{
    workload_dist_init(wd);
    for (uint32_t k = 0; k < sp->ntypes; k++)
        workload_dist_add(wd, &sp->types[k], sp->weight[k]);
    workload_dist_normalize(wd);
}

int synth_cluster(struct cluster *c, enum synth_shape shape, uint32_t nodes, int gpus_per_node,
                  const struct openb_trace *trace, struct err *e)
{
    cluster_init(c);
    if (nodes == 0 || nodes > SYNTH_MAX_NODES)
        return errf(e, EINVAL, "%u nodes: want 1..%d", nodes, SYNTH_MAX_NODES);
    if (shape == SYNTH_SHAPE_OPENB) {
        if (!trace || !trace->nnodes)
            return errf(e, EINVAL, "node shapes openb need a trace with nodes");
        /* Intern the trace's models first, in its order, so ids match pod masks. */
        for (unsigned m = 0; m < trace->nmodels; m++)
            if (cluster_model_id(c, trace->model_names[m], e) < 0)
                goto fail;
    } else if (gpus_per_node < 0 || gpus_per_node > CLUSTER_MAX_GPUS) {
        return errf(e, EINVAL, "%d GPUs per node: want 0..%d", gpus_per_node, CLUSTER_MAX_GPUS);
    }
    char name[32];
    for (uint32_t i = 0; i < nodes; i++) {
        snprintf(name, sizeof name, "node-%07u", i);
        int64_t rc;
        if (shape == SYNTH_SHAPE_OPENB) {
            const struct openb_node *n = &trace->nodes[i % trace->nnodes];
            rc = cluster_add_node(c, name, n->cpu_milli, n->mem_mib, n->gpus, n->model, e);
        } else {
            int g = gpus_per_node;
            rc = cluster_add_node(c, name, g ? SYNTH_NODE_CPU_PER_GPU * g : SYNTH_NODE_CPU_NOGPU,
                                  g ? (int64_t)SYNTH_NODE_MEM_PER_GPU * g : SYNTH_NODE_MEM_NOGPU, g,
                                  "H100", e);
        }
        if (rc < 0)
            goto fail;
    }
    return 0;
fail:
    cluster_release(c);
    return -1;
}
