/* muster agent: the node agent (src/agent, docs/agent.md). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/log.h"
#include "base/mtime.h"
#include "cli/cli.h"
#include "model/quantity.h"

#ifndef MUSTER_VERSION
#define MUSTER_VERSION "dev"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: muster agent --server URL [--name NAME] [--gpus NxMODEL-MEMORY | --gpus nvml]\n"
            "                    [--labels K=V,...] [--data-dir DIR] [--address IP]\n"
            "                    [--log-port PORT] [--port-file FILE] [--lease-seconds 40]\n"
            "                    [--node-status-seconds 60] [--restart-backoff 10s] [--drain]\n"
            "                    [--cpus QTY] [--memory QTY] [--cgroup-root DIR]\n"
            "                    [--connections N] [--simulate [--count N]] [--log-level LEVEL]\n\n"
            "Registers Node NAME (default: the host name) with the API server at URL, with a\n"
            "ResourceSlice of its GPUs (declared, as in 8xH100-80GB, or found through NVML)\n"
            "and a Lease in kube-node-lease, and runs the pods bound to it as processes:\n"
            "each container's command and args in DIR/pods/<uid>/ (images are not pulled),\n"
            "logs served on IP:PORT for kubectl logs. --simulate runs no processes: a pod\n"
            "runs for its muster.dev/runtime annotation; --count N stands for nodes\n"
            "NAME-0 .. NAME-(N-1). Stops on SIGINT or SIGTERM, leaving running containers\n"
            "to the next agent unless --drain. docs/agent.md has the details.\n");
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "muster agent: %s '%s'\n", msg, arg);
    return 2;
}

/* The options that take an integer in a range, and the field each sets. */
struct int_opt {
    const char *name;
    long lo, hi;
    size_t off; /* of an int in struct agent_opts */
};

