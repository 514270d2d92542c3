import Foundation
import Variates

/// One update of a univariate slice sampler (Neal 2003, "Slice sampling",
/// Annals of Statistics 31: stepping out, then shrinkage), which leaves any
/// density it is given invariant — used for standard deviations whose full
/// conditional has no standard form.
enum SliceSampler {
    /// A new value from the slice of `logDensity` at `x`, with initial width
    /// `width` and at most `maximumSteps` steps out on each side.
    static func step(from x: Double, width: Double = 1, maximumSteps: Int = 32,
                     logDensity: (Double) -> Double, using generator: Generator) -> Double {
        let level = logDensity(x) - generator.exponential()
        var left = x - width * generator.uniform()
        var right = left + width
        var j = Int(Double(maximumSteps) * generator.uniform())
        var k = maximumSteps - 1 - j
        while j > 0 && logDensity(left) > level { left -= width; j -= 1 }
        while k > 0 && logDensity(right) > level { right += width; k -= 1 }
        while true {
            let candidate = left + (right - left) * generator.uniform()
            if logDensity(candidate) > level { return candidate }
            if candidate < x { left = candidate } else { right = candidate }
            if right - left < 1e-14 * max(1, abs(x)) { return x }
        }
    }
}
