import Foundation
import Testing
@testable import BayesGLMM

/// The formula table of issue 19 (`Rscript Validation/lme4/formula_table.R`,
/// lme4 1.1-31): for 36 formulas — every construct of lme4's formula
/// language that bayesglmm reads, alone and combined, on cbpp, 60 subjects
/// of VerbAgg and simulated data — the design's X and Z against
/// `lme4::glFormula`'s X and Zt (names, order and values), and the EB fit
/// against glmer's (bobyqa, tolPwrss = 1e-12).
@Suite struct FormulaTableTests {
    struct Fixture: Decodable {
        struct Zt: Decodable {
            /// Per row of Zt: its term's position in lme4's order (1-based), and
            /// the term's name, the level and the column.
            let block: [Int]
            let term: [String], level: [String], column: [String]
            let row: [Int], data_row: [Int], value: [Double]
        }
        struct Glmer: Decodable {
            struct Fixed: Decodable {
                let name: String, estimate: Double, std_error: Double
                /// From the Hessian of glmer's deviance by Richardson
                /// extrapolation (numDeriv), where glmer's own uses one step
                /// of finite differences.
                let std_error_hessian: Double?
            }
            struct SD: Decodable { let term: String; let column: String; let estimate: Double }
            let fixed: [Fixed]
            let sd: [SD]
            let log_likelihood: Double
            let singular: Bool
        }
        let `case`: String
        let formula: String
        let data: String
        let weights: String?
        let offset: String?
        let contrasts: String?
        let rows_used: Int
        let fixed_names: [String]
        let fixed: [[Double]]
        let zt: Zt
        let glmer: Glmer
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("formulas")

    static let cases: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    static func load(_ name: String) throws -> (Fixture, Design) {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: directory
            .appendingPathComponent(name + ".json")))
        let frame = try Frame.read(csvFile: LaplaceTests.root.appendingPathComponent(fixture.data).path)
        let options = DesignOptions(weights: fixture.weights, offset: fixture.offset,
                                    contrasts: try #require(DesignOptions.Contrasts(rawValue: fixture.contrasts ?? "treatment")))
        return (fixture, try Design(formula: ModelFormula.parse(fixture.formula), frame: frame, options: options))
    }

    /// lme4 names the nested term of (1 | h/g) "g:h" where the design writes
    /// h:g, and its levels with the parts the other way round.
    static func ourTerm(_ design: Design, _ name: String) -> (index: Int, reversed: Bool)? {
        let parts = name.split(separator: ":").map(String.init)
        if let k = design.randomTerms.firstIndex(where: { $0.factors == parts }) { return (k, false) }
        if let k = design.randomTerms.firstIndex(where: { $0.factors == parts.reversed() }) { return (k, true) }
        return nil
    }

