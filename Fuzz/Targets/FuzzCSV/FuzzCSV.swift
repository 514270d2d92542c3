import BayesGLMM
import FuzzSupport

// The CSV data reader, from text (`Frame.read(csvText:)`) and from a file
// (`Frame.read(csvFile:)`, which streams the bytes and refuses invalid
// UTF-8), then the designs of a few fixed models on the frame read
// (`Design(formula:frame:options:)`), so that the checks of the response,
// the factors, missing values and rank are fuzzed with the reader. The
// models use the column names of the seed corpus (the README's example and
// the design fixtures of the tests), with a trials column, level orders and
// `missing: .fail` among their options.

let file = ScratchFile(suffix: ".csv")

let models: [(formula: ModelFormula, options: DesignOptions)] = [
    ("y ~ x1 + (1|client) + (1|stylist) + (1|client:stylist)", DesignOptions()),
    ("y ~ x + (1|client)", DesignOptions()),
    ("y ~ x*group + (1|client) + (1|stylist)", DesignOptions(missing: .fail)),
    ("y ~ 0 + x:group + (1|client/stylist)", DesignOptions(trials: "n", levels: ["group": ["a", "b", "c"]])),
    ("cbind(s, f) ~ x + (1|client)", DesignOptions()),
].map { (try! ModelFormula.parse($0.0), $0.1) }

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        let frame = try Frame.read(csvText: FuzzInput.text(data, count), source: "data.csv")
        for (formula, options) in models {
            do {
                _ = try Design(formula: formula, frame: frame, options: options)
            } catch {
                _ = error.description
            }
        }
    } catch {
        _ = error.description
    }
    file.write(data, count)
    do {
        _ = try Frame.read(csvFile: file.path)
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzCSV {
    static func main() { FuzzDriver.main(testOneInput) }
}
