/*
 * api/delete: DELETE of one object, and of a collection (deletecollection).
 *
 * What Kubernetes answers, which clients rely on:
 *
 *   - An object that finalizers hold is not removed: it gets
 *     metadata.deletionTimestamp (once) and the reply is the object, 200. The
 *     update that removes its last finalizer removes it (objects.c). A
 *     namespace is held by spec.finalizers too, and also gets status.phase
 *     Terminating; namespace.c empties it and removes it.
 *   - Otherwise the object is removed and the reply is the object as it was
 *     (kinds with return_deleted: pods, namespaces and custom resources, as
 *     Kubernetes' ReturnDeletedObject), or a Status Success whose details name
 *     it: {"name", "group", "kind": <resource>, "uid"}.
 *   - deletecollection deletes each object that the labelSelector and
 *     fieldSelector match as above and replies with the list of the objects
 *     as they were (the generic registry's DeleteCollection answer).
 *
 *   - A pod bound to a live node (one that exists and is Ready) and not
 *     terminal is deleted gracefully, as Kubernetes' pod strategy does:
 *     metadata.deletionTimestamp = now + the grace period and
 *     deletionGracePeriodSeconds = gracePeriodSeconds (body or query), else
 *     spec.terminationGracePeriodSeconds, else 30; the reply is the pod. Its
 *     agent stops it and deletes it with gracePeriodSeconds=0 (docs/cluster.md);
 *     a later delete may only shorten the grace, and a status write that makes
 *     the pod terminal removes it too (objects.c). A pod that is not bound, is
 *     terminal, or is on a lost node goes at once: no agent would finish it.
 *
 * A DeleteOptions body is accepted; its preconditions (uid, resourceVersion)
 * are honoured, dryRun=All deletes nothing, propagationPolicy has nothing to act
 * on: muster has no garbage collector of dependents. deletecollection removes
 * pods at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "model/model.h"

static json_t *meta_of(json_t *obj)
{
    return json_object_get(obj, "metadata");
}

static const char *meta_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(meta_of(obj), key));
    return s ? s : "";
}

/* dryRun=All, in the query or in the DeleteOptions body opts (may be NULL). */
static bool dry_run(const struct api_req *req, json_t *opts)
{
    const char *q = api_req_query(req, "dryRun");
    const char *b = json_string_value(json_array_get(json_object_get(opts, "dryRun"), 0));
    return (q && !strcmp(q, "All")) || (b && !strcmp(b, "All"));
}

static bool pod_terminal(json_t *obj)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *ph = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
    return kind && !strcmp(kind, "Pod") && ph &&
           (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

bool api__deletion_due(json_t *obj)
{
    return json_integer_value(json_object_get(meta_of(obj), "deletionGracePeriodSeconds")) == 0 ||
           pod_terminal(obj);
}

/* Whether the node named name exists and is Ready (its agent will finish a
 * graceful deletion). */
static bool node_live(struct api_ctx *ctx, const char *name)
{
    char key[STORE_KEY_MAX];
    struct store_kv *kv = NULL;
    struct err e;
    if (api__key(api_registry_find("", "v1", "nodes"), "", name, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, &e) < 0)
        return false;
    json_t *n = api__decode_stored(NULL, kv);
    store_kv_unref(kv);
    bool ready = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(n, "status"), "conditions"), i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (type && st && !strcmp(type, "Ready"))
            ready = !strcmp(st, "True");
    }
    json_decref(n);
    return ready;
}

/* The grace period of deleting pod (see the top of the file); 0: at once. */
static int64_t pod_grace(struct api_ctx *ctx, const struct api_req *req, json_t *pod, json_t *opts)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    if (!node || !*node || pod_terminal(pod))
        return 0;
    int64_t grace = 30;
    json_t *tg = json_object_get(spec, "terminationGracePeriodSeconds");
    if (json_is_integer(tg))
        grace = json_integer_value(tg);
    const char *q = api_req_query(req, "gracePeriodSeconds");
    json_t *og = json_object_get(opts, "gracePeriodSeconds");
    if (json_is_integer(og))
        grace = json_integer_value(og);
    else if (q && *q)
        grace = strtoll(q, NULL, 10);
    if (grace < 0)
        grace = 1; /* as Kubernetes */
    return grace > 0 && node_live(ctx, node) ? grace : 0;
}

/* Marks pod (cur, stored at key) for graceful deletion with grace seconds, or
 * shortens a grace already running; *out is the result. */
