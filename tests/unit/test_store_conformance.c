/* The store conformance suite: one table of cases, run against every backend
 * (memory; SQLite in a fresh directory under $TMPDIR; etcd: a real etcd server
 * started per case on free 127.0.0.1 ports with a fresh data directory, and
 * restarted on the same directory by reopen). A case that needs persistence
 * (restart) is skipped for backends without it; the etcd cases are skipped, with
 * a message, when /usr/bin/etcd is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ETCD_BIN "/usr/bin/etcd"

#include "store/store.h"

struct fixture;

struct backend {
    const char *name;
    bool persistent;
    struct store *(*open)(struct fixture *f);
    bool (*available)(void); /* NULL: always */
};

struct conformance_case;

/* What each cmocka test is given: one backend, one case. */
struct param {
    const struct backend *b;
    const struct conformance_case *c;
};

struct fixture {
    const struct backend *b;
    const struct conformance_case *c;
    char dir[PATH_MAX];
    struct store *s;
    struct store_mem_opts mem;
    struct store_sqlite_opts sq;
    pid_t etcd; /* the etcd server of this case, or 0 */
    int client_port, peer_port;
};

static struct store *open_mem(struct fixture *f)
{
    return store_open_mem(&f->mem);
}

static struct store *open_sqlite(struct fixture *f)
{
    struct err e = {0};
    struct store *s = store_open_sqlite(f->dir, &f->sq, &e);
    if (!s)
        fail_msg("open sqlite store in %s: %s", f->dir, e.msg);
    return s;
}

/* --- a real etcd --- */

static bool etcd_available(void)
{
    return access(ETCD_BIN, X_OK) == 0;
}

/* A port the kernel says is free now (bound to port 0, then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void etcd_stop(struct fixture *f)
{
    if (f->etcd <= 0)
        return;
    kill(f->etcd, SIGKILL);
    waitpid(f->etcd, NULL, 0);
    f->etcd = 0;
}

/* Opens a store on the etcd of f through port (the etcd's, or a proxy's),
 * retrying for 10 s while etcd starts. */
static struct store *etcd_connect(struct fixture *f, int port, const char *log)
{
    char client[64];
    snprintf(client, sizeof client, "http://127.0.0.1:%d", port);
    struct store_etcd_opts o = {.timeout_ms = 5000};
    struct err e = {0};
    for (int i = 0; i < 200; i++) { /* 10 s */
        struct store *s = store_open_etcd(client, "/muster", &o, &e);
        if (s)
            return s;
        if (f->etcd > 0 && waitpid(f->etcd, NULL, WNOHANG) == f->etcd) {
            f->etcd = 0;
            fail_msg("etcd exited at start; see %s", log);
        }
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    fail_msg("etcd at %s not ready in 10 s: %s", client, e.msg);
    return NULL;
}

/* Starts etcd on f->dir/etcd and waits until a store can open on it. */
static struct store *open_etcd(struct fixture *f)
{
    etcd_stop(f); /* reopen: restart etcd on the same data directory */
    if (!f->client_port) {
        f->client_port = free_port();
        do
            f->peer_port = free_port();
        while (f->peer_port == f->client_port);
    }
    char data[PATH_MAX + 8], client[64], peer[64], cluster[96], log[PATH_MAX + 16];
    snprintf(data, sizeof data, "%s/etcd", f->dir);
    snprintf(log, sizeof log, "%s/etcd.log", f->dir);
    snprintf(client, sizeof client, "http://127.0.0.1:%d", f->client_port);
    snprintf(peer, sizeof peer, "http://127.0.0.1:%d", f->peer_port);
    snprintf(cluster, sizeof cluster, "default=%s", peer);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
        FILE *l = freopen(log, "a", stderr);
        (void)l;
        dup2(2, 1);
        execl(ETCD_BIN, "etcd", "--name", "default", "--data-dir", data, "--listen-client-urls",
              client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
              "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
              "--max-request-bytes", "4194304", "--log-level", "warn", (char *)NULL);
        _exit(127);
    }
    f->etcd = pid;
    return etcd_connect(f, f->client_port, log);
}

static const struct backend backends[] = {
    {"memory", false, open_mem, NULL},
    {"sqlite", true, open_sqlite, NULL},
    {"etcd", true, open_etcd, etcd_available},
};

static void make_tmpdir(char *dir, size_t n)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, n, "%s/muster-store-XXXXXX", t && *t ? t : P_tmpdir);
    assert_non_null(mkdtemp(dir));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes dir and everything under it (etcd makes subdirectories). */
static void remove_tmpdir(const char *dir)
{
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const struct param *p = *state;
    f->b = p->b;
    f->c = p->c;
    /* The SQLite store runs with NORMAL sync in the suite: the same code paths,
     * without an fsync per commit (the crash test uses the default). */
    f->sq.sync = STORE_SQLITE_SYNC_NORMAL;
    make_tmpdir(f->dir, sizeof f->dir);
    *state = f;
    if (f->b->available && !f->b->available())
        return 0; /* run_case skips */
    f->s = f->b->open(f);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    etcd_stop(f);
    remove_tmpdir(f->dir);
    free(f);
    return 0;
}

/* Reopens the store with the options now in f. */
static void reopen(struct fixture *f)
{
    store_close(f->s);
    f->s = f->b->open(f);
}

/* --- helpers --- */

static int64_t create(struct store *s, const char *key, const char *val)
{
    struct err e = {0};
    struct store_kv *kv = NULL;
    if (store_create(s, key, val, strlen(val), &kv, &e))
        fail_msg("create %s: %s", key, e.msg);
    assert_string_equal(kv->key, key);
    assert_string_equal(kv->value, val);
    assert_int_equal(kv->type, STORE_ADDED);
    assert_int_equal(kv->create_rev, kv->mod_rev);
    int64_t rev = kv->mod_rev;
    store_kv_unref(kv);
    return rev;
}

static int64_t update(struct store *s, const char *key, const char *val, int64_t expect)
{
    struct err e = {0};
    struct store_kv *kv = NULL;
    if (store_update(s, key, val, strlen(val), expect, &kv, &e))
        fail_msg("update %s: %s", key, e.msg);
    int64_t rev = kv->mod_rev;
    store_kv_unref(kv);
    return rev;
}

