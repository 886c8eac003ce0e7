// swift-tools-version:6.1
// Codec benchmarks for DqliteWire, on the same bytes as go-dqlite 1.11.5's codec benchmark (see Inputs/README.md).
// Run: `swift package --package-path Benchmarks benchmark` (or `bash scripts/bench-codec.sh` for the side-by-side).
// The end-to-end benchmark (`dqlite-e2e`, a plain executable) is run by `bash scripts/bench-e2e.sh`.
// This is a separate package so that the main package, and its tests, never resolve ordo-one/benchmark.
import PackageDescription

/// The malloc interposer counts allocations (the `mallocCountTotal` metric), but the plugin preloads it into
/// every run, and its wrappers cost the decode benchmarks 13–22 ns per row (two mallocs and two frees).
/// `WIRE_BENCH_NO_MALLOC_INTERPOSER=1` builds without it, for timing only; use a separate scratch path
/// (scripts/bench-codec.sh uses Benchmarks/.build-timing), or a library left over from a counting build is
/// still preloaded.
let benchmarkTraits: Set<Package.Dependency.Trait> =
    Context.environment["WIRE_BENCH_NO_MALLOC_INTERPOSER"] == nil ? ["MallocInterposer"] : []

let package = Package(
    name: "swift-dqlite-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` so that the product reference works whatever the clone's folder is called.
        .package(name: "swift-dqlite", path: ".."),
        // `traits: ["MallocInterposer"]` switches off the default RuntimeInterposer trait, whose extra
        // dependency (swift-runtime-interposer) is only pulled in on Linux with Swift 6.3.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: benchmarkTraits),
        // For the end-to-end benchmark: its busy-retry counter, and the `--executor nio` diagnostic (both are
        // dependencies of swift-dqlite already).
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        .executableTarget(
            name: "WireBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DqliteWire", package: "swift-dqlite"),
            ],
            path: "Benchmarks/WireBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The end-to-end benchmark (scripts/bench-e2e.sh): the Dqlite client against a running cluster, side
        // by side with go-dqlite (Benchmarks/go/e2e), plus the in-process libsqlite3 reference. A plain
        // executable with wall-clock throughput and latency percentiles, not an ordo-one benchmark:
        // `swift build -c release --package-path Benchmarks --product dqlite-e2e`.
        .executableTarget(
            name: "dqlite-e2e",
            dependencies: [
                "CSQLite3",
                .product(name: "Dqlite", package: "swift-dqlite"),
                .product(name: "DqliteWire", package: "swift-dqlite"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // Not under Benchmarks/: ordo-one's plugin takes every executable target in a folder named
            // "Benchmarks" for one of its benchmarks.
            path: "EndToEnd/Sources"
        ),
        // libsqlite3 (Debian's libsqlite3-dev), for the in-process reference.
        .systemLibrary(
            name: "CSQLite3", path: "EndToEnd/CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    ],
    swiftLanguageModes: [.v6]
)
