/*
 * philly: the Microsoft Philly deep-learning job trace replayed through the
 * admission engine (sched/admit.h) on a virtual clock.
 *
 * The trace (Jeon et al., USENIX ATC 2019, as condensed by the Pollux
 * artifact) gives, per job, a submit time, a run time, a gang size in GPUs and
 * the virtual cluster (team) that submitted it. The simulator builds one
 * admission world per policy from the same jobs (whole nodes of G GPUs, one
 * ResourceFlavor, one ClusterQueue or one per team in one cohort), submits each
 * job as a Workload at its submit time, tells the engine about completions at
 * admission time + run time, and measures job completion time, queueing delay
 * (overall and per gang-size bucket), GPU utilisation, makespan and each team's
 * GPU share over time. The scheduler never sees the run time itself: only a
 * bound, maximumExecutionTimeSeconds = ceil(run time x overestimate factor).
 * docs/philly.md gives every rule and the commands behind the published table.
 *
 * The module has three layers, each usable alone (the unit tests drive each):
 *  - loading: philly_load() reads the CSV strictly (errors "PATH:LINE:COL
 *    (name): reason") into jobs sorted by submit time; philly_select() takes a
 *    slice of them;
 *  - replay: philly_run() runs one policy and records, per job, its first
 *    admission, its completion, its evictions and every span during which it
 *    held GPUs;
 *  - metrics: philly_metrics() and philly_shares() reduce a run to numbers.
 *
 * Everything is deterministic: the same trace, slice, configuration and policy
 * give the same outcomes, bit for bit (the engine breaks every tie by a stated
 * rule; nothing here reads a clock except to time the run for people).
 */
#ifndef MUSTER_SIM_PHILLY_H
#define MUSTER_SIM_PHILLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sched/admit.h"

#define PHILLY_MAX_JOB_GPUS 1000000    /* num_gpus accepted by the loader */
#define PHILLY_MAX_DURATION 1e9        /* seconds (31 years) accepted by the loader */
#define PHILLY_MAX_TEAM_LEN 63         /* bytes of a virtual cluster id */
#define PHILLY_MAX_GPUS     (1u << 20) /* --gpus */
#define PHILLY_NBUCKETS     6          /* gang-size buckets, see philly_bucket() */
#define PHILLY_GANG_BIG     32         /* the "large gang" of the p99_queue_s_gang32 figures */

/* ---- the trace ---- */

struct philly_job {
    int64_t submit_s;  /* seconds since the first submit (of the trace, or of a slice) */
    double duration_s; /* run time */
    uint32_t gpus;     /* gang size */
    uint32_t team;     /* index into philly_trace.teams */
    uint32_t line;     /* line of the trace file it came from */
};

struct philly_trace {
    struct philly_job *jobs; /* sorted by submit time, then by line */
    size_t njobs;
    char **teams; /* virtual cluster ids, sorted by byte value; ids index this */
    uint32_t nteams;
    int64_t epoch_s; /* Unix time of the first submit (timestamps are read as UTC) */
};

/* Reads the job list at path: a header naming at least timestamp, duration,
 * num_gpus and cluster (other columns, such as gpu_time, are ignored), then one
 * job a row. Fails on the first malformed value with "PATH:LINE:COL (name):
 * reason", and on a file without jobs. On success the caller owns t and
 * releases it with philly_release(); on failure t is left empty. */
int philly_load(struct philly_trace *t, const char *path, struct err *e);
void philly_release(struct philly_trace *t);

/* Parses "YYYY-MM-DD HH:MM:SS" (exactly that, a real calendar date, hours
 * 00-23) as UTC into seconds since the Unix epoch. Returns 0, or -1 when s is
 * not such a time. */
int philly_parse_time(const char *s, int64_t *out);

/* Which jobs to replay: those submitted in [start, start + window) days after
 * the trace's first submit (window 0: to the end), then the first `limit` of
 * them (0: all). */
struct philly_slice {
    double start_days, window_days;
    size_t limit;
};

/* Copies the slice's jobs into a new array (*out, the caller frees it; NULL
 * when none), with submit times rebased so that the first selected job is
 * submitted at 0. Jobs asking for more than cluster_gpus GPUs can never run:
 * they are left out and counted in *dropped. Returns the number kept. */
size_t philly_select(const struct philly_trace *t, const struct philly_slice *s,
                     uint32_t cluster_gpus, struct philly_job **out, size_t *dropped);

/* ---- the replay ---- */

enum philly_policy {
    PHILLY_STRICT,     /* StrictFIFO */
    PHILLY_BESTEFFORT, /* BestEffortFIFO, Kueue's default */
    PHILLY_FAIRSHARE,  /* BestEffortFIFO with fair sharing */
    PHILLY_BACKFILL,   /* BestEffortFIFO with backfill and reservations */
    PHILLY_NPOLICIES
};

/* "strict", "besteffort", "fairshare", "backfill". */
const char *philly_policy_name(enum philly_policy p);
/* Looks a policy up by name; -1 with e listing the known names. */
int philly_policy_find(const char *name, enum philly_policy *out, struct err *e);

enum philly_queues {
    PHILLY_Q_SINGLE,     /* one ClusterQueue with the whole cluster */
    PHILLY_Q_PER_CLUSTER /* one ClusterQueue per team, all in one cohort */
};

/* What happens to a job's run when it is evicted (preempted). The engine, as
 * Kueue, counts maximumExecutionTimeSeconds over all of a workload's admissions,
 * so a job that starts over after an eviction is deactivated ("killed") before
 * it can finish unless its bound leaves room for the lost time. */
enum philly_rerun {
    PHILLY_RERUN_RESUME, /* it resumes from a checkpoint: only what is left */
    PHILLY_RERUN_RESTART /* it starts over and runs its whole duration again */
};

