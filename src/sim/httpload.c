/*
 * sim/httpload: see httpload.h. One epoll loop (level-triggered), one read
 * buffer per connection that is consumed as it is parsed, so only a collected
 * body grows with the response.
 */
#include "sim/httpload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/mtime.h"
#include "base/strbuf.h"

/* Response headers larger than this fail the connection. */
#define HL_HEAD_MAX  ((size_t)64 * 1024)
#define HL_READ_MIN  ((size_t)16 * 1024)
#define HL_READ_MAX  ((size_t)256 * 1024)
#define HL_EVENTS    256
#define HL_REQ_LIMIT ((size_t)16 * 1024 * 1024)

enum hl_state { HL_IDLE, HL_HEAD, HL_BODY_LEN, HL_CHUNK_SIZE, HL_CHUNK_DATA, HL_CHUNK_CRLF, HL_TRAILER };

struct httpload_conn {
    struct httpload *h;
    int fd;
    size_t id;
    bool dead, stream, want_out;
    enum hl_state state;
    int status;
    uint64_t remaining; /* body or chunk bytes still to come */
    struct strbuf out;  /* request bytes not yet written, from out_off */
    size_t out_off;
    char *in;
    size_t in_len, in_cap;
    struct strbuf body;
    int64_t sent_ns;
};

struct httpload {
    int epfd;
    struct sockaddr_in dst;
    char hostport[64];
    struct httpload_cbs cbs;
    struct httpload_conn **conns;
    size_t nconns, capconns;
};

struct httpload *httpload_create(const char *host, int port, const struct httpload_cbs *cbs)
{
    struct httpload *h = xcalloc(1, sizeof *h);
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (h->epfd < 0)
        abort(); /* only out of descriptors or memory */
    h->dst.sin_family = AF_INET;
    h->dst.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &h->dst.sin_addr) != 1)
        h->dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(h->hostport, sizeof h->hostport, "%s:%d", host, port);
    h->cbs = *cbs;
    return h;
}

static void conn_shut(struct httpload_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(c->h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    c->dead = true;
    strbuf_release(&c->out);
    strbuf_release(&c->body);
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
}

void httpload_destroy(struct httpload *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nconns; i++) {
        conn_shut(h->conns[i]);
        free(h->conns[i]);
    }
    free(h->conns);
    close(h->epfd);
    free(h);
}

void httpload_close(struct httpload_conn *c)
{
    conn_shut(c);
}

size_t httpload_conn_id(const struct httpload_conn *c)
{
    return c->id;
}

struct httpload_conn *httpload_connect(struct httpload *h, const char *src_ip, size_t id,
                                       struct err *e)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        errf(e, errno, "socket: %s", strerror(errno));
        return NULL;
    }
    if (src_ip) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, src_ip, &sa.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            errf(e, errno ? errno : EINVAL, "bind to %s: %s", src_ip, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    if (connect(fd, (struct sockaddr *)&h->dst, sizeof h->dst) != 0) {
        errf(e, errno, "connect to %s: %s", h->hostport, strerror(errno));
        close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Connected while blocking (loopback: immediate); non-blocking from now on. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct httpload_conn *c = xcalloc(1, sizeof *c);
    c->h = h;
    c->fd = fd;
    c->id = id;
    strbuf_init(&c->out, HL_REQ_LIMIT);
    strbuf_init(&c->body, HTTPLOAD_BODY_MAX);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        errf(e, errno, "epoll_ctl: %s", strerror(errno));
        close(fd);
        free(c);
        return NULL;
    }
    if (h->nconns == h->capconns) {
        h->capconns = h->capconns ? 2 * h->capconns : 64;
        h->conns = xrealloc(h->conns, h->capconns * sizeof *h->conns);
    }
    h->conns[h->nconns++] = c;
    return c;
}

static void conn_fail(struct httpload_conn *c, const char *msg)
{
    if (c->dead)
        return;
    conn_shut(c);
    if (c->h->cbs.on_close)
        c->h->cbs.on_close(c->h->cbs.ctx, c, msg);
}

static void set_want_out(struct httpload_conn *c, bool want)
{
    if (c->want_out == want || c->fd < 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(c->h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = want;
}

/* Writes what it can of the pending request. */
static void conn_flush(struct httpload_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_want_out(c, true);
                return;
            }
            char msg[128];
            snprintf(msg, sizeof msg, "write: %s", strerror(errno));
            conn_fail(c, msg);
            return;
        }
        c->out_off += (size_t)n;
    }
    strbuf_reset(&c->out);
    c->out_off = 0;
    set_want_out(c, false);
}

int httpload_send(struct httpload_conn *c, const char *method, const char *path,
                  const char *content_type, const char *body, size_t body_len, bool stream)
{
    if (c->dead)
        return -1;
    if (c->state != HL_IDLE)
        abort(); /* one request in flight per connection: a caller bug */
    strbuf_addf(&c->out, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n", method,
                path, c->h->hostport);
    if (body) {
        strbuf_addf(&c->out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                    content_type ? content_type : "application/json", body_len);
    }
    strbuf_addstr(&c->out, "\r\n");
    if (body && strbuf_add(&c->out, body, body_len) < 0) {
        conn_fail(c, "request body over the cap");
        return -1;
    }
    c->stream = stream;
    c->state = HL_HEAD;
    c->status = 0;
    strbuf_reset(&c->body);
    c->sent_ns = mtime_now_ns();
    conn_flush(c);
    return c->dead ? -1 : 0;
}

