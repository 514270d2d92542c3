import CGSL
import Foundation

/// How one fixed-effect column is computed from a row of data, as R's
/// `model.matrix` codes it: the product of the `numeric` columns (1 for
/// none), times, for a column of treatment contrasts or indicators, 1 when
/// the row's `categorical` column has `level` (and each further categorical
/// column of an interaction, `also`, its level) and 0 otherwise. "x:groupb"
/// is x·1{group = b}; "aq:bv" is 1{a = q}·1{b = v}; "(Intercept)" is the
/// empty product.
public struct FixedColumn: Sendable, Equatable, Codable {
    /// A categorical column at one of its levels: 1 there, and for a sum
    /// contrast −1 at the level `against` (R's contr.sum: the last), 0
    /// elsewhere.
    public struct Indicator: Sendable, Equatable, Codable {
        public let categorical: String
        public let level: String
        public let against: String?
        public init(categorical: String, level: String, against: String? = nil) {
            self.categorical = categorical
            self.level = level
            self.against = against
        }

        /// The indicator's value at a row whose level is `value`.
        public func value(at value: String) -> Double { value == level ? 1 : value == against ? -1 : 0 }
    }

    public let name: String
    public let numeric: [String]
    public let categorical: String?
    public let level: String?
    /// For a sum contrast of `categorical`, the level where the column is −1.
    public let against: String?
    /// The further categorical columns of an interaction of several (absent
    /// for one or none, and in fits written before such interactions).
    public let also: [Indicator]?

    public init(name: String, numeric: [String], categorical: String? = nil, level: String? = nil,
                against: String? = nil, also: [Indicator]? = nil) {
        self.name = name
        self.numeric = numeric
        self.categorical = categorical
        self.level = level
        self.against = against
        self.also = also
    }

    /// Every categorical column's indicator: `categorical` at `level`, then `also`.
    public var indicators: [Indicator] {
        guard let categorical, let level else { return [] }
        return [Indicator(categorical: categorical, level: level, against: against)] + (also ?? [])
    }
}

/// Everything a sampler needs to know about a model and its data, built once
/// and checked once (the role of lme4's `glFormula`).
///
/// Rows with identical design rows — the same fixed-effect row and the same
/// level of every random term — are aggregated into one **binomial cell**
/// (successes out of trials), so that a sampler sweep costs O(cells), not
/// O(rows): the binomial likelihood of the cell is the product of its rows'
/// Bernoulli likelihoods up to a constant.
public struct Design: Sendable {
    public let formula: ModelFormula
    /// Where the data came from.
    public let source: String
    public let rowsRead: Int
    /// Rows dropped because a used column was missing there.
    public let rowsDropped: Int
    public var rowsUsed: Int { rowsRead - rowsDropped }

    /// Names of the fixed-effect columns, as R's `model.matrix` names them:
    /// "(Intercept)", "x", "groupb", "x:z".
    public let fixedNames: [String]
    /// How each fixed-effect column (aligned with `fixedNames`) is computed
    /// from a row of data, for coding new rows the same way (scoring).
    public let fixedCoding: [FixedColumn]
    /// The levels of each categorical column of the fixed part, in coding
    /// order (the baseline of treatment contrasts first).
    public let categoricalLevels: [String: [String]]
    /// The column of trials (`DesignOptions.trials`), if the response is successes out of it.
    public let trialsColumn: String?
    /// The column of prior weights (`DesignOptions.weights`), if any.
    public let weightsColumn: String?
    /// How categorical columns are coded where R codes them by contrasts.
    public let contrasts: DesignOptions.Contrasts
    /// The variables whose sum is the offset: the formula's `offset(…)`
    /// terms, then `DesignOptions.offset`; empty without an offset.
    public let offsetVariables: [String]
    /// Per cell: the offset oᵢ, added to the linear predictor with
    /// coefficient 1 (ψᵢ = oᵢ + xᵢ'β + Σₖ zᵢₖ'uₖ); empty without an offset
    /// (every oᵢ = 0), so that samplers skip it.
    public let offsets: [Double]
    /// The fixed-effect matrix of the cells, row-major: `cellCount` rows of
    /// `fixedNames.count` numbers.
    public let fixed: [Double]
    /// The random-intercept terms in formula order.
    public let randomTerms: [RandomEffect]
    /// Per cell: successes and trials.
    public let successes: [Double]
    public let trials: [Double]
    /// Per used row (in file order): the 0-based frame row and its cell.
    public let usedRows: [Int32]
    public let cellOfRow: [Int32]
    /// Per used row: its successes and trials (after weights), whose sums
    /// over a cell's rows are the cell's.
    public let rowSuccesses: [Double]
    public let rowTrials: [Double]

    /// Per cell: Σ log C(nᵣ, yᵣ) over its rows — the binomial coefficients of
    /// the rows' likelihoods (0 for 0/1 rows), which a log-likelihood reported
    /// like R's `logLik` includes and which aggregation must not add.
    public let logBinomialCoefficients: [Double]

    /// Per cell: Σ [yᵣ log(yᵣ/nᵣ) + (nᵣ − yᵣ) log(1 − yᵣ/nᵣ)] over its rows —
    /// the saturated model's log-likelihood without the coefficients (0 for
    /// 0/1 rows), from which the deviance residuals of the rows, as R's
    /// `binomial()$dev.resids` gives them, are summed per cell.
    public let saturatedLogLikelihoods: [Double]

    public var cellCount: Int { successes.count }
    public var fixedCount: Int { fixedNames.count }

