/*
 * decode_kueue: the kueue.x-k8s.io kinds into their structs.
 *
 * The decoders read v1beta2 field names only: an object written in v1beta1
 * (or v1alpha1) has been converted to v1beta2 by convert_kueue.c before it gets
 * here, as Kueue's conversion webhook does, and c->ver still says which version
 * was written, for the limits that differ by version. Kueue's validation rules
 * that are cheap to check here are checked here, with the same limits Kueue's
 * CRDs declare.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static const char *const top_fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};

/* Kueue's caps (CRD MaxItems). */
#define KUEUE_MAX_GROUPS            16
#define KUEUE_MAX_FLAVORS_V1BETA1   16 /* per group */
#define KUEUE_MAX_FLAVORS_V1BETA2   64 /* per group */
#define KUEUE_MAX_RESOURCES_V1BETA1 16
#define KUEUE_MAX_RESOURCES_V1BETA2 64
#define KUEUE_MAX_FLAVORS_TOTAL     256
#define KUEUE_MAX_POD_SETS          8
#define KUEUE_MAX_RF_ITEMS          8 /* nodeLabels, nodeTaints, tolerations of a flavor */
#define KUEUE_MAX_TOPOLOGY_LEVELS   16

static const char *const stop_policies[] = {"None", "Hold", "HoldAndDrain", NULL};

/* ---- resource groups (ClusterQueue and Cohort) --------------------------- */

/* parent_field names the field that must be set for borrowing/lending limits
 * ("spec.cohort", "spec.cohortName", "spec.parentName"); has_parent says
 * whether it is. */
static int decode_quota(struct model__dctx *c, json_t *x, struct model_quota *q,
                        const char *covered, bool has_parent, const char *parent_field)
{
    static const char *const fields[] = {"name", "nominalQuota", "borrowingLimit", "lendingLimit",
                                         NULL};
    bool has_nominal;
    if (model__fields(c, x, fields) < 0 ||
        model__get_name(c, x, "name", &q->resource, true, model__check_resource_name) < 0)
        return -1;
    if (strcmp(q->resource, covered) != 0)
        return model__fail_at(c, "name",
                              "must be \"%s\" (got \"%.60s\"): each flavor lists the covered "
                              "resources in order",
                              covered, q->resource);
    if (model__get_quantity(c, x, "nominalQuota", &q->nominal, &has_nominal) < 0 ||
        model__get_quantity(c, x, "borrowingLimit", &q->borrowing_limit, &q->has_borrowing_limit) <
            0 ||
        model__get_quantity(c, x, "lendingLimit", &q->lending_limit, &q->has_lending_limit) < 0)
        return -1;
    if (!has_nominal)
        return model__fail_at(c, "nominalQuota", "required");
    if (q->nominal < 0)
        return model__fail_at(c, "nominalQuota", "must be non-negative");
    if (q->has_borrowing_limit && q->borrowing_limit < 0)
        return model__fail_at(c, "borrowingLimit", "must be non-negative");
    if (q->has_lending_limit && q->lending_limit < 0)
        return model__fail_at(c, "lendingLimit", "must be non-negative");
    if (q->has_borrowing_limit && !has_parent)
        return model__fail_at(c, "borrowingLimit", "must not be set when %s is empty",
                              parent_field);
    if (q->has_lending_limit && !has_parent)
        return model__fail_at(c, "lendingLimit", "must not be set when %s is empty", parent_field);
    /* Kueue's ClusterQueue webhook keeps lendingLimit within nominalQuota; a
     * Cohort's lendingLimit bounds what its whole subtree lends, which may
     * exceed the Cohort's own nominalQuota, so it is not checked there. */
    if (c->kind == MODEL_CLUSTER_QUEUE && q->has_lending_limit && q->lending_limit > q->nominal)
        return model__fail_at(c, "lendingLimit", "must be less than or equal to nominalQuota");
    return 0;
}

