/*
 * scenario: manifests -> admission world -> virtual-clock replay -> checks.
 */
#include "sim/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "model/model.h"
#include "model/quantity.h"
#include "sched/admit.h"

#define MAX_FILE ((size_t)8 << 20)

struct wlinfo {
    const struct model_obj *o;
    char key[300];
    int64_t arrival;
    int64_t runtime; /* -1: runs until the end */
    bool pre_admitted;
    bool pre_finished;
    int64_t admitted_at;
    int64_t id;      /* adm id once added, else -1 */
    bool preempted;
    int64_t done_at; /* completion scheduled for the current admission */
    int64_t adm_stamp;
};

struct run {
    struct model_obj **objs;
    size_t nobjs;
    const struct model_obj *scen;
    struct adm *a;
    struct wlinfo *w;
    size_t nw;
    int64_t *by_id; /* adm id -> index in w */
    int64_t t0;
};

static const struct model_obj *find_obj(const struct run *r, enum model_kind k, const char *ns,
                                        const char *name)
{
    for (size_t i = 0; i < r->nobjs; i++) {
        const struct model_obj *o = r->objs[i];
        if (o->kind != k || strcmp(o->meta.name, name) != 0)
            continue;
        if (ns && (!o->meta.namespace || strcmp(o->meta.namespace, ns) != 0))
            continue;
        return o;
    }
    return NULL;
}

