import Foundation

extension EmpiricalBayesReport {
    /// An lme4 fit's random effects as its users export them,
    ///
    ///     write.csv(as.data.frame(ranef(fit, condVar = TRUE)), "ranef.csv", row.names = FALSE)
    ///
    /// read as a report with effects only: one per row, `grpvar` the
    /// grouping factor (the term, as `client:stylist`), `grp` the level,
    /// `condval` the conditional mode and `condsd` the conditional SD, for
    /// rows whose `term` is "(Intercept)". The SDs, the fixed effects and the
    /// fit statistics are not in the file; the model is taken to be the
    /// run's (its formula, rows and link), which the file cannot confirm.
    ///
    /// Throws `InputError` naming the file, and the line and column where
    /// there is one, for: a missing column; a term other than "(Intercept)"
    /// (only random intercepts are modelled); a missing, non-numeric or
    /// infinite mode or SD, or a negative SD; a level listed twice for one
    /// term.
    public static func fromRanef(_ frame: Frame, beside run: RunDirectory) throws(InputError)
        -> EmpiricalBayesReport {
        let source = frame.source
        for name in ["grpvar", "term", "grp", "condval", "condsd"] where frame.columns[name] == nil {
            throw InputError(.unknownColumn, "ranef.csv needs the columns grpvar, term, grp, condval and condsd of "
                             + "as.data.frame(ranef(fit, condVar = TRUE)); this one is missing (columns: "
                             + frame.names.joined(separator: ", ") + ")", file: source, column: name)
        }
        func text(_ column: String, _ row: Int) throws(InputError) -> String {
            switch frame.columns[column]! {
            case let .numeric(values):
                guard !values[row].isNaN else { throw missing(column, row) }
                return Levels.rName(values[row])
            case let .factor(codes, levels):
                guard codes[row] >= 0 else { throw missing(column, row) }
                return levels[Int(codes[row])]
            }
        }
        func number(_ column: String, _ row: Int) throws(InputError) -> Double {
            guard case let .numeric(values) = frame.columns[column]! else {
                throw InputError(.nonNumeric, "expected a number, found \"\(try text(column, row))\"", file: source,
                                 line: Int(frame.lines[row]), column: column)
            }
            guard !values[row].isNaN else { throw missing(column, row) }
            guard values[row].isFinite else {
                throw InputError(.notFinite, "expected a finite number, found \(Levels.rName(values[row]))",
                                 file: source, line: Int(frame.lines[row]), column: column)
            }
            return values[row]
        }
        func missing(_ column: String, _ row: Int) -> InputError {
            InputError(.missingValues, "missing value", file: source, line: Int(frame.lines[row]), column: column)
        }

        var effects: [Effect] = [], seen = Set<[String]>()
        for row in 0..<frame.rowCount {
            let term = try text("grpvar", row), level = try text("grp", row)
            guard try text("term", row) == "(Intercept)" else {
                throw InputError(.unsupported, "only random intercepts are modelled; this row is of the term \""
                                 + (try text("term", row)) + "\"", file: source, line: Int(frame.lines[row]),
                                 column: "term")
            }
            guard seen.insert([term, level]).inserted else {
                throw InputError(.malformedCSV, "the level \"\(level)\" of \(term) is listed twice", file: source,
                                 line: Int(frame.lines[row]), column: "grp")
            }
            let sd = try number("condsd", row)
            guard sd >= 0 else {
                throw InputError(.negativeCount, "a conditional SD must not be negative, found \(sd)", file: source,
                                 line: Int(frame.lines[row]), column: "condsd")
            }
            effects.append(Effect(term: term, level: level, mode: try number("condval", row), sd: sd))
        }
        return EmpiricalBayesReport(
            program: "lme4 ranef", case: URL(fileURLWithPath: source).lastPathComponent, formula: run.formula,
            data: "", rows_used: run.rowsUsed, fixed: [], sd: [], effects: effects, log_likelihood: .nan, aic: .nan,
            bic: .nan, deviance: .nan, singular: false, converged: true, messages: [], seconds: 0,
            link: run.link.rawValue)
    }
}