    /// The fixed-effect row of cell `i`.
    public func fixedRow(_ i: Int) -> ArraySlice<Double> {
        fixed[(i * fixedCount)..<((i + 1) * fixedCount)]
    }

    /// Whether the linear predictor has an offset.
    public var hasOffset: Bool { !offsets.isEmpty }

    /// The training constants of the formula's `scale`, `poly` and `ns`
    /// terms, by the call's text (`TrainedTransform`), for new rows.
    public var transformConstants: [String: TransformConstants] = [:]

    /// The offset column given apart from the formula (`DesignOptions.offset`), if any.
    public var offsetColumn: String? { offsetVariables.count > formula.offsets.count ? offsetVariables.last : nil }

    /// The offset of cell `i` (0 without one).
    @inline(__always)
    public func offset(_ i: Int) -> Double { offsets.isEmpty ? 0 : offsets[i] }

    /// Adds every cell's offset to `predictors` (nothing without an offset).
    public func addOffsets(to predictors: inout [Double]) {
        guard !offsets.isEmpty else { return }
        for i in predictors.indices { predictors[i] += offsets[i] }
    }

    /// Whether every cell's successes and trials are whole numbers: not so
    /// with prior weights that make them fractions.
    public var hasWholeCounts: Bool {
        weightsColumn == nil || zip(successes, trials).allSatisfy { $0 == $0.rounded() && $1 == $1.rounded() }
    }
}

/// A random-intercept term of a design: its grouping factor's levels and the
/// level of every cell.
public struct RandomEffect: Sendable {
    /// "client", or "client:stylist" for an interaction.
    public let name: String
    public let factors: [String]
    /// Level names in R's order ("a:x" for interactions).
    public let levels: [String]
    /// 0-based level of every cell.
    public let levelOfCell: [Int32]
    /// The columns of the term's effects, as lme4's `cnms`: `(Intercept)`
    /// for a random intercept; `(Intercept)`, `x` for `(1 + x | g)`; a
    /// categorical column by its contrasts (`fb`, `fc`, or `fa`, `fb`, `fc`
    /// without the intercept).
    public let columns: [String]
    /// The value of each column at each cell, row-major (cells × columns);
    /// empty for a random intercept, whose one column is 1 everywhere.
    public let values: [Double]
    /// How each column is made from the data's columns (as the fixed
    /// effects' `Design.fixedCoding`): a product of numeric columns, times a
    /// categorical column's indicator; empty for a random intercept.
    public let coding: [FixedColumn]
    public var levelCount: Int { levels.count }

    init(name: String, factors: [String], levels: [String], levelOfCell: [Int32],
         columns: [String] = ["(Intercept)"], values: [Double] = [], coding: [FixedColumn] = []) {
        self.name = name
        self.factors = factors
        self.levels = levels
        self.levelOfCell = levelOfCell
        self.columns = columns
        self.values = values
        self.coding = coding
    }
}

/// Options that shape a design beyond the formula.
public struct DesignOptions: Sendable {
    /// What to do with rows that have a missing value in a used column.
    public enum Missing: String, Sendable, CaseIterable {
        /// Drop them and report how many (R's na.omit, glmer's default).
        case drop
        /// Refuse the data, naming the first such row.
        case fail
    }

    /// A column of trial counts; the response column then holds successes
    /// (glmer's `weights` with a proportion response, written as counts).
    public var trials: String?
    /// A column of prior weights wᵣ > 0 (glmer's `weights =`): row r counts
    /// as wᵣ·yᵣ successes out of wᵣ·nᵣ trials, so that with a proportion
    /// response yᵣ ∈ [0, 1] it is wᵣyᵣ successes out of wᵣ.
    public var weights: String?
    /// A column added to the linear predictor with coefficient 1, as
    /// `offset(column)` in the formula (glmer's `offset =`).
    public var offset: String?
    /// Level orders by column (for the baseline of a categorical fixed
    /// effect and the order of a grouping factor's levels).
    public var levels: [String: [String]]
    public var missing: Missing

    /// How a categorical column is coded where R codes it by contrasts.
    public enum Contrasts: String, Sendable, CaseIterable {
        /// R's default, `contr.treatment`: a column per level but the first,
        /// 1 at that level ("gb", "gc").
        case treatment
        /// `contr.sum`: a column per level but the last, 1 at that level and
        /// −1 at the last ("g1", "g2"), so that the intercept is the mean
        /// over the levels rather than the first level's.
        case sum
    }
    public var contrasts: Contrasts

    public init(trials: String? = nil, weights: String? = nil, offset: String? = nil,
                levels: [String: [String]] = [:], missing: Missing = .drop, contrasts: Contrasts = .treatment) {
        self.trials = trials
        self.weights = weights
        self.offset = offset
        self.levels = levels
        self.missing = missing
        self.contrasts = contrasts
    }
}

extension Design {
    /// Builds and checks the design of `formula` on `frame`.
    ///
    /// Random terms with slopes (`(1 + x | g)`, `(0 + x | g)`, `(x || g)`)
    /// carry their columns and values (`RandomEffect.columns`, `values`),
    /// built as lme4's model matrix of the term's effects.
    ///
    /// Throws `InputError` for: an unknown column; a response that is not 0/1
    /// (or successes that are not whole numbers in 0…trials); a non-numeric
    /// column used as a number; a number that is not finite (`Inf`, `1e309`)
    /// in a column used as numbers, or a product of columns that overflows;
    /// missing values with `missing: .fail`; no rows
    /// left; a grouping factor with a single level; interactions with
    /// categorical columns (not supported yet); a rank-deficient fixed-effect
    /// matrix (naming the columns that are combinations of the others).
    public init(formula: ModelFormula, frame: Frame, options: DesignOptions = DesignOptions()) throws(InputError) {
        try self.init(formula: formula, frame: frame, options: options, admittingSlopes: true)
    }

