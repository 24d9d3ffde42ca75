#include "sched/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* Each type's memo is an array over class slots, so memory grows with types x
 * classes: types past MEMO_TYPES_MAX, and rows that would take the memo past
 * MEMO_BYTES_MAX, are scored without a memo. */
#define MEMO_TYPES_MAX 4096
#define MEMO_BYTES_MAX ((size_t)256 << 20)

static uint64_t req_hash(const struct pod_req *r)
{
    uint64_t h = (uint64_t)(uint32_t)r->cpu_milli * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)r->mem_mib + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
    h ^= ((uint64_t)r->gpus << 16 | r->gpu_milli) + (h << 6) + (h >> 2);
    h ^= r->model_mask + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static void types_rehash(struct req_types *t, uint32_t tcap)
{
    free(t->table);
    t->table = xcalloc(tcap, sizeof *t->table);
    t->tcap = tcap;
    for (uint32_t id = 0; id < t->n; id++) {
        uint32_t i = (uint32_t)req_hash(&t->req[id]) & (tcap - 1);
        while (t->table[i])
            i = (i + 1) & (tcap - 1);
        t->table[i] = id + 1;
    }
}

/* The dense id of a request's type, interning it on first sight. */
static uint32_t type_id(struct req_types *t, const struct pod_req *r)
{
    if ((t->n + 1) * 2 > t->tcap)
        types_rehash(t, t->tcap ? t->tcap * 2 : 256);
    uint32_t i = (uint32_t)req_hash(r) & (t->tcap - 1);
    while (t->table[i]) {
        if (pod_req_eq(&t->req[t->table[i] - 1], r))
            return t->table[i] - 1;
        i = (i + 1) & (t->tcap - 1);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->req = xreallocarray(t->req, t->cap, sizeof *t->req);
    }
    t->req[t->n] = *r;
    t->table[i] = t->n + 1;
    return t->n++;
}

/* The memo row of request type tid, grown to cover every class slot. NULL when
 * tid is past MEMO_TYPES_MAX. Rows are indexed by class slot and validated by the
 * class uid stored beside the score: a slot reused by a new class has a new uid,
 * so a stale score is never read. Scanning classes in slot order reads a row
 * sequentially, which is what makes the scan fast. */
static struct memo_row *memo_row(struct engine *en, uint32_t tid)
{
    if (tid >= MEMO_TYPES_MAX)
        return NULL;
    if (tid >= en->nrows) {
        uint32_t n = en->nrows ? en->nrows : 16;
        while (n <= tid)
            n *= 2;
        en->rows = xreallocarray(en->rows, n, sizeof *en->rows);
        memset(en->rows + en->nrows, 0, (n - en->nrows) * sizeof *en->rows);
        en->nrows = n;
    }
    struct memo_row *r = &en->rows[tid];
    uint32_t need = en->ix.ncls;
    if (r->cap < need) {
        uint32_t cap = r->cap ? r->cap : 64;
        while (cap < need)
            cap *= 2;
        size_t entry = sizeof *r->uid + sizeof *r->score;
        if (en->memo_bytes + (size_t)(cap - r->cap) * entry > MEMO_BYTES_MAX)
            return NULL;
        en->memo_bytes += (size_t)(cap - r->cap) * entry;
        r->uid = xreallocarray(r->uid, cap, sizeof *r->uid);
        r->score = xreallocarray(r->score, cap, sizeof *r->score);
        memset(r->uid + r->cap, 0, (cap - r->cap) * sizeof *r->uid);
        r->cap = cap;
    }
    return r;
}

void engine_init(struct engine *en, struct cluster *c, const struct policy_ops *ops,
                 const struct workload_dist *wd, uint64_t seed)
{
    memset(en, 0, sizeof *en);
    en->c = c;
    en->ops = ops;
    struct workload_dist empty = {0};
    en->pst = ops->create ? ops->create(c, wd ? wd : &empty) : NULL;
    rng_seed(&en->rng, seed);
    nodeclass_init(&en->ix, c);
}

void engine_release(struct engine *en)
{
    if (en->ops && en->ops->destroy)
        en->ops->destroy(en->pst);
    nodeclass_release(&en->ix);
    for (uint32_t i = 0; i < en->nrows; i++) {
        free(en->rows[i].uid);
        free(en->rows[i].score);
    }
    free(en->rows);
    free(en->types.req);
    free(en->types.table);
    memset(en, 0, sizeof *en);
}

/* Visits, in a fixed order, the live classes in the non-empty bins whose GPU
 * level and CPU could take req: `slot` is set to each in turn. */
