/* muster bench e2e: Jobs created through the API until their pods are Running, on
 * simulated nodes: the whole path (API, Job controller, Workload, admission with
 * placement, pod creation, binding, the agent's status) end to end. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/jscan.h"
#include "base/map.h"
#include "base/mtime.h"
#include "cli/benchproc.h"
#include "cli/cli.h"
#include "sim/httpload.h"

struct e2e_opts {
    unsigned nodes, pods, per_job, gpus, clients, timeout_s;
    unsigned rate; /* pods/s offered; 0: every Job as fast as the clients go */
    const char *store;
    bool json, keep;
    const char *server_args[16];
    int nserver_args;
};

struct e2e {
    const struct e2e_opts *o;
    struct httpload *h;
    unsigned njobs, next_job, jobs_done, job_errors;
    int64_t *job_sent; /* per job index, ns */
    struct map running; /* pod name -> 1 */
    struct map created; /* pod name -> struct seen: when its ADDED event came */
    int64_t *start_lat; /* per Running pod, from its Job's create (or when it was due) */
    int64_t *pod_lat;   /* per Running pod seen created, from then (Kubernetes' SLO) */
    size_t npod_lat;
    int64_t *run_at;    /* when each pod turned Running, in order */
    size_t nrunning;
    int64_t first_sent, first_running, last_running;
    int64_t t0;                    /* --rate: when Job 0 is due */
    struct httpload_conn **idle;   /* --rate: connections waiting for a Job to be due */
    size_t nidle;
    char *line; /* the watch stream's partial line */
    size_t line_len, line_cap;
    bool watch_ok, watch_closed;
    char first_error[256];
    /* one-shot requests */
    bool got;
    int status;
    char *body;
};

