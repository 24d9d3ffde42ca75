/* Tests for api_handle on a memory store, without HTTP: create/get/list/update/
 * delete, the Status of each failure, selectors, finalizers, binding, the
 * namespace lifecycle, deletecollection, field managers, Kueue versions. The
 * store starts with the four namespaces a server creates (revisions 1 to 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <stdlib.h>

#include "api/api.h"

struct fixture {
    struct api_ctx ctx;
    struct api_resp r;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->ctx.store = store_open_mem(NULL);
    struct err e;
    if (api_namespaces_init(f->ctx.store, &e) < 0)
        fail_msg("%s", e.msg);
    api_resp_init(&f->r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    api_resp_release(&f->r);
    store_close(f->ctx.store);
    free(f);
    return 0;
}

/* The Content-Type, Accept and User-Agent of the next call() only, then NULL
 * again. */
static const char *next_ct, *next_accept, *next_ua;

/* Runs one request; query is "k=v&k=v" (no escaping) or NULL. */
static int call(struct fixture *f, const char *method, const char *path, const char *query,
                const char *body)
{
    struct api_req req = {.method = method,
                          .path = path,
                          .content_type = next_ct,
                          .accept = next_accept,
                          .user_agent = next_ua,
                          .body = body,
                          .body_len = body ? strlen(body) : 0};
    next_ct = next_accept = next_ua = NULL;
    char q[512] = "";
    if (query) {
        strcpy(q, query);
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            *eq = 0;
            req.query[req.n_query].key = kv;
            req.query[req.n_query++].value = eq + 1;
        }
    }
    api_resp_release(&f->r);
    api_resp_init(&f->r);
    api_handle(&f->ctx, &req, &f->r);
    return f->r.code;
}

#define MERGE "application/merge-patch+json"
#define TB_ACCEPT                                                                                  \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"                                    \
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"                                                       \
    "application/json"

#define POD(name, extra)                                                                           \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                       \
    "\",\"labels\":{\"app\":\"" name "\"}" extra "},\"spec\":{\"schedulerName\":\"muster\"}}"

static void test_crud(void **state)
{
    struct fixture *f = *state;
    const char *pods = "/api/v1/namespaces/default/pods";
    assert_int_equal(call(f, "POST", pods, NULL, POD("a", "")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"resourceVersion\":\"5\""));
    assert_non_null(strstr(f->r.body.buf, "\"namespace\":\"default\""));
    /* a random (version 4) UUID: 8-4-4-4-12 lowercase hex digits */
    const char *u = strstr(f->r.body.buf, "\"uid\":\"");
    assert_non_null(u);
    u += 7;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u[i]) && u[i] ? "" : NULL);
    }
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
    assert_int_equal(u[36], '"');
    assert_int_equal(call(f, "POST", pods, NULL, POD("a", "")), 409);
    assert_non_null(strstr(f->r.body.buf, "\"reason\":\"AlreadyExists\""));
    assert_int_equal(call(f, "POST", pods, NULL, POD("b", "")), 201);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/a", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/zz", NULL, NULL), 404);
    assert_non_null(strstr(f->r.body.buf, "pods \\\"zz\\\" not found"));
    /* list, with selectors */
    assert_int_equal(call(f, "GET", "/api/v1/pods", "labelSelector=app in (b,c)", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"PodList\""));
    assert_null(strstr(f->r.body.buf, "\"name\":\"a\""));
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"b\""));
    assert_int_equal(call(f, "GET", pods, "fieldSelector=metadata.name=a,spec.nodeName=", NULL),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"a\""));
    assert_null(strstr(f->r.body.buf, "\"name\":\"b\""));
    assert_int_equal(call(f, "GET", pods, "fieldSelector=spec.bogus=1", NULL), 400);
    /* paging */
    assert_int_equal(call(f, "GET", pods, "limit=1", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"continue\":"));
    /* update: stale revision conflicts; current one bumps generation on spec change */
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/default/pods/a", NULL,
                          POD("a", ",\"resourceVersion\":\"6\"")),
                     409);
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/default/pods/a", NULL,
                          "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"},"
                          "\"spec\":{\"schedulerName\":\"other\"}}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"generation\":2"));
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/default/pods/a", NULL, POD("b", "")), 400);
    /* delete */
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/a", NULL, NULL), 200);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/a", NULL, NULL), 404);
}

static void test_finalizers_hold_delete(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL,
                          "{\"metadata\":{\"name\":\"n\",\"finalizers\":[\"x/y\"]}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes/n", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "deletionTimestamp"));
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Node\""));
    assert_int_equal(call(f, "GET", "/api/v1/nodes/n", NULL, NULL), 200);
    /* Removing the last finalizer deletes it. */
    assert_int_equal(call(f, "PUT", "/api/v1/nodes/n", NULL,
                          "{\"metadata\":{\"name\":\"n\",\"finalizers\":[]}}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/nodes/n", NULL, NULL), 404);
}

