#include "sim/philly.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/heap.h"
#include "base/mtime.h"
#include "sched/cluster.h"
#include "sim/csv.h"

/* ---- loading ---- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int philly_parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
        s[16] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        se > 59)
        return -1;
    *out = mtime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_job(const void *a, const void *b)
{
    const struct philly_job *x = a, *y = b;
    if (x->submit_s != y->submit_s)
        return x->submit_s < y->submit_s ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Team ids are given in order of first appearance while reading, then renumbered
 * by name so that ids do not depend on the row order of the file. */
static uint32_t team_id(struct philly_trace *t, size_t *cap, const char *name)
{
    for (uint32_t i = 0; i < t->nteams; i++)
        if (!strcmp(t->teams[i], name))
            return i;
    if (t->nteams == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        t->teams = xreallocarray(t->teams, *cap, sizeof *t->teams);
    }
    t->teams[t->nteams] = xstrdup(name);
    return t->nteams++;
}

int philly_load(struct philly_trace *t, const char *path, struct err *e)
{
    memset(t, 0, sizeof *t);
    struct csv_reader r;
    if (csv_open(&r, path, e) < 0)
        return -1;
    static const char *const cols[] = {"timestamp", "duration", "num_gpus", "cluster"};
    int ix[4];
    size_t cap = 0, tcap = 0;
    int64_t *abs_s = NULL; /* Unix submit times, parallel to jobs while reading */
    int rc = -1;
    if (csv_read_header(&r, e) < 0 || csv_require_cols(&r, cols, 4, ix, e) < 0)
        goto out;
    for (;;) {
        int k = csv_next(&r, e);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        const char *ts, *team;
        double dur;
        int64_t gpus, when;
        if (csv_get_str(&r, ix[0], 0, 64, &ts, NULL, e) < 0)
            goto out;
        if (philly_parse_time(ts, &when) < 0) {
            csv_errf(&r, ix[0], e, EINVAL, "'%s' is not a time (want YYYY-MM-DD HH:MM:SS)", ts);
            goto out;
        }
        if (csv_get_f64(&r, ix[1], 0, PHILLY_MAX_DURATION, &dur, e) < 0 ||
            csv_get_i64(&r, ix[2], 1, PHILLY_MAX_JOB_GPUS, &gpus, e) < 0 ||
            csv_get_str(&r, ix[3], 1, PHILLY_MAX_TEAM_LEN, &team, NULL, e) < 0)
            goto out;
        if (csv_line(&r) > UINT32_MAX) {
            csv_errf(&r, -1, e, E2BIG, "too many lines");
            goto out;
        }
        if (t->njobs == cap) {
            cap = cap ? cap * 2 : 8192;
            t->jobs = xreallocarray(t->jobs, cap, sizeof *t->jobs);
            abs_s = xreallocarray(abs_s, cap, sizeof *abs_s);
        }
        abs_s[t->njobs] = when;
        t->jobs[t->njobs++] = (struct philly_job){.duration_s = dur,
                                                  .gpus = (uint32_t)gpus,
                                                  .team = team_id(t, &tcap, team),
                                                  .line = (uint32_t)csv_line(&r)};
    }
    if (t->njobs == 0) {
        errf(e, EINVAL, "%s: no jobs", path);
        goto out;
    }
    int64_t epoch = abs_s[0];
    for (size_t i = 1; i < t->njobs; i++)
        if (abs_s[i] < epoch)
            epoch = abs_s[i];
    for (size_t i = 0; i < t->njobs; i++)
        t->jobs[i].submit_s = abs_s[i] - epoch;
    t->epoch_s = epoch;

    /* Renumber teams by name. */
    char **old = xcalloc(t->nteams, sizeof *old);
    memcpy(old, t->teams, t->nteams * sizeof *old);
    qsort(t->teams, t->nteams, sizeof *t->teams, cmp_str);
    uint32_t *map = xcalloc(t->nteams, sizeof *map);
    for (uint32_t i = 0; i < t->nteams; i++)
        for (uint32_t j = 0; j < t->nteams; j++)
            if (t->teams[j] == old[i])
                map[i] = j;
    for (size_t i = 0; i < t->njobs; i++)
        t->jobs[i].team = map[t->jobs[i].team];
    free(old);
    free(map);
    qsort(t->jobs, t->njobs, sizeof *t->jobs, cmp_job);
    rc = 0;
out:
    csv_close(&r);
    free(abs_s);
    if (rc < 0)
        philly_release(t);
    return rc;
}

