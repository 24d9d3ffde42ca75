/*
 * agent/watch: the pods bound to this agent's nodes, by list then watch.
 *
 * One list (fieldSelector spec.nodeName=<node>, or spec.nodeName!= when the
 * process stands for many nodes, which then keeps the pods of its own nodes),
 * then one watch from the list's resourceVersion with bookmarks. A watch that
 * ends normally (timeoutSeconds) is resumed from the last resourceVersion seen;
 * an ERROR event (410 Expired: the version was compacted away), an HTTP error
 * or a broken connection leads to a new list, with backoff. A list reconciles:
 * pods the agent knew that are not in it are gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/jscan.h"
#include "base/log.h"
#include "model/jsonin.h"

#define LINE_MAX_BYTES  ((size_t)8 << 20)
#define WATCH_TIMEOUT_S 300
#define BACKOFF_MIN_MS  250
#define BACKOFF_MAX_MS  10000

static void list(struct agent *a);

static void selector(struct agent *a, char *buf, size_t size)
{
    /* %3D is '=', %21 is '!'. */
    if (a->o->count > 0)
        snprintf(buf, size, "fieldSelector=spec.nodeName%%21%%3D");
    else
        snprintf(buf, size, "fieldSelector=spec.nodeName%%3D%s", a->o->name);
}

static void on_timer(uv_timer_t *t)
{
    struct agent *a = t->data;
    if (!a->stopping)
        list(a);
}

static void again_later(struct agent *a)
{
    a->watch_backoff_ns = a->watch_backoff_ns ? a->watch_backoff_ns * 2 : BACKOFF_MIN_MS * MTIME_MS;
    if (a->watch_backoff_ns > BACKOFF_MAX_MS * MTIME_MS)
        a->watch_backoff_ns = BACKOFF_MAX_MS * MTIME_MS;
    uv_timer_start(&a->watch_timer, on_timer, (uint64_t)(a->watch_backoff_ns / MTIME_MS), 0);
}

static void set_rv(struct agent *a, json_t *obj)
{
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    if (rv && *rv && strlen(rv) < sizeof a->rv)
        strcpy(a->rv, rv);
}

/* A watch event parsed without its object's managedFields, which the agent
 * never reads. */
static json_t *parse_event(const char *line, size_t len)
{
    size_t ks, vs;
    if (!jscan_member(line, len, 0, "object", 6, &ks, &vs, NULL))
        return jsonin_loadb(line, len, 0, NULL);
    return jsonin_loadb_slim(line, len, vs, NULL);
}

/* A MODIFIED event of a pod the agent already runs, with no deletion in it, asks
 * nothing of the agent (most are the echo of its own status write; a pod's spec,
 * node and annotations do not change once it is bound): only its
 * resourceVersion is taken, read by a scan instead of a parse. */
static bool nothing_new(struct agent *a, const char *line, size_t len)
{
    static const char *const ktype[] = {"type"};
    static const char *const kuid[] = {"object", "metadata", "uid"};
    static const char *const krv[] = {"object", "metadata", "resourceVersion"};
    char type[16], uid[64], rv[sizeof a->rv];
    size_t vs, ve;
    static const char kdel[] = "\"deletionTimestamp\"";
    /* A deletion is looked for as the member's name anywhere in the text: its
     * absence (nearly always) is then known without scanning the metadata to
     * its end; where the name is there, the event is parsed. */
    if (!jscan_path(line, len, ktype, 1, &vs, &ve) ||
        !jscan_string(line, vs, ve, type, sizeof type) || strcmp(type, "MODIFIED") != 0 ||
        memmem(line, len, kdel, sizeof kdel - 1) || !jscan_path(line, len, kuid, 3, &vs, &ve) ||
        !jscan_string(line, vs, ve, uid, sizeof uid) || !agent__pod_known(a, uid) ||
        !jscan_path(line, len, krv, 3, &vs, &ve) || !jscan_string(line, vs, ve, rv, sizeof rv) ||
        !*rv)
        return false;
    strcpy(a->rv, rv);
    return true;
}