/* Runs one pass of the namespace finalizer; returns how many namespaces wait. */
static int finalize(struct fixture *f)
{
    struct err e;
    int left = api_namespaces_finalize(&f->ctx, &e);
    if (left < 0)
        fail_msg("%s", e.msg);
    return left;
}

static void test_namespace_lifecycle(void **state)
{
    struct fixture *f = *state;
    /* The server's namespaces, as Kubernetes makes them; creating them again
     * changes nothing. */
    const char *const names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (size_t i = 0; i < 4; i++) {
        char path[64];
        snprintf(path, sizeof path, "/api/v1/namespaces/%s", names[i]);
        assert_int_equal(call(f, "GET", path, NULL, NULL), 200);
        assert_non_null(strstr(f->r.body.buf, "\"finalizers\":[\"kubernetes\"]"));
        assert_non_null(strstr(f->r.body.buf, "\"phase\":\"Active\""));
        assert_non_null(strstr(f->r.body.buf, "\"kubernetes.io/metadata.name\""));
    }
    struct err e;
    assert_int_equal(api_namespaces_init(f->ctx.store, &e), 0);
    assert_int_equal(store_rev(f->ctx.store), 4);

    /* NamespaceLifecycle: no namespace, no content. */
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/nope/pods", NULL, POD("p", "")), 404);
    assert_non_null(strstr(f->r.body.buf, "namespaces \\\"nope\\\" not found"));
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"namespaces\""));
    next_ct = "application/apply-patch+yaml";
    assert_int_equal(
        call(f, "PATCH", "/api/v1/namespaces/nope/pods/p", "fieldManager=m", POD("p", "")), 404);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default", NULL, NULL), 403);
    assert_non_null(strstr(f->r.body.buf, "namespaces \\\"default\\\" is forbidden: this "
                                          "namespace may not be deleted"));

    /* A namespace with content; one pod held by a finalizer of its own. */
    assert_int_equal(call(f, "POST", "/api/v1/namespaces", NULL,
                          "{\"metadata\":{\"name\":\"team\"},\"spec\":{\"finalizers\":[]}}"),
                     201);
    assert_non_null(strstr(f->r.body.buf, "\"finalizers\":[\"kubernetes\"]"));
#define TEAM_PODS "/api/v1/namespaces/team/pods"
    const char *pods = TEAM_PODS;
    assert_int_equal(call(f, "POST", pods, NULL, POD("a", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL, POD("b", ",\"finalizers\":[\"x/y\"]")), 201);
    assert_int_equal(call(f, "POST", "/apis/kueue.x-k8s.io/v1beta2/namespaces/team/localqueues",
                          NULL,
                          "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"clusterQueue\":\"c\"}}"),
                     201);
    /* spec.finalizers changes through finalize only */
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/team", NULL,
                          "{\"metadata\":{\"name\":\"team\"},\"spec\":{\"finalizers\":[]}}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"finalizers\":[\"kubernetes\"]"));

    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/team", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Namespace\""));
    assert_non_null(strstr(f->r.body.buf, "deletionTimestamp"));
    assert_non_null(strstr(f->r.body.buf, "\"phase\":\"Terminating\""));
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/team", NULL, NULL), 409);
    assert_non_null(strstr(f->r.body.buf, "The system is ensuring all content is removed"));
    /* no new content while it terminates */
    assert_int_equal(call(f, "POST", pods, NULL, POD("c", "")), 403);
    assert_non_null(strstr(f->r.body.buf, "pods \\\"c\\\" is forbidden: unable to create new "
                                          "content in namespace team because it is being "
                                          "terminated"));
    assert_non_null(strstr(f->r.body.buf, "\"reason\":\"Forbidden\""));
    /* the finalizer empties it; b's finalizer holds it */
    assert_int_equal(finalize(f), 1);
    assert_int_equal(call(f, "GET", TEAM_PODS "/a", NULL, NULL), 404);
    assert_int_equal(
        call(f, "GET", "/apis/kueue.x-k8s.io/v1beta2/namespaces/team/localqueues/q", NULL, NULL),
        404);
    assert_int_equal(call(f, "GET", TEAM_PODS "/b", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "deletionTimestamp"));
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/team", NULL, NULL), 200);
    assert_int_equal(
        call(f, "GET", "/api/v1/namespaces", "fieldSelector=status.phase=Terminating", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"team\""));
    assert_null(strstr(f->r.body.buf, "\"name\":\"default\""));
    /* b's owner lets go: the next pass removes the namespace */
    assert_int_equal(call(f, "PUT", TEAM_PODS "/b", NULL, POD("b", ",\"finalizers\":[]")), 200);
    assert_int_equal(call(f, "GET", TEAM_PODS "/b", NULL, NULL), 404);
    assert_int_equal(finalize(f), 0);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/team", NULL, NULL), 404);
    assert_int_equal(finalize(f), 0);

    /* finalize: a namespace whose finalizers are cleared by hand goes at once */
    assert_int_equal(
        call(f, "POST", "/api/v1/namespaces", NULL, "{\"metadata\":{\"name\":\"t2\"}}"), 201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/t2", NULL, NULL), 200);
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/t2/finalize", NULL,
                          "{\"metadata\":{\"name\":\"t2\"},\"spec\":{\"finalizers\":[]}}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/t2", NULL, NULL), 404);
    assert_int_equal(call(f, "PATCH", "/api/v1/namespaces/default/finalize", NULL, "{}"), 405);
}

