import Foundation

/// Every draw of every parameter in one NumPy `.npy` file: a little-endian
/// float64 array of shape (chains, draws, parameters), C order, after NumPy's
/// standard header (format version 1.0: the magic "\u{93}NUMPY", version
/// bytes 1 0, a 2-byte header length, then the header dictionary padded with
/// spaces and a newline so that the data start at a multiple of 64 bytes).
///
/// `numpy.load("draws.npy", mmap_mode="r")` maps it without reading it; the
/// parameter names are in fit.json (`store.names`). The file has its full size
/// from the start; chains write their own slices concurrently, by positioned
/// writes (`pwrite`) of one shared descriptor at fixed offsets, so no two
/// chains ever touch the same bytes. The file is sparse until written; when a
/// run ends, `fillUnwritten(chain:after:)` sets every entry a chain did not
/// write to NaN, so that an interrupted chain's missing draws never read as
/// draws (fit.json records how many each chain made).
public final class DrawStore: Sendable {
    public let path: String
    public let chains: Int
    public let draws: Int
    public let parameters: Int
    let dataOffset: Int
    private let descriptor: Int32

    /// Creates the file with its header and its full size (sparse). Throws
    /// `WriteFailure` when the file cannot be created or sized.
    public convenience init(path: String, chains: Int, draws: Int, parameters: Int) throws(WriteFailure) {
        try self.init(file: path, path: path, chains: chains, draws: draws, parameters: parameters)
    }