static int64_t delete (struct store *s, const char *key)
{
    struct err e = {0};
    struct store_kv *kv = NULL;
    if (store_delete(s, key, 0, &kv, &e))
        fail_msg("delete %s: %s", key, e.msg);
    int64_t rev = kv->mod_rev;
    store_kv_unref(kv);
    return rev;
}

/* Asserts key's latest value (NULL: absent) and returns its mod_rev. */
static int64_t get_is(struct store *s, const char *key, const char *val)
{
    struct err e = {0};
    struct store_kv *kv = NULL;
    int rc = store_get(s, key, &kv, &e);
    if (!val) {
        assert_int_equal(rc, -1);
        assert_int_equal(e.code, STORE_ENOTFOUND);
        assert_non_null(strstr(e.msg, key));
        return 0;
    }
    if (rc)
        fail_msg("get %s: %s", key, e.msg);
    assert_string_equal(kv->value, val);
    int64_t rev = kv->mod_rev;
    store_kv_unref(kv);
    return rev;
}

static void next_is(struct store_watch *w, enum store_event_type type, const char *key,
                    const char *val, int64_t rev)
{
    struct err e = {0};
    struct store_kv *ev = NULL;
    int rc = store_watch_next(w, 2000 * 1000 * 1000LL, &ev, &e);
    if (rc != 1)
        fail_msg("watch: expected %s at %lld, got rc %d (%s)", key, (long long)rev, rc, e.msg);
    assert_int_equal(ev->type, type);
    assert_string_equal(ev->key, key);
    assert_string_equal(ev->value, val);
    assert_int_equal(ev->mod_rev, rev);
    store_kv_unref(ev);
}

static void next_none(struct store_watch *w)
{
    struct store_kv *ev = NULL;
    assert_int_equal(store_watch_next(w, 0, &ev, NULL), 0);
}

/* --- cases --- */

static void case_crud_cas(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    struct store_kv *kv = NULL;
    assert_int_equal(store_rev(s), 0);
    int64_t r1 = create(s, "/registry/pods/ns/a", "{\"v\":1}");
    assert_int_equal(r1, 1);
    assert_int_equal(store_rev(s), 1);

    /* create-exists takes no revision */
    assert_int_equal(store_create(s, "/registry/pods/ns/a", "x", 1, NULL, &e), -1);
    assert_int_equal(e.code, STORE_EEXISTS);
    assert_non_null(strstr(e.msg, "/registry/pods/ns/a"));
    assert_int_equal(store_rev(s), 1);

    /* CAS conflict, then success */
    assert_int_equal(store_update(s, "/registry/pods/ns/a", "y", 1, 7, NULL, &e), -1);
    assert_int_equal(e.code, STORE_ECONFLICT);
    assert_non_null(strstr(e.msg, "/registry/pods/ns/a"));
    int64_t r2 = update(s, "/registry/pods/ns/a", "{\"v\":2}", r1);
    assert_int_equal(r2, 2);
    int64_t r3 = update(s, "/registry/pods/ns/a", "{\"v\":3}", 0);
    assert_int_equal(r3, 3);
    assert_int_equal(store_get(s, "/registry/pods/ns/a", &kv, &e), 0);
    assert_int_equal(kv->create_rev, 1);
    assert_int_equal(kv->mod_rev, 3);
    assert_int_equal(kv->value_len, 7);
    store_kv_unref(kv);

    /* delete with a stale revision, then for real: the deletion carries the last value */
    assert_int_equal(store_delete(s, "/registry/pods/ns/a", r2, NULL, &e), -1);
    assert_int_equal(e.code, STORE_ECONFLICT);
    assert_int_equal(store_delete(s, "/registry/pods/ns/a", r3, &kv, &e), 0);
    assert_int_equal(kv->type, STORE_DELETED);
    assert_int_equal(kv->mod_rev, 4);
    assert_int_equal(kv->create_rev, 1);
    assert_string_equal(kv->value, "{\"v\":3}");
    store_kv_unref(kv);
    get_is(s, "/registry/pods/ns/a", NULL);

    /* delete-missing and update-missing */
    assert_int_equal(store_delete(s, "/registry/pods/ns/a", 0, NULL, &e), -1);
    assert_int_equal(e.code, STORE_ENOTFOUND);
    assert_int_equal(store_update(s, "/registry/pods/ns/nope", "z", 1, 0, NULL, &e), -1);
    assert_int_equal(e.code, STORE_ENOTFOUND);
    assert_non_null(strstr(e.msg, "/registry/pods/ns/nope"));
    assert_int_equal(store_rev(s), 4);

    /* re-created: a new create_rev */
    assert_int_equal(create(s, "/registry/pods/ns/a", "again"), 5);
    assert_int_equal(store_get(s, "/registry/pods/ns/a", &kv, &e), 0);
    assert_int_equal(kv->create_rev, 5);
    store_kv_unref(kv);

    /* an empty value is a value */
    assert_int_equal(create(s, "/registry/x/empty", ""), 6);
    get_is(s, "/registry/x/empty", "");
}

static void case_bad_args(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    struct store_kv *kv = NULL;
    const char *bad_keys[] = {"", "/", "registry/x", "/registry/x/"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++) {
        assert_int_equal(store_create(s, bad_keys[i], "v", 1, NULL, &e), -1);
        assert_int_equal(e.code, STORE_EINVAL);
        assert_int_equal(store_get(s, bad_keys[i], &kv, &e), -1);
        assert_int_equal(e.code, STORE_EINVAL);
    }
    char *big = calloc(1, STORE_VALUE_MAX + 2);
    memset(big, 'x', STORE_VALUE_MAX + 1);
    assert_int_equal(store_create(s, "/k/big", big, STORE_VALUE_MAX + 1, NULL, &e), -1);
    assert_int_equal(e.code, STORE_ETOOBIG);
    free(big);
    char longkey[STORE_KEY_MAX + 10];
    memset(longkey, 'k', sizeof longkey);
    longkey[0] = '/';
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(store_create(s, longkey, "v", 1, NULL, &e), -1);
    assert_int_equal(e.code, STORE_EINVAL);
    assert_int_equal(store_rev(s), 0);

    struct store_list l;
    struct store_list_opts o = {.limit = 1, .cont = "garbage"};
    assert_int_equal(store_list(s, "/k/", &o, &l, &e), -1);
    assert_int_equal(e.code, STORE_EINVAL);
    store_list_release(&l);
    assert_int_equal(store_list(s, "k", NULL, &l, &e), -1);
    assert_int_equal(e.code, STORE_EINVAL);
    store_list_release(&l);

    /* a token is only good for its prefix */
    create(s, "/k/a", "1");
    create(s, "/k/b", "2");
    o.cont = NULL;
    assert_int_equal(store_list(s, "/k/", &o, &l, &e), 0);
    assert_non_null(l.cont);
    struct store_list l2;
    struct store_list_opts o2 = {.limit = 1, .cont = l.cont};
    assert_int_equal(store_list(s, "/j/", &o2, &l2, &e), -1);
    assert_int_equal(e.code, STORE_EINVAL);
    store_list_release(&l2);
    store_list_release(&l);

    /* future revisions */
    o = (struct store_list_opts){.rev = 99};
    assert_int_equal(store_list(s, "/k/", &o, &l, &e), -1);
    assert_int_equal(e.code, STORE_EFUTURE);
    store_list_release(&l);
    assert_null(store_watch(s, "/k/", 99, NULL, &e));
    assert_int_equal(e.code, STORE_EFUTURE);
    assert_int_equal(store_compact(s, 99, &e), -1);
    assert_int_equal(e.code, STORE_EFUTURE);
}

