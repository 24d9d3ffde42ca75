/*
 * Tests for sim/philly: the time parser, the loader on tiny files and on the
 * real trace under MUSTER_TRACES (counts checked against figures computed
 * independently from the CSV), every rejection of bad input with a message
 * naming file, line and column, slicing, pod shapes, quota rounding, the
 * metrics on a hand-made run whose answers are worked out by hand, and small
 * replays through the admission engine whose schedules are worked out by hand:
 * head-of-line blocking under StrictFIFO, starvation of a big gang under
 * BestEffortFIFO, and backfill that fills the hole without delaying the gang.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/mtime.h"
#include "sim/philly.h"

/* A scratch directory for the input files, made once per run. */
static char scratch[96];
static char jobs_path[128];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%.60s/muster-philly-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (!mkdtemp(scratch))
        return -1;
    snprintf(jobs_path, sizeof jobs_path, "%s/jobs.csv", scratch);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(jobs_path);
    return rmdir(scratch);
}

/* Writes text to the scratch jobs file and returns its path. */
static const char *put(const char *text)
{
    FILE *f = fopen(jobs_path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return jobs_path;
}

#define HDR "timestamp,duration,num_gpus,gpu_time,cluster\n"

/* ---- the time parser ---- */

static void test_parse_time(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t want; /* -1: rejected */
    } cases[] = {
        {"2017-10-09 07:01:55", 1507532515},
        {"2017-09-04 10:30:41", 1504521041},
        {"1970-01-01 00:00:00", 0},
        {"2000-02-29 23:59:59", 951868799}, /* a leap day of a century leap year */
        {"2017-02-29 00:00:00", -1},        /* not a leap year */
        {"1900-02-29 00:00:00", -1},        /* nor a century that is not one */
        {"2017-13-01 00:00:00", -1},
        {"2017-00-01 00:00:00", -1},
        {"2017-04-31 00:00:00", -1},
        {"2017-10-09 24:00:00", -1},
        {"2017-10-09 07:60:00", -1},
        {"2017-10-09 07:01:60", -1},
        {"2017-10-9 07:01:55", -1},
        {"2017-10-09T07:01:55", -1},
        {"2017-10-09 07:01:55Z", -1},
        {"2017-10-09 07:01:5x", -1},
        {"", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = -1;
        int rc = philly_parse_time(cases[i].in, &got);
        if (cases[i].want < 0) {
            if (rc != -1)
                fail_msg("'%s' was accepted", cases[i].in);
        } else if (rc != 0 || got != cases[i].want) {
            fail_msg("'%s': rc %d, got %lld, want %lld", cases[i].in, rc, (long long)got,
                     (long long)cases[i].want);
        }
    }
}

/* ---- loading ---- */

static void test_load_small(void **state)
{
    (void)state;
    /* Out of order, three teams, an extra column, the trailing empty line of
     * the real file. */
    const char *path = put("cluster,timestamp,duration,num_gpus,gpu_time,extra\n"
                           "zz,2017-10-09 07:01:55,66.0,1,66.0,x\n"
                           "aa,2017-10-09 07:00:00,10.5,8,84.0,y\n"
                           "mm,2017-10-09 07:01:55,1,2,2,z\n"
                           "aa,2017-10-10 07:01:55,0,4,0,w\n"
                           "\n");
    struct philly_trace t;
    struct err e = {0};
    if (philly_load(&t, path, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(t.njobs, 4);
    assert_int_equal(t.nteams, 3);
    assert_string_equal(t.teams[0], "aa");
    assert_string_equal(t.teams[1], "mm");
    assert_string_equal(t.teams[2], "zz");
    assert_int_equal(t.epoch_s, 1507532400);
    /* sorted by submit time, equal times by line */
    static const struct {
        int64_t submit;
        double dur;
        uint32_t gpus, team, line;
    } want[] = {{0, 10.5, 8, 0, 3}, {115, 66.0, 1, 2, 2}, {115, 1, 2, 1, 4}, {86515, 0, 4, 0, 5}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(t.jobs[i].submit_s, want[i].submit);
        assert_true(t.jobs[i].duration_s == want[i].dur);
        assert_int_equal(t.jobs[i].gpus, want[i].gpus);
        assert_int_equal(t.jobs[i].team, want[i].team);
        assert_int_equal(t.jobs[i].line, want[i].line);
    }
    philly_release(&t);
    assert_null(t.jobs);
    philly_release(&t); /* twice is harmless */
}

static void test_load_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want; /* after "PATH:" */
    } cases[] = {
        {HDR "2017-10-09 07:01:55,66.0,1,66.0,a\n2017-10-09 7:01:55,66.0,1,66.0,a\n",
         "3:1 (timestamp): '2017-10-09 7:01:55' is not a time (want YYYY-MM-DD HH:MM:SS)"},
        {HDR "2017-02-30 07:01:55,66.0,1,66.0,a\n", "2:1 (timestamp): '2017-02-30 07:01:55'"},
        {HDR "2017-10-09 07:01:55,nan,1,66.0,a\n", "2:2 (duration): 'nan' is not a number"},
        {HDR "2017-10-09 07:01:55,-1,1,66.0,a\n", "2:2 (duration): -1"},
        {HDR "2017-10-09 07:01:55,1e10,1,66.0,a\n", "2:2 (duration): "},
        {HDR "2017-10-09 07:01:55,66.0,0,66.0,a\n", "2:3 (num_gpus): 0 is out of range"},
        {HDR "2017-10-09 07:01:55,66.0,1.5,66.0,a\n", "2:3 (num_gpus): '1.5' is not an integer"},
        {HDR "2017-10-09 07:01:55,66.0,1,66.0,\n", "2:5 (cluster): "},
        {HDR "2017-10-09 07:01:55,66.0,1,66.0\n", "2: "},
        {"timestamp,duration,num_gpus,gpu_time\n2017-10-09 07:01:55,66.0,1,66.0\n",
         "1: missing column 'cluster'"},
        {HDR, "no jobs"},
        {HDR "\n\n", "no jobs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = put(cases[i].text);
        struct philly_trace t;
        struct err e = {0};
        if (philly_load(&t, path, &e) == 0)
            fail_msg("case %zu was accepted", i);
        assert_null(t.jobs);
        char want[512];
        snprintf(want, sizeof want, "%s:%s", path, cases[i].want);
        if (!strstr(e.msg, cases[i].want) || strncmp(e.msg, path, strlen(path)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, e.msg, want);
        if (cases[i].want[0] >= '0' && cases[i].want[0] <= '9' &&
            strncmp(e.msg, want, strlen(want)))
            fail_msg("case %zu: got '%s', want it to start '%s'", i, e.msg, want);
    }
    struct philly_trace t;
    struct err e = {0};
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.csv", scratch);
    assert_int_equal(philly_load(&t, missing, &e), -1);
    assert_non_null(strstr(e.msg, missing));
}

static const char *trace_path(void)
{
    static char buf[1024];
    const char *dir = getenv("MUSTER_TRACES");
    if (!dir) {
        print_message("MUSTER_TRACES is not set; ctest sets it\n");
        skip();
    }
    snprintf(buf, sizeof buf, "%s/philly/philly_jobs.csv", dir);
    return buf;
}

/* Figures computed from the CSV with Python's csv and datetime modules. */
static void test_load_real_trace(void **state)
{
    (void)state;
    struct philly_trace t;
    struct err e = {0};
    if (philly_load(&t, trace_path(), &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(t.njobs, 82247);
    assert_int_equal(t.nteams, 15);
    assert_string_equal(t.teams[0], "0e4a51");
    assert_string_equal(t.teams[14], "ee9e8c");
    assert_int_equal(t.epoch_s, 1504521041); /* 2017-09-04 10:30:41 */
    assert_int_equal(t.jobs[0].line, 31568);
    assert_int_equal(t.jobs[0].gpus, 8);
    assert_true(t.jobs[0].duration_s == 2240194.0);
    assert_int_equal(t.jobs[t.njobs - 1].submit_s, 1513929731 - 1504521041);
    size_t by_gpus[129] = {0};
    for (size_t i = 0; i < t.njobs; i++) {
        assert_true(t.jobs[i].gpus <= 128);
        by_gpus[t.jobs[i].gpus]++;
        if (i)
            assert_true(t.jobs[i].submit_s >= t.jobs[i - 1].submit_s);
    }
    assert_int_equal(by_gpus[1], 76627);
    assert_int_equal(by_gpus[8], 1643);
    assert_int_equal(by_gpus[32], 67);
    assert_int_equal(by_gpus[64], 6);
    assert_int_equal(by_gpus[128], 3);
    philly_release(&t);
}

static void test_select(void **state)
{
    (void)state;
    const char *path = put(HDR "2017-10-01 00:00:00,10,1,10,a\n"   /* day 0 */
                               "2017-10-01 12:00:00,10,64,640,b\n" /* day 0.5, 64 GPUs */
                               "2017-10-02 00:00:00,10,2,20,a\n"   /* day 1 */
                               "2017-10-02 00:00:10,10,4,40,b\n"   /* day 1 + 10 s */
                               "2017-10-03 00:00:00,10,8,80,a\n" /* day 2 */);
    struct philly_trace t;
    struct err e = {0};
    if (philly_load(&t, path, &e) < 0)
        fail_msg("%s", e.msg);
    struct philly_job *sel;
    size_t dropped;
    /* everything on a 16-GPU cluster: the 64-GPU job is dropped */
    struct philly_slice all = {0};
    assert_int_equal(philly_select(&t, &all, 16, &sel, &dropped), 4);
    assert_int_equal(dropped, 1);
    assert_int_equal(sel[0].submit_s, 0);
    assert_int_equal(sel[3].submit_s, 2 * 86400);
    free(sel);
    /* days [1, 2): two jobs, rebased to the first of them */
    struct philly_slice w = {.start_days = 1, .window_days = 1};
    assert_int_equal(philly_select(&t, &w, 16, &sel, &dropped), 2);
    assert_int_equal(dropped, 0);
    assert_int_equal(sel[0].gpus, 2);
    assert_int_equal(sel[0].submit_s, 0);
    assert_int_equal(sel[1].submit_s, 10);
    free(sel);
    /* the first 3 jobs from day 0.25: the dropped one counts toward the limit */
    struct philly_slice l = {.start_days = 0.25, .limit = 3};
    assert_int_equal(philly_select(&t, &l, 16, &sel, &dropped), 2);
    assert_int_equal(dropped, 1);
    assert_int_equal(sel[0].gpus, 2);
    assert_int_equal(sel[1].gpus, 4);
    free(sel);
    /* an empty window */
    struct philly_slice none = {.start_days = 10};
    assert_int_equal(philly_select(&t, &none, 16, &sel, &dropped), 0);
    assert_null(sel);
    philly_release(&t);
}

/* ---- shapes and quotas ---- */

static void test_pod_gpus(void **state)
{
    (void)state;
    static const uint32_t cases[][3] = {
        /* gpus, per node, pod GPUs */
        {1, 8, 1},  {2, 8, 2},  {4, 8, 4},   {8, 8, 8},  {12, 8, 6},   {16, 8, 8},
        {24, 8, 8}, {32, 8, 8}, {128, 8, 8}, {13, 8, 1}, {12, 16, 12}, {48, 16, 16},
        {8, 4, 4},  {6, 4, 3},  {1, 1, 1},   {64, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (philly_pod_gpus(cases[i][0], cases[i][1]) != cases[i][2])
            fail_msg("%u GPUs on %u-GPU nodes: pods of %u, want %u", cases[i][0], cases[i][1],
                     philly_pod_gpus(cases[i][0], cases[i][1]), cases[i][2]);
}

static void test_quota(void **state)
{
    (void)state;
    int64_t q[4];
    /* Equal GPU time, 10 GPUs: 3.33 each; the one left goes to team 0. */
    struct philly_job eq[] = {{.duration_s = 10, .gpus = 1, .team = 0},
                              {.duration_s = 5, .gpus = 2, .team = 1},
                              {.duration_s = 10, .gpus = 1, .team = 2}};
    philly_quota(eq, 3, 3, 10, q);
    assert_int_equal(q[0], 4);
    assert_int_equal(q[1], 3);
    assert_int_equal(q[2], 3);
    /* 5:3:2 of 7 GPUs: 3.5, 2.1, 1.4 -> 3, 2, 1, and the last to the largest
     * remainder (team 0); team 3 has no jobs and gets nothing. */
    struct philly_job w[] = {{.duration_s = 5, .gpus = 1, .team = 0},
                             {.duration_s = 3, .gpus = 1, .team = 1},
                             {.duration_s = 1, .gpus = 2, .team = 2}};
    philly_quota(w, 3, 4, 7, q);
    assert_int_equal(q[0], 4);
    assert_int_equal(q[1], 2);
    assert_int_equal(q[2], 1);
    assert_int_equal(q[3], 0);
    /* 1:1:8 of 16: 1.6, 1.6, 12.8 -> 1, 1, 12; the two left go to the largest
     * remainders: team 2 (0.8), then team 0 (0.6, the lower id of a tie). */
    struct philly_job s[] = {{.duration_s = 1, .gpus = 1, .team = 0},
                             {.duration_s = 1, .gpus = 1, .team = 1},
                             {.duration_s = 1, .gpus = 8, .team = 2}};
    philly_quota(s, 3, 3, 16, q);
    assert_int_equal(q[0], 2);
    assert_int_equal(q[1], 1);
    assert_int_equal(q[2], 13);
    /* no GPU time at all: an even split */
    struct philly_job z[] = {{.duration_s = 0, .gpus = 1, .team = 0}};
    philly_quota(z, 1, 3, 8, q);
    assert_int_equal(q[0] + q[1] + q[2], 8);
    assert_int_equal(q[0], 3);
    assert_int_equal(q[1], 3);
    assert_int_equal(q[2], 2);
}

static void test_policy_names(void **state)
{
    (void)state;
    struct err e = {0};
    for (int p = 0; p < PHILLY_NPOLICIES; p++) {
        enum philly_policy got;
        assert_int_equal(philly_policy_find(philly_policy_name(p), &got, &e), 0);
        assert_int_equal(got, p);
    }
    enum philly_policy got;
    assert_int_equal(philly_policy_find("lifo", &got, &e), -1);
    assert_non_null(strstr(e.msg, "'lifo'"));
    assert_non_null(strstr(e.msg, "backfill"));
}

/* ---- metrics ---- */

static void test_buckets(void **state)
{
    (void)state;
    static const uint32_t cases[][2] = {{1, 0},  {2, 1},  {4, 1},  {5, 2},  {8, 2},  {9, 3},
                                        {16, 3}, {17, 4}, {31, 4}, {32, 5}, {128, 5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(philly_bucket(cases[i][0]), cases[i][1]);
    assert_string_equal(philly_bucket_name(0), "1");
    assert_string_equal(philly_bucket_name(5), "32+");
}

static void test_dist(void **state)
{
    (void)state;
    struct philly_dist d;
    double a[] = {5, 1, 3, 2, 4};
    philly_dist_of(a, 5, &d);
    assert_int_equal(d.n, 5);
    assert_true(d.mean == 3);
    assert_true(d.p50 == 3); /* rank ceil(2.5) = 3 */
    assert_true(d.p99 == 5); /* rank ceil(4.95) = 5 */
    assert_true(d.max == 5);
    double h[100];
    for (int i = 0; i < 100; i++)
        h[i] = 100 - i;
    philly_dist_of(h, 100, &d);
    assert_true(d.p50 == 50);
    assert_true(d.p99 == 99);
    assert_true(d.mean == 50.5);
    double one = 7;
    philly_dist_of(&one, 1, &d);
    assert_true(d.p50 == 7 && d.p99 == 7 && d.mean == 7);
    philly_dist_of(NULL, 0, &d);
    assert_int_equal(d.n, 0);
    assert_true(d.mean == 0 && d.p99 == 0);
}

/* Five jobs on a 40-GPU cluster, two teams:
 *   j0 team 0, 1 GPU, submitted 0, ran [0, 10)
 *   j1 team 1, 8 GPUs, submitted 0, ran [10, 15)
 *   j2 team 0, 2 GPUs, submitted 2, ran [2, 5)
 *   j3 team 1, 32 GPUs, submitted 5, ran [6, 8), evicted, ran again [15, 25)
 *   j4 team 0, 4 GPUs, submitted 20, never admitted
 * Queueing delays 0, 10, 0, 1: mean 2.75, p50 0, p99 10. JCTs 10, 15, 3, 20:
 * mean 12, p50 10, p99 20. Makespan 25. GPU-seconds 10 + 40 + 6 + 64 + 320 = 440,
 * utilisation 440 / (40 x 25) = 0.44. */
static const struct philly_job hand_jobs[] = {
    {.submit_s = 0, .duration_s = 10, .gpus = 1, .team = 0},
    {.submit_s = 0, .duration_s = 5, .gpus = 8, .team = 1},
    {.submit_s = 2, .duration_s = 3, .gpus = 2, .team = 0},
    {.submit_s = 5, .duration_s = 10, .gpus = 32, .team = 1},
    {.submit_s = 20, .duration_s = 1, .gpus = 4, .team = 0},
};
#define S(x) ((int64_t)(x)*MTIME_S)

static void hand_run(struct philly_run *r, struct philly_outcome *out, struct philly_span *spans)
{
    memset(r, 0, sizeof *r);
    out[0] = (struct philly_outcome){S(0), S(10), 0, false};
    out[1] = (struct philly_outcome){S(10), S(15), 0, false};
    out[2] = (struct philly_outcome){S(2), S(5), 0, false};
    out[3] = (struct philly_outcome){S(6), S(25), 1, false};
    out[4] = (struct philly_outcome){-1, -1, 0, false};
    spans[0] = (struct philly_span){S(2), S(5), 2};
    spans[1] = (struct philly_span){S(6), S(8), 3};
    spans[2] = (struct philly_span){S(0), S(10), 0};
    spans[3] = (struct philly_span){S(10), S(15), 1};
    spans[4] = (struct philly_span){S(15), S(25), 3};
    r->njobs = 5;
    r->out = out;
    r->spans = spans;
    r->nspans = 5;
}

static void test_metrics_by_hand(void **state)
{
    (void)state;
    struct philly_run r;
    struct philly_outcome out[5];
    struct philly_span spans[5];
    hand_run(&r, out, spans);
    struct philly_metrics m;
    philly_metrics(hand_jobs, 5, &r, 40, &m);
    assert_int_equal(m.jobs, 5);
    assert_int_equal(m.completed, 4);
    assert_int_equal(m.never_admitted, 1);
    assert_int_equal(m.killed, 0);
    assert_int_equal(m.evictions, 1);
    assert_int_equal(m.queue.n, 4);
    assert_true(m.queue.mean == 2.75);
    assert_true(m.queue.p50 == 0);
    assert_true(m.queue.p99 == 10);
    assert_true(m.queue.max == 10);
    assert_true(m.jct.mean == 12);
    assert_true(m.jct.p50 == 10);
    assert_true(m.jct.p99 == 20);
    assert_true(m.makespan_s == 25);
    assert_true(m.gpu_seconds == 440);
    assert_true(fabs(m.gpu_utilization - 0.44) < 1e-12);
    /* per bucket: 1 GPU (j0), 2-4 (j2; j4 never admitted), 5-8 (j1), 32+ (j3) */
    assert_int_equal(m.queue_by[0].n, 1);
    assert_int_equal(m.queue_by[1].n, 1);
    assert_true(m.queue_by[2].mean == 10);
    assert_int_equal(m.queue_by[3].n, 0);
    assert_int_equal(m.queue_by[4].n, 0);
    assert_int_equal(m.queue_by[5].n, 1);
    assert_true(m.queue_by[5].mean == 1 && m.queue_by[5].p99 == 1);
    assert_true(m.jct_by[5].mean == 20);
}

static void test_shares_by_hand(void **state)
{
    (void)state;
    struct philly_run r;
    struct philly_outcome out[5];
    struct philly_span spans[5];
    hand_run(&r, out, spans);
    /* Five bins of 5 s. Team 0: j0 holds 1 GPU over bins 0-1, j2 2 GPUs for 3 s
     * of bin 0 (1.2). Team 1: j3 32 GPUs for 2 s of bin 1 (12.8), j1 8 GPUs over
     * bin 2, j3 32 over bins 3-4. */
    double sh[5 * 2];
    philly_shares(hand_jobs, &r, 2, S(25), 5, sh);
    static const double want[5][2] = {{2.2, 0}, {1, 12.8}, {0, 8}, {0, 32}, {0, 32}};
    for (int b = 0; b < 5; b++)
        for (int k = 0; k < 2; k++)
            if (fabs(sh[b * 2 + k] - want[b][k]) > 1e-9)
                fail_msg("bin %d team %d: %g, want %g", b, k, sh[b * 2 + k], want[b][k]);
    /* A horizon that cuts spans: only what falls inside counts. */
    double half[2 * 2];
    philly_shares(hand_jobs, &r, 2, S(10), 2, half);
    assert_true(fabs(half[0] - 2.2) < 1e-9 && fabs(half[3] - 12.8) < 1e-9);
}

static void test_count_later(void **state)
{
    (void)state;
    struct philly_run a, b;
    struct philly_outcome oa[5], ob[5];
    struct philly_span sa[5], sb[5];
    hand_run(&a, oa, sa);
    hand_run(&b, ob, sb);
    assert_int_equal(philly_count_later(hand_jobs, 5, &a, &b, 1), 0);
    oa[3].first_admit_ns = S(7); /* the 32-GPU job later in a */
    oa[1].first_admit_ns = S(11);
    assert_int_equal(philly_count_later(hand_jobs, 5, &a, &b, 32), 1);
    assert_int_equal(philly_count_later(hand_jobs, 5, &a, &b, 1), 2);
    assert_int_equal(philly_count_later(hand_jobs, 5, &b, &a, 1), 0);
}

/* ---- replays through the engine ---- */

/* One 8-GPU node, one queue, bounds equal to run times:
 *   A t=0 4 GPUs 100 s; B t=1 8 GPUs 50 s; C t=2 2 GPUs 10 s; D t=3 4 GPUs 200 s.
 * strict:     A 0; B waits for A (100); C and D wait behind B (150): ends
 *             100, 150, 160, 350.
 * besteffort: A 0, C 2 (ends 12), D 12 when C frees 4 GPUs, B only when D
 *             ends (212): B is starved by the later, smaller D.
 * backfill:   B holds a reservation from 100 (A's bound). C ends by 12 and
 *             backfills at 2; D would end at 212, past the reservation, so it
 *             waits; B 100, D 150. */
static const struct philly_job hol_jobs[] = {
    {.submit_s = 0, .duration_s = 100, .gpus = 4, .team = 0, .line = 2},
    {.submit_s = 1, .duration_s = 50, .gpus = 8, .team = 0, .line = 3},
    {.submit_s = 2, .duration_s = 10, .gpus = 2, .team = 0, .line = 4},
    {.submit_s = 3, .duration_s = 200, .gpus = 4, .team = 0, .line = 5},
};
static char *one_team[] = {"t"};

static void replay(const struct philly_job *jobs, size_t n, char **teams, uint32_t nteams,
                   const struct philly_config *cfg, enum philly_policy pol, struct philly_run *r)
{
    struct err e = {0};
    if (philly_run(jobs, n, teams, nteams, cfg, pol, r, &e) < 0)
        fail_msg("%s: %s", philly_policy_name(pol), e.msg);
}

static void expect_admits(const struct philly_run *r, const int64_t *admit_s, const int64_t *end_s,
                          size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r->out[i].first_admit_ns != S(admit_s[i]) || r->out[i].end_ns != S(end_s[i]))
            fail_msg("%s: job %zu admitted %.3f ended %.3f, want %lld and %lld",
                     philly_policy_name(r->policy), i, (double)r->out[i].first_admit_ns / 1e9,
                     (double)r->out[i].end_ns / 1e9, (long long)admit_s[i], (long long)end_s[i]);
}

static void test_replay_head_of_line(void **state)
{
    (void)state;
    struct philly_config cfg = {.gpus = 8, .gpus_per_node = 8, .overestimate = 1};
    struct philly_run r;
    static const int64_t strict_a[] = {0, 100, 150, 150}, strict_e[] = {100, 150, 160, 350};
    replay(hol_jobs, 4, one_team, 1, &cfg, PHILLY_STRICT, &r);
    expect_admits(&r, strict_a, strict_e, 4);
    struct philly_metrics m;
    philly_metrics(hol_jobs, 4, &r, 8, &m);
    assert_true(m.queue.mean == (0 + 99 + 148 + 147) / 4.0);
    assert_true(m.makespan_s == 350);
    /* 4x100 + 8x50 + 2x10 + 4x200 = 1620 GPU-seconds over 8 x 350 */
    assert_true(fabs(m.gpu_utilization - 1620.0 / 2800) < 1e-12);
    assert_int_equal(m.evictions, 0);
    philly_run_release(&r);

    static const int64_t be_a[] = {0, 212, 2, 12}, be_e[] = {100, 262, 12, 212};
    replay(hol_jobs, 4, one_team, 1, &cfg, PHILLY_BESTEFFORT, &r);
    expect_admits(&r, be_a, be_e, 4);
    philly_run_release(&r);

    /* With one queue fair sharing has nothing to share. */
    replay(hol_jobs, 4, one_team, 1, &cfg, PHILLY_FAIRSHARE, &r);
    expect_admits(&r, be_a, be_e, 4);
    philly_run_release(&r);

    static const int64_t bf_a[] = {0, 100, 2, 150}, bf_e[] = {100, 150, 12, 350};
    replay(hol_jobs, 4, one_team, 1, &cfg, PHILLY_BACKFILL, &r);
    expect_admits(&r, bf_a, bf_e, 4);
    philly_run_release(&r);
}

/* Backfill trusts the bound, not the run time. A t=0 4 GPUs 100 s; B t=1 8 GPUs
 * 50 s; C t=95 2 GPUs 10 s.
 * Bounds = run times: B reserves the node from 100 (A's bound); C would run
 *   to 105, so it waits: B 100-150, C 150-160.
 * Bounds = 2 x run times: B's reservation starts at A's bound, 200; C's bound
 *   ends at 115, before it, so C backfills at 95. A really ends at 100, and B,
 *   which needs the whole node, waits for C until 105: a pessimistic bound on
 *   one job lets a backfilled job delay the reserved one. */
static const struct philly_job over_jobs[] = {
    {.submit_s = 0, .duration_s = 100, .gpus = 4, .team = 0, .line = 2},
    {.submit_s = 1, .duration_s = 50, .gpus = 8, .team = 0, .line = 3},
    {.submit_s = 95, .duration_s = 10, .gpus = 2, .team = 0, .line = 4},
};

static void test_replay_overestimate(void **state)
{
    (void)state;
    struct philly_config cfg = {.gpus = 8, .gpus_per_node = 8, .overestimate = 1};
    struct philly_run r;
    static const int64_t a1[] = {0, 100, 150}, e1[] = {100, 150, 160};
    replay(over_jobs, 3, one_team, 1, &cfg, PHILLY_BACKFILL, &r);
    expect_admits(&r, a1, e1, 3);
    philly_run_release(&r);
    cfg.overestimate = 2;
    static const int64_t a2[] = {0, 105, 95}, e2[] = {100, 155, 105};
    replay(over_jobs, 3, one_team, 1, &cfg, PHILLY_BACKFILL, &r);
    expect_admits(&r, a2, e2, 3);
    philly_run_release(&r);
}

/* Two teams of equal GPU time on one 8-GPU node: 4 GPUs of nominal quota each.
 * Team a's 8-GPU job borrows b's half at 0; b's 4-GPU job at 10 reclaims it
 * (reclaimWithinCohort Any): a's job is evicted at 10, b's runs 10-210, a's
 * is admitted again at 210 and, resuming, ends at 300. Restarting, it would
 * need until 310, but its bound (100 s, counted over both admissions as
 * Kueue does) runs out at 300: it is deactivated there. */
static const struct philly_job reclaim_jobs[] = {
    {.submit_s = 0, .duration_s = 100, .gpus = 8, .team = 0, .line = 2},
    {.submit_s = 10, .duration_s = 200, .gpus = 4, .team = 1, .line = 3},
};
static char *two_teams[] = {"a", "b"};

static void test_replay_reclaim(void **state)
{
    (void)state;
    struct philly_config cfg = {.gpus = 8,
                                .gpus_per_node = 8,
                                .overestimate = 1,
                                .queues = PHILLY_Q_PER_CLUSTER,
                                .reclaim = ADM_P_ANY};
    struct philly_run r;
    replay(reclaim_jobs, 2, two_teams, 2, &cfg, PHILLY_BESTEFFORT, &r);
    assert_int_equal(r.nominal[0], 4);
    assert_int_equal(r.nominal[1], 4);
    static const int64_t ad[] = {0, 10}, en[] = {300, 210};
    expect_admits(&r, ad, en, 2);
    assert_int_equal(r.out[0].evictions, 1);
    assert_false(r.out[0].killed);
    struct philly_metrics m;
    philly_metrics(reclaim_jobs, 2, &r, 8, &m);
    assert_true(m.gpu_seconds == 8 * 100 + 4 * 200);
    assert_int_equal(m.evictions, 1);
    philly_run_release(&r);

    cfg.rerun = PHILLY_RERUN_RESTART;
    replay(reclaim_jobs, 2, two_teams, 2, &cfg, PHILLY_BESTEFFORT, &r);
    assert_int_equal(r.out[0].first_admit_ns, 0);
    assert_int_equal(r.out[0].end_ns, -1);
    assert_true(r.out[0].killed);
    assert_int_equal(r.out[0].evictions, 1);
    philly_metrics(reclaim_jobs, 2, &r, 8, &m);
    assert_int_equal(m.completed, 1);
    assert_int_equal(m.killed, 1);
    assert_true(m.gpu_seconds == 8 * 10 + 8 * 90 + 4 * 200);
    philly_run_release(&r);
    cfg.rerun = PHILLY_RERUN_RESUME;

    cfg.reclaim = ADM_P_NEVER; /* b waits for a's job to end */
    replay(reclaim_jobs, 2, two_teams, 2, &cfg, PHILLY_BESTEFFORT, &r);
    static const int64_t ad2[] = {0, 100}, en2[] = {100, 300};
    expect_admits(&r, ad2, en2, 2);
    philly_run_release(&r);
}

static void test_replay_deterministic(void **state)
{
    (void)state;
    struct philly_trace t;
    struct err e = {0};
    if (philly_load(&t, trace_path(), &e) < 0)
        fail_msg("%s", e.msg);
    struct philly_slice s = {.start_days = 28.5, .window_days = 0.6};
    struct philly_job *jobs;
    size_t dropped;
    size_t n = philly_select(&t, &s, 256, &jobs, &dropped);
    assert_true(n > 100);
    struct philly_config cfg = {.gpus = 256,
                                .gpus_per_node = 8,
                                .overestimate = 1.5,
                                .queues = PHILLY_Q_PER_CLUSTER,
                                .reclaim = ADM_P_ANY};
    for (int p = 0; p < PHILLY_NPOLICIES; p++) {
        struct philly_run a, b;
        replay(jobs, n, t.teams, t.nteams, &cfg, p, &a);
        replay(jobs, n, t.teams, t.nteams, &cfg, p, &b);
        assert_int_equal(a.nspans, b.nspans);
        assert_memory_equal(a.out, b.out, n * sizeof *a.out);
        assert_memory_equal(a.spans, b.spans, a.nspans * sizeof *a.spans);
        int64_t sum = 0;
        for (uint32_t k = 0; k < t.nteams; k++)
            sum += a.nominal[k];
        assert_int_equal(sum, 256);
        for (size_t i = 0; i < n; i++)
            assert_true(a.out[i].end_ns >= 0 && !a.out[i].killed);
        philly_run_release(&a);
        philly_run_release(&b);
    }
    free(jobs);
    philly_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_load_small),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_real_trace),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_pod_gpus),
        cmocka_unit_test(test_quota),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_dist),
        cmocka_unit_test(test_metrics_by_hand),
        cmocka_unit_test(test_shares_by_hand),
        cmocka_unit_test(test_count_later),
        cmocka_unit_test(test_replay_head_of_line),
        cmocka_unit_test(test_replay_overestimate),
        cmocka_unit_test(test_replay_reclaim),
        cmocka_unit_test(test_replay_deterministic),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
