/*
 * model: entry points, the table of kinds, object metadata and lifetimes.
 *
 * model_decode_value() is the one decoder: it reads apiVersion and kind, finds
 * the kind in the table below, decodes metadata (which names the object in
 * every later error) and hands the rest to the kind's decoder. The YAML and
 * JSON entry points only turn text into json_t trees and call it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "model/model.h"
#include "model/model_internal.h"

/* Objects are small; a small first chunk keeps thousands of them cheap. */
#define MODEL_ARENA_CHUNK 4096

typedef int (*decode_fn)(struct model__dctx *c, json_t *root, struct model_obj *o);

/* Which apiVersions a kind is read from (bits of 1 << enum model_api_version). */
#define V(x) (1u << (x))

struct kind_info {
    const char *name;
    const char *group; /* "" for the core group */
    unsigned versions;
    bool namespaced;
    decode_fn decode;
};

static const struct kind_info kinds[MODEL_KIND_COUNT] = {
    [MODEL_NAMESPACE] = {"Namespace", "", V(MODEL_API_V1), false, model__decode_namespace},
    [MODEL_NODE] = {"Node", "", V(MODEL_API_V1), false, model__decode_node},
    [MODEL_PRIORITY_CLASS] = {"PriorityClass", "scheduling.k8s.io", V(MODEL_API_V1), false,
                              model__decode_priority_class},
    [MODEL_RESOURCE_FLAVOR] = {"ResourceFlavor", "kueue.x-k8s.io",
                               V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), false,
                               model__decode_resource_flavor},
    [MODEL_CLUSTER_QUEUE] = {"ClusterQueue", "kueue.x-k8s.io",
                             V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), false,
                             model__decode_cluster_queue},
    [MODEL_COHORT] = {"Cohort", "kueue.x-k8s.io",
                      V(MODEL_API_V1ALPHA1) | V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), false,
                      model__decode_cohort},
    [MODEL_LOCAL_QUEUE] = {"LocalQueue", "kueue.x-k8s.io",
                           V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), true,
                           model__decode_local_queue},
    [MODEL_WORKLOAD_PRIORITY_CLASS] = {"WorkloadPriorityClass", "kueue.x-k8s.io",
                                       V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), false,
                                       model__decode_workload_priority_class},
    [MODEL_WORKLOAD] = {"Workload", "kueue.x-k8s.io", V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2),
                        true, model__decode_workload},
    [MODEL_TOPOLOGY] = {"Topology", "kueue.x-k8s.io",
                        V(MODEL_API_V1ALPHA1) | V(MODEL_API_V1BETA1) | V(MODEL_API_V1BETA2), false,
                        model__decode_topology},
    [MODEL_SCENARIO] = {"Scenario", "muster.dev", V(MODEL_API_V1ALPHA1), false,
                        model__decode_scenario},
};

static const char *const version_names[] = {
    [MODEL_API_V1] = "v1",
    [MODEL_API_V1ALPHA1] = "v1alpha1",
    [MODEL_API_V1BETA1] = "v1beta1",
    [MODEL_API_V1BETA2] = "v1beta2",
};

const char *model_kind_name(enum model_kind k)
{
    if (k <= MODEL_KIND_NONE || k >= MODEL_KIND_COUNT)
        return "";
    return kinds[k].name;
}

enum model_kind model_kind_from_name(const char *name)
{
    for (int k = MODEL_KIND_NONE + 1; k < MODEL_KIND_COUNT; k++)
        if (strcmp(kinds[k].name, name) == 0)
            return (enum model_kind)k;
    return MODEL_KIND_NONE;
}

bool model_kind_namespaced(enum model_kind k)
{
    return k > MODEL_KIND_NONE && k < MODEL_KIND_COUNT && kinds[k].namespaced;
}

int model_obj_key(const struct model_obj *o, char *buf, size_t size)
{
    if (o->meta.namespace)
        return snprintf(buf, size, "%s/%s", o->meta.namespace, o->meta.name);
    return snprintf(buf, size, "%s", o->meta.name);
}

/* ---- small helpers of the public API ------------------------------------- */

