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
 * Threads: one thread per connection (libmicrohttpd's), so a watch may block in
 * its reader; every function here is thread-safe.
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
};

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

/* A streamed response body (a watch): next() appends the next piece to out and
 * returns 1, 0 at the end of the stream; free_fn releases it. next() may block. */
struct api_stream {
    int (*next)(struct api_stream *st, struct strbuf *out);
    void (*free_fn)(struct api_stream *st);
};

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
};

void api_resp_init(struct api_resp *r);
void api_resp_release(struct api_resp *r);

/* Serves one request into r (which the caller has api_resp_init'ed and later
 * releases). Never fails: every problem is a Status response. */
void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *r);

/* The value of query parameter key, or NULL. */
const char *api_req_query(const struct api_req *req, const char *key);

#endif