static void note(const struct e2e_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const struct e2e_opts *o, const char *fmt, ...)
{
    if (getenv("MUSTER_NO_PROGRESS") || (o->json && !isatty(2)))
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("bench e2e: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void err_once(struct e2e *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_once(struct e2e *r, const char *fmt, ...)
{
    if (r->first_error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->first_error, sizeof r->first_error, fmt, ap);
    va_end(ap);
}

/* ---- the watch of pods ---- */

/* One event of the watch of pods. The fields are found by a scan (base/jscan),
 * not a parse: the measuring client shares the machine with what it measures. */
struct seen {
    int64_t at;
    char name[];
};

static void pod_event(struct e2e *r, const char *line, size_t len)
{
    static const char *const kphase[] = {"object", "status", "phase"};
    static const char *const kname[] = {"object", "metadata", "name"};
    static const char *const kjob[] = {"object", "metadata", "labels",
                                       "batch.kubernetes.io/job-name"};
    static const char running[] = "\"Running\"", added[] = "{\"type\":\"ADDED\",";
    char phase[32], name[256], job[256];
    size_t vs, ve;
    /* a pod's creation, as Kubernetes' pod startup SLO counts from it */
    if (len > sizeof added && !memcmp(line, added, sizeof added - 1) &&
        jscan_path(line, len, kname, 3, &vs, &ve) &&
        jscan_string(line, vs, ve, name, sizeof name) &&
        !map_get(&r->created, name, strlen(name))) {
        size_t nl = strlen(name);
        struct seen *sn = xmalloc(sizeof *sn + nl + 1);
        sn->at = mtime_now_ns();
        memcpy(sn->name, name, nl + 1);
        bool found;
        map_put(&r->created, sn->name, nl, &found)->ptr = sn;
    }
    /* most events are not of a pod turning Running: those are told apart by a
     * search for the word before any scan */
    if (!memmem(line, len, running, sizeof running - 1) ||
        !jscan_path(line, len, kphase, 3, &vs, &ve) ||
        !jscan_string(line, vs, ve, phase, sizeof phase) || strcmp(phase, "Running") != 0 ||
        !jscan_path(line, len, kname, 3, &vs, &ve) ||
        !jscan_string(line, vs, ve, name, sizeof name) ||
        !jscan_path(line, len, kjob, 4, &vs, &ve) || !jscan_string(line, vs, ve, job, sizeof job) ||
        map_get(&r->running, name, strlen(name)))
        return;
    char *k = xstrdup(name);
    bool found;
    map_put(&r->running, k, strlen(k), &found)->ptr = k;
    unsigned idx = (unsigned)strtoul(job + strlen("bench-"), NULL, 10);
    int64_t now = mtime_now_ns();
    if (idx < r->njobs && r->job_sent[idx] && r->nrunning < r->o->pods) {
        r->run_at[r->nrunning] = now;
        r->start_lat[r->nrunning++] = now - r->job_sent[idx];
        union map_val *cv = map_get(&r->created, name, strlen(name));
        if (cv)
            r->pod_lat[r->npod_lat++] = now - ((struct seen *)cv->ptr)->at;
        if (!r->first_running)
            r->first_running = now;
        r->last_running = now;
    }
}

static void watch_data(void *ctx, struct httpload_conn *c, const char *data, size_t len)
{
    struct e2e *r = ctx;
    (void)c;
    /* Whole lines are read where they lie; only a line split between reads is
     * copied (the bench's own CPU shares the machine with what it measures). */
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t part = nl ? (size_t)(nl - data) : len;
        if (nl && !r->line_len) {
            pod_event(r, data, part);
        } else {
            if (r->line_len + part + 1 > r->line_cap) {
                while (r->line_len + part + 1 > r->line_cap)
                    r->line_cap = r->line_cap ? 2 * r->line_cap : 65536;
                r->line = xrealloc(r->line, r->line_cap);
            }
            memcpy(r->line + r->line_len, data, part);
            r->line_len += part;
            if (nl) {
                pod_event(r, r->line, r->line_len);
                r->line_len = 0;
            }
        }
        if (!nl)
            break;
        data = nl + 1;
        len -= part + 1;
    }
}

static void watch_start(void *ctx, struct httpload_conn *c, int status)
{
    struct e2e *r = ctx;
    (void)c;
    r->watch_ok = status == 200;
    if (!r->watch_ok)
        err_once(r, "watch of pods: HTTP %d", status);
}

/* ---- requests ---- */

static struct httpload_conn *g_watch;

static void job_body(struct e2e *r, unsigned i, char *buf, size_t size)
{
    snprintf(buf, size,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"bench-%u\","
             "\"namespace\":\"bench\",\"labels\":{\"kueue.x-k8s.io/queue-name\":\"q\"}},"
             "\"spec\":{\"parallelism\":%u,\"completions\":%u,\"completionMode\":\"Indexed\","
             "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":"
             "\"main\",\"image\":\"busybox\",\"command\":[\"sleep\",\"3600\"],\"resources\":{"
             "\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\",\"nvidia.com/gpu\":\"%u\"}}}]}}}}",
             i, r->o->per_job, r->o->per_job, r->o->gpus);
}

/* When Job i is due under --rate (ns). */
static int64_t job_due(const struct e2e *r, unsigned i)
{
    return r->t0 + (int64_t)((double)i * r->o->per_job * 1e9 / r->o->rate);
}

static void job_send(struct e2e *r, struct httpload_conn *c)
{
    if (r->next_job >= r->njobs)
        return;
    if (r->o->rate && mtime_now_ns() < job_due(r, r->next_job)) {
        r->idle[r->nidle++] = c; /* sent from the main loop when due */
        return;
    }
    unsigned i = r->next_job++;
    char body[2048];
    job_body(r, i, body, sizeof body);
    /* Under --rate a pod's latency counts from when its Job was due, not sent:
     * a client held up by a slow server does not hide the wait. */
    r->job_sent[i] = r->o->rate ? job_due(r, i) : mtime_now_ns();
    if (!r->first_sent)
        r->first_sent = r->job_sent[i];
    httpload_send(c, "POST", "/apis/batch/v1/namespaces/bench/jobs", "application/json", body,
                  strlen(body), false);
}

static void on_resp(void *ctx, struct httpload_conn *c, int status, const char *body, size_t len,
                    int64_t lat)
{
    struct e2e *r = ctx;
    (void)lat;
    if (httpload_conn_id(c) == 0) { /* one-shot */
        r->got = true;
        r->status = status;
        free(r->body);
        r->body = xstrndup(body, len);
        return;
    }
    r->jobs_done++;
    if (status != 201) {
        r->job_errors++;
        err_once(r, "create Job: HTTP %d %.200s", status, body);
    }
    job_send(r, c);
}

static void on_close(void *ctx, struct httpload_conn *c, const char *msg)
{
    struct e2e *r = ctx;
    if (c == g_watch)
        r->watch_closed = true;
    err_once(r, "connection closed: %s", msg);
}

/* Sends one request on c and waits for its answer (status; body in r->body). */
static int once(struct e2e *r, struct httpload_conn *c, const char *method, const char *path,
                const char *body)
{
    r->got = false;
    if (httpload_send(c, method, path, body ? "application/json" : NULL, body,
                      body ? strlen(body) : 0, false))
        return -1;
    struct err e;
    int64_t deadline = mtime_now_ns() + 30 * 1000000000LL;
    while (!r->got && mtime_now_ns() < deadline)
        if (httpload_poll(r->h, 100, &e) < 0)
            return -1;
    return r->got ? r->status : -1;
}

static int setup(struct e2e *r, struct httpload_conn *c)
{
    const struct e2e_opts *o = r->o;
    char cq[2048];
    snprintf(cq, sizeof cq,
             "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ClusterQueue\",\"metadata\":"
             "{\"name\":\"bench\"},\"spec\":{\"namespaceSelector\":{},\"resourceGroups\":[{"
             "\"coveredResources\":[\"cpu\",\"memory\",\"nvidia.com/gpu\"],\"flavors\":[{\"name\":"
             "\"bench\",\"resources\":[{\"name\":\"cpu\",\"nominalQuota\":%u},{\"name\":\"memory\","
             "\"nominalQuota\":\"%uGi\"},{\"name\":\"nvidia.com/gpu\",\"nominalQuota\":%u}]}]}]}}",
             o->nodes * 64, o->nodes * 512, o->nodes * 8);
    struct {
        const char *path, *body;
    } objs[] = {
        {"/api/v1/namespaces",
         "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}"},
        {"/apis/kueue.x-k8s.io/v1beta2/resourceflavors",
         "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ResourceFlavor\",\"metadata\":"
         "{\"name\":\"bench\"}}"},
        {"/apis/kueue.x-k8s.io/v1beta2/clusterqueues", cq},
        {"/apis/kueue.x-k8s.io/v1beta2/namespaces/bench/localqueues",
         "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"LocalQueue\",\"metadata\":"
         "{\"name\":\"q\",\"namespace\":\"bench\"},\"spec\":{\"clusterQueue\":\"bench\"}}"},
    };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
        int st = once(r, c, "POST", objs[i].path, objs[i].body);
        if (st != 201 && st != 409) {
            fprintf(stderr, "muster bench e2e: POST %s: %d %.300s\n", objs[i].path, st,
                    r->body ? r->body : "");
            return -1;
        }
    }
    return 0;
}