const struct model_resource *model_resources_find(const struct model_resource_list *l,
                                                  const char *name)
{
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

int64_t model_resources_canonical(const struct model_resource_list *l, const char *name)
{
    const struct model_resource *r = model_resources_find(l, name);
    return r ? quantity_canonical(name, r->milli) : 0;
}

bool model_toleration_tolerates(const struct model_toleration *t, const struct model_taint *taint)
{
    if (t->effect != MODEL_EFFECT_ALL && t->effect != taint->effect)
        return false;
    if (!*t->key) /* only valid with Exists: every key */
        return t->op == MODEL_TOLERATION_EXISTS;
    if (strcmp(t->key, taint->key) != 0)
        return false;
    if (t->op == MODEL_TOLERATION_EXISTS)
        return true;
    return strcmp(t->value, taint->value) == 0;
}

const struct model_condition *model_workload_condition(const struct model_workload *w,
                                                       const char *type)
{
    for (size_t i = 0; i < w->n_conditions; i++)
        if (strcmp(w->conditions[i].type, type) == 0)
            return &w->conditions[i];
    return NULL;
}

/* ---- time ---------------------------------------------------------------- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int model_parse_time(const char *s, int64_t *ns, struct err *e)
{
    int Y, M, D, h, mi, sec;
    size_t n = strlen(s);
    if (n < 20 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
        goto bad;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
        mi > 59 || sec > 60)
        goto bad;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        int64_t scale = 100000000;
        while (*p >= '0' && *p <= '9') {
            if (nd < 9) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
            nd++, p++;
        }
        if (nd == 0)
            goto bad;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            goto bad;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        goto bad;
    }
    if (*p)
        goto bad;
    int64_t secs = mtime_days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec - off;
    /* int64 nanoseconds reach from 1677 to 2262. */
    if (secs <= INT64_MIN / 1000000000 || secs >= INT64_MAX / 1000000000)
        return errf(e, ERANGE, "invalid time \"%.40s\": out of range (years 1678 to 2261)", s);
    *ns = secs * 1000000000 + frac;
    return 0;
bad:
    return errf(e, EINVAL, "invalid time \"%.40s\": want RFC 3339, e.g. 2024-05-01T10:00:00Z", s);
}

/* ---- metadata ------------------------------------------------------------ */

static int decode_owner_refs(struct model__dctx *c, json_t *meta, struct object_meta *m)
{
    json_t *arr;
    if (model__get_array(c, meta, "ownerReferences", &arr, false, 0) < 0)
        return -1;
    if (!arr)
        return 0;
    size_t n = json_array_size(arr);
    m->owners = arena_zalloc(c->a, (n ? n : 1) * sizeof *m->owners);
    size_t old = model__push(c, "ownerReferences");
    static const char *const fields[] = {"apiVersion",         "kind", "name", "uid", "controller",
                                         "blockOwnerDeletion", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        struct model_owner_ref *r = &m->owners[i];
        size_t o2 = model__push_index(c, i);
        if (model__fields(c, x, fields) < 0 ||
            model__get_string(c, x, "apiVersion", &r->api_version, true) < 0 ||
            model__get_string(c, x, "kind", &r->kind, true) < 0 ||
            model__get_string(c, x, "name", &r->name, true) < 0 ||
            model__get_string(c, x, "uid", &r->uid, true) < 0 ||
            model__get_bool(c, x, "controller", &r->controller, NULL) < 0 ||
            model__get_bool(c, x, "blockOwnerDeletion", &r->block_owner_deletion, NULL) < 0)
            return -1;
        model__pop(c, o2);
    }
    m->n_owners = n;
    model__pop(c, old);
    return 0;
}

static void set_desc(struct model__dctx *c, enum model_kind k, const struct object_meta *m)
{
    if (m->namespace)
        snprintf(c->desc, sizeof c->desc, "%s \"%.30s/%.50s\"", kinds[k].name, m->namespace,
                 m->name);
    else
        snprintf(c->desc, sizeof c->desc, "%s \"%.70s\"", kinds[k].name, m->name);
}

