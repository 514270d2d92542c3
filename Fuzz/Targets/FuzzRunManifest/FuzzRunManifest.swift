import BayesGLMM
import Foundation
import FuzzSupport

// The reader of a run's fit.json (`RunManifest.decode`), which every command
// that reads a run calls first, and what the readers make of a manifest: the
// draws they use (`usableDraws`) and the note that says which
// (`RunDirectory.describe`). The counts in a manifest are its word: nothing
// here may trap on counts that disagree, overflow or are negative.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    do {
        let manifest = try RunManifest.decode(Data(UnsafeBufferPointer(start: data, count: count)), path: "fit.json")
        let usable = manifest.usableDraws
        _ = RunDirectory.describe(manifest, usable: usable)
        _ = manifest.outcomes.map(\.ended)
        _ = try? manifest.encoded()
    } catch {
        _ = error.description
    }
    return 0
}

@main enum FuzzRunManifest {
    static func main() { FuzzDriver.main(testOneInput) }
}
