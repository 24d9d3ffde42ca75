#include "base/strbuf.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "base/alloc.h"

/* What an empty strbuf points at, so that buf is always a valid C string without
 * allocating. Nothing ever writes to it: every write first makes cap > 0. */
static char strbuf__empty[1];

/* The first allocation; small enough for error messages, large enough that
 * short strings do not reallocate on every append. */
#define STRBUF__MIN_CAP 64

void strbuf_init(struct strbuf *sb, size_t limit)
{
    sb->buf = strbuf__empty;
    sb->len = 0;
    sb->cap = 0;
    /* Keeps limit + 1 (the NUL) from overflowing. */
    sb->limit = limit < SIZE_MAX - 1 ? limit : SIZE_MAX - 1;
}

void strbuf_release(struct strbuf *sb)
{
    if (sb->cap)
        free(sb->buf);
    strbuf_init(sb, sb->limit);
}

void strbuf_reset(struct strbuf *sb)
{
    strbuf_truncate(sb, 0);
}

void strbuf_truncate(struct strbuf *sb, size_t len)
{
    assert(len <= sb->len);
    if (sb->cap) {
        sb->len = len;
        sb->buf[len] = '\0';
    }
}

/* Makes room for `extra` more content bytes plus the NUL, or fails with E2BIG
 * (changing nothing) if that would pass the limit. */
static int strbuf__grow(struct strbuf *sb, size_t extra)
{
    if (extra > sb->limit - sb->len) {
        errno = E2BIG;
        return -1;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    /* Doubling, but never past what the limit allows: a buffer with a 1 MiB cap
     * never allocates more than 1 MiB + 1. */
    size_t ncap = sb->cap ? sb->cap : STRBUF__MIN_CAP;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > sb->limit + 1)
        ncap = sb->limit + 1;
    if (sb->cap) {
        sb->buf = xrealloc(sb->buf, ncap);
    } else {
        sb->buf = xmalloc(ncap);
        sb->buf[0] = '\0';
    }
    sb->cap = ncap;
    return 0;
}

int strbuf_reserve(struct strbuf *sb, size_t extra)
{
    if (extra > sb->limit - sb->len)
        extra = sb->limit - sb->len;
    return strbuf__grow(sb, extra);
}

int strbuf_add(struct strbuf *sb, const void *p, size_t n)
{
    if (strbuf__grow(sb, n) < 0)
        return -1;
    if (n)
        memcpy(sb->buf + sb->len, p, n);
    sb->len += n;
    if (sb->cap)
        sb->buf[sb->len] = '\0';
    return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
    return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, int c)
{
    char ch = (char)c;
    return strbuf_add(sb, &ch, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
    /* First try to format into the space already there: usually it fits, and
     * the string is formatted once. */
    size_t avail = sb->cap ? sb->cap - sb->len : 0;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(avail ? sb->buf + sb->len : NULL, avail, fmt, ap);
    if (n < 0) {
        /* vsnprintf may have written a partial result after the content. */
        if (sb->cap)
            sb->buf[sb->len] = '\0';
        va_end(again);
        return -1;
    }
    if ((size_t)n < avail) {
        /* cap never exceeds limit + 1, so what fits is also within the limit. */
        assert((size_t)n <= sb->limit - sb->len);
        sb->len += (size_t)n;
        va_end(again);
        return 0;
    }
    /* Too long for the spare room: undo the partial write, grow, format again. */
    if (sb->cap)
        sb->buf[sb->len] = '\0';
    if (strbuf__grow(sb, (size_t)n) < 0) {
        va_end(again);
        return -1;
    }
    int m = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, again);
    va_end(again);
    assert(m == n);
    (void)m;
    sb->len += (size_t)n;
    return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
    return r;
}

char *strbuf_take(struct strbuf *sb, size_t *len_out)
{
    char *s = sb->cap ? sb->buf : xstrdup("");
    if (len_out)
        *len_out = sb->len;
    strbuf_init(sb, sb->limit);
    return s;
}

int str_join(char *buf, size_t size, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!parts[i])
            continue;
        size_t l = strlen(parts[i]);
        if (len < size) {
            size_t room = size - 1 - len; /* size > len: room for the NUL kept */
            memcpy(buf + len, parts[i], l < room ? l : room);
        }
        len += l;
    }
    if (size)
        buf[len < size ? len : size - 1] = '\0';
    return len > INT_MAX ? INT_MAX : (int)len;
}
