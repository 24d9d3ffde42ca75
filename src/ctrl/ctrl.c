/*
 * ctrl: the loop, its cache of the store, and the writer pool (see ctrl.h).
 */
#include "ctrl/ctrl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/jscan.h"
#include "base/log.h"
#include "base/mtime.h"
#include "ctrl/ctrl_int.h"
#include "model/jsonin.h"
#include "model/jsonout.h"
#include "model/quantity.h"

/* Store key prefixes of the cached kinds, and their API paths. */
static const struct {
    const char *prefix; /* /registry/<group>/<resource>/ */
    const char *api;    /* path up to the resource, without it */
    const char *resource;
    bool namespaced;
} kinds[CK_COUNT] = {
    [CK_NAMESPACE] = {"/registry/core/namespaces/", "/api/v1", "namespaces", false},
    [CK_NODE] = {"/registry/core/nodes/", "/api/v1", "nodes", false},
    [CK_POD] = {"/registry/core/pods/", "/api/v1", "pods", true},
    [CK_JOB] = {"/registry/batch/jobs/", "/apis/batch/v1", "jobs", true},
    [CK_WORKLOAD] = {"/registry/kueue.x-k8s.io/workloads/", "/apis/kueue.x-k8s.io/v1beta2",
                     "workloads", true},
    [CK_LEASE] = {"/registry/coordination.k8s.io/leases/", "/apis/coordination.k8s.io/v1",
                  "leases", true},
    [CK_FLAVOR] = {"/registry/kueue.x-k8s.io/resourceflavors/", "/apis/kueue.x-k8s.io/v1beta2",
                   "resourceflavors", false},
    [CK_CQ] = {"/registry/kueue.x-k8s.io/clusterqueues/", "/apis/kueue.x-k8s.io/v1beta2",
               "clusterqueues", false},
    [CK_COHORT] = {"/registry/kueue.x-k8s.io/cohorts/", "/apis/kueue.x-k8s.io/v1beta2",
                   "cohorts", false},
    [CK_LQ] = {"/registry/kueue.x-k8s.io/localqueues/", "/apis/kueue.x-k8s.io/v1beta2",
               "localqueues", true},
    [CK_TOPOLOGY] = {"/registry/kueue.x-k8s.io/topologies/", "/apis/kueue.x-k8s.io/v1beta2",
                     "topologies", false},
    [CK_PRIORITY_CLASS] = {"/registry/scheduling.k8s.io/priorityclasses/",
                           "/apis/scheduling.k8s.io/v1", "priorityclasses", false},
    [CK_WPC] = {"/registry/kueue.x-k8s.io/workloadpriorityclasses/",
                "/apis/kueue.x-k8s.io/v1beta2", "workloadpriorityclasses", false},
};

/* ---- JSON helpers ---- */

json_t *ctrl_path(json_t *obj, const char *path)
{
    char seg[128];
    const char *p = path;
    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        obj = json_object_get(obj, seg);
        p += n + (dot ? 1 : 0);
    }
    return obj;
}

const char *ctrl_str(json_t *obj, const char *path)
{
    return json_string_value(ctrl_path(obj, path));
}

const char *ctrl_label(json_t *obj, const char *k)
{
    return json_string_value(json_object_get(ctrl_path(obj, "metadata.labels"), k));
}

const char *ctrl_annotation(json_t *obj, const char *k)
{
    return json_string_value(json_object_get(ctrl_path(obj, "metadata.annotations"), k));
}

json_t *ctrl_placement(json_t *wl)
{
    json_t *pl = ctrl_path(wl, "status.admission.placement");
    if (json_is_array(pl))
        return json_incref(pl);
    const char *s = ctrl_annotation(wl, "muster.dev/placement");
    pl = s ? jsonin_loadb(s, strlen(s), 0, NULL) : NULL;
    if (!json_is_array(pl)) {
        json_decref(pl);
        return NULL;
    }
    return pl;
}

json_t *ctrl_condition(json_t *obj, const char *type)
{
    json_t *conds = ctrl_path(obj, "status.conditions"), *x;
    size_t i;
    json_array_foreach(conds, i, x)
    {
        const char *t = json_string_value(json_object_get(x, "type"));
        if (t && strcmp(t, type) == 0)
            return x;
    }
    return NULL;
}

bool ctrl_condition_true(json_t *obj, const char *type)
{
    json_t *x = ctrl_condition(obj, type);
    const char *s = x ? json_string_value(json_object_get(x, "status")) : NULL;
    return s && strcmp(s, "True") == 0;
}

void ctrl_time(const struct ctrl *c, char *buf, size_t size)
{
    mtime_format_rfc3339(c->now, buf, size);
}

json_t *ctrl_make_condition(const struct ctrl *c, const char *type, bool status,
                            const char *reason, const char *message)
{
    char ts[40];
    ctrl_time(c, ts, sizeof ts);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status ? "True" : "False",
                     "reason", reason, "message", message ? message : "", "lastTransitionTime",
                     ts);
}

void ctrl_set_condition(json_t *conds, json_t *cond)
{
    const char *type = json_string_value(json_object_get(cond, "type"));
    size_t i;
    json_t *x;
    json_array_foreach(conds, i, x)
    {
        const char *t = json_string_value(json_object_get(x, "type"));
        if (!t || strcmp(t, type) != 0)
            continue;
        const char *old = json_string_value(json_object_get(x, "status"));
        const char *now = json_string_value(json_object_get(cond, "status"));
        if (old && now && strcmp(old, now) == 0)
            json_object_set(cond, "lastTransitionTime", json_object_get(x, "lastTransitionTime"));
        json_array_set_new(conds, i, cond);
        return;
    }
    json_array_append_new(conds, cond);
}

/* ---- string sets ---- */

void kset_init(struct kset *k)
{
    map_init(&k->m, MAP_KEY_STR);
}

void kset_add(struct kset *k, const char *s)
{
    size_t n = strlen(s);
    if (map_get(&k->m, s, n))
        return;
    char *copy = xstrdup(s);
    bool found;
    map_put(&k->m, copy, n, &found)->ptr = copy;
}