enum { NPAGED = 237 };

static void paged_key(char *buf, size_t n, int i)
{
    snprintf(buf, n, "/registry/pods/ns/p%04d", i);
}

static void case_list_paging(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    char key[64];
    /* neighbours that a prefix must not pick up */
    create(s, "/registry/pods/ns", "not under the prefix");
    create(s, "/registry/pods/nt/x", "other namespace");
    for (int i = NPAGED - 1; i >= 0; i--) {
        paged_key(key, sizeof key, i);
        create(s, key, key);
    }
    create(s, "/registry/pods/ns0/x", "shares the bytes but not the slash");

    /* page through with limit 10, changing the store between pages: the pages
     * show the store as it was at the first page's revision */
    int64_t list_rev = 0;
    int seen = 0, pages = 0;
    char *cont = NULL;
    do {
        struct store_list l;
        struct store_list_opts o = {.limit = 10, .cont = cont};
        if (store_list(s, "/registry/pods/ns/", &o, &l, &e))
            fail_msg("list page %d: %s", pages, e.msg);
        if (!pages)
            list_rev = l.rev;
        assert_int_equal(l.rev, list_rev);
        for (size_t i = 0; i < l.len; i++) {
            paged_key(key, sizeof key, seen);
            assert_string_equal(l.items[i]->key, key);
            assert_string_equal(l.items[i]->value, key);
            seen++;
        }
        assert_true(l.len == 10 || !l.cont);
        free(cont);
        cont = l.cont ? strdup(l.cont) : NULL;
        store_list_release(&l);
        pages++;
        /* churn: these must not show in later pages */
        paged_key(key, sizeof key, seen + 3 < NPAGED ? seen + 3 : 0);
        if (pages % 3 == 0)
            delete (s, key);
        else
            update(s, key, "changed", 0);
        snprintf(key, sizeof key, "/registry/pods/ns/p%04dz", seen);
        create(s, key, "new");
    } while (cont);
    assert_int_equal(seen, NPAGED);
    assert_int_equal(pages, (NPAGED + 9) / 10);

    /* the whole prefix at the latest revision, no limit */
    struct store_list l;
    assert_int_equal(store_list(s, "/registry/pods/ns/", NULL, &l, &e), 0);
    assert_int_equal(l.rev, store_rev(s));
    assert_null(l.cont);
    for (size_t i = 1; i < l.len; i++)
        assert_true(strcmp(l.items[i - 1]->key, l.items[i]->key) < 0);
    size_t n = l.len;
    store_list_release(&l);
    assert_int_equal(n, NPAGED - pages / 3 + pages);

    /* "/" lists everything; an exact limit leaves no continue token behind */
    assert_int_equal(store_list(s, "/", NULL, &l, &e), 0);
    assert_int_equal(l.len, n + 3);
    store_list_release(&l);
    struct store_list_opts o = {.limit = n};
    assert_int_equal(store_list(s, "/registry/pods/ns/", &o, &l, &e), 0);
    assert_int_equal(l.len, n);
    assert_null(l.cont);
    store_list_release(&l);
}

static void case_list_at_old_rev(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    create(s, "/r/a", "a1");
    create(s, "/r/b", "b1");
    int64_t r = create(s, "/r/c", "c1");
    update(s, "/r/a", "a2", 0);
    delete (s, "/r/b");
    create(s, "/r/d", "d1");
    create(s, "/r/b", "b2");

    struct store_list l;
    struct store_list_opts o = {.rev = r};
    assert_int_equal(store_list(s, "/r/", &o, &l, &e), 0);
    assert_int_equal(l.rev, r);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0]->value, "a1");
    assert_string_equal(l.items[1]->value, "b1");
    assert_string_equal(l.items[2]->value, "c1");
    assert_int_equal(l.items[1]->mod_rev, 2);
    store_list_release(&l);

    /* between the delete and the re-create, b is absent */
    o.rev = r + 3;
    assert_int_equal(store_list(s, "/r/", &o, &l, &e), 0);
    assert_int_equal(l.len, 3);
    assert_string_equal(l.items[0]->value, "a2");
    assert_string_equal(l.items[1]->value, "c1");
    assert_string_equal(l.items[2]->value, "d1");
    store_list_release(&l);

    /* paging at an old revision */
    o = (struct store_list_opts){.rev = r, .limit = 2};
    assert_int_equal(store_list(s, "/r/", &o, &l, &e), 0);
    assert_int_equal(l.len, 2);
    assert_non_null(l.cont);
    struct store_list l2;
    struct store_list_opts o2 = {.limit = 2, .cont = l.cont};
    assert_int_equal(store_list(s, "/r/", &o2, &l2, &e), 0);
    assert_int_equal(l2.rev, r);
    assert_int_equal(l2.len, 1);
    assert_string_equal(l2.items[0]->value, "c1");
    assert_null(l2.cont);
    store_list_release(&l2);
    store_list_release(&l);

    assert_int_equal(store_list(s, "/r/", NULL, &l, &e), 0);
    assert_int_equal(l.len, 4);
    assert_string_equal(l.items[1]->value, "b2");
    store_list_release(&l);
}

