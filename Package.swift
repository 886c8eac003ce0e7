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
        .executable(name: "dqlite-wire", targets: ["dqlite-wire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // The wire codec: no dependencies at all (no Foundation, no NIO), Swift 6.0 compatible.
        .target(name: "DqliteWire", swiftSettings: strictSettings),
        // The dissector's JSON form of every message, and a small dependency-free JSON reader/writer.
        .target(name: "DqliteWireJSON", dependencies: ["DqliteWire"], swiftSettings: strictSettings),
        // Deterministic message generation (SplitMix64) shared by tests, fuzz seeds and the arm64 proof.
        .target(name: "DqliteWireTestSupport", dependencies: ["DqliteWire"], swiftSettings: strictSettings),
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
        // libFuzzer entry points (no-op binaries in normal builds; see scripts/fuzz.sh).
        .executableTarget(name: "FuzzFrames", dependencies: ["DqliteWire"], path: "Fuzz/FuzzFrames"),
        .executableTarget(name: "FuzzRows", dependencies: ["DqliteWire"], path: "Fuzz/FuzzRows"),
        .executableTarget(name: "FuzzRequests", dependencies: ["DqliteWire"], path: "Fuzz/FuzzRequests"),
        .testTarget(
            name: "DqliteWireTests",
            dependencies: [
                "DqliteWire", "DqliteWireJSON", "DqliteWireTestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden", "Captures"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
