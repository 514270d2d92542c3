import Foundation

/// A value shared between threads, read and changed only under its lock.
///
/// Backed by Foundation's `NSLock` (a pthread mutex) rather than the
/// standard library's `Synchronization.Mutex`: on Linux the standard library
/// is not built with ThreadSanitizer, so TSan cannot see a `Mutex` lock and
/// reports every access made under one as a race (seen with Swift 6.3.1 on
/// two threads incrementing a counter under `withLock`), which would drown
/// a real race in `make tsan`. A pthread mutex is intercepted by TSan.
final class Protected<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` on the value with the lock held.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
