import Foundation

/// An output that could not be written: a full disk, a file-size limit, a
/// directory that went away. Not bad input — the same command may succeed
/// with room on the disk — so the command-line tool exits with status 1.
public struct WriteFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or directory being written.
    public var path: String
    /// What was being done, e.g. "write a draw to the draw store".
    public var action: String
    /// The system's reason (`strerror(errno)`), e.g. "No space left on device".
    public var reason: String

    public init(path: String, action: String, reason: String) {
        self.path = path
        self.action = action
        self.reason = reason
    }

    /// The failure of the last system call, from `errno`.
    public init(path: String, action: String) {
        self.init(path: path, action: action, reason: String(cString: strerror(errno)))
    }

    public var description: String { "\(path): cannot \(action): \(reason)" }
}
