/*
 * api/http: libmicrohttpd glue and the serving model.
 *
 * Event loops. libmicrohttpd runs a pool of `threads` event-loop threads, each
 * with its own epoll set, which accept connections, parse requests and write
 * answers. A loop thread never waits: when a request is complete it suspends
 * the connection (MHD_suspend_connection: out of its loop) and queues the
 * connection on the worker pool (base/workq.h), which runs api_handle() - a
 * write waits there for its group commit - and resumes the connection when the
 * answer is ready; the loop then sends it. The probes (/healthz, /readyz,
 * /livez, /version) and refusals are answered on the loop itself, so they stay
 * quick when every worker is busy.
 *
 * Watches. A watch answer is a stream (api.h) read by a content-reader
 * callback on the loop thread. When the stream has nothing ready, the reader
 * suspends the connection and returns 0 bytes; the store's watch hub wakes the
 * stream (once per committed batch), and the wake resumes the connection. So a
 * watch between events holds a socket and a few hundred bytes, not a thread,
 * and an event costs each watcher one resume and one write of the frame that
 * was encoded once for all. One timer thread wakes the streams whose
 * wake_at_ns has passed (timeoutSeconds, bookmarks).
 *
 * The suspend/resume handshake. libmicrohttpd must never be asked to resume a
 * connection that is not suspended, nor left with a suspended connection that
 * nobody will resume. For a worker's request: the loop suspends before it
 * queues the job, and the job resumes it once, as its last act. For a stream,
 * `woken` and `suspended`: the reader clears woken before it asks the stream
 * for more, and suspends, under the stream's mutex, only if no wake came since;
 * a wake, under the same mutex, sets woken and resumes the connection if it
 * is suspended.
 *
 * One libmicrohttpd 0.9.75 quirk shapes the hand-off. A connection suspended
 * from the call that completes a request keeps the event-loop state it had
 * while reading ("read"), and on resume libmicrohttpd reads once more before
 * anything else: a client that half-closed after its request (shutdown of its
 * sending side, as `nc` and some scripts do) then reads as gone, and its answer
 * is dropped. So that call only asks to be called again (it returns without an
 * answer; the connection stays on the loop's ready list, in the "block" state)
 * and the next pass of the loop, a moment later, suspends it: then the resume
 * does not read. A stream suspends while sending, so it is not affected.
 *
 * Shutdown: api_server_stop sets ctx.stopping (after which nothing is
 * suspended any more: requests are answered on the loop, streams end), wakes
 * every stream, waits for the jobs in flight and (briefly) for the streams to
 * send their last chunk, then stops libmicrohttpd, which requires that no
 * connection is left suspended. docs/internals/http.md has the invariants.
 *
 * Limits against slow or hostile clients: a connection cap and a per-IP cap, an
 * idle timeout (lifted for watch streams, which are idle by nature), a memory
 * cap per connection that bounds the request line and headers (libmicrohttpd
 * answers 431 past it), and API_BODY_MAX for bodies: a Content-Length over it is
 * refused before the body is read, a chunked body is dropped as it grows past it;
 * both are 413. Ambiguous framing is refused before the body is read.
 *
 * Allocation: each connection keeps its request-body and answer buffers across
 * the requests of a keep-alive connection (up to CONN_KEEP_BYTES each), and the
 * answer is handed to libmicrohttpd without a copy.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/mtime.h"
#include "base/workq.h"

/* A connection's buffers larger than this are freed after each request
 * rather than kept for the next (a 100 MiB list answer should not stay). */
#define CONN_KEEP_BYTES ((size_t)256 * 1024)

/* A worker that built an answer this large returns freed memory to the
 * system (see conn_work). */
#define TRIM_AFTER_BYTES ((size_t)16 << 20)

/* api_server_stop waits at most this long for open watches to end. */
#define STOP_STREAMS_S 2

/* The timer looks at the streams' wake_at_ns at least this often. */
#define TICK_NS ((int64_t)100 * 1000000)

struct stream;

struct api_server {
    struct MHD_Daemon *d;
    struct api_ctx ctx;
    struct api__ns_worker *ns_worker; /* the namespace finalizer (namespace.c) */
    int port;
    struct workq *workers;

