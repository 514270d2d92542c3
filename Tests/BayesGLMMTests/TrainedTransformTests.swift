import Foundation
import Testing
@testable import BayesGLMM

/// `scale`, `poly` and `ns` in formulas: parsing and naming, the refusals,
/// and scoring with the fit's constants. Their values against R's
/// (training rows and new rows) are in the design fixtures n1–n4
/// (`LME4AgreementTests`).
@Suite struct TrainedTransformTests {
    @Test func callsParseAndAreNamedAsR() throws {
        let formula = try ModelFormula.parse("y ~ scale(x) + poly(z,2) + poly(x, 3, raw = TRUE):a + ns(log(z), df=3) + (1|g)")
        #expect(formula.fixedTerms.map(\.name) == [
            "scale(x)", "poly(z, 2)1", "poly(z, 2)2", "ns(log(z), df = 3)1", "ns(log(z), df = 3)2",
            "ns(log(z), df = 3)3", "poly(x, 3, raw = TRUE)1:a", "poly(x, 3, raw = TRUE)2:a",
            "poly(x, 3, raw = TRUE)3:a",
        ])
        // The canonical form writes each call once, so that it parses again.
        #expect(formula.description == "y ~ 1 + scale(x) + poly(z, 2) + ns(log(z), df = 3) + poly(x, 3, raw = TRUE):a + (1 | g)")
        #expect(try ModelFormula.parse(formula.description).fixedTerms == formula.fixedTerms)
        #expect(try ModelFormula.parse("y ~ (1 + scale(x) | g)").randomTerms[0].slopes.map(\.name) == ["scale(x)"])
        for (text, message) in [("y ~ log(scale(x)) + (1|g)", "scale() makes a term of its own"),
                                ("y ~ poly(x) + (1|g)", "poly() needs a degree"),
                                ("y ~ poly(x, 0) + (1|g)", "the degree of poly() is a whole number of at least 1"),
                                ("y ~ poly(x, 2, raw = maybe) + (1|g)", "raw = takes TRUE or FALSE"),
                                ("y ~ scale(x, center = FALSE) + (1|g)", "scale() takes the column alone"),
                                ("y ~ ns(x) + (1|g)", "ns() takes a column and its degrees of freedom"),
                                ("y ~ ns(x, knots = 3) + (1|g)", "ns() takes a column and its degrees of freedom")] {
            do {
                _ = try ModelFormula.parse(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.message.contains(message), "\(text): \(error.message)")
            }
        }
    }

    static func refusal(_ formula: String, _ table: String) -> InputError? {
        do { _ = try OffsetsAndWeightsTests.design(formula, table: table) } catch let error as InputError {
            return error
        } catch { return nil }
        return nil
    }

    @Test func badInputIsRefused() throws {
        let table = "y,x,g\n1,1,a\n0,2,a\n1,1,b\n0,2,b\n"
        let degree = try #require(TrainedTransformTests.refusal("y ~ poly(x, 2) + (1|g)", table))
        #expect(degree.column == "x" && degree.message.contains("degree below the number of distinct values"),
                "\(degree)")
        let constant = try #require(TrainedTransformTests.refusal("y ~ scale(x) + (1|g)",
                                                                  "y,x,g\n1,3,a\n0,3,a\n1,3,b\n"))
        #expect(constant.message.contains("which is 0"), "\(constant)")
        let missing = try #require(TrainedTransformTests.refusal("y ~ poly(x, 1) + (1|g)",
                                                                 "y,x,g\n1,1,a\n0,NA,a\n1,3,b\n"))
        #expect(missing.kind == .missingValues && missing.line == 3 && missing.column == "x", "\(missing)")
        let text = try #require(TrainedTransformTests.refusal("y ~ ns(x, 2) + (1|g)", "y,x,g\n1,a,a\n0,b,b\n"))
        #expect(text.kind == .nonNumeric && text.column == "x")
        let logarithm = try #require(TrainedTransformTests.refusal("y ~ scale(log(x)) + (1|g)",
                                                                   "y,x,g\n1,1,a\n0,0,a\n1,3,b\n"))
        #expect(logarithm.line == 3 && logarithm.column == "x", "\(logarithm)")
    }

    /// scale and ns drop a missing value (R's scale and ns leave it out of
    /// their constants; the row is then dropped as any row with one).
    @Test func missingValuesAreLeftOutOfTheConstants() throws {
        let design = try OffsetsAndWeightsTests.design("y ~ scale(x) + (1|g)",
                                                       table: "y,x,g\n1,1,a\n0,NA,a\n1,3,b\n0,5,b\n")
        #expect(design.rowsUsed == 3)
        #expect(design.transformConstants["scale(x)"] == TransformConstants(center: 3, scale: 2))
        #expect(design.fixed == [1, -1, 1, 0, 1, 1])
    }

    /// A candidate's scale(x) uses the fit's centre and scale, not its own
    /// table's; a fit without the constants is refused.
    @Test func scoresUseTheFitsConstants() throws {
        var run = ScoringTests.Run()
        run.formula = "y ~ 1 + scale(x) + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = ["(Intercept)", "scale(x)"]
        run.extra = ["transforms": ["scale(x)": ["center": 1.0, "scale": 2.0]],
                     "fixed_coding": [["name": "(Intercept)", "numeric": [String]()],
                                      ["name": "scale(x)", "numeric": ["scale(x)"]]] as [[String: Any]]]
        let scoring = try Scoring(path: run.writeRandom())
        let scores = try scoring.score(try ScoringTests.candidates("client,stylist,x\na,s1,4\n", scoring),
                                       options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: "a", stylist: "s1") { t in
            draws["(Intercept)"]![t] + 1.5 * draws["scale(x)"]![t]
        }
        #expect(abs(scores[0].mean - mean) <= 1e-13, "\(scores[0].mean) against \(mean)")
        run.extra["transforms"] = nil
        let old = try Scoring(path: run.writeRandom())
        let refused = try #require(ScoringTests.error("client,stylist,x\na,s1,4\n", old))
        #expect(refused.message.contains("constants of scale(x)"), "\(refused)")
    }
}

