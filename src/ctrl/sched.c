/*
 * ctrl/sched: the scheduler loop's pass. Keeps an admission world in step with
 * the cache, runs the engine, writes Workload admissions, evictions and pending
 * reasons, and binds pods to the places their workload's admission chose.
 *
 * The world (flavors, queues, cohorts, topologies, nodes) is rebuilt from the
 * cache when any of it changes, and so is the whole engine when the store
 * disagrees with it in a way the engine did not cause (an eviction by the node
 * lifecycle controller, a user's edit): the engine's state is always a function
 * of the store. Admitted workloads come back with their pods where the store
 * says they are (status.admission.placement), so a restart never moves a running
 * pod or gives its GPUs to another.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/mtime.h"
#include "ctrl/ctrl_int.h"
#include "model/jsonout.h"
#include "model/quantity.h"
#include "sched/kueue.h"

#define REBUILD_QUIET_NS (100 * 1000000LL)
#define REBUILD_EVERY_NS (1000 * 1000000LL)
/* ClusterQueue and LocalQueue status (counts and usage, recounted over every
 * workload) is written at most this often: under load a pass comes every few
 * tens of milliseconds, and Kueue's own queue status trails its workloads too. */
#define QUEUE_STATUS_GAP_NS (500 * 1000000LL)

struct wlent {
    char key[300];       /* ns/name */
    bool store_admitted; /* what the store said when last looked at */
    int64_t evict_why;   /* -1, or the enum adm_evict_reason of the last eviction */
    /* What the write-back last compared with the store: nothing to compare
     * again while the engine's state and reason stay and the stored workload
     * does not change (stale: it changed, or a write was on its way). */
    bool stale;
    int seen_state;
    uint64_t seen_reason; /* a hash */
    int64_t generation;   /* of the Workload the engine has (a spec change means rebuilding) */
    char uid[48];
};

struct ctrl_sched {
    struct adm *a;
    struct wlent *ents; /* by adm id */
    size_t n, cap;
    struct map ids; /* ns/name -> adm id + 1; keys point into ents... */
    char **keys;    /* owned copies of the map's keys */
    size_t nkeys, capkeys;
    bool rebuild;
    uint64_t rebuilds;
    int64_t last_rebuild;
    int64_t requeue_wake; /* the earliest requeueAt of a workload left out; 0: none */
    struct kset recheck;  /* workloads (ns/name) to look at again in the next pass */
    int64_t queues_at;    /* when the queues' status was last recounted */
    bool queues_due;      /* a pass changed something since */
};

struct ctrl_sched *ctrl_sched_new(struct ctrl *c)
{
    (void)c;
    struct ctrl_sched *s = xcalloc(1, sizeof *s);
    map_init(&s->ids, MAP_KEY_STR);
    kset_init(&s->recheck);
    s->rebuild = true;
    return s;
}

static void reset(struct ctrl_sched *s)
{
    adm_destroy(s->a);
    s->a = NULL;
    s->n = 0;
    map_clear(&s->ids);
    kset_clear(&s->recheck);
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    s->nkeys = 0;
}

void ctrl_sched_free(struct ctrl_sched *s)
{
    if (!s)
        return;
    reset(s);
    map_release(&s->ids);
    kset_release(&s->recheck);
    free(s->keys);
    free(s->ents);
    free(s);
}

/* ---- lookups for sched/kueue ---- */

static const struct model_obj *find(void *ctx, enum model_kind k, const char *ns,
                                    const char *name)
{
    struct ctrl *c = ctx;
    enum ck ck;
    switch (k) {
    case MODEL_NAMESPACE:
        ck = CK_NAMESPACE;
        break;
    case MODEL_LOCAL_QUEUE:
        ck = CK_LQ;
        break;
    case MODEL_CLUSTER_QUEUE:
        ck = CK_CQ;
        break;
    case MODEL_PRIORITY_CLASS:
        ck = CK_PRIORITY_CLASS;
        break;
    case MODEL_WORKLOAD_PRIORITY_CLASS:
        ck = CK_WPC;
        break;
    case MODEL_RESOURCE_FLAVOR:
        ck = CK_FLAVOR;
        break;
    default:
        return NULL;
    }
    struct cobj *o = ctrl_get(c, ck, ns, name);
    return o ? o->m : NULL;
}

static struct kueue_lookup lookup(struct ctrl *c)
{
    struct kueue_lookup l = {find, c, NULL};
    size_t it = 0;
    struct cobj *o;
    while ((o = ctrl_next(c, CK_PRIORITY_CLASS, &it)))
        if (o->m && o->m->u.priority_class.global_default)
            l.default_priority_class = o->m;
    return l;
}

/* ---- sorting cache objects for a deterministic order ---- */

static int cmp_key(const void *x, const void *y)
{
    const struct cobj *const *a = x, *const *b = y;
    return strcmp((*a)->key, (*b)->key);
}

static int64_t created_ns(const struct cobj *o)
{
    return o->m && o->m->meta.has_creation ? o->m->meta.creation_ns : 0;
}

static int cmp_created(const void *x, const void *y)
{
    const struct cobj *const *a = x, *const *b = y;
    int64_t ta = created_ns(*a), tb = created_ns(*b);
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp((*a)->key, (*b)->key);
}

static struct cobj **sorted(struct ctrl *c, enum ck k, size_t *n,
                            int (*cmp)(const void *, const void *))
{
    size_t cap = c->objs[k].len + 1, it = 0;
    struct cobj **v = xcalloc(cap, sizeof *v), *o;
    *n = 0;
    while ((o = ctrl_next(c, k, &it)))
        v[(*n)++] = o;
    qsort(v, *n, sizeof *v, cmp);
    return v;
}


/* Whether the node's Lease (if it has one) has expired. The node lifecycle
 * controller's NotReady write reaches the cache only after the pass that evicted
 * the node's workloads, which must not place them there again. */
