/*
 * mem.c: the memory backend, for the simulator and the unit tests.
 *
 * State: each key that has any version since the last compaction has a `mkey`
 * holding its versions in revision order (the last one is the latest; a
 * STORE_DELETED last version means the key is absent now). Keys are found by a
 * hash map (get) and kept in byte order by a skip list (list by prefix, paging).
 *
 * History: a ring of every version with revision in (compact_rev, rev], in
 * revision order. Written through the store API, revisions are dense (one per
 * revision, so the version of revision r sits at index r - compact_rev - 1); as
 * the etcd backend's mirror (store__mem_mirror), they are etcd's and may have
 * gaps (writes outside the mirrored prefix), so a watch from the past finds its
 * start by binary search either way. The ring holds at most `history` versions;
 * a write that would pass that compacts the oldest away.
 *
 * A version is one allocation, referenced by its key's list, the ring, each
 * watcher that queued it and each reader holding it.
 *
 * Locking: one reader-writer lock (writers preferred). Writes, compaction and
 * publication take it exclusively, so publication is in revision order; get,
 * list and the start of a watch (history replay plus registration, atomic with
 * respect to publication) take it shared.
 *
 * The mirror (the etcd backend's watch cache) is this same store with three more
 * entry points (store_int.h): store__mem_apply takes a change that etcd committed
 * at its own revision, store__mem_advance moves the revision past writes outside
 * the mirrored keys, and store__mem_reset replaces the whole state after a
 * re-list. It publishes into its owner's hub.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/map.h"
#include "base/rng.h"
#include "base/vec.h"
#include "store/store_int.h"

#define MEM_DEFAULT_HISTORY 100000
#define SL_LEVELS           24

struct kv_vec {
    struct store_kv **v;
    size_t len, cap;
};

struct mkey {
    char *key; /* owned copy; the map points at it */
    size_t key_len;
    struct kv_vec vers;
    int levels;
    struct mkey *next[]; /* skip list links, levels of them */
};

struct mem {
    struct store base;
    pthread_rwlock_t lock;
    struct map keys;   /* key -> struct mkey * */
    struct mkey *head; /* skip list sentinel with SL_LEVELS links */
    int levels;        /* levels in use */
    struct rng rng;    /* skip list levels; seeded, so runs are repeatable */

    struct store_kv **hist; /* ring */
    size_t hist_head, hist_len, hist_cap;
    int64_t history;

    int64_t rev, compact_rev, writes;
};

static int keycmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* --- skip list --- */

/* Finds the first node whose key is >= key (> key when strictly_after), and
 * fills upd[i] (if upd is not NULL) with the last node before it at level i. */
static struct mkey *sl_seek(struct mem *m, const char *key, size_t len, bool strictly_after,
                            struct mkey **upd)
{
    struct mkey *x = m->head;
    for (int i = m->levels - 1; i >= 0; i--) {
        for (;;) {
            struct mkey *n = x->next[i];
            if (!n)
                break;
            int c = keycmp(n->key, n->key_len, key, len);
            if (c < 0 || (strictly_after && c == 0))
                x = n;
            else
                break;
        }
        if (upd)
            upd[i] = x;
    }
    return x->next[0];
}

static struct mkey *sl_insert(struct mem *m, const char *key, size_t len)
{
    struct mkey *upd[SL_LEVELS];
    sl_seek(m, key, len, false, upd);
    int lv = 1;
    while (lv < SL_LEVELS && (rng_next(&m->rng) & 3) == 0)
        lv++;
    for (int i = m->levels; i < lv; i++)
        upd[i] = m->head;
    if (lv > m->levels)
        m->levels = lv;
    struct mkey *k = xcalloc(1, sizeof *k + (size_t)lv * sizeof k->next[0]);
    k->key = xstrndup(key, len);
    k->key_len = len;
    k->levels = lv;
    for (int i = 0; i < lv; i++) {
        k->next[i] = upd[i]->next[i];
        upd[i]->next[i] = k;
    }
    bool found;
    map_put(&m->keys, k->key, len, &found)->ptr = k;
    assert(!found);
    return k;
}

