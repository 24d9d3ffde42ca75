/*
 * sqlite.c: the SQLite backend, in WAL mode in a data directory, group-committed.
 *
 * Schema (etcd's model in tables; docs/internals/store.md has the reasoning):
 *   kv(rev PRIMARY KEY, key, value, create_rev, deleted)  one row per revision:
 *       the log. A deletion's row keeps the last value (the DELETED event's).
 *   kv_key_rev index on kv(key, rev)                        versions of a key
 *   latest(key PRIMARY KEY, rev) WITHOUT ROWID               live keys only
 *   meta(id = 0, rev, compact_rev)                           the counters
 *
 * Writes. Callers never touch the write connection: they queue a request and
 * sleep on their own futex word. One committer thread takes everything
 * queued (up to max_batch), applies it in one transaction (each request checked
 * against the state left by those before it, so a conflict fails only its own
 * request), commits, publishes the versions to the watchers in revision order
 * and only then wakes the callers. While it commits, new requests queue up and
 * become the next batch: under load a batch is as large as the commit is slow,
 * with no timer.
 *
 * Reads use a small pool of read connections (WAL readers never block the
 * writer nor each other); a list reads its counters and its rows in one read
 * transaction, so it is one snapshot.
 *
 * Locks: q_mu (the request queue; a request's done flag is a futex word of its
 * own, set and woken without the lock), pub_mu (the
 * published revision and compaction; held while publishing and while a watch
 * replays history, so replay and live events meet without gap or duplicate),
 * r_mu (the reader pool). None is held while another is taken, except pub_mu
 * then the hub's lock (in publish and watch).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/map.h"
#include "store/store_int.h"

#define SQ_DEFAULT_READERS 4
#define SQ_DEFAULT_BATCH   1024

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS kv ("
    "  rev INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  create_rev INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS kv_key_rev ON kv(key, rev);"
    "CREATE TABLE IF NOT EXISTS latest (key TEXT PRIMARY KEY, rev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta ("
    "  id INTEGER PRIMARY KEY CHECK (id = 0),"
    "  rev INTEGER NOT NULL,"
    "  compact_rev INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES (0, 0, 0);"
    "PRAGMA user_version = 1;";

/* Statements of a read connection. Ranges are [?1, ?2) with ?2 NULL for no
 * upper bound; the _gt forms start strictly after ?1 (continuing a page). */
enum { R_GET, R_META, R_LATEST_GE, R_LATEST_GT, R_AT_GE, R_AT_GT, R_HIST, R_BEGIN, R_END, R_NSTMT };
static const char *const read_sql[R_NSTMT] = {
    [R_GET] = "SELECT k.value, k.create_rev, k.rev FROM latest l JOIN kv k ON k.rev = l.rev"
              " WHERE l.key = ?1",
    [R_META] = "SELECT rev, compact_rev FROM meta WHERE id = 0",
    [R_LATEST_GE] = "SELECT l.key, k.value, k.create_rev, k.rev FROM latest l"
                    " JOIN kv k ON k.rev = l.rev WHERE l.key >= ?1 AND (?2 IS NULL OR l.key < ?2)"
                    " ORDER BY l.key LIMIT ?3",
    [R_LATEST_GT] = "SELECT l.key, k.value, k.create_rev, k.rev FROM latest l"
                    " JOIN kv k ON k.rev = l.rev WHERE l.key > ?1 AND (?2 IS NULL OR l.key < ?2)"
                    " ORDER BY l.key LIMIT ?3",
    [R_AT_GE] = "SELECT k.key, k.value, k.create_rev, k.rev FROM"
                " (SELECT max(rev) AS r FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)"
                "  AND rev <= ?4 GROUP BY key) m"
                " JOIN kv k ON k.rev = m.r WHERE k.deleted = 0 ORDER BY k.key LIMIT ?3",
    [R_AT_GT] = "SELECT k.key, k.value, k.create_rev, k.rev FROM"
                " (SELECT max(rev) AS r FROM kv WHERE key > ?1 AND (?2 IS NULL OR key < ?2)"
                "  AND rev <= ?4 GROUP BY key) m"
                " JOIN kv k ON k.rev = m.r WHERE k.deleted = 0 ORDER BY k.key LIMIT ?3",
    [R_HIST] = "SELECT rev, key, value, create_rev, deleted FROM kv"
               " WHERE rev > ?1 AND rev <= ?2 AND key >= ?3 AND (?4 IS NULL OR key < ?4)"
               " ORDER BY rev",
    [R_BEGIN] = "BEGIN",
    [R_END] = "COMMIT",
};

