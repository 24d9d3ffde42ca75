/* muster sim: trace replay: `muster sim openb` and `muster sim philly`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "sim/openb.h"
#include "sim/philly.h"
#include "sim/progress.h"
#include "sim/svg.h"

#define MAX_SEEDS    1000
#define MAX_POLICIES 32

static const int report_pct[] = {90, 95, 100, 110, 130};
#define NREPORT (sizeof report_pct / sizeof report_pct[0])

static void openb_usage(FILE *f)
{
    fprintf(
        f, "usage: muster sim openb --nodes FILE --pods FILE [--policy NAME[,NAME...]]\n"
           "                        [--seeds 42-51] [--tune 1.3] [--csv FILE] [--plot FILE]\n"
           "                        [--json]\n"
           "       muster sim openb --list-policies\n\n"
           "Replays the FGD paper's fragmentation benchmark: pods of the trace sampled to\n"
           "TUNE x the cluster's GPU capacity, shuffled, placed once, never removed.\n"
           "Prints, per policy, the unallocated GPU %% (mean over seeds) at 90/95/100/110/130%%\n"
           "arrived load. --csv writes every curve (policy,seed,arrived_pct,unallocated_gpu_pct),\n"
           "--plot draws the mean curves as an SVG chart.\n");
}

int cli_parse_seeds(const char *s, unsigned long long *out, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long long a = strtoull(p, &end, 10), b = a;
        if (end == p || errno || *p == '-')
            return -1;
        p = end;
        if (*p == '-') {
            p++;
            if (*p == '-' || !*p)
                return -1;
            b = strtoull(p, &end, 10);
            if (end == p || errno || b < a)
                return -1;
            p = end;
        }
        for (unsigned long long v = a; v <= b; v++) {
            if (n >= max)
                return -1;
            out[n++] = v;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n > 0 ? n : -1;
}

static int sim_openb(int argc, char **argv)
{
    const char *nodes = NULL, *pods = NULL, *policies = "fgd", *seeds_s = "42-51";
    const char *csv_path = NULL, *plot_path = NULL;
    double tune = 1.3;
    int json = 0, list = 0;
    static const struct option opts[] = {{"nodes", required_argument, NULL, 'n'},
                                         {"pods", required_argument, NULL, 'p'},
                                         {"policy", required_argument, NULL, 'P'},
                                         {"seeds", required_argument, NULL, 's'},
                                         {"tune", required_argument, NULL, 't'},
                                         {"csv", required_argument, NULL, 'c'},
                                         {"plot", required_argument, NULL, 'g'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"list-policies", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            nodes = optarg;
            break;
        case 'p':
            pods = optarg;
            break;
        case 'P':
            policies = optarg;
            break;
        case 's':
            seeds_s = optarg;
            break;
        case 'c':
            csv_path = optarg;
            break;
        case 'g':
            plot_path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'l':
            list = 1;
            break;
        case 't': {
            char *end;
            tune = strtod(optarg, &end);
            if (*end || !(tune > 0 && tune <= 10)) {
                fprintf(stderr, "muster sim openb: --tune '%s': want a number in (0, 10]\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'h':
            openb_usage(stdout);
            return 0;
        default:
            openb_usage(stderr);
            return 2;
        }
    }
    if (list) {
        for (size_t i = 0; i < policy_count; i++)
            printf("%s\n", policy_all[i]->name);
        return 0;
    }
    if (optind < argc) {
        fprintf(stderr, "muster sim openb: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!nodes || !pods) {
        fprintf(stderr, "muster sim openb: --nodes and --pods are required\n");
        openb_usage(stderr);
        return 2;
    }
    unsigned long long seeds[MAX_SEEDS];
    int nseeds = cli_parse_seeds(seeds_s, seeds, MAX_SEEDS);
    if (nseeds < 0) {
        fprintf(stderr,
                "muster sim openb: --seeds '%s': want N, A-B or a comma list (at most %d)\n",
                seeds_s, MAX_SEEDS);
        return 2;
    }
    const struct policy_ops *ops[MAX_POLICIES];
    int nops = 0;
    struct err e = {0};
    char *plist = xstrdup(policies), *save = NULL;
    for (char *tok = strtok_r(plist, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nops == MAX_POLICIES || !(ops[nops++] = policy_find(tok, &e))) {
            fprintf(stderr, "muster sim openb: --policy: %s\n",
                    nops == MAX_POLICIES ? "too many policies" : e.msg);
            free(plist);
            return 2;
        }
    }
    free(plist);
    if (!nops) {
        fprintf(stderr, "muster sim openb: --policy: empty\n");
        return 2;
    }

    struct openb_trace t;
    if (openb_load(&t, nodes, pods, &e) < 0) {
        fprintf(stderr, "muster sim openb: %s\n", e.msg);
        return 1;
    }
    struct workload_dist wd;
    openb_workload(&t, &wd);

    int rc = 1; /* until the end is reached */
    FILE *csv = NULL;
    double(*mean)[OPENB_MAX_PCT + 1] = NULL;
    double *secs = NULL;
    uint64_t *failed = NULL, *npods = NULL;
    if (csv_path) {
        csv = fopen(csv_path, "w");
        if (!csv) {
            fprintf(stderr, "muster sim openb: --csv %s: %s\n", csv_path, strerror(errno));
            goto out;
        }
        fprintf(csv, "policy,seed,arrived_pct,unallocated_gpu_pct\n");
    }
    mean = xcalloc((size_t)nops, sizeof *mean);
    secs = xcalloc((size_t)nops, sizeof *secs);
    failed = xcalloc((size_t)nops, sizeof *failed);
    npods = xcalloc((size_t)nops, sizeof *npods);
    struct progress prog;
    progress_init(&prog, "openb", (uint64_t)nops * (uint64_t)nseeds);
    for (int pi = 0; pi < nops; pi++) {
        for (int si = 0; si < nseeds; si++) {
            struct openb_result r;
            if (openb_run(&t, ops[pi], &wd, seeds[si], tune, &r, &e) < 0) {
                progress_finish(&prog);
                fprintf(stderr, "muster sim openb: %s\n", e.msg);
                goto out;
            }
            for (int a = 0; a <= OPENB_MAX_PCT; a++) {
                mean[pi][a] += r.unalloc[a] / nseeds;
                if (csv && !isnan(r.unalloc[a]))
                    fprintf(csv, "%s,%llu,%d,%.4f\n", ops[pi]->name, seeds[si], a, r.unalloc[a]);
            }
            secs[pi] += r.seconds;
            failed[pi] += r.failed;
            npods[pi] += r.pods;
            progress_update(&prog, (uint64_t)pi * nseeds + si + 1);
        }
    }
    progress_finish(&prog);
    if (csv && fclose(csv) != 0) {
        csv = NULL;
        fprintf(stderr, "muster sim openb: --csv %s: %s\n", csv_path, strerror(errno));
        goto out;
    }
    csv = NULL;

    if (json) {
        for (int pi = 0; pi < nops; pi++) {
            printf("{\"policy\":\"%s\",\"seeds\":%d,\"tune\":%g", ops[pi]->name, nseeds, tune);
            for (size_t k = 0; k < NREPORT; k++)
                printf(",\"unalloc_%d\":%.3f", report_pct[k], mean[pi][report_pct[k]]);
            printf(",\"failed_pods_per_run\":%.1f,\"seconds_per_run\":%.3f}\n",
                   (double)failed[pi] / nseeds, secs[pi] / nseeds);
        }
    } else {
        long long gpus = 0;
        for (size_t i = 0; i < t.nnodes; i++)
            gpus += t.nodes[i].gpus;
        printf("openb: %zu GPU nodes, %lld GPUs; %zu trace pods; tune %.2f; %d seed%s (%s)\n",
               t.nnodes, gpus, t.npods, tune, nseeds, nseeds == 1 ? "" : "s", seeds_s);
        printf("unallocated GPU %% at arrived GPU load (mean over seeds; lower is better)\n\n");
        printf("%-14s", "policy");
        for (size_t k = 0; k < NREPORT; k++)
            printf(" %7d%%", report_pct[k]);
        printf("   failed/run  s/run\n");
        for (int pi = 0; pi < nops; pi++) {
            printf("%-14s", ops[pi]->name);
            for (size_t k = 0; k < NREPORT; k++)
                printf(" %8.2f", mean[pi][report_pct[k]]);
            printf("   %10.1f  %5.2f\n", (double)failed[pi] / nseeds, secs[pi] / nseeds);
        }
    }
    if (plot_path) {
        struct svg_chart ch;
        char title[256];
        const char *base = strrchr(pods, '/');
        snprintf(title, sizeof title, "Unallocated GPU vs arrived load — %s, %d seeds",
                 base ? base + 1 : pods, nseeds);
        svg_chart_init(&ch, title, "arrived GPU load (% of capacity)",
                       "unallocated GPU (% of capacity)");
        /* Policies differ only once the cluster is nearly full: show the
         * region from 80% arrived load, with 0-25% unallocated. */
        svg_chart_x_range(&ch, 80, OPENB_MAX_PCT);
        svg_chart_y_range(&ch, 0, 25);
        for (int pi = 0; pi < nops; pi++) {
            int sidx = svg_chart_add_series(&ch, ops[pi]->name);
            for (int a = 0; a <= OPENB_MAX_PCT; a++)
                svg_chart_add_point(&ch, sidx, a, mean[pi][a]);
        }
        svg_chart_vline(&ch, 100, "100%");
        int wrc = svg_chart_write(&ch, plot_path, &e);
        svg_chart_release(&ch);
        if (wrc < 0) {
            fprintf(stderr, "muster sim openb: --plot: %s\n", e.msg);
            goto out;
        }
    }
    rc = 0;
