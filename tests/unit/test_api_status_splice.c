/* The status patch on the stored text (objects.c, status_splice) against the
 * tree path it stands in for: two servers on memory stores kept in lockstep
 * (the same bytes under the same revisions), one with the fast path, one
 * without (api_ctx.no_splice); every status patch goes to both, and both must
 * answer the same code and store the same bytes (managedFields' times, taken
 * from the clock, aside). The patches are random pod and Job statuses from
 * several managers, with deletions, list merges by key, replace directives,
 * preconditions and patches the fast path must leave to the tree path. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>

#include "api/api.h"
#include "base/rng.h"

struct side {
    struct api_ctx ctx;
    struct api_resp r;
};

static struct side fast, slow;
static struct rng rng;

static void side_open(struct side *s, bool no_splice)
{
    memset(s, 0, sizeof *s);
    s->ctx.store = store_open_mem(NULL);
    s->ctx.no_splice = no_splice;
    struct err e;
    if (api_namespaces_init(s->ctx.store, &e) < 0)
        fail_msg("%s", e.msg);
    api_resp_init(&s->r);
}

static void side_close(struct side *s)
{
    api_resp_release(&s->r);
    store_close(s->ctx.store);
}

static bool next_dry_run; /* the calls ask for dryRun=All while set */

static int call(struct side *s, const char *method, const char *path, const char *ct,
                const char *ua, const char *manager, const char *body)
{
    struct api_req req = {.method = method,
                          .path = path,
                          .content_type = ct,
                          .user_agent = ua,
                          .body = body,
                          .body_len = body ? strlen(body) : 0};
    if (manager) {
        req.query[req.n_query].key = "fieldManager";
        req.query[req.n_query++].value = manager;
    }
    if (next_dry_run) {
        req.query[req.n_query].key = "dryRun";
        req.query[req.n_query++].value = "All";
    }
    api_resp_release(&s->r);
    api_resp_init(&s->r);
    api_handle(&s->ctx, &req, &s->r);
    return s->r.code;
}

/* The stored value of key in s, with every managedFields "time" blanked. */
static char *stored(struct side *s, const char *key)
{
    struct store_kv *kv;
    struct err e;
    if (store_get(s->ctx.store, key, &kv, &e) < 0)
        return strdup("(absent)");
    char *v = strndup(kv->value, kv->value_len);
    store_kv_unref(kv);
    for (char *p = v; (p = strstr(p, "\"time\":\"")); ) {
        p += 8;
        for (; *p && *p != '"'; p++)
            *p = 'T';
    }
    return v;
}

/* Copies what a write on fast stored under key to slow, as the next revision
 * there too. */
static void sync_key(const char *key)
{
    struct store_kv *a, *b = NULL;
    struct err e;
    assert_int_equal(store_get(fast.ctx.store, key, &a, &e), 0);
    if (store_get(slow.ctx.store, key, &b, &e) == 0) {
        assert_int_equal(store_update(slow.ctx.store, key, a->value, a->value_len, b->mod_rev,
                                      NULL, &e),
                         0);
        store_kv_unref(b);
    } else {
        assert_int_equal(store_create(slow.ctx.store, key, a->value, a->value_len, NULL, &e), 0);
    }
    assert_int_equal(store_rev(fast.ctx.store), store_rev(slow.ctx.store));
    store_kv_unref(a);
}

/* ---- random statuses ------------------------------------------------------ */

static const char *pick(const char *const *v, size_t n)
{
    return v[rng_below(&rng, n)];
}
#define PICK(a) pick(a, sizeof a / sizeof a[0])

static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed"};
static const char *const ctypes[] = {"PodScheduled", "Initialized", "ContainersReady", "Ready",
                                     "DisruptionTarget"};
static const char *const cnames[] = {"main", "sidecar", "init"};
static const char *const times[] = {"2026-11-24T10:00:00Z", "2026-11-24T10:00:05Z",
                                    "2026-11-24T10:01:00Z"};
static const char *const words[] = {"ok", "Error", "Completed", "back-off", "\"quoted\" \\ é"};

/* A value, or now and then null (a deletion in a patch). */
static json_t *maybe_null(json_t *v)
{
    if (rng_below(&rng, 8) == 0) {
        json_decref(v);
        return json_null();
    }
    return v;
}

