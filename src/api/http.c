/*
 * api/http: libmicrohttpd glue. Collects a request (headers, query, a capped
 * body), hands it to api_handle() and sends the response, streaming watches
 * through a content-reader callback.
 *
 * Limits against slow or hostile clients: a connection cap and a per-IP cap, an
 * idle timeout (lifted for watch streams, which are idle by nature), a memory
 * cap per connection that bounds the request line and headers (libmicrohttpd
 * answers 431 past it), and API_BODY_MAX for bodies: a Content-Length over it is
 * refused before the body is read, a chunked body is dropped as it grows past it;
 * both are 413.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "base/alloc.h"
#include "base/log.h"

struct api_server {
    struct MHD_Daemon *d;
    struct api_ctx ctx;
    struct api__ns_worker *ns_worker; /* the namespace finalizer (namespace.c) */
    int port;
};

/* Per-request state between libmicrohttpd's calls. */
struct conn {
    struct strbuf body;
    bool too_big;
};

/* A streamed response in flight. */
struct stream_state {
    struct api_stream *st;
    struct strbuf pending;
    size_t off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_state *s = cls;
    if (s->off == s->pending.len) {
        strbuf_reset(&s->pending);
        s->off = 0;
        if (s->st->next(s->st, &s->pending) <= 0 && s->pending.len == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->pending.len - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->pending.buf + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream_state *s = cls;
    s->st->free_fn(s->st);
    strbuf_release(&s->pending);
    free(s);
}

struct query_collect {
    struct api_req *req;
};

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

static enum MHD_Result send_resp(struct MHD_Connection *c, struct api_resp *r)
{
    struct MHD_Response *resp;
    if (r->stream) {
        struct stream_state *s = xcalloc(1, sizeof *s);
        s->st = r->stream;
        r->stream = NULL;
        strbuf_init(&s->pending, STORE_VALUE_MAX + 4096);
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s,
                                                 stream_free);
        /* A watch is idle until something changes: no idle timeout. */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0);
    } else {
        size_t len;
        char *body = strbuf_take(&r->body, &len);
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    if (r->warning[0])
        MHD_add_response_header(resp, "Warning", r->warning);
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->code, resp);
    MHD_destroy_response(resp);
    return rc;
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

/* Like send_resp, and asks libmicrohttpd to close the connection after it. */
static enum MHD_Result send_resp_close(struct MHD_Connection *c, struct api_resp *r)
{
    size_t len;
    char *body = strbuf_take(&r->body, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "Connection", "close");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)r->code, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct api_server *srv = cls;
    struct conn *cn = *con_cls;
    if (!cn) {
        cn = xcalloc(1, sizeof *cn);
        strbuf_init(&cn->body, API_BODY_MAX);
        *con_cls = cn;
        if (ambiguous_framing(c)) {
            struct api_resp r;
            api_resp_init(&r);
            struct err e;
            errf(&e, API_EBADREQ, "ambiguous request framing: several Content-Length headers, "
                                  "or Content-Length with Transfer-Encoding");
            api__fail(&r, &e, NULL);
            enum MHD_Result rc = send_resp_close(c, &r);
            api_resp_release(&r);
            cn->too_big = true;
            return rc;
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
            /* Refuse before reading: libmicrohttpd then closes the connection. */
            struct api_req req = {.method = method, .path = url, .body_too_big = true};
            struct api_resp r;
            api_resp_init(&r);
            api_handle(&srv->ctx, &req, &r);
            enum MHD_Result rc = send_resp(c, &r);
            api_resp_release(&r);
            cn->too_big = true;
            return rc;
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!cn->too_big && strbuf_add(&cn->body, upload_data, *upload_data_size) < 0) {
            cn->too_big = true;
            strbuf_release(&cn->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct api_req req = {
        .method = method,
        .path = url,
        .accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"),
        .body = cn->body.len ? cn->body.buf : NULL,
        .body_len = cn->body.len,
        .body_too_big = cn->too_big,
    };
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &req);
    struct api_resp r;
    api_resp_init(&r);
    api_handle(&srv->ctx, &req, &r);
    if (log_enabled(LOG_LEVEL_DEBUG))
        log_write(LOG_LEVEL_DEBUG, "%s %s -> %d", method, url, r.code);
    enum MHD_Result rc = send_resp(c, &r);
    api_resp_release(&r);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *cn = *con_cls;
    if (!cn)
        return;
    strbuf_release(&cn->body);
    free(cn);
    *con_cls = NULL;
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
    srv->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
        NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 1024u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip ? o->max_per_ip : 512u,
        MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_s ? o->connection_timeout_s : 60u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_HEADER_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_END);
    if (!srv->d) {
        errf(e, EADDRINUSE, "cannot listen on %s:%d (in use, or not permitted)", host, o->port);
        free(srv);
        return NULL;
    }
    srv->ns_worker = api__ns_worker_start(&srv->ctx, e);
    if (!srv->ns_worker) {
        MHD_stop_daemon(srv->d);
        free(srv);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : o->port;
    snprintf(srv->ctx.server_address, sizeof srv->ctx.server_address, "%s:%d", host, srv->port);
    return srv;
}

int api_server_port(const struct api_server *srv)
{
    return srv->port;
}

void api_server_stop(struct api_server *srv)
{
    if (!srv)
        return;
    srv->ctx.stopping = true;
    MHD_stop_daemon(srv->d);
    api__ns_worker_stop(srv->ns_worker);
    free(srv);
}
