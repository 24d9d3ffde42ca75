/*
 * store internals shared by the backends (store.c, watch.c, mem.c, sqlite.c,
 * etcd.c).
 * Nothing outside src/store includes this.
 *
 * The common layer (store.c) validates arguments, turns continue tokens into
 * (revision, last key) and back, and dispatches to the backend's ops. The hub
 * (watch.c) holds the watchers and fans each published version out to them; a
 * backend publishes every committed write, in revision order, exactly once.
 */
#ifndef MUSTER_STORE_STORE_INT_H
#define MUSTER_STORE_STORE_INT_H

#include <pthread.h>

#include "store/store.h"

enum store__op_kind { STORE__CREATE, STORE__UPDATE, STORE__DELETE };

struct store__op {
    enum store__op_kind kind;
    const char *key;
    size_t key_len;
    const void *value; /* NULL for delete */
    size_t value_len;
    int64_t expect_rev; /* 0: unconditional */
};

/* A list request after the common layer has read the token. */
struct store__range {
    const char *prefix; /* keys k with prefix <= k < end (end NULL: no bound) */
    size_t prefix_len;
    const char *after; /* NULL, or list only keys > after (continuing a page) */
    size_t after_len;
    size_t limit; /* 0: all */
    int64_t rev;  /* 0: latest */
};

struct store__ops {
    const char *name;
    int (*get)(struct store *s, const char *key, size_t key_len, struct store_kv **out,
               struct err *e);
    /* Fills out->items and out->rev; sets *more when keys remain after the page. */
    int (*list)(struct store *s, const struct store__range *r, struct store_list *out, bool *more,
                struct err *e);
    int (*write)(struct store *s, const struct store__op *op, struct store_kv **out, struct err *e);
    /* Queues the history (from_rev, now] matching w's prefix into w with
     * store__watch_push and registers w with the hub, atomically with respect to
     * publication (no gap, no duplicate). */
    int (*watch)(struct store *s, struct store_watch *w, int64_t from_rev, struct err *e);
    int (*compact)(struct store *s, int64_t rev, struct err *e);
    int64_t (*rev)(struct store *s);
    int64_t (*compacted_rev)(struct store *s);
    void (*stats)(struct store *s, struct store_stats *st);
    void (*close)(struct store *s);
};

struct store__hub;

/* The head of every backend's store struct. */
struct store {
    const struct store__ops *ops;
    struct store__hub *hub;
};

/* Versions. store__kv_new copies key and value into one allocation, with one
 * reference. */
struct store_kv *store__kv_new(const char *key, size_t key_len, const void *value, size_t value_len,
                               int64_t create_rev, int64_t mod_rev, enum store_event_type type);

/* Whether key (key_len bytes) falls in the prefix range. */
bool store__has_prefix(const char *key, size_t key_len, const char *prefix, size_t prefix_len);

/* Appends a reference (taken over from the caller) to l. */
void store__list_push(struct store_list *l, struct store_kv *kv);

/* --- hub (watch.c) --- */

struct store__hub *store__hub_create(void);

/* Cancels every watcher with STORE_ECLOSED and drops the store's reference. */
void store__hub_close(struct store__hub *h);

/* Delivers kv to every registered watcher whose prefix matches, taking a
 * reference per watcher that queues it. The caller serialises publication and
 * publishes in revision order. */
void store__hub_publish(struct store__hub *h, struct store_kv *kv);

/* The same for n versions in revision order (a committed batch): each watcher
 * gets all of its matching ones under one hold of its lock and is woken at most
 * once for the batch. */
void store__hub_publish_batch(struct store__hub *h, struct store_kv *const *kvs, size_t n);

/* Registers w for live events (after its history was pushed). */
void store__hub_add(struct store__hub *h, struct store_watch *w);

/* The watcher's prefix, for backends replaying history. */
const char *store__watch_prefix(const struct store_watch *w, size_t *len);

/* Queues a reference to kv (taking a new one) in w; returns false when w is
 * cancelled (so a replay can stop early). */
bool store__watch_push(struct store_watch *w, struct store_kv *kv);

void store__hub_counts(struct store__hub *h, int64_t *watchers, int64_t *cancelled);

/* Cancels every registered watcher with code (each keeps what it had queued,
 * then reports the code) and unregisters it. */
void store__hub_cancel_all(struct store__hub *h, int code);

/* --- the memory backend as a mirror (mem.c), the etcd backend's watch cache ---
 *
 * A mirror is a memory store whose revisions come from elsewhere: changes arrive
 * already committed, each at its own revision, with gaps where writes fell
 * outside the mirrored keys. Its reads, lists (at any revision it holds),
 * watches and compaction are the memory store's own ops. It publishes into hub,
 * which its owner created, shares (as s->hub) and closes; the mirror is freed
 * with its ops->close, which leaves the hub alone. */
struct store *store__mem_mirror(struct store__hub *hub, int64_t history);

/* Applies one committed change and publishes it. kv (whose reference it takes)
 * is the new version for STORE_ADDED and STORE_MODIFIED; for STORE_DELETED only
 * its key and mod_rev count, and the deletion is made from the key's latest
 * version (its value and create_rev). Returns -1 with e filled when kv does not
 * follow the mirror's state: a revision not after the mirror's, a deletion or
 * update of a key it does not have, a creation of one it has. */
int store__mem_apply(struct store *s, struct store_kv *kv, struct err *e);

/* The version of key made at mod_rev (a reference the caller unrefs), or NULL
 * when the mirror does not hold it (compacted, or never seen). */
struct store_kv *store__mem_version(struct store *s, const char *key, size_t key_len,
                                    int64_t mod_rev);

/* Moves the mirror's revision to rev (if later) without a change: the writes in
 * between were outside the mirrored keys. */
void store__mem_advance(struct store *s, int64_t rev);

/* Replaces the mirror's state with the live versions in l (in key order, each
 * at a revision <= rev; their references move into the mirror and l is left
 * empty) at revision rev, with no history before it (compact_rev = rev). Every
 * watcher is cancelled with STORE_ECOMPACTED first: the changes it would have
 * needed are unknown, so its client must re-list. */
void store__mem_reset(struct store *s, int64_t rev, struct store_list *l);

#endif