static int decode_meta(struct model__dctx *c, json_t *root, enum model_kind k,
                       struct object_meta *m)
{
    json_t *meta;
    if (model__get_object(c, root, "metadata", &meta, true) < 0)
        return -1;
    size_t old = model__push(c, "metadata");
    static const char *const fields[] = {"name",
                                         "namespace",
                                         "uid",
                                         "resourceVersion",
                                         "generation",
                                         "labels",
                                         "annotations",
                                         "creationTimestamp",
                                         "deletionTimestamp",
                                         "finalizers",
                                         "ownerReferences",
                                         "generateName",
                                         "selfLink",
                                         "deletionGracePeriodSeconds",
                                         "managedFields",
                                         NULL};
    if (model__fields(c, meta, fields) < 0)
        return -1;
    /* The name first: every later error names the object. */
    if (model__get_name(c, meta, "name", &m->name, true, model__check_dns_subdomain) < 0)
        return -1;
    if (k == MODEL_NAMESPACE) {
        const char *why = model__check_dns_label(m->name);
        if (why)
            return model__fail_at(c, "name", "invalid value \"%.64s\": %s", m->name, why);
    }
    snprintf(c->desc, sizeof c->desc, "%s \"%.70s\"", kinds[k].name, m->name);
    const char *ns = NULL;
    if (model__get_string(c, meta, "namespace", &ns, false) < 0)
        return -1;
    if (kinds[k].namespaced) {
        if (!ns || !*ns) {
            ns = "default";
        } else {
            const char *why = model__check_dns_label(ns);
            if (why)
                return model__fail_at(c, "namespace", "invalid value \"%.64s\": %s", ns, why);
        }
        m->namespace = ns;
    } else if (ns && *ns) {
        return model__fail_at(c, "namespace", "must not be set: %s is cluster-scoped",
                              kinds[k].name);
    }
    set_desc(c, k, m);
    bool has_gen;
    int64_t grace;
    if (model__get_string(c, meta, "uid", &m->uid, false) < 0 ||
        model__get_string(c, meta, "resourceVersion", &m->resource_version, false) < 0 ||
        model__get_int64(c, meta, "generation", &m->generation, &has_gen) < 0 ||
        model__get_string_map(c, meta, "labels", &m->labels, MODEL__KV_LABELS) < 0 ||
        model__get_string_map(c, meta, "annotations", &m->annotations, MODEL__KV_ANNOTATIONS) < 0 ||
        model__get_time(c, meta, "creationTimestamp", &m->creation_ns, &m->has_creation) < 0 ||
        model__get_time(c, meta, "deletionTimestamp", &m->deletion_ns, &m->has_deletion) < 0 ||
        model__get_string_list(c, meta, "finalizers", &m->finalizers, 0,
                               model__check_qualified_name, true) < 0 ||
        model__get_int64(c, meta, "deletionGracePeriodSeconds", &grace, NULL) < 0 ||
        decode_owner_refs(c, meta, m) < 0)
        return -1;
    const char *ignored;
    json_t *ignored_arr;
    if (model__get_string(c, meta, "generateName", &ignored, false) < 0 ||
        model__get_string(c, meta, "selfLink", &ignored, false) < 0 ||
        model__get_array(c, meta, "managedFields", &ignored_arr, false, 0) < 0)
        return -1;
    if (has_gen && m->generation < 0)
        return model__fail_at(c, "generation", "must be non-negative");
    model__pop(c, old);
    return 0;
}

/* ---- the decoder --------------------------------------------------------- */

/* Whether v nests deeper than limit levels. Stops descending at the limit, so
 * the recursion itself is bounded. */
static bool too_deep(json_t *v, int limit)
{
    if (limit < 0)
        return true;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) if (too_deep(x, limit - 1)) return true;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (too_deep(x, limit - 1)) return true;
    }
    return false;
}

