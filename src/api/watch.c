/*
 * api/watch: the watch stream, one JSON event per line.
 *
 * A watch with no resourceVersion (or "0") first sends an ADDED event for every
 * matching object, read by one list at revision R, and then the changes after R;
 * with resourceVersion N it sends the changes after N, or 410 Expired when the
 * store has compacted N away. Each store version is framed once,
 * {"type":"...","object":...}\n, and the frame is kept in the version's attach
 * slot, so a change sent to many watchers is encoded once (objects are never
 * re-encoded: see api__write_obj). Selectors are applied per watcher.
 *
 * A watch whose Accept header asks for a meta.k8s.io Table (kubectl get -w) gets
 * each object as a one-row Table instead (api/table.h), built per watcher:
 * those frames are not shared; nor are those of a watch at a version other
 * than the stored one (kueue v1beta1), whose objects are converted per watcher. The column
 * definitions come with every event, which kubectl accepts. Node rows show total GPUs only (no pod
 * lookup).
 *
 * The stream never blocks (it runs on an event-loop thread, api/http.c): next()
 * takes what the store queued and answers API_STREAM_WAIT when the queue is
 * empty. The store watch's notify wakes the stream when its queue goes from
 * empty to not empty (once per committed batch) or it is cancelled; the time at
 * which timeoutSeconds ends or a bookmark is due is left in wake_at_ns for the
 * HTTP layer's timer; server shutdown wakes every stream, and next() then ends
 * it.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/table.h"
#include "base/alloc.h"
#include "base/mtime.h"

#define WATCH_BOOKMARK_NS ((int64_t)60 * 1000000000)

struct frame {
    size_t len;
    char data[];
};

struct watch {
    struct api_stream st;
    struct api_ctx *ctx;
    const struct api_kind *kind;
    struct store_watch *w;
    struct api_selector ls, fs;
    struct store_list initial; /* synthetic ADDED events still to send */
    size_t next_initial;
    int64_t deadline_ns; /* 0: none */
    int64_t last_sent_ns;
    int64_t last_rev;
    bool bookmarks;
    bool done;
    bool table;                 /* events carry one-row Tables */
    enum table_include include; /* their rows' object */
};

static const struct frame *frame_of(struct store_kv *kv, const char *type)
{
    const struct frame *f = store_kv_attachment(kv);
    if (f)
        return f;
    struct strbuf sb;
    strbuf_init(&sb, STORE_VALUE_MAX + 256);
    strbuf_addf(&sb, "{\"type\":\"%s\",\"object\":", type);
    api__write_obj(&sb, kv->value, kv->value_len, kv->mod_rev);
    strbuf_addstr(&sb, "}\n");
    struct frame *nf = xmalloc(sizeof *nf + sb.len);
    nf->len = sb.len;
    memcpy(nf->data, sb.buf, sb.len);
    strbuf_release(&sb);
    return store_kv_attach(kv, nf, free);
}

/* Appends the event {"type":type,"object":<kv in the watcher's version>}\n,
 * built for this watcher alone (a version other than the stored one). */
static void own_event(struct watch *w, const struct store_kv *kv, const char *type,
                      struct strbuf *out)
{
    strbuf_addf(out, "{\"type\":\"%s\",\"object\":", type);
    api__write_kv(out, w->kind, kv);
    strbuf_addstr(out, "}\n");
}

/* Appends the event {"type":type,"object":<one-row Table of kv>}\n. */
static void table_event(struct watch *w, const struct store_kv *kv, const char *type,
                        struct strbuf *out)
{
    json_t *obj = api__decode_stored(w->kind, kv), *objs = json_array();
    char rv[24];
    snprintf(rv, sizeof rv, "%" PRId64, kv->mod_rev);
    if (json_is_object(json_object_get(obj, "metadata")))
        json_array_append(objs, obj);
    struct table_opts o = {
        .include = w->include, .now_ns = mtime_wall_ns(), .resource_version = rv};
    struct err e;
    json_t *tb = table_convert(w->kind->kind, objs, &o, &e);
    json_t *ev = json_pack("{s:s,s:o*}", "type", type, "object", tb);
    char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    if (s) {
        strbuf_addstr(out, s);
        strbuf_addch(out, '\n');
    }
    free(s);
    json_decref(ev);
    json_decref(objs);
    json_decref(obj);
}

static bool matches(struct watch *w, const struct store_kv *kv)
{
    return api__selects(&w->ls, &w->fs, kv);
}

