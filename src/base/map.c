#include "base/map.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* Values of map_entry.hash that are not hashes. Real hashes that land on them
 * are moved up by 2 (map__stored_hash), which costs nothing measurable. */
#define MAP__EMPTY 0
#define MAP__TOMB  1

#define MAP__MIN_CAP 8

/* Odd 64-bit constants with well-spread bits (the golden ratio and two
 * multipliers from the splitmix64 finaliser). */
#define MAP__K0 0x9e3779b97f4a7c15ULL
#define MAP__K1 0xbf58476d1ce4e5b9ULL
#define MAP__K2 0x94d049bb133111ebULL

/* Multiplies into 128 bits and folds the halves together. One such step mixes
 * every input bit into every output bit, which a plain 64-bit multiply does
 * not do for the high input bits. */
static inline uint64_t map__fold(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t map_hash_str(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = MAP__K0 ^ map__fold(len, MAP__K2);
    /* Eight bytes per step. memcpy is the portable unaligned load; compilers
     * turn it into a single move. */
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = map__fold(h ^ w, MAP__K1);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    if (len)
        memcpy(&w, s, len);
    return map__fold(h ^ w, MAP__K2);
}

uint64_t map_hash_u64(uint64_t x)
{
    /* A bijective finaliser: distinct keys get distinct hashes. */
    x += MAP__K0;
    x = (x ^ (x >> 30)) * MAP__K1;
    x = (x ^ (x >> 27)) * MAP__K2;
    return x ^ (x >> 31);
}

static inline uint64_t map__stored_hash(uint64_t h)
{
    return h < 2 ? h + 2 : h;
}

static inline bool map__live(const struct map_entry *e)
{
    return e->hash > MAP__TOMB;
}

void map_init(struct map *m, enum map_key_kind kind)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
    m->tombs = 0;
    m->kind = kind;
}

void map_release(struct map *m)
{
    free(m->slots);
    map_init(m, m->kind);
}

void map_clear(struct map *m)
{
    if (m->slots)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->len = 0;
    m->tombs = 0;
}

/* The key being looked for, in either kind. */
struct map__key {
    uint64_t hash;
    const char *str;
    size_t len;
    uint64_t u64;
};

static inline bool map__eq(const struct map *m, const struct map_entry *e, const struct map__key *k)
{
    if (e->hash != k->hash)
        return false;
    if (m->kind == MAP_KEY_U64)
        return e->key.u64 == k->u64;
    /* memcmp with a NULL pointer is undefined even for length 0. */
    return e->key.len == k->len && (k->len == 0 || memcmp(e->key.str, k->str, k->len) == 0);
}

/* Returns the slot holding k, or SIZE_MAX. When ins is not NULL and k is absent,
 * sets *ins to where k would go: the first tombstone on its probe path, or the
 * empty slot that ended the path. Requires cap > 0 and at least one empty slot,
 * which the load limit guarantees. */
