import Foundation
import Testing
@testable import Diagnostics

/// A number from the fixture file: a JSON number, or one of the strings
/// "NA", "NaN", "Inf", "-Inf" that R's values are written as.
struct FixtureNumber: Decodable, Sendable {
    /// R's value; NaN for NA and NaN alike.
    let value: Double
    /// R's `is.na`: NA or NaN.
    var isNotAvailable: Bool { value.isNaN }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        switch try container.decode(String.self) {
        case "NA", "NaN": value = .nan
        case "Inf": value = .infinity
        case "-Inf": value = -.infinity
        case let other:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unexpected number \(other)")
        }
    }
}

struct FixtureValues: Decodable, Sendable {
    let mean, median, sd, mad: FixtureNumber
    let quantile: [FixtureNumber]
    let rhat, rhat_basic, ess_bulk, ess_tail, ess_basic, ess_mean, ess_sd: FixtureNumber
    let ess_quantile: [FixtureNumber]
    let mcse_mean, mcse_sd: FixtureNumber
    let mcse_quantile: [FixtureNumber]
    let autocorrelation_chain1: [FixtureNumber]
}

struct FixtureNested: Decodable, Sendable {
    let superchains: [Int]
    let value: FixtureNumber
}

struct FixtureCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let iterations: Int
    let chains: Int
    let draws: [[FixtureNumber]]
    let probabilities: [Double]
    let values: FixtureValues
    let summary: [String: FixtureNumber]
    let rhat_nested: FixtureNested?

    var testDescription: String { name }

    func makeDraws() throws -> Draws {
        try Draws(chains: draws.map { $0.map(\.value) })
    }
}

struct FixtureFile: Decodable, Sendable {
    let posterior_version: String
    let cases: [FixtureCase]
    /// R's qbeta: [p, a, b, qbeta(p, a, b)] on the shapes the quantile MCSE meets.
    let qbeta: [[FixtureNumber]]
}

enum Fixtures {
    static let file: FixtureFile = {
        guard let url = Bundle.module.url(forResource: "posterior-fixtures", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let file = try? JSONDecoder().decode(FixtureFile.self, from: data)
        else { return FixtureFile(posterior_version: "missing", cases: [], qbeta: []) }
        return file
    }()

    static var cases: [FixtureCase] { file.cases }
}

/// Agreement to `tolerance` relative (absolute below 1), or both not available.
/// Infinities must match exactly.
func agrees(_ mine: Double?, _ reference: FixtureNumber, tolerance: Double = 1e-10) -> Bool {
    guard let mine else { return reference.isNotAvailable }
    let r = reference.value
    if r.isNaN || mine.isNaN { return false }
    if r.isInfinite || mine.isInfinite { return mine == r }
    return abs(mine - r) <= tolerance * max(abs(r), abs(mine))
}

/// The relative difference, for reporting (0 when both are NA or equal).
func relativeDifference(_ mine: Double?, _ reference: FixtureNumber) -> Double {
    guard let mine, !reference.isNotAvailable else {
        return (mine == nil) == reference.isNotAvailable ? 0 : .infinity
    }
    if mine == reference.value { return 0 }
    return abs(mine - reference.value) / max(abs(reference.value), abs(mine))
}
