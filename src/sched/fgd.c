#include "sched/fgd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* A memo key: everything F depends on. CPU and memory enter only as their
 * ranks among the distinct requests of the workload's types (F only asks "does
 * p's CPU fit? p's memory?"), so nodes with different free CPU often share a key. */
struct frag_key {
    uint8_t model, gpu_n;
    uint16_t pad0;
    uint32_t cpu_rank;
    uint32_t mem_rank;
    uint16_t gpu[CLUSTER_MAX_GPUS]; /* sorted ascending, zero beyond gpu_n */
    uint32_t pad1;                  /* to a whole number of 8-byte words, zeroed */
};
_Static_assert(sizeof(struct frag_key) % 8 == 0, "frag_key is hashed as 8-byte words");

struct frag_model {
    size_t n;
    struct pod_req *t;
    int64_t *w;       /* f_p * 2^20, rounded */
    int64_t *cpu_thr; /* distinct CPU requests of the types, ascending */
    size_t nthr;
    int64_t *mem_thr; /* distinct memory requests, ascending (memory-aware only) */
    size_t nmthr;
    bool memory;
    /* memo: open addressing, cleared when full */
    struct frag_key *key;
    int64_t *val;
    uint8_t *used;
    uint32_t cap, count;
};

#define FRAG_MEMO_CAP (1u << 18)

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

struct frag_model *frag_model_create(const struct workload_dist *wd, const struct frag_opts *o)
{
    struct frag_model *fm = xcalloc(1, sizeof *fm);
    fm->memory = o->memory;
    /* Without memory, types that differ only in memory are one type (as in the
     * paper's simulator); merging before the coverage cut decides which types
     * are "typical". */
    struct workload_dist types;
    workload_dist_init(&types);
    for (size_t i = 0; i < wd->n; i++) {
        struct pod_req r = wd->req[i];
        if (!o->memory)
            r.mem_mib = 0;
        workload_dist_add(&types, &r, wd->freq[i]);
    }
    workload_dist_normalize(&types);
    /* Keep the most frequent types, the shortest prefix reaching `coverage`. */
    double cum = 0;
    size_t keep = 0;
    while (keep < types.n && cum < o->coverage - 1e-12)
        cum += types.freq[keep++];
    fm->n = keep;
    size_t alloc = keep ? keep : 1;
    fm->t = xcalloc(alloc, sizeof *fm->t);
    fm->w = xcalloc(alloc, sizeof *fm->w);
    fm->cpu_thr = xcalloc(alloc, sizeof *fm->cpu_thr);
    fm->mem_thr = xcalloc(alloc, sizeof *fm->mem_thr);
    for (size_t i = 0; i < keep; i++) {
        fm->t[i] = types.req[i];
        fm->w[i] = llround(types.freq[i] / cum * FRAG_SCALE);
        fm->cpu_thr[i] = policy_cpu(&types.req[i]);
        fm->mem_thr[i] = types.req[i].mem_mib;
    }
    workload_dist_release(&types);
    qsort(fm->cpu_thr, keep, sizeof *fm->cpu_thr, cmp_i64);
    qsort(fm->mem_thr, keep, sizeof *fm->mem_thr, cmp_i64);
    size_t u = 0, v = 0;
    for (size_t i = 0; i < keep; i++) {
        if (!u || fm->cpu_thr[u - 1] != fm->cpu_thr[i])
            fm->cpu_thr[u++] = fm->cpu_thr[i];
        if (!v || fm->mem_thr[v - 1] != fm->mem_thr[i])
            fm->mem_thr[v++] = fm->mem_thr[i];
    }
    fm->nthr = u;
    fm->nmthr = v;
    fm->cap = FRAG_MEMO_CAP;
    fm->key = xcalloc(fm->cap, sizeof *fm->key);
    fm->val = xcalloc(fm->cap, sizeof *fm->val);
    fm->used = xcalloc(fm->cap, 1);
    return fm;
}

void frag_model_destroy(struct frag_model *fm)
{
    if (!fm)
        return;
    free(fm->t);
    free(fm->w);
    free(fm->cpu_thr);
    free(fm->mem_thr);
    free(fm->key);
    free(fm->val);
    free(fm->used);
    free(fm);
}

