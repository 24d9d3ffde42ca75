/*
 * convert_kueue: kueue.x-k8s.io objects between v1beta1 and v1beta2, as JSON
 * trees, the one place that knows how the two versions differ.
 *
 * v1beta2 is Kueue's storage (hub) version. The API server stores every Kueue
 * object in v1beta2 and converts to v1beta1 when a request names v1beta1, as
 * Kueue's conversion webhook does; the decoder turns v1beta1 (and v1alpha1)
 * into v1beta2 with the same code before it reads an object, so its per-kind
 * decoders know the v1beta2 field names only.
 *
 * The differences, read from kubernetes-sigs/kueue apis/kueue/v1beta1
 * (zz_generated.conversion.go and the hand-written *_conversion.go):
 *
 *   ClusterQueue spec.cohort                    <-> spec.cohortName
 *   ClusterQueue spec.admissionChecks [names]   <-> spec.admissionChecksStrategy
 *                                                   .admissionChecks[{name}]
 *                                                   (rules of names alone)
 *   ClusterQueue flavorFungibility Borrow,        -> MayStopSearch
 *                Preempt
 *   ClusterQueue status.pendingWorkloadsStatus    -> dropped (v1beta1 only)
 *   Cohort       spec.parent (v1alpha1, early     -> spec.parentName
 *                v1beta1)
 *   LocalQueue   status.flavorUsage              <-> status.flavorsUsage
 *   LocalQueue   status.flavors                   -> dropped (v1beta1 only)
 *   Workload     spec.priorityClassName +        <-> spec.priorityClassRef
 *                spec.priorityClassSource            {group, kind, name}
 *   Workload     status.accumulatedPastExexcution<-> status.accumulatedPast
 *                TimeSeconds (sic)                   ExecutionTimeSeconds
 *   Workload     status.admission.podSetAssign-  <-> ...topologyAssignment
 *                ments[].topologyAssignment          .slices (the compressed
 *                .domains [{values, count}]          form: one slice, common
 *                                                    prefixes and suffixes)
 *
 * ResourceFlavor, Topology and WorkloadPriorityClass differ only in apiVersion.
 * A field only the target version has cannot be written in the source one: a
 * v1beta1 object with spec.cohortName is refused as an unknown field, as
 * Kueue's v1beta1 schema refuses it.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/model_internal.h"

#define KUEUE_GROUP "kueue.x-k8s.io"

/* The most domains a topology assignment is expanded to (Kueue's MaxItems). */
#define MAX_DOMAINS 100000

static json_t *obj_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_object(v) ? v : NULL;
}

/* Moves parent[from] to parent[to] (replacing it); nothing when absent. */
static void rename_key(json_t *parent, const char *from, const char *to)
{
    json_t *v = json_object_get(parent, from);
    if (!v)
        return;
    json_object_set(parent, to, v);
    json_object_del(parent, from);
}

/* Fails with `unknown field "<path>.<key>"` when parent has key: a field of
 * the target version written in the source version. */
static int only_in_target(struct model__dctx *c, json_t *parent, const char *path,
                          const char *key)
{
    if (!json_object_get(parent, key))
        return 0;
    size_t old = model__push(c, path);
    model__unknown_field(c, key);
    model__pop(c, old);
    return -1;
}

/* ---- ClusterQueue ------------------------------------------------------- */

