#include "sim/openb.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "base/rng.h"
#include "sched/engine.h"
#include "sim/csv.h"

static int model_id(struct openb_trace *t, const char *name)
{
    for (unsigned m = 0; m < t->nmodels; m++)
        if (!strcmp(t->model_names[m], name))
            return (int)m;
    if (t->nmodels >= CLUSTER_MAX_MODELS)
        return -1;
    t->model_names[t->nmodels] = xstrdup(name);
    return (int)t->nmodels++;
}

static int load_nodes(struct openb_trace *t, const char *path, struct err *e)
{
    struct csv_reader r;
    if (csv_open(&r, path, e) < 0)
        return -1;
    static const char *const cols[] = {"sn", "cpu_milli", "memory_mib", "gpu", "model"};
    int ix[5];
    size_t cap = 0;
    int rc = -1;
    if (csv_read_header(&r, e) < 0 || csv_require_cols(&r, cols, 5, ix, e) < 0)
        goto out;
    for (;;) {
        int k = csv_next(&r, e);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        const char *name, *model;
        size_t nlen, mlen;
        int64_t cpu, mem, gpus;
        if (csv_get_str(&r, ix[0], 1, 253, &name, &nlen, e) < 0 ||
            csv_get_i64(&r, ix[1], 0, INT32_MAX, &cpu, e) < 0 ||
            csv_get_i64(&r, ix[2], 0, INT64_MAX / 2, &mem, e) < 0 ||
            csv_get_i64(&r, ix[3], 0, CLUSTER_MAX_GPUS, &gpus, e) < 0 ||
            csv_get_str(&r, ix[4], 0, 63, &model, &mlen, e) < 0)
            goto out;
        if (gpus == 0)
            continue;
        if (mlen == 0) {
            csv_errf(&r, ix[4], e, EINVAL, "a node with GPUs needs a GPU model");
            goto out;
        }
        if (model_id(t, model) < 0) {
            csv_errf(&r, ix[4], e, E2BIG, "more than %d GPU models", CLUSTER_MAX_MODELS);
            goto out;
        }
        if (t->nnodes == cap) {
            cap = cap ? cap * 2 : 1024;
            t->nodes = xreallocarray(t->nodes, cap, sizeof *t->nodes);
        }
        struct openb_node *n = &t->nodes[t->nnodes++];
        n->name = xstrdup(name);
        n->cpu_milli = (int32_t)cpu;
        n->mem_mib = mem;
        n->gpus = (int)gpus;
        n->model = xstrdup(model);
    }
    if (t->nnodes == 0) {
        errf(e, EINVAL, "%s: no GPU nodes", path);
        goto out;
    }
    rc = 0;
out:
    csv_close(&r);
    return rc;
}

/* The model mask of a '|'-separated list: 0 for "", MODEL_MASK_NONE when no
 * listed model exists in the cluster. */
static uint64_t spec_mask(const struct openb_trace *t, const char *spec)
{
    if (!*spec)
        return 0;
    uint64_t mask = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        for (unsigned m = 0; m < t->nmodels; m++)
            if (strlen(t->model_names[m]) == len && !memcmp(t->model_names[m], p, len))
                mask |= 1ULL << m;
        p += len;
        if (*p == '|')
            p++;
    }
    return mask ? mask : MODEL_MASK_NONE;
}

