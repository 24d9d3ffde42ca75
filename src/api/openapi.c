/* api/openapi: OpenAPI v3 root index and per-group-version documents built
 * from compact field tables (see openapi.h). */
#include "api/openapi.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define META   "io.k8s.apimachinery.pkg.apis.meta.v1."
#define REF(n) "#/components/schemas/" n

/* ---- field tables -------------------------------------------------------- */

enum ftype {
    T_STR,
    T_INT32,
    T_INT64,
    T_BOOL,
    T_QTY,     /* resource.Quantity: int or string */
    T_TIME,    /* RFC 3339 */
    T_OBJ,     /* sub */
    T_LIST,    /* list of sub; key: a map list keyed by key, else atomic */
    T_STRLIST, /* list of strings (set when key is "set") */
    T_STRMAP,  /* map of strings */
    T_QTYMAP,  /* map of quantities (corev1.ResourceList) */
    T_ANY,     /* an object muster does not interpret */
    T_ANYLIST, /* a list of such objects */
    T_CONDS,   /* []metav1.Condition, keyed by type */
    T_SELECTOR /* metav1.LabelSelector */
};

#define F_REQ 1u /* required */
#define F_B1  2u /* kueue v1beta1 only */
#define F_B2  4u /* kueue v1beta2 only */
/* Only in the flags of a schema being built: the kind is built in, so its keyed
 * lists carry the strategic-merge extensions (x-kubernetes-patch-strategy and
 * -patch-merge-key) that custom resources do not have. */
#define F_CORE 8u

struct fld {
    const char *name;
    enum ftype t;
    const struct fld *sub;
    const char *desc;
    unsigned flags;
    const char *const *enums;
    const char *key;
};

#define END                                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL, 0, NULL, NULL                                                         \
    }
#define F(n, t, d)                                                                                 \
    {                                                                                              \
        n, t, NULL, d, 0, NULL, NULL                                                               \
    }
#define FR(n, t, d)                                                                                \
    {                                                                                              \
        n, t, NULL, d, F_REQ, NULL, NULL                                                           \
    }
#define FV(n, t, d, v)                                                                             \
    {                                                                                              \
        n, t, NULL, d, v, NULL, NULL                                                               \
    }
#define E(n, e, d)                                                                                 \
    {                                                                                              \
        n, T_STR, NULL, d, 0, e, NULL                                                              \
    }
#define EV(n, e, d, v)                                                                             \
    {                                                                                              \
        n, T_STR, NULL, d, v, e, NULL                                                              \
    }
#define O(n, s, d)                                                                                 \
    {                                                                                              \
        n, T_OBJ, s, d, 0, NULL, NULL                                                              \
    }
#define OR(n, s, d)                                                                                \
    {                                                                                              \
        n, T_OBJ, s, d, F_REQ, NULL, NULL                                                          \
    }
#define OV(n, s, d, v)                                                                             \
    {                                                                                              \
        n, T_OBJ, s, d, v, NULL, NULL                                                              \
    }
#define L(n, s, d, k)                                                                              \
    {                                                                                              \
        n, T_LIST, s, d, 0, NULL, k                                                                \
    }
#define LR(n, s, d, k)                                                                             \
    {                                                                                              \
        n, T_LIST, s, d, F_REQ, NULL, k                                                            \
    }
#define SET(n, d)                                                                                  \
    {                                                                                              \
        n, T_STRLIST, NULL, d, 0, NULL, "set"                                                      \
    }
#define ENUM(...) ((const char *const[]){__VA_ARGS__, NULL})

/* -- shared pieces -- */

static const struct fld taint[] = {
    FR("key", T_STR, "The taint key to be applied to a node."),
    F("value", T_STR, "The taint value corresponding to the taint key."),
    {"effect", T_STR, NULL, "The effect of the taint on pods that do not tolerate the taint.",
     F_REQ, ENUM("NoSchedule", "PreferNoSchedule", "NoExecute"), NULL},
    F("timeAdded", T_TIME, "The time at which a NoExecute taint was added."),
    END};

static const struct fld toleration[] = {
    F("key", T_STR,
      "The taint key that the toleration applies to. Empty means match all taint keys; the "
      "operator must then be Exists."),
    E("operator", ENUM("Equal", "Exists"),
      "The key's relationship to the value. Defaults to Equal."),
    F("value", T_STR, "The taint value the toleration matches to. Empty with Exists."),
    E("effect", ENUM("NoSchedule", "PreferNoSchedule", "NoExecute"),
      "The taint effect to match. Empty means match all taint effects."),
    F("tolerationSeconds", T_INT64,
      "For NoExecute: how long the pod stays bound after the taint is added."),
    END};

static const struct fld quota[] = {
    FR("name", T_STR, "The resource name, one of the group's coveredResources."),
    FR("nominalQuota", T_QTY,
       "The quantity of this resource available to admitted workloads at a given time."),
    F("borrowingLimit", T_QTY,
      "The most quota of this resource the queue may borrow from the cohort beyond its nominal "
      "quota. Absent: no limit."),
    F("lendingLimit", T_QTY,
      "The most of the nominal quota that may be lent to the cohort. Absent: all of it."),
    END};

static const struct fld flavor_quotas[] = {
    FR("name", T_STR, "The name of the ResourceFlavor."),
    LR("resources", quota,
       "The quotas of each covered resource in this flavor, in the order of coveredResources.",
       "name"),
    END};

static const struct fld resource_group[] = {
    {"coveredResources", T_STRLIST, NULL, "The resources this group covers; at most 64.", F_REQ,
     NULL, NULL},
    LR("flavors", flavor_quotas,
       "The flavors of the group, tried in this order when admitting a workload.", "name"),
    END};

static const struct fld fair_sharing[] = {
    F("weight", T_QTY,
      "The weight of this queue or cohort in fair sharing; the default is 1. A higher weight gets "
      "a larger share."),
    END};

static const struct fld borrow_within_cohort[] = {
    E("policy", ENUM("Never", "LowerPriority"),
      "Whether a workload that borrows may preempt workloads of other queues of the cohort."),
    F("maxPriorityThreshold", T_INT32,
      "Only workloads with priority up to this value may be preempted while borrowing."),
    END};

static const struct fld cq_preemption[] = {
    E("withinClusterQueue", ENUM("Never", "LowerPriority", "LowerOrNewerEqualPriority"),
      "Whether a pending workload may preempt admitted workloads of the same ClusterQueue."),
    E("reclaimWithinCohort", ENUM("Never", "LowerPriority", "Any"),
      "Whether a pending workload may preempt workloads of other queues of the cohort that use "
      "borrowed quota."),
    O("borrowWithinCohort", borrow_within_cohort, "Preemption while borrowing."), END};

static const struct fld fungibility[] = {
    EV("whenCanBorrow", ENUM("MayStopSearch", "TryNextFlavor"),
       "Whether to stop at the first flavor that fits by borrowing or to try the next flavor.",
       F_B2),
    EV("whenCanBorrow", ENUM("Borrow", "MayStopSearch", "TryNextFlavor"),
       "Whether to borrow in the first flavor that fits by borrowing or to try the next flavor "
       "(Borrow is read as MayStopSearch).",
       F_B1),
    EV("whenCanPreempt", ENUM("MayStopSearch", "TryNextFlavor"),
       "Whether to stop at the first flavor that fits by preempting or to try the next flavor.",
       F_B2),
    EV("whenCanPreempt", ENUM("Preempt", "MayStopSearch", "TryNextFlavor"),
       "Whether to preempt in the first flavor that fits by preempting or to try the next flavor "
       "(Preempt is read as MayStopSearch).",
       F_B1),
    E("preference", ENUM("BorrowingOverPreemption", "PreemptionOverBorrowing"),
      "Which to prefer when a flavor needs both."),
    END};

static const struct fld check_rule[] = {
    FR("name", T_STR, "The name of the AdmissionCheck."),
    SET("onFlavors", "The flavors the check applies to; empty means all."), END};

static const struct fld checks_strategy[] = {
    L("admissionChecks", check_rule, "The admission checks and the flavors they apply to.", "name"),
    END};

