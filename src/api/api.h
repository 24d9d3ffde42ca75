/*
 * api: the Kubernetes-compatible API server.
 *
 * api_server_start() serves the store over HTTP with libmicrohttpd: discovery
 * (legacy and aggregated v2), /version, /healthz, /readyz, and the kinds of the
 * registry (api/registry.h) under /api/v1 and /apis/<group>/<version> with
 * create, get, list, update, patch, delete, deletecollection and watch, the
 * status, binding and finalize subresources, and the namespace lifecycle
 * (NamespaceLifecycle admission, a finalizer thread that empties namespaces
 * being deleted). docs/api.md describes what is served and how.
 *
 * The HTTP layer is thin: it collects a request (headers, query, a body of at most
 * API_BODY_MAX bytes) into a struct api_req and hands it to api_handle(), which
 * knows nothing of libmicrohttpd and is what the unit tests drive.
 *
 * Threads (docs/api.md, "Serving model"): a few event-loop threads
 * (libmicrohttpd's thread pool on epoll, one per core by default) own the
 * sockets; they read requests and write answers and never wait. Each complete
 * request goes to a pool of worker threads, which run api_handle() (a write
 * waits there for its group commit) while the connection sits suspended, out of
 * its loop; the worker's last act resumes it. A watch is a suspended connection
 * too, between events: the store's watch hub resumes it, once per committed
 * batch, and its loop thread writes the shared, encoded-once frames. So a
 * thousand watches cost a thousand sockets, not a thousand threads. Every
 * function here is thread-safe.
 */
#ifndef MUSTER_API_API_H
#define MUSTER_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "store/store.h"

#define API_BODY_MAX      ((size_t)3 * 1024 * 1024) /* request bodies; more is 413 */
#define API_RESPONSE_MAX  ((size_t)1 << 30)         /* one response (a big list) */
#define API_QUERY_MAX     32                        /* query parameters kept */
#define API_HEADER_MEMORY (64 * 1024)               /* per connection: headers, buffers */

struct api_server_opts {
    const char *host;              /* "127.0.0.1" */
    int port;                      /* 0: any free port (api_server_port tells which) */
    unsigned max_connections;      /* 0: 1024 */
    unsigned max_per_ip;           /* 0: 512 */
    unsigned connection_timeout_s; /* idle connections close after this; 0: 60 */
    unsigned threads;              /* event-loop threads; 0: one per online CPU */
    unsigned workers;              /* threads that run requests; 0: API_WORKERS_DEFAULT */
};

/* Requests that wait (a write for its group commit) hold a worker each, and a
 * group commit is as large as the writes waiting for it, so the pool is sized
 * for concurrency rather than for cores; but every idle worker is one more
 * thread to wake per request. 32 measured best on 2 cores with 64 writers
 * (bench/RESULTS.md, "API server after the event-loop rewrite"). */
#define API_WORKERS_DEFAULT 64

struct api_server;

/* Starts serving store (borrowed; the caller closes it after api_server_stop).
 * Returns the server, or NULL with e filled (address in use, say). */
struct api_server *api_server_start(const struct api_server_opts *o, struct store *store,
                                    struct err *e);

/* The TCP port the server listens on. */
int api_server_port(const struct api_server *srv);

/* Ends open watches, stops the server and frees it. NULL is allowed. */
void api_server_stop(struct api_server *srv);

/* ---- namespaces ----------------------------------------------------------- */

/* Creates the namespaces every cluster has (default, kube-system, kube-public,
 * kube-node-lease) in store s where they are missing; what exists is left as
 * it is, so it is safe on every start and from several servers sharing one
 * store. api_server_start() calls it. Returns 0, or -1 with e filled. */
int api_namespaces_init(struct store *s, struct err *e);

struct api_ctx;

/* One pass of the namespace finalizer: for every namespace being deleted,
 * deletes what is in it (every namespaced kind) and, once nothing is left,
 * removes its "kubernetes" finalizer and the namespace. The server runs it in a
 * background thread, after a restart too; tests call it directly. Returns the
 * number of namespaces still being deleted (objects held by finalizers), or -1
 * with e filled. */
int api_namespaces_finalize(struct api_ctx *ctx, struct err *e);

/* ---- the request layer, independent of HTTP ----------------------------- */

struct api_param {
    const char *key, *value;
};

/* One request. Every pointer is borrowed for the duration of api_handle(). */
struct api_req {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* decoded path, without the query */
    const char *accept;       /* Accept header, or NULL */
    const char *content_type; /* Content-Type header, or NULL */
    const char *user_agent;   /* User-Agent header, or NULL (the default field manager) */
    const char *body;         /* NULL when none */
    size_t body_len;
    bool body_too_big; /* the body went past API_BODY_MAX and was dropped (413) */
    struct api_param query[API_QUERY_MAX];
    size_t n_query;
};

/* What a stream's next() returns. */
enum api_stream_rc {
    API_STREAM_END = 0,  /* the stream is over (out unchanged) */
    API_STREAM_MORE = 1, /* appended a piece to out; call again */
    API_STREAM_WAIT = 2, /* nothing ready now (out unchanged): wait for a wake */
};

/* A streamed response body (a watch), driven by an event loop: next() never
 * blocks. When it returns API_STREAM_WAIT the caller stops calling it until
 * the stream calls wake(wake_arg) (from any thread: new data, or the server
 * stopping), or until the monotonic time wake_at_ns (mtime_now_ns; 0: none)
 * that next() set passes (a deadline, a bookmark due). free_fn releases the
 * stream; after it returns, wake is never called again.
 *
 * The caller sets wake, then wake_arg (with release order), before its first
 * next(); a wake before that is lost, which is harmless since the first next()
 * looks at everything queued. */
struct api_stream {
    enum api_stream_rc (*next)(struct api_stream *st, struct strbuf *out);
    void (*free_fn)(struct api_stream *st);
    void (*wake)(void *arg);
    void *_Atomic wake_arg;
    _Atomic int64_t wake_at_ns;
};

/* Calls st's wake, if the caller has set it. Thread-safe; does not block. */
void api_stream_wake(struct api_stream *st);

/* One response: status code, content type (static string) and body; or, when
 * stream is not NULL, a chunked body produced by the stream. */
struct api_resp {
    int code;
    const char *content_type;
    struct strbuf body;
    struct api_stream *stream;
    char warning[256]; /* a Warning header to send ("" for none) */
};

/* Context shared by every request: the store and a stop flag for watches. */
struct api_ctx {
    struct store *store;
    _Atomic bool stopping;
    char server_address[64]; /* host:port for /api's serverAddressByClientCIDRs */
    bool no_splice;            /* tests: status patches through the tree path only */
    _Atomic uint64_t splices; /* status patches written on the stored text */
};

void api_resp_init(struct api_resp *r);
void api_resp_release(struct api_resp *r);

/* Serves one request into r (which the caller has api_resp_init'ed and later
 * releases). Never fails: every problem is a Status response. */
void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *r);

/* The value of query parameter key, or NULL. */
const char *api_req_query(const struct api_req *req, const char *key);

#endif