static int cq_to_v1beta2(struct model__dctx *c, json_t *root)
{
    json_t *spec = obj_at(root, "spec");
    if (only_in_target(c, spec, "spec", "cohortName") < 0)
        return -1;
    json_t *cohort = json_object_get(spec, "cohort");
    if (json_is_string(cohort) && !json_string_length(cohort))
        json_object_del(spec, "cohort"); /* "" is no cohort; cohortName omits it */
    rename_key(spec, "cohort", "cohortName");

    json_t *checks = json_object_get(spec, "admissionChecks");
    if (checks) {
        size_t old = model__push(c, "spec");
        if (!json_is_array(checks))
            return model__fail_at(c, "admissionChecks", "must be a list (got %s)",
                                  model__type_name(checks));
        if (json_array_size(checks) && json_object_get(spec, "admissionChecksStrategy"))
            return model__fail(c, "admissionChecks and admissionChecksStrategy cannot both "
                                  "be set");
        json_t *rules = json_array();
        size_t i;
        json_t *name;
        json_array_foreach(checks, i, name)
        {
            if (!json_is_string(name)) {
                json_decref(rules);
                size_t o2 = model__push(c, "admissionChecks");
                model__push_index(c, i);
                model__fail(c, "must be a string (got %s)", model__type_name(name));
                model__pop(c, o2);
                return -1;
            }
            json_array_append_new(rules, json_pack("{s:O}", "name", name));
        }
        model__pop(c, old);
        if (json_array_size(rules))
            json_object_set_new(spec, "admissionChecksStrategy",
                                json_pack("{s:o}", "admissionChecks", rules));
        else
            json_decref(rules);
        json_object_del(spec, "admissionChecks");
    }

    /* v1beta1 spells MayStopSearch Borrow (whenCanBorrow) and Preempt
     * (whenCanPreempt); recent v1beta1 releases accept MayStopSearch too. */
    json_t *ff = obj_at(spec, "flavorFungibility");
    static const struct {
        const char *field, *old;
    } fung[] = {{"whenCanBorrow", "Borrow"}, {"whenCanPreempt", "Preempt"}};
    for (size_t i = 0; i < 2; i++) {
        const char *v = json_string_value(json_object_get(ff, fung[i].field));
        if (v && !strcmp(v, fung[i].old))
            json_object_set_new(ff, fung[i].field, json_string("MayStopSearch"));
    }
    json_object_del(obj_at(root, "status"), "pendingWorkloadsStatus"); /* v1beta1 only */
    return 0;
}

/* A strategy whose rules are names alone is what a v1beta1 admissionChecks
 * list converts to, and is shown as that list again: Kueue keeps the strategy,
 * but then a v1beta1 manifest with admissionChecks cannot be applied a second
 * time (kubectl's patch would add the list beside the strategy, which v1beta1
 * refuses). Rules with onFlavors stay a strategy, which v1beta1 has too. */
static void checks_to_v1beta1(json_t *spec)
{
    json_t *st = obj_at(spec, "admissionChecksStrategy");
    json_t *rules = json_object_get(st, "admissionChecks");
    if (!json_array_size(rules) || json_object_size(st) != 1)
        return;
    json_t *names = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        json_t *n = json_object_get(r, "name");
        if (!json_is_object(r) || !json_is_string(n) || json_object_size(r) != 1) {
            json_decref(names);
            return;
        }
        json_array_append(names, n);
    }
    json_object_set_new(spec, "admissionChecks", names);
    json_object_del(spec, "admissionChecksStrategy");
}

static void cq_to_v1beta1(json_t *root)
{
    json_t *spec = obj_at(root, "spec");
    rename_key(spec, "cohortName", "cohort");
    checks_to_v1beta1(spec);
}

/* ---- Cohort and LocalQueue ------------------------------------------------ */

static int cohort_to_v1beta2(struct model__dctx *c, json_t *root)
{
    /* v1alpha1 and the first v1beta1 releases name the parent "parent";
     * later v1beta1 releases use parentName, as v1beta2 does. */
    json_t *spec = obj_at(root, "spec");
    if (json_object_get(spec, "parent") && json_object_get(spec, "parentName")) {
        size_t old = model__push(c, "spec");
        model__unknown_field(c, "parent");
        model__pop(c, old);
        return -1;
    }
    rename_key(spec, "parent", "parentName");
    return 0;
}

static int lq_to_v1beta2(struct model__dctx *c, json_t *root)
{
    json_t *st = obj_at(root, "status");
    if (only_in_target(c, st, "status", "flavorsUsage") < 0)
        return -1;
    rename_key(st, "flavorUsage", "flavorsUsage");
    json_object_del(st, "flavors");
    return 0;
}

static void lq_to_v1beta1(json_t *root)
{
    rename_key(obj_at(root, "status"), "flavorsUsage", "flavorUsage");
}

/* ---- Workload: priority class ------------------------------------------- */

static const struct {
    const char *source; /* v1beta1 priorityClassSource */
    const char *group, *kind;
} prio_sources[] = {
    {"kueue.x-k8s.io/workloadpriorityclass", KUEUE_GROUP, "WorkloadPriorityClass"},
    {"scheduling.k8s.io/priorityclass", "scheduling.k8s.io", "PriorityClass"},
};