static int load_pods(struct openb_trace *t, const char *path, struct err *e)
{
    struct csv_reader r;
    if (csv_open(&r, path, e) < 0)
        return -1;
    static const char *const cols[] = {"cpu_milli", "memory_mib", "num_gpu", "gpu_milli"};
    int ix[4];
    size_t cap = 0;
    int rc = -1;
    if (csv_read_header(&r, e) < 0 || csv_require_cols(&r, cols, 4, ix, e) < 0)
        goto out;
    int spec_col = csv_col(&r, "gpu_spec");
    for (;;) {
        int k = csv_next(&r, e);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        int64_t cpu, mem, gpus, milli;
        const char *spec = "";
        size_t slen = 0;
        if (csv_get_i64(&r, ix[0], 0, INT32_MAX, &cpu, e) < 0 ||
            csv_get_i64(&r, ix[1], 0, INT64_MAX / 2, &mem, e) < 0 ||
            csv_get_i64(&r, ix[2], 0, CLUSTER_MAX_GPUS, &gpus, e) < 0 ||
            csv_get_i64(&r, ix[3], 0, 1000000, &milli, e) < 0 ||
            (spec_col >= 0 && csv_get_str(&r, spec_col, 0, 1024, &spec, &slen, e) < 0))
            goto out;
        /* As the trace's own converter does: a share above 1000 is a whole GPU. */
        if (milli > GPU_MILLI)
            milli = GPU_MILLI;
        if (gpus > 1 && milli != GPU_MILLI && milli != 0) {
            csv_errf(&r, ix[3], e, EINVAL, "a pod with %lld GPUs must take whole GPUs (1000)",
                     (long long)gpus);
            goto out;
        }
        if (t->npods == cap) {
            cap = cap ? cap * 2 : 8192;
            t->pods = xreallocarray(t->pods, cap, sizeof *t->pods);
        }
        struct openb_pod *p = &t->pods[t->npods++];
        memset(p, 0, sizeof *p);
        p->req.cpu_milli = (int32_t)cpu;
        p->req.mem_mib = mem;
        /* a GPU count with no GPU share is a CPU-only pod */
        p->req.gpus = milli ? (uint8_t)gpus : 0;
        p->req.gpu_milli = p->req.gpus ? (uint16_t)milli : 0;
        p->spec = xstrdup(spec);
        p->req.model_mask = p->req.gpus ? spec_mask(t, spec) : 0;
    }
    if (t->npods == 0) {
        errf(e, EINVAL, "%s: no pods", path);
        goto out;
    }
    rc = 0;
out:
    csv_close(&r);
    return rc;
}

int openb_load(struct openb_trace *t, const char *nodes_path, const char *pods_path, struct err *e)
{
    memset(t, 0, sizeof *t);
    if (load_nodes(t, nodes_path, e) < 0 || load_pods(t, pods_path, e) < 0) {
        openb_release(t);
        return -1;
    }
    return 0;
}

void openb_release(struct openb_trace *t)
{
    for (size_t i = 0; i < t->nnodes; i++) {
        free(t->nodes[i].name);
        free(t->nodes[i].model);
    }
    for (size_t i = 0; i < t->npods; i++)
        free(t->pods[i].spec);
    for (unsigned m = 0; m < t->nmodels; m++)
        free(t->model_names[m]);
    free(t->nodes);
    free(t->pods);
    memset(t, 0, sizeof *t);
}

void openb_workload(const struct openb_trace *t, struct workload_dist *wd)
{
    workload_dist_init(wd);
    for (size_t i = 0; i < t->npods; i++)
        workload_dist_add(wd, &t->pods[i].req, 1.0);
    workload_dist_normalize(wd);
}

int openb_cluster(const struct openb_trace *t, const uint32_t *perm, struct cluster *c,
                  struct err *e)
{
    cluster_init(c);
    /* Intern the models first, in the trace's order, so ids match pod masks. */
    for (unsigned m = 0; m < t->nmodels; m++)
        if (cluster_model_id(c, t->model_names[m], e) < 0)
            return -1;
    for (size_t i = 0; i < t->nnodes; i++) {
        const struct openb_node *n = &t->nodes[perm ? perm[i] : i];
        if (cluster_add_node(c, n->name, n->cpu_milli, n->mem_mib, n->gpus, n->model, e) < 0) {
            cluster_release(c);
            return -1;
        }
    }
    return 0;
}

int openb_run(const struct openb_trace *t, const struct policy_ops *ops,
              const struct workload_dist *wd, uint64_t seed, double tune, struct openb_result *out,
              struct err *e)
{
    int64_t t0 = mtime_now_ns();
    memset(out, 0, sizeof *out);
    struct rng rng;
    rng_seed(&rng, seed);