static bool lease_expired(struct ctrl *c, const char *node)
{
    struct cobj *l = ctrl_get(c, CK_LEASE, "kube-node-lease", node);
    const char *rt = l ? ctrl_str(l->j, "spec.renewTime") : NULL;
    int64_t renew = 0;
    if (!rt || model_parse_time(rt, &renew, NULL))
        return false;
    int64_t dur = json_integer_value(ctrl_path(l->j, "spec.leaseDurationSeconds"));
    return c->now >= renew + (dur > 0 ? dur : 40) * 1000000000LL;
}

/* ---- the placement ---- */

/* Parses the workload's placement (ctrl_placement) into fixed pods (one per
 * rank, pod set 0 unless the entry says "podSet"). Returns the count, or -1 when
 * absent or malformed. */
static int parse_placement(json_t *wl, struct adm_fixed_pod **out, json_t **keep)
{
    *out = NULL;
    *keep = NULL;
    json_t *arr = ctrl_placement(wl);
    if (!arr)
        return -1;
    size_t n = json_array_size(arr), i;
    struct adm_fixed_pod *fp = xcalloc(n + 1, sizeof *fp);
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        fp[i].node = json_string_value(json_object_get(x, "node"));
        if (!fp[i].node)
            fp[i].node = "";
        fp[i].podset = (uint32_t)json_integer_value(json_object_get(x, "podSet"));
        json_t *g = json_object_get(x, "gpus"), *gi;
        size_t k;
        json_array_foreach(g, k, gi)
        {
            if (fp[i].ngpu < CLUSTER_MAX_GPUS)
                fp[i].gpu[fp[i].ngpu++] = (uint8_t)json_integer_value(gi);
        }
    }
    *out = fp;
    *keep = arr;
    return (int)n;
}

/* ---- adding workloads ---- */

static bool wl_finished(const struct cobj *o)
{
    return o->wl_finished;
}

static bool wl_admitted(const struct cobj *o)
{
    return o->wl_admitted;
}

static const char *wl_uid(const struct cobj *o)
{
    const char *u = ctrl_str(o->j, "metadata.uid");
    return u ? u : "";
}

static int64_t requeue_at(json_t *j)
{
    const char *s = ctrl_str(j, "status.requeueState.requeueAt");
    int64_t t = 0;
    if (s && model_parse_time(s, &t, NULL))
        t = 0;
    return t;
}

static void add_ent(struct ctrl_sched *s, int64_t id, const char *key, bool admitted)
{
    if ((size_t)id >= s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        while (s->cap <= (size_t)id)
            s->cap *= 2;
        s->ents = xreallocarray(s->ents, s->cap, sizeof *s->ents);
    }
    if ((size_t)id >= s->n)
        s->n = (size_t)id + 1;
    struct wlent *w = &s->ents[id];
    memset(w, 0, sizeof *w);
    w->stale = true;
    snprintf(w->key, sizeof w->key, "%s", key);
    w->store_admitted = admitted;
    w->evict_why = -1;
    if (s->nkeys == s->capkeys) {
        s->capkeys = s->capkeys ? 2 * s->capkeys : 256;
        s->keys = xreallocarray(s->keys, s->capkeys, sizeof *s->keys);
    }
    char *k = xstrdup(key);
    s->keys[s->nkeys++] = k;
    bool found;
    map_put(&s->ids, k, strlen(k), &found)->u64 = (uint64_t)id + 1;
}

static void add_workload(struct ctrl *c, const struct kueue_lookup *l, struct cobj *o)
{
    struct ctrl_sched *s = c->s;
    char key[300];
    snprintf(key, sizeof key, "%s/%s", o->ns ? o->ns : "", o->name ? o->name : "");
    if (!o->m || wl_finished(o))
        return;
    int64_t ra = requeue_at(o->j);
    if (!wl_admitted(o) && ra > c->now) {
        /* Nothing else marks the workloads changed when the time comes. */
        if (!s->requeue_wake || ra < s->requeue_wake)
            s->requeue_wake = ra;
        return;
    }
    struct err e;
    err_clear(&e);
    int64_t id = kueue_add_workload(s->a, l, o->m, key, created_ns(o), &e);
    if (id < 0) {
        log_warn("ctrl: Workload %s: %s", key, e.msg);
        return;
    }
    bool admitted = wl_admitted(o);
    add_ent(s, id, key, admitted);
    s->ents[id].generation = ctrl_generation(o);
    snprintf(s->ents[id].uid, sizeof s->ents[id].uid, "%s", wl_uid(o));
    if (admitted && adm_workload(s->a, (uint32_t)id)->cq != ADM_NONE) {
        const char *fl[KUEUE_MAX_PODSETS * ADM_MAX_RES];
        kueue_admission_flavors(s->a, o->m, fl);
        struct adm_fixed_pod *fp;
        json_t *keep;
        int n = parse_placement(o->j, &fp, &keep);
        json_t *qr = ctrl_condition(o->j, "QuotaReserved");
        int64_t at = c->now;
        const char *ts = qr ? json_string_value(json_object_get(qr, "lastTransitionTime")) : NULL;
        if (ts)
            model_parse_time(ts, &at, NULL);
        uint32_t dropped = 0;
        int rc = n >= 0 ? adm_admit_placed(s->a, (uint32_t)id, fl, fp, (uint32_t)n, at, &dropped,
                                           &e)
                        : adm_admit_existing(s->a, (uint32_t)id, fl, at, &e);
        if (rc)
            log_warn("ctrl: Workload %s: %s", key, e.msg);
        else if (dropped)
            log_warn("ctrl: Workload %s: %u pods of its placement are no longer placeable", key,
                     dropped);
        free(fp);
        json_decref(keep);
    }
}

/* ---- hooks ---- */

static void on_evicted(void *ctx, uint32_t id, uint32_t by, enum adm_evict_reason why,
                       int64_t now)
{
    struct ctrl_sched *s = ctx;
    (void)by;
    (void)now;
    if (id < s->n)
        s->ents[id].evict_why = why;
}