static const struct fld flavor_usage_res[] = {
    FR("name", T_STR, "The resource name."),
    F("total", T_QTY, "The quantity in use, including what is borrowed."),
    F("borrowed", T_QTY, "The quantity borrowed from the cohort."), END};

static const struct fld flavor_usage[] = {
    FR("name", T_STR, "The name of the flavor."),
    LR("resources", flavor_usage_res, "Usage per resource.", "name"), END};

/* -- ResourceFlavor -- */
static const struct fld rf_spec[] = {
    F("nodeLabels", T_STRMAP,
      "The labels of the nodes of this flavor; a workload admitted in it gets them as a node "
      "selector."),
    L("nodeTaints", taint,
      "The taints of the nodes of this flavor; a workload must tolerate them to be admitted in it.",
      NULL),
    L("tolerations", toleration,
      "Tolerations added to the pods of workloads admitted in this flavor.", NULL),
    F("topologyName", T_STR,
      "The Topology of the nodes of this flavor, for topology-aware scheduling."),
    END};
static const struct fld rf_top[] = {
    O("spec", rf_spec, "ResourceFlavorSpec: the nodes a flavor stands for."), END};

/* -- ClusterQueue -- */
static const struct fld cq_spec[] = {
    L("resourceGroups", resource_group,
      "Groups of resources with the quota of each flavor; at most 16.", NULL),
    FV("cohortName", T_STR,
       "The cohort the queue belongs to; queues of a cohort borrow each other's unused quota.",
       F_B2),
    FV("cohort", T_STR,
       "The cohort the queue belongs to; queues of a cohort borrow each other's unused quota.",
       F_B1),
    E("queueingStrategy", ENUM("StrictFIFO", "BestEffortFIFO"),
      "The order of admission: StrictFIFO never lets a later workload pass a head that does not "
      "fit; BestEffortFIFO (the default) does."),
    {"namespaceSelector", T_SELECTOR, NULL,
     "The namespaces whose workloads may be admitted; {} is all of them, absent is none.", 0, NULL,
     NULL},
    O("flavorFungibility", fungibility,
      "How to choose between flavors when the first choice needs borrowing or preemption."),
    O("preemption", cq_preemption, "When pending workloads may preempt admitted ones."),
    {"admissionChecks", T_STRLIST, NULL, "The admission checks every workload must pass.", F_B1,
     NULL, NULL},
    O("admissionChecksStrategy", checks_strategy, "The admission checks, per flavor."),
    E("stopPolicy", ENUM("None", "Hold", "HoldAndDrain"),
      "Hold stops admitting; HoldAndDrain also evicts admitted workloads."),
    O("fairSharing", fair_sharing, "Fair sharing settings of this queue."),
    F("admissionScope", T_ANY, "How usage is measured for admission fair sharing."),
    END};
static const struct fld cq_status[] = {
    F("pendingWorkloads", T_INT32, "The number of workloads waiting for admission."),
    F("reservingWorkloads", T_INT32, "The number of workloads holding quota."),
    F("admittedWorkloads", T_INT32, "The number of admitted, unfinished workloads."),
    L("flavorsReservation", flavor_usage, "Quota reserved, per flavor and resource.", "name"),
    L("flavorsUsage", flavor_usage, "Quota used by admitted workloads, per flavor and resource.",
      "name"),
    F("conditions", T_CONDS, "The conditions of the queue (Active)."),
    F("fairSharing", T_ANY, "The queue's fair-sharing state (weightedShare)."),
    END};
static const struct fld cq_top[] = {
    O("spec", cq_spec, "ClusterQueueSpec: the quota of a queue and its admission policy."),
    O("status", cq_status, "ClusterQueueStatus."), END};

/* -- Cohort -- */
static const struct fld cohort_spec[] = {
    F("parentName", T_STR, "The parent cohort; cohorts form a tree that lends unused quota."),
    L("resourceGroups", resource_group, "Quota the cohort itself holds, lent to its members.",
      NULL),
    O("fairSharing", fair_sharing, "Fair sharing settings of this cohort."), END};
static const struct fld cohort_top[] = {O("spec", cohort_spec, "CohortSpec."),
                                        F("status", T_ANY, "CohortStatus."), END};

/* -- LocalQueue -- */
static const struct fld lq_spec[] = {
    F("clusterQueue", T_STR, "The ClusterQueue the workloads of this queue are submitted to."),
    E("stopPolicy", ENUM("None", "Hold", "HoldAndDrain"),
      "Hold stops admitting from this queue; HoldAndDrain also evicts its admitted workloads."),
    O("fairSharing", fair_sharing, "Fair sharing settings of this queue."), END};
static const struct fld lq_status[] = {
    F("pendingWorkloads", T_INT32, "The number of workloads of this queue waiting for admission."),
    F("reservingWorkloads", T_INT32, "The number of workloads of this queue holding quota."),
    F("admittedWorkloads", T_INT32, "The number of admitted workloads of this queue."),
    F("conditions", T_CONDS, "The conditions of the queue (Active)."),
    L("flavorsReservation", flavor_usage, "Quota reserved, per flavor and resource.", "name"),
    L("flavorsUsage", flavor_usage, "Quota used, per flavor and resource.", "name"),
    END};
static const struct fld lq_top[] = {O("spec", lq_spec, "LocalQueueSpec."),
                                    O("status", lq_status, "LocalQueueStatus."), END};

/* -- WorkloadPriorityClass -- */
static const struct fld wpc_top[] = {
    FR("value", T_INT32, "The priority of workloads of this class; higher is more important."),
    F("description", T_STR, "What the class is for."), END};

/* -- Topology -- */
static const struct fld level[] = {
    FR("nodeLabel", T_STR, "The node label of this level, e.g. cloud.provider.com/topology-rack."),
    END};
static const struct fld topo_spec[] = {
    LR("levels", level, "The levels of the topology, outermost first; at most 16.", NULL), END};
static const struct fld topo_top[] = {OR("spec", topo_spec, "TopologySpec."), END};

/* -- pod template (core) -- */
static const struct fld container_port[] = {
    FR("containerPort", T_INT32, "The port number on the pod's IP address."),
    F("name", T_STR, "An IANA service name for the port."),
    E("protocol", ENUM("TCP", "UDP", "SCTP"), "The protocol; defaults to TCP."),
    F("hostPort", T_INT32, "The port on the host."),
    F("hostIP", T_STR, "The host IP to bind the host port to."),
    END};
static const struct fld env_var[] = {
    FR("name", T_STR, "The name of the environment variable."),
    F("value", T_STR, "The value, with $(VAR) references expanded."),
    F("valueFrom", T_ANY, "A source for the value (field, resource, config map or secret)."), END};
static const struct fld claim_ref[] = {
    FR("name", T_STR, "The name of an entry of the pod's spec.resourceClaims."),
    F("request", T_STR, "The request of the claim to use; empty means all."), END};
static const struct fld resources[] = {
    F("requests", T_QTYMAP,
      "The least of each resource the container needs; the scheduler places by these. For extended "
      "resources such as nvidia.com/gpu it defaults to the limit."),
    F("limits", T_QTYMAP, "The most of each resource the container may use."),
    L("claims", claim_ref, "The DRA resource claims the container uses.", "name"), END};
static const struct fld volume_mount[] = {
    FR("name", T_STR, "The name of the volume."),
    FR("mountPath", T_STR, "The path in the container."), F("readOnly", T_BOOL, "Mount read-only."),
    F("subPath", T_STR, "The path within the volume to mount."), END};
