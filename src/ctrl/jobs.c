/*
 * ctrl/jobs: the Job controller for Jobs that Kueue would manage (labelled
 * kueue.x-k8s.io/queue-name): suspend until admitted, a Workload per Job, one pod
 * per index once admitted, Job and Workload status from the pods, and garbage
 * collection of what a deleted Job leaves (docs/cluster.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/mtime.h"
#include "ctrl/ctrl_int.h"
#include "model/jsonin.h"

#define QUEUE_LABEL "kueue.x-k8s.io/queue-name"
#define PRIO_LABEL  "kueue.x-k8s.io/priority-class"
#define UID_LABEL   "batch.kubernetes.io/controller-uid"
#define INDEX_ANN   "batch.kubernetes.io/job-completion-index"

/* Pod counts in a Job's status are written at most this often (Kubernetes'
 * Job controller batches pod updates over one second too). */
#define JOB_STATUS_BATCH_NS (1000 * 1000000LL)

struct podvec {
    struct cobj **v;
    size_t n, cap;
};

static int64_t int_or(json_t *j, const char *path, int64_t dflt)
{
    json_t *x = ctrl_path(j, path);
    return json_is_integer(x) ? json_integer_value(x) : dflt;
}

/* The Workload's name for a Job: job-<name>-<5 hex of its uid>. */
static void workload_name(json_t *job, char *buf, size_t size)
{
    const char *uid = ctrl_str(job, "metadata.uid");
    char h[6] = "00000";
    size_t k = 0;
    for (const char *p = uid ? uid : ""; *p && k < 5; p++)
        if (*p != '-')
            h[k++] = *p;
    snprintf(buf, size, "job-%.200s-%s", ctrl_str(job, "metadata.name"), h);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void delete_pod(struct ctrl *c, struct cobj *p)
{
    if (p->pod.deleting)
        return;
    char dd[400], path[600];
    snprintf(dd, sizeof dd, "del/%s", p->key);
    ctrl_obj_path(CK_POD, p->ns, p->name, NULL, path, sizeof path);
    ctrl_submit(c, dd, "DELETE", path, NULL, NULL);
}

static bool patch(struct ctrl *c, enum ck k, struct cobj *o, const char *sub, const char *what,
                  json_t *body)
{
    char dd[400], path[600];
    snprintf(dd, sizeof dd, "%s/%s", what, o->key);
    if (ctrl_obj_path(k, o->ns, o->name, sub, path, sizeof path)) {
        json_decref(body);
        return false;
    }
    return ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json", body);
}

static void create_workload(struct ctrl *c, struct cobj *job, const char *wlname,
                            const char *queue, int64_t count)
{
    json_t *j = job->j;
    json_t *tmpl = json_deep_copy(ctrl_path(j, "spec.template"));
    if (!tmpl)
        tmpl = json_object();
    json_t *ps = json_pack("{s:s,s:I,s:o}", "name", "main", "count", (json_int_t)count, "template",
                           tmpl);
    json_t *spec = json_pack("{s:s,s:[o]}", "queueName", queue, "podSets", ps);
    const char *prio = ctrl_label(j, PRIO_LABEL);
    if (prio)
        json_object_set_new(spec, "priorityClassRef",
                            json_pack("{s:s,s:s,s:s}", "group", "kueue.x-k8s.io", "kind",
                                      "WorkloadPriorityClass", "name", prio));
    const char *mx = ctrl_label(j, "kueue.x-k8s.io/max-exec-time-seconds");
    if (mx)
        json_object_set_new(spec, "maximumExecutionTimeSeconds",
                            json_integer(strtoll(mx, NULL, 10)));
    json_t *wl = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:{s:s},s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:o}", "apiVersion",
        "kueue.x-k8s.io/v1beta2", "kind", "Workload", "metadata", "name", wlname, "namespace",
        job->ns, "labels", "kueue.x-k8s.io/job-uid", ctrl_str(j, "metadata.uid"),
        "ownerReferences", "apiVersion", "batch/v1", "kind", "Job", "name", job->name, "uid",
        ctrl_str(j, "metadata.uid"), "controller", 1, "blockOwnerDeletion", 1, "spec", spec);
    char dd[400], path[600];
    snprintf(dd, sizeof dd, "mkwl/%s", job->key);
    ctrl_obj_path(CK_WORKLOAD, job->ns, NULL, NULL, path, sizeof path);
    ctrl_submit(c, dd, "POST", path, NULL, wl);
}

