import Foundation

/// A fixed, platform-independent 64-bit hash of bytes: FNV-1a (Fowler, Noll
/// & Vo), h ← (h ⊕ byte) × 1099511628211 from 14695981039346656037, modulo
/// 2⁶⁴. Unlike Swift's `Hasher` it is not seeded per process, so the same
/// bytes hash alike in every process and on every machine.
///
/// It tells data sets apart (two chains run as separate jobs must have read
/// the same file, `RunMerge`), and names random streams (`Scoring`); it is
/// not a defence against someone forging a file.
public struct DataHash: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Hashes `bytes` after those hashed so far.
    public mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        value = h
    }

    /// The hash of a string's UTF-8 bytes.
    public static func of(_ text: String) -> UInt64 {
        var hash = DataHash()
        hash.combine(text.utf8)
        return hash.value
    }

    /// `fnv1a64:` and the 16 hex digits of the hash of the file's bytes, read
    /// in blocks of 1 MiB; nil when `path` is not a regular file that can be
    /// read (data given as text, or a pipe, which cannot be read twice).
    public static func file(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
              let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hash = DataHash()
        while true {
            let block: Data?
            do { block = try handle.read(upToCount: 1 << 20) } catch { return nil }
            // Foundation gives nil or no bytes at the end of the file.
            guard let block, !block.isEmpty else { break }
            block.withUnsafeBytes { hash.combine($0) }
        }
        return "fnv1a64:" + String(hash.value, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    /// The string with zeros in front, to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
