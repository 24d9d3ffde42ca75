/*
 * api/objects: create, get, list, update and patch, and the status, binding
 * and finalize subresources, on the store. DELETE is delete.c's; the stored
 * form and the version a request sees are stored.c's.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "api/patch.h"
#include "api/protobuf.h"
#include "api/table.h"
#include "base/alloc.h"
#include "base/jscan.h"
#include "base/mtime.h"
#include "model/jsonin.h"
#include "model/jsonout.h"
#include "model/model.h"

int api__key(const struct api_kind *k, const char *ns, const char *name, char *buf, size_t size)
{
    char prefix[256];
    api_kind_key_prefix(k, prefix, sizeof prefix);
    const char *p[] = {prefix, k->namespaced ? ns : NULL, k->namespaced ? "/" : NULL, name};
    int n = str_join(buf, size, p, 4);
    return n < 0 || (size_t)n >= size ? -1 : n;
}

bool api__parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (!strcmp(s, t[i]))
            return *out = true;
        if (!strcmp(s, f[i]))
            return !(*out = false);
    }
    return false;
}

/* ---- helpers ------------------------------------------------------------ */

static json_t *meta_of(json_t *obj)
{
    return json_object_get(obj, "metadata");
}

static const char *meta_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(meta_of(obj), key));
}

/* RFC 1123 subdomain (label: no dots, at most 63). */
static bool dns_name(const char *s, bool label)
{
    size_t n = strlen(s);
    if (n == 0 || n > (label ? 63u : 253u))
        return false;
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '-' || (c == '.' && !label)))
            return false;
    }
    return true;
}

/* Deletes the value at a model error path ("spec.a[2].b") from obj; false when
 * the path does not lead anywhere. */
static bool delete_path(json_t *obj, const char *path)
{
    char buf[512];
    if (strlen(path) >= sizeof buf)
        return false;
    strcpy(buf, path);
    json_t *cur = obj;
    char *p = buf;
    for (;;) {
        size_t n = strcspn(p, ".[");
        char save = p[n];
        p[n] = 0;
        if (save == 0)
            return json_is_object(cur) && json_object_del(cur, p) == 0;
        cur = json_object_get(cur, p);
        p += n + 1;
        while (save == '[') {
            char *end;
            long i = strtol(p, &end, 10);
            if (*end != ']' || !json_is_array(cur))
                return false;
            cur = json_array_get(cur, (size_t)i);
            p = end + 1;
            save = *p;
            if (save == '.')
                p++;
            else if (save == '[')
                p++;
            else if (save == 0)
                return false;
        }
        if (!cur)
            return false;
    }
}

enum field_validation { FV_STRICT, FV_WARN, FV_IGNORE };

/* Validates obj with src/model when the kind has a model. Unknown fields are an
 * error under Strict; under Warn and Ignore they are dropped from obj (Warn also
 * notes them in r->warning) and the rest is validated. Errors come back as
 * API_EINVALID with "field: reason". */
static int model_check(const struct api_kind *k, json_t *obj, enum field_validation fv,
                       struct api_resp *r, struct err *e)
{
    if (k->model == MODEL_KIND_NONE)
        return 0;
    for (int tries = 0; tries < 64; tries++) {
        struct model_obj *mo = NULL;
        struct err me;
        err_clear(&me);
        if (model_decode_value(obj, &mo, &me) == 0) {
            model_obj_free(mo);
            return 0;
        }
        /* The model's message is `Kind "name": path: reason` or
         * `Kind "name": unknown field "path"`. */
        const char *rest = strstr(me.msg, "\": ");
        rest = rest ? rest + 3 : me.msg;
        static const char uf[] = "unknown field \"";
        if (!strncmp(rest, uf, sizeof uf - 1)) {
            char field[256];
            const char *f = rest + sizeof uf - 1;
            size_t n = strcspn(f, "\"");
            snprintf(field, sizeof field, "%.*s", (int)n, f);
            if (fv != FV_STRICT && delete_path(obj, field)) {
                if (fv == FV_WARN && !r->warning[0])
                    snprintf(r->warning, sizeof r->warning,
                             "299 - \"unknown field \\\"%.200s\\\"\"", field);
                continue;
            }
            return errf(e, API_EINVALID, "%s: unknown field \"%s\"", field, field);
        }
        if (!strchr(rest, ':'))
            return errf(e, API_EINVALID, "metadata: %s", rest);
        return errf(e, API_EINVALID, "%s", rest);
    }
    return errf(e, API_EINVALID, "metadata: too many unknown fields");
}

static enum field_validation field_validation(const struct api_req *req)
{
    const char *v = api_req_query(req, "fieldValidation");
    if (v && !strcmp(v, "Strict"))
        return FV_STRICT;
    if (v && !strcmp(v, "Ignore"))
        return FV_IGNORE;
    return FV_WARN; /* Kubernetes' default */
}

/* Parses the body, which carries a `kind` ("Pod"; "DeleteOptions",
 * "Binding"), as one JSON object, or, with the protobuf Content-Type, through
 * src/api/protobuf.h into the same tree (unknown field numbers follow fv; a
 * Warn goes to r->warning). API_EBADREQ, API_EMEDIA or API_EINVALID otherwise. */
