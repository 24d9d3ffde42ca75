#include "base/heap.h"

#include <assert.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/vec.h"

#define HEAP__ABSENT UINT32_MAX

void heap_init(struct heap *h, uint32_t nids)
{
    h->items.v = NULL;
    h->items.len = 0;
    h->items.cap = 0;
    h->nids = nids;
    h->pos = NULL;
    if (nids) {
        h->pos = xreallocarray(NULL, nids, sizeof *h->pos);
        for (uint32_t i = 0; i < nids; i++)
            h->pos[i] = HEAP__ABSENT;
    }
}

void heap_release(struct heap *h)
{
    vec_free(&h->items);
    free(h->pos);
    h->pos = NULL;
    h->nids = 0;
}

void heap_clear(struct heap *h)
{
    if (h->pos) {
        for (size_t i = 0; i < h->items.len; i++)
            h->pos[h->items.v[i].id] = HEAP__ABSENT;
    }
    h->items.len = 0;
}

/* The order of the heap: by key, then by id. */
static inline bool heap__less(const struct heap_item *a, const struct heap_item *b)
{
    return a->key < b->key || (a->key == b->key && a->id < b->id);
}

/* Writes item to slot i and records where it went. */
static inline void heap__place(struct heap *h, size_t i, struct heap_item item)
{
    h->items.v[i] = item;
    if (h->pos)
        h->pos[item.id] = (uint32_t)i;
}

/* Moves the item at i towards the root until its parent is not larger. Holes
 * are moved instead of swapping, so each level costs one copy. */
static void heap__up(struct heap *h, size_t i)
{
    struct heap_item item = h->items.v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap__less(&item, &h->items.v[parent]))
            break;
        heap__place(h, i, h->items.v[parent]);
        i = parent;
    }
    heap__place(h, i, item);
}

/* Moves the item at i towards the leaves until no child is smaller. */
static void heap__down(struct heap *h, size_t i)
{
    struct heap_item item = h->items.v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->items.len)
            break;
        if (c + 1 < h->items.len && heap__less(&h->items.v[c + 1], &h->items.v[c]))
            c++;
        if (!heap__less(&h->items.v[c], &item))
            break;
        heap__place(h, i, h->items.v[c]);
        i = c;
    }
    heap__place(h, i, item);
}

void heap_push(struct heap *h, uint64_t key, uint32_t id)
{
    if (h->pos) {
        assert(id < h->nids);
        assert(h->pos[id] == HEAP__ABSENT);
    }
    struct heap_item item = {.key = key, .id = id};
    vec_push(&h->items, item);
    heap__up(h, h->items.len - 1);
}

bool heap_peek(const struct heap *h, struct heap_item *out)
{
    if (h->items.len == 0)
        return false;
    if (out)
        *out = h->items.v[0];
    return true;
}

/* Removes the item at i, filling the hole with the last item. */
static void heap__remove_at(struct heap *h, size_t i)
{
    if (h->pos)
        h->pos[h->items.v[i].id] = HEAP__ABSENT;
    struct heap_item last = h->items.v[--h->items.len];
    if (i == h->items.len)
        return;
    heap__place(h, i, last);
    /* The moved item may belong above or below i; only one of these moves it. */
    if (i > 0 && heap__less(&last, &h->items.v[(i - 1) / 2]))
        heap__up(h, i);
    else
        heap__down(h, i);
}

bool heap_pop(struct heap *h, struct heap_item *out)
{
    if (h->items.len == 0)
        return false;
    if (out)
        *out = h->items.v[0];
    heap__remove_at(h, 0);
    return true;
}

void heap_update(struct heap *h, uint32_t id, uint64_t key)
{
    assert(h->pos && id < h->nids);
    uint32_t i = h->pos[id];
    if (i == HEAP__ABSENT) {
        heap_push(h, key, id);
        return;
    }
    uint64_t old = h->items.v[i].key;
    h->items.v[i].key = key;
    if (key < old)
        heap__up(h, i);
    else if (key > old)
        heap__down(h, i);
}

bool heap_remove(struct heap *h, uint32_t id)
{
    assert(h->pos && id < h->nids);
    uint32_t i = h->pos[id];
    if (i == HEAP__ABSENT)
        return false;
    heap__remove_at(h, i);
    return true;
}

bool heap_contains(const struct heap *h, uint32_t id)
{
    assert(h->pos && id < h->nids);
    return h->pos[id] != HEAP__ABSENT;
}
