/* Tests for api/patch: merge patch (RFC 7386), JSON Patch (RFC 6902), strategic
 * merge patch as kubectl sends it, server-side apply with managedFields and
 * conflicts, and a fuzz loop of random patches against random documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/patch.h"
#include "base/rng.h"

static json_t *J(const char *s)
{
    json_error_t je;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
    if (!v)
        fail_msg("bad test JSON %s: %s", s, je.text);
    return v;
}

static void assert_json(json_t *got, const char *want, const char *label)
{
    json_t *w = J(want);
    if (!json_equal(got, w)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("%s:\n  got  %s\n  want %s\n", label, g, ws);
        free(g);
        free(ws);
        json_decref(w);
        fail();
    }
    json_decref(w);
}

/* One case: doc, patch, and either the result or an error code with a piece of
 * the message. */
struct pcase {
    const char *name, *doc, *patch, *want;
    int code;
    const char *msg;
};

enum which { MERGE, JSONP, SMP };

static void run_cases(const struct pcase *cs, size_t n, enum which w, const char *kind)
{
    for (size_t i = 0; i < n; i++) {
        json_t *doc = J(cs[i].doc), *patch = J(cs[i].patch);
        json_t *before = json_deep_copy(doc);
        struct err e = {0};
        json_t *out = w == MERGE   ? patch_merge(doc, patch, &e)
                      : w == JSONP ? patch_json(doc, patch, &e)
                                   : patch_strategic(doc, patch, kind, &e);
        if (cs[i].want) {
            if (!out)
                fail_msg("%s: unexpected error %d: %s", cs[i].name, e.code, e.msg);
            assert_json(out, cs[i].want, cs[i].name);
        } else {
            if (out)
                fail_msg("%s: expected error, got a result", cs[i].name);
            if (e.code != cs[i].code)
                fail_msg("%s: code %d, want %d (%s)", cs[i].name, e.code, cs[i].code, e.msg);
            if (cs[i].msg && !strstr(e.msg, cs[i].msg))
                fail_msg("%s: message \"%s\" lacks \"%s\"", cs[i].name, e.msg, cs[i].msg);
        }
        /* The input is never changed. */
        assert_true(json_equal(doc, before));
        json_decref(out);
        json_decref(before);
        json_decref(doc);
        json_decref(patch);
    }
}

/* ---- RFC 7386 ------------------------------------------------------------ */

static void test_merge_patch_cases(void **state)
{
    static const struct pcase cs[] = {
        {"replace member", "{\"q\":\"a\"}", "{\"q\":\"b\"}", "{\"q\":\"b\"}", 0, NULL},
        {"add member", "{\"q\":\"a\"}", "{\"r\":\"c\"}", "{\"q\":\"a\",\"r\":\"c\"}", 0, NULL},
        {"null removes", "{\"q\":\"a\",\"r\":1}", "{\"q\":null}", "{\"r\":1}", 0, NULL},
        {"remove absent is fine", "{\"q\":1}", "{\"z\":null}", "{\"q\":1}", 0, NULL},
        {"array replaced", "{\"l\":[\"x\"]}", "{\"l\":\"y\"}", "{\"l\":\"y\"}", 0, NULL},
        {"scalar to array", "{\"l\":\"y\"}", "{\"l\":[\"x\"]}", "{\"l\":[\"x\"]}", 0, NULL},
        {"nested", "{\"s\":{\"a\":1,\"b\":2}}", "{\"s\":{\"a\":null,\"c\":3}}",
         "{\"s\":{\"b\":2,\"c\":3}}", 0, NULL},
        {"arrays are values", "{\"l\":[{\"a\":1,\"b\":2}]}", "{\"l\":[{\"a\":3}]}",
         "{\"l\":[{\"a\":3}]}", 0, NULL},
        {"array patch replaces doc", "{\"a\":1}", "[\"x\",\"y\"]", "[\"x\",\"y\"]", 0, NULL},
        {"string patch replaces doc", "[1]", "\"s\"", "\"s\"", 0, NULL},
        {"null patch replaces doc", "{\"a\":1}", "null", "null", 0, NULL},
        {"object into scalar", "7", "{\"a\":1}", "{\"a\":1}", 0, NULL},
        {"nulls in new subtree dropped", "{}", "{\"a\":{\"b\":null,\"c\":2}}", "{\"a\":{\"c\":2}}",
         0, NULL},
        {"nulls inside arrays kept", "{}", "{\"a\":[null,1]}", "{\"a\":[null,1]}", 0, NULL},
        {"empty patch", "{\"a\":1}", "{}", "{\"a\":1}", 0, NULL},
        {"kubectl label", "{\"metadata\":{\"name\":\"n\",\"labels\":{\"a\":\"1\"}}}",
         "{\"metadata\":{\"labels\":{\"b\":\"2\",\"a\":null}}}",
         "{\"metadata\":{\"name\":\"n\",\"labels\":{\"b\":\"2\"}}}", 0, NULL},
    };
    run_cases(cs, sizeof cs / sizeof cs[0], MERGE, NULL);
}