static json_t *parse_body(const struct api_req *req, const char *kind, enum field_validation fv,
                          struct api_resp *r, struct err *e)
{
    if (!req->body || !req->body_len) {
        errf(e, API_EBADREQ, "the request body is empty");
        return NULL;
    }
    if (protobuf_is_media_type(req->content_type)) {
        char warn[200];
        json_t *o = protobuf_decode(req->body, req->body_len, kind,
                                    fv == FV_STRICT ? PROTOBUF_UNKNOWN_REJECT
                                    : fv == FV_WARN ? PROTOBUF_UNKNOWN_WARN
                                                    : PROTOBUF_UNKNOWN_DROP,
                                    warn, sizeof warn, e);
        if (o && warn[0] && !r->warning[0])
            snprintf(r->warning, sizeof r->warning, "299 - \"%s\"", warn);
        return o;
    }
    bool strict = fv == FV_STRICT;
    json_error_t je;
    json_t *o = jsonin_loadb(req->body, req->body_len, strict ? JSON_REJECT_DUPLICATES : 0, &je);
    if (!o) {
        errf(e, API_EBADREQ, "the body is not valid JSON: line %d column %d: %s", je.line,
             je.column, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        errf(e, API_EBADREQ, "the body is not a JSON object");
        return NULL;
    }
    return o;
}

/* Checks apiVersion and kind against the path (defaulting them when absent),
 * metadata, the namespace and the name. */
static int check_identity(const struct api_kind *k, const struct api_target *t, json_t *obj,
                          bool create, struct err *e)
{
    char av[128];
    api_kind_api_version(k, av, sizeof av);
    json_t *jav = json_object_get(obj, "apiVersion"), *jk = json_object_get(obj, "kind");
    if (!jav)
        json_object_set_new(obj, "apiVersion", json_string(av));
    else if (!json_is_string(jav) || strcmp(json_string_value(jav), av))
        return errf(e, API_EBADREQ,
                    "the API version in the data (%s) does not match the expected API version (%s)",
                    json_is_string(jav) ? json_string_value(jav) : "?", av);
    if (!jk)
        json_object_set_new(obj, "kind", json_string(k->kind));
    else if (!json_is_string(jk) || strcmp(json_string_value(jk), k->kind))
        return errf(e, API_EBADREQ,
                    "the kind in the data (%s) does not match the expected kind (%s)",
                    json_is_string(jk) ? json_string_value(jk) : "?", k->kind);
    json_t *md = meta_of(obj);
    if (!md) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    if (!json_is_object(md))
        return errf(e, API_EINVALID, "metadata: Invalid value: must be an object");
    json_t *jns = json_object_get(md, "namespace");
    if (jns && !json_is_string(jns))
        return errf(e, API_EINVALID, "metadata.namespace: Invalid value: must be a string");
    if (k->namespaced) {
        if (jns && json_string_length(jns) && strcmp(json_string_value(jns), t->ns))
            return errf(e, API_EBADREQ,
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request");
        json_object_set_new(md, "namespace", json_string(t->ns));
    } else {
        json_object_del(md, "namespace");
    }
    json_t *jn = json_object_get(md, "name");
    if (jn && !json_is_string(jn))
        return errf(e, API_EINVALID, "metadata.name: Invalid value: must be a string");
    if (create && (!jn || !json_string_length(jn))) {
        const char *gen = json_string_value(json_object_get(md, "generateName"));
        if (!gen || !*gen)
            return errf(e, API_EINVALID,
                        "metadata.name: Required value: name or generateName is required");
        char name[300], uid[40];
        api__new_uid(uid, sizeof uid);
        snprintf(name, sizeof name, "%.247s%.5s", gen, uid);
        json_object_set_new(md, "name", json_string(name));
        jn = json_object_get(md, "name");
    }
    const char *name = json_string_value(jn);
    if (!name)
        return errf(e, API_EINVALID, "metadata.name: Required value: name is required");
    if (t->name[0] && strcmp(name, t->name))
        return errf(e, API_EBADREQ,
                    "the name of the object (%s) does not match the name on the URL (%s)", name,
                    t->name);
    bool label = !strcmp(k->kind, "Namespace");
    if (!dns_name(name, label))
        return errf(e, API_EINVALID,
                    "metadata.name: Invalid value: \"%.100s\": a lowercase RFC 1123 %s must "
                    "consist of lower case alphanumeric characters, '-'%s, and must start and end "
                    "with an alphanumeric character",
                    name, label ? "label" : "subdomain", label ? "" : " or '.'");
    return 0;
}

bool api__has_finalizers(json_t *obj)
{
    if (json_array_size(json_object_get(meta_of(obj), "finalizers")))
        return true;
    /* A namespace is also held by spec.finalizers ("kubernetes" until its
     * content is gone: namespace.c). */
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    return kind && !strcmp(kind, "Namespace") &&
           json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")) > 0;
}

json_t *api__parse_body(const struct api_req *req, const char *kind, bool strict,
                        struct api_resp *r, struct err *e)
{
    return parse_body(req, kind, strict ? FV_STRICT : FV_WARN, r, e);
}

/* The parts of an object that are neither metadata nor status (for generation). */
static bool spec_equal(json_t *a, json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v)
    {
        if (!strcmp(key, "metadata") || !strcmp(key, "status"))
            continue;
        if (!json_equal(v, json_object_get(b, key)))
            return false;
    }
    json_object_foreach(b, key, v)
    {
        if (strcmp(key, "metadata") && strcmp(key, "status") && !json_object_get(a, key))
            return false;
    }
    return true;
}

/* ---- verbs --------------------------------------------------------------- */

/* ---- Table output -------------------------------------------------------- */

static bool wants_table(const struct api_req *req)
{
    /* kubectl's Accept lists the Table media types first and plain JSON last;
     * a client that names a Table at all prefers it. */
    return req->accept && strstr(req->accept, "as=Table") && strstr(req->accept, "g=meta.k8s.io");
}

/* Every object under prefix, parsed (resourceVersion set), as a new array. */
static json_t *load_all(struct api_ctx *ctx, const char *prefix)
{
    struct store_list l = {0};
    struct store_list_opts lo = {0};
    struct err e;
    json_t *a = json_array();
    if (store_list(ctx->store, prefix, &lo, &l, &e) < 0)
        return a;
    for (size_t i = 0; i < l.len; i++) {
        json_t *o = api__decode_stored(NULL, l.items[i]);
        if (o)
            json_array_append_new(a, o);
    }
    store_list_release(&l);
    return a;
}

/* Fills o for a Table of kind k: includeObject from the query (API_EBADREQ when
 * bad), the clock, and for nodes the pods (o->pods, a new array the caller
 * json_decref()s). Returns 0 or -1. */
static int table_opts_init(struct api_ctx *ctx, const struct api_req *req, const struct api_kind *k,
                           struct table_opts *o, struct err *e)
{
    memset(o, 0, sizeof *o);
    if (table_include_parse(api_req_query(req, "includeObject"), &o->include, e) < 0) {
        e->code = API_EBADREQ;
        return -1;
    }
    o->now_ns = mtime_wall_ns();
    /* Nodes show their free GPUs, counted from the pods bound to them. */
    if (!strcmp(k->kind, "Node") && !k->group[0])
        o->pods = load_all(ctx, "/registry/core/pods/");
    return 0;
}

/* Replies with the Table of objs (borrowed), or a Status. */
static void reply_table(struct api_resp *r, const struct api_kind *k, json_t *objs,
                        const struct table_opts *o)
{
    struct err e;
    json_t *tb = table_convert(k->kind, objs, o, &e);
    if (!tb) {
        e.code = EIO;
        return api__fail(r, &e, NULL);
    }
    api__json(r, 200, tb);
    if (r->code == 200)
        r->content_type = TABLE_CONTENT_TYPE;
}

static void do_get(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                   struct api_resp *r)
{
    char key[STORE_KEY_MAX];
    struct err e;
    struct api_obj_ref ref = {t->kind, t->name};
    struct store_kv *kv = NULL;
    if (api__key(t->kind, t->ns, t->name, key, sizeof key) < 0) {
        errf(&e, STORE_ENOTFOUND, "name too long");
        return api__fail(r, &e, &ref);
    }
    if (store_get(ctx->store, key, &kv, &e) < 0)
        return api__fail(r, &e, &ref);
    if (wants_table(req)) {
        struct table_opts o;
        json_t *one = json_array(), *obj = api__decode_stored(t->kind, kv);
        if (obj)
            json_array_append_new(one, obj);
        if (table_opts_init(ctx, req, t->kind, &o, &e) < 0)
            api__fail(r, &e, NULL);
        else
            reply_table(r, t->kind, one, &o);
        json_decref(o.pods);
        json_decref(one);
    } else {
        api__reply_kv(r, 200, t->kind, kv);
    }
    store_kv_unref(kv);
}

static void do_list(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                    const char *prefix, struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_selector ls = {0}, fs = {0};
    struct store_list l = {0};
    if (api__selectors(req, t->kind, &ls, &fs, &e) < 0)
        goto fail;
    struct store_list_opts lo = {0};
    const char *lim = api_req_query(req, "limit");
    if (lim) {
        char *end;
        long long n = strtoll(lim, &end, 10);
        if (*end || n < 0) {
            errf(&e, API_EBADREQ, "limit: invalid value \"%s\"", lim);
            goto fail;
        }
        lo.limit = (size_t)n;
    }
    const char *cont = api_req_query(req, "continue");
    if (cont && *cont)
        lo.cont = cont;
    const char *rvm = api_req_query(req, "resourceVersionMatch");
    const char *rv = api_req_query(req, "resourceVersion");
    if (rv && *rv && strcmp(rv, "0") && rvm && !strcmp(rvm, "Exact") && !lo.cont) {
        char *end;
        lo.rev = strtoll(rv, &end, 10);
        if (*end || lo.rev <= 0) {
            errf(&e, API_EBADREQ, "resourceVersion: invalid value \"%s\"", rv);
            goto fail;
        }
    }
    if (store_list(ctx->store, prefix, &lo, &l, &e) < 0)
        goto fail;

    if (wants_table(req)) {
        struct table_opts o;
        if (table_opts_init(ctx, req, t->kind, &o, &e) < 0)
            goto fail;
        char rvs[24];
        snprintf(rvs, sizeof rvs, "%" PRId64, l.rev);
        o.resource_version = rvs;
        o.continue_token = l.cont;
        json_t *objs = json_array();
        bool filter = ls.n || fs.n;
        for (size_t i = 0; i < l.len; i++) {
            json_t *obj = api__decode_stored(t->kind, l.items[i]);
            if (obj && (!filter || (api__selector_matches(&ls, false, obj) &&
                                    api__selector_matches(&fs, true, obj))))
                json_array_append(objs, obj);
            json_decref(obj);
        }
        reply_table(r, t->kind, objs, &o);
        json_decref(objs);
        json_decref(o.pods);
    } else if (api__reply_list(r, t->kind, &l, &ls, &fs, NULL, NULL, &e) < 0) {
        goto fail;
    }
    store_list_release(&l);
    api__selector_release(&ls);
    api__selector_release(&fs);
    return;
fail:
    store_list_release(&l);
    api__selector_release(&ls);
    api__selector_release(&fs);
    api__fail(r, &e, &(struct api_obj_ref){t->kind, NULL});
}

/* The field manager of a write, as kube-apiserver picks it: ?fieldManager,
 * else the User-Agent up to its first '/' ("kubectl/v1.32.4 (linux/amd64) ..."
 * gives "kubectl"), without unprintable characters and cut at 128 bytes (a
 * whole UTF-8 character at a time); "unknown" when that leaves nothing. The
 * name is written into buf (at least 129 bytes) when it comes from the
 * User-Agent. */
static const char *field_manager(const struct api_req *req, char *buf, size_t size)
{
    const char *m = api_req_query(req, "fieldManager");
    if (m && *m)
        return m;
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)(req->user_agent ? req->user_agent : "");
         *u && *u != '/';) {
        size_t len = *u < 0x80 ? 1 : *u >= 0xf0 ? 4 : *u >= 0xe0 ? 3 : *u >= 0xc0 ? 2 : 1;
        size_t have = strnlen((const char *)u, len);
        if (*u < 0x20 || *u == 0x7f || (*u >= 0x80 && *u < 0xc0) || have < len) {
            u++; /* a control byte, or a broken UTF-8 sequence: skipped */
            continue;
        }
        if (n + len > 128 || n + len >= size)
            break;
        memcpy(buf + n, u, len);
        n += len;
        u += len;
    }
    buf[n] = 0;
    return n ? buf : "unknown";
}

