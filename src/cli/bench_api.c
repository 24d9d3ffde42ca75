/*
 * muster bench api: the API server under load, driven over 127.0.0.1 by the
 * real server binary (this one, `muster server`, as a child process on a fresh
 * data directory) and an in-process client (sim/httpload.h, one epoll loop).
 *
 * Phase 1 creates --nodes Nodes from --clients keep-alive connections, each
 * with one request in flight (a closed loop), and records every request's
 * latency. Phase 2 lists them all (GET /api/v1/nodes, no limit; --list-runs
 * times, median reported) and by pages of --page, and checks the item count
 * with a JSON parse that is not timed. Phase 3 opens --watchers watches from
 * the list's resourceVersion, waits until every one has its response headers
 * (the server registers the watch before it answers), then sends --updates
 * merge patches to Nodes from a few connections and counts the events each
 * watcher receives: every watcher should see every update.
 *
 * The server caps connections per client address (512); the watchers are
 * spread over a few loopback source addresses (127.0.1.x, 256 each), as many
 * real watchers would come from many hosts. Server memory is VmHWM of
 * /proc/<pid>/status, read before the server is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "cli/cli.h"
#include "sim/httpload.h"

#define SERVER_START_NS ((int64_t)20 * 1000000000)
#define WATCH_IDLE_NS   ((int64_t)15 * 1000000000)
#define UPDATE_CONNS    8u
#define MAX_SERVER_ARGS 16

struct api_opts {
    unsigned nodes, clients, watchers, updates, list_runs, page;
    const char *store;
    const char *server_args[MAX_SERVER_ARGS];
    int n_server_args;
    bool json, keep;
};

struct api_result {
    unsigned creates, create_errors, list_count, list_pages, paged_count;
    double creates_per_sec, create_seconds, create_p50_ms, create_p99_ms, create_max_ms;
    double list_ms, list_min_ms, list_mib, paged_ms;
    unsigned watchers_ok, updates_ok, update_errors;
    uint64_t events_expected, events_received, events_missed;
    double watch_seconds, events_per_sec, update_p50_ms, update_p99_ms;
    double rss_created_mib, rss_listed_mib, rss_watching_mib, max_rss_mib;
    unsigned threads_watching;
    char first_error[256];
};

/* ---- the server child ---- */

struct server {
    pid_t pid;
    int port;
    char dir[512];
};

static void note(const struct api_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct api_opts *o, const char *fmt, ...)
{
    if (getenv("MUSTER_NO_PROGRESS"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("bench api: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void print_log_tail(const struct server *s)
{
    char path[600];
    snprintf(path, sizeof path, "%s/server.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  server: %s", line);
    fclose(f);
}

static int server_start(const struct api_opts *o, struct server *s)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = P_tmpdir;
    snprintf(s->dir, sizeof s->dir, "%s/muster-bench-api.XXXXXX", tmp);
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "muster bench api: mkdtemp %s: %s\n", s->dir, strerror(errno));
        return -1;
    }
    char data[600], portf[600], logf[600];
    snprintf(data, sizeof data, "%s/data", s->dir);
    snprintf(portf, sizeof portf, "%s/port", s->dir);
    snprintf(logf, sizeof logf, "%s/server.log", s->dir);
    if (mkdir(data, 0700) != 0) {
        fprintf(stderr, "muster bench api: mkdir %s: %s\n", data, strerror(errno));
        return -1;
    }
    const char *argv[32] = {"muster", "server", "--data-dir", data, "--listen", "127.0.0.1:0",
                            "--port-file", portf, "--store", o->store};
    int argc = 10;
    for (int i = 0; i < o->n_server_args; i++)
        argv[argc++] = o->server_args[i];
    argv[argc] = NULL;
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        fprintf(stderr, "muster bench api: fork: %s\n", strerror(errno));
        return -1;
    }
    if (s->pid == 0) {
        int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv("/proc/self/exe", (char *const *)argv);
        fprintf(stderr, "exec /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    int64_t deadline = mtime_now_ns() + SERVER_START_NS;
    while (mtime_now_ns() < deadline) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            fprintf(stderr, "muster bench api: the server (--store %s) exited with status %d "
                            "before listening:\n", o->store,
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            print_log_tail(s);
            s->pid = 0;
            return -1;
        }
        FILE *f = fopen(portf, "r");
        if (f) {
            int port = 0;
            bool ok = fscanf(f, "%d", &port) == 1 && port > 0;
            fclose(f);
            if (ok) {
                s->port = port;
                return 0;
            }
        }
        usleep(10000);
    }
    fprintf(stderr, "muster bench api: the server did not write %s within 20 s\n", portf);
    print_log_tail(s);
    return -1;
}

/* VmHWM (peak) or VmRSS of the server, MiB; -1 when unreadable. */
static double server_status(const struct server *s, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL);
            break;
        }
    fclose(f);
    return v;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void server_stop(const struct api_opts *o, struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        waitpid(s->pid, &st, 0);
        s->pid = 0;
    }
    if (!s->dir[0])
        return;
    if (o->keep)
        fprintf(stderr, "muster bench api: kept %s\n", s->dir);
    else
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- latencies ---- */

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* The q-quantile (nearest rank) of sorted v, in ms. */
static double quant_ms(const int64_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1e6;
}

