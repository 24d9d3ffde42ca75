/*
 * muster bench: benchmarks. Today: `muster bench place`, the placement engine's
 * throughput on a large synthetic cluster.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/mtime.h"
#include "cli/cli.h"
#include "sched/engine.h"
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
static int parse_count(const char *flag, const char *s, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "muster bench place: --%s '%s': want an integer in %llu..%llu\n", flag, s,
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
            if (parse_count("nodes", optarg, 1, SYNTH_MAX_NODES, &o.nodes) < 0)
                return 2;
            break;
        case 'g':
            if (parse_count("gpus-per-node", optarg, 0, CLUSTER_MAX_GPUS, &o.gpus_per_node) < 0)
                return 2;
            gpn_set = true;
            break;
        case 'p':
            if (parse_count("pods", optarg, 1, SYNTH_MAX_PODS, &o.pods) < 0)
                return 2;
            break;
        case 's':
            if (parse_count("seed", optarg, 0, UINT64_MAX, &o.seed) < 0)
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

int cli_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: muster bench place ...  (muster bench place --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "place"))
        return bench_place(argc - 1, argv + 1);
    fprintf(stderr, "muster bench: unknown benchmark '%s' (known: place)\n", argv[1]);
    return 2;
}