static bool dry_run(const struct api_req *req)
{
    const char *dry = api_req_query(req, "dryRun");
    return dry && !strcmp(dry, "All");
}

/* Frees the members of trees (objects) that a write has encoded and will not
 * read again, before it waits for its commit: freed now, they are still in this
 * core's cache; after the wait, other threads have run (tens of them on two
 * cores) and each node costs a cache miss. The emptied objects stay for their
 * owners to free. NULLs are skipped. */
static void release_early(json_t *a, json_t *b)
{
    if (json_is_object(a))
        json_object_clear(a);
    if (json_is_object(b))
        json_object_clear(b);
}

/* Records a non-apply write of obj (old: the stored object, NULL on create) in
 * metadata.managedFields. */
static int record_update(const struct api_kind *k, const struct api_req *req, json_t *obj,
                         json_t *old, struct err *e)
{
    char av[128], ts[32], mbuf[132];
    api_kind_api_version(k, av, sizeof av);
    api__now_rfc3339(ts, sizeof ts);
    if (patch_managed_update(obj, old, k->kind, field_manager(req, mbuf, sizeof mbuf), av, ts, e) <
        0) {
        e->code = API_EINVALID;
        return -1;
    }
    return 0;
}

/* What Kueue's mutating webhook does on create: a batch/v1 Job labelled
 * kueue.x-k8s.io/queue-name is created suspended, so that no pod of it starts
 * before its Workload is admitted (the Job controller unsuspends it then). */
static void default_on_create(const struct api_kind *k, json_t *obj)
{
    if (strcmp(k->kind, "Job") != 0 || strcmp(k->group, "batch") != 0)
        return;
    json_t *labels = json_object_get(meta_of(obj), "labels");
    if (!json_is_string(json_object_get(labels, "kueue.x-k8s.io/queue-name")))
        return;
    json_t *spec = json_object_get(obj, "spec");
    if (json_is_object(spec))
        json_object_set_new(spec, "suspend", json_true());
}

/* Stores obj, whose identity check_identity() has passed, as a new object:
 * server-owned metadata, validation, dryRun. Replies 201 with the stored form.
 * With update true (server-side apply of an absent object) managedFields are
 * the caller's; otherwise the write is recorded as an Update. */
static int create_obj(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                      json_t *obj, enum field_validation fv, bool apply, struct api_resp *r,
                      struct err *e)
{
    json_t *md = meta_of(obj);
    const char *name = json_string_value(json_object_get(md, "name"));
    char uid[40], ts[32], key[STORE_KEY_MAX];
    api__new_uid(uid, sizeof uid);
    api__now_rfc3339(ts, sizeof ts);
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "creationTimestamp", json_string(ts));
    json_object_set_new(md, "generation", json_integer(1));
    json_object_del(md, "resourceVersion");
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "deletionGracePeriodSeconds");
    if (t->kind->model == MODEL_NAMESPACE)
        api__ns_prepare(obj, NULL);
    default_on_create(t->kind, obj);
    /* Validation first: under Warn and Ignore it drops unknown fields, which
     * then own nothing. */
    if (model_check(t->kind, obj, fv, r, e) < 0)
        return -1;
    if (!apply) {
        json_object_del(md, "managedFields");
        if (record_update(t->kind, req, obj, NULL, e) < 0)
            return -1;
    }
    if (api__key(t->kind, t->ns, name, key, sizeof key) < 0)
        return errf(e, API_EINVALID, "metadata.name: Invalid value: too long");
    size_t len;
    char *enc = api__encode_stored(t->kind, obj, &len, e);
    if (!enc)
        return -1;
    if (dry_run(req)) {
        api__reply_obj(r, 201, obj, 0);
    } else {
        struct store_kv *kv = NULL;
        release_early(obj, NULL);
        if (store_create(ctx->store, key, enc, len, &kv, e) < 0) {
            free(enc);
            return -1;
        }
        api__reply_kv(r, 201, t->kind, kv);
        store_kv_unref(kv);
    }
    free(enc);
    return 0;
}

static void do_create(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                      struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    enum field_validation fv = field_validation(req);
    json_t *obj = parse_body(req, t->kind->kind, fv, r, &e);
    struct api_obj_ref ref = {t->kind, NULL};
    /* ref outlives obj (the failure path frees obj first): copy the name. */
    char namebuf[256];
    if (!obj)
        goto fail;
    /* The name as given names the object in a refusal of it too (Kubernetes:
     * `Pod "Bad_Name" is invalid: metadata.name: ...`). */
    if (json_is_string(json_object_get(meta_of(obj), "name"))) {
        snprintf(namebuf, sizeof namebuf, "%s", meta_str(obj, "name"));
        ref.name = namebuf;
    }
    struct api_target tt = *t;
    tt.name[0] = 0;
    if (check_identity(t->kind, &tt, obj, true, &e) < 0)
        goto fail;
    snprintf(namebuf, sizeof namebuf, "%s", meta_str(obj, "name"));
    ref.name = namebuf;
    if (api__ns_admit(ctx, t->kind, t->ns, namebuf, r) < 0) {
        json_decref(obj); /* refused: r holds the Status */
        return;
    }
    if (create_obj(ctx, req, t, obj, fv, false, r, &e) < 0)
        goto fail;
    json_decref(obj);
    return;
fail:
    json_decref(obj);
    api__fail(r, &e, &ref);
}

/* Copies the metadata the server owns from the stored object cur into obj. */
static void keep_server_meta(json_t *obj, json_t *cur)
{
    static const char *const keep[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                       "deletionGracePeriodSeconds", "generation"};
    json_t *md = meta_of(obj), *cmd = meta_of(cur);
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(cmd, keep[i]);
        if (v)
            json_object_set(md, keep[i], v);
        else
            json_object_del(md, keep[i]);
    }
}

/* Writes new over cur (expected revision rev), or deletes the key when new is
 * being deleted, has no finalizers left and its deletion is due (a pod in
 * graceful deletion stays until its agent deletes it, or it is terminal).
 * Replies with the result. obj and old (the stored object the write was made
 * from, or NULL) are emptied (release_early): their owners free them, and
 * read nothing more of them. */
static int write_back(struct api_ctx *ctx, const struct api_kind *k, const char *key, json_t *obj,
                      json_t *old, int64_t rev, int code, struct api_resp *r, struct err *e)
{
    struct store_kv *kv = NULL;
    if (meta_str(obj, "deletionTimestamp") && !api__has_finalizers(obj) && api__deletion_due(obj)) {
        release_early(obj, old);
        if (store_delete(ctx->store, key, rev, &kv, e) < 0)
            return -1;
    } else {
        size_t len;
        char *enc = api__encode_stored(k, obj, &len, e);
        if (!enc)
            return -1;
        release_early(obj, old);
        int rc = store_update(ctx->store, key, enc, len, rev, &kv, e);
        free(enc);
        if (rc < 0)
            return -1;
    }
    api__reply_kv(r, code, k, kv);
    store_kv_unref(kv);
    return 0;
}

/* Whether the spec of obj differs from cur's, compared as stored: a spelling
 * of an older version that converts to the stored value (Kueue v1beta1's
 * Borrow for MayStopSearch) is no change. */
static bool spec_changed(const struct api_kind *k, json_t *obj, json_t *cur)
{
    if (!api__converts(k))
        return !spec_equal(obj, cur);
    json_t *a = json_deep_copy(obj), *b = json_deep_copy(cur);
    struct err e;
    bool changed =
        api__to_storage(k, a, &e) < 0 || api__to_storage(k, b, &e) < 0 || !spec_equal(a, b);
    json_decref(a);
    json_decref(b);
    return changed;
}

