/* Tests for api/openapi: the root index lists every served group-version with a
 * hash; each document has, for every served kind, a patch operation with the GVK
 * and a fieldValidation query parameter (what kubectl's query-param verifier
 * looks for), and a schema tagged with the GVK that `kubectl explain` can walk;
 * schema field names match what src/model decodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/openapi.h"
#include "api/registry.h"
#include "model/model.h"

static void gv_of(const struct api_kind *k, char *buf, size_t size)
{
    if (!k->group[0])
        snprintf(buf, size, "api/%s", k->version);
    else
        snprintf(buf, size, "apis/%s/%s", k->group, k->version);
}

static void test_root_lists_every_group_version(void **state)
{
    json_t *root = openapi_root();
    json_t *paths = json_object_get(root, "paths");
    assert_non_null(paths);
    for (size_t i = 0; i < api_registry_len(); i++) {
        char gv[256], hash[32], want[400];
        gv_of(api_registry_kind(i), gv, sizeof gv);
        json_t *e = json_object_get(paths, gv);
        if (!e)
            fail_msg("root lacks %s", gv);
        assert_int_equal(openapi_doc_hash(gv, hash, sizeof hash), 0);
        assert_int_equal(strlen(hash), 16);
        snprintf(want, sizeof want, "/openapi/v3/%s?hash=%s", gv, hash);
        assert_string_equal(json_string_value(json_object_get(e, "serverRelativeURL")), want);
        assert_int_equal(json_object_size(e), 1);
    }
    json_decref(root);
    /* Documents differ, so do their hashes. */
    char h1[32], h2[32];
    assert_int_equal(openapi_doc_hash("api/v1", h1, sizeof h1), 0);
    assert_int_equal(openapi_doc_hash("apis/kueue.x-k8s.io/v1beta2", h2, sizeof h2), 0);
    assert_string_not_equal(h1, h2);
    /* And a hash is stable. */
    assert_int_equal(openapi_doc_hash("/api/v1", h2, sizeof h2), 0);
    assert_string_equal(h1, h2);
}

static void test_unknown_group_versions(void **state)
{
    static const char *const bad[] = {"api/v2",
                                      "apis/kueue.x-k8s.io/v9",
                                      "apis/nope/v1",
                                      "apis/kueue.x-k8s.io",
                                      "",
                                      "api/",
                                      "apis//v1",
                                      "version",
                                      "apis/batch/v1/extra"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(openapi_doc(bad[i]));
        char h[32];
        assert_int_equal(openapi_doc_hash(bad[i], h, sizeof h), -1);
    }
    assert_null(openapi_doc(NULL));
}

/* What kubectl's supportsQueryParamV3 does: a patch operation whose GVK equals
 * the kind's, with a query parameter fieldValidation. */
static bool verifier_accepts(json_t *doc, const struct api_kind *k)
{
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        json_t *patch = json_object_get(item, "patch");
        json_t *g = json_object_get(patch, "x-kubernetes-group-version-kind");
        if (!g || strcmp(json_string_value(json_object_get(g, "group")), k->group) ||
            strcmp(json_string_value(json_object_get(g, "version")), k->version) ||
            strcmp(json_string_value(json_object_get(g, "kind")), k->kind))
            continue;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(patch, "parameters"), i, p)
        {
            if (!strcmp(json_string_value(json_object_get(p, "name")), "fieldValidation") &&
                !strcmp(json_string_value(json_object_get(p, "in")), "query"))
                return true;
        }
    }
    return false;
}

/* Resolves a property schema the way kubectl explain does: through allOf and
 * $ref to components.schemas. */
static json_t *resolve(json_t *doc, json_t *s)
{
    for (int guard = 0; guard < 8 && s; guard++) {
        json_t *all = json_object_get(s, "allOf");
        if (all)
            s = json_array_get(all, 0);
        const char *ref = json_string_value(json_object_get(s, "$ref"));
        if (!ref)
            return s;
        const char *prefix = "#/components/schemas/";
        assert_true(!strncmp(ref, prefix, strlen(prefix)));
        s = json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"),
                            ref + strlen(prefix));
        if (!s)
            fail_msg("dangling $ref %s", ref);
    }
    return s;
}

