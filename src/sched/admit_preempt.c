/*
 * admit_preempt: choosing victims so that a workload fits.
 *
 * Classic preemption follows Kueue: candidates come from the preemptor's own
 * ClusterQueue (withinClusterQueue) and from other queues of its cohort tree
 * that borrow on a contested flavor-resource (reclaimWithinCohort, or
 * borrowWithinCohort with maxPriorityThreshold). They are ordered other queues
 * first, lower priority first, most recently admitted first, then by name;
 * removed one by one in a simulation until the preemptor fits; and the set is
 * then minimised by adding victims back in reverse order while it still fits.
 *
 * Fair-sharing preemption picks the target queue with the highest dominant
 * resource share and accepts a victim when a strategy holds
 * (LessThanOrEqualToFinalShare, then LessThanInitialShare).
 *
 * "Fits" is quota and, when nodes are known, a placement of every pod: a
 * preemptor is never admitted on quota alone.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sched/admit_int.h"

enum { C_SAME, C_RECLAIM, C_BORROW, C_HIER };

struct cand {
    uint32_t wl;
    uint8_t type;
    bool removed;
};

struct pctx {
    struct adm *a;
    uint32_t pre;
    struct adm__assign *as;
    bool need[ADM_MAX_FLAVORS * ADM_MAX_RES];
    uint32_t needv[ADM_MAX_FLAVORS * ADM_MAX_RES]; /* the contested FRs, listed */
    uint32_t nneed;
    bool fair, may_other;
    const struct adm__qnode *rt;
    bool *eligible; /* per ClusterQueue of the tree */
    bool *adv;      /* per ClusterQueue: the preemptor has hierarchical advantage */
    uint32_t groups; /* bit g: some queue may hold candidates of group g */
    struct cand *c;  /* fair sharing: every candidate, in order */
    uint32_t n;
};

static bool policy_ok(enum adm_ppolicy p, const struct adm_wl *pre, const struct adm_wl *x)
{
    switch (p) {
    case ADM_P_NEVER:
        return false;
    case ADM_P_LOWER_PRIORITY:
        return x->priority < pre->priority;
    case ADM_P_LOWER_OR_NEWER_EQUAL:
        return x->priority < pre->priority ||
               (x->priority == pre->priority && x->created_ns > pre->created_ns);
    case ADM_P_ANY:
        return true;
    }
    return false;
}

static bool borrows_contested(const struct pctx *p, uint32_t cq)
{
    const struct adm *a = p->a;
    uint32_t q = a->cqs[cq].node;
    for (uint32_t k = 0; k < p->nneed; k++) {
        size_t ix = (size_t)q * a->nfr + p->needv[k];
        if (a->usage[ix] > a->subtree[ix])
            return true;
    }
    return false;
}

/* Removes (sign -1) or restores (+1) a candidate in the live state. */
static void sim(struct adm *a, uint32_t id, int sign)
{
    struct adm_wl *w = &a->wl[id];
    adm__apply_usage(a, a->usage, w, sign);
    for (uint32_t k = 0; k < w->npods; k++) {
        struct adm_pod_place *pp = &w->pods[k];
        struct adm__node *n = &a->nodes[pp->node];
        struct adm__pool *pl = &a->pools[n->pool];
        if (sign < 0)
            engine_remove(&pl->en, &w->ps[pp->podset].pod, &pp->p);
        else
            engine_apply(&pl->en, &w->ps[pp->podset].pod, &pp->p);
    }
}

static bool fits(struct pctx *p, bool borrow)
{
    struct adm *a = p->a;
    struct adm_wl *w = &a->wl[p->pre];
    if (!adm__quota_fits(a, a->usage, w, p->as, borrow))
        return false;
    if (a->nnodes == 0)
        return true;
    /* Placement needs w->pods as scratch; w is pending so it holds none. */
    if (!adm__place(a, w, p->as, NULL, 0))
        return false;
    adm__unplace(a, w);
    return true;
}

/* Prepares a search: the contested flavor-resources and which queues of the
 * tree can hold candidates. Returns false when none can. */
