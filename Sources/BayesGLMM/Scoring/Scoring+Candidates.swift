import Foundation

extension Scoring {
    /// A table of candidate rows, checked against the model: a level of
    /// every grouping factor and a number for every covariate of the fixed
    /// part, per row.
    public struct Candidates: Sendable {
        /// Where the rows came from, for messages.
        public let source: String
        /// The table's columns in file order and each row's fields as they
        /// will be echoed (grouping levels by name, numbers as R prints them).
        public let columns: [String]
        public let fields: [[String]]
        /// 1-based line of each row in `source`.
        public let lines: [Int]
        public var count: Int { lines.count }
        /// Per term, per row: the level name (`12:7` for client:stylist).
        public let levels: [[String]]
        /// Per term, per row: whether the fit never saw the level.
        public let isNew: [[Bool]]
        /// Per covariate (`Scoring.covariates`), per row: its value.
        let covariateValues: [[Double]]
        /// Per row: the offset (`Scoring.offsetVariables` summed); empty
        /// without an offset.
        let offsets: [Double]
        /// Per categorical column (`Scoring.categoricals`), per row: the
        /// position of its level in `Scoring.categoricalLevels`.
        let categoryCodes: [[Int]]
        /// Per term, per row: the store index of the level's effect (of its
        /// first column's, for a term with slopes: the level's q effects are
        /// consecutive in the store), or −1 for a new level.
        let effectIndices: [[Int]]
    }

    /// Checks a candidate table and resolves its levels.
    ///
    /// Throws `InputError` naming the file (and line and column where there
    /// is one) for: a column that is not a grouping factor, covariate or
    /// response (or trials column) of the model; a grouping factor or
    /// covariate the table lacks; a missing value in a used column; a
    /// covariate that is not a finite number; a level of a categorical
    /// covariate the fit never saw (its coefficient is not estimated); a seen
    /// level whose effect the draw store lacks (refit saving all draws). An
    /// empty table is refused when it is read
    /// (`Frame.read`).
    public func candidates(_ table: Frame) throws(InputError) -> Candidates {
        let source = table.source
        // A transformed variable (log(x), I(x^2), factor(g)) is computed
        // from its columns, as the fit computed it.
        var needed: [String] = []
        for name in factors + covariates + categoricals + offsetVariables {
            for column in formula.expressions[name]?.columns ?? [name] where !needed.contains(column) {
                needed.append(column)
            }
        }
        let known = Set(needed + responseColumns)
        if let unknown = table.names.first(where: { !known.contains($0) }) {
            throw InputError(.unknownColumn, "not a column of the model (a candidate table has the grouping factors "
                             + needed.joined(separator: ", ") + " and nothing else but the response)",
                             file: source, line: 1, column: unknown)
        }
        for name in needed where table.columns[name] == nil {
            let role = factors.contains(name) ? "a grouping factor"
                : categoricals.contains(name) ? "a categorical covariate"
                : offsetVariables.contains(where: { (formula.expressions[$0]?.columns ?? [$0]).contains(name) })
                    && !covariates.contains(name) ? "the offset" : "a covariate of the fixed effects"
            throw InputError(.unknownColumn, "the model needs this column (\(role)), which the candidate table lacks "
                             + "(columns: \(table.names.joined(separator: ", ")))", file: source, column: name)
        }

        let transformed = formula.expressions.filter {
            covariates.contains($0.key) || categoricals.contains($0.key) || offsetVariables.contains($0.key)
        }
        // scale, poly and ns with the fit's constants (R's safe prediction).
        let constants = run.manifest.transforms ?? [:]
        for case let .trained(transform, _) in transformed.values where constants[transform.text] == nil {
            throw InputError(.unsupported, "the fit has no record of the constants of \(transform.text) "
                             + "(\"transforms\" in fit.json), which new rows need; fit again to score it",
                             file: run.path)
        }
        return try candidates(table.deriving(transformed, constants: constants).frame, source: source,
                              echoed: table.names)
    }

