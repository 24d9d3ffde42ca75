/*
 * agent/pods: the life of each pod bound to the agent's nodes.
 *
 * A pod seen for the first time is started: its containers are adopted from
 * the files a previous agent's shims left (run.c), or started. Each container
 * is WAITING, RUNNING, BACKOFF (exited, to be restarted: restartPolicy Always,
 * or OnFailure after a failure, with exponential backoff from
 * restart_backoff_ns up to five minutes) or EXITED. The pod's phase follows
 * from them as the kubelet computes it, and every change is written to
 * pods/<name>/status (a strategic merge patch: conditions merge by type), one
 * write at a time per pod, skipped when the status is what was last written.
 *
 * Deletion: a pod with metadata.deletionTimestamp gets SIGTERM, SIGKILL after
 * deletionGracePeriodSeconds, its final status, and then a DELETE with
 * gracePeriodSeconds=0 and a uid precondition (docs/cluster.md). A pod that
 * disappears from the API (force deletion, a relist without it) is killed at
 * once; its directory is swept later (run.c).
 *
 * Simulation: containers are timers. A container runs for the pod's
 * muster.dev/runtime, counted from status.startTime so that a restarted agent
 * finishes pods on time, and exits 0; without the annotation it runs until the
 * pod is deleted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/vec.h"
#include "model/jsonout.h"

#define BACKOFF_CAP_NS ((int64_t)300 * MTIME_S)
#define RETRY_MS       1000

enum { POLICY_ALWAYS, POLICY_ON_FAILURE, POLICY_NEVER };

static void pod_changed(struct apod *p);
static void maybe_delete(struct apod *p);
static void start_ctr(struct actr *c);

int agent_sim_runtime(json_t *pod, int64_t *ns, struct err *e)
{
    const char *v = json_string_value(json_object_get(
        json_object_get(json_object_get(pod, "metadata"), "annotations"), "muster.dev/runtime"));
    if (!v)
        return 0;
    if (mtime_parse_duration(v, ns, e) < 0)
        return err_wrap(e, "annotation muster.dev/runtime");
    return 1;
}

int64_t agent__parse_rfc3339(const char *s)
{
    int y, mo, d, h, mi, sec;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
        return 0;
    int64_t days = mtime_days_from_civil(y, mo, d);
    return ((days * 24 + h) * 60 + mi) * 60 * MTIME_S + (int64_t)sec * MTIME_S;
}

static json_t *meta(json_t *obj)
{
    return json_object_get(obj, "metadata");
}

static const char *phase_of(json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
}

static bool terminal(json_t *obj)
{
    const char *ph = phase_of(obj);
    return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

static struct apod *find(struct agent *a, const char *uid)
{
    union map_val *v = map_get(&a->pod_by_uid, uid, strlen(uid));
    return v ? v->ptr : NULL;
}

bool agent__pod_known(struct agent *a, const char *uid)
{
    return find(a, uid) != NULL;
}

static struct anode *node_of(struct agent *a, json_t *obj)
{
    const char *n = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
    if (!n)
        return NULL;
    union map_val *v = map_get(&a->node_by_name, n, strlen(n));
    return v ? v->ptr : NULL;
}

/* The status of the container named name in the pod's status, or NULL. */
static json_t *reported(json_t *obj, const char *name)
{
    size_t i;
    json_t *cs;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "containerStatuses"), i, cs)
    {
        const char *n = json_string_value(json_object_get(cs, "name"));
        if (n && !strcmp(n, name))
            return cs;
    }
    return NULL;
}

