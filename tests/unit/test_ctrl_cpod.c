/* Tests for ctrl_cpod_scan: the controllers read a stored Pod by a scan of its
 * text. What it reads must be what a parse into a tree reads (the reference
 * below is the tree-based reading the scan replaced), on fixed pods and on
 * random ones: members in any order, missing, of other types, escaped, beside
 * managedFields and deep values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "ctrl/ctrl_int.h"

struct ref {
    const char *uid, *job, *job_uid, *workload, *gpus, *rank, *node, *scheduler, *reason, *ns,
        *name;
    int64_t index;
    enum cphase phase;
    bool deleting;
};

static const char *str_at(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void ref_of(json_t *j, struct ref *p)
{
    json_t *md = json_object_get(j, "metadata");
    json_t *labels = json_object_get(md, "labels"), *ann = json_object_get(md, "annotations");
    json_t *spec = json_object_get(j, "spec"), *st = json_object_get(j, "status");
    memset(p, 0, sizeof *p);
    p->ns = str_at(md, "namespace");
    p->name = str_at(md, "name");
    p->uid = str_at(md, "uid");
    p->job = str_at(labels, "batch.kubernetes.io/job-name");
    p->job_uid = str_at(labels, "batch.kubernetes.io/controller-uid");
    p->workload = str_at(ann, "muster.dev/workload");
    p->gpus = str_at(ann, "muster.dev/gpus");
    p->rank = str_at(ann, "muster.dev/rank");
    const char *idx = str_at(ann, "batch.kubernetes.io/job-completion-index");
    p->index = idx ? strtoll(idx, NULL, 10) : -1;
    p->node = str_at(spec, "nodeName");
    if (p->node && !*p->node)
        p->node = NULL;
    p->scheduler = str_at(spec, "schedulerName");
    p->reason = str_at(st, "reason");
    const char *ph = str_at(st, "phase");
    p->phase = !ph                           ? CP_PENDING
               : strcmp(ph, "Running") == 0   ? CP_RUNNING
               : strcmp(ph, "Succeeded") == 0 ? CP_SUCCEEDED
               : strcmp(ph, "Failed") == 0    ? CP_FAILED
                                              : CP_PENDING;
    p->deleting = json_object_get(md, "deletionTimestamp") != NULL;
}

static void same_str(const char *what, const char *a, const char *b, const char *text)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
        fail_msg("%s: scan \"%s\", tree \"%s\" in %s", what, a ? a : "(null)", b ? b : "(null)",
                 text);
}

static void check(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    struct ref r;
    ref_of(j, &r);
    struct cobj o;
    memset(&o, 0, sizeof o);
    assert_true(ctrl_cpod_scan(text, strlen(text), &o));
    same_str("uid", o.pod.uid, r.uid, text);
    same_str("job", o.pod.job, r.job, text);
    same_str("job_uid", o.pod.job_uid, r.job_uid, text);
    same_str("workload", o.pod.workload, r.workload, text);
    same_str("gpus", o.pod.gpus, r.gpus, text);
    same_str("rank", o.pod.rank, r.rank, text);
    same_str("node", o.pod.node, r.node, text);
    same_str("scheduler", o.pod.scheduler, r.scheduler, text);
    same_str("reason", o.pod.reason, r.reason, text);
    same_str("ns", o.ns, r.ns, text);
    same_str("name", o.name, r.name, text);
    if (o.pod.index != r.index || o.pod.phase != r.phase || o.pod.deleting != r.deleting)
        fail_msg("index/phase/deleting: scan %lld/%d/%d, tree %lld/%d/%d in %s",
                 (long long)o.pod.index, o.pod.phase, o.pod.deleting, (long long)r.index, r.phase,
                 r.deleting, text);
    free(o.strs);
    json_decref(j);
}

static void test_fixed(void **state)
{
    (void)state;
    check("{\"metadata\":{\"resourceVersion\":\"\",\"name\":\"p-0\",\"namespace\":\"bench\","
          "\"labels\":{\"batch.kubernetes.io/job-name\":\"j\",\"batch.kubernetes.io/"
          "controller-uid\":\"u1\"},\"annotations\":{\"batch.kubernetes.io/"
          "job-completion-index\":\"3\",\"muster.dev/workload\":\"wl\",\"muster.dev/rank\":\"3\","
          "\"muster.dev/gpus\":\"0,1\"},\"uid\":\"u2\",\"managedFields\":[{\"manager\":\"m\","
          "\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:name\":{}}}}}]},"
          "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"c\"}],"
          "\"schedulerName\":\"muster\",\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\","
          "\"conditions\":[{\"type\":\"Ready\",\"reason\":\"x\"}]}}");
    check("{\"metadata\":{\"name\":\"a\\\"b\\\\c\\u00e9\",\"deletionTimestamp\":null},"
          "\"spec\":{\"nodeName\":\"\"},\"status\":{\"reason\":\"NodeLost\","
          "\"phase\":\"Failed\"}}");
    check("{\"metadata\":{\"name\":7,\"uid\":null,\"labels\":[],\"annotations\":"
          "{\"muster.dev/rank\":{\"x\":\"y\"}}},\"spec\":[],\"status\":\"Running\"}");
    check("{}");
    check("{\"status\":{\"phase\":\"Succeeded\",\"phase\":\"Pending\"}}");
    struct cobj o;
    memset(&o, 0, sizeof o);
    assert_false(ctrl_cpod_scan("[1]", 3, &o));
    assert_false(ctrl_cpod_scan("", 0, &o));
}

/* Random pods: members drawn from the read ones and decoys, in random order,
 * with random values (strings with escapes, numbers, objects, nulls). */
