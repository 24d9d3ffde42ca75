/*
 * model: the API objects muster understands, as C structs, decoded from YAML or
 * JSON and validated.
 *
 * Kinds: core/v1 Namespace and Node; scheduling.k8s.io/v1 PriorityClass; the
 * Kueue kinds ResourceFlavor, ClusterQueue, Cohort, LocalQueue,
 * WorkloadPriorityClass, Workload and Topology in kueue.x-k8s.io/v1beta2 and
 * v1beta1 (v1beta1 is first converted to v1beta2 by model_kueue_convert(), as
 * Kueue's conversion webhook does; Cohort and Topology are also read from
 * v1alpha1); and
 * muster.dev/v1alpha1 Scenario (docs/scenarios.md). A `v1 List` is flattened
 * into its items by the stream and JSON entry points.
 *
 * One decoder: YAML is first turned into a jansson json_t tree (plain scalars
 * typed by the YAML 1.2 core schema), JSON is parsed by jansson, and both go
 * through model_decode_value(). So YAML and JSON share every rule: unknown
 * fields, wrong types, bad quantities, bad names and Kueue's own validation
 * rules are errors that name the object, the field path and the reason:
 *
 *   ClusterQueue "team-a": spec.resourceGroups[0].flavors[1].resources[0].
 *   nominalQuota: invalid quantity "12x": unknown suffix "x"
 *
 * Defaults are applied at decode time (queueingStrategy BestEffortFIFO,
 * preemption Never, flavorFungibility MayStopSearch / TryNextFlavor, stopPolicy
 * None, Workload active true, pod set count 1 and name "main", namespace
 * "default" for namespaced kinds), so readers never see "unset" where Kueue
 * would see a default. Where absent and empty mean different things (a
 * ClusterQueue's namespaceSelector) the struct records `present`.
 *
 * Quantities are int64_t milli (see quantity.h); the scheduler's value is
 * quantity_canonical(resource, milli), or model_resources_canonical().
 *
 * Ownership: every string and array reachable from a struct model_obj lives in
 * the object's own arena, and o->raw holds one reference to the JSON tree it was
 * decoded from. model_obj_free() releases all of it at once; nothing inside is
 * freed piecemeal. Objects are immutable after decode and independent of each
 * other, so they may be read from several threads.
 *
 * Caps: MODEL_MAX_INPUT bytes per YAML stream or JSON document, MODEL_MAX_DEPTH
 * levels of nesting, MODEL_MAX_DOCS documents per stream; past them decoding
 * fails cleanly with an error.
 */
#ifndef MUSTER_MODEL_MODEL_H
#define MUSTER_MODEL_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "model/quantity.h"
#include "model/selector.h"

#define MODEL_MAX_INPUT ((size_t)8 * 1024 * 1024)
#define MODEL_MAX_DEPTH 64
#define MODEL_MAX_DOCS  10000

enum model_kind {
    MODEL_KIND_NONE = 0,
    MODEL_NAMESPACE,
    MODEL_NODE,
    MODEL_PRIORITY_CLASS,
    MODEL_RESOURCE_FLAVOR,
    MODEL_CLUSTER_QUEUE,
    MODEL_COHORT,
    MODEL_LOCAL_QUEUE,
    MODEL_WORKLOAD_PRIORITY_CLASS,
    MODEL_WORKLOAD,
    MODEL_TOPOLOGY,
    MODEL_SCENARIO,
    MODEL_KIND_COUNT
};

/* The apiVersion an object was written in; the structs are the same. */
enum model_api_version {
    MODEL_API_V1,       /* v1, scheduling.k8s.io/v1 */
    MODEL_API_V1ALPHA1, /* kueue.x-k8s.io/v1alpha1, muster.dev/v1alpha1 */
    MODEL_API_V1BETA1,  /* kueue.x-k8s.io/v1beta1 */
    MODEL_API_V1BETA2,  /* kueue.x-k8s.io/v1beta2 */
};

/* ---- shared pieces ---------------------------------------------------- */

struct model_string_list {
    const char **v;
    size_t len;
};

/* One resource quantity, e.g. {"nvidia.com/gpu", 8000}. */
struct model_resource {
    const char *name;
    int64_t milli;
};