static void sl_remove(struct mem *m, struct mkey *k)
{
    struct mkey *upd[SL_LEVELS];
    struct mkey *x = sl_seek(m, k->key, k->key_len, false, upd);
    assert(x == k);
    (void)x;
    for (int i = 0; i < k->levels; i++) {
        assert(upd[i]->next[i] == k);
        upd[i]->next[i] = k->next[i];
    }
    while (m->levels > 1 && !m->head->next[m->levels - 1])
        m->levels--;
    map_del(&m->keys, k->key, k->key_len);
    assert(k->vers.len == 0);
    vec_free(&k->vers);
    free(k->key);
    free(k);
}

/* --- history --- */

static void hist_push(struct mem *m, struct store_kv *kv)
{
    if (m->hist_len == m->hist_cap) {
        size_t ncap = m->hist_cap ? 2 * m->hist_cap : 64;
        struct store_kv **r = xreallocarray(NULL, ncap, sizeof *r);
        for (size_t i = 0; i < m->hist_len; i++)
            r[i] = m->hist[(m->hist_head + i) % m->hist_cap];
        free(m->hist);
        m->hist = r;
        m->hist_cap = ncap;
        m->hist_head = 0;
    }
    m->hist[(m->hist_head + m->hist_len) % m->hist_cap] = store_kv_ref(kv);
    m->hist_len++;
}

static struct store_kv *hist_at(struct mem *m, size_t i)
{
    assert(i < m->hist_len);
    return m->hist[(m->hist_head + i) % m->hist_cap];
}

/* The index of the first version in the ring with revision > rev. */
static size_t hist_after(struct mem *m, int64_t rev)
{
    size_t lo = 0, hi = m->hist_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hist_at(m, mid)->mod_rev <= rev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Keeps only the versions of k still needed at revisions >= c: the newest one
 * at or before c (unless it is a deletion) and every later one. */
static void prune(struct mem *m, struct mkey *k, int64_t c)
{
    size_t i = k->vers.len;
    while (i > 0 && k->vers.v[i - 1]->mod_rev > c)
        i--;
    if (i == 0)
        return;          /* every version is after c */
    size_t drop = i - 1; /* versions before the newest one at or before c */
    if (k->vers.v[i - 1]->type == STORE_DELETED)
        drop = i;
    for (size_t j = 0; j < drop; j++)
        store_kv_unref(k->vers.v[j]);
    memmove(k->vers.v, k->vers.v + drop, (k->vers.len - drop) * sizeof k->vers.v[0]);
    k->vers.len -= drop;
    if (!k->vers.len)
        sl_remove(m, k);
}

static void compact_locked(struct mem *m, int64_t c)
{
    if (c <= m->compact_rev)
        return;
    assert(c <= m->rev);
    while (m->hist_len && hist_at(m, 0)->mod_rev <= c) {
        struct store_kv *kv = hist_at(m, 0);
        m->hist_head = (m->hist_head + 1) % m->hist_cap;
        m->hist_len--;
        union map_val *v = map_get(&m->keys, kv->key, kv->key_len);
        if (v)
            prune(m, v->ptr, c);
        store_kv_unref(kv);
    }
    m->compact_rev = c;
    assert((int64_t)m->hist_len <= m->rev - m->compact_rev);
}

/* Compacts the oldest versions away while the ring holds more than `history`. */
static void trim_locked(struct mem *m)
{
    if ((int64_t)m->hist_len > m->history)
        compact_locked(m, hist_at(m, m->hist_len - (size_t)m->history - 1)->mod_rev);
}

/* --- ops --- */

static struct store_kv *latest(struct mkey *k)
{
    if (!k || !k->vers.len)
        return NULL;
    struct store_kv *kv = k->vers.v[k->vers.len - 1];
    return kv->type == STORE_DELETED ? NULL : kv;
}

static int mem_get(struct store *s, const char *key, size_t key_len, struct store_kv **out,
                   struct err *e)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_rdlock(&m->lock);
    union map_val *v = map_get(&m->keys, key, key_len);
    struct store_kv *kv = latest(v ? v->ptr : NULL);
    if (kv)
        *out = store_kv_ref(kv);
    pthread_rwlock_unlock(&m->lock);
    return kv ? 0 : errf(e, STORE_ENOTFOUND, "get %s: not found", key);
}