static void test_delete_answers(void **state)
{
    struct fixture *f = *state;
    /* pods, namespaces and custom resources: the deleted object */
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL, POD("p", "")), 201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/p", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Pod\""));
    assert_int_equal(call(f, "POST", "/apis/kueue.x-k8s.io/v1beta2/resourceflavors", NULL,
                          "{\"metadata\":{\"name\":\"rf\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/apis/kueue.x-k8s.io/v1beta2/resourceflavors/rf", NULL,
                          "{\"propagationPolicy\":\"Background\"}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"ResourceFlavor\""));
    /* other built-in kinds: a Status naming what was deleted */
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"n\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes/n", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Status\""));
    assert_non_null(strstr(f->r.body.buf, "\"status\":\"Success\""));
    assert_non_null(
        strstr(f->r.body.buf, "\"details\":{\"name\":\"n\",\"kind\":\"nodes\",\"uid\":"));
    assert_int_equal(call(f, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL,
                          "{\"metadata\":{\"name\":\"j\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/apis/batch/v1/namespaces/default/jobs/j", NULL, NULL),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"group\":\"batch\""));
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"jobs\""));
    /* dryRun deletes nothing; a uid precondition that fails is a Conflict */
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"m\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes/m", "dryRun=All", NULL), 200);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes/m", NULL, "{\"dryRun\":[\"All\"]}"), 200);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes/m", NULL,
                          "{\"preconditions\":{\"uid\":\"00000000-0000-0000-0000-000000000000\"}}"),
                     409);
    assert_int_equal(call(f, "GET", "/api/v1/nodes/m", NULL, NULL), 200);
}

static void test_deletecollection(void **state)
{
    struct fixture *f = *state;
#define DEF_PODS "/api/v1/namespaces/default/pods"
    const char *pods = DEF_PODS;
    assert_int_equal(call(f, "POST", pods, NULL, POD("a", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL, POD("b", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL, POD("c", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL, POD("d", ",\"finalizers\":[\"x/y\"]")), 201);
    assert_int_equal(call(f, "DELETE", pods, "labelSelector=app in (a,b,d)", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"PodList\""));
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"a\""));
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"b\""));
    assert_null(strstr(f->r.body.buf, "\"name\":\"c\""));
    assert_int_equal(call(f, "GET", pods, NULL, NULL), 200);
    assert_null(strstr(f->r.body.buf, "\"name\":\"a\""));
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"c\""));
    /* d is held by its finalizer, and marked */
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"d\""));
    assert_non_null(strstr(f->r.body.buf, "deletionTimestamp"));
    assert_int_equal(call(f, "DELETE", pods, "fieldSelector=metadata.name=c", NULL), 200);
    assert_int_equal(call(f, "GET", DEF_PODS "/c", NULL, NULL), 404);
    assert_int_equal(call(f, "DELETE", pods, "fieldSelector=spec.bogus=1", NULL), 400);
    /* dryRun deletes nothing */
    assert_int_equal(call(f, "POST", pods, NULL, POD("e", "")), 201);
    assert_int_equal(call(f, "DELETE", pods, "dryRun=All", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"e\""));
    assert_int_equal(call(f, "GET", DEF_PODS "/e", NULL, NULL), 200);
    /* per namespace only; namespaces have none */
    assert_int_equal(call(f, "DELETE", "/api/v1/pods", NULL, NULL), 405);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces", NULL, NULL), 405);
    /* cluster-scoped kinds */
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL, "{\"metadata\":{\"name\":\"n\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/api/v1/nodes", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"NodeList\""));
    assert_int_equal(call(f, "GET", "/api/v1/nodes/n", NULL, NULL), 404);
}

