/*
 * api/namespace: the namespace lifecycle, as kube-apiserver and the namespace
 * controller of kube-controller-manager run it.
 *
 *   - The server creates default, kube-system, kube-public and kube-node-lease
 *     when they are missing (api_namespaces_init), at every start.
 *   - A new namespace gets spec.finalizers ["kubernetes"], status.phase Active
 *     and the label kubernetes.io/metadata.name (api__ns_prepare).
 *   - NamespaceLifecycle admission (api__ns_admit): creating a namespaced
 *     object in a namespace that does not exist is 404 `namespaces "x" not
 *     found`; in one being deleted, 403 Forbidden `unable to create new content
 *     in namespace x because it is being terminated`. default, kube-system and
 *     kube-public cannot be deleted (delete.c).
 *   - DELETE of a namespace sets deletionTimestamp and status.phase Terminating
 *     (delete.c); the "kubernetes" finalizer holds it. The finalizer, a thread
 *     of the server (api__ns_worker), then deletes everything in it, of every
 *     namespaced kind, as DELETE would (objects held by their own finalizers
 *     stay until those are removed: the namespace waits for them), removes the
 *     "kubernetes" finalizer and, with no finalizer left, the namespace.
 *
 * The worker watches the namespaces and runs a pass (api_namespaces_finalize)
 * when one is marked, once at start (so namespaces left Terminating by a
 * stopped server are finished), and every second while one is still waiting
 * for finalizers. Every step is an ordinary compare-and-swap on the store, so
 * several servers sharing one store may run it at once.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/alloc.h"
#include "base/jscan.h"
#include "base/log.h"
#include "base/mtime.h"
#include "model/model.h"

#define NS_PREFIX     "/registry/core/namespaces/"
#define NS_FINALIZER  "kubernetes"
#define NS_NAME_LABEL "kubernetes.io/metadata.name"
#define RETRY_NS      ((int64_t)1000 * 1000000) /* re-check held namespaces every second */
#define POLL_NS       ((int64_t)200 * 1000000)  /* notice a stop within this */

static const char *const initial[] = {"default", "kube-system", "kube-public", "kube-node-lease"};

bool api__ns_immortal(const char *name)
{
    return !strcmp(name, "default") || !strcmp(name, "kube-system") || !strcmp(name, "kube-public");
}

/* obj[key] as an object, created when absent or not one. */
static json_t *child(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

void api__ns_prepare(json_t *obj, json_t *old)
{
    json_t *md = child(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    if (name)
        json_object_set_new(child(md, "labels"), NS_NAME_LABEL, json_string(name));
    json_t *spec = child(obj, "spec");
    if (old) {
        /* Only finalize changes spec.finalizers. */
        json_t *fin = json_object_get(json_object_get(old, "spec"), "finalizers");
        if (fin)
            json_object_set(spec, "finalizers", fin);
        else
            json_object_del(spec, "finalizers");
        return;
    }
    json_t *fin = json_object_get(spec, "finalizers");
    if (!json_is_array(fin)) {
        fin = json_array();
        json_object_set_new(spec, "finalizers", fin);
    }
    size_t i;
    json_t *f;
    bool has = false;
    json_array_foreach(fin, i, f) has = has || !strcmp(json_string_value(f) ?: "", NS_FINALIZER);
    if (!has)
        json_array_append_new(fin, json_string(NS_FINALIZER));
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
}

int api_namespaces_init(struct store *s, struct err *e)
{
    for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++) {
        char uid[40], ts[32], key[STORE_KEY_MAX];
        api__new_uid(uid, sizeof uid);
        api__now_rfc3339(ts, sizeof ts);
        json_t *ns = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:i}}", "apiVersion", "v1", "kind",
                               "Namespace", "metadata", "name", initial[i], "uid", uid,
                               "creationTimestamp", ts, "generation", 1);
        api__ns_prepare(ns, NULL);
        size_t len;
        char *enc = api__encode_stored(NULL, ns, &len, e);
        json_decref(ns);
        snprintf(key, sizeof key, NS_PREFIX "%s", initial[i]);
        struct err ce;
        int rc = store_create(s, key, enc, len, NULL, &ce);
        free(enc);
        if (rc < 0 && ce.code != STORE_EEXISTS) {
            *e = ce;
            return -1;
        }
    }
    return 0;
}