/* The version of k visible at revision at, or NULL. */
static struct store_kv *version_at(struct mkey *k, int64_t at)
{
    for (size_t i = k->vers.len; i > 0; i--) {
        struct store_kv *kv = k->vers.v[i - 1];
        if (kv->mod_rev <= at)
            return kv->type == STORE_DELETED ? NULL : kv;
    }
    return NULL;
}

static int mem_list(struct store *s, const struct store__range *r, struct store_list *out,
                    bool *more, struct err *e)
{
    struct mem *m = (struct mem *)s;
    int rc = 0;
    pthread_rwlock_rdlock(&m->lock);
    int64_t at = r->rev ? r->rev : m->rev;
    if (at > m->rev) {
        rc = errf(e, STORE_EFUTURE, "list %s at %" PRId64 ": the store is at revision %" PRId64,
                  r->prefix, at, m->rev);
        goto out;
    }
    if (at < m->compact_rev) {
        rc = errf(e, STORE_ECOMPACTED,
                  "list %s at %" PRId64 ": compacted (history starts at %" PRId64 ")", r->prefix,
                  at, m->compact_rev);
        goto out;
    }
    out->rev = at;
    struct mkey *k = r->after ? sl_seek(m, r->after, r->after_len, true, NULL)
                              : sl_seek(m, r->prefix, r->prefix_len, false, NULL);
    for (; k && store__has_prefix(k->key, k->key_len, r->prefix, r->prefix_len); k = k->next[0]) {
        struct store_kv *kv = version_at(k, at);
        if (!kv)
            continue;
        if (r->limit && out->len == r->limit) {
            *more = true;
            break;
        }
        store__list_push(out, store_kv_ref(kv));
    }
out:
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

/* Makes kv (whose reference it takes) the latest version of its key k (NULL:
 * a key not seen yet) at revision kv->mod_rev, records it in the history and
 * publishes it. */
static void commit_locked(struct mem *m, struct mkey *k, struct store_kv *kv)
{
    assert(kv->mod_rev > m->rev);
    m->rev = kv->mod_rev;
    if (!k)
        k = sl_insert(m, kv->key, kv->key_len);
    vec_push(&k->vers, kv); /* the list takes the first reference */
    hist_push(m, kv);
    store__hub_publish(m->base.hub, kv);
    trim_locked(m);
}

static int mem_write(struct store *s, const struct store__op *op, struct store_kv **out,
                     struct err *e)
{
    static const char *const what[] = {"create", "update", "delete"};
    struct mem *m = (struct mem *)s;
    int rc = 0;
    pthread_rwlock_wrlock(&m->lock);
    union map_val *v = map_get(&m->keys, op->key, op->key_len);
    struct mkey *k = v ? v->ptr : NULL;
    struct store_kv *cur = latest(k), *kv;
    if (op->kind == STORE__CREATE) {
        if (cur) {
            rc = errf(e, STORE_EEXISTS, "create %s: already exists", op->key);
            goto out;
        }
        kv = store__kv_new(op->key, op->key_len, op->value, op->value_len, m->rev + 1, m->rev + 1,
                           STORE_ADDED);
    } else {
        if (!cur) {
            rc = errf(e, STORE_ENOTFOUND, "%s %s: not found", what[op->kind], op->key);
            goto out;
        }
        if (op->expect_rev && cur->mod_rev != op->expect_rev) {
            rc = errf(e, STORE_ECONFLICT,
                      "%s %s: the object has been modified (revision %" PRId64 ", expected %" PRId64
                      ")",
                      what[op->kind], op->key, cur->mod_rev, op->expect_rev);
            goto out;
        }
        if (op->kind == STORE__UPDATE)
            kv = store__kv_new(op->key, op->key_len, op->value, op->value_len, cur->create_rev,
                               m->rev + 1, STORE_MODIFIED);
        else
            kv = store__kv_new(op->key, op->key_len, cur->value, cur->value_len, cur->create_rev,
                               m->rev + 1, STORE_DELETED);
    }
    m->writes++;
    commit_locked(m, k, kv);
    *out = store_kv_ref(kv);
out:
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_watch(struct store *s, struct store_watch *w, int64_t from_rev, struct err *e)
{
    struct mem *m = (struct mem *)s;
    int rc = 0;
    size_t plen;
    const char *prefix = store__watch_prefix(w, &plen);
    pthread_rwlock_rdlock(&m->lock);
    int64_t from = from_rev ? from_rev : m->rev;
    if (from > m->rev) {
        rc = errf(e, STORE_EFUTURE, "watch %s from %" PRId64 ": the store is at revision %" PRId64,
                  prefix, from, m->rev);
        goto out;
    }
    if (from < m->compact_rev) {
        rc = errf(e, STORE_ECOMPACTED,
                  "watch %s from %" PRId64 ": too old (history starts at %" PRId64 ")", prefix,
                  from, m->compact_rev);
        goto out;
    }
    for (size_t i = hist_after(m, from); i < m->hist_len; i++) {
        struct store_kv *kv = hist_at(m, i);
        if (store__has_prefix(kv->key, kv->key_len, prefix, plen) && !store__watch_push(w, kv))
            break;
    }
    store__hub_add(m->base.hub, w);
out:
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int mem_compact(struct store *s, int64_t rev, struct err *e)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_wrlock(&m->lock);
    compact_locked(m, rev);
    pthread_rwlock_unlock(&m->lock);
    return 0;
}

static int64_t mem_rev(struct store *s)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_rdlock(&m->lock);
    int64_t r = m->rev;
    pthread_rwlock_unlock(&m->lock);
    return r;
}

static int64_t mem_compacted_rev(struct store *s)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_rdlock(&m->lock);
    int64_t r = m->compact_rev;
    pthread_rwlock_unlock(&m->lock);
    return r;
}