static void test_field_manager_from_user_agent(void **state)
{
    struct fixture *f = *state;
    const char *nodes = "/api/v1/nodes";
#define NODE(n) "{\"metadata\":{\"name\":\"" n "\",\"labels\":{\"a\":\"b\"}}}"
    next_ua = "kubectl/v1.32.4 (linux/amd64) kubernetes/abcdef";
    assert_int_equal(call(f, "POST", nodes, NULL, NODE("a")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"kubectl\""));
    next_ua = "kubectl/v1.32.4";
    assert_int_equal(call(f, "POST", nodes, "fieldManager=mine", NODE("b")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"mine\""));
    next_ua = "Python\001-Client/22.6";
    assert_int_equal(call(f, "POST", nodes, NULL, NODE("c")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"Python-Client\""));
    assert_int_equal(call(f, "POST", nodes, NULL, NODE("d")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"unknown\""));
    /* at most 128 bytes */
    char ua[300];
    memset(ua, 'x', 299);
    ua[299] = 0;
    next_ua = ua;
    assert_int_equal(call(f, "POST", nodes, NULL, NODE("e")), 201);
    char want[160] = "\"manager\":\"";
    memset(want + 11, 'x', 128);
    strcpy(want + 139, "\"");
    assert_non_null(strstr(f->r.body.buf, want));
    /* an update by another client adds its own entry */
    next_ua = "curl/8.5.0";
    assert_int_equal(call(f, "PUT", "/api/v1/nodes/a", NULL,
                          "{\"metadata\":{\"name\":\"a\",\"labels\":{\"a\":\"b\",\"x\":\"y\"}}}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"curl\""));
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"kubectl\""));
}

#define B1_CQ "/apis/kueue.x-k8s.io/v1beta1/clusterqueues"
#define B2_CQ "/apis/kueue.x-k8s.io/v1beta2/clusterqueues"

static void test_kueue_versions(void **state)
{
    struct fixture *f = *state;
    /* written at v1beta1, answered at v1beta1, stored as v1beta2 */
    assert_int_equal(call(f, "POST", B1_CQ, "fieldValidation=Strict",
                          "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"cohort\":\"research\","
                          "\"admissionChecks\":[\"prov\"],\"flavorFungibility\":{"
                          "\"whenCanBorrow\":\"Borrow\"}}}"),
                     201);
    assert_non_null(strstr(f->r.body.buf, "\"apiVersion\":\"kueue.x-k8s.io/v1beta1\""));
    assert_non_null(strstr(f->r.body.buf, "\"cohort\":\"research\""));
    assert_null(strstr(f->r.body.buf, "cohortName"));
    struct store_kv *kv = NULL;
    struct err e;
    assert_int_equal(store_get(f->ctx.store, "/registry/kueue.x-k8s.io/clusterqueues/q", &kv, &e),
                     0);
    assert_non_null(strstr(kv->value, "\"apiVersion\":\"kueue.x-k8s.io/v1beta2\""));
    assert_non_null(strstr(kv->value, "\"cohortName\":\"research\""));
    assert_non_null(strstr(kv->value, "\"admissionChecksStrategy\":{\"admissionChecks\":[{"
                                      "\"name\":\"prov\"}]}"));
    assert_non_null(strstr(kv->value, "\"whenCanBorrow\":\"MayStopSearch\""));
    store_kv_unref(kv);
    /* read at both versions */
    assert_int_equal(call(f, "GET", B2_CQ "/q", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"cohortName\":\"research\""));
    assert_int_equal(call(f, "GET", B1_CQ "/q", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"cohort\":\"research\""));
    assert_non_null(strstr(f->r.body.buf, "\"apiVersion\":\"kueue.x-k8s.io/v1beta1\""));
    assert_int_equal(call(f, "GET", B1_CQ, NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"ClusterQueueList\""));
    assert_non_null(strstr(f->r.body.buf, "\"cohort\":\"research\""));
    assert_null(strstr(f->r.body.buf, "cohortName"));
    next_accept = TB_ACCEPT;
    assert_int_equal(call(f, "GET", B1_CQ, "includeObject=Object", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"research\""));
    assert_non_null(strstr(f->r.body.buf, "\"apiVersion\":\"kueue.x-k8s.io/v1beta1\""));
    /* patched at v1beta1 in v1beta1's names */
    next_ct = MERGE;
    assert_int_equal(call(f, "PATCH", B1_CQ "/q", NULL, "{\"spec\":{\"cohort\":\"other\"}}"), 200);
    assert_non_null(strstr(f->r.body.buf, "\"cohort\":\"other\""));
    assert_int_equal(call(f, "GET", B2_CQ "/q", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"cohortName\":\"other\""));
    assert_non_null(strstr(f->r.body.buf, "\"generation\":2"));
    /* v1beta2's names are unknown at v1beta1 */
    next_ct = MERGE;
    assert_int_equal(
        call(f, "PATCH", B1_CQ "/q", "fieldValidation=Strict", "{\"spec\":{\"cohortName\":\"x\"}}"),
        422);
    assert_non_null(strstr(f->r.body.buf, "unknown field \\\"spec.cohortName\\\""));
    /* a watch at v1beta1 sees v1beta1 */
    assert_int_equal(call(f, "GET", B1_CQ, "watch=true&timeoutSeconds=1", NULL), 200);
    struct strbuf ev;
    strbuf_init(&ev, 1 << 20);
    assert_int_equal(f->r.stream->next(f->r.stream, &ev), 1);
    assert_non_null(strstr(ev.buf, "\"type\":\"ADDED\""));
    assert_non_null(strstr(ev.buf, "\"cohort\":\"other\""));
    assert_null(strstr(ev.buf, "cohortName"));
    strbuf_release(&ev);
    /* a Workload's priority class both ways */
    assert_int_equal(
        call(f, "POST", "/apis/kueue.x-k8s.io/v1beta1/namespaces/default/workloads", NULL,
             "{\"metadata\":{\"name\":\"w\"},\"spec\":{\"priorityClassName\":\"high\","
             "\"priorityClassSource\":\"kueue.x-k8s.io/workloadpriorityclass\",\"priority\":5,"
             "\"podSets\":[{\"name\":\"main\",\"count\":1,\"template\":{\"spec\":{\"containers\":"
             "[{\"name\":\"c\"}]}}}]}}"),
        201);
    assert_non_null(strstr(f->r.body.buf, "\"priorityClassSource\""));
    assert_int_equal(
        call(f, "GET", "/apis/kueue.x-k8s.io/v1beta2/namespaces/default/workloads/w", NULL, NULL),
        200);
    assert_non_null(strstr(f->r.body.buf, "\"priorityClassRef\":{\"group\":\"kueue.x-k8s.io\","
                                          "\"kind\":\"WorkloadPriorityClass\",\"name\":\"high\"}"));
}