static int read_file(const char *path, char **buf, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errf(e, errno, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                fclose(f);
                free(b);
                return errf(e, EFBIG, "%s: larger than %zu bytes", path, MAX_FILE);
            }
            cap *= 2;
            b = xrealloc(b, cap);
        }
        size_t got = fread(b + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

static enum adm_ppolicy map_policy(enum model_preemption_policy p)
{
    switch (p) {
    case MODEL_PREEMPT_NEVER:
        return ADM_P_NEVER;
    case MODEL_PREEMPT_LOWER_PRIORITY:
        return ADM_P_LOWER_PRIORITY;
    case MODEL_PREEMPT_LOWER_OR_NEWER_EQUAL_PRIORITY:
        return ADM_P_LOWER_OR_NEWER_EQUAL;
    case MODEL_PREEMPT_ANY:
        return ADM_P_ANY;
    }
    return ADM_P_NEVER;
}

static enum adm_stop map_stop(enum model_stop_policy s)
{
    return s == MODEL_STOP_HOLD ? ADM_STOP_HOLD
           : s == MODEL_STOP_HOLD_AND_DRAIN ? ADM_STOP_HOLD_AND_DRAIN
                                            : ADM_STOP_NONE;
}

/* Groups of a ClusterQueue or Cohort, with quantities made canonical. The
 * arrays live in arena-like vectors freed by free_groups. */
struct gbuf {
    struct adm_group_spec *g;
    struct adm_flavor_quota_spec *fq;
    struct adm_quota_spec *q;
};

static void make_groups(const struct model_resource_group *mg, size_t n, struct gbuf *b)
{
    size_t nf = 0, nq = 0;
    for (size_t i = 0; i < n; i++) {
        nf += mg[i].n_flavors;
        for (size_t f = 0; f < mg[i].n_flavors; f++)
            nq += mg[i].flavors[f].n_resources;
    }
    b->g = xcalloc(n ? n : 1, sizeof *b->g);
    b->fq = xcalloc(nf ? nf : 1, sizeof *b->fq);
    b->q = xcalloc(nq ? nq : 1, sizeof *b->q);
    size_t fi = 0, qi = 0;
    for (size_t i = 0; i < n; i++) {
        b->g[i].covered = mg[i].covered.v;
        b->g[i].ncovered = (uint32_t)mg[i].covered.len;
        b->g[i].flavors = &b->fq[fi];
        b->g[i].nflavors = (uint32_t)mg[i].n_flavors;
        for (size_t f = 0; f < mg[i].n_flavors; f++) {
            const struct model_flavor_quotas *m = &mg[i].flavors[f];
            struct adm_flavor_quota_spec *s = &b->fq[fi++];
            s->flavor = m->name;
            s->res = &b->q[qi];
            s->nres = (uint32_t)m->n_resources;
            for (size_t k = 0; k < m->n_resources; k++) {
                const struct model_quota *mq = &m->resources[k];
                struct adm_quota_spec *q = &b->q[qi++];
                q->resource = mq->resource;
                q->nominal = quantity_canonical(mq->resource, mq->nominal);
                q->borrowing_limit = mq->has_borrowing_limit
                                         ? quantity_canonical(mq->resource, mq->borrowing_limit)
                                         : ADM_UNLIMITED;
                q->lending_limit = mq->has_lending_limit
                                       ? quantity_canonical(mq->resource, mq->lending_limit)
                                       : ADM_UNLIMITED;
            }
        }
    }
}

static void free_groups(struct gbuf *b)
{
    free(b->g);
    free(b->fq);
    free(b->q);
}

static int build_world(struct run *r, struct err *e)
{
    const struct model_scenario *sc = &r->scen->u.scenario;
    struct adm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fair_sharing = sc->fair_sharing;
    cfg.backfill = sc->backfill;
    cfg.policy = sc->placement_policy;
    for (size_t i = 0; i < sc->preemption_strategies.len && i < 2; i++) {
        const char *s = sc->preemption_strategies.v[i];
        cfg.strategies[cfg.nstrategies++] = strcmp(s, "LessThanInitialShare") == 0
                                                ? ADM_FS_LT_INITIAL_SHARE
                                                : ADM_FS_LE_FINAL_SHARE;
    }
    r->a = adm_create(&cfg);
    for (size_t i = 0; i < r->nobjs; i++) {
        const struct model_obj *o = r->objs[i];
        int rc = 0;
        switch (o->kind) {
        case MODEL_TOPOLOGY: {
            struct adm_topology_spec t = {o->meta.name, o->u.topology.levels.v,
                                          (uint32_t)o->u.topology.levels.len};
            rc = adm_add_topology(r->a, &t, e);
            break;
        }
        case MODEL_RESOURCE_FLAVOR: {
            const struct model_resource_flavor *f = &o->u.resource_flavor;
            struct adm_kv *kv = xcalloc(f->node_labels.len + 1, sizeof *kv);
            for (size_t k = 0; k < f->node_labels.len; k++) {
                kv[k].key = f->node_labels.v[k].key;
                kv[k].value = f->node_labels.v[k].value;
            }
            const char **tol = xcalloc(f->n_tolerations + 1, sizeof *tol);
            for (size_t k = 0; k < f->n_tolerations; k++)
                tol[k] = f->tolerations[k].key;
            struct adm_flavor_spec s = {o->meta.name, kv, (uint32_t)f->node_labels.len, tol,
                                        (uint32_t)f->n_tolerations, f->topology_name};
            rc = adm_add_flavor(r->a, &s, e);
            free(kv);
            free(tol);
            break;
        }
        case MODEL_COHORT: {
            const struct model_cohort *c = &o->u.cohort;
            struct gbuf b;
            make_groups(c->groups, c->n_groups, &b);
            struct adm_cohort_spec s = {o->meta.name, c->parent, b.g, (uint32_t)c->n_groups,
                                        (uint32_t)c->fair_sharing_weight};
            rc = adm_add_cohort(r->a, &s, e);
            free_groups(&b);
            break;
        }
        case MODEL_CLUSTER_QUEUE: {
            const struct model_cluster_queue *c = &o->u.cluster_queue;
            struct gbuf b;
            make_groups(c->groups, c->n_groups, &b);
            struct adm_cq_spec s;
            memset(&s, 0, sizeof s);
            s.name = o->meta.name;
            s.cohort = c->cohort;
            s.groups = b.g;
            s.ngroups = (uint32_t)c->n_groups;
            s.strategy = c->queueing_strategy == MODEL_STRICT_FIFO ? ADM_STRICT_FIFO
                                                                   : ADM_BEST_EFFORT_FIFO;
            s.stop = map_stop(c->stop_policy);
            s.within_cq = map_policy(c->preemption.within_cluster_queue);
            s.reclaim_within_cohort = map_policy(c->preemption.reclaim_within_cohort);
            s.borrow_within_cohort = map_policy(c->preemption.borrow_within_cohort);
            s.has_max_priority_threshold = c->preemption.has_max_priority_threshold;
            s.max_priority_threshold = c->preemption.max_priority_threshold;
            s.when_can_borrow = c->flavor_fungibility.when_can_borrow ==
                                        MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR
                                    ? ADM_TRY_NEXT_FLAVOR
                                    : ADM_MAY_STOP_SEARCH;
            s.when_can_preempt = c->flavor_fungibility.when_can_preempt ==
                                         MODEL_FUNGIBILITY_MAY_STOP_SEARCH
                                     ? ADM_MAY_STOP_SEARCH
                                     : ADM_TRY_NEXT_FLAVOR;
            s.weight_milli = (uint32_t)c->fair_sharing_weight;
            rc = adm_add_cq(r->a, &s, e);
            free_groups(&b);
            break;
        }
        case MODEL_NODE: {
            const struct model_node *n = &o->u.node;
            struct adm_kv *kv = xcalloc(o->meta.labels.len + 1, sizeof *kv);
            for (size_t k = 0; k < o->meta.labels.len; k++) {
                kv[k].key = o->meta.labels.v[k].key;
                kv[k].value = o->meta.labels.v[k].value;
            }
            const char **taints = xcalloc(n->n_taints + 1, sizeof *taints);
            uint32_t nt = 0;
            for (size_t k = 0; k < n->n_taints; k++)
                if (n->taints[k].effect != MODEL_EFFECT_PREFER_NO_SCHEDULE)
                    taints[nt++] = n->taints[k].key;
            struct adm_node_spec s = {
                o->meta.name,
                model_resources_canonical(&n->allocatable, "cpu"),
                model_resources_canonical(&n->allocatable, "memory"),
                model_resources_canonical(&n->allocatable, "nvidia.com/gpu"),
                kv,
                (uint32_t)o->meta.labels.len,
                taints,
                nt,
                n->unschedulable};
            rc = adm_add_node(r->a, &s, e);
            free(kv);
            free(taints);
            break;
        }
        default:
            break;
        }
        if (rc)
            return -1;
    }
    return adm_seal(r->a, e);
}

static const char *annotation(const struct model_obj *o, const char *k)
{
    return model_kv_get(&o->meta.annotations, k);
}

static int32_t priority_of(const struct run *r, const struct model_obj *o)
{
    const struct model_workload *w = &o->u.workload;
    if (w->has_priority)
        return w->priority;
    if (w->priority_class_name) {
        const struct model_obj *pc =
            w->priority_source == MODEL_PRIORITY_SOURCE_POD
                ? find_obj(r, MODEL_PRIORITY_CLASS, NULL, w->priority_class_name)
                : find_obj(r, MODEL_WORKLOAD_PRIORITY_CLASS, NULL, w->priority_class_name);
        if (pc && pc->kind == MODEL_PRIORITY_CLASS)
            return pc->u.priority_class.value;
        if (pc)
            return pc->u.workload_priority_class.value;
    }
    for (size_t i = 0; i < w->n_pod_sets; i++) {
        const char *n = w->pod_sets[i].template.priority_class_name;
        const struct model_obj *pc = n ? find_obj(r, MODEL_PRIORITY_CLASS, NULL, n) : NULL;
        if (pc)
            return pc->u.priority_class.value;
    }
    for (size_t i = 0; i < r->nobjs; i++)
        if (r->objs[i]->kind == MODEL_PRIORITY_CLASS && r->objs[i]->u.priority_class.global_default)
            return r->objs[i]->u.priority_class.value;
    return 0;
}

/* Adds a workload to the engine; resolves its queue like Kueue. */
static int add_workload(struct run *r, struct wlinfo *wi, struct err *e)
{
    const struct model_obj *o = wi->o;
    const struct model_workload *w = &o->u.workload;
    const char *ns = o->meta.namespace;
    char reason[300] = "";
    const char *cq = NULL;
    bool held = false, drain = false;
    if (!w->queue_name) {
        snprintf(reason, sizeof reason, "the workload names no LocalQueue (spec.queueName)");
    } else {
        const struct model_obj *lq = find_obj(r, MODEL_LOCAL_QUEUE, ns, w->queue_name);
        if (!lq) {
            snprintf(reason, sizeof reason, "LocalQueue %s doesn't exist", w->queue_name);
        } else {
            cq = lq->u.local_queue.cluster_queue;
            held = lq->u.local_queue.stop_policy != MODEL_STOP_NONE;
            drain = lq->u.local_queue.stop_policy == MODEL_STOP_HOLD_AND_DRAIN;
            const struct model_obj *cqo = find_obj(r, MODEL_CLUSTER_QUEUE, NULL, cq);
            if (!cqo) {
                snprintf(reason, sizeof reason, "ClusterQueue %s doesn't exist", cq);
                cq = NULL;
            } else {
                const struct model_obj *nso = find_obj(r, MODEL_NAMESPACE, NULL, ns);
                struct model_kv_list none = {NULL, 0};
                if (!selector_matches(&cqo->u.cluster_queue.namespace_selector,
                                      nso ? &nso->meta.labels : &none)) {
                    snprintf(reason, sizeof reason,
                             "namespace %s doesn't match the namespaceSelector of ClusterQueue %s",
                             ns, cq);
                    cq = NULL;
                }
            }
        }
    }
    struct adm_podset_spec ps[8];
    const char **names[8];
    int64_t *amounts[8];
    struct adm_kv *sel[8];
    size_t nps = w->n_pod_sets < 8 ? w->n_pod_sets : 8;
    for (size_t i = 0; i < nps; i++) {
        const struct model_pod_set *p = &w->pod_sets[i];
        const struct model_resource_list *rl = &p->template.pod_requests;
        names[i] = xcalloc(rl->len + 1, sizeof *names[i]);
        amounts[i] = xcalloc(rl->len + 1, sizeof *amounts[i]);
        for (size_t k = 0; k < rl->len; k++) {
            names[i][k] = rl->v[k].name;
            amounts[i][k] = quantity_canonical(rl->v[k].name, rl->v[k].milli);
        }
        const struct model_kv_list *ns_l = &p->template.node_selector;
        sel[i] = xcalloc(ns_l->len + 1, sizeof *sel[i]);
        for (size_t k = 0; k < ns_l->len; k++) {
            sel[i][k].key = ns_l->v[k].key;
            sel[i][k].value = ns_l->v[k].value;
        }
        memset(&ps[i], 0, sizeof ps[i]);
        ps[i].name = p->name;
        ps[i].count = (uint32_t)p->count;
        ps[i].min_count = p->has_min_count ? (uint32_t)p->min_count : 0;
        ps[i].res = names[i];
        ps[i].amount = amounts[i];
        ps[i].nres = (uint32_t)rl->len;
        ps[i].required_level = p->topology.unconstrained ? NULL : p->topology.required;
        ps[i].preferred_level = p->topology.unconstrained ? NULL : p->topology.preferred;
        ps[i].node_selector = sel[i];
        ps[i].nnode_selector = (uint32_t)ns_l->len;
    }
    struct adm_wl_spec s;
    memset(&s, 0, sizeof s);
    s.key = wi->key;
    s.cq = cq;
    s.no_queue_reason = cq ? NULL : reason;
    s.lq_held = held;
    s.lq_drain = drain;
    s.priority = priority_of(r, o);
    s.created_ns = o->meta.has_creation ? o->meta.creation_ns - r->t0 : wi->arrival;
    s.max_exec_ns = w->has_max_exec ? (int64_t)w->max_exec_seconds * 1000000000 : 0;
    s.active = w->active;
    s.podsets = ps;
    s.npodsets = (uint32_t)nps;
    int64_t id = adm_add_workload(r->a, &s, e);
    for (size_t i = 0; i < nps; i++) {
        free(names[i]);
        free(amounts[i]);
        free(sel[i]);
    }
    if (id < 0)
        return -1;
    wi->id = id;
    r->by_id[id] = wi - r->w;
    if (wi->pre_finished) {
        adm_finish(r->a, (uint32_t)id, 0);
        return 0;
    }
    if (wi->pre_admitted && cq) {
        const char *fl[8 * ADM_MAX_RES];
        memset(fl, 0, sizeof fl);
        for (size_t k = 0; k < w->n_assignments; k++) {
            const struct model_pod_set_assignment *as = &w->assignments[k];
            size_t i = 0;
            while (i < nps && strcmp(w->pod_sets[i].name, as->name) != 0)
                i++;
            if (i == nps)
                continue;
            for (size_t f = 0; f < as->flavors.len; f++) {
                int res = adm_resource_find(r->a, as->flavors.v[f].key);
                if (res >= 0)
                    fl[i * ADM_MAX_RES + (size_t)res] = as->flavors.v[f].value;
            }
        }
        if (adm_admit_existing(r->a, (uint32_t)id, fl, wi->admitted_at, e))
            return -1;
    }
    return 0;
}

static void on_admitted(void *ctx, uint32_t id, int64_t now)
{
    struct run *r = ctx;
    struct wlinfo *wi = &r->w[r->by_id[id]];
    wi->adm_stamp = now;
    wi->done_at = wi->runtime >= 0 ? now + wi->runtime : ADM_NEVER;
}

static void on_evicted(void *ctx, uint32_t id, uint32_t by, enum adm_evict_reason why,
                       int64_t now)
{
    struct run *r = ctx;
    struct wlinfo *wi = &r->w[r->by_id[id]];
    wi->done_at = ADM_NEVER;
    if (why != ADM_EV_STOPPED && why != ADM_EV_DEACTIVATED)
        wi->preempted = true;
    (void)by;
    (void)now;
}

static bool in_list(const struct model_string_list *l, const char *k)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->v[i], k) == 0)
            return true;
    return false;
}

