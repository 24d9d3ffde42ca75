/*
 * admit internals shared by the files of the admission module (admit.c,
 * admit_preempt.c, admit_topo.c, admit_backfill.c). Nothing outside
 * src/sched/admit*.c includes this header.
 *
 * Invariants:
 * - A flavor-resource pair (FR) is fr = flavor * ADM_MAX_RES + resource.
 * - usage[q * nfr + fr] is the usage of quota node q (a ClusterQueue or a
 *   Cohort). A ClusterQueue's usage is the sum of its admitted workloads'; a
 *   Cohort's is the sum over its children of what each uses beyond its
 *   guaranteed quota (max(0, usage - guaranteed)), as in Kueue's resource nodes.
 * - subtree[q * nfr + fr] is SubtreeQuota: the node's own nominal plus what its
 *   children lend up to it.
 */
#ifndef MUSTER_SCHED_ADMIT_INT_H
#define MUSTER_SCHED_ADMIT_INT_H

#include "sched/admit.h"

struct adm__group {
    uint32_t nres, nfl;
    uint8_t res[ADM_MAX_RES];
    uint8_t fl[ADM_MAX_FLAVORS];
};

/* A ClusterQueue or a Cohort. */
struct adm__qnode {
    char *name;
    char *parent_name;
    bool is_cq, declared;
    uint32_t cq;     /* index in a->cqs when is_cq */
    uint32_t parent; /* ADM_NONE for a root */
    uint32_t root;
    uint32_t *kids;
    uint32_t nkids;
    uint32_t weight; /* milli */
    uint64_t gen;    /* bumped when quota is released in the root's tree (roots only) */
    uint32_t *tree_cqs; /* roots only: the ClusterQueues of the tree */
    uint32_t ntree_cqs;
    /* Roots only: the admitted workloads of the tree in preemption-candidate
     * order (lower priority first, then most recently admitted, then name). */
    uint32_t *order;
    uint32_t norder, caporder;
};

struct adm__cq {
    uint32_t node;
    struct adm__group *groups;
    uint32_t ngroups;
    enum adm_strategy strategy;
    enum adm_stop stop;
    enum adm_ppolicy within, reclaim, borrow;
    bool has_threshold;
    int32_t threshold;
    enum adm_fung when_borrow, when_preempt;
    bool defines[ADM_MAX_FLAVORS * ADM_MAX_RES];
    /* Admitted workloads, in no order. */
    uint32_t *adm;
    uint32_t nadm, capadm;
    /* Pending workloads, sorted by queue order. */
    uint32_t *pend;
    uint32_t npend, cappend;
    uint64_t seen_gen, seen_fl; /* generations when last scanned */
    bool dirty;
    char *inactive; /* why the queue cannot admit (unknown flavor...), or NULL */
    /* Per cycle: quota failures of this queue, to skip workloads that ask for at
     * least as much with no more priority while nothing has changed (see
     * dominated() in admit.c). */
    struct adm__fail {
        int64_t tot[ADM_MAX_RES];
        int32_t priority;
        int64_t created;
        uint64_t gen;
        uint32_t wl, npods;
    } fails[4];
    uint32_t nfails;
    /* A small cache of the preemption bound of admit_preempt.c per FR, valid
     * while the cohort tree's generation is unchanged. */
    struct adm__bound {
        uint64_t gen;
        uint32_t fr;
        int64_t bound;
    } hb[4];
    uint32_t cursor; /* per cycle */
    bool blocked;    /* per cycle (StrictFIFO head failed) */
    bool live;       /* per cycle: in the list of queues with work left */
    bool scanned;    /* per cycle: looked at in this cycle */
};

struct adm__flavor {
    char *name;
    struct adm_kv *labels;
    uint32_t nlabels;
    char **tolerated;
    uint32_t ntolerated;
    char *topology_name;
    int32_t topo; /* index in a->topos or -1 */
    uint64_t gen; /* bumped when nodes of the flavor free capacity */
    /* Topology domains (admit_topo.c), built at seal. */
    struct adm__tdomains *td;
};

