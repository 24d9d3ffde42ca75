/* workload_dist: the expected mix of request types (policy.h). */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sched/policy.h"

void workload_dist_init(struct workload_dist *wd)
{
    memset(wd, 0, sizeof *wd);
}

void workload_dist_release(struct workload_dist *wd)
{
    free(wd->req);
    free(wd->freq);
    memset(wd, 0, sizeof *wd);
}

void workload_dist_add(struct workload_dist *wd, const struct pod_req *req, double w)
{
    /* Linear: distributions are built once, from a trace, and have at most a few
     * thousand types. */
    for (size_t i = 0; i < wd->n; i++) {
        if (pod_req_eq(&wd->req[i], req)) {
            wd->freq[i] += w;
            return;
        }
    }
    if ((wd->n & (wd->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = wd->n ? wd->n * 2 : 16;
        wd->req = xreallocarray(wd->req, cap, sizeof *wd->req);
        wd->freq = xreallocarray(wd->freq, cap, sizeof *wd->freq);
    }
    wd->req[wd->n] = *req;
    wd->freq[wd->n] = w;
    wd->n++;
}

struct entry {
    struct pod_req req;
    double w;
};

static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    /* Equal weights: larger CPU, then larger GPU share, then more GPUs first, as
     * the FGD paper's simulator orders its typical pods (it decides which types
     * a coverage cut keeps); then the model set and memory, so the order is total. */
    if (a->w != b->w)
        return a->w > b->w ? -1 : 1;
    if (a->req.cpu_milli != b->req.cpu_milli)
        return a->req.cpu_milli > b->req.cpu_milli ? -1 : 1;
    if (a->req.gpu_milli != b->req.gpu_milli)
        return a->req.gpu_milli > b->req.gpu_milli ? -1 : 1;
    if (a->req.gpus != b->req.gpus)
        return a->req.gpus > b->req.gpus ? -1 : 1;
    if (a->req.model_mask != b->req.model_mask)
        return a->req.model_mask > b->req.model_mask ? -1 : 1;
    if (a->req.mem_mib != b->req.mem_mib)
        return a->req.mem_mib > b->req.mem_mib ? -1 : 1;
    return 0;
}

void workload_dist_normalize(struct workload_dist *wd)
{
    if (!wd->n)
        return;
    struct entry *e = xcalloc(wd->n, sizeof *e);
    double total = 0;
    for (size_t i = 0; i < wd->n; i++) {
        e[i].req = wd->req[i];
        e[i].w = wd->freq[i];
        total += wd->freq[i];
    }
    qsort(e, wd->n, sizeof *e, cmp_entry);
    for (size_t i = 0; i < wd->n; i++) {
        wd->req[i] = e[i].req;
        wd->freq[i] = total > 0 ? e[i].w / total : 0;
    }
    free(e);
}
