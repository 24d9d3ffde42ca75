#include "base/bitset.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static inline size_t bitset__nwords(size_t nbits)
{
    return nbits / 64 + (nbits % 64 != 0);
}

/* The bits of the last word that belong to the set. */
static inline uint64_t bitset__tail_mask(size_t nbits)
{
    return nbits % 64 ? ((uint64_t)1 << (nbits % 64)) - 1 : ~(uint64_t)0;
}

struct bitset *bitset_create(size_t nbits)
{
    size_t nw = bitset__nwords(nbits);
    if (nw > (SIZE_MAX - sizeof(struct bitset)) / sizeof(uint64_t))
        alloc_die(SIZE_MAX);
    struct bitset *b = xcalloc(1, sizeof *b + nw * sizeof(uint64_t));
    b->nbits = nbits;
    return b;
}

void bitset_destroy(struct bitset *b)
{
    free(b);
}

struct bitset *bitset_clone(const struct bitset *b)
{
    struct bitset *c = bitset_create(b->nbits);
    memcpy(c->words, b->words, bitset__nwords(b->nbits) * sizeof(uint64_t));
    return c;
}

void bitset_set_all(struct bitset *b)
{
    size_t nw = bitset__nwords(b->nbits);
    if (nw == 0)
        return;
    memset(b->words, 0xff, nw * sizeof(uint64_t));
    b->words[nw - 1] &= bitset__tail_mask(b->nbits);
}

void bitset_clear_all(struct bitset *b)
{
    memset(b->words, 0, bitset__nwords(b->nbits) * sizeof(uint64_t));
}

size_t bitset_count(const struct bitset *b)
{
    size_t n = 0, nw = bitset__nwords(b->nbits);
    for (size_t w = 0; w < nw; w++)
        n += (size_t)__builtin_popcountll(b->words[w]);
    return n;
}

size_t bitset_next_set(const struct bitset *b, size_t from)
{
    if (from >= b->nbits)
        return BITSET_NONE;
    size_t w = from / 64, nw = bitset__nwords(b->nbits);
    /* Drop the bits below `from` in the first word, then take whole words. The
     * tail invariant means no bit past nbits can be found. */
    uint64_t word = b->words[w] & (~(uint64_t)0 << (from % 64));
    for (;;) {
        if (word)
            return w * 64 + (size_t)__builtin_ctzll(word);
        if (++w == nw)
            return BITSET_NONE;
        word = b->words[w];
    }
}

size_t bitset_next_clear(const struct bitset *b, size_t from)
{
    if (from >= b->nbits)
        return BITSET_NONE;
    size_t w = from / 64, nw = bitset__nwords(b->nbits);
    uint64_t word = ~b->words[w] & (~(uint64_t)0 << (from % 64));
    for (;;) {
        if (word) {
            /* Padding bits read as clear here, so the last word can yield an
             * index past the end. */
            size_t i = w * 64 + (size_t)__builtin_ctzll(word);
            return i < b->nbits ? i : BITSET_NONE;
        }
        if (++w == nw)
            return BITSET_NONE;
        word = ~b->words[w];
    }
}

void bitset_and(struct bitset *dst, const struct bitset *src)
{
    assert(dst->nbits == src->nbits);
    size_t nw = bitset__nwords(dst->nbits);
    for (size_t w = 0; w < nw; w++)
        dst->words[w] &= src->words[w];
}

void bitset_or(struct bitset *dst, const struct bitset *src)
{
    assert(dst->nbits == src->nbits);
    size_t nw = bitset__nwords(dst->nbits);
    for (size_t w = 0; w < nw; w++)
        dst->words[w] |= src->words[w];
}

void bitset_andnot(struct bitset *dst, const struct bitset *src)
{
    assert(dst->nbits == src->nbits);
    size_t nw = bitset__nwords(dst->nbits);
    for (size_t w = 0; w < nw; w++)
        dst->words[w] &= ~src->words[w];
}

bool bitset_equal(const struct bitset *a, const struct bitset *b)
{
    assert(a->nbits == b->nbits);
    return memcmp(a->words, b->words, bitset__nwords(a->nbits) * sizeof(uint64_t)) == 0;
}