#define FOR_EACH_CANDIDATE(ix, req, slot)                                                          \
    for (uint64_t lm_ = (ix)->level_mask & (~0ULL << nodeclass_req_level(req)); lm_;               \
         lm_ &= lm_ - 1)                                                                           \
        for (int lv_ = __builtin_ctzll(lm_), once_ = 1; once_; once_ = 0)                          \
            for (uint64_t cm_ =                                                                    \
                     (ix)->cpu_mask[lv_] & (~0ULL << nodeclass_cpu_bucket((req)->cpu_milli));      \
                 cm_; cm_ &= cm_ - 1)                                                              \
                for (int b_ = lv_ * NODECLASS_CPU_BUCKETS + __builtin_ctzll(cm_), once2_ = 1;      \
                     once2_; once2_ = 0)                                                           \
                    for (uint32_t i_ = 0, slot;                                                    \
                         i_ < (ix)->bin_n[b_] && ((slot) = (ix)->bin_slots[b_][i_], 1); i_++)

/* A policy without a score (random): every feasible node equally likely.
 * First by rejection: a node drawn uniformly from all, kept if it fits, is
 * uniform over the feasible ones; while most nodes fit this is a few draws. After
 * RANDOM_TRIES misses, exactly: one pass counts feasible nodes, one draw picks
 * the r-th, a second pass finds it. Either way the choice is uniform. */
#define RANDOM_TRIES 32

static uint32_t select_uniform(struct engine *en, const struct pod_req *req)
{
    const struct nodeclass_index *ix = &en->ix;
    for (int t = 0; t < RANDOM_TRIES && en->c->n; t++) {
        uint32_t node = (uint32_t)rng_below(&en->rng, en->c->n);
        if (cluster_fits(en->c, node, req))
            return node;
    }
    uint64_t total = 0;
    FOR_EACH_CANDIDATE(ix, req, s)
    {
        const struct nodeclass *k = &ix->cls[s];
        if (nodeclass_fits(k, req))
            total += k->count;
    }
    if (!total)
        return CLUSTER_NO_NODE;
    uint64_t r = rng_below(&en->rng, total);
    FOR_EACH_CANDIDATE(ix, req, s)
    {
        const struct nodeclass *k = &ix->cls[s];
        if (!nodeclass_fits(k, req))
            continue;
        if (r < k->count)
            return k->members[r];
        r -= k->count;
    }
    abort(); /* the two passes saw the same classes */
}

/* The lowest-numbered node among those of the highest score. */
static uint32_t select_best(struct engine *en, const struct pod_req *req)
{
    const struct cluster *c = en->c;
    const struct nodeclass_index *ix = &en->ix;
    struct memo_row *row = memo_row(en, type_id(&en->types, req));
    double best = -INFINITY;
    uint32_t node = CLUSTER_NO_NODE;

    FOR_EACH_CANDIDATE(ix, req, s)
    {
        const struct nodeclass *k = &ix->cls[s];
        if (!nodeclass_fits(k, req))
            continue;
        double sc;
        if (row && row->uid[s] == k->uid) {
            sc = row->score[s];
            en->memo_hits++;
        } else {
            sc = en->ops->score(en->pst, c, k->min_node, req);
            en->scored++;
            if (row) {
                row->uid[s] = k->uid;
                row->score[s] = sc;
            }
        }
        if (sc > best || (sc == best && k->min_node < node)) {
            best = sc;
            node = k->min_node;
        }
    }
    return node;
}

bool engine_select(struct engine *en, const struct pod_req *req, struct placement *out)
{
    uint32_t node = en->ops->score ? select_best(en, req) : select_uniform(en, req);
    if (node == CLUSTER_NO_NODE)
        return false;
    return en->ops->pick_gpus ? en->ops->pick_gpus(en->pst, en->c, node, req, out, &en->rng)
                              : cluster_pick_gpus(en->c, node, req, out);
}

void engine_apply(struct engine *en, const struct pod_req *req, const struct placement *p)
{
    cluster_place(en->c, req, p);
    nodeclass_move(&en->ix, p->node);
}

void engine_remove(struct engine *en, const struct pod_req *req, const struct placement *p)
{
    cluster_unplace(en->c, req, p);
    nodeclass_move(&en->ix, p->node);
}

bool engine_place(struct engine *en, const struct pod_req *req, struct placement *out)
{
    if (!engine_select(en, req, out)) {
        en->failed++;
        return false;
    }
    engine_apply(en, req, out);
    en->placed++;
    return true;
}