    /// As `init(formula:frame:options:)`; without `admittingSlopes` a random
    /// term with slopes is refused (`.unsupported`), for the readers that
    /// take random intercepts only.
    init(formula written: ModelFormula, frame data: Frame, options given: DesignOptions, admittingSlopes: Bool)
        throws(InputError) {
        // `.`: every column but the response, the grouping factors and the
        // trials, weights and offset columns, in the data's order.
        let formula = try Design.expandingDot(written, frame: data, options: given)
        // The formula's transformed variables (log(x), I(x^2), factor(g))
        // as columns; factor() of a number declares its levels' order.
        let (frame, derivedLevels, transformConstants) = try data.deriving(formula.expressions)
        var options = given
        for (name, order) in derivedLevels where options.levels[name] == nil { options.levels[name] = order }
        let source = frame.source
        func column(_ name: String) throws(InputError) -> Column {
            guard let c = frame.columns[name] else {
                // A column named by a setting rather than the formula.
                let setting = [("trials", given.trials), ("weights", given.weights), ("offset", given.offset)]
                    .first { $0.1 == name }?.0
                throw InputError(.unknownColumn,
                                 (setting == nil ? "the formula uses \"\(name)\", which is" : "\"\(name)\" is")
                                    + " not a column of the data (columns: " + frame.names.joined(separator: ", ") + ")",
                                 file: source, column: name, setting: setting)
            }
            return c
        }

        if !admittingSlopes, let term = formula.randomTerms.first(where: { !$0.isInterceptOnly }) {
            throw InputError(.unsupported,
                             "random slopes \(term.description) are not taken here yet; "
                                + "use random intercepts (1 | \(term.name))",
                             file: source, column: term.slopes.first?.columns.first ?? term.name)
        }

        // The columns the model uses, each once, in a stable order.
        var used: [String] = []
        func use(_ name: String) { if !used.contains(name) { used.append(name) } }
        switch formula.response {
        case let .column(y): use(y)
        case let .successesAndFailures(s, f): use(s); use(f)
        }
        if let trials = options.trials {
            guard case .column = formula.response else {
                throw InputError(.badOption, "a column of trials cannot be combined with a cbind(successes, failures) "
                                 + "response", column: trials, setting: "trials")
            }
            use(trials)
        }
        if let weights = options.weights {
            if options.trials == weights {
                throw InputError(.badOption, "the same column cannot be the trials and the weights",
                                 column: weights, setting: "weights")
            }
            use(weights)
        }
        let offsetVariables = formula.offsets + (options.offset.map { [$0] } ?? [])
        offsetVariables.forEach(use)
        for term in formula.fixedTerms { term.columns.forEach(use) }
        for term in formula.randomTerms {
            term.factors.forEach(use)
            for slope in term.slopes { slope.columns.forEach(use) }
        }
        var columns: [String: Column] = [:]
        for name in used { columns[name] = try column(name) }
        for name in options.levels.keys where columns[name] == nil {
            throw InputError(.badOption, "a level order is given for a column the model does not use",
                             column: name, setting: "levels")
        }

        // Missing values.
        var keep: [Int32] = []
        keep.reserveCapacity(frame.rowCount)
        var firstMissing: (row: Int, column: String)?
        for r in 0..<frame.rowCount {
            var missingColumn: String?
            for name in used {
                switch columns[name]! {
                case let .numeric(v): if v[r].isNaN { missingColumn = name }
                case let .factor(codes, _): if codes[r] < 0 { missingColumn = name }
                }
                if missingColumn != nil { break }
            }
            if let missingColumn {
                if firstMissing == nil { firstMissing = (r, missingColumn) }
            } else {
                keep.append(Int32(r))
            }
        }
        // An offset or a weight is part of a row's likelihood: a missing
        // one is a hole in the data, not a row to drop quietly.
        for name in offsetVariables + (options.weights.map { [$0] } ?? []) {
            guard let r = (0..<frame.rowCount).first(where: { r in
                switch columns[name]! {
                case let .numeric(v): v[r].isNaN
                case let .factor(codes, _): codes[r] < 0
                }
            }) else { continue }
            let role = offsetVariables.contains(name) ? "offset" : "weight"
            throw InputError(.missingValues, "missing \(role) (every row needs one; an offset or weight is not "
                             + "a value to drop rows over)", file: source, line: Int(frame.lines[r]), column: name,
                             advice: "fill in the \(role)s, or drop those rows from the data")
        }
        if let firstMissing, options.missing == .fail {
            throw InputError(.missingValues,
                             "missing value (\(frame.rowCount - keep.count) rows have one in a used column)",
                             file: source, line: Int(frame.lines[firstMissing.row]), column: firstMissing.column,
                             advice: "drop them with \(setting: "missing", value: DesignOptions.Missing.drop.rawValue)")
        }
        guard !keep.isEmpty else {
            throw InputError(.emptyData, frame.rowCount == 0 ? "the data have no rows"
                                : "no rows are left after dropping rows with missing values", file: source)
        }

        // Response.
        var (rowSuccesses, rowTrials) = try Design.response(formula.response, trials: options.trials,
                                                            weighted: options.weights != nil,
                                                            columns: columns, rows: keep, frame: frame,
                                                            levels: options.levels)
        if let weights = options.weights {
            let w = try Design.weights(weights, columns: columns, rows: keep, frame: frame)
            // A proportion written in decimals (1/3 as 0.333333333333333)
            // times its weight is a whole count but for rounding: snapped
            // to it, as R's binomial family rounds w·y to count successes.
            func snapped(_ x: Double) -> Double {
                let whole = x.rounded()
                return abs(x - whole) <= 1e-9 * max(1, abs(x)) ? whole : x
            }
            for i in keep.indices {
                rowSuccesses[i] = snapped(rowSuccesses[i] * w[i])
                rowTrials[i] = snapped(rowTrials[i] * w[i])
            }
        }
        let rowOffsets = try Design.offsets(offsetVariables, columns: columns, rows: keep, frame: frame)

        // Fixed effects, per row.
        let (names, coding, fixedColumns, fixedLevels) =
            try Design.modelColumns(intercept: formula.hasIntercept, terms: formula.fixedTerms, columns: columns,
                                    rows: keep, options: options, frame: frame)

        // Random effects, per row.
        var randomFactors: [(RandomTerm, Factor)] = []
        for term in formula.randomTerms {
            var parts: [Factor] = []
            for name in term.factors {
                parts.append(try Factor.make(name, columns[name]!, rows: keep, order: options.levels[name],
                                             source: source))
            }
            let factor = Factor.interaction(parts)
            guard factor.levels.count > 1 else {
                throw InputError(.singleLevel,
                                 "the grouping factor \(term.name) has a single level (\"\(factor.levels.first ?? "")\") "
                                    + "in the rows used; a random effect needs at least two",
                                 file: source, column: term.name)
            }
            randomFactors.append((term, factor))
        }
        // The effects' columns of each term with slopes, per row (lme4's
        // model matrix of `~ effects`).
        var effectColumns: [(names: [String], values: [[Double]], coding: [FixedColumn])?] = []
        var categoricalLevels = fixedLevels
        for (term, _) in randomFactors {
            if term.isInterceptOnly {
                effectColumns.append(nil)
            } else {
                let made = try Design.modelColumns(intercept: term.hasIntercept, terms: term.slopes, columns: columns,
                                                   rows: keep, options: options, frame: frame)
                effectColumns.append((made.names, made.values, made.coding))
                // A categorical slope column's levels, for scoring (the same
                // levels wherever the column is used).
                categoricalLevels.merge(made.categoricalLevels) { first, _ in first }
            }
        }
        let effectValues = effectColumns.flatMap { $0?.values ?? [] }

        // Cells: rows with the same fixed row, the same random levels and
        // the same values of the random terms' effect columns.
        let p = names.count, q = randomFactors.count, e = effectValues.count
        var cellIndex: [[UInt64]: Int32] = [:]
        var cellOfRow = [Int32](repeating: 0, count: keep.count)
        var fixed: [Double] = []
        var randomLevels = [[Int32]](repeating: [], count: q)
        var randomValues = [[Double]](repeating: [], count: q)
        var successes: [Double] = [], trials: [Double] = []
        var offsets: [Double] = []
        let o = rowOffsets.isEmpty ? 0 : 1
        var key = [UInt64](repeating: 0, count: p + q + e + o)
        for i in 0..<keep.count {
            for j in 0..<p { key[j] = fixedColumns[j][i].bitPattern }
            for k in 0..<q { key[p + k] = UInt64(UInt32(bitPattern: randomFactors[k].1.codes[i])) }
            for j in 0..<e { key[p + q + j] = effectValues[j][i].bitPattern }
            if o == 1 { key[p + q + e] = rowOffsets[i].bitPattern }
            if let cell = cellIndex[key] {
                cellOfRow[i] = cell
                successes[Int(cell)] += rowSuccesses[i]
                trials[Int(cell)] += rowTrials[i]
            } else {
                let cell = Int32(successes.count)
                cellIndex[key] = cell
                cellOfRow[i] = cell
                for j in 0..<p { fixed.append(fixedColumns[j][i]) }
                for k in 0..<q {
                    randomLevels[k].append(randomFactors[k].1.codes[i])
                    for column in effectColumns[k]?.values ?? [] { randomValues[k].append(column[i]) }
                }
                successes.append(rowSuccesses[i])
                trials.append(rowTrials[i])
                if o == 1 { offsets.append(rowOffsets[i]) }
            }
        }

        try Design.checkRank(fixed: fixed, rows: successes.count, names: names, source: source)
        var logCoefficients = [Double](repeating: 0, count: successes.count)
        for i in 0..<keep.count where rowTrials[i] > 1 {
            let n = rowTrials[i], y = rowSuccesses[i]
            logCoefficients[Int(cellOfRow[i])] += lgamma(n + 1) - lgamma(y + 1) - lgamma(n - y + 1)
        }
        self.logBinomialCoefficients = logCoefficients
        var saturated = [Double](repeating: 0, count: successes.count)
        for i in 0..<keep.count where rowTrials[i] > 1 {
            let n = rowTrials[i], y = rowSuccesses[i]
            if y > 0 { saturated[Int(cellOfRow[i])] += y * log(y / n) }
            if y < n { saturated[Int(cellOfRow[i])] += (n - y) * log((n - y) / n) }
        }
        self.saturatedLogLikelihoods = saturated

        self.formula = formula
        self.source = source
        self.rowsRead = frame.rowCount
        self.rowsDropped = frame.rowCount - keep.count
        self.fixedNames = names
        self.fixedCoding = coding
        self.categoricalLevels = categoricalLevels
        self.trialsColumn = options.trials
        self.weightsColumn = options.weights
        self.contrasts = options.contrasts
        self.offsetVariables = offsetVariables
        self.offsets = offsets
        self.transformConstants = transformConstants
        self.fixed = fixed
        self.randomTerms = randomFactors.enumerated().map { k, pair in
            RandomEffect(name: pair.0.name, factors: pair.0.factors, levels: pair.1.levels,
                         levelOfCell: randomLevels[k], columns: effectColumns[k]?.names ?? ["(Intercept)"],
                         values: randomValues[k], coding: effectColumns[k]?.coding ?? [])
        }
        self.successes = successes
        self.trials = trials
        self.usedRows = keep
        self.cellOfRow = cellOfRow
        self.rowSuccesses = rowSuccesses
        self.rowTrials = rowTrials
    }