/* Makes obj, written through t over the stored object cur, the object to
 * store: through a subresource only its part changes (status; a namespace's
 * spec.finalizers for finalize), the rest is cur's, and managedFields are
 * obj's when take_managed; through the main resource the stored status stays
 * (for kinds with the status subresource), a namespace keeps what only the
 * server and finalize change, and generation is bumped when the spec changed.
 * Consumes obj; returns the object to store. */
static json_t *merge_write(const struct api_target *t, json_t *obj, json_t *cur, bool take_managed)
{
    json_t *next = NULL;
    if (t->sub == API_SUB_STATUS) {
        /* The stored object with obj's status, in cur's order: cur's members
         * shared, not copied (cur is dropped after the write, and what comes
         * later changes only next's metadata, a copy of its own). */
        next = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(cur, k, v)
        {
            if (strcmp(k, "status") == 0) {
                if (json_object_get(obj, "status"))
                    json_object_set(next, k, json_object_get(obj, "status"));
            } else if (strcmp(k, "metadata") == 0 && json_is_object(v)) {
                json_object_set_new(next, k, json_copy(v));
            } else {
                json_object_set(next, k, v);
            }
        }
        if (!json_object_get(cur, "status") && json_object_get(obj, "status"))
            json_object_set(next, "status", json_object_get(obj, "status"));
    } else if (t->sub == API_SUB_FINALIZE) {
        next = json_deep_copy(cur);
        json_t *spec = json_object_get(next, "spec");
        if (!json_is_object(spec)) {
            spec = json_object();
            json_object_set_new(next, "spec", spec);
        }
        json_t *fin = json_object_get(json_object_get(obj, "spec"), "finalizers");
        if (fin)
            json_object_set(spec, "finalizers", fin);
        else
            json_object_del(spec, "finalizers");
    }
    if (next) {
        if (take_managed)
            json_object_set(meta_of(next), "managedFields",
                            json_object_get(meta_of(obj), "managedFields"));
        json_object_del(meta_of(next), "resourceVersion");
        json_decref(obj);
        return next;
    }
    if (t->kind->subresources & API_SUB_STATUS) {
        json_t *st = json_object_get(cur, "status");
        if (st)
            json_object_set(obj, "status", st);
        else
            json_object_del(obj, "status");
    }
    if (t->kind->model == MODEL_NAMESPACE)
        api__ns_prepare(obj, cur);
    if (spec_changed(t->kind, obj, cur)) {
        json_int_t g = json_integer_value(json_object_get(meta_of(cur), "generation"));
        json_object_set_new(meta_of(obj), "generation", json_integer(g + 1));
    }
    return obj;
}

static void do_update(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                      struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_obj_ref ref = {t->kind, t->name};
    enum field_validation fv = field_validation(req);
    json_t *obj = parse_body(req, t->kind->kind, fv, r, &e), *cur = NULL;
    struct store_kv *kv = NULL;
    char key[STORE_KEY_MAX];
    if (!obj || check_identity(t->kind, t, obj, false, &e) < 0)
        goto fail;
    if (api__key(t->kind, t->ns, t->name, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, &e) < 0) {
        e.code = STORE_ENOTFOUND;
        goto fail;
    }
    int64_t expect = kv->mod_rev;
    const char *rv = meta_str(obj, "resourceVersion");
    if (rv && *rv) {
        char *end;
        long long n = strtoll(rv, &end, 10);
        if (*end || n <= 0) {
            errf(&e, API_EINVALID, "metadata.resourceVersion: Invalid value: \"%s\"", rv);
            goto fail;
        }
        expect = n;
    }
    cur = api__decode_stored(t->kind, kv);
    if (!cur) {
        errf(&e, EIO, "stored object %s is not JSON", key);
        goto fail;
    }
    json_t *md = meta_of(obj), *cmd = meta_of(cur);
    /* Server-owned metadata comes from the stored object; so do managedFields
     * when the body has none (a PUT of an object read without them). */
    keep_server_meta(obj, cur);
    if (!json_array_size(json_object_get(md, "managedFields"))) {
        json_t *mf = json_object_get(cmd, "managedFields");
        if (mf)
            json_object_set(md, "managedFields", mf);
    }
    obj = merge_write(t, obj, cur, false);
    json_object_del(meta_of(obj), "resourceVersion");
    if (model_check(t->kind, obj, fv, r, &e) < 0 || record_update(t->kind, req, obj, cur, &e) < 0)
        goto fail;
    if (dry_run(req)) {
        api__reply_obj(r, 200, obj, kv->mod_rev);
    } else if (write_back(ctx, t->kind, key, obj, cur, expect, 200, r, &e) < 0) {
        goto fail;
    }
    store_kv_unref(kv);
    json_decref(obj);
    json_decref(cur);
    return;
fail:
    store_kv_unref(kv);
    json_decref(obj);
    json_decref(cur);
    api__fail(r, &e, &ref);
}

/* Fills in details of the Status in r (which api__fail wrote without a kind,
 * to keep its message as given): name, group (if not ""), kind and, if not
 * NULL, causes (borrowed). */
static void status_details(struct api_resp *r, const char *name, const char *group,
                           const char *kind, json_t *causes)
{
    json_t *st = json_loadb(r->body.buf, r->body.len, 0, NULL);
    json_t *det = json_object_get(st, "details");
    if (!json_is_object(det)) {
        json_decref(st);
        return;
    }
    json_object_set_new(det, "name", json_string(name));
    if (group[0])
        json_object_set_new(det, "group", json_string(group));
    json_object_set_new(det, "kind", json_string(kind));
    if (causes)
        json_object_set(det, "causes", causes);
    int code = r->code;
    api__json(r, code, st);
}

/* pods/NAME/binding and the legacy namespaces/NS/bindings. */
static void do_bind(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                    struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    const struct api_kind *pods = api_registry_find("", "v1", "pods");
    struct api_obj_ref ref = {pods, t->name};
    json_t *b = parse_body(req, "Binding", FV_WARN, r, &e), *pod = NULL;
    struct store_kv *kv = NULL;
    if (!b)
        goto fail;
    const char *bname = meta_str(b, "name");
    if (!bname || !*bname) {
        errf(&e, API_EINVALID, "metadata.name: Required value: the pod to bind");
        goto fail;
    }
    if (t->name[0] && strcmp(bname, t->name)) {
        errf(&e, API_EBADREQ, "name in URL does not match name in Binding object");
        goto fail;
    }
    char namebuf[256];
    snprintf(namebuf, sizeof namebuf, "%s", bname);
    ref.name = namebuf;
    const char *node = json_string_value(json_object_get(json_object_get(b, "target"), "name"));
    if (!node || !*node) {
        errf(&e, API_EINVALID, "target.name: Required value: the node to bind to");
        goto fail;
    }
    char key[STORE_KEY_MAX];
    if (api__key(pods, t->ns, bname, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, &e) < 0) {
        e.code = STORE_ENOTFOUND;
        goto fail;
    }
    pod = api__decode_stored(pods, kv);
    if (!pod) {
        errf(&e, EIO, "stored object %s is not JSON", key);
        goto fail;
    }
    const char *puid = meta_str(b, "uid");
    if (puid && *puid && strcmp(puid, meta_str(pod, "uid") ? meta_str(pod, "uid") : "")) {
        errf(&e, STORE_ECONFLICT, "uid precondition failed");
        goto fail;
    }
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(pod, "spec", spec);
    }
    const char *cur = json_string_value(json_object_get(spec, "nodeName"));
    if (cur && *cur) {
        errf(&e, STORE_ECONFLICT, "pod %s is already assigned to node \"%s\"", bname, cur);
        goto conflict;
    }
    if (json_array_size(json_object_get(spec, "schedulingGates"))) {
        errf(&e, STORE_ECONFLICT, "pod %s has non-empty .spec.schedulingGates", bname);
        goto conflict;
    }
    if (meta_str(pod, "deletionTimestamp")) {
        errf(&e, STORE_ECONFLICT, "pod %s is being deleted, cannot be assigned to a host", bname);
        goto conflict;
    }
    json_object_set_new(spec, "nodeName", json_string(node));
    json_t *ann = json_object_get(meta_of(b), "annotations");
    if (json_is_object(ann)) {
        json_t *pann = json_object_get(meta_of(pod), "annotations");
        if (!json_is_object(pann)) {
            pann = json_object();
            json_object_set_new(meta_of(pod), "annotations", pann);
        }
        json_object_update(pann, ann);
    }
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(pod, "status", status);
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    char ts[32];
    api__now_rfc3339(ts, sizeof ts);
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", "PodScheduled")) {
            json_array_remove(conds, i);
            break;
        }
    }
    json_array_append_new(conds, json_pack("{s:s,s:s,s:n,s:s}", "type", "PodScheduled", "status",
                                           "True", "lastProbeTime", "lastTransitionTime", ts));
    json_object_del(meta_of(pod), "resourceVersion");
    struct api_resp tmp;
    api_resp_init(&tmp);
    int rc = write_back(ctx, pods, key, pod, b, kv->mod_rev, 201, &tmp, &e);
    api_resp_release(&tmp);
    if (rc < 0)
        goto fail;
    api__success_status(r, 201);
    store_kv_unref(kv);
    json_decref(b);
    json_decref(pod);
    return;
