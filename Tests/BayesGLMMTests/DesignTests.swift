import Foundation
import Testing
@testable import BayesGLMM

/// Designs built from frames made in memory, checked against designs
/// computed by hand.
@Suite struct DesignTests {
    /// A frame from named columns (strings become factors in first-appearance
    /// order, as the CSV reader makes them).
    static func frame(_ columns: [(String, [String])]) -> Frame {
        var built: [String: Column] = [:]
        let n = columns[0].1.count
        for (name, values) in columns {
            if values.allSatisfy({ $0 == "NA" || Double($0) != nil }) {
                built[name] = .numeric(values.map { $0 == "NA" ? .nan : Double($0)! })
            } else {
                var levels: [String] = []
                var index: [String: Int32] = [:]
                let codes = values.map { v -> Int32 in
                    if v == "NA" { return -1 }
                    if let i = index[v] { return i }
                    index[v] = Int32(levels.count)
                    levels.append(v)
                    return Int32(levels.count - 1)
                }
                built[name] = .factor(codes: codes, levels: levels)
            }
        }
        return Frame(source: "test.csv", names: columns.map(\.0), columns: built, rowCount: n,
                     lines: (0..<n).map { Int32($0 + 2) })
    }

    static func formula(_ y: String, intercept: Bool = true, fixed: [[String]] = [],
                        random: [[String]] = []) -> ModelFormula {
        ModelFormula(response: .column(y), hasIntercept: intercept,
                     fixedTerms: fixed.map { FixedTerm(columns: $0) },
                     randomTerms: random.map { RandomTerm(factors: $0) }, text: "test")
    }

    @Test func cellsAggregateIdenticalDesignRows() throws {
        let f = DesignTests.frame([
            ("y", ["1", "0", "1", "1", "0", "1"]),
            ("client", ["a", "a", "b", "a", "b", "b"]),
            ("stylist", ["x", "x", "x", "y", "x", "y"]),
        ])
        let d = try Design(formula: DesignTests.formula("y", random: [["client"], ["stylist"], ["client", "stylist"]]),
                           frame: f)
        #expect(d.fixedNames == ["(Intercept)"])
        #expect(d.cellCount == 4)                       // a:x, b:x, a:y, b:y
        #expect(d.successes == [1, 1, 1, 1])
        #expect(d.trials == [2, 2, 1, 1])
        #expect(d.cellOfRow == [0, 0, 1, 2, 1, 3])
        #expect(d.randomTerms.map(\.name) == ["client", "stylist", "client:stylist"])
        #expect(d.randomTerms[0].levels == ["a", "b"])
        #expect(d.randomTerms[0].levelOfCell == [0, 1, 0, 1])
        // Interaction levels: first factor varies slowest (lme4's order).
        #expect(d.randomTerms[2].levels == ["a:x", "a:y", "b:x", "b:y"])
        #expect(d.randomTerms[2].levelOfCell == [0, 2, 1, 3])
    }

    @Test func treatmentContrastsInByteOrder() throws {
        let f = DesignTests.frame([
            ("y", ["1", "0", "1", "0"]),
            ("group", ["a", "B", "c", "a"]),
            ("x", ["0.5", "1", "2", "3"]),
            ("g", ["u", "v", "u", "v"]),
        ])
        let d = try Design(formula: DesignTests.formula("y", fixed: [["x"], ["group"]], random: [["g"]]), frame: f)
        // C-locale order: "B" < "a" < "c", so "B" is the baseline.
        #expect(d.fixedNames == ["(Intercept)", "x", "groupa", "groupc"])
        #expect(Array(d.fixedRow(0)) == [1, 0.5, 1, 0])
        #expect(Array(d.fixedRow(1)) == [1, 1, 0, 0])
        #expect(Array(d.fixedRow(2)) == [1, 2, 0, 1])
        // Without an intercept the first factor is coded in full.
        let e = try Design(formula: DesignTests.formula("y", intercept: false, fixed: [["group"], ["x"]], random: [["g"]]),
                           frame: f)
        #expect(e.fixedNames == ["groupB", "groupa", "groupc", "x"])
        // --levels sets the baseline.
        let o = try Design(formula: DesignTests.formula("y", fixed: [["group"], ["x"]], random: [["g"]]), frame: f,
                           options: DesignOptions(levels: ["group": ["c", "a", "B"]]))
        #expect(o.fixedNames == ["(Intercept)", "groupa", "groupB", "x"])
    }