    /// `formula` with its `.` expanded into the columns of `frame` that are
    /// not the response (or columns its expressions read), a grouping
    /// factor, or the trials, weights or offset column.
    static func expandingDot(_ formula: ModelFormula, frame: Frame, options: DesignOptions) throws(InputError)
        -> ModelFormula {
        guard !formula.dots.isEmpty else { return formula }
        var excluded = Set<String>()
        switch formula.response {
        case let .column(y): excluded.insert(y)
        case let .successesAndFailures(s, f):
            for name in [s, f] {
                excluded.insert(name)
                excluded.formUnion(formula.expressions[name]?.columns ?? [])
            }
        }
        for term in formula.randomTerms { excluded.formUnion(term.factors) }
        for name in [options.trials, options.weights, options.offset].compactMap({ $0 }) { excluded.insert(name) }
        do {
            return try formula.expandingDot(into: frame.names.filter { !excluded.contains($0) })
        } catch {
            throw InputError(.unsupported, "the formula's '.' cannot be expanded: \(error.message)",
                             file: frame.source, column: ".")
        }
    }

    /// The model-matrix columns of `terms` over the rows `keep`, as R's
    /// `model.matrix` makes them: an intercept column first when `intercept`
    /// is true, a numeric column as it is, a categorical one by treatment
    /// contrasts (in full for the first categorical term when nothing earlier
    /// spans the intercept), products of numeric columns times the indicators
    /// of at most one categorical column. Used for the fixed effects and for
    /// the effects of each random term (`(1 + f | g)` is coded as `~ 1 + f`).
    static func modelColumns(intercept: Bool, terms: [FixedTerm], columns: [String: Column], rows keep: [Int32],
                             options: DesignOptions, frame: Frame) throws(InputError)
        -> (names: [String], coding: [FixedColumn], values: [[Double]], categoricalLevels: [String: [String]]) {
        let source = frame.source
        var names: [String] = []
        var fixedColumns: [[Double]] = []
        var coding: [FixedColumn] = [], categoricalLevels: [String: [String]] = [:]
        if intercept {
            names.append("(Intercept)")
            coding.append(FixedColumn(name: "(Intercept)", numeric: []))
            fixedColumns.append([Double](repeating: 1, count: keep.count))
        }
        var fullCodingUsed = intercept
        for term in terms {
            if term.columns.count == 1 {
                let name = term.columns[0]
                switch columns[name]! {
                case let .numeric(v) where options.levels[name] == nil:
                    try Design.checkFinite(v, name, rows: keep, frame: frame)
                    names.append(name)
                    coding.append(FixedColumn(name: name, numeric: [name]))
                    fixedColumns.append(keep.map { v[Int($0)] })
                case .numeric, .factor:
                    // A categorical column, or a numeric one that a level
                    // order declares categorical (as R's factor(period)).
                    // A column of numbers with a few words in it is a data
                    // error, not a categorical variable (unless a level order says so).
                    if options.levels[name] == nil, Design.mostlyNumeric(columns[name]!, rows: keep),
                       let (r, text) = Design.firstText(columns[name]!, rows: keep) {
                        throw InputError(.nonNumeric,
                                         "expected a number, found \"\(text)\" (the column is otherwise numeric)",
                                         file: source, line: Int(frame.lines[r]), column: name,
                                         advice: "fix the value or write NA, or give "
                                            + "\(setting: "levels", value: "\(name)=…") to treat the column as "
                                            + "categorical")
                    }
                    let factor = try Factor.make(name, columns[name]!, rows: keep, order: options.levels[name],
                                                 source: source)
                    // Contrasts, unless no earlier term spans the intercept
                    // (R codes the first factor in full, by indicators,
                    // when there is no intercept).
                    let contrasts = fullCodingUsed
                    fullCodingUsed = true
                    categoricalLevels[name] = factor.levels
                    for column in Design.codedLevels(factor.levels.count, contrasts: contrasts ? options.contrasts : nil) {
                        let against = column.against.map { factor.levels[$0] }
                        names.append(name + column.suffix(factor.levels))
                        coding.append(FixedColumn(name: names.last!, numeric: [], categorical: name,
                                                  level: factor.levels[column.level], against: against))
                        fixedColumns.append(factor.codes.map { code in
                            code == Int32(column.level) ? 1 : code == Int32(column.against ?? -2) ? -1 : 0
                        })
                    }
                }
            } else {
                // A product of numeric columns times indicator columns of the
                // categorical ones. As in R's model.matrix, a categorical
                // column is coded by treatment contrasts when the term
                // without it is also in the model (g*x: "gb:x"; a*b:
                // "aq:bv") and by one indicator per level otherwise (x +
                // g:x: "ga:x", …; a + a:b: "ap:bv", …); with several, the
                // first varies fastest.
                var product = [Double](repeating: 1, count: keep.count)
                var categoricals: [String] = []
                for name in term.columns {
                    guard case let .numeric(v) = columns[name]!, options.levels[name] == nil else {
                        categoricals.append(name)
                        continue
                    }
                    try Design.checkFinite(v, name, rows: keep, frame: frame)
                    for (i, r) in keep.enumerated() { product[i] *= v[Int(r)] }
                }
                // Finite factors can still overflow together.
                if let i = product.firstIndex(where: { !$0.isFinite }) {
                    throw InputError(.notFinite,
                                     "the product \(term.name) is not finite here (its factors overflow double "
                                        + "precision); rescale its columns",
                                     file: source, line: Int(frame.lines[Int(keep[i])]))
                }
                if categoricals.isEmpty {
                    names.append(term.name)
                    coding.append(FixedColumn(name: term.name, numeric: term.columns))
                    fixedColumns.append(product)
                } else {
                    let numeric = term.columns.filter { !categoricals.contains($0) }
                    var factors: [Factor] = [], coded: [[CodedLevel]] = []
                    for categorical in categoricals {
                        let factor = try Factor.make(categorical, columns[categorical]!, rows: keep,
                                                     order: options.levels[categorical], source: source)
                        let rest = Set(term.columns.filter { $0 != categorical })
                        let contrasts = terms.contains { Set($0.columns) == rest }
                        coded.append(Design.codedLevels(factor.levels.count, contrasts: contrasts ? options.contrasts : nil))
                        factors.append(factor)
                        categoricalLevels[categorical] = factor.levels
                    }
                    // Every combination of the factors' coded columns, the
                    // first factor's varying fastest.
                    var index = [Int](repeating: 0, count: factors.count)
                    while index.last! < coded.last!.count {
                        let columnsHere = factors.indices.map { coded[$0][index[$0]] }
                        names.append(term.columns.map { column in
                            guard let f = categoricals.firstIndex(of: column) else { return column }
                            return column + columnsHere[f].suffix(factors[f].levels)
                        }.joined(separator: ":"))
                        let indicators = categoricals.indices.map { f in
                            FixedColumn.Indicator(categorical: categoricals[f],
                                                  level: factors[f].levels[columnsHere[f].level],
                                                  against: columnsHere[f].against.map { factors[f].levels[$0] })
                        }
                        coding.append(FixedColumn(name: names.last!, numeric: numeric,
                                                  categorical: indicators[0].categorical, level: indicators[0].level,
                                                  against: indicators[0].against,
                                                  also: indicators.count > 1 ? Array(indicators.dropFirst()) : nil))
                        fixedColumns.append((0..<keep.count).map { i in
                            var value = product[i]
                            for f in factors.indices {
                                let code = Int(factors[f].codes[i]), column = columnsHere[f]
                                value *= code == column.level ? 1 : code == column.against ? -1 : 0
                            }
                            return value
                        })
                        var f = 0
                        index[f] += 1
                        while f < factors.count - 1 && index[f] == coded[f].count {
                            index[f] = 0
                            f += 1
                            index[f] += 1
                        }
                    }
                }
            }
        }

        return (names, coding, fixedColumns, categoricalLevels)
    }