/* A corev1.ResourceList, in the order written; names are unique. */
struct model_resource_list {
    struct model_resource *v;
    size_t len;
};

/* The entry for name, or NULL. */
const struct model_resource *model_resources_find(const struct model_resource_list *l,
                                                  const char *name);

/* quantity_canonical(name, milli) of the entry for name; 0 when absent. */
int64_t model_resources_canonical(const struct model_resource_list *l, const char *name);

struct model_owner_ref {
    const char *api_version, *kind, *name, *uid;
    bool controller;
    bool block_owner_deletion;
};

struct object_meta {
    const char *name;
    const char *namespace; /* namespaced kinds: never NULL ("default" if absent);
                              cluster-scoped kinds: NULL */
    const char *uid;       /* NULL when absent */
    const char *resource_version;
    int64_t generation;
    struct model_kv_list labels;
    struct model_kv_list annotations;
    bool has_creation;
    int64_t creation_ns; /* creationTimestamp, ns since the Unix epoch */
    bool has_deletion;
    int64_t deletion_ns;
    struct model_string_list finalizers;
    struct model_owner_ref *owners;
    size_t n_owners;
};

enum model_taint_effect {
    MODEL_EFFECT_ALL = 0, /* tolerations only: effect empty matches every effect */
    MODEL_EFFECT_NO_SCHEDULE,
    MODEL_EFFECT_PREFER_NO_SCHEDULE,
    MODEL_EFFECT_NO_EXECUTE,
};

struct model_taint {
    const char *key;
    const char *value; /* "" when absent */
    enum model_taint_effect effect;
};

enum model_toleration_op {
    MODEL_TOLERATION_EQUAL = 0, /* the default */
    MODEL_TOLERATION_EXISTS,
};

struct model_toleration {
    const char *key; /* "" with EXISTS: tolerates every taint */
    enum model_toleration_op op;
    const char *value; /* "" when absent */
    enum model_taint_effect effect;
    bool has_seconds;
    int64_t toleration_seconds;
};

/* Whether t tolerates taint, with Kubernetes' rules. */
bool model_toleration_tolerates(const struct model_toleration *t, const struct model_taint *taint);

/* A metav1.Condition. */
struct model_condition {
    const char *type;
    const char *status;           /* "True", "False" or "Unknown" */
    const char *reason, *message; /* "" when absent */
    bool has_transition;
    int64_t last_transition_ns;
    int64_t observed_generation;
};

/* ---- core/v1 and scheduling.k8s.io/v1 ---------------------------------- */

struct model_node {
    bool unschedulable;
    struct model_taint *taints;
    size_t n_taints;
    struct model_resource_list capacity;
    struct model_resource_list allocatable; /* status.allocatable; when absent,
                                               a copy of capacity (as the kubelet
                                               reports when nothing is reserved) */
    bool has_allocatable;                   /* allocatable was written */
};

enum model_preemption_policy_pc {
    MODEL_PC_PREEMPT_LOWER_PRIORITY = 0, /* the default */
    MODEL_PC_PREEMPT_NEVER,
};

struct model_priority_class {
    int32_t value;
    bool global_default;
    enum model_preemption_policy_pc preemption_policy;
    const char *description; /* "" when absent */
};

/* ---- kueue.x-k8s.io ----------------------------------------------------- */

struct model_resource_flavor {
    struct model_kv_list node_labels;
    struct model_taint *node_taints;
    size_t n_node_taints;
    struct model_toleration *tolerations;
    size_t n_tolerations;
    const char *topology_name; /* NULL when absent */
};

/* One (flavor, resource) quota; values in milli. */
struct model_quota {
    const char *resource;
    int64_t nominal;
    bool has_borrowing_limit; /* absent: no limit */
    int64_t borrowing_limit;
    bool has_lending_limit; /* absent: all of nominal may be lent */
    int64_t lending_limit;
};

struct model_flavor_quotas {
    const char *name;
    struct model_quota *resources; /* same order as the group's covered */
    size_t n_resources;
};

struct model_resource_group {
    struct model_string_list covered;
    struct model_flavor_quotas *flavors;
    size_t n_flavors;
};

enum model_queueing_strategy {
    MODEL_BEST_EFFORT_FIFO = 0, /* the default */
    MODEL_STRICT_FIFO,
};

