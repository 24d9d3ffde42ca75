/* Tests for api/table: the Table shape kubectl reads (keys, types, one cell per
 * column, priority-1 columns for -o wide), the cells of each kind, includeObject
 * and kubectl's age format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/registry.h"
#include "api/table.h"
#include "model/model.h"

static json_t *J(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, 0, &je);
    if (!v)
        fail_msg("bad test JSON: %s: %s", je.text, s);
    return v;
}

/* 2026-11-24T00:00:00Z */
static int64_t now_ns(void)
{
    int64_t t;
    assert_int_equal(model_parse_time("2026-11-24T00:00:00Z", &t, NULL), 0);
    return t;
}

static void test_age_format(void **state)
{
    static const struct {
        int64_t s;
        const char *want;
    } cs[] = {
        {-10, "<invalid>"},
        {-2, "<invalid>"},
        {-1, "0s"},
        {0, "0s"},
        {59, "59s"},
        {119, "119s"},
        {120, "2m"},
        {150, "2m30s"},
        {300, "5m"},
        {599, "9m59s"},
        {600, "10m"},
        {3 * 3600 - 1, "179m"},
        {3 * 3600, "3h"},
        {3 * 3600 + 120, "3h2m"},
        {8 * 3600 - 60, "7h59m"},
        {8 * 3600, "8h"},
        {47 * 3600, "47h"},
        {48 * 3600, "2d"},
        {50 * 3600, "2d2h"},
        {8 * 86400, "8d"},
        {400 * 86400, "400d"},
        {730 * 86400, "2y"},
        {(730 + 45) * 86400, "2y45d"},
        {9 * 365 * 86400, "9y"},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        char buf[TABLE_AGE_BUFSZ];
        table_age(cs[i].s * INT64_C(1000000000), buf, sizeof buf);
        if (strcmp(buf, cs[i].want))
            fail_msg("%lld s: got %s, want %s", (long long)cs[i].s, buf, cs[i].want);
    }
    char buf[TABLE_AGE_BUFSZ];
    table_age_since(NULL, now_ns(), buf, sizeof buf);
    assert_string_equal(buf, "<unknown>");
    table_age_since("nonsense", now_ns(), buf, sizeof buf);
    assert_string_equal(buf, "<unknown>");
    table_age_since("2026-11-23T23:55:00Z", now_ns(), buf, sizeof buf);
    assert_string_equal(buf, "5m");
}

static void test_include_parse(void **state)
{
    enum table_include inc;
    struct err e;
    assert_int_equal(table_include_parse(NULL, &inc, &e), 0);
    assert_int_equal(inc, TABLE_INCLUDE_METADATA);
    assert_int_equal(table_include_parse("Object", &inc, &e), 0);
    assert_int_equal(inc, TABLE_INCLUDE_OBJECT);
    assert_int_equal(table_include_parse("None", &inc, &e), 0);
    assert_int_equal(inc, TABLE_INCLUDE_NONE);
    assert_int_equal(table_include_parse("Everything", &inc, &e), -1);
    assert_non_null(strstr(e.msg, "includeObject"));
}

/* Checks the structure kubectl relies on (the shape of the captured
 * table_nodes.json): kind, apiVersion, metadata.resourceVersion, column
 * definitions with exactly name/type/format/description/priority, every row
 * with one cell per column (strings, integers or null) and an object as asked. */
