/*
 * agent: the node agent, `muster agent` (docs/agent.md, docs/cluster.md).
 *
 * One process registers a Node, a ResourceSlice with one device per GPU and a
 * Lease in kube-node-lease, renews them, watches the pods bound to its node and
 * runs each container as a child process through a small per-pod shim (the
 * muster binary again, `muster agent shim`), reports the pods' status, stops
 * them on graceful deletion, and serves their logs to the API server. With
 * simulate set it runs no processes, and one process may stand for many nodes.
 *
 * Everything runs on one libuv loop: HTTP/1.1 to the server over keep-alive
 * connections of the loop's own (client.c), the log server is libmicrohttpd on
 * its own threads (logs.c).
 *
 * The parsers and builders below are pure and are what the unit tests drive;
 * agent_run() is the whole agent.
 */
#ifndef MUSTER_AGENT_AGENT_H
#define MUSTER_AGENT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

/* ---- devices (devices.c) -------------------------------------------------- */

#define AGENT_GPU_MODEL_MAX 96
#define AGENT_GPU_UUID_MAX  96
#define AGENT_GPUS_MAX      1024

struct agent_gpu {
    int index;
    char model[AGENT_GPU_MODEL_MAX]; /* "H100", "NVIDIA H100 80GB HBM3" */
    int64_t memory_bytes;            /* 0: unknown */
    char uuid[AGENT_GPU_UUID_MAX];   /* "GPU-..." */
};

struct agent_gpus {
    struct agent_gpu *v;
    size_t len, cap;
};

/* Parses a declared GPU list: one or more comma-separated groups N "x" MODEL
 * ["-" MEMORY], such as "8xH100-80GB" or "4xA100-SXM4-40GB,4xL4". The memory
 * is the last '-' part when it reads as a size (80GB, 80G, 80Gi, 81920MiB);
 * GB and G are decimal, GiB and Gi binary. "0" or "" is no GPUs. Indices run
 * from 0 across the groups; each GPU gets a made-up UUID that is stable for
 * (node, index). Appends to out (which the caller releases with
 * agent_gpus_release); returns 0, or -1 with e filled naming the bad part. */
int agent_gpus_parse(const char *spec, const char *node, struct agent_gpus *out, struct err *e);

/* Discovers the GPUs through NVML, loaded with dlopen("libnvidia-ml.so.1"):
 * name, UUID and memory of each. Returns 0, or -1 with e filled (ENOENT when
 * the library is absent, EIO when NVML fails). */
int agent_gpus_nvml(struct agent_gpus *out, struct err *e);

void agent_gpus_release(struct agent_gpus *g);

/* ---- labels (devices.c) --------------------------------------------------- */

struct agent_label {
    char *key, *value;
};

struct agent_labels {
    struct agent_label *v;
    size_t len, cap;
};

/* Parses "k=v,k2=v2" (keys are label keys, [prefix/]name; values are label
 * values, possibly empty). A later key replaces an earlier one. Appends to out
 * (released with agent_labels_release); returns 0, or -1 with e filled. */
int agent_labels_parse(const char *s, struct agent_labels *out, struct err *e);

void agent_labels_release(struct agent_labels *l);

/* ---- the container environment (env.c) ----------------------------------- */

struct agent_env_var {
    char *name, *value;
};

/* An ordered environment: setting an existing name replaces its value in
 * place. The caller embeds it zeroed and releases it with agent_env_release. */
struct agent_env {
    struct agent_env_var *v;
    size_t len, cap;
};

void agent_env_set(struct agent_env *env, const char *name, const char *value);
/* The value of name, or NULL. */
const char *agent_env_get(const struct agent_env *env, const char *name);
void agent_env_release(struct agent_env *env);

/* A NULL-terminated "NAME=value" array for execve, malloc'd in one block that
 * the caller frees with free(). */
char **agent_env_envp(const struct agent_env *env);

/* Expands Kubernetes' $(VAR) references in s against env: a defined VAR is
 * replaced by its value, an undefined one is left as written, and $$ is a
 * literal '$'. Appends to out; -1 (E2BIG) past out's limit. */
int agent_env_expand(const char *s, const struct agent_env *env, struct strbuf *out);

/* What the agent knows besides the pod when it builds an environment. */
struct agent_env_ctx {
    const char *node;   /* MUSTER_NODE_NAME, spec.nodeName */
    const char *pod_ip; /* status.podIP, status.hostIP */
    const char *path;   /* PATH given to the container ("/usr/bin:/bin" if NULL) */
    const char *home;   /* HOME, or NULL for none */
};

