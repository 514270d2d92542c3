/// What can go wrong when making a distribution or calling into GSL.
public enum VariatesError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A parameter is outside the distribution's domain: `name` is the
    /// argument label, `value` what was given, `requirement` what it must be.
    case invalidParameter(distribution: String, name: String, value: Double, requirement: String)
    /// A GSL function returned an error status.
    case library(function: String, code: Int32, message: String)
    /// A computation cannot reach the accuracy it promises for these
    /// arguments (for example the Pólya–Gamma CDF for very large b).
    case inaccurate(function: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidParameter(distribution, name, value, requirement):
            return "\(distribution): \(name) = \(value) is invalid; \(name) must be \(requirement)"
        case let .library(function, code, message):
            return "GSL \(function) failed (status \(code)): \(message)"
        case let .inaccurate(function, detail):
            return "\(function): \(detail)"
        }
    }
}