static void mem_stats(struct store *s, struct store_stats *st)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_rdlock(&m->lock);
    st->rev = m->rev;
    st->compact_rev = m->compact_rev;
    st->writes = st->commits = m->writes;
    pthread_rwlock_unlock(&m->lock);
}

/* Drops every key, version and the history; called with the write lock held
 * (or with the store no longer shared). */
static void drop_all_locked(struct mem *m)
{
    for (struct mkey *k = m->head->next[0], *next; k; k = next) {
        next = k->next[0];
        for (size_t i = 0; i < k->vers.len; i++)
            store_kv_unref(k->vers.v[i]);
        vec_free(&k->vers);
        free(k->key);
        free(k);
    }
    memset(m->head->next, 0, SL_LEVELS * sizeof m->head->next[0]);
    m->levels = 1;
    map_release(&m->keys);
    for (size_t i = 0; i < m->hist_len; i++)
        store_kv_unref(hist_at(m, i));
    m->hist_head = m->hist_len = 0;
}

static void mem_close(struct store *s)
{
    struct mem *m = (struct mem *)s;
    drop_all_locked(m);
    free(m->head);
    free(m->hist);
    map_release(&m->keys);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

static const struct store__ops mem_ops = {
    .name = "memory",
    .get = mem_get,
    .list = mem_list,
    .write = mem_write,
    .watch = mem_watch,
    .compact = mem_compact,
    .rev = mem_rev,
    .compacted_rev = mem_compacted_rev,
    .stats = mem_stats,
    .close = mem_close,
};

static struct mem *mem_new(struct store__hub *hub, int64_t history)
{
    struct mem *m = xcalloc(1, sizeof *m);
    m->base.ops = &mem_ops;
    m->base.hub = hub;
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&m->lock, &a);
    pthread_rwlockattr_destroy(&a);
    map_init(&m->keys, MAP_KEY_STR);
    m->head = xcalloc(1, sizeof *m->head + SL_LEVELS * sizeof m->head->next[0]);
    m->head->levels = SL_LEVELS;
    m->levels = 1;
    rng_seed(&m->rng, 0x5eed);
    m->history = history > 0 ? history : MEM_DEFAULT_HISTORY;
    return m;
}

