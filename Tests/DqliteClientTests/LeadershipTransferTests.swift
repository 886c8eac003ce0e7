import DqliteLocalCluster
import Testing

@testable import Dqlite

/// Leadership moving to another node in the middle of a workload (3-node clusters).
@Suite("Leadership transfer mid-workload", .timeLimit(.minutes(3)))
struct LeadershipTransferTests {
    /// Transfers leadership to another voter and returns the new leader's address.
    static func transfer(_ client: DqliteClient, _ cluster: LocalCluster) async throws -> String {
        let old = try await client.admin.leader()
        let new = try await client.admin.transferLeadership(to: otherVoter(than: old.id, in: cluster))
        #expect(new.id != old.id)
        return new.address.description
    }

    static func prepare(_ client: DqliteClient) async throws {
        try await client.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        for value in ["a", "b", "c"] { try await client.execute("INSERT INTO kv (v) VALUES (\(value))") }
    }

    static func count(_ client: DqliteClient, _ value: String) async throws -> Int {
        try await client.scalar("SELECT count(*) FROM kv WHERE v = \(value)")
    }

    @Test("a loop of reads keeps succeeding across a leadership transfer", arguments: DqliteGeneration.allCases)
    func readsAcrossTransfer(_ generation: DqliteGeneration) async throws {
        let log = Shared([CapturingLogHandler.Entry]())
        try await withClusterClient(generation, nodes: 3, logger: CapturingLogHandler.logger(into: log)) {
            cluster, client in
            try await Self.prepare(client)
            let transferred = Shared(false)
            let stop = Shared(false)
            let tally = Shared((before: 0, after: 0, failures: [String]()))
            let reader = Task {
                while !stop.value {
                    let afterTransfer = transferred.value
                    do {
                        let rows = try await client.query("SELECT id, v FROM kv ORDER BY id").decode((Int, String).self)
                        guard rows.map(\.1) == ["a", "b", "c"] else { throw TestFailure("read \(rows)") }
                        tally.update { tally in
                            if afterTransfer { tally.after += 1 } else { tally.before += 1 }
                        }
                    } catch {
                        tally.update { $0.failures.append("\(error)") }
                    }
                }
            }
            let warmUp = ContinuousClock.now + .seconds(20)
            while tally.value.before < 20 && ContinuousClock.now < warmUp {
                try await Task.sleep(for: .milliseconds(5))
            }
            let newLeader = try await Self.transfer(client, cluster)
            transferred.update { $0 = true }
            let deadline = ContinuousClock.now + .seconds(20)
            while tally.value.after < 50 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            stop.update { $0 = true }
            await reader.value
            let result = tally.value
            #expect(result.failures.isEmpty, "reads failed across the transfer: \(result.failures.prefix(5))")
            #expect(result.before >= 20 && result.after >= 50)
            // The pool now talks to the new leader.
            #expect(try await client.withConnection { $0.node.description } == newLeader)
            // The transfer was crossed by reads: at least one was refused by the old leader and retried.
            let retries = log.value.filter { $0.message == "dqlite call retried" }
            #expect(!retries.isEmpty, "no read was retried: the transfer was not exercised")
            print(
                "MEASURE \(generation) reads across transfer: \(result.before) before, \(result.after) after, "
                    + "\(result.failures.count) failed, \(retries.count) retried "
                    + "(\(Set(retries.compactMap { $0.metadata["reason"] }).sorted()))")
        }
    }

    @Test(
        "a transaction open across a transfer is transactionAborted and commits nothing",
        arguments: DqliteGeneration.allCases)
    func transactionAborted(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation, nodes: 3) { cluster, client in
            try await Self.prepare(client)

            // A statement after the transfer fails: the transaction is reported aborted.
            let afterStatement = await expectDqliteError(.transactionAborted, "statement after the transfer") {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO kv (v) VALUES ('lost-1')")
                    _ = try await Self.transfer(client, cluster)
                    try await session.execute("INSERT INTO kv (v) VALUES ('lost-1')")
                }
            }
            #expect(afterStatement?.outcome == .notApplied)
            #expect(afterStatement?.underlying is DqliteError)
            #expect(try await Self.count(client, "lost-1") == 0)

            // The transfer happens last: COMMIT is what meets the new leadership.
            let atCommit = await expectDqliteError(.transactionAborted, "COMMIT after the transfer") {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO kv (v) VALUES ('lost-2')")
                    _ = try await Self.transfer(client, cluster)
                }
            }
            #expect(atCommit?.outcome == .notApplied, "\(String(describing: atCommit))")
            #expect(try await Self.count(client, "lost-2") == 0)

            // The client carries on against the new leader.
            try await client.execute("INSERT INTO kv (v) VALUES ('after')")
            #expect(try await Self.count(client, "after") == 1)
        }
    }

    /// A transaction with `retry: .onLeadershipChange()` whose first run meets a leadership transfer: by its
    /// next statement, or (`atCommit`) by its COMMIT. It must run twice and commit once, on the new leader.
    static func retriedTransaction(
        _ client: DqliteClient, _ cluster: LocalCluster, label: String, atCommit: Bool
    ) async throws {
        let runs = Shared([String]())
        let (node, total) = try await client.withTransaction(retry: .onLeadershipChange()) {
            session -> (String, Int) in
            let run = runs.update { runs in
                runs.append(session.node.description)
                return runs.count
            }
            try await session.execute("INSERT INTO kv (v) VALUES (\(label))")
            let total: Int = try await session.scalar("SELECT count(*) FROM kv WHERE v = \(label)")
            if run == 1 {
                _ = try await Self.transfer(client, cluster)
                if !atCommit { try await session.execute("INSERT INTO kv (v) VALUES (\(label))") }
            }
            return (session.node.description, total)
        }
        let nodes = runs.value
        #expect(nodes.count == 2, "\(label): the closure ran \(nodes.count) times")
        #expect(nodes.count == 2 && nodes[0] != nodes[1], "\(label): both runs on \(nodes)")
        #expect(total == 1)
        #expect(node == nodes.last)
        // Committed exactly once, on the new leader.
        #expect(try await Self.count(client, label) == 1, "\(label)")
        #expect(try await client.admin.leader().address.description == node)
    }

    @Test(
        "retry: .onLeadershipChange() re-runs the closure on the new leader and commits once (statement aborted)",
        arguments: DqliteGeneration.allCases)
    func transactionRetried(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation, nodes: 3) { cluster, client in
            try await Self.prepare(client)
            try await Self.retriedTransaction(client, cluster, label: "retried", atCommit: false)

            // The retry budget is respected: with one attempt the abort is reported.
            await expectDqliteError(.transactionAborted) {
                try await client.withTransaction(retry: .onLeadershipChange(maximumAttempts: 1)) { session in
                    try await session.execute("INSERT INTO kv (v) VALUES ('once')")
                    _ = try await Self.transfer(client, cluster)
                    try await session.execute("INSERT INTO kv (v) VALUES ('once')")
                }
            }
            #expect(try await Self.count(client, "once") == 0)
        }
    }

    @Test(
        "retry: .onLeadershipChange() re-runs the closure when COMMIT is refused by the old leader",
        arguments: DqliteGeneration.allCases)
    func transactionRetriedAtCommit(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation, nodes: 3) { cluster, client in
            try await Self.prepare(client)
            try await Self.retriedTransaction(client, cluster, label: "retried at commit", atCommit: true)
        }
    }
}
