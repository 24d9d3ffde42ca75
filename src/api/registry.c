/* api/registry: the static table of served kinds (see registry.h). */
#include "api/registry.h"

#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"

static const char *const none[] = {NULL};
static const char *const cat_all[] = {"all", NULL};

#define SN(...) ((const char *const[]){__VA_ARGS__, NULL})

#define ALL  API_VERBS_ALL
#define ST   API_SUB_STATUS
#define NS   true
#define CL   false
#define NOMD MODEL_KIND_NONE

/* Kueue serves v1beta2 (the storage version) and v1beta1 with the same kinds. */
#define KUEUE_KINDS(v, pref)                                                                       \
    {"kueue.x-k8s.io",                                                                             \
     v,                                                                                            \
     "ResourceFlavor",                                                                             \
     "resourceflavors",                                                                            \
     "resourceflavor",                                                                             \
     CL,                                                                                           \
     SN("flavor", "flavors", "rf"),                                                                \
     none,                                                                                         \
     ALL,                                                                                          \
     0,                                                                                            \
     MODEL_RESOURCE_FLAVOR,                                                                        \
     pref,                                                                                         \
     true},                                                                                        \
        {"kueue.x-k8s.io",                                                                         \
         v,                                                                                        \
         "ClusterQueue",                                                                           \
         "clusterqueues",                                                                          \
         "clusterqueue",                                                                           \
         CL,                                                                                       \
         SN("cq"),                                                                                 \
         none,                                                                                     \
         ALL,                                                                                      \
         ST,                                                                                       \
         MODEL_CLUSTER_QUEUE,                                                                      \
         pref,                                                                                     \
         true},                                                                                    \
        {"kueue.x-k8s.io", v,    "Cohort", "cohorts", "cohort", CL, none, none, ALL, ST,           \
         MODEL_COHORT,     pref, true},                                                            \
        {"kueue.x-k8s.io",                                                                         \
         v,                                                                                        \
         "LocalQueue",                                                                             \
         "localqueues",                                                                            \
         "localqueue",                                                                             \
         NS,                                                                                       \
         SN("queue", "queues", "lq"),                                                              \
         none,                                                                                     \
         ALL,                                                                                      \
         ST,                                                                                       \
         MODEL_LOCAL_QUEUE,                                                                        \
         pref,                                                                                     \
         true},                                                                                    \
        {"kueue.x-k8s.io", v,    "Workload", "workloads", "workload", NS, SN("wl"), none, ALL, ST, \
         MODEL_WORKLOAD,   pref, true},                                                            \
        {"kueue.x-k8s.io",                                                                         \
         v,                                                                                        \
         "WorkloadPriorityClass",                                                                  \
         "workloadpriorityclasses",                                                                \
         "workloadpriorityclass",                                                                  \
         CL,                                                                                       \
         none,                                                                                     \
         none,                                                                                     \
         ALL,                                                                                      \
         0,                                                                                        \
         MODEL_WORKLOAD_PRIORITY_CLASS,                                                            \
         pref,                                                                                     \
         true},                                                                                    \
    {                                                                                              \
        "kueue.x-k8s.io", v, "Topology", "topologies", "topology", CL, none, none, ALL, 0,         \
            MODEL_TOPOLOGY, pref, true                                                             \
    }

static const struct api_kind kinds[] = {
    /* core/v1 */
    /* Namespaces have no deletecollection in Kubernetes: each goes through
     * its own termination. */
    {"", "v1", "Namespace", "namespaces", "namespace", CL, SN("ns"), none,
     ALL & ~API_VERB_DELETECOLLECTION, ST | API_SUB_FINALIZE, MODEL_NAMESPACE, true, true},
    {"", "v1", "Node", "nodes", "node", CL, SN("no"), none, ALL, ST, MODEL_NODE, true, false},
    {"", "v1", "Pod", "pods", "pod", NS, SN("po"), cat_all, ALL,
     API_SUB_STATUS | API_SUB_BINDING | API_SUB_LOG, NOMD, true, true},
    {"", "v1", "Event", "events", "event", NS, SN("ev"), none, ALL, 0, NOMD, true, false},
    /* The legacy bindings resource: POST /api/v1/namespaces/NS/bindings binds the pod
     * named in metadata.name (the Python client's create_namespaced_binding). */
    {"", "v1", "Binding", "bindings", "binding", NS, none, none, API_VERB_CREATE, 0, NOMD, true,
     false},
    /* batch/v1 */
    {"batch", "v1", "Job", "jobs", "job", NS, none, cat_all, ALL, ST, NOMD, true, false},
    /* coordination.k8s.io/v1 */
    {"coordination.k8s.io", "v1", "Lease", "leases", "lease", NS, none, none, ALL, 0, NOMD, true,
     false},
    /* scheduling.k8s.io/v1 */
    {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", CL, SN("pc"),
     none, ALL, 0, MODEL_PRIORITY_CLASS, true, false},
    /* resource.k8s.io/v1 */
    {"resource.k8s.io", "v1", "DeviceClass", "deviceclasses", "deviceclass", CL, none, none, ALL, 0,
     NOMD, true, false},
    {"resource.k8s.io", "v1", "ResourceSlice", "resourceslices", "resourceslice", CL, none, none,
     ALL, 0, NOMD, true, false},
    {"resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", "resourceclaim", NS, none, none,
     ALL, ST, NOMD, true, false},
    {"resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates",
     "resourceclaimtemplate", NS, none, none, ALL, 0, NOMD, true, false},
    /* kueue.x-k8s.io, preferred version first */
    KUEUE_KINDS("v1beta2", true),
    KUEUE_KINDS("v1beta1", false),
};

