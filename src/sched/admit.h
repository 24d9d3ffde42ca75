/*
 * admit: job-level admission of workloads against quotas on a cohort tree, with
 * priorities, preemption, fair sharing, all-or-nothing gangs placed on nodes,
 * topology-aware gangs and backfill with reservations.
 *
 * The rules follow Kueue's where Kueue defines them (ClusterQueues with resource
 * groups of flavors, nominal quota, borrowing and lending limits per (flavor,
 * resource), Cohorts in a tree, StrictFIFO and BestEffortFIFO, flavor fungibility,
 * classic preemption and fair-sharing preemption, partial admission) and go beyond
 * them where users complain: a workload is admitted only when its quota and a
 * placement of all its pods exist together (when nodes are known), a cycle admits
 * everything that fits, and backfill keeps reservations for blocked workloads so
 * large gangs do not starve. docs/admission.md explains each rule.
 *
 * The module is pure: no I/O, no clock, no JSON. A driver (the scenario runner,
 * the Philly simulator, the live scheduler loop) builds the world with the
 * adm_add_* calls, seals it, adds workloads, tells it about completions and runs
 * cycles at times it chooses. Everything is deterministic: every tie has a
 * stated tie-break (priority, then queue-order time, then name).
 *
 * Quantities are int64 in the scheduler's canonical unit: milli-cores for "cpu",
 * whole units (bytes for "memory", devices for "nvidia.com/gpu") for everything
 * else, as Kueue compares them.
 *
 * Ownership: struct adm owns copies of every name and array passed in; callers
 * keep ownership of what they pass.
 */
#ifndef MUSTER_SCHED_ADMIT_H
#define MUSTER_SCHED_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/map.h"
#include "sched/cluster.h"
#include "sched/engine.h"

#define ADM_MAX_RES     16 /* distinct resource names */
#define ADM_MAX_FLAVORS 64 /* distinct ResourceFlavors */
#define ADM_MAX_LEVELS  16 /* Topology levels, as Kueue */
#define ADM_UNLIMITED   INT64_MIN /* an unset borrowingLimit / lendingLimit */
#define ADM_NONE        UINT32_MAX
#define ADM_NEVER       INT64_MAX /* a time that never comes */

enum adm_strategy { ADM_BEST_EFFORT_FIFO, ADM_STRICT_FIFO };
enum adm_stop { ADM_STOP_NONE, ADM_STOP_HOLD, ADM_STOP_HOLD_AND_DRAIN };
/* withinClusterQueue / reclaimWithinCohort / borrowWithinCohort policies. */
enum adm_ppolicy {
    ADM_P_NEVER,
    ADM_P_LOWER_PRIORITY,
    ADM_P_LOWER_OR_NEWER_EQUAL,
    ADM_P_ANY
};
enum adm_fung { ADM_MAY_STOP_SEARCH, ADM_TRY_NEXT_FLAVOR };
enum adm_fs_strategy { ADM_FS_LE_FINAL_SHARE, ADM_FS_LT_INITIAL_SHARE };

enum adm_state {
    ADM_PENDING,  /* waiting (also after eviction: requeued) */
    ADM_ADMITTED, /* holds quota (and nodes) */
    ADM_FINISHED, /* ran to completion */
    ADM_INACTIVE  /* spec.active false, or deactivated */
};

/* Why a workload lost its admission. */
enum adm_evict_reason {
    ADM_EV_IN_CLUSTER_QUEUE,      /* preempted by a workload of its own ClusterQueue */
    ADM_EV_IN_COHORT_RECLAIM,     /* its ClusterQueue borrowed; the lender reclaimed */
    ADM_EV_RECLAIM_WHILE_BORROW,  /* preempted by a borrower (borrowWithinCohort) */
    ADM_EV_FAIR_SHARING,          /* fair-sharing preemption */
    ADM_EV_STOPPED,               /* stopPolicy HoldAndDrain */
    ADM_EV_DEACTIVATED            /* maximumExecutionTimeSeconds reached */
};

struct adm_config {
    bool fair_sharing;
    uint32_t nstrategies;
    enum adm_fs_strategy strategies[2];
    bool backfill;
    uint32_t max_reservations; /* 0 = default (16) */
    const char *policy;        /* placement policy inside a flavor (NULL = bestfit) */
    uint64_t seed;
    /* With no nodes at all the engine admits on quota alone (a simulation of
     * quotas); a live scheduler sets this so that nothing is admitted without a
     * place for every pod. */
    bool require_nodes;
};

/* ---- world description (before adm_seal) ---- */

struct adm_quota_spec {
    const char *resource;
    int64_t nominal;
    int64_t borrowing_limit; /* ADM_UNLIMITED when unset */
    int64_t lending_limit;   /* ADM_UNLIMITED when unset */
};

struct adm_flavor_quota_spec {
    const char *flavor;
    const struct adm_quota_spec *res;
    uint32_t nres;
};

