/*
 * admit: the world (flavors, quota tree, node pools), quota arithmetic, flavor
 * assignment, gang placement and the scheduling cycle. Preemption, topology and
 * backfill live in admit_preempt.c, admit_topo.c and admit_backfill.c.
 */
#include "sched/admit.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sched/admit_int.h"
#include "sched/policy.h"

/* ---- world description kept until adm_seal ---- */

static void copy_groups(struct adm__qspec *dst, const struct adm_group_spec *g, uint32_t ng)
{
    dst->groups = xcalloc(ng ? ng : 1, sizeof *dst->groups);
    dst->ngroups = ng;
    uint32_t nents = 0;
    for (uint32_t i = 0; i < ng; i++)
        for (uint32_t f = 0; f < g[i].nflavors; f++)
            nents += g[i].flavors[f].nres;
    dst->ents = xcalloc(nents ? nents : 1, sizeof *dst->ents);
    dst->nents = 0;
    for (uint32_t i = 0; i < ng; i++) {
        struct adm__sgroup *s = &dst->groups[i];
        s->ncovered = g[i].ncovered;
        s->covered = xcalloc(s->ncovered ? s->ncovered : 1, sizeof *s->covered);
        for (uint32_t k = 0; k < s->ncovered; k++)
            s->covered[k] = xstrdup(g[i].covered[k]);
        s->nflavors = g[i].nflavors;
        s->flavors = xcalloc(s->nflavors ? s->nflavors : 1, sizeof *s->flavors);
        for (uint32_t f = 0; f < g[i].nflavors; f++) {
            const struct adm_flavor_quota_spec *fq = &g[i].flavors[f];
            s->flavors[f] = xstrdup(fq->flavor);
            for (uint32_t r = 0; r < fq->nres; r++) {
                struct adm__qent *q = &dst->ents[dst->nents++];
                q->flavor = xstrdup(fq->flavor);
                q->res = xstrdup(fq->res[r].resource);
                q->nom = fq->res[r].nominal;
                q->bl = fq->res[r].borrowing_limit;
                q->ll = fq->res[r].lending_limit;
            }
        }
    }
}

static void free_qspec(struct adm__qspec *q)
{
    for (uint32_t i = 0; i < q->ngroups; i++) {
        for (uint32_t k = 0; k < q->groups[i].ncovered; k++)
            free(q->groups[i].covered[k]);
        for (uint32_t k = 0; k < q->groups[i].nflavors; k++)
            free(q->groups[i].flavors[k]);
        free(q->groups[i].covered);
        free(q->groups[i].flavors);
    }
    for (uint32_t i = 0; i < q->nents; i++) {
        free(q->ents[i].flavor);
        free(q->ents[i].res);
    }
    free(q->groups);
    free(q->ents);
    memset(q, 0, sizeof *q);
}

/* ---- small helpers ---- */

static void kv_dup(struct adm_kv **dst, const struct adm_kv *src, uint32_t n)
{
    *dst = xcalloc(n ? n : 1, sizeof **dst);
    for (uint32_t i = 0; i < n; i++) {
        (*dst)[i].key = xstrdup(src[i].key);
        (*dst)[i].value = xstrdup(src[i].value ? src[i].value : "");
    }
}

static void kv_free(struct adm_kv *kv, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
    free(kv);
}

