/*
 * agent/lines: a watch stream cut into lines (one JSON event per line).
 *
 * The client hands the body over in pieces that may end anywhere, mid-line or
 * mid-character; a piece is scanned once for newlines and only an unfinished
 * last line is copied aside.
 */
#include <errno.h>
#include <string.h>

#include "agent/agent.h"

void agent_lines_init(struct agent_lines *l, size_t max)
{
    strbuf_init(&l->partial, max);
}

void agent_lines_release(struct agent_lines *l)
{
    strbuf_release(&l->partial);
}

static void emit(const char *p, size_t n, void (*fn)(void *, const char *, size_t), void *arg)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (n)
        fn(arg, p, n);
}

int agent_lines_feed(struct agent_lines *l, const char *p, size_t n,
                     void (*fn)(void *arg, const char *line, size_t len), void *arg)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            if (strbuf_add(&l->partial, p, n) < 0) {
                strbuf_release(&l->partial);
                errno = E2BIG;
                return -1;
            }
            return 0;
        }
        size_t k = (size_t)(nl - p);
        if (l->partial.len) {
            if (strbuf_add(&l->partial, p, k) < 0) {
                strbuf_release(&l->partial);
                errno = E2BIG;
                return -1;
            }
            emit(l->partial.buf, l->partial.len, fn, arg);
            strbuf_reset(&l->partial);
        } else {
            if (k > l->partial.limit) {
                errno = E2BIG;
                return -1;
            }
            emit(p, k, fn, arg);
        }
        p = nl + 1;
        n -= k + 1;
    }
    return 0;
}