static int prio_to_v1beta2(struct model__dctx *c, json_t *spec)
{
    if (only_in_target(c, spec, "spec", "priorityClassRef") < 0)
        return -1;
    json_t *src = json_object_get(spec, "priorityClassSource");
    json_t *name = json_object_get(spec, "priorityClassName");
    size_t old = model__push(c, "spec");
    if (src && !json_is_string(src))
        return model__fail_at(c, "priorityClassSource", "must be a string (got %s)",
                              model__type_name(src));
    if (name && !json_is_string(name))
        return model__fail_at(c, "priorityClassName", "must be a string (got %s)",
                              model__type_name(name));
    model__pop(c, old);
    const char *s = json_string_value(src), *n = json_string_value(name);
    size_t i = 0;
    if (s && *s) {
        while (i < 2 && strcmp(prio_sources[i].source, s))
            i++;
        if (i == 2) {
            old = model__push(c, "spec");
            model__fail_at(c, "priorityClassSource",
                           "unsupported value \"%.60s\": must be one of "
                           "kueue.x-k8s.io/workloadpriorityclass, "
                           "scheduling.k8s.io/priorityclass, \"\"",
                           s);
            model__pop(c, old);
            return -1;
        }
        /* A source without a name refers to nothing. */
        if (n && *n)
            json_object_set_new(spec, "priorityClassRef",
                                json_pack("{s:s,s:s,s:s}", "group", prio_sources[i].group,
                                          "kind", prio_sources[i].kind, "name", n));
    }
    /* Without a source Kueue's conversion drops the name, as here. */
    json_object_del(spec, "priorityClassSource");
    json_object_del(spec, "priorityClassName");
    return 0;
}

static void prio_to_v1beta1(json_t *spec)
{
    json_t *ref = obj_at(spec, "priorityClassRef");
    const char *g = json_string_value(json_object_get(ref, "group"));
    const char *k = json_string_value(json_object_get(ref, "kind"));
    const char *n = json_string_value(json_object_get(ref, "name"));
    for (size_t i = 0; g && k && n && i < 2; i++)
        if (!strcmp(g, prio_sources[i].group) && !strcmp(k, prio_sources[i].kind)) {
            json_object_set_new(spec, "priorityClassName", json_string(n));
            json_object_set_new(spec, "priorityClassSource", json_string(prio_sources[i].source));
        }
    json_object_del(spec, "priorityClassRef");
}

/* ---- Workload: topology assignments ------------------------------------- */

/* Length of the common prefix (suffix with back) of the strings of a. */
static size_t common_affix(json_t *a, bool back)
{
    const char *first = json_string_value(json_array_get(a, 0));
    size_t n = strlen(first);
    for (size_t i = 1; i < json_array_size(a) && n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t len = strlen(s), m = 0, fl = strlen(first);
        while (m < n && m < len &&
               (back ? s[len - 1 - m] == first[fl - 1 - m] : s[m] == first[m]))
            m++;
        n = m;
    }
    return n;
}

/* One level's values as v1beta2's TopologyAssignmentSliceLevelValues: universal
 * when all are equal, else individual with the common prefix and suffix taken
 * out (never overlapping, so every root keeps what is its own). */
static json_t *level_values(json_t *vals)
{
    size_t n = json_array_size(vals), minlen = SIZE_MAX;
    bool same = true;
    const char *first = json_string_value(json_array_get(vals, 0));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(vals, i));
        same = same && !strcmp(s, first);
        if (strlen(s) < minlen)
            minlen = strlen(s);
    }
    if (same)
        return json_pack("{s:s}", "universal", first);
    size_t pre = common_affix(vals, false), suf = common_affix(vals, true);
    if (suf > minlen)
        suf = minlen;
    if (pre + suf > minlen)
        pre = minlen - suf;
    json_t *ind = json_object(), *roots = json_array();
    if (pre)
        json_object_set_new(ind, "prefix", json_stringn(first, pre));
    if (suf)
        json_object_set_new(ind, "suffix", json_string(first + strlen(first) - suf));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(vals, i));
        json_array_append_new(roots, json_stringn(s + pre, strlen(s) - pre - suf));
    }
    json_object_set_new(ind, "roots", roots);
    return json_pack("{s:o}", "individual", ind);
}

/* v1beta1 {levels, domains[{values, count}]} -> v1beta2 {levels, slices}, as
 * Kueue encodes it: one slice for all domains. */
