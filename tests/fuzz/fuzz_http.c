/*
 * fuzz_http: the API request path, api_handle(), on arbitrary requests.
 *
 * An input is one or more requests in a plain text form close to HTTP/1.1,
 * separated by a line "#next":
 *
 *     METHOD SP TARGET LF          TARGET is the path, percent-encoded, with an
 *     Name: value LF ...           optional ?query (k=v&k=v, percent-encoded)
 *     LF
 *     BODY                         up to the next "\n#next\n" or the end
 *
 * Only what src/api/http.c hands to api_handle() is taken from the headers:
 * Accept, Content-Type, and X-Body-Too-Big (which stands for http.c's 413 path).
 * The path and the query are percent-decoded as libmicrohttpd does before they
 * reach the handler. Each input runs on a fresh memory store that already holds
 * a few objects (a Namespace, a Node, a Pod, a Lease, a ClusterQueue), so that
 * get, update, patch and delete find something; requests of one input run in
 * order on the same store, so a seed can create and then patch.
 *
 * Besides "no crash, no leak, no undefined behaviour", every response must have
 * a status in 100..599, and a non-streamed application/json body must be one
 * JSON document; a watch stream is drained (its initial events) and closed.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *fuzz_target_name = "http";
int fuzz_accepted;

const char *const fuzz_dict[] = {
    "GET ",
    "POST ",
    "PUT ",
    "PATCH ",
    "DELETE ",
    "HEAD ",
    "OPTIONS ",
    "\n#next\n",
    "\n\n",
    "/api/v1",
    "/apis",
    "/apis/kueue.x-k8s.io/v1beta2",
    "/apis/kueue.x-k8s.io/v1beta1",
    "/apis/coordination.k8s.io/v1",
    "/apis/resource.k8s.io/v1",
    "/apis/batch/v1",
    "/namespaces/default",
    "/namespaces/",
    "/pods",
    "/nodes",
    "/leases",
    "/clusterqueues",
    "/localqueues",
    "/workloads",
    "/status",
    "/binding",
    "/log",
    "/openapi/v3",
    "/openapi/v2",
    "/version",
    "/readyz",
    "/healthz",
    "?",
    "&",
    "=",
    "%2F",
    "%00",
    "%",
    "watch=true",
    "timeoutSeconds=0",
    "allowWatchBookmarks=true",
    "resourceVersion=",
    "resourceVersionMatch=NotOlderThan",
    "limit=1",
    "continue=",
    "labelSelector=",
    "fieldSelector=",
    "metadata.name=",
    "spec.nodeName=",
    "involvedObject.name=",
    " in (a,b)",
    "!=",
    "fieldValidation=Strict",
    "fieldValidation=Warn",
    "fieldManager=kubectl",
    "force=true",
    "dryRun=All",
    "propagationPolicy=Background",
    "Accept: ",
    "Content-Type: ",
    "application/json",
    "application/json;as=Table;v=v1;g=meta.k8s.io",
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "X-Body-Too-Big: 1\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "\"apiVersion\":\"v1\"",
    "\"kind\":\"Pod\"",
    "\"metadata\":{\"name\":\"a\"}",
    "\"resourceVersion\":\"1\"",
    "\"finalizers\":[\"x/y\"]",
    "\"labels\":{\"a\":\"b\"}",
    "\"spec\":",
    "\"status\":",
    "{\"op\":\"add\",\"path\":\"/metadata/labels/a\",\"value\":\"b\"}",
    "{\"op\":\"remove\",\"path\":\"/spec\"}",
    "\"$patch\":\"delete\"",
    "\"$setElementOrder/containers\":",
    NULL};

#define MAX_REQS 8

/* Decodes %XX escapes of s[0..len) into a new NUL-terminated string (a "%00"
 * ends it early, as a C string would; libmicrohttpd hands the handler C strings
 * too). '+' is a space in a query. */
