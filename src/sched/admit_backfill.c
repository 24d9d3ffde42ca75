/*
 * admit_backfill: reservations for blocked workloads, so that large gangs do
 * not starve behind streams of small ones.
 *
 * When a workload cannot start now, its earliest start is found by replaying
 * the expected ends of running workloads (admission time plus
 * maximumExecutionTimeSeconds) on a copy of the quota usage and of the nodes,
 * until its quota and a placement of all its pods exist. The reservation keeps
 * that future state (with the workload in it). A later workload may start now
 * only if it ends before every reservation it could touch starts, or if it
 * still fits beside the reserved workload in each such future state: exactly
 * the quota in its queue's tree and exactly the GPUs, CPU and memory of the
 * nodes it takes now. So a backfilled workload never delays a reservation.
 *
 * Workloads without maximumExecutionTimeSeconds never end in this plan: they
 * cannot be backfilled past a reservation, and a reservation that needs their
 * resources cannot be made. Reservations are remade every cycle, at most
 * cfg.max_reservations of them, in the order the cycle meets blocked workloads
 * (priority, then age).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "sched/admit_int.h"

static void clone_cluster(struct cluster *d, const struct cluster *s)
{
    memset(d, 0, sizeof *d);
    d->n = d->cap = s->n;
    size_t n = s->n ? s->n : 1;
#define CP(f)                                                                                      \
    do {                                                                                           \
        d->f = xmalloc(n * sizeof *s->f);                                                          \
        memcpy(d->f, s->f, s->n * sizeof *s->f);                                                   \
    } while (0)
    CP(cpu_cap);
    CP(mem_cap);
    CP(gpu_n);
    CP(model);
    CP(cpu_free);
    CP(mem_free);
    CP(gpu_whole);
    CP(gpu_milli);
    CP(kinds);
#undef CP
    d->gpu_free = xmalloc(n * CLUSTER_MAX_GPUS * sizeof *d->gpu_free);
    memcpy(d->gpu_free, s->gpu_free, (size_t)s->n * CLUSTER_MAX_GPUS * sizeof *d->gpu_free);
    d->kind_count = xmalloc(n * POD_KIND_COUNT * sizeof *d->kind_count);
    memcpy(d->kind_count, s->kind_count, (size_t)s->n * POD_KIND_COUNT * sizeof *d->kind_count);
    d->gpu_milli_cap = s->gpu_milli_cap;
    d->gpu_milli_free = s->gpu_milli_free;
    d->cpu_cap_total = s->cpu_cap_total;
    d->cpu_free_total = s->cpu_free_total;
    d->gpus_total = s->gpus_total;
}

static void free_clone(struct cluster *d)
{
    free(d->cpu_cap);
    free(d->mem_cap);
    free(d->gpu_n);
    free(d->model);
    free(d->cpu_free);
    free(d->mem_free);
    free(d->gpu_whole);
    free(d->gpu_milli);
    free(d->kinds);
    free(d->gpu_free);
    free(d->kind_count);
}

void adm__resv_clear(struct adm *a)
{
    for (uint32_t i = 0; i < a->nresv; i++) {
        struct adm__resv *r = &a->resv[i];
        free(r->usage);
        free(r->wl_usage);
        free(r->pods);
        for (uint32_t p = 0; p < a->npools; p++)
            free_clone(&r->pools[p]);
        free(r->pools);
    }
    a->nresv = 0;
}

static int64_t end_of(const struct adm_wl *w)
{
    return adm__end_if_started(w, w->admitted_ns);
}

/* Whether one pod fits exactly where it was placed (same node, same GPUs). */
static bool fits_exact(const struct cluster *c, const struct pod_req *req,
                       const struct placement *p)
{
    if (c->cpu_free[p->node] < req->cpu_milli || c->mem_free[p->node] < req->mem_mib)
        return false;
    const uint16_t *g = cluster_gpus(c, p->node);
    for (uint32_t k = 0; k < p->ngpu; k++)
        if (g[p->gpu[k]] < req->gpu_milli)
            return false;
    return true;
}

static void shadow_remove(struct adm *a, int64_t *usage, struct cluster *pools, uint32_t id)
{
    struct adm_wl *w = &a->wl[id];
    adm__apply_usage(a, usage, w, -1);
    for (uint32_t k = 0; k < w->npods; k++) {
        const struct adm_pod_place *pp = &w->pods[k];
        cluster_unplace(&pools[a->nodes[pp->node].pool], &w->ps[pp->podset].pod, &pp->p);
    }
}

