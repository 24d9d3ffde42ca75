/*
 * muster bench: benchmarks. `muster bench place`, the placement engine's
 * throughput on a large synthetic cluster, and `muster bench admit`, the
 * admission engine on a Kueue-shaped load (after the place code below).
 *
 * What is timed is the engine_place() loop and nothing else: the cluster, the
 * node classes, the policy's state and the pod stream are all built before the
 * clock starts, so placements per second is what a scheduler built on the
 * engine would sustain once running. Every pod is placed once and never
 * removed; once the cluster is full, pods fail, and failures count as attempts
 * (they cost a scan too) but are reported apart.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/alloc.h"
#include "base/heap.h"
#include "base/mtime.h"
#include "base/vec.h"
#include "cli/cli.h"
#include "sched/admit.h"
#include "sched/engine.h"
#include "sim/admitload.h"
#include "sim/openb.h"
#include "sim/progress.h"
#include "sim/synth.h"

#define TRACE_DIR_DEFAULT "../shared/traces"
#define TRACE_NODES_FILE  "alibaba-v2023/openb_node_list_gpu_node.csv"
#define TRACE_PODS_FILE   "alibaba-v2023/openb_pod_list_default.csv"
/* Pods between progress updates and samples of the live class count: rare
 * enough to cost nothing next to a placement. */
#define SAMPLE_EVERY 1024

static void place_usage(FILE *f)
{
    fprintf(
        f,
        "usage: muster bench place [--nodes 130000] [--gpus-per-node 8] [--pods 1000000]\n"
        "                          [--policy bestfit] [--mix whole|share|mixed|openb]\n"
        "                          [--seed 42] [--node-shapes uniform|openb]\n"
        "                          [--trace-pods FILE] [--trace-nodes FILE] [--check] [--json]\n\n"
        "Measures how many placements a second the engine sustains: builds a cluster of\n"
        "identical nodes (or, with --node-shapes openb, the openb trace's GPU node shapes\n"
        "in turn), draws the pods from the seed, then times engine_place() over them,\n"
        "each pod placed once and never removed.\n\n"
        "Mixes: whole = 1/2/4/8 whole GPUs (weights 70/20/7/3); share = 100/250/500/750\n"
        "milli of one GPU; mixed (default) = half each; openb = pods drawn uniformly from\n"
        "--trace-pods (default $MUSTER_TRACES or %s, then %s).\n"
        "--check verifies the cluster and node-class invariants after the run (untimed).\n"
        "--json prints one JSON object; otherwise a short summary.\n",
        TRACE_DIR_DEFAULT, TRACE_PODS_FILE);
}

/* Parses a decimal integer in [lo, hi]; prints an error naming the flag and
 * returns -1 otherwise. */
