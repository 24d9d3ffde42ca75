/*
 * agent internals shared by the files of src/agent; nothing outside the module
 * includes this.
 *
 * Ownership in one paragraph: struct agent owns the nodes and the pods; a pod
 * owns its containers and its timers (embedded, closed before the pod is
 * freed). Requests and child processes never point at a pod: they carry the
 * pod's id (a cookie) and look it up when they finish, so a pod may go away
 * while they are in flight.
 */
#ifndef MUSTER_AGENT_AGENT_INT_H
#define MUSTER_AGENT_AGENT_INT_H

#include <jansson.h>
#include <uv.h>

#include "agent/agent.h"
#include "base/map.h"
#include "base/mtime.h"

#define AGENT_PATH_MAX 4096

/* RFC 3339 seconds, UTC ("2025-01-02T03:04:05Z"), of a wall-clock time. */
void agent__rfc3339(int64_t wall_ns, char *buf, size_t size);

/* Parses an RFC 3339 UTC time as the agent writes it; 0 when it does not parse. */
int64_t agent__parse_rfc3339(const char *s);

/* ---- client.c: HTTP to the API server on the loop ------------------------- */

/* The parser of one HTTP/1.x response, fed bytes as they come. */
struct ahttp {
    int state;
    long status;
    bool keep_alive; /* the connection may carry the next request */
    uint64_t left;   /* of the body or the chunk */
    struct strbuf line;
    const char *error; /* why it failed */
};

/* Body bytes; < 0 refuses them (the response fails). */
typedef int (*ahttp_body_fn)(void *arg, const char *p, size_t n);

void ahttp_init(struct ahttp *p);
void ahttp_release(struct ahttp *p);

/* Parses s[0..n): body bytes go to body. Returns the bytes used, fewer than n
 * when the response ended (or failed) before them. */
size_t ahttp_parse(struct ahttp *p, const char *s, size_t n, ahttp_body_fn body, void *arg);

/* Whether the response is complete; failed (p->error says why). */
bool ahttp_done(const struct ahttp *p);
bool ahttp_failed(const struct ahttp *p);

/* The connection ended: completes a body that runs to the end of the
 * connection. Whether the response is complete. */
bool ahttp_eof(struct ahttp *p);

/* Whether any byte of a response came. */
bool ahttp_started(const struct ahttp *p);

struct acli;
struct acli_req;

struct acli_resp {
    long status;       /* 0 when the transfer failed */
    const char *error; /* why it failed, or NULL */
    const char *body;  /* the buffered body (requests; empty for streams) */
    size_t len;
};

typedef void (*acli_done_fn)(void *arg, uint64_t cookie, const struct acli_resp *r);
typedef void (*acli_data_fn)(void *arg, uint64_t cookie, const char *p, size_t n);

/* A client of the server at base ("http://host:port"), with at most connections
 * (> 0; agent.c chooses the default) keep-alive connections. NULL with e filled
 * for a bad URL. */
struct acli *acli_create(uv_loop_t *loop, const char *base, int connections, struct err *e);

/* Cancels every request (no callbacks) and closes the client; its handles are
 * closed on the loop's next turn. NULL is allowed. */
void acli_destroy(struct acli *c);

/* Starts a request; path includes the query. body (may be NULL) is taken and
 * freed. done is called once, on the loop. The returned request may be
 * cancelled until done is called. */
struct acli_req *acli_do(struct acli *c, const char *method, const char *path, const char *ctype,
                         char *body, acli_done_fn done, void *arg, uint64_t cookie);

/* A GET whose response may be as large as a list of every pod. */
struct acli_req *acli_get_big(struct acli *c, const char *path, acli_done_fn done, void *arg,
                              uint64_t cookie);

/* A streamed GET (a watch): data gets the body piece by piece, done the end. */
struct acli_req *acli_stream(struct acli *c, const char *path, acli_data_fn data, acli_done_fn done,
                             void *arg, uint64_t cookie);

/* Stops a request without calling it back. NULL is allowed. */
void acli_cancel(struct acli_req *r);

size_t acli_in_flight(const struct acli *c);

/* Tests: the server's addresses, as if resolved (n at most 8). */
struct sockaddr_storage;
void acli__set_addrs(struct acli *c, const struct sockaddr_storage *a, int n);

/* ---- logs.c: the log server ----------------------------------------------- */

struct alogs;

/* Serves GET /containerLogs/<ns>/<pod>/<container> on host:port (0: any port)
 * from <pods_dir>/<uid>/<container>.log. NULL with e filled. */
struct alogs *alogs_start(const char *host, int port, const char *pods_dir, struct err *e);
int alogs_port(const struct alogs *l);
/* Makes pod ns/name (uid; simulated: no files) known to the server, or forgets
 * it (only if ns/name still names that uid). */
void alogs_put(struct alogs *l, const char *ns, const char *name, const char *uid, bool simulated);
void alogs_del(struct alogs *l, const char *ns, const char *name, const char *uid);
void alogs_stop(struct alogs *l);

/* ---- cgroup.c: CPU and memory limits through cgroup v2 -------------------- */

struct acgroup {
    char root[AGENT_PATH_MAX]; /* <mount>/muster; "" when not available */
};

/* Prepares root (NULL: /sys/fs/cgroup/muster) with the cpu and memory
 * controllers. When cgroup v2 is not there or not writable it logs one line and
 * leaves g->root empty: limits are then not enforced. */
void acgroup_init(struct acgroup *g, const char *root);