/* Compares one expected set with the actual one; prints the difference. */
static bool check_set(const struct run *r, FILE *out, const char *what,
                      const struct model_string_list *want, bool (*is)(const struct run *,
                                                                       const struct wlinfo *))
{
    bool ok = true;
    char missing[2048] = "", extra[2048] = "";
    size_t om = 0, oe = 0;
    for (size_t i = 0; i < want->len; i++) {
        bool found = false;
        for (size_t k = 0; k < r->nw; k++)
            if (strcmp(r->w[k].key, want->v[i]) == 0 && is(r, &r->w[k]))
                found = true;
        if (!found) {
            ok = false;
            om += (size_t)snprintf(missing + om, om < sizeof missing ? sizeof missing - om : 0,
                                   " %s", want->v[i]);
        }
    }
    for (size_t k = 0; k < r->nw; k++)
        if (is(r, &r->w[k]) && !in_list(want, r->w[k].key)) {
            ok = false;
            oe += (size_t)snprintf(extra + oe, oe < sizeof extra ? sizeof extra - oe : 0, " %s",
                                   r->w[k].key);
        }
    if (!ok)
        fprintf(out, "    %s: missing [%s ] unexpected [%s ]\n", what, missing, extra);
    return ok;
}

static const struct adm_wl *wl_of(const struct run *r, const struct wlinfo *w)
{
    return w->id >= 0 ? adm_workload(r->a, (uint32_t)w->id) : NULL;
}