static int delete_gracefully(struct api_ctx *ctx, const char *key, const struct store_kv *kv,
                             json_t *cur, int64_t grace, int64_t expect, struct store_kv **out,
                             struct err *e)
{
    json_t *md = meta_of(cur);
    if (*meta_str(cur, "deletionTimestamp") &&
        json_integer_value(json_object_get(md, "deletionGracePeriodSeconds")) <= grace) {
        *out = store_kv_ref((struct store_kv *)kv);
        return 0;
    }
    char ts[32];
    api__rfc3339_after(ts, sizeof ts, grace);
    json_object_set_new(md, "deletionTimestamp", json_string(ts));
    json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace));
    json_object_del(md, "resourceVersion");
    size_t len;
    char *enc = api__encode_stored(NULL, cur, &len, e);
    int rc = enc ? store_update(ctx->store, key, enc, len, expect, out, e) : -1;
    free(enc);
    return rc;
}

int api__delete_kv(struct api_ctx *ctx, const char *key, const struct store_kv *kv, int64_t expect,
                   struct store_kv **out, struct err *e)
{
    if (!expect)
        expect = kv->mod_rev;
    json_t *cur = api__decode_stored(NULL, kv);
    if (!cur)
        return errf(e, EIO, "stored object %s is not JSON", key);
    int rc = 0;
    if (!api__has_finalizers(cur)) {
        rc = store_delete(ctx->store, key, expect, out, e);
    } else if (*meta_str(cur, "deletionTimestamp") &&
               !json_integer_value(json_object_get(meta_of(cur), "deletionGracePeriodSeconds"))) {
        *out = store_kv_ref((struct store_kv *)kv); /* already being deleted */
    } else {
        char ts[32];
        api__now_rfc3339(ts, sizeof ts);
        json_object_set_new(meta_of(cur), "deletionTimestamp", json_string(ts));
        json_object_set_new(meta_of(cur), "deletionGracePeriodSeconds", json_integer(0));
        json_object_del(meta_of(cur), "resourceVersion");
        if (!strcmp(json_string_value(json_object_get(cur, "kind")) ?: "", "Namespace")) {
            json_t *st = json_object_get(cur, "status");
            if (!json_is_object(st)) {
                st = json_object();
                json_object_set_new(cur, "status", st);
            }
            json_object_set_new(st, "phase", json_string("Terminating"));
        }
        size_t len;
        char *enc = api__encode_stored(NULL, cur, &len, e);
        rc = enc ? store_update(ctx->store, key, enc, len, expect, out, e) : -1;
        free(enc);
    }
    json_decref(cur);
    return rc;
}

/* The Status Success Kubernetes answers for a removed object of a kind
 * without return_deleted. */
static void deleted_status(struct api_resp *r, const struct api_kind *k, json_t *obj)
{
    json_t *det = json_pack("{s:s,s:s}", "name", meta_str(obj, "name"), "kind", k->resource);
    if (k->group[0])
        json_object_set_new(det, "group", json_string(k->group));
    if (*meta_str(obj, "uid"))
        json_object_set_new(det, "uid", json_string(meta_str(obj, "uid")));
    api__json(r, 200,
              json_pack("{s:s,s:s,s:{},s:s,s:o}", "kind", "Status", "apiVersion", "v1", "metadata",
                        "status", "Success", "details", det));
}

/* Refuses what Kubernetes' namespace registry refuses; 0, or -1 with r
 * filled. */
static int namespace_rules(const struct api_target *t, json_t *cur, struct api_resp *r)
{
    struct err e;
    if (api__ns_immortal(t->name)) {
        errf(&e, API_EFORBIDDEN, "this namespace may not be deleted");
        api__fail(r, &e, &(struct api_obj_ref){t->kind, t->name});
        return -1;
    }
    if (*meta_str(cur, "deletionTimestamp") &&
        json_array_size(json_object_get(json_object_get(cur, "spec"), "finalizers"))) {
        errf(&e, STORE_ECONFLICT,
             "Operation cannot be fulfilled on namespaces \"%.63s\": The system is ensuring "
             "all content is removed from this namespace.  Upon completion, this namespace will "
             "automatically be purged by the system.",
             t->name);
        api__fail(r, &e, NULL);
        return -1;
    }
    return 0;
}

