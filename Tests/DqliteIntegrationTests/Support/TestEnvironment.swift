import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation

/// A program or file the integration tests need is missing. Tests FAIL with this message; they are never
/// skipped.
struct MissingPrerequisite: Error, CustomStringConvertible {
    let description: String
}

/// Something a test checks on the way went wrong (an unexpected answer, a timeout while waiting).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
}

/// Where the tests find their programs, and shared settings.
enum TestEnvironment {
    /// The package root, from this file's path (`<root>/Tests/DqliteIntegrationTests/Support/…`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `dqlite-node` executable built from `Examples/dqlite-node`: `$DQLITE_NODE_BINARY`, else next to
    /// the test bundle (`.build/<triple>/debug/`), else `<root>/.build/debug/`.
    static func dqliteNodeBinary() throws -> String {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["DQLITE_NODE_BINARY"], !override.isEmpty {
            candidates.append(override)
        }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("dqlite-node").path)
        }
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        candidates.append(bundle.appendingPathComponent("dqlite-node").path)
        candidates.append(packageRoot.appendingPathComponent(".build/debug/dqlite-node").path)
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw MissingPrerequisite(
            description:
                "the dqlite-node executable is not built: run `swift build --product dqlite-node` (looked at: "
                + candidates.joined(separator: ", ") + ")")
    }

    /// A program that must be installed (Debian package `package`).
    static func program(_ name: String, package: String) throws -> String {
        guard let path = Subprocess.find(name) else {
            throw MissingPrerequisite(description: "\(name) is not installed: apt-get install \(package)")
        }
        return path
    }

    /// `scripts/dqlite118.sh` (or `$DQLITE118_SCRIPT`).
    static func dqlite118Script() throws -> String {
        let environment = ProcessInfo.processInfo.environment["DQLITE118_SCRIPT"]
        let path =
            environment.flatMap { $0.isEmpty ? nil : $0 }
            ?? packageRoot.appendingPathComponent("scripts/dqlite118.sh").path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MissingPrerequisite(description: "dqlite 1.18 nodes need scripts/dqlite118.sh, not found at \(path)")
        }
        return path
    }

    /// A new empty directory under /tmp (the caller removes it).
    static func makeTemporaryDirectory(_ prefix: String) throws -> URL {
        let url = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Discovery settings for loopback clusters: quick dial and probe deadlines, short backoff.
    static func discovery(timeout: Duration = .seconds(20)) -> DqliteLeaderDiscovery.Configuration {
        .init(
            connection: .init(connectTimeout: .seconds(2), defaultCallTimeout: .seconds(10)),
            probeTimeout: .seconds(2), timeout: timeout, backoffBase: .milliseconds(50),
            backoffCap: .milliseconds(500))
    }

    /// Admin settings for loopback clusters.
    static func admin(timeout: Duration = .seconds(30)) -> DqliteClusterAdmin.Configuration {
        .init(discovery: discovery(), requestTimeout: .seconds(15), confirmationTimeout: timeout)
    }
}

/// Runs `body` with a fresh temporary directory, removed afterwards (also on throw).
func withTemporaryDirectory<Result>(
    _ prefix: String, isolation: isolated (any Actor)? = #isolation, _ body: (URL) async throws -> Result
) async throws -> Result {
    let directory = try TestEnvironment.makeTemporaryDirectory(prefix)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Node addresses from strings.
func nodeAddresses(_ addresses: [String]) throws -> [DqliteNodeAddress] {
    try addresses.map { try DqliteNodeAddress($0) }
}

extension DqliteConnection {
    /// OPEN (`volatile` VFS, as go-dqlite sends it).
    func open(_ database: String) async throws {
        _ = try await call(.open(database: database, flags: 0, vfs: "volatile"))
    }

    /// EXEC_SQL; returns rows affected.
    @discardableResult
    func exec(_ sql: String, _ parameters: [WireValue] = []) async throws -> UInt64 {
        let response = try await call(.execSQL(SQLCall(sql: sql, parameters: parameters)))
        guard case .result(_, let rowsAffected) = response else {
            throw TestFailure(description: "EXEC_SQL answered \(response)")
        }
        return rowsAffected
    }

    /// QUERY_SQL; every row.
    func query(_ sql: String, _ parameters: [WireValue] = [], timeout: Duration? = nil) async throws
        -> [[WireValue]]
    {
        try await withRows(.querySQL(SQLCall(sql: sql, parameters: parameters)), timeout: timeout) {
            try await $0.collect()
        }
    }
}

/// Writes the files of a DUMP side by side in `directory` (the main file and its `-wal`, so sqlite3 applies
/// the WAL) and runs `sql` on the main file with `/usr/bin/sqlite3`; returns its output.
func querySQLite(dump files: [DumpFile], in directory: URL, _ sql: String) async throws -> String {
    let sqlite3 = try TestEnvironment.program("sqlite3", package: "sqlite3")
    for file in files {
        try Data(file.data).write(to: directory.appendingPathComponent(file.name))
    }
    guard let main = files.first(where: { !$0.name.hasSuffix("-wal") }) else {
        throw TestFailure(description: "the dump has no main database file: \(files.map(\.name))")
    }
    return try await Subprocess.succeed(
        sqlite3, ["-batch", directory.appendingPathComponent(main.name).path, sql], timeout: .seconds(20))
}

/// `seconds` with two decimals, for the figures the tests print.
func seconds(_ duration: Duration) -> String {
    let (whole, attoseconds) = duration.components
    return String(format: "%.2f s", Double(whole) + Double(attoseconds) / 1e18)
}
