#include "sched/cluster.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void cluster_init(struct cluster *c)
{
    memset(c, 0, sizeof *c);
}

void cluster_release(struct cluster *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        free(c->name[i]);
    free(c->name);
    free(c->cpu_cap);
    free(c->mem_cap);
    free(c->gpu_n);
    free(c->model);
    free(c->cpu_free);
    free(c->mem_free);
    free(c->gpu_free);
    free(c->gpu_whole);
    free(c->gpu_milli);
    free(c->kind_count);
    free(c->kinds);
    for (uint32_t m = 0; m < c->nmodels; m++)
        free(c->model_name[m]);
    memset(c, 0, sizeof *c);
}

int cluster_model_find(const struct cluster *c, const char *name)
{
    for (uint32_t m = 0; m < c->nmodels; m++)
        if (strcmp(c->model_name[m], name) == 0)
            return (int)m;
    return -1;
}

int cluster_model_id(struct cluster *c, const char *name, struct err *e)
{
    int m = cluster_model_find(c, name);
    if (m >= 0)
        return m;
    if (c->nmodels >= CLUSTER_MAX_MODELS)
        return errf(e, E2BIG, "GPU model '%s': more than %d distinct models", name,
                    CLUSTER_MAX_MODELS);
    c->model_name[c->nmodels] = xstrdup(name);
    return (int)c->nmodels++;
}

static void grow(struct cluster *c)
{
    uint32_t cap = c->cap ? c->cap * 2 : 64;
    c->name = xreallocarray(c->name, cap, sizeof *c->name);
    c->cpu_cap = xreallocarray(c->cpu_cap, cap, sizeof *c->cpu_cap);
    c->mem_cap = xreallocarray(c->mem_cap, cap, sizeof *c->mem_cap);
    c->gpu_n = xreallocarray(c->gpu_n, cap, sizeof *c->gpu_n);
    c->model = xreallocarray(c->model, cap, sizeof *c->model);
    c->cpu_free = xreallocarray(c->cpu_free, cap, sizeof *c->cpu_free);
    c->mem_free = xreallocarray(c->mem_free, cap, sizeof *c->mem_free);
    c->gpu_free = xreallocarray(c->gpu_free, (size_t)cap * CLUSTER_MAX_GPUS, sizeof *c->gpu_free);
    c->gpu_whole = xreallocarray(c->gpu_whole, cap, sizeof *c->gpu_whole);
    c->gpu_milli = xreallocarray(c->gpu_milli, cap, sizeof *c->gpu_milli);
    c->kind_count =
        xreallocarray(c->kind_count, (size_t)cap * POD_KIND_COUNT, sizeof *c->kind_count);
    c->kinds = xreallocarray(c->kinds, cap, sizeof *c->kinds);
    c->cap = cap;
}

static void node_reset(struct cluster *c, uint32_t i)
{
    c->cpu_free[i] = c->cpu_cap[i];
    c->mem_free[i] = c->mem_cap[i];
    uint16_t *g = &c->gpu_free[(size_t)i * CLUSTER_MAX_GPUS];
    for (int k = 0; k < CLUSTER_MAX_GPUS; k++)
        g[k] = k < c->gpu_n[i] ? GPU_MILLI : 0;
    c->gpu_whole[i] = c->gpu_n[i];
    c->gpu_milli[i] = c->gpu_n[i] * GPU_MILLI;
    memset(&c->kind_count[(size_t)i * POD_KIND_COUNT], 0, POD_KIND_COUNT * sizeof *c->kind_count);
    c->kinds[i] = 0;
}

static void count_kind(struct cluster *c, uint32_t node, const struct pod_req *req, int delta)
{
    enum pod_kind k = pod_req_kind(req);
    if (k == POD_KIND_NONE)
        return;
    uint16_t *n = &c->kind_count[(size_t)node * POD_KIND_COUNT + k];
    assert(delta > 0 || *n > 0);
    *n = (uint16_t)(*n + delta);
    if (*n)
        c->kinds[node] |= (uint8_t)(1u << k);
    else
        c->kinds[node] &= (uint8_t) ~(1u << k);
}

int64_t cluster_add_node(struct cluster *c, const char *name, int32_t cpu_milli, int64_t mem_mib,
                         int gpus, const char *model, struct err *e)
{
    if (cpu_milli < 0 || mem_mib < 0)
        return errf(e, EINVAL, "node %s: negative capacity", name);
    if (gpus < 0 || gpus > CLUSTER_MAX_GPUS)
        return errf(e, EINVAL, "node %s: %d GPUs (at most %d per node)", name, gpus,
                    CLUSTER_MAX_GPUS);
    int m = CLUSTER_NO_MODEL;
    if (gpus > 0) {
        m = cluster_model_id(c, model && *model ? model : "unknown", e);
        if (m < 0)
            return err_wrap(e, "node %s", name);
    }
    if (c->n == UINT32_MAX - 1)
        return errf(e, E2BIG, "node %s: too many nodes", name);
    if (c->n == c->cap)
        grow(c);
    uint32_t i = c->n++;
    c->name[i] = xstrdup(name);
    c->cpu_cap[i] = cpu_milli;
    c->mem_cap[i] = mem_mib;
    c->gpu_n[i] = (uint8_t)gpus;
    c->model[i] = (uint8_t)m;
    node_reset(c, i);
    c->gpu_milli_cap += (int64_t)gpus * GPU_MILLI;
    c->gpu_milli_free += (int64_t)gpus * GPU_MILLI;
    c->cpu_cap_total += cpu_milli;
    c->cpu_free_total += cpu_milli;
    c->gpus_total += (uint32_t)gpus;
    return i;
}