static bool rebuild(struct ctrl *c)
{
    struct ctrl_sched *s = c->s;
    c->stats.rebuilds++;
    reset(s);
    kset_clear(&c->changed_wls); /* every workload is read below */
    struct adm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fair_sharing = c->o.fair_sharing;
    cfg.backfill = c->o.backfill;
    cfg.policy = c->o.policy;
    cfg.require_nodes = true;
    s->a = adm_create(&cfg);
    struct adm_hooks h = {s, NULL, on_evicted};
    adm_set_hooks(s->a, &h);
    static const enum ck world[] = {CK_TOPOLOGY, CK_FLAVOR, CK_COHORT, CK_CQ, CK_NODE};
    struct err e;
    err_clear(&e);
    for (size_t w = 0; w < sizeof world / sizeof world[0]; w++) {
        size_t n;
        struct cobj **v = sorted(c, world[w], &n, cmp_key);
        for (size_t i = 0; i < n; i++) {
            int rc;
            if (world[w] == CK_NODE) {
                const struct cnode *cn = v[i]->node;
                if (!cn->ready || lease_expired(c, v[i]->name))
                    continue;
                struct adm_node_spec ns = {v[i]->name, cn->cpu_milli, cn->memory, cn->gpus,
                                           cn->labels, cn->nlabels, (const char *const *)cn->taints,
                                           cn->ntaints, cn->unschedulable};
                rc = adm_add_node(s->a, &ns, &e);
            } else {
                rc = v[i]->m ? kueue_add_object(s->a, v[i]->m, &e) : 0;
            }
            if (rc) {
                log_warn("ctrl: %s: %s (left out)", v[i]->key, e.msg);
                err_clear(&e);
            }
        }
        free(v);
    }
    if (adm_seal(s->a, &e)) {
        log_warn("ctrl: the admission world does not seal: %s", e.msg);
        adm_destroy(s->a);
        s->a = NULL;
        return false;
    }
    struct kueue_lookup l = lookup(c);
    size_t n;
    struct cobj **v = sorted(c, CK_WORKLOAD, &n, cmp_created);
    /* Admitted workloads first, so that they keep their places. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (wl_admitted(v[i]) == (pass == 0))
                add_workload(c, &l, v[i]);
    free(v);
    s->rebuilds++;
    log_debug("ctrl: admission world rebuilt (%" PRIu64 " so far): %u nodes, %zu workloads",
              s->rebuilds, adm_nnodes(s->a), n);
    return true;
}

/* ---- writing decisions ---- */

/* A canonical amount (milli-cores for cpu, bytes, devices) as a quantity. */
static void fmt_qty(const char *res, int64_t v, char *buf, size_t size)
{
    if (strcmp(res, "cpu") == 0)
        quantity_format(v, buf, size);
    else if (strcmp(res, "memory") == 0)
        quantity_format_binary(v * 1000, buf, size);
    else
        snprintf(buf, size, "%" PRId64, v);
}

static json_t *conditions_copy(json_t *wl)
{
    json_t *conds = ctrl_path(wl, "status.conditions");
    return json_is_array(conds) ? json_deep_copy(conds) : json_array();
}

static void patch_status(struct ctrl *c, struct cobj *o, const char *dedupe, json_t *status)
{
    char path[600];
    if (ctrl_obj_path(CK_WORKLOAD, o->ns, o->name, "status", path, sizeof path)) {
        json_decref(status);
        return;
    }
    json_t *body = json_pack("{s:o}", "status", status);
    ctrl_submit(c, dedupe, "PATCH", path, "application/merge-patch+json", body);
}

static void write_admission(struct ctrl *c, struct cobj *o, uint32_t id)
{
    struct ctrl_sched *s = c->s;
    const struct adm_wl *w = adm_workload(s->a, id);
    char dd[400];
    snprintf(dd, sizeof dd, "adm/%s", s->ents[id].key);
    if (ctrl_busy(c, dd))
        return;
    /* The placement goes with the admission, in one status write (Kueue keeps
     * its topology assignment there too): whoever sees the workload admitted (the
     * Job controller, the binder, a rebuild after a restart) finds where its pods
     * go. */
    json_t *pl = json_array();
    for (uint32_t k = 0; k < w->npods; k++) {
        const struct adm_pod_place *pp = &w->pods[k];
        json_t *g = json_array();
        for (uint8_t x = 0; x < pp->p.ngpu; x++)
            json_array_append_new(g, json_integer(pp->p.gpu[x]));
        json_t *e = json_pack("{s:s,s:o}", "node", adm_node_name(s->a, pp->node), "gpus", g);
        if (pp->podset)
            json_object_set_new(e, "podSet", json_integer(pp->podset));
        json_array_append_new(pl, e);
    }
    char spath[600];
    ctrl_obj_path(CK_WORKLOAD, o->ns, o->name, "status", spath, sizeof spath);

    json_t *psas = json_array();
    for (uint32_t i = 0; i < w->nps; i++) {
        json_t *fl = json_object(), *use = json_object();
        for (uint32_t r = 0; r < ADM_MAX_RES; r++) {
            if (w->psa[i].flavor[r] == 0xff)
                continue;
            const char *res = adm_resource_name(s->a, r);
            json_object_set_new(fl, res, json_string(adm_flavor_name(s->a, w->psa[i].flavor[r])));
            char q[48];
            fmt_qty(res, w->ps[i].req[r] * (int64_t)w->psa[i].count, q, sizeof q);
            json_object_set_new(use, res, json_string(q));
        }
        json_array_append_new(psas, json_pack("{s:s,s:o,s:o,s:i}", "name", w->ps[i].name,
                                              "flavors", fl, "resourceUsage", use, "count",
                                              (json_int_t)w->psa[i].count));
    }
    json_t *conds = conditions_copy(o->j);
    char msg[400];
    snprintf(msg, sizeof msg, "Quota reserved in ClusterQueue %s", adm_cq_name(s->a, w->cq));
    ctrl_set_condition(conds, ctrl_make_condition(c, "QuotaReserved", true, "QuotaReserved", msg));
    ctrl_set_condition(conds, ctrl_make_condition(c, "Admitted", true, "Admitted",
                                                  "The workload is admitted"));
    json_t *ev = ctrl_condition(o->j, "Evicted");
    if (ev && ctrl_condition_true(o->j, "Evicted"))
        ctrl_set_condition(conds, ctrl_make_condition(c, "Evicted", false, "Admitted",
                                                      "The workload is admitted again"));
    json_t *st = json_pack("{s:{s:s,s:o,s:o},s:o}", "admission", "clusterQueue",
                           adm_cq_name(s->a, w->cq), "podSetAssignments", psas, "placement", pl,
                           "conditions", conds);
    ctrl_submit(c, dd, "PATCH", spath, "application/merge-patch+json",
                json_pack("{s:o}", "status", st));
    ctrl_event(c, "Workload", "kueue.x-k8s.io/v1beta2", o->j, "Normal", "QuotaReserved", msg);
    s->ents[id].store_admitted = true;
}

static const char *evict_reason(int64_t why, const char **msg)
{
    switch (why) {
    case ADM_EV_IN_CLUSTER_QUEUE:
        *msg = "Preempted to accommodate a workload in the same ClusterQueue";
        return "Preempted";
    case ADM_EV_IN_COHORT_RECLAIM:
        *msg = "Preempted to reclaim quota lent to its ClusterQueue's cohort";
        return "Preempted";
    case ADM_EV_RECLAIM_WHILE_BORROW:
        *msg = "Preempted by a workload borrowing in the cohort";
        return "Preempted";
    case ADM_EV_FAIR_SHARING:
        *msg = "Preempted to restore fair sharing in the cohort";
        return "Preempted";
    case ADM_EV_STOPPED:
        *msg = "The ClusterQueue or LocalQueue is stopped (HoldAndDrain)";
        return "InactiveWorkload";
    case ADM_EV_DEACTIVATED:
        *msg = "exceeded the maximum execution time";
        return "MaximumExecutionTimeExceeded";
    }
    *msg = "Evicted";
    return "Evicted";
}

/* Evicted: the admission is cleared, the condition says why. */
static void write_eviction(struct ctrl *c, struct cobj *o, const char *key, const char *reason,
                           const char *message, bool deactivate, int64_t backoff_ns)
{
    char dd[400];
    snprintf(dd, sizeof dd, "evict/%s", key);
    if (ctrl_busy(c, dd))
        return;
    json_t *conds = conditions_copy(o->j);
    ctrl_set_condition(conds, ctrl_make_condition(c, "Evicted", true, reason, message));
    ctrl_set_condition(conds, ctrl_make_condition(c, "QuotaReserved", false, "Pending", message));
    ctrl_set_condition(conds, ctrl_make_condition(c, "Admitted", false, "NoReservation",
                                                  "The workload has no reservation"));
    json_t *st = json_pack("{s:n,s:o}", "admission", "conditions", conds);
    if (backoff_ns > 0) {
        json_int_t count = json_integer_value(ctrl_path(o->j, "status.requeueState.count")) + 1;
        int64_t delay = backoff_ns;
        for (json_int_t k = 1; k < count && delay < 600 * 1000000000LL; k++)
            delay *= 2;
        char ts[40];
        mtime_format_rfc3339(c->now + delay, ts, sizeof ts);
        json_object_set_new(st, "requeueState",
                            json_pack("{s:I,s:s}", "count", count, "requeueAt", ts));
    }
    if (deactivate) {
        char path[600];
        ctrl_obj_path(CK_WORKLOAD, o->ns, o->name, NULL, path, sizeof path);
        char dd2[400];
        snprintf(dd2, sizeof dd2, "deact/%s", key);
        ctrl_submit(c, dd2, "PATCH", path, "application/merge-patch+json",
                    json_pack("{s:{s:b}}", "spec", "active", 0));
    }
    patch_status(c, o, dd, st);
    ctrl_event(c, "Workload", "kueue.x-k8s.io/v1beta2", o->j, "Normal", "Evicted", message);
}

void ctrl_sched_evict(struct ctrl *c, const char *wl_key, const char *reason,
                      const char *message)
{
    char ns[256];
    const char *slash = strchr(wl_key, '/');
    if (!slash || (size_t)(slash - wl_key) >= sizeof ns)
        return;
    memcpy(ns, wl_key, (size_t)(slash - wl_key));
    ns[slash - wl_key] = '\0';
    struct cobj *o = ctrl_get(c, CK_WORKLOAD, ns, slash + 1);
    if (!o || !wl_admitted(o))
        return;
    write_eviction(c, o, wl_key, reason, message, false, c->o.requeue_base_ns);
}

/* Writes the pending reason; false when the store says it already. */
static bool write_pending(struct ctrl *c, struct cobj *o, const char *key, const char *reason)
{
    json_t *qr = ctrl_condition(o->j, "QuotaReserved");
    const char *old = qr ? json_string_value(json_object_get(qr, "message")) : NULL;
    if (old && strcmp(old, reason) == 0)
        return false;
    char dd[400];
    snprintf(dd, sizeof dd, "pend/%s", key);
    if (ctrl_busy(c, dd))
        return true;
    json_t *conds = conditions_copy(o->j);
    ctrl_set_condition(conds, ctrl_make_condition(c, "QuotaReserved", false, "Pending", reason));
    patch_status(c, o, dd, json_pack("{s:o}", "conditions", conds));
    ctrl_event(c, "Workload", "kueue.x-k8s.io/v1beta2", o->j, "Normal", "Pending", reason);
    return true;
}

static struct cobj *wl_obj(struct ctrl *c, const char *key)
{
    char ns[256];
    const char *slash = strchr(key, '/');
    if (!slash || (size_t)(slash - key) >= sizeof ns)
        return NULL;
    memcpy(ns, key, (size_t)(slash - key));
    ns[slash - key] = '\0';
    return ctrl_get(c, CK_WORKLOAD, ns, slash + 1);
}

/* ---- binding pods ---- */

const char *ctrl_node_ip(struct ctrl *c, const char *node)
{
    struct cobj *n = ctrl_get(c, CK_NODE, NULL, node);
    return n && n->node->ip ? n->node->ip : node;
}

void ctrl_placement_gpus(json_t *entry, char *buf, size_t size)
{
    size_t o = 0, k;
    json_t *g;
    buf[0] = '\0';
    json_array_foreach(json_object_get(entry, "gpus"), k, g)
    {
        o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%lld", o ? "," : "",
                              (long long)json_integer_value(g));
    }
}

