import Foundation
import Variates

/// Step 2 of the augmented sweep for two nested terms at once: a coarse
/// term (clients, clusters) and a fine term whose levels each sit inside
/// one coarse level (client:stylist pairs, mothers), drawn as one block with
/// both sets of effects integrated out.
///
/// Given (ω, κ) the likelihood of the block is Gaussian. Write a = u_c[g]
/// for coarse level g, v = u_f[m] for a fine level m inside it, and for
/// m's cells Wₘ = Σωᵢ, Sₘ = Σωᵢxᵢ, Tₘ = Σ(κᵢ − ωᵢoᵢ) with o the other
/// terms, Cₘ = Tₘ − Sₘ'β. With s = σ_f and c = σ_c, integrating v ~ N(0, s²)
/// leaves, with Dₘ = 1 + s²Wₘ,
///
///     −½ log Dₘ + s²Cₘ²/(2Dₘ) + a·Cₘ/Dₘ − a²·(Wₘ/Dₘ)/2,
///
/// so that level g sees a Gaussian pseudo-observation of a with
/// W_g = Σₘ Wₘ/Dₘ and C_g = Σₘ Cₘ/Dₘ; integrating a ~ N(0, c²) then adds
/// −½ log E_g + c²C_g²/(2E_g), E_g = 1 + c²W_g. The block draws, each from
/// its conditional with both sets of effects integrated out:
///
/// 1. β ~ N(Q⁻¹b, Q⁻¹), Q = Σωᵢxᵢxᵢ' − Σₘ (s²/Dₘ)SₘSₘ' − Σ_g (c²/E_g)S_gS_g'
///    + prior precision, b likewise with Tₘ and T_g (S_g = Σₘ Sₘ/Dₘ);
/// 2. s by a slice step on log s (both sums depend on s);
/// 3. c by a slice step on log c (only the coarse sum depends on c);
/// 4. a ~ N(c²C_g/E_g, c²/E_g) per coarse level, then v ~ N((Cₘ − Wₘa)/Pₘ,
///    1/Pₘ), Pₘ = Wₘ + 1/s², per fine level.
///
/// This extends the collapsed blocking of Papaspiliopoulos, Roberts &
/// Zanella (2020, Biometrika 107) from one factor to a factor and the
/// factor nested in it: sampling a coarse level's effect and its fine
/// levels' effects in turn crawls where each coarse level has few fine
/// levels (a client with one stylist: only the sum of its client and pair
/// effects is identified), and so do their standard deviations.
struct NestedBlock: Sendable {
    let nesting: Nesting

    /// The nestings drawn as blocks: the coarse term with the fewest fine
    /// levels per coarse level first (where the two are most confounded),
    /// each term in at most one block.
    static func chosen(from nestings: [Nesting], in design: Design) -> [NestedBlock] {
        let terms = design.randomTerms
        let ordered = nestings.sorted {
            Double(terms[$0.fine].levelCount) / Double(terms[$0.coarse].levelCount)
                < Double(terms[$1.fine].levelCount) / Double(terms[$1.coarse].levelCount)
        }
        var used = Set<Int>(), blocks: [NestedBlock] = []
        for nesting in ordered where !used.contains(nesting.fine) && !used.contains(nesting.coarse) {
            used.insert(nesting.fine)
            used.insert(nesting.coarse)
            blocks.append(NestedBlock(nesting: nesting))
        }
        return blocks
    }
}

