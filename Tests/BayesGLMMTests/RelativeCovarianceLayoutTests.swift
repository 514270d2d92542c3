import Foundation
import Testing
@testable import BayesGLMM

/// The layout of θ and of the relative covariance factor Λ (b = Λu) against
/// lme4's `glFormula(...)$reTrms` for every formula of
/// `Fixtures/formula/random_terms.json` (Validation/design/random_terms.R):
/// the number of θ entries, the initial θ and which entries are diagonal
/// (lme4's lower bound 0), and Λ's nonzero pattern with the θ index of each
/// nonzero (lme4's `Lambdat`, transposed, with `Lind`).
///
/// lme4 orders its terms by decreasing number of levels, ours follow the
/// formula; so lme4's positions in b and its θ indices are first mapped to
/// ours — terms matched by grouping factors and columns (`cnms`), levels by
/// name (factor by factor, as lme4 names `a/b`'s inner term `b:a`), θ
/// block by block (each term's lower triangle column by column, in both) —
/// and the mapped pattern must then equal ours exactly, as a set of
/// (row, column, θ) triples.
///
/// Λ repeats the same block for every level of a term, so its pattern
/// cannot tell the order of a term's levels: the level mapping is only
/// checked to be a bijection by name. (It is not the identity for `a/b`:
/// lme4's `b:a` levels run "u:p", "u:q", …, with b slowest; ours, `a:b`,
/// "p:u", "p:v", … with a slowest.)
@Suite struct RelativeCovarianceLayoutAgreesWithLME4 {
    struct Fixture: Decodable {
        struct Layout: Decodable {
            struct Term: Decodable {
                /// The cnms name: the grouping factor, "b:a" for a/b's inner term.
                var grouping: String
                var columns: [String]
                /// The term's factor in flist, its number of levels, its
                /// offset in b (Gp) and its levels in lme4's order.
                var flist: String
                var nl: Int
                var offset: Int
                var levels: [String]
            }
            struct Pattern: Decodable {
                /// 0-based rows and columns of Lambdat's nonzeros, in its
                /// compressed-column order.
                var i: [Int]
                var j: [Int]
            }
            var dim: [Int]
            /// 1-based θ index of each nonzero of Lambdat, in the same order.
            var Lind: [Int]
            var Lambdat: Pattern
            var theta: [Double]
            /// 0 for diagonal entries, null for -Inf.
            var lower: [Double?]
            var Gp: [Int]
            var terms: [Term]
        }
        struct Case: Decodable {
            var formula: String
            var theta: Int
            var reTrms: Layout
        }
        var cases: [Case]
    }

    struct Triple: Hashable, Comparable, CustomStringConvertible {
        var row: Int, column: Int, theta: Int
        var description: String { "(\(row), \(column), θ\(theta))" }
        static func < (a: Triple, b: Triple) -> Bool {
            (a.row, a.column, a.theta) < (b.row, b.column, b.theta)
        }
    }

    static let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        .appendingPathComponent("formula")

    @Test func thetaAndLambdaLayoutMatchGLFormula() throws {
        let url = RelativeCovarianceLayoutAgreesWithLME4.directory.appendingPathComponent("random_terms.json")
        let cases = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).cases
        let frame = try Frame.read(csvFile: RelativeCovarianceLayoutAgreesWithLME4.directory
            .appendingPathComponent("random_terms.csv").path)
        #expect(cases.count >= 20)
        var compared = 0, offDiagonalCases = 0, reorderedCases = 0, relabelledLevels = 0, checkedCases = 0
        for example in cases {
            let lme4 = example.reTrms
            let design = try Design(formula: try ModelFormula.parse(example.formula), frame: frame,
                                    options: DesignOptions(), admittingSlopes: true)
            guard !design.randomTerms.isEmpty else { continue }
            let laplace = try LaplaceApproximation(design: design)
            let terms = design.randomTerms, context = example.formula
            checkedCases += 1

            // The fixture is self-consistent.
            #expect(lme4.theta.count == example.theta, "\(context)")
            #expect(lme4.lower.count == lme4.theta.count && lme4.terms.count + 1 == lme4.Gp.count, "\(context)")
            #expect(lme4.Lind.count == lme4.Lambdat.i.count && lme4.Lind.count == lme4.Lambdat.j.count,
                    "\(context)")

            // Our offsets in b (u) and first θ index of each term, in formula order.
            var offsets: [Int] = [], firstTheta: [Int] = []
            var size = 0, thetas = 0
            for term in terms {
                offsets.append(size); firstTheta.append(thetas)
                size += term.levelCount * term.dimension
                thetas += term.dimension * (term.dimension + 1) / 2
            }
            #expect(lme4.dim == [size, size], "\(context): Lambdat is \(lme4.dim), ours \(size)")
            #expect(laplace.thetaCount == lme4.theta.count, "\(context)")
            #expect(laplace.thetaCount == thetas, "\(context)")

