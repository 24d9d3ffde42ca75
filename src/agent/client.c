/*
 * agent/client: HTTP to the API server, libcurl's multi interface driven by the
 * libuv loop.
 *
 * The standard pattern: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it up (CURLMOPT_TIMERFUNCTION); a
 * uv_poll_t per socket and one uv_timer_t call curl_multi_socket_action, and
 * finished transfers are collected from curl_multi_info_read. curl keeps the
 * connections alive and reuses them; CURLMOPT_MAX_HOST_CONNECTIONS bounds them.
 * Requests past twice that many wait in a queue of ours (a handle in curl's own
 * queue already holds its buffers, some 17 KB), so a thousand simulated nodes
 * writing thousands of pod statuses share a small pool in little memory. Streams
 * (watches) are long-lived and start at once, outside that bound.
 *
 * A request buffers its response (up to a cap) and calls its done callback once;
 * a stream (a watch) hands the body to its data callback piece by piece and calls
 * done at the end. Callbacks never run inside curl's own callbacks (where curl
 * refuses new transfers): a stream's bytes are buffered by the write callback and
 * handed over after curl_multi_socket_action has returned, so every callback may
 * start and cancel requests, its own included. A request is freed right after
 * its done callback, and a cancelled one never calls back.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"

#define REQ_TIMEOUT_MS 30000
#define CONNECT_MS     5000
#define BODY_MAX       ((size_t)64 << 20) /* one ordinary response */
#define LIST_BODY_MAX  ((size_t)1 << 30)  /* a list of every pod (acli_get_big) */
#define STREAM_BUF_MAX ((size_t)16 << 20) /* buffered stream bytes before curl pauses */

struct acli {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *base;       /* "http://host:port", no trailing slash */
    size_t in_flight; /* started or queued */
    size_t active;    /* requests (not streams) handed to curl */
    size_t max_active;
    struct acli_req *reqs;               /* every request handed to curl */
    struct acli_req *queue, *queue_tail; /* requests waiting for a turn, in order */
    struct sock *socks;                  /* every watched socket */
    CURL *spare[64];                     /* finished easy handles, reset, for reuse */
    size_t nspare;
};

/* An easy handle: a finished one reset (its buffers kept), else a new one. A
 * handle is some 17 KB of buffers; making and freeing one per request was a good
 * part of a simulated node's cost. */
static CURL *easy_get(struct acli *c)
{
    CURL *h = c->nspare ? c->spare[--c->nspare] : curl_easy_init();
    if (!h)
        alloc_die(0);
    return h;
}