void philly_release(struct philly_trace *t)
{
    for (uint32_t i = 0; i < t->nteams; i++)
        free(t->teams[i]);
    free(t->teams);
    free(t->jobs);
    memset(t, 0, sizeof *t);
}

size_t philly_select(const struct philly_trace *t, const struct philly_slice *s,
                     uint32_t cluster_gpus, struct philly_job **out, size_t *dropped)
{
    *out = NULL;
    *dropped = 0;
    /* Bounds in whole seconds: a job submitted at second k is in the window
     * when start <= k < end. */
    double lo = ceil(s->start_days * 86400.0);
    double hi = s->window_days > 0 ? ceil((s->start_days + s->window_days) * 86400.0) : INFINITY;
    size_t n = 0;
    for (size_t i = 0; i < t->njobs; i++) {
        const struct philly_job *j = &t->jobs[i];
        if ((double)j->submit_s < lo || (double)j->submit_s >= hi)
            continue;
        if (s->limit && n + *dropped >= s->limit)
            break;
        if (j->gpus > cluster_gpus) {
            (*dropped)++;
            continue;
        }
        if (!*out)
            *out = xcalloc(t->njobs - i, sizeof **out);
        (*out)[n++] = *j;
    }
    if (n) {
        int64_t base = (*out)[0].submit_s;
        for (size_t i = 0; i < n; i++)
            (*out)[i].submit_s -= base;
    }
    return n;
}

/* ---- the replay ---- */

static const char *const policy_names[PHILLY_NPOLICIES] = {"strict", "besteffort", "fairshare",
                                                           "backfill"};

const char *philly_policy_name(enum philly_policy p)
{
    return p < PHILLY_NPOLICIES ? policy_names[p] : "?";
}

int philly_policy_find(const char *name, enum philly_policy *out, struct err *e)
{
    for (int p = 0; p < PHILLY_NPOLICIES; p++)
        if (!strcmp(name, policy_names[p])) {
            *out = (enum philly_policy)p;
            return 0;
        }
    return errf(e, EINVAL, "unknown policy '%s' (known: strict, besteffort, fairshare, backfill)",
                name);
}

uint32_t philly_pod_gpus(uint32_t gpus, uint32_t per_node)
{
    for (uint32_t d = per_node < gpus ? per_node : gpus; d > 1; d--)
        if (gpus % d == 0)
            return d;
    return 1;
}

void philly_quota(const struct philly_job *jobs, size_t njobs, uint32_t nteams, uint32_t gpus,
                  int64_t *out)
{
    double *w = xcalloc(nteams, sizeof *w);
    double total = 0;
    for (size_t i = 0; i < njobs; i++) {
        w[jobs[i].team] += jobs[i].duration_s * jobs[i].gpus;
        total += jobs[i].duration_s * jobs[i].gpus;
    }
    if (total <= 0) {
        for (uint32_t k = 0; k < nteams; k++)
            w[k] = 1;
        total = nteams;
    }
    double *frac = xcalloc(nteams, sizeof *frac);
    int64_t left = gpus;
    for (uint32_t k = 0; k < nteams; k++) {
        double exact = (double)gpus * w[k] / total;
        out[k] = (int64_t)floor(exact);
        frac[k] = exact - (double)out[k];
        left -= out[k];
    }
    /* Rounding can leave at most nteams GPUs (and, in floating point, never
     * fewer than 0); hand them out one at a time. */
    while (left > 0) {
        uint32_t best = 0;
        for (uint32_t k = 1; k < nteams; k++)
            if (frac[k] > frac[best])
                best = k;
        out[best]++;
        frac[best] = -1;
        left--;
    }
    free(w);
    free(frac);
}

/* The state a replay keeps besides the engine's. */
struct replay {
    const struct philly_job *jobs;
    const struct philly_config *cfg;
    struct philly_run *r;
    struct adm *a;
    struct heap done;  /* indexed by job: key = completion time of its current run */
    int64_t *start_ns; /* start of the current run, -1 when not running */
    int64_t *left_ns;  /* run time still needed (resume mode) */
};