void kset_del(struct kset *k, const char *s)
{
    size_t n = strlen(s);
    union map_val *v = map_get(&k->m, s, n);
    if (!v)
        return;
    char *copy = v->ptr;
    map_del(&k->m, s, n);
    free(copy);
}

bool kset_has(const struct kset *k, const char *s)
{
    return map_get(&k->m, s, strlen(s)) != NULL;
}

const char *kset_next(const struct kset *k, size_t *it)
{
    struct map_entry *e = map_next(&k->m, it);
    return e ? e->val.ptr : NULL;
}

/* Frees every value of m (each an allocation of its own) and empties it. */
static void free_values_clear(struct map *m)
{
    size_t it = 0;
    struct map_entry *e;
    while ((e = map_next(m, &it)))
        free(e->val.ptr);
    map_clear(m);
}

void kset_clear(struct kset *k)
{
    free_values_clear(&k->m);
}

void kset_release(struct kset *k)
{
    kset_clear(k);
    map_release(&k->m);
}

void kset_move(struct kset *dst, struct kset *src)
{
    size_t it = 0;
    const char *s;
    while ((s = kset_next(src, &it)))
        kset_add(dst, s);
    kset_clear(src);
}

/* ---- kdue: strings due at a time ---- */

struct kdue_ent {
    int64_t at;
    char key[];
};

void kdue_init(struct kdue *d)
{
    map_init(&d->m, MAP_KEY_STR);
    d->next_at = 0;
}

void kdue_add(struct kdue *d, const char *s, int64_t at)
{
    size_t n = strlen(s);
    union map_val *v = map_get(&d->m, s, n);
    if (v) {
        struct kdue_ent *e = v->ptr;
        if (at < e->at)
            e->at = at;
    } else {
        struct kdue_ent *e = xmalloc(sizeof *e + n + 1);
        e->at = at;
        memcpy(e->key, s, n + 1);
        bool found;
        map_put(&d->m, e->key, n, &found)->ptr = e;
    }
    if (!d->next_at || at < d->next_at)
        d->next_at = at;
}

void kdue_take(struct kdue *d, int64_t now, struct kset *out)
{
    if (!d->next_at || now < d->next_at)
        return;
    int64_t next = 0;
    size_t it = 0;
    struct map_entry *me;
    while ((me = map_next(&d->m, &it))) {
        struct kdue_ent *e = me->val.ptr;
        if (e->at <= now) {
            kset_add(out, e->key);
            map_del(&d->m, e->key, strlen(e->key));
            free(e);
        } else if (!next || e->at < next) {
            next = e->at;
        }
    }
    d->next_at = next;
}

void kdue_clear(struct kdue *d)
{
    free_values_clear(&d->m);
    d->next_at = 0;
}

void kdue_release(struct kdue *d)
{
    kdue_clear(d);
    map_release(&d->m);
}

/* ---- cache ---- */

static enum ck kind_of_key(const char *key)
{
    for (int k = 0; k < CK_COUNT; k++)
        if (strncmp(key, kinds[k].prefix, strlen(kinds[k].prefix)) == 0)
            return (enum ck)k;
    return CK_COUNT;
}

static void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nlabels; i++) {
        free((char *)n->labels[i].key);
        free((char *)n->labels[i].value);
    }
    free(n->labels);
    for (uint32_t i = 0; i < n->ntaints; i++)
        free(n->taints[i]);
    free(n->taints);
    free(n->ip);
    free(n->uid);
    free(n->sig);
    free(n);
}

static int64_t node_quantity(json_t *res, const char *name)
{
    const char *v = json_string_value(json_object_get(res, name));
    int64_t milli = 0;
    if (!v || quantity_parse_str(v, &milli, NULL))
        return 0;
    return quantity_canonical(name, milli);
}

