/*
 * store: durable, versioned key-value state for the API server, like etcd's.
 *
 * Keys are NUL-terminated strings such as /registry/<group>/<resource>/<ns>/<name>
 * (cluster-scoped objects have no <ns>); they start with '/' and are at most
 * STORE_KEY_MAX bytes. Values are byte strings (canonical JSON, opaque to the
 * store) of at most STORE_VALUE_MAX bytes.
 *
 * Revisions. The store has one global revision counter. Every successful write
 * (create, update, delete) takes the next revision, so revisions are 1, 2, 3, ...
 * with no gaps and no two writes sharing one; failed writes take none. Each live
 * key carries create_rev (the revision that created it) and mod_rev (the revision
 * of its last change). The server turns mod_rev into resourceVersion.
 *
 * Versions. Every read and every watch event hands out a `struct store_kv`: one
 * immutable, reference-counted version of one key. A write allocates its version
 * once; the same bytes serve the memory backend's state, its history, every
 * watcher's queue and every reader. The caller releases each reference it is given
 * with store_kv_unref.
 *
 * History and compaction. The store keeps old versions so that a list can be read
 * at an older revision (stable pagination) and a watch can start in the past.
 * store_compact(rev) discards history before rev: afterwards, lists at a revision
 * older than rev and watches from a revision older than rev fail with
 * STORE_ECOMPACTED (the server's 410 Gone). The memory backend also compacts by
 * itself when its history outgrows its window.
 *
 * Watch. store_watch(prefix, from_rev) delivers every change to a key under the
 * prefix with revision > from_rev, in revision order, each exactly once: first
 * the history, then live changes, with no gap and no duplicate between them.
 * Each watcher has a queue with a cap; a watcher that falls cap events behind is
 * cancelled with STORE_EOVERFLOW rather than growing memory (the client then
 * re-lists, as Kubernetes clients do).
 *
 * Errors. Functions return 0, or -1 with the struct err filled with one of the
 * codes below and a message naming the key and the reason. The codes are errno
 * values so they print with strerror; the API server maps them to HTTP statuses in
 * one place.
 *
 * Backends: memory (for the simulator and unit tests), SQLite in WAL mode in a data
 * directory (the default; group-committed, survives kill -9 at any moment); etcd
 * v3 through its JSON gateway (store_open_etcd; see docs/internals/store.md).
 *
 * Threads. Every function may be called from any thread, concurrently, on the same
 * store. A store_watch is used by one thread at a time (its owner); publication to
 * it is the store's business.
 */
#ifndef MUSTER_STORE_STORE_H
#define MUSTER_STORE_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Error codes (struct err.code). */
#define STORE_ENOTFOUND  ENOENT    /* the key does not exist (404) */
#define STORE_EEXISTS    EEXIST    /* create: the key exists (409 AlreadyExists) */
#define STORE_ECONFLICT  ESTALE    /* update/delete: mod_rev is not the expected one (409) */
#define STORE_ECOMPACTED ENODATA   /* revision older than the compaction (410 Gone) */
#define STORE_EFUTURE    ERANGE    /* revision newer than the store's (504 in Kubernetes) */
#define STORE_EOVERFLOW  EOVERFLOW /* a watcher fell behind by its cap and was cancelled */
#define STORE_ECLOSED    ESHUTDOWN /* the store was closed under a watcher */
#define STORE_EINVAL     EINVAL    /* a bad key, prefix, option or continue token */
#define STORE_ETOOBIG    E2BIG     /* a value past STORE_VALUE_MAX */
#define STORE_EBUSY      EBUSY     /* the data directory is in use by another process */
#define STORE_EIO        EIO       /* the backend failed (disk, database) */

#define STORE_KEY_MAX   1024
#define STORE_VALUE_MAX (3u << 20) /* 3 MiB; Kubernetes objects are capped at 1.5 MiB */

enum store_event_type {
    STORE_ADDED,    /* the key was created at mod_rev (create_rev == mod_rev) */
    STORE_MODIFIED, /* the key was updated at mod_rev */
    STORE_DELETED,  /* the key was deleted at mod_rev; value is its last value */
};

/* One version of one key: immutable once published, reference-counted. The
 * fields are read-only for everyone. key and value are NUL-terminated (the NUL is
 * not counted), so JSON text can be used as a C string. */
struct store_kv {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    int64_t create_rev;
    int64_t mod_rev; /* for STORE_DELETED: the revision of the deletion */
    enum store_event_type type;
    /* internal */
    _Atomic int refs;
    void *_Atomic attach;
};

/* Takes one more reference to kv and returns it. */
struct store_kv *store_kv_ref(struct store_kv *kv);

