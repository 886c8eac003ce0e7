import DqliteLocalCluster
import Logging
import Testing

@testable import Dqlite

/// Defect 5 of the client-core issue: the `logger:` of a call was stored and never used, and a query's
/// description printed its bound values.
@Suite("Statements are logged, bound values redacted", .timeLimit(.minutes(2)))
struct StatementLoggingTests {
    static let secret = "hunter2-\(UInt32.random(in: 0...UInt32.max))"

    @Test("a query's description names the parameter count, not the values")
    func descriptionRedacts() {
        let query: DqliteQuery = "SELECT * FROM users WHERE password = \(Self.secret)"
        #expect(!query.description.contains(Self.secret))
        #expect(query.description == "SELECT * FROM users WHERE password = ? [1 parameter redacted]")
        #expect(query.descriptionWithParameters.contains(Self.secret))
    }

    @Test("each statement is logged at debug level with node, database and connection", arguments: [false, true])
    func statementsLogged(_ logsParameters: Bool) async throws {
        let log = Shared<[CapturingLogHandler.Entry]>([])
        let logger = CapturingLogHandler.logger(into: log)
        try await withClusterClient(.v1_11, configure: { $0.logsStatementParameters = logsParameters }) { _, client in
            try await client.execute("CREATE TABLE users (password TEXT)", logger: logger)
            try await client.execute("INSERT INTO users VALUES (\(Self.secret))", logger: logger)
            _ = try await client.query("SELECT password FROM users WHERE password = \(Self.secret)", logger: logger)
                .collect()
            try await client.withTransaction(logger: logger) { session in
                try await session.execute("INSERT INTO users VALUES ('in a transaction')")
            }
        }
        let statements = log.value.filter { $0.message == "dqlite statement" }
        let texts = statements.compactMap { $0.metadata["db.statement"] }
        #expect(texts.contains("CREATE TABLE users (password TEXT)"))
        #expect(texts.contains("INSERT INTO users VALUES (?)"))
        #expect(texts.contains("SELECT password FROM users WHERE password = ?"))
        #expect(texts.contains("BEGIN DEFERRED") && texts.contains("COMMIT"))
        #expect(texts.contains("INSERT INTO users VALUES ('in a transaction')"))
        for entry in statements {
            #expect(entry.level == .debug)
            #expect(entry.metadata["dqlite.database"] == "client-tests")
            #expect(entry.metadata["dqlite.node"] != nil && entry.metadata["dqlite.connection"] != nil)
        }
        let withValues = statements.filter { $0.metadata["db.parameters"] != nil }
        #expect(withValues.count == 2)
        let leaked = log.value.contains { entry in
            entry.message.contains(Self.secret) || entry.metadata.values.contains { $0.contains(Self.secret) }
        }
        if logsParameters {
            #expect(leaked, "opted in: the values are logged")
        } else {
            #expect(!leaked, "a bound value reached the log")
            #expect(withValues.allSatisfy { $0.metadata["db.parameters"] == "[1 redacted]" })
        }
    }
}