static void case_watch_from_past(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    create(s, "/w/a", "a1");              /* 1 */
    int64_t r0 = create(s, "/w/b", "b1"); /* 2 */
    update(s, "/w/a", "a2", 0);           /* 3 */
    create(s, "/other/x", "x");           /* 4 */
    delete (s, "/w/b");                   /* 5 */
    create(s, "/w/c", "c1");              /* 6 */

    struct store_watch *w = store_watch(s, "/w/", r0, NULL, &e);
    if (!w)
        fail_msg("watch: %s", e.msg);
    next_is(w, STORE_MODIFIED, "/w/a", "a2", 3);
    next_is(w, STORE_DELETED, "/w/b", "b1", 5);
    next_is(w, STORE_ADDED, "/w/c", "c1", 6);
    next_none(w);

    /* live events follow the history without a gap */
    update(s, "/w/c", "c2", 0);
    create(s, "/other/y", "y");
    create(s, "/w/d", "d1");
    next_is(w, STORE_MODIFIED, "/w/c", "c2", 7);
    next_is(w, STORE_ADDED, "/w/d", "d1", 9);
    next_none(w);

    /* from 0: only what comes next */
    struct store_watch *now = store_watch(s, "/", 0, NULL, &e);
    assert_non_null(now);
    next_none(now);
    delete (s, "/w/a");
    next_is(now, STORE_DELETED, "/w/a", "a2", 10);
    next_is(w, STORE_DELETED, "/w/a", "a2", 10);

    /* from the current revision: nothing old */
    struct store_watch *cur = store_watch(s, "/w/", store_rev(s), NULL, &e);
    assert_non_null(cur);
    next_none(cur);
    struct store_stats st;
    store_stats(s, &st);
    assert_int_equal(st.watchers, 3);
    store_watch_destroy(cur);
    store_watch_destroy(now);
    store_watch_destroy(w);
    store_stats(s, &st);
    assert_int_equal(st.watchers, 0);
}

/* --- concurrency --- */

enum { NTHREADS = 8, PER_THREAD = 150, INCREMENTS = 40 };

struct writer {
    struct store *s;
    int id;
    int64_t revs[PER_THREAD];
};

static void *writer_main(void *arg)
{
    struct writer *wr = arg;
    char key[64], val[64];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(key, sizeof key, "/c/t%d/k%03d", wr->id, i);
        snprintf(val, sizeof val, "{\"t\":%d,\"i\":%d}", wr->id, i);
        struct store_kv *kv = NULL;
        struct err e = {0};
        if (store_create(wr->s, key, val, strlen(val), &kv, &e))
            fail_msg("create %s: %s", key, e.msg);
        wr->revs[i] = kv->mod_rev;
        store_kv_unref(kv);
    }
    return NULL;
}

/* A counter incremented with get + compare-and-swap, retried on conflict. */
static void *incrementer_main(void *arg)
{
    struct store *s = arg;
    for (int i = 0; i < INCREMENTS; i++) {
        for (;;) {
            struct store_kv *kv = NULL;
            struct err e = {0};
            assert_int_equal(store_get(s, "/c/counter", &kv, &e), 0);
            char val[32];
            snprintf(val, sizeof val, "%ld", strtol(kv->value, NULL, 10) + 1);
            int64_t rev = kv->mod_rev;
            store_kv_unref(kv);
            if (store_update(s, "/c/counter", val, strlen(val), rev, NULL, &e) == 0)
                break;
            assert_int_equal(e.code, STORE_ECONFLICT);
        }
    }
    return NULL;
}

struct watch_reader {
    struct store_watch *w;
    int n;
    int64_t last;
};

/* Takes events as they come (blocking), checking their order. */
static void *watch_reader_main(void *arg)
{
    struct watch_reader *r = arg;
    while (r->n < NTHREADS * PER_THREAD) {
        struct store_kv *ev;
        struct err e = {0};
        int rc = store_watch_next(r->w, 5000LL * 1000 * 1000, &ev, &e);
        if (rc != 1)
            fail_msg("watch reader: rc %d after %d events: %s", rc, r->n, e.msg);
        assert_true(ev->mod_rev > r->last);
        assert_int_equal(ev->type, STORE_ADDED);
        r->last = ev->mod_rev;
        r->n++;
        store_kv_unref(ev);
    }
    return NULL;
}

/* Pages through the writers' keys while they write: every complete pass is in
 * key order, at one revision, and never shrinks. */
static void *lister_main(void *arg)
{
    struct store *s = arg;
    size_t prev = 0;
    for (int pass = 0; pass < 5; pass++) {
        char *cont = NULL, last[64] = "";
        size_t n = 0;
        int64_t rev = 0;
        do {
            struct store_list l;
            struct store_list_opts o = {.limit = 50, .cont = cont};
            struct err e = {0};
            if (store_list(s, "/c/t", &o, &l, &e))
                fail_msg("lister: %s", e.msg);
            if (!rev)
                rev = l.rev;
            assert_int_equal(l.rev, rev);
            for (size_t i = 0; i < l.len; i++) {
                assert_true(strcmp(last, l.items[i]->key) < 0);
                snprintf(last, sizeof last, "%s", l.items[i]->key);
            }
            n += l.len;
            free(cont);
            cont = l.cont ? strdup(l.cont) : NULL;
            store_list_release(&l);
        } while (cont);
        assert_true(n >= prev);
        prev = n;
    }
    return NULL;
}