    /// `candidates(_:)` once the transformed variables are columns; `echoed`
    /// are the table's own columns.
    private func candidates(_ frame: Frame, source: String, echoed: [String]) throws(InputError) -> Candidates {
        // Level names of the grouping columns, as the design names them, and
        // as a level spelled as numbers in text (`07`, `2.0`) is renamed by
        // the design when the column is numeric (`7`, `2`).
        var names: [String: [String]] = [:], numericNames: [String: [String]] = [:]
        for factor in factors {
            var values: [String] = [], numeric: [String] = []
            values.reserveCapacity(frame.rowCount)
            switch frame.columns[factor]! {
            case let .numeric(v):
                var rNames: [Double: String] = [:]   // Levels.rName is slow; levels repeat
                for row in 0..<frame.rowCount {
                    guard !v[row].isNaN else { throw missing(frame, row, factor) }
                    if let name = rNames[v[row]] { values.append(name); continue }
                    let name = Levels.rName(v[row])
                    rNames[v[row]] = name
                    values.append(name)
                }
                numeric = values
            case let .factor(codes, levels):
                let renamed = levels.map(Scoring.numericName)
                numeric.reserveCapacity(frame.rowCount)
                for row in 0..<frame.rowCount {
                    guard codes[row] >= 0 else { throw missing(frame, row, factor) }
                    values.append(levels[Int(codes[row])])
                    numeric.append(renamed[Int(codes[row])])
                }
            }
            names[factor] = values
            numericNames[factor] = numeric
        }
        // Covariates: finite numbers.
        var covariateValues: [[Double]] = []
        for name in covariates {
            switch frame.columns[name]! {
            case let .numeric(v):
                for row in 0..<frame.rowCount where !v[row].isFinite {
                    if v[row].isNaN { throw missing(frame, row, name) }
                    throw InputError(.nonNumeric, "expected a finite number, found \(Levels.rName(v[row]))",
                                     file: source, line: Int(frame.lines[row]), column: name)
                }
                covariateValues.append(v)
            case let .factor(codes, levels):
                // The first entry that is not a number, or else the first missing one.
                for row in 0..<frame.rowCount where codes[row] >= 0 {
                    let text = levels[Int(codes[row])]
                    if CSVField.number(text) == .text {
                        throw InputError(.nonNumeric, "expected a number (a covariate of the fixed effects), found \""
                                         + text + "\"", file: source, line: Int(frame.lines[row]), column: name)
                    }
                }
                var firstMissing = 0
                while firstMissing < frame.rowCount - 1 && codes[firstMissing] >= 0 { firstMissing += 1 }
                throw missing(frame, firstMissing, name)
            }
        }

        // The offset: a finite number on every row.
        var offsets: [Double] = offsetVariables.isEmpty ? [] : [Double](repeating: 0, count: frame.rowCount)
        for name in offsetVariables {
            guard case let .numeric(v) = frame.columns[name]! else {
                throw InputError(.nonNumeric, "expected numbers (the offset), found text", file: source, column: name)
            }
            for row in 0..<frame.rowCount {
                guard v[row].isFinite else {
                    if v[row].isNaN { throw missing(frame, row, name) }
                    throw InputError(.notFinite, "expected a finite offset, found \(Levels.rName(v[row]))",
                                     file: source, line: Int(frame.lines[row]), column: name)
                }
                offsets[row] += v[row]
            }
        }

        // Categorical covariates: a level of the fit's, by name (or by the
        // name the design gives a level spelled as a number).
        var categoryCodes: [[Int]] = []
        for (c, name) in categoricals.enumerated() {
            let position = Dictionary(categoricalLevels[c].enumerated().map { ($1, $0) },
                                      uniquingKeysWith: { first, _ in first })
            var codes: [Int] = []
            codes.reserveCapacity(frame.rowCount)
            switch frame.columns[name]! {
            case let .numeric(v):
                for row in 0..<frame.rowCount {
                    guard !v[row].isNaN else { throw missing(frame, row, name) }
                    guard let code = position[Levels.rName(v[row])] else {
                        throw unknownLevel(Levels.rName(v[row]), frame, row, name, categoricalLevels[c])
                    }
                    codes.append(code)
                }
            case let .factor(rowCodes, levels):
                let resolved = levels.map { position[$0] ?? position[Scoring.numericName($0)] }
                for row in 0..<frame.rowCount {
                    guard rowCodes[row] >= 0 else { throw missing(frame, row, name) }
                    guard let code = resolved[Int(rowCodes[row])] else {
                        throw unknownLevel(levels[Int(rowCodes[row])], frame, row, name, categoricalLevels[c])
                    }
                    codes.append(code)
                }
            }
            categoryCodes.append(codes)
        }

        // Levels of each term; seen ones resolved to their effects' draws.
        var levels: [[String]] = [], isNew: [[Bool]] = [], effectIndices: [[Int]] = []
        for (k, term) in terms.enumerated() {
            let parts = term.factors.map { names[$0]! }, numericParts = term.factors.map { numericNames[$0]! }
            var termLevels: [String] = [], termNew: [Bool] = [], termIndices: [Int] = []
            var storeIndex: [Int: Int] = [:]   // level position → index of its effect in the store
            for row in 0..<frame.rowCount {
                let name = parts.count == 1 ? parts[0][row] : parts.map { $0[row] }.joined(separator: ":")
                termLevels.append(name)
                let position = levelPositions[k][name] ?? levelPositions[k][
                    numericParts.count == 1 ? numericParts[0][row] : numericParts.map { $0[row] }.joined(separator: ":")]
                guard let position else {
                    termNew.append(true)
                    termIndices.append(-1)
                    continue
                }
                if let index = storeIndex[position] {
                    termNew.append(false)
                    termIndices.append(index)
                    continue
                }
                let runTerm = run.terms[k], level = runTerm.levels[position]
                let parameters = runTerm.isInterceptOnly ? ["r(\(term.name))[\(level)]"]
                    : runTerm.columns.map { "r(\(term.name))[\(level)][\($0)]" }
                let found = parameters.map { run.parameterIndex($0) }
                guard let index = found[0], found.enumerated().allSatisfy({ $1 == index + $0 }) else {
                    let parameter = parameters[found.firstIndex { $0 == nil } ?? 0]
                    throw InputError(.unsupported, "the draw store has no draws of \(parameter), the effect of "
                                     + "a level in the candidates", file: run.store.path,
                                     advice: "refit with \(setting: "save", value: "all")")
                }
                storeIndex[position] = index
                termNew.append(false)
                termIndices.append(index)
            }
            levels.append(termLevels)
            isNew.append(termNew)
            effectIndices.append(termIndices)
        }

        // The fields to echo.
        var fields = [[String]](repeating: [], count: frame.rowCount)
        for row in 0..<frame.rowCount {
            fields[row] = echoed.map { name in
                if let level = names[name]?[row] { return level }
                switch frame.columns[name]! {
                case let .numeric(v): return Scoring.echo(v[row])
                case let .factor(codes, levels): return codes[row] < 0 ? "NA" : levels[Int(codes[row])]
                }
            }
        }
        return Candidates(source: source, columns: echoed, fields: fields, lines: frame.lines.map { Int($0) },
                          levels: levels, isNew: isNew, covariateValues: covariateValues, offsets: offsets,
                          categoryCodes: categoryCodes,
                          effectIndices: effectIndices)
    }

    /// A number of the candidate table as the output repeats it: whole
    /// numbers without a decimal point, others in Swift's shortest form that
    /// reads back exactly (the input's spelling, for input of up to 15
    /// significant digits).
    static func echo(_ x: Double) -> String {
        if x.isNaN { return "NA" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// A level spelled as a number in text (`07`, `2.0`), renamed as the
    /// design names a numeric level (`7`, `2`); other text unchanged.
    static func numericName(_ text: String) -> String {
        if case let .value(x) = CSVField.number(text) { return Levels.rName(x) }
        return text
    }

    private func unknownLevel(_ level: String, _ frame: Frame, _ row: Int, _ column: String,
                              _ levels: [String]) -> InputError {
        InputError(.badOption, "the level \"\(level)\" was not in the fit's data, so the model has no coefficient "
                   + "for it (the fit's levels: " + levels.joined(separator: ", ") + ")",
                   file: frame.source, line: Int(frame.lines[row]), column: column)
    }

    private func missing(_ frame: Frame, _ row: Int, _ column: String) -> InputError {
        InputError(.missingValues, "missing value (every candidate row needs every column of the model)",
                   file: frame.source, line: Int(frame.lines[row]), column: column)
    }
}