/* Best-fit placement of every pod of w (assignment as) in the shadow pools, by
 * scanning the nodes; records the placements in out. */
static bool shadow_place(struct adm *a, struct cluster *pools, const struct adm_wl *w,
                         const struct adm__assign *as, const int64_t *blocked, int64_t t,
                         struct adm_pod_place *out, uint32_t *nout)
{
    *nout = 0;
    for (uint32_t i = 0; i < w->nps; i++) {
        uint64_t need = 0;
        for (uint32_t r = 0; r < ADM_MAX_RES; r++)
            if (as->flavor[i][r] != 0xff)
                need |= 1ULL << as->flavor[i][r];
        const struct pod_req *pod = &w->ps[i].pod;
        for (uint32_t j = 0; j < as->count[i]; j++) {
            int64_t best = -1;
            uint32_t best_pool = 0;
            int64_t best_left = INT64_MAX;
            for (uint32_t p = 0; p < a->npools; p++) {
                if ((a->pools[p].flavors & need) != need)
                    continue;
                struct cluster *c = &pools[p];
                for (uint32_t n = 0; n < c->n; n++) {
                    if (blocked[a->pools[p].gid[n]] > t || !cluster_fits(c, n, pod))
                        continue;
                    int64_t left = (int64_t)c->gpu_milli[n] * 1000000 + c->cpu_free[n];
                    if (left < best_left) {
                        best_left = left;
                        best = n;
                        best_pool = p;
                    }
                }
            }
            if (best < 0)
                goto fail;
            struct placement pl;
            memset(&pl, 0, sizeof pl);
            pl.node = (uint32_t)best;
            if (!cluster_pick_gpus(&pools[best_pool], (uint32_t)best, pod, &pl))
                goto fail;
            cluster_place(&pools[best_pool], pod, &pl);
            out[*nout].node = a->pools[best_pool].gid[best];
            out[*nout].podset = i;
            out[*nout].p = pl;
            (*nout)++;
        }
    }
    return true;
fail:
    for (uint32_t k = *nout; k-- > 0;)
        cluster_unplace(&pools[a->nodes[out[k].node].pool], &w->ps[out[k].podset].pod, &out[k].p);
    *nout = 0;
    return false;
}

static int cmp_end(const void *x, const void *y, void *ctx)
{
    const struct adm *a = ctx;
    int64_t ex = end_of(&a->wl[*(const uint32_t *)x]), ey = end_of(&a->wl[*(const uint32_t *)y]);
    return ex < ey ? -1 : ex > ey ? 1 : 0;
}

