import Foundation

extension EmpiricalBayesFit {
    /// Refuses, before any computation, a model and data that have no
    /// maximum-likelihood (Laplace) fit — the role of lme4's named checks
    /// (`checkNlevels`, `checkZrank`, …) run in one place:
    ///
    /// - a model without random terms (glmer: "No random effects terms
    ///   specified in formula");
    /// - a response without variation, all successes or all failures: the
    ///   likelihood keeps rising as the intercept goes to ±∞;
    /// - a fixed-effect column x that separates the outcomes (Albert &
    ///   Anderson 1984): some m with every trial at x > m a success and every
    ///   trial at x < m a failure (or the reverse), and x ≠ m somewhere.
    ///   Then moving β along x − m (x alone when m = 0, else with the
    ///   intercept) raises every trial's likelihood at x ≠ m and lowers none,
    ///   for every value of the random effects, so the marginal likelihood
    ///   has no maximum: the coefficient's estimate is infinite. One column
    ///   at a time is what is cheap (O(cells · p)); separation by a
    ///   combination of columns is not looked for.
    ///
    /// A Bayesian fit has a posterior for all of these, given proper priors,
    /// so the design itself accepts them.
    public static func check(_ design: Design) throws(InputError) {
        guard !design.randomTerms.isEmpty else { throw LaplaceApproximation.noRandomTerms(design) }
        let response: (column: String, text: String) = switch design.formula.response {
        case let .column(y): (y, y)
        case let .successesAndFailures(s, f): (s, "cbind(\(s), \(f))")
        }
        let successes = design.successes.reduce(0, +), trials = design.trials.reduce(0, +)
        guard trials > 0 else {
            throw InputError(.emptyData, "the rows used have no trials (every count is 0)", file: design.source,
                             column: response.column)
        }
        if successes == 0 || successes == trials {
            let outcome = successes == 0 ? "failures" : "successes"
            throw InputError(.noVariation,
                             "the response \(response.text) has no variation: all \(Levels.rName(trials)) trials "
                                + "are \(outcome), so the maximum-likelihood (Laplace) fit does not exist (the "
                                + "likelihood keeps rising as the predicted probabilities go to "
                                + "\(successes == 0 ? 0 : 1): complete separation)",
                             file: design.source, column: response.column)
        }
        try checkSeparation(design)
    }

    /// The data column a fixed-effect column is made of, if it is one: x for
    /// "x", g for "gb"; nil for products.
    private static func column(of coding: FixedColumn) -> String? {
        switch (coding.numeric.count, coding.categorical) {
        case (1, nil): coding.numeric[0]
        case (0, let categorical?) where coding.also == nil: categorical
        default: nil
        }
    }

    /// The single-column separation check of `check(_:)`.
    static func checkSeparation(_ design: Design) throws(InputError) {
        let p = design.fixedCount, n = design.cellCount
        let hasIntercept = design.fixedNames.contains("(Intercept)")
        for j in 0..<p where design.fixedNames[j] != "(Intercept)" {
            // The largest x among trials that failed and the smallest among
            // those that succeeded, and the reverse.
            var failureHigh = -Double.infinity, failureLow = Double.infinity
            var successHigh = -Double.infinity, successLow = Double.infinity
            var low = Double.infinity, high = -Double.infinity
            for i in 0..<n where design.trials[i] > 0 {
                let x = design.fixed[i * p + j]
                low = min(low, x); high = max(high, x)
                if design.successes[i] < design.trials[i] {
                    failureHigh = max(failureHigh, x); failureLow = min(failureLow, x)
                }
                if design.successes[i] > 0 { successHigh = max(successHigh, x); successLow = min(successLow, x) }
            }
            guard low < high else { continue }
            let name = design.fixedNames[j]
            // Successes above m and failures below (`rising`), or the reverse.
            for rising in [true, false] {
                let m = rising ? failureHigh : successHigh
                guard m <= (rising ? successLow : failureLow), hasIntercept || m == 0 else { continue }
                let value = Levels.rName(m)
                var clauses: [String] = []
                if high > m { clauses.append("every trial with \(name) > \(value) is a \(rising ? "success" : "failure")") }
                if low < m { clauses.append("every trial with \(name) < \(value) a \(rising ? "failure" : "success")") }
                throw InputError(.separation,
                                 "the fixed effect \(name) separates the outcomes: " + clauses.joined(separator: " and ")
                                    + ", so the maximum-likelihood (Laplace) estimate of its coefficient is infinite "
                                    + "(complete separation) and the fit does not exist; drop \(name), merge "
                                    + "its rare values, or fit the model by the Bayesian sampler with a proper prior",
                                 file: design.source, column: column(of: design.fixedCoding[j]))
            }
        }
    }
}