/* ---- creation and freeing ---------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
    struct apod *p = h->data;
    if (--p->closing)
        return;
    for (size_t i = 0; i < p->nc; i++) {
        free(p->c[i].name);
        free(p->c[i].image);
    }
    free(p->c);
    json_decref(p->obj);
    free(p->uid);
    free(p->ns);
    free(p->name);
    free(p->key);
    free(p->dir);
    free(p->sent_status);
    free(p);
}

static void pod_free(struct apod *p)
{
    struct agent *a = p->a;
    map_del(&a->pod_by_uid, p->uid, strlen(p->uid));
    map_del_u64(&a->pod_by_id, p->id);
    alogs_del(a->logs, p->ns, p->name, p->uid);
    p->closing = 2 + (int)p->nc;
    p->kill_timer.data = p->retry_timer.data = p;
    uv_close((uv_handle_t *)&p->kill_timer, on_timer_closed);
    uv_close((uv_handle_t *)&p->retry_timer, on_timer_closed);
    for (size_t i = 0; i < p->nc; i++) {
        p->c[i].timer.data = p;
        uv_close((uv_handle_t *)&p->c[i].timer, on_timer_closed);
    }
}

static struct apod *pod_new(struct agent *a, json_t *obj, struct anode *n)
{
    json_t *md = meta(obj), *spec = json_object_get(obj, "spec");
    struct apod *p = xcalloc(1, sizeof *p);
    p->a = a;
    p->id = ++a->next_id;
    p->uid = xstrdup(json_string_value(json_object_get(md, "uid")));
    p->ns = xstrdup(json_string_value(json_object_get(md, "namespace")) ?: "default");
    p->name = xstrdup(json_string_value(json_object_get(md, "name")) ?: "");
    p->key = xmalloc(strlen(p->ns) + strlen(p->name) + 2);
    sprintf(p->key, "%s/%s", p->ns, p->name);
    p->node = n;
    p->obj = json_incref(obj);
    json_t *cond;
    size_t ci;
    json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), ci, cond)
        if (!strcmp(json_string_value(json_object_get(cond, "type")) ?: "", "PodScheduled"))
            p->scheduled_cond = true;
    const char *rp = json_string_value(json_object_get(spec, "restartPolicy"));
    p->restart_policy = !rp || !strcmp(rp, "Always") ? POLICY_ALWAYS
                        : !strcmp(rp, "OnFailure")   ? POLICY_ON_FAILURE
                                                     : POLICY_NEVER;
    json_t *cs = json_object_get(spec, "containers");
    p->nc = json_array_size(cs);
    p->c = xcalloc(p->nc ? p->nc : 1, sizeof *p->c);
    for (size_t i = 0; i < p->nc; i++) {
        struct actr *c = &p->c[i];
        json_t *cj = json_array_get(cs, i);
        c->pod = p;
        c->index = (int)i;
        c->name = xstrdup(json_string_value(json_object_get(cj, "name")) ?: "");
        c->image = xstrdup(json_string_value(json_object_get(cj, "image")) ?: "");
        c->restarts =
            (int)json_integer_value(json_object_get(reported(obj, c->name), "restartCount"));
        uv_timer_init(a->loop, &c->timer);
        c->timer.data = c;
    }
    uv_timer_init(a->loop, &p->kill_timer);
    uv_timer_init(a->loop, &p->retry_timer);
    p->kill_timer.data = p->retry_timer.data = p;
    map_put(&a->pod_by_uid, p->uid, strlen(p->uid), NULL)->ptr = p;
    map_put_u64(&a->pod_by_id, p->id, NULL)->ptr = p;
    return p;
}

/* ---- status ----------------------------------------------------------------- */

static bool all_exited(const struct apod *p)
{
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].state != ACTR_EXITED)
            return false;
    return true;
}

static bool any_running(const struct apod *p)
{
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].state == ACTR_RUNNING)
            return true;
    return false;
}

/* The kubelet's getPhase, for the containers the agent runs. */
static const char *compute_phase(const struct apod *p)
{
    if (!p->started)
        return "Pending";
    bool waiting = false, failed = false;
    for (size_t i = 0; i < p->nc; i++) {
        const struct actr *c = &p->c[i];
        if (c->state == ACTR_WAITING)
            waiting = true;
        if (c->state == ACTR_EXITED && c->exit.exit_code != 0)
            failed = true;
    }
    if (waiting)
        return "Pending";
    if (p->nc && all_exited(p))
        return failed ? "Failed" : "Succeeded";
    return "Running";
}

/* The status patch is written as text, without a tree: one is sent for every
 * change of every pod, and building it through jansson was a fifth of a
 * simulated agent's work. Members in the order the kubelet writes them. */
static void add_str(struct strbuf *b, const char *s)
{
    if (jsonout_add_string(b, s ? s : "", s ? strlen(s) : 0) < 0)
        jsonout_add_string(b, "", 0); /* not UTF-8: an empty string, not a broken body */
}

