import Foundation

/// Writes one chain's draws as CmdStan writes its output CSV: comment lines
/// starting with `#` (the settings), a header of column names, one line per
/// draw, and — only when the chain finished — a closing timing comment, so a
/// file without it is recognisably incomplete. Readable by CmdStanPy, ArviZ's
/// `from_cmdstan`, R's `posterior::read_cmdstan_csv` and `bayesglmm summary`.
///
/// Lines are buffered and written in blocks of 64 draws; numbers use Swift's
/// shortest representation that reads back to the same double. The file
/// never ends in a partial line: when a block cannot be written in full (a
/// full disk), the file is cut back to the end of the last whole block and
/// the failure thrown, so that `written` draws are exactly what it holds.
/// A writer belongs to one thread (one chain).
public final class CmdStanCSVWriter {
    public let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var pending = 0
    /// Bytes of the file that hold whole lines.
    private var length = 0
    /// Draws in the file (not counting those still buffered).
    public private(set) var written = 0

    public init(path: String, comments: [String], names: [String]) throws(WriteFailure) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "create the chain's CSV file") }
        buffer.append(contentsOf: (comments.map { "# " + $0 + "\n" }.joined() + names.joined(separator: ",") + "\n").utf8)
        try flush()
    }

    deinit { Foundation.close(descriptor) }

    /// Appends one draw.
    public func write(_ values: [Double]) throws(WriteFailure) {
        for (j, value) in values.enumerated() {
            if j > 0 { buffer.append(UInt8(ascii: ",")) }
            if value.isNaN {
                buffer.append(contentsOf: "nan".utf8)
            } else if value.isInfinite {
                buffer.append(contentsOf: (value > 0 ? "inf" : "-inf").utf8)
            } else {
                buffer.append(contentsOf: value.description.utf8)
            }
        }
        buffer.append(UInt8(ascii: "\n"))
        pending += 1
        if pending >= 64 { try flush() }
    }

    /// Appends comment lines (for example the closing timing block).
    public func comment(_ lines: [String]) throws(WriteFailure) {
        buffer.append(contentsOf: lines.map { "# " + $0 + "\n" }.joined().utf8)
        try flush()
    }

    /// Writes what is buffered; on failure the file is cut back to its last
    /// whole block and the buffered draws are dropped.
    public func flush() throws(WriteFailure) {
        guard !buffer.isEmpty else { return }
        let bytes = buffer
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, bytes.count - done,
                                                       off_t(length + done)) }
            if wrote > 0 { done += wrote; continue }
            if wrote < 0 && errno == EINTR { continue }
            let failure = WriteFailure(path: path, action: "write the chain's draws")
            _ = ftruncate(descriptor, off_t(length))
            buffer.removeAll(keepingCapacity: true)
            pending = 0
            throw failure
        }
        length += bytes.count
        written += pending
        buffer.removeAll(keepingCapacity: true)
        pending = 0
    }

    /// Writes what is buffered and flushes the file to disk.
    public func close() throws(WriteFailure) {
        try flush()
        guard fsync(descriptor) == 0 else { throw WriteFailure(path: path, action: "flush the chain's CSV file") }
    }
}

extension CmdStanCSVWriter {
    /// Cuts a chain's CSV file after its first `count` draws (lines that are
    /// not comments, after the header), dropping the rest and any comments
    /// after them.
    public static func cut(path: String, toDraws count: Int) throws(WriteFailure) {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "open the chain's CSV file") }
        defer { Foundation.close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = 0
        var atLineStart = true, isComment = false, sawHeader = false
        var lines = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, off_t(offset)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return }     // fewer draws than `count`: nothing to cut
            for k in 0..<got {
                let byte = buffer[k]
                if atLineStart { isComment = byte == UInt8(ascii: "#"); atLineStart = false }
                guard byte == UInt8(ascii: "\n") else { continue }
                atLineStart = true
                guard !isComment else { continue }
                if !sawHeader { sawHeader = true; if count == 0 { return try truncate(descriptor, offset + k + 1) } }
                else {
                    lines += 1
                    if lines == count { return try truncate(descriptor, offset + k + 1) }
                }
            }
            offset += got
        }

        func truncate(_ descriptor: Int32, _ length: Int) throws(WriteFailure) {
            guard ftruncate(descriptor, off_t(length)) == 0, fsync(descriptor) == 0 else {
                throw WriteFailure(path: path, action: "cut the chain's CSV file")
            }
        }
    }
}

extension CmdStanCSVWriter {
    /// CmdStan's closing comment: the warm-up, sampling and total seconds.
    static func timing(warmup: Double, sampling: Double) -> [String] {
        [
            "",
            String(format: " Elapsed Time: %.3f seconds (Warm-up)", warmup),
            String(format: "               %.3f seconds (Sampling)", sampling),
            String(format: "               %.3f seconds (Total)", warmup + sampling),
        ]
    }

    /// Appends comment lines to a closed chain file (one that ends in a
    /// whole line).
    public static func appendComments(path: String, _ lines: [String]) throws(WriteFailure) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "open the chain's CSV file") }
        defer { Foundation.close(descriptor) }
        let bytes = Array(lines.map { "# " + $0 + "\n" }.joined().utf8)
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + done, bytes.count - done) }
            if wrote > 0 { done += wrote; continue }
            if wrote < 0 && errno == EINTR { continue }
            throw WriteFailure(path: path, action: "append to the chain's CSV file")
        }
        guard fsync(descriptor) == 0 else { throw WriteFailure(path: path, action: "flush the chain's CSV file") }
    }

    /// The comment `key = value` padded with spaces to `width` characters
    /// of value, so that `setComment` can later write another value of up
    /// to `width` characters in its place.
    static func paddedComment(_ key: String, _ value: String, width: Int = 20) -> String {
        "\(key) = " + value + String(repeating: " ", count: max(0, width - value.count))
    }

    /// Overwrites, in place, the value of the comment `key = …` among the
    /// comments before the header, keeping the line's length: the new value
    /// is padded with spaces (trailing spaces that readers strip) and must
    /// fit in the old one's room (`paddedComment`). Used to say how many
    /// draws a chain file of an `UntilESS` run holds once that is known.
    public static func setComment(path: String, key: String, value: String) throws(WriteFailure) {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteFailure(path: path, action: "open the chain's CSV file") }
        defer { Foundation.close(descriptor) }
        var head = [UInt8](repeating: 0, count: 1 << 16)
        let got = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, 0) }
        guard got > 0 else { throw WriteFailure(path: path, action: "read the chain's CSV file") }
        let text = String(decoding: head[0..<got], as: UTF8.self)
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let length = line.utf8.count
            guard line.hasPrefix("#") else { break }      // the header: the comments before it are over
            let prefix = "# \(key) = "
            if line.hasPrefix(prefix) {
                let room = length - prefix.utf8.count
                guard value.utf8.count <= room else {
                    throw WriteFailure(path: path, action: "write \(key) = \(value)",
                                       reason: "the comment has room for \(room) characters")
                }
                let bytes = Array((value + String(repeating: " ", count: room - value.utf8.count)).utf8)
                let wrote = bytes.withUnsafeBytes {
                    pwrite(descriptor, $0.baseAddress!, bytes.count, off_t(offset + prefix.utf8.count))
                }
                guard wrote == bytes.count, fsync(descriptor) == 0 else {
                    throw WriteFailure(path: path, action: "write \(key) = \(value)")
                }
                return
            }
            offset += length + 1
        }
        throw WriteFailure(path: path, action: "write \(key) = \(value)", reason: "no such comment")
    }
}