/* Creates the pod of index idx. With the workload's placement (pl, parsed), the
 * pod is created bound to its place: node, GPUs and rank 0's address, as the
 * binder would write them, one write instead of two. */
static void create_pod(struct ctrl *c, struct cobj *job, const char *wlname, int64_t idx,
                       int64_t world, json_t *pl, const char *after)
{
    json_t *j = job->j;
    const char *uid = ctrl_str(j, "metadata.uid");
    char dd[400];
    snprintf(dd, sizeof dd, "mkpod/%s/%" PRId64, job->key, idx);
    if (ctrl_busy(c, dd))
        return;
    uint8_t rnd[3];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0, sizeof rnd);
    char name[300], sidx[24], sworld[24], sport[24];
    snprintf(name, sizeof name, "%.230s-%" PRId64 "-%02x%02x%x", job->name, idx, rnd[0], rnd[1],
             rnd[2] & 0xf);
    snprintf(sidx, sizeof sidx, "%" PRId64, idx);
    snprintf(sworld, sizeof sworld, "%" PRId64, world);
    snprintf(sport, sizeof sport, "%u", 20000 + fnv1a(uid) % 20000);
    json_t *tmpl = ctrl_path(j, "spec.template");
    json_t *meta = json_deep_copy(json_object_get(tmpl, "metadata"));
    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    json_object_set_new(meta, "name", json_string(name));
    json_object_set_new(meta, "namespace", json_string(job->ns));
    json_t *labels = json_object_get(meta, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(meta, "labels", labels);
    }
    json_object_set_new(labels, "batch.kubernetes.io/job-name", json_string(job->name));
    json_object_set_new(labels, "job-name", json_string(job->name));
    json_object_set_new(labels, UID_LABEL, json_string(uid));
    json_object_set_new(labels, "controller-uid", json_string(uid));
    json_object_set_new(labels, "batch.kubernetes.io/job-completion-index", json_string(sidx));
    json_t *ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(meta, "annotations", ann);
    }
    json_object_set_new(ann, INDEX_ANN, json_string(sidx));
    json_object_set_new(ann, "muster.dev/workload", json_string(wlname));
    json_object_set_new(ann, "muster.dev/rank", json_string(sidx));
    json_object_set_new(ann, "muster.dev/world-size", json_string(sworld));
    json_object_set_new(ann, "muster.dev/master-port", json_string(sport));
    const char *rt = ctrl_annotation(j, "muster.dev/runtime");
    if (rt && !json_object_get(ann, "muster.dev/runtime"))
        json_object_set_new(ann, "muster.dev/runtime", json_string(rt));
    json_object_set_new(meta, "ownerReferences",
                        json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", "batch/v1", "kind",
                                  "Job", "name", job->name, "uid", uid, "controller", 1,
                                  "blockOwnerDeletion", 1));
    json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_object();
    }
    if (!json_object_get(spec, "schedulerName"))
        json_object_set_new(spec, "schedulerName", json_string(c->o.scheduler_name));
    json_t *me = json_array_get(pl, (size_t)idx);
    const char *node = json_string_value(json_object_get(me, "node"));
    const char *n0 = json_string_value(json_object_get(json_array_get(pl, 0), "node"));
    if (node && n0) {
        char gpus[128];
        ctrl_placement_gpus(me, gpus, sizeof gpus);
        json_object_set_new(ann, "muster.dev/gpus", json_string(gpus));
        json_object_set_new(ann, "muster.dev/master-addr", json_string(ctrl_node_ip(c, n0)));
        json_object_set_new(spec, "nodeName", json_string(node));
    }
    json_t *pod = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata",
                            meta, "spec", spec);
    char path[600];
    ctrl_obj_path(CK_POD, job->ns, NULL, NULL, path, sizeof path);
    ctrl_submit_after(c, after, dd, "POST", path, NULL, pod);
}

/* The workload's placement (parsed), when the Job's pods are to be created
 * bound to it: they are muster's to place, it has a place for every index, and
 * none of its GPUs is still held by a terminating pod (else the binder binds the
 * gang, whole, once they are free). NULL otherwise. */
static json_t *bound_placement(struct ctrl *c, json_t *job, struct cobj *wl, int64_t parallelism)
{
    const char *sn = ctrl_str(job, "spec.template.spec.schedulerName");
    if (sn && strcmp(sn, c->o.scheduler_name) != 0)
        return NULL;
    json_t *pl = ctrl_placement(wl->j);
    if (pl && ((int64_t)json_array_size(pl) != parallelism || ctrl_gpus_held(c, pl))) {
        json_decref(pl);
        pl = NULL;
    }
    return pl;
}

