/*
 * intern: strings turned into small dense ids.
 *
 * The engine compares GPU model names, label keys and label values millions of
 * times per cycle; comparing uint32 ids instead of strings makes that a single
 * instruction, and dense ids (0, 1, 2, ... in order of first appearance) can index
 * plain arrays. An intern table gives each distinct byte string one id for its
 * whole life; ids are never reused or freed.
 *
 * Built on map.h (string -> id) and arena.h (the bytes of each string, stored
 * once, NUL-terminated, so intern_str() returns a C string that lives as long as
 * the table). Strings are compared as bytes: "A100" and "a100" are different.
 *
 * Ownership: the caller embeds the struct intern. Strings passed in are copied;
 * pointers returned by intern_str() belong to the table and stay valid until
 * intern_release(). The table grows without limit, so a caller interning strings
 * from outside input must cap how many it accepts. Not thread-safe.
 */
#ifndef MUSTER_BASE_INTERN_H
#define MUSTER_BASE_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/map.h"
#include "base/vec.h"

/* Never a valid id: the result of intern_lookup() for an unknown string. */
#define INTERN_NONE UINT32_MAX

struct intern_str {
    const char *str; /* NUL-terminated copy in the arena */
    size_t len;
};

struct intern {
    struct map ids;              /* string -> id, keys pointing into the arena */
    struct arena arena;          /* owns the bytes of every string */
    VEC(struct intern_str) strs; /* id -> string */
};

/* Prepares an empty table. */
void intern_init(struct intern *in);

/* Frees everything; ids and pointers from the table become invalid. The table is
 * left empty and may be used again. */
void intern_release(struct intern *in);

/* Returns the id of the len bytes at s, adding the string if it is new. s may
 * contain NUL bytes and need not be NUL-terminated; it may be NULL if len is 0.
 * Aborts if the table would hold more than UINT32_MAX - 1 strings. */
uint32_t intern_id(struct intern *in, const char *s, size_t len);

/* Returns the id of the string if it is in the table, otherwise INTERN_NONE.
 * Adds nothing: use it for queries, so that looking up a name a user typed does
 * not grow the table. */
uint32_t intern_lookup(const struct intern *in, const char *s, size_t len);

/* The NUL-terminated string for id. id must be one the table returned. */
const char *intern_str(const struct intern *in, uint32_t id);

/* The length in bytes of the string for id. */
size_t intern_len(const struct intern *in, uint32_t id);

/* Number of distinct strings; the valid ids are 0 .. intern_count() - 1. */
static inline uint32_t intern_count(const struct intern *in)
{
    return (uint32_t)in->strs.len;
}

#endif