/* Drops one reference; the last one frees the version and its attachment. NULL is
 * allowed. */
void store_kv_unref(struct store_kv *kv);

/* Encode-once support: each version has one attachment slot where the server
 * keeps the version's encoded form (a watch event frame, say), so that a change
 * sent to a thousand watchers is encoded once. store_kv_attach offers p: if the
 * slot is empty it takes p (and free_fn frees it with the version) and returns p;
 * if another thread got there first, it calls free_fn(p) and returns the
 * attachment already there. store_kv_attachment returns the attachment or NULL.
 * Both are thread-safe. */
void *store_kv_attach(struct store_kv *kv, void *p, void (*free_fn)(void *));
void *store_kv_attachment(const struct store_kv *kv);

/* A store, whichever the backend. */
struct store;

struct store_mem_opts {
    /* How many revisions of history to keep (for lists at older revisions and
     * watches from the past); older ones are compacted away automatically.
     * 0 means the default, 100000. */
    int64_t history;
};

enum store_sqlite_sync {
    STORE_SQLITE_SYNC_FULL,   /* fsync the WAL at every commit: survives power loss */
    STORE_SQLITE_SYNC_NORMAL, /* fsync only at checkpoints: survives kill -9, not power loss */
};

struct store_sqlite_opts {
    enum store_sqlite_sync sync; /* default STORE_SQLITE_SYNC_FULL */
    int readers;                 /* read connections; 0 means 4 */
    int max_batch;               /* most writes per transaction; 0 means 1024 */
};

/* Opens a memory store (o may be NULL for the defaults). Never fails. The caller
 * closes it with store_close. */
struct store *store_open_mem(const struct store_mem_opts *o);

/* Opens (creating if needed) the SQLite store in directory dir, which must exist;
 * the database is dir/store.db with its -wal and -shm files beside it, and
 * dir/store.lock keeps a second process out (STORE_EBUSY). The revision and the
 * history continue from where the last process left them. o may be NULL.
 * Returns the store, or NULL with e filled. */
struct store *store_open_sqlite(const char *dir, const struct store_sqlite_opts *o, struct err *e);

struct store_etcd_opts {
    long timeout_ms; /* per request to etcd; 0 means 10000 */
    /* Versions of history the watch cache keeps in memory (lists at older
     * revisions, watches from the past; older ones fail with STORE_ECOMPACTED)
     * and reads back from etcd at open. 0 means 100000. */
    int64_t history;
};

/* Opens a store kept in etcd v3 (3.4 or later) through its JSON gateway at
 * endpoint ("http://127.0.0.1:2379", or "host:port"). Store key k is etcd key
 * prefix + k (prefix may be NULL or "": no prefix). The store's revision is
 * etcd's minus one (etcd's first write is its revision 2); revisions are dense
 * only while nothing else writes to that etcd.
 *
 * Reads come from a watch cache: an in-memory mirror of the keys under the
 * prefix, filled at open and kept current by one etcd watch. Gets and lists at
 * the latest revision are consistent (linearizable): each asks etcd for its
 * current revision and answers from the mirror once the mirror has reached it,
 * so a read sees every write acknowledged before it started, by this server or
 * any other sharing the etcd. Writes go to etcd and return once the mirror (and
 * every watcher) has their event. History is the mirror's: the last `history`
 * versions, read back from etcd's own history at open where etcd still has it.
 * o may be NULL. Returns the store, or NULL with e filled (STORE_EIO when etcd
 * cannot be reached). */
struct store *store_open_etcd(const char *endpoint, const char *prefix,
                              const struct store_etcd_opts *o, struct err *e);

/* Closes the store: waits for writes in flight, cancels every watcher with
 * STORE_ECLOSED (each must still be destroyed by its owner) and frees the store.
 * No other call on s may be running or start. NULL is allowed. */
void store_close(struct store *s);

/* The backend's name: "memory", "sqlite" or "etcd". */
const char *store_backend(const struct store *s);

/* The current revision: that of the last acknowledged write (0 when empty). */
int64_t store_rev(struct store *s);

/* Reads the latest version of key into *out (a reference the caller unrefs).
 * STORE_ENOTFOUND when absent. */
int store_get(struct store *s, const char *key, struct store_kv **out, struct err *e);

/* Creates key with the value; *out (if out is not NULL) receives the new version
 * (its mod_rev is the new revision). STORE_EEXISTS when the key exists. */
int store_create(struct store *s, const char *key, const void *value, size_t len,
                 struct store_kv **out, struct err *e);

