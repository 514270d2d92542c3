import Diagnostics
import Foundation
import Testing
import Variates
@testable import BayesGLMM

/// Offsets (`offset(expr)` in the formula, `DesignOptions.offset`) and prior
/// weights (`DesignOptions.weights`): the design, every sampler against an
/// exact posterior or Geweke's test, the EB fit against glmer's
/// (Validation/lme4/fit_glmer.R's "offsets" cases), scoring, and bad input.
@Suite struct OffsetsAndWeightsTests {
    // MARK: Formula and design

    @Test func offsetsParseAsRWritesThem() throws {
        let formula = try ModelFormula.parse("y ~ x + offset(log(n)) + offset(base) + (1 | g)")
        #expect(formula.offsets == ["log(n)", "base"])
        #expect(formula.fixedTerms.map(\.name) == ["x"])
        #expect(formula.expressions["log(n)"] == .call("log", .column("n")))
        #expect(formula.description == "y ~ 1 + x + offset(log(n)) + offset(base) + (1 | g)")
        #expect(try ModelFormula.parse("y ~ offset(2 * t) + (1|g)").offsets == ["2 * t"])
        #expect(try ModelFormula.parse("y ~ offset(o) + offset(o) + (1|g)").offsets == ["o"])
        for (text, message) in [("y ~ x:offset(o) + (1|g)", "an offset cannot be part of an interaction"),
                                ("y ~ x + (1 + offset(o) | g)", "offset() belongs to the fixed part"),
                                ("y ~ x + offset(o) - offset(o) + (1|g)", "an offset cannot be removed"),
                                ("y ~ x + offset() + (1|g)", "offset() needs an argument"),
                                ("y ~ x + offset(a, b) + (1|g)", "offset takes one argument")] {
            #expect(throws: FormulaError.self, "\(text)") { try ModelFormula.parse(text) }
            do { _ = try ModelFormula.parse(text) } catch {
                #expect(error.message.contains(message), "\(text): \(error.message)")
            }
        }
    }

    static let table = """
        y,x,n,base,w,g
        1,0.5,2,0.1,3,a
        0,-1,1,0,2,a
        1,0.25,4,-0.2,1,b
        0,0.5,2,0.1,3,a
        1,2,3,0.3,2,b
        0,-0.5,1,0,1,c
        1,1,2,0.5,4,c
        """

    static func design(_ formula: String, _ options: DesignOptions = DesignOptions(),
                       table: String = OffsetsAndWeightsTests.table) throws -> Design {
        try Design(formula: ModelFormula.parse(formula), frame: Frame.read(csvText: table, source: "d.csv"),
                   options: options)
    }

    /// The offset of each cell is the sum of the formula's offsets and the
    /// option's column; rows with the same design row but another offset
    /// are other cells; weights multiply successes and trials.
    @Test func offsetsAndWeightsReachTheCells() throws {
        let design = try OffsetsAndWeightsTests.design("y ~ x + offset(log(n)) + (1|g)",
                                                       DesignOptions(weights: "w", offset: "base"))
        #expect(design.offsetVariables == ["log(n)", "base"] && design.offsetColumn == "base")
        #expect(design.weightsColumn == "w")
        // Rows 1 and 4 are alike (x = 0.5, n = 2, base = 0.1, w = 3, g = a): one cell.
        #expect(design.cellCount == 6)
        let first = Int(design.cellOfRow[0])
        #expect(design.cellOfRow[3] == design.cellOfRow[0])
        #expect(abs(design.offsets[first] - (log(2) + 0.1)) < 1e-15)
        #expect(design.successes[first] == 3 && design.trials[first] == 6)
        let total = zip([1.0, 0, 1, 0, 1, 0, 1], [3.0, 2, 1, 3, 2, 1, 4])
        #expect(design.successes.reduce(0, +) == total.reduce(0) { $0 + $1.0 * $1.1 })
        #expect(design.trials.reduce(0, +) == 16)
        for i in 0..<design.cellCount {
            let rows = design.cellOfRow.indices.filter { Int(design.cellOfRow[$0]) == i }
            let r = rows[0]
            let n = [2.0, 1, 4, 2, 3, 1, 2][r], base = [0.1, 0, -0.2, 0.1, 0.3, 0, 0.5][r]
            #expect(abs(design.offset(i) - (log(n) + base)) < 1e-15)
        }
        // Without an offset there is none to add.
        let plain = try OffsetsAndWeightsTests.design("y ~ x + (1|g)")
        #expect(!plain.hasOffset && plain.offsets.isEmpty && plain.offset(0) == 0)
    }