static void add_key(struct strbuf *b, bool first, const char *key)
{
    strbuf_addf(b, "%s\"%s\":", first ? "" : ",", key); /* keys are ours: plain ASCII */
}

static void add_member(struct strbuf *b, bool first, const char *key, const char *v)
{
    add_key(b, first, key);
    add_str(b, v);
}

static void add_terminated(struct strbuf *b, const struct actr *c, const char *cid)
{
    strbuf_addf(b, "{\"exitCode\":%d", c->exit.exit_code);
    add_member(b, false, "reason",
               c->reason ? c->reason : (c->exit.exit_code ? "Error" : "Completed"));
    add_member(b, false, "startedAt", c->exit.started_at[0] ? c->exit.started_at : c->started_at);
    add_member(b, false, "finishedAt", c->exit.finished_at);
    add_member(b, false, "containerID", cid);
    if (c->exit.signal)
        strbuf_addf(b, ",\"signal\":%d", c->exit.signal);
    if (c->message[0])
        add_member(b, false, "message", c->message);
    strbuf_addch(b, '}');
}

static void add_container_status(struct strbuf *b, const struct actr *c)
{
    char cid[400];
    snprintf(cid, sizeof cid, "muster://%s/%s", c->pod->uid, c->name);
    bool running = c->state == ACTR_RUNNING;
    add_member(b, true, "name", c->name);
    add_member(b, false, "image", c->image);
    add_member(b, false, "imageID", "");
    add_member(b, false, "containerID", cid);
    strbuf_addf(b, ",\"restartCount\":%d,\"started\":%s,\"ready\":%s,\"state\":{", c->restarts,
                running ? "true" : "false", running ? "true" : "false");
    bool last_terminated = false;
    switch (c->state) {
    case ACTR_WAITING:
        strbuf_addstr(b, "\"waiting\":{\"reason\":\"ContainerCreating\"}");
        break;
    case ACTR_RUNNING:
        add_key(b, true, "running");
        strbuf_addch(b, '{');
        add_member(b, true, "startedAt", c->started_at);
        strbuf_addch(b, '}');
        break;
    case ACTR_BACKOFF: {
        char msg[400];
        snprintf(msg, sizeof msg, "back-off restarting failed container %s in pod %s", c->name,
                 c->pod->key);
        strbuf_addstr(b, "\"waiting\":{\"reason\":\"CrashLoopBackOff\"");
        add_member(b, false, "message", msg);
        strbuf_addch(b, '}');
        last_terminated = true;
        break;
    }
    case ACTR_EXITED:
        add_key(b, true, "terminated");
        add_terminated(b, c, cid);
        break;
    }
    strbuf_addstr(b, "},\"lastState\":{");
    if (last_terminated) {
        add_key(b, true, "terminated");
        add_terminated(b, c, cid);
    }
    strbuf_addch(b, '}');
}

static void add_condition(struct strbuf *b, bool first, const char *type, bool status,
                          const char *reason, int64_t since_ns)
{
    char t[32];
    agent__rfc3339(since_ns, t, sizeof t);
    strbuf_addf(b, "%s{\"type\":\"%s\",\"status\":\"%s\",\"lastProbeTime\":null",
                first ? "" : ",", type, status ? "True" : "False");
    add_member(b, false, "lastTransitionTime", t);
    if (reason)
        add_member(b, false, "reason", reason);
    strbuf_addch(b, '}');
}