static char **strv_dup(const char *const *v, uint32_t n)
{
    char **r = xcalloc(n ? n : 1, sizeof *r);
    for (uint32_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

static void strv_free(char **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int res_intern(struct adm *a, const char *name)
{
    for (uint32_t i = 0; i < a->nres; i++)
        if (strcmp(a->res_name[i], name) == 0)
            return (int)i;
    if (a->nres >= ADM_MAX_RES)
        return -1;
    a->res_name[a->nres] = xstrdup(name);
    return (int)a->nres++;
}

int adm_resource_find(const struct adm *a, const char *name)
{
    for (uint32_t i = 0; i < a->nres; i++)
        if (strcmp(a->res_name[i], name) == 0)
            return (int)i;
    return -1;
}

static int flavor_find(const struct adm *a, const char *name)
{
    for (uint32_t i = 0; i < a->nfl; i++)
        if (strcmp(a->fl[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int qnode_find(const struct adm *a, const char *name)
{
    for (uint32_t i = 0; i < a->nqn; i++)
        if (strcmp(a->qn[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Formats a canonical quantity of resource res for a person. */
/* Reasons are built on the admission hot path (every failed attempt), so they
 * are appended with these small helpers rather than snprintf. */
static void rcat(char *buf, size_t size, size_t *len, const char *s)
{
    size_t n = *len;
    if (n + 1 >= size)
        return;
    size_t k = strnlen(s, size - n - 1);
    memcpy(buf + n, s, k);
    buf[n + k] = '\0';
    *len = n + k;
}

static void itoa64(int64_t v, char *out)
{
    char t[24];
    int k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        t[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int o = 0;
    if (v < 0)
        out[o++] = '-';
    while (k)
        out[o++] = t[--k];
    out[o] = '\0';
}

static void fmt_qty(const struct adm *a, uint32_t res, int64_t v, char *buf, size_t n)
{
    const char *name = res < a->nres ? a->res_name[res] : "";
    const char *suffix = "";
    if (strcmp(name, "cpu") == 0) {
        if (v % 1000 == 0)
            v /= 1000;
        else
            suffix = "m";
    } else if (strcmp(name, "memory") == 0 && v > 0 && v % (1LL << 30) == 0) {
        v >>= 30;
        suffix = "Gi";
    } else if (strcmp(name, "memory") == 0 && v > 0 && v % (1LL << 20) == 0) {
        v >>= 20;
        suffix = "Mi";
    }
    char d[24];
    itoa64(v, d);
    size_t len = 0;
    if (n)
        buf[0] = '\0';
    rcat(buf, n, &len, d);
    rcat(buf, n, &len, suffix);
}

/* ---- lifecycle and world building ---- */

struct adm *adm_create(const struct adm_config *cfg)
{
    struct adm *a = xcalloc(1, sizeof *a);
    if (cfg)
        a->cfg = *cfg;
    if (a->cfg.max_reservations == 0)
        a->cfg.max_reservations = 16;
    if (a->cfg.nstrategies == 0) {
        a->cfg.nstrategies = 2;
        a->cfg.strategies[0] = ADM_FS_LE_FINAL_SHARE;
        a->cfg.strategies[1] = ADM_FS_LT_INITIAL_SHARE;
    }
    a->cfg.policy = xstrdup(cfg && cfg->policy ? cfg->policy : "bestfit");
    return a;
}

void adm_destroy(struct adm *a)
{
    if (!a)
        return;
    if (a->qspec) {
        for (uint32_t i = 0; i < a->nqn; i++)
            free_qspec(&a->qspec[i]);
        free(a->qspec);
    }
    adm__resv_clear(a);
    free(a->resv);
    adm__topo_free(a);
    for (uint32_t i = 0; i < a->nres; i++)
        free(a->res_name[i]);
    for (uint32_t i = 0; i < a->nfl; i++) {
        free(a->fl[i].name);
        kv_free(a->fl[i].labels, a->fl[i].nlabels);
        strv_free(a->fl[i].tolerated, a->fl[i].ntolerated);
        free(a->fl[i].topology_name);
    }
    for (uint32_t i = 0; i < a->ntopos; i++) {
        free(a->topos[i].name);
        for (uint32_t l = 0; l < a->topos[i].nlevels; l++)
            free(a->topos[i].levels[l]);
    }
    free(a->topos);
    for (uint32_t i = 0; i < a->nqn; i++) {
        free(a->qn[i].name);
        free(a->qn[i].parent_name);
        free(a->qn[i].kids);
        free(a->qn[i].tree_cqs);
        free(a->qn[i].order);

    }
    free(a->qn);
    for (uint32_t i = 0; i < a->ncq; i++) {
        free(a->cqs[i].groups);
        free(a->cqs[i].pend);
        free(a->cqs[i].adm);
        free(a->cqs[i].inactive);
    }
    free(a->cqs);
    free(a->nominal);
    free(a->blimit);
    free(a->llimit);
    free(a->subtree);
    free(a->usage);
    free(a->tmp_usage);
    free(a->tmp_usage2);
    free(a->max_wl_usage);
    free(a->dl);
    for (uint32_t i = 0; i < a->nnodes; i++) {
        free(a->nodes[i].name);
        kv_free(a->nodes[i].labels, a->nodes[i].nlabels);
        strv_free(a->nodes[i].taints, a->nodes[i].ntaints);
    }
    free(a->nodes);
    for (uint32_t i = 0; i < a->npools; i++) {
        engine_release(&a->pools[i].en);
        cluster_release(&a->pools[i].c);
        free(a->pools[i].gid);
    }
    free(a->pools);
    for (uint32_t i = 0; i < a->nwl; i++) {
        struct adm_wl *w = &a->wl[i];
        free(w->key);
        free(w->no_queue_reason);
        for (uint32_t k = 0; k < w->nps; k++) {
            free(w->ps[k].name);
            free(w->ps[k].required_level);
            free(w->ps[k].preferred_level);
            kv_free(w->ps[k].node_selector, w->ps[k].nnode_selector);
        }
        free(w->ps);
        free(w->psa);
        free(w->pods);
        free(w->usage);
    }
    free(a->wl);
    free((char *)a->cfg.policy);
    free(a);
}

void adm_set_hooks(struct adm *a, const struct adm_hooks *h)
{
    if (h)
        a->hooks = *h;
    else
        memset(&a->hooks, 0, sizeof a->hooks);
}

int adm_add_topology(struct adm *a, const struct adm_topology_spec *s, struct err *e)
{
    if (a->sealed)
        return errf(e, EINVAL, "Topology %s: added after the world was sealed", s->name);
    if (s->nlevels == 0 || s->nlevels > ADM_MAX_LEVELS)
        return errf(e, EINVAL, "Topology %s: spec.levels: must have 1 to %d levels (got %u)",
                    s->name, ADM_MAX_LEVELS, s->nlevels);
    for (uint32_t i = 0; i < a->ntopos; i++)
        if (strcmp(a->topos[i].name, s->name) == 0)
            return errf(e, EEXIST, "Topology %s: declared twice", s->name);
    a->topos = xreallocarray(a->topos, a->ntopos + 1, sizeof *a->topos);
    struct adm__topo *t = &a->topos[a->ntopos++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(s->name);
    t->nlevels = s->nlevels;
    for (uint32_t l = 0; l < s->nlevels; l++)
        t->levels[l] = xstrdup(s->levels[l]);
    return 0;
}

int adm_add_flavor(struct adm *a, const struct adm_flavor_spec *s, struct err *e)
{
    if (a->sealed)
        return errf(e, EINVAL, "ResourceFlavor %s: added after the world was sealed", s->name);
    if (flavor_find(a, s->name) >= 0)
        return errf(e, EEXIST, "ResourceFlavor %s: declared twice", s->name);
    if (a->nfl >= ADM_MAX_FLAVORS)
        return errf(e, E2BIG, "ResourceFlavor %s: more than %d flavors", s->name,
                    ADM_MAX_FLAVORS);
    struct adm__flavor *f = &a->fl[a->nfl++];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(s->name);
    kv_dup(&f->labels, s->node_labels, s->nnode_labels);
    f->nlabels = s->nnode_labels;
    f->tolerated = strv_dup(s->tolerated_taints, s->ntolerated);
    f->ntolerated = s->ntolerated;
    f->topology_name = s->topology ? xstrdup(s->topology) : NULL;
    f->topo = -1;
    return 0;
}

static uint32_t qnode_new(struct adm *a, const char *name, bool is_cq)
{
    if (a->nqn == a->capqn) {
        a->capqn = a->capqn ? 2 * a->capqn : 16;
        a->qn = xreallocarray(a->qn, a->capqn, sizeof *a->qn);
        a->qspec = xreallocarray(a->qspec, a->capqn, sizeof *a->qspec);
    }
    memset(&a->qspec[a->nqn], 0, sizeof *a->qspec);
    struct adm__qnode *q = &a->qn[a->nqn];
    memset(q, 0, sizeof *q);
    q->name = xstrdup(name);
    q->is_cq = is_cq;
    q->parent = ADM_NONE;
    q->weight = 1000;
    return a->nqn++;
}

static int check_groups(const char *kind, const char *name, const struct adm_group_spec *g,
                        uint32_t ng, struct err *e)
{
    for (uint32_t i = 0; i < ng; i++)
        for (uint32_t f = 0; f < g[i].nflavors; f++)
            for (uint32_t r = 0; r < g[i].flavors[f].nres; r++) {
                const struct adm_quota_spec *q = &g[i].flavors[f].res[r];
                if (q->nominal < 0)
                    return errf(e, EINVAL,
                                "%s %s: spec.resourceGroups[%u].flavors[%u].resources[%u]."
                                "nominalQuota: must not be negative",
                                kind, name, i, f, r);
            }
    return 0;
}

int adm_add_cohort(struct adm *a, const struct adm_cohort_spec *s, struct err *e)
{
    if (a->sealed)
        return errf(e, EINVAL, "Cohort %s: added after the world was sealed", s->name);
    int found = qnode_find(a, s->name);
    if (found >= 0 && (a->qn[found].is_cq || a->qn[found].declared))
        return errf(e, EEXIST, "Cohort %s: name already used", s->name);
    if (check_groups("Cohort", s->name, s->groups, s->ngroups, e))
        return -1;
    uint32_t q = found >= 0 ? (uint32_t)found : qnode_new(a, s->name, false);
    a->qn[q].declared = true;
    a->qn[q].parent_name = s->parent && *s->parent ? xstrdup(s->parent) : NULL;
    a->qn[q].weight = s->weight_milli;
    copy_groups(&a->qspec[q], s->groups, s->ngroups);
    return 0;
}

int adm_add_cq(struct adm *a, const struct adm_cq_spec *s, struct err *e)
{
    if (a->sealed)
        return errf(e, EINVAL, "ClusterQueue %s: added after the world was sealed", s->name);
    if (qnode_find(a, s->name) >= 0) {
        int q = qnode_find(a, s->name);
        if (a->qn[q].is_cq)
            return errf(e, EEXIST, "ClusterQueue %s: declared twice", s->name);
    }
    if (check_groups("ClusterQueue", s->name, s->groups, s->ngroups, e))
        return -1;
    for (uint32_t i = 0; i < s->ngroups; i++)
        for (uint32_t k = 0; k < s->groups[i].ncovered; k++)
            if (res_intern(a, s->groups[i].covered[k]) < 0)
                return errf(e, E2BIG, "ClusterQueue %s: more than %d distinct resources",
                            s->name, ADM_MAX_RES);
    uint32_t q = qnode_new(a, s->name, true);
    a->qn[q].declared = true;
    a->qn[q].parent_name = s->cohort && *s->cohort ? xstrdup(s->cohort) : NULL;
    a->qn[q].weight = s->weight_milli;
    copy_groups(&a->qspec[q], s->groups, s->ngroups);
    if (a->ncq == a->capcq) {
        a->capcq = a->capcq ? 2 * a->capcq : 16;
        a->cqs = xreallocarray(a->cqs, a->capcq, sizeof *a->cqs);
    }
    struct adm__cq *c = &a->cqs[a->ncq];
    memset(c, 0, sizeof *c);
    c->node = q;
    c->strategy = s->strategy;
    c->stop = s->stop;
    if (s->stop == ADM_STOP_HOLD_AND_DRAIN)
        a->any_drain = true;
    c->within = s->within_cq;
    c->reclaim = s->reclaim_within_cohort;
    c->borrow = s->borrow_within_cohort;
    c->has_threshold = s->has_max_priority_threshold;
    c->threshold = s->max_priority_threshold;
    c->when_borrow = s->when_can_borrow;
    c->when_preempt = s->when_can_preempt;
    c->dirty = true;
    a->qn[q].cq = a->ncq++;
    return 0;
}

int adm_add_node(struct adm *a, const struct adm_node_spec *s, struct err *e)
{
    if (a->sealed)
        return errf(e, EINVAL, "Node %s: added after the world was sealed", s->name);
    if (s->gpus < 0 || s->gpus > CLUSTER_MAX_GPUS)
        return errf(e, EINVAL, "Node %s: status.allocatable[nvidia.com/gpu]: %" PRId64
                    " GPUs (muster models at most %d per node)", s->name, s->gpus,
                    CLUSTER_MAX_GPUS);
    if (s->cpu_milli < 0 || s->cpu_milli > INT32_MAX || s->memory < 0)
        return errf(e, EINVAL, "Node %s: status.allocatable: cpu or memory out of range",
                    s->name);
    if (a->nnodes == a->capnodes) {
        a->capnodes = a->capnodes ? 2 * a->capnodes : 64;
        a->nodes = xreallocarray(a->nodes, a->capnodes, sizeof *a->nodes);
    }
    struct adm__node *n = &a->nodes[a->nnodes++];
    memset(n, 0, sizeof *n);
    n->name = xstrdup(s->name);
    kv_dup(&n->labels, s->labels, s->nlabels);
    n->nlabels = s->nlabels;
    n->taints = strv_dup(s->taints, s->ntaints);
    n->ntaints = s->ntaints;
    n->unschedulable = s->unschedulable;
    n->cpu = s->cpu_milli;
    n->mem = s->memory;
    n->gpus = s->gpus;
    return 0;
}

/* ---- seal ---- */

static bool labels_have(const struct adm_kv *labels, uint32_t n, const char *k, const char *v)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(labels[i].key, k) == 0)
            return v == NULL || strcmp(labels[i].value, v) == 0;
    return false;
}

/* Whether node n can run pods of flavor f: it has every label of the flavor's
 * nodeLabels, every taint it carries is tolerated, and it is schedulable. */
static bool node_serves(const struct adm__node *n, const struct adm__flavor *f)
{
    if (n->unschedulable)
        return false;
    for (uint32_t i = 0; i < f->nlabels; i++)
        if (!labels_have(n->labels, n->nlabels, f->labels[i].key, f->labels[i].value))
            return false;
    for (uint32_t t = 0; t < n->ntaints; t++) {
        bool ok = false;
        for (uint32_t k = 0; k < f->ntolerated && !ok; k++)
            ok = strcmp(f->tolerated[k], n->taints[t]) == 0 || f->tolerated[k][0] == '\0';
        if (!ok)
            return false;
    }
    return true;
}

static int build_pools(struct adm *a, struct err *e)
{
    const struct policy_ops *ops = policy_find(a->cfg.policy, e);
    if (!ops)
        return -1;
    uint64_t masks[256];
    uint32_t nm = 0;
    for (uint32_t i = 0; i < a->nnodes; i++) {
        struct adm__node *n = &a->nodes[i];
        uint64_t m = 0;
        for (uint32_t f = 0; f < a->nfl; f++)
            if (node_serves(n, &a->fl[f]))
                m |= 1ULL << f;
        uint32_t p = 0;
        while (p < nm && masks[p] != m)
            p++;
        if (p == nm) {
            if (nm == 256)
                return errf(e, E2BIG, "Node %s: more than 256 distinct sets of flavors",
                            n->name);
            masks[nm++] = m;
        }
        n->pool = p;
    }
    a->npools = nm;
    a->pools = xcalloc(nm ? nm : 1, sizeof *a->pools);
    for (uint32_t p = 0; p < nm; p++) {
        a->pools[p].flavors = masks[p];
        cluster_init(&a->pools[p].c);
    }
    for (uint32_t i = 0; i < a->nnodes; i++) {
        struct adm__node *n = &a->nodes[i];
        struct adm__pool *p = &a->pools[n->pool];
        int64_t mib = n->mem >> 20;
        int64_t id = cluster_add_node(&p->c, n->name, (int32_t)n->cpu, mib, (int)n->gpus, "gpu",
                                      e);
        if (id < 0)
            return -1;
        n->local = (uint32_t)id;
        p->gid = xreallocarray(p->gid, (size_t)id + 1, sizeof *p->gid);
        p->gid[id] = i;
    }
    for (uint32_t p = 0; p < nm; p++)
        engine_init(&a->pools[p].en, &a->pools[p].c, ops, NULL, a->cfg.seed + p);
    return 0;
}

static int64_t guaranteed_raw(const struct adm *a, uint32_t q, uint32_t fr)
{
    int64_t ll = a->llimit[(size_t)q * a->nfr + fr];
    if (ll == ADM_UNLIMITED)
        return 0;
    int64_t g = a->subtree[(size_t)q * a->nfr + fr] - ll;
    return g > 0 ? g : 0;
}

int64_t adm__guaranteed(const struct adm *a, uint32_t q, uint32_t fr)
{
    return guaranteed_raw(a, q, fr);
}

static void subtree_calc(struct adm *a, uint32_t q)
{
    for (uint32_t k = 0; k < a->qn[q].nkids; k++)
        subtree_calc(a, a->qn[q].kids[k]);
    for (uint32_t fr = 0; fr < a->nfr; fr++) {
        int64_t s = a->nominal[(size_t)q * a->nfr + fr];
        for (uint32_t k = 0; k < a->qn[q].nkids; k++) {
            uint32_t c = a->qn[q].kids[k];
            s += a->subtree[(size_t)c * a->nfr + fr] - guaranteed_raw(a, c, fr);
        }
        a->subtree[(size_t)q * a->nfr + fr] = s;
    }
}

static int resolve_quota(struct adm *a, uint32_t q, struct err *e)
{
    struct adm__qspec *s = &a->qspec[q];
    struct adm__qnode *n = &a->qn[q];
    const char *kind = n->is_cq ? "ClusterQueue" : "Cohort";
    for (uint32_t i = 0; i < s->nents; i++) {
        int f = flavor_find(a, s->ents[i].flavor);
        int r = res_intern(a, s->ents[i].res);
        if (r < 0)
            return errf(e, E2BIG, "%s %s: more than %d distinct resources", kind, n->name,
                        ADM_MAX_RES);
        if (f < 0) {
            if (n->is_cq && !a->cqs[n->cq].inactive) {
                char buf[200];
                snprintf(buf, sizeof buf, "ClusterQueue %s is inactive: flavor %s not found",
                         n->name, s->ents[i].flavor);
                a->cqs[n->cq].inactive = xstrdup(buf);
            }
            continue;
        }
        size_t ix = (size_t)q * a->nfr + adm__fr((uint32_t)f, (uint32_t)r);
        a->nominal[ix] = s->ents[i].nom;
        a->blimit[ix] = s->ents[i].bl;
        a->llimit[ix] = s->ents[i].ll;
        if (n->is_cq)
            a->cqs[n->cq].defines[adm__fr((uint32_t)f, (uint32_t)r)] = true;
    }
    if (!n->is_cq)
        return 0;
    struct adm__cq *c = &a->cqs[n->cq];
    c->ngroups = s->ngroups;
    c->groups = xcalloc(s->ngroups ? s->ngroups : 1, sizeof *c->groups);
    for (uint32_t g = 0; g < s->ngroups; g++) {
        struct adm__group *G = &c->groups[g];
        for (uint32_t k = 0; k < s->groups[g].ncovered; k++)
            G->res[G->nres++] = (uint8_t)res_intern(a, s->groups[g].covered[k]);
        for (uint32_t k = 0; k < s->groups[g].nflavors; k++) {
            int f = flavor_find(a, s->groups[g].flavors[k]);
            if (f >= 0)
                G->fl[G->nfl++] = (uint8_t)f;
        }
    }
    return 0;
}

int adm_seal(struct adm *a, struct err *e)
{
    if (a->sealed)
        return 0;
    for (uint32_t f = 0; f < a->nfl; f++) {
        struct adm__flavor *fl = &a->fl[f];
        if (!fl->topology_name)
            continue;
        for (uint32_t t = 0; t < a->ntopos; t++)
            if (strcmp(a->topos[t].name, fl->topology_name) == 0)
                fl->topo = (int32_t)t;
        if (fl->topo < 0)
            return errf(e, ENOENT, "ResourceFlavor %s: spec.topologyName: Topology %s not found",
                        fl->name, fl->topology_name);
    }
    /* Cohorts named by queues or cohorts but not declared exist empty. */
    for (uint32_t q = 0; q < a->nqn; q++) {
        if (!a->qn[q].parent_name)
            continue;
        int p = qnode_find(a, a->qn[q].parent_name);
        if (p >= 0 && a->qn[p].is_cq)
            return errf(e, EINVAL, "%s %s: parent %s is a ClusterQueue, not a Cohort",
                        a->qn[q].is_cq ? "ClusterQueue" : "Cohort", a->qn[q].name,
                        a->qn[q].parent_name);
        if (p < 0)
            p = (int)qnode_new(a, a->qn[q].parent_name, false);
        a->qn[q].parent = (uint32_t)p;
    }
    for (uint32_t q = 0; q < a->nqn; q++) {
        /* Cycle check: walk up at most nqn steps. */
        uint32_t x = q, steps = 0;
        while (x != ADM_NONE && steps <= a->nqn) {
            x = a->qn[x].parent;
            steps++;
        }
        if (x != ADM_NONE)
            return errf(e, ELOOP, "Cohort %s: spec.parentName: the cohort tree has a cycle",
                        a->qn[q].name);
        if (a->qn[q].parent != ADM_NONE) {
            struct adm__qnode *p = &a->qn[a->qn[q].parent];
            p->kids = xreallocarray(p->kids, p->nkids + 1, sizeof *p->kids);
            p->kids[p->nkids++] = q;
        }
    }
    for (uint32_t q = 0; q < a->nqn; q++) {
        uint32_t x = q;
        while (a->qn[x].parent != ADM_NONE)
            x = a->qn[x].parent;
        a->qn[q].root = x;
        if (a->qn[q].is_cq) {
            struct adm__qnode *r = &a->qn[x];
            r->tree_cqs = xreallocarray(r->tree_cqs, r->ntree_cqs + 1, sizeof *r->tree_cqs);
            r->tree_cqs[r->ntree_cqs++] = a->qn[q].cq;
        }
    }
    /* Resources named only by workloads so far do not matter; intern those of
     * the quota first so that FR indexes are stable. */
    a->nfr = (a->nfl ? a->nfl : 1) * ADM_MAX_RES;
    size_t n = (size_t)a->nqn * a->nfr;
    a->nominal = xcalloc(n ? n : 1, sizeof *a->nominal);
    a->blimit = xcalloc(n ? n : 1, sizeof *a->blimit);
    a->llimit = xcalloc(n ? n : 1, sizeof *a->llimit);
    a->subtree = xcalloc(n ? n : 1, sizeof *a->subtree);
    a->usage = xcalloc(n ? n : 1, sizeof *a->usage);
    a->tmp_usage = xcalloc(a->nfr, sizeof *a->tmp_usage);
    a->tmp_usage2 = xcalloc(a->nfr, sizeof *a->tmp_usage2);
    a->max_wl_usage = xcalloc(a->nfr, sizeof *a->max_wl_usage);
    for (size_t i = 0; i < n; i++)
        a->blimit[i] = a->llimit[i] = ADM_UNLIMITED;
    for (uint32_t q = 0; q < a->nqn; q++)
        if (resolve_quota(a, q, e))
            return -1;
    for (uint32_t q = 0; q < a->nqn; q++)
        if (a->qn[q].parent == ADM_NONE)
            subtree_calc(a, q);
    if (build_pools(a, e))
        return -1;
    if (adm__topo_build(a, e))
        return -1;
    for (uint32_t q = 0; q < a->nqn; q++)
        free_qspec(&a->qspec[q]);
    free(a->qspec);
    a->qspec = NULL;
    a->sealed = true;
    return 0;
}

/* ---- quota arithmetic (Kueue's resource nodes) ---- */

int64_t adm__available(const struct adm *a, const int64_t *usage, uint32_t q, uint32_t fr)
{
    size_t ix = (size_t)q * a->nfr + fr;
    uint32_t p = a->qn[q].parent;
    if (p == ADM_NONE)
        return a->subtree[ix] - usage[ix];
    int64_t g = guaranteed_raw(a, q, fr);
    int64_t local = g - usage[ix];
    if (local < 0)
        local = 0;
    int64_t parent = adm__available(a, usage, p, fr);
    if (a->blimit[ix] != ADM_UNLIMITED) {
        int64_t stored = a->subtree[ix] - g;
        int64_t used = usage[ix] - g;
        if (used < 0)
            used = 0;
        int64_t cap = stored - used + a->blimit[ix];
        if (cap < parent)
            parent = cap;
    }
    return local + parent;
}

int64_t adm__potential(const struct adm *a, uint32_t q, uint32_t fr)
{
    size_t ix = (size_t)q * a->nfr + fr;
    uint32_t p = a->qn[q].parent;
    if (p == ADM_NONE)
        return a->subtree[ix];
    int64_t v = guaranteed_raw(a, q, fr) + adm__potential(a, p, fr);
    if (a->blimit[ix] != ADM_UNLIMITED && a->subtree[ix] + a->blimit[ix] < v)
        v = a->subtree[ix] + a->blimit[ix];
    return v;
}

void adm__add_usage(const struct adm *a, int64_t *usage, uint32_t q, uint32_t fr, int64_t v)
{
    while (q != ADM_NONE && v != 0) {
        size_t ix = (size_t)q * a->nfr + fr;
        int64_t g = guaranteed_raw(a, q, fr);
        int64_t before = usage[ix] - g > 0 ? usage[ix] - g : 0;
        usage[ix] += v;
        int64_t after = usage[ix] - g > 0 ? usage[ix] - g : 0;
        v = after - before;
        q = a->qn[q].parent;
    }
}

void adm__apply_usage(const struct adm *a, int64_t *usage, const struct adm_wl *w, int sign)
{
    uint32_t q = a->cqs[w->cq].node;
    for (uint32_t fr = 0; fr < a->nfr; fr++)
        if (w->usage[fr])
            adm__add_usage(a, usage, q, fr, sign * w->usage[fr]);
}

bool adm__borrowing(const struct adm *a, const int64_t *usage, uint32_t q, const int64_t *extra)
{
    for (uint32_t fr = 0; fr < a->nfr; fr++) {
        size_t ix = (size_t)q * a->nfr + fr;
        if (usage[ix] + (extra ? extra[fr] : 0) > a->subtree[ix])
            return true;
    }
    return false;
}

int64_t adm__drs(const struct adm *a, const int64_t *usage, uint32_t q, const int64_t *extra,
                 int64_t *ratio_out)
{
    uint32_t p = a->qn[q].parent;
    if (ratio_out)
        *ratio_out = 0;
    if (p == ADM_NONE)
        return 0;
    int64_t best = 0;
    bool borrowing = false;
    for (uint32_t r = 0; r < a->nres; r++) {
        int64_t borrowed = 0, lendable = 0;
        for (uint32_t f = 0; f < a->nfl; f++) {
            uint32_t fr = adm__fr(f, r);
            size_t ix = (size_t)q * a->nfr + fr;
            int64_t b = usage[ix] + (extra ? extra[fr] : 0) - a->subtree[ix];
            if (b > 0)
                borrowed += b;
            lendable += adm__potential(a, p, fr);
        }
        if (borrowed > 0)
            borrowing = true;
        if (borrowed > 0 && lendable > 0) {
            int64_t ratio = borrowed * 1000 / lendable;
            if (ratio > best)
                best = ratio;
        }
    }
    if (ratio_out)
        *ratio_out = best;
    if (!borrowing)
        return 0;
    if (a->qn[q].weight == 0)
        return INT64_MAX;
    return best * 1000 / a->qn[q].weight;
}

/* ---- workloads ---- */

static int cmp_queue_order(const struct adm *a, uint32_t x, uint32_t y)
{
    const struct adm_wl *p = &a->wl[x], *q = &a->wl[y];
    if (p->priority != q->priority)
        return p->priority > q->priority ? -1 : 1;
    if (p->created_ns != q->created_ns)
        return p->created_ns < q->created_ns ? -1 : 1;
    return strcmp(p->key, q->key);
}

static void pend_insert(struct adm *a, struct adm__cq *c, uint32_t wl)
{
    if (c->npend == c->cappend) {
        c->cappend = c->cappend ? 2 * c->cappend : 16;
        c->pend = xreallocarray(c->pend, c->cappend, sizeof *c->pend);
    }
    uint32_t lo = 0, hi = c->npend;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (cmp_queue_order(a, c->pend[mid], wl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&c->pend[lo + 1], &c->pend[lo], (c->npend - lo) * sizeof *c->pend);
    c->pend[lo] = wl;
    c->npend++;
    if (lo < c->cursor)
        c->cursor++;
    c->dirty = true;
    if (a->in_cycle && c->scanned && !c->live && lo >= c->cursor) {
        /* A workload requeued behind the cursor of a queue that had left this
         * cycle's list (an evicted victim): the queue comes back. */
        a->relive[a->nrelive++] = (uint32_t)(c - a->cqs);
        c->live = true;
    }
}

static void pend_remove(struct adm__cq *c, uint32_t wl)
{
    for (uint32_t i = 0; i < c->npend; i++)
        if (c->pend[i] == wl) {
            memmove(&c->pend[i], &c->pend[i + 1], (c->npend - i - 1) * sizeof *c->pend);
            c->npend--;
            if (i < c->cursor)
                c->cursor--;
            return;
        }
}

int64_t adm_add_workload(struct adm *a, const struct adm_wl_spec *s, struct err *e)
{
    if (!a->sealed)
        return errf(e, EINVAL, "Workload %s: added before the world was sealed", s->key);
    if (s->npodsets == 0 || s->npodsets > 8)
        return errf(e, EINVAL, "Workload %s: spec.podSets: must have 1 to 8 pod sets (got %u)",
                    s->key, s->npodsets);
    uint32_t fresh = 0; /* resource names not seen before */
    for (uint32_t i = 0; i < s->npodsets; i++) {
        const struct adm_podset_spec *p = &s->podsets[i];
        if (p->count == 0)
            return errf(e, EINVAL, "Workload %s: spec.podSets[%u].count: must be >= 1", s->key,
                        i);
        for (uint32_t r = 0; r < p->nres; r++) {
            if (p->amount[r] < 0)
                return errf(e, EINVAL, "Workload %s: spec.podSets[%u]: negative request for %s",
                            s->key, i, p->res[r]);
            if (p->amount[r] > INT64_MAX / 4 / p->count)
                return errf(e, ERANGE, "Workload %s: spec.podSets[%u]: request for %s times "
                            "count %u is out of range", s->key, i, p->res[r], p->count);
            if (adm_resource_find(a, p->res[r]) < 0) {
                bool dup = false;
                for (uint32_t i2 = 0; i2 <= i && !dup; i2++)
                    for (uint32_t r2 = 0; r2 < s->podsets[i2].nres && !dup; r2++)
                        dup = (i2 < i || r2 < r) &&
                              strcmp(s->podsets[i2].res[r2], p->res[r]) == 0;
                if (!dup && a->nres + ++fresh > ADM_MAX_RES)
                    return errf(e, E2BIG, "Workload %s: spec.podSets[%u]: more than %d distinct "
                                "resources in all", s->key, i, ADM_MAX_RES);
            }
        }
    }
    if (a->nwl == a->capwl) {
        a->capwl = a->capwl ? 2 * a->capwl : 64;
        a->wl = xreallocarray(a->wl, a->capwl, sizeof *a->wl);
    }
    uint32_t id = a->nwl;
    struct adm_wl *w = &a->wl[id];
    memset(w, 0, sizeof *w);
    w->cq = ADM_NONE;
    if (s->cq) {
        int q = qnode_find(a, s->cq);
        if (q >= 0 && a->qn[q].is_cq)
            w->cq = a->qn[q].cq;
    }
    w->key = xstrdup(s->key);
    if (w->cq == ADM_NONE) {
        char buf[300];
        if (s->no_queue_reason)
            snprintf(buf, sizeof buf, "%s", s->no_queue_reason);
        else
            snprintf(buf, sizeof buf, "ClusterQueue %s doesn't exist", s->cq ? s->cq : "");
        w->no_queue_reason = xstrdup(buf);
    }
    w->lq_held = s->lq_held;
    w->lq_drain = s->lq_drain;
    if (s->lq_drain)
        a->any_drain = true;
    w->active = s->active;
    w->priority = s->priority;
    w->created_ns = s->created_ns;
    w->max_exec_ns = s->max_exec_ns;
    w->nps = s->npodsets;
    w->ps = xcalloc(w->nps, sizeof *w->ps);
    uint32_t npods = 0;
    for (uint32_t i = 0; i < s->npodsets; i++) {
        const struct adm_podset_spec *p = &s->podsets[i];
        struct adm_podset *d = &w->ps[i];
        d->name = xstrdup(p->name ? p->name : "main");
        d->count = p->count;
        d->min_count = p->min_count && p->min_count < p->count ? p->min_count : p->count;
        d->required_level = p->required_level ? xstrdup(p->required_level) : NULL;
        d->preferred_level = p->preferred_level ? xstrdup(p->preferred_level) : NULL;
        kv_dup(&d->node_selector, p->node_selector, p->nnode_selector);
        d->nnode_selector = p->nnode_selector;
        for (uint32_t r = 0; r < p->nres; r++) {
            int id2 = res_intern(a, p->res[r]);
            assert(id2 >= 0); /* checked above */
            d->req[id2] += p->amount[r];
        }
        int rcpu = adm_resource_find(a, "cpu"), rmem = adm_resource_find(a, "memory"),
            rgpu = adm_resource_find(a, "nvidia.com/gpu");
        int64_t cpu = rcpu >= 0 ? d->req[rcpu] : 0, mem = rmem >= 0 ? d->req[rmem] : 0,
                gpu = rgpu >= 0 ? d->req[rgpu] : 0;
        /* A pod larger than any node can be is kept (quota may still be checked
         * without nodes); with nodes it simply never fits: clamp to values no
         * node reaches. */
        d->pod.cpu_milli = cpu > INT32_MAX ? INT32_MAX : (int32_t)cpu;
        d->pod.mem_mib = mem / (1 << 20) + (mem % (1 << 20) != 0);
        d->pod.gpus = gpu > 255 ? 255 : (uint8_t)gpu;
        d->pod.gpu_milli = gpu ? GPU_MILLI : 0;
        d->pod.model_mask = 0;
        npods += p->count;
    }
    for (uint32_t i = 0; i < w->nps; i++) {
        for (uint32_t r = 0; r < ADM_MAX_RES; r++)
            w->tot[r] += w->ps[i].req[r] * w->ps[i].count;
        w->npods_total += w->ps[i].count;
        if (w->ps[i].min_count < w->ps[i].count)
            w->partial = true;
    }
    w->pods = xcalloc(npods ? npods : 1, sizeof *w->pods);
    w->psa = xcalloc(w->nps, sizeof *w->psa);
    w->usage = xcalloc(a->nfr, sizeof *w->usage);
    w->state = s->active ? ADM_PENDING : ADM_INACTIVE;
    w->tried_gen = UINT64_MAX;
    a->nwl++;
    if (w->state == ADM_PENDING && w->cq != ADM_NONE)
        pend_insert(a, &a->cqs[w->cq], id);
    else if (w->state == ADM_PENDING)
        snprintf(w->reason, sizeof w->reason, "%s", w->no_queue_reason);
    else
        snprintf(w->reason, sizeof w->reason, "the workload is not active (spec.active: false)");
    return id;
}

/* ---- placement ---- */

static uint64_t podset_flavors(const struct adm_wl *w, const struct adm__assign *as, uint32_t i)
{
    uint64_t m = 0;
    for (uint32_t r = 0; r < ADM_MAX_RES; r++)
        if (as->flavor[i][r] != 0xff)
            m |= 1ULL << as->flavor[i][r];
    (void)w;
    return m;
}

void adm__unplace(struct adm *a, struct adm_wl *w)
{
    for (uint32_t k = 0; k < w->npods; k++) {
        struct adm_pod_place *pp = &w->pods[k];
        struct adm__node *n = &a->nodes[pp->node];
        struct adm__pool *p = &a->pools[n->pool];
        engine_remove(&p->en, &w->ps[pp->podset].pod, &pp->p);
    }
    w->npods = 0;
}

/* Whether node n carries every label of the pods' nodeSelector. */
static bool node_selected(const struct adm__node *n, const struct adm_podset *ps)
{
    for (uint32_t i = 0; i < ps->nnode_selector; i++)
        if (!labels_have(n->labels, n->nlabels, ps->node_selector[i].key,
                         ps->node_selector[i].value))
            return false;
    return true;
}

/* Whether every pool node serving the flavors in need satisfies the pods'
 * nodeSelector, so that the engine may choose among all of them. */
static bool selector_implied(const struct adm *a, const struct adm_podset *ps, uint64_t need)
{
    for (uint32_t i = 0; i < ps->nnode_selector; i++) {
        bool found = false;
        for (uint32_t f = 0; f < a->nfl && !found; f++)
            if ((need >> f) & 1)
                found = labels_have(a->fl[f].labels, a->fl[f].nlabels, ps->node_selector[i].key,
                                    ps->node_selector[i].value);
        if (!found)
            return false;
    }
    return true;
}

/* Best fit by scanning the nodes: for pods whose nodeSelector narrows the
 * nodes of their flavors, which the pools do not index. */
static bool place_podset_scan(struct adm *a, const struct adm_podset *ps, uint32_t psi,
                              uint64_t need, uint32_t count, struct adm_pod_place *out,
                              uint32_t *placed)
{
    *placed = 0;
    while (*placed < count) {
        int64_t best = -1, best_left = INT64_MAX;
        for (uint32_t g = 0; g < a->nnodes; g++) {
            const struct adm__node *n = &a->nodes[g];
            const struct adm__pool *pl = &a->pools[n->pool];
            if ((pl->flavors & need) != need || !node_selected(n, ps) ||
                !cluster_fits(&pl->c, n->local, &ps->pod))
                continue;
            int64_t left = (int64_t)pl->c.gpu_milli[n->local] * 1000000 + pl->c.cpu_free[n->local];
            if (left < best_left) {
                best_left = left;
                best = g;
            }
        }
        if (best < 0)
            return false;
        struct adm__node *n = &a->nodes[best];
        struct adm__pool *pl = &a->pools[n->pool];
        struct placement pc;
        memset(&pc, 0, sizeof pc);
        pc.node = n->local;
        if (!cluster_pick_gpus(&pl->c, n->local, &ps->pod, &pc))
            return false;
        engine_apply(&pl->en, &ps->pod, &pc);
        out[*placed].node = (uint32_t)best;
        out[*placed].podset = psi;
        out[*placed].p = pc;
        (*placed)++;
    }
    return true;
}

static bool place_podset_plain(struct adm *a, const struct adm_podset *ps, uint32_t psi,
                               uint64_t need, uint32_t count, struct adm_pod_place *out,
                               uint32_t *placed)
{
    const struct pod_req *pod = &ps->pod;
    if (ps->nnode_selector && !selector_implied(a, ps, need))
        return place_podset_scan(a, ps, psi, need, count, out, placed);
    *placed = 0;
    for (uint32_t p = 0; p < a->npools && *placed < count; p++) {
        struct adm__pool *pl = &a->pools[p];
        if ((pl->flavors & need) != need)
            continue;
        while (*placed < count) {
            struct placement pc;
            if (!engine_place(&pl->en, pod, &pc))
                break;
            out[*placed].node = pl->gid[pc.node];
            out[*placed].podset = psi;
            out[*placed].p = pc;
            (*placed)++;
        }
    }
    return *placed == count;
}

static void unplace_list(struct adm *a, const struct pod_req *pod, struct adm_pod_place *pp,
                         uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        struct adm__node *nd = &a->nodes[pp[k].node];
        engine_remove(&a->pools[nd->pool].en, pod, &pp[k].p);
    }
}

bool adm__place(struct adm *a, struct adm_wl *w, const struct adm__assign *as, char *reason,
                size_t rsize)
{
    w->npods = 0;
    if (a->nnodes == 0 && a->cfg.require_nodes) {
        if (reason)
            snprintf(reason, rsize, "no node is ready to place its pods");
        return false;
    }
    if (a->nnodes == 0)
        return true;
    a->stats.placements_tried++;
    for (uint32_t i = 0; i < w->nps; i++) {
        uint32_t count = as->count[i];
        w->psa[i].first_pod = w->npods;
        uint64_t need = podset_flavors(w, as, i);
        struct adm_podset *ps = &w->ps[i];
        uint32_t placed = 0;
        bool ok;
        int topo_fl = -1;
        for (uint32_t f = 0; f < a->nfl; f++)
            if (((need >> f) & 1) && a->fl[f].topo >= 0)
                topo_fl = (int)f;
        if (topo_fl >= 0 && (ps->required_level || ps->preferred_level)) {
            ok = adm__topo_place(a, w, i, (uint32_t)topo_fl, count, &w->pods[w->npods], reason,
                                 rsize);
            placed = ok ? count : 0;
        } else {
            ok = place_podset_plain(a, ps, i, need, count, &w->pods[w->npods], &placed);
            if (!ok && reason) {
                char fl[200] = "";
                size_t o = 0;
                for (uint32_t f = 0; f < a->nfl; f++)
                    if ((need >> f) & 1)
                        o += (size_t)snprintf(fl + o, o < sizeof fl ? sizeof fl - o : 0, "%s%s",
                                              o ? "," : "", a->fl[f].name);
                snprintf(reason, rsize,
                         "quota fits in flavor %s but no placement of all pods exists: only %u "
                         "of %u pods of pod set %s fit (each cpu %dm, memory %" PRId64 "Mi, %u GPUs)",
                         fl, placed, count, ps->name, ps->pod.cpu_milli, ps->pod.mem_mib,
                         ps->pod.gpus);
            }
        }
        if (!ok) {
            unplace_list(a, &ps->pod, &w->pods[w->npods], placed);
            adm__unplace(a, w);
            return false;
        }
        w->npods += count;
    }
    return true;
}

/* ---- flavor assignment ---- */

static bool group_of(const struct adm__cq *c, uint32_t r, uint32_t *g)
{
    for (uint32_t i = 0; i < c->ngroups; i++)
        for (uint32_t k = 0; k < c->groups[i].nres; k++)
            if (c->groups[i].res[k] == r) {
                *g = i;
                return true;
            }
    return false;
}

/* The first key of the pods' nodeSelector that the flavor's nodeLabels set to
 * another value, or NULL: as in Kueue, only keys the flavor names matter. */
static const char *selector_clash(const struct adm__flavor *f, const struct adm_podset *ps)
{
    for (uint32_t i = 0; i < ps->nnode_selector; i++)
        for (uint32_t k = 0; k < f->nlabels; k++)
            if (strcmp(f->labels[k].key, ps->node_selector[i].key) == 0 &&
                strcmp(f->labels[k].value, ps->node_selector[i].value) != 0)
                return ps->node_selector[i].key;
    return NULL;
}

bool adm__quota_fits(const struct adm *a, const int64_t *usage, const struct adm_wl *w,
                     const struct adm__assign *as, bool borrow)
{
    uint32_t q = a->cqs[w->cq].node;
    for (uint32_t fr = 0; fr < a->nfr; fr++) {
        int64_t v = as->usage[fr];
        if (!v)
            continue;
        size_t ix = (size_t)q * a->nfr + fr;
        if (!borrow && usage[ix] + v > a->subtree[ix])
            return false;
        if (v > adm__available(a, usage, q, fr))
            return false;
    }
    return true;
}

/* Places podset i of w in flavor f at w->pods[base..]. With reason NULL the
 * pods stay placed; otherwise this is a trial: the pods are removed again and
 * reason says why it failed. */
static bool try_place_podset(struct adm *a, struct adm_wl *w, uint32_t i, uint32_t f,
                             uint32_t count, uint32_t base, char *reason, size_t rsize)
{
    struct adm_podset *ps = &w->ps[i];
    bool ok;
    uint32_t placed = 0;
    if (a->fl[f].topo >= 0 && (ps->required_level || ps->preferred_level)) {
        ok = adm__topo_place(a, w, i, f, count, &w->pods[base], reason, rsize);
        placed = ok ? count : 0;
    } else {
        ok = place_podset_plain(a, ps, i, 1ULL << f, count, &w->pods[base], &placed);
        if (!ok && reason)
            snprintf(reason, rsize,
                     "quota fits in flavor %s but no placement of all pods exists: only %u of %u "
                     "pods of pod set %s fit (each cpu %dm, memory %" PRId64 "Mi, %u GPUs)",
                     a->fl[f].name, placed, count, ps->name, ps->pod.cpu_milli, ps->pod.mem_mib,
                     ps->pod.gpus);
        if (!ok)
            unplace_list(a, &ps->pod, &w->pods[base], placed);
    }
    if (ok && reason)
        unplace_list(a, &ps->pod, &w->pods[base], count);
    return ok;
}

/* Kueue's preemption oracle for flavor choice: -1 when the workload could not
 * preempt anything in flavor f, 0 when some victim is in its own queue, 1 when
 * every victim is in other queues (a reclaim). Single-podset workloads only. */
static int preempt_oracle(struct adm *a, struct adm_wl *w, const struct adm__assign *as,
                          const struct adm__group *G, uint32_t f, const int64_t *req,
                          uint32_t count)
{
    struct adm__assign t = *as;
    t.usage = xmalloc(a->nfr * sizeof *t.usage);
    memcpy(t.usage, as->usage, a->nfr * sizeof *t.usage);
    for (uint32_t x = 0; x < G->nres; x++) {
        uint32_t r = G->res[x];
        if (!req[r])
            continue;
        t.flavor[0][r] = (uint8_t)f;
        t.usage[adm__fr(f, r)] += req[r] * count;
    }
    uint32_t victims[256];
    enum adm_evict_reason why[256];
    uint32_t id = (uint32_t)(w - a->wl);
    uint32_t n = adm__preempt_targets(a, id, &t, victims, why, 256);
    free(t.usage);
    if (n == 0)
        return -1;
    for (uint32_t k = 0; k < n; k++)
        if (a->wl[victims[k]].cq == w->cq)
            return 0;
    return 1;
}

#define RAPPEND(...)                                                                               \
    do {                                                                                           \
        if (reason && rlen < rsize)                                                                \
            rlen += (size_t)snprintf(reason + rlen, rsize - rlen, __VA_ARGS__);                    \
    } while (0)

enum adm__mode adm__assign_flavors(struct adm *a, const int64_t *usage, struct adm_wl *w,
                                   struct adm__assign *as, bool place, char *reason,
                                   size_t rsize)
{
    struct adm__cq *c = &a->cqs[w->cq];
    uint32_t q = c->node;
    size_t rlen = 0;
    if (reason && rsize)
        reason[0] = '\0';
    memset(as->usage, 0, a->nfr * sizeof *as->usage);
    memset(as->flavor, 0xff, sizeof as->flavor);
    as->borrows = false;
    as->nodes_short = false;
    w->npods = 0;
    enum adm__mode worst = ADM__FIT;
    int pods_res = adm_resource_find(a, "pods");
    bool placed_any = false;
    for (uint32_t i = 0; i < w->nps; i++) {
        struct adm_podset *ps = &w->ps[i];
        uint32_t count = as->count[i];
        uint32_t base = w->npods;
        w->psa[i].first_pod = base;
        int64_t req[ADM_MAX_RES];
        memcpy(req, ps->req, sizeof req);
        uint32_t gdummy;
        if (pods_res >= 0 && req[pods_res] == 0 && group_of(c, (uint32_t)pods_res, &gdummy))
            req[pods_res] = 1;
        /* Groups touched by this podset, in group order. */
        bool touched[64] = {false};
        uint32_t ntouched = 0;
        for (uint32_t r = 0; r < a->nres; r++) {
            if (!req[r])
                continue;
            uint32_t g;
            if (!group_of(c, r, &g)) {
                RAPPEND("resource %s is not covered by ClusterQueue %s", a->res_name[r],
                        a->qn[q].name);
                worst = ADM__NOFIT;
                goto out;
            }
            if (!touched[g])
                ntouched++;
            touched[g] = true;
        }
        for (uint32_t g = 0; g < c->ngroups; g++) {
            if (!touched[g])
                continue;
            struct adm__group *G = &c->groups[g];
            int best = -1, best_rank = 100;
            bool best_borrow = false;
            enum adm__mode best_mode = ADM__NOFIT;
            size_t mark = rlen;
            for (uint32_t k = 0; k < G->nfl; k++) {
                uint32_t f = G->fl[k];
                enum adm__mode m = ADM__FIT;
                bool borrow = false;
                const char *clash = selector_clash(&a->fl[f], ps);
                if (clash) {
                    RAPPEND("%sflavor %s doesn't match the pods' nodeSelector %s", rlen ? "; " : "",
                            a->fl[f].name, clash);
                    continue;
                }
                for (uint32_t x = 0; x < G->nres; x++) {
                    uint32_t r = G->res[x];
                    if (!req[r])
                        continue;
                    uint32_t fr = adm__fr(f, r);
                    int64_t val = as->usage[fr] + req[r] * count;
                    size_t ix = (size_t)q * a->nfr + fr;
                    int64_t avail = c->defines[fr] ? adm__available(a, usage, q, fr) : 0;
                    if (c->defines[fr] && val <= avail) {
                        if (usage[ix] + val > a->subtree[ix])
                            borrow = true;
                    } else if (c->defines[fr] && val <= adm__potential(a, q, fr)) {
                        if (m < ADM__PREEMPT)
                            m = ADM__PREEMPT;
                        if (val > a->subtree[ix])
                            borrow = true;
                        char need[48];
                        if (reason)
                            fmt_qty(a, r, val - (avail > 0 ? avail : 0), need, sizeof need);
                        if (reason) {
                            rcat(reason, rsize, &rlen, rlen ? "; " : "");
                            rcat(reason, rsize, &rlen, "insufficient unused quota for ");
                            rcat(reason, rsize, &rlen, a->res_name[r]);
                            rcat(reason, rsize, &rlen, " in flavor ");
                            rcat(reason, rsize, &rlen, a->fl[f].name);
                            rcat(reason, rsize, &rlen, ", ");
                            rcat(reason, rsize, &rlen, need);
                            rcat(reason, rsize, &rlen, " more needed");
                        }
                    } else {
                        m = ADM__NOFIT;
                        char need[48], cap[48];
                        if (reason) {
                            fmt_qty(a, r, val, need, sizeof need);
                            fmt_qty(a, r, c->defines[fr] ? adm__potential(a, q, fr) : 0, cap,
                                    sizeof cap);
                        }
                        RAPPEND("%sinsufficient quota for %s in flavor %s: request %s exceeds "
                                "what ClusterQueue %s can ever get (%s)",
                                rlen ? "; " : "", a->res_name[r], a->fl[f].name, need,
                                a->qn[q].name, cap);
                    }
                }
                /* Kueue's order of preference: fit, then reclaim (every victim in
                 * other queues), then preempt, then preempt without candidates;
                 * within each, not borrowing first. */
                int sub = m == ADM__FIT ? 0 : m == ADM__PREEMPT ? 2 : 4;
                if (m == ADM__FIT && place && a->nnodes > 0 && ntouched == 1) {
                    /* Try the placement in this flavor (then undo it), so that a
                     * flavor whose quota fits but whose nodes are full yields to the
                     * next one. The chosen flavor is placed again below. */
                    char pr[300];
                    if (!try_place_podset(a, w, i, f, count, base, pr, sizeof pr)) {
                        RAPPEND("%s%s", rlen ? "; " : "", pr);
                        as->nodes_short = true;
                        m = ADM__PREEMPT;
                        sub = 2;
                    }
                }
                if (m == ADM__PREEMPT && G->nfl > 1 && w->nps == 1 && place) {
                    int o = preempt_oracle(a, w, as, G, f, req, count);
                    sub = o < 0 ? 3 : o == 1 ? 1 : 2;
                }
                int rk = sub * 2 + (borrow ? 1 : 0);
                if (rk < best_rank) {
                    best = (int)f;
                    best_rank = rk;
                    best_borrow = borrow;
                    best_mode = m;
                }
                if (m == ADM__FIT && !borrow)
                    break;
                if (m == ADM__FIT && borrow && c->when_borrow == ADM_MAY_STOP_SEARCH)
                    break;
                if (m == ADM__PREEMPT && c->when_preempt == ADM_MAY_STOP_SEARCH &&
                    (!borrow || c->when_borrow == ADM_MAY_STOP_SEARCH))
                    break;
            }
            if (best >= 0 && best_mode == ADM__FIT && place && a->nnodes > 0 && ntouched == 1) {
                /* Place the podset for good in the chosen flavor: the same state
                 * as the trial, so the same nodes. */
                if (try_place_podset(a, w, i, (uint32_t)best, count, base, NULL, 0)) {
                    w->npods = base + count;
                    placed_any = true;
                } else {
                    best_mode = ADM__PREEMPT;
                }
            }
            if (best < 0) {
                worst = ADM__NOFIT;
                goto out;
            }
            if (best_mode == ADM__FIT && reason) {
                /* the reasons of flavors tried before do not matter */
                rlen = mark;
                reason[rlen] = '\0';
            }
            for (uint32_t x = 0; x < G->nres; x++) {
                uint32_t r = G->res[x];
                if (!req[r])
                    continue;
                as->flavor[i][r] = (uint8_t)best;
                as->usage[adm__fr((uint32_t)best, r)] += req[r] * count;
            }
            if (best_borrow)
                as->borrows = true;
            if (best_mode > worst)
                worst = best_mode;
        }
    }
out:
    if (place && a->nnodes > 0 && worst == ADM__FIT) {
        /* Podsets whose resources span several groups are placed now. */
        bool all = true;
        for (uint32_t i = 0; i < w->nps && all; i++) {
            uint32_t ntouch = 0;
            bool seen[64] = {false};
            for (uint32_t r = 0; r < a->nres; r++) {
                uint32_t g;
                if (w->ps[i].req[r] && group_of(c, r, &g) && !seen[g]) {
                    seen[g] = true;
                    ntouch++;
                }
            }
            if (ntouch != 1)
                all = false;
        }
        if (!all) {
            adm__unplace(a, w);
            if (!adm__place(a, w, as, reason, rsize)) {
                worst = ADM__PREEMPT;
            }
        }
    } else if (placed_any) {
        adm__unplace(a, w);
    }
    return worst;
}

/* ---- deadlines (maximumExecutionTimeSeconds) ---- */

static void dl_push(struct adm *a, int64_t at, int64_t admitted, uint32_t wl)
{
    if (a->ndl == a->capdl) {
        a->capdl = a->capdl ? 2 * a->capdl : 64;
        a->dl = xreallocarray(a->dl, a->capdl, sizeof *a->dl);
    }
    uint32_t i = a->ndl++;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (a->dl[p].at <= at)
            break;
        a->dl[i] = a->dl[p];
        i = p;
    }
    a->dl[i].at = at;
    a->dl[i].admitted = admitted;
    a->dl[i].wl = wl;
}

static void dl_pop(struct adm *a)
{
    struct adm__deadline last = a->dl[--a->ndl];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        int64_t mv = last.at;
        if (l < a->ndl && a->dl[l].at < mv) {
            m = l;
            mv = a->dl[l].at;
        }
        if (r < a->ndl && a->dl[r].at < mv)
            m = r;
        if (m == i)
            break;
        a->dl[i] = a->dl[m];
        i = m;
    }
    if (a->ndl)
        a->dl[i] = last;
}

static bool dl_valid(const struct adm *a, const struct adm__deadline *d)
{
    const struct adm_wl *w = &a->wl[d->wl];
    return w->state == ADM_ADMITTED && w->admitted_ns == d->admitted;
}

int64_t adm_next_deadline(const struct adm *a)
{
    struct adm *m = (struct adm *)a;
    while (m->ndl && !dl_valid(m, &m->dl[0]))
        dl_pop(m);
    return m->ndl ? m->dl[0].at : ADM_NEVER;
}

/* ---- admission, release, eviction ---- */

int adm__cand_order(const struct adm *a, uint32_t x, uint32_t y)
{
    const struct adm_wl *p = &a->wl[x], *q = &a->wl[y];
    if (p->priority != q->priority)
        return p->priority < q->priority ? -1 : 1;
    if (p->admitted_ns != q->admitted_ns)
        return p->admitted_ns > q->admitted_ns ? -1 : 1;
    return strcmp(p->key, q->key);
}

static uint32_t order_pos(const struct adm *a, const struct adm__qnode *r, uint32_t id)
{
    uint32_t lo = 0, hi = r->norder;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (adm__cand_order(a, r->order[mid], id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void order_add(struct adm *a, uint32_t id)
{
    struct adm__qnode *r = &a->qn[a->qn[a->cqs[a->wl[id].cq].node].root];
    if (r->norder == r->caporder) {
        r->caporder = r->caporder ? 2 * r->caporder : 64;
        r->order = xreallocarray(r->order, r->caporder, sizeof *r->order);
    }
    uint32_t pos = order_pos(a, r, id);
    memmove(&r->order[pos + 1], &r->order[pos], (r->norder - pos) * sizeof *r->order);
    r->order[pos] = id;
    r->norder++;
}

static void order_del(struct adm *a, uint32_t id)
{
    struct adm__qnode *r = &a->qn[a->qn[a->cqs[a->wl[id].cq].node].root];
    uint32_t pos = order_pos(a, r, id);
    assert(pos < r->norder && r->order[pos] == id);
    memmove(&r->order[pos], &r->order[pos + 1], (r->norder - pos - 1) * sizeof *r->order);
    r->norder--;
}

static uint64_t flavor_gen_sum(const struct adm *a, const struct adm__cq *c)
{
    uint64_t s = 0;
    for (uint32_t g = 0; g < c->ngroups; g++)
        for (uint32_t k = 0; k < c->groups[g].nfl; k++)
            s += a->fl[c->groups[g].fl[k]].gen;
    return s;
}

static void bump(struct adm *a, const struct adm_wl *w)
{
    a->qn[a->qn[a->cqs[w->cq].node].root].gen++;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < w->nps; i++)
        for (uint32_t r = 0; r < ADM_MAX_RES; r++) {
            uint8_t f = w->psa[i].flavor[r];
            if (f != 0xff && !((seen >> f) & 1)) {
                seen |= 1ULL << f;
                a->fl[f].gen++;
            }
        }
}

static void admit(struct adm *a, uint32_t id, const struct adm__assign *as)
{
    struct adm_wl *w = &a->wl[id];
    for (uint32_t i = 0; i < w->nps; i++) {
        w->psa[i].count = as->count[i];
        memcpy(w->psa[i].flavor, as->flavor[i], sizeof w->psa[i].flavor);
    }
    memcpy(w->usage, as->usage, a->nfr * sizeof *w->usage);
    for (uint32_t fr = 0; fr < a->nfr; fr++)
        if (w->usage[fr] > a->max_wl_usage[fr])
            a->max_wl_usage[fr] = w->usage[fr];
    adm__apply_usage(a, a->usage, w, +1);
    w->state = ADM_ADMITTED;
    w->admitted_ns = a->now;
    w->reason[0] = '\0';
    pend_remove(&a->cqs[w->cq], id);
    struct adm__cq *c = &a->cqs[w->cq];
    if (c->nadm == c->capadm) {
        c->capadm = c->capadm ? 2 * c->capadm : 16;
        c->adm = xreallocarray(c->adm, c->capadm, sizeof *c->adm);
    }
    c->adm[c->nadm++] = id;
    order_add(a, id);
    bump(a, w);
    if (w->max_exec_ns > 0)
        dl_push(a, adm__end_if_started(w, a->now), a->now, id);
    a->stats.admissions++;
    a->changes++;
    if (a->hooks.admitted)
        a->hooks.admitted(a->hooks.ctx, id, a->now);
}

void adm__release(struct adm *a, uint32_t id)
{
    struct adm_wl *w = &a->wl[id];
    if (w->state != ADM_ADMITTED)
        return;
    struct adm__cq *c = &a->cqs[w->cq];
    for (uint32_t k = 0; k < c->nadm; k++)
        if (c->adm[k] == id) {
            c->adm[k] = c->adm[--c->nadm];
            break;
        }
    order_del(a, id);
    adm__apply_usage(a, a->usage, w, -1);
    adm__unplace(a, w);
    bump(a, w);
    w->ran_ns += a->now - w->admitted_ns;
    w->state = ADM_PENDING;
}

void adm__requeue(struct adm *a, uint32_t id)
{
    struct adm_wl *w = &a->wl[id];
    w->state = ADM_PENDING;
    w->tried_gen = UINT64_MAX;
    pend_insert(a, &a->cqs[w->cq], id);
}

static void evict(struct adm *a, uint32_t id, uint32_t by, enum adm_evict_reason why)
{
    struct adm_wl *w = &a->wl[id];
    adm__release(a, id);
    if (why == ADM_EV_DEACTIVATED) {
        w->state = ADM_INACTIVE;
        snprintf(w->reason, sizeof w->reason,
                 "deactivated: maximumExecutionTimeSeconds (%" PRId64 "s) exceeded",
                 w->max_exec_ns / 1000000000);
    } else {
        if (why != ADM_EV_STOPPED)
            w->evictions++;
        adm__requeue(a, id);
        if (by != ADM_NONE)
            snprintf(w->reason, sizeof w->reason, "preempted by %s", a->wl[by].key);
        else
            snprintf(w->reason, sizeof w->reason, "evicted: %s is stopped (HoldAndDrain)",
                     w->lq_drain ? "its LocalQueue" : a->qn[a->cqs[w->cq].node].name);
    }
    a->stats.evictions++;
    a->changes++;
    if (a->hooks.evicted)
        a->hooks.evicted(a->hooks.ctx, id, by, why, a->now);
}

void adm_finish(struct adm *a, uint32_t id, int64_t now)
{
    struct adm_wl *w = &a->wl[id];
    a->now = now;
    if (w->state == ADM_ADMITTED) {
        adm__release(a, id);
        w->state = ADM_FINISHED;
    } else if (w->state == ADM_PENDING && w->cq != ADM_NONE) {
        pend_remove(&a->cqs[w->cq], id);
        w->state = ADM_FINISHED;
    } else {
        w->state = ADM_FINISHED;
    }
    w->reason[0] = '\0';
}

/* Places w's pods where fixed[] says; returns how many could not be. */
static uint32_t place_fixed(struct adm *a, struct adm_wl *w, const struct adm_fixed_pod *fixed,
                            uint32_t nfixed)
{
    uint32_t dropped = 0;
    w->npods = 0;
    for (uint32_t i = 0; i < w->nps; i++)
        w->psa[i].first_pod = 0;
    /* Pods are kept grouped by pod set, as adm__place keeps them. */
    for (uint32_t i = 0; i < w->nps; i++) {
        w->psa[i].first_pod = w->npods;
        for (uint32_t k = 0; k < nfixed; k++) {
            const struct adm_fixed_pod *fp = &fixed[k];
            if (fp->podset != i)
                continue;
            uint32_t g = 0;
            while (g < a->nnodes && strcmp(a->nodes[g].name, fp->node) != 0)
                g++;
            const struct adm_podset *ps = &w->ps[i];
            if (g == a->nnodes || w->npods == w->npods_total || fp->ngpu != ps->pod.gpus) {
                dropped++;
                continue;
            }
            struct adm__node *n = &a->nodes[g];
            struct adm__pool *pl = &a->pools[n->pool];
            bool ok = cluster_fits(&pl->c, n->local, &ps->pod);
            const uint16_t *free_milli = cluster_gpus(&pl->c, n->local);
            for (uint8_t x = 0; ok && x < fp->ngpu; x++)
                ok = fp->gpu[x] < pl->c.gpu_n[n->local] &&
                     free_milli[fp->gpu[x]] >= (ps->pod.gpu_milli ? ps->pod.gpu_milli : 1000);
            if (!ok) {
                dropped++;
                continue;
            }
            struct placement pc;
            memset(&pc, 0, sizeof pc);
            pc.node = n->local;
            pc.ngpu = fp->ngpu;
            memcpy(pc.gpu, fp->gpu, fp->ngpu);
            engine_apply(&pl->en, &ps->pod, &pc);
            struct adm_pod_place *pp = &w->pods[w->npods++];
            pp->node = g;
            pp->podset = i;
            pp->p = pc;
        }
    }
    return dropped;
}

static int admit_existing(struct adm *a, uint32_t id, const char *const *fl,
                          const struct adm_fixed_pod *fixed, uint32_t nfixed, int64_t at,
                          uint32_t *dropped, struct err *e)
{
    struct adm_wl *w = &a->wl[id];
    if (w->state != ADM_PENDING || w->cq == ADM_NONE)
        return errf(e, EINVAL, "Workload %s: status.admission: not pending in a known "
                    "ClusterQueue", w->key);
    struct adm__assign as;
    as.usage = a->tmp_usage;
    memset(as.usage, 0, a->nfr * sizeof *as.usage);
    memset(as.flavor, 0xff, sizeof as.flavor);
    int pods_res = adm_resource_find(a, "pods");
    struct adm__cq *c = &a->cqs[w->cq];
    for (uint32_t i = 0; i < w->nps; i++) {
        as.count[i] = w->ps[i].count;
        for (uint32_t r = 0; r < a->nres; r++) {
            int64_t req = w->ps[i].req[r];
            uint32_t g;
            if ((int)r == pods_res && !req && group_of(c, r, &g))
                req = 1;
            if (!req)
                continue;
            const char *name = fl ? fl[i * ADM_MAX_RES + r] : NULL;
            int f = -1;
            if (name)
                f = flavor_find(a, name);
            else if (group_of(c, r, &g) && c->groups[g].nfl)
                f = c->groups[g].fl[0];
            if (f < 0)
                return errf(e, ENOENT, "Workload %s: status.admission: no flavor for %s%s%s",
                            w->key, a->res_name[r], name ? ": unknown flavor " : "",
                            name ? name : "");
            as.flavor[i][r] = (uint8_t)f;
            as.usage[adm__fr((uint32_t)f, r)] += req * as.count[i];
        }
    }
    a->now = at;
    char why[256];
    if (fixed) {
        uint32_t d = place_fixed(a, w, fixed, nfixed);
        if (dropped)
            *dropped = d;
    } else if (!adm__place(a, w, &as, why, sizeof why)) {
        w->npods = 0; /* quota is held even if the nodes we know cannot hold it */
    }
    admit(a, id, &as);
    return 0;
}

int adm_admit_existing(struct adm *a, uint32_t id, const char *const *fl, int64_t at,
                       struct err *e)
{
    return admit_existing(a, id, fl, NULL, 0, at, NULL, e);
}

int adm_admit_placed(struct adm *a, uint32_t id, const char *const *fl,
                     const struct adm_fixed_pod *pods, uint32_t npods, int64_t at,
                     uint32_t *dropped, struct err *e)
{
    if (dropped)
        *dropped = 0;
    return admit_existing(a, id, fl, pods ? pods : (const struct adm_fixed_pod *)"", npods, at,
                          dropped, e);
}

/* ---- the cycle ---- */

static void fail(struct adm *a, uint32_t id, bool nodes)
{
    struct adm_wl *w = &a->wl[id];
    struct adm__cq *c = &a->cqs[w->cq];
    w->tried_gen = a->qn[a->qn[c->node].root].gen;
    w->tried_gen2 = flavor_gen_sum(a, c);
    w->fail_nodes = nodes;
    if (c->strategy == ADM_STRICT_FIFO)
        c->blocked = true;
}

static bool skippable(const struct adm *a, const struct adm_wl *w)
{
    const struct adm__cq *c = &a->cqs[w->cq];
    /* With backfill, reservations are remade every cycle, so a blocked head must
     * be looked at every cycle. */
    if (a->cfg.backfill)
        return false;
    if (w->tried_gen != a->qn[a->qn[c->node].root].gen)
        return false;
    return !w->fail_nodes || w->tried_gen2 == flavor_gen_sum(a, c);
}

static bool partial_ok(const struct adm_wl *w)
{
    return w->partial;
}

/* Whether w must fail as an earlier workload of its queue failed in this cycle:
 * nothing in the cohort tree has changed since, w asks for at least as much of
 * every resource, and has no more priority and no earlier creation (so every
 * preemption candidate it could have, the other had too). Quota grows
 * monotonically harder with the request, so it cannot fit where the other did
 * not. Failures about nodes and workloads that allow partial admission are
 * never used, as node shapes and counts break the argument. */
static int dominated(const struct adm *a, const struct adm_wl *w)
{
    const struct adm__cq *c = &a->cqs[w->cq];
    if (!c->nfails || partial_ok(w))
        return -1;
    uint64_t gen = a->qn[a->qn[c->node].root].gen;
    const int64_t *tot = w->tot;
    uint32_t nres = a->nres;
    for (uint32_t k = 0; k < c->nfails; k++) {
        const struct adm__fail *f = &c->fails[k];
        if (f->gen != gen || w->priority > f->priority || w->created_ns < f->created)
            continue;
        bool ge = w->npods_total >= f->npods;
        for (uint32_t r = 0; r < nres && ge; r++)
            ge = tot[r] >= f->tot[r];
        if (ge)
            return (int)k;
    }
    return -1;
}

static void note_failure(struct adm *a, uint32_t id)
{
    struct adm_wl *w = &a->wl[id];
    struct adm__cq *c = &a->cqs[w->cq];
    if (partial_ok(w))
        return;
    struct adm__fail f;
    memcpy(f.tot, w->tot, sizeof f.tot);
    f.npods = w->npods_total;
    f.priority = w->priority;
    f.created = w->created_ns;
    f.gen = a->qn[a->qn[c->node].root].gen;
    f.wl = id;
    uint32_t slot = c->nfails < 4 ? c->nfails++ : (uint32_t)(a->stats.nominations % 4);
    c->fails[slot] = f;
}

static void set_counts(struct adm__assign *as, const struct adm_wl *w)
{
    for (uint32_t i = 0; i < w->nps; i++)
        as->count[i] = w->ps[i].count;
}

/* Partial admission: the largest reduction d (counts max(min, count - d)) that
 * fits, found by binary search as Kueue's podset reducer does. */
static bool try_partial(struct adm *a, uint32_t id, struct adm__assign *as)
{
    struct adm_wl *w = &a->wl[id];
    uint32_t maxd = 0;
    for (uint32_t i = 0; i < w->nps; i++)
        if (w->ps[i].count - w->ps[i].min_count > maxd)
            maxd = w->ps[i].count - w->ps[i].min_count;
    if (maxd == 0)
        return false;
    uint32_t lo = 1, hi = maxd, best = 0;
    while (lo <= hi) {
        uint32_t d = lo + (hi - lo) / 2;
        for (uint32_t i = 0; i < w->nps; i++) {
            uint32_t c = w->ps[i].count, m = w->ps[i].min_count;
            as->count[i] = c - m > d ? c - d : m;
        }
        enum adm__mode mo = adm__assign_flavors(a, a->usage, w, as, true, NULL, 0);
        if (mo == ADM__FIT) {
            adm__unplace(a, w);
            best = d;
            hi = d - 1;
        } else {
            lo = d + 1;
        }
    }
    if (!best)
        return false;
    for (uint32_t i = 0; i < w->nps; i++) {
        uint32_t c = w->ps[i].count, m = w->ps[i].min_count;
        as->count[i] = c - m > best ? c - best : m;
    }
    return adm__assign_flavors(a, a->usage, w, as, true, NULL, 0) == ADM__FIT;
}

static const char *stop_name(enum adm_stop s)
{
    return s == ADM_STOP_HOLD ? "Hold" : "HoldAndDrain";
}

/* Tries to admit workload id now. Returns true when it was admitted. */
static bool process(struct adm *a, uint32_t id)
{
    struct adm_wl *w = &a->wl[id];
    struct adm__cq *c = &a->cqs[w->cq];
    const char *cqn = a->qn[c->node].name;
    a->stats.nominations++;
    if (c->inactive) {
        snprintf(w->reason, sizeof w->reason, "%s", c->inactive);
        fail(a, id, false);
        return false;
    }
    if (c->stop != ADM_STOP_NONE) {
        snprintf(w->reason, sizeof w->reason, "ClusterQueue %s is stopped (stopPolicy %s)", cqn,
                 stop_name(c->stop));
        fail(a, id, false);
        return false;
    }
    if (w->lq_held) {
        snprintf(w->reason, sizeof w->reason, "its LocalQueue is stopped (stopPolicy)");
        fail(a, id, false);
        return false;
    }
    int d = c->strategy == ADM_BEST_EFFORT_FIFO && !a->cfg.backfill ? dominated(a, w) : -1;
    if (d >= 0) {
        const struct adm_wl *o = &a->wl[c->fails[d].wl];
        size_t n = 0;
        w->reason[0] = '\0';
        rcat(w->reason, sizeof w->reason, &n, o->reason);
        rcat(w->reason, sizeof w->reason, &n, " (as for ");
        rcat(w->reason, sizeof w->reason, &n, o->key);
        rcat(w->reason, sizeof w->reason, &n, ", which asks for no more)");
        fail(a, id, false);
        return false;
    }
    struct adm__assign as;
    as.usage = a->tmp_usage;
    set_counts(&as, w);
    char reason[sizeof w->reason];
    enum adm__mode m = adm__assign_flavors(a, a->usage, w, &as, true, reason, sizeof reason);
    if (m == ADM__FIT) {
        if (a->nresv && !adm__resv_allows(a, id, &as, reason, sizeof reason)) {
            adm__unplace(a, w);
            snprintf(w->reason, sizeof w->reason, "%s", reason);
            fail(a, id, true);
            return false;
        }
        admit(a, id, &as);
        return true;
    }
    bool nodes = as.nodes_short;
    if (m == ADM__PREEMPT) {
        uint32_t victims[256];
        enum adm_evict_reason why[256];
        uint32_t nv = adm__preempt_targets(a, id, &as, victims, why, 256);
        if (nv) {
            for (uint32_t k = 0; k < nv; k++)
                evict(a, victims[k], id, why[k]);
            set_counts(&as, w);
            if (adm__assign_flavors(a, a->usage, w, &as, true, reason, sizeof reason) ==
                ADM__FIT) {
                admit(a, id, &as);
                return true;
            }
        }
    }
    struct adm__assign pa;
    pa.usage = a->tmp_usage2;
    if (try_partial(a, id, &pa)) {
        if (!a->nresv || adm__resv_allows(a, id, &pa, NULL, 0)) {
            admit(a, id, &pa);
            return true;
        }
        adm__unplace(a, w);
    }
    size_t n = 0;
    w->reason[0] = '\0';
    rcat(w->reason, sizeof w->reason, &n, "couldn't admit in ClusterQueue ");
    rcat(w->reason, sizeof w->reason, &n, cqn);
    rcat(w->reason, sizeof w->reason, &n, ": ");
    rcat(w->reason, sizeof w->reason, &n, reason);
    if (m == ADM__PREEMPT && !nodes)
        rcat(w->reason, sizeof w->reason, &n, "; no workload can be preempted for it");
    fail(a, id, nodes);
    if (!nodes && !a->cfg.backfill)
        note_failure(a, id);
    if (a->cfg.backfill && m == ADM__PREEMPT && a->nresv < a->cfg.max_reservations) {
        set_counts(&as, w);
        adm__assign_flavors(a, a->usage, w, &as, false, NULL, 0);
        adm__resv_make(a, id, &as);
    }
    return false;
}

static void expire(struct adm *a)
{
    while (a->ndl) {
        if (!dl_valid(a, &a->dl[0])) {
            dl_pop(a);
            continue;
        }
        if (a->dl[0].at > a->now)
            break;
        uint32_t id = a->dl[0].wl;
        dl_pop(a);
        evict(a, id, ADM_NONE, ADM_EV_DEACTIVATED);
    }
}

static void drain(struct adm *a)
{
    if (!a->any_drain)
        return;
    for (uint32_t i = 0; i < a->nwl; i++) {
        struct adm_wl *w = &a->wl[i];
        if (w->state == ADM_ADMITTED &&
            (a->cqs[w->cq].stop == ADM_STOP_HOLD_AND_DRAIN || w->lq_drain))
            evict(a, i, ADM_NONE, ADM_EV_STOPPED);
    }
}

struct head {
    uint32_t wl;
    bool borrow;
};

static int cmp_head(const struct adm *a, const struct head *x, const struct head *y)
{
    if (x->borrow != y->borrow)
        return x->borrow ? 1 : -1;
    return cmp_queue_order(a, x->wl, y->wl);
}

static int cmp_head_q(const void *x, const void *y, void *ctx)
{
    return cmp_head(ctx, x, y);
}

/* The order is total (names are unique), so qsort gives the one answer. */
static void sort_heads(const struct adm *a, struct head *h, uint32_t n)
{
    qsort_r(h, n, sizeof *h, cmp_head_q, (void *)a);
}

/* Fair-sharing tournament: the winner among the heads under quota node q. A
 * child subtree that does not borrow with its candidate wins over one that
 * does; then the lower dominant resource share (with the candidate's usage
 * simulated); then priority and age. Returns the head index or -1. */
static int fs_pick(struct adm *a, uint32_t q, struct head *h, const int32_t *head_of_cq,
                   const bool *done)
{
    struct adm__qnode *n = &a->qn[q];
    if (n->is_cq) {
        int k = head_of_cq[n->cq];
        return k >= 0 && !done[k] ? k : -1;
    }
    int best = -1;
    bool best_borrow = false;
    int64_t best_drs = 0;
    for (uint32_t i = 0; i < n->nkids; i++) {
        uint32_t kid = n->kids[i];
        int k = fs_pick(a, kid, h, head_of_cq, done);
        if (k < 0)
            continue;
        struct adm_wl *w = &a->wl[h[k].wl];
        /* Simulate the candidate's usage, measure the kid, undo. */
        struct adm__assign as;
        as.usage = a->tmp_usage;
        set_counts(&as, w);
        adm__assign_flavors(a, a->usage, w, &as, false, NULL, 0);
        uint32_t cqn = a->cqs[w->cq].node;
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            if (as.usage[fr])
                adm__add_usage(a, a->usage, cqn, fr, as.usage[fr]);
        bool borrow = adm__borrowing(a, a->usage, kid, NULL);
        int64_t drs = adm__drs(a, a->usage, kid, NULL, NULL);
        for (uint32_t fr = 0; fr < a->nfr; fr++)
            if (as.usage[fr])
                adm__add_usage(a, a->usage, cqn, fr, -as.usage[fr]);
        bool better;
        if (best < 0)
            better = true;
        else if (borrow != best_borrow)
            better = !borrow;
        else if (drs != best_drs)
            better = drs < best_drs;
        else
            better = cmp_queue_order(a, h[k].wl, h[best].wl) < 0;
        if (better) {
            best = k;
            best_borrow = borrow;
            best_drs = drs;
        }
    }
    return best;
}

uint32_t adm_cycle(struct adm *a, int64_t now)
{
    a->now = now;
    a->changes = 0;
    a->stats.cycles++;
    expire(a);
    drain(a);
    adm__resv_clear(a);
    bool *scan = xcalloc(a->ncq ? a->ncq : 1, sizeof *scan);
    uint64_t *g0 = xcalloc(a->ncq ? a->ncq : 1, sizeof *g0);
    uint64_t *g1 = xcalloc(a->ncq ? a->ncq : 1, sizeof *g1);
    struct head *h = xcalloc(a->ncq ? a->ncq : 1, sizeof *h);
    int32_t *head_of_cq = xcalloc(a->ncq ? a->ncq : 1, sizeof *head_of_cq);
    bool *done = xcalloc(a->ncq ? a->ncq : 1, sizeof *done);
    for (uint32_t i = 0; i < a->ncq; i++) {
        struct adm__cq *c = &a->cqs[i];
        c->cursor = 0;
        c->blocked = false;
        c->nfails = 0;
        g0[i] = a->qn[a->qn[c->node].root].gen;
        g1[i] = flavor_gen_sum(a, c);
        scan[i] = c->npend > 0 && (c->dirty || g0[i] != c->seen_gen || g1[i] != c->seen_fl ||
                                   a->cfg.backfill);
    }
    /* The queues still to be looked at in this cycle; a queue leaves the list
     * once its pending list is exhausted or it is blocked. */
    uint32_t *live = xmalloc((a->ncq ? a->ncq : 1) * sizeof *live);
    uint32_t nlive = 0;
    a->relive = xmalloc((a->ncq ? a->ncq : 1) * sizeof *a->relive);
    a->nrelive = 0;
    a->in_cycle = true;
    for (uint32_t i = 0; i < a->ncq; i++) {
        head_of_cq[i] = -1;
        a->cqs[i].live = scan[i];
        a->cqs[i].scanned = scan[i];
        if (scan[i])
            live[nlive++] = i;
    }
    for (;;) {
        for (uint32_t k = 0; k < a->nrelive; k++) {
            live[nlive++] = a->relive[k];
            scan[a->relive[k]] = true;
        }
        a->nrelive = 0;
        uint32_t nh = 0;
        uint32_t keep = 0;
        for (uint32_t li = 0; li < nlive; li++) {
            uint32_t i = live[li];
            struct adm__cq *c = &a->cqs[i];
            head_of_cq[i] = -1;
            if (c->blocked || c->cursor >= c->npend) {
                c->live = false;
                continue;
            }
            live[keep++] = i;
            while (c->cursor < c->npend) {
                uint32_t id = c->pend[c->cursor++];
                struct adm_wl *w = &a->wl[id];
                if (w->state != ADM_PENDING)
                    continue;
                if (skippable(a, w)) {
                    if (c->strategy == ADM_STRICT_FIFO) {
                        c->blocked = true;
                        break;
                    }
                    continue;
                }
                head_of_cq[i] = (int32_t)nh;
                h[nh].wl = id;
                h[nh].borrow = false;
                nh++;
                break;
            }
        }
        nlive = keep;
        if (nh == 0)
            break;
        if (!a->cfg.fair_sharing) {
            for (uint32_t k = 0; k < nh; k++) {
                struct adm_wl *w = &a->wl[h[k].wl];
                const struct adm__cq *hc = &a->cqs[w->cq];
                /* A head that must fail as an earlier one of its queue did is
                 * not nominated: it changes nothing wherever it goes, and
                 * process() checks again. */
                if (hc->strategy == ADM_BEST_EFFORT_FIFO && !a->cfg.backfill &&
                    dominated(a, w) >= 0) {
                    h[k].borrow = true;
                    continue;
                }
                struct adm__assign as;
                as.usage = a->tmp_usage;
                as.borrows = false;
                set_counts(&as, w);
                if (!hc->inactive)
                    adm__assign_flavors(a, a->usage, w, &as, false, NULL, 0);
                h[k].borrow = as.borrows;
            }
            sort_heads(a, h, nh);
            for (uint32_t k = 0; k < nh; k++)
                process(a, h[k].wl);
        } else {
            memset(done, 0, nh * sizeof *done);
            for (uint32_t left = nh; left > 0; left--) {
                int best = -1;
                for (uint32_t q = 0; q < a->nqn; q++) {
                    if (a->qn[q].parent != ADM_NONE)
                        continue;
                    int k = fs_pick(a, q, h, head_of_cq, done);
                    if (k >= 0 && (best < 0 || cmp_queue_order(a, h[k].wl, h[best].wl) < 0))
                        best = k;
                }
                if (best < 0)
                    break;
                done[best] = true;
                process(a, h[best].wl);
            }
        }
    }
    for (uint32_t i = 0; i < a->ncq; i++) {
        struct adm__cq *c = &a->cqs[i];
        if (!scan[i])
            continue;
        c->seen_gen = g0[i];
        c->seen_fl = g1[i];
        c->dirty = false;
        if (c->strategy == ADM_STRICT_FIFO && c->blocked) {
            /* Everything behind a blocked StrictFIFO head waits for it. */
            uint32_t headwl = ADM_NONE;
            for (uint32_t k = 0; k < c->npend; k++) {
                struct adm_wl *w = &a->wl[c->pend[k]];
                if (w->state != ADM_PENDING)
                    continue;
                if (headwl == ADM_NONE) {
                    headwl = c->pend[k];
                    continue;
                }
                snprintf(w->reason, sizeof w->reason,
                         "waits behind %s: ClusterQueue %s is StrictFIFO", a->wl[headwl].key,
                         a->qn[c->node].name);
            }
        }
    }
    a->in_cycle = false;
    free(a->relive);
    a->relive = NULL;
    free(live);
    free(scan);
    free(g0);
    free(g1);
    free(h);
    free(head_of_cq);
    free(done);
    return a->changes;
}

uint32_t adm_settle(struct adm *a, int64_t now)
{
    uint32_t total = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t n = adm_cycle(a, now);
        total += n;
        if (n == 0)
            break;
    }
    return total;
}

/* ---- accessors ---- */

uint32_t adm_nworkloads(const struct adm *a)
{
    return a->nwl;
}

const struct adm_wl *adm_workload(const struct adm *a, uint32_t wl)
{
    return wl < a->nwl ? &a->wl[wl] : NULL;
}

const char *adm_flavor_name(const struct adm *a, uint32_t f)
{
    return f < a->nfl ? a->fl[f].name : NULL;
}

const char *adm_resource_name(const struct adm *a, uint32_t r)
{
    return r < a->nres ? a->res_name[r] : NULL;
}

const char *adm_node_name(const struct adm *a, uint32_t n)
{
    return n < a->nnodes ? a->nodes[n].name : NULL;
}

const char *adm_cq_name(const struct adm *a, uint32_t cq)
{
    return cq < a->ncq ? a->qn[a->cqs[cq].node].name : NULL;
}

uint32_t adm_ncqs(const struct adm *a)
{
    return a->ncq;
}

uint32_t adm_nnodes(const struct adm *a)
{
    return a->nnodes;
}

int64_t adm_cq_usage(const struct adm *a, uint32_t cq, uint32_t res)
{
    int64_t s = 0;
    for (uint32_t f = 0; f < a->nfl; f++)
        s += a->usage[(size_t)a->cqs[cq].node * a->nfr + adm__fr(f, res)];
    return s;
}

int64_t adm_cq_nominal(const struct adm *a, uint32_t cq, uint32_t res)
{
    int64_t s = 0;
    for (uint32_t f = 0; f < a->nfl; f++)
        s += a->nominal[(size_t)a->cqs[cq].node * a->nfr + adm__fr(f, res)];
    return s;
}

int64_t adm_cq_weighted_share(const struct adm *a, uint32_t cq)
{
    return adm__drs(a, a->usage, a->cqs[cq].node, NULL, NULL);
}

const struct adm_stats *adm_stats(const struct adm *a)
{
    return &a->stats;
}