/* ---- phase 1: creates ---- */

struct create_run {
    const struct api_opts *o;
    unsigned next, done, errors;
    int64_t *lat;
    char *first_error;
    char buf[2048];
};

static void node_body(char *buf, size_t size, unsigned i)
{
    snprintf(buf, size,
             "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%06u\","
             "\"labels\":{\"kubernetes.io/hostname\":\"node-%06u\",\"topology.kubernetes.io/zone\":"
             "\"zone-%u\",\"muster.io/rack\":\"rack-%u\",\"nvidia.com/gpu.product\":"
             "\"NVIDIA-H100-80GB-HBM3\"}},\"status\":{\"capacity\":{\"cpu\":\"96\",\"memory\":"
             "\"768Gi\",\"nvidia.com/gpu\":\"8\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":\"95\","
             "\"memory\":\"760Gi\",\"nvidia.com/gpu\":\"8\",\"pods\":\"110\"},\"addresses\":[{"
             "\"type\":\"InternalIP\",\"address\":\"10.%u.%u.%u\"}],\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"True\"}],\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\","
             "\"osImage\":\"Ubuntu 24.04\",\"kernelVersion\":\"6.8\",\"containerRuntimeVersion\":"
             "\"containerd://2.0.0\"}}}",
             i, i, i % 4, i / 32, (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

static void create_send(struct create_run *r, struct httpload_conn *c)
{
    unsigned i = r->next++;
    node_body(r->buf, sizeof r->buf, i);
    httpload_send(c, "POST", "/api/v1/nodes", "application/json", r->buf, strlen(r->buf), false);
}

static void create_resp(void *ctx, struct httpload_conn *c, int status, const char *body,
                        size_t len, int64_t lat)
{
    struct create_run *r = ctx;
    r->lat[r->done++] = lat;
    if (status != 201) {
        if (!r->errors++)
            snprintf(r->first_error, 256, "create: HTTP %d: %.200s", status, body);
    }
    if (r->next < r->o->nodes)
        create_send(r, c);
}

/* The first connection closed by the server in the current phase. */
struct closer {
    unsigned closed;
    char msg[160];
};
static struct closer g_closer;

static void any_close(void *ctx, struct httpload_conn *c, const char *msg)
{
    if (!g_closer.closed++)
        snprintf(g_closer.msg, sizeof g_closer.msg, "connection %zu: %s", httpload_conn_id(c), msg);
}

static int phase_create(const struct api_opts *o, const struct server *s, struct api_result *res)
{
    struct create_run r = {.o = o, .first_error = res->first_error};
    r.lat = xmalloc((size_t)o->nodes * sizeof *r.lat);
    struct httpload_cbs cbs = {.ctx = &r, .on_response = create_resp, .on_close = any_close};
    struct httpload *h = httpload_create("127.0.0.1", s->port, &cbs);
    struct err e = {0};
    int rc = -1;
    unsigned nc = o->clients < o->nodes ? o->clients : o->nodes;
    struct httpload_conn **conns = xcalloc(nc, sizeof *conns);
    for (unsigned i = 0; i < nc; i++)
        if (!(conns[i] = httpload_connect(h, NULL, i, &e))) {
            fprintf(stderr, "muster bench api: %s\n", e.msg);
            goto out;
        }
    g_closer.closed = 0;
    int64_t t0 = mtime_now_ns();
    for (unsigned i = 0; i < nc; i++)
        create_send(&r, conns[i]);
    while (r.done < o->nodes) {
        if (httpload_poll(h, 1000, &e) < 0) {
            fprintf(stderr, "muster bench api: %s\n", e.msg);
            goto out;
        }
        if (g_closer.closed) {
            fprintf(stderr, "muster bench api: creates: %s\n", g_closer.msg);
            goto out;
        }
    }
    int64_t t1 = mtime_now_ns();
    qsort(r.lat, r.done, sizeof *r.lat, cmp_i64);
    res->creates = r.done;
    res->create_errors = r.errors;
    res->create_seconds = (double)(t1 - t0) / 1e9;
    res->creates_per_sec = r.done / res->create_seconds;
    res->create_p50_ms = quant_ms(r.lat, r.done, 0.50);
    res->create_p99_ms = quant_ms(r.lat, r.done, 0.99);
    res->create_max_ms = quant_ms(r.lat, r.done, 1.0);
    rc = r.errors ? -1 : 0;
    if (r.errors)
        fprintf(stderr, "muster bench api: %u creates failed; first: %s\n", r.errors,
                res->first_error);
out:
    free(conns);
    httpload_destroy(h);
    free(r.lat);
    return rc;
}

/* ---- phase 2: list ---- */

struct one_shot {
    bool done;
    int status;
    char *body;
    size_t len;
    int64_t lat;
};

static void one_resp(void *ctx, struct httpload_conn *c, int status, const char *body, size_t len,
                     int64_t lat)
{
    struct one_shot *r = ctx;
    r->done = true;
    r->status = status;
    r->body = xmalloc(len + 1);
    memcpy(r->body, body, len + 1);
    r->len = len;
    r->lat = lat;
}

/* GET path on c; fills r (caller frees r->body). */
static int get_once(struct httpload *h, struct httpload_conn *c, struct one_shot *r,
                    const char *path)
{
    struct err e = {0};
    *r = (struct one_shot){0};
    g_closer.closed = 0;
    if (httpload_send(c, "GET", path, NULL, NULL, 0, false) < 0)
        return -1;
    while (!r->done) {
        if (httpload_poll(h, 1000, &e) < 0 || g_closer.closed) {
            fprintf(stderr, "muster bench api: GET %s: %s\n", path,
                    g_closer.closed ? g_closer.msg : e.msg);
            return -1;
        }
    }
    if (r->status != 200) {
        fprintf(stderr, "muster bench api: GET %s: HTTP %d: %.300s\n", path, r->status, r->body);
        return -1;
    }
    return 0;
}

/* Item count and resourceVersion / continue of a list body; -1 when not a list. */
static long list_items(const struct one_shot *r, char *rv, size_t rvsize, char *cont, size_t csize)
{
    json_error_t je;
    json_t *j = json_loadb(r->body, r->len, 0, &je);
    json_t *items = json_object_get(j, "items");
    long n = json_is_array(items) ? (long)json_array_size(items) : -1;
    const char *v = json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion"));
    if (rv)
        snprintf(rv, rvsize, "%s", v ? v : "");
    const char *k = json_string_value(json_object_get(json_object_get(j, "metadata"), "continue"));
    if (cont)
        snprintf(cont, csize, "%s", k ? k : "");
    json_decref(j);
    return n;
}

static int cmp_dbl(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int phase_list(const struct api_opts *o, const struct server *s, struct api_result *res,
                      char *rv, size_t rvsize)
{
    struct one_shot r = {0};
    struct httpload_cbs cbs = {.ctx = &r, .on_response = one_resp, .on_close = any_close};
    struct httpload *h = httpload_create("127.0.0.1", s->port, &cbs);
    struct err e = {0};
    int rc = -1;
    double *ms = xcalloc(o->list_runs, sizeof *ms);
    struct httpload_conn *c = httpload_connect(h, NULL, 0, &e);
    if (!c) {
        fprintf(stderr, "muster bench api: %s\n", e.msg);
        goto out;
    }
    for (unsigned i = 0; i < o->list_runs; i++) {
        if (get_once(h, c, &r, "/api/v1/nodes") < 0)
            goto out;
        ms[i] = (double)r.lat / 1e6;
        long n = list_items(&r, rv, rvsize, NULL, 0);
        res->list_mib = (double)r.len / (1024.0 * 1024.0);
        free(r.body);
        r.body = NULL;
        if (n != (long)o->nodes) {
            fprintf(stderr, "muster bench api: the list has %ld items, want %u\n", n, o->nodes);
            goto out;
        }
        res->list_count = (unsigned)n;
    }
    qsort(ms, o->list_runs, sizeof *ms, cmp_dbl);
    res->list_ms = ms[o->list_runs / 2];
    res->list_min_ms = ms[0];
    /* Pages: only the requests are timed, not the parse that finds the next token. */
    char cont[1024] = "", path[1400];
    int64_t sum = 0;
    for (;;) {
        int len = snprintf(path, sizeof path, "/api/v1/nodes?limit=%u", o->page);
        if (cont[0]) {
            len += snprintf(path + len, sizeof path - (size_t)len, "&continue=");
            for (const unsigned char *p = (const unsigned char *)cont; *p && len < 1380; p++)
                len += (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                               (*p >= '0' && *p <= '9') || strchr("-._~", *p)
                           ? snprintf(path + len, sizeof path - (size_t)len, "%c", *p)
                           : snprintf(path + len, sizeof path - (size_t)len, "%%%02X", *p);
        }
        if (get_once(h, c, &r, path) < 0)
            goto out;
        sum += r.lat;
        long n = list_items(&r, NULL, 0, cont, sizeof cont);
        free(r.body);
        r.body = NULL;
        if (n < 0) {
            fprintf(stderr, "muster bench api: page %u is not a list\n", res->list_pages + 1);
            goto out;
        }
        res->list_pages++;
        res->paged_count += (unsigned)n;
        if (!cont[0])
            break;
    }
    res->paged_ms = (double)sum / 1e6;
    if (res->paged_count != o->nodes) {
        fprintf(stderr, "muster bench api: pages hold %u items, want %u\n", res->paged_count,
                o->nodes);
        goto out;
    }
    rc = 0;
out:
    free(r.body);
    free(ms);
    httpload_destroy(h);
    return rc;
}

/* ---- phase 3: watch fan-out ---- */

struct watch_run {
    const struct api_opts *o;
    uint64_t *got;         /* per watcher: events (lines) received */
    unsigned started, refused, ended;
    unsigned next_update, updates_done, update_errors;
    int64_t *ulat;
    int64_t last_event_ns;
    char body[256], path[128];
    char *first_error;
};

static bool is_watcher(const struct watch_run *w, const struct httpload_conn *c)
{
    return httpload_conn_id(c) < w->o->watchers;
}

static void watch_start(void *ctx, struct httpload_conn *c, int status)
{
    struct watch_run *w = ctx;
    if (status == 200)
        w->started++;
    else
        w->refused++;
}

static void watch_data(void *ctx, struct httpload_conn *c, const char *data, size_t len)
{
    struct watch_run *w = ctx;
    uint64_t n = 0;
    for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        n++;
    if (n) {
        w->got[httpload_conn_id(c)] += n;
        w->last_event_ns = mtime_now_ns();
    }
}

static void update_send(struct watch_run *w, struct httpload_conn *c)
{
    unsigned i = w->next_update++;
    snprintf(w->path, sizeof w->path, "/api/v1/nodes/node-%06u", i % w->o->nodes);
    snprintf(w->body, sizeof w->body, "{\"metadata\":{\"labels\":{\"muster.io/bench-gen\":\"%u\"}}}",
             i);
    httpload_send(c, "PATCH", w->path, "application/merge-patch+json", w->body, strlen(w->body),
                  false);
}

static void update_resp(void *ctx, struct httpload_conn *c, int status, const char *body,
                        size_t len, int64_t lat)
{
    struct watch_run *w = ctx;
    w->ulat[w->updates_done++] = lat;
    if (status != 200 && !w->update_errors++)
        snprintf(w->first_error, 256, "update: HTTP %d: %.200s", status, body);
    if (w->next_update < w->o->updates)
        update_send(w, c);
}

static void watch_close(void *ctx, struct httpload_conn *c, const char *msg)
{
    struct watch_run *w = ctx;
    if (is_watcher(w, c))
        w->ended++;
    any_close(ctx, c, msg);
}

static int phase_watch(const struct api_opts *o, const struct server *s, struct api_result *res,
                       const char *rv)
{
    struct watch_run w = {.o = o, .first_error = res->first_error};
    w.got = xcalloc(o->watchers ? o->watchers : 1, sizeof *w.got);
    w.ulat = xcalloc(o->updates ? o->updates : 1, sizeof *w.ulat);
    struct httpload_cbs cbs = {.ctx = &w,
                               .on_response = update_resp,
                               .on_stream_start = watch_start,
                               .on_data = watch_data,
                               .on_close = watch_close};
    struct httpload *h = httpload_create("127.0.0.1", s->port, &cbs);
    struct err e = {0};
    int rc = -1;
    char path[128], src[32];
    snprintf(path, sizeof path, "/api/v1/nodes?watch=true&resourceVersion=%s", rv);
    g_closer.closed = 0;
    for (unsigned i = 0; i < o->watchers; i++) {
        snprintf(src, sizeof src, "127.0.1.%u", 1 + i / 256);
        struct httpload_conn *c = httpload_connect(h, src, i, &e);
        if (!c) {
            fprintf(stderr, "muster bench api: watcher %u: %s\n", i, e.msg);
            goto out;
        }
        httpload_send(c, "GET", path, NULL, NULL, 0, true);
    }
    int64_t deadline = mtime_now_ns() + WATCH_IDLE_NS;
    while (w.started + w.refused + w.ended < o->watchers && mtime_now_ns() < deadline)
        if (httpload_poll(h, 100, &e) < 0) {
            fprintf(stderr, "muster bench api: %s\n", e.msg);
            goto out;
        }
    if (w.started < o->watchers) {
        fprintf(stderr, "muster bench api: %u of %u watches started (%u refused, %u closed%s%s)\n",
                w.started, o->watchers, w.refused, w.ended, g_closer.closed ? ": " : "",
                g_closer.closed ? g_closer.msg : "");
        goto out;
    }
    res->watchers_ok = w.started;
    res->rss_watching_mib = server_status(s, "VmRSS") / 1024.0;
    res->threads_watching = (unsigned)server_status(s, "Threads");
    unsigned nu = UPDATE_CONNS < o->updates ? UPDATE_CONNS : o->updates;
    int64_t t0 = mtime_now_ns();
    for (unsigned i = 0; i < nu; i++) {
        struct httpload_conn *c = httpload_connect(h, NULL, o->watchers + i, &e);
        if (!c) {
            fprintf(stderr, "muster bench api: updater %u: %s\n", i, e.msg);
            goto out;
        }
        update_send(&w, c);
    }
    w.last_event_ns = t0;
    uint64_t total = 0;
    for (;;) {
        if (httpload_poll(h, 100, &e) < 0) {
            fprintf(stderr, "muster bench api: %s\n", e.msg);
            goto out;
        }
        if (w.updates_done < o->updates)
            continue;
        uint64_t want = (uint64_t)(w.updates_done - w.update_errors) * o->watchers;
        total = 0;
        for (unsigned i = 0; i < o->watchers; i++)
            total += w.got[i];
        if (total >= want || w.ended == o->watchers ||
            mtime_now_ns() - w.last_event_ns > WATCH_IDLE_NS)
            break;
    }
    uint64_t per = w.updates_done - w.update_errors;
    res->updates_ok = (unsigned)per;
    res->update_errors = w.update_errors;
    res->events_expected = per * o->watchers;
    res->events_received = total;
    for (unsigned i = 0; i < o->watchers; i++)
        res->events_missed += w.got[i] < per ? per - w.got[i] : 0;
    res->watch_seconds = (double)(w.last_event_ns - t0) / 1e9;
    res->events_per_sec = res->watch_seconds > 0 ? (double)total / res->watch_seconds : 0;
    qsort(w.ulat, w.updates_done, sizeof *w.ulat, cmp_i64);
    res->update_p50_ms = quant_ms(w.ulat, w.updates_done, 0.50);
    res->update_p99_ms = quant_ms(w.ulat, w.updates_done, 0.99);
    if (w.update_errors)
        fprintf(stderr, "muster bench api: %u updates failed; first: %s\n", w.update_errors,
                res->first_error);
    if (w.ended)
        fprintf(stderr, "muster bench api: %u watches ended early (%s)\n", w.ended, g_closer.msg);
    rc = w.update_errors ? -1 : 0;
out:
    httpload_destroy(h);
    free(w.got);
    free(w.ulat);
    return rc;
}

/* ---- the command ---- */

static void api_usage(FILE *f)
{
    fprintf(f,
            "usage: muster bench api [--store sqlite|memory|etcd] [--nodes 130000] [--clients 64]\n"
            "                        [--watchers 1000] [--updates 200] [--list-runs 3]\n"
            "                        [--page 500] [--server-arg ARG]... [--keep] [--json]\n\n"
            "Starts `muster server` on 127.0.0.1 with a fresh data directory under $TMPDIR\n"
            "and measures it: creates of --nodes Nodes from --clients concurrent keep-alive\n"
            "connections (creates/s, p50/p99 latency); the full list of those Nodes and the\n"
            "same by pages of --page; --watchers watches on nodes from the list's\n"
            "resourceVersion while --updates merge patches are sent (events/s delivered,\n"
            "events missed); the server's peak memory (VmHWM). --server-arg passes an extra\n"
            "argument to the server (repeatable); --keep keeps the data directory.\n"
            "--json prints one JSON object; otherwise a short summary.\n");
}

static int parse_uint(const char *flag, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "muster bench api: --%s '%s': want an integer in %u..%u\n", flag, s, lo, hi);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static void print_json(const struct api_opts *o, const struct api_result *r)
{
    printf("{\"benchmark\":\"api\",\"store\":\"%s\",\"nodes\":%u,\"clients\":%u,"
           "\"creates\":%u,\"create_errors\":%u,\"create_seconds\":%.3f,\"creates_per_sec\":%.1f,"
           "\"create_p50_ms\":%.3f,\"create_p99_ms\":%.3f,\"create_max_ms\":%.3f,"
           "\"list_runs\":%u,\"list_count\":%u,\"list_mib\":%.1f,\"list_130k_nodes_ms\":%.1f,"
           "\"list_min_ms\":%.1f,\"list_page\":%u,\"list_pages\":%u,\"list_paged_ms\":%.1f,"
           "\"watchers\":%u,\"watch_updates\":%u,\"watch_events_expected\":%llu,"
           "\"watch_events_received\":%llu,\"watch_missed_events\":%llu,\"watch_seconds\":%.3f,"
           "\"watch_events_per_sec\":%.1f,\"update_p50_ms\":%.3f,\"update_p99_ms\":%.3f,"
           "\"server_threads_watching\":%u,\"rss_after_creates_mib\":%.1f,"
           "\"rss_after_list_mib\":%.1f,\"rss_watching_mib\":%.1f,\"max_rss_mib\":%.1f}\n",
           o->store, o->nodes, o->clients, r->creates, r->create_errors, r->create_seconds,
           r->creates_per_sec, r->create_p50_ms, r->create_p99_ms, r->create_max_ms, o->list_runs,
           r->list_count, r->list_mib, r->list_ms, r->list_min_ms, o->page, r->list_pages,
           r->paged_ms, o->watchers, r->updates_ok, (unsigned long long)r->events_expected,
           (unsigned long long)r->events_received, (unsigned long long)r->events_missed,
           r->watch_seconds, r->events_per_sec, r->update_p50_ms, r->update_p99_ms,
           r->threads_watching, r->rss_created_mib, r->rss_listed_mib, r->rss_watching_mib,
           r->max_rss_mib);
}

static const char *verdict(bool ok)
{
    return ok ? "met" : "MISSED";
}

static void print_summary(const struct api_opts *o, const struct api_result *r)
{
    printf("muster bench api: --store %s, %u nodes, %u clients, %u watchers, %u updates\n",
           o->store, o->nodes, o->clients, o->watchers, r->updates_ok);
    printf("  creates  %10.0f /s  (%u in %.2f s)  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           r->creates_per_sec, r->creates, r->create_seconds, r->create_p50_ms, r->create_p99_ms,
           r->create_max_ms);
    printf("  list     %10.1f ms for %u nodes (%.1f MiB; median of %u, min %.1f ms)\n", r->list_ms,
           r->list_count, r->list_mib, o->list_runs, r->list_min_ms);
    printf("  paged    %10.1f ms in %u pages of %u (requests only)\n", r->paged_ms, r->list_pages,
           o->page);
    printf("  watch    %10.0f events/s delivered (%llu of %llu in %.2f s), %llu missed; "
           "updates p50 %.2f ms p99 %.2f ms\n",
           r->events_per_sec, (unsigned long long)r->events_received,
           (unsigned long long)r->events_expected, r->watch_seconds,
           (unsigned long long)r->events_missed, r->update_p50_ms, r->update_p99_ms);
    printf("  server   max RSS %.1f MiB (after creates %.1f, after lists %.1f, with %u watches "
           "%.1f MiB, %u threads)\n",
           r->max_rss_mib, r->rss_created_mib, r->rss_listed_mib, r->watchers_ok,
           r->rss_watching_mib, r->threads_watching);
    printf("  goals    >= 10,000 creates/s: %s; p99 < 10 ms: %s; list < 1 s: %s; no missed "
           "events: %s\n",
           verdict(r->creates_per_sec >= 10000), verdict(r->create_p99_ms < 10),
           verdict(r->list_ms < 1000), verdict(r->events_missed == 0));
}

int cli_bench_api(int argc, char **argv)
{
    struct api_opts o = {.nodes = 130000,
                         .clients = 64,
                         .watchers = 1000,
                         .updates = 200,
                         .list_runs = 3,
                         .page = 500,
                         .store = "sqlite"};
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},     {"nodes", required_argument, NULL, 'n'},
        {"clients", required_argument, NULL, 'c'},   {"watchers", required_argument, NULL, 'w'},
        {"updates", required_argument, NULL, 'u'},   {"list-runs", required_argument, NULL, 'l'},
        {"page", required_argument, NULL, 'p'},      {"server-arg", required_argument, NULL, 'a'},
        {"keep", no_argument, NULL, 'k'},            {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},            {0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (strcmp(optarg, "sqlite") && strcmp(optarg, "memory") && strcmp(optarg, "etcd")) {
                fprintf(stderr, "muster bench api: --store '%s': want sqlite, memory or etcd\n",
                        optarg);
                return 2;
            }
            o.store = optarg;
            break;
        case 'n':
            if (parse_uint("nodes", optarg, 1, 1000000, &o.nodes) < 0)
                return 2;
            break;
        case 'c':
            if (parse_uint("clients", optarg, 1, 512, &o.clients) < 0)
                return 2;
            break;
        case 'w':
            /* The server takes 1,024 connections in all; a few go to the updaters. */
            if (parse_uint("watchers", optarg, 1, 1000, &o.watchers) < 0)
                return 2;
            break;
        case 'u':
            if (parse_uint("updates", optarg, 1, 10000000, &o.updates) < 0)
                return 2;
            break;
        case 'l':
            if (parse_uint("list-runs", optarg, 1, 100, &o.list_runs) < 0)
                return 2;
            break;
        case 'p':
            if (parse_uint("page", optarg, 1, 100000, &o.page) < 0)
                return 2;
            break;
        case 'a':
            if (o.n_server_args == MAX_SERVER_ARGS) {
                fprintf(stderr, "muster bench api: at most %d --server-arg\n", MAX_SERVER_ARGS);
                return 2;
            }
            o.server_args[o.n_server_args++] = optarg;
            break;
        case 'k':
            o.keep = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            api_usage(stdout);
            return 0;
        default:
            api_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "muster bench api: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    /* 1,000 watchers and 64 clients need more descriptors than some defaults. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct api_result r = {0};
    struct server s = {0};
    char rv[64] = "";
    int rc = 1;
    if (server_start(&o, &s) < 0)
        goto out;
    note(&o, "server pid %d on port %d; creating %u nodes from %u clients", (int)s.pid, s.port,
         o.nodes, o.clients);
    if (phase_create(&o, &s, &r) < 0)
        goto out;
    r.rss_created_mib = server_status(&s, "VmRSS") / 1024.0;
    note(&o, "%.0f creates/s; listing", r.creates_per_sec);
    if (phase_list(&o, &s, &r, rv, sizeof rv) < 0)
        goto out;
    r.rss_listed_mib = server_status(&s, "VmRSS") / 1024.0;
    note(&o, "list %.1f ms; %u watchers from resourceVersion %s", r.list_ms, o.watchers, rv);
    if (phase_watch(&o, &s, &r, rv) < 0)
        goto out;
    r.max_rss_mib = server_status(&s, "VmHWM") / 1024.0;
    if (o.json)
        print_json(&o, &r);
    else
        print_summary(&o, &r);
    rc = 0;
out:
    server_stop(&o, &s);
    return rc;
}