static void gpu_key(char *buf, size_t size, const char *node, long long g)
{
    snprintf(buf, size, "%s/%lld", node, g);
}

const struct kset *ctrl_held_gpus(struct ctrl *c)
{
    if (c->held_valid)
        return &c->held_gpus;
    kset_clear(&c->held_gpus);
    size_t it = 0;
    const char *pk;
    while ((pk = kset_next(&c->terminating, &it))) {
        struct cobj *p = ctrl_by_key(c, CK_POD, pk);
        const char *node = p ? p->pod.node : NULL;
        const char *gs = p ? p->pod.gpus : NULL;
        if (!node || !gs)
            continue;
        for (const char *q = gs; *q;) {
            char *end;
            long long g = strtoll(q, &end, 10);
            if (end == q)
                break;
            char k[300];
            gpu_key(k, sizeof k, node, g);
            kset_add(&c->held_gpus, k);
            q = *end == ',' ? end + 1 : end;
        }
    }
    c->held_valid = true;
    return &c->held_gpus;
}

/* Whether a GPU of one placement entry ({"node", "gpus"}) is in held. */
static bool entry_held(const struct kset *held, json_t *entry)
{
    if (!held->m.len)
        return false;
    const char *node = json_string_value(json_object_get(entry, "node"));
    size_t k;
    json_t *g;
    json_array_foreach(json_object_get(entry, "gpus"), k, g)
    {
        char key[300];
        gpu_key(key, sizeof key, node ? node : "", (long long)json_integer_value(g));
        if (kset_has(held, key))
            return true;
    }
    return false;
}