static int decode_groups(struct model__dctx *c, json_t *spec, struct model_resource_group **out,
                         size_t *n_out, bool has_parent, const char *parent_field)
{
    json_t *arr;
    if (model__get_array(c, spec, "resourceGroups", &arr, false, KUEUE_MAX_GROUPS) < 0)
        return -1;
    *out = NULL;
    *n_out = 0;
    if (!arr)
        return 0;
    bool v2 = c->ver == MODEL_API_V1BETA2;
    size_t max_flavors = v2 ? KUEUE_MAX_FLAVORS_V1BETA2 : KUEUE_MAX_FLAVORS_V1BETA1;
    size_t max_res = v2 ? KUEUE_MAX_RESOURCES_V1BETA2 : KUEUE_MAX_RESOURCES_V1BETA1;
    size_t n = json_array_size(arr), total_flavors = 0;
    struct model_resource_group *g = arena_zalloc(c->a, (n ? n : 1) * sizeof *g);
    size_t old = model__push(c, "resourceGroups");
    static const char *const gfields[] = {"coveredResources", "flavors", NULL};
    static const char *const ffields[] = {"name", "resources", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *gx = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        json_t *flavors;
        if (model__fields(c, gx, gfields) < 0 ||
            model__get_string_list(c, gx, "coveredResources", &g[i].covered, max_res,
                                   model__check_resource_name, true) < 0 ||
            model__get_array(c, gx, "flavors", &flavors, true, max_flavors) < 0)
            return -1;
        if (g[i].covered.len == 0)
            return model__fail_at(c, "coveredResources", "must have at least one resource");
        /* A resource is covered by one group only. */
        for (size_t r = 0; r < g[i].covered.len; r++)
            for (size_t pg = 0; pg < i; pg++)
                for (size_t pr = 0; pr < g[pg].covered.len; pr++)
                    if (strcmp(g[pg].covered.v[pr], g[i].covered.v[r]) == 0) {
                        size_t o3 = model__push(c, "coveredResources");
                        model__push_index(c, r);
                        model__fail(c, "resource \"%s\" is already covered by resourceGroups[%zu]",
                                    g[i].covered.v[r], pg);
                        model__pop(c, o3);
                        return -1;
                    }
        size_t nf = json_array_size(flavors);
        if (nf == 0)
            return model__fail_at(c, "flavors", "must have at least one flavor");
        total_flavors += nf;
        if (total_flavors > KUEUE_MAX_FLAVORS_TOTAL)
            return model__fail_at(c, "flavors", "more than %d flavors in all resource groups",
                                  KUEUE_MAX_FLAVORS_TOTAL);
        g[i].flavors = arena_zalloc(c->a, nf * sizeof *g[i].flavors);
        g[i].n_flavors = nf;
        size_t o3 = model__push(c, "flavors");
        for (size_t f = 0; f < nf; f++) {
            json_t *fx = json_array_get(flavors, f);
            struct model_flavor_quotas *fq = &g[i].flavors[f];
            size_t o4 = model__push_index(c, f);
            json_t *res;
            if (model__fields(c, fx, ffields) < 0 ||
                model__get_name(c, fx, "name", &fq->name, true, model__check_dns_subdomain) < 0)
                return -1;
            /* A flavor appears once in a ClusterQueue, in one group. */
            for (size_t pg = 0; pg <= i; pg++)
                for (size_t pf = 0; pf < (pg == i ? f : g[pg].n_flavors); pf++)
                    if (strcmp(g[pg].flavors[pf].name, fq->name) == 0)
                        return model__fail_at(c, "name",
                                              "flavor \"%s\" already appears in "
                                              "resourceGroups[%zu].flavors[%zu]",
                                              fq->name, pg, pf);
            if (model__get_array(c, fx, "resources", &res, true, max_res) < 0)
                return -1;
            size_t nr = json_array_size(res);
            if (nr != g[i].covered.len)
                return model__fail_at(c, "resources",
                                      "must list the %zu covered resources (got %zu)",
                                      g[i].covered.len, nr);
            fq->resources = arena_zalloc(c->a, (nr ? nr : 1) * sizeof *fq->resources);
            fq->n_resources = nr;
            size_t o5 = model__push(c, "resources");
            for (size_t r = 0; r < nr; r++) {
                size_t o6 = model__push_index(c, r);
                if (decode_quota(c, json_array_get(res, r), &fq->resources[r], g[i].covered.v[r],
                                 has_parent, parent_field) < 0)
                    return -1;
                model__pop(c, o6);
            }
            model__pop(c, o5);
            model__pop(c, o4);
        }
        model__pop(c, o3);
        model__pop(c, o2);
    }
    model__pop(c, old);
    *out = g;
    *n_out = n;
    return 0;
}

/* spec.fairSharing: {weight: quantity}; weight defaults to 1. */
static int decode_fair_sharing(struct model__dctx *c, json_t *spec, bool *has, int64_t *weight)
{
    json_t *fs;
    *weight = 1000;
    if (model__get_object(c, spec, "fairSharing", &fs, false) < 0)
        return -1;
    *has = fs != NULL;
    size_t old = model__push(c, "fairSharing");
    static const char *const fields[] = {"weight", NULL};
    if (model__fields(c, fs, fields) < 0 || model__get_quantity(c, fs, "weight", weight, NULL) < 0)
        return -1;
    if (*weight < 0)
        return model__fail_at(c, "weight", "must be non-negative");
    model__pop(c, old);
    return 0;
}

/* An object accepted by name and not decoded (status of the queue kinds,
 * admissionScope, ...): only its type is checked. */
