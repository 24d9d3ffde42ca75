/*
 * scenario: manifests -> admission world -> virtual-clock replay -> checks.
 */
#include "sim/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "model/model.h"
#include "sched/admit.h"
#include "sched/kueue.h"

#define MAX_FILE ((size_t)8 << 20)

struct wlinfo {
    const struct model_obj *o;
    char key[300];
    int64_t arrival;
    int64_t runtime; /* -1: runs until the end */
    bool pre_admitted;
    bool pre_finished;
    int64_t admitted_at;
    int64_t id;      /* adm id once added, else -1 */
    bool preempted;
    int64_t done_at; /* completion scheduled for the current admission */
    int64_t adm_stamp;
};

struct run {
    struct model_obj **objs;
    size_t nobjs;
    const struct model_obj *scen;
    struct adm *a;
    struct wlinfo *w;
    size_t nw;
    int64_t *by_id; /* adm id -> index in w */
    int64_t t0;
};

static const struct model_obj *find_obj(const struct run *r, enum model_kind k, const char *ns,
                                        const char *name)
{
    for (size_t i = 0; i < r->nobjs; i++) {
        const struct model_obj *o = r->objs[i];
        if (o->kind != k || strcmp(o->meta.name, name) != 0)
            continue;
        if (ns && (!o->meta.namespace || strcmp(o->meta.namespace, ns) != 0))
            continue;
        return o;
    }
    return NULL;
}

static int read_file(const char *path, char **buf, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errf(e, errno, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                fclose(f);
                free(b);
                return errf(e, EFBIG, "%s: larger than %zu bytes", path, MAX_FILE);
            }
            cap *= 2;
            b = xrealloc(b, cap);
        }
        size_t got = fread(b + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

static const struct model_obj *lookup_find(void *ctx, enum model_kind k, const char *ns,
                                           const char *name)
{
    return find_obj(ctx, k, ns, name);
}

static struct kueue_lookup lookup_of(const struct run *r)
{
    struct kueue_lookup l = {lookup_find, (void *)r, NULL};
    for (size_t i = 0; i < r->nobjs; i++)
        if (r->objs[i]->kind == MODEL_PRIORITY_CLASS &&
            r->objs[i]->u.priority_class.global_default) {
            l.default_priority_class = r->objs[i];
            break;
        }
    return l;
}

static int build_world(struct run *r, struct err *e)
{
    const struct model_scenario *sc = &r->scen->u.scenario;
    struct adm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fair_sharing = sc->fair_sharing;
    cfg.backfill = sc->backfill;
    cfg.policy = sc->placement_policy;
    for (size_t i = 0; i < sc->preemption_strategies.len && i < 2; i++) {
        const char *s = sc->preemption_strategies.v[i];
        cfg.strategies[cfg.nstrategies++] = strcmp(s, "LessThanInitialShare") == 0
                                                ? ADM_FS_LT_INITIAL_SHARE
                                                : ADM_FS_LE_FINAL_SHARE;
    }
    r->a = adm_create(&cfg);
    for (size_t i = 0; i < r->nobjs; i++)
        if (kueue_add_object(r->a, r->objs[i], e))
            return -1;
    return adm_seal(r->a, e);
}

static const char *annotation(const struct model_obj *o, const char *k)
{
    return model_kv_get(&o->meta.annotations, k);
}

/* Adds a workload to the engine, admitted or finished already if it was. */
static int add_workload(struct run *r, struct wlinfo *wi, struct err *e)
{
    const struct model_obj *o = wi->o;
    struct kueue_lookup l = lookup_of(r);
    int64_t created = o->meta.has_creation ? o->meta.creation_ns - r->t0 : wi->arrival;
    int64_t id = kueue_add_workload(r->a, &l, o, wi->key, created, e);
    if (id < 0)
        return -1;
    wi->id = id;
    r->by_id[id] = wi - r->w;
    if (wi->pre_finished) {
        adm_finish(r->a, (uint32_t)id, 0);
        return 0;
    }
    if (wi->pre_admitted && adm_workload(r->a, (uint32_t)id)->cq != ADM_NONE) {
        const char *fl[KUEUE_MAX_PODSETS * ADM_MAX_RES];
        kueue_admission_flavors(r->a, o, fl);
        if (adm_admit_existing(r->a, (uint32_t)id, fl, wi->admitted_at, e))
            return -1;
    }
    return 0;
}

static void on_admitted(void *ctx, uint32_t id, int64_t now)
{
    struct run *r = ctx;
    struct wlinfo *wi = &r->w[r->by_id[id]];
    wi->adm_stamp = now;
    wi->done_at = wi->runtime >= 0 ? now + wi->runtime : ADM_NEVER;
}

static void on_evicted(void *ctx, uint32_t id, uint32_t by, enum adm_evict_reason why,
                       int64_t now)
{
    struct run *r = ctx;
    struct wlinfo *wi = &r->w[r->by_id[id]];
    wi->done_at = ADM_NEVER;
    if (why != ADM_EV_STOPPED && why != ADM_EV_DEACTIVATED)
        wi->preempted = true;
    (void)by;
    (void)now;
}

static bool in_list(const struct model_string_list *l, const char *k)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->v[i], k) == 0)
            return true;
    return false;
}

