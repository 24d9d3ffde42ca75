/*
 * agent/run: real containers, as processes under a shim (shim.c), and the
 * directories they live in.
 *
 *   <data-dir>/pods/<uid>/          the pod's directory and working directory
 *       pod                         "namespace/name", for people and the sweep
 *       <container>.log             stdout and stderr, appended across restarts
 *       <container>.lock            held by the live shim (flock)
 *       <container>.pid             {"shimPid", "pid", "startedAt"}
 *       <container>.exit            {"exitCode", "signal", "startedAt", "finishedAt"}
 *
 * A shim the agent started is its child, and libuv reports its end at once. A
 * shim adopted from a previous agent is polled every second: its .exit file,
 * or its lock freed without one (the shim itself was killed: the exit is
 * unknown, reported as 137 with reason ContainerStatusUnknown). The sweep
 * removes the directories (and cgroups) of pods that are no longer bound to
 * the agent, after killing anything still running there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/* One spawned shim; it outlives its pod in the agent's tables if need be. */
struct aproc {
    uv_process_t h;
    struct agent *a;
    uint64_t pod_id;
    int ctr;
    int generation; /* the container's restart count when it was started */
};

/* <pod dir>/<container>.<ext>; "" if it does not fit (agent_run keeps the
 * data directory short enough that it always does). */
static void path_of(const struct actr *c, const char *ext, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s.%s", c->pod->dir ? c->pod->dir : "", c->name, ext);
    if (n < 0 || (size_t)n >= size)
        buf[0] = 0;
}

/* A pod uid as a path component: hex digits and dashes. */
static bool safe_uid(const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((uid[i] >= '0' && uid[i] <= '9') || (uid[i] >= 'a' && uid[i] <= 'f') ||
              (uid[i] >= 'A' && uid[i] <= 'F') || uid[i] == '-'))
            return false;
    return true;
}

/* A container name as a file name: a DNS label. */
static bool safe_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

int agent__run_pod_dir(struct apod *p, struct err *e)
{
    if (!safe_uid(p->uid))
        return errf(e, EINVAL, "uid \"%.80s\" is not a UID", p->uid);
    free(p->dir);
    p->dir = xmalloc(strlen(p->a->pods_dir) + strlen(p->uid) + 2);
    sprintf(p->dir, "%s/%s", p->a->pods_dir, p->uid);
    if (mkdir(p->dir, 0755) < 0 && errno != EEXIST)
        return errf(e, errno, "cannot create %s: %s", p->dir, strerror(errno));
    char path[AGENT_PATH_MAX];
    snprintf(path, sizeof path, "%s/pod", p->dir);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", p->key) < 0 || fclose(f) != 0)
        return errf(e, EIO, "cannot write %s", path);
    return 0;
}