static const struct fld container[] = {
    FR("name", T_STR, "The name of the container, unique in the pod (a DNS label)."),
    F("image", T_STR, "The container image."),
    F("command", T_STRLIST, "The entrypoint; the image's ENTRYPOINT when absent."),
    F("args", T_STRLIST, "The arguments to the entrypoint; the image's CMD when absent."),
    F("workingDir", T_STR, "The working directory."),
    L("ports", container_port, "The ports the container exposes.", "containerPort"),
    L("env", env_var, "Environment variables.", "name"),
    F("envFrom", T_ANYLIST, "Sources of environment variables."),
    O("resources", resources, "The compute resources the container requires."),
    E("restartPolicy", ENUM("Always"),
      "For init containers: Always makes it a sidecar that runs beside the app containers."),
    L("volumeMounts", volume_mount, "Volumes mounted into the container.", "mountPath"),
    F("volumeDevices", T_ANYLIST, "Block devices used by the container."),
    E("imagePullPolicy", ENUM("Always", "Never", "IfNotPresent"), "When to pull the image."),
    F("livenessProbe", T_ANY, "Probe of container liveness."),
    F("readinessProbe", T_ANY, "Probe of container readiness."),
    F("startupProbe", T_ANY, "Probe of container startup."),
    F("lifecycle", T_ANY, "Lifecycle hooks."),
    F("securityContext", T_ANY, "Security options."),
    F("resizePolicy", T_ANYLIST, "Resize policy per resource."),
    F("terminationMessagePath", T_STR, "Where the termination message is written."),
    F("terminationMessagePolicy", T_STR, "How the termination message is filled."),
    F("stdin", T_BOOL, "Allocate a buffer for stdin."),
    F("stdinOnce", T_BOOL, "Close stdin after the first attach."),
    F("tty", T_BOOL, "Allocate a TTY."),
    END};
static const struct fld named[] = {FR("name", T_STR, "The name."), END};
static const struct fld pod_claim[] = {
    FR("name", T_STR, "The name of the claim within the pod."),
    F("resourceClaimName", T_STR, "An existing ResourceClaim."),
    F("resourceClaimTemplateName", T_STR, "A ResourceClaimTemplate to create the claim from."),
    END};
static const struct fld pod_spec[] = {
    LR("containers", container, "The containers of the pod; at least one.", "name"),
    L("initContainers", container, "Containers run in order before the app containers.", "name"),
    F("ephemeralContainers", T_ANYLIST, "Debugging containers added to a running pod."),
    F("nodeSelector", T_STRMAP, "Labels a node must have for the pod to run on it."),
    F("nodeName", T_STR, "The node the pod is bound to; set by binding."),
    L("tolerations", toleration, "Taints the pod tolerates.", NULL),
    F("priorityClassName", T_STR, "The PriorityClass of the pod."),
    F("priority", T_INT32, "The priority, from the PriorityClass."),
    E("preemptionPolicy", ENUM("PreemptLowerPriority", "Never"),
      "Whether the pod may preempt lower-priority pods."),
    F("schedulerName", T_STR, "The scheduler that places the pod."),
    L("schedulingGates", named, "While any gate remains, the pod is not scheduled.", "name"),
    L("resourceClaims", pod_claim, "The DRA resource claims of the pod.", "name"),
    F("overhead", T_QTYMAP, "Resources of the pod sandbox, added to the containers' requests."),
    F("volumes", T_ANYLIST, "Volumes the containers may mount."),
    E("restartPolicy", ENUM("Always", "OnFailure", "Never"), "When containers are restarted."),
    F("terminationGracePeriodSeconds", T_INT64,
      "Seconds between the termination signal and the kill."),
    F("activeDeadlineSeconds", T_INT64, "Seconds the pod may run before it is failed."),
    F("serviceAccountName", T_STR, "The service account the pod runs as."),
    F("hostNetwork", T_BOOL, "Use the host's network namespace."),
    F("affinity", T_ANY, "Node and pod affinity."),
    F("topologySpreadConstraints", T_ANYLIST, "How pods spread across topology domains."),
    F("securityContext", T_ANY, "Pod-level security options."),
    F("runtimeClassName", T_STR, "The RuntimeClass to run the pod with."),
    F("dnsPolicy", T_STR, "The DNS policy of the pod."),
    END};
static const struct fld template_meta[] = {F("labels", T_STRMAP, "Labels of the pods."),
                                           F("annotations", T_STRMAP, "Annotations of the pods."),
                                           F("name", T_STR, "Ignored."),
                                           F("namespace", T_STR, "Ignored."),
                                           F("generateName", T_STR, "Ignored."),
                                           F("finalizers", T_STRLIST, "Finalizers of the pods."),
                                           END};
static const struct fld pod_template[] = {O("metadata", template_meta, "Metadata of the pods."),
                                          OR("spec", pod_spec, "PodSpec: the pods' specification."),
                                          END};

/* -- Workload -- */
static const struct fld topology_request[] = {
    F("required", T_STR, "The topology level all pods must be placed within."),
    F("preferred", T_STR, "The topology level the pods are preferably placed within."),
    F("unconstrained", T_BOOL, "Place the pods with topology-aware scheduling but no constraint."),
    F("podIndexLabel", T_STR, "The label with the index of a pod in its pod set."),
    F("subGroupIndexLabel", T_STR, "The label with the index of a pod's sub-group."),
    F("subGroupCount", T_INT32, "The number of sub-groups."),
    F("podSetGroupName", T_STR, "Pod sets with the same group name are placed together."),
    F("podSetSliceRequiredTopology", T_STR, "The level each slice of the pod set must be within."),
    F("podSetSliceSize", T_INT32, "The number of pods in each slice."),
    END};
static const struct fld pod_set[] = {
    FR("name", T_STR, "The name of the pod set; default main."),
    F("count", T_INT32, "The number of pods; default 1."),
    F("minCount", T_INT32,
      "With partial admission: the fewest pods the workload may be admitted with."),
    OR("template", pod_template, "The pod template of the pod set."),
    O("topologyRequest", topology_request, "Topology-aware scheduling request of the pod set."),
    END};
static const struct fld priority_ref[] = {
    E("group", ENUM("kueue.x-k8s.io", "scheduling.k8s.io"), "The group of the priority class."),
    E("kind", ENUM("WorkloadPriorityClass", "PriorityClass"), "The kind of the priority class."),
    FR("name", T_STR, "The name of the priority class."), END};
static const struct fld ps_assignment[] = {
    FR("name", T_STR, "The name of the pod set."),
    F("flavors", T_STRMAP, "The flavor assigned to each resource."),
    F("resourceUsage", T_QTYMAP, "The resources the admitted pods use in total."),
    F("count", T_INT32, "The number of pods admitted."),
    F("topologyAssignment", T_ANY, "Where the pods are placed in the topology."),
    F("delayedTopologyRequest", T_STR, "Whether the topology assignment is delayed."),
    END};
static const struct fld admission[] = {
    FR("clusterQueue", T_STR, "The ClusterQueue that admitted the workload."),
    L("podSetAssignments", ps_assignment, "The flavors and usage of each pod set.", "name"),
    F("placement", T_ANYLIST,
      "muster's extension: where each pod goes, one entry per rank ({node, gpus, podSet})."),
    END};
static const struct fld requeue_state[] = {
    F("count", T_INT32, "How many times the workload was requeued."),
    F("requeueAt", T_TIME, "When the workload is requeued."), END};
static const struct fld wl_spec[] = {
    LR("podSets", pod_set, "The pod sets of the workload; 1 to 8.", "name"),
    F("queueName", T_STR, "The LocalQueue the workload is submitted to."),
    OV("priorityClassRef", priority_ref, "The priority class of the workload.", F_B2),
    FV("priorityClassName", T_STR, "The priority class of the workload.", F_B1),
    EV("priorityClassSource",
       ENUM("kueue.x-k8s.io/workloadpriorityclass", "scheduling.k8s.io/priorityclass", ""),
       "Where the priority class comes from.", F_B1),
    F("priority", T_INT32, "The priority, from the priority class; higher is admitted first."),
    F("active", T_BOOL, "false evicts the workload and keeps it from admission; default true."),
    F("maximumExecutionTimeSeconds", T_INT32,
      "The longest the workload may run once admitted; used by backfill."),
    END};
static const struct fld wl_status[] = {
    F("conditions", T_CONDS,
      "QuotaReserved, Admitted, PodsReady, Evicted, Preempted, Requeued, Finished."),
    O("admission", admission, "Where and how the workload is admitted."),
    O("requeueState", requeue_state, "Requeueing state after eviction."),
    F("reclaimablePods", T_ANYLIST, "Pods that finished and whose quota may be released."),
    F("admissionChecks", T_ANYLIST, "The state of the admission checks."),
    F("resourceRequests", T_ANYLIST, "The total requests of each pod set."),
    F("schedulingStats", T_ANY, "Eviction statistics."),
    END};