static bool prepare(struct pctx *p, bool fair)
{
    struct adm *a = p->a;
    const struct adm_wl *w = &a->wl[p->pre];
    const struct adm__cq *c = &a->cqs[w->cq];
    /* Contested FRs: those where the assignment does not fit now, or all of the
     * assignment's when only the nodes are short. */
    bool any = false;
    for (uint32_t fr = 0; fr < a->nfr; fr++) {
        p->need[fr] = p->as->usage[fr] > 0 &&
                      p->as->usage[fr] > adm__available(a, a->usage, c->node, fr);
        any |= p->need[fr];
    }
    if (!any)
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            p->need[fr] = p->as->usage[fr] > 0;
    p->nneed = 0;
    for (uint32_t fr = 0; fr < a->nfr; fr++)
        if (p->need[fr])
            p->needv[p->nneed++] = fr;
    p->fair = fair;
    bool in_cohort = a->qn[c->node].parent != ADM_NONE;
    /* As Kueue: reclaimWithinCohort Never keeps every other queue's workloads out,
     * borrowWithinCohort included. */
    p->may_other = in_cohort && c->reclaim != ADM_P_NEVER;
    if (c->within == ADM_P_NEVER && !p->may_other)
        return false;
    const struct adm__qnode *rt = &a->qn[a->qn[c->node].root];
    p->rt = rt;
    p->eligible = xmalloc((a->ncq ? a->ncq : 1) * sizeof *p->eligible);
    p->adv = xmalloc((a->ncq ? a->ncq : 1) * sizeof *p->adv);
    /* Hierarchical advantage (Kueue's hierarchical reclaim): walking up from the
     * preemptor's queue, the request that does not fit in the quota of the
     * levels below; a queue whose lowest common ancestor with the preemptor is
     * reached after the request has fitted may have its workloads reclaimed
     * whatever their priority would say under borrowWithinCohort. */
    uint32_t path[64];
    bool adv_at[64];
    uint32_t depth = 0;
    int64_t rem[ADM_MAX_FLAVORS * ADM_MAX_RES];
    bool adv = true;
    for (uint32_t k = 0; k < p->nneed; k++) {
        uint32_t fr = p->needv[k];
        size_t ix = (size_t)c->node * a->nfr + fr;
        int64_t local = a->subtree[ix] - a->usage[ix];
        if (local < 0)
            local = 0;
        if (p->as->usage[fr] > local)
            adv = false;
        rem[k] = p->as->usage[fr] > local ? p->as->usage[fr] - local : 0;
    }
    for (uint32_t q = a->qn[c->node].parent; q != ADM_NONE && depth < 64; q = a->qn[q].parent) {
        path[depth] = q;
        adv_at[depth] = adv;
        depth++;
        bool fits = true;
        for (uint32_t k = 0; k < p->nneed; k++) {
            uint32_t fr = p->needv[k];
            size_t ix = (size_t)q * a->nfr + fr;
            int64_t local = a->subtree[ix] - a->usage[ix];
            if (local < 0)
                local = 0;
            if (rem[k] > local)
                fits = false;
            rem[k] = rem[k] > local ? rem[k] - local : 0;
        }
        adv = adv || fits;
    }
    for (uint32_t k = 0; k < rt->ntree_cqs; k++) {
        uint32_t xcq = rt->tree_cqs[k];
        p->adv[xcq] = false;
        if (xcq == w->cq) {
            p->eligible[xcq] = c->within != ADM_P_NEVER;
            continue;
        }
        p->eligible[xcq] = p->may_other && borrows_contested(p, xcq);
        if (!p->eligible[xcq])
            continue;
        /* Up from the candidate's queue to the common ancestor: every cohort on
         * the way must itself be over its quota on a contested FR (Kueue skips
         * subtrees within their nominal quota). */
        uint32_t x = a->qn[a->cqs[xcq].node].parent;
        int lca = -1;
        while (x != ADM_NONE) {
            for (uint32_t d = 0; d < depth && lca < 0; d++)
                if (path[d] == x)
                    lca = (int)d;
            if (lca >= 0)
                break;
            bool over = false;
            for (uint32_t k2 = 0; k2 < p->nneed && !over; k2++) {
                size_t ix = (size_t)x * a->nfr + p->needv[k2];
                over = a->usage[ix] > a->subtree[ix];
            }
            if (!over) {
                p->eligible[xcq] = false;
                break;
            }
            x = a->qn[x].parent;
        }
        if (p->eligible[xcq] && lca >= 0)
            p->adv[xcq] = adv_at[lca];
        if (p->eligible[xcq])
            p->groups |= p->adv[xcq] ? 1u : 2u;
    }
    if (c->within != ADM_P_NEVER)
        p->groups |= 4u;
    return true;
}

