import BayesGLMM
import FuzzSupport

// The formula parser (`ModelFormula.parse`) on arbitrary text: an error is
// the parser refusing the text; only a crash is a finding. The canonical
// form of a formula that parses is printed by `describe` and fit.json, so it
// is rendered and parsed again; an error is rendered as the command prints it.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        let formula = try ModelFormula.parse(FuzzInput.text(data, count))
        _ = try? ModelFormula.parse(formula.description)
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzFormula {
    static func main() { FuzzDriver.main(testOneInput) }
}