    /// A proportion response with weights, and fractional counts.
    @Test func proportionsWithWeightsAreCounts() throws {
        let table = "p,w,g\n0.5,4,a\n0.333333333333333,3,a\n1,2,b\n0,1,b\n0.25,2,c\n"
        let design = try OffsetsAndWeightsTests.design("p ~ (1|g)", DesignOptions(weights: "w"), table: table)
        // 1/3 written in decimals times 3 is 1 success; 0.25 × 2 is half a
        // success; the rows of a level make one cell.
        #expect(design.successes == [3, 2, 0.5] && design.trials == [7, 3, 2])
        #expect(!design.hasWholeCounts)
        let whole = try OffsetsAndWeightsTests.design("p ~ (1|g)", DesignOptions(weights: "w"),
                                                      table: "p,w,g\n0.5,4,a\n0.333333333333333,3,a\n1,2,b\n")
        #expect(whole.hasWholeCounts)
    }

    /// Bad weights and offsets: each refused naming the line and column.
    @Test func badWeightsAndOffsetsAreRefused() throws {
        func refusal(_ formula: String, _ options: DesignOptions, _ table: String) -> InputError? {
            do { _ = try OffsetsAndWeightsTests.design(formula, options, table: table) } catch let error as InputError {
                return error
            } catch { return nil }
            return nil
        }
        let zero = try #require(refusal("y ~ (1|g)", DesignOptions(weights: "w"), "y,w,g\n1,1,a\n0,0,b\n1,2,a\n"))
        #expect(zero.kind == .badWeight && zero.line == 3 && zero.column == "w" && zero.setting == "weights")
        let negative = try #require(refusal("y ~ (1|g)", DesignOptions(weights: "w"), "y,w,g\n1,-1,a\n0,1,b\n"))
        #expect(negative.kind == .badWeight && negative.line == 2)
        let infinite = try #require(refusal("y ~ (1|g)", DesignOptions(weights: "w"), "y,w,g\n1,1,a\n0,Inf,b\n"))
        #expect(infinite.kind == .badWeight && infinite.line == 3)
        let missingWeight = try #require(refusal("y ~ (1|g)", DesignOptions(weights: "w"), "y,w,g\n1,1,a\n0,NA,b\n"))
        #expect(missingWeight.kind == .missingValues && missingWeight.line == 3 && missingWeight.column == "w")
        let proportion = try #require(refusal("y ~ (1|g)", DesignOptions(weights: "w"), "y,w,g\n1.5,1,a\n0,1,b\n"))
        #expect(proportion.kind == .notBinary && proportion.line == 2 && proportion.column == "y")
        let missingOffset = try #require(refusal("y ~ offset(o) + (1|g)", DesignOptions(),
                                                 "y,o,g\n1,1,a\n0,,b\n1,2,a\n"))
        #expect(missingOffset.kind == .missingValues && missingOffset.line == 3 && missingOffset.column == "o")
        let logOfZero = try #require(refusal("y ~ offset(log(n)) + (1|g)", DesignOptions(),
                                             "y,n,g\n1,1,a\n0,0,b\n1,2,a\n"))
        #expect(logOfZero.line == 3 && logOfZero.column == "n")
        let text = try #require(refusal("y ~ (1|g)", DesignOptions(offset: "o"), "y,o,g\n1,x,a\n0,1,b\n"))
        #expect(text.kind == .nonNumeric && text.column == "o")
        let same = try #require(refusal("y ~ (1|g)", DesignOptions(trials: "n", weights: "n"), "y,n,g\n1,1,a\n0,1,b\n"))
        #expect(same.setting == "weights")
    }

    // MARK: Samplers against exact posteriors

    /// The one-factor model of `GibbsTests` with an offset per level and
    /// weights of ½ (fractional counts: 1, 3, 4.5 successes out of 5, 5, 6),
    /// as a data table of one row per level.
    static func oneFactor(offsets: [Double], weight: Double) throws -> Design {
        var text = "p,w,o,g\n"
        for j in GibbsTests.successes.indices {
            text += "\(GibbsTests.successes[j] / GibbsTests.trials[j]),\(GibbsTests.trials[j] * weight),"
                + "\(offsets[j]),g\(j)\n"
        }
        return try Design(formula: ModelFormula.parse("p ~ offset(o) + (1|g)"),
                          frame: Frame.read(csvText: text, source: "one-factor.csv"),
                          options: DesignOptions(weights: "w"))
    }

    static let offsets = [0.8, -0.6, 1.3]

    /// Every kernel for random intercepts — the Pólya–Gamma Gibbs sweep
    /// (augmented and exact updates) and the Metropolis kernel — samples the
    /// posterior of the one-factor model with offsets and fractional
    /// weights: posterior means of α and σ within 4 MCSE of quadrature.
    @Test(arguments: ["augmented", "exact", "metropolis"])
    func oneFactorWithOffsetsMatchesQuadrature(_ kernel: String) throws {
        let design = try OffsetsAndWeightsTests.oneFactor(offsets: OffsetsAndWeightsTests.offsets, weight: 0.5)
        #expect(design.successes == [1, 3, 4.5] && design.trials == [5, 5, 6])
        let exact = GibbsTests.quadrature(successes: design.successes, trials: design.trials,
                                          offsets: design.offsets)
        let settings = ChainSettings(chains: 4, warmup: 500, draws: 5000, seed: 19)
        let draws: ChainDraws
        switch kernel {
        case "metropolis":
            draws = try Chains.run(MetropolisWithinGibbs(design: design), settings: ChainSettings(
                chains: 4, warmup: 1000, draws: 5000, seed: 19))
        default:
            var gibbs = PolyaGammaGibbs(design: design)
            gibbs.updates = kernel == "exact" ? .exact : .augmented
            draws = try Chains.run(gibbs, settings: settings)
        }
        for (name, truth) in [("(Intercept)", exact.alpha), ("sd(g)", exact.sigma)] {
            let s = try MetropolisTests.summary(draws, name)
            let z = (s.mean - truth) / s.mcse
            #expect(abs(z) < 4, "\(kernel) \(name): MCMC \(s.mean) ± \(s.mcse), quadrature \(truth), z = \(z)")
            #expect(s.rhat < 1.01, "\(kernel) \(name) R-hat \(s.rhat)")
        }
        // The offsets matter: without them the intercept's posterior mean
        // is elsewhere by far more than the tolerance.
        let without = GibbsTests.quadrature(successes: design.successes, trials: design.trials)
        #expect(abs(without.alpha - exact.alpha) > 0.3)
    }

    /// Geweke's joint-distribution test of the random-slope Gibbs sweep on a
    /// design with an offset: data simulated with the offset, drawn from
    /// with it.
    @Test func slopeGibbsWithOffsetPassesGeweke() throws {
        let design = try RandomSlopeTests.design(formula: "y ~ x + offset(w) + (1 + x | client) + (1 | stylist)")
        #expect(design.hasOffset)
        let z = try RandomSlopeTests.gewekeZ(design: design, priors: RandomSlopeTests.priors(), seed: 2014,
                                             count: 16_000) { s, y in
            let values = RandomSlopeGibbs.standardDeviationsAndCorrelations(s.covariances[0], size: 2)
            return [s.coefficients[0], s.coefficients[1], values[0], values[1], values[2],
                    s.effects[0][0], s.effects[0][1], y.reduce(0, +), s.coefficients[0] * y.reduce(0, +)]
        }
        for (j, value) in z.enumerated() { #expect(abs(value) < 4, "test function \(j): z = \(value)") }
    }

    /// The random-slope Metropolis kernel and the Gibbs sweep agree on data
    /// with an offset (`Validation/lme4/data/offsets.csv`).
    @Test func slopeKernelsAgreeWithAnOffset() throws {
        let frame = try Frame.read(csvFile: LaplaceTests.root.appendingPathComponent(
            "Validation/lme4/data/offsets.csv").path)
        let design = try Design(formula: ModelFormula.parse("y ~ x + offset(log(exposure) + base) + (1 + x | group)"),
                                frame: frame)
        let settings = ChainSettings(chains: 4, warmup: 1000, draws: 2000, seed: 23)
        let gibbs = try Chains.run(RandomSlopeGibbs(design: design), settings: settings)
        let metropolis = try Chains.run(RandomSlopeMetropolis(design: design), settings: settings)
        for name in ["(Intercept)", "x", "sd(group)[(Intercept)]", "r(group)[101][(Intercept)]"] {
            let a = try MetropolisTests.summary(metropolis, name), b = try MetropolisTests.summary(gibbs, name)
            let z = (a.mean - b.mean) / (a.mcse * a.mcse + b.mcse * b.mcse).squareRoot()
            #expect(abs(z) < 4, "\(name): Metropolis \(a.mean) ± \(a.mcse), Gibbs \(b.mean) ± \(b.mcse), z = \(z)")
        }
        // The intercept is that of the model with the offset: near glmer's −1.0.
        let intercept = try MetropolisTests.summary(gibbs, "(Intercept)")
        #expect(abs(intercept.mean + 1.0) < 0.3, "\(intercept.mean)")
    }

    // MARK: Empirical Bayes against glmer

    /// glmer (bobyqa, tolPwrss = 1e-12) with `offset(log(exposure))` in the
    /// formula, `offset = base`, both, and `weights = w` with a proportion
    /// response: estimates and standard errors within 1e-3 relative, the
    /// log-likelihood never more than 1e-4 below glmer's; and at glmer's
    /// own estimates its log-likelihood, deviance and conditional modes.
    @Test(arguments: ["offset_formula_tight", "offset_argument_tight", "offset_both_tight", "weighted_tight"])
    func agreesWithGlmer(name: String) throws {
        let (design, fixture) = try EmpiricalBayesTests.design(name)
        #expect(design.hasOffset == name.hasPrefix("offset") && (design.weightsColumn != nil) == (name == "weighted_tight"))
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.converged && fit.messages.isEmpty, "\(fit.messages)")
        #expect(fit.logLikelihood >= fixture.log_likelihood - 1e-4,
                "\(name): ours \(fit.logLikelihood), glmer \(fixture.log_likelihood)")
        func close(_ a: Double, _ b: Double) -> Bool { EmpiricalBayesTests.close(a, b, relative: 1e-3) }
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n })
            #expect(close(fit.coefficients[j], theirs.estimate), "\(name) \(n): ours \(fit.coefficients[j]), glmer \(theirs.estimate)")
            #expect(close(fit.standardErrors[j], theirs.std_error),
                    "\(name) SE \(n): ours \(fit.standardErrors[j]), glmer \(theirs.std_error)")
        }
        #expect(close(fit.standardDeviations[0], fixture.sd[0].estimate))
        let report = fit.report(design: design, case: name, seconds: 0)
        #expect(report.weights == fixture.weights && report.offset == fixture.offset)

        let beta = try design.fixedNames.map { n in try #require(fixture.fixed.first { $0.name == n }).estimate }
        let at = try EmpiricalBayesFit.evaluate(design, coefficients: beta, theta: try #require(fixture.theta))
        #expect(EmpiricalBayesTests.close(at.logLikelihood, fixture.log_likelihood, relative: 1e-9),
                "\(name): ours \(at.logLikelihood), glmer \(fixture.log_likelihood)")
        #expect(EmpiricalBayesTests.close(at.deviance, fixture.deviance, relative: 1e-8),
                "\(name) deviance: ours \(at.deviance), glmer \(fixture.deviance)")
        try EmpiricalBayesTests.expectEffectsMatch(at.report(design: design, case: name, seconds: 0), fixture, name)
    }

    /// Random slopes under an offset (a boundary fit in glmer): at glmer's
    /// estimates its log-likelihood and every level's modes; our own fit's
    /// log-likelihood never below glmer's by more than 1e-4.
    @Test func slopesWithAnOffsetAgreeWithGlmer() throws {
        let name = "offset_slopes_tight"
        let (design, fixture) = try EmpiricalBayesTests.design(name)
        let beta = try design.fixedNames.map { n in try #require(fixture.fixed.first { $0.name == n }).estimate }
        let theta = try EmpiricalBayesSlopeTests.theta(fixture, for: design)
        let at = try EmpiricalBayesFit.evaluate(design, coefficients: beta, theta: theta)
        #expect(EmpiricalBayesTests.close(at.logLikelihood, fixture.log_likelihood, relative: 1e-9),
                "ours \(at.logLikelihood), glmer \(fixture.log_likelihood)")
        try EmpiricalBayesTests.expectEffectsMatch(at.report(design: design, case: name, seconds: 0), fixture, name)
        let fit = try EmpiricalBayesFit.fit(design)
        #expect(fit.logLikelihood >= fixture.log_likelihood - 1e-4,
                "ours \(fit.logLikelihood), glmer \(fixture.log_likelihood)")
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n })
            #expect(EmpiricalBayesTests.close(fit.coefficients[j], theirs.estimate, relative: 1e-3),
                    "\(n): ours \(fit.coefficients[j]), glmer \(theirs.estimate)")
        }
    }

    /// Adaptive quadrature (nAGQ = 10) with an offset, against glmer's.
    @Test func quadratureWithAnOffsetAgreesWithGlmer() throws {
        let (design, fixture) = try EmpiricalBayesTests.design("offset_agq_10_tight")
        let fit = try EmpiricalBayesFit.fit(design, quadraturePoints: 10)
        let constant = AdaptiveQuadratureTests.glmerConvention(design)
        #expect(fit.logLikelihood - constant >= fixture.log_likelihood - 1e-4,
                "ours \(fit.logLikelihood - constant), glmer \(fixture.log_likelihood)")
        for (j, n) in design.fixedNames.enumerated() {
            let theirs = try #require(fixture.fixed.first { $0.name == n })
            #expect(EmpiricalBayesTests.close(fit.coefficients[j], theirs.estimate, relative: 1e-3),
                    "\(n): ours \(fit.coefficients[j]), glmer \(theirs.estimate)")
        }
        #expect(EmpiricalBayesTests.close(fit.standardDeviations[0], fixture.sd[0].estimate, relative: 1e-3))
    }

    // MARK: Scoring

    /// A candidate's offset is computed from its columns and added to every
    /// draw's linear predictor; the weights column may be present and is ignored.
    @Test func scoresAddTheOffset() throws {
        var run = ScoringTests.Run()
        run.formula = "y ~ 1 + x + offset(log(n)) + (1 | client) + (1 | stylist) + (1 | client:stylist)"
        run.extra = ["offset": "base", "weights": "w"]
        let scoring = try Scoring(path: run.writeRandom())
        #expect(scoring.offsetVariables == ["log(n)", "base"])
        let candidates = try ScoringTests.candidates(
            "client,stylist,x,n,base,w\na,s1,0.5,2,0.1,7\nb,s1,-1,5,-0.3,1\n", scoring)
        let scores = try scoring.score(candidates, options: .init(threshold: 0.5))
        let draws = try ScoringTests.pooled(scoring.run)
        for (i, row) in [("a", "s1", 0.5, 2.0, 0.1), ("b", "s1", -1.0, 5.0, -0.3)].enumerated() {
            let mean = ScoringTests.meanProbability(draws, count: scoring.drawCount, client: row.0, stylist: row.1) { t in
                log(row.3) + row.4 + draws["(Intercept)"]![t] + row.2 * draws["x"]![t]
            }
            #expect(abs(scores[i].mean - mean) <= 1e-13, "row \(i): \(scores[i].mean) against \(mean)")
        }
        let lacking = try #require(ScoringTests.error("client,stylist,x,n\na,s1,1,2\n", scoring))
        #expect(lacking.column == "base" && lacking.message.contains("the offset"))
        let missing = try #require(ScoringTests.error("client,stylist,x,n,base\na,s1,1,2,NA\n", scoring))
        #expect(missing.column == "base" && missing.line == 2)
    }
}

