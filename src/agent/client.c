/*
 * agent/client: HTTP/1.1 to the API server on the libuv loop.
 *
 * The server speaks plain HTTP/1.1 with keep-alive, and the agent only ever
 * talks to it, so the client is small: a pool of at most `connections`
 * keep-alive TCP connections for requests, one at a time on each (no
 * pipelining), and a connection of its own for each stream (a watch). Requests
 * past the pool wait in a queue of ours, in order. A thousand simulated nodes
 * writing thousands of pod statuses share the pool; each request costs one
 * write of its head and body and the parse of one response, with nothing parsed
 * twice (libcurl, used before, re-parsed and re-printed the URL of every
 * request: more than half of a simulated agent's instructions).
 *
 * A request buffers its response (up to a cap) and calls its done callback
 * once; a stream hands the body to its data callback piece by piece and calls
 * done at the end. A callback never runs inside a call of the client's
 * (acli_do, acli_cancel...): a failure found there is answered on the loop's
 * next turn. Callbacks may start and cancel requests, their own included: a
 * request cancelled from inside one of its callbacks is only marked (in_cb),
 * and freed when the callback has returned. A request on a kept-alive
 * connection that the server had closed meanwhile (it gets no byte back) is
 * sent again once on a new connection, as browsers and libcurl do; a
 * connection whose request is still being written when its answer comes (a
 * server refusing a large body early) is not reused.
 *
 * The server's name is resolved on libuv's thread pool (never blocking the
 * loop) and its addresses kept for 30 s; a connection tries each in turn, so
 * that "localhost" works whether it resolves to ::1 or 127.0.0.1 first.
 *
 * The response parser (ahttp_parse) is a plain function of the bytes, tested on
 * its own (tests/unit/test_agent.c) with responses cut at every byte.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "agent/agent_int.h"
#include "base/alloc.h"
#include "base/log.h"

#define REQ_TIMEOUT_MS 30000
#define CONNECT_MS     5000
#define BODY_MAX       ((size_t)64 << 20) /* one ordinary response */
#define LIST_BODY_MAX  ((size_t)1 << 30)  /* a list of every pod (acli_get_big) */
#define STREAM_BUF_MAX ((size_t)16 << 20) /* a stream's bytes handed over at once, at most */
#define HEAD_MAX       ((size_t)64 << 10) /* a response's status line and headers */
#define READ_SIZE      ((size_t)64 << 10)

/* ---- the response parser --------------------------------------------------- */

enum {
    AH_HEAD,       /* status line and headers, up to the empty line */
    AH_LEN,        /* a body of content-length bytes */
    AH_CHUNK_SIZE, /* a chunk's size line */
    AH_CHUNK_DATA,
    AH_CHUNK_END, /* the CRLF after a chunk's data */
    AH_TRAILER,   /* trailer lines after the last chunk, up to the empty line */
    AH_EOF,       /* a body that ends when the connection does */
    AH_DONE,
    AH_ERROR,
};

void ahttp_init(struct ahttp *p)
{
    memset(p, 0, sizeof *p);
    p->state = AH_HEAD;
    strbuf_init(&p->line, HEAD_MAX);
}

void ahttp_release(struct ahttp *p)
{
    strbuf_release(&p->line);
}

static void ahttp_reset(struct ahttp *p)
{
    struct strbuf keep = p->line;
    strbuf_reset(&keep);
    memset(p, 0, sizeof *p);
    p->line = keep;
    p->state = AH_HEAD;
}

static size_t fail(struct ahttp *p, const char *why)
{
    p->state = AH_ERROR;
    p->error = why;
    return 0;
}

/* Whether the comma-separated header value v (n bytes) lists token. */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= n; i++)
        if (!strncasecmp(v + i, token, tl) && (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == ';'))
            return true;
    return false;
}