static void case_concurrent_writers(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    int64_t start = create(s, "/c/counter", "0");
    struct store_watch_opts wo = {.cap = 100000};
    struct store_watch *w = store_watch(s, "/c/t", 0, &wo, &e);
    assert_non_null(w);

    struct writer wr[NTHREADS];
    pthread_t th[NTHREADS], inc[4], reader, lister;
    struct watch_reader wread = {.w = w};
    pthread_create(&reader, NULL, watch_reader_main, &wread);
    pthread_create(&lister, NULL, lister_main, s);
    for (int i = 0; i < NTHREADS; i++) {
        wr[i] = (struct writer){.s = s, .id = i};
        pthread_create(&th[i], NULL, writer_main, &wr[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_create(&inc[i], NULL, incrementer_main, s);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(inc[i], NULL);
    pthread_join(reader, NULL);
    pthread_join(lister, NULL);

    /* every write acknowledged once, with distinct, per-thread increasing revisions */
    int64_t total = NTHREADS * PER_THREAD + 4 * INCREMENTS;
    assert_int_equal(store_rev(s), start + total);
    char *seen = calloc((size_t)(start + total + 1), 1);
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) {
            int64_t r = wr[i].revs[j];
            assert_true(r > start && r <= start + total);
            assert_false(seen[r]);
            seen[r] = 1;
            if (j)
                assert_true(r > wr[i].revs[j - 1]);
        }
    free(seen);
    char want[32];
    snprintf(want, sizeof want, "%d", 4 * INCREMENTS);
    get_is(s, "/c/counter", want);

    /* the watcher saw every create under its prefix, in revision order, and no more */
    assert_int_equal(wread.n, NTHREADS * PER_THREAD);
    next_none(w);
    store_watch_destroy(w);

    struct store_stats st;
    store_stats(s, &st);
    assert_int_equal(st.writes, total + 1);
    if (!strcmp(store_backend(s), "sqlite")) {
        /* group commit: concurrent writes shared transactions */
        print_message("sqlite: %lld writes in %lld transactions\n", (long long)st.writes,
                      (long long)st.commits);
        assert_true(st.commits < st.writes);
    }
}

static void case_slow_watcher(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    struct store_watch_opts wo = {.cap = 10};
    struct store_watch *slow = store_watch(s, "/s/", 0, &wo, &e);
    struct store_watch *fast = store_watch(s, "/s/", 0, &wo, &e);
    assert_non_null(slow);
    assert_non_null(fast);
    char key[32];
    for (int i = 0; i < 25; i++) {
        snprintf(key, sizeof key, "/s/k%d", i);
        create(s, key, "v");
        struct store_kv *ev;
        assert_int_equal(store_watch_next(fast, 0, &ev, &e), 1);
        store_kv_unref(ev);
    }
    /* the slow one keeps its cap's worth, then reports the cancellation */
    assert_int_equal(store_watch_pending(slow), 10);
    struct store_kv *ev;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(store_watch_next(slow, 0, &ev, &e), 1);
        assert_int_equal(ev->mod_rev, i + 1);
        store_kv_unref(ev);
    }
    assert_int_equal(store_watch_next(slow, 0, &ev, &e), -1);
    assert_int_equal(e.code, STORE_EOVERFLOW);
    assert_non_null(strstr(e.msg, "/s/"));
    struct store_stats st;
    store_stats(s, &st);
    assert_int_equal(st.watchers, 1);
    assert_int_equal(st.watch_cancelled, 1);
    store_watch_destroy(slow);

    /* a history longer than the cap: cancelled from the start */
    struct store_watch *old = store_watch(s, "/s/", 1, &wo, &e);
    assert_non_null(old);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(store_watch_next(old, 0, &ev, &e), 1);
        store_kv_unref(ev);
    }
    assert_int_equal(store_watch_next(old, -1, &ev, &e), -1);
    assert_int_equal(e.code, STORE_EOVERFLOW);
    store_watch_destroy(old);

    /* closing the store cancels the rest; they are destroyed afterwards */
    store_close(s);
    f->s = NULL;
    assert_int_equal(store_watch_next(fast, -1, &ev, &e), -1);
    assert_int_equal(e.code, STORE_ECLOSED);
    store_watch_destroy(fast);
    f->s = f->b->open(f);
}

static void case_compaction(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    create(s, "/m/a", "a1");    /* 1 */
    create(s, "/m/b", "b1");    /* 2 */
    update(s, "/m/a", "a2", 0); /* 3 */
    delete (s, "/m/b");         /* 4 */
    create(s, "/m/c", "c1");    /* 5 */
    struct store_list page;
    struct store_list_opts po = {.limit = 1};
    assert_int_equal(store_list(s, "/m/", &po, &page, &e), 0);
    assert_non_null(page.cont);
    update(s, "/m/a", "a3", 0); /* 6 */
    update(s, "/m/c", "c2", 0); /* 7 */

    assert_int_equal(store_compact(s, 6, &e), 0);
    assert_int_equal(store_compacted_rev(s), 6);

    /* too old: lists, continue tokens and watches before the compaction */
    struct store_list l;
    struct store_list_opts o = {.rev = 5};
    assert_int_equal(store_list(s, "/m/", &o, &l, &e), -1);
    assert_int_equal(e.code, STORE_ECOMPACTED);
    store_list_release(&l);
    struct store_list_opts oc = {.limit = 1, .cont = page.cont};
    assert_int_equal(store_list(s, "/m/", &oc, &l, &e), -1);
    assert_int_equal(e.code, STORE_ECOMPACTED);
    store_list_release(&l);
    store_list_release(&page);
    assert_null(store_watch(s, "/m/", 5, NULL, &e));
    assert_int_equal(e.code, STORE_ECOMPACTED);
    assert_non_null(strstr(e.msg, "/m/"));

    /* at the compaction revision: still readable */
    o.rev = 6;
    assert_int_equal(store_list(s, "/m/", &o, &l, &e), 0);
    assert_int_equal(l.len, 2);
    assert_string_equal(l.items[0]->value, "a3");
    assert_string_equal(l.items[1]->value, "c1");
    store_list_release(&l);
    struct store_watch *w = store_watch(s, "/m/", 6, NULL, &e);
    assert_non_null(w);
    next_is(w, STORE_MODIFIED, "/m/c", "c2", 7);
    next_none(w);
    store_watch_destroy(w);

    /* latest state untouched; a compaction at or below the last is a no-op */
    get_is(s, "/m/a", "a3");
    get_is(s, "/m/b", NULL);
    get_is(s, "/m/c", "c2");
    assert_int_equal(store_compact(s, 3, &e), 0);
    assert_int_equal(store_compacted_rev(s), 6);
    assert_int_equal(store_compact(s, store_rev(s), &e), 0);
    assert_int_equal(store_list(s, "/m/", NULL, &l, &e), 0);
    assert_int_equal(l.len, 2);
    store_list_release(&l);
    assert_int_equal(create(s, "/m/b", "b2"), 8);
}