out:
    if (csv)
        fclose(csv);
    free(mean);
    free(secs);
    free(failed);
    free(npods);
    workload_dist_release(&wd);
    openb_release(&t);
    return rc;
}

/* ---- muster sim philly ---- */

/* The slice replayed when none is asked for: the busiest fortnight of the trace
 * (16,899 jobs, the first 18 gangs of 32 GPUs), days 21-35 after the first
 * submit. See docs/philly.md. */
#define PHILLY_DEFAULT_START_DAYS  21.0
#define PHILLY_DEFAULT_WINDOW_DAYS 14.0
#define PHILLY_SHARE_BINS          200 /* the grid of --shares and --plot-shares */

static void philly_usage(FILE *f)
{
    fprintf(
        f,
        "usage: muster sim philly --jobs FILE [--gpus 2048] [--gpus-per-node 8]\n"
        "                         [--queues single|per-cluster] [--policy NAME[,NAME...]]\n"
        "                         [--overestimate 1.0] [--reclaim any|lower|never]\n"
        "                         [--rerun resume|restart] [--reservations N]\n"
        "                         [--start DAYS] [--window DAYS] [--jobs-limit N] [--json]\n"
        "                         [--csv FILE] [--shares FILE]\n"
        "                         [--plot FILE] [--plot-shares FILE]\n\n"
        "Replays the Philly trace's arrivals, gang sizes and run times through the admission\n"
        "engine on a virtual clock, once per policy (strict, besteffort, fairshare, backfill;\n"
        "default all four). The scheduler knows each run time only as a bound,\n"
        "ceil(duration x OVERESTIMATE) seconds. --queues per-cluster gives each virtual cluster\n"
        "its own ClusterQueue in one cohort, with nominal GPUs in proportion to its GPU time.\n"
        "--start/--window (days after the first submit) and --jobs-limit pick the jobs replayed\n"
        "(default: days %g-%g). --reservations caps backfill's reservations per cycle\n"
        "(engine default 16). Prints one row per policy; --json one object per policy;\n"
        "--csv every job's outcome; --shares each team's GPU share over time; --plot mean\n"
        "queueing delay by gang size; --plot-shares the team shares of one policy.\n",
        PHILLY_DEFAULT_START_DAYS, PHILLY_DEFAULT_START_DAYS + PHILLY_DEFAULT_WINDOW_DAYS);
}