/* The head in p->line (the empty line included): status and framing. */
static void parse_head(struct ahttp *p)
{
    char *s = p->line.buf;
    size_t n = p->line.len;
    if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[8] != ' ') {
        fail(p, "not an HTTP/1.x response");
        return;
    }
    long status = 0;
    for (int i = 9; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9') {
            fail(p, "bad status code");
            return;
        }
        status = status * 10 + (s[i] - '0');
    }
    bool http10 = s[7] == '0';
    p->status = status;
    p->keep_alive = !http10;
    bool chunked = false, have_len = false;
    uint64_t len = 0;
    char *line = memchr(s, '\n', n) + 1;
    while (line < s + n) {
        char *eol = memchr(line, '\n', (size_t)(s + n - line));
        size_t ll = (size_t)(eol - line);
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (!ll)
            break;
        char *colon = memchr(line, ':', ll);
        if (colon) {
            size_t kl = (size_t)(colon - line);
            char *v = colon + 1;
            size_t vl = ll - kl - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (kl == 14 && !strncasecmp(line, "content-length", 14)) {
                len = 0;
                if (!vl) {
                    fail(p, "bad Content-Length");
                    return;
                }
                for (size_t i = 0; i < vl; i++) {
                    if (v[i] < '0' || v[i] > '9' || len > (UINT64_MAX - 9) / 10) {
                        fail(p, "bad Content-Length");
                        return;
                    }
                    len = len * 10 + (uint64_t)(v[i] - '0');
                }
                have_len = true;
            } else if (kl == 17 && !strncasecmp(line, "transfer-encoding", 17)) {
                chunked = has_token(v, vl, "chunked");
            } else if (kl == 10 && !strncasecmp(line, "connection", 10)) {
                if (has_token(v, vl, "close"))
                    p->keep_alive = false;
                else if (has_token(v, vl, "keep-alive"))
                    p->keep_alive = true;
            }
        }
        line = eol + 1;
    }
    strbuf_reset(&p->line);
    if (status >= 100 && status < 200) {
        ahttp_reset(p); /* an interim response: the real one follows */
        return;
    }
    if (status == 204 || status == 304) {
        p->state = AH_DONE;
    } else if (chunked) {
        p->state = AH_CHUNK_SIZE;
    } else if (have_len) {
        p->left = len;
        p->state = len ? AH_LEN : AH_DONE;
    } else {
        p->keep_alive = false;
        p->state = AH_EOF;
    }
}

/* Appends s[0..n) up to and including the first '\n' to p->line; returns the
 * bytes taken and whether the line is complete. */
static size_t take_line(struct ahttp *p, const char *s, size_t n, bool *complete)
{
    const char *nl = memchr(s, '\n', n);
    size_t k = nl ? (size_t)(nl - s) + 1 : n;
    *complete = nl != NULL;
    if (strbuf_add(&p->line, s, k) < 0)
        return fail(p, "response head too large"), 0;
    return k;
}

