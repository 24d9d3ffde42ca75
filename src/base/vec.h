/*
 * vec: a growable array of any element type, as macros.
 *
 * VEC(T) declares an anonymous struct with three fields: v (the elements), len
 * (how many are in use) and cap (how many fit before the next reallocation). The
 * macros work on any struct with those three fields, so a vector that crosses a
 * function boundary is declared as a named struct:
 *
 *     struct u32_vec { uint32_t *v; size_t len, cap; };
 *
 * A zero-initialised vector is empty and valid; there is no init call. Capacity
 * grows by doubling (at least VEC_MIN_CAP), so n pushes cost O(n) amortised.
 *
 * Ownership: the vector owns v, allocated with xreallocarray (so growth never
 * fails; it aborts on out-of-memory or size overflow). vec_free releases it.
 * Pointers into v are invalidated by any call that can grow the vector.
 *
 * The vector argument `vp` is a pointer to the vector and is evaluated more than
 * once: pass a plain expression such as &q or s->items, never one with side
 * effects.
 */
#ifndef MUSTER_BASE_VEC_H
#define MUSTER_BASE_VEC_H

#include <assert.h>
#include <stddef.h>
#include <stdlib.h> /* free, for vec_free */

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t len, cap;                                                                           \
    }

/* The smallest capacity allocated, so that small vectors do not reallocate on
 * each of their first few pushes. */
#define VEC_MIN_CAP 8

/* Makes room for at least n elements in total (not n more). Never shrinks. */
#define vec_reserve(vp, n) ((vp)->v = vec__grow((vp)->v, &(vp)->cap, (n), sizeof *(vp)->v))

/* Appends x, growing the array if needed. x is evaluated after any growth and
 * before len changes, so it may read the vector itself: vec_push(&q, q.v[0])
 * and vec_push(&q, q.v[q.len - 1]) are both safe. */
#define vec_push(vp, x)                                                                            \
    (vec_reserve((vp), (vp)->len + 1), (vp)->v[(vp)->len] = (x), (void)(vp)->len++)

/* Removes the last element and yields it. The vector must not be empty. */
#define vec_pop(vp) (assert((vp)->len > 0), (vp)->v[--(vp)->len])

/* The last element, as an lvalue. The vector must not be empty. */
#define vec_last(vp) (*(assert((vp)->len > 0), &(vp)->v[(vp)->len - 1]))

/* Forgets the elements but keeps the memory for reuse. */
#define vec_clear(vp) ((void)((vp)->len = 0))

/* Frees the memory; the vector is left empty and may be used again. */
#define vec_free(vp) (free((vp)->v), (vp)->v = NULL, (vp)->len = 0, (void)((vp)->cap = 0))

/* Internal: returns v reallocated to hold at least `need` elements of `size`
 * bytes, updating *cap; returns v unchanged when it already has room. */
void *vec__grow(void *v, size_t *cap, size_t need, size_t size);

#endif
