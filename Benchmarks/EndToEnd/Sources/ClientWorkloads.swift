import Dqlite
import DqliteWire

/// The workloads run through the `Dqlite` client.
struct ClientWorkloads: Sendable {
    let client: DqliteClient
    let options: Options

    init(client: DqliteClient, options: Options) {
        self.client = client
        self.options = options
    }

    var insertTable: String { "ins_" + options.tableSuffix }
    var kvTable: String { "model_" + options.tableSuffix }

    func run() async throws -> Report {
        switch options.workload {
        case .setup: return try await setup()
        case .point, .pointPrepared, .scan: return try await sequential()
        case .pointRaw: return try await pointRaw()
        case .insert: return try await writes(table: insertTable, create: "(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
        case .kvwrite, .kvreadwrite:
            return try await writes(table: kvTable, create: "(key TEXT, value TEXT, UNIQUE(key))")
        case .sqliteScan, .sqlitePoint: throw BenchmarkFailure("not a client workload")
        }
    }

    // MARK: - Setup

    func setup() async throws -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        for table in ["t10k", "ins_swift", "ins_go", "model_swift", "model_go"] {
            try await client.execute("DROP TABLE IF EXISTS \(identifier: table)")
        }
        try await client.execute(DqliteQuery(unsafeSQL: Dataset.createTable))
        try await client.execute(DqliteQuery(unsafeSQL: Dataset.fill, parameters: [.text(Dataset.value100)]))
        let count = try await self.count("t10k")
        guard count == Dataset.rows else { throw BenchmarkFailure("t10k has \(count) rows after setup") }
        var report = Report(workload: "setup", workers: 1)
        report.rows = count
        report.seconds = (clock.now - start).seconds
        return report
    }