size_t ahttp_parse(struct ahttp *p, const char *s, size_t n, ahttp_body_fn body, void *arg)
{
    size_t i = 0;
    while (i < n && p->state != AH_DONE && p->state != AH_ERROR) {
        bool complete;
        switch (p->state) {
        case AH_HEAD: {
            i += take_line(p, s + i, n - i, &complete);
            if (p->state == AH_ERROR || !complete)
                break;
            /* the head ends at an empty line */
            size_t L = p->line.len;
            const char *b = p->line.buf;
            if ((L >= 2 && b[L - 2] == '\n') || (L >= 3 && b[L - 3] == '\n' && b[L - 2] == '\r') ||
                L <= 2)
                parse_head(p);
            break;
        }
        case AH_LEN:
        case AH_CHUNK_DATA: {
            size_t k = n - i < p->left ? n - i : (size_t)p->left;
            if (body(arg, s + i, k) < 0)
                return fail(p, "response body too large"), i;
            i += k;
            p->left -= k;
            if (!p->left)
                p->state = p->state == AH_LEN ? AH_DONE : AH_CHUNK_END;
            break;
        }
        case AH_EOF:
            if (body(arg, s + i, n - i) < 0)
                return fail(p, "response body too large"), i;
            i = n;
            break;
        case AH_CHUNK_SIZE:
        case AH_CHUNK_END:
        case AH_TRAILER: {
            i += take_line(p, s + i, n - i, &complete);
            if (p->state == AH_ERROR || !complete)
                break;
            const char *b = p->line.buf;
            size_t L = p->line.len - 1; /* without the '\n' */
            if (L && b[L - 1] == '\r')
                L--;
            int st = p->state;
            if (st == AH_CHUNK_END) {
                if (L)
                    fail(p, "bad chunk end");
                else
                    p->state = AH_CHUNK_SIZE;
            } else if (st == AH_TRAILER) {
                if (!L)
                    p->state = AH_DONE;
            } else {
                uint64_t size = 0;
                size_t d = 0;
                for (; d < L; d++) {
                    char c = b[d];
                    int v = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
                    if (v < 0)
                        break;
                    if (size > (UINT64_MAX >> 4))
                        return fail(p, "bad chunk size"), i;
                    size = size << 4 | (uint64_t)v;
                }
                if (!d || (d < L && b[d] != ';' && b[d] != ' ' && b[d] != '\t'))
                    fail(p, "bad chunk size");
                else if (!size)
                    p->state = AH_TRAILER;
                else {
                    p->left = size;
                    p->state = AH_CHUNK_DATA;
                }
            }
            strbuf_reset(&p->line);
            break;
        }
        default:
            break;
        }
    }
    return i;
}

bool ahttp_done(const struct ahttp *p)
{
    return p->state == AH_DONE;
}

bool ahttp_failed(const struct ahttp *p)
{
    return p->state == AH_ERROR;
}

bool ahttp_eof(struct ahttp *p)
{
    if (p->state == AH_EOF) {
        p->state = AH_DONE;
        return true;
    }
    return p->state == AH_DONE;
}

bool ahttp_started(const struct ahttp *p)
{
    return p->state != AH_HEAD || p->line.len > 0;
}

/* ---- connections and requests ---------------------------------------------- */

#define MAX_ADDRS   8
#define ADDRS_TTL_MS 30000 /* resolved addresses are reused this long */

struct hconn;

struct acli {
    uv_loop_t *loop;
    char host[256]; /* for resolving and the Host header */
    char port[8];
    char hosthdr[280];
    char *prefix;     /* the base URL's path, "" for none */
    size_t in_flight; /* started or queued */
    size_t conns;     /* request connections open (streams' not counted) */
    size_t max_conns;
    size_t handles;   /* uv handles and requests not yet closed or answered */
    bool destroyed;
    struct hconn *idle;                  /* request connections with nothing to do */
    struct hconn *all;                   /* every connection */
    struct acli_req *queue, *queue_tail; /* requests waiting for a connection, in order */
    /* The server's addresses, resolved on the loop's thread pool and kept a while;
     * a connection tries them in turn (localhost may be ::1 first, the server
     * listening on 127.0.0.1 only). */
    struct sockaddr_storage addrs[MAX_ADDRS];
    int naddrs;
    uint64_t addrs_until; /* uv_now() */
    bool resolving;
    uv_getaddrinfo_t gai;
    /* Failures found inside a call (acli_do, acli_cancel...) are answered on
     * the loop's next turn, never before the call returns. */
    uv_timer_t defer;
    struct acli_req *failed, *failed_tail;
};

struct acli_req {
    struct acli *c;
    struct hconn *conn; /* NULL while queued or failing */
    char method[8];
    char *path; /* with the query; owned */
    char ctype[64];
    char *body;         /* the request body, owned */
    struct strbuf resp; /* the buffered response (requests), or bytes to hand over (streams) */
    acli_done_fn done;
    acli_data_fn data; /* streams only */
    void *arg;
    uint64_t cookie;
    bool retried;
    bool in_cb;     /* its callbacks are running */
    bool cancelled; /* cancelled from one of them: free it after */
    char *fail;     /* failing: why (it is in c->failed) */
    struct acli_req *next; /* in the queue or in c->failed */
};