    @Test func numericGroupingLevelsInNumericOrderWithRNames() throws {
        let f = DesignTests.frame([
            ("y", ["1", "0", "1", "0"]),
            ("id", ["10", "2", "100000", "2.5"]),
        ])
        let d = try Design(formula: DesignTests.formula("y", random: [["id"]]), frame: f)
        #expect(d.randomTerms[0].levels == ["2", "2.5", "10", "1e+05"])
        #expect(Levels.rName(123456) == "123456")
        #expect(Levels.rName(0.1) == "0.1")
        #expect(Levels.rName(1e-20) == "1e-20")
    }

    @Test func productsOfNumericColumns() throws {
        let f = DesignTests.frame([("y", ["1", "0", "1"]), ("x", ["1", "2", "3"]), ("z", ["2", "2", "5"]),
                                   ("g", ["a", "b", "a"])])
        let d = try Design(formula: DesignTests.formula("y", fixed: [["x"], ["x", "z"]], random: [["g"]]), frame: f)
        #expect(d.fixedNames == ["(Intercept)", "x", "x:z"])
        #expect(Array(d.fixedRow(2)) == [1, 3, 15])
    }

    @Test func categoricalTimesNumeric() throws {
        let f = DesignTests.frame([("y", ["1", "0", "1", "0", "1", "1", "0", "0"]),
                                   ("x", ["1", "2", "3", "4", "5", "6", "7", "8"]),
                                   ("g", ["a", "b", "c", "a", "b", "c", "a", "b"]),
                                   ("h", ["u", "v", "u", "v", "u", "v", "u", "v"])])
        let crossed = try Design(formula: DesignTests.formula("y", fixed: [["g"], ["x"], ["g", "x"]], random: [["h"]]),
                                 frame: f)
        #expect(crossed.fixedNames == ["(Intercept)", "gb", "gc", "x", "gb:x", "gc:x"])
        #expect(Array(crossed.fixedRow(2)) == [1, 0, 1, 3, 0, 3])
        // Without the main effect of g, g is coded in full inside g:x.
        let nested = try Design(formula: DesignTests.formula("y", fixed: [["x", "g"]], random: [["h"]]), frame: f)
        #expect(nested.fixedNames == ["(Intercept)", "x:ga", "x:gb", "x:gc"])
        #expect(nested.categoricalLevels == ["g": ["a", "b", "c"]])
        #expect(nested.fixedCoding[1] == FixedColumn(name: "x:ga", numeric: ["x"], categorical: "g", level: "a"))
        for design in [crossed, nested] { DesignTests.expectCodingReproducesRows(design, f) }
    }