static int opaque_object(struct model__dctx *c, json_t *obj, const char *key)
{
    json_t *v;
    return model__get_object(c, obj, key, &v, false);
}

/* ---- ResourceFlavor ------------------------------------------------------ */

int model__decode_resource_flavor(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_resource_flavor *rf = &o->u.resource_flavor;
    json_t *spec;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, false) < 0 ||
        opaque_object(c, root, "status") < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"nodeLabels", "nodeTaints", "tolerations", "topologyName",
                                         NULL};
    if (model__fields(c, spec, fields) < 0 ||
        model__get_string_map(c, spec, "nodeLabels", &rf->node_labels, MODEL__KV_LABELS) < 0 ||
        model__get_taints(c, spec, "nodeTaints", &rf->node_taints, &rf->n_node_taints,
                          KUEUE_MAX_RF_ITEMS) < 0 ||
        model__get_tolerations(c, spec, "tolerations", &rf->tolerations, &rf->n_tolerations,
                               KUEUE_MAX_RF_ITEMS) < 0 ||
        model__get_name(c, spec, "topologyName", &rf->topology_name, false,
                        model__check_dns_subdomain) < 0)
        return -1;
    if (rf->node_labels.len > KUEUE_MAX_RF_ITEMS)
        return model__fail_at(c, "nodeLabels", "must have at most %d labels (got %zu)",
                              KUEUE_MAX_RF_ITEMS, rf->node_labels.len);
    if (rf->topology_name && rf->node_labels.len == 0)
        return model__fail_at(c, "nodeLabels",
                              "must have at least one label when topologyName is set");
    model__pop(c, old);
    return 0;
}

/* ---- ClusterQueue -------------------------------------------------------- */

static const char *const within_cq_names[] = {"Never", "LowerPriority", "LowerOrNewerEqualPriority",
                                              NULL};
static const char *const reclaim_names[] = {"Never", "LowerPriority", "", "Any", NULL};
static const char *const borrow_names[] = {"Never", "LowerPriority", NULL};

static int decode_preemption(struct model__dctx *c, json_t *spec, struct model_cq_preemption *p)
{
    json_t *pre, *bwc;
    if (model__get_object(c, spec, "preemption", &pre, false) < 0)
        return -1;
    size_t old = model__push(c, "preemption");
    static const char *const fields[] = {"withinClusterQueue", "reclaimWithinCohort",
                                         "borrowWithinCohort", NULL};
    int within = 0, reclaim = 0, borrow = 0;
    if (model__fields(c, pre, fields) < 0 ||
        model__get_enum(c, pre, "withinClusterQueue", within_cq_names, &within) < 0 ||
        model__get_enum(c, pre, "reclaimWithinCohort", reclaim_names, &reclaim) < 0 ||
        model__get_object(c, pre, "borrowWithinCohort", &bwc, false) < 0)
        return -1;
    size_t o2 = model__push(c, "borrowWithinCohort");
    static const char *const bfields[] = {"policy", "maxPriorityThreshold", NULL};
    if (model__fields(c, bwc, bfields) < 0 ||
        model__get_enum(c, bwc, "policy", borrow_names, &borrow) < 0 ||
        model__get_int32(c, bwc, "maxPriorityThreshold", &p->max_priority_threshold,
                         &p->has_max_priority_threshold) < 0)
        return -1;
    model__pop(c, o2);
    p->within_cluster_queue = (enum model_preemption_policy)within;
    p->reclaim_within_cohort = (enum model_preemption_policy)reclaim;
    p->borrow_within_cohort = (enum model_preemption_policy)borrow;
    if (p->reclaim_within_cohort == MODEL_PREEMPT_NEVER &&
        p->borrow_within_cohort != MODEL_PREEMPT_NEVER)
        return model__fail(c, "borrowWithinCohort.policy must be Never when "
                              "reclaimWithinCohort is Never");
    model__pop(c, old);
    return 0;
}