struct hconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect;
    uv_write_t wr;
    struct strbuf out;    /* the request being written: head and body */
    struct acli *c;
    struct acli_req *req; /* the request on it, or NULL */
    struct ahttp parser;
    bool stream;          /* a stream's own connection */
    bool connected, reused, closing;
    bool writing;         /* a write is with libuv: the connection cannot carry another */
    bool resolving;       /* waiting for the server's addresses */
    int addr;             /* the index in c->addrs being tried */
    int open;             /* of tcp and timer, not yet closed */
    struct hconn *prev, *next; /* c->all */
    struct hconn *idle_next;   /* c->idle */
    char readbuf[READ_SIZE];
};

static void pump(struct acli *c);
static void conn_start(struct hconn *k);
static void conn_connect(struct hconn *k, int addr);

/* One request fewer in flight (none are once the client is destroyed). */
static void done_flight(struct acli *c)
{
    if (!c->destroyed && c->in_flight)
        c->in_flight--;
}

static void free_req(struct acli_req *r)
{
    free(r->path);
    free(r->body);
    free(r->fail);
    strbuf_release(&r->resp);
    free(r);
}

static void maybe_free_client(struct acli *c)
{
    if (c->destroyed && !c->handles) {
        free(c->prefix);
        free(c);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    struct hconn *k = h->data;
    struct acli *c = k->c;
    c->handles--;
    if (--k->open == 0) {
        strbuf_release(&k->out);
        ahttp_release(&k->parser);
        free(k);
    }
    maybe_free_client(c);
}

static void idle_remove(struct hconn *k)
{
    for (struct hconn **pp = &k->c->idle; *pp; pp = &(*pp)->idle_next)
        if (*pp == k) {
            *pp = k->idle_next;
            break;
        }
    k->idle_next = NULL;
}

/* Closes k (its request, if any, must have been taken off it). */
static void conn_close(struct hconn *k)
{
    if (k->closing)
        return;
    struct acli *c = k->c;
    k->closing = true;
    idle_remove(k);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->all = k->next;
    if (k->next)
        k->next->prev = k->prev;
    if (!k->stream)
        c->conns--;
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, on_handle_closed);
    uv_close((uv_handle_t *)&k->tcp, on_handle_closed);
}

/* Calls r's done callback with resp (and a stream's last bytes first), then
 * frees r. r is off its connection and out of the queue. No callback once the
 * request is cancelled or the client destroyed. */
static void finish(struct acli_req *r, const struct acli_resp *resp)
{
    done_flight(r->c);
    r->in_cb = true;
    if (r->data && r->resp.len && !r->cancelled && !r->c->destroyed)
        r->data(r->arg, r->cookie, r->resp.buf, r->resp.len);
    if (r->done && !r->cancelled && !r->c->destroyed) {
        struct acli_resp rr = *resp;
        if (!r->data) {
            rr.body = r->resp.buf ? r->resp.buf : "";
            rr.len = r->resp.len;
        } else {
            rr.body = "";
            rr.len = 0;
        }
        r->done(r->arg, r->cookie, &rr);
    }
    free_req(r);
}

static void fail_req(struct acli_req *r, const char *why)
{
    struct acli_resp resp = {.status = 0, .error = why};
    finish(r, &resp);
}

static void on_defer(uv_timer_t *t)
{
    struct acli *c = t->data;
    while (c->failed && !c->destroyed) {
        struct acli_req *r = c->failed;
        c->failed = r->next;
        if (!c->failed)
            c->failed_tail = NULL;
        r->next = NULL;
        char *why = r->fail;
        r->fail = NULL;
        fail_req(r, why);
        free(why);
    }
    pump(c);
}

/* Answers r with the error why on the loop's next turn. r is off any
 * connection and out of the queue. */