static void check_shape(json_t *t, size_t ncols, size_t nrows, enum table_include inc)
{
    assert_string_equal(json_string_value(json_object_get(t, "kind")), "Table");
    assert_string_equal(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1");
    assert_true(json_is_object(json_object_get(t, "metadata")));
    json_t *cols = json_object_get(t, "columnDefinitions");
    assert_int_equal(json_array_size(cols), ncols);
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
    {
        assert_int_equal(json_object_size(c), 5);
        assert_true(json_is_string(json_object_get(c, "name")));
        const char *type = json_string_value(json_object_get(c, "type"));
        assert_true(!strcmp(type, "string") || !strcmp(type, "integer") || !strcmp(type, "date"));
        assert_true(json_is_string(json_object_get(c, "format")));
        assert_true(json_is_string(json_object_get(c, "description")));
        json_int_t p = json_integer_value(json_object_get(c, "priority"));
        assert_true(p == 0 || p == 1);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "name")),
                        "Name");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 0), "format")),
                        "name");
    json_t *rows = json_object_get(t, "rows");
    assert_int_equal(json_array_size(rows), nrows);
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        json_t *cells = json_object_get(r, "cells");
        assert_int_equal(json_array_size(cells), ncols);
        size_t j;
        json_t *cell;
        json_array_foreach(cells, j, cell)
        {
            const char *type = json_string_value(json_object_get(json_array_get(cols, j), "type"));
            if (!strcmp(type, "integer"))
                assert_true(json_is_integer(cell) || json_is_null(cell));
            else
                assert_true(json_is_string(cell));
        }
        json_t *o = json_object_get(r, "object");
        if (inc == TABLE_INCLUDE_NONE) {
            assert_null(o);
        } else if (inc == TABLE_INCLUDE_METADATA) {
            assert_string_equal(json_string_value(json_object_get(o, "kind")),
                                "PartialObjectMetadata");
            assert_string_equal(json_string_value(json_object_get(o, "apiVersion")),
                                "meta.k8s.io/v1");
            assert_true(json_is_object(json_object_get(o, "metadata")));
            assert_null(json_object_get(json_object_get(o, "metadata"), "managedFields"));
            assert_int_equal(json_object_size(o), 3);
        } else {
            assert_non_null(json_object_get(o, "spec"));
        }
    }
}

static const char *cell_str(json_t *t, size_t row, const char *col)
{
    json_t *cols = json_object_get(t, "columnDefinitions");
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
    {
        if (!strcmp(json_string_value(json_object_get(c, "name")), col)) {
            json_t *cell = json_array_get(
                json_object_get(json_array_get(json_object_get(t, "rows"), row), "cells"), i);
            static char buf[64];
            if (json_is_integer(cell)) {
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(cell));
                return buf;
            }
            return json_is_null(cell) ? "<null>" : json_string_value(cell);
        }
    }
    fail_msg("no column %s", col);
    return NULL;
}

static int col_priority(json_t *t, const char *col)
{
    size_t i;
    json_t *c;
    json_array_foreach(
        json_object_get(t, "columnDefinitions"), i,
        c) if (!strcmp(json_string_value(json_object_get(c, "name")),
                       col)) return (int)json_integer_value(json_object_get(c, "priority"));
    fail_msg("no column %s", col);
    return -1;
}

static json_t *convert(const char *kind, const char *objs, enum table_include inc, json_t *pods)
{
    json_t *o = J(objs);
    struct table_opts opts = {
        .include = inc, .now_ns = now_ns(), .resource_version = "101", .pods = pods};
    struct err e;
    json_t *t = table_convert(kind, o, &opts, &e);
    if (!t)
        fail_msg("%s: %s", kind, e.msg);
    json_decref(o);
    return t;
}

#define NODE_JSON                                                                                  \
    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"gpu-node-1\",\"uid\":\"n-"  \
    "1\","                                                                                         \
    "\"resourceVersion\":\"2\",\"creationTimestamp\":\"2026-11-23T23:55:00Z\",\"labels\":{"        \
    "\"kubernetes.io/hostname\":\"gpu-node-1\",\"nvidia.com/"                                      \
    "gpu.product\":\"NVIDIA-H100-80GB-HBM3\","                                                     \
    "\"topology.kubernetes.io/zone\":\"z1\",\"cloud.provider.com/topology-rack\":\"r7\","          \
    "\"node-role.kubernetes.io/worker\":\"\"},\"managedFields\":[{\"manager\":\"m\"}]},"           \
    "\"spec\":{\"unschedulable\":true},\"status\":{\"allocatable\":{\"cpu\":\"63500m\","           \
    "\"nvidia.com/gpu\":\"8\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"         \
    "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}],\"nodeInfo\":{"            \
    "\"kubeletVersion\":\"v1.32.0\",\"osImage\":\"Ubuntu 24.04\"}}}"