    pthread_mutex_t mu;     /* guards what follows */
    pthread_cond_t cv;      /* inflight reaching 0; the timer's sleep */
    unsigned inflight;      /* connections suspended for a worker */
    struct stream *streams; /* open streams, doubly linked */
    bool timer_stop;
    pthread_t timer;
};

/* Per connection (libmicrohttpd's socket context), across its requests. */
struct conn {
    struct workq_job job; /* first: the job is the connection */
    struct api_server *srv;
    struct MHD_Connection *c;
    struct strbuf body; /* the request body */
    struct strbuf out;  /* the answer being sent */
    /* The request in progress. */
    bool too_big;
    bool deferred;         /* its completing call asked to be called again */
    bool queued;           /* handed to a worker */
    _Atomic bool answered; /* the worker filled resp */
    struct api_req req;
    struct api_resp resp;
};

/* A streamed answer in flight. */
struct stream {
    struct api_server *srv;
    struct MHD_Connection *c;
    struct api_stream *st;
    struct strbuf pending; /* the piece being copied out */
    size_t off;
    bool ended;
    pthread_mutex_t mu;   /* guards suspended, and woken's setting */
    _Atomic bool woken;   /* a wake came since the reader last looked */
    bool suspended;
    struct stream *prev, *next; /* srv->streams; guarded by srv->mu */
};

/* ---- streams ------------------------------------------------------------- */

/* The stream's wake (api_stream.wake): from the store's publishing thread, the
 * timer or api_server_stop. */
static void stream_wake(void *arg)
{
    struct stream *s = arg;
    pthread_mutex_lock(&s->mu);
    s->woken = true;
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->c);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Suspends the connection unless a wake came since woken was cleared, or the
 * server is stopping. Returns whether it did. */
static bool stream_try_suspend(struct stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool suspend = !s->woken && !s->srv->ctx.stopping;
    if (suspend) {
        s->suspended = true;
        MHD_suspend_connection(s->c);
    }
    pthread_mutex_unlock(&s->mu);
    return suspend;
}

