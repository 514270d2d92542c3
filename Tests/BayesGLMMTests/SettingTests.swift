import Foundation
import Testing
@testable import BayesGLMM

/// The library names its settings by their library names ("missing",
/// "rankBy"), in `InputError.setting`, in advice and in figures' notes, and
/// never by a front end's flags: the command-line tool renders the flags
/// (CommandTests' `settingsAreNamedByTheirFlags`).
@Suite struct SettingTests {
    /// The error `body` throws, which must be an `InputError` that names no flag.
    static func error(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> InputError? {
        do {
            try body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as InputError {
            #expect(!error.description.contains("--"), "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("not an InputError: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// A front end's names, unlike the library's words, so that a test sees which one was used.
    static func angled(_ setting: Setting) -> String {
        "<\(setting.name)" + (setting.value.map { " \($0)" } ?? "") + ">"
    }

    @Test func wordingKeepsTheSettingsApartFromTheWords() {
        let count = 3
        let advice: Wording = "drop the \(count) rows with \(setting: "missing", value: "drop") or fix them"
        #expect(advice.settings == [Setting("missing", value: "drop")])
        #expect(advice.description == "drop the 3 rows with the setting 'missing' = drop or fix them")
        #expect(advice.rendered(naming: SettingTests.angled) == "drop the 3 rows with <missing drop> or fix them")
        // Joined texts are the text written at once.
        let joined: Wording = "give \(setting: "levels") " + "to order \(setting: "rankBy") groups"
        #expect(joined == "give \(setting: "levels") to order \(setting: "rankBy") groups")
        #expect(joined.parts.count == 5)
    }

    @Test func anErrorNamesItsSettingAndItsAdviceAsTheFrontEndSays() {
        let error = InputError(.missingValues, "missing value", file: "d.csv", line: 3, column: "y", setting: "data",
                               advice: "drop them with \(setting: "missing", value: "drop")")
        #expect(error.description == "the setting 'data', d.csv, line 3, column \"y\": missing value; "
                    + "drop them with the setting 'missing' = drop")
        #expect(error.described(naming: SettingTests.angled) == "<data>, d.csv, line 3, column \"y\": missing value; "
                    + "drop them with <missing drop>")
        #expect(InputError(.emptyData, "no rows").described(naming: SettingTests.angled) == "no rows")
    }

    @Test func designErrorsNameTheirSettings() {
        let frame = DesignTests.frame([("y", ["1", "NA", "0", "1", "0"]), ("g", ["a", "b", "a", "b", "a"]),
                                       ("x", ["1", "2", "3", "abc", "5"]), ("n", ["2", "2", "1", "2", "2"]),
                                       ("f", ["1", "0", "1", "0", "1"])])
        let missing = SettingTests.error {
            _ = try Design(formula: DesignTests.formula("f", random: [["g"]]),
                           frame: DesignTests.frame([("f", ["1", "NA"]), ("g", ["a", "b"])]),
                           options: DesignOptions(missing: .fail))
        }
        #expect(missing?.advice?.settings == [Setting("missing", value: "drop")])
        let unused = SettingTests.error {
            _ = try Design(formula: DesignTests.formula("f", random: [["g"]]), frame: frame,
                           options: DesignOptions(levels: ["x": ["1"]]))
        }
        #expect(unused?.setting == "levels" && unused?.column == "x")
        let typo = SettingTests.error {
            _ = try Design(formula: DesignTests.formula("f", fixed: [["x"]], random: [["g"]]), frame: frame)
        }
        #expect(typo?.kind == .nonNumeric && typo?.advice?.settings == [Setting("levels", value: "x=…")])
        let counts = SettingTests.error {
            _ = try Design(formula: DesignTests.formula("n", random: [["g"]]), frame: frame,
                           options: DesignOptions(missing: .drop))
        }
        #expect(counts?.kind == .notBinary && counts?.advice?.settings == [Setting("trials"), Setting("weights")])
        let unlisted = SettingTests.error {
            _ = try Design(formula: DesignTests.formula("f", fixed: [["g"]]), frame: frame,
                           options: DesignOptions(levels: ["g": ["a"]]))
        }
        #expect(unlisted?.setting == "levels" && unlisted?.column == "g")
    }

    @Test func simulationSettingsAreNamedByTheirProperties() {
        var simulation = Simulation()
        simulation.clients = 1
        #expect(SettingTests.error { try simulation.validate() }?.setting == "clients")
        simulation = Simulation()
        simulation.intercept = .nan
        #expect(SettingTests.error { try simulation.validate() }?.setting == "intercept")
        simulation = Simulation()
        simulation.coefficients = [0.5, .infinity]
        #expect(SettingTests.error { try simulation.validate() }?.setting == "coefficients")
    }

    @Test func scoringSettingsAreNamed() throws {
        let scoring = try Scoring(path: ScoringTests.Run().writeRandom())
        let candidates = try ScoringTests.candidates(ScoringTests.ranked, scoring)
        let rankBy = SettingTests.error { _ = try scoring.score(candidates, options: Scoring.Options(rankBy: "x")) }
        #expect(rankBy?.setting == "rankBy" && rankBy?.message.contains("x is not a grouping factor") == true)
        let threshold = SettingTests.error {
            _ = try scoring.score(candidates, options: Scoring.Options(threshold: 1.5))
        }
        #expect(threshold?.setting == "threshold")
        let thompson = SettingTests.error {
            _ = try scoring.score(candidates, options: Scoring.Options(thompson: true))
        }
        #expect(thompson?.setting == "thompson"
                && thompson?.advice?.settings == [Setting("rankBy"), Setting("rankBy", value: "client")])
        var run = ScoringTests.Run()
        run.omitted = ["sd(stylist)"]
        let path = try run.writeRandom()
        let unsaved = SettingTests.error { _ = try Scoring(path: path) }
        #expect(unsaved?.advice?.settings == [Setting("save", value: "all"), Setting("save", value: "sd")])
    }

    @Test func figureSettingsAreNamedAndTheirNotesRenderedByTheFrontEnd() throws {
        let run = try FiguresTests.run()
        #expect(SettingTests.error { _ = try Figure.density(run, variable: "sd(nothing)", eb: nil) }?.setting
                == "variables")
        #expect(SettingTests.error { _ = try Figure.term(run, "nothing") }?.setting == "term")
        #expect(SettingTests.error {
            _ = try Figure.shrinkage(run, term: "g", eb: ComparisonTests.report(effects: []), ebPath: "eb.json")
        }?.setting == "eb")
        // The caption of a capped caterpillar names the setting that caps it.
        let capped = try Figure.caterpillar(run, term: "g", maxLevels: 2)
        #expect(capped.note?.settings == [Setting("maxLevels")])
        let caption = try #require(capped.chart.caption)
        #expect(caption.contains("Showing 2 of 3 levels") && caption.contains("the setting 'maxLevels' to change")
                && !caption.contains("--"))
        let named = try #require(capped.chart(naming: SettingTests.angled).caption)
        #expect(named.contains("included; <maxLevels> to change)."))
        #expect(capped.svg(naming: SettingTests.angled).contains("&lt;maxLevels&gt; to change"))
        // Uncapped, the caption has no note.
        #expect(try Figure.caterpillar(run, term: "g").note == nil)
    }
}