/* Compares one expected set with the actual one; prints the difference. */
static bool check_set(const struct run *r, FILE *out, const char *what,
                      const struct model_string_list *want, bool (*is)(const struct run *,
                                                                       const struct wlinfo *))
{
    bool ok = true;
    char missing[2048] = "", extra[2048] = "";
    size_t om = 0, oe = 0;
    for (size_t i = 0; i < want->len; i++) {
        bool found = false;
        for (size_t k = 0; k < r->nw; k++)
            if (strcmp(r->w[k].key, want->v[i]) == 0 && is(r, &r->w[k]))
                found = true;
        if (!found) {
            ok = false;
            om += (size_t)snprintf(missing + om, om < sizeof missing ? sizeof missing - om : 0,
                                   " %s", want->v[i]);
        }
    }
    for (size_t k = 0; k < r->nw; k++)
        if (is(r, &r->w[k]) && !in_list(want, r->w[k].key)) {
            ok = false;
            oe += (size_t)snprintf(extra + oe, oe < sizeof extra ? sizeof extra - oe : 0, " %s",
                                   r->w[k].key);
        }
    if (!ok)
        fprintf(out, "    %s: missing [%s ] unexpected [%s ]\n", what, missing, extra);
    return ok;
}

static const struct adm_wl *wl_of(const struct run *r, const struct wlinfo *w)
{
    return w->id >= 0 ? adm_workload(r->a, (uint32_t)w->id) : NULL;
}

static bool is_admitted(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_ADMITTED;
}

static bool is_pending(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_PENDING;
}

static bool is_finished(const struct run *r, const struct wlinfo *w)
{
    const struct adm_wl *x = wl_of(r, w);
    return x && x->state == ADM_FINISHED;
}

static bool is_preempted(const struct run *r, const struct wlinfo *w)
{
    (void)r;
    return w->preempted;
}

static struct wlinfo *by_key(struct run *r, const char *k)
{
    for (size_t i = 0; i < r->nw; i++)
        if (strcmp(r->w[i].key, k) == 0)
            return &r->w[i];
    return NULL;
}