static uint64_t rnd_state = 7;
static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(rnd_state >> 33) % n;
}

static json_t *rnd_value(int depth)
{
    static const char *const strs[] = {"Running", "Failed", "", "n1", "a\"b", "\\x", "é€",
                                       "12",      "-3",     "Succeeded"};
    switch (rnd(depth > 2 ? 4 : 6)) {
    case 0:
    case 1:
        return json_string(strs[rnd(10)]);
    case 2:
        return json_integer(rnd(100));
    case 3:
        return json_null();
    case 4: {
        json_t *o = json_object();
        for (unsigned i = rnd(4); i > 0; i--)
            json_object_set_new(o, strs[rnd(10)], rnd_value(depth + 1));
        return o;
    }
    default: {
        json_t *a = json_array();
        for (unsigned i = rnd(3); i > 0; i--)
            json_array_append_new(a, rnd_value(depth + 1));
        return a;
    }
    }
}

static json_t *rnd_object(const char *const *keys, size_t n)
{
    json_t *o = json_object();
    for (unsigned i = rnd(6); i > 0; i--) {
        const char *k = rnd(4) ? keys[rnd((unsigned)n)] : "decoy";
        json_object_set_new(o, k, rnd(3) ? json_string(k) : rnd_value(1));
    }
    return o;
}

static void test_random(void **state)
{
    (void)state;
    static const char *const meta[] = {"name", "namespace", "uid", "deletionTimestamp",
                                       "managedFields"};
    static const char *const labels[] = {"batch.kubernetes.io/job-name",
                                         "batch.kubernetes.io/controller-uid"};
    static const char *const ann[] = {"muster.dev/workload", "muster.dev/gpus", "muster.dev/rank",
                                      "batch.kubernetes.io/job-completion-index"};
    static const char *const spec[] = {"nodeName", "schedulerName", "containers"};
    static const char *const status[] = {"phase", "reason", "conditions"};
    for (int round = 0; round < 5000; round++) {
        json_t *pod = json_object();
        json_t *md = rnd_object(meta, 5);
        if (rnd(2))
            json_object_set_new(md, "labels", rnd(5) ? rnd_object(labels, 2) : rnd_value(2));
        if (rnd(2))
            json_object_set_new(md, "annotations", rnd(5) ? rnd_object(ann, 4) : rnd_value(2));
        const char *top[] = {"metadata", "spec", "status", "kind"};
        for (unsigned i = 0; i < 4; i++) {
            unsigned t = rnd(4);
            if (t == 0 && md) {
                json_object_set_new(pod, "metadata", md);
                md = NULL;
            } else if (t == 1) {
                json_object_set_new(pod, "spec", rnd(5) ? rnd_object(spec, 3) : rnd_value(1));
            } else if (t == 2) {
                json_object_set_new(pod, "status", rnd(5) ? rnd_object(status, 3) : rnd_value(1));
            } else {
                json_object_set_new(pod, top[3], rnd_value(0));
            }
        }
        json_decref(md);
        char *text = json_dumps(pod, rnd(2) ? JSON_COMPACT : JSON_INDENT(1));
        check(text);
        free(text);
        json_decref(pod);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
