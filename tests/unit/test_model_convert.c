/* Tests for model_kueue_convert: each field that differs between kueue.x-k8s.io
 * v1beta1 and v1beta2, both ways, and what cannot be converted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdlib.h>

#include "model/model.h"

static json_t *parse(const char *s)
{
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s: %s", je.text, s);
    return j;
}

/* Converts doc to version to and checks the result against want (both JSON). */
static void check(const char *doc, enum model_api_version to, const char *want)
{
    json_t *j = parse(doc), *w = parse(want);
    struct err e;
    err_clear(&e);
    if (model_kueue_convert(j, to, &e) != 0)
        fail_msg("convert %s: %s", doc, e.msg);
    if (!json_equal(j, w)) {
        char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        char *exp = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
        print_error("got  %s\nwant %s\n", got, exp);
        free(got);
        free(exp);
        fail();
    }
    json_decref(j);
    json_decref(w);
}

#define B1 "\"apiVersion\":\"kueue.x-k8s.io/v1beta1\","
#define B2 "\"apiVersion\":\"kueue.x-k8s.io/v1beta2\","
#define CQ "\"kind\":\"ClusterQueue\",\"metadata\":{\"name\":\"cq\"},"
#define CO "\"kind\":\"Cohort\",\"metadata\":{\"name\":\"c\"},"
#define LQ "\"kind\":\"LocalQueue\",\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\"},"
#define WL "\"kind\":\"Workload\",\"metadata\":{\"name\":\"w\",\"namespace\":\"ns\"},"