/* ---- RFC 6902 ------------------------------------------------------------ */

static void test_json_patch_cases(void **state)
{
    static const struct pcase cs[] = {
        {"add member", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":[2]}]",
         "{\"a\":1,\"b\":[2]}", 0, NULL},
        {"add replaces member", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":2}]",
         "{\"a\":2}", 0, NULL},
        {"add array element", "{\"l\":[\"x\",\"z\"]}",
         "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":\"y\"}]", "{\"l\":[\"x\",\"y\",\"z\"]}", 0,
         NULL},
        {"add at end index", "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":2}]",
         "{\"l\":[1,2]}", 0, NULL},
        {"add dash appends", "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":[3]}]",
         "{\"l\":[1,[3]]}", 0, NULL},
        {"add null value", "{}", "[{\"op\":\"add\",\"path\":\"/n\",\"value\":null}]",
         "{\"n\":null}", 0, NULL},
        {"add whole doc", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]",
         "{\"b\":2}", 0, NULL},
        {"add nested member", "{\"s\":{}}", "[{\"op\":\"add\",\"path\":\"/s/t\",\"value\":1}]",
         "{\"s\":{\"t\":1}}", 0, NULL},
        {"empty key", "{}", "[{\"op\":\"add\",\"path\":\"/\",\"value\":1}]", "{\"\":1}", 0, NULL},
        {"remove member", "{\"a\":1,\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", "{\"b\":2}",
         0, NULL},
        {"remove element", "{\"l\":[1,2,3]}", "[{\"op\":\"remove\",\"path\":\"/l/1\"}]",
         "{\"l\":[1,3]}", 0, NULL},
        {"replace", "{\"a\":1,\"b\":2}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":9}]",
         "{\"a\":9,\"b\":2}", 0, NULL},
        {"replace element", "{\"l\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/l/0\",\"value\":7}]",
         "{\"l\":[7,2]}", 0, NULL},
        {"replace root", "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]",
         0, NULL},
        {"move member", "{\"s\":{\"a\":1},\"t\":{}}",
         "[{\"op\":\"move\",\"from\":\"/s/a\",\"path\":\"/t/b\"}]", "{\"s\":{},\"t\":{\"b\":1}}", 0,
         NULL},
        {"move element", "{\"l\":[\"a\",\"b\",\"c\",\"d\"]}",
         "[{\"op\":\"move\",\"from\":\"/l/1\",\"path\":\"/l/3\"}]",
         "{\"l\":[\"a\",\"c\",\"d\",\"b\"]}", 0, NULL},
        {"move to itself", "{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
         "{\"a\":1}", 0, NULL},
        {"copy", "{\"a\":{\"x\":1}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
         "{\"a\":{\"x\":1},\"b\":{\"x\":1}}", 0, NULL},
        {"test ok then add", "{\"a\":\"v\"}",
         "[{\"op\":\"test\",\"path\":\"/a\",\"value\":\"v\"},{\"op\":\"add\",\"path\":\"/"
         "b\",\"value\":1}]",
         "{\"a\":\"v\",\"b\":1}", 0, NULL},
        {"test numbers by value", "{\"n\":1}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.0}]",
         "{\"n\":1}", 0, NULL},
        {"test object member order", "{\"o\":{\"a\":1,\"b\":2}}",
         "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"b\":2,\"a\":1}}]",
         "{\"o\":{\"a\":1,\"b\":2}}", 0, NULL},
        {"escapes ~1 and ~0", "{\"a/b\":1,\"m~n\":2}",
         "[{\"op\":\"test\",\"path\":\"/a~1b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/"
         "m~0n\"}]",
         "{\"a/b\":1}", 0, NULL},
        {"~01 is ~1 not /", "{\"~1\":5}", "[{\"op\":\"remove\",\"path\":\"/~01\"}]", "{}", 0, NULL},
        {"unknown members ignored", "{}",
         "[{\"op\":\"add\",\"path\":\"/a\",\"value\":1,\"extra\":true}]", "{\"a\":1}", 0, NULL},
        {"annotation with slash", "{\"metadata\":{\"annotations\":{}}}",
         "[{\"op\":\"add\",\"path\":\"/metadata/annotations/example.com~1gpu\",\"value\":\"0,1\"}]",
         "{\"metadata\":{\"annotations\":{\"example.com/gpu\":\"0,1\"}}}", 0, NULL},
        {"empty patch", "{\"a\":1}", "[]", "{\"a\":1}", 0, NULL},
        /* errors */
        {"not an array", "{}", "{\"op\":\"add\"}", NULL, PATCH_EBAD, "not an array"},
        {"op not object", "{}", "[1]", NULL, PATCH_EBAD, "not an object"},
        {"missing op", "{}", "[{\"path\":\"/a\"}]", NULL, PATCH_EBAD, "\"op\""},
        {"unknown op", "{}", "[{\"op\":\"merge\",\"path\":\"/a\"}]", NULL, PATCH_EBAD,
         "unknown op"},
        {"missing path", "{}", "[{\"op\":\"add\",\"value\":1}]", NULL, PATCH_EBAD, "\"path\""},
        {"missing value", "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, PATCH_EBAD,
         "\"value\""},
        {"missing from", "{}", "[{\"op\":\"move\",\"path\":\"/a\"}]", NULL, PATCH_EBAD, "\"from\""},
        {"pointer without slash", "{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL,
         PATCH_EBAD, "not a JSON pointer"},
        {"bad escape", "{}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", NULL, PATCH_EBAD,
         "bad escape"},
        {"add to missing parent", "{}", "[{\"op\":\"add\",\"path\":\"/x/y\",\"value\":1}]", NULL,
         PATCH_EUNAPPLY, "parent does not exist"},
        {"add past end", "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":1}]", NULL,
         PATCH_EUNAPPLY, "out of range"},
        {"leading zero index", "{\"l\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/l/01\",\"value\":1}]",
         NULL, PATCH_EUNAPPLY, "out of range"},
        {"add into scalar", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", NULL,
         PATCH_EUNAPPLY, "not an object or array"},
        {"remove missing", "{}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", NULL, PATCH_EUNAPPLY,
         "does not exist"},
        {"remove dash", "{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-\"}]", NULL,
         PATCH_EUNAPPLY, "does not exist"},
        {"remove root", "{}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL, PATCH_EUNAPPLY,
         "whole document"},
        {"replace missing", "{}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":1}]", NULL,
         PATCH_EUNAPPLY, "does not exist"},
        {"move missing", "{}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]", NULL,
         PATCH_EUNAPPLY, "does not exist"},
        {"move into child", "{\"a\":{\"b\":{}}}",
         "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", NULL, PATCH_EUNAPPLY,
         "own child"},
        {"copy missing", "{}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]", NULL,
         PATCH_EUNAPPLY, "does not exist"},
        {"test fails", "{\"a\":\"x\"}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":\"y\"}]", NULL,
         PATCH_EUNAPPLY, "differs"},
        {"test string vs number", "{\"a\":\"10\"}",
         "[{\"op\":\"test\",\"path\":\"/a\",\"value\":10}]", NULL, PATCH_EUNAPPLY, "differs"},
        {"test missing", "{}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]", NULL,
         PATCH_EUNAPPLY, "does not exist"},
        {"all or nothing", "{\"a\":1}",
         "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/zz\"}]",
         NULL, PATCH_EUNAPPLY, "operation 1"},
    };
    run_cases(cs, sizeof cs / sizeof cs[0], JSONP, NULL);
}