static json_t *rand_condition(void)
{
    json_t *c = json_pack("{s:s}", "type", PICK(ctypes));
    if (rng_below(&rng, 4))
        json_object_set_new(c, "status", json_string(rng_below(&rng, 2) ? "True" : "False"));
    if (rng_below(&rng, 2))
        json_object_set_new(c, "reason", maybe_null(json_string(PICK(words))));
    if (rng_below(&rng, 3))
        json_object_set_new(c, "lastTransitionTime", json_string(PICK(times)));
    if (rng_below(&rng, 3) == 0)
        json_object_set_new(c, "lastProbeTime", json_null());
    return c;
}

static json_t *rand_container(void)
{
    json_t *c = json_pack("{s:s}", "name", PICK(cnames));
    if (rng_below(&rng, 2))
        json_object_set_new(c, "ready", json_boolean(rng_below(&rng, 2)));
    if (rng_below(&rng, 2))
        json_object_set_new(c, "restartCount", json_integer((json_int_t)rng_below(&rng, 3)));
    if (rng_below(&rng, 2)) {
        json_t *st = json_object();
        switch (rng_below(&rng, 3)) {
        case 0:
            json_object_set_new(st, "running", json_pack("{s:s}", "startedAt", PICK(times)));
            break;
        case 1:
            json_object_set_new(st, "terminated",
                                json_pack("{s:i,s:s}", "exitCode", (int)rng_below(&rng, 3),
                                          "reason", PICK(words)));
            break;
        default:
            json_object_set_new(st, "waiting", json_pack("{s:s}", "reason", "ContainerCreating"));
        }
        if (rng_below(&rng, 4) == 0)
            json_object_set_new(st, "$patch", json_string("replace"));
        json_object_set_new(c, "state", maybe_null(st));
    }
    return c;
}

static json_t *rand_list(json_t *(*one)(void))
{
    json_t *a = json_array();
    for (uint64_t i = 0, n = rng_below(&rng, 4); i < n; i++)
        json_array_append_new(a, one());
    return a;
}

static json_t *rand_pod_status(void)
{
    json_t *st = json_object();
    if (rng_below(&rng, 3))
        json_object_set_new(st, "phase", maybe_null(json_string(PICK(phases))));
    if (rng_below(&rng, 3))
        json_object_set_new(st, "hostIP", maybe_null(json_string("10.0.0.1")));
    if (rng_below(&rng, 3))
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", "10.0.0.1"));
    if (rng_below(&rng, 3))
        json_object_set_new(st, "startTime", maybe_null(json_string(PICK(times))));
    if (rng_below(&rng, 2))
        json_object_set_new(st, "conditions", maybe_null(rand_list(rand_condition)));
    if (rng_below(&rng, 2))
        json_object_set_new(st, "containerStatuses", maybe_null(rand_list(rand_container)));
    if (rng_below(&rng, 6) == 0)
        json_object_set_new(st, "message", maybe_null(json_string(PICK(words))));
    if (rng_below(&rng, 12) == 0)
        json_object_set_new(st, "$patch", json_string("replace"));
    return st;
}

static json_t *rand_job_status(void)
{
    json_t *st = json_object();
    if (rng_below(&rng, 2))
        json_object_set_new(st, "active", maybe_null(json_integer((json_int_t)rng_below(&rng, 9))));
    if (rng_below(&rng, 2))
        json_object_set_new(st, "ready", json_integer((json_int_t)rng_below(&rng, 9)));
    if (rng_below(&rng, 2))
        json_object_set_new(st, "startTime", maybe_null(json_string(PICK(times))));
    if (rng_below(&rng, 2))
        json_object_set_new(st, "conditions", maybe_null(rand_list(rand_condition)));
    return st;
}

/* The patch's metadata: mostly the uid as the agent sends it, sometimes a
 * (right or stale) resourceVersion, a wrong name, or a label the fast path
 * leaves to the tree path. */