struct store *store_open_mem(const struct store_mem_opts *o)
{
    return &mem_new(store__hub_create(), o ? o->history : 0)->base;
}

/* --- the mirror --- */

struct store *store__mem_mirror(struct store__hub *hub, int64_t history)
{
    return &mem_new(hub, history)->base;
}

int store__mem_apply(struct store *s, struct store_kv *kv, struct err *e)
{
    struct mem *m = (struct mem *)s;
    int rc = 0;
    pthread_rwlock_wrlock(&m->lock);
    union map_val *v = map_get(&m->keys, kv->key, kv->key_len);
    struct mkey *k = v ? v->ptr : NULL;
    struct store_kv *cur = latest(k);
    if (kv->mod_rev <= m->rev) {
        rc = errf(e, STORE_EINVAL,
                  "mirror: %s at revision %" PRId64 " is not after the mirror's revision %" PRId64,
                  kv->key, kv->mod_rev, m->rev);
    } else if (kv->type == STORE_DELETED) {
        if (!cur) {
            rc = errf(e, STORE_ENOTFOUND,
                      "mirror: deletion of %s at revision %" PRId64
                      ", which the mirror does not have",
                      kv->key, kv->mod_rev);
        } else {
            /* The deletion carries the last value, which etcd's event does not. */
            struct store_kv *del = store__kv_new(cur->key, cur->key_len, cur->value, cur->value_len,
                                                 cur->create_rev, kv->mod_rev, STORE_DELETED);
            store_kv_unref(kv);
            kv = del;
        }
    } else if ((kv->type == STORE_ADDED) != !cur || (cur && cur->create_rev != kv->create_rev)) {
        rc = errf(e, STORE_ECONFLICT,
                  "mirror: %s of %s at revision %" PRId64 " (created at %" PRId64
                  ") does not follow the mirror's %s",
                  kv->type == STORE_ADDED ? "creation" : "update", kv->key, kv->mod_rev,
                  kv->create_rev, cur ? "live version" : "absent key");
    }
    if (rc)
        store_kv_unref(kv);
    else
        commit_locked(m, k, kv);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

struct store_kv *store__mem_version(struct store *s, const char *key, size_t key_len,
                                    int64_t mod_rev)
{
    struct mem *m = (struct mem *)s;
    struct store_kv *kv = NULL;
    pthread_rwlock_rdlock(&m->lock);
    union map_val *v = map_get(&m->keys, key, key_len);
    struct mkey *k = v ? v->ptr : NULL;
    for (size_t i = k ? k->vers.len : 0; i > 0 && !kv; i--)
        if (k->vers.v[i - 1]->mod_rev == mod_rev)
            kv = store_kv_ref(k->vers.v[i - 1]);
    pthread_rwlock_unlock(&m->lock);
    return kv;
}

void store__mem_advance(struct store *s, int64_t rev)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_wrlock(&m->lock);
    if (rev > m->rev)
        m->rev = rev;
    pthread_rwlock_unlock(&m->lock);
}

void store__mem_reset(struct store *s, int64_t rev, struct store_list *l)
{
    struct mem *m = (struct mem *)s;
    pthread_rwlock_wrlock(&m->lock);
    store__hub_cancel_all(m->base.hub, STORE_ECOMPACTED);
    drop_all_locked(m);
    m->rev = m->compact_rev = rev;
    for (size_t i = 0; i < l->len; i++) {
        struct store_kv *kv = l->items[i];
        assert(kv->mod_rev <= rev && kv->type != STORE_DELETED);
        assert(!map_get(&m->keys, kv->key, kv->key_len));
        struct mkey *k = sl_insert(m, kv->key, kv->key_len);
        vec_push(&k->vers, kv);
    }
    l->len = 0; /* the references moved into the keys */
    pthread_rwlock_unlock(&m->lock);
}
