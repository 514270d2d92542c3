import CLibFuzzer
import Foundation

/// The `main` of every fuzz target (Fuzz/README.md).
///
/// SwiftPM renames an executable's entry point and points the linker's
/// `main` at it, so a target cannot leave `main` to libFuzzer as a C
/// program would. Every target therefore has its own `@main`, which calls
/// `FuzzDriver.main` with its `LLVMFuzzerTestOneInput`:
///
/// - built with `-sanitize=fuzzer -DFUZZING`, it hands the arguments to
///   libFuzzer (`LLVMFuzzerRunDriver`), which mutates inputs and runs them;
/// - built as usual (`swift build`, `swift test`), it runs the test once on
///   each file named and on each file in each directory named, so that a
///   crashing input can be replayed in a debugger or a debug build, and so
///   that the targets compile and link in every build.
public enum FuzzDriver {
    /// libFuzzer's callback: the input's bytes and their count; returns 0.
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func main(_ test: TestOneInput) -> Never {
        #if FUZZING
        var count = CommandLine.argc
        var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&count, &arguments, test))
        #else
        exit(replay(CommandLine.arguments.dropFirst(), test))
        #endif
    }

    /// Runs `test` on each file of `paths` (a directory stands for the files
    /// in it, in name order); returns the exit status.
    static func replay(_ paths: ArraySlice<String>, _ test: TestOneInput) -> Int32 {
        guard !paths.isEmpty else {
            let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "target"
            print("usage: \(name) FILE|DIRECTORY ...   (runs each input once; build with -sanitize=fuzzer "
                  + "-DFUZZING to fuzz: see Fuzz/README.md)")
            return 2
        }
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                print("no such file: \(path)")
                return 2
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                print("cannot read \(file)")
                return 2
            }
            print("running \(file) (\(data.count) bytes)")
            _ = data.withUnsafeBytes { test($0.bindMemory(to: UInt8.self).baseAddress, data.count) }
        }
        print("ran \(files.count) input\(files.count == 1 ? "" : "s")")
        return 0
    }
}
