import Foundation

/// Every draw of every parameter in one NumPy `.npy` file: a little-endian
/// float64 array of shape (chains, draws, parameters), C order, after NumPy's
/// standard header (format version 1.0: the magic "\u{93}NUMPY", version
/// bytes 1 0, a 2-byte header length, then the header dictionary padded with
/// spaces and a newline so that the data start at a multiple of 64 bytes).
///
/// `numpy.load("draws.npy", mmap_mode="r")` maps it without reading it; the
/// parameter names are in fit.json (`store.names`). The file has its full size
/// from the start; chains write their own slices concurrently, each through its
/// own file handle at fixed offsets. The file is sparse until written: draws a
/// chain did not make (an interrupted fit) read as 0, and fit.json records how
/// many draws each chain made (`outcomes[].draws`).
public final class DrawStore: @unchecked Sendable {
    public let path: String
    public let chains: Int
    public let draws: Int
    public let parameters: Int
    let dataOffset: UInt64
    private let handles: [FileHandle]

    public init(path: String, chains: Int, draws: Int, parameters: Int) throws(InputError) {
        self.path = path
        self.chains = chains
        self.draws = draws
        self.parameters = parameters
        var dictionary = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(chains), \(draws), \(parameters)), }"
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var header = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dictionary.utf8.count)
        header.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
        header.append(contentsOf: Array(dictionary.utf8))
        dataOffset = UInt64(header.count)
        guard FileManager.default.createFile(atPath: path, contents: header) else {
            throw InputError(.unreadableFile, "cannot create the draw store", file: path)
        }
        var opened: [FileHandle] = []
        for _ in 0..<max(chains, 1) {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw InputError(.unreadableFile, "cannot open the draw store for writing", file: path)
            }
            opened.append(handle)
        }
        handles = opened
        // Full size at once, as a sparse file: nothing is written until the
        // chains write their draws.
        do {
            try handles[0].truncate(atOffset: dataOffset + UInt64(chains * draws * parameters * 8))
        } catch {
            throw InputError(.unreadableFile, "cannot size the draw store: \(error.localizedDescription)", file: path)
        }
    }

    /// Bytes the store needs for `chains` × `draws` × `parameters` doubles.
    public static func size(chains: Int, draws: Int, parameters: Int) -> Double {
        Double(chains) * Double(draws) * Double(parameters) * 8
    }

    deinit { for h in handles { try? h.close() } }

    /// Writes draw `index` of `chain` (only that chain's thread may call this
    /// for that chain).
    public func write(chain: Int, draw index: Int, _ values: [Double]) throws(InputError) {
        precondition(values.count == parameters && index < draws)
        let offset = dataOffset + UInt64((chain * draws + index) * parameters * 8)
        do {
            try handles[chain].seek(toOffset: offset)
            try values.withUnsafeBytes { try handles[chain].write(contentsOf: Data($0)) }
        } catch {
            throw InputError(.unreadableFile, "cannot write the draw store: \(error.localizedDescription)", file: path)
        }
    }

    public func close() { for h in handles { try? h.synchronize(); try? h.close() } }
}