struct adm_group_spec {
    const char *const *covered; /* resource names */
    uint32_t ncovered;
    const struct adm_flavor_quota_spec *flavors; /* in preference order */
    uint32_t nflavors;
};

struct adm_kv {
    const char *key, *value;
};

struct adm_flavor_spec {
    const char *name;
    const struct adm_kv *node_labels; /* a node serves the flavor when it has all */
    uint32_t nnode_labels;
    const char *const *tolerated_taints; /* taint keys tolerated (any effect) */
    uint32_t ntolerated;
    const char *topology; /* Topology name or NULL */
};

struct adm_topology_spec {
    const char *name;
    const char *const *levels; /* node label keys, outermost first */
    uint32_t nlevels;
};

struct adm_cohort_spec {
    const char *name;
    const char *parent; /* NULL for a root */
    const struct adm_group_spec *groups;
    uint32_t ngroups;
    uint32_t weight_milli; /* fairSharing.weight x 1000; default 1000 */
};

struct adm_cq_spec {
    const char *name;
    const char *cohort; /* NULL when the queue is alone */
    const struct adm_group_spec *groups;
    uint32_t ngroups;
    enum adm_strategy strategy;
    enum adm_stop stop;
    enum adm_ppolicy within_cq, reclaim_within_cohort, borrow_within_cohort;
    bool has_max_priority_threshold;
    int32_t max_priority_threshold;
    enum adm_fung when_can_borrow, when_can_preempt;
    uint32_t weight_milli; /* fairSharing.weight x 1000; default 1000 */
};

struct adm_node_spec {
    const char *name;
    int64_t cpu_milli, memory, gpus; /* allocatable */
    const struct adm_kv *labels;
    uint32_t nlabels;
    const char *const *taints; /* keys of NoSchedule / NoExecute taints */
    uint32_t ntaints;
    bool unschedulable;
};

/* ---- workloads ---- */

struct adm_podset_spec {
    const char *name;
    uint32_t count, min_count; /* min_count 0 = count (no partial admission) */
    const char *const *res;    /* per-pod requests: names and amounts */
    const int64_t *amount;
    uint32_t nres;
    const char *required_level;  /* Topology level label, or NULL */
    const char *preferred_level; /* Topology level label, or NULL */
    const struct adm_kv *node_selector; /* the pods' nodeSelector */
    uint32_t nnode_selector;
};

struct adm_wl_spec {
    const char *key;     /* "namespace/name" */
    const char *cq;      /* resolved ClusterQueue, or NULL when none */
    const char *no_queue_reason; /* why cq is NULL (missing LocalQueue, namespace...) */
    bool lq_held;        /* its LocalQueue has stopPolicy Hold/HoldAndDrain */
    bool lq_drain;       /* its LocalQueue has stopPolicy HoldAndDrain */
    int32_t priority;
    int64_t created_ns;  /* queue-order time */
    int64_t max_exec_ns; /* 0 = unknown */
    bool active;
    const struct adm_podset_spec *podsets;
    uint32_t npodsets;
};

/* What was decided for one podset. */
struct adm_psa {
    uint32_t count;                  /* pods admitted (< spec count with minCount) */
    uint8_t flavor[ADM_MAX_RES];     /* per resource id; 0xff = not requested */
    uint32_t first_pod;              /* index into adm_wl.pods */
};

struct adm_pod_place {
    uint32_t node;   /* global node id */
    uint32_t podset; /* index of its podset */
    struct placement p; /* node-local placement in its pool */
};

struct adm_podset {
    char *name;
    uint32_t count, min_count;
    int64_t req[ADM_MAX_RES]; /* per pod */
    struct pod_req pod;       /* the placement request of one pod */
    char *required_level, *preferred_level;
    struct adm_kv *node_selector;
    uint32_t nnode_selector;
};

struct adm_wl {
    char *key;
    uint32_t cq; /* ADM_NONE when not resolvable */
    char *no_queue_reason;
    bool lq_held, lq_drain, active;
    int32_t priority;
    int64_t created_ns, max_exec_ns;
    struct adm_podset *ps;
    uint32_t nps;
    int64_t tot[ADM_MAX_RES]; /* all pods' requests summed, per resource */
    uint32_t npods_total;     /* pods of all podsets */
    bool partial;             /* some podset allows partial admission */

    enum adm_state state;
    struct adm_psa *psa; /* nps entries, valid when admitted */
    struct adm_pod_place *pods;
    uint32_t npods;
    int64_t admitted_ns;  /* last admission time */
    int64_t ran_ns;       /* run time accumulated over earlier admissions */
    uint32_t evictions;   /* preemptions so far */
    int64_t *usage;       /* per FR while admitted (nfr entries) */

    /* Scheduling bookkeeping. */
    uint64_t tried_gen;   /* quota generation of its cohort tree when it last failed */
    uint64_t tried_gen2;  /* node generation of its flavors when it last failed */
    bool fail_nodes;      /* the last failure was about nodes, not quota */
    uint32_t heap_pos;
    char reason[320];     /* why pending, for a person */
};