static void test_nodes(void **state)
{
    json_t *pods =
        J("[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"nodeName\":\"gpu-node-1\",\"containers\":["
          "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"2\"}}},{\"resources\":{\"limits\":"
          "{\"nvidia.com/gpu\":1}}}]},\"status\":{\"phase\":\"Running\"}},"
          "{\"metadata\":{\"name\":\"done\"},\"spec\":{\"nodeName\":\"gpu-node-1\",\"containers\":["
          "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"4\"}}}]},\"status\":{\"phase\":"
          "\"Succeeded\"}},"
          "{\"metadata\":{\"name\":\"elsewhere\"},\"spec\":{\"nodeName\":\"n2\",\"containers\":["
          "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"4\"}}}]}}]");
    json_t *t = convert("Node", "[" NODE_JSON ",{\"metadata\":{\"name\":\"cpu-node\"}}]",
                        TABLE_INCLUDE_METADATA, pods);
    check_shape(t, 13, 2, TABLE_INCLUDE_METADATA);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t, "metadata"), "resourceVersion")),
        "101");
    assert_null(json_object_get(json_object_get(t, "metadata"), "continue"));
    assert_string_equal(cell_str(t, 0, "Name"), "gpu-node-1");
    assert_string_equal(cell_str(t, 0, "Status"), "Ready,SchedulingDisabled");
    assert_string_equal(cell_str(t, 0, "Roles"), "worker");
    assert_string_equal(cell_str(t, 0, "GPUs"), "5/8");
    assert_string_equal(cell_str(t, 0, "Age"), "5m");
    assert_string_equal(cell_str(t, 0, "Version"), "v1.32.0");
    assert_string_equal(cell_str(t, 0, "Internal-IP"), "10.0.0.1");
    assert_string_equal(cell_str(t, 0, "Zone"), "z1");
    assert_string_equal(cell_str(t, 0, "Rack"), "r7");
    assert_string_equal(cell_str(t, 0, "GPU-Product"), "NVIDIA-H100-80GB-HBM3");
    assert_string_equal(cell_str(t, 1, "Status"), "Unknown");
    assert_string_equal(cell_str(t, 1, "GPUs"), "-");
    assert_string_equal(cell_str(t, 1, "Age"), "<unknown>");
    assert_string_equal(cell_str(t, 1, "Zone"), "<none>");
    assert_int_equal(col_priority(t, "Status"), 0);
    assert_int_equal(col_priority(t, "GPUs"), 0);
    assert_int_equal(col_priority(t, "Zone"), 1);
    assert_int_equal(col_priority(t, "Rack"), 1);
    json_t *md = json_object_get(
        json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object"), "metadata");
    assert_string_equal(json_string_value(json_object_get(md, "uid")), "n-1");
    assert_non_null(json_object_get(md, "labels"));
    json_decref(t);
    /* Without pods: the total alone. */
    t = convert("Node", "[" NODE_JSON "]", TABLE_INCLUDE_NONE, NULL);
    check_shape(t, 13, 1, TABLE_INCLUDE_NONE);
    assert_string_equal(cell_str(t, 0, "GPUs"), "8");
    json_decref(t);
    json_decref(pods);
}