/* What of a Node matters to the admission world (not its heartbeats). */
static char *node_signature(json_t *j)
{
    json_t *sig = json_pack("{s:O?,s:O?,s:O?,s:O?,s:O?,s:O?}", "labels",
                            ctrl_path(j, "metadata.labels"), "alloc",
                            ctrl_path(j, "status.allocatable"), "cap",
                            ctrl_path(j, "status.capacity"), "taints",
                            ctrl_path(j, "spec.taints"), "unsched",
                            ctrl_path(j, "spec.unschedulable"), "ready",
                            json_object_get(ctrl_condition(j, "Ready"), "status"));
    char *s = json_dumps(sig, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(sig);
    return s;
}

static struct cnode *cnode_of(json_t *j)
{
    struct cnode *n = xcalloc(1, sizeof *n);
    json_t *labels = ctrl_path(j, "metadata.labels"), *v;
    const char *k;
    n->labels = xcalloc(json_object_size(labels) + 1, sizeof *n->labels);
    json_object_foreach(labels, k, v)
    {
        if (!json_is_string(v))
            continue;
        n->labels[n->nlabels].key = xstrdup(k);
        n->labels[n->nlabels].value = xstrdup(json_string_value(v));
        n->nlabels++;
    }
    json_t *taints = ctrl_path(j, "spec.taints"), *t;
    size_t i;
    n->taints = xcalloc(json_array_size(taints) + 1, sizeof *n->taints);
    json_array_foreach(taints, i, t)
    {
        const char *key = json_string_value(json_object_get(t, "key"));
        const char *eff = json_string_value(json_object_get(t, "effect"));
        if (!key)
            continue;
        if (strcmp(key, "node.kubernetes.io/unreachable") == 0)
            n->unreachable = true;
        if (strcmp(key, "muster.dev/bad-node") == 0)
            n->bad = true;
        if (eff && strcmp(eff, "PreferNoSchedule") != 0)
            n->taints[n->ntaints++] = xstrdup(key);
    }
    json_t *res = ctrl_path(j, "status.allocatable");
    if (!json_is_object(res))
        res = ctrl_path(j, "status.capacity");
    n->cpu_milli = node_quantity(res, "cpu");
    n->memory = node_quantity(res, "memory");
    n->gpus = node_quantity(res, "nvidia.com/gpu");
    n->unschedulable = json_is_true(ctrl_path(j, "spec.unschedulable"));
    json_t *r = ctrl_condition(j, "Ready");
    const char *st = r ? json_string_value(json_object_get(r, "status")) : NULL;
    n->ready = !st || strcmp(st, "True") == 0;
    json_t *addrs = ctrl_path(j, "status.addresses"), *a;
    json_array_foreach(addrs, i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        const char *addr = json_string_value(json_object_get(a, "address"));
        if (type && addr && strcmp(type, "InternalIP") == 0 && !n->ip)
            n->ip = xstrdup(addr);
    }
    const char *uid = ctrl_str(j, "metadata.uid");
    n->uid = xstrdup(uid ? uid : "");
    n->sig = node_signature(j);
    return n;
}

json_t *ctrl_fetch(struct ctrl *c, const char *key)
{
    struct store_kv *kv = NULL;
    struct err e;
    err_clear(&e);
    if (store_get(c->store, key, &kv, &e))
        return NULL;
    json_t *j = jsonin_loadb(kv->value, kv->value_len, 0, NULL);
    store_kv_unref(kv);
    return j;
}

static void cobj_free(struct cobj *o)
{
    if (!o)
        return;
    cnode_free(o->node);
    free(o->strs);
    json_decref(o->j);
    model_obj_free(o->m);
    free(o->key);
    free(o);
}

/* World kinds whose status the controllers write. */
static bool status_kind(enum ck k)
{
    return k == CK_CQ || k == CK_LQ || k == CK_COHORT;
}

int64_t ctrl_generation(const struct cobj *o)
{
    return json_integer_value(json_object_get(json_object_get(o->j, "metadata"), "generation"));
}

static bool deleting(const struct cobj *o)
{
    return json_object_get(json_object_get(o->j, "metadata"), "deletionTimestamp") != NULL;
}

static bool world_kind(enum ck k)
{
    return k == CK_NAMESPACE || k == CK_NODE || k == CK_FLAVOR || k == CK_CQ ||
           k == CK_COHORT || k == CK_LQ || k == CK_TOPOLOGY || k == CK_PRIORITY_CLASS ||
           k == CK_WPC;
}


/* The pods of one Job: the value of ctrl.pods_of_job. */
struct jobpods {
    char *key; /* "ns/job", the map's key */
    struct kset pods;
};

static void jobpods_free(struct jobpods *jp)
{
    kset_release(&jp->pods);
    free(jp->key);
    free(jp);
}

/* The fields of a Pod the controllers read, as raw spans of its stored text. */
enum pf {
    PF_NS,
    PF_NAME,
    PF_UID,
    PF_JOB,
    PF_JOB_UID,
    PF_WORKLOAD,
    PF_GPUS,
    PF_RANK,
    PF_INDEX,
    PF_NODE,
    PF_SCHEDULER,
    PF_REASON,
    PF_PHASE,
    PF_COUNT
};

struct pf_name {
    const char *key;
    enum pf f;
};

/* The member of obj among names whose key matches [k0, k1) (quotes included). */
static bool pf_match(const char *s, size_t k0, size_t k1, const struct pf_name *names, size_t n,
                     enum pf *f)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i].key);
        if (k1 - k0 == len + 2 && memcmp(s + k0 + 1, names[i].key, len) == 0) {
            *f = names[i].f;
            return true;
        }
    }
    return false;
}

/* Records the string members of the object at s[obj] named in names. */
static void pf_scan(const char *s, size_t n, size_t obj, const struct pf_name *names, size_t nn,
                    size_t span[][2])
{
    size_t it = 0, k0, k1, v0, v1;
    enum pf f;
    while (jscan_next(s, n, obj, &it, &k0, &k1, &v0, &v1))
        if (s[v0] == '"' && pf_match(s, k0, k1, names, nn, &f)) {
            span[f][0] = v0;
            span[f][1] = v1;
        }
}

bool ctrl_cpod_scan(const char *s, size_t n, struct cobj *o)
{
    static const struct pf_name meta[] = {{"namespace", PF_NS}, {"name", PF_NAME}, {"uid", PF_UID}};
    static const struct pf_name labels[] = {{"batch.kubernetes.io/job-name", PF_JOB},
                                            {"batch.kubernetes.io/controller-uid", PF_JOB_UID}};
    static const struct pf_name ann[] = {{"muster.dev/workload", PF_WORKLOAD},
                                         {"muster.dev/gpus", PF_GPUS},
                                         {"muster.dev/rank", PF_RANK},
                                         {"batch.kubernetes.io/job-completion-index", PF_INDEX}};
    static const struct pf_name spec[] = {{"nodeName", PF_NODE}, {"schedulerName", PF_SCHEDULER}};
    static const struct pf_name status[] = {{"reason", PF_REASON}, {"phase", PF_PHASE}};
    size_t span[PF_COUNT][2] = {{0}};
    bool deleting = false;
    size_t it = 0, k0, k1, v0, v1, at0 = 0;
    while (at0 < n && (s[at0] == ' ' || s[at0] == '\t' || s[at0] == '\n' || s[at0] == '\r'))
        at0++;
    if (at0 >= n || s[at0] != '{')
        return false;
    while (jscan_next(s, n, 0, &it, &k0, &k1, &v0, &v1)) {
        const char *k = s + k0 + 1;
        size_t kl = k1 - k0 - 2;
        if (kl == 8 && memcmp(k, "metadata", 8) == 0) {
            size_t mit = 0, m0, m1, w0, w1;
            enum pf f;
            while (jscan_next(s, n, v0, &mit, &m0, &m1, &w0, &w1)) {
                const char *mk = s + m0 + 1;
                size_t ml = m1 - m0 - 2;
                if (ml == 6 && memcmp(mk, "labels", 6) == 0)
                    pf_scan(s, n, w0, labels, sizeof labels / sizeof labels[0], span);
                else if (ml == 11 && memcmp(mk, "annotations", 11) == 0)
                    pf_scan(s, n, w0, ann, sizeof ann / sizeof ann[0], span);
                else if (ml == 17 && memcmp(mk, "deletionTimestamp", 17) == 0)
                    deleting = true;
                else if (s[w0] == '"' && pf_match(s, m0, m1, meta, sizeof meta / sizeof meta[0], &f))
                    span[f][0] = w0, span[f][1] = w1;
            }
        } else if (kl == 4 && memcmp(k, "spec", 4) == 0) {
            pf_scan(s, n, v0, spec, sizeof spec / sizeof spec[0], span);
        } else if (kl == 6 && memcmp(k, "status", 6) == 0) {
            pf_scan(s, n, v0, status, sizeof status / sizeof status[0], span);
        }
    }
    /* The strings unescaped into one buffer (never longer than their text). */
    size_t total = 0;
    for (int f = 0; f < PF_COUNT; f++)
        total += span[f][1] ? span[f][1] - span[f][0] : 0;
    char *buf = xmalloc(total + 1), *at = buf;
    const char *str[PF_COUNT] = {NULL};
    for (int f = 0; f < PF_COUNT; f++) {
        if (!span[f][1])
            continue;
        size_t len;
        if (!jscan_unescape(s + span[f][0] + 1, span[f][1] - span[f][0] - 2, at, &len))
            continue;
        at[len] = '\0';
        str[f] = at;
        at += len + 1;
    }
    struct cpod *p = &o->pod;
    memset(p, 0, sizeof *p);
    p->uid = str[PF_UID];
    p->job = str[PF_JOB];
    p->job_uid = str[PF_JOB_UID];
    p->workload = str[PF_WORKLOAD];
    p->gpus = str[PF_GPUS];
    p->rank = str[PF_RANK];
    p->index = str[PF_INDEX] ? strtoll(str[PF_INDEX], NULL, 10) : -1;
    p->node = str[PF_NODE] && *str[PF_NODE] ? str[PF_NODE] : NULL;
    p->scheduler = str[PF_SCHEDULER];
    p->reason = str[PF_REASON];
    const char *ph = str[PF_PHASE];
    p->phase = !ph                           ? CP_PENDING
               : strcmp(ph, "Running") == 0   ? CP_RUNNING
               : strcmp(ph, "Succeeded") == 0 ? CP_SUCCEEDED
               : strcmp(ph, "Failed") == 0    ? CP_FAILED
                                              : CP_PENDING;
    p->deleting = deleting;
    o->ns = str[PF_NS];
    o->name = str[PF_NAME];
    o->strs = buf;
    return true;
}

