import CSQLite3
import Foundation
import Synchronization

/// The in-process reference: libsqlite3 (Debian's 3.40.1) in this process, no dqlite and no network, on the
/// same t10k table, read and decoded like the client workloads: `sqlite-scan` steps through
/// `SELECT id, k, v FROM t10k` and decodes every row into (Int, String, String); `sqlite-point` runs
/// `SELECT v FROM t10k WHERE id = ?` with a random id through one prepared statement.
///
/// `--sqlite-mode mem` uses ":memory:"; `wal` a file database in WAL mode (synchronous=NORMAL) under
/// `--sqlite-dir`, whose pages are in the page cache after the fill, as the server's are.
enum SQLiteReference {
    static func run(_ options: Options) throws -> Report {
        let path: String
        switch options.sqliteMode {
        case "mem": path = ":memory:"
        case "wal":
            path = options.sqliteDirectory + "/e2e-sqlite-ref.db"
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        default: throw BenchmarkFailure("--sqlite-mode is mem or wal")
        }
        var handle: OpaquePointer?
        guard sqlite3_open(path, &handle) == SQLITE_OK, let db = handle else {
            throw BenchmarkFailure("sqlite3_open \(path) failed")
        }
        defer {
            sqlite3_close(db)
            if path != ":memory:" { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw BenchmarkFailure("\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
        if options.sqliteMode == "wal" {
            try exec("PRAGMA journal_mode=WAL")
            try exec("PRAGMA synchronous=NORMAL")
        }
        try exec(Dataset.createTable)
        let fill = try Statement(db, Dataset.fill)
        Dataset.value100.withCString { _ = sqlite3_bind_text(fill.handle, 1, $0, -1, SQLITE_TRANSIENT) }
        guard sqlite3_step(fill.handle) == SQLITE_DONE else { throw BenchmarkFailure("fill failed") }
        fill.finalize()

        let scan = options.workload == .sqliteScan
        let (tallies, seconds) = syncMeasure(warmup: options.warmup, duration: options.duration) { tally, phases in
            var random = SplitMix64(seed: 42)
            if scan {
                while tally.keepGoing(phases) {
                    let start = ContinuousClock.now
                    // Prepared per scan, as the server prepares every QUERY_SQL.
                    guard let statement = try? Statement(db, Dataset.scanSQL) else { fatalError("prepare") }
                    var rows = 0
                    var sum = 0
                    while sqlite3_step(statement.handle) == SQLITE_ROW {
                        let id = Int(sqlite3_column_int64(statement.handle, 0))
                        let k = statement.text(1)
                        let v = statement.text(2)
                        sum &+= id &+ k.utf8.count &+ v.utf8.count
                        rows += 1
                    }
                    statement.finalize()
                    guard rows == Dataset.rows, sum != 0 else { fatalError("scan: \(rows) rows") }
                    tally.rows += rows
                    tally.record(since: start)
                }
            } else {
                guard let statement = try? Statement(db, Dataset.pointSQL) else { fatalError("prepare") }
                defer { statement.finalize() }
                while tally.keepGoing(phases) {
                    let start = ContinuousClock.now
                    let id = Int64(random.next() % UInt64(Dataset.rows)) + 1
                    sqlite3_reset(statement.handle)
                    sqlite3_bind_int64(statement.handle, 1, id)
                    var value = ""
                    while sqlite3_step(statement.handle) == SQLITE_ROW { value = statement.text(0) }
                    guard value.utf8.count == 100 else { fatalError("point: \(value.utf8.count) bytes") }
                    tally.rows += 1
                    tally.record(since: start)
                }
            }
        }
        var report = Report(
            workload: options.workload.rawValue, workers: 1, tallies: tallies, seconds: seconds, rowsAreWrites: false)
        report.side = "sqlite"
        report.extra["sqlite_mode"] = options.sqliteMode
        report.extra["sqlite_version"] = String(cString: sqlite3_libversion())
        return report
    }

    /// The single-threaded version of ``measure(workers:warmup:duration:_:)``: a timer thread flips the phases.
    static func syncMeasure(warmup: Double, duration: Double, _ body: (inout Tally, Phases) -> Void)
        -> (tallies: [Tally], seconds: Double)
    {
        let phases = Phases()
        let clock = ContinuousClock()
        let started = StartTime()
        let origin = clock.now
        let timer = Thread {
            Thread.sleep(forTimeInterval: warmup)
            started.nanoseconds.store(Int64(((clock.now - origin).seconds * 1e9).rounded()), ordering: .releasing)
            phases.advance(to: Phases.measuring)
            Thread.sleep(forTimeInterval: duration)
            phases.advance(to: Phases.done)
        }
        timer.start()
        var tally = Tally()
        body(&tally, phases)
        let end = (clock.now - origin).seconds
        return ([tally], end - Double(started.nanoseconds.load(ordering: .acquiring)) / 1e9)
    }

    final class StartTime: Sendable {
        let nanoseconds = Atomic<Int64>(0)
    }
}

/// A prepared SQLite statement.
final class Statement {
    let handle: OpaquePointer
    private var finalized = false

    init(_ db: OpaquePointer, _ sql: String) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw BenchmarkFailure("prepare \(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        handle = statement
    }

    /// The column as an owned String (UTF-8, exact length).
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func finalize() {
        if !finalized { sqlite3_finalize(handle) }
        finalized = true
    }

    deinit { finalize() }
}

/// SQLite's SQLITE_TRANSIENT (the macro does not import).
let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