/* The status to write, as a strategic merge patch body. */
static char *build_status(struct apod *p)
{
    const char *phase = compute_phase(p);
    bool ready = p->started && p->nc && !strcmp(phase, "Running");
    for (size_t i = 0; i < p->nc; i++)
        ready = ready && p->c[i].state == ACTR_RUNNING;
    if (ready != p->ready || !p->ready_changed_ns) {
        p->ready = ready;
        p->ready_changed_ns = mtime_wall_ns();
    }
    const char *why = ready ? NULL
                      : (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
                          ? "PodCompleted"
                          : "ContainersNotReady";
    const char *ip = p->a->o->address;
    struct strbuf b;
    strbuf_init(&b, (size_t)1 << 30);
    strbuf_addstr(&b, "{\"metadata\":{");
    add_member(&b, true, "uid", p->uid);
    strbuf_addstr(&b, "},\"status\":{");
    add_member(&b, true, "phase", phase);
    add_member(&b, false, "hostIP", ip);
    strbuf_addstr(&b, ",\"hostIPs\":[{");
    add_member(&b, true, "ip", ip);
    strbuf_addstr(&b, "}]");
    add_member(&b, false, "podIP", ip);
    strbuf_addstr(&b, ",\"podIPs\":[{");
    add_member(&b, true, "ip", ip);
    strbuf_addstr(&b, "}]");
    if (p->start_time[0])
        add_member(&b, false, "startTime", p->start_time);
    int64_t started = p->start_time[0] ? agent__parse_rfc3339(p->start_time) : mtime_wall_ns();
    strbuf_addstr(&b, ",\"conditions\":[");
    /* A pod created already bound (the Job controller places gangs at
     * creation) has no PodScheduled from a binding: say it, as the kubelet does. */
    if (!p->scheduled_cond)
        add_condition(&b, true, "PodScheduled", true, NULL, started);
    add_condition(&b, p->scheduled_cond, "Initialized", true, NULL, started);
    add_condition(&b, false, "ContainersReady", ready, why, p->ready_changed_ns);
    add_condition(&b, false, "Ready", ready, why, p->ready_changed_ns);
    strbuf_addstr(&b, "],\"containerStatuses\":[");
    for (size_t i = 0; i < p->nc; i++) {
        strbuf_addstr(&b, i ? ",{" : "{");
        add_container_status(&b, &p->c[i]);
        strbuf_addch(&b, '}');
    }
    strbuf_addstr(&b, "]}}");
    return strbuf_take(&b, NULL);
}

static void send_status(struct apod *p);

static void on_retry(uv_timer_t *t)
{
    struct apod *p = t->data;
    if (p->status_dirty)
        send_status(p);
    maybe_delete(p);
}

static void on_status_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct agent *a = arg;
    union map_val *v = map_get_u64(&a->pod_by_id, cookie);
    if (!v)
        return;
    struct apod *p = v->ptr;
    p->status_busy = false;
    if (r->status >= 200 && r->status < 300) {
        /* sent_status already holds what was written. */
    } else if (r->status == 404) {
        p->deleted = true; /* gone from the API: the DELETED event follows */
        return;
    } else {
        if (r->error)
            log_warn("pod %s: status: %s", p->key, r->error);
        else
            log_warn("pod %s: status: HTTP %ld: %.200s", p->key, r->status, r->body);
        free(p->sent_status);
        p->sent_status = NULL;
        p->status_dirty = true;
        uv_timer_start(&p->retry_timer, on_retry, RETRY_MS, 0);
        return;
    }
    if (p->status_dirty)
        send_status(p);
    maybe_delete(p);
}

static void send_status(struct apod *p)
{
    if (p->status_busy || p->deleted)
        return;
    char *s = build_status(p);
    p->status_dirty = false;
    if (p->sent_status && !strcmp(s, p->sent_status)) {
        free(s);
        return;
    }
    free(p->sent_status);
    p->sent_status = xstrdup(s);
    p->status_busy = true;
    char path[700];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
    acli_do(p->a->cli, "PATCH", path, "application/strategic-merge-patch+json", s, on_status_done,
            p->a, p->id);
}

static void pod_changed(struct apod *p)
{
    p->status_dirty = true;
    send_status(p);
    maybe_delete(p);
}

/* ---- deletion ------------------------------------------------------------ */

static void on_delete_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct agent *a = arg;
    union map_val *v = map_get_u64(&a->pod_by_id, cookie);
    if (!v)
        return;
    struct apod *p = v->ptr;
    p->delete_busy = false;
    /* 409: the uid precondition failed, so this pod is gone already. */
    if ((r->status >= 200 && r->status < 300) || r->status == 404 || r->status == 409) {
        p->deleted = true;
        log_info("pod %s: deleted", p->key);
        return;
    }
    if (r->error)
        log_warn("pod %s: delete: %s", p->key, r->error);
    else
        log_warn("pod %s: delete: HTTP %ld: %.200s", p->key, r->status, r->body);
    uv_timer_start(&p->retry_timer, on_retry, RETRY_MS, 0);
}

