import DqliteLocalCluster
import Logging
import Testing

@testable import Dqlite

/// Defect 2 of the client-core issue: a pooled connection must never go back to the pool inside a transaction.
/// Before the fix, against a real node, an autocommit `BEGIN` (or a `withConnection` body that left one open)
/// captured every later autocommit write of the client: invisible to other clients, then lost with the
/// transaction, and an innocent `withTransaction` failed with "cannot start a transaction within a transaction".
@Suite("Transactions never outlive their scope", .timeLimit(.minutes(2)))
struct TransactionHygieneTests {
    @Test(
        "the autocommit API refuses transaction control statements",
        arguments: ["BEGIN", "begin immediate", "COMMIT", "END", "ROLLBACK", "SAVEPOINT s", "RELEASE s"])
    func autocommitRefuses(_ sql: String) async throws {
        try await withClusterClient(.v1_11, configure: { $0.pool.maximumConnections = 1 }) { _, client in
            let refused = await expectDqliteError(.invalidRequest, "execute(\(sql))") {
                try await client.execute(DqliteQuery(unsafeSQL: sql))
            }
            #expect(refused?.message.contains("withTransaction") == true, "\(String(describing: refused))")
            await expectDqliteError(.invalidRequest, "query(\(sql))") {
                try await client.query(DqliteQuery(unsafeSQL: sql)).collect()
            }
            // Nothing was sent: the next transaction starts cleanly on the same (only) connection.
            try await client.withTransaction { try await $0.execute("CREATE TABLE t (x)") }
        }
    }

    @Test("a withConnection body that leaves BEGIN open is rolled back, with a warning", arguments: [false, true])
    func withConnectionLeavesBegin(_ throwsOut: Bool) async throws {
        let log = Shared<[CapturingLogHandler.Entry]>([])
        try await withClusterClient(
            .v1_11, logger: CapturingLogHandler.logger(into: log), configure: { $0.pool.maximumConnections = 1 }
        ) { cluster, client in
            try await client.execute("CREATE TABLE t (x TEXT)")
            do {
                try await client.withConnection { session in
                    try await session.execute("BEGIN")
                    try await session.execute("INSERT INTO t VALUES ('abandoned')")
                    if throwsOut { throw ExpectedFailure() }
                }
            } catch is ExpectedFailure {}
            // The same (only) connection, now in autocommit mode again.
            try await client.execute("INSERT INTO t VALUES ('after')")
            try await client.execute("CREATE TABLE later (y)")
            // A second client sees the later writes, and not the abandoned one.
            try await withClient(seeds: cluster.addresses) { other in
                let values = try await other.query("SELECT x FROM t ORDER BY x").decode(String.self)
                #expect(values == ["after"])
                #expect(try await other.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'later'") == 1)
            }
            try await client.withTransaction { try await $0.execute("INSERT INTO t VALUES ('innocent')") }
            #expect(log.value.contains { $0.level == .warning && $0.message.contains("transaction open") })
        }
    }

    @Test("a withConnection body that commits its own transaction hands back a clean connection, without warning")
    func withConnectionCommits() async throws {
        let log = Shared<[CapturingLogHandler.Entry]>([])
        try await withClusterClient(
            .v1_11, logger: CapturingLogHandler.logger(into: log), configure: { $0.pool.maximumConnections = 1 }
        ) { _, client in
            try await client.execute("CREATE TABLE t (x)")
            let connection = try await client.withConnection { session in
                try await session.execute("SAVEPOINT outer")
                try await session.execute("INSERT INTO t VALUES (1)")
                try await session.execute("RELEASE outer")
                return session.pooled.connection
            }
            #expect(try await client.scalar("SELECT count(*) FROM t") == 1)
            // Still the same connection: it was not closed.
            #expect(try await client.withConnection { $0.pooled.connection } === connection)
            #expect(!log.value.contains { $0.level == .warning })
        }
    }
}
