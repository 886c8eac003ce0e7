import DqliteLocalCluster
import DqliteTestSupport
import DqliteWire
import Testing

@testable import Dqlite

/// A connection killed right after a request was sent: writes are reported as ambiguous (never re-sent),
/// reads are retried. The cut is made by a ``FaultProxy`` between the client and the node, when the request's
/// frame passes — once after forwarding it to the node, once without: the client cannot tell the two apart.
@Suite("Connections killed in flight", .timeLimit(.minutes(3)))
struct AmbiguousCommitTests {
    static func count(_ client: DqliteClient, _ note: String) async throws -> Int {
        try await client.scalar("SELECT count(*) FROM t WHERE note = \(note)")
    }

    @Test("COMMIT, autocommit writes and reads cut after sending", arguments: DqliteGeneration.allCases)
    func cutInFlight(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 1, generation: generation) { cluster in
            try await withFaultProxy(target: cluster.addresses[0]) { proxy in
                try await withClient(seeds: [proxy.address]) { client in
                    try await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL, n INTEGER)")
                    // The client reaches the node only through the proxy (the node's address is rewritten).
                    #expect(try await client.withConnection { $0.node.description } == proxy.address)

                    for action in [FaultProxy.Action.forwardThenCut, .cutWithoutForwarding] {
                        let applied: Int
                        if case .cutWithoutForwarding = action { applied = 0 } else { applied = 1 }
                        let firedBefore = proxy.fired.count

                        // COMMIT of a transaction.
                        let commitNote = "commit \(action)"
                        proxy.arm(.sql(.execSQL, containing: "COMMIT", action))
                        let commit = await expectDqliteError(.ambiguousCommit, "COMMIT \(action)") {
                            try await client.withTransaction { session in
                                try await session.execute("INSERT INTO t (note) VALUES (\(commitNote))")
                                try await session.execute("INSERT INTO t (note) VALUES (\(commitNote))")
                            }
                        }
                        #expect(commit?.outcome == .unknown)
                        #expect(commit?.underlying is DqliteError)
                        #expect(proxy.fired.count == firedBefore + 1)
                        // What really happened: all of it (forwarded) or none of it (cut first).
                        #expect(try await Self.count(client, commitNote) == 2 * applied, "COMMIT \(action)")

                        // COMMIT with retry: .onLeadershipChange() is still never re-run.
                        let retryNote = "commit retry \(action)"
                        let runs = Shared(0)
                        proxy.arm(.sql(.execSQL, containing: "COMMIT", action))
                        await expectDqliteError(.ambiguousCommit, "COMMIT \(action) with retry") {
                            try await client.withTransaction(retry: .onLeadershipChange()) { session in
                                runs.update { $0 += 1 }
                                try await session.execute("INSERT INTO t (note) VALUES (\(retryNote))")
                            }
                        }
                        #expect(runs.value == 1)
                        #expect(try await Self.count(client, retryNote) == applied)

                        // An autocommit INSERT.
                        let insertNote = "insert \(action)"
                        proxy.arm(.sql(.execSQL, containing: insertNote, action))
                        let insert = await expectDqliteError(.ambiguousCommit, "INSERT \(action)") {
                            try await client.execute("INSERT INTO t (note) VALUES ('\(unescaped: insertNote)')")
                        }
                        #expect(insert?.outcome == .unknown)
                        #expect(try await Self.count(client, insertNote) == applied, "INSERT \(action)")

                        // An idempotent write may be retried: it runs again on a new connection.
                        let upsertNote = "upsert \(action)"
                        let upsertFired = proxy.fired.count
                        proxy.arm(.sql(.execSQL, containing: upsertNote, action))
                        try await client.execute(
                            "INSERT OR REPLACE INTO t (id, note) VALUES (1000, '\(unescaped: upsertNote)')",
                            options: .init(idempotent: true))
                        #expect(proxy.fired.count == upsertFired + 1, "the upsert rule did not fire")
                        #expect(try await Self.count(client, upsertNote) == 1)

                        // A SELECT is retried transparently.
                        let selectFired = proxy.fired.count
                        proxy.arm(.sql(.querySQL, containing: "FROM t WHERE n IS NULL", action))
                        let total: Int = try await client.scalar("SELECT count(*) FROM t WHERE n IS NULL")
                        #expect(total == 4 * applied + 1)
                        #expect(proxy.fired.count == selectFired + 1, "the SELECT rule did not fire")
                        try await client.execute("DELETE FROM t")
                    }
                    #expect(proxy.fired.count == 10)
                    print("MEASURE \(generation) cuts: \(proxy.fired); \(proxy.clientConnections) connections")
                }
            }
        }
    }

    @Test(
        "a row stream cut after some rows is reported (outcome unknown), not truncated or replayed",
        arguments: DqliteGeneration.allCases)
    func cutMidStream(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 1, generation: generation) { cluster in
            try await withFaultProxy(target: cluster.addresses[0]) { proxy in
                try await withClient(seeds: [proxy.address]) { client throws in
                    // The server sends the rows in frames; the proxy lets 5 through, then cuts the connection.
                    proxy.arm(.sql(.querySQL, containing: "cut-mid-stream", .cutAfterAnswerFrames(5)))
                    var seen = 0
                    var inOrder = true
                    let midStream = await expectDqliteError(.connectionClosed, "a row stream cut mid-way") {
                        let rows = try await client.query(
                            """
                            WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000)
                            SELECT n, 'row-' || n FROM c /* cut-mid-stream */
                            """)
                        for try await row in rows {
                            seen += 1
                            if try row.decode(Int.self, at: 0) != seen { inOrder = false }
                        }
                    }
                    // The query reached the server and ran: "certainly not applied" would be wrong (and for
                    // INSERT … RETURNING streamed through query() it would invite a duplicate write).
                    #expect(midStream?.outcome == .unknown)
                    #expect(seen > 0 && seen < 100_000, "\(seen) rows before the cut")
                    #expect(inOrder)
                    #expect(proxy.fired.count == 1)
                    // The client carries on.
                    #expect(try await client.scalar("SELECT 1 + 1") == 2)
                }
            }
        }
    }
}
