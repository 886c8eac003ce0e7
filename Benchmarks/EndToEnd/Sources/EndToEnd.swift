// The Swift side of the end-to-end benchmark (scripts/bench-e2e.sh, docs/benchmarks.md "End-to-end"): the
// `Dqlite` client against a running cluster, one workload per run, one JSON line on stdout. The go-dqlite side
// (Benchmarks/go/e2e) runs the same workloads, with the same SQL, sizes and measurement, against the same
// cluster.
//
//   dqlite-e2e --cluster 127.0.0.1:9001[,…] [--db bench] --workload W [--workers N] [--duration 5]
//
// Workloads:
//
//   setup           (re)creates t10k (id INTEGER PRIMARY KEY, k TEXT, v TEXT): 10,000 rows, k = 'k' || id,
//                   v = 100 bytes; drops the tables the write workloads fill
//   point           SELECT v FROM t10k WHERE id = ? (random id), sequential, on one connection
//                   (`withConnection` + `session.query`), v decoded into a String
//   point-prepared  the same through `session.prepare` + `statement.query([id])`
//   scan            SELECT id, k, v FROM t10k on one connection, every row decoded into (Int, String, String)
//   insert          single-row autocommit `client.execute("INSERT INTO ins_swift(k, v) VALUES (…)")`
//                   (100-byte v), N concurrent workers on the client's default pool (8) and busy policy (5 s)
//   kvwrite         go-dqlite's dqlite-benchmark kvwrite: INSERT OR REPLACE INTO model_swift(key, value),
//                   32-byte random key, 1024-byte value (512 × one letter + 512 random letters), N workers
//   kvreadwrite     dqlite-benchmark's kvreadwrite: each operation is a coin flip between reading one of the
//                   worker's own keys (SELECT value FROM model_swift WHERE key = ?) and a kvwrite
//   point-raw       diagnostic: `point` one layer down, on a bare `DqliteConnection` (OPEN, then
//                   `startRows(.querySQL(…))` + `next(into:)` into [WireValue]): no pool, session, routing or
//                   DqliteRow
//   sqlite-scan     the in-process reference: libsqlite3 (no dqlite), the same t10k built in process
//                   (--sqlite-mode mem: ":memory:"; wal: a WAL file under --sqlite-dir), scanned and decoded
//                   exactly like `scan`
//   sqlite-point    the same for `point` (prepared once, like SQLite applications do)
//
// `--executor nio` (diagnostic) installs SwiftNIO's event loops as Swift Concurrency's global executor before
// anything runs (NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor), so that
// a task and its connection's event loop share a thread instead of handing every request and answer between
// two threads. The default is Swift's own global executor, as an application gets it.
// `--executor loop` instead turns on the client's opt-in `runsSessionsOnEventLoop` (a task executor preference
// for the connection's event loop while a session's work runs).
//
// `--serialize-writes` turns on the client's opt-in `serializesWrites` (its own FIFO queue for autocommit writes).
//
// `--write-gate` (diagnostic, write workloads) lets one write at a time leave this process (a FIFO gate
// around each write call, in the benchmark, not in the client): dqlite runs one write transaction at a time,
// so the others would only be refused with SQLITE_BUSY and wait out the client's busy backoff.
//
// Measurement (the Go side does the same): the workers run for --warmup seconds unmeasured, then for
// --duration seconds; every operation started in that window counts, and the window closes when the last one
// has finished. Write workloads check afterwards that the table grew by exactly the number of successful
// writes, and report the client's busy retries (a swift-metrics counter).
import Dqlite
import Foundation
import NIOCore
import NIOPosix

