/* cli/benchproc: benchmark child processes (see benchproc.h). */
#include "cli/benchproc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/mtime.h"

int bench_tmpdir(const char *tag, char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = P_tmpdir;
    snprintf(dir, size, "%s/muster-bench-%s.XXXXXX", tmp, tag);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "muster bench: mkdtemp %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* MUSTER_BENCH_WRAP_SERVER / _AGENT: a command line (words split on spaces)
 * that the child is run under, for profiling, e.g. "valgrind --tool=callgrind". */
static int wrap_words(const char *sub, char *buf, size_t size, const char **out, int max)
{
    char name[64];
    snprintf(name, sizeof name, "MUSTER_BENCH_WRAP_%s", sub);
    for (char *q = name; *q; q++)
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    const char *w = getenv(name);
    if (!w || !*w)
        return 0;
    snprintf(buf, size, "%s", w);
    int n = 0;
    for (char *tok = strtok(buf, " "); tok && n < max; tok = strtok(NULL, " "))
        out[n++] = tok;
    return n;
}

int bench_spawn(const char *const *argv, const char *log, struct bench_child *c)
{
    const char *full[80] = {"muster"};
    char wbuf[512], self[512];
    int n = wrap_words(argv[0], wbuf, sizeof wbuf, full, 15);
    bool wrapped = n > 0;
    if (wrapped) {
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k <= 0) {
            fprintf(stderr, "muster bench: readlink /proc/self/exe: %s\n", strerror(errno));
            return -1;
        }
        self[k] = 0;
        full[n++] = self;
    } else {
        n = 1;
    }
    for (int i = 0; argv[i] && n < 79; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    snprintf(c->log, sizeof c->log, "%s", log);
    c->port = 0;
    fflush(NULL);
    c->pid = fork();
    if (c->pid < 0) {
        fprintf(stderr, "muster bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (c->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (wrapped)
            execvp(full[0], (char *const *)full);
        else
            execv("/proc/self/exe", (char *const *)full);
        fprintf(stderr, "exec %s: %s\n", wrapped ? full[0] : "/proc/self/exe", strerror(errno));
        _exit(127);
    }
    return 0;
}

void bench_child_log(const struct bench_child *c, const char *prefix)
{
    FILE *f = fopen(c->log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  %s: %s", prefix, line);
    fclose(f);
}

int bench_server_start(const char *dir, const char *const *extra, struct bench_child *c)
{
    char data[600], portf[600], log[600];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(portf, sizeof portf, "%s/port", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "muster bench: mkdir %s: %s\n", data, strerror(errno));
        return -1;
    }
    const char *argv[48] = {"server", "--data-dir", data, "--listen", "127.0.0.1:0",
                            "--port-file", portf};
    int n = 7;
    for (int i = 0; extra && extra[i] && n < 47; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (bench_spawn(argv, log, c))
        return -1;
    int64_t deadline = mtime_now_ns() + 20 * 1000000000LL;
    while (mtime_now_ns() < deadline) {
        int st;
        if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
            fprintf(stderr, "muster bench: the server exited with status %d before listening:\n",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            bench_child_log(c, "server");
            c->pid = 0;
            return -1;
        }
        FILE *f = fopen(portf, "r");
        if (f) {
            int port = 0;
            bool ok = fscanf(f, "%d", &port) == 1 && port > 0;
            fclose(f);
            if (ok) {
                c->port = port;
                return 0;
            }
        }
        usleep(10000);
    }
    fprintf(stderr, "muster bench: the server did not write %s within 20 s\n", portf);
    bench_child_log(c, "server");
    return -1;
}

double bench_child_status(const struct bench_child *c, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)c->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    double v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL);
            if (strncmp(key, "Vm", 2) == 0)
                v /= 1024.0;
            break;
        }
    fclose(f);
    return v;
}

void bench_child_stop(struct bench_child *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGTERM);
    for (int i = 0; i < 1000; i++) {
        if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
            c->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    c->pid = 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void bench_rmtree(const char *dir)
{
    if (dir && dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

double bench_quantile_ms(int64_t *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1e6;
}