#define BOUND_POD(name, node, extra)                                                               \
    "{\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"nodeName\":\"" node "\"" extra "}}"

/* Pod deletion is graceful as in Kubernetes: a pod bound to an existing node
 * and not terminal is marked (deletionTimestamp, deletionGracePeriodSeconds)
 * and stays, through status writes, until a delete with gracePeriodSeconds=0;
 * an unbound or terminal pod, or one on a node that does not exist, goes at once. */
static void test_pod_graceful_delete(void **state)
{
    struct fixture *f = *state;
    const char *pods = "/api/v1/namespaces/default/pods";
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL,
                          "{\"metadata\":{\"name\":\"n1\"},\"status\":{\"conditions\":"
                          "[{\"type\":\"Ready\",\"status\":\"True\"}]}}"),
                     201);
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL,
                          "{\"metadata\":{\"name\":\"down\"},\"status\":{\"conditions\":"
                          "[{\"type\":\"Ready\",\"status\":\"False\"}]}}"),
                     201);
    assert_int_equal(call(f, "POST", pods, NULL, BOUND_POD("a", "n1", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL,
                          BOUND_POD("b", "n1",
                                    ",\"terminationGracePeriodSeconds\":5,"
                                    "\"containers\":[{\"name\":\"main\"}]")),
                     201);
    assert_int_equal(call(f, "POST", pods, NULL, BOUND_POD("c", "gone", "")), 201);
    assert_int_equal(call(f, "POST", pods, NULL, POD("d", "")), 201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/a", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"deletionGracePeriodSeconds\":30"));
    assert_non_null(strstr(f->r.body.buf, "\"deletionTimestamp\":\""));
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/b", NULL,
                          "{\"propagationPolicy\":\"Background\"}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"deletionGracePeriodSeconds\":5"));
    /* A later delete may shorten the grace period, not lengthen it. */
    assert_int_equal(
        call(f, "DELETE", "/api/v1/namespaces/default/pods/b", NULL, "{\"gracePeriodSeconds\":60}"),
        200);
    assert_non_null(strstr(f->r.body.buf, "\"deletionGracePeriodSeconds\":5"));
    assert_int_equal(
        call(f, "DELETE", "/api/v1/namespaces/default/pods/b", "gracePeriodSeconds=2", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"deletionGracePeriodSeconds\":2"));
    /* The agent's status writes do not delete it while it runs. */
    next_ct = "application/merge-patch+json";
    assert_int_equal(call(f, "PATCH", "/api/v1/namespaces/default/pods/a/status", NULL,
                          "{\"status\":{\"phase\":\"Running\"}}"),
                     200);
    /* pods/log of a pod whose node has no agent endpoint: a clear error. */
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/b/log", NULL, NULL), 500);
    assert_non_null(strstr(f->r.body.buf, "has no InternalIP"));
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/b/log", "container=x", NULL),
                     400);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/a", NULL, NULL), 200);
    /* The agent's final delete, with a uid precondition. */
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/a", NULL,
                          "{\"gracePeriodSeconds\":0,\"preconditions\":{\"uid\":\"nope\"}}"),
                     409);
    assert_int_equal(
        call(f, "DELETE", "/api/v1/namespaces/default/pods/a", NULL, "{\"gracePeriodSeconds\":0}"),
        200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/a", NULL, NULL), 404);
    /* A graceful deletion ends when the pod is terminal, whoever says so. */
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/b", NULL, NULL), 200);
    next_ct = "application/merge-patch+json";
    assert_int_equal(call(f, "PATCH", "/api/v1/namespaces/default/pods/b/status", NULL,
                          "{\"status\":{\"phase\":\"Failed\"}}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/b", NULL, NULL), 404);
    /* On a node that is not Ready: at once. */
    assert_int_equal(call(f, "POST", pods, NULL, BOUND_POD("f", "down", "")), 201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/f", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/f", NULL, NULL), 404);
    /* Node absent, unbound: at once. */
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/c", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/c", NULL, NULL), 404);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/d", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/d", NULL, NULL), 404);
    /* Terminal: at once. */
    assert_int_equal(call(f, "POST", pods, NULL,
                          "{\"metadata\":{\"name\":\"e\"},\"spec\":{\"nodeName\":\"n1\"},"
                          "\"status\":{\"phase\":\"Succeeded\"}}"),
                     201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/default/pods/e", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/e", NULL, NULL), 404);
}