static void defer_fail(struct acli_req *r, const char *why)
{
    struct acli *c = r->c;
    r->conn = NULL;
    free(r->fail);
    r->fail = xstrdup(why);
    r->next = NULL;
    if (c->failed_tail)
        c->failed_tail->next = r;
    else
        c->failed = r;
    c->failed_tail = r;
    uv_timer_start(&c->defer, on_defer, 0, 0);
}

/* Takes r off k and closes k; r fails (on the next turn). */
static void conn_abandon(struct hconn *k, const char *why)
{
    struct acli_req *r = k->req;
    k->req = NULL;
    conn_close(k);
    if (r)
        defer_fail(r, why);
}

static void conn_failed(struct hconn *k, int err);

static void on_written(uv_write_t *w, int status)
{
    struct hconn *k = w->data;
    k->writing = false;
    if (k->closing)
        return;
    if (status < 0)
        conn_failed(k, status);
    else
        strbuf_reset(&k->out);
}

static void on_timeout(uv_timer_t *t)
{
    struct hconn *k = t->data;
    struct acli_req *r = k->req;
    k->req = NULL;
    conn_close(k);
    if (r) {
        char why[400];
        if (k->connected)
            snprintf(why, sizeof why, "the request timed out");
        else
            snprintf(why, sizeof why, "cannot connect to %s:%s: timed out", k->c->host, k->c->port);
        fail_req(r, why);
    }
    pump(k->c);
}

