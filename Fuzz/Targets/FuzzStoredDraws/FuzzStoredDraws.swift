import BayesGLMM
import FuzzSupport

// The reader of a run's draws.npy (`StoredDraws(path:)`): NumPy's header
// (magic, version, header length, the dictionary with dtype, order and
// shape) and the size check, then a positioned read of the first and last
// parameters' first draws, as `compare` and `plot` read them. The reader
// takes a path, so each input is written to one scratch file.

let file = ScratchFile(suffix: ".npy")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    file.write(data, count)
    do {
        let draws = try StoredDraws(path: file.path)
        if draws.chains > 0, draws.draws > 0, draws.parameters > 0 {
            _ = try draws.draws(of: [0, draws.parameters - 1], first: min(draws.draws, 3))
        }
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzStoredDraws {
    static func main() { FuzzDriver.main(testOneInput) }
}