struct adm__topo {
    char *name;
    char *levels[ADM_MAX_LEVELS];
    uint32_t nlevels;
};

/* Nodes that serve exactly the same set of flavors share a pool: one cluster
 * and one placement engine. */
struct adm__pool {
    uint64_t flavors; /* bitmask */
    struct cluster c;
    struct engine en;
    uint32_t *gid; /* local -> global node id */
};

struct adm__node {
    char *name;
    int64_t cpu, mem, gpus;
    uint32_t pool, local;
    struct adm_kv *labels;
    uint32_t nlabels;
    char **taints;
    uint32_t ntaints;
    bool unschedulable;
};

/* A reservation made by backfill (admit_backfill.c). */
struct adm__resv {
    uint32_t wl;
    int64_t start, end;
    int64_t *usage;         /* quota usage at start, with wl in it */
    struct cluster *pools;  /* per pool, the free state at start with wl placed */
    int64_t *wl_usage;      /* what wl itself holds, per FR */
    struct adm_pod_place *pods; /* where wl's pods are planned */
    uint32_t npods;
};

/* Quota of a ClusterQueue or Cohort as given, kept by name until adm_seal. */
struct adm__qent {
    char *flavor, *res;
    int64_t nom, bl, ll;
};

struct adm__sgroup {
    char **covered;
    uint32_t ncovered;
    char **flavors;
    uint32_t nflavors;
};

struct adm__qspec {
    struct adm__sgroup *groups;
    uint32_t ngroups;
    struct adm__qent *ents;
    uint32_t nents;
};

struct adm {
    struct adm_config cfg;
    struct adm_hooks hooks;
    bool sealed;

    char *res_name[ADM_MAX_RES];
    uint32_t nres;
    struct adm__flavor fl[ADM_MAX_FLAVORS];
    uint32_t nfl;
    struct adm__topo *topos;
    uint32_t ntopos;

    struct adm__qnode *qn;
    struct adm__qspec *qspec; /* per qnode, until seal */
    uint32_t nqn, capqn;
    struct adm__cq *cqs;
    uint32_t ncq, capcq;
    uint32_t nfr;
    int64_t *nominal, *blimit, *llimit, *subtree, *usage; /* [qnode * nfr + fr] */

    struct adm__node *nodes;
    uint32_t nnodes, capnodes;
    struct adm__pool *pools;
    uint32_t npools;
    uint64_t node_gen;

    struct adm_wl *wl;
    uint32_t nwl, capwl;

    struct adm__resv *resv;
    uint32_t nresv;

    struct adm_stats stats;
    bool any_drain; /* some queue or LocalQueue has stopPolicy HoldAndDrain */
    bool in_cycle;
    uint32_t *relive, nrelive; /* queues given work again during a cycle */
    /* Deadlines of admitted workloads with maximumExecutionTimeSeconds: a binary
     * min-heap, entries checked lazily against the workload's admission time. */
    struct adm__deadline {
        int64_t at, admitted;
        uint32_t wl;
    } *dl;
    uint32_t ndl, capdl;
    int64_t *tmp_usage, *tmp_usage2;
    int64_t *max_wl_usage; /* per FR: the most any one workload has held (for bounds) */
    uint32_t *tmp_ids;
    int64_t now;
    uint32_t changes;
};

static inline uint32_t adm__fr(uint32_t flavor, uint32_t res)
{
    return flavor * ADM_MAX_RES + res;
}

/* When w would end if it started (or restarted) at t: maximumExecutionTimeSeconds
 * counts its earlier runs too. ADM_NEVER when it has no maximum. */
static inline int64_t adm__end_if_started(const struct adm_wl *w, int64_t t)
{
    return w->max_exec_ns > 0 ? t + (w->max_exec_ns - w->ran_ns) : ADM_NEVER;
}

