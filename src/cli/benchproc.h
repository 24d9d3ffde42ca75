/*
 * cli/benchproc: the child processes of a benchmark (a muster server, agents):
 * started from this same binary in a fresh directory under $TMPDIR, their output
 * in a log there, stopped and the directory removed at the end.
 */
#ifndef MUSTER_CLI_BENCHPROC_H
#define MUSTER_CLI_BENCHPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bench_child {
    pid_t pid;
    int port;      /* a server's port, once it listens */
    char log[600]; /* its stdout and stderr */
};

/* Makes a fresh directory "<TMPDIR>/muster-bench-<tag>.XXXXXX" into dir.
 * Returns 0, or -1 after printing why. */
int bench_tmpdir(const char *tag, char *dir, size_t size);

/* Starts `muster <argv...>` (argv[0] is the subcommand, NULL-terminated) with its
 * output in log. Returns 0 or -1 after printing why. */
int bench_spawn(const char *const *argv, const char *log, struct bench_child *c);

/* Starts `muster server --data-dir DIR/data --listen 127.0.0.1:0 --port-file
 * DIR/port` plus extra (NULL-terminated, may be NULL) and waits up to 20 s for
 * its port. Returns 0 or -1 after printing why and the log. */
int bench_server_start(const char *dir, const char *const *extra, struct bench_child *c);

/* A line "Key:" of /proc/<pid>/status in MiB (VmHWM, VmRSS) or as a number
 * (Threads); -1 when unreadable. */
double bench_child_status(const struct bench_child *c, const char *key);

/* Prints the child's log to stderr, each line prefixed. */
void bench_child_log(const struct bench_child *c, const char *prefix);

/* SIGTERM, then waits (SIGKILL after 10 s). */
void bench_child_stop(struct bench_child *c);

/* Removes dir and everything under it. */
void bench_rmtree(const char *dir);

/* Sorts v and returns its q-quantile (nearest rank) divided by 1e6 (ns -> ms). */
double bench_quantile_ms(int64_t *v, size_t n, double q);

#endif