/* Creates the cgroup of one container, <root>/pod<uid>/<container>, with
 * cpu.max and memory.max from the container's resources.limits. Writes its
 * path to out and returns 0, or returns -1 (nothing to join) when cgroups are
 * not available or the limits could not be set (logged). */
int acgroup_container(struct acgroup *g, const char *uid, const char *container, json_t *limits,
                      char *out, size_t size);

/* Removes the pod's cgroups (they must be empty). */
void acgroup_remove_pod(struct acgroup *g, const char *uid);

/* ---- the running agent ----------------------------------------------------- */

struct agent;
struct apod;

/* One node this process stands for. */
struct anode {
    struct agent *a;
    char *name;
    int index;
    int step;   /* registration: see node.c */
    bool ready; /* registered: Node, slice and Lease exist */
    bool lease_busy, status_busy;
    int64_t backoff_ns;
    uv_timer_t reg_timer;   /* registration retries */
    uv_timer_t lease_timer; /* Lease renewals */
    uv_timer_t hb_timer;    /* Node Ready heartbeats */
};

enum actr_state {
    ACTR_WAITING, /* not started yet */
    ACTR_RUNNING,
    ACTR_BACKOFF, /* exited, to be restarted */
    ACTR_EXITED,  /* for good */
};

/* One container of a pod. */
struct actr {
    struct apod *pod;
    int index;
    char *name, *image;
    enum actr_state state;
    int restarts;
    int shim_pid; /* our child, or an adopted shim; 0 when none */
    int pid;      /* the container's process (and group); 0 when not known yet */
    bool own;     /* shim_pid is our child: its exit is reported by libuv */
    char started_at[32];
    struct agent_exit exit; /* the last termination */
    bool has_exit;
    const char *reason; /* of the last termination: Completed, Error, StartError, ... */
    char message[160];
    int64_t sim_end_ns; /* simulate: monotonic end, 0: runs until deleted */
    uv_timer_t timer;   /* restart backoff; simulate: the end of the run */
};

struct apod {
    struct agent *a;
    uint64_t id;
    char *uid, *ns, *name, *key; /* key: "ns/name" */
    struct anode *node;
    json_t *obj; /* what is kept of the latest object seen (pods.c) */
    char *dir;   /* <data-dir>/pods/<uid>, once created */
    struct actr *c;
    size_t nc;
    bool started; /* containers started or adopted */
    bool scheduled_cond; /* its status has PodScheduled (else the agent adds it) */
    char start_time[32];
    int restart_policy; /* 0 Always, 1 OnFailure, 2 Never */
    bool deleting, killed, delete_busy, deleted;
    bool status_busy, status_dirty;
    char *sent_status; /* the status last written, to skip repeats */
    int64_t ready_changed_ns;
    bool ready;
    uv_timer_t kill_timer;  /* SIGKILL after the grace period */
    uv_timer_t retry_timer; /* status and delete retries */
    int closing;            /* handles still closing before the pod is freed */
};

struct agent {
    const struct agent_opts *o;
    uv_loop_t *loop;
    struct acli *cli;
    struct alogs *logs;
    struct acgroup cg;
    char shim_exe[AGENT_PATH_MAX];
    char pods_dir[AGENT_PATH_MAX];
    const char *version;
    struct anode *nodes;
    size_t n_nodes;
    size_t n_registered;
    struct map node_by_name; /* name -> struct anode */
    struct map pod_by_uid;   /* uid -> struct apod */
    struct map pod_by_id;    /* id -> struct apod */
    uint64_t next_id;
    int64_t cpu_milli, memory_bytes;
    int log_port;
    bool stopping;
    bool listed; /* the first pod list is in */
    /* the pod watch (watch.c) */
    struct acli_req *watch_req;
    char rv[32];
    bool relist;
    int64_t watch_backoff_ns;
    struct agent_lines lines;
    uv_timer_t watch_timer;
    uv_timer_t poll_timer; /* adopted containers and the orphan sweep */
    uv_timer_t stop_timer; /* shutdown progress */
    uv_signal_t sigint, sigterm;
    int64_t stop_deadline_ns;
    int64_t last_sweep_ns;
};

/* node.c */
void agent__nodes_start(struct agent *a);
void agent__nodes_stop(struct agent *a);

/* watch.c */
void agent__watch_start(struct agent *a);
void agent__watch_stop(struct agent *a);

/* pods.c */
void agent__pod_seen(struct agent *a, json_t *obj); /* ADDED or MODIFIED */
/* Whether the agent already runs the pod of this uid. */
bool agent__pod_known(struct agent *a, const char *uid);
void agent__pod_gone(struct agent *a, const char *uid);
/* After a list: every pod not in the list is gone. seen maps uid -> anything. */
void agent__pods_relisted(struct agent *a, const struct map *seen);
void agent__pods_stop_all(struct agent *a);   /* --drain */
bool agent__pods_busy(const struct agent *a); /* drain not finished */
void agent__pods_free_all(struct agent *a);
/* A container's end, as run.c learnt it. */
void agent__ctr_exited(struct actr *c, const struct agent_exit *x, const char *reason,
                       const char *message);

/* run.c: real processes */
int agent__run_start(struct actr *c, struct err *e); /* spawns the shim */
bool agent__run_adopt(struct actr *c);               /* from the pod's files */
void agent__run_signal(struct actr *c, int sig);
void agent__run_poll(struct agent *a);                 /* adopted containers' ends */
void agent__run_sweep(struct agent *a);                /* directories of gone pods */
int agent__run_pod_dir(struct apod *p, struct err *e); /* creates it */

#endif
