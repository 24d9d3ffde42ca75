/*
 * watch.c: the hub that fans each published version out to the watchers, and
 * the watchers' bounded queues.
 *
 * Fan-out shares the version: a publication takes one reference per watcher
 * that queues it, never a copy. A backend that commits writes in batches
 * publishes a whole batch at once, so that each watcher's lock is taken and its
 * owner woken once per batch, not once per event. A queue is a ring of at most `cap` references;
 * a watcher that would pass its cap is cancelled (STORE_EOVERFLOW) and dropped
 * from the hub, keeping what it had queued, so a slow client costs at most cap
 * pointers however far behind it falls.
 *
 * Locks: hub->mu guards the list of watchers (and each watcher's `linked`);
 * w->mu guards w's queue and state. Order: hub->mu before w->mu. The backend
 * serialises publications (so they arrive in revision order) and holds its own
 * publication lock around store__hub_publish and store__hub_add; that lock comes
 * before hub->mu.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "store/store_int.h"

#define WATCH_DEFAULT_CAP 10000

struct store__hub {
    pthread_mutex_t mu;
    struct store_watch *head; /* registered watchers, doubly linked */
    _Atomic int refs;         /* the store's, plus one per watcher */
    _Atomic int64_t watchers, cancelled;
};

struct store_watch {
    struct store__hub *hub;
    struct store_watch *prev, *next;
    bool linked; /* in hub's list; guarded by hub->mu */
    char *prefix;
    size_t prefix_len;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store_kv **ring; /* ring of references, ring_cap slots */
    size_t head, len, ring_cap;
    size_t cap;   /* most queued before cancellation */
    int cancel;   /* 0, STORE_EOVERFLOW or STORE_ECLOSED */
    int64_t last; /* revision of the last event queued, for the order assert */
    void (*notify)(void *arg);
    void *arg;
};

