/*
 * kueue: Kubernetes and Kueue objects -> an admission world (see kueue.h).
 */
#include "sched/kueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "model/quantity.h"
#include "model/selector.h"

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

int kueue_add_object(struct adm *a, const struct model_obj *o, struct err *e)
{
    int rc = 0;
    switch (o->kind) {
    case MODEL_TOPOLOGY: {
        struct adm_topology_spec t = {o->meta.name, o->u.topology.levels.v,
                                      (uint32_t)o->u.topology.levels.len};
        rc = adm_add_topology(a, &t, e);
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
        rc = adm_add_flavor(a, &s, e);
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
        rc = adm_add_cohort(a, &s, e);
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
        rc = adm_add_cq(a, &s, e);
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
        rc = adm_add_node(a, &s, e);
        free(kv);
        free(taints);
        break;
    }
    default:
        break;
    }
    return rc;
}

int32_t kueue_priority(const struct kueue_lookup *l, const struct model_obj *o)
{
    const struct model_workload *w = &o->u.workload;
    if (w->has_priority)
        return w->priority;
    if (w->priority_class_name) {
        const struct model_obj *pc =
            w->priority_source == MODEL_PRIORITY_SOURCE_POD
                ? l->find(l->ctx, MODEL_PRIORITY_CLASS, NULL, w->priority_class_name)
                : l->find(l->ctx, MODEL_WORKLOAD_PRIORITY_CLASS, NULL, w->priority_class_name);
        if (pc && pc->kind == MODEL_PRIORITY_CLASS)
            return pc->u.priority_class.value;
        if (pc)
            return pc->u.workload_priority_class.value;
    }
    for (size_t i = 0; i < w->n_pod_sets; i++) {
        const char *n = w->pod_sets[i].template.priority_class_name;
        const struct model_obj *pc = n ? l->find(l->ctx, MODEL_PRIORITY_CLASS, NULL, n) : NULL;
        if (pc)
            return pc->u.priority_class.value;
    }
    if (l->default_priority_class)
        return l->default_priority_class->u.priority_class.value;
    return 0;
}


int64_t kueue_add_workload(struct adm *a, const struct kueue_lookup *l,
                           const struct model_obj *o, const char *key, int64_t created_ns,
                           struct err *e)
{
    const struct model_workload *w = &o->u.workload;
    const char *ns = o->meta.namespace;
    char reason[300] = "";
    const char *cq = NULL;
    bool held = false, drain = false;
    if (!w->queue_name) {
        snprintf(reason, sizeof reason, "the workload names no LocalQueue (spec.queueName)");
    } else {
        const struct model_obj *lq = l->find(l->ctx, MODEL_LOCAL_QUEUE, ns, w->queue_name);
        if (!lq) {
            snprintf(reason, sizeof reason, "LocalQueue %s doesn't exist", w->queue_name);
        } else {
            cq = lq->u.local_queue.cluster_queue;
            held = lq->u.local_queue.stop_policy != MODEL_STOP_NONE;
            drain = lq->u.local_queue.stop_policy == MODEL_STOP_HOLD_AND_DRAIN;
            const struct model_obj *cqo = l->find(l->ctx, MODEL_CLUSTER_QUEUE, NULL, cq);
            if (!cqo) {
                snprintf(reason, sizeof reason, "ClusterQueue %s doesn't exist", cq);
                cq = NULL;
            } else {
                const struct model_obj *nso = l->find(l->ctx, MODEL_NAMESPACE, NULL, ns);
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
    struct adm_podset_spec ps[KUEUE_MAX_PODSETS];
    const char **names[KUEUE_MAX_PODSETS];
    int64_t *amounts[KUEUE_MAX_PODSETS];
    struct adm_kv *sel[KUEUE_MAX_PODSETS];
    size_t nps = w->n_pod_sets < KUEUE_MAX_PODSETS ? w->n_pod_sets : KUEUE_MAX_PODSETS;
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
    s.key = key;
    s.cq = cq;
    s.no_queue_reason = cq ? NULL : reason;
    s.lq_held = held;
    s.lq_drain = drain;
    s.priority = kueue_priority(l, o);
    s.created_ns = created_ns;
    s.max_exec_ns = w->has_max_exec ? (int64_t)w->max_exec_seconds * 1000000000 : 0;
    s.active = w->active;
    s.podsets = ps;
    s.npodsets = (uint32_t)nps;
    int64_t id = adm_add_workload(a, &s, e);
    for (size_t i = 0; i < nps; i++) {
        free(names[i]);
        free(amounts[i]);
        free(sel[i]);
    }
    return id;
}

void kueue_admission_flavors(const struct adm *a, const struct model_obj *o, const char **fl)
{
    const struct model_workload *w = &o->u.workload;
    size_t nps = w->n_pod_sets < KUEUE_MAX_PODSETS ? w->n_pod_sets : KUEUE_MAX_PODSETS;
    memset(fl, 0, KUEUE_MAX_PODSETS * ADM_MAX_RES * sizeof *fl);
    for (size_t k = 0; k < w->n_assignments; k++) {
        const struct model_pod_set_assignment *as = &w->assignments[k];
        size_t i = 0;
        while (i < nps && strcmp(w->pod_sets[i].name, as->name) != 0)
            i++;
        if (i == nps)
            continue;
        for (size_t f = 0; f < as->flavors.len; f++) {
            int res = adm_resource_find(a, as->flavors.v[f].key);
            if (res >= 0)
                fl[i * ADM_MAX_RES + (size_t)res] = as->flavors.v[f].value;
        }
    }
}