/* The next candidate in order, from position *pos (pass * norder + j): other
 * queues' candidates first, then the preemptor's own, each in the tree's
 * candidate order (lower priority, then most recently admitted, then name). */
static bool cand_next(struct pctx *p, uint32_t *pos, struct cand *out)
{
    struct adm *a = p->a;
    const struct adm_wl *w = &a->wl[p->pre];
    const struct adm__cq *c = &a->cqs[w->cq];
    const struct adm__qnode *rt = p->rt;
    while (*pos < 3 * rt->norder) {
        uint32_t pass = *pos / rt->norder, j = *pos % rt->norder;
        if (!((p->groups >> pass) & 1)) {
            /* no queue in this group: skip the whole pass */
            *pos = (pass + 1) * rt->norder;
            continue;
        }
        (*pos)++;
        uint32_t i = rt->order[j];
        const struct adm_wl *x = &a->wl[i];
        bool own = x->cq == w->cq;
        /* Kueue's groups: hierarchical-reclaim candidates, then the other
         * queues' candidates, then the preemptor's own queue. */
        uint32_t group = own ? 2 : p->adv[x->cq] ? 0 : 1;
        if (group != pass || !p->eligible[x->cq] || i == p->pre)
            continue;
        bool uses = false;
        for (uint32_t k2 = 0; k2 < p->nneed && !uses; k2++)
            uses = x->usage[p->needv[k2]] > 0;
        if (!uses)
            continue;
        uint8_t type;
        if (own) {
            if (!policy_ok(c->within, w, x))
                continue;
            type = C_SAME;
        } else if (!policy_ok(c->reclaim, w, x)) {
            continue;
        } else if (p->adv[x->cq]) {
            type = C_HIER;
        } else if (!p->fair && c->borrow == ADM_P_LOWER_PRIORITY && x->priority < w->priority &&
                   (!c->has_threshold || x->priority <= c->threshold)) {
            type = C_BORROW;
        } else {
            type = C_RECLAIM;
        }
        out->wl = i;
        out->type = type;
        out->removed = false;
        return true;
    }
    return false;
}

/* All candidates, in order (fair sharing needs them per queue). */
static void collect_all(struct pctx *p)
{
    p->c = xmalloc((p->rt->norder ? p->rt->norder : 1) * sizeof *p->c);
    p->n = 0;
    uint32_t pos = 0;
    while (cand_next(p, &pos, &p->c[p->n]))
        p->n++;
}

static bool valid(struct pctx *p, const struct cand *k, bool borrow)
{
    const struct adm_wl *x = &p->a->wl[k->wl];
    if (x->cq == p->a->wl[p->pre].cq)
        return true;
    if (borrow && k->type == C_RECLAIM)
        return false;
    return borrows_contested(p, x->cq);
}

static enum adm_evict_reason reason_of(uint8_t type)
{
    return type == C_SAME                          ? ADM_EV_IN_CLUSTER_QUEUE
           : type == C_RECLAIM || type == C_HIER ? ADM_EV_IN_COHORT_RECLAIM
                                                 : ADM_EV_RECLAIM_WHILE_BORROW;
}

/* Adds targets back in reverse order (all but the last) while w still fits. */
static uint32_t fill_back(struct pctx *p, uint32_t *t, enum adm_evict_reason *why, uint32_t n,
                          bool borrow)
{
    for (uint32_t i = n - 1; i-- > 0;) {
        sim(p->a, t[i], +1);
        if (fits(p, borrow)) {
            memmove(&t[i], &t[i + 1], (n - i - 1) * sizeof *t);
            memmove(&why[i], &why[i + 1], (n - i - 1) * sizeof *why);
            n--;
        } else {
            sim(p->a, t[i], -1);
        }
    }
    return n;
}

static void restore(struct pctx *p, const uint32_t *t, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        sim(p->a, t[i], +1);
}

