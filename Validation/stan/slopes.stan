// Issue 18: the random-slope model of `bayesglmm fit` with its default prior,
//   y ~ x1 + (1 + x1 | client) + (1 | stylist),   logit link,
// written out in Stan (2.21 syntax, as rstan 2.21.7 takes it) for
// Validation/stan/fit_slopes.R.
//
// Prior (bayesglmm's defaults; Sources/BayesGLMM/Sampling/RandomSlopeGibbs.swift):
//   alpha ~ N(0, 2.5^2)  on the raw (uncentred) intercept;  beta ~ N(0, 2.5^2), no autoscaling;
//   sd(stylist) ~ half-t(3, 0, 2.5);
//   the client term's 2 x 2 covariance Sigma: Huang & Wand (2013),
//     a_j ~ InvGamma(shape 1/2, scale 1/A^2),  A = 2.5,  j = 1, 2,
//     Sigma | a ~ InvWishart(nu + q - 1, 2 nu diag(1/a_1, 1/a_2)),  nu = 3, q = 2,
//   whose marginals are half-t(3, 0, 2.5) on each SD;
//   (u_j0, u_j1) ~ N(0, Sigma) per client, v_s ~ N(0, sd(stylist)^2) per stylist.
// Linear predictor alpha + beta x1 + u_j0 + u_j1 x1 + v_s.
// Stan's inv_gamma(alpha, beta) has density ∝ x^(-alpha-1) exp(-beta/x) and
// inv_wishart(nu, S) density ∝ |S|^(nu/2) |W|^(-(nu+K+1)/2) exp(-tr(S W^-1)/2),
// the parameterisations above; the |S|^(nu/2) factor depends on a and is
// kept by the sampling statement. Both random terms are non-centred:
// u = cholesky(Sigma) z, v = sd(stylist) w, with z and w standard normal.
data {
  int<lower=1> N;                          // rows (x1 is continuous: every row is its own cell)
  int<lower=1> J;                          // clients
  int<lower=1> S;                          // stylists
  int<lower=1, upper=J> client[N];
  int<lower=1, upper=S> stylist[N];
  vector[N] x1;
  int<lower=0, upper=1> y[N];
  real<lower=0> nu;                        // 3
  real<lower=0> A;                         // 2.5 (half-t scale of each client SD)
  real<lower=0> prior_sd_fixed;            // 2.5
  real<lower=0> stylist_nu;                // 3
  real<lower=0> stylist_scale;             // 2.5
}
transformed data {
  int q = 2;
}
parameters {
  real alpha;
  real beta;
  cov_matrix[2] Sigma;
  vector<lower=0>[2] a;
  matrix[2, J] z;
  real<lower=0> sigma_stylist;
  vector[S] w;
}
transformed parameters {
  matrix[2, J] u = cholesky_decompose(Sigma) * z;   // column j: (u_j0, u_j1)
  vector[S] v = sigma_stylist * w;
}
model {
  vector[N] eta = alpha + beta * x1
                  + to_vector(u[1, client]) + to_vector(u[2, client]) .* x1
                  + v[stylist];
  alpha ~ normal(0, prior_sd_fixed);
  beta ~ normal(0, prior_sd_fixed);
  a ~ inv_gamma(0.5, 1 / square(A));
  Sigma ~ inv_wishart(nu + q - 1, diag_matrix(2 * nu * inv(a)));
  to_vector(z) ~ std_normal();
  sigma_stylist ~ student_t(stylist_nu, 0, stylist_scale);   // half-t via <lower=0>
  w ~ std_normal();
  y ~ bernoulli_logit(eta);
}
generated quantities {
  real sd_client_intercept = sqrt(Sigma[1, 1]);
  real sd_client_x1 = sqrt(Sigma[2, 2]);
  real cor_client = Sigma[1, 2] / sqrt(Sigma[1, 1] * Sigma[2, 2]);
}
