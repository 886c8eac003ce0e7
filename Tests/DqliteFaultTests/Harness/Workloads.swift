import Dqlite
import Synchronization

/// Lets the nemesis pause the workers (and wait until no operation is in flight).
final class Gate: Sendable {
    private let state = Mutex((paused: false, inFlight: 0, stopped: false))

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Waits while paused; false once stopped. Counts the caller as in flight until ``leave()``.
    func enter() async -> Bool {
        while true {
            let decision = state.withLock { state -> Bool? in
                if state.stopped { return false }
                if state.paused { return nil }
                state.inFlight += 1
                return true
            }
            if let decision { return decision }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func leave() { state.withLock { $0.inFlight -= 1 } }

    /// Pauses the workers and waits (at most `timeout`) until none is in flight.
    func pause(timeout: Duration) async {
        state.withLock { $0.paused = true }
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.inFlight > 0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    func resume() { state.withLock { $0.paused = false } }

    func stop() { state.withLock { $0.stopped = true } }
}

/// The schema and the constants the workloads share.
enum Schema {
    static let accounts = 8
    static let initialBalance: Int64 = 100
    static var total: Int64 { Int64(accounts) * initialBalance }

    static let statements = [
        "CREATE TABLE IF NOT EXISTS set_items (v INTEGER PRIMARY KEY, worker INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS transfers (tid INTEGER PRIMARY KEY, src INTEGER NOT NULL, dst INTEGER NOT NULL, amount INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS idother (id INTEGER PRIMARY KEY, other INTEGER NOT NULL, tag INTEGER NOT NULL UNIQUE)",
        "CREATE TABLE IF NOT EXISTS sync (n INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER)",
    ]

    static func create(_ client: DqliteClient) async throws {
        for statement in statements { try await client.execute(DqliteQuery(unsafeSQL: statement)) }
        try await client.withTransaction { session in
            for id in 1...accounts {
                try await session.execute(
                    "INSERT OR IGNORE INTO accounts (id, balance) VALUES (\(id), \(initialBalance))")
            }
        }
    }
}

/// The workers: set inserts, bank transfers and reads, the dqlite#46 id/other writer. Each records every
/// operation in the history; they run until the gate stops them.
struct Workloads: Sendable {
    let client: DqliteClient
    let history: History
    let gate: Gate
    let settings: ClientSettings
    /// Unique values for set inserts and transfer ids across workers.
    let counter = Counter()

    final class Counter: Sendable {
        private let value = Mutex<Int64>(0)
        func next() -> Int64 {
            value.withLock {
                $0 += 1; return $0
            }
        }
    }

    static let setWorkers = 3
    static let transferWorkers = 2

    /// Runs every worker until the gate is stopped.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<Self.setWorkers { group.addTask { await setWorker(index) } }
            for index in 0..<Self.transferWorkers { group.addTask { await transferWorker(index) } }
            group.addTask { await bankReader() }
            group.addTask { await idOtherWorker() }
        }
    }

    private func pace() async { try? await Task.sleep(for: .milliseconds(Int.random(in: 5...15))) }

    /// Unique inserts; every 10th operation counts the set (a read, retried by the SDK).
    func setWorker(_ index: Int) async {
        let process = "set-\(index)"
        var step = 0
        while await gate.enter() {
            step += 1
            if step % 10 == 0 {
                await history.run(.read, process: process, key: 0, deadline: settings.autocommitDeadline) {
                    [client] in
                    _ = try await client.query("SELECT count(*) FROM set_items").collect()
                }
            } else {
                await insert(value: counter.next() * 100 + Int64(index), worker: index, process: process)
            }
            gate.leave()
            await pace()
        }
    }

    /// One set insert, recorded.
    @discardableResult
    func insert(value: Int64, worker: Int, process: String) async -> OpResult<DqliteExecResult> {
        await history.run(.set, process: process, key: value, deadline: settings.autocommitDeadline) { [client] in
            try await client.execute("INSERT INTO set_items (v, worker) VALUES (\(value), \(worker))")
        }
    }

    /// Transfers between random accounts, in a transaction re-run on leadership changes; each logs itself
    /// in `transfers` (so the final state can be explained) under a unique id.
    func transferWorker(_ index: Int) async {
        let process = "transfer-\(index)"
        while await gate.enter() {
            await transfer(tid: counter.next(), process: process)
            gate.leave()
            await pace()
        }
    }

    /// One transfer, recorded. Workers move 1–10; the nemesis uses larger amounts to recognise its own
    /// transfers in the proxy.
    @discardableResult
    func transfer(tid: Int64, process: String, amount: Int64 = Int64.random(in: 1...10)) async -> OpResult<Void> {
        let source = Int64.random(in: 1...Int64(Schema.accounts))
        let pick = Int64.random(in: 1...Int64(Schema.accounts - 1))
        let destination = pick >= source ? pick + 1 : pick
        let retry = DqliteTransactionRetry.onLeadershipChange(maximumAttempts: settings.transactionRuns)
        return await history.run(
            .transfer, process: process, key: tid, deadline: settings.transactionDeadline(statements: 6)
        ) { [client] in
            // Writes first: a read before the first write would pin a snapshot that a concurrent commit makes
            // stale (SQLITE_BUSY_SNAPSHOT, which only a restart of the transaction cures).
            try await client.withTransaction(retry: retry) { session in
                try await session.execute(
                    "UPDATE accounts SET balance = balance - \(amount) WHERE id = \(source)")
                try await session.execute(
                    "UPDATE accounts SET balance = balance + \(amount) WHERE id = \(destination)")
                let balances = try await session.query("SELECT balance FROM accounts WHERE id = \(source)").collect()
                guard balances.count == 1 else { throw FaultTestFailure("account \(source) missing") }
                try await session.execute(
                    "INSERT INTO transfers (tid, src, dst, amount) VALUES (\(tid), \(source), \(destination), \(amount))"
                )
            }
        }
    }

    /// Reads every balance — alternately in one statement and in a read transaction of one statement per
    /// account — and records the sum (the checker requires the constant total).
    func bankReader() async {
        let process = "bank-read"
        var step = 0
        while await gate.enter() {
            step += 1
            let inTransaction = step % 2 == 0
            let deadline =
                inTransaction
                ? settings.transactionDeadline(statements: Schema.accounts + 2) : settings.autocommitDeadline
            let result = await history.run(.bankRead, process: process, key: Int64(step), deadline: deadline) {
                [client] () -> Int64 in
                if inTransaction {
                    return try await client.withTransaction(retry: .onLeadershipChange()) { session in
                        var sum: Int64 = 0
                        for id in 1...Schema.accounts {
                            let rows = try await session.query("SELECT balance FROM accounts WHERE id = \(id)")
                                .decode(Int64.self)
                            sum += rows.first ?? 0
                        }
                        return sum
                    }
                }
                return try await client.query("SELECT balance FROM accounts").decode(Int64.self).reduce(0, +)
            }
            if let sum = result.value { history.annotate(result.id) { $0.sum = sum } }
            gate.leave()
            await pace()
        }
    }

    /// canonical/dqlite#46: one writer inserts `other` = the id it expects the row to get (the last id it
    /// was acknowledged, plus one). A write reported as failed that did commit shifts every later id, so
    /// `id != other` shows it. After an indeterminate outcome the writer re-reads the last id after a write of
    /// its own (so the read is not stale).
    func idOtherWorker() async {
        let process = "idother"
        var expected: Int64?
        var tag: Int64 = 0
        while await gate.enter() {
            defer { gate.leave() }
            if expected == nil {
                expected = try? await resync()
                if expected == nil {
                    await pace()
                    continue
                }
            }
            guard let other = expected else { continue }
            tag += 1
            let thisTag = tag
            let result = await history.run(
                .idOther, process: process, key: thisTag, deadline: settings.autocommitDeadline, expected: other
            ) { [client] in
                try await client.execute("INSERT INTO idother (other, tag) VALUES (\(other), \(thisTag))")
            }
            switch result.outcome {
            case .ok:
                let id = result.value?.lastInsertID ?? -1
                history.annotate(result.id) { $0.returned = id }
                expected = id + 1
            case .fail:
                break  // the SDK says it did not happen: the next row gets the same id
            case .info:
                expected = nil
            }
            await pace()
        }
    }

    /// The next id of `idother`, read on the leader right after a committed write of our own.
    func resync() async throws -> Int64 {
        try await client.withConnection { session in
            try await session.execute("INSERT INTO sync (at) VALUES (1)")
            let rows = try await session.query("SELECT coalesce(max(id), 0) FROM idother").decode(Int64.self)
            return (rows.first ?? 0) + 1
        }
    }
}
