/* The memory store as a mirror (store__mem_mirror, the etcd backend's watch
 * cache): changes that arrive already committed at their own, sparse revisions;
 * revisions that move without a change; a reset that replaces everything. The
 * etcd backend's behaviour on a real etcd is in test_store_conformance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_int.h"

struct fixture {
    struct store__hub *hub;
    struct store *m;
};

static struct fixture *open_mirror(int64_t history)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->hub = store__hub_create();
    f->m = store__mem_mirror(f->hub, history);
    return f;
}

static void close_mirror(struct fixture *f)
{
    f->m->ops->close(f->m);
    store__hub_close(f->hub);
    free(f);
}

static struct store_kv *put(const char *key, const char *val, int64_t create, int64_t mod)
{
    return store__kv_new(key, strlen(key), val, strlen(val), create, mod,
                         create == mod ? STORE_ADDED : STORE_MODIFIED);
}

static struct store_kv *del(const char *key, int64_t mod)
{
    return store__kv_new(key, strlen(key), "", 0, 0, mod, STORE_DELETED);
}

static void apply_ok(struct fixture *f, struct store_kv *kv)
{
    struct err e = {0};
    if (store__mem_apply(f->m, kv, &e))
        fail_msg("apply: %s", e.msg);
}

static void apply_fails(struct fixture *f, struct store_kv *kv, int code)
{
    struct err e = {0};
    assert_int_equal(store__mem_apply(f->m, kv, &e), -1);
    assert_int_equal(e.code, code);
    assert_non_null(strstr(e.msg, "/k/"));
}

/* The list of prefix at rev as "key=value,..." in buf. */
static const char *list_at(struct fixture *f, int64_t rev, char *buf, size_t n)
{
    struct store_list l = {0};
    struct store__range r = {.prefix = "/k/", .prefix_len = 3, .rev = rev};
    bool more = false;
    struct err e = {0};
    buf[0] = '\0';
    if (f->m->ops->list(f->m, &r, &l, &more, &e))
        snprintf(buf, n, "error %d", e.code);
    size_t o = strlen(buf);
    for (size_t i = 0; i < l.len; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", i ? "," : "", l.items[i]->key,
                              l.items[i]->value);
    store_list_release(&l);
    return buf;
}

static struct store_watch *watch_from(struct fixture *f, int64_t from, int *code)
{
    struct err e = {0};
    struct store_watch *w = store_watch(f->m, "/k/", from, NULL, &e);
    *code = w ? 0 : e.code;
    return w;
}

static void next_is(struct store_watch *w, enum store_event_type type, const char *key,
                    const char *val, int64_t rev)
{
    struct store_kv *ev = NULL;
    struct err e = {0};
    assert_int_equal(store_watch_next(w, 0, &ev, &e), 1);
    assert_int_equal(ev->type, type);
    assert_string_equal(ev->key, key);
    assert_string_equal(ev->value, val);
    assert_int_equal(ev->mod_rev, rev);
    store_kv_unref(ev);
}

static void test_sparse_revisions(void **state)
{
    (void)state;
    struct fixture *f = open_mirror(0);
    struct store_list empty = {0};
    store__mem_reset(f->m, 3, &empty);
    assert_int_equal(f->m->ops->rev(f->m), 3);
    assert_int_equal(f->m->ops->compacted_rev(f->m), 3);
    apply_ok(f, put("/k/a", "a1", 5, 5));
    apply_ok(f, put("/k/b", "b1", 7, 7));
    apply_ok(f, put("/k/a", "a2", 5, 9));
    store__mem_advance(f->m, 12); /* writes outside the mirror */
    assert_int_equal(f->m->ops->rev(f->m), 12);
    apply_ok(f, del("/k/b", 15));
    assert_int_equal(f->m->ops->rev(f->m), 15);

    char buf[256];
    assert_string_equal(list_at(f, 4, buf, sizeof buf), "");
    assert_string_equal(list_at(f, 8, buf, sizeof buf), "/k/a=a1,/k/b=b1");
    assert_string_equal(list_at(f, 12, buf, sizeof buf), "/k/a=a2,/k/b=b1");
    assert_string_equal(list_at(f, 0, buf, sizeof buf), "/k/a=a2");
    assert_string_equal(list_at(f, 16, buf, sizeof buf), "error 34"); /* ERANGE: future */

    /* a watch from the past starts after its revision, gaps or not */
    int code;
    struct store_watch *w = watch_from(f, 6, &code);
    assert_non_null(w);
    next_is(w, STORE_ADDED, "/k/b", "b1", 7);
    next_is(w, STORE_MODIFIED, "/k/a", "a2", 9);
    next_is(w, STORE_DELETED, "/k/b", "b1", 15); /* the deletion carries the last value */
    store_watch_destroy(w);
    w = watch_from(f, 10, &code);
    next_is(w, STORE_DELETED, "/k/b", "b1", 15);
    store_watch_destroy(w);

    /* the version a writer gets back is the one the watchers got */
    struct store_kv *v = store__mem_version(f->m, "/k/a", 4, 9);
    assert_non_null(v);
    assert_string_equal(v->value, "a2");
    store_kv_unref(v);
    assert_null(store__mem_version(f->m, "/k/a", 4, 8));
    close_mirror(f);
}

