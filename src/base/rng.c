#include "base/rng.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
    /* Lemire: take the high 64 bits of a 128-bit product; reject the few low
     * values that would make some outcomes more likely than others. */
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (unsigned __int128)rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double rng_double(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

void rng_shuffle(struct rng *r, void *base, uint64_t n, uint64_t size)
{
    unsigned char *b = base, tmp[256];
    if (n < 2)
        return;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = rng_below(r, i + 1);
        if (j == i)
            continue;
        unsigned char *a = b + i * size, *c = b + j * size;
        for (uint64_t off = 0; off < size; off += sizeof tmp) {
            uint64_t k = size - off < sizeof tmp ? size - off : sizeof tmp;
            memcpy(tmp, a + off, k);
            memcpy(a + off, c + off, k);
            memcpy(c + off, tmp, k);
        }
    }
}