static size_t map__find(const struct map *m, const struct map__key *k, size_t *ins)
{
    size_t mask = m->cap - 1, i = k->hash & mask, tomb = SIZE_MAX;
    for (;;) {
        const struct map_entry *e = &m->slots[i];
        if (e->hash == MAP__EMPTY) {
            if (ins)
                *ins = tomb != SIZE_MAX ? tomb : i;
            return SIZE_MAX;
        }
        if (e->hash == MAP__TOMB) {
            if (tomb == SIZE_MAX)
                tomb = i;
        } else if (map__eq(m, e, k)) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

/* Rebuilds the table with room for `need` live entries at a load of at most 1/2
 * and no tombstones. The table may shrink if most of it was tombstones. */
static void map__rehash(struct map *m, size_t need)
{
    size_t ncap = MAP__MIN_CAP;
    while (ncap / 2 < need) {
        if (ncap > SIZE_MAX / 4)
            alloc_die(SIZE_MAX);
        ncap *= 2;
    }
    struct map_entry *old = m->slots;
    size_t ocap = m->cap;
    m->slots = xcalloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    m->tombs = 0;
    size_t mask = ncap - 1;
    for (size_t j = 0; j < ocap; j++) {
        if (!map__live(&old[j]))
            continue;
        /* Keys in the old table are distinct, so no comparison is needed: take
         * the first empty slot. */
        size_t i = old[j].hash & mask;
        while (m->slots[i].hash != MAP__EMPTY)
            i = (i + 1) & mask;
        m->slots[i] = old[j];
    }
    free(old);
}

void map_reserve(struct map *m, size_t n)
{
    if (n > m->len && (m->cap == 0 || (n + m->tombs) > m->cap / 4 * 3))
        map__rehash(m, n);
}

static union map_val *map__get(const struct map *m, const struct map__key *k)
{
    if (m->len == 0)
        return NULL;
    size_t i = map__find(m, k, NULL);
    return i == SIZE_MAX ? NULL : &m->slots[i].val;
}

static union map_val *map__put(struct map *m, const struct map__key *k, bool *found)
{
    size_t ins = 0;
    if (m->cap) {
        size_t i = map__find(m, k, &ins);
        if (i != SIZE_MAX) {
            if (found)
                *found = true;
            return &m->slots[i].val;
        }
    }
    /* Keep live entries plus tombstones at or below 3/4 of the table: linear
     * probing degrades quickly past that, and a free slot must always remain
     * for map__find to stop at. Reusing a tombstone does not raise the count. */
    bool reuses_tomb = m->cap && m->slots[ins].hash == MAP__TOMB;
    if (m->cap == 0 || (!reuses_tomb && (m->len + m->tombs + 1) > m->cap / 4 * 3)) {
        map__rehash(m, m->len + 1);
        map__find(m, k, &ins);
    }
    struct map_entry *e = &m->slots[ins];
    if (e->hash == MAP__TOMB)
        m->tombs--;
    e->hash = k->hash;
    if (m->kind == MAP_KEY_U64) {
        e->key.u64 = k->u64;
    } else {
        e->key.str = k->str;
        e->key.len = k->len;
    }
    memset(&e->val, 0, sizeof e->val);
    m->len++;
    if (found)
        *found = false;
    return &e->val;
}

static bool map__del(struct map *m, const struct map__key *k)
{
    if (m->len == 0)
        return false;
    size_t i = map__find(m, k, NULL);
    if (i == SIZE_MAX)
        return false;
    size_t mask = m->cap - 1;
    m->len--;
    if (m->slots[(i + 1) & mask].hash != MAP__EMPTY) {
        m->slots[i].hash = MAP__TOMB;
        m->tombs++;
        return true;
    }
    /* No probe path runs through i to a later slot (the next slot is empty), so
     * i can be empty rather than a tombstone; the same then holds for each
     * tombstone just before it. This keeps delete-heavy maps from filling with
     * tombstones. Entries do not move, so iteration stays valid. */
    m->slots[i].hash = MAP__EMPTY;
    for (size_t j = (i - 1) & mask; m->slots[j].hash == MAP__TOMB; j = (j - 1) & mask) {
        m->slots[j].hash = MAP__EMPTY;
        m->tombs--;
    }
    return true;
}

static inline struct map__key map__str_key(const struct map *m, const char *key, size_t len)
{
    assert(m->kind == MAP_KEY_STR);
    assert(key || len == 0);
    return (struct map__key){
        .hash = map__stored_hash(map_hash_str(key, len)), .str = key, .len = len};
}

static inline struct map__key map__u64_key(const struct map *m, uint64_t key)
{
    assert(m->kind == MAP_KEY_U64);
    return (struct map__key){.hash = map__stored_hash(map_hash_u64(key)), .u64 = key};
}

union map_val *map_get(const struct map *m, const char *key, size_t len)
{
    struct map__key k = map__str_key(m, key, len);
    return map__get(m, &k);
}

union map_val *map_put(struct map *m, const char *key, size_t len, bool *found)
{
    struct map__key k = map__str_key(m, key, len);
    return map__put(m, &k, found);
}

bool map_del(struct map *m, const char *key, size_t len)
{
    struct map__key k = map__str_key(m, key, len);
    return map__del(m, &k);
}

union map_val *map_get_u64(const struct map *m, uint64_t key)
{
    struct map__key k = map__u64_key(m, key);
    return map__get(m, &k);
}

union map_val *map_put_u64(struct map *m, uint64_t key, bool *found)
{
    struct map__key k = map__u64_key(m, key);
    return map__put(m, &k, found);
}

bool map_del_u64(struct map *m, uint64_t key)
{
    struct map__key k = map__u64_key(m, key);
    return map__del(m, &k);
}

struct map_entry *map_next(const struct map *m, size_t *it)
{
    for (size_t i = *it; i < m->cap; i++) {
        if (map__live(&m->slots[i])) {
            *it = i + 1;
            return &m->slots[i];
        }
    }
    *it = m->cap;
    return NULL;
}
