// swift-tools-version: 6.1
// Performance benchmarks of CallScope (ordo-one/benchmark). Kept in their own package so the main
// package's build and test suite never pull in the benchmark framework. Run with scripts/bench or
// `swift package --package-path Benchmarks benchmark`.
import PackageDescription

let package = Package(
  name: "CallScopeBenchmarks",
  platforms: [.macOS(.v14)],
  dependencies: [
    // Named: a path package's identity is otherwise its folder's name, which differs per checkout.
    .package(name: "CallScope", path: ".."),
    // The MallocInterposer trait gives the malloc* metrics (and names the traits explicitly, which
    // this machine's package copies need).
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "CallScopeBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "CallScopeKit", package: "CallScope"),
        .product(name: "ImageBuilder", package: "CallScope"),
      ],
      path: "Benchmarks/CallScopeBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    // Not a benchmark suite (outside Benchmarks/, so the plugin leaves it alone): times ISF loads
    // in process for scripts/bench's comparison with Volatility 3.
    .executableTarget(
      name: "isf-load-time",
      dependencies: [.product(name: "CallScopeKit", package: "CallScope")],
      path: "Tools/ISFLoadTime"
    ),
  ]
)
