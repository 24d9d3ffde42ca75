#include "sched/nodeclass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define TOMB UINT32_MAX

static void sorted_gpus(const struct cluster *c, uint32_t node, uint16_t out[CLUSTER_MAX_GPUS])
{
    const uint16_t *g = cluster_gpus(c, node);
    int n = c->gpu_n[node];
    /* insertion sort: n <= 16, usually 8 */
    for (int i = 0; i < n; i++) {
        uint16_t v = g[i];
        int j = i;
        while (j > 0 && out[j - 1] > v) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = v;
    }
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

uint64_t nodeclass_hash(const struct cluster *c, uint32_t node)
{
    uint16_t g[CLUSTER_MAX_GPUS];
    sorted_gpus(c, node, g);
    uint64_t h = mix(0x6d757374ULL,
                     (uint64_t)(uint32_t)c->cpu_cap[node] << 32 | (uint32_t)c->cpu_free[node]);
    h = mix(h, (uint64_t)c->mem_cap[node]);
    h = mix(h, (uint64_t)c->mem_free[node]);
    h = mix(h, (uint64_t)c->kinds[node] << 16 | (uint64_t)c->gpu_n[node] << 8 | c->model[node]);
    for (int k = 0; k < c->gpu_n[node]; k += 4) {
        uint64_t w = 0;
        for (int j = k; j < k + 4 && j < c->gpu_n[node]; j++)
            w = w << 16 | g[j];
        h = mix(h, w);
    }
    return h ? h : 1;
}

static int same_state(const struct cluster *c, uint32_t a, uint32_t b)
{
    if (c->cpu_cap[a] != c->cpu_cap[b] || c->cpu_free[a] != c->cpu_free[b] ||
        c->mem_cap[a] != c->mem_cap[b] || c->mem_free[a] != c->mem_free[b] ||
        c->gpu_n[a] != c->gpu_n[b] || c->model[a] != c->model[b] ||
        c->gpu_milli[a] != c->gpu_milli[b] || c->gpu_whole[a] != c->gpu_whole[b] ||
        c->kinds[a] != c->kinds[b])
        return 0;
    uint16_t ga[CLUSTER_MAX_GPUS], gb[CLUSTER_MAX_GPUS];
    sorted_gpus(c, a, ga);
    sorted_gpus(c, b, gb);
    return memcmp(ga, gb, c->gpu_n[a] * sizeof ga[0]) == 0;
}

static void table_rehash(struct nodeclass_index *ix, uint32_t newcap)
{
    free(ix->table);
    ix->table = xcalloc(newcap, sizeof *ix->table);
    ix->tcap = newcap;
    ix->tused = 0;
    ix->ntomb = 0;
    for (uint32_t s = 0; s < ix->ncls; s++) {
        if (!ix->cls[s].uid)
            continue;
        uint32_t i = (uint32_t)ix->cls[s].hash & (newcap - 1);
        while (ix->table[i])
            i = (i + 1) & (newcap - 1);
        ix->table[i] = s + 1;
        ix->tused++;
    }
}

/* Finds the live class holding node's current state, or returns UINT32_MAX and
 * sets *ins to the table position where it would go. */
static uint32_t lookup(struct nodeclass_index *ix, uint32_t node, uint64_t h, uint32_t *ins)
{
    uint32_t mask = ix->tcap - 1, i = (uint32_t)h & mask, tomb = UINT32_MAX;
    for (;;) {
        uint32_t t = ix->table[i];
        if (t == 0) {
            *ins = tomb != UINT32_MAX ? tomb : i;
            return UINT32_MAX;
        }
        if (t == TOMB) {
            if (tomb == UINT32_MAX)
                tomb = i;
        } else {
            struct nodeclass *k = &ix->cls[t - 1];
            if (k->hash == h && same_state(ix->c, k->members[0], node))
                return t - 1;
        }
        i = (i + 1) & mask;
    }
}

static uint32_t new_class(struct nodeclass_index *ix, uint64_t h)
{
    uint32_t s;
    if (ix->nfree) {
        s = ix->free_slots[--ix->nfree];
    } else {
        if (ix->ncls == ix->cap) {
            ix->cap = ix->cap ? ix->cap * 2 : 64;
            ix->cls = xreallocarray(ix->cls, ix->cap, sizeof *ix->cls);
            ix->free_slots = xreallocarray(ix->free_slots, ix->cap, sizeof *ix->free_slots);
        }
        s = ix->ncls++;
        ix->cls[s].members = NULL;
        ix->cls[s].cap = 0;
    }
    struct nodeclass *k = &ix->cls[s];
    k->uid = ++ix->next_uid;
    k->count = 0;
    k->hash = h;
    ix->nlive++;
    return s;
}

static void heap_set(struct nodeclass_index *ix, struct nodeclass *k, uint32_t i, uint32_t node)
{
    k->members[i] = node;
    ix->pos[node] = i;
}

static void sift_up(struct nodeclass_index *ix, struct nodeclass *k, uint32_t i)
{
    uint32_t node = k->members[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (k->members[parent] <= node)
            break;
        heap_set(ix, k, i, k->members[parent]);
        i = parent;
    }
    heap_set(ix, k, i, node);
}

static void sift_down(struct nodeclass_index *ix, struct nodeclass *k, uint32_t i)
{
    uint32_t node = k->members[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        uint32_t best = node;
        if (l < k->count && k->members[l] < best) {
            m = l;
            best = k->members[l];
        }
        if (l + 1 < k->count && k->members[l + 1] < best)
            m = l + 1;
        if (m == i)
            break;
        heap_set(ix, k, i, k->members[m]);
        i = m;
    }
    heap_set(ix, k, i, node);
}

static void add_member(struct nodeclass_index *ix, uint32_t s, uint32_t node)
{
    struct nodeclass *k = &ix->cls[s];
    if (k->count == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4;
        k->members = xreallocarray(k->members, k->cap, sizeof *k->members);
    }
    ix->of[node] = s;
    k->members[k->count++] = node;
    sift_up(ix, k, k->count - 1);
}

static void level_add(struct nodeclass_index *ix, uint32_t s)
{
    struct nodeclass *k = &ix->cls[s];
    int lv = k->gpu_whole ? NODECLASS_SHARE_LEVELS + k->gpu_whole
                          : k->max_gpu_free / (GPU_MILLI / NODECLASS_SHARE_LEVELS);
    int b = lv * NODECLASS_CPU_BUCKETS + nodeclass_cpu_bucket(k->cpu_free);
    if (ix->bin_n[b] == ix->bin_cap[b]) {
        ix->bin_cap[b] = ix->bin_cap[b] ? ix->bin_cap[b] * 2 : 16;
        ix->bin_slots[b] =
            xreallocarray(ix->bin_slots[b], ix->bin_cap[b], sizeof *ix->bin_slots[b]);
    }
    k->bin = (uint16_t)b;
    k->lpos = ix->bin_n[b];
    ix->bin_slots[b][ix->bin_n[b]++] = s;
    ix->cpu_mask[lv] |= 1ULL << (b % NODECLASS_CPU_BUCKETS);
    ix->level_mask |= 1ULL << lv;
}

static void level_remove(struct nodeclass_index *ix, uint32_t s)
{
    struct nodeclass *k = &ix->cls[s];
    uint32_t *v = ix->bin_slots[k->bin], last = v[--ix->bin_n[k->bin]];
    v[k->lpos] = last;
    ix->cls[last].lpos = k->lpos;
    if (!ix->bin_n[k->bin]) {
        int lv = k->bin / NODECLASS_CPU_BUCKETS;
        ix->cpu_mask[lv] &= ~(1ULL << (k->bin % NODECLASS_CPU_BUCKETS));
        if (!ix->cpu_mask[lv])
            ix->level_mask &= ~(1ULL << lv);
    }
}

static void insert(struct nodeclass_index *ix, uint32_t node)
{
    if ((ix->tused + ix->ntomb + 1) * 4 >= ix->tcap * 3)
        table_rehash(ix, ix->tused * 4 >= ix->tcap ? ix->tcap * 2 : ix->tcap);
    uint64_t h = nodeclass_hash(ix->c, node);
    uint32_t ins = 0, s = lookup(ix, node, h, &ins); /* set whenever s is UINT32_MAX */
    if (s == UINT32_MAX) {
        s = new_class(ix, h);
        struct nodeclass *k = &ix->cls[s];
        const struct cluster *c = ix->c;
        const uint16_t *g = cluster_gpus(c, node);
        k->cpu_free = c->cpu_free[node];
        k->mem_free = c->mem_free[node];
        k->gpu_whole = c->gpu_whole[node];
        k->model = c->model[node];
        k->max_gpu_free = 0;
        for (int i = 0; i < c->gpu_n[node]; i++)
            if (g[i] > k->max_gpu_free)
                k->max_gpu_free = g[i];
        level_add(ix, s);
        if (ix->table[ins] == TOMB)
            ix->ntomb--;
        ix->table[ins] = s + 1;
        ix->tused++;
    }
    add_member(ix, s, node);
    ix->cls[s].min_node = ix->cls[s].members[0];
}

static void remove_node(struct nodeclass_index *ix, uint32_t node)
{
    uint32_t s = ix->of[node];
    struct nodeclass *k = &ix->cls[s];
    uint32_t p = ix->pos[node], last = k->members[--k->count];
    if (p < k->count) {
        heap_set(ix, k, p, last);
        sift_down(ix, k, p);
        sift_up(ix, k, ix->pos[last]);
    }
    if (k->count) {
        k->min_node = k->members[0];
        return;
    }
    level_remove(ix, s);
    /* The class is empty: drop it from the table. Its state can no longer be
     * read from a member, so find it by slot number. */
    uint32_t mask = ix->tcap - 1, i = (uint32_t)k->hash & mask;
    while (ix->table[i] != s + 1)
        i = (i + 1) & mask;
    ix->table[i] = TOMB;
    ix->tused--;
    ix->ntomb++;
    k->uid = 0;
    ix->free_slots[ix->nfree++] = s;
    ix->nlive--;
}

void nodeclass_init(struct nodeclass_index *ix, const struct cluster *c)
{
    memset(ix, 0, sizeof *ix);
    ix->c = c;
    ix->of = xcalloc(c->n ? c->n : 1, sizeof *ix->of);
    ix->pos = xcalloc(c->n ? c->n : 1, sizeof *ix->pos);
    ix->tcap = 64;
    ix->table = xcalloc(ix->tcap, sizeof *ix->table);
    for (uint32_t i = 0; i < c->n; i++)
        insert(ix, i);
}

void nodeclass_release(struct nodeclass_index *ix)
{
    for (uint32_t s = 0; s < ix->ncls; s++)
        free(ix->cls[s].members);
    free(ix->cls);
    free(ix->free_slots);
    for (int b = 0; b < NODECLASS_BINS; b++)
        free(ix->bin_slots[b]);
    free(ix->of);
    free(ix->pos);
    free(ix->table);
    memset(ix, 0, sizeof *ix);
}

void nodeclass_move(struct nodeclass_index *ix, uint32_t node)
{
    /* Even a node alone in its class gets a new class (and uid): the old uid's
     * memoised scores describe the old state. */
    remove_node(ix, node);
    insert(ix, node);
}

int nodeclass_check(const struct nodeclass_index *ix, struct err *e)
{
    uint32_t total = 0, live = 0;
    for (uint32_t s = 0; s < ix->ncls; s++) {
        const struct nodeclass *k = &ix->cls[s];
        if (!k->uid)
            continue;
        live++;
        if (!k->count)
            return errf(e, EFAULT, "class slot %u is live and empty", s);
        if (k->min_node != k->members[0] || k->bin >= NODECLASS_BINS ||
            k->lpos >= ix->bin_n[k->bin] || ix->bin_slots[k->bin][k->lpos] != s ||
            k->bin % NODECLASS_CPU_BUCKETS != nodeclass_cpu_bucket(k->cpu_free))
            return errf(e, EFAULT, "class slot %u: lowest node or bin filing wrong", s);
        for (uint32_t i = 0; i < k->count; i++) {
            uint32_t n = k->members[i];
            if (i > 0 && k->members[(i - 1) / 2] > n)
                return errf(e, EFAULT, "class slot %u: heap order broken at %u", s, i);
            if (ix->of[n] != s || ix->pos[n] != i)
                return errf(e, EFAULT, "node %u: index says slot %u pos %u, found in %u at %u", n,
                            ix->of[n], ix->pos[n], s, i);
            if (nodeclass_hash(ix->c, n) != k->hash || !same_state(ix->c, n, k->members[0]))
                return errf(e, EFAULT, "node %u: state differs from its class", n);
        }
        total += k->count;
    }
    uint32_t filed = 0;
    for (int b = 0; b < NODECLASS_BINS; b++) {
        filed += ix->bin_n[b];
        int lv = b / NODECLASS_CPU_BUCKETS, cb = b % NODECLASS_CPU_BUCKETS;
        if (!!ix->bin_n[b] != !!(ix->cpu_mask[lv] >> cb & 1) ||
            !!ix->cpu_mask[lv] != !!(ix->level_mask >> lv & 1))
            return errf(e, EFAULT, "bin %d: non-empty masks out of step", b);
    }
    if (filed != live)
        return errf(e, EFAULT, "%u classes filed in bins, %u live", filed, live);
    if (total != ix->c->n || live != ix->nlive)
        return errf(e, EFAULT, "classes hold %u nodes (cluster has %u), %u live (says %u)", total,
                    ix->c->n, live, ix->nlive);
    return 0;
}