static int64_t dur_ns(const struct philly_job *j)
{
    return llround(j->duration_s * 1e9);
}

static void push_span(struct philly_run *r, uint32_t job, int64_t start, int64_t end)
{
    if (r->nspans == r->spans_cap) {
        r->spans_cap = r->spans_cap ? r->spans_cap * 2 : 1024;
        r->spans = xreallocarray(r->spans, r->spans_cap, sizeof *r->spans);
    }
    r->spans[r->nspans++] = (struct philly_span){start, end, job};
}

static void on_admitted(void *ctx, uint32_t wl, int64_t now)
{
    struct replay *p = ctx;
    struct philly_outcome *o = &p->r->out[wl];
    if (o->first_admit_ns < 0)
        o->first_admit_ns = now;
    p->start_ns[wl] = now;
    heap_update(&p->done, wl, (uint64_t)(now + p->left_ns[wl]));
}

static void on_evicted(void *ctx, uint32_t wl, uint32_t by, enum adm_evict_reason why, int64_t now)
{
    struct replay *p = ctx;
    struct philly_outcome *o = &p->r->out[wl];
    if (p->start_ns[wl] >= 0) {
        push_span(p->r, wl, p->start_ns[wl], now);
        if (p->cfg->rerun == PHILLY_RERUN_RESUME)
            p->left_ns[wl] -= now - p->start_ns[wl];
    }
    p->start_ns[wl] = -1;
    heap_remove(&p->done, wl);
    if (why == ADM_EV_DEACTIVATED)
        o->killed = true;
    else
        o->evictions++;
}

static int build_world(struct replay *p, char *const *teams, uint32_t nteams,
                       enum philly_policy pol, struct err *e)
{
    const struct philly_config *cfg = p->cfg;
    struct adm_config ac = {
        .fair_sharing = pol == PHILLY_FAIRSHARE,
        .backfill = pol == PHILLY_BACKFILL,
        .max_reservations = cfg->max_reservations,
    };
    p->a = adm_create(&ac);
    struct adm_flavor_spec fl = {.name = "default"};
    if (adm_add_flavor(p->a, &fl, e) < 0)
        return -1;
    for (uint32_t i = 0; i < cfg->gpus / cfg->gpus_per_node; i++) {
        char name[32];
        snprintf(name, sizeof name, "node-%05u", i);
        struct adm_node_spec ns = {
            .name = name,
            .cpu_milli = (int64_t)cfg->gpus_per_node * PHILLY_NODE_CPU_MILLI_PER_GPU,
            .memory = (int64_t)cfg->gpus_per_node * PHILLY_NODE_MEMORY_PER_GPU,
            .gpus = cfg->gpus_per_node,
        };
        if (adm_add_node(p->a, &ns, e) < 0)
            return -1;
    }
    static const char *const gpu_res[] = {"nvidia.com/gpu"};
    bool per = cfg->queues == PHILLY_Q_PER_CLUSTER;
    uint32_t nq = per ? nteams : 1;
    for (uint32_t q = 0; q < nq; q++) {
        struct adm_quota_spec qs = {
            .resource = gpu_res[0],
            .nominal = per ? p->r->nominal[q] : cfg->gpus,
            .borrowing_limit = ADM_UNLIMITED,
            .lending_limit = ADM_UNLIMITED,
        };
        struct adm_flavor_quota_spec fq = {.flavor = "default", .res = &qs, .nres = 1};
        struct adm_group_spec g = {
            .covered = gpu_res, .ncovered = 1, .flavors = &fq, .nflavors = 1};
        struct adm_cq_spec cq = {
            .name = per ? teams[q] : "all",
            .cohort = per ? "philly" : NULL,
            .groups = &g,
            .ngroups = 1,
            .strategy = pol == PHILLY_STRICT ? ADM_STRICT_FIFO : ADM_BEST_EFFORT_FIFO,
            .stop = ADM_STOP_NONE,
            .within_cq = ADM_P_NEVER,
            .reclaim_within_cohort = per ? cfg->reclaim : ADM_P_NEVER,
            .borrow_within_cohort = ADM_P_NEVER,
            .when_can_borrow = ADM_MAY_STOP_SEARCH,
            .when_can_preempt = ADM_TRY_NEXT_FLAVOR,
            .weight_milli = 1000,
        };
        if (adm_add_cq(p->a, &cq, e) < 0)
            return -1;
    }
    return adm_seal(p->a, e);
}

