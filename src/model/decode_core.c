/*
 * decode_core: core/v1 Namespace and Node, scheduling.k8s.io/v1 PriorityClass,
 * and the corev1.PodTemplateSpec inside a Workload's pod sets.
 *
 * Of Node and PodSpec only what scheduling reads is decoded; the many other
 * fields Kubernetes defines are accepted by name and not inspected ("known but
 * unused"), so real manifests and `kubectl get -o yaml` output decode, while a
 * misspelt field is still an error.
 */
#include <string.h>

#include "model/model_internal.h"

static const char *const top_fields[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};

/* ---- Namespace ----------------------------------------------------------- */

int model__decode_namespace(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    (void)o;
    if (model__fields(c, root, top_fields) < 0)
        return -1;
    json_t *spec, *status;
    if (model__get_object(c, root, "spec", &spec, false) < 0 ||
        model__get_object(c, root, "status", &status, false) < 0)
        return -1;
    size_t old = model__push(c, "spec");
    static const char *const spec_fields[] = {"finalizers", NULL};
    struct model_string_list fin;
    if (model__fields(c, spec, spec_fields) < 0 ||
        model__get_string_list(c, spec, "finalizers", &fin, 0, NULL, false) < 0)
        return -1;
    model__pop(c, old);
    old = model__push(c, "status");
    static const char *const status_fields[] = {"phase", "conditions", NULL};
    static const char *const phases[] = {"Active", "Terminating", NULL};
    int phase;
    json_t *conds;
    if (model__fields(c, status, status_fields) < 0 ||
        model__get_enum(c, status, "phase", phases, &phase) < 0 ||
        model__get_array(c, status, "conditions", &conds, false, 0) < 0)
        return -1;
    model__pop(c, old);
    return 0;
}

/* ---- Node ---------------------------------------------------------------- */

int model__decode_node(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_node *n = &o->u.node;
    if (model__fields(c, root, top_fields) < 0)
        return -1;
    json_t *spec, *status;
    if (model__get_object(c, root, "spec", &spec, false) < 0 ||
        model__get_object(c, root, "status", &status, false) < 0)
        return -1;

    size_t old = model__push(c, "spec");
    static const char *const spec_fields[] = {"podCIDR",       "podCIDRs", "providerID",
                                              "unschedulable", "taints",   "configSource",
                                              "externalID",    NULL};
    if (model__fields(c, spec, spec_fields) < 0 ||
        model__get_bool(c, spec, "unschedulable", &n->unschedulable, NULL) < 0 ||
        model__get_taints(c, spec, "taints", &n->taints, &n->n_taints, 0) < 0)
        return -1;
    model__pop(c, old);

    old = model__push(c, "status");
    static const char *const status_fields[] = {"capacity",        "allocatable", "phase",
                                                "conditions",      "addresses",   "daemonEndpoints",
                                                "nodeInfo",        "images",      "volumesInUse",
                                                "volumesAttached", "config",      "runtimeHandlers",
                                                "features",        NULL};
    if (model__fields(c, status, status_fields) < 0 ||
        model__get_resources(c, status, "capacity", &n->capacity) < 0 ||
        model__get_resources(c, status, "allocatable", &n->allocatable) < 0)
        return -1;
    n->has_allocatable = model__field(status, "allocatable") != NULL;
    if (!n->has_allocatable)
        n->allocatable = n->capacity;
    for (size_t i = 0; i < n->allocatable.len; i++) {
        const struct model_resource *cap =
            model_resources_find(&n->capacity, n->allocatable.v[i].name);
        if (cap && n->allocatable.v[i].milli > cap->milli) {
            size_t o2 = model__push(c, "allocatable");
            model__push_key(c, n->allocatable.v[i].name);
            model__fail(c, "must not exceed capacity");
            model__pop(c, o2);
            return -1;
        }
    }
    model__pop(c, old);
    return 0;
}

/* ---- PriorityClass ------------------------------------------------------- */

/* Kubernetes reserves values above this for the system-* classes. */
#define HIGHEST_USER_PRIORITY 1000000000

