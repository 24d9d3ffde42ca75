/*
 * ctrl internals: the cache, the writer pool and the three controllers' entry
 * points. Everything here runs on the loop thread except the writer pool.
 */
#ifndef MUSTER_CTRL_CTRL_INT_H
#define MUSTER_CTRL_CTRL_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "base/map.h"
#include "ctrl/ctrl.h"
#include "model/model.h"
#include "sched/admit.h"

/* The kinds the controllers keep in their cache. */
enum ck {
    CK_NAMESPACE,
    CK_NODE,
    CK_POD,
    CK_JOB,
    CK_WORKLOAD,
    CK_LEASE,
    CK_FLAVOR,
    CK_CQ,
    CK_COHORT,
    CK_LQ,
    CK_TOPOLOGY,
    CK_PRIORITY_CLASS,
    CK_WPC,
    CK_COUNT
};

/* What the controllers need of a Node, kept instead of its JSON: a cluster's
 * worth of Node trees costs gigabytes, this a few hundred bytes each. */
struct cnode {
    char *ip;  /* status.addresses InternalIP, or NULL */
    char *uid;
    struct adm_kv *labels;
    uint32_t nlabels;
    char **taints; /* keys of the NoSchedule and NoExecute taints */
    uint32_t ntaints;
    int64_t cpu_milli, memory, gpus; /* allocatable (else capacity), canonical units */
    bool unschedulable, ready, unreachable, bad;
    char *sig; /* what the admission world reads of it, to tell real changes */
};

/* What the controllers read of a Pod, taken out of its stored text once per
 * version by a scan (base/jscan), without a tree: pods are most of the events,
 * and this is all the controllers read of them. The strings are owned by the
 * cache entry (struct cobj's strs). */
enum cphase { CP_PENDING, CP_RUNNING, CP_SUCCEEDED, CP_FAILED };
struct cpod {
    const char *uid;
    const char *job, *job_uid; /* batch.kubernetes.io/job-name, controller-uid labels */
    const char *workload;      /* muster.dev/workload */
    const char *gpus;          /* muster.dev/gpus: "0,1" */
    const char *node;          /* spec.nodeName, NULL when unbound or "" */
    const char *scheduler;     /* spec.schedulerName */
    const char *reason;        /* status.reason */
    const char *rank;          /* muster.dev/rank */
    int64_t index;             /* batch.kubernetes.io/job-completion-index, -1 */
    enum cphase phase;
    bool deleting; /* metadata.deletionTimestamp */
};

/* While events stream in, passes run at most this often (a lone event after a
 * quiet spell is acted on at once). */
#define PASS_GAP_NS (20 * 1000000LL)

/* A Job whose pods only came or turned Running is looked at after this long
 * (with the others of the batch), not at each pod. */
#define JOB_POD_BATCH_NS (100 * 1000000LL)

struct cobj;
/* Reads a stored Pod's text into o: o->pod, o->ns, o->name, the strings in
 * o->strs (owned). False when the text is not a JSON object. */
bool ctrl_cpod_scan(const char *s, size_t n, struct cobj *o);

static inline bool cpod_terminal(const struct cpod *p)
{
    return p->phase == CP_SUCCEEDED || p->phase == CP_FAILED;
}

/* A failure that is not the pod's own doing: a lost node, an eviction, a
 * preemption (not counted against backoffLimit nor against its node). */
static inline bool cpod_disrupted(const struct cpod *p)
{
    return p->reason && (strcmp(p->reason, "NodeLost") == 0 || strcmp(p->reason, "Evicted") == 0 ||
                         strcmp(p->reason, "Preempted") == 0);
}

/* One cached object: the stored JSON and, for the kinds the admission world is
 * built from, the decoded model object. A Node keeps only its struct cnode (j
 * and m are NULL; ctrl_fetch reads the whole object when a write needs it). */
struct cobj {
    char *key; /* store key; owned */
    enum ck kind;
    json_t *j;           /* NULL for a Node and a Pod */
    struct model_obj *m; /* NULL for Pod, Job, Lease, Node, or when it did not decode */
    struct cnode *node;  /* Nodes only */
    struct cpod pod;     /* Pods only: read from the stored text, no tree */
    char *strs;          /* a Pod: the strings of pod, ns and name */
    int64_t rev;         /* mod_rev */
    int64_t status_at;   /* a Job: when the controller last wrote its status (kept
                            across the object's versions) */
    int64_t seen_at;     /* a Job: when the loop first saw it (kept likewise) */
    int64_t started_at;  /* a Job: when it was first seen running (its startTime
                            until that is written; kept likewise) */
    bool wl_admitted;    /* a Workload: QuotaReserved and status.admission */
    bool wl_finished;    /* a Workload: Finished */
    const char *ns, *name; /* into j (a Node's name: into key; a Pod's: into strs) */
};

