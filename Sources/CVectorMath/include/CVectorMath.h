// The logistic log-likelihood, score and information of many cells at once,
// with the exponentials and logarithms taken four at a time by glibc's
// vector math library (libmvec) on a processor with AVX2.
#ifndef CVECTORMATH_H
#define CVECTORMATH_H

/// Σᵢ yᵢ·log F(ηᵢ) + (nᵢ − yᵢ)·log(1 − F(ηᵢ)), F(η) = 1/(1 + e^(−η)), over
/// i < count, each term as −yᵢ·softplus(−ηᵢ) − (nᵢ − yᵢ)·softplus(ηᵢ) with
/// softplus(x) = max(x, 0) + log1p(e^(−|x|)) (as `Link.logLikelihood`). The
/// terms are added in four interleaved partial sums (term i to sum i mod 4,
/// then the four in order) on every path, so that the paths differ only by
/// the rounding of their exponentials and logarithms (a few ulp).
double vector_logit_log_likelihood(const double *eta, const double *successes, const double *trials,
                                   long count);

/// Per cell i < count, the log-likelihood ℓᵢ (as above), the score
/// yᵢ − nᵢF(ηᵢ) and the information nᵢF(ηᵢ)(1 − F(ηᵢ)), written to
/// `logLikelihood`, `score` and `information`, with F(η) as 1/(1 + e) for
/// η ≥ 0 and e/(1 + e) below, e = e^(−|η|).
void vector_logit_cells(const double *eta, const double *successes, const double *trials, long count,
                        double *logLikelihood, double *score, double *information);

/// The path the two functions above take on this machine: 0 scalar (the C
/// library's exp and log1p), 1 four lanes (libmvec's AVX2 functions).
int vector_logit_path(void);

/// `vector_logit_log_likelihood` by one path; NaN for a path this machine
/// lacks.
double vector_logit_log_likelihood_by(int path, const double *eta, const double *successes,
                                      const double *trials, long count);

/// `vector_logit_cells` by one path; 0, or −1 (nothing written) for a path
/// this machine lacks.
int vector_logit_cells_by(int path, const double *eta, const double *successes, const double *trials, long count,
                          double *logLikelihood, double *score, double *information);

#endif