static uint32_t classic(struct pctx *p, uint32_t *out, enum adm_evict_reason *why, uint32_t cap)
{
    struct adm *a = p->a;
    const struct adm_wl *w = &a->wl[p->pre];
    const struct adm__cq *c = &a->cqs[w->cq];
    /* Whether any candidate comes from another queue: they come first. */
    struct cand k;
    uint32_t pos = 0;
    if (!cand_next(p, &pos, &k))
        return 0;
    bool other = a->wl[k.wl].cq != w->cq;
    bool hier = k.type == C_HIER; /* hierarchical candidates come first of all */
    bool borrow_forbidden = c->borrow == ADM_P_NEVER;
    /* As Kueue's queueUnderNominalInResourcesNeedingPreemption: the queue's usage
     * now (without the incoming workload) is below nominal on every contested
     * flavor-resource. */
    bool under_nominal = true;
    for (uint32_t x = 0; x < p->nneed; x++) {
        size_t ix = (size_t)c->node * a->nfr + p->needv[x];
        if (a->usage[ix] >= a->nominal[ix])
            under_nominal = false;
    }
    bool attempts[2];
    uint32_t na;
    if (!other || (borrow_forbidden && !under_nominal)) {
        attempts[0] = true;
        na = 1;
    } else if (borrow_forbidden && !hier) {
        attempts[0] = false;
        attempts[1] = true;
        na = 2;
    } else {
        attempts[0] = true;
        attempts[1] = false;
        na = 2;
    }
    /* What the preemptor's own candidates hold on each contested FR: an attempt
     * that cannot succeed even with all of them gone is not walked. Without
     * borrowing, the preemptor must fit its queue's nominal quota beside what
     * its queue keeps; with borrowing, only its own queue's candidates (and
     * borrowWithinCohort's) are valid, so what is missing must come from them. */
    int64_t own_cand[ADM_MAX_FLAVORS * ADM_MAX_RES];
    for (uint32_t x = 0; x < p->nneed; x++)
        own_cand[x] = 0;
    if (c->within != ADM_P_NEVER)
        for (uint32_t j = 0; j < c->nadm; j++) {
            const struct adm_wl *y = &a->wl[c->adm[j]];
            if (!policy_ok(c->within, w, y))
                continue;
            for (uint32_t x = 0; x < p->nneed; x++)
                own_cand[x] += y->usage[p->needv[x]];
        }
    for (uint32_t at = 0; at < na; at++) {
        bool borrow = attempts[at];
        bool possible = true;
        for (uint32_t x = 0; x < p->nneed && possible; x++) {
            uint32_t fr = p->needv[x];
            size_t ix = (size_t)c->node * a->nfr + fr;
            if (!borrow)
                possible = a->usage[ix] - own_cand[x] + p->as->usage[fr] <= a->subtree[ix];
            else if (c->borrow == ADM_P_NEVER && !hier)
                possible = p->as->usage[fr] - adm__available(a, a->usage, c->node, fr) <=
                           own_cand[x];
        }
        if (!possible)
            continue;
        uint32_t n = 0;
        pos = 0;
        while (n < cap && cand_next(p, &pos, &k)) {
            if (!valid(p, &k, borrow))
                continue;
            sim(a, k.wl, -1);
            out[n] = k.wl;
            why[n] = reason_of(k.type);
            n++;
            if (fits(p, borrow)) {
                n = fill_back(p, out, why, n, borrow);
                restore(p, out, n);
                return n;
            }
        }
        restore(p, out, n);
    }
    return 0;
}

static bool strategy_ok(enum adm_fs_strategy s, int64_t pre, int64_t before, int64_t after)
{
    if (s == ADM_FS_LE_FINAL_SHARE)
        return pre <= after;
    return pre < before;
}

/* The candidate queue with the highest share that still has candidates (the
 * preemptor's own queue always qualifies; others only while they borrow). */
static int first_of(struct pctx *p, uint32_t cq);

static bool on_path(const struct adm *a, uint32_t q, uint32_t own_node)
{
    for (uint32_t x = own_node; x != ADM_NONE; x = a->qn[x].parent)
        if (x == q)
            return true;
    return false;
}

/* Kueue's descent for fair-sharing targets: from the root, at each cohort the
 * child with the highest share wins (child cohorts that do not borrow are left
 * out unless the preemptor lies below them; queues other than the preemptor's
 * must borrow on a contested flavor-resource and have candidates left). Ties
 * between queues go to the one whose first candidate comes first; between a
 * cohort and a queue, to the cohort. Returns a ClusterQueue or -1. */