static void test_json_patch_copy_bomb_is_capped(void **state)
{
    /* Each copy doubles the document: without a cap 64 operations ask for 2^64
     * values. */
    json_t *ops = json_array();
    for (int i = 0; i < 64; i++)
        json_array_append_new(ops, J("{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}"));
    for (int i = 0; i < 64; i++)
        json_array_append_new(ops, J("{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a\"}"));
    json_t *doc = J("{\"a\":[1,2,3,4,5,6,7,8]}");
    struct err e = {0};
    json_t *out = patch_json(doc, ops, &e);
    assert_null(out);
    assert_int_equal(e.code, PATCH_ELIMIT);
    json_decref(doc);
    json_decref(ops);
}

static void test_depth_cap(void **state)
{
    char buf[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(buf, "{\"a\":");
    strcat(buf, "1");
    for (int i = 0; i < 100; i++)
        strcat(buf, "}");
    json_t *deep = J(buf), *doc = J("{}");
    struct err e = {0};
    assert_null(patch_merge(doc, deep, &e));
    assert_int_equal(e.code, PATCH_ELIMIT);
    assert_null(patch_strategic(doc, deep, "Pod", &e));
    assert_int_equal(e.code, PATCH_ELIMIT);
    json_decref(deep);
    json_decref(doc);
}

static void test_content_types(void **state)
{
    static const struct {
        const char *ct;
        enum patch_type t;
    } cs[] = {
        {"application/merge-patch+json", PATCH_TYPE_MERGE},
        {"application/json-patch+json; charset=utf-8", PATCH_TYPE_JSON},
        {"Application/Strategic-Merge-Patch+JSON", PATCH_TYPE_STRATEGIC},
        {"application/apply-patch+yaml", PATCH_TYPE_APPLY},
        {"application/apply-patch+cbor", PATCH_TYPE_UNKNOWN},
        {"application/json", PATCH_TYPE_UNKNOWN},
        {"", PATCH_TYPE_UNKNOWN},
        {NULL, PATCH_TYPE_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        assert_int_equal(patch_type_from_content_type(cs[i].ct), cs[i].t);
}

/* ---- strategic merge patch ----------------------------------------------- */

#define POD                                                                                        \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"finalizers\":[\"a\","  \
    "\"b\"]},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"img:1\",\"env\":[{\"name\":" \
    "\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80}]}" \
    ","                                                                                            \
    "{\"name\":\"side\",\"image\":\"s:1\"}],\"tolerations\":[{\"key\":\"k1\",\"operator\":"        \
    "\"Exists\"}],\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}]},\"status\":{\"conditions\":[{"  \
    "\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}"

static void test_strategic_cases(void **state)
{
    static const struct pcase cs[] = {
        {"container merged by name", POD,
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"main\"},{\"name\":\"side\"}],"
         "\"containers\":[{\"name\":\"side\",\"image\":\"s:2\"}]}}",
         "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"finalizers\":["
         "\"a\","
         "\"b\"]},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"img:1\",\"env\":[{"
         "\"name\":"
         "\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":"
         "80}]},"
         "{\"name\":\"side\",\"image\":\"s:2\"}],\"tolerations\":[{\"key\":\"k1\",\"operator\":"
         "\"Exists\"}],\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}]},\"status\":{\"conditions\":"
         "[{"
         "\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"PodScheduled\",\"status\":\"True\"}]"
         "}}",
         0, NULL},
        {"env merged by name, new appended",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}"
         "}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"A\",\"value\":\"9\"},"
         "{\"name\":\"C\",\"value\":\"3\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"A\",\"value\":\"9\"},"
         "{\"name\":\"C\",\"value\":\"3\"}]}]}}",
         0, NULL},
        {"delete env entry",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}]}"
         "}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"A\",\"$patch\":"
         "\"delete\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"env\":[{\"name\":\"B\"}]}]}}", 0, NULL},
        {"ports keyed by containerPort",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"ports\":[{\"containerPort\":80,\"name\":"
         "\"h\"}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"ports\":[{\"containerPort\":80,\"protocol\":"
         "\"TCP\"},"
         "{\"containerPort\":443}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"ports\":[{\"containerPort\":80,\"name\":"
         "\"h\","
         "\"protocol\":\"TCP\"},{\"containerPort\":443}]}]}}",
         0, NULL},
        {"tolerations replaced", "{\"spec\":{\"tolerations\":[{\"key\":\"a\"}]}}",
         "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}",
         "{\"spec\":{\"tolerations\":[{\"key\":\"b\"}]}}", 0, NULL},
        {"node taints replaced",
         "{\"spec\":{\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"}]}}",
         "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoSchedule\"}]}}",
         "{\"spec\":{\"taints\":[{\"key\":\"b\",\"effect\":\"NoSchedule\"}]}}", 0, NULL},
        {"cordon", "{\"spec\":{\"podCIDR\":\"10.0.0.0/24\"}}",
         "{\"spec\":{\"unschedulable\":true}}",
         "{\"spec\":{\"podCIDR\":\"10.0.0.0/24\",\"unschedulable\":true}}", 0, NULL},
        {"condition by type (status patch)",
         "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":"
         "\"PodScheduled\",\"status\":\"True\"}]}}",
         "{\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":"
         "\"Unschedulable\",\"lastProbeTime\":null}]}}",
         "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":"
         "\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\"}]}}",
         0, NULL},
        {"ownerReferences by uid",
         "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"name\":\"a\"}]}}",
         "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u2\",\"name\":\"b\"}]}}",
         "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"name\":\"a\"},{\"uid\":\"u2\","
         "\"name\":\"b\"}]}}",
         0, NULL},
        {"finalizers are a set", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}",
         "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}", 0, NULL},
        {"deleteFromPrimitiveList", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"a\"]}}",
         "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}",
         "{\"metadata\":{\"finalizers\":[\"b\"]}}", 0, NULL},
        {"setElementOrder on primitive list", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
         "{\"metadata\":{\"$setElementOrder/finalizers\":[\"b\",\"a\"]}}",
         "{\"metadata\":{\"finalizers\":[\"b\",\"a\"]}}", 0, NULL},
        {"setElementOrder reorders containers",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"s\"}]}}",
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"},{\"name\":\"s\"}]}}", 0,
         NULL},
        {"scalar list replaced",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"args\":[\"x\",\"y\"]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"args\":[\"z\"]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"m\",\"args\":[\"z\"]}]}}", 0, NULL},
        {"$patch replace on a map", "{\"spec\":{\"nodeSelector\":{\"a\":\"1\",\"b\":\"2\"}}}",
         "{\"spec\":{\"nodeSelector\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
         "{\"spec\":{\"nodeSelector\":{\"c\":\"3\"}}}", 0, NULL},
        {"$patch delete on a map", "{\"spec\":{\"affinity\":{\"x\":1},\"a\":1}}",
         "{\"spec\":{\"affinity\":{\"$patch\":\"delete\"}}}", "{\"spec\":{\"a\":1}}", 0, NULL},
        {"$patch delete at top", "{\"a\":1}", "{\"$patch\":\"delete\"}", "{}", 0, NULL},
        {"$patch replace on a list",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\"}]}}",
         "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}", 0, NULL},
        {"$retainKeys",
         "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"m\":1}}}}",
         "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
         "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}", 0, NULL},
        {"null deletes", "{\"spec\":{\"a\":1,\"b\":2}}", "{\"spec\":{\"a\":null}}",
         "{\"spec\":{\"b\":2}}", 0, NULL},
        {"new keyed list created from patch, directives stripped", "{}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}"
         "}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}"
         "}",
         0, NULL},
        /* errors */
        {"missing merge key", "{\"spec\":{\"containers\":[]}}",
         "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", NULL, PATCH_EBAD,
         "spec.containers[0]: does not contain declared merge key \"name\""},
        {"keyed element not an object", "{}", "{\"spec\":{\"volumes\":[\"v\"]}}", NULL, PATCH_EBAD,
         "spec.volumes[0]"},
        {"unknown $patch", "{}", "{\"spec\":{\"$patch\":\"explode\"}}", NULL, PATCH_EBAD,
         "spec: unknown $patch"},
        {"unknown directive", "{}", "{\"spec\":{\"$frobnicate\":1}}", NULL, PATCH_EBAD,
         "unknown directive"},
        {"retainKeys not a list", "{}", "{\"spec\":{\"$retainKeys\":\"a\"}}", NULL, PATCH_EBAD,
         "$retainKeys"},
        {"not an object", "{}", "[1]", NULL, PATCH_EBAD, "not an object"},
    };
    run_cases(cs, sizeof cs / sizeof cs[0], SMP, "Pod");

    /* The Job's pod template has the same keys. */
    static const struct pcase job[] = {
        {"job template containers",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"}]}}}}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"2\"}]}}}}",
         "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},"
         "{\"name\":\"b\",\"image\":\"2\"}]}}}}",
         0, NULL},
    };
    run_cases(job, 1, SMP, "Job");
}