static json_t *rand_meta(const char *name, const char *uid, int64_t rev)
{
    json_t *md = json_object();
    switch (rng_below(&rng, 12)) {
    case 0:
        json_object_set_new(md, "resourceVersion",
                            json_sprintf("%lld", (long long)(rev - (rng_below(&rng, 2) ? 1 : 0))));
        break;
    case 1:
        json_object_set_new(md, "name", json_string(rng_below(&rng, 2) ? name : "other"));
        break;
    case 2:
        json_object_set_new(md, "labels", json_pack("{s:s}", "x", "y"));
        break;
    case 3:
        break;
    default:
        json_object_set_new(md, "uid", json_string(uid));
    }
    return md;
}

static const char *const agents[] = {"muster-agent", "muster-controller", "kubectl/v1.31"};

static void run_differential(const char *kind, const char *path_fmt, const char *key_fmt,
                             const char *create_fmt, json_t *(*rand_status)(void), bool strategic,
                             int objects, int writes)
{
    char path[256], spath[256], key[256], body[4096];
    uint64_t oks = 0, spliced = fast.ctx.splices;
    for (int o = 0; o < objects; o++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d", strcmp(kind, "Job") ? "pod" : "job", o);
        snprintf(path, sizeof path, path_fmt, "");
        snprintf(body, sizeof body, create_fmt, name);
        if (call(&fast, "POST", path, "application/json", "kubectl/v1.31", NULL, body) != 201)
            fail_msg("create %s: %s", body, fast.r.body.buf);
        snprintf(key, sizeof key, key_fmt, name);
        sync_key(key);
        json_t *created = json_loads(fast.r.body.buf, 0, NULL);
        char uid[64];
        snprintf(uid, sizeof uid, "%s",
                 json_string_value(json_object_get(json_object_get(created, "metadata"), "uid")));
        json_decref(created);
        char sub[128];
        snprintf(sub, sizeof sub, "/%s/status", name);
        snprintf(spath, sizeof spath, path_fmt, sub);
        for (int w = 0; w < writes; w++) {
            if (rng_below(&rng, 10) == 0) {
                /* an apply of part of the status by another manager, so that
                 * status fields have other owners to be taken from */
                char ab[1024];
                snprintf(ab, sizeof ab,
                         "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\"},"
                         "\"status\":{\"conditions\":[{\"type\":\"%s\",\"status\":\"True\"}]}}",
                         strcmp(kind, "Job") ? "v1" : "batch/v1", kind, name, PICK(ctypes));
                int code = call(&fast, "PATCH", spath, "application/apply-patch+yaml", NULL,
                                rng_below(&rng, 2) ? "applier" : "muster-agent", ab);
                if (code == 200)
                    sync_key(key);
                continue;
            }
            int64_t rev = store_rev(fast.ctx.store);
            struct store_kv *kv;
            struct err e;
            assert_int_equal(store_get(fast.ctx.store, key, &kv, &e), 0);
            rev = kv->mod_rev;
            store_kv_unref(kv);
            json_t *patch = json_pack("{s:o,s:o}", "metadata", rand_meta(name, uid, rev),
                                      "status", rand_status());
            char *pb = json_dumps(patch, JSON_COMPACT);
            json_decref(patch);
            const char *ua = PICK(agents);
            const char *mgr = rng_below(&rng, 5) == 0 ? "other-manager" : NULL;
            const char *ct = strategic && rng_below(&rng, 3) ? "application/strategic-merge-patch+json"
                                                            : "application/merge-patch+json";
            int cf = call(&fast, "PATCH", spath, ct, ua, mgr, pb);
            int cs = call(&slow, "PATCH", spath, ct, ua, mgr, pb);
            if (cf != cs)
                fail_msg("patch %s: fast %d (%s), slow %d (%s)", pb, cf, fast.r.body.buf, cs,
                         slow.r.body.buf);
            char *vf = stored(&fast, key), *vs = stored(&slow, key);
            if (strcmp(vf, vs))
                fail_msg("patch %s (%s, %s):\nfast %s\nslow %s", pb, ct, ua, vf, vs);
            if (cf != 200 && strcmp(fast.r.body.buf, slow.r.body.buf))
                fail_msg("patch %s: answers differ:\nfast %s\nslow %s", pb, fast.r.body.buf,
                         slow.r.body.buf);
            assert_int_equal(store_rev(fast.ctx.store), store_rev(slow.ctx.store));
            if (cf == 200)
                oks++;
            free(vf);
            free(vs);
            free(pb);
        }
    }
    /* Most of them went the fast way (the rest: labels, wrong names, stale
     * versions, patches that empty a status). */
    spliced = fast.ctx.splices - spliced;
    assert_int_equal(slow.ctx.splices, 0);
    print_message("%llu of %llu status patches on the stored text\n", (unsigned long long)spliced, (unsigned long long)oks);
    if (spliced < oks * 3 / 4)
        fail_msg("only %llu of %llu status patches on the stored text",
                 (unsigned long long)spliced, (unsigned long long)oks);
}