/* Whether the shim that holds lock_path is alive. */
static bool lock_held(const char *lock_path)
{
    int fd = open(lock_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the lock if this took it */
    return held;
}

/* Reads the .pid file: the container's pid (its process group) and start. */
static void read_pid_file(const char *path, int *shim_pid, int *pid, char *started, size_t size)
{
    json_t *j = json_load_file(path, 0, NULL);
    if (shim_pid)
        *shim_pid = (int)json_integer_value(json_object_get(j, "shimPid"));
    if (pid)
        *pid = (int)json_integer_value(json_object_get(j, "pid"));
    const char *s = json_string_value(json_object_get(j, "startedAt"));
    if (started && s)
        snprintf(started, size, "%s", s);
    json_decref(j);
}

static void on_proc_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Reports the end of a container whose shim is gone: its .exit, or unknown. */
static void ended(struct actr *c)
{
    char path[AGENT_PATH_MAX];
    path_of(c, "exit", path, sizeof path);
    struct agent_exit x;
    struct err e;
    if (agent_exit_read(path, &x, &e) == 0)
        return agent__ctr_exited(c, &x, NULL, NULL);
    x = (struct agent_exit){.exit_code = 137};
    snprintf(x.started_at, sizeof x.started_at, "%s", c->started_at);
    agent__rfc3339(mtime_wall_ns(), x.finished_at, sizeof x.finished_at);
    agent__ctr_exited(c, &x, "ContainerStatusUnknown",
                      "the container's shim ended without recording an exit");
}

static void on_shim_exit(uv_process_t *h, int64_t status, int term_signal)
{
    struct aproc *pr = h->data;
    union map_val *v = map_get_u64(&pr->a->pod_by_id, pr->pod_id);
    struct apod *p = v ? v->ptr : NULL;
    if (status || term_signal)
        log_warn("pod %s: the shim of container %d ended with status %lld, signal %d",
                 p ? p->key : "(gone)", pr->ctr, (long long)status, term_signal);
    if (p && pr->ctr < (int)p->nc) {
        struct actr *c = &p->c[pr->ctr];
        if (c->state == ACTR_RUNNING && c->own && c->restarts == pr->generation)
            ended(c);
    }
    uv_close((uv_handle_t *)h, on_proc_closed);
}

int agent__run_start(struct actr *c, struct err *e)
{
    struct apod *p = c->pod;
    struct agent *a = p->a;
    json_t *cj = json_array_get(json_object_get(json_object_get(p->obj, "spec"), "containers"),
                                (size_t)c->index);
    if (!safe_name(c->name))
        return errf(e, EINVAL, "container name \"%.80s\" is not a DNS label", c->name);
    struct agent_env env = {0};
    struct err warn;
    struct agent_env_ctx ectx = {.node = p->node->name,
                                 .pod_ip = a->o->address,
                                 .path = getenv("PATH"),
                                 .home = getenv("HOME")};
    agent_env_build(p->obj, cj, &ectx, &env, &warn);
    if (warn.msg[0])
        log_warn("pod %s: container %s: %s", p->key, c->name, warn.msg);
    char **argv = NULL;
    int argc = agent_argv_build(cj, &env, &argv);
    if (argc < 0) {
        agent_env_release(&env);
        return errf(e, EINVAL,
                    "container %s has no command: images are not pulled, so the image's "
                    "entrypoint is not known; set command (and args)",
                    c->name);
    }
    char path[AGENT_PATH_MAX];
    path_of(c, "exit", path, sizeof path);
    unlink(path);
    path_of(c, "pid", path, sizeof path);
    unlink(path);
    char cg[AGENT_PATH_MAX];
    bool use_cg = acgroup_container(&a->cg, p->uid, c->name,
                                    json_object_get(json_object_get(cj, "resources"), "limits"), cg,
                                    sizeof cg) == 0;
    const char **args = xcalloc((size_t)argc + 12, sizeof *args);
    int k = 0;
    args[k++] = a->shim_exe;
    args[k++] = "agent";
    args[k++] = "shim";
    args[k++] = "--dir";
    args[k++] = p->dir;
    args[k++] = "--container";
    args[k++] = c->name;
    if (use_cg) {
        args[k++] = "--cgroup";
        args[k++] = cg;
    }
    args[k++] = "--";
    for (int i = 0; i < argc; i++)
        args[k++] = argv[i];
    args[k] = NULL;
    char **envp = agent_env_envp(&env);
    struct aproc *pr = xcalloc(1, sizeof *pr);
    pr->a = a;
    pr->pod_id = p->id;
    pr->ctr = c->index;
    pr->generation = c->restarts;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    uv_process_options_t opt = {
        .exit_cb = on_shim_exit,
        .file = a->shim_exe,
        .args = (char **)args,
        .env = envp,
        .cwd = p->dir,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    pr->h.data = pr;
    int rc = uv_spawn(a->loop, &pr->h, &opt);
    int rc_out = 0;
    if (rc < 0) {
        rc_out = errf(e, -rc, "cannot start the shim %s: %s", a->shim_exe, uv_strerror(rc));
        free(pr);
    } else {
        c->state = ACTR_RUNNING;
        c->own = true;
        c->shim_pid = pr->h.pid;
        c->pid = 0;
        agent__rfc3339(mtime_wall_ns(), c->started_at, sizeof c->started_at);
        log_info("pod %s: container %s started (shim %d): %s", p->key, c->name, c->shim_pid,
                 argv[0]);
    }
    free(envp);
    free(args);
    agent_argv_free(argv);
    agent_env_release(&env);
    return rc_out;
}

bool agent__run_adopt(struct actr *c)
{
    char exitp[AGENT_PATH_MAX], lock[AGENT_PATH_MAX], pidp[AGENT_PATH_MAX];
    path_of(c, "exit", exitp, sizeof exitp);
    path_of(c, "lock", lock, sizeof lock);
    path_of(c, "pid", pidp, sizeof pidp);
    if (!safe_name(c->name))
        return false;
    if (lock_held(lock)) {
        c->state = ACTR_RUNNING;
        c->own = false;
        read_pid_file(pidp, &c->shim_pid, &c->pid, c->started_at, sizeof c->started_at);
        if (!c->started_at[0])
            agent__rfc3339(mtime_wall_ns(), c->started_at, sizeof c->started_at);
        log_info("pod %s: container %s adopted (running, pid %d)", c->pod->key, c->name, c->pid);
        return true;
    }
    if (access(exitp, F_OK) == 0 || access(pidp, F_OK) == 0) {
        read_pid_file(pidp, NULL, NULL, c->started_at, sizeof c->started_at);
        c->state = ACTR_RUNNING; /* for ended(), which settles it */
        log_info("pod %s: container %s ended while the agent was away", c->pod->key, c->name);
        ended(c);
        return true;
    }
    return false;
}

void agent__run_signal(struct actr *c, int sig)
{
    if (!c->pid) {
        char pidp[AGENT_PATH_MAX];
        path_of(c, "pid", pidp, sizeof pidp);
        read_pid_file(pidp, NULL, &c->pid, NULL, 0);
    }
    if (c->pid > 0) {
        log_info("pod %s: container %s: signal %d to process group %d", c->pod->key, c->name, sig,
                 c->pid);
        if (kill(-c->pid, sig) < 0 && errno != ESRCH)
            log_warn("pod %s: kill -%d -%d: %s", c->pod->key, sig, c->pid, strerror(errno));
    } else if (c->shim_pid > 0 && sig != SIGKILL) {
        kill(c->shim_pid, sig); /* the shim forwards it once the container exists */
    }
}

void agent__run_poll(struct agent *a)
{
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&a->pod_by_uid, &it));) {
        struct apod *p = e->val.ptr;
        for (size_t i = 0; i < p->nc; i++) {
            struct actr *c = &p->c[i];
            if (c->state != ACTR_RUNNING)
                continue;
            if (c->own) {
                if (!c->pid) {
                    char pidp[AGENT_PATH_MAX];
                    path_of(c, "pid", pidp, sizeof pidp);
                    read_pid_file(pidp, NULL, &c->pid, NULL, 0);
                }
                continue; /* libuv reports its end */
            }
            char lock[AGENT_PATH_MAX];
            path_of(c, "lock", lock, sizeof lock);
            if (!lock_held(lock))
                ended(c); /* may change the pod's state, never the tables */
        }
    }
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP ? rmdir(path) : unlink(path))
        return errno == ENOENT ? 0 : -1;
    return 0;
}