static bool is_admitted(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_ADMITTED;
}

static bool is_pending(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_PENDING;
}

static bool is_finished(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_FINISHED;
}

static bool is_preempted(const struct run *r, const struct wlinfo *w)
{
    (void)r;
    return w->preempted;
}

static struct wlinfo *by_key(struct run *r, const char *k)
{
    for (size_t i = 0; i < r->nw; i++)
        if (strcmp(r->w[i].key, k) == 0)
            return &r->w[i];
    return NULL;
}

static bool check(struct run *r, const struct model_expect *x, FILE *out)
{
    bool ok = true;
    if (x->has_admitted)
        ok &= check_set(r, out, "admitted", &x->admitted, is_admitted);
    if (x->has_pending)
        ok &= check_set(r, out, "pending", &x->pending, is_pending);
    if (x->has_finished)
        ok &= check_set(r, out, "finished", &x->finished, is_finished);
    if (x->has_preempted)
        ok &= check_set(r, out, "preempted", &x->preempted, is_preempted);
    for (size_t i = 0; i < x->n_flavors; i++) {
        const struct model_expect_flavors *f = &x->flavors[i];
        struct wlinfo *wi = by_key(r, f->workload);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        for (size_t k = 0; k < f->flavors.len; k++) {
            int res = adm_resource_find(r->a, f->flavors.v[k].key);
            const char *got = NULL;
            if (w && w->state == ADM_ADMITTED && res >= 0)
                for (uint32_t p = 0; p < w->nps && !got; p++)
                    if (w->psa[p].flavor[res] != 0xff)
                        got = adm_flavor_name(r->a, w->psa[p].flavor[res]);
            if (!got || strcmp(got, f->flavors.v[k].value) != 0) {
                ok = false;
                fprintf(out, "    flavors: %s %s: want %s, got %s\n", f->workload,
                        f->flavors.v[k].key, f->flavors.v[k].value, got ? got : "(none)");
            }
        }
    }
    for (size_t i = 0; i < x->reasons.len; i++) {
        struct wlinfo *wi = by_key(r, x->reasons.v[i].key);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        if (!w || !strstr(w->reason, x->reasons.v[i].value)) {
            ok = false;
            fprintf(out, "    reason: %s: want text \"%s\", got \"%s\"\n", x->reasons.v[i].key,
                    x->reasons.v[i].value, w ? w->reason : "(no such workload)");
        }
    }
    for (size_t i = 0; i < x->n_nodes; i++) {
        const struct model_expect_nodes *nx = &x->nodes[i];
        struct wlinfo *wi = by_key(r, nx->workload);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        bool good = w != NULL;
        char got[1024] = "";
        size_t o = 0;
        if (w && w->state == ADM_ADMITTED) {
            for (uint32_t k = 0; k < w->npods; k++) {
                const char *nn = adm_node_name(r->a, w->pods[k].node);
                bool dup = false;
                for (uint32_t j = 0; j < k; j++)
                    dup |= w->pods[j].node == w->pods[k].node;
                if (dup)
                    continue;
                o += (size_t)snprintf(got + o, o < sizeof got ? sizeof got - o : 0, " %s", nn);
                if (!in_list(&nx->nodes, nn))
                    good = false;
            }
            for (size_t j = 0; j < nx->nodes.len; j++) {
                bool found = false;
                for (uint32_t k = 0; k < w->npods; k++)
                    found |= strcmp(adm_node_name(r->a, w->pods[k].node), nx->nodes.v[j]) == 0;
                good &= found;
            }
        } else if (nx->nodes.len) {
            good = false;
        }
        if (!good) {
            ok = false;
            fprintf(out, "    nodes: %s: want %zu nodes, got [%s ]\n", nx->workload,
                    nx->nodes.len, got);
        }
    }
    return ok;
}

