import CGSL
import Foundation

/// The arithmetic of `TrainedTransform`: its constants from the training
/// values, and its columns at any values given those constants — as R's
/// `scale`, `poly` (with `predict.poly`) and `splines::ns` (with
/// `predict.ns`) compute them.
extension TrainedTransform {
    /// The constants from the training values (missing values, NaN, left
    /// out as R's `scale` and `ns` leave them out; `poly` refuses them
    /// before this), or why there are none.
    func constants(from all: [Double]) -> Result<TransformConstants, TransformFailure> {
        let values = all.filter { !$0.isNaN }
        guard !values.isEmpty else { return .failure(.init("\(text) has no values to be computed from")) }
        switch kind {
        case .scale:
            // R's scale.default: the mean, then sqrt(Σ(x − mean)²/max(1, n − 1)).
            let center = values.reduce(0, +) / Double(values.count)
            let squares = values.reduce(0) { $0 + ($1 - center) * ($1 - center) }
            let scale = (squares / Double(max(1, values.count - 1))).squareRoot()
            guard scale > 0 else {
                return .failure(.init("\(text) divides by the SD of \(argument.text), which is 0 (the same value on "
                                      + "every row)"))
            }
            return .success(TransformConstants(center: center, scale: scale))
        case let .polynomial(degree, raw):
            let distinct = Set(values).count
            guard degree < distinct else {
                return .failure(.init("\(text) needs a degree below the number of distinct values of "
                                      + "\(argument.text) (\(distinct)), as R's poly"))
            }
            if raw { return .success(TransformConstants()) }
            // The three-term recurrence of the polynomials orthogonal over
            // the values (Stieltjes), which is what R's QR construction
            // gives: Z₀ = 1, Z₁ = x − α₀, Zⱼ₊₁ = (x − αⱼ)Zⱼ − (‖Zⱼ‖²/‖Zⱼ₋₁‖²)Zⱼ₋₁,
            // αⱼ = Σ x Zⱼ²/‖Zⱼ‖².
            var alpha: [Double] = [], norm2: [Double] = [1]
            var previous = [Double](repeating: 0, count: values.count)
            var current = [Double](repeating: 1, count: values.count)
            for j in 0...degree {
                var squares = 0.0, weighted = 0.0
                for (i, x) in values.enumerated() {
                    let z2 = current[i] * current[i]
                    squares += z2
                    weighted += x * z2
                }
                norm2.append(squares)
                guard j < degree else { break }
                let a = weighted / squares
                alpha.append(a)
                let ratio = j == 0 ? 0 : squares / norm2[j]
                for i in values.indices {
                    let next = (values[i] - a) * current[i] - ratio * previous[i]
                    previous[i] = current[i]
                    current[i] = next
                }
            }
            return .success(TransformConstants(alpha: alpha, norm2: norm2))
        case let .naturalSpline(df):
            // splines::ns: df − 1 interior knots at the quantiles (R's type 7)
            // j/df of x, boundary knots at its range.
            let sorted = values.sorted()
            guard sorted.first! < sorted.last! else {
                return .failure(.init("\(text) needs more than one distinct value of \(argument.text)"))
            }
            let knots = (1..<df).map { j in
                sorted.withUnsafeBufferPointer { gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count,
                                                                                     Double(j) / Double(df)) }
            }
            return .success(TransformConstants(knots: knots, boundary: [sorted.first!, sorted.last!]))
        }
    }

    /// The transform's columns at `values` (NaN where a value is missing),
    /// with the training `constants`.
    func columns(at values: [Double], constants: TransformConstants) -> [[Double]] {
        switch kind {
        case .scale:
            let center = constants.center ?? .nan, scale = constants.scale ?? .nan
            return [values.map { ($0 - center) / scale }]
        case let .polynomial(degree, raw):
            if raw { return (1...degree).map { p in values.map { FormulaExpression.power($0, Double(p)) } } }
            // R's predict.poly: the recurrence with the training α and norms.
            let alpha = constants.alpha ?? [], norm2 = constants.norm2 ?? []
            guard alpha.count == degree, norm2.count == degree + 2 else {
                return [[Double]](repeating: [Double](repeating: .nan, count: values.count), count: degree)
            }
            var columns = [[Double]](repeating: [Double](repeating: 0, count: values.count), count: degree)
            for (i, x) in values.enumerated() {
                var previous = 1.0, current = x - alpha[0]
                columns[0][i] = current / norm2[2].squareRoot()
                for j in 1..<max(degree, 1) where j < degree {
                    let next = (x - alpha[j]) * current - (norm2[j + 1] / norm2[j]) * previous
                    previous = current
                    current = next
                    columns[j][i] = current / norm2[j + 2].squareRoot()
                }
            }
            return columns
        case let .naturalSpline(df):
            return NaturalSpline(knots: constants.knots ?? [], boundary: constants.boundary ?? [])?
                .basis(at: values, df: df)
                ?? [[Double]](repeating: [Double](repeating: .nan, count: values.count), count: df)
        }
    }
}

