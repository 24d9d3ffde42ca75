/*
 * arena: a bump allocator for memory that dies all at once.
 *
 * Parse results, per-request temporaries and interned strings are allocated from
 * an arena and freed together by arena_reset() or arena_release(), so the code
 * that builds them never frees anything piece by piece. Memory comes from chunks
 * obtained with xmalloc; a request larger than a quarter of the chunk size gets a
 * chunk of its own so that it does not waste the rest of the current one.
 *
 * Ownership: the caller embeds the struct arena and owns it. Every pointer the
 * arena hands out belongs to the arena and stays valid, at the same address,
 * until the next arena_reset() or arena_release(). Pointers are never freed
 * individually. An arena is not thread-safe.
 *
 * Under AddressSanitizer the unused tail of each chunk is poisoned, so reading or
 * writing past the end of an allocation is reported like a heap overflow.
 */
#ifndef MUSTER_BASE_ARENA_H
#define MUSTER_BASE_ARENA_H

#include <stddef.h>

/* Chunk size used when arena_init() is given 0. */
#define ARENA_DEFAULT_CHUNK ((size_t)64 * 1024)

struct arena_chunk;

struct arena {
    struct arena_chunk *head;  /* chunk being filled; older chunks follow via next */
    struct arena_chunk *first; /* the first chunk made; arena_reset() keeps it */
    size_t chunk_size;         /* usable bytes in an ordinary new chunk */
    size_t allocated;          /* bytes handed out since init or the last reset */
};

/* Prepares an empty arena. chunk_size is the usable size of each ordinary chunk
 * (0 picks ARENA_DEFAULT_CHUNK). Allocates nothing until the first arena_alloc. */
void arena_init(struct arena *a, size_t chunk_size);

/* Frees every chunk. Every pointer from the arena becomes invalid. The arena is
 * left empty and may be used again. */
void arena_release(struct arena *a);

/* Returns size bytes (uninitialised) aligned to alignof(max_align_t). Never NULL;
 * a request of 0 bytes returns a distinct valid pointer. Aborts on out-of-memory
 * or if size is absurdly large (would overflow). */
void *arena_alloc(struct arena *a, size_t size);

/* Like arena_alloc, with the memory set to zero. */
void *arena_zalloc(struct arena *a, size_t size);

/* Copies the NUL-terminated string s into the arena and returns the copy. */
char *arena_strdup(struct arena *a, const char *s);

/* Copies n bytes of p into the arena, adds a NUL after them and returns the
 * copy: the way to turn a (ptr, len) string into a C string. Unlike strndup,
 * it copies exactly n bytes even if they contain NUL. p may be NULL when n is 0. */
char *arena_memdupz(struct arena *a, const void *p, size_t n);

/* Forgets every allocation but keeps the first chunk for reuse, so an arena
 * that is reset once per request stops calling malloc after warming up. Every
 * pointer from the arena becomes invalid. */
void arena_reset(struct arena *a);

#endif
