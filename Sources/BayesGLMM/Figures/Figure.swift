import Diagnostics
import Drawing
import Foundation

/// A figure of a fit and the data behind it: the chart (drawn as SVG by
/// the Drawing module) and one table with a row per plotted item (written
/// as CSV beside the SVG), so that every number in the picture can be read
/// or re-plotted elsewhere. Builders turn statistics into marks; they never
/// read or write files.
public struct Figure: Sendable {
    /// The kinds of figure `bayesglmm plot` draws.
    public enum Kind: String, CaseIterable, Sendable {
        case trace, rank, density, caterpillar, shrinkage, sd, calibration, ppc
    }

    /// The chart, its caption without `note`.
    let drawing: Chart
    /// The caption's last sentence when it names a setting (caterpillar's
    /// "… (maxLevels) to change"), kept apart so that a front end names the
    /// setting as its user sets it (`chart(naming:)`, `svg(naming:)`).
    public let note: Wording?
    public let header: [String]
    public let rows: [[String]]

    public init(chart: Chart, note: Wording? = nil, header: [String], rows: [[String]]) {
        precondition(rows.allSatisfy { $0.count == header.count }, "one field per column")
        self.drawing = chart; self.note = note; self.header = header; self.rows = rows
    }

    /// The chart, the settings of its caption's note in the library's words.
    public var chart: Chart { chart(naming: \.description) }

    /// The chart, the settings of its caption's note named by `name`.
    public func chart(naming name: (Setting) -> String) -> Chart {
        guard let note else { return drawing }
        var chart = drawing
        chart.caption = [chart.caption, note.rendered(naming: name)].compactMap { $0 }.joined(separator: " ")
        return chart
    }

    public var svg: String { chart.svg() }

    /// The SVG, the settings of the caption's note named by `name`.
    public func svg(naming name: (Setting) -> String) -> String { chart(naming: name).svg() }
    /// The table as RFC 4180 CSV; numbers in Swift's shortest form that
    /// reads back exactly, "NA" where a value is not available.
    public var csv: String { Comparison.csv(header: header, rows: rows) }

    /// Numbers as CSV fields.
    static func fields(_ values: [Double?]) -> [String] { Comparison.fields(values) }

    /// The variables a figure shows when none are given: the
    /// intercept (if the model has one) and the standard deviations (and
    /// correlations) of every random term.
    public static func defaultVariables(_ run: RunDirectory) -> [String] {
        run.fixedNames.filter { $0 == "(Intercept)" } + run.terms.flatMap(\.covarianceNames)
    }

    /// The draws of the named parameters (all chains, the completed draws).
    /// Throws `InputError` in the setting "variables" for a name the run has
    /// no draws of, listing some names it has.
    static func draws(_ run: RunDirectory, _ names: [String]) throws(InputError) -> [Draws] {
        var indices: [Int] = []
        for name in names {
            guard let index = run.parameterIndex(name) else {
                let known = run.parameterNames.prefix(8).joined(separator: ", ")
                    + (run.parameterNames.count > 8 ? ", …" : "")
                throw InputError(.badOption, "the run has no draws of \"\(name)\" (it has \(known))",
                                 file: run.path, setting: "variables")
            }
            indices.append(index)
        }
        guard !indices.isEmpty else { throw InputError(.badOption, "no variable given", setting: "variables") }
        return try run.store.draws(of: indices, first: run.drawsPerChain)
    }

    /// The random term named `name`; throws in the setting "term", listing the terms.
    public static func term(_ run: RunDirectory, _ name: String?) throws(InputError) -> RunDirectory.Term {
        let names = run.terms.map(\.name).joined(separator: ", ")
        guard let name else {
            throw InputError(.badOption, "give the random term to show (one of \(names))", setting: "term")
        }
        guard let term = run.terms.first(where: { $0.name == name }) else {
            throw InputError(.badOption, "the fit has no random term \"\(name)\" (its terms: \(names))",
                             file: run.path, setting: "term")
        }
        return term
    }

    /// The EB estimate of a parameter by its store name: a fixed effect, an
    /// SD `sd(term)` or `sd(term)[c]`, a correlation `cor(term)[a][b]` or an
    /// effect `r(term)[level]` or `r(term)[level][c]` (its conditional mode).
    static func estimate(_ eb: EmpiricalBayesReport, of name: String) -> Double? {
        if let fixed = eb.fixed.first(where: { $0.name == name }) { return fixed.estimate }
        if let sd = eb.sd.first(where: { $0.parameterName == name }) { return sd.estimate }
        if let correlation = eb.correlations?.first(where: { $0.parameterName == name }) { return correlation.estimate }
        return eb.effects.first { $0.parameterName == name }?.mode
    }

    /// "4 chains × 1000 draws"; for a run that did not complete, which
    /// chains: "chains 1 and 2 × 1000 draws of an interrupted run".
    static func drawsText(_ run: RunDirectory) -> String {
        let count = "\(run.store.chains) chain\(run.store.chains == 1 ? "" : "s") × \(run.drawsPerChain) draws"
        guard run.manifest.status != .complete else { return count }
        let numbers = run.chainNumbers.map(String.init)
        let chains = numbers.count == 1 ? "chain \(numbers[0])"
            : "chains " + numbers.dropLast().joined(separator: ", ") + " and " + numbers.last!
        return "\(chains) × \(run.drawsPerChain) draws of \(run.manifest.status == .failed ? "a failed" : "an interrupted") run"
    }
}
