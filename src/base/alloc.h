/*
 * alloc: allocation that never returns NULL.
 *
 * Ordinary code in muster does not check for out-of-memory: these wrappers print
 * a message and abort() instead. Buffers fed from the outside world still need
 * their own caps (see strbuf.h); these wrappers only remove the NULL check.
 */
#ifndef MUSTER_BASE_ALLOC_H
#define MUSTER_BASE_ALLOC_H

#include <stddef.h>

/* Each returns memory the caller owns and frees with free(). Never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);   /* aborts on count*size overflow */
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* The process-wide out-of-memory path, exposed for tests and for callers that
 * allocate through another library. Does not return. */
_Noreturn void alloc_die(size_t n);

#endif
