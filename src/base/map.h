/*
 * map: an open-addressing hash map from a string or a 64-bit integer to a value.
 *
 * A map is created for one kind of key: MAP_KEY_STR, where a key is a (ptr, len)
 * byte string, or MAP_KEY_U64, where a key is any uint64_t. Calling the functions
 * of the other kind is a bug and is caught by assert. The value is a union of a
 * pointer and a uint64_t, so a map can index objects or hold counts and ids.
 *
 * Layout: one array of entries, linear probing, power-of-two capacity, the full
 * 64-bit hash stored in each entry (so a probe compares strings only when the
 * hashes agree, and growing never rehashes a string). Deletion leaves a
 * tombstone; tombstones are cleared when the next slot is empty and on every
 * rehash, and a rehash happens before live entries plus tombstones pass 3/4 of
 * the capacity, so probes stay short under any mix of inserts and deletes.
 *
 * Hashing uses no random seed, so iteration order is the same for the same
 * sequence of operations in every run: the engine's determinism may depend on
 * it. The price is that keys chosen by an attacker can be made to collide; maps
 * fed from the network must cap their size.
 *
 * Ownership: the caller embeds the struct map. A string map does not copy its
 * keys: the bytes must stay valid and unchanged while the entry is in the map
 * (intern.h stores its keys in an arena for this reason). Values are not owned.
 * Pointers to values and entries are invalidated by the next map_put (which may
 * grow the table) but not by map_del. A map is not thread-safe.
 */
#ifndef MUSTER_BASE_MAP_H
#define MUSTER_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum map_key_kind {
    MAP_KEY_STR,
    MAP_KEY_U64,
};

union map_val {
    void *ptr;
    uint64_t u64;
};

struct map_entry {
    uint64_t hash; /* internal: 0 empty, 1 tombstone, otherwise the key's hash */
    union {
        struct {
            const char *str; /* MAP_KEY_STR: the key's bytes, not NUL-terminated */
            size_t len;
        };
        uint64_t u64; /* MAP_KEY_U64: the key */
    } key;
    union map_val val;
};

struct map {
    struct map_entry *slots; /* cap entries, or NULL before the first insert */
    size_t cap;              /* 0 or a power of two */
    size_t len;              /* live entries */
    size_t tombs;            /* tombstones */
    enum map_key_kind kind;
};

/* Prepares an empty map for keys of the given kind. Allocates nothing. */
void map_init(struct map *m, enum map_key_kind kind);

/* Frees the table. Keys and values are not touched. The map is left empty and
 * may be used again with the same kind of key. */
void map_release(struct map *m);

/* Removes every entry but keeps the table's memory. */
void map_clear(struct map *m);

/* Number of entries. */
static inline size_t map_len(const struct map *m)
{
    return m->len;
}

/* Grows the table so that n entries fit without another rehash. */
void map_reserve(struct map *m, size_t n);

/* String keys. key may be NULL when len is 0.
 *
 * map_get: the value stored under the key, or NULL if there is none.
 * map_put: finds or inserts the key and returns its value slot for the caller
 *          to read or fill. A new slot is zeroed. *found (if not NULL) tells
 *          which happened. On insert the map keeps the key pointer (see above).
 * map_del: removes the key; returns whether it was there. */
union map_val *map_get(const struct map *m, const char *key, size_t len);
union map_val *map_put(struct map *m, const char *key, size_t len, bool *found);
bool map_del(struct map *m, const char *key, size_t len);

/* The same three for 64-bit integer keys. */
union map_val *map_get_u64(const struct map *m, uint64_t key);
union map_val *map_put_u64(struct map *m, uint64_t key, bool *found);
bool map_del_u64(struct map *m, uint64_t key);

/* Iteration. Start with *it = 0; each call returns the next entry, or NULL at
 * the end. The order is unspecified but deterministic. The entry just returned
 * may be deleted (with map_del or map_del_u64) during iteration; inserting
 * during iteration is not allowed, since it may rehash.
 *
 *     size_t it = 0;
 *     for (struct map_entry *e; (e = map_next(&m, &it));)
 *         use(e->key.str, e->key.len, e->val.ptr);
 */
struct map_entry *map_next(const struct map *m, size_t *it);

/* The hash functions the map uses, exposed for callers that want to hash the
 * same way (for example to shard). Same input, same hash, in every run. */
uint64_t map_hash_str(const void *p, size_t len);
uint64_t map_hash_u64(uint64_t x);

#endif