static const struct fld wl_top[] = {
    O("spec", wl_spec, "WorkloadSpec: the pods of a job that are admitted together."),
    O("status", wl_status, "WorkloadStatus."), END};

/* -- core/v1 -- */
static const struct fld ns_spec[] = {
    F("finalizers", T_STRLIST, "Finalizers that must be removed before the namespace is deleted."),
    END};
static const struct fld ns_status[] = {
    E("phase", ENUM("Active", "Terminating"), "The phase of the namespace."),
    F("conditions", T_ANYLIST, "The conditions of the namespace."), END};
static const struct fld ns_top[] = {O("spec", ns_spec, "NamespaceSpec."),
                                    O("status", ns_status, "NamespaceStatus."), END};

static const struct fld node_cond[] = {
    FR("type", T_STR, "Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable."),
    {"status", T_STR, NULL, "True, False or Unknown.", F_REQ, ENUM("True", "False", "Unknown"),
     NULL},
    F("reason", T_STR, "Why the condition last changed."),
    F("message", T_STR, "A human-readable message."),
    F("lastHeartbeatTime", T_TIME, "When the condition was last probed."),
    F("lastTransitionTime", T_TIME, "When the condition last changed."),
    END};
static const struct fld node_addr[] = {
    FR("type", T_STR, "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS."),
    FR("address", T_STR, "The address."), END};
static const struct fld node_info[] = {
    F("kubeletVersion", T_STR, "The kubelet version."),
    F("osImage", T_STR, "The OS image."),
    F("kernelVersion", T_STR, "The kernel version."),
    F("containerRuntimeVersion", T_STR, "The container runtime version."),
    F("architecture", T_STR, "The architecture."),
    F("operatingSystem", T_STR, "The operating system."),
    F("machineID", T_STR, "The machine ID."),
    F("systemUUID", T_STR, "The system UUID."),
    F("bootID", T_STR, "The boot ID."),
    F("kubeProxyVersion", T_STR, "Deprecated."),
    END};
static const struct fld node_spec[] = {
    F("podCIDR", T_STR, "The pod IP range of the node."),
    SET("podCIDRs", "The pod IP ranges of the node."),
    F("providerID", T_STR, "The node's ID at the cloud provider."),
    F("unschedulable", T_BOOL, "Cordoned: no new pods are placed on the node."),
    L("taints", taint, "The node's taints; pods must tolerate them.", NULL),
    F("configSource", T_ANY, "Deprecated."),
    F("externalID", T_STR, "Deprecated."),
    END};
static const struct fld node_status[] = {
    F("capacity", T_QTYMAP, "The total resources of the node."),
    F("allocatable", T_QTYMAP,
      "The resources available to pods (capacity minus reservations); the scheduler places by "
      "these."),
    F("phase", T_STR, "Deprecated."),
    L("conditions", node_cond, "The node's conditions; Ready says whether pods may run.", "type"),
    L("addresses", node_addr, "The node's addresses.", "type"),
    O("nodeInfo", node_info, "Versions and IDs reported by the node."),
    F("daemonEndpoints", T_ANY, "Endpoints of the node's daemons."),
    F("images", T_ANYLIST, "Images on the node."),
    F("volumesInUse", T_STRLIST, "Volumes in use."),
    F("volumesAttached", T_ANYLIST, "Volumes attached."),
    F("config", T_ANY, "Kubelet config status."),
    F("runtimeHandlers", T_ANYLIST, "Runtime handlers."),
    F("features", T_ANY, "Supported features."),
    END};
static const struct fld node_top[] = {O("spec", node_spec, "NodeSpec."),
                                      O("status", node_status, "NodeStatus."), END};

static const struct fld pod_cond[] = {
    FR("type", T_STR, "PodScheduled, Initialized, ContainersReady, Ready, DisruptionTarget, ..."),
    {"status", T_STR, NULL, "True, False or Unknown.", F_REQ, ENUM("True", "False", "Unknown"),
     NULL},
    F("reason", T_STR, "Why the condition last changed (Unschedulable, SchedulingGated)."),
    F("message", T_STR, "A human-readable message."),
    F("lastProbeTime", T_TIME, "When the condition was last probed."),
    F("lastTransitionTime", T_TIME, "When the condition last changed."),
    END};
static const struct fld pod_ip[] = {FR("ip", T_STR, "The IP address."), END};
static const struct fld pod_status[] = {
    E("phase", ENUM("Pending", "Running", "Succeeded", "Failed", "Unknown"),
      "The phase of the pod."),
    L("conditions", pod_cond, "The pod's conditions.", "type"),
    F("message", T_STR, "Why the pod is in this state."),
    F("reason", T_STR, "A brief reason, e.g. Evicted."),
    F("nominatedNodeName", T_STR, "The node the pod is nominated to after a preemption."),
    F("hostIP", T_STR, "The IP of the node."),
    F("podIP", T_STR, "The IP of the pod."),
    L("podIPs", pod_ip, "The IPs of the pod.", "ip"),
    F("startTime", T_TIME, "When the kubelet acknowledged the pod."),
    F("containerStatuses", T_ANYLIST, "The status of each container."),
    F("initContainerStatuses", T_ANYLIST, "The status of each init container."),
    F("qosClass", T_STR, "Guaranteed, Burstable or BestEffort."),
    F("resourceClaimStatuses", T_ANYLIST, "The ResourceClaims made for the pod."),
    END};
static const struct fld pod_top[] = {O("spec", pod_spec, "PodSpec: the pod's specification."),
                                     O("status", pod_status, "PodStatus."), END};

static const struct fld obj_ref[] = {
    F("apiVersion", T_STR, "API version of the referent."),
    F("kind", T_STR, "Kind of the referent."),
    F("namespace", T_STR, "Namespace of the referent."),
    F("name", T_STR, "Name of the referent."),
    F("uid", T_STR, "UID of the referent."),
    F("resourceVersion", T_STR, "Resource version of the referent."),
    F("fieldPath", T_STR, "A field within the referent."),
    END};
static const struct fld event_source[] = {
    F("component", T_STR, "The component that reported the event."),
    F("host", T_STR, "The node the event came from."), END};
static const struct fld event_top[] = {
    OR("involvedObject", obj_ref, "The object the event is about."),
    F("reason", T_STR, "A short, machine-readable reason (Scheduled, FailedScheduling)."),
    F("message", T_STR, "A human-readable description."),
    O("source", event_source, "The component that reported the event."),
    F("firstTimestamp", T_TIME, "When the event was first recorded."),
    F("lastTimestamp", T_TIME, "When the event was last recorded."),
    F("count", T_INT32, "How many times the event occurred."),
    E("type", ENUM("Normal", "Warning"), "The type of the event."),
    F("eventTime", T_TIME, "When the event was first observed (MicroTime)."),
    F("series", T_ANY, "Data about the event series."),
    F("action", T_STR, "What was done or failed."),
    F("related", T_ANY, "A second object for more complex actions."),
    F("reportingComponent", T_STR, "The controller that emitted the event."),
    F("reportingInstance", T_STR, "The instance of the controller."),
    END};

static const struct fld binding_top[] = {
    OR("target", obj_ref, "The node to bind the pod to (kind Node, name)."), END};

/* -- batch/v1 -- */
static const struct fld job_cond[] = {
    FR("type", T_STR, "Complete, Failed, Suspended, FailureTarget, SuccessCriteriaMet."),
    {"status", T_STR, NULL, "True, False or Unknown.", F_REQ, ENUM("True", "False", "Unknown"),
     NULL},
    F("reason", T_STR, "Why the condition last changed."),
    F("message", T_STR, "A human-readable message."),
    F("lastProbeTime", T_TIME, "When the condition was last checked."),
    F("lastTransitionTime", T_TIME, "When the condition last changed."),
    END};