/* Lossless pairs: v1beta1 -> v1beta2 gives the second, and back the first. */
static const struct {
    const char *name, *v1beta1, *v1beta2;
} pairs[] = {
    {"ClusterQueue spec.cohort <-> spec.cohortName",
     "{" B1 CQ "\"spec\":{\"cohort\":\"research\",\"queueingStrategy\":\"StrictFIFO\"}}",
     "{" B2 CQ "\"spec\":{\"cohortName\":\"research\",\"queueingStrategy\":\"StrictFIFO\"}}"},
    {"ClusterQueue admissionChecksStrategy is the same in both",
     "{" B1 CQ "\"spec\":{\"admissionChecksStrategy\":{\"admissionChecks\":[{\"name\":\"a\","
     "\"onFlavors\":[\"f\"]}]}}}",
     "{" B2 CQ "\"spec\":{\"admissionChecksStrategy\":{\"admissionChecks\":[{\"name\":\"a\","
     "\"onFlavors\":[\"f\"]}]}}}"},
    {"ClusterQueue flavorFungibility MayStopSearch and TryNextFlavor keep their names",
     "{" B1 CQ "\"spec\":{\"flavorFungibility\":{\"whenCanBorrow\":\"MayStopSearch\","
     "\"whenCanPreempt\":\"TryNextFlavor\"}}}",
     "{" B2 CQ "\"spec\":{\"flavorFungibility\":{\"whenCanBorrow\":\"MayStopSearch\","
     "\"whenCanPreempt\":\"TryNextFlavor\"}}}"},
    {"ClusterQueue admissionChecks list <-> a strategy of names alone",
     "{" B1 CQ "\"spec\":{\"admissionChecks\":[\"prov\",\"mk\"]}}",
     "{" B2 CQ "\"spec\":{\"admissionChecksStrategy\":{\"admissionChecks\":[{\"name\":\"prov\"},"
     "{\"name\":\"mk\"}]}}}"},
    {"Cohort spec.parentName is the same in both", "{" B1 CO "\"spec\":{\"parentName\":\"org\"}}",
     "{" B2 CO "\"spec\":{\"parentName\":\"org\"}}"},
    {"LocalQueue status.flavorUsage <-> status.flavorsUsage",
     "{" B1 LQ "\"spec\":{\"clusterQueue\":\"cq\"},\"status\":{\"pendingWorkloads\":1,"
     "\"flavorUsage\":[{\"name\":\"f\",\"resources\":[{\"name\":\"cpu\",\"total\":\"1\"}]}]}}",
     "{" B2 LQ "\"spec\":{\"clusterQueue\":\"cq\"},\"status\":{\"pendingWorkloads\":1,"
     "\"flavorsUsage\":[{\"name\":\"f\",\"resources\":[{\"name\":\"cpu\",\"total\":\"1\"}]}]}}"},
    {"Workload WorkloadPriorityClass source <-> priorityClassRef",
     "{" B1 WL "\"spec\":{\"priorityClassName\":\"high\",\"priorityClassSource\":"
     "\"kueue.x-k8s.io/workloadpriorityclass\",\"priority\":10}}",
     "{" B2 WL "\"spec\":{\"priorityClassRef\":{\"group\":\"kueue.x-k8s.io\",\"kind\":"
     "\"WorkloadPriorityClass\",\"name\":\"high\"},\"priority\":10}}"},
    {"Workload PriorityClass source <-> priorityClassRef",
     "{" B1 WL "\"spec\":{\"priorityClassName\":\"p\",\"priorityClassSource\":"
     "\"scheduling.k8s.io/priorityclass\"}}",
     "{" B2 WL "\"spec\":{\"priorityClassRef\":{\"group\":\"scheduling.k8s.io\",\"kind\":"
     "\"PriorityClass\",\"name\":\"p\"}}}"},
    {"Workload status.accumulatedPastExexcutionTimeSeconds (sic) <-> ...Execution...",
     "{" B1 WL "\"spec\":{},\"status\":{\"accumulatedPastExexcutionTimeSeconds\":30}}",
     "{" B2 WL "\"spec\":{},\"status\":{\"accumulatedPastExecutionTimeSeconds\":30}}"},
    {"Workload topologyAssignment domains <-> slices: universal and prefixed values",
     "{" B1 WL "\"spec\":{},\"status\":{\"admission\":{\"clusterQueue\":\"cq\","
     "\"podSetAssignments\":[{\"name\":\"main\",\"topologyAssignment\":{\"levels\":[\"block\","
     "\"rack\"],\"domains\":[{\"values\":[\"block-1\",\"rack-1\"],\"count\":4},"
     "{\"values\":[\"block-1\",\"rack-2\"],\"count\":2}]}}]}}}",
     "{" B2 WL "\"spec\":{},\"status\":{\"admission\":{\"clusterQueue\":\"cq\","
     "\"podSetAssignments\":[{\"name\":\"main\",\"topologyAssignment\":{\"levels\":[\"block\","
     "\"rack\"],\"slices\":[{\"domainCount\":2,\"valuesPerLevel\":[{\"universal\":\"block-1\"},"
     "{\"individual\":{\"prefix\":\"rack-\",\"roots\":[\"1\",\"2\"]}}],"
     "\"podCounts\":{\"individual\":[4,2]}}]}}]}}}"},
    {"Workload topologyAssignment: a common suffix, one count for all",
     "{" B1 WL "\"spec\":{},\"status\":{\"admission\":{\"podSetAssignments\":[{"
     "\"topologyAssignment\":{\"levels\":[\"kubernetes.io/hostname\"],\"domains\":["
     "{\"values\":[\"a.pool\"],\"count\":1},{\"values\":[\"bb.pool\"],\"count\":1}]}}]}}}",
     "{" B2 WL "\"spec\":{},\"status\":{\"admission\":{\"podSetAssignments\":[{"
     "\"topologyAssignment\":{\"levels\":[\"kubernetes.io/hostname\"],\"slices\":[{"
     "\"domainCount\":2,\"valuesPerLevel\":[{\"individual\":{\"suffix\":\".pool\",\"roots\":"
     "[\"a\",\"bb\"]}}],\"podCounts\":{\"universal\":1}}]}}]}}}"},
    {"Workload topologyAssignment: prefix and suffix never overlap",
     "{" B1 WL "\"spec\":{},\"status\":{\"admission\":{\"podSetAssignments\":[{"
     "\"topologyAssignment\":{\"levels\":[\"h\"],\"domains\":["
     "{\"values\":[\"ababa\"],\"count\":1},{\"values\":[\"aba\"],\"count\":1}]}}]}}}",
     "{" B2 WL "\"spec\":{},\"status\":{\"admission\":{\"podSetAssignments\":[{"
     "\"topologyAssignment\":{\"levels\":[\"h\"],\"slices\":[{\"domainCount\":2,"
     "\"valuesPerLevel\":[{\"individual\":{\"suffix\":\"aba\",\"roots\":[\"ab\",\"\"]}}],"
     "\"podCounts\":{\"universal\":1}}]}}]}}}"},
    {"ResourceFlavor differs in apiVersion only",
     "{" B1 "\"kind\":\"ResourceFlavor\",\"metadata\":{\"name\":\"f\"},\"spec\":{\"nodeLabels\":"
     "{\"a\":\"b\"}}}",
     "{" B2 "\"kind\":\"ResourceFlavor\",\"metadata\":{\"name\":\"f\"},\"spec\":{\"nodeLabels\":"
     "{\"a\":\"b\"}}}"},
};