extension TrainedTransformTests {
    /// `score` end to end on the new rows of the design fixtures n1–n5
    /// (scale, poly, ns, factor of codes; Validation/design/make_fixtures.R):
    /// a run with the design's coding and constants scores each new row at
    /// the mean over the draws of F(x'β + the seen effects) with x R's row
    /// for it (`model.matrix` with the training predvars), to 1e-12.
    @Test(arguments: ["n1_scale_poly", "n2_raw_poly_interaction", "n3_natural_spline", "n4_poly_of_expression",
                      "n5_factor_new_rows"])
    func scoresCodeNewRowsAsR(name: String) throws {
        let data = try Data(contentsOf: LME4AgreementTests.directory.appendingPathComponent(name + ".json"))
        let fixture = try JSONDecoder().decode(LME4AgreementTests.Fixture.self, from: data)
        let frame = try Frame.read(csvFile: LME4AgreementTests.directory.appendingPathComponent(fixture.csv).path)
        let design = try Design(formula: ModelFormula.parse(fixture.formula), frame: frame)
        let newFixed = try #require(fixture.new_fixed)

        var run = ScoringTests.Run()
        let fixedPart = try #require(fixture.formula.components(separatedBy: " + (1 | client)").first)
        run.formula = fixedPart + " + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.fixed = design.fixedNames
        func json<T: Encodable>(_ value: T) throws -> Any {
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
        }
        run.extra = ["fixed_coding": try json(design.fixedCoding), "transforms": try json(design.transformConstants),
                     "categorical_levels": try json(design.categoricalLevels)]
        let scoring = try Scoring(path: run.writeRandom(seed: 5))

        let table = try String(contentsOf: LME4AgreementTests.directory.appendingPathComponent(
            try #require(fixture.new_csv)), encoding: .utf8)
        // The table's columns that the model reads, after the grouping factors.
        let rows = table.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let header = rows[0].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        let read = Set((scoring.covariates + scoring.categoricals).flatMap { scoring.formula.expressions[$0]?.columns ?? [$0] })
        let kept = header.indices.filter { read.contains(header[$0]) }
        var lines = ["client,stylist," + kept.map { header[$0] }.joined(separator: ",")]
        for row in rows.dropFirst() { lines.append("a,s1," + kept.map { row[$0] }.joined(separator: ",")) }
        let candidates = try ScoringTests.candidates(lines.joined(separator: "\n") + "\n", scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        for (i, row) in newFixed.enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: "a", stylist: "s1") { t in
                zip(design.fixedNames, row).reduce(0) { $0 + $1.1 * draws[$1.0]![t] }
            }
            #expect(abs(scores[i].mean - mean) <= 1e-12, "\(name) new row \(i + 1): \(scores[i].mean) against \(mean)")
        }
    }
}