static void easy_put(struct acli *c, CURL *h)
{
    if (c->nspare < sizeof c->spare / sizeof c->spare[0]) {
        curl_easy_reset(h);
        c->spare[c->nspare++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

struct acli_req {
    struct acli *c;
    CURL *h; /* NULL while queued */
    struct curl_slist *hdrs;
    char *url; /* owned */
    char method[8];
    char ctype[64]; /* "" for none */
    bool queued;
    char *body;         /* the request body, owned */
    struct strbuf resp; /* buffered response (requests) */
    acli_done_fn done;
    acli_data_fn data; /* streams only; resp then holds bytes not yet handed over */
    bool paused;       /* a stream whose buffer is full */
    bool in_done;      /* finished; its callbacks are running */
    void *arg;
    uint64_t cookie;
    struct acli_req *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
};

/* The poll handle of one socket curl asked us to watch. */
struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct acli *c;
    struct sock *prev, *next;
};

static void check_done(struct acli *c);
static void pump(struct acli *c);

/* Hands every stream's buffered bytes to its data callback. The callback may
 * cancel or start requests, so the list is searched again after each one. */
static void flush_streams(struct acli *c)
{
    struct strbuf chunk; /* swapped with a stream's buffer: the same limit */
    strbuf_init(&chunk, STREAM_BUF_MAX + CURL_MAX_WRITE_SIZE);
    for (;;) {
        struct acli_req *r = c->reqs;
        while (r && !(r->data && r->resp.len))
            r = r->next;
        if (!r)
            break;
        /* Swap the bytes out: the callback may free r. */
        struct strbuf tmp = chunk;
        chunk = r->resp;
        r->resp = tmp;
        strbuf_reset(&r->resp);
        if (r->paused) {
            r->paused = false;
            curl_easy_pause(r->h, CURLPAUSE_CONT);
        }
        r->data(r->arg, r->cookie, chunk.buf, chunk.len);
        strbuf_reset(&chunk);
    }
    strbuf_release(&chunk);
}

static void after_action(struct acli *c)
{
    flush_streams(c);
    check_done(c);
}

static void unlink_req(struct acli_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void free_req(struct acli_req *r)
{
    if (r->h) {
        curl_multi_remove_handle(r->c->multi, r->h);
        curl_easy_cleanup(r->h);
        r->c->in_flight--;
        if (!r->data)
            r->c->active--;
    }
    curl_slist_free_all(r->hdrs);
    free(r->url);
    free(r->body);
    strbuf_release(&r->resp);
    free(r);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    struct acli *c = s->c; /* s may be freed by the action */
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    after_action(c);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void close_sock(struct acli *c, struct sock *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct acli *c = userp;
    struct sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            close_sock(c, s);
            curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->c = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    struct acli *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    after_action(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct acli *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* Collects finished transfers and calls their callbacks. A callback may
 * cancel the request it is called for: in_done turns that into "no more
 * callbacks", and the request is freed here. */
static void check_done(struct acli *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct acli_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode res = m->data.result;
        struct acli_resp resp = {0};
        if (res == CURLE_OK)
            curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &resp.status);
        else
            resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(res);
        unlink_req(r);
        /* Off the multi handle before the callbacks, which may add others. */
        curl_multi_remove_handle(c->multi, r->h);
        easy_put(c, r->h);
        r->h = NULL;
        c->in_flight--;
        if (!r->data)
            c->active--;
        pump(c);
        r->in_done = true;
        if (r->data && r->resp.len) {
            /* A stream's last bytes, before its end. */
            struct strbuf tail = r->resp;
            strbuf_init(&r->resp, 0);
            r->data(r->arg, r->cookie, tail.buf, tail.len);
            strbuf_release(&tail);
        }
        resp.body = r->resp.buf;
        resp.len = r->resp.len;
        if (r->done)
            r->done(r->arg, r->cookie, &resp);
        free_req(r);
    }
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct acli_req *r = arg;
    size_t len = size * n;
    if (r->data && r->resp.len + len > STREAM_BUF_MAX) {
        r->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (strbuf_add(&r->resp, p, len) < 0) {
        snprintf(r->errbuf, sizeof r->errbuf, "the response is larger than %zu bytes",
                 r->resp.limit);
        return 0;
    }
    return len;
}

struct acli *acli_create(uv_loop_t *loop, const char *base, int connections, struct err *e)
{
    if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
        errf(e, EINVAL, "--server: \"%s\" is not an http:// or https:// URL", base);
        return NULL;
    }
    struct acli *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->base = xstrdup(base);
    size_t n = strlen(c->base);
    while (n && c->base[n - 1] == '/')
        c->base[--n] = 0;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c->base);
        free(c);
        errf(e, EIO, "cannot start the HTTP client");
        return NULL;
    }
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    long conns = connections > 0 ? connections : 1; /* the agent picks the default */
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, conns);
    c->max_active = (size_t)conns * 2;
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct acli *c = h->data;
    free(c->base);
    free(c);
}

void acli_destroy(struct acli *c)
{
    if (!c)
        return;
    while (c->reqs) {
        struct acli_req *r = c->reqs;
        unlink_req(r);
        free_req(r);
    }
    while (c->queue) {
        struct acli_req *r = c->queue;
        c->queue = r->next;
        free_req(r);
    }
    while (c->nspare)
        curl_easy_cleanup(c->spare[--c->nspare]);
    curl_multi_cleanup(c->multi);
    while (c->socks) /* those curl did not report removed */
        close_sock(c, c->socks);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

size_t acli_in_flight(const struct acli *c)
{
    return c->in_flight;
}

/* Hands r to curl. */
static void activate(struct acli_req *r)
{
    struct acli *c = r->c;
    r->queued = false;
    r->h = easy_get(c);
    curl_easy_setopt(r->h, CURLOPT_URL, r->url);
    curl_easy_setopt(r->h, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt(r->h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(r->h, CURLOPT_USERAGENT, "muster-agent");
    if (!r->data)
        curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)REQ_TIMEOUT_MS);
    r->hdrs = curl_slist_append(r->hdrs, "Accept: application/json");
    if (r->ctype[0]) {
        char h[128];
        snprintf(h, sizeof h, "Content-Type: %s", r->ctype);
        r->hdrs = curl_slist_append(r->hdrs, h);
    }
    /* No "Expect: 100-continue" round trip for larger bodies. */
    r->hdrs = curl_slist_append(r->hdrs, "Expect:");
    curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
    if (strcmp(r->method, "GET"))
        curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, r->method);
    if (r->body) {
        curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    }
    r->prev = NULL;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    if (!r->data)
        c->active++;
    curl_multi_add_handle(c->multi, r->h);
}

/* Hands queued requests to curl while there is room. */
static void pump(struct acli *c)
{
    while (c->queue && c->active < c->max_active) {
        struct acli_req *r = c->queue;
        c->queue = r->next;
        if (!c->queue)
            c->queue_tail = NULL;
        r->next = NULL;
        activate(r);
    }
}

static struct acli_req *start(struct acli *c, const char *method, const char *path,
                              const char *ctype, char *body, size_t limit, acli_done_fn done,
                              acli_data_fn data, void *arg, uint64_t cookie)
{
    struct acli_req *r = xcalloc(1, sizeof *r);
    r->c = c;
    r->body = body;
    r->done = done;
    r->data = data;
    r->arg = arg;
    r->cookie = cookie;
    strbuf_init(&r->resp, limit);
    r->url = xmalloc(strlen(c->base) + strlen(path) + 1);
    strcpy(r->url, c->base);
    strcat(r->url, path);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->ctype, sizeof r->ctype, "%s", ctype ? ctype : "");
    c->in_flight++;
    if (data || c->active < c->max_active) {
        activate(r);
    } else {
        r->queued = true;
        if (c->queue_tail)
            c->queue_tail->next = r;
        else
            c->queue = r;
        c->queue_tail = r;
    }
    return r;
}