static int decode_fungibility(struct model__dctx *c, json_t *spec,
                              struct model_flavor_fungibility *f)
{
    json_t *ff;
    if (model__get_object(c, spec, "flavorFungibility", &ff, false) < 0)
        return -1;
    f->when_can_borrow = MODEL_FUNGIBILITY_MAY_STOP_SEARCH;
    f->when_can_preempt = MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR;
    size_t old = model__push(c, "flavorFungibility");
    static const char *const fields[] = {"whenCanBorrow", "whenCanPreempt", "preference", NULL};
    /* v1beta1's Borrow and Preempt arrive converted to MayStopSearch. */
    static const char *const names[] = {"MayStopSearch", "TryNextFlavor", NULL};
    static const char *const prefs[] = {"", "BorrowingOverPreemption", "PreemptionOverBorrowing",
                                        NULL};
    int b = 0, p = 1, pref = 0;
    if (model__fields(c, ff, fields) < 0 ||
        model__get_enum(c, ff, "whenCanBorrow", names, &b) < 0 ||
        model__get_enum(c, ff, "whenCanPreempt", names, &p) < 0 ||
        model__get_enum(c, ff, "preference", prefs, &pref) < 0)
        return -1;
    f->when_can_borrow =
        b == 1 ? MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR : MODEL_FUNGIBILITY_MAY_STOP_SEARCH;
    f->when_can_preempt =
        p == 1 ? MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR : MODEL_FUNGIBILITY_MAY_STOP_SEARCH;
    f->preference = (enum model_fungibility_preference)pref;
    if (pref && (f->when_can_borrow != MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR ||
                 f->when_can_preempt != MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR))
        return model__fail_at(c, "preference",
                              "can only be set when whenCanBorrow and whenCanPreempt are both "
                              "TryNextFlavor");
    model__pop(c, old);
    return 0;
}

static int decode_check_strategy(struct model__dctx *c, json_t *spec,
                                 struct model_cluster_queue *cq)
{
    json_t *st, *arr;
    if (model__get_object(c, spec, "admissionChecksStrategy", &st, false) < 0)
        return -1;
    if (!st)
        return 0;
    size_t old = model__push(c, "admissionChecksStrategy");
    static const char *const fields[] = {"admissionChecks", NULL};
    if (model__fields(c, st, fields) < 0 ||
        model__get_array(c, st, "admissionChecks", &arr, false, 64) < 0)
        return -1;
    size_t n = arr ? json_array_size(arr) : 0;
    cq->admission_check_rules =
        arena_zalloc(c->a, (n ? n : 1) * sizeof(struct model_admission_check_rule));
    size_t o2 = model__push(c, "admissionChecks");
    static const char *const rfields[] = {"name", "onFlavors", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        struct model_admission_check_rule *r = &cq->admission_check_rules[i];
        size_t o3 = model__push_index(c, i);
        if (model__fields(c, x, rfields) < 0 ||
            model__get_name(c, x, "name", &r->name, true, NULL) < 0 ||
            model__get_string_list(c, x, "onFlavors", &r->on_flavors, 64,
                                   model__check_dns_subdomain, true) < 0)
            return -1;
        model__pop(c, o3);
    }
    cq->n_admission_check_rules = n;
    model__pop(c, o2);
    model__pop(c, old);
    return 0;
}

int model__decode_cluster_queue(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_cluster_queue *cq = &o->u.cluster_queue;
    json_t *spec;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, false) < 0 ||
        opaque_object(c, root, "status") < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"resourceGroups",
                                            "cohortName",
                                            "queueingStrategy",
                                            "namespaceSelector",
                                            "flavorFungibility",
                                            "preemption",
                                            "admissionChecksStrategy",
                                            "stopPolicy",
                                            "fairSharing",
                                            "admissionScope",
                                            NULL};
    static const char *const strategies[] = {"BestEffortFIFO", "StrictFIFO", NULL};
    int qs = 0, stop = 0;
    if (model__fields(c, spec, fields) < 0 ||
        model__get_name(c, spec, "cohortName", &cq->cohort, false, model__check_dns_subdomain) < 0)
        return -1;
    if (cq->cohort && !*cq->cohort)
        cq->cohort = NULL;
    /* The message names the field as written. */
    const char *parent_field = c->ver == MODEL_API_V1BETA1 ? "spec.cohort" : "spec.cohortName";
    if (decode_groups(c, spec, &cq->groups, &cq->n_groups, cq->cohort != NULL, parent_field) < 0 ||
        model__get_enum(c, spec, "queueingStrategy", strategies, &qs) < 0 ||
        model__get_selector(c, spec, "namespaceSelector", &cq->namespace_selector) < 0 ||
        decode_fungibility(c, spec, &cq->flavor_fungibility) < 0 ||
        decode_preemption(c, spec, &cq->preemption) < 0 || decode_check_strategy(c, spec, cq) < 0 ||
        model__get_enum(c, spec, "stopPolicy", stop_policies, &stop) < 0 ||
        decode_fair_sharing(c, spec, &cq->has_fair_sharing, &cq->fair_sharing_weight) < 0 ||
        opaque_object(c, spec, "admissionScope") < 0)
        return -1;
    cq->queueing_strategy = (enum model_queueing_strategy)qs;
    cq->stop_policy = (enum model_stop_policy)stop;
    model__pop(c, old);
    return 0;
}

/* ---- Cohort -------------------------------------------------------------- */

