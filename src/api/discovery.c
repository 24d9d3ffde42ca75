/*
 * api/discovery: /version, health, and the discovery documents built from the
 * registry: legacy (APIVersions, APIGroupList, APIGroup, APIResourceList) and
 * aggregated v2 (APIGroupDiscoveryList) when the Accept header asks for it;
 * and the OpenAPI v3 documents of api/openapi.h, which kubectl create, apply and
 * explain read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/openapi.h"
#include "base/alloc.h"

#define AGGREGATED_CT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

static json_t *strings(const char *const *v)
{
    json_t *a = json_array();
    for (; *v; v++)
        json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *verbs(unsigned bits)
{
    json_t *a = json_array();
    for (int i = 0; i < API_VERB_COUNT; i++)
        if (bits & (1u << i))
            json_array_append_new(a, json_string(api_verb_name(1u << i)));
    return a;
}

static json_t *group_version(const char *group, const char *version)
{
    char gv[160];
    snprintf(gv, sizeof gv, "%s%s%s", group, group[0] ? "/" : "", version);
    json_t *o = json_object();
    json_object_set_new(o, "groupVersion", json_string(gv));
    json_object_set_new(o, "version", json_string(version));
    return o;
}

static json_t *api_group_doc(const struct api_group *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(g->name));
    json_t *vs = json_array();
    for (size_t v = 0; v < g->n_versions; v++)
        json_array_append_new(vs, group_version(g->name, g->versions[v]));
    json_object_set_new(o, "versions", vs);
    json_object_set_new(o, "preferredVersion", group_version(g->name, g->versions[0]));
    return o;
}

/* APIResourceList for one group-version. */
static json_t *resource_list(const char *group, const char *version)
{
    char gv[160];
    snprintf(gv, sizeof gv, "%s%s%s", group, group[0] ? "/" : "", version);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("APIResourceList"));
    json_object_set_new(o, "apiVersion", json_string("v1"));
    json_object_set_new(o, "groupVersion", json_string(gv));
    json_t *rs = json_array();
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        if (strcmp(k->group, group) || strcmp(k->version, version))
            continue;
        json_t *r = json_object();
        json_object_set_new(r, "name", json_string(k->resource));
        json_object_set_new(r, "singularName", json_string(k->singular));
        json_object_set_new(r, "namespaced", json_boolean(k->namespaced));
        json_object_set_new(r, "kind", json_string(k->kind));
        json_object_set_new(r, "verbs", verbs(k->verbs));
        if (k->short_names[0])
            json_object_set_new(r, "shortNames", strings(k->short_names));
        if (k->categories[0])
            json_object_set_new(r, "categories", strings(k->categories));
        json_array_append_new(rs, r);
        for (unsigned b = 1; b < (1u << API_SUB_COUNT); b <<= 1) {
            if (!(k->subresources & b))
                continue;
            char name[128];
            snprintf(name, sizeof name, "%s/%s", k->resource, api_subresource_name(b));
            json_t *s = json_object();
            json_object_set_new(s, "name", json_string(name));
            json_object_set_new(s, "singularName", json_string(""));
            json_object_set_new(s, "namespaced", json_boolean(k->namespaced));
            /* pods/binding takes a Binding; the others answer with the kind. */
            json_object_set_new(s, "kind", json_string(b == API_SUB_BINDING ? "Binding" : k->kind));
            json_object_set_new(s, "verbs", verbs(api_subresource_verbs(b)));
            json_array_append_new(rs, s);
        }
    }
    json_object_set_new(o, "resources", rs);
    return o;
}

static json_t *response_kind(const char *group, const char *version, const char *kind)
{
    json_t *o = json_object();
    json_object_set_new(o, "group", json_string(group));
    json_object_set_new(o, "version", json_string(version));
    json_object_set_new(o, "kind", json_string(kind));
    return o;
}