static int add_job(struct replay *p, char *const *teams, uint32_t i, struct err *e)
{
    const struct philly_job *j = &p->jobs[i];
    static const char *const gpu_res[] = {"nvidia.com/gpu"};
    uint32_t per_pod = philly_pod_gpus(j->gpus, p->cfg->gpus_per_node);
    int64_t amount = per_pod;
    struct adm_podset_spec ps = {
        .name = "main",
        .count = j->gpus / per_pod,
        .res = gpu_res,
        .amount = &amount,
        .nres = 1,
    };
    /* maximumExecutionTimeSeconds is whole seconds, at least 1 (0 means "no
     * bound" to the engine). */
    double bound = ceil(j->duration_s * p->cfg->overestimate);
    char key[PHILLY_MAX_TEAM_LEN + 32];
    snprintf(key, sizeof key, "%s/job-%u", teams[j->team], j->line);
    struct adm_wl_spec ws = {
        .key = key,
        .cq = p->cfg->queues == PHILLY_Q_PER_CLUSTER ? teams[j->team] : "all",
        .priority = 0,
        .created_ns = j->submit_s * MTIME_S,
        .max_exec_ns = (int64_t)(bound < 1 ? 1 : bound) * MTIME_S,
        .active = true,
        .podsets = &ps,
        .npodsets = 1,
    };
    int64_t id = adm_add_workload(p->a, &ws, e);
    if (id < 0)
        return -1;
    /* The hooks index outcomes by workload id: ids must be the job indices. */
    if (id != (int64_t)i)
        return errf(e, EPROTO, "workload %s got id %lld, want %u", key, (long long)id, i);
    return 0;
}

int philly_run(const struct philly_job *jobs, size_t njobs, char *const *teams, uint32_t nteams,
               const struct philly_config *cfg, enum philly_policy pol, struct philly_run *r,
               struct err *e)
{
    int64_t t0 = mtime_now_ns();
    memset(r, 0, sizeof *r);
    r->policy = pol;
    r->njobs = njobs;
    r->nteams = nteams;
    r->out = xcalloc(njobs ? njobs : 1, sizeof *r->out);
    r->nominal = xcalloc(nteams ? nteams : 1, sizeof *r->nominal);
    if (cfg->gpus_per_node < 1 || cfg->gpus_per_node > CLUSTER_MAX_GPUS || cfg->gpus == 0 ||
        cfg->gpus % cfg->gpus_per_node || cfg->gpus > PHILLY_MAX_GPUS)
        return errf(e, EINVAL, "philly: %u GPUs on nodes of %u: want a multiple of 1-%d GPUs",
                    cfg->gpus, cfg->gpus_per_node, CLUSTER_MAX_GPUS);
    if (!(cfg->overestimate >= 1 && cfg->overestimate <= 1000))
        return errf(e, EINVAL, "philly: overestimate %g: want a factor in [1, 1000]",
                    cfg->overestimate);
    if (njobs > UINT32_MAX - 1)
        return errf(e, E2BIG, "philly: %zu jobs is too many", njobs);
    for (size_t i = 0; i < njobs; i++) {
        r->out[i].first_admit_ns = r->out[i].end_ns = -1;
        if (jobs[i].team >= nteams || jobs[i].gpus > cfg->gpus ||
            (i && jobs[i].submit_s < jobs[i - 1].submit_s) || jobs[i].submit_s < 0)
            return errf(e, EINVAL, "philly: job %zu (line %u) is out of order or out of range", i,
                        jobs[i].line);
    }
    if (cfg->queues == PHILLY_Q_PER_CLUSTER)
        philly_quota(jobs, njobs, nteams, cfg->gpus, r->nominal);
    else if (nteams)
        r->nominal[0] = cfg->gpus; /* the single queue, reported as team 0's */

