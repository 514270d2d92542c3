// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "BayesGLMM",
    products: [
        .library(name: "Variates", targets: ["Variates"]),
        .library(name: "Diagnostics", targets: ["Diagnostics"]),
    ],
    targets: [
        // GNU Scientific Library: random variates, special functions, FFT.
        .systemLibrary(
            name: "CGSL",
            path: "Sources/CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        .target(name: "Variates", dependencies: ["CGSL"]),
        .target(name: "Diagnostics", dependencies: ["CGSL"]),
        .executableTarget(
            name: "VariatesBenchmarks",
            dependencies: ["Variates"],
            path: "Benchmarks/Variates"
        ),
        .executableTarget(
            name: "DiagnosticsBenchmarks",
            dependencies: ["Diagnostics"],
            path: "Benchmarks/Diagnostics"
        ),
        .testTarget(name: "VariatesTests", dependencies: ["Variates"]),
        .testTarget(
            name: "DiagnosticsTests",
            dependencies: ["Diagnostics"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
