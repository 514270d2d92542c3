import Foundation

/// How factor levels are ordered and named, as R does it.
///
/// * A character column becomes a factor whose levels are its distinct values
///   sorted as R sorts strings in the C locale (`Sys.setlocale("LC_COLLATE",
///   "C")`): by their UTF-8 bytes, so "B" < "a". (R in an English locale sorts
///   case-insensitively; `DesignOptions.levels` sets any order.)
/// * A numeric column used as a grouping factor has its distinct values as
///   levels, in numeric order, named as R's `as.character` names them ("2",
///   "2.5", "1e+05").
/// * Unused levels (none of the rows kept after dropping missing values) are
///   dropped, as `model.frame(drop.unused.levels = TRUE)` does in lme4.
enum Levels {
    /// Whether `a` sorts before `b` in the C locale (byte order).
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// R's `as.character` of a double: up to 15 significant digits, fixed or
    /// scientific notation, whichever is narrower (fixed on a tie).
    static func rName(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x == .infinity { return "Inf" }
        if x == -.infinity { return "-Inf" }
        if x == 0 { return "0" }
        let reference = String(format: "%.14e", x)
        var digits = 15
        for d in 1...15 where Double(String(format: "%.*e", d - 1, x)) == Double(reference) {
            digits = d
            break
        }
        // Scientific form: mantissa with `digits` significant digits, exponent
        // with at least two digits (R writes 1e+05, 1.5e-10).
        let scientificRaw = String(format: "%.*e", digits - 1, x)
        let parts = scientificRaw.split(separator: "e")
        let exponent = Int(parts[1])!
        let sign = exponent < 0 ? "-" : "+"
        let magnitude = abs(exponent)
        let scientific = "\(parts[0])e\(sign)\(magnitude < 10 ? "0" : "")\(magnitude)"
        let decimals = max(0, digits - 1 - exponent)
        let fixed = String(format: "%.*f", decimals, x)
        return fixed.count <= scientific.count ? fixed : scientific
    }
}

/// A factor over the rows a design uses: a level index per row (0-based) and
/// the level names in R's order.
struct Factor {
    var codes: [Int32]
    var levels: [String]

    /// The factor `column` defines over `rows` (indices into the frame), with
    /// levels in R's order or in `order` when given (every observed level must
    /// then be listed).
    static func make(_ name: String, _ column: Column, rows: [Int32], order: [String]?,
                     source: String) throws(InputError) -> Factor {
        switch column {
        case let .factor(codes, levels):
            var used = [Bool](repeating: false, count: levels.count)
            for r in rows { used[Int(codes[Int(r)])] = true }
            var present = (0..<levels.count).filter { used[$0] }
            if let order {
                let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                if let missing = present.first(where: { rank[levels[$0]] == nil }) {
                    throw InputError(.badOption, "the level order of \(name) does not list the level "
                                     + "\"\(levels[missing])\"", file: source, column: name, setting: "levels")
                }
                present.sort { rank[levels[$0]]! < rank[levels[$1]]! }
            } else {
                present.sort { Levels.precedes(levels[$0], levels[$1]) }
            }
            var recode = [Int32](repeating: -1, count: levels.count)
            for (i, old) in present.enumerated() { recode[old] = Int32(i) }
            return Factor(codes: rows.map { recode[Int(codes[Int($0)])] }, levels: present.map { levels[$0] })
        case let .numeric(values):
            var distinct = Array(Set(rows.map { values[Int($0)] }))
            var names: [String]
            if let order {
                let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                if let missing = distinct.first(where: { rank[Levels.rName($0)] == nil }) {
                    throw InputError(.badOption, "the level order of \(name) does not list the level "
                                     + "\"\(Levels.rName(missing))\"", file: source, column: name, setting: "levels")
                }
                distinct.sort { rank[Levels.rName($0)]! < rank[Levels.rName($1)]! }
            } else {
                distinct.sort()
            }
            names = distinct.map(Levels.rName)
            let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
            return Factor(codes: rows.map { index[values[Int($0)]]! }, levels: names)
        }
    }

    /// The interaction of factors, as lme4 forms `g1:g2`: one level per
    /// combination that occurs, named "a:b", ordered by the first factor's
    /// level, then the second's, … (the first varies slowest, the last
    /// fastest), which is the order of lme4's `flist` (checked against
    /// lme4 1.1-31 in Validation/design).
    static func interaction(_ factors: [Factor]) -> Factor {
        precondition(!factors.isEmpty)
        if factors.count == 1 { return factors[0] }
        let n = factors[0].codes.count
        var combinations: [[Int32]: Int32] = [:]
        var rowKeys = [[Int32]]()
        rowKeys.reserveCapacity(n)
        for r in 0..<n {
            let key = factors.map { $0.codes[r] }
            rowKeys.append(key)
            combinations[key] = 0
        }
        let ordered = combinations.keys.sorted { $0.lexicographicallyPrecedes($1) }
        for (i, key) in ordered.enumerated() { combinations[key] = Int32(i) }
        let names = ordered.map { key in
            key.enumerated().map { factors[$0.offset].levels[Int($0.element)] }.joined(separator: ":")
        }
        return Factor(codes: rowKeys.map { combinations[$0]! }, levels: names)
    }
}