int model__decode_priority_class(struct model__dctx *c, json_t *root, struct model_obj *o)
{
    struct model_priority_class *p = &o->u.priority_class;
    static const char *const fields[] = {
        "apiVersion",    "kind",        "metadata",         "value",
        "globalDefault", "description", "preemptionPolicy", NULL};
    static const char *const policies[] = {"PreemptLowerPriority", "Never", NULL};
    bool has_value;
    int pol = 0;
    p->description = "";
    if (model__fields(c, root, fields) < 0 ||
        model__get_int32(c, root, "value", &p->value, &has_value) < 0 ||
        model__get_bool(c, root, "globalDefault", &p->global_default, NULL) < 0 ||
        model__get_string(c, root, "description", &p->description, false) < 0 ||
        model__get_enum(c, root, "preemptionPolicy", policies, &pol) < 0)
        return -1;
    if (!has_value)
        return model__fail_at(c, "value", "required");
    if (p->value > HIGHEST_USER_PRIORITY && strncmp(o->meta.name, "system-", 7) != 0)
        return model__fail_at(c, "value", "must be <= %d for a class not named system-* (got %d)",
                              HIGHEST_USER_PRIORITY, (int)p->value);
    p->preemption_policy = (enum model_preemption_policy_pc)pol;
    return 0;
}

/* ---- PodTemplateSpec ----------------------------------------------------- */

static const char *const container_fields[] = {"name",
                                               "image",
                                               "command",
                                               "args",
                                               "workingDir",
                                               "ports",
                                               "envFrom",
                                               "env",
                                               "resources",
                                               "resizePolicy",
                                               "restartPolicy",
                                               "volumeMounts",
                                               "volumeDevices",
                                               "livenessProbe",
                                               "readinessProbe",
                                               "startupProbe",
                                               "lifecycle",
                                               "terminationMessagePath",
                                               "terminationMessagePolicy",
                                               "imagePullPolicy",
                                               "securityContext",
                                               "stdin",
                                               "stdinOnce",
                                               "tty",
                                               NULL};

static const char *const podspec_fields[] = {"containers",
                                             "initContainers",
                                             "ephemeralContainers",
                                             "nodeSelector",
                                             "tolerations",
                                             "priorityClassName",
                                             "overhead",
                                             "priority",
                                             "preemptionPolicy",
                                             "volumes",
                                             "restartPolicy",
                                             "terminationGracePeriodSeconds",
                                             "activeDeadlineSeconds",
                                             "dnsPolicy",
                                             "serviceAccountName",
                                             "serviceAccount",
                                             "automountServiceAccountToken",
                                             "nodeName",
                                             "hostNetwork",
                                             "hostPID",
                                             "hostIPC",
                                             "shareProcessNamespace",
                                             "securityContext",
                                             "imagePullSecrets",
                                             "hostname",
                                             "subdomain",
                                             "affinity",
                                             "schedulerName",
                                             "hostAliases",
                                             "dnsConfig",
                                             "readinessGates",
                                             "runtimeClassName",
                                             "enableServiceLinks",
                                             "topologySpreadConstraints",
                                             "setHostnameAsFQDN",
                                             "os",
                                             "hostUsers",
                                             "schedulingGates",
                                             "resourceClaims",
                                             "resources",
                                             "hostnameOverride",
                                             NULL};

/* a += b for every resource of b, in the arena. Fails on overflow. */
static int res_add(struct model__dctx *c, struct model_resource_list *a,
                   const struct model_resource_list *b)
{
    struct model_resource *v = arena_alloc(c->a, (a->len + b->len + 1) * sizeof *v);
    if (a->len)
        memcpy(v, a->v, a->len * sizeof *v);
    size_t n = a->len;
    for (size_t i = 0; i < b->len; i++) {
        size_t j = 0;
        while (j < n && strcmp(v[j].name, b->v[i].name) != 0)
            j++;
        if (j == n)
            v[n++] = (struct model_resource){b->v[i].name, 0};
        if (__builtin_add_overflow(v[j].milli, b->v[i].milli, &v[j].milli))
            return model__fail(c, "requests of %s overflow", b->v[i].name);
    }
    a->v = v;
    a->len = n;
    return 0;
}