static const struct fld job_spec[] = {
    F("parallelism", T_INT32, "The most pods running at once."),
    F("completions", T_INT32, "The number of successful pods needed; absent: any one success."),
    F("activeDeadlineSeconds", T_INT64, "Seconds the job may be active."),
    F("backoffLimit", T_INT32, "Retries before the job is failed; default 6."),
    E("completionMode", ENUM("NonIndexed", "Indexed"), "How completions are tracked."),
    F("suspend", T_BOOL,
      "Whether the job's pods may be created; Kueue unsuspends a job on admission."),
    OR("template", pod_template, "The pods the job creates."),
    {"selector", T_SELECTOR, NULL, "Selects the job's pods.", 0, NULL, NULL},
    F("manualSelector", T_BOOL, "Use the given selector as is."),
    F("ttlSecondsAfterFinished", T_INT32, "Seconds after which a finished job is deleted."),
    F("podFailurePolicy", T_ANY, "How pod failures are handled."),
    END};
static const struct fld job_status[] = {L("conditions", job_cond, "The job's conditions.", "type"),
                                        F("startTime", T_TIME, "When the job started."),
                                        F("completionTime", T_TIME, "When the job completed."),
                                        F("active", T_INT32, "Pods running."),
                                        F("succeeded", T_INT32, "Pods that succeeded."),
                                        F("failed", T_INT32, "Pods that failed."),
                                        F("ready", T_INT32, "Pods ready."),
                                        END};
static const struct fld job_top[] = {O("spec", job_spec, "JobSpec."),
                                     O("status", job_status, "JobStatus."), END};

/* -- coordination.k8s.io/v1 -- */
static const struct fld lease_spec[] = {
    F("holderIdentity", T_STR, "The identity of the holder of the lease."),
    F("leaseDurationSeconds", T_INT32, "How long others wait before taking the lease over."),
    F("acquireTime", T_TIME, "When the current holder acquired the lease (MicroTime)."),
    F("renewTime", T_TIME, "When the holder last renewed the lease (MicroTime)."),
    F("leaseTransitions", T_INT32, "How many times the lease changed hands."),
    F("strategy", T_STR, "The coordinated leader election strategy."),
    F("preferredHolder", T_STR, "The holder the lease should go to."),
    END};
static const struct fld lease_top[] = {O("spec", lease_spec, "LeaseSpec."), END};

/* -- scheduling.k8s.io/v1 -- */
static const struct fld pc_top[] = {
    FR("value", T_INT32, "The priority of pods of this class; user classes at most 1000000000."),
    F("globalDefault", T_BOOL, "The class of pods that name none; at most one class."),
    F("description", T_STR, "What the class is for."),
    E("preemptionPolicy", ENUM("PreemptLowerPriority", "Never"),
      "Whether pods of this class may preempt; default PreemptLowerPriority."),
    END};

/* -- resource.k8s.io/v1 -- */
static const struct fld dc_spec[] = {
    F("selectors", T_ANYLIST, "CEL selectors a device must match."),
    F("config", T_ANYLIST, "Configuration for devices of this class."),
    F("extendedResourceName", T_STR, "The extended resource the class stands for."), END};
static const struct fld dc_top[] = {OR("spec", dc_spec, "DeviceClassSpec."), END};
static const struct fld pool[] = {
    FR("name", T_STR, "The name of the pool, often the node's."),
    FR("generation", T_INT64, "The generation; only slices of the highest generation count."),
    FR("resourceSliceCount", T_INT64, "How many slices the pool has."), END};
static const struct fld slice_spec[] = {
    FR("driver", T_STR, "The DRA driver of the devices."),
    OR("pool", pool, "The pool the slice belongs to."),
    F("nodeName", T_STR, "The node the devices are on."),
    F("nodeSelector", T_ANY, "The nodes the devices are reachable from."),
    F("allNodes", T_BOOL, "The devices are reachable from every node."),
    F("perDeviceNodeSelection", T_BOOL, "Each device says where it is reachable."),
    F("devices", T_ANYLIST, "The devices; at most 128."),
    F("sharedCounters", T_ANYLIST, "Counter sets partitionable devices draw on."),
    END};
static const struct fld slice_top[] = {OR("spec", slice_spec, "ResourceSliceSpec."), END};
static const struct fld device_claim[] = {
    F("requests", T_ANYLIST, "The device requests; at most 32."),
    F("constraints", T_ANYLIST, "Constraints across requests (matchAttribute)."),
    F("config", T_ANYLIST, "Device configuration."), END};
static const struct fld claim_spec[] = {
    O("devices", device_claim, "The devices the claim asks for."), END};
static const struct fld claim_status[] = {
    F("allocation", T_ANY, "The devices allocated and where they are reachable."),
    F("reservedFor", T_ANYLIST, "The pods the claim is reserved for."),
    F("devices", T_ANYLIST, "Status reported by the drivers."), END};
static const struct fld claim_top[] = {OR("spec", claim_spec, "ResourceClaimSpec."),
                                       O("status", claim_status, "ResourceClaimStatus."), END};
static const struct fld tmpl_spec[] = {
    F("metadata", T_ANY, "Labels and annotations of the claims made."),
    OR("spec", claim_spec, "The ResourceClaimSpec of the claims made."), END};
static const struct fld tmpl_top[] = {OR("spec", tmpl_spec, "ResourceClaimTemplateSpec."), END};

static const struct {
    const char *kind;
    const char *desc;
    const struct fld *fields;
} kinds[] = {
    {"Namespace", "Namespace provides a scope for names.", ns_top},
    {"Node",
     "Node is a worker machine; the scheduler places pods on nodes by their allocatable resources, "
     "labels and taints.",
     node_top},
    {"Pod", "Pod is a group of containers that run together on one node.", pod_top},
    {"Event", "Event is a report of an event somewhere in the cluster.", event_top},
    {"Binding", "Binding ties a pod to a node; POST it to bind a pod.", binding_top},
    {"Job", "Job runs pods until a number of them succeed.", job_top},
    {"Lease", "Lease is a lock for leader election and node heartbeats.", lease_top},
    {"PriorityClass", "PriorityClass maps a class name to a pod priority.", pc_top},
    {"DeviceClass", "DeviceClass is a class of devices a claim may ask for.", dc_top},
    {"ResourceSlice", "ResourceSlice lists devices a driver offers in a pool.", slice_top},
    {"ResourceClaim", "ResourceClaim asks for devices for a pod.", claim_top},
    {"ResourceClaimTemplate", "ResourceClaimTemplate makes one ResourceClaim per pod.", tmpl_top},
    {"ResourceFlavor",
     "ResourceFlavor is a kind of node (a GPU model, a zone) that quota is given in.", rf_top},
    {"ClusterQueue",
     "ClusterQueue holds quota per flavor and resource and admits the workloads of its "
     "LocalQueues.",
     cq_top},
    {"Cohort", "Cohort groups ClusterQueues (and cohorts) that lend each other unused quota.",
     cohort_top},
    {"LocalQueue", "LocalQueue is the namespaced queue users submit workloads to.", lq_top},
    {"Workload", "Workload is a unit of admission: pod sets admitted all together.", wl_top},
    {"WorkloadPriorityClass",
     "WorkloadPriorityClass gives workloads a priority independent of their pods'.", wpc_top},
    {"Topology",
     "Topology names the node labels of the levels of the data centre, for topology-aware "
     "scheduling.",
     topo_top},
};

/* ---- schema builders ----------------------------------------------------- */

