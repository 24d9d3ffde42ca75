/*
 * admit_topo: topology-aware placement of a gang (Kueue's Topology levels with
 * podset-required-topology and podset-preferred-topology).
 *
 * For a flavor with a Topology, its nodes are grouped into domains at every
 * level (a domain at level l is the tuple of label values of levels 0..l).
 * For a pod set of N pods, each node's capacity is the number of such pods it
 * can still take; a domain's capacity is the sum over its nodes.
 *
 * - Required level L: the pods go to one domain of level L: the one with the
 *   smallest capacity that still holds all N (best fit), so that large free
 *   domains stay whole for the large gangs that need them. Ties go to the
 *   domain whose name sorts first.
 * - Preferred level L: as required at L, else at the levels above, else spread
 *   over the top-level domains.
 * - Inside the chosen domain the pods descend level by level: children by
 *   capacity, largest first, until the remainder fits in one child, which is
 *   then the smallest child that holds it. This keeps a gang on as few racks
 *   and hosts as possible.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sched/admit_int.h"

struct adm__tdomains {
    uint32_t nlevels;
    uint32_t nn;       /* nodes of the flavor that carry every level label */
    uint32_t *node;    /* global node ids */
    uint32_t *dom;     /* dom[k * nlevels + l]: domain of node k at level l */
    uint32_t ndom[ADM_MAX_LEVELS];
    char **dname[ADM_MAX_LEVELS];   /* full path names */
    uint32_t *dparent[ADM_MAX_LEVELS];
};

static const char *label_of(const struct adm__node *n, const char *key)
{
    for (uint32_t i = 0; i < n->nlabels; i++)
        if (strcmp(n->labels[i].key, key) == 0)
            return n->labels[i].value;
    return NULL;
}

int adm__topo_build(struct adm *a, struct err *e)
{
    (void)e;
    for (uint32_t f = 0; f < a->nfl; f++) {
        struct adm__flavor *fl = &a->fl[f];
        if (fl->topo < 0)
            continue;
        const struct adm__topo *t = &a->topos[fl->topo];
        struct adm__tdomains *td = xcalloc(1, sizeof *td);
        td->nlevels = t->nlevels;
        td->node = xcalloc(a->nnodes ? a->nnodes : 1, sizeof *td->node);
        td->dom = xcalloc((size_t)(a->nnodes ? a->nnodes : 1) * t->nlevels, sizeof *td->dom);
        for (uint32_t i = 0; i < a->nnodes; i++) {
            const struct adm__node *n = &a->nodes[i];
            if (!((a->pools[n->pool].flavors >> f) & 1))
                continue;
            bool all = true;
            for (uint32_t l = 0; l < t->nlevels && all; l++)
                all = label_of(n, t->levels[l]) != NULL;
            if (!all)
                continue;
            uint32_t k = td->nn++;
            td->node[k] = i;
            char path[1024] = "";
            size_t o = 0;
            uint32_t parent = ADM_NONE;
            for (uint32_t l = 0; l < t->nlevels; l++) {
                o += (size_t)snprintf(path + o, o < sizeof path ? sizeof path - o : 0, "%s%s",
                                      l ? "/" : "", label_of(n, t->levels[l]));
                uint32_t d = 0;
                while (d < td->ndom[l] && strcmp(td->dname[l][d], path) != 0)
                    d++;
                if (d == td->ndom[l]) {
                    td->dname[l] = xreallocarray(td->dname[l], d + 1, sizeof *td->dname[l]);
                    td->dparent[l] = xreallocarray(td->dparent[l], d + 1, sizeof *td->dparent[l]);
                    td->dname[l][d] = xstrdup(path);
                    td->dparent[l][d] = parent;
                    td->ndom[l]++;
                }
                td->dom[(size_t)k * t->nlevels + l] = d;
                parent = d;
            }
        }
        fl->td = td;
    }
    return 0;
}

