/*
 * agent/agent: agent_run(), the loop and its start and stop.
 *
 * Start: lock the data directory (one agent per directory), set up cgroups,
 * start the log server (its port goes into the Node), then on the loop: the
 * nodes' registration (node.c), the pod list and watch (watch.c), and a
 * one-second tick for adopted containers and, every ten seconds, the sweep of
 * directories whose pods are gone (run.c).
 *
 * Stop (SIGINT or SIGTERM): the watch and the nodes stop at once; with --drain
 * the pods are stopped (SIGTERM, SIGKILL after their grace period) and their
 * final status written; then the writes in flight get a moment to finish, and
 * every handle is closed. Without --drain the containers keep running under
 * their shims, for the next agent to adopt. A second signal stops at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"

#define TICK_MS        1000
#define SWEEP_NS       ((int64_t)10 * MTIME_S)
#define STOP_TICK_MS   100
#define STOP_WRITES_NS ((int64_t)3 * MTIME_S)   /* writes in flight, without --drain */
#define STOP_DRAIN_NS  ((int64_t)600 * MTIME_S) /* the most a drain may take */

static int mkdirs(const char *path)
{
    char buf[AGENT_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void on_tick(uv_timer_t *t)
{
    struct agent *a = t->data;
    if (a->stopping && !a->o->drain)
        return;
    agent__run_poll(a);
    int64_t now = mtime_now_ns();
    if (!a->stopping && now - a->last_sweep_ns >= SWEEP_NS) {
        a->last_sweep_ns = now;
        agent__run_sweep(a);
    }
}

static void free_handle_data(uv_handle_t *h)
{
    free(h->data);
}

static void close_any(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        return;
    /* A shim's process handle carries its struct aproc (run.c) in data;
     * the other handles left by then are embedded in structs freed later. */
    uv_close(h, h->type == UV_PROCESS ? free_handle_data : NULL);
}

static void finish(struct agent *a)
{
    uv_timer_stop(&a->stop_timer);
    agent__pods_free_all(a);
    agent__nodes_stop(a);
    acli_destroy(a->cli);
    a->cli = NULL;
    uv_walk(a->loop, close_any, NULL);
}

static void on_stop_tick(uv_timer_t *t)
{
    struct agent *a = t->data;
    int64_t now = mtime_now_ns();
    if (now < a->stop_deadline_ns) {
        if (a->o->drain && agent__pods_busy(a))
            return;
        if (acli_in_flight(a->cli) && now < a->stop_deadline_ns)
            return;
    } else {
        log_warn("stopping: gave up waiting (%zu requests in flight)", acli_in_flight(a->cli));
    }
    finish(a);
}

static void begin_stop(struct agent *a)
{
    a->stopping = true;
    agent__watch_stop(a);
    int64_t now = mtime_now_ns();
    if (a->o->drain) {
        log_info("stopping: --drain: stopping the pods first");
        agent__pods_stop_all(a);
        a->stop_deadline_ns = now + STOP_DRAIN_NS;
    } else {
        log_info("stopping; running containers stay up for the next agent to adopt");
        a->stop_deadline_ns = now + STOP_WRITES_NS;
    }
    uv_timer_start(&a->stop_timer, on_stop_tick, 0, STOP_TICK_MS);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct agent *a = s->data;
    if (!a->stopping)
        return begin_stop(a);
    log_warn("second signal: stopping now");
    a->stop_deadline_ns = 0;
}

int agent_run(const struct agent_opts *o, struct err *e)
{
    struct agent a = {.o = o};
    uv_loop_t loop;
    int lock_fd = -1, rc = -1;
    a.version = o->version ? o->version : "dev";
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    a.loop = &loop;
    map_init(&a.node_by_name, MAP_KEY_STR);
    map_init(&a.pod_by_uid, MAP_KEY_STR);
    map_init(&a.pod_by_id, MAP_KEY_U64);

    a.cpu_milli = o->cpu_milli ? o->cpu_milli : (int64_t)sysconf(_SC_NPROCESSORS_ONLN) * 1000;
    a.memory_bytes = o->memory_bytes
                         ? o->memory_bytes
                         : (int64_t)sysconf(_SC_PHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE);
    ssize_t n = readlink("/proc/self/exe", a.shim_exe, sizeof a.shim_exe - 1);
    if (n <= 0) {
        errf(e, errno, "cannot find the muster binary (/proc/self/exe): %s", strerror(errno));
        goto out;
    }
    a.shim_exe[n] = 0;
    if (strlen(o->data_dir) > AGENT_PATH_MAX / 2) {
        errf(e, ENAMETOOLONG, "--data-dir: at most %d characters", AGENT_PATH_MAX / 2);
        goto out;
    }
    if (snprintf(a.pods_dir, sizeof a.pods_dir, "%s/pods", o->data_dir) >= (int)sizeof a.pods_dir ||
        mkdirs(a.pods_dir) < 0) {
        errf(e, errno, "--data-dir %s: cannot create %s: %s", o->data_dir, a.pods_dir,
             strerror(errno));
        goto out;
    }
    char lock[AGENT_PATH_MAX + 16];
    snprintf(lock, sizeof lock, "%s/agent.lock", o->data_dir);
    lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
        errf(e, EBUSY, "--data-dir %s: %s", o->data_dir,
             lock_fd < 0 ? strerror(errno) : "another agent is using it");
        goto out;
    }
    if (!o->simulate)
        acgroup_init(&a.cg, o->cgroup_root);
    a.logs = alogs_start(o->address, o->log_port, a.pods_dir, e);
    if (!a.logs)
        goto out;
    a.log_port = alogs_port(a.logs);
    if (o->port_file) {
        FILE *f = fopen(o->port_file, "w");
        if (!f || fprintf(f, "%d\n", a.log_port) < 0 || fclose(f) != 0) {
            errf(e, errno, "cannot write %s: %s", o->port_file, strerror(errno));
            goto out;
        }
    }
    /* One process standing for many simulated nodes writes for all of them: 8
     * connections (a real node's need) left its writes queueing behind each
     * other; one per 16 nodes, up to 128. With one per 32 (31 for 1,000 nodes)
     * the agent's round trips capped bench e2e below what the server could do
     * (4,200-4,900 pods/s offered 6,000, 5,200-5,400 with 62); one per 8 was
     * no better (the server's workers, docs/internals/http.md). */
    int conns = o->connections;
    if (conns <= 0) {
        conns = 8;
        if (o->simulate && o->count / 16 > conns)
            conns = o->count / 16 < 128 ? o->count / 16 : 128;
    }
    a.cli = acli_create(&loop, o->server, conns, e);
    if (!a.cli)
        goto out;

    a.n_nodes = o->count > 0 ? (size_t)o->count : 1;
    a.nodes = xcalloc(a.n_nodes, sizeof *a.nodes);
    for (size_t i = 0; i < a.n_nodes; i++) {
        struct anode *nd = &a.nodes[i];
        nd->a = &a;
        nd->index = (int)i;
        if (o->count > 0) {
            nd->name = xmalloc(strlen(o->name) + 24);
            sprintf(nd->name, "%s-%zu", o->name, i);
        } else {
            nd->name = xstrdup(o->name);
        }
        map_put(&a.node_by_name, nd->name, strlen(nd->name), NULL)->ptr = nd;
    }
    log_info("agent: %zu node%s (%s%s), %zu GPUs each, server %s, logs on %s:%d, data in %s%s",
             a.n_nodes, a.n_nodes == 1 ? "" : "s", a.nodes[0].name, a.n_nodes > 1 ? ", ..." : "",
             o->gpus.len, o->server, o->address, a.log_port, o->data_dir,
             o->simulate ? " (simulated)" : "");

    uv_signal_init(&loop, &a.sigint);
    uv_signal_init(&loop, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_timer_init(&loop, &a.poll_timer);
    uv_timer_init(&loop, &a.stop_timer);
    a.poll_timer.data = a.stop_timer.data = &a;
    if (!o->simulate)
        uv_timer_start(&a.poll_timer, on_tick, TICK_MS, TICK_MS);
    a.last_sweep_ns = mtime_now_ns() - SWEEP_NS + 2 * MTIME_S; /* first sweep soon after the list */

    agent__nodes_start(&a);
    agent__watch_start(&a);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (a.cli) { /* failed before the loop ran */
        acli_destroy(a.cli);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&loop) == UV_EBUSY) {
        uv_walk(&loop, close_any, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    alogs_stop(a.logs);
    for (size_t i = 0; i < a.n_nodes; i++)
        free(a.nodes[i].name);
    free(a.nodes);
    map_release(&a.node_by_name);
    map_release(&a.pod_by_uid);
    map_release(&a.pod_by_id);
    if (lock_fd >= 0)
        close(lock_fd);
    if (rc == 0)
        log_info("agent: stopped");
    return rc;
}