conflict:
    /* Binding conflicts name pods/binding, as Kubernetes does. */
    store_kv_unref(kv);
    json_decref(b);
    json_decref(pod);
    api__fail(r, &e, NULL);
    status_details(r, namebuf, "", "pods/binding", NULL);
    return;
fail:
    store_kv_unref(kv);
    json_decref(b);
    json_decref(pod);
    api__fail(r, &e, &ref);
}

/* ---- PATCH --------------------------------------------------------------- */

/* Kinds compiled into Kubernetes (core and the *.k8s.io groups) take strategic
 * merge patches; custom resources (kueue.x-k8s.io) answer 415 for them, as a
 * CRD does, and kubectl sends them merge patches instead. */
static bool builtin_kind(const struct api_kind *k)
{
    size_t n = strlen(k->group);
    return !n || !strchr(k->group, '.') || (n > 7 && !strcmp(k->group + n - 7, ".k8s.io"));
}

/* Turns a patch error into the request layer's codes (patch.h lists its own):
 * malformed 400, cannot apply or past a cap 422, apply conflict 409. */
static void patch_err(struct err *e)
{
    switch (e->code) {
    case PATCH_EBAD:
        e->code = API_EBADREQ;
        break;
    case PATCH_EUNAPPLY:
    case PATCH_ELIMIT: {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        errf(e, API_EINVALID, "patch: %s", msg);
        break;
    }
    case PATCH_ECONFLICT:
        e->code = STORE_ECONFLICT;
        break;
    default:
        break;
    }
}

/* Parses a PATCH body: a JSON array for JSON Patch, a JSON object otherwise.
 * An apply body may also be YAML (one document), which kubectl never sends but
 * curl users do. Returns a new tree, or NULL with e filled (400). */
static json_t *parse_patch(const struct api_req *req, enum patch_type pt, bool strict,
                           struct err *e)
{
    if (!req->body || !req->body_len) {
        errf(e, API_EBADREQ, "the request body is empty");
        return NULL;
    }
    json_error_t je;
    json_t *p = jsonin_loadb(req->body, req->body_len, strict ? JSON_REJECT_DUPLICATES : 0, &je);
    if (!p && pt == PATCH_TYPE_APPLY) {
        json_t **docs = NULL;
        size_t n = 0;
        struct err ye;
        err_clear(&ye);
        if (model_yaml_to_json(req->body, req->body_len, "apply", &docs, &n, NULL, &ye) == 0) {
            if (n == 1)
                p = docs[0];
            else
                for (size_t i = 0; i < n; i++)
                    json_decref(docs[i]);
            free(docs);
        }
        if (!p) {
            errf(e, API_EBADREQ, "the apply body is not one JSON or YAML object: %s",
                 ye.msg[0] ? ye.msg : "several documents");
            return NULL;
        }
    }
    if (!p) {
        errf(e, API_EBADREQ, "the patch is not valid JSON: line %d column %d: %s", je.line,
             je.column, je.text);
        return NULL;
    }
    bool want_array = pt == PATCH_TYPE_JSON;
    if (want_array ? !json_is_array(p) : !json_is_object(p)) {
        json_decref(p);
        errf(e, API_EBADREQ, "the patch is not a JSON %s",
             want_array ? "array of operations" : "object");
        return NULL;
    }
    return p;
}

/* What one PATCH request asks for, fixed before the read-modify-write loop. */
struct patch_req {
    enum patch_type type;
    json_t *patch;
    enum field_validation fv;
    struct patch_apply_opts apply;
    char api_version[128];
    char now[32];
};

/* What a merge or strategic patch through the status subresource is applied to:
 * cur without its spec and managedFields, which such a write cannot change
 * (merge_write takes them from cur), so that the patch does not copy them.
 * NULL for the other patches, applied to the whole object. */
static json_t *status_view(const struct api_target *t, enum patch_type type, json_t *cur)
{
    if (!cur || t->sub != API_SUB_STATUS ||
        (type != PATCH_TYPE_MERGE && type != PATCH_TYPE_STRATEGIC))
        return NULL;
    json_t *view = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(cur, k, v)
    {
        if (strcmp(k, "metadata") == 0 && json_is_object(v)) {
            json_t *md = json_copy(v);
            json_object_del(md, "managedFields");
            json_object_set_new(view, k, md);
        } else if (strcmp(k, "spec") != 0) {
            json_object_set(view, k, v);
        }
    }
    return view;
}

/* Applies the patch to cur (NULL: the object is absent, only for apply).
 * Returns the patched object (caller owns), or NULL with e filled. */
static json_t *patch_run(struct patch_req *p, const struct api_target *t, json_t *cur,
                         struct err *e)
{
    json_t *out = NULL, *view = status_view(t, p->type, cur);
    switch (p->type) {
    case PATCH_TYPE_MERGE:
        out = patch_merge(view ? view : cur, p->patch, e);
        break;
    case PATCH_TYPE_JSON:
        out = patch_json(cur, p->patch, e);
        break;
    case PATCH_TYPE_STRATEGIC:
        out = patch_strategic(view ? view : cur, p->patch, t->kind->kind, e);
        break;
    case PATCH_TYPE_APPLY:
        if (p->apply.causes) {
            json_decref(*p->apply.causes);
            *p->apply.causes = NULL;
        }
        out = patch_apply(cur, p->patch, &p->apply, e);
        break;
    default:
        abort();
    }
    json_decref(view);
    if (!out) {
        patch_err(e);
        return NULL;
    }
    if (!json_is_object(out) || !json_is_object(meta_of(out))) {
        json_decref(out);
        errf(e, API_EINVALID, "metadata: Invalid value: the patched object has no metadata");
        return NULL;
    }
    return out;
}

/* Turns the patched object obj into the object to store over cur: identity
 * unchanged, server-owned metadata kept, a resourceVersion in the patch taken
 * as a precondition, status alone for the status subresource (and status kept
 * by the main resource of a kind that has the subresource), generation bumped
 * when the spec changed, the write recorded in managedFields, validated.
 * Returns the object to store (caller owns; obj is consumed), or NULL. */
