/*
 * agent/node: registration and heartbeats of the agent's nodes.
 *
 * Each node goes through three steps, retried with backoff until the server
 * answers (it may start after the agent):
 *
 *   NODE   POST the Node with its status; when it exists (409), PATCH its labels
 *          and then its status (strategic merge: conditions and addresses merge
 *          by type);
 *   SLICE  POST the ResourceSlice <node>-gpus (skipped without GPUs); 409: a
 *          merge PATCH of its spec;
 *   LEASE  POST Lease <node> in kube-node-lease; 409: a merge PATCH of its spec.
 *
 * Then the Lease is renewed every quarter of leaseDurationSeconds (the nodes of
 * one process spread over the period) and the Node's Ready condition gets a
 * heartbeat every node_status_seconds. A 404 on either means someone deleted
 * the object: the node registers again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "model/jsonout.h"

enum {
    STEP_NODE,
    STEP_NODE_LABELS,
    STEP_NODE_STATUS,
    STEP_SLICE,
    STEP_SLICE_PATCH,
    STEP_LEASE,
    STEP_LEASE_PATCH,
    STEP_DONE
};

#define BACKOFF_MIN ((int64_t)500 * MTIME_MS)
#define BACKOFF_MAX ((int64_t)30 * MTIME_S)

static void step(struct anode *n);

/* "2006-01-02T15:04:05.000000Z", the MicroTime of a Lease. */
static void micro_time(char *buf, size_t size)
{
    int64_t now = mtime_wall_ns();
    time_t t = (time_t)(now / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char s[32];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%06ldZ", s, (long)(now % 1000000000 / 1000));
}

/* A byte count as a quantity: the largest binary or decimal unit that divides it. */
static void bytes_quantity(int64_t b, char *buf, size_t size)
{
    static const struct {
        int64_t unit;
        const char *suffix;
    } units[] = {{1LL << 40, "Ti"}, {1000000000000LL, "T"}, {1LL << 30, "Gi"}, {1000000000, "G"},
                 {1LL << 20, "Mi"}, {1000000, "M"},         {1LL << 10, "Ki"}, {1000, "k"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (b >= units[i].unit && b % units[i].unit == 0) {
            snprintf(buf, size, "%lld%s", (long long)(b / units[i].unit), units[i].suffix);
            return;
        }
    snprintf(buf, size, "%lld", (long long)b);
}

static json_t *ready_condition(bool transition)
{
    char now[32];
    agent__rfc3339(mtime_wall_ns(), now, sizeof now);
    json_t *c = json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", "Ready", "status", "True", "reason",
                          "KubeletReady", "message", "muster agent is posting ready status",
                          "lastHeartbeatTime", now);
    if (transition)
        json_object_set_new(c, "lastTransitionTime", json_string(now));
    return c;
}

static json_t *node_labels(struct anode *n)
{
    const struct agent_opts *o = n->a->o;
    struct utsname u;
    const char *arch = "amd64";
    if (uname(&u) == 0 && (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64")))
        arch = "arm64";
    json_t *l = json_pack("{s:s,s:s,s:s}", "kubernetes.io/hostname", n->name, "kubernetes.io/os",
                          "linux", "kubernetes.io/arch", arch);
    if (o->gpus.len) {
        char v[64];
        char model[AGENT_GPU_MODEL_MAX];
        /* A label value: the model with spaces made dashes, as GPU feature
         * discovery writes nvidia.com/gpu.product. */
        snprintf(model, sizeof model, "%.63s", o->gpus.v[0].model);
        for (char *p = model; *p; p++)
            if (*p == ' ')
                *p = '-';
        json_object_set_new(l, "nvidia.com/gpu.product", json_string(model));
        snprintf(v, sizeof v, "%zu", o->gpus.len);
        json_object_set_new(l, "nvidia.com/gpu.count", json_string(v));
        if (o->gpus.v[0].memory_bytes) {
            snprintf(v, sizeof v, "%lld", (long long)(o->gpus.v[0].memory_bytes >> 20));
            json_object_set_new(l, "nvidia.com/gpu.memory", json_string(v));
        }
    }
    for (size_t i = 0; i < o->labels.len; i++)
        json_object_set_new(l, o->labels.v[i].key, json_string(o->labels.v[i].value));
    return l;
}

static json_t *node_status(struct anode *n)
{
    struct agent *a = n->a;
    char cpu[32], mem[32], gpus[32];
    snprintf(cpu, sizeof cpu, "%lldm", (long long)a->cpu_milli);
    if (a->cpu_milli % 1000 == 0)
        snprintf(cpu, sizeof cpu, "%lld", (long long)(a->cpu_milli / 1000));
    bytes_quantity(a->memory_bytes, mem, sizeof mem);
    snprintf(gpus, sizeof gpus, "%zu", a->o->gpus.len);
    json_t *cap = json_pack("{s:s,s:s,s:s,s:s}", "cpu", cpu, "memory", mem, "pods", "110",
                            "nvidia.com/gpu", gpus);
    struct utsname u;
    if (uname(&u) < 0)
        memset(&u, 0, sizeof u);
    char machine_id[64] = "";
    FILE *f = fopen("/etc/machine-id", "r");
    if (f) {
        if (!fgets(machine_id, sizeof machine_id, f))
            machine_id[0] = 0;
        machine_id[strcspn(machine_id, "\n")] = 0;
        fclose(f);
    }
    char runtime[64], kubelet[64];
    snprintf(runtime, sizeof runtime, "muster://%s", a->version);
    snprintf(kubelet, sizeof kubelet, "muster-%s", a->version);
    json_t *conds = json_array();
    json_array_append_new(conds, ready_condition(true));
    return json_pack(
        "{s:o,s:O,s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s},"
        "s:o}",
        "capacity", cap, "allocatable", cap, "addresses", "type", "InternalIP", "address",
        a->o->address, "type", "Hostname", "address", n->name, "daemonEndpoints", "kubeletEndpoint",
        "Port", a->log_port, "nodeInfo", "machineID", machine_id, "systemUUID", "", "bootID", "",
        "kernelVersion", u.release, "osImage",
        a->o->simulate ? "simulated by muster agent" : "muster agent", "containerRuntimeVersion",
        runtime, "kubeletVersion", kubelet, "operatingSystem", "linux", "architecture",
        strcmp(u.machine, "aarch64") ? "amd64" : "arm64", "conditions", conds);
}

static json_t *slice_spec(struct anode *n)
{
    const struct agent_gpus *g = &n->a->o->gpus;
    json_t *devs = json_array();
    for (size_t i = 0; i < g->len; i++) {
        char name[32], mem[32];
        snprintf(name, sizeof name, "gpu-%d", g->v[i].index);
        json_t *attrs = json_pack("{s:{s:i},s:{s:s},s:{s:s}}", "index", "int", g->v[i].index,
                                  "model", "string", g->v[i].model, "uuid", "string", g->v[i].uuid);
        json_t *d = json_pack("{s:s,s:o}", "name", name, "attributes", attrs);
        if (g->v[i].memory_bytes) {
            bytes_quantity(g->v[i].memory_bytes, mem, sizeof mem);
            json_object_set_new(attrs, "memory", json_pack("{s:s}", "string", mem));
            json_object_set_new(d, "capacity", json_pack("{s:{s:s}}", "memory", "value", mem));
        }
        json_array_append_new(devs, d);
    }
    return json_pack("{s:s,s:s,s:{s:s,s:i,s:i},s:o}", "driver", "gpu.nvidia.com", "nodeName",
                     n->name, "pool", "name", n->name, "generation", 1, "resourceSliceCount", 1,
                     "devices", devs);
}

static json_t *lease_spec(struct anode *n)
{
    char now[64];
    micro_time(now, sizeof now);
    return json_pack("{s:s,s:i,s:s}", "holderIdentity", n->name, "leaseDurationSeconds",
                     n->a->o->lease_seconds, "renewTime", now);
}

static char *dump(json_t *j)
{
    char *s = jsonout_dumps(j, NULL);
    json_decref(j);
    if (!s)
        alloc_die(0);
    return s;
}

static void on_reg_timer(uv_timer_t *t)
{
    step(t->data);
}

static void retry(struct anode *n, const char *what, const struct acli_resp *r)
{
    if (r->status)
        log_warn("node %s: %s: HTTP %ld: %.200s", n->name, what, r->status, r->body ? r->body : "");
    else
        log_warn("node %s: %s: %s", n->name, what, r->error ? r->error : "failed");
    n->backoff_ns = n->backoff_ns ? n->backoff_ns * 2 : BACKOFF_MIN;
    if (n->backoff_ns > BACKOFF_MAX)
        n->backoff_ns = BACKOFF_MAX;
    uv_timer_start(&n->reg_timer, on_reg_timer, (uint64_t)(n->backoff_ns / MTIME_MS), 0);
}

static const char *const step_names[] = {
    "create Node",         "patch Node labels", "patch Node status", "create ResourceSlice",
    "patch ResourceSlice", "create Lease",      "patch Lease"};

static void on_lease_timer(uv_timer_t *t);
static void on_hb_timer(uv_timer_t *t);

static void on_step(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct anode *n = arg;
    if (n->a->stopping)
        return;
    int s = n->step;
    bool ok = r->status >= 200 && r->status < 300;
    bool exists = r->status == 409 && (s == STEP_NODE || s == STEP_SLICE || s == STEP_LEASE);
    if (!ok && !exists)
        return retry(n, step_names[s], r);
    n->backoff_ns = 0;
    switch (s) {
    case STEP_NODE:
        n->step = exists ? STEP_NODE_LABELS : STEP_SLICE;
        break;
    case STEP_NODE_LABELS:
        n->step = STEP_NODE_STATUS;
        break;
    case STEP_NODE_STATUS:
        n->step = STEP_SLICE;
        break;
    case STEP_SLICE:
        n->step = exists ? STEP_SLICE_PATCH : STEP_LEASE;
        break;
    case STEP_SLICE_PATCH:
        n->step = STEP_LEASE;
        break;
    case STEP_LEASE:
        n->step = exists ? STEP_LEASE_PATCH : STEP_DONE;
        break;
    case STEP_LEASE_PATCH:
        n->step = STEP_DONE;
        break;
    }
    if (n->step == STEP_SLICE && !n->a->o->gpus.len)
        n->step = STEP_LEASE;
    if (n->step != STEP_DONE)
        return step(n);
    if (!n->ready && n->a->n_nodes == 1)
        log_info("node %s: registered (Node, %zu GPUs, Lease in kube-node-lease)", n->name,
                 n->a->o->gpus.len);
    if (!n->ready && ++n->a->n_registered == n->a->n_nodes && n->a->n_nodes > 1)
        log_info("nodes: all %zu registered (Node, %zu GPUs each, Lease in kube-node-lease)",
                 n->a->n_nodes, n->a->o->gpus.len);
    n->ready = true;
    /* Renewals spread over one period across the nodes of this process. */
    uint64_t period = (uint64_t)n->a->o->lease_seconds * 1000 / 4;
    uint64_t first = period * (uint64_t)(n->index + 1) / (uint64_t)n->a->n_nodes;
    uv_timer_start(&n->lease_timer, on_lease_timer, first, period);
    uint64_t hb = (uint64_t)n->a->o->node_status_seconds * 1000;
    uv_timer_start(&n->hb_timer, on_hb_timer, hb * (uint64_t)(n->index + 1) / n->a->n_nodes, hb);
}

static void step(struct anode *n)
{
    struct agent *a = n->a;
    char path[512];
    switch (n->step) {
    case STEP_NODE: {
        json_t *node = json_pack("{s:s,s:s,s:{s:s,s:o},s:{},s:o}", "apiVersion", "v1", "kind",
                                 "Node", "metadata", "name", n->name, "labels", node_labels(n),
                                 "spec", "status", node_status(n));
        acli_do(a->cli, "POST", "/api/v1/nodes", "application/json", dump(node), on_step, n, 0);
        break;
    }
    case STEP_NODE_LABELS:
        snprintf(path, sizeof path, "/api/v1/nodes/%s", n->name);
        acli_do(a->cli, "PATCH", path, "application/strategic-merge-patch+json",
                dump(json_pack("{s:{s:o}}", "metadata", "labels", node_labels(n))), on_step, n, 0);
        break;
    case STEP_NODE_STATUS:
        snprintf(path, sizeof path, "/api/v1/nodes/%s/status", n->name);
        acli_do(a->cli, "PATCH", path, "application/strategic-merge-patch+json",
                dump(json_pack("{s:o}", "status", node_status(n))), on_step, n, 0);
        break;
    case STEP_SLICE: {
        char name[300];
        snprintf(name, sizeof name, "%s-gpus", n->name);
        json_t *s = json_pack("{s:s,s:s,s:{s:s},s:o}", "apiVersion", "resource.k8s.io/v1", "kind",
                              "ResourceSlice", "metadata", "name", name, "spec", slice_spec(n));
        acli_do(a->cli, "POST", "/apis/resource.k8s.io/v1/resourceslices", "application/json",
                dump(s), on_step, n, 0);
        break;
    }
    case STEP_SLICE_PATCH:
        snprintf(path, sizeof path, "/apis/resource.k8s.io/v1/resourceslices/%s-gpus", n->name);
        acli_do(a->cli, "PATCH", path, "application/merge-patch+json",
                dump(json_pack("{s:o}", "spec", slice_spec(n))), on_step, n, 0);
        break;
    case STEP_LEASE: {
        json_t *l = json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "apiVersion", "coordination.k8s.io/v1",
                              "kind", "Lease", "metadata", "name", n->name, "namespace",
                              "kube-node-lease", "spec", lease_spec(n));
        acli_do(a->cli, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                "application/json", dump(l), on_step, n, 0);
        break;
    }
    case STEP_LEASE_PATCH:
        snprintf(path, sizeof path,
                 "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", n->name);
        acli_do(a->cli, "PATCH", path, "application/merge-patch+json",
                dump(json_pack("{s:o}", "spec", lease_spec(n))), on_step, n, 0);
        break;
    default:
        abort();
    }
}

/* A renewal or heartbeat found its object gone: register again. */
static void reregister(struct anode *n, const char *what)
{
    if (!n->ready)
        return;
    log_warn("node %s: the %s is gone; registering again", n->name, what);
    n->ready = false;
    n->a->n_registered--;
    uv_timer_stop(&n->lease_timer);
    uv_timer_stop(&n->hb_timer);
    n->step = STEP_NODE;
    step(n);
}

/* The answer to a periodic write (Lease renewal, Node heartbeat): the object
 * gone (deleted by someone) means registering again; other failures are logged
 * and the next period tries again. */
static void periodic_done(struct anode *n, bool *busy, const struct acli_resp *r,
                          const char *kind, const char *what)
{
    *busy = false;
    if (n->a->stopping)
        return;
    if (r->status == 404)
        reregister(n, kind);
    else if (r->error)
        log_warn("node %s: %s: %s", n->name, what, r->error);
    else if (r->status < 200 || r->status >= 300)
        log_warn("node %s: %s: HTTP %ld", n->name, what, r->status);
}

static void on_lease_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct anode *n = arg;
    periodic_done(n, &n->lease_busy, r, "Lease", "renew Lease");
}

static void on_lease_timer(uv_timer_t *t)
{
    struct anode *n = t->data;
    if (n->lease_busy || !n->ready)
        return;
    n->lease_busy = true;
    char path[512];
    snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
             n->name);
    acli_do(n->a->cli, "PATCH", path, "application/merge-patch+json",
            dump(json_pack("{s:o}", "spec", lease_spec(n))), on_lease_done, n, 0);
}

static void on_hb_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct anode *n = arg;
    periodic_done(n, &n->status_busy, r, "Node", "Node heartbeat");
}