/* Builds the environment of one container of pod (both parsed JSON), in the
 * order: PATH, HOME, HOSTNAME (the pod name); muster's variables from the pod's
 * annotations (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, JOB_COMPLETION_INDEX,
 * MUSTER_POD_NAME, MUSTER_POD_NAMESPACE, MUSTER_NODE_NAME); the container's env
 * (value, with $(VAR) expanded; valueFrom.fieldRef for metadata.name,
 * metadata.namespace, metadata.uid, metadata.labels['k'],
 * metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
 * status.podIP and status.hostIP), which may override the earlier ones; and
 * last, so that a pod cannot widen its devices, CUDA_VISIBLE_DEVICES and
 * NVIDIA_VISIBLE_DEVICES from the muster.dev/gpus annotation (empty: no GPU;
 * "none" for NVIDIA_VISIBLE_DEVICES) and CUDA_DEVICE_ORDER=PCI_BUS_ID, so that
 * CUDA's indices are NVML's. A reference the agent cannot resolve (secretKeyRef,
 * configMapKeyRef, resourceFieldRef) leaves the variable out and is named in
 * e->msg as a warning; the function still returns 0. */
int agent_env_build(json_t *pod, json_t *container, const struct agent_env_ctx *ctx,
                    struct agent_env *out, struct err *warn);

/* Expands a container's command and args into argv (strings the caller frees
 * with agent_argv_free). Returns the count, or -1 when the container has no
 * command (the image's entrypoint is not known: images are not pulled). */
int agent_argv_build(json_t *container, const struct agent_env *env, char ***argv);
void agent_argv_free(char **argv);

/* ---- watch streams (lines.c) ---------------------------------------------- */

/* Splits a byte stream into lines, one JSON event per line as the API server
 * writes a watch. Bytes may arrive cut anywhere. */
struct agent_lines {
    struct strbuf partial; /* the unfinished last line */
};

/* A line longer than max bytes fails the stream. */
void agent_lines_init(struct agent_lines *l, size_t max);
void agent_lines_release(struct agent_lines *l);

/* Feeds n bytes; calls fn(arg, line, len) for each complete line, without its
 * newline (and without a '\r' before it); empty lines are skipped. Returns 0,
 * or -1 with errno E2BIG when a line is longer than the limit (the partial
 * line is dropped). */
int agent_lines_feed(struct agent_lines *l, const char *p, size_t n,
                     void (*fn)(void *arg, const char *line, size_t len), void *arg);

/* ---- the shim (shim.c) ---------------------------------------------------- */

/* What a shim writes when its container exits: <dir>/<container>.exit. */
struct agent_exit {
    int exit_code;       /* the process's code, or 128 + signal */
    int signal;          /* the signal that ended it, or 0 */
    char started_at[32]; /* RFC 3339 */
    char finished_at[32];
};

/* Writes x to path atomically (a temporary file renamed over it). Returns 0, or
 * -1 with e filled. */
int agent_exit_write(const char *path, const struct agent_exit *x, struct err *e);

/* Reads path into x. Returns 0; -1 with e->code ENOENT when there is no such
 * file, or EINVAL when it does not parse. */
int agent_exit_read(const char *path, struct agent_exit *x, struct err *e);

/* `muster agent shim --dir DIR --container NAME [--cgroup DIR] -- ARGV...`: the
 * shim's whole life (see shim.c). argv[0] is "shim". Returns the exit status. */
int agent_shim_main(int argc, char **argv);

/* ---- simulation (pods.c) -------------------------------------------------- */

/* The muster.dev/runtime annotation of pod: 1 with *ns set when present and
 * valid, 0 when absent, -1 with e filled when it does not parse. */
int agent_sim_runtime(json_t *pod, int64_t *ns, struct err *e);

/* ---- the agent ------------------------------------------------------------ */

struct agent_opts {
    const char *server;     /* "http://127.0.0.1:6443" */
    const char *name;       /* the node, or the prefix of count nodes */
    struct agent_gpus gpus; /* each node's GPUs */
    struct agent_labels labels;
    const char *data_dir;       /* pods live in <data_dir>/pods/<uid>/ */
    const char *address;        /* InternalIP; the log server listens there */
    int log_port;               /* 0: any free port */
    const char *port_file;      /* the log port is written here, or NULL */
    int lease_seconds;          /* leaseDurationSeconds; renewed every quarter */
    int node_status_seconds;    /* the Ready heartbeat on the Node */
    int64_t restart_backoff_ns; /* first OnFailure/Always restart delay */
    bool simulate;
    int count;               /* > 0: nodes NAME-0 .. NAME-(count-1) */
    bool drain;              /* stop the pods on SIGINT/SIGTERM */
    int connections;         /* HTTP keep-alive connections to the server */
    int64_t cpu_milli;       /* 0: the machine's */
    int64_t memory_bytes;    /* 0: the machine's */
    const char *cgroup_root; /* NULL: /sys/fs/cgroup/muster */
    const char *version;     /* muster's, for nodeInfo */
};

/* Runs the agent until SIGINT or SIGTERM. Returns 0, or -1 with e filled when
 * it cannot start (bad data directory, port in use). */
int agent_run(const struct agent_opts *o, struct err *e);

#endif