static void test_pods(void **state)
{
    json_t *t = convert(
        "Pod",
        "[{\"metadata\":{\"name\":\"p1\",\"namespace\":\"default\",\"creationTimestamp\":"
        "\"2026-11-23T21:00:00Z\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\","
        "\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"4\"}}},{\"name\":\"b\"}]},\"status\":{"
        "\"phase\":\"Running\",\"podIP\":\"10.1.0.5\",\"containerStatuses\":[{\"ready\":true,"
        "\"restartCount\":2},{\"ready\":false,\"restartCount\":1,\"state\":{\"waiting\":{"
        "\"reason\":\"CrashLoopBackOff\"}}}]}},"
        "{\"metadata\":{\"name\":\"gated\"},\"spec\":{\"schedulingGates\":[{\"name\":\"g\"}],"
        "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\"}},"
        "{\"metadata\":{\"name\":\"bye\",\"deletionTimestamp\":\"2026-11-24T00:00:00Z\"},\"spec\":{"
        "\"containers\":[]},\"status\":{\"phase\":\"Running\"}}]",
        TABLE_INCLUDE_OBJECT, NULL);
    check_shape(t, 9, 3, TABLE_INCLUDE_OBJECT);
    assert_string_equal(cell_str(t, 0, "Ready"), "1/2");
    assert_string_equal(cell_str(t, 0, "Status"), "CrashLoopBackOff");
    assert_string_equal(cell_str(t, 0, "Restarts"), "3");
    assert_string_equal(cell_str(t, 0, "Node"), "n1");
    assert_string_equal(cell_str(t, 0, "Age"), "3h");
    assert_string_equal(cell_str(t, 0, "IP"), "10.1.0.5");
    assert_string_equal(cell_str(t, 0, "GPUs"), "4");
    assert_string_equal(cell_str(t, 1, "Status"), "SchedulingGated");
    assert_string_equal(cell_str(t, 1, "Node"), "<none>");
    assert_string_equal(cell_str(t, 2, "Status"), "Terminating");
    assert_int_equal(col_priority(t, "IP"), 1);
    assert_int_equal(col_priority(t, "GPUs"), 1);
    assert_int_equal(col_priority(t, "Node"), 0);
    json_decref(t);
}