    /* The arrival sequence depends on the seed only, never on the policy, so
     * every policy sees the same pods in the same order. */
    int64_t cap_milli = 0;
    for (size_t i = 0; i < t->nnodes; i++)
        cap_milli += (int64_t)t->nodes[i].gpus * GPU_MILLI;
    double target = tune * (double)cap_milli;
    size_t n = t->npods, seq_cap = n * 2 + 16;
    uint32_t *seq = xcalloc(seq_cap, sizeof *seq);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        seq[i] = (uint32_t)i;
        total += pod_req_gpu_milli(&t->pods[i].req);
    }
    if (total == 0) {
        free(seq);
        return errf(e, EINVAL, "openb: no pod of the trace requests a GPU; nothing to measure");
    }
    rng_shuffle(&rng, seq, n, sizeof *seq);
    if ((double)total < target) {
        for (;;) {
            uint32_t idx = (uint32_t)rng_below(&rng, t->npods);
            const struct pod_req *r = &t->pods[idx].req;
            /* The published simulator stops when adding the pod's per-GPU share
             * would pass the target; kept so our curves end where theirs do. */
            if ((double)(total + r->gpu_milli) > target)
                break;
            total += pod_req_gpu_milli(r);
            if (n == seq_cap) {
                seq_cap *= 2;
                seq = xreallocarray(seq, seq_cap, sizeof *seq);
            }
            seq[n++] = idx;
        }
    } else {
        while ((double)total > target && n > 0) {
            size_t k = rng_below(&rng, n);
            total -= pod_req_gpu_milli(&t->pods[seq[k]].req);
            memmove(&seq[k], &seq[k + 1], (n - k - 1) * sizeof *seq);
            n--;
        }
    }

    /* Node ranking: a seeded permutation. */
    uint32_t *perm = xcalloc(t->nnodes, sizeof *perm);
    for (size_t i = 0; i < t->nnodes; i++)
        perm[i] = (uint32_t)i;
    rng_shuffle(&rng, perm, t->nnodes, sizeof *perm);
    struct cluster c;
    if (openb_cluster(t, perm, &c, e) < 0) {
        free(seq);
        free(perm);
        return -1;
    }
    struct engine en;
    engine_init(&en, &c, ops, wd, rng_next(&rng));

    double sum[OPENB_MAX_PCT + 2] = {0};
    uint64_t cnt[OPENB_MAX_PCT + 2] = {0};
    int64_t arrived = 0;
    double pct = (double)cap_milli / 100.0;
    for (size_t i = 0; i < n; i++) {
        const struct pod_req *r = &t->pods[seq[i]].req;
        struct placement p;
        arrived += pod_req_gpu_milli(r);
        if (engine_place(&en, r, &p))
            out->placed++;
        else
            out->failed++;
        /* Python's round(): half to even, which rint() does by default. */
        double a = rint((double)arrived / pct);
        if (a >= 0 && a <= OPENB_MAX_PCT) {
            sum[(int)a] += (double)(c.gpu_milli_cap - c.gpu_milli_free) / pct;
            cnt[(int)a]++;
        }
    }
    out->pods = n;
    for (int a = 0; a <= OPENB_MAX_PCT; a++) {
        double s = 0;
        uint64_t k = 0;
        if (cnt[a]) {
            s = sum[a];
            k = cnt[a];
        } else {
            /* no sample rounds to a: the neighbours' samples, as published */
            for (int b = a - 1; b <= a + 1; b++)
                if (b >= 0 && b <= OPENB_MAX_PCT) {
                    s += sum[b];
                    k += cnt[b];
                }
        }
        out->unalloc[a] = k ? 100.0 - s / (double)k : NAN;
    }
    engine_release(&en);
    cluster_release(&c);
    free(seq);
    free(perm);
    out->seconds = (double)(mtime_now_ns() - t0) / 1e9;
    return 0;
}