static void hub_unref(struct store__hub *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    assert(!h->head);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

struct store__hub *store__hub_create(void)
{
    struct store__hub *h = xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    atomic_init(&h->refs, 1);
    return h;
}

/* Called with hub->mu held. */
static void unlink_watch(struct store__hub *h, struct store_watch *w)
{
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        h->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
    atomic_fetch_sub(&h->watchers, 1);
}

/* Wakes w's owner: its condition variable and its notify; w->mu held. */
static void wake_locked(struct store_watch *w)
{
    pthread_cond_broadcast(&w->cv);
    if (w->notify)
        w->notify(w->arg);
}

/* Called with w->mu held. */
static void cancel_locked(struct store_watch *w, int code)
{
    if (w->cancel)
        return;
    w->cancel = code;
    if (code == STORE_EOVERFLOW)
        atomic_fetch_add(&w->hub->cancelled, 1);
    wake_locked(w);
}

void store__hub_cancel_all(struct store__hub *h, int code)
{
    pthread_mutex_lock(&h->mu);
    while (h->head) {
        struct store_watch *w = h->head;
        pthread_mutex_lock(&w->mu);
        cancel_locked(w, code);
        pthread_mutex_unlock(&w->mu);
        unlink_watch(h, w);
    }
    pthread_mutex_unlock(&h->mu);
}

void store__hub_close(struct store__hub *h)
{
    store__hub_cancel_all(h, STORE_ECLOSED);
    hub_unref(h);
}

/* Queues kv in w without waking its owner (the caller does, once per batch);
 * w->mu held. Returns false when w is (or becomes) cancelled: a cancellation
 * wakes the owner itself. */
static bool enqueue_locked(struct store_watch *w, struct store_kv *kv)
{
    if (w->cancel)
        return false;
    assert(kv->mod_rev > w->last);
    if (w->len == w->cap) {
        cancel_locked(w, STORE_EOVERFLOW);
        return false;
    }
    if (w->len == w->ring_cap) {
        size_t ncap = w->ring_cap ? 2 * w->ring_cap : 16;
        if (ncap > w->cap)
            ncap = w->cap;
        struct store_kv **r = xreallocarray(NULL, ncap, sizeof *r);
        for (size_t i = 0; i < w->len; i++)
            r[i] = w->ring[(w->head + i) % w->ring_cap];
        free(w->ring);
        w->ring = r;
        w->ring_cap = ncap;
        w->head = 0;
    }
    w->ring[(w->head + w->len) % w->ring_cap] = store_kv_ref(kv);
    w->len++;
    w->last = kv->mod_rev;
    return true;
}

bool store__watch_push(struct store_watch *w, struct store_kv *kv)
{
    pthread_mutex_lock(&w->mu);
    bool was_empty = w->len == 0;
    bool ok = enqueue_locked(w, kv);
    if (ok && was_empty)
        wake_locked(w);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

void store__hub_publish_batch(struct store__hub *h, struct store_kv *const *kvs, size_t n)
{
    pthread_mutex_lock(&h->mu);
    for (struct store_watch *w = h->head, *next; w; w = next) {
        next = w->next;
        bool locked = false, was_empty = false, ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            const struct store_kv *kv = kvs[i];
            if (!store__has_prefix(kv->key, kv->key_len, w->prefix, w->prefix_len))
                continue;
            if (!locked) {
                pthread_mutex_lock(&w->mu);
                locked = true;
                was_empty = w->len == 0;
            }
            ok = enqueue_locked(w, kvs[i]);
        }
        if (!locked)
            continue;
        /* One wake per watcher per batch, and none when its queue was not empty:
         * its owner has not drained it since the last wake. */
        if (ok && was_empty)
            wake_locked(w);
        pthread_mutex_unlock(&w->mu);
        if (!ok)
            unlink_watch(h, w);
    }
    pthread_mutex_unlock(&h->mu);
}

void store__hub_publish(struct store__hub *h, struct store_kv *kv)
{
    store__hub_publish_batch(h, &kv, 1);
}

void store__hub_add(struct store__hub *h, struct store_watch *w)
{
    pthread_mutex_lock(&h->mu);
    pthread_mutex_lock(&w->mu);
    bool cancelled = w->cancel != 0;
    pthread_mutex_unlock(&w->mu);
    if (!cancelled) {
        w->next = h->head;
        if (h->head)
            h->head->prev = w;
        h->head = w;
        w->linked = true;
        atomic_fetch_add(&h->watchers, 1);
    }
    pthread_mutex_unlock(&h->mu);
}

const char *store__watch_prefix(const struct store_watch *w, size_t *len)
{
    *len = w->prefix_len;
    return w->prefix;
}

void store__hub_counts(struct store__hub *h, int64_t *watchers, int64_t *cancelled)
{
    *watchers = atomic_load(&h->watchers);
    *cancelled = atomic_load(&h->cancelled);
}

struct store_watch *store_watch(struct store *s, const char *prefix, int64_t from_rev,
                                const struct store_watch_opts *o, struct err *e)
{
    static const struct store_watch_opts none;
    if (!o)
        o = &none;
    if (!prefix || prefix[0] != '/' || strlen(prefix) > STORE_KEY_MAX) {
        errf(e, STORE_EINVAL, "watch \"%.60s\": a prefix starts with '/'",
             prefix ? prefix : "(null)");
        return NULL;
    }
    if (from_rev < 0) {
        errf(e, STORE_EINVAL, "watch %s: negative revision", prefix);
        return NULL;
    }
    struct store_watch *w = xcalloc(1, sizeof *w);
    w->hub = s->hub;
    atomic_fetch_add(&s->hub->refs, 1);
    w->prefix = xstrdup(prefix);
    w->prefix_len = strlen(prefix);
    w->cap = o->cap ? o->cap : WATCH_DEFAULT_CAP;
    w->notify = o->notify;
    w->arg = o->arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (s->ops->watch(s, w, from_rev, e)) {
        store_watch_destroy(w);
        return NULL;
    }
    return w;
}

int store_watch_next(struct store_watch *w, int64_t timeout_ns, struct store_kv **ev, struct err *e)
{
    *ev = NULL;
    pthread_mutex_lock(&w->mu);
    if (!w->len && !w->cancel && timeout_ns != 0) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        if (timeout_ns > 0) {
            int64_t ns = until.tv_nsec + timeout_ns % 1000000000;
            until.tv_sec += (time_t)(timeout_ns / 1000000000 + ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
        }
        while (!w->len && !w->cancel) {
            if (timeout_ns < 0)
                pthread_cond_wait(&w->cv, &w->mu);
            else if (pthread_cond_timedwait(&w->cv, &w->mu, &until))
                break;
        }
    }
    int rc = 0;
    if (w->len) {
        *ev = w->ring[w->head];
        w->head = (w->head + 1) % w->ring_cap;
        w->len--;
        rc = 1;
    } else if (w->cancel) {
        rc = errf(e, w->cancel, "watch %s: %s", w->prefix,
                  w->cancel == STORE_EOVERFLOW ? "cancelled: the watcher fell behind by its cap"
                  : w->cancel == STORE_ECOMPACTED
                      ? "cancelled: the store re-read its state and lost the history; re-list"
                      : "the store was closed");
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

size_t store_watch_pending(struct store_watch *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->len;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void store_watch_destroy(struct store_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->hub->mu);
    unlink_watch(w->hub, w);
    pthread_mutex_unlock(&w->hub->mu);
    hub_unref(w->hub);
    for (size_t i = 0; i < w->len; i++)
        store_kv_unref(w->ring[(w->head + i) % w->ring_cap]);
    free(w->ring);
    free(w->prefix);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