int api__ns_admit(struct api_ctx *ctx, const struct api_kind *k, const char *ns, const char *name,
                  struct api_resp *r)
{
    if (!k->namespaced)
        return 0;
    const struct api_kind *nsk = api_registry_find("", "v1", "namespaces");
    char key[STORE_KEY_MAX];
    struct store_kv *kv = NULL;
    struct err e;
    if (api__key(nsk, "", ns, key, sizeof key) < 0 || store_get(ctx->store, key, &kv, &e) < 0) {
        if (e.code != STORE_ENOTFOUND) {
            api__fail(r, &e, NULL);
            return -1;
        }
        errf(&e, STORE_ENOTFOUND, "namespace not found");
        api__fail(r, &e, &(struct api_obj_ref){nsk, ns});
        return -1;
    }
    /* Every create asks: a scan for the one field, not a parse. */
    static const char *const dt[] = {"metadata", "deletionTimestamp"};
    size_t vs, ve;
    bool terminating = jscan_path(kv->value, kv->value_len, dt, 2, &vs, &ve) &&
                       kv->value[vs] == '"';
    store_kv_unref(kv);
    if (!terminating)
        return 0;
    errf(&e, API_EFORBIDDEN,
         "unable to create new content in namespace %s because it is being terminated", ns);
    api__fail(r, &e, &(struct api_obj_ref){k, name});
    return -1;
}

/* ---- the finalizer --------------------------------------------------------- */

/* Deletes everything in namespace ns. Returns how many objects are left (held
 * by their finalizers, or changed meanwhile: the next pass retries them), or
 * -1 with e filled. */
static long empty_namespace(struct api_ctx *ctx, const char *ns, struct err *e)
{
    long left = 0;
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        /* Versions of a group share storage: visit each kind once. */
        if (!k->namespaced || !k->preferred || !(k->verbs & API_VERB_DELETE))
            continue;
        char prefix[STORE_KEY_MAX];
        int n = api_kind_key_prefix(k, prefix, sizeof prefix);
        snprintf(prefix + n, sizeof prefix - (size_t)n, "%s/", ns);
        struct store_list l = {0};
        struct store_list_opts lo = {0};
        if (store_list(ctx->store, prefix, &lo, &l, e) < 0) {
            store_list_release(&l);
            return -1;
        }
        for (size_t j = 0; j < l.len; j++) {
            struct store_kv *out = NULL;
            struct err de;
            if (api__delete_kv(ctx, l.items[j]->key, l.items[j], 0, &out, &de) < 0) {
                if (de.code != STORE_ENOTFOUND)
                    left++;
            } else if (out->type != STORE_DELETED) {
                left++;
            }
            store_kv_unref(out);
        }
        store_list_release(&l);
    }
    return left;
}

/* Removes the "kubernetes" finalizer of the namespace at key and, with no
 * finalizer left, the namespace. Returns 1 when the namespace is gone (or no
 * longer being deleted), 0 when other finalizers hold it, -1 on an error. */
