import Foundation

/// Σ log dᵢ for factors dᵢ ≥ 1, accumulated as products and one logarithm
/// per run of factors (a run ends once the product passes 2⁵⁰⁰, far from
/// overflow), instead of one logarithm per factor. The collapsed likelihoods
/// of the standard deviations need Σₗ log(1 + σ²Wₗ) over every level at every
/// slice evaluation, where the logarithms were the largest cost. Each product
/// rounds once per factor, so the sum is off by about ε per factor (absolute:
/// 10⁻¹² for 10⁴ levels), far below what a slice step or a Metropolis–Hastings
/// ratio can see.
struct LogOfProduct {
    private var product = 1.0
    private var logs = 0.0
    private static let limit = 0x1p500

    /// Includes d ≥ 1 (finite) in the sum.
    @inline(__always)
    mutating func multiply(by d: Double) {
        if d >= LogOfProduct.limit {
            logs += log(d)
            return
        }
        product *= d                       // < 2¹⁰⁰⁰: both factors are below 2⁵⁰⁰
        if product >= LogOfProduct.limit {
            logs += log(product)
            product = 1
        }
    }

    /// Σ log dᵢ over the factors so far.
    var value: Double { logs + log(product) }
}