/* "ns/name" of the Job a pod or Workload belongs to, or "" when none. */
static void owner_job(enum ck k, const struct cobj *o, char *buf, size_t size)
{
    buf[0] = '\0';
    json_t *j = o->j;
    const char *ns = o->ns;
    const char *name = NULL;
    if (k == CK_POD) {
        name = o->pod.job;
    } else if (k == CK_WORKLOAD) {
        json_t *ref = json_array_get(ctrl_path(j, "metadata.ownerReferences"), 0);
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        if (kind && strcmp(kind, "Job") == 0)
            name = json_string_value(json_object_get(ref, "name"));
    } else if (k == CK_JOB) {
        name = ctrl_str(j, "metadata.name");
    }
    if (ns && name)
        snprintf(buf, size, "%s/%s", ns, name);
}

/* Whether a pod's change (from oldo to newo, either NULL) asks nothing of its
 * Job's controller but new counts: a pod that is and was live (or is new and
 * live), neither terminal nor being deleted. */
static bool pod_counts_only(const struct cobj *oldo, const struct cobj *newo)
{
    if (!newo || cpod_terminal(&newo->pod) || newo->pod.deleting)
        return false;
    return !oldo || (!cpod_terminal(&oldo->pod) && !oldo->pod.deleting);
}

/* Keeps the indexes of struct ctrl in step with one change (oldo and newo are
 * the object before and after; either may be NULL). */
static void index_update(struct ctrl *c, enum ck k, const char *key, struct cobj *oldo,
                         struct cobj *newo)
{
    bool new = newo != NULL;
    char job[600];
    owner_job(k, new ? newo : oldo, job, sizeof job);
    if (job[0] && k == CK_POD && pod_counts_only(oldo, newo)) {
        /* A pod that came or turned Running changes only its Job's counts,
         * whose write is batched anyway: its Job is looked at once for a
         * batch of them, not once for each (16 events of a Job of 8). */
        kdue_add(&c->jobs_later, job, mtime_wall_ns() + JOB_POD_BATCH_NS);
    } else if (job[0] && (k == CK_POD || k == CK_WORKLOAD || k == CK_JOB)) {
        kset_add(&c->dirty_jobs, job);
    }
    if (k == CK_JOB && !new)
        c->gc_due = true;
    if (k == CK_NODE || k == CK_LEASE) {
        const struct cobj *o = new ? newo : oldo;
        if (o->name && (k == CK_NODE || (o->ns && !strcmp(o->ns, "kube-node-lease"))))
            kset_add(&c->changed_leases, o->name);
    }
    if (k != CK_POD)
        return;
    kset_add(&c->changed_pods, key);
    if (job[0]) {
        union map_val *v = map_get(&c->pods_of_job, job, strlen(job));
        if (!v && new) {
            struct jobpods *jp = xcalloc(1, sizeof *jp);
            jp->key = xstrdup(job); /* the map's key */
            kset_init(&jp->pods);
            bool found;
            v = map_put(&c->pods_of_job, jp->key, strlen(jp->key), &found);
            v->ptr = jp;
        }
        if (v) {
            struct jobpods *jp = v->ptr;
            if (new) {
                kset_add(&jp->pods, key);
            } else {
                kset_del(&jp->pods, key);
                if (!jp->pods.m.len) {
                    map_del(&c->pods_of_job, jp->key, strlen(jp->key));
                    jobpods_free(jp);
                }
            }
        }
    }
    const struct cpod *np = newo ? &newo->pod : NULL;
    bool unbound = np && np->workload && !np->node && !np->deleting;
    if (unbound)
        kset_add(&c->unbound, key);
    else
        kset_del(&c->unbound, key);
    bool term = np && np->deleting && np->node && !cpod_terminal(np);
    if (term)
        kset_add(&c->terminating, key);
    else
        kset_del(&c->terminating, key);
    c->held_valid = false;
}

