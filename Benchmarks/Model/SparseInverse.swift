// The conditional variances of a crossed model's random effects at scale:
// builds A = Λ Zᵀ W Z Λ + I for clients × stylists × client:stylist pairs
// shaped like the simulator's large data (each client with 8–19 distinct
// stylists, ~13.5 on average, 1–10 observations per pair), then times
// CHOLMOD's analysis, the numeric factorisation and
// `SparseCholesky.inverseDiagonal()` (the Takahashi recursion) and
// `inverseOnPattern()` (A⁻¹ on A's pattern), and checks a few entries of
// diag(A⁻¹) and of A⁻¹ off the diagonal against solves A x = eᵢ.
//
//     swift run -c release ModelBenchmarks sparse-inverse [--clients 20000] [--stylists 1000] [--seed 1]
import BayesGLMM
import Foundation

enum SparseInverseBenchmark {
    static func run(arguments: [String]) -> Int32 {
        var clients = 20_000, stylists = 1_000
        var seed: UInt64 = 1
        var arguments = arguments
        while !arguments.isEmpty {
            let a = arguments.removeFirst()
            guard let value = arguments.first else {
                FileHandle.standardError.write(Data("ModelBenchmarks sparse-inverse: \(a) needs a value\n".utf8))
                return 2
            }
            arguments.removeFirst()
            switch a {
            case "--clients": clients = Int(value) ?? clients
            case "--stylists": stylists = Int(value) ?? stylists
            case "--seed": seed = UInt64(value) ?? seed
            default:
                FileHandle.standardError.write(Data("ModelBenchmarks sparse-inverse: unknown argument \(a)\n".utf8))
                return 2
            }
        }
        do {
            try measure(clients: clients, stylists: stylists, seed: seed)
            return 0
        } catch {
            FileHandle.standardError.write(Data("ModelBenchmarks sparse-inverse: \(error)\n".utf8))
            return 1
        }
    }

    static func measure(clients: Int, stylists: Int, seed: UInt64) throws {
        let g = try Generator(seed: seed)
        let sigma = (client: 0.8, stylist: 0.4, pair: 0.3)
        // Pairs and their weights Σ nᵢ μᵢ (1 − μᵢ) over the pair's observations.
        var pairClient: [Int] = [], pairStylist: [Int] = [], weight: [Double] = []
        var pool = Array(0..<stylists)
        for c in 0..<clients {
            let k = min(stylists, 8 + Int(g.uniform() * 12))
            for i in 0..<k { pool.swapAt(i, i + Int(g.uniform() * Double(stylists - i))) }
            for s in pool[0..<k].sorted() {
                var w = 0.0
                for _ in 0..<(1 + Int(g.uniform() * 10)) {
                    let mu = 0.1 + 0.8 * g.uniform()
                    w += mu * (1 - mu)
                }
                pairClient.append(c); pairStylist.append(s); weight.append(w)
            }
        }
        let pairs = weight.count
        let n = clients + stylists + pairs
        // The lower triangle of A, levels in term order (client, stylist,
        // pair): column c holds its stylists then its pairs, column C + s its
        // pairs, a pair's column only its diagonal.
        var columns = [[(row: Int32, value: Double)]](repeating: [], count: n)
        var diagonal = [Double](repeating: 1, count: n)
        for p in 0..<pairs {
            let c = pairClient[p], s = clients + pairStylist[p], q = clients + stylists + p, w = weight[p]
            diagonal[c] += sigma.client * sigma.client * w
            diagonal[s] += sigma.stylist * sigma.stylist * w
            diagonal[q] += sigma.pair * sigma.pair * w
            columns[c].append((Int32(s), sigma.client * sigma.stylist * w))
            columns[c].append((Int32(q), sigma.client * sigma.pair * w))
            columns[s].append((Int32(q), sigma.stylist * sigma.pair * w))
        }
        var starts: [Int32] = [0], rows: [Int32] = [], values: [Double] = []
        for j in 0..<n {
            rows.append(Int32(j)); values.append(diagonal[j])
            for entry in columns[j].sorted(by: { $0.row < $1.row }) {
                rows.append(entry.row)
                values.append(entry.value)
            }
            starts.append(Int32(rows.count))
        }
        columns = []

        let clock = ContinuousClock()
        var cholesky: SparseCholesky?
        let analyse = try clock.measure {
            cholesky = try SparseCholesky(size: n, columnStarts: starts, rowIndices: rows)
        }
        let factor = cholesky!
        print("levels:          \(n) (\(clients) clients, \(stylists) stylists, \(pairs) pairs); A has \(rows.count) "
              + "entries in its lower triangle")
        print(String(format: "analyse:         %.3f s", seconds(analyse)))
        var inverse: [Double] = []
        for round in 1...3 {
            let factorise = try clock.measure { try factor.factorize(values: values) }
            let takahashi = clock.measure { inverse = factor.inverseDiagonal() }
            print(String(format: "round %d:         factorise %.3f s, inverseDiagonal %.3f s, together %.3f s", round,
                         seconds(factorise), seconds(takahashi), seconds(factorise) + seconds(takahashi)))
        }
        var onPattern: [Double] = []
        let patternTime = clock.measure { onPattern = factor.inverseOnPattern() }
        print(String(format: "inverseOnPattern: %.3f s for A's %d lower-triangle entries", seconds(patternTime),
                     onPattern.count))
        print("L has \(factor.factorEntryCount) entries")
        // A few entries against solves A x = eᵢ: clients, stylists and pairs.
        // Off the diagonal, column i's pattern entries, each difference
        // relative to √((A⁻¹)ᵢᵢ (A⁻¹)ᵣᵣ), the scale of a covariance.
        var worst = 0.0, worstOnPattern = 0.0
        let checked = [0, clients / 2, clients - 1, clients, clients + stylists / 2, clients + stylists - 1,
                       clients + stylists, n / 2, n - 1]
        for i in checked {
            var e = [Double](repeating: 0, count: n)
            e[i] = 1
            let x = factor.solve(e)
            worst = max(worst, abs(inverse[i] - x[i]) / x[i])
            for k in Int(starts[i])..<Int(starts[i + 1]) {
                let r = Int(rows[k])
                worstOnPattern = max(worstOnPattern, abs(onPattern[k] - x[r]) / (x[i] * x[r]).squareRoot())
            }
        }
        print(String(format: "check:           largest relative difference from solves at %d levels: %.1e "
                     + "(diagonal), %.1e (their columns of the pattern)", checked.count, worst, worstOnPattern))
        print(String(format: "peak memory:     %.0f MiB", peakMiB()))
    }
}