int model__decode_cohort(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_cohort *co = &o->u.cohort;
    json_t *spec;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, false) < 0 ||
        opaque_object(c, root, "status") < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"parentName", "resourceGroups", "fairSharing", NULL};
    if (model__fields(c, spec, fields) < 0 ||
        model__get_name(c, spec, "parentName", &co->parent, false, model__check_dns_subdomain) < 0)
        return -1;
    if (co->parent && !*co->parent)
        co->parent = NULL;
    if (co->parent && strcmp(co->parent, o->meta.name) == 0)
        return model__fail_at(c, "parentName", "a cohort cannot be its own parent");
    if (decode_groups(c, spec, &co->groups, &co->n_groups, co->parent != NULL, "spec.parentName") <
            0 ||
        decode_fair_sharing(c, spec, &co->has_fair_sharing, &co->fair_sharing_weight) < 0)
        return -1;
    model__pop(c, old);
    return 0;
}

/* ---- LocalQueue ---------------------------------------------------------- */

int model__decode_local_queue(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_local_queue *lq = &o->u.local_queue;
    json_t *spec;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, true) < 0 || opaque_object(c, root, "status") < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"clusterQueue", "stopPolicy", "fairSharing", NULL};
    int stop = 0;
    if (model__fields(c, spec, fields) < 0 ||
        model__get_name(c, spec, "clusterQueue", &lq->cluster_queue, true,
                        model__check_dns_subdomain) < 0 ||
        model__get_enum(c, spec, "stopPolicy", stop_policies, &stop) < 0 ||
        decode_fair_sharing(c, spec, &lq->has_fair_sharing, &lq->fair_sharing_weight) < 0)
        return -1;
    lq->stop_policy = (enum model_stop_policy)stop;
    model__pop(c, old);
    return 0;
}

/* ---- WorkloadPriorityClass ----------------------------------------------- */

int model__decode_workload_priority_class(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_workload_priority_class *p = &o->u.workload_priority_class;
    static const char *const fields[] = {"apiVersion", "kind",        "metadata",
                                         "value",      "description", NULL};
    bool has;
    p->description = "";
    if (model__fields(c, root, fields) < 0 ||
        model__get_int32(c, root, "value", &p->value, &has) < 0 ||
        model__get_string(c, root, "description", &p->description, false) < 0)
        return -1;
    if (!has)
        return model__fail_at(c, "value", "required");
    return 0;
}

/* ---- Topology ------------------------------------------------------------ */

int model__decode_topology(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_topology *t = &o->u.topology;
    json_t *spec, *levels;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, true) < 0 || opaque_object(c, root, "status") < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"levels", NULL};
    if (model__fields(c, spec, fields) < 0 ||
        model__get_array(c, spec, "levels", &levels, true, KUEUE_MAX_TOPOLOGY_LEVELS) < 0)
        return -1;
    size_t n = json_array_size(levels);
    if (n == 0)
        return model__fail_at(c, "levels", "must have at least one level");
    t->levels.v = arena_alloc(c->a, n * sizeof *t->levels.v);
    t->levels.len = n;
    size_t o2 = model__push(c, "levels");
    static const char *const lfields[] = {"nodeLabel", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(levels, i);
        size_t o3 = model__push_index(c, i);
        if (model__fields(c, x, lfields) < 0 ||
            model__get_name(c, x, "nodeLabel", &t->levels.v[i], true, model__check_qualified_name) <
                0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->levels.v[j], t->levels.v[i]) == 0)
                return model__fail_at(c, "nodeLabel", "duplicate level \"%s\"", t->levels.v[i]);
        if (strcmp(t->levels.v[i], "kubernetes.io/hostname") == 0 && i != n - 1)
            return model__fail_at(c, "nodeLabel",
                                  "kubernetes.io/hostname can only be the last level");
        model__pop(c, o3);
    }
    model__pop(c, o2);
    model__pop(c, old);
    return 0;
}

/* ---- Workload ------------------------------------------------------------ */

#define ANN_REQUIRED       "kueue.x-k8s.io/podset-required-topology"
#define ANN_PREFERRED      "kueue.x-k8s.io/podset-preferred-topology"
#define ANN_UNCONSTRAINED  "kueue.x-k8s.io/podset-unconstrained-topology"
#define ANN_SLICE_REQUIRED "kueue.x-k8s.io/podset-slice-required-topology"
#define ANN_SLICE_SIZE     "kueue.x-k8s.io/podset-slice-size"

/* Merges a topology level from topologyRequest (*field) and the annotation
 * ann: the field wins, an annotation fills a missing field, and two different
 * values are an error. */
