import BayesGLMM
import FuzzSupport

// The prior parser (`PriorSpecification.parse`) and the priors built from
// several specifications (`Priors(specifications:terms:fixed:)`, which checks
// the names against a model's). Each line of the input is one `--prior`
// specification. The model's names are fixed, and include an interaction
// and a categorical level, so that the name checks and their suggestions
// ("did you mean sd(client:stylist)?") are reached.

let terms = ["client", "stylist", "client:stylist"]
let fixed = ["(Intercept)", "x1", "groupb", "x1:z"]

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let lines = FuzzInput.text(data, count).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for line in lines {
        do {
            let specification = try PriorSpecification.parse(line)
            _ = specification.description
            try specification.validate(terms: terms, fixed: fixed)
        } catch {
            _ = error.description
        }
    }
    do {
        let priors = try Priors(specifications: lines, terms: terms, fixed: fixed)
        _ = priors.describe(terms: terms, fixed: fixed)
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzPrior {
    static func main() { FuzzDriver.main(testOneInput) }
}