static void test_merge_rule_table(void **state)
{
    static const struct {
        const char *kind, *path;
        enum patch_list_strategy s;
        const char *key;
    } cs[] = {
        {"Pod", "spec.containers", PATCH_LIST_MAP, "name"},
        {"Pod", "spec.initContainers.env", PATCH_LIST_MAP, "name"},
        {"Pod", "spec.ephemeralContainers.ports", PATCH_LIST_MAP, "containerPort"},
        {"Pod", "spec.containers.volumeMounts", PATCH_LIST_MAP, "mountPath"},
        {"Pod", "spec.volumes", PATCH_LIST_MAP, "name"},
        {"Pod", "spec.tolerations", PATCH_LIST_ATOMIC, NULL},
        {"Pod", "spec.containers.args", PATCH_LIST_ATOMIC, NULL},
        {"Node", "spec.taints", PATCH_LIST_ATOMIC, NULL},
        {"Node", "status.conditions", PATCH_LIST_MAP, "type"},
        {"Node", "status.addresses", PATCH_LIST_MAP, "type"},
        {"Job", "spec.template.spec.containers.env", PATCH_LIST_MAP, "name"},
        {"Workload", "spec.podSets", PATCH_LIST_MAP, "name"},
        {"Workload", "spec.podSets.template.spec.containers", PATCH_LIST_MAP, "name"},
        {"Namespace", "metadata.ownerReferences", PATCH_LIST_MAP, "uid"},
        {"ClusterQueue", "metadata.finalizers", PATCH_LIST_SET, NULL},
        {"ClusterQueue", "spec.resourceGroups", PATCH_LIST_ATOMIC, NULL},
        {NULL, "spec.containers", PATCH_LIST_ATOMIC, NULL},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        struct patch_merge_rule r = patch_merge_rule_find(cs[i].kind, cs[i].path);
        assert_int_equal(r.strategy, cs[i].s);
        if (cs[i].key)
            assert_string_equal(r.key, cs[i].key);
        else
            assert_null(r.key);
    }
}