/// `.` in a formula: every column of the data but the response, the
/// grouping factors and the trials, weights and offset columns (checked
/// against `model.matrix` in the design fixtures m1–m3).
@Suite struct DotTests {
    @Test func dotStandsForTheOtherColumns() throws {
        let formula = try ModelFormula.parse("y ~ . + (1 | g)")
        #expect(formula.dots == [5])
        let design = try OffsetsAndWeightsTests.design("y ~ . + offset(log(n)) + (1|g)", DesignOptions(weights: "w"))
        #expect(design.fixedNames == ["(Intercept)", "x", "n", "base"])
        #expect(design.formula.description == "y ~ 1 + x + n + base + offset(log(n)) + (1 | g)")
        #expect(design.formula.text == "y ~ . + offset(log(n)) + (1|g)")
        let expanded = try OffsetsAndWeightsTests.design("y ~ .^2 - n + (1|g)", DesignOptions(weights: "w", offset: "base"))
        #expect(expanded.fixedNames == ["(Intercept)", "x", "x:n"])
        let none = #expect(throws: InputError.self) {
            try OffsetsAndWeightsTests.design("y ~ . + (1|g)", table: "y,g\n1,a\n0,b\n")
        }
        #expect(none?.message.contains("there are none") == true)
    }
}

/// The pointwise log-likelihood of a fit on its data (`loo`'s input): each
/// row's draws from the stored draws, by hand, with an offset and a slope.
@Suite struct PointwiseLogLikelihoodTests {
    @Test func rowsLogLikelihoodIsTheBinomialAtEachDraw() throws {
        let path = LaplaceTests.root.appendingPathComponent("Validation/lme4/data/offsets.csv").path
        let design = try Design(formula: ModelFormula.parse("y ~ x + offset(log(exposure)) + (1 + x | group)"),
                                frame: Frame.read(csvFile: path))
        let output = try RunTests.folder("pointwise") + "/run"
        let request = RunRequest(design: design, priors: Priors(),
                                 settings: ChainSettings(chains: 2, warmup: 20, draws: 30, seed: 4),
                                 start: .prior, output: output, replacesExisting: false)
        _ = try Run.prepare(request).execute(stop: StopRequest())
        let run = try RunDirectory.read(output)
        let pointwise = try PointwiseLogLikelihood(run: run)
        #expect(pointwise.count(.row) == 600 && pointwise.count(.cell) == design.cellCount)
        let draws = try ScoringTests.pooled(run)
        let frame = try Frame.read(csvFile: path)
        guard case let .numeric(x) = frame.columns["x"]!, case let .numeric(exposure) = frame.columns["exposure"]!,
              case let .numeric(y) = frame.columns["y"]!, case let .numeric(group) = frame.columns["group"]! else {
            Issue.record("columns")
            return
        }
        var checked = 0
        try pointwise.forEach(.row, cellsPerChunk: 7) { rows, ll in
            #expect(rows.count == 1)   // every row of these data is a cell of its own
            let r = rows[0]
            guard r % 50 == 0 else { return }
            let level = Levels.rName(group[r])
            for t in 0..<60 {
                let eta = log(exposure[r]) + draws["(Intercept)"]![t] + x[r] * draws["x"]![t]
                    + draws["r(group)[\(level)][(Intercept)]"]![t] + x[r] * draws["r(group)[\(level)][x]"]![t]
                let expected = y[r] == 1 ? -log1p(exp(-eta)) : -log1p(exp(eta))
                #expect(abs(ll.values[t] - expected) <= 1e-12 * max(1, abs(expected)), "row \(r + 1) draw \(t)")
            }
            checked += 1
        }
        #expect(checked == 12)
        // LOO over the rows is LeaveOneOut of those draws; over cells, one per cell.
        let (loo, waic) = try pointwise.criteria(.row)
        #expect(loo.pointwise.count == 600 && waic.elpd.count == 600 && loo.draws == 60)
        var all = [Draws?](repeating: nil, count: 600)
        try pointwise.forEach(.row) { rows, ll in for r in rows { all[r] = ll } }
        #expect(loo.pointwise == LeaveOneOut(logLikelihood: all.map { $0! }).pointwise)
    }

