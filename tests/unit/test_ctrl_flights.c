/* The controllers' deduplicated writes ("flights") are freed once the loop has
 * seen them back: after Jobs ran to their pods on a quiet cluster, none is held.
 * Before, a flight stayed until its key was written again, so every pod, Job
 * status and admission ever written stayed in memory (and was walked by every
 * check for decisions in flight). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "api/api.h"
#include "base/mtime.h"
#include "ctrl/ctrl.h"
#include "store/store.h"

static int post(struct api_ctx *ctx, const char *path, const char *body)
{
    struct api_req req = {.method = "POST",
                          .path = path,
                          .content_type = "application/json",
                          .user_agent = "test",
                          .body = body,
                          .body_len = strlen(body)};
    struct api_resp r;
    api_resp_init(&r);
    api_handle(ctx, &req, &r);
    int code = r.code;
    if (code != 201)
        print_error("POST %s: %d %.300s\n", path, code, r.body.len ? r.body.buf : "");
    api_resp_release(&r);
    return code;
}

/* Pods bound to a node, from the store. */
static int bound_pods(struct store *st)
{
    struct store_list l = {0};
    struct err e;
    if (store_list(st, "/registry/core/pods/", NULL, &l, &e) < 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < l.len; i++)
        if (memmem(l.items[i]->value, l.items[i]->value_len, "\"nodeName\":\"n1\"", 15))
            n++;
    store_list_release(&l);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_flights_freed(void **state)
{
    (void)state;
    struct store *st = store_open_mem(NULL);
    struct api_ctx ctx = {.store = st};
    struct err e;
    assert_int_equal(api_namespaces_init(st, &e), 0);
    assert_int_equal(post(&ctx, "/apis/kueue.x-k8s.io/v1beta2/resourceflavors",
                          "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ResourceFlavor\","
                          "\"metadata\":{\"name\":\"f\"}}"),
                     201);
    assert_int_equal(
        post(&ctx, "/apis/kueue.x-k8s.io/v1beta2/clusterqueues",
             "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"ClusterQueue\",\"metadata\":"
             "{\"name\":\"cq\"},\"spec\":{\"namespaceSelector\":{},\"resourceGroups\":[{"
             "\"coveredResources\":[\"cpu\",\"memory\"],\"flavors\":[{\"name\":\"f\",\"resources\":"
             "[{\"name\":\"cpu\",\"nominalQuota\":64},{\"name\":\"memory\",\"nominalQuota\":"
             "\"256Gi\"}]}]}]}}"),
        201);
    assert_int_equal(post(&ctx, "/apis/kueue.x-k8s.io/v1beta2/namespaces/default/localqueues",
                          "{\"apiVersion\":\"kueue.x-k8s.io/v1beta2\",\"kind\":\"LocalQueue\","
                          "\"metadata\":{\"name\":\"q\",\"namespace\":\"default\"},\"spec\":"
                          "{\"clusterQueue\":\"cq\"}}"),
                     201);
    assert_int_equal(post(&ctx, "/api/v1/nodes",
                          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\","
                          "\"labels\":{\"kubernetes.io/hostname\":\"n1\"}},\"status\":{"
                          "\"capacity\":{\"cpu\":\"32\",\"memory\":\"128Gi\",\"pods\":\"110\"},"
                          "\"allocatable\":{\"cpu\":\"32\",\"memory\":\"128Gi\",\"pods\":\"110\"}}}"),
                     201);
    struct ctrl_opts o = {.writers = 4};
    struct ctrl *c = ctrl_start(st, &o, &e);
    assert_non_null(c);
    enum { JOBS = 20, PODS = 2 };
    for (int i = 0; i < JOBS; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"j%d\","
                 "\"namespace\":\"default\",\"labels\":{\"kueue.x-k8s.io/queue-name\":\"q\"}},"
                 "\"spec\":{\"parallelism\":%d,\"completions\":%d,\"completionMode\":\"Indexed\","
                 "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":"
                 "\"main\",\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
                 "\"memory\":\"64Mi\"}}}]}}}}",
                 i, PODS, PODS);
        assert_int_equal(post(&ctx, "/apis/batch/v1/namespaces/default/jobs", body), 201);
    }
    int64_t deadline = mtime_now_ns() + 60 * 1000000000LL;
    while (bound_pods(st) < JOBS * PODS && mtime_now_ns() < deadline)
        sleep_ms(20);
    assert_int_equal(bound_pods(st), JOBS * PODS);
    /* Quiet now: what was written is seen back within a few passes. */
    size_t held = ctrl_flights(c);
    while (held && mtime_now_ns() < deadline) {
        sleep_ms(20);
        held = ctrl_flights(c);
    }
    if (held)
        print_error("%zu flights held on a quiet cluster\n", held);
    assert_int_equal(held, 0);
    ctrl_stop(c);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flights_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
