import Foundation

/// What the targets make of libFuzzer's bytes.
public enum FuzzInput {
    /// The bytes as a string, invalid UTF-8 replaced by U+FFFD as
    /// `String(decoding:as:)` does; this is how the readers that take a file
    /// turn its bytes into text.
    public static func text(_ data: UnsafePointer<UInt8>?, _ count: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    }
}

/// One file, made once per process, that holds the current input, for a
/// reader that takes a path.
///
/// Rewritten in place for every input (truncated, then written), so that a
/// target costs one small write per execution rather than a new file, and
/// removed when the process exits normally. It lives in /dev/shm, memory,
/// when there is one: truncating and rewriting a file on this machine's disk
/// (ext4 mounted with `discard`) costs about 2.5 ms, ten times the parsing.
public final class ScratchFile: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// A new file in /dev/shm, else in the temporary directory; its name
    /// ends in `suffix`.
    public init(suffix: String) {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
        var template = Array((directory + "/bayesglmm-fuzz-XXXXXX" + suffix).utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count)) }
        precondition(descriptor >= 0, "cannot make a scratch file: " + String(cString: strerror(errno)))
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        ScratchFile.removeAtExit(path)
    }

    /// Replaces the file's contents with `count` bytes at `data`.
    public func write(_ data: UnsafePointer<UInt8>?, _ count: Int) {
        precondition(ftruncate(descriptor, 0) == 0, "cannot truncate the scratch file")
        var done = 0
        while done < count {
            let written = pwrite(descriptor, data! + done, count - done, off_t(done))
            precondition(written > 0 || errno == EINTR, "cannot write the scratch file")
            if written > 0 { done += written }
        }
    }

    nonisolated(unsafe) private static var paths: [String] = []

    private static func removeAtExit(_ path: String) {
        if paths.isEmpty { atexit { for path in ScratchFile.paths { unlink(path) } } }
        paths.append(path)
    }
}
