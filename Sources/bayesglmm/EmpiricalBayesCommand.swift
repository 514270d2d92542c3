import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm eb`: empirical-Bayes estimates by the Laplace approximation,
/// as lme4's `glmer` makes them.
struct EmpiricalBayesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eb",
        abstract: "Empirical-Bayes (maximum marginal likelihood) fit, as lme4's glmer makes it.",
        discussion: """
            Maximises the Laplace approximation of the marginal likelihood
            (glmer's default nAGQ = 1): first over the standard deviations with
            the fixed effects found jointly with the effects, then over both,
            by GSL's BFGS on the exact gradient; the effects' conditional modes
            by penalised iteratively reweighted least squares on a sparse
            Cholesky factor (CHOLMOD). Reports the fixed effects with standard
            errors (from the Hessian, as glmer's vcov), the standard
            deviations (and, for a term with slopes such as (1 + x | client),
            its correlations, as glmer's VarCorr: the optimiser works on
            lme4's theta, each term's relative covariance factor), the
            conditional mode and SD of every effect, the log-likelihood, AIC,
            BIC, deviance and glmer's convergence and "boundary (singular)
            fit" messages (a zero SD, or a correlation of -1 or 1).

            --nagq N (glmer's nAGQ) maximises adaptive Gauss-Hermite
            quadrature with N points instead (1, the default, is the Laplace
            approximation; at most 25), for a model with a single random-effect
            term of one column, such as y ~ x + (1 | group): each level's
            integral is evaluated at N points around its conditional mode.
            Where levels have few observations and the SD is large, Laplace
            underestimates the SD; quadrature does not. The log-likelihood is
            the quadrature's, with the same constants as Laplace's, so the two
            compare (glmer's nAGQ > 1 logLik leaves out the binomial
            coefficients of cbind() rows and is relative to the saturated
            model; for 0/1 rows the two agree).

            --out writes the fit as JSON in the schema glmer's fits are written
            in by Validation/lme4/fit_glmer.R; `bayesglmm compare RUN_DIR --eb
            FILE` reads either.
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "Write the fit as JSON to this file.")
    var out: String?

    @Option(name: .customLong("case"), help: "A name for the fit, recorded in the JSON.")
    var caseName: String?

    @Option(name: .customLong("nagq"),
            help: ArgumentHelp("Quadrature points per level (glmer's nAGQ): 1 = Laplace; up to 25 for a single "
                               + "scalar term; 0 = glmer's first stage alone."))
    var quadraturePoints = 1

    func run() throws {
        let design = try model.design()
        guard !design.randomTerms.isEmpty else {
            // The library refuses it too; here the message can name the command that fits it.
            throw InputError(.unsupported, "'\(design.formula)' has no random-effect terms, and an empirical-Bayes "
                             + "fit needs at least one (lme4's glmer: \"No random effects terms specified in "
                             + "formula\"); for a logistic regression use 'bayesglmm fit' (Bayesian) or a GLM "
                             + "(R's glm)", setting: "formula")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let fit = try EmpiricalBayesFit.fit(design, quadraturePoints: quadraturePoints)
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let name = caseName ?? URL(fileURLWithPath: model.data).deletingPathExtension().lastPathComponent
        let report = fit.report(design: design, case: name, seconds: seconds)
        if let out {
            try Output.write(try report.json(), to: out, setting: "output")
        }
        print(EmpiricalBayesCommand.describe(report, design: design), terminator: "")
        // The time goes to standard error, as fit's does: standard output is
        // the same for the same data on every run.
        FileHandle.standardError.write(Data(String(format: "fitted in %.2f s\n", report.seconds).utf8))
    }

    /// The fit as glmer's `summary` shows it, briefly.
    static func describe(_ report: EmpiricalBayesReport, design: Design) -> String {
        var lines: [String] = []
        lines.append("Generalized linear mixed model fit by maximum likelihood (\(report.approximation))")
        lines.append(" Family: binomial  ( logit )")
        lines.append("Formula: \(report.formula)")
        lines.append("   Data: \(report.data)")
        lines.append("")
        // glmer's summary line: "deviance" there is −2 logLik (the report's
        // `deviance` field is glmer's deviance(), the deviance residuals'
        // sum), df.resid the rows less the parameters.
        let parameters = report.fixed.count + report.sd.count + (report.correlations ?? []).count
        lines.append(["AIC", "BIC", "logLik", "deviance", "df.resid"].map {
            String(repeating: " ", count: 10 - $0.count) + $0
        }.joined(separator: " "))
        lines.append(String(format: "%10.1f %10.1f %10.1f %10.1f %10d", report.aic, report.bic, report.log_likelihood,
                            -2 * report.log_likelihood, report.rows_used - parameters))
        lines.append("")
        lines.append("Random effects:")
        let width = max(8, report.sd.map(\.term.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        if design.hasSlopes {
            // glmer's table: a row per column of each term, the
            // correlations with the term's earlier columns beside it.
            let names = max(11, design.randomTerms.flatMap(\.columns).map(\.count).max() ?? 0)
            lines.append(" " + pad("Groups", width) + "  Levels  " + pad("Name", names) + "  Std.Dev.  Corr")
            var sd = 0, correlation = 0
            for term in design.randomTerms {
                let q = term.dimension
                let correlations = (report.correlations ?? [])[correlation..<(correlation + q * (q - 1) / 2)]
                    .map(\.estimate)
                for c in 0..<q {
                    // cor(a, c) for a < c, in the report's order (row by row of the upper triangle).
                    let row = (0..<c).map { a in
                        String(format: "%5.2f", correlations[correlations.startIndex + a * (2 * q - a - 1) / 2 + (c - a - 1)])
                    }
                    lines.append(" " + pad(c == 0 ? term.name : "", width)
                                 + (c == 0 ? String(format: "  %6d", term.levelCount) : "        ")
                                 + "  " + pad(term.columns[c], names)
                                 + String(format: "  %8.4f", report.sd[sd].estimate)
                                 + (row.isEmpty ? "" : "  " + row.joined(separator: " ")))
                    sd += 1
                }
                correlation += q * (q - 1) / 2
            }
        } else {
            lines.append(" " + pad("Groups", width) + "  Levels  Std.Dev.")
            for (k, sd) in report.sd.enumerated() {
                lines.append(" " + pad(sd.term, width)
                             + String(format: "  %6d  %8.4f", design.randomTerms[k].levelCount, sd.estimate))
            }
        }
        lines.append("Number of obs: \(report.rows_used)")
        lines.append("")
        lines.append("Fixed effects:")
        let nameWidth = max(12, report.fixed.map(\.name.count).max() ?? 0)
        lines.append("".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "   Estimate Std. Error  z value")
        for f in report.fixed {
            lines.append(f.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                         + String(format: " %10.5f %10.5f %8.3f", f.estimate, f.std_error, f.estimate / f.std_error))
        }
        lines.append("")
        for message in report.messages { lines.append(message) }
        // The schema counts glmer's boundary note as a convergence message;
        // the optimiser itself converged.
        let converged = report.converged || report.messages.allSatisfy { $0.hasPrefix("boundary (singular) fit") }
        lines.append(converged ? "converged" : "not converged")
        return lines.joined(separator: "\n") + "\n"
    }
}