static int merge_level(struct model__dctx *c, const struct model_pod_template *t,
                       const char **field, const char *field_name, const char *ann)
{
    const char *a = model_kv_get(&t->annotations, ann);
    if (!a)
        return 0;
    if (!*field) {
        const char *why = model__check_qualified_name(a);
        if (why) {
            size_t o = model__push(c, "template.metadata.annotations");
            model__push_key(c, ann);
            model__fail(c, "invalid value \"%.64s\": %s", a, why);
            model__pop(c, o);
            return -1;
        }
        *field = a;
        return 0;
    }
    if (strcmp(*field, a) != 0)
        return model__fail(c, "topologyRequest.%s \"%.60s\" conflicts with annotation %s \"%.60s\"",
                           field_name, *field, ann, a);
    return 0;
}

static int decode_topology_request(struct model__dctx *c, json_t *ps, struct model_pod_set *p)
{
    struct model_topology_request *tr = &p->topology;
    json_t *x;
    if (model__get_object(c, ps, "topologyRequest", &x, false) < 0)
        return -1;
    size_t old = model__push(c, "topologyRequest");
    static const char *const fields[] = {"required",           "preferred",
                                         "unconstrained",      "podIndexLabel",
                                         "subGroupIndexLabel", "subGroupCount",
                                         "podSetGroupName",    "podSetSliceRequiredTopology",
                                         "podSetSliceSize",    NULL};
    const char *group;
    if (model__fields(c, x, fields) < 0 ||
        model__get_name(c, x, "required", &tr->required, false, model__check_qualified_name) < 0 ||
        model__get_name(c, x, "preferred", &tr->preferred, false, model__check_qualified_name) <
            0 ||
        model__get_bool(c, x, "unconstrained", &tr->unconstrained, NULL) < 0 ||
        model__get_name(c, x, "podIndexLabel", &tr->pod_index_label, false,
                        model__check_qualified_name) < 0 ||
        model__get_name(c, x, "subGroupIndexLabel", &tr->sub_group_index_label, false,
                        model__check_qualified_name) < 0 ||
        model__get_int32(c, x, "subGroupCount", &tr->sub_group_count, &tr->has_sub_group_count) <
            0 ||
        model__get_string(c, x, "podSetGroupName", &group, false) < 0 ||
        model__get_name(c, x, "podSetSliceRequiredTopology", &tr->slice_required, false,
                        model__check_qualified_name) < 0 ||
        model__get_int32(c, x, "podSetSliceSize", &tr->slice_size, &tr->has_slice_size) < 0)
        return -1;
    model__pop(c, old);

    /* The annotations Kueue's job integrations read. */
    const struct model_pod_template *t = &p->template;
    if (merge_level(c, t, &tr->required, "required", ANN_REQUIRED) < 0 ||
        merge_level(c, t, &tr->preferred, "preferred", ANN_PREFERRED) < 0 ||
        merge_level(c, t, &tr->slice_required, "podSetSliceRequiredTopology", ANN_SLICE_REQUIRED) <
            0)
        return -1;
    const char *u = model_kv_get(&t->annotations, ANN_UNCONSTRAINED);
    if (u) {
        bool uv;
        if (strcmp(u, "true") == 0)
            uv = true;
        else if (strcmp(u, "false") == 0)
            uv = false;
        else
            return model__fail(c,
                               "template.metadata.annotations[%s]: must be \"true\" or "
                               "\"false\" (got \"%.20s\")",
                               ANN_UNCONSTRAINED, u);
        if (model__field(x, "unconstrained") && uv != tr->unconstrained)
            return model__fail(c, "topologyRequest.unconstrained conflicts with annotation %s",
                               ANN_UNCONSTRAINED);
        tr->unconstrained = uv;
    }
    const char *ss = model_kv_get(&t->annotations, ANN_SLICE_SIZE);
    if (ss && !tr->has_slice_size) {
        char *end;
        long v = strtol(ss, &end, 10);
        if (!*ss || *end || v < 1 || v > INT32_MAX)
            return model__fail(c,
                               "template.metadata.annotations[%s]: must be a positive "
                               "integer (got \"%.20s\")",
                               ANN_SLICE_SIZE, ss);
        tr->slice_size = (int32_t)v;
        tr->has_slice_size = true;
    }
    int modes = (tr->required != NULL) + (tr->preferred != NULL) + tr->unconstrained;
    if (modes > 1)
        return model__fail(c, "topologyRequest: at most one of required, preferred and "
                              "unconstrained may be set");
    if (tr->has_slice_size && tr->slice_size < 1)
        return model__fail(c, "topologyRequest.podSetSliceSize: must be >= 1");
    if (tr->has_slice_size != (tr->slice_required != NULL))
        return model__fail(c, "topologyRequest: podSetSliceRequiredTopology and "
                              "podSetSliceSize must be set together");
    p->has_topology_request =
        x || tr->required || tr->preferred || tr->unconstrained || tr->slice_required;
    return 0;
}