static void test_pairs_both_ways(void **state)
{
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        print_message("%s\n", pairs[i].name);
        check(pairs[i].v1beta1, MODEL_API_V1BETA2, pairs[i].v1beta2);
        check(pairs[i].v1beta2, MODEL_API_V1BETA1, pairs[i].v1beta1);
        /* Already in the target version: unchanged. */
        check(pairs[i].v1beta2, MODEL_API_V1BETA2, pairs[i].v1beta2);
    }
}

/* One way only: what v1beta1 spells differently or has and v1beta2 lacks. */
static const struct {
    const char *name, *from, *want;
    enum model_api_version to;
} one_way[] = {
    {"ClusterQueue empty admissionChecks -> nothing",
     "{" B1 CQ "\"spec\":{\"admissionChecks\":[]}}", "{" B2 CQ "\"spec\":{}}", MODEL_API_V1BETA2},
    {"ClusterQueue flavorFungibility Borrow and Preempt -> MayStopSearch",
     "{" B1 CQ "\"spec\":{\"flavorFungibility\":{\"whenCanBorrow\":\"Borrow\","
     "\"whenCanPreempt\":\"Preempt\"}}}",
     "{" B2 CQ "\"spec\":{\"flavorFungibility\":{\"whenCanBorrow\":\"MayStopSearch\","
     "\"whenCanPreempt\":\"MayStopSearch\"}}}",
     MODEL_API_V1BETA2},
    {"ClusterQueue empty cohort is no cohort", "{" B1 CQ "\"spec\":{\"cohort\":\"\"}}",
     "{" B2 CQ "\"spec\":{}}", MODEL_API_V1BETA2},
    {"ClusterQueue status.pendingWorkloadsStatus is v1beta1 only",
     "{" B1 CQ "\"spec\":{},\"status\":{\"pendingWorkloads\":2,\"pendingWorkloadsStatus\":"
     "{\"head\":[]}}}",
     "{" B2 CQ "\"spec\":{},\"status\":{\"pendingWorkloads\":2}}", MODEL_API_V1BETA2},
    {"Cohort spec.parent (v1alpha1, early v1beta1) -> parentName",
     "{\"apiVersion\":\"kueue.x-k8s.io/v1alpha1\"," CO "\"spec\":{\"parent\":\"org\"}}",
     "{" B2 CO "\"spec\":{\"parentName\":\"org\"}}", MODEL_API_V1BETA2},
    {"Cohort v1beta1 spec.parent -> parentName", "{" B1 CO "\"spec\":{\"parent\":\"org\"}}",
     "{" B2 CO "\"spec\":{\"parentName\":\"org\"}}", MODEL_API_V1BETA2},
    {"LocalQueue status.flavors is v1beta1 only",
     "{" B1 LQ "\"spec\":{\"clusterQueue\":\"cq\"},\"status\":{\"flavors\":[{\"name\":\"f\"}]}}",
     "{" B2 LQ "\"spec\":{\"clusterQueue\":\"cq\"},\"status\":{}}", MODEL_API_V1BETA2},
    {"Workload priorityClassName without a source is dropped, as Kueue does",
     "{" B1 WL "\"spec\":{\"priorityClassName\":\"high\",\"priority\":5}}",
     "{" B2 WL "\"spec\":{\"priority\":5}}", MODEL_API_V1BETA2},
    {"Workload priorityClassRef of another group has no v1beta1 form",
     "{" B2 WL "\"spec\":{\"priorityClassRef\":{\"group\":\"example.com\",\"kind\":\"X\","
     "\"name\":\"x\"}}}",
     "{" B1 WL "\"spec\":{}}", MODEL_API_V1BETA1},
    {"Workload slices with individual values and pod counts -> domains",
     "{" B2 WL "\"status\":{\"admission\":{\"podSetAssignments\":[{\"topologyAssignment\":{"
     "\"levels\":[\"rack\",\"host\"],\"slices\":[{\"domainCount\":2,\"valuesPerLevel\":["
     "{\"universal\":\"r1\"},{\"individual\":{\"prefix\":\"n-\",\"suffix\":\".x\",\"roots\":"
     "[\"1\",\"2\"]}}],\"podCounts\":{\"individual\":[3,1]}},{\"domainCount\":1,"
     "\"valuesPerLevel\":[{\"universal\":\"r2\"},{\"individual\":{\"roots\":[\"h9\"]}}],"
     "\"podCounts\":{\"universal\":2}}]}}]}}}",
     "{" B1 WL "\"status\":{\"admission\":{\"podSetAssignments\":[{\"topologyAssignment\":{"
     "\"levels\":[\"rack\",\"host\"],\"domains\":[{\"values\":[\"r1\",\"n-1.x\"],\"count\":3},"
     "{\"values\":[\"r1\",\"n-2.x\"],\"count\":1},{\"values\":[\"r2\",\"h9\"],\"count\":2}]}}]}}}",
     MODEL_API_V1BETA1},
    {"another group is left alone",
     "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
     "\"spec\":{\"cohort\":\"x\"}}",
     "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j\"},"
     "\"spec\":{\"cohort\":\"x\"}}",
     MODEL_API_V1BETA2},
};