    /// The chain files' `log_lik.i` columns (CmdStan's convention) are the
    /// pointwise log-likelihood `loo` computes from the draw store, to the
    /// last bit: per cell with an offset and a random slope, and per row.
    @Test(arguments: [PointwiseLogLikelihood.Unit.cell, .row])
    func chainFilesLogLikColumnsAreThePointwiseLogLikelihood(unit: PointwiseLogLikelihood.Unit) throws {
        let path = LaplaceTests.root.appendingPathComponent("Validation/lme4/data/offsets.csv").path
        let design = try Design(formula: ModelFormula.parse("y ~ x + offset(log(exposure)) + (1 + x | group)"),
                                frame: Frame.read(csvFile: path))
        let output = try RunTests.folder("log-lik-\(unit)") + "/run"
        let request = RunRequest(design: design, priors: Priors(),
                                 settings: ChainSettings(chains: 2, warmup: 20, draws: 30, seed: 6),
                                 start: .prior, output: output, replacesExisting: false, logLikelihood: unit)
        _ = try Run.prepare(request).execute(stop: StopRequest())
        let run = try RunDirectory.read(output)
        #expect(run.manifest.logLikelihood == unit.rawValue)
        let pointwise = try PointwiseLogLikelihood(run: run)
        let n = pointwise.count(unit)
        var expected = [[Double]](repeating: [], count: n)
        try pointwise.forEach(unit) { indices, ll in for i in indices { expected[i] = ll.values } }
        for chain in 0..<2 {
            let csv = try CmdStanCSV.read(path: output + "/chain-\(chain + 1).csv")
            let first = try #require(csv.names.firstIndex(of: "log_lik.1"))
            #expect(csv.names.count == first + n && csv.names.last == "log_lik.\(n)")
            #expect(csv.names[..<first].allSatisfy { !$0.hasPrefix("log_lik") })
            for i in 0..<n {
                #expect(csv.column(first + i) == Array(expected[i][(chain * 30)..<((chain + 1) * 30)]),
                        "log_lik.\(i + 1) of chain \(chain + 1)")
            }
        }
    }

    /// Without `logLikelihood`, the chain files have no log_lik columns.
    @Test func noLogLikColumnsUnlessAsked() throws {
        let path = LaplaceTests.root.appendingPathComponent("Validation/lme4/data/offsets.csv").path
        let design = try Design(formula: ModelFormula.parse("y ~ x + (1 | group)"), frame: Frame.read(csvFile: path))
        let output = try RunTests.folder("no-log-lik") + "/run"
        let request = RunRequest(design: design, settings: ChainSettings(chains: 1, warmup: 5, draws: 5, seed: 6),
                                 start: .prior, output: output)
        _ = try Run.prepare(request).execute(stop: StopRequest())
        let csv = try CmdStanCSV.read(path: output + "/chain-1.csv")
        #expect(!csv.names.contains { $0.hasPrefix("log_lik") })
        #expect(try RunDirectory.read(output).manifest.logLikelihood == nil)
        // The CLI's default: on up to LogLikelihoodColumns.defaultLimit observations.
        #expect(LogLikelihoodColumns.wanted(nil, unit: .cell, design: design) == (design.cellCount <= 1000))
        #expect(!LogLikelihoodColumns.wanted(false, unit: .cell, design: design))
        #expect(LogLikelihoodColumns.wanted(true, unit: .row, design: design))
    }

    /// 0/1 rows of one cell: the rows with the same outcome share their
    /// draws, given once with all their rows; per cell, one observation each.
    @Test func rowsOfACellAreGroupedByOutcome() throws {
        var text = "y,g\n"
        for (j, (s, n)) in zip(GibbsTests.successes, GibbsTests.trials).enumerated() {
            for r in 0..<Int(n) { text += "\(r < Int(s) ? 1 : 0),g\(j)\n" }
        }
        let folder = try RunTests.folder("pointwise-cells")
        let path = folder + "/rows.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let design = try Design(formula: ModelFormula.parse("y ~ (1|g)"), frame: Frame.read(csvFile: path))
        let request = RunRequest(design: design, priors: Priors(),
                                 settings: ChainSettings(chains: 2, warmup: 20, draws: 30, seed: 5),
                                 start: .prior, output: folder + "/run", replacesExisting: false)
        _ = try Run.prepare(request).execute(stop: StopRequest())
        let pointwise = try PointwiseLogLikelihood(run: RunDirectory.read(folder + "/run"))
        var groups: [[Int]] = []
        try pointwise.forEach(.row) { rows, _ in groups.append(rows) }
        // Three cells, each with its successes and its failures.
        #expect(groups.count == 6 && groups.map(\.count).reduce(0, +) == 32)
        #expect(groups.map(\.count) == [2, 8, 6, 4, 9, 3])
        let rows = try pointwise.criteria(.row).loo, cells = try pointwise.criteria(.cell).loo
        #expect(rows.pointwise.count == 32 && cells.pointwise.count == 3)
        #expect(rows.pointwise[0] == rows.pointwise[1] && rows.pointwise[0] != rows.pointwise[2])
    }
}
