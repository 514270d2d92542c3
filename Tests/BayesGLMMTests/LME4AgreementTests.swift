import Foundation
import Testing
@testable import BayesGLMM

/// The design against R's on the same data: `lme4::glFormula`'s fixed-effect
/// matrix (`X`, equal to `model.matrix`) and grouping factors (`flist`), from
/// fixtures written by Validation/design/make_fixtures.R (lme4 1.1-31).
@Suite struct LME4AgreementTests {
    struct Fixture: Decodable {
        struct Random: Decodable { let term: String; let levels: [String]; let index: [Int] }
        struct Response: Decodable { let successes: [Double]; let trials: [Double] }
        let `case`: String
        let formula: String
        let csv: String
        let rows_read: Int
        let rows_used: Int
        let kept_rows: [Int]
        let fixed_names: [String]
        let fixed: [[Double]]
        let random: [Random]
        let response: Response
        /// R's contrasts for the case: absent for contr.treatment, "sum" for contr.sum.
        let contrasts: String?
        /// For poly and ns, whose QR R computes otherwise: the largest
        /// difference allowed, relative above 1 (absent: none).
        let tolerance: Double?
        /// New rows and their fixed-effect rows as `predict(fit, newdata)`
        /// codes them, with the training constants (R's safe prediction).
        let new_csv: String?
        let new_fixed: [[Double]]?
    }

    /// A fixed-effect column's value at a row of `frame` (whose transformed
    /// variables are computed): its numeric columns' product times its
    /// indicators — as `score` codes a candidate.
    static func value(_ column: FixedColumn, frame: Frame, row: Int) -> Double {
        var value = 1.0
        for name in column.numeric {
            guard case let .numeric(x) = frame.columns[name] else { return .nan }
            value *= x[row]
        }
        for indicator in column.indicators {
            switch frame.columns[indicator.categorical] {
            case let .factor(codes, levels)?: value *= indicator.value(at: levels[Int(codes[row])])
            case let .numeric(x)?: value *= indicator.value(at: Levels.rName(x[row]))
            case nil: return .nan
            }
        }
        return value
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("design")

    static let cases: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    @Test func fixturesArePresent() { #expect(LME4AgreementTests.cases.count >= 8) }

    @Test(arguments: cases)
    func designMatchesLME4(name: String) throws {
        let data = try Data(contentsOf: LME4AgreementTests.directory.appendingPathComponent(name + ".json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let frame = try Frame.read(csvFile: LME4AgreementTests.directory.appendingPathComponent(fixture.csv).path)
        let formula = try ModelFormula.parse(fixture.formula)
        let contrasts = try #require(DesignOptions.Contrasts(rawValue: fixture.contrasts ?? "treatment"))
        let design = try Design(formula: formula, frame: frame, options: DesignOptions(contrasts: contrasts))

        #expect(design.rowsRead == fixture.rows_read)
        #expect(design.rowsUsed == fixture.rows_used)
        #expect(design.usedRows.map { Int($0) + 1 } == fixture.kept_rows)
        #expect(design.fixedNames == fixture.fixed_names)
        let tolerance = fixture.tolerance ?? 0
        func same(_ a: [Double], _ b: [Double]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
        }
        for (i, row) in fixture.fixed.enumerated() {
            let ours = Array(design.fixedRow(Int(design.cellOfRow[i])))
            #expect(same(ours, row), "\(name) row \(i + 1): \(ours) vs R \(row)")
        }
        // New rows, with the training constants: within 1e-10 of R's.
        if let newCSV = fixture.new_csv, let newFixed = fixture.new_fixed {
            let table = try Frame.read(csvFile: LME4AgreementTests.directory.appendingPathComponent(newCSV).path)
            let derived = try table.deriving(design.formula.expressions, constants: design.transformConstants).frame
            #expect(newFixed.count == table.rowCount)
            for (i, row) in newFixed.enumerated() {
                let ours = design.fixedCoding.map { LME4AgreementTests.value($0, frame: derived, row: i) }
                #expect(ours.count == row.count
                        && zip(ours, row).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) },
                        "\(name) new row \(i + 1): \(ours) vs R \(row)")
            }
        }

        // Responses, aggregated over our cells.
        var successes = [Double](repeating: 0, count: design.cellCount)
        var trials = [Double](repeating: 0, count: design.cellCount)
        for i in 0..<fixture.rows_used {
            successes[Int(design.cellOfRow[i])] += fixture.response.successes[i]
            trials[Int(design.cellOfRow[i])] += fixture.response.trials[i]
        }
        #expect(successes == design.successes && trials == design.trials)

        // Grouping factors, looked up by term name (lme4 reorders terms by
        // their number of levels). lme4 names the nested term of
        // (1|g1/g2) "g2:g1" where we write g1:g2 (as the formula reads); the
        // levels are then the same combinations with the parts reversed.
        for theirs in fixture.random {
            let parts = theirs.term.split(separator: ":").map(String.init)
            let term = try #require(design.randomTerms.first { $0.factors == parts }
                                    ?? design.randomTerms.first { $0.factors == parts.reversed() },
                                    "\(name): no term \(theirs.term)")
            let reversed = term.factors != parts
            let ourNames = term.levels.map {
                reversed ? $0.split(separator: ":").reversed().joined(separator: ":") : $0
            }
            if !reversed { #expect(ourNames == theirs.levels, "\(name) \(theirs.term) levels") }
            #expect(Set(ourNames) == Set(theirs.levels), "\(name) \(theirs.term) level sets")
            for i in 0..<fixture.rows_used {
                let ourLevel = ourNames[Int(term.levelOfCell[Int(design.cellOfRow[i])])]
                #expect(ourLevel == theirs.levels[theirs.index[i] - 1], "\(name) \(theirs.term) row \(i + 1)")
            }
        }
    }
}
