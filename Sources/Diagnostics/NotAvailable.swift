/// posterior's `should_return_NA`: a diagnostic of a matrix is "not
/// available" when any value is NaN or infinite, or when the matrix is
/// constant, max - min < 2^-52 (R's `.Machine$double.eps`, an absolute
/// tolerance).
func shouldReturnNotAvailable(_ values: [Double]) -> Bool {
    var low = Double.infinity, high = -Double.infinity
    for v in values {
        guard v.isFinite else { return true }
        if v < low { low = v }
        if v > high { high = v }
    }
    return !(abs(high - low) >= Double.ulpOfOne)
}

/// Whether any value is NaN (R's NA or NaN).
func containsNaN(_ values: [Double]) -> Bool {
    values.contains { $0.isNaN }
}

extension Double {
    /// `nil` for NaN: the package's "not available", R's NA.
    var available: Double? { isNaN ? nil : self }
}
