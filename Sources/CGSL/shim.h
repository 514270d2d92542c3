// The GSL headers BayesGLMM uses, and the few `static inline` helpers Swift
// needs around them.
//
// Swift 6 refuses to touch mutable C globals such as `gsl_rng_mt19937`, so the
// generator types are reached through accessor functions. No C type should
// appear in a public Swift signature; the Swift modules wrap everything here.
#ifndef BAYESGLMM_CGSL_SHIM_H
#define BAYESGLMM_CGSL_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_exp.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_sf_result.h>
#include <gsl/gsl_fft_real.h>
#include <gsl/gsl_fft_halfcomplex.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_multimin.h>

/// GSL's global generator type for the Mersenne Twister MT19937.
static inline const gsl_rng_type *cgsl_rng_type_mt19937(void) { return gsl_rng_mt19937; }

/// GSL's default generator type (MT19937 unless GSL_RNG_TYPE says otherwise).
static inline const gsl_rng_type *cgsl_rng_type_default(void) { return gsl_rng_default; }

/// Turns GSL's default error handler (which aborts the process) off.
static inline void cgsl_error_handler_off(void) { gsl_set_error_handler_off(); }

// -- MT19937 with 53-bit doubles and 64-bit seeds ---------------------------
//
// GSL's MT19937 returns doubles with 32 random bits and uses only the low 32
// bits of its seed. The type below is GSL's own MT19937 recurrence (its `get`
// is called through GSL's type table) with two changes:
//   * `get_double` joins two 32-bit outputs into a 53-bit uniform on [0, 1)
//     (Matsumoto & Nishimura's genrand_res53), so exponential and normal tails
//     are not cut off at 2^-32;
//   * `set` fills the whole 624-word state from SplitMix64 (Steele, Lea &
//     Flood 2014) started at the 64-bit seed, so that distinct 64-bit seeds
//     give unrelated states rather than colliding after 2^32 seeds.
// The state layout is that of GSL's rng/mt.c (`unsigned long mt[624]; int mti;`);
// `cgsl_mt19937_53_layout_matches` checks it against GSL at run time.

typedef struct {
    unsigned long mt[624];
    int mti;
} cgsl_mt_state;

static inline uint64_t cgsl_splitmix64_next(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void cgsl_mt19937_53_set(void *state, unsigned long seed) {
    cgsl_mt_state *s = (cgsl_mt_state *)state;
    uint64_t x = (uint64_t)seed;
    for (int i = 0; i < 624; i += 2) {
        uint64_t w = cgsl_splitmix64_next(&x);
        s->mt[i] = (unsigned long)(w & 0xffffffffULL);
        s->mt[i + 1] = (unsigned long)(w >> 32);
    }
    // As in MT's init_by_array: the most significant bit of mt[0] is 1, so the
    // state can never be the all-zero fixed point.
    s->mt[0] = 0x80000000UL;
    s->mti = 624;
}

static inline unsigned long cgsl_mt19937_53_get(void *state) {
    return gsl_rng_mt19937->get(state);
}

static inline double cgsl_mt19937_53_get_double(void *state) {
    unsigned long a = gsl_rng_mt19937->get(state) >> 5;
    unsigned long b = gsl_rng_mt19937->get(state) >> 6;
    return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

static const gsl_rng_type cgsl_mt19937_53_type = {
    "mt19937_53", 0xffffffffUL, 0, sizeof(cgsl_mt_state),
    &cgsl_mt19937_53_set, &cgsl_mt19937_53_get, &cgsl_mt19937_53_get_double
};

/// MT19937 with 53-bit doubles and full 64-bit SplitMix64 seeding.
static inline const gsl_rng_type *cgsl_rng_type_mt19937_53(void) { return &cgsl_mt19937_53_type; }

/// Whether GSL's MT19937 state has the layout `cgsl_mt_state` assumes.
static inline int cgsl_mt19937_53_layout_matches(void) {
    return gsl_rng_mt19937->size == sizeof(cgsl_mt_state) && gsl_rng_mt19937->max == 0xffffffffUL;
}

/// A 53-bit uniform on [0, 1) straight from the generator's table (no range
/// check, no library call).
static inline double cgsl_rng_uniform(const gsl_rng *r) { return r->type->get_double(r->state); }

/// A 53-bit uniform on (0, 1).
static inline double cgsl_rng_uniform_positive(const gsl_rng *r) {
    double u;
    do { u = r->type->get_double(r->state); } while (u == 0.0);
    return u;
}

/// Fills `out` with the next `count` raw 32-bit outputs of the generator.
static inline void cgsl_rng_fill_u32(const gsl_rng *r, uint32_t *out, size_t count) {
    // Our MT19937 type's `get` forwards to GSL's; call GSL's directly.
    unsigned long (*get)(void *) = r->type == &cgsl_mt19937_53_type ? gsl_rng_mt19937->get : r->type->get;
    void *state = r->state;
    for (size_t i = 0; i < count; i++) out[i] = (uint32_t)get(state);
}

/// The raw integer output of the generator.
static inline unsigned long cgsl_rng_get(const gsl_rng *r) { return r->type->get(r->state); }

#endif
