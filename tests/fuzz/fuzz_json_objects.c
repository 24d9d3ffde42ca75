/*
 * fuzz_json_objects: arbitrary JSON bodies on the write paths of every served
 * kind, through api_handle() on a memory store.
 *
 * The input is a request body. The kind it is sent to is the one its
 * apiVersion and kind name (when it is a JSON object that names a served kind),
 * and otherwise one picked by a hash of the input, so mutated bodies also reach
 * the wrong kinds' paths. A fresh store first gets a minimal object of that kind
 * named "fz"; then the body is sent, in order, as:
 *
 *     POST   <collection>                        (fieldValidation=Strict, then Warn)
 *     PUT    <collection>/<name>          (name: the body's metadata.name, or "fz")
 *     PATCH  <collection>/<name>          merge, JSON patch, strategic merge,
 *                                          apply (fieldManager=fuzz, force=true)
 *     PUT    <collection>/<name>/status, PATCH .../status (merge), when the kind
 *                                          has a status subresource
 *
 * then the object is read back, listed and deleted. Beyond "no crash, no leak,
 * no undefined behaviour" under the sanitizers it checks that every answer is a
 * status in 100..599 with a JSON body, and that a write the server accepted left
 * an object that GET returns as JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *fuzz_target_name = "objects";
int fuzz_accepted;

const char *const fuzz_dict[] = {"{",
                                 "}",
                                 "[",
                                 "]",
                                 "\"",
                                 ":",
                                 ",",
                                 "null",
                                 "true",
                                 "false",
                                 "0",
                                 "-1",
                                 "1e308",
                                 "9223372036854775808",
                                 "\"\"",
                                 "\\u0000",
                                 "\\ud800",
                                 "\xc3\xa9",
                                 "\"apiVersion\":",
                                 "\"kind\":",
                                 "\"v1\"",
                                 "\"kueue.x-k8s.io/v1beta2\"",
                                 "\"kueue.x-k8s.io/v1beta1\"",
                                 "\"resource.k8s.io/v1\"",
                                 "\"coordination.k8s.io/v1\"",
                                 "\"batch/v1\"",
                                 "\"metadata\":",
                                 "\"name\":",
                                 "\"generateName\":\"g-\"",
                                 "\"namespace\":",
                                 "\"resourceVersion\":",
                                 "\"uid\":",
                                 "\"generation\":",
                                 "\"labels\":",
                                 "\"annotations\":",
                                 "\"finalizers\":",
                                 "\"ownerReferences\":",
                                 "\"managedFields\":",
                                 "\"deletionTimestamp\":",
                                 "\"creationTimestamp\":",
                                 "\"spec\":",
                                 "\"status\":",
                                 "\"conditions\":",
                                 "\"containers\":",
                                 "\"resources\":",
                                 "\"requests\":",
                                 "\"limits\":",
                                 "\"nvidia.com/gpu\":",
                                 "\"cpu\":",
                                 "\"memory\":",
                                 "\"500m\"",
                                 "\"40Gi\"",
                                 "\"resourceGroups\":",
                                 "\"coveredResources\":",
                                 "\"flavors\":",
                                 "\"nominalQuota\":",
                                 "\"clusterQueue\":",
                                 "\"podSets\":",
                                 "\"count\":",
                                 "\"nodeName\":",
                                 "\"schedulerName\":",
                                 "\"phase\":",
                                 "\"holderIdentity\":",
                                 "\"devices\":",
                                 "\"op\":\"add\"",
                                 "\"op\":\"remove\"",
                                 "\"op\":\"replace\"",
                                 "\"op\":\"move\"",
                                 "\"op\":\"copy\"",
                                 "\"op\":\"test\"",
                                 "\"path\":\"/metadata/labels/a\"",
                                 "\"path\":\"/spec/containers/0\"",
                                 "\"path\":\"/spec/containers/-\"",
                                 "\"from\":\"/metadata\"",
                                 "\"value\":",
                                 "\"$patch\":\"delete\"",
                                 "\"$patch\":\"replace\"",
                                 "\"$retainKeys\":",
                                 "\"$setElementOrder/containers\":",
                                 "\"$deleteFromPrimitiveList/finalizers\":",
                                 NULL};

static struct api_ctx ctx;
static char body_name[254];
static bool counting;  /* set while the input's own body is sent */
static int trace = -1; /* FUZZ_TRACE=1: print each request and its status */

