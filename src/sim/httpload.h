/*
 * sim/httpload: a small HTTP/1.1 load client on one epoll loop.
 *
 * For benchmarks that drive the API server from the same process: many
 * keep-alive connections, each with at most one request in flight, all served
 * by one thread so that the client costs little next to the server it
 * measures. A connection is either request/response (the whole body is
 * collected, Content-Length or chunked, and handed to on_response) or
 * streaming (a watch: the decoded body is handed to on_data as it arrives,
 * until the server closes it).
 *
 * Callbacks run inside httpload_poll() and may send the next request on the
 * same connection (a closed-loop client). Every buffer has a hard cap
 * (HTTPLOAD_BODY_MAX for a response body); past it the connection fails.
 *
 * Ownership: the caller owns the loop (httpload_create / httpload_destroy);
 * connections belong to the loop and are freed with it. Not thread-safe.
 */
#ifndef MUSTER_SIM_HTTPLOAD_H
#define MUSTER_SIM_HTTPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The largest response body collected (a full list of 130,000 Nodes is ~100 MB). */
#define HTTPLOAD_BODY_MAX ((size_t)1 << 30)

struct httpload;
struct httpload_conn;

struct httpload_cbs {
    void *ctx;
    /* A complete response: status code, body (NUL-terminated, owned by the
     * connection until the callback returns), and the time since the request
     * was sent. */
    void (*on_response)(void *ctx, struct httpload_conn *c, int status, const char *body,
                        size_t len, int64_t latency_ns);
    /* Streaming connections: the response headers arrived (status given). */
    void (*on_stream_start)(void *ctx, struct httpload_conn *c, int status);
    /* Streaming connections: decoded body bytes. */
    void (*on_data)(void *ctx, struct httpload_conn *c, const char *data, size_t len);
    /* The connection failed or was closed by the server; msg says why. The
     * connection is dead (no more sends) but stays allocated until destroy. */
    void (*on_close)(void *ctx, struct httpload_conn *c, const char *msg);
};

/* A loop for connections to host:port (IPv4 dotted quad). Never NULL. */
struct httpload *httpload_create(const char *host, int port, const struct httpload_cbs *cbs);

/* Closes every connection and frees the loop. Accepts NULL. */
void httpload_destroy(struct httpload *h);

/* Opens a connection (blocking connect), from source address src_ip when not
 * NULL (any 127.x.y.z works on Linux loopback: it lets a benchmark exceed a
 * server's per-address connection cap, as many real clients would). id is the
 * caller's tag, read back with httpload_conn_id. NULL with e filled on failure. */
struct httpload_conn *httpload_connect(struct httpload *h, const char *src_ip, size_t id,
                                       struct err *e);

size_t httpload_conn_id(const struct httpload_conn *c);

/* Sends one request on c, which must have none in flight. body may be NULL.
 * stream: the response body is handed to on_data instead of collected.
 * Returns 0, or -1 when the connection is dead. */
int httpload_send(struct httpload_conn *c, const char *method, const char *path,
                  const char *content_type, const char *body, size_t body_len, bool stream);

/* Runs the loop for at most timeout_ms (-1: until one event batch arrives).
 * Returns the number of ready connections handled, or -1 with e filled on a
 * failure of the loop itself. */
int httpload_poll(struct httpload *h, int timeout_ms, struct err *e);

/* Closes c now (a watcher going away); on_close is not called. */
void httpload_close(struct httpload_conn *c);

#endif