/* A set of strings (owned copies). */
struct kset {
    struct map m; /* key -> the owned copy */
};
void kset_init(struct kset *k);
void kset_add(struct kset *k, const char *s);
void kset_del(struct kset *k, const char *s);
bool kset_has(const struct kset *k, const char *s);
void kset_clear(struct kset *k);
void kset_release(struct kset *k);
/* Adds every string of src to dst and empties src. */
void kset_move(struct kset *dst, struct kset *src);
/* Iterates: *it starts at 0; returns NULL at the end. */
const char *kset_next(const struct kset *k, size_t *it);

/* A set of strings, each due at a time (the earliest it was added with). */
struct kdue {
    struct map m;    /* key -> its entry (owned) */
    int64_t next_at; /* the earliest due time; 0 when empty */
};
void kdue_init(struct kdue *d);
void kdue_add(struct kdue *d, const char *s, int64_t at);
/* Moves the strings due at now or before into out. */
void kdue_take(struct kdue *d, int64_t now, struct kset *out);
void kdue_clear(struct kdue *d);
void kdue_release(struct kdue *d);

struct ctrl_flight;
struct ctrl_op;
struct ctrl_sched;
struct ctrl_nodes;

struct ctrl {
    struct api_ctx api;
    struct store *store;
    struct ctrl_opts o;
    pthread_t loop;
    _Atomic bool stop;

    /* The cache, by kind: store key -> struct cobj *. */
    struct map objs[CK_COUNT];
    struct store_watch *w;
    int64_t seen_rev; /* the last revision the loop has applied */
    int64_t now;      /* wall clock of this pass (ns) */

    /* What changed since the last pass. */
    bool world_dirty;    /* flavors, queues, cohorts, topologies, nodes, namespaces */
    int64_t world_changed_at; /* when world_dirty was last set */
    bool wl_dirty;       /* workloads */
    bool wl_rescan;      /* look at every workload, not only changed_wls (a reload) */
    _Atomic bool write_failed; /* a decision's write failed: decide again */
    bool pods_dirty;     /* pods */
    bool jobs_dirty;     /* jobs */
    int64_t wake_at;     /* a controller wants a pass at this time */
    bool gc_due;         /* a Job was deleted: collect what it left */
    int64_t last_full_jobs; /* the last pass over every Job */

    /* Indexes kept by the cache, so that a pass looks only at what changed. */
    struct map pods_of_job; /* "ns/job" -> struct kset * of pod store keys */
    struct kset unbound;     /* pods with muster.dev/workload and no node yet */
    struct kset terminating; /* bound pods being deleted, not yet terminal */
    struct kset dirty_jobs;  /* "ns/name" of Jobs to reconcile */
    struct kset changed_pods; /* pod keys changed since the last pass */
    struct kset changed_leases; /* names of nodes whose Node or Lease changed since */
    struct kset changed_wls;  /* Workloads (ns/name) changed or deleted since the
                                 scheduler last looked */
    struct kset held_gpus;    /* "node/gpu" held by terminating pods (ctrl_held_gpus) */
    bool held_valid;          /* held_gpus is up to date with terminating */
    struct kdue jobs_later;   /* Jobs to look at later: a status write waiting for its
                                 batch period, pods that came or turned Running */

    /* Writers. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ctrl_op *head, *tail;
    int nthreads;
    pthread_t *threads;
    bool wstop;
    struct map flights; /* dedupe key -> struct ctrl_flight *; under mu */
    /* Flights whose write is done, in the order they finished: freed once the
     * loop has seen their revision (ctrl_sweep_flights); under mu. */
    struct ctrl_flight *done_head, *done_tail;
    /* Decisions (admissions, evictions) still being written, and the highest
     * revision one was written at: ctrl_decisions_pending without a walk over
     * every flight. Under mu. */
    size_t decisions_open;
    size_t nflights; /* flights allocated (ctrl_flights) */
    int64_t decisions_rev;
    uint64_t writes, write_errors;

    struct ctrl_sched *s;
    struct ctrl_nodes *nodes;

    /* Where the loop's time goes (logged at debug level every 5 s). */
    struct {
        uint64_t passes, events, rebuilds, reconciles;
        int64_t apply_ns, nodes_ns, jobs_ns, sched_ns, last_log;
        int64_t scan_ns, settle_ns, write_ns, queues_ns, bind_ns; /* inside sched */
    } stats;
};

/* Frees the flights of writes the loop has seen back (their dedupe keys are
 * free again). The loop calls it once per pass. */
void ctrl_sweep_flights(struct ctrl *c);