static char *unescape(const char *s, size_t len, bool query)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtoul(hex, NULL, 16);
            i += 2;
        } else if (query && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = 0;
    return out;
}

/* Strings a request borrows, freed after it. */
struct owned {
    char *s[2 + 2 * API_QUERY_MAX + 2];
    size_t n;
};

static char *own(struct owned *ow, char *s)
{
    ow->s[ow->n++] = s;
    return s;
}

static char *dup_range(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

static void check_resp(const struct api_req *req, struct api_resp *r, struct api_ctx *ctx)
{
    if (r->code < 100 || r->code > 599) {
        fprintf(stderr, "%s %s: status %d\n", req->method, req->path, r->code);
        abort();
    }
    if (r->stream) {
        /* Drain what is there (the initial events) without waiting for more. */
        struct strbuf out;
        strbuf_init(&out, (size_t)1 << 26);
        ctx->stopping = true;
        for (int i = 0; i < 10000 && r->stream->next(r->stream, &out) > 0; i++)
            strbuf_reset(&out);
        ctx->stopping = false;
        r->stream->free_fn(r->stream);
        r->stream = NULL;
        strbuf_release(&out);
        return;
    }
    if (r->content_type && !strcmp(r->content_type, "application/json")) {
        json_error_t je;
        json_t *j = json_loadb(r->body.buf ? r->body.buf : "", r->body.len, 0, &je);
        if (!j) {
            fprintf(stderr, "%s %s: %d with a body that is not JSON (%s): %.300s\n", req->method,
                    req->path, r->code, je.text, r->body.buf ? r->body.buf : "");
            abort();
        }
        json_decref(j);
    }
}

/* Parses one request from p[0..len) and serves it. */
static void one_request(struct api_ctx *ctx, const char *p, size_t len)
{
    const char *end = p + len;
    const char *nl = memchr(p, '\n', len);
    const char *line_end = nl ? nl : end;
    const char *sp = memchr(p, ' ', (size_t)(line_end - p));
    if (!sp)
        return;
    struct owned ow = {.n = 0};
    struct api_req req = {0};
    req.method = own(&ow, dup_range(p, (size_t)(sp - p)));
    const char *target = sp + 1;
    const char *q = memchr(target, '?', (size_t)(line_end - target));
    const char *path_end = q ? q : line_end;
    req.path = own(&ow, unescape(target, (size_t)(path_end - target), false));
    if (q) {
        const char *k = q + 1;
        while (k < line_end && req.n_query < API_QUERY_MAX) {
            const char *amp = memchr(k, '&', (size_t)(line_end - k));
            const char *kv_end = amp ? amp : line_end;
            const char *eq = memchr(k, '=', (size_t)(kv_end - k));
            req.query[req.n_query].key =
                own(&ow, unescape(k, (size_t)((eq ? eq : kv_end) - k), true));
            req.query[req.n_query].value =
                eq ? own(&ow, unescape(eq + 1, (size_t)(kv_end - eq - 1), true)) : NULL;
            req.n_query++;
            k = kv_end + 1;
        }
    }
    /* Headers up to an empty line; the rest is the body. */
    const char *h = nl ? nl + 1 : end;
    while (h < end && *h != '\n') {
        const char *he = memchr(h, '\n', (size_t)(end - h));
        if (!he)
            he = end;
        const char *colon = memchr(h, ':', (size_t)(he - h));
        if (colon) {
            size_t nlen = (size_t)(colon - h);
            const char *v = colon + 1;
            while (v < he && *v == ' ')
                v++;
            if (nlen == 6 && !strncasecmp(h, "Accept", 6) && !req.accept)
                req.accept = own(&ow, dup_range(v, (size_t)(he - v)));
            else if (nlen == 12 && !strncasecmp(h, "Content-Type", 12) && !req.content_type)
                req.content_type = own(&ow, dup_range(v, (size_t)(he - v)));
            else if (nlen == 14 && !strncasecmp(h, "X-Body-Too-Big", 14))
                req.body_too_big = true;
        }
        h = he < end ? he + 1 : end;
    }
    if (h < end) {
        h++; /* the empty line */
        if (h < end) {
            /* A copy of exactly the body's bytes, so a read past it is caught. */
            req.body = own(&ow, dup_range(h, (size_t)(end - h)));
            req.body_len = (size_t)(end - h);
        }
    }
    if (req.body_too_big) {
        req.body = NULL;
        req.body_len = 0;
    }
    struct api_resp r;
    api_resp_init(&r);
    api_handle(ctx, &req, &r);
    static int trace = -1; /* FUZZ_TRACE=1: print each request and its status */
    if (trace < 0)
        trace = getenv("FUZZ_TRACE") != NULL;
    if (trace)
        fprintf(stderr, "%s %s (%zu query, %zu body) -> %d\n", req.method, req.path, req.n_query,
                req.body_len, r.code);
    check_resp(&req, &r, ctx);
    if (r.code < 400)
        fuzz_accepted = 1;
    api_resp_release(&r);
    for (size_t i = 0; i < ow.n; i++)
        free(ow.s[i]);
}

static const struct {
    const char *path, *body;
} preload[] = {
    {"/api/v1/namespaces",
     "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"default\"}}"},
    {"/api/v1/nodes", "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\","
                      "\"labels\":{\"a\":\"b\"}},"
                      "\"status\":{\"capacity\":{\"cpu\":\"8\",\"nvidia.com/gpu\":\"4\"},"
                      "\"allocatable\":{\"cpu\":\"8\",\"nvidia.com/gpu\":\"4\"}}}"},
    {"/api/v1/namespaces/default/pods",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"labels\":{\"app\":"
     "\"a\"}},"
     "\"spec\":{\"schedulerName\":\"muster\",\"containers\":[{\"name\":\"c\",\"image\":\"i\","
     "\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}"},
    {"/apis/coordination.k8s.io/v1/namespaces/default/leases",
     "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"l\"},"
     "\"spec\":{\"holderIdentity\":\"h\"}}"},
    {"/apis/kueue.x-k8s.io/v1beta2/clusterqueues",
     "{\"apiVersion\":\"kueue.x-k8s.io/"
     "v1beta2\",\"kind\":\"ClusterQueue\",\"metadata\":{\"name\":\"q\"},"
     "\"spec\":{\"resourceGroups\":[{\"coveredResources\":[\"cpu\"],\"flavors\":[{\"name\":\"f\","
     "\"resources\":[{\"name\":\"cpu\",\"nominalQuota\":\"4\"}]}]}]}}"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_ctx ctx = {.store = store_open_mem(NULL)};
    snprintf(ctx.server_address, sizeof ctx.server_address, "127.0.0.1:6443");
    for (size_t i = 0; i < sizeof preload / sizeof *preload; i++) {
        struct api_req req = {.method = "POST",
                              .path = preload[i].path,
                              .content_type = "application/json",
                              .body = preload[i].body,
                              .body_len = strlen(preload[i].body)};
        struct api_resp r;
        api_resp_init(&r);
        api_handle(&ctx, &req, &r);
        if (r.code != 201) {
            fprintf(stderr, "preload %s: %d %.300s\n", preload[i].path, r.code, r.body.buf);
            abort();
        }
        api_resp_release(&r);
    }
    const char *p = (const char *)data, *end = p + size;
    static const char sep[] = "\n#next\n";
    for (int n = 0; n < MAX_REQS && p < end; n++) {
        const char *s = memmem(p, (size_t)(end - p), sep, sizeof sep - 1);
        const char *req_end = s ? s : end;
        one_request(&ctx, p, (size_t)(req_end - p));
        p = s ? s + sizeof sep - 1 : end;
    }
    store_close(ctx.store);
    return 0;
}