static void on_hb_timer(uv_timer_t *t)
{
    struct anode *n = t->data;
    if (n->status_busy || !n->ready)
        return;
    n->status_busy = true;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", n->name);
    json_t *p = json_pack("{s:{s:[o]}}", "status", "conditions", ready_condition(false));
    acli_do(n->a->cli, "PATCH", path, "application/strategic-merge-patch+json", dump(p), on_hb_done,
            n, 0);
}

void agent__nodes_start(struct agent *a)
{
    for (size_t i = 0; i < a->n_nodes; i++) {
        struct anode *n = &a->nodes[i];
        uv_timer_init(a->loop, &n->reg_timer);
        uv_timer_init(a->loop, &n->lease_timer);
        uv_timer_init(a->loop, &n->hb_timer);
        n->reg_timer.data = n->lease_timer.data = n->hb_timer.data = n;
        n->step = STEP_NODE;
        step(n);
    }
}

void agent__nodes_stop(struct agent *a)
{
    for (size_t i = 0; i < a->n_nodes; i++) {
        struct anode *n = &a->nodes[i];
        uv_close((uv_handle_t *)&n->reg_timer, NULL);
        uv_close((uv_handle_t *)&n->lease_timer, NULL);
        uv_close((uv_handle_t *)&n->hb_timer, NULL);
    }
}