    struct replay p = {.jobs = jobs, .cfg = cfg, .r = r};
    heap_init(&p.done, (uint32_t)(njobs ? njobs : 1));
    p.start_ns = xcalloc(njobs ? njobs : 1, sizeof *p.start_ns);
    p.left_ns = xcalloc(njobs ? njobs : 1, sizeof *p.left_ns);
    for (size_t i = 0; i < njobs; i++) {
        p.start_ns[i] = -1;
        p.left_ns[i] = dur_ns(&jobs[i]);
    }
    int rc = -1;
    if (build_world(&p, teams, nteams, pol, e) < 0) {
        err_wrap(e, "philly: %s", philly_policy_name(pol));
        goto out;
    }
    struct adm_hooks hooks = {.ctx = &p, .admitted = on_admitted, .evicted = on_evicted};
    adm_set_hooks(p.a, &hooks);

    size_t next = 0;
    int64_t last = -1;
    for (;;) {
        int64_t t_arr = next < njobs ? jobs[next].submit_s * MTIME_S : ADM_NEVER;
        struct heap_item top;
        int64_t t_done = heap_peek(&p.done, &top) ? (int64_t)top.key : ADM_NEVER;
        int64_t t_dl = adm_next_deadline(p.a);
        int64_t now = t_arr < t_done ? t_arr : t_done;
        if (t_dl < now)
            now = t_dl;
        if (now == ADM_NEVER)
            break;
        if (now < last)
            now = last; /* a deadline the engine set in the past acts now */
        bool moved = false;
        /* Completions first: a job whose bound equals its run time finishes
         * rather than being deactivated at the same instant. */
        while (heap_peek(&p.done, &top) && (int64_t)top.key <= now) {
            heap_pop(&p.done, NULL);
            uint32_t j = top.id;
            push_span(r, j, p.start_ns[j], now);
            p.start_ns[j] = -1;
            r->out[j].end_ns = now;
            adm_finish(p.a, j, now);
            moved = true;
        }
        for (; next < njobs && jobs[next].submit_s * MTIME_S <= now; next++) {
            if (add_job(&p, teams, (uint32_t)next, e) < 0) {
                err_wrap(e, "philly: %s", philly_policy_name(pol));
                goto out;
            }
            moved = true;
            if (cfg->progress && (next + 1) % 1024 == 0)
                cfg->progress(cfg->progress_ctx, next + 1);
        }
        uint32_t changes = adm_settle(p.a, now);
        r->steps++;
        /* Only a deadline brought the clock here; if the engine did nothing
         * about it, it would bring the clock here forever. */
        if (!moved && !changes && adm_next_deadline(p.a) <= now) {
            errf(e, EPROTO,
                 "philly: %s: at t=%.3f s the engine's next deadline (%lld ns) passed without "
                 "action",
                 philly_policy_name(pol), (double)now / 1e9, (long long)adm_next_deadline(p.a));
            goto out;
        }
        last = now;
    }
    r->stats = *adm_stats(p.a);
    rc = 0;
out:
    adm_destroy(p.a);
    heap_release(&p.done);
    free(p.start_ns);
    free(p.left_ns);
    r->seconds = (double)(mtime_now_ns() - t0) / 1e9;
    return rc;
}

void philly_run_release(struct philly_run *r)
{
    free(r->out);
    free(r->spans);
    free(r->nominal);
    memset(r, 0, sizeof *r);
}

/* ---- metrics ---- */

unsigned philly_bucket(uint32_t gpus)
{
    if (gpus <= 1)
        return 0;
    if (gpus <= 4)
        return 1;
    if (gpus <= 8)
        return 2;
    if (gpus <= 16)
        return 3;
    if (gpus < PHILLY_GANG_BIG)
        return 4;
    return 5;
}