static bool check(struct run *r, const struct model_expect *x, FILE *out)
{
    bool ok = true;
    if (x->has_admitted)
        ok &= check_set(r, out, "admitted", &x->admitted, is_admitted);
    if (x->has_pending)
        ok &= check_set(r, out, "pending", &x->pending, is_pending);
    if (x->has_finished)
        ok &= check_set(r, out, "finished", &x->finished, is_finished);
    if (x->has_preempted)
        ok &= check_set(r, out, "preempted", &x->preempted, is_preempted);
    for (size_t i = 0; i < x->n_flavors; i++) {
        const struct model_expect_flavors *f = &x->flavors[i];
        struct wlinfo *wi = by_key(r, f->workload);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        for (size_t k = 0; k < f->flavors.len; k++) {
            int res = adm_resource_find(r->a, f->flavors.v[k].key);
            const char *got = NULL;
            if (w && w->state == ADM_ADMITTED && res >= 0)
                for (uint32_t p = 0; p < w->nps && !got; p++)
                    if (w->psa[p].flavor[res] != 0xff)
                        got = adm_flavor_name(r->a, w->psa[p].flavor[res]);
            if (!got || strcmp(got, f->flavors.v[k].value) != 0) {
                ok = false;
                fprintf(out, "    flavors: %s %s: want %s, got %s\n", f->workload,
                        f->flavors.v[k].key, f->flavors.v[k].value, got ? got : "(none)");
            }
        }
    }
    for (size_t i = 0; i < x->reasons.len; i++) {
        struct wlinfo *wi = by_key(r, x->reasons.v[i].key);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        if (!w || !strstr(w->reason, x->reasons.v[i].value)) {
            ok = false;
            fprintf(out, "    reason: %s: want text \"%s\", got \"%s\"\n", x->reasons.v[i].key,
                    x->reasons.v[i].value, w ? w->reason : "(no such workload)");
        }
    }
    for (size_t i = 0; i < x->n_nodes; i++) {
        const struct model_expect_nodes *nx = &x->nodes[i];
        struct wlinfo *wi = by_key(r, nx->workload);
        const struct adm_wl *w = wi ? wl_of(r, wi) : NULL;
        bool good = w != NULL;
        char got[1024] = "";
        size_t o = 0;
        if (w && w->state == ADM_ADMITTED) {
            for (uint32_t k = 0; k < w->npods; k++) {
                const char *nn = adm_node_name(r->a, w->pods[k].node);
                bool dup = false;
                for (uint32_t j = 0; j < k; j++)
                    dup |= w->pods[j].node == w->pods[k].node;
                if (dup)
                    continue;
                o += (size_t)snprintf(got + o, o < sizeof got ? sizeof got - o : 0, " %s", nn);
                if (!in_list(&nx->nodes, nn))
                    good = false;
            }
            for (size_t j = 0; j < nx->nodes.len; j++) {
                bool found = false;
                for (uint32_t k = 0; k < w->npods; k++)
                    found |= strcmp(adm_node_name(r->a, w->pods[k].node), nx->nodes.v[j]) == 0;
                good &= found;
            }
        } else if (nx->nodes.len) {
            good = false;
        }
        if (!good) {
            ok = false;
            fprintf(out, "    nodes: %s: want %zu nodes, got [%s ]\n", nx->workload,
                    nx->nodes.len, got);
        }
    }
    return ok;
}

static int64_t next_event(struct run *r)
{
    int64_t t = adm_next_deadline(r->a);
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id < 0 && wi->arrival < t)
            t = wi->arrival;
        if (wi->id >= 0 && is_admitted(r, wi) && wi->done_at < t)
            t = wi->done_at;
    }
    return t;
}

static int advance_to(struct run *r, int64_t now, struct err *e)
{
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id < 0 && wi->arrival <= now && add_workload(r, wi, e))
            return -1;
    }
    for (size_t i = 0; i < r->nw; i++) {
        struct wlinfo *wi = &r->w[i];
        if (wi->id >= 0 && is_admitted(r, wi) && wi->done_at <= now)
            adm_finish(r->a, (uint32_t)wi->id, now);
    }
    adm_settle(r->a, now);
    return 0;
}

static void print_reasons(const struct run *r, FILE *out)
{
    for (size_t i = 0; i < r->nw; i++) {
        const struct adm_wl *w = wl_of(r, &r->w[i]);
        if (w && (w->state == ADM_PENDING || w->state == ADM_INACTIVE))
            fprintf(out, "    pending %s: %s\n", r->w[i].key, w->reason);
    }
}

static int cmp_wl(const void *x, const void *y)
{
    const struct wlinfo *a = x, *b = y;
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    return strcmp(a->key, b->key);
}

