/* muster sim: trace replay. Today: `muster sim openb`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "sim/openb.h"
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

int cli_sim(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: muster sim openb ...  (muster sim openb --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "openb"))
        return sim_openb(argc - 1, argv + 1);
    fprintf(stderr, "muster sim: unknown trace kind '%s' (known: openb)\n", argv[1]);
    return 2;
}