/* ---- cache ---- */
struct cobj *ctrl_get(const struct ctrl *c, enum ck k, const char *ns, const char *name);
/* Iterates the objects of kind k: *it starts at 0; returns NULL at the end. */
struct cobj *ctrl_next(const struct ctrl *c, enum ck k, size_t *it);
/* The cached object at store key, or NULL. */
struct cobj *ctrl_by_key(const struct ctrl *c, enum ck k, const char *key);
/* The pod keys of Job ns/name (may be NULL). */
const struct kset *ctrl_pods_of_job(const struct ctrl *c, const char *ns, const char *name);

/* metadata.generation of a cached object (0 when it has none). */
int64_t ctrl_generation(const struct cobj *o);

/* The current stored object at key, parsed (the caller decrefs), or NULL. */
json_t *ctrl_fetch(struct ctrl *c, const char *key);

/* JSON helpers. */
const char *ctrl_str(json_t *obj, const char *path); /* "a.b.c"; NULL when absent */
json_t *ctrl_path(json_t *obj, const char *path);
const char *ctrl_label(json_t *obj, const char *k);
const char *ctrl_annotation(json_t *obj, const char *k);
/* A workload's placement, one entry per rank ({"node", "gpus", "podSet"}): its
 * status.admission.placement, or the muster.dev/placement annotation that held
 * it before (a store written by an older muster). A new reference, or NULL. */
json_t *ctrl_placement(json_t *wl);
/* The condition of type t in status.conditions, or NULL. */
json_t *ctrl_condition(json_t *obj, const char *type);
bool ctrl_condition_true(json_t *obj, const char *type);
/* A condition object as Kubernetes writes one (lastTransitionTime now). */
json_t *ctrl_make_condition(const struct ctrl *c, const char *type, bool status,
                            const char *reason, const char *message);
/* Replaces (or appends) the condition of the same type in the array; keeps the old
 * lastTransitionTime when the status did not change. */
void ctrl_set_condition(json_t *conds, json_t *cond);
void ctrl_time(const struct ctrl *c, char *buf, size_t size);

/* Asks for a pass at `at` (wall clock, ns) at the latest: c->wake_at becomes the
 * earlier of the two. 0 asks for nothing. */
static inline void ctrl_wake(struct ctrl *c, int64_t at)
{
    if (at && (!c->wake_at || at < c->wake_at))
        c->wake_at = at;
}

/* ---- writes ---- */
/* Queues a write; returns false (and does nothing) when a write with the same
 * dedupe key is still in flight or not yet seen by the loop. body is stolen.
 * ctype: NULL for JSON, else the PATCH content type. */
bool ctrl_submit(struct ctrl *c, const char *dedupe, const char *method, const char *path,
                 const char *ctype, json_t *body);
/* As ctrl_submit, after the write in flight under the dedupe key `after` has
 * succeeded (at once when none is); dropped, with its flight, if that fails. */
bool ctrl_submit_after(struct ctrl *c, const char *after, const char *dedupe, const char *method,
                       const char *path, const char *ctype, json_t *body);
bool ctrl_busy(struct ctrl *c, const char *dedupe);
/* Whether an admission or eviction write is in flight or not yet seen back. */
bool ctrl_decisions_pending(struct ctrl *c);
/* The API path of an object: /api/v1/namespaces/NS/pods/NAME and so on. */
int ctrl_obj_path(enum ck k, const char *ns, const char *name, const char *sub, char *buf,
                  size_t size);
/* Publishes an Event about an object (kind/ns/name/uid). */
void ctrl_event(struct ctrl *c, const char *kind, const char *api_version, json_t *obj,
                const char *type, const char *reason, const char *message);

/* The address of a node (its InternalIP, else its name): MASTER_ADDR. */
const char *ctrl_node_ip(struct ctrl *c, const char *node);
/* The GPU indices of one placement entry ({"node", "gpus": [0, 1]}) as
 * muster.dev/gpus writes them: "0,1" ("" for none). */
void ctrl_placement_gpus(json_t *entry, char *buf, size_t size);
/* The GPUs ("node/index") held by pods that are terminating, derived from the
 * terminating index once per change of it. */
const struct kset *ctrl_held_gpus(struct ctrl *c);
/* Whether a GPU of a placement (ctrl_placement) is still held by a
 * pod that is terminating: the gang must wait for it, whole. */
bool ctrl_gpus_held(struct ctrl *c, json_t *placement);

/* ---- the controllers (one pass each) ---- */
struct ctrl_sched *ctrl_sched_new(struct ctrl *c);
void ctrl_sched_free(struct ctrl_sched *s);
void ctrl_sched_pass(struct ctrl *c);
/* Asks the scheduler to evict a workload (node lifecycle); reason for Evicted. */
void ctrl_sched_evict(struct ctrl *c, const char *wl_key, const char *reason,
                      const char *message);
void ctrl_jobs_pass(struct ctrl *c);
void ctrl_nodes_pass(struct ctrl *c);
void ctrl_nodes_free(struct ctrl_nodes *n);

#endif
