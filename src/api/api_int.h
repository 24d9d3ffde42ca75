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

/* Appends the stored value v to out with metadata.resourceVersion set to rev (see
 * objects.c on the stored form). Returns 0, or -1 (E2BIG) past out's limit. */
int api__write_obj(struct strbuf *out, const char *v, size_t len, int64_t rev);

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

/* Writes the store key for kind/ns/name into buf; returns its length, or -1 when
 * it would not fit. */
int api__key(const struct api_kind *k, const char *ns, const char *name, char *buf, size_t size);

/* Parses a boolean query value like Go's strconv.ParseBool. */
bool api__parse_bool(const char *s, bool *out);

#endif