void agent__run_sweep(struct agent *a)
{
    if (!a->listed)
        return; /* only the list says what is no longer bound */
    DIR *d = opendir(a->pods_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *uid = de->d_name;
        if (!safe_uid(uid) || map_get(&a->pod_by_uid, uid, strlen(uid)))
            continue;
        char dir[AGENT_PATH_MAX], path[AGENT_PATH_MAX + 300], who[300] = "";
        if (snprintf(dir, sizeof dir, "%s/%s", a->pods_dir, uid) >= (int)sizeof dir)
            continue;
        snprintf(path, sizeof path, "%s/pod", dir);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(who, sizeof who, f))
                who[strcspn(who, "\n")] = 0;
            fclose(f);
        }
        /* Anything still running there is killed; the directory goes next time. */
        bool live = false;
        DIR *pd = opendir(dir);
        struct dirent *fe;
        while (pd && (fe = readdir(pd))) {
            size_t n = strlen(fe->d_name);
            if (n < 6 || strcmp(fe->d_name + n - 5, ".lock"))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, fe->d_name);
            if (!lock_held(path))
                continue;
            live = true;
            snprintf(path, sizeof path, "%s/%.*s.pid", dir, (int)(n - 5), fe->d_name);
            int pid = 0;
            read_pid_file(path, NULL, &pid, NULL, 0);
            if (pid > 0) {
                log_info("pod %s (%s): no longer bound here: killing process group %d",
                         who[0] ? who : "?", uid, pid);
                kill(-pid, SIGKILL);
            }
        }
        if (pd)
            closedir(pd);
        if (live)
            continue;
        if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
            log_warn("cannot remove %s: %s", dir, strerror(errno));
        else
            log_info("pod %s (%s): no longer bound here: removed its directory", who[0] ? who : "?",
                     uid);
        acgroup_remove_pod(&a->cg, uid);
    }
    closedir(d);
}
