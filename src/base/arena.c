#include "base/arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define arena__poison(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define arena__unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define arena__poison(p, n)   ((void)(p), (void)(n))
#define arena__unpoison(p, n) ((void)(p), (void)(n))
#endif

#define ARENA__ALIGN alignof(max_align_t)

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes in data[] */
    size_t used; /* bytes of data[] handed out, a multiple of ARENA__ALIGN */
    alignas(max_align_t) unsigned char data[];
};

/* Requests this much larger than the chunk size get a chunk of their own: the
 * current chunk keeps its free space, and at most a quarter of a chunk is ever
 * left unused when a new ordinary chunk is started. */
#define ARENA__BIG_DIVISOR 4

void arena_init(struct arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->first = NULL;
    a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
    a->allocated = 0;
}

static struct arena_chunk *arena__chunk_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(struct arena_chunk))
        alloc_die(SIZE_MAX);
    /* xmalloc returns memory aligned for max_align_t, and data[] is declared with
     * that alignment, so every offset that is a multiple of ARENA__ALIGN is too. */
    struct arena_chunk *c = xmalloc(sizeof *c + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    arena__poison(c->data, size);
    return c;
}

static void arena__chunk_free(struct arena_chunk *c)
{
    arena__unpoison(c->data, c->size);
    free(c);
}

void arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        arena__chunk_free(c);
        c = next;
    }
    a->head = NULL;
    a->first = NULL;
    a->allocated = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
    /* Round up so the next allocation stays aligned; 0 becomes one unit so that
     * every call returns a distinct pointer. */
    if (size > SIZE_MAX - ARENA__ALIGN)
        alloc_die(SIZE_MAX);
    size_t need = size ? (size + ARENA__ALIGN - 1) & ~(ARENA__ALIGN - 1) : ARENA__ALIGN;

    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        if (need > a->chunk_size / ARENA__BIG_DIVISOR) {
            c = arena__chunk_new(need);
            /* Slot the dedicated chunk behind the current one, which keeps
             * serving small requests from its remaining space. */
            if (a->head) {
                c->next = a->head->next;
                a->head->next = c;
            } else {
                a->head = c;
            }
        } else {
            c = arena__chunk_new(a->chunk_size);
            c->next = a->head;
            a->head = c;
        }
        if (!a->first)
            a->first = c;
    }

    void *p = c->data + c->used;
    c->used += need;
    a->allocated += need;
    assert(c->used <= c->size);
    /* Only the requested bytes become addressable, so an overrun into the
     * rounding slack is reported as well. */
    arena__unpoison(p, size);
    return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    memset(p, 0, size);
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_memdupz(a, s, strlen(s));
}

char *arena_memdupz(struct arena *a, const void *p, size_t n)
{
    if (n == SIZE_MAX)
        alloc_die(SIZE_MAX);
    char *d = arena_alloc(a, n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        if (c != a->first)
            arena__chunk_free(c);
        c = next;
    }
    a->head = a->first;
    if (a->head) {
        a->head->next = NULL;
        a->head->used = 0;
        arena__poison(a->head->data, a->head->size);
    }
    a->allocated = 0;
}