/* libmicrohttpd's content reader: fills buf with as many pieces as fit, so
 * that the events of one batch leave in one chunk and one write. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n = 0;
    /* Cleared before the first next(): a wake before this point is for events
     * that next() will find, one after it is seen by stream_try_suspend. No
     * lock needed: only a wake sets it. */
    atomic_store(&s->woken, false);
    while (n < max) {
        if (s->off < s->pending.len) {
            size_t k = s->pending.len - s->off;
            if (k > max - n)
                k = max - n;
            memcpy(buf + n, s->pending.buf + s->off, k);
            s->off += k;
            n += k;
            continue;
        }
        if (s->ended)
            break;
        strbuf_reset(&s->pending);
        s->off = 0;
        enum api_stream_rc rc = s->st->next(s->st, &s->pending);
        if (rc == API_STREAM_MORE)
            continue;
        if (rc == API_STREAM_END) {
            s->ended = true;
            break;
        }
        if (n)
            break; /* send what there is; the next call will wait */
        if (stream_try_suspend(s))
            return 0;
        /* A wake came while next() looked: clear it and look again. Left set,
         * it would refuse every later suspend, and this loop would spin here
         * for good whenever the wake brought nothing this watch wants. */
        atomic_store(&s->woken, false);
    }
    if (!n && s->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct api_server *srv = s->srv;
    /* First out of the list (no wake from the timer or the stop after this:
     * the timer reads s->st, so st must outlive the unlinking), then the stream
     * (its store watch: no wake from the hub after that). Until s is freed at
     * the end a hub wake still finds it whole. The stop, woken below, goes on
     * to MHD_stop_daemon, which waits for this thread. */
    pthread_mutex_lock(&srv->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (!srv->streams && srv->ctx.stopping)
        pthread_cond_broadcast(&srv->cv); /* api_server_stop waits for this */
    pthread_mutex_unlock(&srv->mu);
    s->st->free_fn(s->st);
    strbuf_release(&s->pending);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Takes st over and makes the response that streams it on c; NULL (st freed)
 * when libmicrohttpd has no memory for it. */
static struct MHD_Response *stream_start(struct api_server *srv, struct MHD_Connection *c,
                                         struct api_stream *st)
{
    struct stream *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    s->c = c;
    s->st = st;
    strbuf_init(&s->pending, STORE_VALUE_MAX + 4096);
    pthread_mutex_init(&s->mu, NULL);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
    if (!resp) {
        st->free_fn(st);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&srv->mu);
    s->next = srv->streams;
    if (s->next)
        s->next->prev = s;
    srv->streams = s;
    pthread_cond_broadcast(&srv->cv); /* the timer may be asleep with no stream */
    pthread_mutex_unlock(&srv->mu);
    st->wake = stream_wake;
    atomic_store_explicit(&st->wake_arg, s, memory_order_release);
    return resp;
}

/* The timer thread: wakes the streams whose wake_at_ns has passed. */
static void *timer_main(void *arg)
{
    struct api_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->timer_stop) {
        int64_t now = mtime_now_ns();
        for (struct stream *s = srv->streams; s; s = s->next) {
            int64_t at = atomic_load(&s->st->wake_at_ns);
            if (at && at <= now && atomic_compare_exchange_strong(&s->st->wake_at_ns, &at, 0))
                stream_wake(s);
        }
        if (!srv->streams) {
            pthread_cond_wait(&srv->cv, &srv->mu);
            continue;
        }
        /* The condition variable runs on CLOCK_MONOTONIC, like mtime_now_ns. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + TICK_NS;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&srv->cv, &srv->mu, &until);
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* ---- answers ------------------------------------------------------------- */

/* Queues cn's answer (cn->resp) on its connection. The body moves into cn->out,
 * where libmicrohttpd reads it without a copy until the request completes; a
 * stream moves into the response. close asks for the connection to close after
 * it. Releases cn->resp. */
static enum MHD_Result answer(struct conn *cn, bool close)
{
    struct api_resp *r = &cn->resp;
    struct MHD_Connection *c = cn->c;
    struct MHD_Response *resp;
    if (log_enabled(LOG_LEVEL_DEBUG))
        log_write(LOG_LEVEL_DEBUG, "%s %s -> %d", cn->req.method, cn->req.path, r->code);
    if (r->stream) {
        resp = stream_start(cn->srv, c, r->stream);
        r->stream = NULL;
        /* A watch is idle until something changes: no idle timeout. */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0);
    } else {
        strbuf_release(&cn->out);
        cn->out = r->body;
        strbuf_init(&r->body, API_RESPONSE_MAX);
        resp = MHD_create_response_from_buffer(cn->out.len, cn->out.buf, MHD_RESPMEM_PERSISTENT);
    }
    enum MHD_Result rc = MHD_NO;
    if (resp) {
        MHD_add_response_header(resp, "Content-Type", r->content_type);
        MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
        if (r->warning[0])
            MHD_add_response_header(resp, "Warning", r->warning);
        if (close)
            MHD_add_response_header(resp, "Connection", "close");
        rc = MHD_queue_response(c, (unsigned)r->code, resp);
        MHD_destroy_response(resp);
    }
    api_resp_release(r);
    return rc;
}

/* Prepares cn->resp for an answer; its body is the connection's kept buffer. */
static void resp_start(struct conn *cn)
{
    api_resp_init(&cn->resp);
    strbuf_release(&cn->resp.body);
    cn->resp.body = cn->out;
    strbuf_init(&cn->out, API_RESPONSE_MAX);
}

/* ---- requests ------------------------------------------------------------ */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct api_req *req = cls;
    if (req->n_query < API_QUERY_MAX) {
        req->query[req->n_query].key = key;
        req->query[req->n_query].value = value;
        req->n_query++;
    }
    return MHD_YES;
}

/* Counts the Content-Length headers of a request and notes a comma in one. */
static enum MHD_Result count_cl(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    int *n = cls;
    if (key && strcasecmp(key, "Content-Length") == 0) {
        n[0]++;
        if (value && strchr(value, ','))
            n[1] = 1;
    }
    return MHD_YES;
}

/* Framing a request could be read two ways (RFC 9112 section 6.3): several
 * Content-Length headers, a list in one, or Content-Length beside
 * Transfer-Encoding. A server and a proxy that disagree on where the body ends
 * let a second request be smuggled in, so such a request is refused before its
 * body is read, and the connection closes. */
static bool ambiguous_framing(struct MHD_Connection *c)
{
    int n[2] = {0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_cl, n);
    if (n[0] > 1 || n[1])
        return true;
    return n[0] == 1 &&
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

/* Requests answered on the event loop: they never wait. */
static bool on_loop(const struct api_req *req)
{
    static const char *const probes[] = {"/healthz", "/readyz", "/livez", "/version"};
    if (req->body_too_big)
        return true;
    if (strcmp(req->method, "GET") != 0)
        return false;
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++)
        if (!strcmp(req->path, probes[i]))
            return true;
    return false;
}

/* A worker: answers the request, then lets the loop send it. */
static void conn_work(struct workq_job *job)
{
    struct conn *cn = (struct conn *)job;
    struct api_server *srv = cn->srv;
    api_handle(&srv->ctx, &cn->req, &cn->resp);
    /* A big answer (a list of every Node) had as big temporaries, freed by
     * now into this worker's malloc arena; with dozens of workers, each arena
     * would keep its own such heap for good. Give the pages back. */
    if (cn->resp.body.len >= TRIM_AFTER_BYTES)
        malloc_trim(0);
    atomic_store(&cn->answered, true);
    /* After the resume cn belongs to the loop again (and may be gone). */
    MHD_resume_connection(cn->c);
    pthread_mutex_lock(&srv->mu);
    if (--srv->inflight == 0)
        pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

/* The first call for a request: refusals that come before the body is read. */
static enum MHD_Result request_start(struct conn *cn, const char *url, const char *method)
{
    struct MHD_Connection *c = cn->c;
    if (ambiguous_framing(c)) {
        resp_start(cn);
        struct err e;
        errf(&e, API_EBADREQ, "ambiguous request framing: several Content-Length headers, "
                              "or Content-Length with Transfer-Encoding");
        api__fail(&cn->resp, &e, NULL);
        cn->too_big = true;
        return answer(cn, true);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
        /* Refuse before reading: libmicrohttpd then closes the connection. */
        cn->req = (struct api_req){.method = method, .path = url, .body_too_big = true};
        resp_start(cn);
        api_handle(&cn->srv->ctx, &cn->req, &cn->resp);
        cn->too_big = true;
        return answer(cn, false);
    }
    return MHD_YES;
}

/* The request is complete: answer it here, or hand it to a worker. */
static enum MHD_Result request_complete(struct conn *cn, const char *url, const char *method)
{
    struct api_server *srv = cn->srv;
    struct MHD_Connection *c = cn->c;
    if (cn->queued) /* resumed by its worker */
        return atomic_load(&cn->answered) ? answer(cn, false) : MHD_YES;
    cn->req = (struct api_req){
        .method = method,
        .path = url,
        .body = cn->body.len ? cn->body.buf : NULL,
        .body_len = cn->body.len,
        .body_too_big = cn->too_big,
    };
    bool hand_off = !on_loop(&cn->req);
    if (hand_off && !cn->deferred) {
        cn->deferred = true; /* see the top of the file */
        return MHD_YES;
    }
    cn->req.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    cn->req.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    cn->req.user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &cn->req);
    resp_start(cn);
    if (hand_off) {
        pthread_mutex_lock(&srv->mu);
        /* Once stopping, nothing is suspended any more (api_server_stop). */
        hand_off = !srv->ctx.stopping;
        if (hand_off) {
            srv->inflight++;
            cn->queued = true;
            MHD_suspend_connection(c);
        }
        pthread_mutex_unlock(&srv->mu);
    }
    if (hand_off) {
        workq_push(srv->workers, &cn->job);
        return MHD_YES;
    }
    api_handle(&srv->ctx, &cn->req, &cn->resp);
    return answer(cn, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *cn = ci ? ci->socket_context : NULL;
    if (!cn)
        return MHD_NO;
    if (!*con_cls) {
        *con_cls = cn;
        return request_start(cn, url, method);
    }
    if (*upload_data_size) {
        if (!cn->too_big && strbuf_add(&cn->body, upload_data, *upload_data_size) < 0) {
            cn->too_big = true;
            strbuf_release(&cn->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return request_complete(cn, url, method);
}

/* The request is over (answered, or the connection failed): its state goes,
 * the connection's buffers stay for the next one unless they grew large. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *cn = *con_cls;
    if (!cn)
        return;
    *con_cls = NULL;
    if (cn->body.cap > CONN_KEEP_BYTES)
        strbuf_release(&cn->body);
    else
        strbuf_reset(&cn->body);
    if (cn->out.cap > CONN_KEEP_BYTES)
        strbuf_release(&cn->out);
    else
        strbuf_reset(&cn->out);
    api_resp_release(&cn->resp);
    cn->too_big = cn->deferred = cn->queued = false;
    atomic_store(&cn->answered, false);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *cn = xcalloc(1, sizeof *cn);
        cn->job.fn = conn_work;
        cn->srv = cls;
        cn->c = c;
        strbuf_init(&cn->body, API_BODY_MAX);
        strbuf_init(&cn->out, API_RESPONSE_MAX);
        api_resp_init(&cn->resp);
        *socket_context = cn;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn *cn = *socket_context;
        if (!cn)
            return;
        strbuf_release(&cn->body);
        strbuf_release(&cn->out);
        api_resp_release(&cn->resp);
        free(cn);
        *socket_context = NULL;
    }
}

/* ---- the server ---------------------------------------------------------- */

static unsigned online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

struct api_server *api_server_start(const struct api_server_opts *o, struct store *store,
                                    struct err *e)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    const char *host = o->host ? o->host : "127.0.0.1";
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errf(e, EINVAL, "listen address \"%s\" is not an IPv4 address", host);
        return NULL;
    }
    if (api_namespaces_init(store, e) < 0)
        return NULL;
    struct api_server *srv = xcalloc(1, sizeof *srv);
    srv->ctx.store = store;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->cv, &ca);
    pthread_condattr_destroy(&ca);
    unsigned threads = o->threads ? o->threads : online_cpus();
    srv->workers = workq_create(o->workers ? o->workers : API_WORKERS_DEFAULT, "api-worker");
    if (pthread_create(&srv->timer, NULL, timer_main, srv)) {
        errf(e, EAGAIN, "cannot start the watch timer thread");
        goto fail;
    }
    pthread_setname_np(srv->timer, "api-timer");
    srv->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        threads, MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 1024u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip ? o->max_per_ip : 512u,
        MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_s ? o->connection_timeout_s : 60u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_HEADER_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
    if (!srv->d) {
        errf(e, EADDRINUSE, "cannot listen on %s:%d (in use, or not permitted)", host, o->port);
        goto stop_timer;
    }
    srv->ns_worker = api__ns_worker_start(&srv->ctx, e);
    if (!srv->ns_worker) {
        MHD_stop_daemon(srv->d);
        goto stop_timer;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : o->port;
    snprintf(srv->ctx.server_address, sizeof srv->ctx.server_address, "%s:%d", host, srv->port);
    return srv;
stop_timer:
    pthread_mutex_lock(&srv->mu);
    srv->timer_stop = true;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->timer, NULL);
fail:
    workq_destroy(srv->workers);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    return NULL;
}

int api_server_port(const struct api_server *srv)
{
    return srv->port;
}

void api_server_stop(struct api_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->mu);
    srv->ctx.stopping = true;
    /* Every stream ends at its next read; a suspended one is resumed for it. */
    for (struct stream *s = srv->streams; s; s = s->next)
        stream_wake(s);
    while (srv->inflight)
        pthread_cond_wait(&srv->cv, &srv->mu);
    /* Give the streams a moment to send their last chunk, so that a watcher
     * sees its watch end rather than its connection drop; not forever, since a
     * client that does not read may never take it. */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += STOP_STREAMS_S;
    while (srv->streams && !pthread_cond_timedwait(&srv->cv, &srv->mu, &until))
        ;
    srv->timer_stop = true;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->timer, NULL);
    /* No connection is suspended now, nor will be: libmicrohttpd may stop. */
    MHD_stop_daemon(srv->d);
    api__ns_worker_stop(srv->ns_worker);
    workq_destroy(srv->workers);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}