    @Test func theTableHasThirtyFormulasOrMore() { #expect(FormulaTableTests.cases.count >= 30) }

    /// X: every name, in order, and every value — identical, but for the
    /// columns of scale, poly and ns (whose constants R and we compute by
    /// other roundings: within 1e-12). Z: every nonzero of Zt at the same
    /// term, level and column, identical, and Zt's rows in lme4's order.
    @Test(arguments: cases)
    func modelMatricesAreLME4s(name: String) throws {
        let (fixture, design) = try FormulaTableTests.load(name)
        #expect(design.rowsUsed == fixture.rows_used)
        #expect(design.fixedNames == fixture.fixed_names)
        let trained = design.fixedNames.map { $0.contains("scale(") || $0.contains("poly(") || $0.contains("ns(") }
        var mismatches = 0
        for (i, row) in fixture.fixed.enumerated() {
            let ours = Array(design.fixedRow(Int(design.cellOfRow[i])))
            for j in row.indices where !(ours[j] == row[j] || (trained[j] && abs(ours[j] - row[j]) <= 1e-12 * max(1, abs(row[j])))) {
                if mismatches < 5 { Issue.record("\(name) X[\(i + 1), \(fixture.fixed_names[j])]: ours \(ours[j]), R \(row[j])") }
                mismatches += 1
            }
        }
        #expect(mismatches == 0)

        // Zt's terms (blocks) in lme4's order — by decreasing number of
        // levels, stably — each matched to ours by its factors and columns.
        let zt = fixture.zt
        var blocks: [(term: Int, reversed: Bool)] = []
        for b in 1...(zt.block.max() ?? 0) {
            let rows = zt.block.indices.filter { zt.block[$0] == b }
            var columns: [String] = []
            for r in rows where !columns.contains(zt.column[r]) { columns.append(zt.column[r]) }
            let parts = zt.term[rows[0]].split(separator: ":").map(String.init)
            // The first of ours not yet matched with the same factors and columns.
            let taken = Set(blocks.map(\.term))
            guard let match = design.randomTerms.indices.first(where: {
                !taken.contains($0) && Set(design.randomTerms[$0].factors) == Set(parts)
                    && design.randomTerms[$0].columns == columns
            }) else {
                Issue.record("\(name): no term \(zt.term[rows[0]]) with columns \(columns)")
                return
            }
            blocks.append((match, design.randomTerms[match].factors != parts))
            // The levels, each with its columns, in lme4's order (as a set
            // where lme4 names the factors the other way round).
            let term = design.randomTerms[match]
            let ours = term.levels.map { level in
                blocks.last!.reversed ? level.split(separator: ":").reversed().joined(separator: ":") : level
            }
            var theirs: [String] = []
            for r in rows where theirs.last != zt.level[r] { theirs.append(zt.level[r]) }
            if blocks.last!.reversed {
                #expect(Set(ours) == Set(theirs), "\(name) \(term.name) levels")
            } else {
                #expect(ours == theirs, "\(name) \(term.name) levels: ours \(ours.prefix(5)), lme4 \(theirs.prefix(5))")
            }
        }
        let byLevels = design.randomTerms.indices.sorted {
            (-design.randomTerms[$0].levelCount, $0) < (-design.randomTerms[$1].levelCount, $1)
        }
        #expect(blocks.map(\.term) == byLevels, "\(name): Zt's terms \(blocks.map(\.term)), ours by levels \(byLevels)")
        // Every nonzero: at the row's level of the term, the column's value there.
        var nonzero = 0
        for cell in design.cellOfRow {
            for term in design.randomTerms {
                for j in term.columns.indices where term.isInterceptOnly || term.value(cell: Int(cell), column: j) != 0 {
                    nonzero += 1
                }
            }
        }
        #expect(nonzero == zt.value.count, "\(name): \(nonzero) nonzeros, lme4 \(zt.value.count)")
        mismatches = 0
        for e in zt.value.indices {
            let r = zt.row[e], i = zt.data_row[e]
            let (k, reversed) = blocks[zt.block[r] - 1]
            let term = design.randomTerms[k], cell = Int(design.cellOfRow[i])
            let j = term.columns.firstIndex(of: zt.column[r])!
            let ours = term.isInterceptOnly ? 1 : term.value(cell: cell, column: j)
            let ourLevel = term.levels[Int(term.levelOfCell[cell])]
            let named = reversed ? ourLevel.split(separator: ":").reversed().joined(separator: ":") : ourLevel
            let exact = ours == zt.value[e]
                || (zt.column[r].contains("scale(") && abs(ours - zt.value[e]) <= 1e-12 * max(1, abs(ours)))
            if named != zt.level[r] || !exact {
                if mismatches < 5 {
                    Issue.record("\(name) Zt[\(zt.level[r]) \(zt.column[r]), row \(i + 1)]: ours \(named) \(ours), lme4 \(zt.value[e])")
                }
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    /// The EB fit: every fixed effect, standard error and SD within 1e-3
    /// relative of glmer's (an SD glmer puts at 0 within 1e-3), the
    /// log-likelihood never more than 1e-4 below glmer's.
    @Test(arguments: cases)
    func empiricalBayesIsGlmers(name: String) throws {
        let (fixture, design) = try FormulaTableTests.load(name)
        let fit = try EmpiricalBayesFit.fit(design)
        let glmer = fixture.glmer
        #expect(fit.logLikelihood >= glmer.log_likelihood - 1e-4,
                "\(name): logLik ours \(fit.logLikelihood), glmer \(glmer.log_likelihood)")
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-3 * abs(b) }
        for theirs in glmer.fixed {
            guard let j = design.fixedNames.firstIndex(of: theirs.name) else {
                Issue.record("\(name): no fixed effect \(theirs.name)")
                continue
            }
            #expect(close(fit.coefficients[j], theirs.estimate), "\(name) \(theirs.name): ours \(fit.coefficients[j]), glmer \(theirs.estimate)")
            let reference = theirs.std_error_hessian ?? theirs.std_error
            #expect(close(fit.standardErrors[j], reference),
                    "\(name) SE \(theirs.name): ours \(fit.standardErrors[j]), glmer's Hessian \(reference)")
        }
        let report = fit.report(design: design, case: name, seconds: 0)
        #expect(report.sd.count == glmer.sd.count)
        for theirs in glmer.sd {
            // lme4 names the second term of (x || g) "g.1".
            let termName = theirs.term.replacingOccurrences(of: #"\.\d+$"#, with: "", options: .regularExpression)
            guard let (k, _) = FormulaTableTests.ourTerm(design, termName),
                  let ours = report.sd.first(where: { $0.term == design.randomTerms[k].name
                                                      && ($0.column ?? "(Intercept)") == theirs.column }) else {
                Issue.record("\(name): no SD \(theirs.term) \(theirs.column)")
                continue
            }
            let ok = close(ours.estimate, theirs.estimate) || (theirs.estimate < 1e-3 && ours.estimate < 1e-3)
            #expect(ok, "\(name) sd(\(theirs.term))[\(theirs.column)]: ours \(ours.estimate), glmer \(theirs.estimate)")
        }
    }
}
