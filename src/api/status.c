/*
 * api/status: Kubernetes Status objects, and the one place where an error code
 * becomes an HTTP status and a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

void api_resp_init(struct api_resp *r)
{
    memset(r, 0, sizeof *r);
    r->code = 500;
    r->content_type = "application/json";
    strbuf_init(&r->body, API_RESPONSE_MAX);
}

void api_resp_release(struct api_resp *r)
{
    strbuf_release(&r->body);
    if (r->stream)
        r->stream->free_fn(r->stream);
    r->stream = NULL;
}

void api__json(struct api_resp *r, int code, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    strbuf_reset(&r->body);
    r->code = code;
    r->content_type = "application/json";
    if (!s || strbuf_addstr(&r->body, s) < 0) {
        free(s);
        struct err e;
        errf(&e, EIO, "response too large");
        api__fail(r, &e, NULL);
        return;
    }
    free(s);
}

static const struct {
    int errcode;
    int http;
    const char *reason;
} status_map[] = {
    {STORE_ENOTFOUND, 404, "NotFound"},
    {API_ENOPATH, 404, "NotFound"},
    {STORE_EEXISTS, 409, "AlreadyExists"},
    {STORE_ECONFLICT, 409, "Conflict"},
    {STORE_ECOMPACTED, 410, "Expired"},
    {STORE_EFUTURE, 504, "Timeout"},
    {API_EBADREQ, 400, "BadRequest"},
    {API_EFORBIDDEN, 403, "Forbidden"},
    {API_EINVALID, 422, "Invalid"},
    {API_ENOMETHOD, 405, "MethodNotAllowed"},
    {API_ETOOLARGE, 413, "RequestEntityTooLarge"},
    {STORE_ETOOBIG, 413, "RequestEntityTooLarge"},
    {API_EMEDIA, 415, "UnsupportedMediaType"},
    {API_ENOTACCEPT, 406, "NotAcceptable"},
    {STORE_EBUSY, 503, "ServiceUnavailable"},
    {STORE_ECLOSED, 503, "ServiceUnavailable"},
};

void api__fail(struct api_resp *r, const struct err *e, const struct api_obj_ref *ref)
{
    int http = 500;
    const char *reason = "InternalError";
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].errcode == e->code) {
            http = status_map[i].http;
            reason = status_map[i].reason;
            break;
        }

    char qres[160] = "";
    const struct api_kind *k = ref ? ref->kind : NULL;
    const char *name = ref && ref->name ? ref->name : "";
    if (k)
        api_kind_qualified_resource(k, qres, sizeof qres);

    /* The message: Kubernetes' wording where clients or people match on it. */
    char msg[512];
    if (e->code == API_ENOPATH)
        snprintf(msg, sizeof msg, "the server could not find the requested resource");
    else if (k && e->code == STORE_ENOTFOUND)
        snprintf(msg, sizeof msg, "%s \"%s\" not found", qres, name);
    else if (k && e->code == STORE_EEXISTS)
        snprintf(msg, sizeof msg, "%s \"%s\" already exists", qres, name);
    else if (k && e->code == STORE_ECONFLICT)
        snprintf(msg, sizeof msg,
                 "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                 "please apply your changes to the latest version and try again",
                 qres, name);
    else if (k && e->code == API_EFORBIDDEN)
        snprintf(msg, sizeof msg, "%s \"%s\" is forbidden: %s", qres, name, e->msg);
    else if (k && e->code == API_EINVALID)
        snprintf(msg, sizeof msg, "%s%s%s \"%s\" is invalid: %s", k->kind, k->group[0] ? "." : "",
                 k->group, name, e->msg);
    else
        snprintf(msg, sizeof msg, "%s", e->msg);

    json_t *st = json_object();
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status", json_string("Failure"));
    json_object_set_new(st, "message", json_string(msg));
    json_object_set_new(st, "reason", json_string(reason));
    json_t *det = json_object();
    if (k) {
        if (name[0])
            json_object_set_new(det, "name", json_string(name));
        if (k->group[0])
            json_object_set_new(det, "group", json_string(k->group));
        json_object_set_new(det, "kind", json_string(k->resource));
    }
    if (e->code == API_EINVALID) {
        /* "field: reason" -> one cause naming the field. */
        const char *sep = strstr(e->msg, ": ");
        json_t *cause = json_object();
        json_object_set_new(cause, "reason", json_string("FieldValueInvalid"));
        if (sep) {
            json_object_set_new(cause, "message", json_string(sep + 2));
            json_object_set_new(cause, "field", json_stringn(e->msg, (size_t)(sep - e->msg)));
        } else {
            json_object_set_new(cause, "message", json_string(e->msg));
        }
        json_t *causes = json_array();
        json_array_append_new(causes, cause);
        json_object_set_new(det, "causes", causes);
    }
    json_object_set_new(st, "details", det);
    json_object_set_new(st, "code", json_integer(http));
    api__json(r, http, st);
    r->code = http; /* api__json may have recursed only for a huge body; not here */
}

void api__success_status(struct api_resp *r, int code)
{
    json_t *st = json_object();
    json_object_set_new(st, "kind", json_string("Status"));
    json_object_set_new(st, "apiVersion", json_string("v1"));
    json_object_set_new(st, "metadata", json_object());
    json_object_set_new(st, "status", json_string("Success"));
    json_object_set_new(st, "code", json_integer(code));
    api__json(r, code, st);
}
