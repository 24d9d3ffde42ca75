#include "base/vec.h"

#include <stdint.h>

#include "base/alloc.h"

void *vec__grow(void *v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return v;
    /* Doubling keeps pushes amortised O(1); jumping straight to `need` when it is
     * larger makes one vec_reserve enough for a known batch. */
    size_t ncap = *cap < VEC_MIN_CAP ? VEC_MIN_CAP : *cap;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    /* xreallocarray aborts if ncap * size overflows. */
    v = xreallocarray(v, ncap, size);
    *cap = ncap;
    return v;
}