static json_t *str_array(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *qty_schema(void)
{
    return json_pack("{s[{ss}{ss}] sb}", "anyOf", "type", "integer", "type", "string",
                     "x-kubernetes-int-or-string", 1);
}

static json_t *any_object(void)
{
    return json_pack("{ss sb}", "type", "object", "x-kubernetes-preserve-unknown-fields", 1);
}

static json_t *object_schema(const struct fld *f, unsigned vflags, const char *desc);

static json_t *field_schema(const struct fld *f, unsigned vflags)
{
    json_t *s;
    switch (f->t) {
    case T_STR:
        s = json_pack("{ss}", "type", "string");
        if (f->enums)
            json_object_set_new(s, "enum", str_array(f->enums));
        break;
    case T_INT32:
        s = json_pack("{ss ss}", "type", "integer", "format", "int32");
        break;
    case T_INT64:
        s = json_pack("{ss ss}", "type", "integer", "format", "int64");
        break;
    case T_BOOL:
        s = json_pack("{ss}", "type", "boolean");
        break;
    case T_QTY:
        s = qty_schema();
        break;
    case T_TIME:
        s = json_pack("{ss ss}", "type", "string", "format", "date-time");
        break;
    case T_OBJ:
        s = object_schema(f->sub, vflags, NULL);
        break;
    case T_LIST:
        s = json_pack("{ss so}", "type", "array", "items", object_schema(f->sub, vflags, NULL));
        if (f->key) {
            json_object_set_new(s, "x-kubernetes-list-type", json_string("map"));
            json_object_set_new(s, "x-kubernetes-list-map-keys", json_pack("[s]", f->key));
            if (vflags & F_CORE) {
                json_object_set_new(s, "x-kubernetes-patch-merge-key", json_string(f->key));
                json_object_set_new(s, "x-kubernetes-patch-strategy", json_string("merge"));
            }
        } else {
            json_object_set_new(s, "x-kubernetes-list-type", json_string("atomic"));
        }
        break;
    case T_STRLIST:
        s = json_pack("{ss s{ss}}", "type", "array", "items", "type", "string");
        json_object_set_new(s, "x-kubernetes-list-type", json_string(f->key ? "set" : "atomic"));
        if (f->key && (vflags & F_CORE))
            json_object_set_new(s, "x-kubernetes-patch-strategy", json_string("merge"));
        break;
    case T_STRMAP:
        s = json_pack("{ss s{ss}}", "type", "object", "additionalProperties", "type", "string");
        break;
    case T_QTYMAP:
        s = json_pack("{ss so}", "type", "object", "additionalProperties", qty_schema());
        break;
    case T_ANY:
        s = any_object();
        break;
    case T_ANYLIST:
        s = json_pack("{ss so ss}", "type", "array", "items", any_object(),
                      "x-kubernetes-list-type", "atomic");
        break;
    case T_CONDS:
        s = json_pack("{ss s{s[{ss}]} ss s[s]}", "type", "array", "items", "allOf", "$ref",
                      REF(META "Condition"), "x-kubernetes-list-type", "map",
                      "x-kubernetes-list-map-keys", "type");
        break;
    case T_SELECTOR:
        s = json_pack("{s[{ss}]}", "allOf", "$ref", REF(META "LabelSelector"));
        break;
    default:
        abort();
    }
    if (f->desc)
        json_object_set_new(s, "description", json_string(f->desc));
    return s;
}

/* Whether a field belongs in the schema of a version: F_B1 fields only in
 * kueue v1beta1, F_B2 fields in every other version. */
static bool field_in(const struct fld *f, unsigned vflags)
{
    if (f->flags & F_B1)
        return vflags & F_B1;
    if (f->flags & F_B2)
        return !(vflags & F_B1);
    return true;
}

static json_t *object_schema(const struct fld *f, unsigned vflags, const char *desc)
{
    json_t *props = json_object(), *req = json_array();
    for (; f->name; f++) {
        if (!field_in(f, vflags))
            continue;
        json_object_set_new(props, f->name, field_schema(f, vflags));
        if (f->flags & F_REQ)
            json_array_append_new(req, json_string(f->name));
    }
    json_t *s = json_pack("{ss so}", "type", "object", "properties", props);
    if (json_array_size(req))
        json_object_set_new(s, "required", req);
    else
        json_decref(req);
    if (desc)
        json_object_set_new(s, "description", json_string(desc));
    return s;
}

/* ---- names --------------------------------------------------------------- */

/* Whether a group is one of Kubernetes' own: "" (core), a name without dots
 * (batch, apps) or one under .k8s.io. SIG projects live under x-k8s.io
 * ("kueue.x-k8s.io" ends in "-k8s.io") and are custom resources. */
static bool builtin_group(const char *g)
{
    static const char suffix[] = ".k8s.io";
    size_t glen = strlen(g), sl = sizeof suffix - 1;
    return !strchr(g, '.') || (glen > sl && !strcmp(g + glen - sl, suffix));
}

int openapi_schema_name(const struct api_kind *k, char *buf, size_t size)
{
    const char *g = k->group;
    size_t glen = strlen(g);
    if (!*g)
        return snprintf(buf, size, "io.k8s.api.core.%s.%s", k->version, k->kind);
    if (builtin_group(g))
        return snprintf(buf, size, "io.k8s.api.%.*s.%s.%s", (int)strcspn(g, "."), g, k->version,
                        k->kind);
    /* A custom group, labels reversed: kueue.x-k8s.io -> io.x-k8s.kueue. */
    char rev[256];
    size_t o = 0;
    const char *end = g + glen;
    while (end > g && o + 1 < sizeof rev) {
        const char *dot = end;
        while (dot > g && dot[-1] != '.')
            dot--;
        int w = snprintf(rev + o, sizeof rev - o, "%s%.*s", o ? "." : "", (int)(end - dot), dot);
        if (w < 0)
            break;
        o += (size_t)w < sizeof rev - o ? (size_t)w : sizeof rev - o - 1;
        end = dot > g ? dot - 1 : g;
    }
    rev[o] = '\0';
    return snprintf(buf, size, "%s.%s.%s", rev, k->version, k->kind);
}

static void gv_path_of(const struct api_kind *k, char *buf, size_t size)
{
    if (!k->group[0])
        snprintf(buf, size, "api/%s", k->version);
    else
        snprintf(buf, size, "apis/%s/%s", k->group, k->version);
}

/* ---- common schemas ------------------------------------------------------ */

static const struct fld owner_ref[] = {
    FR("apiVersion", T_STR, "API version of the owner."),
    FR("kind", T_STR, "Kind of the owner."),
    FR("name", T_STR, "Name of the owner."),
    FR("uid", T_STR, "UID of the owner."),
    F("controller", T_BOOL, "The owner is the managing controller."),
    F("blockOwnerDeletion", T_BOOL, "The owner cannot be deleted before this object."),
    END};
static const struct fld managed_entry[] = {
    F("manager", T_STR, "The workflow managing these fields (the fieldManager)."),
    E("operation", ENUM("Apply", "Update"), "The operation that set the fields."),
    F("apiVersion", T_STR, "The version the fields were set in."),
    F("time", T_TIME, "When the fields were last changed."),
    E("fieldsType", ENUM("FieldsV1"), "The format of fieldsV1."),
    F("fieldsV1", T_ANY, "The set of fields, as f:/k:/v: keys."),
    F("subresource", T_STR, "The subresource the fields were set through."),
    END};
static const struct fld object_meta[] = {
    F("name", T_STR,
      "Name must be unique within a namespace. Is required when creating resources, although some "
      "resources may allow a client to request the generation of an appropriate name "
      "automatically."),
    F("generateName", T_STR, "A prefix for a name the server generates when name is empty."),
    F("namespace", T_STR, "Namespace defines the space within which each name must be unique."),
    F("uid", T_STR,
      "UID is the unique in time and space value for this object, set by the server."),
    F("resourceVersion", T_STR,
      "An opaque value that changes on every write; for optimistic concurrency and watches."),
    F("generation", T_INT64, "A sequence number of changes to the desired state."),
    F("creationTimestamp", T_TIME, "When the object was created, set by the server."),
    F("deletionTimestamp", T_TIME,
      "When the object will be deleted, set when deletion was requested and finalizers remain."),
    F("deletionGracePeriodSeconds", T_INT64, "Seconds allowed for graceful termination."),
    F("labels", T_STRMAP,
      "Map of string keys and values that can be used to organize and categorize (scope and "
      "select) objects."),
    F("annotations", T_STRMAP, "Unstructured key value map for arbitrary metadata."),
    L("ownerReferences", owner_ref, "Objects this object depends on.", "uid"),
    SET("finalizers", "Must be empty before the object is deleted from the registry."),
    L("managedFields", managed_entry, "Which manager owns which fields (server-side apply).", NULL),
    END};
static const struct fld list_meta[] = {
    F("resourceVersion", T_STR, "The version of the list; watch from it."),
    F("continue", T_STR, "Set when more items are available; pass it back to get them."),
    F("remainingItemCount", T_INT64, "The number of items not yet returned, when known."), END};
static const struct fld condition[] = {
    FR("type", T_STR, "The type of the condition, in CamelCase."),
    {"status", T_STR, NULL, "True, False or Unknown.", F_REQ, ENUM("True", "False", "Unknown"),
     NULL},
    F("observedGeneration", T_INT64, "The generation the condition was set for."),
    FR("lastTransitionTime", T_TIME, "When the condition last changed status."),
    FR("reason", T_STR, "A programmatic identifier of the reason, in CamelCase."),
    FR("message", T_STR, "A human-readable message."),
    END};
static const struct fld selector_req[] = {FR("key", T_STR, "The label key."),
                                          {"operator", T_STR, NULL,
                                           "The relationship of the key to the values.", F_REQ,
                                           ENUM("In", "NotIn", "Exists", "DoesNotExist"), NULL},
                                          F("values", T_STRLIST, "The values, for In and NotIn."),
                                          END};
static const struct fld label_selector[] = {
    F("matchLabels", T_STRMAP, "Labels that must all match."),
    L("matchExpressions", selector_req, "Requirements that must all hold.", NULL), END};

static void add_common_schemas(json_t *schemas)
{
    json_object_set_new(
        schemas, META "ObjectMeta",
        object_schema(object_meta, F_CORE,
                      "ObjectMeta is metadata that all persisted resources must have."));
    json_object_set_new(schemas, META "ListMeta",
                        object_schema(list_meta, F_CORE, "ListMeta describes a list."));
    json_object_set_new(schemas, META "Condition",
                        object_schema(condition, F_CORE,
                                      "Condition contains details for one aspect of the current "
                                      "state of this API Resource."));
    json_object_set_new(
        schemas, META "LabelSelector",
        object_schema(label_selector, F_CORE,
                      "A label selector: the requirements are ANDed; empty matches everything."));
    json_object_set_new(
        schemas, META "OwnerReference",
        object_schema(owner_ref, F_CORE, "OwnerReference names an object this one depends on."));
    json_object_set_new(schemas, META "ManagedFieldsEntry",
                        object_schema(managed_entry, F_CORE, "A manager and the fields it owns."));
    json_object_set_new(schemas, META "Patch",
                        json_pack("{ss ss}", "type", "object", "description",
                                  "Patch is provided to give a concrete name and type to the "
                                  "Kubernetes PATCH request body."));
}

static json_t *gvk(const struct api_kind *k, const char *kind)
{
    return json_pack("{ss ss ss}", "group", k->group, "version", k->version, "kind", kind);
}

static void add_kind_schemas(json_t *schemas, const struct api_kind *k)
{
    const struct fld *fields = NULL;
    const char *desc = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, k->kind)) {
            fields = kinds[i].fields;
            desc = kinds[i].desc;
        }
    unsigned vflags =
        !strcmp(k->group, "kueue.x-k8s.io") && !strcmp(k->version, "v1beta1") ? F_B1 : F_B2;
    if (builtin_group(k->group))
        vflags |= F_CORE;
    json_t *s;
    if (fields) {
        s = object_schema(fields, vflags, desc);
    } else {
        s = json_pack("{ss ss so}", "type", "object", "description", k->kind, "properties",
                      json_object());
        json_object_set_new(json_object_get(s, "properties"), "spec", any_object());
        json_object_set_new(json_object_get(s, "properties"), "status", any_object());
    }
    char av[128];
    api_kind_api_version(k, av, sizeof av);
    json_t *props = json_object_get(s, "properties");
    json_object_set_new(
        props, "apiVersion",
        json_pack("{ss ss}", "type", "string", "description",
                  "APIVersion defines the versioned schema of this representation of an object."));
    json_object_set_new(
        props, "kind",
        json_pack("{ss ss}", "type", "string", "description",
                  "Kind is a string value representing the REST resource this object represents."));
    json_object_set_new(props, "metadata",
                        json_pack("{s[{ss}] s{} ss}", "allOf", "$ref", REF(META "ObjectMeta"),
                                  "default", "description", "Standard object's metadata."));
    json_object_set_new(s, "x-kubernetes-group-version-kind", json_pack("[o]", gvk(k, k->kind)));
    char name[256], list_kind[128], list_name[300], ref[320];
    openapi_schema_name(k, name, sizeof name);
    json_object_set_new(schemas, name, s);

    snprintf(list_kind, sizeof list_kind, "%sList", k->kind);
    snprintf(list_name, sizeof list_name, "%sList", name);
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    json_t *list = json_pack(
        "{ss ss s[s] s{s{ss ss} s{ss ss} s{ss s{ss} ss} s{s[{ss}] s{} ss}} s[o]}", "type", "object",
        "description", list_kind, "required", "items", "properties", "apiVersion", "type", "string",
        "description", "APIVersion of the list.", "kind", "type", "string", "description",
        "Kind of the list.", "items", "type", "array", "items", "$ref", ref, "description",
        "The objects.", "metadata", "allOf", "$ref", REF(META "ListMeta"), "default", "description",
        "Standard list metadata.", "x-kubernetes-group-version-kind", gvk(k, list_kind));
    json_object_set_new(schemas, list_name, list);
}

