/*
 * rng: a small, seeded, reproducible pseudo-random generator.
 *
 * Algorithm: xoshiro256** (Blackman and Vigna, 2018), 256 bits of state, period
 * 2^256-1. The seed is expanded into the state with splitmix64, so any 64-bit seed
 * (0 included) gives a well-mixed state. The same seed gives the same sequence on
 * every platform: the engine's determinism rests on this.
 *
 * rng_below() is unbiased (Lemire's multiply-and-reject), so sampling "uniformly
 * with replacement" in the simulator is exactly uniform.
 */
#ifndef MUSTER_BASE_RNG_H
#define MUSTER_BASE_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n must be > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_double(struct rng *r);
/* Fisher-Yates shuffle of n elements of `size` bytes each. */
void rng_shuffle(struct rng *r, void *base, uint64_t n, uint64_t size);

#endif
