/* Tests for api/registry: lookups by path and by kind, the shape of the table
 * (every group's versions have kinds, names are lower-case plurals), key prefixes. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/registry.h"

static void test_find_by_path(void **state)
{
    const struct api_kind *k = api_registry_find("", "v1", "pods");
    assert_non_null(k);
    assert_string_equal(k->kind, "Pod");
    assert_true(k->namespaced);
    assert_true(api_kind_subresource(k, "binding", NULL));
    assert_true(api_kind_subresource(k, "status", NULL));
    assert_false(api_kind_subresource(k, "scale", NULL));

    k = api_registry_find("kueue.x-k8s.io", "v1beta1", "clusterqueues");
    assert_non_null(k);
    assert_false(k->preferred);
    assert_false(k->namespaced);
    assert_int_equal(k->model, MODEL_CLUSTER_QUEUE);

    assert_null(api_registry_find("kueue.x-k8s.io", "v1", "clusterqueues"));
    assert_null(api_registry_find("", "v1", "pod"));
    assert_null(api_registry_find("batch", "v1", "pods"));
}

static void test_find_by_kind(void **state)
{
    const struct api_kind *k = api_registry_by_kind("ClusterQueue");
    assert_non_null(k);
    assert_string_equal(k->version, "v1beta2");
    k = api_registry_by_api_version("kueue.x-k8s.io/v1beta1", "LocalQueue");
    assert_non_null(k);
    assert_string_equal(k->resource, "localqueues");
    assert_string_equal(k->short_names[2], "lq");
    k = api_registry_by_api_version("v1", "Node");
    assert_non_null(k);
    assert_string_equal(k->group, "");
    assert_null(api_registry_by_api_version("/v1", "Node"));
    assert_null(api_registry_by_api_version("apps/v1", "Node"));
    assert_null(api_registry_by_kind("Deployment"));
}

static void test_table_is_consistent(void **state)
{
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        const struct api_group *g = api_registry_find_group(k->group);
        assert_non_null(g);
        bool found = false;
        for (size_t v = 0; v < g->n_versions; v++)
            if (!strcmp(g->versions[v], k->version)) {
                found = true;
                assert_int_equal(k->preferred, v == 0);
            }
        assert_true(found);
        for (const char *p = k->resource; *p; p++)
            assert_true(islower((unsigned char)*p));
        /* Resource names are unique within a group-version. */
        assert_ptr_equal(api_registry_find(k->group, k->version, k->resource), k);
        assert_ptr_equal(api_registry_find_kind(k->group, k->version, k->kind), k);
    }
    for (size_t i = 0; i < api_registry_groups_len(); i++) {
        const struct api_group *g = api_registry_group(i);
        for (size_t v = 0; v < g->n_versions; v++) {
            bool any = false;
            for (size_t j = 0; j < api_registry_len(); j++) {
                const struct api_kind *k = api_registry_kind(j);
                any |= !strcmp(k->group, g->name) && !strcmp(k->version, g->versions[v]);
            }
            assert_true(any);
        }
    }
}

static void test_names_and_keys(void **state)
{
    char buf[128];
    const struct api_kind *pods = api_registry_find("", "v1", "pods");
    const struct api_kind *cq = api_registry_find("kueue.x-k8s.io", "v1beta2", "clusterqueues");
    api_kind_key_prefix(pods, buf, sizeof buf);
    assert_string_equal(buf, "/registry/core/pods/");
    api_kind_key_prefix(cq, buf, sizeof buf);
    assert_string_equal(buf, "/registry/kueue.x-k8s.io/clusterqueues/");
    api_kind_api_version(cq, buf, sizeof buf);
    assert_string_equal(buf, "kueue.x-k8s.io/v1beta2");
    api_kind_qualified_resource(cq, buf, sizeof buf);
    assert_string_equal(buf, "clusterqueues.kueue.x-k8s.io");
    api_kind_qualified_resource(pods, buf, sizeof buf);
    assert_string_equal(buf, "pods");
    assert_string_equal(api_verb_name(API_VERB_DELETECOLLECTION), "deletecollection");
    assert_null(api_verb_name(3));
    assert_string_equal(api_subresource_name(API_SUB_BINDING), "binding");
    assert_int_equal(api_subresource_verbs(API_SUB_STATUS),
                     API_VERB_GET | API_VERB_PATCH | API_VERB_UPDATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_path),
        cmocka_unit_test(test_find_by_kind),
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_names_and_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