/* Decision callbacks (may be NULL). Called during adm_cycle / adm_finish. */
struct adm_hooks {
    void *ctx;
    void (*admitted)(void *ctx, uint32_t wl, int64_t now);
    void (*evicted)(void *ctx, uint32_t wl, uint32_t by, enum adm_evict_reason why, int64_t now);
};

struct adm_stats {
    uint64_t cycles, admissions, evictions, nominations, placements_tried;
    uint64_t reservations, backfilled;
    uint64_t preempt_searches, preempt_found; /* victim searches, and those that found a set */
};

struct adm;

/* Creates an empty world with cfg (copied). */
struct adm *adm_create(const struct adm_config *cfg);
void adm_destroy(struct adm *a);

/* World building. Each returns 0, or -1 with e naming the object, field and reason
 * (unknown flavor or parent, duplicate name, too many resources...). */
int adm_add_topology(struct adm *a, const struct adm_topology_spec *s, struct err *e);
int adm_add_flavor(struct adm *a, const struct adm_flavor_spec *s, struct err *e);
int adm_add_cohort(struct adm *a, const struct adm_cohort_spec *s, struct err *e);
int adm_add_cq(struct adm *a, const struct adm_cq_spec *s, struct err *e);
int adm_add_node(struct adm *a, const struct adm_node_spec *s, struct err *e);
/* Resolves names, builds the quota tree and the node pools. Cohorts named by
 * queues but not declared are created empty, as Kueue does. */
int adm_seal(struct adm *a, struct err *e);

void adm_set_hooks(struct adm *a, const struct adm_hooks *h);

/* Adds a workload (pending unless it is inactive). Returns its id (dense, in order
 * of addition) or -1. */
int64_t adm_add_workload(struct adm *a, const struct adm_wl_spec *s, struct err *e);

/* Marks a pending workload as already admitted at `at` with the given flavor per
 * podset and resource (as in status.admission). Its pods are placed by the
 * engine if nodes are known. Returns -1 when the quota names unknown flavors. */
int adm_admit_existing(struct adm *a, uint32_t wl, const char *const *flavor_per_podset_res,
                       int64_t at, struct err *e);

/* Where one pod of an admitted workload already is (the live scheduler reads
 * it back from the store after a restart): its pod set, node name and GPU
 * indices on that node. */
struct adm_fixed_pod {
    uint32_t podset;
    const char *node;
    uint8_t ngpu;
    uint8_t gpu[CLUSTER_MAX_GPUS];
};

/* Like adm_admit_existing, but the pods are where pods[] says rather than
 * where the engine would put them. A pod on an unknown node, or whose GPUs or
 * resources are not free there, is left out and counted in *dropped (may be
 * NULL): it holds quota but no node, and the caller should treat it as lost. */
int adm_admit_placed(struct adm *a, uint32_t wl, const char *const *flavor_per_podset_res,
                     const struct adm_fixed_pod *pods, uint32_t npods, int64_t at,
                     uint32_t *dropped, struct err *e);

/* A workload finished at `now`: releases quota and nodes. */
void adm_finish(struct adm *a, uint32_t wl, int64_t now);

/* Runs one scheduling cycle at `now`. Returns the number of changes (admissions
 * plus evictions); 0 means a fixpoint. */
uint32_t adm_cycle(struct adm *a, int64_t now);

/* Runs cycles at `now` until one changes nothing (bounded). */
uint32_t adm_settle(struct adm *a, int64_t now);

/* Accessors. */
uint32_t adm_nworkloads(const struct adm *a);
const struct adm_wl *adm_workload(const struct adm *a, uint32_t wl);
const char *adm_flavor_name(const struct adm *a, uint32_t flavor);
const char *adm_resource_name(const struct adm *a, uint32_t res);
int adm_resource_find(const struct adm *a, const char *name);
const char *adm_node_name(const struct adm *a, uint32_t node);
const char *adm_cq_name(const struct adm *a, uint32_t cq);
uint32_t adm_ncqs(const struct adm *a);
uint32_t adm_nnodes(const struct adm *a);
/* The earliest next time at which the admission engine itself wants to act
 * (a deactivation by maximumExecutionTimeSeconds); ADM_NEVER when none. */
int64_t adm_next_deadline(const struct adm *a);
/* Usage and nominal of a ClusterQueue summed over flavors for resource res. */
int64_t adm_cq_usage(const struct adm *a, uint32_t cq, uint32_t res);
int64_t adm_cq_nominal(const struct adm *a, uint32_t cq, uint32_t res);
/* The weighted dominant resource share of a ClusterQueue (x1000), as Kueue
 * reports in status.fairSharing.weightedShare. */
int64_t adm_cq_weighted_share(const struct adm *a, uint32_t cq);
const struct adm_stats *adm_stats(const struct adm *a);

#endif
