/*
 * ctrl/nodes: node lifecycle. A node whose Lease (kube-node-lease/<node>) is not
 * renewed within leaseDurationSeconds becomes NotReady with the taint
 * node.kubernetes.io/unreachable:NoExecute; its pods fail (reason NodeLost) and
 * every workload with a pod there is evicted as a whole, to be requeued with
 * backoff. A renewed Lease makes the node Ready again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "ctrl/ctrl_int.h"

#define UNREACHABLE "node.kubernetes.io/unreachable"
#define BAD_NODE    "muster.dev/bad-node"
#define LEASE_FULL_SCAN_NS (10 * 1000000000LL) /* every Lease looked at this often */
#define BAD_WINDOW_NS (600 * 1000000000LL) /* failures counted over 10 minutes */
#define BAD_FAILURES 3                      /* from at least 2 workloads */

/* Recent pod failures per node, for the bad-node rule. */
struct nodefail {
    char *node;
    int64_t at[BAD_FAILURES];
    char wl[BAD_FAILURES][128];
    int n; /* ring position */
};

struct ctrl_nodes {
    struct map counted;  /* pod uid -> 1: failures already counted */
    struct map fails;    /* node -> struct nodefail * */
    char **keys;         /* owned keys of counted */
    size_t nkeys, cap;
    int64_t last_scan;   /* of every Lease */
    int64_t next_expiry; /* the earliest Lease expiry seen since; 0: none */
    struct kset retry;   /* nodes whose Ready write had to wait for their previous one */
};

void ctrl_nodes_free(struct ctrl_nodes *n)
{
    if (!n)
        return;
    size_t it = 0;
    struct map_entry *e;
    while ((e = map_next(&n->fails, &it))) {
        struct nodefail *f = e->val.ptr;
        free(f->node);
        free(f);
    }
    map_release(&n->fails);
    map_release(&n->counted);
    kset_release(&n->retry);
    for (size_t i = 0; i < n->nkeys; i++)
        free(n->keys[i]);
    free(n->keys);
    free(n);
}

/* A Node's identity for an Event about it. */
static json_t *node_ref(const struct cobj *n)
{
    return json_pack("{s:{s:s,s:s}}", "metadata", "name", n->name, "uid", n->node->uid);
}

static bool set_node(struct ctrl *c, struct cobj *n, bool ready)
{
    char dd[400], path[600];
    json_t *cur = ctrl_fetch(c, n->key);
    if (!cur)
        return false;
    /* The taint (spec). */
    json_t *taints = json_array(), *t;
    size_t i;
    json_array_foreach(ctrl_path(cur, "spec.taints"), i, t)
    {
        const char *k = json_string_value(json_object_get(t, "key"));
        if (!k || strcmp(k, UNREACHABLE) != 0)
            json_array_append(taints, t);
    }
    if (!ready) {
        char ts[40];
        ctrl_time(c, ts, sizeof ts);
        json_array_append_new(taints, json_pack("{s:s,s:s,s:s}", "key", UNREACHABLE, "effect",
                                                "NoExecute", "timeAdded", ts));
    }
    snprintf(dd, sizeof dd, "ntaint/%s", n->key);
    snprintf(path, sizeof path, "/api/v1/nodes/%s", n->name);
    ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json",
                json_pack("{s:{s:o}}", "spec", "taints", taints));
    /* The Ready condition (status). */
    json_t *conds = json_deep_copy(ctrl_path(cur, "status.conditions"));
    json_decref(cur);
    if (!json_is_array(conds)) {
        json_decref(conds);
        conds = json_array();
    }
    json_t *cond = ready ? ctrl_make_condition(c, "Ready", true, "LeaseRenewed",
                                               "The node agent renewed its Lease")
                         : ctrl_make_condition(c, "Ready", false, "NodeStatusUnknown",
                                               "The node agent stopped renewing its Lease");
    char ts[40];
    ctrl_time(c, ts, sizeof ts);
    json_object_set_new(cond, "lastHeartbeatTime", json_string(ts));
    ctrl_set_condition(conds, cond);
    snprintf(dd, sizeof dd, "nready/%s", n->key);
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", n->name);
    if (!ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json",
                     json_pack("{s:{s:o}}", "status", "conditions", conds)))
        return false;
    json_t *ref = node_ref(n);
    ctrl_event(c, "Node", "v1", ref, ready ? "Normal" : "Warning",
               ready ? "NodeReady" : "NodeNotReady",
               ready ? "Node is Ready again: its agent renewed the Lease"
                     : "Node is NotReady: its agent stopped renewing the Lease");
    json_decref(ref);
    return true;
}

/* Whether rank `rank` of workload wl (in ns) is placed on node by its current
 * admission: only then does losing the node disrupt the workload (a pod left
 * from an earlier admission does not). */