static int ta_to_v1beta2(struct model__dctx *c, json_t *ta)
{
    if (only_in_target(c, ta, "topologyAssignment", "slices") < 0)
        return -1;
    json_t *domains = json_object_get(ta, "domains");
    if (!domains)
        return 0;
    size_t old = model__push(c, "topologyAssignment");
    size_t nd = json_array_size(domains), nl = json_array_size(json_object_get(ta, "levels"));
    if (!json_is_array(domains))
        return model__fail_at(c, "domains", "must be a list (got %s)",
                              model__type_name(domains));
    if (nd > MAX_DOMAINS)
        return model__fail_at(c, "domains", "must have at most %d items", MAX_DOMAINS);
    /* Check the shape first, so that the slice is built from valid input. */
    bool same_count = true;
    json_int_t count0 = 0;
    size_t o2 = model__push(c, "domains");
    for (size_t d = 0; d < nd; d++) {
        json_t *dom = json_array_get(domains, d), *vals = json_object_get(dom, "values");
        json_t *cnt = json_object_get(dom, "count");
        size_t o3 = model__push_index(c, d);
        if (!json_is_object(dom) || !json_is_array(vals) || json_array_size(vals) != nl)
            return model__fail(c, "must be {values, count} with one value per level (%zu)", nl);
        for (size_t l = 0; l < nl; l++)
            if (!json_is_string(json_array_get(vals, l)))
                return model__fail_at(c, "values", "must be a list of strings");
        if (!json_is_integer(cnt) || json_integer_value(cnt) < 1)
            return model__fail_at(c, "count", "must be an integer >= 1");
        if (d == 0)
            count0 = json_integer_value(cnt);
        same_count = same_count && json_integer_value(cnt) == count0;
        model__pop(c, o3);
    }
    model__pop(c, o2);
    model__pop(c, old);
    json_t *slices = json_array();
    if (nd) {
        json_t *per_level = json_array(), *counts = json_array();
        for (size_t l = 0; l < nl; l++) {
            json_t *vals = json_array();
            for (size_t d = 0; d < nd; d++)
                json_array_append(vals, json_array_get(
                                            json_object_get(json_array_get(domains, d), "values"),
                                            l));
            json_array_append_new(per_level, level_values(vals));
            json_decref(vals);
        }
        for (size_t d = 0; d < nd; d++)
            json_array_append(counts, json_object_get(json_array_get(domains, d), "count"));
        json_t *pc = same_count ? json_pack("{s:I}", "universal", count0)
                                : json_pack("{s:O}", "individual", counts);
        json_decref(counts);
        json_array_append_new(slices, json_pack("{s:I,s:o,s:o}", "domainCount", (json_int_t)nd,
                                                "valuesPerLevel", per_level, "podCounts", pc));
    }
    json_object_set_new(ta, "slices", slices);
    json_object_del(ta, "domains");
    return 0;
}

/* The value of one level of one domain of a slice; NULL when malformed. */
static json_t *slice_value(json_t *lv, size_t d)
{
    json_t *u = json_object_get(lv, "universal");
    if (json_is_string(u))
        return json_incref(u);
    json_t *ind = obj_at(lv, "individual");
    const char *root = json_string_value(json_array_get(json_object_get(ind, "roots"), d));
    if (!root)
        return NULL;
    const char *pre = json_string_value(json_object_get(ind, "prefix"));
    const char *suf = json_string_value(json_object_get(ind, "suffix"));
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s%s%s", pre ? pre : "", root, suf ? suf : "");
    return n < 0 || (size_t)n >= sizeof buf ? NULL : json_string(buf);
}

/* v1beta2 slices -> v1beta1 domains. A malformed assignment (which v1beta2
 * validation would have refused) loses its malformed slices. */
static void ta_to_v1beta1(json_t *ta)
{
    json_t *slices = json_object_get(ta, "slices");
    if (!slices)
        return;
    json_t *domains = json_array();
    size_t i;
    json_t *sl;
    json_array_foreach(slices, i, sl)
    {
        json_int_t nd = json_integer_value(json_object_get(sl, "domainCount"));
        json_t *levels = json_object_get(sl, "valuesPerLevel");
        json_t *pc = obj_at(sl, "podCounts");
        for (json_int_t d = 0; d < nd && json_array_size(domains) < MAX_DOMAINS; d++) {
            json_t *cnt = json_object_get(pc, "universal");
            if (!cnt)
                cnt = json_array_get(json_object_get(pc, "individual"), (size_t)d);
            json_t *vals = json_array();
            bool ok = json_is_integer(cnt);
            for (size_t l = 0; ok && l < json_array_size(levels); l++) {
                json_t *v = slice_value(json_array_get(levels, l), (size_t)d);
                ok = v != NULL;
                if (v)
                    json_array_append_new(vals, v);
            }
            if (ok)
                json_array_append_new(domains,
                                      json_pack("{s:o,s:O}", "values", vals, "count", cnt));
            else
                json_decref(vals);
        }
    }
    json_object_set_new(ta, "domains", domains);
    json_object_del(ta, "slices");
}