static void test_binding(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL, POD("p", "")), 201);
    const char *b = "{\"metadata\":{\"name\":\"p\",\"annotations\":{\"gpus\":\"0,1\"}},"
                    "\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}";
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods/q/binding", NULL, b), 400);
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/bindings", NULL, b), 201);
    assert_non_null(strstr(f->r.body.buf, "\"status\":\"Success\""));
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods/p/binding", NULL, b), 409);
    assert_non_null(strstr(f->r.body.buf, "already assigned to node"));
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"pods/binding\""));
    assert_non_null(strstr(f->r.body.buf, "\"reason\":\"Conflict\""));
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/default/pods/p", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"nodeName\":\"n1\""));
    assert_non_null(strstr(f->r.body.buf, "\"gpus\":\"0,1\""));
    assert_non_null(strstr(f->r.body.buf, "PodScheduled"));
}

static void test_validation_and_paths(void **state)
{
    struct fixture *f = *state;
    const char *cq = "/apis/kueue.x-k8s.io/v1beta2/clusterqueues";
    assert_int_equal(call(f, "POST", cq, "fieldValidation=Strict",
                          "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"nope\":true}}"),
                     422);
    assert_non_null(strstr(f->r.body.buf, "\"field\":\"spec.nope\""));
    assert_int_equal(call(f, "POST", cq, "fieldValidation=Ignore",
                          "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"nope\":true}}"),
                     201);
    assert_null(strstr(f->r.body.buf, "nope"));
    assert_int_equal(call(f, "POST", cq, NULL, "[1]"), 400);
    /* a refused name names the object it refuses, as Kubernetes does */
    assert_int_equal(call(f, "POST", "/api/v1/namespaces/default/pods", NULL,
                          "{\"metadata\":{\"name\":\"Bad_Name\"},\"spec\":{\"containers\":[]}}"),
                     422);
    assert_non_null(strstr(f->r.body.buf, "Pod \\\"Bad_Name\\\" is invalid: metadata.name"));
    assert_int_equal(call(f, "PATCH", "/apis/kueue.x-k8s.io/v1beta2/clusterqueues/q", NULL, "{}"),
                     415);
    assert_int_equal(
        call(f, "GET", "/apis/kueue.x-k8s.io/v1beta2/namespaces/x/clusterqueues", NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/api/v1/pods/x", NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/version", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"minor\":\"32\""));
    assert_int_equal(call(f, "GET", "/apis/kueue.x-k8s.io/v1beta1", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"workloads/status\""));
}

static int patch(struct fixture *f, const char *ct, const char *path, const char *query,
                 const char *body)
{
    next_ct = ct;
    return call(f, "PATCH", path, query, body);
}

#define JSONPATCH "application/json-patch+json"
#define SMP       "application/strategic-merge-patch+json"
#define APPLY     "application/apply-patch+yaml"

#define CQ_PATH "/apis/kueue.x-k8s.io/v1beta2/clusterqueues"
#define CQ(name, extra)                                                                            \
    "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ClusterQueue\",\"metadata\":{\"name\":" \
    "\"" name "\"},\"spec\":{\"resourceGroups\":[{\"coveredResources\":[\"cpu\"],\"flavors\":[{"   \
    "\"name\":\"f\",\"resources\":[{\"name\":\"cpu\",\"nominalQuota\":\"4\"}]}]}]" extra "}}"