bool ctrl_gpus_held(struct ctrl *c, json_t *placement)
{
    const struct kset *held = ctrl_held_gpus(c);
    size_t i;
    json_t *e;
    json_array_foreach(placement, i, e)
    {
        if (entry_held(held, e))
            return true;
    }
    return false;
}

/* The target of a pod waiting to be bound: its workload's placement entry for
 * its rank. Returns the parsed placement (the caller decrefs) or NULL. */
static json_t *pod_target(struct ctrl *c, struct cobj *p, json_t **me)
{
    const struct cpod *cp = &p->pod;
    const char *sn = cp->scheduler, *wln = cp->workload;
    if (cp->node || !wln || cp->deleting || (sn && strcmp(sn, c->o.scheduler_name) != 0))
        return NULL;
    struct cobj *w = ctrl_get(c, CK_WORKLOAD, p->ns, wln);
    if (!w || !wl_admitted(w))
        return NULL;
    const char *rs = cp->rank;
    long rank = rs ? strtol(rs, NULL, 10) : 0;
    json_t *pl = ctrl_placement(w->j);
    *me = rank >= 0 ? json_array_get(pl, (size_t)rank) : NULL;
    if (!json_string_value(json_object_get(*me, "node"))) {
        json_decref(pl);
        return NULL;
    }
    return pl;
}


/* Binds the pods of admitted workloads to their places. A GPU still held by a
 * pod that is terminating (an evicted gang in its grace period) is not given to
 * a new pod until that pod is gone, and a gang is bound only when none of its
 * pods has to wait: its pods start together, on GPUs nothing else runs on. */
static void bind_pods(struct ctrl *c)
{
    const struct kset *held = ctrl_held_gpus(c);
    struct kset blocked;
    kset_init(&blocked);
    size_t it = 0;
    struct cobj *p;
    const char *pk;
    /* Workloads with a pod that would land on a held GPU wait, whole. */
    while (held->m.len && (pk = kset_next(&c->unbound, &it))) {
        if (!(p = ctrl_by_key(c, CK_POD, pk)))
            continue;
        json_t *me;
        json_t *pl = pod_target(c, p, &me);
        if (!pl)
            continue;
        if (entry_held(held, me)) {
            char wk[600];
            snprintf(wk, sizeof wk, "%s/%s", p->ns, p->pod.workload);
            kset_add(&blocked, wk);
        }
        json_decref(pl);
    }
    it = 0;
    while ((pk = kset_next(&c->unbound, &it))) {
        char dd[400];
        snprintf(dd, sizeof dd, "bind/%s", pk);
        if (ctrl_busy(c, dd) || !(p = ctrl_by_key(c, CK_POD, pk)))
            continue;
        json_t *me;
        json_t *pl = pod_target(c, p, &me);
        if (!pl)
            continue;
        const char *wln = p->pod.workload;
        char wk[600];
        snprintf(wk, sizeof wk, "%s/%s", p->ns, wln);
        if (kset_has(&blocked, wk)) {
            json_decref(pl);
            continue;
        }
        const char *target = json_string_value(json_object_get(me, "node"));
        char gpus[128];
        ctrl_placement_gpus(me, gpus, sizeof gpus);
        const char *n0 = json_string_value(json_object_get(json_array_get(pl, 0), "node"));
        char path[600];
        ctrl_obj_path(CK_POD, p->ns, p->name, "binding", path, sizeof path);
        json_t *b = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:{s:s,s:s,s:s}}", "apiVersion", "v1",
                              "kind", "Binding", "metadata", "name", p->name, "annotations",
                              "muster.dev/gpus", gpus, "muster.dev/master-addr",
                              ctrl_node_ip(c, n0 ? n0 : target), "target", "apiVersion", "v1", "kind",
                              "Node", "name", target);
        json_decref(pl);
        ctrl_submit(c, dd, "POST", path, NULL, b);
    }
    kset_release(&blocked);
}