/* The schema at a dotted field path ("spec.resourceGroups.flavors"), stepping
 * into array items. */
static json_t *explain(json_t *doc, json_t *schema, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *s = resolve(doc, schema);
    for (char *tok = strtok(buf, "."); tok && s; tok = strtok(NULL, ".")) {
        if (json_object_get(s, "items"))
            s = resolve(doc, json_object_get(s, "items"));
        s = resolve(doc, json_object_get(json_object_get(s, "properties"), tok));
    }
    return s;
}

static json_t *kind_schema(json_t *doc, const struct api_kind *k)
{
    const char *name;
    json_t *s;
    json_object_foreach(json_object_get(json_object_get(doc, "components"), "schemas"), name, s)
    {
        json_t *g = json_array_get(json_object_get(s, "x-kubernetes-group-version-kind"), 0);
        if (g && !strcmp(json_string_value(json_object_get(g, "kind")), k->kind) &&
            !strcmp(json_string_value(json_object_get(g, "group")), k->group) &&
            !strcmp(json_string_value(json_object_get(g, "version")), k->version))
            return s;
    }
    return NULL;
}

/* Every $ref in the document resolves. */
static void check_refs(json_t *doc, json_t *v)
{
    if (json_is_object(v)) {
        const char *ref = json_string_value(json_object_get(v, "$ref"));
        if (ref)
            resolve(doc, v);
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) check_refs(doc, c);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) check_refs(doc, c);
    }
}

static void test_every_kind_has_patch_gvk_and_schema(void **state)
{
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        char gv[256];
        gv_of(k, gv, sizeof gv);
        json_t *doc = openapi_doc(gv);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.0");
        if ((k->verbs & API_VERB_PATCH) && !verifier_accepts(doc, k))
            fail_msg("%s %s: no patch operation with GVK and fieldValidation", gv, k->kind);
        json_t *s = kind_schema(doc, k);
        if (!s)
            fail_msg("%s %s: no schema tagged with the GVK", gv, k->kind);
        assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
        assert_true(json_is_string(json_object_get(s, "description")));
        json_t *md = explain(doc, s, "metadata");
        assert_non_null(json_object_get(json_object_get(md, "properties"), "labels"));
        check_refs(doc, doc);
        json_decref(doc);
    }
}

static void test_paths_of_a_namespaced_kind(void **state)
{
    json_t *doc = openapi_doc("apis/kueue.x-k8s.io/v1beta2");
    json_t *paths = json_object_get(doc, "paths");
    const char *p = "/apis/kueue.x-k8s.io/v1beta2/namespaces/{namespace}/localqueues/{name}";
    json_t *item = json_object_get(paths, p);
    assert_non_null(item);
    assert_non_null(json_object_get(item, "get"));
    assert_non_null(json_object_get(item, "put"));
    assert_non_null(json_object_get(item, "delete"));
    json_t *patch = json_object_get(item, "patch");
    assert_string_equal(json_string_value(json_object_get(patch, "x-kubernetes-action")), "patch");
    json_t *content = json_object_get(json_object_get(patch, "requestBody"), "content");
    assert_non_null(json_object_get(content, "application/apply-patch+yaml"));
    assert_non_null(json_object_get(content, "application/merge-patch+json"));
    /* Kueue kinds are custom resources: no strategic merge patch. */
    assert_null(json_object_get(content, "application/strategic-merge-patch+json"));
    assert_non_null(
        json_object_get(paths, "/apis/kueue.x-k8s.io/v1beta2/namespaces/{namespace}/localqueues"));
    assert_non_null(json_object_get(paths, "/apis/kueue.x-k8s.io/v1beta2/localqueues"));
    assert_non_null(json_object_get(
        paths, "/apis/kueue.x-k8s.io/v1beta2/namespaces/{namespace}/localqueues/{name}/status"));
    assert_non_null(json_object_get(paths, "/apis/kueue.x-k8s.io/v1beta2/clusterqueues/{name}"));
    assert_null(
        json_object_get(paths, "/apis/kueue.x-k8s.io/v1beta2/resourceflavors/{name}/status"));
    json_decref(doc);
    doc = openapi_doc("api/v1");
    paths = json_object_get(doc, "paths");
    json_t *np = json_object_get(json_object_get(paths, "/api/v1/nodes/{name}"), "patch");
    content = json_object_get(json_object_get(np, "requestBody"), "content");
    assert_non_null(json_object_get(content, "application/strategic-merge-patch+json"));
    json_decref(doc);
}

