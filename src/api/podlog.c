/*
 * api/podlog: GET pods/<name>/log, proxied to the agent of the pod's node.
 *
 * As kube-apiserver does with the kubelet, the server finds the pod's node, reads
 * the node's InternalIP address and status.daemonEndpoints.kubeletEndpoint.Port,
 * and streams http://<ip>:<port>/containerLogs/<ns>/<pod>/<container> back to
 * the client (docs/cluster.md). The query parameters follow, tailLines,
 * limitBytes, timestamps and previous are passed through.
 *
 * The transfer runs on a private curl multi handle that the stream's next()
 * drives: api__pod_log pumps it until the agent's status line is in, so an
 * agent's 404 or a refused connection becomes an ordinary Status; after that the
 * body is handed on piece by piece as it arrives. next() runs on one of the
 * server's event-loop threads (api/http.c) and never blocks: it moves the
 * transfer on by what is ready and, when nothing is, asks to be called again
 * POLL_MS later, through the HTTP layer's timer. A client that goes away while
 * the log is silent is only noticed when the next piece arrives or the agent
 * ends the stream.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/alloc.h"
#include "base/mtime.h"

#define POLL_MS         50
#define CONNECT_MS      5000
#define HEADERS_WAIT_NS ((int64_t)15 * 1000000000) /* for the agent's status line */
#define PENDING_MAX     ((size_t)1 << 20)          /* buffered before curl is paused */
#define ERROR_BODY_MAX  4096

struct podlog {
    struct api_stream st;
    struct api_ctx *ctx;
    CURLM *m;
    CURL *h;
    struct strbuf pending; /* received, not yet handed to the client */
    bool paused;
    bool done;
    CURLcode result;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct podlog *pl = arg;
    size_t len = size * n;
    if (pl->pending.len + len > PENDING_MAX && pl->pending.len) {
        pl->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (strbuf_add(&pl->pending, p, len) < 0)
        return 0; /* past the hard cap: abort the transfer */
    return len;
}

/* Runs the transfer for up to wait_ms; sets done when it has ended. */
static void pump(struct podlog *pl, int wait_ms)
{
    int running = 0;
    curl_multi_perform(pl->m, &running);
    if (running)
        curl_multi_poll(pl->m, NULL, 0, wait_ms, NULL);
    curl_multi_perform(pl->m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(pl->m, &left)))
        if (msg->msg == CURLMSG_DONE) {
            pl->result = msg->data.result;
            pl->done = true;
        }
    if (!running)
        pl->done = true;
}

/* Never blocks (the server's event loops call it): takes what the agent has
 * sent, or asks to be called again in POLL_MS. */
static enum api_stream_rc podlog_next(struct api_stream *st, struct strbuf *out)
{
    struct podlog *pl = (struct podlog *)st;
    if (!pl->pending.len && !pl->done && !pl->ctx->stopping)
        pump(pl, 0);
    if (pl->pending.len) {
        strbuf_add(out, pl->pending.buf, pl->pending.len);
        strbuf_reset(&pl->pending);
        if (pl->paused) {
            pl->paused = false;
            curl_easy_pause(pl->h, CURLPAUSE_CONT);
        }
        return API_STREAM_MORE;
    }
    if (pl->done || pl->ctx->stopping)
        return API_STREAM_END;
    atomic_store(&st->wake_at_ns, mtime_now_ns() + (int64_t)POLL_MS * 1000000);
    return API_STREAM_WAIT;
}

static void podlog_free(struct api_stream *st)
{
    struct podlog *pl = (struct podlog *)st;
    if (pl->h) {
        curl_multi_remove_handle(pl->m, pl->h);
        curl_easy_cleanup(pl->h);
    }
    if (pl->m)
        curl_multi_cleanup(pl->m);
    strbuf_release(&pl->pending);
    free(pl);
}

/* The container the request names: ?container, or the pod's only container,
 * or its kubectl.kubernetes.io/default-container. Writes it to out; -1 with e
 * filled (400) when none or an unknown one is named. */
static int pick_container(const struct api_req *req, json_t *pod, const char *pod_name, char *out,
                          size_t size, struct err *e)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *cs = json_object_get(spec, "containers"),
           *ics = json_object_get(spec, "initContainers");
    const char *want = api_req_query(req, "container");
    if (!want || !*want) {
        json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
        want = json_string_value(json_object_get(ann, "kubectl.kubernetes.io/default-container"));
    }
    if ((!want || !*want) && json_array_size(cs) == 1)
        want = json_string_value(json_object_get(json_array_get(cs, 0), "name"));
    char names[512] = "";
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && want && !strcmp(n, want))
            return snprintf(out, size, "%s", n) < (int)size ? 0 : errf(e, API_EBADREQ, "name");
        if (n)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? " " : "", n);
    }
    json_array_foreach(ics, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && want && !strcmp(n, want))
            return snprintf(out, size, "%s", n) < (int)size ? 0 : errf(e, API_EBADREQ, "name");
    }
    if (!want || !*want)
        return errf(e, API_EBADREQ,
                    "a container name must be specified for pod %s, choose one of: [%s]", pod_name,
                    names);
    return errf(e, API_EBADREQ, "container %s is not valid for pod %s", want, pod_name);
}