void adm__topo_free(struct adm *a)
{
    for (uint32_t f = 0; f < a->nfl; f++) {
        struct adm__tdomains *td = a->fl[f].td;
        if (!td)
            continue;
        for (uint32_t l = 0; l < td->nlevels; l++) {
            for (uint32_t d = 0; d < td->ndom[l]; d++)
                free(td->dname[l][d]);
            free(td->dname[l]);
            free(td->dparent[l]);
        }
        free(td->node);
        free(td->dom);
        free(td);
        a->fl[f].td = NULL;
    }
}

/* How many more pods like req fit on a pool node, counting whole GPUs. */
static uint32_t node_cap(const struct cluster *c, uint32_t n, const struct pod_req *req,
                         uint32_t limit)
{
    int64_t cap = limit;
    if (req->cpu_milli > 0 && c->cpu_free[n] / req->cpu_milli < cap)
        cap = c->cpu_free[n] / req->cpu_milli;
    if (req->mem_mib > 0 && c->mem_free[n] / req->mem_mib < cap)
        cap = c->mem_free[n] / req->mem_mib;
    if (req->gpus > 0 && req->gpu_milli > 0) {
        int64_t g = req->gpu_milli >= GPU_MILLI ? c->gpu_whole[n] / req->gpus : c->gpu_whole[n];
        if (g < cap)
            cap = g;
    }
    return cap > 0 ? (uint32_t)cap : 0;
}

struct tctx {
    struct adm *a;
    struct adm__tdomains *td;
    const struct pod_req *pod;
    uint32_t psi;
    uint32_t *ncap;            /* per flavor node k */
    uint64_t *dcap[ADM_MAX_LEVELS];
    struct adm_pod_place *out;
    uint32_t nout;
};

static bool put_on_node(struct tctx *t, uint32_t k, uint32_t n)
{
    struct adm *a = t->a;
    uint32_t g = t->td->node[k];
    struct adm__node *nd = &a->nodes[g];
    struct adm__pool *pl = &a->pools[nd->pool];
    for (uint32_t j = 0; j < n; j++) {
        struct placement p;
        memset(&p, 0, sizeof p);
        p.node = nd->local;
        if (!cluster_fits(&pl->c, nd->local, t->pod) ||
            !cluster_pick_gpus(&pl->c, nd->local, t->pod, &p))
            return false;
        engine_apply(&pl->en, t->pod, &p);
        t->out[t->nout].node = g;
        t->out[t->nout].podset = t->psi;
        t->out[t->nout].p = p;
        t->nout++;
    }
    return true;
}

/* Picks items (domains at level l under parent, or nodes when l == nlevels)
 * for n pods: largest first until the remainder fits in one, then the smallest
 * that holds it. */
static bool fill(struct tctx *t, uint32_t l, uint32_t parent, uint32_t n)
{
    struct adm__tdomains *td = t->td;
    uint32_t nitems = l < td->nlevels ? td->ndom[l] : td->nn;
    bool *used = xcalloc(nitems ? nitems : 1, sizeof *used);
    bool ok = true;
    while (n > 0) {
        /* candidates: children of parent */
        int64_t bestfit = -1, largest = -1;
        uint64_t bf_cap = UINT64_MAX, lg_cap = 0;
        for (uint32_t i = 0; i < nitems; i++) {
            if (used[i])
                continue;
            uint64_t cap;
            if (l < td->nlevels) {
                if (l > 0 && td->dparent[l][i] != parent)
                    continue;
                cap = t->dcap[l][i];
            } else {
                if (td->dom[(size_t)i * td->nlevels + td->nlevels - 1] != parent)
                    continue;
                cap = t->ncap[i];
            }
            if (cap == 0)
                continue;
            if (cap >= n && cap < bf_cap) {
                bf_cap = cap;
                bestfit = i;
            }
            if (cap > lg_cap) {
                lg_cap = cap;
                largest = i;
            }
        }
        int64_t pick = bestfit >= 0 ? bestfit : largest;
        if (pick < 0) {
            ok = false;
            break;
        }
        used[pick] = true;
        uint64_t cap = bestfit >= 0 ? bf_cap : lg_cap;
        uint32_t take = cap < n ? (uint32_t)cap : n;
        if (l < td->nlevels)
            ok = fill(t, l + 1, (uint32_t)pick, take);
        else
            ok = put_on_node(t, (uint32_t)pick, take);
        if (!ok)
            break;
        n -= take;
    }
    free(used);
    return ok;
}