/* Parses the status line and the headers in [p, p+len); sets state. */
static int parse_head(struct httpload_conn *c, const char *p, size_t len)
{
    int major, minor, status;
    if (sscanf(p, "HTTP/%d.%d %d", &major, &minor, &status) != 3)
        return -1;
    c->status = status;
    bool chunked = false, have_len = false;
    uint64_t clen = 0;
    const char *end = p + len;
    const char *line = memchr(p, '\n', len);
    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        if (!strncasecmp(line, "Content-Length:", 15)) {
            clen = strtoull(line + 15, NULL, 10);
            have_len = true;
        } else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
            const char *v = line + 18;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            chunked = !strncasecmp(v, "chunked", 7);
        }
        line = eol;
    }
    if (chunked) {
        c->state = HL_CHUNK_SIZE;
    } else if (have_len) {
        c->state = HL_BODY_LEN;
        c->remaining = clen;
    } else {
        return -1; /* read-until-close bodies are not needed against our server */
    }
    if (c->stream && c->h->cbs.on_stream_start)
        c->h->cbs.on_stream_start(c->h->cbs.ctx, c, status);
    return 0;
}

static int deliver(struct httpload_conn *c, const char *p, size_t n)
{
    if (c->stream) {
        if (c->h->cbs.on_data)
            c->h->cbs.on_data(c->h->cbs.ctx, c, p, n);
        return 0;
    }
    return strbuf_add(&c->body, p, n);
}

/* The response is complete: hand it over and make the connection idle (the
 * callback may send again). */
static void complete(struct httpload_conn *c)
{
    c->state = HL_IDLE;
    if (c->stream) {
        conn_fail(c, "end of stream");
        return;
    }
    int64_t lat = mtime_now_ns() - c->sent_ns;
    struct strbuf b = c->body;
    strbuf_init(&c->body, HTTPLOAD_BODY_MAX);
    if (c->h->cbs.on_response)
        c->h->cbs.on_response(c->h->cbs.ctx, c, c->status, b.buf, b.len, lat);
    strbuf_release(&b);
}

/* Consumes what it can of the read buffer. Returns -1 on a protocol error. */
static int conn_parse(struct httpload_conn *c)
{
    size_t pos = 0;
    while (!c->dead && pos < c->in_len) {
        const char *p = c->in + pos;
        size_t avail = c->in_len - pos;
        switch (c->state) {
        case HL_IDLE:
            return -1; /* bytes nobody asked for */
        case HL_HEAD: {
            const char *eoh = memmem(p, avail, "\r\n\r\n", 4);
            if (!eoh) {
                if (avail > HL_HEAD_MAX)
                    return -1;
                goto more;
            }
            size_t hl = (size_t)(eoh - p) + 4;
            if (parse_head(c, p, hl) < 0)
                return -1;
            pos += hl;
            if (c->state == HL_BODY_LEN && c->remaining == 0)
                complete(c);
            break;
        }
        case HL_BODY_LEN:
        case HL_CHUNK_DATA: {
            size_t n = avail < c->remaining ? avail : (size_t)c->remaining;
            if (deliver(c, p, n) < 0)
                return -1;
            pos += n;
            c->remaining -= n;
            if (c->remaining == 0) {
                if (c->state == HL_BODY_LEN)
                    complete(c);
                else
                    c->state = HL_CHUNK_CRLF;
            }
            break;
        }
        case HL_CHUNK_CRLF:
            if (avail < 2)
                goto more;
            if (p[0] != '\r' || p[1] != '\n')
                return -1;
            pos += 2;
            c->state = HL_CHUNK_SIZE;
            break;
        case HL_CHUNK_SIZE:
        case HL_TRAILER: {
            const char *eol = memmem(p, avail, "\r\n", 2);
            if (!eol) {
                if (avail > 1024)
                    return -1;
                goto more;
            }
            size_t ll = (size_t)(eol - p);
            pos += ll + 2;
            if (c->state == HL_TRAILER) {
                if (ll == 0)
                    complete(c);
                break;
            }
            char *end;
            unsigned long long sz = strtoull(p, &end, 16);
            if (end == p)
                return -1;
            if (sz == 0) {
                c->state = HL_TRAILER;
            } else {
                c->state = HL_CHUNK_DATA;
                c->remaining = sz;
            }
            break;
        }
        }
    }
more:
    if (c->dead)
        return 0;
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return 0;
}

static void conn_read(struct httpload_conn *c)
{
    if (c->in_cap - c->in_len < HL_READ_MIN) {
        size_t cap = c->in_cap ? 2 * c->in_cap : HL_READ_MIN * 2;
        if (cap > HL_READ_MAX + HL_HEAD_MAX)
            cap = HL_READ_MAX + HL_HEAD_MAX;
        if (cap - c->in_len < HL_READ_MIN) {
            conn_fail(c, "read buffer full");
            return;
        }
        c->in = xrealloc(c->in, cap);
        c->in_cap = cap;
    }
    ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        char msg[128];
        snprintf(msg, sizeof msg, "read: %s", strerror(errno));
        conn_fail(c, msg);
        return;
    }
    if (n == 0) {
        conn_fail(c, c->state == HL_IDLE ? "closed by the server" :
                                           "closed by the server mid-response");
        return;
    }
    c->in_len += (size_t)n;
    if (conn_parse(c) < 0)
        conn_fail(c, "malformed HTTP response");
}

int httpload_poll(struct httpload *h, int timeout_ms, struct err *e)
{
    struct epoll_event evs[HL_EVENTS];
    int n = epoll_wait(h->epfd, evs, HL_EVENTS, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return errf(e, errno, "epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        struct httpload_conn *c = evs[i].data.ptr;
        if (c->dead)
            continue;
        if (evs[i].events & EPOLLOUT)
            conn_flush(c);
        if (!c->dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            conn_read(c);
    }
    return n;
}
