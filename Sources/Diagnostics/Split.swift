/// Split chains (Vehtari et al. 2021, sec. 4.1): each chain's first and
/// second halves become separate chains, so that a trend within a chain
/// shows up as disagreement between chains.
///
/// With n iterations the first half is rows 1...floor(n/2) and the second
/// rows ceil(n/2 + 1)...n (1-based), so with odd n the middle draw is
/// dropped. The result has 2m chains of floor(n/2): the first halves of
/// chains 1...m, then the second halves (the column order of posterior's
/// `.split_chains`). A single iteration is returned unchanged.
///
/// With 2 or 3 iterations and several chains, R's `posterior` (1.4.0 to at
/// least 1.7.1) loses the matrix shape when splitting (`x[1, ]` drops to a
/// vector) and ends up treating chains as iterations; here the split has
/// one iteration per chain, so R-hat and ESS are "not available" there, as
/// the specification says (shared/docs/diagnostics-spec.md).
public func splitChains(_ draws: Draws) -> Draws {
    let n = draws.iterations
    guard n > 1 else { return draws }
    let half = Double(n) / 2
    let length = Int(half.rounded(.down))
    let secondStart = Int((half + 1).rounded(.up)) - 1
    var out = [Double]()
    out.reserveCapacity(2 * draws.chains * length)
    draws.values.withUnsafeBufferPointer { v in
        for j in 0..<draws.chains { out.append(contentsOf: v[(j * n)..<(j * n + length)]) }
        for j in 0..<draws.chains { out.append(contentsOf: v[(j * n + secondStart)..<(j * n + n)]) }
    }
    return Draws(unchecked: out, iterations: length, chains: 2 * draws.chains)
}