static void maybe_delete(struct apod *p)
{
    if (!p->deleting || p->delete_busy || p->deleted || p->status_busy || p->status_dirty ||
        any_running(p))
        return;
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].state == ACTR_BACKOFF)
            return;
    p->delete_busy = true;
    char path[700];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
    json_t *body = json_pack("{s:s,s:s,s:i,s:{s:s}}", "apiVersion", "v1", "kind", "DeleteOptions",
                             "gracePeriodSeconds", 0, "preconditions", "uid", p->uid);
    char *s = jsonout_dumps(body, NULL);
    json_decref(body);
    acli_do(p->a->cli, "DELETE", path, "application/json", s, on_delete_done, p->a, p->id);
}

static void sim_exit(struct actr *c, int code)
{
    struct agent_exit x = {.exit_code = code};
    snprintf(x.started_at, sizeof x.started_at, "%s", c->started_at);
    agent__rfc3339(mtime_wall_ns(), x.finished_at, sizeof x.finished_at);
    agent__ctr_exited(c, &x, NULL, NULL);
}

static void signal_ctr(struct actr *c, int sig)
{
    if (c->state != ACTR_RUNNING)
        return;
    if (c->pod->a->o->simulate)
        return sim_exit(c, 128 + sig);
    agent__run_signal(c, sig);
}

static void on_kill_timer(uv_timer_t *t)
{
    struct apod *p = t->data;
    p->killed = true;
    for (size_t i = 0; i < p->nc; i++)
        if (p->c[i].state == ACTR_RUNNING) {
            log_info("pod %s: container %s: grace period over: SIGKILL", p->key, p->c[i].name);
            signal_ctr(&p->c[i], SIGKILL);
        }
}

/* Stops the pod's containers: SIGTERM now, SIGKILL after grace_s seconds. */
static void pod_stop(struct apod *p, int64_t grace_s)
{
    for (size_t i = 0; i < p->nc; i++) {
        struct actr *c = &p->c[i];
        if (c->state == ACTR_BACKOFF) {
            uv_timer_stop(&c->timer);
            c->state = ACTR_EXITED;
        } else if (c->state == ACTR_WAITING) {
            c->state = ACTR_EXITED;
            c->reason = "ContainerStatusUnknown";
            snprintf(c->message, sizeof c->message, "the pod was stopped before it started");
            c->exit.exit_code = 137;
        }
    }
    bool running = any_running(p);
    for (size_t i = 0; i < p->nc; i++)
        signal_ctr(&p->c[i], SIGTERM);
    if (running && any_running(p))
        uv_timer_start(&p->kill_timer, on_kill_timer, (uint64_t)(grace_s > 0 ? grace_s : 0) * 1000,
                       0);
    pod_changed(p);
}

static void pod_terminate(struct apod *p)
{
    p->deleting = true;
    json_int_t grace =
        json_integer_value(json_object_get(meta(p->obj), "deletionGracePeriodSeconds"));
    log_info("pod %s: deleted with a grace period of %llds: stopping it", p->key, (long long)grace);
    p->started = true; /* containers never started are marked so by pod_stop */
    pod_stop(p, grace);
}

/* ---- containers --------------------------------------------------------- */

static void on_sim_end(uv_timer_t *t)
{
    struct actr *c = t->data;
    if (c->state == ACTR_RUNNING)
        sim_exit(c, 0);
}

static void on_backoff_end(uv_timer_t *t)
{
    struct actr *c = t->data;
    if (c->state == ACTR_BACKOFF && !c->pod->deleting && !c->pod->a->stopping) {
        start_ctr(c);
        pod_changed(c->pod);
    }
}

/* Starts (or restarts) a container. */
static void start_ctr(struct actr *c)
{
    struct apod *p = c->pod;
    if (p->a->o->simulate) {
        c->state = ACTR_RUNNING;
        int64_t now = mtime_wall_ns();
        if (!c->started_at[0])
            agent__rfc3339(now, c->started_at, sizeof c->started_at);
        int64_t run_ns;
        struct err e;
        int rc = agent_sim_runtime(p->obj, &run_ns, &e);
        if (rc < 0)
            log_warn("pod %s: %s; it runs until deleted", p->key, e.msg);
        if (rc > 0) {
            int64_t left = agent__parse_rfc3339(c->started_at) + run_ns - now;
            uv_timer_start(&c->timer, on_sim_end, left > 0 ? (uint64_t)(left / MTIME_MS) : 0, 0);
        }
        return;
    }
    struct err e;
    if (agent__run_start(c, &e) < 0) {
        log_warn("pod %s: container %s: %s", p->key, c->name, e.msg);
        struct agent_exit x = {.exit_code = 128};
        agent__rfc3339(mtime_wall_ns(), x.finished_at, sizeof x.finished_at);
        snprintf(x.started_at, sizeof x.started_at, "%s", x.finished_at);
        agent__ctr_exited(c, &x, "StartError", e.msg);
    }
}

