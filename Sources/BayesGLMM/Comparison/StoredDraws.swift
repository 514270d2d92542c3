import Diagnostics
import Foundation

/// The draws a fit stored in `draws.npy` (see `DrawStore`), read back:
/// a little-endian float64 array of shape (chains, draws, parameters) in C
/// order after NumPy's header. The file is memory-mapped, so that a run of
/// several gigabytes is read a block of parameters at a time and never
/// copied whole.
public struct StoredDraws: @unchecked Sendable {
    public let path: String
    public let chains: Int
    public let draws: Int
    public let parameters: Int
    /// The mapped file (immutable; shared safely between readers).
    private let data: Data
    /// Where the array starts, after the header.
    private let dataOffset: Int

    /// Opens and checks a `.npy` file: NumPy format version 1, 2 or 3, dtype
    /// `<f8`, C order, three dimensions, and at least as many bytes as the
    /// shape needs. Every failure names the file.
    public init(path: String) throws(InputError) {
        self.path = path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw InputError(.unreadableFile, "cannot read the draws: \(error.localizedDescription)", file: path)
        }
        self.data = data
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard data.count >= 10, Array(data.prefix(6)) == magic else {
            throw InputError(.malformedCSV, "not a NumPy .npy file (no \\x93NUMPY magic)", file: path)
        }
        let major = data[data.startIndex + 6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), data.count >= 8 + lengthBytes else {
            throw InputError(.malformedCSV, "unsupported .npy format version \(major)", file: path)
        }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(data[data.startIndex + 8 + k]) << (8 * k) }
        let headerStart = 8 + lengthBytes
        guard data.count >= headerStart + headerLength else {
            throw InputError(.malformedCSV, "truncated .npy header", file: path)
        }
        let header = String(decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)],
                            as: UTF8.self)
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
        chains = fields.shape[0]
        draws = fields.shape[1]
        parameters = fields.shape[2]
        dataOffset = headerStart + headerLength
        let needed = dataOffset + chains * draws * parameters * 8
        guard data.count >= needed else {
            throw InputError(.malformedCSV, "truncated: \(data.count) bytes where the shape (\(chains), \(draws), "
                             + "\(parameters)) needs \(needed)", file: path)
        }
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
    /// `parameters` (indices along the last axis), as `Draws` (chains ×
    /// `count`). Reads one row of the array (one draw of every parameter) at
    /// a time, so a block of neighbouring parameters costs one pass over the
    /// rows it needs.
    public func draws(of parameters: [Int], first count: Int) throws(InputError) -> [Draws] {
        guard chains >= 1, count >= 1, count <= draws else {
            throw InputError(.emptyData, "cannot take the first \(count) draws of \(chains) chains of \(draws) draws",
                             file: path)
        }
        precondition(parameters.allSatisfy { $0 >= 0 && $0 < self.parameters }, "parameter index out of range")
        // One flat buffer, parameter-major, written through a pointer (no
        // per-element uniqueness checks of nested arrays).
        let length = chains * count
        var flat = [Double](repeating: 0, count: parameters.count * length)
        flat.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for chain in 0..<chains {
                    for draw in 0..<count {
                        let row = dataOffset + (chain * draws + draw) * self.parameters * 8
                        let position = chain * count + draw
                        for (k, parameter) in parameters.enumerated() {
                            let bits = raw.loadUnaligned(fromByteOffset: row + parameter * 8, as: UInt64.self)
                            out[k * length + position] = Double(bitPattern: UInt64(littleEndian: bits))
                        }
                    }
                }
            }
        }
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