    func count(_ table: String) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM \(identifier: table)").collect()
        guard let row = rows.first else { throw BenchmarkFailure("count(*) returned no row") }
        return try row.decode(Int.self, at: 0)
    }

    // MARK: - One connection: point selects and scans

    func sequential() async throws -> Report {
        let rowCount = try await count("t10k")
        guard rowCount == Dataset.rows else {
            throw BenchmarkFailure("t10k has \(rowCount) rows, want \(Dataset.rows) (run --workload setup first)")
        }
        let client = self.client
        let workload = options.workload
        let (tallies, seconds) = await measure(workers: 1, warmup: options.warmup, duration: options.duration) {
            _, phases in
            var tally = Tally()
            var random = SplitMix64(seed: UInt64(UInt(bitPattern: ContinuousClock.now.hashValue)))
            // One connection for the run; a failure ends the session (its connection may be gone) and the loop
            // takes a new one.
            while tally.keepGoing(phases) {
                do {
                    try await client.withConnection { session in
                        let statement = workload == .pointPrepared ? try await session.prepare(Dataset.pointSQL) : nil
                        while tally.keepGoing(phases) {
                            let start = ContinuousClock.now
                            switch workload {
                            case .point, .pointPrepared:
                                let id = Int(random.next() % UInt64(Dataset.rows)) + 1
                                let rows =
                                    if let statement {
                                        try await statement.query([id])
                                    } else {
                                        try await session.query("SELECT v FROM t10k WHERE id = \(id)")
                                    }
                                var value = ""
                                for try await row in rows { value = try row.decode(String.self, at: 0) }
                                guard value.utf8.count == 100 else {
                                    throw BenchmarkFailure("point: \(value.utf8.count) bytes")
                                }
                                tally.rows += 1
                            default:
                                var rows = 0
                                var sum = 0
                                for try await row in try await session.query(DqliteQuery(unsafeSQL: Dataset.scanSQL)) {
                                    let (id, k, v) = try row.decode((Int, String, String).self)
                                    sum &+= id &+ k.utf8.count &+ v.utf8.count
                                    rows += 1
                                }
                                guard rows == Dataset.rows, sum != 0 else {
                                    throw BenchmarkFailure("scan: \(rows) rows")
                                }
                                tally.rows += rows
                            }
                            tally.record(since: start)
                        }
                    }
                } catch let failure as BenchmarkFailure {
                    fatalError("\(failure)")
                } catch {
                    tally.fail(error)
                }
            }
            return tally
        }
        return Report(
            workload: workload.rawValue, workers: 1, tallies: tallies, seconds: seconds, rowsAreWrites: false)
    }

    /// `point` on a bare connection to the first node (a diagnostic: the connection layer's share of `point`).
    func pointRaw() async throws -> Report {
        let address = try DqliteNodeAddress(options.cluster[0])
        let connection = try await DqliteConnection.connect(to: address)
        defer { Task { await connection.close() } }
        try await connection.call(.open(database: options.database, flags: 0, vfs: "volatile"))
        let (tallies, seconds) = await measure(workers: 1, warmup: options.warmup, duration: options.duration) {
            _, phases in
            var tally = Tally()
            var random = SplitMix64(seed: UInt64(UInt(bitPattern: ContinuousClock.now.hashValue)))
            var row: [WireValue] = []
            while tally.keepGoing(phases) {
                let start = ContinuousClock.now
                let id = Int64(random.next() % UInt64(Dataset.rows)) + 1
                do {
                    var reader = try await connection.startRows(
                        .querySQL(SQLCall(sql: Dataset.pointSQL, parameters: [.integer(id)])))
                    var value = ""
                    while try await reader.next(into: &row) {
                        guard case .text(let text) = row[0] else { fatalError("point-raw: \(row)") }
                        value = text
                    }
                    guard value.utf8.count == 100 else { fatalError("point-raw: \(value.utf8.count) bytes") }
                    tally.rows += 1
                    tally.record(since: start)
                } catch {
                    tally.fail(error)
                    break
                }
            }
            return tally
        }
        return Report(workload: "point-raw", workers: 1, tallies: tallies, seconds: seconds, rowsAreWrites: false)
    }

    // MARK: - Concurrent writers: inserts, kvwrite, kvreadwrite

    func writes(table: String, create columns: String) async throws -> Report {
        try await client.execute("CREATE TABLE IF NOT EXISTS \(identifier: table) \(unescaped: columns)")
        let before = try await count(table)
        let busyBefore = BusyRetryMetrics.busyRetries
        let client = self.client
        let workload = options.workload
        let gate = options.writeGate ? WriteGate() : nil
        let (tallies, seconds) = await measure(
            workers: options.workers, warmup: options.warmup, duration: options.duration
        ) { worker, phases in
            var tally = Tally()
            var random = SplitMix64(seed: UInt64(UInt(bitPattern: ContinuousClock.now.hashValue)) &+ UInt64(worker))
            var keys: [String] = []
            while tally.keepGoing(phases) {
                let start = ContinuousClock.now
                do {
                    switch workload {
                    case .insert:
                        let k = Int64(bitPattern: random.next() >> 1)
                        try await gated(gate) {
                            try await client.execute(
                                "INSERT INTO \(unescaped: table) (k, v) VALUES (\(k), \(Dataset.value100))")
                        }
                        tally.writes += 1
                    default:
                        if workload == .kvreadwrite, random.next() & 1 == 0, !keys.isEmpty {
                            let key = keys[Int(random.next() % UInt64(keys.count))]
                            let rows = try await client.query(
                                "SELECT value FROM \(unescaped: table) WHERE key = \(key)")
                            var value = ""
                            for try await row in rows { value = try row.decode(String.self, at: 0) }
                            guard value.utf8.count == 1024 else {
                                throw BenchmarkFailure("kv read: \(value.utf8.count) bytes")
                            }
                            tally.reads += 1
                        } else {
                            let key = random.letters(32)
                            let value = random.kvValue(1024)
                            try await gated(gate) {
                                try await client.execute(
                                    "INSERT OR REPLACE INTO \(unescaped: table) (key, value) VALUES (\(key), \(value))")
                            }
                            keys.append(key)
                            tally.writes += 1
                        }
                    }
                    tally.record(since: start)
                } catch let failure as BenchmarkFailure {
                    fatalError("\(failure)")
                } catch {
                    tally.fail(error)
                }
            }
            return tally
        }
        var report = Report(
            workload: workload.rawValue, workers: options.workers, tallies: tallies, seconds: seconds,
            rowsAreWrites: true)
        let after = try await count(table)
        let warmup = tallies.reduce(0) { $0 + $1.warmupWrites }
        report.committedCheck = after - before - warmup
        var check = "count(*) grew by \(after - before) = \(warmup) warm-up + \(report.writes) measured successes"
        if report.committedCheck != report.writes { check += " MISMATCH" }
        report.check = check
        report.busyRetries = BusyRetryMetrics.busyRetries - busyBefore
        return report
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Runs `body` holding `gate`, if there is one.
@discardableResult
func gated<Result>(_ gate: WriteGate?, _ body: () async throws -> Result) async throws -> Result {
    guard let gate else { return try await body() }
    await gate.acquire()
    do {
        let result = try await body()
        await gate.release()
        return result
    } catch {
        await gate.release()
        throw error
    }
}

/// A FIFO gate: one holder at a time (the `--write-gate` diagnostic).
actor WriteGate {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