static void test_patch_merge_and_json(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "POST", CQ_PATH, NULL, CQ("q", "")), 201);
    /* kubectl patch --type=merge and kubectl label */
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", "fieldManager=kubectl-patch",
                           "{\"spec\":{\"stopPolicy\":\"Hold\"},\"metadata\":{\"labels\":"
                           "{\"team\":\"a\"}}}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"Hold\""));
    assert_non_null(strstr(f->r.body.buf, "\"team\":\"a\""));
    assert_non_null(strstr(f->r.body.buf, "\"generation\":2"));
    assert_non_null(strstr(f->r.body.buf, "\"manager\":\"kubectl-patch\""));
    /* a label-only patch leaves the generation alone */
    assert_int_equal(
        patch(f, MERGE, CQ_PATH "/q", NULL, "{\"metadata\":{\"labels\":{\"b\":\"c\"}}}"), 200);
    assert_non_null(strstr(f->r.body.buf, "\"generation\":2"));
    /* JSON patch: replace, and a failed test changes nothing (422) */
    assert_int_equal(
        patch(f, JSONPATCH, CQ_PATH "/q", NULL,
              "[{\"op\":\"replace\",\"path\":\"/spec/stopPolicy\",\"value\":\"None\"}]"),
        200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"None\""));
    assert_int_equal(patch(f, JSONPATCH, CQ_PATH "/q", NULL,
                           "[{\"op\":\"test\",\"path\":\"/spec/stopPolicy\",\"value\":\"Hold\"},"
                           "{\"op\":\"remove\",\"path\":\"/spec\"}]"),
                     422);
    assert_int_equal(patch(f, JSONPATCH, CQ_PATH "/q", NULL, "{\"op\":\"add\"}"), 400);
    assert_int_equal(patch(f, JSONPATCH, CQ_PATH "/q", NULL, "[{\"op\":\"jump\",\"path\":\"\"}]"),
                     400);
    /* strategic merge patch is for built-in kinds only */
    assert_int_equal(patch(f, SMP, CQ_PATH "/q", NULL, "{\"spec\":{}}"), 415);
    assert_int_equal(patch(f, "text/plain", CQ_PATH "/q", NULL, "{}"), 415);
    /* the result is validated like a create: a bad value, an unknown field */
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", NULL, "{\"spec\":{\"stopPolicy\":\"Never\"}}"),
                     422);
    assert_int_equal(
        patch(f, MERGE, CQ_PATH "/q", "fieldValidation=Strict", "{\"spec\":{\"bogus\":1}}"), 422);
    assert_non_null(strstr(f->r.body.buf, "\"field\":\"spec.bogus\""));
    /* identity cannot change; a stale resourceVersion in the patch is a Conflict */
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", NULL, "{\"metadata\":{\"name\":\"other\"}}"),
                     400);
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", NULL,
                           "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"stopPolicy\":"
                           "\"Hold\"}}"),
                     409);
    assert_non_null(strstr(f->r.body.buf, "\"reason\":\"Conflict\""));
    assert_int_equal(call(f, "GET", CQ_PATH "/q", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"None\""));
    assert_non_null(strstr(f->r.body.buf, "\"resourceVersion\":\"8\""));
    /* dryRun stores nothing; an absent object is 404 */
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", "dryRun=All",
                           "{\"spec\":{\"stopPolicy\":"
                           "\"Hold\"}}"),
                     200);
    assert_int_equal(call(f, "GET", CQ_PATH "/q", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"None\""));
    assert_int_equal(patch(f, MERGE, CQ_PATH "/nope", NULL, "{}"), 404);
    assert_int_equal(patch(f, MERGE, CQ_PATH "/q", NULL, "[]"), 400);
}

static void test_patch_strategic_and_status(void **state)
{
    struct fixture *f = *state;
    /* kubectl cordon */
    assert_int_equal(call(f, "POST", "/api/v1/nodes", NULL,
                          "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"taints\":[{\"key\":\"k\","
                          "\"effect\":\"NoSchedule\"}]}}"),
                     201);
    assert_int_equal(patch(f, SMP, "/api/v1/nodes/n1", NULL, "{\"spec\":{\"unschedulable\":true}}"),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"unschedulable\":true"));
    assert_non_null(strstr(f->r.body.buf, "\"key\":\"k\""));
    /* containers merge by name */
    const char *pod = "/api/v1/namespaces/default/pods/p";
    assert_int_equal(
        call(f, "POST", "/api/v1/namespaces/default/pods", NULL,
             "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
             "\"image\":\"x\"},{\"name\":\"b\",\"image\":\"y\"}]}}"),
        201);
    assert_int_equal(
        patch(f, SMP, pod, NULL, "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"z\"}]}}"),
        200);
    assert_non_null(strstr(f->r.body.buf, "\"image\":\"x\""));
    assert_non_null(strstr(f->r.body.buf, "\"image\":\"z\""));
    /* the status subresource touches only status; the main resource keeps it */
    assert_int_equal(
        patch(f, SMP, "/api/v1/namespaces/default/pods/p/status", NULL,
              "{\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"conditions\":[{\"type\":"
              "\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\"}]}}"),
        200);
    assert_non_null(strstr(f->r.body.buf, "Unschedulable"));
    assert_null(strstr(f->r.body.buf, "nodeName"));
    assert_int_equal(patch(f, MERGE, pod, NULL, "{\"status\":{\"phase\":\"Running\"}}"), 200);
    assert_null(strstr(f->r.body.buf, "Running"));
    assert_non_null(strstr(f->r.body.buf, "Unschedulable"));
}

