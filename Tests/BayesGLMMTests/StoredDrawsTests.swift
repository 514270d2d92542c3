import Foundation
import Testing

import BayesGLMM

/// Reading a draws.npy whose header is wrong: refused with an error naming
/// the file, never a trap (inputs from the fuzz target FuzzStoredDraws).
@Suite struct StoredDrawsTests {
    /// A version 1.0 .npy file holding `dictionary` as its header and
    /// `dataBytes` zero bytes of data, in a fresh temporary file.
    private func store(_ dictionary: String, dataBytes: Int = 0) throws -> String {
        let unpadded = 10 + dictionary.utf8.count + 1
        let header = dictionary + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("stored-draws-tests-\(getpid())-\(UUID().uuidString).npy").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func error(_ path: String) -> InputError? {
        do {
            _ = try StoredDraws(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsAStoreWhoseSizeFitsItsShape() throws {
        let path = try store("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }", dataBytes: 2 * 3 * 4 * 8)
        let draws = try StoredDraws(path: path)
        #expect((draws.chains, draws.draws, draws.parameters) == (2, 3, 4))
        #expect(try draws.matrix(of: [3], first: 3) == [Double](repeating: 0, count: 6))
    }

    /// The number of bytes the shape needs is beyond Int: was an arithmetic
    /// overflow trap.
    @Test func refusesAShapeTooLargeForAnyFile() throws {
        let path = try store("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }")
        let problem = try #require(error(path))
        #expect(problem.kind == .malformedCSV)
        #expect(problem.file == path)
        #expect(problem.message == "the shape (4294967296, 4294967296, 2) is too large for any file")
    }

    /// No parameters, so no bytes, but chains × draws (which the reads
    /// multiply) is beyond Int.
    @Test func refusesChainsTimesDrawsBeyondInt() throws {
        let path = try store("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4, 0), }")
        #expect(error(path)?.message == "the shape (4611686018427387904, 4, 0) is too large for any file")
    }
}