static void test_pods(void **state)
{
    (void)state;
    run_differential("Pod", "/api/v1/namespaces/default/pods%s",
                     "/registry/core/pods/default/%s",
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                     "\"labels\":{\"app\":\"x\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
                     "[{\"name\":\"main\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1\"]}]}}",
                     rand_pod_status, true, 60, 40);
}

static void test_jobs(void **state)
{
    (void)state;
    run_differential("Job", "/apis/batch/v1/namespaces/default/jobs%s",
                     "/registry/batch/jobs/default/%s",
                     "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"%s\"},"
                     "\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":"
                     "[{\"name\":\"main\",\"image\":\"busybox\"}]}}}}",
                     rand_job_status, true, 30, 40);
}

/* The same status patch on both sides: same code, same answer, same bytes. */
static void both(const char *path, const char *ct, const char *body, const char *key)
{
    int cf = call(&fast, "PATCH", path, ct, "muster-agent", NULL, body);
    int cs = call(&slow, "PATCH", path, ct, "muster-agent", NULL, body);
    if (cf != cs)
        fail_msg("%s: fast %d (%s), slow %d (%s)", body, cf, fast.r.body.buf, cs, slow.r.body.buf);
    if (cf != 200 && strcmp(fast.r.body.buf, slow.r.body.buf))
        fail_msg("%s: answers differ:\nfast %s\nslow %s", body, fast.r.body.buf, slow.r.body.buf);
    char *vf = stored(&fast, key), *vs = stored(&slow, key);
    if (strcmp(vf, vs))
        fail_msg("%s:\nfast %s\nslow %s", body, vf, vs);
    free(vf);
    free(vs);
}

/* Puts the same bytes under key on both sides (a store written by another
 * server version, or another tool). */
static void put_both(const char *key, const char *value)
{
    struct err e;
    struct store_kv *kv = NULL;
    for (int i = 0; i < 2; i++) {
        struct store *st = i ? slow.ctx.store : fast.ctx.store;
        if (store_get(st, key, &kv, &e) == 0) {
            assert_int_equal(store_update(st, key, value, strlen(value), kv->mod_rev, NULL, &e), 0);
            store_kv_unref(kv);
        } else {
            assert_int_equal(store_create(st, key, value, strlen(value), NULL, &e), 0);
        }
    }
    assert_int_equal(store_rev(fast.ctx.store), store_rev(slow.ctx.store));
}

static void test_edges(void **state)
{
    (void)state;
    const char *key = "/registry/core/pods/default/edge";
    const char *path = "/api/v1/namespaces/default/pods/edge/status";
    /* no managedFields, status before spec, another member after */
    put_both(key, "{\"metadata\":{\"resourceVersion\":\"\",\"name\":\"edge\",\"namespace\":\"default\","
                  "\"uid\":\"u-1\"},\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"status\":{\"phase\":"
                  "\"Pending\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"main\","
                  "\"image\":\"busybox\"}]},\"x-extra\":1}");
    both(path, "application/merge-patch+json", "{\"status\":{\"phase\":\"Running\"}}", key);
    /* managedFields now: status in the middle, replaced */
    uint64_t before = fast.ctx.splices;
    both(path, "application/strategic-merge-patch+json",
         "{\"metadata\":{\"uid\":\"u-1\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
         "\"status\":\"True\"}]}}",
         key);
    assert_true(fast.ctx.splices > before);
    /* dry run: nothing stored, the same answer */
    next_dry_run = true;
    both(path, "application/merge-patch+json", "{\"status\":{\"phase\":\"Failed\"}}", key);
    next_dry_run = false;
    /* a pod being deleted (its agent stopping it): the write that makes it
     * terminal removes it, which only the tree path does */
    put_both(key, "{\"metadata\":{\"resourceVersion\":\"\",\"name\":\"edge\",\"namespace\":"
                  "\"default\",\"uid\":\"u-1\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\","
                  "\"deletionGracePeriodSeconds\":30,\"managedFields\":[]},\"apiVersion\":\"v1\","
                  "\"kind\":\"Pod\",\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                  "\"main\",\"image\":\"busybox\"}]},\"status\":{\"phase\":\"Running\"}}");
    both(path, "application/merge-patch+json", "{\"status\":{\"phase\":\"Succeeded\"}}", key);
    char *vf = stored(&fast, key);
    assert_string_equal(vf, "(absent)");
    free(vf);
}

