// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every Swift target of the package.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-dqlite",
    products: [
        .library(name: "DqliteWire", targets: ["DqliteWire"]),
        .library(name: "DqliteWireJSON", targets: ["DqliteWireJSON"]),
        .library(name: "Dqlite", targets: ["Dqlite"]),
        .library(name: "DqliteServer", targets: ["DqliteServer"]),
        .executable(name: "dqlite-wire", targets: ["dqlite-wire"]),
        .executable(name: "dqlite-node", targets: ["dqlite-node"]),
        .executable(name: "dqlite-shell", targets: ["dqlite-shell"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.1.0"),
    ],
    targets: [
        // The wire codec: no dependencies at all (no Foundation, no NIO), Swift 6.0 compatible.
        .target(name: "DqliteWire", swiftSettings: strictSettings),
        // The dissector's JSON form of every message, and a small dependency-free JSON reader/writer.
        .target(name: "DqliteWireJSON", dependencies: ["DqliteWire"], swiftSettings: strictSettings),
        // The client: transport and connection (SwiftNIO), leader discovery, cluster administration.
        // Never links libdqlite.
        .target(
            name: "Dqlite",
            dependencies: [
                "DqliteWire", "DqliteSQL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // libdqlite, for embedding a node in-process (DqliteServer) and for tests.
        .systemLibrary(name: "CDqlite", pkgConfig: "dqlite", providers: [.apt(["libdqlite-dev"])]),
        // An embedded dqlite node with a Swift lifecycle.
        .target(
            name: "DqliteServer",
            dependencies: [
                "CDqlite", "Dqlite",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Local clusters for tests, examples, benchmarks and the fault suite: in-process 1.11 nodes or
        // libdqlite 1.18.7 nodes through scripts/dqlite118.sh, unique loopback ports, scoped teardown.
        .target(
            name: "DqliteLocalCluster",
            dependencies: [
                "Dqlite", "DqliteServer", "DqliteWire",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // `dqlite-node`: one node as a process (joins through the client; hands over on SIGTERM).
        .executableTarget(
            name: "dqlite-node",
            dependencies: [
                "Dqlite", "DqliteServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Examples/dqlite-node",
            swiftSettings: strictSettings
        ),
        // `dqlite-shell`: the interactive SQL shell (embedded node by default, or a cluster); the REPL logic is
        // DqliteShellCore, this target only wires it to the client, the embedded node and the terminal.
        .executableTarget(
            name: "dqlite-shell",
            dependencies: [
                "DqliteShellCore", "Dqlite", "DqliteServer", "DqliteWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/dqlite-shell",
            swiftSettings: strictSettings
        ),
        // A compiled tour of the client API (the DocC articles quote it).
        .executableTarget(
            name: "dqlite-example",
            dependencies: ["Dqlite", "DqliteServer", .product(name: "Logging", package: "swift-log")],
            path: "Examples/dqlite-example",
            swiftSettings: strictSettings
        ),
        // scripts/mixed-arch.sh's amd64 client: a cluster of amd64 dqlite-nodes and an arm64 node under qemu,
        // leadership moved between the architectures, every value type, checksums per leader, latency.
        .executableTarget(
            name: "mixed-arch-check",
            dependencies: [
                "Dqlite", "DqliteWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/mixed-arch-check",
            swiftSettings: strictSettings
        ),
        // Deterministic message generation (SplitMix64) shared by tests, fuzz seeds and the arm64 proof.
        .target(
            name: "DqliteWireTestSupport", dependencies: ["DqliteWire", "DqliteWireJSON"], swiftSettings: strictSettings
        ),
        // `dqlite-wire decode`: a wire dissector for captured dqlite traffic.
        .executableTarget(
            name: "dqlite-wire",
            dependencies: [
                "DqliteWire", "DqliteWireJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // The arm64/amd64 byte-identity proof: golden vectors both ways plus a 100,000-message digest
        // (scripts/test-arm64.sh builds it for aarch64 with Swift 6.0.3 and runs it under qemu).
        .executableTarget(
            name: "dqlite-wire-golden",
            dependencies: ["DqliteWire", "DqliteWireJSON", "DqliteWireTestSupport"],
            swiftSettings: strictSettings
        ),
        // libedit (Debian's libedit-dev): line editing and history for the shell.
        .systemLibrary(name: "CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // The dqlite shell's REPL logic: statement splitting, dot-commands, result rendering, line editing.
        .target(
            name: "DqliteShellCore", dependencies: ["DqliteWire", "DqliteSQL", "CEdit"], swiftSettings: strictSettings),
        // SQL text analysis without a parser: statement splitting (strings, comments, triggers) and the
        // classification that routes statements to QUERY or EXEC. Used by the client and the shell.
        .target(name: "DqliteSQL", swiftSettings: strictSettings),
        // libFuzzer entry points (no-op binaries in normal builds; see scripts/fuzz.sh).
        .executableTarget(name: "FuzzFrames", dependencies: ["DqliteWire"], path: "Fuzz/FuzzFrames"),
        .executableTarget(name: "FuzzRows", dependencies: ["DqliteWire"], path: "Fuzz/FuzzRows"),
        .executableTarget(name: "FuzzRequests", dependencies: ["DqliteWire"], path: "Fuzz/FuzzRequests"),
        // Test plumbing shared by the test targets that run processes and proxies: child processes with bounded
        // waits, and a TCP fault proxy (cut, blackhole, half-open, reset, truncate, corrupt, delay, trickle).
        .target(
            name: "DqliteTestSupport", dependencies: ["DqliteLocalCluster", "DqliteWire"],
            path: "Tests/DqliteTestSupport", swiftSettings: strictSettings),
        .testTarget(
            name: "DqliteTests",
            dependencies: [
                "Dqlite", "DqliteWire", "DqliteWireTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DqliteServerTests",
            dependencies: [
                "CDqlite", "Dqlite", "DqliteServer", "DqliteLocalCluster", "DqliteWire",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The cluster layer against real nodes: libdqlite 1.11.1 (in-process) and 1.18.7 (chroot), go-dqlite
        // interop, TLS through stunnel, failure paths.
        .testTarget(
            name: "DqliteIntegrationTests",
            dependencies: [
                "Dqlite", "DqliteTestSupport", "DqliteServer", "DqliteLocalCluster", "DqliteWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The pooled client and SQL API against real 1- and 3-node clusters of both server generations.
        .testTarget(
            name: "DqliteClientTests",
            dependencies: [
                "Dqlite", "DqliteTestSupport", "DqliteServer", "DqliteLocalCluster", "DqliteWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DqliteWireTests",
            dependencies: [
                "DqliteWire", "DqliteWireJSON", "DqliteWireTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden", "Captures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DqliteShellTests",
            dependencies: ["DqliteShellCore", "DqliteSQL", "DqliteWire"],
            swiftSettings: strictSettings
        ),
        // Drives the dqlite-shell binary: one-shot and piped modes against an embedded node and a 3-node
        // cluster, and an interactive session in a tmux pseudo-terminal.
        .testTarget(
            name: "DqliteShellE2ETests",
            dependencies: ["dqlite-shell", "DqliteLocalCluster"],
            swiftSettings: strictSettings
        ),
        // Fault injection against dqlite-node processes behind TCP fault proxies (Jepsen-style set, bank and
        // id/other workloads with checkers), and a hostile fake server. Smoke by default; scripts/faults.sh runs
        // longer ones (DQLITE_FAULT_DURATION) and writes docs/reliability.md's figures.
        .testTarget(
            name: "DqliteFaultTests",
            dependencies: [
                "Dqlite", "DqliteTestSupport", "DqliteLocalCluster", "DqliteWire", "DqliteWireTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