/* Calls each topologyAssignment of status.admission.podSetAssignments[]. */
static int each_assignment(struct model__dctx *c, json_t *root, bool to_v2)
{
    json_t *psa =
        json_object_get(obj_at(obj_at(root, "status"), "admission"), "podSetAssignments");
    size_t i;
    json_t *a;
    json_array_foreach(psa, i, a)
    {
        json_t *ta = obj_at(a, "topologyAssignment");
        if (!ta)
            continue;
        if (!to_v2) {
            ta_to_v1beta1(ta);
            continue;
        }
        size_t old = model__push(c, "status.admission.podSetAssignments");
        model__push_index(c, i);
        if (ta_to_v1beta2(c, ta) < 0)
            return -1;
        model__pop(c, old);
    }
    return 0;
}

static int wl_to_v1beta2(struct model__dctx *c, json_t *root)
{
    json_t *st = obj_at(root, "status");
    if (prio_to_v1beta2(c, obj_at(root, "spec")) < 0 ||
        only_in_target(c, st, "status", "accumulatedPastExecutionTimeSeconds") < 0)
        return -1;
    rename_key(st, "accumulatedPastExexcutionTimeSeconds", "accumulatedPastExecutionTimeSeconds");
    return each_assignment(c, root, true);
}

static void wl_to_v1beta1(json_t *root)
{
    json_t *spec = obj_at(root, "spec");
    if (spec)
        prio_to_v1beta1(spec);
    rename_key(obj_at(root, "status"), "accumulatedPastExecutionTimeSeconds",
               "accumulatedPastExexcutionTimeSeconds");
    each_assignment(NULL, root, false);
}

/* ---- entry points ------------------------------------------------------- */

int model__kueue_convert(struct model__dctx *c, json_t *root, const char *kind,
                         enum model_api_version to)
{
    static const char *const names[] = {[MODEL_API_V1ALPHA1] = "v1alpha1",
                                        [MODEL_API_V1BETA1] = "v1beta1",
                                        [MODEL_API_V1BETA2] = "v1beta2"};
    assert(to == MODEL_API_V1BETA1 || to == MODEL_API_V1BETA2);
    int rc = 0;
    if (to == MODEL_API_V1BETA2) {
        if (!strcmp(kind, "ClusterQueue"))
            rc = cq_to_v1beta2(c, root);
        else if (!strcmp(kind, "Cohort"))
            rc = cohort_to_v1beta2(c, root);
        else if (!strcmp(kind, "LocalQueue"))
            rc = lq_to_v1beta2(c, root);
        else if (!strcmp(kind, "Workload"))
            rc = wl_to_v1beta2(c, root);
    } else {
        if (!strcmp(kind, "ClusterQueue"))
            cq_to_v1beta1(root);
        else if (!strcmp(kind, "LocalQueue"))
            lq_to_v1beta1(root);
        else if (!strcmp(kind, "Workload"))
            wl_to_v1beta1(root);
    }
    if (rc == 0)
        json_object_set_new(root, "apiVersion", json_sprintf(KUEUE_GROUP "/%s", names[to]));
    return rc;
}

int model_kueue_convert(json_t *obj, enum model_api_version to, struct err *e)
{
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    size_t gl = strlen(KUEUE_GROUP);
    if (!av || !kind || strncmp(av, KUEUE_GROUP "/", gl + 1))
        return 0; /* not a Kueue object: nothing to convert */
    static const char *const target[] = {[MODEL_API_V1BETA1] = "v1beta1",
                                         [MODEL_API_V1BETA2] = "v1beta2"};
    if (to != MODEL_API_V1BETA1 && to != MODEL_API_V1BETA2)
        return errf(e, EINVAL, "%s: cannot convert to that version", kind);
    if (!strcmp(av + gl + 1, target[to]))
        return 0;
    struct model__dctx c = {.e = e};
    json_t *md = obj_at(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    if (model_kind_namespaced(model_kind_from_name(kind)))
        snprintf(c.desc, sizeof c.desc, "%.40s \"%.30s/%.50s\"", kind, ns && *ns ? ns : "default",
                 name ? name : "");
    else
        snprintf(c.desc, sizeof c.desc, "%.40s \"%.50s\"", kind, name ? name : "");
    return model__kueue_convert(&c, obj, kind, to);
}