    /// Interactions of two categorical columns (R's model.matrix; the
    /// values against R are in LME4AgreementTests' j cases): contrasts for
    /// a factor whose margin is in the model, indicators otherwise, the
    /// first factor varying fastest; the coding records both indicators.
    @Test func categoricalTimesCategorical() throws {
        let f = DesignTests.frame([("y", ["1", "0", "1", "0", "1", "1", "0", "0", "1", "0", "1", "0"]),
                                   ("g", ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"]),
                                   ("h", ["u", "v", "u", "v", "u", "v", "v", "u", "v", "u", "v", "u"]),
                                   ("c", ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6"])])
        let crossed = try Design(formula: DesignTests.formula("y", fixed: [["g"], ["h"], ["g", "h"]], random: [["c"]]),
                                 frame: f)
        #expect(crossed.fixedNames == ["(Intercept)", "gb", "gc", "hv", "gb:hv", "gc:hv"])
        #expect(crossed.fixedCoding[4] == FixedColumn(name: "gb:hv", numeric: [], categorical: "g", level: "b",
                                                       also: [.init(categorical: "h", level: "v")]))
        let nested = try Design(formula: DesignTests.formula("y", fixed: [["g"], ["g", "h"]], random: [["c"]]), frame: f)
        #expect(nested.fixedNames == ["(Intercept)", "gb", "gc", "ga:hv", "gb:hv", "gc:hv"])
        for design in [crossed, nested] { DesignTests.expectCodingReproducesRows(design, f) }
    }

    /// Sum contrasts (R's contr.sum): g1, g2 against the last level, in
    /// main effects and interactions; the coding records the −1 level.
    @Test func sumContrasts() throws {
        let f = DesignTests.frame([("y", ["1", "0", "1", "0", "1", "1", "0", "0"]),
                                   ("g", ["a", "b", "c", "a", "b", "c", "a", "b"]),
                                   ("x", ["1", "2", "3", "4", "5", "6", "7", "8"]),
                                   ("h", ["u", "v", "u", "v", "u", "v", "u", "v"])])
        let d = try Design(formula: DesignTests.formula("y", fixed: [["g"], ["x"], ["g", "x"]], random: [["h"]]),
                           frame: f, options: DesignOptions(contrasts: .sum))
        #expect(d.fixedNames == ["(Intercept)", "g1", "g2", "x", "g1:x", "g2:x"])
        #expect(Array(d.fixedRow(Int(d.cellOfRow[2]))) == [1, -1, -1, 3, -3, -3])
        #expect(d.fixedCoding[1] == FixedColumn(name: "g1", numeric: [], categorical: "g", level: "a", against: "c"))
        DesignTests.expectCodingReproducesRows(d, f)
    }

    @Test func codingReproducesEveryFixedRow() throws {
        let f = DesignTests.frame([
            ("y", ["1", "0", "1", "0", "1"]),
            ("group", ["a", "B", "c", "a", "c"]),
            ("x", ["0.5", "1", "2", "3", "-1"]),
            ("period", ["2", "1", "3", "1", "2"]),
            ("g", ["u", "v", "u", "v", "u"]),
        ])
        let plain = try Design(formula: DesignTests.formula("y", fixed: [["x"], ["group"]], random: [["g"]]), frame: f)
        #expect(plain.fixedCoding.map(\.name) == plain.fixedNames && plain.trialsColumn == nil)
        #expect(plain.categoricalLevels == ["group": ["B", "a", "c"]])
        let full = try Design(formula: DesignTests.formula("y", intercept: false, fixed: [["group"], ["x"]],
                                                           random: [["g"]]), frame: f)
        // A numeric column declared categorical, as R's factor(period).
        let declared = try Design(formula: DesignTests.formula("y", fixed: [["period"], ["x"]], random: [["g"]]),
                                  frame: f, options: DesignOptions(levels: ["period": ["3", "1", "2"]]))
        #expect(declared.categoricalLevels == ["period": ["3", "1", "2"]])
        for design in [plain, full, declared] { DesignTests.expectCodingReproducesRows(design, f) }
    }

    /// Every used row's fixed row, recomputed from `fixedCoding` and the
    /// frame (levels by name, numeric levels as R prints them), equals the
    /// design's row of its cell.
    static func expectCodingReproducesRows(_ design: Design, _ frame: Frame,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
        func level(_ column: String, _ row: Int) -> String {
            switch frame.columns[column]! {
            case let .numeric(v): return Levels.rName(v[row])
            case let .factor(codes, levels): return levels[Int(codes[row])]
            }
        }
        func number(_ column: String, _ row: Int) -> Double {
            guard case let .numeric(v) = frame.columns[column]! else { return .nan }
            return v[row]
        }
        #expect(design.fixedCoding.map(\.name) == design.fixedNames, sourceLocation: sourceLocation)
        for (i, row) in design.usedRows.enumerated() {
            let coded = design.fixedCoding.map { column -> Double in
                let indicators = column.indicators.reduce(1.0) { $0 * $1.value(at: level($1.categorical, Int(row))) }
                return indicators * column.numeric.reduce(1.0) { $0 * number($1, Int(row)) }
            }
            #expect(coded == Array(design.fixedRow(Int(design.cellOfRow[i]))), "row \(row)", sourceLocation: sourceLocation)
        }
    }

    @Test func responsesAndTrials() throws {
        let f = DesignTests.frame([("s", ["3", "0", "5"]), ("n", ["4", "2", "5"]), ("fail", ["1", "2", "0"]),
                                   ("g", ["a", "b", "a"])])
        let t = try Design(formula: DesignTests.formula("s", random: [["g"]]), frame: f,
                           options: DesignOptions(trials: "n"))
        #expect(t.successes == [8, 0] && t.trials == [9, 2])
        let c = try Design(formula: ModelFormula(response: .successesAndFailures(successes: "s", failures: "fail"),
                                                 hasIntercept: true, fixedTerms: [],
                                                 randomTerms: [RandomTerm(factors: ["g"])], text: "t"), frame: f)
        #expect(c.successes == [8, 0] && c.trials == [9, 2])
        let yes = DesignTests.frame([("y", ["yes", "no", "yes"]), ("g", ["a", "b", "b"])])
        let factorResponse = try Design(formula: DesignTests.formula("y", random: [["g"]]), frame: yes)
        // "no" < "yes": "no" is failure; rows 2 and 3 share a cell.
        #expect(factorResponse.successes == [1, 1] && factorResponse.trials == [1, 2])
    }

    @Test func missingValuesDroppedOrRefused() throws {
        let f = DesignTests.frame([("y", ["1", "NA", "0", "1"]), ("g", ["a", "b", "NA", "b"]),
                                   ("unused", ["NA", "1", "2", "3"])])
        let d = try Design(formula: DesignTests.formula("y", random: [["g"]]), frame: f)
        #expect(d.rowsDropped == 2 && d.rowsUsed == 2 && d.usedRows == [0, 3])
        #expect(throws: InputError.self) {
            try Design(formula: DesignTests.formula("y", random: [["g"]]), frame: f,
                       options: DesignOptions(missing: .fail))
        }
        do {
            _ = try Design(formula: DesignTests.formula("y", random: [["g"]]), frame: f,
                           options: DesignOptions(missing: .fail))
        } catch {
            #expect(error.kind == .missingValues && error.line == 3 && error.column == "y")
        }
    }

    func expectError(_ kind: InputError.Kind, _ formula: ModelFormula, _ frame: Frame,
                     options: DesignOptions = DesignOptions(), line: Int? = nil, column: String? = nil,
                     contains text: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Design(formula: formula, frame: frame, options: options)
            Issue.record("expected \(kind)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            if let line { #expect(error.line == line, "\(error)", sourceLocation: sourceLocation) }
            if let column { #expect(error.column == column, "\(error)", sourceLocation: sourceLocation) }
            if !text.isEmpty { #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation) }
        }
    }

    /// Transformed variables: computed per row as R computes them, a
    /// missing value where a column they read is missing; a value where the
    /// transformation is not finite, a text column inside one and an
    /// unknown column are refused naming the line, column and values.
    @Test func transformedVariables() throws {
        let f = DesignTests.frame([("y", ["1", "0", "1", "0", "1", "0"]), ("g", ["a", "b", "a", "b", "a", "b"]),
                                   ("x", ["1", "4", "NA", "0.25", "9", "2"]), ("code", ["10", "9", "10", "2", "9", "2"]),
                                   ("w", ["p", "q", "p", "q", "p", "q"])])
        let formula = try ModelFormula.parse("y ~ sqrt(x) + I(x^2) + factor(code) + (1 | g)")
        let d = try Design(formula: formula, frame: f)
        #expect(d.fixedNames == ["(Intercept)", "sqrt(x)", "I(x^2)", "factor(code)9", "factor(code)10"])
        #expect(d.rowsUsed == 5)                   // x missing on the third row
        #expect(Array(d.fixedRow(Int(d.cellOfRow[1]))) == [1, 2, 16, 1, 0])
        #expect(d.categoricalLevels["factor(code)"] == ["2", "9", "10"])
        func refused(_ text: String, line: Int?, column: String, contains: String) throws {
            let parsed = try ModelFormula.parse(text)
            do {
                _ = try Design(formula: parsed, frame: f)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.line == line && error.column == column && error.message.contains(contains),
                        "\(text): \(error)")
            }
        }
        try refused("y ~ log(x - 1) + (1 | g)", line: 2, column: "x", contains: "log(x - 1) is -Inf at x = 1")
        try refused("y ~ I(1/(x - 4)) + (1 | g)", line: 3, column: "x", contains: "I(1/(x - 4)) is Inf at x = 4")
        try refused("y ~ log(w) + (1 | g)", line: 2, column: "w", contains: "log(w) needs numbers")
        try refused("y ~ exp(v) + (1 | g)", line: nil, column: "v", contains: "not a column of the data")
    }

    /// cbind(s, n - s), lme4's cbpp idiom, is the design of an explicit
    /// failures column; a negative count it makes is refused by its name.
    @Test func failuresAsAnExpression() throws {
        let f = DesignTests.frame([("s", ["1", "2", "0", "3"]), ("n", ["3", "4", "2", "3"]), ("fail", ["2", "2", "2", "0"]),
                                   ("g", ["a", "b", "a", "b"])])
        let derived = try Design(formula: try ModelFormula.parse("cbind(s, n - s) ~ (1 | g)"), frame: f)
        let explicit = try Design(formula: try ModelFormula.parse("cbind(s, fail) ~ (1 | g)"), frame: f)
        #expect(derived.successes == explicit.successes && derived.trials == explicit.trials)
        let negative = try ModelFormula.parse("cbind(s, n - 2 * s) ~ (1 | g)")
        expectError(.negativeCount, negative, f, line: 5, column: "n - 2 * s")
    }

    @Test func validators() {
        let f = DesignTests.frame([("y", ["1", "2", "0"]), ("g", ["a", "b", "a"]), ("one", ["z", "z", "z"]),
                                   ("x", ["1", "2", "3"]), ("x2", ["2", "4", "6"]), ("s", ["1", "3", "0"]),
                                   ("n", ["2", "2", "1"]), ("h", ["p", "q", "r"]), ("b", ["1", "0", "1"])])
        expectError(.unknownColumn, DesignTests.formula("y", random: [["client"]]), f, column: "client",
                    contains: "not a column")
        expectError(.notBinary, DesignTests.formula("y", random: [["g"]]), f, line: 3, column: "y",
                    contains: "expected 0 or 1, found 2")
        expectError(.singleLevel, DesignTests.formula("x", random: [["one"]]),
                    DesignTests.frame([("x", ["1", "0"]), ("one", ["z", "z"])]), column: "one")
        expectError(.rankDeficient, DesignTests.formula("s", fixed: [["x"], ["x2"]], random: [["g"]]),
                    DesignTests.frame([("s", ["1", "0", "1", "0"]), ("x", ["1", "2", "3", "4"]),
                                       ("x2", ["2", "4", "6", "8"]), ("g", ["a", "b", "a", "b"])]),
                    contains: "rank deficient")
        expectError(.successesExceedTrials, DesignTests.formula("s", random: [["g"]]), f,
                    options: DesignOptions(trials: "n"), line: 3, column: "s")
        expectError(.nonNumeric, DesignTests.formula("s", random: [["g"]]), f,
                    options: DesignOptions(trials: "h"), column: "h")
        expectError(.emptyData, DesignTests.formula("y", random: [["g"]]),
                    DesignTests.frame([("y", ["NA"]), ("g", ["a"])]))
        let typo = DesignTests.frame([("y", ["1", "0", "1", "0", "1", "0"]), ("x", ["1", "2", "3", "abc", "5", "6"]),
                                      ("g", ["a", "b", "a", "b", "a", "b"]), ("z", ["1", "0", "yes", "0", "1", "1"])])
        expectError(.nonNumeric, DesignTests.formula("y", fixed: [["x"]], random: [["g"]]), typo, line: 5, column: "x",
                    contains: "found \"abc\"")
        expectError(.notBinary, DesignTests.formula("z", random: [["g"]]), typo, line: 4, column: "z",
                    contains: "found \"yes\"")
        expectError(.nonNumeric, DesignTests.formula("y", random: [["g"]]), typo, options: DesignOptions(trials: "x"),
                    line: 5, column: "x")
        expectError(.badOption, DesignTests.formula("b", fixed: [["g"]]), f,
                    options: DesignOptions(levels: ["g": ["a"]]), contains: "does not list the level \"b\"")
    }

    /// R reads Inf and 1e309 as numbers; a column used as numbers in the
    /// model refuses them naming the line and column, wherever it is used.
    @Test func nonFiniteNumbersAreRefusedWhereUsed() throws {
        func refusal(_ formula: String, _ text: String, trials: String? = nil) throws -> InputError? {
            let frame = try Frame.read(csvText: text, source: "d.csv"), model = try ModelFormula.parse(formula)
            do {
                _ = try Design(formula: model, frame: frame, options: DesignOptions(trials: trials))
                return nil
            } catch { return error }
        }
        let rows = "y,n,g,x,z,unused\n1,2,a,0.5,1,0\n0,3,b,1.5,2,0\n1,1,a,-1,3,0\n0,2,b,2,4,0\n"
        #expect(try refusal("y ~ x + (1|g)", rows) == nil)
        for (bad, shown) in [("Inf", "Inf"), ("-inf", "-Inf"), ("1e309", "Inf"), ("-1E+400", "-Inf")] {
            let text = rows.replacingOccurrences(of: "1,1,a,-1,3", with: "1,1,a,\(bad),3")
            let error = try #require(try refusal("y ~ x + (1|g)", text), "\(bad)")
            #expect(error.kind == .notFinite && error.file == "d.csv" && error.line == 4 && error.column == "x")
            #expect(error.message.hasPrefix("expected a finite number, found \(shown) "), "\(error)")
            // In a product too, and not where the column is unused.
            #expect(try refusal("y ~ x:z + (1|g)", text)?.column == "x")
            #expect(try refusal("y ~ z + (1|g)", text) == nil)
        }
        // Trials and counts.
        let trials = rows.replacingOccurrences(of: "0,3,b", with: "0,inf,b")
        let trialsError = try #require(try refusal("y ~ (1|g)", trials, trials: "n"))
        #expect(trialsError.kind == .notFinite && trialsError.line == 3 && trialsError.column == "n")
        let counts = rows.replacingOccurrences(of: "0,3,b", with: "-Inf,3,b")
        let countsError = try #require(try refusal("cbind(y, n) ~ (1|g)", counts))
        #expect(countsError.kind == .notFinite && countsError.line == 3 && countsError.column == "y")
        // A product of finite numbers that overflows.
        let large = rows.replacingOccurrences(of: "1,2,a,0.5,1", with: "1,2,a,1e200,1e200")
        let overflow = try #require(try refusal("y ~ x:z + (1|g)", large))
        #expect(overflow.kind == .notFinite && overflow.line == 2 && overflow.message.contains("product x:z"))
        // NaN stays a missing value, dropped as R's na.omit drops it.
        let frame = try Frame.read(csvText: rows.replacingOccurrences(of: "0,3,b,1.5", with: "0,3,b,NaN"), source: "d.csv")
        #expect(try Design(formula: ModelFormula.parse("y ~ x + (1|g)"), frame: frame).rowsDropped == 1)
        // Large but finite columns are of full rank (the norm no longer overflows).
        let scaled = rows.replacingOccurrences(of: ",0.5,", with: ",5e159,").replacingOccurrences(of: ",1.5,", with: ",1.5e160,")
        #expect(try refusal("y ~ x + (1|g)", scaled) == nil)
    }

    /// describe's report of data whose counts are all 0 says so (it said "-nan%").
    @Test func reportOfDataWithoutTrials() throws {
        let frame = try Frame.read(csvText: "s,f,g\n0,0,a\n0,0,b\n", source: "d.csv")
        let report = DesignReport(try Design(formula: ModelFormula.parse("cbind(s, f) ~ (1|g)"), frame: frame)).text
        #expect(report.contains("response:  no trials (every count is 0)") && !report.contains("nan"), "\(report)")
    }
}