void agent__ctr_exited(struct actr *c, const struct agent_exit *x, const char *reason,
                       const char *message)
{
    struct apod *p = c->pod;
    struct agent *a = p->a;
    c->exit = *x;
    c->has_exit = true;
    c->reason = reason;
    snprintf(c->message, sizeof c->message, "%s", message ? message : "");
    c->shim_pid = c->pid = 0;
    c->own = false;
    if (!a->o->simulate || x->exit_code)
        log_info("pod %s: container %s exited with code %d", p->key, c->name, x->exit_code);
    bool restart = !p->deleting && !a->stopping &&
                   (p->restart_policy == POLICY_ALWAYS ||
                    (p->restart_policy == POLICY_ON_FAILURE && x->exit_code != 0));
    if (restart) {
        c->state = ACTR_BACKOFF;
        c->restarts++;
        int64_t d = a->o->restart_backoff_ns;
        for (int i = 1; i < c->restarts && d < BACKOFF_CAP_NS; i++)
            d *= 2;
        if (d > BACKOFF_CAP_NS)
            d = BACKOFF_CAP_NS;
        c->started_at[0] = 0;
        uv_timer_start(&c->timer, on_backoff_end, (uint64_t)(d / MTIME_MS), 0);
    } else {
        c->state = ACTR_EXITED;
    }
    pod_changed(p);
}

/* Fills an exited container from the pod's reported status (a terminal pod
 * seen again after a restart of the agent). */
static void exited_from_status(struct actr *c)
{
    json_t *t =
        json_object_get(json_object_get(reported(c->pod->obj, c->name), "state"), "terminated");
    c->state = ACTR_EXITED;
    c->has_exit = true;
    c->exit.exit_code = (int)json_integer_value(json_object_get(t, "exitCode"));
    c->exit.signal = (int)json_integer_value(json_object_get(t, "signal"));
    snprintf(c->exit.started_at, sizeof c->exit.started_at, "%s",
             json_string_value(json_object_get(t, "startedAt")) ?: "");
    snprintf(c->exit.finished_at, sizeof c->exit.finished_at, "%s",
             json_string_value(json_object_get(t, "finishedAt")) ?: "");
}

/* Starts the pod, or adopts what a previous agent left of it. A pod already
 * being deleted is only adopted: nothing new is started for it. */
static void pod_start(struct apod *p, bool deleting)
{
    struct agent *a = p->a;
    p->started = true;
    const char *st =
        json_string_value(json_object_get(json_object_get(p->obj, "status"), "startTime"));
    if (st && agent__parse_rfc3339(st))
        snprintf(p->start_time, sizeof p->start_time, "%s", st);
    else
        agent__rfc3339(mtime_wall_ns(), p->start_time, sizeof p->start_time);
    alogs_put(a->logs, p->ns, p->name, p->uid, a->o->simulate);
    bool done = terminal(p->obj);
    if (done) {
        /* Finished before: keep it for its logs, change nothing. */
        for (size_t i = 0; i < p->nc; i++)
            exited_from_status(&p->c[i]);
        return;
    }
    struct err e;
    if (!a->o->simulate && agent__run_pod_dir(p, &e) < 0) {
        log_warn("pod %s: %s", p->key, e.msg);
        for (size_t i = 0; i < p->nc; i++) {
            struct agent_exit x = {.exit_code = 128};
            agent__rfc3339(mtime_wall_ns(), x.finished_at, sizeof x.finished_at);
            agent__ctr_exited(&p->c[i], &x, "StartError", e.msg);
        }
        return;
    }
    if (!p->nc) {
        log_warn("pod %s: no containers", p->key);
    }
    for (size_t i = 0; i < p->nc; i++) {
        struct actr *c = &p->c[i];
        if (a->o->simulate) {
            /* A run the previous agent reported goes on from its start. */
            json_t *run =
                json_object_get(json_object_get(reported(p->obj, c->name), "state"), "running");
            const char *since = json_string_value(json_object_get(run, "startedAt"));
            snprintf(c->started_at, sizeof c->started_at, "%s",
                     since ? since : (st ? p->start_time : ""));
            if (!deleting || since)
                start_ctr(c);
            continue;
        }
        if (agent__run_adopt(c))
            continue; /* running (adopted) or ended while the agent was away */
        if (!deleting)
            start_ctr(c);
    }
    if (a->o->simulate)
        log_debug("pod %s: running (simulated)", p->key);
    pod_changed(p);
}

