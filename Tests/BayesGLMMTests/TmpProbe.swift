import Testing
import Foundation
@testable import BayesGLMM
@Suite struct TmpProbe {
    @Test func trace() throws {
        let f = "prenat01 ~ childAge + motherAge + indig + momEd + husEd + husEmpl + toilet + TV + pcInd81 + ssDist + (1|mom) + (1|cluster)"
        let design = try Design(formula: ModelFormula.parse(f), frame: Frame.read(csvFile: "/work/wt-shapes-bench/Validation/shapes/data/guprenat.csv"))
        var kernel = PolyaGammaGibbs(design: design)
        kernel.updates = .exact
        kernel.exactMoves = ExactMoves(names: ProcessInfo.processInfo.environment["MOVES"] ?? "all")!
        let g = try Generator(seed: 1, chain: 0, stream: 0)
        var s = kernel.initialState(using: g)
        for i in 0..<400 {
            let (n, info) = kernel.step(s, using: g)
            if i % 10 == 0 || n.standardDeviations.contains(where: { $0 > 30 }) {
                print("TRACE \(i) sd \(n.standardDeviations.map { String(format: "%.3f", $0) }) a \(String(format: "%.3f", n.coefficients[0])) max|u| \(n.effects.map { String(format: "%.2f", $0.map(abs).max()!) }) \(kernel.rates(of: info))")
            }
            if n.standardDeviations.contains(where: { $0 > 30 }) { print("TRACE prev sd \(s.standardDeviations)"); break }
            s = n
        }
    }
}
