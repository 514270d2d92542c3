import ArgumentParser
import BayesGLMM

/// The options that say which model to fit to which data, shared by the
/// subcommands that read data.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The data: a CSV file with a header row.")
    var data: String

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "The model, in lme4 syntax.",
        discussion: "For example 'y ~ x + (1|client) + (1|stylist) + (1|client:stylist)'. "
            + "The response is a 0/1 column, cbind(successes, failures), or successes with --trials. "
            + "Terms may be products (a:b, a*b) and transformed columns: log, log1p, exp, sqrt, abs, "
            + "I(x^2) and other arithmetic in I(), factor(code), scale(x), poly(x, 2) (raw = TRUE for powers), ns(x, df = 3) "
            + "(their constants kept for scoring); offset(log(n)) adds to the linear predictor; '.' is every "
            + "other column."))
    var formula: String

    @Option(help: "A column of trial counts; the response column then holds successes.")
    var trials: String?

    @Option(help: ArgumentHelp(
        "A column of prior weights (above 0), as glmer's weights =.",
        discussion: "A row of weight w counts as w·y successes out of w trials: the response may then be a "
            + "proportion in [0, 1]. Weights that make fractional counts are taken as they are (the logit "
            + "samplers and the EB fit accept them; probit and simulation need whole counts)."))
    var weights: String?

    @Option(help: ArgumentHelp(
        "A column added to the linear predictor with coefficient 1, as glmer's offset =.",
        discussion: "The same as offset(column) in the formula; offsets of both kinds add up. "
            + "An offset must be present on every row, and score reads it from the candidates too."))
    var offset: String?

    @Option(name: .customLong("levels"), help: ArgumentHelp(
        "The level order of a categorical column, as column=level1,level2,… (repeatable).",
        discussion: "The first level is the baseline of a categorical fixed effect. "
            + "Without it, levels are sorted as R sorts them in the C locale (byte order)."))
    var levelOrders: [String] = []

    @Option(name: .customLong("na"), help: "Rows with a missing value in a used column: drop (like R's na.omit) or fail.")
    var missing: DesignOptions.Missing = .drop

    @Option(help: ArgumentHelp(
        "How categorical columns are coded: treatment (R's default) or sum (R's contr.sum).",
        discussion: "treatment: a column per level but the first (the baseline), named gb, gc, …; "
            + "sum: a column per level but the last, 1 at the level and -1 at the last, named g1, g2, … "
            + "(the intercept is then the average over the levels)."))
    var contrasts: DesignOptions.Contrasts = .treatment

    func validate() throws {
        _ = try parsedLevels()
    }

    func parsedLevels() throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for entry in levelOrders {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--levels takes column=level1,level2,…, got '\(entry)'")
            }
            let name = String(entry[..<equals])
            let levels = entry[entry.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
                .map(String.init)
            guard !levels.isEmpty, !levels.contains(""), Set(levels).count == levels.count else {
                throw ValidationError("--levels \(name)= needs distinct, non-empty levels, got '\(entry)'")
            }
            guard result[name] == nil else { throw ValidationError("--levels gives \(name) twice") }
            result[name] = levels
        }
        return result
    }

    /// Reads the data, parses the formula and builds the design.
    func design() throws -> Design {
        let formula = try ModelFormula.parse(formula)
        let frame = try Frame.read(csvFile: data)
        return try Design(formula: formula, frame: frame,
                          options: DesignOptions(trials: trials, weights: weights, offset: offset,
                                                 levels: try parsedLevels(), missing: missing,
                                                 contrasts: contrasts))
    }
}

extension DesignOptions.Missing: ExpressibleByArgument {}
extension DesignOptions.Contrasts: ExpressibleByArgument {}