static void test_patch_apply(void **state)
{
    struct fixture *f = *state;
    /* absent: created (201); fieldManager is required */
    assert_int_equal(patch(f, APPLY, CQ_PATH "/q", NULL, CQ("q", "")), 400);
    assert_int_equal(patch(f, APPLY, CQ_PATH "/q", "fieldManager=kubectl&force=false", CQ("q", "")),
                     201);
    assert_non_null(strstr(f->r.body.buf, "\"operation\":\"Apply\""));
    assert_int_equal(
        patch(f, APPLY, CQ_PATH "/q", "fieldManager=kubectl", CQ("q", ",\"stopPolicy\":\"Hold\"")),
        200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"Hold\""));
    /* another manager changing an owned field conflicts, unless forced */
    assert_int_equal(
        patch(f, APPLY, CQ_PATH "/q", "fieldManager=other", CQ("q", ",\"stopPolicy\":\"None\"")),
        409);
    assert_non_null(strstr(f->r.body.buf, "\"type\":\"FieldManagerConflict\""));
    assert_non_null(strstr(f->r.body.buf, "Apply failed with"));
    assert_int_equal(patch(f, APPLY, CQ_PATH "/q", "fieldManager=other&force=true",
                           CQ("q", ",\"stopPolicy\":\"None\"")),
                     200);
    assert_non_null(strstr(f->r.body.buf, "\"stopPolicy\":\"None\""));
    /* a YAML body; the object is validated */
    assert_int_equal(patch(f, APPLY, CQ_PATH "/y", "fieldManager=curl",
                           "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\n"
                           "metadata: {name: y}\nspec: {stopPolicy: Hold}\n"),
                     201);
    assert_int_equal(patch(f, APPLY, CQ_PATH "/z", "fieldManager=curl",
                           "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ClusterQueue\","
                           "\"metadata\":{\"name\":\"z\"},\"spec\":{\"stopPolicy\":\"Never\"}}"),
                     422);
    assert_int_equal(call(f, "GET", CQ_PATH "/z", NULL, NULL), 404);
    assert_int_equal(patch(f, APPLY, CQ_PATH "/w", "fieldManager=curl", CQ("q", "")), 400);
}

static void test_table(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "POST", CQ_PATH, NULL, CQ("q", ",\"cohortName\":\"research\"")), 201);
    next_accept = TB_ACCEPT;
    assert_int_equal(call(f, "GET", CQ_PATH, NULL, NULL), 200);
    assert_string_equal(f->r.content_type, "application/json;as=Table;v=v1;g=meta.k8s.io");
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Table\""));
    assert_non_null(strstr(f->r.body.buf, "\"name\":\"Cohort\""));
    assert_non_null(strstr(f->r.body.buf, "\"research\""));
    assert_non_null(strstr(f->r.body.buf, "PartialObjectMetadata"));
    next_accept = TB_ACCEPT;
    assert_int_equal(call(f, "GET", CQ_PATH "/q", "includeObject=Object", NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"Table\""));
    assert_non_null(strstr(f->r.body.buf, "\"nominalQuota\""));
    next_accept = TB_ACCEPT;
    assert_int_equal(call(f, "GET", CQ_PATH, "includeObject=Everything", NULL), 400);
    next_accept = TB_ACCEPT;
    assert_int_equal(call(f, "GET", CQ_PATH "/nope", NULL, NULL), 404);
    /* plain JSON without the Accept */
    assert_int_equal(call(f, "GET", CQ_PATH, NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"kind\":\"ClusterQueueList\""));
}

static void test_openapi(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(call(f, "GET", "/openapi/v3", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "\"apis/kueue.x-k8s.io/v1beta2\""));
    assert_non_null(strstr(f->r.body.buf, "serverRelativeURL"));
    assert_int_equal(call(f, "GET", "/openapi/v3/apis/kueue.x-k8s.io/v1beta2", "hash=x", NULL),
                     200);
    assert_non_null(strstr(f->r.body.buf, "fieldValidation"));
    assert_non_null(strstr(f->r.body.buf, "x-kubernetes-group-version-kind"));
    /* served again from the cache, unchanged */
    size_t len = f->r.body.len;
    assert_int_equal(call(f, "GET", "/openapi/v3/apis/kueue.x-k8s.io/v1beta2", NULL, NULL), 200);
    assert_int_equal(f->r.body.len, len);
    assert_int_equal(call(f, "GET", "/openapi/v3/api/v1", NULL, NULL), 200);
    assert_int_equal(call(f, "GET", "/openapi/v3/apis/nosuch.io/v1", NULL, NULL), 404);
    assert_int_equal(call(f, "GET", "/openapi/v2", NULL, NULL), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalizers_hold_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletecollection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_manager_from_user_agent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kueue_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_graceful_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_merge_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_strategic_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