static json_t *patch_finish(const struct api_req *req, const struct api_target *t,
                            struct patch_req *p, json_t *cur, json_t *obj, struct api_resp *r,
                            struct err *e)
{
    const char *rv = meta_str(obj, "resourceVersion"), *crv = meta_str(cur, "resourceVersion");
    if (rv && *rv && strcmp(rv, crv ? crv : "")) {
        errf(e, STORE_ECONFLICT, "resourceVersion precondition failed");
        goto fail;
    }
    if (check_identity(t->kind, t, obj, false, e) < 0)
        goto fail;
    keep_server_meta(obj, cur);
    json_object_del(meta_of(obj), "resourceVersion");
    obj = merge_write(t, obj, cur, p->type == PATCH_TYPE_APPLY);
    if (model_check(t->kind, obj, p->fv, r, e) < 0 ||
        (p->type != PATCH_TYPE_APPLY && record_update(t->kind, req, obj, cur, e) < 0))
        goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

/* ---- a status patch on the stored text ------------------------------------ */

/* A merge or strategic patch through the status subresource changes only the
 * status and metadata.managedFields of the stored object (merge_write keeps
 * the rest as stored), so the rest of its text can stay as it is instead of
 * being decoded into a tree and encoded again: this is the write every agent
 * and controller sends for every pod. It applies when nothing else can change
 * or be checked: a kind without conversion or model, no dry run, no deletion
 * pending (whose write may delete the key), a patch of the status and of
 * nothing but the metadata that names the object, and an object stored in
 * the stored form with managedFields. The result is byte for byte what the
 * tree path stores (tests/unit/test_api_patch.c compares them). */

/* Whether patch p touches nothing a status write could not: apiVersion, kind,
 * status, and metadata members that name the object or its version. */
static bool splice_patch_ok(const json_t *p)
{
    const char *k;
    json_t *v;
    if (!json_is_object(json_object_get(p, "status")))
        return false;
    json_object_foreach((json_t *)p, k, v)
    {
        if (!strcmp(k, "status") || !strcmp(k, "apiVersion") || !strcmp(k, "kind"))
            continue;
        if (strcmp(k, "metadata") || !json_is_object(v))
            return false;
        const char *mk;
        json_t *mv;
        json_object_foreach(v, mk, mv)
        {
            if (strcmp(mk, "uid") && strcmp(mk, "name") && strcmp(mk, "namespace") &&
                strcmp(mk, "resourceVersion"))
                return false;
        }
    }
    return true;
}

/* Where the parts of a stored object are, found by scanning its text. */
struct stored_parts {
    size_t mf_s, mf_e; /* metadata.managedFields' value */
    size_t st_s, st_e; /* status' value; 0, 0 when there is none */
    json_t *view;      /* apiVersion, kind, metadata's name, namespace, uid */
};

static bool key_is(const char *s, size_t ks, size_t ke, const char *name)
{
    size_t n = strlen(name);
    return ke - ks == n + 2 && !memcmp(s + ks + 1, name, n);
}

/* The JSON string s[vs..ve) as a new jansson string; NULL when it is not a
 * string (or longer than any name). */
static json_t *scan_str(const char *s, size_t vs, size_t ve)
{
    char buf[512];
    return jscan_string(s, vs, ve, buf, sizeof buf) ? json_string(buf) : NULL;
}

/* Scans kv's text into parts (view: a new tree with resourceVersion rv).
 * False when the fast path does not apply to it. */
static bool stored_parts_scan(const struct store_kv *kv, const char *rv, struct stored_parts *sp)
{
    const char *s = kv->value;
    size_t n = kv->value_len, it = 0, ks, ke, vs, ve;
    bool have_md = false;
    memset(sp, 0, sizeof *sp);
    if (!api__stored_form(s, n))
        return false;
    json_t *view = json_object(), *md = json_object();
    json_object_set_new(md, "resourceVersion", json_string(rv));
    while (jscan_next(s, n, 0, &it, &ks, &ke, &vs, &ve)) {
        if (key_is(s, ks, ke, "status")) {
            sp->st_s = vs;
            sp->st_e = ve;
        } else if (key_is(s, ks, ke, "apiVersion") || key_is(s, ks, ke, "kind")) {
            json_t *v = scan_str(s, vs, ve);
            if (!v)
                goto no;
            json_object_setn_new(view, s + ks + 1, ke - ks - 2, v);
        } else if (key_is(s, ks, ke, "metadata")) {
            size_t mit = 0, mks, mke, mvs, mve;
            have_md = true;
            while (jscan_next(s, n, vs, &mit, &mks, &mke, &mvs, &mve)) {
                if (key_is(s, mks, mke, "managedFields")) {
                    sp->mf_s = mvs;
                    sp->mf_e = mve;
                } else if (key_is(s, mks, mke, "deletionTimestamp")) {
                    goto no;
                } else if (key_is(s, mks, mke, "name") || key_is(s, mks, mke, "namespace") ||
                           key_is(s, mks, mke, "uid")) {
                    json_t *v = scan_str(s, mvs, mve);
                    if (!v)
                        goto no;
                    json_object_setn_new(md, s + mks + 1, mke - mks - 2, v);
                }
            }
        }
    }
    if (!have_md || !sp->mf_e || s[sp->mf_s] != '[' || (sp->st_e && s[sp->st_s] != '{'))
        goto no;
    json_object_set_new(view, "metadata", md);
    sp->view = view;
    return true;
no:
    json_decref(md);
    json_decref(view);
    return false;
}

/* The stored text of kv with its managedFields and status values replaced by
 * mf and st (status added at the end when kv had none). */
static char *stored_splice(const struct store_kv *kv, const struct stored_parts *sp,
                           const char *mft, size_t mfl, const json_t *st, size_t *len)
{
    size_t stl;
    char *stt = jsonout_dumps(st, &stl);
    const char *s = kv->value;
    size_t n = kv->value_len;
    char *out = NULL;
    if (!stt)
        goto done;
    static const char add[] = ",\"status\":";
    size_t end = sp->st_e ? sp->st_s : n - 1; /* before the status, or the closing } */
    size_t rest = sp->st_e ? sp->st_e : n - 1;
    *len = sp->mf_s + mfl + (end - sp->mf_e) + (sp->st_e ? 0 : sizeof add - 1) + stl + (n - rest);
    out = xmalloc(*len + 1);
    char *w = out;
    memcpy(w, s, sp->mf_s);
    w += sp->mf_s;
    memcpy(w, mft, mfl);
    w += mfl;
    memcpy(w, s + sp->mf_e, end - sp->mf_e);
    w += end - sp->mf_e;
    if (!sp->st_e) {
        memcpy(w, add, sizeof add - 1);
        w += sizeof add - 1;
    }
    memcpy(w, stt, stl);
    w += stl;
    memcpy(w, s + rest, n - rest);
    w += n - rest;
    *w = 0;
done:
    free(stt);
    return out;
}

/* ---- managedFields entries that a status write leaves alone ---- */

#define MF_SCAN_MAX 32 /* more entries than this: all decoded */

/* One entry of a stored managedFields array: its text, and whether the write
 * can leave it as it is (kept: another manager's or operation's, owning no
 * status field, owning something: record_update would give it back
 * unchanged, and its text is what encoding it again would give). */
struct mf_ent {
    size_t s, e;
    bool kept;
    char manager[160], op[32];
};

/* Scans the managedFields array txt[as..ae) into ents (*n of them); false when
 * the entries cannot be told apart this way (not objects, too many, a
 * manager and operation twice, no FieldsV1 set), and all must be decoded. */
static size_t skip_ws(const char *txt, size_t i, size_t end)
{
    while (i < end && (txt[i] == ' ' || txt[i] == '\n' || txt[i] == '\t' || txt[i] == '\r'))
        i++;
    return i;
}

/* Reads one entry's members in one pass: manager, operation, and whether its
 * FieldsV1 set owns something and a status field. */
static bool mf_entry(const char *txt, struct mf_ent *m, const char *writer)
{
    size_t it = 0, ks, ke, vs, ve;
    bool got_m = false, got_op = false, v1type = false, owns = false, status = false;
    while (jscan_next(txt, m->e, m->s, &it, &ks, &ke, &vs, &ve)) {
        char ft[16];
        if (key_is(txt, ks, ke, "manager"))
            got_m = jscan_string(txt, vs, ve, m->manager, sizeof m->manager);
        else if (key_is(txt, ks, ke, "operation"))
            got_op = jscan_string(txt, vs, ve, m->op, sizeof m->op);
        else if (key_is(txt, ks, ke, "fieldsType"))
            v1type = jscan_string(txt, vs, ve, ft, sizeof ft) && !strcmp(ft, "FieldsV1");
        else if (key_is(txt, ks, ke, "fieldsV1") && txt[vs] == '{') {
            size_t fit = 0, fks, fke, fvs, fve;
            while (jscan_next(txt, ve, vs, &fit, &fks, &fke, &fvs, &fve)) {
                owns = true;
                status = status || key_is(txt, fks, fke, "f:status");
            }
        }
    }
    m->kept = v1type && owns && !status && (strcmp(m->manager, writer) || strcmp(m->op, "Update"));
    return got_m && got_op;
}

/* Scans the managedFields array txt[as..ae) into ents (*n of them, *kept of
 * them kept); false when the entries cannot be told apart this way (not
 * objects, too many, a manager and operation twice), and all must be decoded. */
static bool mf_scan(const char *txt, size_t as, size_t ae, const char *writer,
                    struct mf_ent *ents, size_t *n, size_t *kept)
{
    size_t i = skip_ws(txt, as + 1, ae);
    *n = *kept = 0;
    while (i < ae && txt[i] != ']') {
        if (txt[i] != '{' || *n == MF_SCAN_MAX)
            return false;
        struct mf_ent *m = &ents[(*n)++];
        m->s = i;
        m->e = jscan_value_end(txt, ae, i);
        if (m->e >= ae || !mf_entry(txt, m, writer))
            return false;
        *kept += m->kept;
        for (size_t k = 0; k + 1 < *n; k++)
            if (!strcmp(ents[k].manager, m->manager) && !strcmp(ents[k].op, m->op))
                return false;
        i = skip_ws(txt, m->e, ae);
        if (i < ae && txt[i] == ',')
            i = skip_ws(txt, i + 1, ae);
        else if (i >= ae || txt[i] != ']')
            return false;
    }
    return i < ae;
}

/* The new managedFields text: the kept entries as they were, in their places;
 * the others as record_update left them in nmf (matched by manager and
 * operation; one it dropped is gone), and those it added at the end. NULL when
 * an entry cannot be encoded. */
static char *mf_merge(const char *txt, const struct mf_ent *ents, size_t n, json_t *nmf,
                      size_t *len)
{
    struct strbuf b;
    strbuf_init(&b, (size_t)64 << 20);
    size_t nn = json_array_size(nmf);
    bool taken[MF_SCAN_MAX * 2 + 2] = {false};
    if (nn > sizeof taken / sizeof taken[0])
        return NULL;
    bool first = true, ok = true;
    strbuf_addch(&b, '[');
    for (size_t i = 0; i <= n && ok; i++) {
        if (i < n && ents[i].kept) {
            if (!first)
                strbuf_addch(&b, ',');
            strbuf_add(&b, txt + ents[i].s, ents[i].e - ents[i].s);
            first = false;
            continue;
        }
        for (size_t j = 0; j < nn && ok; j++) {
            json_t *en = json_array_get(nmf, j);
            const char *mg = json_string_value(json_object_get(en, "manager"));
            const char *op = json_string_value(json_object_get(en, "operation"));
            /* an entry of the original's (i < n), or, after them, any left */
            if (taken[j] || (i < n && (!mg || !op || strcmp(mg, ents[i].manager) ||
                                       strcmp(op, ents[i].op))))
                continue;
            size_t el;
            char *et = jsonout_dumps(en, &el);
            if (!et) {
                ok = false;
                break;
            }
            if (!first)
                strbuf_addch(&b, ',');
            strbuf_add(&b, et, el);
            free(et);
            first = false;
            taken[j] = true;
            if (i < n)
                break;
        }
    }
    strbuf_addch(&b, ']');
    if (!ok) {
        strbuf_release(&b);
        return NULL;
    }
    return strbuf_take(&b, len);
}

/* Frees the trees *t[i] and forgets them. */
static void drop_trees(json_t **const *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(*t[i]);
        *t[i] = NULL;
    }
}