static void on_line(void *arg, const char *line, size_t len)
{
    struct agent *a = arg;
    if (nothing_new(a, line, len))
        return;
    json_t *ev = parse_event(line, len);
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *obj = json_object_get(ev, "object");
    if (!type || !json_is_object(obj)) {
        log_warn("pod watch: an event that is not {type, object}: %.100s", line);
    } else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")) {
        set_rv(a, obj);
        agent__pod_seen(a, obj);
    } else if (!strcmp(type, "DELETED")) {
        set_rv(a, obj);
        const char *uid =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
        if (uid)
            agent__pod_gone(a, uid);
    } else if (!strcmp(type, "BOOKMARK")) {
        set_rv(a, obj);
    } else if (!strcmp(type, "ERROR")) {
        log_info("pod watch: %s; listing again",
                 json_string_value(json_object_get(obj, "message")) ?: "error event");
        a->relist = true;
    }
    json_decref(ev);
}

static void on_data(void *arg, uint64_t cookie, const char *p, size_t n)
{
    struct agent *a = arg;
    if (a->relist)
        return; /* the rest of this stream is stale */
    if (agent_lines_feed(&a->lines, p, n, on_line, a) < 0) {
        log_warn("pod watch: an event longer than %zu bytes; listing again", LINE_MAX_BYTES);
        a->relist = true;
    }
}

static void watch(struct agent *a);

static void on_watch_done(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct agent *a = arg;
    a->watch_req = NULL;
    if (a->stopping)
        return;
    if (r->status == 200 && !a->relist) {
        a->watch_backoff_ns = 0;
        return watch(a); /* timeoutSeconds ended it: resume */
    }
    if (a->relist)
        ;
    else if (r->error)
        log_warn("pod watch: %s; listing again", r->error);
    else
        log_warn("pod watch: HTTP %ld; listing again", r->status);
    again_later(a);
}

static void watch(struct agent *a)
{
    char sel[300], path[600];
    selector(a, sel, sizeof sel);
    snprintf(path, sizeof path,
             "/api/v1/pods?%s&watch=true&allowWatchBookmarks=true&resourceVersion=%s"
             "&timeoutSeconds=%d",
             sel, a->rv, WATCH_TIMEOUT_S + (int)(a->next_id % 60));
    agent_lines_release(&a->lines);
    agent_lines_init(&a->lines, LINE_MAX_BYTES);
    a->relist = false;
    a->watch_req = acli_stream(a->cli, path, on_data, on_watch_done, a, 0);
}

static void on_list(void *arg, uint64_t cookie, const struct acli_resp *r)
{
    struct agent *a = arg;
    a->watch_req = NULL;
    if (a->stopping)
        return;
    json_t *l = r->status == 200 ? jsonin_loadb(r->body, r->len, 0, NULL) : NULL;
    json_t *items = json_object_get(l, "items");
    if (!json_is_array(items)) {
        if (r->status == 200)
            log_warn("pod list: the answer is not a list");
        else if (r->status)
            log_warn("pod list: HTTP %ld: %.200s", r->status, r->body);
        else
            log_warn("pod list: %s", r->error ? r->error : "failed");
        json_decref(l);
        return again_later(a);
    }
    a->watch_backoff_ns = 0;
    struct map seen;
    map_init(&seen, MAP_KEY_STR);
    size_t i;
    json_t *pod;
    json_array_foreach(items, i, pod)
    {
        const char *uid =
            json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
        if (uid)
            map_put(&seen, uid, strlen(uid), NULL)->u64 = 1;
        agent__pod_seen(a, pod);
    }
    agent__pods_relisted(a, &seen);
    map_release(&seen);
    set_rv(a, l);
    if (!a->listed)
        log_info("pods: %zu bound to this agent's nodes at resourceVersion %s",
                 json_array_size(items), a->rv);
    a->listed = true;
    json_decref(l);
    watch(a);
}

static void list(struct agent *a)
{
    char sel[300], path[400];
    selector(a, sel, sizeof sel);
    snprintf(path, sizeof path, "/api/v1/pods?%s", sel);
    a->watch_req = acli_get_big(a->cli, path, on_list, a, 0);
}

void agent__watch_start(struct agent *a)
{
    uv_timer_init(a->loop, &a->watch_timer);
    a->watch_timer.data = a;
    agent_lines_init(&a->lines, LINE_MAX_BYTES);
    list(a);
}

void agent__watch_stop(struct agent *a)
{
    acli_cancel(a->watch_req);
    a->watch_req = NULL;
    uv_timer_stop(&a->watch_timer);
    uv_close((uv_handle_t *)&a->watch_timer, NULL);
    agent_lines_release(&a->lines);
}