static int decode_pod_sets(struct model__dctx *c, json_t *spec, struct model_workload *w)
{
    json_t *arr;
    if (model__get_array(c, spec, "podSets", &arr, true, KUEUE_MAX_POD_SETS) < 0)
        return -1;
    size_t n = json_array_size(arr);
    if (n == 0)
        return model__fail_at(c, "podSets", "must have at least one pod set");
    w->pod_sets = arena_zalloc(c->a, n * sizeof *w->pod_sets);
    w->n_pod_sets = n;
    size_t old = model__push(c, "podSets");
    static const char *const fields[] = {"name",     "count",           "minCount",
                                         "template", "topologyRequest", NULL};
    size_t with_min = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        struct model_pod_set *p = &w->pod_sets[i];
        size_t o2 = model__push_index(c, i);
        bool has_count;
        p->name = "main";
        p->count = 1;
        if (model__fields(c, x, fields) < 0 ||
            model__get_name(c, x, "name", &p->name, false, model__check_dns_label) < 0 ||
            model__get_int32(c, x, "count", &p->count, &has_count) < 0 ||
            model__get_int32(c, x, "minCount", &p->min_count, &p->has_min_count) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(w->pod_sets[j].name, p->name) == 0)
                return model__fail_at(c, "name", "duplicate pod set name \"%s\"", p->name);
        if (p->count < 1)
            return model__fail_at(c, "count", "must be >= 1 (got %d)", (int)p->count);
        if (p->has_min_count) {
            if (p->min_count < 1 || p->min_count > p->count)
                return model__fail_at(c, "minCount", "must be between 1 and count (%d) (got %d)",
                                      (int)p->count, (int)p->min_count);
            if (with_min != SIZE_MAX)
                return model__fail_at(c, "minCount",
                                      "only one pod set may set minCount (podSets[%zu] does)",
                                      with_min);
            with_min = i;
        }
        if (model__decode_pod_template(c, x, "template", &p->template) < 0 ||
            decode_topology_request(c, x, p) < 0)
            return -1;
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}

static int decode_priority(struct model__dctx *c, json_t *spec, struct model_workload *w)
{
    json_t *ref;
    if (model__get_object(c, spec, "priorityClassRef", &ref, false) < 0)
        return -1;
    if (ref) {
        size_t old = model__push(c, "priorityClassRef");
        static const char *const fields[] = {"group", "kind", "name", NULL};
        static const char *const groups[] = {"", "kueue.x-k8s.io", "scheduling.k8s.io", NULL};
        static const char *const kinds[] = {"", "WorkloadPriorityClass", "PriorityClass", NULL};
        int g = 0, k = 0;
        if (model__fields(c, ref, fields) < 0 || model__get_enum(c, ref, "group", groups, &g) < 0 ||
            model__get_enum(c, ref, "kind", kinds, &k) < 0 ||
            model__get_name(c, ref, "name", &w->priority_class_name, true,
                            model__check_dns_subdomain) < 0)
            return -1;
        if (!g)
            return model__fail_at(c, "group", "required");
        if (!k)
            return model__fail_at(c, "kind", "required");
        if (g != k)
            return model__fail_at(c, "kind", "%s belongs to group %s", kinds[k], groups[k]);
        w->priority_source = g == 1 ? MODEL_PRIORITY_SOURCE_WORKLOAD : MODEL_PRIORITY_SOURCE_POD;
        model__pop(c, old);
    }
    return model__get_int32(c, spec, "priority", &w->priority, &w->has_priority);
}