/* ---- server-side apply --------------------------------------------------- */

static json_t *apply_ok(json_t *live, const char *cfg, const char *mgr, bool force)
{
    json_t *c = J(cfg);
    struct err e = {0};
    struct patch_apply_opts o = {
        .kind = "Pod", .manager = mgr, .now = "2026-11-24T00:00:00Z", .force = force};
    json_t *out = patch_apply(live, c, &o, &e);
    if (!out)
        fail_msg("apply by %s failed: %s", mgr, e.msg);
    json_decref(c);
    return out;
}

static json_t *managed_entry(json_t *obj, const char *mgr, const char *op)
{
    size_t i;
    json_t *en;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, en)
    {
        if (!strcmp(json_string_value(json_object_get(en, "manager")), mgr) &&
            !strcmp(json_string_value(json_object_get(en, "operation")), op))
            return en;
    }
    return NULL;
}

static void test_apply_create_records_fields(void **state)
{
    json_t *out = apply_ok(NULL,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                           "\"labels\":{\"app\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                           "\"image\":\"i:1\"}]}}",
                           "kubectl", false);
    json_t *en = managed_entry(out, "kubectl", "Apply");
    assert_non_null(en);
    assert_string_equal(json_string_value(json_object_get(en, "apiVersion")), "v1");
    assert_string_equal(json_string_value(json_object_get(en, "fieldsType")), "FieldsV1");
    assert_string_equal(json_string_value(json_object_get(en, "time")), "2026-11-24T00:00:00Z");
    assert_json(json_object_get(en, "fieldsV1"),
                "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:containers\":"
                "{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}",
                "fieldsV1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(out, "metadata"), "name")), "p");
    json_decref(out);
}

static void test_apply_removes_fields_no_longer_applied(void **state)
{
    json_t *v1 = apply_ok(NULL,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                          "\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"containers\":["
                          "{\"name\":\"c\",\"image\":\"i\"},{\"name\":\"d\",\"image\":\"j\"}]}}",
                          "kubectl", false);
    /* Another writer adds a label of its own; the apply must leave it alone. */
    json_t *v1b = json_deep_copy(v1);
    json_object_set_new(json_object_get(json_object_get(v1b, "metadata"), "labels"), "team",
                        json_string("ml"));
    struct err e = {0};
    assert_int_equal(
        patch_managed_update(v1b, v1, "Pod", "kubectl-label", "v1", "2026-11-24T00:00:01Z", &e), 0);
    json_t *v2 = apply_ok(v1b,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                          "\"labels\":{\"a\":\"1\"}},\"spec\":{\"containers\":["
                          "{\"name\":\"c\",\"image\":\"i2\"}]}}",
                          "kubectl", false);
    assert_json(json_object_get(json_object_get(v2, "metadata"), "labels"),
                "{\"a\":\"1\",\"team\":\"ml\"}", "labels");
    assert_json(json_object_get(v2, "spec"), "{\"containers\":[{\"name\":\"c\",\"image\":\"i2\"}]}",
                "spec");
    assert_non_null(managed_entry(v2, "kubectl-label", "Update"));
    json_decref(v1);
    json_decref(v1b);
    json_decref(v2);
}

static void test_apply_conflict_and_force(void **state)
{
    json_t *v1 =
        apply_ok(NULL,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                 "\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
                 "alice", false);
    /* Bob sets the same value: shared ownership, no conflict. */
    json_t *v2 = apply_ok(v1,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                          "\"spec\":{\"priority\":1}}",
                          "bob", false);
    /* Bob changes the image alice owns: a conflict naming alice and the field. */
    json_t *c = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"evil\"}]}}");
    json_t *causes = NULL;
    struct err e = {0};
    struct patch_apply_opts o = {.kind = "Pod", .manager = "bob", .now = "t", .causes = &causes};
    assert_null(patch_apply(v2, c, &o, &e));
    assert_int_equal(e.code, PATCH_ECONFLICT);
    assert_non_null(strstr(e.msg, "Apply failed with 1 conflict: conflict with \"alice\""));
    assert_non_null(strstr(e.msg, ".spec.containers[name=\"c\"].image"));
    assert_int_equal(json_array_size(causes), 1);
    json_t *c0 = json_array_get(causes, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "type")), "FieldManagerConflict");
    assert_string_equal(json_string_value(json_object_get(c0, "field")),
                        ".spec.containers[name=\"c\"].image");
    json_decref(causes);
    /* With force, bob takes the field over; alice no longer owns it. */
    o.force = true;
    o.causes = NULL;
    json_t *v3 = patch_apply(v2, c, &o, &e);
    assert_non_null(v3);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(v3, "spec"), "containers"), 0),
            "image")),
        "evil");
    json_t *alice = json_object_get(managed_entry(v3, "alice", "Apply"), "fieldsV1");
    json_t *ck = json_object_get(json_object_get(json_object_get(alice, "f:spec"), "f:containers"),
                                 "k:{\"name\":\"c\"}");
    assert_non_null(ck);
    assert_null(json_object_get(ck, "f:image"));
    /* An update (kubectl edit) that changes bob's field makes a later apply
     * by bob conflict with it. */
    json_t *v4 = json_deep_copy(v3);
    json_object_set_new(json_object_get(v4, "spec"), "priority", json_integer(5));
    assert_int_equal(patch_managed_update(v4, v3, "Pod", "kubectl-edit", "v1", "t", &e), 0);
    json_t *c2 = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                   "\"spec\":{\"priority\":1}}");
    o.force = false;
    assert_null(patch_apply(v4, c2, &o, &e));
    assert_int_equal(e.code, PATCH_ECONFLICT);
    assert_non_null(strstr(e.msg, "kubectl-edit"));
    json_decref(c2);
    json_decref(v4);
    json_decref(v3);
    json_decref(c);
    json_decref(v1);
    json_decref(v2);
}

