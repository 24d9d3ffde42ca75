/*
 * api/handler: api_handle(), the router from a request path to discovery or to
 * the objects of one kind.
 *
 *   /api/v1/<resource>[/<name>[/<sub>]]                          cluster-scoped, or
 *                                                                all namespaces (list)
 *   /api/v1/namespaces/<ns>/<resource>[/<name>[/<sub>]]          namespaced
 *   /apis/<group>/<version>/... the same below the group-version
 *
 * A namespace itself is /api/v1/namespaces/<name>[/status].
 */
#include <string.h>

#include "api/api_int.h"

const char *api_req_query(const struct api_req *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (!strcmp(req->query[i].key, key))
            return req->query[i].value ? req->query[i].value : "";
    return NULL;
}

#define MAX_SEGS 8

/* Splits path (after prefix) on '/'; returns the count, or -1 for too many or an
 * empty segment. */
static int split(char *p, char **segs)
{
    int n = 0;
    if (!*p)
        return 0;
    for (;;) {
        if (n == MAX_SEGS)
            return -1;
        segs[n++] = p;
        char *s = strchr(p, '/');
        if (!s)
            break;
        *s = 0;
        p = s + 1;
        if (!*p)
            break; /* a trailing slash */
    }
    for (int i = 0; i < n; i++)
        if (!*segs[i])
            return -1;
    return n;
}

static bool copy_name(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Parses a resource path below a group-version; false when nothing serves it. */
static bool route(const char *group, const char *version, char **segs, int n, struct api_target *t)
{
    memset(t, 0, sizeof *t);
    if (n < 1)
        return false;
    const char *res, *name = NULL, *sub = NULL;
    if (!strcmp(segs[0], "namespaces") && n >= 3 &&
        !(n == 3 && !group[0] && (!strcmp(segs[2], "status") || !strcmp(segs[2], "finalize")))) {
        if (!copy_name(t->ns, sizeof t->ns, segs[1]))
            return false;
        res = segs[2];
        name = n > 3 ? segs[3] : NULL;
        sub = n > 4 ? segs[4] : NULL;
        if (n > 5)
            return false;
        t->kind = api_registry_find(group, version, res);
        if (!t->kind || !t->kind->namespaced)
            return false;
    } else {
        res = segs[0];
        name = n > 1 ? segs[1] : NULL;
        sub = n > 2 ? segs[2] : NULL;
        if (n > 3)
            return false;
        t->kind = api_registry_find(group, version, res);
        if (!t->kind)
            return false;
        /* Namespaced kinds are reached without a namespace only to list and
         * watch across namespaces. */
        if (t->kind->namespaced && name)
            return false;
    }
    if (name && !copy_name(t->name, sizeof t->name, name))
        return false;
    if (sub && !api_kind_subresource(t->kind, sub, &t->sub))
        return false;
    return true;
}

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    if (req->body_too_big) {
        errf(&e, API_ETOOLARGE, "the request body is larger than %zu bytes", (size_t)API_BODY_MAX);
        return api__fail(r, &e, NULL);
    }
    if (api__discovery(ctx, req, r))
        return;

    char path[2048];
    if (!copy_name(path, sizeof path, req->path))
        goto notfound;
    char *segs[MAX_SEGS];
    struct api_target t;
    int n;
    if (!strncmp(path, "/api/v1/", 8)) {
        n = split(path + 8, segs);
        if (n > 0 && route("", "v1", segs, n, &t))
            return api__objects(ctx, req, &t, r);
    } else if (!strncmp(path, "/apis/", 6)) {
        n = split(path + 6, segs);
        if (n > 2 && route(segs[0], segs[1], segs + 2, n - 2, &t))
            return api__objects(ctx, req, &t, r);
    }
notfound:
    errf(&e, API_ENOPATH, "no such path");
    api__fail(r, &e, NULL);
}