/* ---- paths --------------------------------------------------------------- */

static json_t *qparam(const char *name, const char *type, const char *desc)
{
    json_t *p = json_pack("{ss ss s{ss} ss}", "name", name, "in", "query", "schema", "type", type,
                          "description", desc);
    if (!strcmp(name, "fieldValidation"))
        json_object_set_new(json_object_get(p, "schema"), "uniqueItems", json_true());
    return p;
}

static json_t *write_params(bool patch)
{
    json_t *a = json_array();
    json_array_append_new(
        a,
        qparam("fieldValidation", "string",
               "fieldValidation instructs the server on how to handle objects in the request "
               "(POST/PUT/PATCH) containing unknown or duplicate fields: Ignore, Warn or Strict."));
    json_array_append_new(a, qparam("fieldManager", "string",
                                    "fieldManager is a name associated with the actor or entity "
                                    "that is making these changes."));
    json_array_append_new(
        a, qparam("dryRun", "string", "When present (All), modifications are not persisted."));
    if (patch)
        json_array_append_new(a, qparam("force", "boolean",
                                        "Force is going to \"force\" Apply requests: it takes over "
                                        "fields other managers own."));
    return a;
}

static json_t *list_params(void)
{
    json_t *a = json_array();
    json_array_append_new(
        a, qparam("labelSelector", "string",
                  "A selector to restrict the list of returned objects by their labels."));
    json_array_append_new(
        a, qparam("fieldSelector", "string",
                  "A selector to restrict the list of returned objects by their fields."));
    json_array_append_new(
        a, qparam("limit", "integer",
                  "The most objects to return; continue with the returned continue token."));
    json_array_append_new(a,
                          qparam("continue", "string", "The continue token of a previous list."));
    json_array_append_new(
        a, qparam("resourceVersion", "string", "The version to list or watch from."));
    json_array_append_new(
        a, qparam("watch", "boolean", "Watch for changes and return them as a stream of events."));
    json_array_append_new(a, qparam("allowWatchBookmarks", "boolean", "Send BOOKMARK events."));
    json_array_append_new(
        a, qparam("timeoutSeconds", "integer", "End the list or watch after this many seconds."));
    return a;
}

static json_t *delete_params(void)
{
    json_t *a = json_array();
    json_array_append_new(a, qparam("dryRun", "string", "When present (All), nothing is deleted."));
    json_array_append_new(
        a, qparam("gracePeriodSeconds", "integer", "Seconds before the object is deleted."));
    json_array_append_new(
        a, qparam("propagationPolicy", "string", "Orphan, Background or Foreground."));
    return a;
}

static json_t *response(const char *ref)
{
    return json_pack("{s{ss s{s{s{ss}}}}}", "200", "description", "OK", "content",
                     "application/json", "schema", "$ref", ref);
}