static void apply_kv(struct ctrl *c, struct store_kv *kv)
{
    c->stats.events++;
    enum ck k = kind_of_key(kv->key);
    if (kv->mod_rev > c->seen_rev)
        c->seen_rev = kv->mod_rev;
    if (k == CK_COUNT)
        return;
    struct map *m = &c->objs[k];
    union map_val *v = map_get(m, kv->key, kv->key_len);
    struct cobj *old = v ? v->ptr : NULL;
    struct cobj *o = NULL;
    if (kv->type != STORE_DELETED && k == CK_POD) {
        o = xcalloc(1, sizeof *o);
        o->key = xstrdup(kv->key);
        o->kind = k;
        o->rev = kv->mod_rev;
        if (!ctrl_cpod_scan(kv->value, kv->value_len, o)) {
            log_warn("ctrl: %s: stored value is not a JSON object", kv->key);
            cobj_free(o);
            return;
        }
    } else if (kv->type != STORE_DELETED) {
        json_error_t je;
        json_t *j = jsonin_loadb_slim(kv->value, kv->value_len, 0, &je);
        if (!j) {
            log_warn("ctrl: %s: stored value is not JSON: %s", kv->key, je.text);
            return;
        }
        o = xcalloc(1, sizeof *o);
        o->key = xstrdup(kv->key);
        o->kind = k;
        o->j = j;
        o->rev = kv->mod_rev;
        o->ns = ctrl_str(j, "metadata.namespace");
        o->name = ctrl_str(j, "metadata.name");
        if (k == CK_NODE) {
            o->node = cnode_of(j);
            json_decref(j);
            o->j = NULL;
            o->ns = NULL;
            o->name = strrchr(o->key, '/') + 1;
        } else if (k != CK_JOB && k != CK_LEASE) {
            struct err e;
            err_clear(&e);
            if (model_decode_value(j, &o->m, &e))
                log_warn("ctrl: %s: %s", kv->key, e.msg);
        }
    }
    if (o && k == CK_WORKLOAD) {
        o->wl_admitted = ctrl_condition_true(o->j, "QuotaReserved") &&
                         ctrl_path(o->j, "status.admission") != NULL;
        o->wl_finished = ctrl_condition_true(o->j, "Finished");
    }
    if (k == CK_WORKLOAD) {
        /* ns/name: the last two parts of the key */
        const char *end = kv->key + kv->key_len, *p = end;
        int slashes = 0;
        while (p > kv->key && slashes < 2)
            if (*--p == '/')
                slashes++;
        if (slashes == 2)
            kset_add(&c->changed_wls, p + 1);
    }
    index_update(c, k, kv->key, old, o);
    /* Dirty flags: world kinds when something the world reads changed. A
     * status write to a queue (the scheduler's own usage counts, several a
     * second while workloads come and go) changes nothing the world reads: its
     * generation, bumped by every spec change, stays. */
    if (world_kind(k)) {
        bool changed = !(k == CK_NODE && old && o && strcmp(old->node->sig, o->node->sig) == 0) &&
                       !(status_kind(k) && old && o && ctrl_generation(old) == ctrl_generation(o) &&
                         ctrl_generation(o) > 0 && deleting(old) == deleting(o));
        if (changed) {
            c->world_dirty = true;
            c->world_changed_at = mtime_wall_ns();
        }
    }
    if (k == CK_WORKLOAD)
        c->wl_dirty = true;
    if (k == CK_POD)
        c->pods_dirty = true;
    if (k == CK_JOB)
        c->jobs_dirty = true;
    /* The map keeps the key pointer of the first insertion: replace the entry. */
    if (old && o) {
        o->status_at = old->status_at;
        o->seen_at = old->seen_at;
        o->started_at = old->started_at;
    } else if (o && k == CK_JOB) {
        o->seen_at = mtime_wall_ns();
    }
    if (old)
        map_del(m, old->key, strlen(old->key));
    if (o) {
        bool found;
        map_put(m, o->key, strlen(o->key), &found)->ptr = o;
    }
    cobj_free(old);
}

struct cobj *ctrl_get(const struct ctrl *c, enum ck k, const char *ns, const char *name)
{
    /* prefix, [ns "/"], name (str_join: this is called many times a pass, and
     * snprintf was most of its cost) */
    char key[STORE_KEY_MAX];
    bool nsd = ns && kinds[k].namespaced;
    const char *parts[] = {kinds[k].prefix, nsd ? ns : NULL, nsd ? "/" : NULL, name};
    int n = str_join(key, sizeof key, parts, 4);
    if (n < 0 || (size_t)n >= sizeof key)
        return NULL;
    union map_val *v = map_get(&c->objs[k], key, (size_t)n);
    return v ? v->ptr : NULL;
}

struct cobj *ctrl_next(const struct ctrl *c, enum ck k, size_t *it)
{
    struct map_entry *e = map_next(&c->objs[k], it);
    return e ? e->val.ptr : NULL;
}

struct cobj *ctrl_by_key(const struct ctrl *c, enum ck k, const char *key)
{
    union map_val *v = map_get(&c->objs[k], key, strlen(key));
    return v ? v->ptr : NULL;
}

const struct kset *ctrl_pods_of_job(const struct ctrl *c, const char *ns, const char *name)
{
    char key[600];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    union map_val *v = map_get(&c->pods_of_job, key, strlen(key));
    return v ? &((struct jobpods *)v->ptr)->pods : NULL;
}