static int finish_namespace(struct api_ctx *ctx, const char *key, struct err *e)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct store_kv *kv = NULL;
        if (store_get(ctx->store, key, &kv, e) < 0)
            return e->code == STORE_ENOTFOUND ? 1 : -1;
        json_t *obj = api__decode_stored(NULL, kv);
        json_t *md = json_object_get(obj, "metadata");
        if (!obj || !json_string_value(json_object_get(md, "deletionTimestamp"))) {
            json_decref(obj);
            store_kv_unref(kv);
            return 1;
        }
        json_t *fin = json_object_get(json_object_get(obj, "spec"), "finalizers");
        for (size_t i = json_array_size(fin); i-- > 0;)
            if (!strcmp(json_string_value(json_array_get(fin, i)) ?: "", NS_FINALIZER))
                json_array_remove(fin, i);
        json_object_del(md, "resourceVersion");
        int rc, held = api__has_finalizers(obj);
        if (!held) {
            rc = store_delete(ctx->store, key, kv->mod_rev, NULL, e);
        } else {
            size_t len;
            char *enc = api__encode_stored(NULL, obj, &len, e);
            rc = store_update(ctx->store, key, enc, len, kv->mod_rev, NULL, e);
            free(enc);
        }
        json_decref(obj);
        store_kv_unref(kv);
        if (rc == 0)
            return held ? 0 : 1;
        if (e->code != STORE_ECONFLICT)
            return e->code == STORE_ENOTFOUND ? 1 : -1;
    }
    return 0; /* kept changing: the next pass tries again */
}

int api_namespaces_finalize(struct api_ctx *ctx, struct err *e)
{
    struct store_list l = {0};
    struct store_list_opts lo = {0};
    if (store_list(ctx->store, NS_PREFIX, &lo, &l, e) < 0) {
        store_list_release(&l);
        return -1;
    }
    int left = 0;
    for (size_t i = 0; i < l.len; i++) {
        json_t *obj = api__decode_stored(NULL, l.items[i]);
        json_t *md = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        bool deleting = json_string_value(json_object_get(md, "deletionTimestamp")) != NULL;
        long rest = deleting && name ? empty_namespace(ctx, name, e) : 0;
        int done = 1;
        if (rest == 0 && deleting)
            done = finish_namespace(ctx, l.items[i]->key, e);
        json_decref(obj);
        if (rest < 0 || done < 0) {
            store_list_release(&l);
            return -1;
        }
        if (rest > 0 || done == 0)
            left++;
    }
    store_list_release(&l);
    return left;
}

struct api__ns_worker {
    struct api_ctx *ctx;
    pthread_t thread;
    _Atomic bool stop;
};

static bool stopping(struct api__ns_worker *w)
{
    return w->stop || w->ctx->stopping;
}

static void *worker_main(void *arg)
{
    struct api__ns_worker *w = arg;
    struct store_watch *sw = NULL;
    int64_t next_pass = 0;
    while (!stopping(w)) {
        struct err e;
        int64_t now = mtime_now_ns();
        if (!sw) {
            /* Watch first, then pass: nothing marked in between is missed. */
            sw = store_watch(w->ctx->store, NS_PREFIX, 0, NULL, &e);
            if (!sw) {
                log_warn("namespace finalizer: watch: %s", e.msg);
                nanosleep(&(struct timespec){0, POLL_NS}, NULL);
                continue;
            }
            next_pass = now;
        }
        if (now >= next_pass) {
            int left = api_namespaces_finalize(w->ctx, &e);
            if (left < 0)
                log_warn("namespace finalizer: %s", e.msg);
            next_pass = left ? now + RETRY_NS : INT64_MAX;
        }
        struct store_kv *kv = NULL;
        int rc = store_watch_next(sw, POLL_NS, &kv, &e);
        if (rc < 0) {
            store_watch_destroy(sw); /* overflowed or closed: watch again */
            sw = NULL;
        } else if (rc > 0) {
            if (kv->type != STORE_DELETED &&
                memmem(kv->value, kv->value_len, "\"deletionTimestamp\"", 19))
                next_pass = 0;
            store_kv_unref(kv);
        }
    }
    store_watch_destroy(sw);
    return NULL;
}

struct api__ns_worker *api__ns_worker_start(struct api_ctx *ctx, struct err *e)
{
    struct api__ns_worker *w = xcalloc(1, sizeof *w);
    w->ctx = ctx;
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc) {
        free(w);
        errf(e, rc, "namespace finalizer: cannot start its thread: %s", strerror(rc));
        return NULL;
    }
    return w;
}

void api__ns_worker_stop(struct api__ns_worker *w)
{
    if (!w)
        return;
    w->stop = true;
    pthread_join(w->thread, NULL);
    free(w);
}