enum splice_rc { SPLICE_NO = 0, SPLICE_DONE = 1, SPLICE_FAIL = -1, SPLICE_RACE = -2 };

/* The status patch p applied to kv's text and written (r holds the reply:
 * SPLICE_DONE), or SPLICE_NO when the fast path does not apply (nothing
 * done), SPLICE_FAIL with e filled, SPLICE_RACE when another writer got there
 * first (e filled; read again and retry). */
static enum splice_rc status_splice(struct api_ctx *ctx, const struct api_req *req,
                                    const struct api_target *t, struct patch_req *p,
                                    const struct store_kv *kv, const char *key, struct api_resp *r,
                                    struct err *e)
{
    if (t->sub != API_SUB_STATUS || (p->type != PATCH_TYPE_MERGE && p->type != PATCH_TYPE_STRATEGIC) ||
        t->kind->model != MODEL_KIND_NONE || api__converts(t->kind) || dry_run(req) ||
        !splice_patch_ok(p->patch))
        return SPLICE_NO;
    char rv[24];
    snprintf(rv, sizeof rv, "%" PRId64, kv->mod_rev);
    struct stored_parts sp;
    if (!stored_parts_scan(kv, rv, &sp))
        return SPLICE_NO;
    enum splice_rc rc = SPLICE_FAIL;
    json_t *cst = NULL, *out = NULL, *mf = NULL, *oldv = NULL, *newv = NULL;
    json_t **const trees[] = {&sp.view, &cst, &out, &mf, &oldv, &newv};
    char *enc = NULL;
    struct store_kv *nkv = NULL;
    if (sp.st_e) {
        cst = jsonin_loadb(kv->value + sp.st_s, sp.st_e - sp.st_s, 0, NULL);
        if (!cst) {
            rc = SPLICE_NO;
            goto done;
        }
        json_object_set(sp.view, "status", cst);
    }
    out = p->type == PATCH_TYPE_MERGE ? patch_merge(sp.view, p->patch, e)
                                      : patch_strategic(sp.view, p->patch, t->kind->kind, e);
    if (!out) {
        patch_err(e);
        goto done;
    }
    json_t *st = json_object_get(out, "status");
    if (!json_is_object(out) || !json_is_object(meta_of(out)) || !json_is_object(st)) {
        rc = SPLICE_NO; /* the tree path says what is wrong */
        goto done;
    }
    const char *prv = meta_str(out, "resourceVersion");
    if (prv && *prv && strcmp(prv, rv)) {
        errf(e, STORE_ECONFLICT, "resourceVersion precondition failed");
        goto done;
    }
    if (check_identity(t->kind, t, out, false, e) < 0)
        goto done;
    /* The entries of other managers that own no status field stay as they
     * are (a pod's creator's set is most of its managedFields); the rest are
     * decoded for record_update. */
    char mbuf[132];
    struct mf_ent ents[MF_SCAN_MAX];
    size_t nents = 0, nkept = 0;
    bool split = mf_scan(kv->value, sp.mf_s, sp.mf_e, field_manager(req, mbuf, sizeof mbuf), ents,
                         &nents, &nkept);
    if (split) {
        mf = json_array();
        for (size_t i = 0; i < nents && mf; i++) {
            if (ents[i].kept)
                continue;
            json_t *en = jsonin_loadb(kv->value + ents[i].s, ents[i].e - ents[i].s, 0, NULL);
            if (!json_is_object(en) || json_array_append_new(mf, en)) {
                json_decref(mf);
                mf = NULL;
            }
        }
    } else {
        mf = jsonin_loadb(kv->value + sp.mf_s, sp.mf_e - sp.mf_s, 0, NULL);
    }
    if (!json_is_array(mf)) {
        rc = SPLICE_NO;
        goto done;
    }
    /* The write as record_update sees it on the whole objects: the same
     * managedFields before, a status changed, and nothing else (equal parts
     * add nothing to the sets). */
    oldv = json_pack("{s:{s:O}}", "metadata", "managedFields", mf);
    newv = json_pack("{s:{s:O},s:O}", "metadata", "managedFields", mf, "status", st);
    if (cst)
        json_object_set(oldv, "status", cst);
    if (record_update(t->kind, req, newv, oldv, e) < 0)
        goto done;
    json_t *nmf = json_object_get(meta_of(newv), "managedFields");
    if (!json_is_array(nmf) && !(split && nkept)) {
        rc = SPLICE_NO; /* no managedFields left: the tree path drops the member */
        goto done;
    }
    size_t mfl = 0, len = 0;
    char *mft = split ? mf_merge(kv->value, ents, nents, nmf, &mfl) : jsonout_dumps(nmf, &mfl);
    if (mft)
        enc = stored_splice(kv, &sp, mft, mfl, st, &len);
    free(mft);
    if (!enc) {
        errf(e, API_EINVALID, "status: Invalid value: cannot be encoded");
        goto done;
    }
    /* The trees are done with: freed before the wait for the commit (see
     * release_early). */
    drop_trees(trees, sizeof trees / sizeof trees[0]);
    json_decref(p->patch); /* parsed again for another try (do_patch) */
    p->patch = NULL;
    if (store_update(ctx->store, key, enc, len, kv->mod_rev, &nkv, e) < 0) {
        rc = e->code == STORE_ECONFLICT ? SPLICE_RACE : SPLICE_FAIL;
        goto done;
    }
    api__reply_kv(r, 200, t->kind, nkv);
    store_kv_unref(nkv);
    atomic_fetch_add_explicit(&ctx->splices, 1, memory_order_relaxed);
    rc = SPLICE_DONE;
done:
    free(enc);
    drop_trees(trees, sizeof trees / sizeof trees[0]);
    return rc;
}

