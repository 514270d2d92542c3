import CGSL

/// The boundary with the GNU Scientific Library: its aborting error handler
/// is switched off once, before the first call. `betaQuantile` is shared
/// with the package's other modules (the calibration figure's
/// Clopper–Pearson intervals).
package enum GSL {
    static func configure() { _ = handlerOff }
    private static let handlerOff: Void = { cgsl_error_handler_off() }()

    /// Phi^-1(p), the standard normal quantile (Wichura's AS 241, as R's `qnorm`).
    static func normalQuantile(_ p: Double) -> Double {
        configure()
        return gsl_cdf_ugaussian_Pinv(p)
    }

    /// The p-quantile of Beta(a, b), the inverse of the regularised
    /// incomplete beta function I_x(a, b), as R's `qbeta`.
    ///
    /// GSL's `gsl_cdf_beta_Pinv` is used as it is when it succeeds. For
    /// some large shapes (e.g. Beta(4511, 239) at 0.1586553, or Beta(401, 1))
    /// its internal iteration gives up and returns NaN; then the equation
    /// I_x(a, b) = p is solved with GSL's own `gsl_cdf_beta_P` and
    /// `gsl_ran_beta_pdf` by Newton steps kept inside a shrinking bracket
    /// (bisection whenever a step would leave it), to the last bit.
    package static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        configure()
        let x = gsl_cdf_beta_Pinv(p, a, b)
        if x.isFinite, x >= 0, x <= 1 { return x }
        guard p > 0, p < 1, a > 0, b > 0 else { return p <= 0 ? 0 : (p >= 1 ? 1 : .nan) }
        return solveBetaDistribution(p, a, b)
    }

    private static func solveBetaDistribution(_ p: Double, _ a: Double, _ b: Double) -> Double {
        var low = 0.0, high = 1.0
        var x = a / (a + b)
        for _ in 0..<400 {
            let excess = gsl_cdf_beta_P(x, a, b) - p
            if excess == 0 { return x }
            if excess < 0 { low = x } else { high = x }
            var next = x - excess / gsl_ran_beta_pdf(x, a, b)
            if !(next > low && next < high) { next = low + (high - low) / 2 }
            if next == x || high - low <= 2 * x.ulp { return next }
            x = next
        }
        return x
    }
}