static int lookup_kind(struct model__dctx *c, const char *api_version, const char *kind,
                       enum model_kind *k_out, enum model_api_version *v_out)
{
    enum model_kind k = model_kind_from_name(kind);
    if (k == MODEL_KIND_NONE)
        return errf(c->e, EINVAL, "unknown kind \"%.60s\" (apiVersion \"%.60s\")", kind,
                    api_version);
    snprintf(c->desc, sizeof c->desc, "%s", kinds[k].name);
    const char *slash = strrchr(api_version, '/');
    const char *ver = slash ? slash + 1 : api_version;
    size_t glen = slash ? (size_t)(slash - api_version) : 0;
    const struct kind_info *ki = &kinds[k];
    bool group_ok = strlen(ki->group) == glen && memcmp(ki->group, api_version, glen) == 0;
    for (int v = 0; group_ok && v < (int)(sizeof version_names / sizeof version_names[0]); v++) {
        if ((ki->versions & V(v)) && strcmp(version_names[v], ver) == 0) {
            *k_out = k;
            *v_out = (enum model_api_version)v;
            return 0;
        }
    }
    char want[100];
    size_t n = 0;
    want[0] = 0;
    for (int v = (int)(sizeof version_names / sizeof version_names[0]) - 1; v >= 0; v--) {
        if (!(ki->versions & V(v)))
            continue;
        int w = snprintf(want + n, sizeof want - n, "%s%s%s%s", n ? ", " : "", ki->group,
                         *ki->group ? "/" : "", version_names[v]);
        if (w < 0 || (size_t)w >= sizeof want - n)
            break;
        n += (size_t)w;
    }
    return errf(c->e, EINVAL, "%s: unsupported apiVersion \"%.60s\" (supported: %s)", ki->name,
                api_version, want);
}

int model_decode_value(json_t *v, struct model_obj **out, struct err *e)
{
    struct model_obj *o = xcalloc(1, sizeof *o);
    arena_init(&o->arena, MODEL_ARENA_CHUNK);
    struct model__dctx c = {.a = &o->arena, .e = e};
    snprintf(c.desc, sizeof c.desc, "object");
    if (!json_is_object(v)) {
        errf(e, EINVAL, "object: must be a JSON/YAML mapping (got %s)", model__type_name(v));
        goto fail;
    }
    if (too_deep(v, MODEL_MAX_DEPTH)) {
        errf(e, EINVAL, "object: nested deeper than %d levels", MODEL_MAX_DEPTH);
        goto fail;
    }
    const char *api_version = NULL, *kind = NULL;
    if (model__get_string(&c, v, "apiVersion", &api_version, true) < 0 ||
        model__get_string(&c, v, "kind", &kind, true) < 0)
        goto fail;
    if (strcmp(kind, "List") == 0) {
        errf(e, EINVAL, "List: a list holds several objects; decode it as a stream");
        goto fail;
    }
    if (lookup_kind(&c, api_version, kind, &o->kind, &o->version) < 0)
        goto fail;
    c.kind = o->kind;
    c.ver = o->version;
    o->api_version = api_version;
    if (decode_meta(&c, v, o->kind, &o->meta) < 0)
        goto fail;
    /* Kueue's older versions are read as v1beta2 (convert_kueue.c); c.ver
     * stays the version written, for the limits that differ by version. */
    json_t *body = v;
    if (!strcmp(kinds[o->kind].group, "kueue.x-k8s.io") && o->version != MODEL_API_V1BETA2) {
        body = json_deep_copy(v);
        if (model__kueue_convert(&c, body, kinds[o->kind].name, MODEL_API_V1BETA2) < 0) {
            json_decref(body);
            goto fail;
        }
    }
    int rc = kinds[o->kind].decode(&c, body, o);
    if (body != v) {
        /* The structs point into the arena, not into body. */
        json_decref(body);
    }
    if (rc < 0)
        goto fail;
    o->raw = json_incref(v);
    *out = o;
    return 0;
fail:
    model_obj_free(o);
    return -1;
}

void model_obj_free(struct model_obj *o)
{
    if (!o)
        return;
    json_decref(o->raw);
    arena_release(&o->arena);
    free(o);
}

void model_objs_free(struct model_obj **objs, size_t n)
{
    if (!objs)
        return;
    for (size_t i = 0; i < n; i++)
        model_obj_free(objs[i]);
    free(objs);
}

/* ---- streams ------------------------------------------------------------- */

struct obj_vec {
    struct model_obj **v;
    size_t len, cap;
};