static void test_kueue_kinds(void **state)
{
    json_t *t = convert(
        "ClusterQueue",
        "[{\"metadata\":{\"name\":\"cq\"},\"spec\":{\"cohortName\":\"research\",\"resourceGroups\":"
        "["
        "{\"coveredResources\":[\"cpu\",\"nvidia.com/gpu\"],\"flavors\":[{\"name\":\"h100\","
        "\"resources\":[{\"name\":\"cpu\",\"nominalQuota\":\"64\"},{\"name\":\"nvidia.com/gpu\","
        "\"nominalQuota\":16}]},{\"name\":\"a100\",\"resources\":[{\"name\":\"cpu\","
        "\"nominalQuota\":"
        "\"500m\"},{\"name\":\"nvidia.com/gpu\",\"nominalQuota\":\"8\"}]}]}]},\"status\":{"
        "\"pendingWorkloads\":3,\"admittedWorkloads\":2,\"flavorsUsage\":[{\"name\":\"h100\","
        "\"resources\":[{\"name\":\"nvidia.com/gpu\",\"total\":\"12\"}]}]}},"
        "{\"metadata\":{\"name\":\"old\"},\"spec\":{\"cohort\":\"c1\",\"queueingStrategy\":"
        "\"StrictFIFO\"}}]",
        TABLE_INCLUDE_METADATA, NULL);
    check_shape(t, 9, 2, TABLE_INCLUDE_METADATA);
    assert_string_equal(cell_str(t, 0, "Cohort"), "research");
    assert_string_equal(cell_str(t, 0, "Strategy"), "BestEffortFIFO");
    assert_string_equal(cell_str(t, 0, "Pending Workloads"), "3");
    assert_string_equal(cell_str(t, 0, "Admitted Workloads"), "2");
    assert_string_equal(cell_str(t, 0, "Quota"), "cpu=64500m,nvidia.com/gpu=24");
    assert_string_equal(cell_str(t, 0, "Usage"), "nvidia.com/gpu=12/24");
    assert_string_equal(cell_str(t, 0, "Reserved"), "<none>");
    assert_string_equal(cell_str(t, 1, "Cohort"), "c1");
    assert_string_equal(cell_str(t, 1, "Strategy"), "StrictFIFO");
    assert_string_equal(cell_str(t, 1, "Pending Workloads"), "0");
    assert_int_equal(col_priority(t, "Usage"), 1);
    json_decref(t);

    t = convert(
        "Workload",
        "[{\"metadata\":{\"name\":\"w\",\"namespace\":\"t\"},\"spec\":{\"queueName\":\"lq\","
        "\"priority\":100},\"status\":{\"conditions\":[{\"type\":\"QuotaReserved\","
        "\"status\":\"False\",\"reason\":\"Pending\",\"message\":\"couldn't assign flavors "
        "to pod set main: insufficient quota\"}]}},"
        "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"queueName\":\"lq\"},\"status\":{"
        "\"admission\":{\"clusterQueue\":\"cq\"},\"conditions\":[{\"type\":\"Admitted\","
        "\"status\":\"True\"},{\"type\":\"Finished\",\"status\":\"False\"}]}}]",
        TABLE_INCLUDE_METADATA, NULL);
    check_shape(t, 8, 2, TABLE_INCLUDE_METADATA);
    assert_string_equal(cell_str(t, 0, "Queue"), "lq");
    assert_string_equal(cell_str(t, 0, "Reserved In"), "");
    assert_string_equal(cell_str(t, 0, "Priority"), "100");
    assert_non_null(strstr(cell_str(t, 0, "Pending Reason"), "insufficient quota"));
    assert_string_equal(cell_str(t, 1, "Reserved In"), "cq");
    assert_string_equal(cell_str(t, 1, "Admitted"), "True");
    assert_string_equal(cell_str(t, 1, "Finished"), "False");
    assert_string_equal(cell_str(t, 1, "Priority"), "<null>");
    json_decref(t);

    static const struct {
        const char *kind, *objs, *col, *want;
        size_t ncols;
    } cs[] = {
        {"ResourceFlavor",
         "[{\"metadata\":{\"name\":\"h100\"},\"spec\":{\"nodeLabels\":{\"b\":\"2\",\"a\":\"1\"}}}]",
         "Node Labels", "a=1,b=2", 5},
        {"Cohort", "[{\"metadata\":{\"name\":\"c\"},\"spec\":{\"parentName\":\"org\"}}]", "Parent",
         "org", 3},
        {"LocalQueue",
         "[{\"metadata\":{\"name\":\"q\"},\"spec\":{\"clusterQueue\":\"cq\"},\"status\":{"
         "\"pendingWorkloads\":4}}]",
         "ClusterQueue", "cq", 5},
        {"WorkloadPriorityClass", "[{\"metadata\":{\"name\":\"hi\"},\"value\":1000}]", "Value",
         "1000", 4},
        {"Topology",
         "[{\"metadata\":{\"name\":\"t\"},\"spec\":{\"levels\":[{\"nodeLabel\":\"block\"},"
         "{\"nodeLabel\":\"rack\"}]}}]",
         "Levels", "block,rack", 3},
        {"PriorityClass", "[{\"metadata\":{\"name\":\"p\"},\"value\":5,\"globalDefault\":true}]",
         "Global-Default", "true", 5},
        {"Namespace", "[{\"metadata\":{\"name\":\"default\"}}]", "Status", "Active", 3},
        {"Lease", "[{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":\"me\"}}]",
         "Holder", "me", 3},
        {"Job",
         "[{\"metadata\":{\"name\":\"j\",\"labels\":{\"kueue.x-k8s.io/queue-name\":\"lq\"}},"
         "\"spec\":{\"completions\":4},\"status\":{\"succeeded\":1,\"startTime\":"
         "\"2026-11-23T23:00:00Z\"}}]",
         "Completions", "1/4", 8},
        {"Job",
         "[{\"metadata\":{\"name\":\"j\"},\"status\":{\"startTime\":\"2026-11-23T23:00:00Z\","
         "\"completionTime\":\"2026-11-23T23:05:00Z\",\"conditions\":[{\"type\":\"Complete\","
         "\"status\":\"True\"}]}}]",
         "Duration", "5m", 8},
        {"Event",
         "[{\"metadata\":{\"name\":\"e\"},\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},"
         "\"reason\":\"Scheduled\",\"type\":\"Normal\",\"message\":\"assigned\",\"lastTimestamp\":"
         "\"2026-11-23T23:59:30Z\",\"count\":3}]",
         "Object", "pod/p", 9},
        {"Event",
         "[{\"metadata\":{\"name\":\"e\"},\"regarding\":{\"kind\":\"Pod\",\"name\":\"p\"},"
         "\"note\":\"from events.k8s.io\",\"eventTime\":\"2026-11-23T23:59:30Z\"}]",
         "Message", "from events.k8s.io", 9},
        {"ResourceSlice",
         "[{\"metadata\":{\"name\":\"s\"},\"spec\":{\"driver\":\"gpu.nvidia.com\",\"nodeName\":"
         "\"n1\",\"pool\":{\"name\":\"n1\"}}}]",
         "Driver", "gpu.nvidia.com", 5},
        {"ResourceClaim",
         "[{\"metadata\":{\"name\":\"c\"},\"status\":{\"allocation\":{},\"reservedFor\":[{}]}}]",
         "State", "allocated,reserved", 3},
        {"DeviceClass", "[{\"metadata\":{\"name\":\"gpu.nvidia.com\"}}]", "Name", "gpu.nvidia.com",
         2},
        {"SomethingNew",
         "[{\"metadata\":{\"name\":\"x\",\"creationTimestamp\":"
         "\"2026-11-21T00:00:00Z\"}}]",
         "Age", "3d", 2},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        t = convert(cs[i].kind, cs[i].objs, TABLE_INCLUDE_METADATA, NULL);
        check_shape(t, cs[i].ncols, 1, TABLE_INCLUDE_METADATA);
        if (strcmp(cell_str(t, 0, cs[i].col), cs[i].want))
            fail_msg("%s %s: got %s, want %s", cs[i].kind, cs[i].col, cell_str(t, 0, cs[i].col),
                     cs[i].want);
        json_decref(t);
    }
}