const char *philly_bucket_name(unsigned b)
{
    static const char *const names[PHILLY_NBUCKETS] = {"1", "2-4", "5-8", "9-16", "17-31", "32+"};
    return b < PHILLY_NBUCKETS ? names[b] : "?";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double rank(const double *sorted, size_t n, double p)
{
    size_t k = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[k ? k - 1 : 0];
}

void philly_dist_of(double *v, size_t n, struct philly_dist *d)
{
    memset(d, 0, sizeof *d);
    if (!n)
        return;
    qsort(v, n, sizeof *v, cmp_double);
    /* Summed in sorted order, so the mean does not depend on the input order. */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    d->n = n;
    d->mean = sum / (double)n;
    d->p50 = rank(v, n, 50);
    d->p99 = rank(v, n, 99);
    d->max = v[n - 1];
}

void philly_metrics(const struct philly_job *jobs, size_t njobs, const struct philly_run *r,
                    uint32_t cluster_gpus, struct philly_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->jobs = njobs;
    size_t cap = njobs ? njobs : 1;
    double *jct = xcalloc(cap, sizeof *jct), *q = xcalloc(cap, sizeof *q);
    size_t nj = 0, nq = 0;
    int64_t last = 0;
    for (size_t i = 0; i < njobs; i++) {
        const struct philly_outcome *o = &r->out[i];
        int64_t sub = jobs[i].submit_s * MTIME_S;
        m->evictions += o->evictions;
        m->killed += o->killed;
        if (o->first_admit_ns < 0)
            m->never_admitted++;
        else
            q[nq++] = (double)(o->first_admit_ns - sub) / 1e9;
        if (o->end_ns >= 0) {
            m->completed++;
            jct[nj++] = (double)(o->end_ns - sub) / 1e9;
            if (o->end_ns > last)
                last = o->end_ns;
        }
    }
    philly_dist_of(jct, nj, &m->jct);
    philly_dist_of(q, nq, &m->queue);
    for (unsigned b = 0; b < PHILLY_NBUCKETS; b++) {
        nj = nq = 0;
        for (size_t i = 0; i < njobs; i++) {
            const struct philly_outcome *o = &r->out[i];
            int64_t sub = jobs[i].submit_s * MTIME_S;
            if (philly_bucket(jobs[i].gpus) != b)
                continue;
            if (o->first_admit_ns >= 0)
                q[nq++] = (double)(o->first_admit_ns - sub) / 1e9;
            if (o->end_ns >= 0)
                jct[nj++] = (double)(o->end_ns - sub) / 1e9;
        }
        philly_dist_of(jct, nj, &m->jct_by[b]);
        philly_dist_of(q, nq, &m->queue_by[b]);
    }
    free(jct);
    free(q);
    for (size_t s = 0; s < r->nspans; s++) {
        const struct philly_span *sp = &r->spans[s];
        m->gpu_seconds += (double)jobs[sp->job].gpus * (double)(sp->end_ns - sp->start_ns) / 1e9;
    }
    m->makespan_s = (double)last / 1e9;
    if (m->makespan_s > 0 && cluster_gpus)
        m->gpu_utilization = m->gpu_seconds / ((double)cluster_gpus * m->makespan_s);
}

void philly_shares(const struct philly_job *jobs, const struct philly_run *r, uint32_t nteams,
                   int64_t horizon_ns, uint32_t nbins, double *out)
{
    memset(out, 0, (size_t)nbins * nteams * sizeof *out);
    if (!nbins || horizon_ns <= 0)
        return;
    double width = (double)horizon_ns / nbins;
    for (size_t s = 0; s < r->nspans; s++) {
        const struct philly_span *sp = &r->spans[s];
        const struct philly_job *j = &jobs[sp->job];
        double a = (double)sp->start_ns, b = (double)sp->end_ns;
        if (b > (double)horizon_ns)
            b = (double)horizon_ns;
        if (b <= a)
            continue;
        uint32_t lo = (uint32_t)(a / width), hi = (uint32_t)(b / width);
        if (hi >= nbins)
            hi = nbins - 1;
        for (uint32_t k = lo; k <= hi; k++) {
            double x0 = k * width, x1 = x0 + width;
            double ov = (b < x1 ? b : x1) - (a > x0 ? a : x0);
            if (ov > 0)
                out[(size_t)k * nteams + j->team] += j->gpus * ov / width;
        }
    }
}

size_t philly_count_later(const struct philly_job *jobs, size_t njobs, const struct philly_run *a,
                          const struct philly_run *b, uint32_t min_gpus)
{
    size_t n = 0;
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].gpus >= min_gpus && a->out[i].first_admit_ns >= 0 &&
            b->out[i].first_admit_ns >= 0 && a->out[i].first_admit_ns > b->out[i].first_admit_ns)
            n++;
    return n;
}