/* Quota arithmetic over a usage array (the live one, a->usage, or a copy). */
int64_t adm__guaranteed(const struct adm *a, uint32_t q, uint32_t fr);
int64_t adm__available(const struct adm *a, const int64_t *usage, uint32_t q, uint32_t fr);
int64_t adm__potential(const struct adm *a, uint32_t q, uint32_t fr);
void adm__add_usage(const struct adm *a, int64_t *usage, uint32_t q, uint32_t fr, int64_t v);
/* Adds (sign +1) or removes (-1) a workload's usage in a usage array. */
void adm__apply_usage(const struct adm *a, int64_t *usage, const struct adm_wl *w, int sign);
/* Dominant resource share x1000 of quota node q, with extra usage (may be NULL)
 * simulated in q; INT64_MAX for a borrowing node of weight 0. *ratio receives the
 * unweighted share. */
int64_t adm__drs(const struct adm *a, const int64_t *usage, uint32_t q, const int64_t *extra,
                 int64_t *ratio);
bool adm__borrowing(const struct adm *a, const int64_t *usage, uint32_t q, const int64_t *extra);

/* The candidate order of two admitted workloads (<0 when x comes first). */
int adm__cand_order(const struct adm *a, uint32_t x, uint32_t y);

/* Releases a workload's quota and pods (evicting, finishing or deactivating). */
void adm__release(struct adm *a, uint32_t wl);
/* Requeues a workload as pending. */
void adm__requeue(struct adm *a, uint32_t wl);

/* A flavor assignment under construction: per podset, resource -> flavor, the
 * pod count, and the total usage per FR. */
struct adm__assign {
    uint8_t flavor[8][ADM_MAX_RES]; /* at most 8 podsets, as Kueue */
    uint32_t count[8];
    int64_t *usage; /* nfr entries */
    bool borrows;
    bool nodes_short; /* some flavor's quota fit but its nodes did not */
};

/* Placement of a workload's pods with assignment as, in the live pools. Fills
 * w->pods on success (applied); false leaves everything unchanged and writes why
 * into reason (may be NULL). */
bool adm__place(struct adm *a, struct adm_wl *w, const struct adm__assign *as, char *reason,
                size_t rsize);
void adm__unplace(struct adm *a, struct adm_wl *w);
/* Whether the quota of `as` fits w's queue now (without borrowing when !borrow). */
bool adm__quota_fits(const struct adm *a, const int64_t *usage, const struct adm_wl *w,
                     const struct adm__assign *as, bool borrow);

/* Topology-aware placement of podset ps (admit_topo.c). */
int adm__topo_build(struct adm *a, struct err *e);
void adm__topo_free(struct adm *a);
bool adm__topo_place(struct adm *a, struct adm_wl *w, uint32_t ps, uint32_t flavor,
                     uint32_t count, struct adm_pod_place *out, char *reason, size_t rsize);

/* Preemption (admit_preempt.c): finds victims so that w fits with `as`; returns
 * the number of victims written to out (0 = none found) and their reasons. */
uint32_t adm__preempt_targets(struct adm *a, uint32_t wl, struct adm__assign *as, uint32_t *out,
                              enum adm_evict_reason *why, uint32_t cap);

/* Backfill (admit_backfill.c). */
void adm__resv_clear(struct adm *a);
void adm__resv_make(struct adm *a, uint32_t wl, struct adm__assign *as);
/* Whether admitting w (already placed and charged with as) keeps every
 * reservation; when true it is recorded in the reservations' states. */
bool adm__resv_allows(struct adm *a, uint32_t wl, const struct adm__assign *as, char *reason,
                      size_t rsize);

/* Flavor assignment for w on usage (admit.c). mode: 0 fit, 1 preempt, 2 no fit. */
enum adm__mode { ADM__FIT, ADM__PREEMPT, ADM__NOFIT };
enum adm__mode adm__assign_flavors(struct adm *a, const int64_t *usage, struct adm_wl *w,
                                   struct adm__assign *as, bool place, char *reason,
                                   size_t rsize);

#endif
