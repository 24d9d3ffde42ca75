/*
 * kueue: an admission world (sched/admit.h) from decoded Kubernetes and Kueue
 * objects (model/model.h), as Kueue reads them: ResourceFlavors, Cohorts,
 * ClusterQueues, Topologies and Nodes become the world; a Workload is resolved
 * through its LocalQueue to a ClusterQueue (with the namespace selector) and
 * given its priority.
 *
 * Shared by the scenario runner (sim/scenario.c), which reads objects from
 * files, and the live scheduler (ctrl/sched.c), which reads them from the store;
 * each supplies a lookup of objects by kind, namespace and name.
 */
#ifndef MUSTER_SCHED_KUEUE_H
#define MUSTER_SCHED_KUEUE_H

#include <stdint.h>

#include "base/err.h"
#include "model/model.h"
#include "sched/admit.h"

#define KUEUE_MAX_PODSETS 8 /* pod sets of a workload that are scheduled */

struct kueue_lookup {
    /* The object of kind k named ns/name (ns NULL for cluster-scoped), or NULL. */
    const struct model_obj *(*find)(void *ctx, enum model_kind k, const char *ns,
                                    const char *name);
    void *ctx;
    /* The PriorityClass with globalDefault: true, or NULL. */
    const struct model_obj *default_priority_class;
};

/* Adds one world object (Topology, ResourceFlavor, Cohort, ClusterQueue, Node)
 * to a world that is not sealed yet; other kinds are ignored. Returns 0, or -1
 * with e naming the object, field and reason. */
int kueue_add_object(struct adm *a, const struct model_obj *o, struct err *e);

/* A Workload's priority as Kueue computes it: spec.priority, else its
 * priorityClassName (WorkloadPriorityClass or PriorityClass by
 * priorityClassSource), else the pod templates' priorityClassName, else the
 * global default PriorityClass, else 0. */
int32_t kueue_priority(const struct kueue_lookup *l, const struct model_obj *wl);

/* Adds Workload wl (key "namespace/name", queue-order time created_ns) to a
 * sealed world, resolving its queue; a workload without a usable queue is added
 * with the reason as its pending reason. Returns its id or -1 with e filled. */
int64_t kueue_add_workload(struct adm *a, const struct kueue_lookup *l,
                           const struct model_obj *wl, const char *key, int64_t created_ns,
                           struct err *e);

/* The flavors of wl's status.admission for adm_admit_existing:
 * fl[podset * ADM_MAX_RES + resource id] (fl has KUEUE_MAX_PODSETS * ADM_MAX_RES
 * entries; NULL where unassigned). Names point into wl. */
void kueue_admission_flavors(const struct adm *a, const struct model_obj *wl, const char **fl);

#endif