/* Writers racing on one pod's status: a patch that lost the compare-and-swap
 * is applied again to the object that won (the splice frees the patch's tree
 * before the commit and parses it again then); no update may be lost. */
struct racer {
    struct api_ctx *ctx;
    int id, fails;
};

static void *race_main(void *arg)
{
    struct racer *rc = arg;
    char manager[16], body[256];
    snprintf(manager, sizeof manager, "m%d", rc->id);
    for (int n = 1; n <= 300; n++) {
        snprintf(body, sizeof body,
                 "{\"status\":{\"conditions\":[{\"type\":\"T%d\",\"status\":\"True\","
                 "\"reason\":\"r%d\"}]}}",
                 rc->id, n);
        struct api_req req = {.method = "PATCH",
                              .path = "/api/v1/namespaces/default/pods/p/status",
                              .content_type = "application/strategic-merge-patch+json",
                              .user_agent = "racer",
                              .body = body,
                              .body_len = strlen(body)};
        req.query[req.n_query].key = "fieldManager";
        req.query[req.n_query++].value = manager;
        /* The server tries 8 times; a client told 409 tries again, as
         * Kubernetes' clients do (a 409 writes nothing). */
        for (int tries = 0;; tries++) {
            struct api_resp r;
            api_resp_init(&r);
            api_handle(rc->ctx, &req, &r);
            int code = r.code;
            api_resp_release(&r);
            if (code == 200)
                break;
            if (code != 409 || tries == 100) {
                rc->fails++;
                break;
            }
        }
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    static struct side one; /* its own store: the others' keep their lockstep */
    side_open(&one, false);
    assert_int_equal(call(&one, "POST", "/api/v1/namespaces/default/pods", "application/json",
                          NULL, NULL,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                          "\"p\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                          "\"main\",\"image\":\"busybox\"}]}}"),
                     201);
    struct store_kv *kv;
    struct err e;
    assert_int_equal(store_get(one.ctx.store, "/registry/core/pods/default/p", &kv, &e), 0);
    int64_t rev0 = kv->mod_rev;
    store_kv_unref(kv);
    enum { N = 4 };
    struct racer rc[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        rc[i] = (struct racer){&one.ctx, i, 0};
        pthread_create(&th[i], NULL, race_main, &rc[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(rc[i].fails, 0);
    }
    /* Every patch wrote once, and the last of each writer is there. */
    assert_int_equal(store_get(one.ctx.store, "/registry/core/pods/default/p", &kv, &e), 0);
    assert_int_equal(kv->mod_rev, rev0 + N * 300);
    json_t *pod = json_loadb(kv->value, kv->value_len, 0, NULL);
    store_kv_unref(kv);
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
    assert_int_equal(json_array_size(conds), N);
    for (int i = 0; i < N; i++) {
        char type[16];
        snprintf(type, sizeof type, "T%d", i);
        bool found = false;
        size_t j;
        json_t *c;
        json_array_foreach(conds, j, c)
        {
            if (!strcmp(json_string_value(json_object_get(c, "type")), type)) {
                assert_string_equal(json_string_value(json_object_get(c, "reason")), "r300");
                found = true;
            }
        }
        assert_true(found);
    }
    json_decref(pod);
    assert_true(atomic_load(&one.ctx.splices) >= N * 300);
    side_close(&one);
}

int main(void)
{
    rng_seed(&rng, 20261124);
    side_open(&fast, false);
    side_open(&slow, true);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pods),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_concurrent),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    side_close(&fast);
    side_close(&slow);
    return rc;
}