/* An update that changes a field inside a keyed element takes that field,
 * not the element: the applier keeps the element and the rest of it. */
static void test_update_takes_fields_not_elements(void **state)
{
    json_t *v1 = apply_ok(NULL,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                          "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
                          "alice", false);
    json_t *v2 = json_deep_copy(v1);
    json_object_set_new(
        json_array_get(json_object_get(json_object_get(v2, "spec"), "containers"), 0), "image",
        json_string("j"));
    struct err e = {0};
    assert_int_equal(patch_managed_update(v2, v1, "Pod", "editor", "v1", "t", &e), 0);
    json_t *alice = json_object_get(managed_entry(v2, "alice", "Apply"), "fieldsV1");
    assert_json(alice,
                "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},"
                "\"f:name\":{}}}}}",
                "alice keeps the element");
    json_t *ed = json_object_get(managed_entry(v2, "editor", "Update"), "fieldsV1");
    assert_json(ed,
                "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{"
                "\"f:image\":{}}}}}",
                "editor owns the image");
    /* Re-applying alice's old image now conflicts with the editor. */
    json_t *c = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}");
    struct patch_apply_opts o = {.kind = "Pod", .manager = "alice", .now = "t"};
    assert_null(patch_apply(v2, c, &o, &e));
    assert_int_equal(e.code, PATCH_ECONFLICT);
    assert_non_null(strstr(e.msg, "\"editor\""));
    json_decref(c);
    json_decref(v1);
    json_decref(v2);
}