/* Writes k's request. */
static void send_req(struct hconn *k)
{
    struct acli_req *r = k->req;
    struct acli *c = k->c;
    size_t blen = r->body ? strlen(r->body) : 0;
    strbuf_reset(&k->out);
    strbuf_addf(&k->out,
                "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: muster-agent\r\n"
                "Accept: application/json\r\n",
                r->method, c->prefix, r->path, c->hosthdr);
    if (r->ctype[0])
        strbuf_addf(&k->out, "Content-Type: %s\r\n", r->ctype);
    if (r->body || strcmp(r->method, "GET"))
        strbuf_addf(&k->out, "Content-Length: %zu\r\n", blen);
    strbuf_addstr(&k->out, "\r\n");
    if (blen && strbuf_add(&k->out, r->body, blen) < 0) {
        conn_abandon(k, "the request body is too large");
        return;
    }
    ahttp_reset(&k->parser);
    uv_buf_t b = uv_buf_init(k->out.buf, (unsigned)k->out.len);
    k->wr.data = k;
    int rc = uv_write(&k->wr, (uv_stream_t *)&k->tcp, &b, 1, on_written);
    if (rc < 0) {
        char why[200];
        snprintf(why, sizeof why, "cannot write to the server: %s", uv_strerror(rc));
        conn_abandon(k, why);
        return;
    }
    k->writing = true;
    if (!r->data)
        uv_timer_start(&k->timer, on_timeout, REQ_TIMEOUT_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct hconn *k = h->data;
    *buf = uv_buf_init(k->readbuf, sizeof k->readbuf);
}

static int add_body(void *arg, const char *p, size_t n)
{
    struct acli_req *r = arg;
    return strbuf_add(&r->resp, p, n);
}

/* Hands a stream's buffered bytes to its data callback. */
static void flush_stream(struct hconn *k, struct acli_req *r)
{
    if (!r->resp.len)
        return;
    struct strbuf chunk = r->resp;
    strbuf_init(&r->resp, STREAM_BUF_MAX + READ_SIZE);
    r->in_cb = true;
    r->data(r->arg, r->cookie, chunk.buf, chunk.len);
    r->in_cb = false;
    strbuf_release(&chunk);
    if (r->cancelled) {
        if (k->req == r) {
            k->req = NULL;
            conn_close(k);
        }
        done_flight(r->c);
        free_req(r);
    }
}

/* The response on k is complete: k goes back to the pool (or closes), the
 * request is answered. */
static void complete(struct hconn *k)
{
    struct acli_req *r = k->req;
    struct acli *c = k->c;
    k->req = NULL;
    uv_timer_stop(&k->timer);
    struct acli_resp resp = {.status = k->parser.status};
    /* A connection whose request is still being written (a server that
     * answered before reading the whole body) cannot carry the next one. */
    if (!k->parser.keep_alive || k->stream || c->destroyed || k->writing) {
        conn_close(k);
    } else {
        k->reused = true;
        k->idle_next = c->idle;
        c->idle = k;
    }
    finish(r, &resp);
    pump(c);
}

/* A new connection for r (stream: its own, outside the pool), linked in;
 * conn_start() sends r on it once connected. */
static struct hconn *conn_new(struct acli *c, struct acli_req *r, bool stream)
{
    struct hconn *k = xcalloc(1, sizeof *k);
    k->c = c;
    k->stream = stream;
    k->req = r;
    r->conn = k;
    strbuf_init(&k->out, (size_t)4 << 30);
    ahttp_init(&k->parser);
    uv_tcp_init(c->loop, &k->tcp);
    uv_timer_init(c->loop, &k->timer);
    k->tcp.data = k->timer.data = k->connect.data = k;
    k->open = 2;
    c->handles += 2;
    k->next = c->all;
    if (c->all)
        c->all->prev = k;
    c->all = k;
    if (!stream)
        c->conns++;
    return k;
}

/* k's request was dropped by a server that had closed the kept-alive
 * connection (err: UV_EOF or a libuv error); or k's connection ended. */
static void conn_failed(struct hconn *k, int err)
{
    struct acli *c = k->c;
    struct acli_req *r = k->req;
    k->req = NULL;
    conn_close(k);
    if (r) {
        r->conn = NULL;
        if (err == UV_EOF && ahttp_eof(&k->parser)) {
            struct acli_resp resp = {.status = k->parser.status};
            finish(r, &resp);
        } else if (!ahttp_started(&k->parser) && k->reused && !r->retried && !c->destroyed) {
            /* once more, on a new connection (the pool's others may be as
             * stale as this one) */
            r->retried = true;
            conn_start(conn_new(c, r, k->stream));
        } else {
            fail_req(r, err == UV_EOF ? "the server closed the connection" : uv_strerror(err));
        }
    }
    pump(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct hconn *k = s->data;
    struct acli *c = k->c;
    if (nread == 0 || k->closing)
        return;
    struct acli_req *r = k->req;
    if (nread < 0) {
        conn_failed(k, (int)nread);
        return;
    }
    if (!r) { /* bytes nobody asked for: the connection is out of step */
        conn_close(k);
        pump(c);
        return;
    }
    size_t used = ahttp_parse(&k->parser, buf->base, (size_t)nread, add_body, r);
    if (ahttp_failed(&k->parser)) {
        k->req = NULL;
        conn_close(k);
        fail_req(r, k->parser.error);
        pump(c);
        return;
    }
    if (r->data && !ahttp_done(&k->parser)) {
        flush_stream(k, r);
        return;
    }
    if (ahttp_done(&k->parser)) {
        if (used < (size_t)nread)
            k->parser.keep_alive = false; /* more than one response: do not reuse */
        complete(k);
    }
}

/* The connection to c->addrs[k->addr] failed (err): the next address, or
 * the request fails. */
static void conn_next_addr(struct hconn *k, int err)
{
    struct acli *c = k->c;
    struct acli_req *r = k->req;
    int next = k->addr + 1;
    k->req = NULL;
    conn_close(k);
    if (!r)
        return;
    if (next < c->naddrs && !c->destroyed) {
        struct hconn *k2 = conn_new(c, r, k->stream);
        uv_timer_start(&k2->timer, on_timeout, CONNECT_MS, 0);
        conn_connect(k2, next);
        return;
    }
    c->addrs_until = 0; /* resolve again next time */
    char why[400];
    snprintf(why, sizeof why, "cannot connect to %s:%s: %s", c->host, c->port, uv_strerror(err));
    defer_fail(r, why);
}

static void on_connect(uv_connect_t *cr, int status)
{
    struct hconn *k = cr->data;
    if (k->closing)
        return;
    if (status < 0) {
        conn_next_addr(k, status);
        pump(k->c);
        return;
    }
    k->connected = true;
    uv_timer_stop(&k->timer);
    uv_tcp_nodelay(&k->tcp, 1);
    uv_tcp_keepalive(&k->tcp, 1, 60);
    uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    if (k->req)
        send_req(k);
    pump(k->c);
}

static void conn_connect(struct hconn *k, int addr)
{
    struct acli *c = k->c;
    k->addr = addr;
    int rc = uv_tcp_connect(&k->connect, &k->tcp, (const struct sockaddr *)&c->addrs[addr],
                            on_connect);
    if (rc < 0)
        conn_next_addr(k, rc);
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    struct acli *c = g->data;
    c->resolving = false;
    c->handles--;
    if (c->destroyed) {
        uv_freeaddrinfo(res);
        maybe_free_client(c);
        return;
    }
    c->naddrs = 0;
    for (struct addrinfo *a = res; a && c->naddrs < MAX_ADDRS; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
            a->ai_addrlen > sizeof c->addrs[0])
            continue;
        memcpy(&c->addrs[c->naddrs++], a->ai_addr, a->ai_addrlen);
    }
    uv_freeaddrinfo(res);
    c->addrs_until = c->naddrs ? uv_now(c->loop) + ADDRS_TTL_MS : 0;
    /* the connections that waited: one at a time, from the head again after
     * each (a failure may close others) */
    for (;;) {
        struct hconn *k = c->all;
        while (k && !k->resolving)
            k = k->next;
        if (!k)
            break;
        k->resolving = false;
        if (c->naddrs) {
            conn_connect(k, 0);
        } else {
            char why[400];
            snprintf(why, sizeof why, "cannot resolve %s: %s", c->host,
                     status < 0 ? uv_strerror(status) : "no address");
            conn_abandon(k, why);
        }
    }
    pump(c);
}

/* Connects k: to the addresses known, or once they are resolved. */
static void conn_start(struct hconn *k)
{
    struct acli *c = k->c;
    uv_timer_start(&k->timer, on_timeout, CONNECT_MS, 0);
    if (c->naddrs && uv_now(c->loop) < c->addrs_until) {
        conn_connect(k, 0);
        return;
    }
    k->resolving = true;
    if (c->resolving)
        return;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    c->gai.data = c;
    int rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, c->port, &hints);
    if (rc < 0) {
        k->resolving = false;
        char why[400];
        snprintf(why, sizeof why, "cannot resolve %s: %s", c->host, uv_strerror(rc));
        conn_abandon(k, why);
        return;
    }
    c->resolving = true;
    c->handles++;
}