/* One APIGroupDiscovery item of the aggregated document. */
static json_t *aggregated_group(const struct api_group *g)
{
    json_t *item = json_object();
    json_t *md = json_object();
    if (g->name[0])
        json_object_set_new(md, "name", json_string(g->name));
    json_object_set_new(md, "creationTimestamp", json_null());
    json_object_set_new(item, "metadata", md);
    json_t *vs = json_array();
    for (size_t v = 0; v < g->n_versions; v++) {
        json_t *ver = json_object();
        json_object_set_new(ver, "version", json_string(g->versions[v]));
        json_t *rs = json_array();
        for (size_t i = 0; i < api_registry_len(); i++) {
            const struct api_kind *k = api_registry_kind(i);
            if (strcmp(k->group, g->name) || strcmp(k->version, g->versions[v]))
                continue;
            json_t *r = json_object();
            json_object_set_new(r, "resource", json_string(k->resource));
            json_object_set_new(r, "responseKind", response_kind(k->group, k->version, k->kind));
            json_object_set_new(r, "scope", json_string(k->namespaced ? "Namespaced" : "Cluster"));
            json_object_set_new(r, "singularResource", json_string(k->singular));
            json_object_set_new(r, "verbs", verbs(k->verbs));
            if (k->short_names[0])
                json_object_set_new(r, "shortNames", strings(k->short_names));
            if (k->categories[0])
                json_object_set_new(r, "categories", strings(k->categories));
            if (k->subresources) {
                json_t *subs = json_array();
                for (unsigned b = 1; b < (1u << API_SUB_COUNT); b <<= 1) {
                    if (!(k->subresources & b))
                        continue;
                    json_t *s = json_object();
                    json_object_set_new(s, "subresource", json_string(api_subresource_name(b)));
                    json_object_set_new(s, "responseKind",
                                        b == API_SUB_BINDING
                                            ? response_kind("", "v1", "Binding")
                                            : response_kind(k->group, k->version, k->kind));
                    json_object_set_new(s, "verbs", verbs(api_subresource_verbs(b)));
                    json_array_append_new(subs, s);
                }
                json_object_set_new(r, "subresources", subs);
            }
            json_array_append_new(rs, r);
        }
        json_object_set_new(ver, "resources", rs);
        json_object_set_new(ver, "freshness", json_string("Current"));
        json_array_append_new(vs, ver);
    }
    json_object_set_new(item, "versions", vs);
    return item;
}

static json_t *aggregated(bool core)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string("APIGroupDiscoveryList"));
    json_object_set_new(o, "apiVersion", json_string("apidiscovery.k8s.io/v2"));
    json_object_set_new(o, "metadata", json_object());
    json_t *items = json_array();
    for (size_t i = 0; i < api_registry_groups_len(); i++) {
        const struct api_group *g = api_registry_group(i);
        if (core == !g->name[0])
            json_array_append_new(items, aggregated_group(g));
    }
    json_object_set_new(o, "items", items);
    return o;
}

/* Whether the Accept header asks for aggregated discovery v2 (kubectl lists v2
 * first, then v2beta1, then plain JSON; we serve v2 only). */
static bool wants_aggregated(const char *accept)
{
    if (!accept)
        return false;
    const char *p = strstr(accept, "as=APIGroupDiscoveryList");
    if (!p)
        return false;
    /* The media range holding it must say v=v2 (not v2beta1 only). */
    for (const char *q = accept; (q = strstr(q, "v=v2")); q += 4)
        if (q[4] == ';' || q[4] == ',' || q[4] == 0)
            return true;
    return false;
}

static json_t *version_doc(void)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor",
                     "32", "emulationMajor", "1", "emulationMinor", "32", "minCompatibilityMajor",
                     "1", "minCompatibilityMinor", "31", "gitVersion", "v1.32.0-muster",
                     "gitCommit", "0000000000000000000000000000000000000000", "gitTreeState",
                     "clean", "buildDate", "2025-01-01T00:00:00Z", "goVersion", "none (C17)",
                     "compiler", "gcc", "platform", "linux/amd64");
}

/* ---- OpenAPI v3 ---------------------------------------------------------- */

/* The documents never change while the process runs, so each is built and
 * serialised once, on first request, and kept until exit (a few hundred KiB for
 * every group-version). */
#define OPENAPI_CACHE_MAX 32

static struct {
    pthread_mutex_t mu;
    size_t n;
    struct {
        char *path; /* "" for the root */
        char *json;
    } docs[OPENAPI_CACHE_MAX];
} openapi_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Serves the root ("") or one group-version ("api/v1", "apis/g/v"); false when
 * no such document exists. */