/* The fields `kubectl explain clusterqueue.spec.resourceGroups` shows, with
 * types, descriptions, required fields and enums. */
static void test_explain_cluster_queue(void **state)
{
    const struct api_kind *k = api_registry_find_kind("kueue.x-k8s.io", "v1beta2", "ClusterQueue");
    assert_non_null(k);
    json_t *doc = openapi_doc("apis/kueue.x-k8s.io/v1beta2");
    json_t *s = kind_schema(doc, k);
    json_t *rg = explain(doc, s, "spec.resourceGroups");
    assert_string_equal(json_string_value(json_object_get(rg, "type")), "array");
    assert_true(json_is_string(json_object_get(rg, "description")));
    json_t *item = json_object_get(rg, "items");
    assert_non_null(json_object_get(json_object_get(item, "properties"), "coveredResources"));
    json_t *req = json_object_get(item, "required");
    assert_int_equal(json_array_size(req), 2);
    json_t *nq = explain(doc, s, "spec.resourceGroups.flavors.resources.nominalQuota");
    assert_true(json_is_true(json_object_get(nq, "x-kubernetes-int-or-string")));
    json_t *flv = explain(doc, s, "spec.resourceGroups.flavors");
    assert_string_equal(json_string_value(json_object_get(flv, "x-kubernetes-list-type")), "map");
    json_t *qs = explain(doc, s, "spec.queueingStrategy");
    assert_int_equal(json_array_size(json_object_get(qs, "enum")), 2);
    assert_non_null(explain(doc, s, "spec.cohortName"));
    assert_null(explain(doc, s, "spec.cohort"));
    assert_non_null(explain(doc, s, "spec.namespaceSelector.matchLabels"));
    assert_non_null(explain(doc, s, "status.conditions.reason"));
    assert_non_null(explain(doc, s, "status.flavorsUsage.resources.borrowed"));
    json_decref(doc);
    /* v1beta1 spells the cohort differently. */
    k = api_registry_find_kind("kueue.x-k8s.io", "v1beta1", "ClusterQueue");
    doc = openapi_doc("apis/kueue.x-k8s.io/v1beta1");
    s = kind_schema(doc, k);
    assert_non_null(explain(doc, s, "spec.cohort"));
    assert_null(explain(doc, s, "spec.cohortName"));
    json_decref(doc);
}

/* Built-in kinds carry the strategic-merge extensions on keyed lists (with the
 * same keys api/patch merges by); custom resources only the list types. */
static void test_patch_extensions(void **state)
{
    json_t *doc = openapi_doc("api/v1");
    json_t *s = kind_schema(doc, api_registry_find_kind("", "v1", "Pod"));
    json_t *env = explain(doc, s, "spec.containers.env");
    assert_string_equal(json_string_value(json_object_get(env, "x-kubernetes-patch-merge-key")),
                        "name");
    assert_string_equal(json_string_value(json_object_get(env, "x-kubernetes-patch-strategy")),
                        "merge");
    json_t *ports = explain(doc, s, "spec.containers.ports");
    assert_string_equal(json_string_value(json_object_get(ports, "x-kubernetes-patch-merge-key")),
                        "containerPort");
    json_t *tol = explain(doc, s, "spec.tolerations");
    assert_null(json_object_get(tol, "x-kubernetes-patch-strategy"));
    assert_string_equal(json_string_value(json_object_get(tol, "x-kubernetes-list-type")),
                        "atomic");
    json_decref(doc);
    doc = openapi_doc("apis/kueue.x-k8s.io/v1beta2");
    s = kind_schema(doc, api_registry_find_kind("kueue.x-k8s.io", "v1beta2", "Workload"));
    json_t *ps = explain(doc, s, "spec.podSets");
    assert_null(json_object_get(ps, "x-kubernetes-patch-strategy"));
    assert_string_equal(json_string_value(json_object_get(ps, "x-kubernetes-list-type")), "map");
    json_decref(doc);
}