/* ---- queue status ---- */

/* Adds v to acc[flavor][res]. */
static void acc_add(json_t *acc, const char *flavor, const char *res, int64_t v)
{
    json_t *f = json_object_get(acc, flavor);
    if (!f) {
        f = json_object();
        json_object_set_new(acc, flavor, f);
    }
    json_t *x = json_object_get(f, res);
    json_object_set_new(f, res, json_integer(json_integer_value(x) + v));
}

/* Kueue's flavorsReservation / flavorsUsage list: every flavor and resource the
 * queue covers (from its groups when known), with its total and, for a
 * ClusterQueue, what it borrows beyond its nominal quota. */
static json_t *flavor_list(json_t *acc, const struct model_obj *cq)
{
    json_t *out = json_array();
    if (cq) {
        const struct model_cluster_queue *q = &cq->u.cluster_queue;
        for (size_t g = 0; g < q->n_groups; g++)
            for (size_t f = 0; f < q->groups[g].n_flavors; f++) {
                const struct model_flavor_quotas *fq = &q->groups[g].flavors[f];
                json_t *res = json_array();
                for (size_t r = 0; r < fq->n_resources; r++) {
                    const char *name = fq->resources[r].resource;
                    int64_t total = json_integer_value(
                        json_object_get(json_object_get(acc, fq->name), name));
                    int64_t nominal = quantity_canonical(name, fq->resources[r].nominal);
                    char t[48], b[48];
                    fmt_qty(name, total, t, sizeof t);
                    fmt_qty(name, total > nominal ? total - nominal : 0, b, sizeof b);
                    json_array_append_new(res, json_pack("{s:s,s:s,s:s}", "name", name, "total",
                                                         t, "borrowed", b));
                }
                json_array_append_new(out, json_pack("{s:s,s:o}", "name", fq->name,
                                                     "resources", res));
            }
        return out;
    }
    const char *fname;
    json_t *fv;
    json_object_foreach(acc, fname, fv)
    {
        json_t *res = json_array();
        const char *rname;
        json_t *rv;
        json_object_foreach(fv, rname, rv)
        {
            char t[48];
            fmt_qty(rname, json_integer_value(rv), t, sizeof t);
            json_array_append_new(res, json_pack("{s:s,s:s}", "name", rname, "total", t));
        }
        json_array_append_new(out, json_pack("{s:s,s:o}", "name", fname, "resources", res));
    }
    return out;
}

/* Writes st as o's status when it differs from what is stored (conditions are
 * kept as stored once present). */
/* Writes a queue's status when it changed; false when that write must wait
 * (the queue's previous status write is not in and seen yet). */
static bool put_queue_status(struct ctrl *c, enum ck k, struct cobj *o, json_t *st)
{
    json_t *cur = json_object_get(o->j, "status");
    json_t *conds = json_object_get(cur, "conditions");
    if (json_array_size(conds))
        json_object_set(st, "conditions", conds);
    else
        json_object_set_new(st, "conditions",
                            json_pack("[o]", ctrl_make_condition(c, "Active", true, "Ready",
                                                                 "Can admit new workloads")));
    if (cur && json_equal(cur, st)) {
        json_decref(st);
        return true;
    }
    char dd[400], path[600];
    snprintf(dd, sizeof dd, "qst/%s", o->key);
    if (ctrl_obj_path(k, o->ns, o->name, "status", path, sizeof path)) {
        json_decref(st);
        return true;
    }
    return ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json",
                       json_pack("{s:o}", "status", st));
}

/* ClusterQueue and LocalQueue status as Kueue reports it: pending, reserving and
 * admitted workloads, and what the admitted ones hold per flavor and resource.
 * False when a queue's write had to wait for its previous one. */
static bool write_queue_status(struct ctrl *c)
{
    bool all = true;
    struct ctrl_sched *s = c->s;
    uint32_t ncq = adm_ncqs(s->a);
    int64_t *pend = calloc(ncq + 1, sizeof *pend), *adm = calloc(ncq + 1, sizeof *adm);
    json_t **acc = calloc(ncq + 1, sizeof *acc);
    json_t *lq = json_object(); /* "ns/name" -> {pending, admitted, acc} */
    for (uint32_t q = 0; q < ncq; q++)
        acc[q] = json_object();
    for (size_t i = 0; i < s->n; i++) {
        const struct adm_wl *w = adm_workload(s->a, (uint32_t)i);
        struct cobj *o = wl_obj(c, s->ents[i].key);
        if (w->cq == ADM_NONE || !o || !o->m ||
            (w->state != ADM_PENDING && w->state != ADM_ADMITTED))
            continue;
        char lk[600];
        snprintf(lk, sizeof lk, "%s/%s", o->ns ? o->ns : "",
                 o->m->u.workload.queue_name ? o->m->u.workload.queue_name : "");
        json_t *l = json_object_get(lq, lk);
        if (!l) {
            l = json_pack("{s:i,s:i,s:o}", "pending", 0, "admitted", 0, "acc", json_object());
            json_object_set_new(lq, lk, l);
        }
        const char *field = w->state == ADM_PENDING ? "pending" : "admitted";
        json_object_set_new(l, field,
                            json_integer(json_integer_value(json_object_get(l, field)) + 1));
        if (w->state == ADM_PENDING) {
            pend[w->cq]++;
            continue;
        }
        adm[w->cq]++;
        for (uint32_t p = 0; p < w->nps; p++)
            for (uint32_t r = 0; r < ADM_MAX_RES; r++) {
                if (w->psa[p].flavor[r] == 0xff)
                    continue;
                const char *fl = adm_flavor_name(s->a, w->psa[p].flavor[r]);
                const char *res = adm_resource_name(s->a, r);
                int64_t v = w->ps[p].req[r] * (int64_t)w->psa[p].count;
                acc_add(acc[w->cq], fl, res, v);
                acc_add(json_object_get(l, "acc"), fl, res, v);
            }
    }
    for (uint32_t q = 0; q < ncq; q++) {
        struct cobj *o = ctrl_get(c, CK_CQ, NULL, adm_cq_name(s->a, q));
        if (!o)
            continue;
        json_t *st = json_pack("{s:I,s:I,s:I,s:o,s:o,s:{s:I}}", "pendingWorkloads",
                               (json_int_t)pend[q], "reservingWorkloads", (json_int_t)adm[q],
                               "admittedWorkloads", (json_int_t)adm[q], "flavorsReservation",
                               flavor_list(acc[q], o->m), "flavorsUsage",
                               flavor_list(acc[q], o->m), "fairSharing", "weightedShare",
                               (json_int_t)adm_cq_weighted_share(s->a, q));
        all = put_queue_status(c, CK_CQ, o, st) && all;
    }
    size_t it = 0;
    struct cobj *o;
    while ((o = ctrl_next(c, CK_LQ, &it))) {
        char lk[600];
        snprintf(lk, sizeof lk, "%s/%s", o->ns ? o->ns : "", o->name ? o->name : "");
        json_t *l = json_object_get(lq, lk);
        json_t *empty = json_object();
        json_t *a = l ? json_object_get(l, "acc") : empty;
        json_int_t np = json_integer_value(json_object_get(l, "pending"));
        json_int_t na = json_integer_value(json_object_get(l, "admitted"));
        json_t *st = json_pack("{s:I,s:I,s:I,s:o,s:o}", "pendingWorkloads", np,
                               "reservingWorkloads", na, "admittedWorkloads", na,
                               "flavorsReservation", flavor_list(a, NULL), "flavorsUsage",
                               flavor_list(a, NULL));
        json_decref(empty);
        all = put_queue_status(c, CK_LQ, o, st) && all;
    }
    for (uint32_t q = 0; q < ncq; q++)
        json_decref(acc[q]);
    json_decref(lq);
    free(acc);
    free(pend);
    free(adm);
    return all;
}

