// See include/CVectorMath.h. The vector functions are glibc's libmvec
// (x86-64 vector ABI, _ZGVdN4v_: AVX2, four lanes), documented to within
// 4 ulp; the four-lane path is taken only on a processor with AVX2 and FMA
// (checked once, before main), the scalar one elsewhere.
#include "CVectorMath.h"

#include <math.h>

static inline double term(double eta, double y, double n, double shared) {
    return -y * (fmax(-eta, 0) + shared) - (n - y) * (fmax(eta, 0) + shared);
}

static void scalar_cells(const double *eta, const double *y, const double *n, long from, long count,
                         double *value, double *score, double *information) {
    for (long i = from; i < count; i++) {
        double e = exp(-fabs(eta[i])), p = (eta[i] >= 0 ? 1 : e) / (1 + e);
        value[i] = term(eta[i], y[i], n[i], log1p(e));
        score[i] = y[i] - n[i] * p;
        information[i] = n[i] * p * (1 - p);
    }
}

// Terms from..<count added to the four partial sums s (term i to s[i mod 4]),
// and the sums' total.
static double scalar_sum(double s[4], const double *eta, const double *y, const double *n, long from, long count) {
    for (long i = from; i < count; i++) s[i & 3] += term(eta[i], y[i], n[i], log1p(exp(-fabs(eta[i]))));
    return ((s[0] + s[1]) + s[2]) + s[3];
}

#if defined(__x86_64__) && defined(__GLIBC__)
#include <immintrin.h>
#define FOUR_LANES __attribute__((target("avx2,fma")))

FOUR_LANES __m256d _ZGVdN4v_exp(__m256d);
FOUR_LANES __m256d _ZGVdN4v_log1p(__m256d);

// e^(−|η|) and the terms of four cells; written without fused multiply-adds,
// as the scalar terms are.
FOUR_LANES static inline __m256d terms4(__m256d eta, __m256d y, __m256d n, __m256d *exponential) {
    const __m256d zero = _mm256_setzero_pd();
    __m256d e = _ZGVdN4v_exp(_mm256_or_pd(eta, _mm256_set1_pd(-0.0)));
    __m256d shared = _ZGVdN4v_log1p(e);
    __m256d success = _mm256_add_pd(_mm256_max_pd(_mm256_sub_pd(zero, eta), zero), shared);   // softplus(−η)
    __m256d failure = _mm256_add_pd(_mm256_max_pd(eta, zero), shared);                        // softplus(η)
    *exponential = e;
    return _mm256_sub_pd(_mm256_sub_pd(zero, _mm256_mul_pd(y, success)), _mm256_mul_pd(_mm256_sub_pd(n, y), failure));
}

FOUR_LANES static double four_lane_sum(const double *eta, const double *y, const double *n, long count) {
    __m256d sum = _mm256_setzero_pd(), e;
    long i = 0;
    for (; i + 4 <= count; i += 4)
        sum = _mm256_add_pd(sum, terms4(_mm256_loadu_pd(eta + i), _mm256_loadu_pd(y + i), _mm256_loadu_pd(n + i), &e));
    double s[4];
    _mm256_storeu_pd(s, sum);
    return scalar_sum(s, eta, y, n, i, count);
}

FOUR_LANES static void four_lane_cells(const double *eta, const double *y, const double *n, long count,
                                       double *value, double *score, double *information) {
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1);
    long i = 0;
    for (; i + 4 <= count; i += 4) {
        __m256d eta4 = _mm256_loadu_pd(eta + i), yy = _mm256_loadu_pd(y + i), nn = _mm256_loadu_pd(n + i), e;
        _mm256_storeu_pd(value + i, terms4(eta4, yy, nn, &e));
        __m256d numerator = _mm256_blendv_pd(e, one, _mm256_cmp_pd(eta4, zero, _CMP_GE_OQ));   // η ≥ 0: 1
        __m256d p = _mm256_div_pd(numerator, _mm256_add_pd(one, e));
        _mm256_storeu_pd(score + i, _mm256_sub_pd(yy, _mm256_mul_pd(nn, p)));
        _mm256_storeu_pd(information + i, _mm256_mul_pd(_mm256_mul_pd(nn, p), _mm256_sub_pd(one, p)));
    }
    scalar_cells(eta, y, n, i, count, value, score, information);
}

// Set once, before main, so that chains on several threads only read it.
static int four_lanes = 0;

__attribute__((constructor)) static void detect_four_lanes(void) {
    __builtin_cpu_init();
    four_lanes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

static const int four_lanes = 0;

static double four_lane_sum(const double *eta, const double *y, const double *n, long count) { return NAN; }

static void four_lane_cells(const double *eta, const double *y, const double *n, long count,
                            double *value, double *score, double *information) {}

#endif

int vector_logit_path(void) { return four_lanes ? 1 : 0; }

double vector_logit_log_likelihood_by(int path, const double *eta, const double *y, const double *n, long count) {
    if (path == 0) {
        double s[4] = {0, 0, 0, 0};
        return scalar_sum(s, eta, y, n, 0, count);
    }
    return path == 1 && four_lanes ? four_lane_sum(eta, y, n, count) : NAN;
}

int vector_logit_cells_by(int path, const double *eta, const double *y, const double *n, long count,
                          double *value, double *score, double *information) {
    if (path == 0) scalar_cells(eta, y, n, 0, count, value, score, information);
    else if (path == 1 && four_lanes) four_lane_cells(eta, y, n, count, value, score, information);
    else return -1;
    return 0;
}

double vector_logit_log_likelihood(const double *eta, const double *y, const double *n, long count) {
    return vector_logit_log_likelihood_by(vector_logit_path(), eta, y, n, count);
}

void vector_logit_cells(const double *eta, const double *y, const double *n, long count,
                        double *value, double *score, double *information) {
    vector_logit_cells_by(vector_logit_path(), eta, y, n, count, value, score, information);
}