static bool placed_on(struct ctrl *c, const char *ns, const char *wl, const char *rank,
                      const char *node)
{
    struct cobj *w = ctrl_get(c, CK_WORKLOAD, ns, wl);
    json_t *pl = w && rank ? ctrl_placement(w->j) : NULL;
    if (!pl)
        return false;
    const char *n = json_string_value(
        json_object_get(json_array_get(pl, (size_t)strtoul(rank, NULL, 10)), "node"));
    bool on = n && strcmp(n, node) == 0;
    json_decref(pl);
    return on;
}

/* The node is lost: fail its pods, evict the workloads placed there, and remove
 * the pods being deleted (no agent will finish their deletion), as Kubernetes'
 * pod garbage collector does for pods on unreachable nodes. */
static void lose_pods(struct ctrl *c, const char *node)
{
    size_t it = 0;
    struct cobj *p;
    while ((p = ctrl_next(c, CK_POD, &it))) {
        const char *nn = p->pod.node;
        if (!nn || strcmp(nn, node) != 0)
            continue;
        char dd[400], path[600], msg[300];
        if (p->pod.deleting) {
            snprintf(dd, sizeof dd, "forcedel/%s", p->key);
            ctrl_obj_path(CK_POD, p->ns, p->name, NULL, path, sizeof path);
            ctrl_submit(c, dd, "DELETE", path, NULL,
                        json_pack("{s:s,s:s,s:i}", "apiVersion", "v1", "kind", "DeleteOptions",
                                  "gracePeriodSeconds", 0));
            continue;
        }
        if (cpod_terminal(&p->pod))
            continue;
        snprintf(dd, sizeof dd, "plost/%s", p->key);
        ctrl_obj_path(CK_POD, p->ns, p->name, "status", path, sizeof path);
        snprintf(msg, sizeof msg, "Node %s which was running pod %s is unresponsive", node,
                 p->name);
        ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json",
                    json_pack("{s:{s:s,s:s,s:s}}", "status", "phase", "Failed", "reason",
                              "NodeLost", "message", msg));
        const char *wl = p->pod.workload;
        if (wl && p->ns && placed_on(c, p->ns, wl, p->pod.rank, node)) {
            char key[600];
            snprintf(key, sizeof key, "%s/%s", p->ns, wl);
            char emsg[400];
            snprintf(emsg, sizeof emsg, "Node %s was lost with pod %s of this workload", node,
                     p->name);
            ctrl_sched_evict(c, key, "NodeFailure", emsg);
        }
    }
}

/* A pod failed on its node (its command, not a lost node or an eviction): a node
 * where pods of at least two workloads failed BAD_FAILURES times within
 * BAD_WINDOW_NS is tainted muster.dev/bad-node:NoSchedule and avoided until
 * someone removes the taint. */
static void count_failures(struct ctrl *c)
{
    struct ctrl_nodes *st = c->nodes;
    size_t it = 0;
    struct cobj *p;
    const char *pk;
    while ((pk = kset_next(&c->changed_pods, &it))) {
        if (!(p = ctrl_by_key(c, CK_POD, pk)))
            continue;
        const char *node = p->pod.node, *uid = p->pod.uid;
        if (p->pod.phase != CP_FAILED || !node || !uid || cpod_disrupted(&p->pod) ||
            map_get(&st->counted, uid, strlen(uid)))
            continue;
        if (st->nkeys == st->cap) {
            st->cap = st->cap ? 2 * st->cap : 64;
            st->keys = xreallocarray(st->keys, st->cap, sizeof *st->keys);
        }
        char *k = xstrdup(uid);
        st->keys[st->nkeys++] = k;
        bool found;
        map_put(&st->counted, k, strlen(k), &found)->u64 = 1;
        union map_val *v = map_get(&st->fails, node, strlen(node));
        if (!v) {
            struct nodefail *nf = xcalloc(1, sizeof *nf);
            nf->node = xstrdup(node); /* the map keeps this pointer as its key */
            v = map_put(&st->fails, nf->node, strlen(nf->node), &found);
            v->ptr = nf;
        }
        struct nodefail *f = v->ptr;
        const char *wl = p->pod.workload;
        f->at[f->n % BAD_FAILURES] = c->now;
        snprintf(f->wl[f->n % BAD_FAILURES], sizeof f->wl[0], "%s", wl ? wl : p->name);
        f->n++;
        if (f->n < BAD_FAILURES)
            continue;
        bool recent = true, distinct = false;
        for (int i = 0; i < BAD_FAILURES; i++) {
            recent = recent && c->now - f->at[i] <= BAD_WINDOW_NS;
            distinct = distinct || strcmp(f->wl[i], f->wl[0]) != 0;
        }
        struct cobj *n = ctrl_get(c, CK_NODE, NULL, node);
        if (!recent || !distinct || !n || n->node->bad)
            continue;
        json_t *cur = ctrl_fetch(c, n->key);
        json_t *taints = json_deep_copy(ctrl_path(cur, "spec.taints"));
        json_decref(cur);
        if (!json_is_array(taints)) {
            json_decref(taints);
            taints = json_array();
        }
        char ts[40];
        ctrl_time(c, ts, sizeof ts);
        json_array_append_new(taints, json_pack("{s:s,s:s,s:s,s:s}", "key", BAD_NODE, "value",
                                                "true", "effect", "NoSchedule", "timeAdded", ts));
        char dd[400], path[600], msg[400];
        snprintf(dd, sizeof dd, "badnode/%s", n->key);
        snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
        ctrl_submit(c, dd, "PATCH", path, "application/merge-patch+json",
                    json_pack("{s:{s:o}}", "spec", "taints", taints));
        snprintf(msg, sizeof msg,
                 "%d pods of different workloads failed on this node within %d minutes; tainted "
                 "%s:NoSchedule (remove the taint once the node is fixed)",
                 BAD_FAILURES, (int)(BAD_WINDOW_NS / 60000000000LL), BAD_NODE);
        log_warn("ctrl: node %s: %s", node, msg);
        json_t *ref = node_ref(n);
        ctrl_event(c, "Node", "v1", ref, "Warning", "BadNode", msg);
        json_decref(ref);
    }
}