            // Match lme4's terms with ours: the same grouping factors and columns.
            var ourTermOf: [Int] = []   // lme4 term -> ours
            var taken = Set<Int>()
            for (k, theirs) in lme4.terms.enumerated() {
                let factors = Set(theirs.grouping.split(separator: ":").map(String.init))
                #expect(theirs.flist == theirs.grouping, "\(context)")
                guard let ours = terms.indices.first(where: {
                    !taken.contains($0) && Set(terms[$0].factors) == factors && terms[$0].columns == theirs.columns
                }) else {
                    Issue.record("\(context): no term of ours for lme4's \(theirs.grouping) \(theirs.columns)")
                    ourTermOf.append(-1)
                    continue
                }
                taken.insert(ours)
                ourTermOf.append(ours)
                #expect(terms[ours].levelCount == theirs.nl && theirs.levels.count == theirs.nl, "\(context)")
                #expect(lme4.Gp[k] == theirs.offset && lme4.Gp[k + 1] - lme4.Gp[k] == theirs.nl * theirs.columns.count,
                        "\(context)")
            }
            #expect(taken.count == terms.count, "\(context): terms of ours left over")
            guard !ourTermOf.contains(-1), taken.count == terms.count else { continue }
            if ourTermOf != Array(terms.indices) { reorderedCases += 1 }

            // Levels by name: lme4's "u:p" of "b:a" is ours "p:u" of "a:b".
            var ourLevelOf: [[Int]] = []   // lme4 term, lme4 level -> our level
            for (k, theirs) in lme4.terms.enumerated() {
                let term = terms[ourTermOf[k]]
                let factors = theirs.grouping.split(separator: ":").map(String.init)
                var index: [String: Int] = [:]
                for (l, name) in term.levels.enumerated() { index[name] = l }
                var map: [Int] = []
                for name in theirs.levels {
                    let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                    var value: [String: String] = [:]
                    for (factor, part) in zip(factors, parts) { value[factor] = part }
                    let ours = parts.count == factors.count
                        ? term.factors.map { value[$0] ?? "?" }.joined(separator: ":") : name
                    guard let l = index[ours] else {
                        Issue.record("\(context): lme4's level \(name) of \(theirs.grouping) is not one of ours")
                        map.append(-1)
                        continue
                    }
                    map.append(l)
                }
                #expect(Set(map).count == map.count && map.count == term.levelCount, "\(context): \(theirs.grouping)")
                if map != Array(0..<map.count) { relabelledLevels += 1 }
                ourLevelOf.append(map)
            }
            guard !ourLevelOf.joined().contains(-1) else { continue }

            // lme4's position in b -> ours: term k's block at Gp[k], level-major.
            var ourPosition = [Int](repeating: -1, count: size)
            for (k, theirs) in lme4.terms.enumerated() {
                let q = theirs.columns.count, ours = ourTermOf[k]
                for l in 0..<theirs.nl {
                    for c in 0..<q {
                        ourPosition[theirs.offset + l * q + c] = offsets[ours] + ourLevelOf[k][l] * q + c
                    }
                }
            }
            #expect(Set(ourPosition).count == size && !ourPosition.contains(-1), "\(context): b not a permutation")

            // lme4's θ index -> ours: term by term, each lower triangle column by column.
            var ourTheta: [Int] = [], lme4Theta = 0
            for (k, theirs) in lme4.terms.enumerated() {
                let q = theirs.columns.count
                for m in 0..<(q * (q + 1) / 2) { ourTheta.append(firstTheta[ourTermOf[k]] + m) }
                lme4Theta += q * (q + 1) / 2
            }
            #expect(lme4Theta == lme4.theta.count, "\(context)")
            #expect(Set(ourTheta) == Set(0..<laplace.thetaCount) && ourTheta.count == laplace.thetaCount,
                    "\(context): θ not a permutation")
            guard ourTheta.count == lme4.theta.count else { continue }

            // Initial θ and which entries are diagonal (lower bound 0, else -Inf).
            var initial = [Double](repeating: .nan, count: laplace.thetaCount)
            var diagonal = [Bool](repeating: false, count: laplace.thetaCount)
            for t in lme4.theta.indices {
                initial[ourTheta[t]] = lme4.theta[t]
                diagonal[ourTheta[t]] = lme4.lower[t] == 0
                if lme4.lower[t] != 0 { #expect(lme4.lower[t] == nil, "\(context): lower[\(t)]") }
            }
            #expect(laplace.initialTheta == initial, "\(context): initial θ")
            #expect(laplace.thetaIsDiagonal == diagonal, "\(context): diagonal θ")
            if diagonal.contains(false) { offDiagonalCases += 1 }

            // Λ's pattern: lme4's Lambdat (i, j) with Lind t is Λ's (j, i), θ t − 1.
            let theirs = zip(zip(lme4.Lambdat.i, lme4.Lambdat.j), lme4.Lind).map { entry, t in
                Triple(row: ourPosition[entry.1], column: ourPosition[entry.0], theta: ourTheta[t - 1])
            }
            let ours = laplace.relativeCovarianceFactorPattern().map {
                Triple(row: $0.row, column: $0.column, theta: $0.theta)
            }
            #expect(!ours.isEmpty && ours.count == theirs.count, "\(context): \(ours.count) vs \(theirs.count) nonzeros")
            #expect(Set(ours).count == ours.count && Set(theirs).count == theirs.count, "\(context): repeated entries")
            let missing = Set(theirs).subtracting(ours), extra = Set(ours).subtracting(theirs)
            #expect(missing.isEmpty && extra.isEmpty,
                    "\(context): lme4's not ours \(missing.sorted().prefix(5)), ours not lme4's \(extra.sorted().prefix(5))")
            // Λ is lower triangular, and each lme4 θ index lands on one of ours only.
            #expect(ours.allSatisfy { $0.row >= $0.column }, "\(context): Λ not lower triangular")
            var thetaOf: [Int: Set<Int>] = [:]
            for (entry, t) in zip(theirs, lme4.Lind) { thetaOf[t - 1, default: []].insert(entry.theta) }
            #expect(thetaOf.count == lme4.theta.count && thetaOf.values.allSatisfy { $0.count == 1 }, "\(context)")
            compared += ours.count
        }
        #expect(checkedCases == cases.count)
        #expect(offDiagonalCases >= 10, "\(offDiagonalCases) cases with off-diagonal θ")
        #expect(reorderedCases >= 3, "\(reorderedCases) cases whose terms lme4 reorders")
        #expect(compared == 535, "\(compared) nonzeros of Λ compared; levels relabelled in \(relabelledLevels) terms")
    }
}