@main
enum EndToEnd {
    static func main() async {
        do {
            let options = try Options(CommandLine.arguments.dropFirst())
            if options.executor == "nio" {
                guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
                    throw BenchmarkFailure("could not install NIO as the global executor")
                }
            }
            var report = try await run(options)
            report.extra["executor"] = options.executor
            if options.writeGate { report.extra["write_gate"] = "on" }
            if options.serializeWrites { report.extra["serialize_writes"] = "on" }
            print(report.json())
        } catch {
            FileHandle.standardError.write(Data("dqlite-e2e: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: Options) async throws -> Report {
        switch options.workload {
        case .sqliteScan, .sqlitePoint:
            return try SQLiteReference.run(options)
        default:
            break
        }
        if options.workload.writes { BusyRetryMetrics.bootstrap() }
        let nodes = try options.cluster.map { try DqliteNodeAddress($0) }
        var configuration = DqliteClient.Configuration(nodes: nodes, database: options.database)
        configuration.runsSessionsOnEventLoop = options.executor == "loop"
        configuration.serializesWrites = options.serializeWrites
        let client = DqliteClient(configuration: configuration)
        defer { client.shutdown() }
        return try await ClientWorkloads(client: client, options: options).run()
    }
}

/// A failure of the benchmark itself (bad arguments, a wrong answer from the server).
struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Workload: String, CaseIterable {
    case setup
    case point
    case pointPrepared = "point-prepared"
    case pointRaw = "point-raw"
    case scan
    case insert
    case kvwrite
    case kvreadwrite
    case sqliteScan = "sqlite-scan"
    case sqlitePoint = "sqlite-point"

    /// Runs on one connection with one worker.
    var isSequential: Bool {
        switch self {
        case .point, .pointPrepared, .pointRaw, .scan, .sqliteScan, .sqlitePoint, .setup: return true
        case .insert, .kvwrite, .kvreadwrite: return false
        }
    }

    var writes: Bool { self == .insert || self == .kvwrite || self == .kvreadwrite }
}

struct Options {
    var cluster: [String] = []
    var database = "bench"
    var workload = Workload.point
    var workers = 1
    var duration = 5.0
    var warmup = 0.5
    var tableSuffix = "swift"
    var sqliteMode = "mem"
    var sqliteDirectory = "/tmp"
    var executor = "default"
    var writeGate = false
    var serializeWrites = false

    init(_ arguments: ArraySlice<String>) throws {
        var arguments = arguments
        func value(_ name: String) throws -> String {
            guard let value = arguments.popFirst() else { throw BenchmarkFailure("\(name) needs a value") }
            return value
        }
        func number(_ name: String) throws -> Double {
            guard let number = Double(try value(name)), number >= 0 else {
                throw BenchmarkFailure("\(name) needs a number")
            }
            return number
        }
        while let argument = arguments.popFirst() {
            switch argument {
            case "--cluster": cluster = try value(argument).split(separator: ",").map(String.init)
            case "--db": database = try value(argument)
            case "--workload":
                let name = try value(argument)
                guard let workload = Workload(rawValue: name) else {
                    throw BenchmarkFailure(
                        "unknown workload \(name) (\(Workload.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                self.workload = workload
            case "--workers": workers = max(1, Int(try number(argument)))
            case "--duration": duration = try number(argument)
            case "--warmup": warmup = try number(argument)
            case "--table-suffix": tableSuffix = try value(argument)
            case "--sqlite-mode": sqliteMode = try value(argument)
            case "--sqlite-dir": sqliteDirectory = try value(argument)
            case "--write-gate": writeGate = true
            case "--serialize-writes": serializeWrites = true
            case "--executor":
                executor = try value(argument)
                guard executor == "default" || executor == "nio" || executor == "loop" else {
                    throw BenchmarkFailure("--executor is default, nio or loop")
                }
            default: throw BenchmarkFailure("unknown argument \(argument)")
            }
        }
        if workload.isSequential { workers = 1 }
        if cluster.isEmpty && !(workload == .sqliteScan || workload == .sqlitePoint) {
            throw BenchmarkFailure("--cluster is required")
        }
    }
}

/// The shared data: t10k's size and its 100-byte value.
enum Dataset {
    static let rows = 10_000
    /// 50 × "x" then 50 pseudo-random letters (fixed seed).
    static let value100: String = {
        var random = SplitMix64(seed: 1)
        return String(repeating: "x", count: 50) + random.letters(50)
    }()
    static let createTable = "CREATE TABLE t10k (id INTEGER PRIMARY KEY, k TEXT, v TEXT)"
    static let fill =
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000) "
        + "INSERT INTO t10k (id, k, v) SELECT i, 'k' || i, ? FROM c"
    static let pointSQL = "SELECT v FROM t10k WHERE id = ?"
    static let scanSQL = "SELECT id, k, v FROM t10k"
}

/// A small fast generator (the system generator reads the kernel's on every call).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// `count` random letters (dqlite-benchmark's alphabet).
    mutating func letters(_ count: Int) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices { bytes[index] = Self.alphabet[Int(next() % UInt64(Self.alphabet.count))] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// dqlite-benchmark's value: `count / 2` copies of one random letter, then `count / 2` random letters.
    mutating func kvValue(_ count: Int) -> String {
        String(repeating: letters(1), count: count / 2) + letters(count / 2)
    }
}
