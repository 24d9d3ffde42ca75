/*
 * admitload: a synthetic admission load shaped like Kueue's large-scale
 * scheduler performance test, for `muster bench admit`.
 *
 * The shape comes from kubernetes-sigs/kueue, test/performance/scheduler
 * (configs/large-scale/generator.yaml and configs/baseline/generator.yaml, read
 * in November 2026; the runner's generator and controller in runner/):
 *
 *  - ClusterQueues in Cohorts, 100 queues a cohort; every queue has the same
 *    single-flavor quota, nominal 20 units with a borrowing limit of 100 units,
 *    reclaimWithinCohort Any, withinClusterQueue LowerPriority, BestEffortFIFO;
 *  - each queue receives its own stream of workloads in three classes, in the
 *    proportions 20 : 7 : 3 (small : medium : large), each class created one at
 *    a time at a fixed interval, all classes and queues at once:
 *
 *        class   request  runtime  priority  creation interval
 *        small    1 unit    50 ms        50              20 ms
 *        medium   5 units  100 ms       100              50 ms
 *        large   20 units  200 ms       200             200 ms
 *
 *  - a workload runs for its runtime from its admission and then finishes; an
 *    evicted workload goes back to the queue and, when admitted again, runs
 *    its whole runtime again (the runner restarts its timer on admission).
 *
 * Kueue's test requests CPU only and has no nodes. Here a unit is 4 GPUs (with
 * 8 cores and 64 GiB of memory per GPU), the workloads are gangs, and the
 * default cluster is exactly as large as the sum of the nominal quotas, so that
 * both quota and placement bind:
 *
 *        class   pods x per pod            GPUs   = Kueue units
 *        small    1 x 4 GPUs, 32 cores      4        1
 *        medium   5 x 4 GPUs, 32 cores     20        5
 *        large   10 x 8 GPUs, 64 cores     80       20
 *
 * Each ClusterQueue covers nvidia.com/gpu, cpu and memory in one resource group
 * with one flavor ("gpu"): nominal 80 GPUs, 640 cores, 5 TiB; borrowing limit
 * 400 GPUs, 3,200 cores, 25 TiB. Nodes have 8 GPUs, 96 cores and 768 GiB, so
 * 10,000 nodes hold 80,000 GPUs: the nominal quota of 1,000 queues.
 *
 * The issue asks for 1,000 queues and 50,000 workloads (Kueue's large-scale
 * config has 2,000 queues in 20 cohorts and 30 workloads a queue): the
 * workloads are spread evenly over the queues (the first queues take one more
 * when the division leaves a remainder) and, within a queue, over the classes
 * in the proportions 20 : 7 : 3 by largest remainder (50 a queue: 33 small,
 * 12 medium, 5 large).
 *
 * Times are whole milliseconds, as in Kueue's config. Kueue's runner starts
 * every queue's creation loops at the same moment, and only goroutine
 * scheduling and API latency spread them; here each (queue, class) stream is
 * shifted by a seeded phase drawn uniformly from [0, interval) ms, so that the
 * k-th workload of a stream arrives at phase + (k + 1) * interval. The seed
 * drives nothing else: the world and the list are otherwise fixed.
 *
 * Every workload also carries maximumExecutionTimeSeconds = ADMLOAD_MAX_EXEC_X
 * times its runtime: generous enough that it fires only for a workload evicted
 * that many times, so the deadline path is present without deciding results.
 *
 * Ownership: struct admload is caller-embedded; admload_make fills it and
 * admload_release frees what it holds. The adm world is the caller's.
 */
#ifndef MUSTER_SIM_ADMITLOAD_H
#define MUSTER_SIM_ADMITLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sched/admit.h"