void cluster_reset(struct cluster *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        node_reset(c, i);
    c->gpu_milli_free = c->gpu_milli_cap;
    c->cpu_free_total = c->cpu_cap_total;
}

bool cluster_fits(const struct cluster *c, uint32_t node, const struct pod_req *req)
{
    if (c->cpu_free[node] < req->cpu_milli || c->mem_free[node] < req->mem_mib)
        return false;
    if (req->gpus == 0 || req->gpu_milli == 0)
        return true;
    if (!cluster_model_ok(c, node, req))
        return false;
    if (req->gpu_milli >= GPU_MILLI)
        return c->gpu_whole[node] >= req->gpus;
    if (c->gpu_whole[node] > 0)
        return true;
    const uint16_t *g = cluster_gpus(c, node);
    for (int k = 0; k < c->gpu_n[node]; k++)
        if (g[k] >= req->gpu_milli)
            return true;
    return false;
}

bool cluster_pick_gpus(const struct cluster *c, uint32_t node, const struct pod_req *req,
                       struct placement *p)
{
    const uint16_t *g = cluster_gpus(c, node);
    int n = c->gpu_n[node];
    p->node = node;
    p->ngpu = 0;
    if (req->gpus == 0 || req->gpu_milli == 0)
        return true;
    if (req->gpu_milli >= GPU_MILLI) {
        for (int k = 0; k < n && p->ngpu < req->gpus; k++)
            if (g[k] == GPU_MILLI)
                p->gpu[p->ngpu++] = (uint8_t)k;
        return p->ngpu == req->gpus;
    }
    int best = -1;
    for (int k = 0; k < n; k++)
        if (g[k] >= req->gpu_milli && (best < 0 || g[k] < g[best]))
            best = k;
    if (best < 0)
        return false;
    p->gpu[0] = (uint8_t)best;
    p->ngpu = 1;
    return true;
}

static void take_gpu(struct cluster *c, uint32_t node, int k, int milli)
{
    uint16_t *g = &c->gpu_free[(size_t)node * CLUSTER_MAX_GPUS + k];
    assert(k < c->gpu_n[node]);
    assert(milli <= 0 || *g >= milli);
    assert(milli >= 0 || *g - milli <= GPU_MILLI);
    if (*g == GPU_MILLI)
        c->gpu_whole[node]--;
    *g = (uint16_t)(*g - milli);
    if (*g == GPU_MILLI)
        c->gpu_whole[node]++;
    c->gpu_milli[node] -= milli;
    c->gpu_milli_free -= milli;
}

void cluster_place(struct cluster *c, const struct pod_req *req, const struct placement *p)
{
    assert(p->node < c->n);
    assert(p->ngpu == (req->gpu_milli ? req->gpus : 0));
    c->cpu_free[p->node] -= req->cpu_milli;
    c->mem_free[p->node] -= req->mem_mib;
    c->cpu_free_total -= req->cpu_milli;
    assert(c->cpu_free[p->node] >= 0 && c->mem_free[p->node] >= 0);
    for (int i = 0; i < p->ngpu; i++)
        take_gpu(c, p->node, p->gpu[i], req->gpu_milli);
    count_kind(c, p->node, req, +1);
}

void cluster_unplace(struct cluster *c, const struct pod_req *req, const struct placement *p)
{
    assert(p->node < c->n);
    c->cpu_free[p->node] += req->cpu_milli;
    c->mem_free[p->node] += req->mem_mib;
    c->cpu_free_total += req->cpu_milli;
    assert(c->cpu_free[p->node] <= c->cpu_cap[p->node]);
    for (int i = 0; i < p->ngpu; i++)
        take_gpu(c, p->node, p->gpu[i], -(int)req->gpu_milli);
    count_kind(c, p->node, req, -1);
}

int cluster_check(const struct cluster *c, struct err *e)
{
    int64_t milli_free = 0, cpu_free = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        const uint16_t *g = cluster_gpus(c, i);
        int whole = 0, milli = 0;
        for (int k = 0; k < CLUSTER_MAX_GPUS; k++) {
            if (k >= c->gpu_n[i] && g[k] != 0)
                return errf(e, EFAULT, "node %s: GPU %d beyond gpu_n has %u free", c->name[i], k,
                            g[k]);
            if (g[k] > GPU_MILLI)
                return errf(e, EFAULT, "node %s: GPU %d has %u milli free", c->name[i], k, g[k]);
            whole += g[k] == GPU_MILLI;
            milli += g[k];
        }
        if (whole != c->gpu_whole[i] || milli != c->gpu_milli[i])
            return errf(e, EFAULT, "node %s: aggregates whole=%d/%d milli=%d/%d", c->name[i],
                        c->gpu_whole[i], whole, c->gpu_milli[i], milli);
        if (c->cpu_free[i] < 0 || c->cpu_free[i] > c->cpu_cap[i] || c->mem_free[i] < 0 ||
            c->mem_free[i] > c->mem_cap[i])
            return errf(e, EFAULT, "node %s: cpu/mem free out of range", c->name[i]);
        milli_free += milli;
        cpu_free += c->cpu_free[i];
    }
    if (milli_free != c->gpu_milli_free || cpu_free != c->cpu_free_total)
        return errf(e, EFAULT, "cluster totals: gpu milli %lld/%lld cpu %lld/%lld",
                    (long long)c->gpu_milli_free, (long long)milli_free,
                    (long long)c->cpu_free_total, (long long)cpu_free);
    return 0;
}
