#include "base/intern.h"

#include <assert.h>
#include <stdint.h>

#include "base/alloc.h"

/* The arena holds only string bytes, mostly short names, so a chunk smaller than
 * the default wastes less in small tables. */
#define INTERN__CHUNK ((size_t)16 * 1024)

void intern_init(struct intern *in)
{
    map_init(&in->ids, MAP_KEY_STR);
    arena_init(&in->arena, INTERN__CHUNK);
    in->strs.v = NULL;
    in->strs.len = 0;
    in->strs.cap = 0;
}

void intern_release(struct intern *in)
{
    map_release(&in->ids);
    arena_release(&in->arena);
    vec_free(&in->strs);
}

uint32_t intern_id(struct intern *in, const char *s, size_t len)
{
    union map_val *v = map_get(&in->ids, s, len);
    if (v)
        return (uint32_t)v->u64;
    /* A miss probes the map twice (get, then put), but only the first time a
     * string is seen; inserting first would key the map on the caller's
     * pointer, which does not live long enough. */
    if (in->strs.len >= INTERN_NONE)
        alloc_die(SIZE_MAX);
    uint32_t id = (uint32_t)in->strs.len;
    char *copy = arena_memdupz(&in->arena, s, len);
    bool found;
    map_put(&in->ids, copy, len, &found)->u64 = id;
    assert(!found);
    vec_push(&in->strs, ((struct intern_str){.str = copy, .len = len}));
    return id;
}

uint32_t intern_lookup(const struct intern *in, const char *s, size_t len)
{
    const union map_val *v = map_get(&in->ids, s, len);
    return v ? (uint32_t)v->u64 : INTERN_NONE;
}

const char *intern_str(const struct intern *in, uint32_t id)
{
    assert(id < in->strs.len);
    return in->strs.v[id].str;
}

size_t intern_len(const struct intern *in, uint32_t id)
{
    assert(id < in->strs.len);
    return in->strs.v[id].len;
}
