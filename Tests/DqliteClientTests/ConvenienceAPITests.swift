import DqliteLocalCluster
import Testing

@testable import Dqlite

/// Single-row helpers, streamed `Decodable` records, transaction kinds and savepoints.
@Suite("Convenience API: one row, records, transaction kinds, savepoints", .timeLimit(.minutes(2)))
struct ConvenienceAPITests {
    struct User: Decodable, Equatable {
        var id: Int
        var name: String
    }

    @Test("first, one and records")
    func singleRows() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            for (id, name) in [(1, "ada"), (2, "bob"), (3, "cy")] {
                try await client.execute("INSERT INTO users VALUES (\(id), \(name))")
            }
            let first = try await client.query("SELECT id, name FROM users ORDER BY id").first(
                decoding: (Int, String).self)
            #expect(first?.0 == 1 && first?.1 == "ada")
            #expect(try await client.query("SELECT id FROM users WHERE id > 99").first() == nil)
            #expect(try await client.query("SELECT count(*) FROM users").one(decoding: Int.self) == 3)
            let none = await expectDqliteError(.noRows) {
                try await client.query("SELECT name FROM users WHERE id = 42").one()
            }
            #expect(none?.message.contains("no row") == true)
            var users: [User] = []
            for try await user in try await client.query("SELECT id, name FROM users ORDER BY id").records(User.self) {
                users.append(user)
            }
            #expect(users == [User(id: 1, name: "ada"), User(id: 2, name: "bob"), User(id: 3, name: "cy")])
            // first() stopped its stream early; the pool has its connection back.
            #expect(try client.pool(for: "client-tests").counts.leased == 0)
        }
    }

    @Test("withTransaction(kind:) sends the matching BEGIN", arguments: DqliteTransactionKind.allCases)
    func kinds(_ kind: DqliteTransactionKind) async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE t (x)")
            try await client.withTransaction(kind: kind) { try await $0.execute("INSERT INTO t VALUES (1)") }
            #expect(try await client.scalar("SELECT count(*) FROM t") == 1)
            #expect(kind.beginStatement.sql == "BEGIN \(kind.rawValue.uppercased())")
        }
    }

    @Test("withSavepoint undoes only its own part when it throws, nests, and keeps it when it returns")
    func savepoints() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE t (x TEXT)")
            try await client.withTransaction { session in
                try await session.execute("INSERT INTO t VALUES ('outer')")
                try await session.withSavepoint {
                    try await session.execute("INSERT INTO t VALUES ('kept')")
                    do {
                        try await session.withSavepoint {
                            try await session.execute("INSERT INTO t VALUES ('undone')")
                            throw ExpectedFailure()
                        }
                    } catch is ExpectedFailure {}
                }
            }
            let values = try await client.query("SELECT x FROM t ORDER BY x").decode(String.self)
            #expect(values == ["kept", "outer"])
            // Outside a transaction the outermost savepoint is a transaction of its own, and ends with it.
            try await client.withConnection { session in
                try await session.withSavepoint { try await session.execute("INSERT INTO t VALUES ('alone')") }
                #expect(!session.leftTransactionOpen)
            }
            #expect(try await client.scalar("SELECT count(*) FROM t WHERE x = 'alone'") == 1)
        }
    }
}