enum model_preemption_policy {
    MODEL_PREEMPT_NEVER = 0, /* the default of every preemption field */
    MODEL_PREEMPT_LOWER_PRIORITY,
    MODEL_PREEMPT_LOWER_OR_NEWER_EQUAL_PRIORITY, /* withinClusterQueue only */
    MODEL_PREEMPT_ANY,                           /* reclaimWithinCohort only */
};

/* v1beta2 MayStopSearch; v1beta1 writes it Borrow (whenCanBorrow) or Preempt
 * (whenCanPreempt). */
enum model_fungibility {
    MODEL_FUNGIBILITY_MAY_STOP_SEARCH = 0,
    MODEL_FUNGIBILITY_TRY_NEXT_FLAVOR,
};

enum model_fungibility_preference {
    MODEL_PREFERENCE_NONE = 0,
    MODEL_PREFERENCE_BORROWING_OVER_PREEMPTION,
    MODEL_PREFERENCE_PREEMPTION_OVER_BORROWING,
};

enum model_stop_policy {
    MODEL_STOP_NONE = 0, /* the default */
    MODEL_STOP_HOLD,
    MODEL_STOP_HOLD_AND_DRAIN,
};

struct model_cq_preemption {
    enum model_preemption_policy within_cluster_queue;  /* default Never */
    enum model_preemption_policy reclaim_within_cohort; /* default Never */
    enum model_preemption_policy borrow_within_cohort;  /* policy; default Never */
    bool has_max_priority_threshold;
    int32_t max_priority_threshold;
};

struct model_flavor_fungibility {
    enum model_fungibility when_can_borrow;  /* default MayStopSearch */
    enum model_fungibility when_can_preempt; /* default TryNextFlavor */
    enum model_fungibility_preference preference;
};

struct model_admission_check_rule {
    const char *name;
    struct model_string_list on_flavors;
};

struct model_cluster_queue {
    const char *cohort; /* v1beta1 spec.cohort / v1beta2 spec.cohortName; NULL if none */
    struct model_resource_group *groups;
    size_t n_groups;
    enum model_queueing_strategy queueing_strategy;
    struct selector namespace_selector; /* !present: no namespace is eligible */
    struct model_cq_preemption preemption;
    struct model_flavor_fungibility flavor_fungibility;
    enum model_stop_policy stop_policy;
    bool has_fair_sharing;
    int64_t fair_sharing_weight; /* milli; default 1000 (weight 1) */
    /* v1beta2 admissionChecksStrategy (v1beta1 admissionChecks are converted) */
    struct model_admission_check_rule *admission_check_rules;
    size_t n_admission_check_rules;
};

struct model_cohort {
    const char *parent; /* spec.parentName (v1alpha1 spec.parent); NULL if root */
    struct model_resource_group *groups;
    size_t n_groups;
    bool has_fair_sharing;
    int64_t fair_sharing_weight; /* milli; default 1000 */
};

struct model_local_queue {
    const char *cluster_queue;
    enum model_stop_policy stop_policy;
    bool has_fair_sharing;
    int64_t fair_sharing_weight; /* milli; default 1000 */
};

struct model_workload_priority_class {
    int32_t value;
    const char *description; /* "" when absent */
};

struct model_container {
    const char *name;
    struct model_resource_list requests; /* with limits copied in where a request
                                            is absent, as the API server defaults */
    struct model_resource_list limits;
    bool sidecar; /* init container with restartPolicy: Always */
};

struct model_pod_template {
    struct model_kv_list labels;
    struct model_kv_list annotations;
    struct model_container *containers;
    size_t n_containers;
    struct model_container *init_containers;
    size_t n_init_containers;
    struct model_kv_list node_selector;
    struct model_toleration *tolerations;
    size_t n_tolerations;
    const char *priority_class_name; /* NULL when absent */
    struct model_resource_list overhead;
    /* What one pod requests, computed as Kubernetes does: the larger of the sum
     * of containers (plus sidecars) and each init container (plus the sidecars
     * started before it), plus overhead. */
    struct model_resource_list pod_requests;
};