static int level_index(const struct adm *a, const struct adm__flavor *fl, const char *name)
{
    const struct adm__topo *t = &a->topos[fl->topo];
    for (uint32_t l = 0; l < t->nlevels; l++)
        if (strcmp(t->levels[l], name) == 0)
            return (int)l;
    return -1;
}

bool adm__topo_place(struct adm *a, struct adm_wl *w, uint32_t psi, uint32_t flavor,
                     uint32_t count, struct adm_pod_place *out, char *reason, size_t rsize)
{
    struct adm__flavor *fl = &a->fl[flavor];
    struct adm__tdomains *td = fl->td;
    struct adm_podset *ps = &w->ps[psi];
    const char *lname = ps->required_level ? ps->required_level : ps->preferred_level;
    int want = level_index(a, fl, lname);
    if (want < 0) {
        if (reason)
            snprintf(reason, rsize, "topology level %s is not a level of Topology %s (flavor %s)",
                     lname, a->topos[fl->topo].name, fl->name);
        return false;
    }
    struct tctx t;
    memset(&t, 0, sizeof t);
    t.a = a;
    t.td = td;
    t.pod = &ps->pod;
    t.psi = psi;
    t.out = out;
    t.ncap = xcalloc(td->nn ? td->nn : 1, sizeof *t.ncap);
    for (uint32_t l = 0; l < td->nlevels; l++)
        t.dcap[l] = xcalloc(td->ndom[l] ? td->ndom[l] : 1, sizeof *t.dcap[l]);
    for (uint32_t k = 0; k < td->nn; k++) {
        const struct adm__node *nd = &a->nodes[td->node[k]];
        t.ncap[k] = node_cap(&a->pools[nd->pool].c, nd->local, &ps->pod, count);
        for (uint32_t l = 0; l < td->nlevels; l++)
            t.dcap[l][td->dom[(size_t)k * td->nlevels + l]] += t.ncap[k];
    }
    bool ok = false;
    int lo = ps->required_level ? want : 0;
    uint64_t largest = 0;
    for (int l = want; l >= lo && !ok; l--) {
        int64_t best = -1;
        for (uint32_t d = 0; d < td->ndom[l]; d++) {
            uint64_t cap = t.dcap[l][d];
            if (cap > largest && l == want)
                largest = cap;
            if (cap < count)
                continue;
            if (best < 0 || cap < t.dcap[l][best] ||
                (cap == t.dcap[l][best] && strcmp(td->dname[l][d], td->dname[l][best]) < 0))
                best = d;
        }
        if (best < 0)
            continue;
        if (l + 1 < (int)td->nlevels)
            ok = fill(&t, (uint32_t)l + 1, (uint32_t)best, count);
        else
            ok = fill(&t, td->nlevels, (uint32_t)best, count);
        if (!ok)
            break;
    }
    if (!ok && !ps->required_level && t.nout == 0) {
        /* Preferred only: spread over the top-level domains. */
        uint64_t total = 0;
        for (uint32_t d = 0; d < td->ndom[0]; d++)
            total += t.dcap[0][d];
        if (total >= count)
            ok = fill(&t, 0, ADM_NONE, count);
    }
    if (!ok) {
        for (uint32_t k = 0; k < t.nout; k++) {
            struct adm__node *nd = &a->nodes[out[k].node];
            engine_remove(&a->pools[nd->pool].en, &ps->pod, &out[k].p);
        }
        if (reason)
            snprintf(reason, rsize,
                     "no domain at topology level %s (flavor %s) has room for %u pods of pod set "
                     "%s; the largest has room for %" PRIu64,
                     lname, fl->name, count, ps->name, largest);
    }
    free(t.ncap);
    for (uint32_t l = 0; l < td->nlevels; l++)
        free(t.dcap[l]);
    return ok && t.nout == count;
}