void adm__resv_make(struct adm *a, uint32_t id, struct adm__assign *as)
{
    struct adm_wl *h = &a->wl[id];
    for (uint32_t i = 0; i < h->nps; i++)
        for (uint32_t r = 0; r < a->nres; r++)
            if (h->ps[i].req[r] && as->flavor[i][r] == 0xff)
                return; /* no flavor can ever hold it */
    int64_t *usage = xmalloc((size_t)a->nqn * a->nfr * sizeof *usage);
    memcpy(usage, a->usage, (size_t)a->nqn * a->nfr * sizeof *usage);
    struct cluster *pools = xcalloc(a->npools ? a->npools : 1, sizeof *pools);
    for (uint32_t p = 0; p < a->npools; p++)
        clone_cluster(&pools[p], &a->pools[p].c);
    /* Earlier reservations hold their quota, and the nodes they planned on,
     * from now until they end: a later reservation never takes what an earlier
     * one counts on. */
    int64_t *blocked = xcalloc(a->nnodes ? a->nnodes : 1, sizeof *blocked);
    for (uint32_t k = 0; k < a->nresv; k++) {
        const struct adm__resv *o = &a->resv[k];
        adm__apply_usage(a, usage, &(struct adm_wl){.cq = a->wl[o->wl].cq, .usage = o->wl_usage},
                         +1);
        for (uint32_t j = 0; j < o->npods; j++)
            if (blocked[o->pods[j].node] < o->end)
                blocked[o->pods[j].node] = o->end;
    }
    uint32_t *run = xcalloc(a->nwl + a->nresv + 1, sizeof *run);
    uint32_t nrun = 0;
    for (uint32_t i = 0; i < a->nwl; i++)
        if (a->wl[i].state == ADM_ADMITTED && end_of(&a->wl[i]) != ADM_NEVER)
            run[nrun++] = i;
    qsort_r(run, nrun, sizeof *run, cmp_end, a);
    uint32_t total = 0;
    for (uint32_t i = 0; i < h->nps; i++)
        total += as->count[i];
    struct adm_pod_place *pods = xcalloc(total + 1, sizeof *pods);
    uint32_t np = 0;
    int64_t start = ADM_NEVER;
    uint32_t i = 0;
    bool first = true;
    int64_t prev = a->now;
    for (;;) {
        int64_t t = a->now;
        if (!first) {
            /* the next instant something ends: a running workload or a reservation */
            t = i < nrun ? end_of(&a->wl[run[i]]) : ADM_NEVER;
            for (uint32_t k = 0; k < a->nresv; k++)
                if (a->resv[k].end > prev && a->resv[k].end < t)
                    t = a->resv[k].end;
            if (t == ADM_NEVER)
                break;
            while (i < nrun && end_of(&a->wl[run[i]]) <= t)
                shadow_remove(a, usage, pools, run[i++]);
            for (uint32_t k = 0; k < a->nresv; k++) {
                const struct adm__resv *o = &a->resv[k];
                if (o->end > prev && o->end <= t)
                    adm__apply_usage(a, usage,
                                     &(struct adm_wl){.cq = a->wl[o->wl].cq, .usage = o->wl_usage},
                                     -1);
            }
        }
        first = false;
        prev = t;
        if (!adm__quota_fits(a, usage, h, as, true))
            continue;
        if (a->nnodes && !shadow_place(a, pools, h, as, blocked, t, pods, &np))
            continue;
        start = t;
        break;
    }
    free(blocked);
    free(run);
    size_t n = strlen(h->reason);
    if (start == ADM_NEVER) {
        free(pods);
        snprintf(h->reason + n, sizeof h->reason - n,
                 "; no reservation: the workloads holding what it needs have no "
                 "maximumExecutionTimeSeconds");
        free(usage);
        for (uint32_t p = 0; p < a->npools; p++)
            free_clone(&pools[p]);
        free(pools);
        return;
    }
    adm__apply_usage(a, usage, &(struct adm_wl){.cq = h->cq, .usage = as->usage}, +1);
    a->resv = xreallocarray(a->resv, a->nresv + 1, sizeof *a->resv);
    struct adm__resv *r = &a->resv[a->nresv++];
    r->wl = id;
    r->start = start;
    r->end = adm__end_if_started(h, start);
    r->usage = usage;
    r->pools = pools;
    r->wl_usage = xmalloc(a->nfr * sizeof *r->wl_usage);
    memcpy(r->wl_usage, as->usage, a->nfr * sizeof *r->wl_usage);
    r->pods = pods;
    r->npods = np;
    a->stats.reservations++;
    char buf[32];
    mtime_format_duration(start, buf, sizeof buf);
    snprintf(h->reason + n, sizeof h->reason - n, "; reserved to start at %s", buf);
}

bool adm__resv_allows(struct adm *a, uint32_t id, const struct adm__assign *as, char *reason,
                      size_t rsize)
{
    struct adm_wl *w = &a->wl[id];
    int64_t end = adm__end_if_started(w, a->now);
    for (uint32_t k = 0; k < a->nresv; k++) {
        struct adm__resv *r = &a->resv[k];
        if (r->wl == id || end <= r->start)
            continue;
        bool ok = adm__quota_fits(a, r->usage, w, as, true);
        for (uint32_t j = 0; j < w->npods && ok; j++) {
            const struct adm_pod_place *pp = &w->pods[j];
            ok = fits_exact(&r->pools[a->nodes[pp->node].pool], &w->ps[pp->podset].pod, &pp->p);
        }
        if (!ok) {
            if (reason) {
                char buf[32];
                mtime_format_duration(r->start, buf, sizeof buf);
                snprintf(reason, rsize,
                         "waits: starting now would delay the reservation of %s (starts at %s)%s",
                         a->wl[r->wl].key, buf,
                         w->max_exec_ns > 0 ? "" : "; it has no maximumExecutionTimeSeconds");
            }
            return false;
        }
    }
    for (uint32_t k = 0; k < a->nresv; k++) {
        struct adm__resv *r = &a->resv[k];
        if (r->wl == id || end <= r->start)
            continue;
        adm__apply_usage(a, r->usage, &(struct adm_wl){.cq = w->cq, .usage = as->usage}, +1);
        for (uint32_t j = 0; j < w->npods; j++) {
            const struct adm_pod_place *pp = &w->pods[j];
            cluster_place(&r->pools[a->nodes[pp->node].pool], &w->ps[pp->podset].pod, &pp->p);
        }
    }
    a->stats.backfilled++;
    return true;
}