void api__delete(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                 struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_obj_ref ref = {t->kind, t->name};
    char key[STORE_KEY_MAX];
    struct store_kv *kv = NULL, *out = NULL;
    json_t *cur = NULL, *opts = NULL;
    if (api__key(t->kind, t->ns, t->name, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, &e) < 0) {
        e.code = STORE_ENOTFOUND;
        goto fail;
    }
    cur = api__decode_stored(NULL, kv);
    if (!cur) {
        errf(&e, EIO, "stored object %s is not JSON", key);
        goto fail;
    }
    int64_t expect = kv->mod_rev;
    if (req->body && req->body_len) {
        /* DeleteOptions: preconditions are honoured, the rest is accepted. */
        opts = api__parse_body(req, "DeleteOptions", false, r, &e);
        if (!opts)
            goto fail;
        json_t *pre = json_object_get(opts, "preconditions");
        const char *puid = json_string_value(json_object_get(pre, "uid"));
        const char *prv = json_string_value(json_object_get(pre, "resourceVersion"));
        if (puid && strcmp(puid, meta_str(cur, "uid"))) {
            errf(&e, STORE_ECONFLICT, "uid precondition failed");
            goto fail;
        }
        if (prv && *prv)
            expect = strtoll(prv, NULL, 10);
    }
    if (t->kind->model == MODEL_NAMESPACE && namespace_rules(t, cur, r) < 0)
        goto done;
    if (dry_run(req, opts))
        goto dry;
    int64_t grace =
        !strcmp(t->kind->kind, "Pod") && !t->kind->group[0] ? pod_grace(ctx, req, cur, opts) : 0;
    if (grace > 0 ? delete_gracefully(ctx, key, kv, cur, grace, expect, &out, &e) < 0
                  : api__delete_kv(ctx, key, kv, expect, &out, &e) < 0)
        goto fail;
    if (out->type != STORE_DELETED || t->kind->return_deleted)
        api__reply_kv(r, 200, t->kind, out);
    else
        deleted_status(r, t->kind, cur);
    goto done;
dry:
    api__reply_kv(r, 200, t->kind, kv);
done:
    store_kv_unref(kv);
    store_kv_unref(out);
    json_decref(cur);
    json_decref(opts);
    return;
fail:
    store_kv_unref(kv);
    store_kv_unref(out);
    json_decref(cur);
    json_decref(opts);
    api__fail(r, &e, &ref);
}

/* Deletes one listed object, reading it again when it changed meanwhile (as
 * Kubernetes' DeleteCollection does with each item). An object already gone
 * is not an error. */
static int delete_listed(void *arg, const struct store_kv *kv, struct err *e)
{
    struct api_ctx *ctx = arg;
    struct store_kv *cur = store_kv_ref((struct store_kv *)kv), *out = NULL;
    int rc = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        rc = api__delete_kv(ctx, cur->key, cur, 0, &out, e);
        store_kv_unref(out);
        out = NULL;
        if (rc == 0 || (e->code != STORE_ECONFLICT && e->code != STORE_ENOTFOUND))
            break;
        store_kv_unref(cur);
        cur = NULL;
        if (store_get(ctx->store, kv->key, &cur, e) < 0) {
            rc = e->code == STORE_ENOTFOUND ? 0 : -1;
            break;
        }
    }
    store_kv_unref(cur);
    return rc;
}

void api__delete_collection(struct api_ctx *ctx, const struct api_req *req,
                            const struct api_target *t, const char *prefix, struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_selector ls = {0}, fs = {0};
    struct store_list l = {0};
    json_t *opts = NULL;
    if (api__selectors(req, t->kind, &ls, &fs, &e) < 0)
        goto fail;
    if (req->body && req->body_len && !(opts = api__parse_body(req, "DeleteOptions", false, r, &e)))
        goto fail;
    struct store_list_opts lo = {0};
    if (store_list(ctx->store, prefix, &lo, &l, &e) < 0)
        goto fail;
    if (api__reply_list(r, t->kind, &l, &ls, &fs, dry_run(req, opts) ? NULL : delete_listed, ctx,
                        &e) < 0)
        goto fail;
    store_list_release(&l);
    api__selector_release(&ls);
    api__selector_release(&fs);
    json_decref(opts);
    return;
fail:
    store_list_release(&l);
    api__selector_release(&ls);
    api__selector_release(&fs);
    json_decref(opts);
    api__fail(r, &e, &(struct api_obj_ref){t->kind, NULL});
}