/* PATCH of an object or its status: merge, JSON, strategic merge (built-in
 * kinds) and server-side apply, which creates an absent object (201). The
 * write is a compare-and-swap on the revision read; when another writer got
 * there first the patch is applied again to the new object, as Kubernetes'
 * GuaranteedUpdate does, unless the patch itself named a resourceVersion. */
static void do_patch(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                     struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_obj_ref ref = {t->kind, t->name};
    struct patch_req p = {.type = patch_type_from_content_type(req->content_type)};
    json_t *cur = NULL, *obj = NULL, *causes = NULL;
    struct store_kv *kv = NULL;
    char key[STORE_KEY_MAX];
    if (p.type == PATCH_TYPE_UNKNOWN ||
        (p.type == PATCH_TYPE_STRATEGIC && !builtin_kind(t->kind))) {
        errf(&e, API_EMEDIA,
             "the body of the request was in an unknown format - accepted media types include: "
             "application/json-patch+json, application/merge-patch+json, "
             "application/apply-patch+yaml%s",
             builtin_kind(t->kind) ? ", application/strategic-merge-patch+json" : "");
        goto fail;
    }
    p.fv = field_validation(req);
    p.patch = parse_patch(req, p.type, p.fv == FV_STRICT, &e);
    if (!p.patch)
        goto fail;
    api_kind_api_version(t->kind, p.api_version, sizeof p.api_version);
    api__now_rfc3339(p.now, sizeof p.now);
    if (p.type == PATCH_TYPE_APPLY) {
        const char *m = api_req_query(req, "fieldManager"), *force = api_req_query(req, "force");
        if (!m || !*m || strlen(m) > 128) {
            errf(&e, API_EBADREQ,
                 "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is "
                 "required for apply patch (at most 128 characters)");
            goto fail;
        }
        if (force && !api__parse_bool(force, &p.apply.force)) {
            errf(&e, API_EBADREQ, "force: invalid boolean \"%s\"", force);
            goto fail;
        }
        p.apply.kind = t->kind->kind;
        p.apply.manager = m;
        p.apply.api_version = p.api_version;
        p.apply.now = p.now;
        p.apply.causes = &causes;
        if (t->sub != API_SUB_STATUS && (t->kind->subresources & API_SUB_STATUS))
            p.apply.flags |= PATCH_APPLY_F_IGNORE_STATUS;
    } else if (api_req_query(req, "force")) {
        errf(&e, API_EBADREQ, "force: Forbidden: may not be specified for non-apply patch");
        goto fail;
    }
    if (api__key(t->kind, t->ns, t->name, key, sizeof key) < 0) {
        errf(&e, STORE_ENOTFOUND, "name too long");
        goto fail;
    }
    for (int attempt = 0;; attempt++) {
        if (store_get(ctx->store, key, &kv, &e) < 0) {
            if (e.code != STORE_ENOTFOUND || p.type != PATCH_TYPE_APPLY || t->sub)
                goto fail;
            /* Server-side apply of an absent object creates it. */
            obj = patch_run(&p, t, NULL, &e);
            if (!obj || check_identity(t->kind, t, obj, true, &e) < 0)
                goto fail;
            if (api__ns_admit(ctx, t->kind, t->ns, t->name, r) < 0)
                break; /* refused: r holds the Status */
            if (create_obj(ctx, req, t, obj, p.fv, true, r, &e) < 0) {
                if (e.code == STORE_EEXISTS && attempt < 8) {
                    json_decref(obj);
                    obj = NULL;
                    continue; /* created meanwhile: apply to it */
                }
                goto fail;
            }
            break;
        }
        enum splice_rc sr = ctx->no_splice ? SPLICE_NO : status_splice(ctx, req, t, &p, kv, key, r, &e);
        if (sr == SPLICE_DONE)
            break;
        if (sr == SPLICE_FAIL || (sr == SPLICE_RACE && attempt >= 8))
            goto fail;
        if (sr == SPLICE_RACE) {
            store_kv_unref(kv);
            kv = NULL;
            if (!p.patch && !(p.patch = parse_patch(req, p.type, p.fv == FV_STRICT, &e)))
                goto fail;
            continue;
        }
        cur = api__decode_stored(t->kind, kv);
        if (!cur) {
            errf(&e, EIO, "stored object %s is not JSON", key);
            goto fail;
        }
        obj = patch_run(&p, t, cur, &e);
        if (obj)
            obj = patch_finish(req, t, &p, cur, obj, r, &e);
        if (!obj)
            goto fail;
        if (dry_run(req)) {
            api__reply_obj(r, 200, obj, kv->mod_rev);
            break;
        }
        if (write_back(ctx, t->kind, key, obj, cur, kv->mod_rev, 200, r, &e) == 0)
            break;
        if (e.code != STORE_ECONFLICT || attempt >= 8)
            goto fail;
        /* Lost the race to another writer: read again and re-apply. */
        store_kv_unref(kv);
        json_decref(cur);
        json_decref(obj);
        kv = NULL;
        cur = obj = NULL;
    }
    store_kv_unref(kv);
    json_decref(cur);
    json_decref(obj);
    json_decref(p.patch);
    json_decref(causes);
    return;
fail:
    store_kv_unref(kv);
    json_decref(cur);
    json_decref(obj);
    json_decref(p.patch);
    if (causes && e.code == STORE_ECONFLICT) {
        /* An apply conflict: Kubernetes' message, and one cause per field. */
        api__fail(r, &e, NULL);
        status_details(r, t->name, t->kind->group, t->kind->resource, causes);
        json_decref(causes);
        return;
    }
    json_decref(causes);
    api__fail(r, &e, &ref);
}

void api__objects(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                  struct api_resp *r)
{
    struct err e;
    const struct api_kind *k = t->kind;
    const char *m = req->method;
    bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD");

    if (!strcmp(k->resource, "bindings")) {
        if (strcmp(m, "POST") || t->name[0])
            goto not_allowed;
        return do_bind(ctx, req, t, r);
    }
    if (t->sub == API_SUB_BINDING) {
        if (strcmp(m, "POST"))
            goto not_allowed;
        return do_bind(ctx, req, t, r);
    }
    if (t->sub == API_SUB_LOG) {
        if (!get)
            goto not_allowed;
        return api__pod_log(ctx, req, t, r);
    }
    if (t->sub == API_SUB_STATUS) {
        if (get)
            return do_get(ctx, req, t, r);
        if (!strcmp(m, "PUT"))
            return do_update(ctx, req, t, r);
        if (!strcmp(m, "PATCH"))
            goto patch;
        goto not_allowed;
    }
    if (t->sub == API_SUB_FINALIZE) {
        if (!strcmp(m, "PUT"))
            return do_update(ctx, req, t, r);
        goto not_allowed;
    }
    if (!t->name[0]) {
        char prefix[STORE_KEY_MAX];
        api_kind_key_prefix(k, prefix, sizeof prefix);
        if (k->namespaced && t->ns[0])
            snprintf(prefix + strlen(prefix), sizeof prefix - strlen(prefix), "%s/", t->ns);
        if (get) {
            const char *w = api_req_query(req, "watch");
            bool watch = false;
            if (w && !api__parse_bool(w, &watch)) {
                errf(&e, API_EBADREQ, "watch: invalid boolean \"%s\"", w);
                return api__fail(r, &e, NULL);
            }
            if (watch)
                return api__watch(ctx, req, t, prefix, r);
            return do_list(ctx, req, t, prefix, r);
        }
        if (!strcmp(m, "POST")) {
            if (k->namespaced && !t->ns[0])
                goto not_allowed;
            return do_create(ctx, req, t, r);
        }
        if (!strcmp(m, "DELETE")) {
            /* deletecollection is served per namespace for namespaced kinds. */
            if ((k->namespaced && !t->ns[0]) || !(k->verbs & API_VERB_DELETECOLLECTION))
                goto not_allowed;
            return api__delete_collection(ctx, req, t, prefix, r);
        }
        goto not_allowed;
    }
    if (get)
        return do_get(ctx, req, t, r);
    if (!strcmp(m, "PUT"))
        return do_update(ctx, req, t, r);
    if (!strcmp(m, "DELETE"))
        return api__delete(ctx, req, t, r);
    if (!strcmp(m, "PATCH"))
        goto patch;
not_allowed:
    errf(&e, API_ENOMETHOD, "the server does not allow this method on the requested resource");
    return api__fail(r, &e, NULL);
patch:
    return do_patch(ctx, req, t, r);
}
