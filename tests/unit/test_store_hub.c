/* The watch hub's batch publication (store__hub_publish_batch): a watcher gets
 * the matching versions of a batch in order and is woken once for the batch,
 * only if its queue was empty; a watcher that passes its cap in the middle of a
 * batch is cancelled, woken once, keeps what fit and leaves the hub. The API
 * server relies on this: one resume per watch connection per committed batch
 * (docs/internals/http.md). */
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
    struct store *s;
    int wakes; /* notify calls */
    int64_t rev;
    struct store_kv *kvs[16];
    size_t n;
};

static void count_wake(void *arg)
{
    ((struct fixture *)arg)->wakes++;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->s = store_open_mem(NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    free(f);
    return 0;
}

static struct store_watch *watch(struct fixture *f, const char *prefix, size_t cap)
{
    struct err e = {0};
    struct store_watch_opts o = {.cap = cap, .notify = count_wake, .arg = f};
    struct store_watch *w = store_watch(f->s, prefix, 0, &o, &e);
    if (!w)
        fail_msg("watch %s: %s", prefix, e.msg);
    return w;
}

/* Adds a version of key at the next revision to the batch being built. */
static void add(struct fixture *f, const char *key)
{
    assert_true(f->n < sizeof f->kvs / sizeof *f->kvs);
    f->rev++;
    f->kvs[f->n++] = store__kv_new(key, strlen(key), "{}", 2, f->rev, f->rev, STORE_ADDED);
}

/* Publishes the batch built with add() and drops the builder's references. */
static void publish(struct fixture *f)
{
    store__hub_publish_batch(f->s->hub, f->kvs, f->n);
    for (size_t i = 0; i < f->n; i++)
        store_kv_unref(f->kvs[i]);
    f->n = 0;
}

static void next_is(struct store_watch *w, const char *key, int64_t rev)
{
    struct store_kv *kv = NULL;
    struct err e = {0};
    assert_int_equal(store_watch_next(w, 0, &kv, &e), 1);
    assert_string_equal(kv->key, key);
    assert_int_equal(kv->mod_rev, rev);
    store_kv_unref(kv);
}

static void next_none(struct store_watch *w)
{
    struct store_kv *kv = NULL;
    struct err e = {0};
    assert_int_equal(store_watch_next(w, 0, &kv, &e), 0);
}

static void test_one_wake_per_batch(void **state)
{
    struct fixture *f = *state;
    struct store_watch *w = watch(f, "/a/", 0);
    for (int i = 0; i < 5; i++)
        add(f, "/a/x");
    publish(f);
    assert_int_equal(f->wakes, 1);
    assert_int_equal(store_watch_pending(w), 5);
    /* Not drained: the owner was woken already, the next batch wakes no one. */
    add(f, "/a/y");
    publish(f);
    assert_int_equal(f->wakes, 1);
    for (int64_t r = 1; r <= 5; r++)
        next_is(w, "/a/x", r);
    next_is(w, "/a/y", 6);
    next_none(w);
    /* Drained: the next batch wakes again. */
    add(f, "/a/z");
    publish(f);
    assert_int_equal(f->wakes, 2);
    next_is(w, "/a/z", 7);
    store_watch_destroy(w);
}

static void test_only_matching_versions_wake(void **state)
{
    struct fixture *f = *state;
    struct store_watch *w = watch(f, "/a/", 0);
    add(f, "/b/1");
    add(f, "/b/2");
    publish(f);
    assert_int_equal(f->wakes, 0);
    next_none(w);
    add(f, "/b/3");
    add(f, "/a/1");
    add(f, "/b/4");
    add(f, "/a/2");
    publish(f);
    assert_int_equal(f->wakes, 1);
    next_is(w, "/a/1", 4);
    next_is(w, "/a/2", 6);
    next_none(w);
    /* The one-version form is a batch of one. */
    f->rev++;
    struct store_kv *kv = store__kv_new("/a/3", 4, "{}", 2, f->rev, f->rev, STORE_ADDED);
    store__hub_publish(f->s->hub, kv);
    store_kv_unref(kv);
    assert_int_equal(f->wakes, 2);
    next_is(w, "/a/3", 7);
    store_watch_destroy(w);
}

static void test_cap_passed_inside_a_batch(void **state)
{
    struct fixture *f = *state;
    struct store_watch *full = watch(f, "/a/", 3), *other = watch(f, "/a/", 0);
    struct store_stats st;
    store_stats(f->s, &st);
    assert_int_equal(st.watchers, 2);
    for (int i = 0; i < 5; i++)
        add(f, "/a/k");
    publish(f);
    /* One wake each: the full one's by its cancellation (none for its events
     * after it), the other's for its five events. */
    assert_int_equal(f->wakes, 2);
    store_stats(f->s, &st);
    assert_int_equal(st.watchers, 1);
    assert_int_equal(st.watch_cancelled, 1);
    for (int64_t r = 1; r <= 3; r++)
        next_is(full, "/a/k", r);
    struct store_kv *kv = NULL;
    struct err e = {0};
    assert_int_equal(store_watch_next(full, 0, &kv, &e), -1);
    assert_int_equal(e.code, STORE_EOVERFLOW);
    for (int64_t r = 1; r <= 5; r++)
        next_is(other, "/a/k", r);
    /* Later batches reach only the watcher still registered. */
    add(f, "/a/k");
    publish(f);
    assert_int_equal(f->wakes, 3);
    next_is(other, "/a/k", 6);
    store_watch_destroy(full);
    store_watch_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_wake_per_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_matching_versions_wake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_passed_inside_a_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
