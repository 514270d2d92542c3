/// M += w·vvᵀ on the upper triangle of a row-major p × p matrix, skipping
/// the zeros of v (most entries of a row of dummy columns, and of a level's
/// Σωᵢxᵢ over few cells). The samplers' fixed-effect precisions are sums of
/// such updates, one per cell and one per level, and were their largest
/// cost with many fixed effects (guPrenat: 17).
enum RankOneUpdate {
    /// `upper[a·p + b] += (w·v[a])·v[b]` for a ≤ b; v is `vector[offset ..< offset + p]`.
    @inline(__always)
    static func add(weight w: Double, vector: UnsafeBufferPointer<Double>, offset: Int,
                    to upper: UnsafeMutableBufferPointer<Double>, size p: Int) {
        for a in 0..<p {
            let wa = w * vector[offset + a]
            if wa == 0 { continue }
            let row = a * p
            for b in a..<p { upper[row + b] += wa * vector[offset + b] }
        }
    }

    /// Σᵢ wᵢ·xᵢxᵢᵀ (upper triangle) over the rows xᵢ of the row-major n × p
    /// matrix `x`, for the weights `w` (a zero weight skips its row).
    static func weightedGram(_ x: [Double], weights w: [Double], size p: Int) -> [Double] {
        var upper = [Double](repeating: 0, count: p * p)
        x.withUnsafeBufferPointer { xb in
            upper.withUnsafeMutableBufferPointer { ub in
                for i in w.indices where w[i] != 0 {
                    add(weight: w[i], vector: xb, offset: i * p, to: ub, size: p)
                }
            }
        }
        return upper
    }
}

/// Products with a row-major n × p matrix (the design's fixed-effect
/// columns, one row per cell), each row's sum kept in a register.
enum RowMajor {
    /// Xv: one entry per row.
    static func product(_ x: [Double], _ v: [Double], rows n: Int) -> [Double] {
        let p = v.count
        var result = [Double](repeating: 0, count: n)
        guard p > 0 else { return result }
        x.withUnsafeBufferPointer { xb in
            v.withUnsafeBufferPointer { vb in
                result.withUnsafeMutableBufferPointer { rb in
                    for i in 0..<n {
                        var sum = 0.0
                        for j in 0..<p { sum += xb[i * p + j] * vb[j] }
                        rb[i] = sum
                    }
                }
            }
        }
        return result
    }

    /// Xᵀr: one entry per column.
    static func transposedProduct(_ x: [Double], _ r: [Double], columns p: Int) -> [Double] {
        var result = [Double](repeating: 0, count: p)
        x.withUnsafeBufferPointer { xb in
            r.withUnsafeBufferPointer { rb in
                result.withUnsafeMutableBufferPointer { out in
                    for i in rb.indices {
                        let ri = rb[i]
                        if ri == 0 { continue }
                        for a in 0..<p { out[a] += xb[i * p + a] * ri }
                    }
                }
            }
        }
        return result
    }
}