static void test_refused_changes(void **state)
{
    (void)state;
    struct fixture *f = open_mirror(0);
    struct store_list empty = {0};
    store__mem_reset(f->m, 1, &empty);
    apply_ok(f, put("/k/a", "a1", 2, 2));
    apply_fails(f, put("/k/b", "b1", 2, 2), STORE_EINVAL);    /* not after the mirror */
    apply_fails(f, del("/k/b", 3), STORE_ENOTFOUND);          /* deletion of an absent key */
    apply_fails(f, put("/k/a", "a1", 4, 4), STORE_ECONFLICT); /* creation of a live key */
    apply_fails(f, put("/k/b", "b1", 2, 5), STORE_ECONFLICT); /* update of an absent key */
    apply_fails(f, put("/k/a", "a2", 3, 6), STORE_ECONFLICT); /* another life of the key */
    char buf[64];
    assert_string_equal(list_at(f, 0, buf, sizeof buf), "/k/a=a1");
    assert_int_equal(f->m->ops->rev(f->m), 2);
    close_mirror(f);
}

static void test_reset_cancels_watchers(void **state)
{
    (void)state;
    struct fixture *f = open_mirror(0);
    struct store_list l = {0};
    store__list_push(&l, put("/k/a", "a1", 3, 3));
    store__list_push(&l, put("/k/c", "c1", 4, 8));
    store__mem_reset(f->m, 10, &l);
    assert_int_equal(l.len, 0);
    store_list_release(&l);
    int code;
    struct store_watch *w = watch_from(f, 0, &code);
    apply_ok(f, put("/k/a", "a2", 3, 11));
    next_is(w, STORE_MODIFIED, "/k/a", "a2", 11);

    store__list_push(&l, put("/k/b", "b1", 20, 20));
    store__mem_reset(f->m, 30, &l);
    store_list_release(&l);
    struct store_kv *ev = NULL;
    struct err e = {0};
    assert_int_equal(store_watch_next(w, 0, &ev, &e), -1);
    assert_int_equal(e.code, STORE_ECOMPACTED);
    assert_non_null(strstr(e.msg, "re-list"));
    store_watch_destroy(w);
    char buf[64];
    assert_string_equal(list_at(f, 0, buf, sizeof buf), "/k/b=b1");
    assert_string_equal(list_at(f, 29, buf, sizeof buf), "error 61"); /* ENODATA: compacted */
    assert_null(watch_from(f, 29, &code));
    assert_int_equal(code, STORE_ECOMPACTED);
    close_mirror(f);
}

/* The history window counts versions, not revisions. */
static void test_history_window(void **state)
{
    (void)state;
    struct fixture *f = open_mirror(3);
    struct store_list empty = {0};
    store__mem_reset(f->m, 1, &empty);
    apply_ok(f, put("/k/a", "1", 10, 10));
    for (int i = 2; i <= 5; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        apply_ok(f, put("/k/a", v, 10, 10 * i));
    }
    assert_int_equal(f->m->ops->compacted_rev(f->m), 20);
    int code;
    assert_null(watch_from(f, 19, &code));
    assert_int_equal(code, STORE_ECOMPACTED);
    struct store_watch *w = watch_from(f, 20, &code);
    assert_non_null(w);
    next_is(w, STORE_MODIFIED, "/k/a", "3", 30);
    next_is(w, STORE_MODIFIED, "/k/a", "4", 40);
    next_is(w, STORE_MODIFIED, "/k/a", "5", 50);
    store_watch_destroy(w);
    char buf[64];
    assert_string_equal(list_at(f, 25, buf, sizeof buf), "/k/a=2");
    close_mirror(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_revisions),
        cmocka_unit_test(test_refused_changes),
        cmocka_unit_test(test_reset_cancels_watchers),
        cmocka_unit_test(test_history_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
