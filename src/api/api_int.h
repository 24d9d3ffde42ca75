/*
 * api internals shared by the files of src/api; nothing outside the module
 * includes this.
 */
#ifndef MUSTER_API_API_INT_H
#define MUSTER_API_API_INT_H

#include <jansson.h>

#include "api/api.h"
#include "api/registry.h"

/* Error codes of the request layer (struct err.code), beside the store's
 * (store.h). api__fail maps every one of them to an HTTP status. */
#define API_EBADREQ    EINVAL     /* 400 BadRequest: malformed body or query */
#define API_EINVALID   EDOM       /* 422 Invalid: a field has a bad value */
#define API_ENOMETHOD  EOPNOTSUPP /* 405 MethodNotAllowed */
#define API_ETOOLARGE  EMSGSIZE   /* 413 RequestEntityTooLarge */
#define API_EMEDIA     EPROTO     /* 415 UnsupportedMediaType */
#define API_ENOPATH    ENOTDIR    /* 404 for a path nothing serves */
#define API_ENOTACCEPT ENOTSUP    /* 406 NotAcceptable */
#define API_EFORBIDDEN EACCES     /* 403 Forbidden (admission: a namespace being deleted) */

/* What a request addresses, parsed from its path. */
struct api_target {
    const struct api_kind *kind;
    char ns[254];   /* "" when none in the path */
    char name[254]; /* "" for the collection */
    unsigned sub;   /* enum api_subresource bit, or 0 */
};

/* Names an error's object for the Status: the kind (or NULL) and the name. */
struct api_obj_ref {
    const struct api_kind *kind;
    const char *name;
};

/* Fills r with the Status for e, mapping e->code to the HTTP status (the only
 * place that does). ref may be NULL. For API_EINVALID the message is expected to
 * start with the field path, "spec.x: reason"; it becomes details.causes[0]. */
void api__fail(struct api_resp *r, const struct err *e, const struct api_obj_ref *ref);

/* A Status with status "Success" and the code (pods/binding answers 201). */
void api__success_status(struct api_resp *r, int code);

/* Sets r to code with a JSON body taken from j (stolen). */
void api__json(struct api_resp *r, int code, json_t *j);

/* Discovery and fixed documents. Return false when path is not theirs. */
bool api__discovery(struct api_ctx *ctx, const struct api_req *req, struct api_resp *r);

/* Objects: every resource path. */
void api__objects(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                  struct api_resp *r);

/* Watch on a collection; list_prefix is the store prefix to watch. */
void api__watch(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                const char *prefix, struct api_resp *r);

/* pods/<name>/log: proxies to the agent of the pod's node (podlog.c). */
void api__pod_log(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                  struct api_resp *r);

/* ---- the stored form and versions (stored.c) ---- */

/* Appends the stored value v to out with metadata.resourceVersion set to rev (see
 * stored.c on the stored form). Returns 0, or -1 (E2BIG) past out's limit. */
int api__write_obj(struct strbuf *out, const char *v, size_t len, int64_t rev);

/* Whether v starts as every stored object does (stored.c). */
bool api__stored_form(const char *v, size_t len);

/* The current time as RFC 3339 ("2026-01-02T03:04:05Z"); a new random UUID. */
void api__now_rfc3339(char *buf, size_t size);
void api__new_uid(char *buf, size_t size);

/* The time add_s seconds from now, as RFC 3339. */
void api__rfc3339_after(char *buf, size_t size, int64_t add_s);

/* Whether objects of k are stored in another version than k's (kueue v1beta1,
 * stored as v1beta2), so that what a request reads and writes is converted. */
bool api__converts(const struct api_kind *k);

/* Converts obj, in k's version, in place into the storage version (nothing to
 * do when k is that version). Returns 0, or -1 with e filled (API_EINVALID). */
int api__to_storage(const struct api_kind *k, json_t *obj, struct err *e);

/* Encodes obj, in k's version (not changed), into the stored form in the
 * storage version. Returns the bytes (caller frees) and their length, or NULL
 * with e filled (API_EINVALID) when obj cannot be converted. */
char *api__encode_stored(const struct api_kind *k, json_t *obj, size_t *len, struct err *e);

/* Parses the stored value of kv into a tree in k's version (k NULL: as stored)
 * with metadata.resourceVersion set; NULL when it is not a JSON object. */
json_t *api__decode_stored(const struct api_kind *k, const struct store_kv *kv);

/* Appends kv as k's version sees it (a byte copy when no conversion). Returns 0,
 * or -1 past out's limit. */
int api__write_kv(struct strbuf *out, const struct api_kind *k, const struct store_kv *kv);

/* Sets r to code with kv as k's version sees it; or with obj (any version)
 * carrying resourceVersion rev (a dry run's reply). */
void api__reply_kv(struct api_resp *r, int code, const struct api_kind *k,
                   const struct store_kv *kv);
void api__reply_obj(struct api_resp *r, int code, json_t *obj, int64_t rev);

struct api_selector;

/* Sets r to the list (`<Kind>List` in k's version, metadata.resourceVersion
 * l->rev, continue l->cont) of the items of l that ls and fs select. each, when
 * not NULL, is called with arg on every selected item first (deletecollection
 * deletes it there); its failure ends the list. Returns 0, or -1 with e filled
 * (STORE_ETOOBIG past API_RESPONSE_MAX). */
int api__reply_list(struct api_resp *r, const struct api_kind *k, const struct store_list *l,
                    const struct api_selector *ls, const struct api_selector *fs,
                    int (*each)(void *arg, const struct store_kv *kv, struct err *e), void *arg,
                    struct err *e);