/* Starts queued requests while there are idle connections or room for more. */
static void pump(struct acli *c)
{
    while (c->queue && !c->destroyed && (c->idle || c->conns < c->max_conns)) {
        struct acli_req *r = c->queue;
        c->queue = r->next;
        if (!c->queue)
            c->queue_tail = NULL;
        r->next = NULL;
        if (c->idle) {
            struct hconn *k = c->idle;
            c->idle = k->idle_next;
            k->idle_next = NULL;
            k->req = r;
            r->conn = k;
            send_req(k);
        } else {
            conn_start(conn_new(c, r, false));
        }
    }
}

struct acli *acli_create(uv_loop_t *loop, const char *base, int connections, struct err *e)
{
    if (strncmp(base, "http://", 7)) {
        errf(e, EINVAL, "--server: \"%s\" is not an http:// URL (muster's server speaks plain HTTP)",
             base);
        return NULL;
    }
    const char *h = base + 7, *end = h + strcspn(h, "/");
    const char *hs = h, *he, *ps = NULL;
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            goto bad;
        hs = h + 1;
        he = rb;
        if (rb + 1 < end) {
            if (rb[1] != ':')
                goto bad;
            ps = rb + 2;
        }
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        he = colon ? colon : end;
        ps = colon ? colon + 1 : NULL;
    }
    if (he == hs || (size_t)(he - hs) >= sizeof ((struct acli *)0)->host ||
        (ps && (ps == end || (size_t)(end - ps) >= sizeof ((struct acli *)0)->port ||
                strspn(ps, "0123456789") < (size_t)(end - ps))))
        goto bad;
    struct acli *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    snprintf(c->host, sizeof c->host, "%.*s", (int)(he - hs), hs);
    snprintf(c->port, sizeof c->port, "%.*s", ps ? (int)(end - ps) : 2, ps ? ps : "80");
    snprintf(c->hosthdr, sizeof c->hosthdr, "%.*s", (int)(end - h), h);
    c->prefix = xstrdup(end);
    size_t n = strlen(c->prefix);
    while (n && c->prefix[n - 1] == '/')
        c->prefix[--n] = 0;
    c->max_conns = connections > 0 ? (size_t)connections : 1; /* the agent picks the default */
    uv_timer_init(loop, &c->defer);
    c->defer.data = c;
    c->handles = 1;
    return c;