static void test_one_way(void **state)
{
    for (size_t i = 0; i < sizeof one_way / sizeof one_way[0]; i++) {
        print_message("%s\n", one_way[i].name);
        check(one_way[i].from, one_way[i].to, one_way[i].want);
    }
}

/* What cannot be written in v1beta1: the error names the object and field. */
static const struct {
    const char *doc, *msg;
} bad[] = {
    {"{" B1 CQ "\"spec\":{\"cohortName\":\"x\"}}",
     "ClusterQueue \"cq\": unknown field \"spec.cohortName\""},
    {"{" B1 CQ "\"spec\":{\"admissionChecks\":[\"a\"],\"admissionChecksStrategy\":{}}}",
     "ClusterQueue \"cq\": spec: admissionChecks and admissionChecksStrategy cannot both be set"},
    {"{" B1 CQ "\"spec\":{\"admissionChecks\":[1]}}",
     "ClusterQueue \"cq\": spec.admissionChecks[0]: must be a string (got a number)"},
    {"{" B1 CO "\"spec\":{\"parent\":\"a\",\"parentName\":\"b\"}}",
     "Cohort \"c\": unknown field \"spec.parent\""},
    {"{" B1 LQ "\"status\":{\"flavorsUsage\":[]}}",
     "LocalQueue \"ns/q\": unknown field \"status.flavorsUsage\""},
    {"{" B1 WL "\"spec\":{\"priorityClassRef\":{}}}",
     "Workload \"ns/w\": unknown field \"spec.priorityClassRef\""},
    {"{" B1 "\"kind\":\"Workload\",\"metadata\":{\"name\":\"w\"},\"spec\":{"
     "\"priorityClassSource\":\"kueue\"}}",
     "Workload \"default/w\": spec.priorityClassSource: unsupported value \"kueue\": must be "
     "one of kueue.x-k8s.io/workloadpriorityclass, scheduling.k8s.io/priorityclass, \"\""},
    {"{" B1 WL "\"status\":{\"accumulatedPastExecutionTimeSeconds\":1}}",
     "Workload \"ns/w\": unknown field \"status.accumulatedPastExecutionTimeSeconds\""},
    {"{" B1 WL "\"status\":{\"admission\":{\"podSetAssignments\":[{\"topologyAssignment\":"
     "{\"levels\":[\"a\"],\"domains\":[{\"values\":[\"x\",\"y\"],\"count\":1}]}}]}}}",
     "Workload \"ns/w\": status.admission.podSetAssignments[0].topologyAssignment.domains[0]: "
     "must be {values, count} with one value per level (1)"},
    {"{" B1 WL "\"status\":{\"admission\":{\"podSetAssignments\":[{\"topologyAssignment\":"
     "{\"levels\":[\"a\"],\"domains\":[{\"values\":[\"x\"],\"count\":0}]}}]}}}",
     "Workload \"ns/w\": status.admission.podSetAssignments[0].topologyAssignment.domains[0]."
     "count: must be an integer >= 1"},
};

static void test_bad(void **state)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = parse(bad[i].doc);
        struct err e;
        err_clear(&e);
        assert_int_equal(model_kueue_convert(j, MODEL_API_V1BETA2, &e), -1);
        assert_string_equal(e.msg, bad[i].msg);
        json_decref(j);
    }
}

/* The decoder reads v1beta1 through the same conversion. */
static void test_decoder_uses_conversion(void **state)
{
    static const char v1[] = "{" B1 CO "\"spec\":{\"parentName\":\"org\"}}";
    struct model_obj *o;
    struct err e;
    if (model_decode_json(v1, strlen(v1), &o, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(o->u.cohort.parent, "org");
    assert_int_equal(o->version, MODEL_API_V1BETA1);
    /* The raw tree is the object as written. */
    assert_string_equal(json_string_value(json_object_get(o->raw, "apiVersion")),
                        "kueue.x-k8s.io/v1beta1");
    model_obj_free(o);

    static const char bad_v1[] = "{" B1 CQ "\"spec\":{\"cohortName\":\"x\"}}";
    assert_int_equal(model_decode_json(bad_v1, strlen(bad_v1), &o, &e), -1);
    assert_string_equal(e.msg, "ClusterQueue \"cq\": unknown field \"spec.cohortName\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_both_ways),
        cmocka_unit_test(test_one_way),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_decoder_uses_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