/* The node's InternalIP and log port; -1 with e filled when it has neither. */
static int node_endpoint(struct api_ctx *ctx, const char *node, char *ip, size_t size, long *port,
                         struct err *e)
{
    char key[STORE_KEY_MAX];
    struct store_kv *kv = NULL;
    if (api__key(api_registry_find("", "v1", "nodes"), "", node, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, e) < 0)
        return errf(e, STORE_ENOTFOUND, "nodes \"%s\" not found", node);
    json_t *n = json_loadb(kv->value, kv->value_len, 0, NULL);
    store_kv_unref(kv);
    json_t *st = json_object_get(n, "status");
    const char *addr = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(st, "addresses"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (type && !strcmp(type, "InternalIP"))
            addr = json_string_value(json_object_get(a, "address"));
    }
    *port = (long)json_integer_value(json_object_get(
        json_object_get(json_object_get(st, "daemonEndpoints"), "kubeletEndpoint"), "Port"));
    int rc = 0;
    if (!addr || !*addr || strlen(addr) >= size || strchr(addr, '/'))
        rc = errf(e, EIO, "node %s has no InternalIP address: is its agent running?", node);
    else if (*port <= 0 || *port > 65535)
        rc = errf(e, EIO, "node %s has no kubelet endpoint port: is its agent running?", node);
    else
        memcpy(ip, addr, strlen(addr) + 1);
    json_decref(n);
    return rc;
}

/* Appends the pass-through query parameters to url. Only plain tokens are
 * passed, so nothing needs escaping. */
static int add_query(const struct api_req *req, struct strbuf *url, struct err *e)
{
    static const char *const keys[] = {"follow",     "tailLines", "limitBytes",
                                       "timestamps", "previous",  "sinceSeconds"};
    char sep = '?';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = api_req_query(req, keys[i]);
        if (!v)
            continue;
        for (const char *p = v; *p; p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '-'))
                return errf(e, API_EBADREQ, "%s: invalid value \"%.40s\"", keys[i], v);
        strbuf_addf(url, "%c%s=%s", sep, keys[i], v);
        sep = '&';
    }
    return 0;
}

void api__pod_log(struct api_ctx *ctx, const struct api_req *req, const struct api_target *t,
                  struct api_resp *r)
{
    struct err e;
    err_clear(&e);
    struct api_obj_ref ref = {t->kind, t->name};
    struct strbuf url;
    strbuf_init(&url, 4096);
    struct podlog *pl = NULL;
    json_t *pod = NULL;
    char key[STORE_KEY_MAX], container[256], ip[64];
    long port = 0;
    struct store_kv *kv = NULL;
    if (api__key(t->kind, t->ns, t->name, key, sizeof key) < 0 ||
        store_get(ctx->store, key, &kv, &e) < 0) {
        e.code = STORE_ENOTFOUND;
        goto fail;
    }
    pod = json_loadb(kv->value, kv->value_len, 0, NULL);
    store_kv_unref(kv);
    ref.kind = NULL; /* from here on the messages are whole */
    if (pick_container(req, pod, t->name, container, sizeof container, &e) < 0)
        goto fail;
    const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
    if (!node || !*node) {
        errf(&e, API_EBADREQ, "pod %s does not have a host assigned", t->name);
        goto fail;
    }
    if (node_endpoint(ctx, node, ip, sizeof ip, &port, &e) < 0)
        goto fail;
    strbuf_addf(&url, strchr(ip, ':') ? "http://[%s]:%ld" : "http://%s:%ld", ip, port);
    strbuf_addf(&url, "/containerLogs/%s/%s/%s", t->ns, t->name, container);
    if (add_query(req, &url, &e) < 0)
        goto fail;

    pl = xcalloc(1, sizeof *pl);
    pl->st.next = podlog_next;
    pl->st.free_fn = podlog_free;
    pl->ctx = ctx;
    strbuf_init(&pl->pending, PENDING_MAX + CURL_MAX_WRITE_SIZE);
    pl->m = curl_multi_init();
    pl->h = curl_easy_init();
    if (!pl->m || !pl->h) {
        errf(&e, EIO, "cannot start an HTTP client");
        goto fail;
    }
    curl_easy_setopt(pl->h, CURLOPT_URL, url.buf);
    curl_easy_setopt(pl->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(pl->h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt(pl->h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(pl->h, CURLOPT_WRITEDATA, pl);
    curl_easy_setopt(pl->h, CURLOPT_PROTOCOLS_STR, "http");
    curl_multi_add_handle(pl->m, pl->h);

    /* Until the agent's status line is in (or the transfer ends). */
    long code = 0;
    int64_t deadline = mtime_now_ns() + HEADERS_WAIT_NS;
    while (!pl->done && !ctx->stopping && mtime_now_ns() < deadline) {
        pump(pl, POLL_MS);
        curl_easy_getinfo(pl->h, CURLINFO_RESPONSE_CODE, &code);
        if (code)
            break;
    }
    curl_easy_getinfo(pl->h, CURLINFO_RESPONSE_CODE, &code);
    if (!code) {
        errf(&e, EIO, "Get \"%s\": %s", url.buf,
             pl->done ? curl_easy_strerror(pl->result) : "no answer from the node's agent");
        goto fail;
    }
    if (code != 200) {
        /* The agent's own words (plain text), as the Status message. */
        while (!pl->done && !ctx->stopping && pl->pending.len < ERROR_BODY_MAX &&
               mtime_now_ns() < deadline)
            pump(pl, POLL_MS);
        size_t n = pl->pending.len;
        while (n && (pl->pending.buf[n - 1] == '\n' || pl->pending.buf[n - 1] == '\r'))
            n--;
        errf(&e,
             code == 404   ? STORE_ENOTFOUND
             : code == 400 ? API_EBADREQ
                           : EIO,
             "%.*s", (int)(n > 180 ? 180 : n), pl->pending.buf);
        goto fail;
    }
    r->code = 200;
    r->content_type = "text/plain";
    r->stream = &pl->st;
    strbuf_release(&url);
    json_decref(pod);
    return;
fail:
    if (pl)
        podlog_free(&pl->st);
    strbuf_release(&url);
    json_decref(pod);
    api__fail(r, &e, ref.kind ? &ref : NULL);
}
