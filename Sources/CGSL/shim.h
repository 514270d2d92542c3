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
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_bspline.h>

/// GSL's global generator type for the Mersenne Twister MT19937.
static inline const gsl_rng_type *cgsl_rng_type_mt19937(void) { return gsl_rng_mt19937; }

/// GSL's default generator type (MT19937 unless GSL_RNG_TYPE says otherwise).
static inline const gsl_rng_type *cgsl_rng_type_default(void) { return gsl_rng_default; }

/// GSL's Nelder–Mead simplex minimiser type (version 2).
static inline const gsl_multimin_fminimizer_type *cgsl_multimin_nmsimplex2(void) { return gsl_multimin_fminimizer_nmsimplex2; }

/// GSL's BFGS minimiser type (version 2).
static inline const gsl_multimin_fdfminimizer_type *cgsl_multimin_vector_bfgs2(void) { return gsl_multimin_fdfminimizer_vector_bfgs2; }

/// GSL's fixed-point Gauss–Hermite rule type (weight |x − a|^α e^(−b(x − a)²)).
static inline const gsl_integration_fixed_type *cgsl_integration_fixed_hermite(void) { return gsl_integration_fixed_hermite; }

/// Turns GSL's default error handler (which aborts the process) off.
static inline void cgsl_error_handler_off(void) { gsl_set_error_handler_off(); }

// -- GSL generators with 53-bit doubles and 64-bit seeds --------------------
//
// GSL's 32-bit generators return doubles with 32 random bits and use only the
// low 32 bits of a seed. The types below run GSL's own recurrences (their
// `get` is called through GSL's type table) with two changes:
//   * `get_double` joins two 32-bit outputs into a 53-bit uniform on [0, 1)
//     (Matsumoto & Nishimura's genrand_res53), so exponential and normal tails
//     are not cut off at 2^-32;
//   * `set` fills the whole state from SplitMix64 (Steele, Lea & Flood 2014)
//     started at the 64-bit seed, so that distinct 64-bit seeds give unrelated
//     states rather than colliding after 2^32 seeds.
// The state layouts are those of GSL's rng/taus.c and rng/mt.c;
// `cgsl_rng_layouts_match` checks their sizes against GSL at run time.

static inline uint64_t cgsl_splitmix64_next(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// Joins two 32-bit outputs into a uniform double on [0, 1) with 53 bits.
static inline double cgsl_join53(unsigned long a, unsigned long b) {
    return ((double)(a >> 5) * 67108864.0 + (double)(b >> 6)) * (1.0 / 9007199254740992.0);
}

// L'Ecuyer's (1996) maximally equidistributed combined Tausworthe generator,
// GSL's taus2: period 2^88, three 32-bit words of state.
typedef struct { unsigned long s1, s2, s3; } cgsl_taus_state;

static inline void cgsl_taus2_53_set(void *state, unsigned long seed) {
    cgsl_taus_state *s = (cgsl_taus_state *)state;
    uint64_t x = (uint64_t)seed;
    uint64_t a = cgsl_splitmix64_next(&x), b = cgsl_splitmix64_next(&x);
    // Each component needs enough non-zero high bits (s1 > 1, s2 > 7, s3 > 15),
    // the same corrections GSL's own taus2 seeding makes.
    s->s1 = (unsigned long)(a & 0xffffffffULL); if (s->s1 < 2) s->s1 += 2;
    s->s2 = (unsigned long)(a >> 32);           if (s->s2 < 8) s->s2 += 8;
    s->s3 = (unsigned long)(b & 0xffffffffULL); if (s->s3 < 16) s->s3 += 16;
}
static inline unsigned long cgsl_taus2_53_get(void *state) { return gsl_rng_taus2->get(state); }
static inline double cgsl_taus2_53_get_double(void *state) {
    unsigned long a = gsl_rng_taus2->get(state);
    return cgsl_join53(a, gsl_rng_taus2->get(state));
}
static const gsl_rng_type cgsl_taus2_53_type = {
    "taus2_53", 0xffffffffUL, 0, sizeof(cgsl_taus_state),
    &cgsl_taus2_53_set, &cgsl_taus2_53_get, &cgsl_taus2_53_get_double
};

// Matsumoto & Nishimura's (1998) Mersenne Twister MT19937: period 2^19937 − 1.
typedef struct { unsigned long mt[624]; int mti; } cgsl_mt_state;

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
static inline unsigned long cgsl_mt19937_53_get(void *state) { return gsl_rng_mt19937->get(state); }
static inline double cgsl_mt19937_53_get_double(void *state) {
    unsigned long a = gsl_rng_mt19937->get(state);
    return cgsl_join53(a, gsl_rng_mt19937->get(state));
}
static const gsl_rng_type cgsl_mt19937_53_type = {
    "mt19937_53", 0xffffffffUL, 0, sizeof(cgsl_mt_state),
    &cgsl_mt19937_53_set, &cgsl_mt19937_53_get, &cgsl_mt19937_53_get_double
};

/// The generator types: 0 = taus2, 1 = MT19937 (both with 53-bit doubles and
/// 64-bit SplitMix64 seeding).
static inline const gsl_rng_type *cgsl_rng_type_53(int algorithm) {
    return algorithm == 1 ? &cgsl_mt19937_53_type : &cgsl_taus2_53_type;
}

/// GSL's own `get` behind our type `algorithm`, for filling blocks of words.
typedef unsigned long (*cgsl_get_function)(void *);
static inline cgsl_get_function cgsl_underlying_get(int algorithm) {
    return algorithm == 1 ? gsl_rng_mt19937->get : gsl_rng_taus2->get;
}

/// Whether GSL's state sizes are the ones the layouts above assume.
static inline int cgsl_rng_layouts_match(void) {
    return gsl_rng_mt19937->size == sizeof(cgsl_mt_state) && gsl_rng_mt19937->max == 0xffffffffUL
        && gsl_rng_taus2->size == sizeof(cgsl_taus_state) && gsl_rng_taus2->max == 0xffffffffUL;
}

/// Fills `out` with `count` outputs of `get` on the generator's state.
static inline void cgsl_rng_fill_u32(const gsl_rng *r, cgsl_get_function get, uint32_t *out, size_t count) {
    void *state = r->state;
    for (size_t i = 0; i < count; i++) out[i] = (uint32_t)get(state);
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

/// The raw integer output of the generator.
static inline unsigned long cgsl_rng_get(const gsl_rng *r) { return r->type->get(r->state); }

#endif