static json_t *operation(const char *action, const char *verb_id, const char *kind_id,
                         const struct api_kind *k, const char *ref, json_t *params)
{
    char id[256];
    snprintf(id, sizeof id, "%s%s", verb_id, kind_id);
    json_t *op = json_pack("{ss so so ss so}", "operationId", id, "parameters", params, "responses",
                           response(ref), "x-kubernetes-action", action,
                           "x-kubernetes-group-version-kind", gvk(k, k->kind));
    return op;
}

static json_t *body(const char *ref, bool patch, bool core)
{
    json_t *content = json_object();
    if (patch) {
        static const char *const types[] = {
            "application/json-patch+json", "application/merge-patch+json",
            "application/strategic-merge-patch+json", "application/apply-patch+yaml"};
        for (size_t i = 0; i < 4; i++) {
            /* Strategic merge patch is for built-in kinds only. */
            if (i == 2 && !core)
                continue;
            json_object_set_new(content, types[i],
                                json_pack("{s{ss}}", "schema", "$ref", REF(META "Patch")));
        }
    } else {
        json_object_set_new(content, "application/json",
                            json_pack("{s{ss}}", "schema", "$ref", ref));
    }
    return json_pack("{so sb}", "content", content, "required", 1);
}

static json_t *path_params(bool ns, bool name)
{
    json_t *a = json_array();
    if (name)
        json_array_append_new(a, json_pack("{ss ss sb s{ss} ss}", "name", "name", "in", "path",
                                           "required", 1, "schema", "type", "string", "description",
                                           "name of the object"));
    if (ns)
        json_array_append_new(
            a, json_pack("{ss ss sb s{ss} ss}", "name", "namespace", "in", "path", "required", 1,
                         "schema", "type", "string", "description",
                         "object name and auth scope, such as for teams and projects"));
    return a;
}

static void add_kind_paths(json_t *paths, const struct api_kind *k)
{
    char gv[256], base[400], coll[520], item[600], sub[640], name[256], ref[320], lref[330];
    gv_path_of(k, gv, sizeof gv);
    if (k->namespaced)
        snprintf(base, sizeof base, "/%s/namespaces/{namespace}", gv);
    else
        snprintf(base, sizeof base, "/%s", gv);
    snprintf(coll, sizeof coll, "%s/%s", base, k->resource);
    snprintf(item, sizeof item, "%s/{name}", coll);
    openapi_schema_name(k, name, sizeof name);
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    snprintf(lref, sizeof lref, "#/components/schemas/%sList", name);
    const char *nsd = k->namespaced ? "Namespaced" : "";
    char kind_id[160], status_id[170];
    snprintf(kind_id, sizeof kind_id, "%s%s", nsd, k->kind);
    snprintf(status_id, sizeof status_id, "%s%sStatus", nsd, k->kind);
    bool core = builtin_group(k->group);
    unsigned v = k->verbs;

    json_t *c = json_pack("{so}", "parameters", path_params(k->namespaced, false));
    if (v & API_VERB_LIST)
        json_object_set_new(c, "get", operation("list", "list", kind_id, k, lref, list_params()));
    if (v & API_VERB_CREATE) {
        json_t *op = operation("post", "create", kind_id, k, ref, write_params(false));
        json_object_set_new(op, "requestBody", body(ref, false, core));
        json_object_set_new(json_object_get(op, "responses"), "201",
                            json_pack("{ss}", "description", "Created"));
        json_object_set_new(c, "post", op);
    }
    if (v & API_VERB_DELETECOLLECTION)
        json_object_set_new(
            c, "delete",
            operation("deletecollection", "deleteCollection", kind_id, k, lref, list_params()));
    json_object_set_new(paths, coll, c);

    if (v & (API_VERB_GET | API_VERB_UPDATE | API_VERB_PATCH | API_VERB_DELETE)) {
        json_t *it = json_pack("{so}", "parameters", path_params(k->namespaced, true));
        if (v & API_VERB_GET)
            json_object_set_new(it, "get", operation("get", "read", kind_id, k, ref, json_array()));
        if (v & API_VERB_UPDATE) {
            json_t *op = operation("put", "replace", kind_id, k, ref, write_params(false));
            json_object_set_new(op, "requestBody", body(ref, false, core));
            json_object_set_new(it, "put", op);
        }
        if (v & API_VERB_PATCH) {
            json_t *op = operation("patch", "patch", kind_id, k, ref, write_params(true));
            json_object_set_new(op, "requestBody", body(ref, true, core));
            json_object_set_new(it, "patch", op);
        }
        if (v & API_VERB_DELETE)
            json_object_set_new(it, "delete",
                                operation("delete", "delete", kind_id, k, ref, delete_params()));
        json_object_set_new(paths, item, it);
    }

    if (k->subresources & API_SUB_STATUS) {
        snprintf(sub, sizeof sub, "%s/status", item);
        json_t *st = json_pack("{so}", "parameters", path_params(k->namespaced, true));
        json_object_set_new(st, "get", operation("get", "read", status_id, k, ref, json_array()));
        json_t *op = operation("put", "replace", status_id, k, ref, write_params(false));
        json_object_set_new(op, "requestBody", body(ref, false, core));
        json_object_set_new(st, "put", op);
        op = operation("patch", "patch", status_id, k, ref, write_params(true));
        json_object_set_new(op, "requestBody", body(ref, true, core));
        json_object_set_new(st, "patch", op);
        json_object_set_new(paths, sub, st);
    }
    if (k->namespaced && (v & API_VERB_LIST)) {
        char all[400], all_id[170];
        snprintf(all, sizeof all, "/%s/%s", gv, k->resource);
        snprintf(all_id, sizeof all_id, "%sForAllNamespaces", k->kind);
        json_object_set_new(
            paths, all,
            json_pack("{so}", "get", operation("list", "list", all_id, k, lref, list_params())));
    }
}

/* ---- documents ----------------------------------------------------------- */

/* Splits "api/v1" / "apis/<g>/<v>" into group and version. */
static int parse_gv(const char *p, char *group, size_t gsize, char *version, size_t vsize)
{
    if (*p == '/')
        p++;
    if (!strncmp(p, "api/", 4)) {
        group[0] = '\0';
        p += 4;
    } else if (!strncmp(p, "apis/", 5)) {
        p += 5;
        size_t n = strcspn(p, "/");
        if (!n || n >= gsize || p[n] != '/')
            return -1;
        memcpy(group, p, n);
        group[n] = '\0';
        p += n + 1;
    } else {
        return -1;
    }
    if (!*p || strlen(p) >= vsize || strchr(p, '/'))
        return -1;
    strcpy(version, p);
    return 0;
}

json_t *openapi_doc(const char *gv_path)
{
    char group[256], version[64];
    if (!gv_path || parse_gv(gv_path, group, sizeof group, version, sizeof version))
        return NULL;
    json_t *paths = json_object(), *schemas = json_object();
    size_t n = 0;
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        if (strcmp(k->group, group) || strcmp(k->version, version))
            continue;
        add_kind_paths(paths, k);
        add_kind_schemas(schemas, k);
        n++;
    }
    if (!n) {
        json_decref(paths);
        json_decref(schemas);
        return NULL;
    }
    add_common_schemas(schemas);
    return json_pack("{ss s{ss ss} so s{so}}", "openapi", "3.0.0", "info", "title", "Kubernetes",
                     "version", "v1.32.0", "paths", paths, "components", "schemas", schemas);
}

int openapi_doc_hash(const char *gv_path, char *buf, size_t size)
{
    json_t *doc = openapi_doc(gv_path);
    if (!doc)
        return -1;
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    if (!s)
        alloc_die(0);
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        h ^= *c;
        h *= UINT64_C(0x100000001b3);
    }
    free(s);
    snprintf(buf, size, "%016" PRIX64, h);
    return 0;
}

json_t *openapi_root(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        char gv[256], hash[32], url[400];
        gv_path_of(k, gv, sizeof gv);
        if (json_object_get(paths, gv))
            continue;
        if (openapi_doc_hash(gv, hash, sizeof hash))
            continue;
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%s", gv, hash);
        json_object_set_new(paths, gv, json_pack("{ss}", "serverRelativeURL", url));
    }
    return json_pack("{so}", "paths", paths);
}