int scenario_run_file(const char *path, FILE *out, bool verbose, struct err *e)
{
    struct run r;
    memset(&r, 0, sizeof r);
    char *buf = NULL;
    size_t len = 0;
    int result = -1;
    if (read_file(path, &buf, &len, e))
        return -1;
    int rc = model_decode_yaml_stream(buf, len, path, &r.objs, &r.nobjs, e);
    free(buf);
    if (rc)
        return -1;
    for (size_t i = 0; i < r.nobjs; i++)
        if (r.objs[i]->kind == MODEL_SCENARIO) {
            if (r.scen) {
                errf(e, EINVAL, "%s: more than one Scenario document", path);
                goto done;
            }
            r.scen = r.objs[i];
        }
    if (!r.scen) {
        errf(e, EINVAL, "%s: no Scenario document (kind: Scenario, apiVersion: "
             "muster.dev/v1alpha1)", path);
        goto done;
    }
    /* Virtual time 0 is the latest timestamp written. */
    bool any = false;
    for (size_t i = 0; i < r.nobjs; i++) {
        const struct model_obj *o = r.objs[i];
        if (o->meta.has_creation && (!any || o->meta.creation_ns > r.t0)) {
            r.t0 = o->meta.creation_ns;
            any = true;
        }
        if (o->kind == MODEL_WORKLOAD)
            for (size_t k = 0; k < o->u.workload.n_conditions; k++)
                if (o->u.workload.conditions[k].has_transition &&
                    (!any || o->u.workload.conditions[k].last_transition_ns > r.t0)) {
                    r.t0 = o->u.workload.conditions[k].last_transition_ns;
                    any = true;
                }
    }
    if (build_world(&r, e)) {
        err_wrap(e, "%s", path);
        goto done;
    }
    r.w = xcalloc(r.nobjs + 1, sizeof *r.w);
    for (size_t i = 0; i < r.nobjs; i++) {
        const struct model_obj *o = r.objs[i];
        if (o->kind != MODEL_WORKLOAD)
            continue;
        struct wlinfo *wi = &r.w[r.nw++];
        wi->o = o;
        wi->id = -1;
        wi->done_at = ADM_NEVER;
        model_obj_key(o, wi->key, sizeof wi->key);
        const char *s = annotation(o, "muster.dev/arrival");
        if (s && mtime_parse_duration(s, &wi->arrival, e)) {
            err_wrap(e, "%s: Workload %s: metadata.annotations[muster.dev/arrival]", path,
                     wi->key);
            goto done;
        }
        wi->runtime = -1;
        s = annotation(o, "muster.dev/runtime");
        if (s && mtime_parse_duration(s, &wi->runtime, e)) {
            err_wrap(e, "%s: Workload %s: metadata.annotations[muster.dev/runtime]", path,
                     wi->key);
            goto done;
        }
        const struct model_condition *qr = model_workload_condition(&o->u.workload,
                                                                    "QuotaReserved");
        const struct model_condition *fin = model_workload_condition(&o->u.workload,
                                                                     "Finished");
        if (fin && strcmp(fin->status, "True") == 0) {
            /* Already finished: it holds nothing and is reported as finished. */
            wi->pre_finished = true;
            wi->arrival = 0;
        } else if (o->u.workload.has_admission && qr && strcmp(qr->status, "True") == 0) {
            wi->pre_admitted = true;
            wi->admitted_at = qr->has_transition ? qr->last_transition_ns - r.t0 : 0;
            wi->arrival = 0;
        }
    }
    qsort(r.w, r.nw, sizeof *r.w, cmp_wl);
    r.by_id = xcalloc(r.nw + 1, sizeof *r.by_id);
    struct adm_hooks hooks = {&r, on_admitted, on_evicted};
    adm_set_hooks(r.a, &hooks);
    /* Pre-admitted workloads first, at their admission times. */
    for (size_t i = 0; i < r.nw; i++)
        if (r.w[i].pre_admitted) {
            if (add_workload(&r, &r.w[i], e))
                goto done;
            struct wlinfo *wi = &r.w[i];
            wi->done_at = wi->runtime >= 0 ? wi->admitted_at + wi->runtime : ADM_NEVER;
        }
    const struct model_scenario *sc = &r.scen->u.scenario;
    bool ok = true;
    char *report = NULL;
    size_t report_len = 0;
    FILE *rep = open_memstream(&report, &report_len);
    for (size_t x = 0; x < sc->n_expect; x++) {
        const struct model_expect *ex = &sc->expect[x];
        int guard = 0;
        for (;;) {
            int64_t t = next_event(&r);
            if (t > ex->at_ns || guard++ > 100000)
                break;
            if (t < 0)
                t = 0;
            if (advance_to(&r, t, e))
                goto done_rep;
        }
        if (advance_to(&r, ex->at_ns, e))
            goto done_rep;
        char at[32];
        mtime_format_duration(ex->at_ns, at, sizeof at);
        fprintf(rep, "  at %s:\n", at);
        long before = ftell(rep);
        if (!check(&r, ex, rep)) {
            ok = false;
            print_reasons(&r, rep);
        } else if (verbose) {
            print_reasons(&r, rep);
        } else {
            fflush(rep);
            if (ftell(rep) == before) {
                /* nothing to say about this instant */
            }
        }
    }
    fclose(rep);
    rep = NULL;
    fprintf(out, "%s %s\n", ok ? "PASS" : "FAIL", r.scen->meta.name);
    if (!ok || verbose)
        fputs(report, out);
    free(report);
    result = ok ? 1 : 0;
    goto done;
done_rep:
    if (rep)
        fclose(rep);
    free(report);
done:
    adm_destroy(r.a);
    free(r.w);
    free(r.by_id);
    model_objs_free(r.objs, r.nobjs);
    return result;
}
