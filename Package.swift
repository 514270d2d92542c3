// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "BayesGLMM",
    products: [
        .library(name: "Variates", targets: ["Variates"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
        .library(name: "Drawing", targets: ["Drawing"]),
        .library(name: "BayesGLMM", targets: ["BayesGLMM"]),
        .executable(name: "bayesglmm", targets: ["bayesglmm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // GNU Scientific Library: random variates, special functions, FFT.
        .systemLibrary(
            name: "CGSL",
            path: "Sources/CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        // SuiteSparse CHOLMOD: sparse Cholesky for the empirical-Bayes fitter.
        .systemLibrary(
            name: "CCHOLMOD",
            path: "Sources/CCHOLMOD",
            providers: [.apt(["libsuitesparse-dev"])]
        ),
        // Linux calls Swift's Glibc module lacks (renameat2, for atomic
        // replacement of run directories).
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        // Sums of the logistic log-likelihood over cells, vectorised by
        // glibc's libmvec where the processor has it.
        .target(name: "CVectorMath", linkerSettings: [.linkedLibrary("mvec", .when(platforms: [.linux]))]),
        .target(name: "Variates", dependencies: ["CGSL"]),
        .target(name: "Diagnostics", dependencies: ["CGSL"]),
        // SVG charts (scales, axes, marks); knows nothing of statistics.
        .target(name: "Drawing"),
        .target(
            name: "BayesGLMM",
            dependencies: ["CGSL", "CCHOLMOD", "CLinux", "CVectorMath", "Variates", "Diagnostics", "Drawing", .product(name: "CSV", package: "CSV.swift"),
                           .product(name: "SystemPackage", package: "swift-system")]
        ),
        .executableTarget(
            name: "bayesglmm",
            dependencies: ["BayesGLMM", "Diagnostics", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "VariatesBenchmarks",
            dependencies: ["Variates"],
            path: "Benchmarks/Variates"
        ),
        .executableTarget(
            name: "Calibration",
            dependencies: ["BayesGLMM", "Diagnostics", "Drawing"],
            path: "Validation/sbc/Sources"
        ),
        .executableTarget(
            name: "SamplerBenchmarks",
            dependencies: ["BayesGLMM", "Diagnostics"],
            path: "Benchmarks/Sampler"
        ),
        .executableTarget(
            name: "ModelBenchmarks",
            dependencies: ["BayesGLMM"],
            path: "Benchmarks/Model"
        ),
        .executableTarget(
            name: "DiagnosticsBenchmarks",
            dependencies: ["Diagnostics"],
            path: "Benchmarks/Diagnostics"
        ),
        .testTarget(name: "VariatesTests", dependencies: ["Variates"]),
        // Reads SVG back as XML for the tests of the figures.
        .target(name: "SVGTestSupport", path: "Tests/SVGTestSupport"),
        .testTarget(name: "DrawingTests", dependencies: ["Drawing", "SVGTestSupport"]),
        .testTarget(
            name: "BayesGLMMTests",
            dependencies: ["BayesGLMM", "CVectorMath", "Diagnostics", "Drawing", "SVGTestSupport",
                           .product(name: "SystemPackage", package: "swift-system")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "CommandTests", dependencies: ["bayesglmm", "SVGTestSupport"]),
        .testTarget(
            name: "DiagnosticsTests",
            dependencies: ["Diagnostics"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/README.md): Fuzz/Targets/<Name>/<Name>.swift calls
// one reader on libFuzzer's bytes. A normal build makes each a program that
// replays the files it is given; `make fuzz` builds them with
// `-sanitize=fuzzer,address -DFUZZING` and lets libFuzzer drive them.
let fuzzTargets = ["FuzzCSV", "FuzzFormula", "FuzzPrior", "FuzzCmdStanCSV", "FuzzStoredDraws", "FuzzRunManifest"]
package.targets += [
    .systemLibrary(name: "CLibFuzzer", path: "Fuzz/LibFuzzer"),
    .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Support"),
] + fuzzTargets.map { name in
    .executableTarget(name: name, dependencies: ["BayesGLMM", "FuzzSupport"], path: "Fuzz/Targets/\(name)")
}
