/*
 * heap: a binary min-heap of (uint64 key, uint32 id) items.
 *
 * Used for event queues in the simulator (key = time) and for "best next" picks
 * in the engine (key = score). Items are ordered by key, then by id, so equal
 * keys come out smallest id first: the order in which items pop depends only on
 * the set of items in the heap, never on the order they went in. The engine's
 * determinism relies on that tie-break.
 *
 * The payload is a uint32 id rather than a pointer: ids index the caller's dense
 * arrays, an item is 16 bytes, and ids make an index possible. A heap made with
 * heap_init(h, nids > 0) keeps, for each id below nids, its position in the heap;
 * that allows heap_update (change the key of an id, the "decrease-key" of
 * Dijkstra and of deadline queues), heap_remove and heap_contains, each
 * O(log n) or O(1). In such a heap each id is present at most once. A heap made
 * with nids = 0 has no index, and any id may appear any number of times.
 *
 * Ownership: the caller embeds the struct heap; the heap owns its arrays.
 * Not thread-safe.
 */
#ifndef MUSTER_BASE_HEAP_H
#define MUSTER_BASE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/vec.h"

struct heap_item {
    uint64_t key;
    uint32_t id;
};

struct heap {
    /* items.v[0] is the minimum; the children of i are 2i+1 and 2i+2. */
    VEC(struct heap_item) items;
    uint32_t *pos; /* indexed heaps: pos[id] = index in items, or HEAP__ABSENT */
    uint32_t nids; /* 0: no index */
};

/* Prepares an empty heap. nids = 0 makes a plain heap; nids > 0 makes an indexed
 * heap for ids 0 .. nids - 1 (allocating 4 * nids bytes for the index). */
void heap_init(struct heap *h, uint32_t nids);

/* Frees the heap's memory. To use the heap again, call heap_init. */
void heap_release(struct heap *h);

/* Removes every item and keeps the memory. */
void heap_clear(struct heap *h);

static inline size_t heap_len(const struct heap *h)
{
    return h->items.len;
}

/* Adds an item. In an indexed heap, id must be below nids and not present. */
void heap_push(struct heap *h, uint64_t key, uint32_t id);

/* Copies the smallest item to *out (if out is not NULL) without removing it.
 * Returns false, leaving *out alone, if the heap is empty. */
bool heap_peek(const struct heap *h, struct heap_item *out);

/* Removes the smallest item and copies it to *out (if out is not NULL). Returns
 * false, leaving *out alone, if the heap is empty. */
bool heap_pop(struct heap *h, struct heap_item *out);

/* Indexed heaps only. heap_update sets the key of id, moving it up or down, and
 * inserts it if absent. heap_remove takes id out and returns whether it was
 * there. heap_contains says whether id is in the heap. */
void heap_update(struct heap *h, uint32_t id, uint64_t key);
bool heap_remove(struct heap *h, uint32_t id);
bool heap_contains(const struct heap *h, uint32_t id);

#endif