static int pick_in(struct pctx *p, uint32_t q, const bool *skip, int *first)
{
    struct adm *a = p->a;
    const struct adm__qnode *n = &a->qn[q];
    uint32_t own = a->wl[p->pre].cq;
    if (n->is_cq) {
        if (skip[n->cq] || (n->cq != own && !borrows_contested(p, n->cq)))
            return -1;
        int f = first_of(p, n->cq);
        if (f < 0)
            return -1;
        *first = f;
        return (int)n->cq;
    }
    int best = -1, best_first = 0;
    bool best_cohort = false;
    int64_t best_drs = -1;
    for (uint32_t k = 0; k < n->nkids; k++) {
        uint32_t kid = n->kids[k];
        bool cohort = !a->qn[kid].is_cq;
        if (cohort && !adm__borrowing(a, a->usage, kid, NULL) &&
            !on_path(a, kid, a->cqs[own].node))
            continue;
        int f = 0;
        int cq = pick_in(p, kid, skip, &f);
        if (cq < 0)
            continue;
        int64_t d = adm__drs(a, a->usage, kid, NULL, NULL);
        bool better;
        if (best < 0 || d > best_drs)
            better = true;
        else if (d < best_drs)
            better = false;
        else if (cohort != best_cohort)
            better = cohort;
        else
            better = f < best_first;
        if (better) {
            best = cq;
            best_drs = d;
            best_first = f;
            best_cohort = cohort;
        }
    }
    *first = best_first;
    return best;
}

static int pick_cq(struct pctx *p, const bool *skip)
{
    int first = 0;
    return pick_in(p, p->a->qn[p->a->cqs[p->a->wl[p->pre].cq].node].root, skip, &first);
}

static int first_of(struct pctx *p, uint32_t cq)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (!p->c[i].removed && p->a->wl[p->c[i].wl].cq == cq)
            return (int)i;
    return -1;
}

static uint32_t fair(struct pctx *p, uint32_t *out, enum adm_evict_reason *why, uint32_t cap)
{
    struct adm *a = p->a;
    const struct adm_wl *w = &a->wl[p->pre];
    uint32_t pq = a->cqs[w->cq].node;
    uint32_t n = 0;
    bool *skip = xcalloc(a->ncq, sizeof *skip);
    enum adm_fs_strategy s1 = a->cfg.strategies[0];
    while (!fits(p, true) && n < cap) {
        int cq = pick_cq(p, skip);
        if (cq < 0)
            break;
        int i = first_of(p, (uint32_t)cq);
        bool within = true;
        for (uint32_t fr = 0; fr < a->nfr; fr++) {
            size_t ix = (size_t)pq * a->nfr + fr;
            if (p->need[fr] && a->usage[ix] + p->as->usage[fr] > a->subtree[ix])
                within = false;
        }
        if ((uint32_t)cq == w->cq || within) {
            sim(a, p->c[i].wl, -1);
            p->c[i].removed = true;
            out[n] = p->c[i].wl;
            why[n] = (uint32_t)cq == w->cq ? ADM_EV_IN_CLUSTER_QUEUE : ADM_EV_IN_COHORT_RECLAIM;
            n++;
            continue;
        }
        bool took = false;
        uint32_t tq = a->cqs[cq].node;
        int64_t pre = adm__drs(a, a->usage, pq, p->as->usage, NULL);
        int64_t before = adm__drs(a, a->usage, tq, NULL, NULL);
        for (uint32_t k = 0; k < p->n && !took; k++) {
            if (p->c[k].removed || a->wl[p->c[k].wl].cq != (uint32_t)cq)
                continue;
            sim(a, p->c[k].wl, -1);
            int64_t after = adm__drs(a, a->usage, tq, NULL, NULL);
            if (strategy_ok(s1, pre, before, after)) {
                p->c[k].removed = true;
                out[n] = p->c[k].wl;
                why[n] = ADM_EV_FAIR_SHARING;
                n++;
                took = true;
            } else {
                sim(a, p->c[k].wl, +1);
            }
        }
        if (!took)
            skip[cq] = true;
    }
    if (!fits(p, true) && a->cfg.nstrategies > 1) {
        enum adm_fs_strategy s2 = a->cfg.strategies[1];
        memset(skip, 0, a->ncq * sizeof *skip);
        for (;;) {
            if (fits(p, true) || n >= cap)
                break;
            int cq = pick_cq(p, skip);
            if (cq < 0)
                break;
            skip[cq] = true;
            uint32_t tq = a->cqs[cq].node;
            int64_t pre = adm__drs(a, a->usage, pq, p->as->usage, NULL);
            int64_t before = adm__drs(a, a->usage, tq, NULL, NULL);
            int i = first_of(p, (uint32_t)cq);
            if (i < 0)
                continue;
            sim(a, p->c[i].wl, -1);
            int64_t after = adm__drs(a, a->usage, tq, NULL, NULL);
            if (!strategy_ok(s2, pre, before, after)) {
                sim(a, p->c[i].wl, +1);
                continue;
            }
            p->c[i].removed = true;
            out[n] = p->c[i].wl;
            why[n] = ADM_EV_FAIR_SHARING;
            n++;
        }
    }
    free(skip);
    if (n == 0 || !fits(p, true)) {
        restore(p, out, n);
        return 0;
    }
    n = fill_back(p, out, why, n, true);
    restore(p, out, n);
    return n;
}