/* An update deep inside a large object (a Job's unsuspension beside its pod
 * template) takes the one field it changed; a field it removes leaves the set of
 * whoever owned it; the creator keeps the rest. */
static void test_update_deep_field(void **state)
{
    json_t *v1 = apply_ok(NULL,
                          "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":"
                          "\"j\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}},\"spec\":{\"suspend\":true,"
                          "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"x\":{\"y\":1,"
                          "\"z\":2}}}}}",
                          "alice", false);
    json_t *v2 = json_deep_copy(v1);
    json_t *spec = json_object_get(v2, "spec");
    json_object_set_new(spec, "suspend", json_false());
    json_object_del(json_object_get(json_object_get(json_object_get(spec, "template"), "spec"), "x"),
                    "z");
    json_object_set_new(json_object_get(json_object_get(v2, "metadata"), "labels"), "a",
                        json_string("9"));
    struct err e = {0};
    assert_int_equal(patch_managed_update(v2, v1, "Job", "ctrl", "v1", "t", &e), 0);
    assert_json(json_object_get(managed_entry(v2, "ctrl", "Update"), "fieldsV1"),
                "{\"f:metadata\":{\"f:labels\":{\"f:a\":{}}},\"f:spec\":{\"f:suspend\":{}}}",
                "the updater owns what it changed");
    assert_json(json_object_get(managed_entry(v2, "alice", "Apply"), "fieldsV1"),
                "{\"f:metadata\":{\"f:labels\":{\"f:b\":{}}},\"f:spec\":{\"f:template\":{"
                "\"f:spec\":{\"f:restartPolicy\":{},\"f:x\":{\"f:y\":{}}}}}}",
                "the creator keeps the rest, less the removed field");
    json_decref(v1);
    json_decref(v2);
}

/* An object with more managedFields entries than the cap still takes writes;
 * the extra entries are dropped. */
static void test_too_many_managers_still_writable(void **state)
{
    json_t *obj = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                    "\"managedFields\":[]},\"spec\":{\"a\":1}}");
    json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%d", i);
        json_array_append_new(mf, json_pack("{ss ss s{s{s{}}}}", "manager", name, "operation",
                                            "Update", "fieldsV1", "f:spec", "f:a"));
    }
    json_t *out = apply_ok(obj,
                           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                           "\"spec\":{\"b\":2}}",
                           "late", false);
    json_t *omf = json_object_get(json_object_get(out, "metadata"), "managedFields");
    assert_true(json_array_size(omf) <= 64);
    assert_non_null(managed_entry(out, "late", "Apply"));
    struct err e = {0};
    json_t *upd = json_deep_copy(obj);
    json_object_set_new(json_object_get(upd, "spec"), "c", json_integer(3));
    assert_int_equal(patch_managed_update(upd, obj, "Pod", "editor", "v1", "t", &e), 0);
    assert_non_null(managed_entry(upd, "editor", "Update"));
    json_decref(upd);
    json_decref(out);
    json_decref(obj);
}

static void test_apply_errors(void **state)
{
    struct err e = {0};
    json_t *c = J("[1]");
    struct patch_apply_opts o = {.manager = "m"};
    assert_null(patch_apply(NULL, c, &o, &e));
    assert_int_equal(e.code, PATCH_EBAD);
    json_decref(c);
    c = J("{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}");
    o.kind = "Pod";
    assert_null(patch_apply(NULL, c, &o, &e));
    assert_int_equal(e.code, PATCH_EBAD);
    assert_non_null(strstr(e.msg, "spec.containers[0]"));
    o.manager = "";
    assert_null(patch_apply(NULL, c, &o, &e));
    assert_int_equal(e.code, PATCH_EBAD);
    json_decref(c);
}

static void test_apply_ignores_status_when_asked(void **state)
{
    json_t *c = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                  "\"status\":{\"phase\":\"Running\"}}");
    struct err e = {0};
    struct patch_apply_opts o = {
        .kind = "Pod", .manager = "m", .flags = PATCH_APPLY_F_IGNORE_STATUS};
    json_t *out = patch_apply(NULL, c, &o, &e);
    assert_non_null(out);
    assert_null(json_object_get(out, "status"));
    json_decref(out);
    json_decref(c);
}

