import DqliteLocalCluster
import Foundation
import Logging
import Synchronization
import Testing

@testable import Dqlite

/// Runs `body` with a fresh local cluster and a client whose seeds are all its nodes; the client is shut down
/// and the cluster torn down afterwards, also when `body` throws.
func withClusterClient<Result>(
    _ generation: DqliteGeneration, nodes: Int = 1, database: String = "client-tests", logger: Logger? = nil,
    configure: (inout DqliteClient.Configuration) -> Void = { _ in },
    _ body: (LocalCluster, DqliteClient) async throws -> Result
) async throws -> Result {
    try await withLocalCluster(nodes: nodes, generation: generation) { cluster in
        try await withClient(seeds: cluster.addresses, database: database, logger: logger, configure: configure) {
            client in
            try await body(cluster, client)
        }
    }
}

/// Runs `body` with a client over `seeds`; shut down afterwards.
func withClient<Result>(
    seeds: [String], database: String = "client-tests", logger: Logger? = nil,
    configure: (inout DqliteClient.Configuration) -> Void = { _ in },
    _ body: (DqliteClient) async throws -> Result
) async throws -> Result {
    var configuration = DqliteClient.Configuration(
        nodes: try seeds.map { try DqliteNodeAddress($0) }, database: database)
    configure(&configuration)
    let client = DqliteClient(configuration: configuration, backgroundLogger: logger)
    defer { client.shutdown() }
    return try await body(client)
}

extension DqliteClient {
    /// The first column of the first row, decoded.
    func scalar<Value: DqliteDecodable>(_ query: DqliteQuery, as type: Value.Type = Value.self) async throws -> Value {
        let rows = try await self.query(query).collect()
        guard let first = rows.first else { throw TestFailure("no row for \(query)") }
        return try first.decode(Value.self, at: 0)
    }

    /// The only cell of a one-row result, as the server sent it.
    func cell(_ query: DqliteQuery) async throws -> DqliteValue {
        let rows = try await self.query(query).collect()
        guard rows.count == 1, rows[0].count == 1 else {
            throw TestFailure("expected one row of one column for \(query), got \(rows)")
        }
        return rows[0][0]
    }

    /// The pool of the client's default database (for counting connections).
    var defaultPool: ConnectionPool {
        get throws { try pool(for: configuration.database) }
    }
}

extension DqliteSession {
    /// The first column of the first row, decoded.
    func scalar<Value: DqliteDecodable>(_ query: DqliteQuery, as type: Value.Type = Value.self) async throws -> Value {
        let rows = try await self.query(query).collect()
        guard let first = rows.first else { throw TestFailure("no row for \(query)") }
        return try first.decode(Value.self, at: 0)
    }
}

/// A failure of the test's own plumbing.
/// `writers` concurrent tasks each insert `insertsPerWriter` rows `(writer, seq)` into `log` through `client`;
/// returns every error, described with its type.
func concurrentInserts(_ client: DqliteClient, writers: Int, insertsPerWriter: Int) async -> [String] {
    await withTaskGroup(of: [String].self) { group in
        for writer in 0..<writers {
            group.addTask {
                var failures: [String] = []
                for seq in 0..<insertsPerWriter {
                    do {
                        try await client.execute("INSERT INTO log (writer, seq) VALUES (\(writer), \(seq))")
                    } catch {
                        failures.append("\(type(of: error)): \(error)")
                    }
                }
                return failures
            }
        }
        var all: [String] = []
        for await failures in group { all += failures }
        return all
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An error thrown on purpose by a test body.
struct ExpectedFailure: Error, Equatable {}

/// Runs `body`, which must throw a ``DqliteError`` with `code`; returns the error (nil, with an issue
/// recorded, otherwise).
@discardableResult
func expectDqliteError<Result>(
    _ code: DqliteError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Result
) async -> DqliteError? {
    do {
        let result = try await body()
        Issue.record("expected a DqliteError \(code), got a result: \(result)", sourceLocation: sourceLocation)
        return nil
    } catch let error as DqliteError {
        #expect(error.code == code, "\(comment.map { "\($0): " } ?? "")\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a DqliteError \(code), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// This process's resident set size in bytes (`/proc/self/statm`, second field × page size).
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Milliseconds with one decimal, for the measurement lines in the test log.
func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return String(format: "%.1f ms", value)
}

/// Mebibytes with one decimal.
func mebibytes(_ bytes: Int) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}

/// A value shared between a test and the tasks it starts.
final class Shared<Value: Sendable>: Sendable {
    private let box: Mutex<Value>
    init(_ value: Value) { box = Mutex(value) }
    var value: Value { box.withLock { $0 } }
    func update<R>(_ body: (inout Value) -> R) -> R { box.withLock { body(&$0) } }
}

/// A non-leader voter of a cluster (to transfer leadership to).
func otherVoter(than leader: UInt64, in cluster: LocalCluster) -> UInt64 {
    cluster.nodeIDs.first { $0 != leader } ?? leader
}

/// A swift-log handler that keeps every message (for asserting on the client's debug and trace logs).
struct CapturingLogHandler: LogHandler {
    /// One logged message with its metadata.
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let entries: Shared<[Entry]>
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let entry = Entry(
            level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" })
        entries.update { $0.append(entry) }
    }

    /// A trace-level logger writing into `entries`.
    static func logger(into entries: Shared<[Entry]>) -> Logger {
        Logger(label: "dqlite.client-tests") { _ in CapturingLogHandler(entries: entries) }
    }
}
