import Foundation

/// Σ log dᵢ for positive factors dᵢ, accumulated as products and one
/// logarithm per run of factors (a run ends once the product leaves
/// [2⁻⁵⁰⁰, 2⁵⁰⁰], far from overflow and underflow), instead of one logarithm
/// per factor. The collapsed likelihoods of the standard deviations need
/// Σₗ log(1 + σ²Wₗ) over every level at every slice evaluation, and the
/// exact scale step Σₗ log(Iₗ + 1/σ²); there the logarithms were the
/// largest cost. Each product rounds once per factor, so
/// the sum is off by about ε per factor (absolute: 10⁻¹² for 10⁴ factors),
/// far below what a slice step or a Metropolis–Hastings ratio can see. A
/// factor outside [2⁻⁵⁰⁰, 2⁵⁰⁰] (or 0, ∞, NaN) goes to its own logarithm.
struct LogOfProduct {
    private var product = 1.0
    private var logs = 0.0
    private static let limit = 0x1p500
    private static let floor = 0x1p-500

    /// Includes d > 0 in the sum.
    @inline(__always)
    mutating func multiply(by d: Double) {
        guard d < LogOfProduct.limit && d > LogOfProduct.floor else {
            logs += log(d)
            return
        }
        product *= d                       // within 2^±1000: both factors are within 2^±500
        if product >= LogOfProduct.limit || product <= LogOfProduct.floor {
            logs += log(product)
            product = 1
        }
    }

    /// Σ log dᵢ over the factors so far.
    var value: Double { logs + log(product) }
}
