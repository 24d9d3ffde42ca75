/* muster server: the API server on a store (SQLite in --data-dir, or memory). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"
#include "base/log.h"
#include "cli/cli.h"
#include "ctrl/ctrl.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: muster server --data-dir DIR [--listen HOST:PORT]\n"
               "                     [--store sqlite|memory|etcd] [--etcd-endpoint URL]\n"
               "                     [--etcd-prefix PREFIX] [--port-file FILE] [--log-level LEVEL]\n"
               "                     [--no-controllers] [--fair-sharing] [--backfill]\n"
               "                     [--http-threads N] [--http-workers N]\n\n"
               "Serves the Kubernetes API on HOST:PORT (default 127.0.0.1:6443; port 0 picks a\n"
               "free one, written to --port-file). Plain HTTP, no authentication: keep it on\n"
               "127.0.0.1. Stops on SIGINT or SIGTERM. --store etcd keeps the state in an etcd\n"
               "(v3, default endpoint http://127.0.0.1:2379, keys under --etcd-prefix, default\n"
               "/muster) so several servers can share it.\n\n"
               "The server also runs the controllers (docs/cluster.md): the scheduler loop,\n"
               "the Job controller and node lifecycle; --no-controllers serves the API only.\n"
               "--fair-sharing and --backfill turn on those admission policies.\n\n"
               "--http-threads: event-loop threads (default: one per CPU); --http-workers:\n"
               "threads that run requests (default %d). docs/internals/http.md.\n",
               API_WORKERS_DEFAULT);
}

int cli_mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

int cli_parse_listen(const char *cmd, const char *listen, char *host, size_t size, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= size) {
        fprintf(stderr, "%s: --listen wants HOST:PORT, got '%s'\n", cmd, listen);
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535) {
        fprintf(stderr, "%s: bad port in --listen '%s'\n", cmd, listen);
        return -1;
    }
    *port = (int)p;
    return 0;
}

int cli_server(int argc, char **argv)
{
    const char *dir = NULL, *listen = "127.0.0.1:6443", *backend = "sqlite", *port_file = NULL;
    const char *etcd_endpoint = "http://127.0.0.1:2379", *etcd_prefix = "/muster";
    bool controllers = true;
    unsigned http_threads = 0, http_workers = 0;
    struct ctrl_opts co = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--data-dir") && v) {
            dir = v;
            i++;
        } else if (!strcmp(a, "--listen") && v) {
            listen = v;
            i++;
        } else if (!strcmp(a, "--store") && v) {
            backend = v;
            i++;
        } else if (!strcmp(a, "--etcd-endpoint") && v) {
            etcd_endpoint = v;
            i++;
        } else if (!strcmp(a, "--etcd-prefix") && v) {
            etcd_prefix = v;
            i++;
        } else if (!strcmp(a, "--no-controllers")) {
            controllers = false;
        } else if (!strcmp(a, "--fair-sharing")) {
            co.fair_sharing = true;
        } else if (!strcmp(a, "--backfill")) {
            co.backfill = true;
        } else if ((!strcmp(a, "--http-threads") || !strcmp(a, "--http-workers")) && v) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 1024) {
                fprintf(stderr, "muster server: %s wants a number from 1 to 1024, got '%s'\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--http-threads"))
                http_threads = (unsigned)n;
            else
                http_workers = (unsigned)n;
            i++;
        } else if (!strcmp(a, "--port-file") && v) {
            port_file = v;
            i++;
        } else if (!strcmp(a, "--log-level") && v) {
            enum log_level l;
            struct err e;
            if (log_parse_level(v, &l, &e) < 0) {
                fprintf(stderr, "muster server: %s\n", e.msg);
                return 2;
            }
            log_set_level(l);
            i++;
        } else {
            fprintf(stderr, "muster server: unknown or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    char host[64];
    int port;
    if (cli_parse_listen("muster server", listen, host, sizeof host, &port))
        return 2;
    struct err e;
    struct store *st;
    if (!strcmp(backend, "memory")) {
        st = store_open_mem(NULL);
    } else if (!strcmp(backend, "sqlite")) {
        if (!dir) {
            fprintf(stderr, "muster server: --data-dir is required with --store sqlite\n");
            return 2;
        }
        if (cli_mkdir_p(dir)) {
            fprintf(stderr, "muster server: cannot create %s: %s\n", dir, strerror(errno));
            return 1;
        }
        st = store_open_sqlite(dir, NULL, &e);
        if (!st) {
            fprintf(stderr, "muster server: %s\n", e.msg);
            return 1;
        }
    } else if (!strcmp(backend, "etcd")) {
        st = store_open_etcd(etcd_endpoint, etcd_prefix, NULL, &e);
        if (!st) {
            fprintf(stderr, "muster server: %s\n", e.msg);
            return 1;
        }
    } else {
        fprintf(stderr, "muster server: --store must be sqlite, memory or etcd, not '%s'\n",
                backend);
        return 2;
    }

    /* Block the stop signals before any thread starts, then wait for one. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct api_server_opts o = {
        .host = host, .port = port, .threads = http_threads, .workers = http_workers};
    struct api_server *srv = api_server_start(&o, st, &e);
    if (!srv) {
        fprintf(stderr, "muster server: %s\n", e.msg);
        store_close(st);
        return 1;
    }
    int bound = api_server_port(srv);
    struct ctrl *ctl = NULL;
    if (controllers && !(ctl = ctrl_start(st, &co, &e))) {
        fprintf(stderr, "muster server: controllers: %s\n", e.msg);
        api_server_stop(srv);
        store_close(st);
        return 1;
    }
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (!f || fprintf(f, "%d\n", bound) < 0 || fclose(f) != 0) {
            fprintf(stderr, "muster server: cannot write %s: %s\n", port_file, strerror(errno));
            ctrl_stop(ctl);
            api_server_stop(srv);
            store_close(st);
            return 1;
        }
    }
    fprintf(stderr, "muster server: listening on http://%s:%d (store %s)\n", host, bound,
            store_backend(st));
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "muster server: stopping (signal %d)\n", sig);
    ctrl_stop(ctl);
    api_server_stop(srv);
    struct store_stats ss;
    store_stats(st, &ss);
    fprintf(stderr, "muster server: %" PRId64 " writes in %" PRId64 " commits\n", ss.writes,
            ss.commits);
    store_close(st);
    return 0;
}
