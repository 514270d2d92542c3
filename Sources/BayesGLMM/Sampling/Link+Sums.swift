import CVectorMath

extension Link {
    /// Σᵢ ℓ(ηᵢ) over the cells (`logLikelihood(successes:trials:linearPredictor:)`
    /// of each), a cell with no trials adding nothing. For the logit the
    /// exponentials and logarithms are taken four at a time by glibc's vector
    /// math library (`CVectorMath`): a slice step on a standard deviation
    /// evaluates this sum over every cell several times, and one
    /// exp and one log1p per cell were half of a rare-event sweep. The
    /// vector functions are within 4 ulp of the scalar ones, so the sum is
    /// the scalar sum to within about 10⁻¹⁵ per cell.
    func logLikelihood(successes y: [Double], trials n: [Double], linearPredictors eta: [Double]) -> Double {
        precondition(y.count == eta.count && n.count == eta.count)
        switch self {
        case .logit:
            return eta.withUnsafeBufferPointer { e in
                y.withUnsafeBufferPointer { s in
                    n.withUnsafeBufferPointer { t in
                        vector_logit_log_likelihood(e.baseAddress, s.baseAddress, t.baseAddress, eta.count)
                    }
                }
            }
        case .probit, .cloglog:
            var sum = 0.0
            for i in eta.indices where n[i] > 0 {
                sum += logLikelihood(successes: y[i], trials: n[i], linearPredictor: eta[i])
            }
            return sum
        }
    }
}

extension Link {
    /// ℓ(ηᵢ), ℓ′(ηᵢ) and the Fisher information of every cell
    /// (`logLikelihoodScoreAndInformation` of each), written to the three
    /// arrays (each as long as `eta`); for the logit four cells at a time
    /// (`CVectorMath`), as `logLikelihood(successes:trials:linearPredictors:)`.
    func cells(successes y: [Double], trials n: [Double], linearPredictors eta: [Double],
               logLikelihood value: inout [Double], score: inout [Double], information: inout [Double]) {
        let count = eta.count
        precondition(y.count == count && n.count == count && value.count == count
                     && score.count == count && information.count == count)
        switch self {
        case .logit:
            eta.withUnsafeBufferPointer { e in
                y.withUnsafeBufferPointer { s in
                    n.withUnsafeBufferPointer { t in
                        value.withUnsafeMutableBufferPointer { v in
                            score.withUnsafeMutableBufferPointer { g in
                                information.withUnsafeMutableBufferPointer { h in
                                    vector_logit_cells(e.baseAddress, s.baseAddress, t.baseAddress, count,
                                                       v.baseAddress, g.baseAddress, h.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        case .probit, .cloglog:
            for i in 0..<count {
                guard n[i] > 0 else { (value[i], score[i], information[i]) = (0, 0, 0); continue }
                (value[i], score[i], information[i]) =
                    logLikelihoodScoreAndInformation(successes: y[i], trials: n[i], linearPredictor: eta[i])
            }
        }
    }
}