/* Every served kind converts (the generic one where no specific converter). */
static void test_every_registry_kind(void **state)
{
    for (size_t i = 0; i < api_registry_len(); i++) {
        const struct api_kind *k = api_registry_kind(i);
        json_t *t =
            convert(k->kind, "[{\"metadata\":{\"name\":\"x\"}},{}]", TABLE_INCLUDE_METADATA, NULL);
        json_t *cols = table_columns(k->kind);
        check_shape(t, json_array_size(cols), 2, TABLE_INCLUDE_METADATA);
        json_decref(cols);
        json_decref(t);
    }
}

static void test_list_metadata_and_errors(void **state)
{
    json_t *objs = J("[]");
    struct table_opts o = {.resource_version = "7", .continue_token = "abc"};
    struct err e;
    json_t *t = table_convert("Pod", objs, &o, &e);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(t, "metadata"), "continue")), "abc");
    assert_int_equal(json_array_size(json_object_get(t, "rows")), 0);
    json_decref(t);
    json_decref(objs);
    objs = J("[1]");
    assert_null(table_convert("Pod", objs, &o, &e));
    assert_non_null(strstr(e.msg, "item 0"));
    json_decref(objs);
    objs = J("{}");
    assert_null(table_convert("Pod", objs, &o, &e));
    json_decref(objs);
}