static bool serve_openapi(const char *gv, struct api_resp *r)
{
    bool ok = false;
    pthread_mutex_lock(&openapi_cache.mu);
    const char *json = NULL;
    for (size_t i = 0; i < openapi_cache.n && !json; i++)
        if (!strcmp(openapi_cache.docs[i].path, gv))
            json = openapi_cache.docs[i].json;
    if (!json) {
        json_t *doc = gv[0] ? openapi_doc(gv) : openapi_root();
        char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (s && openapi_cache.n < OPENAPI_CACHE_MAX) {
            openapi_cache.docs[openapi_cache.n].path = xstrdup(gv);
            openapi_cache.docs[openapi_cache.n++].json = s;
            json = s;
        } else if (s) {
            /* More group-versions than slots: serve uncached. */
            ok = strbuf_addstr(&r->body, s) == 0;
            free(s);
            goto out;
        }
    }
    if (json)
        ok = strbuf_addstr(&r->body, json) == 0;
out:
    pthread_mutex_unlock(&openapi_cache.mu);
    if (ok) {
        r->code = 200;
        r->content_type = "application/json";
    }
    return ok;
}

bool api__discovery(struct api_ctx *ctx, const struct api_req *req, struct api_resp *r)
{
    const char *p = req->path;
    if (!strcmp(p, "/openapi/v3") || !strcmp(p, "/openapi/v3/"))
        return serve_openapi("", r);
    if (!strncmp(p, "/openapi/v3/", 12))
        return serve_openapi(p + 12, r);
    if (!strcmp(p, "/healthz") || !strcmp(p, "/readyz") || !strcmp(p, "/livez")) {
        r->code = 200;
        r->content_type = "text/plain; charset=utf-8";
        strbuf_addstr(&r->body, "ok");
        return true;
    }
    if (!strcmp(p, "/version")) {
        api__json(r, 200, version_doc());
        return true;
    }
    if (!strcmp(p, "/api") || !strcmp(p, "/api/")) {
        if (wants_aggregated(req->accept)) {
            api__json(r, 200, aggregated(true));
            r->content_type = AGGREGATED_CT;
            return true;
        }
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("APIVersions"));
        json_object_set_new(o, "versions", json_pack("[s]", "v1"));
        json_object_set_new(o, "serverAddressByClientCIDRs",
                            json_pack("[{s:s,s:s}]", "clientCIDR", "0.0.0.0/0", "serverAddress",
                                      ctx->server_address));
        api__json(r, 200, o);
        return true;
    }
    if (!strcmp(p, "/api/v1")) {
        api__json(r, 200, resource_list("", "v1"));
        return true;
    }
    if (!strcmp(p, "/apis") || !strcmp(p, "/apis/")) {
        if (wants_aggregated(req->accept)) {
            api__json(r, 200, aggregated(false));
            r->content_type = AGGREGATED_CT;
            return true;
        }
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string("APIGroupList"));
        json_object_set_new(o, "apiVersion", json_string("v1"));
        json_t *gs = json_array();
        for (size_t i = 0; i < api_registry_groups_len(); i++)
            if (api_registry_group(i)->name[0])
                json_array_append_new(gs, api_group_doc(api_registry_group(i)));
        json_object_set_new(o, "groups", gs);
        api__json(r, 200, o);
        return true;
    }
    if (!strncmp(p, "/apis/", 6)) {
        /* /apis/G or /apis/G/V */
        const char *g = p + 6;
        const char *slash = strchr(g, '/');
        char group[128];
        size_t glen = slash ? (size_t)(slash - g) : strlen(g);
        if (glen == 0 || glen >= sizeof group)
            return false;
        memcpy(group, g, glen);
        group[glen] = 0;
        const struct api_group *ag = api_registry_find_group(group);
        if (!ag || !group[0])
            return false;
        if (!slash) {
            json_t *o = api_group_doc(ag);
            json_object_set_new(o, "kind", json_string("APIGroup"));
            json_object_set_new(o, "apiVersion", json_string("v1"));
            api__json(r, 200, o);
            return true;
        }
        const char *v = slash + 1;
        if (strchr(v, '/'))
            return false;
        for (size_t i = 0; i < ag->n_versions; i++)
            if (!strcmp(ag->versions[i], v)) {
                api__json(r, 200, resource_list(group, v));
                return true;
            }
    }
    return false;
}