/* Job to be reconciled again at `at` (ns). */
static void job_later(struct ctrl *c, const struct cobj *job, int64_t at)
{
    char k[600];
    snprintf(k, sizeof k, "%s/%s", job->ns, job->name);
    kdue_add(&c->jobs_later, k, at);
}

static bool job_done(json_t *j, const char **how)
{
    if (ctrl_condition_true(j, "Complete")) {
        *how = "Succeeded";
        return true;
    }
    if (ctrl_condition_true(j, "Failed")) {
        *how = "Failed";
        return true;
    }
    return false;
}

static void reconcile(struct ctrl *c, struct cobj *job, struct podvec *pvs)
{
    json_t *j = job->j;
    const char *queue = ctrl_label(j, QUEUE_LABEL);
    const char *uid = ctrl_str(j, "metadata.uid");
    if (!queue || !uid || !job->ns || ctrl_path(j, "metadata.deletionTimestamp"))
        return;
    char wlname[300];
    workload_name(j, wlname, sizeof wlname);
    struct cobj *wl = ctrl_get(c, CK_WORKLOAD, job->ns, wlname);
    struct podvec *pv = pvs;
    size_t npods = pv->n;
    int64_t parallelism = int_or(j, "spec.parallelism", 1);
    int64_t completions = int_or(j, "spec.completions", parallelism);
    int64_t backoff = int_or(j, "spec.backoffLimit", 6);
    bool suspended = json_is_true(ctrl_path(j, "spec.suspend"));

    /* Count the pods: active, succeeded indices, failures. */
    int64_t active = 0, failed = 0, ready = 0;
    uint8_t *done_idx = xcalloc((size_t)(parallelism > 0 ? parallelism : 1), 1);
    uint8_t *live_idx = xcalloc((size_t)(parallelism > 0 ? parallelism : 1), 1);
    int64_t succeeded = 0;
    for (size_t i = 0; i < npods; i++) {
        const struct cpod *p = &pv->v[i]->pod;
        int64_t idx = p->index;
        if (p->phase == CP_SUCCEEDED) {
            if (idx >= 0 && idx < parallelism && !done_idx[idx]) {
                done_idx[idx] = 1;
                succeeded++;
            }
        } else if (p->phase == CP_FAILED) {
            /* A disruption (a lost node, an eviction) is not the job's failure:
             * it does not count against backoffLimit, as with a podFailurePolicy
             * that ignores DisruptionTarget. */
            if (!cpod_disrupted(p))
                failed++;
        } else if (!p->deleting) {
            active++;
            if (p->phase == CP_RUNNING)
                ready++;
            if (idx >= 0 && idx < parallelism)
                live_idx[idx] = 1;
        }
    }

    const char *how = "";
    bool done = job_done(j, &how);
    json_t *conds = json_deep_copy(ctrl_path(j, "status.conditions"));
    if (!json_is_array(conds)) {
        json_decref(conds);
        conds = json_array();
    }
    char ts[40];
    ctrl_time(c, ts, sizeof ts);
    bool newly_done = false;
    if (!done && succeeded >= completions && completions > 0) {
        ctrl_set_condition(conds, ctrl_make_condition(c, "SuccessCriteriaMet", true,
                                                      "CompletionsReached",
                                                      "Reached expected number of succeeded pods"));
        ctrl_set_condition(conds, ctrl_make_condition(c, "Complete", true, "CompletionsReached",
                                                      "Reached expected number of succeeded pods"));
        done = newly_done = true;
        how = "Succeeded";
    } else if (!done && failed > backoff) {
        ctrl_set_condition(conds, ctrl_make_condition(c, "FailureTarget", true,
                                                      "BackoffLimitExceeded",
                                                      "Job has reached the specified backoff limit"));
        ctrl_set_condition(conds, ctrl_make_condition(c, "Failed", true, "BackoffLimitExceeded",
                                                      "Job has reached the specified backoff limit"));
        done = newly_done = true;
        how = "Failed";
    }

    bool admitted = wl && ctrl_condition_true(wl->j, "QuotaReserved") &&
                    ctrl_path(wl->j, "status.admission");
    if (done) {
        for (size_t i = 0; i < npods; i++)
            if (!cpod_terminal(&pv->v[i]->pod))
                delete_pod(c, pv->v[i]);
        if (wl && !ctrl_condition_true(wl->j, "Finished")) {
            json_t *wc = json_deep_copy(ctrl_path(wl->j, "status.conditions"));
            if (!json_is_array(wc)) {
                json_decref(wc);
                wc = json_array();
            }
            ctrl_set_condition(wc, ctrl_make_condition(c, "Finished", true, how,
                                                       strcmp(how, "Succeeded") == 0
                                                           ? "Job finished successfully"
                                                           : "Job failed"));
            patch(c, CK_WORKLOAD, wl, "status", "wlfin",
                  json_pack("{s:{s:o}}", "status", "conditions", wc));
        }
    } else if (!admitted) {
        if (!suspended)
            patch(c, CK_JOB, job, NULL, "susp", json_pack("{s:{s:b}}", "spec", "suspend", 1));
        if (!wl)
            create_workload(c, job, wlname, queue, parallelism);
        for (size_t i = 0; i < npods; i++)
            if (!cpod_terminal(&pv->v[i]->pod))
                delete_pod(c, pv->v[i]);
        /* A suspended Job is told so once it has waited a batch period: most
         * are admitted before (then unsuspended), and the condition would be a
         * write of its own (one in 23 of bench e2e's), set and cleared at once. */
        if (!ctrl_condition_true(j, "Suspended") && suspended) {
            if (c->now - job->seen_at >= JOB_STATUS_BATCH_NS) {
                ctrl_set_condition(conds, ctrl_make_condition(c, "Suspended", true,
                                                              "JobSuspended", "Job suspended"));
            } else {
                job_later(c, job, job->seen_at + JOB_STATUS_BATCH_NS);
            }
        }
    } else {
        /* Admitted. A suspended Job is unsuspended, and its pods are created
         * once that write is in (one pass, not one for each): the store sees
         * the unsuspension first, as when Kueue and the Job controller are two. */
        char after[400];
        snprintf(after, sizeof after, "susp/%s", job->key);
        if (suspended)
            patch(c, CK_JOB, job, NULL, "susp", json_pack("{s:{s:b}}", "spec", "suspend", 0));
        else if (ctrl_condition_true(j, "Suspended"))
            ctrl_set_condition(conds, ctrl_make_condition(c, "Suspended", false, "JobResumed",
                                                          "Job resumed"));
        /* One live pod per index not done yet, while failures allow it. */
        json_t *pl = NULL;
        bool looked = false;
        for (int64_t idx = 0; idx < parallelism && failed <= backoff; idx++) {
            if (done_idx[idx] || live_idx[idx])
                continue;
            if (!looked) {
                pl = bound_placement(c, j, wl, parallelism);
                looked = true;
            }
            create_pod(c, job, wlname, idx, parallelism, pl, suspended ? after : NULL);
        }
        json_decref(pl);
    }
    free(done_idx);
    free(live_idx);

    /* Status, when what the controller owns of it changed: the counts, the
     * conditions, startTime and completionTime (compared field by field: a
     * pass looks at many Jobs). */
    json_t *cur = json_object_get(j, "status");
    const char *start = ctrl_str(j, "status.startTime");
    const char *ct = ctrl_str(j, "status.completionTime");
    char start_ts[40];
    const char *new_start = start;
    if (!start && !suspended && admitted) {
        if (!job->started_at)
            job->started_at = c->now;
        mtime_format_rfc3339(job->started_at, start_ts, sizeof start_ts);
        new_start = start_ts;
    }
    const char *new_ct = ct ? ct : newly_done && strcmp(how, "Succeeded") == 0 ? ts : NULL;
    json_t *cur_conds = json_object_get(cur, "conditions");
    bool conds_same = cur_conds ? json_equal(cur_conds, conds) : json_array_size(conds) == 0;
    bool times_same = (start != NULL) == (new_start != NULL) && (ct != NULL) == (new_ct != NULL);
    static const char *const count_names[] = {"active", "succeeded", "failed", "ready"};
    const int64_t counts[] = {active, succeeded, failed, ready};
    bool counts_same = true;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        /* absent is 0: a Job nothing has happened to yet needs no status */
        json_t *x = json_object_get(cur, count_names[i]);
        counts_same = counts_same && (x ? json_is_integer(x) && json_integer_value(x) == counts[i]
                                        : counts[i] == 0);
    }
    if (conds_same && times_same && counts_same) {
        json_decref(conds);
        return;
    }
    json_t *st = json_pack("{s:I,s:I,s:I,s:I,s:o}", "active", (json_int_t)active, "succeeded",
                           (json_int_t)succeeded, "failed", (json_int_t)failed, "ready",
                           (json_int_t)ready, "conditions", conds);
    if (new_start)
        json_object_set_new(st, "startTime", json_string(new_start));
    if (new_ct)
        json_object_set_new(st, "completionTime", json_string(new_ct));
    /* Changes of the pod counts alone are written at most once per batch
     * period, as Kubernetes' Job controller batches pod updates; conditions and
     * times at once. */
    /* A Job's first status after it starts (startTime) waits, a batch period
     * at most, for its pods to be there and running: one write with them
     * instead of one before them and one after. */
    bool starting = !start && new_start && !new_ct && (active == 0 || ready < active);
    int64_t batch_from = starting ? job->started_at : job->status_at;
    if (conds_same && (times_same || starting) && c->now - batch_from < JOB_STATUS_BATCH_NS) {
        json_decref(st);
        job_later(c, job, batch_from + JOB_STATUS_BATCH_NS);
    } else if (patch(c, CK_JOB, job, "status", "jobst", json_pack("{s:o}", "status", st))) {
        job->status_at = c->now;
    }
}