/* Replaces key's value if its mod_rev is expect_rev (0: whatever it is).
 * STORE_ENOTFOUND when absent, STORE_ECONFLICT when the revision differs. */
int store_update(struct store *s, const char *key, const void *value, size_t len,
                 int64_t expect_rev, struct store_kv **out, struct err *e);

/* Deletes key if its mod_rev is expect_rev (0: whatever it is). *out (if out is
 * not NULL) receives the deletion: type STORE_DELETED, mod_rev the revision of
 * the deletion, value the last value. Errors as store_update. */
int store_delete(struct store *s, const char *key, int64_t expect_rev, struct store_kv **out,
                 struct err *e);

struct store_list_opts {
    size_t limit;     /* most items per page; 0: all */
    const char *cont; /* a continue token from the previous page, or NULL */
    int64_t rev;      /* read at this revision; 0: the latest (ignored with cont) */
};

/* A list result. items are references owned by the list. */
struct store_list {
    struct store_kv **items;
    size_t len, cap;
    int64_t rev; /* the revision the whole list is consistent at */
    char *cont;  /* token for the next page (malloc'd, owned), or NULL at the end */
};

/* Lists the live keys under prefix (which must start with '/'; "/" lists
 * everything), in byte order of the keys, as they were at one revision. With a
 * limit, the result is a page and cont a token to pass back for the next page,
 * which is read at the same revision as the first (so pages never skip or repeat
 * a key), or fails with STORE_ECOMPACTED once that revision is compacted; the
 * token is only valid with the same prefix. Fills *out (which the caller
 * releases with store_list_release, also after a failure). */
int store_list(struct store *s, const char *prefix, const struct store_list_opts *o,
               struct store_list *out, struct err *e);
void store_list_release(struct store_list *l);

/* Discards the history before rev (rev <= store_rev). Versions current at rev
 * are kept. A rev at or below an earlier compaction is a no-op. */
int store_compact(struct store *s, int64_t rev, struct err *e);

/* The revision of the last compaction (0 when none). */
int64_t store_compacted_rev(struct store *s);

struct store_stats {
    int64_t rev, compact_rev;
    int64_t writes;  /* acknowledged writes since open */
    int64_t commits; /* backend transactions for them (writes/commits: the batching) */
    int64_t watchers;
    int64_t watch_cancelled; /* watchers cancelled for falling behind */
    /* etcd only (0 elsewhere): re-reads of the whole prefix into the watch cache
     * after its etcd watch could not be resumed (compacted, or etcd went back),
     * and latest-revision reads that the cache could not serve in time and that
     * went to etcd directly. */
    int64_t resyncs;
    int64_t reads_direct;
};
void store_stats(struct store *s, struct store_stats *st);

/* --- watch --- */

struct store_watch;

struct store_watch_opts {
    size_t cap; /* most queued events before the watcher is cancelled; 0: 10000 */
    /* Called (from the writing thread, with internal locks held) when the queue
     * goes from empty to not empty or the watcher is cancelled: it must only
     * signal (wake a poll loop, resume a connection), never call the store. */
    void (*notify)(void *arg);
    void *arg;
};

/* Starts a watch on the keys under prefix for the changes with revision >
 * from_rev; from_rev 0 means from now. STORE_ECOMPACTED when from_rev is older
 * than the last compaction, STORE_EFUTURE when newer than the store. The history
 * (from_rev, now] is queued at once; if it is longer than the cap the watcher
 * starts cancelled. Returns the watcher, which its owner destroys with
 * store_watch_destroy (also after the store is closed), or NULL with e filled. */
struct store_watch *store_watch(struct store *s, const char *prefix, int64_t from_rev,
                                const struct store_watch_opts *o, struct err *e);

/* Takes the next event: returns 1 with *ev a reference the caller unrefs, 0 when
 * none came within timeout_ns (0: do not wait; negative: wait forever), or -1
 * with e filled when the watcher was cancelled (STORE_EOVERFLOW, STORE_ECLOSED)
 * and every event queued before that has been taken. */
int store_watch_next(struct store_watch *w, int64_t timeout_ns, struct store_kv **ev,
                     struct err *e);

/* Events queued and not yet taken. */
size_t store_watch_pending(struct store_watch *w);

/* Stops the watch and frees it with its queue. NULL is allowed. */
void store_watch_destroy(struct store_watch *w);

/* --- SQLite specifics --- */

/* Runs PRAGMA integrity_check on an SQLite store: 0 when the database is sound,
 * -1 with e filled (STORE_EIO, the first problem) otherwise, STORE_EINVAL for
 * another backend. */
int store_sqlite_check(struct store *s, struct err *e);

#endif