/* ---- events ---------------------------------------------------------------- */

/* What the agent keeps of a pod once it has started it: metadata (annotations,
 * deletion) without managedFields and, for real containers, the spec (to restart
 * them). A parsed pod is tens of kilobytes; a simulated node keeps many. */
static json_t *kept(const struct agent *a, json_t *obj)
{
    json_t *md = json_object(), *k = json_object();
    json_object_update(md, meta(obj));
    json_object_del(md, "managedFields");
    json_object_set_new(k, "metadata", md);
    if (!a->o->simulate && json_object_get(obj, "spec"))
        json_object_set(k, "spec", json_object_get(obj, "spec"));
    return k;
}

void agent__pod_seen(struct agent *a, json_t *obj)
{
    json_t *md = meta(obj);
    const char *uid = json_string_value(json_object_get(md, "uid"));
    if (!uid || !*uid)
        return;
    struct apod *p = find(a, uid);
    struct anode *n = node_of(a, obj);
    if (!n) {
        if (p)
            agent__pod_gone(a, uid);
        return;
    }
    if (!p) {
        if (a->stopping)
            return;
        p = pod_new(a, obj, n);
        pod_start(p, json_string_value(json_object_get(md, "deletionTimestamp")) != NULL);
    }
    json_decref(p->obj);
    p->obj = kept(a, obj);
    if (json_string_value(json_object_get(md, "deletionTimestamp")) && !p->deleting)
        pod_terminate(p);
}

void agent__pod_gone(struct agent *a, const char *uid)
{
    struct apod *p = find(a, uid);
    if (!p)
        return;
    if (any_running(p)) {
        log_info("pod %s: removed from the API while running: SIGKILL", p->key);
        for (size_t i = 0; i < p->nc; i++)
            if (p->c[i].state == ACTR_RUNNING && !a->o->simulate)
                agent__run_signal(&p->c[i], SIGKILL);
    }
    pod_free(p);
}

void agent__pods_relisted(struct agent *a, const struct map *seen)
{
    VEC(struct apod *) drop = {0};
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&a->pod_by_uid, &it));)
        if (!map_get(seen, e->key.str, e->key.len))
            vec_push(&drop, (struct apod *)e->val.ptr);
    for (size_t i = 0; i < drop.len; i++)
        agent__pod_gone(a, drop.v[i]->uid);
    vec_free(&drop);
}

void agent__pods_stop_all(struct agent *a)
{
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&a->pod_by_uid, &it));) {
        struct apod *p = e->val.ptr;
        if (!any_running(p))
            continue;
        json_t *g =
            json_object_get(json_object_get(p->obj, "spec"), "terminationGracePeriodSeconds");
        log_info("pod %s: --drain: stopping it", p->key);
        pod_stop(p, json_is_integer(g) ? json_integer_value(g) : 30);
    }
}

bool agent__pods_busy(const struct agent *a)
{
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&a->pod_by_uid, &it));) {
        const struct apod *p = e->val.ptr;
        if (any_running(p) || p->status_busy || (p->status_dirty && !p->deleted))
            return true;
    }
    return false;
}

void agent__pods_free_all(struct agent *a)
{
    VEC(struct apod *) all = {0};
    size_t it = 0;
    for (struct map_entry *e; (e = map_next(&a->pod_by_uid, &it));)
        vec_push(&all, (struct apod *)e->val.ptr);
    for (size_t i = 0; i < all.len; i++)
        pod_free(all.v[i]);
    vec_free(&all);
}
