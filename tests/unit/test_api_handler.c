/* Tests for api_handle on a memory store, without HTTP: create/get/list/update/
 * delete, the Status of each failure, selectors, finalizers, binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* The Content-Type and Accept of the next call() only, then NULL again. */
static const char *next_ct, *next_accept;

/* Runs one request; query is "k=v&k=v" (no escaping) or NULL. */
static int call(struct fixture *f, const char *method, const char *path, const char *query,
                const char *body)
{
    struct api_req req = {.method = method,
                          .path = path,
                          .content_type = next_ct,
                          .accept = next_accept,
                          .body = body,
                          .body_len = body ? strlen(body) : 0};
    next_ct = next_accept = NULL;
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

#define POD(name, extra)                                                                           \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                       \
    "\",\"labels\":{\"app\":\"" name "\"}" extra "},\"spec\":{\"schedulerName\":\"muster\"}}"

static void test_crud(void **state)
{
    struct fixture *f = *state;
    const char *pods = "/api/v1/namespaces/default/pods";
    assert_int_equal(call(f, "POST", pods, NULL, POD("a", "")), 201);
    assert_non_null(strstr(f->r.body.buf, "\"resourceVersion\":\"1\""));
    assert_non_null(strstr(f->r.body.buf, "\"namespace\":\"default\""));
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
                          POD("a", ",\"resourceVersion\":\"2\"")),
                     409);
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/default/pods/a", NULL,
                          "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"},"
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
    const char *ns = "/api/v1/namespaces";
    assert_int_equal(
        call(f, "POST", ns, NULL, "{\"metadata\":{\"name\":\"team\",\"finalizers\":[\"x/y\"]}}"),
        201);
    assert_int_equal(call(f, "DELETE", "/api/v1/namespaces/team", NULL, NULL), 200);
    assert_non_null(strstr(f->r.body.buf, "deletionTimestamp"));
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/team", NULL, NULL), 200);
    /* Removing the last finalizer deletes it. */
    assert_int_equal(call(f, "PUT", "/api/v1/namespaces/team", NULL,
                          "{\"metadata\":{\"name\":\"team\",\"finalizers\":[]}}"),
                     200);
    assert_int_equal(call(f, "GET", "/api/v1/namespaces/team", NULL, NULL), 404);
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

#define MERGE     "application/merge-patch+json"
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
    assert_non_null(strstr(f->r.body.buf, "\"resourceVersion\":\"4\""));
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

#define TB_ACCEPT                                                                                  \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"                                    \
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"                                                       \
    "application/json"

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
        cmocka_unit_test_setup_teardown(test_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation_and_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_merge_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_strategic_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openapi, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