static void case_restart(struct fixture *f)
{
    if (!f->b->persistent)
        skip();
    struct err e = {0};
    create(f->s, "/p/a", "a1");
    create(f->s, "/p/b", "b1");
    update(f->s, "/p/a", "a2", 0);
    delete (f->s, "/p/b");
    assert_int_equal(store_compact(f->s, 2, &e), 0);
    reopen(f);
    struct store *s = f->s;
    assert_int_equal(store_rev(s), 4);
    assert_int_equal(store_compacted_rev(s), 2);
    assert_int_equal(get_is(s, "/p/a", "a2"), 3);
    get_is(s, "/p/b", NULL);
    /* the revision continues; history is served from the log */
    assert_int_equal(create(s, "/p/c", "c1"), 5);
    struct store_watch *w = store_watch(s, "/p/", 2, NULL, &e);
    assert_non_null(w);
    next_is(w, STORE_MODIFIED, "/p/a", "a2", 3);
    next_is(w, STORE_DELETED, "/p/b", "b1", 4);
    next_is(w, STORE_ADDED, "/p/c", "c1", 5);
    next_none(w);
    store_watch_destroy(w);
    assert_null(store_watch(s, "/p/", 1, NULL, &e));
    assert_int_equal(e.code, STORE_ECOMPACTED);
    if (!strcmp(store_backend(s), "sqlite"))
        assert_int_equal(store_sqlite_check(s, &e), 0);
}

static void free_counted(void *p)
{
    (*(int *)p)++;
}

static void case_shared_events(struct fixture *f)
{
    struct store *s = f->s;
    struct err e = {0};
    struct store_watch *w1 = store_watch(s, "/e/", 0, NULL, &e);
    struct store_watch *w2 = store_watch(s, "/", 0, NULL, &e);
    create(s, "/e/a", "a");
    struct store_kv *a, *b;
    assert_int_equal(store_watch_next(w1, 0, &a, &e), 1);
    assert_int_equal(store_watch_next(w2, 0, &b, &e), 1);
    /* one version, shared: the same bytes for both watchers */
    assert_ptr_equal(a, b);
    /* encode once: the second attach loses and gets the first */
    int enc1 = 0, enc2 = 0;
    assert_ptr_equal(store_kv_attach(a, &enc1, NULL), &enc1);
    assert_ptr_equal(store_kv_attach(b, &enc2, free_counted), &enc1);
    assert_int_equal(enc2, 1); /* the loser was freed at once */
    assert_ptr_equal(store_kv_attachment(a), &enc1);
    store_kv_unref(a);
    store_kv_unref(b);
    store_watch_destroy(w1);
    store_watch_destroy(w2);
}

static void case_mem_window(struct fixture *f)
{
    if (f->b->persistent)
        skip();
    f->mem.history = 5;
    reopen(f);
    struct store *s = f->s;
    struct err e = {0};
    char key[16];
    for (int i = 0; i < 12; i++) {
        snprintf(key, sizeof key, "/h/k%d", i % 3);
        if (i < 3)
            create(s, key, "v");
        else
            update(s, key, "v", 0);
    }
    assert_int_equal(store_compacted_rev(s), 7);
    assert_null(store_watch(s, "/h/", 6, NULL, &e));
    assert_int_equal(e.code, STORE_ECOMPACTED);
    struct store_list l;
    struct store_list_opts o = {.rev = 7};
    assert_int_equal(store_list(s, "/h/", &o, &l, &e), 0);
    assert_int_equal(l.len, 3);
    store_list_release(&l);
}

/* --- the etcd watch cache: several servers, broken watches --- */

/* A TCP proxy in front of etcd that the test can cut: while down it closes every
 * connection it carries and every new one at once, as a network partition
 * between one server and etcd would. One thread, poll, blocking writes (the
 * peers are etcd and libcurl, which both read). */
enum { PROXY_MAX = 64 };

struct proxy {
    int lfd, port, upstream;
    int wake[2]; /* the test writes a byte after changing `down` */
    _Atomic bool down, quit;
    _Atomic int acks; /* commands the thread has carried out */
    int pairs[PROXY_MAX][2];
    int npairs;
    pthread_t th;
};

static void proxy_drop(struct proxy *p, int i)
{
    close(p->pairs[i][0]);
    close(p->pairs[i][1]);
    p->pairs[i][0] = p->pairs[--p->npairs][0];
    p->pairs[i][1] = p->pairs[p->npairs][1];
}