/* Topology-aware scheduling request of a pod set: spec.podSets[].topologyRequest
 * merged with the template annotations kueue.x-k8s.io/podset-required-topology,
 * -preferred-topology and -unconstrained-topology (the field wins when both are
 * written and agree; a disagreement is an error). At most one of required,
 * preferred and unconstrained is set. */
struct model_topology_request {
    const char *required;  /* a topology level (node label), or NULL */
    const char *preferred; /* or NULL */
    bool unconstrained;
    const char *pod_index_label;       /* NULL when absent */
    const char *sub_group_index_label; /* NULL when absent */
    bool has_sub_group_count;
    int32_t sub_group_count;
    const char *slice_required; /* podSetSliceRequiredTopology, NULL when absent */
    bool has_slice_size;
    int32_t slice_size;
};

struct model_pod_set {
    const char *name; /* default "main" */
    int32_t count;    /* >= 1; default 1 */
    bool has_min_count;
    int32_t min_count; /* 1 <= min_count <= count */
    struct model_pod_template template;
    bool has_topology_request; /* either the field or an annotation was written */
    struct model_topology_request topology;
};

struct model_pod_set_assignment {
    const char *name;
    struct model_kv_list flavors; /* resource -> flavor */
    struct model_resource_list resource_usage;
    bool has_count;
    int32_t count;
};

/* Where a Workload's priority class comes from (v1beta1 priorityClassSource,
 * v1beta2 priorityClassRef.group/kind). */
enum model_priority_source {
    MODEL_PRIORITY_SOURCE_NONE = 0,
    MODEL_PRIORITY_SOURCE_WORKLOAD, /* kueue.x-k8s.io WorkloadPriorityClass */
    MODEL_PRIORITY_SOURCE_POD,      /* scheduling.k8s.io PriorityClass */
};

struct model_workload {
    const char *queue_name;          /* NULL when absent */
    const char *priority_class_name; /* NULL when absent */
    enum model_priority_source priority_source;
    bool has_priority;
    int32_t priority;
    bool active; /* default true */
    bool has_max_exec;
    int32_t max_exec_seconds;
    struct model_pod_set *pod_sets;
    size_t n_pod_sets;
    /* status */
    bool has_admission;
    const char *admission_cluster_queue;
    struct model_pod_set_assignment *assignments;
    size_t n_assignments;
    struct model_condition *conditions;
    size_t n_conditions;
    bool has_requeue_state;
    bool has_requeue_count;
    int32_t requeue_count;
    bool has_requeue_at;
    int64_t requeue_at_ns;
};

/* The condition of the given type, or NULL. */
const struct model_condition *model_workload_condition(const struct model_workload *w,
                                                       const char *type);

struct model_topology {
    struct model_string_list levels; /* node labels, highest level first */
};

/* ---- muster.dev/v1alpha1 Scenario --------------------------------------- */

struct model_expect_flavors {
    const char *workload;         /* "ns/name" */
    struct model_kv_list flavors; /* resource -> flavor */
};

struct model_expect_nodes {
    const char *workload; /* "ns/name" */
    struct model_string_list nodes;
};

struct model_expect {
    int64_t at_ns;
    bool has_admitted, has_pending, has_preempted, has_finished;
    struct model_string_list admitted, pending, preempted, finished; /* "ns/name" */
    struct model_expect_flavors *flavors;
    size_t n_flavors;
    struct model_kv_list reasons; /* "ns/name" -> text the reason must contain */
    struct model_expect_nodes *nodes;
    size_t n_nodes;
};

struct model_scenario {
    const char *description; /* "" when absent */
    bool fair_sharing;
    struct model_string_list preemption_strategies; /* as written; may be empty */
    bool backfill;
    const char *placement_policy; /* NULL: the engine's default */
    struct model_expect *expect;  /* in the order written */
    size_t n_expect;
};

/* ---- the object --------------------------------------------------------- */

struct model_obj {
    enum model_kind kind;
    enum model_api_version version;
    const char *api_version; /* as written, e.g. "kueue.x-k8s.io/v1beta1" */
    struct object_meta meta;
    union {
        struct model_node node;
        struct model_priority_class priority_class;
        struct model_resource_flavor resource_flavor;
        struct model_cluster_queue cluster_queue;
        struct model_cohort cohort;
        struct model_local_queue local_queue;
        struct model_workload_priority_class workload_priority_class;
        struct model_workload workload;
        struct model_topology topology;
        struct model_scenario scenario;
    } u;                /* by kind; Namespace has no member */
    json_t *raw;        /* the tree decoded; one reference owned by the object */
    const char *source; /* YAML source name, or NULL */
    int line;           /* first line of the document in source, or 0 */
    struct arena arena; /* owns every string and array above */
};