struct philly_config {
    uint32_t gpus;          /* cluster size; a multiple of gpus_per_node */
    uint32_t gpus_per_node; /* 1 .. CLUSTER_MAX_GPUS */
    enum philly_queues queues;
    double overestimate;      /* >= 1: the bound is ceil(duration x this) */
    enum adm_ppolicy reclaim; /* reclaimWithinCohort of per-team queues */
    enum philly_rerun rerun;
    uint32_t max_reservations; /* backfill's reservations per cycle; 0 = the engine's (16) */
    /* Called, if set, after every 1024 arrivals with the number arrived so far:
     * for a progress bar. */
    void (*progress)(void *ctx, size_t arrived);
    void *progress_ctx;
};

/* Node resources besides GPUs: generous, so that GPUs are the only constraint
 * (the trace says nothing about CPU or memory, and pods request GPUs only). */
#define PHILLY_NODE_CPU_MILLI_PER_GPU 8000
#define PHILLY_NODE_MEMORY_PER_GPU    (64LL << 30) /* bytes */

/* One span during which a job held its GPUs: [start_ns, end_ns). */
struct philly_span {
    int64_t start_ns, end_ns;
    uint32_t job;
};

struct philly_outcome {
    int64_t first_admit_ns; /* -1: never admitted */
    int64_t end_ns;         /* completion; -1: did not complete */
    uint32_t evictions;
    bool killed; /* deactivated when its maximumExecutionTime ran out */
};

struct philly_run {
    enum philly_policy policy;
    size_t njobs;
    struct philly_outcome *out; /* njobs entries, indexed like the jobs */
    struct philly_span *spans;  /* in order of their end */
    size_t nspans, spans_cap;
    int64_t *nominal; /* per team: the nominal GPU quota it was given (nteams) */
    uint32_t nteams;
    struct adm_stats stats; /* the engine's counters at the end */
    uint64_t steps;         /* distinct event times the clock stopped at */
    double seconds;         /* wall time of the replay (for people, never in results) */
};

/* The per-pod GPU count of a gang of `gpus` on nodes of `per_node`: the
 * largest divisor of gpus that is at most per_node (a 16-GPU job on 8-GPU
 * nodes is 2 pods of 8; 12 GPUs is 2 pods of 6; 1, 2, 4 stay one pod). */
uint32_t philly_pod_gpus(uint32_t gpus, uint32_t per_node);

/* Nominal GPU quota per team for per-team queues: gpus split in proportion to
 * each team's GPU time (duration x gang size) over jobs, by largest remainder
 * (floors first; the GPUs left go one each to the largest fractional parts,
 * ties to the lower team id), so the quotas sum to gpus exactly. Teams without
 * jobs get 0. Without any GPU time, gpus are split evenly the same way. */
void philly_quota(const struct philly_job *jobs, size_t njobs, uint32_t nteams, uint32_t gpus,
                  int64_t *out);

/* Replays jobs (sorted by submit time, team ids below nteams, names in teams)
 * under policy pol. Fills r, which the caller releases with
 * philly_run_release() (also after a failure). Returns 0, or -1 with e on a
 * configuration the engine rejects or an engine that stops making progress. */
int philly_run(const struct philly_job *jobs, size_t njobs, char *const *teams, uint32_t nteams,
               const struct philly_config *cfg, enum philly_policy pol, struct philly_run *r,
               struct err *e);
void philly_run_release(struct philly_run *r);

/* ---- metrics ---- */

/* The gang-size bucket of a job: 0: 1 GPU, 1: 2-4, 2: 5-8, 3: 9-16, 4: 17-31,
 * 5: 32 or more. */
unsigned philly_bucket(uint32_t gpus);
/* "1", "2-4", "5-8", "9-16", "17-31", "32+". */
const char *philly_bucket_name(unsigned b);

/* A distribution summary. Percentiles are nearest-rank: the value at
 * position ceil(p/100 x n) of the n values sorted ascending (position 1 for
 * p = 0). All fields are 0 when n is 0. */
struct philly_dist {
    size_t n;
    double mean, p50, p99, max;
};

/* Summarises n values (sorted in place). */
void philly_dist_of(double *v, size_t n, struct philly_dist *d);

struct philly_metrics {
    size_t jobs;      /* replayed */
    size_t completed; /* ran to completion */
    size_t never_admitted, killed;
    struct philly_dist jct;   /* completion - submit, seconds, completed jobs */
    struct philly_dist queue; /* first admission - submit, seconds, admitted jobs */
    struct philly_dist jct_by[PHILLY_NBUCKETS], queue_by[PHILLY_NBUCKETS];
    double gpu_seconds;     /* GPUs held x time, evicted runs included */
    double makespan_s;      /* last completion - first submit (0) */
    double gpu_utilization; /* gpu_seconds / (cluster GPUs x makespan); 0 if makespan is 0 */
    uint64_t evictions;
};

void philly_metrics(const struct philly_job *jobs, size_t njobs, const struct philly_run *r,
                    uint32_t cluster_gpus, struct philly_metrics *m);

/* The mean number of GPUs each team held in each of nbins equal bins over
 * [0, horizon_ns): out[bin * nteams + team] (nbins x nteams doubles, caller
 * allocated). */
void philly_shares(const struct philly_job *jobs, const struct philly_run *r, uint32_t nteams,
                   int64_t horizon_ns, uint32_t nbins, double *out);

/* How many jobs of min_gpus or more GPUs, admitted in both runs of the same
 * jobs, were admitted later (longer queueing delay) in a than in b. */
size_t philly_count_later(const struct philly_job *jobs, size_t njobs, const struct philly_run *a,
                          const struct philly_run *b, uint32_t min_gpus);

#endif