    /// Creates the store in `file`, which will be renamed to `path` (the
    /// name its messages use).
    init(file: String, path: String, chains: Int, draws: Int, parameters: Int) throws(WriteFailure) {
        self.path = path
        self.chains = chains
        self.draws = draws
        self.parameters = parameters
        var dictionary = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(chains), \(draws), \(parameters)), }"
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var header = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(dictionary.utf8.count)
        header += [UInt8(length & 0xff), UInt8(length >> 8)] + Array(dictionary.utf8)
        dataOffset = header.count
        descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "create the draw store") }
        guard let bytes = DrawStore.size(chains: chains, draws: draws, parameters: parameters),
              ftruncate(descriptor, off_t(dataOffset + bytes)) == 0 else {
            let failure = WriteFailure(path: path, action: "size the draw store")
            Foundation.close(descriptor)
            throw failure
        }
        if let failure = header.withUnsafeBytes({ buffer in
            DrawStore.write(descriptor, buffer.baseAddress!, count: buffer.count, at: 0, path: path,
                            action: "write the draw store's header")
        }) {
            Foundation.close(descriptor)
            throw failure
        }
    }

    /// Bytes the draws of `chains` × `draws` × `parameters` doubles take, or
    /// nil when that does not fit in an `Int`.
    public static func size(chains: Int, draws: Int, parameters: Int) -> Int? {
        let (a, o1) = chains.multipliedReportingOverflow(by: draws)
        let (b, o2) = a.multipliedReportingOverflow(by: parameters)
        let (c, o3) = b.multipliedReportingOverflow(by: 8)
        return o1 || o2 || o3 ? nil : c
    }

    deinit { Foundation.close(descriptor) }

    /// Writes draw `index` of `chain`. Chains may call this concurrently,
    /// each for its own chain.
    public func write(chain: Int, draw index: Int, _ values: [Double]) throws(WriteFailure) {
        precondition(values.count == parameters && index < draws && chain < chains)
        let offset = dataOffset + (chain * draws + index) * parameters * 8
        if let failure = values.withUnsafeBytes({ buffer in
            DrawStore.write(descriptor, buffer.baseAddress!, count: buffer.count, at: offset, path: path,
                            action: "write a draw to the draw store")
        }) { throw failure }
    }

    /// Writes draws `first ..< first + n` of `chain` from `bytes`, n whole
    /// draws of every parameter as the store holds them (a chain copied from
    /// another store of the same parameters, `RunMerge`).
    func write(chain: Int, from first: Int, bytes: [UInt8]) throws(WriteFailure) {
        let row = parameters * 8
        precondition(bytes.count % row == 0 && first + bytes.count / row <= draws && chain < chains)
        let offset = dataOffset + (chain * draws + first) * row
        if let failure = bytes.withUnsafeBytes({ buffer in
            DrawStore.write(descriptor, buffer.baseAddress!, count: buffer.count, at: offset, path: path,
                            action: "write draws to the draw store")
        }) { throw failure }
    }

    /// Sets draws `first ..< draws` of `chain` to NaN: the entries of draws
    /// the chain never made.
    public func fillUnwritten(chain: Int, after first: Int) throws(WriteFailure) {
        guard first < draws else { return }
        let start = dataOffset + (chain * draws + first) * parameters * 8
        let total = (draws - first) * parameters * 8
        let block = [Double](repeating: .nan, count: min(total / 8, 1 << 20))
        var done = 0
        while done < total {
            let count = min(block.count * 8, total - done)
            if let failure = block.withUnsafeBytes({ buffer in
                DrawStore.write(descriptor, buffer.baseAddress!, count: count, at: start + done, path: path,
                                action: "mark the draws not made as NaN in the draw store")
            }) { throw failure }
            done += count
        }
    }

    /// The store cut to `newDraws` draws per chain, holding the first
    /// `made[c]` draws of each chain c (at most `newDraws`; the rest of its
    /// slice is left for `fillUnwritten`). The draws are copied into a new
    /// file beside this one, which is flushed and then renamed over it, so
    /// that a failure (a full disk) leaves this store as it was; this store
    /// is not written to again. A run with room for more draws than it made
    /// (`UntilESS`) ends with a store of the draws it made.
    public func cut(toDraws newDraws: Int, made: [Int]) throws(WriteFailure) -> DrawStore {
        precondition(newDraws <= draws && made.count == chains)
        let temporary = path + ".cut-\(getpid())"
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw WriteFailure(path: path, action: "read the draw store") }
        defer { Foundation.close(reader) }
        do throws(WriteFailure) {
            let copy = try DrawStore(file: temporary, path: path, chains: chains, draws: newDraws,
                                     parameters: parameters)
            let row = parameters * 8
            var buffer = [UInt8](repeating: 0, count: max(row, min(1 << 22, max(1, newDraws) * row)))
            for chain in 0..<chains {
                let total = min(made[chain], newDraws) * row
                let from = dataOffset + chain * draws * row
                let to = copy.dataOffset + chain * newDraws * row
                var done = 0
                while done < total {
                    let count = min(buffer.count, total - done)
                    var got = 0
                    while got < count {
                        let read = buffer.withUnsafeMutableBytes {
                            pread(reader, $0.baseAddress! + got, count - got, off_t(from + done + got))
                        }
                        if read > 0 { got += read; continue }
                        if read < 0 && errno == EINTR { continue }
                        throw WriteFailure(path: path, action: "read the draw store")
                    }
                    if let failure = buffer.withUnsafeBytes({ bytes in
                        DrawStore.write(copy.descriptor, bytes.baseAddress!, count: count, at: to + done, path: path,
                                        action: "copy the draws made to the cut draw store")
                    }) { throw failure }
                    done += count
                }
            }
            try copy.synchronize()
            guard rename(temporary, path) == 0 else {
                throw WriteFailure(path: path, action: "put the cut draw store in place")
            }
            return copy
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Flushes the file to disk.
    public func synchronize() throws(WriteFailure) {
        guard fsync(descriptor) == 0 else { throw WriteFailure(path: path, action: "flush the draw store") }
    }

    /// Writes `count` bytes at `offset`, retrying short writes; the failure,
    /// if any.
    private static func write(_ descriptor: Int32, _ bytes: UnsafeRawPointer, count: Int, at offset: Int,
                              path: String, action: String) -> WriteFailure? {
        var done = 0
        while done < count {
            let wrote = pwrite(descriptor, bytes + done, count - done, off_t(offset + done))
            if wrote > 0 { done += wrote; continue }
            if wrote < 0 && errno == EINTR { continue }
            return WriteFailure(path: path, action: action)
        }
        return nil
    }
}