/* Hostile objects: wrong types everywhere still give a well-formed table. */
static void test_wrong_types_do_not_crash(void **state)
{
    static const char *const kinds[] = {"Node",         "Pod",      "Event",          "Job",
                                        "ClusterQueue", "Workload", "ResourceFlavor", "Topology",
                                        "PriorityClass"};
    const char *objs =
        "[{\"metadata\":{\"name\":7,\"labels\":[1],\"creationTimestamp\":5},\"spec\":[],"
        "\"status\":{\"conditions\":{},\"allocatable\":\"x\",\"containerStatuses\":[1,\"a\"],"
        "\"flavorsUsage\":[{\"resources\":[{\"name\":1,\"total\":{}}]}]},\"value\":\"x\"},"
        "{\"metadata\":{\"labels\":{\"x/rack\":1,\"node-role.kubernetes.io/\":\"\"}},\"spec\":{"
        "\"levels\":[1,{}],\"nodeLabels\":{\"a\":2},\"nodeTaints\":[{}],\"containers\":{}},"
        "\"status\":{\"allocatable\":{\"nvidia.com/gpu\":\"bogus\"}}}]";
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        json_t *pods = J("[1,{\"spec\":{\"nodeName\":1}}]");
        json_t *t = convert(kinds[i], objs, TABLE_INCLUDE_METADATA, pods);
        json_t *cols = table_columns(kinds[i]);
        check_shape(t, json_array_size(cols), 2, TABLE_INCLUDE_METADATA);
        json_decref(cols);
        json_decref(t);
        json_decref(pods);
    }
}

/* Sums that would overflow int64 saturate instead (UBSan checks). */
static void test_huge_values_saturate(void **state)
{
    json_t *pods = J("[{\"spec\":{\"nodeName\":\"n\",\"containers\":["
                     "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"9e15\"}}},"
                     "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"9e15\"}}}]}},"
                     "{\"spec\":{\"nodeName\":\"n\",\"containers\":["
                     "{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"9e15\"}}}]}}]");
    json_t *t = convert("Node",
                        "[{\"metadata\":{\"name\":\"n\",\"creationTimestamp\":"
                        "\"0001-01-01T00:00:00Z\"},\"status\":{\"allocatable\":{"
                        "\"nvidia.com/gpu\":\"9e15\"}}}]",
                        TABLE_INCLUDE_NONE, pods);
    check_shape(t, 13, 1, TABLE_INCLUDE_NONE);
    json_decref(t);
    json_decref(pods);
    t = convert("Pod",
                "[{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{}]},\"status\":{"
                "\"containerStatuses\":[{\"restartCount\":9223372036854775807},"
                "{\"restartCount\":9223372036854775807}]}}]",
                TABLE_INCLUDE_NONE, NULL);
    assert_string_equal(cell_str(t, 0, "Restarts"), "9223372036854775807");
    json_decref(t);
    t = convert("ClusterQueue",
                "[{\"metadata\":{\"name\":\"c\"},\"spec\":{\"resourceGroups\":[{\"flavors\":["
                "{\"resources\":[{\"name\":\"x\",\"nominalQuota\":\"9e15\"}]},"
                "{\"resources\":[{\"name\":\"x\",\"nominalQuota\":\"9e15\"}]}]}]}}]",
                TABLE_INCLUDE_NONE, NULL);
    check_shape(t, 9, 1, TABLE_INCLUDE_NONE);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_format),
        cmocka_unit_test(test_include_parse),
        cmocka_unit_test(test_nodes),
        cmocka_unit_test(test_pods),
        cmocka_unit_test(test_kueue_kinds),
        cmocka_unit_test(test_every_registry_kind),
        cmocka_unit_test(test_list_metadata_and_errors),
        cmocka_unit_test(test_wrong_types_do_not_crash),
        cmocka_unit_test(test_huge_values_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