/* One request; checks the answer; returns the status. */
static int call(const char *method, const char *path, const char *query, const char *ctype,
                const char *body, size_t len)
{
    struct api_req req = {.method = method,
                          .path = path,
                          .content_type = ctype,
                          .accept = "application/json",
                          .body = body,
                          .body_len = len};
    char q[128];
    if (query) {
        /* "k=v&k=v" with no escaping. */
        snprintf(q, sizeof q, "%s", query);
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && req.n_query < API_QUERY_MAX;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            *eq = 0;
            req.query[req.n_query].key = kv;
            req.query[req.n_query++].value = eq + 1;
        }
    }
    struct api_resp r;
    api_resp_init(&r);
    api_handle(&ctx, &req, &r);
    int code = r.code;
    if (code < 100 || code > 599 || r.stream) {
        fprintf(stderr, "%s %s: status %d%s\n", method, path, code, r.stream ? " streamed" : "");
        abort();
    }
    json_error_t je;
    json_t *j = json_loadb(r.body.buf ? r.body.buf : "", r.body.len, 0, &je);
    if (!j) {
        fprintf(stderr, "%s %s: %d with a body that is not JSON (%s): %.300s\n", method, path, code,
                je.text, r.body.buf ? r.body.buf : "");
        abort();
    }
    /* An object the server accepted from a POST: remember its name to read back. */
    if (code == 201 && !strcmp(method, "POST")) {
        const char *n = json_string_value(json_object_get(json_object_get(j, "metadata"), "name"));
        if (n)
            snprintf(body_name, sizeof body_name, "%s", n);
    }
    json_decref(j);
    api_resp_release(&r);
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL;
    if (trace)
        fprintf(stderr, "%s %s?%s [%s] -> %d\n", method, path, query ? query : "",
                ctype ? ctype : "", code);
    if (counting && code < 300)
        fuzz_accepted = 1;
    return code;
}

/* The kind the body names, or one picked by a hash of the input. */
static const struct api_kind *pick_kind(json_t *doc, const uint8_t *data, size_t size)
{
    const char *av = json_string_value(json_object_get(doc, "apiVersion"));
    const char *kn = json_string_value(json_object_get(doc, "kind"));
    const struct api_kind *k = av && kn ? api_registry_by_api_version(av, kn) : NULL;
    if (k && (k->verbs & API_VERB_CREATE) && !(k->verbs == API_VERB_CREATE))
        return k;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    size_t n = api_registry_len();
    for (size_t tries = 0; tries < n; tries++) {
        k = api_registry_kind((h + tries) % n);
        /* Kinds that are only created (bindings) have no object to patch. */
        if ((k->verbs & API_VERB_CREATE) && k->verbs != API_VERB_CREATE)
            return k;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    json_t *doc = json_loadb(body, size, JSON_DECODE_ANY, NULL);
    const struct api_kind *k = pick_kind(doc, data, size);
    const char *name = json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
    char put_name[254];
    snprintf(put_name, sizeof put_name, "%s",
             name && *name && strlen(name) < 200 && !strchr(name, '/') ? name : "fz");
    json_decref(doc);

    ctx.store = store_open_mem(NULL);
    char coll[512], obj[800], status[1200], av[128];
    api_kind_api_version(k, av, sizeof av);
    snprintf(coll, sizeof coll, "%s/%s%s%s", k->group[0] ? "/apis" : "/api",
             k->group[0] ? k->group : "", k->group[0] ? "/" : "", k->version);
    if (k->namespaced)
        snprintf(coll + strlen(coll), sizeof coll - strlen(coll), "/namespaces/default");
    snprintf(coll + strlen(coll), sizeof coll - strlen(coll), "/%s", k->resource);
    snprintf(obj, sizeof obj, "%s/fz", coll);

    char seed[512];
    int sl = snprintf(seed, sizeof seed,
                      "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"fz\"}}", av,
                      k->kind);
    int seeded = call("POST", coll, NULL, "application/json", seed, (size_t)sl);
    counting = true;

    body_name[0] = 0;
    call("POST", coll, "fieldValidation=Strict", "application/json", body, size);
    call("POST", coll, "fieldValidation=Warn&fieldManager=kubectl-create", "application/json", body,
         size);
    char put[1100];
    snprintf(put, sizeof put, "%s/%s", coll, put_name);
    call("PUT", put, "fieldValidation=Strict", "application/json", body, size);
    call("PATCH", put, "fieldManager=kubectl-patch", "application/merge-patch+json", body, size);
    call("PATCH", put, NULL, "application/json-patch+json", body, size);
    call("PATCH", put, "fieldValidation=Strict", "application/strategic-merge-patch+json", body,
         size);
    call("PATCH", put, "fieldManager=fuzz&force=true&fieldValidation=Strict",
         "application/apply-patch+yaml", body, size);
    if (k->subresources & API_SUB_STATUS) {
        snprintf(status, sizeof status, "%s/status", put);
        call("PUT", status, NULL, "application/json", body, size);
        call("PATCH", status, NULL, "application/merge-patch+json", body, size);
    }
    counting = false;
    /* What was accepted reads back as JSON (call() checks) and lists. */
    if (seeded == 201)
        call("GET", obj, NULL, NULL, NULL, 0);
    if (body_name[0] && strlen(body_name) < 200) {
        char got[1100];
        snprintf(got, sizeof got, "%s/%s", coll, body_name);
        int code = call("GET", got, NULL, NULL, NULL, 0);
        if (code != 200) {
            fprintf(stderr, "created %s, then GET answered %d\n", got, code);
            abort();
        }
    }
    call("GET", coll, NULL, NULL, NULL, 0);
    call("DELETE", obj, NULL, NULL, NULL, 0);
    store_close(ctx.store);
    ctx.store = NULL;
    return 0;
}