static void obj_push(struct obj_vec *ov, struct model_obj *o)
{
    if (ov->len == ov->cap) {
        ov->cap = ov->cap ? ov->cap * 2 : 8;
        ov->v = xreallocarray(ov->v, ov->cap, sizeof *ov->v);
    }
    ov->v[ov->len++] = o;
}

static bool is_list(json_t *doc)
{
    json_t *k = json_object_get(doc, "kind"), *av = json_object_get(doc, "apiVersion");
    return json_is_object(doc) && json_is_string(k) && json_is_string(av) &&
           strcmp(json_string_value(k), "List") == 0 && strcmp(json_string_value(av), "v1") == 0;
}

/* Decodes doc, or each item of a v1 List, onto ov. */
static int decode_doc(json_t *doc, struct obj_vec *ov, const char *source, int line, struct err *e)
{
    if (!is_list(doc)) {
        struct model_obj *o;
        if (model_decode_value(doc, &o, e) < 0)
            return -1;
        o->source = source ? arena_strdup(&o->arena, source) : NULL;
        o->line = line;
        obj_push(ov, o);
        return 0;
    }
    json_t *items = json_object_get(doc, "items");
    const char *key;
    json_t *x;
    json_object_foreach(doc, key, x)
    {
        if (strcmp(key, "apiVersion") && strcmp(key, "kind") && strcmp(key, "items") &&
            strcmp(key, "metadata"))
            return errf(e, EINVAL, "List: unknown field \"%.60s\"", key);
    }
    if (items && !json_is_array(items) && !json_is_null(items))
        return errf(e, EINVAL, "List: items: must be a list (got %s)", model__type_name(items));
    size_t i;
    json_array_foreach(items, i, x)
    {
        if (is_list(x))
            return errf(e, EINVAL, "List: items[%zu]: a List inside a List", i);
        struct model_obj *o;
        if (model_decode_value(x, &o, e) < 0)
            return err_wrap(e, "List: items[%zu]", i);
        o->source = source ? arena_strdup(&o->arena, source) : NULL;
        o->line = line;
        obj_push(ov, o);
    }
    return 0;
}

int model_decode_yaml_stream(const char *buf, size_t len, const char *source_name,
                             struct model_obj ***objs, size_t *n, struct err *e)
{
    json_t **docs;
    int *lines;
    size_t nd;
    if (model_yaml_to_json(buf, len, source_name, &docs, &nd, &lines, e) < 0)
        return -1;
    struct obj_vec ov = {0};
    int rc = 0;
    for (size_t i = 0; i < nd && rc == 0; i++) {
        if (decode_doc(docs[i], &ov, source_name, lines[i], e) < 0) {
            if (source_name)
                err_wrap(e, "%s:%d", source_name, lines[i]);
            rc = -1;
        }
    }
    for (size_t i = 0; i < nd; i++)
        json_decref(docs[i]);
    free(docs);
    free(lines);
    if (rc < 0) {
        model_objs_free(ov.v, ov.len);
        return -1;
    }
    *objs = ov.v;
    *n = ov.len;
    return 0;
}

static json_t *load_json(const char *buf, size_t len, struct err *e)
{
    if (len > MODEL_MAX_INPUT) {
        errf(e, E2BIG, "input is %zu bytes, more than the limit of %zu", len, MODEL_MAX_INPUT);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        errf(e, EINVAL, "invalid JSON: line %d column %d: %s", je.line, je.column, je.text);
    return v;
}

int model_decode_json(const char *buf, size_t len, struct model_obj **out, struct err *e)
{
    json_t *v = load_json(buf, len, e);
    if (!v)
        return -1;
    int rc = model_decode_value(v, out, e);
    json_decref(v);
    return rc;
}

int model_decode_json_stream(const char *buf, size_t len, struct model_obj ***objs, size_t *n,
                             struct err *e)
{
    json_t *v = load_json(buf, len, e);
    if (!v)
        return -1;
    struct obj_vec ov = {0};
    int rc = decode_doc(v, &ov, NULL, 0, e);
    json_decref(v);
    if (rc < 0) {
        model_objs_free(ov.v, ov.len);
        return -1;
    }
    *objs = ov.v;
    *n = ov.len;
    return 0;
}
