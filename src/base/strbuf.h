/*
 * strbuf: a growable string buffer with a hard size limit.
 *
 * Every buffer filled from outside (a request body, a trace line, a rendered
 * error) needs a cap, or one bad input can take all the memory. A strbuf has one
 * from birth: an append that would take the content past `limit` bytes fails
 * with -1 and errno E2BIG and leaves the content exactly as it was, so the
 * caller can report the error and carry on with a consistent buffer.
 *
 * Invariants: buf is always a valid NUL-terminated string of len bytes (an empty
 * strbuf points at a shared static "" and owns no memory), len <= limit, and
 * when memory is owned, len < cap. The content may contain NUL bytes if they
 * were appended with strbuf_add; len is then the true length.
 *
 * Ownership: the caller embeds the struct strbuf; the buffer owns buf until
 * strbuf_release or strbuf_take. Pointers to buf are invalidated by any append.
 * Not thread-safe.
 */
#ifndef MUSTER_BASE_STRBUF_H
#define MUSTER_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
    char *buf;    /* NUL-terminated content; never NULL */
    size_t len;   /* bytes of content, excluding the NUL */
    size_t cap;   /* bytes allocated, 0 when buf is the shared empty string */
    size_t limit; /* the most content bytes allowed, excluding the NUL */
};

/* Prepares an empty buffer that will never hold more than limit bytes (plus the
 * terminating NUL). Allocates nothing. */
void strbuf_init(struct strbuf *sb, size_t limit);

/* Frees the memory; the buffer is empty again, keeps its limit and may be
 * reused. */
void strbuf_release(struct strbuf *sb);

/* Empties the buffer and keeps the memory for reuse. */
void strbuf_reset(struct strbuf *sb);

/* Shortens the content to len bytes; len must not exceed the current length. */
void strbuf_truncate(struct strbuf *sb, size_t len);

/* Appends. Each returns 0, or -1 with errno set and the content unchanged:
 * E2BIG when the result would exceed the limit, or (strbuf_addf only) the
 * errno of a formatting failure. p must not point into sb's own buffer. */
/* Makes room for extra more bytes (at most up to the limit) in one allocation,
 * for a caller that knows how much is coming: a list of 130,000 objects otherwise
 * grows its buffer by doubling, copying it each time. */
int strbuf_reserve(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *p, size_t n);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Moves the content out as a malloc'd NUL-terminated string that the caller
 * frees. If len_out is not NULL it receives the length. The buffer is left
 * empty, keeps its limit, and may be reused. Never NULL. */
char *strbuf_take(struct strbuf *sb, size_t *len_out);

/* Writes the n strings of parts one after another into buf (NUL-terminated,
 * cut to size - 1 bytes) and returns the whole length, as snprintf with "%s%s..."
 * would, without parsing a format: keys and paths put together many times a
 * request. A NULL part counts as empty. */
int str_join(char *buf, size_t size, const char *const *parts, size_t n);

#endif