#define ADMLOAD_GPUS_PER_UNIT     4
#define ADMLOAD_CPU_PER_GPU       8000                /* milli-cores a pod asks per GPU */
#define ADMLOAD_MEM_PER_GPU       ((int64_t)64 << 30) /* bytes a pod asks per GPU */
#define ADMLOAD_NOMINAL_UNITS     20                  /* Kueue's nominalQuota */
#define ADMLOAD_BORROW_UNITS      100                 /* Kueue's borrowingLimit */
#define ADMLOAD_NODE_GPUS         8
#define ADMLOAD_NODE_CPU          96000                /* milli-cores */
#define ADMLOAD_NODE_MEM          ((int64_t)768 << 30) /* bytes */
#define ADMLOAD_QUEUES_PER_COHORT 100                  /* Kueue's large-scale config */
#define ADMLOAD_MAX_EXEC_X        10
#define ADMLOAD_MAX_CQS           100000
#define ADMLOAD_MAX_WORKLOADS     10000000
#define ADMLOAD_MAX_NODES         1000000
#define ADMLOAD_KEY_MAX           48 /* a workload key ("cq-99999/medium-9999999") fits */

enum admload_class { ADMLOAD_SMALL, ADMLOAD_MEDIUM, ADMLOAD_LARGE, ADMLOAD_NCLASSES };

/* One class of workloads: a gang of `pods` identical pods. */
struct admload_class_spec {
    const char *name;
    uint32_t pods;
    int64_t gpus_per_pod, cpu_per_pod, mem_per_pod; /* canonical units (admit.h) */
    int32_t priority;
    int64_t run_ns, interval_ns;
    uint32_t weight; /* share of a queue's workloads, out of the sum of the weights */
};

/* The three classes, indexed by enum admload_class. */
extern const struct admload_class_spec admload_classes[ADMLOAD_NCLASSES];

struct admload_opts {
    uint32_t cqs;       /* ClusterQueues (default 1000) */
    uint32_t cohorts;   /* 0 = one per ADMLOAD_QUEUES_PER_COHORT queues, rounded up */
    uint32_t workloads; /* in all (default 50000) */
    uint32_t nodes;     /* default 10000; 0 = no nodes (quota-only admission) */
    uint64_t seed;
};

/* Fills o with the defaults above (seed 42). */
void admload_opts_default(struct admload_opts *o);

/* One workload of the load. */
struct admload_wl {
    int64_t arrive_ns; /* creation time on the virtual clock (also created_ns) */
    uint32_t cq;       /* queue index: the queue is named "cq-<cq>" */
    uint32_t seq;      /* index within its (queue, class) stream */
    uint8_t cls;       /* enum admload_class */
};

struct admload {
    struct admload_opts o; /* with cohorts resolved */
    struct admload_wl *wl; /* nwl workloads by arrival time, then queue, class, seq */
    uint32_t nwl;
    uint32_t per_class[ADMLOAD_NCLASSES]; /* workloads of each class */
    int64_t gpus_requested;               /* sum over the workloads of pods x GPUs */
    char **cq_names;                      /* o.cqs names, "cq-<i>" */
    char **cohort_names;                  /* o.cohorts names, "cohort-<i>" */
};

/* Generates the load described by o. Returns 0, or -1 with e naming the bad
 * option (zero queues or workloads, more cohorts than queues, a large
 * workload that cannot fit on so few nodes, a value past its ADMLOAD_MAX_*).
 * On success the caller releases l with admload_release. */
int admload_make(struct admload *l, const struct admload_opts *o, struct err *e);
void admload_release(struct admload *l);

/* The cohort of queue cq: queues are dealt to cohorts in contiguous, even
 * blocks (queue i goes to cohort i * cohorts / cqs). */
uint32_t admload_cohort_of(const struct admload *l, uint32_t cq);

/* Adds the flavor, the cohorts, the queues and (unless o.nodes is 0) the nodes
 * to a, then seals it. a must be fresh from adm_create. Returns 0, or -1 with
 * e filled by the engine. */
int admload_build(const struct admload *l, struct adm *a, struct err *e);

/* Fills *s (and its single podset *ps) to add workload i with
 * adm_add_workload. The key is written to key (ADMLOAD_KEY_MAX bytes, owned
 * by the caller); s and ps point into key, l and static tables, so they are
 * valid while all three are. */
void admload_wl_spec(const struct admload *l, uint32_t i, struct adm_wl_spec *s,
                     struct adm_podset_spec *ps, char key[ADMLOAD_KEY_MAX]);

/* Run time and maximum execution time of workload i, in ns. */
int64_t admload_run_ns(const struct admload *l, uint32_t i);

#endif