/* What a deleted Job leaves: its Workload and its pods (found by the Job's uid,
 * so a new Job of the same name does not keep the old one's). */
static void collect(struct ctrl *c)
{
    size_t it = 0;
    struct cobj *o;
    struct map uids;
    map_init(&uids, MAP_KEY_STR);
    while ((o = ctrl_next(c, CK_JOB, &it))) {
        const char *uid = ctrl_str(o->j, "metadata.uid");
        bool found;
        if (uid)
            map_put(&uids, uid, strlen(uid), &found)->u64 = 1;
    }
    it = 0;
    while ((o = ctrl_next(c, CK_WORKLOAD, &it))) {
        const char *uid = ctrl_label(o->j, "kueue.x-k8s.io/job-uid");
        if (uid && !map_get(&uids, uid, strlen(uid))) {
            char dd[400], path[600];
            snprintf(dd, sizeof dd, "delwl/%s", o->key);
            ctrl_obj_path(CK_WORKLOAD, o->ns, o->name, NULL, path, sizeof path);
            ctrl_submit(c, dd, "DELETE", path, NULL, NULL);
        }
    }
    it = 0;
    while ((o = ctrl_next(c, CK_POD, &it))) {
        const char *uid = o->pod.job_uid;
        if (uid && !map_get(&uids, uid, strlen(uid)))
            delete_pod(c, o);
    }
    map_release(&uids);
}