static void *proxy_main(void *arg)
{
    struct proxy *p = arg;
    while (!atomic_load(&p->quit)) {
        struct pollfd fds[2 + 2 * PROXY_MAX];
        fds[0] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        for (int i = 0; i < p->npairs; i++) {
            fds[2 + 2 * i] = (struct pollfd){.fd = p->pairs[i][0], .events = POLLIN};
            fds[3 + 2 * i] = (struct pollfd){.fd = p->pairs[i][1], .events = POLLIN};
        }
        int npairs = p->npairs;
        if (poll(fds, (nfds_t)(2 + 2 * npairs), 1000) <= 0)
            continue;
        if (fds[1].revents) {
            char c;
            if (read(p->wake[0], &c, 1) == 1) {
                if (atomic_load(&p->down))
                    while (p->npairs)
                        proxy_drop(p, 0);
                atomic_fetch_add(&p->acks, 1);
            }
            continue; /* the pairs changed */
        }
        if (fds[0].revents) {
            int c = accept(p->lfd, NULL, NULL);
            if (c >= 0 && (atomic_load(&p->down) || p->npairs == PROXY_MAX)) {
                close(c);
            } else if (c >= 0) {
                int u = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = {.sin_family = AF_INET,
                                        .sin_port = htons((uint16_t)p->upstream),
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                if (connect(u, (struct sockaddr *)&a, sizeof a)) {
                    close(u);
                    close(c);
                } else {
                    p->pairs[p->npairs][0] = c;
                    p->pairs[p->npairs][1] = u;
                    p->npairs++;
                }
            }
        }
        for (int i = npairs - 1; i >= 0; i--)
            for (int side = 0; side < 2; side++) {
                if (!fds[2 + 2 * i + side].revents)
                    continue;
                char buf[65536];
                ssize_t n = read(p->pairs[i][side], buf, sizeof buf);
                bool ok = n > 0;
                for (ssize_t off = 0; ok && off < n;) {
                    ssize_t w = write(p->pairs[i][!side], buf + off, (size_t)(n - off));
                    ok = w > 0;
                    off += ok ? w : 0;
                }
                if (!ok) {
                    proxy_drop(p, i);
                    break;
                }
            }
    }
    while (p->npairs)
        proxy_drop(p, 0);
    return NULL;
}

static void proxy_start(struct proxy *p, int upstream)
{
    memset(p, 0, sizeof *p);
    p->upstream = upstream;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->lfd, 64), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &n), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pipe(p->wake), 0);
    assert_int_equal(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

/* Cuts (down) or restores the proxy, and waits until the thread has. */
static void proxy_set(struct proxy *p, bool down)
{
    int acks = atomic_load(&p->acks);
    atomic_store(&p->down, down);
    assert_int_equal(write(p->wake[1], "x", 1), 1);
    while (atomic_load(&p->acks) == acks)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
}

static void proxy_stop(struct proxy *p)
{
    atomic_store(&p->quit, true);
    assert_int_equal(write(p->wake[1], "x", 1), 1);
    pthread_join(p->th, NULL);
    close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
}

static bool is_etcd(struct fixture *f)
{
    return !strcmp(f->b->name, "etcd");
}

/* A write acknowledged by one server is in the next read on another: gets and
 * lists at the latest revision are consistent, not merely eventually so. */
static void case_cross_server(struct fixture *f)
{
    if (!is_etcd(f))
        skip();
    struct store *s1 = f->s, *s2 = etcd_connect(f, f->client_port, "etcd.log");
    struct err e = {0};
    struct store_watch *w = store_watch(s1, "/x/", 0, NULL, &e);
    assert_non_null(w);
    char key[32], val[32];
    for (int i = 0; i < 60; i++) {
        snprintf(key, sizeof key, "/x/k%02d", i);
        snprintf(val, sizeof val, "v%d", i);
        int64_t r = create(s2, key, val);
        assert_int_equal(get_is(s1, key, val), r);
        struct store_list l;
        assert_int_equal(store_list(s1, "/x/", NULL, &l, &e), 0);
        assert_true(l.rev >= r);
        assert_int_equal(l.len, (size_t)(i - i / 3 + 1));
        assert_string_equal(l.items[l.len - 1]->key, key);
        store_list_release(&l);
        next_is(w, STORE_ADDED, key, val, r);
        /* and back: an update on the first server, read on the second */
        int64_t r2 = update(s1, key, "again", r);
        assert_int_equal(get_is(s2, key, "again"), r2);
        next_is(w, STORE_MODIFIED, key, "again", r2);
        if (i % 3 == 2) {
            int64_t r3 = delete (s2, key);
            get_is(s1, key, NULL);
            next_is(w, STORE_DELETED, key, "again", r3);
        }
    }
    next_none(w);
    store_watch_destroy(w);
    struct store_stats st;
    store_stats(s1, &st);
    assert_int_equal(st.reads_direct, 0); /* every read came from the cache */
    assert_int_equal(st.resyncs, 0);
    store_close(s2);
}

struct ryw_thread {
    struct store *a, *b;
    int id;
};

/* Writes on one server and reads on the other, back and forth. */
static void *ryw_main(void *arg)
{
    struct ryw_thread *t = arg;
    char key[32], val[32];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "/y/t%d/k%02d", t->id, i);
        snprintf(val, sizeof val, "%d.%d", t->id, i);
        int64_t r = create(t->a, key, val);
        assert_int_equal(get_is(t->b, key, val), r);
        int64_t r2 = update(t->b, key, "2", r);
        assert_int_equal(get_is(t->a, key, "2"), r2);
    }
    return NULL;
}

