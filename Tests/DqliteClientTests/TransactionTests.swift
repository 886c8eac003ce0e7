import DqliteLocalCluster
import Testing

@testable import Dqlite

/// `withTransaction`: commit, rollback on throw, server errors inside, and misuse of the session.
@Suite("Transactions", .timeLimit(.minutes(3)))
struct TransactionTests {
    static func count(_ client: DqliteClient, note: String) async throws -> Int {
        try await client.scalar("SELECT count(*) FROM ledger WHERE note = \(note)")
    }

    @Test(
        "commit, rollback on throw, constraint failure inside, value returned", arguments: DqliteGeneration.allCases,
        [1, 3])
    func commitAndRollback(_ generation: DqliteGeneration, nodes: Int) async throws {
        try await withClusterClient(generation, nodes: nodes) { _, client in
            try await client.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT NOT NULL, amount INTEGER)")

            // Commit: visible afterwards from another connection; the closure's value is returned.
            let returned = try await client.withTransaction { session -> (Int64, Int) in
                let first = try await session.execute("INSERT INTO ledger (note, amount) VALUES ('commit', 10)")
                try await session.execute("INSERT INTO ledger (note, amount) VALUES ('commit', 20)")
                // The transaction sees its own writes.
                let total: Int = try await session.scalar("SELECT sum(amount) FROM ledger WHERE note = 'commit'")
                return (first.lastInsertID, total)
            }
            #expect(returned.1 == 30)
            #expect(try await client.scalar("SELECT note FROM ledger WHERE id = \(returned.0)") == "commit")
            #expect(try await Self.count(client, note: "commit") == 2)

            // Uncommitted writes are invisible to other connections while the transaction runs.
            try await client.withTransaction { session in
                try await session.execute("INSERT INTO ledger (note) VALUES ('pending')")
                #expect(try await Self.count(client, note: "pending") == 0)
                #expect(try await session.scalar("SELECT count(*) FROM ledger WHERE note = 'pending'") == 1)
            }
            #expect(try await Self.count(client, note: "pending") == 1)

            // A throw from the closure rolls back and is rethrown as it is.
            await #expect(throws: ExpectedFailure.self) {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO ledger (note) VALUES ('thrown')")
                    throw ExpectedFailure()
                }
            }
            #expect(try await Self.count(client, note: "thrown") == 0)

            // A server error inside (a constraint) rolls the whole transaction back and is reported typed.
            let constraint = await expectDqliteError(.server) {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO ledger (id, note) VALUES (1000, 'constraint')")
                    try await session.execute("INSERT INTO ledger (id, note) VALUES (1000, 'constraint')")
                }
            }
            #expect(constraint?.resultCode == .SQLITE_CONSTRAINT_PRIMARYKEY)
            #expect(constraint.map { DqliteResultCode.SQLITE_CONSTRAINT ~= $0.resultCode } == true)
            #expect(constraint?.outcome == .notApplied)
            #expect(try await Self.count(client, note: "constraint") == 0)

            // Caught inside, a failed statement does not end the transaction (SQLite statement rollback).
            try await client.withTransaction { session in
                try await session.execute("INSERT INTO ledger (id, note) VALUES (2000, 'caught')")
                do {
                    try await session.execute("INSERT INTO ledger (id, note) VALUES (2000, 'caught')")
                    Issue.record("the duplicate key was accepted")
                } catch let error as DqliteError where DqliteResultCode.SQLITE_CONSTRAINT ~= error.resultCode {}
                try await session.execute("INSERT INTO ledger (id, note) VALUES (2001, 'caught')")
            }
            #expect(try await Self.count(client, note: "caught") == 2)

            // The connection is clean after each of these: the pool hands out no connection with an open
            // transaction (a BEGIN would fail on one).
            for _ in 0..<3 {
                _ = try await client.withTransaction { session in
                    try await session.execute("INSERT INTO ledger (note) VALUES ('after')")
                }
            }
            #expect(try await Self.count(client, note: "after") == 3)
            let pool = try client.defaultPool
            #expect(pool.counts.leased == 0)
        }
    }

    @Test(
        "misuse inside a transaction fails clearly: nested BEGIN, nested transaction, use after a server rollback",
        arguments: DqliteGeneration.allCases)
    func misuseInside(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation, configure: { $0.busyTimeout = .milliseconds(300) }) { _, client in
            try await client.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT NOT NULL, amount INTEGER)")

            // BEGIN inside a transaction: the server refuses it; the transaction is rolled back.
            let nested = await expectDqliteError(.server) {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO ledger (note) VALUES ('nested')")
                    try await session.execute("BEGIN")
                }
            }
            #expect(nested?.message.contains("within a transaction") == true, "\(String(describing: nested))")
            #expect(try await Self.count(client, note: "nested") == 0)

            // A nested withTransaction on another connection works independently (it is not a savepoint).
            try await client.withTransaction { outer in
                try await outer.execute("INSERT INTO ledger (note) VALUES ('outer')")
                let busy = await expectDqliteError(
                    .server, "the inner transaction cannot write while the outer one writes"
                ) {
                    try await client.withTransaction { inner in
                        try await inner.execute("INSERT INTO ledger (note) VALUES ('inner')")
                    }
                }
                #expect(
                    busy.map { DqliteResultCode.SQLITE_BUSY ~= $0.resultCode } == true, "\(String(describing: busy))")
            }
            #expect(try await Self.count(client, note: "outer") == 1)
            #expect(try await Self.count(client, note: "inner") == 0)

            // A statement that makes SQLite roll the whole transaction back (OR ROLLBACK): carrying on with the
            // session after catching it is reported when the transaction ends — COMMIT finds no transaction.
            let ended = await expectDqliteError(.server, "COMMIT after the server rolled the transaction back") {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO ledger (id, note) VALUES (3000, 'rolled back')")
                    do {
                        try await session.execute("INSERT OR ROLLBACK INTO ledger (id, note) VALUES (3000, 'dup')")
                        Issue.record("the duplicate key was accepted")
                    } catch let error as DqliteError where DqliteResultCode.SQLITE_CONSTRAINT ~= error.resultCode {}
                    // SQLite ran this one in autocommit mode: the transaction was already over.
                    try await session.execute("INSERT INTO ledger (id, note) VALUES (3001, 'after rollback')")
                }
            }
            #expect(ended?.message.contains("no transaction is active") == true, "\(String(describing: ended))")
            #expect(try await Self.count(client, note: "rolled back") == 0)
            let autocommitted = try await Self.count(client, note: "after rollback")
            print(
                "NOTE \(generation): a statement after OR ROLLBACK inside withTransaction autocommitted: \(autocommitted)"
            )
        }
    }

    @Test(
        "a session used after its closure returned (withTransaction, withConnection) is refused, nothing runs",
        arguments: DqliteGeneration.allCases)
    func escapedSession(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT NOT NULL, amount INTEGER)")
            // The session must not outlive its closure: using it afterwards fails, and nothing is written.
            var escaped: DqliteSession?
            try await client.withTransaction { session in
                escaped = session
                try await session.execute("INSERT INTO ledger (note) VALUES ('inside')")
            }
            let session = try #require(escaped)
            await expectDqliteError(.invalidRequest, "a session used after withTransaction returned") {
                try await session.execute("INSERT INTO ledger (note) VALUES ('escaped')")
            }
            #expect(try await Self.count(client, note: "escaped") == 0)
            #expect(try await Self.count(client, note: "inside") == 1)

            var escapedConnection: DqliteSession?
            var escapedStatement: DqlitePreparedStatement?
            try await client.withConnection { session in
                escapedConnection = session
                escapedStatement = try await session.prepare("INSERT INTO ledger (note) VALUES (?)")
            }
            let connectionSession = try #require(escapedConnection)
            let statement = try #require(escapedStatement)
            await expectDqliteError(.invalidRequest, "a session used after withConnection returned") {
                try await connectionSession.query("SELECT count(*) FROM ledger").collect()
            }
            await expectDqliteError(.invalidRequest, "a prepared statement used after withConnection returned") {
                try await statement.execute(["escaped statement"])
            }
            #expect(try await Self.count(client, note: "escaped statement") == 0)
        }
    }
}
