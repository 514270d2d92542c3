import Foundation

/// Writes one chain's draws as CmdStan writes its output CSV: comment lines
/// starting with `#` (the settings), a header of column names, one line per
/// draw, and — only when the chain finished — a closing timing comment, so a
/// file without it is recognisably incomplete. Readable by CmdStanPy, ArviZ's
/// `from_cmdstan`, R's `posterior::read_cmdstan_csv` and `bayesglmm summary`.
///
/// Lines are buffered and written in blocks; numbers use Swift's shortest
/// representation that reads back to the same double.
public final class CmdStanCSVWriter {
    public let path: String
    private let handle: FileHandle
    private var buffer = ""
    private var pending = 0

    public init(path: String, comments: [String], names: [String]) throws(InputError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw InputError(.unreadableFile, "cannot create the file (does the directory exist and is it writable?)",
                             file: path)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw InputError(.unreadableFile, "cannot open the file for writing", file: path)
        }
        self.handle = handle
        buffer = comments.map { "# " + $0 + "\n" }.joined() + names.joined(separator: ",") + "\n"
        try flush()
    }

    deinit { try? handle.close() }

    /// Appends one draw.
    public func write(_ values: [Double]) throws(InputError) {
        buffer += values.map { $0.isNaN ? "nan" : $0.isInfinite ? ($0 > 0 ? "inf" : "-inf") : "\($0)" }
            .joined(separator: ",")
        buffer += "\n"
        pending += 1
        if pending >= 64 { try flush() }
    }

    /// Appends comment lines (for example the closing timing block).
    public func comment(_ lines: [String]) throws(InputError) {
        buffer += lines.map { "# " + $0 + "\n" }.joined()
        try flush()
    }

    public func flush() throws(InputError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: Data(buffer.utf8))
        } catch {
            throw InputError(.unreadableFile, "cannot write: \(error.localizedDescription)", file: path)
        }
        buffer = ""
        pending = 0
    }

    public func close() throws(InputError) {
        try flush()
        try? handle.close()
    }
}
