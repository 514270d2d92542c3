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

    /// As `add(weight:vector:offset:to:size:)`, over the entries of v in
    /// `columns[range]` only (ascending; a level's pattern in `SparseRows`),
    /// where v may be nonzero: the same sums.
    @inline(__always)
    static func add(weight w: Double, vector: UnsafeBufferPointer<Double>, offset: Int,
                    columns: UnsafeBufferPointer<Int32>, _ range: Range<Int>,
                    to upper: UnsafeMutableBufferPointer<Double>, size p: Int) {
        for e in range {
            let a = Int(columns[e])
            let wa = w * vector[offset + a]
            if wa == 0 { continue }
            let row = a * p
            for f in e..<range.upperBound {
                let b = Int(columns[f])
                upper[row + b] += wa * vector[offset + b]
            }
        }
    }
}