static int64_t next_event(struct run *r)
{
    int64_t t = adm_next_deadline(r->a);
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id < 0 && wi->arrival < t)
            t = wi->arrival;
        if (wi->id >= 0 && is_admitted(r, wi) && wi->done_at < t)
            t = wi->done_at;
    }
    return t;
}

static int advance_to(struct run *r, int64_t now, struct err *e)
{
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id < 0 && wi->arrival <= now && add_workload(r, wi, e))
            return -1;
    }
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id >= 0 && is_admitted(r, wi) && wi->done_at <= now)
            adm_finish(r->a, (uint32_t)wi->id, now);
    }
    adm_settle(r->a, now);
    return 0;
}

static void print_reasons(const struct run *r, FILE *out)
{
    for (size_t i = 0; i < r->nw; i++) {
        const struct adm_wl *w = wl_of(r, &r->w[i]);
        if (w && (w->state == ADM_PENDING || w->state == ADM_INACTIVE))
            fprintf(out, "    pending %s: %s\n", r->w[i].key, w->reason);
    }
}

static int cmp_wl(const void *x, const void *y)
{
    const struct wlinfo *a = x, *b = y;
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    return strcmp(a->key, b->key);
}

int scenario_run_file(const char *path, FILE *out, bool verbose, struct err *e)
{
    struct run r;
    memset(&r, 0, sizeof r);
    char *buf = NULL;
    size_t len = 0;
    int result = -1;
    if (read_file(path, &buf, &len, e))
        return -1;
    int rc = model_decode_yaml_stream(buf, len, path, &r.objs, &r.nobjs, e);
    free(buf);
    if (rc)
        return -1;
    for (size_t i = 0; i < r.nobjs; i++)
        if (r.objs[i]->kind == MODEL_SCENARIO) {
            if (r.scen) {
                errf(e, EINVAL, "%s: more than one Scenario document", path);
                goto done;
            }
            r.scen = r.objs[i];
        }
    if (!r.scen) {
        errf(e, EINVAL, "%s: no Scenario document (kind: Scenario, apiVersion: "
             "muster.dev/v1alpha1)", path);
        goto done;
    }
    /* Virtual time 0 is the latest timestamp written. */
    bool any = false;
    for (size_t i = 0; i < r.nobjs; i++) {
        const struct model_obj *o = r.objs[i];
        if (o->meta.has_creation && (!any || o->meta.creation_ns > r.t0)) {
            r.t0 = o->meta.creation_ns;
            any = true;
        }
        if (o->kind == MODEL_WORKLOAD)
            for (size_t k = 0; k < o->u.workload.n_conditions; k++)
                if (o->u.workload.conditions[k].has_transition &&
                    (!any || o->u.workload.conditions[k].last_transition_ns > r.t0)) {
                    r.t0 = o->u.workload.conditions[k].last_transition_ns;
                    any = true;
                }
    }
    if (build_world(&r, e)) {
        err_wrap(e, "%s", path);
        goto done;
    }
    r.w = xcalloc(r.nobjs + 1, sizeof *r.w);
    for (size_t i = 0; i < r.nobjs; i++) {
        const struct model_obj *o = r.objs[i];
        if (o->kind != MODEL_WORKLOAD)
            continue;
        struct wlinfo *wi = &r.w[r.nw++];
        wi->o = o;
        wi->id = -1;
        wi->done_at = ADM_NEVER;
        model_obj_key(o, wi->key, sizeof wi->key);
        const char *s = annotation(o, "muster.dev/arrival");
        if (s && mtime_parse_duration(s, &wi->arrival, e)) {
            err_wrap(e, "%s: Workload %s: metadata.annotations[muster.dev/arrival]", path,
                     wi->key);
            goto done;
        }
        wi->runtime = -1;
        s = annotation(o, "muster.dev/runtime");
        if (s && mtime_parse_duration(s, &wi->runtime, e)) {
            err_wrap(e, "%s: Workload %s: metadata.annotations[muster.dev/runtime]", path,
                     wi->key);
            goto done;
        }
        const struct model_condition *qr = model_workload_condition(&o->u.workload,
                                                                    "QuotaReserved");
        const struct model_condition *fin = model_workload_condition(&o->u.workload,
                                                                     "Finished");
        if (fin && strcmp(fin->status, "True") == 0) {
            /* Already finished: it holds nothing and is reported as finished. */
            wi->pre_finished = true;
            wi->arrival = 0;
        } else if (o->u.workload.has_admission && qr && strcmp(qr->status, "True") == 0) {
            wi->pre_admitted = true;
            wi->admitted_at = qr->has_transition ? qr->last_transition_ns - r.t0 : 0;
            wi->arrival = 0;
        }
    }
    qsort(r.w, r.nw, sizeof *r.w, cmp_wl);
    r.by_id = xcalloc(r.nw + 1, sizeof *r.by_id);
    struct adm_hooks hooks = {&r, on_admitted, on_evicted};
    adm_set_hooks(r.a, &hooks);
    /* Pre-admitted workloads first, at their admission times. */
    for (size_t i = 0; i < r.nw; i++)
        if (r.w[i].pre_admitted) {
            if (add_workload(&r, &r.w[i], e))
                goto done;
            struct wlinfo *wi = &r.w[i];
            wi->done_at = wi->runtime >= 0 ? wi->admitted_at + wi->runtime : ADM_NEVER;
        }
    const struct model_scenario *sc = &r.scen->u.scenario;
    bool ok = true;
    char *report = NULL;
    size_t report_len = 0;
    FILE *rep = open_memstream(&report, &report_len);
    for (size_t x = 0; x < sc->n_expect; x++) {
        const struct model_expect *ex = &sc->expect[x];
        int guard = 0;
        for (;;) {
            int64_t t = next_event(&r);
            if (t > ex->at_ns || guard++ > 100000)
                break;
            if (t < 0)
                t = 0;
            if (advance_to(&r, t, e))
                goto done_rep;
        }
        if (advance_to(&r, ex->at_ns, e))
            goto done_rep;
        char at[32];
        mtime_format_duration(ex->at_ns, at, sizeof at);
        fprintf(rep, "  at %s:\n", at);
        long before = ftell(rep);
        if (!check(&r, ex, rep)) {
            ok = false;
            print_reasons(&r, rep);
        } else if (verbose) {
            print_reasons(&r, rep);
        } else {
            fflush(rep);
            if (ftell(rep) == before) {
                /* nothing to say about this instant */
            }
        }
    }
    fclose(rep);
    rep = NULL;
    fprintf(out, "%s %s\n", ok ? "PASS" : "FAIL", r.scen->meta.name);
    if (!ok || verbose)
        fputs(report, out);
    free(report);
    result = ok ? 1 : 0;
    goto done;
done_rep:
    if (rep)
        fclose(rep);
    free(report);
done:
    adm_destroy(r.a);
    free(r.w);
    free(r.by_id);
    model_objs_free(r.objs, r.nobjs);
    return result;
}
