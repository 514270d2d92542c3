import Foundation

/// Synthetic data for timing `Frame.read(csvFile:)`.
public enum DataBenchmark {
    /// Writes a CSV file shaped like the model's data.
    ///
    /// Columns: `y` (0 or 1), `x` (a standard normal, 6 decimals), `group`
    /// (`a`, `b` or `c`), `client` (an integer id in 1...100000) and
    /// `stylist` (an integer id in 1...1000). `y` is drawn from a logistic
    /// model in `x`, `group` and normal client and stylist effects, so the
    /// file can also be fitted. The same seed gives the same file.
    ///
    /// - Parameters:
    ///   - path: Where to write; an existing file is replaced.
    ///   - rows: The number of data rows (after the header).
    ///   - seed: Seeds the SplitMix64 generator.
    /// - Throws: `InputError` of kind `.unreadableFile` when the file cannot
    ///   be written.
    public static func writeSyntheticCSV(path: String, rows: Int, seed: UInt64) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw InputError(.unreadableFile, "cannot write the file", file: path)
        }
        defer { try? handle.close() }

        var random = SplitMix64(seed: seed)
        let clients = 100_000
        let stylists = 1_000
        let clientEffects = (0..<clients).map { _ in 0.8 * random.normal() }
        let stylistEffects = (0..<stylists).map { _ in 0.5 * random.normal() }
        let groups = ["a", "b", "c"]
        let groupEffects = [0.0, 0.4, -0.3]

        var text = "y,x,group,client,stylist\n"
        text.reserveCapacity(1 << 17)
        for _ in 0..<rows {
            let x = random.normal()
            let group = Int(random.next() % 3)
            let client = Int(random.next() % UInt64(clients))
            let stylist = Int(random.next() % UInt64(stylists))
            let predictor = -0.5 + 0.7 * x + groupEffects[group] + clientEffects[client] + stylistEffects[stylist]
            let y = random.uniform() < 1 / (1 + exp(-predictor)) ? 1 : 0
            text += "\(y),\(String(format: "%.6f", x)),\(groups[group]),\(client + 1),\(stylist + 1)\n"
            if text.utf8.count >= 1 << 16 {
                try write(text, to: handle, path: path)
                text.removeAll(keepingCapacity: true)
            }
        }
        try write(text, to: handle, path: path)
    }

    private static func write(_ text: String, to handle: FileHandle, path: String) throws {
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw InputError(.unreadableFile, "cannot write the file: \(error.localizedDescription)", file: path)
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and good enough for
/// synthetic data.
private struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Standard normal by Box–Muller (one of the pair).
    mutating func normal() -> Double {
        let u = 1 - uniform()  // (0, 1]
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