/* Field names in the schemas are the ones the decoder reads: each manifest
 * below decodes with src/model, and every field it sets is in the schema. */
static void check_fields_known(json_t *doc, json_t *schema, json_t *v, const char *path)
{
    if (!json_is_object(v))
        return;
    json_t *s = resolve(doc, schema);
    if (json_object_get(s, "items"))
        s = resolve(doc, json_object_get(s, "items"));
    if (json_is_true(json_object_get(s, "x-kubernetes-preserve-unknown-fields")) ||
        json_object_get(s, "additionalProperties"))
        return;
    const char *k;
    json_t *c;
    json_object_foreach(v, k, c)
    {
        json_t *ps = json_object_get(json_object_get(s, "properties"), k);
        if (!ps)
            fail_msg("%s.%s: decoded by src/model but not in the schema", path, k);
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        if (json_is_array(c)) {
            size_t i;
            json_t *el;
            json_array_foreach(c, i, el) check_fields_known(doc, ps, el, sub);
        } else {
            check_fields_known(doc, ps, c, sub);
        }
    }
}

static void test_schema_fields_match_model(void **state)
{
    static const char *const manifests[] = {
        "{\"apiVersion\":\"kueue.x-k8s.io/"
        "v1beta2\",\"kind\":\"ClusterQueue\",\"metadata\":{\"name\":"
        "\"cq\"},\"spec\":{\"cohortName\":\"r\",\"queueingStrategy\":\"StrictFIFO\","
        "\"namespaceSelector\":{},\"resourceGroups\":[{\"coveredResources\":[\"nvidia.com/gpu\"],"
        "\"flavors\":[{\"name\":\"h100\",\"resources\":[{\"name\":\"nvidia.com/"
        "gpu\",\"nominalQuota\":"
        "\"8\",\"borrowingLimit\":\"2\",\"lendingLimit\":\"1\"}]}]}],\"preemption\":{"
        "\"reclaimWithinCohort\":\"Any\",\"borrowWithinCohort\":{\"policy\":\"LowerPriority\","
        "\"maxPriorityThreshold\":10},\"withinClusterQueue\":\"LowerPriority\"},"
        "\"flavorFungibility\":{\"whenCanBorrow\":\"MayStopSearch\",\"whenCanPreempt\":"
        "\"TryNextFlavor\"},\"stopPolicy\":\"None\",\"fairSharing\":{\"weight\":\"1\"}}}",
        "{\"apiVersion\":\"kueue.x-k8s.io/"
        "v1beta2\",\"kind\":\"ResourceFlavor\",\"metadata\":{\"name\":"
        "\"h100\"},\"spec\":{\"nodeLabels\":{\"a\":\"b\"},\"nodeTaints\":[{\"key\":\"k\",\"value\":"
        "\"v\",\"effect\":\"NoSchedule\"}],\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\","
        "\"effect\":\"NoSchedule\"}],\"topologyName\":\"t\"}}",
        "{\"apiVersion\":\"kueue.x-k8s.io/"
        "v1beta2\",\"kind\":\"Cohort\",\"metadata\":{\"name\":\"c\"},"
        "\"spec\":{\"parentName\":\"org\",\"fairSharing\":{\"weight\":\"2\"}}}",
        "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"LocalQueue\",\"metadata\":{\"name\":"
        "\"q\",\"namespace\":\"t\"},\"spec\":{\"clusterQueue\":\"cq\",\"stopPolicy\":\"Hold\"}}",
        "{\"apiVersion\":\"kueue.x-k8s.io/"
        "v1beta2\",\"kind\":\"WorkloadPriorityClass\",\"metadata\":{"
        "\"name\":\"hi\"},\"value\":100,\"description\":\"d\"}",
        "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"Topology\",\"metadata\":{\"name\":"
        "\"t\"},\"spec\":{\"levels\":[{\"nodeLabel\":\"block\"},{\"nodeLabel\":\"rack\"}]}}",
        "{\"apiVersion\":\"kueue.x-k8s.io/"
        "v1beta2\",\"kind\":\"Workload\",\"metadata\":{\"name\":\"w\","
        "\"namespace\":\"t\"},\"spec\":{\"queueName\":\"q\",\"priorityClassRef\":{\"group\":"
        "\"kueue.x-k8s.io\",\"kind\":\"WorkloadPriorityClass\",\"name\":\"hi\"},\"priority\":100,"
        "\"active\":true,\"maximumExecutionTimeSeconds\":60,\"podSets\":[{\"name\":\"main\","
        "\"count\":2,\"minCount\":1,\"topologyRequest\":{\"required\":\"rack\"},\"template\":{"
        "\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":"
        "\"i\",\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"1\"}}}],\"tolerations\":[{\"key\":"
        "\"k\",\"operator\":\"Exists\"}],\"nodeSelector\":{\"x\":\"y\"},\"priorityClassName\":"
        "\"p\"}}}]},"
        "\"status\":{\"conditions\":[{\"type\":\"Admitted\",\"status\":\"True\",\"reason\":\"R\","
        "\"message\":\"m\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}],\"admission\":{"
        "\"clusterQueue\":\"cq\",\"podSetAssignments\":[{\"name\":\"main\",\"count\":2,\"flavors\":"
        "{"
        "\"nvidia.com/gpu\":\"h100\"},\"resourceUsage\":{\"nvidia.com/gpu\":\"2\"}}]},"
        "\"requeueState\":{\"count\":1}}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"a\":"
        "\"b\"}},"
        "\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]},"
        "\"status\":{\"capacity\":{\"nvidia.com/gpu\":\"8\"},\"allocatable\":{\"nvidia.com/gpu\":"
        "\"8\"}}}",
        "{\"apiVersion\":\"scheduling.k8s.io/"
        "v1\",\"kind\":\"PriorityClass\",\"metadata\":{\"name\":"
        "\"p\"},\"value\":10,\"globalDefault\":false,\"description\":\"d\",\"preemptionPolicy\":"
        "\"Never\"}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"t\"}}",
    };
    for (size_t i = 0; i < sizeof manifests / sizeof manifests[0]; i++) {
        struct model_obj *o = NULL;
        struct err e;
        if (model_decode_json(manifests[i], strlen(manifests[i]), &o, &e))
            fail_msg("manifest %zu does not decode: %s", i, e.msg);
        const char *kind = json_string_value(json_object_get(o->raw, "kind"));
        const struct api_kind *k = api_registry_by_api_version(
            json_string_value(json_object_get(o->raw, "apiVersion")), kind);
        assert_non_null(k);
        char gv[256];
        gv_of(k, gv, sizeof gv);
        json_t *doc = openapi_doc(gv);
        json_t *s = kind_schema(doc, k);
        check_fields_known(doc, s, o->raw, kind);
        json_decref(doc);
        model_obj_free(o);
    }
}