/* Statements of the write connection. */
enum {
    W_CUR,
    W_INSERT,
    W_SET_LATEST,
    W_DEL_LATEST,
    W_META,
    W_COMPACT,
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_NSTMT
};
static const char *const write_sql[W_NSTMT] = {
    [W_CUR] = "SELECT l.rev, k.create_rev, k.value FROM latest l JOIN kv k ON k.rev = l.rev"
              " WHERE l.key = ?1",
    [W_INSERT] =
        "INSERT INTO kv (rev, key, value, create_rev, deleted) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_SET_LATEST] = "INSERT INTO latest (key, rev) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET rev = excluded.rev",
    [W_DEL_LATEST] = "DELETE FROM latest WHERE key = ?1",
    [W_META] = "UPDATE meta SET rev = ?1, compact_rev = ?2 WHERE id = 0",
    /* Rows at or before ?1 that no read at a revision >= ?1 can see: deletions,
     * and versions followed by a newer one at or before ?1. */
    [W_COMPACT] = "DELETE FROM kv WHERE rev <= ?1 AND (deleted = 1 OR rev < (SELECT max(k2.rev)"
                  " FROM kv k2 WHERE k2.key = kv.key AND k2.rev <= ?1))",
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
};

struct rconn {
    sqlite3 *db;
    sqlite3_stmt *st[R_NSTMT];
};

/* A write or compaction waiting for the committer. Lives on the caller's stack. */
struct req {
    const struct store__op *op; /* NULL: compaction to compact_rev */
    int64_t compact_rev;
    int rc;
    struct err err;
    struct store_kv *out;
    _Atomic uint32_t done; /* a futex word: 0 until the committer is through */
    struct req *next;
};

struct sq {
    struct store base;
    char *path;
    int lock_fd;
    int max_batch;

    sqlite3 *wdb; /* the committer thread's alone */
    sqlite3_stmt *w[W_NSTMT];
    int64_t wrev, wcompact; /* the committer's view: last committed revision */
    struct store_kv **pubv; /* the committer's: a batch's versions to publish */
    size_t pubcap;
    pthread_t committer;

    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    struct req *q_head, *q_tail;
    bool stopping;

    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;
    int64_t rev, compact_rev;  /* published */
    _Atomic int64_t committed; /* committed, perhaps not yet published */
    int64_t writes, commits;

    /* The latest versions of the keys written last (struct recent): gets and the
     * committer's check of the current version skip SQLite for them. */
    pthread_mutex_t c_mu;
    struct recent {
        struct map gen[2]; /* key (kv->key) -> struct store_kv * (a reference) */
        uint64_t batches;  /* batches put in so far (a get's read may go in if none came) */
    } recent;
    struct map batch; /* the committer's: key -> this batch's version, not yet committed */

    pthread_mutex_t r_mu;
    pthread_cond_t r_cv;
    struct rconn *readers;
    int nreaders;
    int *free_readers, nfree;
};

