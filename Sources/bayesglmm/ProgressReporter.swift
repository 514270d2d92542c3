import BayesGLMM
import Foundation

/// Progress on standard error: a bar with sweeps/s and ETA on a terminal,
/// a plain line every 10 seconds otherwise.
final class ProgressReporter: @unchecked Sendable {
    let progress: SamplingProgress
    let terminal = isatty(STDERR_FILENO) != 0
    let timer = DispatchSource.makeTimerSource(queue: .global())
    let started = Date()

    init(progress: SamplingProgress) { self.progress = progress }

    func start() {
        timer.schedule(deadline: .now() + 1, repeating: terminal ? 0.5 : 10)
        timer.setEventHandler { [self] in report(final: false) }
        timer.resume()
    }

    func finish() {
        timer.cancel()
        report(final: true)
    }

    func report(final: Bool) {
        let done = progress.completed, total = max(progress.total, 1)
        let elapsed = Date().timeIntervalSince(started)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let fraction = Double(done) / Double(total)
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = String(format: "\r[%@] %3.0f%%  %.0f sweeps/s  ETA %.0f s ", bar, 100 * fraction, rate, eta)
            FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
        } else if !final || done > 0 {
            let line = String(format: "%d/%d sweeps (%.0f%%), %.0f sweeps/s, ETA %.0f s\n",
                              done, total, 100 * fraction, rate, eta)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
