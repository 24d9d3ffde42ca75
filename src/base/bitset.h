/*
 * bitset: a fixed-size set of small integers, one bit each, over uint64 words.
 *
 * The engine keeps sets of nodes (for example "nodes with at least 4 free GPUs")
 * as bitsets indexed by dense node id: membership is a bit test, intersection is a
 * word-wise AND, and walking the members skips 64 absent nodes per instruction.
 *
 * Invariant: bits at positions >= nbits in the last word are always zero, so
 * counting and searching never need to mask them; every operation keeps it.
 *
 * Ownership: bitset_create() returns a heap object the caller frees with
 * bitset_destroy(). The size is fixed at creation. Indexes out of range are a
 * bug, caught by assert. Not thread-safe.
 */
#ifndef MUSTER_BASE_BITSET_H
#define MUSTER_BASE_BITSET_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No such bit": what the find functions return when they find nothing. */
#define BITSET_NONE SIZE_MAX

struct bitset {
    size_t nbits;
    uint64_t words[]; /* (nbits + 63) / 64 words */
};

/* Returns a new set of nbits bits, all clear. Never NULL (aborts on
 * out-of-memory). nbits may be 0. */
struct bitset *bitset_create(size_t nbits);

/* Frees b. Accepts NULL. */
void bitset_destroy(struct bitset *b);

/* Returns a new set with the same size and bits as b. */
struct bitset *bitset_clone(const struct bitset *b);

static inline size_t bitset_size(const struct bitset *b)
{
    return b->nbits;
}

/* The bit operations are inline: they sit on the placement hot path. */
static inline void bitset_set(struct bitset *b, size_t i)
{
    assert(i < b->nbits);
    b->words[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline void bitset_clear(struct bitset *b, size_t i)
{
    assert(i < b->nbits);
    b->words[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static inline bool bitset_test(const struct bitset *b, size_t i)
{
    assert(i < b->nbits);
    return (b->words[i / 64] >> (i % 64)) & 1;
}

/* Sets or clears every bit. */
void bitset_set_all(struct bitset *b);
void bitset_clear_all(struct bitset *b);

/* Number of set bits. */
size_t bitset_count(const struct bitset *b);

/* The smallest set bit at index >= from, or BITSET_NONE. from may be >= nbits
 * (the answer is then BITSET_NONE), so a loop can pass i + 1 without a check:
 *
 *     for (size_t i = bitset_next_set(b, 0); i != BITSET_NONE; i = bitset_next_set(b, i + 1))
 */
size_t bitset_next_set(const struct bitset *b, size_t from);

/* The smallest clear bit at index >= from, or BITSET_NONE. */
size_t bitset_next_clear(const struct bitset *b, size_t from);

/* The smallest clear bit, or BITSET_NONE if every bit is set. */
static inline size_t bitset_first_clear(const struct bitset *b)
{
    return bitset_next_clear(b, 0);
}

/* In place: dst = dst & src, dst | src, dst & ~src. Both sets must have the same
 * size; dst and src may be the same set. */
void bitset_and(struct bitset *dst, const struct bitset *src);
void bitset_or(struct bitset *dst, const struct bitset *src);
void bitset_andnot(struct bitset *dst, const struct bitset *src);

/* Whether the two sets (of the same size) have the same bits. */
bool bitset_equal(const struct bitset *a, const struct bitset *b);

#endif