static int sq_fail(struct err *e, sqlite3 *db, const char *what, const char *key)
{
    return errf(e, STORE_EIO, "%s %s: sqlite: %s", what, key, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, const char *what, struct err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        errf(e, STORE_EIO, "%s: sqlite: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int open_db(const char *path, sqlite3 **db, struct err *e)
{
    int rc = sqlite3_open_v2(
        path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        errf(e, STORE_EIO, "open %s: sqlite: %s", path,
             *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 10000);
    sqlite3_extended_result_codes(*db, 1);
    return 0;
}

/* The range end for a prefix: the prefix with its last byte incremented (bytes
 * of 0xff dropped first), or NULL when every key is >= prefix... i.e. no bound.
 * Writes into buf (prefix_len + 1 bytes) and returns its length through *len. */
static const char *prefix_end(const char *p, size_t n, char *buf, size_t *len)
{
    memcpy(buf, p, n);
    while (n > 0 && (unsigned char)buf[n - 1] == 0xff)
        n--;
    if (n == 0)
        return NULL;
    buf[n - 1] = (char)((unsigned char)buf[n - 1] + 1);
    *len = n;
    return buf;
}

/* --- the latest versions of recently written keys ---
 *
 * Two generations: a version goes into the young one; when the young one is
 * full it becomes the old one and the old one is dropped, so the cache holds
 * between RECENT_GEN and 2 * RECENT_GEN keys, the most recently written. Only
 * the committer changes it (with c_mu held), after a batch is durable and
 * before its writers are answered or its events published: a version read from
 * it is committed, and no write is acknowledged before a get can see it. A key
 * not in the cache is read from SQLite, and what was read joins the cache when
 * no batch was put in meanwhile (so a key read often, a namespace that every
 * create looks up, is not read from SQLite each time): a batch that committed a
 * newer version (or a deletion) after that read puts it in (or drops it) after,
 * under the same lock, before its writers are answered. */
#define RECENT_GEN 4096

static void recent_drop(struct map *m, const char *key, size_t len)
{
    union map_val *v = map_get(m, key, len);
    if (!v)
        return;
    struct store_kv *old = v->ptr;
    map_del(m, key, len);
    store_kv_unref(old);
}

static void recent_release(struct map *m)
{
    size_t it = 0;
    for (struct map_entry *en; (en = map_next(m, &it));)
        store_kv_unref(en->val.ptr);
    map_release(m);
    map_init(m, MAP_KEY_STR);
}

/* The cached latest version of key, or NULL (the caller takes no reference). */
static struct store_kv *recent_find(struct recent *c, const char *key, size_t len)
{
    for (int g = 0; g < 2; g++) {
        union map_val *v = map_get(&c->gen[g], key, len);
        if (v)
            return v->ptr;
    }
    return NULL;
}

/* Records kv as key's latest version (a deletion forgets the key). c_mu held. */
static void recent_put(struct recent *c, struct store_kv *kv)
{
    recent_drop(&c->gen[0], kv->key, kv->key_len);
    recent_drop(&c->gen[1], kv->key, kv->key_len);
    if (kv->type == STORE_DELETED)
        return;
    if (c->gen[0].len >= RECENT_GEN) {
        recent_release(&c->gen[1]);
        c->gen[1] = c->gen[0];
        map_init(&c->gen[0], MAP_KEY_STR);
    }
    bool found;
    map_put(&c->gen[0], kv->key, kv->key_len, &found)->ptr = store_kv_ref(kv);
}

/* --- readers --- */

static struct rconn *reader_get(struct sq *q)
{
    pthread_mutex_lock(&q->r_mu);
    while (!q->nfree)
        pthread_cond_wait(&q->r_cv, &q->r_mu);
    struct rconn *c = &q->readers[q->free_readers[--q->nfree]];
    pthread_mutex_unlock(&q->r_mu);
    return c;
}

static void reader_put(struct sq *q, struct rconn *c)
{
    for (int i = 0; i < R_NSTMT; i++) {
        sqlite3_reset(c->st[i]);
        sqlite3_clear_bindings(c->st[i]);
    }
    if (!sqlite3_get_autocommit(c->db)) {
        sqlite3_step(c->st[R_END]); /* ends a read transaction; cannot lose anything */
        sqlite3_reset(c->st[R_END]);
    }
    pthread_mutex_lock(&q->r_mu);
    q->free_readers[q->nfree++] = (int)(c - q->readers);
    pthread_cond_signal(&q->r_cv);
    pthread_mutex_unlock(&q->r_mu);
}

static struct store_kv *row_kv(sqlite3_stmt *st, int ckey, int cval, int ccreate, int crev,
                               enum store_event_type type, const char *key, size_t key_len)
{
    if (ckey >= 0) {
        key = (const char *)sqlite3_column_text(st, ckey);
        key_len = (size_t)sqlite3_column_bytes(st, ckey);
    }
    const void *v = sqlite3_column_blob(st, cval);
    size_t vlen = (size_t)sqlite3_column_bytes(st, cval);
    return store__kv_new(key, key_len, v, vlen, sqlite3_column_int64(st, ccreate),
                         sqlite3_column_int64(st, crev), type);
}

static enum store_event_type row_type(int64_t rev, int64_t create_rev, int deleted)
{
    return deleted ? STORE_DELETED : rev == create_rev ? STORE_ADDED : STORE_MODIFIED;
}

static int sq_get(struct store *s, const char *key, size_t key_len, struct store_kv **out,
                  struct err *e)
{
    struct sq *q = (struct sq *)s;
    pthread_mutex_lock(&q->c_mu);
    struct store_kv *hit = recent_find(&q->recent, key, key_len);
    if (hit)
        *out = store_kv_ref(hit);
    uint64_t batches = q->recent.batches;
    pthread_mutex_unlock(&q->c_mu);
    if (hit)
        return 0;
    struct rconn *c = reader_get(q);
    sqlite3_stmt *st = c->st[R_GET];
    sqlite3_bind_text(st, 1, key, (int)key_len, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        int64_t create = sqlite3_column_int64(st, 1), rev = sqlite3_column_int64(st, 2);
        *out = row_kv(st, -1, 0, 1, 2, row_type(rev, create, 0), key, key_len);
    } else if (rc == SQLITE_DONE) {
        ret = errf(e, STORE_ENOTFOUND, "get %s: not found", key);
    } else {
        ret = sq_fail(e, c->db, "get", key);
    }
    reader_put(q, c);
    if (ret == 0) {
        pthread_mutex_lock(&q->c_mu);
        if (q->recent.batches == batches && !recent_find(&q->recent, key, key_len))
            recent_put(&q->recent, *out);
        pthread_mutex_unlock(&q->c_mu);
    }
    return ret;
}

static int sq_list(struct store *s, const struct store__range *r, struct store_list *out,
                   bool *more, struct err *e)
{
    struct sq *q = (struct sq *)s;
    struct rconn *c = reader_get(q);
    int ret = -1;
    if (sqlite3_step(c->st[R_BEGIN]) != SQLITE_DONE)
        goto sqlfail;
    sqlite3_stmt *m = c->st[R_META];
    if (sqlite3_step(m) != SQLITE_ROW)
        goto sqlfail;
    int64_t cur = sqlite3_column_int64(m, 0), compact = sqlite3_column_int64(m, 1);
    int64_t at = r->rev ? r->rev : cur;
    if (at > cur) {
        errf(e, STORE_EFUTURE, "list %s at %" PRId64 ": the store is at revision %" PRId64,
             r->prefix, at, cur);
        goto out;
    }
    if (at < compact) {
        errf(e, STORE_ECOMPACTED,
             "list %s at %" PRId64 ": compacted (history starts at %" PRId64 ")", r->prefix, at,
             compact);
        goto out;
    }
    out->rev = at;
    sqlite3_stmt *st = at == cur ? c->st[r->after ? R_LATEST_GT : R_LATEST_GE]
                                 : c->st[r->after ? R_AT_GT : R_AT_GE];
    char endbuf[STORE_KEY_MAX + 1];
    size_t endlen = 0;
    const char *end = prefix_end(r->prefix, r->prefix_len, endbuf, &endlen);
    if (r->after)
        sqlite3_bind_text(st, 1, r->after, (int)r->after_len, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 1, r->prefix, (int)r->prefix_len, SQLITE_STATIC);
    if (end)
        sqlite3_bind_text(st, 2, end, (int)endlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->limit ? (int64_t)r->limit + 1 : -1);
    if (at != cur)
        sqlite3_bind_int64(st, 4, at);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->limit && out->len == r->limit) {
            *more = true;
            break;
        }
        int64_t create = sqlite3_column_int64(st, 2), rev = sqlite3_column_int64(st, 3);
        store__list_push(out, row_kv(st, 0, 1, 2, 3, row_type(rev, create, 0), NULL, 0));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        goto sqlfail;
    ret = 0;
    goto out;
sqlfail:
    sq_fail(e, c->db, "list", r->prefix);
out:
    reader_put(q, c);
    return ret;
}

/* Replays the history (from, to] under w's prefix into w. pub_mu held. */
static int replay(struct sq *q, struct store_watch *w, int64_t from, int64_t to, struct err *e)
{
    size_t plen;
    const char *prefix = store__watch_prefix(w, &plen);
    char endbuf[STORE_KEY_MAX + 1];
    size_t endlen = 0;
    const char *end = prefix_end(prefix, plen, endbuf, &endlen);
    struct rconn *c = reader_get(q);
    sqlite3_stmt *st = c->st[R_HIST];
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_text(st, 3, prefix, (int)plen, SQLITE_STATIC);
    if (end)
        sqlite3_bind_text(st, 4, end, (int)endlen, SQLITE_STATIC);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rev = sqlite3_column_int64(st, 0), create = sqlite3_column_int64(st, 3);
        int deleted = sqlite3_column_int(st, 4);
        struct store_kv *kv = row_kv(st, 1, 2, 3, 0, row_type(rev, create, deleted), NULL, 0);
        bool ok = store__watch_push(w, kv);
        store_kv_unref(kv);
        if (!ok)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = sq_fail(e, c->db, "watch", prefix);
    reader_put(q, c);
    return ret;
}

static int sq_watch(struct store *s, struct store_watch *w, int64_t from_rev, struct err *e)
{
    struct sq *q = (struct sq *)s;
    size_t plen;
    const char *prefix = store__watch_prefix(w, &plen);
    int ret = 0;
    pthread_mutex_lock(&q->pub_mu);
    /* A list may have read a revision that is committed but not yet published
     * (the committer may not even have counted it as committed yet): a watch
     * from it waits the moment it takes to publish, at most 2 s. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    while (from_rev > q->rev &&
           pthread_cond_timedwait(&q->pub_cv, &q->pub_mu, &until) != ETIMEDOUT)
        ;
    int64_t from = from_rev ? from_rev : q->rev;
    if (from > q->rev)
        ret = errf(e, STORE_EFUTURE, "watch %s from %" PRId64 ": the store is at revision %" PRId64,
                   prefix, from, q->rev);
    else if (from < q->compact_rev)
        ret = errf(e, STORE_ECOMPACTED,
                   "watch %s from %" PRId64 ": too old (history starts at %" PRId64 ")", prefix,
                   from, q->compact_rev);
    else if (from == q->rev || (ret = replay(q, w, from, q->rev, e)) == 0)
        store__hub_add(q->base.hub, w);
    pthread_mutex_unlock(&q->pub_mu);
    return ret;
}

/* --- the committer --- */

static void reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Applies one write inside the open transaction. Returns 0 (r->out set, wrev
 * advanced), 1 when the write is refused (r->err set, nothing written), or -1
 * on an SQLite failure (the batch must roll back). */
static int apply(struct sq *q, struct req *r)
{
    static const char *const what[] = {"create", "update", "delete"};
    const struct store__op *op = r->op;
    sqlite3_stmt *cur = q->w[W_CUR];
    /* The key's current version: this batch's, else the cache's, else SQLite's. */
    union map_val *bv = map_get(&q->batch, op->key, op->key_len);
    const struct store_kv *known = bv ? bv->ptr : NULL;
    /* The cache is looked at under c_mu, with a reference held while its
     * version is used: gets put what they read there too, and may drop it. */
    struct store_kv *held = NULL;
    if (!known) {
        pthread_mutex_lock(&q->c_mu);
        held = recent_find(&q->recent, op->key, op->key_len);
        if (held)
            store_kv_ref(held);
        pthread_mutex_unlock(&q->c_mu);
        known = held;
    }
    int rc;
    bool exists;
    if (known) {
        exists = known->type != STORE_DELETED;
    } else {
        sqlite3_bind_text(cur, 1, op->key, (int)op->key_len, SQLITE_STATIC);
        rc = sqlite3_step(cur);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            goto sqlfail;
        exists = rc == SQLITE_ROW;
    }
    int64_t cur_rev = !exists ? 0 : known ? known->mod_rev : sqlite3_column_int64(cur, 0);
    int64_t create = !exists ? 0 : known ? known->create_rev : sqlite3_column_int64(cur, 1);
    int64_t rev = q->wrev + 1;
    struct store_kv *kv;
    if (op->kind == STORE__CREATE) {
        if (exists) {
            reset(cur);
            store_kv_unref(held);
            errf(&r->err, STORE_EEXISTS, "create %s: already exists", op->key);
            return 1;
        }
        kv = store__kv_new(op->key, op->key_len, op->value, op->value_len, rev, rev, STORE_ADDED);
    } else {
        if (!exists) {
            reset(cur);
            store_kv_unref(held);
            errf(&r->err, STORE_ENOTFOUND, "%s %s: not found", what[op->kind], op->key);
            return 1;
        }
        if (op->expect_rev && op->expect_rev != cur_rev) {
            reset(cur);
            store_kv_unref(held);
            errf(&r->err, STORE_ECONFLICT,
                 "%s %s: the object has been modified (revision %" PRId64 ", expected %" PRId64 ")",
                 what[op->kind], op->key, cur_rev, op->expect_rev);
            return 1;
        }
        if (op->kind == STORE__UPDATE)
            kv = store__kv_new(op->key, op->key_len, op->value, op->value_len, create, rev,
                               STORE_MODIFIED);
        else if (known)
            kv = store__kv_new(op->key, op->key_len, known->value, known->value_len, create, rev,
                               STORE_DELETED);
        else
            kv = store__kv_new(op->key, op->key_len, sqlite3_column_blob(cur, 2),
                               (size_t)sqlite3_column_bytes(cur, 2), create, rev, STORE_DELETED);
    }
    reset(cur);
    store_kv_unref(held);
    held = NULL;

    sqlite3_stmt *ins = q->w[W_INSERT];
    sqlite3_bind_int64(ins, 1, rev);
    sqlite3_bind_text(ins, 2, kv->key, (int)kv->key_len, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 3, kv->value, (int)kv->value_len, SQLITE_STATIC); /* never NULL */
    sqlite3_bind_int64(ins, 4, kv->create_rev);
    sqlite3_bind_int(ins, 5, kv->type == STORE_DELETED);
    rc = sqlite3_step(ins);
    reset(ins);
    sqlite3_stmt *lt = q->w[kv->type == STORE_DELETED ? W_DEL_LATEST : W_SET_LATEST];
    if (rc == SQLITE_DONE) {
        sqlite3_bind_text(lt, 1, kv->key, (int)kv->key_len, SQLITE_STATIC);
        if (kv->type != STORE_DELETED)
            sqlite3_bind_int64(lt, 2, rev);
        rc = sqlite3_step(lt);
        reset(lt);
    }
    if (rc != SQLITE_DONE) {
        store_kv_unref(kv);
        goto sqlfail;
    }
    q->wrev = rev;
    r->out = kv;
    bool found;
    map_put(&q->batch, kv->key, kv->key_len, &found)->ptr = kv; /* r->out's reference */
    return 0;
sqlfail:
    reset(cur);
    store_kv_unref(held);
    errf(&r->err, STORE_EIO, "%s %s: sqlite: %s", what[op->kind], op->key, sqlite3_errmsg(q->wdb));
    return -1;
}

static int compact_in_tx(struct sq *q, struct req *r)
{
    if (r->compact_rev <= q->wcompact)
        return 0;
    /* Published before the rows go, so that no watch or list can start from a
     * revision whose rows this deletes. */
    pthread_mutex_lock(&q->pub_mu);
    q->compact_rev = r->compact_rev;
    pthread_mutex_unlock(&q->pub_mu);
    sqlite3_stmt *st = q->w[W_COMPACT];
    sqlite3_bind_int64(st, 1, r->compact_rev);
    int rc = sqlite3_step(st);
    reset(st);
    if (rc != SQLITE_DONE) {
        errf(&r->err, STORE_EIO, "compact at %" PRId64 ": sqlite: %s", r->compact_rev,
             sqlite3_errmsg(q->wdb));
        return -1;
    }
    q->wcompact = r->compact_rev;
    return 0;
}

static int step_done(struct sq *q, int which)
{
    int rc = sqlite3_step(q->w[which]);
    sqlite3_reset(q->w[which]);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs one batch (a list of requests in arrival order) as one transaction. */
static void commit_batch(struct sq *q, struct req *batch)
{
    int64_t rev0 = q->wrev, compact0 = q->wcompact;
    map_release(&q->batch);
    map_init(&q->batch, MAP_KEY_STR);
    bool failed = step_done(q, W_BEGIN) != 0;
    int nwrites = 0;
    for (struct req *r = batch; r && !failed; r = r->next) {
        int rc = r->op ? apply(q, r) : compact_in_tx(q, r);
        r->rc = rc ? -1 : 0;
        failed = rc < 0;
        nwrites += r->op && rc == 0;
    }
    if (!failed && q->wrev == rev0 && q->wcompact == compact0) {
        /* Every request was refused (or a no-op): nothing to make durable. */
        step_done(q, W_ROLLBACK);
        return;
    }
    if (!failed) {
        sqlite3_stmt *m = q->w[W_META];
        sqlite3_bind_int64(m, 1, q->wrev);
        sqlite3_bind_int64(m, 2, q->wcompact);
        failed = step_done(q, W_META) || step_done(q, W_COMMIT);
    }
    if (failed) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(q->wdb));
        if (!sqlite3_get_autocommit(q->wdb))
            step_done(q, W_ROLLBACK);
        log_error("store: sqlite commit of %d writes failed: %s", nwrites, msg);
        q->wrev = rev0;
        q->wcompact = compact0;
        for (struct req *r = batch; r; r = r->next) {
            store_kv_unref(r->out);
            r->out = NULL;
            r->rc = errf(&r->err, STORE_EIO, "%s %s: not committed: %s",
                         r->op ? "write" : "compact", r->op ? r->op->key : "", msg);
        }
        /* The compaction published early did not happen; the counter is
         * restored (watches refused meanwhile were refused needlessly). */
        pthread_mutex_lock(&q->pub_mu);
        q->compact_rev = compact0;
        pthread_mutex_unlock(&q->pub_mu);
        return;
    }
    pthread_mutex_lock(&q->c_mu);
    for (struct req *r = batch; r; r = r->next)
        if (r->out)
            recent_put(&q->recent, r->out);
    q->recent.batches++;
    pthread_mutex_unlock(&q->c_mu);
    atomic_store(&q->committed, q->wrev);
    /* The batch's versions go to the watchers together: one wake per watcher
     * per batch, not one per write. */
    size_t npub = 0;
    for (struct req *r = batch; r; r = r->next)
        if (r->out) {
            if (npub == q->pubcap) {
                q->pubcap = q->pubcap ? 2 * q->pubcap : 64;
                q->pubv = xreallocarray(q->pubv, q->pubcap, sizeof *q->pubv);
            }
            q->pubv[npub++] = r->out;
        }
    pthread_mutex_lock(&q->pub_mu);
    store__hub_publish_batch(q->base.hub, q->pubv, npub);
    q->rev = q->wrev;
    q->writes += nwrites;
    q->commits++;
    pthread_cond_broadcast(&q->pub_cv);
    pthread_mutex_unlock(&q->pub_mu);
}

static void *committer_main(void *arg)
{
    struct sq *q = arg;
    pthread_mutex_lock(&q->q_mu);
    for (;;) {
        while (!q->q_head && !q->stopping)
            pthread_cond_wait(&q->q_cv, &q->q_mu);
        if (!q->q_head)
            break;
        struct req *batch = q->q_head, *last = batch;
        for (int n = 1; n < q->max_batch && last->next; n++)
            last = last->next;
        q->q_head = last->next;
        if (!q->q_head)
            q->q_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q->q_mu);

        commit_batch(q, batch);

        /* Each waiter is woken on its own word, without q_mu: a woken writer
         * does not then queue for the lock the committer holds, and the
         * committer does not wait for the woken. */
        for (struct req *r = batch, *next; r; r = next) {
            next = r->next; /* r may vanish once done is seen */
            atomic_store_explicit(&r->done, 1, memory_order_release);
            /* Safe on a word that is gone: a stray wake is one more spurious
             * wakeup, which every futex waiter tolerates. */
            syscall(SYS_futex, &r->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        pthread_mutex_lock(&q->q_mu);
    }
    pthread_mutex_unlock(&q->q_mu);
    return NULL;
}

/* Queues r and waits for the committer to finish it. */
static void submit(struct sq *q, struct req *r)
{
    atomic_init(&r->done, 0);
    pthread_mutex_lock(&q->q_mu);
    if (q->q_tail)
        q->q_tail->next = r;
    else
        q->q_head = r;
    q->q_tail = r;
    pthread_cond_signal(&q->q_cv);
    pthread_mutex_unlock(&q->q_mu);
    while (!atomic_load_explicit(&r->done, memory_order_acquire))
        syscall(SYS_futex, &r->done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static int sq_write(struct store *s, const struct store__op *op, struct store_kv **out,
                    struct err *e)
{
    struct req r = {.op = op};
    submit((struct sq *)s, &r);
    if (r.rc) {
        if (e)
            *e = r.err;
        return -1;
    }
    *out = r.out;
    return 0;
}

static int sq_compact(struct store *s, int64_t rev, struct err *e)
{
    struct req r = {.compact_rev = rev};
    submit((struct sq *)s, &r);
    if (r.rc) {
        if (e)
            *e = r.err;
        return -1;
    }
    return 0;
}

static int64_t sq_rev(struct store *s)
{
    struct sq *q = (struct sq *)s;
    pthread_mutex_lock(&q->pub_mu);
    int64_t r = q->rev;
    pthread_mutex_unlock(&q->pub_mu);
    return r;
}

static int64_t sq_compacted_rev(struct store *s)
{
    struct sq *q = (struct sq *)s;
    pthread_mutex_lock(&q->pub_mu);
    int64_t r = q->compact_rev;
    pthread_mutex_unlock(&q->pub_mu);
    return r;
}

static void sq_stats(struct store *s, struct store_stats *st)
{
    struct sq *q = (struct sq *)s;
    pthread_mutex_lock(&q->pub_mu);
    st->rev = q->rev;
    st->compact_rev = q->compact_rev;
    st->writes = q->writes;
    st->commits = q->commits;
    pthread_mutex_unlock(&q->pub_mu);
}

/* Frees whatever open got to; also the tail of a failed open. */
static void sq_free(struct sq *q)
{
    for (int i = 0; i < q->nreaders; i++) {
        for (int j = 0; j < R_NSTMT; j++)
            sqlite3_finalize(q->readers[i].st[j]);
        sqlite3_close(q->readers[i].db);
    }
    free(q->readers);
    free(q->free_readers);
    for (int j = 0; j < W_NSTMT; j++)
        sqlite3_finalize(q->w[j]);
    sqlite3_close(q->wdb);
    if (q->lock_fd >= 0)
        close(q->lock_fd);
    pthread_mutex_destroy(&q->q_mu);
    pthread_cond_destroy(&q->q_cv);
    pthread_mutex_destroy(&q->pub_mu);
    pthread_cond_destroy(&q->pub_cv);
    pthread_mutex_destroy(&q->r_mu);
    pthread_cond_destroy(&q->r_cv);
    recent_release(&q->recent.gen[0]);
    recent_release(&q->recent.gen[1]);
    map_release(&q->batch);
    pthread_mutex_destroy(&q->c_mu);
    free(q->pubv);
    free(q->path);
    free(q);
}

static void sq_close(struct store *s)
{
    struct sq *q = (struct sq *)s;
    pthread_mutex_lock(&q->q_mu);
    q->stopping = true;
    pthread_cond_signal(&q->q_cv);
    pthread_mutex_unlock(&q->q_mu);
    pthread_join(q->committer, NULL);
    sq_free(q);
}

static const struct store__ops sq_ops = {
    .name = "sqlite",
    .get = sq_get,
    .list = sq_list,
    .write = sq_write,
    .watch = sq_watch,
    .compact = sq_compact,
    .rev = sq_rev,
    .compacted_rev = sq_compacted_rev,
    .stats = sq_stats,
    .close = sq_close,
};

static int prepare(sqlite3 *db, const char *const *sql, sqlite3_stmt **st, int n, struct err *e)
{
    for (int i = 0; i < n; i++)
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
            SQLITE_OK)
            return errf(e, STORE_EIO, "prepare \"%.60s\": sqlite: %s", sql[i], sqlite3_errmsg(db));
    return 0;
}

struct store *store_open_sqlite(const char *dir, const struct store_sqlite_opts *o, struct err *e)
{
    static const struct store_sqlite_opts none;
    if (!o)
        o = &none;
    struct sq *q = xcalloc(1, sizeof *q);
    q->lock_fd = -1;
    q->max_batch = o->max_batch > 0 ? o->max_batch : SQ_DEFAULT_BATCH;
    pthread_mutex_init(&q->q_mu, NULL);
    pthread_cond_init(&q->q_cv, NULL);
    pthread_mutex_init(&q->pub_mu, NULL);
    pthread_mutex_init(&q->c_mu, NULL);
    map_init(&q->recent.gen[0], MAP_KEY_STR);
    map_init(&q->recent.gen[1], MAP_KEY_STR);
    map_init(&q->batch, MAP_KEY_STR);
    pthread_cond_init(&q->pub_cv, NULL);
    pthread_mutex_init(&q->r_mu, NULL);
    pthread_cond_init(&q->r_cv, NULL);

    size_t n = strlen(dir) + 16;
    char *lockpath = xmalloc(n);
    snprintf(lockpath, n, "%s/store.lock", dir);
    q->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int lerr = errno;
    free(lockpath);
    if (q->lock_fd < 0) {
        errf(e, lerr == ENOENT ? STORE_EINVAL : STORE_EIO, "open store in %s: %s", dir,
             strerror(lerr));
        goto fail;
    }
    if (flock(q->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        errf(e, STORE_EBUSY, "open store in %s: in use by another process", dir);
        goto fail;
    }
    q->path = xmalloc(n);
    snprintf(q->path, n, "%s/store.db", dir);

    if (open_db(q->path, &q->wdb, e))
        goto fail;
    /* WAL first (it is persistent in the file); then the sync level, which is
     * per connection. See docs/internals/store.md, "Durability". */
    const char *sync = o->sync == STORE_SQLITE_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL;"
                                                           : "PRAGMA synchronous = FULL;";
    if (exec(q->wdb, "PRAGMA journal_mode = WAL;", q->path, e) || exec(q->wdb, sync, q->path, e) ||
        exec(q->wdb, "BEGIN IMMEDIATE;", q->path, e) || exec(q->wdb, schema_sql, q->path, e) ||
        exec(q->wdb, "COMMIT;", q->path, e))
        goto fail;
    if (prepare(q->wdb, write_sql, q->w, W_NSTMT, e))
        goto fail;

    q->nreaders = o->readers > 0 ? o->readers : SQ_DEFAULT_READERS;
    q->readers = xcalloc((size_t)q->nreaders, sizeof *q->readers);
    q->free_readers = xcalloc((size_t)q->nreaders, sizeof *q->free_readers);
    for (int i = 0; i < q->nreaders; i++) {
        struct rconn *c = &q->readers[i];
        if (open_db(q->path, &c->db, e) || exec(c->db, "PRAGMA query_only = 1;", q->path, e) ||
            prepare(c->db, read_sql, c->st, R_NSTMT, e))
            goto fail;
        q->free_readers[q->nfree++] = i;
    }

    struct rconn *c = &q->readers[0];
    if (sqlite3_step(c->st[R_META]) != SQLITE_ROW) {
        sq_fail(e, c->db, "open", q->path);
        goto fail;
    }
    q->rev = q->wrev = sqlite3_column_int64(c->st[R_META], 0);
    q->compact_rev = q->wcompact = sqlite3_column_int64(c->st[R_META], 1);
    atomic_store(&q->committed, q->rev);
    sqlite3_reset(c->st[R_META]);

    q->base.ops = &sq_ops;
    q->base.hub = store__hub_create();
    int prc = pthread_create(&q->committer, NULL, committer_main, q);
    if (prc) {
        errf(e, STORE_EIO, "open %s: cannot start the committer thread: %s", q->path,
             strerror(prc));
        store__hub_close(q->base.hub);
        goto fail;
    }
    return &q->base;
fail:
    sq_free(q);
    return NULL;
}

int store_sqlite_check(struct store *s, struct err *e)
{
    if (s->ops != &sq_ops)
        return errf(e, STORE_EINVAL, "integrity check: the %s backend is not SQLite", s->ops->name);
    struct sq *q = (struct sq *)s;
    struct rconn *c = reader_get(q);
    sqlite3_stmt *st = NULL;
    int ret = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        ret = sq_fail(e, c->db, "integrity check", q->path);
    } else {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        if (!res || strcmp(res, "ok") != 0)
            ret = errf(e, STORE_EIO, "integrity check %s: %s", q->path, res ? res : "(null)");
    }
    sqlite3_finalize(st);
    reader_put(q, c);
    return ret;
}