static int parse_num(const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= min && v <= max)) {
        fprintf(stderr, "muster sim philly: %s '%s': want a number in [%g, %g]\n", opt, s, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_count(const char *opt, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || *s == '-' || v < min || v > max) {
        fprintf(stderr, "muster sim philly: %s '%s': want a whole number in [%llu, %llu]\n", opt, s,
                min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *reclaim_name(enum adm_ppolicy p)
{
    return p == ADM_P_ANY ? "Any" : p == ADM_P_LOWER_PRIORITY ? "LowerPriority" : "Never";
}

/* Everything one invocation works on, so that output functions take one argument. */
struct philly_cli {
    const char *jobs_path;
    struct philly_trace t;
    struct philly_slice slice;
    struct philly_config cfg;
    struct philly_job *jobs;
    size_t njobs, dropped;
    enum philly_policy pol[PHILLY_NPOLICIES];
    int npol;
    struct philly_run runs[PHILLY_NPOLICIES];
    struct philly_metrics m[PHILLY_NPOLICIES];
    int strict_ix; /* index of the strict run, or -1 */
};

/* The bar counts jobs over all policies: base is the count of the runs before. */
struct philly_bar {
    struct progress p;
    uint64_t base;
};

static void philly_progress(void *ctx, size_t arrived)
{
    struct philly_bar *b = ctx;
    progress_update(&b->p, b->base + arrived);
}

static void print_json(const struct philly_cli *c)
{
    for (int i = 0; i < c->npol; i++) {
        const struct philly_metrics *m = &c->m[i];
        const struct philly_dist *q32 = &m->queue_by[PHILLY_NBUCKETS - 1];
        printf("{\"policy\":\"%s\",\"jobs\":%zu,\"dropped\":%zu,\"completed\":%zu,"
               "\"never_admitted\":%zu,\"killed\":%zu,",
               philly_policy_name(c->pol[i]), m->jobs, c->dropped, m->completed, m->never_admitted,
               m->killed);
        printf("\"mean_jct_s\":%.3f,\"p50_jct_s\":%.3f,\"p99_jct_s\":%.3f,", m->jct.mean,
               m->jct.p50, m->jct.p99);
        printf("\"mean_queue_s\":%.3f,\"p50_queue_s\":%.3f,\"p99_queue_s\":%.3f,"
               "\"max_queue_s\":%.3f,",
               m->queue.mean, m->queue.p50, m->queue.p99, m->queue.max);
        printf("\"jobs_gang32\":%zu,\"mean_queue_s_gang32\":%.3f,\"p99_queue_s_gang32\":%.3f,"
               "\"max_queue_s_gang32\":%.3f,",
               q32->n, q32->mean, q32->p99, q32->max);
        if (c->strict_ix >= 0)
            printf("\"gang32_admitted_later_than_strict\":%zu,",
                   philly_count_later(c->jobs, c->njobs, &c->runs[i], &c->runs[c->strict_ix],
                                      PHILLY_GANG_BIG));
        printf("\"gpu_utilization\":%.6f,\"makespan_s\":%.3f,\"gpu_seconds\":%.3f,"
               "\"evictions\":%llu,",
               m->gpu_utilization, m->makespan_s, m->gpu_seconds, (unsigned long long)m->evictions);
        printf("\"queue_by_gang\":{");
        for (unsigned b = 0; b < PHILLY_NBUCKETS; b++)
            printf("%s\"%s\":{\"jobs\":%zu,\"mean_s\":%.3f,\"p50_s\":%.3f,\"p99_s\":%.3f}",
                   b ? "," : "", philly_bucket_name(b), m->queue_by[b].n, m->queue_by[b].mean,
                   m->queue_by[b].p50, m->queue_by[b].p99);
        printf("},\"gpus\":%u,\"gpus_per_node\":%u,\"queues\":\"%s\",\"overestimate\":%g,"
               "\"start_days\":%g,\"window_days\":%g,\"jobs_limit\":%zu,\"max_reservations\":%u}\n",
               c->cfg.gpus, c->cfg.gpus_per_node,
               c->cfg.queues == PHILLY_Q_PER_CLUSTER ? "per-cluster" : "single",
               c->cfg.overestimate, c->slice.start_days, c->slice.window_days, c->slice.limit,
               c->cfg.max_reservations);
    }
}

static void print_table(const struct philly_cli *c)
{
    const char *base = strrchr(c->jobs_path, '/');
    printf("philly: %s", base ? base + 1 : c->jobs_path);
    if (c->slice.window_days > 0)
        printf(", days %g-%g", c->slice.start_days, c->slice.start_days + c->slice.window_days);
    else
        printf(", days %g-end", c->slice.start_days);
    if (c->slice.limit)
        printf(" (first %zu)", c->slice.limit);
    printf(" of %zu jobs: %zu replayed, %zu dropped (larger than the cluster)\n", c->t.njobs,
           c->njobs, c->dropped);
    printf("cluster: %u GPUs (%u nodes x %u); ", c->cfg.gpus, c->cfg.gpus / c->cfg.gpus_per_node,
           c->cfg.gpus_per_node);
    if (c->cfg.queues == PHILLY_Q_PER_CLUSTER)
        printf("%u ClusterQueues in one cohort, reclaimWithinCohort %s\n", c->t.nteams,
               reclaim_name(c->cfg.reclaim));
    else
        printf("one ClusterQueue (fairshare is besteffort with one queue)\n");
    printf("run time known as ceil(duration x %.2f) s; an evicted job %s\n\n", c->cfg.overestimate,
           c->cfg.rerun == PHILLY_RERUN_RESTART ? "starts over" : "resumes");
    printf("%-11s %7s %9s %9s %9s %9s %9s %9s %9s %9s %6s %8s %6s\n", "policy", "jobs", "jct_mean",
           "jct_p50", "jct_p99", "q_mean", "q_p50", "q_p99", "q32_mean", "q32_p99", "util",
           "makespan", "evict");
    printf("%-11s %7s %9s %9s %9s %9s %9s %9s %9s %9s %6s %8s %6s\n", "", "", "h", "h", "h", "min",
           "min", "min", "min", "min", "%", "days", "");
    for (int i = 0; i < c->npol; i++) {
        const struct philly_metrics *m = &c->m[i];
        const struct philly_dist *q32 = &m->queue_by[PHILLY_NBUCKETS - 1];
        printf("%-11s %7zu %9.2f %9.2f %9.2f %9.1f %9.1f %9.1f %9.1f %9.1f %6.1f %8.2f %6llu\n",
               philly_policy_name(c->pol[i]), m->jobs, m->jct.mean / 3600, m->jct.p50 / 3600,
               m->jct.p99 / 3600, m->queue.mean / 60, m->queue.p50 / 60, m->queue.p99 / 60,
               q32->mean / 60, q32->p99 / 60, 100 * m->gpu_utilization, m->makespan_s / 86400,
               (unsigned long long)m->evictions);
    }
    printf("\nmean / p99 queueing delay by gang size (minutes)\n%-11s", "policy");
    for (unsigned b = 0; b < PHILLY_NBUCKETS; b++) {
        char h[32];
        snprintf(h, sizeof h, "%s GPU (%zu)", philly_bucket_name(b), c->m[0].queue_by[b].n);
        printf(" %17s", h);
    }
    printf("\n");
    for (int i = 0; i < c->npol; i++) {
        printf("%-11s", philly_policy_name(c->pol[i]));
        for (unsigned b = 0; b < PHILLY_NBUCKETS; b++) {
            char cell[40];
            snprintf(cell, sizeof cell, "%.1f / %.1f", c->m[i].queue_by[b].mean / 60,
                     c->m[i].queue_by[b].p99 / 60);
            printf(" %17s", cell);
        }
        printf("\n");
    }
    for (int i = 0; i < c->npol; i++) {
        const struct philly_metrics *m = &c->m[i];
        if (m->never_admitted || m->killed)
            printf("%s: %zu jobs never admitted, %zu killed at their bound\n",
                   philly_policy_name(c->pol[i]), m->never_admitted, m->killed);
    }
    if (c->strict_ix >= 0) {
        printf("\ngangs of %d+ GPUs admitted later than under strict:", PHILLY_GANG_BIG);
        for (int i = 0; i < c->npol; i++)
            if (i != c->strict_ix)
                printf(" %s %zu of %zu;", philly_policy_name(c->pol[i]),
                       philly_count_later(c->jobs, c->njobs, &c->runs[i], &c->runs[c->strict_ix],
                                          PHILLY_GANG_BIG),
                       c->m[i].queue_by[PHILLY_NBUCKETS - 1].n);
        printf("\n");
    }
}

static int write_jobs_csv(const struct philly_cli *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "muster sim philly: --csv %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "policy,line,cluster,gpus,submit_s,duration_s,first_admit_s,end_s,queue_s,jct_s,"
               "evictions,killed\n");
    for (int i = 0; i < c->npol; i++)
        for (size_t k = 0; k < c->njobs; k++) {
            const struct philly_job *j = &c->jobs[k];
            const struct philly_outcome *o = &c->runs[i].out[k];
            fprintf(f, "%s,%u,%s,%u,%lld,%.3f,", philly_policy_name(c->pol[i]), j->line,
                    c->t.teams[j->team], j->gpus, (long long)j->submit_s, j->duration_s);
            if (o->first_admit_ns >= 0)
                fprintf(f, "%.3f,", (double)o->first_admit_ns / 1e9);
            else
                fprintf(f, ",");
            if (o->end_ns >= 0)
                fprintf(f, "%.3f,", (double)o->end_ns / 1e9);
            else
                fprintf(f, ",");
            if (o->first_admit_ns >= 0)
                fprintf(f, "%.3f,", (double)o->first_admit_ns / 1e9 - (double)j->submit_s);
            else
                fprintf(f, ",");
            if (o->end_ns >= 0)
                fprintf(f, "%.3f,", (double)o->end_ns / 1e9 - (double)j->submit_s);
            else
                fprintf(f, ",");
            fprintf(f, "%u,%d\n", o->evictions, o->killed ? 1 : 0);
        }
    if (fclose(f) != 0) {
        fprintf(stderr, "muster sim philly: --csv %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The common horizon of the share grids: the longest makespan of the runs. */
static int64_t share_horizon(const struct philly_cli *c)
{
    double h = 0;
    for (int i = 0; i < c->npol; i++)
        if (c->m[i].makespan_s > h)
            h = c->m[i].makespan_s;
    return (int64_t)ceil(h) * 1000000000LL;
}

static int write_shares_csv(const struct philly_cli *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "muster sim philly: --shares %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint32_t nt = c->t.nteams;
    int64_t horizon = share_horizon(c);
    double *sh = xcalloc((size_t)PHILLY_SHARE_BINS * nt, sizeof *sh);
    fprintf(f, "policy,t_s,cluster,nominal_gpus,mean_gpus,share\n");
    for (int i = 0; i < c->npol; i++) {
        philly_shares(c->jobs, &c->runs[i], nt, horizon, PHILLY_SHARE_BINS, sh);
        for (uint32_t b = 0; b < PHILLY_SHARE_BINS; b++)
            for (uint32_t k = 0; k < nt; k++) {
                double g = sh[(size_t)b * nt + k];
                long long nominal =
                    c->cfg.queues == PHILLY_Q_PER_CLUSTER ? (long long)c->runs[i].nominal[k] : -1;
                fprintf(f, "%s,%.1f,%s,", philly_policy_name(c->pol[i]),
                        (double)horizon / 1e9 * b / PHILLY_SHARE_BINS, c->t.teams[k]);
                if (nominal >= 0)
                    fprintf(f, "%lld,", nominal);
                else
                    fprintf(f, ",");
                fprintf(f, "%.3f,%.6f\n", g, g / c->cfg.gpus);
            }
    }
    free(sh);
    if (fclose(f) != 0) {
        fprintf(stderr, "muster sim philly: --shares %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Mean queueing delay (minutes) by gang-size bucket, one line per policy: the
 * x axis is the bucket's index, each marked and labelled with its sizes. */
static int plot_queue(const struct philly_cli *c, const char *path)
{
    struct svg_chart ch;
    char title[256];
    snprintf(title, sizeof title,
             "Philly: mean queueing delay by gang size — %zu jobs, %u GPUs, %s", c->njobs,
             c->cfg.gpus, c->cfg.queues == PHILLY_Q_PER_CLUSTER ? "a queue per team" : "one queue");
    svg_chart_init(&ch, title, "gang-size bucket (GPUs per job, named on each marker)",
                   "mean queueing delay (minutes)");
    svg_chart_x_range(&ch, -0.5, PHILLY_NBUCKETS - 0.5);
    for (unsigned b = 0; b < PHILLY_NBUCKETS; b++) {
        char label[48];
        snprintf(label, sizeof label, "%s (%zu jobs)", philly_bucket_name(b),
                 c->m[0].queue_by[b].n);
        svg_chart_vline(&ch, b, label);
    }
    for (int i = 0; i < c->npol; i++) {
        int s = svg_chart_add_series(&ch, philly_policy_name(c->pol[i]));
        for (unsigned b = 0; b < PHILLY_NBUCKETS; b++)
            if (c->m[i].queue_by[b].n)
                svg_chart_add_point(&ch, s, b, c->m[i].queue_by[b].mean / 60);
    }
    struct err e = {0};
    int rc = svg_chart_write(&ch, path, &e);
    svg_chart_release(&ch);
    if (rc < 0)
        fprintf(stderr, "muster sim philly: --plot: %s\n", e.msg);
    return rc;
}

/* Each team's share of the cluster's GPUs over time under one policy:
 * fairshare when it ran, else the last policy given. */
static int plot_shares(const struct philly_cli *c, const char *path)
{
    int pi = c->npol - 1;
    for (int i = 0; i < c->npol; i++)
        if (c->pol[i] == PHILLY_FAIRSHARE)
            pi = i;
    uint32_t nt = c->t.nteams;
    int64_t horizon = share_horizon(c);
    double *sh = xcalloc((size_t)PHILLY_SHARE_BINS * nt, sizeof *sh);
    philly_shares(c->jobs, &c->runs[pi], nt, horizon, PHILLY_SHARE_BINS, sh);
    struct svg_chart ch;
    char title[256];
    snprintf(title, sizeof title, "Philly: GPU share per virtual cluster — %s, %u GPUs",
             philly_policy_name(c->pol[pi]), c->cfg.gpus);
    svg_chart_init(&ch, title, "time (days from the first replayed submit)",
                   "GPUs held (% of the cluster)");
    for (uint32_t k = 0; k < nt; k++) {
        double total = 0;
        for (uint32_t b = 0; b < PHILLY_SHARE_BINS; b++)
            total += sh[(size_t)b * nt + k];
        if (total <= 0)
            continue; /* a team with no jobs in the slice */
        int s = svg_chart_add_series(&ch, c->t.teams[k]);
        for (uint32_t b = 0; b < PHILLY_SHARE_BINS; b++)
            svg_chart_add_point(&ch, s,
                                (double)horizon / 1e9 / 86400 * (b + 0.5) / PHILLY_SHARE_BINS,
                                100 * sh[(size_t)b * nt + k] / c->cfg.gpus);
    }
    free(sh);
    struct err e = {0};
    int rc = svg_chart_write(&ch, path, &e);
    svg_chart_release(&ch);
    if (rc < 0)
        fprintf(stderr, "muster sim philly: --plot-shares: %s\n", e.msg);
    return rc;
}

static int sim_philly(int argc, char **argv)
{
    const char *policies = "strict,besteffort,fairshare,backfill";
    const char *csv_path = NULL, *shares_path = NULL, *plot_path = NULL, *plot_shares_path = NULL;
    int json = 0;
    struct philly_cli c = {
        .slice = {.start_days = PHILLY_DEFAULT_START_DAYS,
                  .window_days = PHILLY_DEFAULT_WINDOW_DAYS},
        .cfg = {.gpus = 2048,
                .gpus_per_node = 8,
                .queues = PHILLY_Q_SINGLE,
                .overestimate = 1.0,
                .reclaim = ADM_P_ANY,
                .rerun = PHILLY_RERUN_RESUME},
        .strict_ix = -1,
    };
    static const struct option opts[] = {{"jobs", required_argument, NULL, 'J'},
                                         {"gpus", required_argument, NULL, 'G'},
                                         {"gpus-per-node", required_argument, NULL, 'N'},
                                         {"queues", required_argument, NULL, 'Q'},
                                         {"policy", required_argument, NULL, 'P'},
                                         {"overestimate", required_argument, NULL, 'O'},
                                         {"reclaim", required_argument, NULL, 'R'},
                                         {"rerun", required_argument, NULL, 'r'},
                                         {"reservations", required_argument, NULL, 'V'},
                                         {"start", required_argument, NULL, 'S'},
                                         {"window", required_argument, NULL, 'W'},
                                         {"jobs-limit", required_argument, NULL, 'L'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"csv", required_argument, NULL, 'c'},
                                         {"shares", required_argument, NULL, 's'},
                                         {"plot", required_argument, NULL, 'g'},
                                         {"plot-shares", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    int o;
    unsigned long long u;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'J':
            c.jobs_path = optarg;
            break;
        case 'G':
            if (parse_count("--gpus", optarg, 1, PHILLY_MAX_GPUS, &u) < 0)
                return 2;
            c.cfg.gpus = (uint32_t)u;
            break;
        case 'N':
            if (parse_count("--gpus-per-node", optarg, 1, CLUSTER_MAX_GPUS, &u) < 0)
                return 2;
            c.cfg.gpus_per_node = (uint32_t)u;
            break;
        case 'Q':
            if (!strcmp(optarg, "single"))
                c.cfg.queues = PHILLY_Q_SINGLE;
            else if (!strcmp(optarg, "per-cluster"))
                c.cfg.queues = PHILLY_Q_PER_CLUSTER;
            else {
                fprintf(stderr, "muster sim philly: --queues '%s': want single or per-cluster\n",
                        optarg);
                return 2;
            }
            break;
        case 'P':
            policies = optarg;
            break;
        case 'O':
            if (parse_num("--overestimate", optarg, 1, 1000, &c.cfg.overestimate) < 0)
                return 2;
            break;
        case 'R':
            if (!strcmp(optarg, "any"))
                c.cfg.reclaim = ADM_P_ANY;
            else if (!strcmp(optarg, "lower"))
                c.cfg.reclaim = ADM_P_LOWER_PRIORITY;
            else if (!strcmp(optarg, "never"))
                c.cfg.reclaim = ADM_P_NEVER;
            else {
                fprintf(stderr, "muster sim philly: --reclaim '%s': want any, lower or never\n",
                        optarg);
                return 2;
            }
            break;
        case 'r':
            if (!strcmp(optarg, "restart"))
                c.cfg.rerun = PHILLY_RERUN_RESTART;
            else if (!strcmp(optarg, "resume"))
                c.cfg.rerun = PHILLY_RERUN_RESUME;
            else {
                fprintf(stderr, "muster sim philly: --rerun '%s': want restart or resume\n",
                        optarg);
                return 2;
            }
            break;
        case 'V':
            if (parse_count("--reservations", optarg, 1, 1000000, &u) < 0)
                return 2;
            c.cfg.max_reservations = (uint32_t)u;
            break;
        case 'S':
            if (parse_num("--start", optarg, 0, 100000, &c.slice.start_days) < 0)
                return 2;
            break;
        case 'W':
            if (parse_num("--window", optarg, 0, 100000, &c.slice.window_days) < 0)
                return 2;
            break;
        case 'L':
            if (parse_count("--jobs-limit", optarg, 0, SIZE_MAX, &u) < 0)
                return 2;
            c.slice.limit = (size_t)u;
            break;
        case 'j':
            json = 1;
            break;
        case 'c':
            csv_path = optarg;
            break;
        case 's':
            shares_path = optarg;
            break;
        case 'g':
            plot_path = optarg;
            break;
        case 'p':
            plot_shares_path = optarg;
            break;
        case 'h':
            philly_usage(stdout);
            return 0;
        default:
            philly_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "muster sim philly: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!c.jobs_path) {
        fprintf(stderr, "muster sim philly: --jobs is required\n");
        philly_usage(stderr);
        return 2;
    }
    if (c.cfg.gpus % c.cfg.gpus_per_node) {
        fprintf(stderr, "muster sim philly: --gpus %u is not a multiple of --gpus-per-node %u\n",
                c.cfg.gpus, c.cfg.gpus_per_node);
        return 2;
    }
    struct err e = {0};
    char *plist = xstrdup(policies), *save = NULL;
    for (char *tok = strtok_r(plist, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        enum philly_policy p;
        if (philly_policy_find(tok, &p, &e) < 0) {
            fprintf(stderr, "muster sim philly: --policy: %s\n", e.msg);
            free(plist);
            return 2;
        }
        for (int i = 0; i < c.npol; i++)
            if (c.pol[i] == p) {
                fprintf(stderr, "muster sim philly: --policy: '%s' given twice\n", tok);
                free(plist);
                return 2;
            }
        c.pol[c.npol++] = p;
    }
    free(plist);
    if (!c.npol) {
        fprintf(stderr, "muster sim philly: --policy: empty\n");
        return 2;
    }

    if (philly_load(&c.t, c.jobs_path, &e) < 0) {
        fprintf(stderr, "muster sim philly: %s\n", e.msg);
        return 1;
    }
    int rc = 1;
    c.njobs = philly_select(&c.t, &c.slice, c.cfg.gpus, &c.jobs, &c.dropped);
    if (!c.njobs) {
        fprintf(stderr, "muster sim philly: no job of %s falls in the slice replayed\n",
                c.jobs_path);
        goto out;
    }
    struct philly_bar bar = {0};
    progress_init(&bar.p, "philly", (uint64_t)c.npol * c.njobs);
    c.cfg.progress = philly_progress;
    c.cfg.progress_ctx = &bar;
    for (int i = 0; i < c.npol; i++) {
        if (c.pol[i] == PHILLY_STRICT)
            c.strict_ix = i;
        bar.base = (uint64_t)i * c.njobs;
        if (philly_run(c.jobs, c.njobs, c.t.teams, c.t.nteams, &c.cfg, c.pol[i], &c.runs[i], &e) <
            0) {
            progress_finish(&bar.p);
            fprintf(stderr, "muster sim philly: %s\n", e.msg);
            goto out;
        }
        philly_metrics(c.jobs, c.njobs, &c.runs[i], c.cfg.gpus, &c.m[i]);
        progress_update(&bar.p, (uint64_t)(i + 1) * c.njobs);
    }
    progress_finish(&bar.p);
    for (int i = 0; i < c.npol; i++)
        fprintf(stderr, "muster sim philly: %s: %.2f s, %llu engine cycles, %llu clock steps\n",
                philly_policy_name(c.pol[i]), c.runs[i].seconds,
                (unsigned long long)c.runs[i].stats.cycles, (unsigned long long)c.runs[i].steps);
    if (json)
        print_json(&c);
    else
        print_table(&c);
    if (csv_path && write_jobs_csv(&c, csv_path) < 0)
        goto out;
    if (shares_path && write_shares_csv(&c, shares_path) < 0)
        goto out;
    if (plot_path && plot_queue(&c, plot_path) < 0)
        goto out;
    if (plot_shares_path && plot_shares(&c, plot_shares_path) < 0)
        goto out;
    rc = 0;
out:
    for (int i = 0; i < c.npol; i++)
        philly_run_release(&c.runs[i]);
    free(c.jobs);
    philly_release(&c.t);
    return rc;
}

int cli_sim(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: muster sim openb ...   (muster sim openb --help)\n"
                "       muster sim philly ...  (muster sim philly --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "openb"))
        return sim_openb(argc - 1, argv + 1);
    if (!strcmp(argv[1], "philly"))
        return sim_philly(argc - 1, argv + 1);
    fprintf(stderr, "muster sim: unknown trace kind '%s' (known: openb, philly)\n", argv[1]);
    return 2;
}