/* Waits until the server lists n Nodes. Returns the list's resourceVersion
 * through rv, or -1. */
static int wait_nodes(struct e2e *r, struct httpload_conn *c, unsigned n, const struct bench_child *agent)
{
    int64_t deadline = mtime_now_ns() + (int64_t)r->o->timeout_s * 1000000000LL;
    while (mtime_now_ns() < deadline) {
        if (once(r, c, "GET", "/api/v1/nodes", NULL) == 200) {
            json_t *l = json_loads(r->body, 0, NULL);
            size_t got = json_array_size(json_object_get(l, "items"));
            json_decref(l);
            if (got >= n)
                return 0;
        }
        if (agent->pid <= 0)
            return -1;
        usleep(200000);
    }
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: muster bench e2e [--nodes N] [--pods N] [--pods-per-job N] [--gpus N]\n"
            "                        [--clients N] [--rate PODS_PER_S] [--store sqlite|memory]\n"
            "                        [--timeout S] [--server-arg ARG]... [--json] [--keep]\n\n"
            "Starts a muster server (this binary, --store, default sqlite) and one simulated\n"
            "agent process serving --nodes nodes of 8 GPUs (default 1000), then creates Jobs\n"
            "of --pods-per-job pods (default 8) with --gpus GPUs each (default 1) through the\n"
            "API from --clients connections (default 16) until --pods pods (default 8000) were\n"
            "created, and watches the pods. pods/s = pods / (last pod Running - first Job\n"
            "sent); a pod's start latency = its Running event - its Job's create sent\n"
            "(queueing, admission and the Job controller included). The pod startup latency\n"
            "(p50/p99_pod_start_ms) counts from the pod's creation (its ADDED event) to its\n"
            "Running event, as Kubernetes' pod startup SLO does.\n\n"
            "--rate offers the Jobs at a steady PODS_PER_S instead of all at once (Job i is\n"
            "due i x pods-per-job / PODS_PER_S seconds after the first): the latency at that\n"
            "load, counted from when each Job was due, so that a client held up by a slow\n"
            "server does not hide the wait. running_per_sec is the rate at which pods turned\n"
            "Running, from the first to the last; steady_pods_per_sec the rate over the middle\n"
            "half of them (no ramp, no tail): the offered rate when the system keeps up with\n"
            "it, what the system can do when it does not.\n\n"
            "The goals (issue 5: >= 5,000 pods/s, p99 < 1 s) are judged on pods/s (offered at\n"
            "a rate: keeping up with at least 5,000), and on each latency. Sent at once, a\n"
            "burst's p99 from its Jobs' creates is about its own length (pods / pods/s).\n");
}

