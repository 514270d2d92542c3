// Sorting for the rank-based diagnostics: one least-significant-digit radix
// argsort of the draws (O(S), ~10x faster than a comparison sort at the
// sizes of MCMC output), from which the sorted draws, their ranks, and the
// order of the folded draws |x - median| are all read off.

/// The indices of `values` in ascending order of value. The values must not
/// be NaN; -0.0 and +0.0 are adjacent (and compare equal, so they tie).
func ascendingOrder(_ values: [Double]) -> [Int32] {
    let count = values.count
    // Map each double to an unsigned key with the same order: flip all bits
    // of negatives, only the sign bit of non-negatives.
    var keys = [UInt64](repeating: 0, count: count)
    var order = [Int32](repeating: 0, count: count)
    var histograms = [Int](repeating: 0, count: 8 * 256)
    values.withUnsafeBufferPointer { v in
        for i in 0..<count {
            let bits = v[i].bitPattern
            let key = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
            keys[i] = key
            order[i] = Int32(truncatingIfNeeded: i)
            for byte in 0..<8 { histograms[byte * 256 + Int((key >> (8 * UInt64(byte))) & 0xFF)] += 1 }
        }
    }
    var keysOut = [UInt64](repeating: 0, count: count)
    var orderOut = [Int32](repeating: 0, count: count)
    for byte in 0..<8 {
        let base = byte * 256
        // A digit shared by every key leaves the order unchanged.
        if histograms[base + Int((keys[0] >> (8 * UInt64(byte))) & 0xFF)] == count { continue }
        var offsets = [Int](repeating: 0, count: 256)
        var running = 0
        for d in 0..<256 {
            offsets[d] = running
            running += histograms[base + d]
        }
        let shift = 8 * UInt64(byte)
        keys.withUnsafeBufferPointer { k in
            order.withUnsafeBufferPointer { o in
                keysOut.withUnsafeMutableBufferPointer { ko in
                    orderOut.withUnsafeMutableBufferPointer { oo in
                        for i in 0..<count {
                            let d = Int((k[i] >> shift) & 0xFF)
                            let target = offsets[d]
                            offsets[d] = target + 1
                            ko[target] = k[i]
                            oo[target] = o[i]
                        }
                    }
                }
            }
        }
        swap(&keys, &keysOut)
        swap(&order, &orderOut)
    }
    return order
}

/// The values in ascending order. No NaN.
func sortedValues(_ values: [Double]) -> [Double] {
    let order = ascendingOrder(values)
    return values.withUnsafeBufferPointer { v in order.map { v[Int($0)] } }
}

/// The order of |x - centre| given the ascending order of x: the draws
/// below the centre, walked downwards, merged with those at or above it,
/// walked upwards (rounding is monotone, so both runs are already sorted).
func foldedOrder(_ values: [Double], ascending order: [Int32], centre: Double) -> [Int32] {
    let count = order.count
    var boundary = 0
    values.withUnsafeBufferPointer { v in
        var low = 0, high = count
        while low < high {  // first position with value >= centre
            let mid = (low + high) / 2
            if v[Int(order[mid])] < centre { low = mid + 1 } else { high = mid }
        }
        boundary = low
    }
    var out = [Int32]()
    out.reserveCapacity(count)
    values.withUnsafeBufferPointer { v in
        var left = boundary - 1, right = boundary
        while left >= 0 || right < count {
            if right >= count {
                out.append(order[left]); left -= 1
            } else if left < 0 {
                out.append(order[right]); right += 1
            } else if abs(v[Int(order[left])] - centre) <= abs(v[Int(order[right])] - centre) {
                out.append(order[left]); left -= 1
            } else {
                out.append(order[right]); right += 1
            }
        }
    }
    return out
}
