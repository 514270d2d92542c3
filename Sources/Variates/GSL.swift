import CGSL

/// The boundary with the GNU Scientific Library.
///
/// GSL's default error handler aborts the process; it is switched off once,
/// before the first GSL call, and every status code GSL returns is turned
/// into a thrown `VariatesError` by `GSL.check`.
enum GSL {
    /// Switches GSL's aborting error handler off (once per process).
    static func configure() { _ = handlerOff }

    private static let handlerOff: Void = { cgsl_error_handler_off() }()

    /// Throws unless `status` is `GSL_SUCCESS`.
    static func check(_ status: Int32, _ function: String) throws(VariatesError) {
        guard status == Int32(GSL_SUCCESS) else {
            throw .library(function: function, code: status, message: String(cString: gsl_strerror(status)))
        }
    }
}