static const struct api_group groups[] = {
    {"", {"v1"}, 1},
    {"batch", {"v1"}, 1},
    {"coordination.k8s.io", {"v1"}, 1},
    {"scheduling.k8s.io", {"v1"}, 1},
    {"resource.k8s.io", {"v1"}, 1},
    {"kueue.x-k8s.io", {"v1beta2", "v1beta1"}, 2},
};

#define N_KINDS  (sizeof kinds / sizeof kinds[0])
#define N_GROUPS (sizeof groups / sizeof groups[0])

size_t api_registry_len(void)
{
    return N_KINDS;
}

const struct api_kind *api_registry_kind(size_t i)
{
    return i < N_KINDS ? &kinds[i] : NULL;
}

size_t api_registry_groups_len(void)
{
    return N_GROUPS;
}

const struct api_group *api_registry_group(size_t i)
{
    return i < N_GROUPS ? &groups[i] : NULL;
}

const struct api_group *api_registry_find_group(const char *name)
{
    for (size_t i = 0; i < N_GROUPS; i++)
        if (!strcmp(groups[i].name, name))
            return &groups[i];
    return NULL;
}

const struct api_kind *api_registry_find(const char *group, const char *version,
                                         const char *resource)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(kinds[i].resource, resource) && !strcmp(kinds[i].group, group) &&
            !strcmp(kinds[i].version, version))
            return &kinds[i];
    return NULL;
}

const struct api_kind *api_registry_find_kind(const char *group, const char *version,
                                              const char *kind)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(kinds[i].kind, kind) && !strcmp(kinds[i].group, group) &&
            !strcmp(kinds[i].version, version))
            return &kinds[i];
    return NULL;
}

const struct api_kind *api_registry_by_kind(const char *kind)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kinds[i].preferred && !strcmp(kinds[i].kind, kind))
            return &kinds[i];
    return NULL;
}

const struct api_kind *api_registry_by_api_version(const char *api_version, const char *kind)
{
    const char *slash = strchr(api_version, '/');
    if (!slash)
        return api_registry_find_kind("", api_version, kind);
    char group[256];
    size_t glen = (size_t)(slash - api_version);
    if (glen == 0 || glen >= sizeof group)
        return NULL;
    memcpy(group, api_version, glen);
    group[glen] = 0;
    /* "v1" alone is core; "core/v1" is not a valid apiVersion. */
    return api_registry_find_kind(group, slash + 1, kind);
}

static const struct {
    unsigned bit;
    const char *name;
    unsigned verbs;
} subs[API_SUB_COUNT] = {
    {API_SUB_STATUS, "status", API_VERB_GET | API_VERB_PATCH | API_VERB_UPDATE},
    {API_SUB_BINDING, "binding", API_VERB_CREATE},
    {API_SUB_LOG, "log", API_VERB_GET},
    {API_SUB_FINALIZE, "finalize", API_VERB_UPDATE},
};

bool api_kind_subresource(const struct api_kind *k, const char *name, unsigned *bit)
{
    for (size_t i = 0; i < API_SUB_COUNT; i++)
        if ((k->subresources & subs[i].bit) && !strcmp(subs[i].name, name)) {
            if (bit)
                *bit = subs[i].bit;
            return true;
        }
    return false;
}

unsigned api_subresource_verbs(unsigned sub_bit)
{
    for (size_t i = 0; i < API_SUB_COUNT; i++)
        if (subs[i].bit == sub_bit)
            return subs[i].verbs;
    return 0;
}

const char *api_subresource_name(unsigned sub_bit)
{
    for (size_t i = 0; i < API_SUB_COUNT; i++)
        if (subs[i].bit == sub_bit)
            return subs[i].name;
    return NULL;
}

const char *api_verb_name(unsigned verb_bit)
{
    static const char *const names[API_VERB_COUNT] = {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    };
    for (int i = 0; i < API_VERB_COUNT; i++)
        if (verb_bit == 1u << i)
            return names[i];
    return NULL;
}

/* (str_join rather than snprintf: these run several times a request) */
int api_kind_api_version(const struct api_kind *k, char *buf, size_t size)
{
    const char *p[] = {k->group, k->group[0] ? "/" : "", k->version};
    return str_join(buf, size, p, 3);
}

int api_kind_key_prefix(const struct api_kind *k, char *buf, size_t size)
{
    const char *p[] = {"/registry/", k->group[0] ? k->group : "core", "/", k->resource, "/"};
    return str_join(buf, size, p, 5);
}

int api_kind_qualified_resource(const struct api_kind *k, char *buf, size_t size)
{
    const char *p[] = {k->resource, k->group[0] ? "." : "", k->group};
    return str_join(buf, size, p, 3);
}