#define FULL_PASS_NS (10 * 1000000000LL) /* every Job, and garbage, this often */

void ctrl_jobs_pass(struct ctrl *c)
{
    if (c->now - c->last_full_jobs >= FULL_PASS_NS) {
        c->last_full_jobs = c->now;
        size_t it = 0;
        struct cobj *job;
        while ((job = ctrl_next(c, CK_JOB, &it))) {
            char k[600];
            snprintf(k, sizeof k, "%s/%s", job->ns ? job->ns : "", job->name ? job->name : "");
            kset_add(&c->dirty_jobs, k);
        }
        c->gc_due = true;
    }
    kdue_take(&c->jobs_later, c->now, &c->dirty_jobs);
    size_t it = 0;
    const char *k;
    struct podvec pv = {0};
    while ((k = kset_next(&c->dirty_jobs, &it))) {
        const char *slash = strchr(k, '/');
        if (!slash)
            continue;
        char ns[300];
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - k), k);
        struct cobj *job = ctrl_get(c, CK_JOB, ns, slash + 1);
        if (!job)
            continue;
        /* Its pods: those of this Job's uid (an older Job of the same name
         * leaves pods that collect() removes). */
        const char *uid = ctrl_str(job->j, "metadata.uid");
        const struct kset *keys = ctrl_pods_of_job(c, ns, slash + 1);
        pv.n = 0;
        size_t pit = 0;
        const char *pk;
        while (keys && uid && (pk = kset_next(keys, &pit))) {
            struct cobj *p = ctrl_by_key(c, CK_POD, pk);
            const char *pu = p ? p->pod.job_uid : NULL;
            if (!pu || strcmp(pu, uid) != 0) {
                if (pu)
                    c->gc_due = true;
                continue;
            }
            if (pv.n == pv.cap) {
                pv.cap = pv.cap ? 2 * pv.cap : 16;
                pv.v = xreallocarray(pv.v, pv.cap, sizeof *pv.v);
            }
            pv.v[pv.n++] = p;
        }
        reconcile(c, job, &pv);
        c->stats.reconciles++;
    }
    free(pv.v);
    kset_clear(&c->dirty_jobs);
    ctrl_wake(c, c->jobs_later.next_at);
    if (c->gc_due) {
        c->gc_due = false;
        collect(c);
    }
}