/* ---- fuzz ---------------------------------------------------------------- */

static json_t *rand_value(struct rng *r, int depth)
{
    static const char *const keys[] = {"a",
                                       "b",
                                       "name",
                                       "containers",
                                       "env",
                                       "$patch",
                                       "$retainKeys",
                                       "$setElementOrder/containers",
                                       "$deleteFromPrimitiveList/finalizers",
                                       "finalizers",
                                       "spec",
                                       "metadata",
                                       "f:spec",
                                       "k:{\"name\":\"a\"}",
                                       "."};
    uint64_t k = rng_next(r) % (depth > 4 ? 4 : 7);
    switch (k) {
    case 0:
        return json_null();
    case 1:
        return json_integer((json_int_t)(rng_next(r) % 5));
    case 2: {
        static const char *const s[] = {"a", "delete", "replace", "merge", "/a", "/a/0", "", "-"};
        return json_string(s[rng_next(r) % 8]);
    }
    case 3:
        return json_boolean(rng_next(r) & 1);
    case 4:
    case 5: {
        json_t *o = json_object();
        int n = (int)(rng_next(r) % 4);
        for (int i = 0; i < n; i++)
            json_object_set_new(o, keys[rng_next(r) % (sizeof keys / sizeof keys[0])],
                                rand_value(r, depth + 1));
        return o;
    }
    default: {
        json_t *a = json_array();
        int n = (int)(rng_next(r) % 4);
        for (int i = 0; i < n; i++)
            json_array_append_new(a, rand_value(r, depth + 1));
        return a;
    }
    }
}

static json_t *rand_ops(struct rng *r)
{
    static const char *const ops[] = {"add", "remove", "replace", "move", "copy", "test", "x"};
    static const char *const paths[] = {"",       "/a",  "/a/0", "/a/-", "/b/a", "/spec",
                                        "/a/b/c", "/~0", "/~1",  "/0",   "/a/1", "/b"};
    json_t *arr = json_array();
    int n = (int)(rng_next(r) % 6);
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "op", json_string(ops[rng_next(r) % 7]));
        json_object_set_new(o, "path", json_string(paths[rng_next(r) % 12]));
        json_object_set_new(o, "from", json_string(paths[rng_next(r) % 12]));
        if (rng_next(r) % 4)
            json_object_set_new(o, "value", rand_value(r, 2));
        json_array_append_new(arr, o);
    }
    return arr;
}

static void test_fuzz_random_patches(void **state)
{
    struct rng r;
    rng_seed(&r, 7);
    static const char *const kinds[] = {"Pod", "Node", "Workload", NULL};
    for (int i = 0; i < 10000; i++) {
        json_t *doc = rand_value(&r, 0), *patch = rand_value(&r, 0), *ops = rand_ops(&r);
        const char *kind = kinds[rng_next(&r) % 4];
        struct err e;
        json_decref(patch_merge(doc, patch, &e));
        json_decref(patch_json(doc, ops, &e));
        json_decref(patch_strategic(doc, patch, kind, &e));
        struct patch_apply_opts o = {.kind = kind, .manager = "fz", .force = rng_next(&r) & 1};
        json_t *live = json_is_object(doc) ? doc : NULL;
        json_t *a = patch_apply(live, patch, &o, &e);
        if (a) {
            /* A second apply by another manager against the first result. */
            struct patch_apply_opts o2 = {.kind = kind, .manager = "fz2"};
            json_t *b = patch_apply(a, doc, &o2, &e);
            if (b && json_is_object(patch))
                patch_managed_update(b, a, kind, "upd", "v1", "t", &e);
            json_decref(b);
            /* A hostile managedFields in the object. */
            json_t *md = json_object_get(a, "metadata");
            if (json_is_object(md)) {
                json_t *en = json_pack("{ss ss so}", "manager", "h", "operation", "Apply",
                                       "fieldsV1", rand_value(&r, 1));
                json_t *mf = json_object_get(md, "managedFields");
                if (json_is_array(mf))
                    json_array_append_new(mf, en);
                else
                    json_decref(en);
                json_decref(patch_apply(a, patch, &o, &e));
            }
        }
        json_decref(a);
        json_decref(doc);
        json_decref(patch);
        json_decref(ops);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_patch_cases),
        cmocka_unit_test(test_json_patch_cases),
        cmocka_unit_test(test_json_patch_copy_bomb_is_capped),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_strategic_cases),
        cmocka_unit_test(test_merge_rule_table),
        cmocka_unit_test(test_apply_create_records_fields),
        cmocka_unit_test(test_apply_removes_fields_no_longer_applied),
        cmocka_unit_test(test_apply_conflict_and_force),
        cmocka_unit_test(test_update_takes_fields_not_elements),
        cmocka_unit_test(test_update_deep_field),
        cmocka_unit_test(test_too_many_managers_still_writable),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_apply_ignores_status_when_asked),
        cmocka_unit_test(test_fuzz_random_patches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
