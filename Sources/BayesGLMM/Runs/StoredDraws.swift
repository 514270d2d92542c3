import Diagnostics
import Foundation

/// The draws a fit stored in `draws.npy` (see `DrawStore`), read back:
/// a little-endian float64 array of shape (chains, draws, parameters) in C
/// order after NumPy's header. The file is read with positioned reads of the
/// parameters asked for, one draw's row at a time, never mapped or read
/// whole: a run of several gigabytes costs memory only for the block of
/// parameters in hand, and the process's resident memory says so.
public struct StoredDraws: @unchecked Sendable {
    public let path: String
    /// The chains read (`selecting(chains:)`; all the file's chains unless
    /// narrowed).
    public var chains: Int { selection?.count ?? storedChains }
    /// The chains in the file.
    public let storedChains: Int
    /// The file's chain of each chain read, 0-based; nil: every chain.
    private var selection: [Int]?
    public let draws: Int
    public let parameters: Int
    /// The open file (positioned reads only: shared safely between threads).
    private let file: ReadOnlyFile
    /// Where the array starts, after the header.
    private let dataOffset: Int

    /// Opens and checks a `.npy` file: NumPy format version 1, 2 or 3, dtype
    /// `<f8`, C order, three dimensions, and at least as many bytes as the
    /// shape needs. Every failure names the file.
    public init(path: String) throws(InputError) {
        self.path = path
        let file = try ReadOnlyFile(path: path)
        self.file = file
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        let start = try file.bytes(at: 0, count: min(12, file.size))
        guard start.count >= 10, Array(start.prefix(6)) == magic else {
            throw InputError(.malformedCSV, "not a NumPy .npy file (no \\x93NUMPY magic)", file: path)
        }
        let major = start[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), start.count >= 8 + lengthBytes else {
            throw InputError(.malformedCSV, "unsupported .npy format version \(major)", file: path)
        }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(start[8 + k]) << (8 * k) }
        let headerStart = 8 + lengthBytes
        guard file.size >= headerStart + headerLength else {
            throw InputError(.malformedCSV, "truncated .npy header", file: path)
        }
        let header = String(decoding: try file.bytes(at: headerStart, count: headerLength), as: UTF8.self)
        let fields = try StoredDraws.headerFields(header, path: path)
        guard fields.descr == "<f8" else {
            throw InputError(.malformedCSV, "the draws have dtype '\(fields.descr)'; expected '<f8' (float64)", file: path)
        }
        guard !fields.fortranOrder else {
            throw InputError(.malformedCSV, "the draws are in Fortran order; expected C order", file: path)
        }
        guard fields.shape.count == 3 else {
            throw InputError(.malformedCSV, "the draws have \(fields.shape.count) dimensions; expected 3 "
                             + "(chains, draws, parameters)", file: path)
        }
        storedChains = fields.shape[0]
        draws = fields.shape[1]
        parameters = fields.shape[2]
        dataOffset = headerStart + headerLength
        // The header's sizes are the file's word: their product can exceed
        // Int, and then no file is that large (Fuzz/Corpus/FuzzStoredDraws).
        guard let needed = StoredDraws.bytesNeeded(offset: dataOffset, shape: fields.shape) else {
            throw InputError(.malformedCSV, "the shape (\(storedChains), \(draws), \(parameters)) is too large for "
                             + "any file", file: path)
        }
        guard file.size >= needed else {
            throw InputError(.malformedCSV, "truncated: \(file.size) bytes where the shape (\(storedChains), "
                             + "\(draws), \(parameters)) needs \(needed)", file: path)
        }
    }

    /// The same file, reading only the chains `indices` (0-based, in the
    /// file), in that order: chain k of the result is the file's chain
    /// `indices[k]`.
    public func selecting(chains indices: [Int]) -> StoredDraws {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < storedChains }, "chain index out of range")
        var narrowed = self
        narrowed.selection = indices
        return narrowed
    }

    /// The bytes of draws `range` of the file's chain `chain`, every
    /// parameter, as stored (little-endian float64, draw-major).
    func rawDraws(ofStoredChain chain: Int, _ range: Range<Int>) throws(InputError) -> [UInt8] {
        precondition(chain >= 0 && chain < storedChains && range.lowerBound >= 0 && range.upperBound <= draws)
        let row = parameters * 8
        return try file.bytes(at: dataOffset + (chain * draws + range.lowerBound) * row, count: range.count * row)
    }

    /// `offset` plus 8 bytes per element of `shape` (chains, draws,
    /// parameters); nil when that, or chains × draws (which the reads use
    /// even when there are no parameters), is beyond `Int`.
    static func bytesNeeded(offset: Int, shape: [Int]) -> Int? {
        guard shape.count == 3, let bytes = DrawStore.size(chains: shape[0], draws: shape[1], parameters: shape[2])
        else { return nil }
        let (needed, overflowed) = offset.addingReportingOverflow(bytes)
        return overflowed ? nil : needed
    }

    /// The header dictionary's entries, e.g.
    /// `{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1000, 7091), }`.
    static func headerFields(_ header: String, path: String) throws(InputError)
        -> (descr: String, fortranOrder: Bool, shape: [Int]) {
        func value(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let descrText = value("descr"), descrText.first == "'",
              let close = descrText.dropFirst().firstIndex(of: "'") else {
            throw InputError(.malformedCSV, "the .npy header has no 'descr'", file: path)
        }
        let descr = String(descrText[descrText.index(after: descrText.startIndex)..<close])
        guard let orderText = value("fortran_order"), orderText.hasPrefix("True") || orderText.hasPrefix("False") else {
            throw InputError(.malformedCSV, "the .npy header has no 'fortran_order'", file: path)
        }
        guard let shapeText = value("shape"), shapeText.first == "(", let end = shapeText.firstIndex(of: ")") else {
            throw InputError(.malformedCSV, "the .npy header has no 'shape'", file: path)
        }
        var shape: [Int] = []
        for part in shapeText[shapeText.index(after: shapeText.startIndex)..<end].split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let size = Int(text), size >= 0 else {
                throw InputError(.malformedCSV, "the .npy header has a bad shape '\(shapeText[...end])'", file: path)
            }
            shape.append(size)
        }
        return (descr, orderText.hasPrefix("True"), shape)
    }

    /// The first `count` draws of every chain of each parameter in
    /// `parameters` (indices along the last axis) in one flat buffer,
    /// parameter-major: parameter k's draws are elements k·L ..< (k + 1)·L,
    /// L = chains × `count`, chain by chain.
    ///
    /// The parameters are read in runs of neighbouring indices (gaps of up to
    /// `StoredDraws.gap` unwanted values are read through rather than
    /// split), one positioned read per run and draw, so a block of
    /// neighbouring parameters costs one read per draw.
    public func matrix(of parameters: [Int], first count: Int) throws(InputError) -> [Double] {
        guard chains >= 1, count >= 1, count <= draws else {
            throw InputError(.emptyData, "cannot take the first \(count) draws of \(chains) chains of \(draws) draws",
                             file: path)
        }
        precondition(parameters.allSatisfy { $0 >= 0 && $0 < self.parameters }, "parameter index out of range")
        let length = chains * count
        var flat = [Double](repeating: 0, count: parameters.count * length)
        guard !parameters.isEmpty else { return flat }
        // Runs of sorted distinct indices: lower…upper, and the requests in each.
        let sorted = parameters.indices.sorted { parameters[$0] < parameters[$1] }
        var runs: [(lower: Int, upper: Int, requests: [Int])] = []
        for k in sorted {
            let index = parameters[k]
            if let last = runs.last, index - last.upper <= StoredDraws.gap {
                runs[runs.count - 1].upper = max(last.upper, index)
                runs[runs.count - 1].requests.append(k)
            } else {
                runs.append((index, index, [k]))
            }
        }
        let widest = runs.map { $0.upper - $0.lower + 1 }.max()!
        var row = [UInt64](repeating: 0, count: widest)
        var failure: InputError?
        flat.withUnsafeMutableBufferPointer { out in
            row.withUnsafeMutableBytes { buffer in
                for chain in 0..<chains {
                    for draw in 0..<count {
                        let start = dataOffset + ((selection?[chain] ?? chain) * draws + draw) * self.parameters * 8
                        let position = chain * count + draw
                        for run in runs {
                            do throws(InputError) {
                                try file.read(into: buffer.baseAddress!, at: start + run.lower * 8,
                                              count: (run.upper - run.lower + 1) * 8)
                            } catch {
                                failure = error
                                return
                            }
                            let values = buffer.bindMemory(to: UInt64.self)
                            for k in run.requests {
                                let bits = values[parameters[k] - run.lower]
                                out[k * length + position] = Double(bitPattern: UInt64(littleEndian: bits))
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return flat
    }

    /// Unwanted values between two wanted ones read through in one read
    /// (4 KB) rather than making two reads.
    static let gap = 512

    /// The first `count` draws of every chain of each parameter in
    /// `parameters` (indices along the last axis), as `Draws` (chains ×
    /// `count`); see `matrix(of:first:)`.
    public func draws(of parameters: [Int], first count: Int) throws(InputError) -> [Draws] {
        let flat = try matrix(of: parameters, first: count)
        let length = chains * count
        var result: [Draws] = []
        result.reserveCapacity(parameters.count)
        for k in 0..<parameters.count {
            do {
                result.append(try Draws(columnMajor: Array(flat[(k * length)..<((k + 1) * length)]),
                                        iterations: count, chains: chains))
            } catch {
                throw InputError(.malformedCSV, "the draws do not form chains: \(error)", file: path)
            }
        }
        return result
    }
}

/// A file opened for reading at positions (`pread`), closed when the last
/// copy of the value holding it goes; safe to read from several threads.
final class ReadOnlyFile: @unchecked Sendable {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(path: String) throws(InputError) {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(.unreadableFile, "cannot read the draws: " + String(cString: strerror(errno)), file: path)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw InputError(.unreadableFile, "cannot read the draws: " + reason, file: path)
        }
        size = Int(status.st_size)
    }

    deinit { close(descriptor) }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    func read(into buffer: UnsafeMutableRawPointer, at offset: Int, count: Int) throws(InputError) {
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if got > 0 { done += got; continue }
            if got < 0 && errno == EINTR { continue }
            let reason = got == 0 ? "the file ended early" : String(cString: strerror(errno))
            throw InputError(.unreadableFile, "cannot read the draws at byte \(offset + done): " + reason, file: path)
        }
    }

    /// `count` bytes at `offset`.
    func bytes(at offset: Int, count: Int) throws(InputError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: InputError?
        bytes.withUnsafeMutableBytes { buffer in
            guard count > 0 else { return }
            do throws(InputError) { try read(into: buffer.baseAddress!, at: offset, count: count) } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