static int decode_admission(struct model__dctx *c, json_t *status, struct model_workload *w)
{
    json_t *adm, *arr, *placement;
    if (model__get_object(c, status, "admission", &adm, false) < 0)
        return -1;
    if (!adm)
        return 0;
    w->has_admission = true;
    size_t old = model__push(c, "admission");
    /* placement: muster's extension, where each pod goes (docs/cluster.md) */
    static const char *const fields[] = {"clusterQueue", "podSetAssignments", "placement", NULL};
    if (model__fields(c, adm, fields) < 0 ||
        model__get_name(c, adm, "clusterQueue", &w->admission_cluster_queue, true,
                        model__check_dns_subdomain) < 0 ||
        model__get_array(c, adm, "podSetAssignments", &arr, false, KUEUE_MAX_POD_SETS) < 0 ||
        model__get_array(c, adm, "placement", &placement, false, 0) < 0)
        return -1;
    size_t n = arr ? json_array_size(arr) : 0;
    w->assignments = arena_zalloc(c->a, (n ? n : 1) * sizeof *w->assignments);
    w->n_assignments = n;
    size_t o2 = model__push(c, "podSetAssignments");
    static const char *const afields[] = {
        "name", "flavors", "resourceUsage", "count", "topologyAssignment", "delayedTopologyRequest",
        NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        struct model_pod_set_assignment *a = &w->assignments[i];
        size_t o3 = model__push_index(c, i);
        a->name = "main";
        json_t *ta;
        const char *delayed;
        if (model__fields(c, x, afields) < 0 ||
            model__get_name(c, x, "name", &a->name, false, model__check_dns_label) < 0 ||
            model__get_string_map(c, x, "flavors", &a->flavors, MODEL__KV_RESOURCE_FLAVOR) < 0 ||
            model__get_resources(c, x, "resourceUsage", &a->resource_usage) < 0 ||
            model__get_int32(c, x, "count", &a->count, &a->has_count) < 0 ||
            model__get_object(c, x, "topologyAssignment", &ta, false) < 0 ||
            model__get_string(c, x, "delayedTopologyRequest", &delayed, false) < 0)
            return -1;
        if (a->has_count && a->count < 0)
            return model__fail_at(c, "count", "must be non-negative (got %d)", (int)a->count);
        bool found = false;
        for (size_t j = 0; j < w->n_pod_sets && !found; j++)
            found = strcmp(w->pod_sets[j].name, a->name) == 0;
        if (!found)
            return model__fail_at(c, "name", "no pod set named \"%s\" in spec.podSets", a->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(w->assignments[j].name, a->name) == 0)
                return model__fail_at(c, "name", "duplicate assignment for pod set \"%s\"",
                                      a->name);
        model__pop(c, o3);
    }
    model__pop(c, o2);
    model__pop(c, old);
    return 0;
}

int model__decode_workload(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_workload *w = &o->u.workload;
    json_t *spec, *status;
    if (model__fields(c, root, top_fields) < 0 ||
        model__get_object(c, root, "spec", &spec, true) < 0 ||
        model__get_object(c, root, "status", &status, false) < 0)
        return -1;

    size_t old = model__push(c, "spec");
    static const char *const fields[] = {"podSets",  "queueName", "priorityClassRef",
                                         "priority", "active",    "maximumExecutionTimeSeconds",
                                         NULL};
    w->active = true;
    if (model__fields(c, spec, fields) < 0 ||
        model__get_name(c, spec, "queueName", &w->queue_name, false, model__check_dns_subdomain) <
            0 ||
        decode_priority(c, spec, w) < 0 ||
        model__get_bool(c, spec, "active", &w->active, NULL) < 0 ||
        model__get_int32(c, spec, "maximumExecutionTimeSeconds", &w->max_exec_seconds,
                         &w->has_max_exec) < 0 ||
        decode_pod_sets(c, spec, w) < 0)
        return -1;
    if (w->has_max_exec && w->max_exec_seconds < 1)
        return model__fail_at(c, "maximumExecutionTimeSeconds", "must be >= 1 (got %d)",
                              (int)w->max_exec_seconds);
    model__pop(c, old);

    old = model__push(c, "status");
    static const char *const status_fields[] = {"conditions",
                                                "admission",
                                                "requeueState",
                                                "reclaimablePods",
                                                "admissionChecks",
                                                "resourceRequests",
                                                "accumulatedPastExecutionTimeSeconds",
                                                "schedulingStats",
                                                "nominatedClusterNames",
                                                "clusterName",
                                                "unhealthyNodes",
                                                NULL};
    json_t *rq, *ignored;
    if (model__fields(c, status, status_fields) < 0 ||
        model__get_conditions(c, status, "conditions", &w->conditions, &w->n_conditions) < 0 ||
        decode_admission(c, status, w) < 0 ||
        model__get_object(c, status, "requeueState", &rq, false) < 0 ||
        model__get_array(c, status, "reclaimablePods", &ignored, false, 0) < 0 ||
        model__get_array(c, status, "admissionChecks", &ignored, false, 0) < 0 ||
        model__get_array(c, status, "resourceRequests", &ignored, false, 0) < 0)
        return -1;
    if (rq) {
        w->has_requeue_state = true;
        size_t o2 = model__push(c, "requeueState");
        static const char *const rfields[] = {"count", "requeueAt", NULL};
        if (model__fields(c, rq, rfields) < 0 ||
            model__get_int32(c, rq, "count", &w->requeue_count, &w->has_requeue_count) < 0 ||
            model__get_time(c, rq, "requeueAt", &w->requeue_at_ns, &w->has_requeue_at) < 0)
            return -1;
        if (w->has_requeue_count && w->requeue_count < 0)
            return model__fail_at(c, "count", "must be non-negative");
        model__pop(c, o2);
    }
    model__pop(c, old);
    return 0;
}