/* Recounts the queues' status after a pass that changed something (changed),
 * at most every QUEUE_STATUS_GAP_NS: a change within the gap is written when it
 * ends (the loop is woken for it). */
static void queue_status(struct ctrl *c, bool changed)
{
    struct ctrl_sched *s = c->s;
    s->queues_due = s->queues_due || changed;
    if (!s->queues_due)
        return;
    if (c->now - s->queues_at >= QUEUE_STATUS_GAP_NS) {
        s->queues_at = c->now;
        /* a queue whose last write was still on its way is recounted at the
         * end of the next gap (nothing else may come to wake the loop for it) */
        s->queues_due = !write_queue_status(c);
        if (s->queues_due)
            ctrl_wake(c, c->now + QUEUE_STATUS_GAP_NS);
    } else {
        ctrl_wake(c, s->queues_at + QUEUE_STATUS_GAP_NS);
    }
}

/* ---- the pass ---- */

static uint64_t reason_hash(const char *r)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *r; r++)
        h = (h ^ (unsigned char)*r) * 1099511628211ull;
    return h | 1; /* never 0, which stands for no reason */
}

/* Looks at one workload for the pass's scan: o (key, its ns/name, may be
 * NULL), or, when o is NULL, the deleted one at key. A new one joins the engine, a finished or deleted one
 * leaves it, one whose admission the store and the engine disagree about
 * (which the engine did not cause) means rebuilding; one with a decision on
 * its way to the store is looked at again in the next pass. */
static void look_at(struct ctrl *c, const struct kueue_lookup *l, struct cobj *o, const char *key)
{
    struct ctrl_sched *s = c->s;
    char kb[300];
    if (!key) {
        snprintf(kb, sizeof kb, "%s/%s", o->ns ? o->ns : "", o->name ? o->name : "");
        key = kb;
    }
    union map_val *idv = map_get(&s->ids, key, strlen(key));
    if (!o) {
        if (idv) {
            uint32_t id = (uint32_t)(idv->u64 - 1);
            if (adm_workload(s->a, id)->state != ADM_FINISHED)
                adm_finish(s->a, id, c->now);
            /* a Workload made again under this name is a new one */
            map_del(&s->ids, key, strlen(key));
        }
        return;
    }
    if (!idv) {
        if (wl_admitted(o))
            s->rebuild = true; /* admitted by someone else */
        else
            add_workload(c, l, o);
        return;
    }
    uint32_t id = (uint32_t)(idv->u64 - 1);
    const struct adm_wl *w = adm_workload(s->a, id);
    struct wlent *e = &s->ents[id];
    e->stale = true;
    /* Another object under the same name, a spec changed (active, queue,
     * priority, pod sets), or one that no longer decodes: the engine's copy is
     * out of date. */
    if (!o->m || strcmp(e->uid, wl_uid(o)) != 0 || e->generation != ctrl_generation(o)) {
        s->rebuild = true;
        return;
    }
    if (wl_finished(o)) {
        if (w->state != ADM_FINISHED)
            adm_finish(s->a, id, c->now);
        return;
    }
    char dd[400], de[400];
    snprintf(dd, sizeof dd, "adm/%s", key);
    snprintf(de, sizeof de, "evict/%s", key);
    if (ctrl_busy(c, dd) || ctrl_busy(c, de)) {
        kset_add(&s->recheck, key);
        return;
    }
    if (wl_admitted(o) != (w->state == ADM_ADMITTED) ||
        (!o->m->u.workload.active && w->state == ADM_PENDING))
        s->rebuild = true;
}