static void case_cross_server_concurrent(struct fixture *f)
{
    if (!is_etcd(f))
        skip();
    struct store *s2 = etcd_connect(f, f->client_port, "etcd.log");
    struct ryw_thread t[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct ryw_thread){.a = i % 2 ? f->s : s2, .b = i % 2 ? s2 : f->s, .id = i};
        pthread_create(&th[i], NULL, ryw_main, &t[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    struct store_list l1, l2;
    struct err e = {0};
    assert_int_equal(store_list(f->s, "/y/", NULL, &l1, &e), 0);
    assert_int_equal(store_list(s2, "/y/", NULL, &l2, &e), 0);
    assert_int_equal(l1.len, 160);
    assert_int_equal(l2.len, 160);
    store_list_release(&l1);
    store_list_release(&l2);
    store_close(s2);
}

/* Waits up to 10 s for w's cancellation; returns its code. */
static int cancel_code(struct store_watch *w)
{
    for (int i = 0; i < 100; i++) {
        struct store_kv *ev = NULL;
        struct err e = {0};
        int rc = store_watch_next(w, 100 * 1000 * 1000LL, &ev, &e);
        store_kv_unref(ev);
        if (rc < 0) {
            if (e.code == STORE_ECOMPACTED)
                assert_non_null(strstr(e.msg, "re-list"));
            return e.code;
        }
    }
    return 0;
}

/* The watch of a server cut off from etcd resumes where it stopped when etcd
 * still has the changes it missed, and re-reads everything (cancelling its
 * watchers, whose clients must re-list) when etcd compacted them away. */
static void case_watch_break_resync(struct fixture *f)
{
    if (!is_etcd(f))
        skip();
    /* Static: a failed assertion leaves this function with the proxy's thread
     * still running, which must not then read a dead stack frame. */
    static struct proxy p;
    proxy_start(&p, f->client_port);
    struct store *s1 = etcd_connect(f, p.port, "etcd.log"), *s2 = f->s;
    struct err e = {0};
    struct store_kv *kv = NULL;
    create(s1, "/r/a", "a1");
    create(s1, "/r/b", "b1");
    struct store_watch *w = store_watch(s1, "/r/", 0, NULL, &e);
    assert_non_null(w);

    /* 1. cut, changes elsewhere, restored: resumed, nothing lost */
    proxy_set(&p, true);
    int64_t r1 = update(s2, "/r/a", "a2", 0);
    int64_t r2 = create(s2, "/r/c", "c1");
    /* cut off, a consistent read refuses rather than serve what may be stale */
    assert_int_equal(store_get(s1, "/r/a", &kv, &e), -1);
    assert_int_equal(e.code, STORE_EIO);
    proxy_set(&p, false);
    next_is(w, STORE_MODIFIED, "/r/a", "a2", r1);
    next_is(w, STORE_ADDED, "/r/c", "c1", r2);
    get_is(s1, "/r/a", "a2");
    struct store_stats st;
    store_stats(s1, &st);
    assert_int_equal(st.resyncs, 0);

    /* 2. cut, changes and a compaction past them: re-read, watchers cancelled */
    proxy_set(&p, true);
    update(s2, "/r/a", "a3", 0);
    delete (s2, "/r/b");
    int64_t r3 = create(s2, "/r/d", "d1");
    assert_int_equal(store_compact(s2, r3, &e), 0);
    proxy_set(&p, false);
    assert_int_equal(cancel_code(w), STORE_ECOMPACTED);
    store_watch_destroy(w);
    store_stats(s1, &st);
    assert_int_equal(st.resyncs, 1);
    get_is(s1, "/r/a", "a3");
    get_is(s1, "/r/b", NULL);
    get_is(s1, "/r/d", "d1");
    struct store_list l;
    assert_int_equal(store_list(s1, "/r/", NULL, &l, &e), 0);
    assert_int_equal(l.len, 3);
    assert_true(l.rev >= r3);
    store_list_release(&l);
    assert_true(store_compacted_rev(s1) >= r3);
    assert_null(store_watch(s1, "/r/", r1, NULL, &e));
    assert_int_equal(e.code, STORE_ECOMPACTED);
    /* and it goes on: live again */
    w = store_watch(s1, "/r/", 0, NULL, &e);
    assert_non_null(w);
    int64_t r4 = create(s2, "/r/e", "e1");
    next_is(w, STORE_ADDED, "/r/e", "e1", r4);
    store_watch_destroy(w);
    store_close(s1);
    proxy_stop(&p);
}

/* --- the table --- */

struct conformance_case {
    const char *name;
    void (*fn)(struct fixture *f);
};

static const struct conformance_case cases[] = {
    {"crud_cas", case_crud_cas},
    {"bad_args", case_bad_args},
    {"list_paging", case_list_paging},
    {"list_at_old_rev", case_list_at_old_rev},
    {"watch_from_past", case_watch_from_past},
    {"concurrent_writers", case_concurrent_writers},
    {"slow_watcher", case_slow_watcher},
    {"compaction", case_compaction},
    {"restart", case_restart},
    {"shared_events", case_shared_events},
    {"mem_window", case_mem_window},
    {"cross_server", case_cross_server},
    {"cross_server_concurrent", case_cross_server_concurrent},
    {"watch_break_resync", case_watch_break_resync},
};

enum { NCASES = sizeof cases / sizeof *cases, NBACKENDS = sizeof backends / sizeof *backends };

static void run_case(void **state)
{
    struct fixture *f = *state;
    if (f->b->available && !f->b->available())
        skip();
    f->c->fn(f);
}

/* --- the etcd benchmark (run by hand) ---
 *   test_store_conformance bench-etcd THREADS CREATES
 * starts a fresh etcd as the suite does and creates distinct keys with 500-byte
 * values from THREADS threads. Besides creates/s it prints the CPU time per
 * create of this process (the store's side: JSON, base64, HTTP) and of etcd,
 * from getrusage and /proc/<etcd>/stat, so the two can be told apart on a
 * machine where they share the cores. */

struct bench_thread {
    struct store *s;
    int id, n;
};

static void *bench_main(void *arg)
{
    struct bench_thread *b = arg;
    char key[96], val[501];
    memset(val, 'x', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < b->n; i++) {
        snprintf(key, sizeof key, "/registry/pods/bench/t%d-%07d", b->id, i);
        struct err e = {0};
        if (store_create(b->s, key, val, sizeof val - 1, NULL, &e)) {
            fprintf(stderr, "bench: %s\n", e.msg);
            exit(1);
        }
    }
    return NULL;
}

/* CPU seconds (user + system) used so far by process pid (0: this one). */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid ? (int)pid : (int)getpid());
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime), counted after the ')' that ends comm. */
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int bench_etcd(int argc, char **argv)
{
    if (argc < 4 || !etcd_available()) {
        fprintf(stderr, "usage: %s bench-etcd THREADS CREATES (needs %s)\n", argv[0], ETCD_BIN);
        return 2;
    }
    int threads = atoi(argv[2]), creates = atoi(argv[3]);
    struct fixture f = {0};
    make_tmpdir(f.dir, sizeof f.dir);
    struct store *s = open_etcd(&f);
    struct bench_thread *b = calloc((size_t)threads, sizeof *b);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double cpu0 = cpu_seconds(0), etcd0 = cpu_seconds(f.etcd);
    for (int i = 0; i < threads; i++) {
        b[i] = (struct bench_thread){.s = s, .id = i, .n = creates / threads};
        pthread_create(&th[i], NULL, bench_main, &b[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = cpu_seconds(0) - cpu0, etcd = cpu_seconds(f.etcd) - etcd0;
    struct store_stats st;
    store_stats(s, &st);
    double w = (double)(st.writes ? st.writes : 1);
    printf("etcd, %d threads: %lld creates in %.2f s = %.0f creates/s; CPU per create: "
           "%.0f us here, %.0f us in etcd\n",
           threads, (long long)st.writes, secs, (double)st.writes / secs, cpu / w * 1e6,
           etcd / w * 1e6);
    store_close(s);
    etcd_stop(&f);
    remove_tmpdir(f.dir);
    free(b);
    free(th);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "bench-etcd"))
        return bench_etcd(argc, argv);
    struct CMUnitTest tests[NBACKENDS * NCASES];
    static char names[NBACKENDS * NCASES][64];
    static struct param params[NBACKENDS * NCASES];
    int n = 0;
    for (int b = 0; b < NBACKENDS; b++)
        for (int c = 0; c < NCASES; c++, n++) {
            snprintf(names[n], sizeof names[n], "%s/%s", backends[b].name, cases[c].name);
            params[n] = (struct param){&backends[b], &cases[c]};
            tests[n] = (struct CMUnitTest){.name = names[n],
                                           .test_func = run_case,
                                           .setup_func = setup,
                                           .teardown_func = teardown,
                                           .initial_state = &params[n]};
        }
    if (!etcd_available())
        print_message("etcd: %s is not installed (scripts/install-deps.sh installs "
                      "etcd-server); the etcd cases are skipped\n",
                      ETCD_BIN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