/// Why a transform's constants cannot be computed.
struct TransformFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The basis of `splines::ns` without the intercept: the cubic B-splines
/// on the knots (boundary knots four-fold), the first dropped, projected on
/// the null space of their second derivatives at the boundary knots —
/// (QᵀBᵀ)ᵀ without its first two columns, Q from the QR decomposition of
/// the constraints' transpose (Householder, as R's LINPACK `qr`). Outside
/// the boundary knots the basis continues linearly from its value and
/// slope there (R's `predict.ns`).
struct NaturalSpline {
    let breakpoints: [Double]
    /// The B-spline basis' size (interior knots + 4).
    let size: Int
    /// Q (size − 1 square, row-major): columns 2… span the natural splines.
    let q: [Double]

    init?(knots: [Double], boundary: [Double]) {
        guard boundary.count == 2, boundary[0] < boundary[1] else { return nil }
        breakpoints = [boundary[0]] + knots + [boundary[1]]
        size = breakpoints.count + 2
        let m = size - 1
        // The constraints: second derivatives at both boundary knots, the
        // first B-spline left out; QR of their transpose (m × 2).
        var constraints = [Double](repeating: 0, count: m * 2)
        let evaluator = Evaluator(breakpoints)
        let low = evaluator.derivatives(at: boundary[0]), high = evaluator.derivatives(at: boundary[1])
        for r in 0..<m {
            constraints[r * 2] = low.second[r + 1]
            constraints[r * 2 + 1] = high.second[r + 1]
        }
        var q = [Double](repeating: 0, count: m * m)
        let ok: Bool = constraints.withUnsafeMutableBufferPointer { c in
            q.withUnsafeMutableBufferPointer { qb in
                var a = gsl_matrix_view_array(c.baseAddress, m, 2)
                var qView = gsl_matrix_view_array(qb.baseAddress, m, m)
                let tau = gsl_vector_alloc(2)!, r = gsl_matrix_alloc(m, 2)!
                defer { gsl_vector_free(tau); gsl_matrix_free(r) }
                guard gsl_linalg_QR_decomp(&a.matrix, tau) == 0 else { return false }
                return gsl_linalg_QR_unpack(&a.matrix, tau, &qView.matrix, r) == 0
            }
        }
        guard ok else { return nil }
        self.q = q
    }

    /// GSL's B-spline workspace on the breakpoints (knots four-fold at the
    /// ends), made once for many evaluations.
    final class Evaluator {
        let size: Int
        private let workspace: UnsafeMutablePointer<gsl_bspline_workspace>
        private let d: UnsafeMutablePointer<gsl_matrix>
        private let b: UnsafeMutablePointer<gsl_vector>

        init(_ breakpoints: [Double]) {
            size = breakpoints.count + 2
            workspace = gsl_bspline_alloc(4, breakpoints.count)!
            let breaks = gsl_vector_alloc(breakpoints.count)!
            defer { gsl_vector_free(breaks) }
            for (i, value) in breakpoints.enumerated() { gsl_vector_set(breaks, i, value) }
            gsl_bspline_knots(breaks, workspace)
            d = gsl_matrix_alloc(size, 3)!
            b = gsl_vector_alloc(size)!
        }

        deinit {
            gsl_bspline_free(workspace)
            gsl_matrix_free(d)
            gsl_vector_free(b)
        }

        /// The B-splines' values, first and second derivatives at x (inside
        /// the boundary knots), from GSL's de Boor recurrences.
        func derivatives(at x: Double) -> (value: [Double], first: [Double], second: [Double]) {
            gsl_bspline_deriv_eval(x, 2, d, workspace)
            return ((0..<size).map { gsl_matrix_get(d, $0, 0) }, (0..<size).map { gsl_matrix_get(d, $0, 1) },
                    (0..<size).map { gsl_matrix_get(d, $0, 2) })
        }

        /// The B-splines' values at x.
        func values(at x: Double) -> [Double] {
            gsl_bspline_eval(x, b, workspace)
            return (0..<size).map { gsl_vector_get(b, $0) }
        }
    }

    /// The df columns at `values` (NaN rows stay NaN).
    func basis(at values: [Double], df: Int) -> [[Double]] {
        let m = size - 1
        guard df == m - 2 else { return [[Double]](repeating: [Double](repeating: .nan, count: values.count), count: df) }
        let low = breakpoints.first!, high = breakpoints.last!
        let evaluator = Evaluator(breakpoints)
        let atLow = evaluator.derivatives(at: low), atHigh = evaluator.derivatives(at: high)
        var columns = [[Double]](repeating: [Double](repeating: .nan, count: values.count), count: df)
        for (i, x) in values.enumerated() where !x.isNaN {
            let b: [Double]
            if x < low {
                b = (0..<size).map { atLow.value[$0] + (x - low) * atLow.first[$0] }
            } else if x > high {
                b = (0..<size).map { atHigh.value[$0] + (x - high) * atHigh.first[$0] }
            } else {
                b = evaluator.values(at: x)
            }
            // (Qᵀ b₋₁)ⱼ for j = 2…m − 1.
            for j in 0..<df {
                var sum = 0.0
                for r in 0..<m { sum += q[r * m + (j + 2)] * b[r + 1] }
                columns[j][i] = sum
            }
        }
        return columns
    }
}