static const struct int_opt *int_option(const char *a)
{
    static const struct int_opt opts[] = {
        {"--log-port", 0, 65535, offsetof(struct agent_opts, log_port)},
        {"--lease-seconds", 1, 3600, offsetof(struct agent_opts, lease_seconds)},
        {"--node-status-seconds", 1, 3600, offsetof(struct agent_opts, node_status_seconds)},
        {"--count", 1, 100000, offsetof(struct agent_opts, count)},
        {"--connections", 1, 1024, offsetof(struct agent_opts, connections)},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (!strcmp(a, opts[i].name))
            return &opts[i];
    return NULL;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int cli_agent(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "shim"))
        return agent_shim_main(argc - 1, argv + 1);
    struct agent_opts o = {
        .address = "127.0.0.1",
        .lease_seconds = 40,
        .node_status_seconds = 60,
        .restart_backoff_ns = 10 * MTIME_S,
        .version = MUSTER_VERSION,
    };
    const char *gpus = NULL, *labels = NULL;
    struct err e;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        int64_t q;
        const struct int_opt *io;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--simulate")) {
            o.simulate = true;
            continue;
        } else if (!strcmp(a, "--drain")) {
            o.drain = true;
            continue;
        } else if (!v) {
            rc = bad("unknown or incomplete argument", a);
            usage(stderr);
            goto out;
        }
        i++;
        if (!strcmp(a, "--server")) {
            o.server = v;
        } else if (!strcmp(a, "--name")) {
            o.name = v;
        } else if (!strcmp(a, "--gpus")) {
            gpus = v;
        } else if (!strcmp(a, "--labels")) {
            labels = v;
        } else if (!strcmp(a, "--data-dir")) {
            o.data_dir = v;
        } else if (!strcmp(a, "--address")) {
            o.address = v;
        } else if (!strcmp(a, "--port-file")) {
            o.port_file = v;
        } else if (!strcmp(a, "--cgroup-root")) {
            o.cgroup_root = v;
        } else if ((io = int_option(a))) {
            if (!parse_int(v, io->lo, io->hi, &n)) {
                char msg[80];
                snprintf(msg, sizeof msg, "%s wants %ld to %ld, not", a, io->lo, io->hi);
                rc = bad(msg, v);
                goto out;
            }
            *(int *)((char *)&o + io->off) = (int)n;
        } else if (!strcmp(a, "--restart-backoff")) {
            if (mtime_parse_duration(v, &o.restart_backoff_ns, &e) < 0 ||
                o.restart_backoff_ns < MTIME_MS) {
                rc = bad("--restart-backoff wants a duration of at least 1ms, such as 10s, not", v);
                goto out;
            }
        } else if (!strcmp(a, "--cpus")) {
            if (quantity_parse_str(v, &q, &e) < 0 || q <= 0) {
                rc = bad("--cpus wants a CPU quantity such as 16 or 7500m, not", v);
                goto out;
            }
            o.cpu_milli = q;
        } else if (!strcmp(a, "--memory")) {
            if (quantity_parse_str(v, &q, &e) < 0 || q < 1000) {
                rc = bad("--memory wants a quantity of bytes such as 512Gi, not", v);
                goto out;
            }
            o.memory_bytes = q / 1000;
        } else if (!strcmp(a, "--log-level")) {
            enum log_level l;
            if (log_parse_level(v, &l, &e) < 0) {
                fprintf(stderr, "muster agent: %s\n", e.msg);
                goto out;
            }
            log_set_level(l);
        } else {
            rc = bad("unknown argument", a);
            usage(stderr);
            goto out;
        }
    }
    if (!o.server) {
        fprintf(stderr, "muster agent: --server URL is required (the API server, as in "
                        "http://127.0.0.1:6443)\n");
        usage(stderr);
        goto out;
    }
    if (o.count && !o.simulate) {
        fprintf(stderr, "muster agent: --count needs --simulate (one process runs real pods for "
                        "one node)\n");
        goto out;
    }
    char host[256];
    if (!o.name) {
        if (gethostname(host, sizeof host) < 0)
            snprintf(host, sizeof host, "node");
        host[sizeof host - 1] = 0;
        for (char *p = host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        o.name = host;
    }
    char dir[1024];
    if (!o.data_dir) {
        const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (state && *state)
            snprintf(dir, sizeof dir, "%s/muster/agent-%s", state, o.name);
        else
            snprintf(dir, sizeof dir, "%s/.local/state/muster/agent-%s", home ? home : ".", o.name);
        o.data_dir = dir;
    }
    /* The shims and the pods work in subdirectories: keep every path absolute. */
    char abs_dir[1024];
    if (o.data_dir[0] != '/') {
        char cwd[512];
        if (!getcwd(cwd, sizeof cwd)) {
            fprintf(stderr, "muster agent: getcwd: %s\n", strerror(errno));
            rc = 1;
            goto out;
        }
        snprintf(abs_dir, sizeof abs_dir, "%s/%s", cwd, o.data_dir);
        o.data_dir = abs_dir;
    }
    log_set_timestamps(true);
    if (gpus && !strcmp(gpus, "nvml")) {
        if (agent_gpus_nvml(&o.gpus, &e) < 0) {
            fprintf(stderr, "muster agent: %s\n", e.msg);
            rc = 1;
            goto out;
        }
    } else if (agent_gpus_parse(gpus, o.name, &o.gpus, &e) < 0) {
        fprintf(stderr, "muster agent: %s\n", e.msg);
        goto out;
    }
    if (agent_labels_parse(labels, &o.labels, &e) < 0) {
        fprintf(stderr, "muster agent: %s\n", e.msg);
        goto out;
    }
    rc = agent_run(&o, &e) < 0 ? 1 : 0;
    if (rc)
        fprintf(stderr, "muster agent: %s\n", e.msg);
out:
    agent_gpus_release(&o.gpus);
    agent_labels_release(&o.labels);
    return rc;
}