int ctrl_obj_path(enum ck k, const char *ns, const char *name, const char *sub, char *buf,
                  size_t size)
{
    int n;
    if (kinds[k].namespaced)
        n = snprintf(buf, size, "%s/namespaces/%s/%s%s%s%s%s", kinds[k].api, ns, kinds[k].resource,
                     name ? "/" : "", name ? name : "", sub ? "/" : "", sub ? sub : "");
    else
        n = snprintf(buf, size, "%s/%s%s%s%s%s", kinds[k].api, kinds[k].resource, name ? "/" : "",
                     name ? name : "", sub ? "/" : "", sub ? sub : "");
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- writers ---- */

struct ctrl_flight {
    char *key;
    bool done;
    bool decision; /* an admission or an eviction ("adm/", "evict/") */
    bool in_map;   /* still c->flights' entry for key (not replaced by a newer one) */
    int64_t done_rev;
    struct ctrl_op *waiting;       /* queued once this write succeeds (ctrl_submit_after) */
    struct ctrl_flight *next_done; /* c->done_head's list */
};

struct ctrl_op {
    struct ctrl_op *next;
    struct ctrl_flight *flight; /* NULL when not deduplicated */
    char method[8];
    char *path, *ctype, *body;
};

bool ctrl_busy(struct ctrl *c, const char *dedupe)
{
    pthread_mutex_lock(&c->mu);
    union map_val *v = map_get(&c->flights, dedupe, strlen(dedupe));
    bool busy = false;
    if (v) {
        struct ctrl_flight *f = v->ptr;
        busy = !f->done || c->seen_rev < f->done_rev;
    }
    pthread_mutex_unlock(&c->mu);
    return busy;
}

/* Takes f out of c->flights (a newer flight of its key may come); c->mu held. */
static void flight_unmap_locked(struct ctrl *c, struct ctrl_flight *f)
{
    if (f->in_map)
        map_del(&c->flights, f->key, strlen(f->key));
    f->in_map = false;
}

void ctrl_sweep_flights(struct ctrl *c)
{
    pthread_mutex_lock(&c->mu);
    /* Revisions finish nearly in order: one seen later than those after it
     * holds them a pass or so longer, which only delays their freeing. */
    while (c->done_head && c->done_head->done_rev <= c->seen_rev) {
        struct ctrl_flight *f = c->done_head;
        c->done_head = f->next_done;
        if (!c->done_head)
            c->done_tail = NULL;
        flight_unmap_locked(c, f);
        free(f->key);
        free(f);
        c->nflights--;
    }
    pthread_mutex_unlock(&c->mu);
}

size_t ctrl_flights(struct ctrl *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->nflights;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static struct ctrl_op *op_new(const char *method, const char *path, const char *ctype,
                              json_t *body)
{
    struct ctrl_op *op = xcalloc(1, sizeof *op);
    snprintf(op->method, sizeof op->method, "%s", method);
    op->path = xstrdup(path);
    op->ctype = ctype ? xstrdup(ctype) : NULL;
    op->body = body ? jsonout_dumps(body, NULL) : NULL;
    json_decref(body);
    return op;
}

static void op_free(struct ctrl_op *op)
{
    free(op->path);
    free(op->ctype);
    free(op->body);
    free(op);
}

static void drop_ops_locked(struct ctrl *c, struct ctrl_op *ops);

/* Forgets a flight whose write failed or was dropped, and the writes waiting
 * for it (the loop decides again from what the store says). c->mu held. */
static void flight_fail_locked(struct ctrl *c, struct ctrl_flight *f)
{
    if (f->decision)
        c->decisions_open--;
    flight_unmap_locked(c, f);
    drop_ops_locked(c, f->waiting);
    free(f->key);
    free(f);
    c->nflights--;
}

/* Frees a list of queued writes (linked by next) and their flights. */
static void drop_ops_locked(struct ctrl *c, struct ctrl_op *ops)
{
    while (ops) {
        struct ctrl_op *next = ops->next;
        if (ops->flight)
            flight_fail_locked(c, ops->flight);
        op_free(ops);
        ops = next;
    }
}

static void enqueue_locked(struct ctrl *c, struct ctrl_op *op)
{
    op->next = NULL;
    if (c->tail)
        c->tail->next = op;
    else
        c->head = op;
    c->tail = op;
    pthread_cond_signal(&c->cv);
}

/* Queues op; its flight is dedupe's. With after (a dedupe key), op waits until
 * the write in flight under it succeeds, and goes with it if it fails. */
static bool submit(struct ctrl *c, const char *dedupe, const char *after, struct ctrl_op *op)
{
    if (dedupe && ctrl_busy(c, dedupe)) {
        op_free(op);
        return false;
    }
    pthread_mutex_lock(&c->mu);
    if (dedupe) {
        struct ctrl_flight *f = xcalloc(1, sizeof *f);
        f->key = xstrdup(dedupe);
        f->in_map = true;
        c->nflights++;
        f->decision = !strncmp(dedupe, "adm/", 4) || !strncmp(dedupe, "evict/", 6);
        if (f->decision)
            c->decisions_open++;
        /* One of the key done and seen (ctrl_busy said so) but not swept yet:
         * the sweep frees it, the map forgets it now (it holds its key). */
        union map_val *old = map_get(&c->flights, f->key, strlen(f->key));
        if (old)
            flight_unmap_locked(c, old->ptr);
        bool found;
        map_put(&c->flights, f->key, strlen(f->key), &found)->ptr = f;
        op->flight = f;
    }
    union map_val *av = after ? map_get(&c->flights, after, strlen(after)) : NULL;
    struct ctrl_flight *af = av ? av->ptr : NULL;
    if (af && !af->done) {
        op->next = af->waiting;
        af->waiting = op;
    } else {
        enqueue_locked(c, op);
    }
    pthread_mutex_unlock(&c->mu);
    return true;
}

bool ctrl_submit(struct ctrl *c, const char *dedupe, const char *method, const char *path,
                 const char *ctype, json_t *body)
{
    return ctrl_submit_after(c, NULL, dedupe, method, path, ctype, body);
}

bool ctrl_submit_after(struct ctrl *c, const char *after, const char *dedupe, const char *method,
                       const char *path, const char *ctype, json_t *body)
{
    if (dedupe && ctrl_busy(c, dedupe)) {
        json_decref(body);
        return false;
    }
    return submit(c, dedupe, after, op_new(method, path, ctype, body));
}

/* Whether a decision of the scheduler (an admission or an eviction) is still on
 * its way to the store or not yet seen back: the engine must not be rebuilt from
 * the store meanwhile, or it would decide again without it. */
bool ctrl_decisions_pending(struct ctrl *c)
{
    pthread_mutex_lock(&c->mu);
    bool pending = c->decisions_open > 0 || c->seen_rev < c->decisions_rev;
    pthread_mutex_unlock(&c->mu);
    return pending;
}

static void run_op(struct ctrl *c, struct ctrl_op *op)
{
    struct api_req req;
    memset(&req, 0, sizeof req);
    req.method = op->method;
    req.path = op->path;
    req.content_type = op->ctype ? op->ctype : "application/json";
    req.accept = "application/json";
    req.body = op->body;
    req.body_len = op->body ? strlen(op->body) : 0;
    req.query[0] = (struct api_param){"fieldManager", "muster-controller"};
    req.n_query = 1;
    struct api_resp r;
    api_resp_init(&r);
    api_handle(&c->api, &req, &r);
    bool ok = r.code >= 200 && r.code < 300;
    if (!ok && r.code != 404 && r.code != 409)
        log_warn("ctrl: %s %s: %d %.300s", op->method, op->path, r.code,
                 r.body.len ? r.body.buf : "");
    else if (!ok)
        log_debug("ctrl: %s %s: %d", op->method, op->path, r.code);
    if (r.stream && r.stream->free_fn)
        r.stream->free_fn(r.stream);
    r.stream = NULL;
    api_resp_release(&r);
    pthread_mutex_lock(&c->mu);
    c->writes++;
    if (!ok)
        c->write_errors++;
    if (op->flight) {
        if (ok) {
            struct ctrl_flight *f = op->flight;
            f->done = true;
            f->done_rev = store_rev(c->store);
            if (c->done_tail)
                c->done_tail->next_done = f;
            else
                c->done_head = f;
            c->done_tail = f;
            if (f->decision) {
                c->decisions_open--;
                if (f->done_rev > c->decisions_rev)
                    c->decisions_rev = f->done_rev;
            }
            /* What waited for this write goes now, to any writer. */
            while (f->waiting) {
                struct ctrl_op *w = f->waiting;
                f->waiting = w->next;
                enqueue_locked(c, w);
            }
        } else {
            /* Failed: the loop decides again from what the store says (woken
             * for it: no event will come for a write that did not happen). */
            flight_fail_locked(c, op->flight);
            atomic_store(&c->write_failed, true);
        }
        op->flight = NULL;
    }
    pthread_mutex_unlock(&c->mu);
}

static void *writer_main(void *arg)
{
    struct ctrl *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->head && !c->wstop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->head)
            break;
        struct ctrl_op *op = c->head;
        c->head = op->next;
        if (!c->head)
            c->tail = NULL;
        pthread_mutex_unlock(&c->mu);
        run_op(c, op);
        op_free(op);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

void ctrl_event(struct ctrl *c, const char *kind, const char *api_version, json_t *obj,
                const char *type, const char *reason, const char *message)
{
    const char *ns = ctrl_str(obj, "metadata.namespace");
    const char *name = ctrl_str(obj, "metadata.name");
    if (!name)
        return;
    if (!ns)
        ns = "default";
    char ts[40], ename[300], path[400];
    ctrl_time(c, ts, sizeof ts);
    snprintf(ename, sizeof ename, "%.200s.%" PRIx64, name, (uint64_t)c->now);
    json_t *ev = json_pack(
        "{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s?},s:s,s:s,s:s,s:s,s:s,s:i,s:{s:s}}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", ns,
        "involvedObject", "kind", kind, "apiVersion", api_version, "name", name, "namespace", ns,
        "uid", ctrl_str(obj, "metadata.uid"), "type", type, "reason", reason, "message", message,
        "firstTimestamp", ts, "lastTimestamp", ts, "count", 1, "source", "component",
        "muster-scheduler");
    if (!ctrl_str(obj, "metadata.namespace"))
        json_object_del(json_object_get(ev, "involvedObject"), "namespace");
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events", ns);
    ctrl_submit(c, NULL, "POST", path, NULL, ev);
}

/* ---- the loop ---- */


/* Empties the cache and its indexes (the maps stay usable). */
static void cache_clear(struct ctrl *c)
{
    for (int k = 0; k < CK_COUNT; k++) {
        size_t it = 0;
        struct map_entry *me;
        while ((me = map_next(&c->objs[k], &it)))
            cobj_free(me->val.ptr);
        map_clear(&c->objs[k]);
    }
    size_t it = 0;
    struct map_entry *me;
    while ((me = map_next(&c->pods_of_job, &it)))
        jobpods_free(me->val.ptr);
    map_clear(&c->pods_of_job);
    kset_clear(&c->unbound);
    kset_clear(&c->terminating);
    kset_clear(&c->dirty_jobs);
    kset_clear(&c->changed_pods);
    kset_clear(&c->changed_leases);
    kdue_clear(&c->jobs_later);
    kset_clear(&c->held_gpus);
    c->held_valid = false;
}

static int load(struct ctrl *c, struct err *e)
{
    struct store_list l;
    struct store_list_opts lo = {0};
    if (store_list(c->store, "/registry/", &lo, &l, e)) {
        store_list_release(&l);
        return -1;
    }
    for (size_t i = 0; i < l.len; i++)
        apply_kv(c, l.items[i]);
    c->seen_rev = l.rev;
    int64_t rev = l.rev;
    store_list_release(&l);
    struct store_watch_opts wo = {.cap = 1000000};
    c->w = store_watch(c->store, "/registry/", rev, &wo, e);
    return c->w ? 0 : -1;
}

/* apply_kv, its time counted in the stats (not the wait for the event). */
static void apply_timed(struct ctrl *c, struct store_kv *kv)
{
    int64_t t = mtime_now_ns();
    apply_kv(c, kv);
    c->stats.apply_ns += mtime_now_ns() - t;
}

static void *loop_main(void *arg)
{
    struct ctrl *c = arg;
    c->world_dirty = c->wl_dirty = c->pods_dirty = c->jobs_dirty = true;
    int64_t last_pass = 0;
    while (!c->stop) {
        c->now = mtime_wall_ns();
        int64_t wait = c->o.tick_ns;
        if (c->wake_at && c->wake_at - c->now < wait)
            wait = c->wake_at - c->now > 0 ? c->wake_at - c->now : 0;
        struct store_kv *kv;
        struct err e;
        err_clear(&e);
        int rc = store_watch_next(c->w, wait, &kv, &e);
        if (rc < 0) {
            /* Fell behind or the store went away: start over from a fresh list. */
            log_warn("ctrl: watch ended (%s); reloading", e.msg);
            store_watch_destroy(c->w);
            c->w = NULL;
            cache_clear(c);
            if (c->stop || load(c, &e)) {
                if (!c->stop)
                    log_error("ctrl: %s", e.msg);
                break;
            }
            c->world_dirty = c->wl_dirty = c->pods_dirty = c->jobs_dirty = true;
            c->wl_rescan = true;
            continue;
        }
        if (rc == 1) {
            apply_timed(c, kv);
            store_kv_unref(kv);
            /* Take what is queued before deciding (a bounded batch, so that
             * a steady stream of events still lets passes run). Passes are at
             * least PASS_GAP_NS apart while events stream in: a Job whose pods
             * change one by one is then reconciled once for many of them. */
            int64_t until = last_pass + PASS_GAP_NS;
            for (int n = 0; n < 4096; n++) {
                int64_t left = until - mtime_now_ns();
                if (store_watch_next(c->w, left > 0 ? left : 0, &kv, &e) != 1)
                    break;
                apply_timed(c, kv);
                store_kv_unref(kv);
            }
        }
        c->now = mtime_wall_ns();
        c->wake_at = 0;
        if (atomic_exchange(&c->write_failed, false))
            c->wl_dirty = c->jobs_dirty = true;
        int64_t t0 = mtime_now_ns();
        ctrl_nodes_pass(c);
        int64_t t1 = mtime_now_ns();
        ctrl_jobs_pass(c);
        int64_t t2 = mtime_now_ns();
        ctrl_sched_pass(c);
        int64_t t3 = mtime_now_ns();
        c->pods_dirty = c->jobs_dirty = false;
        kset_clear(&c->changed_pods);
        ctrl_sweep_flights(c);
        last_pass = mtime_now_ns();
        c->stats.passes++;
        c->stats.nodes_ns += t1 - t0;
        c->stats.jobs_ns += t2 - t1;
        c->stats.sched_ns += t3 - t2;
        if (t3 - c->stats.last_log > 5000000000LL) {
            if (c->stats.last_log)
                log_debug("ctrl: %" PRIu64 " passes, %" PRIu64 " events, %" PRIu64
                          " rebuilds, %" PRIu64 " Job reconciles in 5 s (%.0f ms); nodes %.0f ms, "
                          "jobs %.0f ms, scheduler %.0f ms (scan %.0f, settle %.0f, write "
                          "%.0f, queues %.0f, bind %.0f); %zu writes held",
                          c->stats.passes, c->stats.events, c->stats.rebuilds, c->stats.reconciles,
                          c->stats.apply_ns / 1e6,
                          c->stats.nodes_ns / 1e6,
                          c->stats.jobs_ns / 1e6, c->stats.sched_ns / 1e6,
                          c->stats.scan_ns / 1e6, c->stats.settle_ns / 1e6,
                          c->stats.write_ns / 1e6, c->stats.queues_ns / 1e6,
                          c->stats.bind_ns / 1e6, ctrl_flights(c));
            int64_t keep = t3;
            memset(&c->stats, 0, sizeof c->stats);
            c->stats.last_log = keep;
        }
    }
    return NULL;
}

struct ctrl *ctrl_start(struct store *store, const struct ctrl_opts *o, struct err *e)
{
    struct ctrl *c = xcalloc(1, sizeof *c);
    c->store = store;
    c->api.store = store;
    if (o)
        c->o = *o;
    if (c->o.writers <= 0)
        c->o.writers = 48;
    if (c->o.tick_ns <= 0)
        c->o.tick_ns = 200 * 1000000LL;
    if (c->o.requeue_base_ns <= 0)
        c->o.requeue_base_ns = 1000000000LL;
    if (!c->o.scheduler_name)
        c->o.scheduler_name = "muster";
    for (int k = 0; k < CK_COUNT; k++)
        map_init(&c->objs[k], MAP_KEY_STR);
    map_init(&c->flights, MAP_KEY_STR);
    map_init(&c->pods_of_job, MAP_KEY_STR);
    kset_init(&c->unbound);
    kset_init(&c->terminating);
    kset_init(&c->dirty_jobs);
    kset_init(&c->changed_pods);
    kset_init(&c->changed_leases);
    kset_init(&c->changed_wls);
    kdue_init(&c->jobs_later);
    kset_init(&c->held_gpus);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->now = mtime_wall_ns();
    if (load(c, e)) {
        ctrl_stop(c);
        return NULL;
    }
    c->s = ctrl_sched_new(c);
    c->nthreads = c->o.writers;
    c->threads = xcalloc((size_t)c->nthreads, sizeof *c->threads);
    for (int i = 0; i < c->nthreads; i++) {
        pthread_create(&c->threads[i], NULL, writer_main, c);
        pthread_setname_np(c->threads[i], "ctrl-writer");
    }
    pthread_create(&c->loop, NULL, loop_main, c);
    pthread_setname_np(c->loop, "ctrl-loop");
    return c;
}

void ctrl_stop(struct ctrl *c)
{
    if (!c)
        return;
    c->stop = true;
    if (c->threads) {
        pthread_join(c->loop, NULL);
        pthread_mutex_lock(&c->mu);
        c->wstop = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        for (int i = 0; i < c->nthreads; i++)
            pthread_join(c->threads[i], NULL);
        free(c->threads);
    }
    store_watch_destroy(c->w);
    ctrl_sched_free(c->s);
    ctrl_nodes_free(c->nodes);
    cache_clear(c);
    for (int k = 0; k < CK_COUNT; k++)
        map_release(&c->objs[k]);
    map_release(&c->pods_of_job);
    kset_release(&c->unbound);
    kset_release(&c->terminating);
    kset_release(&c->dirty_jobs);
    kset_release(&c->changed_pods);
    kset_release(&c->changed_leases);
    kset_release(&c->changed_wls);
    kdue_release(&c->jobs_later);
    kset_release(&c->held_gpus);
    /* Every flight is in the map, in the done list, or both. */
    size_t it = 0;
    struct map_entry *me;
    while ((me = map_next(&c->flights, &it))) {
        struct ctrl_flight *f = me->val.ptr;
        for (struct ctrl_op *w = f->waiting, *next; w; w = next) {
            next = w->next;
            op_free(w);
        }
        if (!f->done) {
            free(f->key);
            free(f);
        }
    }
    map_release(&c->flights);
    for (struct ctrl_flight *f = c->done_head, *next; f; f = next) {
        next = f->next_done;
        free(f->key);
        free(f);
    }
    while (c->head) {
        struct ctrl_op *op = c->head;
        c->head = op->next;
        op_free(op);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}