static int parse_count(const char *cmd, const char *flag, const char *s, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "muster bench %s: --%s '%s': want an integer in %llu..%llu\n", cmd, flag, s,
                lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static double now_s(void)
{
    return (double)mtime_now_ns() / 1e9;
}

static double max_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* Writes s as a JSON string (quotes and escapes included). */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

struct place_opts {
    unsigned long long nodes, gpus_per_node, pods, seed;
    const struct policy_ops *ops;
    enum synth_mix mix;
    enum synth_shape shape;
    const char *trace_nodes, *trace_pods;
    bool json, check;
};

struct place_result {
    uint64_t placed, failed, scored, memo_hits, gpus;
    uint32_t classes_live, classes_max, types;
    double seconds, setup_seconds, rss_mib;
};

static void print_json(const struct place_opts *o, const struct place_result *r)
{
    uint64_t attempted = r->placed + r->failed;
    printf("{\"policy\":");
    json_str(o->ops->name);
    printf(",\"mix\":\"%s\",\"node_shapes\":\"%s\"", synth_mix_name(o->mix),
           synth_shape_name(o->shape));
    printf(",\"nodes\":%llu,\"gpus_per_node\":%llu,\"gpus\":%llu,\"pods\":%llu,\"seed\":%llu",
           o->nodes, o->shape == SYNTH_SHAPE_UNIFORM ? o->gpus_per_node : 0ULL,
           (unsigned long long)r->gpus, o->pods, o->seed);
    printf(",\"pod_types\":%u,\"placed\":%llu,\"failed\":%llu", r->types,
           (unsigned long long)r->placed, (unsigned long long)r->failed);
    printf(",\"seconds\":%.6f,\"placements_per_sec\":%.1f", r->seconds,
           r->seconds > 0 ? (double)attempted / r->seconds : 0.0);
    printf(",\"setup_seconds\":%.3f,\"classes_live\":%u,\"classes_max\":%u", r->setup_seconds,
           r->classes_live, r->classes_max);
    printf(",\"memo_hits\":%llu,\"scored\":%llu,\"max_rss_mib\":%.1f}\n",
           (unsigned long long)r->memo_hits, (unsigned long long)r->scored, r->rss_mib);
}

static void print_summary(const struct place_opts *o, const struct place_result *r)
{
    uint64_t attempted = r->placed + r->failed;
    printf("bench place: policy %s, %llu nodes (%s", o->ops->name, o->nodes,
           synth_shape_name(o->shape));
    if (o->shape == SYNTH_SHAPE_UNIFORM)
        printf(", %llu GPUs each", o->gpus_per_node);
    printf("), %llu GPUs; %llu pods, mix %s (%u types), seed %llu\n", (unsigned long long)r->gpus,
           o->pods, synth_mix_name(o->mix), r->types, o->seed);
    printf("  %.0f placements/s: %llu placed, %llu failed in %.3f s (setup %.2f s)\n",
           r->seconds > 0 ? (double)attempted / r->seconds : 0.0, (unsigned long long)r->placed,
           (unsigned long long)r->failed, r->seconds, r->setup_seconds);
    printf("  node classes: %u live at the end, %u at most; scored %llu, memo hits %llu\n",
           r->classes_live, r->classes_max, (unsigned long long)r->scored,
           (unsigned long long)r->memo_hits);
    printf("  max RSS %.1f MiB\n", r->rss_mib);
}

/* Builds everything, times the placement loop, fills r. Returns 0, or -1 after
 * printing an error. */
static int place_run(const struct place_opts *o, struct place_result *r)
{
    struct err e = {0};
    struct openb_trace trace;
    bool have_trace = o->mix == SYNTH_MIX_OPENB || o->shape == SYNTH_SHAPE_OPENB;
    struct synth_pods sp;
    struct cluster c;
    struct workload_dist wd;
    struct engine en;
    int rc = -1;

    memset(r, 0, sizeof *r);
    double t_setup = now_s();
    if (have_trace && openb_load(&trace, o->trace_nodes, o->trace_pods, &e) < 0) {
        fprintf(stderr, "muster bench place: %s\n", e.msg);
        return -1;
    }
    /* Pod model masks only mean something when the nodes are the trace's. */
    if (synth_pods_make(&sp, o->mix, o->pods, o->seed, have_trace ? &trace : NULL,
                        o->shape == SYNTH_SHAPE_OPENB, &e) < 0) {
        fprintf(stderr, "muster bench place: pods: %s\n", e.msg);
        goto out_trace;
    }
    if (synth_cluster(&c, o->shape, (uint32_t)o->nodes, (int)o->gpus_per_node,
                      have_trace ? &trace : NULL, &e) < 0) {
        fprintf(stderr, "muster bench place: cluster: %s\n", e.msg);
        goto out_pods;
    }
    synth_pods_workload(&sp, &wd);
    /* The engine's tie-break generator gets its own stream, apart from the pods'. */
    engine_init(&en, &c, o->ops, &wd, o->seed ^ 0x6d75737465722eULL);
    r->setup_seconds = now_s() - t_setup;
    r->gpus = c.gpus_total;
    r->types = sp.ntypes;

    struct progress prog;
    progress_init(&prog, "bench place", sp.n);
    uint32_t cmax = en.ix.nlive;
    struct placement p;
    int64_t t0 = mtime_now_ns();
    for (uint64_t i = 0; i < sp.n; i++) {
        engine_place(&en, &sp.types[sp.stream[i]], &p);
        if ((i + 1) % SAMPLE_EVERY == 0) {
            if (en.ix.nlive > cmax)
                cmax = en.ix.nlive;
            progress_update(&prog, i + 1);
        }
    }
    int64_t t1 = mtime_now_ns();
    progress_update(&prog, sp.n);
    progress_finish(&prog);

    r->seconds = (double)(t1 - t0) / 1e9;
    r->placed = en.placed;
    r->failed = en.failed;
    r->scored = en.scored;
    r->memo_hits = en.memo_hits;
    r->classes_live = en.ix.nlive;
    r->classes_max = en.ix.nlive > cmax ? en.ix.nlive : cmax;
    r->rss_mib = max_rss_mib();

    rc = 0;
    if (o->check && (cluster_check(&c, &e) < 0 || nodeclass_check(&en.ix, &e) < 0)) {
        fprintf(stderr, "muster bench place: --check: %s\n", e.msg);
        rc = -1;
    }
    if (r->placed + r->failed != sp.n) {
        fprintf(stderr, "muster bench place: engine counted %llu placed + %llu failed of %llu\n",
                (unsigned long long)r->placed, (unsigned long long)r->failed,
                (unsigned long long)sp.n);
        rc = -1;
    }
    engine_release(&en);
    workload_dist_release(&wd);
    cluster_release(&c);
out_pods:
    synth_pods_release(&sp);
out_trace:
    if (have_trace)
        openb_release(&trace);
    return rc;
}

static int bench_place(int argc, char **argv)
{
    struct place_opts o = {
        .nodes = 130000,
        .gpus_per_node = 8,
        .pods = 1000000,
        .seed = 42,
        .mix = SYNTH_MIX_MIXED,
        .shape = SYNTH_SHAPE_UNIFORM,
    };
    const char *policy = "bestfit";
    bool gpn_set = false;
    static char nodes_path[4096], pods_path[4096];
    const char *dir = getenv("MUSTER_TRACES");
    if (!dir || !*dir)
        dir = TRACE_DIR_DEFAULT;
    snprintf(nodes_path, sizeof nodes_path, "%s/%s", dir, TRACE_NODES_FILE);
    snprintf(pods_path, sizeof pods_path, "%s/%s", dir, TRACE_PODS_FILE);
    o.trace_nodes = nodes_path;
    o.trace_pods = pods_path;

    static const struct option opts[] = {{"nodes", required_argument, NULL, 'n'},
                                         {"gpus-per-node", required_argument, NULL, 'g'},
                                         {"pods", required_argument, NULL, 'p'},
                                         {"policy", required_argument, NULL, 'P'},
                                         {"mix", required_argument, NULL, 'm'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"node-shapes", required_argument, NULL, 'S'},
                                         {"trace-pods", required_argument, NULL, 't'},
                                         {"trace-nodes", required_argument, NULL, 'T'},
                                         {"check", no_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int v;
        switch (opt) {
        case 'n':
            if (parse_count("place", "nodes", optarg, 1, SYNTH_MAX_NODES, &o.nodes) < 0)
                return 2;
            break;
        case 'g':
            if (parse_count("place", "gpus-per-node", optarg, 0, CLUSTER_MAX_GPUS,
                            &o.gpus_per_node) < 0)
                return 2;
            gpn_set = true;
            break;
        case 'p':
            if (parse_count("place", "pods", optarg, 1, SYNTH_MAX_PODS, &o.pods) < 0)
                return 2;
            break;
        case 's':
            if (parse_count("place", "seed", optarg, 0, UINT64_MAX, &o.seed) < 0)
                return 2;
            break;
        case 'P':
            policy = optarg;
            break;
        case 'm':
            if ((v = synth_mix_parse(optarg)) < 0) {
                fprintf(stderr,
                        "muster bench place: --mix '%s': want whole, share, mixed or openb\n",
                        optarg);
                return 2;
            }
            o.mix = (enum synth_mix)v;
            break;
        case 'S':
            if ((v = synth_shape_parse(optarg)) < 0) {
                fprintf(stderr, "muster bench place: --node-shapes '%s': want uniform or openb\n",
                        optarg);
                return 2;
            }
            o.shape = (enum synth_shape)v;
            break;
        case 't':
            o.trace_pods = optarg;
            break;
        case 'T':
            o.trace_nodes = optarg;
            break;
        case 'c':
            o.check = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            place_usage(stdout);
            return 0;
        default:
            place_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "muster bench place: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    struct err e = {0};
    if (!(o.ops = policy_find(policy, &e))) {
        fprintf(stderr, "muster bench place: --policy: %s\n", e.msg);
        return 2;
    }
    if (gpn_set && o.shape == SYNTH_SHAPE_OPENB) {
        fprintf(stderr, "muster bench place: --gpus-per-node does not apply to "
                        "--node-shapes openb (the trace gives each node's GPUs)\n");
        return 2;
    }
    struct place_result r;
    if (place_run(&o, &r) < 0)
        return 1;
    if (o.json)
        print_json(&o, &r);
    else
        print_summary(&o, &r);
    return 0;
}

/* ---- muster bench admit ----
 *
 * The admission engine (sched/admit.h) on the load of sim/admitload.h, driven
 * on a virtual clock: the workloads arrive at their times, each finishes its
 * run time after its admission (adm_finish), and adm_cycle runs at every
 * instant where something happened. What is measured is the CPU time
 * (getrusage, user + system) of that whole loop, adding, finishing and cycling
 * included, with the world built before; and the wall time of each adm_cycle
 * call on its own (CLOCK_MONOTONIC). Admissions per second is admissions
 * divided by that CPU time.
 */

static void admit_usage(FILE *f)
{
    fprintf(
        f,
        "usage: muster bench admit [--cqs 1000] [--cohorts N] [--workloads 50000]\n"
        "                          [--nodes 10000 | --no-nodes] [--seed 42]\n"
        "                          [--policy bestfit] [--fair-sharing] [--cycles FILE] [--json]\n\n"
        "Runs the admission engine over a synthetic load shaped like Kueue's large-scale\n"
        "scheduler performance test (src/sim/admitload.h): ClusterQueues in cohorts of\n"
        "100 (or --cohorts N), workloads of classes small, medium and large (20:7:3)\n"
        "arriving on a virtual clock, each finishing its run time after admission, on\n"
        "nodes of 8 GPUs (placement-aware admission) or, with --no-nodes, on quota\n"
        "alone. Reports admissions per CPU second, the CPU time of the whole load and\n"
        "the wall time of each adm_cycle (p50, p99, max).\n"
        "--cycles FILE writes one CSV row per adm_cycle call: virtual time, wall and CPU\n"
        "ms, changes, and the engine's nominations, admissions and evictions in it.\n"
        "--json prints one JSON object; otherwise a short summary.\n");
}

struct admit_opts {
    struct admload_opts lo;
    const char *policy;
    const char *cycles_path; /* --cycles: one CSV row per adm_cycle call, or NULL */
    bool fair_sharing, json;
};

/* One adm_cycle call, for --cycles; the counts are the engine's (adm_stats)
 * during that call. */
struct admit_cycle_rec {
    int64_t now, wall_ns, cpu_ns;
    uint32_t changes;
    uint64_t nominations, admissions, evictions;
};

struct admit_result {
    uint64_t admissions, evictions, deactivated, finished, cycles, busy_cycles, capped;
    uint64_t nominations, placements_tried; /* the engine's own counters (adm_stats) */
    double cpu_s, setup_cpu_s, wall_s, rss_mib, virtual_s;
    double p50_ms, p99_ms, max_ms, p99_busy_ms, mean_ms;
    double p99_cpu_ms, max_cpu_ms;   /* the same, in this thread's CPU time */
    double tta_ms[ADMLOAD_NCLASSES]; /* mean virtual time from arrival to first admission */
    uint32_t cohorts;
};

/* The driver's state, also the hooks' context. */
struct admit_drv {
    const struct admload *l;
    struct heap done;     /* indexed by workload: completion time while admitted */
    int64_t *first_admit; /* per workload, -1 until admitted */
    uint64_t admissions, evictions, deactivated;
    uint64_t bad_ids; /* hook calls naming a workload we never added */
};

static void drv_admitted(void *ctx, uint32_t wl, int64_t now)
{
    struct admit_drv *d = ctx;
    d->admissions++;
    if (wl >= d->l->nwl) {
        d->bad_ids++;
        return;
    }
    /* Kueue's runner restarts the run on every admission. */
    heap_update(&d->done, wl, (uint64_t)(now + admload_run_ns(d->l, wl)));
    if (d->first_admit[wl] < 0)
        d->first_admit[wl] = now;
}

static void drv_evicted(void *ctx, uint32_t wl, uint32_t by, enum adm_evict_reason why, int64_t now)
{
    struct admit_drv *d = ctx;
    d->evictions++;
    if (wl >= d->l->nwl) {
        d->bad_ids++;
        return;
    }
    heap_remove(&d->done, wl);
    if (why == ADM_EV_DEACTIVATED)
        d->deactivated++;
}

static double cpu_now_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* This thread's CPU time in ns: unlike the wall clock, it does not count the
 * time another process held the core, so on a shared machine it bounds what a
 * cycle itself cost. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : a > b;
}

/* The q-quantile (0..1) of n sorted values by the nearest-rank method, in ms. */
static double quantile_ms(const int64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)v[rank - 1] / 1e6;
}

/* Cycles run at one instant while they change something (as Kueue's scheduler
 * loops while it admits); past this many, the instant is counted as capped. */
#define ADMIT_MAX_ROUNDS 1000
/* The goals for 1,000 queues, 50,000 workloads and 10,000 nodes. */
#define ADMIT_GOAL_CPU_S    10
#define ADMIT_GOAL_CYCLE_MS 50

/* Builds the world, runs the load to the end on the virtual clock, fills r.
 * Returns 0, or -1 after printing an error. */
static int admit_run(const struct admit_opts *o, struct admit_result *r)
{
    struct err e = {0};
    struct admload l;
    struct admit_drv d = {0};
    VEC(int64_t) all = {0};
    VEC(int64_t) busy = {0};
    VEC(int64_t) cpu = {0};
    VEC(struct admit_cycle_rec) recs = {0};
    FILE *cf = NULL;
    struct adm *a = NULL;
    int rc = -1;

    memset(r, 0, sizeof *r);
    double cpu0 = cpu_now_s();
    if (admload_make(&l, &o->lo, &e) < 0) {
        fprintf(stderr, "muster bench admit: %s\n", e.msg);
        return -1;
    }
    r->cohorts = l.o.cohorts;
    /* Opened before the run so that a bad path fails at once. */
    if (o->cycles_path && !(cf = fopen(o->cycles_path, "w"))) {
        fprintf(stderr, "muster bench admit: --cycles %s: %s\n", o->cycles_path, strerror(errno));
        admload_release(&l);
        return -1;
    }
    const struct adm_config cfg = {
        .fair_sharing = o->fair_sharing,
        .policy = o->policy,
        .seed = o->lo.seed,
    };
    a = adm_create(&cfg);
    if (admload_build(&l, a, &e) < 0) {
        fprintf(stderr, "muster bench admit: world: %s\n", e.msg);
        goto out;
    }
    d.l = &l;
    heap_init(&d.done, l.nwl);
    d.first_admit = xmalloc((size_t)l.nwl * sizeof *d.first_admit);
    for (uint32_t i = 0; i < l.nwl; i++)
        d.first_admit[i] = -1;
    const struct adm_hooks hooks = {.ctx = &d, .admitted = drv_admitted, .evicted = drv_evicted};
    adm_set_hooks(a, &hooks);
    vec_reserve(&all, 4096);
    vec_reserve(&busy, 4096);
    vec_reserve(&cpu, 4096);

    struct progress prog;
    progress_init(&prog, "bench admit", l.nwl);
    double cpu1 = cpu_now_s();
    int64_t wall0 = mtime_now_ns();
    r->setup_cpu_s = cpu1 - cpu0;

    /* The virtual clock jumps from event to event: arrivals, completions and the
     * engine's own deadlines. At each instant, completions go first (they free
     * quota and nodes), then arrivals, then cycles until one changes nothing. */
    uint32_t next = 0;
    uint64_t finished = 0;
    int64_t now = -1;
    char key[ADMLOAD_KEY_MAX];
    struct adm_wl_spec ws;
    struct adm_podset_spec ps;
    while (finished + d.deactivated < l.nwl) {
        int64_t t = next < l.nwl ? l.wl[next].arrive_ns : ADM_NEVER;
        struct heap_item top;
        if (heap_peek(&d.done, &top) && (int64_t)top.key < t)
            t = (int64_t)top.key;
        int64_t dl = adm_next_deadline(a);
        if (dl > now && dl < t)
            t = dl;
        if (t == ADM_NEVER) {
            fprintf(stderr,
                    "muster bench admit: stuck at %.3f s (virtual): %llu of %u workloads "
                    "finished, %llu deactivated, nothing left to happen\n",
                    (double)now / 1e9, (unsigned long long)finished, l.nwl,
                    (unsigned long long)d.deactivated);
            goto out;
        }
        now = t;
        while (heap_peek(&d.done, &top) && (int64_t)top.key <= now) {
            heap_pop(&d.done, NULL);
            adm_finish(a, top.id, (int64_t)top.key);
            finished++;
        }
        for (; next < l.nwl && l.wl[next].arrive_ns <= now; next++) {
            admload_wl_spec(&l, next, &ws, &ps, key);
            int64_t id = adm_add_workload(a, &ws, &e);
            if (id != (int64_t)next) {
                fprintf(stderr, "muster bench admit: workload %s: %s\n", key,
                        id < 0 ? e.msg : "engine gave an unexpected id");
                goto out;
            }
        }
        uint32_t rounds = 0, changes;
        do {
            const struct adm_stats *st = adm_stats(a);
            struct admit_cycle_rec rec = {.now = now,
                                          .nominations = st->nominations,
                                          .admissions = st->admissions,
                                          .evictions = st->evictions};
            int64_t u0 = thread_cpu_ns(), c0 = mtime_now_ns();
            changes = adm_cycle(a, now);
            int64_t dt = mtime_now_ns() - c0, du = thread_cpu_ns() - u0;
            vec_push(&all, dt);
            vec_push(&cpu, du);
            if (cf) {
                rec.wall_ns = dt;
                rec.cpu_ns = du;
                rec.changes = changes;
                rec.nominations = st->nominations - rec.nominations;
                rec.admissions = st->admissions - rec.admissions;
                rec.evictions = st->evictions - rec.evictions;
                vec_push(&recs, rec);
            }
            if (changes > 0)
                vec_push(&busy, dt);
        } while (changes > 0 && ++rounds < ADMIT_MAX_ROUNDS);
        if (changes > 0)
            r->capped++;
        progress_update(&prog, finished + d.deactivated);
    }
    double cpu2 = cpu_now_s();
    r->wall_s = (double)(mtime_now_ns() - wall0) / 1e9;
    r->cpu_s = cpu2 - cpu1;
    progress_finish(&prog);

    r->admissions = d.admissions;
    r->evictions = d.evictions;
    r->deactivated = d.deactivated;
    r->finished = finished;
    r->virtual_s = (double)now / 1e9;
    r->cycles = all.len;
    r->busy_cycles = busy.len;
    int64_t sum = 0;
    for (size_t i = 0; i < all.len; i++)
        sum += all.v[i];
    r->mean_ms = all.len ? (double)sum / (double)all.len / 1e6 : 0;
    qsort(all.v, all.len, sizeof *all.v, cmp_i64);
    qsort(busy.v, busy.len, sizeof *busy.v, cmp_i64);
    r->p50_ms = quantile_ms(all.v, all.len, 0.50);
    r->p99_ms = quantile_ms(all.v, all.len, 0.99);
    r->max_ms = quantile_ms(all.v, all.len, 1.0);
    r->p99_busy_ms = quantile_ms(busy.v, busy.len, 0.99);
    qsort(cpu.v, cpu.len, sizeof *cpu.v, cmp_i64);
    r->p99_cpu_ms = quantile_ms(cpu.v, cpu.len, 0.99);
    r->max_cpu_ms = quantile_ms(cpu.v, cpu.len, 1.0);
    double tsum[ADMLOAD_NCLASSES] = {0};
    uint64_t tn[ADMLOAD_NCLASSES] = {0};
    for (uint32_t i = 0; i < l.nwl; i++) {
        if (d.first_admit[i] < 0)
            continue;
        tsum[l.wl[i].cls] += (double)(d.first_admit[i] - l.wl[i].arrive_ns) / 1e6;
        tn[l.wl[i].cls]++;
    }
    for (int c = 0; c < ADMLOAD_NCLASSES; c++)
        r->tta_ms[c] = tn[c] ? tsum[c] / (double)tn[c] : 0;
    r->rss_mib = max_rss_mib();

    /* Cross-checks (untimed): the hooks saw what the engine counted, and every
     * workload ended finished (or deactivated, counted apart). */
    rc = 0;
    const struct adm_stats *st = adm_stats(a);
    r->nominations = st->nominations;
    r->placements_tried = st->placements_tried;
    if (d.bad_ids || st->admissions != d.admissions || st->evictions != d.evictions) {
        fprintf(stderr,
                "muster bench admit: hooks saw %llu admissions and %llu evictions (%llu bad "
                "ids); the engine counted %llu and %llu\n",
                (unsigned long long)d.admissions, (unsigned long long)d.evictions,
                (unsigned long long)d.bad_ids, (unsigned long long)st->admissions,
                (unsigned long long)st->evictions);
        rc = -1;
    }
    if (cf) {
        fprintf(cf, "cycle,now_ms,wall_ms,cpu_ms,changes,nominations,admissions,evictions\n");
        for (size_t i = 0; i < recs.len; i++) {
            const struct admit_cycle_rec *c = &recs.v[i];
            fprintf(cf, "%zu,%.3f,%.4f,%.4f,%u,%llu,%llu,%llu\n", i, (double)c->now / 1e6,
                    (double)c->wall_ns / 1e6, (double)c->cpu_ns / 1e6, c->changes,
                    (unsigned long long)c->nominations, (unsigned long long)c->admissions,
                    (unsigned long long)c->evictions);
        }
        if (ferror(cf)) {
            fprintf(stderr, "muster bench admit: --cycles %s: write error\n", o->cycles_path);
            rc = -1;
        }
    }
    uint32_t not_done = 0;
    for (uint32_t i = 0; i < l.nwl; i++) {
        enum adm_state s = adm_workload(a, i)->state;
        if (s != ADM_FINISHED && s != ADM_INACTIVE)
            not_done++;
    }
    if (not_done) {
        fprintf(stderr, "muster bench admit: %u workloads neither finished nor deactivated\n",
                not_done);
        rc = -1;
    }
out:
    vec_free(&all);
    vec_free(&busy);
    vec_free(&cpu);
    vec_free(&recs);
    if (cf && fclose(cf) != 0) {
        fprintf(stderr, "muster bench admit: --cycles %s: %s\n", o->cycles_path, strerror(errno));
        rc = -1;
    }
    free(d.first_admit);
    if (d.l)
        heap_release(&d.done);
    adm_destroy(a);
    admload_release(&l);
    return rc;
}

static void admit_print_json(const struct admit_opts *o, const struct admload_opts *lo,
                             const struct admit_result *r)
{
    printf("{\"benchmark\":\"admit\",\"mode\":\"%s\",\"policy\":", lo->nodes ? "nodes" : "quota");
    json_str(o->policy);
    printf(",\"fair_sharing\":%s", o->fair_sharing ? "true" : "false");
    printf(",\"cqs\":%u,\"cohorts\":%u,\"nodes\":%u,\"gpus\":%llu,\"seed\":%llu", lo->cqs,
           r->cohorts, lo->nodes, (unsigned long long)lo->nodes * ADMLOAD_NODE_GPUS,
           (unsigned long long)lo->seed);
    printf(",\"workloads\":%u,\"finished\":%llu,\"deactivated\":%llu", lo->workloads,
           (unsigned long long)r->finished, (unsigned long long)r->deactivated);
    printf(",\"admissions\":%llu,\"evictions\":%llu,\"cycles\":%llu,\"busy_cycles\":%llu",
           (unsigned long long)r->admissions, (unsigned long long)r->evictions,
           (unsigned long long)r->cycles, (unsigned long long)r->busy_cycles);
    printf(",\"capped_instants\":%llu,\"nominations\":%llu,\"placements_tried\":%llu",
           (unsigned long long)r->capped, (unsigned long long)r->nominations,
           (unsigned long long)r->placements_tried);
    printf(",\"admissions_per_sec\":%.1f,\"cpu_seconds\":%.6f,\"setup_cpu_seconds\":%.6f",
           r->cpu_s > 0 ? (double)r->admissions / r->cpu_s : 0.0, r->cpu_s, r->setup_cpu_s);
    printf(",\"wall_seconds\":%.3f,\"virtual_seconds\":%.3f", r->wall_s, r->virtual_s);
    printf(",\"mean_cycle_ms\":%.4f,\"p50_cycle_ms\":%.4f,\"p99_cycle_ms\":%.4f", r->mean_ms,
           r->p50_ms, r->p99_ms);
    printf(",\"max_cycle_ms\":%.4f,\"p99_busy_cycle_ms\":%.4f", r->max_ms, r->p99_busy_ms);
    printf(",\"p99_cycle_cpu_ms\":%.4f,\"max_cycle_cpu_ms\":%.4f", r->p99_cpu_ms, r->max_cpu_ms);
    printf(",\"avg_time_to_admission_ms\":{");
    for (int c = 0; c < ADMLOAD_NCLASSES; c++)
        printf("%s\"%s\":%.1f", c ? "," : "", admload_classes[c].name, r->tta_ms[c]);
    printf("},\"max_rss_mib\":%.1f}\n", r->rss_mib);
}

static void admit_print_summary(const struct admit_opts *o, const struct admload_opts *lo,
                                const struct admit_result *r)
{
    printf("bench admit: %u ClusterQueues in %u cohorts, %u workloads, ", lo->cqs, r->cohorts,
           lo->workloads);
    if (lo->nodes)
        printf("%u nodes (%llu GPUs), policy %s", lo->nodes,
               (unsigned long long)lo->nodes * ADMLOAD_NODE_GPUS, o->policy);
    else
        printf("quota only (no nodes)");
    printf("%s, seed %llu\n", o->fair_sharing ? ", fair sharing" : "",
           (unsigned long long)lo->seed);
    printf("  %.0f admissions/CPU s: %llu admissions, %llu evictions in %.3f CPU s "
           "(%.3f s wall; setup %.2f CPU s)\n",
           r->cpu_s > 0 ? (double)r->admissions / r->cpu_s : 0.0, (unsigned long long)r->admissions,
           (unsigned long long)r->evictions, r->cpu_s, r->wall_s, r->setup_cpu_s);
    printf("  %llu cycles (%llu changed something): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           (unsigned long long)r->cycles, (unsigned long long)r->busy_cycles, r->p50_ms, r->p99_ms,
           r->max_ms);
    printf("  %llu nominations (workloads tried), %llu placements tried\n",
           (unsigned long long)r->nominations, (unsigned long long)r->placements_tried);
    printf("  cycle CPU time (this thread): p99 %.3f ms, max %.3f ms\n", r->p99_cpu_ms,
           r->max_cpu_ms);
    printf("  %llu finished, %llu deactivated; %.3f s of virtual time; mean time to "
           "admission",
           (unsigned long long)r->finished, (unsigned long long)r->deactivated, r->virtual_s);
    for (int c = 0; c < ADMLOAD_NCLASSES; c++)
        printf(" %s %.0f ms%s", admload_classes[c].name, r->tta_ms[c],
               c + 1 < ADMLOAD_NCLASSES ? "," : "\n");
    printf("  max RSS %.1f MiB\n", r->rss_mib);
    printf("  goals (issue, for the full load): CPU %.2f s <= %d s %s; max cycle %.2f ms <= %d ms "
           "%s\n",
           r->cpu_s, ADMIT_GOAL_CPU_S, r->cpu_s <= ADMIT_GOAL_CPU_S ? "met" : "MISSED", r->max_ms,
           ADMIT_GOAL_CYCLE_MS, r->max_ms <= ADMIT_GOAL_CYCLE_MS ? "met" : "MISSED");
}

static int bench_admit(int argc, char **argv)
{
    struct admit_opts o = {.policy = "bestfit"};
    admload_opts_default(&o.lo);
    bool no_nodes = false, nodes_set = false;
    static const struct option opts[] = {{"cqs", required_argument, NULL, 'q'},
                                         {"cohorts", required_argument, NULL, 'C'},
                                         {"workloads", required_argument, NULL, 'w'},
                                         {"nodes", required_argument, NULL, 'n'},
                                         {"no-nodes", no_argument, NULL, 'N'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"policy", required_argument, NULL, 'P'},
                                         {"fair-sharing", no_argument, NULL, 'f'},
                                         {"cycles", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 1;
    int opt;
    unsigned long long v;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'q':
            if (parse_count("admit", "cqs", optarg, 1, ADMLOAD_MAX_CQS, &v) < 0)
                return 2;
            o.lo.cqs = (uint32_t)v;
            break;
        case 'C':
            if (parse_count("admit", "cohorts", optarg, 1, ADMLOAD_MAX_CQS, &v) < 0)
                return 2;
            o.lo.cohorts = (uint32_t)v;
            break;
        case 'w':
            if (parse_count("admit", "workloads", optarg, 1, ADMLOAD_MAX_WORKLOADS, &v) < 0)
                return 2;
            o.lo.workloads = (uint32_t)v;
            break;
        case 'n':
            if (parse_count("admit", "nodes", optarg, 1, ADMLOAD_MAX_NODES, &v) < 0)
                return 2;
            o.lo.nodes = (uint32_t)v;
            nodes_set = true;
            break;
        case 'N':
            no_nodes = true;
            break;
        case 's':
            if (parse_count("admit", "seed", optarg, 0, UINT64_MAX, &v) < 0)
                return 2;
            o.lo.seed = v;
            break;
        case 'P':
            o.policy = optarg;
            break;
        case 'f':
            o.fair_sharing = true;
            break;
        case 'c':
            o.cycles_path = optarg;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            admit_usage(stdout);
            return 0;
        default:
            admit_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "muster bench admit: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (no_nodes && nodes_set) {
        fprintf(stderr, "muster bench admit: --nodes and --no-nodes exclude each other\n");
        return 2;
    }
    if (no_nodes)
        o.lo.nodes = 0;
    struct err e = {0};
    if (!policy_find(o.policy, &e)) {
        fprintf(stderr, "muster bench admit: --policy: %s\n", e.msg);
        return 2;
    }
    if (o.lo.cohorts > o.lo.cqs) {
        fprintf(stderr, "muster bench admit: --cohorts %u: more cohorts than queues (%u)\n",
                o.lo.cohorts, o.lo.cqs);
        return 2;
    }
    struct admit_result r;
    if (admit_run(&o, &r) < 0)
        return 1;
    if (o.json)
        admit_print_json(&o, &o.lo, &r);
    else
        admit_print_summary(&o, &o.lo, &r);
    return 0;
}

int cli_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: muster bench place ...  (muster bench place --help)\n"
                "       muster bench admit ...  (muster bench admit --help)\n"
                "       muster bench api ...    (muster bench api --help)\n"
                "       muster bench e2e ...    (muster bench e2e --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "place"))
        return bench_place(argc - 1, argv + 1);
    if (!strcmp(argv[1], "admit"))
        return bench_admit(argc - 1, argv + 1);
    if (!strcmp(argv[1], "api"))
        return cli_bench_api(argc - 1, argv + 1);
    if (!strcmp(argv[1], "e2e"))
        return cli_bench_e2e(argc - 1, argv + 1);
    fprintf(stderr, "muster bench: unknown benchmark '%s' (known: place, admit, api)\n", argv[1]);
    return 2;
}
