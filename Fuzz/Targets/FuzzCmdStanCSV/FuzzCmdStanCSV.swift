import BayesGLMM
import FuzzSupport

// The reader of CmdStan output CSV files (`CmdStanCSV.parse`), which
// `summary` uses on the chains of a run and on CmdStan's own files. Its
// `read(path:)` decodes the file's bytes as this target decodes the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        let chain = try CmdStanCSV.parse(FuzzInput.text(data, count), path: "chain-1.csv")
        for index in chain.names.indices { _ = chain.column(index) }
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzCmdStanCSV {
    static func main() { FuzzDriver.main(testOneInput) }
}