    /// One column of a categorical variable's coding: 1 at `level`, −1 at
    /// `against` (sum contrasts), named by the level (treatment contrasts,
    /// indicators) or by its number (R names contr.sum columns g1, g2, …).
    struct CodedLevel {
        let level: Int
        let against: Int?
        let numbered: Bool
        func suffix(_ levels: [String]) -> String { numbered ? String(level + 1) : levels[level] }
    }

    /// The columns of a categorical variable of `count` levels: an
    /// indicator per level without contrasts (nil), else treatment (every
    /// level but the first) or sum contrasts (every level but the last,
    /// each against the last).
    static func codedLevels(_ count: Int, contrasts: DesignOptions.Contrasts?) -> [CodedLevel] {
        switch contrasts {
        case nil: (0..<count).map { CodedLevel(level: $0, against: nil, numbered: false) }
        case .treatment?: (1..<max(count, 1)).map { CodedLevel(level: $0, against: nil, numbered: false) }
        case .sum?: (0..<max(count - 1, 0)).map { CodedLevel(level: $0, against: count - 1, numbered: true) }
        }
    }

    /// The prior weights of the used rows, checked: finite and above 0.
    static func weights(_ name: String, columns: [String: Column], rows: [Int32], frame: Frame) throws(InputError)
        -> [Double] {
        guard case let .numeric(v) = columns[name]! else {
            let (r, text) = Design.firstText(columns[name]!, rows: rows) ?? (Int(rows[0]), "")
            throw InputError(.nonNumeric, "expected a weight (a number above 0), found \"\(text)\"",
                             file: frame.source, line: Int(frame.lines[r]), column: name, setting: "weights")
        }
        for r in rows where !(v[Int(r)] > 0) || !v[Int(r)].isFinite {
            throw InputError(.badWeight, "expected a weight above 0 and finite, found \(Levels.rName(v[Int(r)]))",
                             file: frame.source, line: Int(frame.lines[Int(r)]), column: name, setting: "weights",
                             advice: v[Int(r)] == 0 ? "drop the rows of weight 0 from the data (they add nothing)"
                                : nil)
        }
        return rows.map { v[Int($0)] }
    }