/* a = max(a, b) per resource, in the arena. */
static void res_max(struct model__dctx *c, struct model_resource_list *a,
                    const struct model_resource_list *b)
{
    struct model_resource *v = arena_alloc(c->a, (a->len + b->len + 1) * sizeof *v);
    if (a->len)
        memcpy(v, a->v, a->len * sizeof *v);
    size_t n = a->len;
    for (size_t i = 0; i < b->len; i++) {
        size_t j = 0;
        while (j < n && strcmp(v[j].name, b->v[i].name) != 0)
            j++;
        if (j == n)
            v[n++] = b->v[i];
        else if (b->v[i].milli > v[j].milli)
            v[j].milli = b->v[i].milli;
    }
    a->v = v;
    a->len = n;
}

static int decode_containers(struct model__dctx *c, json_t *spec, const char *key, bool init,
                             struct model_container **out, size_t *n_out, bool required)
{
    json_t *arr;
    if (model__get_array(c, spec, key, &arr, required, 0) < 0)
        return -1;
    *out = NULL;
    *n_out = 0;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    if (required && n == 0)
        return model__fail_at(c, key, "must have at least one container");
    struct model_container *v = arena_zalloc(c->a, (n ? n : 1) * sizeof *v);
    size_t old = model__push(c, key);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        size_t o2 = model__push_index(c, i);
        json_t *res;
        const char *restart = NULL;
        if (model__fields(c, x, container_fields) < 0 ||
            model__get_name(c, x, "name", &v[i].name, true, model__check_dns_label) < 0 ||
            model__get_object(c, x, "resources", &res, false) < 0 ||
            model__get_string(c, x, "restartPolicy", &restart, false) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[j].name, v[i].name) == 0)
                return model__fail_at(c, "name", "duplicate container name \"%s\"", v[i].name);
        if (restart) {
            if (!init || strcmp(restart, "Always") != 0)
                return model__fail_at(c, "restartPolicy",
                                      "unsupported value \"%.20s\": only Always, and only for "
                                      "init containers",
                                      restart);
            v[i].sidecar = true;
        }
        size_t o3 = model__push(c, "resources");
        static const char *const res_fields[] = {"requests", "limits", "claims", NULL};
        json_t *claims;
        if (model__fields(c, res, res_fields) < 0 ||
            model__get_resources(c, res, "requests", &v[i].requests) < 0 ||
            model__get_resources(c, res, "limits", &v[i].limits) < 0 ||
            model__get_array(c, res, "claims", &claims, false, 0) < 0)
            return -1;
        /* The API server defaults a missing request to its limit. */
        struct model_resource_list req = v[i].requests;
        for (size_t j = 0; j < v[i].limits.len; j++) {
            const struct model_resource *r = model_resources_find(&req, v[i].limits.v[j].name);
            if (r && r->milli > v[i].limits.v[j].milli) {
                size_t o4 = model__push(c, "requests");
                model__push_key(c, r->name);
                model__fail(c, "must be less than or equal to the limit");
                model__pop(c, o4);
                return -1;
            }
        }
        struct model_resource_list missing = {
            arena_alloc(c->a, (v[i].limits.len + 1) * sizeof(struct model_resource)), 0};
        for (size_t j = 0; j < v[i].limits.len; j++)
            if (!model_resources_find(&req, v[i].limits.v[j].name))
                missing.v[missing.len++] = v[i].limits.v[j];
        if (missing.len && res_add(c, &v[i].requests, &missing) < 0)
            return -1;
        model__pop(c, o3);
        model__pop(c, o2);
    }
    model__pop(c, old);
    *out = v;
    *n_out = n;
    return 0;
}