/* A cheap necessary condition, from the queues' usage alone: removing
 * workloads raises what the preemptor's queue can use by at most what they
 * hold, and another queue's workloads stop being candidates once it is back
 * within its nominal quota (so it yields at most its excess plus one
 * workload). When even that is short of what is missing on some contested
 * flavor-resource, no victim set exists and the search is skipped. */
static int64_t bound_of(const struct adm *a, const struct adm__cq *c, uint32_t fr)
{
    uint32_t q = c->node;
    bool in_cohort = a->qn[q].parent != ADM_NONE;
    /* As prepare(): reclaimWithinCohort gates every other queue's candidate. */
    bool may_other = in_cohort && c->reclaim != ADM_P_NEVER;
    const struct adm__qnode *rt = &a->qn[a->qn[q].root];
    int64_t bound = c->within != ADM_P_NEVER ? a->usage[(size_t)q * a->nfr + fr] : 0;
    for (uint32_t k = 0; may_other && k < rt->ntree_cqs; k++) {
        uint32_t x = a->cqs[rt->tree_cqs[k]].node;
        if (x == q)
            continue;
        size_t ix = (size_t)x * a->nfr + fr;
        int64_t over = a->usage[ix] - a->subtree[ix];
        if (over <= 0)
            continue;
        int64_t y = over + a->max_wl_usage[fr];
        bound += y < a->usage[ix] ? y : a->usage[ix];
    }
    return bound;
}

static bool hopeless(struct adm *a, const struct adm_wl *w, const struct adm__assign *as)
{
    struct adm__cq *c = &a->cqs[w->cq];
    uint32_t q = c->node;
    uint64_t gen = a->qn[a->qn[q].root].gen;
    for (uint32_t fr = 0; fr < a->nfr; fr++) {
        if (as->usage[fr] <= 0)
            continue;
        int64_t missing = as->usage[fr] - adm__available(a, a->usage, q, fr);
        if (missing <= 0)
            continue;
        struct adm__bound *b = &c->hb[fr & 3];
        if (b->gen != gen + 1 || b->fr != fr) {
            /* gen + 1 so that a zeroed entry never matches */
            b->gen = gen + 1;
            b->fr = fr;
            b->bound = bound_of(a, c, fr);
        }
        if (b->bound < missing)
            return true;
    }
    return false;
}

uint32_t adm__preempt_targets(struct adm *a, uint32_t wl, struct adm__assign *as, uint32_t *out,
                              enum adm_evict_reason *why, uint32_t cap)
{
    a->stats.preempt_searches++;
    if (hopeless(a, &a->wl[wl], as))
        return 0;
    struct pctx p;
    p.n = 0;
    p.c = NULL;
    p.a = a;
    p.pre = wl;
    p.as = as;
    p.eligible = NULL;
    p.adv = NULL;
    p.groups = 0;
    uint32_t n = 0;
    if (prepare(&p, a->cfg.fair_sharing)) {
        if (a->cfg.fair_sharing) {
            collect_all(&p);
            if (p.n)
                n = fair(&p, out, why, cap);
        } else {
            n = classic(&p, out, why, cap);
        }
    }
    free(p.c);
    free(p.eligible);
    free(p.adv);
    if (n)
        a->stats.preempt_found++;
    return n;
}