    /// The offset of each used row: the sum of the `variables` (columns,
    /// or transformed variables already computed into the frame), checked
    /// finite; empty without an offset.
    static func offsets(_ variables: [String], columns: [String: Column], rows: [Int32], frame: Frame)
        throws(InputError) -> [Double] {
        guard !variables.isEmpty else { return [] }
        var sum = [Double](repeating: 0, count: rows.count)
        for name in variables {
            guard case let .numeric(v) = columns[name]! else {
                let (r, text) = Design.firstText(columns[name]!, rows: rows) ?? (Int(rows[0]), "")
                throw InputError(.nonNumeric, "expected a number for the offset, found \"\(text)\"",
                                 file: frame.source, line: Int(frame.lines[r]), column: name)
            }
            try Design.checkFinite(v, name, rows: rows, frame: frame)
            for (i, r) in rows.enumerated() { sum[i] += v[Int(r)] }
        }
        return sum
    }

    /// Successes and trials per used row, checked. With prior weights
    /// (`weighted`) a response column may hold proportions in [0, 1], as
    /// glmer's binomial family reads a response with weights.
    static func response(_ response: ModelFormula.Response, trials trialsColumn: String?, weighted: Bool = false,
                         columns: [String: Column], rows: [Int32], frame: Frame,
                         levels: [String: [String]]) throws(InputError) -> ([Double], [Double]) {
        let source = frame.source
        func numbers(_ name: String) throws(InputError) -> [Double] {
            guard case let .numeric(v) = columns[name]! else {
                if let (r, text) = Design.firstText(columns[name]!, rows: rows) {
                    throw InputError(.nonNumeric, "expected a count, found \"\(text)\"",
                                     file: source, line: Int(frame.lines[r]), column: name)
                }
                throw InputError(.nonNumeric, "expected counts, found text", file: source, column: name)
            }
            return v
        }
        func wholeNonNegative(_ v: [Double], _ name: String) throws(InputError) {
            try Design.checkFinite(v, name, rows: rows, frame: frame)
            for r in rows where v[Int(r)] < 0 || v[Int(r)] != v[Int(r)].rounded() {
                throw InputError(v[Int(r)] < 0 ? .negativeCount : .notWholeNumber,
                                 "expected a whole number of at least 0, found \(Levels.rName(v[Int(r)]))",
                                 file: source, line: Int(frame.lines[Int(r)]), column: name)
            }
        }
        switch response {
        case let .column(y):
            if let trialsColumn {
                let s = try numbers(y), n = try numbers(trialsColumn)
                try wholeNonNegative(s, y)
                try wholeNonNegative(n, trialsColumn)
                for r in rows where s[Int(r)] > n[Int(r)] {
                    throw InputError(.successesExceedTrials,
                                     "\(Levels.rName(s[Int(r)])) successes out of \(Levels.rName(n[Int(r)])) trials",
                                     file: source, line: Int(frame.lines[Int(r)]), column: y)
                }
                return (rows.map { s[Int($0)] }, rows.map { n[Int($0)] })
            }
            switch columns[y]! {
            case let .numeric(v) where weighted:
                for r in rows where !(v[Int(r)] >= 0 && v[Int(r)] <= 1) {
                    throw InputError(.notBinary, "expected a proportion in [0, 1] (a response with weights), found "
                                     + Levels.rName(v[Int(r)]),
                                     file: source, line: Int(frame.lines[Int(r)]), column: y)
                }
                return (rows.map { v[Int($0)] }, [Double](repeating: 1, count: rows.count))
            case let .numeric(v):
                for r in rows where v[Int(r)] != 0 && v[Int(r)] != 1 {
                    throw InputError(.notBinary, "expected 0 or 1, found \(Levels.rName(v[Int(r)]))",
                                     file: source, line: Int(frame.lines[Int(r)]), column: y,
                                     advice: "for counts use cbind(successes, failures) or \(setting: "trials"), "
                                        + "for proportions \(setting: "weights")")
                }
                return (rows.map { v[Int($0)] }, [Double](repeating: 1, count: rows.count))
            case .factor:
                // A 0/1 column with a stray word is a typo, not a factor.
                if Design.mostlyNumeric(columns[y]!, rows: rows), let (r, text) = Design.firstText(columns[y]!, rows: rows) {
                    throw InputError(.notBinary, "expected 0 or 1, found \"\(text)\"",
                                     file: source, line: Int(frame.lines[r]), column: y)
                }
                // As glmer: a two-level factor is failure (first level) / success.
                let factor = try Factor.make(y, columns[y]!, rows: rows, order: levels[y], source: source)
                guard factor.levels.count == 2 else {
                    throw InputError(.notBinary,
                                     "expected 0/1 or a two-level factor, found \(factor.levels.count) distinct values ("
                                        + factor.levels.prefix(5).joined(separator: ", ") + ")",
                                     file: source, column: y)
                }
                return (factor.codes.map { Double($0) }, [Double](repeating: 1, count: rows.count))
            }
        case let .successesAndFailures(sName, fName):
            let s = try numbers(sName), f = try numbers(fName)
            try wholeNonNegative(s, sName)
            try wholeNonNegative(f, fName)
            return (rows.map { s[Int($0)] }, rows.map { s[Int($0)] + f[Int($0)] })
        }
    }

