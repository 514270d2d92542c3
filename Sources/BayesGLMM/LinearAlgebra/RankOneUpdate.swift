/// M += w·vvᵀ on the upper triangle of a row-major p × p matrix, over the
/// entries of v that can be nonzero: a level's Σωᵢxᵢ in the collapsed
/// blocks, whose pattern (`SparseRows.patterns`) is the columns its cells
/// are nonzero in — with dummy columns, few of p (guPrenat: 17). The
/// precisions of the fixed effects with a term's levels integrated out are
/// sums of such updates, one per level.
enum RankOneUpdate {
    /// `upper[a·p + b] += (w·v[a])·v[b]` for a ≤ b among the columns
    /// `columns[range]` (ascending), v being `vector[offset ..< offset + p]`
    /// and zero outside them: the sums of the dense update, without its
    /// zero terms.
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