struct acli_req *acli_do(struct acli *c, const char *method, const char *path, const char *ctype,
                         char *body, acli_done_fn done, void *arg, uint64_t cookie)
{
    return start(c, method, path, ctype, body, BODY_MAX, done, NULL, arg, cookie);
}

struct acli_req *acli_get_big(struct acli *c, const char *path, acli_done_fn done, void *arg,
                              uint64_t cookie)
{
    return start(c, "GET", path, NULL, NULL, LIST_BODY_MAX, done, NULL, arg, cookie);
}

struct acli_req *acli_stream(struct acli *c, const char *path, acli_data_fn data, acli_done_fn done,
                             void *arg, uint64_t cookie)
{
    return start(c, "GET", path, NULL, NULL, STREAM_BUF_MAX + CURL_MAX_WRITE_SIZE, done, data, arg,
                 cookie);
}

void acli_cancel(struct acli_req *r)
{
    if (!r)
        return;
    if (r->in_done) { /* from its own callback: check_done frees it */
        r->done = NULL;
        r->data = NULL;
        return;
    }
    if (r->queued) {
        struct acli *c = r->c;
        struct acli_req **pp = &c->queue, *prev = NULL;
        while (*pp && *pp != r) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp)
            *pp = r->next;
        if (c->queue_tail == r)
            c->queue_tail = prev;
        c->in_flight--;
        r->next = NULL;
        free_req(r);
        return;
    }
    struct acli *c = r->c;
    unlink_req(r);
    free_req(r);
    pump(c);
}