/* Decodes every document of a YAML stream (documents separated by ---; empty
 * documents are skipped; a v1 List contributes its items). On success *objs
 * is a malloc'd array of *n objects that the caller frees with
 * model_objs_free(). On failure returns -1 with e filled and nothing
 * allocated; the message starts with "source:line: " (the document's first
 * line) when source_name is not NULL. buf need not be NUL-terminated. */
int model_decode_yaml_stream(const char *buf, size_t len, const char *source_name,
                             struct model_obj ***objs, size_t *n, struct err *e);

/* Decodes one JSON object (a v1 List is refused here; use
 * model_decode_json_stream for that). On success *out is an object the caller
 * frees with model_obj_free(). */
int model_decode_json(const char *buf, size_t len, struct model_obj **out, struct err *e);

/* Like model_decode_yaml_stream for one JSON document, flattening a v1 List. */
int model_decode_json_stream(const char *buf, size_t len, struct model_obj ***objs, size_t *n,
                             struct err *e);

/* Decodes and validates an already parsed JSON tree. Borrows v: the object takes
 * its own reference. On success *out is an object the caller frees with
 * model_obj_free(); on failure -1 with e filled and *out untouched. */
int model_decode_value(json_t *v, struct model_obj **out, struct err *e);

/* Frees an object and everything it owns. Accepts NULL. */
void model_obj_free(struct model_obj *o);

/* Frees each of the n objects and the array itself. Accepts NULL. */
void model_objs_free(struct model_obj **objs, size_t n);

/* Parses a YAML stream into JSON trees without decoding them as objects: the
 * lower layer of model_decode_yaml_stream, for callers (kubectl apply of YAML)
 * that want the JSON. *docs is a malloc'd array of *n new references; the
 * caller json_decref()s each and frees the array. *lines (if not NULL) receives
 * a malloc'd array with each document's first line. Empty documents are
 * skipped. */
int model_yaml_to_json(const char *buf, size_t len, const char *source_name, json_t ***docs,
                       size_t *n, int **lines, struct err *e);

/* "ClusterQueue", "Workload", ...; "" for MODEL_KIND_NONE. */
const char *model_kind_name(enum model_kind k);

/* The kind with that name, or MODEL_KIND_NONE. */
enum model_kind model_kind_from_name(const char *name);

/* Whether objects of kind k live in a namespace (LocalQueue, Workload). */
bool model_kind_namespaced(enum model_kind k);

/* Writes the object's key, "ns/name" for namespaced kinds or "name", snprintf
 * style. Returns the full length. */
int model_obj_key(const struct model_obj *o, char *buf, size_t size);

/* Converts obj, a kueue.x-k8s.io object in the version its apiVersion names
 * (v1beta1 or v1beta2; Cohort and Topology also v1alpha1), in place into
 * version to (MODEL_API_V1BETA1 or MODEL_API_V1BETA2), apiVersion included, as
 * Kueue's conversion webhook does: renamed fields are moved, v1beta1's
 * admissionChecks list becomes admissionChecksStrategy, topology assignments
 * change between domains and slices, fields the target version lacks are
 * dropped (docs/internals/model.md lists every difference). Objects of other
 * groups, and objects already in version to, are left as they are. Returns 0,
 * or -1 with e filled (EINVAL, `Kind "name": field: reason`, the decoder's
 * wording) when the object cannot be converted: a v1beta1 object with a field
 * only v1beta2 has is refused as an unknown field. */
int model_kueue_convert(json_t *obj, enum model_api_version to, struct err *e);

/* Parses an RFC 3339 timestamp ("2024-05-01T10:00:00Z", optional fraction,
 * "Z" or a +hh:mm offset) into ns since the Unix epoch. Returns 0, or -1 with
 * e filled. */
int model_parse_time(const char *s, int64_t *ns, struct err *e);

#endif