/* What one pod requests, as Kubernetes' resource helper computes it. */
static int pod_requests(struct model__dctx *c, struct model_pod_template *t)
{
    struct model_resource_list reqs = {0}, sidecars = {0}, init_max = {0};
    for (size_t i = 0; i < t->n_containers; i++)
        if (res_add(c, &reqs, &t->containers[i].requests) < 0)
            return -1;
    for (size_t i = 0; i < t->n_init_containers; i++) {
        const struct model_container *ic = &t->init_containers[i];
        struct model_resource_list during = {0};
        if (ic->sidecar) {
            /* A sidecar keeps running beside the main containers. */
            if (res_add(c, &reqs, &ic->requests) < 0 || res_add(c, &sidecars, &ic->requests) < 0)
                return -1;
            during = sidecars;
        } else {
            if (res_add(c, &during, &ic->requests) < 0 || res_add(c, &during, &sidecars) < 0)
                return -1;
        }
        res_max(c, &init_max, &during);
    }
    res_max(c, &reqs, &init_max);
    if (res_add(c, &reqs, &t->overhead) < 0)
        return -1;
    t->pod_requests = reqs;
    return 0;
}

int model__decode_pod_template(struct model__dctx *c, json_t *obj, const char *key,
                               struct model_pod_template *t)
{
    json_t *tmpl, *meta, *spec;
    if (model__get_object(c, obj, key, &tmpl, true) < 0)
        return -1;
    size_t old = model__push(c, key);
    static const char *const tfields[] = {"metadata", "spec", NULL};
    if (model__fields(c, tmpl, tfields) < 0 ||
        model__get_object(c, tmpl, "metadata", &meta, false) < 0 ||
        model__get_object(c, tmpl, "spec", &spec, true) < 0)
        return -1;

    size_t o2 = model__push(c, "metadata");
    static const char *const mfields[] = {
        "labels",       "annotations",       "name",       "namespace",
        "generateName", "creationTimestamp", "finalizers", NULL};
    const char *ignored;
    if (model__fields(c, meta, mfields) < 0 ||
        model__get_string_map(c, meta, "labels", &t->labels, MODEL__KV_LABELS) < 0 ||
        model__get_string_map(c, meta, "annotations", &t->annotations, MODEL__KV_ANNOTATIONS) < 0 ||
        model__get_string(c, meta, "name", &ignored, false) < 0 ||
        model__get_string(c, meta, "namespace", &ignored, false) < 0 ||
        model__get_string(c, meta, "generateName", &ignored, false) < 0)
        return -1;
    int64_t ts;
    if (model__get_time(c, meta, "creationTimestamp", &ts, NULL) < 0)
        return -1;
    model__pop(c, o2);

    o2 = model__push(c, "spec");
    if (model__fields(c, spec, podspec_fields) < 0 ||
        decode_containers(c, spec, "containers", false, &t->containers, &t->n_containers, true) <
            0 ||
        decode_containers(c, spec, "initContainers", true, &t->init_containers,
                          &t->n_init_containers, false) < 0 ||
        model__get_string_map(c, spec, "nodeSelector", &t->node_selector, MODEL__KV_LABELS) < 0 ||
        model__get_tolerations(c, spec, "tolerations", &t->tolerations, &t->n_tolerations, 0) < 0 ||
        model__get_name(c, spec, "priorityClassName", &t->priority_class_name, false,
                        model__check_dns_subdomain) < 0 ||
        model__get_resources(c, spec, "overhead", &t->overhead) < 0)
        return -1;
    for (size_t i = 0; i < t->n_init_containers; i++)
        for (size_t j = 0; j < t->n_containers; j++)
            if (strcmp(t->init_containers[i].name, t->containers[j].name) == 0) {
                size_t o3 = model__push(c, "initContainers");
                model__push_index(c, i);
                model__fail_at(c, "name", "duplicate container name \"%s\"", t->containers[j].name);
                model__pop(c, o3);
                return -1;
            }
    if (pod_requests(c, t) < 0)
        return -1;
    model__pop(c, o2);
    model__pop(c, old);
    return 0;
}