/* One node's Lease (l and n: NULL when gone): NotReady and its pods lost once
 * it has expired, Ready again when renewed; its expiry joins next_expiry. */
static void look_at_lease(struct ctrl *c, struct cobj *l, struct cobj *n)
{
    struct ctrl_nodes *st = c->nodes;
    if (!l || !n)
        return;
    const char *rt = ctrl_str(l->j, "spec.renewTime");
    int64_t renew = 0;
    if (!rt || model_parse_time(rt, &renew, NULL))
        return;
    int64_t dur = json_integer_value(ctrl_path(l->j, "spec.leaseDurationSeconds"));
    if (dur <= 0)
        dur = 40;
    int64_t expires = renew + dur * 1000000000LL;
    bool is_ready = n->node->ready;
    /* A write that has to wait for the node's previous one (in flight, or not
     * seen back yet) is tried again in a later pass: the echo of that previous
     * write may be the last event to come. */
    if (c->now >= expires) {
        if (is_ready || !n->node->unreachable) {
            if (set_node(c, n, false)) {
                log_warn("ctrl: node %s: Lease expired %.1f s ago; marking NotReady", l->name,
                         (double)(c->now - expires) / 1e9);
                c->world_dirty = true; /* the scheduler drops it in this pass */
                c->world_changed_at = 0;
            } else {
                kset_add(&st->retry, l->name);
            }
        }
        lose_pods(c, l->name);
    } else {
        if (n->node->unreachable || !is_ready) {
            if (set_node(c, n, true))
                log_info("ctrl: node %s: Lease renewed; Ready again", l->name);
            else
                kset_add(&st->retry, l->name);
        }
        if (!st->next_expiry || expires < st->next_expiry)
            st->next_expiry = expires;
    }
}

void ctrl_nodes_pass(struct ctrl *c)
{
    if (!c->nodes) {
        c->nodes = xcalloc(1, sizeof *c->nodes);
        map_init(&c->nodes->counted, MAP_KEY_STR);
        map_init(&c->nodes->fails, MAP_KEY_STR);
        kset_init(&c->nodes->retry);
    }
    if (c->changed_pods.m.len)
        count_failures(c);
    /* The Leases of nodes whose Node or Lease changed are looked at in each
     * pass; all of them when the earliest expiry seen comes (renewals only put
     * expiries later, so nothing expires before it), and every
     * LEASE_FULL_SCAN_NS in any case. A pass does not walk every Lease: a
     * large cluster renews hundreds of them a second. */
    struct ctrl_nodes *st = c->nodes;
    bool full = c->now - st->last_scan >= LEASE_FULL_SCAN_NS || c->now < st->last_scan ||
                (st->next_expiry && c->now >= st->next_expiry); /* (the clock went back) */
    if (full) {
        st->last_scan = c->now;
        st->next_expiry = 0;
        size_t it = 0;
        struct cobj *l;
        while ((l = ctrl_next(c, CK_LEASE, &it)))
            if (l->ns && l->name && !strcmp(l->ns, "kube-node-lease"))
                look_at_lease(c, l, ctrl_get(c, CK_NODE, NULL, l->name));
    } else {
        kset_move(&c->changed_leases, &st->retry);
        size_t it = 0;
        const char *name;
        while ((name = kset_next(&c->changed_leases, &it)))
            look_at_lease(c, ctrl_get(c, CK_LEASE, "kube-node-lease", name),
                          ctrl_get(c, CK_NODE, NULL, name));
    }
    kset_clear(&c->changed_leases);
    ctrl_wake(c, st->next_expiry);
    if (st->retry.m.len)
        ctrl_wake(c, c->now + PASS_GAP_NS);
}
