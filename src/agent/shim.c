/*
 * agent/shim: the per-container shim, `muster agent shim`, and the files it
 * leaves in the pod's directory.
 *
 * The agent starts one shim per container (detached: a session of its own), so
 * the container outlives an agent that is killed or restarted. The shim
 *
 *   1. takes an exclusive flock on <dir>/<c>.lock and holds it while it lives:
 *      a restarted agent tells a live container (lock held) from a finished
 *      one without trusting a pid that may have been reused;
 *   2. joins --cgroup, if given, so that the container is limited from its
 *      first instruction;
 *   3. forks the container process, which makes its own process group (the
 *      agent signals that group), sends stdout and stderr to <dir>/<c>.log
 *      (appending, so restarts add to it) and execs the command with the
 *      environment the shim was given, in the current directory;
 *   4. writes <dir>/<c>.pid ({"shimPid", "pid", "startedAt"}), forwards
 *      SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the
 *      container's group, and waits;
 *   5. when the container's process ends, kills what is left of its group,
 *      writes <dir>/<c>.exit (agent_exit_write) and exits 0.
 *
 * The exit code is the process's, or 128 + the signal that killed it, as a
 * container runtime reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"

int agent_exit_write(const char *path, const struct agent_exit *x, struct err *e)
{
    char tmp[AGENT_PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return errf(e, ENAMETOOLONG, "%s: path too long", path);
    json_t *j = json_pack("{s:i,s:i,s:s,s:s}", "exitCode", x->exit_code, "signal", x->signal,
                          "startedAt", x->started_at, "finishedAt", x->finished_at);
    int rc = j ? json_dump_file(j, tmp, JSON_COMPACT) : -1;
    json_decref(j);
    if (rc < 0 || rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        return errf(e, saved ? saved : EIO, "cannot write %s: %s", path,
                    saved ? strerror(saved) : "encoding failed");
    }
    return 0;
}

int agent_exit_read(const char *path, struct agent_exit *x, struct err *e)
{
    memset(x, 0, sizeof *x);
    if (access(path, F_OK) < 0)
        return errf(e, ENOENT, "%s: no such file", path);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    json_t *code = json_object_get(j, "exitCode");
    if (!json_is_integer(code)) {
        json_decref(j);
        return errf(e, EINVAL, "%s: not an exit record (%s)", path, j ? "no exitCode" : je.text);
    }
    x->exit_code = (int)json_integer_value(code);
    x->signal = (int)json_integer_value(json_object_get(j, "signal"));
    snprintf(x->started_at, sizeof x->started_at, "%s",
             json_string_value(json_object_get(j, "startedAt")) ?: "");
    snprintf(x->finished_at, sizeof x->finished_at, "%s",
             json_string_value(json_object_get(j, "finishedAt")) ?: "");
    json_decref(j);
    return 0;
}

void agent__rfc3339(int64_t wall_ns, char *buf, size_t size)
{
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the shim process ------------------------------------------------------- */

static volatile sig_atomic_t child_pgid;

static void forward(int sig)
{
    if (child_pgid > 0)
        kill(-child_pgid, sig);
}

static void shim_usage(void)
{
    fprintf(stderr, "usage: muster agent shim --dir DIR --container NAME [--cgroup DIR] -- "
                    "COMMAND [ARGS...]\n(started by the agent; not meant to be run by hand)\n");
}

/* Writes s to path (a cgroup control file). */
static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, s, strlen(s));
    close(fd);
    return n == (ssize_t)strlen(s) ? 0 : -1;
}

int agent_shim_main(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL, *cgroup = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--") && i + 1 < argc) {
            i++;
            break;
        }
        if (i + 1 >= argc) {
            shim_usage();
            return 2;
        }
        if (!strcmp(argv[i], "--dir"))
            dir = argv[++i];
        else if (!strcmp(argv[i], "--container"))
            name = argv[++i];
        else if (!strcmp(argv[i], "--cgroup"))
            cgroup = argv[++i];
        else {
            shim_usage();
            return 2;
        }
    }
    if (!dir || !name || i >= argc || strchr(name, '/')) {
        shim_usage();
        return 2;
    }
    char **cmd = argv + i;
    /* Nothing of the agent's (sockets, the log server) stays open here. */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);

    char lock[AGENT_PATH_MAX], log[AGENT_PATH_MAX], pidf[AGENT_PATH_MAX], exitf[AGENT_PATH_MAX];
    snprintf(lock, sizeof lock, "%s/%s.lock", dir, name);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    snprintf(pidf, sizeof pidf, "%s/%s.pid", dir, name);
    snprintf(exitf, sizeof exitf, "%s/%s.exit", dir, name);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "muster shim: %s: %s\n", lock,
                lfd < 0 ? strerror(errno) : "held by another shim");
        return 1;
    }
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
        fprintf(stderr, "muster shim: %s: %s\n", log, strerror(errno));
        return 1;
    }
    dup2(out, 2); /* the shim's own complaints land in the container's log */
    if (cgroup) {
        char procs[AGENT_PATH_MAX];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup);
        if (write_file(procs, "0\n") < 0)
            fprintf(stderr, "muster shim: cannot join cgroup %s: %s\n", cgroup, strerror(errno));
    }

    /* Signals that arrive before the child exists are held, then forwarded. */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &all, NULL);
    struct agent_exit x = {0};
    agent__rfc3339(mtime_wall_ns(), x.started_at, sizeof x.started_at);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(out, 1);
        dup2(out, 2);
        for (int s = 1; s < NSIG; s++)
            signal(s, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(cmd[0], cmd);
        int saved = errno;
        dprintf(2, "muster: cannot run %s: %s\n", cmd[0], strerror(saved));
        _exit(saved == ENOENT ? 127 : 126);
    }
    if (pid < 0) {
        dprintf(out, "muster: fork: %s\n", strerror(errno));
        x.exit_code = 126;
    } else {
        setpgid(pid, pid); /* also here, so that the group exists before any signal */
        child_pgid = pid;
        json_t *j = json_pack("{s:i,s:i,s:s}", "shimPid", (int)getpid(), "pid", (int)pid,
                              "startedAt", x.started_at);
        char tmp[AGENT_PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", pidf);
        if (json_dump_file(j, tmp, JSON_COMPACT) == 0)
            rename(tmp, pidf);
        json_decref(j);
        struct sigaction sa = {.sa_handler = forward};
        sigemptyset(&sa.sa_mask);
        static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        for (size_t k = 0; k < sizeof fwd / sizeof fwd[0]; k++)
            sigaction(fwd[k], &sa, NULL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(status)) {
            x.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            x.signal = WTERMSIG(status);
            x.exit_code = 128 + x.signal;
        }
        /* The container ends with its main process: nothing of it lingers. */
        kill(-pid, SIGKILL);
    }
    close(out);
    agent__rfc3339(mtime_wall_ns(), x.finished_at, sizeof x.finished_at);
    struct err e;
    if (agent_exit_write(exitf, &x, &e) < 0) {
        fprintf(stderr, "muster shim: %s\n", e.msg);
        return 1;
    }
    close(lfd);
    return 0;
}
