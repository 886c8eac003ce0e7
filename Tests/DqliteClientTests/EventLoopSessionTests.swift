import DqliteLocalCluster
import Testing

@testable import Dqlite

/// The opt-in `runsSessionsOnEventLoop`: the same API, with session work on the connection's event loop.
@Suite("Sessions on the connection's event loop", .timeLimit(.minutes(3)))
struct EventLoopSessionTests {
    @Test("execute, query, withConnection and withTransaction work; session closures run on the loop")
    func sessionsOnTheLoop() async throws {
        try await withClusterClient(.v1_11, configure: { $0.runsSessionsOnEventLoop = true }) { _, client in
            try await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            for id in 1...50 { try await client.execute("INSERT INTO t (id, v) VALUES (\(id), \("v\(id)"))") }
            let onLoop = try await client.withConnection { session in
                session.pooled.connection.taskExecutor.isCurrent
            }
            #expect(onLoop)
            let total: Int = try await client.withTransaction { session in
                try await session.execute("INSERT INTO t (id, v) VALUES (51, 'last')")
                #expect(session.pooled.connection.taskExecutor.isCurrent)
                return try await session.scalar("SELECT count(*) FROM t")
            }
            #expect(total == 51)
            var seen = 0
            for try await row in try await client.query("SELECT id, v FROM t ORDER BY id") {
                let (id, v) = try row.decode((Int, String).self)
                seen += 1
                #expect(id == seen)
                #expect(v == (id == 51 ? "last" : "v\(id)"))
            }
            #expect(seen == 51)
            let prepared: String = try await client.withConnection { session in
                let statement = try await session.prepare("SELECT v FROM t WHERE id = ?")
                var last = ""
                for id in [3, 7] {
                    for try await row in try await statement.query([id]) { last = try row.decode(String.self, at: 0) }
                }
                return last
            }
            #expect(prepared == "v7")
        }
    }
}