/* ---- shared by objects.c, delete.c and namespace.c ---- */

/* Parses the body, which carries a `kind` ("DeleteOptions"), as one JSON object
 * (strict: duplicate keys are an error), or with the protobuf Content-Type
 * through api/protobuf.h (strict: an unknown field number is an error, else a
 * Warning in r); NULL with e filled (API_EBADREQ, API_EMEDIA, API_EINVALID)
 * otherwise. */
json_t *api__parse_body(const struct api_req *req, const char *kind, bool strict,
                        struct api_resp *r, struct err *e);

/* Whether finalizers hold obj: metadata.finalizers, and a namespace's
 * spec.finalizers. */
bool api__has_finalizers(json_t *obj);

/* ---- DELETE (delete.c) ---- */

/* DELETE of one object. An object that finalizers hold gets deletionTimestamp
 * and the reply is the object; so does a pod bound to a live node, which is
 * deleted gracefully (deletionTimestamp and deletionGracePeriodSeconds; its
 * agent removes it); otherwise it is removed and the reply is the object (kinds
 * with return_deleted) or a Status Success naming it, as Kubernetes answers. */
void api__delete(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                 struct api_resp *r);

/* deletecollection: DELETE of the collection at prefix, with labelSelector and
 * fieldSelector; each object is deleted as by api__delete. The reply is the
 * list of the objects as they were, as Kubernetes answers. */
void api__delete_collection(struct api_ctx *ctx, const struct api_req *req,
                            const struct api_target *t, const char *prefix, struct api_resp *r);

/* Deletes the object stored at key, whose version kv the caller read, as a
 * DELETE does: finalizers hold it (deletionTimestamp set once; a namespace also
 * gets status.phase Terminating), otherwise it is removed if its revision is
 * still expect (0: kv's). *out (a reference the caller unrefs) is the result:
 * the held object, or the deletion (type STORE_DELETED). Returns 0, or -1 with
 * e filled (STORE_ECONFLICT when the object changed meanwhile). */
int api__delete_kv(struct api_ctx *ctx, const char *key, const struct store_kv *kv, int64_t expect,
                   struct store_kv **out, struct err *e);

/* Whether an object being deleted (deletionTimestamp set) goes once no finalizer
 * holds it: its grace period is 0, or it is a pod that is terminal (Succeeded or
 * Failed: nothing runs any more, whoever wrote that). */
bool api__deletion_due(json_t *obj);

/* ---- namespaces (namespace.c) ---- */

/* NamespaceLifecycle admission of creating an object of kind k named name in
 * namespace ns: 0 when k is cluster-scoped or the namespace exists and is not
 * being deleted; otherwise -1 with r filled: 404 `namespaces "x" not found`,
 * or 403 Forbidden while the namespace terminates. */
int api__ns_admit(struct api_ctx *ctx, const struct api_kind *k, const char *ns, const char *name,
                  struct api_resp *r);

/* A namespace's server-set fields: on create (old NULL) spec.finalizers gets
 * "kubernetes" and status.phase Active; on update spec.finalizers and status
 * stay old's (finalize and status change them); both set the label
 * kubernetes.io/metadata.name to the name. */
void api__ns_prepare(json_t *obj, json_t *old);

/* Whether the namespace named name may never be deleted (default, kube-system,
 * kube-public). */
bool api__ns_immortal(const char *name);

/* The namespace finalizer: a thread that deletes the content of namespaces
 * being deleted, then the namespaces (namespace.c). */
struct api__ns_worker;
struct api__ns_worker *api__ns_worker_start(struct api_ctx *ctx, struct err *e);
void api__ns_worker_stop(struct api__ns_worker *w);

/* ---- selectors (select.c) ---- */

struct api_sel_term {
    char *key;
    int op; /* enum api_sel_op */
    char **values;
    size_t n_values;
};

struct api_selector {
    struct api_sel_term *terms;
    size_t n;
};

/* Parses a label selector ("a=b,c!=d,e in (x,y),!f") or, with field true, a
 * field selector ("metadata.name=x,spec.nodeName!="). NULL or "" is the empty
 * selector (matches everything). Returns 0, or -1 with e filled (API_EBADREQ). */
int api__selector_parse(const char *s, bool field, struct api_selector *out, struct err *e);
void api__selector_release(struct api_selector *s);

/* Whether the object (a JSON tree) matches: label selectors look at
 * metadata.labels, field selectors at the dotted paths. */
bool api__selector_matches(const struct api_selector *s, bool field, json_t *obj);

/* Whether a field selector key is one this kind supports. */
bool api__field_supported(const struct api_kind *k, const char *key);

/* Whether the stored object kv is selected by the label selector ls and the
 * field selector fs (empty selectors select everything). */
bool api__selects(const struct api_selector *ls, const struct api_selector *fs,
                  const struct store_kv *kv);

/* Parses the request's labelSelector and fieldSelector for kind k into ls and
 * fs (which the caller releases, also after a failure). A field k does not
 * support is API_EBADREQ, as Kubernetes answers. Returns 0 or -1. */
int api__selectors(const struct api_req *req, const struct api_kind *k, struct api_selector *ls,
                   struct api_selector *fs, struct err *e);

/* Writes the store key for kind/ns/name into buf; returns its length, or -1 when
 * it would not fit. */
int api__key(const struct api_kind *k, const char *ns, const char *name, char *buf, size_t size);

/* Parses a boolean query value like Go's strconv.ParseBool. */
bool api__parse_bool(const char *s, bool *out);

#endif