static void test_schema_names(void **state)
{
    static const struct {
        const char *g, *v, *k, *want;
    } cs[] = {
        {"", "v1", "Pod", "io.k8s.api.core.v1.Pod"},
        {"batch", "v1", "Job", "io.k8s.api.batch.v1.Job"},
        {"coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease"},
        {"resource.k8s.io", "v1", "DeviceClass", "io.k8s.api.resource.v1.DeviceClass"},
        {"kueue.x-k8s.io", "v1beta2", "ClusterQueue", "io.x-k8s.kueue.v1beta2.ClusterQueue"},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        const struct api_kind *k = api_registry_find_kind(cs[i].g, cs[i].v, cs[i].k);
        assert_non_null(k);
        char buf[256];
        openapi_schema_name(k, buf, sizeof buf);
        assert_string_equal(buf, cs[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_lists_every_group_version),
        cmocka_unit_test(test_unknown_group_versions),
        cmocka_unit_test(test_every_kind_has_patch_gvk_and_schema),
        cmocka_unit_test(test_paths_of_a_namespaced_kind),
        cmocka_unit_test(test_explain_cluster_queue),
        cmocka_unit_test(test_patch_extensions),
        cmocka_unit_test(test_schema_fields_match_model),
        cmocka_unit_test(test_schema_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
