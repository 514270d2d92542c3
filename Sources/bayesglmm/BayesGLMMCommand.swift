import ArgumentParser
import BayesGLMM
import Foundation

/// `bayesglmm`: full Bayesian inference for logistic mixed models with
/// crossed random effects. The root command is configuration only; each
/// subcommand is its own type.
///
/// Exit status: 0 success, 2 bad usage or bad input (the message names the
/// argument, file, line or column), 1 a numerical or internal failure (the
/// message says what failed and what to try), 130 interrupted.
@main
struct BayesGLMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bayesglmm",
        abstract: "Bayesian logistic mixed models with crossed random effects.",
        discussion: """
            Models are written as in lme4, e.g.
              y ~ x + (1|client) + (1|stylist) + (1|client:stylist)
            for 0/1 outcomes of pairings between clients and stylists.

            Start with `bayesglmm simulate` to make example data and
            `bayesglmm describe DATA.csv --formula '…'` to see what a model
            makes of your data.

            Exit status: 0 success; 2 bad usage or input (the message names
            the option, file, line or column); 1 a numerical failure (the
            message says what failed and what to try) or an output that could
            not be written; 130 when a fit is interrupted with Ctrl-C or
            SIGTERM (its completed draws are kept).
            """,
        version: "0.1.0",
        subcommands: [Simulate.self, Describe.self, EmpiricalBayesCommand.self, Fit.self, SummaryCommand.self,
                      Compare.self, ScoreCommand.self, Plot.self, LooCommand.self, CheckCommand.self, Merge.self]
    )

    /// Runs the command, mapping failures to the documented exit statuses:
    /// bad input 2, a numerical or internal failure 1, an interrupt 130.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as InputError {
            report(error.described(naming: flag))
            Foundation.exit(2)
        } catch let error as FormulaError {
            report("\(error)")
            Foundation.exit(2)
        } catch let error as PriorError {
            report("--prior: \(error)")
            Foundation.exit(2)
        } catch let failure as NumericalFailure {
            report(failure.described(naming: remedy))
            Foundation.exit(1)
        } catch let failure as WriteFailure {
            report("\(failure)")
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)     // 130 after Ctrl-C
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)    // --help, --version
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            // Usage errors (ArgumentParser's 64) become 2; anything else is an
            // internal failure (1).
            Foundation.exit(code == .validationFailure || error is ValidationError ? 2 : (code.rawValue == 64 ? 2 : 1))
        }
    }

    static func report(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    /// The flag that sets a library setting: `draws` is `--draws`,
    /// `rankBy` is `--rank-by`; the exceptions are listed (the library's
    /// words for what the flags name: `missing` rows are dropped with `--na`,
    /// the simulation's `intercept` and `coefficients` are `--alpha` and
    /// `--beta`).
    static func flag(_ setting: String) -> String {
        let exceptions = ["output": "--out", "start": "--init", "missing": "--na",
                          "intercept": "--alpha", "coefficients": "--beta", "runs": "RUN"]
        if let flag = exceptions[setting] { return flag }
        var kebab = ""
        for character in setting {
            if character.isUppercase { kebab += "-" + character.lowercased() } else { kebab.append(character) }
        }
        return "--" + kebab
    }

    /// A setting as the user types it: its flag and the value suggested, if
    /// any (`--na drop`, `--levels period=…`).
    static func flag(_ setting: Setting) -> String {
        flag(setting.name) + (setting.value.map { " " + $0 } ?? "")
    }

    /// A remedy of a numerical failure, with the flag that applies it.
    static func remedy(_ remedy: NumericalFailure.Remedy) -> String {
        switch remedy {
        case .longerWarmup: "a longer warm-up (--warmup)"
        case .anotherStart: "another start (--init prior or another --seed)"
        case .strongerPrior: "a more informative prior (--prior)"
        case .rescaledCovariates: "centred and scaled covariates"
        case .simplerModel: "a simpler model (--formula)"
        case .otherSampler: "the other sampler (--sampler)"
        }
    }
}