/* Number of thresholds <= x in the ascending array thr[0..n-1]. */
static uint32_t rank_of(const int64_t *thr, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (thr[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

static int64_t compute(const struct frag_model *fm, const struct frag_key *k)
{
    int64_t idle = 0;
    for (int i = 0; i < k->gpu_n; i++)
        idle += k->gpu[i];
    if (idle == 0)
        return 0;
    int64_t f = 0;
    for (size_t p = 0; p < fm->n; p++) {
        const struct pod_req *t = &fm->t[p];
        int64_t amount = idle;
        bool model_ok =
            t->model_mask == 0 || (k->model != CLUSTER_NO_MODEL && (t->model_mask >> k->model) & 1);
        if (t->gpus > 0 && t->gpu_milli > 0 && model_ok && k->gpu_n > 0) {
            /* p's CPU fits iff it is among the thresholds the node's free CPU
             * reaches, i.e. at most the largest of them; memory likewise. */
            bool cpu_ok = k->cpu_rank > 0 && fm->cpu_thr[k->cpu_rank - 1] >= policy_cpu(t);
            if (fm->memory)
                cpu_ok = cpu_ok && k->mem_rank > 0 && fm->mem_thr[k->mem_rank - 1] >= t->mem_mib;
            int fit = 0;
            int64_t small = 0;
            for (int i = 0; i < k->gpu_n; i++) {
                if (k->gpu[i] >= t->gpu_milli)
                    fit++;
                else
                    small += k->gpu[i];
            }
            if (cpu_ok && fit >= t->gpus)
                amount = small;
        }
        f += fm->w[p] * amount;
    }
    return f;
}

static uint64_t key_hash(const struct frag_key *k)
{
    uint64_t h = 0x46524147ULL;
    for (size_t i = 0; i < sizeof *k / 8; i++) {
        uint64_t w;
        memcpy(&w, (const char *)k + i * 8, sizeof w); /* no aliasing or alignment games */
        h ^= w;
        h *= 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    return h;
}

int64_t frag_amount(struct frag_model *fm, uint8_t model, int gpu_n, const uint16_t *gpus,
                    int32_t cpu_free, int64_t mem_free)
{
    struct frag_key k;
    memset(&k, 0, sizeof k);
    k.model = model;
    k.gpu_n = (uint8_t)gpu_n;
    k.cpu_rank = rank_of(fm->cpu_thr, fm->nthr, cpu_free);
    if (fm->memory)
        k.mem_rank = rank_of(fm->mem_thr, fm->nmthr, mem_free);
    for (int i = 0; i < gpu_n; i++) {
        uint16_t v = gpus[i];
        int j = i;
        while (j > 0 && k.gpu[j - 1] > v) {
            k.gpu[j] = k.gpu[j - 1];
            j--;
        }
        k.gpu[j] = v;
    }
    uint32_t mask = fm->cap - 1, i = (uint32_t)key_hash(&k) & mask;
    while (fm->used[i]) {
        if (!memcmp(&fm->key[i], &k, sizeof k))
            return fm->val[i];
        i = (i + 1) & mask;
    }
    int64_t v = compute(fm, &k);
    if (fm->count * 4 >= fm->cap * 3) {
        memset(fm->used, 0, fm->cap);
        fm->count = 0;
        i = (uint32_t)key_hash(&k) & mask;
    }
    fm->used[i] = 1;
    fm->key[i] = k;
    fm->val[i] = v;
    fm->count++;
    return v;
}

/* ---- the policies ---- */

struct fgd {
    struct frag_model *fm;
    bool strand; /* fgdx: stranding-aware placement of CPU-only pods */
};

static void *fgd_create_common(const struct workload_dist *wd, bool x)
{
    struct fgd *g = xcalloc(1, sizeof *g);
    /* FGD: the 95% most popular types, CPU and GPU only. fgdx: every type, and
     * memory too (the filter checks it, so a node out of memory strands its
     * GPUs just as one out of CPU does). */
    struct frag_opts o = {.coverage = x ? 1.0 : 0.95, .memory = x};
    g->fm = frag_model_create(wd, &o);
    g->strand = x;
    return g;
}

static void *fgd_create(const struct cluster *c, const struct workload_dist *wd)
{
    (void)c;
    return fgd_create_common(wd, false);
}

static void *fgdx_create(const struct cluster *c, const struct workload_dist *wd)
{
    (void)c;
    return fgd_create_common(wd, true);
}

static void fgd_destroy(void *st)
{
    struct fgd *g = st;
    if (g)
        frag_model_destroy(g->fm);
    free(g);
}

/* FGD's score of a fragmentation change: 100 * sigmoid(dF / 1000 milli),
 * truncated to an integer. The truncation is part of the algorithm as
 * published: it makes small differences ties, and ties go to the lowest-ranked
 * node, which consolidates (an exact gradient does measurably worse). */
static double grade(int64_t before, int64_t after)
{
    double x = (double)(before - after) / FRAG_SCALE / 1000.0;
    return (double)(int64_t)(100.0 / (1.0 + exp(-x)));
}

/* Best score over the GPUs a share could take on node; *gpu gets the lowest
 * index reaching it. */
static double share_score(struct fgd *g, const struct cluster *c, uint32_t node,
                          const struct pod_req *req, int *gpu)
{
    const uint16_t *gv = cluster_gpus(c, node);
    int n = c->gpu_n[node];
    int32_t cpu_after = c->cpu_free[node] - policy_cpu(req);
    int64_t mem_after = c->mem_free[node] - req->mem_mib;
    int64_t before =
        frag_amount(g->fm, c->model[node], n, gv, c->cpu_free[node], c->mem_free[node]);
    uint16_t tmp[CLUSTER_MAX_GPUS];
    memcpy(tmp, gv, n * sizeof *tmp);
    double best = -INFINITY;
    *gpu = -1;
    for (int i = 0; i < n; i++) {
        if (gv[i] < req->gpu_milli)
            continue;
        tmp[i] = (uint16_t)(gv[i] - req->gpu_milli);
        double s = grade(before, frag_amount(g->fm, c->model[node], n, tmp, cpu_after, mem_after));
        tmp[i] = gv[i];
        if (*gpu < 0 || s > best) {
            best = s;
            *gpu = i;
        }
    }
    return best;
}

static double fgd_score(void *st, const struct cluster *c, uint32_t node, const struct pod_req *req)
{
    struct fgd *g = st;
    if (req->gpus == 1 && req->gpu_milli > 0 && req->gpu_milli < GPU_MILLI) {
        int gpu;
        return share_score(g, c, node, req, &gpu);
    }
    const uint16_t *gv = cluster_gpus(c, node);
    int n = c->gpu_n[node];
    int64_t before =
        frag_amount(g->fm, c->model[node], n, gv, c->cpu_free[node], c->mem_free[node]);
    /* Whole GPUs: which fully free ones are taken does not change F. */
    uint16_t tmp[CLUSTER_MAX_GPUS];
    memcpy(tmp, gv, n * sizeof *tmp);
    int need = req->gpu_milli ? req->gpus : 0;
    for (int i = 0; i < n && need > 0; i++) {
        if (tmp[i] == GPU_MILLI) {
            tmp[i] = 0;
            need--;
        }
    }
    int64_t after = frag_amount(g->fm, c->model[node], n, tmp, c->cpu_free[node] - policy_cpu(req),
                                c->mem_free[node] - req->mem_mib);
    double score = grade(before, after);
    if (g->strand && req->gpus == 0) {
        /* A CPU-only pod takes CPU (and memory) that GPU pods on this node will
         * need: the more idle GPU a node has, the more GPU it risks stranding.
         * Among nodes FGD finds equal, take the one with the smallest idle GPU
         * fraction; a node whose GPUs are all allocated strands nothing. The
         * term stays below 1, so it only orders FGD's ties. */
        score += n ? 0.999 * (1.0 - (double)c->gpu_milli[node] / (n * (double)GPU_MILLI)) : 0.999;
    }
    return score;
}

static bool fgd_pick_gpus(void *st, const struct cluster *c, uint32_t node,
                          const struct pod_req *req, struct placement *p, struct rng *rng)
{
    (void)rng;
    if (!(req->gpus == 1 && req->gpu_milli > 0 && req->gpu_milli < GPU_MILLI))
        return cluster_pick_gpus(c, node, req, p);
    int gpu;
    share_score(st, c, node, req, &gpu);
    if (gpu < 0)
        return false;
    p->node = node;
    p->ngpu = 1;
    p->gpu[0] = (uint8_t)gpu;
    return true;
}

const struct policy_ops fgd_ops = {
    .name = "fgd",
    .summary = "fragmentation gradient descent (Weng et al., ATC 2023)",
    .create = fgd_create,
    .destroy = fgd_destroy,
    .score = fgd_score,
    .pick_gpus = fgd_pick_gpus,
};

const struct policy_ops fgdx_ops = {
    .name = "fgdx",
    .summary = "muster: FGD with stranding-aware placement of CPU-only pods",
    .create = fgdx_create,
    .destroy = fgd_destroy,
    .score = fgd_score,
    .pick_gpus = fgd_pick_gpus,
};