    /// Refuses a number that is not finite in a column used as numbers: R
    /// reads `Inf` (and `1e309`, beyond double precision) as a number, but
    /// a model matrix or a count with it is unusable. Missing values (`NA`,
    /// `NaN`, empty) are dropped before this, as R's na.omit drops them.
    static func checkFinite(_ v: [Double], _ name: String, rows: [Int32], frame: Frame) throws(InputError) {
        for r in rows where !v[Int(r)].isFinite {
            throw InputError(.notFinite,
                             "expected a finite number, found \(Levels.rName(v[Int(r)])) (an infinite value, or one "
                                + "beyond double precision such as 1e309)",
                             file: frame.source, line: Int(frame.lines[Int(r)]), column: name)
        }
    }

    /// The first used row (frame index) of a factor column whose text is not a
    /// number, and that text.
    static func firstText(_ column: Column, rows: [Int32]) -> (Int, String)? {
        guard case let .factor(codes, levels) = column else { return nil }
        let isText = levels.map { CSVField.number($0) == .text }
        for r in rows where isText[Int(codes[Int(r)])] { return (Int(r), levels[Int(codes[Int(r)])]) }
        return nil
    }

    /// Whether at least 80% of a factor column's used rows hold numbers: such
    /// a column is numeric with typos, not categorical.
    static func mostlyNumeric(_ column: Column, rows: [Int32]) -> Bool {
        guard case let .factor(codes, levels) = column, !rows.isEmpty else { return false }
        let isText = levels.map { CSVField.number($0) == .text }
        let numeric = rows.reduce(0) { $0 + (isText[Int(codes[Int($1)])] ? 0 : 1) }
        return Double(numeric) >= 0.8 * Double(rows.count)
    }

