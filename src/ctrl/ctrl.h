/*
 * ctrl: the controllers that make a muster server run work (docs/cluster.md):
 *
 * - the scheduler loop: keeps an admission world (sched/admit.h, built by
 *   sched/kueue.h) in step with the store, runs cycles, and writes its decisions
 *   back: Workload admission and conditions as Kueue writes them, the placement of
 *   every pod, pod bindings with their GPUs, evictions and pending reasons;
 * - the Job controller: a batch/v1 Job labelled kueue.x-k8s.io/queue-name is kept
 *   suspended until its Workload is admitted, then gets one pod per index, and its
 *   status follows the pods;
 * - the node lifecycle controller: a node whose Lease expires becomes NotReady, its
 *   pods fail and every gang with a pod there is evicted as a whole.
 *
 * One thread runs all three over one cache of the store, fed by one watch of
 * /registry/, so decisions are taken in a deterministic order from what the store
 * says. Writes go through the API's request layer (api_handle), exactly as a
 * client's would, from a small pool of writer threads so that the store can
 * group-commit them; an object with a write in flight is not acted on again until
 * the watch has delivered that write.
 */
#ifndef MUSTER_CTRL_CTRL_H
#define MUSTER_CTRL_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct ctrl_opts {
    int writers;           /* writer threads; 0: 48 (so the store can group-commit) */
    int64_t tick_ns;       /* the longest the loop sleeps; 0: 200 ms */
    bool fair_sharing;     /* the admission engine's options (sched/admit.h) */
    bool backfill;
    const char *policy;    /* placement policy inside a flavor; NULL: bestfit */
    int64_t requeue_base_ns; /* backoff after an eviction for a failure; 0: 1 s */
    const char *scheduler_name; /* pods with this spec.schedulerName; NULL: "muster" */
};

struct ctrl;

/* Starts the controllers on store (borrowed; stop them before closing it).
 * Returns NULL with e filled when the store cannot be read. */
struct ctrl *ctrl_start(struct store *store, const struct ctrl_opts *o, struct err *e);

/* Stops the loop and the writers (waiting for writes in flight) and frees. */
void ctrl_stop(struct ctrl *c);

/* The deduplicated writes the controllers still hold: in flight, or done and
 * not yet seen back on the watch (for tests and the debug log: it must fall
 * back to 0 when the cluster is quiet). */
size_t ctrl_flights(struct ctrl *c);

#endif
