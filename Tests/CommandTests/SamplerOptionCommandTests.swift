import Foundation
import Testing

/// `bayesglmm fit --sampler` and `--link`: which kernel runs, and what
/// fit.json says of it.
@Suite(.serialized) struct SamplerOptionCommandTests {
    static func fit(_ name: String, _ options: [String]) throws -> (status: Int32, error: String, record: [String: Any]?) {
        let data = try FitCommandTests.simulate()
        let out = CommandTests.temporary(name)
        let result = try CommandTests.run(["fit", data, "--formula", "y ~ (1|client) + (1|stylist)", "--out", out,
                                           "--chains", "2", "--warmup", "20", "--draws", "20", "--seed", "4",
                                           "--quiet"] + options)
        return (result.status, result.error, try? FitInitCommandTests.record(out))
    }

    @Test func autoIsGibbsForLogit() throws {
        let run = try SamplerOptionCommandTests.fit("sampler-auto-logit", [])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["sampler"] as? String == "gibbs")
        #expect(run.record?["augmentation"] as? String == "polya_gamma")
        #expect(run.record?["link"] as? String == "logit")
        // No level mostly separated: no Metropolis–Hastings step (`augmentedExactMoves`).
        let outcomes = try #require(run.record?["outcomes"] as? [[String: Any]])
        #expect(outcomes.allSatisfy { $0["acceptance"] == nil })
    }

    /// `--updates exact`: the Gibbs sampler on the exact likelihood, said in
    /// fit.json with the Metropolis–Hastings moves' acceptance; the
    /// Metropolis sampler has no updates to choose.
    @Test func exactUpdates() throws {
        let run = try SamplerOptionCommandTests.fit("updates-exact", ["--updates", "exact"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["updates"] as? String == "exact")
        #expect(run.record?["augmentation"] == nil)
        let outcomes = try #require(run.record?["outcomes"] as? [[String: Any]])
        for outcome in outcomes {
            let acceptance = try #require(outcome["acceptance"] as? [String: Double])
            #expect(Set(acceptance.keys) == ["exact_levels_acceptance", "exact_coefficients_acceptance",
                                             "dilation_acceptance"])
            #expect(acceptance.values.allSatisfy { (0.5...1).contains($0) }, "\(acceptance)")
        }
        let auto = try SamplerOptionCommandTests.fit("updates-auto", [])
        #expect(auto.record?["updates"] as? String == "augmented")
        let refused = try SamplerOptionCommandTests.fit("updates-metropolis", ["--updates", "exact", "--sampler",
                                                                              "metropolis"])
        #expect(refused.status == 2 && refused.error.contains("--updates"), "\(refused.error)")
    }

    /// `--updates calibrated`: the augmented sweep with the calibrated
    /// update of the fixed effects, said in fit.json with its acceptance;
    /// refused (exit 2, naming the options) for a link other than the logit.
    @Test func calibratedUpdates() throws {
        let run = try SamplerOptionCommandTests.fit("updates-calibrated", ["--updates", "calibrated"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["updates"] as? String == "calibrated")
        #expect(run.record?["augmentation"] as? String == "polya_gamma")
        let outcomes = try #require(run.record?["outcomes"] as? [[String: Any]])
        for outcome in outcomes {
            let acceptance = try #require(outcome["acceptance"] as? [String: Double])
            #expect(Set(acceptance.keys) == ["calibrated_coefficients_acceptance"])
        }
        let refused = try SamplerOptionCommandTests.fit("updates-calibrated-probit", ["--updates", "calibrated",
                                                                                     "--link", "probit"])
        #expect(refused.status == 2 && refused.error.contains("--updates calibrated")
                && refused.error.contains("--link"), "\(refused.error)")
        #expect(refused.record == nil)
    }

    @Test func autoIsAlbertChibGibbsForProbit() throws {
        let run = try SamplerOptionCommandTests.fit("sampler-auto-probit", ["--link", "probit"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["status"] as? String == "complete")
        #expect(run.record?["sampler"] as? String == "gibbs")
        #expect(run.record?["augmentation"] as? String == "albert_chib")
        #expect(run.record?["link"] as? String == "probit")
        #expect(run.record?["init"] as? String == "prior")    // the EB fit is of the logit model
        let outcomes = try #require(run.record?["outcomes"] as? [[String: Any]])
        #expect(outcomes.count == 2 && outcomes.allSatisfy { $0["acceptance"] == nil })
        let forced = try SamplerOptionCommandTests.fit("sampler-gibbs-probit", ["--sampler", "gibbs", "--link", "probit"])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(forced.record?["augmentation"] as? String == "albert_chib")
    }

    @Test func probitMetropolisRecordsAcceptance() throws {
        let run = try SamplerOptionCommandTests.fit("sampler-metropolis-probit", ["--sampler", "metropolis",
                                                                                "--link", "probit"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["status"] as? String == "complete")
        #expect(run.record?["sampler"] as? String == "metropolis")
        #expect(run.record?["augmentation"] == nil)
        #expect(run.record?["link"] as? String == "probit")
        let outcomes = try #require(run.record?["outcomes"] as? [[String: Any]])
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            let acceptance = try #require(outcome["acceptance"] as? [String: Double])
            #expect(Set(acceptance.keys) == ["fixed", "r(client)", "r(stylist)", "sd(client)", "sd(stylist)",
                                             "sd(client) joint", "sd(stylist) joint"])
            #expect(acceptance.values.allSatisfy { (0...1).contains($0) })
        }
    }

    /// `--sampler metropolis` is honoured for any link: cloglog (where auto
    /// would choose it too) and logit (where auto would choose Gibbs).
    @Test func metropolisOnRequestForCloglogAndLogit() throws {
        let run = try SamplerOptionCommandTests.fit("sampler-metropolis-cloglog", ["--sampler", "metropolis",
                                                                               "--link", "cloglog"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.record?["sampler"] as? String == "metropolis")
        #expect(run.record?["link"] as? String == "cloglog")
        let forced = try SamplerOptionCommandTests.fit("sampler-metropolis-forced", ["--sampler", "metropolis"])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(forced.record?["sampler"] as? String == "metropolis")
        #expect(forced.record?["link"] as? String == "logit")
    }

    @Test func gibbsWithCloglogExitsWithTwo() throws {
        let run = try SamplerOptionCommandTests.fit("sampler-gibbs-cloglog", ["--sampler", "gibbs", "--link", "cloglog"])
        #expect(run.status == 2, "\(run.error)")
        #expect(run.error.contains("--sampler: the Gibbs sampler has a data augmentation for the logit and probit "
                                   + "links only"), "\(run.error)")
        #expect(run.record == nil)
        let auto = try SamplerOptionCommandTests.fit("sampler-auto-cloglog", ["--link", "cloglog"])
        #expect(auto.status == 0, "\(auto.error)")
        #expect(auto.record?["sampler"] as? String == "metropolis")
        let bogus = try SamplerOptionCommandTests.fit("sampler-bogus", ["--link", "logistic"])
        #expect(bogus.status == 2, "\(bogus.error)")
        #expect(bogus.error.contains("--link"), "\(bogus.error)")
    }
}