void ctrl_sched_pass(struct ctrl *c)
{
    struct ctrl_sched *s = c->s;
    if (s->requeue_wake && c->now >= s->requeue_wake) {
        s->requeue_wake = 0;
        c->wl_dirty = true;
        c->wl_rescan = true; /* those left out until their requeueAt */
    }
    ctrl_wake(c, s->requeue_wake);
    bool changed = c->world_dirty || c->wl_dirty || s->rebuild || !s->a || s->recheck.m.len ||
                   (c->wake_at == 0 && adm_next_deadline(s->a) <= c->now);
    if (s->a && adm_next_deadline(s->a) <= c->now)
        changed = true;
    if (!changed) {
        queue_status(c, false);
        if (c->pods_dirty) {
            int64_t tb = mtime_now_ns();
            bind_pods(c);
            c->stats.bind_ns += mtime_now_ns() - tb;
        }
        return;
    }
    int64_t t0 = mtime_now_ns();
    struct kueue_lookup l = lookup(c);
    /* While nodes or queues keep changing (a cluster registering), rebuild once
     * they have been quiet for 100 ms, or at least once a second. */
    bool due = c->now - c->world_changed_at >= REBUILD_QUIET_NS ||
               c->now - s->last_rebuild >= REBUILD_EVERY_NS;
    if (c->world_dirty && !due && s->a && !s->rebuild) {
        int64_t at = c->world_changed_at + REBUILD_QUIET_NS;
        if (s->last_rebuild + REBUILD_EVERY_NS < at)
            at = s->last_rebuild + REBUILD_EVERY_NS;
        ctrl_wake(c, at);
    }
    /* Never rebuild from the store while a decision is on its way there. */
    bool pending = s->a && ctrl_decisions_pending(c);
    if (pending && ((c->world_dirty && due) || s->rebuild)) {
        ctrl_wake(c, c->now + 2000000);
        due = false;
    }
    if ((c->world_dirty && due) || (s->rebuild && !pending) || !s->a) {
        if (!rebuild(c)) {
            c->world_dirty = false;
            return;
        }
        s->rebuild = false;
        c->world_dirty = false;
        s->last_rebuild = c->now;
    } else {
        /* Workloads: new ones join, finished and deleted ones leave; anything
         * else the engine did not cause means rebuilding. Only those that
         * changed since the last look (and those put off then) are looked at,
         * unless a reload or a requeue time asks for all. */
        if (c->wl_rescan) {
            c->wl_rescan = false;
            size_t n;
            struct cobj **v = sorted(c, CK_WORKLOAD, &n, cmp_created);
            for (size_t i = 0; i < n; i++)
                look_at(c, &l, v[i], NULL);
            free(v);
            for (size_t i = 0; i < s->n && !s->rebuild; i++)
                if (!wl_obj(c, s->ents[i].key))
                    look_at(c, &l, NULL, s->ents[i].key);
        } else {
            /* the put-off ones join the changed ones */
            kset_move(&c->changed_wls, &s->recheck);
            size_t n = 0, cap = 0;
            struct cobj **fresh = NULL;
            size_t it = 0;
            const char *k;
            while ((k = kset_next(&c->changed_wls, &it)) && !s->rebuild) {
                struct cobj *o = wl_obj(c, k);
                if (o && !map_get(&s->ids, k, strlen(k)) && !wl_admitted(o)) {
                    /* new: they join in the order they were created */
                    if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        fresh = xreallocarray(fresh, cap, sizeof *fresh);
                    }
                    fresh[n++] = o;
                    continue;
                }
                look_at(c, &l, o, k);
            }
            if (n)
                qsort(fresh, n, sizeof *fresh, cmp_created);
            for (size_t i = 0; i < n && !s->rebuild; i++)
                look_at(c, &l, fresh[i], NULL);
            free(fresh);
        }
        kset_clear(&c->changed_wls);
        /* those put off: soon again, whatever else happens */
        if (s->recheck.m.len)
            ctrl_wake(c, c->now + PASS_GAP_NS);
        if (s->rebuild && ctrl_decisions_pending(c)) {
            /* Later, once the decisions in flight are in the store. */
            ctrl_wake(c, c->now + 2000000);
        } else if (s->rebuild) {
            s->rebuild = false;
            if (!rebuild(c))
                return;
            c->world_dirty = false;
            s->last_rebuild = c->now;
        }
    }
    c->wl_dirty = false;
    if (c->world_dirty) {
        /* Nodes or queues changed and the world is not rebuilt yet: decide
         * nothing on a world that may place pods on nodes that are gone or miss
         * nodes that came (the wake-up for the rebuild is set above). */
        bind_pods(c);
        return;
    }
    int64_t t1 = mtime_now_ns();
    c->stats.scan_ns += t1 - t0;
    adm_settle(s->a, c->now);
    int64_t t2 = mtime_now_ns();
    c->stats.settle_ns += t2 - t1;
    /* Write back what changed. */
    for (size_t i = 0; i < s->n; i++) {
        struct wlent *e = &s->ents[i];
        const struct adm_wl *w = adm_workload(s->a, (uint32_t)i);
        uint64_t rh = w->state == ADM_PENDING ? reason_hash(w->reason) : 0;
        if (!e->stale && e->seen_state == (int)w->state && e->seen_reason == rh)
            continue;
        struct cobj *o = wl_obj(c, e->key);
        e->seen_state = (int)w->state;
        e->seen_reason = rh;
        e->stale = false;
        if (!o)
            continue; /* deleted: it left the engine in the scan */
        bool st = wl_admitted(o);
        if (w->state == ADM_ADMITTED && !st) {
            write_admission(c, o, (uint32_t)i);
            e->stale = true;
        } else if (w->state != ADM_ADMITTED && w->state != ADM_FINISHED && st) {
            const char *msg;
            const char *reason = evict_reason(e->evict_why, &msg);
            write_eviction(c, o, e->key, reason, msg, e->evict_why == ADM_EV_DEACTIVATED, 0);
            e->stale = true;
        } else if (w->state == ADM_PENDING && !st && w->reason[0]) {
            e->stale = write_pending(c, o, e->key, w->reason);
        }
    }
    int64_t t3 = mtime_now_ns();
    c->stats.write_ns += t3 - t2;
    queue_status(c, true);
    int64_t t4 = mtime_now_ns();
    c->stats.queues_ns += t4 - t3;
    int64_t dl = adm_next_deadline(s->a);
    if (dl != ADM_NEVER)
        ctrl_wake(c, dl);
    bind_pods(c);
    c->stats.bind_ns += mtime_now_ns() - t4;
}