extension PolyaGammaGibbs {
    /// The block of `NestedBlock` given (ω, κ): β, σ_f, σ_c and both terms'
    /// effects. `random` holds Σₖ uₖ per cell and is kept up to date.
    func nestedBlockStep(_ block: NestedBlock, state s: inout State, random: inout [Double],
                         omega: [Double], kappa: [Double], xwx: [Double], evaluations: inout Int,
                         failure: inout String?, using generator: Generator) {
        let nesting = block.nesting
        let terms = design.randomTerms
        let fineTerm = terms[nesting.fine], coarseTerm = terms[nesting.coarse]
        let fineLevels = fineTerm.levelCount, coarseLevels = coarseTerm.levelCount
        let parent = nesting.parent
        let n = design.cellCount, p = design.fixedCount
        let uf = s.effects[nesting.fine], uc = s.effects[nesting.coarse]

        // Per fine level: Wₘ, Tₘ, Sₘ, over the pseudo-residuals of the
        // other terms.
        var residual = [Double](repeating: 0, count: n)
        var weight = [Double](repeating: 0, count: fineLevels)
        var total = [Double](repeating: 0, count: fineLevels)
        var scaled = [Double](repeating: 0, count: fineLevels * p)
        for i in 0..<n {
            let m = Int(fineTerm.levelOfCell[i])
            let others = random[i] - uf[m] - uc[Int(parent[m])]
            residual[i] = kappa[i] - omega[i] * others
            weight[m] += omega[i]
            total[m] += residual[i]
        }
        fixedRows.accumulate(weights: omega, groupedBy: fineTerm.levelOfCell, into: &scaled)
        let finePattern = fixedPatterns[nesting.fine], coarsePattern = fixedPatterns[nesting.coarse]

        // 1. β with both terms' effects integrated out.
        if p > 0 {
            let s2 = s.standardDeviations[nesting.fine] * s.standardDeviations[nesting.fine]
            let c2 = s.standardDeviations[nesting.coarse] * s.standardDeviations[nesting.coarse]
            var q = xwx
            var b = fixedRows.transposedProduct(residual)
            var coarseWeight = [Double](repeating: 0, count: coarseLevels)
            var coarseTotal = [Double](repeating: 0, count: coarseLevels)
            var coarseScaled = [Double](repeating: 0, count: coarseLevels * p)
            q.withUnsafeMutableBufferPointer { qb in
                scaled.withUnsafeBufferPointer { sb in
                    finePattern.columns.withUnsafeBufferPointer { cb in
                        for m in 0..<fineLevels {
                            let d = 1 + s2 * weight[m], g = Int(parent[m])
                            let f = s2 / d
                            coarseWeight[g] += weight[m] / d
                            coarseTotal[g] += total[m] / d
                            let range = finePattern.offsets[m]..<finePattern.offsets[m + 1]
                            for e in range {
                                let a = Int(cb[e]), sa = sb[m * p + a]
                                coarseScaled[g * p + a] += sa / d
                                b[a] -= f * sa * total[m]
                            }
                            RankOneUpdate.add(weight: -f, vector: sb, offset: m * p, columns: cb, range, to: qb, size: p)
                        }
                    }
                }
                coarseScaled.withUnsafeBufferPointer { sb in
                    coarsePattern.columns.withUnsafeBufferPointer { cb in
                        for g in 0..<coarseLevels {
                            let f = c2 / (1 + c2 * coarseWeight[g])
                            let range = coarsePattern.offsets[g]..<coarsePattern.offsets[g + 1]
                            for e in range {
                                let a = Int(cb[e])
                                b[a] -= f * sb[g * p + a] * coarseTotal[g]
                            }
                            RankOneUpdate.add(weight: -f, vector: sb, offset: g * p, columns: cb, range, to: qb, size: p)
                        }
                    }
                }
            }
            s.coefficients = drawCoefficients(precision: q, linear: b, using: generator, failure: &failure,
                                              integratingOut: "\(coarseTerm.name) and \(fineTerm.name)")
        }

        // Cₘ = Tₘ − Sₘ'β.
        var centred = total
        for m in 0..<fineLevels {
            for e in finePattern.offsets[m]..<finePattern.offsets[m + 1] {
                let a = Int(finePattern.columns[e])
                centred[m] -= scaled[m * p + a] * s.coefficients[a]
            }
        }

        // The fine levels' part of the likelihood of σ_f = v, with each
        // coarse level's W_g and C_g at v left in coarseWeight, coarseCentred.
        var coarseWeight = [Double](repeating: 0, count: coarseLevels)
        var coarseCentred = [Double](repeating: 0, count: coarseLevels)
        func fineLikelihood(at v: Double) -> Double {
            let v2 = v * v
            var logs = LogOfProduct(), quadratic = 0.0
            coarseWeight.withUnsafeMutableBufferPointer { cw in
                coarseCentred.withUnsafeMutableBufferPointer { cc in
                    weight.withUnsafeBufferPointer { w in
                        centred.withUnsafeBufferPointer { fc in
                            parent.withUnsafeBufferPointer { up in
                                cw.update(repeating: 0)
                                cc.update(repeating: 0)
                                for m in w.indices {
                                    let d = 1 + v2 * w[m], g = Int(up[m])
                                    logs.multiply(by: d)
                                    quadratic += fc[m] * fc[m] / d
                                    cw[g] += w[m] / d
                                    cc[g] += fc[m] / d
                                }
                            }
                        }
                    }
                }
            }
            return -0.5 * logs.value + 0.5 * v2 * quadratic
        }

        // 2. σ_f: both sums depend on it.
        let c = s.standardDeviations[nesting.coarse]
        s.standardDeviations[nesting.fine] = PolyaGammaGibbs.sliceScale(
            from: s.standardDeviations[nesting.fine], prior: scalePriors[nesting.fine], evaluations: &evaluations,
            logLikelihood: { v in
                fineLikelihood(at: v)
                    + PolyaGammaGibbs.collapsedLogLikelihood(c, weight: coarseWeight, centred: coarseCentred)
            }, using: generator)
        let s2 = s.standardDeviations[nesting.fine] * s.standardDeviations[nesting.fine]
        _ = fineLikelihood(at: s.standardDeviations[nesting.fine])      // W_g and C_g at the new σ_f

        // 3. σ_c: only the coarse sum depends on it.
        s.standardDeviations[nesting.coarse] = PolyaGammaGibbs.sliceScale(
            from: c, prior: scalePriors[nesting.coarse], evaluations: &evaluations,
            logLikelihood: { [coarseWeight, coarseCentred] v in
                PolyaGammaGibbs.collapsedLogLikelihood(v, weight: coarseWeight, centred: coarseCentred)
            }, using: generator)

        // 4. The effects: each coarse level's, then its fine levels' given it.
        let coarsePrecision = 1 / (s.standardDeviations[nesting.coarse] * s.standardDeviations[nesting.coarse])
        var newCoarse = [Double](repeating: 0, count: coarseLevels)
        for g in 0..<coarseLevels {
            let precision = coarseWeight[g] + coarsePrecision
            newCoarse[g] = coarseCentred[g] / precision + generator.normal() / precision.squareRoot()
        }
        let finePrecision = 1 / s2
        var newFine = [Double](repeating: 0, count: fineLevels)
        for m in 0..<fineLevels {
            let precision = weight[m] + finePrecision
            newFine[m] = (centred[m] - weight[m] * newCoarse[Int(parent[m])]) / precision
                + generator.normal() / precision.squareRoot()
        }
        for i in 0..<n {
            let m = Int(fineTerm.levelOfCell[i])
            random[i] += newFine[m] - uf[m] + newCoarse[Int(parent[m])] - uc[Int(parent[m])]
        }
        s.effects[nesting.fine] = newFine
        s.effects[nesting.coarse] = newCoarse
    }
}