static void error_event(struct strbuf *out, int code, const char *reason, const char *msg)
{
    json_t *st =
        json_pack("{s:s,s:s,s:{},s:s,s:s,s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                  "metadata", "status", "Failure", "message", msg, "reason", reason, "code", code);
    json_t *ev = json_pack("{s:s,s:o}", "type", "ERROR", "object", st);
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    strbuf_addstr(out, s);
    strbuf_addch(out, '\n');
    free(s);
}

void api_stream_wake(struct api_stream *st)
{
    void *arg = atomic_load_explicit(&st->wake_arg, memory_order_acquire);
    if (arg)
        st->wake(arg);
}

/* The store watch's notify: called by the publishing thread with the store's
 * locks held, so it only passes the wake on (api/http.c resumes the
 * connection). */
static void watch_notify(void *arg)
{
    api_stream_wake(arg);
}

static enum api_stream_rc watch_next(struct api_stream *st, struct strbuf *out)
{
    struct watch *w = (struct watch *)st;
    if (w->done)
        return API_STREAM_END;
    /* The initial ADDED events, all of them, with the bookmark-free fast path. */
    while (w->next_initial < w->initial.len) {
        struct store_kv *kv = w->initial.items[w->next_initial++];
        if (!matches(w, kv))
            continue;
        /* The ADDED frame of the list's version: its own attachment would be
         * shared with the event that created it, which is also ADDED. */
        if (w->table) {
            table_event(w, kv, "ADDED", out);
        } else if (kv->type == STORE_ADDED && !api__converts(w->kind)) {
            const struct frame *f = frame_of(kv, "ADDED");
            strbuf_add(out, f->data, f->len);
        } else {
            own_event(w, kv, "ADDED", out);
        }
        return API_STREAM_MORE;
    }
    if (w->initial.len) /* sent: the versions need not wait for the stream's end */
        store_list_release(&w->initial);
    for (;;) {
        if (w->ctx->stopping) {
            w->done = true;
            return API_STREAM_END;
        }
        /* The clock only for what needs it (one event per call, many calls). */
        int64_t now = w->deadline_ns || w->bookmarks ? mtime_now_ns() : 0;
        if (w->deadline_ns && now >= w->deadline_ns) {
            w->done = true;
            return API_STREAM_END;
        }
        struct store_kv *kv = NULL;
        struct err e;
        int rc = store_watch_next(w->w, 0, &kv, &e);
        if (rc < 0) {
            error_event(out, 410, "Expired", e.msg);
            w->done = true;
            return API_STREAM_MORE;
        }
        if (rc == 0) {
            int64_t bookmark_at = w->last_sent_ns + WATCH_BOOKMARK_NS;
            if (w->bookmarks && now >= bookmark_at) {
                char av[128];
                api_kind_api_version(w->kind, av, sizeof av);
                strbuf_addf(
                    out,
                    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
                    "\"metadata\":{\"resourceVersion\":\"%" PRId64 "\"}}}\n",
                    w->kind->kind, av, w->last_rev);
                w->last_sent_ns = now;
                return API_STREAM_MORE;
            }
            int64_t at = w->deadline_ns;
            if (w->bookmarks && (!at || bookmark_at < at))
                at = bookmark_at;
            atomic_store(&st->wake_at_ns, at);
            return API_STREAM_WAIT;
        }
        w->last_rev = kv->mod_rev;
        bool ok = matches(w, kv);
        if (ok) {
            const char *type = kv->type == STORE_ADDED      ? "ADDED"
                               : kv->type == STORE_MODIFIED ? "MODIFIED"
                                                            : "DELETED";
            if (w->table) {
                table_event(w, kv, type, out);
            } else if (api__converts(w->kind)) {
                own_event(w, kv, type, out);
            } else {
                const struct frame *f = frame_of(kv, type);
                strbuf_add(out, f->data, f->len);
            }
            w->last_sent_ns = now;
        }
        store_kv_unref(kv);
        if (ok)
            return API_STREAM_MORE;
    }
}

static void watch_free(struct api_stream *st)
{
    struct watch *w = (struct watch *)st;
    store_watch_destroy(w->w);
    store_list_release(&w->initial);
    api__selector_release(&w->ls);
    api__selector_release(&w->fs);
    free(w);
}

void api__watch(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                const char *prefix, struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct watch *w = xcalloc(1, sizeof *w);
    w->st.next = watch_next;
    w->st.free_fn = watch_free;
    w->ctx = ctx;
    w->kind = t->kind;
    w->last_sent_ns = mtime_now_ns();
    if (api__selectors(req, t->kind, &w->ls, &w->fs, &e) < 0)
        goto fail;
    /* As in objects.c: a client that names a meta.k8s.io Table prefers it. */
    w->table =
        req->accept && strstr(req->accept, "as=Table") && strstr(req->accept, "g=meta.k8s.io");
    if (w->table && table_include_parse(api_req_query(req, "includeObject"), &w->include, &e) < 0) {
        e.code = API_EBADREQ;
        goto fail;
    }
    const char *b = api_req_query(req, "allowWatchBookmarks");
    if (b)
        api__parse_bool(b, &w->bookmarks);
    const char *to = api_req_query(req, "timeoutSeconds");
    if (to) {
        char *end;
        long long s = strtoll(to, &end, 10);
        if (*end || s < 0) {
            errf(&e, API_EBADREQ, "timeoutSeconds: invalid value \"%s\"", to);
            goto fail;
        }
        if (s > 0)
            w->deadline_ns = mtime_now_ns() + s * 1000000000LL;
    }
    const char *rv = api_req_query(req, "resourceVersion");
    int64_t from = 0;
    if (!rv || !*rv || !strcmp(rv, "0")) {
        struct store_list_opts lo = {0};
        if (store_list(ctx->store, prefix, &lo, &w->initial, &e) < 0)
            goto fail;
        from = w->initial.rev;
    } else {
        char *end;
        from = strtoll(rv, &end, 10);
        if (*end || from < 0) {
            errf(&e, API_EBADREQ, "resourceVersion: invalid value \"%s\"", rv);
            goto fail;
        }
    }
    w->last_rev = from;
    /* from == 0 on an empty store means "from now", which is the same thing. */
    struct store_watch_opts wo = {.notify = watch_notify, .arg = &w->st};
    w->w = store_watch(ctx->store, prefix, from, &wo, &e);
    if (!w->w) {
        if (e.code == STORE_ECOMPACTED) {
            /* Kubernetes' words, which clients recognise. */
            char msg[128];
            snprintf(msg, sizeof msg, "too old resource version: %" PRId64 " (%" PRId64 ")", from,
                     store_compacted_rev(ctx->store));
            errf(&e, STORE_ECOMPACTED, "%s", msg);
        }
        goto fail;
    }
    r->code = 200;
    r->content_type = w->table ? TABLE_CONTENT_TYPE : "application/json";
    r->stream = &w->st;
    return;
fail:
    watch_free(&w->st);
    api__fail(r, &e, NULL);
}