    /// Refuses a fixed-effect matrix without full column rank, naming the
    /// columns that are linear combinations of earlier ones. Rank from GSL's
    /// QR decomposition with column pivoting, with tolerance
    /// max(rows, cols) · ε · |R₁₁| as in LAPACK's rank estimates.
    static func checkRank(fixed: [Double], rows: Int, names: [String], source: String) throws(InputError) {
        let p = names.count
        guard p > 0 else { return }
        guard rows >= p else {
            throw InputError(.rankDeficient,
                             "the fixed-effect matrix has \(p) columns but only \(rows) distinct rows",
                             file: source)
        }
        // Scale columns to unit length so that the tolerance is relative:
        // by the largest entry first, so that the sum of squares of a column
        // of large numbers (1e160) does not overflow and zero the column.
        var data = fixed
        for j in 0..<p {
            var largest = 0.0
            for i in 0..<rows { largest = max(largest, abs(data[i * p + j])) }
            guard largest > 0 else { continue }
            var sum = 0.0
            for i in 0..<rows { data[i * p + j] /= largest; sum += data[i * p + j] * data[i * p + j] }
            let norm = sum.squareRoot()
            for i in 0..<rows { data[i * p + j] /= norm }
        }
        var rank = 0
        var dependent: [String] = []
        data.withUnsafeMutableBufferPointer { buffer in
            var view = gsl_matrix_view_array(buffer.baseAddress, rows, p)
            let tau = gsl_vector_alloc(p)!, norm = gsl_vector_alloc(p)!
            let permutation = gsl_permutation_alloc(p)!
            defer { gsl_vector_free(tau); gsl_vector_free(norm); gsl_permutation_free(permutation) }
            var signum: Int32 = 0
            _ = gsl_linalg_QRPT_decomp(&view.matrix, tau, permutation, &signum, norm)
            let r11 = abs(gsl_matrix_get(&view.matrix, 0, 0))
            let tolerance = Double(max(rows, p)) * Double.ulpOfOne * r11
            for k in 0..<p where abs(gsl_matrix_get(&view.matrix, k, k)) > tolerance { rank += 1 }
            if rank < p {
                for k in rank..<p { dependent.append(names[gsl_permutation_get(permutation, k)]) }
            }
        }
        if rank < p {
            throw InputError(.rankDeficient,
                             "the fixed-effect matrix is rank deficient (rank \(rank) of \(p) columns): "
                                + dependent.joined(separator: ", ")
                                + " \(dependent.count == 1 ? "is a linear combination" : "are linear combinations") "
                                + "of the other columns; drop \(dependent.count == 1 ? "it" : "them") from the formula",
                             file: source)
        }
    }
}

extension Design {
    /// The same design with other successes per cell (the trials and the
    /// structure unchanged): for simulation-based checks of samplers, which
    /// draw data from the model and fit it again.
    public func replacingSuccesses(_ successes: [Double]) -> Design {
        precondition(successes.count == cellCount, "one count per cell")
        var design = Design(formula: formula, source: source, rowsRead: rowsRead, rowsDropped: rowsDropped,
                            fixedNames: fixedNames, fixedCoding: fixedCoding, categoricalLevels: categoricalLevels,
                            trialsColumn: trialsColumn, weightsColumn: weightsColumn, contrasts: contrasts,
                            offsetVariables: offsetVariables, offsets: offsets, fixed: fixed, randomTerms: randomTerms,
                            successes: successes, trials: trials, usedRows: usedRows, cellOfRow: cellOfRow,
                            // The rows keep the data's counts: only the cells' are replaced.
                            rowSuccesses: rowSuccesses, rowTrials: rowTrials,
                            logBinomialCoefficients: logBinomialCoefficients,
                            saturatedLogLikelihoods: saturatedLogLikelihoods)
        design.transformConstants = transformConstants
        return design
    }
}
