import DqliteLocalCluster
import Testing

@testable import Dqlite

/// SQLITE_BUSY between writers on one leader: retried with backoff within the busy timeout, never leaking
/// "database is locked" to the caller.
@Suite("Concurrent writers and SQLITE_BUSY", .timeLimit(.minutes(3)))
struct BusyTests {
    @Test(
        "two overlapping write transactions both commit (or the second reports BUSY_SNAPSHOT)",
        arguments: DqliteGeneration.allCases)
    func overlappingTransactions(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT NOT NULL)")
            let (firstWrote, firstWroteSignal) = AsyncStream<Void>.makeStream()
            let clock = ContinuousClock()
            let first = Task {
                // Ends the wait below also when this transaction fails early.
                defer { firstWroteSignal.finish() }
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO acct (owner) VALUES ('first')")
                    firstWroteSignal.yield()
                    // Hold the write lock for a while.
                    try await Task.sleep(for: .milliseconds(300))
                    try await session.execute("INSERT INTO acct (owner) VALUES ('first')")
                }
            }
            var iterator = firstWrote.makeAsyncIterator()
            _ = await iterator.next()
            let secondStarted = clock.now
            let second: Result<Void, any Error>
            do {
                _ = try await client.withTransaction { session in
                    // SQLITE_BUSY while the first holds the lock: re-sent with backoff until it commits.
                    try await session.execute("INSERT INTO acct (owner) VALUES ('second')")
                }
                second = .success(())
            } catch {
                second = .failure(error)
            }
            let waited = clock.now - secondStarted
            try await first.value
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'first'") == 2)
            switch second {
            case .success:
                #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'second'") == 1)
                // It had to wait for the first transaction.
                #expect(waited >= .milliseconds(150), "the second transaction did not wait: \(milliseconds(waited))")
            case .failure(let error):
                let failure = error as? DqliteError
                #expect(failure?.resultCode == .SQLITE_BUSY_SNAPSHOT, "the second transaction failed: \(error)")
                #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'second'") == 0)
            }
            print("MEASURE \(generation) overlapping transactions: second waited \(milliseconds(waited)) → \(second)")
        }
    }

    @Test(
        "a transaction whose read snapshot went stale before it wrote reports SQLITE_BUSY_SNAPSHOT, typed and at once",
        arguments: DqliteGeneration.allCases)
    func staleSnapshot(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT NOT NULL)")
            let clock = ContinuousClock()
            var waited: Duration = .zero
            let stale = await expectDqliteError(.server) {
                try await client.withTransaction { session throws in
                    // The read starts the transaction's snapshot…
                    #expect(try await session.scalar("SELECT count(*) FROM acct") == 0)
                    // …another connection commits a write…
                    try await client.execute("INSERT INTO acct (owner) VALUES ('other')")
                    // …so this transaction can no longer write: only restarting it helps (no busy retry).
                    let started = clock.now
                    defer { waited = clock.now - started }
                    try await session.execute("INSERT INTO acct (owner) VALUES ('stale')")
                }
            }
            #expect(stale?.resultCode == .SQLITE_BUSY_SNAPSHOT, "\(String(describing: stale))")
            #expect(stale.map { DqliteResultCode.SQLITE_BUSY ~= $0.resultCode } == true)
            #expect(waited < .seconds(4), "BUSY_SNAPSHOT was retried for \(milliseconds(waited)) (busy timeout 5 s)")
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'stale'") == 0)
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'other'") == 1)
            // Restarted, it commits.
            _ = try await client.withTransaction { session in
                try await session.execute("INSERT INTO acct (owner) VALUES ('stale')")
            }
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'stale'") == 1)
        }
    }

    @Test(
        "8 writers in an autocommit insert loop: no 'database is locked' reaches the caller",
        arguments: DqliteGeneration.allCases)
    func eightWriters(_ generation: DqliteGeneration) async throws {
        let writers = 8
        let insertsPerWriter = 25
        try await withClusterClient(generation, configure: { $0.pool.maximumConnections = 8 }) { _, client in
            try await client.execute("CREATE TABLE log (writer INTEGER NOT NULL, seq INTEGER NOT NULL)")
            let stop = Shared(false)
            // A ninth party keeps taking the write lock with short transactions, so writers do meet BUSY.
            let locker = Task {
                var transactions = 0
                var failures: [String] = []
                while !stop.value {
                    do {
                        try await client.withTransaction { session in
                            try await session.execute("INSERT INTO log (writer, seq) VALUES (-1, \(transactions))")
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        transactions += 1
                    } catch {
                        failures.append("locker: \(type(of: error)): \(error)")
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return (transactions, failures)
            }
            let clock = ContinuousClock()
            let started = clock.now
            let failures = await concurrentInserts(client, writers: writers, insertsPerWriter: insertsPerWriter)
            let elapsed = clock.now - started
            stop.update { $0 = true }
            let (lockerTransactions, lockerFailures) = await locker.value
            #expect(failures.isEmpty, "\(failures.count) inserts failed: \(failures.prefix(5))")
            #expect(
                lockerFailures.isEmpty,
                "\(lockerFailures.count) locking transactions failed: \(lockerFailures.prefix(3))")
            #expect(!failures.contains { $0.contains("locked") }, "'database is locked' reached the caller")
            let rows = try await client.query(
                "SELECT writer, count(*), count(DISTINCT seq) FROM log WHERE writer >= 0 GROUP BY writer ORDER BY writer"
            ).decode((Int, Int, Int).self)
            #expect(rows.map(\.0) == Array(0..<writers))
            #expect(rows.allSatisfy { $0.1 == insertsPerWriter && $0.2 == insertsPerWriter })
            #expect(try await client.scalar("SELECT count(*) FROM log WHERE writer = -1") == lockerTransactions)
            #expect(lockerTransactions >= 1)
            print(
                "MEASURE \(generation) \(writers) writers × \(insertsPerWriter) autocommit inserts "
                    + "(+\(lockerTransactions) locking transactions) in \(milliseconds(elapsed)), \(failures.count) failures"
            )
        }
    }
}