static int parse_u(const char *flag, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long x = v ? strtoul(v, &end, 10) : 0;
    if (!v || errno || *end || x < lo || x > hi) {
        fprintf(stderr, "muster bench e2e: %s wants a number in %u..%u\n", flag, lo, hi);
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

int cli_bench_e2e(int argc, char **argv)
{
    struct e2e_opts o = {1000, 8000, 8, 1, 16, 300, 0, "sqlite", false, false, {0}, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--keep")) {
            o.keep = true;
        } else if (!strcmp(a, "--nodes")) {
            rc = parse_u(a, v, 1, 100000, &o.nodes), i++;
        } else if (!strcmp(a, "--pods")) {
            rc = parse_u(a, v, 1, 10000000, &o.pods), i++;
        } else if (!strcmp(a, "--pods-per-job")) {
            rc = parse_u(a, v, 1, 10000, &o.per_job), i++;
        } else if (!strcmp(a, "--gpus")) {
            rc = parse_u(a, v, 0, 8, &o.gpus), i++;
        } else if (!strcmp(a, "--clients")) {
            rc = parse_u(a, v, 1, 512, &o.clients), i++;
        } else if (!strcmp(a, "--rate")) {
            rc = parse_u(a, v, 0, 10000000, &o.rate), i++;
        } else if (!strcmp(a, "--timeout")) {
            rc = parse_u(a, v, 1, 86400, &o.timeout_s), i++;
        } else if (!strcmp(a, "--store") && v) {
            o.store = v;
            i++;
        } else if (!strcmp(a, "--server-arg") && v && o.nserver_args < 15) {
            o.server_args[o.nserver_args++] = v;
            i++;
        } else {
            fprintf(stderr, "muster bench e2e: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (rc)
            return 2;
    }
    if ((uint64_t)o.pods * o.gpus > (uint64_t)o.nodes * 8) {
        fprintf(stderr, "muster bench e2e: %u pods of %u GPUs do not fit %u nodes of 8 GPUs\n",
                o.pods, o.gpus, o.nodes);
        return 2;
    }
    struct e2e r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.njobs = (o.pods + o.per_job - 1) / o.per_job;
    o.pods = r.njobs * o.per_job;
    r.job_sent = xcalloc(r.njobs, sizeof *r.job_sent);
    r.start_lat = xcalloc(o.pods, sizeof *r.start_lat);
    r.pod_lat = xcalloc(o.pods, sizeof *r.pod_lat);
    r.run_at = xcalloc(o.pods, sizeof *r.run_at);
    map_init(&r.running, MAP_KEY_STR);
    map_init(&r.created, MAP_KEY_STR);
    char dir[512];
    if (bench_tmpdir("e2e", dir, sizeof dir))
        return 1;
    int rc = 1;
    struct bench_child server = {0}, agent = {0};
    const char *sargs[20] = {"--store", o.store};
    for (int i = 0; i < o.nserver_args; i++)
        sargs[2 + i] = o.server_args[i];
    if (bench_server_start(dir, sargs, &server))
        goto out;
    char url[64], count[16], adir[600], alog[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", server.port);
    snprintf(count, sizeof count, "%u", o.nodes);
    snprintf(adir, sizeof adir, "%s/agent", dir);
    snprintf(alog, sizeof alog, "%s/agent.log", dir);
    mkdir(adir, 0700);
    struct httpload_cbs cbs = {&r, on_resp, watch_start, watch_data, on_close};
    r.h = httpload_create("127.0.0.1", server.port, &cbs);
    struct err e;
    struct httpload_conn *c0 = httpload_connect(r.h, NULL, 0, &e);
    if (!c0 || setup(&r, c0))
        goto out;
    note(&o, "server on %s (store %s); starting %u simulated nodes", url, o.store, o.nodes);
    const char *aargv[] = {"agent",  "--server", url,   "--name",  "sim",  "--count",
                           count,    "--simulate", "--gpus", "8xH100-80GB", "--data-dir", adir,
                           NULL};
    if (bench_spawn(aargv, alog, &agent))
        goto out;
    if (wait_nodes(&r, c0, o.nodes, &agent)) {
        fprintf(stderr, "muster bench e2e: the agent did not register %u nodes\n", o.nodes);
        bench_child_log(&agent, "agent");
        goto out;
    }
    note(&o, "%u nodes registered; creating %u Jobs of %u pods", o.nodes, r.njobs, o.per_job);
    /* The watch of pods, from now. */
    g_watch = httpload_connect(r.h, NULL, 1, &e);
    if (!g_watch || httpload_send(g_watch, "GET", "/api/v1/pods?watch=true", NULL, NULL, 0, true))
        goto out;
    int64_t wdl = mtime_now_ns() + 10 * 1000000000LL;
    while (!r.watch_ok && !r.first_error[0] && mtime_now_ns() < wdl)
        httpload_poll(r.h, 50, &e);
    if (!r.watch_ok) {
        fprintf(stderr, "muster bench e2e: the watch of pods did not start: %s\n", r.first_error);
        goto out;
    }
    r.idle = xcalloc(o.clients, sizeof *r.idle);
    r.t0 = mtime_now_ns();
    for (unsigned i = 0; i < o.clients; i++) {
        struct httpload_conn *c = httpload_connect(r.h, NULL, 2 + i, &e);
        if (!c)
            goto out;
        job_send(&r, c);
    }
    int64_t deadline = mtime_now_ns() + (int64_t)o.timeout_s * 1000000000LL;
    int64_t last_note = mtime_now_ns();
    while (r.nrunning < o.pods && mtime_now_ns() < deadline && !r.watch_closed) {
        int wait_ms = 100;
        if (o.rate && r.nidle && r.next_job < r.njobs) {
            int64_t until = job_due(&r, r.next_job) - mtime_now_ns();
            wait_ms = until <= 0 ? 0 : (int)(until / 1000000) + 1;
            if (wait_ms > 100)
                wait_ms = 100;
        }
        if (httpload_poll(r.h, wait_ms, &e) < 0)
            break;
        while (r.nidle && r.next_job < r.njobs && mtime_now_ns() >= job_due(&r, r.next_job))
            job_send(&r, r.idle[--r.nidle]);
        if (mtime_now_ns() - last_note > 2000000000LL) {
            last_note = mtime_now_ns();
            note(&o, "%u/%u Jobs created, %zu/%u pods Running", r.jobs_done, r.njobs,
                 r.nrunning, o.pods);
        }
    }
    double secs = r.last_running > r.first_sent ? (double)(r.last_running - r.first_sent) / 1e9 : 0;
    size_t n = r.nrunning;
    double pps = secs > 0 ? (double)n / secs : 0;
    /* the rate at which pods turned Running, from the first to the last */
    double rsecs = (double)(r.last_running - r.first_running) / 1e9;
    double rps = n > 1 && rsecs > 0 ? (double)(n - 1) / rsecs : 0;
    /* the rate over the middle half of the pods (from the one at a quarter to
     * the one at three quarters): neither the ramp nor the tail, so at a
     * steady offered rate it is that rate when the system keeps up, and what
     * it can do when it does not */
    double steady = 0;
    if (n >= 8) {
        size_t a = n / 4, b = 3 * n / 4;
        double ssecs = (double)(r.run_at[b] - r.run_at[a]) / 1e9;
        steady = ssecs > 0 ? (double)(b - a) / ssecs : 0;
    }
    double p50 = bench_quantile_ms(r.start_lat, n, 0.50);
    double p99 = bench_quantile_ms(r.start_lat, n, 0.99);
    double pmax = n ? (double)r.start_lat[n - 1] / 1e6 : 0;
    double pmin = n ? (double)r.start_lat[0] / 1e6 : 0;
    double pod50 = bench_quantile_ms(r.pod_lat, r.npod_lat, 0.50);
    double pod99 = bench_quantile_ms(r.pod_lat, r.npod_lat, 0.99);
    double rss = bench_child_status(&server, "VmHWM");
    bool complete = n == o.pods;
    if (o.json) {
        printf("{\"store\":\"%s\",\"nodes\":%u,\"jobs\":%u,\"pods\":%u,\"pods_running\":%zu,"
               "\"offered_pods_per_sec\":%u,\"seconds\":%.3f,\"pods_per_sec\":%.1f,"
               "\"running_per_sec\":%.1f,\"steady_pods_per_sec\":%.1f,\"p50_start_ms\":%.2f,"
               "\"p99_start_ms\":%.2f,\"min_start_ms\":%.2f,\"max_start_ms\":%.2f,"
               "\"p50_pod_start_ms\":%.2f,\"p99_pod_start_ms\":%.2f,\"job_create_errors\":%u,"
               "\"server_max_rss_mib\":%.1f,\"complete\":%s}\n",
               o.store, o.nodes, r.njobs, o.pods, n, o.rate, secs, pps, rps, steady, p50, p99,
               pmin, pmax, pod50, pod99,
               r.job_errors, rss, complete ? "true" : "false");
    } else {
        printf("muster bench e2e: %u nodes (simulated), %u Jobs x %u pods, store %s\n", o.nodes,
               r.njobs, o.per_job, o.store);
        if (o.rate)
            printf("  offered           %u pods/s (Jobs sent on schedule; latency from when due)\n",
                   o.rate);
        printf("  pods Running      %zu of %u in %.2f s\n", n, o.pods, secs);
        /* Offered at a rate, pods/s counts the ramp and cannot pass the rate:
         * what shows the goal then is keeping up with at least 5,000. */
        const char *tput = pps >= 5000 ? "met" : "missed";
        if (o.rate)
            tput = o.rate < 5000                ? "not judged: offered less"
                   : steady >= 0.97 * o.rate    ? "met: keeps up with the offered rate"
                   : steady >= 5000             ? "met: steady above it"
                                                : "missed";
        printf("  pods/s            %.0f (goal >= 5000: %s); first to last Running %.0f/s\n", pps,
               tput, rps);
        printf("  steady            %.0f pods/s over the middle half of the pods%s\n", steady,
               !o.rate               ? ""
               : steady >= 0.97 * o.rate ? " (keeps up with the offered rate)"
                                         : " (below the offered rate: at capacity)");
        /* Sent at once, the pods' later Jobs wait for the first ones: from the
         * Jobs' creates the p99 is about the burst's own length, pods / pods/s,
         * which says so when it is the reason. */
        printf("  start latency     p50 %.1f ms, p99 %.1f ms from the Jobs' creates (goal < 1000: "
               "%s), max %.1f ms\n",
               p50, p99, p99 < 1000 ? "met" : "missed", pmax);
        if (!o.rate && p99 >= 1000 && pps > 0)
            printf("                    (sent at once, %u pods take %.2f s at %.0f pods/s: a "
                   "burst's p99 from its\n                    Jobs' creates is about its length; "
                   "--rate offers them steadily)\n",
                   o.pods, o.pods / pps, pps);
        printf("  pod startup       p50 %.1f ms, p99 %.1f ms from each pod's creation (goal < 1000: "
               "%s)\n                    (as Kubernetes' pod startup SLO counts)\n",
               pod50, pod99, pod99 < 1000 ? "met" : "missed");
        printf("  server peak RSS   %.1f MiB\n", rss);
        if (r.first_error[0])
            printf("  first error       %s\n", r.first_error);
    }
    rc = complete ? 0 : 1;
    if (!complete)
        fprintf(stderr, "muster bench e2e: only %zu of %u pods reached Running (%s)\n", n, o.pods,
                r.first_error[0] ? r.first_error : "timeout");
out:
    httpload_destroy(r.h);
    bench_child_stop(&agent);
    bench_child_stop(&server);
    if (o.keep)
        fprintf(stderr, "muster bench e2e: kept %s\n", dir);
    else
        bench_rmtree(dir);
    size_t it = 0;
    struct map_entry *me;
    while ((me = map_next(&r.running, &it)))
        free(me->val.ptr);
    map_release(&r.running);
    it = 0;
    while ((me = map_next(&r.created, &it)))
        free(me->val.ptr);
    map_release(&r.created);
    free(r.pod_lat);
    free(r.job_sent);
    free(r.idle);
    free(r.start_lat);
    free(r.run_at);
    free(r.line);
    free(r.body);
    return rc;
}
