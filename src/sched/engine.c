#include "sched/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define MEMO_MAX (1u << 22) /* entries; the memo is cleared when it would pass this */

static uint64_t req_hash(const struct pod_req *r)
{
    uint64_t h = (uint64_t)(uint32_t)r->cpu_milli * 0x9e3779b97f4a7c15ULL;
    h ^= (uint64_t)r->mem_mib + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
    h ^= ((uint64_t)r->gpus << 16 | r->gpu_milli) + (h << 6) + (h >> 2);
    h ^= r->model_mask + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static bool req_eq(const struct pod_req *a, const struct pod_req *b)
{
    return a->cpu_milli == b->cpu_milli && a->mem_mib == b->mem_mib && a->gpus == b->gpus &&
           a->gpu_milli == b->gpu_milli && a->model_mask == b->model_mask;
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
        if (req_eq(&t->req[t->table[i] - 1], r))
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

static void memo_init(struct score_memo *m, uint32_t cap)
{
    m->key = xcalloc(cap, sizeof *m->key);
    m->val = xmalloc(cap * sizeof *m->val);
    m->cap = cap;
    m->used = 0;
}

static void memo_release(struct score_memo *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

static inline uint32_t memo_slot(const struct score_memo *m, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32) & (m->cap - 1);
}

static bool memo_get(const struct score_memo *m, uint64_t key, double *v)
{
    for (uint32_t i = memo_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == key) {
            *v = m->val[i];
            return true;
        }
        if (!m->key[i])
            return false;
    }
}

static void memo_put(struct score_memo *m, uint64_t key, double v)
{
    if ((m->used + 1) * 4 > m->cap * 3) {
        if (m->cap >= MEMO_MAX) {
            /* A cache: forgetting is always correct. */
            memset(m->key, 0, m->cap * sizeof *m->key);
            m->used = 0;
        } else {
            struct score_memo old = *m;
            memo_init(m, old.cap * 2);
            for (uint32_t i = 0; i < old.cap; i++)
                if (old.key[i])
                    memo_put(m, old.key[i], old.val[i]);
            memo_release(&old);
        }
    }
    uint32_t i = memo_slot(m, key);
    while (m->key[i] && m->key[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->key[i])
        m->used++;
    m->key[i] = key;
    m->val[i] = v;
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
    memo_init(&en->memo, 1u << 14);
}

void engine_release(struct engine *en)
{
    if (en->ops && en->ops->destroy)
        en->ops->destroy(en->pst);
    nodeclass_release(&en->ix);
    memo_release(&en->memo);
    free(en->types.req);
    free(en->types.table);
    memset(en, 0, sizeof *en);
}

/* A policy without a score (random): every feasible node equally likely. */
static uint32_t select_uniform(struct engine *en, const struct pod_req *req)
{
    const struct nodeclass_index *ix = &en->ix;
    uint32_t chosen = UINT32_MAX;
    uint64_t seen = 0;
    for (uint32_t s = 0; s < ix->ncls; s++) {
        const struct nodeclass *k = &ix->cls[s];
        if (!k->uid || !cluster_fits(en->c, k->members[0], req))
            continue;
        /* Weighted reservoir: class s replaces the choice with probability
         * count/seen, so every feasible node is equally likely. */
        seen += k->count;
        if (rng_below(&en->rng, seen) < k->count)
            chosen = s;
    }
    if (chosen == UINT32_MAX)
        return CLUSTER_NO_NODE;
    const struct nodeclass *k = &ix->cls[chosen];
    return k->members[k->count == 1 ? 0 : rng_below(&en->rng, k->count)];
}

/* The lowest-numbered node among those of the highest score. */
static uint32_t select_best(struct engine *en, const struct pod_req *req)
{
    const struct cluster *c = en->c;
    const struct nodeclass_index *ix = &en->ix;
    uint32_t tid = type_id(&en->types, req);
    double best = -INFINITY;
    uint32_t node = CLUSTER_NO_NODE;

    for (uint32_t s = 0; s < ix->ncls; s++) {
        const struct nodeclass *k = &ix->cls[s];
        if (!k->uid)
            continue;
        uint32_t rep = k->members[0];
        if (!cluster_fits(c, rep, req))
            continue;
        double sc;
        uint64_t key = (uint64_t)k->uid << 32 | tid;
        if (memo_get(&en->memo, key, &sc)) {
            en->memo_hits++;
        } else {
            sc = en->ops->score(en->pst, c, rep, req);
            en->scored++;
            memo_put(&en->memo, key, sc);
        }
        if (sc > best || (sc == best && rep < node)) {
            best = sc;
            node = rep;
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
