import Foundation

// Potential scale reduction factors: Gelman & Rubin (1992), the split and
// rank-normalised versions of Vehtari, Gelman, Simpson, Carpenter & Bürkner
// (2021, Bayesian Analysis 16(2)), and nested R-hat of Margossian,
// Hoffman, Sountsov, Riou-Durand, Vehtari & Gelman (2024). `nil` is
// posterior's NA.

/// R-hat of the matrix as given (posterior's internal `.rhat`):
/// with n iterations and m chains, B = n var(chain means) (denominator
/// m - 1), W = mean of the chain variances (denominator n - 1), and
/// R-hat = sqrt((B/W + n - 1)/n). Not available under the rule of
/// `shouldReturnNotAvailable`, or with fewer than 2 iterations or chains.
/// Chains each constant at different values give W = 0 and R-hat = +Inf in
/// exact arithmetic; like posterior, this returns whatever huge number the
/// rounding of the chain means leaves (and +Inf when W is exactly 0).
func potentialScaleReduction(_ x: Draws) -> Double? {
    let n = x.iterations, m = x.chains
    guard !shouldReturnNotAvailable(x.values), n >= 2, m >= 2 else { return nil }
    var chainMeans = [Double](repeating: 0, count: m)
    var chainVariances = [Double](repeating: 0, count: m)
    for j in 0..<m {
        let chain = x.chain(j)
        chainMeans[j] = RArithmetic.plainMean(chain)
        chainVariances[j] = RArithmetic.centredVariance(chain, centre: chainMeans[j])
    }
    let between = Double(n) * RArithmetic.variance(chainMeans)
    let within = RArithmetic.mean(chainVariances)
    return sqrt((between / within + Double(n) - 1) / Double(n)).available
}

/// Rank-normalised split R-hat (Vehtari et al. 2021, sec. 4.2): the larger
/// of R-hat of the rank-normalised split chains (bulk) and of the
/// rank-normalised split chains of the folded draws |x - median(x)|
/// (tail); not available if either is.
public func rhat(_ draws: Draws) -> Double? {
    guard !containsNaN(draws.values), let fold = folded(draws), !containsNaN(fold.values) else { return nil }
    guard let bulk = potentialScaleReduction(rankNormalizedSplit(draws, values: draws.values, order: ascendingOrder(draws.values))),
          let tail = potentialScaleReduction(rankNormalizedSplit(draws, values: fold.values, order: ascendingOrder(fold.values)))
    else { return nil }
    return max(bulk, tail)
}

/// Basic split R-hat (Gelman et al. 2013, BDA3 sec. 11.4): R-hat of the
/// split chains, or of the chains as they are with `split: false`
/// (posterior's `rhat_basic`).
public func rhatBasic(_ draws: Draws, split: Bool = true) -> Double? {
    potentialScaleReduction(split ? splitChains(draws) : draws)
}

/// Nested R-hat (Margossian et al. 2024, eqs. 4-8) for many short chains
/// grouped into superchains of equal size (chains started from the same
/// point). No splitting, no ranks. For superchain k: B_k = variance of its
/// chain means (0 with one chain per superchain), W_k = mean of its chain
/// variances (0 with one iteration); B_nu = variance of the superchain
/// means, W_nu = mean over k of (W_k + B_k), and
/// R-hat_nu = sqrt(1 + B_nu / W_nu).
///
/// posterior 1.4.0 has no `rhat_nested`; this follows posterior >= 1.5, where it first appeared.
/// Not available under the rule of `shouldReturnNotAvailable` or with a
/// single superchain.
///
/// - Parameter superchains: one label per chain; chains with the same label
///   form a superchain.
/// - Throws: `.superchainLabelCount` or `.unequalSuperchains`.
public func rhatNested<Label: Hashable>(_ draws: Draws, superchains: [Label]) throws(DiagnosticsError) -> Double? {
    guard superchains.count == draws.chains else {
        throw .superchainLabelCount(labels: superchains.count, chains: draws.chains)
    }
    // Superchains in order of first appearance, as R's `unique`.
    var labels: [Label] = []
    var members: [Label: [Int]] = [:]
    for (chain, label) in superchains.enumerated() {
        if members[label] == nil { labels.append(label) }
        members[label, default: []].append(chain)
    }
    let sizes = labels.map { members[$0]!.count }
    guard Set(sizes).count == 1 else { throw .unequalSuperchains(sizes: sizes) }
    guard !shouldReturnNotAvailable(draws.values), labels.count >= 2 else { return nil }

    let n = draws.iterations
    let chainMeans = (0..<draws.chains).map { RArithmetic.plainMean(draws.chain($0)) }
    let chainVariances = (0..<draws.chains).map {
        RArithmetic.centredVariance(draws.chain($0), centre: chainMeans[$0])
    }
    var superchainMeans: [Double] = []
    var within: [Double] = []
    for label in labels {
        let chains = members[label]!
        superchainMeans.append(RArithmetic.mean(chains.flatMap { draws.chain($0) }))
        let betweenChains = chains.count == 1 ? 0 : RArithmetic.variance(chains.map { chainMeans[$0] })
        let withinChains = n == 1 ? 0 : RArithmetic.mean(chains.map { chainVariances[$0] })
        within.append(withinChains + betweenChains)
    }
    let betweenSuperchains = RArithmetic.variance(superchainMeans)
    return sqrt(1 + betweenSuperchains / RArithmetic.mean(within)).available
}
