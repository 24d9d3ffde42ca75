/*
 * model_internal: what the files of src/model share and nothing outside calls.
 *
 * The decoder walks a json_t tree with a struct model__dctx that carries the
 * object's arena, the error, a description of the object (`ClusterQueue
 * "team-a"`) and the path of the field being read
 * (`spec.resourceGroups[0].flavors[1]`). Every getter pushes its key onto the
 * path, so an error anywhere below names the full field without the callee
 * knowing where it was called from.
 *
 * Conventions of the getters (model__get_*):
 *   - obj may be NULL (an absent parent): the field is then absent too.
 *   - An absent field and an explicit JSON null are the same: absent. Absent
 *     leaves *out unchanged (so callers store defaults first) and sets *has
 *     (where there is one) to false; a required field that is absent fails
 *     with "required".
 *   - Strings and arrays are copied into the arena.
 *   - Return 0, or -1 with the error filled.
 */
#ifndef MUSTER_MODEL_INTERNAL_H
#define MUSTER_MODEL_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "model/model.h"

#define MODEL__PATH_MAX 192
#define MODEL__DESC_MAX 96

struct model__dctx {
    struct arena *a;
    struct err *e;
    enum model_api_version ver;
    enum model_kind kind;
    char desc[MODEL__DESC_MAX];
    char path[MODEL__PATH_MAX];
    size_t plen;
};

/* Path: each push returns the old length for model__pop. */
size_t model__push(struct model__dctx *c, const char *field);
size_t model__push_index(struct model__dctx *c, size_t i);
size_t model__push_key(struct model__dctx *c, const char *key);
void model__pop(struct model__dctx *c, size_t old);

/* Fills the error as "<desc>: <path>: <message>" (no path part when the path is
 * empty); returns -1. */
int model__fail(struct model__dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same, with key pushed for the duration of the message. */
int model__fail_at(struct model__dctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "a string", "a number", ... for type errors. */
const char *model__type_name(const json_t *v);

/* Fails with `unknown field "<path>.<key>"` for the first key of obj that is
 * not in the NULL-terminated list allowed. obj may be NULL. Fails with "must
 * be an object" when obj is not one. */
int model__fields(struct model__dctx *c, json_t *obj, const char *const *allowed);

/* Fails with `unknown field "<path>.<key>"`, the path being c's. */
int model__unknown_field(struct model__dctx *c, const char *key);

/* obj[key], or NULL when obj is NULL, the key is absent or its value null. */
json_t *model__field(json_t *obj, const char *key);

int model__get_object(struct model__dctx *c, json_t *obj, const char *key, json_t **out,
                      bool required);
int model__get_array(struct model__dctx *c, json_t *obj, const char *key, json_t **out,
                     bool required, size_t max_items);
int model__get_string(struct model__dctx *c, json_t *obj, const char *key, const char **out,
                      bool required);
int model__get_bool(struct model__dctx *c, json_t *obj, const char *key, bool *out, bool *has);
int model__get_int32(struct model__dctx *c, json_t *obj, const char *key, int32_t *out, bool *has);
int model__get_int64(struct model__dctx *c, json_t *obj, const char *key, int64_t *out, bool *has);
int model__get_quantity(struct model__dctx *c, json_t *obj, const char *key, int64_t *milli,
                        bool *has);
int model__get_time(struct model__dctx *c, json_t *obj, const char *key, int64_t *ns, bool *has);

/* An enum written as one of the NULL-terminated names; *out is its index.
 * Absent leaves *out unchanged. */
int model__get_enum(struct model__dctx *c, json_t *obj, const char *key, const char *const *names,
                    int *out);

/* What model__get_string_map checks of keys and values. */
enum model__kv_check {
    MODEL__KV_ANY,             /* keys non-empty, values any string */
    MODEL__KV_LABELS,          /* label keys and label values */
    MODEL__KV_ANNOTATIONS,     /* qualified-name keys, any values */
    MODEL__KV_RESOURCE_FLAVOR, /* resource-name keys, DNS-subdomain values */
};

int model__get_string_map(struct model__dctx *c, json_t *obj, const char *key,
                          struct model_kv_list *out, enum model__kv_check check);

/* A list of strings; each checked with check (may be NULL) which returns NULL
 * or the reason it is invalid. unique: duplicates are an error. */
int model__get_string_list(struct model__dctx *c, json_t *obj, const char *key,
                           struct model_string_list *out, size_t max_items,
                           const char *(*check)(const char *s), bool unique);

/* A corev1.ResourceList: resource name -> non-negative quantity. */
int model__get_resources(struct model__dctx *c, json_t *obj, const char *key,
                         struct model_resource_list *out);

int model__get_selector(struct model__dctx *c, json_t *obj, const char *key, struct selector *out);
int model__get_taints(struct model__dctx *c, json_t *obj, const char *key, struct model_taint **out,
                      size_t *n, size_t max_items);
int model__get_tolerations(struct model__dctx *c, json_t *obj, const char *key,
                           struct model_toleration **out, size_t *n, size_t max_items);
int model__get_conditions(struct model__dctx *c, json_t *obj, const char *key,
                          struct model_condition **out, size_t *n);

/* Name checks: NULL when s is valid, otherwise the reason. */
const char *model__check_dns_subdomain(const char *s);
const char *model__check_dns_label(const char *s);
const char *model__check_qualified_name(const char *s);
const char *model__check_label_value(const char *s);
const char *model__check_resource_name(const char *s);
const char *model__check_ns_name(const char *s); /* "namespace/name" */

/* A string field that must pass check; absent leaves *out unchanged. */
int model__get_name(struct model__dctx *c, json_t *obj, const char *key, const char **out,
                    bool required, const char *(*check)(const char *s));

/* Copies into the arena. */
char *model__strdup(struct model__dctx *c, const char *s);

/* The per-kind decoders: root is the whole object, metadata already decoded
 * into o->meta and c->desc set. */
int model__decode_namespace(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_node(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_priority_class(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_resource_flavor(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_cluster_queue(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_cohort(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_local_queue(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_workload_priority_class(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_workload(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_topology(struct model__dctx *c, json_t *root, struct model_obj *o);
int model__decode_scenario(struct model__dctx *c, json_t *root, struct model_obj *o);

/* Converts root, a Kueue object of kind in another version, in place into
 * version to (convert_kueue.c); errors name c's object and the field. */
int model__kueue_convert(struct model__dctx *c, json_t *root, const char *kind,
                         enum model_api_version to);

/* Shared by Workload: a corev1.PodTemplateSpec. */
int model__decode_pod_template(struct model__dctx *c, json_t *obj, const char *key,
                               struct model_pod_template *t);

#endif