bad:
    errf(e, EINVAL, "--server: \"%s\" is not a URL of the form http://host:port", base);
    return NULL;
}

static void on_defer_closed(uv_handle_t *h)
{
    struct acli *c = h->data;
    c->handles--;
    maybe_free_client(c);
}

void acli_destroy(struct acli *c)
{
    if (!c)
        return;
    c->destroyed = true;
    while (c->queue) {
        struct acli_req *r = c->queue;
        c->queue = r->next;
        free_req(r);
    }
    c->queue_tail = NULL;
    while (c->failed) {
        struct acli_req *r = c->failed;
        c->failed = r->next;
        free_req(r);
    }
    c->failed_tail = NULL;
    while (c->all) {
        struct hconn *k = c->all;
        struct acli_req *r = k->req;
        k->req = NULL;
        conn_close(k);
        if (r && !r->in_cb)
            free_req(r);
        else if (r)
            r->cancelled = true;
    }
    c->in_flight = 0;
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai); /* on_resolved still comes, and frees */
    uv_timer_stop(&c->defer);
    uv_close((uv_handle_t *)&c->defer, on_defer_closed);
}

size_t acli_in_flight(const struct acli *c)
{
    return c->in_flight;
}

void acli__set_addrs(struct acli *c, const struct sockaddr_storage *a, int n)
{
    c->naddrs = n < MAX_ADDRS ? n : MAX_ADDRS;
    memcpy(c->addrs, a, (size_t)c->naddrs * sizeof *a);
    c->addrs_until = uv_now(c->loop) + ADDRS_TTL_MS;
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
    r->path = xstrdup(path);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->ctype, sizeof r->ctype, "%s", ctype ? ctype : "");
    c->in_flight++;
    if (data) {
        conn_start(conn_new(c, r, true));
    } else {
        if (c->queue_tail)
            c->queue_tail->next = r;
        else
            c->queue = r;
        c->queue_tail = r;
        pump(c);
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
    return start(c, "GET", path, NULL, NULL, STREAM_BUF_MAX + READ_SIZE, done, data, arg, cookie);
}

/* Takes r out of the list at *head (tail *tail); whether it was there. */
static bool unlist(struct acli_req **head, struct acli_req **tail, struct acli_req *r)
{
    struct acli_req **pp = head, *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return false;
    *pp = r->next;
    if (*tail == r)
        *tail = prev;
    r->next = NULL;
    return true;
}

void acli_cancel(struct acli_req *r)
{
    if (!r)
        return;
    if (r->in_cb) { /* from its own callback: freed when that returns */
        r->cancelled = true;
        return;
    }
    struct acli *c = r->c;
    if (r->conn && r->conn->req == r) {
        /* the response may be on its way: the connection cannot be reused */
        struct hconn *k = r->conn;
        k->req = NULL;
        conn_close(k);
    } else if (!unlist(&c->queue, &c->queue_tail, r)) {
        unlist(&c->failed, &c->failed_tail, r);
    }
    done_flight(c);
    free_req(r);
    pump(c);
}
